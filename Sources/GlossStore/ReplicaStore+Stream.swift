import Foundation
import GlossModel

/// A window of received events, read and checked off the writer's thread.
public struct CheckedWindow: Sendable {
    public var events: [SignedEvent]
    /// Events whose authorship is proven (`ReplicaStore.authenticated`).
    public var proven: Set<EventID>
    /// Per copy, in `events` order: its payload matches its envelope's payload hash (or it carries
    /// none). Per copy, not per id: a damaged and a genuine copy of one event share an id.
    public var intact: [Bool]
    /// Per copy, in `events` order: the payload decoded for the projector, so the writer does not
    /// decode it; nil when the copy is not intact, carries none, or is larger than
    /// `maxDecodedAhead` (an article: few, and large once decoded; the writer decodes those).
    public var decoded: [DecodedPayload?]
    static let maxDecodedAhead = 4_096
    /// Records read from the source so far, this window included.
    public var recordsRead: Int
    /// The events' envelope and payload bytes.
    public var bytes: Int

    /// Checks `events` (signatures and payload hashes): the work that needs no database.
    public init(_ events: [SignedEvent], recordsRead: Int) {
        self.init(events, proven: ReplicaStore.authenticated(events), recordsRead: recordsRead)
    }

    /// Checks `events`' payload hashes; `proven` as `ReplicaStore.authenticated` found it (by a
    /// `StreamAuthenticator` across windows).
    public init(_ events: [SignedEvent], proven: Set<EventID>, recordsRead: Int) {
        self.events = events
        self.recordsRead = recordsRead
        bytes = events.reduce(0) { $0 + $1.envelope.bytes.count + ($1.payload?.count ?? 0) }
        self.proven = proven
        intact = events.map { e in e.payload.map { e.envelope.matches(payload: $0) } ?? true }
        decoded = zip(events, intact).map { e, ok in
            guard ok, let p = e.payload, p.count <= CheckedWindow.maxDecodedAhead else { return nil }
            return DecodedPayload(type: e.envelope.type, schema: e.envelope.schema, payload: p)
        }
    }
}

