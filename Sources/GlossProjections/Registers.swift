import Foundation
import GRDB
import GlossModel
import GlossStore

/// Multi-value registers for fields edited concurrently (DESIGN §4, Protocol/08-conflicts.md).
///
/// Every write to (object, field) is kept. The *heads* are the writes no other write causally
/// follows; each new write removes the heads it follows and becomes one (with causal delivery no
/// earlier write can arrive later), so the heads are a function of the set of writes. From the
/// heads: one head → its value; concurrent text values → a three-way line merge against the value
/// at the meet of their causal pasts (clean: shown, no conflict); overlapping edits, or an edit
/// concurrent with a delete → an open conflict listing every head, the highest `(time, replica)`
/// shown meanwhile.
struct Registers {
    let store: ReplicaStore

    struct Write {
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

    struct Displayed {
        var value: String?
        var deleted: Bool
        var winner: Write
        /// `single`, `merged` or `conflict`.
        var state: String
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS reg_writes(
            object TEXT NOT NULL, field TEXT NOT NULL, event TEXT NOT NULL,
            deleted INTEGER NOT NULL, value TEXT, time INTEGER NOT NULL, replica TEXT NOT NULL,
            author TEXT NOT NULL, at TEXT NOT NULL, feed INTEGER NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY(object, field, event)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS reg_heads(
            object TEXT NOT NULL, field TEXT NOT NULL, event TEXT NOT NULL,
            PRIMARY KEY(object, field, event)
        ) WITHOUT ROWID;
        """

    /// Records a write and returns what the field now displays. Open conflict rows for the field
    /// are replaced to match the new heads.
    func write(object: String, objectKind: String, field: String, _ w: Write, _ db: Database) throws -> Displayed {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO reg_writes(object, field, event, deleted, value, time, replica, author, at, feed, seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [object, field, w.event, w.deleted, w.value, w.time, w.replica, w.author, w.at, w.feed, Int64(w.seq)])
        var heads = try self.heads(object, field, db)
        var kept: [Write] = []
        for h in heads where h.event != w.event {
            if try store.happenedBefore(feedA: h.feed, seqA: h.seq, feedB: w.feed, seqB: w.seq, db) {
                try db.cachedStatement(sql: "DELETE FROM reg_heads WHERE object = ? AND field = ? AND event = ?").execute(arguments: [object, field, h.event])
            } else {
                kept.append(h)
            }
        }
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO reg_heads(object, field, event) VALUES (?, ?, ?)").execute(arguments: [object, field, w.event])
        // An open conflict needs two heads: from one head to a display without conflict there is none to update.
        let hadSeveral = heads.count > 1
        heads = kept + [w]
        let shown = try display(object: object, field: field, heads: heads, db)
        if hadSeveral || shown.state == "conflict" {
            try updateOpenConflict(object: object, objectKind: objectKind, field: field, heads: heads, shown: shown, db)
        }
        return shown
    }

    /// The columns `write(row:)` reads, in its order.
    static let columns = "w.event, w.deleted, w.value, w.time, w.replica, w.author, w.at, w.feed, w.seq"

    func heads(_ object: String, _ field: String, _ db: Database) throws -> [Write] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT \(Registers.columns) FROM reg_heads h JOIN reg_writes w ON w.object = h.object AND w.field = h.field AND w.event = h.event
            WHERE h.object = ? AND h.field = ? ORDER BY w.event
            """), arguments: [object, field]).map(Registers.write(row:))
    }

    /// A write from a row of `columns` (by position: faster than by name on the apply path).
    static func write(row: Row) -> Write {
        Write(event: row[0], deleted: row[1], value: row[2], time: row[3], replica: row[4],
              author: row[5], at: row[6], feed: row[7], seq: UInt64(row[8] as Int64))
    }

    static func winner(_ ws: [Write]) -> Write {
        ws.max { ($0.time, $0.replica) < ($1.time, $1.replica) }!
    }

    /// Registers whose value is one grade, not text: concurrent writes merge only when equal
    /// (Protocol/08-conflicts.md §Registers).
    static let scalarFields: Set<String> = ["credibility", "reliability"]

