import Foundation
import GlossSync
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A `FrameTransport` over a TCP connection (NIOAsyncChannel). Writes suspend while the socket is
/// not writable (backpressure); reads pull one frame at a time.
final class TCPTransport: FrameTransport, @unchecked Sendable {
    // @unchecked: `iterator` is only used by the single reader task (FrameTransport's contract);
    // `outbound` is Sendable; `channel` is thread-safe.
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    let peerDescription: String

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel) {
        iterator = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.channel = channel
        peerDescription = channel.remoteAddress.map { "\($0)" } ?? "unknown peer"
    }

    func send(_ frame: [UInt8]) async throws {
        do { try await outbound.write(ByteBuffer(bytes: frame)) } catch {
            throw SyncError(.io, "the connection to \(peerDescription) closed while sending")
        }
    }

    func receive() async throws -> [UInt8]? {
        do {
            guard var buffer = try await iterator.next() else { return nil }
            return buffer.readBytes(length: buffer.readableBytes)
        } catch let e as SyncError {
            throw e
        } catch {
            throw SyncError(.io, "the connection to \(peerDescription) failed: \(describeNetworkError(error))")
        }
    }

    func close() async {
        outbound.finish()
        try? await channel.close()
    }
}

/// The pipeline of every sync connection: framing with a size limit, and an idle timeout.
///
/// The timeout counts reads *and* writes (`allTimeout`): a side busy applying a long stream stops
/// reading (backpressure) but sends `progress`, and must not be taken for a dead connection. A
/// silent peer is still dropped by the session's own receive timeout (SyncDriver).
func configure(_ channel: any Channel, idle: TimeAmount, budget: HandshakeBudget? = nil) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: WireLimits.maxFrameBytes, budget: budget)))
    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
    try channel.pipeline.syncOperations.addHandler(IdleCloser())
    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
}

/// Closes a connection whose peer sent nothing for the idle timeout.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }
}

/// A TCP sync server: accepts many peers at once, one structured child task per connection.
public struct SyncServer: Sendable {
    public var host: String
    public var port: Int
    public var idleTimeout: TimeAmount = .seconds(30)
    /// Connections served at once; one more is closed as it is accepted (each holds a thread, up to
    /// a few MiB of batches, and SQLite work).
    public var maxSessions = 64
    /// After `stop`: how long open sessions may go on before their connections are closed (a peer
    /// sending keepalives held a stopping server for good; an audit, 2026-12-06).
    public var shutdownGrace: TimeAmount = .seconds(5)
    public var logger: Logger

    public init(host: String, port: Int, logger: Logger) { self.host = host; self.port = port; self.logger = logger }

    /// Binds, reports the bound port through `ready`, and serves until `stop` is fulfilled or the
    /// task is cancelled; then stops accepting, lets open sessions go on for `shutdownGrace`, and
    /// closes the connections of those still open (what they applied stays applied: each window is
    /// its own transaction, and their peers resume at the next session).
    public func run(ready: @escaping @Sendable (Int) -> Void, stop: EventLoopFuture<Void>? = nil,
                    session: @escaping @Sendable (any FrameTransport) async -> Void) async throws {
        let idle = idleTimeout
        let budget = HandshakeBudget()
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.autoRead, value: true)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try configure(channel, idle: idle, budget: budget) }
                }
        } catch {
            throw SyncError(.refused, bindFailure(host: host, port: port, error))
        }
        let bound = server.channel.localAddress?.port ?? port
        logger.info("listening", metadata: ["address": "\(host):\(bound)"])
        ready(bound)
        let open = NIOLockedValueBox(0), limit = maxSessions
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let (grace, log) = (shutdownGrace, logger)
        stop?.whenComplete { _ in
            server.channel.close(promise: nil)
            server.channel.eventLoop.scheduleTask(in: grace) {
                let still = connections.withLockedValue { Array($0.values) }
                if !still.isEmpty { log.info("closing \(still.count) session(s) still open \(grace.nanoseconds / 1_000_000_000) s after the stop") }
                for c in still { c.close(promise: nil) }
            }
        }
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    let admitted = open.withLockedValue { n in n < limit ? (n += 1, true).1 : false }
                    guard admitted else {
                        logger.warning("connection refused: \(limit) sessions are open (--max-sessions)",
                                       metadata: ["peer": "\(connection.channel.remoteAddress.map { "\($0)" } ?? "unknown peer")"])
                        try? await connection.channel.close()
                        continue
                    }
                    let channel = connection.channel
                    connections.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
                    group.addTask {
                        defer {
                            open.withLockedValue { $0 -= 1 }
                            connections.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
                        }
                        do {
                            try await connection.executeThenClose { input, output in
                                await session(TCPTransport(inbound: input, outbound: output, channel: connection.channel))
                            }
                        } catch {
                            logger.warning("connection ended with an error", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
        logger.info("stopped")
    }
}

/// Opens a sync connection to `host:port` and runs `body` over it.
public enum SyncClient {
    public static func connect<T: Sendable>(host: String, port: Int, idleTimeout: TimeAmount = .seconds(30),
                                            _ body: @escaping @Sendable (any FrameTransport) async throws -> T) async throws -> T {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { ch in ch.eventLoop.makeCompletedFuture { try configure(ch, idle: idleTimeout) } }
        } catch {
            throw SyncError(.io, "cannot connect to \(host):\(port): \(describeNetworkError(error)); is `gloss serve` running there? (check the address and the port)")
        }
        return try await channel.executeThenClose { input, output in
            try await body(TCPTransport(inbound: input, outbound: output, channel: channel.channel))
        }
    }
}

