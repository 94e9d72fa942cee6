import Foundation
import GlossTestSupport
import Testing

@Suite struct ProjectionCLITests {
    let tmp = TempDir("gloss-proj-e2e")

    func gloss(_ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }

    func setUp() throws -> (article: String, note: String, events: [[String: Any]]) {
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let f = tmp.sub("a.txt")
        try Data(sampleArticleBytes()).write(to: f)
        let article = try gloss("ingest", f.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let note = try gloss("note", "add", "--on", article, "--text", "first body").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try gloss("note", "edit", note, "--text", "second body about Hasanov").status == 0)
        let events = try gloss("log", "--json").lines.compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return (article, note, events)
    }

    @Test func rebuildDigestAndStatusAgree() throws {
        defer { tmp.remove() }
        _ = try setUp()
        let status = try gloss("status", "--json").object
        let digest = try #require(status["digest"] as? String)
        #expect(digest.count == 64)
        #expect(status["pending"] as? Int == 0)
        #expect(status["openConflicts"] as? Int == 0)
        let d = try gloss("digest", "--recompute", "--json").object
        #expect(d["digest"] as? String == digest)
        #expect(d["projectionVersion"] as? Int != nil)
        let rebuild = try gloss("rebuild", "--json")
        #expect(rebuild.status == 0)
        #expect(rebuild.object["digest"] as? String == digest)
        #expect(rebuild.object["events"] as? Int == 3)
        // Not a terminal, and --json: no progress lines unless asked for; then plain lines with exact counts.
        #expect(!rebuild.stderr.contains("rebuild:"))
        let asked = try gloss("rebuild", "--json", "--progress")
        #expect(asked.status == 0)
        #expect(asked.stderr.contains("rebuild: 3/3"))
    }

