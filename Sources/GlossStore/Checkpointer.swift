import Foundation
import GRDB
import GRDBSQLite

/// Moves WAL checkpoints off the write path.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 frames, so
/// one edit in a few hundred paid for copying the WAL back into the database (a p99 of ~20 ms for a
/// ~0.6 ms edit). The writer's WAL hook replaces it: once a commit leaves 1,000 frames or more, a
/// PASSIVE checkpoint runs on a utility queue through a connection of its own when the writer has
/// been quiet for 250 ms (analysts edit in bursts), or at once past 20,000 frames (bulk work).
/// PASSIVE never waits for readers or the writer and never blocks them; what it cannot copy yet is
/// copied by the next one, and closing the last connection checkpoints as usual.
final class Checkpointer: @unchecked Sendable {
    static let threshold: Int32 = 1000
    static let urgent: Int32 = 20_000
    static let quiet = DispatchTimeInterval.milliseconds(250)

    private let path: String
    private let queue = DispatchQueue(label: "gloss.checkpoint", qos: .utility)
    private let lock = NSLock()
    /// Bumped by every commit over the threshold; a delayed checkpoint runs only if still current.
    private var generation = 0
    /// Used only on `queue`.
    private var connection: DatabaseQueue?

    init(path: String) { self.path = path }

    /// Installs the WAL hook on the writer connection (it replaces SQLite's automatic checkpoint),
    /// and keeps the WAL file when the connection closes: the next process reuses its allocated
    /// blocks instead of growing a new file, whose every commit would also sync the file's size.
    func install(on db: Database) {
        var persist: Int32 = 1
        _ = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        sqlite3_wal_hook(db.sqliteConnection, { context, _, _, frames in
            Unmanaged<Checkpointer>.fromOpaque(context!).takeUnretainedValue().committed(frames: frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    private func committed(frames: Int32) {
        guard frames >= Checkpointer.threshold else { return }
        lock.lock()
        generation += 1
        let mine = generation
        lock.unlock()
        if frames >= Checkpointer.urgent {
            queue.async { self.checkpoint() }
        } else {
            queue.asyncAfter(deadline: .now() + Checkpointer.quiet) {
                self.lock.lock()
                let current = self.generation == mine
                self.lock.unlock()
                if current { self.checkpoint() }
            }
        }
    }

    private func checkpoint() {
        do {
            if connection == nil { connection = try DatabaseQueue(path: path) }
            try connection!.writeWithoutTransaction { _ = try $0.checkpoint(.passive) }
        } catch {
            // Best effort: the next commit over the threshold tries again.
        }
    }
}
