/// A suggestion found in an article by the extraction rules (Protocol/06-extraction.md). It becomes a
/// fact only when an analyst accepts it.
public struct Candidate: Codable, Equatable, Hashable, Sendable {
    /// `date`, `place`, `statement`, `country` or `person`.
    public var kind: String
    /// The normalised value: a date at its precision (`2021-09`), a title-cased place, a canonical
    /// country name, a person's name, or a statement's text (whitespace folded).
    public var value: String
    /// For dates: `day`, `week`, `month` or `year`. Nil for other kinds.
    public var precision: String?
    /// The rule that produced the candidate (`month-this-year`, `reported-said`, …).
    public var rule: String
    /// Where the candidate is written: the expression, the name, the place, the statement text.
    public var selector: TextSelector
    /// For statements: who said it (nil when the text does not say).
    public var speaker: String?
    /// For statements and persons: the role as written, without a leading demonym or possessive
    /// (`Defense Minister`, `top diplomat`).
    public var role: String?
    /// For statements: the date of the saying found in the attribution, as a date value.
    public var saidOn: String?
    /// For statements and persons: the canonical country the speaker or person is tied to by a
    /// demonym or possessive (`Azerbaijani Defense Minister` → `Azerbaijan`).
    public var affiliation: String?
    /// For statements: where the speaker phrase is written (role and name), when there is one.
    public var attribution: TextSelector?

    public init(kind: String, value: String, precision: String? = nil, rule: String, selector: TextSelector,
                speaker: String? = nil, role: String? = nil, saidOn: String? = nil,
                affiliation: String? = nil, attribution: TextSelector? = nil) {
        self.kind = kind
        self.value = value
        self.precision = precision
        self.rule = rule
        self.selector = selector
        self.speaker = speaker
        self.role = role
        self.saidOn = saidOn
        self.affiliation = affiliation
        self.attribution = attribution
    }
}

/// Deterministic, versioned extraction of candidates from an article text (Protocol/06-extraction.md).
/// Pure: no clock (the article date is the reference), no randomness, no I/O.
public enum Extraction {
    /// The version of the rules, lexicons and country list. Bump on any change to the output.
    public static let rulesVersion = 1

    /// Every rule name a candidate can carry, in the order of the specification.
    public static let rules: [String] = """
        dateline-date dateline-place dateline-country
        country-name country-alias country-demonym
        iso-date month-day-year day-month-year month-year month-day day-month month-this-year
        month-next-year month-last-year month-in year-in relative-day this-week next-week last-week
        this-month next-month last-month this-year next-year last-year month-this month-next month-last
        weekday-last weekday-next weekday-said
        person-after-title person-name person-surname
        reported-said said-that quote-said quote
        """.split(whereSeparator: \.isWhitespace).map(String.init)

    /// Every candidate of `text` (the NFC text of a revision), sorted by selector start, then kind,
    /// then value (then selector end and rule).
    ///
    /// `articleDate` (`YYYY-MM-DD`, normally the dateline date) is the reference for relative dates;
    /// when it is nil or not a real day, expressions that need it (`next month`, `said Saturday`,
    /// `March 1`) yield nothing.
    ///
    /// ```swift
    /// let c = Extraction.extract(text: article.text, articleDate: article.date)
    /// c.filter { $0.kind == "date" }.map(\.value)   // ["2021-06-26", "2021-09", …]
    /// ```
    ///
    /// A text past `ExtractionBudget`'s bounds yields only the statements found within them; an
    /// ingest refuses such a text instead (`extractWithinBounds`).
    public static func extract(text: String, articleDate: String?) -> [Candidate] {
        var budget = ExtractionBudget()
        return extract(text: text, articleDate: articleDate, budget: &budget)
    }

    /// As `extract`, or an error when the text is past `ExtractionBudget`'s bounds (Protocol/06
    /// §Bounds): what an ingest runs, so no replica records a partial extraction.
    public static func extractWithinBounds(text: String, articleDate: String?) throws -> [Candidate] {
        var budget = ExtractionBudget()
        let out = extract(text: text, articleDate: articleDate, budget: &budget)
        if out.count > ExtractionBudget.maxCandidates {
            throw IngestError(code: .tooComplex, message: "the text yields more than \(ExtractionBudget.maxCandidates) extraction candidates (countries, dates, people, statements), more than one event can carry: a list or a repeated pattern? Split the text or remove the repetition and ingest it again")
        }
        if budget.isSpent {
            throw IngestError(code: .tooComplex, message: """
                the text's reported-speech statements are past the extraction bounds (\(ExtractionBudget.maxStatementScalars) scalars \
                of statement text, \(ExtractionBudget.maxWork) steps): a very long sentence with many reporting verbs? \
                Break it into sentences and ingest it again
                """)
        }
        return out
    }

