import Foundation
import GRDB
import GRDBSQLite

/// Moves WAL checkpoints, and the projections' upkeep, off the write path.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 frames, so
/// one edit in a few hundred paid for copying the WAL back into the database (a p99 of ~20 ms for a
/// ~0.6 ms edit). The writer's WAL hook replaces it: once a commit leaves 1,000 frames or more, a
/// PASSIVE checkpoint runs on a utility queue through a connection of its own when the writer has
/// been quiet for 250 ms (analysts edit in bursts); past 20,000 frames (bulk work) the writer
/// checkpoints in the commit itself.
/// PASSIVE never waits for readers or the writer and never blocks them; what it cannot copy yet is
/// copied by the next one, and closing the last connection checkpoints as usual.
/// Before the checkpoint, the same quiet moment runs the projector's `maintain` (the search index's
/// segment merges, which FTS5 would otherwise do inside an edit's commit every few dozen edits).
final class Checkpointer: @unchecked Sendable {
    static let threshold: Int32 = 1000
    static let urgent: Int32 = 20_000
    static let quiet = DispatchTimeInterval.milliseconds(250)

    private let path: String
    private let queue = DispatchQueue(label: "gloss.checkpoint", qos: .utility)
    private let lock = NSLock()
    /// Bumped by every commit over the threshold; a delayed checkpoint runs only if still current.
    private var generation = 0
    /// Set by `stop()`: no checkpoint runs after it.
    private var stopped = false

    private let maintenance: @Sendable (Database) throws -> Void

    init(path: String, maintenance: @escaping @Sendable (Database) throws -> Void) {
        self.path = path
        self.maintenance = maintenance
    }

    /// Installs the WAL hook on the writer connection (it replaces SQLite's automatic checkpoint).
    func install(on db: Database) {
        // Past `urgent` frames (bulk work: an import window, a rebuild) the writer checkpoints at
        // once, in the commit, as SQLite's automatic checkpoint does: a checkpoint running beside a
        // writer that never pauses rarely finishes, and the WAL only restarts after one that does
        // (found at 1,000,000 events: a 31 GB WAL). The WAL file is truncated back to 16 MB when it
        // restarts.
        try? db.execute(sql: "PRAGMA journal_size_limit = \(16 * 1024 * 1024)")
        sqlite3_wal_hook(db.sqliteConnection, { context, connection, name, frames in
            if frames >= Checkpointer.urgent {
                sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else {
                Unmanaged<Checkpointer>.fromOpaque(context!).takeUnretainedValue().committed(frames: frames)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    private func committed(frames: Int32) {
        guard frames >= Checkpointer.threshold else { return }
        lock.lock()
        generation += 1
        let mine = generation
        lock.unlock()
        queue.asyncAfter(deadline: .now() + Checkpointer.quiet) {
            self.lock.lock()
            let current = self.generation == mine && !self.stopped
            self.lock.unlock()
            if current { self.checkpoint() }
        }
    }

    /// Cancels pending checkpoints and waits for a running one to end (the replica is closing; its
    /// last connection checkpoints as it closes).
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        queue.sync {}
    }

    /// Opens a connection for the moment and closes it after (a replica's connections all close
    /// with it, so the last one can remove the WAL).
    private func checkpoint() {
        // (Never create a database where the replica's was removed.)
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            // Upkeep writes: wait for a writer of another process rather than give up at once.
            var config = Configuration()
            config.busyMode = .timeout(5)
            let connection = try DatabaseQueue(path: path, configuration: config)
            defer { try? connection.close() }
            try? connection.writeWithoutTransaction { db in try db.inTransaction(.immediate) { try maintenance(db); return .commit } }
            try connection.writeWithoutTransaction { _ = try $0.checkpoint(.passive) }
        } catch {
            // Best effort: the next commit over the threshold tries again.
        }
    }
}
