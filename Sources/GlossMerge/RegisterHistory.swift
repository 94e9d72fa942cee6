/// A register write with its place in causal order: the feed that wrote it and its seq there.
/// The relation it gives, with `past(w, f)` — the highest seq of feed `f` that `w` follows (of its
/// own feed: `w.seq - 1`) — is the store's (DESIGN §1.2): `a` happened before `b` when they share
/// a feed and `a.seq < b.seq`, or when `past(b, a.feed) >= a.seq`.
public protocol FeedWrite: RegisterWrite {
    associatedtype Feed: Hashable
    var feed: Feed { get }
    var seq: UInt64 { get }
}

/// Every write of one register, grouped by feed and ordered by seq: what the meet of concurrent
/// heads needs (Protocol/08-conflicts.md §Registers). The writes every head follows are, in each
/// feed, the writes up to a seq (the feed's writes follow each other), so the meet's maximal writes
/// are among each feed's latest common write: a binary search per feed, not a pass over the writes.
public struct RegisterHistory<W: FeedWrite> {
    private var feeds: [[W]]
    private let count: Int

    public init(_ writes: [W]) {
        count = writes.count
        var byFeed: [W.Feed: [W]] = [:]
        for w in writes { byFeed[w.feed, default: []].append(w) }
        feeds = byFeed.values.map { $0.sorted { ($0.seq, $0.event) < ($1.seq, $1.event) } }
    }

    /// `past` as the causal relation.
    static func happenedBefore(_ a: W, _ b: W, past: (W, W.Feed) throws -> UInt64) rethrows -> Bool {
        if a.feed == b.feed { return a.seq < b.seq }
        return try past(b, a.feed) >= a.seq
    }

    /// The maximal writes of the heads' common causal past (empty when there is none).
    func meetTops(of heads: [W], past: (W, W.Feed) throws -> UInt64) rethrows -> [W] {
        func before(_ a: W, _ b: W) throws -> Bool { try Self.happenedBefore(a, b, past: past) }
        var candidates: [W] = []
        for writes in feeds {
            let feed = writes[0].feed
            // Seqs of this feed below `limit` are in every head's past: of a head's own feed, those
            // before it; of another, those up to its past there.
            let limit = try heads.map { h in h.feed == feed ? h.seq : Self.after(try past(h, feed)) }.min() ?? .max
            // The latest seq below the limit (all writes at it: one, unless a feed forked), checked
            // against the definition; an earlier seq only if none passes (a write a fork removed).
            var end = writes.partitioningIndex { $0.seq >= limit }
            while end > 0 {
                let seq = writes[end - 1].seq
                var start = end - 1
                while start > 0, writes[start - 1].seq == seq { start -= 1 }
                var found = false
                for w in writes[start..<end] where !heads.contains(where: { $0.event == w.event }) {
                    if try heads.allSatisfy({ try before(w, $0) }) { candidates.append(w); found = true }
                }
                if found { break }
                end = start
            }
        }
        return try Self.maximal(candidates, before)
    }

    /// The next seq (saturating).
    static func after(_ seq: UInt64) -> UInt64 { seq == .max ? .max : seq + 1 }

    /// The maximal elements of a strict partial order's elements, in O(n × width): an antichain
    /// that covers every element seen so far.
    static func maximal(_ ws: [W], _ before: (W, W) throws -> Bool) rethrows -> [W] {
        var tops: [W] = []
        for w in ws {
            if try tops.contains(where: { try $0.event == w.event || before(w, $0) }) { continue }
            tops = try tops.filter { try !before($0, w) }
            tops.append(w)
        }
        return tops
    }

    /// The value at the meet of `heads` (`Register.valueAtMeet`): the merges below it, level by
    /// level down to one that needs no base, then folded back up.
    func valueAtMeet(of heads: [W], past: (W, W.Feed) throws -> UInt64, cells: inout Int) rethrows -> String? {
        var levels: [[W]] = []
        var current = heads
        var base: String?
        while true {
            let tops = try meetTops(of: current, past: past)
            if tops.isEmpty { base = ""; break }
            if let shown = Register.displayWithoutBase(heads: tops, scalar: false) { base = Register.base(shown); break }
            // Each level is strictly below the last: no more levels than writes.
            guard levels.count < count else { return nil }
            levels.append(tops)
            current = tops
        }
        for level in levels.reversed() {
            guard base != nil else { return nil }
            base = Register.base(Register.merge(level, base: base, cells: &cells))
        }
        return base
    }
}

private extension Array {
    /// The first index whose element satisfies `belongs`, for a predicate false then true along the array.
    func partitioningIndex(where belongs: (Element) throws -> Bool) rethrows -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if try belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
