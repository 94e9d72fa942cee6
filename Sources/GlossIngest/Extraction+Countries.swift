import Foundation

/// A country mention: tokens `[first, end)`, the country, and the rule (`country-name`,
/// `country-alias` or `country-demonym`).
struct CountryMatch {
    var first: Int
    var end: Int
    var country: Country
    var form: String
    var rule: String
}

/// The country list compiled for matching: every form (NFC, both apostrophes) indexed by its first scalar.
struct CountryMatcher: Sendable {
    struct Form: Sendable {
        var scalars: [Unicode.Scalar]
        var text: String
        var country: Int
        var rule: String
        var blockedBefore: Set<String>
        var blockedAfter: Set<String>
    }

    static let shared = CountryMatcher()

    let countries: [Country]
    /// Forms by first scalar, longest first.
    let byFirst: [Unicode.Scalar: [Form]]
    let exact: [String: Int]

    init() {
        countries = Country.all
        var blocks: [String: (Set<String>, Set<String>)] = [:]
        for line in Country.blockTable.split(separator: "\n") {
            let cols = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func set(_ s: String) -> Set<String> { Set(s.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
            blocks[cols[0]] = (set(cols[1]), set(cols.count > 2 ? cols[2] : ""))
        }
        var byFirst: [Unicode.Scalar: [Form]] = [:]
        var exact: [String: Int] = [:]
        for (i, c) in countries.enumerated() {
            let forms = [(c.name, "country-name")] + c.aliases.map { ($0, "country-alias") } + c.demonyms.map { ($0, "country-demonym") }
            for (form, rule) in forms {
                let nfc = form.precomposedStringWithCanonicalMapping
                var variants = [nfc]
                if nfc.contains("’") { variants.append(nfc.replacingOccurrences(of: "’", with: "'")) }
                for v in variants {
                    let scalars = Array(v.unicodeScalars)
                    let b = blocks[form] ?? ([], [])
                    byFirst[scalars[0], default: []].append(Form(scalars: scalars, text: v, country: i, rule: rule,
                                                                  blockedBefore: b.0, blockedAfter: b.1))
                    exact[v] = i
                }
            }
        }
        for key in byFirst.keys {
            byFirst[key]!.sort { $0.scalars.count != $1.scalars.count ? $0.scalars.count > $1.scalars.count : $0.text < $1.text }
        }
        self.byFirst = byFirst
        self.exact = exact
    }

    /// The country one of whose forms is exactly `text`.
    func country(exactly text: String) -> Country? { exact[text].map { countries[$0] } }
}

extension Document {
    // Protocol/06-extraction.md §Countries
    static func findCountries(_ toks: [Token], t: ScalarText, from bodyStart: Int) -> ([CountryMatch], [Int]) {
        let matcher = CountryMatcher.shared
        var matches: [CountryMatch] = []
        var countryOf = [Int](repeating: -1, count: toks.count)
        func capitalizedNeighbour(_ k: Int) -> Bool {
            guard k >= 0, k < toks.count, toks[k].isCapitalized else { return false }
            let w = toks[k].text
            return !Lexicon.functionWords.contains(w) && Lexicon.months[w] == nil && Lexicon.weekdays[w] == nil
                && countryOf[k] == -1 && !(matcher.byFirst[toks[k].text.unicodeScalars.first!]?.contains {
                    t.hasMatch($0.scalars, at: toks[k].start) } ?? false)
        }
        var i = bodyStart
        while i < toks.count {
            let tok = toks[i]
            guard tok.isWord, let candidates = matcher.byFirst[t.scalars[tok.start]],
                  tok.start == 0 || !Tokenizer.isWordScalar(t.scalars[tok.start - 1]) else { i += 1; continue }
            var found: CountryMatch?
            for form in candidates where t.hasMatch(form.scalars, at: tok.start) {
                let end = tok.start + form.scalars.count
                guard end == t.count || !Tokenizer.isWordScalar(t.scalars[end]) else { continue }
                var j = i
                while j < toks.count && toks[j].end <= end { j += 1 }
                guard j > i, toks[j - 1].end == end else { continue }
                let before = i > 0 && toks[i - 1].isWord ? toks[i - 1].text : ""
                let after = j < toks.count && toks[j].isWord ? toks[j].text : ""
                if form.blockedBefore.contains(before) || form.blockedAfter.contains(after) { continue }
                if Country.personalNameForms.contains(form.text) && (capitalizedNeighbour(i - 1) || capitalizedNeighbour(j)) { continue }
                found = CountryMatch(first: i, end: j, country: matcher.countries[form.country], form: form.text, rule: form.rule)
                break
            }
            guard let m = found else { i += 1; continue }
            for k in m.first..<m.end { countryOf[k] = matches.count }
            matches.append(m)
            i = m.end
        }
        return (matches, countryOf)
    }

    func countryCandidates() -> [Candidate] {
        countries.prefix(ExtractionBudget.maxCandidates + 1).map { m in
            Candidate(kind: "country", value: m.country.name, rule: m.rule, selector: selector(m.first..<m.end))
        }
    }
}
