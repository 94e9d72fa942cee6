import Foundation
import GRDBSQLite

/// Runs people's SQL against a replica database on a separate read-only connection (`gloss query`).
///
/// Writes are refused by a SQLite authorizer, not by string matching: only reads, selects, functions
/// and a few introspection pragmas are authorized, so `INSERT`, `ATTACH`,
/// `CREATE`, `PRAGMA query_only = 0` and the like fail at prepare time. A progress handler ends any
/// query that runs past its time limit.
public enum ReadOnlyQuery {
    public enum Value: Sendable, Equatable {
        case null, int(Int64), double(Double), text(String), blob([UInt8])
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable { case refused, timeLimit, sql, open }
        public var kind: Kind
        public var message: String
        public var description: String { message }
    }

    /// Introspection pragmas: they read the schema and set nothing.
    static let allowedPragmas: Set<String> = ["table_info", "table_xinfo", "table_list", "index_list", "index_info",
                                              "index_xinfo", "foreign_key_list", "collation_list", "function_list",
                                              "data_version"]

    /// Prepares and runs one statement, calling `columns` once and then `row` for each row.
    public static func run(path: String, sql: String, timeLimit: TimeInterval,
                           columns: ([String]) throws -> Void, row: ([Value]) throws -> Void) throws {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw Failure(kind: .open, message: "cannot open \(path) read-only: \(msg)")
        }
        defer { sqlite3_close(db) }
        sqlite3_busy_timeout(db, 5000)
        sqlite3_set_authorizer(db, { _, action, a1, a2, _, _ in
            switch action {
            case SQLITE_SELECT, SQLITE_READ, SQLITE_RECURSIVE:
                return SQLITE_OK
            case SQLITE_UPDATE:
                // FTS5's connect step reports an update of sqlite_master while it reads its schema;
                // nothing is written (the connection is read-only, and a statement that writes is
                // refused below by sqlite3_stmt_readonly).
                let table = a1.map { String(cString: $0) } ?? ""
                return table == "sqlite_master" ? SQLITE_OK : SQLITE_DENY
            case SQLITE_FUNCTION:
                let name = a2.map { String(cString: $0).lowercased() } ?? ""
                return name == "load_extension" ? SQLITE_DENY : SQLITE_OK
            case SQLITE_PRAGMA:
                let name = a1.map { String(cString: $0).lowercased() } ?? ""
                // Introspection pragmas only read (their argument is a table or index name);
                // every pragma that sets something is refused, with or without a value.
                return ReadOnlyQuery.allowedPragmas.contains(name) ? SQLITE_OK : SQLITE_DENY
            default:
                return SQLITE_DENY
            }
        }, nil)
        final class Deadline { let at: UInt64; init(_ at: UInt64) { self.at = at } }
        let deadline = Deadline(DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeLimit) * 1e9))
        sqlite3_progress_handler(db, 1000, { ctx in
            let d = Unmanaged<Deadline>.fromOpaque(ctx!).takeUnretainedValue()
            return DispatchTime.now().uptimeNanoseconds > d.at ? 1 : 0
        }, Unmanaged.passUnretained(deadline).toOpaque())

        var stmt: OpaquePointer?
        var rest = ""
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v2(db, text, -1, &stmt, &tail)
            if let tail { rest = String(cString: tail) }  // the tail points into `text`: copy it now
            return rc
        }
        guard rc == SQLITE_OK, let stmt else {
            let msg = String(cString: sqlite3_errmsg(db))
            if rc == SQLITE_AUTH || msg.contains("not authorized") {
                throw Failure(kind: .refused, message: "refused: `gloss query` is read-only (only SELECT and introspection are allowed): \(msg)")
            }
            throw Failure(kind: .sql, message: stmt == nil && rc == SQLITE_OK ? "no SQL statement given" : "SQL error: \(msg)")
        }
        defer { sqlite3_finalize(stmt) }
        if !rest.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";"))).isEmpty {
            throw Failure(kind: .refused, message: "refused: give one SQL statement at a time")
        }
        guard sqlite3_stmt_readonly(stmt) != 0 else {
            throw Failure(kind: .refused, message: "refused: `gloss query` is read-only")
        }
        let n = sqlite3_column_count(stmt)
        try columns((0..<n).map { String(cString: sqlite3_column_name(stmt, $0)) })
        while true {
            let step = sqlite3_step(stmt)
            if step == SQLITE_DONE { return }
            guard step == SQLITE_ROW else {
                if step == SQLITE_INTERRUPT {
                    throw Failure(kind: .timeLimit, message: "the query ran past its time limit of \(timeLimit) s; narrow it or raise --timeout")
                }
                throw Failure(kind: .sql, message: "SQL error: \(String(cString: sqlite3_errmsg(db)))")
            }
            var values: [Value] = []
            values.reserveCapacity(Int(n))
            for i in 0..<n {
                switch sqlite3_column_type(stmt, i) {
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(stmt, i)))
                case SQLITE_FLOAT: values.append(.double(sqlite3_column_double(stmt, i)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(stmt, i))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(stmt, i))
                    let p = sqlite3_column_blob(stmt, i)
                    values.append(.blob(count == 0 || p == nil ? [] : Array(UnsafeRawBufferPointer(start: p, count: count))))
                default: values.append(.null)
                }
            }
            try row(values)
        }
    }
}
