import Foundation
import GlossTestSupport
import Testing

/// End-to-end runs of the built `gloss` binary in temporary folders.
@Suite struct CLITests {
    let tmp = TempDir("gloss-e2e")
    var dir: URL { tmp.url }

    func gloss(_ args: String..., cwd: URL? = nil) throws -> GlossProcess.Result {
        try GlossProcess.run(args, cwd: cwd ?? dir)
    }

    func gloss(_ args: [String]) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: dir) }

    func sampleFile() throws -> URL {
        let f = tmp.sub("2021-06-26-trilateral-special-forces.txt")
        if !FileManager.default.fileExists(atPath: f.path) { try Data(sampleArticleBytes()).write(to: f) }
        return f
    }

    /// Runs `script` in `/bin/sh` with `$G` the gloss binary (for what a Swift `String` argument
    /// cannot carry: bytes that are not UTF-8, redirections).
    func shell(_ script: String) throws -> GlossProcess.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["G"] = GlossProcess.binary.path
        env.removeValue(forKey: "GLOSS_DIR")
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return GlossProcess.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Found by an audit of the CLI (2026-12-06): output that could not be written (`> /dev/full`)
    /// exited 0, so `gloss vector > peer.vector` on a full disk looked done; and an argument that
    /// is not UTF-8 was stored repaired (U+FFFD in a note body, a tag, a folder's name). Now exit 7
    /// and exit 65 (with `--json`, its error object), nothing written.
    /// `log --json`'s `deps` is the full deps; `depsDelta` is the envelope's field (an audit read
    /// `deps` as the envelope's, which it is not: 2026-12-06).
    @Test func logShowsTheFullDepsAndTheEnvelopesDelta() throws {
        defer { tmp.remove() }
        let (a, b) = (tmp.sub("a").path, tmp.sub("b").path)
        #expect(try gloss("init", "--analyst", "ana", "--dir", a).status == 0)
        #expect(try gloss("init", "--analyst", "bo", "--dir", b).status == 0)
        let art = try gloss("ingest", try sampleFile().path, "--dir", a).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try gloss("bundle", "export", "--all", "--plain", "--out", tmp.sub("ab.glossb").path, "--dir", a).status == 0)
        #expect(try gloss("bundle", "import", tmp.sub("ab.glossb").path, "--dir", b).status == 0)
        #expect(try gloss("tag", art, "t1", "--dir", b).status == 0)
        #expect(try gloss("tag", art, "t2", "--dir", b).status == 0)
        let ana = try gloss("whoami", "--json", "--dir", a).object["replica"] as? String ?? ""
        let bo = try gloss("whoami", "--json", "--dir", b).object["replica"] as? String ?? ""
        let lines = try gloss("log", "--json", "--dir", b).lines.compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let mine = lines.filter { $0["replica"] as? String == bo }.sorted { ($0["seq"] as? Int ?? 0) < ($1["seq"] as? Int ?? 0) }
        #expect(mine.count == 2)
        #expect(mine.first?["depsDelta"] as? [String: Int] == [ana: 1] && mine.first?["deps"] as? [String: Int] == [ana: 1], "\(mine)")
        #expect(mine.last?["depsDelta"] as? [String: Int] == [:], "nothing grew since bo's first event: \(mine)")
        #expect((mine.last?["deps"] as? [String: Int])?[ana] == 1, "the full deps still name ana's event: \(mine)")
    }

    @Test func outputThatCannotBeWrittenAndArgumentsThatAreNotUTF8Fail() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let art = try gloss("ingest", try sampleFile().path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for command in ["vector", "status --json", "log --json", "query --json 'SELECT * FROM candidates'", "--help"] {
            let r = try shell("\"$G\" \(command) > /dev/full")
            #expect(r.status == 7 && r.stderr.contains("cannot write the output"), "\(command): \(r.status) \(r.stderr)")
        }
        // Outputs of every size around the stream's buffer (4,096 bytes here): a write that failed
        // and left nothing in the buffer passed unseen (4,097 bytes exited 0 through `fflush(NULL)`).
        for n in 4090...4100 {
            let r = try shell("\"$G\" query \"SELECT substr(printf('%9000s', ''), 1, \(n - 3)) AS x\" > /dev/full")
            #expect(r.status == 7 && r.stderr.contains("cannot write the output"), "\(n) bytes: \(r.status) \(r.stderr)")
        }
        #expect(try shell("\"$G\" vector > /dev/null").status == 0)
        let before = try gloss("status", "--json").object["events"] as? Int
        for (script, position) in [("\"$G\" note add --on \(art) --text \"$(printf 'bad\\377')\"", 6), ("\"$G\" tag \(art) \"$(printf 'caf\\351')\"", 3),
                                   ("\"$G\" init --dir \"$(printf 'dir\\377')\" --analyst x", 3)] {
            let r = try shell(script)
            #expect(r.status == 65 && r.stderr.contains("argument \(position) is not valid UTF-8"), "\(script): \(r.status) \(r.stderr)")
            let j = try shell(script + " --json")
            #expect(j.status == 65 && j.object["exit"] as? Int == 65 && j.object["code"] as? String == "badInput", "\(j.stdout)")
        }
        #expect(try gloss("status", "--json").object["events"] as? Int == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix("dir") })
        // DEL and C1 in stored text: `--json` lines stay valid JSON (they were rewritten as `\u{7F}`
        // for the terminal after the JSON was written) and carry no raw control.
        let added = try gloss("note", "add", "--on", art, "--text", "del \u{7F} nel \u{85} csi \u{9B}", "--json")
        // `show` and `vector` print JSON anyway; `--json` is accepted there too (it was a usage error).
        for args in [["show", art, "--json"], ["vector", "--json"]] {
            let r = try gloss(args)
            #expect(r.status == 0 && (try? r.json()) != nil, "\(args): \(r.status) \(r.stderr)")
        }
        // `existing` is always there (it was left out when false).
        #expect(added.status == 0 && added.object["existing"] as? Bool == false && added.object["event"] is String, "\(added.stdout)")
        let log = try gloss("log", "--json")
        for line in log.lines {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(row != nil, "not JSON: \(line.prefix(200))")
        }
        #expect(log.stdout.contains(#"del \u007f nel \u0085 csi \u009b"#) && !log.stdout.unicodeScalars.contains { (0x7F...0x9F).contains($0.value) })
    }

    /// A malformed `--store` URL is echoed in its error without the password in it (found by an
    /// audit, 2026-12-06: it reached the terminal and the JSON error).
    @Test func aMalformedStoreURLIsEchoedWithoutItsPassword() throws {
        defer { tmp.remove() }
        for url in ["postgres://u:s3cretpw@127.0.0.1/db?x", "postgres://u:s3cret@pw@127.0.0.1/", "postgresql://u:s3cretpw@/db"] {
            let r = try gloss("status", "--store", url, "--json")
            #expect(r.status == 64 && r.stderr.contains("is not a PostgreSQL URL"), "\(url): \(r.status) \(r.stderr)")
            #expect(!r.stdout.contains("s3cret") && !r.stderr.contains("s3cret") && r.stderr.contains("***"), "\(r.stdout) \(r.stderr)")
        }
        // A hub database that cannot be reached is said in words, not in NIO's type names.
        for (url, words) in [("postgres://u@127.0.0.1:1/db", "connection refused"), ("postgres://u@nonexistent.invalid/db", "cannot resolve the host name")] {
            let r = try gloss("status", "--store", url, "--json")
            #expect(r.status == 1 && r.stderr.contains(words) && !r.stderr.contains("SingleConnectionFailure") && !r.stderr.contains("SocketAddressError"), "\(r.stderr)")
        }
    }

    /// A replica folder whose database is gone or damaged (found by an audit, 2026-12-06: a read
    /// created an empty database, then said "run gloss init", which refused the folder; a damaged
    /// file was reported with the SQL SQLite was running and "check its permissions").
    @Test func aMissingOrDamagedDatabaseIsNamedAndNeverRecreated() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let db = dir.appendingPathComponent(".gloss/replica.db")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db.path + suffix) }
        for command in [["status", "--json"], ["verify"], ["log"], ["note", "add", "--on", String(repeating: "a", count: 64), "--text", "x"]] {
            let r = try GlossProcess.run(command, cwd: dir)
            #expect(r.status == 3 && r.stderr.contains("database is missing") && r.stderr.contains("Restore it from a backup"), "\(command): \(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: db.path), "a read created a database")
        for garbage in [Data(repeating: 0x41, count: 8192), Data("SQLite format 3\u{0}".utf8) + Data(repeating: 0xFF, count: 4096)] {
            try garbage.write(to: db)
            let r = try gloss("status", "--json")
            #expect(r.status != 0 && r.stderr.contains("is damaged") && !r.stderr.contains("PRAGMA"), "\(r.status) \(r.stderr)")
        }
    }

    /// `--out` naming a folder (found by an audit, 2026-12-05: the folder was removed with
    /// everything in it and replaced by the file — `--out .gloss` destroyed the replica's database
    /// and key): refused with exit 5, the folder untouched, nothing left behind; a file is replaced.
    @Test func anOutputPathNamingAFolderIsRefusedAndTheFolderKept() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        #expect(try gloss("ingest", try sampleFile().path).status == 0)
        let folder = tmp.sub("keep")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: folder.appendingPathComponent("sub/keep.txt"))
        for out in [folder.path, tmp.sub(".gloss").path] {
            for args in [["export", "stix", "--out", out], ["export", "annotations", "--out", out], ["bundle", "export", "--all", "--plain", "--out", out], ["vector", "--out", out]] {
                let r = try GlossProcess.run(args, cwd: dir)
                #expect(r.status == 5 && r.stderr.contains("is a folder"), "\(args): \(r.status) \(r.stderr)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("sub/keep.txt").path))
        // A folder that does not exist yet, named by a trailing slash (found by an audit,
        // 2026-12-06: a file named `new` was written).
        let new = tmp.sub("new").path + "/"
        for args in [["export", "stix", "--out", new], ["bundle", "export", "--all", "--plain", "--out", new], ["as-of", "2100-01-01T00:00:00Z", "--out", new]] {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 5 && r.stderr.contains("is a folder"), "\(args): \(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("new").path))
        #expect(try gloss("status").status == 0, "the replica survives")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") || $0.hasSuffix(".partial") }
        #expect(left.isEmpty, "\(left)")
        // A file is replaced, in one rename.
        let file = tmp.sub("out.json")
        try Data("old".utf8).write(to: file)
        #expect(try gloss("export", "stix", "--out", file.path).status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8).hasPrefix("{"))
    }

    /// Paths and values from the command line that lied (found by a hostile-input audit,
    /// 2026-12-06), each refused with what was wrong and nothing changed: `--out` into the
    /// replica's `.gloss` folder (`vector --out .gloss/replica.db` destroyed the log) or onto a pipe;
    /// a folder or a pipe as an input file or a point (`bundle import FOLDER` was an internal error,
    /// a pipe as a point hung); an input file over its limit (read whole before); an address in use
    /// (an internal error); a search of more than 64 words (quadratic); impossible times
    /// (2026-02-30 became March 2nd); text holding U+0000 (the tables kept what came before it);
    /// and control characters of stored text reach a terminal escaped.
    @Test func hostilePathsAndValuesAreRefusedClearly() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let art = try gloss("ingest", try sampleFile().path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let before = try gloss("status", "--json").object["digest"] as? String
        let fifo = tmp.sub("pipe")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        for out in [".gloss/replica.db", ".gloss/replica.key", ".gloss/new.json", fifo.path] {
            for args in [["vector", "--out", out], ["export", "stix", "--out", out], ["bundle", "export", "--all", "--plain", "--out", out]] {
                let r = try GlossProcess.run(args, cwd: dir)
                #expect(r.status == 5 && (r.stderr.contains(".gloss folder") || r.stderr.contains("not a regular file")), "\(args): \(r.status) \(r.stderr)")
            }
        }
        #expect(try gloss("status", "--json").object["digest"] as? String == before, "the replica survives")
        #expect(try gloss("whoami").status == 0, "the key survives")
        let folder = tmp.sub("a-folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (args, what) in [(["bundle", "import", folder.path], "is a folder"), (["bundle", "import", fifo.path], "not a regular file"),
                             (["ingest", folder.path], "is a folder"), (["note", "add", "--on", art, "--file", fifo.path], "not a regular file"),
                             (["as-of", fifo.path, "--out", tmp.sub("p.db").path], "not a regular file"),
                             (["diff", "--from", folder.path, "--to", "2030-01-01T00:00:00Z"], "is a folder")] {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 65 && r.stderr.contains(what), "\(args): \(r.status) \(r.stderr)")
        }
        let big = tmp.sub("big.txt")
        #expect(FileManager.default.createFile(atPath: big.path, contents: nil))
        let h = try FileHandle(forWritingTo: big)
        try h.truncate(atOffset: 64 << 20)   // sparse: 64 MiB of nothing, nothing read past the limit
        try h.close()
        for args in [["note", "add", "--on", art, "--file", big.path], ["ingest", big.path]] {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 65 && r.stderr.contains("-byte limit"), "\(args): \(r.status) \(r.stderr)")
        }
        let words = Array(repeating: "word", count: 65).joined(separator: " ")
        let search = try gloss("search", words)
        #expect(search.status == 65 && search.stderr.contains("at most 64 words"), "\(search.stderr)")
        #expect(try gloss("search", Array(repeating: "word", count: 64).joined(separator: " ")).status == 0)
        for bad in ["2026-02-30T00:00:00Z", "2026-01-01T00:00:00+99:99", "999999999-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01"] {
            let r = try gloss("diff", "--from", bad, "--to", "2030-01-01T00:00:00Z")
            #expect(r.status == 65, "\(bad): \(r.status) \(r.stderr)")
        }
        // Any number of fraction digits (12 were refused: RFC 3339 sets no limit).
        for good in ["2024-02-29T23:59:60Z", "2026-01-01t00:00:00.5+01:30", "2026-01-01 00:00:00z", "2026-12-06T07:00:15.123456789123Z"] {
            let r = try gloss("diff", "--from", good, "--to", "2030-01-01T00:00:00Z")
            #expect(r.status == 0, "\(good): \(r.status) \(r.stderr)")
        }
        // U+0000: SQLite's text ends there, so the tables kept only what came before it.
        let nul = tmp.sub("nul.txt")
        try Data("date 2021-06-26 BAKU – before\u{0} after\n".utf8).write(to: nul)
        for args in [["ingest", nul.path], ["note", "add", "--on", art, "--file", nul.path]] {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 65 && r.stderr.contains("U+0000"), "\(args): \(r.status) \(r.stderr)")
        }
        // Control characters from a note (any analyst's, by sync) reach a terminal escaped.
        #expect(try gloss("note", "add", "--on", art, "--text", "\u{1B}]0;PWNED\u{07}\u{1B}[31mRED\rMARKER").status == 0)
        for args in [["log"], ["search", "MARKER"]] {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 0 && !r.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x0D || $0.value == 0x07 }
                    && r.stdout.contains("\\u{1B}[31mRED"), "\(args): \(r.stdout.suffix(200))")
        }
        // An address in use.
        let server = try ServeProcess(dir: dir)
        defer { _ = server.stop() }
        let second = try gloss("serve", "--listen", "127.0.0.1:\(server.port)")
        #expect(second.status == 5 && second.stderr.contains("in use"), "\(second.status) \(second.stderr)")
    }

    /// Several files, one of them refused (found by a hostile-input audit, 2026-12-06: the first
    /// was written, the bad one stopped the command with its own message, the rest were never read
    /// and nothing said so): each good file is ingested, the bad one reported, exit 2 naming it.
    @Test func ingestOfSeveralFilesGoesPastARefusedOne() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let a = tmp.sub("a.txt"), b = tmp.sub("b.txt"), c = tmp.sub("c.txt")
        try Data("date 2021-06-26 BAKU – The first text.\n".utf8).write(to: a)
        try Data([0xFF, 0xFE, 0x20, 0x62]).write(to: b)
        try Data("date 2021-06-26 BAKU – The third text.\n".utf8).write(to: c)
        let r = try gloss("ingest", a.path, b.path, c.path)
        #expect(r.status == 2 && r.lines.count == 2, "\(r.status) \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("not valid UTF-8") && r.stderr.contains("1 of 3 files not ingested: \(b.path)"), "\(r.stderr)")
        let j = try gloss("ingest", "--json", a.path, b.path, c.path)
        let objects = j.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(j.status == 2 && objects.count == 3 && objects[1]["file"] as? String == b.path && objects[1]["code"] as? String == "badInput"
                && objects[0]["existing"] as? Bool == true, "\(j.stdout)")
        // One file alone keeps its own exit code.
        #expect(try gloss("ingest", b.path).status == 65)
    }

    @Test func initWhoamiAndRefusalToReinit() throws {
        defer { tmp.remove() }
        let r = try gloss("init", "--analyst", "ana")
        #expect(r.status == 0, "\(r.stderr)")
        let who = try gloss("whoami", "--json").object
        #expect(who["analyst"] as? String == "ana")
        let replica = try #require(who["replica"] as? String)
        #expect(replica.count == 64 && replica.allSatisfy(\.isHexDigit))
        // The key file is private.
        let attrs = try FileManager.default.attributesOfItem(atPath: tmp.sub(".gloss/replica.key").path)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // A second init is refused and changes nothing.
        let again = try gloss("init", "--analyst", "bo")
        #expect(again.status == 5)
        #expect(again.stderr.contains("already exists"))
        #expect(try gloss("whoami", "--json").object["replica"] as? String == replica)
        // --dir and GLOSS_DIR name another folder.
        let other = tmp.sub("other")
        #expect(try gloss("init", "--analyst", "bo", "--dir", other.path).status == 0)
        let viaEnv = try GlossProcess.run(["whoami", "--json"], cwd: dir, env: ["GLOSS_DIR": other.path]).object
        #expect(viaEnv["analyst"] as? String == "bo")
        // A subfolder finds the replica above it.
        let sub = tmp.sub("deep/er")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        #expect(try gloss("whoami", "--json", cwd: sub).object["analyst"] as? String == "ana")
    }

    @Test func sessionIngestNotesStatusLogShowVerify() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let sample = try sampleFile()
        let ingest = try gloss("ingest", "--json", sample.path)
        #expect(ingest.status == 0, "\(ingest.stderr)")
        let article = try #require(ingest.object["id"] as? String)
        let ingestEvent = try #require(ingest.object["event"] as? String)
        // The same text again: nothing new, the existing article named.
        let again = try gloss("ingest", "--json", sample.path)
        #expect(again.status == 0)
        #expect(again.object["id"] as? String == article)
        #expect(again.object["existing"] as? Bool == true)
        #expect(again.object["event"] is NSNull)

        let note = try gloss("note", "add", "--on", String(article.prefix(8)), "--text", "Exercise date to confirm.", "--json")
        #expect(note.status == 0, "\(note.stderr)")
        // A finished command closes the replica: its WAL is checkpointed into the database and removed.
        #expect(!FileManager.default.fileExists(atPath: tmp.sub(".gloss/replica.db-wal").path), "a command left its WAL behind")
        let noteID = try #require(note.object["id"] as? String)
        #expect(note.object["event"] as? String == noteID)
        let bodyFile = tmp.sub("body.md")
        try "Exercises: **September 2021**.\n".write(to: bodyFile, atomically: true, encoding: .utf8)
        let edit = try gloss("note", "edit", String(noteID.prefix(10)), "--file", bodyFile.path, "--json")
        #expect(edit.status == 0, "\(edit.stderr)")
        #expect(edit.object["id"] as? String == noteID)
        let second = try gloss("note", "add", "--on", noteID, "--text", "reply")
        #expect(second.status == 0)
        let secondID = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try gloss("note", "delete", secondID, "--json").status == 0)
        #expect(try gloss("note", "edit", secondID, "--text", "x").status == 5)

        let status = try gloss("status", "--json").object
        #expect(status["events"] as? Int == 5)
        #expect(status["articles"] as? Int == 1)
        #expect(status["notes"] as? Int == 1)
        let vv = try #require(status["versionVector"] as? [String: Int])
        #expect(vv[status["replica"] as! String] == 5)

        let log = try gloss("log", "--json")
        #expect(log.status == 0)
        let entries = log.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entries.count == 5)
        #expect(entries.map { $0["seq"] as? Int } == [1, 2, 3, 4, 5])
        #expect(entries[0]["id"] as? String == ingestEvent)
        #expect(entries[0]["prev"] is NSNull)
        #expect(entries[1]["prev"] as? String == ingestEvent)
        #expect(entries.map { $0["type"] as? String } == ["ArticleIngested", "NoteAdded", "NoteEdited", "NoteAdded", "NoteDeleted"])
        for key in ["id", "replica", "seq", "prev", "deps", "time", "author", "type", "payload"] {
            #expect(entries[2][key] != nil, "log entry lacks \(key)")
        }
        #expect((entries[2]["payload"] as? [String: Any])?["body"] as? String == "Exercises: **September 2021**.\n")
        #expect(((entries[0]["payload"] as? [String: Any])?["places"] as? [String]) == ["ISLAMABAD", "BAKU"])
        #expect(try gloss("log", "--json", "--limit", "2").lines.count == 2)

        let shown = try gloss("show", String(noteID.prefix(7)))
        #expect(shown.status == 0, "\(shown.stderr)")
        let shownNote = try #require(shown.object["note"] as? [String: Any])
        #expect(shownNote["body"] as? String == "Exercises: **September 2021**.\n")
        #expect((shown.object["history"] as? [Any])?.count == 2)
        let shownEvent = try gloss("show", String(ingestEvent.prefix(9)))
        #expect(shownEvent.object["kind"] as? String == "event")
        let shownArticle = try gloss("show", article)
        #expect((shownArticle.object["article"] as? [String: Any])?["date"] as? String == "2021-06-26")

        let verify = try gloss("verify")
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("5 events verified"))
    }

    @Test func badInputIsRefusedWithDocumentedExitCodes() throws {
        defer { tmp.remove() }
        // Not a replica.
        let none = try gloss("status")
        #expect(none.status == 3)
        #expect(none.stderr.contains("gloss init"))
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        #expect(try gloss("init", "--analyst", "").status != 0)

        let latin1 = tmp.sub("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: latin1)
        let bad = try gloss("ingest", latin1.path)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("not valid UTF-8"))
        let empty = tmp.sub("empty.txt")
        try Data(" \n\t\n".utf8).write(to: empty)
        #expect(try gloss("ingest", empty.path).status == 65)
        let big = tmp.sub("big.txt")
        try Data(repeating: 0x61, count: 4 * 1024 * 1024 + 1).write(to: big)
        let bigR = try gloss("ingest", big.path)
        #expect(bigR.status == 65)
        #expect(bigR.stderr.contains("-byte limit for an article"))
        #expect(try gloss("ingest", tmp.sub("missing.txt").path).status == 66)
        // A text past the extraction's bounds (one 130 KB sentence of "X said," clauses: 28 s,
        // 1.1 GB and a crash on the payload limit before the bounds) is refused at once.
        let transcript = tmp.sub("transcript.txt")
        try Data(("date 2021-06-26 BAKU – " + (0..<2000).map { "Ali\($0) Hasanov said, the army will move, Zakir\($0) Mammadov said," }.joined(separator: " ") + "\n").utf8)
            .write(to: transcript)
        let started = Date()
        let complex = try gloss("ingest", transcript.path)
        #expect(complex.status == 65 && complex.stderr.contains("extraction bounds") && complex.stderr.contains("Break it into sentences"), "\(complex.stderr)")
        #expect(Date().timeIntervalSince(started) < 20, "the refusal took \(Date().timeIntervalSince(started)) s")
        // A run of 256 combining marks (its reordering is quadratic in the run: 200,000 took 24 s).
        let zalgo = tmp.sub("zalgo.txt")
        try Data(("date 2021-06-26 BAKU – a" + String(repeating: "\u{301}\u{316}", count: 128) + " text.\n").utf8).write(to: zalgo)
        let runR = try gloss("ingest", zalgo.path)
        #expect(runR.status == 65 && runR.stderr.contains("256+ combining marks in a row"), "\(runR.stderr)")
        // None of the refusals wrote an event.
        #expect(try gloss("status", "--json").object["events"] as? Int == 0)

        // Unknown id, malformed id, usage errors.
        #expect(try gloss("show", "abcdef").status == 66)
        #expect(try gloss("show", "not-hex").status == 65)
        #expect(try gloss("note", "add", "--on", "ffff", "--text", "x").status == 66)
        #expect(try gloss("note", "add", "--on", "ffff").status == 64)
        #expect(try gloss("note", "add", "--on", "ffff", "--text", "a", "--file", "b").status == 64)
        // Every numeric flag takes a negative value as its value and names its range (found by an
        // audit, 2026-12-06: "-1" was read as a flag, "Missing value for '--limit'").
        for args in [["search", "x", "--limit", "-1"], ["query", "SELECT 1", "--timeout", "-1"], ["sync", "127.0.0.1:1", "--timeout", "-1"],
                     ["serve", "--idle-timeout", "-1"], ["serve", "--max-sessions", "-5"], ["bench", "codec", "--iterations", "-1"],
                     ["bench", "local", "--events", "-1"], ["hub", "prune", "--store", "postgres://u@127.0.0.1/db", "--older-than", "-1"]] {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 64 && !r.stderr.contains("Missing value") && (r.stderr.contains("-1") || r.stderr.contains("-5")), "\(args): \(r.status) \(r.stderr)")
        }
        // A symbolic link to nothing is not found (it was "a pipe, a device or a socket", 65).
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("dangling").path, withDestinationPath: "/nonexistent/gloss")
        for args in [["ingest", "dangling"], ["bundle", "import", "dangling"], ["note", "add", "--on", "ffff", "--file", "dangling"]] {
            let r = try gloss(args)
            #expect(r.status == 66 && r.stderr.contains("symbolic link to something that does not exist"), "\(args): \(r.status) \(r.stderr)")
        }
        let negative = try gloss("log", "--limit", "-3")
        #expect(negative.status == 64 && negative.stderr.contains("--limit must be 0 or more"), "\(negative.stderr)")
        let art = try gloss("ingest", try sampleFile().path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try gloss("note", "add", "--on", art, "--text", "   ").status == 65)
        #expect(try gloss("status", "--json").object["events"] as? Int == 1)
    }

    @Test func ambiguousPrefixIsRefusedListingMatches() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let art = try gloss("ingest", try sampleFile().path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Make enough notes that two share a first hex digit.
        var ids: [String] = []
        for i in 0..<20 { ids.append(try gloss("note", "add", "--on", art, "--text", "n\(i)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
        // Every object shares prefixes (the article's candidates too); the refusal lists at most 10
        // of them, so take, in a fixed order, a first digit that 2 to 10 objects share, one of them a note.
        let all = try #require(try gloss("query", "--json", "SELECT id FROM objects").json() as? [[String: Any]]).compactMap { $0["id"] as? String }
        let byDigit = Dictionary(grouping: all, by: { $0.prefix(1) })
        let shared = try #require(byDigit.keys.sorted().lazy.map { (key: $0, value: byDigit[$0]!) }
            .first { (2...10).contains($0.value.count) && $0.value.contains(where: ids.contains) }, "\(all.count) objects")
        let r = try gloss("show", String(shared.key))
        #expect(r.status == 6)
        #expect(r.stderr.contains("ambiguous"))
        for id in shared.value { #expect(r.stderr.contains(id)) }
    }

    @Test func verifyReportsATamperedEventWithExitCode4() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        _ = try gloss("ingest", try sampleFile().path)
        let db = tmp.sub(".gloss/replica.db").path
        // Flip one payload byte behind gloss's back with the sqlite3 tool.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [db, "UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'Azerbaijan', 'Azerbaijam') AS BLOB) WHERE seq = 1"]
        try p.run(); p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let v = try gloss("verify")
        #expect(v.status == 4)
        #expect(v.stdout.contains("payload does not match"))
    }
}
