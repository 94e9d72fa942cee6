import GlossModel

/// A span of an article revision, W3C Web Annotation style: the quote (`exact`) with its context
/// (`prefix`, `suffix`) and its position (`start` inclusive, `end` exclusive), counted in Unicode
/// scalars over the NFC text of the revision (Protocol/06-extraction.md §Selectors).
///
/// ```swift
/// let s = try TextSelector.locate(quote: "Zakir Hasanov", in: article.text)
/// s.matches(article.text)   // true
/// ```
public struct TextSelector: Codable, Equatable, Hashable, Sendable {
    /// The selected text, exactly as in the revision.
    public var exact: String
    /// Up to `contextLength` scalars immediately before `start` (fewer at the start of the text).
    public var prefix: String
    /// Up to `contextLength` scalars immediately after `end` (fewer at the end of the text).
    public var suffix: String
    /// Scalar offset of the first selected scalar.
    public var start: Int
    /// Scalar offset just past the last selected scalar.
    public var end: Int

    /// How many scalars of context `prefix` and `suffix` hold at most.
    public static let contextLength = 32

    public init(exact: String, prefix: String, suffix: String, start: Int, end: Int) {
        self.exact = exact
        self.prefix = prefix
        self.suffix = suffix
        self.start = start
        self.end = end
    }

    /// Whether the scalars `[start, end)` of `text` are exactly `exact` (context is not compared).
    public func matches(_ text: String) -> Bool {
        guard start >= 0, end >= start else { return false }
        let view = text.unicodeScalars
        guard let lo = view.index(view.startIndex, offsetBy: start, limitedBy: view.endIndex),
              let hi = view.index(lo, offsetBy: end - start, limitedBy: view.endIndex) else { return false }
        return view[lo..<hi].elementsEqual(exact.unicodeScalars)
    }

    /// The selector of the scalars `[start, end)` of `text`, with its context.
    ///
    /// The positions must lie within the text (`0 <= start <= end <= scalar count`); anything else is a
    /// programming error and traps. Use `locate` for positions that come from people.
    public static func selector(in text: String, start: Int, end: Int) -> TextSelector {
        let t = ScalarText(text)
        precondition(start >= 0 && start <= end && end <= t.count,
                     "selector [\(start), \(end)) outside a text of \(t.count) scalars")
        return t.selector(start, end)
    }

    /// Longest `prefix` or `suffix` `locate` takes, in scalars.
    public static let maxContextScalars = 1_000

