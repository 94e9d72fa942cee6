import Foundation
import GRDB
import GlossJSON
import GlossModel
import GlossProjections
import GlossStore

/// `gloss status`.
public struct Status: Sendable {
    public var analyst: String
    public var replica: ReplicaID
    public var versionVector: VersionVector
    public var events: Int
    public var articles: Int
    public var notes: Int
    public var notUnderstood: Int
    public var pending: Int
    public var quarantined: Int
    public var openConflicts: Int
    public var digest: String
    /// Feeds that are stalled (a rejected event) or forked (frozen), with the reason.
    public var feedProblems: [FeedProblem]

}

extension Replica {
    public func status() throws -> Status {
        try read { db in
            Status(analyst: analyst, replica: replicaID, versionVector: try store.vector(db),
                   events: try store.eventCount(db),
                   articles: try ArticleReads.count(db),
                   notes: try NoteReads.liveCount(db),
                   notUnderstood: try EventReads.notUnderstoodCount(db),
                   pending: try store.pendingCount(db),
                   quarantined: try store.quarantineCount(db),
                   openConflicts: try ConflictRecord.openCount(db),
                   digest: try projector.digest(db),
                   feedProblems: try store.feedProblems(db))
        }
    }

    /// Streams the log in local order as JSON objects (`gloss log --json`, one per line).
    public func log(limit: Int?, _ body: (JSON) throws -> Void) throws {
        try read { db in
            var n = 0
            try store.forEachEvent(db) { e in
                if let limit, n >= limit { return false }
                try body(try eventJSON(e, db))
                n += 1
                return true
            }
        }
    }

    /// The JSON form of one stored event (keys documented in README §Commands).
    public func eventJSON(_ e: StoredEvent, _ db: Database) throws -> JSON {
        let env = e.envelope
        var payloadJSON: JSON = .null
        if let p = e.payload, let c = try? CBOR(decoding: p) { payloadJSON = JSON(c) }
        let reason = try EventReads.notUnderstoodReason(env.id.hex, db)
        return .object([
            ("id", .string(env.id.hex)), ("replica", .string(env.replica.hex)), ("seq", .int(Int64(env.seq))),
            ("prev", env.seq == 1 ? .null : .string(env.prev.hex)),
            ("deps", JSON(try store.fullDeps(feed: e.feed, seq: env.seq, db))),
            ("time", .string(env.time.rfc3339)), ("hlc", .int(Int64(bitPattern: env.time.raw))),
            ("author", .string(env.author)), ("type", .string(env.type)), ("schema", .int(Int64(env.schema))),
            ("payloadHash", .string(env.payloadHash.hex)), ("payload", payloadJSON),
            ("understood", .bool(reason == nil)), ("reason", reason.map(JSON.string) ?? .null),
            ("summary", .string(Replica.summary(env, payload: e.payload))),
        ])
    }

    /// One line describing an event for people (never the full text).
    public static func summary(_ env: EventEnvelope, payload: [UInt8]?) -> String {
        func clip(_ s: String) -> String {
            let one = s.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            return one.count > 60 ? String(one.prefix(60)) + "…" : one
        }
        switch DecodedPayload(type: env.type, schema: env.schema, payload: payload) {
        case .articleIngested(let p): return "ingested article \(p.article.prefix(12)) \(p.filename ?? "") (\(p.text.utf8.count) bytes)"
        case .articleRevised(let p): return "revised article \(p.article.prefix(12)): revision \(p.sha256.prefix(12)) \(p.filename ?? "") (\(p.text.utf8.count) bytes)"
        case .anchorDecided(let p): return "\(p.decision == "confirm" ? "confirmed" : "retargeted") the anchor of \(p.object.prefix(12)) in revision \(p.revision.prefix(12)): «\(clip(p.selector.exact))»"
        case .noteAdded(let p): return "note on \(p.on.prefix(12)): \(clip(p.body))"
        case .noteEdited(let p): return "edited note \(p.note.prefix(12)): \(clip(p.body))"
        case .noteDeleted(let p): return "deleted note \(p.note.prefix(12))"
        case .tagAdded(let p): return "tagged \(p.object.prefix(12)) \(p.tag)"
        case .tagRemoved(let p): return "untagged \(p.object.prefix(12)) \(p.tag)"
        case .linkAdded(let p): return "linked \(p.from.prefix(12)) \(p.relation) \(p.to.prefix(12))"
        case .linkRemoved(let p): return "removed \(p.additions.count) link(s)"
        case .candidatesExtracted(let p):
            return "\(p.candidates.count) extraction candidates (rules v\(p.rulesVersion)) for article \(p.article.prefix(12))"
        case .conflictResolved(let p):
            return "resolved conflict \(p.conflict.prefix(12)) on \(p.field) of \(p.object.prefix(12)): " + (p.deleted ? "deleted" : clip(p.value ?? ""))
        case .factAdded(let p): return "fact on \(p.article.prefix(12)): \(clip(p.record.subject + " " + p.record.predicate + " " + p.record.object))"
        case .factAmended(let p): return "amended \(p.field) of fact \(p.fact.prefix(12)): \(clip(p.record[p.field] ?? "(cleared)"))"
        case .factRetracted(let p): return "retracted fact \(p.fact.prefix(12)): \(clip(p.reason))"
        case .factGraded(let p): return "graded fact \(p.fact.prefix(12)) credibility \(p.credibility)"
        case .sourceAdded(let p): return "source \(p.name)\(p.kind.map { " (\($0))" } ?? "")"
        case .sourceGraded(let p): return "graded source \(p.source.prefix(12)) reliability \(p.reliability)"
        case .annotationAdded(let p): return "annotation on \(p.article.prefix(12)): «\(clip(p.target.exact))»" + (p.comment.map { " " + clip($0) } ?? "")
        case .notUnderstood(let reason): return "\(env.type) (not understood: \(reason))"
        }
    }

