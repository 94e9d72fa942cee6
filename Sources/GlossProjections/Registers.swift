import Foundation
import GRDB
import GlossModel
import GlossMerge
import GlossStore

/// The storage of multi-value registers (DESIGN §4, Protocol/08-conflicts.md): every write to
/// (object, field) in `reg_writes` — except a note body's, whose writes are its `note_revisions`
/// rows (the text is stored once) — the current heads in `reg_heads`, open conflict rows. The rules —
/// which heads a write replaces, what heads display, when they conflict — are the pure functions of
/// `GlossMerge.Register`; this type reads and writes their inputs and outputs, with causality from
/// the store's `event_deps`.
struct Registers {
    let store: ReplicaStore

    struct Write: FeedWrite {
        var event: String
        var deleted: Bool
        var value: String?
        var time: Int64
        var replica: String
        var author: String
        var at: String
        var feed: Int64
        var seq: UInt64
    }

    typealias Displayed = RegisterDisplay<Write>

    static let schema = """
        CREATE TABLE IF NOT EXISTS reg_writes(
            object TEXT NOT NULL, field TEXT NOT NULL, event TEXT NOT NULL,
            deleted INTEGER NOT NULL, value TEXT, time INTEGER NOT NULL, replica TEXT NOT NULL,
            author TEXT NOT NULL, at TEXT NOT NULL, feed INTEGER NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY(object, field, event)
        );
        CREATE TABLE IF NOT EXISTS reg_heads(
            object TEXT NOT NULL, field TEXT NOT NULL, event TEXT NOT NULL, feed INTEGER NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY(object, field, event)
        ) WITHOUT ROWID;
        """

    /// A note's body: its writes are the note's `note_revisions` rows (kinds add, edit, delete and
    /// resolve; no body for a tombstone), not `reg_writes` rows.
    static func isNoteBody(_ field: String) -> Bool { field == "body" }

    /// The columns of a `note_revisions` row `r` as a write, in `columns`' order, with feed and seq
    /// from the log row `e` at its position (0, 0 when a fork found in this transaction removed the
    /// event: the store rebuilds the projections before it commits, so nothing computed with it stays).
    static let revisionColumns = "r.event, r.body IS NULL, r.body, r.time, r.replica, r.author, r.at, coalesce(e.feed, 0), coalesce(e.seq, 0)"

    /// Records a write and returns what the field now displays. Open conflict rows for the field
    /// are replaced to match the new heads.
    func write(object: String, objectKind: String, field: String, _ w: Write, _ db: Database) throws -> Displayed {
        try record(object: object, field: field, w, db)
        let before = try self.heads(object, field, db)
        var heads = before
        try Register.add(w, to: &heads, happenedBefore: happenedBefore(db))
        return try setHeads(object: object, objectKind: objectKind, field: field, heads: heads, replacing: before, db)
    }

