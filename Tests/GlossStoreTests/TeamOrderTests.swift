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
}
