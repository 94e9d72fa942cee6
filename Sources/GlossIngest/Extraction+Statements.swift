import Foundation

/// Who said a statement, as far as the text says (Protocol/06-extraction.md §Speakers).
struct Speaker {
    var name: String?
    var role: String?
    var affiliation: String?
}

/// A named speaker with a role seen earlier in the text, for resolving a role alone
/// (`Azeri Defense Minister said …` after `Azerbaijani Defense Minister Zakir Hasanov`).
struct KnownSpeaker {
    var start: Int
    var name: String
    var role: String
    var affiliation: String?
}

/// Persons with a role and speakers found so far, by role key, in the order they were added: a
/// role alone (`the minister said`) names the latest one with that role, looked up in its role's
/// list rather than in all of them.
struct KnownSpeakers {
    private var byRole: [String: [KnownSpeaker]] = [:]

    mutating func append(_ k: KnownSpeaker) { byRole[Document.roleKey(k.role), default: []].append(k) }

    /// The last added with role key `key` whose start precedes `start` and whose affiliation does
    /// not differ from `affiliation`; `examined` counts the entries looked at.
    func last(roleKey key: String, before start: Int, affiliation: String?, examined: inout Int) -> KnownSpeaker? {
        guard let list = byRole[key] else { return nil }
        for k in list.reversed() {
            examined += 1
            if k.start < start && (affiliation == nil || k.affiliation == nil || k.affiliation == affiliation) { return k }
        }
        return nil
    }
}

extension Document {
    static let determiners: Set<String> = ["the", "a", "an"]
    static let honorifics: Set<String> = ["mr", "mrs", "ms", "dr", "prof", "professor"]
    static let platforms: Set<String> = ["Twitter", "X", "Facebook", "Telegram", "Instagram", "television", "TV", "radio"]

    func isVerb(_ k: Int) -> Bool {
        k >= bodyStart && k < toks.count && toks[k].isWord && quoteOf[k] == -1 && Lexicon.reportingVerbs.contains(toks[k].lower)
    }

    func isPronoun(_ k: Int) -> Bool {
        k >= bodyStart && k < toks.count && toks[k].isWord && quoteOf[k] == -1 && Lexicon.pronouns.contains(toks[k].lower)
    }

    /// A word that may stand in a speaker phrase: capitalized (not a function word) or a role word.
    func isSpeakerWord(_ k: Int) -> Bool {
        guard k >= bodyStart, k < toks.count, quoteOf[k] == -1, toks[k].isWord else { return false }
        let tok = toks[k]
        if Lexicon.functionWords.contains(tok.text) || Self.determiners.contains(tok.lower) || Lexicon.reportingVerbs.contains(tok.lower) { return false }
        return tok.isCapitalized || Lexicon.roleWords.contains(tok.lower)
    }

    // MARK: Speaker phrases — Protocol/06-extraction.md §Speakers

    /// The speaker phrase ending just before the verb at `v` (a pronoun alone, or capitalized and role
    /// words with possessives, `of`, particles, abbreviation periods, `(retd)` and hyphens between),
    /// within the sentence starting at `s`. A determiner before it is not part of it.
    func speakerRun(endingBefore v: Int, from s: Int) -> Range<Int>? {
        if v - 1 >= s, isPronoun(v - 1) { return (v - 1)..<v }
        var a = v
        var j = v - 1
        while j >= max(s, bodyStart) && quoteOf[j] == -1 {
            if isSpeakerWord(j) {
                a = j; j -= 1
            } else if toks[j].kind == .possessive, a == j + 1, j - 1 >= s, toks[j - 1].isWord {
                a = j; j -= 1
            } else if isPunct(j, "."), a == j + 1, j - 1 >= s, adjacent(j - 1, j), Lexicon.abbreviations.contains(toks[j - 1].text) {
                a = j; j -= 1
            } else if isPunct(j, ")"), a == j + 1, j - 2 >= s, Lexicon.parentheticalTitles.contains(toks[j - 1].lower), isPunct(j - 2, "(") {
                a = j - 2; j -= 3
            } else if (isWord(j, "of") || isWord(j, "for") || (toks[j].isWord && Lexicon.nameParticles.contains(toks[j].text))),
                      a == j + 1, isSpeakerWord(j - 1), j - 1 >= s {
                a = j; j -= 1
            } else if isPunct(j, "-"), a == j + 1, adjacent(j - 1, j), adjacent(j, j + 1), isSpeakerWord(j - 1), j - 1 >= s {
                a = j; j -= 1
            } else {
                break
            }
        }
        // A run starts on a word (not on a possessive, period, `of` or hyphen left dangling).
        while a < v && !isSpeakerWord(a) { a += 1 }
        return a < v ? a..<v : nil
    }

