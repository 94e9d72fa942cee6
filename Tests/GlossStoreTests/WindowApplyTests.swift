import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
import GlossStore
import GlossTestSupport
import Testing

/// Window-size independence (issue #14): the same events, in the same causal order, applied to fresh
/// replicas through `ReplicaStore.applyRemote` in windows of 1, 2, 7, 100 and all at once, and by a
/// rebuild, give the same maintained digest, recomputed digest, digest computed from the spec, and
/// the same rows in every documented projection table — also equal to the replica whose projections
/// grew incrementally through pairwise syncs.
///
/// Histories come from `Simulation.richHistory` (every event kind: notes edited and deleted,
/// concurrent edits and conflicts, resolutions — concurrent ones too, tags and links added and
/// removed, facts amended, retracted, graded, sources graded, revisions, anchor decisions, events
/// not understood). 50 seeds in CI, 500 with GLOSS_LARGE=1; the base seed is printed, every failure
/// names its seed, GLOSS_SEED=<seed> replays one.
@Suite(.timeLimit(.minutes(10))) struct WindowApplyTests {
    static let seeds = Equivalence.seeds("window-apply", count: glossLarge ? 500 : 50)
    static let windowSizes = [1, 2, 7, 100, Int.max]

    /// Runs one seed; returns failure lines (each naming the seed).
    static func run(seed: UInt64, steps: Int, replicas: Int) throws -> [String] {
        let sim = try Simulation(replicas: replicas, seed: seed, label: "window", deterministicKeys: true, tmpBase: memoryTempBase)
        let kinds = try sim.richHistory(steps: steps)
        try sim.exchangeAll()
        let label = "seed \(seed) (GLOSS_SEED=\(seed) replays)"
        var fails: [String] = []
        let reference = try ProjectionSnapshot.of(sim.replicas[0])
        fails += reference.selfCheck("\(label), replica r0 (incremental, pairwise syncs)")
        for (k, r) in sim.replicas.enumerated().dropFirst() {
            fails += try ProjectionSnapshot.of(r).differences(from: reference, "\(label), replica r\(k) vs r0 after full exchange")
        }
        // One causal order, used by every window size, so only the window size differs.
        let order = sim.randomCausalOrder(try Equivalence.log(sim.replicas[0]))
        precondition(order.count <= 10_000, "a window is at most 10,000 events")
        for size in windowSizes {
            let name = size == .max ? "all" : "\(size)"
            let observer = try sim.addReplica("w\(name)")
            let summary = try Equivalence.apply(order, to: observer, windows: size, now: sim.clock.function)
            if summary.applied != order.count || summary.rejected != 0 || summary.pending != 0 {
                fails.append("\(label), windows of \(name): applied \(summary.applied) of \(order.count), rejected \(summary.rejected), pending \(summary.pending)")
            }
            let snap = try ProjectionSnapshot.of(observer)
            fails += snap.selfCheck("\(label), windows of \(name)")
            fails += snap.differences(from: reference, "\(label), windows of \(name) vs r0")
            if size == .max {
                // The rebuild of the same log (local order = this order).
                _ = try observer.rebuild()
                fails += try ProjectionSnapshot.of(observer).differences(from: reference, "\(label), rebuild vs r0")
            }
            try observer.close()
        }
        // And the rebuild of the replica whose projections grew incrementally.
        _ = try sim.replicas[0].rebuild()
        fails += try ProjectionSnapshot.of(sim.replicas[0]).differences(from: reference, "\(label), r0 rebuilt vs r0 incremental")
        if !fails.isEmpty { fails.append("\(label): history of \(order.count) events: \(Equivalence.describe(kinds))") }
        return fails
    }

    @Test(arguments: seeds)
    func windowSizeDoesNotChangeTheProjections(seed: UInt64) throws {
        let fails = try Self.run(seed: seed, steps: 32, replicas: 3 + Int(seed % 2))
        #expect(fails.isEmpty, "seed \(seed): \(fails.prefix(8).joined(separator: "\n"))")
    }

    /// A longer history (a few thousand events in CI; ~10,000 with GLOSS_LARGE=1), so big windows
    /// hold many writes to one object: created, edited, conflicted, resolved and deleted in one window.
    @Test func aLongHistoryInOneWindowEqualsOneEventPerWindow() throws {
        let seed = Equivalence.seeds("window-apply-long", count: 1)[0]
        let fails = try Self.run(seed: seed, steps: glossLarge ? 6_000 : 200, replicas: 4)
        #expect(fails.isEmpty, "seed \(seed): \(fails.prefix(8).joined(separator: "\n"))")
    }

    /// Long notes: a window's run of note writes holds more than its 8 MiB text budget, so it is
    /// written out mid-window (and again after), with concurrent edits in conflict across the cut.
    /// The rows equal applying one event per window, and the incremental replica's.
    @Test func aRunPastItsTextBudgetIsWrittenMidWindow() throws {
        let sim = try Simulation(replicas: 2, seed: 11, label: "run-budget", deterministicKeys: true, tmpBase: memoryTempBase)
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let article = try a.ingest(bytes: Array("Budget\n\nA short article for long notes.\n".utf8), filename: "budget.txt").id
        var notes: [String] = []
        var textBytes = 0
        for i in 0..<30 {
            let body = "note \(i) " + String(repeating: "lorem ipsum \(i) ", count: 20_000)
            textBytes += body.utf8.count
            notes.append(try a.addNote(on: article, body: body).id)
        }
        #expect(textBytes > 8 << 20, "the adds alone exceed the run's budget")
        try sim.exchangeAll()
        for n in notes.prefix(10) { _ = try a.editNote(n, body: "a's edit of \(n.prefix(8))") }
        for n in notes.prefix(5) { _ = try b.editNote(n, body: "b's edit of \(n.prefix(8))") }
        try sim.exchangeAll()
        let reference = try ProjectionSnapshot.of(a)
        var fails = reference.selfCheck("incremental")
        fails += try ProjectionSnapshot.of(b).differences(from: reference, "b vs a")
        let conflicts = try a.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM conflicts WHERE state = 'open'") ?? 0 }
        #expect(conflicts == 5, "the concurrent edits conflict")
        let order = try Equivalence.log(a)
        for size in [1, Int.max] {
            let observer = try sim.addReplica(size == 1 ? "one" : "all")
            let summary = try Equivalence.apply(order, to: observer, windows: size, now: sim.clock.function)
            #expect(summary.applied == order.count)
            let snap = try ProjectionSnapshot.of(observer)
            fails += snap.selfCheck("windows of \(size)") + snap.differences(from: reference, "windows of \(size) vs a")
            try observer.close()
        }
        #expect(fails.isEmpty, "\(fails.prefix(8).joined(separator: "\n"))")
    }

    /// Edits, deletes and resolutions that name an existing event which created no note — an
    /// annotation, a tag addition, the note's own edit — are not understood, and leave no revision
    /// (a revision stores its note's log position, found through that note's id): in one window,
    /// one event per window and incrementally alike.
    @Test func aNoteEventNamingAnotherKindOfObjectStoresNoRevision() throws {
        let sim = try Simulation(replicas: 1, seed: 13, label: "not-a-note", deterministicKeys: true, tmpBase: memoryTempBase)
        let a = sim.replicas[0]
        let article = try a.ingest(bytes: Array("Lies\n\nAn article whose quote is real.\n".utf8), filename: "lies.txt").id
        let note = try a.addNote(on: article, body: "a real note").id
        _ = try a.editNote(note, body: "a real edit")
        let edit = try #require(try a.store.read { try String.fetchOne($0, sql: "SELECT lower(hex(id)) FROM events WHERE type = 'NoteEdited'") })
        let annotation = try a.annotate(article: article, quote: "quote is real", comment: nil, tags: []).id
        let tag = try a.tag(note, "t").id
        let before = try a.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM note_revisions") ?? 0 }
        var lies: [String] = []
        for target in [annotation, tag, edit, article] {
            lies.append(try a.store.appendLocal(key: a.key, author: a.analyst, payload: NoteEdited(note: target, body: "a lie"), wallMilliseconds: a.clock()).envelope.id.hex)
            lies.append(try a.store.appendLocal(key: a.key, author: a.analyst, payload: NoteDeleted(note: target), wallMilliseconds: a.clock()).envelope.id.hex)
        }
        let order = try Equivalence.log(a)
        var fails = try ProjectionSnapshot.of(a).selfCheck("incremental")
        for r in [a] + (try [1, Int.max].map { size -> Replica in
            let observer = try sim.addReplica(size == 1 ? "one" : "all")
            let summary = try Equivalence.apply(order, to: observer, windows: size, now: sim.clock.function)
            #expect(summary.applied == order.count)
            fails += try ProjectionSnapshot.of(observer).selfCheck("windows of \(size)")
            return observer
        }) {
            try r.store.read { db in
                let revisions = try String.fetchAll(db, sql: "SELECT kind || ' ' || event || ' on ' || note FROM note_revisions")
                #expect(revisions.count == before, "\(r.analyst): a lie left a revision: \(revisions)")
                let refused = try String.fetchAll(db, sql: "SELECT event FROM events_not_understood")
                #expect(Set(lies).isSubset(of: Set(refused)), "\(r.analyst): every lie is not understood")
                #expect(try String.fetchOne(db, sql: "SELECT body FROM notes WHERE note = ?", arguments: [note]) == "a real edit")
            }
        }
        #expect(fails.isEmpty, "\(fails.prefix(8).joined(separator: "\n"))")
    }

    /// The generator writes every kind of event these suites rely on (else a property could pass
    /// for want of the events that would break it).
    @Test func richHistoriesCoverEveryKind() throws {
        var total: [Simulation.RichKind: Int] = [:]
        var types: [String: Int] = [:]
        var notUnderstood = 0, resolvedConflicts = 0, openConflicts = 0, concurrentlyResolved = 0
        for k in 0..<12 {
            let seed = 77_000 + UInt64(k)
            let sim = try Simulation(replicas: 4, seed: seed, label: "coverage", deterministicKeys: true, tmpBase: memoryTempBase)
            for (kind, n) in try sim.richHistory(steps: 60) { total[kind, default: 0] += n }
            try sim.exchangeAll()
            let r = sim.replicas[0]
            try r.store.read { db in
                for row in try Row.fetchAll(db, sql: "SELECT type, count(*) FROM event_log GROUP BY type") { types[row[0], default: 0] += row[1] }
                notUnderstood += try Int.fetchOne(db, sql: "SELECT count(*) FROM events_not_understood") ?? 0
                resolvedConflicts += try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts WHERE state = 'resolved'") ?? 0
                openConflicts += try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts WHERE state = 'open'") ?? 0
                // A conflict resolved by several concurrent resolutions: two resolution events naming it.
                concurrentlyResolved += try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM (SELECT c.conflict FROM conflicts c JOIN conflict_candidates cc ON cc.conflict = c.conflict
                    JOIN note_revisions nr ON nr.event = cc.event AND nr.kind = 'resolve' GROUP BY c.conflict HAVING count(*) > 1)
                    """) ?? 0
            }
        }
        print("[window-apply coverage] kinds: \(Equivalence.describe(total)); types: \(types.sorted { $0.key < $1.key }); not understood \(notUnderstood), conflicts open \(openConflicts) resolved \(resolvedConflicts), conflicts among concurrent note resolutions \(concurrentlyResolved)")
        for kind in Simulation.RichKind.allCases where ![.resolveDelete, .extract].contains(kind) {
            #expect((total[kind] ?? 0) > 0, "the rich generator never wrote \(kind.rawValue) in 12 seeds")
        }
        for type in ["ArticleIngested", "ArticleRevised", "NoteAdded", "NoteEdited", "NoteDeleted", "TagAdded", "TagRemoved", "LinkAdded", "LinkRemoved",
                     "FactAdded", "FactAmended", "FactRetracted", "FactGraded", "SourceAdded", "SourceGraded", "AnnotationAdded", "AnchorDecided", "ConflictResolved", "FutureEvent"] {
            #expect((types[type] ?? 0) > 0, "no \(type) event in 12 rich histories (types: \(types.keys.sorted()))")
        }
        #expect(notUnderstood > 0 && resolvedConflicts > 0 && openConflicts > 0 && concurrentlyResolved > 0)
    }
}
