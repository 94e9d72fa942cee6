import Foundation
import GRDB
import GlossModel

extension FeedState: DatabaseValueConvertible {}

/// A peer this replica knows (`peers`), with the alias given to it.
public struct PeerRecord: Sendable {
    public var replica: ReplicaID
    public var alias: String?
    /// When it was last heard from (milliseconds since the epoch, this replica's clock).
    public var lastSeen: UInt64?
}

/// An authenticated event rejected for breaking a rule of its own feed (`quarantine`).
public struct QuarantinedEvent: Sendable {
    /// Hex of the stored id.
    public var event: String
    /// Hex of the feed's replica ("" when unknown).
    public var replica: String
    public var seq: Int64
    public var reason: String
    public var receivedAt: UInt64
}

/// What waits in the pending table for one feed (`gloss pending`).
public struct PendingFeed: Sendable {
    public var replica: ReplicaID
    public var events: Int
    public var lowestSeq: UInt64
    public var highestSeq: UInt64
    /// Why the lowest waiting event waits (its feed predecessor, a dependency, or its time).
    public var reason: String
    /// When the oldest of them arrived (milliseconds since the epoch, this replica's clock).
    public var oldestReceivedAt: UInt64
    /// When the oldest expires if nothing it waits for arrives (Protocol/03-store.md §Pending).
    public var expiresAt: UInt64
}

/// A feed that is not `ok`, with the reason (`gloss status`).
public struct FeedProblem: Sendable {
    public var replica: ReplicaID
    public var state: FeedState
    public var reason: String
}

/// The store owns the sync bookkeeping: peers and what they acknowledged, quarantine, pending.
extension ReplicaStore {
    // MARK: Peers and acknowledgements (DESIGN §5)

    /// Notes that `peer` was heard from at `now` and merges `vector` into what it acknowledged
    /// holding, entry by entry (never lowering one). The caller decides what may be recorded.
    public func recordAcknowledged(_ peer: ReplicaID, vector: VersionVector, now: UInt64, _ db: Database) throws {
        let p = Data(peer.raw.bytes)
        try db.execute(sql: "INSERT INTO peers(replica, last_seen) VALUES (?, ?) ON CONFLICT(replica) DO UPDATE SET last_seen = excluded.last_seen",
                       arguments: [p, Int64(clamping: now)])
        for (r, seq) in vector.sorted {
            try db.cachedStatement(sql: """
                INSERT INTO peer_acks(peer, replica, seq) VALUES (?, ?, ?)
                ON CONFLICT(peer, replica) DO UPDATE SET seq = max(seq, excluded.seq)
                """).execute(arguments: [p, Data(r.raw.bytes), Int64(seq)])
        }
    }

    /// What `peer` has acknowledged holding.
    public func acknowledged(by peer: ReplicaID, _ db: Database) throws -> VersionVector {
        var v = VersionVector()
        for row in try Row.fetchAll(db, sql: "SELECT replica, seq FROM peer_acks WHERE peer = ?", arguments: [Data(peer.raw.bytes)]) {
            if let r = Bytes32(exactly: Array(row[0] as Data)) { v[ReplicaID(r)] = UInt64(row[1] as Int64) }
        }
        return v
    }

    /// Known peers, by alias (none first), then id.
    public func peers(_ db: Database) throws -> [PeerRecord] {
        try Row.fetchAll(db, sql: "SELECT replica, alias, last_seen FROM peers ORDER BY coalesce(alias, ''), replica").map { row in
            PeerRecord(replica: ReplicaID(Bytes32(exactly: Array(row[0] as Data))!), alias: row[1], lastSeen: (row[2] as Int64?).map(UInt64.init))
        }
    }

    /// The replica an alias names.
    public func peer(alias: String, _ db: Database) throws -> ReplicaID? {
        try Data.fetchOne(db, sql: "SELECT replica FROM peers WHERE alias = ?", arguments: [alias]).flatMap { Bytes32(exactly: Array($0)) }.map(ReplicaID.init)
    }

