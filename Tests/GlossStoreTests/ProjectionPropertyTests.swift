import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
import GlossStore
import GlossTestSupport
import Testing

/// Properties of the projections over random multi-replica histories (seed printed; GLOSS_SEED replays).
@Suite struct ProjectionPropertyTests {
    /// Random edits on every replica with random pairwise syncs in between.
    static func history(_ sim: Simulation, steps: Int) throws {
        let n = sim.replicas.count
        for _ in 0..<steps {
            if Int.random(in: 0..<4, using: &sim.rng) == 0 {
                let a = Int.random(in: 0..<n, using: &sim.rng), b = Int.random(in: 0..<n, using: &sim.rng)
                if a != b { try sim.sync(a, b) }
            } else {
                try sim.randomOperation(on: Int.random(in: 0..<n, using: &sim.rng))
            }
        }
    }

    @Test func replayEqualsIncremental() throws {
        let sim = try Simulation(replicas: 3, seed: testSeed("replay-equals-incremental"), label: "replay")
        try Self.history(sim, steps: 150)
        for r in sim.replicas {
            let incremental = try r.digest()
            #expect(try r.digest(recompute: true) == incremental, "maintained digest differs from the rows")
            let rebuilt = try r.rebuild()
            #expect(rebuilt.digest == incremental, "rebuild of \(r.analyst) differs from the incremental projections")
            #expect(try r.digest(recompute: true) == incremental)
        }
    }

    @Test func anyDeliveryOrderGivesTheSameDigest() throws {
        let sim = try Simulation(replicas: 3, seed: testSeed("delivery-order"), label: "order")
        try Self.history(sim, steps: 120)
        // Bring every replica to the full set by syncing, for the reference digest.
        for a in 0..<3 { for b in 0..<3 where a != b { try sim.sync(a, b) } }
        let reference = try sim.replicas[0].digest()
        for r in sim.replicas { #expect(try r.digest() == reference) }
        let all = try sim.allEvents()
        #expect(all.count == (try sim.replicas[0].status().events))
        // Fresh observers: random causal orders in random windows, and fully random orders (out-of-order
        // delivery waits in pending).
        for k in 0..<4 {
            let observer = try sim.addReplica("observer\(k)")
            var order = k < 2 ? sim.randomCausalOrder(all) : all.shuffled(using: &sim.rng)
            while !order.isEmpty {
                let take = min(order.count, Int.random(in: 1...25, using: &sim.rng))
                _ = try observer.store.applyRemote(Array(order.prefix(take)), now: sim.clock.read())
                order.removeFirst(take)
            }
            let s = try observer.status()
            #expect(s.pending == 0 && s.quarantined == 0)
            #expect(s.events == all.count)
            #expect(try observer.digest() == reference, "observer \(k) converged to another digest")
            #expect(try observer.digest(recompute: true) == reference)
        }
    }

    @Test func asOfEveryPrefixEqualsTheIncrementalState() throws {
        let sim = try Simulation(replicas: 2, seed: testSeed("as-of-prefix"), label: "asof")
        let a = sim.replicas[0]
        var checkpoints: [(VersionVector, String, Int)] = []
        func record() throws {
            let s = try a.status()
            if checkpoints.last?.0 != s.versionVector { checkpoints.append((s.versionVector, s.digest, s.events)) }
        }
        try record()
        for _ in 0..<40 {
            if Int.random(in: 0..<3, using: &sim.rng) == 0 {
                try sim.randomOperation(on: 1)
                try sim.sync(1, 0)
            } else {
                try sim.randomOperation(on: 0)
            }
            try record()
        }
        for (i, (vector, digest, events)) in checkpoints.enumerated() {
            let file = sim.tmp.sub("v\(i).json")
            try VectorFile.encode(vector, writer: nil).write(to: file, atomically: true, encoding: .utf8)
            let point = try a.point(file.path)
            let out = sim.tmp.sub("asof\(i).db")
            #expect(try a.asOf(point, out: out) == events)
            #expect(try Replica.digest(ofDatabase: out) == digest, "as-of prefix \(i) differs")
        }
        // By time: each own event's time names exactly the prefix up to it (a single-writer check).
        let own = try a.store.read { db in try Row.fetchAll(db, sql: "SELECT time FROM events ORDER BY pos") }.map { HybridTime(raw: UInt64(bitPattern: $0[0])) }
        let last = try #require(own.last)
        let out = sim.tmp.sub("asof-time.db")
        #expect(try a.asOf(.time(milliseconds: last.milliseconds), out: out) == own.count)
        #expect(try Replica.digest(ofDatabase: out) == (try a.digest()))
    }

    @Test func aVectorThatIsNotCausallyClosedIsRefused() throws {
        let sim = try Simulation(replicas: 2, seed: 7, label: "closed")
        try sim.randomOperation(on: 0)
        try sim.sync(0, 1)
        try sim.randomOperation(on: 1)  // depends on replica 0's event
        let b = sim.replicas[1]
        var v = VersionVector()
        v[b.replicaID] = 1   // without replica 0's event it depends on
        let file = sim.tmp.sub("open.json")
        try VectorFile.encode(v, writer: nil).write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: GlossError.self) { try b.point(file.path) }
        do { _ = try b.point(file.path) } catch let e as GlossError { #expect(e.message.contains("not causally closed")) }
    }

    @Test func aProjectionVersionChangeTriggersARebuild() throws {
        let tmp = TempDir("gloss-version")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana", clock: MockClock().function)
        _ = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        _ = try r.addNote(on: try r.status().versionVector.isEmpty ? "" : (try r.store.read { try String.fetchOne($0, sql: "SELECT article FROM articles") })!, body: "n")
        let path = tmp.sub(".gloss/replica.db").path
        let before = try r.digest()
        let counting = CountingProjector(version: 999)
        let reopened = try ReplicaStore(path: path, projector: counting)
        #expect(counting.applied.value == 2, "opening with a new projection version replays every event")
        #expect(try reopened.read { try Int.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'projection_version'") } == 999)
        // Back to the real projector: rebuilt again, same digest as before.
        let back = try ReplicaStore(path: path, projector: GlossProjector())
        #expect(try back.read { try GlossProjector().digest($0) } == before)
    }
}

/// A projector that delegates to the real one under another version number and counts applies.
final class CountingProjector: Projector, @unchecked Sendable {
    // @unchecked: `applied` is a lock-protected counter.
    let version: Int
    let inner = GlossProjector()
    let applied = Counter()
    init(version: Int) { self.version = version }
    func prepareConnection(_ db: Database) { inner.prepareConnection(db) }
    func createSchema(_ db: Database) throws { try inner.createSchema(db) }
    func dropSchema(_ db: Database) throws { try inner.dropSchema(db) }
    func apply(_ event: AppliedEvent, store: ReplicaStore, _ db: Database) throws {
        applied.add()
        try inner.apply(event, store: store, db)
    }
    func willCommit(_ db: Database) throws { try inner.willCommit(db) }
    func didRollback(_ db: Database) { inner.didRollback(db) }
}

final class Counter: @unchecked Sendable {
    // @unchecked: `n` is only touched under `lock`.
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
