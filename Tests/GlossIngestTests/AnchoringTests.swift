import Foundation
@testable import GlossIngest
import GlossTestSupport
import Testing

@Suite struct AnchoringTests {
    let text = """
    Azerbaijan, Turkey and Pakistan will hold joint special forces exercises in September this year, \
    Azerbaijani Defense Minister Zakir Hasanov said Saturday. The exercises will take place near Baku.
    """

    func select(_ quote: String, in text: String, occurrence: Int? = nil) throws -> TextSelector {
        try TextSelector.locate(quote: quote, in: text, occurrence: occurrence)
    }

    @Test func anUnchangedTextIsExact() throws {
        let old = try select("Zakir Hasanov", in: text)
        let r = Anchoring.reanchor(old, in: text)
        #expect(r.status == .exact && r.score == 1000 && r.selector == old && r.candidate == nil)
        #expect(r.isAnchored && r.version == Anchoring.version)
    }

    @Test func textInsertedBeforeMovesTheSpan() throws {
        let old = try select("Zakir Hasanov", in: text)
        let inserted = "BAKU (Reuters) – "
        let new = inserted + text
        let r = Anchoring.reanchor(old, in: new)
        #expect(r.status == .moved && r.score == 1000)
        let s = try #require(r.selector)
        #expect(s.start == old.start + inserted.unicodeScalars.count && s.end == old.end + inserted.unicodeScalars.count)
        #expect(s.matches(new) && s.prefix == old.prefix && s.suffix == old.suffix)
    }

    @Test func textChangedAfterTheContextKeepsTheSpanExact() throws {
        let old = try select("joint special forces", in: text)
        let new = text.replacingOccurrences(of: "near Baku", with: "in Nakhchivan")
        let r = Anchoring.reanchor(old, in: new)
        #expect(r.status == .exact && r.selector == old)
        // Changed context, same quote, same place: still exact, with the fresh context.
        let new2 = text.replacingOccurrences(of: "will hold", with: "are to hold")
        let r2 = Anchoring.reanchor(old, in: new2)
        #expect(r2.status == .moved)   // the quote shifted by one scalar ("will hold" → "are to hold")
        #expect(r2.selector?.start == old.start + 2 && r2.selector?.prefix.hasSuffix("are to hold ") == true)
    }

    @Test func aRewordedWordIsFuzzyWithAScore() throws {
        let old = try select("Azerbaijani Defense Minister Zakir Hasanov said Saturday", in: text)
        let new = text.replacingOccurrences(of: "Defense", with: "Defence")
        let r = Anchoring.reanchor(old, in: new)
        #expect(r.status == .fuzzy)
        #expect(r.score == (56 - 1) * 1000 / 56)
        let s = try #require(r.selector)
        #expect(s.exact == "Azerbaijani Defence Minister Zakir Hasanov said Saturday" && s.start == old.start)
        #expect(s.matches(new))
    }

    @Test func rewordedEvidenceNeedsReviewAndIsNotAnchored() throws {
        let old = try select("joint special forces exercises in September this year", in: text)
        let new = text.replacingOccurrences(of: "joint special forces exercises in September this year",
                                            with: "joint naval exercises in October next year")
        let r = Anchoring.reanchor(old, in: new)
        #expect(r.status == .needsReview)
        #expect(r.selector == nil && !r.isAnchored)
        #expect(r.score >= Anchoring.reviewThreshold && r.score < Anchoring.anchorThreshold)
        let c = try #require(r.candidate)
        #expect(c.matches(new))
        #expect(c.exact.hasPrefix("joint ") && c.exact.hasSuffix(" year"))
    }

    @Test func aDeletedSpanIsOrphaned() throws {
        let old = try select("Azerbaijani Defense Minister Zakir Hasanov said Saturday.", in: text)
        let new = text.replacingOccurrences(of: " Azerbaijani Defense Minister Zakir Hasanov said Saturday.", with: "")
        let r = Anchoring.reanchor(old, in: new)
        #expect(r.status == .orphaned && r.selector == nil && r.candidate == nil)
        #expect(r.score < Anchoring.reviewThreshold)
        let short = try select("Hasanov", in: text)
        #expect(Anchoring.reanchor(short, in: new).status == .orphaned)
    }

