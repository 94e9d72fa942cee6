import Foundation
import GlossIngest
import GlossJSON
import GlossModel
import GlossProjections
import GlossStore
#if canImport(Glibc)
import Glibc
#endif

/// One analyst's replica: a folder holding `.gloss/` with the replica key and the SQLite database.
/// The façade the CLI and integration tests call.
public final class Replica: Sendable {
    public let folder: URL
    public let store: ReplicaStore
    public let key: ReplicaKey
    public let analyst: String
    /// Injected wall clock, milliseconds since the Unix epoch.
    public let clock: @Sendable () -> UInt64

    public var replicaID: ReplicaID { key.replicaID }

    public static let directoryName = ".gloss"
    public static let keyFileName = "replica.key"
    public static let databaseFileName = "replica.db"
    static let keyHeader = "gloss-replica-key-v1"

    public static let systemClock: @Sendable () -> UInt64 = { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    init(folder: URL, store: ReplicaStore, key: ReplicaKey, analyst: String, clock: @escaping @Sendable () -> UInt64) {
        self.folder = folder; self.store = store; self.key = key; self.analyst = analyst; self.clock = clock
    }

    // MARK: Create and open

    /// Creates `.gloss/` in `folder` with a new key (mode 0600) and database. Refuses if one exists.
    public static func create(in folder: URL, analyst: String, key: ReplicaKey = ReplicaKey(), team: TeamSetup = .none,
                              clock: @escaping @Sendable () -> UInt64 = systemClock, writeThrough: (any WriteThrough)? = nil) throws -> Replica {
        try checkAnalystName(analyst)
        if case .create(let name) = team, (try? checkLabel(name, "team name")) == nil {
            throw GlossError(.badInput, "a team name must be 1–64 bytes without control characters or surrounding spaces")
        }
        let dir = folder.appendingPathComponent(directoryName)
        let fm = FileManager.default
        if fm.fileExists(atPath: dir.path) {
            throw GlossError(.alreadyExists, "\(dir.path) already exists; a replica lives there. Use it, or choose another folder with --dir.")
        }
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            try fm.createDirectory(at: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw GlossError(.badInput, "cannot create \(dir.path); check that the folder is writable", cause: error)
        }
        try writeKeyFile(dir.appendingPathComponent(keyFileName), key: key)
        let store = try open(database: dir.appendingPathComponent(databaseFileName), writeThrough: writeThrough)
        do {
            try store.initialize(replica: key.replicaID, analyst: analyst)
            switch team {
            case .none: break
            case .create(let name): _ = try store.createTeam(key: key, analyst: analyst, name: name, wallMilliseconds: clock())
            case .join: try store.markJoining()
            }
        } catch { throw GlossError.wrap(error) }
        return Replica(folder: folder, store: store, key: key, analyst: analyst, clock: clock)
    }

    /// Closes the database connections; later calls on this replica fail. The last connection to
    /// close checkpoints the WAL into the database and removes it.
    public func close() throws {
        do { try store.close() } catch { throw GlossError.wrap(error) }
    }

    /// What opening an existing replica does first (`ReplicaStore.Upkeep`), for callers that
    /// word it (the CLI).
    public typealias Upkeep = ReplicaStore.Upkeep

    /// Opens the replica in `folder` or the nearest parent holding `.gloss/` (as git does).
    /// With `access: .read` (commands that only read) a full disk does not stop it from opening
    /// (`ReplicaStore.Access.read`).
    /// `writeThrough`: the store every write also goes to (a hub's database, Protocol/12-hub.md).
    /// `upkeep` hears of the store migrations and projection rebuilds opening runs first, before
    /// each starts.
    public static func open(at start: URL, access: ReplicaStore.Access = .readWrite,
                            clock: @escaping @Sendable () -> UInt64 = systemClock, writeThrough: (any WriteThrough)? = nil,
                            upkeep: (@Sendable (Upkeep) -> Void)? = nil) throws -> Replica {
        var folder = start.standardizedFileURL
        let fm = FileManager.default
        while !fm.fileExists(atPath: folder.appendingPathComponent(directoryName).path) {
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path {
                throw GlossError(.notAReplica, "no replica in \(start.path) or any parent folder; run `gloss init --analyst NAME` there, or pass --dir / set GLOSS_DIR")
            }
            folder = parent
        }
        let dir = folder.appendingPathComponent(directoryName)
        let key = try readKeyFile(dir.appendingPathComponent(keyFileName))
        // A missing database is never created here: a read would have made an empty one, which
        // then said "run gloss init" while init refused the folder (found by an audit, 2026-12-06).
        // A new database under the old key would also reuse its seqs: a fork of its own feed.
        let database = dir.appendingPathComponent(databaseFileName)
        guard fm.fileExists(atPath: database.path) || writeThrough != nil else {
            throw GlossError(.notAReplica, "\(dir.path) holds a key but no \(databaseFileName): the replica's database is missing. Restore it from a backup; or, to start again, move \(dir.path) away, `gloss init` a new replica and sync from a peer (never reuse the old key: its events would fork)")
        }
        let store = try open(database: database, access: access, writeThrough: writeThrough, upkeep: upkeep)
        let (replica, analyst): (ReplicaID, String)
        do { (replica, analyst) = try store.identity() } catch { throw GlossError.wrap(error) }
        guard replica == key.replicaID else {
            throw GlossError(.internalError, "the key in \(dir.path) does not belong to this replica's database (key \(key.replicaID.short), database \(replica.short)); restore the matching key file")
        }
        return Replica(folder: folder, store: store, key: key, analyst: analyst, clock: clock)
    }

    private static func open(database url: URL, access: ReplicaStore.Access = .readWrite, writeThrough: (any WriteThrough)? = nil,
                             upkeep: (@Sendable (Upkeep) -> Void)? = nil) throws -> ReplicaStore {
        do { return try ReplicaStore(path: url.path, projector: GlossProjector(), access: access, writeThrough: writeThrough, upkeep: upkeep) } catch {
            throw GlossError.wrap(error, location: url.deletingLastPathComponent().path)
        }
    }

    static func checkAnalystName(_ name: String) throws {
        let n = name.utf8.count
        guard n >= 1, n <= ProtocolLimits.maxAuthorBytes,
              !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
              name.trimmingCharacters(in: .whitespaces) == name else {
            throw GlossError(.badInput, "analyst name must be 1–\(ProtocolLimits.maxAuthorBytes) bytes of UTF-8 without control characters or surrounding spaces")
        }
    }

    private static func writeKeyFile(_ url: URL, key: ReplicaKey) throws {
        let text = "\(keyHeader) \(Hex.encode(key.seed))\n"
        // O_EXCL with mode 0600: the key is never readable by others, not even for an instant.
        let fd = Glibc.open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw GlossError(.badInput, "cannot create the key file \(url.path) (errno \(errno))") }
        defer { Glibc.close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw GlossError(.internalError, "cannot write the key file \(url.path) (errno \(errno))")
        }
    }

