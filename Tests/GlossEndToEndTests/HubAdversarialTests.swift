import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GlossEngine
import GlossModel
import GlossTestSupport
import Testing

/// Adversarial tests of hubs on PostgreSQL (Protocol/12-hub.md), written from the specification by
/// someone other than the hub's author: concurrent `hub init`, caches that lie (deleted, truncated,
/// belonging to another database), writes interleaved through two hubs with immediate reads through
/// the other, SIGKILL at random moments of large pushes, text that looks like the hub's own escape,
/// the Protocol/04 views on both databases, and tampered rows. Real `gloss` processes, a real
/// PostgreSQL cluster (`GLOSS_PG_URL`, `Scripts/pg-cluster.sh start`), real sockets. Seeded
/// (`GLOSS_SEED` replays; the seed is printed); `GLOSS_LARGE=1` runs larger.
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: PostgresTestDatabase.enabled))
struct HubAdversarialTests {
    static let large = ProcessInfo.processInfo.environment["GLOSS_LARGE"] == "1"

    // MARK: Harness

    @discardableResult
    static func g(_ args: [String], _ tmp: TempDir) throws -> GlossProcess.Result {
        try GlossProcess.run(args, cwd: tmp.url)
    }

    static func ok(_ args: [String], _ tmp: TempDir, _ context: String = "") throws -> GlossProcess.Result {
        let r = try g(args, tmp)
        #expect(r.status == 0, "\(args.joined(separator: " ")) → \(r.status): \(r.stderr) \(context)")
        return r
    }

    static func hub(_ db: PostgresTestDatabase, _ cache: URL) throws -> ServeProcess {
        try ServeProcess(arguments: ["--store", db.url, "--cache", cache.path])
    }

