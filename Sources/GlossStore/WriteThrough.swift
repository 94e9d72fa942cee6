import GRDB

/// A second store behind a replica's SQLite database, written in step with it: every
/// `ReplicaStore.write` transaction calls `begin` right after `BEGIN IMMEDIATE` and `commit` after
/// the projector's `willCommit`, before SQLite commits; a throw from either rolls SQLite back. A
/// hub's PostgreSQL database is one (GlossHub, Protocol/12-hub.md): it catches the local database up
/// in `begin` and writes the transaction's row changes (`RowChangeHook.recorder`) in `commit`.
/// An ordinary replica has none and pays nothing.
public protocol WriteThrough: AnyObject, Sendable {
    /// Called inside the SQLite write transaction, before anything else is written.
    func begin(_ db: Database) throws
    /// Called once the transaction's rows are final, before SQLite commits; a throw rolls back.
    func commit(_ db: Database) throws
    /// Called when the SQLite transaction rolls back (after `begin`, possibly after `commit`).
    func rollback(_ db: Database)
    /// Brings the local database up to date with the other store (`ReplicaStore.refresh`).
    func refresh(_ store: ReplicaStore) throws
    /// Called inside the write transaction just before the projections are dropped and replayed
    /// (a fork, a redaction): dropping a table changes no row the row-change hook could see.
    func willRebuildProjections(_ db: Database) throws
}

extension WriteThrough {
    public func willRebuildProjections(_ db: Database) throws {}
}
