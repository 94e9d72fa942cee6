import Foundation
import GlossJSON
import GlossModel
import GlossStore
import GlossSync

/// What `gloss sync` and each `gloss serve` session report (same keys as bundle import).
public struct SyncReport: Sendable {
    public var peer: ReplicaID?
    public var summary = ApplySummary()
    /// Events this side sent.
    public var sent = 0
    public var newConflicts = 0
    /// Peer frames this side had to receive after the handshake before it could start streaming
    /// (measured from the state machine; the protocol needs none, so it is 0 unless it regresses).
    public var extraRoundTrips = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var error: String?

}

/// Which directions a session carries (`--pull-only`, `--push-only`).
public enum SyncMode: Sendable { case both, pullOnly, pushOnly }

/// Runs one sync session over any frame transport: the state machine decides, this driver moves
/// frames, streams events from SQLite on a thread of its own (bounded: at most two batches in
/// flight), and applies received batches through the one apply path, off the event loop.
public struct SyncDriver: Sendable {
    public let replica: Replica
    public var handshakeTimeout: Duration = .seconds(10)
    public var idleTimeout: Duration = .seconds(30)
    /// A peer that reads nothing of this side's stream for this long is dropped, whatever it sends
    /// (keepalives included): a stalled reader would hold this side's batches for ever. Longer than
    /// any one batch takes to apply on a loaded machine.
    public var stallTimeout: Duration = .seconds(60)
    /// Target size of an outgoing batch (smaller in tests, to exercise many batches).
    public var batchBytes = WireLimits.batchTargetBytes

    /// How a server paces the rebuilds its sessions leave (nil: each session rebuilds as it ends).
    public var pacer: RebuildPacer?

    public init(replica: Replica) { self.replica = replica }

