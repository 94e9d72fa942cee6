import Foundation
import GRDB
import GRDBSQLite

/// Binds the parameters of one statement in order, straight through SQLite's C API: no argument
/// array, no boxing (the apply path runs a dozen statements per event; GRDB's `StatementArguments`
/// was a tenth of its time).
public struct SQLBinder {
    let statement: OpaquePointer
    var index: Int32 = 1

    /// SQLite copies what it is given (the buffer is only valid during the call).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Text is bound as GRDB binds it (up to its first U+0000, as a C string), so that what every
    /// writer stores, and what GRDB reads back, is the same text.
    public mutating func add(_ v: String) {
        v.withCString { _ = sqlite3_bind_text(statement, index, $0, -1, SQLBinder.transient) }
        index += 1
    }
    public mutating func add(_ v: String?) { if let v { add(v) } else { null() } }
    public mutating func add(_ v: Int64) { sqlite3_bind_int64(statement, index, v); index += 1 }
    public mutating func add(_ v: Int64?) { if let v { add(v) } else { null() } }
    public mutating func add(_ v: Int) { add(Int64(v)) }
    public mutating func add(_ v: Int?) { if let v { add(Int64(v)) } else { null() } }
    public mutating func add(_ v: Bool) { add(Int64(v ? 1 : 0)) }
    public mutating func add(_ v: Double) { sqlite3_bind_double(statement, index, v); index += 1 }
    public mutating func add(_ v: Double?) { if let v { add(v) } else { null() } }
    public mutating func add(_ v: [UInt8]) {
        v.withUnsafeBytes { p in
            // An empty blob is a zero-length blob, not NULL.
            if let base = p.baseAddress { _ = sqlite3_bind_blob(statement, index, base, Int32(p.count), SQLBinder.transient) }
            else { _ = sqlite3_bind_zeroblob(statement, index, 0) }
        }
        index += 1
    }
    public mutating func add(_ v: [UInt8]?) { if let v { add(v) } else { null() } }
    public mutating func add(_ v: Data) { add(Array(v)) }
    public mutating func add(_ v: Data?) { if let v { add(Array(v)) } else { null() } }
    public mutating func null() { sqlite3_bind_null(statement, index); index += 1 }
}

extension Database {
    /// Runs a write statement (no rows) from GRDB's statement cache, binding its parameters with
    /// `bind` in order. Errors are GRDB's `DatabaseError`, as from `execute`.
    public func run(_ sql: String, _ bind: (inout SQLBinder) -> Void) throws {
        let s = try bound(sql, bind)
        defer { sqlite3_reset(s) }
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code, sql) }
    }

    /// Runs a query from GRDB's statement cache, calling `row` for each row (read by position).
    public func rows(_ sql: String, _ bind: (inout SQLBinder) -> Void, _ row: (SQLColumns) throws -> Void) throws {
        let s = try bound(sql, bind)
        defer { sqlite3_reset(s) }
        while true {
            let code = sqlite3_step(s)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw failure(code, sql) }
            try row(SQLColumns(statement: s))
        }
    }

    /// The first row of a query, mapped by `row`; nil when there is none.
    public func first<T>(_ sql: String, _ bind: (inout SQLBinder) -> Void, _ row: (SQLColumns) throws -> T) throws -> T? {
        let s = try bound(sql, bind)
        defer { sqlite3_reset(s) }
        let code = sqlite3_step(s)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw failure(code, sql) }
        return try row(SQLColumns(statement: s))
    }

    /// Runs `insert` once per row of `select`, binding the row's columns to its parameters in order
    /// (values passed as SQLite holds them: no conversion). An `INSERT … SELECT` written one row at a
    /// time: a statement that writes one row needs no statement journal, where a multi-row write to
    /// a table that may abort halfway (a virtual table's does) journals every page it changes — to a
    /// temporary file for the rest of the transaction once any journal passed 64 KiB. `insert` must
    /// not write a table `select` reads. Returns the number of rows inserted.
    @discardableResult
    public func insertEach(from select: String, into insert: String) throws -> Int {
        let source = try cachedStatement(sql: select).sqliteStatement
        let target = try cachedStatement(sql: insert).sqliteStatement
        defer { sqlite3_reset(source); sqlite3_reset(target); sqlite3_clear_bindings(target) }
        let columns = sqlite3_column_count(source)
        assert(columns == sqlite3_bind_parameter_count(target), "\(columns) columns for \(sqlite3_bind_parameter_count(target)) parameters: \(insert)")
        var n = 0
        while true {
            let code = sqlite3_step(source)
            if code == SQLITE_DONE { return n }
            guard code == SQLITE_ROW else { throw failure(code, select) }
            for i in 0..<columns { sqlite3_bind_value(target, i + 1, sqlite3_column_value(source, i)) }
            let done = sqlite3_step(target)
            sqlite3_reset(target)
            guard done == SQLITE_DONE else { throw failure(done, insert) }
            n += 1
        }
    }

    /// The cached statement for `sql` with its parameters bound (the cache keeps it alive).
    private func bound(_ sql: String, _ bind: (inout SQLBinder) -> Void) throws -> OpaquePointer {
        let s = try cachedStatement(sql: sql).sqliteStatement
        var binder = SQLBinder(statement: s)
        bind(&binder)
        assert(binder.index - 1 == sqlite3_bind_parameter_count(s), "\(binder.index - 1) values bound for \(sqlite3_bind_parameter_count(s)) parameters: \(sql)")
        return s
    }

    /// The error a step returned (read before the statement is reset).
    private func failure(_ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqliteConnection)), sql: sql)
    }
}

/// The current row of a statement stepped by `Database.rows`, read by column position.
public struct SQLColumns {
    let statement: OpaquePointer
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(statement, i) == SQLITE_NULL }
    public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }
    public func bool(_ i: Int32) -> Bool { sqlite3_column_int64(statement, i) != 0 }
    public func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(statement, i) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, i))), as: UTF8.self)
    }
    public func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
    public func blob(_ i: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(statement, i))
        guard n > 0, let p = sqlite3_column_blob(statement, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}
