/// The set of events a replica holds, named exactly: for each feed, the highest seq held
/// (every replica holds a prefix of every feed, DESIGN §1.1). Absent entries are zero.
///
/// Vectors form a join-semilattice under `merged(with:)`; `<=` is the partial order
/// ("holds no more than"). `isConcurrent(with:)` is "neither includes the other".
public struct VersionVector: Hashable, Sendable {
    public private(set) var entries: [ReplicaID: UInt64]

    public init(_ entries: [ReplicaID: UInt64] = [:]) {
        self.entries = entries.filter { $0.value > 0 }
    }

    public subscript(replica: ReplicaID) -> UInt64 {
        get { entries[replica] ?? 0 }
        set { entries[replica] = newValue == 0 ? nil : newValue }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    /// Total number of events named by the vector (saturating at `UInt64.max`: entries come from
    /// outside and may sum past it).
    public var eventCount: UInt64 { entries.values.reduce(0) { $0.addingSaturating($1) } }

    /// Entries sorted by replica id, the canonical order of every encoding.
    public var sorted: [(replica: ReplicaID, seq: UInt64)] {
        entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// True when the vector holds event `seq` of `replica`.
    public func contains(replica: ReplicaID, seq: UInt64) -> Bool { self[replica] >= seq }

    /// Pointwise maximum.
    public func merged(with other: VersionVector) -> VersionVector {
        var out = self
        out.merge(other)
        return out
    }

    public mutating func merge(_ other: VersionVector) {
        for (r, s) in other.entries where s > self[r] { entries[r] = s }
    }

    /// Pointwise minimum (the meet).
    public func meet(_ other: VersionVector) -> VersionVector {
        var out: [ReplicaID: UInt64] = [:]
        for (r, s) in entries { let m = min(s, other[r]); if m > 0 { out[r] = m } }
        return VersionVector(out)
    }

    /// `self <= other`: every event held here is held by `other`.
    public func isIncluded(in other: VersionVector) -> Bool {
        entries.allSatisfy { other[$0.key] >= $0.value }
    }

    public func isConcurrent(with other: VersionVector) -> Bool {
        !isIncluded(in: other) && !other.isIncluded(in: self)
    }

    /// Number of events `self` holds that `other` lacks.
    /// Saturates at `UInt64.max`.
    public func eventsMissing(from other: VersionVector) -> UInt64 {
        entries.reduce(0) { $0.addingSaturating($1.value > other[$1.key] ? $1.value - other[$1.key] : 0) }
    }
}

extension UInt64 {
    /// `self + other`, or `UInt64.max` when that overflows.
    public func addingSaturating(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
