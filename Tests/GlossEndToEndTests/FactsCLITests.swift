import Foundation
import GlossTestSupport
import Testing

/// The analyst's workflow through the real binary: sources and grades, facts from evidence and
/// from candidates, amend, corroborate, contradict, retract, annotate, and a concurrent amend vs
/// retract between two replicas exchanging bundles.
@Suite struct FactsCLITests {
    @Test func factsSourcesGradesAndAnnotationsEndToEnd() throws {
        let tmp = TempDir("gloss-facts")
        defer { tmp.remove() }
        let (ana, ben) = (tmp.sub("ana"), tmp.sub("ben"))
        func g(_ dir: URL, _ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: dir) }
        func id(_ r: GlossProcess.Result) -> String { r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        try FileManager.default.createDirectory(at: ana, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ben, withIntermediateDirectories: true)
        #expect(try g(ana, "init", "--analyst", "ana").status == 0)
        #expect(try g(ben, "init", "--analyst", "ben").status == 0)
        let file = tmp.sub("a.txt")
        try Data(sampleArticleBytes()).write(to: file)
        let art = id(try g(ana, "ingest", file.path))

        #expect(try g(ana, "source", "add", "Dawn", "--kind", "outlet").status == 0)
        #expect(try g(ana, "source", "add", "dawn").status == 5, "same name, same source")
        #expect(try g(ana, "grade", "source", "Dawn", "--reliability", "B", "--reason", "long record").status == 0)

        // Evidence that occurs more than once is refused, listing the occurrences, until disambiguated.
        let amb = try g(ana, "fact", "add", "--article", String(art.prefix(8)), "--subject", "Pakistan", "--predicate", "hosts",
                        "--object", "exercise", "--evidence", "Pakistan")
        #expect(amb.status == 6)
        #expect(amb.stderr.contains("--occurrence") && amb.stderr.contains("#2 at"))
        let f1 = id(try g(ana, "fact", "add", "--article", art, "--subject", "Pakistan", "--predicate", "hosts", "--object", "exercise",
                          "--evidence", "Pakistan", "--occurrence", "2", "--source", "Dawn"))
        #expect(f1.count == 64)
        #expect(try g(ana, "grade", "fact", String(f1.prefix(8)), "--credibility", "2").status == 0)

        let statement = try #require((try g(ana, "candidates", art, "--json").json() as? [[String: Any]])?
            .first { $0["kind"] as? String == "statement" }?["id"] as? String)
        let f2 = id(try g(ana, "fact", "add", "--from-candidate", String(statement.prefix(10)), "--source", "Dawn"))
        #expect(try g(ana, "fact", "corroborate", f1, "--by", f2).status == 0)
        #expect(try g(ana, "fact", "contradict", f1, "--by", f2).status == 5, "already corroborates")

        let n = id(try g(ana, "annotate", art, "--quote", "landfills", "--comment", "waste sites", "--tag", "site"))
        let anns = try #require(try g(ana, "annotations", art, "--json").json() as? [[String: Any]])
        #expect(anns.count == 1 && anns[0]["id"] as? String == n && anns[0]["tags"] as? [String] == ["site"])
        let sel = try #require(anns[0]["selector"] as? [String: Any])
        #expect(sel["exact"] as? String == "landfills" && (sel["end"] as? Int ?? 0) - (sel["start"] as? Int ?? 0) == 9)

        let facts = try #require(try g(ana, "facts", "--article", art, "--json").json() as? [[String: Any]])
        #expect(facts.count == 2)
        let first = try #require(facts.first { $0["id"] as? String == f1 })
        #expect(first["grade"] as? String == "B2" && first["sourceName"] as? String == "Dawn")
        #expect(first["corroboratedBy"] as? [String] == [f2])
        #expect((first["evidence"] as? [String: Any])?["exact"] as? String == "Pakistan")
        let second = try #require(facts.first { $0["id"] as? String == f2 })
        #expect(second["subject"] as? String == "Zakir Hasanov" && second["when"] as? String == "2021-06-26")
        #expect(second["grade"] as? String == "B?")

        // Hand everything to ben, then amend and retract concurrently.
        let b1 = tmp.sub("1.glossb")
        #expect(try g(ana, "bundle", "export", "--out", b1.path, "--all").status == 0)
        #expect(try g(ben, "bundle", "import", b1.path).status == 0)
        #expect(try g(ana, "fact", "amend", f1, "--field", "when", "--value", "2021-09").status == 0)
        #expect(try g(ben, "fact", "retract", f1, "--reason", "wrong country").status == 0)
        let (b2, b3) = (tmp.sub("2.glossb"), tmp.sub("3.glossb"))
        #expect(try g(ana, "bundle", "export", "--out", b2.path, "--all").status == 0)
        #expect(try g(ben, "bundle", "export", "--out", b3.path, "--all").status == 0)
        #expect(try g(ben, "bundle", "import", b2.path).status == 0)
        #expect(try g(ana, "bundle", "import", b3.path).status == 0)
        for dir in [ana, ben] {
            let cs = try #require(try g(dir, "conflicts", "--json").json() as? [[String: Any]])
            #expect(cs.count == 1 && cs.first?["objectKind"] as? String == "fact" && cs.first?["field"] as? String == "record")
            let fs = try #require(try g(dir, "facts", "--json").json() as? [[String: Any]])
            #expect(fs.first { $0["id"] as? String == f1 }?["state"] as? String == "conflict")
        }
        #expect(try g(ana, "digest").stdout == (try g(ben, "digest").stdout))
        let conflict = try #require((try g(ben, "conflicts", "--json").json() as? [[String: Any]])?.first?["id"] as? String)
        let r = try g(ben, "resolve", conflict, "--value", "subject: Pakistan\npredicate: hosts\nobject: exercise\nwhen: 2021-09\nwhere:\nsource: nonsense")
        #expect(r.status == 65 && r.stderr.contains("source"))
        let shown = try g(ben, "fact", "show", String(f1.prefix(8)))
        #expect(shown.status == 0 && shown.stdout.contains("retract") && shown.stdout.contains("B — long record"))