    /// The displayed value of a set of heads (all writes of the field are in `reg_writes`).
    func display(object: String, field: String, heads: [Write], _ db: Database) throws -> Displayed {
        if heads.count == 1 { return Displayed(value: heads[0].value, deleted: heads[0].deleted, winner: heads[0], state: "single") }
        let all = try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Registers.columns) FROM reg_writes w WHERE object = ? AND field = ?"),
                                   arguments: [object, field]).map(Registers.write(row:))
        return try display(heads: heads, among: all, scalar: Registers.scalarFields.contains(field), db)
    }

    /// The rules over heads drawn from `all` (also used, recursively, for the value at a meet).
    func display(heads: [Write], among all: [Write], scalar: Bool, _ db: Database) throws -> Displayed {
        let win = Registers.winner(heads)
        if heads.count == 1 { return Displayed(value: win.value, deleted: win.deleted, winner: win, state: "single") }
        let sets = heads.filter { !$0.deleted }
        if sets.isEmpty { return Displayed(value: nil, deleted: true, winner: win, state: "single") }
        // An edit concurrent with a delete is always a conflict. While it is open the object stays
        // visible with its newest text: nothing disappears before someone decides.
        if sets.count != heads.count { return Displayed(value: Registers.winner(sets).value, deleted: false, winner: win, state: "conflict") }
        let values = Set(sets.map { $0.value ?? "" })
        if values.count == 1 { return Displayed(value: sets[0].value, deleted: false, winner: win, state: "merged") }
        // A grade has no parts to merge; different concurrent grades conflict.
        if scalar { return Displayed(value: win.value, deleted: false, winner: win, state: "conflict") }
        // Text: a three-way merge needs one base. When the meet is itself a conflict (e.g. two
        // concurrent resolutions of one conflict), there is none, and different texts conflict.
        guard case .value(let base) = try valueAtMeet(of: heads, among: all, db) else {
            return Displayed(value: win.value, deleted: false, winner: win, state: "conflict")
        }
        // More than two candidates fold in event-id order.
        let ordered = sets.sorted { $0.event < $1.event }
        var merged = ordered[0].value ?? ""
        for c in ordered.dropFirst() {
            guard let m = LineMerge.merge(base: base, ours: merged, theirs: c.value ?? "") else {
                return Displayed(value: win.value, deleted: false, winner: win, state: "conflict")
            }
            merged = m
        }
        return Displayed(value: merged, deleted: false, winner: win, state: "merged")
    }

    enum Meet { case value(String), conflicted }

    /// The field's value at the meet of the heads' causal pasts: the writes every head follows,
    /// displayed by the same rules (the meet of merged heads is itself a merge). No common past:
    /// the empty text. A meet whose display is a conflict has no single value.
    func valueAtMeet(of heads: [Write], among all: [Write], _ db: Database) throws -> Meet {
        var common: [Write] = []
        for w in all where !heads.contains(where: { $0.event == w.event }) {
            var inAll = true
            for h in heads where try !store.happenedBefore(feedA: w.feed, seqA: w.seq, feedB: h.feed, seqB: h.seq, db) { inAll = false; break }
            if inAll { common.append(w) }
        }
        guard !common.isEmpty else { return .value("") }
        var maximal: [Write] = []
        for w in common {
            var dominated = false
            for o in common where o.event != w.event {
                if try store.happenedBefore(feedA: w.feed, seqA: w.seq, feedB: o.feed, seqB: o.seq, db) { dominated = true; break }
            }
            if !dominated { maximal.append(w) }
        }
        let shown = try display(heads: maximal, among: common, scalar: false, db)
        if shown.state == "conflict" { return .conflicted }
        return .value(shown.deleted ? "" : shown.value ?? "")
    }

    /// Deterministic conflict id: SHA-256("gloss/conflict" ‖ 0 ‖ object ‖ 0 ‖ field ‖ 0 ‖ sorted candidate ids).
    static func conflictID(object: String, field: String, candidates: [String]) -> String {
        Bytes32.sha256(Array(("gloss/conflict\0" + object + "\0" + field + "\0" + candidates.sorted().joined(separator: ",")).utf8)).hex
    }

    private func updateOpenConflict(object: String, objectKind: String, field: String, heads: [Write], shown: Displayed, _ db: Database) throws {
        for id in try String.fetchAll(db.cachedStatement(sql: "SELECT conflict FROM conflicts WHERE object = ? AND field = ? AND state = 'open'"), arguments: [object, field]) {
            try db.cachedStatement(sql: "DELETE FROM conflict_candidates WHERE conflict = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM conflicts WHERE conflict = ?").execute(arguments: [id])
        }
        guard shown.state == "conflict" else { return }
        let id = Registers.conflictID(object: object, field: field, candidates: heads.map(\.event))
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO conflicts(conflict, object, object_kind, field, state, opened_time, resolution_event, candidates)
            VALUES (?, ?, ?, ?, 'open', ?, NULL, ?)
            """).execute(arguments: [id, object, objectKind, field, heads.map(\.time).max()!, heads.count])
        for h in heads { try insertCandidate(id, h, db) }
    }

    func insertCandidate(_ conflict: String, _ h: Write, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO conflict_candidates(conflict, event, author, time, at, value) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [conflict, h.event, h.author, h.time, h.at, h.deleted ? nil : h.value])
    }

    /// Records a resolution's conflict as resolved (a function of the resolution events alone: when
    /// several people resolve the same conflict concurrently, the row names the greatest event id,
    /// and their resolutions, being concurrent writes, open a new conflict).
    func recordResolved(_ r: ConflictResolved, objectKind: String, resolution: String, time: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO conflicts(conflict, object, object_kind, field, state, opened_time, resolution_event, candidates)
            VALUES (?, ?, ?, ?, 'resolved', coalesce((SELECT max(time) FROM reg_writes WHERE object = ? AND field = ? AND event IN (SELECT value FROM json_each(?))), ?), ?, ?)
            ON CONFLICT(conflict) DO UPDATE SET resolution_event = excluded.resolution_event
            WHERE excluded.resolution_event > conflicts.resolution_event
            """).execute(arguments: [r.conflict, r.object, objectKind, r.field, r.object, r.field, jsonArray(r.candidates), time, resolution, r.candidates.count])
        for c in r.candidates {
            if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Registers.columns) FROM reg_writes w WHERE object = ? AND field = ? AND event = ?"), arguments: [r.object, r.field, c]) {
                try insertCandidate(r.conflict, Registers.write(row: row), db)
            }
        }
    }

    func jsonArray(_ a: [String]) -> String { "[" + a.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
}
