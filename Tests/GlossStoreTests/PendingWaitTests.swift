import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
@testable import GlossStore
import GlossTestSupport
import Testing

/// Each waiting event records what it waits for (`pending.wait_*`, Protocol/03-store.md §Pending),
/// and an apply reads only the waiting events its changes woke. Every window used to retry every
/// waiting event whose own predecessor was held: 100,000 events of throwaway keys naming a
/// dependency that never comes (within the pending bounds) cost each later window 100,000 applies,
/// for the 14 days they may wait.
@Suite struct PendingWaitTests {
    let tmp = TempDir("gloss-waits")
    let clock = MockClock(start: 1_624_800_000_000, step: 1)
    static let on = String(repeating: "a", count: 64)
    static let t0 = HybridTime(milliseconds: 1_624_700_000_000).raw

    /// A seq 1 of a fresh key whose deps name `missing` at seq 1.
    static func waiting(on missing: ReplicaID, time: UInt64) throws -> SignedEvent {
        try TrustBoundaryTests.signed(ReplicaKey(), seq: 1, prev: .zero, time: time, deps: [(missing, 1)], NoteAdded(on: on, body: "waits"))
    }

    static func waits(_ r: Replica) throws -> [Row] {
        try r.store.read { try Row.fetchAll($0, sql: "SELECT replica, seq, wait_replica, wait_seq, wait_until FROM pending ORDER BY replica, seq") }
    }

    /// The drain's invariant, checked from the tables alone: after an apply, no waiting event is
    /// held already, and none waits for what the replica now holds (a wait that ended and was not
    /// woken would leave an event stuck until it expires). `now`: the clock of that apply.
    static func endedWaits(_ store: ReplicaStore, now: UInt64) throws -> [String] {
        try store.read { db in
            // An evidence redaction waiting for an event or a feed's seq held here (not judged again).
            try String.fetchAll(db, sql: """
                SELECT 'evidence ' || hex(substr(k.id, 1, 4)) || ' waits for an event held here' FROM forks k
                WHERE k.wait_id IS NOT NULL AND (EXISTS (SELECT 1 FROM events e WHERE e.id = k.wait_id) OR EXISTS (SELECT 1 FROM forks o WHERE o.id = k.wait_id))
                UNION ALL
                SELECT 'evidence ' || hex(substr(k.id, 1, 4)) || ' waits for seq ' || k.wait_seq || ', held or beyond a fork' FROM forks k JOIN feeds f ON f.replica = k.wait_replica
                WHERE f.head_seq >= k.wait_seq OR k.wait_seq >= f.fork_seq
                """) + Row.fetchAll(db, sql: """
                SELECT hex(p.replica) AS r, hex(p.wait_replica) AS wr, p.seq, p.wait_replica, p.wait_seq, p.wait_until,
                       coalesce(f.head_seq, 0) AS head, w.head_seq AS wait_head, w.fork_seq AS wait_fork, p.wait_id,
                       EXISTS (SELECT 1 FROM events e WHERE e.id = p.wait_id) OR EXISTS (SELECT 1 FROM forks k WHERE k.id = p.wait_id) AS wait_held
                FROM pending p LEFT JOIN feeds f ON f.replica = p.replica LEFT JOIN feeds w ON w.replica = p.wait_replica
                """).compactMap { row -> String? in
                let what = "\(String((row["r"] as String).prefix(8))):\(row["seq"] as Int64)"
                // (An event at a seq its feed holds through another event may wait for a dependency:
                // it is judged in that event's place once its causal past is held.)
                if (row["seq"] as Int64) <= (row["head"] as Int64) && (row["wr"] as String?) == (row["r"] as String) {
                    return "\(what) waits for its own feed although its feed holds that seq"
                }
                if let seq = row["wait_seq"] as Int64? {
                    let head = (row["wait_head"] as Int64?) ?? 0
                    if head >= seq { return "\(what) waits for seq \(seq), held (head \(head))" }
                    if let fork = row["wait_fork"] as Int64?, seq >= fork { return "\(what) waits for seq \(seq), beyond a fork at \(fork)" }
                    return nil
                }
                if row["wait_id"] as Data? != nil {
                    return (row["wait_held"] as Bool) ? "\(what) waits for an event held here" : nil
                }
                guard let until = row["wait_until"] as Int64? else { return "\(what) records no wait" }
                return until <= Int64(clamping: now) ? "\(what) waits for the clock at \(until), passed (now \(now))" : nil
            }
        }
    }

