/// Re-anchoring: finding a selector of an older revision again in a newer revision
/// (Protocol/09-anchoring.md, **algorithm version 1**).
///
/// Pure and deterministic: the result depends only on the old selector and the new text — no clock,
/// no randomness, no locale, no floating point in any decision. Every replica that projects the same
/// revisions therefore shows the same anchors (DESIGN §1.6). Any change to a rule or constant here
/// changes results and must increment `version` and the document.
///
/// ```swift
/// let r = Anchoring.reanchor(oldSelector, in: newRevisionText)
/// switch r.status {
/// case .exact, .moved, .fuzzy: show(r.selector!)            // anchored
/// case .needsReview: askAnalyst(r.candidate!, r.score)       // shown, not anchored
/// case .orphaned: showOrphan(oldSelector)
/// }
/// ```
public enum Anchoring {
    /// The algorithm version; recorded next to projected anchors so a change is visible.
    public static let version = 1

    /// A fuzzy match scoring at least this (per mille) is anchored (`fuzzy`): at most 15 % of the
    /// longer of quote and match differs — typo fixes, spelling variants, punctuation, one word in a
    /// sentence.
    public static let anchorThreshold = 850
    /// A best fuzzy match scoring at least this (per mille) but below `anchorThreshold` is
    /// `needsReview`: shown with its score and position, never anchored. Below it the span is
    /// `orphaned`. Unrelated English text of the same length typically scores 300–550 against a quote
    /// (a window is searched for its best substring), so 600 keeps chance resemblance out of review.
    public static let reviewThreshold = 600

    /// How many scalars of the old context (the end of `prefix`, the start of `suffix`) seed the fuzzy
    /// search.
    public static let seedContextLength = 16
    /// The length of the quote chunks whose occurrences seed the fuzzy search.
    public static let chunkLength = 8
    /// A context piece or chunk occurring more often than this in the new text seeds nothing (too
    /// common to say where the quote went).
    public static let maxSeedOccurrences = 16
    /// How many candidate windows the fuzzy search compares in full.
    public static let maxCandidates = 4
    /// Quotes longer than this (scalars) are only found exactly (`exact`/`moved`), never fuzzily; this
    /// bounds the cost of one call.
    public static let maxFuzzyLength = 8192

    /// Re-finds `old` (a selector into an older revision) in `newText`, the NFC text of the new
    /// revision. Never traps, whatever the selector holds.
    public static func reanchor(_ old: TextSelector, in newText: String) -> AnchorResult {
        reanchor(old, in: ScalarText(newText))
    }

    /// A revision's text prepared once for many `reanchor` calls.
    public struct PreparedText: Sendable {
        let scalars: ScalarText
        /// (A large text gets a suffix index once searched often enough: `LazySuffixIndex`.)
        public init(_ text: String) { scalars = ScalarText(text, indexed: true) }
        /// Its length in Unicode scalars (it holds 4 bytes per scalar).
        public var count: Int { scalars.count }
        /// Whether `selector`'s `[start, end)` lies in this text and its scalars are exactly `exact`.
        public func matches(_ selector: TextSelector) -> Bool {
            selector.start >= 0 && selector.start <= selector.end && selector.end <= count
                && selector.exact.unicodeScalars.count == selector.end - selector.start
                && scalars.hasMatch(Array(selector.exact.unicodeScalars), at: selector.start)
        }
    }

    /// As `reanchor(_:in:)` on a text prepared once.
    public static func reanchor(_ old: TextSelector, in text: PreparedText) -> AnchorResult {
        reanchor(old, in: text.scalars)
    }

    /// Re-finds every selector in the same new text (the text is converted to scalars once).
    public static func reanchor(_ olds: [TextSelector], in newText: String) -> [AnchorResult] {
        let t = ScalarText(newText, indexed: true)
        return olds.map { reanchor($0, in: t) }
    }

    // MARK: - The algorithm (Protocol/09-anchoring.md §3)

    /// Exact occurrences beyond which step 1 searches the best context through the suffix index
    /// instead of comparing the context at every occurrence.
    static let contextSearchAbove = 1024

