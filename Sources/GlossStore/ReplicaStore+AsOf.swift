import GRDB

extension ReplicaStore {
    /// Records in `meta` the point a database written by `gloss as-of` holds (`meta.as_of`,
    /// Protocol/04-projections.md), inside the caller's transaction.
    public func recordAsOf(_ point: String, _ db: Transaction) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('as_of', ?)", arguments: [point])
    }
}
