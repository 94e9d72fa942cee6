import Crypto
import Foundation
import GlossModel

/// The header of a bundle file (Protocol/05-bundle.md §Layout).
public struct BundleHeader: Sendable, Equatable {
    public static let magic = Array("GLOSSBDL".utf8)
    public static let trailerMagic = Array("GLOSSEND".utf8)
    /// Format 1; format 2 adds `evidence_count` and fork evidence after the records.
    public static let format: UInt16 = 1
    public static let evidenceFormat: UInt16 = 2
    public static let signingContext = Array("GLOSS-BUNDLE-V1".utf8)

    public var team: TeamID
    public var sender: ReplicaID
    public var senderVector: VersionVector
    public var baseVector: VersionVector
    public var eventCount: UInt64
    /// Fork evidence records after the `eventCount` records (Protocol/05 §Fork evidence): the
    /// sender's held events at the fork seq, and the seq after it, of each feed it found forked.
    /// Nonzero only in format 2.
    public var evidenceCount: UInt64

    public init(team: TeamID = .none, sender: ReplicaID, senderVector: VersionVector, baseVector: VersionVector, eventCount: UInt64,
                evidenceCount: UInt64 = 0) {
        self.team = team; self.sender = sender; self.senderVector = senderVector; self.baseVector = baseVector; self.eventCount = eventCount
        self.evidenceCount = evidenceCount
    }

    /// 1 without fork evidence (the bytes of every bundle before format 2), 2 with it.
    public var format: UInt16 { evidenceCount == 0 ? BundleHeader.format : BundleHeader.evidenceFormat }

    /// Records in the file: the events, then the fork evidence.
    public var recordCount: UInt64 { eventCount.addingSaturating(evidenceCount) }

    public static func == (a: BundleHeader, b: BundleHeader) -> Bool {
        a.team == b.team && a.sender == b.sender && a.senderVector == b.senderVector && a.baseVector == b.baseVector && a.eventCount == b.eventCount
            && a.evidenceCount == b.evidenceCount
    }

    /// The signed header bytes.
    public func encoded(signedBy key: ReplicaKey) -> [UInt8] {
        precondition(key.replicaID == sender)
        var w = ByteWriter()
        w.raw(BundleHeader.magic); w.u16(format); w.b32(team.raw); w.b32(sender.raw)
        VectorCodec.encode(senderVector, into: &w)
        VectorCodec.encode(baseVector, into: &w)
        w.u64(eventCount)
        if evidenceCount > 0 { w.u64(evidenceCount) }
        w.raw(key.sign(BundleHeader.signingContext + w.bytes))
        return w.bytes
    }
}

/// Writes a bundle, streaming: header, records, trailer with the running SHA-256.
public struct BundleWriter {
    private let output: ([UInt8]) throws -> Void
    private var hasher = SHA256()
    private var buffer: [UInt8] = []
    public private(set) var bytesWritten = 0
    public private(set) var records: UInt64 = 0

    public init(handle: FileHandle, header: BundleHeader, key: ReplicaKey) throws {
        try self.init(output: { try handle.write(contentsOf: $0) }, header: header, key: key)
    }

    /// Writes to `output` (e.g. `EncryptingBundleSink.write`), in pieces of about 1 MiB.
    public init(output: @escaping ([UInt8]) throws -> Void, header: BundleHeader, key: ReplicaKey) throws {
        self.output = output
        try emit(header.encoded(signedBy: key))
    }

    private mutating func emit(_ bytes: [UInt8], hash: Bool = true) throws {
        if hash { hasher.update(data: bytes) }
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= 1 << 20 { try flush() }
    }

    private mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try output(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// One record: the envelope and payload exactly as stored.
    public mutating func append(envelope: [UInt8], payload: [UInt8]?) throws {
        var w = ByteWriter(capacity: envelope.count + (payload?.count ?? 0) + 8)
        w.u32(UInt32(envelope.count)); w.raw(envelope)
        if let payload { w.u32(UInt32(payload.count)); w.raw(payload) } else { w.u32(0xFFFF_FFFF) }
        try emit(w.bytes)
        records += 1
    }

    /// Writes the trailer and flushes. The caller fsyncs and renames.
    public mutating func finish() throws {
        let digest = Bytes32(digest: hasher.finalize())
        var w = ByteWriter()
        w.raw(BundleHeader.trailerMagic); w.u64(records); w.b32(digest)
        try emit(w.bytes, hash: false)
        try flush()
    }
}

/// Reads a bundle, streaming, from untrusted bytes.
public final class BundleReader {
    private let source: (Int) throws -> Data?
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private var hasher = SHA256()
    public private(set) var header: BundleHeader!
    public private(set) var recordsRead: UInt64 = 0
    /// Set when the file ended before the trailer.
    public private(set) var truncated = false
    /// Set once the trailer was read: whether its count and checksum matched.
    public private(set) var checksumOK: Bool?
    public private(set) var bytesRead = 0
    /// Header invariants the file breaks (Protocol/05-bundle.md §Reading): `event_count` against the
    /// vector difference, and each feed's records running `base + 1 … sender` without gaps. The
    /// first few are listed; `headerProblemCount` counts them all. Each record is still verified on
    /// its own, but a header that lies is never believed as the sender's acknowledgement.
    public private(set) var headerProblems: [String] = []
    public private(set) var headerProblemCount = 0
    /// The next seq expected of each feed that has had a record.
    private var nextSeq: [ReplicaID: UInt64] = [:]