    /// A common-noun speaker just before the verb at `v`: a determiner and one or two lowercase words
    /// (`the alliance said`, `a ministry spokesperson said`). Only accepted in subject position.
    /// Returns the words (without the determiner).
    func commonNounRun(endingBefore v: Int, from s: Int) -> Range<Int>? {
        for n in 1...2 {
            let d = v - n - 1
            guard d >= max(s, bodyStart), (d..<v).allSatisfy({ quoteOf[$0] == -1 }),
                  ((d + 1)..<v).allSatisfy({ toks[$0].isLowercaseWord && !Lexicon.pronouns.contains(toks[$0].lower)
                      && !Lexicon.reportingVerbs.contains(toks[$0].lower) && !Self.determiners.contains(toks[$0].lower) }) else { return nil }
            if toks[d].isWord && Self.determiners.contains(toks[d].lower) { return (d + 1)..<v }
        }
        return nil
    }

    /// Whether the phrase starting at `a` (or the determiner just before it) opens the sentence `s` or
    /// follows a comma: the subject position of `<speaker> said …` and `…, <speaker> said`.
    func subjectStart(_ a: Int, lo: Int) -> Int {
        a - 1 >= lo && toks[a - 1].isWord && Self.determiners.contains(toks[a - 1].lower) ? a - 1 : a
    }

    /// The speaker phrase before the verb at `v`, not reaching before `lo`: a named phrase, else a
    /// common-noun phrase whose determiner index `subject` accepts.
    func speaker(before v: Int, from lo: Int, subject: (Int) -> Bool) -> Range<Int>? {
        if let r = speakerRun(endingBefore: v, from: lo) { return r }
        if let r = commonNounRun(endingBefore: v, from: lo), subject(r.lowerBound - 1) { return r }
        return nil
    }

    /// The speaker phrase starting at `j` (after an optional determiner), before `e`: `… said Zakir Hasanov.`
    func speakerRun(startingAt j0: Int, until e: Int) -> Range<Int>? {
        if j0 < e, isPronoun(j0) { return j0..<(j0 + 1) }
        var j = j0
        if j < e && toks[j].isWord && Self.determiners.contains(toks[j].lower) { j += 1 }
        let b = j
        while j < e && quoteOf[j] == -1 {
            if isSpeakerWord(j) {
                j += 1
            } else if j > b, toks[j].kind == .possessive {
                j += 1
            } else if j > b, isPunct(j, "."), adjacent(j - 1, j), Lexicon.abbreviations.contains(toks[j - 1].text) {
                j += 1
            } else if j > b, isPunct(j, "("), j + 2 < e, Lexicon.parentheticalTitles.contains(toks[j + 1].lower), isPunct(j + 2, ")") {
                j += 3
            } else if j > b, isWord(j, "of") || isWord(j, "for") || (toks[j].isWord && Lexicon.nameParticles.contains(toks[j].text)), isSpeakerWord(j + 1) {
                j += 1
            } else if j > b, isPunct(j, "-"), adjacent(j - 1, j), adjacent(j, j + 1), isSpeakerWord(j + 1) {
                j += 1
            } else {
                break
            }
        }
        // A run ends on a word, an abbreviation period or `(retd)`, never on a possessive.
        while j > b && toks[j - 1].kind == .possessive { j -= 1 }
        return b < j ? b..<j : nil
    }

