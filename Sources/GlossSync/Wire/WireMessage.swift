import GlossModel

/// Wire protocol constants (Protocol/07-wire.md).
public enum WireLimits {
    public static let protocolVersion: UInt16 = 1
    public static let magic = Array("GLOSSNET".utf8)
    /// Largest frame body (after the u32 length prefix), ciphertext and tag included.
    public static let maxFrameBytes = 16 * 1024 * 1024
    /// Largest first frame (the plaintext key exchange, 75 bytes in version 1); a longer one ends
    /// the connection before anything is buffered for it.
    public static let maxKeyExchangeFrameBytes = 1024
    /// Largest number of events in one batch message.
    public static let maxBatchEvents = 10_000
    /// Target size of a batch the sender builds.
    public static let batchTargetBytes = 1 << 20
    public static let tagBytes = 16
    /// Longest `error` reason, in bytes of UTF-8 (a longer one is cut when sent, malformed when received).
    public static let maxErrorReasonBytes = 1000
    /// Most entries in one `heads` message (72 bytes each: a frame of 7.2 MB at most).
    public static let maxHeadsEntries = 100_000
    /// Where a peer's heads name another id at seq s of a feed, a side sends its events of that feed
    /// at seqs s − 255 … s (those ≥ 1): a fork of copies that parted up to 256 events back is
    /// found where they part in one session; deeper ones come 256 seqs nearer in each.
    public static let headsDepth: UInt64 = 256
}

/// One entry of a `heads` message: the id of the event the sender holds at `(replica, seq)`, the
/// smaller of the seqs both hellos name for the feed (Protocol/07-wire.md §Heads).
public struct WireHead: Sendable, Hashable {
    public var replica: ReplicaID
    public var seq: UInt64
    public var id: EventID
    public init(replica: ReplicaID, seq: UInt64, id: EventID) { self.replica = replica; self.seq = seq; self.id = id }

    /// The seq a feed's entry names when one side's vector holds it at `own` and the other's at
    /// `theirs`: the smaller, when both hold some of it (§Heads).
    public static func seq(own: UInt64, theirs: UInt64) -> UInt64? { own >= 1 && theirs >= 1 ? min(own, theirs) : nil }
}

/// The messages of a sync session (Protocol/07-wire.md §Messages).
public enum WireMessage: Sendable, Equatable {
    /// Plaintext, first message of each side: a fresh ephemeral X25519 key and challenge.
    case keyExchange(version: UInt16, ephemeral: Bytes32, challenge: Bytes32)
    /// Encrypted: who I am, what I hold, and my signature over the handshake transcript.
    case hello(WireHello)
    /// Encrypted: events the peer lacks, as bundle records.
    case batch([SignedEvent])
    /// Encrypted: I have sent everything (`sent` events); my vector when I started streaming.
    case done(sent: UInt64, vector: VersionVector)
    /// Encrypted: I applied your stream; this is what I now hold.
    case ack(VersionVector)
    /// Either side, any time: the session ends with this reason.
    case error(code: UInt16, reason: String)
    /// Encrypted, while applying a long stream: what I hold so far. Keeps a busy receiver from
    /// looking idle, and records progress (Protocol/07-wire.md §Session).
    case progress(VersionVector)
    /// Encrypted, right after the handshake when both hellos offer heads: the ids of the events this
    /// side holds at the smaller seq of each feed both vectors name, so two branches of one key meet
    /// even where the vectors look equal (Protocol/07-wire.md §Heads). `last` on the last of them.
    case heads(last: Bool, [WireHead])

    public static func == (a: WireMessage, b: WireMessage) -> Bool { a.encoded == b.encoded }

    public enum Tag: UInt8 { case keyExchange = 1, hello, batch, done, ack, error, progress, heads }

