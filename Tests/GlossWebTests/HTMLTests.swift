import Foundation
import Testing
@testable import GlossWeb

/// The pure pieces of the web view: escaping, highlighting, line diffs, forms, tokens.
@Suite struct HTMLTests {
    @Test func escapingNeutralisesMetacharactersInTextAndAttributes() {
        #expect(HTML.escape("<script>alert('x')</script>") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
        #expect(HTML.escape("\"'><img src=x onerror=alert(1)>&") == "&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;")
        #expect(HTML.escape("plain text, ünïcödé, 日本") == "plain text, ünïcödé, 日本")
    }

    /// Escaping takes time linear in the text: an article of quotes and apostrophes (every scalar
    /// escaped) took 23 s to render at 800 KB and never finished at 4 MiB when the escaped text was
    /// built by `String.UnicodeScalarView.append(contentsOf:)`, which copies the view at each call.
    @Test func escapingTakesTimeLinearInTheText() {
        let unit = "\"'&<> \u{1}"
        let text = String(repeating: unit, count: 1 << 17)   // 917,504 scalars, every one but the space escaped
        let start = ContinuousClock.now
        let out = HTML.escape(text)
        let took = ContinuousClock.now - start
        #expect(out == String(repeating: "&quot;&#39;&amp;&lt;&gt; ⟦U+0001⟧", count: 1 << 17))
        #expect(took < .seconds(5), "escaping 917,504 scalars took \(took)")
    }

    @Test func bidiAndControlCharactersAreShownNotObeyed() {
        let s = "abc\u{202E}fed\u{2066}x\u{2069}\u{200F}\u{0}\u{1B}[31m\tok\n"
        let e = HTML.escape(s)
        #expect(!e.unicodeScalars.contains { [0x202E, 0x2066, 0x2069, 0x200F, 0x0, 0x1B].contains($0.value) })
        #expect(e == "abc⟦U+202E⟧fed⟦U+2066⟧x⟦U+2069⟧⟦U+200F⟧⟦U+0000⟧⟦U+001B⟧[31m\tok\n")
    }

    @Test func highlightsCutAtScalarOffsetsAndEscapeAfterCutting() {
        // "é" precomposed is one scalar; the flag is two scalars; offsets count scalars.
        let text = "a<é>🇫🇷 b&c"
        let out = Highlighter.render(text, spans: [HighlightSpan(start: 1, end: 4, object: "f1", kind: .evidence, status: "exact"),
                                                  HighlightSpan(start: 7, end: 10, object: "a1", kind: .annotation, status: "fuzzy")])
        #expect(out.contains(">&lt;é&gt;</mark>"))
        #expect(out.contains(">b&amp;c</mark>"))
        #expect(out.hasPrefix("a<mark"))
        #expect(out.contains("🇫🇷 <mark"))
    }