    public init(handle: FileHandle) { source = { try handle.read(upToCount: $0) } }

    /// Reads from `source` (up to the count asked; empty or nil at the end), e.g. a
    /// `DecryptingBundleSource`.
    public init(source: @escaping (Int) throws -> Data?) { self.source = source }

    private func headerProblem(_ p: @autoclosure () -> String) {
        headerProblemCount += 1
        if headerProblems.count < 10 { headerProblems.append(p()) }
    }

    /// True once the whole file was read and its header kept every invariant.
    public var headerHolds: Bool { headerProblemCount == 0 && checksumOK == true && !truncated }

    /// Ensures `n` bytes are buffered; false at end of file.
    private func fill(_ n: Int) throws -> Bool {
        while buffer.count - start < n {
            if eof { return false }
            if start > 0 && start > buffer.count / 2 { buffer.removeFirst(start); start = 0 }
            let chunk = try source(max(1 << 20, n - (buffer.count - start))) ?? Data()
            if chunk.isEmpty { eof = true; return buffer.count - start >= n }
            buffer.append(contentsOf: chunk)
        }
        return true
    }

    /// Takes `n` buffered bytes; callers check `fill(n)` first.
    private func take(_ n: Int, hash: Bool = true) -> [UInt8] {
        precondition(buffer.count - start >= n)
        let out = Array(buffer[start..<start + n])
        start += n
        bytesRead += n
        if hash { hasher.update(data: out) }
        return out
    }

    private func u32() throws -> UInt32? {
        guard try fill(4) else { return nil }
        let b = take(4)
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }

    /// Reads and checks the header (magic, format, vectors, signature). Throws `unusable`.
    public func readHeader() throws -> BundleHeader {
        func unusable(_ why: String) -> SyncError { SyncError(.unusable, "not a usable Gloss bundle: \(why)") }
        guard try fill(8) else { throw unusable("the file is shorter than a bundle header") }
        guard Array(buffer[start..<start + 8]) == BundleHeader.magic else { throw unusable("it does not start with GLOSSBDL") }
        // Read the fixed part and both vectors, bounded by the header limit.
        guard try fill(8 + 2 + 32 + 32) else { throw unusable("the header is cut short") }
        var headerBytes = take(8 + 2 + 32 + 32)
        for _ in 0..<2 {
            guard let n = try u32() else { throw unusable("the header is cut short") }
            guard n <= ProtocolLimits.maxVectorEntries else { throw unusable("a header vector has \(n) entries, over the limit") }
            headerBytes += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            guard try fill(Int(n) * 40) else { throw unusable("the header is cut short") }
            headerBytes += take(Int(n) * 40)
        }
        let format = UInt16(headerBytes[8]) << 8 | UInt16(headerBytes[9])
        guard format == BundleHeader.format || format == BundleHeader.evidenceFormat else {
            throw unusable("bundle format \(format) is not supported (this build reads formats 1 and 2)")
        }
        let counts = format == BundleHeader.evidenceFormat ? 16 : 8
        guard try fill(counts + 64) else { throw unusable("the header is cut short") }
        headerBytes += take(counts)
        let signature = take(64)
        var r = ByteReader(headerBytes, offset: 10)
        do {
            let team = TeamID(try r.b32("team"))
            let sender = ReplicaID(try r.b32("sender"))
            let senderVector = try VectorCodec.decode(&r)
            let baseVector = try VectorCodec.decode(&r)
            let count = try r.u64("event count")
            let evidence = format == BundleHeader.evidenceFormat ? try r.u64("evidence count") : 0
            guard format == BundleHeader.format || evidence > 0 else { throw unusable("a format 2 bundle has an evidence_count of 0") }
            guard ReplicaKey.isValid(signature: signature, of: BundleHeader.signingContext + headerBytes, by: sender) else {
                throw unusable("the header signature does not verify for sender \(sender.short)")
            }
            header = BundleHeader(team: team, sender: sender, senderVector: senderVector, baseVector: baseVector, eventCount: count,
                                  evidenceCount: evidence)
            let difference = senderVector.eventsMissing(from: baseVector)
            if count != difference {
                headerProblem("event_count is \(count), but the sender and base vectors differ by \(difference) events")
            }
            return header
        } catch let e as DecodeError {
            throw unusable(e.message)
        }
    }

