import Foundation
import GlossEngine
import GlossModel
import GlossSync
import GlossTestSupport
import Testing

/// `gloss serve` as a real process, attacked and used over real loopback sockets.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ServeTests {
    typealias Server = ServeProcess

    func makeReplicas(_ tmp: TempDir) throws -> (URL, URL) {
        let s = tmp.sub("server"), c = tmp.sub("client")
        #expect(try GlossProcess.run(["init", "--analyst", "srv", "--dir", s.path], cwd: tmp.url).status == 0)
        #expect(try GlossProcess.run(["init", "--analyst", "cli", "--dir", c.path], cwd: tmp.url).status == 0)
        let f = tmp.sub("a.txt")
        try Data(sampleArticleBytes()).write(to: f)
        #expect(try GlossProcess.run(["ingest", "--dir", s.path, f.path], cwd: tmp.url).status == 0)
        return (s, c)
    }

    /// Resident memory of a process, in KiB (`VmRSS`).
    static func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Before the key exchange a peer can make the server hold nothing past the key exchange's 1 KiB:
    /// a first frame announced longer ends the connection at once (it was buffered up to 16 MiB until
    /// the handshake timeout: 60 such connections held 1.7 GB; an audit, 2026-12-07).
    @Test func aFirstFrameLongerThanAKeyExchangeEndsTheConnectionAtOnce() throws {
        let tmp = TempDir("gloss-first-frame")
        defer { tmp.remove() }
        let (s, c) = try makeReplicas(tmp)
        let server = try Server(dir: s, extra: ["--handshake-timeout", "20"])
        for length: UInt32 in [1_025, 16 << 20] {
            let prefix = [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
            let r = rawConnection(port: server.port, send: prefix + [UInt8](repeating: 0x47, count: 1_000), waitForClose: 15)
            #expect(r.closed && r.after < 5, "a first frame of \(length) bytes: closed \(r.closed) after \(r.after) s (the handshake timeout is 20 s)")
        }
        let sync = try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:\(server.port)", "--json"], cwd: tmp.url)
        #expect(sync.status == 0, "an honest peer still syncs: \(sync.stderr)")
    }

    /// Hellos of peers not yet authenticated share the server's 64 MiB budget: four peers past the
    /// key exchange that announce 16 MiB hellos take it, a fifth is closed at once, and once the four
    /// are gone the budget is whole again. (Each such hello was buffered in full, grown by doubling:
    /// ~29 MiB a connection for the handshake timeout.)
    @Test func largeHellosOfUnauthenticatedPeersShareABudget() throws {
        let tmp = TempDir("gloss-hello-budget")
        defer { tmp.remove() }
        let (s, c) = try makeReplicas(tmp)
        let server = try Server(dir: s, extra: ["--handshake-timeout", "60"])
        let before = Self.residentKiB(server.process.processIdentifier)
        /// A peer past the key exchange that announces a 16 MiB hello and sends 4 MiB of it.
        func bigHello() throws -> HostilePeer {
            let p = try HostilePeer(port: server.port)
            try p.sendKeyExchange()
            let n: UInt32 = 16 << 20
            try? p.sendRaw([UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
                           + [UInt8](repeating: 0x5A, count: 4 << 20))
            return p
        }
        let holding = try (0..<4).map { _ in try bigHello() }
        for p in holding { #expect(!p.waitForClose(limit: 1), "a hello within the budget was refused") }
        let fifth = try bigHello()
        #expect(fifth.waitForClose(limit: 10), "a hello past the budget was taken in")
        let during = Self.residentKiB(server.process.processIdentifier)
        #expect(during - before < 100_000, "four 16 MiB hellos being received grew the server from \(before) to \(during) KiB")
        for p in holding { p.close() }
        Thread.sleep(forTimeInterval: 1)
        let again = try bigHello()
        #expect(!again.waitForClose(limit: 1), "the budget did not come back when the connections closed")
        again.close()
        let sync = try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:\(server.port)", "--json"], cwd: tmp.url)
        #expect(sync.status == 0, "an honest peer still syncs: \(sync.stderr)")
    }

    /// A peer sending empty batches in a loop costs the server no memory that grows with them: one
    /// idle deadline per session, not a timer per frame (each stayed scheduled for the idle timeout,
    /// so 1.27 million empty batches left the server ~800 MB larger; an audit, 2026-12-07).
    @Test func emptyBatchesInALoopDoNotGrowTheServer() throws {
        let tmp = TempDir("gloss-empty-flood")
        defer { tmp.remove() }
        let (s, _) = try makeReplicas(tmp)
        let server = try Server(dir: s, extra: ["--idle-timeout", "600"])
        let peer = try HostilePeer(port: server.port)
        try peer.handshake()
        let empty = try peer.sealedFrames(WireMessage.batch([]).encoded, count: 2_000)
        try peer.sendRaw(empty)   // the first, so the session's own allocations are in the baseline
        Thread.sleep(forTimeInterval: 1)
        let before = Self.residentKiB(server.process.processIdentifier)
        for _ in 0..<150 { try peer.sendRaw(try peer.sealedFrames(WireMessage.batch([]).encoded, count: 2_000)) }
        // Everything sent is taken in before the measure: the session answers its done with an ack.
        try peer.sendSealed(WireMessage.done(sent: 0, vector: VersionVector()).encoded)
        var acked = false
        while !acked, let actions = try peer.readActions(timeout: 60) {
            acked = actions.contains { if case .peerAcked = $0 { return true } else { return false } }
        }
        #expect(acked, "the server acknowledged the session")
        let after = Self.residentKiB(server.process.processIdentifier)
        #expect(after - before < 60_000, "300,000 empty batches grew the server from \(before) to \(after) KiB")
    }

    @Test func aStalledPeerIsDroppedAfterTheTimeoutAndOthersStillSync() throws {
        let tmp = TempDir("gloss-stall")
        defer { tmp.remove() }
        let (s, c) = try makeReplicas(tmp)
        let server = try Server(dir: s, extra: ["--handshake-timeout", "1", "--idle-timeout", "2"])
        // Connects and says nothing: dropped after the handshake timeout.
        let silent = rawConnection(port: server.port, send: [], waitForClose: 10)
        #expect(silent.closed, "the server kept a silent peer")
        #expect(silent.after < 5)
        let sync = try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:\(server.port)", "--json"], cwd: tmp.url)
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.object["applied"] as? Int == 1)
        #expect(server.stop() == 0, "clean shutdown on SIGTERM")
        #expect(server.log.contains("stopped"))
    }

    /// A stopping server gives open sessions a few seconds, then closes them: a connection that
    /// keeps a session open (here: silent, under a long handshake timeout; a peer sending
    /// keepalives did the same) held a server told to stop for good (an audit, 2026-12-06).
    @Test func aServerToldToStopClosesSessionsStillOpenAfterItsGrace() throws {
        let tmp = TempDir("gloss-stop-grace")
        defer { tmp.remove() }
        let (s, _) = try makeReplicas(tmp)
        let server = try Server(dir: s, extra: ["--handshake-timeout", "600", "--idle-timeout", "600"])
        let port = server.port
        let held = Locked<(closed: Bool, after: TimeInterval)?>(nil)
        let t = Thread { held.withValue { let r = rawConnection(port: port, send: [], waitForClose: 60); $0 = (r.closed, r.after) } }
        t.start()
        Thread.sleep(forTimeInterval: 0.5)
        let start = Date()
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        let took = Date().timeIntervalSince(start)
        #expect(took < 15, "the server stopped \(took) s after SIGTERM")
        while held.withValue({ $0 }) == nil && Date().timeIntervalSince(start) < 30 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(held.withValue { $0?.closed } == true, "the held connection was closed")
        _ = server.stop()
    }

    /// Both sides busy for longer than the idle timeout — each applying the other's long stream —
    /// keep the session alive with `progress` keepalives: `gloss serve --idle-timeout 1` and
    /// `gloss sync --timeout 1` as real processes (their own schedulers, not the test runner's).
    /// (16,000 events each way take ~2 s here; with a 2 s timeout and 12,000 the session became
    /// too fast to need a keepalive once the apply path got faster.)
    @Test func longStreamsBothWaysAreNotTakenForIdle() throws {
        let tmp = TempDir("gloss-long")
        defer { tmp.remove() }
        let s = tmp.sub("server"), c = tmp.sub("client")
        let count = 16_000
        let server = try Replica.create(in: s, analyst: "srv")
        let client = try Replica.create(in: c, analyst: "cli")
        try server.appendBulk(count)
        try client.appendBulk(count)
        let serving = try Server(dir: s, extra: ["--idle-timeout", "1"])
        let start = Date()
        let sync = try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:\(serving.port)", "--timeout", "1", "--json"], cwd: tmp.url)
        let elapsed = Date().timeIntervalSince(start)
        print("[long-stream] \(count) events each way in \(String(format: "%.1f", elapsed)) s with a 1 s idle timeout")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.object["applied"] as? Int == count)
        #expect(sync.object["sent"] as? Int == count)
        #expect(elapsed > 1, "the session outlasted the idle timeout, so the keepalives were needed")
        #expect(serving.stop() == 0)
        let (a, b) = (try Replica.open(at: s), try Replica.open(at: c))
        #expect(try a.digest() == (try b.digest()))
        // The server learned what the client held as it went: its acknowledged vector is complete.
        #expect(try a.acknowledged(by: b.replicaID) == (try b.status().versionVector))
    }

    @Test func oversizedAndMalformedFramesEndOnlyTheirSession() throws {
        let tmp = TempDir("gloss-frames")
        defer { tmp.remove() }
        let (s, c) = try makeReplicas(tmp)
        let server = try Server(dir: s)
        // A length prefix far over the limit: the connection is closed at once.
        let huge = rawConnection(port: server.port, send: [0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3], waitForClose: 5)
        #expect(huge.closed)
        // A well-framed but malformed first message.
        let garbage = rawConnection(port: server.port, send: [0, 0, 0, 5, 9, 9, 9, 9, 9], waitForClose: 5)
        #expect(garbage.closed)
        // A key exchange from another protocol version.
        var kx: [UInt8] = [1] + Array("GLOSSNET".utf8) + [0, 99] + [UInt8](repeating: 7, count: 64)
        kx = [0, 0, 0, UInt8(kx.count)] + kx
        let version = rawConnection(port: server.port, send: kx, waitForClose: 5)
        #expect(version.closed)
        // The server still serves well-behaved peers.
        let sync = try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:\(server.port)", "--json"], cwd: tmp.url)
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.object["applied"] as? Int == 1)
        #expect(server.stop() == 0)
        let log = server.log
        #expect(log.contains("session failed"))
    }

    /// `gloss sync` to a port where another program answers (found by an audit, 2026-12-06: an
    /// HTTP server's "HTTP/1.1 …" read as a frame length of 1,213,486,160, reported as an internal
    /// error about a frame limit): it says the peer does not speak the protocol; exit 1, code
    /// `connectionFailed`.
    @Test func syncToAnotherProgramSaysItDoesNotSpeakTheProtocol() throws {
        let tmp = TempDir("gloss-http-peer")
        defer { tmp.remove() }
        let (_, c) = try makeReplicas(tmp)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
            print(s.getsockname()[1], flush=True)
            conn, _ = s.accept()
            conn.sendall(b"HTTP/1.1 400 Bad Request\\r\\nContent-Length: 0\\r\\n\\r\\n")
            conn.close()
            """]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        // SIGKILL: the test runner's children may inherit an ignored SIGTERM.
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) }; server.waitUntilExit() }
        var line = Data()
        while !line.contains(0x0A) { let d = out.fileHandleForReading.availableData; if d.isEmpty { break }; line += d }
        let port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        let r = try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:\(port)", "--json", "--timeout", "5"], cwd: tmp.url)
        #expect(r.status == 1 && r.object["code"] as? String == "connectionFailed", "\(r.status) \(r.stdout)")
        #expect(r.stderr.contains("does not speak the Gloss sync protocol"), "\(r.stderr)")
    }

    @Test func syncToNothingFailsClearly() throws {
        let tmp = TempDir("gloss-nothing")
        defer { tmp.remove() }
        let (_, c) = try makeReplicas(tmp)
        let r = try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:1"], cwd: tmp.url)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot connect"))
        // A malformed address or a port out of range is a usage error, as any value out of range
        // (found by an audit, 2026-12-06: 65), checked before the replica is opened.
        for address in ["nonsense", "127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:0", "[::1]7420", ""] {
            let bad = try GlossProcess.run(["sync", "--dir", c.path, address, "--json"], cwd: tmp.url)
            #expect(bad.status == 64 && bad.object["code"] as? String == "usage", "\(address): \(bad.status) \(bad.stdout)")
        }
        #expect(try GlossProcess.run(["serve", "--dir", c.path, "--listen", "127.0.0.1:99999"], cwd: tmp.url).status == 64)
        let unknown = try GlossProcess.run(["serve", "--dir", c.path, "--listen", "nonexistent.invalid:7420"], cwd: tmp.url)
        #expect(unknown.status != 0 && unknown.stderr.contains("is not a name or address of this machine") && !unknown.stderr.contains("SocketAddressError"), "\(unknown.stderr)")
        #expect(try GlossProcess.run(["sync", "--dir", c.path, "127.0.0.1:1", "--pull-only", "--push-only"], cwd: tmp.url).status == 64)
    }
}
