import ArgumentParser
import Foundation
import GlossEngine
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve sync sessions over TCP (encrypted and authenticated; Protocol/07-wire.md) until SIGINT or SIGTERM.",
        discussion: "Prints `listening on HOST:PORT` on standard output once bound (port 0 picks a free port); logs go to standard error.")
    @OptionGroup var replica: ReplicaOptions
    @Option(help: "Address to listen on.") var listen = "127.0.0.1:7420"
    @Option(help: "Drop a peer that sends nothing for this many seconds (1–86400).") var idleTimeout: Int = 30
    @Option(help: "Drop a peer that has not completed the handshake after this many seconds (1–86400).") var handshakeTimeout: Int = 10

    func validate() throws {
        try FlagCheck.count("--idle-timeout", idleTimeout, 1...86_400)
        try FlagCheck.count("--handshake-timeout", handshakeTimeout, 1...86_400)
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
            let r = try replica.open()
            if let warning = r.keyFileWarning() { err("warning: \(warning)") }
            let (host, port) = try Replica.parseAddress(listen)
            let stopped = SignalWaiter(signals: [SIGINT, SIGTERM])
            try await r.serve(host: host, port: port, idleTimeout: .seconds(idleTimeout), handshakeTimeout: .seconds(handshakeTimeout),
                              logger: logger, ready: { bound in
                writeFileDescriptor(1, "listening on \(host):\(bound)\n")
            }, stop: { await stopped.wait(); logger.info("signal received: stopping") })
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
    static let configuration = CommandConfiguration(
        abstract: "Sync with a replica serving at HOST:PORT: both directions in one session.",
        discussion: "Exit 0 when everything applied; 8 when done, but some events received wait in pending (see `gloss pending`); 2 when some events were rejected (2 wins over 8); 1 when the session failed, the peer could not be reached included (what was applied stays applied; run it again to resume); 7 when the disk is full. With --json a failed session prints {\"error\", \"code\", \"exit\"}.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "HOST:PORT of `gloss serve`.") var address: String
    @Flag(help: "Only receive events.") var pullOnly = false
    @Flag(help: "Only send events.") var pushOnly = false
    @Option(help: "Give up when the peer sends nothing for this many seconds (1–86400).") var timeout: Int = 30
    @Flag(help: "Print JSON (keys: peer, received, applied, duplicate, pending, rejected, forks, restored, sent, newConflicts, roundTripsAfterHandshake, bytesSent, bytesReceived, error).") var json = false

    @OptionGroup var progressOption: ProgressOption

    func validate() throws {
        if pullOnly && pushOnly { throw ValidationError("--pull-only and --push-only exclude each other") }
        try FlagCheck.count("--timeout", timeout, 1...86_400)
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
