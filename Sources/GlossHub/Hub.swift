import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import NIOCore
import PostgresNIO

/// A hub replica whose log, pending, quarantine, peers and projections live in PostgreSQL
/// (Protocol/12-hub.md). Several hub processes may share one database.
public enum Hub {
    /// What `gloss hub init` did.
    public struct InitReport: Sendable {
        public var store: String
        public var projectionVersion: Int
        /// Migrations applied by this call (empty: the database was already initialized).
        public var applied: [String]
        public var migrations: [String]
        public var existing: Bool { applied.isEmpty }
    }

    /// Creates the hub schema through named migrations (a no-op when they are applied). Refuses a
    /// database built for another projection version.
    /// `join`: the hub joins a team (as `gloss init --join`): it adopts the first team genesis it
    /// receives; an admin adds each hub process's key (`gloss whoami --dir CACHE`) to the roster.
    public static func initialize(_ url: HubURL, join: Bool = false) throws -> InitReport {
        let schema = try HubSchema.fresh(join: join)
        let pg = PGConnection(url)
        defer { pg.close() }
        do {
            try pg.query("BEGIN")
            // Two `hub init` at once: the second waits, then finds everything applied.
            try pg.query("SELECT pg_advisory_xact_lock(\(HubStore.lockKey))")
            try pg.query("CREATE TABLE IF NOT EXISTS hub_migrations(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let done = try pg.query("SELECT name FROM hub_migrations ORDER BY applied_at, name").map { try Array($0)[0].decode(String.self) }
            var applied: [String] = []
            if !done.contains("v1-hub") {
                try pg.query("""
                    CREATE TABLE hub_meta(key text PRIMARY KEY, value text NOT NULL)
                    """)
                try pg.query("""
                    CREATE TABLE hub_changes(serial bigserial PRIMARY KEY, hub bytea NOT NULL,
                        at timestamptz NOT NULL DEFAULT now(), changes bytea NOT NULL)
                    """)
                // Stored out of line without compression: compressing megabytes of mostly signed,
                // hashed bytes cost more time than the write itself.
                try pg.query("ALTER TABLE hub_changes ALTER COLUMN changes SET STORAGE EXTERNAL")
                var b = PostgresBindings()
                b.append(UUID().uuidString.lowercased())
                try pg.query("INSERT INTO hub_meta(key, value) VALUES ('database', $1)", b)
                try pg.query("INSERT INTO hub_migrations(name) VALUES ('v1-hub')")
                applied.append("v1-hub")
            }
            if let other = done.first(where: { $0.hasPrefix("v2-replica-") && $0 != schema.migrationName }) {
                throw versionRefusal(url, found: other, schema: schema)
            }
            if !done.contains(schema.migrationName) {
                for statement in schema.ddl { try pg.query(statement) }
                let hub = HubStore(url: url, schema: schema)
                for t in schema.tables { if let rows = schema.seed[t.name] { try hub.insertRows(t, rows, on: pg) } }
                var b = PostgresBindings()
                b.append(String(schema.projectionVersion)); b.append(schema.fingerprint)
                try pg.query("INSERT INTO hub_meta(key, value) VALUES ('projection_version', $1), ('schema', $2)", b)
                var m = PostgresBindings()
                m.append(schema.migrationName)
                try pg.query("INSERT INTO hub_migrations(name) VALUES ($1)", m)
                applied.append(schema.migrationName)
            } else {
                try checkFingerprint(pg, url: url, schema: schema)
                if join {
                    let team = try pg.query("SELECT value FROM meta WHERE key = 'team'").first.map { try HubStore.value(Array($0)[0], .tagged) }
                    if team != .text("joining") {
                        throw GlossError(.refused, "--join applies when the hub database is created; \(url) exists and \(team == nil ? "belongs to no team" : "is a team's member already") (make a new database with `gloss hub init --join`)")
                    }
                }
            }
            try pg.query("COMMIT")
            return InitReport(store: url.description, projectionVersion: schema.projectionVersion, applied: applied,
                              migrations: done + applied)
        } catch {
            _ = try? pg.query("ROLLBACK")
            throw publicError(error, url)
        }
    }

    static func versionRefusal(_ url: HubURL, found: String, schema: HubSchema) -> GlossError {
        GlossError(.refused, "the hub database \(url) was built for projections version \(found.dropFirst("v2-replica-p".count)) (migration \(found)); this gloss builds version \(schema.projectionVersion). Serve it with the gloss build of that version, or `gloss hub init` a new database and let the clients sync into it")
    }

    static func checkFingerprint(_ pg: PGConnection, url: HubURL, schema: HubSchema) throws {
        let rows = try pg.query("SELECT key, value FROM hub_meta")
        var meta: [String: String] = [:]
        for r in rows { let c = Array(r); meta[try c[0].decode(String.self)] = try c[1].decode(String.self) }
        guard let version = meta["projection_version"] else {
            throw GlossError(.refused, "the hub database \(url) holds no hub schema; run `gloss hub init --store \(url)` first")
        }
        guard version == String(schema.projectionVersion) else {
            throw versionRefusal(url, found: "v2-replica-p\(version)", schema: schema)
        }
        guard meta["schema"] == schema.fingerprint else {
            throw GlossError(.refused, "the hub database \(url) has projection version \(version) but another table layout than this gloss build (schema \(meta["schema"]?.prefix(12) ?? "?") ≠ \(schema.fingerprint.prefix(12))); serve it with the build that created it, or `gloss hub init` a new database")
        }
    }

    /// Checks that the database is a hub of this build's schema; returns its id.
    static func check(_ pg: PGConnection, url: HubURL, schema: HubSchema) throws -> String {
        let exists = try pg.query("SELECT to_regclass('hub_migrations') IS NOT NULL").first.map { try Array($0)[0].decode(Bool.self) } ?? false
        let applied = exists ? try pg.query("SELECT name FROM hub_migrations").map { try Array($0)[0].decode(String.self) } : []
        guard applied.contains("v1-hub") else {
            throw GlossError(.notAReplica, "\(url) is not a hub database; run `gloss hub init --store \(url)` first")
        }
        if !applied.contains(schema.migrationName) {
            if let other = applied.first(where: { $0.hasPrefix("v2-replica-") }) { throw versionRefusal(url, found: other, schema: schema) }
            throw GlossError(.notAReplica, "\(url) has no replica schema yet; run `gloss hub init --store \(url)`")
        }
        try checkFingerprint(pg, url: url, schema: schema)
        guard let id = try pg.query("SELECT value FROM hub_meta WHERE key = 'database'").first.map({ try Array($0)[0].decode(String.self) }) else {
            throw GlossError(.internalError, "the hub database \(url) has no id in hub_meta")
        }
        return id
    }

    static func publicError(_ error: any Error, _ url: HubURL) -> any Error {
        if let e = error as? HubError {
            return GlossError(e.connectionLost ? .connectionFailed : .internalError, "the hub database \(url) failed: \(e.message)")
        }
        return error
    }

    /// Opens (creating on first use) the hub process's cache in `cache`, a replica folder with the
    /// hub's own key, brings it up to date with the database (a full copy when the cache is new or
    /// belongs to another database), and switches writing through on.
    public static func open(_ url: HubURL, cache: URL, analyst: String = "hub") throws -> Replica {
        let schema = try HubSchema.fresh()
        let hub = HubStore(url: url, schema: schema)
        let databaseID: String
        do { databaseID = try check(hub.reader, url: url, schema: schema) } catch { throw publicError(error, url) }
        let fm = FileManager.default
        let replica: Replica
        if fm.fileExists(atPath: cache.appendingPathComponent(Replica.directoryName).path) {
            replica = try Replica.open(at: cache, writeThrough: hub)
        } else {
            replica = try Replica.create(in: cache, analyst: analyst, writeThrough: hub)
        }
        hub.hubID = replica.replicaID.raw.bytes
        do {
            try replica.store.write { db in
                // A folder holding an ordinary replica is never taken for a cache (a bootstrap
                // replaces every table).
                if try !db.tableExists(HubSchema.cacheTable), try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0 > 0 {
                    throw GlossError(.refused, "\(cache.path) holds a replica with events that is not a hub cache; give the hub a folder of its own with --cache")
                }
                try db.execute(sql: HubStore.cacheSQL)
                let cachedID = try String.fetchOne(db, sql: "SELECT value FROM \(HubSchema.cacheTable) WHERE key = 'database'")
                if cachedID != databaseID {
                    try hub.bootstrap(db, databaseID: databaseID)
                } else {
                    hub.mark = try hub.currentMark(db)
                }
            }
            hub.active = true
            // The hub's own feed row, written through like any other row.
            try replica.store.write { db in _ = try replica.store.feedNumber(for: replica.replicaID, db) }
        } catch {
            try? replica.close()
            throw GlossError.wrap(publicError(error, url))
        }
        return replica
    }

    /// A replica in a temporary folder holding a copy of the database as of one snapshot (no
    /// writing through): what `gloss status`, `verify` and `digest --store` read with the engine's
    /// own code. Remove `folder` when done.
    public static func snapshot(_ url: HubURL) throws -> Replica {
        let schema = try HubSchema.fresh()
        let hub = HubStore(url: url, schema: schema)
        let databaseID: String
        do { databaseID = try check(hub.reader, url: url, schema: schema) } catch { throw publicError(error, url) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-hub-read-\(UUID().uuidString)")
        let replica = try Replica.create(in: dir, analyst: "hub")
        do {
            try replica.store.write { db in
                try db.execute(sql: HubStore.cacheSQL)
                try hub.bootstrap(db, databaseID: databaseID)
            }
        } catch {
            try? replica.close()
            try? FileManager.default.removeItem(at: dir)
            throw GlossError.wrap(publicError(error, url))
        }
        return replica
    }

    /// What `gloss hub prune` did.
    public struct PruneReport: Sendable {
        /// Changelog rows deleted.
        public var rows: Int
        /// Every changelog row up to this serial is gone (`hub_meta.pruned_through`; 0: none ever).
        public var through: Int64
    }

    /// Deletes the changelog rows (`hub_changes`) written more than `olderThan` seconds ago
    /// (Protocol/12-hub.md §Pruning the changelog), under the hub's lock, and records the last
    /// serial deleted in `hub_meta.pruned_through`: a cache whose mark is below it missed changes
    /// that are gone, so its next catch-up copies the database again (a bootstrap) instead of
    /// applying what is left.
    public static func prune(_ url: HubURL, olderThan seconds: Int) throws -> PruneReport {
        let schema = try HubSchema.fresh()
        let pg = PGConnection(url)
        defer { pg.close() }
        do {
            _ = try check(pg, url: url, schema: schema)
            try pg.query("BEGIN")
            try pg.query("SELECT pg_advisory_xact_lock(\(HubStore.lockKey))")
            var b = PostgresBindings()
            b.append(Double(seconds))
            let last = try pg.query("SELECT coalesce(max(serial), 0) FROM hub_changes WHERE at < now() - make_interval(secs => $1)", b)
                .first.map { try Array($0)[0].decode(Int64.self) } ?? 0
            var d = PostgresBindings()
            d.append(last)
            let rows = try pg.query("WITH gone AS (DELETE FROM hub_changes WHERE serial <= $1 RETURNING 1) SELECT count(*) FROM gone", d)
                .first.map { try Array($0)[0].decode(Int64.self) } ?? 0
            let through = try pg.query("""
                INSERT INTO hub_meta(key, value) VALUES ('pruned_through', $1::text)
                ON CONFLICT (key) DO UPDATE SET value = greatest(hub_meta.value::bigint, excluded.value::bigint)::text
                RETURNING value::bigint
                """, d).first.map { try Array($0)[0].decode(Int64.self) } ?? 0
            try pg.query("COMMIT")
            return PruneReport(rows: Int(rows), through: through)
        } catch {
            _ = try? pg.query("ROLLBACK")
            throw publicError(error, url)
        }
    }

    /// The default cache folder of a hub process: one per database and user, under the user's
    /// cache folder (`$XDG_CACHE_HOME`, else `~/.cache`).
    public static func defaultCache(for url: HubURL) -> URL {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        let id = Bytes32.sha256(Array(url.description.utf8)).hex.prefix(16)
        return base.appendingPathComponent("gloss").appendingPathComponent("hub-\(id)")
    }

    /// Events per feed in the database (`events(feed, seq)`): for tests and `gloss status`.
    public static func feedSequences(_ url: HubURL) throws -> [String: [Int64]] {
        let pg = PGConnection(url)
        defer { pg.close() }
        var out: [String: [Int64]] = [:]
        do {
            for r in try pg.query("SELECT encode(f.replica, 'hex'), e.seq FROM events e JOIN feeds f ON f.feed = e.feed ORDER BY f.feed, e.seq") {
                let c = Array(r)
                out[try c[0].decode(String.self), default: []].append(try c[1].decode(Int64.self))
            }
        } catch { throw publicError(error, url) }
        return out
    }
}

extension Hub {
    /// Creates a new, empty database `name` on the server of `url` (the user needs CREATEDB), for
    /// benchmarks; returns its URL.
    public static func createDatabase(on url: HubURL, name: String) throws -> HubURL {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw GlossError(.badInput, "a database name of letters, digits and _ only")
        }
        let pg = PGConnection(url)
        defer { pg.close() }
        do { try pg.query("CREATE DATABASE \(name)") } catch { throw publicError(error, url) }
        var out = url
        out.database = name
        return out
    }

    /// Drops a database made by `createDatabase` (its connections are ended).
    public static func dropDatabase(on url: HubURL, name: String) throws {
        let pg = PGConnection(url)
        defer { pg.close() }
        do { try pg.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") } catch { throw publicError(error, url) }
    }
}
