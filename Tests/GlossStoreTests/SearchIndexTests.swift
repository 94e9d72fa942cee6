import Foundation
import GRDB
import GlossEngine
@testable import GlossProjections
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

    @Test func snippetsShowTheFirstMatchInBrackets() {
        func cut(_ text: String, _ words: [String]) -> String { SearchSnippet.cut(text, phrases: words.map(SearchSnippet.tokens(of:))) }
        #expect(cut("Exercise date: September 2021 (month precision only).", ["september"]) == "Exercise date: [September] 2021 (month precision only).")
        #expect(cut("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen", ["nine"])
                == "…four five six seven eight [nine] ten eleven twelve thirteen fourteen fifteen")
        #expect(cut("a b c d e f g h i j k l m n o p q", ["c", "e"]) == "a b [c] d [e] f g h i j k l…")
        // Case and diacritics folded; a word of several tokens is one phrase, bracketed whole.
        #expect(cut("Le président Aliyev à Bakou-Sumqayit, hier.", ["PRESIDENT", "bakou-sumqayit"])
                == "Le [président] Aliyev à [Bakou-Sumqayit], hier.")
        // Nothing found by this tokenizer: the text's start.
        #expect(cut("alpha beta gamma", ["zeta"]) == "alpha beta gamma")
        #expect(cut("", ["x"]) == "")
        // A megabyte of punctuation between two words is not a snippet.
        #expect(cut("alpha" + String(repeating: ".", count: 1 << 20) + "beta!", ["beta"])
                == "alpha" + String(repeating: ".", count: 20) + "…" + String(repeating: ".", count: 20) + "[beta]!")
    }

    /// A text of one word repeated 60,000 times (660 KB): FTS5's snippet() compared every occurrence
    /// with every other — 22 s per search for one word, 89 s for two (release) — and anyone who can
    /// write a note could plant one. The snippet is cut from the text up to its first match now.
    @Test func aTextOfRepeatedWordsCostsASearchNoMoreThanItsLength() throws {
        let tmp = TempDir("gloss-snippet")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana")
        let a = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        let note = try r.addNote(on: a.id, body: String(repeating: "alpha beta\n", count: 60_000))
        let start = Date()
        let hits = try r.search("alpha beta")
        let seconds = Date().timeIntervalSince(start)
        print("[fts] a search over a note of 60,000 repeated words: \(String(format: "%.3f", seconds)) s")
        #expect(hits.map(\.id) == [note.id])
        #expect(hits.first?.snippet == "[alpha] [beta]\n[alpha] [beta]\n[alpha] [beta]\n[alpha] [beta]\n[alpha] [beta]\n[alpha] [beta]…")
        #expect(seconds < 5, "\(seconds) s")
    }
}