    /// A replica whose projections an earlier build made (another projection version) is rebuilt
    /// when a command opens it: the command says so on standard error, once, before its own output
    /// (which a script reads unchanged), and the next command opens it silently.
    @Test func aRebuildOnOpenIsToldOnStandardError() throws {
        defer { tmp.remove() }
        _ = try setUp()
        let before = try gloss("status", "--json")
        #expect(before.status == 0 && before.stderr.isEmpty, "\(before.stderr)")
        let digest = try #require(before.object["digest"] as? String)
        let version = try #require(try gloss("digest", "--json").object["projectionVersion"] as? Int)
        let db = tmp.url.appendingPathComponent(".gloss/replica.db").path
        _ = try sqlite(db, "UPDATE meta SET value = \(version - 1) WHERE key = 'projection_version'")
        #expect(try sqlite(db, "SELECT value FROM meta WHERE key = 'projection_version'") == String(version - 1))
        let upgraded = try gloss("status", "--json")
        #expect(upgraded.status == 0, "\(upgraded.stderr)")
        #expect(upgraded.object["digest"] as? String == digest)
        #expect(upgraded.stderr == "gloss: rebuilding the projections from the log (3 events) before the command: they were built by projection version \(version - 1), this gloss builds version \(version)\n",
                "\(upgraded.stderr)")
        let again = try gloss("status", "--json")
        #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
        // Stale projections (a session's deferred rebuild cut short): the notice, and no progress
        // lines (standard error is not a terminal) unless asked for.
        let staleNotice = "gloss: rebuilding the projections from the log (3 events) before the command: an interrupted session left them stale\n"
        _ = try sqlite(db, "INSERT INTO meta(key, value) VALUES ('projections_stale', 1)")
        let stale = try gloss("log", "--json")
        #expect(stale.status == 0 && stale.lines.count == 3, "\(stale.stderr)")
        #expect(stale.stderr == staleNotice, "\(stale.stderr)")
        _ = try sqlite(db, "INSERT INTO meta(key, value) VALUES ('projections_stale', 1)")
        let asked = try gloss("rebuild", "--json", "--progress")
        #expect(asked.status == 0 && asked.object["digest"] as? String == digest, "\(asked.stderr)")
        #expect(asked.stderr.hasPrefix(staleNotice + "rebuild: 3/3\n"), "\(asked.stderr)")
    }

    /// A lie in `meta.projection_version` (another tool's write: text, a blob, NULL, the largest
    /// integer, a negative one) is not believed: the command rebuilds, says so, exits 0 with the
    /// genuine digest, and records this build's version (the next command is silent).
    @Test func aLyingProjectionVersionIsRebuiltNotBelieved() throws {
        defer { tmp.remove() }
        _ = try setUp()
        let digest = try #require(try gloss("status", "--json").object["digest"] as? String)
        let version = try #require(try gloss("digest", "--json").object["projectionVersion"] as? Int)
        let db = tmp.url.appendingPathComponent(".gloss/replica.db").path
        for lie in ["'abc'", "x'ff'", "NULL", "9223372036854775807", "-1", "1e300"] {
            _ = try sqlite(db, "UPDATE meta SET value = \(lie) WHERE key = 'projection_version'")
            let r = try gloss("status", "--json")
            #expect(r.status == 0, "\(lie): \(r.stderr)")
            #expect(r.stderr.hasPrefix("gloss: rebuilding the projections from the log (3 events) before the command: "), "\(lie): \(r.stderr)")
            #expect(r.object["digest"] as? String == digest, "\(lie)")
            #expect(try sqlite(db, "SELECT value FROM meta WHERE key = 'projection_version'") == String(version), "\(lie)")
            let again = try gloss("status", "--json")
            #expect(again.status == 0 && again.stderr.isEmpty, "\(lie): \(again.stderr)")
        }
    }

    @Test func asOfByEventTimeAndVectorAndDiff() throws {
        defer { tmp.remove() }
        let (_, note, events) = try setUp()
        let second = try #require(events[1]["id"] as? String)
        // As of the note's creation (by event id prefix): the note has its first body.
        let out1 = tmp.sub("asof1.db")
        let r1 = try gloss("as-of", String(second.prefix(10)), "--out", out1.path, "--json")
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r1.object["events"] as? Int == 2)
        let body1 = try gloss("query", "--dir", tmp.url.path, "SELECT 1").status  // sanity
        #expect(body1 == 0)
        let q = try GlossProcess.run(["query", "SELECT body FROM notes WHERE note = '\(note)'", "--json", "--dir", tmp.url.path], cwd: tmp.url)
        #expect((try q.json() as? [[String: Any]])?.first?["body"] as? String == "second body about Hasanov")
        let asOfBody = try sqlite(out1.path, "SELECT body FROM notes")
        #expect(asOfBody == "first body")
        // By time: the edit's time names everything.
        let editTime = try #require(events[2]["time"] as? String)
        let out2 = tmp.sub("asof2.db")
        #expect(try gloss("as-of", editTime, "--out", out2.path).status == 0)
        #expect(try sqlite(out2.path, "SELECT body FROM notes") == "second body about Hasanov")
        // By vector file, and the refusal of an existing output file.
        let vfile = tmp.sub("v.json")
        let replica = try #require(events[0]["replica"] as? String)
        try "{\"gloss\": \"version-vector\", \"format\": 1, \"vector\": {\"\(replica)\": 1}}".write(to: vfile, atomically: true, encoding: .utf8)
        let out3 = tmp.sub("asof3.db")
        #expect(try gloss("as-of", vfile.path, "--out", out3.path).status == 0)
        #expect(try sqlite(out3.path, "SELECT count(*) FROM notes") == "0")
        #expect(try gloss("as-of", vfile.path, "--out", out3.path).status == 5)
        #expect(try gloss("as-of", "yesterday-ish", "--out", tmp.sub("x.db").path).status == 65)
        // An output in a folder that does not exist: the output is named, not the replica.
        let nowhere = try gloss("as-of", editTime, "--out", tmp.sub("no/such/folder/x.db").path)
        #expect(nowhere.status == 65 && nowhere.stderr.contains("there is no folder") && !nowhere.stderr.contains("replica database"), "\(nowhere.stderr)")

        // A symbolic link to nothing is an existing name, not a path to follow (it was followed).
        try FileManager.default.createSymbolicLink(atPath: tmp.sub("dangling.db").path, withDestinationPath: tmp.sub("nowhere.db").path)
        #expect(try gloss("as-of", editTime, "--out", tmp.sub("dangling.db").path).status == 5)
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("nowhere.db").path))
        // What is in the folder never changes what a point means (an audit, 2026-12-06): a time is a
        // time even when a file has its name; hex is an event id, and a file of that name too is
        // ambiguous (6) — `./NAME` is the file.
        try "{}".write(to: tmp.sub(editTime), atomically: true, encoding: .utf8)
        #expect(try gloss("as-of", editTime, "--out", tmp.sub("t.db").path).status == 0)
        let prefix = String(second.prefix(10))
        try "{\"gloss\": \"version-vector\", \"format\": 1, \"vector\": {}}".write(to: tmp.sub(prefix), atomically: true, encoding: .utf8)
        let both = try gloss("as-of", prefix, "--out", tmp.sub("p.db").path)
        #expect(both.status == 6 && both.stderr.contains("./\(prefix)"), "\(both.status) \(both.stderr)")
        let file = try gloss("as-of", "./" + prefix, "--out", tmp.sub("p.db").path, "--json")
        #expect(file.status == 0 && file.object["events"] as? Int == 0, "\(file.stdout) \(file.stderr)")

        let diff = try gloss("diff", "--from", vfile.path, "--to", editTime, "--json")
        #expect(diff.status == 0, "\(diff.stderr)")
        let listed = try #require(try diff.json() as? [[String: Any]])
        #expect(listed.map { $0["type"] as? String } == ["NoteAdded", "NoteEdited"])
        #expect(listed.allSatisfy { $0["author"] as? String == "ana" && $0["summary"] != nil && $0["time"] != nil })
        #expect(try gloss("diff", "--from", editTime, "--to", vfile.path, "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    /// An as-of killed partway leaves nothing at its output (it left an empty database there that
    /// looked like a point with no events, and a retry was refused: an audit, 2026-12-06).
    /// Any legal file name is an output: names of 196–255 bytes (the file system's limit) failed
    /// with exit 1, the hidden name being written beside it then being past the limit.
    @Test func asOfWritesToANameOfTheFileSystemsLongest() throws {
        defer { tmp.remove() }
        _ = try setUp()
        for name in [String(repeating: "x", count: 252) + ".db", String(repeating: "é", count: 100) + "-as-of.db"] {
            #expect(name.utf8.count <= 255)
            let out = tmp.sub(name)
            let r = try gloss("as-of", "2100-01-01T00:00:00Z", "--out", out.path, "--json")
            #expect(r.status == 0, "\(name.utf8.count)-byte name: exit \(r.status): \(r.stderr)")
            #expect(r.object["events"] as? Int == 3)
            #expect(FileManager.default.fileExists(atPath: out.path))
            let left = try FileManager.default.contentsOfDirectory(atPath: tmp.url.path).filter { $0.contains("gloss-partial") }
            #expect(left.isEmpty, "hidden files left: \(left)")
        }
    }

    @Test func anInterruptedAsOfLeavesNothingAtItsOutput() throws {
        defer { tmp.remove() }
        let bundle = tmp.sub("h.glossb")
        #expect(try gloss("bench", "generate", "--out", bundle.path, "--events", "4000", "--replicas", "3").status == 0)
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        #expect(try gloss("bundle", "import", bundle.path).status == 0)
        let out = tmp.sub("o.db")
        let p = Process()
        p.executableURL = GlossProcess.binary
        p.arguments = ["as-of", "2100-01-01T00:00:00Z", "--out", out.path]
        p.currentDirectoryURL = tmp.url
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        // Killed as soon as its database is being written.
        let deadline = Date().addingTimeInterval(30)
        func partial() -> Bool { ((try? FileManager.default.contentsOfDirectory(atPath: tmp.url.path)) ?? []).contains { $0.hasPrefix(".o.db.gloss-partial-") } }
        while p.isRunning && !partial() && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        let caught = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(caught, "the as-of finished before it could be killed: make the history larger")
        if caught { #expect(!FileManager.default.fileExists(atPath: out.path), "nothing at --out before the database is whole") } else { try? FileManager.default.removeItem(at: out) }
        // A retry writes it whole, under its name only.
        let again = try gloss("as-of", "2100-01-01T00:00:00Z", "--out", out.path, "--json")
        #expect(again.status == 0 && again.object["events"] as? Int == 4000, "\(again.stdout) \(again.stderr)")
        #expect(!partial() || caught, "a finished as-of leaves no partial file")
    }

    @Test func queryAndSearchFromTheCommandLine() throws {
        defer { tmp.remove() }
        _ = try setUp()
        let q = try gloss("query", "SELECT kind, count(*) AS n FROM objects GROUP BY kind ORDER BY kind", "--json")
        #expect(q.status == 0)
        let rows = try #require(try q.json() as? [[String: Any]])
        #expect(rows.map { $0["kind"] as? String } == ["article", "candidate", "note", "revision"])
        let refused = try gloss("query", "PRAGMA query_only = 0")
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("read-only"))
        #expect(try gloss("query", "SELEC nonsense").status == 65)
        let s = try gloss("search", "Hasanov", "--json")
        let hits = try #require(try s.json() as? [[String: Any]])
        #expect(Set(hits.compactMap { $0["kind"] as? String }) == ["note", "revision"])
    }

    func sqlite(_ db: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [db, sql]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run(); p.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
