import Foundation
import GlossIngest
import GlossModel
import GlossTestSupport

// SplitMix64 and testSeed come from GlossTestSupport.

extension RandomNumberGenerator {
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}

/// The repository root, found from this file's path (Tests/GlossIngestTests/…).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The sample article, prepared as ingest prepares it (NFC, dateline parsed).
func sampleArticle() throws -> ArticleIngested {
    let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/2021-06-26-trilateral-special-forces.txt")
    let bytes = try [UInt8](Data(contentsOf: url))
    return try ArticleText.prepare(bytes: bytes, filename: url.lastPathComponent)
}

/// Extraction as ingest runs it: NFC text, the dateline date as the reference.
func extract(_ raw: String) -> (text: String, candidates: [Candidate]) {
    let text = raw.precomposedStringWithCanonicalMapping
    return (text, Extraction.extract(text: text, articleDate: Dateline.parse(text)?.date))
}

extension Array where Element == Candidate {
    func of(_ kind: String) -> [Candidate] { filter { $0.kind == kind } }
    func values(_ kind: String) -> [String] { of(kind).map(\.value) }
    /// The candidates of `kind` whose selector is exactly `exact`.
    func at(_ kind: String, _ exact: String) -> [Candidate] { filter { $0.kind == kind && $0.selector.exact == exact } }
}

/// Scalar offset of the first occurrence of `needle` in `text` (test helper, not the code under test).
func scalarOffset(of needle: String, in text: String) -> Int? {
    let h = Array(text.unicodeScalars), n = Array(needle.unicodeScalars)
    guard !n.isEmpty, n.count <= h.count else { return nil }
    for i in 0...(h.count - n.count) where Array(h[i..<(i + n.count)]) == n { return i }
    return nil
}

/// Independent calendar arithmetic for checking resolved dates: Foundation's Gregorian and ISO 8601
/// calendars in UTC (the code under test uses its own day numbers).
enum Oracle {
    static let utc = TimeZone(identifier: "UTC")!
    static var gregorian: Calendar { var c = Calendar(identifier: .gregorian); c.timeZone = utc; return c }
    static var iso: Calendar { var c = Calendar(identifier: .iso8601); c.timeZone = utc; return c }

    static func date(_ y: Int, _ m: Int, _ d: Int) -> Date {
        gregorian.date(from: DateComponents(year: y, month: m, day: d))!
    }
    static func ymd(_ date: Date) -> String {
        let c = gregorian.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
    static func adding(_ days: Int, to date: Date) -> Date { gregorian.date(byAdding: .day, value: days, to: date)! }
    /// ISO weekday, Monday = 1.
    static func weekday(_ date: Date) -> Int { (gregorian.component(.weekday, from: date) + 5) % 7 + 1 }
    static func onOrBefore(_ weekday: Int, _ date: Date) -> Date { adding(-((Self.weekday(date) - weekday + 7) % 7), to: date) }
    static func week(_ date: Date) -> String {
        let c = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!)
    }
    static func month(_ date: Date, plus n: Int) -> String {
        let d = gregorian.date(byAdding: .month, value: n, to: gregorian.date(from: gregorian.dateComponents([.year, .month], from: date))!)!
        let c = gregorian.dateComponents([.year, .month], from: d)
        return String(format: "%04d-%02d", c.year!, c.month!)
    }
}