/// A one-shot stop signal usable from async code, bridged to an event-loop future for the server.
public final class StopSignal: @unchecked Sendable {
    // @unchecked: EventLoopPromise is thread-safe; `fired` is guarded by `lock`.
    private let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
    private let lock = NSLock()
    private var fired = false
    public init() {}
    public var future: EventLoopFuture<Void> { promise.futureResult }
    public func fire() {
        let first = lock.withLock { () -> Bool in if fired { return false }; fired = true; return true }
        if first { promise.succeed(()) }
    }
}

/// Why `host:port` cannot be listened on, in words, with what to do.
func bindFailure(host: String, port: Int, _ error: any Error) -> String {
    let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    switch (error as? IOError)?.errnoCode {
    case EADDRINUSE: return "cannot listen on \(address): the address is in use (another gloss serve, or another program); stop it or choose another address"
    case EADDRNOTAVAIL: return "cannot listen on \(address): no interface of this machine has that address; choose one it has (127.0.0.1 for this machine only)"
    case EACCES: return "cannot listen on \(address): permission denied (ports below 1024 need privileges); choose a port from 1024 up"
    default:
        if isUnresolvable(error) {
            return "cannot listen on \(address): \(host) is not a name or address of this machine; give one of its addresses (127.0.0.1 for this machine only, 0.0.0.0 for every interface)"
        }
        return "cannot listen on \(address): \(describeNetworkError(error))"
    }
}

/// What a NIO connection error means, in words (NIO's own text names its internal types).
public func describeNetworkError(_ error: any Error) -> String {
    func errno(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ETIMEDOUT: return "the connection timed out"
        case EHOSTUNREACH: return "no route to the host"
        case ENETUNREACH: return "the network is unreachable"
        case ECONNRESET: return "the connection was reset by the peer"
        case EPIPE: return "the peer closed the connection"
        case EADDRNOTAVAIL: return "the address is not available"
        default: return String(cString: strerror(code))
        }
    }
    switch error {
    case let e as NIOConnectionError:
        if let first = e.connectionErrors.first { return describeNetworkError(first.error) }
        if e.dnsAError != nil || e.dnsAAAAError != nil { return "cannot resolve the host name \(e.host)" }
        return "no address to connect to"
    case let e as IOError: return errno(e.errnoCode)
    case ChannelError.connectTimeout(let t): return "no answer within \(t.nanoseconds / 1_000_000_000) s"
    case let e as ChannelError where e == .ioOnClosedChannel || e == .alreadyClosed || e == .eof: return "the connection closed"
    case is NIOConnectionError: return "cannot connect"
    case _ where isUnresolvable(error): return "the host name cannot be resolved to an address"
    default: return "\(error)"
    }
}

/// A host name NIO could not turn into an address (its two error types for it).
func isUnresolvable(_ error: any Error) -> Bool { error is SocketAddressError || error is SocketAddressError.UnknownHost }
