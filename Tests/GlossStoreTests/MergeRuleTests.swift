import Foundation
import GRDB
import GlossEngine
import GlossTestSupport
import Testing

/// The merge rules the merge-core issue found wrong, as regression tests over several replicas:
/// concurrent resolutions choosing different values, concurrent grades where one repeats the
/// current value, and what an open edit-versus-delete conflict shows.
@Suite struct MergeRuleTests {
    static func noteRow(_ r: Replica, _ note: String) throws -> (body: String, state: String, deleted: Bool, live: Bool) {
        try r.store.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT body, body_state, deleted FROM notes WHERE note = ?", arguments: [note])!
            let live = try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM live_notes WHERE note = ?", arguments: [note])!
            return (row[0], row[1], row[2], live)
        }
    }

    /// Two replicas make a note conflict; returns the simulation, the note and the open conflict.
    func conflicted(_ n: Int, seed: UInt64) throws -> (Simulation, String, ConflictInfo) {
        let sim = try Simulation(replicas: n, seed: seed, label: "merge-rules")
        let a = sim.replicas[0]
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let note = try a.addNote(on: art, body: "first line").id
        for i in 1..<n { try sim.sync(0, i) }
        _ = try sim.replicas[0].editNote(note, body: "version A")
        _ = try sim.replicas[1].editNote(note, body: "version B")
        for i in 0..<n { for j in 0..<n where i != j { try sim.sync(i, j) } }
        let open = try #require(try a.conflicts().first)
        return (sim, note, open)
    }

    @Test(arguments: [2, 3, 5])
    func concurrentResolutionsChoosingDifferentValuesOpenANewConflict(replicas n: Int) throws {
        let (sim, note, open) = try conflicted(n, seed: 1400 + UInt64(n))
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        // Each analyst resolves the same conflict, without seeing the other's resolution: one keeps
        // the candidate shown meanwhile (the newest), the other picks the older one. (The old rule
        // took the conflict's newest candidate as the merge base, so the first resolution looked
        // unchanged and the second won silently.)
        let shown = try Self.noteRow(a, note).body
        let newest = try #require(open.candidates.first { $0.value == shown })
        let older = try #require(open.candidates.first { $0.value != shown })
        _ = try a.resolve(open.id, pick: newest.event, reason: "keep the newest")
        _ = try b.resolve(open.id, pick: older.event, reason: "the older one is right")
        for i in 0..<n { for j in 0..<n where i != j { try sim.sync(i, j) } }
        let digest = try a.digest()
        for r in sim.replicas {
            let row = try Self.noteRow(r, note)
            #expect(row.state == "conflict", "\(r.analyst): \(row)")
            let conflicts = try r.conflicts()
            #expect(conflicts.count == 1)
            // The new conflict lists both resolutions: nobody's choice is lost.
            #expect(Set(conflicts.first?.candidates.compactMap(\.value) ?? []) == [newest.value!, older.value!])
            #expect(try r.digest() == digest)
        }
        // Resolving the new one closes it everywhere.
        let again = try #require(try sim.replicas[n - 1].conflicts().first)
        _ = try sim.replicas[n - 1].resolve(again.id, value: "final", reason: nil)
        for i in 0..<n { for j in 0..<n where i != j { try sim.sync(i, j) } }
        for r in sim.replicas {
            #expect(try r.conflicts().isEmpty)
            #expect(try Self.noteRow(r, note).body == "final")
        }
    }

    @Test func concurrentResolutionsChoosingTheSameValueMerge() throws {
        let (sim, note, open) = try conflicted(2, seed: 1410)
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        _ = try a.resolve(open.id, value: "agreed", reason: nil)
        _ = try b.resolve(open.id, value: "agreed", reason: nil)
        try sim.sync(0, 1); try sim.sync(1, 0)
        for r in [a, b] {
            #expect(try Self.noteRow(r, note).body == "agreed")
            #expect(try r.conflicts().isEmpty)
        }
    }

    @Test(arguments: [2, 4])
    func aRepeatedGradeConcurrentWithADifferentOneConflicts(replicas n: Int) throws {
        let sim = try Simulation(replicas: n, seed: 1420 + UInt64(n), label: "grades")
        let a = sim.replicas[0]
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        var input = FactInput()
        input.article = art; input.subject = "Special Forces"; input.predicate = "will hold"; input.object = "exercises"
        input.evidence = "hold exercises in Azerbaijan in September"
        let fact = try a.addFact(input).id
        _ = try a.gradeFact(fact, credibility: Credibility(parsing: "2"), reason: nil)
        for i in 1..<n { try sim.sync(0, i) }
        // Credibility is 2 everywhere; one analyst sets 2 again while another sets 3.
        _ = try sim.replicas[0].gradeFact(fact, credibility: Credibility(parsing: "2"), reason: "still 2")
        _ = try sim.replicas[1].gradeFact(fact, credibility: Credibility(parsing: "3"), reason: "now 3")
        for i in 0..<n { for j in 0..<n where i != j { try sim.sync(i, j) } }
        for r in sim.replicas {
            let state = try r.store.read { try String.fetchOne($0, sql: "SELECT credibility_state FROM facts WHERE fact = ?", arguments: [fact]) }
            #expect(state == "conflict", "\(r.analyst)")
            let c = try r.conflicts().filter { $0.field == "credibility" }
            #expect(c.count == 1 && Set(c[0].candidates.compactMap(\.value)) == ["2", "3"])
        }
        // Equal concurrent grades still merge.
        let open = try #require(try a.conflicts().first { $0.field == "credibility" })
        _ = try sim.replicas[0].resolve(open.id, value: "3", reason: nil)
        for i in 0..<n { for j in 0..<n where i != j { try sim.sync(i, j) } }
        _ = try sim.replicas[0].gradeFact(fact, credibility: Credibility(parsing: "4"), reason: nil)
        _ = try sim.replicas[1].gradeFact(fact, credibility: Credibility(parsing: "4"), reason: nil)
        for i in 0..<n { for j in 0..<n where i != j { try sim.sync(i, j) } }
        for r in sim.replicas {
            let row = try r.store.read { try Row.fetchOne($0, sql: "SELECT credibility, credibility_state FROM facts WHERE fact = ?", arguments: [fact])! }
            #expect(row[0] as String == "4" && row[1] as String == "merged")
        }
    }

    @Test func anOpenEditVersusDeleteConflictKeepsTheObjectVisible() throws {
        let sim = try Simulation(replicas: 3, seed: 1430, label: "edit-delete")
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let note = try a.addNote(on: art, body: "keep me").id
        try sim.sync(0, 1); try sim.sync(0, 2)
        _ = try a.editNote(note, body: "edited text")
        _ = try b.deleteNote(note)   // b's delete is the newer write
        for i in 0..<3 { for j in 0..<3 where i != j { try sim.sync(i, j) } }
        for r in sim.replicas {
            let row = try Self.noteRow(r, note)
            #expect(row.state == "conflict" && !row.deleted && row.live && row.body == "edited text", "\(r.analyst): \(row)")
        }
        // Resolving as deleted removes it everywhere.
        let open = try #require(try a.conflicts().first)
        let tombstone = try #require(open.candidates.first { $0.value == nil })
        _ = try a.resolve(open.id, pick: tombstone.event, reason: "delete it")
        for i in 0..<3 { for j in 0..<3 where i != j { try sim.sync(i, j) } }
        for r in sim.replicas {
            let row = try Self.noteRow(r, note)
            #expect(row.deleted && !row.live)
        }
    }

    /// Found by the damaged-delivery simulator: one text ingested as a new article on one replica
    /// while another revises its article to the same text — the extraction candidates of that
    /// revision named whichever article arrived first. Now the smallest event id names it.
    @Test func candidatesOfATextClaimedByTwoArticlesAreTheSameInEveryArrivalOrder() throws {
        let sim = try Simulation(replicas: 4, seed: 1440, label: "candidates")
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let first = try a.ingest(bytes: Array("date 2021-06-20 BAKU – first report\n".utf8), filename: "x.txt").id
        let shared = "date 2021-06-21 BAKU – forces report 3\n"
        let file = sim.tmp.sub("shared.txt")
        try Data(shared.utf8).write(to: file)
        _ = try a.revise(article: first, file: file.path)                          // a: article X now has the text
        _ = try b.ingest(bytes: Array(shared.utf8), filename: "shared.txt")        // b: the same text as article Z
        let (ea, eb) = (try sim.missing(from: a, to: sim.replicas[2]), try sim.missing(from: b, to: sim.replicas[2]))
        _ = try sim.replicas[2].store.applyRemote(ea + eb, now: sim.clock.read())
        _ = try sim.replicas[3].store.applyRemote(eb + ea, now: sim.clock.read())
        func rows(_ r: Replica) throws -> [String] {
            try r.store.read { try Row.fetchAll($0, sql: "SELECT candidate, article, event FROM candidates ORDER BY candidate").map { "\($0)" } }
        }
        #expect(try rows(sim.replicas[2]) == (try rows(sim.replicas[3])))
        #expect(try sim.replicas[2].digest() == (try sim.replicas[3].digest()))
    }
}
