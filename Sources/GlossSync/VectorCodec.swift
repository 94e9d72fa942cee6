import GlossModel

/// The binary vector encoding shared by bundles and the wire protocol (Protocol/05-bundle.md):
/// u32 count, then (replica [32], seq u64) strictly ascending by replica, every seq ≥ 1.
public enum VectorCodec {
    public static func encode(_ v: VersionVector, into w: inout ByteWriter) {
        let entries = v.sorted
        w.u32(UInt32(entries.count))
        for e in entries { w.b32(e.replica.raw); w.u64(e.seq) }
    }

    public static func decode(_ r: inout ByteReader) throws -> VersionVector {
        let n = Int(try r.u32("vector count"))
        guard n <= ProtocolLimits.maxVectorEntries else { throw DecodeError("vector has \(n) entries, over the limit of \(ProtocolLimits.maxVectorEntries)") }
        guard r.remaining >= n * 40 else { throw DecodeError("truncated: vector of \(n) entries needs \(n * 40) bytes, \(r.remaining) remain") }
        var entries: [ReplicaID: UInt64] = [:]
        entries.reserveCapacity(n)
        var last: ReplicaID?
        for _ in 0..<n {
            let id = ReplicaID(try r.b32("vector replica"))
            let seq = try r.u64("vector seq")
            guard seq >= 1 else { throw DecodeError("vector entry for \(id.short) has seq 0") }
            guard seq <= ProtocolLimits.maxSeq else { throw DecodeError("vector entry for \(id.short) has seq \(seq), over the limit of 2^63 − 1") }
            if let last, !(last < id) { throw DecodeError("vector entries are not strictly ascending") }
            last = id
            entries[id] = seq
        }
        return VersionVector(entries)
    }
}
