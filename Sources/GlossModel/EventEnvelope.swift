import Crypto

/// The signed envelope of an event (Protocol/01-event.md). Decoding keeps the exact bytes: they are
/// what is hashed, stored and forwarded; they are never re-encoded.
public struct EventEnvelope: Sendable {
    public var format: UInt8
    public var team: TeamID
    public var replica: ReplicaID
    public var seq: UInt64
    public var prev: EventID
    public var time: HybridTime
    /// The deps entries that grew since the feed's previous event, ascending by replica
    /// (Protocol/01-event.md §Deps). The full vector is their running accumulation along the feed.
    public var depsDelta: [(replica: ReplicaID, seq: UInt64)]
    public var author: String
    public var type: String
    public var schema: UInt16
    public var payloadLength: UInt32
    public var payloadHash: Bytes32
    public var signature: [UInt8]

    /// The complete encoded bytes (signature included) this envelope was decoded from or signed into.
    public private(set) var bytes: [UInt8]
    /// SHA-256 of `bytes`.
    public private(set) var id: EventID

    /// Context prepended to the signed bytes, so an event signature can never be mistaken for a
    /// signature of anything else the replica key signs (Protocol/01-event.md §Signature).
    public static let signingContext = Array("GLOSS-EVENT-V1".utf8)

    /// Builds and signs an envelope. Programmer errors (bad sizes) trap; the caller validated input.
    public init(team: TeamID = .none, key: ReplicaKey, seq: UInt64, prev: EventID, time: HybridTime,
                depsDelta: [(replica: ReplicaID, seq: UInt64)], author: String, type: String,
                schema: UInt16, payload: [UInt8]) {
        precondition(seq >= 1 && seq <= ProtocolLimits.maxSeq && (seq == 1) == (prev == .zero))
        precondition(time.raw <= ProtocolLimits.maxTime)
        precondition(author.utf8.count >= 1 && author.utf8.count <= ProtocolLimits.maxAuthorBytes)
        precondition(EventEnvelope.isValidType(type))
        precondition(payload.count <= ProtocolLimits.maxPayloadBytes)
        format = ProtocolLimits.envelopeFormat
        self.team = team; replica = key.replicaID; self.seq = seq; self.prev = prev; self.time = time
        self.depsDelta = depsDelta.sorted { $0.replica < $1.replica }
        self.author = author; self.type = type; self.schema = schema
        payloadLength = UInt32(payload.count)
        payloadHash = Bytes32.sha256(payload)
        var w = ByteWriter(capacity: 200 + depsDelta.count * 40 + author.utf8.count + type.utf8.count)
        w.u8(format); w.b32(team.raw); w.b32(replica.raw); w.u64(seq); w.b32(prev.raw); w.u64(time.raw)
        w.u32(UInt32(self.depsDelta.count))
        for d in self.depsDelta { w.b32(d.replica.raw); w.u64(d.seq) }
        w.u8(UInt8(author.utf8.count)); w.raw(author.utf8)
        w.u8(UInt8(type.utf8.count)); w.raw(type.utf8)
        w.u16(schema); w.u32(payloadLength); w.b32(payloadHash)
        signature = key.sign(EventEnvelope.signingContext + w.bytes)
        w.raw(signature)
        bytes = w.bytes
        id = EventID(Bytes32.sha256(bytes))
    }