    @Test func eventsWaitingForWhatNeverComesCostALaterWindowNothing() throws {
        defer { tmp.remove() }
        var costs: [Int] = []
        for n in [200, 3000] {
            let r = try Replica.create(in: tmp.sub("never-\(n)"), analyst: "d", key: ReplicaKey(), clock: clock.function)
            let missing = ReplicaKey()
            let waiting = try (0..<n).map { i in try Self.waiting(on: missing.replicaID, time: Self.t0 + 1000 + UInt64(i)) }
            #expect(try r.store.applyRemote(waiting, now: clock.read()).pending == n)
            #expect(try Self.waits(r).allSatisfy { ($0["wait_replica"] as Data) == Data(missing.replicaID.raw.bytes) && ($0["wait_seq"] as Int64) == 1 })
            let unrelated = try ScalingTests.history(n: 1, pingPong: false).first
            costs.append(try ScalingTests.vmSteps(r.store) { _ = try r.store.applyRemote([unrelated], now: clock.read()) })
            // What they wait for comes: every one applies, in the same window.
            let first = try TrustBoundaryTests.signed(missing, seq: 1, prev: .zero, time: Self.t0, NoteAdded(on: Self.on, body: "at last"))
            let s = try r.store.applyRemote([first], now: clock.read())
            #expect(s.applied == n + 1 && s.appliedFromPending == n, "\(s)")
            #expect(try Self.waits(r).isEmpty)
        }
        print("a window beside events waiting for what never comes: \(costs[0])k VM steps with 200, \(costs[1])k with 3,000")
        #expect(costs[1] <= costs[0] + 2, "a window cost \(costs) thousand VM steps")
    }

    /// A waiting event whose seq its feed reaches through another event (the other branch of a
    /// fork) is judged as it would be in that event's place: it waits for its dependency in either
    /// order (it was frozen at once when it came second, as evidence, whatever its causal past made
    /// of it: an audit, 2026-12-06), and once the dependency is held the feed freezes, in either order.
    @Test func aWaitingEventOvertakenByItsFeedIsJudgedInItsPlace() throws {
        defer { tmp.remove() }
        let key = ReplicaKey(), missing = ReplicaKey()
        let e1 = try TrustBoundaryTests.signed(key, seq: 1, prev: .zero, time: Self.t0 + 1000, NoteAdded(on: Self.on, body: "one"))
        let a2 = try TrustBoundaryTests.signed(key, seq: 2, prev: e1.id, time: Self.t0 + 2000, NoteAdded(on: Self.on, body: "a"))
        let b2 = try TrustBoundaryTests.signed(key, seq: 2, prev: e1.id, time: Self.t0 + 3000, deps: [(missing.replicaID, 1)], NoteAdded(on: Self.on, body: "b"))
        let m1 = try TrustBoundaryTests.signed(missing, seq: 1, prev: .zero, time: Self.t0 + 500, NoteAdded(on: Self.on, body: "m"))
        var states: [String] = []
        for (name, windows) in [("b first", [[e1, b2], [a2]]), ("a first", [[e1, a2], [b2]])] {
            let r = try Replica.create(in: tmp.sub(name), analyst: "d", key: ReplicaKey(), clock: clock.function)
            func state() throws -> String {
                try r.store.read { try String.fetchOne($0, sql: "SELECT state || ' ' || coalesce(fork_seq, '-') FROM feeds WHERE replica = ?", arguments: [Data(key.replicaID.raw.bytes)]) } ?? "none"
            }
            for w in windows {
                let now = clock.read()
                _ = try r.store.applyRemote(w, now: now)
                #expect(try Self.endedWaits(r.store, now: now).isEmpty, "\(name)")
            }
            #expect(try Self.waits(r).count == 1 && state() == "ok -", "\(name): b2 waits for its dependency, nothing is frozen")
            _ = try r.store.applyRemote([m1], now: clock.read())
            #expect(try Self.waits(r).isEmpty, "\(name): nothing waits")
            states.append(try state())
            #expect(states.last == "forked 2", "\(name): \(states)")
        }
    }