    @Test func aRepeatedQuoteIsChosenByContextThenByNearness() throws {
        let t = "the minister said yes. Later the minister said no. Then the minister left."
        let second = try select("the minister", in: t, occurrence: 2)
        // Text inserted at the start: every occurrence shifts; context picks the second again.
        let new = "Monday: " + t
        let r = Anchoring.reanchor(second, in: new)
        #expect(r.status == .moved && r.selector?.start == second.start + 8 && r.selector?.prefix.hasSuffix("Later ") == true)
        // A selector with no context picks the occurrence nearest its old start (occurrences: 0, 29, 56).
        let bare = TextSelector(exact: "the minister", prefix: "", suffix: "", start: 40, end: 52)
        #expect(Anchoring.reanchor(bare, in: t).selector?.start == 29)
        let between = TextSelector(exact: "the minister", prefix: "", suffix: "", start: 7, end: 19)
        #expect(Anchoring.reanchor(between, in: t).selector?.start == 0)   // 7 from 0, 22 from 29
        // Equally near: the first in text order.
        let tie = TextSelector(exact: "ab", prefix: "", suffix: "", start: 3, end: 5)
        #expect(Anchoring.reanchor(tie, in: "ab-xx-ab").selector?.start == 0)   // 3 from 0, 3 from 6
        // An occurrence now standing at the old position with the wrong context loses to the right one.
        let lead = String(repeating: "a", count: 29) + "the minister spoke. "
        let crowded = lead + t
        #expect(scalarOffset(of: "the minister", in: crowded) == 29)
        let r2 = Anchoring.reanchor(second, in: crowded)
        #expect(r2.status == .moved && r2.selector?.start == 29 + 20 + 29)
    }

    @Test func positionsCountScalarsWithCombiningMarksAndEmoji() throws {
        let raw = "Caf\u{65}\u{301} q\u{301} 👩‍👩‍👧‍👦 🇺🇦 Hasanov said 👍🏽 it"
        let t = raw.precomposedStringWithCanonicalMapping
        let old = try select("Hasanov said 👍🏽", in: t)
        let inserted = "🇦🇿 q\u{301} "
        let new = (inserted + raw).precomposedStringWithCanonicalMapping
        let r = Anchoring.reanchor(old, in: new)
        let s = try #require(r.selector)
        #expect(r.status == .moved && s.start == old.start + 6 && s.end == old.end + 6)   // 2 + 1 + 2 + 1 scalars
        #expect(s.matches(new))
        // A quote ending inside a cluster (q without its accent) and a fuzzy change of one emoji scalar.
        let q = try select("q", in: t)
        #expect(Anchoring.reanchor(q, in: t).status == .exact)
        let thumbs = try select("Hasanov said 👍🏽 it", in: t)
        let toned = t.replacingOccurrences(of: "👍🏽", with: "👍🏿")
        let f = Anchoring.reanchor(thumbs, in: toned)
        #expect(f.status == .fuzzy && f.score == (18 - 1) * 1000 / 18 && f.selector?.matches(toned) == true)
    }

