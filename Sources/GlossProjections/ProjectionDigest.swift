import Foundation
import GRDB
import GRDBSQLite
import GlossModel
import GlossStore

/// The projection digest (Protocol/04-projections.md §Digest): for each documented table, the sum
/// modulo 2^256 of the SHA-256 of each row's typed values. SQLite's preupdate hook reports every row
/// change before it is made (`RowChangeHook`, no triggers); the changes of a transaction accumulate in
/// memory (`RowDigest`) and are written to `projection_digest` once, just before it commits. Sums do not depend on the order rows were written in, so equal sets of events give equal
/// digests whatever order they arrived in, and `gloss status` reads the digest instantly.
public enum ProjectionDigest {
    /// Makes the connection's row-change hook follow the digest's tables, and gives it the
    /// projector's per-connection apply window.
    /// `tables`: name and number of leading local columns (not hashed), in digest order.
    static func prepare(_ db: Database, tables: [(name: String, local: Int)]) {
        guard let hook = RowChangeHook.of(db) ?? RowChangeHook.install(db) else { return }
        hook.digest = RowDigest(tables: tables.map(\.name), skipping: tables.map(\.local))
        hook.projectorState = ApplyWindow()
    }

    /// Writes the transaction's accumulated changes into `projection_digest` (before commit).
    static func flush(_ db: Database) throws {
        guard let digest = RowChangeHook.of(db)?.digest, !digest.isEmpty else { return }
        for (s, table) in digest.tables.enumerated() where digest.touched(s) {
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT rows, sum FROM projection_digest WHERE tbl = ?"), arguments: [table])
            let sum = add((row?[1] as Data?).map { Array($0) } ?? [UInt8](repeating: 0, count: 32), digest.sum(s), subtract: false)
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO projection_digest(tbl, rows, sum) VALUES (?, ?, ?)")
                .execute(arguments: [table, (row?[0] as Int64? ?? 0) + digest.rows[s], Data(sum)])
        }
        digest.reset()
    }

    static func discard(_ db: Database) {
        RowChangeHook.of(db)?.digest?.reset()
    }

    /// A column holding a local log position (`pos`, or a name ending in `_pos`): replicas holding
    /// the same events hold them at different positions, so such columns are not in the digest.
    static func isLocal(column: String) -> Bool { column == "pos" || column.hasSuffix("_pos") }

    /// 256-bit big-endian addition (or subtraction) modulo 2^256.
    static func add(_ a: [UInt8], _ b: [UInt8], subtract: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var carry = 0
        for i in stride(from: 31, through: 0, by: -1) {
            let s = subtract ? Int(a[i]) - Int(b[i]) + carry : Int(a[i]) + Int(b[i]) + carry
            out[i] = UInt8(truncatingIfNeeded: s)
            carry = subtract ? (s < 0 ? -1 : 0) : (s > 255 ? 1 : 0)
        }
        return out
    }

    /// SQL creating the digest table (its rows are written by `flush`, from the row-change hook).
    static let tableSQL = "CREATE TABLE IF NOT EXISTS projection_digest(tbl TEXT PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, sum BLOB NOT NULL)"

    /// The digest from per-table sums: SHA-256("gloss-digest-v1" ‖ u32 version ‖ per table: name, rows, sum).
    static func combine(version: Int, tables: [(name: String, rows: Int64, sum: [UInt8])]) -> String {
        var w = ByteWriter()
        w.raw("gloss-digest-v1".utf8)
        w.u32(UInt32(version))
        for t in tables {
            w.u8(UInt8(t.name.utf8.count)); w.raw(t.name.utf8); w.u64(UInt64(t.rows)); w.raw(t.sum)
        }
        return Bytes32.sha256(w.bytes).hex
    }

    /// The maintained digest (instant).
    public static func maintained(_ db: Database, version: Int, tables: [(name: String, key: String)]) throws -> String {
        var parts: [(name: String, rows: Int64, sum: [UInt8])] = []
        for t in tables {
            let row = try Row.fetchOne(db, sql: "SELECT rows, sum FROM projection_digest WHERE tbl = ?", arguments: [t.name])
            parts.append((t.name, row?[0] ?? 0, (row?[1] as Data?).map { Array($0) } ?? [UInt8](repeating: 0, count: 32)))
        }
        return combine(version: version, tables: parts)
    }

    /// Recomputes the digest by reading every row in primary-key order (for `gloss digest --recompute`).
    public static func recomputed(_ db: Database, version: Int, tables: [(name: String, key: String)]) throws -> String {
        var parts: [(name: String, rows: Int64, sum: [UInt8])] = []
        for t in tables {
            var sum = [UInt8](repeating: 0, count: 32)
            var rows: Int64 = 0
            let cols = try db.columns(in: t.name).map(\.name).filter { !isLocal(column: $0) }
            // Each value read as SQLite holds it, through the encoding the row-change hook uses:
            // a text is its stored bytes (a NUL inside or bytes that are not UTF-8 included, which a
            // Swift String would cut or repair), so no direct write hides from the check.
            let statement = try db.makeStatement(sql: "SELECT \(cols.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(t.name) ORDER BY \(t.key)")
            let stmt = statement.sqliteStatement
            defer { sqlite3_reset(stmt) }
            var encoder = RowEncoder()
            defer { encoder.deallocate() }
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                encoder.start(t.name)
                for i in 0..<sqlite3_column_count(stmt) { encoder.append(sqlite3_column_value(stmt, i)) }
                sum = add(sum, encoder.sha256().bytes, subtract: false)
                rows += 1
            }
            parts.append((t.name, rows, sum))
        }
        return combine(version: version, tables: parts)
    }
}