    /// `fastPath: false` (tests) skips the shortcut for a quote still at its old start with its
    /// context; `contextSearchAbove` (tests) is the number of occurrences from which step 1 searches
    /// the best context through the suffix index, when the text has one.
    static func reanchor(_ old: TextSelector, in t: ScalarText, fastPath: Bool = true,
                         contextSearchAbove: Int = Anchoring.contextSearchAbove) -> AnchorResult {
        let q = Array(old.exact.unicodeScalars)
        let n = q.count, count = t.count
        guard n > 0 else { return AnchorResult(status: .orphaned, score: 0) }
        // The old position, clamped into the new text: the reference for "nearest".
        let origin = min(max(old.start, 0), count)
        let prefix = Array(old.prefix.unicodeScalars), suffix = Array(old.suffix.unicodeScalars)

        // 1. Exact occurrences: best context agreement, then nearest to the old start, then first.
        // The quote still at its old start with its whole context is that best one (agreement
        // cannot be higher, distance not lower): the common case, found without a pass over the text.
        if fastPath, n <= count, old.start >= 0, old.start <= count - n, t.hasMatch(q, at: old.start), t.scalars.withUnsafeBufferPointer({ text in
            agreementBefore(prefix, text, old.start) + agreementAfter(suffix, text, old.start + n) == prefix.count + suffix.count
        }) {
            let status: AnchorResult.Status = old.end == old.start + n ? .exact : .moved
            return AnchorResult(status: status, score: 1000, selector: t.selector(old.start, old.start + n))
        }
        // (One search of the text, through its suffix index once it has one.)
        let index = t.index?.index(for: t.scalars)
        var found = -1
        if let index, index.count(of: q, in: t.scalars) > contextSearchAbove {
            found = bestByContext(q, prefix, suffix, origin: origin, index, t.scalars)
        } else {
            // The best is the least (−agreement, distance, start): found in one pass over the
            // occurrences in any order (the suffix index gives them unsorted; sorting millions of
            // occurrences of a one-letter quote took most of 0.2 s per annotation on a 4 MB text).
            var foundAgreement = -1, foundDistance = Int.max
            t.scalars.withUnsafeBufferPointer { text in
                let consider = { (s: Int) in
                    let agreement = agreementBefore(prefix, text, s) + agreementAfter(suffix, text, s + n)
                    let distance = s > origin ? s - origin : origin - s
                    if agreement > foundAgreement || (agreement == foundAgreement && (distance < foundDistance || (distance == foundDistance && s < found))) {
                        found = s; foundAgreement = agreement; foundDistance = distance
                    }
                }
                if let index { index.forEachOccurrence(of: q, in: t.scalars, consider) } else { t.occurrences(of: q, consider) }
            }
        }
        if found >= 0 {
            let status: AnchorResult.Status = found == old.start && old.end == found + n ? .exact : .moved
            return AnchorResult(status: status, score: 1000, selector: t.selector(found, found + n))
        }
        guard n <= maxFuzzyLength, n >= 2 else { return AnchorResult(status: .orphaned, score: 0) }

        // 2. Seeds: estimated starts of the quote in the new text.
        var seeds: [Int] = [origin]
        if !prefix.isEmpty {
            let piece = Array(prefix.suffix(seedContextLength))
            if let found = t.occurrences(of: piece, limit: maxSeedOccurrences) { seeds += found.map { $0 + piece.count } }
        }
        if !suffix.isEmpty {
            let piece = Array(suffix.prefix(seedContextLength))
            if let found = t.occurrences(of: piece, limit: maxSeedOccurrences) { seeds += found.map { $0 - n } }
        }
        if n >= 2 * chunkLength {
            if let index = t.index?.index(for: t.scalars) {
                for c in 0..<(n / chunkLength) {
                    if let positions = index.occurrences(of: Array(q[(c * chunkLength)..<(c * chunkLength + chunkLength)]), in: t.scalars,
                                                         limit: maxSeedOccurrences) {
                        seeds += positions.map { $0 - c * chunkLength }
                    }
                }
            } else {
                let hits = chunkOccurrences(q, in: t.scalars)
                for (c, positions) in hits.enumerated() where positions.count <= maxSeedOccurrences {
                    seeds += positions.map { $0 - c * chunkLength }
                }
            }
        }

        // 3. Candidates: seeds with the most support (seeds within `band`), nearest to the origin first.
        seeds.sort()
        let band = n / 4 + 8
        var support = [Int](repeating: 0, count: seeds.count)
        var lo = 0, hi = 0
        for i in seeds.indices {
            while seeds[lo] < seeds[i] - band { lo += 1 }
            while hi < seeds.count && seeds[hi] <= seeds[i] + band { hi += 1 }
            support[i] = hi - lo
        }
        var order = Array(seeds.indices)
        order.sort { a, b in
            if support[a] != support[b] { return support[a] > support[b] }
            let da = abs(seeds[a] - origin), db = abs(seeds[b] - origin)
            if da != db { return da < db }
            return seeds[a] < seeds[b]
        }
        var picked: [Int] = []
        for i in order where picked.count < maxCandidates {
            let d = seeds[i]
            if picked.contains(where: { abs($0 - d) <= n }) { continue }
            picked.append(d)
        }

        // 4. Compare each candidate window in full (bounded edit distance, bit-parallel).
        let slack = n + 16
        let matcher = Matcher(q)
        var best: (score: Int, start: Int, end: Int)? = nil
        for d in picked {
            let wlo = max(0, d - slack), whi = min(count, d + n + slack)
            guard wlo < whi, var m = matcher.bestMatch(in: t.scalars, lo: wlo, hi: whi) else { continue }
            // Whole words: a span cut inside a word where the old one was not is widened to the word.
            let (ws, we) = widened(m.start, m.end, t.scalars, q, prefix, suffix)
            if (ws, we) != (m.start, m.end) {
                m = (matcher.distance(t.scalars, ws, we), ws, we)
            }
            let length = m.end - m.start
            let longer = max(n, length)
            let score = (longer - m.distance) * 1000 / longer
            if let b = best {
                let db = abs(b.start - origin), dm = abs(m.start - origin)
                guard score > b.score || (score == b.score && (dm < db || (dm == db && m.start < b.start))) else { continue }
            }
            best = (score, m.start, m.end)
        }
        guard let b = best else { return AnchorResult(status: .orphaned, score: 0) }
        if b.score >= anchorThreshold {
            return AnchorResult(status: .fuzzy, score: b.score, selector: t.selector(b.start, b.end))
        }
        if b.score >= reviewThreshold {
            return AnchorResult(status: .needsReview, score: b.score, candidate: t.selector(b.start, b.end))
        }
        return AnchorResult(status: .orphaned, score: b.score)
    }