    @Test func degenerateInputsNeverTrap() throws {
        let weird: [TextSelector] = [
            TextSelector(exact: "", prefix: "", suffix: "", start: 0, end: 0),
            TextSelector(exact: "x", prefix: "", suffix: "", start: -5, end: -4),
            TextSelector(exact: "xyz", prefix: "abc", suffix: "def", start: Int.max - 1, end: Int.min),
            TextSelector(exact: "Hasanov", prefix: String(repeating: "a", count: 100), suffix: "", start: Int.min, end: Int.max),
            TextSelector(exact: "ab", prefix: "", suffix: "", start: 3, end: 1),
        ]
        for s in weird {
            for t in ["", "x", "ab", text, "abababababababab"] {
                let r = Anchoring.reanchor(s, in: t)
                #expect((0...1000).contains(r.score))
                if let sel = r.selector { #expect(sel.matches(t)) }
                if s.exact.isEmpty { #expect(r.status == .orphaned) }
            }
        }
        // A selector whose end disagrees with its quote is not "exact" even at the same start.
        let at = try select("Hasanov", in: text)
        let bad = TextSelector(exact: "Hasanov", prefix: at.prefix, suffix: at.suffix, start: at.start, end: at.start + 1)
        #expect(Anchoring.reanchor(bad, in: text).status == .moved)
        #expect(Anchoring.reanchor(at, in: text).status == .exact)
    }

    @Test func theMatcherAgreesWithPlainDynamicProgramming() {
        var rng = SplitMix64(seed: testSeed("anchoring-matcher"))
        let alphabet: [Unicode.Scalar] = ["a", "b", "c", "é", "👍"]
        for _ in 0..<400 {
            let n = Int.random(in: 1...(rng.chance(0.2) ? 140 : 12), using: &rng)
            let q = (0..<n).map { _ in rng.pick(alphabet) }
            let t = (0..<Int.random(in: 0...40, using: &rng)).map { _ in rng.pick(alphabet) }
            let lo = Int.random(in: 0...t.count, using: &rng), hi = Int.random(in: lo...t.count, using: &rng)
            let got = Anchoring.Matcher(q).bestMatch(in: t, lo: lo, hi: hi)
            // Reference: every substring, the rule of §3.5 spelled out (lev of each [s, e) by plain DP).
            var table: [[Int]] = []   // table[s - lo][e - s] = lev(q, t[s..<e])
            for s in lo...hi { table.append(distancesFrom(q, Array(t[s..<hi]))) }
            let bestD = table.flatMap { $0 }.min()!
            var want: (distance: Int, start: Int, end: Int)? = nil
            if bestD < n {
                let e = (lo...hi).last { e in (lo...e).contains { table[$0 - lo][e - $0] == bestD } }!
                let s = (lo...e).first { table[$0 - lo][e - $0] == bestD }!
                want = (bestD, s, e)
            }
            let ds = Int.random(in: 0...t.count, using: &rng), de = Int.random(in: ds...t.count, using: &rng)
            #expect(Anchoring.Matcher(q).distance(t, ds, de) == distancesFrom(q, Array(t[ds..<de])).last!)
            #expect(got?.distance == want?.distance && got?.start == want?.start && got?.end == want?.end,
                    "q=\(String(String.UnicodeScalarView(q))) t=\(String(String.UnicodeScalarView(t))) [\(lo),\(hi))")
        }
    }

    @Test func spansAreWidenedToWholeWordsOnlyWhereTheOldOneWasWhole() {
        func w(_ t: String, _ s: Int, _ e: Int, quote: String, prefix: String = "", suffix: String = "") -> [Int] {
            let (a, b) = Anchoring.widened(s, e, Array(t.unicodeScalars), Array(quote.unicodeScalars),
                                           Array(prefix.unicodeScalars), Array(suffix.unicodeScalars))
            return [a, b]
        }
        let t = "the talks went badly, indeed"
        #expect(w(t, 4, 19, quote: "talks went well", prefix: "the ", suffix: ", ok") == [4, 20])
        #expect(w(t, 4, 19, quote: "talks went well", prefix: "the ", suffix: "ish") == [4, 19])    // the old end was inside a word
        #expect(w(t, 4, 19, quote: "talks went wel.", prefix: "the ", suffix: "") == [4, 19])       // the quote ended on punctuation
        #expect(w(t, 6, 14, quote: "talks went", prefix: "", suffix: "") == [4, 14])
        #expect(w(t, 6, 14, quote: "talks went", prefix: "s", suffix: "") == [6, 14])
        #expect(w("q\u{301}q\u{301}", 1, 3, quote: "ab") == [0, 4])   // marks are word scalars
        #expect(w(t, 5, 5, quote: "x") == [5, 5])
        let long = String(repeating: "a", count: 100)
        #expect(w(long, 50, 60, quote: "aa") == [50 - 32, 60 + 32])
    }

    @Test func chunkOccurrencesAreExactAndCapped() {
        let q = Array("abcdefghabcdefgh12345678".unicodeScalars)
        let t = Array(("xxabcdefgh" + String(repeating: "12345678", count: 30)).unicodeScalars)
        let hits = Anchoring.chunkOccurrences(q, in: t)
        #expect(hits.count == 3)
        #expect(hits[0] == [2] && hits[1] == [2])
        #expect(hits[2].count == Anchoring.maxSeedOccurrences + 1)   // too common: cut short, seeds nothing
    }

    /// The suffix index (searches in O(m log N + k) for the many searches of one revision's
    /// re-anchoring) finds exactly what a pass finds, on texts of few letters (many repeats,
    /// overlapping occurrences, patterns running past the end), and honours the limit.
    @Test func theSuffixIndexFindsExactlyWhatAPassFinds() {
        let seed = testSeed("suffix-index")
        var rng = SplitMix64(seed: seed)
        print("[suffix-index] seed \(seed)")
        let alphabets: [[Unicode.Scalar]] = [["a"], ["a", "b"], ["a", "b", "é", "👍"], Array("the quick brown fox".unicodeScalars)]
        for round in 0..<300 {
            let letters = rng.pick(alphabets)
            let text = (0..<Int.random(in: 1...2_000, using: &rng)).map { _ in rng.pick(letters) }
            let t = ScalarText(String(String.UnicodeScalarView(text)))
            let index = SuffixIndex(text)
            #expect(index.order.count == text.count && Set(index.order).count == text.count)
            for _ in 0..<10 {
                let pattern: [Unicode.Scalar]
                if rng.chance(0.6) {
                    let a = Int.random(in: 0..<text.count, using: &rng)
                    pattern = Array(text[a..<min(text.count, a + Int.random(in: 1...40, using: &rng))]) + (rng.chance(0.2) ? [rng.pick(letters)] : [])
                } else {
                    pattern = (0..<Int.random(in: 1...6, using: &rng)).map { _ in rng.pick(letters) }
                }
                let expected = t.occurrences(of: pattern)
                #expect(index.occurrences(of: pattern, in: text) == expected, "seed \(seed) round \(round)")
                let limit = Int.random(in: 0...20, using: &rng)
                #expect(index.occurrences(of: pattern, in: text, limit: limit) == (expected.count <= limit ? expected : nil))
            }
        }
    }

    /// Random texts of words, a random span, a random edit: the invariants hold whatever happens.
    @Test func randomEditsKeepTheInvariants() throws {
        var rng = SplitMix64(seed: testSeed("anchoring-random"))
        let words = ["the", "minister", "said", "talks", "Baku", "Zakir", "q\u{301}", "👍🏽", "forces", "exercises",
                     "in", "September", "joint", "near", "Hasanov", "будет", "учения", "🇺🇦", "and", "with"]
        var counts: [AnchorResult.Status: Int] = [:]
        for _ in 0..<300 {
            let base = (0..<Int.random(in: 5...120, using: &rng)).map { _ in rng.pick(words) }
                .joined(separator: rng.chance(0.1) ? "\n" : " ").precomposedStringWithCanonicalMapping
            let scalars = Array(base.unicodeScalars)
            let start = Int.random(in: 0..<scalars.count, using: &rng)
            let end = Int.random(in: (start + 1)...min(scalars.count, start + 60), using: &rng)
            let old = TextSelector.selector(in: base, start: start, end: end)
            // An edit: insert, delete or replace a random range anywhere (sometimes inside the span).
            var edited = scalars
            let a = Int.random(in: 0...scalars.count, using: &rng)
            let b = Int.random(in: a...min(scalars.count, a + 30), using: &rng)
            let insert = Array((0..<Int.random(in: 0...4, using: &rng)).map { _ in rng.pick(words) }.joined(separator: " ").unicodeScalars)
            edited.replaceSubrange(a..<b, with: insert)
            let new = String(String.UnicodeScalarView(edited))
            let r = Anchoring.reanchor(old, in: new)
            counts[r.status, default: 0] += 1
            #expect(r == Anchoring.reanchor(old, in: new))   // deterministic
            // The shortcut for a quote still in place with its context changes no result, nor do
            // searches through a suffix index (built here from the first search).
            #expect(r == Anchoring.reanchor(old, in: ScalarText(new), fastPath: false))
            #expect(r == Anchoring.reanchor(old, in: ScalarText(new, indexed: true, minimumScalars: 0, afterSearches: 0)))
            // Substrings are the scalars they name, in UTF-8 (ASCII, 2-, 3- and 4-byte scalars above).
            let lo = Int.random(in: 0...edited.count, using: &rng), hi = Int.random(in: lo...edited.count, using: &rng)
            #expect(ScalarText(new).string(lo, hi) == String(String.UnicodeScalarView(edited[lo..<hi])))
            #expect((0...1000).contains(r.score))
            switch r.status {
            case .exact, .moved:
                let s = try #require(r.selector)
                #expect(s.matches(new) && s.exact == old.exact && r.score == 1000)
                #expect((r.status == .exact) == (s.start == old.start))
            case .fuzzy:
                let s = try #require(r.selector)
                #expect(s.matches(new) && r.score >= Anchoring.anchorThreshold && r.score < 1000)
            case .needsReview:
                let c = try #require(r.candidate)
                #expect(r.selector == nil && c.matches(new))
                #expect(r.score >= Anchoring.reviewThreshold && r.score < Anchoring.anchorThreshold)
            case .orphaned:
                #expect(r.selector == nil && r.candidate == nil && r.score < Anchoring.reviewThreshold)
            }
            if let s = r.selector ?? r.candidate {
                #expect(s == TextSelector.selector(in: new, start: s.start, end: s.end))   // fresh context
            }
            // An edit well after the span and its context leaves it exact; one well before moves it
            // by the edit's length change.
            let delta = insert.count - (b - a)
            if a > end + TextSelector.contextLength {
                #expect(r.status == .exact && r.selector == old)
            } else if b + TextSelector.contextLength < start && delta != 0 {
                #expect(r.status == .moved && r.selector?.start == start + delta)
            }
        }
        print("[anchoring-random] statuses \(counts.sorted { $0.key.rawValue < $1.key.rawValue })")
    }

    @Test func aLongQuoteInALongTextIsFoundQuickly() throws {
        var rng = SplitMix64(seed: testSeed("anchoring-performance"))
        let words = (0..<3000).map { i in "w\(i)" + (i % 7 == 0 ? "é" : "") }
        var scalars: [Unicode.Scalar] = []
        while scalars.count < 200_000 { scalars += (rng.pick(words) + (rng.chance(0.05) ? ".\n" : " ")).unicodeScalars }
        let text = String(String.UnicodeScalarView(scalars))
        let start = 120_000
        let old = TextSelector.selector(in: text, start: start, end: start + 2_000)
        // Moved: 500 scalars inserted before. Fuzzy: a few words inside changed as well. Orphaned: removed.
        let insert = String(repeating: "x", count: 500)
        let moved = String(String.UnicodeScalarView(scalars[..<1000])) + insert + String(String.UnicodeScalarView(scalars[1000...]))
        var reworded = Array(moved.unicodeScalars)
        for k in [start + 700, start + 1_100, start + 1_900] { reworded.replaceSubrange(k..<(k + 6), with: "CHANGED".unicodeScalars) }
        let rewordedText = String(String.UnicodeScalarView(reworded))
        let removed = String(String.UnicodeScalarView(scalars[..<start])) + String(String.UnicodeScalarView(scalars[(start + 2_000)...]))
        let clock = ContinuousClock()
        for (new, expected) in [(moved, AnchorResult.Status.moved), (rewordedText, .fuzzy), (removed, .orphaned)] {
            var r: AnchorResult? = nil
            let elapsed = clock.measure { r = Anchoring.reanchor(old, in: new) }
            print("[anchoring-performance] \(expected): \(r!.status) score \(r!.score) in \(elapsed)")
            #expect(r?.status == expected)
            #expect(elapsed < .milliseconds(800))
        }
    }

    @Test func repetitiveTextsStayCheap() {
        let clock = ContinuousClock()
        let text = String(repeating: "a", count: 200_000)
        // A quote occurring at every position; one made of a single repeated chunk, not in the text.
        let everywhere = TextSelector.selector(in: text, start: 1_000, end: 1_002)
        let shifted = "b" + text
        let rare = TextSelector(exact: String(repeating: "a", count: 2_000) + "b", prefix: String(repeating: "a", count: 32),
                                suffix: String(repeating: "a", count: 32), start: 150_000, end: 152_001)
        // (Shifted by one, the span's own place still has full context and distance 0: exact again.)
        for (old, new, expected) in [(everywhere, text, AnchorResult.Status.exact), (everywhere, shifted, .exact), (rare, text, .fuzzy)] {
            var r: AnchorResult? = nil
            let elapsed = clock.measure { r = Anchoring.reanchor(old, in: new) }
            print("[anchoring-performance] repetitive \(expected): \(r!.status) score \(r!.score) in \(elapsed)")
            #expect(r?.status == expected)
            #expect(r?.selector?.matches(new) == true)
            #expect(elapsed < .milliseconds(800))
            // Through a suffix index (one repeated scalar: its worst case to build), the same.
            let indexed = ScalarText(new, indexed: true, minimumScalars: 0, afterSearches: 0)
            #expect(Anchoring.reanchor(old, in: indexed) == r)
        }
    }

    @Test func theSampleArticleSurvivesAnEditedRevision() throws {
        let article = try sampleArticle()
        let quotes = ["Zakir Hasanov", "Baku"]
        let olds = try quotes.map { q in try TextSelector.locate(quote: q, in: article.text, occurrence: 1) }
        let revised = "UPDATE: corrected spelling.\n\n" + article.text
        for r in Anchoring.reanchor(olds, in: revised) {
            #expect(r.status == .moved && r.selector?.matches(revised) == true)
        }
    }
}

/// Plain dynamic programming (test oracle): element k is the Levenshtein distance between `q` and the
/// first k scalars of `t`, for k = 0…t.count.
func distancesFrom(_ q: [Unicode.Scalar], _ t: [Unicode.Scalar]) -> [Int] {
    // Column-wise over t: column k holds lev(q[..<i], t[..<k]) for every i; keep the last row.
    var col = Array(0...q.count)
    var result = [q.count]
    for k in 0..<t.count {
        var next = [k + 1]
        for i in 1...max(1, q.count) where q.count > 0 {
            next.append(min(col[i] + 1, next[i - 1] + 1, col[i - 1] + (q[i - 1] == t[k] ? 0 : 1)))
        }
        col = next
        result.append(col[q.count])
    }
    return result
}

/// Protocol/09-anchoring.md §6: the golden vectors hold.
/// Step 1 of re-anchoring (Protocol/09 §3: among exact occurrences, best context agreement, then
/// nearest to the old start, then first) against an oracle written here from the specification:
/// every occurrence listed in text order, the first with the best (agreement, −distance) kept.
/// Texts of two letters make ties in agreement and in distance common; without a suffix index, with
/// one (whose occurrences come unsorted), and with the context searched through it.
@Suite struct ExactOccurrenceTests {
    static func oracle(_ old: TextSelector, _ text: [Unicode.Scalar]) -> Int? {
        let q = Array(old.exact.unicodeScalars), p = Array(old.prefix.unicodeScalars), x = Array(old.suffix.unicodeScalars)
        let origin = min(max(old.start, 0), text.count)
        var best: (agreement: Int, distance: Int, start: Int)?
        for s in 0...max(0, text.count - q.count) where s + q.count <= text.count && Array(text[s..<(s + q.count)]) == q {
            var a = 0
            while a < p.count, s - 1 - a >= 0, p[p.count - 1 - a] == text[s - 1 - a] { a += 1 }
            var b = 0
            while b < x.count, s + q.count + b < text.count, x[b] == text[s + q.count + b] { b += 1 }
            let d = abs(s - origin)
            if best == nil || a + b > best!.agreement || (a + b == best!.agreement && d < best!.distance) { best = (a + b, d, s) }
        }
        return best?.start
    }

