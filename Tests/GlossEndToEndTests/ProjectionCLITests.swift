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

        let diff = try gloss("diff", "--from", vfile.path, "--to", editTime, "--json")
        #expect(diff.status == 0, "\(diff.stderr)")
        let listed = try #require(try diff.json() as? [[String: Any]])
        #expect(listed.map { $0["type"] as? String } == ["NoteAdded", "NoteEdited"])
        #expect(listed.allSatisfy { $0["author"] as? String == "ana" && $0["summary"] != nil && $0["time"] != nil })
        #expect(try gloss("diff", "--from", editTime, "--to", vfile.path, "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
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
