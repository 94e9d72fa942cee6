import Foundation
import GlossIngest
import GlossTestSupport
import Testing

@Suite struct SelectorTests {
    let text = "The minister said the talks went well. Later the minister said the talks would resume; the minister left."

    @Test func aUniqueQuoteIsLocatedWithItsContext() throws {
        let s = try TextSelector.locate(quote: "talks went well", in: text)
        #expect(s.start == 22 && s.end == 37)
        #expect(s.exact == "talks went well")
        #expect(s.prefix == "The minister said the ")
        #expect(s.suffix == ". Later the minister said the ta")   // 32 scalars
        #expect(s.suffix.unicodeScalars.count == TextSelector.contextLength)
        #expect(s.matches(text))
    }

    @Test func aRepeatedQuoteIsRefusedListingEveryOccurrence() {
        do {
            _ = try TextSelector.locate(quote: "the minister", in: text)
            Issue.record("an ambiguous quote was accepted")
        } catch let e as SelectorError {
            #expect(e.code == .ambiguous)
            #expect(e.occurrences.map(\.number) == [1, 2])
            #expect(e.occurrences.map(\.start) == [45, 87])
            #expect(e.message.contains("#1 at 45") && e.message.contains("#2 at 87"))
            #expect(e.message.contains("«the minister»"))
            #expect(e.message.contains("occurrence:"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        // Case matters: "The minister" at 0 is a different quote, and unique.
        #expect((try? TextSelector.locate(quote: "The minister", in: text))?.start == 0)
    }

    @Test func occurrencePrefixAndSuffixDisambiguate() throws {
        #expect(try TextSelector.locate(quote: "the minister", in: text, occurrence: 2).start == 87)
        #expect(try TextSelector.locate(quote: "the minister", in: text, prefix: "Later ").start == 45)
        #expect(try TextSelector.locate(quote: "the minister", in: text, suffix: " left").start == 87)
        #expect(try TextSelector.locate(quote: "the talks", in: text, occurrence: 2, suffix: " would").start == 63)
        // Context that leaves several occurrences is still ambiguous; numbers stay global.
        do {
            _ = try TextSelector.locate(quote: "the talks", in: text, prefix: "said ")
            Issue.record("still ambiguous")
        } catch let e as SelectorError {
            #expect(e.code == .ambiguous && e.occurrences.map(\.number) == [1, 2])
        }
    }

    @Test func refusalsSayWhatIsWrong() {
        func code(_ body: () throws -> TextSelector) -> SelectorError.Code? {
            do { _ = try body(); return nil } catch let e as SelectorError { return e.code } catch { return nil }
        }
        #expect(code { try TextSelector.locate(quote: "", in: text) } == .empty)
        #expect(code { try TextSelector.locate(quote: "absent words", in: text) } == .notFound)
        #expect(code { try TextSelector.locate(quote: "the minister", in: text, occurrence: 3) } == .noSuchOccurrence)
        #expect(code { try TextSelector.locate(quote: "the minister", in: text, occurrence: 0) } == .noSuchOccurrence)
        #expect(code { try TextSelector.locate(quote: "the minister", in: text, occurrence: 1, suffix: " left") } == .notFound)
        #expect(code { try TextSelector.locate(quote: "the minister", in: text, prefix: "nobody ") } == .notFound)
    }

    @Test func overlappingOccurrencesAreCounted() throws {
        let s = "aaaa"
        do { _ = try TextSelector.locate(quote: "aa", in: s); Issue.record("ambiguous") } catch let e as SelectorError {
            #expect(e.occurrences.map(\.start) == [0, 1, 2])
        }
        #expect(try TextSelector.locate(quote: "aa", in: s, occurrence: 2).start == 1)
    }

    @Test func longListsAreShortenedInTheMessage() {
        let s = String(repeating: "ab ", count: 50)
        do { _ = try TextSelector.locate(quote: "ab", in: s); Issue.record("ambiguous") } catch let e as SelectorError {
            #expect(e.occurrences.count == 50)
            #expect(e.message.contains("… and 30 more"))
        } catch { Issue.record("\(error)") }
    }

    @Test func positionsCountScalarsOfTheNFCText() throws {
        // "e" + combining acute composes to one scalar under NFC; "q" + acute does not; a ZWJ family
        // emoji is 7 scalars, a flag 2, a skin-toned thumb 2.
        let raw = "Caf\u{65}\u{301} q\u{301} 👩‍👩‍👧‍👦 🇺🇦 👍🏽 Hasanov said"
        let text = raw.precomposedStringWithCanonicalMapping
        let s = try TextSelector.locate(quote: "Hasanov", in: text)
        #expect(s.start == 4 + 1 + 2 + 1 + 7 + 1 + 2 + 1 + 2 + 1)
        #expect(s.matches(text))
        // The quote is normalised too: a decomposed quote finds the composed text.
        let cafe = try TextSelector.locate(quote: "Cafe\u{301}", in: text)
        #expect(cafe.start == 0 && cafe.end == 4 && cafe.exact == "Café")
        // Context is cut on scalars, never on grapheme clusters' behalf.
        #expect(s.prefix.unicodeScalars.count == s.start)
    }

    @Test func matchesIsFalseOutsideTheText() {
        let s = TextSelector(exact: "x", prefix: "", suffix: "", start: 10, end: 11)
        #expect(!s.matches("short"))
        #expect(!TextSelector(exact: "", prefix: "", suffix: "", start: 3, end: 2).matches("short"))
        #expect(TextSelector(exact: "", prefix: "", suffix: "", start: 5, end: 5).matches("short"))
        #expect(!TextSelector(exact: "sh", prefix: "", suffix: "", start: 0, end: 2).matches("Short"))
    }

    @Test func selectorsRoundTripUnderRandomSpans() {
        var rng = SplitMix64(seed: testSeed("selector-spans"))
        let alphabet = ["a", "b", "e\u{301}", "q\u{301}", "👩‍👩‍👧‍👦", "🇺🇦", " ", "\n", "’", "\u{1100}\u{1161}", "Å"]
        for _ in 0..<300 {
            let text = (0..<Int.random(in: 1...60, using: &rng)).map { _ in rng.pick(alphabet) }.joined().precomposedStringWithCanonicalMapping
            let scalars = Array(text.unicodeScalars)
            let start = Int.random(in: 0..<scalars.count, using: &rng)
            let end = Int.random(in: start...min(scalars.count, start + 8), using: &rng)
            let s = TextSelector.selector(in: text, start: start, end: end)
            #expect(s.matches(text))
            #expect(s.prefix.unicodeScalars.count == min(start, TextSelector.contextLength))
            #expect(s.suffix.unicodeScalars.count == min(scalars.count - end, TextSelector.contextLength))
            guard start < end else { continue }
            // The occurrence number re-finds exactly this span.
            let needle = Array(scalars[start..<end])
            let number = (0...start).filter { Array(scalars[$0..<min(scalars.count, $0 + needle.count)]) == needle }.count
            #expect((try? TextSelector.locate(quote: s.exact, in: text, occurrence: number))?.start == start)
            // Its own context either picks it or leaves it among the listed occurrences.
            do {
                let found = try TextSelector.locate(quote: s.exact, in: text, prefix: s.prefix, suffix: s.suffix)
                #expect(found == s)
            } catch let e as SelectorError {
                #expect(e.code == .ambiguous && e.occurrences.contains { $0.start == start })
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}

/// A prefix or suffix longer than 1,000 scalars is refused before any occurrence is compared
/// (found by a hostile-input audit, 2026-12-06: each occurrence compared the whole context, so a
/// 100,000-scalar suffix against a 4 MiB article of one letter ran for minutes).
@Test func aContextOverAThousandScalarsIsRefusedBeforeAnyComparison() throws {
    let text = String(repeating: "a", count: 20_000) + "\n"
    for long in [(String(repeating: "a", count: 1_001), nil), (nil, String(repeating: "a", count: 1_001))] as [(String?, String?)] {
        #expect { try TextSelector.locate(quote: "a", in: text, prefix: long.0, suffix: long.1) } throws: {
            ($0 as? SelectorError)?.code == .tooLong
        }
    }
    // At the bound, the context is compared (and the quote is still ambiguous here).
    #expect { try TextSelector.locate(quote: "a", in: text, prefix: String(repeating: "a", count: 1_000)) } throws: {
        ($0 as? SelectorError)?.code == .ambiguous
    }
}
