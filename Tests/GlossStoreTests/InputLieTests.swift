import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// The input paths this round's changes touched, fed a lie: a duplicate and a damaged copy of fork
/// evidence, a peer vector of u64 maxima and unknown replicas, a local event over the payload limit.
/// Nothing is kept or believed, nothing traps.
@Suite struct InputLieTests {
    let tmp = TempDir("gloss-lies")
    let clock = MockClock(start: 1_624_800_000_000, step: 1)
    func replica(_ name: String) throws -> Replica { try Replica.create(in: tmp.sub(name), analyst: name, key: ReplicaKey(), clock: clock.function) }

    func forks(_ r: Replica) throws -> [String] {
        try r.store.read { db in try Row.fetchAll(db, sql: "SELECT id, other_id FROM forks ORDER BY id").map { "\(Hex.encode($0[0] as Data)) \(Hex.encode($0[1] as Data))" } }
    }

    /// Any number of different authenticated events that break their feed's rules at one seq (found
    /// by an audit, 2026-12-05: a reader's denied events were all kept, 8 MiB each): the 8 smallest
    /// ids are kept, in any arrival order, and the feed moves on once a valid event for that seq comes.
    @Test func quarantineKeepsAtMostEightEventsPerSeqInAnyOrder() throws {
        defer { tmp.remove() }
        let key = ReplicaKey()
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        let first = try TrustBoundaryTests.signed(key, seq: 1, prev: .zero, time: t + 10_000,
                                                  NoteAdded(on: String(repeating: "a", count: 64), body: "first"))
        // Seq 2 at a time before seq 1's: each is quarantined ("not later than its feed predecessor's").
        let bad = try (0..<50).map { i in
            try TrustBoundaryTests.signed(key, seq: 2, prev: first.id, time: t + UInt64(i),
                                          NoteAdded(on: String(repeating: "a", count: 64), body: String(repeating: "x", count: 10_000) + "\(i)"))
        }
        let kept = Set(bad.map(\.id.raw.bytes).sorted { $0.lexicographicallyPrecedes($1) }.prefix(ReplicaStore.evidencePerSeq).map { Data($0) })
        var rng = SplitMix64(seed: 4242)
        for order in 0..<3 {
            let r = try replica("quarantine-\(order)")
            _ = try r.store.applyRemote([first], now: clock.read())
            var shuffled = bad
            shuffled.shuffle(using: &rng)
            for w in stride(from: 0, to: shuffled.count, by: 7) { _ = try r.store.applyRemote(Array(shuffled[w..<min(w + 7, shuffled.count)]), now: clock.read()) }
            let held = try r.store.read { try Data.fetchAll($0, sql: "SELECT id FROM quarantine") }
            #expect(Set(held) == kept, "order \(order): \(held.count) kept")
            let good = try TrustBoundaryTests.signed(key, seq: 2, prev: first.id, time: t + 20_000, NoteEdited(note: first.id.hex, body: "second"))
            #expect(try r.store.applyRemote([good], now: clock.read()).applied == 1)
        }
    }

    /// Thousands of different events at one seq waiting in pending (found by an audit, 2026-12-05:
    /// each wake of the feed re-checked all of them, seconds of CPU per event with the write lock
    /// held): at most 8 wait, the others are refused; once the predecessor comes one applies and the
    /// rest are fork evidence.
    @Test func atMostEightDifferentEventsAtOneSeqWaitInPending() throws {
        defer { tmp.remove() }
        let key = ReplicaKey()
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        let first = try TrustBoundaryTests.signed(key, seq: 1, prev: .zero, time: t + 1000, NoteAdded(on: String(repeating: "a", count: 64), body: "first"))
        let copies = try (0..<40).map { i in
            try TrustBoundaryTests.signed(key, seq: 2, prev: first.id, time: t + 2000 + UInt64(i), NoteEdited(note: first.id.hex, body: "copy \(i)"))
        }
        let r = try replica("pending-seq")
        let s = try r.store.applyRemote(copies, now: clock.read())
        #expect(s.pending == ReplicaStore.evidencePerSeq && s.rejected == copies.count - ReplicaStore.evidencePerSeq, "\(s.pending) pending, \(s.rejected) refused")
        #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pending") } == ReplicaStore.evidencePerSeq)
        let after = try r.store.applyRemote([first], now: clock.read())
        #expect(after.applied + after.appliedFromPending >= 2 && after.forks >= 1, "\(after)")
        #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pending") } == 0)
    }

