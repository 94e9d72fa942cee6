import Crypto
import Foundation
import GlossModel
import GlossSync

// Writers for hostile input: bundle files and event envelopes built field by field, with any
// value in any field, signed by any key (or not at all). They follow Protocol/01-event.md and
// 05-bundle.md byte for byte and share no code with the decoders under test beyond `ByteWriter`
// and the key primitive, so they are an oracle independent of the code that reads them.

/// An event envelope with every field free (Protocol/01-event.md §Layout), including values the
/// protocol forbids. `encoded(signedBy:)` signs with the given key whatever `replica` says.
public struct RawEnvelope: Sendable {
    public var format: UInt8 = 1
    public var team = [UInt8](repeating: 0, count: 32)
    public var replica: [UInt8]
    public var seq: UInt64
    public var prev: [UInt8]
    public var time: UInt64
    /// Written as `depsCount` when set, else the entries' count.
    public var depsCount: UInt32?
    public var deps: [(replica: [UInt8], seq: UInt64)] = []
    public var authorLength: UInt8?
    public var author: [UInt8] = Array("mallory".utf8)
    public var typeLength: UInt8?
    public var type: [UInt8] = Array("NoteAdded".utf8)
    public var schema: UInt16 = 1
    public var payloadLength: UInt32
    public var payloadHash: [UInt8]
    /// Bytes appended after the signature (nothing may follow it).
    public var trailing: [UInt8] = []

    public init(replica: ReplicaID, seq: UInt64, prev: EventID, time: UInt64, payload: [UInt8]) {
        self.replica = replica.raw.bytes; self.seq = seq; self.prev = prev.raw.bytes; self.time = time
        payloadLength = UInt32(payload.count); payloadHash = Bytes32.sha256(payload).bytes
    }

    /// Every field of a decoded envelope, to change some and re-sign.
    public init(_ e: EventEnvelope) {
        format = e.format; team = e.team.raw.bytes; replica = e.replica.raw.bytes; seq = e.seq; prev = e.prev.raw.bytes
        time = e.time.raw; deps = e.depsDelta.map { ($0.replica.raw.bytes, $0.seq) }
        author = Array(e.author.utf8); type = Array(e.type.utf8); schema = e.schema
        payloadLength = e.payloadLength; payloadHash = e.payloadHash.bytes
    }

    public var unsignedBytes: [UInt8] {
        var w = ByteWriter()
        w.u8(format); w.raw(team); w.raw(replica); w.u64(seq); w.raw(prev); w.u64(time)
        w.u32(depsCount ?? UInt32(deps.count))
        for d in deps { w.raw(d.replica); w.u64(d.seq) }
        w.u8(authorLength ?? UInt8(truncatingIfNeeded: author.count)); w.raw(author)
        w.u8(typeLength ?? UInt8(truncatingIfNeeded: type.count)); w.raw(type)
        w.u16(schema); w.u32(payloadLength); w.raw(payloadHash)
        return w.bytes
    }

    /// The envelope signed by `key` (Ed25519 over "GLOSS-EVENT-V1" ‖ bytes), or with a signature
    /// of 64 `filler` bytes when `key` is nil.
    public func encoded(signedBy key: ReplicaKey?, filler: UInt8 = 0x5A) -> [UInt8] {
        let body = unsignedBytes
        let sig = key.map { $0.sign(Array("GLOSS-EVENT-V1".utf8) + body) } ?? [UInt8](repeating: filler, count: 64)
        return body + sig + trailing
    }
}

/// SHA-256 of an envelope's bytes: its id.
public func eventID(of envelope: [UInt8]) -> EventID { EventID(Bytes32.sha256(envelope)) }

/// One record of a hostile bundle: the length fields may lie.
public struct RawRecord: Sendable {
    public var envelope: [UInt8]
    /// nil: purged (0xFFFFFFFF, no bytes follow).
    public var payload: [UInt8]?
    public var envelopeLength: UInt32?
    public var payloadLength: UInt32?
    public init(envelope: [UInt8], payload: [UInt8]?) { self.envelope = envelope; self.payload = payload }
    public init(_ e: SignedEvent) { envelope = e.envelope.bytes; payload = e.payload }

