import Foundation
import GRDB
import GlossEngine
import GlossModel
@testable import GlossProjections
import GlossTestSupport
import Testing

/// The ids of `candidates`, of `notes` and of the objects notes are on are indexed by their first eight hex
/// digits (Protocol/04-projections.md §Indexes). The reads that find them must go through those
/// indexes — a plain `candidate = ?` reads the whole table — and must find exactly what the plain
/// `objects` view finds (the oracle: no index involved, every row compared).
@Suite struct ShortIDTests {
    let clock = MockClock(start: 1_624_800_000_000, step: 1)

    /// A replica with an article, its candidates, and notes on the article, on candidates and on
    /// notes.
    func replica(_ tmp: TempDir) throws -> (Replica, [String]) {
        let r = try Replica.create(in: tmp.url, analyst: "ana", key: ReplicaKey(), clock: clock.function)
        let article = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let candidates = try r.candidates(article: article).map(\.candidate)
        #expect(candidates.count > 20, "the sample article gives candidates")
        var targets = [article, try r.addNote(on: article, body: "on the article").id]
        for c in candidates.prefix(10) { targets.append(try r.addNote(on: c, body: "on \(c)").id) }
        targets.append(try r.addNote(on: targets.last!, body: "a note on a note").id)
        let annotation = try r.annotate(article: article, quote: "trilateral cooperation", comment: "the exercise", tags: []).id
        targets.append(try r.addNote(on: annotation, body: "a note on an annotation").id)
        return (r, [article] + candidates + [annotation] + targets.dropFirst())
    }

    @Test func readsByIdGoThroughTheShortIndexes() throws {
        let tmp = TempDir("gloss-shortid")
        defer { tmp.remove() }
        let (r, _) = try replica(tmp)
        let queries: [(String, StatementArguments, String)] = [
            ("SELECT * FROM candidates WHERE \(ShortID.equals("candidate", "?1"))", ["abc"], "candidates_id"),
            ("SELECT count(*) FROM notes WHERE \(ShortID.equals("on_id", "?1")) AND deleted = 0", ["abc"], "notes_on"),
            ("SELECT deleted FROM notes WHERE \(ShortID.equals("note", "?1"))", ["abc"], "notes_id"),
            ("SELECT article FROM annotations WHERE \(ShortID.equals("annotation", "?1"))", ["abc"], "annotations_id"),
            (ObjectTables.rangeSQL, ["abc", "abd", 5], "annotations_id"),
            ("SELECT \(ObjectTables.kindSQL(of: "?1"))", ["abc"], "notes_id"),
            (ObjectTables.rangeSQL, ["abc", "abd", 5], "notes_id"),
            ("SELECT s.rowid, \(SearchHit.article) \(SearchHit.matches)", ["x"], "INTEGER PRIMARY KEY"),
            ("SELECT \(ObjectTables.kindSQL(of: "?1"))", ["abc"], "candidates_id"),
            (ObjectTables.rangeSQL, ["abc", "abd", 5], "candidates_id"),
            ("SELECT on_kind FROM live_notes", [], "candidates_id"),
            ("SELECT note FROM article_notes WHERE article = ?1", ["abc"], "notes_on"),
        ]
        for (sql, arguments, index) in queries {
            let plan = try r.store.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(sql)", arguments: arguments).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains(index) }, "\(sql): \(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN candidates") || $0.hasPrefix("SCAN notes") && !sql.contains("live_notes") },
                    "\(sql) reads a whole table: \(plan)")
        }
    }

