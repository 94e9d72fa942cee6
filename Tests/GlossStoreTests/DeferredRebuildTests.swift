import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossSync
import GlossTestSupport
import Testing

/// A session rebuilds the projections at most once, however many of its windows need a rebuild
/// (Protocol/03-store.md §Deferred rebuilds). Any fresh key can fork itself: a seq 1 in one window,
/// another seq 1 in the next. Each such window used to drop and replay every projection before it
/// committed, so a peer sending one small forking batch after another (or a bundle of such
/// windows) cost one full rebuild each: 7 s per batch at 100,000 events.
@Suite struct DeferredRebuildTests {
    let tmp = TempDir("gloss-deferred")
    let clock = MockClock(start: 1_624_800_000_000, step: 1)
    static let on = String(repeating: "a", count: 64)

    /// `k` fresh keys, each signing a seq 1 and then a different seq 1 (a fork of an event already
    /// applied): A1, A2, B1, A3, B2, …, Ak, B(k−1), Bk. In windows of two, every window after the
    /// first holds one fork of an event applied in the window before.
    static func selfForks(_ k: Int, time: UInt64) throws -> [SignedEvent] {
        let keys = (0..<k).map { _ in ReplicaKey() }
        let a = try keys.enumerated().map { i, key in
            try TrustBoundaryTests.signed(key, seq: 1, prev: .zero, time: time + UInt64(i), NoteAdded(on: on, body: "branch a \(i)"))
        }
        let b = try keys.enumerated().map { i, key in
            try TrustBoundaryTests.signed(key, seq: 1, prev: .zero, time: time + UInt64(i), NoteAdded(on: on, body: "branch b \(i)"))
        }
        var out = [a[0]]
        for i in 1..<k { out += [a[i], b[i - 1]] }
        return out + [b[k - 1]]
    }

    /// `n` notes of one honest feed (what every rebuild replays).
    static func honest(_ n: Int) throws -> [SignedEvent] {
        var t = HybridTime(milliseconds: 1_624_700_000_000).raw
        return try ScalingTests.extend([], ReplicaKey(), by: n, time: &t) { i in NoteAdded(on: on, body: "honest \(i)") }
    }

    func replica(_ name: String, holding events: [SignedEvent]) throws -> Replica {
        let r = try Replica.create(in: tmp.sub(name), analyst: "d", key: ReplicaKey(), clock: clock.function)
        #expect(try r.store.applyRemote(events, now: clock.read()).applied == events.count)
        return r
    }

    static func stale(_ r: Replica) throws -> Bool {
        try r.store.read { try Bool.fetchOne($0, sql: "SELECT 1 FROM meta WHERE key = 'projections_stale'") } ?? false
    }

    static func notes(_ r: Replica, body: String) throws -> Int {
        try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM notes WHERE body = ?", arguments: [body]) } ?? 0
    }

    /// The projections after everything: as a replay of the log, the maintained digest as the recomputed one.
    static func expectReplayed(_ r: Replica, like reference: Replica) throws {
        #expect(try !stale(r))
        let digest = try r.digest()
        #expect(digest == (try r.digest(recompute: true)))
        #expect(digest == (try reference.digest()))
        #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM notes WHERE body LIKE 'branch%'") } == 0)
    }

    @Test func aStreamOfForkingWindowsRebuildsOnce() throws {
        defer { tmp.remove() }
        var costs: [Int] = []
        for k in [2, 8] {
            let honest = try Self.honest(1500)
            let r = try replica("stream-\(k)", holding: honest)
            let forks = try Self.selfForks(k, time: HybridTime(milliseconds: 1_624_750_000_000).raw)
            var windows = 0
            costs.append(try ScalingTests.vmSteps(r.store) {
                var it = forks.makeIterator()
                try r.store.applyStream(maxEvents: 2, maxBytes: 1 << 30, now: clock.function, next: { it.next() }) { s, _ in
                    windows += 1
                    #expect(s.rejected == 0)
                }
            })
            #expect(windows == k)
            // The reference applies the same windows one by one, each rebuilding before it commits.
            let reference = try replica("reference-\(k)", holding: honest)
            for w in stride(from: 0, to: forks.count, by: 2) {
                _ = try reference.store.applyRemote(Array(forks[w..<min(w + 2, forks.count)]), now: clock.read())
            }
            #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM feeds WHERE state = 'forked'") } == k)
            #expect(try Self.notes(r, body: "honest 1500") == 1)
            try Self.expectReplayed(r, like: reference)
        }
        print("a stream of forking windows: \(costs[0])k VM steps with 2 forks, \(costs[1])k with 8")
        // One rebuild (replaying 1,500 notes) dominates; one rebuild per window was ~4× for 4× the forks.
        #expect(costs[1] * 10 < costs[0] * 16, "forking windows cost \(costs) thousand VM steps")
    }

