/// A person candidate with the tokens of the name as written.
struct PersonMention {
    var candidate: Candidate
    var range: Range<Int>
}

extension Document {
    // MARK: Names — Protocol/06-extraction.md §Persons

    /// A word that may be part of a person's name: capitalized with a lowercase letter, two scalars or
    /// more, and in none of the lexicons (roles, organisations, function words, months, weekdays,
    /// abbreviations), not part of a country mention, and not itself a country form even where the
    /// context blocked the mention (`Latin America`) unless it is also a personal name (`Jordan`).
    func isNameWord(_ k: Int) -> Bool {
        guard k >= bodyStart, k < toks.count, toks[k].isTitleCase, toks[k].text.unicodeScalars.count >= 2,
              countryOf[k] == -1 else { return false }
        let w = toks[k].text
        if CountryMatcher.shared.exact[w] != nil && !Country.personalNameForms.contains(w) { return false }
        return !Lexicon.roleWords.contains(toks[k].lower) && !Lexicon.organisations.contains(w)
            && !Lexicon.functionWords.contains(w) && Lexicon.months[w] == nil && Lexicon.weekdays[w] == nil
            && !Lexicon.abbreviations.contains(w)
    }

    /// An initial (`F.`, or dotted letters such as `J.K.` that are not a country): the index after it.
    func initialEnd(_ k: Int) -> Int? {
        guard k >= bodyStart, k < toks.count, toks[k].isWord, countryOf[k] == -1 else { return nil }
        let s = Array(toks[k].text.unicodeScalars)
        if s.count == 1, s[0].properties.isUppercase, isPunct(k + 1, "."), adjacent(k, k + 1) { return k + 2 }
        if s.count >= 4, s.last == ".", s.enumerated().allSatisfy({ $0.offset % 2 == 1 ? $0.element == "." : $0.element.properties.isUppercase }) {
            return k + 1
        }
        return nil
    }

    /// The name starting exactly at `k`: 1 to 4 name words (initials count, particles such as `von` do
    /// not), hyphenated parts joined, ending on a name word. `words` is 5 when the run is longer than 4.
    func nameRun(from k: Int) -> (end: Int, words: Int)? {
        var j = k, words = 0, end = -1, wordsAtEnd = 0
        while j < toks.count && words <= 4 {
            if isNameWord(j) {
                var e = j + 1
                while isPunct(e, "-") && adjacent(e - 1, e) && adjacent(e, e + 1) && isNameWord(e + 1) { e += 2 }
                words += 1; end = e; wordsAtEnd = words; j = e
            } else if let e = initialEnd(j) {
                words += 1; j = e
            } else if words > 0, toks[j].isWord, Lexicon.nameParticles.contains(toks[j].text) {
                var e = j
                while e < toks.count && toks[e].isWord && Lexicon.nameParticles.contains(toks[e].text) { e += 1 }
                if isPunct(e, "-") && adjacent(e - 1, e) && adjacent(e, e + 1) { e += 1 }
                guard isNameWord(e) else { break }
                j = e
            } else {
                break
            }
        }
        if words > 4 { return (j, 5) }
        return end > k ? (end, wordsAtEnd) : nil
    }

    /// Whether a role head ends just before `k`: `Minister Zakir`, `Gen. Bajwa`, `General (retd) Hulusi`.
    /// Returns the index of the last token of the role.
    /// A role that only continues after its head (`Secretary of State Antony`) counts as well.
    func titleEnd(before k: Int) -> Int? {
        let p = k - 1
        guard p >= bodyStart else { return nil }
        if toks[p].isWord && Lexicon.roleHeads.contains(toks[p].lower) { return p }
        if isRoleWord(p), (roleStart(endingAt: p)...p).contains(where: { toks[$0].isWord && Lexicon.roleHeads.contains(toks[$0].lower) }) {
            return p
        }
        if isPunct(p, "."), p - 1 >= bodyStart, adjacent(p - 1, p), toks[p - 1].isWord,
           Lexicon.roleHeads.contains(toks[p - 1].lower), Lexicon.abbreviations.contains(toks[p - 1].text) { return p }
        if isPunct(p, ")"), p - 3 >= bodyStart, toks[p - 1].isWord, Lexicon.parentheticalTitles.contains(toks[p - 1].lower),
           isPunct(p - 2, "("), toks[p - 3].isWord, Lexicon.roleHeads.contains(toks[p - 3].lower) { return p }
        return nil
    }

    /// A token that may belong to a role: a role word (any case) or a capitalized organisation word.
    func isRoleWord(_ k: Int) -> Bool {
        k >= bodyStart && k < toks.count && toks[k].isWord && countryOf[k] == -1
            && (Lexicon.roleWords.contains(toks[k].lower) || (toks[k].isCapitalized && Lexicon.organisations.contains(toks[k].text)))
    }

    /// The role ending at token `last`, walking back over role words, `of`/`for` between them,
    /// abbreviation periods, `(retd)` and hyphens; it always starts on a role word.
    func roleStart(endingAt last: Int) -> Int {
        var start = last + 1
        var j = last
        while j >= bodyStart {
            if isRoleWord(j) {
                start = j; j -= 1
            } else if isPunct(j, "."), j - 1 >= bodyStart, adjacent(j - 1, j), Lexicon.abbreviations.contains(toks[j - 1].text) {
                j -= 1
            } else if isPunct(j, ")"), j - 2 >= bodyStart, toks[j - 1].isWord,
                      Lexicon.parentheticalTitles.contains(toks[j - 1].lower), isPunct(j - 2, "(") {
                j -= 3
            } else if (isWord(j, "of") || isWord(j, "for")), start == j + 1, isRoleWord(j - 1) {
                j -= 1
            } else if isPunct(j, "-"), adjacent(j - 1, j), adjacent(j, j + 1), start == j + 1 {
                j -= 1
            } else {
                break
            }
        }
        return start
    }