    /// Splits a speaker phrase into affiliation, role and name (Protocol/06-extraction.md §Speakers).
    func analyzeSpeaker(_ r: Range<Int>, surnames: SurnameIndex, known: KnownSpeakers, examined: inout Int) -> Speaker {
        if r.count == 1 && isPronoun(r.lowerBound) { return Speaker() }
        var k = r.lowerBound
        var affiliation: String?
        if countryOf[k] >= 0 {
            let m = countries[countryOf[k]]
            if m.end >= r.upperBound { return Speaker(name: m.country.name, affiliation: m.country.name) }
            affiliation = m.country.name
            k = m.end
            if toks[k].kind == .possessive { k += 1 }
        }
        guard k < r.upperBound else { return Speaker(affiliation: affiliation) }
        // The role runs to the last role head, with its abbreviation period or `(retd)`.
        // It then continues over role words joined by `of`/`for` (`Secretary of State`).
        var roleEnd = k
        for j in k..<r.upperBound where toks[j].isWord && Lexicon.roleHeads.contains(toks[j].lower) && countryOf[j] == -1 {
            roleEnd = j + 1
        }
        if roleEnd > k {
            if isPunct(roleEnd, "."), adjacent(roleEnd - 1, roleEnd), Lexicon.abbreviations.contains(toks[roleEnd - 1].text) { roleEnd += 1 }
            if isPunct(roleEnd, "("), Lexicon.parentheticalTitles.contains(toks[min(roleEnd + 1, toks.count - 1)].lower), isPunct(roleEnd + 2, ")") { roleEnd += 3 }
            while roleEnd < r.upperBound {
                if isRoleWord(roleEnd) { roleEnd += 1 }
                else if (isWord(roleEnd, "of") || isWord(roleEnd, "for")) && roleEnd + 1 < r.upperBound && isRoleWord(roleEnd + 1) { roleEnd += 2 }
                else { break }
            }
            roleEnd = min(roleEnd, r.upperBound)
        }
        var role = roleEnd > k ? folded(k..<roleEnd) : nil
        if roleEnd == k + 1 || (roleEnd == k + 2 && isPunct(k + 1, ".")), Self.honorifics.contains(toks[k].lower) { role = nil }
        let nameStart = roleEnd
        guard nameStart < r.upperBound else {
            // A role alone: the latest earlier speaker or person with the same role and country.
            guard let role else { return Speaker(affiliation: affiliation) }
            let key = Self.roleKey(role)
            let match = known.last(roleKey: key, before: toks[r.lowerBound].start, affiliation: affiliation, examined: &examined)
            return Speaker(name: match?.name, role: role, affiliation: affiliation)
        }
        var name: String
        if let run = nameRun(from: nameStart), run.end == r.upperBound, (2...4).contains(run.words) {
            name = folded(nameStart..<run.end)
        } else if r.upperBound - nameStart == 1, isNameWord(nameStart) {
            name = surnames.resolve(toks[nameStart].text, before: nameStart) ?? toks[nameStart].text
        } else {
            name = folded(nameStart..<r.upperBound)
        }
        if name.isEmpty { name = folded(r) }
        return Speaker(name: name, role: role, affiliation: affiliation)
    }

    /// Roles compare lowercased, with `defence` read as `defense` and whitespace folded.
    static func roleKey(_ role: String) -> String {
        role.lowercased().split(separator: " ").map { $0 == "defence" ? "defense" : String($0) }.joined(separator: " ")
    }

    // MARK: Tails — Protocol/06-extraction.md §Tails

    /// The index after the tail that starts at `start` after the reporting verb at `v` (right after it,
    /// or after an inverted speaker): the object of `told`, time
    /// phrases (`Saturday`, `on Monday`, `last week`, `yesterday`), `in a statement`, `at a news
    /// conference`, `on Twitter`, `to reporters`, `in <Place>`, never past `limit`.
    func tailEnd(verb v: Int, from start: Int, until limit: Int) -> Int {
        var j = start
        func word(_ k: Int) -> String { k < limit && toks[k].isWord ? toks[k].lower : "" }
        func capitalized(_ k: Int) -> Bool { k < limit && toks[k].isCapitalized && weekday(k) == nil && month(k) == nil }
        if start == v + 1 && (toks[v].lower == "told" || toks[v].lower == "tells") {
            if Lexicon.audiences.contains(word(j)) {
                j += 1
            } else {
                if word(j) == "the" && capitalized(j + 1) { j += 1 }
                var n = 0
                while capitalized(j) && n < 4 { j += 1; n += 1 }
            }
        }
        var phrases = 0
        while j < limit && phrases < 6 {
            let w = word(j)
            phrases += 1
            if weekday(j) != nil {
                j += 1
                if Lexicon.dayParts.contains(word(j)) { j += 1 }
            } else if ["on", "late", "early"].contains(w), j + 1 < limit, weekday(j + 1) != nil {
                j += 2
                if Lexicon.dayParts.contains(word(j)) { j += 1 }
            } else if w == "on", month(j + 1) != nil, j + 2 < limit, toks[j + 2].kind == .number {
                j += 3
            } else if w == "on", j + 2 < limit, toks[j + 1].kind == .number, month(j + 2) != nil {
                j += 3
            } else if ["yesterday", "today", "tomorrow", "tonight", "earlier", "later"].contains(w) {
                j += 1
            } else if ["last", "this", "next"].contains(w), ["week", "month", "year"].contains(word(j + 1)) || (j + 1 < limit && weekday(j + 1) != nil) {
                j += 2
            } else if w == "in", ["a", "an"].contains(word(j + 1)), Lexicon.media.contains(word(j + 2)) {
                j += 3
            } else if w == "at", ["a", "an", "the"].contains(word(j + 1)), ["news", "press"].contains(word(j + 2)), Lexicon.media.contains(word(j + 3)) {
                j += 4
            } else if w == "on", j + 1 < limit, Self.platforms.contains(toks[j + 1].text) {
                j += 2
            } else if w == "to", Lexicon.audiences.contains(word(j + 1)) {
                j += 2
            } else if w == "in", j + 1 < limit, month(j + 1) != nil || capitalized(j + 1) {
                j += 2
                while capitalized(j) { j += 1 }
            } else {
                break
            }
        }
        return min(j, limit)
    }

