import Foundation
@testable import GlossMerge
import GlossTestSupport
import Testing

/// The meet of concurrent text heads (Protocol/08-conflicts.md §Registers) in the feed form the
/// projections use (`RegisterHistory`) against the definition by the causal relation alone
/// (`Register.display(heads:among:…)`), with causality from vector clocks — and its cost: the
/// definition visits every write at every level of merges below the heads (a "ladder" of n rungs
/// of concurrent edits, each rung seeing the one before, cost it ~n³ causal answers); the feed form
/// answers a constant number per level and walks the levels in a loop.
@Suite struct MeetScalingTests {
    struct W: FeedWrite {
        var event: String, deleted = false, value: String?, time: Int64, replica: String
        var feed: Int
        /// The writer's vector clock after writing (feed → writes seen).
        var clock: [Int]
        var seq: UInt64 { UInt64(clock[feed]) }
    }

    /// The independent relation: vector clocks.
    static func before(_ a: W, _ b: W) -> Bool {
        a.event != b.event && zip(a.clock, b.clock).allSatisfy { $0 <= $1 }
    }

    static func past(_ w: W, _ feed: Int) -> UInt64 { feed == w.feed ? w.seq - 1 : UInt64(w.clock[feed]) }

    /// A root write, then n rungs: A_i and B_i concurrent, each following both writes of rung i − 1.
    /// A edits the first line, B the second, so every level merges cleanly: the heads show "a n\nb n".
    static func ladder(_ n: Int) -> [W] {
        var out = [W(event: "root", value: "a0\nb0\n", time: 0, replica: "A", feed: 0, clock: [1, 0])]
        for i in 1...n {
            out.append(W(event: String(format: "a%07d", i), value: "a\(i)\nb\(i - 1)\n", time: Int64(2 * i), replica: "A", feed: 0, clock: [i + 1, i - 1]))
            out.append(W(event: String(format: "b%07d", i), value: "a\(i - 1)\nb\(i)\n", time: Int64(2 * i + 1), replica: "B", feed: 1, clock: [i, i]))
        }
        return out
    }

    /// The last rung's two writes, and the causal answers the feed form asked to display them.
    static func feedForm(_ all: [W]) -> (RegisterDisplay<W>, calls: Int) {
        var calls = 0
        let shown = Register.display(heads: Array(all.suffix(2)), history: { RegisterHistory(all) }, scalar: false,
                                     past: { calls += 1; return past($0, $1) })
        return (shown, calls)
    }

    @Test func aLadderOfMergesCostsItsLevelsNotTheirCube() {
        let small = Self.feedForm(Self.ladder(100)), large = Self.feedForm(Self.ladder(400))
        #expect(small.0.value == "a100\nb100\n" && small.0.state == .merged)
        #expect(large.0.value == "a400\nb400\n" && large.0.state == .merged)
        // The definition on the small ladder (~700,000 answers), for scale and as the oracle.
        var definitionCalls = 0
        let all = Self.ladder(100)
        let definition = Register.display(heads: Array(all.suffix(2)), among: all, scalar: false,
                                          happenedBefore: { definitionCalls += 1; return Self.before($0, $1) })
        #expect(definition.value == small.0.value && definition.state == small.0.state)
        print("ladder of 100 rungs: definition \(definitionCalls) causal answers, feed form \(small.calls); 400 rungs: feed form \(large.calls)")
        #expect(large.calls <= small.calls * 5, "4× the rungs cost \(large.calls) answers against \(small.calls): not linear")
        #expect(small.calls * 100 < definitionCalls)
    }

