import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// The multi-replica simulator over a faulty channel (issue "Trust boundary"): besides lost and
/// duplicated copies it delivers damaged ones (envelope and payload bit flips, truncated and
/// reordered windows, payload-stripped events), and — in a separate property — forks (a second
/// replica holding a copy of one replica's key writes a different event at a held seq). After
/// healing (every genuine event delivered everywhere), every replica has the same vector, digest
/// and open conflicts, an empty pending table, and no text is lost.
///
/// ≥ 200 seeds in CI (`GLOSS_LARGE=1`: 2,000); the base seed is printed (`GLOSS_SEED` replays),
/// seed k of a run is base + k. The seeds run in a child process (an exit test), so a trap in the
/// code under test is reported with the seed and step that caused it.
@Suite(.serialized, .timeLimit(.minutes(20))) struct DamagedDeliveryTests {
    static var seeds: Int { glossLarge ? 2_000 : 200 }

    /// What must be equal on every replica after healing.
    struct Converged: Equatable {
        var vector: VersionVector
        var digest: String
        var openConflicts: [String]
        var frozen: [String]
    }

    static func converged(_ r: Replica) throws -> Converged {
        let digest = try r.digest()
        return try r.store.read { db in
            Converged(vector: try r.store.vector(db), digest: digest,
                      openConflicts: try Row.fetchAll(db, sql: "SELECT conflict, object, field, candidates FROM conflicts WHERE state = 'open' ORDER BY conflict").map { "\($0)" },
                      frozen: try Row.fetchAll(db, sql: "SELECT hex(replica), fork_seq FROM feeds WHERE fork_seq IS NOT NULL ORDER BY replica").map { "\($0)" })
        }
    }

    /// Checks the healed simulation; returns failure lines. `forkedBelow` limits the text check of
    /// a forked feed to the seqs below its fork.
    static func checkHealed(_ sim: Simulation, label: String, expectForks: Bool) throws -> [String] {
        var fails: [String] = []
        let states = try sim.replicas.map(converged)
        let ref = states[0]
        for (i, s) in states.enumerated() where i > 0 {
            if s.vector != ref.vector { fails.append("\(label): replica \(i)'s vector differs from replica 0's (\(s.vector.eventCount) vs \(ref.vector.eventCount) events)") }
            if s.digest != ref.digest { fails.append("\(label): replica \(i)'s digest differs from replica 0's") }
            if s.openConflicts != ref.openConflicts { fails.append("\(label): replica \(i)'s open conflicts differ from replica 0's (\(s.openConflicts.count) vs \(ref.openConflicts.count))") }
            if s.frozen != ref.frozen { fails.append("\(label): replica \(i)'s frozen feeds differ from replica 0's (\(s.frozen) vs \(ref.frozen))") }
        }
        if expectForks && ref.frozen.isEmpty { fails.append("\(label): no feed was frozen although a twin wrote a second event at a held seq") }
        // Frozen seqs (the same everywhere when the above holds): text below them must survive.
        var forkSeq: [Data: Int64] = [:]
        try sim.replicas[0].store.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT replica, fork_seq FROM feeds WHERE fork_seq IS NOT NULL") { forkSeq[row[0]] = row[1] }
        }
        // No lost text: every event any replica stores (below a fork) is stored by every replica
        // with its payload, byte for byte.
        var payloads: [Data: Data?] = [:]
        var perReplica: [[Data: Data?]] = []
        for r in sim.replicas {
            var mine: [Data: Data?] = [:]
            try r.store.read { db in
                for row in try Row.fetchAll(db, sql: "SELECT e.id, e.payload, f.replica, e.seq FROM events e JOIN feeds f ON f.feed = e.feed") {
                    if let fs = forkSeq[row[2] as Data], (row[3] as Int64) >= fs { continue }
                    mine[row[0] as Data] = row[1] as Data?
                }
            }
            perReplica.append(mine)
            for (id, p) in mine {
                if let p { payloads[id] = p } else if payloads[id] == nil { payloads[id] = .some(nil) }
            }
        }
        for (i, mine) in perReplica.enumerated() {
            var missing = 0, stripped = 0
            for (id, p) in payloads {
                guard let held = mine[id] else { missing += 1; continue }
                if held == nil, p != nil { stripped += 1 }
            }
            if missing > 0 { fails.append("\(label): replica \(i) lacks \(missing) events another replica holds") }
            if stripped > 0 { fails.append("\(label): replica \(i) holds \(stripped) events without the payload (text lost) although the genuine copy was delivered") }
            let pending = try sim.replicas[i].store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pending") ?? 0 }
            if pending > 0 { fails.append("\(label): replica \(i) has \(pending) events pending after healing") }
            let bad = try sim.replicas[i].store.read { db in
                try Data.fetchAll(db, sql: "SELECT envelope FROM quarantine UNION ALL SELECT envelope FROM pending").filter { !HostileOracle.authenticated(Array($0)) }.count
            }
            if bad > 0 { fails.append("\(label): replica \(i) stores \(bad) damaged copies that fail authentication (quarantine or pending)") }
            if !expectForks {
                let problems = try sim.replicas[i].status().feedProblems
                if !problems.isEmpty { fails.append("\(label): replica \(i) has feeds not ok after healing: \(problems.map { "\($0.state): \($0.reason)" })") }
            }
        }
        if payloads.values.contains(where: { $0 == nil }) {
            fails.append("\(label): some events are held without payload by every replica, though their authors wrote one")
        }
        return fails
    }

    /// One random history over the faulty channel.
    static func runDamaged(seed: UInt64, steps: Int, forks: Bool) throws -> [String] {
        let sim = try Simulation(replicas: 3, seed: seed, label: forks ? "forkdelivery" : "damaged", deterministicKeys: true, tmpBase: memoryTempBase)
        var log = DeliveryLog()
        var twin: Int?
        let twinAt = forks ? Int.random(in: steps / 4...steps / 2, using: &sim.rng) : -1
        for step in 0..<steps {
            if step == twinAt { twin = try sim.addTwin(of: 0, name: "twin") }
            let n = sim.replicas.count
            if Int.random(in: 0..<10, using: &sim.rng) < 4 {
                let a = Int.random(in: 0..<n, using: &sim.rng), b = Int.random(in: 0..<n, using: &sim.rng)
                if a != b {
                    breadcrumb("> seed \(seed) step \(step): faulty delivery \(a) → \(b)")
                    try sim.deliverFaulty(a, b, log: &log)
                }
            } else {
                // The twin and the replica it copied write mostly (that is what makes the fork).
                let i = forks && Bool.random(using: &sim.rng) ? (Bool.random(using: &sim.rng) ? 0 : (twin ?? 0)) : Int.random(in: 0..<n, using: &sim.rng)
                try sim.randomOperationUnlessFrozen(on: i)
            }
        }
        // A fork exists only if the original and its twin both wrote at one seq after the copy
        // (their logs and fork evidence hold two ids for one seq).
        var forked = false
        if let twin {
            forked = try sim.lowestForkedSeq(of: sim.replicas[0].replicaID, in: [sim.replicas[0], sim.replicas[twin]]) != nil
        }
        breadcrumb("> seed \(seed): healing")
        try sim.healEverywhere()
        return try checkHealed(sim, label: "seed \(seed) (\(log.description)\(forks ? forked ? ", forked" : ", the twin did not fork" : ""))", expectForks: forked)
    }

    static func runSeeds(base: UInt64, count: Int, steps: Int, forks: Bool) -> Int32 {
        let start = Date()
        var failed = 0
        for k in 0..<count {
            let seed = base &+ UInt64(k)
            do {
                let fails = try runDamaged(seed: seed, steps: steps, forks: forks)
                if !fails.isEmpty { failed += 1 }
                for f in fails.prefix(6) { trace("FAIL: \(f)") }
            } catch {
                failed += 1
                trace("FAIL: seed \(seed) threw: \(error)")
            }
        }
        trace("[damaged-delivery\(forks ? "-forks" : "")] \(count) seeds from \(base), \(steps) steps each: \(failed) failed, in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        trace("SUMMARY \(failed) failures")
        return failed == 0 ? HostileCorpusTests.passed : HostileCorpusTests.failed
    }

    @Test func damagedLostDuplicatedAndReorderedCopiesHealToTheSameState() async throws {
        let base = testSeed("damaged-delivery")
        let count = Self.seeds
        let crumbs = "damaged-\(base)"
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent, \.standardOutputContent]) { [base = base as UInt64, count = count as Int, crumbs = crumbs as String] in
            breadcrumbKey = crumbs
            exit(DamagedDeliveryTests.runSeeds(base: base, count: count, steps: 30, forks: false))
        }
        HostileCorpusTests.inChild("damaged delivery, seeds from \(base)", result, breadcrumbs: crumbs)
    }

    @Test func forksOverAFaultyChannelAreFrozenIdenticallyEverywhere() async throws {
        let base = testSeed("fork-delivery")
        let count = glossLarge ? 500 : 50
        let crumbs = "fork-delivery-\(base)"
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent, \.standardOutputContent]) { [base = base as UInt64, count = count as Int, crumbs = crumbs as String] in
            breadcrumbKey = crumbs
            exit(DamagedDeliveryTests.runSeeds(base: base, count: count, steps: 30, forks: true))
        }
        HostileCorpusTests.inChild("fork delivery, seeds from \(base)", result, breadcrumbs: crumbs)
    }
}