    /// The country just before token `k`: `Turkey’s …`, `Azerbaijani …`, `Pakistan Army …`.
    func affiliation(before k: Int) -> String? {
        let j = k - 1
        guard j >= bodyStart else { return nil }
        if toks[j].kind == .possessive, j - 1 >= bodyStart, countryOf[j - 1] >= 0 { return countries[countryOf[j - 1]].country.name }
        if countryOf[j] >= 0 { return countries[countryOf[j]].country.name }
        return nil
    }

    // Protocol/06-extraction.md §Persons
    func personCandidates() -> [PersonMention] {
        var persons: [PersonMention] = []
        var covered = [Bool](repeating: false, count: toks.count)
        var k = bodyStart
        while k < toks.count && persons.count <= ExtractionBudget.maxCandidates {
            guard isNameWord(k) || initialEnd(k) != nil else { k += 1; continue }
            guard let run = nameRun(from: k), run.words <= 4 else {
                k += 1
                while k < toks.count && isNameWord(k) { k += 1 }
                continue
            }
            defer { k = run.end }
            let range = k..<run.end
            if run.end < toks.count, toks[run.end].isCapitalized, Lexicon.organisations.contains(toks[run.end].text) { continue }
            if let last = titleEnd(before: k), run.words >= 2 {
                let start = roleStart(endingAt: last)
                let role = start <= last ? folded(start..<(last + 1)) : nil
                persons.append(PersonMention(candidate: Candidate(
                    kind: "person", value: folded(range), rule: "person-after-title", selector: selector(range),
                    role: role, affiliation: affiliation(before: start)), range: range))
            } else if run.words >= 2 {
                let before = k - 1 >= bodyStart ? toks[k - 1] : nil
                let cueBefore = before.map { $0.kind == .possessive || ($0.isWord && Lexicon.personCuesBefore.contains($0.lower)) } ?? false
                let cueAfter = run.end < toks.count && toks[run.end].isWord && Lexicon.personCuesAfter.contains(toks[run.end].lower)
                guard cueBefore || cueAfter else { continue }
                persons.append(PersonMention(candidate: Candidate(
                    kind: "person", value: folded(range), rule: "person-name", selector: selector(range),
                    affiliation: before?.kind == .possessive ? affiliation(before: k) : nil), range: range))
            } else {
                continue
            }
            for i in range { covered[i] = true }
        }

        // person-surname: a lone surname after a title or before a reporting verb, naming exactly one
        // person found earlier in the text.
        let surnames = SurnameIndex(persons)
        var out = persons
        for k in bodyStart..<toks.count where !covered[k] && isNameWord(k) && !isNameWord(k - 1) && !isNameWord(k + 1)
            && initialEnd(k - 2) != k && initialEnd(k - 1) != k
            && !(k - 1 >= 0 && toks[k - 1].isWord && Lexicon.nameParticles.contains(toks[k - 1].text)) {
            let title = titleEnd(before: k)
            let verbAfter = k + 1 < toks.count && toks[k + 1].isWord && Lexicon.reportingVerbs.contains(toks[k + 1].lower)
            guard title != nil || verbAfter, let full = surnames.resolve(toks[k].text, before: k) else { continue }
            let start = title.map { roleStart(endingAt: $0) }
            out.append(PersonMention(candidate: Candidate(
                kind: "person", value: full, rule: "person-surname", selector: selector(k..<(k + 1)),
                role: title.flatMap { t in start.map { folded($0..<(t + 1)) } },
                affiliation: start.flatMap { affiliation(before: $0) }), range: k..<(k + 1)))
        }
        return out
    }

}

/// Full names by their last word, for resolving a lone surname to the one person it names so far.
struct SurnameIndex {
    struct Entry {
        /// Token starts of the full-name mentions, increasing.
        var starts: [Int] = []
        var firstName: String = ""
        /// `distinct[i]`: how many different full names the mentions up to `i` carry.
        var distinct: [Int] = []
        var seen: Set<String> = []

        mutating func add(_ name: String, at start: Int) {
            if starts.isEmpty { firstName = name }
            seen.insert(name)
            starts.append(start)
            distinct.append(seen.count)
        }
    }

    private var entries: [String: Entry] = [:]

    /// `persons` in text order; surname mentions are not indexed.
    init(_ persons: [PersonMention]) {
        for p in persons where p.candidate.rule != "person-surname" {
            guard let last = p.candidate.value.split(separator: " ").last.map(String.init) else { continue }
            // Mutated in place: a copy taken out and stored back copied its set and arrays at every
            // mention (15,000 mentions of one surname took seconds).
            entries[last, default: Entry()].add(p.candidate.value, at: p.range.lowerBound)
        }
    }

    /// The full name of the only person mentioned before token `k` whose last word is `word`.
    func resolve(_ word: String, before k: Int) -> String? {
        guard let e = entries[word] else { return nil }
        var lo = 0, hi = e.starts.count
        while lo < hi { let mid = (lo + hi) / 2; if e.starts[mid] < k { lo = mid + 1 } else { hi = mid } }
        return lo > 0 && e.distinct[lo - 1] == 1 ? e.firstName : nil
    }
}
