import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// Forks healed by sync sessions alone (the real session driver, in memory), whatever the gossip:
/// a copy of a replica's folder writes beside the original, both sync with random peers in random
/// order — so their branches often reach disjoint replicas and end at one seq, where the vectors
/// look equal (Protocol/07 §Heads). After rounds of sessions between every pair, every replica holds
/// the same events, the same projections and, when the copies forked, the fork at the same seq.
/// The oracle of "did they fork" reads the ids held at each seq of the feed, not the fork code.
/// Seeded (the seed is printed; GLOSS_SEED replays); GLOSS_LARGE=1 runs more histories.
extension SyncTests {
    @Test func forksHealedBySyncSessionsAloneConvergeEverywhere() async throws {
        let base = testSeed("fork-gossip")
        let count = glossLarge ? 60 : 10
        var forked = 0, failures: [String] = []
        for k in 0..<count {
            let seed = base &+ UInt64(k)
            let (didFork, fails) = try await Self.forkGossip(seed: seed, steps: 36)
            if didFork { forked += 1 }
            failures += fails.map { "seed \(seed): \($0)" }
        }
        print("[fork-gossip] \(count) histories from seed \(base), \(forked) forked, \(failures.count) failures")
        #expect(failures.isEmpty, "\(failures.prefix(8).joined(separator: "\n"))")
        #expect(forked >= count / 3, "too few histories forked to test anything (\(forked) of \(count))")
    }

    static func forkGossip(seed: UInt64, steps: Int) async throws -> (Bool, [String]) {
        let sim = try Simulation(replicas: 4, seed: seed, label: "fork-gossip", deterministicKeys: true)
        var twin: Int?
        let twinAt = Int.random(in: 2...steps / 3, using: &sim.rng)
        for step in 0..<steps {
            if step == twinAt { twin = try sim.addTwin(of: 0, name: "twin") }
            let n = sim.replicas.count
            if Int.random(in: 0..<10, using: &sim.rng) < 4 {
                let a = Int.random(in: 0..<n, using: &sim.rng), b = Int.random(in: 0..<n, using: &sim.rng)
                // The copies share one key: a session between them is refused (the peer is this replica itself).
                if sim.replicas[a].replicaID != sim.replicas[b].replicaID { _ = try await memorySession(sim.replicas[a], sim.replicas[b]) }
            } else {
                let i = Bool.random(using: &sim.rng) ? (Bool.random(using: &sim.rng) ? 0 : (twin ?? 0)) : Int.random(in: 0..<n, using: &sim.rng)
                try sim.randomOperationUnlessFrozen(on: i)
            }
        }
        // Often the two copies end at one seq: the one behind catches up before the healing.
        if let twin, Bool.random(using: &sim.rng) {
            let feed = sim.replicas[0].replicaID
            for _ in 0..<8 {
                let (s0, s1) = (try sim.replicas[0].status().versionVector[feed], try sim.replicas[twin].status().versionVector[feed])
                if s0 == s1 { break }
                try sim.randomOperationUnlessFrozen(on: s0 < s1 ? 0 : twin)
            }
        }
        // The oracle: two ids at one seq of the copied feed, anywhere (logs and fork evidence).
        let forkSeq = try sim.lowestForkedSeq(of: sim.replicas[0].replicaID, in: sim.replicas)
        // Healing: sessions between every pair, in a random order each round, until nothing changes.
        var fails: [String] = []
        let n = sim.replicas.count
        var pairs = (0..<n).flatMap { a in (a + 1..<n).map { (a, $0) } }.filter { sim.replicas[$0.0].replicaID != sim.replicas[$0.1].replicaID }
        var previous: [String] = []
        for _ in 0..<12 {
            pairs.shuffle(using: &sim.rng)
            for (a, b) in pairs { _ = try await memorySession(sim.replicas[a], sim.replicas[b]) }
            let now = try sim.replicas.map { r in let s = try r.status(); return "\(s.versionVector) \(s.digest) \(try r.verify().forks.map(\.seq))" }
            if now == previous { break }
            previous = now
        }
        let statuses = try sim.replicas.map { try $0.status() }
        for (i, s) in statuses.enumerated() {
            if s.versionVector != statuses[0].versionVector || s.digest != statuses[0].digest {
                fails.append("replica \(i) differs from replica 0 (vector or digest) after the healing")
            }
            if s.pending != 0 { fails.append("replica \(i) has \(s.pending) events pending") }
            let seqs = try sim.replicas[i].verify().forks.map(\.seq)
            if let forkSeq {
                if seqs != [forkSeq] { fails.append("replica \(i) shows forks at \(seqs), the copies part at \(forkSeq)") }
            } else if !seqs.isEmpty {
                fails.append("replica \(i) shows forks at \(seqs), but no seq holds two ids")
            }
        }
        return (forkSeq != nil, fails)
    }
}
