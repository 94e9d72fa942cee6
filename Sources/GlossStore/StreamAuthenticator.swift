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
///
/// Incremental: every held event's own signature was found not to verify (else it would be
/// proven), so only a validly signed event of a later window can prove it, by a `prev` chain that
/// reaches it. A window costs its own events, the held events its chains reach (each leaves the
/// held set once) and the ones released past the bounds — never the whole held set: a peer that
/// sent 10,000 unvouched events, then one tiny batch after another, made every batch re-judge
/// all 10,000 (found by an audit, 2026-12-06).
public struct StreamAuthenticator: Sendable {
    public static let maxHeldEvents = 10_000
    public static let maxHeldBytes = 16 << 20

    /// Held events in stream order; nil where one left (proven), compacted as they accumulate.
    private var slots: [SignedEvent?] = []
    /// The first slot that may hold an event.
    private var head = 0
    /// Held events by id: their slots (copies of one event may differ in their payloads).
    private var slotOf: [EventID: [Int]] = [:]
    private var heldCount = 0
    private var heldBytes = 0

    /// Events looked at by `take` so far (each window event, each held event a chain reached or the
    /// bounds released): what the tests bound.
    public private(set) var touched = 0

    public init() {}

    /// True when events are held back.
    public var isHolding: Bool { heldCount > 0 }

    /// The events ready to apply — those held back before, then `window`'s, in stream order, less
    /// the ones held back now — and which of them are proven (the others, released past the bounds,
    /// are rejected by the apply).
    public mutating func take(_ window: [SignedEvent]) -> (events: [SignedEvent], proven: Set<EventID>) {
        touched += window.count
        // Copies of one event (same id, so the same envelope) may carry different payloads: each
        // goes on, the apply tells them apart.
        let proven = ReplicaStore.authenticated(window) { id in slotOf[id].map { slots[$0[0]]!.envelope } }
        // Held events proven: reached by a chain, or copies of an id this window proved.
        var provenHeld: [Int] = []
        for id in proven { provenHeld += slotOf[id] ?? [] }
        touched += provenHeld.count
        var ready: [SignedEvent] = []
        ready.reserveCapacity(provenHeld.count + window.count)
        for slot in provenHeld.sorted() {
            let e = slots[slot]!
            ready.append(e)
            remove(slot)
        }
        for e in window {
            if proven.contains(e.id) {
                ready.append(e)
            } else {
                slotOf[e.id, default: []].append(slots.count)
                slots.append(e)
                heldCount += 1
                heldBytes += Self.size(e)
            }
        }
        // Past the bounds the oldest held events go through unproven (the apply rejects them).
        var released: [SignedEvent] = []
        while heldCount > Self.maxHeldEvents || heldBytes > Self.maxHeldBytes {
            while slots[head] == nil { head += 1 }
            released.append(slots[head]!)
            touched += 1
            remove(head)
        }
        compact()
        return (released + ready, proven)
    }

    /// At the stream's end: every event still held back (none proven), to be rejected and reported.
    public mutating func finish() -> [SignedEvent] {
        defer { slots = []; head = 0; slotOf = [:]; heldCount = 0; heldBytes = 0 }
        return slots[head...].compactMap { $0 }
    }

    private mutating func remove(_ slot: Int) {
        guard let e = slots[slot] else { return }
        slots[slot] = nil
        slotOf[e.id]?.removeAll { $0 == slot }
        if slotOf[e.id]?.isEmpty == true { slotOf[e.id] = nil }
        heldCount -= 1
        heldBytes -= Self.size(e)
    }

    /// Drops the empty slots once they are most of the array (amortized O(1) per event held).
    private mutating func compact() {
        guard slots.count > 64, slots.count > 2 * heldCount else { return }
        slots = slots[head...].filter { $0 != nil }
        head = 0
        slotOf = [:]
        for (i, e) in slots.enumerated() { slotOf[e!.id, default: []].append(i) }
    }

    /// What an event counts against `maxHeldBytes`.
    public static func size(_ e: SignedEvent) -> Int { e.envelope.bytes.count + (e.payload?.count ?? 0) }
}
