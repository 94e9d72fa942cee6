import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossSync
import GlossTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `gloss bundle import` killed with SIGKILL anywhere in an import whose windows fork fresh keys
/// (so the projections are marked stale between windows and rebuilt once at the end: Protocol/03
/// §Deferred rebuilds): the replica opens, its projections are a replay of what its log holds, and
/// importing the bundle again gives the digest of an import never interrupted.
@Suite(.serialized, .timeLimit(.minutes(10))) struct CrashDuringImportTests {
    static let on = String(repeating: "a", count: 64)

    /// A signed event of `key`'s feed carrying a `NoteAdded`.
    static func note(_ key: ReplicaKey, seq: UInt64, prev: EventID, time: UInt64, _ body: String) -> (envelope: [UInt8], payload: [UInt8]) {
        let payload = NoteAdded(on: on, body: body).encoded
        var raw = RawEnvelope(replica: key.replicaID, seq: seq, prev: prev, time: time, payload: payload)
        raw.author = Array("honest".utf8)
        return (raw.encoded(signedBy: key), payload)
    }

    /// `honest` notes of one feed, with a fresh key's seq 1 every 1,000 events and, 6,000 events
    /// later (a later window: `gloss bundle import` applies 5,000 at a time), another seq 1 of that key.
    static func writeBundle(to url: URL, honest: Int) throws {
        let key = ReplicaKey()
        var records: [(envelope: [UInt8], payload: [UInt8])] = []
        var later: [Int: [(envelope: [UInt8], payload: [UInt8])]] = [:]
        var prev = EventID.zero
        let t0 = HybridTime(milliseconds: 1_624_700_000_000).raw
        for i in 1...honest {
            let e = note(key, seq: UInt64(i), prev: prev, time: t0 + UInt64(i) * 1000, "honest \(i)")
            records.append(e)
            prev = eventID(of: e.envelope)
            if i % 1000 == 0 {
                let forker = ReplicaKey()
                records.append(note(forker, seq: 1, prev: .zero, time: t0 + UInt64(i) * 1000 + 1, "branch a \(i)"))
                later[i + 6000, default: []].append(note(forker, seq: 1, prev: .zero, time: t0 + UInt64(i) * 1000 + 1, "branch b \(i)"))
            }
            records += later.removeValue(forKey: i) ?? []
        }
        records += later.sorted { $0.key < $1.key }.flatMap(\.value)
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        let sender = ReplicaKey()
        var w = try BundleWriter(handle: handle, header: BundleHeader(sender: sender.replicaID, senderVector: VersionVector(),
                                                                      baseVector: VersionVector(), eventCount: UInt64(records.count)), key: sender)
        for r in records { try w.append(envelope: r.envelope, payload: r.payload) }
        try w.finish()
    }

    /// Starts `gloss bundle import`, kills it with SIGKILL after `delay`; true when it was still running.
    static func importKilled(after delay: TimeInterval, dir: URL, bundle: URL) throws -> Bool {
        let p = Process()
        p.executableURL = GlossProcess.binary
        p.arguments = ["bundle", "import", "--dir", dir.path, bundle.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: delay)
        let running = p.isRunning
        if running { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return running && p.terminationReason == .uncaughtSignal
    }

    @Test func anImportKilledAnywhereLeavesAReplayAndFinishesOnTheNextImport() throws {
        let tmp = TempDir("gloss-crash-import")
        defer { tmp.remove() }
        let bundle = tmp.sub("forking.glossb")
        try Self.writeBundle(to: bundle, honest: 14_000)
        // The reference: imported without interruption.
        let refDir = tmp.sub("reference")
        #expect(try GlossProcess.run(["init", "--analyst", "ref", "--dir", refDir.path], cwd: tmp.url).status == 0)
        let started = Date()
        _ = try GlossProcess.run(["bundle", "import", "--dir", refDir.path, bundle.path], cwd: tmp.url)
        let full = Date().timeIntervalSince(started)
        let reference = try Replica.open(at: refDir)
        let expected = try reference.digest()
        #expect(expected == (try reference.digest(recompute: true)))
        #expect(try reference.status().feedProblems.filter { $0.state == .forked }.count == 14)
        try reference.close()

        let seed = testSeed("crash-import")
        var rng = SplitMix64(seed: seed)
        print("[crash-import] seed \(seed); an uninterrupted import takes \(String(format: "%.1f", full)) s")
        var killed = 0, staleAtKill = 0, rounds = 0
        // Kills spread over the import (with jitter), until one has landed after a window marked the
        // projections stale (the forks' second halves come from the second window on), at most 8.
        for round in 0..<8 where round < 4 || staleAtKill == 0 {
            rounds += 1
            let dir = tmp.sub("killed-\(round)")
            #expect(try GlossProcess.run(["init", "--analyst", "k", "--dir", dir.path], cwd: tmp.url).status == 0)
            let delay = full * (Double(round % 4) + Double.random(in: 0.2...0.8, using: &rng)) / 4
            if try Self.importKilled(after: delay, dir: dir, bundle: bundle) { killed += 1 }
            // What the kill left, read before anything opens the replica.
            let left = try sideConnection(dir.appendingPathComponent(".gloss/replica.db").path)
            if try left.read({ try Bool.fetchOne($0, sql: "SELECT 1 FROM meta WHERE key = 'projections_stale'") }) == true { staleAtKill += 1 }
            try left.close()
            // The replica opens (rebuilding a stale mark) and its projections are a replay of its log.
            let r = try Replica.open(at: dir)
            #expect(try !r.store.projectionsAreStale(), "seed \(seed) round \(round), killed after \(delay) s")
            #expect(try r.digest() == (try r.digest(recompute: true)), "seed \(seed) round \(round)")
            let held = try r.status().events
            _ = try r.rebuild()
            #expect(try r.digest() == (try r.digest(recompute: true)) && r.status().events == held)
            try r.close()
            // Importing again finishes the job: the uninterrupted import's digest.
            _ = try GlossProcess.run(["bundle", "import", "--dir", dir.path, bundle.path], cwd: tmp.url)
            let again = try Replica.open(at: dir)
            #expect(try again.digest() == expected, "seed \(seed) round \(round), killed after \(delay) s")
            #expect(try GlossProcess.run(["verify", "--dir", dir.path], cwd: tmp.url).status == 9, "the log verifies; fork evidence is held")
            try again.close()
        }
        print("[crash-import] \(killed) of \(rounds) imports killed while running, \(staleAtKill) with the projections marked stale")
        #expect(killed >= rounds / 2, "most kills land while the import runs")
        #expect(staleAtKill >= 1, "a kill landed between a window that marked the projections stale and the final rebuild")
    }
}
