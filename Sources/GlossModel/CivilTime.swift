/// Calendar arithmetic without Foundation formatters (which are slow and locale-dependent).
public enum CivilTime {
    /// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
    public static func civil(fromDays z0: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, Int(m), Int(d))
    }

    /// Days in `month` (1–12) of `year`, proleptic Gregorian.
    public static func daysIn(year: Int, month: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// (year, month, day) → days since 1970-01-01.
    public static func days(year y0: Int64, month m: Int, day d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `2021-06-26T10:04:05.123Z` for milliseconds since the epoch.
    /// (Digits written into the string's storage: formatting by interpolation cost ~9,000
    /// instructions, and every applied event formats its time.)
    public static func rfc3339(milliseconds ms: UInt64) -> String {
        let total = Int64(ms / 1000)
        let (y, mo, d) = civil(fromDays: total / 86_400)
        let secs = total % 86_400
        var yearDigits = 4, limit: Int64 = 10_000
        while y >= limit { yearDigits += 1; limit *= 10 }   // years up to ~5.8 × 10^8: at most 9 digits
        return String(unsafeUninitializedCapacity: yearDigits + 20) { b in
            var i = 0
            func digits(_ value: Int64, _ width: Int, then separator: UInt8) {
                var v = value
                for k in stride(from: width - 1, through: 0, by: -1) { b[i + k] = UInt8(48 + v % 10); v /= 10 }
                b[i + width] = separator
                i += width + 1
            }
            digits(y, yearDigits, then: UInt8(ascii: "-"))
            digits(Int64(mo), 2, then: UInt8(ascii: "-"))
            digits(Int64(d), 2, then: UInt8(ascii: "T"))
            digits(secs / 3600, 2, then: UInt8(ascii: ":"))
            digits(secs / 60 % 60, 2, then: UInt8(ascii: ":"))
            digits(secs % 60, 2, then: UInt8(ascii: "."))
            digits(Int64(ms % 1000), 3, then: UInt8(ascii: "Z"))
            return i
        }
    }
}

extension HybridTime {
    /// The wall-clock part as RFC 3339 UTC with milliseconds.
    public var rfc3339: String { CivilTime.rfc3339(milliseconds: milliseconds) }
}