    /// A deps entry that lies: 2^64 − 1 (past the protocol's largest seq) does not decode;
    /// 2^63 − 1 (the largest) waits with that seq stored as it is, is woken by nothing a later
    /// window does, and costs that window nothing; a duplicate of it stays one row.
    @Test func aDepsEntryOfHugeSeqsIsRefusedOrWaitsForNothing() throws {
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.sub("huge"), analyst: "d", key: ReplicaKey(), clock: clock.function)
        let missing = ReplicaKey()
        // (2^64 − 1 does not even decode: no such event reaches the apply path to wait.)
        #expect(throws: (any Error).self) {
            try TrustBoundaryTests.signed(ReplicaKey(), seq: 1, prev: .zero, time: Self.t0 + 1000, deps: [(missing.replicaID, UInt64.max)],
                                          NoteAdded(on: Self.on, body: "2^64 - 1"))
        }
        let far = try TrustBoundaryTests.signed(ReplicaKey(), seq: 1, prev: .zero, time: Self.t0 + 2000, deps: [(missing.replicaID, ProtocolLimits.maxSeq)],
                                                NoteAdded(on: Self.on, body: "2^63 - 1"))
        #expect(try r.store.applyRemote([far, far], now: clock.read()).applied == 0)
        let rows = try Self.waits(r)
        #expect(rows.count == 1 && (rows[0]["wait_seq"] as Int64) == Int64.max)
        // The feed it waits for starts: nothing wakes, and a window costs what it did without it.
        let first = try TrustBoundaryTests.signed(missing, seq: 1, prev: .zero, time: Self.t0, NoteAdded(on: Self.on, body: "one"))
        var applied = 0
        let steps = try ScalingTests.vmSteps(r.store) { applied = try r.store.applyRemote([first], now: clock.read()).applied }
        #expect(applied == 1)
        #expect(try Self.waits(r).count == 1 && Self.endedWaits(r.store, now: clock.read()).isEmpty)
        #expect(steps <= 3, "\(steps)k VM steps")
    }

    /// An event over an hour ahead waits for the clock: nothing reads it until its time comes.
    @Test func anEventFromTheFutureWaitsForTheClock() throws {
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.sub("clock"), analyst: "d", key: ReplicaKey(), clock: clock.function)
        let now: UInt64 = 1_624_800_000_000
        let ahead = now + ProtocolLimits.maxClockAheadMilliseconds + 60_000
        let future = try TrustBoundaryTests.signed(ReplicaKey(), seq: 1, prev: .zero, time: HybridTime(milliseconds: ahead).raw,
                                                   NoteAdded(on: Self.on, body: "from the future"))
        #expect(try r.store.applyRemote([future], now: now).pending == 1)
        let row = try #require(try Self.waits(r).first)
        #expect(row["wait_replica"] as Data? == nil && row["wait_until"] as Int64 == Int64(ahead - ProtocolLimits.maxClockAheadMilliseconds))
        #expect(try r.store.drainPending(now: now + 59_000).applied == 0)
        #expect(try r.store.drainPending(now: now + 60_000).applied == 1)
    }

    /// A replica whose events waited before `v6-pending-waits`: each waits for its own predecessor,
    /// or (when that is held) is retried once at the next apply and records its wait then.
    @Test func eventsParkedBeforeTheMigrationStillApply() throws {
        defer { tmp.remove() }
        let path = tmp.sub("legacy").appendingPathComponent("replica.db").path
        try FileManager.default.createDirectory(at: tmp.sub("legacy"), withIntermediateDirectories: true)
        // The store as it was before the migration, with waiting rows written as it wrote them.
        let (first, rest) = try ScalingTests.history(n: 6, pingPong: true)
        let missing = ReplicaKey()
        let stuck = try Self.waiting(on: missing.replicaID, time: Self.t0 + 99_000)
        do {
            let queue = try DatabaseQueue(path: path)
            try ReplicaStore.migrator.migrate(queue, upTo: "v5-indexes")
            try queue.write { db in
                for e in rest + [stuck] {
                    try db.execute(sql: "INSERT INTO pending(id, replica, seq, envelope, payload, reason, received_at) VALUES (?, ?, ?, ?, ?, 'waiting', ?)",
                                   arguments: [Data(e.id.raw.bytes), Data(e.envelope.replica.raw.bytes), Int64(e.envelope.seq),
                                               Data(e.envelope.bytes), e.payload.map { Data($0) }, Int64(clock.read())])
                }
            }
        }
        let store = try ReplicaStore(path: path, projector: GlossProjector())
        defer { try? store.close() }
        let legacy = try store.read { try Row.fetchAll($0, sql: "SELECT seq, wait_replica, wait_seq, wait_until FROM pending") }
        // seq 1 events (their predecessor "held") are retried once; the others wait for their predecessor.
        #expect(legacy.filter { ($0["seq"] as Int64) == 1 }.allSatisfy { ($0["wait_until"] as Int64?) == 0 })
        #expect(legacy.filter { ($0["seq"] as Int64) > 1 }.allSatisfy { ($0["wait_seq"] as Int64?) == ($0["seq"] as Int64) - 1 })
        let s = try store.applyRemote([first], now: clock.read())
        #expect(s.applied == rest.count + 1 && s.appliedFromPending == rest.count, "\(s)")
        let left = try store.read { try Row.fetchAll($0, sql: "SELECT wait_replica, wait_seq, wait_until FROM pending") }
        #expect(left.count == 1 && (left[0]["wait_replica"] as Data) == Data(missing.replicaID.raw.bytes) && (left[0]["wait_seq"] as Int64) == 1)
    }
}
