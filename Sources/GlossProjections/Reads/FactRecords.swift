import GRDB
import GlossModel
import GlossStore

/// `facts` as writers check them before appending an event.
public enum FactReads {
    /// A fact's current record and whether it is retracted (nil when there is no such fact).
    public static func record(_ fact: String, _ db: Database) throws -> (record: FactRecord, retracted: Bool)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT subject, predicate, object, when_text, where_text, source, retracted FROM facts WHERE fact = ?", arguments: [fact]) else { return nil }
        return (FactRecord(subject: row["subject"], predicate: row["predicate"], object: row["object"],
                           when: row["when_text"], where: row["where_text"], source: row["source"]), row["retracted"])
    }

    /// The hybrid time of a fact's first record event (nil when it has none).
    public static func firstRecordTime(_ fact: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT min(time) FROM fact_revisions WHERE fact = ?", arguments: [fact])
    }
}

/// A fact as readers see it (`fact_view`): its record, evidence, source, combined grade, state and
/// the facts that corroborate or contradict it.
public struct FactSummary: Sendable, FetchableRecord {
    public var id: String
    public var article: String
    public var revision: String
    public var subject: String
    public var predicate: String
    public var object: String
    public var when: String?
    public var `where`: String?
    public var source: String?
    public var sourceName: String?
    /// The source's reliability (A–F).
    public var reliability: String?
    /// The fact's credibility (1–6).
    public var credibility: String?
    /// Reliability and credibility together (`B2`, `?` for a missing half); nil when neither is graded.
    public var grade: String?
    public var retracted: Bool
    /// `single`, `conflict`, … (Protocol/04-projections.md, `facts.record_state`).
    public var recordState: String
    public var retractReason: String?
    public var evidence: SpanSelector
    public var fromCandidate: String?
    /// The facts linked to this one by `corroborates` / `contradicts`, each once, sorted.
    public var corroboratedBy: [String] = []
    public var contradictedBy: [String] = []
    public var author: String
    public var createdAt: String
    public var updatedAt: String
    /// The hybrid time of the current record's event.
    public var recordTime: Int64

    public var state: FactState { recordState == "conflict" ? .conflict : retracted ? .retracted : .active }

    public init(row: GRDB.Row) throws {
        id = row["fact"]; article = row["article"]; revision = row["revision"]
        subject = row["subject"]; predicate = row["predicate"]; object = row["object"]
        when = row["when_text"]; `where` = row["where_text"]; source = row["source"]; sourceName = row["source_name"]
        reliability = row["source_reliability"]; credibility = row["credibility"]; grade = row["grade"]
        retracted = row["retracted"]; recordState = row["record_state"]; retractReason = row["retract_reason"]
        evidence = SpanSelector(exact: row["exact"], prefix: row["prefix"], suffix: row["suffix"], start: row["sel_start"], end: row["sel_end"])
        fromCandidate = row["from_candidate"]; author = row["author"]; createdAt = row["created_at"]; updatedAt = row["updated_at"]
        recordTime = row["record_time"]
    }

    private static func linked(_ facts: [FactSummary], _ db: Database) throws -> [FactSummary] {
        try facts.map { f in
            var f = f
            f.corroboratedBy = try SetReads.linked(to: f.id, relation: "corroborates", db)
            f.contradictedBy = try SetReads.linked(to: f.id, relation: "contradicts", db)
            return f
        }
    }

    /// The facts (of one article, or all), oldest record first.
    public static func all(article: String?, _ db: Database) throws -> [FactSummary] {
        try linked(fetchAll(db, sql: "SELECT * FROM fact_view\(article == nil ? "" : " WHERE article = ?") ORDER BY record_time, fact",
                            arguments: StatementArguments(article.map { [$0] } ?? [])), db)
    }

    /// The articles with a fact citing `source` (an id), each once.
    public static func articles(citing source: String, _ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT DISTINCT article FROM facts WHERE source = ?", arguments: [source]))
    }

    /// The articles with a fact whose grade (`FactSummary.grade`, e.g. `B2`) starts with `prefix`, each once.
    public static func articles(gradedWith prefix: String, _ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT DISTINCT article FROM fact_view WHERE substr(grade, 1, length(?1)) = ?1", arguments: [prefix]))
    }

    /// The facts (of one article, or all) by id, without their links (`gloss export`).
    public static func byID(article: String?, _ db: Database) throws -> [FactSummary] {
        try fetchAll(db, sql: "SELECT * FROM fact_view\(article == nil ? "" : " WHERE article = ?") ORDER BY fact",
                     arguments: StatementArguments(article.map { [$0] } ?? []))
    }

    public static func one(_ fact: String, _ db: Database) throws -> FactSummary? {
        try linked(fetchAll(db, sql: "SELECT * FROM fact_view WHERE fact = ?", arguments: [fact]), db).first
    }
}

/// A row of `sources` with how many facts cite it (`gloss source list`).
public struct SourceSummary: Sendable, FetchableRecord {
    public var id: String
    public var name: String
    public var kind: String?
    public var reliability: String?
    public var reliabilityState: String?
    public var facts: Int64
    public var author: String
    public var createdAt: String
    /// The hybrid time of the event that added it.
    public var time: Int64

    public init(row: GRDB.Row) throws {
        id = row["source"]; name = row["name"]; kind = row["kind"]; reliability = row["reliability"]
        reliabilityState = row["reliability_state"]; facts = row["facts"] ?? 0; author = row["author"]; createdAt = row["created_at"]
        time = row["time"]
    }

    /// Every source by name (case-insensitive), then id.
    public static func all(_ db: Database) throws -> [SourceSummary] {
        try fetchAll(db, sql: """
            SELECT s.*, (SELECT count(*) FROM facts f WHERE f.source = s.source) AS facts FROM sources s ORDER BY lower(s.name), s.source
            """)
    }

    /// Every source by id, without fact counts (`gloss export`).
    public static func byID(_ db: Database) throws -> [SourceSummary] {
        try fetchAll(db, sql: "SELECT * FROM sources ORDER BY source")
    }

    /// The name of a source (nil when there is no such source).
    public static func name(of source: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT name FROM sources WHERE source = ?", arguments: [source])
    }
}

/// A row of `annotations` with its tags (`gloss annotations`).
public struct AnnotationSummary: Sendable, FetchableRecord {
    public var id: String
    public var article: String
    public var revision: String
    public var selector: SpanSelector
    public var comment: String?
    public var tags: [String] = []
    public var author: String
    public var createdAt: String

    public init(row: GRDB.Row) throws {
        id = row["annotation"]; article = row["article"]; revision = row["revision"]
        selector = SpanSelector(exact: row["exact"], prefix: row["prefix"], suffix: row["suffix"], start: row["sel_start"], end: row["sel_end"])
        comment = row["comment"]; author = row["author"]; createdAt = row["created_at"]
    }

    /// The annotations (of one article, or all) in text order.
    public static func all(article: String?, _ db: Database) throws -> [AnnotationSummary] {
        try fetchAll(db, sql: "SELECT * FROM annotations \(article == nil ? "" : "WHERE \(ShortID.equals("article", "?1"))") ORDER BY article, sel_start, annotation",
                     arguments: StatementArguments(article.map { [$0] } ?? [])).map { a in
            var a = a
            a.tags = try SetReads.tags(of: a.id, db)
            return a
        }
    }
}
