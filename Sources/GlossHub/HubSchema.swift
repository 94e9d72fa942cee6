import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
import GlossStore

/// How a SQLite column is stored in PostgreSQL (Protocol/12-hub.md §Schema): by declared type,
/// SQLite's affinity rules. A column without a declared type (`meta.value`) can hold any SQLite
/// value: it is stored as `bytea` holding the value's typed encoding (Protocol/04 §Digest).
enum ColumnKind: Sendable, Equatable {
    case bigint, text, bytea, double, tagged

    init(declared: String) {
        let t = declared.uppercased()
        if t.contains("INT") { self = .bigint }
        else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") { self = .text }
        else if t.contains("BLOB") { self = .bytea }
        else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") { self = .double }
        else { self = .tagged }
    }

    var sql: String {
        switch self {
        case .bigint: "bigint"
        case .text: "text"
        case .bytea, .tagged: "bytea"
        case .double: "double precision"
        }
    }
}

/// One mirrored table: its columns in SQLite's order, the primary key, unique constraints and
/// indexes (each index's key as SQL: quoted column names, or the expression of an index on one, such
/// as `substr(on_id, 1, 8)`, which reads the same in PostgreSQL).
struct HubTable: Sendable {
    var name: String
    var columns: [(name: String, kind: ColumnKind, notNull: Bool)]
    /// Positions of the primary-key columns (every column when SQLite declares none).
    var key: [Int]
    var uniques: [[String]]
    var indexes: [(name: String, unique: Bool, keys: [String])]
    /// The SQLite statement that created it (for a local copy of some tables: `gloss digest --store`).
    var sqliteSQL: String

    func keyOf(_ row: [RowValue]) -> [RowValue] { key.map { row[$0] } }
}

/// The PostgreSQL schema of a hub: every table of a fresh replica's SQLite schema (log, store,
/// projections; same names, columns and keys) but the local ones, and the documented views
/// rewritten for PostgreSQL. Derived from this build's SQLite schema, so it never drifts from it.
struct HubSchema: Sendable {
    var tables: [HubTable]
    var views: [(name: String, sql: String)]
    var projectionVersion: Int
    /// The rows a fresh replica holds (digest rows, `meta.projection_version`), per table.
    var seed: [String: [[RowValue]]]
    /// The tables the projector owns (dropped and replayed by a rebuild): every mirrored table but
    /// the store's own (03-store.md).
    var projectionTables: Set<String> = []

    /// `meta` rows that belong to one process's cache, never to the shared database.
    static let localMetaKeys: Set<String> = ["analyst", "replica"]
    /// The table in each cache recording what it has taken from the database.
    static let cacheTable = "hub_cache"

    /// Tables kept out of PostgreSQL: SQLite's own, GRDB's migration record, the cache's record,
    /// and full-text indexes (FTS5 virtual tables and their shadow tables: an index each cache
    /// maintains for itself, not a projection; Protocol/12-hub.md §Schema).
    static func isLocal(_ name: String, fts: Set<String>) -> Bool {
        if name.hasPrefix("sqlite_") || name == "grdb_migrations" || name == cacheTable { return true }
        if fts.contains(name) { return true }
        for v in fts where ["_data", "_idx", "_content", "_docsize", "_config"].contains(where: { name == v + $0 }) { return true }
        return false
    }