    /// The next record, or nil after the last one (then the trailer has been checked) or when the
    /// file was cut short (`truncated`). Throws `unusable` for a record that cannot be framed.
    public func next() throws -> SignedEvent? {
        precondition(header != nil, "readHeader() first")
        if recordsRead == header.recordCount {
            try readTrailer()
            return nil
        }
        if try fill(8), buffer[start..<start + 8].elementsEqual(BundleHeader.trailerMagic) {
            let declared = header.evidenceCount > 0 ? "event_count \(header.eventCount) + evidence_count \(header.evidenceCount)" : "event_count \(header.eventCount)"
            throw SyncError(.unusable, "the trailer stands where record \(recordsRead + 1) should start: the header declares \(declared) records, the file holds \(recordsRead)")
        }
        guard let envLen = try u32() else { truncated = true; return nil }
        guard envLen >= 1, Int(envLen) <= ProtocolLimits.maxEnvelopeBytes else {
            throw SyncError(.unusable, "record \(recordsRead + 1) claims an envelope of \(envLen) bytes (limit \(ProtocolLimits.maxEnvelopeBytes)); the rest of the file cannot be read")
        }
        guard try fill(Int(envLen)) else { truncated = true; return nil }
        let envBytes = take(Int(envLen))
        guard let payLen = try u32() else { truncated = true; return nil }
        var payload: [UInt8]?
        if payLen != 0xFFFF_FFFF {
            guard Int(payLen) <= ProtocolLimits.maxPayloadBytes else {
                throw SyncError(.unusable, "record \(recordsRead + 1) claims a payload of \(payLen) bytes (limit \(ProtocolLimits.maxPayloadBytes)); the rest of the file cannot be read")
            }
            guard try fill(Int(payLen)) else { truncated = true; return nil }
            payload = take(Int(payLen))
        }
        let env: EventEnvelope
        do { env = try EventEnvelope(decoding: envBytes) } catch let e as DecodeError {
            throw SyncError(.unusable, "record \(recordsRead + 1) is not a valid event envelope (\(e.message)); the rest of the file was not read")
        }
        recordsRead += 1
        if recordsRead <= header.eventCount { checkRecordAgainstHeader(env) } else { checkEvidenceAgainstHeader(env) }
        return SignedEvent(envelope: env, payload: payload)
    }

    /// A feed's records must run base + 1 … sender, in order, without gaps.
    private func checkRecordAgainstHeader(_ env: EventEnvelope) {
        let r = env.replica
        let expected = nextSeq[r] ?? header.baseVector[r] &+ 1
        if env.seq != expected {
            headerProblem("record \(recordsRead) is seq \(env.seq) of \(r.short), expected seq \(expected) (base \(header.baseVector[r]))")
        } else if env.seq > header.senderVector[r] {
            headerProblem("record \(recordsRead) is seq \(env.seq) of \(r.short), above the sender vector's \(header.senderVector[r])")
        }
        nextSeq[r] = env.seq &+ 1
    }

    /// Fork evidence lies at the fork seq of its feed or the seq after it — the sender's head of a
    /// frozen feed is `fork_seq − 1` — after every event record, ascending by (replica, seq, id).
    private func checkEvidenceAgainstHeader(_ env: EventEnvelope) {
        let head = header.senderVector[env.replica]
        let k = recordsRead - header.eventCount
        if env.seq != head &+ 1 && env.seq != head &+ 2 {
            headerProblem("evidence record \(k) is seq \(env.seq) of \(env.replica.short), not one or two above the sender vector's \(head)")
        }
        let key = (env.replica, env.seq, env.id)
        if let last = lastEvidence, !(last < key) {
            headerProblem("evidence record \(k) (\(env.replica.short) seq \(env.seq)) is not after the one before it in (replica, seq, id) order")
        }
        lastEvidence = key
    }
    private var lastEvidence: (ReplicaID, UInt64, EventID)?

    /// After the last record: every feed the sender vector names above the base has all its records.
    private func checkFeedsComplete() {
        for (r, s) in header.senderVector.entries where s > header.baseVector[r] {
            let reached = (nextSeq[r] ?? header.baseVector[r] &+ 1) &- 1
            if reached != s { headerProblem("the sender vector names seq \(s) of \(r.short), but its records end at seq \(reached)") }
        }
    }

    private func readTrailer() throws {
        guard checksumOK == nil else { return }
        let expected = Bytes32(digest: hasher.finalize())
        guard try fill(8 + 8 + 32) else { truncated = true; return }
        let t = take(48, hash: false)
        var r = ByteReader(t)
        let magic = Array(t[0..<8]); _ = try r.take(8, "magic")
        let count = try r.u64("count")
        let sum = try r.b32("checksum")
        checksumOK = magic == BundleHeader.trailerMagic && count == recordsRead && sum == expected
        if magic != BundleHeader.trailerMagic {
            headerProblem("no trailer after the \(recordsRead) records the header declares: the file holds more records than its counts say, or they are misframed")
        } else if count != recordsRead {
            headerProblem("the trailer counts \(count) records, the header declares \(recordsRead)")
        }
        checkFeedsComplete()
    }
}