    @Test func aDeepLadderNeedsNoDeepStack() throws {
        // 100,000 levels of merges on a thread with a 512 KiB stack: a recursion per level would overflow it.
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var shown: RegisterDisplay<W>?
        let thread = Thread {
            shown = Self.feedForm(Self.ladder(100_000)).0
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        done.wait()
        #expect(shown?.value == "a100000\nb100000\n")
    }

    /// Random histories: replicas edit lines of what they last saw, merge each other's clocks, now
    /// and then delete; two registers.
    static func history(seed: UInt64, replicas: Int, writes: Int) -> [(register: Int, write: W)] {
        var rng = SplitMix64(seed: seed)
        var clocks = Array(repeating: Array(repeating: 0, count: replicas), count: replicas)
        var seen = Array(repeating: ["l0\nl1\nl2\nl3\n", "l0\nl1\nl2\nl3\n"], count: replicas)
        var out: [(Int, W)] = []
        for i in 0..<writes {
            let r = Int.random(in: 0..<replicas, using: &rng), register = Int.random(in: 0..<2, using: &rng)
            if Int.random(in: 0..<3, using: &rng) == 0 {
                let other = Int.random(in: 0..<replicas, using: &rng)
                clocks[r] = zip(clocks[r], clocks[other]).map { max($0, $1) }
                if Bool.random(using: &rng) { seen[r] = seen[other] }
            }
            clocks[r][r] += 1
            var lines = seen[r][register].split(separator: "\n").map(String.init)
            lines[Int.random(in: 0..<lines.count, using: &rng)] = "w\(Int.random(in: 0..<3, using: &rng))"
            let value = lines.joined(separator: "\n") + "\n"
            seen[r][register] = value
            let delete = Int.random(in: 0..<12, using: &rng) == 0
            out.append((register, W(event: String(format: "e%04d", Int.random(in: 0..<10_000, using: &rng)) + "-\(i)", deleted: delete,
                                    value: delete ? nil : value, time: Int64(Int.random(in: 0..<writes, using: &rng)),
                                    replica: "r\(r)", feed: r, clock: clocks[r])))
        }
        return out
    }

    @Test(arguments: (0..<300).map { UInt64(31_000 + $0) })
    func theFeedFormDisplaysWhatTheDefinitionDoes(seed: UInt64) {
        let events = Self.history(seed: seed, replicas: 2 + Int(seed % 4), writes: 12 + Int(seed % 50))
        var states: Set<RegisterState> = []
        for register in 0..<2 {
            let all = events.filter { $0.register == register }.map(\.write)
            guard !all.isEmpty else { continue }
            // Every antichain of heads a replica could hold: the maximal writes of each causal prefix.
            for cut in 1...all.count {
                let prefix = Array(all.prefix(cut))
                let heads = Register.maximal(prefix, happenedBefore: Self.before)
                let definition = Register.display(heads: heads, among: prefix, scalar: false, happenedBefore: Self.before)
                let fast = Register.display(heads: heads, history: { RegisterHistory(prefix) }, scalar: false, past: Self.past)
                #expect(fast.value == definition.value && fast.deleted == definition.deleted && fast.state == definition.state
                        && fast.winner.event == definition.winner.event, "seed \(seed), register \(register), first \(cut) writes")
                states.insert(definition.state)
            }
        }
        if seed == 31_000 { print("feed form = definition on 300 histories (seed \(seed): states \(states.map(\.rawValue).sorted()))") }
    }

    /// Over the whole property, every outcome of a meet occurs: merges, and conflicts (a failed merge,
    /// or a base that is itself a conflict).
    @Test func thePropertyReachesMergesAndConflictsBelowTheHeads() {
        var merged = 0, conflicts = 0, deep = 0
        for seed in (0..<300).map({ UInt64(31_000 + $0) }) {
            let events = Self.history(seed: seed, replicas: 2 + Int(seed % 4), writes: 12 + Int(seed % 50))
            for register in 0..<2 {
                let all = events.filter { $0.register == register }.map(\.write)
                guard all.count > 1 else { continue }
                let heads = Register.maximal(all, happenedBefore: Self.before)
                let shown = Register.display(heads: heads, among: all, scalar: false, happenedBefore: Self.before)
                if heads.count > 1, shown.state == .merged { merged += 1 }
                if heads.count > 1, shown.state == .conflict { conflicts += 1 }
                // The meet's own maximal writes are different texts: a merge one level below.
                let tops = RegisterHistory(all).meetTops(of: heads, past: Self.past)
                if Register.displayWithoutBase(heads: heads, scalar: false) == nil, tops.count > 1,
                   Register.displayWithoutBase(heads: tops, scalar: false) == nil { deep += 1 }
            }
        }
        print("meets: \(merged) merged, \(conflicts) conflicts, \(deep) below a first level")
        #expect(merged > 20 && conflicts > 20 && deep > 20)
    }
}

