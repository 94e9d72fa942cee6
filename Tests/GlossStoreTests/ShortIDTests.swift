import Crypto
import Foundation
import GRDB
import GRDBSQLite
import GlossEngine
import GlossModel
@testable import GlossProjections
@testable import GlossStore
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
            // Projection version 23: an article's annotations and anchors, a revision's candidates.
            ("SELECT annotation FROM annotations WHERE \(ShortID.equals("article", "?1"))", ["abc"], "annotations_article"),
            ("SELECT object FROM anchors WHERE \(ShortID.equals("article", "?1"))", ["abc"], "anchors_article"),
            ("SELECT event FROM candidates WHERE \(ShortID.equals("revision", "?1")) AND rules_version = ?2 AND ordinal = 0", ["abc", 1], "candidates_revision"),
            (ExportRows.countriesSQL, ["abc", "def"], "candidates_revision"),
            (CandidateRecord.currentSQL, ["abc"], "candidates_revision"),
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
                INSERT INTO candidates SELECT 1000000, ?, article, 'decoy-revision', rules_version, ordinal, kind, 'decoy', precision, rule, exact, prefix, suffix,
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

/// The log is read by event id through `events_id` (its first eight bytes, migration
/// `v9-events-short-id`): every statement the writer prepared while a rich multi-replica history
/// was applied (bundles, conflicts, redactions, anchors, facts) is checked by SQLite's own count of
/// the steps it spent in full table scans — the oracle is SQLite's, not a list of the statements
/// this code thinks it has. A lookup by id written as `id = ?` scans the log once per run.
@Suite struct EventIDIndexTests {
    @Test func noStatementOfTheApplyPathScansTheLog() throws {
        let seed = Equivalence.seeds("event-id-index", count: 1)[0]
        let sim = try Simulation(replicas: 3, seed: seed, label: "event-id", deterministicKeys: true, tmpBase: memoryTempBase)
        // A rich history of over a hundred events, whatever the seed draws (120 steps gave 99 once).
        for _ in 0..<10 where try sim.replicas.map({ try $0.status().events }).min()! <= 100 {
            _ = try sim.richHistory(steps: 60)
            try sim.exchangeAll()
        }
        for r in sim.replicas {
            let events = try r.status().events
            try #require(events > 100, "seed \(seed): the history holds \(events) events")
            // Every statement the writer holds prepared, with the steps it spent in full table scans.
            let prepared: [(sql: String, scanSteps: Int32)] = try r.store.write { db in
                var out: [(String, Int32)] = []
                var s = sqlite3_next_stmt(db.sqliteConnection, nil)
                while let stmt = s {
                    if let text = sqlite3_sql(stmt) { out.append((String(cString: text), sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0))) }
                    s = sqlite3_next_stmt(db.sqliteConnection, stmt)
                }
                return out
            }
            let scans = prepared.filter { $0.scanSteps > 0 }
            let logScans = scans.filter { $0.sql.range(of: #"(FROM|JOIN|UPDATE) events\b"#, options: .regularExpression) != nil }
            #expect(logScans.isEmpty, "seed \(seed): statements that scanned the log (\(events) events): \(logScans)")
            // The oracle sees the statements: the writer's cache holds lookups of the log by id.
            let cached = prepared.filter { $0.sql.contains("events e ON substr(e.id, 1, 8)") }.count
            #expect(cached > 0, "seed \(seed): no statement looking the log up by id was seen")
            print("[event-id] seed \(seed): \(scans.count) statements scanned a table (none the log), \(cached) lookups by id seen")
        }
    }

    /// A lie in the log's short key: a row another tool wrote into `events` (a plain SQLite table)
    /// whose id shares the first eight bytes of a real event's id, but not the rest, at a seq of its
    /// own. Every read by id returns the real event, prefix resolution lists both only for the
    /// shared bytes, and an edit of the note the real event created changes that note (the apply
    /// path finds its row through the real event's position).
    @Test func eventIdsSharingAShortKeyAreToldApartByTheWholeId() throws {
        let tmp = TempDir("gloss-shortid", in: memoryTempBase)
        defer { tmp.remove() }
        let clock = MockClock(start: 1_624_800_000_000, step: 1)
        let r = try Replica.create(in: tmp.url, analyst: "ana", key: ReplicaKey(), clock: clock.function)
        defer { try? r.close() }
        let article = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let note = try r.addNote(on: article, body: "the real note").id
        let real = EventID(try #require(Bytes32(hex: note)))
        var bytes = real.raw.bytes
        for i in 8..<32 { bytes[i] = ~bytes[i] }
        let decoy = EventID(try #require(Bytes32(exactly: bytes)))
        try r.store.pool.write { db in
            try db.execute(sql: """
                INSERT INTO events(pos, id, feed, seq, time, type, author, envelope, payload)
                SELECT 1000000, ?, feed, 1000000, time, type, 'mallory', envelope, payload FROM events WHERE id = ?
                """, arguments: [Data(decoy.raw.bytes), Data(real.raw.bytes)])
        }
        try r.store.read { (db: Database) throws in
            #expect(try r.store.event(real, db)?.envelope.seq != 1_000_000)
            #expect(try r.store.event(decoy, db)?.envelope.seq == r.store.event(real, db)?.envelope.seq, "the decoy row holds a copy of the real envelope")
            #expect(try Int64.fetchOne(db, sql: "SELECT \(Registers.eventPos("?1"))", arguments: [Data(real.raw.bytes)]) != 1_000_000)
            #expect(try Int64.fetchOne(db, sql: "SELECT \(Registers.eventPos("?1"))", arguments: [Data(decoy.raw.bytes)]) == 1_000_000)
            #expect(try r.store.eventIDs(prefix: String(note.prefix(20)), db) == [real])
            #expect(try Set(r.store.eventIDs(prefix: String(note.prefix(16)), db)) == [real, decoy])
            #expect(try r.store.heldOrEvidence(id: real, db)?.id == real)
        }
        _ = try r.editNote(note, body: "edited")
        #expect(try r.store.read { try String.fetchOne($0, sql: "SELECT body FROM notes WHERE note = ?", arguments: [note]) } == "edited")
    }

    /// A replica of the earlier layout (`events.id` whole and UNIQUE, the `event_log` view naming the
    /// table) opens into the short index: the same events in the same order, the same projections
    /// (rebuilt from the copied log: a lost or reordered event would change the digest), the view
    /// readable, the database sound, and the replica writes on.
    @Test func aLogOfTheEarlierLayoutMovesToTheShortIndex() throws {
        let seed = Equivalence.seeds("event-id-migration", count: 1)[0]
        let sim = try Simulation(replicas: 2, seed: seed, label: "event-id-v9", deterministicKeys: true, tmpBase: memoryTempBase)
        _ = try sim.richHistory(steps: 60)
        try sim.exchangeAll()
        let r = sim.replicas[0]
        let digest = try r.digest()
        let ids = try r.store.read { try Data.fetchAll($0, sql: "SELECT id FROM events ORDER BY pos") }
        let tmp = TempDir("gloss-v9", in: memoryTempBase)
        defer { tmp.remove() }
        let folder = tmp.sub("earlier")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(".gloss"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: r.folder.appendingPathComponent(".gloss/replica.key"), to: folder.appendingPathComponent(".gloss/replica.key"))
        let path = folder.appendingPathComponent(".gloss/replica.db").path
        do {
            // The store as migrations v1 … v8 left it, holding this replica's log (every store table
            // copied row for row), and the view the projections put on the log.
            let q = try sideConnection(path)
            try ReplicaStore.migrator.migrate(q, upTo: "v8-waits-for-events")
            try q.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS a", arguments: [r.store.path])
                let tables = try String.fetchAll(db, sql: "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'")
                try db.inTransaction {
                    for t in tables { try db.execute(sql: "INSERT INTO main.\"\(t)\" SELECT * FROM a.\"\(t)\"") }
                    try db.execute(sql: "DELETE FROM main.meta WHERE key = 'projection_version'")
                    let view = try #require(try String.fetchOne(db, sql: "SELECT sql FROM a.sqlite_master WHERE name = 'event_log'"))
                    try db.execute(sql: view)
                    return .commit
                }
                try db.execute(sql: "DETACH DATABASE a")
            }
            let unique = try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pragma_index_list('events') WHERE origin = 'u'") }
            #expect(unique == 2, "the earlier layout has UNIQUE(id) and UNIQUE(feed, seq)")
            try q.close()
        }
        let told = Locked<[Replica.Upkeep]>([])
        let tell: @Sendable (Replica.Upkeep) -> Void = { u in told.withValue { $0.append(u) } }
        let moved = try Replica.open(at: folder, upkeep: tell)
        defer { try? moved.close() }
        // Opening told what it did first, before it did it: the migration, then the rebuild (this
        // copy recorded no projection version) with its progress to the last event.
        let upkeep = told.value
        #expect(upkeep.first == .migrating(["v9-events-short-id"]), "\(upkeep)")
        #expect(upkeep.dropFirst().first == .rebuildingProjections(builtBy: nil, version: moved.projectionVersion, events: ids.count), "\(upkeep)")
        #expect(upkeep.last == .rebuilding(done: ids.count, total: ids.count), "\(upkeep)")
        #expect(upkeep.dropFirst(2).allSatisfy { if case .rebuilding = $0 { true } else { false } }, "\(upkeep)")
        #expect(try moved.store.read { try Data.fetchAll($0, sql: "SELECT id FROM events ORDER BY pos") } == ids)
        #expect(try moved.digest() == digest, "seed \(seed): the projections replayed from the moved log differ")
        #expect(try moved.digest(recompute: true) == digest)
        try moved.store.read { db in
            let indexes = try Row.fetchAll(db, sql: "SELECT name, origin FROM pragma_index_list('events')").map { ($0[0] as String, $0[1] as String) }
            #expect(indexes.contains { $0.0 == "events_id" } && indexes.filter { $0.1 == "u" }.count == 1, "\(indexes)")
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM event_log") == ids.count)
        }
        #expect(try moved.verify().faults.isEmpty)
        // It writes on, and a lookup by id finds what it wrote.
        let article = try #require(try moved.store.read { try String.fetchOne($0, sql: "SELECT article FROM articles ORDER BY article") })
        let note = try moved.addNote(on: article, body: "written after the move").id
        #expect(try moved.digest(recompute: true) == moved.digest())
        let id = EventID(try #require(Bytes32(hex: note)))
        #expect(try moved.store.read { try moved.store.event(id, $0) } != nil)
        #expect(try moved.store.read { try moved.store.eventIDs(prefix: String(note.prefix(10)), $0) } == [id])
        // Opened again, and a new replica: nothing to tell.
        try moved.close()
        told.value = []
        try Replica.open(at: folder, upkeep: tell).close()
        let fresh = tmp.sub("fresh")
        try FileManager.default.createDirectory(at: fresh, withIntermediateDirectories: true)
        try Replica.create(in: fresh, analyst: "new").close()
        try Replica.open(at: fresh, upkeep: tell).close()
        #expect(told.value.isEmpty, "\(told.value)")
    }
}

/// A candidate's id is the hash Protocol/04 §Tables names, computed here from the text:
/// SHA-256("gloss/candidate" ‖ 0 ‖ revision ‖ 0 ‖ rules version ‖ 0 ‖ ordinal), as UTF-8, the
/// revision in lowercase hex and the numbers in decimal.
@Suite struct CandidateIDTests {
    @Test func everyCandidateIdIsTheSpecsHash() throws {
        let tmp = TempDir("gloss-candidate-id")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana", clock: MockClock(start: 1_624_800_000_000, step: 1).function)
        _ = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        let rows = try r.store.read { try Row.fetchAll($0, sql: "SELECT candidate, revision, rules_version, ordinal FROM candidates") }
        #expect(rows.count > 20, "the sample article gave \(rows.count) candidates")
        for row in rows {
            let revision: String = row[1], rules: Int64 = row[2], ordinal: Int64 = row[3]
            let expected = SHA256.hash(data: Array("gloss/candidate\u{0}\(revision)\u{0}\(rules)\u{0}\(ordinal)".utf8))
                .map { String(format: "%02x", $0) }.joined()
            #expect(row[0] == expected, "candidate \(ordinal) of \(revision.prefix(12))")
        }
    }
}
