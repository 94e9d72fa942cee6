import Foundation
import GlossModel
import GlossProjections
import GlossStore

extension Replica {
    /// Adds a Markdown note on any object (article, note, …), named by id or unique prefix.
    public func addNote(on target: String, body: String) throws -> Created {
        let body = try Replica.checkNoteBody(body)
        let on = try resolve(target, what: "object")
        return try write { db in
            let e = try append(NoteAdded(on: on.hex, body: body), db)
            return Created(id: e.id.hex, event: e.id, existing: false)
        }
    }

    public func editNote(_ note: String, body: String) throws -> Created {
        let body = try Replica.checkNoteBody(body)
        let id = try resolve(note, kinds: ["note"]).hex
        return try write { db in
            try Replica.requireLiveNote(id, db)
            let e = try append(NoteEdited(note: id, body: body), db)
            return Created(id: id, event: e.id, existing: false)
        }
    }

    public func deleteNote(_ note: String) throws -> Created {
        let id = try resolve(note, kinds: ["note"]).hex
        return try write { db in
            try Replica.requireLiveNote(id, db)
            let e = try append(NoteDeleted(note: id), db)
            return Created(id: id, event: e.id, existing: false)
        }
    }

    static func requireLiveNote(_ id: String, _ db: ReplicaStore.Transaction) throws {
        guard let deleted = try NoteReads.isDeleted(id, db) else {
            throw GlossError(.notFound, "no note \(id.prefix(12))")
        }
        if deleted { throw GlossError(.refused, "note \(id.prefix(12)) is deleted; its history stays in `gloss show \(id.prefix(12))`") }
    }

    /// `text` in NFC (`String.nfc`); a run of over 255 combining marks is bad input, named as `what`,
    /// and so is U+0000: SQLite's text ends at it, so the tables would show only what comes before
    /// (the signed event keeps all of it) and search would miss the rest.
    static func nfc(_ text: String, _ what: String) throws -> String {
        if let at = text.firstNULOffset {
            throw GlossError(.badInput, "\(what) holds the character U+0000 (NUL) at scalar \(at); remove it (`tr -d '\\000'`)")
        }
        do { return try text.nfc() } catch let e as NFC.RunTooLong { throw GlossError(.badInput, "\(what): \(e)") }
    }

    static func checkNoteBody(_ body: String) throws -> String {
        let nfc = try Replica.nfc(body, "the note text")
        guard !nfc.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) else {
            throw GlossError(.badInput, "the note text is empty; give --text or a non-empty --file")
        }
        guard nfc.utf8.count <= ProtocolLimits.maxTextBytes else {
            throw GlossError(.badInput, "the note text is \(nfc.utf8.count) bytes, over the \(ProtocolLimits.maxTextBytes)-byte limit")
        }
        return nfc
    }
}