/// The merge budget (`Register.mergeCells`): a display fills at most so many line-merge table cells
/// over all its merges, bottom first; a merge past it conflicts — in the feed form and the
/// definition alike.
@Suite struct MergeBudgetTests {
    typealias W = MeetScalingTests.W

    /// A ladder of `n` rungs of `lines`-line texts: A rewrites every odd line, B every even line, so
    /// every level merges cleanly (changes that only touch) and each merge fills whole tables.
    static func text(_ a: Int, _ b: Int, lines: Int) -> String {
        (0..<lines).map { $0 % 2 == 1 ? "a\(a)-\($0)" : "b\(b)-\($0)" }.joined(separator: "\n")
    }

    static func ladder(_ n: Int, lines: Int) -> [W] {
        func text(_ a: Int, _ b: Int) -> String { Self.text(a, b, lines: lines) }
        var out = [W(event: "root", value: text(0, 0), time: 0, replica: "A", feed: 0, clock: [1, 0])]
        for i in 1...n {
            out.append(W(event: String(format: "a%07d", i), value: text(i, i - 1), time: Int64(2 * i), replica: "A", feed: 0, clock: [i + 1, i - 1]))
            out.append(W(event: String(format: "b%07d", i), value: text(i - 1, i), time: Int64(2 * i + 1), replica: "B", feed: 1, clock: [i, i]))
        }
        return out
    }

    @Test func mergesPastTheBudgetConflictTheSameInBothForms() {
        let perMerge = LineMerge.cells(base: 40, ours: 40, theirs: 40)
        for (rungs, expected) in [(1, RegisterState.merged), (2, .merged), (3, .conflict), (50, .conflict)] {
            let all = Self.ladder(rungs, lines: 40), heads = Array(all.suffix(2))
            // Room for two merges: the heads of a ladder of n rungs need n.
            var a = 2 * perMerge + 1, b = a
            let fast = Register.display(heads: heads, history: { RegisterHistory(all) }, scalar: false, past: MeetScalingTests.past, cells: &a)
            let definition = Register.display(heads: heads, among: { all }, scalar: false, happenedBefore: MeetScalingTests.before, cells: &b)
            #expect(fast.state == expected && definition.state == expected, "\(rungs) rungs: \(fast.state), \(definition.state)")
            #expect(fast.value == definition.value && a == b, "\(rungs) rungs: the forms spent \(a) and \(b) cells")
            if expected == .merged { #expect(fast.value == Self.text(rungs, rungs, lines: 40)) }
        }
        // The real budget: two merges of 4,000-line texts fit, a third does not.
        #expect(2 * LineMerge.cells(base: 4000, ours: 4000, theirs: 4000) <= Register.mergeCells)
        #expect(3 * LineMerge.cells(base: 4000, ours: 4000, theirs: 4000) > Register.mergeCells)
    }

    @Test func moreConcurrentTextsThanMaxMergeHeadsConflictWithoutAMeet() {
        // n writers each change their own line of a shared text: any number merges cleanly.
        func heads(_ n: Int) -> (heads: [W], all: [W]) {
            let lines = (0..<n).map { "l\($0)" }
            let root = W(event: "root", value: lines.joined(separator: "\n"), time: 0, replica: "r0", feed: 0, clock: [1] + Array(repeating: 0, count: n))
            let hs = (0..<n).map { i -> W in
                var l = lines
                l[i] = "changed \(i)"
                var clock = Array(repeating: 0, count: n + 1)
                clock[0] = 1; clock[i + 1] = 1
                return W(event: String(format: "h%03d", i), value: l.joined(separator: "\n"), time: Int64(i + 1), replica: "r\(i + 1)", feed: i + 1, clock: clock)
            }
            return (hs, [root] + hs)
        }
        let fits = heads(Register.maxMergeHeads), over = heads(Register.maxMergeHeads + 1)
        var asked = 0
        let merged = Register.display(heads: fits.heads, history: { RegisterHistory(fits.all) }, scalar: false, past: MeetScalingTests.past)
        let conflict = Register.display(heads: over.heads, history: { RegisterHistory(over.all) }, scalar: false,
                                        past: { asked += 1; return MeetScalingTests.past($0, $1) })
        #expect(merged.state == .merged && merged.value == (0..<16).map { "changed \($0)" }.joined(separator: "\n"))
        #expect(conflict.state == .conflict && asked == 0)
        #expect(Register.display(heads: over.heads, among: over.all, scalar: false, happenedBefore: MeetScalingTests.before).state == .conflict)
    }

    @Test func aMergeOverTheCellsLeftIsNotMadeAndCostsNothing() {
        var cells = LineMerge.cells(base: 2, ours: 2, theirs: 2)
        #expect(LineMerge.merge(base: "x\ny", ours: "X\ny", theirs: "x\nY", cells: &cells) == "X\nY")
        #expect(cells == 0)
        var few = 17
        #expect(LineMerge.merge(base: "x\ny", ours: "X\ny", theirs: "x\nY", cells: &few) == nil)
        #expect(few == 17)
        // Shortcuts fill no table.
        #expect(LineMerge.merge(base: "x", ours: "x", theirs: "y", cells: &few) == "y" && few == 17)
    }
}

/// Found by a merge audit written from Protocol/08 alone (2026-12-06): lines are split at `\n` and
/// compared as bytes, and heads repeating one text are one side of the fold.
@Suite struct LineMergeBytesTests {
    @Test func crlfTextsMergeLineByLine() {
        // As Swift Characters "\r\n" is one character: the text was one line and any two edits conflicted.
        #expect(LineMerge.merge(base: "a\r\nb\r\nc", ours: "A\r\nb\r\nc", theirs: "a\r\nb\r\nC") == "A\r\nb\r\nC")
        #expect(LineMerge.merge(base: "a\r\nb\r\nc", ours: "A\r\nb\r\nc", theirs: "a\r\nB\r\nc\r\n") == "A\r\nB\r\nc\r\n")
        #expect(LineMerge.merge(base: "a\r\nb", ours: "x\r\nb", theirs: "y\r\nb") == nil)
        #expect(LineMerge.lines("a\r\nb\n") == ["a\r", "b", ""])
    }

