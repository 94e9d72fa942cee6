import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
import GlossStore
import NIOCore
import PostgresNIO

/// The write-through link between a hub process's local SQLite cache and the shared PostgreSQL
/// database (Protocol/12-hub.md). The unchanged engine applies, judges and projects on the cache;
/// this writes each transaction's net row changes to PostgreSQL and catches the cache up with what
/// other hub processes wrote:
///
/// - `begin` (right after SQLite's `BEGIN IMMEDIATE`): PostgreSQL `BEGIN`, the database-wide
///   advisory lock (hub processes serialize their writes there), then the changelog rows above the
///   cache's mark are applied raw to the cache (no consumer of the row-change hook sees them: the
///   digest rows travel in the changelog);
/// - the engine writes; the row-change hook's recorder keeps the net change per primary key;
/// - `commit` (after the projector's flush, before SQLite commits): delete by key and insert the
///   final rows in PostgreSQL, append the encoded changes to `hub_changes`, `COMMIT`; then the
///   cache records the new mark and SQLite commits. A crash between the two commits leaves the
///   cache behind, and the next catch-up repairs it; a PostgreSQL failure rolls SQLite back.
public final class HubStore: WriteThrough, @unchecked Sendable {
    // @unchecked: the per-transaction state is only touched inside the SQLite write transaction
    // (one at a time: the SQLite writer serializes them); `markValue` is under `lock`.
    let url: HubURL
    let schema: HubSchema
    let writer: PGConnection
    let reader: PGConnection
    let byName: [String: Int]
    var hubID: [UInt8] = []
    /// Off while the cache is opened and bootstrapped: writes stay local.
    var active = false
    private var inTransaction = false
    private var net: [[[RowValue]: NetRow]]
    private let lock = NSLock()
    private var markValue: Int64 = 0
    /// Refreshes and catch-ups done (for tests and the log).
    public private(set) var caughtUpTransactions = 0
    /// Where a hub's write time goes (for `gloss bench hub`): seconds in `begin` (lock and
    /// catch-up) and in `commit` (rows and changelog written, PostgreSQL commit), rows written.
    public struct Stats: Sendable {
        public var beginSeconds = 0.0, commitSeconds = 0.0, rowsDeleted = 0, rowsInserted = 0, changelogBytes = 0, transactions = 0
        public init() {}
    }
    public private(set) var stats = Stats()

    /// `GLOSS_HUB_TEST_KILL=after-postgres-commit`: SIGKILL itself right after the PostgreSQL commit
    /// of the first transaction that stores events, before SQLite commits (tests only).
    static let killAfterEventsCommit = ProcessInfo.processInfo.environment["GLOSS_HUB_TEST_KILL"] == "after-postgres-commit"

    /// The key of `pg_advisory_xact_lock` that hub processes take around every write.
    static let lockKey: Int64 = 0x676C6F7373687562  // "glosshub"

    struct NetRow {
        var existed: Bool
        var original: [RowValue]?
        var final: [RowValue]?
    }

    init(url: HubURL, schema: HubSchema) {
        self.url = url
        self.schema = schema
        writer = PGConnection(url)
        reader = PGConnection(url)
        byName = Dictionary(uniqueKeysWithValues: schema.tables.enumerated().map { ($1.name, $0) })
        net = Array(repeating: [:], count: schema.tables.count)
    }

    var mark: Int64 {
        get { lock.withLock { markValue } }
        set { lock.withLock { markValue = newValue } }
    }

    // MARK: WriteThrough

