import GRDB

extension ReplicaStore {
    /// The handle a `read { }` or `write { }` closure receives: pass it on to the store's and the
    /// projections' functions, which own the SQL; callers above them never compose any.
    public typealias Transaction = Database
}

extension StoreError {
    /// True for an error SQLite returned (as opposed to one from another file or a check).
    public static func isDatabaseError(_ error: any Error) -> Bool { error is DatabaseError }
}
