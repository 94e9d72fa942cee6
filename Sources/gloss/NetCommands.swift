import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossHub
import GlossWeb
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve",
        abstract: "Serve sync sessions over TCP (encrypted and authenticated; Protocol/07-wire.md) and/or the web view over HTTP, until SIGINT or SIGTERM (open sessions then have 5 s to finish).",
        discussion: """
            Prints `listening on HOST:PORT` (sync) and `web view on http://HOST:PORT/` on standard output once bound (port 0 picks a free port); logs go to standard error.
            With --http alone only the web view runs; with --http and --listen both run in one process. The web view shows pages rendered on the server from the projections (articles with highlighted evidence and annotations, facts with grades and histories, notes, conflicts side by side, revisions, ?asof=POINT for any past time or event) and records resolutions, notes and annotations as ordinary signed events of this replica. It reads the same database as every other command, so a sync shows on the next page load. It binds to loopback by default; any other address requires --http-token (or GLOSS_HTTP_TOKEN), and requests then need it (open /login?token=TOKEN once, or send Authorization: Bearer TOKEN).
            With --store postgres://USER@HOST[:PORT]/DATABASE it runs a hub whose log, pending, quarantine, peers and projections live in that PostgreSQL database (made by `gloss hub init`); several hub processes may serve one database at once (Protocol/12-hub.md). The process keeps a local SQLite cache with its own replica key in --cache FOLDER (default: a folder per database under ~/.cache/gloss; made on first use), written through to the database in every transaction; it takes in what other hub processes applied before each session and every second.
            """)
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var hub: HubStoreOption
    @Option(help: ArgumentHelp("With --store: the hub process's cache folder (its key and SQLite cache; created on first use).", valueName: "FOLDER")) var cache: String?
    @Option(help: "Address to listen on for sync sessions (default 127.0.0.1:7420; not started when only --http is given).") var listen: String?
    @Option(help: ArgumentHelp("Serve the web view on HOST:PORT (for example 127.0.0.1:8080).", valueName: "HOST:PORT")) var http: String?
    @Option(help: ArgumentHelp("Access token the web view requires (16–256 of A–Z a–z 0–9 - . _ ~); needed to bind beyond loopback. Default: GLOSS_HTTP_TOKEN.", valueName: "TOKEN")) var httpToken: String?
    @Option(parsing: .unconditional, help: "Drop a peer that sends nothing for this many seconds (1–86400).") var idleTimeout: Int = 30
    @Option(parsing: .unconditional, help: "Drop a peer that has not completed the handshake after this many seconds (1–86400).") var handshakeTimeout: Int = 10
    @Option(parsing: .unconditional, help: "Serve at most this many sync connections at once (1–10000); one more is closed as it arrives.") var maxSessions: Int = 64
    @Option(parsing: .unconditional, help: "Rebuild the projections that sessions leave stale (a fork, a redaction) at most once per this many seconds (0–86400; 0: as each session ends). Meanwhile the projections lag the log.") var rebuildInterval: Int = 60

    var token: String? {
        if let httpToken { return httpToken }
        if let env = ProcessInfo.processInfo.environment["GLOSS_HTTP_TOKEN"], !env.isEmpty { return env }
        return nil
    }

    func validate() throws {
        if cache != nil && hub.store == nil { throw ValidationError("--cache goes with --store URL") }
        if hub.store != nil && replica.dir != nil { throw ValidationError("--dir and --store exclude each other (a hub keeps its key in --cache FOLDER)") }
        _ = try hub.url()
        try FlagCheck.count("--idle-timeout", idleTimeout, 1...86_400)
        try FlagCheck.count("--handshake-timeout", handshakeTimeout, 1...86_400)
        try FlagCheck.count("--rebuild-interval", rebuildInterval, 0...86_400)
        try FlagCheck.count("--max-sessions", maxSessions, 1...10_000)
        if let http {
            let (host, _) = try Sync.address(http, "--http")
            do { try WebSecurity.check(host: host, token: token) } catch let e as WebError { throw ValidationError(e.message) }
        } else if httpToken != nil {
            throw ValidationError("--http-token goes with --http HOST:PORT")
        }
        if let listen { _ = try Sync.address(listen, "--listen") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .info
            return h
        }
        let logger = Logger(label: "gloss.serve")
        defer { OpenedReplicas.closeAll() }
        do {
            let r: Replica
            var refresher: (any DispatchSourceTimer)?
            if let url = try hub.url() {
                r = OpenedReplicas.add(try Hub.open(url, cache: cache.map { URL(fileURLWithPath: $0) } ?? Hub.defaultCache(for: url)))
                logger.info("hub on \(url)", metadata: ["cache": "\(r.folder.path)", "replica": "\(r.replicaID.short)"])
                // What other hub processes applied is taken in every second, not only before a session.
                let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "gloss.hub.refresh"))
                t.schedule(deadline: .now() + 1, repeating: 1)
                t.setEventHandler { do { try r.store.refresh() } catch { logger.warning("hub refresh failed", metadata: ["error": "\(error)"]) } }
                t.resume()
                refresher = t
            } else {
                r = try replica.open()
            }
            defer { refresher?.cancel() }
            if let warning = r.keyFileWarning() { err("warning: \(warning)") }
            let sync = listen != nil || http == nil ? try Replica.parseAddress(listen ?? "127.0.0.1:7420") : nil
            let web = try http.map { try Replica.parseAddress($0) }
            let stopped = SignalWaiter(signals: [SIGINT, SIGTERM])
            // One latch ends every service: a signal, or one of them failing (a port in use).
            let stop = AsyncLatch()
            Task { await stopped.wait(); logger.info("signal received: stopping"); stop.fire() }
            let (idle, handshake, token, rebuild, maxSessions) = (idleTimeout, handshakeTimeout, token, rebuildInterval, maxSessions)
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let (host, port) = sync {
                    group.addTask {
                        do {
                            try await r.serve(host: host, port: port, idleTimeout: .seconds(idle), handshakeTimeout: .seconds(handshake),
                                              rebuildInterval: .seconds(rebuild), maxSessions: maxSessions,
                                              logger: logger, ready: { bound in writeFileDescriptor(1, "listening on \(host):\(bound)\n") },
                                              stop: { await stop.wait() })
                        } catch { stop.fire(); throw error }
                    }
                }
                if let (host, port) = web {
                    group.addTask {
                        do {
                            let display = host.contains(":") ? "[\(host)]" : host
                            try await WebServer(replica: r, security: WebSecurity(token: token))
                                .run(host: host, port: port, logger: logger, ready: { bound in writeFileDescriptor(1, "web view on http://\(display):\(bound)/\n") },
                                     stop: { await stop.wait() })
                        } catch { stop.fire(); throw error }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            throw CLIOutput.fail(error)
        }
    }
}

