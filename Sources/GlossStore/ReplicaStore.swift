import Foundation
import GRDB
import GlossModel

/// The SQLite database of one replica: the log (`events`, `event_deps`, `feeds`), the replica's
/// identity, and the projections maintained by a `Projector` in the same transaction as each append
/// (DESIGN §6, Protocol/03-store.md).
///
/// All writes go through `write { }`, which opens a `BEGIN IMMEDIATE` transaction: two processes on
/// one replica serialize there, so the next seq is always read under the write lock.
public final class ReplicaStore: Sendable {
    public let pool: DatabasePool
    public let projector: any Projector
    public let path: String
    /// True when the database was opened as a read-only snapshot of the file (`Access.read` on a
    /// full disk): every write is refused as disk full.
    public let isSnapshot: Bool
    /// Another store every write transaction also goes to (a hub's PostgreSQL database,
    /// Protocol/12-hub.md); nil for an ordinary replica.
    public let writeThrough: (any WriteThrough)?
    /// Runs WAL checkpoints and upkeep off the write path; stopped by `close()`.
    let checkpointer: Checkpointer

    /// What the caller means to do with the replica.
    public enum Access: Sendable {
        /// Read and write (the default).
        case readWrite
        /// Only read (`status`, `verify`, `log`, `query`, …). Opening still writes when something must
        /// be written first (a migration, a projection rebuild), and otherwise writes nothing; when the
        /// disk is full (SQLite cannot even set up its shared-memory file) and the write-ahead log is
        /// empty, the database file is opened as an immutable snapshot instead.
        case read
    }

    /// Work opening an existing store does before it can be used, told to the caller as it starts
    /// (the caller words it: the CLI prints a line on standard error). A new database's creation is
    /// not upkeep and is not told.
    public enum Upkeep: Sendable, Equatable {
        /// Store migrations this file has not had yet (Protocol/03-store.md), applied now in one
        /// transaction; e.g. `v9-events-short-id` copies the log (47 s at 1,000,000 events).
        case migrating([String])
        /// The projections are rebuilt from the log: built by projection version `builtBy` (nil:
        /// left stale by an interrupted session) while this build's is `version`. Then
        /// `rebuilding` reports the progress.
        case rebuildingProjections(builtBy: Int?, version: Int, events: Int)
        case rebuilding(done: Int, total: Int)
    }

    /// Opens (creating if needed) the database at `path`, runs pending migrations, and rebuilds the
    /// projections when their version differs from the one they were built with. Opening writes
    /// nothing when nothing needs writing. `upkeep` hears of the migrations and rebuilds opening
    /// runs on an existing store, before they start (they can take a minute on a large log).
    public init(path: String, projector: any Projector, access: Access = .readWrite, writeThrough: (any WriteThrough)? = nil,
                upkeep: (@Sendable (Upkeep) -> Void)? = nil) throws {
        self.projector = projector
        self.path = path
        self.writeThrough = writeThrough
        let checkpointer = Checkpointer(path: path, maintenance: { try projector.maintain($0) })
        self.checkpointer = checkpointer
        let location = (path as NSString).deletingLastPathComponent
        var snapshot = false
        do {
            pool = try ReplicaStore.openPool(path: path, projector: projector, checkpointer: checkpointer, snapshot: false)
        } catch {
            guard access == .read, StoreError.storage(error, location: location) != nil, ReplicaStore.walIsEmpty(path),
                  let p = try? ReplicaStore.openPool(path: path, projector: projector, checkpointer: checkpointer, snapshot: true) else {
                if let e = error as? DatabaseError, e.resultCode == .SQLITE_CORRUPT || e.resultCode == .SQLITE_NOTADB {
                    // Damage, not permissions: say so, and what can be done (the message without the SQL SQLite was running).
                    throw StoreError(.corrupt, "the replica database at \(path) is damaged (SQLite: \(e.resultCode == .SQLITE_NOTADB ? "not a database" : "malformed")). Restore it from a backup; or move the .gloss folder away, `gloss init` a new replica and sync from a peer (never reuse the old key)")
                }
                throw StoreError.storage(error, location: location)
                    ?? StoreError(.corrupt, "cannot open the replica database at \(path); check the file and its permissions", underlying: error)
            }
            pool = p
            snapshot = true
        }
        isSnapshot = snapshot
        do {
            if snapshot {
                // Nothing can be written: the projections must be current as they are.
                let current = try pool.read { db in
                    try ReplicaStore.migrator.hasCompletedMigrations(db)
                        && Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'projection_version'") == projector.version
                        && !ReplicaStore.projectionsStale(db)
                }
                if !current { throw ReplicaStore.diskFull(location) }
            } else {
                let applied = try pool.read { try ReplicaStore.migrator.appliedIdentifiers($0) }
                let missing = ReplicaStore.migrator.migrations.filter { !applied.contains($0) }
                if !missing.isEmpty {
                    if !applied.isEmpty { upkeep?(.migrating(missing)) }
                    try ReplicaStore.migrator.migrate(pool)
                }
                try ensureProjections(upkeep)
            }
        } catch {
            checkpointer.stop()
            try? pool.close()
            throw StoreError.storage(error, location: location) ?? error
        }
    }

