import Foundation
import GlossModel
import GlossSync
import GlossTestSupport
import Testing

@Suite struct WireVectorTests {
    @Test func wireVectorFileIsExactlyWhatTheCodeProduces() throws {
        let file = repositoryRoot().appendingPathComponent("Protocol/vectors/wire.json")
        let generated = try WireVectors.generate().pretty + "\n"
        if ProcessInfo.processInfo.environment["GLOSS_WRITE_VECTORS"] == "1" {
            try generated.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == generated, "Protocol/vectors/wire.json differs: the wire format changed")
    }

    @Test func everyMessageRoundTripsAndGarbageNeverCrashes() throws {
        let k = fixedKey("rt")
        let payload = NoteDeleted(note: String(repeating: "cd", count: 32)).encoded
        let e = EventEnvelope(key: k, seq: 1, prev: .zero, time: .zero, depsDelta: [], author: "a", type: NoteDeleted.type, schema: 1, payload: payload)
        let messages: [WireMessage] = [
            .keyExchange(version: 1, ephemeral: Bytes32.sha256([1]), challenge: Bytes32.sha256([2])),
            .hello(WireHello(team: .none, replica: k.replicaID, wantsEvents: true, vector: VersionVector([k.replicaID: 9]), signature: [UInt8](repeating: 3, count: 64))),
            .batch([SignedEvent(envelope: e, payload: payload), SignedEvent(envelope: e, payload: nil)]),
            .done(sent: 2, vector: VersionVector([k.replicaID: 1])), .ack(VersionVector()), .error(code: 3, reason: "no ✓"),
            .heads(last: false, [WireHead(replica: k.replicaID, seq: 9, id: e.id)]),
        ]
        var rng = SplitMix64(seed: testSeed("wire-garbage"))
        for m in messages {
            #expect(try WireMessage(decoding: m.encoded) == m)
            // Every truncation and random corruption is refused or decodes; it never crashes.
            let bytes = m.encoded
            for cut in 0..<bytes.count { _ = try? WireMessage(decoding: Array(bytes.prefix(cut))) }
            for _ in 0..<300 {
                var b = bytes
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                _ = try? WireMessage(decoding: b)
            }
        }
    }
}
