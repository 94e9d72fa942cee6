/// A date expression found in the body: tokens `[first, end)`, its value and precision, its rule.
struct DateMatch {
    var end: Int
    var value: String
    var precision: String
    var rule: String
}

extension Document {
    // Protocol/06-extraction.md §Dates. Scanning left to right, the first rule (in the order below) that
    // matches at a token wins and the scan resumes after the expression, so expressions never overlap.
    func dateCandidates() -> [Candidate] {
        var out: [Candidate] = []
        var i = bodyStart
        while i < toks.count && out.count <= ExtractionBudget.maxCandidates {
            if let m = dateMatch(at: i) {
                out.append(Candidate(kind: "date", value: m.value, precision: m.precision, rule: m.rule,
                                     selector: selector(i..<m.end)))
                i = m.end
            } else {
                i += 1
            }
        }
        return out
    }

    /// Index after a month word and, for an abbreviation, its touching period.
    func afterMonth(_ k: Int) -> Int {
        Lexicon.abbreviations.contains(toks[k].text) && isPunct(k + 1, ".") && adjacent(k, k + 1) ? k + 2 : k + 1
    }

    /// A day of month (1 or 2 digits, optionally with a touching `st`/`nd`/`rd`/`th`): (day, index after).
    func dayNumber(_ k: Int) -> (Int, Int)? {
        guard isNumber(k, digits: 1...2), let d = Int(toks[k].text), (1...31).contains(d) else { return nil }
        if k + 1 < toks.count, adjacent(k, k + 1), ["st", "nd", "rd", "th"].contains(toks[k + 1].lower) { return (d, k + 2) }
        if k + 1 < toks.count, adjacent(k, k + 1), toks[k + 1].kind == .number || toks[k + 1].isWord { return nil }
        return (d, k + 1)
    }

    /// A four-digit year not glued to further digits or letters.
    func yearNumber(_ k: Int) -> Int? {
        guard isNumber(k, digits: 4...4), let y = Int(toks[k].text), y >= 1 else { return nil }
        if k + 1 < toks.count, adjacent(k, k + 1), toks[k + 1].kind == .number || toks[k + 1].isWord { return nil }
        return y
    }

