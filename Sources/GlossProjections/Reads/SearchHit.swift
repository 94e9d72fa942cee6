import GRDB

/// One full-text match (`gloss search`): what matched, the article it belongs to, and a snippet
/// with the matched words in brackets.
public struct SearchHit: Sendable, Decodable, FetchableRecord {
    /// `revision`, `note`, `fact` or `annotation`.
    public var kind: String
    public var id: String
    public var article: String?
    public var snippet: String

    /// The best `limit` matches of an FTS5 query (`query` already quoted word by word), best first.
    public static func matching(_ query: String, limit: Int, _ db: Database) throws -> [SearchHit] {
        try SearchHit.fetchAll(db, sql: """
            SELECT s.kind, s.id, coalesce(r.article, n.on_id, f.article, a.article) AS article,
                   snippet(search, 2, '[', ']', '…', 12) AS snippet
            FROM search s
            LEFT JOIN article_revisions r ON s.kind = 'revision' AND r.sha256 = s.id
            LEFT JOIN notes n ON s.kind = 'note' AND n.note = s.id
            LEFT JOIN facts f ON s.kind = 'fact' AND f.fact = s.id
            LEFT JOIN annotations a ON s.kind = 'annotation' AND a.annotation = s.id
            WHERE search MATCH ? ORDER BY rank LIMIT ?
            """, arguments: [query, limit])
    }
}
