import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossSync
import GlossTestSupport
import Testing

@Suite(.timeLimit(.minutes(5))) struct BundleTests {
    func export(_ r: Replica, _ sim: Simulation, base: VersionVector = VersionVector(), name: String) throws -> URL {
        let url = sim.tmp.sub(name)
        try r.exportBundle(to: url, base: base)
        return url
    }

    @Test func replicasExchangingBundlesInRandomOrdersConverge() throws {
        let sim = try Simulation(replicas: 4, seed: testSeed("bundle-convergence"), label: "bundles")
        var files: [URL] = []
        for step in 0..<160 {
            let i = Int.random(in: 0..<4, using: &sim.rng)
            switch Int.random(in: 0..<10, using: &sim.rng) {
            case 0...5: try sim.randomOperation(on: i)
            case 6, 7:
                // Export against what a random peer acknowledged, or everything.
                let peer = sim.replicas[(i + 1 + Int.random(in: 0..<3, using: &sim.rng)) % 4]
                let base = Bool.random(using: &sim.rng) ? try sim.replicas[i].acknowledged(by: peer.replicaID) : VersionVector()
                files.append(try export(sim.replicas[i], sim, base: base, name: "b\(step).glossb"))
            default:
                // Import a random earlier file (duplicates happen), sometimes cut short.
                guard let f = files.randomElement(using: &sim.rng) else { continue }
                var target = f
                if Int.random(in: 0..<4, using: &sim.rng) == 0 {
                    let data = try Data(contentsOf: f)
                    target = sim.tmp.sub("cut\(step).glossb")
                    try data.prefix(Int.random(in: 0..<data.count, using: &sim.rng)).write(to: target)
                }
                do { _ = try sim.replicas[i].importBundle(at: target) } catch let e as GlossError where e.code == .badInput {
                    // A cut inside the header makes the file unusable: nothing applied, a clear error.
                    #expect(e.message.contains("not a usable Gloss bundle"))
                }
            }
        }
        // Final round: everyone exports everything, everyone imports everything (twice).
        let finals = try sim.replicas.enumerated().map { try export($0.element, sim, name: "final\($0.offset).glossb") }
        for _ in 0..<2 { for r in sim.replicas { for f in finals.shuffled(using: &sim.rng) { _ = try r.importBundle(at: f) } } }
        let reference = try sim.replicas[0].status()
        #expect(reference.pending == 0)
        for r in sim.replicas {
            let s = try r.status()
            #expect(s.versionVector == reference.versionVector)
            #expect(s.digest == reference.digest)
            #expect(s.quarantined == 0)
            #expect(try r.digest(recompute: true) == reference.digest)
        }
    }

    /// As above, with a copy of replica 0's folder writing its own branch of 0's feed: bundles
    /// alone — no sync session — bring every replica to the same state, the fork frozen alike
    /// everywhere. The copy's bundles travel only during the random phase, so some replicas can
    /// hear of its branch only through the fork evidence of others' bundles (format 2). Seeded.
    @Test(arguments: 0..<6) func replicasExchangingBundlesWithAForkConverge(_ run: Int) throws {
        let seed = testSeed("bundle-fork-convergence") &+ UInt64(run)
        let sim = try Simulation(replicas: 4, seed: seed, label: "bundles-fork")
        for _ in 0..<4 { try sim.randomOperation(on: 0) }
        let twin = try sim.twin(of: 0)
        let on = try sim.anArticle(twin)
        var files: [URL] = []
        for step in 0..<120 {
            let i = Int.random(in: 0..<4, using: &sim.rng)
            switch Int.random(in: 0..<12, using: &sim.rng) {
            case 0...4:
                // Replica 0 stops writing once it learns that its own feed forked.
                do { try sim.randomOperation(on: i) } catch where i == 0 && "\(error)".contains("own feed is forked") {}
            case 5:
                guard let on else { continue }
                _ = try twin.addNote(on: on, body: "the twin's note \(step)")
                if Bool.random(using: &sim.rng) { files.append(try export(twin, sim, name: "twin\(step).glossb")) }
            case 6, 7:
                let base = Bool.random(using: &sim.rng) ? try sim.replicas[(i + 1) % 4].vector : VersionVector()
                files.append(try export(sim.replicas[i], sim, base: base, name: "b\(step).glossb"))
            default:
                guard let f = files.randomElement(using: &sim.rng) else { continue }
                _ = try sim.replicas[i].importBundle(at: f)
            }
        }
        for _ in 0..<2 {
            let finals = try sim.replicas.enumerated().map { try export($0.element, sim, name: "final-\(UUID().uuidString.prefix(6))-\($0.offset).glossb") }
            for r in sim.replicas { for f in finals.shuffled(using: &sim.rng) { _ = try r.importBundle(at: f) } }
        }
        let reference = try sim.replicas[0].status()
        let frozen = { (r: Replica) in try r.store.read { try Int.fetchAll($0, sql: "SELECT fork_seq FROM feeds WHERE fork_seq IS NOT NULL ORDER BY fork_seq") } }
        for r in sim.replicas {
            let s = try r.status()
            #expect(s.versionVector == reference.versionVector, "seed \(seed): \(r.analyst)")
            #expect(s.digest == reference.digest, "seed \(seed): \(r.analyst)")
            #expect(try frozen(r) == frozen(sim.replicas[0]), "seed \(seed): \(r.analyst) frozen alike")
            #expect(try r.digest(recompute: true) == reference.digest)
        }
    }

    @Test func importingABundleTwiceChangesNothing() throws {
        let sim = try Simulation(replicas: 2, seed: 11, label: "twice")
        for _ in 0..<30 { try sim.randomOperation(on: 0) }
        let f = try export(sim.replicas[0], sim, name: "all.glossb")
        let first = try sim.replicas[1].importBundle(at: f)
        #expect(first.summary.applied == 30 && first.clean)
        let digest = try sim.replicas[1].digest()
        let second = try sim.replicas[1].importBundle(at: f)
        #expect(second.summary.applied == 0)
        #expect(second.summary.duplicate == 30)
        #expect(second.clean)
        #expect(try sim.replicas[1].digest() == digest)
        #expect(try sim.replicas[1].status().events == 30)
    }

    @Test func exportForAVectorHoldsNothingTheVectorCovers() throws {
        let sim = try Simulation(replicas: 2, seed: 12, label: "for")
        for _ in 0..<10 { try sim.randomOperation(on: 0) }
        try sim.sync(0, 1)
        for _ in 0..<5 { try sim.randomOperation(on: 0) }
        for _ in 0..<3 { try sim.randomOperation(on: 1) }
        let v1 = try sim.replicas[1].vector
        let f = try export(sim.replicas[0], sim, base: v1, name: "for.glossb")
        let reader = BundleReader(handle: try FileHandle(forReadingFrom: f))
        let header = try reader.readHeader()
        #expect(header.eventCount == 5)
        #expect(header.baseVector == v1)
        var n = 0
        while let e = try reader.next() {
            #expect(!v1.contains(replica: e.envelope.replica, seq: e.envelope.seq), "the bundle holds an event the vector covers")
            n += 1
        }
        #expect(n == 5 && reader.checksumOK == true && !reader.truncated)
    }

    @Test func peerExportAfterALostBundleResendsIt() throws {
        let sim = try Simulation(replicas: 2, seed: 13, label: "lost")
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        for _ in 0..<4 { try sim.randomOperation(on: 0) }
        // b tells a what it holds (a bundle from b), a exports for b: 4 events. The file is lost.
        _ = try a.importBundle(at: try export(b, sim, name: "hello-b.glossb"))
        let lost = try export(a, sim, base: try a.acknowledged(by: b.replicaID), name: "lost.glossb")
        #expect(try BundleReader(handle: FileHandle(forReadingFrom: lost)).readHeader().eventCount == 4)
        try sim.randomOperation(on: 0)
        // Nothing was acknowledged, so the next export for b holds all 5.
        let again = try export(a, sim, base: try a.acknowledged(by: b.replicaID), name: "again.glossb")
        #expect(try BundleReader(handle: FileHandle(forReadingFrom: again)).readHeader().eventCount == 5)
        let rep = try b.importBundle(at: again)
        #expect(rep.summary.applied == 5)
        // b's bundle back acknowledges them: a's next export for b is empty.
        _ = try a.importBundle(at: try export(b, sim, name: "ack-b.glossb"))
        #expect(try a.vector.eventsMissing(from: try a.acknowledged(by: b.replicaID)) == 0)
    }

    @Test func aMissingDependencyWaitsInPendingUntilItArrives() throws {
        let sim = try Simulation(replicas: 3, seed: 14, label: "pending")
        let (a, b, c) = (sim.replicas[0], sim.replicas[1], sim.replicas[2])
        for _ in 0..<3 { try sim.randomOperation(on: 0) }
        try sim.sync(0, 1)
        for _ in 0..<3 { try sim.randomOperation(on: 1) }   // b's events depend on a's
        // c receives b's own events only: they wait for a's.
        let bOnly = try export(b, sim, base: try a.vector, name: "b-only.glossb")
        let first = try c.importBundle(at: bOnly)
        #expect(first.summary.pending == 3 && first.summary.applied == 0 && first.summary.rejected == 0)
        #expect(try c.status().pending == 3)
        let fromA = try c.importBundle(at: try export(a, sim, name: "a.glossb"))
        #expect(fromA.summary.applied == 6)          // a's 3, then b's 3 from pending
        #expect(fromA.summary.appliedFromPending == 3)
        #expect(try c.status().pending == 0)
        #expect(try c.digest() == (try b.digest()))
    }

    @Test func aTamperedEventIsRejectedWhileOtherFeedsApply() throws {
        let sim = try Simulation(replicas: 3, seed: 15, label: "tamper")
        let (a, b, c) = (sim.replicas[0], sim.replicas[1], sim.replicas[2])
        for _ in 0..<4 { try sim.randomOperation(on: 0) }
        for _ in 0..<4 { try sim.randomOperation(on: 1) }
        try sim.sync(1, 0)   // a now holds both feeds
        // A bundle from a with b's third event altered (one byte of its author, so its signature fails).
        let url = sim.tmp.sub("tampered.glossb")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        let events = try sim.missing(from: a, to: c)
        var w = try BundleWriter(handle: handle, header: BundleHeader(sender: a.replicaID, senderVector: try a.vector, baseVector: VersionVector(), eventCount: UInt64(events.count)), key: a.key)
        for e in events {
            var bytes = e.envelope.bytes
            if e.envelope.replica == b.replicaID && e.envelope.seq == 3 { bytes[117 + 40 * e.envelope.depsDelta.count + 1] ^= 0x20 }
            try w.append(envelope: bytes, payload: e.payload)
        }
        try w.finish(); try handle.close()
        let rep = try c.importBundle(at: url)
        #expect(rep.summary.rejected == 1)
        #expect(rep.summary.rejections.first?.reason.contains("signature") == true)
        #expect(rep.summary.pending == 1)              // b's fourth waits behind the gap
        let s = try c.status()
        #expect(s.versionVector[a.replicaID] == 4, "the other feed applied")
        #expect(s.versionVector[b.replicaID] == 2, "the tampered feed stalls before the bad event")
        // Unproven bytes are never stored: no quarantine row, no stalled feed, only the report.
        #expect(s.feedProblems.isEmpty)
        #expect(try c.quarantined().isEmpty)
        #expect(s.pending == 1)
        // The genuine event arrives later: the stall clears and pending drains.
        let fix = try c.importBundle(at: try export(b, sim, name: "b.glossb"))
        #expect(fix.summary.applied >= 2)
        let after = try c.status()
        #expect(after.versionVector[b.replicaID] == 4)
        #expect(after.pending == 0)
        #expect(after.feedProblems.isEmpty, "\(after.feedProblems) \(fix.summary)")
    }

    @Test func aForkIsDetectedAndFrozenTheSameWayInEitherOrder() throws {
        let sim = try Simulation(replicas: 3, seed: 16, label: "fork")
        let (a, x, y) = (sim.replicas[0], sim.replicas[1], sim.replicas[2])
        for _ in 0..<3 { try sim.randomOperation(on: 0) }
        // A copied replica folder: the same key writes a different seq 4 and 5.
        let twin = try sim.twin(of: 0)
        for _ in 0..<2 { try sim.randomOperation(on: 0) }
        _ = try twin.addNote(on: try #require(try sim.anArticle(twin)), body: "the twin's branch")
        let branchA = try export(a, sim, name: "branch-a.glossb")
        let branchB = try export(twin, sim, name: "branch-b.glossb")
        _ = try x.importBundle(at: branchA); let rx = try x.importBundle(at: branchB)
        _ = try y.importBundle(at: branchB); let ry = try y.importBundle(at: branchA)
        #expect(rx.summary.forks >= 1 && ry.summary.forks >= 1)
        let (sx, sy) = (try x.status(), try y.status())
        #expect(sx.feedProblems.first?.state == .forked)
        #expect(sy.feedProblems.first?.state == .forked)
        #expect(sx.digest == sy.digest, "the feed is frozen identically on both")
        #expect(try x.digest(recompute: true) == sx.digest)
        let frozen = try x.store.read { try Int.fetchOne($0, sql: "SELECT fork_seq FROM frozen_feeds") }
        #expect(frozen == 4)
        // Evidence is kept, and verify reports it apart from faults of the log.
        let vx = try x.verify()
        #expect(vx.faults.isEmpty && vx.forks.first?.seq == 4 && vx.forks.first?.evidence == 3, "\(vx)")  // a's 4 and 5, the twin's 4
        // Later events of the frozen feed are not applied.
        try sim.randomOperation(on: 0)
        let later = try x.importBundle(at: try export(a, sim, name: "later.glossb"))
        #expect(later.summary.applied == 0)
    }

    /// A replica that found a fork hands it on in its bundles (format 2: the events at the fork
    /// seq after the records, Protocol/05 §Fork evidence): a replica holding one branch — or the
    /// other, or none — that hears of the fork only through bundles freezes the feed at the same
    /// seq and shows what the finder shows. (Bundles carried no evidence: such a replica kept
    /// showing its branch, and its digest differed for good — an audit, 2026-12-06.)
    @Test func forkEvidenceTravelsInBundlesToReplicasHoldingEitherBranchOrNone() throws {
        let sim = try Simulation(replicas: 5, seed: 18, label: "fork-evidence")
        let (a, finder, holdsA, holdsTwin, fresh) = (sim.replicas[0], sim.replicas[1], sim.replicas[2], sim.replicas[3], sim.replicas[4])
        for _ in 0..<3 { try sim.randomOperation(on: 0) }
        let twin = try sim.twin(of: 0)
        for _ in 0..<2 { try sim.randomOperation(on: 0) }
        _ = try twin.addNote(on: try #require(try sim.anArticle(twin)), body: "the twin's branch")
        let branchA = try export(a, sim, name: "branch-a.glossb")
        let branchB = try export(twin, sim, name: "branch-b.glossb")
        _ = try finder.importBundle(at: branchA); _ = try finder.importBundle(at: branchB)
        _ = try holdsA.importBundle(at: branchA)
        _ = try holdsTwin.importBundle(at: branchB)
        // The finder's bundle: its events (a's feed up to seq 3, its head), then the evidence.
        let fromFinder = try export(finder, sim, name: "finder.glossb")
        let handle = try FileHandle(forReadingFrom: fromFinder)
        defer { try? handle.close() }
        let reader = BundleReader(handle: handle)
        let header = try reader.readHeader()
        #expect(header.format == 2 && header.senderVector[a.replicaID] == 3)
        var evidence: [SignedEvent] = []
        var records: UInt64 = 0
        while let e = try reader.next() { records += 1; if records > header.eventCount { evidence.append(e) } }
        #expect(reader.headerHolds, "\(reader.headerProblems)")
        // a's seq 4 and the twin's at the fork seq, a's seq 5 after it.
        #expect(evidence.count == Int(header.evidenceCount) && evidence.count == 3)
        #expect(evidence.map(\.envelope.seq) == [4, 4, 5] && evidence.allSatisfy { $0.envelope.replica == a.replicaID } && Set(evidence.map(\.id)).count == 3)
        let finderStatus = try finder.status()
        for r in [holdsA, holdsTwin, fresh] {
            let report = try r.importBundle(at: fromFinder)
            #expect(report.error == nil && report.headerProblems.isEmpty && report.acknowledgementRecorded, "\(r.analyst): \(report)")
            let s = try r.status()
            #expect(s.feedProblems.first?.state == .forked, "\(r.analyst) freezes the feed")
            #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT fork_seq FROM frozen_feeds") } == 4)
            #expect(s.digest == finderStatus.digest && s.versionVector == finderStatus.versionVector, "\(r.analyst) shows what the finder shows")
            #expect(try r.digest(recompute: true) == s.digest)
            // Twice changes nothing.
            let again = try r.importBundle(at: fromFinder)
            #expect(again.summary.applied == 0)
            #expect(try r.status().digest == s.digest)
        }
        // A replica that knows no fork writes format 1, as every bundle before format 2.
        let h2 = try FileHandle(forReadingFrom: try export(a, sim, name: "a-again.glossb"))
        defer { try? h2.close() }
        #expect(try BundleReader(handle: h2).readHeader().format == 1)
    }

    /// A fork found by a `prev` that names another event than the one held (the twin's seq 5 after
    /// its own seq 4, received by a replica holding a's seq 4): the evidence is the held event at
    /// the fork seq and the events after it, so every receiver meets the mismatch too.
    @Test func forkEvidenceOfAPrevMismatchFreezesEveryReceiverAtTheSameSeq() throws {
        let sim = try Simulation(replicas: 5, seed: 20, label: "fork-prev")
        let (a, finder, holdsA, holdsTwin, fresh) = (sim.replicas[0], sim.replicas[1], sim.replicas[2], sim.replicas[3], sim.replicas[4])
        for _ in 0..<3 { try sim.randomOperation(on: 0) }
        let twin = try sim.twin(of: 0)
        try sim.randomOperation(on: 0)
        let aUpTo4 = try export(a, sim, name: "a4.glossb")
        try sim.randomOperation(on: 0)
        let on = try #require(try sim.anArticle(twin))
        _ = try twin.addNote(on: on, body: "the twin's seq 4"); _ = try twin.addNote(on: on, body: "the twin's seq 5")
        var above4 = try twin.vector
        above4[a.replicaID] = 4
        _ = try finder.importBundle(at: aUpTo4)
        let mismatch = try finder.importBundle(at: try export(twin, sim, base: above4, name: "twin-5.glossb"))
        let (va, vt) = (try a.vector[a.replicaID], try twin.vector[a.replicaID])
        #expect(mismatch.summary.forks == 1)
        let fs = try finder.store.read { try Int.fetchOne($0, sql: "SELECT fork_seq FROM feeds WHERE fork_seq IS NOT NULL") }
        #expect(fs == 4, "a \(va) twin \(vt) fork \(String(describing: fs))")
        _ = try holdsA.importBundle(at: try export(a, sim, name: "a2.glossb"))
        _ = try holdsTwin.importBundle(at: try export(twin, sim, name: "twin.glossb"))
        let fromFinder = try export(finder, sim, name: "finder.glossb")
        let finderStatus = try finder.status()
        for r in [holdsA, holdsTwin, fresh] {
            _ = try r.importBundle(at: fromFinder)
            #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT fork_seq FROM frozen_feeds") } == 4, "\(r.analyst) freezes at seq 4")
            let s = try r.status()
            #expect(s.digest == finderStatus.digest && s.versionVector == finderStatus.versionVector, "\(r.analyst) shows what the finder shows")
        }
    }

    /// Three copies of one key: a's branch x, a copy c forking it at seq 5 (x′), a copy b forking
    /// at seq 4 (y). R1 meets the fork at 5 (5x and 5x′), R2 the one at 4 (it holds 4x, then gets
    /// 5y, whose `prev` is 4y). Exchanging bundles, both freeze at 4: an event at a frozen feed's
    /// fork seq whose `prev` is not the held head's id lowers the fork (it was kept as evidence
    /// only, and R1 stayed frozen at 5 for good — an audit, 2026-12-06).
    @Test func aForkOneSeqLowerFoundLaterLowersTheFrozenFeedsForkSeq() throws {
        let sim = try Simulation(replicas: 3, seed: 21, label: "fork-lower")
        let (a, r1, r2) = (sim.replicas[0], sim.replicas[1], sim.replicas[2])
        for _ in 0..<3 { try sim.randomOperation(on: 0) }
        let b = try sim.twin(of: 0)
        let on = try #require(try sim.anArticle(a))
        _ = try a.addNote(on: on, body: "4x")
        let upTo4x = try export(a, sim, name: "upto4x.glossb")
        let c = try sim.twin(of: 0)
        _ = try a.addNote(on: on, body: "5x"); _ = try c.addNote(on: on, body: "5x'")
        _ = try b.addNote(on: on, body: "4y"); _ = try b.addNote(on: on, body: "5y")
        _ = try r1.importBundle(at: try export(a, sim, name: "a.glossb")); _ = try r1.importBundle(at: try export(c, sim, name: "c.glossb"))
        _ = try r2.importBundle(at: upTo4x)
        var above4 = try b.vector
        above4[a.replicaID] = 4
        _ = try r2.importBundle(at: try export(b, sim, base: above4, name: "b5.glossb"))
        let forkSeq = { (r: Replica) in try r.store.read { try Int.fetchOne($0, sql: "SELECT fork_seq FROM feeds WHERE fork_seq IS NOT NULL") } }
        #expect(try forkSeq(r1) == 5 && forkSeq(r2) == 4)
        for _ in 0..<2 {
            let (f1, f2) = (try export(r1, sim, name: "r1-\(UUID().uuidString.prefix(4)).glossb"), try export(r2, sim, name: "r2-\(UUID().uuidString.prefix(4)).glossb"))
            _ = try r2.importBundle(at: f1); _ = try r1.importBundle(at: f2)
        }
        #expect(try forkSeq(r1) == 4 && forkSeq(r2) == 4)
        let (s1, s2) = (try r1.status(), try r2.status())
        #expect(s1.digest == s2.digest && s1.versionVector == s2.versionVector)
        #expect(try r1.digest(recompute: true) == s1.digest)
    }

    /// Format 2's header is believed only as far as it holds: evidence not one or two above the
    /// sender's head is a header problem (reported, no acknowledgement; the record is still
    /// verified on its own), and a format 2 header with no evidence is unusable.
    @Test func evidenceAwayFromTheSendersHeadIsAHeaderProblem() throws {
        let sim = try Simulation(replicas: 2, seed: 19, label: "evidence-lies")
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        for _ in 0..<3 { try sim.randomOperation(on: 0) }
        let full = try FileHandle(forReadingFrom: try export(a, sim, name: "a.glossb"))
        defer { try? full.close() }
        let all = BundleReader(handle: full)
        _ = try all.readHeader()
        var found: SignedEvent?
        while let e = try all.next() { if e.envelope.replica == a.replicaID && e.envelope.seq == 3 { found = e } }
        let third = try #require(found)
        let liar = ReplicaKey()
        func write(_ header: BundleHeader, _ events: [SignedEvent], _ name: String) throws -> URL {
            let url = sim.tmp.sub(name)
            FileManager.default.createFile(atPath: url.path, contents: nil)
            let h = try FileHandle(forWritingTo: url)
            var w = try BundleWriter(handle: h, header: header, key: liar)
            for e in events { try w.append(envelope: e.envelope.bytes, payload: e.payload) }
            try w.finish()
            try h.close()
            return url
        }
        let away = try write(BundleHeader(sender: liar.replicaID, senderVector: VersionVector(), baseVector: VersionVector(), eventCount: 0, evidenceCount: 1),
                             [third], "away.glossb")
        let r = try b.importBundle(at: away)
        #expect(r.headerProblemCount == 1 && r.headerProblems.first?.contains("evidence record 1 is seq 3") == true, "\(r.headerProblems)")
        #expect(!r.acknowledgementRecorded && r.checksumOK == true)
        #expect(r.summary.pending == 1, "verified on its own: it waits for seq 2")
        // Counts that lie about the records present are named as such.
        let head = BundleHeader(sender: liar.replicaID, senderVector: VersionVector(), baseVector: VersionVector(), eventCount: 0, evidenceCount: 2)
        let short = try b.importBundle(at: try write(head, [third], "short.glossb"))
        #expect(short.error?.contains("the trailer stands where record 2 should start: the header declares event_count 0 + evidence_count 2 records, the file holds 1") == true,
                "\(String(describing: short.error))")
        var fewer = head
        fewer.evidenceCount = 1
        let long = try b.importBundle(at: try write(fewer, [third, third], "long.glossb"))
        #expect(long.headerProblems.contains { $0.contains("no trailer after the 1 records the header declares") } && long.checksumOK == false && !long.acknowledgementRecorded,
                "\(long.headerProblems)")
        // evidence_count 0 in a format 2 header: the bytes of a format 1 header with format 2.
        var bytes = Array(try Data(contentsOf: try export(a, sim, name: "plain.glossb")))
        bytes[9] = 2
        let zero = sim.tmp.sub("zero.glossb")
        try Data(bytes).write(to: zero)
        #expect(throws: GlossError.self) { try b.importBundle(at: zero) }
    }

    @Test func anUnusableFileIsRefusedWithoutChangingAnything() throws {
        let sim = try Simulation(replicas: 1, seed: 17, label: "unusable")
        let r = sim.replicas[0]
        let junk = sim.tmp.sub("junk.glossb")
        try Data("GLOSSBDL but not really a bundle".utf8).write(to: junk)
        #expect(throws: GlossError.self) { try r.importBundle(at: junk) }
        let notBundle = sim.tmp.sub("text.txt")
        try Data(sampleArticleBytes()).write(to: notBundle)
        do { _ = try r.importBundle(at: notBundle); Issue.record("imported a text file") } catch let e as GlossError {
            #expect(e.code == .badInput && e.message.contains("GLOSSBDL"))
        }
        #expect(try r.status().events == 0)
    }
}