    /// Adds a write to `reg_writes` (the heads are the caller's business: `setHeads(…)`). A note
    /// body's write is its `note_revisions` row, which the projector has written.
    func record(object: String, field: String, _ w: Write, _ db: Database) throws {
        guard !Registers.isNoteBody(field) else { return }
        try db.run("""
            INSERT OR IGNORE INTO reg_writes(object, field, event, deleted, value, time, replica, author, at, feed, seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { b in
            b.add(object); b.add(field); b.add(w.event); b.add(w.deleted); b.add(w.value); b.add(w.time)
            b.add(w.replica); b.add(w.author); b.add(w.at); b.add(w.feed); b.add(Int64(w.seq))
        }
    }

    /// Replaces the stored heads `before` of a register by `heads` and returns what they display;
    /// open conflict rows for the field are replaced to match. A note body with one head stores no
    /// `reg_heads` row: its head is the write its `notes` row shows (`body_event`); rows are stored
    /// for two heads or more.
    func setHeads(object: String, objectKind: String, field: String, heads: [Write], replacing before: [Write], _ db: Database) throws -> Displayed {
        let implicit = Registers.isNoteBody(field)
        let storedBefore = implicit && before.count < 2 ? [] : before, storedAfter = implicit && heads.count < 2 ? [] : heads
        let kept = Set(storedAfter.map(\.event)), had = Set(storedBefore.map(\.event))
        for h in storedBefore where !kept.contains(h.event) {
            try db.run("DELETE FROM reg_heads WHERE object = ? AND field = ? AND event = ?") { b in b.add(object); b.add(field); b.add(h.event) }
        }
        for h in storedAfter where !had.contains(h.event) {
            try db.run("INSERT OR IGNORE INTO reg_heads(object, field, event, feed, seq) VALUES (?, ?, ?, ?, ?)") { b in
                b.add(object); b.add(field); b.add(h.event); b.add(h.feed); b.add(Int64(h.seq))
            }
        }
        let shown = try display(object: object, field: field, heads: heads, db)
        // An open conflict needs two heads: from one head to a display without conflict there is none to update.
        if before.count > 1 || shown.state == .conflict {
            try updateOpenConflict(object: object, objectKind: objectKind, field: field, heads: heads, shown: shown, db)
        }
        return shown
    }

    /// Causal order from the store's `event_deps` (inside the apply transaction), memoized by the
    /// connection's apply window.
    func happenedBefore(_ db: Database) -> (Write, Write) throws -> Bool {
        let order = ApplyWindow.causalOrder(store: store, db)
        return { a, b in try order(a.feed, a.seq, b.feed, b.seq) }
    }

    /// The columns `write(columns:)` reads, in its order.
    static let columns = "w.event, w.deleted, w.value, w.time, w.replica, w.author, w.at, w.feed, w.seq"

    /// The register's heads. For a note's body, `notePos` (the log position of its `NoteAdded`,
    /// when the caller knows it) spares finding the note's row by id.
    func heads(_ object: String, _ field: String, notePos: Int64? = nil, _ db: Database) throws -> [Write] {
        var heads: [Write] = []
        let note = Registers.isNoteBody(field)
        func bindNote(_ b: inout SQLBinder) { if let notePos { b.add(notePos) } else { b.add(Registers.idBytes(object)) } }
        // (CROSS JOIN keeps `reg_heads` outer: most notes have no stored heads, so nothing else is read.)
        let sql = note ? """
            SELECT r.event, r.body IS NULL, r.body, r.time, r.replica, r.author, r.at, h.feed, h.seq
            FROM reg_heads h CROSS JOIN note_revisions r
                ON r.pos = (SELECT pos FROM events WHERE feed = h.feed AND seq = h.seq) AND r.event = h.event AND r.note_pos = \(notePos == nil ? Registers.eventPos("?3") : "?3")
            WHERE h.object = ?1 AND h.field = ?2 ORDER BY h.event
            """ : """
            SELECT \(Registers.columns) FROM reg_heads h JOIN reg_writes w ON w.object = h.object AND w.field = h.field AND w.event = h.event
            WHERE h.object = ? AND h.field = ? ORDER BY h.event
            """
        try db.rows(sql, { $0.add(object); $0.add(field); if note { bindNote(&$0) } }) {
            heads.append(Registers.write(columns: $0))
        }
        guard heads.isEmpty, note else { return heads }
        // A note body's single head is not stored: it is the write its notes row shows.
        try db.rows("""
            SELECT \(Registers.revisionColumns) FROM notes n
            JOIN note_revisions r ON r.note_pos = n.note_pos AND r.time = n.body_time AND r.event = n.body_event
            LEFT JOIN events e ON e.pos = r.pos WHERE n.note_pos = \(notePos == nil ? Registers.eventPos("?1") : "?1")
            """, bindNote) { heads.append(Registers.write(columns: $0)) }
        return heads
    }

    /// Every write of a register (or the one write `event`, when given: found by its key, not
    /// among the register's writes — a statement for each case, so each uses its index).
    func writes(_ object: String, _ field: String, event: String? = nil, _ db: Database) throws -> [Write] {
        var writes: [Write] = []
        guard Registers.isNoteBody(field) else {
            if let event {
                try db.rows("SELECT \(Registers.columns) FROM reg_writes w WHERE object = ? AND field = ? AND event = ?",
                            { $0.add(object); $0.add(field); $0.add(event) }) { writes.append(Registers.write(columns: $0)) }
            } else {
                try db.rows("SELECT \(Registers.columns) FROM reg_writes w WHERE object = ? AND field = ?",
                            { $0.add(object); $0.add(field) }) { writes.append(Registers.write(columns: $0)) }
            }
            return writes
        }
        if let event {
            // A revision is stored at its event's log position.
            try db.rows("""
                SELECT \(Registers.revisionColumns) FROM note_revisions r LEFT JOIN events e ON e.pos = r.pos
                WHERE r.pos = \(Registers.eventPos("?2")) AND r.note_pos = \(Registers.eventPos("?1"))
                """, { $0.add(Registers.idBytes(object)); $0.add(Registers.idBytes(event)) }) { writes.append(Registers.write(columns: $0)) }
        } else {
            try db.rows("""
                SELECT \(Registers.revisionColumns) FROM note_revisions r LEFT JOIN events e ON e.pos = r.pos
                WHERE r.note_pos = \(Registers.eventPos("?1"))
                """, { $0.add(Registers.idBytes(object)) }) { writes.append(Registers.write(columns: $0)) }
        }
        return writes
    }

    /// An object id as its creating event's id; nil for anything but 64 lowercase hex digits (rows
    /// are keyed by lowercase hex: any other spelling names no object).
    static func canonicalID(_ id: String) -> Bytes32? {
        guard let raw = Bytes32(hex: id), raw.hex == id else { return nil }
        return raw
    }

    /// An object id's bytes, to find its creating event in the log (`events.id`); nil, matching no
    /// row, for a spelling that names no object (`canonicalID`).
    static func idBytes(_ id: String) -> [UInt8]? { canonicalID(id)?.bytes }

    /// SQL for the log position of the event whose id (as bytes: `idBytes`) is bound to
    /// `parameter`: rows stored by their event's position (`note_revisions`, and `notes` and
    /// `annotations` by `note_pos`, `annotation_pos`) are found through it.
    static func eventPos(_ parameter: String) -> String {
        // The parameter is named once (callers pass `?` as well as `?N`); the one-row subquery is
        // flattened, so the lookup goes through `events_id`.
        "(SELECT e.pos FROM (SELECT \(parameter) AS v) p JOIN events e ON \(ShortID.equals("e.id", "p.v")))"
    }

    /// A write from the current row of a statement selecting `columns`.
    static func write(columns c: SQLColumns) -> Write {
        Write(event: c.text(0), deleted: c.bool(1), value: c.optionalText(2), time: c.int(3), replica: c.text(4),
              author: c.text(5), at: c.text(6), feed: c.int(7), seq: UInt64(c.int(8)))
    }

    /// What the heads display: the pure rules of `Register`.
    func display(object: String, field: String, heads: [Write], _ db: Database) throws -> Displayed {
        // The register's other writes are read only for a meet (a text merge of different values).
        try Register.display(heads: heads, history: { RegisterHistory(try writes(object, field, db)) }, scalar: Register.scalarFields.contains(field),
                             past: { [past = ApplyWindow.pastSeq(store: store, db)] w, feed in try past(w.feed, w.seq, feed) })
    }

    private func updateOpenConflict(object: String, objectKind: String, field: String, heads: [Write], shown: Displayed, _ db: Database) throws {
        for id in try String.fetchAll(db.cachedStatement(sql: "SELECT conflict FROM conflicts WHERE object = ? AND field = ? AND state = 'open'"), arguments: [object, field]) {
            try db.run("DELETE FROM conflict_candidates WHERE conflict = ?") { b in b.add(id) }
            try db.run("DELETE FROM conflicts WHERE conflict = ?") { b in b.add(id) }
        }
        guard shown.state == .conflict else { return }
        let id = Register.conflictID(object: object, field: field, candidates: heads.map(\.event))
        try db.run("""
            INSERT OR REPLACE INTO conflicts(conflict, object, object_kind, field, state, opened_time, resolution_event, candidates)
            VALUES (?, ?, ?, ?, 'open', ?, NULL, ?)
            """) { b in b.add(id); b.add(object); b.add(objectKind); b.add(field); b.add(heads.map(\.time).max()!); b.add(heads.count) }
        for h in heads { try insertCandidate(id, h, db) }
    }

    func insertCandidate(_ conflict: String, _ h: Write, _ db: Database) throws {
        try db.run("""
            INSERT OR REPLACE INTO conflict_candidates(conflict, event, author, time, at, value) VALUES (?, ?, ?, ?, ?, ?)
            """) { b in b.add(conflict); b.add(h.event); b.add(h.author); b.add(h.time); b.add(h.at); b.add(h.deleted ? nil : h.value) }
    }

    /// Records a resolution's conflict as resolved (a function of the resolution events alone: when
    /// several people resolve the same conflict concurrently, the row is the greatest event id's —
    /// every column, since nothing ties the conflict id a resolution names to its object, field and
    /// candidates — and their resolutions, being concurrent writes, open a new conflict).
    func recordResolved(_ r: ConflictResolved, objectKind: String, resolution: String, time: Int64, _ db: Database) throws {
        // The candidates that are writes of the register (a resolution may name others).
        let candidates = try r.candidates.flatMap { try writes(r.object, r.field, event: $0, db) }
        try db.run("""
            INSERT INTO conflicts(conflict, object, object_kind, field, state, opened_time, resolution_event, candidates)
            VALUES (?, ?, ?, ?, 'resolved', ?, ?, ?)
            ON CONFLICT(conflict) DO UPDATE SET object = excluded.object, object_kind = excluded.object_kind, field = excluded.field,
                opened_time = excluded.opened_time, resolution_event = excluded.resolution_event, candidates = excluded.candidates
            WHERE excluded.resolution_event > conflicts.resolution_event
            """) { b in b.add(r.conflict); b.add(r.object); b.add(objectKind); b.add(r.field); b.add(candidates.map(\.time).max() ?? time); b.add(resolution); b.add(r.candidates.count) }
        for c in candidates { try insertCandidate(r.conflict, c, db) }
    }
}