    /// A warning when the key file can be read or written by anyone but its owner (it should be
    /// 0600, as `gloss init` writes it); nil when it is private.
    public func keyFileWarning() -> String? {
        let path = folder.appendingPathComponent(Replica.directoryName).appendingPathComponent(Replica.keyFileName).path
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 != 0 else { return nil }
        return "the replica key \(path) is readable by others (mode \(String(mode, radix: 8))); anyone who reads it can write as this replica. Run: chmod 600 \(path)"
    }

    private static func readKeyFile(_ url: URL) throws -> ReplicaKey {
        guard let data = FileManager.default.contents(atPath: url.path), data.count < 1024,
              let text = String(data: data, encoding: .utf8) else {
            throw GlossError(.notAReplica, "cannot read the replica key \(url.path); the replica folder is incomplete")
        }
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard parts.count == 2, parts[0] == keyHeader, let seed = Hex.decode(String(parts[1])), let key = try? ReplicaKey(seed: seed) else {
            throw GlossError(.notAReplica, "the replica key \(url.path) is malformed; restore it from a backup")
        }
        return key
    }

    // MARK: Writing

    /// Appends one of this replica's own events; durable on return.
    @discardableResult
    public func append<P: EventPayload>(_ payload: P) throws -> SignedEvent {
        do { return try store.appendLocal(key: key, author: analyst, payload: payload, wallMilliseconds: clock()) } catch { throw GlossError.wrap(error) }
    }

    /// Appends inside a transaction the caller holds (for checks that must see the same state).
    func append<P: EventPayload>(_ payload: P, _ db: ReplicaStore.Transaction) throws -> SignedEvent {
        try store.appendLocal(key: key, author: analyst, payload: payload, wallMilliseconds: clock(), db)
    }

    func write<T>(_ body: (ReplicaStore.Transaction) throws -> T) throws -> T {
        do { return try store.write(body) } catch { throw wrapped(error) }
    }

    func read<T>(_ body: (ReplicaStore.Transaction) throws -> T) throws -> T {
        do { return try store.read(body) } catch { throw wrapped(error) }
    }

    /// Errors of the database are the replica's; a disk-full or I/O error from writing some other
    /// file inside the body (a bundle being exported) passes through unwrapped, for the caller who
    /// knows which file it was (`GlossError.wrap(_:output:)`).
    private func wrapped(_ error: any Error) -> any Error {
        if !StoreError.isDatabaseError(error), !(error is GlossError), !(error is StoreError), StoreError.storage(error, location: nil) != nil { return error }
        return GlossError.wrap(error, location: location)
    }

    /// The replica's `.gloss/` folder (named in messages about its disk).
    public var location: String { folder.appendingPathComponent(Replica.directoryName).path }
}

/// What a command created: the object's id and the event's id.
public struct Created: Sendable {
    public var id: String
    public var event: EventID?
    /// True when nothing new was written because the object already existed.
    public var existing: Bool
}
