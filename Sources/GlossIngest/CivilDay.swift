import GlossModel

/// A day of the proleptic Gregorian calendar, for resolving dates against the article date
/// (Protocol/06-extraction.md §Dates). Arithmetic goes through `CivilTime`'s day numbers.
struct CivilDay: Equatable, Comparable {
    var year: Int
    var month: Int
    var day: Int

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD` naming a real day, else nil.
    init?(iso: String) {
        guard Dateline.isCalendarDate(iso) else { return nil }
        let parts = iso.split(separator: "-").compactMap { Int($0) }
        self.init(year: parts[0], month: parts[1], day: parts[2])
    }

    init(dayNumber: Int64) {
        let c = CivilTime.civil(fromDays: dayNumber)
        self.init(year: Int(c.year), month: c.month, day: c.day)
    }

    /// `year-month-day` if it is a real day (years 1…9999), else nil.
    static func valid(_ year: Int, _ month: Int, _ day: Int) -> CivilDay? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= CivilTime.daysIn(year: year, month: month) else { return nil }
        return CivilDay(year: year, month: month, day: day)
    }

    /// Days since 1970-01-01.
    var dayNumber: Int64 { CivilTime.days(year: Int64(year), month: month, day: day) }

    func adding(days n: Int) -> CivilDay { CivilDay(dayNumber: dayNumber + Int64(n)) }

    /// ISO weekday: Monday = 1 … Sunday = 7 (1970-01-01 was a Thursday).
    var weekday: Int {
        let r = (dayNumber + 3) % 7
        return Int(r < 0 ? r + 7 : r) + 1
    }

    /// ISO 8601 week-numbering year and week: the week belongs to the year of its Thursday.
    var isoWeek: (year: Int, week: Int) {
        let thursday = adding(days: 4 - weekday)
        let ordinal = Int(thursday.dayNumber - CivilDay(year: thursday.year, month: 1, day: 1).dayNumber)
        return (thursday.year, ordinal / 7 + 1)
    }

    /// The given weekday on or before this day (this day itself when it is that weekday).
    func onOrBefore(weekday target: Int) -> CivilDay {
        adding(days: -((weekday - target + 7) % 7))
    }

    static func < (a: CivilDay, b: CivilDay) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    // MARK: Values (Protocol/06-extraction.md §Values)

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    var dayValue: String { "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))" }
    static func monthValue(_ year: Int, _ month: Int) -> String { "\(pad(year, 4))-\(pad(month, 2))" }
    static func yearValue(_ year: Int) -> String { pad(year, 4) }
    var weekValue: String {
        let w = isoWeek
        return "\(Self.pad(w.year, 4))-W\(Self.pad(w.week, 2))"
    }

    /// The month `delta` months away from `year-month`.
    static func shift(year: Int, month: Int, by delta: Int) -> (year: Int, month: Int) {
        let index = year * 12 + (month - 1) + delta
        let y = index >= 0 ? index / 12 : (index - 11) / 12
        return (y, index - y * 12 + 1)
    }
}
