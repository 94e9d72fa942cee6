import Foundation
import GRDB
import GlossModel
import GlossStore

extension ArticleReads {
    /// A revision's text with what extraction and anchoring need from its row.
    public struct RevisionText: Sendable, Decodable, FetchableRecord {
        public var sha256: String
        public var text: String
        /// The article's date parsed at ingest (`YYYY-MM-DD`), if any.
        public var date: String?
    }

    /// The article holding a revision with this text hash (nil when no article does).
    public static func article(ofRevision sha256: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT article FROM article_revisions WHERE sha256 = ?", arguments: [sha256])
    }

    /// The id of an article's current revision (nil when there is no such article).
    public static func currentRevisionID(of article: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT current_revision FROM articles WHERE article = ?", arguments: [article])
    }

    /// An article's current revision (nil when there is no such article).
    public static func currentRevision(of article: String, _ db: Database) throws -> RevisionText? {
        try RevisionText.fetchOne(db, sql: """
            SELECT r.sha256, r.text, r.date FROM articles a JOIN article_revisions r ON r.sha256 = a.current_revision WHERE a.article = ?
            """, arguments: [article])
    }

    /// The text of a revision (nil when unknown).
    public static func text(ofRevision sha256: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT text FROM article_revisions WHERE sha256 = ?", arguments: [sha256])
    }
}

/// A row of `candidates`: one extraction suggestion on a revision (Protocol/06-extraction.md).
public struct CandidateRecord: Sendable, FetchableRecord {
    public var candidate: String
    public var article: String
    public var revision: String
    public var rulesVersion: Int64
    public var kind: String
    public var value: String
    public var precision: String?
    public var rule: String
    public var selector: SpanSelector
    public var speaker: String?
    public var role: String?
    public var saidOn: String?
    public var affiliation: String?

    public init(row: GRDB.Row) throws {
        candidate = row["candidate"]; article = row["article"]; revision = row["revision"]; rulesVersion = row["rules_version"]
        kind = row["kind"]; value = row["value"]; precision = row["precision"]; rule = row["rule"]
        selector = SpanSelector(exact: row["exact"], prefix: row["prefix"], suffix: row["suffix"], start: row["sel_start"], end: row["sel_end"])
        speaker = row["speaker"]; role = row["role"]; saidOn = row["said_on"]; affiliation = row["affiliation"]
    }

    public static func fetch(_ id: String, _ db: Database) throws -> CandidateRecord? {
        try fetchOne(db, sql: "SELECT * FROM candidates WHERE \(ShortID.equals("candidate", "?1"))", arguments: [id])
    }

    /// The candidates of an article (?1): its current revision's, from the newest rules that ran on it, in text order.
    static let currentSQL = """
            SELECT c.* FROM articles a
            JOIN candidates f ON \(ShortID.equals("f.revision", "a.current_revision")) AND f.ordinal = 0 AND f.article = a.article
            JOIN candidates c ON c.extraction_pos = f.extraction_pos
            WHERE a.article = ?1
              AND f.rules_version = (SELECT max(rules_version) FROM candidates r WHERE \(ShortID.equals("r.revision", "a.current_revision")) AND r.ordinal = 0)
            ORDER BY c.ordinal
            """

    public static func current(article: String, _ db: Database) throws -> [CandidateRecord] {
        try fetchAll(db, sql: currentSQL, arguments: [article])
    }

    /// Whether rules of `rulesVersion` have run on the revision.
    public static func exist(revision: String, rulesVersion: Int, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM candidates WHERE \(ShortID.equals("revision", "?1")) AND rules_version = ?2 AND ordinal = 0", arguments: [revision, rulesVersion]) ?? false
    }
}

/// A row of `anchors`: where an annotation or a fact's evidence sits in its article's current
/// revision (Protocol/09-anchoring.md).
public struct AnchorRecord: Sendable, FetchableRecord {
    /// A span of the current revision.
    public struct Span: Sendable, Equatable {
        public var start: Int64
        public var end: Int64
        public var exact: String
    }
    public var object: String
    public var objectKind: String
    public var article: String
    public var revision: String
    public var baseRevision: String
    /// Where the object was made (on `baseRevision`).
    public var base: Span
    public var status: String
    /// Per mille.
    public var score: Int64
    /// The anchored span, nil when not anchored.
    public var anchored: Span?
    /// The best similar span shown for review, when one is.
    public var candidate: Span?
    public var decision: String?
    public var anchoringVersion: Int64

    public init(row: GRDB.Row) throws {
        func span(_ s: String, _ e: String, _ x: String) -> Span? {
            guard let start = row[s] as Int64?, let end = row[e] as Int64? else { return nil }
            return Span(start: start, end: end, exact: row[x] as String? ?? "")
        }
        object = row["object"]; objectKind = row["object_kind"]; article = row["article"]; revision = row["revision"]
        baseRevision = row["base_revision"]
        base = Span(start: row["base_start"], end: row["base_end"], exact: row["base_exact"])
        status = row["status"]; score = row["score"]
        anchored = span("sel_start", "sel_end", "exact")
        candidate = span("candidate_start", "candidate_end", "candidate_exact")
        decision = row["decision"]; anchoringVersion = row["anchoring_version"]
    }

    /// The anchors of an article's objects, by where they were made.
    public static func all(article: String, _ db: Database) throws -> [AnchorRecord] {
        try fetchAll(db, sql: "SELECT * FROM anchors WHERE \(ShortID.equals("article", "?1")) ORDER BY base_start, object", arguments: [article])
    }

    public static func of(_ object: String, _ db: Database) throws -> AnchorRecord? {
        guard let bytes = Registers.idBytes(object) else { return nil }
        return try fetchOne(db, sql: "SELECT * FROM anchors WHERE object_pos = \(Registers.eventPos("?1")) AND object = ?2", arguments: [Data(bytes), object])
    }

    /// The article an annotation or a fact is on (nil when neither exists).
    public static func article(of object: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT article FROM annotations WHERE \(ShortID.equals("annotation", "?1")) UNION ALL SELECT article FROM facts WHERE fact = ?1", arguments: [object])
    }
}