/// Fires a latch when one of the signals arrives.
final class SignalWaiter: @unchecked Sendable {
    // @unchecked: `sources` is written once in init and only kept alive afterwards.
    private var sources: [any DispatchSourceSignal] = []
    private let latch = AsyncLatch()

    init(signals: [Int32]) {
        for s in signals {
            signal(s, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
            src.setEventHandler { [latch] in latch.fire() }
            src.resume()
            sources.append(src)
        }
    }

    func wait() async { await latch.wait() }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync",
        abstract: "Sync with a replica serving at HOST:PORT: both directions in one session.",
        discussion: "Exit 0 when everything applied; 8 when done, but some events received wait in pending (see `gloss pending`); 2 when some events were rejected or kept as fork evidence (2 wins over 8); 5 when the peer refused the session (its team does not admit this replica's key: another team, no team, a joining or revoked key, or this replica itself); 1 when the session failed, the peer could not be reached included (what was applied stays applied; run it again to resume); 7 when the disk is full. With --json a failed session prints {\"error\", \"code\", \"exit\"}.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "HOST:PORT of `gloss serve`.") var address: String
    @Flag(help: "Only receive events.") var pullOnly = false
    @Flag(help: "Only send events.") var pushOnly = false
    @Option(parsing: .unconditional, help: "Give up when the peer sends nothing for this many seconds (1–86400).") var timeout: Int = 30
    @Flag(help: "Print JSON (keys: peer, received, applied, duplicate, pending, rejected, forks, restored, sent, newConflicts, roundTripsAfterHandshake, bytesSent, bytesReceived, error).") var json = false

    @OptionGroup var progressOption: ProgressOption

    func validate() throws {
        if pullOnly && pushOnly { throw ValidationError("--pull-only and --push-only exclude each other") }
        try FlagCheck.count("--timeout", timeout, 1...86_400)
        if try Self.address(address, "the address").port == 0 {
            throw ValidationError("the address: port 0 is not a port to connect to; give the port `gloss serve` listens on (1–65535)")
        }
    }

    /// A HOST:PORT value of the command line: a malformed one or a port out of 0–65535 is a usage
    /// error (64), as any flag value out of range.
    static func address(_ text: String, _ name: String) throws -> (host: String, port: Int) {
        do { return try Replica.parseAddress(text) } catch let e as GlossError { throw ValidationError("\(name): \(e.message)") }
    }

    func run() async throws {
        defer { OpenedReplicas.closeAll() }
        do {
            let r = try replica.open()
            let (host, port) = try Replica.parseAddress(address)
            let progress = ProgressReporter("sync")
            let report = try await r.sync(host: host, port: port, mode: pullOnly ? .pullOnly : (pushOnly ? .pushOnly : .both),
                                          idleTimeout: .seconds(timeout), progress: { progress.update($0, $1) })
            if json { out(report.json.compact) } else {
                let s = report.summary
                out("synced with \(report.peer?.short ?? "?"): received \(s.received), applied \(s.applied), duplicate \(s.duplicate), pending \(s.pending), rejected \(s.rejected), sent \(report.sent)"
                    + (report.newConflicts > 0 ? ", \(report.newConflicts) new conflicts" : ""))
                for x in s.rejections.prefix(10) { err("  rejected \(x.event.short) (\(x.replica.short):\(x.seq)): \(x.reason)") }
            }
            if report.summary.rejected > 0 || report.summary.forks > 0 { throw ExitCode(Exit.partial) }
            if report.summary.pending > 0 { throw ExitCode(Exit.pending) }
        } catch let e as ExitCode { throw e } catch {
            throw CLIOutput.fail(error)
        }
    }
}
