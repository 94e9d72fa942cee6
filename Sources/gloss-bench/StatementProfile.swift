import Foundation
import GRDB
import GRDBSQLite
import GlossEngine
import GlossJSON

/// Where an operation's SQL time goes (`gloss bench run --statements N`): every statement the
/// replica's writer connection runs, grouped by its SQL text, with how often it ran and the time
/// SQLite spent in it (`sqlite3_trace_v2` profile events). A statement another runs (an FTS5
/// shadow-table write inside an `INSERT INTO search`, a preupdate hook's work) counts in both, so
/// the times overlap and do not add up to the operation's time. SQLite times a statement with the
/// VFS clock, in milliseconds: a statement run thousands of times sums to about its real time, one
/// run a few times reads 0 or 1 ms. Recording costs a little time per statement: compare a
/// profiled operation only with other profiled runs.
public final class StatementProfile: @unchecked Sendable {
    /// Per prepared statement: its SQL (read once; `text` tells a reused address from the same
    /// statement), runs and nanoseconds.
    private struct Entry { var text: UnsafePointer<CChar>?; var sql: String; var count = 0; var nanoseconds: Int64 = 0 }
    private var entries: [OpaquePointer: Entry] = [:]
    private var retired: [Entry] = []

    public init() {}

    /// Starts recording the statements of `replica`'s writer connection (for its life; the
    /// connection runs one statement at a time, and so does this).
    public func attach(to replica: Replica) {
        _ = replica.store.pool.writeWithoutTransaction { db in
            sqlite3_trace_v2(db.sqliteConnection, UInt32(SQLITE_TRACE_PROFILE), { _, context, statement, elapsed in
                guard let context, let statement, let elapsed else { return 0 }
                let profile = Unmanaged<StatementProfile>.fromOpaque(context).takeUnretainedValue()
                profile.record(OpaquePointer(statement), nanoseconds: elapsed.load(as: Int64.self))
                return 0
            }, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    private func record(_ statement: OpaquePointer, nanoseconds: Int64) {
        let text = sqlite3_sql(statement)
        if let e = entries[statement], e.text != text {
            retired.append(e)
            entries[statement] = nil
        }
        if entries[statement] == nil {
            entries[statement] = Entry(text: text, sql: text.map { String(cString: $0) } ?? "")
        }
        entries[statement]!.count += 1
        entries[statement]!.nanoseconds += nanoseconds
    }

    /// The `n` statements with the most time: [{sql, count, seconds}], costliest first (then the
    /// most run).
    public func top(_ n: Int) -> JSON {
        var bySQL: [String: (count: Int, nanoseconds: Int64)] = [:]
        for e in Array(entries.values) + retired {
            let sql = e.sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            bySQL[sql, default: (0, 0)].count += e.count
            bySQL[sql, default: (0, 0)].nanoseconds += e.nanoseconds
        }
        let order = bySQL.sorted { a, b in (a.value.nanoseconds, a.value.count, a.key) > (b.value.nanoseconds, b.value.count, b.key) }
        return .array(order.prefix(n).map { sql, e in
            .object([("sql", .string(sql)), ("count", .int(Int64(e.count))), ("seconds", .double((Double(e.nanoseconds) / 1e6).rounded() / 1e3))])
        })
    }
}
