import Foundation
import GlossEngine
import GlossTestSupport
import Testing

/// The trust-boundary commands end to end on the built binary: `gloss pending` (list and drop) and
/// `gloss verify` reporting held fork evidence apart from a corrupt log.
@Suite struct TrustCLITests {
    let tmp = TempDir("gloss-trust-e2e")

    func gloss(_ args: String...) throws -> GlossProcess.Result { try GlossProcess.run(args, cwd: tmp.url) }

    @Test func pendingListsWhatWaitsAndWhyAndDropClearsIt() throws {
        defer { tmp.remove() }
        let (a, c) = (tmp.sub("a").path, tmp.sub("c").path)
        #expect(try gloss("init", "--analyst", "ana", "--dir", a).status == 0)
        #expect(try gloss("init", "--analyst", "cy", "--dir", c).status == 0)
        let sample = tmp.sub("sample.txt")
        try Data(sampleArticleBytes()).write(to: sample)
        let article = try gloss("ingest", "--dir", a, sample.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for i in 0..<3 { #expect(try gloss("note", "add", "--dir", a, "--on", article, "--text", "note \(i)").status == 0) }
        // A bundle built against a vector claiming a's first event: c lacks it, so the rest waits.
        let replica = try #require(try gloss("whoami", "--dir", a, "--json").object["replica"] as? String)
        let vector = tmp.sub("v.json")
        try Data(#"{"gloss": "version-vector", "format": 1, "vector": {"\#(replica)": 1}}"#.utf8).write(to: vector)
        let bundle = tmp.sub("b.glossb").path
        #expect(try gloss("bundle", "export", "--dir", a, "--for", vector.path, "--out", bundle).status == 0)
        let imp = try gloss("bundle", "import", "--dir", c, "--json", bundle)
        #expect(imp.object["pending"] as? Int == 3, "\(imp.stdout) \(imp.stderr)")
        let listed = try gloss("pending", "--dir", c, "--json")
        #expect(listed.status == 0, "\(listed.stderr)")
        let feeds = try #require(try listed.json() as? [[String: Any]])
        #expect(feeds.count == 1)
        #expect(feeds.first?["replica"] as? String == replica)
        #expect(feeds.first?["events"] as? Int == 3 && feeds.first?["lowestSeq"] as? Int == 2 && feeds.first?["highestSeq"] as? Int == 4)
        #expect((feeds.first?["reason"] as? String)?.contains("waiting for seq 1") == true)
        #expect(feeds.first?["expiresAt"] is String)
        let text = try gloss("pending", "--dir", c)
        #expect(text.stdout.contains("3 events, seq 2–4"))
        // Drop by a prefix of the feed, then nothing waits.
        #expect(try gloss("pending", "drop", "--dir", c).status == 64, "one of --feed or --all is required")
        let dropped = try gloss("pending", "drop", "--dir", c, "--feed", String(replica.prefix(10)), "--json")
        #expect(dropped.object["dropped"] as? Int == 3, "\(dropped.stderr)")
        #expect(try gloss("pending", "--dir", c).stdout.contains("nothing is pending"))
        // The whole bundle brings everything; nothing was lost by dropping.
        let all = tmp.sub("all.glossb").path
        #expect(try gloss("bundle", "export", "--dir", a, "--all", "--out", all).status == 0)
        #expect(try gloss("bundle", "import", "--dir", c, "--json", all).object["applied"] as? Int == 4)
        #expect(try gloss("pending", "drop", "--dir", c, "--all", "--json").object["dropped"] as? Int == 0)
    }

    /// Replica `a` (an ingested article at seq 1) and a copy of its folder, each of which then adds
    /// a note: the same key writes two different seq 2.
    func copiesWritingSeq2() throws -> (a: URL, twin: URL) {
        let a = tmp.sub("a")
        #expect(try gloss("init", "--analyst", "ana", "--dir", a.path).status == 0)
        let sample = tmp.sub("sample.txt")
        try Data(sampleArticleBytes()).write(to: sample)
        let article = try gloss("ingest", "--dir", a.path, sample.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let twin = tmp.sub("twin")
        try FileManager.default.copyItem(at: a, to: twin)
        #expect(try gloss("note", "add", "--dir", a.path, "--on", article, "--text", "original branch").status == 0)
        #expect(try gloss("note", "add", "--dir", twin.path, "--on", article, "--text", "twin branch").status == 0)
        return (a, twin)
    }

    @Test func verifyReportsHeldForkEvidenceApartFromACorruptLog() throws {
        defer { tmp.remove() }
        let c = tmp.sub("c").path
        #expect(try gloss("init", "--analyst", "cy", "--dir", c).status == 0)
        let (a, twin) = try copiesWritingSeq2()
        for (i, dir) in [a.path, twin.path].enumerated() {
            let b = tmp.sub("b\(i).glossb").path
            #expect(try gloss("bundle", "export", "--dir", dir, "--all", "--out", b).status == 0)
            _ = try gloss("bundle", "import", "--dir", c, b)
        }
        let v = try gloss("verify", "--dir", c, "--json")
        #expect(v.status == 9, "\(v.stdout) \(v.stderr)")
        #expect(v.object["ok"] as? Bool == true)
        let forks = try #require(v.object["forks"] as? [[String: Any]])
        #expect(forks.count == 1 && forks[0]["seq"] as? Int == 2 && forks[0]["evidence"] as? Int == 2 && forks[0]["verified"] as? Int == 2)
        #expect(try gloss("verify", "--dir", c).stdout.contains("FORK replica"))
        // The replica that wrote one branch has no evidence: a clean log, exit 0.
        #expect(try gloss("verify", "--dir", a.path).status == 0)
        // c's bundles carry the evidence (format 2): the writer of one branch learns of the fork
        // from one, and a bundle of a replica that knows no fork has none.
        let fromC = tmp.sub("c.glossb").path
        let export = try gloss("bundle", "export", "--dir", c, "--all", "--out", fromC, "--json")
        #expect(export.status == 0 && export.object["events"] as? Int == 1 && export.object["evidence"] as? Int == 2, "\(export.stdout)")
        #expect(try gloss("bundle", "export", "--dir", c, "--all", "--out", tmp.sub("c2.glossb").path).stdout.contains("and 2 events of fork evidence"))
        let imported = try gloss("bundle", "import", "--dir", a.path, "--json", fromC)
        #expect(imported.status == 2 && imported.object["forks"] as? Int == 1, "a fork detected: exit 2 \(imported.stdout) \(imported.stderr)")
        #expect(try gloss("verify", "--dir", a.path).status == 9, "a holds the evidence now")
        #expect(try gloss("bundle", "export", "--dir", twin.path, "--all", "--out", tmp.sub("t.glossb").path, "--json").object["evidence"] as? Int == 0)
    }

    /// Two copies of one folder each write seq 2; x takes one branch, z the other (through
    /// `gloss sync` with each copy). x and z hold equal vectors: one `gloss sync` between them over
    /// real sockets finds the fork through the heads (Protocol/07 §Heads) — exit 2, `forks` 1 —
    /// and both end frozen at seq 2, `gloss verify` exit 9, the same digest.
    @Test func syncFindsBranchesEndingAtTheSameSeq() throws {
        defer { tmp.remove() }
        let (x, z) = (tmp.sub("x").path, tmp.sub("z").path)
        for (dir, name) in [(x, "xu"), (z, "zoe")] { #expect(try gloss("init", "--analyst", name, "--dir", dir).status == 0) }
        let (a, twin) = try copiesWritingSeq2()
        for (source, target) in [(a.path, x), (twin.path, z)] {
            let server = try ServeProcess(dir: URL(fileURLWithPath: source))
            let pulled = try gloss("sync", "--dir", target, "127.0.0.1:\(server.port)", "--json")
            #expect(pulled.status == 0, "\(pulled.stdout) \(pulled.stderr)")
            #expect(server.stop() == 0)
        }
        func status(_ dir: String) throws -> [String: Any] { try gloss("status", "--dir", dir, "--json").object }
        #expect(try status(x)["versionVector"] as? [String: Int] == status(z)["versionVector"] as? [String: Int])
        let server = try ServeProcess(dir: URL(fileURLWithPath: x))
        let met = try gloss("sync", "--dir", z, "127.0.0.1:\(server.port)", "--json")
        #expect(server.stop() == 0)
        #expect(met.status == 2 && met.object["forks"] as? Int == 1, "the fork is found: exit 2 \(met.stdout) \(met.stderr)")
        for dir in [x, z] {
            let v = try gloss("verify", "--dir", dir, "--json")
            #expect(v.status == 9, "\(dir): \(v.stdout)")
            #expect((v.object["forks"] as? [[String: Any]])?.first?["seq"] as? Int == 2)
        }
        #expect(try status(x)["digest"] as? String == status(z)["digest"] as? String)
    }
}