    /// Finds `quote` in `text` (the NFC text of a revision) and returns its selector.
    ///
    /// The quote is NFC-normalised first. When it occurs more than once, choose with `occurrence`
    /// (1-based, numbering every occurrence in text order, overlapping ones included) or with the
    /// context that must immediately precede (`prefix`) or follow (`suffix`) it; both may be given.
    /// Throws `SelectorError` with code `empty`, `notFound`, `noSuchOccurrence` or `ambiguous`; an
    /// ambiguous error lists every remaining occurrence (number, start, a short context) to pick from.
    ///
    /// ```swift
    /// // "the" occurs many times: pick the second, or the one followed by " landfills".
    /// try TextSelector.locate(quote: "the", in: text, occurrence: 2)
    /// try TextSelector.locate(quote: "the", in: text, suffix: " landfills")
    /// ```
    public static func locate(quote: String, in text: String, occurrence: Int? = nil,
                              prefix: String? = nil, suffix: String? = nil) throws -> TextSelector {
        // (An article holds no run of over 255 combining marks: a quote, prefix or suffix with one occurs nowhere.)
        func scalars(_ s: String, _ what: String) throws -> [Unicode.Scalar] {
            do { return Array(try s.nfc().unicodeScalars) } catch let e as NFC.RunTooLong {
                throw SelectorError(code: .notFound, message: "The \(what) cannot occur in an article: \(e).")
            }
        }
        let needle = try scalars(quote, "quote")
        guard !needle.isEmpty else {
            throw SelectorError(code: .empty, message: "The quote is empty; give the exact text to select.")
        }
        let t = ScalarText(text)
        let starts = t.occurrences(of: needle)
        guard !starts.isEmpty else {
            throw SelectorError(code: .notFound, message: "The quote (\(needle.count) scalars) does not occur in the text (\(t.count) scalars); copy it exactly from this revision (after NFC normalisation).")
        }
        if let occurrence, !(1...starts.count).contains(occurrence) {
            throw SelectorError(code: .noSuchOccurrence, message: "Occurrence \(occurrence) was asked for, but the quote occurs \(starts.count) time\(starts.count == 1 ? "" : "s"); use a number from 1 to \(starts.count).")
        }
        let before = try prefix.map { try scalars($0, "prefix") } ?? []
        let after = try suffix.map { try scalars($0, "suffix") } ?? []
        // Each occurrence compares its context: occurrences × context length (a 100,000-scalar
        // suffix against a 4 MiB article of one letter ran for minutes).
        for (context, what) in [(before, "prefix"), (after, "suffix")] where context.count > TextSelector.maxContextScalars {
            throw SelectorError(code: .tooLong, message: "The \(what) is \(context.count) scalars; give at most \(TextSelector.maxContextScalars) (a few words next to the quote pick one occurrence).")
        }
        var pool: [SelectorError.Occurrence] = []
        for (i, s) in starts.enumerated() {
            if let occurrence, occurrence != i + 1 { continue }
            if !before.isEmpty && !t.hasMatch(before, at: s - before.count) { continue }
            if !after.isEmpty && !t.hasMatch(after, at: s + needle.count) { continue }
            pool.append(.init(number: i + 1, start: s, end: s + needle.count))
        }
        if pool.isEmpty {
            var given: [String] = []
            if occurrence != nil { given.append("occurrence") }
            if !before.isEmpty { given.append("prefix") }
            if !after.isEmpty { given.append("suffix") }
            throw SelectorError(code: .notFound, message: "The quote occurs \(starts.count) time\(starts.count == 1 ? "" : "s"), but none with the given \(given.joined(separator: " and ")); check the context against the text.")
        }
        if pool.count > 1 {
            throw SelectorError.ambiguous(pool, total: starts.count, in: t, quoteLength: needle.count)
        }
        return t.selector(pool[0].start, pool[0].end)
    }
}

/// Why a quote could not be turned into a selector. The message says how to fix it.
public struct SelectorError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The quote is empty.
        case empty
        /// The quote, or the occurrence with the given context, is not in the text.
        case notFound
        /// `occurrence` is outside `1...count`.
        case noSuchOccurrence
        /// A prefix or suffix over `TextSelector.maxContextScalars`.
        case tooLong
        /// Several occurrences remain; `occurrences` lists them.
        case ambiguous
    }

    /// One occurrence of the quote: its 1-based number among all occurrences, and its position.
    public struct Occurrence: Equatable, Sendable {
        public var number: Int
        public var start: Int
        public var end: Int
    }

    public var code: Code
    public var message: String
    /// For `ambiguous`: every occurrence still in question, in text order.
    public var occurrences: [Occurrence] = []
    public var description: String { message }

    /// How many occurrences an ambiguous message spells out; the rest are counted.
    static let listedOccurrences = 20

    static func ambiguous(_ pool: [Occurrence], total: Int, in t: ScalarText, quoteLength: Int) -> SelectorError {
        var lines = ["The quote occurs \(total) times and \(pool.count) remain after the given context; pass occurrence: <number> (or a prefix/suffix) to pick one:"]
        for o in pool.prefix(listedOccurrences) {
            lines.append("  #\(o.number) at \(o.start): \(context(o, in: t))")
        }
        if pool.count > listedOccurrences { lines.append("  … and \(pool.count - listedOccurrences) more") }
        return SelectorError(code: .ambiguous, message: lines.joined(separator: "\n"), occurrences: pool)
    }

    /// `…16 scalars«quote»16 scalars…`, line breaks shown as ⏎, long quotes shortened in the middle.
    static func context(_ o: Occurrence, in t: ScalarText) -> String {
        func show(_ a: Int, _ b: Int) -> String {
            String(t.string(a, b).unicodeScalars.map { $0 == "\n" || $0 == "\r" ? "⏎" : Character($0) })
        }
        let n = 16
        let quote = o.end - o.start <= 2 * n ? show(o.start, o.end) : show(o.start, o.start + n) + "…" + show(o.end - n, o.end)
        return (o.start > n ? "…" : "") + show(o.start - n, o.start) + "«" + quote + "»" + show(o.end, o.end + n) + (o.end + n < t.count ? "…" : "")
    }
}
