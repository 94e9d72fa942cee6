import Foundation
import GRDBSQLite

/// The raw-SQLite baseline of `gloss bench`: the same rows written into the same tables, with the
/// same PRAGMAs and the same batch size, through the SQLite C API with prepared statements and
/// nothing of Gloss's logic (no decoding, no verification, no projection code, no triggers).
///
/// It copies the rows a Gloss run left in a replica database (every table, or only the projection
/// tables) into a fresh database with the same schema. Each batch is read into memory first, then
/// written and timed: `BEGIN IMMEDIATE`, one `INSERT` per row (rowid tables keep their rowids, in
/// rowid order — the order Gloss inserted them), `COMMIT`. Tables are written one after another;
/// WITHOUT ROWID tables in key order, which favours the baseline.
public enum RawReplay {
    public struct Result: Sendable {
        public var rows = 0
        public var transactions = 0
        /// Time spent writing (reading the source is not counted).
        public var seconds = 0.0
        /// Time reading the source rows into memory (not part of `seconds`).
        public var readSeconds = 0.0
        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    /// Tables of the log and the replica's bookkeeping: not written by a projection rebuild.
    public static let logTables: Set<String> = ["meta", "feeds", "events", "event_deps", "pending", "quarantine", "forks",
                                                "peers", "peer_acks", "grdb_migrations"]

    enum Value {
        case null, int(Int64), real(Double), text([UInt8]), blob([UInt8])
    }

    struct Table {
        var name: String
        var select: OpaquePointer
        var insert: OpaquePointer
        var columns: Int32
    }

