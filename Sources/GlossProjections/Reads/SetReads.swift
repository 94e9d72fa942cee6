import GRDB
import GlossModel
import GlossStore

/// Reads of the add-wins sets (`tags`, `links`) and of `objects` and `notes` that writers check
/// before appending an event (DESIGN §4).
public enum SetReads {
    /// The additions that put `tag` on `object`, in table order (a removal lists them as they are).
    public static func tagAdditions(object: String, tag: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT addition FROM tags WHERE object = ? AND tag = ?", arguments: [object, tag])
    }

    /// The additions of the link `from relation to`, in table order.
    public static func linkAdditions(from: String, relation: String, to: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT addition FROM links WHERE from_id = ? AND relation = ? AND to_id = ?", arguments: [from, relation, to])
    }

    /// The objects carrying `tag`, each once (one query: a list filter does not ask per object).
    public static func objects(taggedWith tag: String, _ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT DISTINCT object FROM tags WHERE tag = ?", arguments: [tag]))
    }

    /// The tags of an object, each once, sorted.
    public static func tags(of object: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT tag FROM tags WHERE object = ? ORDER BY tag", arguments: [object])
    }

    /// The objects with a `relation` link to `object`, each once, sorted.
    public static func linked(to object: String, relation: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT from_id FROM links WHERE to_id = ? AND relation = ? ORDER BY from_id", arguments: [object, relation])
    }
}

/// `objects`: every addressable id with its kind.
public enum ObjectReads {
    /// The objects whose id starts with the lowercase hex `prefix`, by id, at most `limit`.
    public static func matching(prefix: String, limit: Int, _ db: Database) throws -> [(id: String, kind: String)] {
        try GRDB.Row.fetchAll(db, sql: ObjectTables.rangeSQL, arguments: [prefix, prefix + "g", limit]).map { ($0["id"], $0["kind"]) }
    }
}

/// `notes`.
public enum NoteReads {
    /// Whether the note is deleted; nil when there is no such note.
    public static func isDeleted(_ note: String, _ db: Database) throws -> Bool? {
        try Bool.fetchOne(db, sql: "SELECT deleted FROM notes WHERE \(ShortID.equals("note", "?1"))", arguments: [note])
    }

    /// Notes not deleted.
    public static func liveCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM notes WHERE deleted = 0") ?? 0
    }

    /// Notes not deleted on one object.
    public static func liveCount(on object: String, _ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM notes WHERE \(ShortID.equals("on_id", "?1")) AND deleted = 0", arguments: [object]) ?? 0
    }
}

/// `articles` and `article_revisions`.
public enum ArticleReads {
    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM articles") ?? 0
    }

    /// An article without its text: what a list of articles shows.
    public struct Summary: Sendable, Equatable {
        public var id: String
        public var date: String?
        public var dateline: String?
        public var ingestedBy: String
        public var ingestedAt: String
        public var revisions: Int
        /// The file name of its earliest revision, if one was given.
        public var filename: String?
    }

    /// Every article's id and date (`articles.date`), in id order: what a list of articles sorts
    /// and filters by, before it reads the rows it shows (`summary(of:)`).
    public static func dates(_ db: Database) throws -> [(id: String, date: String?)] {
        try Row.fetchAll(db, sql: "SELECT article, date FROM articles ORDER BY article").map { ($0[0], $0[1]) }
    }

    /// One article without reading any text (one statement); nil when there is none.
    public static func summary(of id: String, _ db: Database) throws -> Summary? {
        try Row.fetchOne(db, sql: """
            SELECT a.article, a.date, a.dateline, a.ingested_by, a.ingested_at, a.revisions,
                   (SELECT r.filename FROM article_revisions r WHERE r.article = a.article ORDER BY r.time, r.replica LIMIT 1)
            FROM articles a WHERE a.article = ?
            """, arguments: [id]).map { Summary(id: $0[0], date: $0[1], dateline: $0[2], ingestedBy: $0[3], ingestedAt: $0[4], revisions: $0[5], filename: $0[6]) }
    }
}

/// `events_not_understood`: events held but not understood by this build, with the reason.
public enum EventReads {
    public static func notUnderstoodCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM events_not_understood") ?? 0
    }

    /// Why this build does not understand `event` (nil when it does).
    public static func notUnderstoodReason(_ event: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT reason FROM events_not_understood WHERE event = ?", arguments: [event])
    }
}