    private static func openPool(path: String, projector: any Projector, checkpointer: Checkpointer, snapshot: Bool) throws -> DatabasePool {
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.readonly = snapshot
        config.prepareDatabase { db in
            // Own events must be durable before they can leave the replica (DESIGN §1.8).
            try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA cache_size = -\(ReplicaStore.cacheKiB)")
            if !db.configuration.readonly { checkpointer.install(on: db) }
            RowChangeHook.install(db)
            projector.prepareConnection(db)
        }
        // (A URI: SQLite as built by Debian and Ubuntu reads URI file names.)
        let target = snapshot ? "file:" + path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)! + "?immutable=1" : path
        return try DatabasePool(path: target, configuration: config)
    }

    /// True when no write-ahead log holds frames (absent or empty): the database file alone is the
    /// replica, so an immutable snapshot of it reads every committed change.
    static func walIsEmpty(_ path: String) -> Bool {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path + "-wal") else { return true }
        return (attrs[.size] as? NSNumber)?.intValue == 0
    }

    static func diskFull(_ location: String) -> StoreError {
        StoreError(.diskFull, "the disk holding \(location) is full; free space and retry. Nothing was changed: the replica is consistent (check with `gloss verify`)")
    }

    // MARK: Schema

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        // Named, append-only migrations: never edit one that has shipped; add the next.
        m.registerMigration("v1-log") { db in
            try db.execute(sql: """
                CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
                CREATE TABLE feeds(
                    feed INTEGER PRIMARY KEY,
                    replica BLOB NOT NULL UNIQUE,
                    head_seq INTEGER NOT NULL DEFAULT 0,
                    head_id BLOB,
                    own_deps INTEGER NOT NULL DEFAULT 0,
                    state TEXT NOT NULL DEFAULT 'ok',
                    state_reason TEXT
                );
                CREATE TABLE events(
                    pos INTEGER PRIMARY KEY,
                    id BLOB NOT NULL UNIQUE,
                    feed INTEGER NOT NULL REFERENCES feeds(feed),
                    seq INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    author TEXT NOT NULL,
                    envelope BLOB NOT NULL,
                    payload BLOB,
                    UNIQUE(feed, seq)
                );
                CREATE INDEX events_time ON events(time);
                CREATE TABLE event_deps(
                    feed INTEGER NOT NULL,
                    dep_feed INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    dep_seq INTEGER NOT NULL,
                    PRIMARY KEY(feed, dep_feed, seq)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2-sync") { db in
            try db.execute(sql: """
                ALTER TABLE feeds ADD COLUMN fork_seq INTEGER;
                CREATE TABLE pending(
                    id BLOB PRIMARY KEY NOT NULL,
                    replica BLOB NOT NULL,
                    seq INTEGER NOT NULL,
                    envelope BLOB NOT NULL,
                    payload BLOB,
                    reason TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                CREATE INDEX pending_feed ON pending(replica, seq);
                CREATE TABLE quarantine(
                    id BLOB PRIMARY KEY NOT NULL,
                    replica BLOB,
                    seq INTEGER,
                    envelope BLOB NOT NULL,
                    payload BLOB,
                    reason TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                CREATE TABLE forks(
                    id BLOB PRIMARY KEY NOT NULL,
                    replica BLOB NOT NULL,
                    seq INTEGER NOT NULL,
                    other_id BLOB NOT NULL,
                    envelope BLOB NOT NULL,
                    payload BLOB,
                    detected_at INTEGER NOT NULL
                );
                CREATE TABLE peers(
                    replica BLOB PRIMARY KEY NOT NULL,
                    alias TEXT UNIQUE,
                    last_seen INTEGER
                );
                CREATE TABLE peer_acks(
                    peer BLOB NOT NULL,
                    replica BLOB NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY(peer, replica)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v3-trust") { db in
            // Expiry of waiting events by age (Protocol/03-store.md §Pending).
            try db.execute(sql: "CREATE INDEX pending_received ON pending(received_at)")
        }
        registerTeamMigration(&m)
        m.registerMigration("v5-indexes") { db in
            // Each piece of fork evidence names the other events at its (replica, seq): without this
            // index every one scanned the whole table, envelopes and payloads, so importing n events
            // of a forked feed took time quadratic in n (5,000 took over ten minutes).
            try db.execute(sql: "CREATE INDEX forks_feed ON forks(replica, seq, id)")
            // A local write names the feeds that moved since its feed's last event: without this
            // index each one scanned every feed (any key can add one).
            try db.execute(sql: "CREATE INDEX feeds_ahead ON feeds(feed) WHERE head_seq > own_deps")
        }
        m.registerMigration("v6-pending-waits") { db in
            // What each waiting event waits for, so an apply wakes only the events whose wait a
            // moved feed (or the clock) ended: every window re-tried every waiting event whose own
            // predecessor was held, so 100,000 events of throwaway keys naming a dependency that
            // never comes cost each later window 100,000 applies. Rows parked before this migration
            // wait for their own predecessor, or, when it is held, are retried once (`wait_until`
            // 0) and record what they wait for then.
            try db.execute(sql: """
                ALTER TABLE pending ADD COLUMN wait_replica BLOB;
                ALTER TABLE pending ADD COLUMN wait_seq INTEGER;
                ALTER TABLE pending ADD COLUMN wait_until INTEGER;
                UPDATE pending SET wait_replica = replica, wait_seq = seq - 1;
                UPDATE pending SET wait_replica = NULL, wait_seq = NULL, wait_until = 0
                    WHERE seq <= coalesce((SELECT head_seq FROM feeds WHERE feeds.replica = pending.replica), 0) + 1;
                CREATE INDEX pending_waits ON pending(wait_replica, wait_seq) WHERE wait_replica IS NOT NULL;
                CREATE INDEX pending_clock ON pending(wait_until) WHERE wait_until IS NOT NULL;
                """)
        }
        m.registerMigration("v7-quarantine-bound") { db in
            // A member can sign any number of different events at the seq where its feed stalls,
            // each denied and kept: at most `evidencePerSeq` per (replica, seq) now, the smallest
            // ids, as for fork evidence (a reader's 50 denied 100 KB events grew a peer by 5 MB).
            try db.execute(sql: """
                CREATE INDEX quarantine_feed ON quarantine(replica, seq, id);
                DELETE FROM quarantine WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY replica, seq ORDER BY id) AS n
                                                                    FROM quarantine) WHERE n > \(ReplicaStore.evidencePerSeq));
                """)
        }
        m.registerMigration("v8-waits-for-events") { db in
            // A redaction (or a fact's amendment) whose target is held nowhere here — neither in the
            // log nor as fork evidence — waits for that event (`pending.wait_id`): the receiver may
            // hold the other branch of a fork of the target's feed (deps name a seq, not which
            // branch), and judging it without the target quarantined a redaction (stalling its
            // author's feed) here while replicas that held the target applied it. A redaction met
            // as fork evidence before what its judgement needs (its target, a link of its chain of
            // evidence, its causal past) records what it waits for (`forks.wait_*`) and is judged
            // when that arrives, as it is when it came first.
            try db.execute(sql: """
                ALTER TABLE pending ADD COLUMN wait_id BLOB;
                CREATE INDEX pending_wait_event ON pending(wait_id) WHERE wait_id IS NOT NULL;
                ALTER TABLE forks ADD COLUMN wait_replica BLOB;
                ALTER TABLE forks ADD COLUMN wait_seq INTEGER;
                ALTER TABLE forks ADD COLUMN wait_id BLOB;
                CREATE INDEX forks_waits ON forks(wait_replica, wait_seq) WHERE wait_replica IS NOT NULL;
                CREATE INDEX forks_wait_event ON forks(wait_id) WHERE wait_id IS NOT NULL;
                """)
        }
        m.registerMigration("v9-events-short-id") { db in
            // `events.id` indexed by its first eight bytes (`ShortID`), not whole and UNIQUE: ids are
            // SHA-256 hashes, so each window's new events landed on random pages of a 32-byte-key
            // index — every page of it, rewritten window after window (10,600 of the 129,000 pages
            // a 100,000-event import wrote). Uniqueness needs no index of its own: an id is the hash
            // of an envelope naming its (replica, seq), which `UNIQUE(feed, seq)` keeps single, and
            // a second event at a held (replica, seq) is a fork, never a second row. The table is
            // copied (SQLite cannot drop a constraint in place); the `event_log` view names it and
            // is left as it is (`legacy_alter_table`: the rename does not re-check views).
            try db.execute(sql: """
                PRAGMA legacy_alter_table = ON;
                CREATE TABLE events_v9(
                    pos INTEGER PRIMARY KEY,
                    id BLOB NOT NULL,
                    feed INTEGER NOT NULL REFERENCES feeds(feed),
                    seq INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    author TEXT NOT NULL,
                    envelope BLOB NOT NULL,
                    payload BLOB,
                    UNIQUE(feed, seq)
                );
                INSERT INTO events_v9(pos, id, feed, seq, time, type, author, envelope, payload)
                    SELECT pos, id, feed, seq, time, type, author, envelope, payload FROM events ORDER BY pos;
                DROP TABLE events;
                ALTER TABLE events_v9 RENAME TO events;
                PRAGMA legacy_alter_table = OFF;
                CREATE INDEX events_time ON events(time);
                CREATE INDEX events_id ON events(\(ShortID.key("id")));
                """)
        }
        return m
    }

    private func ensureProjections(_ upkeep: (@Sendable (Upkeep) -> Void)?) throws {
        // Checked on a reader first: opening for a read takes no write lock and writes nothing.
        let current = try read { db in
            try Int.fetchOne(try db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'projection_version'")) == projector.version
                && !ReplicaStore.projectionsStale(db) && !projector.needsSettle(db)
        }
        if current { return }
        try write { db in
            let built = try Int.fetchOne(try db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'projection_version'"))
            // Stale: a session that deferred its rebuild (`applyRemote(deferRebuild:)`) ended
            // before it, killed or failed.
            if try built != projector.version || ReplicaStore.projectionsStale(db) {
                // Told once the log is counted (by the rebuild itself), when there is a log to replay.
                let version = projector.version, builtBy = built == version ? nil : built
                var told = false
                try rebuildProjections(db, started: { events in
                    guard let upkeep, events > 0 else { return }
                    told = true
                    upkeep(.rebuildingProjections(builtBy: builtBy, version: version, events: events))
                }, progress: { done, total in if told { upkeep?(.rebuilding(done: done, total: total)) } })
            } else {
                try projector.settle(db)
            }
        }
    }

    // MARK: Transactions

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction; commits when it returns, rolls back on throw.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        if isSnapshot { throw ReplicaStore.diskFull((path as NSString).deletingLastPathComponent) }
        var result: T?
        try pool.writeWithoutTransaction { db in
            do {
                try db.inTransaction(.immediate) {
                    try writeThrough?.begin(db)
                    result = try body(db)
                    try projector.willCommit(db)
                    try writeThrough?.commit(db)
                    return .commit
                }
            } catch {
                projector.didRollback(db)
                writeThrough?.rollback(db)
                throw error
            }
        }
        return result!
    }

    /// Brings this replica up to date with the store it writes through to (what other processes
    /// wrote there); nothing for an ordinary replica.
    public func refresh() throws {
        try writeThrough?.refresh(self)
    }

    /// Runs `body` on a read-only snapshot.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    // MARK: Identity

    /// Records the replica's own identity in a new database. Refuses if one is recorded.
    public func initialize(replica: ReplicaID, analyst: String) throws {
        try write { db in
            if try String.fetchOne(try db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'analyst'")) != nil {
                throw StoreError(.alreadyAReplica, "this database already belongs to a replica")
            }
            try db.run("INSERT INTO meta(key, value) VALUES ('analyst', ?), ('replica', ?)") { b in b.add(analyst); b.add(replica.raw.bytes) }
            _ = try feedNumber(for: replica, db)
        }
    }

    public func identity() throws -> (replica: ReplicaID, analyst: String) {
        try read { db in
            guard let analyst = try String.fetchOne(try db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'analyst'")),
                  let replica = try ReplicaStore.replicaID(db) else {
                throw StoreError(.notAReplica, "the database at \(path) holds no replica identity; run `gloss init`")
            }
            return (replica, analyst)
        }
    }

    /// This replica's own id (`meta.replica`; nil when none, or not 32 bytes).
    static func replicaID(_ db: Database) throws -> ReplicaID? {
        try Data.fetchOne(try db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'replica'"))
            .flatMap { Bytes32(exactly: Array($0)) }.map(ReplicaID.init)
    }

    // MARK: Feeds

    /// The local feed number for `replica`, creating the feed row if it is new.
    public func feedNumber(for replica: ReplicaID, _ db: Database) throws -> Int64 {
        let blob = Data(replica.raw.bytes)
        if let f = try Int64.fetchOne(try db.cachedStatement(sql: "SELECT feed FROM feeds WHERE replica = ?"), arguments: [blob]) { return f }
        try db.run("INSERT INTO feeds(replica) VALUES (?)") { b in b.add(blob) }
        return db.lastInsertedRowID
    }

    /// This replica's version vector: the highest seq held of every feed.
    public func vector(_ db: Database) throws -> VersionVector {
        var v: [ReplicaID: UInt64] = [:]
        let cursor = try Row.fetchCursor(db, sql: "SELECT replica, head_seq FROM feeds WHERE head_seq > 0")
        while let row = try cursor.next() {
            let blob: Data = row[0]
            guard let r = Bytes32(exactly: Array(blob)) else { throw StoreError(.corrupt, "feeds table holds a replica id that is not 32 bytes") }
            v[ReplicaID(r)] = UInt64(row[1] as Int64)
        }
        return VersionVector(v)
    }

    /// The last hybrid time seen (own or applied), the floor for the next local event.
    public func lastTime(_ db: Database) throws -> HybridTime {
        HybridTime(raw: UInt64(bitPattern: try Int64.fetchOne(try db.cachedStatement(sql: "SELECT max(time) FROM events")) ?? 0))
    }

    // MARK: Local append

    /// Signs and appends a new event of this replica's own feed, and projects it, in one
    /// `BEGIN IMMEDIATE` transaction. The event is durable when this returns.
    ///
    /// ```swift
    /// let e = try store.appendLocal(key: key, author: "ana", payload: NoteAdded(on: a, body: "…"), wallMilliseconds: now)
    /// ```
    @discardableResult
    public func appendLocal<P: EventPayload>(key: ReplicaKey, author: String, payload: P, wallMilliseconds: UInt64) throws -> SignedEvent {
        try write { db in try appendLocal(key: key, author: author, payload: payload, wallMilliseconds: wallMilliseconds, db) }
    }

    /// As `appendLocal(key:author:payload:wallMilliseconds:)`, inside a transaction the caller holds.
    public func appendLocal<P: EventPayload>(key: ReplicaKey, author: String, payload: P, wallMilliseconds: UInt64, _ db: Database) throws -> SignedEvent {
        try appendLocal(key: key, author: author, type: P.type, schema: P.schema, payload: payload.encoded, wallMilliseconds: wallMilliseconds, db)
    }

    public func appendLocal(key: ReplicaKey, author: String, type: String, schema: UInt16, payload: [UInt8],
                            wallMilliseconds: UInt64, genesis: Bool = false, _ db: Database) throws -> SignedEvent {
        guard payload.count <= ProtocolLimits.maxPayloadBytes else {
            throw StoreError(.invalidInput, "this \(type) event would carry \(payload.count) bytes, over the \(ProtocolLimits.maxPayloadBytes)-byte limit of one event (Protocol/01-event.md); nothing was written")
        }
        let (team, change) = try checkLocalWrite(author: author, signer: key.replicaID, type: type, schema: schema, payload: payload, genesis: genesis, db)
        let own = try feedNumber(for: key.replicaID, db)
        guard let head = try Row.fetchOne(try db.cachedStatement(sql: "SELECT head_seq, head_id, state FROM feeds WHERE feed = ?"), arguments: [own]) else {
            throw StoreError(.corrupt, "own feed row is missing")
        }
        let state: String = head["state"]
        guard state == "ok" else {
            throw StoreError(.feedFrozen, "this replica's own feed is \(state); it cannot write until that is resolved (see `gloss status`)")
        }
        let seq = UInt64(head["head_seq"] as Int64) + 1
        let prev = (head["head_id"] as Data?).flatMap { Bytes32(exactly: Array($0)) }.map(EventID.init) ?? .zero
        // Deps: the entries of our vector that grew since our previous event (Protocol/01-event.md §Deps).
        var delta: [(replica: ReplicaID, seq: UInt64)] = []
        var deltaFeeds: [(Int64, UInt64)] = []
        let cursor = try Row.fetchCursor(try db.cachedStatement(sql: "SELECT feed, replica, head_seq FROM feeds WHERE head_seq > own_deps AND feed != ?"), arguments: [own])
        while let row = try cursor.next() {
            let blob: Data = row[1]
            let s = UInt64(row[2] as Int64)
            delta.append((ReplicaID(Bytes32(exactly: Array(blob))!), s))
            deltaFeeds.append((row[0], s))
        }
        // A redaction of fork evidence names the evidence's seq of its frozen feed, and is later.
        var last = try lastTime(db)
        if let e = try evidenceDep(type: type, schema: schema, payload: payload, db), e.feed != own {
            if let i = deltaFeeds.firstIndex(where: { $0.0 == e.feed }) {
                delta[i].seq = max(delta[i].seq, e.seq); deltaFeeds[i].1 = delta[i].seq
            } else if try e.seq > (Int64.fetchOne(db, sql: "SELECT own_deps FROM feeds WHERE feed = ?", arguments: [e.feed]).map(UInt64.init) ?? 0) {
                delta.append((e.replica, e.seq)); deltaFeeds.append((e.feed, e.seq))
            }
            if e.time > last.raw { last = HybridTime(raw: e.time) }
        }
        let time = HybridClock.tick(last: last, wallMilliseconds: wallMilliseconds)
        guard time.raw <= ProtocolLimits.maxTime else {
            throw StoreError(.refused, "the replica's clock has reached the protocol's last time (2^63 − 1); no event can be written")
        }
        let env = EventEnvelope(team: team, key: key, seq: seq, prev: prev, time: time, depsDelta: delta,
                                author: author, type: type, schema: schema, payload: payload)
        for (f, s) in deltaFeeds {
            try db.run("UPDATE feeds SET own_deps = ? WHERE feed = ?") { b in b.add(Int64(s)); b.add(f) }
        }
        // Projections a session left stale (a sync or import in progress in another process) are
        // rebuilt first, so a local write never lands on rows its log no longer backs.
        if try ReplicaStore.projectionsStale(db) { try rebuildProjections(db, progress: nil) }
        try insert(env, payload: payload, feed: own, depFeeds: deltaFeeds, db)
        if let change {
            var none: TeamContext?
            try recordRoster(env, payload: payload, change: change, feed: own, context: &none, db)
        }
        if try applyRedaction(env, payload: payload, db) { try rebuildProjections(db, progress: nil) }
        return SignedEvent(envelope: env, payload: payload)
    }

    /// Inserts a verified event whose causal past is already applied, updates its feed head (unless
    /// the caller writes the heads of a whole window itself: `updateHead: false`), and projects it
    /// (`decoded`: its payload, when it was decoded off the writer's thread).
    /// The one write path for local and remote events.
    public func insert(_ env: EventEnvelope, payload: [UInt8]?, decoded: DecodedPayload? = nil, feed: Int64, depFeeds: [(Int64, UInt64)],
                       updateHead: Bool = true, project: Bool = true, _ db: Database) throws {
        try db.run("INSERT INTO events(id, feed, seq, time, type, author, envelope, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)") { b in
            b.add(env.id.raw.bytes); b.add(feed); b.add(Int64(env.seq)); b.add(Int64(bitPattern: env.time.raw))
            b.add(env.type); b.add(env.author); b.add(env.bytes)
            if let payload { b.add(payload) } else { b.null() }
        }
        let pos = db.lastInsertedRowID
        for (f, s) in depFeeds {
            try db.run("INSERT INTO event_deps(feed, dep_feed, seq, dep_seq) VALUES (?, ?, ?, ?)") { b in
                b.add(feed); b.add(f); b.add(Int64(env.seq)); b.add(Int64(s))
            }
        }
        if updateHead { try setHead(feed: feed, seq: env.seq, id: env.id, db) }
        guard project else { return }
        try projector.apply(AppliedEvent(envelope: env, payload: payload, pos: pos, feed: feed, decoded: decoded, depFeeds: depFeeds), store: self, db)
    }

    func setHead(feed: Int64, seq: UInt64, id: EventID, _ db: Database) throws {
        try db.run("UPDATE feeds SET head_seq = ?, head_id = ? WHERE feed = ?") { b in b.add(Int64(seq)); b.add(id.raw.bytes); b.add(feed) }
    }

    // MARK: Causality

    /// The seq of feed `depFeed` in the full deps of event (`feed`, `seq`).
    public func depSeq(feed: Int64, seq: UInt64, on depFeed: Int64, _ db: Database) throws -> UInt64 {
        if feed == depFeed { return seq > 0 ? seq - 1 : 0 }
        let v = try db.first("SELECT dep_seq FROM event_deps WHERE feed = ? AND dep_feed = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
                             { $0.add(feed); $0.add(depFeed); $0.add(Int64(seq)) }) { $0.int(0) }
        return UInt64(v ?? 0)
    }

    /// True when event a = (`feedA`, `seqA`) happened before event b = (`feedB`, `seqB`) (DESIGN §1.2).
    public func happenedBefore(feedA: Int64, seqA: UInt64, feedB: Int64, seqB: UInt64, _ db: Database) throws -> Bool {
        try ReplicaStore.happenedBefore(feedA: feedA, seqA: seqA, feedB: feedB, seqB: seqB) { try depSeq(feed: $0, seq: $1, on: $2, db) }
    }

    /// The same relation with the deps lookup given (`depSeq(feed, seq, on)`, e.g. memoized); it is
    /// only asked about two different feeds.
    public static func happenedBefore(feedA: Int64, seqA: UInt64, feedB: Int64, seqB: UInt64,
                                      depSeq: (Int64, UInt64, Int64) throws -> UInt64) rethrows -> Bool {
        if feedA == feedB { return seqA < seqB }
        return try depSeq(feedB, seqB, feedA) >= seqA
    }

    /// The full deps vector of event (`feed`, `seq`): the accumulation of its feed's deps deltas.
    public func fullDeps(feed: Int64, seq: UInt64, _ db: Database) throws -> VersionVector {
        var v: [ReplicaID: UInt64] = [:]
        let cursor = try Row.fetchCursor(try db.cachedStatement(sql: """
            SELECT f.replica, max(d.dep_seq) FROM event_deps d JOIN feeds f ON f.feed = d.dep_feed
            WHERE d.feed = ? AND d.seq <= ? GROUP BY d.dep_feed
            """), arguments: [feed, Int64(seq)])
        while let row = try cursor.next() {
            let blob: Data = row[0]
            v[ReplicaID(Bytes32(exactly: Array(blob))!)] = UInt64(row[1] as Int64)
        }
        return VersionVector(v)
    }

    // MARK: Rebuild

    /// Drops the projections and replays the whole log into them, streaming in local order.
    /// `started` is called once with the number of events to replay, before the first;
    /// `progress` with (done, total) every few thousand events.
    public func rebuildProjections(_ db: Database, started: ((Int) -> Void)? = nil, progress: ((Int, Int) -> Void)?) throws {
        try writeThrough?.willRebuildProjections(db)
        try projector.dropSchema(db)
        try projector.createSchema(db)
        let total = try Int.fetchOne(try db.cachedStatement(sql: "SELECT count(*) FROM events")) ?? 0
        started?(total)
        var done = 0
        // Events of a forked feed from its fork on are kept as evidence but not projected (DESIGN §1.9).
        var frozen: [Int64: Int64] = [:]
        for row in try Row.fetchAll(try db.cachedStatement(sql: "SELECT feed, fork_seq FROM feeds WHERE fork_seq IS NOT NULL")) { frozen[row[0]] = row[1] }
        // Deps by local feed number, as the apply path hands them to the projector (its window's causal answers).
        var feeds: [ReplicaID: Int64] = [:]
        try db.rows("SELECT replica, feed FROM feeds", { _ in }) { c in
            if let r = Bytes32(exactly: c.blob(0)) { feeds[ReplicaID(r)] = c.int(1) }
        }
        // Rows are read here in batches; each batch is decoded (envelopes and payloads) on another
        // thread while the previous one is applied (its events count as done once applied).
        var after: Int64 = 0
        var decoding: DecodingBatch?
        defer { decoding?.wait() }
        while true {
            var raw: [RawStoredEvent] = []
            raw.reserveCapacity(ReplicaStore.rebuildBatch)
            try db.rows("SELECT pos, feed, seq, envelope, payload FROM events WHERE pos > ? ORDER BY pos LIMIT ?", { b in
                b.add(after); b.add(ReplicaStore.rebuildBatch)
            }) { c in
                raw.append(RawStoredEvent(pos: c.int(0), feed: c.int(1), seq: c.int(2), envelope: c.blob(3), payload: c.isNull(4) ? nil : c.blob(4)))
            }
            if let last = raw.last { after = last.pos }
            let next = raw.isEmpty ? nil : DecodingBatch(raw.filter { e in frozen[e.feed].map { e.seq < $0 } ?? true })
            done += raw.count - (next?.count ?? 0)
            if let batch = decoding {
                for var e in try batch.events() {
                    e.depFeeds = e.envelope.depsDelta.reduce(into: [] as [(Int64, UInt64)]?) { out, d in
                        if let f = feeds[d.replica] { out?.append((f, d.seq)) } else { out = nil }
                    }
                    try projector.apply(e, store: self, db)
                    done += 1
                    if done % 5000 == 0 { progress?(done, total) }
                }
            }
            decoding = next
            if raw.isEmpty { break }
        }
        progress?(done, total)
        try db.run("INSERT OR REPLACE INTO meta(key, value) VALUES ('projection_version', ?)") { b in b.add(projector.version) }
        try db.execute(sql: "DELETE FROM meta WHERE key = 'projections_stale'")
    }

    /// True when `meta.projections_stale` is set: a session deferred a rebuild (Protocol/03-store.md
    /// §Deferred rebuilds) and the projections do not yet show what the log holds.
    static func projectionsStale(_ db: Database) throws -> Bool {
        try Bool.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM meta WHERE key = 'projections_stale'")) ?? false
    }

    /// Marks the projections stale, in the caller's transaction: the rebuild they need is deferred to
    /// the end of the session (`rebuildIfStale`) or, after a crash, to the next open.
    func markProjectionsStale(_ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('projections_stale', 1)")
    }

    /// True when a session left the projections stale (`meta.projections_stale`): its rebuild is due.
    public func projectionsAreStale() throws -> Bool { try read { try ReplicaStore.projectionsStale($0) } }

    /// Rebuilds the projections when a session left them stale (one rebuild however many windows
    /// needed one). Returns true when it rebuilt. A reader checks first: nothing is written otherwise.
    @discardableResult
    public func rebuildIfStale() throws -> Bool {
        guard try projectionsAreStale() else { return false }
        return try write { db in
            guard try ReplicaStore.projectionsStale(db) else { return false }
            try rebuildProjections(db, progress: nil)
            return true
        }
    }
}

/// Events per batch of a rebuild: read by the writer, decoded on another thread.
extension ReplicaStore {
    static let rebuildBatch = 512
    /// SQLite's page cache per connection, in KiB.
    static let cacheKiB = 16_384
    /// The writer's page cache while it applies a stream (`applyStream`: a bundle import), in KiB:
    /// at 1,000,000 events the indexes of random keys no longer fit 16 MiB, and pages read back cost
    /// system time (2026-12-07, one run each, alternating: 119 · 138 s at 16 MiB, 128 · 112 s at
    /// 32 MiB; system time 43 · 48 against 41 · 35 s), within the import's 100 MB.
    static let bulkCacheKiB = 32_768
}

/// One row of the log as stored, not yet decoded.
struct RawStoredEvent: Sendable {
    var pos: Int64, feed: Int64, seq: Int64
    var envelope: [UInt8], payload: [UInt8]?
}

/// A batch of stored events decoding on a global queue (envelopes, then payloads for the
/// projector); `events()` waits for it and returns them in order, or the first decoding error.
final class DecodingBatch: @unchecked Sendable {
    let count: Int
    private var result: Result<[AppliedEvent], Error>?
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    init(_ raw: [RawStoredEvent]) {
        count = raw.count
        DispatchQueue.global().async { [self] in
            result = Result {
                try raw.map { r in
                    let env: EventEnvelope
                    do { env = try EventEnvelope(decoding: r.envelope) } catch {
                        throw StoreError(.corrupt, "the event at pos \(r.pos) has an undecodable envelope; run `gloss verify`", underlying: error)
                    }
                    return AppliedEvent(envelope: env, payload: r.payload, pos: r.pos, feed: r.feed,
                                        decoded: DecodedPayload(type: env.type, schema: env.schema, payload: r.payload))
                }
            }
            done.signal()
        }
    }

    /// Waits until the batch is decoded (once; later calls return at once).
    func wait() {
        guard !waited else { return }
        done.wait()
        waited = true
    }

    func events() throws -> [AppliedEvent] {
        wait()
        return try result!.get()
    }
}
