import Foundation
import GlossTestSupport
import Testing

/// Hub replicas on PostgreSQL (Protocol/12-hub.md): real `gloss serve --store` processes on a real
/// PostgreSQL cluster (`GLOSS_PG_URL`, from `Scripts/pg-cluster.sh`), real clients over real
/// sockets. Skipped without a cluster unless `GLOSS_REQUIRE_PG=1` (Scripts/test.sh), which makes
/// them fail instead.
@Suite(.serialized, .timeLimit(.minutes(15)), .enabled(if: PostgresTestDatabase.enabled))
struct HubTests {
    static func gloss(_ args: [String], _ tmp: TempDir, env: [String: String] = [:]) throws -> GlossProcess.Result {
        try GlossProcess.run(args, cwd: tmp.url, env: env)
    }

    /// `gloss serve --store URL --cache DIR` on a free port.
    static func hub(_ db: PostgresTestDatabase, cache: URL) throws -> ServeProcess {
        try ServeProcess(arguments: ["--store", db.url, "--cache", cache.path])
    }

    /// A replica holding every kind of event (the same history `Scripts/test.sh` gives the verifier).
    static func richHistory(_ dir: URL, _ tmp: TempDir) throws {
        func run(_ a: [String]) throws -> String {
            let r = try gloss(a + ["--dir", dir.path], tmp)
            #expect(r.status == 0, "\(a): \(r.stderr)")
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let fixture = repositoryRoot().appendingPathComponent("Tests/Fixtures/2021-06-26-trilateral-special-forces.txt")
        let art = try run(["ingest", fixture.path])
        let note = try run(["note", "add", "--on", art, "--text", "Check the exercise date."])
        _ = try run(["note", "edit", note, "--text", "Exercises in September 2021.\nSecond line."])
        _ = try run(["source", "add", "Dawn", "--kind", "outlet"])
        _ = try run(["grade", "source", "Dawn", "--reliability", "B"])
        let fact = try run(["fact", "add", "--article", art, "--subject", "Special Forces", "--predicate", "will hold", "--object", "exercises",
                            "--source", "Dawn", "--evidence", "hold exercises in Azerbaijan in September"])
        _ = try run(["fact", "amend", fact, "--field", "when", "--value", "2021-09"])
        _ = try run(["grade", "fact", fact, "--credibility", "2"])
        let ann = try run(["annotate", art, "--quote", "inspecting the landfills", "--comment", "odd", "--tag", "follow-up"])
        let text = try String(contentsOf: fixture, encoding: .utf8).replacingOccurrences(of: "inspecting the landfills", with: "inspecting the training grounds")
        let v2 = tmp.sub("v2-\(UUID().uuidString.prefix(6)).txt")
        try text.write(to: v2, atomically: true, encoding: .utf8)
        _ = try run(["ingest", "--revises", art, v2.path])
        _ = try run(["anchor", "confirm", ann])
        _ = try run(["tag", note, "важно"])
        _ = try run(["link", note, "about", fact])
        _ = try run(["fact", "retract", fact, "--reason", "test"])
    }

    static func digest(_ args: [String], _ tmp: TempDir) throws -> String {
        let r = try gloss(["digest"] + args, tmp)
        #expect(r.status == 0, "digest \(args): \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func vector(_ args: [String], _ tmp: TempDir) throws -> [String: Int] {
        let r = try gloss(["status", "--json"] + args, tmp)
        #expect(r.status == 0, "status \(args): \(r.stderr)")
        return (r.object["versionVector"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }

    /// The rows of `sql` on a replica's SQLite database, as sqlite3 prints them (`|` between columns).
    static func sqlite(_ dir: URL, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", "-readonly", dir.appendingPathComponent(".gloss/replica.db").path, sql]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: d, as: UTF8.self)
    }

    /// The documented projection tables (Protocol/04) with their keys, and the log seen through `event_log`.
    static let projectionTables: [(String, String)] = [
        ("articles", "article"), ("article_revisions", "sha256"), ("notes", "note"), ("note_revisions", "event"),
        ("candidates", "candidate"), ("tags", "addition"), ("links", "addition"), ("facts", "fact"), ("fact_revisions", "event"),
        ("sources", "source"), ("grades", "event"), ("annotations", "annotation"), ("anchors", "object"),
        ("anchor_decisions", "event"), ("conflicts", "conflict"), ("conflict_candidates", "conflict, event"),
        ("frozen_feeds", "replica"), ("events_not_understood", "event"), ("redactions", "event"),
    ]

    // MARK: Tests

    @Test func aSQLiteReplicaAndAPostgreSQLHubHoldingTheSameEventsHaveTheSameDigestAndRows() throws {
        let tmp = TempDir("gloss-hub-eq")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("eq")
        defer { db.drop() }
        let initRun = try Self.gloss(["hub", "init", "--store", db.url, "--json"], tmp)
        #expect(initRun.status == 0, "\(initRun.stderr)")
        #expect(initRun.object["existing"] as? Bool == false)
        let a = tmp.sub("ana"), b = tmp.sub("bo")
        #expect(try Self.gloss(["init", "--analyst", "ana", "--dir", a.path], tmp).status == 0)
        #expect(try Self.gloss(["init", "--analyst", "bo", "--dir", b.path], tmp).status == 0)
        try Self.richHistory(a, tmp)
        #expect(try Self.gloss(["source", "add", "--dir", b.path, "Reuters"], tmp).status == 0)
        let hub = try Self.hub(db, cache: tmp.sub("hub-cache"))
        defer { hub.stop() }
        for dir in [a, b, a] {
            let s = try Self.gloss(["sync", "--dir", dir.path, "127.0.0.1:\(hub.port)"], tmp)
            #expect(s.status == 0, "\(s.stderr)")
        }
        let replica = try Self.digest(["--dir", a.path], tmp)
        #expect(replica == (try Self.digest(["--dir", b.path], tmp)))
        #expect(replica == (try Self.digest(["--store", db.url], tmp)), "maintained digest of the hub database")
        #expect(replica == (try Self.digest(["--store", db.url, "--recompute"], tmp)), "recomputed from the PostgreSQL rows")
        #expect(try Self.vector(["--dir", a.path], tmp) == (try Self.vector(["--store", db.url], tmp)))
        // Equal rows, table by table (text and integers print alike in sqlite3 and psql).
        for (table, key) in Self.projectionTables {
            let lite = try Self.sqlite(a, "SELECT * FROM \(table) ORDER BY \(key)")
            let pg = try db.sql("SELECT * FROM \(table) ORDER BY \(key.split(separator: ",").map { "\($0.trimmingCharacters(in: .whitespaces)) COLLATE \"C\"" }.joined(separator: ", "))")
            #expect(lite == pg, "table \(table) differs")
        }
        let logLite = try Self.sqlite(a, "SELECT id, replica, seq, time, type, author, envelope_bytes, payload_bytes FROM event_log ORDER BY id")
        let logPG = try db.sql("SELECT id, replica, seq, time, type, author, envelope_bytes, payload_bytes FROM event_log ORDER BY id COLLATE \"C\"")
        #expect(logLite == logPG, "event_log differs")
        #expect(try db.sql("SELECT count(*) FROM fact_view WHERE grade = 'B2'").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        let verify = try Self.gloss(["verify", "--store", db.url], tmp)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(hub.stop() == 0)
    }

    @Test func hubInitIsIdempotentAndOtherVersionsAndBadURLsAreRefused() throws {
        let tmp = TempDir("gloss-hub-init")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("init")
        defer { db.drop() }
        let first = try Self.gloss(["hub", "init", "--store", db.url, "--json"], tmp)
        #expect(first.status == 0, "\(first.stderr)")
        let tables = try db.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        let second = try Self.gloss(["hub", "init", "--store", db.url, "--json"], tmp)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.object["existing"] as? Bool == true)
        #expect((second.object["applied"] as? [Any])?.isEmpty == true)
        #expect(try db.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == tables)
        // Serving a database that was never initialized.
        let bare = try PostgresTestDatabase("bare")
        defer { bare.drop() }
        let notHub = try Self.gloss(["status", "--store", bare.url], tmp)
        #expect(notHub.status == 3, "\(notHub.stderr)")
        #expect(notHub.stderr.contains("gloss hub init"))
        // A database built for another projection version.
        try db.sql("UPDATE hub_migrations SET name = 'v2-replica-p1' WHERE name LIKE 'v2-replica-%'; UPDATE hub_meta SET value = '1' WHERE key = 'projection_version'")
        for args in [["hub", "init", "--store", db.url], ["serve", "--store", db.url, "--cache", tmp.sub("c").path, "--listen", "127.0.0.1:0"], ["digest", "--store", db.url]] {
            let r = try Self.gloss(args, tmp)
            #expect(r.status == 5, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("built for projections version 1"), "\(r.stderr)")
        }
        // A malformed URL is a usage error; an unreachable server a connection failure.
        let bad = try Self.gloss(["status", "--store", "mysql://x@y/z"], tmp)
        #expect(bad.status == 64, "\(bad.stderr)")
        #expect(bad.stderr.contains("postgres://USER@HOST"))
        let closedPort = try Self.gloss(["hub", "init", "--store", "postgres://gloss@127.0.0.1:1/gloss"], tmp)
        #expect(closedPort.status == 1, "\(closedPort.stderr)")
        #expect(closedPort.stderr.contains("cannot connect to the hub database"), "\(closedPort.stderr)")
    }
}
