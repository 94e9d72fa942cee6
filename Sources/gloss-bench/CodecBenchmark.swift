import Foundation
import GlossJSON
import GlossModel

/// Micro-benchmark of the hot path of import: decode an envelope, hash it (id), hash its payload,
/// and — for reference — sign and verify. Reported per event, in microseconds.
public enum CodecBenchmark {
    public struct Result: Sendable {
        public var envelopeBytes: Int
        public var payloadBytes: Int
        public var decodeAndHashMicros: Double
        public var payloadHashMicros: Double
        public var payloadDecodeMicros: Double
        public var signMicros: Double
        public var verifyMicros: Double
        public var json: JSON {
            .object([("envelopeBytes", .int(Int64(envelopeBytes))), ("payloadBytes", .int(Int64(payloadBytes))),
                     ("decodeAndIdMicros", .double(decodeAndHashMicros)), ("payloadHashMicros", .double(payloadHashMicros)),
                     ("payloadDecodeMicros", .double(payloadDecodeMicros)),
                     ("signMicros", .double(signMicros)), ("verifyMicros", .double(verifyMicros))])
        }
    }

    public static func run(iterations: Int = 100_000) -> Result {
        let key = ReplicaKey()
        let other = ReplicaKey().replicaID
        let payload = NoteEdited(note: String(repeating: "ab", count: 32), body: "Exercises in September 2021, per the defence minister's interview.").encoded
        let env = EventEnvelope(key: key, seq: 1234, prev: EventID(Bytes32.sha256([1])), time: HybridTime(milliseconds: 1_700_000_000_000),
                                depsDelta: [(replica: other, seq: 99)], author: "ana", type: NoteEdited.type, schema: 1, payload: payload)
        let bytes = env.bytes
        func time(_ n: Int, _ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<n { body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n) / 1000
        }
        var sink = 0
        let decode = time(iterations) { if let e = try? EventEnvelope(decoding: bytes) { sink &+= Int(e.seq) } }
        let phash = time(iterations) { sink &+= Int(Bytes32.sha256(payload).w0 & 1) }
        let pdecode = time(iterations) {
            if case .noteEdited(let p) = DecodedPayload(type: NoteEdited.type, schema: 1, payload: payload) { sink &+= p.body.utf8.count }
        }
        let n = max(1, iterations / 50)
        let sign = time(n) { sink &+= key.sign(bytes).count }
        let verify = time(n) { sink &+= env.hasValidSignature() ? 1 : 0 }
        if sink == 42 { print("") }  // keep the work observable
        return Result(envelopeBytes: bytes.count, payloadBytes: payload.count, decodeAndHashMicros: decode,
                      payloadHashMicros: phash, payloadDecodeMicros: pdecode, signMicros: sign, verifyMicros: verify)
    }
}