    /// A session killed after a window that deferred its rebuild: the mark is in the database, and
    /// the next open rebuilds. Meanwhile the projections show the state before that window's fork,
    /// and windows applied while they are stale store their events without projecting them.
    @Test func aStaleMarkLeftByAKilledSessionIsRebuiltAtTheNextOpen() throws {
        defer { tmp.remove() }
        let honest = try Self.honest(50)
        let r = try replica("killed", holding: honest)
        let reference = try replica("killed-reference", holding: honest)
        let forks = try Self.selfForks(1, time: HybridTime(milliseconds: 1_624_750_000_000).raw)
        var lastTime = HybridTime(milliseconds: 1_624_760_000_000).raw
        let after = try ScalingTests.extend([], ReplicaKey(), by: 1, time: &lastTime) { _ in NoteAdded(on: Self.on, body: "after the fork") }
        #expect(try r.store.applyRemote([forks[0]], now: clock.read(), deferRebuild: true).applied == 1)
        #expect(try !Self.stale(r) && Self.notes(r, body: "branch a 0") == 1)
        #expect(try r.store.applyRemote([forks[1]], now: clock.read(), deferRebuild: true).forks == 1)
        #expect(try Self.stale(r) && Self.notes(r, body: "branch a 0") == 1)
        #expect(try r.store.applyRemote(after, now: clock.read(), deferRebuild: true).applied == 1)
        #expect(try Self.notes(r, body: "after the fork") == 0, "a window applied while stale projects nothing")
        for w in [[forks[0]], [forks[1]], after] { _ = try reference.store.applyRemote(w, now: clock.read()) }
        try r.close()
        let reopened = try Replica.open(at: tmp.sub("killed"), clock: clock.function)
        #expect(try Self.notes(reopened, body: "after the fork") == 1)
        try Self.expectReplayed(reopened, like: reference)
    }

    /// A local write while a session (here or in another process) has the projections stale
    /// rebuilds them first: it never lands on rows the log no longer backs.
    @Test func aLocalWriteOnStaleProjectionsRebuildsThemFirst() throws {
        defer { tmp.remove() }
        let r = try replica("local", holding: try Self.honest(20))
        let article = try r.ingest(bytes: Array("date 2021-06-26 BAKU – a text.\n".utf8), filename: "t.txt").id
        let forks = try Self.selfForks(1, time: HybridTime(milliseconds: 1_624_750_000_000).raw)
        _ = try r.store.applyRemote([forks[0]], now: clock.read(), deferRebuild: true)
        _ = try r.store.applyRemote([forks[1]], now: clock.read(), deferRebuild: true)
        #expect(try Self.stale(r) && Self.notes(r, body: "branch a 0") == 1)
        _ = try r.addNote(on: article, body: "written while stale")
        #expect(try !Self.stale(r))
        #expect(try Self.notes(r, body: "branch a 0") == 0 && Self.notes(r, body: "written while stale") == 1)
        #expect(try r.digest() == (try r.digest(recompute: true)))
        // Nothing left to do at the session's end.
        #expect(try !r.store.rebuildIfStale())
    }
}

