/// A run of writes to many registers, reduced in memory to one net change per register
/// (Protocol/04-projections.md §Apply windows): however many writes a register takes during the
/// run, its stored heads are read once (when the run first touches it) and replaced once (when the
/// run ends). Pure: the stored heads come from a loader, causality from a relation; no storage.
///
/// ```swift
/// var run = RegisterRun<String, W>()
/// try run.write(w1, to: "note-1", stored: { _ in [] }, happenedBefore: hb)
/// try run.write(w2, to: "note-1", stored: { _ in [] }, happenedBefore: hb)
/// for change in run.changes { … replace change.stored by change.heads … }
/// ```
public struct RegisterRun<Key: Hashable, W: FeedWrite> {
    /// One register's net change over the run.
    public struct Change {
        public var key: Key
        /// The heads stored when the run first touched the register.
        public var stored: [W]
        /// The heads after every write of the run.
        public var heads: [W]
        /// Where each head is in `heads`, by feed, once there are `indexedHeads` of them (a
        /// register's heads are on distinct feeds: of two writes on one feed, the later follows
        /// the earlier); nil below that, or when two heads share a feed (then every head is asked).
        var byFeed: [W.Feed: Int]?
    }

    /// Heads from which a register's heads are indexed by feed.
    static var indexedHeads: Int { 32 }

    private var registers: [Key: Change] = [:]
    private var order: [Key] = []

    public init() {}

    public var isEmpty: Bool { order.isEmpty }
    /// Registers touched by the run.
    public var count: Int { order.count }

    /// True when the run touched `key`'s register.
    public func contains(_ key: Key) -> Bool { registers[key] != nil }

    /// Registers touched by the run, in the order it first touched them.
    public var changes: [Change] { order.map { registers[$0]! } }

    /// Adds a write to `key`'s register. `stored` reads the register's stored heads; it is called only
    /// the first time the run touches `key`. `pastFeeds`, when it knows them, names the feeds `w`'s
    /// causal past holds writes of (nil: unknown): with many heads, only those on these feeds and
    /// on `w`'s own are asked whether they precede `w` — K concurrent writes cost K answers each
    /// otherwise, K² in all.
    public mutating func write(_ w: W, to key: Key, stored: (Key) throws -> [W], happenedBefore: (W, W) throws -> Bool,
                               pastFeeds: () -> [W.Feed]? = { nil }) rethrows {
        if registers[key] == nil {
            let s = try stored(key)
            registers[key] = Change(key: key, stored: s, heads: s, byFeed: Self.index(s))
            order.append(key)
        }
        try registers[key]!.add(w, happenedBefore: happenedBefore, pastFeeds: pastFeeds)
    }

    /// `heads` by feed, or nil (fewer than `indexedHeads`, or two on one feed).
    static func index(_ heads: [W]) -> [W.Feed: Int]? {
        guard heads.count >= indexedHeads else { return nil }
        var out: [W.Feed: Int] = [:]
        for (i, h) in heads.enumerated() where out.updateValue(i, forKey: h.feed) != nil { return nil }
        return out
    }

    /// Ends the run: forgets every register.
    public mutating func removeAll() {
        registers.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
    }
}

extension RegisterRun.Change {
    /// `Register.add` (the heads `w` follows replaced by `w`), asking only the heads on `pastFeeds`
    /// and on `w`'s feed when the heads are indexed and those are fewer.
    mutating func add(_ w: W, happenedBefore: (W, W) throws -> Bool, pastFeeds: () -> [W.Feed]?) rethrows {
        guard var index = byFeed, let feeds = pastFeeds(), feeds.count < heads.count else {
            try Register.add(w, to: &heads, happenedBefore: happenedBefore)
            byFeed = RegisterRun.index(heads)
            return
        }
        var gone: [Int] = []
        for f in feeds + [w.feed] {
            if let i = index[f], try heads[i].event == w.event || happenedBefore(heads[i], w) { gone.append(i) }
        }
        // Removed from the highest position down, each by the last head taking its place.
        for i in Set(gone).sorted(by: >) {
            index[heads[i].feed] = nil
            if i != heads.count - 1 {
                heads.swapAt(i, heads.count - 1)
                index[heads[i].feed] = i
            }
            heads.removeLast()
        }
        guard index[w.feed] == nil else {
            // Two heads on one feed: not what a causal history gives; every head is asked from now on.
            heads.append(w)
            byFeed = nil
            return
        }
        heads.append(w)
        index[w.feed] = heads.count - 1
        byFeed = index
    }
}
