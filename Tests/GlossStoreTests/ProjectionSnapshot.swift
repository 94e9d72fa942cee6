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
/// (kind, id, text; its rowids follow local row order) and whether its index agrees with that
/// (FTS5's `integrity-check`, which finds a stale or missing term).
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
            let search = try Row.fetchAll(db, sql: "SELECT kind, id, body FROM search").map { row in
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

    /// FTS5's check that the index holds exactly the terms of its documents (a write: its own
    /// transaction, rolled back).
    static func searchIntegrity(_ r: Replica) throws -> String? {
        do {
            try r.store.pool.writeWithoutTransaction { db in
                try db.inTransaction {
                    try db.execute(sql: "INSERT INTO search(search) VALUES ('integrity-check')")
                    return .rollback
                }
            }
            return nil
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
