import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossSync
import GlossTestSupport
import Testing

/// The hostile corpus (issue "Trust boundary"): ≥ 10,000 malformed bundles derived from a small
/// genuine multi-replica history, imported into one replica that holds a clean base. Whatever the
/// input: no crash, no hang, a clear error or a report, no state change when nothing was applied
/// or parked, nothing unauthenticated stored, no peer acknowledged beyond what is held; and the
/// genuine bundle imported afterwards gives the clean digest and an empty pending table.
///
/// The imports run in a child process (an exit test): a trap in the code under test ends the
/// child, and the parent reports the case that was being imported and the trap message.
///
/// Seed: printed; `GLOSS_HOSTILE_SEED` reproduces. `GLOSS_LARGE=1`: a 50,000-case corpus.
/// `GLOSS_HOSTILE_CASE=N`: only case N of the mixed corpus (with its seed), to replay one failure;
/// `GLOSS_HOSTILE_CASES=N`: a corpus of N cases. The replicas live in /dev/shm when it is there
/// (fsync is not what this tests; `GLOSS_TEST_DISK=1` uses the temporary directory).
@Suite(.serialized, .timeLimit(.minutes(20))) struct HostileCorpusTests {
    static var corpusSize: Int {
        ProcessInfo.processInfo.environment["GLOSS_HOSTILE_CASES"].flatMap(Int.init) ?? (glossLarge ? 50_000 : 10_000)
    }

    /// A child always exits with one of these codes, so that the exit test "fails" (`.failure`)
    /// and hands back its output whatever happened: `#expect(processExitsWith:)` returns no result
    /// when the condition is not met, and a trap must be reported with the child's last lines.
    static let passed: Int32 = 70, failed: Int32 = 71

    /// Reports a child's failures (lines "FAIL: …") and, when it died, the last lines it wrote
    /// (the case being imported and the trap message).
    static func inChild(_ label: String, _ result: ExitTest.Result?, breadcrumbs key: String) {
        let crumb = takeBreadcrumb(key)
        guard let result else { Issue.record("[\(label)] the child process exited 0 without reaching its end"); return }
        if result.exitStatus == .exitCode(passed) {
            for line in String(decoding: result.standardErrorContent, as: UTF8.self).split(separator: "\n") where line.hasPrefix("[") { print(line) }
            return
        }
        let err = String(decoding: result.standardErrorContent, as: UTF8.self)
        let out = String(decoding: result.standardOutputContent, as: UTF8.self)
        for line in (out + "\n" + err).split(separator: "\n") where line.hasPrefix("[") || line.hasPrefix("SUMMARY") {
            print(line)
        }
        let fails = err.split(separator: "\n").filter { $0.hasPrefix("FAIL: ") }
        for f in fails.prefix(60) { Issue.record(Comment(rawValue: String(f))) }
        if result.exitStatus != .exitCode(failed) || fails.isEmpty {
            // The last case started (its breadcrumb), and the trap message (stack frames left out).
            let lines = err.split(separator: "\n").filter { !$0.contains("<unavailable>") && !$0.contains(" at /") && !$0.hasPrefix("FAIL: ") }
            let tail = ([crumb ?? "(no breadcrumb)"] + lines.suffix(7).map(String.init)).joined(separator: "\n")
            Issue.record(Comment(rawValue: "[\(label)] the child process ended with \(result.exitStatus) — a crash in the code under test. Its last lines:\n\(tail)"))
        }
    }

    @Test func theTestWriterEncodesTheGenuineBundleByteForByte() throws {
        let world = try HostileWorld(seed: 5, events: 40)
        #expect(world.genuineRaw.encoded(signedBy: world.sourceKey) == world.genuineBytes,
                "RawBundle must reproduce the exporter's bytes, or the corpus is not what it claims")
        #expect(world.genuine.count >= 15 && world.baseEvents.count >= 15)
        #expect(world.genuine.contains { ($0.payload?.count ?? 0) > 0 })
        // Re-encoding each genuine envelope field by field gives its exact bytes too.
        for e in world.genuine {
            #expect(RawEnvelope(e.envelope).encoded(signedBy: world.key(e.envelope.replica)) == e.envelope.bytes)
        }
    }

    /// The whole mixed corpus into ONE replica.
    @Test func aMixedCorpusOfTenThousandMalformedBundlesIntoOneReplica() async throws {
        let seed = hostileSeed("hostile-corpus")
        let size = Self.corpusSize
        let only = ProcessInfo.processInfo.environment["GLOSS_HOSTILE_CASE"].flatMap(Int.init)
        let crumbs = "mixed-\(seed)"
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent, \.standardOutputContent]) { [seed = seed as UInt64, size = size as Int, only = only as Int?, crumbs = crumbs as String] in
            breadcrumbKey = crumbs
            let failures = try HostileCorpusTests.runMixedCorpus(seed: seed, size: size, only: only)
            exit(failures == 0 ? HostileCorpusTests.passed : HostileCorpusTests.failed)
        }
        Self.inChild("mixed corpus, seed \(seed)", result, breadcrumbs: crumbs)
    }

    static func runMixedCorpus(seed: UInt64, size: Int, only: Int?) throws -> Int {
        let start = Date()
        let world = try HostileWorld(seed: seed, events: 50)
        let corpus = HostileCorpus(world: world)
        let target = try world.makeTarget("target")
        let clean = try world.makeTarget("clean")
        let cleanReport = try clean.importBundle(at: world.genuineBundle)
        precondition(cleanReport.clean)
        let cleanDigest = try clean.digest(), cleanVector = try clean.vector
        trace("[hostile-corpus] seed \(seed): \(world.baseEvents.count) base events, \(world.genuine.count) genuine events above the base (\(world.genuineBytes.count) bytes), \(size) cases")
        let oracle = HostileOracle(target)
        let dir = world.sim.tmp.sub("corpus")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var outcomes: [String: [String: Int]] = [:]
        let setup = Date().timeIntervalSince(start)
        let cases = only.map { [$0] } ?? Array(0..<size)
        for i in cases {
            let c = corpus.make(index: i)
            let url = dir.appendingPathComponent("case-\(i).glossb")
            try Data(c.bytes).write(to: url)
            oracle.context = "case \(i) [\(c.kind)] \(c.detail)"
            breadcrumb("> \(oracle.context)")
            let report = try oracle.importHostile(url, checkRows: i % 10 == 0 || only != nil || c.headerViolation, headerViolation: c.headerViolation)
            let outcome = report.map { r in r.summary.applied > 0 ? "applied" : r.summary.pending > 0 ? "parked" : r.error != nil ? "error" : r.clean ? "clean-noop" : "rejected" } ?? "threw"
            outcomes[c.kind, default: [:]][outcome, default: 0] += 1
            try? FileManager.default.removeItem(at: url)
        }
        let importing = Date().timeIntervalSince(start) - setup
        try oracle.checkNewRows()
        // Heal: the genuine bundle (and the base again) bring the clean state.
        oracle.context = "after healing with the genuine bundle"
        let healed = try target.importBundle(at: world.genuineBundle)
        _ = try target.importBundle(at: world.baseBundle)
        let after = try oracle.snapshot()
        oracle.check(after.vector == cleanVector, "vector differs from the clean replica's (\(after.vector.eventCount) vs \(cleanVector.eventCount) events): heal report \(String(describing: healed).prefix(400))")
        oracle.check(after.digest == cleanDigest, "digest \(after.digest.prefix(12)) differs from the clean replica's \(cleanDigest.prefix(12))")
        oracle.check(try target.digest(recompute: true) == cleanDigest, "recomputed digest differs from the clean replica's")
        oracle.check(after.pending == 0, "\(after.pending) events still pending after healing")
        let problems = try target.status().feedProblems
        oracle.check(problems.isEmpty, "feeds not ok after healing: \(problems.map { "\($0.replica.short) \($0.state): \($0.reason)" })")
        let payloadsMissing = try target.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE payload IS NULL") ?? 0 }
        oracle.check(payloadsMissing == 0, "\(payloadsMissing) events lack their payload after the genuine copy arrived")
        try oracle.checkAcknowledged()
        trace("[hostile-corpus] quarantine holds \(after.quarantine) rows at the end; peer_acks \(after.peerAcks) rows")
        for (k, v) in outcomes.sorted(by: { $0.key < $1.key }) { trace("[hostile-corpus] \(k): \(v.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))") }
        let perImport = importing / Double(cases.count) * 1000
        trace("[hostile-corpus] setup \(String(format: "%.1f", setup)) s; \(cases.count) imports in \(String(format: "%.1f", importing)) s (\(String(format: "%.2f", perImport)) ms per case: \(String(format: "%.2f", oracle.importSeconds / Double(cases.count) * 1000)) ms in importBundle, \(String(format: "%.2f", oracle.checkSeconds / Double(cases.count) * 1000)) ms in the oracle's checks)")
        trace("SUMMARY \(oracle.failures.count) failures")
        return oracle.failures.count
    }

    /// Each kind alone, into its own replica with its own heal check: says which kinds break what.
    @Test(arguments: HostileKind.allCases)
    func eachKindAloneLeavesNoTraceAfterHealing(_ kind: HostileKind) async throws {
        let seed = hostileSeed("hostile-\(kind.rawValue)")
        let count = glossLarge ? 400 : 40
        let crumbs = "kind-\(kind.rawValue)-\(seed)"
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent, \.standardOutputContent]) { [seed = seed as UInt64, kind = kind as HostileKind, count = count as Int, crumbs = crumbs as String] in
            breadcrumbKey = crumbs
            let world = try HostileWorld(seed: seed, events: 40)
            let corpus = HostileCorpus(world: world)
            let target = try world.makeTarget("target")
            let clean = try world.makeTarget("clean")
            _ = try clean.importBundle(at: world.genuineBundle)
            let oracle = HostileOracle(target)
            let K = HostileKind.allCases.count
            let me = HostileKind.allCases.firstIndex(of: kind)!
            for j in 0..<count {
                let i = j * K + me   // the same indices as in the mixed corpus
                let c = corpus.make(kind, index: i)
                let url = world.sim.tmp.sub("k-\(i).glossb")
                try Data(c.bytes).write(to: url)
                oracle.context = "\(kind.rawValue) case \(i): \(c.detail)"
                breadcrumb("> \(oracle.context)")
                try oracle.importHostile(url, headerViolation: c.headerViolation)
            }
            oracle.context = "\(kind.rawValue): after healing"
            _ = try target.importBundle(at: world.genuineBundle)
            let s = try oracle.snapshot()
            oracle.check(s.vector == (try clean.vector), "vector differs from the clean replica's")
            oracle.check(s.digest == (try clean.digest()), "digest differs from the clean replica's")
            oracle.check(s.pending == 0, "\(s.pending) events still pending after healing")
            let problems = try target.status().feedProblems
            oracle.check(problems.isEmpty, "feeds not ok after healing: \(problems.map { "\($0.state): \($0.reason)" })")
            trace("[hostile-\(kind.rawValue)] quarantine \(s.quarantine), peer_acks \(s.peerAcks)")
            trace("SUMMARY \(oracle.failures.count) failures")
            exit(oracle.failures.isEmpty ? HostileCorpusTests.passed : HostileCorpusTests.failed)
        }
        Self.inChild("kind \(kind.rawValue), seed \(seed)", result, breadcrumbs: crumbs)
    }

    /// Validly signed lies (huge seqs, extreme times, deps on unknown feeds or huge seqs), forks and
    /// floods: the replica may keep them (they are authenticated), but nothing traps, pending stays
    /// bounded, nothing unauthenticated is stored, acknowledgements stay within the vector, the
    /// replica can still write, and the genuine bundle still brings every feed that is not forked.
    @Test(arguments: StatefulKind.allCases)
    func validlySignedLiesForksAndFloodsKeepTheReplicaSound(_ kind: StatefulKind) async throws {
        let seed = hostileSeed("hostile-\(kind.rawValue)")
        let count = kind == .flood ? (glossLarge ? 12 : 3) : (glossLarge ? 200 : 30)
        let floodSize = glossLarge ? 12_000 : 3_000
        let crumbs = "stateful-\(kind.rawValue)-\(seed)"
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent, \.standardOutputContent]) { [seed = seed as UInt64, kind = kind as StatefulKind, count = count as Int, floodSize = floodSize as Int, crumbs = crumbs as String] in
            breadcrumbKey = crumbs
            let world = try HostileWorld(seed: seed, events: 40)
            let corpus = HostileCorpus(world: world)
            let target = try world.makeTarget("target")
            let oracle = HostileOracle(target)
            for i in 0..<count {
                let c = corpus.makeStateful(kind, index: i, floodSize: floodSize)
                let url = world.sim.tmp.sub("s-\(i).glossb")
                try Data(c.bytes).write(to: url)
                oracle.context = "\(kind.rawValue) case \(i): \(c.detail)"
                breadcrumb("> \(oracle.context)")
                let t0 = Date()
                let report = try oracle.importHostile(url)
                let took = Date().timeIntervalSince(t0)
                oracle.check(took < 60, "one import took \(Int(took)) s")
                if kind == .flood, let r = report {
                    let perFeed = try target.store.read { try Int.fetchOne($0, sql: "SELECT max(n) FROM (SELECT count(*) AS n FROM pending GROUP BY replica)") ?? 0 }
                    trace("[hostile-flood] case \(i): applied \(r.summary.applied), pending \(r.summary.pending), rejected \(r.summary.rejected); pending table \(try oracle.snapshot().pending), largest per feed \(perFeed)")
                }
            }
            oracle.context = "\(kind.rawValue): after healing"
            _ = try target.importBundle(at: world.genuineBundle)
            let v = try target.vector
            let frozen = Set(try target.store.read { db in try Data.fetchAll(db, sql: "SELECT replica FROM feeds WHERE state = 'forked'") }.compactMap { Bytes32(exactly: Array($0)).map(ReplicaID.init) })
            for h in world.heads where !frozen.contains(h.replica) {
                oracle.check(v[h.replica] >= h.seq, "genuine feed \(h.replica.short) holds \(v[h.replica]) of \(h.seq) after healing")
            }
            try oracle.checkNewRows()
            try oracle.checkAcknowledged()
            // The replica can still write, and its new event is later than everything it holds.
            oracle.context = "\(kind.rawValue): a local write after the lies"
            do {
                let article = try target.store.read { try String.fetchOne($0, sql: "SELECT article FROM articles LIMIT 1") }
                if let article {
                    let e = try target.addNote(on: article, body: "still writing")
                    let maxTime = try target.store.read { db in try Int64.fetchAll(db, sql: "SELECT time FROM events").map { UInt64(bitPattern: $0) }.max() ?? 0 }
                    if let ev = e.event {
                        let t = try target.store.read { db in try Int64.fetchOne(db, sql: "SELECT time FROM events WHERE id = ?", arguments: [Data(ev.raw.bytes)]) }.map { UInt64(bitPattern: $0) } ?? 0
                        if t < maxTime { trace("[hostile-\(kind.rawValue)] note: a local event written after the lies has time \(t), below the largest held time \(maxTime)") }
                    }
                }
            } catch {
                trace("[hostile-\(kind.rawValue)] a local write after the lies failed: \(error)")
            }
            let s = try oracle.snapshot()
            trace("[hostile-\(kind.rawValue)] end: \(s)")
            trace("SUMMARY \(oracle.failures.count) failures")
            exit(oracle.failures.isEmpty ? HostileCorpusTests.passed : HostileCorpusTests.failed)
        }
        Self.inChild("stateful \(kind.rawValue), seed \(seed)", result, breadcrumbs: crumbs)
    }

    /// Forks are handled identically whatever the arrival order: the same digest, vector, forks
    /// evidence and frozen seq on two replicas that saw the two branches in opposite orders.
    @Test func aForkIsHandledIdenticallyInEitherOrder() async throws {
        let seed = hostileSeed("hostile-fork-order")
        let crumbs = "fork-order-\(seed)"
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent, \.standardOutputContent]) { [seed = seed as UInt64, crumbs = crumbs as String] in
            breadcrumbKey = crumbs
            let world = try HostileWorld(seed: seed, events: 40)
            let corpus = HostileCorpus(world: world)
            var failures = 0
            for i in 0..<6 {
                let c = corpus.makeStateful(.forks, index: i)
                let fork = world.sim.tmp.sub("fork-\(i).glossb")
                try Data(c.bytes).write(to: fork)
                let (x, y) = (try world.makeTarget("x\(i)"), try world.makeTarget("y\(i)"))
                breadcrumb("> fork case \(i): \(c.detail)")
                _ = try? x.importBundle(at: world.genuineBundle); _ = try? x.importBundle(at: fork)
                _ = try? y.importBundle(at: fork); _ = try? y.importBundle(at: world.genuineBundle)
                func state(_ r: Replica) throws -> String {
                    let digest = try r.digest()
                    return try r.store.read { db in
                        let forks = try Row.fetchAll(db, sql: "SELECT hex(id), hex(replica), seq FROM forks ORDER BY id").map { "\($0[0] as String)/\($0[2] as Int64)" }
                        let feeds = try Row.fetchAll(db, sql: "SELECT hex(replica), head_seq, state, fork_seq FROM feeds WHERE head_seq > 0 OR fork_seq IS NOT NULL ORDER BY replica").map { "\($0[0] as String):\($0[1] as Int64):\($0[2] as String):\(($0[3] as Int64?) ?? -1)" }
                        let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM pending") ?? 0
                        return "forks \(forks) feeds \(feeds) pending \(pending) digest \(digest)"
                    }
                }
                let (sx, sy) = (try state(x), try state(y))
                if sx != sy { failures += 1; trace("FAIL: fork case \(i) (\(c.detail)) differs by arrival order — genuine first: \(sx) — fork first: \(sy)") }
                if !sx.contains("forked") { failures += 1; trace("FAIL: fork case \(i) (\(c.detail)): the feed is not frozen when the genuine copy came first: \(sx)") }
            }
            trace("SUMMARY \(failures) failures")
            exit(failures == 0 ? HostileCorpusTests.passed : HostileCorpusTests.failed)
        }
        Self.inChild("fork order, seed \(seed)", result, breadcrumbs: crumbs)
    }
}
