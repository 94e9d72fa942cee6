import Foundation
import GlossEngine
import GlossJSON
import GlossModel
import GlossSync

/// Builds `Protocol/vectors/events.json` deterministically (fixed keys, fixed times; Ed25519 in
/// swift-crypto is deterministic), so a test can compare the file byte for byte.
public enum GoldenVectors {
    public static func events() -> JSON {
        let a = fixedKey("vector-A"), b = fixedKey("vector-B")
        let t0: UInt64 = 1_624_700_000_000
        var valid: [(String, ReplicaKey, EventEnvelope, [UInt8])] = []
        func make(_ name: String, _ key: ReplicaKey, seq: UInt64, prev: EventID, ms: UInt64, counter: UInt16 = 0,
                  deps: [(ReplicaID, UInt64)], type: String, schema: UInt16, payload: [UInt8], author: String) -> EventEnvelope {
            let env = EventEnvelope(key: key, seq: seq, prev: prev, time: HybridTime(milliseconds: ms, counter: counter),
                                    depsDelta: deps.map { (replica: $0.0, seq: $0.1) }, author: author, type: type,
                                    schema: schema, payload: payload)
            valid.append((name, key, env, payload))
            return env
        }
        let article = ArticleIngested(text: "date 2021-06-26 ISLAMABAD/BAKU – Exercises in September.\n", date: "2021-06-26",
                                      dateline: "ISLAMABAD/BAKU", places: ["ISLAMABAD", "BAKU"], filename: "sample.txt")
        let a1 = make("A1 ArticleIngested", a, seq: 1, prev: .zero, ms: t0, deps: [], type: ArticleIngested.type,
                      schema: 1, payload: article.encoded, author: "ana")
        let a2 = make("A2 NoteAdded", a, seq: 2, prev: a1.id, ms: t0 + 5, deps: [], type: NoteAdded.type, schema: 1,
                      payload: NoteAdded(on: article.article, body: "Check the **September** date — Ünïcödé ✓").encoded, author: "ana")
        let b1 = make("B1 NoteEdited with deps", b, seq: 1, prev: .zero, ms: t0 + 5, counter: 1, deps: [(a.replicaID, 2)],
                      type: NoteEdited.type, schema: 1, payload: NoteEdited(note: a2.id.hex, body: "September 2021.").encoded, author: "bo")
        _ = make("A3 NoteDeleted with deps", a, seq: 3, prev: a2.id, ms: t0 + 9, deps: [(b.replicaID, 1)], type: NoteDeleted.type,
                 schema: 1, payload: NoteDeleted(note: a2.id.hex).encoded, author: "ana")
        _ = make("B2 unknown type (valid envelope, payload not understood)", b, seq: 2, prev: b1.id, ms: t0 + 20, deps: [],
                 type: "FutureThing", schema: 7, payload: CBOR.map(["x": .int(-3), "y": .bytes([0, 1, 2])]).encoded, author: "bo")

        func eventJSON(_ name: String, _ key: ReplicaKey, _ e: EventEnvelope, _ p: [UInt8]) -> JSON {
            .object([
                ("name", .string(name)), ("seed", .string(Hex.encode(key.seed))), ("replica", .string(e.replica.hex)),
                ("envelope", .string(Hex.encode(e.bytes))), ("payload", .string(Hex.encode(p))), ("id", .string(e.id.hex)),
                ("seq", .int(Int64(e.seq))), ("prev", .string(e.prev.hex)), ("time", .int(Int64(e.time.raw))),
                ("deps", .array(e.depsDelta.map { .array([.string($0.replica.hex), .int(Int64($0.seq))]) })),
                ("author", .string(e.author)), ("type", .string(e.type)), ("schema", .int(Int64(e.schema))),
                ("payloadHash", .string(e.payloadHash.hex)),
            ])
        }

        // Tampered variants of A2 and B1.
        let (_, _, base, basePayload) = valid[1]
        let withDeps = valid[2].2
        func flip(_ bytes: [UInt8], at i: Int) -> [UInt8] { var b = bytes; b[i] ^= 0x01; return b }
        let authorOffset = 117 + 1  // no deps: author bytes start after author_len at 117
        var invalid: [(String, [UInt8], [UInt8], String, ReplicaID)] = [
            ("signature byte flipped", flip(base.bytes, at: base.bytes.count - 1), basePayload, "signature", a.replicaID),
            ("author byte flipped", flip(base.bytes, at: authorOffset), basePayload, "signature", a.replicaID),
            ("time changed", flip(base.bytes, at: 112), basePayload, "signature", a.replicaID),
            ("deps seq changed", flip(withDeps.bytes, at: 117 + 39), valid[2].3, "signature", b.replicaID),
            ("payload byte flipped", base.bytes, flip(basePayload, at: 5), "payload-hash", a.replicaID),
            ("payload truncated", base.bytes, Array(basePayload.dropLast()), "payload-hash", a.replicaID),
            ("envelope truncated", Array(base.bytes.dropLast(10)), basePayload, "structure", a.replicaID),
            ("byte after the signature", base.bytes + [0], basePayload, "structure", a.replicaID),
            ("format 2", { var x = base.bytes; x[0] = 2; return x }(), basePayload, "structure", a.replicaID),
            ("seq 0", { var x = base.bytes; for i in 65..<73 { x[i] = 0 }; return x }(), basePayload, "structure", a.replicaID),
            ("seq-2^63", { var x = base.bytes; x[65] |= 0x80; return x }(), basePayload, "structure", a.replicaID),
            ("time-2^63", { var x = base.bytes; x[105] |= 0x80; return x }(), basePayload, "structure", a.replicaID),
            ("deps count larger than the bytes", { var x = base.bytes; x[116] = 100; return x }(), basePayload, "structure", a.replicaID),
            ("deps count over the limit", { var x = base.bytes; x[113] = 0x7F; return x }(), basePayload, "structure", a.replicaID),
        ]
        // A replica id swapped for another key: the signature does not verify under it.
        var swapped = base.bytes
        swapped.replaceSubrange(33..<65, with: b.replicaID.raw.bytes)
        invalid.append(("replica swapped for another key", swapped, basePayload, "signature", b.replicaID))

        return .object([
            ("description", .string("Golden vectors for Protocol/01-event.md (format 1). Generated by GlossTestSupport/GoldenVectors.swift; GLOSS_WRITE_VECTORS=1 swift test --filter GoldenVector rewrites this file.")),
            ("signingContext", .string("GLOSS-EVENT-V1")),
            ("events", .array(valid.map { eventJSON($0.0, $0.1, $0.2, $0.3) })),
            ("invalid", .array(invalid.map { .object([("name", .string($0.0)), ("envelope", .string(Hex.encode($0.1))),
                                                      ("payload", .string(Hex.encode($0.2))), ("reason", .string($0.3)),
                                                      ("replica", .string($0.4.hex))]) })),
        ])
    }
}

