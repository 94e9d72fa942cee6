/// A hybrid logical clock value (Protocol/01-event.md §Time): the upper 48 bits are wall-clock
/// milliseconds since the Unix epoch, the lower 16 bits a counter. Comparing the raw values
/// compares times; adding one to the raw value is "the next tick", whatever overflows.
public struct HybridTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: UInt64
    public init(raw: UInt64) { self.raw = raw }
    public init(milliseconds: UInt64, counter: UInt16 = 0) { raw = milliseconds << 16 | UInt64(counter) }

    public static let zero = HybridTime(raw: 0)
    public var milliseconds: UInt64 { raw >> 16 }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: raw) }
    public static func < (a: HybridTime, b: HybridTime) -> Bool { a.raw < b.raw }
    public var description: String { "\(milliseconds).\(counter)" }
}

/// The clock rule, as pure functions of the last time seen and the injected wall clock.
///
/// A new local event gets `max(wall, last + 1)`, so times strictly increase along a replica even when
/// the wall clock steps back. Applying a remote event raises `last` to at least its time, so every
/// event is later than everything in its causal past.
public enum HybridClock {
    public static func tick(last: HybridTime, wallMilliseconds: UInt64) -> HybridTime {
        let wall = HybridTime(milliseconds: wallMilliseconds)
        return wall > last ? wall : HybridTime(raw: last.raw &+ 1)
    }

    public static func observe(last: HybridTime, remote: HybridTime) -> HybridTime { max(last, remote) }
}
