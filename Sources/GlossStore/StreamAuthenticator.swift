import GlossModel

/// Authenticates a stream of received events window by window (a bundle's import windows, a sync
/// session's batches), carrying over the events nothing vouches for yet.
///
/// An event is proven by its own signature or by a later validly signed event of its feed whose
/// `prev` chain reaches it (`ReplicaStore.authenticated`). A replica that stored a chain proven only
/// by its last event (its other signatures damaged or forged, but vouched for) streams it in
/// batches cut by size: a receiver judging each batch alone rejected the start of the chain, on
/// every sync, and everything that depended on it waited for good. So an event no event of its
/// window vouches for is held back — not stored, not believed — and judged again with the next
/// window; whatever is still unproven when the stream ends (or past the bounds: 10,000 events or
/// 16 MiB held back, the size of one window or frame) goes through to be rejected and reported.
/// A signature found not to verify is not checked again while its event is held back.
public struct StreamAuthenticator: Sendable {
    public static let maxHeldEvents = 10_000
    public static let maxHeldBytes = 16 << 20

    private var held: [SignedEvent] = []
    private var unsigned = Set<EventID>()

    public init() {}

    /// True when events are held back.
    public var isHolding: Bool { !held.isEmpty }

    /// The events ready to apply — those held back before, then `window`'s, in stream order, less
    /// the ones held back now — and which of them are proven (the others, released past the bounds,
    /// are rejected by the apply).
    public mutating func take(_ window: [SignedEvent]) -> (events: [SignedEvent], proven: Set<EventID>) {
        let all = held + window
        let proven = ReplicaStore.authenticated(all, unsigned: &unsigned)
        var ready: [SignedEvent] = [], waiting: [SignedEvent] = []
        ready.reserveCapacity(all.count)
        for e in all { if proven.contains(e.id) { ready.append(e) } else { waiting.append(e) } }
        var bytes = waiting.reduce(0) { $0 + Self.size($1) }
        var released = 0
        while released < waiting.count && (waiting.count - released > Self.maxHeldEvents || bytes > Self.maxHeldBytes) {
            bytes -= Self.size(waiting[released]); released += 1
        }
        held = Array(waiting[released...])
        let ids = Set(held.map(\.id))
        unsigned = unsigned.filter { ids.contains($0) }
        return (Array(waiting[..<released]) + ready, proven)
    }

    /// At the stream's end: every event still held back (none proven), to be rejected and reported.
    public mutating func finish() -> [SignedEvent] {
        defer { held = []; unsigned = [] }
        return held
    }

    static func size(_ e: SignedEvent) -> Int { e.envelope.bytes.count + (e.payload?.count ?? 0) }
}
