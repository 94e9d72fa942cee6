import Foundation
import GRDBSQLite

/// Runs people's SQL against a replica database on a separate read-only connection (`gloss query`).
///
/// Writes are refused by a SQLite authorizer, not by string matching: only reads, selects, functions
/// and a few introspection pragmas are authorized, so `INSERT`, `ATTACH`,
/// `CREATE`, `PRAGMA query_only = 0` and the like fail at prepare time. A progress handler ends any
/// query that runs past its time limit.
///
/// The time limit holds for every statement because no single step can run long: SQLite's length
/// limits cap any one string or blob (`randomblob`, `zeroblob`, `printf`, `replace`, `||`) at
/// `maxValueBytes` and the SQL text at `maxSQLBytes`, temporary data (sorts, recursive CTEs) stays in
/// memory, and a hard heap limit (`maxHeapBytes`) bounds all of SQLite's memory in this process: a
/// query that needs more stops with a message instead of growing. The heap limit applies process-wide,
/// which is right for `gloss query`: a process of its own that runs one statement.
public enum ReadOnlyQuery {
    /// Largest string or blob a query may build or return (the largest stored value, a payload, is 8 MiB).
    public static let maxValueBytes: Int32 = 32 * 1024 * 1024
    /// Longest SQL text.
    public static let maxSQLBytes: Int32 = 1024 * 1024
    /// Largest heap SQLite may use in this process while the query runs.
    public static let maxHeapBytes: Int64 = 512 * 1024 * 1024
    /// Longest time limit (one day); time limits must be finite and positive.
    public static let maxTimeLimit: TimeInterval = 86_400

    public enum Value: Sendable, Equatable {
        case null, int(Int64), double(Double), text(String), blob([UInt8])
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable { case refused, timeLimit, sizeLimit, sql, open, diskFull, ioError }
        public var kind: Kind
        public var message: String
        public var description: String { message }
    }

    /// Introspection pragmas: they read the schema and set nothing.
    static let allowedPragmas: Set<String> = ["table_info", "table_xinfo", "table_list", "index_list", "index_info",
                                              "index_xinfo", "foreign_key_list", "collation_list", "function_list",
                                              "data_version"]

