import GRDB

/// One row as its columns, in the order the statement names them, with their SQLite values: what a
/// reader gets when the row is shown whole (`gloss show`, histories), so its form follows the table.
public struct TableRow: Sendable, Equatable {
    public var columns: [String]
    public var values: [ReadOnlyQuery.Value]

    public init(columns: [String], values: [ReadOnlyQuery.Value]) {
        precondition(columns.count == values.count)
        self.columns = columns; self.values = values
    }

    /// The value of the column `name` (nil when the row has no such column).
    public subscript(name: String) -> ReadOnlyQuery.Value? {
        columns.firstIndex(of: name).map { values[$0] }
    }

    init(_ row: Row) {
        self.init(columns: Array(row.columnNames), values: row.databaseValues.map(ReadOnlyQuery.Value.init))
    }

    /// The rows `sql` returns (the SQL is the reading module's own; callers above it pass ids).
    package static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [TableRow] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map(TableRow.init)
    }

    package static func fetchOne(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> TableRow? {
        try Row.fetchOne(db, sql: sql, arguments: arguments).map(TableRow.init)
    }
}

extension ReadOnlyQuery.Value {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .text(s)
        case .blob(let b): self = .blob(Array(b))
        }
    }

    /// The text, when the value is text.
    public var text: String? { if case .text(let s) = self { s } else { nil } }
}
