import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// Judgements that must not depend on what a replica happens to hold beyond the event's causal
/// past (Protocol/11-teams.md: "never from its own current roster, its clock or the order things
/// arrived in"). Real replicas, real bundles; the forged event is signed by a real member key.
@Suite struct TeamOrderTests {
    let tmp = TempDir("gloss-team-order", in: memoryTempBase)
    let clock = MockClock(start: 1_624_800_000_000, step: 1)

    func create(_ name: String, _ setup: Replica.TeamSetup) throws -> Replica {
        try Replica.create(in: tmp.sub(name), analyst: name, key: fixedKey("team-order/\(name)"), team: setup, clock: clock.function)
    }

    func ship(_ from: Replica, _ to: Replica) throws {
        let file = tmp.sub("b-\(UUID().uuidString.prefix(6)).glossb")
        try from.exportBundle(to: file, base: to.vector)
        _ = try to.importBundle(at: file)
    }

    func where_(_ r: Replica, _ e: SignedEvent) throws -> String {
        try r.store.read { db in
            let id = Data(e.id.raw.bytes)
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM events WHERE id = ?", arguments: [id]) ?? false { return "events" }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM quarantine WHERE id = ?", arguments: [id]) ?? false { return "quarantine" }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM pending WHERE id = ?", arguments: [id]) ?? false { return "pending" }
            return "nowhere"
        }
    }

    /// An analyst's modified client amends another analyst's fact without having seen it (the fact is
    /// not in the amendment's causal past). One replica holds the fact when the amendment arrives, the
    /// other receives the fact afterwards: both must decide alike, and end with the same log.
    @Test func anAmendmentOfAFactOutsideItsCausalPastIsJudgedAlikeWhateverArrivedFirst() throws {
        defer { tmp.remove() }
        let ana = try create("ana", .create(name: "Desk"))
        let cy = try create("cy", .join), dee = try create("dee", .join)
        let mal = fixedKey("team-order/mal")
        let article = try ana.ingest(bytes: Array("date 2021-06-26 KYIV – A first line.\nA second line.\n".utf8), filename: "a.txt").id
        try ana.addMember("cy", role: .analyst, key: cy.replicaID)
        try ana.addMember("dee", role: .analyst, key: dee.replicaID)
        try ana.addMember("mal", role: .analyst, key: mal.replicaID)
        try ship(ana, cy); try ship(ana, dee)
        var input = FactInput()
        input.article = article; input.evidence = "A first line"; input.subject = "s"; input.predicate = "p"; input.object = "o"
        let fact = try cy.addFact(input)
        // mal saw ana's events only: cy's fact is not in its causal past.
        let record = FactRecord(subject: "s", predicate: "p", object: "mal's", when: nil, where: nil, source: nil)
        let forged = TeamTests.forge(mal, team: try ana.teamID, deps: try ana.vector, author: "mal",
                                     payload: FactAmended(fact: fact.id, field: "object", record: record),
                                     time: HybridTime(milliseconds: clock.read() + 5_000).raw)
        // ana: the fact first, then the amendment.
        try ship(cy, ana)
        _ = try ana.store.applyRemote([forged], now: clock.read())
        // dee: the amendment first, then the fact.
        _ = try dee.store.applyRemote([forged], now: clock.read())
        try ship(cy, dee)
        // Offered again everywhere, and everything exchanged.
        for r in [ana, dee] { _ = try r.store.applyRemote([forged], now: clock.read()) }
        try ship(ana, dee); try ship(dee, ana)
        let (a, d) = (try where_(ana, forged), try where_(dee, forged))
        #expect(a == d, "the same event, the same causal past: ana holds it in \(a), dee in \(d)")
        #expect(try ana.vector == dee.vector)
        #expect(try ana.digest() == dee.digest())
    }
    /// An admin's key signs two different roster events at one seq (a copied replica folder): the
    /// feed freezes at the fork and its roster events from the fork on leave the roster (§Forks) on
    /// every replica, whichever branch it saw first.
    @Test func rosterEventsOfAForkedAdminFeedLeaveTheRosterWhicheverBranchArrivedFirst() throws {
        defer { tmp.remove() }
        let ana = try create("ana", .create(name: "Desk"))
        let bo = try create("bo", .join), cy = try create("cy", .join)
        try ana.addMember("bo", role: .admin, key: bo.replicaID)
        try ana.addMember("cy", role: .reader, key: cy.replicaID)
        try ship(ana, bo); try ship(ana, cy)
        try FileManager.default.copyItem(at: tmp.sub("bo"), to: tmp.sub("bo-twin"))
        // (On the test's clock: an event an hour ahead of a receiver's clock waits, at a held seq too.)
        let twin = try Replica.open(at: tmp.sub("bo-twin"), clock: clock.function)
        let zed = fixedKey("team-order/zed").replicaID, yan = fixedKey("team-order/yan").replicaID
        let a = try bo.addMember("zed", role: .analyst, key: zed)
        let b = try twin.addMember("yan", role: .admin, key: yan)
        #expect(a.envelope.seq == b.envelope.seq && a.id != b.id, "a fork")
        // Each receiver gets both branches (the second bundle built against a vector below the fork).
        func shipBranch(_ from: Replica, _ to: Replica) throws {
            var base = try to.vector
            base[bo.replicaID] = min(base[bo.replicaID], a.envelope.seq - 1)
            let file = tmp.sub("fork-\(UUID().uuidString.prefix(6)).glossb")
            try from.exportBundle(to: file, base: base)
            _ = try to.importBundle(at: file)
        }
        try shipBranch(bo, ana); try shipBranch(twin, ana)
        try shipBranch(twin, cy); try shipBranch(bo, cy)
        for r in [ana, cy] {
            let forks = try r.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM feeds WHERE fork_seq IS NOT NULL") ?? 0 }
            #expect(forks == 1, "\(r.analyst) holds the fork evidence")
        }
        for r in [ana, cy] {
            let roster = try r.store.read { try r.store.roster($0) }
            #expect(!roster.memberKeys.contains(zed) && !roster.memberKeys.contains(yan),
                    "\(r.analyst): roster events of the forked feed from the fork on left the roster")
        }
        #expect(try ana.store.read { try ana.store.roster($0) } == cy.store.read { try cy.store.roster($0) })
        #expect(try ana.vector == cy.vector && ana.digest() == cy.digest())
    }

    /// Two events one key signed at one seq, one of which its causal past makes inadmissible (the
    /// roster refuses or denies it, or it breaks its feed's time order): the other applies and the
    /// inadmissible one is refused or quarantined, on every replica, whichever arrived first. It
    /// counted as fork evidence only when it arrived second (the feed frozen there, its events
    /// unprojected), so two replicas holding the same events diverged for good (an audit that
    /// forged events with team keys, 2026-12-06).
    func deliveredBothWays(_ x: SignedEvent, _ y: SignedEvent, to p: Replica, _ q: Replica) throws {
        for (r, order) in [(p, [x, y]), (q, [y, x])] { for e in order { _ = try r.store.applyRemote([e], now: clock.read()) } }
        for e in [x, y] {
            let (a, b) = (try where_(p, e), try where_(q, e))
            #expect(a == b, "\(e.id.short): \(p.analyst) holds it in \(a), \(q.analyst) in \(b)")
        }
        #expect(try where_(p, x) == "events")
        for r in [p, q] {
            let frozen = try r.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM feeds WHERE fork_seq IS NOT NULL") ?? 0 }
            let stalled = try r.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM feeds WHERE state != 'ok'") ?? 0 }
            #expect(frozen == 0 && stalled == 0, "\(r.analyst): no fork, no stalled feed")
        }
        #expect(try p.vector == q.vector && p.digest() == q.digest())
    }

    @Test func anEventARevokedKeySignedAfterSeeingItsRevocationIsNoForkWhateverTheOrder() throws {
        defer { tmp.remove() }
        let ana = try create("ana", .create(name: "Desk"))
        let cy = try create("cy", .join), dee = try create("dee", .join), eve = try create("eve", .join)
        let mal = fixedKey("team-order/mal")
        try ana.addMember("cy", role: .analyst, key: cy.replicaID)
        try ana.addMember("dee", role: .analyst, key: dee.replicaID)
        try ana.addMember("mal", role: .analyst, key: mal.replicaID)
        try ship(ana, eve)
        let before = try ana.vector
        try ana.revokeKey(mal.replicaID, reason: "lost")
        try ship(ana, cy); try ship(ana, dee)
        let t = clock.read() + 5_000
        // X has not seen the revocation (accepted everywhere); Y has (refused everywhere).
        let x = TeamTests.forge(mal, team: try ana.teamID, deps: before, author: "mal", payload: TagAdded(object: String(repeating: "ab", count: 32), tag: "x"), time: HybridTime(milliseconds: t).raw)
        let y = TeamTests.forge(mal, team: try ana.teamID, deps: try ana.vector, author: "mal", payload: TagAdded(object: String(repeating: "ab", count: 32), tag: "y"), time: HybridTime(milliseconds: t + 1).raw)
        try deliveredBothWays(x, y, to: cy, dee)
        #expect(try where_(cy, y) == "nowhere")
        // A third replica receives X, then Y before the revocation Y saw: Y waits in pending at a
        // seq already held, and is judged — refused — when the revocation arrives.
        for e in [x, y] { _ = try eve.store.applyRemote([e], now: clock.read()) }
        #expect(try where_(eve, x) == "events" && where_(eve, y) == "pending")
        try ship(ana, eve)
        #expect(try where_(eve, y) == "nowhere")
        #expect(try eve.vector == cy.vector && eve.digest() == cy.digest())
        #expect(try eve.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM feeds WHERE fork_seq IS NOT NULL") ?? 0 } == 0)
    }

    @Test func anEventTheRosterDeniesBesideAnAdmittedOneAtItsSeqIsNoForkWhateverTheOrder() throws {
        defer { tmp.remove() }
        let ana = try create("ana", .create(name: "Desk"))
        let cy = try create("cy", .join), dee = try create("dee", .join)
        let mal = fixedKey("team-order/mal")
        try ana.addMember("cy", role: .analyst, key: cy.replicaID)
        try ana.addMember("dee", role: .analyst, key: dee.replicaID)
        try ana.addMember("mal", role: .analyst, key: mal.replicaID)
        try ship(ana, cy); try ship(ana, dee)
        let t = clock.read() + 5_000
        let x = TeamTests.forge(mal, team: try ana.teamID, deps: try ana.vector, author: "mal", payload: TagAdded(object: String(repeating: "ab", count: 32), tag: "x"), time: HybridTime(milliseconds: t).raw)
        // Y names another analyst as its author: denied (quarantined) everywhere.
        let y = TeamTests.forge(mal, team: try ana.teamID, deps: try ana.vector, author: "ana", payload: TagAdded(object: String(repeating: "ab", count: 32), tag: "y"), time: HybridTime(milliseconds: t + 1).raw)
        try deliveredBothWays(x, y, to: cy, dee)
        #expect(try where_(cy, y) == "quarantine")
        // A flood of denied events at the held seq keeps at most 8 (the smallest ids), stores nothing
        // else, and freezes nothing.
        let flood = (0..<30).map { i in
            TeamTests.forge(mal, team: try! ana.teamID, deps: try! ana.vector, author: "ana",
                            payload: TagAdded(object: String(repeating: "ab", count: 32), tag: "f\(i)"), time: HybridTime(milliseconds: t + 2 + UInt64(i)).raw)
        }
        let before = try cy.vector
        _ = try cy.store.applyRemote(flood, now: clock.read())
        let kept = try cy.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine WHERE seq = 1") ?? 0 }
        #expect(kept == 8, "\(kept) quarantined at the held seq")
        #expect(try cy.vector == before && cy.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM feeds WHERE fork_seq IS NOT NULL OR state != 'ok'") ?? 0 } == 0)
    }

    @Test func anEventBreakingItsFeedsTimeOrderBesideAnAdmittedOneIsNoForkWhateverTheOrder() throws {
        defer { tmp.remove() }
        let p = try create("p", .none), q = try create("q", .none)
        let mal = fixedKey("team-order/mal")
        let t = clock.read() + 5_000
        let tag = TagAdded(object: String(repeating: "ab", count: 32), tag: "t")
        let first = TeamTests.forge(mal, team: .none, deps: VersionVector(), author: "mal", payload: tag, time: HybridTime(milliseconds: t).raw)
        let x = TeamTests.forge(mal, team: .none, seq: 2, prev: first.id, deps: VersionVector(), author: "mal",
                                payload: TagAdded(object: String(repeating: "ab", count: 32), tag: "x"), time: HybridTime(milliseconds: t + 10).raw)
        // Y is not later than its feed predecessor: quarantined everywhere.
        let y = TeamTests.forge(mal, team: .none, seq: 2, prev: first.id, deps: VersionVector(), author: "mal",
                                payload: TagAdded(object: String(repeating: "ab", count: 32), tag: "y"), time: HybridTime(milliseconds: t - 10).raw)
        for r in [p, q] { _ = try r.store.applyRemote([first], now: clock.read()) }
        try deliveredBothWays(x, y, to: p, q)
        #expect(try where_(p, y) == "quarantine")
    }
}
