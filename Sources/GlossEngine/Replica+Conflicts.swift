import Foundation
import GRDB
import GlossModel

/// A conflict on a field, with every candidate (`gloss conflicts`, `gloss conflict show`).
public struct ConflictInfo: Sendable {
    public struct Candidate: Sendable {
        public var event: String
        public var author: String
        public var at: String
        /// nil for a delete.
        public var value: String?
    }
    public var id: String
    public var object: String
    public var objectKind: String
    public var field: String
    public var state: String
    public var candidates: [Candidate]
    public var resolution: String?

    public var json: JSON {
        .object([
            ("id", .string(id)), ("object", .string(object)), ("objectKind", .string(objectKind)), ("field", .string(field)),
            ("state", .string(state)),
            ("candidates", .array(candidates.map { c in
                .object([("event", .string(c.event)), ("author", .string(c.author)), ("time", .string(c.at)),
                         ("value", c.value.map(JSON.string) ?? .null), ("deleted", .bool(c.value == nil))])
            })),
            ("resolution", resolution.map(JSON.string) ?? .null),
        ])
    }
}

extension Replica {
    /// Open conflicts (and resolved ones when `all`), oldest first.
    public func conflicts(all: Bool = false) throws -> [ConflictInfo] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conflicts \(all ? "" : "WHERE state = 'open'") ORDER BY opened_time, conflict").map { try conflictInfo($0, db) }
        }
    }

    func conflictInfo(_ row: Row, _ db: Database) throws -> ConflictInfo {
        let id: String = row["conflict"]
        let candidates = try Row.fetchAll(db, sql: "SELECT * FROM conflict_candidates WHERE conflict = ? ORDER BY time, event", arguments: [id]).map {
            ConflictInfo.Candidate(event: $0["event"], author: $0["author"], at: $0["at"], value: $0["value"])
        }
        return ConflictInfo(id: id, object: row["object"], objectKind: row["object_kind"], field: row["field"], state: row["state"],
                            candidates: candidates, resolution: row["resolution_event"])
    }

    /// A conflict by id or unique prefix.
    public func conflict(_ text: String) throws -> ConflictInfo {
        let p = text.lowercased()
        guard Hex.isHexPrefix(p), p.count <= 64 else { throw GlossError(.badInput, "\"\(text.prefix(80))\" is not a conflict id (hex; a unique prefix is enough)") }
        return try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM conflicts WHERE conflict >= ? AND conflict < ? ORDER BY conflict LIMIT 11", arguments: [p, p + "g"])
            if rows.isEmpty { throw GlossError(.notFound, "no conflict \(p); list them with `gloss conflicts`") }
            if rows.count > 1 {
                throw GlossError(.ambiguous, "conflict prefix \(p) is ambiguous; it matches:\n" + rows.map { "  " + ($0["conflict"] as String) }.joined(separator: "\n"))
            }
            return try conflictInfo(rows[0], db)
        }
    }

    /// Resolves an open conflict with a candidate (`pick`, an event id or prefix among the
    /// candidates) or a new value. Writes a `ConflictResolved` event that causally follows every
    /// candidate; it syncs like any event and closes the conflict wherever it arrives.
    public func resolve(_ conflictText: String, pick: String? = nil, value: String? = nil, reason: String? = nil) throws -> Created {
        guard (pick == nil) != (value == nil) else { throw GlossError(.badInput, "give exactly one of --pick EVENT or a new value (--text, --file, --value)") }
        let c = try conflict(conflictText)
        guard c.state == "open" else { throw GlossError(.refused, "conflict \(c.id.prefix(12)) is already resolved by \(c.resolution?.prefix(12) ?? "?")") }
        var newValue: String?
        var deleted = false
        var picked: String?
        if let pick {
            let matches = c.candidates.filter { $0.event.hasPrefix(pick.lowercased()) }
            guard matches.count == 1 else {
                throw GlossError(matches.isEmpty ? .notFound : .ambiguous,
                                 "--pick must name one candidate of conflict \(c.id.prefix(12)): " + c.candidates.map { "\($0.event.prefix(12)) (\($0.author))" }.joined(separator: ", "))
            }
            picked = matches[0].event
            newValue = matches[0].value
            deleted = matches[0].value == nil
        } else {
            newValue = try Replica.checkResolutionValue(value!, field: c.field)
        }
        if let reason, reason.utf8.count > ProtocolLimits.maxTextBytes { throw GlossError(.badInput, "the reason is over \(ProtocolLimits.maxTextBytes) bytes") }
        return try write { db in
            guard try String.fetchOne(db, sql: "SELECT state FROM conflicts WHERE conflict = ?", arguments: [c.id]) == "open" else {
                throw GlossError(.refused, "conflict \(c.id.prefix(12)) changed meanwhile; look again with `gloss conflicts`")
            }
            let e = try append(ConflictResolved(conflict: c.id, object: c.object, field: c.field, candidates: c.candidates.map(\.event),
                                                value: deleted ? nil : newValue, deleted: deleted, picked: picked, reason: reason), db)
            return Created(id: c.id, event: e.id, existing: false)
        }
    }

    /// A new value given to resolve a conflict, checked as the field requires: a note body, a fact
    /// record (`FactRecord.text`: one `name: value` line per field), or a grade.
    static func checkResolutionValue(_ value: String, field: String) throws -> String {
        switch field {
        case "record":
            do { return try FactRecord(text: value.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .newlines)).text } catch {
                throw GlossError(.badInput, "\(GlossError.wrap(error).message); a fact record is six lines: " + FactRecord.fields.map { "\($0): …" }.joined(separator: " / "))
            }
        case "credibility":
            guard Admiralty.credibility[value] != nil else { throw GlossError(.badInput, "a credibility is a digit 1–6") }
            return value
        case "reliability":
            guard Admiralty.reliability[value.uppercased()] != nil else { throw GlossError(.badInput, "a reliability is a letter A–F") }
            return value.uppercased()
        default:
            return try checkNoteBody(value)
        }
    }
}