    /// Decodes untrusted bytes. Checks structure and limits only; the signature is checked by
    /// `hasValidSignature()` (receivers check one per feed per window, DESIGN §2).
    public init(decoding bytes: [UInt8]) throws {
        guard bytes.count <= ProtocolLimits.maxEnvelopeBytes else {
            throw DecodeError("envelope is \(bytes.count) bytes, over the limit of \(ProtocolLimits.maxEnvelopeBytes)")
        }
        var r = ByteReader(bytes)
        format = try r.u8("format")
        guard format == ProtocolLimits.envelopeFormat else {
            throw DecodeError("envelope format \(format) is not supported (this build reads format \(ProtocolLimits.envelopeFormat))")
        }
        team = TeamID(try r.b32("team"))
        replica = ReplicaID(try r.b32("replica"))
        seq = try r.u64("seq")
        guard seq >= 1 else { throw DecodeError("seq is 0; feeds start at 1") }
        guard seq <= ProtocolLimits.maxSeq else { throw DecodeError("seq \(seq) is over the limit of 2^63 − 1") }
        prev = EventID(try r.b32("prev"))
        guard (seq == 1) == (prev == .zero) else {
            throw DecodeError(seq == 1 ? "seq 1 must have an all-zero prev" : "seq \(seq) has an all-zero prev")
        }
        time = HybridTime(raw: try r.u64("time"))
        guard time.raw <= ProtocolLimits.maxTime else { throw DecodeError("time \(time.raw) is over the limit of 2^63 − 1") }
        let n = Int(try r.u32("deps count"))
        guard n <= ProtocolLimits.maxDepsEntries else { throw DecodeError("deps has \(n) entries, over the limit of \(ProtocolLimits.maxDepsEntries)") }
        guard r.remaining >= n * 40 else { throw DecodeError("truncated: \(n) deps entries need \(n * 40) bytes, \(r.remaining) remain") }
        var deps: [(replica: ReplicaID, seq: UInt64)] = []
        deps.reserveCapacity(n)
        for _ in 0..<n {
            let dr = ReplicaID(try r.b32("deps replica"))
            let ds = try r.u64("deps seq")
            guard ds >= 1 else { throw DecodeError("deps entry for \(dr.short) has seq 0") }
            guard ds <= ProtocolLimits.maxSeq else { throw DecodeError("deps entry for \(dr.short) has seq \(ds), over the limit of 2^63 − 1") }
            guard dr != replica else { throw DecodeError("deps names the event's own replica") }
            if let last = deps.last, !(last.replica < dr) { throw DecodeError("deps entries are not strictly ascending by replica") }
            deps.append((dr, ds))
        }
        depsDelta = deps
        let al = Int(try r.u8("author length"))
        guard al >= 1 else { throw DecodeError("author is empty") }
        guard al <= ProtocolLimits.maxAuthorBytes else { throw DecodeError("author is \(al) bytes, over the limit of \(ProtocolLimits.maxAuthorBytes)") }
        guard let a = String(validating: try r.take(al, "author"), as: UTF8.self) else { throw DecodeError("author is not valid UTF-8") }
        author = a
        let tl = Int(try r.u8("type length"))
        let t = String(decoding: try r.take(tl, "type"), as: UTF8.self)
        guard EventEnvelope.isValidType(t) else { throw DecodeError("type is not 1–64 characters of [A-Za-z0-9._-]") }
        type = t
        schema = try r.u16("schema")
        payloadLength = try r.u32("payload length")
        guard payloadLength <= ProtocolLimits.maxPayloadBytes else {
            throw DecodeError("payload length \(payloadLength) is over the limit of \(ProtocolLimits.maxPayloadBytes)")
        }
        payloadHash = try r.b32("payload hash")
        signature = Array(try r.take(64, "signature"))
        guard r.remaining == 0 else { throw DecodeError("\(r.remaining) bytes follow the signature") }
        self.bytes = bytes
        id = EventID(Bytes32.sha256(bytes))
    }

    public static func isValidType(_ t: String) -> Bool {
        let u = t.utf8
        return !u.isEmpty && u.count <= ProtocolLimits.maxTypeBytes && u.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        }
    }

    /// The bytes the signature covers: the context, then every envelope byte before the signature.
    public var signedBytes: [UInt8] { EventEnvelope.signingContext + bytes[0..<(bytes.count - 64)] }

    /// Verifies the Ed25519 signature against the replica id (which is the public key).
    public func hasValidSignature() -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: replica.raw.bytes) else { return false }
        return key.isValidSignature(signature, for: signedBytes)
    }

    /// True when `payload` is the payload this envelope commits to.
    public func matches(payload: [UInt8]) -> Bool {
        payload.count == Int(payloadLength) && Bytes32.sha256(payload) == payloadHash
    }
}

/// An event as it travels and is stored: the envelope's exact bytes and, beside them, the payload
/// (nil once purged, DESIGN §1.5).
public struct SignedEvent: Sendable {
    public var envelope: EventEnvelope
    public var payload: [UInt8]?
    public init(envelope: EventEnvelope, payload: [UInt8]?) { self.envelope = envelope; self.payload = payload }
    public var id: EventID { envelope.id }
}