    /// Gives `peer` the alias (the caller checked it names no other peer).
    public func setAlias(_ alias: String, for peer: ReplicaID, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO peers(replica, alias) VALUES (?, ?) ON CONFLICT(replica) DO UPDATE SET alias = excluded.alias",
                       arguments: [Data(peer.raw.bytes), alias])
    }

    /// Replicas this store knows (a peer, a feed, or a feed with waiting events) whose id starts
    /// with the hex `prefix`; at most `limit`. Nil when `prefix` is not hex.
    public func knownReplicas(prefix: String, limit: Int, _ db: Database) throws -> Set<ReplicaID>? {
        guard let (lo, hi) = ReplicaStore.blobRange(hexPrefix: prefix) else { return nil }
        return Set(try Data.fetchAll(db, sql: """
            SELECT replica FROM peers WHERE replica BETWEEN ?1 AND ?2 UNION SELECT replica FROM feeds WHERE replica BETWEEN ?1 AND ?2
            UNION SELECT replica FROM pending WHERE replica BETWEEN ?1 AND ?2 LIMIT ?3
            """, arguments: [lo, hi, limit]).compactMap { Bytes32(exactly: Array($0)).map(ReplicaID.init) })
    }

    // MARK: Quarantine, pending, feeds

    /// Quarantined events, oldest first.
    public func quarantined(_ db: Database) throws -> [QuarantinedEvent] {
        try Row.fetchAll(db, sql: "SELECT id, replica, seq, reason, received_at FROM quarantine ORDER BY received_at, replica, seq").map { row in
            QuarantinedEvent(event: Hex.encode(row[0] as Data), replica: Hex.encode((row[1] as Data?) ?? Data()), seq: row[2] ?? 0,
                             reason: row[3], receivedAt: UInt64(row[4] as Int64))
        }
    }

    public func quarantineCount(_ db: Database) throws -> Int { try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine") ?? 0 }

    public func pendingCount(_ db: Database) throws -> Int { try Int.fetchOne(db, sql: "SELECT count(*) FROM pending") ?? 0 }

    /// The pending table by feed, most waiting first; `lifetime` (ms) gives each feed's expiry.
    public func pendingFeeds(lifetime: UInt64, _ db: Database) throws -> [PendingFeed] {
        try Row.fetchAll(db, sql: """
            SELECT p.replica, count(*) AS n, min(p.seq), max(p.seq), min(p.received_at),
                   (SELECT q.reason FROM pending q WHERE q.replica = p.replica ORDER BY q.seq, q.id LIMIT 1)
            FROM pending p GROUP BY p.replica ORDER BY n DESC, p.replica
            """).map { row in
            let received = UInt64(row[4] as Int64)
            return PendingFeed(replica: ReplicaID(Bytes32(exactly: Array(row[0] as Data)) ?? .zero), events: row[1],
                               lowestSeq: UInt64(row[2] as Int64), highestSeq: UInt64(row[3] as Int64), reason: row[5],
                               oldestReceivedAt: received, expiresAt: received.addingSaturating(lifetime))
        }
    }

    /// Drops waiting events: those of `feed`, or all when nil. Returns how many.
    public func dropPending(feed: ReplicaID?, _ db: Database) throws -> Int {
        if let feed {
            try db.execute(sql: "DELETE FROM pending WHERE replica = ?", arguments: [Data(feed.raw.bytes)])
        } else {
            try db.execute(sql: "DELETE FROM pending")
        }
        return db.changesCount
    }

    /// Feeds that are stalled or forked, by replica.
    public func feedProblems(_ db: Database) throws -> [FeedProblem] {
        try Row.fetchAll(db, sql: "SELECT replica, state, state_reason FROM feeds WHERE state != 'ok' ORDER BY replica").map {
            FeedProblem(replica: ReplicaID(Bytes32(exactly: Array($0[0] as Data))!), state: $0[1], reason: ($0[2] as String?) ?? "")
        }
    }
}