    /// Seals messages in order and hands them to one writer task, so frames leave in the order
    /// they were sealed and the reader never waits on the network: only the streamer waits for
    /// room (at most `maxQueuedBytes` sealed bytes queued), which bounds memory.
    actor Outbound {
        let transport: any FrameTransport
        var sealer: FrameSealer?
        var bytes = 0
        var queuedBytes = 0
        let maxQueuedBytes = 4 << 20
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var failure: (any Error)?
        let frames: AsyncStream<[UInt8]>
        let continuation: AsyncStream<[UInt8]>.Continuation
        var writer: Task<Void, Never>?
        /// When the last frame was queued, and whether this side has sent its `done` and its
        /// `ack` (after both, it sends nothing more: Protocol/07 §Session).
        var lastQueued = ContinuousClock.now
        /// When the transport last took a frame (the peer reads).
        var lastSent = ContinuousClock.now
        var sentDone = false, sentAck = false

        init(_ t: any FrameTransport) {
            transport = t
            (frames, continuation) = AsyncStream<[UInt8]>.makeStream()
        }

        func start() {
            let frames = self.frames, transport = self.transport
            writer = Task {
                for await frame in frames {
                    do { try await transport.send(frame) } catch { self.failed(error); return }
                    self.sent(frame.count)
                }
            }
        }

        private func sent(_ n: Int) {
            queuedBytes -= n
            lastSent = .now
            if queuedBytes < maxQueuedBytes { let w = roomWaiters; roomWaiters = []; for c in w { c.resume() } }
        }

        private func failed(_ e: any Error) {
            failure = e
            let w = roomWaiters; roomWaiters = []; for c in w { c.resume() }
        }

        private func enqueue(_ frame: [UInt8]) throws {
            if let failure { throw failure }
            bytes += frame.count + 4
            queuedBytes += frame.count
            lastQueued = .now
            continuation.yield(frame)
        }

        func plain(_ frame: [UInt8]) throws { try enqueue(frame) }
        func establish(_ keys: SessionKeys) { sealer = keys.sealer() }
        func send(_ m: WireMessage) throws {
            guard sealer != nil else { throw SyncError(.protocolViolation, "sealed message before the handshake") }
            try enqueue(sealer!.seal(m.encoded))
            switch m {
            case .done: sentDone = true
            case .ack: sentAck = true
            default: break
            }
        }

        /// Sends `progress(vector)` if this side has queued nothing for `quiet` and may still talk:
        /// the keepalive that keeps a slow but live session from being taken for a dead one.
        func keepalive(_ vector: VersionVector, quiet: Duration) throws {
            guard !(sentDone && sentAck), ContinuousClock.now - lastQueued >= quiet else { return }
            try send(.progress(vector))
        }

        /// Waits until the queue has room (the streamer calls this before each batch). A peer that
        /// takes nothing for `limit` while the queue is full is dropped: it may keep the session
        /// alive with keepalives, but it does not read (the stream would wait for ever).
        func waitForRoom(within limit: Duration) async throws {
            guard queuedBytes >= maxQueuedBytes && failure == nil else {
                if let failure { throw failure }
                return
            }
            let watch = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: limit / 4)
                    await self?.expireIfStuck(limit)
                }
            }
            defer { watch.cancel() }
            while queuedBytes >= maxQueuedBytes && failure == nil {
                await withCheckedContinuation { roomWaiters.append($0) }
            }
            if let failure { throw failure }
        }

        private func expireIfStuck(_ limit: Duration) async {
            guard failure == nil, queuedBytes >= maxQueuedBytes, ContinuousClock.now - lastSent >= limit else { return }
            failed(SyncError(.timeout, "the peer read nothing of what this side sent for \(limit); session dropped"))
            await transport.close()
        }

        /// Lets queued frames go out, then stops the writer.
        func drain() async {
            continuation.finish()
            await writer?.value
        }
    }

    static let sqliteQueue = DispatchQueue(label: "gloss.sync.sqlite", attributes: .concurrent)

    /// Runs blocking SQLite work on a dispatch queue, never on an event loop or the cooperative pool.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in sqliteQueue.async { c.resume(with: Result { try body() }) } }
    }

    /// Runs a whole session. `progress(received, expected)` reports incoming events.
    ///
    /// Received batches defer the projection rebuilds they need (a fork, a redaction, a restored
    /// payload: `applyRemote(deferRebuild:)`); one runs when the peer has sent everything, before
    /// this side acknowledges it, or as the session ends otherwise — or, with a `pacer` (a server),
    /// as the pacer decides (Protocol/03-store.md §Deferred rebuilds).
    public func run(over transport: any FrameTransport, role: SessionRole, mode: SyncMode = .both,
                    progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> SyncReport {
        let replica = self.replica
        do {
            let report = try await session(over: transport, role: role, mode: mode, progress: progress)
            try await rebuildDeferred()
            return report
        } catch {
            try? await rebuildDeferred()
            throw error
        }
    }

    /// The rebuild this session's batches deferred: as the pacer decides, or at once.
    private func rebuildDeferred() async throws {
        let replica = self.replica
        if let pacer { await pacer.sessionEnded(replica) } else { try await Self.offload { _ = try replica.store.rebuildIfStale() } }
    }

    private func session(over transport: any FrameTransport, role: SessionRole, mode: SyncMode,
                         progress: (@Sendable (Int, Int) -> Void)?) async throws -> SyncReport {
        let replica = self.replica
        // A hub first takes in what other hub processes applied (Protocol/12-hub.md §Reads).
        try await Self.offload { try replica.store.refresh() }
        let startVector = try await Self.offload { try replica.vector }
        let conflictsBefore = try await Self.offload { try replica.openConflictCount() }
        let wantsEvents = !(role == .initiator && mode == .pushOnly)
        let mayPush = !(role == .initiator && mode == .pullOnly)
        let admission = try await Self.offload { try replica.admission() }
        var machine = SyncSessionStateMachine(role: role, key: replica.key, admission: admission, vector: startVector, wantsEvents: wantsEvents)
        let out = Outbound(transport)
        await out.start()
        var report = SyncReport()
        var received = 0, expected = 0
        // Events of a batch that nothing in it vouches for wait for the next batch (a chain proven
        // by its last event, cut by the sender's batch size); rejected when the peer is done.
        var authenticator = StreamAuthenticator()
        // The ids of this side's events at seqs where the peer's heads name other ids (§Heads):
        // the streamer sends them last, once the peer's last heads came. Ids, not positions: the
        // peer's stream may freeze the feed meanwhile, moving them from the log to the evidence.
        let (differingHeads, headDifferences) = AsyncStream<[EventID]>.makeStream()
        var streamer: Task<Int, Error>?
        var keepalive: Task<Void, Never>?
        var ackSent = false
        var peerHeld = VersionVector()
        var lastRecorded = ContinuousClock.now
        // What this side holds, as of its last applied batch (what a keepalive reports).
        let held = Locked(startVector)
        let streamFailure = Locked<(any Error)?>(nil)
        defer { streamer?.cancel(); keepalive?.cancel() }

        // Handshake deadline: a peer that does not complete the handshake in time is dropped.
        let authenticated = Locked(false)
        let watchdog = Task { [handshakeTimeout] in
            try? await Task.sleep(for: handshakeTimeout)
            if !authenticated.value { await transport.close() }
        }
        defer { watchdog.cancel() }

        func finish(_ error: SyncError?) async throws -> SyncReport {
            if let error {
                try? await out.send(.error(code: 1, reason: error.toPeer ?? error.message))
                report.error = error.message
            }
            streamer?.cancel()
            keepalive?.cancel()
            await out.drain()
            report.bytesSent = await out.bytes
            await transport.close()
            if let error { throw error }
            return report
        }

        // Idle deadline: a peer that sends nothing for `idleTimeout` while this side waits for it
        // is dropped (time this side spends on a frame — applying a long batch — does not count:
        // the peer's keepalives wait in the socket meanwhile). One watch for the session, waking
        // every quarter of the timeout, not a timer per frame: a timer raced against each receive
        // stayed scheduled until its deadline even once the frame had come, so a peer sending tiny
        // frames in a loop (empty batches) left a million pending timers — ~800 MB — behind (an
        // audit, 2026-12-07).
        let waitingSince = Locked<ContinuousClock.Instant?>(nil)
        let idleExpired = Locked(false)
        let idleWatch = Task { [idleTimeout] in
            while !Task.isCancelled {
                var remaining = idleTimeout
                if let since = waitingSince.value {
                    remaining = idleTimeout - (ContinuousClock.now - since)
                    if remaining <= .zero {
                        idleExpired.value = true
                        await transport.close()
                        return
                    }
                }
                try? await Task.sleep(for: min(remaining, idleTimeout / 4) + .milliseconds(5))
            }
        }
        defer { idleWatch.cancel() }
        func idleFailure() -> SyncError { SyncError(.timeout, "the peer sent nothing for \(idleTimeout); session dropped") }

        for a in machine.start() { if case .sendPlain(let f) = a { try await out.plain(f) } }
        while true {
            let frame: [UInt8]?
            waitingSince.value = .now
            do {
                frame = try await transport.receive()
            } catch {
                if idleExpired.value { return try await finish(idleFailure()) }
                throw error
            }
            waitingSince.value = nil
            if frame == nil, idleExpired.value { return try await finish(idleFailure()) }
            guard let frame else {
                if let failure = streamFailure.value {
                    report.error = "\(failure)"
                    keepalive?.cancel()
                    await out.drain()
                    report.bytesSent = await out.bytes
                    throw failure
                }
                let msg = machine.isAuthenticated
                    ? "the peer disconnected mid-session; what was applied stays applied and the next sync resumes from there"
                    : (authenticated.value ? "the peer disconnected"
                        : "the peer disconnected or timed out during the handshake (a server already serving its --max-sessions closes new connections at once: retry later)")
                report.error = msg
                report.bytesSent = await out.bytes
                await transport.close()
                streamer?.cancel()
                await out.drain()
                throw SyncError(.io, msg)
            }
            report.bytesReceived += frame.count + 4
            for action in machine.receive(frame) {
                switch action {
                case .sendPlain(let f): try await out.plain(f)
                case .established(let keys): await out.establish(keys)
                case .send(let m): try await out.send(m)
                case .authenticated(let hello):
                    authenticated.value = true
                    report.peer = hello.replica
                    try await Self.offload { try replica.recordAcknowledged(hello.replica, vector: hello.vector) }
                    expected = mayPush || hello.wantsEvents ? Int(clamping: hello.vector.eventsMissing(from: startVector)) : 0
                    if !wantsEvents { expected = 0 }
                    progress?(0, expected)
                    report.extraRoundTrips = machine.framesAfterHandshake
                    let push = mayPush && hello.wantsEvents
                    let peerVector = hello.vector
                    peerHeld = hello.vector
                    if machine.headsAgreed {
                        // For every feed both vectors name, the id held at the smaller of their
                        // seqs (§Heads): two branches of one key meet through them, even where the
                        // vectors look equal or only one direction carries events.
                        let points = startVector.sorted.compactMap { e in WireHead.seq(own: e.seq, theirs: peerVector[e.replica]).map { (e.replica, $0) } }
                        let held = try await Self.offload { try replica.store.read { db in try replica.store.heldEvents(at: points, db) } }
                        let heads = held.map { WireHead(replica: $0.replica, seq: $0.seq, id: $0.id) }
                        var start = 0
                        repeat {
                            let end = min(start + WireLimits.maxHeadsEntries, heads.count)
                            try await out.send(.heads(last: end == heads.count, Array(heads[start..<end])))
                            start = end
                        } while start < heads.count
                    } else {
                        headDifferences.finish()
                    }
                    if !push { headDifferences.finish() }
                    let batchBytes = self.batchBytes
                    streamer = Task {
                        do { return try await Self.stream(replica, above: peerVector, enabled: push, headDifferences: differingHeads, batchBytes: batchBytes,
                                                          stallTimeout: stallTimeout, out: out) } catch {
                            // This side cannot send what it holds (a stored event that no longer
                            // decodes, a disk error): say so and end the session, or both sides
                            // would wait for each other for ever (keepalives keep it alive).
                            if !Task.isCancelled {
                                streamFailure.value = error
                                try? await out.send(.error(code: 1, reason: "the peer cannot send its events: \(error)"))
                                await transport.close()
                            }
                            throw error
                        }
                    }
                    // Either side may be busy for longer than the peer's idle timeout (applying a
                    // long stream, reading one from a loaded disk): whenever this side has sent
                    // nothing for a third of it, it says what it holds. No SQLite on this path, so
                    // a keepalive is never stuck behind the work that makes the session slow.
                    keepalive = Task { [idleTimeout] in
                        while !Task.isCancelled {
                            try? await Task.sleep(for: idleTimeout / 6)
                            do { try await out.keepalive(held.value, quiet: idleTimeout / 3) } catch { return }
                        }
                    }
                case .apply(let batch):
                    // An empty batch changes nothing: no transaction (a peer sending them in a loop
                    // made this side commit once per 20-byte frame).
                    guard !batch.isEmpty else { break }
                    received += batch.count
                    let now = replica.clock()
                    let peer = report.peer
                    let before = authenticator
                    let (summary, vector, stillAdmitted, after) = try await Self.offload {
                        var a = before
                        let (events, proven) = a.take(batch)   // signatures checked off the session's thread
                        let summary = try replica.store.applyRemote(events, proven: proven, now: now, deferRebuild: true)
                        return (summary, summary.applied > 0 ? try replica.vector : nil, try peer.map { try replica.admits($0) } ?? true, a)
                    }
                    authenticator = after
                    if let vector { held.value = vector }
                    report.summary.add(summary)
                    if !stillAdmitted {
                        // A revocation applied mid-session (Protocol/11-teams.md §Sync): nothing more is sent or taken.
                        return try await finish(SyncError(.refused, "the peer's key \(peer!.short) is no longer on the team's roster (revoked or removed during the session); session ended"))
                    }
                    progress?(received, max(expected, received))
                case .peerDone:
                    // Everything the peer sent is applied (and the projections rebuilt, if a batch
                    // needed it): acknowledge what we now hold. Events still held back unproven
                    // are rejected (and reported) first.
                    if authenticator.isHolding {
                        let unproven = authenticator.finish(), now = replica.clock()
                        report.summary.add(try await Self.offload { try replica.store.applyRemote(unproven, now: now, deferRebuild: true) })
                    }
                    let paced = pacer != nil
                    let v = try await Self.offload { if !paced { _ = try replica.store.rebuildIfStale() }; return try replica.vector }
                    try await out.send(.ack(v))
                    ackSent = true
                case .peerAcked(let v):
                    if let p = report.peer, v != peerHeld {
                        peerHeld = v
                        try await Self.offload { try replica.recordAcknowledged(p, vector: v) }
                    }
                case .peerHeads(let heads, let last):
                    // Where the peer names another id than the one held here, this side's events of
                    // that feed up to that seq (the last `headsDepth` of them): sent after the other
                    // events, so the peer meets the fork where the branches part (and sends its own).
                    if mayPush, let peerVector = machine.peerHello?.vector, machine.peerHello?.wantsEvents == true {
                        let points = heads.filter { WireHead.seq(own: startVector[$0.replica], theirs: peerVector[$0.replica]) == $0.seq }
                        let claimed = Dictionary(points.map { ($0.replica, $0.id) }, uniquingKeysWith: { a, _ in a })
                        let differing = try await Self.offload {
                            try replica.store.read { db in
                                try replica.store.heldEvents(at: points.map { ($0.replica, $0.seq) }, db).filter { claimed[$0.replica] != $0.id }
                                    .flatMap { h in try replica.store.eventIDs(of: h.replica, seqs: (h.seq > WireLimits.headsDepth ? h.seq - WireLimits.headsDepth + 1 : 1)...h.seq, db) }
                            }
                        }
                        if !differing.isEmpty { headDifferences.yield(differing) }
                    }
                    if last { headDifferences.finish() }
                case .peerProgress(let v):
                    // A keepalive repeats what the peer already said: nothing new to record. A new
                    // vector is recorded at most once a second (each is a durable write; a peer
                    // sending progress in a loop made one per frame); its `ack` is always recorded.
                    if let p = report.peer, v != peerHeld, ContinuousClock.now - lastRecorded >= .seconds(1) {
                        peerHeld = v
                        lastRecorded = .now
                        try await Self.offload { try replica.recordAcknowledged(p, vector: v) }
                    }
                case .fail(let e):
                    return try await finish(e)
                case .peerFailed(_, let reason):
                    report.error = "the peer ended the session: \(PeerText.oneLine(reason))"
                    await transport.close()
                    streamer?.cancel()
                    await out.drain()
                    throw SyncError(.refused, report.error!)
                }
            }
            if machine.peerDoneSeen && machine.peerAckSeen && ackSent, let s = streamer {
                report.sent = try await s.value
                report.newConflicts = max(0, try await Self.offload { try replica.openConflictCount() } - conflictsBefore)
                return try await finish(nil)
            }
        }
    }

    /// The batch of items `from` ..< `count` that one short read takes (at most the batch count or
    /// about `batchBytes`; an event is at most 12 MiB, so a batch stays under the frame limit):
    /// `read(i)` the i-th (nil: gone since, skipped). Returns it and the index after it.
    static func nextBatch(_ store: ReplicaStore, from: Int, of count: Int, batchBytes: Int,
                          _ read: (Int, ReplicaStore.Transaction) throws -> SignedEvent?) throws -> ([SignedEvent], Int) {
        try store.read { db in
            var batch: [SignedEvent] = [], bytes = 0, i = from
            while i < count, batch.count < WireLimits.maxBatchEvents, bytes < batchBytes {
                defer { i += 1 }
                guard let e = try read(i, db) else { continue }
                batch.append(e)
                bytes += e.envelope.bytes.count + (e.payload?.count ?? 0) + 8
            }
            return (batch, i)
        }
    }

    /// Streams the events above `vector` in causal order, then `done`. SQLite is read on a thread
    /// of its own (the positions from one snapshot, each batch in a short read); at most two batches
    /// wait for the network, and a peer that takes nothing for `stallTimeout` ends the session.
    static func stream(_ replica: Replica, above vector: VersionVector, enabled: Bool, headDifferences: AsyncStream<[EventID]>,
                       batchBytes: Int, stallTimeout: Duration, out: Outbound) async throws -> Int {
        guard enabled else {
            try await out.send(.done(sent: 0, vector: try await offload { try replica.vector }))
            return 0
        }
        let (batches, continuation) = AsyncThrowingStream<[SignedEvent], Error>.makeStream()
        // Created at 0 and raised to 2: libdispatch traps when a semaphore is freed below its
        // initial value, which happens when the session ends with batches still queued.
        let slots = DispatchSemaphore(value: 0)
        slots.signal(); slots.signal()
        let cancelled = Locked(false)
        // Its own thread, not the shared SQLite queue: the producer blocks while two batches wait
        // for the network, and a blocked worker there would delay everyone else's SQLite work.
        // It holds no read transaction while it waits: it takes the positions of what the peer
        // lacks (and the fork evidence's ids) from one snapshot, then reads each batch in a short
        // transaction of its own. (Holding one snapshot for the whole stream, a peer that stopped
        // reading pinned one of the pool's five readers: five such peers stalled every session and
        // read, and the WAL could not be checkpointed behind them.)
        let producer = Thread {
            do {
                let store = replica.store
                let (positions, evidence) = try store.read { db in (try store.positions(above: vector, db), try store.forkEvidenceIDs(db)) }
                /// Reads each next batch of `count` items, `read(i)` the i-th, and hands it over;
                /// false when cancelled.
                func send(_ count: Int, _ read: (Int, ReplicaStore.Transaction) throws -> SignedEvent?) throws -> Bool {
                    var next = 0
                    while next < count {
                        let batch: [SignedEvent]
                        (batch, next) = try nextBatch(store, from: next, of: count, batchBytes: batchBytes, read)
                        if batch.isEmpty { continue }
                        slots.wait()
                        if cancelled.value { return false }
                        continuation.yield(batch)
                    }
                    return true
                }
                // The events, then the fork evidence (a peer holding one branch, or none, freezes the
                // feed too), cut the same way: a few large forked events in one batch made a frame
                // over the limit, in every session.
                if try send(positions.count, { i, db in try store.event(atPosition: positions[i], db).map { SignedEvent(envelope: $0.envelope, payload: $0.payload) } }) {
                    _ = try send(evidence.count, { i, db in try store.forkEvidence(id: evidence[i], db) })
                }
                continuation.finish()
            } catch { continuation.finish(throwing: error) }
        }
        producer.name = "gloss.sync.stream"
        producer.stackSize = 8 << 20
        producer.start()
        var sent = 0
        // Whatever ends this loop (done, error, cancellation), release the producer thread.
        defer { cancelled.value = true; slots.signal(); slots.signal() }
        for try await batch in batches {
            try Task.checkCancellation()
            try await out.waitForRoom(within: stallTimeout)
            try await out.send(.batch(batch))
            sent += batch.count
            slots.signal()
        }
        // Then this side's events where the peer's heads name other ids (§Heads): up to
        // `headsDepth` per such feed, read in short transactions as the peer's heads come.
        for await ids in headDifferences {
            var next = 0
            while next < ids.count {
                try Task.checkCancellation()
                let from = next
                let (batch, end) = try await offload {
                    try nextBatch(replica.store, from: from, of: ids.count, batchBytes: batchBytes) { i, db in try replica.store.heldOrEvidence(id: ids[i], db) }
                }
                next = end
                guard !batch.isEmpty else { continue }
                try await out.waitForRoom(within: stallTimeout)
                try await out.send(.batch(batch))
                sent += batch.count
            }
        }
        try Task.checkCancellation()
        try await out.send(.done(sent: UInt64(sent), vector: try await offload { try replica.vector }))
        return sent
    }
}