    /// `gloss sync HOST:PORT` and `serve --listen`: an address is HOST:PORT or [IPv6]:PORT exactly.
    /// Keys are free, so feeds could grow without bound (found by an audit, 2026-12-05): past about
    /// 419,000 feeds a replica's hello no longer fits one 16 MiB frame and it could never sync again.
    /// Events of new keys past the feed bound are refused (counted, not stored); held keys go on.
    @Test func eventsOfNewKeysPastTheFeedBoundAreRefused() throws {
        defer { tmp.remove() }
        let r = try replica("feeds")
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        let keys = (0..<4).map { _ in ReplicaKey() }
        let firsts = try keys.enumerated().map { i, k in
            try TrustBoundaryTests.signed(k, seq: 1, prev: .zero, time: t + UInt64(i), NoteAdded(on: String(repeating: "a", count: 64), body: "k\(i)"))
        }
        let held = try r.vector.count
        let limits = PendingLimits(feeds: held + 2)
        let summary = try r.store.applyRemote(firsts, now: clock.read(), limits: limits)
        #expect(summary.applied == 2 && summary.rejected == 2, "\(summary)")
        #expect(summary.rejections.allSatisfy { $0.reason.contains("feeds, the most a sync hello can name") })
        #expect(try r.vector.count == held + 2)
        // A held key's next event still applies; a refused key is refused again, and nothing of it is kept.
        let second = try TrustBoundaryTests.signed(keys[0], seq: 2, prev: firsts[0].id, time: t + 100, NoteAdded(on: String(repeating: "a", count: 64), body: "again"))
        let again = try r.store.applyRemote([second, firsts[3]], now: clock.read(), limits: limits)
        #expect(again.applied == 1 && again.rejected == 1, "\(again)")
        #expect(try r.vector[keys[3].replicaID] == 0 && r.vector[keys[0].replicaID] == 2)
    }

    /// A key forked at seq 2 (X on one replica, a later Y on another) and an honest event E that saw
    /// X, with a time between X's and Y's (found by a chaos driver, 2026-12-06): the replica holding
    /// Y compared E's time with Y's, quarantined E for good (evidence against an honest key) and
    /// stalled its feed, while replicas holding X applied it. Now E waits until the fork is known,
    /// then applies; every arrival order ends with E applied, nothing in quarantine, one digest.
    @Test func anHonestEventThatSawTheOtherBranchOfAForkWaitsForItThenApplies() throws {
        defer { tmp.remove() }
        let b = ReplicaKey(), c = ReplicaKey()
        let t = HybridTime(milliseconds: 1_624_700_000_000).raw
        let on = String(repeating: "a", count: 64)
        let b1 = try TrustBoundaryTests.signed(b, seq: 1, prev: .zero, time: t, NoteAdded(on: on, body: "b1"))
        let x = try TrustBoundaryTests.signed(b, seq: 2, prev: b1.id, time: t + 1_000, NoteAdded(on: on, body: "X"))
        let e = try TrustBoundaryTests.signed(c, seq: 1, prev: .zero, time: t + 2_000, deps: [(b.replicaID, 2)], NoteAdded(on: on, body: "E saw X"))
        let y = try TrustBoundaryTests.signed(b, seq: 2, prev: b1.id, time: t + 3_000, NoteAdded(on: on, body: "Y"))
        var digests: Set<String> = []
        for (i, order) in [[b1, y, e, x], [b1, x, e, y], [b1, y, x, e], [b1, e, y, x]].enumerated() {
            let r = try replica("fork-time-\(i)")
            for ev in order { _ = try r.store.applyRemote([ev], now: clock.read()) }
            let st = try r.status()
            #expect(try r.vector[c.replicaID] == 1, "order \(i): E did not apply")
            #expect(st.quarantined == 0 && st.pending == 0, "order \(i): \(st.quarantined) quarantined, \(st.pending) pending")
            digests.insert(st.digest)
        }
        #expect(digests.count == 1, "\(digests)")
        // Before the fork is known, E waits (not quarantined); the evidence arriving applies it.
        let d = try replica("fork-time-wait")
        _ = try d.store.applyRemote([b1, y], now: clock.read())
        let waiting = try d.store.applyRemote([e], now: clock.read())
        #expect(waiting.pending == 1 && waiting.rejected == 0, "\(waiting)")
        #expect(try d.status().quarantined == 0)
        _ = try d.store.applyRemote([x], now: clock.read())
        #expect(try d.vector[c.replicaID] == 1)
    }

