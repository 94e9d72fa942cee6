import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// A rebuild reads the log in batches and decodes each on another thread while the writer applies
/// the previous one (`ReplicaStore.rebuildProjections`). A stored event that no longer decodes, in
/// any batch, fails the whole rebuild: nothing of it is committed, the projections are those from
/// before; once the event is whole again the rebuild gives the same rows as before. `as-of` reads
/// the log on another thread too: the same damage fails it without leaving a file.
@Suite(.timeLimit(.minutes(5))) struct RebuildPipelineTests {
    @Test func anUndecodableEventInALaterBatchFailsTheRebuildAndChangesNothing() throws {
        let sim = try Simulation(replicas: 2, seed: 0x5eb_0117, label: "rebuild-pipeline", deterministicKeys: true, tmpBase: memoryTempBase)
        _ = try sim.richHistory(steps: 60)
        try sim.exchangeAll()
        let r = sim.replicas[0]
        // Enough events for several batches: notes, edited, on an article.
        let article = try r.ingest(bytes: sampleArticleBytes(), filename: "pipeline.txt").id
        for i in 0..<800 {
            let note = try r.addNote(on: article, body: "note \(i)").id
            if i % 2 == 0 { _ = try r.editNote(note, body: "note \(i), edited") }
        }
        let count = try r.status().events
        // The damaged event sits past the first two batches, so earlier batches were applied
        // before its batch fails.
        let batch = 512
        try #require(count > 2 * batch + 10, "the history must span more than two batches (has \(count) events)")
        let before = try ProjectionSnapshot.of(r)
        let digest = try r.digest()
        let pos = Int64(2 * batch + 5)

        let side = try sideConnection(r.store.path)
        let envelope = try side.read { db in try Data.fetchOne(db, sql: "SELECT envelope FROM events WHERE pos = ?", arguments: [pos]) }
        let original = try #require(envelope)
        try side.write { db in try db.execute(sql: "UPDATE events SET envelope = x'a1ff' WHERE pos = ?", arguments: [pos]) }

        #expect(throws: (any Error).self) { _ = try r.rebuild() }
        #expect(try r.digest() == digest, "a failed rebuild left a different digest")
        #expect(try ProjectionSnapshot.of(r).differences(from: before, "after the failed rebuild").isEmpty)
        // `as-of` reads the log on a thread of its own: its failure ends the copy, leaves no file.
        let out = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pipeline-asof-\(UUID().uuidString).db")
        #expect(throws: (any Error).self) { _ = try r.asOf(.time(milliseconds: UInt64.max >> 20), out: out) }
        #expect(!FileManager.default.fileExists(atPath: out.path), "a failed as-of left \(out.path)")

        try side.write { db in try db.execute(sql: "UPDATE events SET envelope = ? WHERE pos = ?", arguments: [original, pos]) }
        try side.close()
        let rebuilt = try r.rebuild()
        #expect(rebuilt.events == count)
        #expect(rebuilt.digest == digest)
        #expect(try ProjectionSnapshot.of(r).differences(from: before, "after the rebuild").isEmpty)
        #expect(try r.asOf(.time(milliseconds: UInt64.max >> 20), out: out) == count)
        #expect(try Replica.digest(ofDatabase: out) == digest)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: out.path + suffix) }
    }
}