    /// Prepares and runs one statement, calling `columns` once and then `row` for each row.
    /// With `snapshot`, the database file is opened immutable (no locks, no WAL): for a full disk,
    /// where SQLite cannot set up its shared memory, and only when the WAL holds nothing.
    ///
    /// `overrun`, if given, is called (on another thread) when a statement is still running
    /// `overrunGrace` seconds past the time limit, inside one step SQLite cannot interrupt; it must
    /// not return (the CLI reports the failure and exits).
    public static func run(path: String, sql: String, timeLimit: TimeInterval, snapshot: Bool = false,
                           overrun: (@Sendable (Failure) -> Never)? = nil,
                           columns: ([String]) throws -> Void, row: ([Value]) throws -> Void) throws {
        guard timeLimit.isFinite, timeLimit > 0, timeLimit <= maxTimeLimit else {
            throw Failure(kind: .refused, message: "the time limit must be more than 0 and at most \(Int(maxTimeLimit)) seconds")
        }
        guard sql.utf8.count <= Int(maxSQLBytes) else {
            throw Failure(kind: .sizeLimit, message: "the SQL text is \(sql.utf8.count) bytes, over the \(maxSQLBytes)-byte limit")
        }
        var db: OpaquePointer?
        let target = snapshot ? "file:" + path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)! + "?immutable=1" : path
        guard sqlite3_open_v2(target, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | (snapshot ? SQLITE_OPEN_URI : 0), nil) == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw Failure(kind: .open, message: "cannot open \(path) read-only: \(msg)")
        }
        defer { sqlite3_close(db) }
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
        // Bounds on what one statement can build (see the type's comment).
        sqlite3_limit(db, SQLITE_LIMIT_LENGTH, maxValueBytes)
        sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, maxSQLBytes)
        sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0)
        sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50_000)
        sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 1_000_000)
        if sqlite3_exec(db, "PRAGMA temp_store = MEMORY", nil, nil, nil) != SQLITE_OK {
            throw failure(db, sqlite3_errcode(db), timeLimit: timeLimit, path: path)
        }
        let previousHeapLimit = sqlite3_hard_heap_limit64(maxHeapBytes)
        defer { sqlite3_hard_heap_limit64(previousHeapLimit) }
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
        let deadline = Deadline(DispatchTime.now().uptimeNanoseconds + UInt64(timeLimit * 1e9))
        sqlite3_progress_handler(db, 1000, { ctx in
            let d = Unmanaged<Deadline>.fromOpaque(ctx!).takeUnretainedValue()
            return DispatchTime.now().uptimeNanoseconds > d.at ? 1 : 0
        }, Unmanaged.passUnretained(deadline).toOpaque())
        // The progress handler runs between virtual-machine steps; one step inside a slow SQL
        // function (a `printf` width, a pathological LIKE) does not return to it. A watchdog
        // interrupts at the deadline, and a statement still running `overrunGrace` later is ended
        // by `overrun` (gloss query: report and exit; the connection only ever read).
        let watchdog = Watchdog(db: db)
        defer { watchdog.finish() }
        var onOverrun: (@Sendable () -> Never)?
        if let overrun {
            let failure = Failure(kind: .timeLimit, message: timeLimitMessage(timeLimit))
            onOverrun = { overrun(failure) }
        }
        watchdog.start(deadline: deadline.at, grace: overrunGrace, overrun: onOverrun)

        var stmt: OpaquePointer?
        var rest = ""
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v2(db, text, -1, &stmt, &tail)
            if let tail { rest = String(cString: tail) }  // the tail points into `text`: copy it now
            return rc
        }
        guard rc == SQLITE_OK, let stmt else {
            if stmt == nil && rc == SQLITE_OK { throw Failure(kind: .sql, message: "no SQL statement given") }
            throw failure(db, rc, timeLimit: timeLimit, path: path)
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
            guard step == SQLITE_ROW else { throw failure(db, step, timeLimit: timeLimit, path: path) }
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

    /// The failure a SQLite result code stands for, with a message that says what to do.
    static func failure(_ db: OpaquePointer, _ rc: Int32, timeLimit: TimeInterval, path: String) -> Failure {
        let msg = String(cString: sqlite3_errmsg(db))
        // Denied by the authorizer, when prepared or (a pragma's table-valued function,
        // `pragma_database_list`) when run: refused, as any other write or setting is (it was
        // exit 65 from a running statement, exit 5 from a prepared one; an audit, 2026-12-07).
        if rc & 0xff == SQLITE_AUTH || msg.contains("not authorized") {
            return Failure(kind: .refused, message: "refused: `gloss query` is read-only (only SELECT and introspection are allowed): \(msg)")
        }
        switch rc & 0xff {
        case SQLITE_INTERRUPT:
            return Failure(kind: .timeLimit, message: timeLimitMessage(timeLimit))
        case SQLITE_TOOBIG:
            return Failure(kind: .sizeLimit, message: "the query was stopped: it built a string or blob over the \(maxValueBytes / 1024 / 1024) MiB limit of `gloss query` (\(msg)); narrow it (substr, length, LIMIT)")
        case SQLITE_NOMEM:
            return Failure(kind: .sizeLimit, message: "the query was stopped: it needed more than the \(maxHeapBytes / 1024 / 1024) MiB of memory `gloss query` allows (\(msg)); narrow it (fewer rows in a sort or a recursive CTE, LIMIT)")
        case SQLITE_FULL:
            return Failure(kind: .diskFull, message: msg)
        case SQLITE_IOERR:
            return Failure(kind: .ioError, message: msg)
        default:
            return Failure(kind: .sql, message: "SQL error: \(msg)")
        }
    }

    static func timeLimitMessage(_ timeLimit: TimeInterval) -> String {
        "the query ran past its time limit of \(formatSeconds(timeLimit)) s and was stopped; narrow it or raise --timeout"
    }

    /// How long past the time limit a statement SQLite cannot interrupt may run before `overrun`.
    public static let overrunGrace: TimeInterval = 1

    /// Interrupts the connection at the deadline; calls `overrun` if the statement has not ended
    /// `grace` later.
    final class Watchdog: @unchecked Sendable {
        // @unchecked: `finished` is guarded by `lock`; `db` is only used under it.
        private let lock = NSCondition()
        private var finished = false
        private let db: OpaquePointer

        init(db: OpaquePointer) { self.db = db }

        func start(deadline: UInt64, grace: TimeInterval, overrun: (@Sendable () -> Never)?) {
            let thread = Thread { [self] in
                lock.lock()
                defer { lock.unlock() }
                func waitUntil(_ t: UInt64) {
                    while !finished {
                        let now = DispatchTime.now().uptimeNanoseconds
                        if now >= t { return }
                        _ = lock.wait(until: Date(timeIntervalSinceNow: Double(t - now) / 1e9))
                    }
                }
                waitUntil(deadline)
                if finished { return }
                sqlite3_interrupt(db)
                waitUntil(deadline + UInt64(grace * 1e9))
                if finished { return }
                if let overrun {
                    lock.unlock()
                    overrun()
                }
            }
            thread.start()
        }

        /// Called before the connection closes: the watchdog never touches it after this returns.
        func finish() {
            lock.lock()
            finished = true
            lock.broadcast()
            lock.unlock()
        }
    }

    static func formatSeconds(_ t: TimeInterval) -> String {
        t == t.rounded() && t < 1e15 ? String(Int64(t)) : String(t)
    }
}