    @Test func anAddressIsHostColonPortOrBracketedIPv6ColonPort() throws {
        #expect(try Replica.parseAddress("127.0.0.1:7420") == ("127.0.0.1", 7420))
        #expect(try Replica.parseAddress("[::1]:7420") == ("::1", 7420))
        // An unbracketed IPv6 address or a host with a colon is refused (`host:1:2` was host `host:1`).
        for bad in ["host:1:2", "::1:7420", "fe80::1:80"] { #expect(throws: GlossError.self, "\(bad)") { try Replica.parseAddress(bad) } }
        #expect(try Replica.parseAddress("example.org:0") == ("example.org", 0))
        for lie in ["[::1]x7420", "[::1]7420", "[::1]:", "[::1]", "[]:7420", ":7420", "host", "host:", "host:65536", "host:-1",
                    "host:7420x", "host: 7420", "[::1]:99999999999999999999", "host:+7420"] {
            #expect(throws: GlossError.self, "\(lie)") { try Replica.parseAddress(lie) }
        }
    }

    @Test func forkEvidenceAgainAndDamagedChangesNothing() throws {
        defer { tmp.remove() }
        let copies = try TrustBoundaryTests.copiesAtSeqOne(ReplicaKey(), 12)
        let r = try replica("evidence")
        _ = try r.store.applyRemote(copies, now: clock.read())
        let before = try forks(r)
        #expect(before.count == ReplicaStore.evidencePerSeq)
        // Every copy again: duplicates (kept or not), nothing new.
        let again = try r.store.applyRemote(copies, now: clock.read())
        #expect(again.forks == 0 && again.applied == 0, "\(again)")
        #expect(try forks(r) == before)
        // A kept copy with one payload byte flipped: rejected, not kept beside the genuine one.
        var damaged = copies.min { $0.id.hex < $1.id.hex }!
        damaged.payload![damaged.payload!.count - 1] ^= 0x01
        let bad = try r.store.applyRemote([damaged], now: clock.read())
        #expect(bad.forks == 0 && bad.rejected == 1, "\(bad)")
        #expect(try forks(r) == before)
        #expect(try r.verify().forks.first?.evidence == ReplicaStore.evidencePerSeq)
    }

    @Test func aVectorOfMaximaOrUnknownReplicasAsksForNothing() throws {
        defer { tmp.remove() }
        let r = try replica("vector")
        _ = try r.store.applyRemote(try TrustBoundaryTests.feed(ReplicaKey(), 20), now: clock.read())
        var lie = try r.store.read { try r.store.vector($0) }
        for replica in lie.entries.keys { lie[replica] = .max }
        lie[ReplicaKey().replicaID] = .max
        var seen = 0
        try r.store.pool.writeWithoutTransaction { db in try r.store.forEachEvent(above: lie, db) { _ in seen += 1; return true } }
        #expect(seen == 0)
        // An empty vector asks for everything held.
        try r.store.pool.writeWithoutTransaction { db in try r.store.forEachEvent(above: VersionVector(), db) { _ in seen += 1; return true } }
        #expect(seen == 20)
    }

    @Test func aLocalEventOverThePayloadLimitIsRefusedAndWritesNothing() throws {
        defer { tmp.remove() }
        let r = try replica("big")
        let key = ReplicaKey()
        let store = r.store
        let events = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events") }
        #expect(throws: StoreError.self) {
            try store.write { db in
                _ = try store.appendLocal(key: key, author: "big", type: NoteAdded.type, schema: NoteAdded.schema,
                                          payload: [UInt8](repeating: 0x61, count: ProtocolLimits.maxPayloadBytes + 1),
                                          wallMilliseconds: clock.read(), db)
            }
        }
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events") } == events)
    }

    /// A copy of this replica's folder (the same key) writes the next event of its feed; this
    /// replica takes it in and writes the one after: that event's deps grow from the copy's, so
    /// every other replica applies it (its deps named again what the copy's already did, and were
    /// quarantined as "did not grow" — found by the damaged-delivery fork property, seed
    /// 5481704964721839432).
    @Test func anEventAfterOneSignedByACopyOfThisKeyHasGrowingDeps() throws {
        defer { tmp.remove() }
        let a = try replica("original"), c = try replica("other")
        let article = try c.ingest(bytes: Array("date 2021-06-26 BAKU – a text.\n".utf8), filename: "t.txt").id
        try FileManager.default.copyItem(at: tmp.sub("original"), to: tmp.sub("copy"))
        let copy = try Replica.open(at: tmp.sub("copy"), clock: clock.function)
        func ship(_ from: Replica, _ to: Replica) throws {
            let file = tmp.sub("b-\(UUID().uuidString.prefix(8)).glossb")
            _ = try from.exportBundle(to: file, base: VersionVector())
            _ = try to.importBundle(at: file)
        }
        try ship(c, copy)
        _ = try copy.addNote(on: article, body: "written by the copy, after the other's article")
        try ship(copy, a)
        _ = try a.addNote(on: article, body: "written by the original after the copy's")
        let fresh = try replica("fresh")
        try ship(a, fresh)
        let st = try fresh.status()
        let held = try a.vector
        #expect(st.quarantined == 0 && st.feedProblems.isEmpty && st.versionVector == held, "\(st.feedProblems)")
    }
}