    @Test(arguments: (0..<300).map { UInt64(52_000 + $0) })
    func theBestOccurrenceIsTheSpecificationsInAnyOrder(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let letters: [Unicode.Scalar] = ["a", "b"]
        func word(_ n: Int) -> [Unicode.Scalar] { (0..<n).map { _ in letters[Int.random(in: 0..<2, using: &rng)] } }
        let text = word(Int.random(in: 20...300, using: &rng))
        let q = word(Int.random(in: 1...3, using: &rng))
        let old = TextSelector(exact: String(String.UnicodeScalarView(q)), prefix: String(String.UnicodeScalarView(word(Int.random(in: 0...6, using: &rng)))),
                               suffix: String(String.UnicodeScalarView(word(Int.random(in: 0...6, using: &rng)))),
                               start: Int.random(in: -5...(text.count + 5), using: &rng), end: 0)
        guard let expected = Self.oracle(old, text) else { return }
        let string = String(String.UnicodeScalarView(text))
        for (t, above) in [(ScalarText(string), Anchoring.contextSearchAbove),
                           (ScalarText(string, indexed: true, minimumScalars: 0, afterSearches: 0), Anchoring.contextSearchAbove),
                           (ScalarText(string, indexed: true, minimumScalars: 0, afterSearches: 0), 0)] {
            let r = Anchoring.reanchor(old, in: t, fastPath: false, contextSearchAbove: above)
            #expect(r.selector?.start == expected, "seed \(seed), context search above \(above): \(String(describing: r.selector?.start)) against \(expected)")
        }
    }
}

@Suite struct AnchoringSpecificationTests {
    struct Vector: Decodable {
        var name: String
        var text: String
        var quote: String
        var occurrence: Int?
        var new: String
        var status: String
        var score: Int
        var start: Int?
        var end: Int?
    }