    static func extract(text: String, articleDate: String?, budget: inout ExtractionBudget) -> [Candidate] {
        let doc = Document(text: text, articleDate: articleDate)
        var out = doc.datelineCandidates()
        out += doc.countryCandidates()
        let dates = doc.dateCandidates()
        out += dates
        let persons = doc.personCandidates()
        out += persons.map(\.candidate)
        out += doc.statementCandidates(persons: persons, dates: dates, budget: &budget)
        return out.sorted(by: ordered)
    }

    static func ordered(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.selector.start != b.selector.start { return a.selector.start < b.selector.start }
        if a.kind != b.kind { return a.kind < b.kind }
        if a.value != b.value { return a.value < b.value }
        if a.selector.end != b.selector.end { return a.selector.end < b.selector.end }
        return a.rule < b.rule
    }
}

/// One article under analysis: its scalars, tokens, paragraphs, quotes and sentences, computed once.
struct Document {
    let t: ScalarText
    /// Tokens without line breaks (a single line break is plain whitespace).
    let toks: [Token]
    let reference: CivilDay?
    let dateline: Dateline?
    /// Token index where the article body starts (after the dateline's dash), 0 without a dateline.
    let bodyStart: Int
    /// Token ranges of the dateline's date and places.
    let datelineDate: Range<Int>?
    /// Paragraphs as token ranges (a blank line separates paragraphs).
    let paragraphs: [Range<Int>]
    let quotes: [Quote]
    /// For each token, the index of the quote whose marks or content it belongs to, or -1.
    let quoteOf: [Int]
    let sentences: [Range<Int>]
    let countries: [CountryMatch]
    /// For each token, the index of the country match covering it, or -1.
    let countryOf: [Int]

    struct Quote {
        var open: Int
        /// The closing mark, nil when the paragraph ends first (the quote then runs to its end).
        var close: Int?
        /// Token index just past the content.
        var contentEnd: Int
    }

    init(text: String, articleDate: String?) {
        t = ScalarText(text)
        let all = Tokenizer.tokenize(t)
        reference = articleDate.flatMap(CivilDay.init(iso:))
        dateline = Dateline.parse(text)

        // Paragraphs: a run of two or more line breaks separates them. Protocol/06-extraction.md §Tokens
        var toks: [Token] = []
        toks.reserveCapacity(all.count)
        var paragraphs: [Range<Int>] = []
        var paragraphStart = 0
        var breaks = 0
        for tok in all {
            if tok.kind == .newline { breaks += 1; continue }
            if breaks >= 2 && toks.count > paragraphStart {
                paragraphs.append(paragraphStart..<toks.count)
                paragraphStart = toks.count
            }
            breaks = 0
            toks.append(tok)
        }
        if toks.count > paragraphStart { paragraphs.append(paragraphStart..<toks.count) }
        self.toks = toks

        let (body, date) = Self.locateDateline(toks, all: all, dateline: dateline)
        bodyStart = body
        datelineDate = date
        paragraphs = paragraphs.compactMap { p in
            let lo = max(p.lowerBound, body)
            return lo < p.upperBound ? lo..<p.upperBound : nil
        }
        self.paragraphs = paragraphs
        (quotes, quoteOf) = Self.findQuotes(toks, paragraphs: paragraphs)
        sentences = Self.findSentences(toks, paragraphs: paragraphs, quotes: quotes, quoteOf: quoteOf)
        (countries, countryOf) = Self.findCountries(toks, t: t, from: bodyStart)
    }

    // MARK: Dateline — Protocol/06-extraction.md §Dateline