extension ReplicaStore {
    /// Applies a stream of received events in transactions of at least `maxEvents` events or
    /// `maxBytes` bytes (or to the stream's end), each made of whole windows of at most `readEvents`
    /// events (default: `maxEvents`) or `maxBytes` bytes. While one window applies, a second thread
    /// reads, hashes and authenticates the next, so the writer never waits for decoding or Ed25519.
    ///
    /// `next` runs on that thread only, in order, and returns nil at the end; reading stops at its
    /// first error, which is rethrown once every event read before it has been applied (the
    /// transaction that read it commits first). `applied` is called on the caller's thread after each
    /// transaction, with its summary and its last window. Memory: at most two windows at a time (the
    /// reader starts a window only once the writer has taken the one before), whatever the size of
    /// a transaction: windows smaller than transactions leave memory to SQLite's page cache.
    /// Transactions defer the rebuilds they need (`applyRemote(deferRebuild:)`): one runs after the last.
    public func applyStream(maxEvents: Int, maxBytes: Int, readEvents: Int? = nil, now: @escaping () -> UInt64, limits: PendingLimits = .standard,
                            next: @escaping () throws -> SignedEvent?,
                            applied: (ApplySummary, CheckedWindow) throws -> Void) throws {
        let windowEvents = min(readEvents ?? maxEvents, maxEvents)
        // Bulk work: a larger page cache for the writer while the stream lasts.
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA cache_size = -\(ReplicaStore.bulkCacheKiB)") }
        defer { try? pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA cache_size = -\(ReplicaStore.cacheKiB)") } }
        let channel = BatchChannel<CheckedWindow>()
        let reader = UncheckedBox(next)
        let thread = Thread {
            defer { channel.finish() }
            var window: [SignedEvent] = []
            var bytes = 0, read = 0
            // Events no event of their window vouches for are judged again with the next one.
            var authenticator = StreamAuthenticator()
            /// Hands over `window` (and, at the end, whatever is still held back); false when cancelled.
            func put(last: Bool) -> Bool {
                var (events, proven) = authenticator.take(window)
                if last { events += authenticator.finish() }
                window.removeAll(keepingCapacity: true)
                bytes = 0
                return events.isEmpty || channel.put(.batch(CheckedWindow(events, proven: proven, recordsRead: read)))
            }
            do {
                while true {
                    // A new window is read once the writer has taken the last one: two windows in
                    // memory (one applying, one read), not three (a third waiting for the slot).
                    if window.isEmpty { guard channel.waitForRoom() else { return } }
                    guard let e = try reader.value() else { break }
                    read += 1
                    bytes += e.envelope.bytes.count + (e.payload?.count ?? 0)
                    window.append(e)
                    if window.count >= windowEvents || bytes >= maxBytes {
                        guard put(last: false) else { return }
                    }
                }
                _ = put(last: true)
            } catch {
                guard put(last: true) else { return }
                _ = channel.put(.failed(UncheckedBox(error)))
            }
        }
        thread.stackSize = 4 << 20
        thread.start()
        // The reading thread is done with `next` before this returns, whatever happens here.
        defer { channel.cancel(); channel.waitFinished() }
        // One stream, one rebuild at most, at its end (Protocol/03-store.md §Deferred rebuilds),
        // also when it fails (a mark left by a failed rebuild is rebuilt at the next open).
        do {
            var item = channel.take()
            while let taken = item {
                let first: CheckedWindow
                switch taken {
                case .batch(let w): first = w
                case .failed(let box): throw box.value
                }
                var last = first
                // A failure read after this transaction's first window: rethrown once it commits.
                var failure: BatchChannel<CheckedWindow>.Item?
                let summary = try applyTransaction(now: now(), limits: limits, deferRebuild: true) { state, db in
                    var w = first, events = 0, bytes = 0
                    while true {
                        try apply(w.events, proven: w.proven, checked: w, &state, db)
                        last = w; events += w.events.count; bytes += w.bytes
                        guard events < maxEvents, bytes < maxBytes, let more = channel.take() else { return }
                        guard case .batch(let nextWindow) = more else { failure = more; return }
                        w = nextWindow
                    }
                }
                try applied(summary, last)
                item = failure ?? channel.take()
            }
        } catch {
            _ = try? rebuildIfStale()
            throw error
        }
        try rebuildIfStale()
    }
}

/// A value handed across threads whose use the code keeps to one thread at a time.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A one-slot hand-off of batches between a reading thread and the writer.
final class BatchChannel<Batch>: @unchecked Sendable {
    enum Item { case batch(Batch), failed(UncheckedBox<any Error>) }
    private let condition = NSCondition()
    private var slot: [Item] = []
    private var cancelled = false, finished = false

    /// Waits for room; false when the writer stopped (the reader should stop too).
    func put(_ item: Item) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while !slot.isEmpty && !cancelled { condition.wait() }
        if cancelled { return false }
        slot.append(item)
        condition.broadcast()
        return true
    }

    /// Waits until the slot is empty (the writer took the last batch); false when the writer stopped.
    func waitForRoom() -> Bool {
        condition.lock(); defer { condition.unlock() }
        while !slot.isEmpty && !cancelled { condition.wait() }
        return !cancelled
    }

    /// The next item, or nil once the reader finished and nothing is left.
    func take() -> Item? {
        condition.lock(); defer { condition.unlock() }
        while slot.isEmpty && !finished { condition.wait() }
        if slot.isEmpty { return nil }
        let item = slot.removeFirst()
        condition.broadcast()
        return item
    }

    func finish() { condition.lock(); finished = true; condition.broadcast(); condition.unlock() }
    func cancel() { condition.lock(); cancelled = true; condition.broadcast(); condition.unlock() }
    func waitFinished() { condition.lock(); while !finished { condition.wait() }; condition.unlock() }
}
