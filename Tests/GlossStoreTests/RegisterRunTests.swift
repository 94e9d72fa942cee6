import Foundation
import GlossMerge
import GlossTestSupport
import Testing

/// The pure run reducer (`RegisterRun`) against the definition of heads: on random causal histories
/// of writes to a few registers, cut into runs at random points (each run starting from what the
/// previous runs stored), the stored heads are always the maximal writes of each register — the
/// same as one run, or one write per run — and a register's stored heads are read once per run.
@Suite struct RegisterRunTests {
    struct W: FeedWrite {
        var event: String, deleted = false, value: String?, time: Int64, replica: String
        /// The writer's vector clock when it wrote (replica index → writes seen).
        var clock: [Int]
        var feed: Int { Int(replica.dropFirst())! }
        var seq: UInt64 { UInt64(clock[feed]) }
        /// The other feeds its causal past holds writes of.
        var pastFeeds: [Int] { clock.indices.filter { $0 != feed && clock[$0] > 0 } }
    }

    static func before(_ a: W, _ b: W) -> Bool {
        a.event != b.event && zip(a.clock, b.clock).allSatisfy { $0 <= $1 }
    }

    /// Writes in a causal order: replicas write, and now and then merge another's clock.
    static func history(seed: UInt64, replicas: Int, writes: Int, registers: Int) -> [(register: Int, write: W)] {
        var rng = SplitMix64(seed: seed)
        var clocks = Array(repeating: Array(repeating: 0, count: replicas), count: replicas)
        var out: [(Int, W)] = []
        for i in 0..<writes {
            let r = Int.random(in: 0..<replicas, using: &rng)
            if Int.random(in: 0..<3, using: &rng) == 0 {
                let other = Int.random(in: 0..<replicas, using: &rng)
                clocks[r] = zip(clocks[r], clocks[other]).map { max($0, $1) }
            }
            clocks[r][r] += 1
            out.append((Int.random(in: 0..<registers, using: &rng),
                        W(event: String(format: "e%04d", i), value: "v\(i)", time: Int64(i), replica: "r\(r)", clock: clocks[r])))
        }
        return out
    }

    @Test(arguments: (0..<200).map { UInt64(9_100 + $0) })
    func runsOfAnySizeStoreTheMaximalWrites(seed: UInt64) {
        Self.check(seed: seed, replicas: 4, writes: 40, registers: 3, knowingPasts: false)
    }

    /// Many concurrent writers (heads indexed by feed past `indexedHeads`), each write saying which
    /// feeds its past names: the same maximal writes, asking only the heads on those feeds.
    @Test(arguments: (0..<10).map { UInt64(9_400 + $0) })
    func manyWritersKnowingTheirPastsStoreTheMaximalWrites(seed: UInt64) {
        let knowing = Self.check(seed: seed, replicas: 60, writes: 240, registers: 2, knowingPasts: true)
        let asking = Self.check(seed: seed, replicas: 60, writes: 240, registers: 2, knowingPasts: false)
        #expect(knowing * 2 < asking, "seed \(seed): \(knowing) causal questions knowing the pasts, \(asking) without")
    }

    /// Runs the history in runs of several lengths and checks the stored heads; returns the causal
    /// questions asked.
    @discardableResult
    static func check(seed: UInt64, replicas: Int, writes: Int, registers: Int, knowingPasts: Bool) -> Int {
        let events = Self.history(seed: seed, replicas: replicas, writes: writes, registers: registers)
        var asked = 0
        var rng = SplitMix64(seed: seed ^ 0xabc)
        for runLength in [1, 3, Int.random(in: 2...15, using: &rng), events.count] {
            var storage: [Int: [W]] = [:]
            var run = RegisterRun<Int, W>()
            var loads: [Int: Int] = [:]
            func end() {
                for c in run.changes {
                    #expect(Set(storage[c.key, default: []].map(\.event)) == Set(c.stored.map(\.event)), "seed \(seed): a run saw stale stored heads")
                    storage[c.key] = c.heads
                }
                run.removeAll()
                loads.removeAll()
            }
            for (i, e) in events.enumerated() {
                run.write(e.write, to: e.register, stored: { k in loads[k, default: 0] += 1; return storage[k, default: []] },
                          happenedBefore: { asked += 1; return Self.before($0, $1) }, pastFeeds: { knowingPasts ? e.write.pastFeeds : nil })
                if (i + 1) % runLength == 0 { end() }
                #expect(loads.values.allSatisfy { $0 == 1 }, "seed \(seed): stored heads read more than once in a run")
            }
            end()
            for register in 0..<registers {
                let all = events.filter { $0.register == register }.map(\.write)
                let maximal = Register.maximal(all, happenedBefore: Self.before)
                #expect(Set(storage[register, default: []].map(\.event)) == Set(maximal.map(\.event)),
                        "seed \(seed), runs of \(runLength): register \(register)'s heads are not its maximal writes")
            }
        }
        return asked
    }
}
