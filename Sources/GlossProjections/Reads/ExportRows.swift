import GRDB
import GlossModel
import GlossStore

/// What the exports (`gloss export stix|annotations`, Protocol/10-export.md) read beyond the
/// summaries: articles with their current text, live notes, links and annotations with their
/// anchors, each with the hybrid times `created` and `modified` derive from.
public enum ExportRows {
    public struct Article: Sendable {
        public var id: String
        public var currentRevision: String
        public var ingestedBy: String
        /// Hybrid time of the first ingest.
        public var firstTime: Int64
        /// Hybrid time of its newest revision; of its first ingest when it has none of its own (its
        /// text was first recorded as another article's revision: the earliest event decides).
        public var lastTime: Int64
        public var date: String?
        /// The current revision's text.
        public var text: String
    }

    /// Every article (or one) by id, with its current text.
    public static func articles(only: String?, _ db: Database) throws -> [Article] {
        try Row.fetchAll(db, sql: """
            SELECT a.*, r.text, coalesce((SELECT max(time) FROM article_revisions WHERE article = a.article), a.first_time) AS last_time
            FROM articles a JOIN article_revisions r ON r.sha256 = a.current_revision\(only == nil ? "" : " WHERE a.article = ?") ORDER BY a.article
            """, arguments: StatementArguments(only.map { [$0] } ?? [])).map {
            Article(id: $0["article"], currentRevision: $0["current_revision"], ingestedBy: $0["ingested_by"], firstTime: $0["first_time"],
                    lastTime: $0["last_time"], date: $0["date"], text: $0["text"])
        }
    }

    /// The country names of an article (?1) extracted from a revision (?2) by any rules, each once, sorted.
    static let countriesSQL = """
            SELECT DISTINCT c.value FROM candidates f JOIN candidates c ON c.extraction_pos = f.extraction_pos
            WHERE \(ShortID.equals("f.revision", "?2")) AND f.ordinal = 0 AND f.article = ?1 AND c.kind = 'country' ORDER BY c.value
            """

    public static func countries(article: String, revision: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: countriesSQL, arguments: [article, revision])
    }

    /// The newest grading of an object on any scale (hybrid time; nil when never graded).
    public static func lastGradeTime(_ object: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT max(time) FROM grades WHERE object = ?", arguments: [object])
    }

    public struct Note: Sendable {
        public var id: String
        public var on: String
        public var body: String
        public var author: String
        /// Hybrid times of the note's creation and of its current body.
        public var createdTime: Int64
        public var bodyTime: Int64
    }

    /// Live notes, oldest first.
    public static func liveNotes(_ db: Database) throws -> [Note] {
        try Row.fetchAll(db, sql: """
            SELECT n.*, ev.time AS created_time FROM notes n JOIN note_revisions ev ON ev.pos = n.note_pos
            WHERE n.deleted = 0 ORDER BY n.created_at, n.note
            """).map {
            Note(id: $0["note"], on: $0["on_id"], body: $0["body"], author: $0["author"], createdTime: $0["created_time"], bodyTime: $0["body_time"])
        }
    }

    public struct Link: Sendable {
        public var addition: String
        public var from: String
        public var relation: String
        public var to: String
        public var author: String
        public var time: Int64
    }

    /// Every link addition, by addition id.
    public static func links(_ db: Database) throws -> [Link] {
        try Row.fetchAll(db, sql: "SELECT * FROM links ORDER BY addition").map {
            Link(addition: $0["addition"], from: $0["from_id"], relation: $0["relation"], to: $0["to_id"], author: $0["author"], time: $0["time"])
        }
    }

    public struct Annotation: Sendable {
        public var id: String
        /// The revision it was made on, and the span there.
        public var revision: String
        public var selector: SpanSelector
        /// Where it is anchored in the current revision, when it is.
        public var anchor: (revision: String, selector: SpanSelector)?
        /// The `AnchorDecided` event that placed the anchor, if an analyst decided.
        public var decision: String?
        public var comment: String?
        public var author: String
        public var time: Int64
        public var tags: [String]
        /// Hybrid time of the newest tag addition (nil without tags).
        public var lastTagTime: Int64?
        /// Hybrid time of the decision (nil without one).
        public var decisionTime: Int64?
    }

    /// Every annotation (or one article's) by id, with its anchor, tags and decision.
    public static func annotations(only: String?, _ db: Database) throws -> [Annotation] {
        try Row.fetchAll(db, sql: """
            SELECT a.*, an.revision AS anchor_revision, an.sel_start AS anchor_start, an.sel_end AS anchor_end, an.exact AS anchor_exact,
                   an.prefix AS anchor_prefix, an.suffix AS anchor_suffix, an.decision AS decision
            FROM annotations a LEFT JOIN anchors an ON an.object_pos = a.annotation_pos\(only == nil ? "" : " WHERE \(ShortID.equals("a.article", "?1"))") ORDER BY a.annotation
            """, arguments: StatementArguments(only.map { [$0] } ?? [])).map { a in
            let id: String = a["annotation"]
            let anchored = (a["anchor_start"] as Int?) != nil
            let decision: String? = a["decision"]
            return Annotation(
                id: id, revision: a["revision"],
                selector: SpanSelector(exact: a["exact"], prefix: a["prefix"], suffix: a["suffix"], start: a["sel_start"], end: a["sel_end"]),
                anchor: anchored ? (a["anchor_revision"], SpanSelector(exact: a["anchor_exact"], prefix: a["anchor_prefix"], suffix: a["anchor_suffix"],
                                                                      start: a["anchor_start"], end: a["anchor_end"])) : nil,
                decision: decision, comment: a["comment"], author: a["author"], time: a["time"],
                tags: try SetReads.tags(of: id, db),
                lastTagTime: try Int64.fetchOne(db, sql: "SELECT max(time) FROM tags WHERE object = ?", arguments: [id]),
                decisionTime: try decision.flatMap { try Int64.fetchOne(db, sql: "SELECT time FROM anchor_decisions WHERE event = ?", arguments: [$0]) })
        }
    }
}
