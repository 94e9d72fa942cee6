import Foundation
import GlossEngine
import GlossModel
import GlossSync

/// The ways two replicas exchange events; the same scenarios run over each.
public enum SyncTransport: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory, bundle, tcp
    public var description: String { rawValue }
}

extension Simulation {
    /// Brings `a` and `b` to the union of their events over `transport`.
    public func exchange(_ a: Int, _ b: Int, via transport: SyncTransport) async throws {
        let (ra, rb) = (replicas[a], replicas[b])
        switch transport {
        case .memory:
            _ = try await memorySession(ra, rb)
        case .bundle:
            let f1 = tmp.sub("x-\(UUID().uuidString.prefix(6)).glossb")
            try ra.exportBundle(to: f1, base: try rb.vector)
            _ = try rb.importBundle(at: f1)
            let f2 = tmp.sub("x-\(UUID().uuidString.prefix(6)).glossb")
            try rb.exportBundle(to: f2, base: try ra.vector)
            _ = try ra.importBundle(at: f2)
        case .tcp:
            _ = try await tcpSession(client: ra, server: rb)
        }
    }
}

/// Runs one session between two replicas over an in-memory transport; returns (initiator, responder) reports.
public func memorySession(_ a: Replica, _ b: Replica, mode: SyncMode = .both, batchBytes: Int? = nil) async throws -> (SyncReport, SyncReport) {
    let (ta, tb) = MemoryTransport.pair()
    var da = SyncDriver(replica: a), db = SyncDriver(replica: b)
    if let batchBytes { da.batchBytes = batchBytes; db.batchBytes = batchBytes }
    let (fa, fb) = (da, db)
    async let ra = fa.run(over: ta, role: .initiator, mode: mode)
    async let rb = fb.run(over: tb, role: .responder)
    return try await (ra, rb)
}

/// Serves `server` on a free loopback port for the duration of `body`.
public func withServer<T: Sendable>(_ server: Replica, idleTimeout: Duration = .seconds(30), handshakeTimeout: Duration = .seconds(10),
                                    rebuildInterval: Duration = .seconds(60), maxSessions: Int = 64, stallTimeout: Duration = .seconds(60),
                                    _ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
    let port = PortBox()
    let stop = AsyncLatch()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            do {
                try await server.serve(host: "127.0.0.1", port: 0, idleTimeout: idleTimeout, handshakeTimeout: handshakeTimeout,
                                       rebuildInterval: rebuildInterval, maxSessions: maxSessions, stallTimeout: stallTimeout,
                                       logger: .init(label: "test"), ready: { port.set($0) }, stop: { await stop.wait() })
            } catch {
                port.set(-1)   // never leave the caller waiting for a port
                throw error
            }
            return nil
        }
        let p = await port.wait()
        guard p > 0 else { try await group.waitForAll(); throw SyncError(.io, "the test server did not start") }
        let result = try await body(p)
        stop.fire()
        for try await _ in group {}
        return result
    }
}

/// One TCP session from `client` to a fresh server run by `server`.
public func tcpSession(client: Replica, server: Replica, mode: SyncMode = .both) async throws -> SyncReport {
    try await withServer(server) { port in try await client.sync(host: "127.0.0.1", port: port, mode: mode) }
}