    func dateMatch(at i: Int) -> DateMatch? {
        let ref = reference
        // A value's year is 0001–9999 (§Values): a relative expression that reaches past either end
        // (`tomorrow` of 9999-12-31, `last week` of 0001-01-01) yields nothing.
        func day(_ d: CivilDay?, _ end: Int, _ rule: String) -> DateMatch? {
            guard let d, (1...9999).contains(d.year) else { return nil }
            return DateMatch(end: end, value: d.dayValue, precision: "day", rule: rule)
        }
        func month(_ y: Int, _ m: Int, _ end: Int, _ rule: String) -> DateMatch? {
            (1...9999).contains(y) ? DateMatch(end: end, value: CivilDay.monthValue(y, m), precision: "month", rule: rule) : nil
        }
        func year(_ y: Int, _ end: Int, _ rule: String) -> DateMatch? {
            (1...9999).contains(y) ? DateMatch(end: end, value: CivilDay.yearValue(y), precision: "year", rule: rule) : nil
        }
        func week(_ d: CivilDay, _ end: Int, _ rule: String) -> DateMatch? {
            (1...9999).contains(d.isoWeek.year) ? DateMatch(end: end, value: d.weekValue, precision: "week", rule: rule) : nil
        }
        let w = toks[i].lower

        // iso-date: 2021-06-26
        if isNumber(i, digits: 4...4), isPunct(i + 1, "-"), isNumber(i + 2, digits: 2...2), isPunct(i + 3, "-"),
           isNumber(i + 4, digits: 2...2), (i..<(i + 4)).allSatisfy({ adjacent($0, $0 + 1) }),
           !(i + 5 < toks.count && adjacent(i + 4, i + 5) && (toks[i + 5].kind == .number || toks[i + 5].isWord || toks[i + 5].text == "-")),
           let d = CivilDay.valid(Int(toks[i].text)!, Int(toks[i + 2].text)!, Int(toks[i + 4].text)!) {
            return day(d, i + 5, "iso-date")
        }

        if let m = self.month(i) {
            let k = afterMonth(i)
            // month-day-year: June 26, 2021
            if let (d, k2) = dayNumber(k) {
                let k3 = isPunct(k2, ",") ? k2 + 1 : k2
                if let y = yearNumber(k3) {
                    if let r = day(CivilDay.valid(y, m, d), k3 + 1, "month-day-year") { return r }
                    return nil
                }
            }
            // month-year: November 2017, Nov. 2017, November of 2017
            var k2 = k
            if isPunct(k2, ",") || isWord(k2, "of") { k2 += 1 }
            if let y = yearNumber(k2) { return month(y, m, k2 + 1, "month-year") }
            guard let ref else { return nil }
            // month-day: March 1 (the nearest such day to the article date)
            if let (d, k2) = dayNumber(k), !isPunct(k2, ":") {
                return day(nearestDay(month: m, day: d, to: ref), k2, "month-day")
            }
            // month-this-year / month-next-year / month-last-year: September this year
            if isWord(k + 1, "year") {
                if isWord(k, "this") { return month(ref.year, m, k + 2, "month-this-year") }
                if isWord(k, "next") { return month(ref.year + 1, m, k + 2, "month-next-year") }
                if isWord(k, "last") { return month(ref.year - 1, m, k + 2, "month-last-year") }
            }
            // month-in: in September, by April, mid-September (the nearest such month to the article's
            // month); since March (the latest such month not after the article's month)
            let prep = isPunct(i - 1, "-") && adjacent(i - 1, i) && isWord(i - 2, "mid") ? "mid" : (i > 0 && toks[i - 1].isWord ? toks[i - 1].lower : "")
            if Lexicon.monthPrepositions.contains(prep) && i - 1 >= bodyStart {
                let y = prep == "since" ? (m > ref.month ? ref.year - 1 : ref.year) : nearestYear(month: m, to: ref)
                return month(y, m, k, "month-in")
            }
            return nil
        }

        // day-month-year / day-month: 26 June 2021, 1 March, 1st of March
        if let (d, k) = dayNumber(i) {
            let k1 = isWord(k, "of") ? k + 1 : k
            if let m = self.month(k1) {
                let k2 = afterMonth(k1)
                let k3 = isPunct(k2, ",") ? k2 + 1 : k2
                if let y = yearNumber(k3) { return day(CivilDay.valid(y, m, d), k3 + 1, "day-month-year") }
                if let ref { return day(nearestDay(month: m, day: d, to: ref), k2, "day-month") }
            }
            return nil
        }

        // year-in: in 2019, since 2015, mid-2020
        if let y = yearNumber(i) {
            let prep = isPunct(i - 1, "-") && adjacent(i - 1, i) && isWord(i - 2, "mid") ? "mid" : (i > 0 && toks[i - 1].isWord ? toks[i - 1].lower : "")
            if Lexicon.yearPrepositions.contains(prep) && i - 1 >= bodyStart && !(isPunct(i + 1, "-") && isNumber(i + 2, digits: 4...4)) {
                return year(y, i + 1, "year-in")
            }
            return nil
        }

        guard let ref, toks[i].isWord else { return nil }

        // relative-day: yesterday, today, tomorrow
        switch w {
        case "yesterday": return day(ref.adding(days: -1), i + 1, "relative-day")
        case "today": return day(ref, i + 1, "relative-day")
        case "tomorrow": return day(ref.adding(days: 1), i + 1, "relative-day")
        default: break
        }

        // this/next/last + week | month | year | Month | Weekday
        if w == "this" || w == "next" || w == "last", i + 1 < toks.count {
            let step = w == "this" ? 0 : (w == "next" ? 1 : -1)
            switch toks[i + 1].lower {
            case "week": return week(ref.adding(days: 7 * step), i + 2, "\(w)-week")
            case "month":
                let s = CivilDay.shift(year: ref.year, month: ref.month, by: step)
                return month(s.year, s.month, i + 2, "\(w)-month")
            case "year": return year(ref.year + step, i + 2, "\(w)-year")
            default: break
            }
            if let m = self.month(i + 1) {
                // this September: the article's year; next/last September: the first such month after /
                // before the article's month.
                var y = ref.year
                if step > 0 && m <= ref.month { y += 1 }
                if step < 0 && m >= ref.month { y -= 1 }
                return month(y, m, afterMonth(i + 1), "month-\(w)")
            }
            if step != 0, let wd = weekday(i + 1) {
                // last Tuesday: strictly before the article date; next Tuesday: strictly after.
                let d = step < 0 ? ref.adding(days: -1).onOrBefore(weekday: wd)
                                 : ref.adding(days: 7).onOrBefore(weekday: wd)
                return day(d, i + 2, "weekday-\(w)")
            }
            return nil
        }

        // weekday-said: said Saturday, said on Saturday, told reporters late Friday
        if let wd = weekday(i) {
            var k = i - 1
            var skipped = 0
            while k >= bodyStart && skipped <= 5 && toks[k].isWord && Self.weekdaySkippable(toks[k].lower) {
                k -= 1; skipped += 1
            }
            if k >= bodyStart && toks[k].isWord && Lexicon.pastReportingVerbs.contains(toks[k].lower) {
                let end = i + 1 < toks.count && Lexicon.dayParts.contains(toks[i + 1].lower) ? i + 2 : i + 1
                return day(ref.onOrBefore(weekday: wd), end, "weekday-said")
            }
        }
        return nil
    }

    /// The day `month`/`day` in the article's year or a neighbouring one, whichever is nearest the
    /// article date; on a tie the article's year, else the earlier. Nil if the day exists in none.
    func nearestDay(month m: Int, day d: Int, to ref: CivilDay) -> CivilDay? {
        var best: (CivilDay, Int64)?
        for y in [ref.year, ref.year - 1, ref.year + 1] {
            guard let c = CivilDay.valid(y, m, d) else { continue }
            let distance = abs(c.dayNumber - ref.dayNumber)
            if best == nil || distance < best!.1 || (distance == best!.1 && best!.0.year != ref.year && c < best!.0) { best = (c, distance) }
        }
        return best?.0
    }

    /// The year of the month `m` nearest the article's month (the article's year on a tie).
    func nearestYear(month m: Int, to ref: CivilDay) -> Int {
        let delta = m - ref.month
        if delta > 6 { return ref.year - 1 }
        if delta < -6 { return ref.year + 1 }
        return ref.year
    }

    static func weekdaySkippable(_ w: String) -> Bool {
        ["on", "late", "early", "in", "a", "an", "the", "to"].contains(w) || Lexicon.media.contains(w) || Lexicon.audiences.contains(w)
    }
}