    @Test func overlappingHighlightsNestOrSplitIntoValidMarkup() {
        let text = "0123456789"
        // Nested: [1,9) ⊃ [3,5); crossing: [2,6) and [4,8).
        let spans = [HighlightSpan(start: 1, end: 9, object: "A", kind: .evidence, status: "exact"),
                     HighlightSpan(start: 3, end: 5, object: "B", kind: .annotation, status: "moved"),
                     HighlightSpan(start: 2, end: 6, object: "C", kind: .annotation, status: "exact"),
                     HighlightSpan(start: 4, end: 8, object: "D", kind: .evidence, status: "needs-review")]
        let out = Highlighter.render(text, spans: spans)
        // Balanced and properly nested: every close matches the innermost open.
        var depth = 0
        var rest = Substring(out)
        while let r = rest.range(of: "<mark") ?? rest.range(of: "</mark>") {
            let open = rest.range(of: "<mark"), close = rest.range(of: "</mark>")
            if let o = open, close == nil || o.lowerBound < close!.lowerBound { depth += 1; rest = rest[o.upperBound...] }
            else { depth -= 1; #expect(depth >= 0); rest = rest[close!.upperBound...] }
            _ = r
        }
        #expect(depth == 0)
        // The text of each object's marks, joined, is exactly its span.
        for (object, expected) in [("A", "12345678"), ("B", "34"), ("C", "2345"), ("D", "4567")] {
            #expect(Self.markedText(out, object: object) == expected, "\(object)")
        }
        // Stripping the tags gives the text back.
        #expect(out.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression) == text)
    }

    /// 3,000 spans each crossing the next 2,999: nesting them split each span at every end of one
    /// opened before it — 4.5 million marks, a page of over 500 MB (measured: 300 spans 5.4 MB, 600
    /// 21 MB). Past a budget of marks the text is cut flat: one mark per piece, linear (730 KB),
    /// still balanced, every covered piece marked.
    @Test func spansCrossingThousandsOfOthersAreCutFlat() {
        let n = 3_000
        let text = String(repeating: "x", count: 2 * n)
        let spans = (0..<n).map { HighlightSpan(start: $0, end: $0 + n, object: "s\($0)", kind: .annotation, status: "exact") }
        let start = Date()
        let out = Highlighter.render(text, spans: spans)
        print("[web] \(n) crossing spans: \(out.utf8.count) bytes of HTML in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        #expect(out.utf8.count < 1_000 * 2 * n, "\(out.utf8.count) bytes")
        #expect(out.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression) == text)
        #expect(out.components(separatedBy: "<mark").count == out.components(separatedBy: "</mark>").count)
        // Every piece inside a span is marked: only the text's last piece, past every span, is bare.
        #expect(out.hasPrefix("<mark") && out.hasSuffix("</mark>x"))
    }

    /// A line diff compares numbered lines, not strings: 3,000 long non-ASCII lines that differ
    /// only at their ends cost a string compare of the whole line per table cell (a 1 MB revision
    /// diff took 1.9 s per page load in release, 3.9 MB 5.1 s); now one hash per line, so 8× longer
    /// lines cost about the same (they cost 5× before).
    @Test func longNonASCIILinesDiffWithoutComparingThemPerCell() {
        func seconds(_ length: Int) -> Double {
            let stem = String(repeating: "é…", count: length / 2)
            let a = (0..<3000).map { "\(stem)x\($0)" }.joined(separator: "\n")
            let b = (0..<3000).map { "\(stem)y\($0)" }.joined(separator: "\n")
            return (0..<2).map { _ in
                let start = Date()
                let lines = LineDiff.diff(a, b)
                #expect(lines?.count == 6000 && lines?.first == .added("\(stem)y0"))
                return Date().timeIntervalSince(start)
            }.min()!
        }
        let ratio = seconds(1200) / seconds(150)
        print("[web] a diff of 3,000 lines of 1,200 scalars against 150: \(String(format: "%.1f", ratio))x the time")
        #expect(ratio < 3, "8× longer lines took \(ratio)× the time")
    }

    @Test func outOfRangeAndEmptySpansAreClampedOrLeftOut() {
        let out = Highlighter.render("short", spans: [HighlightSpan(start: -5, end: 2, object: "x", kind: .evidence, status: "exact"),
                                                      HighlightSpan(start: 3, end: 3, object: "y", kind: .evidence, status: "exact"),
                                                      HighlightSpan(start: 4, end: 99, object: "z", kind: .evidence, status: "exact")])
        #expect(Self.markedText(out, object: "x") == "sh")
        #expect(!out.contains("data-object=\"y\""))
        #expect(Self.markedText(out, object: "z") == "t")
    }

    /// The text inside the marks of one object (a naive parser: enough for our own output).
    static func markedText(_ html: String, object: String) -> String {
        var result = ""
        var stack: [Bool] = []  // per open mark: is it the object's
        var i = html.startIndex
        while i < html.endIndex {
            if html[i...].hasPrefix("<mark") {
                let end = html[i...].firstIndex(of: ">")!
                stack.append(html[i...end].contains("data-object=\"\(object)\""))
                i = html.index(after: end)
            } else if html[i...].hasPrefix("</mark>") {
                stack.removeLast()
                i = html.index(i, offsetBy: 7)
            } else {
                if stack.contains(true) { result.append(html[i]) }
                i = html.index(after: i)
            }
        }
        return result
    }

    @Test func lineDiffKeepsCommonLinesAndMarksTheRest() {
        let d = LineDiff.diff("one\ntwo\nthree\nfour", "one\nTWO\nthree\nfour\nfive")
        #expect(d == [.same("one"), .added("TWO"), .removed("two"), .same("three"), .same("four"), .added("five")]
                || d == [.same("one"), .removed("two"), .added("TWO"), .same("three"), .same("four"), .added("five")])
        #expect(LineDiff.render("<a>", "<b>").contains("&lt;b&gt;"))
        #expect(LineDiff.diff(String(repeating: "x\n", count: 4000), "y") == nil)
    }

    @Test func formsDecodePlusPercentAndCRLF() throws {
        let f = try FormData.parse("a=1+2&b=%3Cx%3E&c=l1%0D%0Al2&a=last&empty=")
        #expect(f["a"] == "last" && f["b"] == "<x>" && f["c"] == "l1\nl2" && f["empty"] == "")
        #expect(throws: WebError.self) { try FormData.parse("a=%FF%FE") }
    }

    @Test func csrfTokensAreBoundToTheSessionAndTheProcess() {
        let s = WebSecurity(token: nil, secret: Array(repeating: 7, count: 32))
        let other = WebSecurity(token: nil, secret: Array(repeating: 8, count: 32))
        let t = s.csrf(session: "aa")
        #expect(s.csrfMatches(session: "aa", token: t))
        #expect(!s.csrfMatches(session: "ab", token: t))
        #expect(!other.csrfMatches(session: "aa", token: t))
        #expect(!s.csrfMatches(session: "aa", token: nil))
        #expect(!s.csrfMatches(session: "", token: s.csrf(session: "")))
    }

    @Test func bindingBeyondLoopbackNeedsAStrongToken() throws {
        try WebSecurity.check(host: "127.0.0.1", token: nil)
        try WebSecurity.check(host: "::1", token: nil)
        try WebSecurity.check(host: "localhost", token: nil)
        #expect(throws: WebError.self) { try WebSecurity.check(host: "0.0.0.0", token: nil) }
        #expect(throws: WebError.self) { try WebSecurity.check(host: "192.0.2.1", token: nil) }
        #expect(throws: WebError.self) { try WebSecurity.check(host: "0.0.0.0", token: "short") }
        #expect(throws: WebError.self) { try WebSecurity.check(host: "0.0.0.0", token: "has space in it 1234567") }
        try WebSecurity.check(host: "0.0.0.0", token: "0123456789abcdef0123")
        #expect(!WebSecurity.isLoopback("127.0.0.1.evil.example"))
    }
}
