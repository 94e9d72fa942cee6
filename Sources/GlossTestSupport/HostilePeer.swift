import Foundation
import GlossModel
import GlossSync
#if canImport(Glibc)
import Glibc
#endif

/// A hostile sync peer over a plain blocking TCP socket: it completes the real handshake (the
/// session state machine as initiator: key exchange, sealed hello signed over the transcript), then
/// sends whatever it is told — sealed messages it crafts, raw frames, raw bytes.
public final class HostilePeer {
    public struct Failure: Error, CustomStringConvertible { public var description: String; public init(description: String) { self.description = description } }
    let fd: Int32
    public private(set) var machine: SyncSessionStateMachine
    var sealer: FrameSealer?
    public private(set) var serverHello: WireHello?
    public let key: ReplicaKey

    /// Connects to 127.0.0.1:`port`. `vector` is what the hello will claim to hold.
    /// `receiveBuffer`: the socket's receive buffer in bytes (a peer that stops reading fills a
    /// small one soon). `offersHeads`: the hello sets bit 1 (Protocol/07 §Heads); off, the peer
    /// is one of before the heads, and the server sends and awaits none.
    public init(port: Int, key: ReplicaKey = ReplicaKey(), vector: VersionVector = VersionVector(), wantsEvents: Bool = false,
                offersHeads: Bool = false, admission: Admission = .noTeam, receiveBuffer: Int32? = nil) throws {
        self.key = key
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        machine = SyncSessionStateMachine(role: .initiator, key: key, admission: admission, vector: vector, wantsEvents: wantsEvents, offersHeads: offersHeads)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { Glibc.close(fd); throw Failure(description: "cannot connect to port \(port) (errno \(errno))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { Glibc.close(fd) }

    public func sendRaw(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed (errno \(errno)): the server closed the connection") }
            off += n
        }
    }

    public func sendFrame(_ body: [UInt8]) throws {
        let n = UInt32(body.count)
        try sendRaw([UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + body)
    }

    /// Seals `plaintext` with the session key (the next nonce) and sends it as one frame.
    public func sendSealed(_ plaintext: [UInt8]) throws {
        guard sealer != nil else { throw Failure(description: "no session keys yet") }
        try sendFrame(sealer!.seal(plaintext))
    }

    /// Sends this side's key exchange only (the first frame), and nothing after it: a peer not yet
    /// authenticated, whose next frame is its hello.
    public func sendKeyExchange() throws {
        for case .sendPlain(let f) in machine.start() { try sendFrame(f) }
    }

    /// `count` frames each sealing `plaintext` (with the next nonces), length-prefixed and
    /// concatenated: sent with one `sendRaw`, a flood of small frames.
    public func sealedFrames(_ plaintext: [UInt8], count: Int) throws -> [UInt8] {
        guard sealer != nil else { throw Failure(description: "no session keys yet") }
        var out: [UInt8] = []
        for _ in 0..<count {
            let body = sealer!.seal(plaintext)
            let n = UInt32(body.count)
            out += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + body
        }
        return out
    }

    func setTimeout(_ seconds: TimeInterval) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func readExactly(_ n: Int) throws -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r == 0 { return nil }
            if r < 0 { throw Failure(description: errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for the server" : "recv failed (errno \(errno))") }
            got += r
        }
        return out
    }

    /// The next frame body, or nil at end of stream.
    public func readFrame(timeout: TimeInterval = 10) throws -> [UInt8]? {
        setTimeout(timeout)
        guard let h = try readExactly(4) else { return nil }
        let n = Int(UInt32(h[0]) << 24 | UInt32(h[1]) << 16 | UInt32(h[2]) << 8 | UInt32(h[3]))
        guard n <= WireLimits.maxFrameBytes else { throw Failure(description: "the server sent a frame of \(n) bytes") }
        return try readExactly(n)
    }

    /// Runs the real handshake until the server's hello is verified.
    public func handshake(timeout: TimeInterval = 10) throws {
        func run(_ actions: [SyncSessionStateMachine.Action]) throws {
            for a in actions {
                switch a {
                case .sendPlain(let f): try sendFrame(f)
                case .established(let keys): sealer = keys.sealer()
                case .send(let m): try sendSealed(m.encoded)
                case .authenticated(let h): serverHello = h
                case .fail(let e): throw Failure(description: "handshake failed: \(e.message)")
                case .peerFailed(_, let reason): throw Failure(description: "the server refused: \(reason)")
                default: break
                }
            }
        }
        try run(machine.start())
        while serverHello == nil {
            guard let f = try readFrame(timeout: timeout) else { throw Failure(description: "the server closed during the handshake") }
            try run(machine.receive(f))
        }
    }

    /// The next frame from the server, opened and decoded by the session state machine (nil when
    /// the server closed).
    public func readActions(timeout: TimeInterval = 10) throws -> [SyncSessionStateMachine.Action]? {
        guard let f = try readFrame(timeout: timeout) else { return nil }
        return machine.receive(f)
    }

    /// Reads (and discards) until the server closes; true if it did within `limit` seconds.
    public func waitForClose(limit: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        setTimeout(0.5)
        var buf = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            let r = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if r == 0 { return true }
            if r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { return errno == ECONNRESET }
        }
        return false
    }

    public func close() { shutdown(fd, Int32(SHUT_RDWR)) }
}

/// Encodes a vector as the wire does (u32 count, sorted entries), with a count that may lie.
public func rawVector(_ entries: [(replica: [UInt8], seq: UInt64)], count: UInt32? = nil) -> [UInt8] {
    var w = ByteWriter()
    w.u32(count ?? UInt32(entries.count))
    for e in entries { w.raw(e.replica); w.u64(e.seq) }
    return w.bytes
}

/// `n` distinct random replica ids, sorted (a vector's canonical order), from a seeded generator.
public func randomReplicaIDs(_ n: Int, _ rng: inout SplitMix64) -> [[UInt8]] {
    var out: [[UInt8]] = []
    out.reserveCapacity(n)
    for _ in 0..<n {
        var b: [UInt8] = []
        b.reserveCapacity(32)
        for _ in 0..<4 { let v = rng.next(); for s in stride(from: 56, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
        out.append(b)
    }
    return out.sorted { $0.lexicographicallyPrecedes($1) }
}

/// Runs blocking socket work (a `HostilePeer`) on a thread of its own: blocked on the cooperative
/// pool (two threads on a 2-core machine) it would starve the server it talks to.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        let t = Thread { c.resume(with: Result { try body() }) }
        t.start()
    }
}

/// A raw TCP client on loopback: connects to `port`, writes `bytes`, then reads until the server
/// closes the connection or `limit` seconds pass without a byte. Whether the server closed it
/// (EOF or a reset), after how long, and what it sent.
public func rawConnection(port: Int, send bytes: [UInt8], waitForClose limit: TimeInterval) -> (closed: Bool, after: TimeInterval, received: [UInt8]) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { return (false, 0, []) }
    if !bytes.isEmpty { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
    var tv = timeval(tv_sec: Int(limit), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let start = Date()
    var received: [UInt8] = [], buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buf, buf.count)
        if n > 0 { received += buf[0..<n]; continue }
        return (n == 0 || errno == ECONNRESET, Date().timeIntervalSince(start), received)
    }
}
