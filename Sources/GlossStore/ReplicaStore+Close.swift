import GRDB

extension ReplicaStore {
    /// Closes the database connections; later calls on this store fail. The last connection to
    /// close checkpoints the WAL into the database and removes it.
    public func close() throws {
        // No checkpoint may open the database once this returns (a folder copied or removed right
        // after closing must not race with one).
        checkpointer.stop()
        // Readers first (releaseMemory closes idle ones): GRDB's close() closes the writer first,
        // and a read-only connection closing last can neither checkpoint nor remove the WAL.
        pool.releaseMemory()
        try pool.close()
    }
}
