import Foundation
import GlossModel
import GlossNet
import GlossSync
import Logging

extension Replica {
    /// Parses `HOST:PORT` (`[::1]:7420` for IPv6).
    public static func parseAddress(_ text: String) throws -> (host: String, port: Int) {
        var host = text, portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            // "]:" then the port; anything else (`[::1]x7420`, `[::1]7420`) is no port.
            portText = rest.hasPrefix(":") ? String(rest.dropFirst()) : ""
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon]); portText = String(text[text.index(after: colon)...])
        }
        // An IPv6 address goes in brackets: `host:1:2` was taken as host `host:1`.
        if !text.hasPrefix("["), host.contains(":") {
            throw GlossError(.badInput, "\"\(text.prefix(100))\" is not HOST:PORT: an IPv6 address goes in brackets ([::1]:7420), and a host name has no colon")
        }
        guard !host.isEmpty, !portText.isEmpty, portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let port = Int(portText), (0...65535).contains(port) else {
            throw GlossError(.badInput, "\"\(text.prefix(100))\" is not HOST:PORT with a port from 0 to 65535 (for example 127.0.0.1:7420 or [::1]:7420)")
        }
        return (host, port)
    }

    /// One sync session with the server at `host:port`: both directions, no round trip after the handshake.
    public func sync(host: String, port: Int, mode: SyncMode = .both, idleTimeout: Duration = .seconds(30),
                     progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> SyncReport {
        var driver = SyncDriver(replica: self)
        driver.idleTimeout = idleTimeout
        let d = driver
        do {
            return try await SyncClient.connect(host: host, port: port, idleTimeout: .seconds(idleTimeout.components.seconds + 1)) { transport in
                try await d.run(over: transport, role: .initiator, mode: mode, progress: progress)
            }
        } catch let e as SyncError {
            throw GlossError.wrap(e)
        }
    }

    /// Serves sync sessions until `stop` completes (or the task is cancelled). Each session runs the
    /// same driver as `sync`; a failing session harms no other.
    public func serve(host: String, port: Int, idleTimeout: Duration = .seconds(30), handshakeTimeout: Duration = .seconds(10),
                      rebuildInterval: Duration = .seconds(60), maxSessions: Int = 64, stallTimeout: Duration = .seconds(60),
                      logger: Logger, ready: @escaping @Sendable (Int) -> Void,
                      stop: @escaping @Sendable () async -> Void) async throws {
        var server = SyncServer(host: host, port: port, logger: logger)
        server.idleTimeout = .seconds(idleTimeout.components.seconds + 1)
        server.maxSessions = maxSessions
        var driver = SyncDriver(replica: self)
        driver.idleTimeout = idleTimeout
        driver.handshakeTimeout = handshakeTimeout
        driver.stallTimeout = stallTimeout
        // Rebuilds sessions leave (a fork, a redaction): at most one per interval (`RebuildPacer`).
        let pacer = RebuildPacer(interval: rebuildInterval)
        driver.pacer = pacer
        let d = driver
        let srv = server
        do { try await sessions(srv, d, logger: logger, ready: ready, stop: stop) } catch { await pacer.stop(self); throw error }
        await pacer.stop(self)
    }

    private func sessions(_ srv: SyncServer, _ d: SyncDriver, logger: Logger, ready: @escaping @Sendable (Int) -> Void,
                          stop: @escaping @Sendable () async -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let stopper = StopSignal()
            group.addTask {
                try await srv.run(ready: ready, stop: stopper.future) { transport in
                    let peer = transport.peerDescription
                    do {
                        let r = try await d.run(over: transport, role: .responder)
                        logger.info("session done", metadata: ["peer": "\(peer)", "replica": "\(r.peer?.short ?? "?")",
                                                               "received": "\(r.summary.received)", "applied": "\(r.summary.applied)",
                                                               "sent": "\(r.sent)", "rejected": "\(r.summary.rejected)"])
                    } catch {
                        logger.warning("session failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
                    }
                }
            }
            group.addTask {
                await stop()
                stopper.fire()
            }
            try await group.next()
            stopper.fire()
            try await group.waitForAll()
        }
    }
}
