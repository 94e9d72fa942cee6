import Foundation
import GlossTestSupport
import Testing

/// `gloss export stix|annotations` through the real binary on a two-analyst history: expected
/// object counts, stable ids and bytes, `modified` following history, and the official validators.
@Suite struct ExportCLITests {
    @Test func stixAndWebAnnotationExportsOfARealHistory() throws {
        let tmp = TempDir("gloss-export-cli")
        defer { tmp.remove() }
        let (ana, bo) = (tmp.sub("ana"), tmp.sub("bo"))
        for d in [ana, bo] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        func g(_ dir: URL, _ args: String...) throws -> GlossProcess.Result {
            let r = try GlossProcess.run(args, cwd: dir)
            #expect(r.status == 0, "gloss \(args.joined(separator: " ")): \(r.stderr)")
            return r
        }
        func id(_ r: GlossProcess.Result) -> String { r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        _ = try g(ana, "init", "--analyst", "ana"); _ = try g(bo, "init", "--analyst", "bo")
        let file = tmp.sub("a.txt")
        try Data(sampleArticleBytes()).write(to: file)
        let art = id(try g(ana, "ingest", file.path))
        _ = try g(ana, "source", "add", "Dawn", "--kind", "outlet")
        _ = try g(ana, "grade", "source", "Dawn", "--reliability", "B")
        let f1 = id(try g(ana, "fact", "add", "--article", art, "--subject", "Special Forces", "--predicate", "will hold", "--object", "exercises",
                          "--when", "2021-09", "--where", "Azerbaijan", "--source", "Dawn", "--evidence", "hold exercises in Azerbaijan in September"))
        _ = try g(ana, "grade", "fact", f1, "--credibility", "2")
        let statement = try #require((try g(ana, "candidates", art, "--json").json() as? [[String: Any]])?
            .first { $0["kind"] as? String == "statement" }?["id"] as? String)
        let f2 = id(try g(ana, "fact", "add", "--from-candidate", statement))
        let f3 = id(try g(ana, "fact", "add", "--article", art, "--subject", "exercises", "--predicate", "postponed", "--object", "to 2022",
                          "--evidence", "Preparations are underway"))
        _ = try g(ana, "fact", "corroborate", f1, "--by", f2)
        _ = try g(ana, "fact", "contradict", f1, "--by", f3)
        _ = try g(ana, "link", f2, "cites", art)
        _ = try g(ana, "note", "add", "--on", art, "--text", "Trilateral exercise, month precision.")
        _ = try g(ana, "note", "add", "--on", f1, "--text", "Check the ministry's site.")
        _ = try g(ana, "annotate", art, "--quote", "inspecting the landfills", "--comment", "odd detail", "--tag", "follow-up")
        _ = try g(ana, "annotate", art, "--quote", "Zakir Hasanov")
        let b1 = tmp.sub("1.glossb")
        _ = try g(ana, "bundle", "export", "--all", "--out", b1.path)
        _ = try g(bo, "bundle", "import", b1.path)
        _ = try g(bo, "note", "add", "--on", f3, "--text", "No source says postponed.")
        let f4 = id(try g(bo, "fact", "add", "--article", art, "--subject", "x", "--predicate", "y", "--object", "z", "--evidence", "Baku", "--occurrence", "1"))
        _ = try g(bo, "fact", "retract", f4, "--reason", "test entry")

        let (s1, s2, w) = (tmp.sub("s1.json"), tmp.sub("s2.json"), tmp.sub("w.jsonld"))
        let summary = try g(bo, "export", "stix", "--out", s1.path, "--json").object
        _ = try g(bo, "export", "stix", "--out", s2.path)
        #expect(try Data(contentsOf: s1) == Data(contentsOf: s2), "exporting twice gives the same bytes")
        let counts = try #require(summary["counts"] as? [String: Int])
        // 2 analysts + 1 source; Pakistan, Azerbaijan, Turkey, Afghanistan; 1 article; 3 notes + 3 live
        // facts (the retracted one is left out); corroborate + contradict; one `cites` link.
        #expect(counts["identity"] == 3)
        #expect(counts["location"] == 4)
        #expect(counts["report"] == 1)
        #expect(counts["note"] == 6)
        #expect(counts["opinion"] == 2)
        #expect(counts["relationship"] == 1)
        let bundle = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: s1)) as? [String: Any])
        let objects = try #require(bundle["objects"] as? [[String: Any]])
        func object(_ type: String, _ test: ([String: Any]) -> Bool) -> [String: Any]? { objects.first { $0["type"] as? String == type && test($0) } }
        let fact1 = try #require(object("note") { ($0["content"] as? String)?.contains("will hold") == true })
        #expect(fact1["confidence"] as? Int == 70, "credibility 2 → confidence 70")
        #expect(object("opinion") { $0["opinion"] as? String == "agree" } != nil && object("opinion") { $0["opinion"] as? String == "disagree" } != nil)
        #expect(object("location") { $0["country"] as? String == "AZ" } != nil)

        // Amending a fact changes its `modified`, not its id; everything else stays byte-identical.
        _ = try g(bo, "fact", "amend", f1, "--field", "when", "--value", "2021-09-15")
        let s3 = tmp.sub("s3.json")
        _ = try g(bo, "export", "stix", "--out", s3.path)
        let after = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: s3)) as? [String: Any])?["objects"] as? [[String: Any]])
        let before = Dictionary(uniqueKeysWithValues: objects.map { ($0["id"] as! String, $0) })
        #expect(Set(after.map { $0["id"] as! String }) == Set(before.keys))
        let changed = after.filter { ($0["modified"] as? String) != (before[$0["id"] as! String]?["modified"] as? String) }.map { $0["id"] as! String }
        let report = try #require(object("report") { _ in true })
        #expect(Set(changed) == [fact1["id"] as! String, report["id"] as! String], "only the amended fact's modified moves, and its report's")

        let wa = try g(bo, "export", "annotations", "--out", w.path, "--article", String(art.prefix(8)), "--json").object
        #expect((wa["counts"] as? [String: Int])?["Annotation"] == 2)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: w)) as? [String: Any])
        #expect(doc["@context"] as? String == "http://www.w3.org/ns/anno.jsonld")
        let items = try #require((doc["first"] as? [String: Any])?["items"] as? [[String: Any]] ?? doc["items"] as? [[String: Any]])
        let odd = try #require(items.first { (($0["target"] as? [String: Any])?["selector"] as? [[String: Any]])?.contains { $0["exact"] as? String == "inspecting the landfills" } == true })
        let selectors = try #require((odd["target"] as? [String: Any])?["selector"] as? [[String: Any]])
        #expect(Set(selectors.compactMap { $0["type"] as? String }) == ["TextQuoteSelector", "TextPositionSelector"])
        #expect(((odd["target"] as? [String: Any])?["source"] as? String)?.hasPrefix("urn:gloss:revision:") == true)

        guard let (status, report, text) = try ExportValidator.check(stix: s3, annotations: w) else { return }
        #expect(status == 0, "\(text)")
        let stix = report["stix"] as? [String: Any]
        #expect(stix?["valid"] as? Bool == true && (stix?["errors"] as? [String])?.isEmpty == true, "\(text)")
        #expect((stix?["warnings"] as? [String])?.isEmpty == true, "\(text)")
        let types = (report["annotations"] as? [String: Any])?["types"] as? [String: Int]
        #expect(types?["oa:Annotation"] == 2 && types?["oa:TextQuoteSelector"] == 2 && types?["oa:TextPositionSelector"] == 2)
    }
}
