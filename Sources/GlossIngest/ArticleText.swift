import Foundation
import GlossModel

/// Why an article text was refused.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case notUTF8, empty, tooLarge, tooComplex }
    public var code: Code
    public var message: String
    public var description: String { message }
}

/// Article text → revision: exact text (decoded UTF-8, Unicode NFC, nothing stripped) and the
/// metadata of its first line (Protocol/02-payloads.md §ArticleIngested).
public enum ArticleText {
    /// Validates and normalises raw file bytes; throws `IngestError` for non-UTF-8, empty or
    /// oversized input.
    public static func prepare(bytes: [UInt8], filename: String?) throws -> ArticleIngested {
        let name = filename ?? "input"
        guard bytes.count <= ProtocolLimits.maxArticleBytes else {
            throw IngestError(code: .tooLarge, message: "\(name) is \(bytes.count) bytes; articles are limited to \(ProtocolLimits.maxArticleBytes) bytes. Split it or trim it before ingesting.")
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            let offset = firstInvalidUTF8Offset(bytes) ?? 0
            throw IngestError(code: .notUTF8, message: "\(name) is not valid UTF-8 (first bad byte at offset \(offset)); convert it to UTF-8 (e.g. `iconv -t UTF-8`) and ingest again.")
        }
        if let at = decoded.firstNULOffset {
            throw IngestError(code: .notUTF8, message: "\(name) holds the character U+0000 (NUL) at scalar \(at); remove it (`tr -d '\\000'`) and ingest again.")
        }
        let text: String
        do { text = try decoded.nfc() } catch let e as NFC.RunTooLong {
            throw IngestError(code: .tooComplex, message: "\(name): \(e); nothing was ingested.")
        }
        guard !text.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) else {
            throw IngestError(code: .empty, message: "\(name) is empty (no text besides whitespace); nothing was ingested.")
        }
        guard text.utf8.count <= ProtocolLimits.maxArticleBytes else {
            throw IngestError(code: .tooLarge, message: "\(name) is \(text.utf8.count) bytes after NFC normalisation, over the \(ProtocolLimits.maxArticleBytes)-byte limit.")
        }
        let head = Dateline.parse(text)
        return ArticleIngested(text: text, date: head?.date, dateline: head?.dateline, places: head?.places ?? [], filename: filename)
    }

    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += String(s).utf8.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}

/// The first line of the sample format: `date 2021-06-26 ISLAMABAD/BAKU – The …`.
public struct Dateline: Equatable, Sendable {
    public var date: String
    public var dateline: String
    public var places: [String]

    /// Parses the article's first line; nil when it does not follow the format.
    public static func parse(_ text: String) -> Dateline? {
        let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let words = firstLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count >= 3, words[0].lowercased() == "date", isCalendarDate(words[1]) else { return nil }
        // The dateline runs from the third word to the dash that opens the lead.
        var dateline: [String] = []
        for w in words.dropFirst(2) {
            if w == "–" || w == "—" || w == "-" { break }
            if let last = w.last, "–—".contains(last) {
                dateline.append(String(w.dropLast())); break
            }
            dateline.append(w)
            if dateline.count > 6 { return Dateline(date: words[1], dateline: "", places: []) }
        }
        let line = dateline.joined(separator: " ").trimmingCharacters(in: .whitespaces)
        let places = line.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return Dateline(date: words[1], dateline: line, places: places)
    }

    /// `YYYY-MM-DD` naming a real day of the proleptic Gregorian calendar.
    public static func isCalendarDate(_ s: String) -> Bool {
        let parts = s.split(separator: "-")
        // ASCII digits only (`Int` would take `+999-+1-+1`), years 0001–9999.
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              s.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), y >= 1, (1...12).contains(m), d >= 1 else { return false }
        return d <= CivilTime.daysIn(year: y, month: m)
    }
}
