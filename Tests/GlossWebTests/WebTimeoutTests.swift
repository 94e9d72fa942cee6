import Foundation
import GlossEngine
import GlossTestSupport
import GlossWeb
import Logging
import NIOCore
import Testing

/// The real web server on a loopback socket: a connection that leaves a request half sent, or sends
/// nothing, is closed after the request idle timeout (such connections were held for good, and
/// 20,000 of them took every file descriptor), while whole requests are still answered.
@Suite struct WebTimeoutTests {
    /// Connects, writes `bytes`, then reads until the server closes the connection or `limit`
    /// passes: whether it closed, after how long, and what it sent.
    static func connection(port: Int, send bytes: [UInt8], waitForClose limit: Int) -> (closed: Bool, after: TimeInterval, received: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return (false, 0, "") }
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        var tv = timeval(tv_sec: limit, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let start = Date()
        var received: [UInt8] = [], buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n > 0 { received += buf[0..<n]; continue }
            return (n == 0 || errno == ECONNRESET, Date().timeIntervalSince(start), String(decoding: received, as: UTF8.self))
        }
    }

    @Test func halfSentRequestsAreClosedAfterTheIdleTimeoutAndWholeOnesAnswered() async throws {
        let fixture = try WebFixture("timeout")
        defer { fixture.remove() }
        var server = fixture.server()
        server.requestIdleTimeout = .seconds(3)
        let port = Locked(0)
        let stop = AsyncStream<Void>.makeStream()
        let running = Task { [server] in
            try await server.run(host: "127.0.0.1", port: 0, logger: Logger(label: "web-timeout-test"), ready: { port.value = $0 },
                                 stop: { for await _ in stop.stream { return } })
        }
        defer { stop.continuation.finish(); running.cancel() }
        while port.value == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let p = port.value

        let whole = Self.connection(port: p, send: Array("GET /facts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), waitForClose: 60)
        #expect(whole.received.hasPrefix("HTTP/1.1 200"), "a whole request is answered: \(whole.received.prefix(200))")
        // (Before the timeout the server held these for good.)
        let silent = Self.connection(port: p, send: [], waitForClose: 60)
        #expect(silent.closed && silent.after < 30, "a connection that sent nothing was held \(silent.after) s (closed: \(silent.closed))")
        let half = Self.connection(port: p, send: Array("GET /facts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8), waitForClose: 60)
        #expect(half.closed && half.after < 30, "a half-sent request was held \(half.after) s (closed: \(half.closed))")
        #expect(half.received.isEmpty, "nothing is answered to a request never finished: \(half.received.prefix(200))")
    }
}