    /// The body start and the date's tokens, consistent with `Dateline.parse`: the first line is
    /// `date YYYY-MM-DD PLACE[/PLACE…] – …`; the body starts after the first `–`/`—` (or a `-` standing
    /// alone) of that line, or right after the date when the line has no dash.
    static func locateDateline(_ toks: [Token], all: [Token], dateline: Dateline?) -> (Int, Range<Int>?) {
        guard dateline != nil, toks.count >= 6, toks[0].lower == "date" else { return (0, nil) }
        let firstLineEnd = all.first(where: { $0.kind == .newline })?.start ?? Int.max
        let date = 1..<6
        var i = 6
        while i < toks.count, toks[i].start < firstLineEnd {
            let tok = toks[i]
            if tok.text == "–" || tok.text == "—" { return (i + 1, date) }
            if tok.text == "-", i > 0, toks[i - 1].end < tok.start, i + 1 < toks.count, toks[i + 1].start > tok.end {
                return (i + 1, date)
            }
            i += 1
        }
        return (6, date)
    }

    func datelineCandidates() -> [Candidate] {
        guard let dateline, let range = datelineDate else { return [] }
        var out: [Candidate] = []
        let start = toks[range.lowerBound].start, end = toks[range.upperBound - 1].end
        if t.string(start, end) == dateline.date {
            out.append(Candidate(kind: "date", value: dateline.date, precision: "day", rule: "dateline-date",
                                 selector: t.selector(start, end)))
        }
        // Each place as written, found in order after the date on the first line.
        var cursor = end
        let lineEnd = t.scalars[end...].firstIndex(where: { $0 == "\n" || $0 == "\r" }) ?? t.count
        for place in dateline.places {
            let needle = Array(place.unicodeScalars)
            var p = cursor
            while p + needle.count <= lineEnd && !t.hasMatch(needle, at: p) { p += 1 }
            guard p + needle.count <= lineEnd else { break }
            cursor = p + needle.count
            let value = Self.titleCased(place)
            let selector = t.selector(p, cursor)
            out.append(Candidate(kind: "place", value: value, rule: "dateline-place", selector: selector))
            if let country = CountryMatcher.shared.country(exactly: place) ?? CountryMatcher.shared.country(exactly: value) {
                out.append(Candidate(kind: "country", value: country.name, rule: "dateline-country", selector: selector))
            }
        }
        return out
    }

    /// `ISLAMABAD` → `Islamabad`, `NEW YORK` → `New York`, `PORT-AU-PRINCE` → `Port-Au-Prince`;
    /// a place already containing a lowercase letter is kept as written.
    static func titleCased(_ place: String) -> String {
        guard !place.unicodeScalars.contains(where: { $0.properties.isLowercase }) else { return place }
        var out = ""
        var startOfWord = true
        for ch in place {
            if ch == " " || ch == "-" || ch == "/" {
                out.append(ch); startOfWord = true
            } else {
                out += startOfWord ? String(ch).uppercased() : String(ch).lowercased()
                startOfWord = false
            }
        }
        return out
    }

    // MARK: Quotes — Protocol/06-extraction.md §Quotes

    static let doubleMarks: Set<String> = ["\"", "“", "”", "„", "‟", "«", "»"]
    static let singleMarks: Set<String> = ["'", "‘", "’", "‚", "‛", "‹", "›"]
    static let openingContext: Set<String> = ["(", "[", "{", "—", "–", "-", "/"]

    static func family(_ tok: Token) -> Int {
        guard tok.kind == .punct else { return 0 }
        if doubleMarks.contains(tok.text) { return 2 }
        if singleMarks.contains(tok.text) { return 1 }
        return 0
    }

    static func findQuotes(_ toks: [Token], paragraphs: [Range<Int>]) -> ([Quote], [Int]) {
        var quotes: [Quote] = []
        var quoteOf = [Int](repeating: -1, count: toks.count)
        for p in paragraphs {
            var i = p.lowerBound
            while i < p.upperBound {
                let f = family(toks[i])
                let spacedBefore = i == p.lowerBound || toks[i - 1].end < toks[i].start || openingContext.contains(toks[i - 1].text)
                let tightAfter = i + 1 < p.upperBound && toks[i + 1].start == toks[i].end
                guard f != 0, spacedBefore, tightAfter else { i += 1; continue }
                var j = i + 1
                while j < p.upperBound && family(toks[j]) != f { j += 1 }
                let q = Quote(open: i, close: j < p.upperBound ? j : nil, contentEnd: j)
                for k in i...min(j, p.upperBound - 1) { quoteOf[k] = quotes.count }
                quotes.append(q)
                i = j + 1
            }
        }
        return (quotes, quoteOf)
    }

    // MARK: Sentences — Protocol/06-extraction.md §Sentences

    static let sentenceEnds: Set<String> = [".", "!", "?", "…"]

