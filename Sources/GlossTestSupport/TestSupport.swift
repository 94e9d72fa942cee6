import Foundation
import GlossEngine
import GlossModel
import GRDB

/// A fresh temporary folder, removed by `remove()` or, at the latest, when the process exits.
public struct TempDir: Sendable {
    public let url: URL
    public init(_ label: String = "gloss", in base: URL? = nil) {
        url = (base ?? FileManager.default.temporaryDirectory).appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        LiveTempDirs.shared.add(url)
    }
    public func sub(_ name: String) -> URL { url.appendingPathComponent(name) }
    public func remove() {
        try? FileManager.default.removeItem(at: url)
        LiveTempDirs.shared.remove(url)
    }
}

/// The temporary folders not yet removed, removed by an `atexit` handler: an exit test's child
/// process ends with `exit()`, so the deinit that removes a simulation's folder never runs there
/// (each run of the hostile suites left ~30 folders of ~20 MB in /dev/shm, which is memory).
final class LiveTempDirs: @unchecked Sendable {
    // @unchecked: `urls` is guarded by `lock`.
    static let shared = LiveTempDirs()
    private let lock = NSLock()
    private var urls = Set<URL>()
    private var installed = false

    func add(_ url: URL) {
        lock.lock(); defer { lock.unlock() }
        urls.insert(url)
        if !installed {
            installed = true
            atexit { LiveTempDirs.shared.removeAll() }
        }
    }

    func remove(_ url: URL) {
        lock.lock(); defer { lock.unlock() }
        urls.remove(url)
    }

    private func removeAll() {
        lock.lock()
        let left = urls
        urls.removeAll()
        lock.unlock()
        for url in left { try? FileManager.default.removeItem(at: url) }
    }
}

/// A memory-backed folder for tests that write many small transactions (`/dev/shm` when it is a
/// writable tmpfs; nil otherwise, or when `GLOSS_TEST_DISK=1` asks for the real disk): fsync is not
/// what they test, and it dominates their time.
public var memoryTempBase: URL? {
    guard ProcessInfo.processInfo.environment["GLOSS_TEST_DISK"] != "1" else { return nil }
    let shm = URL(fileURLWithPath: "/dev/shm")
    return FileManager.default.isWritableFile(atPath: shm.path) ? shm : nil
}

/// A connection to a replica's database from beside gloss, as another SQLite tool opens it: it
/// waits for gloss's writer and its quiet-time upkeep (`Checkpointer`: the search index's merges run
/// in a write transaction of their own) instead of failing at once with "database is locked" (GRDB's
/// default; seen in CI as two tests failing when a merge held the lock).
public func sideConnection(_ path: String) throws -> DatabaseQueue {
    var config = Configuration()
    config.busyMode = .timeout(30)
    return try DatabaseQueue(path: path, configuration: config)
}

/// A wall clock tests control: starts at `start` and advances by `step` ms per reading.
public final class MockClock: @unchecked Sendable {
    // @unchecked: `now` is guarded by `lock`.
    private let lock = NSLock()
    private var now: UInt64
    private let step: UInt64
    public init(start: UInt64 = 1_624_700_000_000, step: UInt64 = 1) { now = start; self.step = step }
    public func read() -> UInt64 { lock.lock(); defer { lock.unlock() }; let v = now; now += step; return v }
    public func set(_ v: UInt64) { lock.lock(); now = v; lock.unlock() }
    public var function: @Sendable () -> UInt64 { { [self] in self.read() } }
}

/// The repository root (for reading `Protocol/` and fixtures from tests).
public func repositoryRoot(_ file: String = #filePath) -> URL {
    var u = URL(fileURLWithPath: file)
    while u.path != "/" {
        u.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: u.appendingPathComponent("Package.swift").path) { return u }
    }
    fatalError("no Package.swift above \(file)")
}

/// The sample article shipped with the workspace (`../shared/fixtures/articles/`), or a copy of its
/// first paragraph when the shared folder is absent.
public func sampleArticleBytes() -> [UInt8] {
    let root = repositoryRoot()
    let candidates = [root.deletingLastPathComponent().appendingPathComponent("shared/fixtures/articles/2021-06-26-trilateral-special-forces.txt"),
                      root.appendingPathComponent("Tests/Fixtures/2021-06-26-trilateral-special-forces.txt")]
    for c in candidates { if let d = FileManager.default.contents(atPath: c.path) { return Array(d) } }
    fatalError("sample article not found")
}

/// A key from a fixed label: the same every run (for golden vectors and reproducible tests).
public func fixedKey(_ label: String) -> ReplicaKey {
    try! ReplicaKey(seed: Bytes32.sha256(Array("gloss-test-key/\(label)".utf8)).bytes)
}

extension Replica {
    /// Applies `payload` as a peer's event: a fresh key's seq 1, timed after everything held, with
    /// deps on all of it — for text Gloss's own writers refuse (U+0000) that a peer's event can still
    /// carry. Returns the event (its id is the object's, for a note).
    @discardableResult
    public func applyPeerEvent<P: EventPayload>(_ payload: P, author: String = "peer") throws -> SignedEvent {
        let held = try vector
        let last = try store.read { db in try Int64.fetchOne(db, sql: "SELECT max(time) FROM events") ?? 0 }
        let time = HybridTime(raw: max(UInt64(last) + 1, HybridTime(milliseconds: clock()).raw))
        let bytes = payload.encoded
        let env = EventEnvelope(key: ReplicaKey(), seq: 1, prev: .zero, time: time, depsDelta: held.sorted,
                                author: author, type: P.type, schema: P.schema, payload: bytes)
        let e = SignedEvent(envelope: env, payload: bytes)
        let s = try store.applyRemote([e], now: clock())
        guard s.applied == 1 else { throw GlossError(.internalError, "the peer event did not apply: \(s)") }
        return e
    }
}
