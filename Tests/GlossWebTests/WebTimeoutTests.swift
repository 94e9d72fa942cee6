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

        let whole = rawConnection(port: p, send: Array("GET /facts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8), waitForClose: 60)
        #expect(String(decoding: whole.received, as: UTF8.self).hasPrefix("HTTP/1.1 200"), "a whole request is answered: \(String(decoding: whole.received.prefix(200), as: UTF8.self))")
        // (Before the timeout the server held these for good.)
        let silent = rawConnection(port: p, send: [], waitForClose: 60)
        #expect(silent.closed && silent.after < 30, "a connection that sent nothing was held \(silent.after) s (closed: \(silent.closed))")
        let half = rawConnection(port: p, send: Array("GET /facts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8), waitForClose: 60)
        #expect(half.closed && half.after < 30, "a half-sent request was held \(half.after) s (closed: \(half.closed))")
        #expect(half.received.isEmpty, "nothing is answered to a request never finished: \(String(decoding: half.received.prefix(200), as: UTF8.self))")
    }
}