    static func findSentences(_ toks: [Token], paragraphs: [Range<Int>], quotes: [Quote], quoteOf: [Int]) -> [Range<Int>] {
        var sentences: [Range<Int>] = []
        for p in paragraphs {
            var start = p.lowerBound
            for k in p {
                let next = k + 1 < p.upperBound ? toks[k + 1] : nil
                var boundary = false
                if quoteOf[k] == -1, sentenceEnds.contains(toks[k].text), toks[k].kind == .punct {
                    let spaced = next.map { $0.start > toks[k].end } ?? true
                    // An abbreviation, or an initial inside a name (`John F. Kennedy`: a single capital
                    // letter after a capitalized word), does not end a sentence.
                    let abbreviated = toks[k].text == "." && k > p.lowerBound && toks[k - 1].end == toks[k].start
                        && toks[k - 1].isWord && (Lexicon.abbreviations.contains(toks[k - 1].text)
                                                  || (toks[k - 1].text.unicodeScalars.count == 1 && toks[k - 1].isCapitalized
                                                      && k - 2 >= p.lowerBound && toks[k - 2].isCapitalized))
                    boundary = spaced && !abbreviated && !(next?.isLowercaseWord ?? false)
                } else if quoteOf[k] >= 0, quotes[quoteOf[k]].close == k, k > p.lowerBound,
                          sentenceEnds.contains(toks[k - 1].text), let next, next.isCapitalized {
                    boundary = true
                }
                if boundary || k + 1 == p.upperBound {
                    sentences.append(start..<(k + 1))
                    start = k + 1
                }
            }
        }
        return sentences
    }

    // MARK: Shared token tests

    func isWord(_ k: Int, _ lower: String) -> Bool { k >= 0 && k < toks.count && toks[k].isWord && toks[k].lower == lower }
    func isPunct(_ k: Int, _ text: String) -> Bool { k >= 0 && k < toks.count && toks[k].kind == .punct && toks[k].text == text }
    func isNumber(_ k: Int, digits: ClosedRange<Int>) -> Bool {
        k >= 0 && k < toks.count && toks[k].kind == .number && digits.contains(toks[k].text.unicodeScalars.count)
    }
    /// Tokens `a` and `b` (b = a + 1) touch, with no whitespace between.
    func adjacent(_ a: Int, _ b: Int) -> Bool { a >= 0 && b < toks.count && toks[a].end == toks[b].start }
    func month(_ k: Int) -> Int? { k >= 0 && k < toks.count && toks[k].isWord ? Lexicon.months[toks[k].text] : nil }
    func weekday(_ k: Int) -> Int? { k >= 0 && k < toks.count && toks[k].isWord ? Lexicon.weekdays[toks[k].text] : nil }
    func scalars(_ r: Range<Int>) -> (Int, Int) { (toks[r.lowerBound].start, toks[r.upperBound - 1].end) }
    func selector(_ r: Range<Int>) -> TextSelector { let (a, b) = scalars(r); return t.selector(a, b) }
    func folded(_ r: Range<Int>) -> String { let (a, b) = scalars(r); return t.folded(a, b) }
}

/// Bounds on the statement rules (Protocol/06-extraction.md §Bounds). A statement runs from its
/// sentence's start or to its end, so a sentence of n words with m reporting verbs costs n·m to
/// examine and can yield m statements of n words each: one 130 KB sentence of "X said," clauses
/// took 28 s and 1.1 GB to extract and then overflowed the event's payload limit (a 530 KB one:
/// 6 minutes, 17 GB). Ordinary articles use a few thousandths of either bound.
public struct ExtractionBudget: Sendable {
    /// Statement text emitted, in scalars (statements travel twice, as value and quote, in an event
    /// of at most 8 MiB beside a text of at most 4 MiB).
    public static let maxStatementScalars = 1_000_000
    /// Tokens examined by the statement rules.
    public static let maxWork = 20_000_000
    /// Candidates of one text: each rule stops one past it, so a text of 4 MiB of `UK ` no longer
    /// builds 1.4 million candidates (2.2 GB) before its event is found too large (each candidate
    /// encodes to over 80 bytes: more than this many never fit an event's 8 MiB).
    public static let maxCandidates = 100_000
    var statementScalars = 0
    var work = 0
    var isSpent: Bool { statementScalars > Self.maxStatementScalars || work > Self.maxWork }
}
