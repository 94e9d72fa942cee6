import Foundation
import GlossModel
import GlossProjections

/// A conflict on a field, with every candidate (`gloss conflicts`, `gloss conflict show`).
public typealias ConflictInfo = ConflictRecord

extension Replica {
    /// Open conflicts (and resolved ones when `all`), oldest first.
    public func conflicts(all: Bool = false) throws -> [ConflictInfo] {
        try read { db in try ConflictRecord.all(includeResolved: all, db) }
    }

    /// A conflict by id or unique prefix.
    public func conflict(_ text: String) throws -> ConflictInfo {
        let p = text.lowercased()
        guard Hex.isHexPrefix(p), p.count <= 64 else { throw GlossError(.badInput, "\"\(text.prefix(80))\" is not a conflict id (hex; a unique prefix is enough)") }
        let found = try read { db in try ConflictRecord.matching(prefix: p, limit: 11, db) }
        if found.isEmpty { throw GlossError(.notFound, "no conflict \(p); list them with `gloss conflicts`") }
        if found.count > 1 {
            throw GlossError(.ambiguous, "conflict prefix \(p) is ambiguous; it matches:\n" + found.map { "  " + $0.id }.joined(separator: "\n"))
        }
        return found[0]
    }

    /// Resolves an open conflict with a candidate (`pick`, an event id or prefix among the
    /// candidates) or a new value. Writes a `ConflictResolved` event that causally follows every
    /// candidate; it syncs like any event and closes the conflict wherever it arrives.
    public func resolve(_ conflictText: String, pick: String? = nil, value: String? = nil, reason: String? = nil) throws -> Created {
        guard (pick == nil) != (value == nil) else { throw GlossError(.badInput, "give exactly one of --pick EVENT or a new value (--text, --file, --value)") }
        let c = try conflict(conflictText)
        guard c.state == .open else { throw GlossError(.refused, "conflict \(c.id.prefix(12)) is already resolved by \(c.resolution?.prefix(12) ?? "?")") }
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
            guard try ConflictRecord.state(of: c.id, db) == .open else {
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
            do { return try FactRecord(text: Replica.nfc(value, "the resolved record").trimmingCharacters(in: .newlines)).text } catch {
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
