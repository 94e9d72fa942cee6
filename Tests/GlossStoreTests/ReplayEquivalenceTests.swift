import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
import GlossStore
import GlossTestSupport
import Testing

/// Replay = incremental = any delivery order (DESIGN §1.6, issue #14): the same set of events
/// delivered in orders that break causality — fully shuffled in random windows, causal windows
/// delivered out of order, every copy twice, half then a rebuild then the rest — so events wait in
/// pending and are drained by later windows, give the same digests and rows as an in-order apply and
/// as a rebuild; applying everything again changes nothing.
///
/// 30 seeds in CI, 500 with GLOSS_LARGE=1; base seed printed, GLOSS_SEED=<seed> replays one.
@Suite(.timeLimit(.minutes(10))) struct ReplayEquivalenceTests {
    static let seeds = Equivalence.seeds("replay-equivalence", count: glossLarge ? 500 : 30)

    /// Splits `events` into consecutive windows of random sizes in 1...maxSize.
    static func windows(_ events: [SignedEvent], maxSize: Int, _ rng: inout SplitMix64) -> [[SignedEvent]] {
        var out: [[SignedEvent]] = []
        var i = 0
        while i < events.count {
            let n = min(events.count - i, Int.random(in: 1...maxSize, using: &rng))
            out.append(Array(events[i..<i + n]))
            i += n
        }
        return out
    }

    /// Applies each window; after each, no waiting event is left whose wait ended (PendingWaitTests.endedWaits).
    static func deliver(_ windows: [[SignedEvent]], to r: Replica, now: () -> UInt64) throws -> ApplySummary {
        var total = ApplySummary()
        for w in windows {
            let t = now()
            total.add(try r.store.applyRemote(w, now: t))
            let ended = try PendingWaitTests.endedWaits(r.store, now: t)
            #expect(ended.isEmpty, "\(ended.prefix(5))")
        }
        return total
    }

    static func run(seed: UInt64) throws -> [String] {
        let sim = try Simulation(replicas: 3 + Int(seed % 2), seed: seed, label: "replay", deterministicKeys: true, tmpBase: memoryTempBase)
        let kinds = try sim.richHistory(steps: 30)
        try sim.exchangeAll()
        var rng = SplitMix64(seed: seed ^ 0x0de1_1e7e)
        let label = "seed \(seed) (GLOSS_SEED=\(seed) replays)"
        var fails: [String] = []
        let inOrder = try Equivalence.log(sim.replicas[0])
        let n = inOrder.count

        // Reference: in order, one window.
        let ref = try sim.addReplica("inorder")
        let s0 = try ref.store.applyRemote(inOrder, now: sim.clock.read())
        if s0.applied != n { fails.append("\(label): in-order apply applied \(s0.applied) of \(n)") }
        let reference = try ProjectionSnapshot.of(ref)
        fails += reference.selfCheck("\(label), in order")
        fails += try ProjectionSnapshot.of(sim.replicas[0]).differences(from: reference, "\(label), r0 (incremental) vs in order")

        func check(_ name: String, _ r: Replica, _ summary: ApplySummary) throws {
            let st = try r.status()
            if st.pending != 0 || st.quarantined != 0 || st.events != n || !st.feedProblems.isEmpty {
                fails.append("\(label), \(name): \(st.events) of \(n) events held, \(st.pending) pending, \(st.quarantined) quarantined, feeds \(st.feedProblems.map(\.state)); summary rejected \(summary.rejected)")
            }
            let snap = try ProjectionSnapshot.of(r)
            fails += snap.selfCheck("\(label), \(name)")
            fails += snap.differences(from: reference, "\(label), \(name) vs in order")
        }

        // 1. Fully shuffled, random windows of 1–30: most events wait in pending first.
        let shuffled = try sim.addReplica("shuffled")
        try check("shuffled windows", shuffled, try deliver(windows(inOrder.shuffled(using: &rng), maxSize: 30, &rng), to: shuffled, now: sim.clock.function))

        // 2. Causal windows delivered in a random order of windows (each window in order inside).
        let causal = sim.randomCausalOrder(inOrder)
        let late = try sim.addReplica("latewindows")
        try check("causal windows out of order", late, try deliver(windows(causal, maxSize: 12, &rng).shuffled(using: &rng), to: late, now: sim.clock.function))

        // 3. Newest first: the whole log reversed, one window (everything but the first events waits
        //    and drains within the same call).
        let reversed = try sim.addReplica("reversed")
        try check("reversed, one window", reversed, try reversed.store.applyRemote(inOrder.reversed(), now: sim.clock.read()))

        // 4. Every copy twice, shuffled, in windows: duplicates inside a window and across windows.
        let doubled = try sim.addReplica("doubled")
        try check("every copy twice", doubled, try deliver(windows((inOrder + inOrder).shuffled(using: &rng), maxSize: 40, &rng), to: doubled, now: sim.clock.function))

        // 5. Half delivered out of order (some of it waits in pending), rebuilt, then the rest.
        let halves = try sim.addReplica("halves")
        let mixed = inOrder.shuffled(using: &rng)
        var sum = try deliver(windows(Array(mixed.prefix(n / 2)), maxSize: 10, &rng), to: halves, now: sim.clock.function)
        let mid = try ProjectionSnapshot.of(halves)
        fails += mid.selfCheck("\(label), half delivered")
        _ = try halves.rebuild()
        fails += try ProjectionSnapshot.of(halves).differences(from: mid, "\(label), half delivered then rebuilt vs before the rebuild")
        sum.add(try deliver(windows(Array(mixed.dropFirst(n / 2)), maxSize: 10, &rng), to: halves, now: sim.clock.function))
        try check("half, rebuild, rest", halves, sum)

        // 6. Rebuilds of the reference and of a shuffled replica.
        _ = try shuffled.rebuild()
        try check("shuffled then rebuilt", shuffled, ApplySummary())
        _ = try ref.rebuild()
        try check("in order then rebuilt", ref, ApplySummary())

        // 7. Idempotency: everything again (in order, shuffled in windows, and as one window) changes
        //    nothing and counts every copy as a duplicate.
        for (name, again) in [("again in order", [inOrder]), ("again shuffled", windows(inOrder.shuffled(using: &rng), maxSize: 25, &rng))] {
            for target in [late, doubled] {
                let s = try deliver(again, to: target, now: sim.clock.function)
                if s.applied != 0 || s.duplicate != n || s.pending != 0 || s.rejected != 0 {
                    fails.append("\(label), \(name): applied \(s.applied), duplicate \(s.duplicate) of \(n), pending \(s.pending), rejected \(s.rejected)")
                }
                try check(name, target, s)
            }
        }
        if !fails.isEmpty { fails.append("\(label): history of \(n) events: \(Equivalence.describe(kinds))") }
        for r in [ref, shuffled, late, reversed, doubled, halves] { try r.close() }
        return fails
    }

    @Test(arguments: seeds)
    func anyDeliveryOrderEqualsInOrderAndRebuild(seed: UInt64) throws {
        let fails = try Self.run(seed: seed)
        #expect(fails.isEmpty, "seed \(seed): \(fails.prefix(8).joined(separator: "\n"))")
    }
}
