import Foundation

/// Moves whole frames between two peers (Protocol/07-wire.md §Framing). Implemented over TCP by
/// GlossNet and in memory by `MemoryTransport`. `receive()` is called by one task at a time;
/// `send(_:)` may be called from several and must keep frames whole and in order.
public protocol FrameTransport: AnyObject, Sendable {
    func send(_ frame: [UInt8]) async throws
    /// The next frame, or nil when the peer closed the connection.
    func receive() async throws -> [UInt8]?
    func close() async
    var peerDescription: String { get }
}

/// Two connected in-memory transports, for tests and for running the same session without sockets.
public final class MemoryTransport: FrameTransport, @unchecked Sendable {
    // @unchecked: `continuation` is immutable and thread-safe; `iterator` is used by the single
    // reader task, as FrameTransport requires; `closed` is guarded by `lock`.
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private var iterator: AsyncStream<[UInt8]>.Iterator
    private weak var peer: MemoryTransport?
    private let lock = NSLock()
    private var closed = false
    public let peerDescription: String
    /// Frames and bytes sent through this end.
    public private(set) var framesSent = 0
    public private(set) var bytesSent = 0

    private init(stream: AsyncStream<[UInt8]>, continuation: AsyncStream<[UInt8]>.Continuation, name: String) {
        self.iterator = stream.makeAsyncIterator()
        self.continuation = continuation
        peerDescription = name
    }

    public static func pair() -> (MemoryTransport, MemoryTransport) {
        let (s1, c1) = AsyncStream<[UInt8]>.makeStream()
        let (s2, c2) = AsyncStream<[UInt8]>.makeStream()
        // a reads what b writes (s1/c1), b reads what a writes (s2/c2)
        let a = MemoryTransport(stream: s1, continuation: c2, name: "memory:b")
        let b = MemoryTransport(stream: s2, continuation: c1, name: "memory:a")
        a.peer = b; b.peer = a
        return (a, b)
    }

    public func send(_ frame: [UInt8]) async throws {
        let isClosed = lock.withLock { closed }
        guard !isClosed else { throw SyncError(.io, "connection closed") }
        lock.withLock { framesSent += 1; bytesSent += frame.count + 4 }
        continuation.yield(frame)
    }

    public func receive() async throws -> [UInt8]? { await iterator.next() }

    public func close() async {
        lock.withLock { closed = true }
        continuation.finish()
        peer?.continuation.finish()
    }
}
