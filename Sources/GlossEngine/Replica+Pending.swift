import Foundation
import GRDB
import GlossModel
import GlossStore

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

    public var json: JSON {
        .object([("replica", .string(replica.hex)), ("events", .int(Int64(events))),
                 ("lowestSeq", .int(Int64(lowestSeq))), ("highestSeq", .int(Int64(highestSeq))), ("reason", .string(reason)),
                 ("oldestReceivedAt", .string(CivilTime.rfc3339(milliseconds: oldestReceivedAt))),
                 ("expiresAt", .string(CivilTime.rfc3339(milliseconds: expiresAt)))])
    }
}

extension Replica {
    /// The pending table by feed, most waiting first. Expired entries are dropped and ready ones
    /// applied first (an event from the future whose time has come).
    public func pending(limits: PendingLimits = .standard) throws -> [PendingFeed] {
        _ = try store.drainPending(now: clock(), limits: limits)
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.replica, count(*) AS n, min(p.seq), max(p.seq), min(p.received_at),
                       (SELECT q.reason FROM pending q WHERE q.replica = p.replica ORDER BY q.seq, q.id LIMIT 1)
                FROM pending p GROUP BY p.replica ORDER BY n DESC, p.replica
                """).map { row in
                let received = UInt64(row[4] as Int64)
                return PendingFeed(replica: ReplicaID(Bytes32(exactly: Array(row[0] as Data)) ?? .zero), events: row[1],
                                   lowestSeq: UInt64(row[2] as Int64), highestSeq: UInt64(row[3] as Int64), reason: row[5],
                                   oldestReceivedAt: received, expiresAt: received.addingSaturating(limits.lifetime))
            }
        }
    }

    /// Drops waiting events: those of `feed`, or all when `feed` is nil. Returns how many. They
    /// are not lost: the peer that sent them offers them again (they are above this replica's vector).
    @discardableResult
    public func dropPending(feed: ReplicaID?) throws -> Int {
        try write { db in
            if let feed {
                try db.execute(sql: "DELETE FROM pending WHERE replica = ?", arguments: [Data(feed.raw.bytes)])
            } else {
                try db.execute(sql: "DELETE FROM pending")
            }
            return db.changesCount
        }
    }
}