    public var bytes: [UInt8] {
        var w = ByteWriter()
        w.u32(envelopeLength ?? UInt32(truncatingIfNeeded: envelope.count)); w.raw(envelope)
        if let payload { w.u32(payloadLength ?? UInt32(truncatingIfNeeded: payload.count)); w.raw(payload) } else { w.u32(payloadLength ?? 0xFFFF_FFFF) }
        return w.bytes
    }
}

/// A bundle file built field by field (Protocol/05-bundle.md §Layout). Vectors are raw entry
/// lists, so they may be unsorted, hold zeros, duplicates or any seq; counts may lie.
public struct RawBundle: Sendable {
    public var magic = Array("GLOSSBDL".utf8)
    public var format: UInt16 = 1
    public var team = [UInt8](repeating: 0, count: 32)
    public var sender: [UInt8]
    public var senderVector: [(replica: [UInt8], seq: UInt64)]
    public var senderVectorCount: UInt32?
    public var baseVector: [(replica: [UInt8], seq: UInt64)]
    public var baseVectorCount: UInt32?
    public var eventCount: UInt64?
    /// Format 2's `evidence_count` (written only when `format` is 2; nil means 0).
    public var evidenceCount: UInt64?
    /// Every record, event records then evidence records.
    public var records: [RawRecord]
    /// Trailer fields; nil means the true value. `omitTrailer` leaves it out.
    public var trailerMagic = Array("GLOSSEND".utf8)
    public var trailerCount: UInt64?
    public var trailerChecksum: [UInt8]?
    public var omitTrailer = false
    public var trailing: [UInt8] = []

    public init(sender: ReplicaID, senderVector: VersionVector, baseVector: VersionVector, records: [RawRecord]) {
        self.sender = sender.raw.bytes
        self.senderVector = RawBundle.entries(senderVector)
        self.baseVector = RawBundle.entries(baseVector)
        self.records = records
    }

    public static func entries(_ v: VersionVector) -> [(replica: [UInt8], seq: UInt64)] { v.sorted.map { ($0.replica.raw.bytes, $0.seq) } }

    public var headerBytes: [UInt8] {
        var w = ByteWriter()
        w.raw(magic); w.u16(format); w.raw(team); w.raw(sender)
        w.u32(senderVectorCount ?? UInt32(truncatingIfNeeded: senderVector.count))
        for e in senderVector { w.raw(e.replica); w.u64(e.seq) }
        w.u32(baseVectorCount ?? UInt32(truncatingIfNeeded: baseVector.count))
        for e in baseVector { w.raw(e.replica); w.u64(e.seq) }
        w.u64(eventCount ?? UInt64(records.count))
        if format == 2 { w.u64(evidenceCount ?? 0) }
        return w.bytes
    }

    /// The whole file: the header signed by `key` (or a filler signature when nil), the records,
    /// the trailer with the true running checksum unless overridden.
    public func encoded(signedBy key: ReplicaKey?) -> [UInt8] {
        let header = headerBytes
        var out = header + (key.map { $0.sign(Array("GLOSS-BUNDLE-V1".utf8) + header) } ?? [UInt8](repeating: 0xA5, count: 64))
        for r in records { out += r.bytes }
        if !omitTrailer {
            let sum = trailerChecksum ?? Array(SHA256.hash(data: out))
            var w = ByteWriter()
            w.raw(trailerMagic); w.u64(trailerCount ?? UInt64(records.count)); w.raw(sum)
            out += w.bytes
        }
        return out + trailing
    }

    /// Byte offsets of the records in `encoded` (header+signature end, each record start, trailer start).
    public func recordOffsets() -> [Int] {
        var offsets: [Int] = []
        var at = headerBytes.count + 64
        for r in records { offsets.append(at); at += r.bytes.count }
        offsets.append(at)
        return offsets
    }
}

/// Rewrites the trailer of an encoded bundle so its checksum and count match the bytes before it
/// (for damage that should be judged record by record, not by the checksum).
public func resealTrailer(_ file: [UInt8], records: UInt64) -> [UInt8] {
    guard file.count >= 48 else { return file }
    let body = Array(file[0..<(file.count - 48)])
    var w = ByteWriter()
    w.raw(Array("GLOSSEND".utf8)); w.u64(records); w.raw(Array(SHA256.hash(data: body)))
    return body + w.bytes
}
