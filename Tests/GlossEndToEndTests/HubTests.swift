import Foundation
import GlossEngine
import GlossModel
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
    static func hub(_ db: PostgresTestDatabase, cache: URL, env: [String: String] = [:]) throws -> ServeProcess {
        try ServeProcess(arguments: ["--store", db.url, "--cache", cache.path], env: env)
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
    /// A cache's full-text index against the texts it should hold (Protocol/04 §Full-text index,
    /// restated here): occurrences in the index but not in the texts, the reverse, documents held,
    /// documents expected — "0|0|n|n" when they agree. The reference is an index built in `temp`.
    static func searchAgreement(_ dir: URL) throws -> String {
        let documents = """
            SELECT rowid * 4 AS rowid, exact || coalesce(char(10) || comment, '') AS body FROM annotations
            UNION ALL SELECT rowid * 4 + 1, body FROM notes WHERE deleted = 0
            UNION ALL SELECT rowid * 4 + 2, text FROM article_revisions
            UNION ALL SELECT rowid * 4 + 3, subject || ' ' || predicate || ' ' || object || coalesce(' ' || when_text, '')
                || coalesce(' ' || where_text, '') || char(10) || exact FROM facts WHERE retracted = 0
            """
        return try sqlite(dir, """
            CREATE VIRTUAL TABLE temp.reference USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
            INSERT INTO temp.reference(rowid, body) SELECT rowid, body FROM (\(documents));
            CREATE VIRTUAL TABLE temp.held USING fts5vocab(main, search, instance);
            CREATE VIRTUAL TABLE temp.wanted USING fts5vocab(temp, reference, instance);
            SELECT (SELECT count(*) FROM (SELECT term, doc, offset FROM temp.held EXCEPT SELECT term, doc, offset FROM temp.wanted)),
                   (SELECT count(*) FROM (SELECT term, doc, offset FROM temp.wanted EXCEPT SELECT term, doc, offset FROM temp.held)),
                   (SELECT count(*) FROM search_docsize), (SELECT count(*) FROM (\(documents)));
            """).trimmingCharacters(in: .whitespacesAndNewlines)
    }

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
        // Text PostgreSQL's `text` cannot hold as it is (U+0000: SQLite stores text up to it, as
        // GRDB binds it), and text starting with the marker U+E000: stored escaped
        // (Protocol/12-hub.md §Tables), read back exactly. Gloss's own writers refuse U+0000; a
        // peer's events carry it here.
        do {
            let r = try Replica.open(at: a)
            defer { try? r.close() }
            let odd = ArticleIngested(text: "date 2021-01-01 NOWHERE\nA NUL \u{0} here, a backslash \\0 there.\n", date: nil, dateline: nil, places: [], filename: "odd.txt")
            try r.applyPeerEvent(odd)
            try r.applyPeerEvent(NoteAdded(on: odd.article, body: "\u{E000}starts with the marker \\ and a NUL \u{0}"))
        }
        #expect(try Self.gloss(["sync", "--dir", a.path, "127.0.0.1:\(hub.port)"], tmp).status == 0)
        let withNUL = try Self.digest(["--dir", a.path], tmp)
        #expect(withNUL != replica)
        #expect(withNUL == (try Self.digest(["--store", db.url], tmp)))
        #expect(withNUL == (try Self.digest(["--store", db.url, "--recompute"], tmp)), "escaped text read back exactly")
        // A new hub process bootstraps from the PostgreSQL rows and serves them: the text comes back
        // exactly. It copies 3 rows per batch, so every table of more than 3 rows takes several.
        let reader = try Self.hub(db, cache: tmp.sub("hub-reader"), env: ["GLOSS_HUB_COPY_ROWS": "3"])
        defer { reader.stop() }
        let c = tmp.sub("cy")
        #expect(try Self.gloss(["init", "--analyst", "cy", "--dir", c.path], tmp).status == 0)
        #expect(try Self.gloss(["sync", "--dir", c.path, "127.0.0.1:\(reader.port)"], tmp).status == 0)
        #expect(try Self.digest(["--dir", c.path], tmp) == withNUL)
        #expect(try db.sql("SELECT count(*) FROM notes WHERE body LIKE chr(57344) || '%'").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        let verify = try Self.gloss(["verify", "--store", db.url], tmp)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(hub.stop() == 0)
        #expect(reader.stop() == 0)
        // The applying hub's index and the bootstrapped one's hold exactly the terms of their rows.
        for cache in [tmp.sub("hub-cache"), tmp.sub("hub-reader")] {
            let agreement = try Self.searchAgreement(cache).split(separator: "|")
            #expect(agreement.count == 4 && agreement[0] == "0" && agreement[1] == "0" && agreement[2] == agreement[3] && agreement[2] != "0",
                    "\(cache.lastPathComponent): \(agreement)")
        }
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
        // An ordinary replica is never taken for a hub cache.
        let fresh = try PostgresTestDatabase("fresh")
        defer { fresh.drop() }
        #expect(try Self.gloss(["hub", "init", "--store", fresh.url], tmp).status == 0)
        let replica = tmp.sub("replica")
        #expect(try Self.gloss(["init", "--analyst", "ana", "--dir", replica.path], tmp).status == 0)
        #expect(try Self.gloss(["source", "add", "Dawn", "--dir", replica.path], tmp).status == 0)
        let taken = try Self.gloss(["serve", "--store", fresh.url, "--cache", replica.path, "--listen", "127.0.0.1:0"], tmp)
        #expect(taken.status == 5, "\(taken.stderr)")
        #expect(try Self.vector(["--dir", replica.path], tmp).values.reduce(0, +) == 1)
        // A malformed URL is a usage error; an unreachable server a connection failure.
        let bad = try Self.gloss(["status", "--store", "mysql://x@y/z"], tmp)
        #expect(bad.status == 64, "\(bad.stderr)")
        #expect(bad.stderr.contains("postgres://USER@HOST"))
        let closedPort = try Self.gloss(["hub", "init", "--store", "postgres://gloss@127.0.0.1:1/gloss"], tmp)
        #expect(closedPort.status == 1, "\(closedPort.stderr)")
        #expect(closedPort.stderr.contains("cannot connect to the hub database"), "\(closedPort.stderr)")
    }

    /// Three hub processes on one database, ten clients syncing with random hubs at once, one hub
    /// killed with SIGKILL mid-run and restarted on its cache: every event acknowledged by a hub is
    /// in PostgreSQL right after, and in the end every client and the database hold the same
    /// vector and digest (maintained and recomputed), every event exactly once, every feed
    /// contiguous. Seeded (GLOSS_SEED replays); GLOSS_LARGE=1 runs more rounds and notes.
    @Test func threeHubsTenClientsAndAKilledHubConverge() throws {
        let seed = testSeed("hub-converge")
        var rng = SplitMix64(seed: seed)
        let large = ProcessInfo.processInfo.environment["GLOSS_LARGE"] == "1"
        let (clientCount, rounds, notesPerRound) = large ? (10, 8, 6) : (10, 3, 2)
        let tmp = TempDir("gloss-hub-converge")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("converge")
        defer { db.drop() }
        #expect(try Self.gloss(["hub", "init", "--store", db.url], tmp).status == 0)
        let caches = (0..<3).map { tmp.sub("hub\($0)") }
        var hubs = try caches.map { try Self.hub(db, cache: $0) }
        defer { for h in hubs { h.stop() } }
        let clients = (0..<clientCount).map { tmp.sub("client\($0)") }
        var ids: [String] = [], articles: [String] = []
        for (i, c) in clients.enumerated() {
            #expect(try Self.gloss(["init", "--analyst", "analyst\(i)", "--dir", c.path], tmp).status == 0)
            ids.append(try Self.gloss(["whoami", "--json", "--dir", c.path], tmp).object["replica"] as? String ?? "")
            let text = tmp.sub("article\(i).txt")
            try "date 2026-12-04 HUB\nArticle \(i) of the hub test, seed \(seed).\n".write(to: text, atomically: true, encoding: .utf8)
            let ingest = try Self.gloss(["ingest", "--dir", c.path, text.path], tmp)
            #expect(ingest.status == 0)
            articles.append(ingest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var written = Array(repeating: 1, count: clientCount)
        let killRound = rounds / 2
        for round in 0..<rounds {
            // Everyone writes, then everyone syncs with a random hub at once.
            let targets = (0..<clientCount).map { _ in Int.random(in: 0..<3, using: &rng) }
            let ports = hubs.map(\.port)
            let articles = articles
            DispatchQueue.concurrentPerform(iterations: clientCount) { i in
                for n in 0..<notesPerRound {
                    let r = try? Self.gloss(["note", "add", "--dir", clients[i].path, "--on", articles[i], "--text", "note \(n) of round \(round) by client \(i)"], tmp)
                    if r?.status != 0 { Issue.record("note add failed: \(r?.stderr ?? "?")") }
                }
            }
            for i in 0..<clientCount { written[i] += notesPerRound }
            let now = written
            let acknowledged = Locked([Int: Int]())
            let killer: Thread? = round == killRound ? Thread { [hubs] in
                Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.6))
                hubs[1].kill()
            } : nil
            killer?.start()
            DispatchQueue.concurrentPerform(iterations: clientCount) { i in
                let r = try? Self.gloss(["sync", "--dir", clients[i].path, "127.0.0.1:\(ports[targets[i]])"], tmp)
                if let r, r.status == 0 || r.status == 8 { acknowledged.withValue { $0[i] = now[i] } }
            }
            if round == killRound {
                while hubs[1].alive { Thread.sleep(forTimeInterval: 0.05) }
                print("[hub-converge] round \(round): hub 1 killed with SIGKILL during the syncs; restarting it on its cache")
            }
            // What a hub acknowledged is in PostgreSQL, whichever hub it was and whatever happened to it.
            let heads = try Self.heads(db)
            for (i, n) in acknowledged.value {
                #expect((heads[ids[i]] ?? 0) >= n, "client \(i): \(n) events acknowledged, \(heads[ids[i]] ?? 0) in the database (seed \(seed))")
            }
            if round == killRound { hubs[1] = try Self.hub(db, cache: caches[1]) }
        }
        // Everyone pushes what it has, then pulls everything, through random hubs.
        for pass in 0..<2 {
            for (i, c) in clients.enumerated() {
                var ok = false
                for _ in 0..<3 where !ok {
                    let h = hubs[Int.random(in: 0..<3, using: &rng)]
                    let r = try Self.gloss(["sync", "--dir", c.path, "127.0.0.1:\(h.port)"], tmp)
                    ok = r.status == 0
                    if !ok { print("[hub-converge] pass \(pass) client \(i): \(r.stderr)") }
                }
                #expect(ok, "client \(i) could not sync (seed \(seed))")
            }
        }
        let total = written.reduce(0, +)
        let expectedVector = Dictionary(uniqueKeysWithValues: zip(ids, written))
        let hubDigest = try Self.digest(["--store", db.url], tmp)
        #expect(hubDigest == (try Self.digest(["--store", db.url, "--recompute"], tmp)), "maintained and recomputed digests of the database (seed \(seed))")
        #expect(try Self.vector(["--store", db.url], tmp) == expectedVector, "seed \(seed)")
        for (i, c) in clients.enumerated() {
            #expect(try Self.vector(["--dir", c.path], tmp) == expectedVector, "client \(i) (seed \(seed))")
            #expect(try Self.digest(["--dir", c.path], tmp) == hubDigest, "client \(i) (seed \(seed))")
        }
        #expect(try Self.digest(["--dir", clients[0].path, "--recompute"], tmp) == hubDigest)
        // Exactly once, contiguous, in PostgreSQL.
        let counts = try db.sql("SELECT count(*), count(DISTINCT id) FROM events").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(counts == "\(total)|\(total)", "seed \(seed)")
        let gaps = try db.sql("SELECT feed FROM events GROUP BY feed HAVING min(seq) <> 1 OR max(seq) <> count(*) OR count(DISTINCT seq) <> count(*)")
        #expect(gaps.isEmpty, "feeds with a gap or a duplicate: \(gaps) (seed \(seed))")
        #expect(try db.sql("SELECT count(*) FROM pending").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let verify = try Self.gloss(["verify", "--store", db.url], tmp)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        // Every hub serves what any other applied: a fresh client pulls everything from each.
        for (h, hub) in hubs.enumerated() {
            let fresh = tmp.sub("fresh\(h)")
            #expect(try Self.gloss(["init", "--analyst", "fresh", "--dir", fresh.path], tmp).status == 0)
            let r = try Self.gloss(["sync", "--json", "--dir", fresh.path, "127.0.0.1:\(hub.port)"], tmp)
            #expect(r.object["applied"] as? Int == total, "hub \(h): \(r.stdout) \(r.stderr)")
            #expect(try Self.digest(["--dir", fresh.path], tmp) == hubDigest)
        }
        for h in hubs { #expect(h.stop() == 0, "\(h.log.suffix(2000))") }
        // Each cache's search index (kept through catch-ups of what the other hubs applied, and
        // a restart) holds exactly the terms of its rows. (Since projection version 21 keyed
        // `notes` and `annotations` by position, a catch-up marked their rows by id with the
        // position's value — nothing — and left them unindexed: 28 of 70 documents held.)
        for cache in caches {
            let agreement = try Self.searchAgreement(cache).split(separator: "|")
            #expect(agreement.count == 4 && agreement[0] == "0" && agreement[1] == "0" && agreement[2] == agreement[3] && agreement[2] != "0",
                    "\(cache.lastPathComponent): \(agreement) (seed \(seed))")
        }
    }

    /// Two hub processes offered the same feed's events at once (two copies of one replica folder,
    /// one a prefix of the other, syncing with different hubs at the same moment): PostgreSQL holds
    /// each event once, `events(feed, seq)` contiguous, in order.
    /// Copies a closed replica's folder: its database and key only. A closed replica's WAL is
    /// checkpointed and empty, but the background checkpointer may still open and close the
    /// database for a moment, creating and removing `-wal`/`-shm` while a whole-folder copy reads
    /// them (found by CI: "The file doesn't exist" for `replica.db-shm`).
    static func copyClosedReplica(_ from: URL, to: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: to.appendingPathComponent(".gloss"), withIntermediateDirectories: true)
        for name in ["replica.db", "replica.key"] {
            try fm.copyItem(at: from.appendingPathComponent(".gloss/\(name)"), to: to.appendingPathComponent(".gloss/\(name)"))
        }
    }

    @Test func twoHubsApplyingTheSameFeedConcurrentlyNeitherDuplicateNorSkip() throws {
        let tmp = TempDir("gloss-hub-race")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("race")
        defer { db.drop() }
        #expect(try Self.gloss(["hub", "init", "--store", db.url], tmp).status == 0)
        let hubs = try (0..<2).map { try Self.hub(db, cache: tmp.sub("hub\($0)")) }
        defer { for h in hubs { h.stop() } }
        let w = tmp.sub("writer"), early = tmp.sub("early")
        let n = 400
        do {
            var r = try Replica.create(in: w, analyst: "writer")
            let article = try r.ingest(bytes: Array("date 2026-12-04 RACE\nOne feed, two hubs.\n".utf8), filename: "race.txt")
            for i in 1..<n {
                _ = try r.addNote(on: article.id, body: "note \(i)")
                if i == n / 2 {
                    try r.close()
                    try Self.copyClosedReplica(w, to: early)
                    r = try Replica.open(at: w)
                }
            }
            try r.close()
        }
        let later = try Replica.open(at: w)
        #expect(try later.vector.eventCount == UInt64(n))
        try later.close()
        // Three copies at once: the full feed to hub 0, the full feed and its first half to hub 1.
        let copies = [(w, 0), (early, 1)]
        let second = tmp.sub("writer2")
        try Self.copyClosedReplica(w, to: second)
        let jobs = copies + [(second, 1)]
        let statuses = Locked([Int32]())
        DispatchQueue.concurrentPerform(iterations: jobs.count) { j in
            let r = try? Self.gloss(["sync", "--push-only", "--dir", jobs[j].0.path, "127.0.0.1:\(hubs[jobs[j].1].port)"], tmp)
            statuses.withValue { $0.append(r?.status ?? -1) }
        }
        #expect(statuses.value.allSatisfy { $0 == 0 }, "\(statuses.value)")
        #expect(try db.sql("SELECT count(*), count(DISTINCT id), min(seq), max(seq) FROM events").trimmingCharacters(in: .whitespacesAndNewlines) == "\(n)|\(n)|1|\(n)")
        // In order: the local apply position follows the seq within the feed.
        let disorder = try db.sql("SELECT count(*) FROM events a JOIN events b ON a.feed = b.feed AND a.seq < b.seq AND a.pos > b.pos")
        #expect(disorder.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let digest = try Self.digest(["--dir", w.path], tmp)
        #expect(try Self.digest(["--store", db.url], tmp) == digest)
        #expect(try Self.digest(["--store", db.url, "--recompute"], tmp) == digest)
    }

    /// A hub database that joins a team: each hub process's key is enrolled by an admin; the hubs
    /// admit members only, and members sync through different hub processes.
    @Test func aTeamSyncsThroughTwoHubProcessesAndStrangersAreRefused() throws {
        let tmp = TempDir("gloss-hub-team")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("team")
        defer { db.drop() }
        #expect(try Self.gloss(["hub", "init", "--join", "--store", db.url], tmp).status == 0)
        let hubs = try (0..<2).map { try Self.hub(db, cache: tmp.sub("hub\($0)")) }
        defer { for h in hubs { h.stop() } }
        func key(_ dir: URL) throws -> String { try Self.gloss(["whoami", "--json", "--dir", dir.path], tmp).object["replica"] as? String ?? "" }
        let ana = tmp.sub("ana"), bo = tmp.sub("bo"), eve = tmp.sub("eve")
        #expect(try Self.gloss(["init", "--analyst", "ana", "--new-team", "Ops", "--dir", ana.path], tmp).status == 0)
        #expect(try Self.gloss(["init", "--analyst", "bo", "--join", "--dir", bo.path], tmp).status == 0)
        #expect(try Self.gloss(["init", "--analyst", "eve", "--join", "--dir", eve.path], tmp).status == 0)
        let add1 = try Self.gloss(["team", "add", "hubs", "--key", try key(tmp.sub("hub0")), "--role", "reader", "--dir", ana.path], tmp)
        #expect(add1.status == 0, "\(add1.stderr)")
        #expect(try Self.gloss(["team", "enrol", "hubs", "--key", try key(tmp.sub("hub1")), "--dir", ana.path], tmp).status == 0)
        #expect(try Self.gloss(["team", "add", "bo", "--key", try key(bo), "--dir", ana.path], tmp).status == 0)
        #expect(try Self.gloss(["source", "add", "Dawn", "--dir", ana.path], tmp).status == 0)
        let first = try Self.gloss(["sync", "--dir", ana.path, "127.0.0.1:\(hubs[0].port)"], tmp)
        #expect(first.status == 0, "\(first.stderr)")
        let join = try Self.gloss(["sync", "--dir", bo.path, "127.0.0.1:\(hubs[1].port)"], tmp)
        #expect(join.status == 0, "\(join.stderr)")
        let reuters = try Self.gloss(["source", "add", "Reuters", "--json", "--dir", bo.path], tmp)
        #expect(reuters.status == 0)
        #expect(try Self.gloss(["sync", "--dir", bo.path, "127.0.0.1:\(hubs[1].port)"], tmp).status == 0)
        let stranger = try Self.gloss(["sync", "--dir", eve.path, "127.0.0.1:\(hubs[0].port)"], tmp)
        #expect(stranger.status == 5, "\(stranger.status) \(stranger.stderr)")
        #expect(try Self.gloss(["sync", "--dir", ana.path, "127.0.0.1:\(hubs[0].port)"], tmp).status == 0)
        // A redaction rebuilds the projections inside the apply transaction, on the hub too.
        let event = reuters.object["event"] as? String ?? ""
        let redact = try Self.gloss(["redact", event, "--reason", "privacy order", "--dir", ana.path], tmp)
        #expect(redact.status == 0, "\(redact.stderr)")
        #expect(try Self.gloss(["sync", "--dir", ana.path, "127.0.0.1:\(hubs[0].port)"], tmp).status == 0)
        #expect(try Self.gloss(["sync", "--dir", bo.path, "127.0.0.1:\(hubs[1].port)"], tmp).status == 0)
        #expect(try db.sql("SELECT count(*) FROM redactions").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try db.sql("SELECT count(*) FROM sources").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try Self.digest(["--store", db.url, "--recompute"], tmp) == (try Self.digest(["--dir", bo.path], tmp)))
        let digest = try Self.digest(["--dir", ana.path], tmp)
        #expect(try Self.digest(["--dir", bo.path], tmp) == digest)
        #expect(try Self.digest(["--store", db.url], tmp) == digest)
        let status = try Self.gloss(["status", "--json", "--store", db.url], tmp).object
        #expect(status["teamMode"] as? String == "member", "\(status)")
        // --join is for a new database only.
        #expect(try Self.gloss(["hub", "init", "--join", "--store", db.url], tmp).status == 5)
    }

    /// `gloss bench hub` on a tiny history: both imports, equal digests, pull and push through 1 and 2 hubs.
    @Test func benchHubRunsOnATinyHistory() throws {
        let tmp = TempDir("gloss-hub-bench")
        defer { tmp.remove() }
        guard let cluster = PostgresTestDatabase.clusterURL else { throw PostgresTestError(message: "GLOSS_PG_URL is not set") }
        let r = try Self.gloss(["bench", "hub", "--store", cluster, "--events", "300", "--clients", "3", "--hubs", "1,2", "--push-events", "5", "--json"], tmp)
        #expect(r.status == 0, "\(r.stderr)")
        let o = r.object
        #expect(o["events"] as? Int == 300)
        #expect((o["import"] as? [String: Any])?["digestsEqual"] as? Bool == true)
        let sync = o["sync"] as? [[String: Any]] ?? []
        #expect(sync.map { $0["hubs"] as? Int } == [1, 2])
        #expect(sync.first?["pullEvents"] as? Int == 900)
        #expect(sync.allSatisfy { $0["pushEvents"] as? Int == 15 })
        let left = try PostgresTestDatabase.psql(cluster, "SELECT count(*) FROM pg_database WHERE datname LIKE 'gloss_bench_%'")
        #expect(left.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the bench left its database behind")
    }

    /// A hub killed between its PostgreSQL commit and its SQLite commit (fault injection): the
    /// client got no acknowledgement, the database holds the batch, and the restarted hub's cache
    /// catches up from the changelog — nothing lost, nothing twice.
    @Test func aHubKilledBetweenItsTwoCommitsLosesNothing() throws {
        let tmp = TempDir("gloss-hub-crash")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("crash")
        defer { db.drop() }
        #expect(try Self.gloss(["hub", "init", "--store", db.url], tmp).status == 0)
        let cache = tmp.sub("hub")
        let doomed = try ServeProcess(arguments: ["--store", db.url, "--cache", cache.path], env: ["GLOSS_HUB_TEST_KILL": "after-postgres-commit"])
        let w = tmp.sub("writer")
        do {
            let r = try Replica.create(in: w, analyst: "writer")
            let a = try r.ingest(bytes: Array("date 2026-12-04 CRASH\nBetween two commits.\n".utf8), filename: nil)
            for i in 1..<50 { _ = try r.addNote(on: a.id, body: "note \(i)") }
            try r.close()
        }
        let first = try Self.gloss(["sync", "--dir", w.path, "127.0.0.1:\(doomed.port)"], tmp)
        #expect(first.status == 1, "the hub died before acknowledging: \(first.stdout) \(first.stderr)")
        doomed.process.waitUntilExit()
        #expect(doomed.process.terminationReason == .uncaughtSignal && doomed.process.terminationStatus == SIGKILL)
        // The database holds the batch; the cache does not.
        #expect(try db.sql("SELECT count(*) FROM events").trimmingCharacters(in: .whitespacesAndNewlines) == "50")
        #expect(try Self.sqlite(cache, "SELECT count(*) FROM events").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let hub = try Self.hub(db, cache: cache)
        defer { hub.stop() }
        let reader = tmp.sub("reader")
        #expect(try Self.gloss(["init", "--analyst", "reader", "--dir", reader.path], tmp).status == 0)
        let pull = try Self.gloss(["sync", "--json", "--dir", reader.path, "127.0.0.1:\(hub.port)"], tmp)
        #expect(pull.object["applied"] as? Int == 50, "\(pull.stdout) \(pull.stderr)")
        let again = try Self.gloss(["sync", "--json", "--dir", w.path, "127.0.0.1:\(hub.port)"], tmp)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.object["sent"] as? Int == 0, "the hub's hello already names the 50 events: \(again.stdout)")
        #expect(try db.sql("SELECT count(*), count(DISTINCT id) FROM events").trimmingCharacters(in: .whitespacesAndNewlines) == "50|50")
        let digest = try Self.digest(["--dir", w.path], tmp)
        #expect(try Self.digest(["--dir", reader.path], tmp) == digest)
        #expect(try Self.digest(["--store", db.url, "--recompute"], tmp) == digest)
        #expect(try Self.gloss(["verify", "--dir", cache.path], tmp).status == 0, "the repaired cache verifies")
    }

    /// `gloss hub prune`: the changelog's old entries go; a cache behind them copies the database
    /// again at its next catch-up instead of applying what is left (which would silently miss the
    /// pruned changes), and a cache ahead of them goes on catching up; a cache made afterwards
    /// starts from the last entry pruned even when the changelog is empty.
    @Test func aPrunedChangelogSendsCachesBehindItToABootstrap() throws {
        let tmp = TempDir("gloss-hub-prune")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("prune")
        defer { db.drop() }
        #expect(try Self.gloss(["hub", "init", "--store", db.url], tmp).status == 0)
        let behind = tmp.sub("behind"), ahead = tmp.sub("ahead")
        let w = tmp.sub("writer")
        #expect(try Self.gloss(["init", "--analyst", "writer", "--dir", w.path], tmp).status == 0)
        func write(_ n: Int, _ label: String) throws {
            let r = try Replica.open(at: w)
            let a = try r.ingest(bytes: Array("date 2026-12-05 PRUNE\n\(label)\n".utf8), filename: nil)
            for i in 0..<n { _ = try r.addNote(on: a.id, body: "\(label) \(i)") }
            try r.close()
        }
        // Both caches hold the first batch; then `behind` stops and `ahead` takes two more.
        try write(10, "first")
        do {
            let h = try Self.hub(db, cache: behind)
            #expect(try Self.gloss(["sync", "--dir", w.path, "127.0.0.1:\(h.port)"], tmp).status == 0)
            h.stop()
        }
        let hub = try Self.hub(db, cache: ahead)
        try write(10, "second")
        #expect(try Self.gloss(["sync", "--dir", w.path, "127.0.0.1:\(hub.port)"], tmp).status == 0)
        let before = Int(try db.sql("SELECT count(*) FROM hub_changes").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(before > 2)
        // Bad flags, then every entry so far.
        #expect(try Self.gloss(["hub", "prune", "--store", db.url, "--older-than", "-1"], tmp).status == 64)
        #expect(try Self.gloss(["hub", "prune", "--store", db.url], tmp).status == 64)
        let pruned = try Self.gloss(["hub", "prune", "--json", "--store", db.url, "--older-than", "0"], tmp)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.object["pruned"] as? Int == before)
        let through = pruned.object["through"] as? Int ?? 0
        #expect(try db.sql("SELECT count(*) FROM hub_changes").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // `ahead` writes on after the prune; its own mark is the last entry.
        try write(5, "third")
        #expect(try Self.gloss(["sync", "--dir", w.path, "127.0.0.1:\(hub.port)"], tmp).status == 0)
        hub.stop()
        let digest = try Self.digest(["--dir", w.path], tmp)
        #expect(try Self.digest(["--store", db.url, "--recompute"], tmp) == digest)
        // `behind` restarts with a mark below the pruned entries: it copies the database, and holds all of it.
        let back = try Self.hub(db, cache: behind)
        defer { back.stop() }
        let reader = tmp.sub("reader")
        #expect(try Self.gloss(["init", "--analyst", "reader", "--dir", reader.path], tmp).status == 0)
        let pull = try Self.gloss(["sync", "--json", "--dir", reader.path, "127.0.0.1:\(back.port)"], tmp)
        #expect(pull.object["applied"] as? Int == 28, "\(pull.stdout) \(pull.stderr)")
        #expect(try Self.digest(["--dir", reader.path], tmp) == digest)
        back.stop()
        #expect(try Self.digest(["--dir", behind.path, "--recompute"], tmp) == digest)
        #expect(try Self.gloss(["verify", "--dir", behind.path], tmp).status == 0)
        let mark = Int(try Self.sqlite(behind, "SELECT value FROM hub_cache WHERE key = 'serial'").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(mark > through)
        // A second prune with nothing old enough deletes nothing and keeps the record.
        let again = try Self.gloss(["hub", "prune", "--json", "--store", db.url, "--older-than", "3600"], tmp)
        #expect(again.object["pruned"] as? Int == 0 && again.object["through"] as? Int == through, "\(again.stdout)")
    }

    /// A new cache copies the database a batch at a time: its peak memory does not grow with the
    /// tables (it held each table whole: with 64 notes of 0.8 MB, `events`, `notes` and
    /// `note_revisions` each hold over 50 MB).
    @Test func aBootstrapsMemoryDoesNotGrowWithTheDatabase() throws {
        let tmp = TempDir("gloss-hub-boot")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("boot")
        defer { db.drop() }
        #expect(try Self.gloss(["hub", "init", "--store", db.url], tmp).status == 0)
        let w = tmp.sub("writer")
        #expect(try Self.gloss(["init", "--analyst", "writer", "--dir", w.path], tmp).status == 0)
        let writer = try Replica.open(at: w)
        let article = try writer.ingest(bytes: Array("date 2026-12-05 BOOT\nlong notes\n".utf8), filename: nil).id
        let hub = try Self.hub(db, cache: tmp.sub("hub"))
        defer { hub.stop() }
        var peaks: [Int] = []
        for (round, notes) in [4, 60].enumerated() {
            for i in 0..<notes {
                _ = try writer.addNote(on: article, body: String(repeating: "line \(round) \(i) of a long note\n", count: 1_000_000 / 30))
            }
            #expect(try Self.gloss(["sync", "--dir", w.path, "127.0.0.1:\(hub.port)"], tmp).status == 0)
            let fresh = try Self.hub(db, cache: tmp.sub("fresh-\(round)"))
            peaks.append(fresh.peakRSS ?? 0)
            #expect(fresh.stop() == 0)
        }
        try writer.close()
        print("a bootstrap's peak memory: \(peaks[0] >> 20) MB with 4 notes of 0.8 MB, \(peaks[1] >> 20) MB with 64")
        #expect(peaks[0] > 0 && peaks[1] - peaks[0] < 24 << 20, "\(peaks.map { $0 >> 20 }) MB")
    }

    /// `feeds.head_seq` per replica (hex) in the database.
    static func heads(_ db: PostgresTestDatabase) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for line in try db.sql("SELECT encode(replica, 'hex'), head_seq FROM feeds").split(separator: "\n") {
            let p = line.split(separator: "|")
            if p.count == 2, let n = Int(p[1]) { out[String(p[0])] = n }
        }
        return out
    }
}
