import Foundation
import GlossEngine
import GlossTestSupport
import Testing

@Suite struct QueryTests {
    func replica() throws -> (Replica, TempDir) {
        let tmp = TempDir("gloss-query")
        let r = try Replica.create(in: tmp.url, analyst: "ana", clock: MockClock().function)
        let a = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        _ = try r.addNote(on: a.id, body: "Exercises in September 2021.")
        return (r, tmp)
    }

    func rows(_ r: Replica, _ sql: String, timeout: Double = 5) throws -> [[QueryValue]] {
        var out: [[QueryValue]] = []
        try r.query(sql, timeLimit: timeout, columns: { _ in }, row: { out.append($0) })
        return out
    }

    @Test func readsWork() throws {
        let (r, tmp) = try replica()
        defer { tmp.remove() }
        #expect(try rows(r, "SELECT count(*) FROM notes") == [[.int(1)]])
        #expect(try rows(r, "SELECT body FROM live_notes") == [[.text("Exercises in September 2021.")]])
        #expect(try rows(r, "PRAGMA table_info(notes)").count > 5)
        #expect(try rows(r, "SELECT type FROM event_log ORDER BY pos") == [[.text("ArticleIngested")], [.text("NoteAdded")]])
        // The index holds no text: its rowid names the row (× 4 + 1 a note, × 4 + 2 a revision).
        #expect(try rows(r, "SELECT rowid % 4 FROM search WHERE search MATCH 'september' ORDER BY 1") == [[.int(1)], [.int(2)]])
    }

    @Test(arguments: [
        "INSERT INTO notes(note) VALUES ('x')",
        "UPDATE notes SET body = 'x'",
        "DELETE FROM notes",
        "DELETE FROM events",
        "DROP TABLE notes",
        "CREATE TABLE t(x)",
        "CREATE TEMP TABLE t(x)",
        "CREATE VIEW v AS SELECT 1",
        "ALTER TABLE notes ADD COLUMN x",
        "ATTACH DATABASE '/tmp/gloss-attack.db' AS x",
        "DETACH DATABASE main",
        "PRAGMA query_only = 0",
        "PRAGMA query_only=OFF",
        "pragma QUERY_ONLY = false",
        "PRAGMA writable_schema = 1",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA user_version = 7",
        "PRAGMA main.user_version = 7",
        "PRAGMA foreign_keys = 0",
        "PRAGMA recursive_triggers = 1",
        "VACUUM",
        "VACUUM INTO '/tmp/gloss-copy.db'",
        "REINDEX",
        "ANALYZE",
        "BEGIN IMMEDIATE",
        "SAVEPOINT s",
        "SELECT load_extension('/tmp/x')",
        "SELECT 1; DELETE FROM notes",
        "WITH x AS (SELECT 1) DELETE FROM notes",
        "INSERT INTO search(search) VALUES ('delete-all')",
        "UPDATE sqlite_master SET sql = '' WHERE name = 'notes'",
    ])
    func writesAreRefused(sql: String) throws {
        let (r, tmp) = try replica()
        defer { tmp.remove() }
        let digest = try r.digest()
        #expect(throws: GlossError.self, "\(sql) was not refused") { try rows(r, sql) }
        #expect(try r.digest() == digest)
        #expect(try r.status().notes == 1)
        #expect(try rows(r, "SELECT count(*) FROM events") == [[.int(2)]])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/gloss-copy.db"))
    }

    /// Whatever the authorizer denies is refused (exit 5), whether SQLite finds it when the
    /// statement is prepared or when it runs (a pragma's table-valued function: it was exit 65,
    /// "SQL error: not authorized"; an audit, 2026-12-07).
    @Test(arguments: [
        "SELECT * FROM pragma_database_list",
        "SELECT name FROM pragma_database_list",
        "PRAGMA user_version = 7",
        "ATTACH DATABASE '/tmp/gloss-attack.db' AS x",
        "SELECT load_extension('/tmp/x')",
    ])
    func deniedStatementsAreRefusedNotSQLErrors(sql: String) throws {
        let (r, tmp) = try replica()
        defer { tmp.remove() }
        do {
            _ = try rows(r, sql)
            Issue.record("\(sql) was not refused")
        } catch let e as GlossError {
            #expect(e.code == .refused, "\(sql): \(e.code) \(e.message)")
        }
    }

    @Test func aQueryPastItsTimeLimitIsStopped() throws {
        let (r, tmp) = try replica()
        defer { tmp.remove() }
        let start = Date()
        do {
            _ = try rows(r, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", timeout: 0.3)
            Issue.record("an endless query returned")
        } catch let e as GlossError {
            #expect(e.message.contains("time limit"))
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// The web view caches as-of snapshots by the set of events a point selects: two instants with
    /// no event between them are one snapshot, an event between them makes two.
    @Test func timePointsBetweenTheSameEventsShareASnapshotKey() throws {
        let tmp = TempDir("gloss-asof-key")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana", clock: MockClock(start: 1_624_800_000_000, step: 10_000).function)
        let a = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        let times = try r.store.read { try Int64.fetchAll($0, sql: "SELECT time >> 16 FROM events ORDER BY time") }.map(UInt64.init)
        _ = try r.addNote(on: a.id, body: "later")
        let last = try r.store.read { try Int64.fetchOne($0, sql: "SELECT max(time) >> 16 FROM events") }.map(UInt64.init)!
        func key(_ ms: UInt64) throws -> String { try r.snapshotKey(.time(milliseconds: ms)) }
        #expect(try key(times.last!) == key(times.last! + 1) && key(times.last!) == key(last - 1))
        #expect(try key(last - 1) != key(last) && key(last) == key(last + 5_000) && key(last) == key(UInt64(1) << 62))
        #expect(try key(times.first! - 1) == key(1) && key(1) != key(times.first!))
    }

    @Test func searchFindsArticlesAndNotes() throws {
        let (r, tmp) = try replica()
        defer { tmp.remove() }
        let hits = try r.search("September")
        #expect(Set(hits.map(\.kind)) == ["note", "revision"])
        #expect(try r.search("Hasanov interoperability").count == 1)
        #expect(try r.search("nonexistentword").isEmpty)
        // Quotes and FTS syntax in the input are words, not operators.
        #expect(try r.search("\"September\" OR NEAR(").isEmpty)
    }

    /// The index holds no text: a hit is read from the row its rowid names. Index rows that name
    /// no row (written by another tool: a rowid past every table's, a negative one, one of each
    /// kind) are no hits, and no search traps on them.
    @Test func indexRowsNamingNoRowAreNotHits() throws {
        let (r, tmp) = try replica()
        defer { tmp.remove() }
        let before = try r.search("September").map { "\($0.kind) \($0.id)" }.sorted()
        try r.store.pool.write { db in
            for rowid: Int64 in [-1, -4, -7, 4_000_000, 4_000_001, 4_000_002, 4_000_003, Int64.max, Int64.min + 1] {
                try db.execute(sql: "INSERT INTO search(rowid, body) VALUES (?, 'September ghost')", arguments: [rowid])
            }
        }
        #expect(try r.search("September").map { "\($0.kind) \($0.id)" }.sorted() == before)
        #expect(try r.search("ghost").isEmpty)
    }
}
