import Foundation
import GRDB

/// One full-text match (`gloss search`): what matched, the article it belongs to, and a snippet
/// with the matched words in brackets.
public struct SearchHit: Sendable {
    /// `revision`, `note`, `fact` or `annotation`.
    public var kind: String
    public var id: String
    public var article: String?
    public var snippet: String

    /// The best `limit` matches of `words` (each word matched as a phrase of its tokens, every word
    /// in every hit), best first.
    ///
    /// The snippets are cut here, one hit's text at a time, not by FTS5's `snippet()`: that one
    /// scores a window at every occurrence against every other occurrence in the text, so a note of
    /// one word repeated 60,000 times cost 22 s per search (two words: 89 s) — anyone who can write
    /// a note could slow every search down. This pass reads a text up to its first match (linear).
    /// Every word as a quoted FTS5 phrase (no operator a word could smuggle in).
    static func query(_ words: [String]) -> String {
        words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
    }

    /// The articles of every match (an article's text, or a note, fact or annotation on it), all of
    /// them: what the web view's article list filters by.
    public static func articles(matching words: [String], _ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT DISTINCT \(article) \(matches) AND \(article) IS NOT NULL", arguments: [query(words)]))
    }

    /// A match's article, and the matches with what they are on (one `?`: the query). The index
    /// holds no text: its rowid names the row (`SearchIndex.sources`).
    static let article = "coalesce(r.article, n.on_id, f.article, a.article)"
    static let matches = """
        FROM search s
        \(SearchIndex.joins(["article_revisions": "r", "notes": "n", "facts": "f", "annotations": "a"]))
        WHERE search MATCH ?
        """

    public static func matching(words: [String], limit: Int, _ db: Database) throws -> [SearchHit] {
        let query = query(words)
        let rows = try Row.fetchAll(db, sql: "SELECT s.rowid, \(article) AS article \(matches) ORDER BY rank LIMIT ?", arguments: [query, limit])
        let phrases = words.map(SearchSnippet.tokens(of:)).filter { !$0.isEmpty }
        return try rows.compactMap { row in
            guard let doc = try SearchIndex.document(row[0], db) else { return nil }
            return SearchHit(kind: doc.kind, id: doc.id, article: row[1], snippet: SearchSnippet.cut(doc.text ?? "", phrases: phrases))
        }
    }
}

/// A snippet of a text around the first match of a search: up to 12 tokens, the matched phrases in
/// brackets, "…" where the text goes on. Tokens as the index's `unicode61` tokenizer makes them
/// (letters, digits, marks and private-use characters; everything else separates), compared without
/// case or diacritics. One pass, stopping at the first match: linear in the text before it.
enum SearchSnippet {
    static let length = 12
    /// Tokens shown before the first match (as FTS5's `snippet()` centres a one-token match).
    static let lead = 5

    struct Token { var range: Range<String.Index>; var folded: String }

    static func isTokenScalar(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber, .privateUse, .nonspacingMark, .spacingMark, .enclosingMark:
            return true
        default:
            return false
        }
    }

    static func fold(_ s: Substring) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.lowercased() }
        return s.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }

    /// The tokens of `text`, in order, one at a time.
    struct Tokens: IteratorProtocol {
        let text: String
        var index: String.Index
        init(_ text: String) { self.text = text; index = text.startIndex }

        mutating func next() -> Token? {
            let scalars = text.unicodeScalars
            while index < scalars.endIndex, !SearchSnippet.isTokenScalar(scalars[index]) { index = scalars.index(after: index) }
            guard index < scalars.endIndex else { return nil }
            let start = index
            while index < scalars.endIndex, SearchSnippet.isTokenScalar(scalars[index]) { index = scalars.index(after: index) }
            return Token(range: start..<index, folded: SearchSnippet.fold(text[start..<index]))
        }
    }

    /// A search word's tokens, folded.
    static func tokens(of word: String) -> [String] {
        var it = Tokens(word), out: [String] = []
        while let t = it.next() { out.append(t.folded) }
        return out
    }

    /// The phrase among `phrases` that ends at `tokens`' last element, if any: its length.
    static func match(endingAt tokens: ArraySlice<Token>, _ phrases: [[String]]) -> Int? {
        for p in phrases where p.count <= tokens.count {
            if zip(tokens.suffix(p.count), p).allSatisfy({ $0.folded == $1 }) { return p.count }
        }
        return nil
    }

    static func cut(_ text: String, phrases: [[String]]) -> String {
        var it = Tokens(text)
        let longest = phrases.map(\.count).max() ?? 1
        // The tokens kept: a few before a match can start, then the window.
        var kept: [Token] = [], matched = false, dropped = 0
        func drop(_ n: Int) { kept.removeFirst(n); dropped += n }
        while let t = it.next() {
            kept.append(t)
            if !matched {
                if let n = match(endingAt: kept[...], phrases) {
                    drop(max(0, kept.count - n - lead))
                    matched = true
                } else if kept.count > lead + longest {
                    drop(kept.count - lead - longest)
                }
            }
            if matched, kept.count > length { break }
        }
        // Nothing matched here (the index's tokenizer and this one may differ on rare text): the start.
        if !matched {
            (kept, dropped, it) = ([], 0, Tokens(text))
            while kept.count <= length, let t = it.next() { kept.append(t) }
        }
        let more = kept.count > length
        let window = Array(kept.prefix(length))
        guard let head = window.first else { return "" }
        // Brackets around every phrase that matches inside the window (longest first where they overlap).
        var open: [Int: Int] = [:]   // start token → end token (inclusive)
        var i = 0
        while i < window.count {
            var best = 0
            for p in phrases where i + p.count <= window.count && p.count > best {
                if zip(window[i..<(i + p.count)], p).allSatisfy({ $0.folded == $1 }) { best = p.count }
            }
            if best > 0 { open[i] = i + best - 1; i += best } else { i += 1 }
        }
        var out = dropped == 0 ? "" : "…"
        var cursor = head.range.lowerBound, closeAt: Int?
        for (k, t) in window.enumerated() {
            out += gap(text[cursor..<t.range.lowerBound])
            if let end = open[k] { out += "["; closeAt = end }
            out += text[t.range]
            if closeAt == k { out += "]"; closeAt = nil }
            cursor = t.range.upperBound
        }
        // The text's end after its last token (closing punctuation), or "…" where it goes on.
        return out + (more ? "…" : gap(text[cursor...]))
    }

    /// What separates two tokens, at most 40 characters of it (a text can separate two words by
    /// a megabyte of punctuation).
    static func gap(_ s: Substring) -> Substring {
        guard s.utf8.count > 40, s.count > 40 else { return s }
        return s.prefix(20) + "…" + s.suffix(20)
    }
}
