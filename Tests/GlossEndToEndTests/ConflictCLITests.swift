import Foundation
import GlossTestSupport
import Testing

/// The conflict commands end to end: two replicas, bundles carried across, a conflict resolved.
@Suite struct ConflictCLITests {
    @Test func concurrentEditsConflictAndAResolutionSyncs() throws {
        let tmp = TempDir("gloss-conflict-cli")
        defer { tmp.remove() }
        func g(_ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }
        let (a, b) = (tmp.sub("a").path, tmp.sub("b").path)
        #expect(try g("init", "--analyst", "ana", "--dir", a).status == 0)
        #expect(try g("init", "--analyst", "bo", "--dir", b).status == 0)
        let f = tmp.sub("x.txt")
        try Data(sampleArticleBytes()).write(to: f)
        let art = try g("ingest", "--dir", a, f.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let note = try g("note", "add", "--dir", a, "--on", art, "--text", "date?").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func carry(_ from: String, _ to: String) throws -> GlossProcess.Result {
            let v = tmp.sub("v.json").path, bundle = tmp.sub("x.glossb").path
            #expect(try g("vector", "--dir", to, "--out", v).status == 0)
            #expect(try g("bundle", "export", "--dir", from, "--for", v, "--out", bundle).status == 0)
            return try g("bundle", "import", "--dir", to, bundle, "--json")
        }
        _ = try carry(a, b)
        #expect(try g("note", "edit", "--dir", a, note, "--text", "September 2021").status == 0)
        #expect(try g("note", "edit", "--dir", b, note, "--text", "2021-09 (month)").status == 0)
        let imported = try carry(a, b)
        #expect(imported.object["newConflicts"] as? Int == 1)
        let list = try g("conflicts", "--dir", b, "--json")
        let conflicts = try #require(try list.json() as? [[String: Any]])
        #expect(conflicts.count == 1)
        let c = conflicts[0]
        for key in ["id", "object", "field", "candidates"] { #expect(c[key] != nil, "conflicts JSON lacks \(key)") }
        #expect(c["object"] as? String == note)
        #expect(c["field"] as? String == "body")
        let candidates = try #require(c["candidates"] as? [[String: Any]])
        #expect(Set(candidates.compactMap { $0["value"] as? String }) == ["September 2021", "2021-09 (month)"])
        #expect(Set(candidates.compactMap { $0["author"] as? String }) == ["ana", "bo"])
        #expect(candidates.allSatisfy { $0["event"] is String && $0["time"] is String })
        let id = try #require(c["id"] as? String)
        #expect(try g("status", "--dir", b, "--json").object["openConflicts"] as? Int == 1)
        let shown = try g("conflict", "show", "--dir", b, String(id.prefix(10)))
        #expect(shown.status == 0 && shown.stdout.contains("September 2021"))
        #expect(try g("resolve", "--dir", b, id).status == 64)   // no choice given
        let pick = try #require(candidates.first { $0["author"] as? String == "ana" }?["event"] as? String)
        let resolved = try g("resolve", "--dir", b, String(id.prefix(10)), "--pick", String(pick.prefix(10)), "--reason", "ana checked the source", "--json")
        #expect(resolved.status == 0, "\(resolved.stderr)")
        #expect(resolved.object["event"] is String)
        #expect(try g("status", "--dir", b, "--json").object["openConflicts"] as? Int == 0)
        // The resolution travels back and closes the conflict on ana's replica too.
        _ = try carry(b, a)
        #expect(try g("status", "--dir", a, "--json").object["openConflicts"] as? Int == 0)
        #expect(try g("digest", "--dir", a).stdout == (try g("digest", "--dir", b).stdout))
        let body = try g("query", "--dir", a, "SELECT body FROM notes", "--json")
        #expect((try body.json() as? [[String: Any]])?.first?["body"] as? String == "September 2021")
    }
}