    public var encoded: [UInt8] {
        var w = ByteWriter()
        switch self {
        case .keyExchange(let v, let e, let c):
            w.u8(Tag.keyExchange.rawValue); w.raw(WireLimits.magic); w.u16(v); w.b32(e); w.b32(c)
        case .hello(let h):
            w.u8(Tag.hello.rawValue); w.raw(h.signedFields); w.raw(h.signature)
        case .batch(let events):
            w.u8(Tag.batch.rawValue); w.u32(UInt32(events.count))
            for e in events {
                w.u32(UInt32(e.envelope.bytes.count)); w.raw(e.envelope.bytes)
                if let p = e.payload { w.u32(UInt32(p.count)); w.raw(p) } else { w.u32(0xFFFF_FFFF) }
            }
        case .done(let sent, let v):
            w.u8(Tag.done.rawValue); w.u64(sent); VectorCodec.encode(v, into: &w)
        case .ack(let v):
            w.u8(Tag.ack.rawValue); VectorCodec.encode(v, into: &w)
        case .error(let code, let reason):
            let r = Array(reason.utf8.prefix(WireLimits.maxErrorReasonBytes))
            w.u8(Tag.error.rawValue); w.u16(code); w.u16(UInt16(r.count)); w.raw(r)
        case .progress(let v):
            w.u8(Tag.progress.rawValue); VectorCodec.encode(v, into: &w)
        case .heads(let last, let entries):
            w.u8(Tag.heads.rawValue); w.u8(last ? 1 : 0); w.u32(UInt32(entries.count))
            for e in entries { w.b32(e.replica.raw); w.u64(e.seq); w.b32(e.id.raw) }
        }
        return w.bytes
    }

    /// Decodes untrusted bytes; throws `DecodeError` naming what was wrong.
    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard let tag = Tag(rawValue: try r.u8("message type")) else { throw DecodeError("unknown message type \(bytes.first ?? 0)") }
        switch tag {
        case .keyExchange:
            guard Array(try r.take(8, "magic")) == WireLimits.magic else { throw DecodeError("not a Gloss sync peer (bad magic)") }
            self = .keyExchange(version: try r.u16("version"), ephemeral: try r.b32("ephemeral key"), challenge: try r.b32("challenge"))
        case .hello:
            self = .hello(try WireHello(decoding: &r))
        case .batch:
            let n = Int(try r.u32("batch count"))
            guard n <= WireLimits.maxBatchEvents else { throw DecodeError("batch of \(n) events, over the limit of \(WireLimits.maxBatchEvents)") }
            var events: [SignedEvent] = []
            events.reserveCapacity(min(n, r.remaining / 8))
            for _ in 0..<n {
                let el = Int(try r.u32("envelope length"))
                guard el <= ProtocolLimits.maxEnvelopeBytes else { throw DecodeError("envelope of \(el) bytes, over the limit") }
                let env = try EventEnvelope(decoding: Array(try r.take(el, "envelope")))
                let pl = try r.u32("payload length")
                var payload: [UInt8]?
                if pl != 0xFFFF_FFFF {
                    guard Int(pl) <= ProtocolLimits.maxPayloadBytes else { throw DecodeError("payload of \(pl) bytes, over the limit") }
                    payload = Array(try r.take(Int(pl), "payload"))
                }
                events.append(SignedEvent(envelope: env, payload: payload))
            }
            self = .batch(events)
        case .done:
            self = .done(sent: try r.u64("sent"), vector: try VectorCodec.decode(&r))
        case .ack:
            self = .ack(try VectorCodec.decode(&r))
        case .progress:
            self = .progress(try VectorCodec.decode(&r))
        case .heads:
            let last = try r.u8("heads last")
            guard last <= 1 else { throw DecodeError("heads `last` is \(last), not 0 or 1") }
            let n = Int(try r.u32("heads count"))
            guard n <= WireLimits.maxHeadsEntries else { throw DecodeError("heads message of \(n) entries, over the limit of \(WireLimits.maxHeadsEntries)") }
            guard r.remaining >= n * 72 else { throw DecodeError("truncated: heads of \(n) entries need \(n * 72) bytes, \(r.remaining) remain") }
            var entries: [WireHead] = []
            entries.reserveCapacity(n)
            for _ in 0..<n {
                let e = WireHead(replica: ReplicaID(try r.b32("head replica")), seq: try r.u64("head seq"), id: EventID(try r.b32("head id")))
                guard e.seq >= 1, e.seq <= ProtocolLimits.maxSeq else { throw DecodeError("head entry for \(e.replica.short) has seq \(e.seq), outside 1 … 2^63 − 1") }
                if let prev = entries.last, !(prev.replica < e.replica) { throw DecodeError("heads entries are not strictly ascending by replica") }
                entries.append(e)
            }
            self = .heads(last: last == 1, entries)
        case .error:
            let code = try r.u16("error code")
            let n = Int(try r.u16("reason length"))
            guard n <= WireLimits.maxErrorReasonBytes else { throw DecodeError("error reason of \(n) bytes, over the limit of \(WireLimits.maxErrorReasonBytes)") }
            self = .error(code: code, reason: String(decoding: try r.take(n, "reason"), as: UTF8.self))
        }
        guard r.remaining == 0 else { throw DecodeError("\(r.remaining) bytes follow the message") }
    }
}

