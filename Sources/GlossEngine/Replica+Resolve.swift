import Foundation
import GlossModel
import GlossProjections
import GlossStore

/// What an id or id prefix names.
public enum Resolved: Sendable, Equatable {
    case object(id: String, kind: String)
    case event(EventID)

    public var hex: String {
        switch self { case .object(let id, _): id; case .event(let e): e.hex }
    }
}

extension Replica {
    /// Resolves a full id or unique prefix (as git does) among objects of `kinds` (all when nil) and,
    /// when `events` is true, events. An object and the event that created it under the same id count
    /// once (as the object). Throws `notFound` or `ambiguous` (listing the matches).
    public func resolve(_ text: String, kinds: Set<String>? = nil, events: Bool = false, what: String = "object") throws -> Resolved {
        let prefix = text.lowercased()
        guard Hex.isHexPrefix(prefix), prefix.count <= 64 else {
            throw GlossError(.badInput, "\"\(text.prefix(80))\" is not an id: ids are hexadecimal (a unique prefix is enough)")
        }
        return try read { db in
            var found: [Resolved] = []
            for (id, kind) in try ObjectReads.matching(prefix: prefix, limit: 11, db) where kinds == nil || kinds!.contains(kind) {
                found.append(.object(id: id, kind: kind))
            }
            if events {
                for e in try store.eventIDs(prefix: prefix, limit: 11, db) where !found.contains(where: { $0.hex == e.hex }) {
                    found.append(.event(e))
                }
            }
            if found.count == 1 { return found[0] }
            if found.isEmpty {
                let kindsText = kinds.flatMap { $0.isEmpty ? nil : $0.sorted().joined(separator: " or ") } ?? what
                throw GlossError(.notFound, "no \(kindsText) with id \(prefix); \(Replica.listHint(kinds))")
            }
            let list = found.prefix(10).map { r -> String in
                switch r { case .object(let id, let kind): "  \(id) (\(kind))"; case .event(let e): "  \(e.hex) (event)" }
            }.joined(separator: "\n")
            throw GlossError(.ambiguous, "id prefix \(prefix) is ambiguous; it matches:\n\(list)\(found.count > 10 ? "\n  …" : "")\nGive more digits.")
        }
    }
}

extension Replica {
    /// Where to find ids of these kinds (the command that lists them).
    static func listHint(_ kinds: Set<String>?) -> String {
        guard let kinds, kinds.count == 1, let kind = kinds.first else { return "list ids with `gloss log` or `gloss status`" }
        switch kind {
        case "source": return "list sources with `gloss source list`, or add one with `gloss source add NAME`"
        case "fact": return "list facts with `gloss facts`"
        case "article": return "article ids are in `gloss log` (the ingest events) and `gloss query \"SELECT article FROM articles\"`"
        case "annotation": return "list annotations with `gloss annotations`"
        case "conflict": return "list conflicts with `gloss conflicts --all`"
        case "candidate": return "list an article's candidates with `gloss candidates ARTICLE`"
        default: return "list ids with `gloss log` or `gloss status`"
        }
    }
}
