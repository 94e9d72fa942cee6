import Foundation
import GlossEngine
import GlossHub
import GlossCommandLine
import GlossJSON
import GlossModel
import GlossStore

/// `gloss bench hub`: a PostgreSQL hub beside SQLite (Protocol/12-hub.md).
///
/// - import: the same bundle into a new SQLite replica and into a new hub database (a hub cache
///   writing through), events/s each, and the two digests (equal);
/// - sync: 1, 2 … hub processes (`gloss serve --store`, real processes) on that database serving
///   `clients` replicas at once (client i uses hub i mod k), over TCP on 127.0.0.1: *pull* — each
///   new client takes the whole history; *push* — each client sends `pushEvents` new events of its
///   own feed, all at once (every write serializes on the database's advisory lock).
public enum HubBenchmark {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since t: UInt64) -> Double { Double(now() - t) / 1e9 }
    static func r1(_ x: Double) -> JSON { .double((x * 10).rounded() / 10) }
    static func r2(_ x: Double) -> JSON { .double((x * 100).rounded() / 100) }

    public static func run(store: HubURL, bundle: URL, clients: Int, hubCounts: [Int], pushEvents: Int, work: URL,
                           log: (String) -> Void) async throws -> JSON {
        let name = "gloss_bench_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let url = try Hub.createDatabase(on: store, name: name)
        defer { try? Hub.dropDatabase(on: store, name: name) }
        _ = try Hub.initialize(url)

        // Import: SQLite, then the hub, the same history.
        let lite = try Replica.create(in: work.appendingPathComponent("sqlite"), analyst: "bench")
        var t = now()
        let liteReport = try lite.importBundle(at: bundle)
        let liteSecs = seconds(since: t)
        let n = liteReport.summary.applied
        let liteDigest = try lite.status().digest
        try lite.close()
        log("import into SQLite: \(n) events in \(String(format: "%.2f", liteSecs)) s")
        let hub = try Hub.open(url, cache: work.appendingPathComponent("hub-import"))
        t = now()
        let hubReport = try hub.importBundle(at: bundle)
        let hubSecs = seconds(since: t)
        let hubDigest = try hub.status().digest
        let stats = (hub.store.writeThrough as? HubStore)?.stats ?? HubStore.Stats()
        try hub.close()
        log("import into the hub: \(hubReport.summary.applied) events in \(String(format: "%.2f", hubSecs)) s (writing to PostgreSQL: \(String(format: "%.2f", stats.commitSeconds)) s, \(stats.rowsInserted) rows, \(stats.changelogBytes / max(n, 1)) changelog bytes/event)")
        guard hubReport.summary.applied == n, hubDigest == liteDigest else {
            throw GlossError(.internalError, "the hub import differs from the SQLite one: \(hubReport.summary.applied) events, digest \(hubDigest) ≠ \(liteDigest)")
        }
        var results: [(String, JSON)] = [
            ("events", .int(Int64(n))), ("store", .string(store.description)),
            ("import", .object([("sqliteEventsPerSecond", r1(Double(n) / liteSecs)), ("sqliteSeconds", r2(liteSecs)),
                                ("hubEventsPerSecond", r1(Double(n) / hubSecs)), ("hubSeconds", r2(hubSecs)),
                                ("ratio", .double((liteSecs / hubSecs * 100).rounded() / 100)), ("digestsEqual", .bool(true)),
                                ("hubBeginSeconds", r2(stats.beginSeconds)), ("hubCommitSeconds", r2(stats.commitSeconds)),
                                ("hubTransactions", .int(Int64(stats.transactions))),
                                ("rowsWrittenPerEvent", r2(Double(stats.rowsInserted) / Double(max(n, 1)))),
                                ("rowsDeletedPerEvent", r2(Double(stats.rowsDeleted) / Double(max(n, 1)))),
                                ("changelogBytesPerEvent", r1(Double(stats.changelogBytes) / Double(max(n, 1))))])),
        ]

        // Sync through 1, 2, … hub processes.
        var syncRows: [JSON] = []
        var pushed = 0
        for k in hubCounts {
            let hubs = try (0..<k).map { j in try HubServer(url: url, cache: work.appendingPathComponent("serve-\(k)-\(j)")) }
            defer { for h in hubs { h.stop() } }
            // Pull: `clients` new replicas take everything at once.
            let pullers = try (0..<clients).map { try Replica.create(in: work.appendingPathComponent("pull-\(k)-\($0)"), analyst: "c\($0)") }
            let expected = n + pushed
            t = now()
            let pulled = try await withThrowingTaskGroup(of: Int.self) { group in
                for (i, c) in pullers.enumerated() {
                    let port = hubs[i % k].port
                    group.addTask { try await c.sync(host: "127.0.0.1", port: port, mode: .pullOnly).summary.applied }
                }
                return try await group.reduce(0, +)
            }
            let pullSecs = seconds(since: t)
            guard pulled == expected * clients else { throw GlossError(.internalError, "pull: \(pulled) events applied, \(expected * clients) expected") }
            for c in pullers { try c.close() }
            // Push: each client writes `pushEvents` of its own, then all send at once.
            let pushers = try (0..<clients).map { i -> Replica in
                let r = try Replica.create(in: work.appendingPathComponent("push-\(k)-\(i)"), analyst: "p\(i)")
                let a = try r.ingest(bytes: Array("date 2026-12-04 BENCH\nPush client \(i), \(k) hubs.\n".utf8), filename: nil)
                for e in 1..<max(1, pushEvents) { _ = try r.addNote(on: a.id, body: "note \(e)") }
                return r
            }
            t = now()
            let received = try await withThrowingTaskGroup(of: Int.self) { group in
                for (i, c) in pushers.enumerated() {
                    let port = hubs[i % k].port
                    group.addTask { try await c.sync(host: "127.0.0.1", port: port, mode: .pushOnly).sent }
                }
                return try await group.reduce(0, +)
            }
            let pushSecs = seconds(since: t)
            for c in pushers { try c.close() }
            pushed += received
            log("\(k) hub\(k == 1 ? "" : "s") × \(clients) clients: pull \(pulled) events in \(String(format: "%.2f", pullSecs)) s, push \(received) in \(String(format: "%.2f", pushSecs)) s")
            syncRows.append(.object([("hubs", .int(Int64(k))), ("clients", .int(Int64(clients))),
                                     ("pullEvents", .int(Int64(pulled))), ("pullSeconds", r2(pullSecs)),
                                     ("pullEventsPerSecond", r1(Double(pulled) / pullSecs)),
                                     ("pushEvents", .int(Int64(received))), ("pushSeconds", r2(pushSecs)),
                                     ("pushEventsPerSecond", r1(Double(received) / pushSecs))]))
        }
        results.append(("sync", .array(syncRows)))
        return .object(results)
    }
}

/// `gloss serve --store URL --cache DIR --listen 127.0.0.1:0` as a child process (the `gloss` built beside this one).
final class HubServer: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(url: HubURL, cache: URL) throws {
        process.executableURL = CommandLineMain.sibling("gloss")
        var env = ProcessInfo.processInfo.environment
        if let p = url.password { env["PGPASSWORD"] = p }
        process.environment = env
        process.arguments = ["serve", "--store", url.description, "--cache", cache.path, "--listen", "127.0.0.1:0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let p = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            process.terminate()
            throw GlossError(.internalError, "the hub process printed no port: \(text)")
        }
        port = p
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
