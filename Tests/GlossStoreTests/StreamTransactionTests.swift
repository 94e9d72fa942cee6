import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// `applyStream` reads and checks windows of `readEvents` events ahead of the writer and applies
/// them in transactions of whole windows, at least `maxEvents` events each (or to the stream's end):
/// windows smaller than transactions keep memory for SQLite's page cache. Each transaction commits
/// before its callback; a read error met inside a transaction is rethrown once that transaction
/// (with every event read before the error) has committed; the rows are those of one window at a time.
@Suite struct StreamTransactionTests {
    let tmp = TempDir("gloss-stream-tx")
    let clock = MockClock(start: 1_624_800_000_000, step: 1)

    struct ReadFailure: Error {}

    /// Window sizes as the reader cuts them (`min(read, max)` events each), then grouped greedily into
    /// transactions of at least `max` events: the events of each transaction.
    static func transactions(events: Int, read: Int, max: Int) -> [Int] {
        let w = Swift.min(read, max)
        let windows = stride(from: 0, to: events, by: w).map { Swift.min(w, events - $0) }
        var out: [Int] = [], current = 0
        for size in windows {
            current += size
            if current >= max { out.append(current); current = 0 }
        }
        if current > 0 { out.append(current) }
        return out
    }

    @Test func transactionsTakeWholeWindowsAndCommitBeforeTheirCallback() throws {
        defer { tmp.remove() }
        let seed = testSeed("stream-transactions")
        var rng = SplitMix64(seed: seed)
        for round in 0..<8 {
            let n = Int.random(in: 1...60, using: &rng)
            let read = Int.random(in: 1...7, using: &rng), max = Int.random(in: 1...12, using: &rng)
            // Notes and their edits, so a run of register writes spans windows and transactions.
            var t = HybridTime(milliseconds: 1_624_700_000_000).raw
            let notes = try ScalingTests.extend([], ReplicaKey(), by: n, time: &t) { i in NoteAdded(on: DeferredRebuildTests.on, body: "note \(i % 5)") }
            let fail = round % 2 == 1 ? Int.random(in: 0...n, using: &rng) : nil
            let events = fail.map { Array(notes.prefix($0)) } ?? notes
            let label = "seed \(seed) round \(round): \(n) events, read \(read), max \(max), failing after \(fail.map(String.init) ?? "none")"

            let r = try Replica.create(in: tmp.sub("r\(round)"), analyst: "s", key: ReplicaKey(), clock: clock.function)
            var sizes: [Int] = [], committed = 0
            var it = notes.makeIterator(), given = 0
            do {
                try r.store.applyStream(maxEvents: max, maxBytes: 1 << 30, readEvents: read, now: clock.function, next: {
                    if let fail, given == fail { throw ReadFailure() }
                    given += 1
                    return it.next()
                }) { s, last in
                    sizes.append(s.received)
                    committed += s.applied
                    #expect(last.recordsRead == committed, "\(label): the last window read \(last.recordsRead), committed \(committed)")
                    // Committed: another connection sees every event applied so far.
                    let seen = try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events") } ?? 0
                    #expect(seen == committed, "\(label): \(seen) events visible after a callback, \(committed) applied")
                }
                #expect(fail == nil, "\(label): the read error was not rethrown")
            } catch is ReadFailure {
                #expect(fail != nil, "\(label)")
            }
            #expect(sizes == Self.transactions(events: events.count, read: read, max: max), "\(label): transactions \(sizes)")
            #expect(committed == events.count, "\(label)")

            // The rows are those of the same events applied in one window.
            let reference = try Replica.create(in: tmp.sub("ref\(round)"), analyst: "s", key: ReplicaKey(), clock: clock.function)
            if !events.isEmpty { _ = try reference.store.applyRemote(events, now: clock.read()) }
            #expect(try r.digest() == reference.digest(), "\(label)")
            #expect(try r.digest() == r.digest(recompute: true), "\(label)")
        }
    }

    /// A lie inside a transaction of several windows — one event whose signature has a flipped bit,
    /// and a duplicate of an earlier event at the end — ends as one window of the same events ends:
    /// the forged copy is not stored, what follows it waits for the genuine one, the duplicate is
    /// counted once, the rows are the same.
    @Test func aForgedAndADuplicatedEventEndAsInOneWindow() throws {
        defer { tmp.remove() }
        let seed = testSeed("stream-transactions-lies")
        var rng = SplitMix64(seed: seed)
        for round in 0..<6 {
            let n = Int.random(in: 4...40, using: &rng)
            let read = Int.random(in: 1...5, using: &rng), max = Int.random(in: 2...12, using: &rng)
            var t = HybridTime(milliseconds: 1_624_700_000_000).raw
            var events = try ScalingTests.extend([], ReplicaKey(), by: n, time: &t) { i in NoteAdded(on: DeferredRebuildTests.on, body: "note \(i)") }
            let k = Int.random(in: 1..<n, using: &rng), j = Int.random(in: 0..<k, using: &rng)
            var bytes = events[k].envelope.bytes
            bytes[bytes.count - 1 - Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            let forged = SignedEvent(envelope: try EventEnvelope(decoding: bytes), payload: events[k].payload)
            events[k] = forged
            events.append(events[j])
            let label = "seed \(seed) round \(round): \(n) events, read \(read), max \(max), forged \(k), duplicate \(j)"

            let r = try Replica.create(in: tmp.sub("lie\(round)"), analyst: "s", key: ReplicaKey(), clock: clock.function)
            var total = ApplySummary()
            var it = events.makeIterator()
            try r.store.applyStream(maxEvents: max, maxBytes: 1 << 30, readEvents: read, now: clock.function, next: { it.next() }) { s, _ in total.add(s) }
            let reference = try Replica.create(in: tmp.sub("lie-ref\(round)"), analyst: "s", key: ReplicaKey(), clock: clock.function)
            let one = try reference.store.applyRemote(events, now: clock.read())

            func state(_ x: Replica) throws -> [Int] {
                try x.store.read { db in
                    try ["SELECT count(*) FROM events", "SELECT count(*) FROM pending"].map { try Int.fetchOne(db, sql: $0) ?? 0 }
                        + [try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE id = ?", arguments: [Data(forged.id.raw.bytes)]) ?? 0]
                }
            }
            let mine = try state(r), theirs = try state(reference)
            #expect(mine == theirs, "\(label): log, pending, forged copy stored")
            #expect(mine[0] == k && mine[2] == 0, "\(label): \(mine)")
            #expect(total.rejected == one.rejected && total.duplicate == one.duplicate && total.applied == one.applied, "\(label): \(total) against \(one)")
            #expect(try r.digest() == reference.digest(), "\(label)")
        }
    }
}