/// The hello: identity, team, vector, and the proof of key possession bound to this channel.
public struct WireHello: Sendable, Equatable {
    public static let signingContext = Array("GLOSS-WIRE-AUTH-V1".utf8)
    public var version: UInt16
    public var team: TeamID
    public var replica: ReplicaID
    /// Bit 0: the sender wants events (clear for `--push-only` clients). Bit 1: the sender sends
    /// and takes `heads` (§Heads; a responder sets it only when the initiator's hello did).
    public var flags: UInt8
    public var vector: VersionVector
    public var signature: [UInt8]

    public var wantsEvents: Bool { flags & 1 != 0 }
    public var offersHeads: Bool { flags & 2 != 0 }

    public init(version: UInt16 = WireLimits.protocolVersion, team: TeamID, replica: ReplicaID, wantsEvents: Bool, offersHeads: Bool = false,
                vector: VersionVector, signature: [UInt8] = []) {
        self.version = version; self.team = team; self.replica = replica; flags = (wantsEvents ? 1 : 0) | (offersHeads ? 2 : 0)
        self.vector = vector; self.signature = signature
    }

    var signedFields: [UInt8] {
        var w = ByteWriter()
        w.u16(version); w.b32(team.raw); w.b32(replica.raw); w.u8(flags); VectorCodec.encode(vector, into: &w)
        return w.bytes
    }

    init(decoding r: inout ByteReader) throws {
        version = try r.u16("version"); team = TeamID(try r.b32("team")); replica = ReplicaID(try r.b32("replica"))
        flags = try r.u8("flags"); vector = try VectorCodec.decode(&r)
        signature = Array(try r.take(64, "signature"))
    }

    /// The bytes the hello's signature covers: context ‖ transcript hash ‖ role ‖ fields.
    static func signedBytes(transcript: Bytes32, role: SessionRole, fields: [UInt8]) -> [UInt8] {
        signingContext + transcript.bytes + [role.rawValue] + fields
    }
}

/// Which side opened the connection.
public enum SessionRole: UInt8, Sendable { case initiator = 0, responder = 1
    public var peer: SessionRole { self == .initiator ? .responder : .initiator }
}

/// Text a peer chose (an `error`'s reason), made one line before it is logged or shown: every
/// control character — line feeds and carriage returns included — and DEL and C1 written as
/// `\u{…}`. A reason holding a line feed wrote a forged entry into a server's log, and a hostile
/// server added whole lines to a client's output (an audit, 2026-12-07).
public enum PeerText {
    public static func oneLine(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        return escapingControls(s) { _, _ in false }
    }

    /// `s` with every control character (C0, DEL, C1) written as `\u{…}`, but those `keep` accepts
    /// (given the scalar and the one after it). Built with `+=`: `String.UnicodeScalarView.append(contentsOf:)`
    /// copies the whole view at each call, quadratic in a text full of controls.
    public static func escapingControls(_ s: String, keep: (Unicode.Scalar, Unicode.Scalar?) -> Bool) -> String {
        var out = ""
        var scalars = s.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let u = next {
            next = scalars.next()
            if isControl(u) && !keep(u, next) { out += "\\u{\(String(u.value, radix: 16, uppercase: true))}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    public static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F...0x9F).contains(u.value) }
}