    /// Without a whole-id index on `notes`, the apply path finds a note by its position: the check
    /// that an edit's note is in its causal past looked it up by `note = ?`, reading the whole table
    /// once the apply window's memo no longer held it (an import of 40,000 events took 2.4 times as
    /// long as one of 20,000). Every object the apply path looks up by its creating event goes
    /// through an index.
    @Test func theApplyPathFindsObjectsThroughAnIndex() throws {
        let tmp = TempDir("gloss-shortid")
        defer { tmp.remove() }
        let (r, _) = try replica(tmp)
        for (table, key) in [("notes", "note"), ("facts", "fact"), ("annotations", "annotation")] {
            let sql = GlossProjector.originSQL(table: table, key: key)
            let plan = try r.store.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(sql)",
                                 arguments: ObjectTables.storedByPosition[table] != nil ? [Data(count: 32)] : [Data(count: 32), "abc"])
                    .map { $0["detail"] as String }
            }
            #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(sql): \(plan)")
        }
    }

    /// A lie in the short key: rows written by another tool (the tables are plain SQLite) whose
    /// ids share the first eight digits of real ones, but not the rest. Every read by id returns
    /// the real row, prefix resolution lists both only for the shared prefix, and an edit of the
    /// real note changes it alone (the apply path finds it by its event's position).
    @Test func idsSharingAShortKeyAreToldApartByTheWholeId() throws {
        let tmp = TempDir("gloss-shortid")
        defer { tmp.remove() }
        let (r, ids) = try replica(tmp)
        let candidate = ids[1]
        let note = try r.store.read { db in try String.fetchOne(db, sql: "SELECT note FROM notes ORDER BY note_pos LIMIT 1") }!
        func decoy(_ id: String) -> String { String(id.prefix(8)) + String(repeating: id.dropFirst(8).first == "0" ? "1" : "0", count: 56) }
        try r.store.pool.write { db in
            try db.execute(sql: """
                INSERT INTO notes(note_pos, note, on_id, author, created_at, body, body_event, body_time, body_replica, updated_at, deleted)
                SELECT 1000000, ?, on_id, 'mallory', created_at, 'decoy', ?, body_time, body_replica, updated_at, 1 FROM notes WHERE note = ?
                """, arguments: [decoy(note), decoy(note), note])
            try db.execute(sql: """
                INSERT INTO candidates SELECT ?, article, 'decoy-revision', rules_version, ordinal, kind, 'decoy', precision, rule, exact, prefix, suffix,
                    sel_start, sel_end, speaker, role, said_on, affiliation, event FROM candidates WHERE candidate = ?
                """, arguments: [decoy(candidate), candidate])
        }
        try r.store.read { (db: Database) throws in
            #expect(try NoteReads.isDeleted(note, db) == false)
            #expect(try NoteReads.isDeleted(decoy(note), db) == true)
            #expect(try CandidateRecord.fetch(candidate, db)?.value != "decoy")
            #expect(try CandidateRecord.fetch(decoy(candidate), db)?.value == "decoy")
            #expect(try ObjectReads.matching(prefix: note, limit: 10, db).map(\.id) == [note])
            #expect(try Set(ObjectReads.matching(prefix: String(note.prefix(8)), limit: 10, db).map(\.id)) == [note, decoy(note)])
            #expect(try String.fetchOne(db, sql: "SELECT \(ObjectTables.kindSQL(of: "?1"))", arguments: [decoy(candidate)]) == "candidate")
        }
        _ = try r.editNote(note, body: "edited")
        try r.store.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "SELECT body FROM notes WHERE note = ?", arguments: [note]) == "edited")
            #expect(try String.fetchOne(db, sql: "SELECT body FROM notes WHERE note = ?", arguments: [decoy(note)]) == "decoy")
        }
    }

    /// Prefix resolution and `live_notes.on_kind` agree with the plain `objects` view for every
    /// id and random prefixes of every length (1 to 64 digits, across the eight-digit boundary).
    @Test func theShortIndexesFindWhatTheObjectsViewFinds() throws {
        let tmp = TempDir("gloss-shortid")
        defer { tmp.remove() }
        let (r, ids) = try replica(tmp)
        let seed = ProcessInfo.processInfo.environment["GLOSS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("ShortIDTests seed \(seed) (GLOSS_SEED=\(seed) to replay)")
        var rng = SplitMix64(seed: seed)
        try r.store.read { db in
            for id in ids {
                for length in [1, 2, 7, 8, 9, 12, 64, Int.random(in: 1...64, using: &rng)] {
                    var prefix = String(id.prefix(length))
                    // A prefix one past a real one, to end between ids.
                    if Bool.random(using: &rng), let last = prefix.last, last != "f" {
                        prefix = String(prefix.dropLast()) + String(Character(Unicode.Scalar(last.asciiValue! + 1)))
                    }
                    for limit in [1, 3, 1_000] {
                        let found = try ObjectReads.matching(prefix: prefix, limit: limit, db).map { "\($0.id) \($0.kind)" }
                        let oracle = try String.fetchAll(db, sql: "SELECT id || ' ' || kind FROM objects WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                                                         arguments: [prefix, prefix + "g", limit])
                        #expect(found == oracle, "prefix \(prefix), limit \(limit), seed \(seed)")
                    }
                }
                #expect(try String.fetchOne(db, sql: "SELECT \(ObjectTables.kindSQL(of: "?1"))", arguments: [id])
                        == String.fetchOne(db, sql: "SELECT kind FROM objects WHERE id = ?", arguments: [id]))
                #expect(try String.fetchOne(db, sql: "SELECT \(ObjectTables.kindSQL(of: "?1"))", arguments: [String(id.dropLast()) + "g"]) == nil)
            }
            let onKinds = try Row.fetchAll(db, sql: "SELECT note, on_kind, (SELECT kind FROM objects WHERE id = on_id) FROM live_notes ORDER BY note")
            #expect(onKinds.count == 13)
            for row in onKinds { #expect(row[1] as String? == row[2] as String?, "\(row)") }
            #expect(Set(onKinds.map { $0[1] as String }) == ["article", "annotation", "candidate", "note"])
            #expect(try String.fetchAll(db, sql: "SELECT note FROM article_notes ORDER BY note")
                    == String.fetchAll(db, sql: "SELECT n.note FROM notes n JOIN articles a ON a.article = n.on_id WHERE n.deleted = 0 ORDER BY n.note"))
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM article_notes") == 1)
        }
        for id in ids.dropFirst().prefix(3) {
            #expect(try r.store.read { db in try CandidateRecord.fetch(id, db)?.candidate } == id)
        }
    }
}