    /// `gloss show ID`: an event or an object by id or unique prefix, as JSON.
    public func show(_ text: String) throws -> JSON {
        let r = try resolve(text, events: true, what: "object or event")
        return try read { db in
            switch r {
            case .event(let id):
                guard let e = try store.event(id, db) else { throw GlossError(.notFound, "no event \(id.short)") }
                return .object([("kind", .string("event")), ("event", try eventJSON(e, db))])
            case .object(let id, let kind):
                var kv: [(String, JSON)] = [("kind", .string(kind)), ("id", .string(id))]
                switch kind {
                case "article":
                    kv.append(("article", try rowJSON(db, "SELECT * FROM articles WHERE article = ?", [id]).first ?? .null))
                    kv.append(("revisions", .array(try rowJSON(db, "SELECT sha256, event, author, at, filename, length(text) AS bytes FROM article_revisions WHERE article = ? ORDER BY time, replica", [id]))))
                    kv.append(("notes", .array(try rowJSON(db, "SELECT note, author, created_at, updated_at, deleted, body FROM notes WHERE on_id = ? ORDER BY created_at, note", [id]))))
                case "revision":
                    kv.append(("revision", try rowJSON(db, "SELECT * FROM article_revisions WHERE sha256 = ?", [id]).first ?? .null))
                case "fact":
                    kv.append(("fact", try factDetail(id, db)))
                case "source":
                    kv.append(("source", try sourceDetail(id: id, db)))
                case "annotation":
                    kv.append(("annotation", try rowJSON(db, "SELECT * FROM annotations WHERE annotation = ?", [id]).first ?? .null))
                case "note":
                    kv.append(("note", try rowJSON(db, "SELECT * FROM notes WHERE note = ?", [id]).first ?? .null))
                    kv.append(("history", .array(try rowJSON(db, "SELECT event, kind, author, at, body FROM note_revisions WHERE note = ? ORDER BY time, replica", [id]))))
                    kv.append(("notes", .array(try rowJSON(db, "SELECT note, author, created_at, deleted, body FROM notes WHERE on_id = ? ORDER BY created_at, note", [id]))))
                default: break
                }
                kv.append(("tags", .array(try rowJSON(db, "SELECT tag, author, at, addition FROM tags WHERE object = ? ORDER BY tag, time", [id]))))
                kv.append(("links", .array(try rowJSON(db, "SELECT addition, from_id, relation, to_id, author, at FROM links WHERE from_id = ? OR to_id = ? ORDER BY time", [id, id]))))
                return .object(kv)
            }
        }
    }

    /// Rows of a query as JSON objects (column order kept; blobs as hex).
    public func rowJSON(_ db: Database, _ sql: String, _ args: [any DatabaseValueConvertible & Sendable]) throws -> [JSON] {
        try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args.map { $0.databaseValue })).map(Replica.json(row:))
    }

    public static func json(row: Row) -> JSON {
        .object(row.columnNames.map { name in (name, json(value: row[name] as DatabaseValue)) })
    }

    public static func json(value: DatabaseValue) -> JSON {
        switch value.storage {
        case .null: .null
        case .int64(let i): .int(i)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .blob(let b): .string(Hex.encode(b))
        }
    }
}