    @Test func linesDifferingOnlyInNormalisationAreDifferentLines() {
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        // One side rewrites line 1 to its NFD spelling, the other edits line 2: both changes kept.
        #expect(LineMerge.merge(base: "\(nfc)\nx", ours: "\(nfd)\nx", theirs: "\(nfc)\ny") == "\(nfd)\ny")
        // Two sides writing the two spellings of one line: an overlap, not "equal".
        #expect(LineMerge.merge(base: "t\nx", ours: "\(nfc)\nx", theirs: "\(nfd)\nx") == nil)
    }

    @Test func aRepeatedEditNeverMakesAnOverlapTheSingleEditWouldNot() {
        typealias W = MeetScalingTests.W
        let root = W(event: "root", value: "l1\nl2\nl3", time: 0, replica: "A", feed: 0, clock: [1, 0, 0])
        // X changes line 1 on two replicas; Y changes line 2. In event-id order Y comes between the
        // two copies of X: folding X, Y, X made line 1–2 one changed region against X → overlap.
        let x1 = W(event: "e1", value: "X1\nl2\nl3", time: 1, replica: "A", feed: 0, clock: [2, 0, 0])
        let y = W(event: "e2", value: "l1\nY2\nl3", time: 2, replica: "B", feed: 1, clock: [1, 1, 0])
        let x2 = W(event: "e3", value: "X1\nl2\nl3", time: 3, replica: "C", feed: 2, clock: [1, 0, 1])
        let all = [root, x1, y, x2]
        let shown = Register.display(heads: [x1, y, x2], among: all, scalar: false, happenedBefore: MeetScalingTests.before)
        #expect(shown.state == .merged && shown.value == "X1\nY2\nl3", "\(shown.state) \(shown.value ?? "nil")")
    }
}
