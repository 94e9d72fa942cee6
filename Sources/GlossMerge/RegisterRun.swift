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
public struct RegisterRun<Key: Hashable, W: RegisterWrite> {
    /// One register's net change over the run.
    public struct Change {
        public var key: Key
        /// The heads stored when the run first touched the register.
        public var stored: [W]
        /// The heads after every write of the run.
        public var heads: [W]
    }

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
    /// the first time the run touches `key`.
    public mutating func write(_ w: W, to key: Key, stored: (Key) throws -> [W], happenedBefore: (W, W) throws -> Bool) rethrows {
        if registers[key] == nil {
            let s = try stored(key)
            registers[key] = Change(key: key, stored: s, heads: s)
            order.append(key)
        }
        try Register.add(w, to: &registers[key]!.heads, happenedBefore: happenedBefore)
    }

    /// Ends the run: forgets every register.
    public mutating func removeAll() {
        registers.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
    }
}
