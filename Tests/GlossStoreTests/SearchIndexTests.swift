import Foundation
import GRDB
import GlossEngine
import GlossTestSupport
import Testing

/// The search index merges its segments when the writer is quiet, not inside an edit's commit.
@Suite struct SearchIndexTests {
    func automerge(_ r: Replica) throws -> Int? {
        try r.store.read { try Int.fetchOne($0, sql: "SELECT v FROM search_config WHERE k = 'automerge'") }
    }

    func indexRows(_ r: Replica) throws -> Int {
        try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM search_data") ?? 0 }
    }

    @Test func editsLeaveMergingToAQuietMoment() async throws {
        let tmp = TempDir("gloss-fts")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana")
        #expect(try automerge(r) == 0, "no merge work inside a commit")
        let a = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        // Each note is its own durable transaction, so each writes a segment of the index.
        for i in 0..<300 { _ = try r.addNote(on: a.id, body: "Landfill inspection \(i) near Baku.") }
        let busy = try indexRows(r)
        // The writer is quiet now: the store's upkeep merges the segments (and checkpoints).
        var quiet = busy
        for _ in 0..<100 where quiet >= busy {
            try await Task.sleep(for: .milliseconds(200))
            quiet = try indexRows(r)
        }
        print("[fts] index rows after 300 edits: \(busy); after the quiet merge: \(quiet)")
        #expect(quiet < busy, "the quiet-time merge rewrote the segments into fewer")
        // Merging changes the index's layout, never what it finds.
        #expect(try r.search("landfill", limit: 1000).count == 300)
        #expect(try r.search("inspection 123").count == 1)
    }

    @Test func aReplicaIndexedUnderTheOldPolicyIsSettledAtOpen() throws {
        let tmp = TempDir("gloss-fts-settle")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana")
        try r.store.write { try $0.execute(sql: "INSERT INTO search(search, rank) VALUES ('automerge', 4)") }
        #expect(try automerge(r) == 4)
        let reopened = try Replica.open(at: tmp.url)
        #expect(try automerge(reopened) == 0)
    }

    /// Files of `folder` this process has open now (read from /proc/self/fd).
    static func openFiles(under folder: String) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
            .filter { $0.hasPrefix(folder) }
    }

    /// The upkeep waits for a quiet moment after a commit; closing the replica cancels it, so no
    /// connection opens the database after `close()` returns (someone may copy or remove the folder).
    @Test func closingCancelsTheUpkeepItScheduled() throws {
        let tmp = TempDir("gloss-close")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana")
        let a = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        // Enough commits to leave the write-ahead log over the checkpoint threshold.
        for i in 0..<300 { _ = try r.addNote(on: a.id, body: "Landfill inspection \(i) near Baku.") }
        try r.close()
        let folder = tmp.url.resolvingSymlinksInPath().path
        #expect(Self.openFiles(under: folder).isEmpty, "nothing open once closed")
        // The cancelled upkeep would have opened replica.db 250 ms after the last commit.
        var seen: [String] = []
        let end = Date().addingTimeInterval(0.8)
        while Date() < end && seen.isEmpty {
            seen = Self.openFiles(under: folder)
            usleep(200)
        }
        #expect(seen.isEmpty, "a connection opened the closed replica: \(seen)")
    }
}
