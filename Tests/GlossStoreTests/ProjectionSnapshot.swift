import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
import GlossStore
import GlossTestSupport
import Testing

/// Everything a replica's projections show, read through public interfaces only: the maintained
/// digest, the digest recomputed by the projector, a digest computed here from the rows by the
/// rule of Protocol/04-projections.md §Digest (independent of the product's digest code), every
/// row of every documented projection table, sorted, and the full-text index: what it holds
/// (kind, id, text of each document it has; its rowids follow local row order) and whether its
/// terms are exactly those of the texts it should hold (compared with an index built here).
struct ProjectionSnapshot: Equatable {
    var maintained: String
    var recomputed: String
    var fromSpec: String
    /// Table name → rendered rows, sorted.
    var tables: [String: [String]]
    /// The search index's documents (kind, id, text), sorted.
    var search: [String]
    /// nil when the index agrees with its documents, else SQLite's message.
    var searchIntegrity: String?
    /// Rows stored by log position whose `pos` is not their event's `events.pos` (Protocol/04).
    var misplaced: Int
    /// Articles whose `revisions` is not the number of their `article_revisions` rows.
    var miscounted: Int

    static func of(_ r: Replica) throws -> ProjectionSnapshot {
        let projector = GlossProjector()
        let integrity = try searchIntegrity(r)
        return try r.store.read { db in
            var tables: [String: [String]] = [:]
            for t in GlossProjector.tables {
                tables[t.name] = try Row.fetchAll(db, sql: "SELECT \(try sharedColumns(t.name, db)) FROM \(t.name)").map { row in
                    row.databaseValues.map(render).joined(separator: "|")
                }.sorted()
            }
            let search = try Row.fetchAll(db, sql: "SELECT d.kind, d.id, d.body FROM search_docsize s JOIN (\(documents)) d ON d.rowid = s.id").map { row in
                row.databaseValues.map(render).joined(separator: "|")
            }.sorted()
            return ProjectionSnapshot(maintained: try projector.digest(db), recomputed: try projector.recomputedDigest(db),
                                      fromSpec: try specDigest(db), tables: tables, search: search,
                                      searchIntegrity: integrity, misplaced: try misplacedRows(db),
                                      miscounted: try Int.fetchOne(db, sql: """
                                          SELECT count(*) FROM articles a WHERE a.revisions <> (SELECT count(*) FROM article_revisions r WHERE r.article = a.article)
                                          """) ?? 0)
        }
    }

    /// Every row the index should hold, by the rule of Protocol/04 §Full-text index (written here,
    /// not taken from the product): rowid, kind, id, text.
    static let documents = """
        SELECT rowid * 4 AS rowid, 'annotation' AS kind, annotation AS id, exact || coalesce(char(10) || comment, '') AS body FROM annotations
        UNION ALL SELECT rowid * 4 + 1, 'note', note, body FROM notes WHERE deleted = 0
        UNION ALL SELECT rowid * 4 + 2, 'revision', sha256, text FROM article_revisions
        UNION ALL SELECT rowid * 4 + 3, 'fact', fact, subject || ' ' || predicate || ' ' || object || coalesce(' ' || when_text, '')
            || coalesce(' ' || where_text, '') || char(10) || exact FROM facts WHERE retracted = 0
        """