    // MARK: Statements — Protocol/06-extraction.md §Statements

    /// Stops early (returning what it found) once `budget` is spent: see `ExtractionBudget`.
    func statementCandidates(persons: [PersonMention], dates: [Candidate], budget: inout ExtractionBudget) -> [Candidate] {
        var known = KnownSpeakers()
        for p in persons {
            guard let role = p.candidate.role, !Self.honorifics.contains(Self.roleKey(role).trimmingCharacters(in: ["."])) else { continue }
            known.append(KnownSpeaker(start: p.candidate.selector.start, name: p.candidate.value, role: role, affiliation: p.candidate.affiliation))
        }
        let surnames = SurnameIndex(persons)
        var out: [Candidate] = []
        var usedVerbs = Set<Int>()
        var qi = 0

        func saidOn(_ tail: Range<Int>) -> String? {
            guard !tail.isEmpty else { return nil }
            let lo = toks[tail.lowerBound].start, hi = toks[tail.upperBound - 1].end
            var a = 0, b = dates.count
            while a < b { let m = (a + b) / 2; if dates[m].selector.start < lo { a = m + 1 } else { b = m } }
            return a < dates.count && dates[a].selector.end <= hi ? dates[a].value : nil
        }
        func emit(_ content: (Int, Int), rule: String, run: Range<Int>?, tail: Range<Int>) {
            budget.statementScalars += content.1 - content.0
            let sp = run.map { analyzeSpeaker($0, surnames: surnames, known: known, examined: &budget.work) } ?? Speaker()
            let c = Candidate(kind: "statement", value: t.folded(content.0, content.1), rule: rule,
                              selector: t.selector(content.0, content.1), speaker: sp.name, role: sp.role,
                              saidOn: saidOn(tail), affiliation: sp.affiliation, attribution: run.map { selector($0) })
            if let name = sp.name, let role = sp.role, let run {
                known.append(KnownSpeaker(start: toks[run.lowerBound].start, name: name, role: role, affiliation: sp.affiliation))
            }
            out.append(c)
        }
        func wordCount(_ r: Range<Int>) -> Int {
            budget.work += r.count
            return r.reduce(0) { $0 + (toks[$1].isWord ? 1 : 0) }
        }

        for s in sentences {
            if budget.isSpent { return out }
            let e = s.upperBound
            /// A phrase whose determiner or first word is at `k` opens the sentence or follows a comma.
            func opensClause(_ k: Int) -> Bool { k == s.lowerBound || (k > s.lowerBound && isPunct(k - 1, ",")) }
            func contained(_ stmt: Range<Int>) -> Bool {
                budget.work += stmt.count
                return stmt.allSatisfy { k in
                    quoteOf[k] == -1 || (quotes[quoteOf[k]].open >= stmt.lowerBound && (quotes[quoteOf[k]].close ?? Int.max) < stmt.upperBound)
                }
            }

            // Quotes opening in this sentence.
            while qi < quotes.count && quotes[qi].open < s.lowerBound { qi += 1 }
            var q = qi
            while q < quotes.count && quotes[q].open < e {
                defer { q += 1 }
                let quote = quotes[q]
                guard let content = quoteContent(quote), wordCount((quote.open + 1)..<quote.contentEnd) >= 1 else { continue }
                var verb: Int?, run: Range<Int>?, tail = 0..<0
                // After: “…,” said X / “…,” X said / “…,” the ministry said
                if let close = quote.close {
                    var j = close + 1
                    if isPunct(j, ",") { j += 1 }
                    if j < e, isVerb(j), !usedVerbs.contains(j), let r = speakerRun(startingAt: j + 1, until: e) {
                        verb = j; run = r; tail = r.upperBound..<tailEnd(verb: j, from: r.upperBound, until: e)
                    } else if let v = (j..<max(j, min(e, j + 10))).first(where: { isVerb($0) }), !usedVerbs.contains(v),
                              let r = speaker(before: v, from: j, subject: { $0 == j }), subjectStart(r.lowerBound, lo: j) == j {
                        verb = v; run = r; tail = (v + 1)..<tailEnd(verb: v, from: v + 1, until: e)
                    }
                }
                // Before: X said: “…” / X told reporters on Monday that ‘…’
                if verb == nil {
                    var k = quote.open - 1
                    while k >= s.lowerBound && (isPunct(k, ":") || isPunct(k, ",") || isWord(k, "that")) { k -= 1 }
                    var v = k
                    while v >= max(s.lowerBound, k - 8) && quoteOf[v] == -1 {
                        if isVerb(v), !usedVerbs.contains(v), tailEnd(verb: v, from: v + 1, until: k + 1) == k + 1,
                           let r = speaker(before: v, from: s.lowerBound, subject: opensClause) {
                            verb = v; run = r; tail = (v + 1)..<(k + 1)
                            break
                        }
                        v -= 1
                    }
                }
                if let verb {
                    usedVerbs.insert(verb)
                    emit(content, rule: "quote-said", run: run, tail: tail)
                } else if wordCount((quote.open + 1)..<quote.contentEnd) >= 3 {
                    emit(content, rule: "quote", run: nil, tail: 0..<0)
                }
            }

            // Reported speech around an unquoted reporting verb.
            let last = e - 1 >= s.lowerBound && toks[e - 1].kind == .punct && Self.sentenceEnds.contains(toks[e - 1].text) ? e - 1 : e
            for v in s where isVerb(v) && !usedVerbs.contains(v) {
                if budget.isSpent { return out }
                guard let run = speaker(before: v, from: s.lowerBound, subject: opensClause) else { continue }
                let subject = subjectStart(run.lowerBound, lo: s.lowerBound)
                let tailStop = tailEnd(verb: v, from: v + 1, until: last)
                let comma = subject - 1
                if comma > s.lowerBound, isPunct(comma, ","), quoteOf[comma] == -1, tailStop >= last || isPunct(tailStop, ",") {
                    // reported-said: <statement>, <speaker> said [tail].
                    var stop = comma
                    while stop > s.lowerBound && isPunct(stop - 1, ",") { stop -= 1 }
                    let stmt = s.lowerBound..<stop
                    guard wordCount(stmt) >= 3, contained(stmt) else { continue }
                    usedVerbs.insert(v)
                    emit(scalars(stmt), rule: "reported-said", run: run, tail: (v + 1)..<tailStop)
                } else if opensClause(subject) {
                    // said-that: <speaker> said [tail] [that|:|,] <statement>.
                    var x = tailStop
                    if isWord(x, "that") || isPunct(x, ":") || isPunct(x, ",") { x += 1 }
                    guard x < last, quoteOf[x] == -1 else { continue }
                    let stmt = x..<last
                    guard wordCount(stmt) >= 3, contained(stmt) else { continue }
                    usedVerbs.insert(v)
                    emit(scalars(stmt), rule: "said-that", run: run, tail: (v + 1)..<tailStop)
                }
            }
        }
        return out
    }

    /// The scalar range of a quote's text: inside the marks, without surrounding whitespace or a
    /// trailing comma.
    func quoteContent(_ q: Quote) -> (Int, Int)? {
        var lo = toks[q.open].end
        var hi = q.close.map { toks[$0].start } ?? toks[q.contentEnd - 1].end
        func trim() {
            while lo < hi && t.scalars[lo].properties.isWhitespace { lo += 1 }
            while hi > lo && t.scalars[hi - 1].properties.isWhitespace { hi -= 1 }
        }
        trim()
        while hi > lo && t.scalars[hi - 1] == "," { hi -= 1; trim() }
        return lo < hi ? (lo, hi) : nil
    }
}