        // Bad input: clear messages, documented exit codes, nothing written.
        let events = try g(ana, "status", "--json").object["events"] as? Int
        #expect(try g(ana, "fact", "add", "--article", art, "--predicate", "p", "--object", "o", "--evidence", "Pakistan", "--occurrence", "1").stderr.contains("--subject"))
        // Fields and grades are parsed by ArgumentParser: a value outside them is a usage error naming the values.
        let colour = try g(ana, "fact", "amend", f2, "--field", "colour", "--value", "x")
        #expect(colour.status == 64 && colour.stderr.contains("subject"), "\(colour.stderr)")
        let nine = try g(ana, "grade", "fact", f2, "--credibility", "9")
        #expect(nine.status == 64 && nine.stderr.contains("'9'"), "\(nine.stderr)")
        #expect(try g(ana, "grade", "source", "Dawn", "--reliability", "g").status == 64)
        #expect(try g(ana, "grade", "source", "Nobody", "--reliability", "A").status == 66)
        #expect(try g(ana, "annotate", art, "--quote", "no such words here").status == 65)
        #expect(try g(ana, "annotate", art, "--quote", "the", "--occurrence", "0").status == 64)
        #expect(try g(ana, "facts", "--article", "zz").status == 65)
        #expect(try g(ana, "status", "--json").object["events"] as? Int == events)
    }
}

@Suite struct RevisionCLITests {
    @Test func ingestRevisesAnchorsConfirmAndRetarget() throws {
        let tmp = TempDir("gloss-revisions")
        defer { tmp.remove() }
        func g(_ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }
        func id(_ r: GlossProcess.Result) -> String { r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(try g("init", "--analyst", "ana").status == 0)
        let v1 = tmp.sub("v1.txt"), v2 = tmp.sub("v2.txt")
        try Data(sampleArticleBytes()).write(to: v1)
        let text = String(decoding: sampleArticleBytes(), as: UTF8.self)
        try Data(text.replacingOccurrences(of: "inspecting the landfills", with: "inspecting the training grounds")
            .replacingOccurrences(of: "The three nations agreed to boost trade, support each other on global platforms and augment defense cooperation.", with: "").utf8).write(to: v2)
        let art = id(try g("ingest", v1.path))
        let kept = id(try g("annotate", art, "--quote", "Zakir Hasanov"))
        let reworded = id(try g("annotate", art, "--quote", "inspecting the landfills"))
        let gone = id(try g("fact", "add", "--article", art, "--subject", "the three nations", "--predicate", "agreed", "--object", "to boost trade",
                            "--evidence", "The three nations agreed to boost trade"))
        #expect(try g("ingest", "--revises", art, v1.path, v2.path).status == 64, "--revises takes one file")
        let rev = try g("ingest", "--revises", String(art.prefix(8)), v2.path, "--json")
        #expect(rev.status == 0 && rev.object["event"] is String)
        #expect(try g("ingest", "--revises", art, v2.path, "--json").object["existing"] as? Bool == true)
        let anchors = try #require(try g("anchors", art, "--json").json() as? [[String: Any]])
        func status(_ id: String) -> String? { anchors.first { $0["id"] as? String == id }?["status"] as? String }
        #expect(status(kept) == "exact")
        #expect(status(reworded) == "needs-review")
        #expect(status(gone) == "orphaned")
        let review = try #require(anchors.first { $0["id"] as? String == reworded })
        #expect((review["score"] as? Int ?? 0) >= 600 && review["candidate"] is [String: Any] && review["new"] is NSNull)
        #expect((review["old"] as? [String: Any])?["exact"] as? String == "inspecting the landfills")
        let listed = try g("anchors", art)
        #expect(listed.status == 0 && listed.stdout.contains("needs-review") && listed.stdout.contains("orphaned"))
        #expect(try g("anchor", "confirm", gone).status == 5, "an orphaned anchor has nothing to confirm")
        #expect(try g("anchor", "confirm", reworded).status == 0)
        #expect(try g("anchor", "retarget", gone, "--quote", "no such words").status == 65)
        #expect(try g("anchor", "retarget", gone, "--quote", "augment defense").status == 65, "the sentence is gone from the current revision")
        #expect(try g("anchor", "retarget", gone, "--quote", "Special Forces", "--occurrence", "1").status == 0)
        let after = try #require(try g("anchors", art, "--json").json() as? [[String: Any]])
        #expect(after.first { $0["id"] as? String == reworded }?["status"] as? String == "confirmed")
        #expect(after.first { $0["id"] as? String == gone }?["status"] as? String == "retargeted")
        let shown = try g("show", art).object
        #expect((shown["revisions"] as? [[String: Any]])?.count == 2)
        #expect(try g("verify").status == 0)
    }
}
