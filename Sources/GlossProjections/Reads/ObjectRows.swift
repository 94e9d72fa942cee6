import Foundation
import GRDB
import GlossModel
import GlossStore

/// Whole rows of the projection tables as `gloss show` prints them (keys follow the columns; the
/// column lists below are the contract, README §Commands).
public enum ObjectRows {
    public static func article(_ id: String, _ db: Database) throws -> TableRow? {
        try TableRow.fetchOne(db, sql: "SELECT * FROM articles WHERE article = ?", arguments: [id])
    }

    /// An article's revisions, oldest first (the text as its length in bytes).
    public static func revisions(of article: String, _ db: Database) throws -> [TableRow] {
        try TableRow.fetchAll(db, sql: "SELECT sha256, event, author, at, filename, length(text) AS bytes FROM article_revisions WHERE article = ? ORDER BY time, replica", arguments: [article])
    }

    public static func revision(_ sha256: String, _ db: Database) throws -> TableRow? {
        try TableRow.fetchOne(db, sql: "SELECT * FROM article_revisions WHERE sha256 = ?", arguments: [sha256])
    }

    /// The notes on an object, oldest first; with `updatedAt` the rows carry `updated_at` too.
    public static func notes(on object: String, updatedAt: Bool, _ db: Database) throws -> [TableRow] {
        try TableRow.fetchAll(db, sql: "SELECT note, author, created_at, \(updatedAt ? "updated_at, " : "")deleted, body FROM notes WHERE \(ShortID.equals("on_id", "?1")) ORDER BY created_at, note", arguments: [object])
    }

    public static func note(_ id: String, _ db: Database) throws -> TableRow? {
        try TableRow.fetchOne(db, sql: "SELECT \(GlossProjector.noteColumns.joined(separator: ", ")) FROM notes WHERE \(ShortID.equals("note", "?1"))", arguments: [id])
    }

    /// A note's revisions, oldest first.
    public static func noteHistory(_ note: String, _ db: Database) throws -> [TableRow] {
        try TableRow.fetchAll(db, sql: """
            SELECT event, kind, author, at, body FROM note_revisions WHERE note_pos = \(Registers.eventPos("?")) ORDER BY time, replica
            """, arguments: [Registers.idBytes(note).map { Data($0) }])
    }

    public static func annotation(_ id: String, _ db: Database) throws -> TableRow? {
        try TableRow.fetchOne(db, sql: "SELECT \(GlossProjector.annotationColumns.joined(separator: ", ")) FROM annotations WHERE \(ShortID.equals("annotation", "?1"))", arguments: [id])
    }

    public static func source(_ id: String, _ db: Database) throws -> TableRow? {
        try TableRow.fetchOne(db, sql: "SELECT * FROM sources WHERE source = ?", arguments: [id])
    }

    /// The additions of tags on an object, by tag then time.
    public static func tags(of object: String, _ db: Database) throws -> [TableRow] {
        try TableRow.fetchAll(db, sql: "SELECT tag, author, at, addition FROM tags WHERE object = ? ORDER BY tag, time", arguments: [object])
    }

    /// The additions of links from or to an object, by time.
    public static func links(of object: String, _ db: Database) throws -> [TableRow] {
        try TableRow.fetchAll(db, sql: "SELECT addition, from_id, relation, to_id, author, at FROM links WHERE from_id = ? OR to_id = ? ORDER BY time", arguments: [object, object])
    }

    /// A fact's record history (adds, amendments, retractions, resolutions), oldest first.
    public static func factHistory(_ fact: String, _ db: Database) throws -> [TableRow] {
        try TableRow.fetchAll(db, sql: "SELECT event, kind, field, record, reason, author, at FROM fact_revisions WHERE fact = ? ORDER BY time, replica", arguments: [fact])
    }

    /// The gradings of an object on one scale (`credibility` of a fact, `reliability` of a source), oldest first.
    public static func gradeHistory(_ object: String, scale: String, _ db: Database) throws -> [TableRow] {
        try TableRow.fetchAll(db, sql: "SELECT event, grade, reason, kind, author, at FROM grades WHERE object = ? AND scale = ? ORDER BY time, replica", arguments: [object, scale])
    }
}