    public func begin(_ db: Database) throws {
        guard active else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { stats.beginSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        do {
            try writer.query("BEGIN")
            inTransaction = true
            try writer.query("SELECT pg_advisory_xact_lock(\(HubStore.lockKey))")
            try catchUp(db)
        } catch {
            abandon()
            throw wrap(error)
        }
        guard let hook = RowChangeHook.of(db) else { throw GlossError(.internalError, "the cache connection has no row-change hook") }
        for i in net.indices { net[i].removeAll(keepingCapacity: true) }
        hook.recorder = { [unowned self] change in self.record(change) }
    }

    public func commit(_ db: Database) throws {
        guard active, inTransaction else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { stats.commitSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9; stats.transactions += 1 }
        RowChangeHook.of(db)?.recorder = nil
        var deletes: [[[RowValue]]] = Array(repeating: [], count: schema.tables.count)
        var inserts: [[[RowValue]]] = Array(repeating: [], count: schema.tables.count)
        var any = false
        for (t, rows) in net.enumerated() {
            for (key, n) in rows {
                if n.existed && n.final == n.original { continue }
                if n.existed { deletes[t].append(key); any = true }
                if let f = n.final { inserts[t].append(f); any = true }
            }
        }
        for i in net.indices { net[i].removeAll(keepingCapacity: true) }
        do {
            if any {
                for (t, keys) in deletes.enumerated() where !keys.isEmpty { try deleteRows(schema.tables[t], keys) }
                for (t, rows) in inserts.enumerated() where !rows.isEmpty { try insertRows(schema.tables[t], rows) }
                let encoded = encode(deletes: deletes, inserts: inserts)
                stats.rowsDeleted += deletes.reduce(0) { $0 + $1.count }
                stats.rowsInserted += inserts.reduce(0) { $0 + $1.count }
                stats.changelogBytes += encoded.count
                var binds = PostgresBindings()
                binds.append(ByteBuffer(bytes: hubID))
                binds.append(ByteBuffer(bytes: encoded))
                let rows = try writer.query("INSERT INTO hub_changes(hub, changes) VALUES ($1, $2) RETURNING serial", binds)
                guard let serial = try rows.first.map({ try Array($0)[0].decode(Int64.self) }) else {
                    throw GlossError(.internalError, "the hub database returned no changelog serial")
                }
                try writer.query("COMMIT")
                inTransaction = false
                if HubStore.killAfterEventsCommit && !inserts[byName["events"] ?? 0].isEmpty {
                    // Fault injection for the tests (GLOSS_HUB_TEST_KILL=after-postgres-commit): the
                    // process dies between the two commits, the one window a crash leaves the cache behind.
                    kill(getpid(), SIGKILL)
                }
                try setMark(serial, db)
            } else {
                try writer.query("COMMIT")
                inTransaction = false
            }
        } catch {
            abandon()
            throw wrap(error)
        }
    }

    public func rollback(_ db: Database) {
        RowChangeHook.of(db)?.recorder = nil
        for i in net.indices { net[i].removeAll(keepingCapacity: true) }
        if inTransaction {
            do { try writer.query("ROLLBACK") } catch { writer.reset() }
            inTransaction = false
        }
    }

    /// A rebuild drops the projection tables, which no row hook sees: their rows are deleted
    /// first, so the recorder knows every row that existed (and the database loses them too).
    public func willRebuildProjections(_ db: Database) throws {
        guard active, inTransaction else { return }
        for t in schema.tables where schema.projectionTables.contains(t.name) {
            if try db.tableExists(t.name) { try db.execute(sql: "DELETE FROM \(HubSchema.quote(t.name))") }
        }
    }

    public func refresh(_ store: ReplicaStore) throws {
        guard active else { return }
        let latest: Int64
        do {
            latest = try reader.query("SELECT coalesce(max(serial), 0) FROM hub_changes").first.map { try Array($0)[0].decode(Int64.self) } ?? 0
        } catch { throw wrap(error) }
        if latest > mark { try store.write { _ in } }
    }

    /// A failure inside the PostgreSQL transaction: roll it back (or drop the connection).
    private func abandon() {
        if inTransaction {
            do { try writer.query("ROLLBACK") } catch { writer.reset() }
            inTransaction = false
        }
    }

    private func wrap(_ error: any Error) -> any Error {
        if error is GlossError { return error }
        if let e = error as? HubError {
            return GlossError(e.connectionLost ? .connectionFailed : .internalError, "the hub database \(url) failed: \(e.message)")
        }
        return error
    }

    // MARK: Recording

    private func record(_ change: RowChange) {
        guard let t = byName[change.table] else { return }
        let table = schema.tables[t]
        if table.name == "meta", case .text(let k) = (change.new ?? change.old)?.first, HubSchema.localMetaKeys.contains(k) { return }
        if let old = change.old {
            let k = table.keyOf(old)
            if net[t][k] == nil { net[t][k] = NetRow(existed: true, original: old, final: nil) } else { net[t][k]!.final = nil }
        }
        if let new = change.new {
            let k = table.keyOf(new)
            if net[t][k] == nil { net[t][k] = NetRow(existed: false, original: nil, final: new) } else { net[t][k]!.final = new }
        }
    }

    // MARK: Writing PostgreSQL

    static func bind(_ v: RowValue, _ kind: ColumnKind, _ b: inout PostgresBindings, table: String, column: String) throws {
        switch (kind, v) {
        case (.tagged, _):
            var out: [UInt8] = []
            TypedValue.encode(v, &out)
            b.append(ByteBuffer(bytes: out))
        case (_, .null): b.appendNull()
        case (.bigint, .integer(let i)): b.append(i)
        case (.text, .text(let s)): b.append(PGText.encode(s))
        case (.bytea, .blob(let x)): b.append(ByteBuffer(bytes: x))
        case (.double, .real(let d)): b.append(d)
        default:
            throw GlossError(.internalError, "\(table).\(column) holds \(v) where the hub schema expects \(kind.sql); the row cannot be written through")
        }
    }

    /// Rows per statement, so a statement's parameters stay well under PostgreSQL's 65,535.
    private func chunks<T>(_ items: [T], width: Int) -> [ArraySlice<T>] {
        let per = max(1, min(1000, 30_000 / max(1, width)))
        return stride(from: 0, to: items.count, by: per).map { items[$0..<min(items.count, $0 + per)] }
    }

    private func deleteRows(_ t: HubTable, _ keys: [[RowValue]]) throws {
        let keyCols = t.key.map { t.columns[$0] }
        for part in chunks(keys, width: keyCols.count) {
            var binds = PostgresBindings()
            var tuples: [String] = []
            var n = 0
            for k in part {
                var ps: [String] = []
                for (i, c) in keyCols.enumerated() {
                    n += 1
                    ps.append("$\(n)::\(c.kind.sql)")
                    try HubStore.bind(k[i], c.kind, &binds, table: t.name, column: c.name)
                }
                tuples.append(keyCols.count == 1 ? ps[0] : "(\(ps.joined(separator: ", ")))")
            }
            let target = keyCols.count == 1 ? HubSchema.quote(keyCols[0].name) : "(\(keyCols.map { HubSchema.quote($0.name) }.joined(separator: ", ")))"
            try writer.query("DELETE FROM \(HubSchema.quote(t.name)) WHERE \(target) IN (\(tuples.joined(separator: ", ")))", binds)
        }
    }

    /// The text of a multi-row INSERT of `rows` rows into `t` (the same for every full chunk: cached).
    private var insertSQL: [String: String] = [:]
    private let insertSQLLock = NSLock()

    private func insertStatement(_ t: HubTable, rows: Int) -> String {
        let key = "\(t.name)/\(rows)"
        if let s = insertSQLLock.withLock({ insertSQL[key] }) { return s }
        var tuples: [String] = []
        tuples.reserveCapacity(rows)
        var n = 0
        for _ in 0..<rows {
            var ps: [String] = []
            for c in t.columns { n += 1; ps.append("$\(n)::\(c.kind.sql)") }
            tuples.append("(\(ps.joined(separator: ", ")))")
        }
        let sql = "INSERT INTO \(HubSchema.quote(t.name)) (\(t.columns.map { HubSchema.quote($0.name) }.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))"
        insertSQLLock.withLock { insertSQL[key] = sql }
        return sql
    }

    func insertRows(_ t: HubTable, _ rows: [[RowValue]], on connection: PGConnection? = nil) throws {
        for part in chunks(rows, width: t.columns.count) {
            var binds = PostgresBindings(capacity: part.count * t.columns.count)
            for row in part {
                for (i, c) in t.columns.enumerated() {
                    try HubStore.bind(row[i], c.kind, &binds, table: t.name, column: c.name)
                }
            }
            try (connection ?? writer).query(insertStatement(t, rows: part.count), binds)
        }
    }

    // MARK: The changelog

    /// One committed transaction's net changes: per table (u32 count), the name (u32 length,
    /// UTF-8), the deleted keys (u32 count, key values) and the final rows (u32 count, values),
    /// each value in the typed encoding.
    func encode(deletes: [[[RowValue]]], inserts: [[[RowValue]]]) -> [UInt8] {
        var out: [UInt8] = []
        let touched = schema.tables.indices.filter { !deletes[$0].isEmpty || !inserts[$0].isEmpty }
        TypedValue.u32(UInt32(touched.count), &out)
        for t in touched {
            let name = schema.tables[t].name
            TypedValue.u32(UInt32(name.utf8.count), &out); out.append(contentsOf: name.utf8)
            TypedValue.u32(UInt32(deletes[t].count), &out)
            for k in deletes[t] { for v in k { TypedValue.encode(v, &out) } }
            TypedValue.u32(UInt32(inserts[t].count), &out)
            for r in inserts[t] { for v in r { TypedValue.encode(v, &out) } }
        }
        return out
    }

    func decode(_ bytes: [UInt8]) throws -> [(table: Int, deletes: [[RowValue]], inserts: [[RowValue]])] {
        var r = TypedValue.Reader(bytes)
        var out: [(Int, [[RowValue]], [[RowValue]])] = []
        for _ in 0..<(try r.u32()) {
            let name = String(decoding: try r.take(Int(try r.u32())), as: UTF8.self)
            guard let t = byName[name] else { throw GlossError(.internalError, "the hub changelog names a table this build does not know: \(name)") }
            let table = schema.tables[t]
            var dels: [[RowValue]] = [], ins: [[RowValue]] = []
            for _ in 0..<(try r.u32()) { dels.append(try table.key.map { _ in try r.value() }) }
            for _ in 0..<(try r.u32()) { ins.append(try table.columns.map { _ in try r.value() }) }
            out.append((t, dels, ins))
        }
        guard r.atEnd else { throw GlossError(.internalError, "a hub changelog entry holds trailing bytes") }
        return out
    }

    // MARK: Catch-up

    /// Applies the changelog entries above the cache's mark, raw, in order. When the changelog was
    /// pruned past the mark (`hub_meta.pruned_through`, `gloss hub prune`), what the cache missed
    /// is gone: it copies the database again instead (a bootstrap, under the lock this transaction
    /// holds). Both are read in one round trip: a row of serial −1 says the changelog was pruned past the mark.
    func catchUp(_ db: Database) throws {
        var from = try currentMark(db)
        var applied = false
        while true {
            var binds = PostgresBindings()
            binds.append(from)
            let rows = try writer.query("""
                SELECT -1::bigint, NULL::bytea FROM hub_meta WHERE key = 'pruned_through' AND value::bigint > $1
                UNION ALL (SELECT serial, changes FROM hub_changes WHERE serial > $1 ORDER BY serial LIMIT 4)
                ORDER BY 1
                """, binds)
            if rows.isEmpty { break }
            if let first = rows.first, try Array(first)[0].decode(Int64.self) == -1 {
                let id = try String.fetchOne(db, sql: "SELECT value FROM \(HubSchema.cacheTable) WHERE key = 'database'") ?? ""
                try bootstrap(db, databaseID: id, on: writer)
                from = mark
                applied = true
                continue
            }
            guard let hook = RowChangeHook.of(db) else { throw GlossError(.internalError, "the cache connection has no row-change hook") }
            hook.suspended = true
            defer { hook.suspended = false }
            try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
            for row in rows {
                let cells = Array(row)
                let serial = try cells[0].decode(Int64.self)
                let changes = try decode(Array(buffer: try cells[1].decode(ByteBuffer.self)))
                try applyRaw(changes, db)
                from = serial
            }
            applied = true
        }
        if applied {
            try setMark(from, db)
            caughtUpTransactions += 1
        } else {
            mark = from   // (another process sharing this cache may have moved it)
        }
    }

    /// Marks a row whose table the full-text index reads stale (Protocol/04 §Full-text index), with
    /// the text the index holds for it: the index is each cache's own, so rows a catch-up changes
    /// are reindexed. Before the row changes (and again after it is written). By the table's key:
    /// `notes` and `annotations` are keyed by position (the hub's, which every cache shares) — a
    /// lookup by id with the key's value marked nothing, and their caught-up rows went unindexed.
    private func markSearch(_ t: HubTable, _ key: [RowValue], _ db: Database) throws {
        guard key.count == 1, let sql = SearchIndex.markSQL(t.name, where: "t.\(HubSchema.quote(t.columns[t.key[0]].name)) = ?") else { return }
        try db.cachedStatement(sql: sql).execute(arguments: [HubSchema.databaseValue(key[0])])
    }

    /// `reindex`: mark the rows the full-text index reads (not during a bootstrap, which reindexes
    /// everything once the tables are copied).
    func applyRaw(_ changes: [(table: Int, deletes: [[RowValue]], inserts: [[RowValue]])], reindex: Bool = true, _ db: Database) throws {
        for c in changes {
            let t = schema.tables[c.table]
            let keyCols = t.key.map { HubSchema.quote(t.columns[$0].name) }
            let inserted = Set(c.inserts.map { t.keyOf($0) })
            let del = try db.cachedStatement(sql: "DELETE FROM \(HubSchema.quote(t.name)) WHERE \(keyCols.map { "\($0) = ?" }.joined(separator: " AND "))")
            for k in c.deletes where !inserted.contains(k) {
                if reindex { try markSearch(t, k, db) }
                try del.execute(arguments: StatementArguments(k.map(HubSchema.databaseValue)))
            }
            let cols = t.columns.map { HubSchema.quote($0.name) }
            let others = t.columns.indices.filter { !t.key.contains($0) }.map { cols[$0] }
            let conflict = others.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + others.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO \(HubSchema.quote(t.name)) (\(cols.joined(separator: ", "))) VALUES (\(cols.map { _ in "?" }.joined(separator: ", ")))
                ON CONFLICT (\(keyCols.joined(separator: ", "))) \(conflict)
                """)
            for row in c.inserts {
                if t.name == "meta", case .text(let k) = row[0], HubSchema.localMetaKeys.contains(k) { continue }
                if reindex { try markSearch(t, t.keyOf(row), db) }
                try upsert.execute(arguments: StatementArguments(row.map(HubSchema.databaseValue)))
                if reindex { try markSearch(t, t.keyOf(row), db) }
            }
        }
    }

    // MARK: The cache's record

    static let cacheSQL = "CREATE TABLE IF NOT EXISTS \(HubSchema.cacheTable)(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID"

    func currentMark(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM \(HubSchema.cacheTable) WHERE key = 'serial'") ?? 0
    }

    func setMark(_ serial: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO \(HubSchema.cacheTable)(key, value) VALUES ('serial', ?)").execute(arguments: [serial])
        mark = serial
    }

    // MARK: Bootstrap

    /// Replaces every mirrored table of the cache with the database's rows, read in one
    /// REPEATABLE READ snapshot, and sets the mark to the changelog's last serial in it.
    /// `on`: a connection inside a transaction holding the hub's lock (a catch-up finding the
    /// changelog pruned past its mark), read as it is; else a new snapshot of its own.
    func bootstrap(_ db: Database, databaseID: String, on locked: PGConnection? = nil) throws {
        guard let hook = RowChangeHook.of(db) else { throw GlossError(.internalError, "the cache connection has no row-change hook") }
        hook.suspended = true
        defer { hook.suspended = false }
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        let own = locked == nil ? PGConnection(url) : nil
        defer { own?.close() }
        let snapshot = locked ?? own!
        do {
            if own != nil { try snapshot.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") }
            // The mark: the last change this copy holds — at least the last one pruned (the changelog may be empty).
            let serial = try snapshot.query("""
                SELECT greatest(coalesce((SELECT max(serial) FROM hub_changes), 0),
                                coalesce((SELECT value::bigint FROM hub_meta WHERE key = 'pruned_through'), 0))
                """).first.map { try Array($0)[0].decode(Int64.self) } ?? 0
            for t in schema.tables {
                if t.name == "meta" {
                    try db.execute(sql: "DELETE FROM meta WHERE key NOT IN ('analyst', 'replica')")
                } else {
                    try db.execute(sql: "DELETE FROM \(HubSchema.quote(t.name))")
                }
                try HubStore.copy(t, from: snapshot) { rows in try applyRaw([(byName[t.name]!, [], rows)], reindex: false, db) }
            }
            if own != nil { try snapshot.query("COMMIT") }
            // The full-text index is this cache's own: rebuilt from the copied rows.
            if try db.tableExists("search") { try SearchIndex.markAll(db) }
            try setMark(serial, db)
            try db.execute(sql: "INSERT OR REPLACE INTO \(HubSchema.cacheTable)(key, value) VALUES ('database', ?)", arguments: [databaseID])
        } catch { throw wrap(error) }
    }

    /// Rows a bootstrap reads per batch at most (`GLOSS_HUB_COPY_ROWS`, 1 to 100,000; 2,000).
    static let copyRows = copyRows(ProcessInfo.processInfo.environment["GLOSS_HUB_COPY_ROWS"])

    /// `GLOSS_HUB_COPY_ROWS` read: a whole number from 1 to 100,000, else (absent, not a number,
    /// out of range) 2,000.
    static func copyRows(_ text: String?) -> Int {
        text.flatMap(Int.init).flatMap { (1...100_000).contains($0) ? $0 : nil } ?? 2_000
    }
    /// Bytes a bootstrap aims to read per batch: the next batch's row count is scaled to it.
    static let copyBytes = 4 << 20

    /// Every row of a table, read through a cursor a batch at a time (a table is never held whole
    /// in memory: a hub's `events` may be far larger than it) and decoded by the schema's column
    /// kinds; `batch` is called with each batch in turn. `c` must be inside a transaction.
    static func copy(_ t: HubTable, from c: PGConnection, batch: ([[RowValue]]) throws -> Void) throws {
        let cols = t.columns.map { HubSchema.quote($0.name) }.joined(separator: ", ")
        let kinds = t.columns.map(\.kind)
        try c.query("DECLARE gloss_copy NO SCROLL CURSOR FOR SELECT \(cols) FROM \(HubSchema.quote(t.name))")
        // The first batch is small (rows may be long: a payload up to 8 MiB); each next one is
        // scaled to `copyBytes`, growing at most 8× a time.
        var count = min(4, copyRows)
        while true {
            let rows = try c.query("FETCH \(count) FROM gloss_copy")
            if rows.isEmpty { break }
            var bytes = 0
            try batch(rows.map { row in
                try zip(row, kinds).map { cell, kind in
                    bytes += cell.bytes?.readableBytes ?? 0
                    return try HubStore.value(cell, kind)
                }
            })
            count = max(1, min(copyRows, count * 8, Int(Double(count) * Double(copyBytes) / Double(max(bytes, 1)))))
        }
        try c.query("CLOSE gloss_copy")
    }

    static func value(_ cell: PostgresCell, _ kind: ColumnKind) throws -> RowValue {
        guard cell.bytes != nil else { return .null }
        switch kind {
        case .bigint: return .integer(try cell.decode(Int64.self))
        case .text: return .text(PGText.decode(try cell.decode(String.self)))
        case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        case .double: return .real(try cell.decode(Double.self))
        case .tagged: return try TypedValue.decode(Array(buffer: try cell.decode(ByteBuffer.self)))
        }
    }
}
