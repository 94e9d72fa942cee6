import GRDB
import GlossModel

extension ConflictState: DatabaseValueConvertible {}

/// A row of `conflicts` with its candidates (Protocol/08-conflicts.md): what `gloss conflicts`,
/// `gloss conflict show` and `gloss resolve` read. The projections own the table; readers get values.
public struct ConflictRecord: Sendable {
    public struct Candidate: Sendable, Decodable, FetchableRecord {
        public var event: String
        public var author: String
        public var at: String
        /// nil for a delete.
        public var value: String?
    }
    public var id: String
    public var object: String
    /// The kind of the object edited (`note`, `fact`, `source`, `annotation`).
    public var objectKind: String
    public var field: String
    public var state: ConflictState
    public var candidates: [Candidate]
    public var resolution: String?

    private struct Row: Decodable, FetchableRecord {
        var conflict: String, object: String, object_kind: String, field: String, state: ConflictState, resolution_event: String?
    }

    private static func load(_ r: Row, _ db: Database) throws -> ConflictRecord {
        let candidates = try Candidate.fetchAll(db, sql: "SELECT event, author, at, value FROM conflict_candidates WHERE conflict = ? ORDER BY time, event",
                                                arguments: [r.conflict])
        return ConflictRecord(id: r.conflict, object: r.object, objectKind: r.object_kind, field: r.field, state: r.state,
                              candidates: candidates, resolution: r.resolution_event)
    }

    /// Open conflicts (and resolved ones when `includeResolved`), oldest first.
    public static func all(includeResolved: Bool, _ db: Database) throws -> [ConflictRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM conflicts \(includeResolved ? "" : "WHERE state = 'open'") ORDER BY opened_time, conflict")
            .map { try load($0, db) }
    }

    /// The conflicts whose id starts with the lowercase hex `prefix`, by id, at most `limit`.
    public static func matching(prefix: String, limit: Int, _ db: Database) throws -> [ConflictRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM conflicts WHERE conflict >= ? AND conflict < ? ORDER BY conflict LIMIT ?",
                         arguments: [prefix, prefix + "g", limit]).map { try load($0, db) }
    }

    /// The open conflict of one register (`object`, `field`), if any.
    public static func open(object: String, field: String, _ db: Database) throws -> ConflictRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM conflicts WHERE object = ? AND field = ? AND state = 'open' ORDER BY opened_time DESC, conflict LIMIT 1",
                         arguments: [object, field]).map { try load($0, db) }
    }

    /// The state of one conflict (nil when unknown).
    public static func state(of id: String, _ db: Database) throws -> ConflictState? {
        try ConflictState.fetchOne(db, sql: "SELECT state FROM conflicts WHERE conflict = ?", arguments: [id])
    }

    /// How many conflicts are open.
    public static func openCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts WHERE state = 'open'") ?? 0
    }
}
