import Foundation
import GlossModel
import GlossStore

extension Replica {
    /// The pending table by feed, most waiting first. Expired entries are dropped and ready ones
    /// applied first (an event from the future whose time has come).
    public func pending(limits: PendingLimits = .standard) throws -> [PendingFeed] {
        _ = try store.drainPending(now: clock(), limits: limits)
        return try read { db in try store.pendingFeeds(lifetime: limits.lifetime, db) }
    }

    /// Drops waiting events: those of `feed`, or all when `feed` is nil. Returns how many. They
    /// are not lost: the peer that sent them offers them again (they are above this replica's vector).
    @discardableResult
    public func dropPending(feed: ReplicaID?) throws -> Int {
        try write { db in try store.dropPending(feed: feed, db) }
    }
}
