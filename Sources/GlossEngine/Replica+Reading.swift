import Foundation
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
    /// The team this replica belongs to (Protocol/11-teams.md), and this replica's role in it.
    public var teamMode: TeamMode = .none
    public var role: TeamRole?

}

/// One stored event as `gloss log` and `gloss show` present it.
public struct LogEntry: Sendable {
    public var envelope: EventEnvelope
    /// The payload decoded as CBOR (nil when it is missing or not CBOR).
    public var payload: CBOR?
    /// Every dependency, the previous event of its own feed included.
    public var deps: VersionVector
    /// Why this build does not understand the event (nil when it does).
    public var reason: String?
    /// One line for people (`Replica.summary`).
    public var summary: String

    public var understood: Bool { reason == nil }
}

/// What `gloss show` found: an event, or an object with its rows.
public enum Shown: Sendable {
    case event(LogEntry)
    case object(ObjectDetail)
}

/// An object with the rows that make it up (`gloss show`): whole rows keep their table's columns.
public struct ObjectDetail: Sendable {
    public enum Body: Sendable {
        /// The `articles` row, its revisions (`sha256, event, author, at, filename, bytes`) and the
        /// notes on it (`note, author, created_at, updated_at, deleted, body`).
        case article(TableRow?, revisions: [TableRow], notes: [TableRow])
        case revision(TableRow?)
        case fact(FactDetail)
        case source(SourceDetail)
        case annotation(TableRow?)
        /// The `notes` row, its revisions (`event, kind, author, at, body`) and the notes on it
        /// (`note, author, created_at, deleted, body`).
        case note(TableRow?, history: [TableRow], notes: [TableRow])
        /// A kind shown by its tags and links only (a candidate).
        case other
    }
    public var kind: ObjectKind
    public var id: String
    public var body: Body
    /// `tag, author, at, addition`, by tag then time.
    public var tags: [TableRow]
    /// `addition, from_id, relation, to_id, author, at` of links from or to it, by time.
    public var links: [TableRow]
}

extension Replica {
    public func status() throws -> Status {
        try read { db in
            let role: TeamRole?
            if case .success(let m) = try store.roster(db).member(replicaID) { role = m.role } else { role = nil }
            return Status(analyst: analyst, replica: replicaID, versionVector: try store.vector(db),
                   events: try store.eventCount(db),
                   articles: try ArticleReads.count(db),
                   notes: try NoteReads.liveCount(db),
                   notUnderstood: try EventReads.notUnderstoodCount(db),
                   pending: try store.pendingCount(db),
                   quarantined: try store.quarantineCount(db),
                   openConflicts: try ConflictRecord.openCount(db),
                   digest: try projector.digest(db),
                   feedProblems: try store.feedProblems(db),
                   teamMode: try store.teamMode(db),
                   role: role)
        }
    }

    /// Streams the log in local order (`gloss log`).
    public func log(limit: Int?, _ body: (LogEntry) throws -> Void) throws {
        try read { db in
            var n = 0
            try store.forEachEvent(db) { e in
                if let limit, n >= limit { return false }
                try body(try logEntry(e, db))
                n += 1
                return true
            }
        }
    }

    func logEntry(_ e: StoredEvent, _ db: ReplicaStore.Transaction) throws -> LogEntry {
        let env = e.envelope
        return LogEntry(envelope: env, payload: e.payload.flatMap { try? CBOR(decoding: $0) },
                        deps: try store.fullDeps(feed: e.feed, seq: env.seq, db),
                        reason: try EventReads.notUnderstoodReason(env.id.hex, db),
                        summary: Replica.summary(env, payload: e.payload))
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
        case .teamCreated(let p): return "created team \(p.name); \(p.analyst) is its first admin"
        case .memberAdded(let p): return "added \(p.analyst) as \(p.role.rawValue) with key \(p.key.prefix(12))"
        case .deviceEnrolled(let p): return "enrolled key \(p.key.prefix(12)) for \(p.analyst)"
        case .roleChanged(let p): return "made \(p.analyst) \(p.role.rawValue)"
        case .keyRevoked(let p): return "revoked key \(p.key.prefix(12)): \(clip(p.reason))"
        case .memberRemoved(let p): return "removed \(p.analyst) from the team: \(clip(p.reason))"
        case .payloadRedacted(let p): return "redacted the payload of event \(p.event.prefix(12)): \(clip(p.reason))"
        case .notUnderstood(let reason): return "\(env.type) (not understood: \(reason))"
        }
    }

    /// `gloss show ID`: an event or an object by id or unique prefix.
    public func show(_ text: String) throws -> Shown {
        let r = try resolve(text, events: true, what: "object or event")
        return try read { db in
            switch r {
            case .event(let id):
                guard let e = try store.event(id, db) else { throw GlossError(.notFound, "no event \(id.short)") }
                return .event(try logEntry(e, db))
            case .object(let id, let name):
                guard let kind = ObjectKind(rawValue: name) else { throw GlossError(.internalError, "\(id.prefix(12)) is of an unknown kind \(name)") }
                let body: ObjectDetail.Body
                switch kind {
                case .article:
                    body = .article(try ObjectRows.article(id, db), revisions: try ObjectRows.revisions(of: id, db),
                                    notes: try ObjectRows.notes(on: id, updatedAt: true, db))
                case .revision: body = .revision(try ObjectRows.revision(id, db))
                case .fact: body = .fact(try factDetail(id, db))
                case .source: body = .source(try sourceDetail(id: id, db))
                case .annotation: body = .annotation(try ObjectRows.annotation(id, db))
                case .note:
                    body = .note(try ObjectRows.note(id, db), history: try ObjectRows.noteHistory(id, db),
                                 notes: try ObjectRows.notes(on: id, updatedAt: false, db))
                case .candidate: body = .other
                }
                return .object(ObjectDetail(kind: kind, id: id, body: body, tags: try ObjectRows.tags(of: id, db), links: try ObjectRows.links(of: id, db)))
            }
        }
    }
}