    /// SIGTERM, then at most `seconds` for the hub to exit; a hub still running then is wedged:
    /// recorded as an issue and killed with SIGKILL (so a wedged hub never hangs the suite).
    @discardableResult
    static func halt(_ h: ServeProcess, _ seconds: Double = 15, _ context: String = "") -> Int32 {
        if h.alive { Glibc.kill(h.process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(seconds)
        while h.alive && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if h.alive {
            Issue.record("the hub process did not exit within \(Int(seconds)) s of SIGTERM: wedged (\(context)); killed with SIGKILL")
            h.kill()
            return -1
        }
        return h.stop()
    }

    /// `gloss ARGS` killed after `seconds` (exit 137, "timed out" appended to stderr): a session
    /// that never ends is a finding, not a hung suite.
    struct Timed { var status: Int32; var stdout: String; var stderr: String }
    static func gTimed(_ args: [String], _ tmp: TempDir, _ seconds: Int = 60) throws -> Timed {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["-s", "KILL", "\(seconds)", GlossProcess.binary.path] + args
        p.currentDirectoryURL = tmp.url
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var o = Data(), e = Data()
        group.enter(); DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { e = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.wait()
        p.waitUntilExit()
        var stderr = String(decoding: e, as: UTF8.self)
        // `timeout -s KILL` kills itself too: Foundation reports the signal (9), not 137.
        let timedOut = p.terminationReason == .uncaughtSignal || p.terminationStatus == 124 || p.terminationStatus == 137
        if timedOut { stderr += " [timed out after \(seconds) s]" }
        return Timed(status: timedOut ? 137 : p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: stderr)
    }

    static func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

    static func digest(_ args: [String], _ tmp: TempDir) throws -> String {
        let r = try g(["digest"] + args, tmp)
        #expect(r.status == 0, "digest \(args): \(r.status) \(r.stderr)")
        return trimmed(r.stdout)
    }

    static func vector(_ args: [String], _ tmp: TempDir) throws -> [String: Int] {
        let r = try g(["status", "--json"] + args, tmp)
        #expect(r.status == 0, "status \(args): \(r.stderr)")
        return (r.object["versionVector"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }

    static func whoami(_ dir: URL, _ tmp: TempDir) throws -> String {
        try g(["whoami", "--json", "--dir", dir.path], tmp).object["replica"] as? String ?? ""
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

    /// A fresh client that pulls everything a hub serves; returns its folder.
    static func freshPull(_ port: Int, _ tmp: TempDir, _ label: String) throws -> URL {
        let dir = tmp.sub("fresh-\(label)-\(UUID().uuidString.prefix(4))")
        _ = try ok(["init", "--analyst", "fresh", "--dir", dir.path], tmp)
        _ = try ok(["sync", "--pull-only", "--dir", dir.path, "127.0.0.1:\(port)"], tmp, "pull from \(label)")
        return dir
    }

    /// The database's invariants whatever happened: every event once, every feed 1…n with no gap,
    /// apply order following seq, maintained digest = recomputed digest, `verify --store` clean.
    static func databaseInvariants(_ db: PostgresTestDatabase, _ tmp: TempDir, _ context: String) throws {
        let counts = trimmed(try db.sql("SELECT count(*) = count(DISTINCT id) FROM events"))
        #expect(counts == "t", "an event stored twice (\(context))")
        let gaps = trimmed(try db.sql("SELECT feed, min(seq), max(seq), count(*) FROM events GROUP BY feed HAVING min(seq) <> 1 OR max(seq) <> count(*) OR count(DISTINCT seq) <> count(*)"))
        #expect(gaps.isEmpty, "feeds with a gap or a duplicate seq: \(gaps) (\(context))")
        let heads = trimmed(try db.sql("SELECT f.feed, f.head_seq, max(e.seq) FROM feeds f LEFT JOIN events e ON e.feed = f.feed GROUP BY f.feed, f.head_seq HAVING f.head_seq <> coalesce(max(e.seq), 0)"))
        #expect(heads.isEmpty, "feeds.head_seq disagrees with the events held: \(heads) (\(context))")
        let disorder = trimmed(try db.sql("SELECT count(*) FROM events a JOIN events b ON a.feed = b.feed AND a.seq < b.seq AND a.pos > b.pos"))
        #expect(disorder == "0", "events applied out of seq order (\(context))")
        let maintained = try digest(["--store", db.url], tmp)
        let recomputed = try g(["digest", "--store", db.url, "--recompute"], tmp)
        #expect(recomputed.status == 0 && trimmed(recomputed.stdout) == maintained,
                "maintained digest \(maintained) but recomputed from the PostgreSQL rows: \(recomputed.status) \(recomputed.stdout) \(recomputed.stderr) (\(context))")
        let verify = try g(["verify", "--store", db.url], tmp)
        #expect(verify.status == 0, "verify --store: \(verify.status) \(verify.stdout) \(verify.stderr) (\(context))")
    }

    // MARK: hub init and versions

    /// Four `hub init` at once on one new database (Protocol/12: "two hub init at once are safe"):
    /// each succeeds, exactly one applies the migrations, the database equals one initialized
    /// alone; a database whose `hub_meta.schema` fingerprint is not this build's is refused (5) by
    /// serve, status and init; a bare database is not a hub (3) for serve too.
    @Test func concurrentHubInitsAndAForgedSchemaFingerprint() throws {
        let tmp = TempDir("gloss-hubadv-init")
        defer { tmp.remove() }
        let reference = try PostgresTestDatabase("advref")
        defer { reference.drop() }
        _ = try Self.ok(["hub", "init", "--store", reference.url], tmp)
        let shape = "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
        let indexes = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        for attempt in 0..<(Self.large ? 6 : 2) {
            let db = try PostgresTestDatabase("advinit")
            defer { db.drop() }
            let results = Locked([GlossProcess.Result]())
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                if let r = try? Self.g(["hub", "init", "--json", "--store", db.url], tmp) { results.withValue { $0.append(r) } }
            }
            let rs = results.value
            #expect(rs.count == 4 && rs.allSatisfy { $0.status == 0 }, "attempt \(attempt): \(rs.map { "\($0.status) \($0.stderr)" })")
            let appliers = rs.filter { $0.object["existing"] as? Bool == false }.count
            #expect(appliers == 1, "attempt \(attempt): \(appliers) of 4 concurrent inits say they applied the migrations: \(rs.map(\.stdout))")
            #expect(Self.trimmed(try db.sql("SELECT count(*) FROM hub_migrations")) == "2")
            #expect(Self.trimmed(try db.sql("SELECT count(*) FROM hub_meta WHERE key = 'database'")) == "1")
            #expect(Self.trimmed(try db.sql("SELECT count(*) FROM meta WHERE key = 'projection_version'")) == "1")
            #expect(try db.sql(shape) == (try reference.sql(shape)), "attempt \(attempt): concurrent inits built another schema")
            #expect(try db.sql(indexes) == (try reference.sql(indexes)), "attempt \(attempt): concurrent inits built other indexes")
            #expect(Self.trimmed(try db.sql("SELECT count(*) FROM hub_changes")) == Self.trimmed(try reference.sql("SELECT count(*) FROM hub_changes")))
        }
        // The fingerprint: same projection version, another table layout.
        try reference.sql("UPDATE hub_meta SET value = repeat('0', 64) WHERE key = 'schema'")
        for args in [["serve", "--store", reference.url, "--cache", tmp.sub("c1").path, "--listen", "127.0.0.1:0"],
                     ["status", "--store", reference.url], ["hub", "init", "--store", reference.url]] {
            let r = try Self.g(args, tmp)
            #expect(r.status == 5, "a forged schema fingerprint: \(args[0]) exited \(r.status): \(r.stderr)")
        }
        let bare = try PostgresTestDatabase("advbare")
        defer { bare.drop() }
        let serveBare = try Self.g(["serve", "--store", bare.url, "--cache", tmp.sub("c2").path, "--listen", "127.0.0.1:0"], tmp)
        #expect(serveBare.status == 3, "serve on a database that is not a hub: \(serveBare.status) \(serveBare.stderr)")
        #expect(Self.trimmed(try bare.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")) == "0",
                "serve on a bare database created tables")
    }

    // MARK: Caches that lie

    /// A cache folder that belonged to database 1 is given to a hub of database 2 (feeds numbered
    /// in another order there): it must bootstrap (Protocol/12 §Bootstrap), serve database 2's
    /// events only, never leak database 1's into database 2, and keep writing database 2's feed
    /// numbers.
    @Test func aCacheOfAnotherDatabaseBootstrapsAndLeaksNothing() throws {
        let tmp = TempDir("gloss-hubadv-other")
        defer { tmp.remove() }
        let db1 = try PostgresTestDatabase("advone"), db2 = try PostgresTestDatabase("advtwo")
        defer { db1.drop(); db2.drop() }
        _ = try Self.ok(["hub", "init", "--store", db1.url], tmp)
        _ = try Self.ok(["hub", "init", "--store", db2.url], tmp)
        let x = tmp.sub("x"), y = tmp.sub("y"), z = tmp.sub("z")
        for (d, name) in [(x, "x"), (y, "y"), (z, "z")] {
            _ = try Self.ok(["init", "--analyst", name, "--dir", d.path], tmp)
            for i in 0..<(name == "x" ? 6 : 3) { _ = try Self.ok(["source", "add", "\(name)-source-\(i)", "--dir", d.path], tmp) }
        }
        let cacheC = tmp.sub("cacheC"), cacheD = tmp.sub("cacheD")
        // Database 1 through cache C: x then y (feeds: hub, x, y).
        do {
            let h = try Self.hub(db1, cacheC)
            _ = try Self.ok(["sync", "--push-only", "--dir", x.path, "127.0.0.1:\(h.port)"], tmp)
            _ = try Self.ok(["sync", "--push-only", "--dir", y.path, "127.0.0.1:\(h.port)"], tmp)
            #expect(Self.halt(h) == 0)
        }
        let db1Events = try db1.sql("SELECT count(*) FROM events")
        // Database 2 through cache D: y then z (y numbered where x is in database 1).
        do {
            let h = try Self.hub(db2, cacheD)
            _ = try Self.ok(["sync", "--push-only", "--dir", y.path, "127.0.0.1:\(h.port)"], tmp)
            _ = try Self.ok(["sync", "--push-only", "--dir", z.path, "127.0.0.1:\(h.port)"], tmp)
            #expect(Self.halt(h) == 0)
        }
        let db2Vector = try Self.vector(["--store", db2.url], tmp)
        let xID = try Self.whoami(x, tmp)
        #expect(db2Vector[xID] == nil)
        // Cache C (database 1's) serves database 2.
        let h = try Self.hub(db2, cacheC)
        defer { Self.halt(h) }
        let fresh = try Self.freshPull(h.port, tmp, "C-on-db2")
        #expect(try Self.vector(["--dir", fresh.path], tmp) == db2Vector, "a cache of another database served its old events")
        #expect(try Self.digest(["--dir", fresh.path], tmp) == (try Self.digest(["--store", db2.url], tmp)))
        let pullX = try Self.g(["sync", "--pull-only", "--json", "--dir", x.path, "127.0.0.1:\(h.port)"], tmp)
        #expect(pullX.status == 0)
        #expect(try Self.vector(["--store", db2.url], tmp)[xID] == nil, "database 1's events leaked into database 2 through a reused cache")
        // Now x pushes through it: written with database 2's feed numbers.
        _ = try Self.ok(["source", "add", "x-late", "--dir", x.path], tmp)
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(h.port)"], tmp)
        _ = try Self.ok(["sync", "--dir", y.path, "127.0.0.1:\(h.port)"], tmp)
        _ = try Self.ok(["sync", "--dir", z.path, "127.0.0.1:\(h.port)"], tmp)
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(h.port)"], tmp)
        try Self.databaseInvariants(db2, tmp, "database 2 after a reused cache")
        let d = try Self.digest(["--dir", x.path], tmp)
        #expect(try Self.digest(["--dir", y.path], tmp) == d)
        #expect(try Self.digest(["--store", db2.url], tmp) == d)
        #expect(try db1.sql("SELECT count(*) FROM events") == db1Events, "database 1 changed")
        #expect(Self.halt(h) == 0, "\(h.log.suffix(1500))")
    }

    /// A stopped hub's cache is truncated, then deleted, while the other hub applies more: on
    /// restart it must serve everything in the database (or refuse to start), never stale or
    /// partial data, and the database stays sound.
    @Test func aTruncatedOrDeletedCacheNeverServesStaleOrPartialData() throws {
        let seed = testSeed("hubadv-truncate")
        var rng = SplitMix64(seed: seed)
        let tmp = TempDir("gloss-hubadv-trunc")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("advtrunc")
        defer { db.drop() }
        _ = try Self.ok(["hub", "init", "--store", db.url], tmp)
        let x = tmp.sub("x")
        _ = try Self.ok(["init", "--analyst", "x", "--dir", x.path], tmp)
        let cacheA = tmp.sub("cacheA"), cacheB = tmp.sub("cacheB")
        var a = try Self.hub(db, cacheA)
        let b = try Self.hub(db, cacheB)
        defer { Self.halt(a); Self.halt(b) }
        for i in 0..<8 { _ = try Self.ok(["source", "add", "first-\(i)", "--dir", x.path], tmp) }
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(a.port)"], tmp)
        #expect(Self.halt(a) == 0)
        for i in 0..<8 { _ = try Self.ok(["source", "add", "second-\(i)", "--dir", x.path], tmp) }
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(b.port)"], tmp)
        let full = try Self.vector(["--store", db.url], tmp)
        let fullDigest = try Self.digest(["--store", db.url], tmp)
        let events = try db.sql("SELECT count(*), max(serial) FROM events, (SELECT max(serial) AS serial FROM hub_changes) s GROUP BY s.serial")
        // Truncated at a random page boundary (after a checkpoint nothing is left in the WAL).
        let file = cacheA.appendingPathComponent(".gloss/replica.db")
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let cut = max(1, Int(rng.next() % UInt64(max(1, size / 4096)))) * 4096
        print("[hubadv-truncate] seed \(seed): cache of \(size) bytes truncated to \(cut)")
        let fh = try FileHandle(forWritingTo: file)
        try fh.truncate(atOffset: UInt64(cut))
        try fh.close()
        if let restarted = try? Self.hub(db, cacheA) {
            a = restarted
            let fresh = tmp.sub("fresh-trunc")
            _ = try Self.ok(["init", "--analyst", "fresh", "--dir", fresh.path], tmp)
            let r = try Self.g(["sync", "--pull-only", "--dir", fresh.path, "127.0.0.1:\(a.port)"], tmp)
            if r.status == 0 {
                #expect(try Self.vector(["--dir", fresh.path], tmp) == full, "a truncated cache served partial data (seed \(seed), cut \(cut))")
                #expect(try Self.digest(["--dir", fresh.path], tmp) == fullDigest, "seed \(seed), cut \(cut)")
            }
            Self.halt(a)
        }
        #expect(try db.sql("SELECT count(*), max(serial) FROM events, (SELECT max(serial) AS serial FROM hub_changes) s GROUP BY s.serial") == events,
                "a hub on a truncated cache wrote to the database (seed \(seed), cut \(cut))")
        try Self.databaseInvariants(db, tmp, "after a truncated cache, seed \(seed)")
        // Deleted: a new cache bootstraps and serves everything.
        try FileManager.default.removeItem(at: cacheA)
        a = try Self.hub(db, cacheA)
        let fresh = try Self.freshPull(a.port, tmp, "deleted")
        #expect(try Self.vector(["--dir", fresh.path], tmp) == full)
        #expect(try Self.digest(["--dir", fresh.path], tmp) == fullDigest)
        // And writes through it land in the database with the database's feed numbers.
        _ = try Self.ok(["source", "add", "third", "--dir", x.path], tmp)
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(a.port)"], tmp)
        try Self.databaseInvariants(db, tmp, "after a deleted cache")
        #expect(try Self.digest(["--store", db.url], tmp) == (try Self.digest(["--dir", x.path], tmp)))
    }

    // MARK: Catch-up

    /// Writes alternate between two hubs event by event, and a second client reads through the
    /// *other* hub right after each push: it must see the event at once (a session refreshes
    /// before computing what to send), and the database stays contiguous.
    @Test func writesThroughOneHubAreServedAtOnceByTheOther() throws {
        let seed = testSeed("hubadv-interleave")
        var rng = SplitMix64(seed: seed)
        let tmp = TempDir("gloss-hubadv-inter")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("advinter")
        defer { db.drop() }
        _ = try Self.ok(["hub", "init", "--store", db.url], tmp)
        let hubs = try (0..<2).map { try Self.hub(db, tmp.sub("cache\($0)")) }
        defer { for h in hubs { Self.halt(h) } }
        let writers = [tmp.sub("w0"), tmp.sub("w1")], reader = tmp.sub("reader")
        for (i, w) in writers.enumerated() { _ = try Self.ok(["init", "--analyst", "w\(i)", "--dir", w.path], tmp) }
        _ = try Self.ok(["init", "--analyst", "reader", "--dir", reader.path], tmp)
        let ids = try writers.map { try Self.whoami($0, tmp) }
        var written = [0, 0]
        let steps = Self.large ? 40 : 14
        for step in 0..<steps {
            let w = Int(rng.next() % 2), via = Int(rng.next() % 2)
            _ = try Self.ok(["source", "add", "w\(w)-step-\(step)", "--dir", writers[w].path], tmp)
            written[w] += 1
            _ = try Self.ok(["sync", "--push-only", "--dir", writers[w].path, "127.0.0.1:\(hubs[via].port)"], tmp)
            let other = hubs[1 - via]
            _ = try Self.ok(["sync", "--pull-only", "--dir", reader.path, "127.0.0.1:\(other.port)"], tmp)
            let v = try Self.vector(["--dir", reader.path], tmp)
            #expect(v[ids[w]] ?? 0 == written[w], "step \(step): writer \(w) pushed \(written[w]) through hub \(via); hub \(1 - via) served \(v[ids[w]] ?? 0) right after (seed \(seed))")
        }
        try Self.databaseInvariants(db, tmp, "seed \(seed)")
        let d = try Self.digest(["--store", db.url], tmp)
        #expect(try Self.digest(["--dir", reader.path], tmp) == d, "seed \(seed)")
        for h in hubs { #expect(try Self.digest(["--dir", try Self.freshPull(h.port, tmp, "inter").path], tmp) == d) }
    }

    // MARK: SIGKILL

    /// A large push (hundreds of events, many batches) to hub A killed with SIGKILL at a random
    /// moment, several times, hub B idle throughout. After each kill: every event the client
    /// recorded as acknowledged by any hub (its `peer_acks`) is in PostgreSQL, and the database is
    /// sound (contiguous, digests agree, verifies). In the end, after restarts on the same cache,
    /// both hubs serve exactly the client's history.
    @Test func sigkillDuringLargePushesLosesNothingAcknowledged() throws {
        let seed = testSeed("hubadv-kill")
        var rng = SplitMix64(seed: seed)
        let tmp = TempDir("gloss-hubadv-kill")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("advkill")
        defer { db.drop() }
        _ = try Self.ok(["hub", "init", "--store", db.url], tmp)
        let cacheA = tmp.sub("cacheA")
        var a = try Self.hub(db, cacheA)
        let b = try Self.hub(db, tmp.sub("cacheB"))
        defer { Self.halt(a); Self.halt(b) }
        let x = tmp.sub("x")
        let perRound = Self.large ? 1500 : 300
        let rounds = Self.large ? 8 : 4
        var article = ""
        do {
            let r = try Replica.create(in: x, analyst: "x")
            article = try r.ingest(bytes: Array("date 2026-12-04 KILL\nThe article of the kill test, seed \(seed).\n".utf8), filename: "kill.txt").id
            try r.close()
        }
        let xID = try Self.whoami(x, tmp)
        var kills = 0
        for round in 0..<rounds {
            do {
                let r = try Replica.open(at: x)
                for i in 0..<perRound { _ = try r.addNote(on: article, body: "round \(round) note \(i) \(String(repeating: "x", count: Int(rng.next() % 300)))") }
                try r.close()
            }
            let delay = Double(rng.next() % 1000) / 1000.0 * (Self.large ? 3.0 : 0.5)
            let sync = Process()
            sync.executableURL = GlossProcess.binary
            sync.arguments = ["sync", "--push-only", "--dir", x.path, "127.0.0.1:\(a.port)"]
            sync.standardOutput = FileHandle.nullDevice
            sync.standardError = FileHandle.nullDevice
            try sync.run()
            Thread.sleep(forTimeInterval: delay)
            let killedMidSync = sync.isRunning
            a.kill()
            kills += 1
            sync.waitUntilExit()
            print("[hubadv-kill] seed \(seed) round \(round): hub A killed after \(String(format: "%.3f", delay)) s (sync \(killedMidSync ? "still running" : "already done, status \(sync.terminationStatus)"))")
            // What the client holds as acknowledged is in PostgreSQL.
            let acked = Self.trimmed(try Self.sqlite(x, "SELECT coalesce(max(seq), 0) FROM peer_acks WHERE lower(hex(replica)) = '\(xID)'"))
            let head = Self.trimmed(try db.sql("SELECT coalesce(max(head_seq), 0) FROM feeds WHERE encode(replica, 'hex') = '\(xID)'"))
            #expect((Int(acked) ?? 0) <= (Int(head) ?? 0), "round \(round): the client recorded \(acked) events acknowledged, PostgreSQL holds \(head) (seed \(seed), delay \(delay))")
            try Self.databaseInvariants(db, tmp, "after kill \(round), seed \(seed)")
            // B never stopped: it serves what the database holds right now.
            let viaB = try Self.freshPull(b.port, tmp, "B-round\(round)")
            #expect(try Self.vector(["--dir", viaB.path], tmp) == (try Self.vector(["--store", db.url], tmp)), "hub B serves less than the database (round \(round), seed \(seed))")
            a = try Self.hub(db, cacheA)
        }
        // Everything through the restarted A, then both hubs serve the client's exact history.
        let final = try Self.g(["sync", "--dir", x.path, "127.0.0.1:\(a.port)"], tmp)
        #expect(final.status == 0, "\(final.stderr) (seed \(seed))")
        try Self.databaseInvariants(db, tmp, "final, seed \(seed)")
        let xDigest = try Self.digest(["--dir", x.path], tmp), xVector = try Self.vector(["--dir", x.path], tmp)
        #expect(xVector[xID] == rounds * perRound + 1)
        #expect(try Self.digest(["--store", db.url], tmp) == xDigest, "seed \(seed)")
        for (name, h) in [("A", a), ("B", b)] {
            let f = try Self.freshPull(h.port, tmp, "final-\(name)")
            #expect(try Self.vector(["--dir", f.path], tmp) == xVector, "hub \(name) (seed \(seed))")
            #expect(try Self.digest(["--dir", f.path], tmp) == xDigest, "hub \(name) (seed \(seed))")
        }
        #expect(Self.halt(a) == 0, "\(a.log.suffix(1500))")
        #expect(Self.halt(b) == 0, "\(b.log.suffix(1500))")
        print("[hubadv-kill] \(kills) kills")
    }

    // MARK: Text

    /// Texts that look like the hub's own escape (U+E000, backslashes, `\0`), NUL where argv
    /// cannot put it (through the engine), noncharacters, bidi controls, a ZWJ sequence, canonically
    /// equivalent edits (NFC to NFD: equal as Swift strings, different as bytes), a large note:
    /// the database's maintained and recomputed digests equal the SQLite replica's, and a second
    /// hub bootstrapping from PostgreSQL serves the same rows.
    @Test func textThatLooksLikeTheEscapeRoundTripsByteForByte() throws {
        let tmp = TempDir("gloss-hubadv-text")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("advtext")
        defer { db.drop() }
        _ = try Self.ok(["hub", "init", "--store", db.url], tmp)
        let x = tmp.sub("x")
        let bodies = [
            "\u{E000}", "\u{E000}\\", "\u{E000}\\0", "\u{E000}\u{E000}\\\\0\u{0}", "\\0 not escaped", "ends with a backslash \\",
            "\u{0}", "\u{0}\u{0}\\\u{0}", "\u{0}\u{E000}", "a\u{0}b", "\u{FFFF}\u{FFFE}\u{10FFFF}", "\u{202E}bidi override\u{202C} \u{2066}isolate\u{2069}",
            "\u{1F469}\u{200D}\u{1F4BB} \u{FEFF}BOM", "\u{E000}\u{0}",
        ]
        let bigSize = Self.large ? 1 << 20 : 200_000
        var noteIDs: [String] = [], plainIDs: [String] = []
        do {
            let r = try Replica.create(in: x, analyst: "x")
            // Gloss's own writers refuse U+0000: the texts holding it come as a peer's events.
            let ingest = ArticleIngested(text: "date 2026-12-04 TEXT\n\u{E000}\\0 an article with a NUL \u{0} and a marker \u{E000}.\n",
                                         date: nil, dateline: nil, places: [], filename: "text.txt")
            try r.applyPeerEvent(ingest)
            for b in bodies {
                noteIDs.append(b.unicodeScalars.contains("\u{0}") ? try r.applyPeerEvent(NoteAdded(on: ingest.article, body: b)).id.hex : try r.addNote(on: ingest.article, body: b).id)
            }
            let nfc = try r.addNote(on: ingest.article, body: "caf\u{E9} \u{C5}ngstr\u{F6}m")
            _ = try r.editNote(nfc.id, body: "cafe\u{301} A\u{30A}ngstro\u{308}m")  // canonically equivalent, other bytes
            plainIDs.append(nfc.id)
            _ = try r.tag(nfc.id, "e\u{301}t\u{E9}")
            _ = try r.tag(nfc.id, "\u{E000}tag\\0")
            try r.applyPeerEvent(NoteAdded(on: ingest.article, body: String(repeating: "\u{E000}\\0\u{0}ж", count: bigSize / 8)))
            try r.close()
        }
        let a = try Self.hub(db, tmp.sub("cacheA"))
        defer { Self.halt(a) }
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(a.port)"], tmp)
        // The NFD edit, then back to NFC (a row "back to its original value" only as Swift sees it).
        do {
            let r = try Replica.open(at: x)
            _ = try r.editNote(noteIDs[0], body: "\u{E000}")  // the same body again
            let n = try r.addNote(on: noteIDs[1], body: "o\u{308}")
            _ = try r.editNote(n.id, body: "\u{F6}")
            plainIDs.append(n.id)
            try r.close()
        }
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(a.port)"], tmp)
        let replica = try Self.digest(["--dir", x.path], tmp)
        #expect(try Self.digest(["--dir", x.path, "--recompute"], tmp) == replica)
        try Self.databaseInvariants(db, tmp, "text")
        #expect(try Self.digest(["--store", db.url], tmp) == replica, "the hub's maintained digest differs from the SQLite replica's")
        // Bytes in PostgreSQL: the bodies of the canonically equivalent edits are the SQLite bytes.
        for id in plainIDs {
            let lite = Self.trimmed(try Self.sqlite(x, "SELECT lower(hex(body)) FROM notes WHERE note = '\(id)'"))
            let pg = Self.trimmed(try db.sql("SELECT encode(convert_to(body, 'UTF8'), 'hex') FROM notes WHERE note = '\(id)'"))
            #expect(!lite.isEmpty && lite == pg, "note \(id): SQLite body \(lite), PostgreSQL body \(pg)")
        }
        // Text without NUL and not starting with U+E000 is stored as it is (dashboards see it).
        #expect(Self.trimmed(try db.sql("SELECT count(*) FROM notes WHERE body = '\\0 not escaped'")) == "1")
        // A second hub copies the database (bootstrap) and serves the same rows.
        let b = try Self.hub(db, tmp.sub("cacheB"))
        defer { Self.halt(b) }
        let viaB = try Self.freshPull(b.port, tmp, "B")
        #expect(try Self.digest(["--dir", viaB.path], tmp) == replica, "a hub bootstrapped from PostgreSQL serves other rows")
        for note in noteIDs {
            let mine = try Self.g(["show", note, "--dir", x.path], tmp).stdout
            let theirs = try Self.g(["show", note, "--dir", viaB.path], tmp).stdout
            #expect(mine == theirs, "note \(note) differs after a round trip through PostgreSQL")
        }
        // A search on B's own full-text index finds what a catch-up brought.
        do {
            let r = try Replica.open(at: x)
            try r.applyPeerEvent(NoteAdded(on: noteIDs[2], body: "zanzibarquux\u{0}after"))
            try r.close()
        }
        _ = try Self.ok(["sync", "--push-only", "--dir", x.path, "127.0.0.1:\(a.port)"], tmp)
        _ = try Self.ok(["sync", "--pull-only", "--dir", viaB.path, "127.0.0.1:\(b.port)"], tmp)
        #expect(try Self.digest(["--dir", viaB.path], tmp) == (try Self.digest(["--dir", x.path], tmp)))
        #expect(Self.halt(a) == 0, "\(a.log.suffix(1500))")
        #expect(Self.halt(b) == 0, "\(b.log.suffix(1500))")
    }

    // MARK: Views and tampering

    /// The Protocol/04 views return the same rows on PostgreSQL as on a SQLite replica holding the
    /// same events; a projection row tampered in PostgreSQL makes `digest --store --recompute`
    /// fail (4) and differ, and a tampered envelope makes `verify --store` fail (4).
    @Test func dashboardViewsMatchSQLiteAndTamperingIsDetected() throws {
        let tmp = TempDir("gloss-hubadv-views")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("advviews")
        defer { db.drop() }
        _ = try Self.ok(["hub", "init", "--store", db.url], tmp)
        let x = tmp.sub("x"), y = tmp.sub("y")
        _ = try Self.ok(["init", "--analyst", "x", "--dir", x.path], tmp)
        _ = try Self.ok(["init", "--analyst", "y", "--dir", y.path], tmp)
        func run(_ dir: URL, _ a: [String]) throws -> String { Self.trimmed(try Self.ok(a + ["--dir", dir.path], tmp).stdout) }
        let fixture = repositoryRoot().appendingPathComponent("Tests/Fixtures/2021-06-26-trilateral-special-forces.txt")
        let art = try run(x, ["ingest", fixture.path])
        _ = try run(x, ["source", "add", "Dawn", "--kind", "outlet"])
        _ = try run(x, ["grade", "source", "Dawn", "--reliability", "C"])
        let f1 = try run(x, ["fact", "add", "--article", art, "--subject", "Forces", "--predicate", "hold", "--object", "drills", "--source", "Dawn",
                             "--evidence", "hold exercises in Azerbaijan in September"])
        _ = try run(x, ["grade", "fact", f1, "--credibility", "3"])
        _ = try run(x, ["fact", "add", "--article", art, "--subject", "Nobody", "--predicate", "is", "--object", "graded", "--evidence", "inspecting the landfills"])
        let n1 = try run(x, ["note", "add", "--on", art, "--text", "first"])
        let n2 = try run(x, ["note", "add", "--on", f1, "--text", "on a fact"])
        _ = try run(x, ["tag", n1, "urgent"])
        _ = try run(x, ["tag", art, "Ωmega"])
        _ = try run(x, ["note", "delete", n2])
        let h = try Self.hub(db, tmp.sub("cache"))
        defer { Self.halt(h) }
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(h.port)"], tmp)
        _ = try Self.ok(["sync", "--dir", y.path, "127.0.0.1:\(h.port)"], tmp)
        _ = try run(y, ["tag", n1, "urgent"])
        _ = try run(y, ["note", "add", "--on", art, "--text", "second, by y"])
        _ = try Self.ok(["sync", "--dir", y.path, "127.0.0.1:\(h.port)"], tmp)
        _ = try Self.ok(["sync", "--dir", x.path, "127.0.0.1:\(h.port)"], tmp)
        #expect(Self.halt(h) == 0)
        for view in ["objects", "live_notes", "article_notes", "object_tags", "fact_view", "event_log"] {
            let cols = Self.trimmed(try db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = '\(view)'"))
            #expect((Int(cols) ?? 0) > 0, "view \(view) missing in PostgreSQL")
            let order = (1...(Int(cols) ?? 1)).map(String.init).joined(separator: ", ")
            let lite = try Self.sqlite(x, "SELECT * FROM \(view) ORDER BY \(order)")
            let pg = try db.sql("SELECT * FROM \(view) ORDER BY \(order)")
            #expect(!lite.isEmpty)
            #expect(lite == pg, "view \(view) differs:\nSQLite:\n\(lite)\nPostgreSQL:\n\(pg)")
        }
        #expect(Self.trimmed(try db.sql("SELECT grade FROM fact_view WHERE fact = '\(f1)'")) == "C3")
        // Tampering a projection row.
        let clean = try Self.digest(["--store", db.url], tmp)
        try db.sql("UPDATE notes SET body = body || '!' WHERE note = '\(n1)'")
        let recomputed = try Self.g(["digest", "--store", db.url, "--recompute"], tmp)
        #expect(recomputed.status == 4, "a tampered projection row: digest --recompute exited \(recomputed.status): \(recomputed.stdout) \(recomputed.stderr)")
        #expect(Self.trimmed(try Self.g(["digest", "--store", db.url], tmp).stdout) == clean)
        try db.sql("UPDATE notes SET body = 'first' WHERE note = '\(n1)'")
        #expect(try Self.digest(["--store", db.url, "--recompute"], tmp) == clean)
        // Tampering one byte of an event's envelope (its signature's last byte).
        try db.sql("UPDATE events SET envelope = set_byte(envelope, length(envelope) - 1, (get_byte(envelope, length(envelope) - 1) + 1) % 256) WHERE pos = (SELECT max(pos) FROM events)")
        let verify = try Self.g(["verify", "--store", db.url], tmp)
        #expect(verify.status == 4, "a tampered envelope: verify --store exited \(verify.status): \(verify.stdout) \(verify.stderr)")
    }
    // MARK: Hostile input

    /// A client whose stored log carries a forged event in the middle of its feed (one byte of the
    /// envelope changed in its own SQLite file) pushes it to a hub and, as an independent oracle,
    /// to a plain SQLite `gloss serve --dir`: the hub must judge exactly as the SQLite replica does
    /// (same exit status, same vector, same digest, same pending and quarantine counts), keep
    /// nothing partial in PostgreSQL, and a second hub must serve what the oracle holds.
    @Test func aForgedEventMidFeedIsJudgedAsBySQLite() throws {
        let seed = testSeed("hubadv-forged")
        var rng = SplitMix64(seed: seed)
        // Both kinds of forgery, each on its own database: the signature's last byte, then a byte mid-envelope.
        for variant in 0..<2 {
            let tmp = TempDir("gloss-hubadv-forged")
            defer { tmp.remove() }
            let db = try PostgresTestDatabase("advforged")
            defer { db.drop() }
            _ = try Self.ok(["hub", "init", "--store", db.url], tmp)
            let x = tmp.sub("x"), oracle = tmp.sub("oracle")
            _ = try Self.ok(["init", "--analyst", "x", "--dir", x.path], tmp)
            _ = try Self.ok(["init", "--analyst", "oracle", "--dir", oracle.path], tmp)
            let n = 30
            for i in 0..<n { _ = try Self.ok(["source", "add", "s\(i)", "--dir", x.path], tmp) }
            let victim = 2 + Int(rng.next() % UInt64(n - 3))
            let xID = try Self.whoami(x, tmp)
            // Which byte: the signature's last, or one in the middle of the envelope (a blob still).
            let feedOf = "(SELECT feed FROM feeds WHERE lower(hex(replica)) = '\(xID)')"
            var hex = Array(Self.trimmed(try Self.sqlite(x, "SELECT hex(envelope) FROM events WHERE seq = \(victim) AND feed = \(feedOf)")))
            #expect(hex.count > 4)
            let byte = variant == 0 ? hex.count / 2 - 1 : (hex.count / 4)
            let old = UInt8(String(hex[byte * 2 ... byte * 2 + 1]), radix: 16) ?? 0
            let new = String(format: "%02X", old ^ 0x5A)
            hex[byte * 2] = new.first!; hex[byte * 2 + 1] = new.last!
            print("[hubadv-forged] seed \(seed): event \(victim) of \(n) forged at byte \(byte) of \(hex.count / 2) (variant \(variant))")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["sqlite3", x.appendingPathComponent(".gloss/replica.db").path,
                           "UPDATE events SET envelope = X'\(String(hex))' WHERE seq = \(victim) AND feed = \(feedOf)"]
            try p.run(); p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            #expect(Self.trimmed(try Self.sqlite(x, "SELECT typeof(envelope) || length(envelope) FROM events WHERE seq = \(victim) AND feed = \(feedOf)")) == "blob\(hex.count / 2)")
            let plain = try ServeProcess(dir: oracle)
            let hubA = try Self.hub(db, tmp.sub("cacheA")), hubB = try Self.hub(db, tmp.sub("cacheB"))
            defer { Self.halt(plain); Self.halt(hubA); Self.halt(hubB) }
            let toOracle = try Self.gTimed(["sync", "--push-only", "--json", "--dir", x.path, "127.0.0.1:\(plain.port)"], tmp, 30)
            #expect(toOracle.status != 137, "a push of a feed holding a forged event to a plain SQLite `gloss serve --dir` never ended (engine bug, not the hub's; seed \(seed))")
            let toHub = try Self.gTimed(["sync", "--push-only", "--json", "--dir", x.path, "127.0.0.1:\(hubA.port)"], tmp, 30)
            #expect(toHub.status != 137, "a push of a feed holding a forged event to a hub never ended (seed \(seed))")
            #expect(toHub.status == toOracle.status, "exit status: hub \(toHub.status) \(toHub.stderr), SQLite \(toOracle.status) \(toOracle.stderr) (seed \(seed))")
            #expect(Self.halt(plain) == 0)
            let oracleVector = try Self.vector(["--dir", oracle.path], tmp)
            #expect((oracleVector[xID] ?? 0) < n, "the SQLite oracle took the forged event (seed \(seed))")
            #expect(try Self.vector(["--store", db.url], tmp) == oracleVector, "the hub holds another vector than the SQLite replica (seed \(seed))")
            #expect(try Self.digest(["--store", db.url], tmp) == (try Self.digest(["--dir", oracle.path], tmp)), "seed \(seed)")
            for table in ["pending", "quarantine", "events"] {
                let lite = Self.trimmed(try Self.sqlite(oracle, "SELECT count(*) FROM \(table)"))
                let pg = Self.trimmed(try db.sql("SELECT count(*) FROM \(table)"))
                #expect(lite == pg, "\(table): SQLite replica \(lite) rows, hub database \(pg) (seed \(seed))")
            }
            try Self.databaseInvariants(db, tmp, "forged, seed \(seed)")
            let viaB = try Self.freshPull(hubB.port, tmp, "B")
            #expect(try Self.vector(["--dir", viaB.path], tmp) == oracleVector,
                    "hub B serves another vector (seed \(seed))")
            #expect(Self.halt(hubA) == 0, "\(hubA.log.suffix(1500))")
        }
    }

    // MARK: The server drops the hubs' connections

    /// Every connection of the hubs to their database is terminated by the server
    /// (`pg_terminate_backend`, as a failover or an administrator does), between sessions and in
    /// the middle of a push: a failed session may fail, but a retry through the same hub process
    /// succeeds (it reconnects), nothing acknowledged is lost, and the other hub still serves
    /// everything.
    @Test func terminatedDatabaseConnectionsAreSurvived() throws {
        let seed = testSeed("hubadv-terminate")
        var rng = SplitMix64(seed: seed)
        let tmp = TempDir("gloss-hubadv-term")
        defer { tmp.remove() }
        let db = try PostgresTestDatabase("advterm")
        defer { db.drop() }
        _ = try Self.ok(["hub", "init", "--store", db.url], tmp)
        let hubs = try (0..<2).map { try Self.hub(db, tmp.sub("cache\($0)")) }
        // (A hub may be inside a statement caught by a dropped session: up to the 20 s timeout.)
        defer { for h in hubs { Self.halt(h, 30) } }
        let x = tmp.sub("x")
        var article = ""
        do {
            let r = try Replica.create(in: x, analyst: "x")
            article = try r.ingest(bytes: Array("date 2026-12-04 TERM\nConnections dropped, seed \(seed).\n".utf8), filename: "t.txt").id
            try r.close()
        }
        let xID = try Self.whoami(x, tmp)
        let terminate = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        func syncWithRetries(_ args: [String], _ port: Int, _ what: String) throws -> Bool {
            // A statement caught by a dropped session is given up after the hub's statement
            // timeout (GLOSS_HUB_STATEMENT_TIMEOUT, 20 s): the hub must be usable again by then.
            var last: GlossProcess.Result? = nil
            for attempt in 0..<4 {
                let r = try Self.g(["sync"] + args + ["--dir", x.path, "127.0.0.1:\(port)"], tmp)
                last = r
                if r.status == 0 { return true }
                Thread.sleep(forTimeInterval: attempt == 0 ? 0.3 : 8)
            }
            Issue.record("\(what): four syncs over ~25 s failed after the server dropped the hub's connections: \(last?.stderr ?? "") (seed \(seed))")
            return false
        }
        for round in 0..<(Self.large ? 12 : 5) {
            do {
                let r = try Replica.open(at: x)
                for i in 0..<200 { _ = try r.addNote(on: article, body: "round \(round) note \(i)") }
                try r.close()
            }
            let via = Int(rng.next() % 2)
            // Between sessions.
            let dropped = Self.trimmed(try db.sql(terminate))
            print("[hubadv-terminate] seed \(seed) round \(round): \(dropped) connections terminated before a push through hub \(via)")
            // And again and again during a push and a pull (a failover storm), from another thread.
            let storm = Locked(true)
            let gap = 0.02 + Double(rng.next() % 150) / 1000.0
            let terminator = Thread {
                while storm.value {
                    _ = try? db.sql(terminate)
                    Thread.sleep(forTimeInterval: gap)
                }
            }
            terminator.start()
            _ = try Self.g(["sync", "--push-only", "--dir", x.path, "127.0.0.1:\(hubs[via].port)"], tmp)
            _ = try Self.g(["sync", "--pull-only", "--dir", x.path, "127.0.0.1:\(hubs[1 - via].port)"], tmp)
            storm.withValue { $0 = false }
            Thread.sleep(forTimeInterval: gap + 0.3)
            let acked = Int(Self.trimmed(try Self.sqlite(x, "SELECT coalesce(max(seq), 0) FROM peer_acks WHERE lower(hex(replica)) = '\(xID)'"))) ?? 0
            let head = Int(Self.trimmed(try db.sql("SELECT coalesce(max(head_seq), 0) FROM feeds WHERE encode(replica, 'hex') = '\(xID)'"))) ?? 0
            #expect(acked <= head, "round \(round): \(acked) acknowledged, \(head) in PostgreSQL (seed \(seed))")
            let pushed = try syncWithRetries(["--push-only"], hubs[via].port, "round \(round) push through hub \(via)")
            let pulled = try syncWithRetries(["--pull-only"], hubs[1 - via].port, "round \(round) pull through hub \(1 - via)")
            if !pushed || !pulled {
                Issue.record("round \(round): a hub stays unusable after the server terminated its connections (seed \(seed)); stopping here")
                for h in hubs { Self.halt(h, 30, "after terminated connections, seed \(seed)") }
                return
            }
            #expect(Int(Self.trimmed(try db.sql("SELECT coalesce(max(head_seq), 0) FROM feeds WHERE encode(replica, 'hex') = '\(xID)'"))) == (round + 1) * 200 + 1,
                    "round \(round): the retried push did not land (seed \(seed))")
        }
        try Self.databaseInvariants(db, tmp, "after terminated connections, seed \(seed)")
        let d = try Self.digest(["--dir", x.path], tmp)
        #expect(try Self.digest(["--store", db.url], tmp) == d)
        for h in hubs {
            let f = try Self.freshPull(h.port, tmp, "term")
            #expect(try Self.digest(["--dir", f.path], tmp) == d, "seed \(seed)")
        }
        for h in hubs { #expect(Self.halt(h) == 0, "\(h.log.suffix(1500))") }
    }
}