    /// nil when the index holds exactly the terms (each occurrence: term, document, offset) of
    /// `documents`, and FTS5's own `integrity-check` passes; else what differs. The reference is a
    /// contentful index built here from `documents` (a write: its own transaction, rolled back).
    static func searchIntegrity(_ r: Replica) throws -> String? {
        do {
            return try r.store.pool.writeWithoutTransaction { db in
                var found: String?
                try db.inTransaction {
                    try db.execute(sql: "INSERT INTO search(search) VALUES ('integrity-check')")
                    try db.execute(sql: """
                        CREATE VIRTUAL TABLE temp.search_reference USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
                        INSERT INTO temp.search_reference(rowid, body) SELECT rowid, body FROM (\(documents));
                        CREATE VIRTUAL TABLE temp.search_terms USING fts5vocab(main, search, instance);
                        CREATE VIRTUAL TABLE temp.reference_terms USING fts5vocab(temp, search_reference, instance);
                        """)
                    let query = "SELECT term, doc, offset FROM temp.search_terms EXCEPT SELECT term, doc, offset FROM temp.reference_terms"
                    let extra = try Row.fetchAll(db, sql: query + " LIMIT 5")
                    let missing = try Row.fetchAll(db, sql: "SELECT term, doc, offset FROM temp.reference_terms EXCEPT SELECT term, doc, offset FROM temp.search_terms LIMIT 5")
                    let docs = try Int.fetchOne(db, sql: "SELECT count(*) FROM search_docsize") ?? 0
                    let expected = try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(documents))") ?? 0
                    if !extra.isEmpty || !missing.isEmpty || docs != expected {
                        let strays = try Row.fetchAll(db, sql: "SELECT s.id FROM search_docsize s WHERE s.id NOT IN (SELECT rowid FROM (\(documents))) LIMIT 5")
                        let absent = try Row.fetchAll(db, sql: "SELECT rowid FROM (\(documents)) WHERE rowid NOT IN (SELECT id FROM search_docsize) LIMIT 5")
                        found = "index terms not in the texts: \(extra); texts' terms not in the index: \(missing); documents \(docs), expected \(expected); held but not expected: \(strays); expected but not held: \(absent)"
                    }
                    return .rollback
                }
                return found
            }
        } catch {
            return "\(error)"
        }
    }

    /// `note_revisions` rows whose `pos` does not name their own event in the log, or whose
    /// `note_pos` not their note's `NoteAdded`.
    static func misplacedRows(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT count(*) FROM note_revisions r LEFT JOIN events e ON e.pos = r.pos LEFT JOIN events n ON n.pos = r.note_pos
            WHERE e.id IS NULL OR lower(hex(e.id)) <> r.event OR n.id IS NULL OR lower(hex(n.id)) <> r.note
            """) ?? 0
    }

    /// A typed rendering of one value (so 1, 1.0, "1" and x'01' differ).
    static func render(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null: return "∅"
        case .int64(let i): return "i\(i)"
        case .double(let d): return "r\(d.bitPattern)"
        case .string(let s): return "t" + s.debugDescription
        case .blob(let b): return "b" + b.map { String(format: "%02x", $0) }.joined()
        }
    }

    /// The columns replicas share, quoted, in declaration order: all but local log positions
    /// (Protocol/04 §Digest: named `pos` or ending in `_pos`), which differ with arrival order.
    static func sharedColumns(_ table: String, _ db: Database) throws -> String {
        try db.columns(in: table).map(\.name).filter { $0 != "pos" && !$0.hasSuffix("_pos") }.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    /// Protocol/04-projections.md §Digest, written from the document: per table, Σ SHA-256(typed
    /// encoding of the table name then every column in declaration order but local positions) mod 2^256; then
    /// SHA-256("gloss-digest-v1" ‖ u32 version ‖ per table: u8 name length, name, u64 rows, sum).
    static func specDigest(_ db: Database) throws -> String {
        let version = try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'projection_version'") ?? GlossProjector().version
        var out: [UInt8] = Array("gloss-digest-v1".utf8)
        out += be(UInt64(version), 4)
        for t in GlossProjector.tables {
            var sum = [UInt8](repeating: 0, count: 32)
            var count: UInt64 = 0
            // A text as its stored bytes (read as a blob: a String would stop at a NUL and repair
            // bytes that are not UTF-8), with its type beside it.
            let columns = try db.columns(in: t.name).map(\.name).filter { $0 != "pos" && !$0.hasSuffix("_pos") }
                .map { "typeof(\"\($0)\"), CASE typeof(\"\($0)\") WHEN 'text' THEN CAST(\"\($0)\" AS BLOB) ELSE \"\($0)\" END" }
            let rows = try Row.fetchCursor(db, sql: "SELECT \(columns.joined(separator: ", ")) FROM \(t.name)")
            while let row = try rows.next() {
                var bytes: [UInt8] = []
                encode(t.name.databaseValue, &bytes)
                for i in stride(from: 0, to: row.count, by: 2) {
                    let v: DatabaseValue = row[i + 1]
                    if row[i] as String == "text", case .blob(let b) = v.storage {
                        bytes.append(3); bytes += be(UInt64(b.count), 4); bytes += Array(b)
                    } else if row[i] as String == "text" {
                        bytes.append(3); bytes += be(0, 4)   // an empty text reads back as an empty blob or NULL
                    } else {
                        encode(v, &bytes)
                    }
                }
                let h = Bytes32.sha256(bytes).bytes
                var carry = 0
                for i in stride(from: 31, through: 0, by: -1) {
                    let s = Int(sum[i]) + Int(h[i]) + carry
                    sum[i] = UInt8(s & 0xff); carry = s >> 8
                }
                count += 1
            }
            out.append(UInt8(t.name.utf8.count)); out += Array(t.name.utf8); out += be(count, 8); out += sum
        }
        return Bytes32.sha256(out).hex
    }

    static func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).reversed().map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }

    static func encode(_ v: DatabaseValue, _ out: inout [UInt8]) {
        switch v.storage {
        case .null: out.append(0)
        case .int64(let i): out.append(1); out += be(UInt64(bitPattern: i), 8)
        case .double(let d): out.append(2); out += be(d.bitPattern, 8)
        case .string(let s): out.append(3); out += be(UInt64(s.utf8.count), 4); out += Array(s.utf8)
        case .blob(let b): out.append(4); out += be(UInt64(b.count), 4); out += Array(b)
        }
    }

    /// Differences from `other`, one line each (empty when equal), naming `label` and `seed`.
    func differences(from other: ProjectionSnapshot, _ label: String) -> [String] {
        var out: [String] = []
        if maintained != other.maintained { out.append("\(label): maintained digest \(maintained.prefix(12)) ≠ \(other.maintained.prefix(12))") }
        if recomputed != other.recomputed { out.append("\(label): recomputed digest \(recomputed.prefix(12)) ≠ \(other.recomputed.prefix(12))") }
        if fromSpec != other.fromSpec { out.append("\(label): digest by the spec \(fromSpec.prefix(12)) ≠ \(other.fromSpec.prefix(12))") }
        for t in GlossProjector.tables {
            let (a, b) = (tables[t.name] ?? [], other.tables[t.name] ?? [])
            guard a != b else { continue }
            let (sa, sb) = (Set(a), Set(b))
            let onlyA = a.filter { !sb.contains($0) }, onlyB = b.filter { !sa.contains($0) }
            out.append("\(label): table \(t.name) differs (\(a.count) vs \(b.count) rows); only here: \(onlyA.prefix(2).map { String($0.prefix(400)) }); only there: \(onlyB.prefix(2).map { String($0.prefix(400)) })")
        }
        if search != other.search {
            let (sa, sb) = (Set(search), Set(other.search))
            out.append("\(label): search index differs (\(search.count) vs \(other.search.count) documents); only here: \(search.filter { !sb.contains($0) }.prefix(2).map { String($0.prefix(300)) }); only there: \(other.search.filter { !sa.contains($0) }.prefix(2).map { String($0.prefix(300)) })")
        }
        return out
    }

    /// Internal consistency: maintained = recomputed = the spec's digest.
    func selfCheck(_ label: String) -> [String] {
        var out: [String] = []
        if maintained != recomputed { out.append("\(label): maintained digest \(maintained.prefix(12)) ≠ recomputed \(recomputed.prefix(12))") }
        if recomputed != fromSpec { out.append("\(label): projector's recomputed digest \(recomputed.prefix(12)) ≠ the digest computed from the spec \(fromSpec.prefix(12))") }
        if let searchIntegrity { out.append("\(label): the search index disagrees with its documents: \(searchIntegrity)") }
        if miscounted > 0 { out.append("\(label): \(miscounted) articles' revisions differ from their count of article_revisions rows") }
        if misplaced > 0 { out.append("\(label): \(misplaced) note_revisions rows name log positions other than their event's and their note's") }
        return out
    }

    var rowCount: Int { tables.values.reduce(0) { $0 + $1.count } }
}

/// Shared shapes for the equivalence suites.
enum Equivalence {
    /// Seeds for a run: `count` from a base (GLOSS_SEED replays one seed: it becomes the base and
    /// the only seed).
    static func seeds(_ name: String, count: Int) -> [UInt64] {
        let base = testSeed(name)
        if ProcessInfo.processInfo.environment["GLOSS_SEED"] != nil { return [base] }
        return (0..<UInt64(count)).map { base &+ $0 }
    }

    /// Applies `events` to `r` in consecutive windows of `size`; returns the summed report.
    @discardableResult
    static func apply(_ events: [SignedEvent], to r: Replica, windows size: Int, now: () -> UInt64) throws -> ApplySummary {
        var total = ApplySummary()
        var i = 0
        while i < events.count {
            let end = min(events.count, i + size)
            total.add(try r.store.applyRemote(Array(events[i..<end]), now: now()))
            i = end
        }
        return total
    }

    /// A replica's log in local order.
    static func log(_ r: Replica) throws -> [SignedEvent] {
        var out: [SignedEvent] = []
        try r.store.read { db in try r.store.forEachEvent(db) { out.append(SignedEvent(envelope: $0.envelope, payload: $0.payload)); return true } }
        return out
    }

    /// The kinds a history wrote, for the report.
    static func describe(_ kinds: [Simulation.RichKind: Int]) -> String {
        Simulation.RichKind.allCases.compactMap { k in kinds[k].map { "\(k.rawValue) \($0)" } }.joined(separator: ", ")
    }
}
