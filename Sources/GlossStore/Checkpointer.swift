import Foundation
import GRDB
import GRDBSQLite

/// Moves WAL checkpoints off the write path.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 frames, so
/// one edit in a few hundred paid for copying the whole WAL back into the database (a p99 of
/// ~20 ms for a ~0.6 ms edit). The writer's WAL hook replaces it: when a commit leaves 1,000 frames
/// or more, a PASSIVE checkpoint runs on a utility queue through a connection of its own. PASSIVE
/// never waits for readers or the writer and never blocks them; what it cannot copy yet is copied
/// by the next one, and closing the last connection checkpoints as usual.
final class Checkpointer: @unchecked Sendable {
    static let threshold: Int32 = 1000

    private let path: String
    private let queue = DispatchQueue(label: "gloss.checkpoint", qos: .utility)
    private let lock = NSLock()
    private var scheduled = false
    /// Used only on `queue`.
    private var connection: DatabaseQueue?

    init(path: String) { self.path = path }

    /// Installs the WAL hook on the writer connection (it replaces SQLite's automatic checkpoint).
    func install(on db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, { context, _, _, frames in
            Unmanaged<Checkpointer>.fromOpaque(context!).takeUnretainedValue().committed(frames: frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    private func committed(frames: Int32) {
        guard frames >= Checkpointer.threshold else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !scheduled else { return }
        scheduled = true
        queue.async { self.checkpoint() }
    }

    private func checkpoint() {
        defer { lock.lock(); scheduled = false; lock.unlock() }
        do {
            if connection == nil { connection = try DatabaseQueue(path: path) }
            try connection!.writeWithoutTransaction { _ = try $0.checkpoint(.passive) }
        } catch {
            // Best effort: the next commit over the threshold tries again.
        }
    }
}