    /// Copies the rows of `source` into a new database at `destination` (which must not exist).
    /// `include` picks the tables; `batchRows` rows per transaction (0: one transaction);
    /// `synchronous` as the replica uses (`FULL`).
    public static func run(source: String, destination: String, include: (String) -> Bool, batchRows: Int,
                           synchronous: String = "FULL") throws -> Result {
        var src: OpaquePointer?, dst: OpaquePointer?
        guard sqlite3_open_v2(source, &src, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { throw failure(src, "open \(source)") }
        defer { sqlite3_close_v2(src) }
        guard sqlite3_open_v2(destination, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else { throw failure(dst, "open \(destination)") }
        defer { sqlite3_close_v2(dst) }
        try exec(dst, "PRAGMA journal_mode = WAL; PRAGMA synchronous = \(synchronous); PRAGMA cache_size = -\(ReplicaStore.cacheKiB)")

        // Schema: tables (virtual ones included, their shadow tables left to them) and indexes; no
        // triggers (they are Gloss's logic: the digest) and no views.
        let schema = try query(src, "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
        let virtualTables = Self.virtualTables(schema.map { ($0[1], $0[2]) })
        func isShadow(_ name: String) -> Bool { Self.isShadow(name, of: virtualTables) }
        var tables: [String] = []
        for row in schema where row[0] == "table" {
            guard let name = row[1], let sql = row[2], !name.hasPrefix("sqlite_"), !isShadow(name) else { continue }
            try exec(dst, sql)
            if include(name) { tables.append(name) }
        }
        for row in schema where row[0] == "index" {
            guard let sql = row[2], let name = row[1], !isShadow(name) else { continue }
            try exec(dst, sql)
        }

        var prepared: [Table] = []
        defer { for t in prepared { sqlite3_finalize(t.select); sqlite3_finalize(t.insert) } }
        for name in tables {
            let columns = try query(src, "SELECT name FROM pragma_table_info('\(name)')").compactMap { $0[0] }
            let quoted = columns.map { "\"\($0)\"" }
            var select: OpaquePointer?
            var withRowid = sqlite3_prepare_v2(src, "SELECT rowid, \(quoted.joined(separator: ", ")) FROM \"\(name)\" ORDER BY rowid", -1, &select, nil) == SQLITE_OK
            if !withRowid {
                sqlite3_finalize(select); select = nil
                guard sqlite3_prepare_v2(src, "SELECT \(quoted.joined(separator: ", ")) FROM \"\(name)\"", -1, &select, nil) == SQLITE_OK else { throw failure(src, "select \(name)") }
            }
            if withRowid && virtualTables.contains(name) == false {
                // An INTEGER PRIMARY KEY is the rowid itself: select it once.
                let ipk = try query(src, "SELECT count(*) FROM pragma_table_info('\(name)') WHERE pk = 1 AND upper(type) = 'INTEGER' AND (SELECT count(*) FROM pragma_table_info('\(name)') WHERE pk > 0) = 1")
                if ipk.first?[0] == "1" {
                    sqlite3_finalize(select); select = nil; withRowid = false
                    guard sqlite3_prepare_v2(src, "SELECT \(quoted.joined(separator: ", ")) FROM \"\(name)\" ORDER BY rowid", -1, &select, nil) == SQLITE_OK else { throw failure(src, "select \(name)") }
                }
            }
            let names = (withRowid ? ["rowid"] : []) + quoted
            var insert: OpaquePointer?
            let sql = "INSERT INTO \"\(name)\"(\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))"
            guard sqlite3_prepare_v2(dst, sql, -1, &insert, nil) == SQLITE_OK else { sqlite3_finalize(select); throw failure(dst, sql) }
            prepared.append(Table(name: name, select: select!, insert: insert!, columns: Int32(names.count)))
        }

        var result = Result()
        var batch: [(Int, [Value])] = []
        var table = 0
        // One transaction (batchRows 0) is still read in chunks, to keep memory flat.
        let single = batchRows <= 0
        let limit = single ? 65_536 : batchRows
        if single {
            let t = DispatchTime.now().uptimeNanoseconds
            try exec(dst, "BEGIN IMMEDIATE")
            result.seconds += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
        }
        while table < prepared.count {
            // Read one batch (untimed).
            let r0 = DispatchTime.now().uptimeNanoseconds
            batch.removeAll(keepingCapacity: true)
            while batch.count < limit && table < prepared.count {
                let t = prepared[table]
                let rc = sqlite3_step(t.select)
                if rc == SQLITE_DONE { table += 1; continue }
                guard rc == SQLITE_ROW else { throw failure(src, "read \(t.name)") }
                batch.append((table, (0..<t.columns).map { column(t.select, $0) }))
            }
            let r1 = DispatchTime.now().uptimeNanoseconds
            result.readSeconds += Double(r1 - r0) / 1e9
            if batch.isEmpty { break }
            // Write it (timed).
            if !single { try exec(dst, "BEGIN IMMEDIATE") }
            for (ti, values) in batch {
                let stmt = prepared[ti].insert
                for (k, v) in values.enumerated() { bind(stmt, Int32(k + 1), v) }
                guard sqlite3_step(stmt) == SQLITE_DONE else { throw failure(dst, "insert into \(prepared[ti].name)") }
                sqlite3_reset(stmt)
            }
            if !single { try exec(dst, "COMMIT"); result.transactions += 1 }
            result.seconds += Double(DispatchTime.now().uptimeNanoseconds - r1) / 1e9
            result.rows += batch.count
        }
        if single {
            let t = DispatchTime.now().uptimeNanoseconds
            try exec(dst, "COMMIT")
            result.seconds += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            result.transactions = 1
        }
        return result
    }

    /// Rows in the tables `include` picks (FTS shadow tables and SQLite's own excluded).
    public static func countRows(source: String, include: (String) -> Bool) throws -> Int {
        var src: OpaquePointer?
        guard sqlite3_open_v2(source, &src, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { throw failure(src, "open \(source)") }
        defer { sqlite3_close_v2(src) }
        let schema = try query(src, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL ORDER BY rowid")
        let virtualTables = Self.virtualTables(schema.map { ($0[0], $0[1]) })
        var n = 0
        for row in schema {
            guard let name = row[0], !name.hasPrefix("sqlite_"), include(name), !isShadow(name, of: virtualTables) else { continue }
            n += Int(try query(src, "SELECT count(*) FROM \"\(name)\"").first?[0] ?? "0") ?? 0
        }
        return n
    }

    /// Reads every event's envelope and payload in local order (the raw part of a rebuild or an
    /// export), writing them length-prefixed to `output` when given (then fsynced). Returns the
    /// number of events, bytes and seconds.
    public static func scanEvents(source: String, output: String?) throws -> (events: Int, bytes: Int, seconds: Double) {
        var src: OpaquePointer?
        guard sqlite3_open_v2(source, &src, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { throw failure(src, "open \(source)") }
        defer { sqlite3_close_v2(src) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(src, "SELECT envelope, payload FROM events ORDER BY pos", -1, &stmt, nil) == SQLITE_OK else { throw failure(src, "select events") }
        defer { sqlite3_finalize(stmt) }
        let file = output.map { fopen($0, "w") } ?? nil
        var events = 0, bytes = 0
        var buffer = [UInt8](repeating: 0, count: 8)
        while sqlite3_step(stmt) == SQLITE_ROW {
            for c in Int32(0)...1 {
                let n = Int(sqlite3_column_bytes(stmt, c))
                if let file, let p = sqlite3_column_blob(stmt, c) {
                    var len = UInt32(n).bigEndian
                    withUnsafeBytes(of: &len) { _ = fwrite($0.baseAddress, 1, 4, file) }
                    fwrite(p, 1, n, file)
                } else if let p = sqlite3_column_blob(stmt, c) {
                    buffer[c == 0 ? 0 : 1] &+= p.load(as: UInt8.self)  // touch the bytes
                }
                bytes += n + 4
            }
            events += 1
        }
        if let file { fflush(file); fsync(fileno(file)); fclose(file) }
        return (events, bytes, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }

    /// Durable single-row transactions: `BEGIN IMMEDIATE; INSERT one events row; COMMIT` on a copy of
    /// the events table, `count` times (the raw floor under a local edit's latency). Returns each
    /// transaction's duration in seconds.
    public static func singleRowCommits(destination: String, count: Int, synchronous: String) throws -> [Double] {
        var dst: OpaquePointer?
        guard sqlite3_open_v2(destination, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else { throw failure(dst, "open \(destination)") }
        defer { sqlite3_close_v2(dst) }
        try exec(dst, "PRAGMA journal_mode = WAL; PRAGMA synchronous = \(synchronous); PRAGMA cache_size = -\(ReplicaStore.cacheKiB)")
        try exec(dst, """
            CREATE TABLE IF NOT EXISTS events(pos INTEGER PRIMARY KEY, id BLOB NOT NULL, feed INTEGER NOT NULL, seq INTEGER NOT NULL,
              time INTEGER NOT NULL, type TEXT NOT NULL, author TEXT NOT NULL, envelope BLOB NOT NULL, payload BLOB, UNIQUE(feed, seq));
            CREATE INDEX IF NOT EXISTS events_time ON events(time);
            CREATE INDEX IF NOT EXISTS events_id ON events(\(ShortID.key("id")));
            """)
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(dst, "INSERT INTO events(id, feed, seq, time, type, author, envelope, payload) VALUES (randomblob(32), 1, ?, ?, 'NoteEdited', 'bench', zeroblob(330), zeroblob(160))", -1, &stmt, nil) == SQLITE_OK else { throw failure(dst, "prepare") }
        defer { sqlite3_finalize(stmt) }
        let base = Int64(sqlite3_last_insert_rowid(dst)) + Int64(Date().timeIntervalSince1970 * 1000)
        var out: [Double] = []
        // Warm up past the first WAL checkpoint, so the WAL file is reused as in a replica in use.
        let warm = 500
        for i in -warm..<count {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try exec(dst, "BEGIN IMMEDIATE")
            sqlite3_bind_int64(stmt, 1, base + Int64(i + warm)); sqlite3_bind_int64(stmt, 2, base + Int64(i + warm))
            guard sqlite3_step(stmt) == SQLITE_DONE else { throw failure(dst, "insert") }
            sqlite3_reset(stmt)
            try exec(dst, "COMMIT")
            if i >= 0 { out.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
        return out
    }

    // MARK: Helpers

    /// The virtual tables among `(name, sql)` schema rows.
    private static func virtualTables(_ schema: [(String?, String?)]) -> [String] {
        schema.filter { ($0.1 ?? "").uppercased().hasPrefix("CREATE VIRTUAL TABLE") }.compactMap(\.0)
    }

    /// Whether `name` is a shadow table a virtual table keeps for itself (`search_data`, …).
    private static func isShadow(_ name: String, of virtualTables: [String]) -> Bool {
        virtualTables.contains { name != $0 && name.hasPrefix($0 + "_") }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func column(_ s: OpaquePointer, _ i: Int32) -> Value {
        switch sqlite3_column_type(s, i) {
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(s, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(s, i))
        case SQLITE_TEXT:
            let n = Int(sqlite3_column_bytes(s, i))
            guard let p = sqlite3_column_text(s, i) else { return .text([]) }
            return .text(Array(UnsafeBufferPointer(start: p, count: n)))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(s, i))
            guard n > 0, let p = sqlite3_column_blob(s, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    /// Binds without copying where the value outlives the step (the batch holds it): SQLITE_STATIC
    /// would be unsafe with Swift arrays' temporary pointers, so text and blobs are bound transient,
    /// which is what GRDB and any careful C caller does with buffers it does not own.
    private static func bind(_ s: OpaquePointer, _ i: Int32, _ v: Value) {
        switch v {
        case .null: sqlite3_bind_null(s, i)
        case .int(let x): sqlite3_bind_int64(s, i, x)
        case .real(let x): sqlite3_bind_double(s, i, x)
        case .text(let b): b.withUnsafeBufferPointer { p in _ = sqlite3_bind_text(s, i, UnsafeRawPointer(p.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self), Int32(b.count), transient) }
        case .blob(let b): b.withUnsafeBytes { p in _ = sqlite3_bind_blob(s, i, p.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(b.count), transient) }
        }
    }

    private static func exec(_ db: OpaquePointer?, _ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw failure(db, String(sql.prefix(80))) }
    }

    private static func query(_ db: OpaquePointer?, _ sql: String) throws -> [[String?]] {
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &s, nil) == SQLITE_OK else { throw failure(db, sql) }
        defer { sqlite3_finalize(s) }
        var rows: [[String?]] = []
        while sqlite3_step(s) == SQLITE_ROW {
            rows.append((0..<sqlite3_column_count(s)).map { i in sqlite3_column_text(s, i).map { String(cString: $0) } })
        }
        return rows
    }

    private static func failure(_ db: OpaquePointer?, _ what: String) -> StoreError {
        StoreError(.corrupt, "raw baseline: \(what): \(db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open")")
    }
}
