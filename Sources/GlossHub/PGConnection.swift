import Foundation
import GlossEngine
import GlossNet
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// Where a hub's database is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (`postgresql://`
/// too). The password may also come from `PGPASSWORD`. Shown without its password.
public struct HubURL: Sendable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    public init(_ text: String) throws {
        let usage = "\"\(HubURL.withoutPassword(text).prefix(200))\" is not a PostgreSQL URL; write postgres://USER@HOST[:PORT]/DATABASE (for example postgres://gloss@127.0.0.1:5432/gloss)"
        guard let c = URLComponents(string: text), let scheme = c.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()),
              let host = c.host, !host.isEmpty, let user = c.user, !user.isEmpty else {
            throw GlossError(.badInput, usage)
        }
        let db = String(c.path.dropFirst())
        guard !db.isEmpty, !db.contains("/"), c.query == nil || c.query!.isEmpty else { throw GlossError(.badInput, usage) }
        if let p = c.port, !(1...65535).contains(p) { throw GlossError(.badInput, usage) }
        self.user = user
        self.password = c.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = c.port ?? 5432
        self.database = db
    }

    /// `text` with whatever stands where a URL's password would (between `user:` and the last `@`
    /// before the host) replaced by `***`: a malformed URL is echoed in its error message, and a
    /// password must never reach a terminal, a log or a JSON error (found by an audit, 2026-12-06).
    static func withoutPassword(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<rest.index(after: colon)]) + "***" + String(rest[at...])
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(h):\(port)/\(database)"
    }
}

/// One PostgreSQL connection used synchronously from one thread at a time (a SQLite write
/// transaction, a command). postgres-nio is asynchronous: each call waits for its future on the
/// calling thread, which is never a NIO event loop (SQLite work runs on dispatch queues and
/// command threads), so no event loop is ever blocked.
final class PGConnection: @unchecked Sendable {
    // @unchecked: `connection` and `transaction` are only touched under `lock`, and callers
    // serialize their use.
    let url: HubURL
    private var connection: PostgresConnection?
    /// The connection a transaction was begun on (`BEGIN…` succeeded, no `COMMIT`/`ROLLBACK` yet):
    /// every statement until then runs on it or fails — never on a new session, where it would run
    /// outside the transaction and its lock, and a `COMMIT` would report success for nothing.
    private var transaction: PostgresConnection?
    private let lock = NSLock()
    /// How long one statement may take before the connection is given up (a server that stopped
    /// answering — a failover, a dropped session — must not hold a hub's threads for ever): 20 s,
    /// or `GLOSS_HUB_STATEMENT_TIMEOUT`.
    static let deadline: TimeInterval = {
        ProcessInfo.processInfo.environment["GLOSS_HUB_STATEMENT_TIMEOUT"].flatMap(TimeInterval.init).flatMap { $0 > 0 && $0 <= 86_400 ? $0 : nil } ?? 20
    }()
    static let logger: Logger = {
        var l = Logger(label: "gloss.hub.postgres")
        l.logLevel = .error
        return l
    }()
    private static let ids = Locked(0)

    init(_ url: HubURL) { self.url = url }

    deinit {
        // postgres-nio requires a connection to be closed before it is released.
        if let c = connection { try? c.close().wait() }
    }

