import Foundation

/// A fresh, empty PostgreSQL database for one hub test, on the cluster named by `GLOSS_PG_URL`
/// (`Scripts/pg-cluster.sh start` makes a throwaway one; `Scripts/test.sh` exports it). Created and
/// dropped with `psql` (Debian's postgresql-client).
public struct PostgresTestDatabase: Sendable {
    public let url: String
    let admin: String
    let name: String

    /// The cluster's URL, or nil when no cluster was given.
    public static var clusterURL: String? {
        ProcessInfo.processInfo.environment["GLOSS_PG_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
    /// True when `GLOSS_REQUIRE_PG=1`: the hub tests fail, rather than skip, without a cluster.
    public static var required: Bool { ProcessInfo.processInfo.environment["GLOSS_REQUIRE_PG"] == "1" }
    /// Whether the hub tests run (a cluster is given, or one is required and its absence must fail).
    public static var enabled: Bool { clusterURL != nil || required }

    /// Creates `gloss_test_<label>_<random>` on the cluster.
    public init(_ label: String) throws {
        guard let cluster = PostgresTestDatabase.clusterURL else {
            throw PostgresTestError(message: "GLOSS_PG_URL is not set: start a cluster with `Scripts/pg-cluster.sh start` and export its URL (Scripts/test.sh does)")
        }
        admin = cluster
        name = "gloss_test_\(label.lowercased().filter { $0.isLetter || $0.isNumber })_\(UUID().uuidString.prefix(8).lowercased())"
        guard let slash = cluster.lastIndex(of: "/") else { throw PostgresTestError(message: "GLOSS_PG_URL has no database: \(cluster)") }
        url = String(cluster[..<slash]) + "/" + name
        try PostgresTestDatabase.psql(admin, "CREATE DATABASE \(name)")
    }

    /// Runs SQL on this database; returns its unaligned, tuples-only output (`|` between columns).
    @discardableResult
    public func sql(_ statement: String) throws -> String { try PostgresTestDatabase.psql(url, statement) }

    public func drop() { _ = try? PostgresTestDatabase.psql(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }

    @discardableResult
    public static func psql(_ url: String, _ statement: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw PostgresTestError(message: "psql failed (\(p.terminationStatus)): \(String(decoding: e, as: UTF8.self))")
        }
        return String(decoding: o, as: UTF8.self)
    }
}

public struct PostgresTestError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
