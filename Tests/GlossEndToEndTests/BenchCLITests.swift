import Foundation
import GRDB
import GlossTestSupport
import Testing

/// `gloss bench generate` at a tiny size: the history imports cleanly (every event applied, none
/// pending or rejected), over the asked number of feeds, and the same seed gives the same file.
/// The benchmarks themselves stay out of the test run (Scripts/bench.sh).
@Suite struct BenchCLITests {
    let tmp = TempDir("gloss-bench-e2e")

    func gloss(_ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }
    func gloss(_ args: [String]) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }

    /// The benchmarks are their own executable: `gloss bench ARGS` runs the `gloss-bench` built
    /// beside `gloss` (its help, its exit codes, its output); a `gloss` without it says how to build it.
    @Test func benchIsItsOwnExecutableRunByGloss() throws {
        defer { tmp.remove() }
        let help = try gloss("bench", "--help")
        #expect(help.status == 0, "\(help.stderr)")
        #expect(help.stdout.contains("USAGE: gloss bench <subcommand>") && help.stdout.contains("generate"), "\(help.stdout)")
        let direct = try GlossProcess.run(["--help"], cwd: tmp.url, executable: GlossProcess.benchBinary)
        #expect(direct.stdout == help.stdout, "gloss bench --help is gloss-bench's own")
        #expect(try gloss("bench", "generate", "--out", tmp.sub("x").path, "--events", "0").status == 64)

        // A gloss alone in a folder: exit 66, with the command that builds what is missing.
        let alone = tmp.sub("alone")
        try FileManager.default.createDirectory(at: alone, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: GlossProcess.binary, to: alone.appendingPathComponent("gloss"))
        let missing = try GlossProcess.run(["bench", "generate", "--out", tmp.sub("y").path, "--json"], cwd: tmp.url,
                                           executable: alone.appendingPathComponent("gloss"))
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("swift build --product gloss-bench"), "\(missing.stderr)")
        #expect(missing.object["exit"] as? Int == 66, "--json reports the failure as JSON: \(missing.stdout)")
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("y").path))
        // Every other command works without it.
        #expect(try GlossProcess.run(["init", "--analyst", "a", "--dir", tmp.sub("r0").path], cwd: tmp.url, executable: alone.appendingPathComponent("gloss")).status == 0)
    }

    /// The pages an import writes are a property of the layout, not of the machine: counted in the
    /// WAL while a reader opened before the import stops every checkpoint from copying (the WAL then
    /// keeps each commit's distinct pages; Scripts/experiments/wal_pages.py names them by table).
    /// Deterministic for a seed. 10,000 events over 20 feeds wrote 9,315 frames with projection
    /// version 21, 7,967 with version 22 (no copy of the texts in the search index) and 7,851 with
    /// the log's ids indexed by eight bytes (store migration v9; at 100,000 events: −7,000 frames);
    /// the bound fails a change that brings back a cost of that size.
    @Test func anImportWritesThePagesItsLayoutNeedsAndNoMore() throws {
        defer { tmp.remove() }
        let bundle = tmp.sub("h.glossb")
        let gen = try gloss("bench", "generate", "--out", bundle.path, "--events", "10000", "--replicas", "20", "--seed", "1")
        #expect(gen.status == 0, "\(gen.stderr)")
        let replica = tmp.sub("r")
        #expect(try gloss("init", "--analyst", "a", "--dir", replica.path).status == 0)
        let db = replica.appendingPathComponent(".gloss/replica.db").path
        func frames() throws -> Int {
            guard let size = try FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int, size > 32 else { return 0 }
            return (size - 32) / (4096 + 24)
        }
        let reader = try DatabaseQueue(path: db)
        let (before, after) = try reader.inDatabase { conn -> (Int, Int) in
            try conn.beginTransaction(.deferred)
            _ = try Int.fetchOne(conn, sql: "SELECT count(*) FROM sqlite_master")
            let before = try frames()
            let imp = try gloss("bundle", "import", "--dir", replica.path, bundle.path)
            #expect(imp.status == 0, "\(imp.stderr)")
            let after = try frames()
            try conn.commit()
            return (before, after)
        }
        try reader.close()
        let written = after - before
        let pages = try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "PRAGMA page_count") } ?? 0
        print("[pages] the 10,000-event import wrote \(written) WAL frames for a database of \(pages) pages")
        // Every page of the new database was written at least once: else a checkpoint ran and the
        // count is not the import's.
        #expect(written >= pages - 200 && pages > 4_000, "\(written) frames, \(pages) pages")
        #expect(written <= 8_300, "the import wrote \(written) WAL frames (7,851 with the log's short id index)")
    }

    @Test func generatedHistoryImportsCleanly() throws {
        defer { tmp.remove() }
        let bundle = tmp.sub("h.glossb")
        let gen = try gloss("bench", "generate", "--out", bundle.path, "--replicas", "4", "--articles", "5", "--notes", "60",
                            "--annotations", "20", "--overwrite-ratio", "0.4", "--seed", "7", "--json")
        #expect(gen.status == 0, "\(gen.stderr)")
        let g = gen.object
        let events = try #require(g["events"] as? Int)
        #expect(events == 5 + 60 + 40 + 20)  // 60 notes at 0.4 overwrite: 40 edits
        #expect((g["eventsWithDeps"] as? Int ?? 0) > 0, "feeds are concurrent and carry deps")

        #expect(try gloss("init", "--analyst", "bench", "--dir", tmp.sub("r").path).status == 0)
        let imp = try gloss("bundle", "import", "--dir", tmp.sub("r").path, bundle.path, "--json")
        #expect(imp.status == 0, "\(imp.stderr)")
        let line = try #require(imp.lines.first)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(report["applied"] as? Int == events)
        #expect(report["pending"] as? Int == 0 && report["rejected"] as? Int == 0)
        #expect(report["checksumOK"] as? Bool == true)
        #expect(!FileManager.default.fileExists(atPath: tmp.sub("r/.gloss/replica.db-wal").path), "the import left its WAL behind")
        let status = try gloss("status", "--dir", tmp.sub("r").path, "--json").object
        #expect(status["events"] as? Int == events)
        #expect((status["versionVector"] as? [String: Any])?.count == 4)
        #expect(status["articles"] as? Int == g["articles"] as? Int)
        #expect(status["notUnderstood"] as? Int == 0)
        // Annotations are real: each anchored exactly in its article's only revision.
        let annotations = try #require(g["annotations"] as? Int)
        #expect(annotations > 0 && annotations + (g["tags"] as? Int ?? 0) + (g["links"] as? Int ?? 0) == 20)
        let q = try gloss("query", "--dir", tmp.sub("r").path, "SELECT count(*) AS n, sum(status = 'exact') AS exact FROM anchors WHERE object_kind = 'annotation'", "--json")
        let counts = try #require((try q.json() as? [[String: Any]])?.first)
        #expect(counts["n"] as? Int == annotations && counts["exact"] as? Int == annotations)

        // Deterministic: the same flags and seed write the same bytes.
        let again = tmp.sub("again.glossb")
        #expect(try gloss("bench", "generate", "--out", again.path, "--replicas", "4", "--articles", "5", "--notes", "60",
                          "--annotations", "20", "--overwrite-ratio", "0.4", "--seed", "7").status == 0)
        #expect(FileManager.default.contents(atPath: bundle.path) == FileManager.default.contents(atPath: again.path))

        // Bad flags are usage errors.
        #expect(try gloss("bench", "generate", "--out", again.path, "--events", "10", "--notes", "3").status == 64)
        #expect(try gloss("bench", "generate", "--out", again.path, "--events", "10", "--overwrite-ratio", "1").status == 64)
    }

    /// `bench run --statements N`: import and rebuild report their costliest SQL statements (the
    /// statements the projections really run, with counts that match the history).
    @Test func runReportsTheCostliestStatements() throws {
        defer { tmp.remove() }
        let bundle = tmp.sub("s.glossb")
        let gen = try gloss("bench", "generate", "--out", bundle.path, "--replicas", "3", "--articles", "4", "--notes", "40",
                            "--annotations", "8", "--overwrite-ratio", "0.25", "--seed", "3", "--json").object
        let noteWrites = try #require(gen["notes"] as? Int) + #require(gen["edits"] as? Int)
        let run = try gloss("bench", "run", "--bundle", bundle.path, "--repeat", "1", "--ops", "import,rebuild", "--no-baseline",
                            "--statements", "1000", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let statements = try #require(run.object["statements"] as? [String: Any])
        for op in ["import", "rebuild"] {
            let list = try #require(statements[op] as? [[String: Any]], "no statements for \(op)")
            #expect(!list.isEmpty && list.count <= 1000)
            let seconds = list.compactMap { $0["seconds"] as? Double }
            #expect(seconds.count == list.count && seconds == seconds.sorted(by: >), "\(op): costliest first")
            // Each note and each edit is one note_revisions row, whichever path wrote it.
            let revisions = list.first { ($0["sql"] as? String ?? "").hasPrefix("INSERT INTO note_revisions") }
            #expect(revisions?["count"] as? Int == noteWrites, "\(op): \(list.map { $0["sql"] ?? "" })")
        }
        #expect(run.stderr.contains("costliest SQL statements"))
        // A count that is a lie is a usage error, never a huge allocation or a trap.
        for bad in ["-1", "1001", "18446744073709551615", "9223372036854775807"] {
            #expect(try gloss("bench", "run", "--bundle", bundle.path, "--statements", bad).status == 64, "bench run --statements \(bad)")
            #expect(try gloss("bench", "op", "import", "--work", tmp.sub("w").path, "--bundle", bundle.path, "--statements", bad).status == 64,
                    "bench op --statements \(bad)")
        }
        // Bad paths and bundles get the documented codes and words, not Foundation's (found by an
        // audit, 2026-12-06: a folder or a file as --work was "unexpected error … NSCocoaErrorDomain",
        // a damaged bundle an internal error printing a Swift value).
        let garbage = tmp.sub("garbage.glossb")
        try Data(repeating: 0x5A, count: 3000).write(to: garbage)
        let file = tmp.sub("a-file")
        try Data("x".utf8).write(to: file)
        for (args, status) in [(["--bundle", tmp.url.path], 65), (["--bundle", tmp.sub("none.glossb").path], 66),
                               (["--bundle", bundle.path, "--work", file.path], 5), (["--bundle", garbage.path, "--repeat", "1", "--ops", "import", "--no-baseline"], 65)] {
            let r = try gloss(["bench", "run"] + args + ["--json"])
            #expect(r.status == Int32(status) && r.object["exit"] as? Int == status, "\(args): \(r.status) \(r.stdout)")
            #expect(!r.stderr.contains("Error Domain") && !r.stderr.contains("ImportReport(") && !r.stderr.contains("unexpected error"), "\(r.stderr)")
        }
    }
}