    /// The schema of a fresh replica of this build (made in a temporary folder and removed).
    /// `join`: a replica joining a team (`gloss init --join`), whose seed rows say so.
    static func fresh(join: Bool = false) throws -> HubSchema {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-hub-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ReplicaStore(path: dir.appendingPathComponent("schema.db").path, projector: GlossProjector())
        defer { try? store.close() }
        if join { try store.markJoining() }
        var schema = try store.read { db in try HubSchema(db, version: GlossProjector().version) }
        // The store's tables alone: a database made with a projector that creates nothing.
        let bare = try ReplicaStore(path: dir.appendingPathComponent("store.db").path, projector: NoProjections())
        defer { try? bare.close() }
        let storeTables = Set(try bare.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") })
        schema.projectionTables = Set(schema.tables.map(\.name)).subtracting(storeTables)
        return schema
    }

    init(_ db: Database, version: Int) throws {
        projectionVersion = version
        let master = try Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
        var fts = Set<String>()
        for r in master where (r["type"] as String) == "table" && (r["sql"] as String).uppercased().hasPrefix("CREATE VIRTUAL TABLE") {
            fts.insert(r["name"])
        }
        tables = []
        views = []
        seed = [:]
        for r in master {
            let type: String = r["type"], name: String = r["name"], sql: String = r["sql"]
            if type == "view" { views.append((name, HubSchema.postgresView(sql))); continue }
            guard type == "table", !HubSchema.isLocal(name, fts: fts) else { continue }
            let cols = try Row.fetchAll(db, sql: "SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid", arguments: [name])
            let columns = cols.map { (name: $0["name"] as String, kind: ColumnKind(declared: $0["type"] as String? ?? ""), notNull: ($0["notnull"] as Int) != 0 || ($0["pk"] as Int) > 0) }
            var key = cols.enumerated().filter { ($0.element["pk"] as Int) > 0 }.sorted { ($0.element["pk"] as Int) < ($1.element["pk"] as Int) }.map(\.offset)
            if key.isEmpty { key = Array(columns.indices) }
            var uniques: [[String]] = [], indexes: [(String, Bool, [String])] = []
            for ix in try Row.fetchAll(db, sql: "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY seq DESC", arguments: [name]) {
                let ixName: String = ix["name"], origin: String = ix["origin"]
                guard (ix["partial"] as Int) == 0, origin != "pk" else { continue }
                let parts = try Row.fetchAll(db, sql: "SELECT cid, name FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", arguments: [ixName])
                guard !parts.isEmpty else { continue }
                if parts.allSatisfy({ ($0["cid"] as Int) >= 0 }) {
                    let names = parts.map { $0["name"] as String }
                    if origin == "u" { uniques.append(names) } else { indexes.append((ixName, (ix["unique"] as Int) != 0, names.map(HubSchema.quote))) }
                } else if let expression = try HubSchema.indexExpression(db, index: ixName) {
                    indexes.append((ixName, (ix["unique"] as Int) != 0, [expression]))
                }
            }
            tables.append(HubTable(name: name, columns: columns, key: key, uniques: uniques, indexes: indexes, sqliteSQL: sql))
            let quoted = columns.map { HubSchema.quote($0.name) }.joined(separator: ", ")
            var rows: [[RowValue]] = []
            for row in try Row.fetchAll(db, sql: "SELECT \(quoted) FROM \(HubSchema.quote(name))") {
                let values = (0..<row.count).map { HubSchema.rowValue(row[$0] as DatabaseValue) }
                if name == "meta", case .text(let k) = values[0], HubSchema.localMetaKeys.contains(k) { continue }
                rows.append(values)
            }
            if !rows.isEmpty { seed[name] = rows }
        }
    }

    static func quote(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func rowValue(_ v: DatabaseValue) -> RowValue {
        switch v.storage {
        case .null: .null
        case .int64(let i): .integer(i)
        case .double(let d): .real(d)
        case .string(let s): .text(s)
        case .blob(let b): .blob(Array(b))
        }
    }

    static func databaseValue(_ v: RowValue) -> DatabaseValue {
        switch v {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        case .blob(let b): Data(b).databaseValue
        }
    }

    /// The key of an index on one expression, from its `CREATE INDEX … ON table(expression)`.
    static func indexExpression(_ db: Database, index: String) throws -> String? {
        guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", arguments: [index]),
              let open = sql.range(of: " ON "), let paren = sql[open.upperBound...].firstIndex(of: "("), sql.hasSuffix(")") else { return nil }
        return String(sql[sql.index(after: paren)..<sql.index(before: sql.endIndex)])
    }

    /// A view's SQLite definition in PostgreSQL's dialect: the only SQLite-only function the
    /// documented views use is `hex()` (`lower(hex(x))` → `encode(x, 'hex')`), and the only
    /// SQLite-only operator the unary `+` on text (`ShortID.equals`), dropped.
    static func postgresView(_ sql: String) -> String {
        var s = sql.replacingOccurrences(of: #" \+([a-z_.]+) = "#, with: " $1 = ", options: .regularExpression)
        while let r = s.range(of: #"lower\(hex\(([^()]*)\)\)"#, options: .regularExpression) {
            let inner = s[r].dropFirst("lower(hex(".count).dropLast(2)
            s.replaceSubrange(r, with: "encode(\(inner), 'hex')")
        }
        return s
    }

    /// The statements creating the tables, indexes and views in PostgreSQL.
    var ddl: [String] {
        var out: [String] = []
        for t in tables {
            var parts = t.columns.map { "\(HubSchema.quote($0.name)) \($0.kind.sql)\($0.notNull ? " NOT NULL" : "")" }
            parts.append("PRIMARY KEY (\(t.key.map { HubSchema.quote(t.columns[$0].name) }.joined(separator: ", ")))")
            for u in t.uniques { parts.append("UNIQUE (\(u.map(HubSchema.quote).joined(separator: ", ")))") }
            out.append("CREATE TABLE \(HubSchema.quote(t.name)) (\n  \(parts.joined(separator: ",\n  "))\n)")
            for ix in t.indexes {
                out.append("CREATE \(ix.unique ? "UNIQUE " : "")INDEX \(HubSchema.quote(ix.name)) ON \(HubSchema.quote(t.name)) (\(ix.keys.joined(separator: ", ")))")
            }
        }
        for v in views { out.append(v.sql) }
        return out
    }

    /// Identifies the schema (the DDL and the projection version): a database built by another
    /// schema is refused.
    var fingerprint: String {
        Bytes32.sha256(Array(("gloss-hub-schema-v1\n\(projectionVersion)\n" + ddl.joined(separator: ";\n")).utf8)).hex
    }

    var migrationName: String { "v2-replica-p\(projectionVersion)" }
}

/// PostgreSQL's `text` cannot hold U+0000, which Gloss text may (an article is stored exactly as
/// given). A text holding it — or starting with the marker U+E000 — is stored as the marker followed
/// by the text with `\` written `\\` and U+0000 written `\0`; every other text as it is.
enum PGText {
    static let marker: Unicode.Scalar = "\u{E000}"

    static func encode(_ s: String) -> String {
        guard s.utf8.contains(0) || s.unicodeScalars.first == marker else { return s }
        var out = String.UnicodeScalarView()
        out.append(marker)
        for u in s.unicodeScalars {
            switch u {
            case "\0": out.append("\\"); out.append("0")
            case "\\": out.append("\\"); out.append("\\")
            default: out.append(u)
            }
        }
        return String(out)
    }

    static func decode(_ s: String) -> String {
        guard s.unicodeScalars.first == marker else { return s }
        var out = String.UnicodeScalarView()
        var escaped = false
        for u in s.unicodeScalars.dropFirst() {
            if escaped { out.append(u == "0" ? "\0" : u); escaped = false } else if u == "\\" { escaped = true } else { out.append(u) }
        }
        return String(out)
    }
}

/// A projector that keeps no projections (to tell the store's tables from the projector's).
struct NoProjections: Projector {
    var version: Int { 0 }
    func prepareConnection(_ db: Database) {}
    func createSchema(_ db: Database) throws {}
    func dropSchema(_ db: Database) throws {}
    func apply(_ event: AppliedEvent, store: ReplicaStore, _ db: Database) throws {}
    func willCommit(_ db: Database) throws {}
    func didRollback(_ db: Database) {}
}

/// The typed encoding of Protocol/04 §Digest, for values in the changelog and untyped columns:
/// NULL `00`; integer `01` + 8 bytes; real `02` + 8 bytes; text `03` + u32 length + UTF-8;
/// blob `04` + u32 length + bytes.
enum TypedValue {
    static func encode(_ v: RowValue, _ out: inout [UInt8]) {
        switch v {
        case .null: out.append(0)
        case .integer(let i): out.append(1); u64(UInt64(bitPattern: i), &out)
        case .real(let d): out.append(2); u64(d.bitPattern, &out)
        case .text(let s): out.append(3); u32(UInt32(s.utf8.count), &out); out.append(contentsOf: s.utf8)
        case .blob(let b): out.append(4); u32(UInt32(b.count), &out); out.append(contentsOf: b)
        }
    }

    static func u64(_ v: UInt64, _ out: inout [UInt8]) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    static func u32(_ v: UInt32, _ out: inout [UInt8]) { for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }

    struct Reader {
        let bytes: [UInt8]
        var at = 0
        init(_ b: [UInt8]) { bytes = b }
        var atEnd: Bool { at == bytes.count }
        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, at + n <= bytes.count else { throw GlossError(.internalError, "hub changelog entry is truncated") }
            defer { at += n }
            return bytes[at..<at + n]
        }
        mutating func u8() throws -> UInt8 { try take(1).first! }
        mutating func u32() throws -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
        mutating func u64() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
        mutating func value() throws -> RowValue {
            switch try u8() {
            case 0: return .null
            case 1: return .integer(Int64(bitPattern: try u64()))
            case 2: return .real(Double(bitPattern: try u64()))
            case 3: return .text(String(decoding: try take(Int(try u32())), as: UTF8.self))
            case 4: return .blob(Array(try take(Int(try u32()))))
            default: throw GlossError(.internalError, "hub changelog entry holds an unknown value type")
            }
        }
    }

    static func decode(_ bytes: [UInt8]) throws -> RowValue {
        var r = Reader(bytes)
        let v = try r.value()
        guard r.atEnd else { throw GlossError(.internalError, "an untyped column holds trailing bytes") }
        return v
    }
}
