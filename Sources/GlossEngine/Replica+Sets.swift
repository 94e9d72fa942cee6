import Foundation
import GlossModel
import GlossProjections

/// Tags and links: add-wins sets (DESIGN §4). A removal lists the additions its author saw, so an
/// addition made concurrently elsewhere survives it.
extension Replica {
    public func tag(_ object: String, _ tag: String) throws -> Created {
        let tag = try Replica.nfc(tag, "the tag")
        do { try checkLabel(tag, "tag") } catch { throw GlossError.wrap(error) }
        let id = try resolve(object, what: "object").hex
        return try write { db in
            if let existing = try SetReads.tagAdditions(object: id, tag: tag, db).min() {
                return Created(id: existing, event: nil, existing: true)
            }
            let e = try append(TagAdded(object: id, tag: tag), db)
            return Created(id: e.id.hex, event: e.id, existing: false)
        }
    }

    public func untag(_ object: String, _ tag: String) throws -> Created {
        let tag = try Replica.nfc(tag, "the tag")
        let id = try resolve(object, what: "object").hex
        return try write { db in
            let additions = try SetReads.tagAdditions(object: id, tag: tag, db)
            guard !additions.isEmpty else { throw GlossError(.notFound, "\(id.prefix(12)) has no tag \"\(tag.prefix(64))\"") }
            let e = try append(TagRemoved(object: id, tag: tag, additions: additions), db)
            return Created(id: id, event: e.id, existing: false)
        }
    }

    public func link(_ from: String, _ relation: String, _ to: String) throws -> Created {
        do { try checkLabel(relation, "relation") } catch { throw GlossError.wrap(error) }
        let a = try resolve(from, what: "object").hex, b = try resolve(to, what: "object").hex
        return try write { db in
            if let existing = try SetReads.linkAdditions(from: a, relation: relation, to: b, db).min() {
                return Created(id: existing, event: nil, existing: true)
            }
            let e = try append(LinkAdded(from: a, relation: relation, to: b), db)
            return Created(id: e.id.hex, event: e.id, existing: false)
        }
    }

    public func unlink(_ from: String, _ relation: String, _ to: String) throws -> Created {
        let a = try resolve(from, what: "object").hex, b = try resolve(to, what: "object").hex
        return try write { db in
            let additions = try SetReads.linkAdditions(from: a, relation: relation, to: b, db)
            guard !additions.isEmpty else { throw GlossError(.notFound, "no link \(a.prefix(12)) \(relation) \(b.prefix(12))") }
            let e = try append(LinkRemoved(additions: additions), db)
            return Created(id: additions.sorted()[0], event: e.id, existing: false)
        }
    }
}
