import Foundation
import GlossEngine
import GlossTestSupport
import GlossWeb
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The conflict pages and the resolution form: the event it writes syncs and closes the conflict elsewhere.
@Suite(.timeLimit(.minutes(5))) struct ConflictPageTests {
    /// Ships every event of `from` that `to` lacks, as a bundle file.
    static func ship(_ from: Replica, _ to: Replica, _ dir: TempDir) throws {
        let file = dir.sub("bundle-\(UUID().uuidString).glossb")
        _ = try from.exportBundle(to: file, base: try to.vector)
        _ = try to.importBundle(at: file)
    }

    /// Two replicas whose concurrent edits of two notes conflict (overlapping lines).
    static func conflicted(_ label: String) throws -> (TempDir, Replica, Replica, [String]) {
        let dir = TempDir("web-\(label)")
        let clock = MockClock(start: 1_700_000_000_000, step: 1000)
        let a = try Replica.create(in: dir.sub("ana"), analyst: "ana", key: fixedKey("web-c-ana"), clock: clock.function)
        let b = try Replica.create(in: dir.sub("bo"), analyst: "bo", key: fixedKey("web-c-bo"), clock: clock.function)
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let n1 = try a.addNote(on: art, body: "one\ntwo\nthree").id
        let n2 = try a.addNote(on: art, body: "alpha\nbeta").id
        try ship(a, b, dir)
        _ = try a.editNote(n1, body: "one\nTWO (ana) <b>\nthree")
        _ = try b.editNote(n1, body: "one\nTWO (bo) \"'><script>x</script>\nthree")
        _ = try a.editNote(n2, body: "alpha\nBETA (ana)")
        _ = try b.editNote(n2, body: "alpha\nBETA (bo)")
        try ship(a, b, dir); try ship(b, a, dir)
        return (dir, a, b, [n1, n2])
    }

    @Test func conflictPagesListEveryCandidateSideBySideWithALineDiff() async throws {
        let (dir, a, b, notes) = try Self.conflicted("list")
        defer { try? a.close(); try? b.close(); dir.remove() }
        let conflicts = try a.conflicts()
        #expect(conflicts.count == 2)
        try await Application(router: WebServer(replica: a, security: WebSecurity(token: nil)).router()).test(.router) { client in
            let list = try await text(client.get("/conflicts"))
            for c in conflicts { #expect(list.contains("/conflicts/\(c.id)")) }
            let c = try #require(conflicts.first { $0.object == notes[0] })
            let page = try await text(client.get("/conflicts/\(c.id.prefix(12))"))
            for cand in c.candidates {
                #expect(page.contains("data-event=\"\(cand.event)\""), "every candidate is listed")
                #expect(page.contains("name=\"pick\" value=\"\(cand.event)\""), "and can be picked")
            }
            #expect(page.contains("TWO (ana) &lt;b&gt;") && page.contains("TWO (bo) &quot;&#39;&gt;&lt;script&gt;"))
            #expect(page.contains("<del>- ") && page.contains("<ins>+ "), "a line diff")
            #expect(page.contains("name=\"text\""), "a merged-text form")
            #expect(!page.contains("<script"))
        }
    }

    @Test func theResolutionFormWritesAnEventThatSyncsAndClosesTheConflictOnAnotherReplica() async throws {
        let (dir, a, b, notes) = try Self.conflicted("resolve")
        defer { try? a.close(); try? b.close(); dir.remove() }
        let conflicts = try a.conflicts()
        let c1 = try #require(conflicts.first { $0.object == notes[0] })
        let c2 = try #require(conflicts.first { $0.object == notes[1] })
        let picked = try #require(c1.candidates.first { $0.author == "bo" })
        let eventsBefore = try a.status().events
        try await Application(router: WebServer(replica: a, security: WebSecurity(token: nil)).router()).test(.router) { client in
            // Without the token: refused, nothing written.
            let refused = try await client.execute(uri: "/conflicts/\(c1.id)/resolve", method: .post,
                                                   headers: [.contentType: "application/x-www-form-urlencoded"], body: formBody([("pick", picked.event)]))
            #expect(refused.status == .forbidden)
            #expect(try a.status().events == eventsBefore)
            // A candidate and a text at once (a crafted form): refused, nothing written (the text was dropped).
            let both = try await client.postForm("/conflicts/\(c1.id)/resolve", from: "/conflicts/\(c1.id)", [("pick", picked.event), ("text", "mine instead")])
            #expect(both.status == .badRequest)
            #expect(try a.status().events == eventsBefore)
            // Pick a candidate.
            let r1 = try await client.postForm("/conflicts/\(c1.id)/resolve", from: "/conflicts/\(c1.id)", [("pick", picked.event), ("reason", "bo's wording")])
            #expect(r1.status == .seeOther)
            // Write a merged text.
            let r2 = try await client.postForm("/conflicts/\(c2.id)/resolve", from: "/conflicts/\(c2.id)", [("text", "alpha\r\nBETA (ana and bo)"), ("pick", "")])
            #expect(r2.status == .seeOther)
            let after = try await text(client.get("/conflicts/\(c1.id)"))
            #expect(after.contains("resolved by event") && !after.contains("name=\"pick\""))
            // Resolving again is refused with a page that says why.
            let again = try await client.postForm("/conflicts/\(c1.id)/resolve", from: "/notes/\(notes[0])", [("pick", picked.event)])
            #expect(again.status == .conflict)
        }
        #expect(try a.conflicts().isEmpty)
        #expect(try a.status().events == eventsBefore + 2)
        // The resolutions are ordinary signed events of a's key: they sync like any other.
        #expect(try b.conflicts().count == 2)
        try Self.ship(a, b, dir)
        #expect(try b.conflicts().isEmpty, "the resolutions closed both conflicts on the other replica")
        #expect(try b.noteDetail(notes[0]).body == picked.value)
        #expect(try b.noteDetail(notes[1]).body == "alpha\nBETA (ana and bo)")
        #expect(try b.digest() == (try a.digest()))
        // The web view of b shows the result on the next load.
        try await Application(router: WebServer(replica: b, security: WebSecurity(token: nil)).router()).test(.router) { client in
            let list = try await text(client.get("/conflicts")), note = try await text(client.get("/notes/\(notes[1])"))
            #expect(list.contains("0 open conflicts"))
            #expect(note.contains("BETA (ana and bo)"))
        }
    }
}