    static func vectors() throws -> [Vector] {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("Protocol/09-anchoring.md"), encoding: .utf8)
        let body = try #require(doc.components(separatedBy: "```anchoring-vectors\n").dropFirst().first?.components(separatedBy: "```").first)
        return try body.split(separator: "\n").map { try JSONDecoder().decode(Vector.self, from: Data($0.utf8)) }
    }

    @Test func versionIsStated() throws {
        let doc = try String(contentsOf: repositoryRoot.appendingPathComponent("Protocol/09-anchoring.md"), encoding: .utf8)
        #expect(doc.contains("**Algorithm version \(Anchoring.version)**"))
        #expect(doc.contains("| `anchorThreshold` | \(Anchoring.anchorThreshold) ‰ |"))
        #expect(doc.contains("| `reviewThreshold` | \(Anchoring.reviewThreshold) ‰ |"))
    }

    @Test func goldenVectorsHold() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count >= 10)
        for v in vectors {
            let old = try TextSelector.locate(quote: v.quote, in: v.text, occurrence: v.occurrence)
            let r = Anchoring.reanchor(old, in: v.new)
            let s = r.selector ?? r.candidate
            let got = "\"status\":\"\(r.status.rawValue)\",\"score\":\(r.score)" + (s.map { ",\"start\":\($0.start),\"end\":\($0.end)" } ?? "")
            let want = "\"status\":\"\(v.status)\",\"score\":\(v.score)" + (v.start.map { ",\"start\":\($0),\"end\":\(v.end ?? -1)" } ?? "")
            #expect(got == want, "\(v.name): \(s?.exact ?? "-")")
        }
    }
}