    private func connected() throws -> PostgresConnection {
        if let t = transaction {
            // Inside a transaction: its own session or nothing.
            guard !t.isClosed, t === connection else {
                transaction = nil
                connection = nil
                throw HubError(lost: "the connection to the hub database was lost inside a transaction; nothing of it was committed")
            }
            return t
        }
        if let c = connection, !c.isClosed { return c }
        connection = nil
        var config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user,
                                                      password: url.password, database: url.database, tls: .disable)
        config.options.connectTimeout = .seconds(10)
        let id = PGConnection.ids.withValue { $0 += 1; return $0 }
        do {
            let c = try PGConnection.wait(PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: config,
                                                                     id: id, logger: PGConnection.logger), deadline: 15, onTimeout: {})
            connection = c
            return c
        } catch {
            throw GlossError(.connectionFailed, "cannot connect to the hub database \(url): \(PGConnection.describe(error)); check that PostgreSQL runs there and accepts this user")
        }
    }

    /// Waits for `future` on this (non-event-loop) thread at most `deadline` seconds; on timeout,
    /// calls `onTimeout` (which closes the connection) and throws.
    private static func wait<T: Sendable>(_ future: EventLoopFuture<T>, deadline: TimeInterval, onTimeout: () -> Void) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<T, any Error>?>(nil)
        future.whenComplete { r in result.withValue { $0 = r }; done.signal() }
        guard done.wait(timeout: .now() + deadline) == .success else {
            onTimeout()
            throw HubError(lost: "the hub database did not answer within \(Int(deadline)) s; the connection was closed (GLOSS_HUB_STATEMENT_TIMEOUT sets the limit; the client may retry)")
        }
        return try result.withValue { $0! }.get()
    }

    /// Runs `sql` on the connection, keeping track of the transaction it begins or ends.
    private func run<T: Sendable>(_ sql: String, deadline: TimeInterval = PGConnection.deadline, _ body: (PostgresConnection) -> EventLoopFuture<T>) throws -> T {
        let c = try connected()
        let verb = sql.prefix(8).uppercased()
        let ends = verb.hasPrefix("COMMIT") || verb.hasPrefix("ROLLBACK")
        defer { if ends { transaction = nil } }
        do {
            let value = try PGConnection.wait(body(c), deadline: deadline, onTimeout: { let f: EventLoopFuture<Void> = c.close(); _ = f })
            if verb.hasPrefix("BEGIN") { transaction = c }
            return value
        } catch {
            if c.isClosed || error is HubError { connection = nil; transaction = nil }
            if let e = error as? HubError { throw e }
            throw HubError(error, sql: sql)
        }
    }

    /// Runs one statement (bound parameters `$1…`) and returns its rows. A `COMMIT` that the server
    /// answers with `ROLLBACK` (the transaction had failed) throws.
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> [PostgresRow] {
        lock.lock(); defer { lock.unlock() }
        let result = try run(sql) { $0.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: PGConnection.logger) }
        if sql.uppercased().hasPrefix("COMMIT"), result.metadata.command != "COMMIT" {
            throw HubError(lost: "the hub database rolled the transaction back instead of committing it (\(result.metadata.command))")
        }
        return result.rows
    }

    /// Closes the connection (the next query reconnects; a transaction open on it is lost).
    func close() {
        lock.lock(); defer { lock.unlock() }
        if let c = connection { _ = try? PGConnection.wait(c.close(), deadline: 10, onTimeout: {}) }
        connection = nil
        transaction = nil
    }

    /// Drops a connection whose state is unknown (after a failure inside a transaction).
    func reset() { close() }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HubError { return e.message }
        if let e = error as? PSQLError {
            if let info = e.serverInfo, let m = info[.message] {
                return m + (info[.sqlState].map { " (SQLSTATE \($0))" } ?? "") + (info[.detail].map { ": \($0)" } ?? "")
            }
            // A connection failure in words (NIO's own text names its internal types).
            if let u = e.underlying { return describeNetworkError(u) }
            return "\(e.code)"
        }
        return describeNetworkError(error)
    }
}

/// A PostgreSQL failure, with the server's message.
struct HubError: Error, CustomStringConvertible {
    var message: String
    var sqlState: String?
    var connectionLost: Bool
    init(_ error: any Error, sql: String) {
        message = PGConnection.describe(error)
        sqlState = (error as? PSQLError)?.serverInfo?[.sqlState]
        connectionLost = (error as? PSQLError)?.serverInfo == nil
        if !connectionLost { message += " [in: \(sql.prefix(120))]" }
    }
    /// The connection is gone (lost, closed at the deadline, or the transaction was rolled back).
    init(lost message: String) {
        self.message = message
        sqlState = nil
        connectionLost = true
    }
    var description: String { message }
}
