import Foundation
import GRDB
import GRDBSQLite
import GlossModel

/// The projection digest (Protocol/04-projections.md §Digest): for each documented table, the sum
/// modulo 2^256 of the SHA-256 of each row's typed values. Triggers report every row change to the
/// SQL function `gloss_digest(sign, table, values…)`, implemented here on the C API; the changes of
/// a transaction accumulate in memory and are written to `projection_digest` once, just before it
/// commits. Sums do not depend on the order rows were written in, so equal sets of events give equal
/// digests whatever order they arrived in, and `gloss status` reads the digest instantly.
public enum ProjectionDigest {
    /// Per-connection accumulation of one transaction's row changes.
    final class Accumulator {
        /// The connection's apply window (kept here: one per connection, for its life).
        let window = ApplyWindow()
        var tables: [String: (rows: Int64, sum: [UInt8])] = [:]
        func add(_ table: String, _ hash: Bytes32, sign: Int64) {
            var t = tables[table] ?? (0, [UInt8](repeating: 0, count: 32))
            t.rows += sign
            t.sum = ProjectionDigest.add(t.sum, hash.bytes, subtract: sign < 0)
            tables[table] = t
        }
    }

    /// Accumulators by connection. Writes to one database go through one connection at a time.
    nonisolated(unsafe) private static var accumulators: [UnsafeMutableRawPointer: Accumulator] = [:]
    private static let lock = NSLock()

    static func accumulator(_ db: Database) -> Accumulator? {
        guard let c = db.sqliteConnection else { return nil }
        lock.lock(); defer { lock.unlock() }
        return accumulators[UnsafeMutableRawPointer(c)]
    }

    /// Registers `gloss_digest` on one connection.
    public static func registerFunctions(_ db: Database) {
        guard let conn = db.sqliteConnection else { return }
        let acc = Accumulator()
        lock.lock(); accumulators[UnsafeMutableRawPointer(conn)] = acc; lock.unlock()
        sqlite3_create_function_v2(conn, "gloss_digest", -1, SQLITE_UTF8, Unmanaged.passUnretained(acc).toOpaque(), { ctx, argc, argv in
            guard let ctx, let argv, argc >= 2 else { return }
            let acc = Unmanaged<Accumulator>.fromOpaque(sqlite3_user_data(ctx)!).takeUnretainedValue()
            let sign = sqlite3_value_int64(argv[0]!)
            let table = String(cString: sqlite3_value_text(argv[1]!))
            var w = ByteWriter(capacity: 256)
            for i in 1..<Int(argc) { ProjectionDigest.encode(argv[i]!, &w) }
            acc.add(table, Bytes32.sha256(w.bytes), sign: sign)
            sqlite3_result_null(ctx)
        }, nil, nil, { p in
            // The connection closed: forget its accumulator.
            guard let p else { return }
            ProjectionDigest.lock.lock()
            ProjectionDigest.accumulators = ProjectionDigest.accumulators.filter { Unmanaged.passUnretained($0.value).toOpaque() != p }
            ProjectionDigest.lock.unlock()
        })
    }

    /// Typed encoding of one SQLite value (the same as `rowHash`).
    static func encode(_ v: OpaquePointer, _ w: inout ByteWriter) {
        switch sqlite3_value_type(v) {
        case SQLITE_NULL: w.u8(0)
        case SQLITE_INTEGER: w.u8(1); w.u64(UInt64(bitPattern: sqlite3_value_int64(v)))
        case SQLITE_FLOAT: w.u8(2); w.u64(sqlite3_value_double(v).bitPattern)
        case SQLITE_TEXT:
            let n = Int(sqlite3_value_bytes(v))
            w.u8(3); w.u32(UInt32(n))
            if n > 0, let p = sqlite3_value_text(v) { w.raw(UnsafeBufferPointer(start: p, count: n)) }
        default:
            let n = Int(sqlite3_value_bytes(v))
            w.u8(4); w.u32(UInt32(n))
            if n > 0, let p = sqlite3_value_blob(v) { w.raw(UnsafeRawBufferPointer(start: p, count: n)) }
        }
    }

    /// Writes the transaction's accumulated changes into `projection_digest` (before commit).
    static func flush(_ db: Database) throws {
        guard let acc = accumulator(db), !acc.tables.isEmpty else { return }
        for (table, delta) in acc.tables {
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT rows, sum FROM projection_digest WHERE tbl = ?"), arguments: [table])
            let sum = add((row?[1] as Data?).map { Array($0) } ?? [UInt8](repeating: 0, count: 32), delta.sum, subtract: false)
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO projection_digest(tbl, rows, sum) VALUES (?, ?, ?)")
                .execute(arguments: [table, (row?[0] as Int64? ?? 0) + delta.rows, Data(sum)])
        }
        acc.tables.removeAll(keepingCapacity: true)
    }

    static func discard(_ db: Database) {
        accumulator(db)?.tables.removeAll(keepingCapacity: true)
    }

    /// SHA-256 over the typed encoding of (table name, values…) (Protocol/04-projections.md §Digest).
    public static func rowHash(_ values: [DatabaseValue]) -> Bytes32 {
        var w = ByteWriter(capacity: 256)
        for v in values {
            switch v.storage {
            case .null: w.u8(0)
            case .int64(let i): w.u8(1); w.u64(UInt64(bitPattern: i))
            case .double(let d): w.u8(2); w.u64(d.bitPattern)
            case .string(let s): w.u8(3); w.u32(UInt32(s.utf8.count)); w.raw(s.utf8)
            case .blob(let b): w.u8(4); w.u32(UInt32(b.count)); w.raw(b)
            }
        }
        return Bytes32.sha256(w.bytes)
    }

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

    /// SQL creating the digest table and the triggers that report row changes for `tables`.
    static func triggerSQL(_ db: Database, tables: [(name: String, key: String)]) throws -> String {
        var sql = "CREATE TABLE IF NOT EXISTS projection_digest(tbl TEXT PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, sum BLOB NOT NULL);\n"
        for t in tables {
            let cols = try db.columns(in: t.name).map(\.name)
            let new = cols.map { "NEW.\"\($0)\"" }.joined(separator: ", ")
            let old = cols.map { "OLD.\"\($0)\"" }.joined(separator: ", ")
            let n = t.name
            sql += """
                CREATE TRIGGER IF NOT EXISTS \(n)_digest_insert AFTER INSERT ON \(n) BEGIN
                  SELECT gloss_digest(1, '\(n)', \(new));
                END;
                CREATE TRIGGER IF NOT EXISTS \(n)_digest_delete AFTER DELETE ON \(n) BEGIN
                  SELECT gloss_digest(-1, '\(n)', \(old));
                END;
                CREATE TRIGGER IF NOT EXISTS \(n)_digest_update AFTER UPDATE ON \(n) BEGIN
                  SELECT gloss_digest(-1, '\(n)', \(old)); SELECT gloss_digest(1, '\(n)', \(new));
                END;

                """
        }
        return sql
    }

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
            let cols = try db.columns(in: t.name).map(\.name)
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(cols.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(t.name) ORDER BY \(t.key)")
            while let row = try cursor.next() {
                let values = [t.name.databaseValue] + (0..<row.count).map { row[$0] as DatabaseValue }
                sum = add(sum, rowHash(values).bytes, subtract: false)
                rows += 1
            }
            parts.append((t.name, rows, sum))
        }
        return combine(version: version, tables: parts)
    }
}