/// When a server rebuilds the projections its sessions leave stale (Protocol/03-store.md §Deferred
/// rebuilds): at most once per `interval`. A session that ends sooner after the last rebuild leaves
/// it to one timer at the interval's end, which also takes in every session ending meanwhile. Any
/// fresh key can fork itself, so one session of a handshake and two events would otherwise cost the
/// server a full rebuild (7 s at 100,000 events); paced, a stream of such sessions costs at most one
/// rebuild per interval, and the projections lag the log by at most an interval (plus a rebuild)
/// while it lasts. Events applied meanwhile are stored, acknowledged and served; only what the
/// projections show waits.
public final class RebuildPacer: Sendable {
    public let interval: Duration
    private let state = Locked<(last: ContinuousClock.Instant?, timer: Task<Void, Never>?)>((nil, nil))

    public init(interval: Duration) { self.interval = interval }

    /// A session ended: rebuild now when the projections are stale and the last rebuild is an
    /// interval old (or none ran), else once when the interval ends.
    func sessionEnded(_ replica: Replica) async {
        guard (try? await SyncDriver.offload({ try replica.store.projectionsAreStale() })) == true else { return }
        let now = ContinuousClock.now
        let rebuildNow: Bool = state.withValue { s in
            if s.timer != nil { return false }
            if let last = s.last, now - last < interval {
                let at = last + interval
                s.timer = Task { [self] in
                    try? await Task.sleep(until: at, clock: .continuous)
                    guard !Task.isCancelled else { return }
                    state.withValue { $0.timer = nil; $0.last = .now }
                    _ = try? await SyncDriver.offload { try replica.store.rebuildIfStale() }
                }
                return false
            }
            s.last = now
            return true
        }
        if rebuildNow { _ = try? await SyncDriver.offload { try replica.store.rebuildIfStale() } }
    }

    /// The server stops: no timer runs later, and what is stale is rebuilt now (a mark left by a
    /// failure here is rebuilt at the next open).
    func stop(_ replica: Replica) async {
        let timer = state.withValue { s -> Task<Void, Never>? in defer { s.timer = nil }; return s.timer }
        timer?.cancel()
        _ = try? await SyncDriver.offload { try replica.store.rebuildIfStale() }
    }
}

/// A value shared between tasks and threads, read and written under a lock.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `v` is only touched under `lock`.
    private let lock = NSLock()
    private var v: Value
    public init(_ value: Value) { v = value }
    public var value: Value {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
    /// Reads and changes the value in one step.
    public func withValue<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&v) } }
}