    /// Letters, marks and decimal digits: what a word is made of (06 §3 tokens, without apostrophes).
    static func isWord(_ u: Unicode.Scalar) -> Bool {
        let p = u.properties
        if p.isAlphabetic || p.numericType == .decimal { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// §3.5 widening: when the old quote ended at a word boundary (its last scalar a word scalar, its
    /// suffix empty or starting with a non-word scalar) but the match ends between two word scalars,
    /// the end moves forward over word scalars (at most `TextSelector.contextLength`); the same for
    /// the start, backward.
    static func widened(_ s0: Int, _ e0: Int, _ t: [Unicode.Scalar], _ q: [Unicode.Scalar],
                        _ prefix: [Unicode.Scalar], _ suffix: [Unicode.Scalar]) -> (Int, Int) {
        var s = s0, e = e0
        guard s < e else { return (s, e) }
        if isWord(q[q.count - 1]), suffix.first.map({ !isWord($0) }) ?? true,
           e < t.count, isWord(t[e - 1]), isWord(t[e]) {
            let limit = min(t.count, e + TextSelector.contextLength)
            while e < limit && isWord(t[e]) { e += 1 }
        }
        if isWord(q[0]), prefix.last.map({ !isWord($0) }) ?? true,
           s > 0, isWord(t[s]), isWord(t[s - 1]) {
            let limit = max(0, s - TextSelector.contextLength)
            while s > limit && isWord(t[s - 1]) { s -= 1 }
        }
        return (s, e)
    }

    /// Step 1 for a quote with many occurrences (at least one), through the suffix index: the
    /// agreement of an occurrence is a + b when the text holds the last a scalars of the prefix,
    /// the quote, then the first b of the suffix there — and every such (a, b) holds at fewer too —
    /// so the best agreement is found on the staircase of the largest b for each a (a few searches
    /// per context scalar), and the best occurrence among those of its patterns by distance, then
    /// start. Same result as comparing the context at every occurrence (millions, for a one-letter
    /// quote in a large text: 0.1 s per annotation at 4 MB).
    static func bestByContext(_ q: [Unicode.Scalar], _ prefix: [Unicode.Scalar], _ suffix: [Unicode.Scalar], origin: Int,
                              _ index: SuffixIndex, _ text: [Unicode.Scalar]) -> Int {
        func pattern(_ a: Int, _ b: Int) -> [Unicode.Scalar] { Array(prefix[(prefix.count - a)...]) + q + Array(suffix[..<b]) }
        func occurs(_ a: Int, _ b: Int) -> Bool { index.count(of: pattern(a, b), in: text) > 0 }
        var b = 0
        while b < suffix.count && occurs(0, b + 1) { b += 1 }
        var staircase = [(a: 0, b: b)]
        for a in stride(from: 1, through: prefix.count, by: 1) {
            while b >= 0 && !occurs(a, b) { b -= 1 }
            if b < 0 { break }
            staircase.append((a, b))
        }
        let most = staircase.map { $0.a + $0.b }.max()!
        var found = -1, foundDistance = Int.max
        for step in staircase where step.a + step.b == most {
            index.forEachOccurrence(of: pattern(step.a, step.b), in: text) { start in
                let s = start + step.a, distance = abs(start + step.a - origin)
                if distance < foundDistance || (distance == foundDistance && s < found) { found = s; foundDistance = distance }
            }
        }
        return found
    }

    /// How many scalars at the end of `context` equal those just before `position` (at most all of it).
    static func agreementBefore(_ context: [Unicode.Scalar], _ text: UnsafeBufferPointer<Unicode.Scalar>, _ position: Int) -> Int {
        var k = 0
        while k < context.count && position - 1 - k >= 0 && context[context.count - 1 - k] == text[position - 1 - k] { k += 1 }
        return k
    }

    /// How many scalars at the start of `context` equal those from `position` on.
    static func agreementAfter(_ context: [Unicode.Scalar], _ text: UnsafeBufferPointer<Unicode.Scalar>, _ position: Int) -> Int {
        var k = 0
        while k < context.count && position + k < text.count && context[k] == text[position + k] { k += 1 }
        return k
    }

    /// For each chunk `c` of the quote (scalars `[c·L, c·L + L)`, L = `chunkLength`, whole chunks only),
    /// its occurrence starts in the text, overlapping ones included — or more than
    /// `maxSeedOccurrences` of them when it is too common (the list is then cut short).
    ///
    /// One pass over the text with a rolling hash; the hash only filters, every hit is compared scalar
    /// by scalar, so the result is exactly the occurrences whatever the hash.
    static func chunkOccurrences(_ q: [Unicode.Scalar], in text: [Unicode.Scalar]) -> [[Int]] {
        let len = chunkLength, chunks = q.count / len
        var hits = [[Int]](repeating: [], count: chunks)
        guard chunks > 0, text.count >= len else { return hits }
        let base: UInt64 = 0x0000_0100_0000_01B3
        var top: UInt64 = 1
        for _ in 1..<len { top = top &* base }
        func hash(_ a: [Unicode.Scalar], _ from: Int) -> UInt64 {
            var h: UInt64 = 0
            for i in from..<(from + len) { h = h &* base &+ UInt64(a[i].value) }
            return h
        }
        // Identical chunks are looked for once (a quote of one repeated letter must not cost chunks × N).
        var distinct: [ArraySlice<Unicode.Scalar>] = [], chunksOf: [[Int]] = []
        var byHash: [UInt64: [Int]] = [:]
        for c in 0..<chunks {
            let chunk = q[(c * len)..<(c * len + len)]
            let h = hash(q, c * len)
            if let d = byHash[h]?.first(where: { distinct[$0] == chunk }) {
                chunksOf[d].append(c)
            } else {
                byHash[h, default: []].append(distinct.count)
                distinct.append(chunk)
                chunksOf.append([c])
            }
        }
        var found = [[Int]](repeating: [], count: distinct.count)
        var h = hash(text, 0)
        var p = 0
        while true {
            if let ds = byHash[h] {
                for d in ds where found[d].count <= maxSeedOccurrences {
                    let chunk = distinct[d]
                    var same = true
                    var i = 0
                    for u in chunk { if text[p + i] != u { same = false; break }; i += 1 }
                    if same { found[d].append(p) }
                }
            }
            if p + len >= text.count { break }
            h = (h &- UInt64(text[p].value) &* top) &* base &+ UInt64(text[p + len].value)
            p += 1
        }
        for d in distinct.indices { for c in chunksOf[d] { hits[c] = found[d] } }
        return hits
    }

    /// Edit distance of a quote against the substrings of a window, bit-parallel (Myers 1999, in
    /// Hyyrö's block form): O(⌈n/64⌉) word operations per window scalar.
    struct Matcher {
        let n: Int
        let blocks: Int
        let lastBit: Int
        /// Scalar → row of `forward`/`backward` (row 0: a scalar not in the quote).
        let rows: [UInt32: Int]
        /// `blocks` words per row: bit i of block b set when quote scalar 64·b + i is the row's scalar.
        let forward: [UInt64]
        /// The same for the reversed quote.
        let backward: [UInt64]

        init(_ q: [Unicode.Scalar]) {
            n = q.count
            blocks = (n + 63) / 64
            lastBit = (n - 1) % 64
            var rows: [UInt32: Int] = [:]
            for s in q where rows[s.value] == nil { rows[s.value] = rows.count + 1 }
            var f = [UInt64](repeating: 0, count: (rows.count + 1) * blocks)
            var b = f
            for (i, s) in q.enumerated() {
                let r = rows[s.value]!
                f[r * blocks + i / 64] |= 1 << UInt64(i % 64)
                let j = n - 1 - i
                b[r * blocks + j / 64] |= 1 << UInt64(j % 64)
            }
            self.rows = rows
            forward = f
            backward = b
        }

        /// The smallest edit distance `D` between the quote and a substring `[s, e)` of the window
        /// `[lo, hi)`; among those of distance `D`, the largest `e`, then the smallest `s`. Nil when
        /// nothing beats the empty match (`D == n`).
        func bestMatch(in text: [Unicode.Scalar], lo: Int, hi: Int) -> (distance: Int, start: Int, end: Int)? {
            var pv = [UInt64](repeating: ~0, count: blocks), mv = [UInt64](repeating: 0, count: blocks)
            return pv.withUnsafeMutableBufferPointer { pv in
                mv.withUnsafeMutableBufferPointer { mv in
                    forward.withUnsafeBufferPointer { forward in
                        backward.withUnsafeBufferPointer { backward in
                            text.withUnsafeBufferPointer { text in
                                bestMatch(text, lo, hi, pv, mv, forward, backward)
                            }
                        }
                    }
                }
            }
        }

        private func bestMatch(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ lo: Int, _ hi: Int,
                               _ pv: UnsafeMutableBufferPointer<UInt64>, _ mv: UnsafeMutableBufferPointer<UInt64>,
                               _ forward: UnsafeBufferPointer<UInt64>, _ backward: UnsafeBufferPointer<UInt64>)
            -> (distance: Int, start: Int, end: Int)? {
            let last = blocks - 1
            // Forward, free start in the text: after scalar j, `score` = min over s of lev(q, text[s..<j+1]).
            var score = n, bestD = n, bestEnd = lo
            for j in lo..<hi {
                let base = (rows[text[j].value] ?? 0) * blocks
                var h = 0
                for b in 0..<last { h = Self.step(&pv[b], &mv[b], forward[base + b], h, 63) }
                score += Self.step(&pv[last], &mv[last], forward[base + last], h, lastBit)
                if score <= bestD { bestD = score; bestEnd = j + 1 }
            }
            guard bestD < n else { return nil }
            // Backward from the end, text start fixed there: after k scalars, lev(q, text[end-k..<end]).
            for b in 0..<blocks { pv[b] = ~0; mv[b] = 0 }
            score = n
            var bestStart = bestEnd
            var p = bestEnd - 1
            while p >= lo {
                let base = (rows[text[p].value] ?? 0) * blocks
                var h = 1
                for b in 0..<last { h = Self.step(&pv[b], &mv[b], backward[base + b], h, 63) }
                score += Self.step(&pv[last], &mv[last], backward[base + last], h, lastBit)
                if score == bestD { bestStart = p }
                p -= 1
            }
            return (bestD, bestStart, bestEnd)
        }

        /// lev(q, text[start..<end]) (the backward pass, read at the span's length).
        func distance(_ text: [Unicode.Scalar], _ start: Int, _ end: Int) -> Int {
            var pv = [UInt64](repeating: ~0, count: blocks), mv = [UInt64](repeating: 0, count: blocks)
            var score = n
            var p = end - 1
            while p >= start {
                let base = (rows[text[p].value] ?? 0) * blocks
                var h = 1
                for b in 0..<blocks {
                    h = Self.step(&pv[b], &mv[b], backward[base + b], h, b == blocks - 1 ? lastBit : 63)
                }
                score += h
                p -= 1
            }
            return score
        }

        /// One column step of one 64-row block: `hin` is the horizontal difference entering at the
        /// block's top row, the result the one leaving at row `outBit`.
        @inline(__always)
        static func step(_ pv: inout UInt64, _ mv: inout UInt64, _ eqIn: UInt64, _ hin: Int, _ outBit: Int) -> Int {
            let hinNegative: UInt64 = hin < 0 ? 1 : 0
            let xv = eqIn | mv
            let eq = eqIn | hinNegative
            let xh = (((eq & pv) &+ pv) ^ pv) | eq
            var ph = mv | ~(xh | pv)
            var mh = pv & xh
            let out = (ph >> UInt64(outBit)) & 1 == 1 ? 1 : ((mh >> UInt64(outBit)) & 1 == 1 ? -1 : 0)
            ph <<= 1
            mh <<= 1
            mh |= hinNegative
            if hin > 0 { ph |= 1 }
            pv = mh | ~(xv | ph)
            mv = ph & xv
            return out
        }
    }
}

/// The outcome of re-anchoring one selector (Protocol/09-anchoring.md §2).
public struct AnchorResult: Codable, Equatable, Hashable, Sendable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// The same quote at the same position (and no occurrence with better context elsewhere).
        case exact
        /// The same quote, found elsewhere.
        case moved
        /// Similar text, scoring at least `Anchoring.anchorThreshold`: anchored there.
        case fuzzy
        /// The best similar text scores between the thresholds: shown (`candidate`), not anchored.
        case needsReview = "needs-review"
        /// Nothing similar enough.
        case orphaned
    }

    public var status: Status
    /// Similarity in per mille (0…1000): 1000 for `exact` and `moved`; for the others the best
    /// candidate's score (0 when there was none).
    public var score: Int
    /// The new selector in the new text (fresh context and positions), for `exact`, `moved`, `fuzzy`.
    public var selector: TextSelector?
    /// For `needsReview`: the span that would be anchored if an analyst confirms it.
    public var candidate: TextSelector?
    /// `Anchoring.version` of the code that computed this.
    public var version: Int

    public init(status: Status, score: Int, selector: TextSelector? = nil, candidate: TextSelector? = nil,
                version: Int = Anchoring.version) {
        self.status = status
        self.score = score
        self.selector = selector
        self.candidate = candidate
        self.version = version
    }

    /// Whether the span is anchored in the new text (`exact`, `moved` or `fuzzy`).
    public var isAnchored: Bool { selector != nil }

    /// `score` as a fraction 0…1, for display only (decisions use the integer).
    public var fraction: Double { Double(score) / 1000 }
}