extension GoldenVectors {
    /// The five valid golden events, in their causal order (A1, A2, B1, A3, B2).
    static func goldenEvents() throws -> [SignedEvent] {
        guard case .array(let events)? = GoldenVectors.events()["events"] else { fatalError() }
        return try events.map { e in
            guard case .string(let env)? = e["envelope"], case .string(let pay)? = e["payload"] else { fatalError() }
            return SignedEvent(envelope: try EventEnvelope(decoding: Hex.decode(env)!), payload: Hex.decode(pay)!)
        }
    }

    static func write(_ url: URL, sender: ReplicaKey, senderVector: VersionVector, records: [SignedEvent], evidence: [SignedEvent] = [],
                      purged: Set<Int> = []) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let h = try FileHandle(forWritingTo: url)
        var w = try BundleWriter(handle: h, header: BundleHeader(sender: sender.replicaID, senderVector: senderVector, baseVector: VersionVector(),
                                                                  eventCount: UInt64(records.count), evidenceCount: UInt64(evidence.count)), key: sender)
        for (i, e) in (records + evidence).enumerated() { try w.append(envelope: e.envelope.bytes, payload: purged.contains(i) ? nil : e.payload) }
        try w.finish()
        try h.close()
    }

    /// The golden bundles of `Protocol/vectors` (file name, bytes written by `write`), and their
    /// description for `bundles.json`.
    public static func bundles(in dir: URL) throws -> JSON {
        .object([
            ("description", .string("Golden bundles for Protocol/05-bundle.md, generated by GlossTestSupport/GoldenVectors.swift (GLOSS_WRITE_VECTORS=1 swift test --filter GoldenVector).")),
            ("bundles", .array([try basicBundle(to: dir.appendingPathComponent("bundle-basic.glossb")),
                                try forkBundle(to: dir.appendingPathComponent("bundle-fork.glossb"))])),
        ])
    }

    /// `bundle-basic.glossb` (format 1): the five valid golden events, sent by replica A, built
    /// against the empty vector; record 4's payload purged.
    static func basicBundle(to url: URL) throws -> JSON {
        let parsed = try goldenEvents()
        let a = fixedKey("vector-A")
        // Causal order: A1, A2, B1, A3, B2 is already the order of the vectors.
        var senderVector = VersionVector()
        for e in parsed { senderVector[e.envelope.replica] = max(senderVector[e.envelope.replica], e.envelope.seq) }
        try write(url, sender: a, senderVector: senderVector, records: parsed, purged: [4])
        return .object([
            ("file", .string(url.lastPathComponent)),
            ("sender", .string(a.replicaID.hex)),
            ("senderVector", JSON(senderVector)),
            ("baseVector", JSON(VersionVector())),
            ("eventCount", .int(Int64(parsed.count))),
            ("eventIds", .array(parsed.map { .string($0.id.hex) })),
            ("purgedPayloads", .array([.int(4)])),
            ("note", .string("Record 4 (0-based) carries no payload (0xFFFFFFFF): a purged payload still verifies by its envelope.")),
        ])
    }

    /// `bundle-fork.glossb` (format 2): B's key also signed B2′, another seq 2 after B1 (a copied
    /// replica folder); A found the fork, so its bundle carries A1, A2, B1, A3 (B's feed is frozen at
    /// seq 2: A's head of it is 1) and then B2 and B2′, ascending by id, as fork evidence.
    static func forkBundle(to url: URL) throws -> JSON {
        let parsed = try goldenEvents()
        let a = fixedKey("vector-A"), b = fixedKey("vector-B")
        let (b1, b2) = (parsed[2], parsed[4])
        let payload = CBOR.map(["x": .int(4), "y": .bytes([9])]).encoded
        let twin = EventEnvelope(key: b, seq: 2, prev: b1.id, time: HybridTime(milliseconds: 1_624_700_000_000 + 21), depsDelta: [],
                                 author: "bo", type: "FutureThing", schema: 7, payload: payload)
        let records = Array(parsed[0..<4])
        let evidence = [b2, SignedEvent(envelope: twin, payload: payload)].sorted { $0.id < $1.id }
        var senderVector = VersionVector()
        senderVector[a.replicaID] = 3
        senderVector[b.replicaID] = 1
        try write(url, sender: a, senderVector: senderVector, records: records, evidence: evidence)
        return .object([
            ("file", .string(url.lastPathComponent)),
            ("sender", .string(a.replicaID.hex)),
            ("senderVector", JSON(senderVector)),
            ("baseVector", JSON(VersionVector())),
            ("eventCount", .int(Int64(records.count))),
            ("eventIds", .array(records.map { .string($0.id.hex) })),
            ("evidenceCount", .int(Int64(evidence.count))),
            ("evidenceIds", .array(evidence.map { .string($0.id.hex) })),
            ("purgedPayloads", .array([])),
            ("note", .string("Format 2: B's feed forked at seq 2 (B2 and B2′, the latter signed by B's key with prev = B1); the sender holds B up to seq 1, so both lie at the seq after its head. An importer freezes B's feed at seq 2.")),
        ])
    }
}