extension SyncTests {
    /// `hostileSession` on a dispatch thread: its blocking socket must not hold one of the few
    /// cooperative threads the in-process server runs on.
    static func hostileSession(port: Int, _ batches: [[SignedEvent]]) async throws -> Bool {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { c.resume(with: Result { try blockingHostileSession(port: port, batches) }) }
        }
    }

    /// One hostile session: a handshake, then `batches` (each a batch message), `done` and `ack`;
    /// returns once the server closed the session.
    static func blockingHostileSession(port: Int, _ batches: [[SignedEvent]]) throws -> Bool {
        let p = try HostilePeer(port: port)
        try p.handshake()
        var sent = 0
        for records in batches {
            var b = ByteWriter(); b.u8(3); b.u32(UInt32(records.count))
            for e in records { b.raw(RawRecord(envelope: e.envelope.bytes, payload: e.payload!).bytes) }
            try p.sendSealed(b.bytes)
            sent += records.count
        }
        try p.sendSealed(WireMessage.done(sent: UInt64(sent), vector: VersionVector()).encoded)
        try p.sendSealed(WireMessage.ack(VersionVector()).encoded)
        return p.waitForClose(limit: 60)
    }

    /// Waits (up to 30 s) until the server's projections are no longer stale.
    static func settled(_ server: Replica) async throws -> Bool {
        for _ in 0..<300 {
            if try !server.store.projectionsAreStale() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// A peer sending one small forking batch after another costs the server one rebuild for the
    /// session, however many batches fork.
    @Test func aPeerSendingForkingBatchesCostsOneRebuildPerSession() async throws {
        let tmp = TempDir("gloss-deferred-sync")
        defer { tmp.remove() }
        let clock = MockClock(start: 1_624_800_000_000, step: 1)
        var costs: [Int] = []
        for k in [2, 8] {
            let server = try Replica.create(in: tmp.sub("server-\(k)"), analyst: "s", key: ReplicaKey(), clock: clock.function)
            _ = try server.store.applyRemote(try DeferredRebuildTests.honest(1500), now: clock.read())
            let forks = try DeferredRebuildTests.selfForks(k, time: HybridTime(milliseconds: 1_624_750_000_000).raw)
            let batches = stride(from: 0, to: forks.count, by: 2).map { Array(forks[$0..<min($0 + 2, forks.count)]) }
            costs.append(try await withServer(server, rebuildInterval: .zero) { port in
                try await ScalingTests.vmStepsAsync(server.store) { () async throws in
                    #expect(try await Self.hostileSession(port: port, batches), "the server ends the session after the peer's done and ack")
                    #expect(try await Self.settled(server))
                }
            })
            #expect(try server.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM feeds WHERE state = 'forked'") } == k)
            #expect(try server.digest() == (try server.digest(recompute: true)))
            #expect(try DeferredRebuildTests.notes(server, body: "branch a 0") == 0)
        }
        print("a peer's forking batches: \(costs[0])k VM steps with 2 forks, \(costs[1])k with 8")
        #expect(costs[1] * 10 < costs[0] * 16, "forking batches cost \(costs) thousand VM steps")
    }

    /// Sessions that each fork a fresh key (a handshake and two events each) cost a server at most
    /// one rebuild per `--rebuild-interval`: the first at once, the rest in one rebuild when the
    /// interval ends; the projections catch up then.
    @Test func forkingSessionsCostAServerOneRebuildPerInterval() async throws {
        let tmp = TempDir("gloss-paced-sync")
        defer { tmp.remove() }
        let clock = MockClock(start: 1_624_800_000_000, step: 1)
        var costs: [Int] = []
        for interval in [Duration.zero, .seconds(4)] {
            let server = try Replica.create(in: tmp.sub("server-\(interval)"), analyst: "s", key: ReplicaKey(), clock: clock.function)
            _ = try server.store.applyRemote(try DeferredRebuildTests.honest(1500), now: clock.read())
            let forks = try DeferredRebuildTests.selfForks(4, time: HybridTime(milliseconds: 1_624_750_000_000).raw)
            // Session i: key i's seq 1, then its other seq 1 (A1 B1 | A2 B2 | …: selfForks interleaves them).
            let a = [forks[0]] + stride(from: 1, to: forks.count - 1, by: 2).map { forks[$0] }
            let b = stride(from: 2, to: forks.count, by: 2).map { forks[$0] } + [forks[forks.count - 1]]
            costs.append(try await withServer(server, rebuildInterval: interval) { port in
                let steps = try await ScalingTests.vmStepsAsync(server.store) { () async throws in
                    for i in 0..<4 {
                        #expect(try await Self.hostileSession(port: port, [[a[i]], [b[i]]]))
                        if interval == .zero { #expect(try await Self.settled(server)) }
                    }
                }
                // Paced: the projections catch up when the interval ends.
                #expect(try await Self.settled(server))
                return steps
            })
            #expect(try server.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM feeds WHERE state = 'forked'") } == 4)
            #expect(try server.digest() == (try server.digest(recompute: true)))
            #expect(try server.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM notes WHERE body LIKE 'branch%'") } == 0)
        }
        print("four forking sessions: \(costs[0])k VM steps rebuilding at each session's end, \(costs[1])k paced")
        #expect(costs[1] * 2 < costs[0], "forking sessions cost \(costs) thousand VM steps")
    }
}
