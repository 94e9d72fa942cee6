import Foundation
import GlossTestSupport
import Testing

@Suite struct CandidatesCLITests {
    @Test func theSampleArticlesCandidatesAreRecordedAtIngestAndListed() throws {
        let tmp = TempDir("gloss-candidates")
        defer { tmp.remove() }
        func g(_ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }
        #expect(try g("init", "--analyst", "ana").status == 0)
        let f = tmp.sub("a.txt")
        try Data(sampleArticleBytes()).write(to: f)
        let art = try g("ingest", f.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try g("status", "--json").object["events"] as? Int == 1, "candidates travel in the ingest event")
        let r = try g("candidates", String(art.prefix(8)), "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let cs = try #require(try r.json() as? [[String: Any]])
        func has(_ kind: String, _ value: String, precision: String? = nil) -> Bool {
            cs.contains { $0["kind"] as? String == kind && $0["value"] as? String == value && (precision == nil || $0["precision"] as? String == precision) }
        }
        #expect(has("date", "2021-06-26", precision: "day"))
        #expect(has("place", "Islamabad") && has("place", "Baku"))
        #expect(has("date", "2021-09", precision: "month"))
        #expect(has("date", "2017-11", precision: "month"))
        for c in ["Pakistan", "Azerbaijan", "Turkey"] { #expect(has("country", c)) }
        let hasanov = cs.first { $0["kind"] as? String == "statement" && $0["speaker"] as? String == "Zakir Hasanov" }
        #expect(hasanov?["saidOn"] as? String == "2021-06-26")
        #expect((hasanov?["role"] as? String)?.contains("Defense Minister") == true)
        // Every candidate has a rule and a selector that re-finds its text.
        let text = String(decoding: sampleArticleBytes(), as: UTF8.self).precomposedStringWithCanonicalMapping
        let scalars = Array(text.unicodeScalars)
        for c in cs {
            #expect(c["rule"] is String)
            let sel = try #require(c["selector"] as? [String: Any])
            let (s, e) = (sel["start"] as! Int, sel["end"] as! Int)
            var view = String.UnicodeScalarView(); view.append(contentsOf: scalars[s..<e])
            #expect(String(view) == sel["exact"] as? String)
        }
        #expect(try g("extract", art).stdout.contains("already extracted"))
        #expect(try g("candidates", "ffff").status == 66)
    }
}

@Suite struct TagLinkCLITests {
    @Test func tagUntagLinkUnlink() throws {
        let tmp = TempDir("gloss-tags")
        defer { tmp.remove() }
        func g(_ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }
        #expect(try g("init", "--analyst", "ana").status == 0)
        let f = tmp.sub("a.txt")
        try Data(sampleArticleBytes()).write(to: f)
        let art = try g("ingest", f.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let note = try g("note", "add", "--on", art, "--text", "n").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let t = try g("tag", String(art.prefix(8)), "military", "--json")
        #expect(t.status == 0 && t.object["event"] is String)
        #expect(try g("tag", art, "military", "--json").object["existing"] as? Bool == true)
        let l = try g("link", note, "supports", art, "--json")
        #expect(l.status == 0 && l.object["id"] is String)
        let shown = try g("show", art).object
        #expect((shown["tags"] as? [[String: Any]])?.first?["tag"] as? String == "military")
        #expect((shown["links"] as? [[String: Any]])?.first?["relation"] as? String == "supports")
        #expect(try g("untag", art, "military").status == 0)
        #expect(try g("untag", art, "military").status == 66)
        #expect(try g("unlink", note, "supports", art).status == 0)
        #expect(try g("tag", art, " padded ").status == 65)
        let q = try g("query", "SELECT count(*) AS n FROM tags UNION ALL SELECT count(*) FROM links", "--json")
        #expect((try q.json() as? [[String: Any]])?.map { $0["n"] as? Int } == [0, 0])
    }
}
