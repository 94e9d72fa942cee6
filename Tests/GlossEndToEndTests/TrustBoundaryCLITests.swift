import Foundation
import GlossJSON
import GlossTestSupport
import Testing

/// The trust boundary at the command line (issue "Trust boundary", items 8 and 9): query limits,
/// numeric flags, strict vector files, errors people can act on (disk full, connection refused,
/// `--json` error objects), progress only when asked for, and the pending exit code.
@Suite(.serialized, .timeLimit(.minutes(10))) struct TrustBoundaryCLITests {
    let tmp = TempDir("gloss-trust")
    var dir: URL { tmp.url }

    func gloss(_ args: String..., cwd: URL? = nil) throws -> GlossProcess.Result {
        try GlossProcess.run(args, cwd: cwd ?? dir)
    }

    func sampleFile() throws -> URL {
        let f = tmp.sub("2021-06-26-trilateral-special-forces.txt")
        if !FileManager.default.fileExists(atPath: f.path) { try Data(sampleArticleBytes()).write(to: f) }
        return f
    }

    /// Runs gloss and reports its result, wall time and peak resident memory (read by gloss itself
    /// from /proc at exit, `GLOSS_PEAK_RSS_FILE`).
    func measured(_ args: [String], cwd: URL? = nil) throws -> (result: GlossProcess.Result, seconds: Double, rssMB: Int) {
        let report = tmp.sub("rss-\(UUID().uuidString.prefix(8))")
        let start = Date()
        let r = try GlossProcess.run(args, cwd: cwd ?? dir, env: ["GLOSS_PEAK_RSS_FILE": report.path])
        let seconds = Date().timeIntervalSince(start)
        let kb = (try? String(contentsOf: report, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? Int.max / 1024
        return (r, seconds, kb / 1024)
    }

    // MARK: Query limits

    @Test func queryTimeoutHoldsForEveryStatementWithBoundedMemory() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let cases: [(label: String, sql: String, message: String)] = [
            ("randomblob(2e9)", "SELECT length(randomblob(2e9))", "32 MiB limit"),
            ("randomblob(1e9)", "SELECT randomblob(1e9)", "32 MiB limit"),
            ("zeroblob(1e9)", "SELECT length(zeroblob(1e9))", "32 MiB limit"),
            ("huge printf", "SELECT length(printf('%.*c', 1e9, 'x'))", "time limit"),
            ("recursive CTE", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", "time limit"),
            ("string growth in a recursive CTE", "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) SELECT length(s) FROM r", "32 MiB limit"),
            ("replace growth", "SELECT length(replace(replace(replace(printf('%.*c', 10000, 'x'), 'x', printf('%.*c', 100, 'y')), 'y', 'zzzzzzzzzz'), 'z', 'wwwwwwwwww'))", "32 MiB limit"),
            ("sort of a billion rows", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000000000) SELECT x FROM c ORDER BY randomblob(16) LIMIT 1", "time limit"),
        ]
        for c in cases {
            let (r, seconds, rss) = try measured(["query", "--timeout", "1", c.sql])
            print("[query limits] \(c.label): exit \(r.status), \(String(format: "%.2f", seconds)) s, peak RSS \(rss) MB")
            #expect(r.status == 5, "\(c.label): \(r.stderr)")
            #expect(r.stderr.contains(c.message), "\(c.label): \(r.stderr)")
            #expect(seconds < 6, "\(c.label) took \(seconds) s")
            #expect(rss < 300, "\(c.label): peak RSS \(rss) MB")
        }
        // A query within the limits still runs.
        let ok = try gloss("query", "--timeout", "1", "--json", "SELECT length(randomblob(1000000)) AS n")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect((try ok.json() as? [[String: Any]])?.first?["n"] as? Int == 1_000_000)
    }

    @Test func numericFlagsAreValidated() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        for value in ["nan", "inf", "-1", "1e12", "0", "-inf"] {
            let r = try gloss("query", "--timeout=\(value)", "SELECT 1")
            #expect(r.status == 64, "--timeout \(value): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("--timeout must be a number of seconds from 0.001 to 86400"), "\(r.stderr)")
            let j = try gloss("query", "--timeout=\(value)", "--json", "SELECT 1")
            #expect(j.status == 64)
            #expect(j.object["code"] as? String == "usage" && j.object["exit"] as? Int == 64 && j.object["error"] is String, "\(j.stdout)")
        }
        #expect(try gloss("query", "--timeout", "0.5", "SELECT 1").status == 0)
        let flags: [[String]] = [
            ["search", "--limit=0", "x"], ["search", "--limit", "99999999999", "x"], ["log", "--limit=-1"],
            ["sync", "--timeout=0", "127.0.0.1:1"], ["sync", "--timeout", "9223372036854775807", "127.0.0.1:1"],
            ["serve", "--idle-timeout", "99999999999"], ["serve", "--handshake-timeout=-5"],
            ["serve", "--rebuild-interval=-1"], ["serve", "--rebuild-interval", "18446744073709551615"], ["serve", "--rebuild-interval", "86401"],
            ["serve", "--max-sessions", "0"], ["serve", "--max-sessions=-1"], ["serve", "--max-sessions", "18446744073709551615"],
            ["serve", "--max-sessions", "10001"], ["serve", "--max-sessions", "nan"],
            ["bench", "generate", "--out", "x", "--overwrite-ratio", "nan"], ["bench", "generate", "--out", "x", "--events", "1000000000000"],
            ["bench", "codec", "--iterations=-1"], ["bench", "local", "--events", "0"],
            ["annotate", "ffff", "--quote", "x", "--occurrence=0"], ["annotate", "ffff", "--quote", "x", "--occurrence", "nan"],
            ["hub", "prune", "--store", "postgres://gloss@127.0.0.1:1/gloss", "--older-than=-1"],
            ["hub", "prune", "--store", "postgres://gloss@127.0.0.1:1/gloss", "--older-than", "3153600001"],
            ["hub", "prune", "--store", "postgres://gloss@127.0.0.1:1/gloss", "--older-than", "18446744073709551615"],
            ["hub", "prune", "--store", "postgres://gloss@127.0.0.1:1/gloss", "--older-than", "nan"],
            ["hub", "prune", "--store", "not a url", "--older-than", "10"], ["hub", "prune", "--older-than", "10"],
        ]
        for f in flags {
            let r = try GlossProcess.run(f, cwd: dir)
            #expect(r.status == 64, "\(f): \(r.status) \(r.stderr)")
        }
        // The same prune with a good --older-than gets past its checks: the server cannot be reached.
        let reached = try GlossProcess.run(["hub", "prune", "--store", "postgres://gloss@127.0.0.1:1/gloss", "--older-than", "10"], cwd: dir)
        #expect(reached.status == 1, "\(reached.status) \(reached.stderr)")
    }

    // MARK: Vector files

    @Test func vectorFilesAreReadStrictly() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        let me = try #require(try gloss("whoami", "--json").object["replica"] as? String)
        func file(_ vector: String, extra: String = "") -> String {
            "{\"gloss\": \"version-vector\", \"format\": 1\(extra), \"vector\": {\(vector)}}"
        }
        let refused: [(label: String, text: String, message: String)] = [
            ("boolean seq", file("\"\(me)\": true"), "is a boolean, not an integer"),
            ("fraction", file("\"\(me)\": 3.0"), "not written as a plain integer"),
            ("exponent", file("\"\(me)\": 1e1"), "not written as a plain integer"),
            ("negative", file("\"\(me)\": -1"), "negative"),
            ("string seq", file("\"\(me)\": \"1\""), "is a string, not an integer"),
            ("duplicate replica", file("\"\(me)\": 1, \"\(me)\": 2"), "appears twice"),
            ("duplicate key", file("\"\(me)\": 1", extra: ", \"format\": 1"), "appears twice"),
            ("upper-case id", file("\"\(me.uppercased())\": 1"), "exactly 64 lowercase hex digits"),
            ("non-hex id", file("\"zz\(me.dropFirst(2))\": 1"), "exactly 64 lowercase hex digits"),
            ("short id", file("\"\(me.prefix(63))\": 1"), "exactly 64 lowercase hex digits"),
            ("seq 2^63", file("\"\(me)\": 9223372036854775808"), "seqs run 0 … 2^63 − 1"),
            ("seq 2^64", file("\"\(me)\": 18446744073709551616"), "seqs run 0 … 2^63 − 1"),
            ("format 1.0", "{\"gloss\": \"version-vector\", \"format\": 1.0, \"vector\": {}}", "not written as a plain integer"),
            ("unknown key", file("", extra: ", \"extra\": 1"), "unknown key"),
            ("trailing comma", file("\"\(me)\": 1,"), "invalid JSON"),
            ("not JSON", "vector", "not a JSON object"),
            ("text after", file("") + " {}", "text after the JSON object"),
            // One spelling per file: an escape is refused even where it spells the same text.
            ("escaped id", file("\"\\u00\(String(format: "%02x", me.utf8.first!))\(me.dropFirst())\": 1"), "written without escapes"),
            ("escaped key", "{\"gloss\": \"version-v\\u0065rsion\", \"format\": 1, \"vector\": {}}", "written without escapes"),
        ]
        let vfile = tmp.sub("v.json")
        for c in refused {
            try c.text.write(to: vfile, atomically: true, encoding: .utf8)
            let r = try gloss("bundle", "export", "--for", vfile.path, "--out", tmp.sub("x.glossb").path)
            #expect(r.status == 65, "\(c.label): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(c.message), "\(c.label): \(r.stderr)")
        }
        // Over a million entries: refused without reading them all.
        var many = Array("{\"gloss\": \"version-vector\", \"format\": 1, \"vector\": {".utf8)
        many.reserveCapacity(72_000_000)
        let hex = Array("0123456789abcdef".utf8)
        for i in 0...1_000_000 {
            if i > 0 { many.append(UInt8(ascii: ",")) }
            many.append(UInt8(ascii: "\""))
            many.append(contentsOf: [UInt8](repeating: UInt8(ascii: "0"), count: 56))
            for shift in stride(from: 28, through: 0, by: -4) { many.append(hex[(i >> shift) & 15]) }
            many.append(contentsOf: Array("\":1".utf8))
        }
        many.append(contentsOf: Array("}}".utf8))
        try Data(many).write(to: vfile)
        let big = try gloss("bundle", "export", "--for", vfile.path, "--out", tmp.sub("x.glossb").path)
        #expect(big.status == 65 && big.stderr.contains("more than 1000000 entries"), "\(big.stderr)")
        // The largest seq is accepted (and names more than this replica holds: nothing to export).
        try file("\"\(me)\": 9223372036854775807, \"\(String(repeating: "0", count: 64))\": 0").write(to: vfile, atomically: true, encoding: .utf8)
        let max = try gloss("bundle", "export", "--for", vfile.path, "--out", tmp.sub("x.glossb").path, "--json")
        #expect(max.status == 0, "\(max.stderr)")
        #expect(max.object["events"] as? Int == 0)
        // What `gloss vector` writes reads back.
        #expect(try gloss("vector", "--out", vfile.path).status == 0)
        #expect(try gloss("bundle", "export", "--for", vfile.path, "--out", tmp.sub("x.glossb").path).status == 0)
    }

    // MARK: Errors people can act on

    @Test func jsonErrorObjectsOnStdout() throws {
        defer { tmp.remove() }
        // Not a replica.
        let none = try gloss("status", "--json")
        #expect(none.status == 3)
        #expect(none.object["code"] as? String == "notAReplica" && none.object["exit"] as? Int == 3 && (none.object["error"] as? String)?.contains("gloss init") == true, "\(none.stdout)")
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        // Not found, refused, bad input.
        let missing = try gloss("note", "add", "--on", "ffff", "--text", "x", "--json")
        #expect(missing.status == 66 && missing.object["code"] as? String == "notFound", "\(missing.stdout)")
        let write = try gloss("query", "--json", "DELETE FROM notes")
        #expect(write.status == 5 && write.object["code"] as? String == "refused", "\(write.stdout)")
        // A streamed array is closed before the error object, so the rows before it stay readable.
        let stopped = try gloss("query", "--json", "--timeout", "1", "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) SELECT length(s) AS n FROM r")
        #expect(stopped.status == 5)
        let lines = stopped.stdout.split(separator: "\n").map(String.init)
        let errorLine = try #require(lines.last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(errorLine.utf8)) as? [String: Any])
        #expect((object["error"] as? String)?.contains("32 MiB") == true)
        let rows = lines.dropLast().joined(separator: "\n")
        #expect((try JSONSerialization.jsonObject(with: Data(rows.utf8)) as? [Any])?.count ?? 0 > 20, "\(rows.prefix(300))")
        // An unknown source points at `gloss source list`.
        let sample = try sampleFile()
        let article = try #require(try gloss("ingest", "--json", sample.path).object["id"] as? String)
        let source = try gloss("fact", "add", "--article", article, "--subject", "a", "--predicate", "b", "--object", "c",
                               "--source", "AA", "--evidence", "special forces", "--json")
        #expect(source.status == 66)
        #expect(source.stderr.contains("gloss source list") && source.stderr.contains("gloss source add"), "\(source.stderr)")
        #expect(!source.stderr.contains("gloss log"), "\(source.stderr)")
        // A usage error with --json.
        let usage = try gloss("log", "--limit=-1", "--json")
        #expect(usage.status == 64 && usage.object["code"] as? String == "usage", "\(usage.stdout)")
    }

    @Test func syncToAClosedPortSaysSoInJSON() throws {
        defer { tmp.remove() }
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        // A port nobody listens on: bind one, then close it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        close(fd)
        let r = try gloss("sync", "127.0.0.1:\(port)", "--json")
        #expect(r.status == 1)
        let message = try #require(r.object["error"] as? String, "stdout: \(r.stdout)")
        #expect(message == "cannot connect to 127.0.0.1:\(port): connection refused; is `gloss serve` running there? (check the address and the port)")
        #expect(r.object["code"] as? String == "connectionFailed" && r.object["exit"] as? Int == 1)
        #expect(!r.stderr.contains("NIO") && !r.stderr.contains("SingleConnectionFailure"), "\(r.stderr)")
        let plain = try gloss("sync", "127.0.0.1:\(port)")
        #expect(plain.status == 1 && plain.stdout.isEmpty && plain.stderr.contains("connection refused"))
    }

    // MARK: Progress and the pending exit code

    @Test func progressOnlyOnATerminalOrWhenAsked() throws {
        defer { tmp.remove() }
        let bundle = tmp.sub("h.glossb")
        let gen = try gloss("bench", "generate", "--out", bundle.path, "--events", "300", "--replicas", "2")
        #expect(gen.status == 0, "\(gen.stderr)")
        #expect(!gen.stderr.contains("generate:"), "\(gen.stderr)")
        #expect(try gloss("init", "--analyst", "ana").status == 0)
        // stderr is a pipe here: no progress lines, with or without --json.
        let imp = try gloss("bundle", "import", bundle.path)
        #expect(imp.status == 0, "\(imp.stderr)")
        #expect(imp.stderr.isEmpty, "\(imp.stderr)")
        for args in [["rebuild"], ["rebuild", "--json"], ["bundle", "export", "--all", "--out", tmp.sub("o.glossb").path],
                     ["bundle", "import", "--json", bundle.path]] {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(r.stderr.isEmpty, "\(args): \(r.stderr)")
        }
        // --progress asks for them.
        let asked = try gloss("rebuild", "--progress", "--json")
        #expect(asked.status == 0)
        #expect(asked.stderr.contains("rebuild: 300/300") || asked.stderr.contains("rebuild:"), "\(asked.stderr)")
        #expect(asked.object["events"] as? Int == 300)
        let askedImport = try gloss("bundle", "import", "--progress", bundle.path)
        #expect(askedImport.stderr.contains("import h.glossb:"), "\(askedImport.stderr)")
    }

    @Test func importLeavingEventsWaitingExits8() throws {
        defer { tmp.remove() }
        let ana = tmp.sub("ana"), bo = tmp.sub("bo")
        #expect(try gloss("init", "--analyst", "ana", "--dir", ana.path).status == 0)
        #expect(try gloss("init", "--analyst", "bo", "--dir", bo.path).status == 0)
        let sample = try sampleFile()
        let article = try #require(try gloss("ingest", "--json", "--dir", ana.path, sample.path).object["id"] as? String)
        for i in 1...3 { #expect(try gloss("note", "add", "--dir", ana.path, "--on", article, "--text", "note \(i)").status == 0) }
        let anaID = try #require(try gloss("whoami", "--json", "--dir", ana.path).object["replica"] as? String)
        // A bundle of ana's events 3 and 4 only: at bo they wait for 1 and 2.
        let v = tmp.sub("v.json")
        try "{\"gloss\": \"version-vector\", \"format\": 1, \"vector\": {\"\(anaID)\": 2}}".write(to: v, atomically: true, encoding: .utf8)
        let late = tmp.sub("late.glossb"), all = tmp.sub("all.glossb")
        #expect(try gloss("bundle", "export", "--dir", ana.path, "--for", v.path, "--out", late.path).status == 0)
        #expect(try gloss("bundle", "export", "--dir", ana.path, "--all", "--out", all.path).status == 0)
        let waiting = try gloss("bundle", "import", "--dir", bo.path, "--json", late.path)
        #expect(waiting.status == 8, "\(waiting.stdout) \(waiting.stderr)")
        #expect(waiting.object["pending"] as? Int == 2)
        let plain = try gloss("bundle", "import", "--dir", bo.path, late.path)
        #expect(plain.status == 8)
        #expect(plain.stderr.contains("gloss pending"), "\(plain.stderr)")
        // The whole history: everything applies, nothing waits: 0.
        let done = try gloss("bundle", "import", "--dir", bo.path, "--json", all.path)
        #expect(done.status == 0, "\(done.stdout) \(done.stderr)")
        #expect(try gloss("status", "--json", "--dir", bo.path).object["pending"] as? Int == 0)
        // Both in one call, early file first: the later file brings what the first waited for.
        let cy = tmp.sub("cy")
        #expect(try gloss("init", "--analyst", "cy", "--dir", cy.path).status == 0)
        #expect(try gloss("bundle", "import", "--dir", cy.path, late.path, all.path).status == 0)
        // The help says so.
        let help = try gloss("help", "bundle", "import").stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("8 when done, but some events received still wait in pending"), "\(help)")
    }

    // MARK: Disk full

    /// A real full disk: a 3 MiB tmpfs (root only; skipped with the reason otherwise — CI runs as root).
    @Test func diskFullIsReportedAndReadsStillWork() throws {
        defer { tmp.remove() }
        let mountPoint = tmp.sub("small-disk")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = try Self.shell("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint.path])
        guard mount.status == 0 else {
            print("[disk full] skipped: cannot mount a small tmpfs here (\(mount.output.trimmingCharacters(in: .whitespacesAndNewlines))); run as root to test a real full disk")
            return
        }
        defer { _ = try? Self.shell("/bin/umount", ["-l", mountPoint.path]) }
        let replica = mountPoint.appendingPathComponent("r")
        let sample = try sampleFile()
        #expect(try gloss("init", "--analyst", "ana", "--dir", replica.path).status == 0)
        let article = try #require(try gloss("ingest", "--json", "--dir", replica.path, sample.path).object["id"] as? String)
        #expect(try gloss("note", "add", "--dir", replica.path, "--on", article, "--text", "before the disk filled").status == 0)
        let digest = try #require(try gloss("digest", "--json", "--dir", replica.path).object["digest"] as? String)
        // A bundle bigger than what is left, made elsewhere.
        let other = tmp.sub("other"), bundle = tmp.sub("big.glossb")
        #expect(try gloss("bench", "generate", "--out", bundle.path, "--events", "3000", "--replicas", "2").status == 0)

        // Fill the disk.
        let filler = mountPoint.appendingPathComponent("filler")
        _ = try Self.shell("/bin/dd", ["if=/dev/zero", "of=\(filler.path)", "bs=4096"])
        let full = "the disk holding \(replica.path)/.gloss is full; free space and retry"

        let note = try gloss("note", "add", "--dir", replica.path, "--on", article, "--text", "on a full disk")
        #expect(note.status == 7, "\(note.stderr)")
        #expect(note.stderr.contains(full), "\(note.stderr)")
        #expect(!note.stderr.contains("unexpected error"), "\(note.stderr)")
        let noteJSON = try gloss("note", "add", "--dir", replica.path, "--on", article, "--text", "on a full disk", "--json")
        #expect(noteJSON.status == 7 && noteJSON.object["code"] as? String == "diskFull" && noteJSON.object["exit"] as? Int == 7, "\(noteJSON.stdout)")
        let imp = try gloss("bundle", "import", "--dir", replica.path, bundle.path)
        #expect(imp.status == 7, "\(imp.stdout) \(imp.stderr)")
        #expect(imp.stderr.contains(full), "\(imp.stderr)")

        // Reading still works on the full disk.
        for args in [["status"], ["verify"], ["log"], ["digest"], ["whoami"], ["query", "SELECT count(*) FROM notes"],
                     ["search", "exercise"], ["vector"], ["facts"]] {
            let r = try GlossProcess.run(args + ["--dir", replica.path], cwd: dir)
            #expect(r.status == 0, "\(args) on a full disk: \(r.status) \(r.stderr)")
        }
        let status = try gloss("status", "--json", "--dir", replica.path)
        #expect(status.object["notes"] as? Int == 1 && status.object["digest"] as? String == digest, "\(status.stdout)")
        #expect(try gloss("query", "--dir", replica.path, "SELECT count(*) FROM notes").stdout.contains("\n1"))

        // Output files on the full disk: named, and nothing half-written left behind.
        for (args, file) in [(["bundle", "export", "--all", "--out"], "x.glossb"), (["as-of", "2030-01-01T00:00:00Z", "--out"], "a.db"),
                             (["export", "stix", "--out"], "s.json")] {
            let out = mountPoint.appendingPathComponent(file)
            let r = try GlossProcess.run(args + [out.path, "--dir", replica.path], cwd: dir)
            #expect(r.status == 7, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("the disk holding \(mountPoint.path) is full") && r.stderr.contains("\(out.path) was not written"), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(args) left \(file)")
        }

        // Space again: the replica is consistent and writable, with nothing of the failed writes.
        try FileManager.default.removeItem(at: filler)
        let verify = try gloss("verify", "--dir", replica.path)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        let after = try gloss("status", "--json", "--dir", replica.path)
        #expect(after.object["notes"] as? Int == 1)
        #expect(try gloss("note", "add", "--dir", replica.path, "--on", article, "--text", "after").status == 0)
        #expect(try gloss("verify", "--dir", replica.path).status == 0)
        _ = other
    }

    static func shell(_ path: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
