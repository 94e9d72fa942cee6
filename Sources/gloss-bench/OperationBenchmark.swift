import Foundation
import GRDB
import GlossEngine
import GlossJSON
import GlossModel
import GlossStore
import GlossSync
import Logging

/// The operations `gloss bench run` times, one per process (`gloss bench op NAME`), so each one's
/// peak resident memory is its own. Each returns a JSON object of figures; times are wall clock,
/// in-process, around the operation alone.
public enum OperationBenchmark {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since t: UInt64) -> Double { Double(now() - t) / 1e9 }
    static func rounded(_ x: Double, _ digits: Double = 1) -> JSON { .double((x * digits).rounded() / digits) }

    /// This process's peak resident memory (VmHWM), in kB.
    public static func peakRSSkB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    }

    /// Rows in every table of the replica database (FTS shadow tables and SQLite's own excluded),
    /// counted as the baseline counts them.
    static func storedRows(_ r: Replica) throws -> Int {
        try RawReplay.countRows(source: r.store.path, include: { _ in true })
    }

    /// Imports `bundle` into a new replica in `folder`: events/s, bytes per event on the wire,
    /// SQLite rows written per event (`sqlite3_total_changes`, statement rows without trigger
    /// rows) and rows stored per event (what the raw baseline writes).
    /// `profile`: records the writer's statements (`StatementProfile`).
    public static func importBundle(_ bundle: URL, folder: URL, profile: StatementProfile? = nil) throws -> JSON {
        // A team history (`bench generate --team`) goes into a replica joining that team.
        let r = try Replica.create(in: folder, analyst: "bench", team: try isTeamBundle(bundle) ? .join : .none)
        profile?.attach(to: r)
        let rowsBefore = try storedRows(r)
        let changesBefore = r.store.pool.writeWithoutTransaction { $0.totalChangesCount }
        let t0 = now()
        let report = try r.importBundle(at: bundle)
        let secs = seconds(since: t0)
        let changes = r.store.pool.writeWithoutTransaction { $0.totalChangesCount } - changesBefore
        guard report.clean, report.summary.pending == 0 else {
            let s = report.summary
            let why = [report.error, report.truncated ? "the bundle is cut short" : nil, report.checksumOK == false ? "its checksum does not match" : nil,
                       s.rejected > 0 ? "\(s.rejected) events rejected" : nil, s.pending > 0 ? "\(s.pending) events pending" : nil]
                .compactMap { $0 }.joined(separator: "; ")
            throw GlossError(.badInput, "\(bundle.path) did not import cleanly (\(s.applied) of \(s.received) events applied; \(why.isEmpty ? "see `gloss bundle import`" : why)); benchmark a bundle made by `gloss bench generate`")
        }
        let n = report.summary.applied
        let rows = try storedRows(r) - rowsBefore
        let feeds = try r.store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM feeds WHERE head_seq > 0") ?? 0 }
        let size = (try? FileManager.default.attributesOfItem(atPath: bundle.path)[.size] as? Int) ?? 0
        return .object([("op", .string("import")), ("events", .int(Int64(n))), ("feeds", .int(Int64(feeds))), ("seconds", rounded(secs, 1000)),
                         ("eventsPerSecond", rounded(Double(n) / secs)), ("bytesPerEvent", rounded(Double(size) / Double(max(n, 1)))),
                         ("changesPerEvent", rounded(Double(changes) / Double(max(n, 1)), 100)),
                         ("rowsPerEvent", rounded(Double(rows) / Double(max(n, 1)), 100)), ("rows", .int(Int64(rows))),
                         ("rowsPerSecond", rounded(Double(rows) / secs))])
    }

    /// True when the bundle's header names a team.
    static func isTeamBundle(_ bundle: URL) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: bundle.path) else { throw GlossError(.notFound, "cannot read \(bundle.path)") }
        defer { try? handle.close() }
        return try BundleReader(handle: handle).readHeader().team != .none
    }

    /// Writes every event of the replica to a bundle.
    public static func export(folder: URL, out: URL) throws -> JSON {
        let r = try Replica.open(at: folder)
        let t0 = now()
        let (n, bytes) = try r.exportBundle(to: out, base: VersionVector())
        let secs = seconds(since: t0)
        return .object([("op", .string("export")), ("events", .int(Int64(n))), ("seconds", rounded(secs, 1000)),
                        ("eventsPerSecond", rounded(Double(n) / secs)), ("bytesPerEvent", rounded(Double(bytes) / Double(max(n, 1))))])
    }

    /// Drops and replays the projections.
    public static func rebuild(folder: URL, profile: StatementProfile? = nil) throws -> JSON {
        let r = try Replica.open(at: folder)
        profile?.attach(to: r)
        let t0 = now()
        let (n, _) = try r.rebuild()
        let secs = seconds(since: t0)
        return .object([("op", .string("rebuild")), ("events", .int(Int64(n))), ("seconds", rounded(secs, 1000)),
                        ("eventsPerSecond", rounded(Double(n) / secs))])
    }

    /// `gloss as-of` at the wall-clock time of the middle event of the log.
    public static func asOf(folder: URL, out: URL) throws -> JSON {
        let r = try Replica.open(at: folder)
        let mid = try r.store.read { db -> UInt64 in
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
            let t = try Int64.fetchOne(db, sql: "SELECT time FROM events ORDER BY pos LIMIT 1 OFFSET ?", arguments: [n / 2]) ?? 0
            return HybridTime(raw: UInt64(bitPattern: t)).milliseconds
        }
        let t0 = now()
        let n = try r.asOf(.time(milliseconds: mid), out: out)
        let secs = seconds(since: t0)
        return .object([("op", .string("asof")), ("events", .int(Int64(n))), ("seconds", rounded(secs, 1000)),
                        ("point", .string(CivilTime.rfc3339(milliseconds: mid)))])
    }

    /// Local edit latency on the replica: `count` note edits, each signed, appended and projected
    /// in its own durable transaction (as `gloss note edit` does), with `synchronous=FULL` (the
    /// replica's setting) and then `NORMAL` for reference; and the raw floor, one events row per
    /// transaction through the C API, with each setting.
    public static func localEdits(folder: URL, count: Int, scratch: URL) throws -> JSON {
        let r = try Replica.open(at: folder)
        let notes = try r.store.read { db in try String.fetchAll(db, sql: "SELECT note FROM notes WHERE deleted = 0 ORDER BY rowid DESC LIMIT 1000") }
        guard !notes.isEmpty else { throw GlossError(.notFound, "the replica holds no note to edit") }
        func run(_ n: Int) throws -> [Double] {
            var out: [Double] = []
            for i in 0..<n {
                let payload = NoteEdited(note: notes[i % notes.count], body: "Local edit \(i): exercise date confirmed as September 2021.")
                let t0 = now()
                try r.append(payload)
                out.append(seconds(since: t0))
            }
            return out
        }
        _ = try run(20)  // warm the caches
        // Checkpoints run off the edit path (GlossStore's Checkpointer), as in any replica.
        let full = try run(count)
        try r.store.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = NORMAL") }
        let normal = try run(count)
        try r.store.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        let rawFull = try RawReplay.singleRowCommits(destination: scratch.appendingPathComponent("raw-full.db").path, count: count, synchronous: "FULL")
        let rawNormal = try RawReplay.singleRowCommits(destination: scratch.appendingPathComponent("raw-normal.db").path, count: count, synchronous: "NORMAL")
        func ms(_ xs: [Double], _ q: Double) -> JSON { rounded(quantile(xs, q) * 1000, 1000) }
        return .object([("op", .string("local")), ("edits", .int(Int64(count))),
                        ("fullP50Ms", ms(full, 0.5)), ("fullP99Ms", ms(full, 0.99)), ("fullMaxMs", ms(full, 1)),
                        ("normalP50Ms", ms(normal, 0.5)), ("normalP99Ms", ms(normal, 0.99)),
                        ("rawFullP50Ms", ms(rawFull, 0.5)), ("rawFullP99Ms", ms(rawFull, 0.99)),
                        ("rawNormalP50Ms", ms(rawNormal, 0.5)), ("rawNormalP99Ms", ms(rawNormal, 0.99))])
    }

    /// The `q` quantile (nearest rank) of `xs`.
    public static func quantile(_ xs: [Double], _ q: Double) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s[min(s.count - 1, max(0, Int((q * Double(s.count)).rounded(.up)) - 1))]
    }

    /// TCP sync over loopback, both ends in this process: a new replica pulls every event from the
    /// replica in `folder` served on 127.0.0.1; then the source writes one event and the client
    /// syncs again (round trips after the handshake, milliseconds, bytes on the wire).
    public static func sync(folder: URL, client clientFolder: URL) async throws -> JSON {
        let source = try Replica.open(at: folder)
        let client = try Replica.create(in: clientFolder, analyst: "bench-client")
        let logger = Logger(label: "gloss.bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let stop = AsyncLatch()
        let bound = PortBox()
        let server = Task {
            // The default timeouts, as `gloss serve` and `gloss sync` use: `progress` keepalives
            // keep a long backlog alive (Protocol/07-wire.md §Session).
            do {
                try await source.serve(host: "127.0.0.1", port: 0, logger: logger,
                                       ready: { bound.set($0) }, stop: { await stop.wait() })
            } catch {
                bound.set(-1)   // never leave the benchmark waiting for a port
                throw error
            }
        }
        defer { stop.fire() }
        let port = await bound.wait()
        guard port > 0 else { try await server.value; throw GlossError(.internalError, "the bench server did not start") }
        let t0 = now()
        let full = try await client.sync(host: "127.0.0.1", port: port, mode: .pullOnly)
        let fullSecs = seconds(since: t0)
        let article = try source.store.read { db in try String.fetchOne(db, sql: "SELECT article FROM articles LIMIT 1") }
        guard let article else { throw GlossError(.notFound, "the replica holds no article") }
        try source.append(NoteAdded(on: article, body: "One new note after the full sync."))
        let t1 = now()
        let inc = try await client.sync(host: "127.0.0.1", port: port)
        let incSecs = seconds(since: t1)
        stop.fire()
        try await server.value
        let n = full.summary.applied
        guard full.summary.rejected == 0, inc.summary.applied == 1 else {
            throw GlossError(.internalError, "the bench sync was not clean: \(full) then \(inc)")
        }
        return .object([("op", .string("sync")), ("events", .int(Int64(n))), ("seconds", rounded(fullSecs, 1000)),
                        ("eventsPerSecond", rounded(Double(n) / fullSecs)),
                        ("bytesPerEvent", rounded(Double(full.bytesReceived + full.bytesSent) / Double(max(n, 1)))),
                        ("incrementalEvents", .int(Int64(inc.summary.applied))),
                        ("incrementalMs", rounded(incSecs * 1000, 100)),
                        ("incrementalRoundTripsAfterHandshake", .int(Int64(inc.extraRoundTrips))),
                        ("incrementalBytes", .int(Int64(inc.bytesSent + inc.bytesReceived)))])
    }

    /// The raw-SQLite baseline for a replica database a Gloss import wrote (`RawReplay`):
    /// - import: every row of every table, `importWindow` events' worth of rows per transaction;
    /// - rebuild: read every event (envelope and payload) and write the projection tables' rows in
    ///   one transaction, as a rebuild does;
    /// - export: read every event in local order and write the bytes to a file, fsynced.
    public static func baseline(database: URL, scratch: URL) throws -> JSON {
        let db = database.path
        let export = try RawReplay.scanEvents(source: db, output: scratch.appendingPathComponent("raw-export.bin").path)
        let events = max(export.events, 1)
        let rows = try RawReplay.countRows(source: db, include: { _ in true })
        let batch = max(1, Int((Double(rows) / Double(events) * Double(Replica.importWindow)).rounded()))
        let imp = try RawReplay.run(source: db, destination: scratch.appendingPathComponent("raw-import.db").path,
                                    include: { _ in true }, batchRows: batch)
        let scan = try RawReplay.scanEvents(source: db, output: nil)
        let proj = try RawReplay.run(source: db, destination: scratch.appendingPathComponent("raw-rebuild.db").path,
                                     include: { !RawReplay.logTables.contains($0) }, batchRows: 0)
        let replay = scan.seconds + proj.seconds
        return .object([("op", .string("baseline")), ("events", .int(Int64(events))),
                        ("importRows", .int(Int64(imp.rows))), ("importBatchRows", .int(Int64(batch))),
                        ("importSeconds", rounded(imp.seconds, 1000)), ("importRowsPerSecond", rounded(imp.rowsPerSecond)),
                        ("importEventsPerSecond", rounded(Double(events) / imp.seconds)),
                        ("rebuildRows", .int(Int64(proj.rows))), ("rebuildSeconds", rounded(replay, 1000)),
                        ("rebuildRowsPerSecond", rounded(proj.rowsPerSecond)),
                        ("rebuildEventsPerSecond", rounded(Double(events) / replay)),
                        ("exportSeconds", rounded(export.seconds, 1000)),
                        ("exportEventsPerSecond", rounded(Double(events) / export.seconds)),
                        ("exportBytesPerEvent", rounded(Double(export.bytes) / Double(events)))])
    }
}
