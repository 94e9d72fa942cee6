import Foundation
import GlossTestSupport
import Testing

/// `gloss bundle export/import` with encryption, end to end on the built binary.
@Suite struct EncryptedBundleCLITests {
    let tmp = TempDir("gloss-e2e-enc")

    func g(_ dir: String, _ args: String...) throws -> GlossProcess.Result {
        try GlossProcess.run(args + ["--dir", tmp.sub(dir).path], cwd: tmp.url)
    }

    func replicaID(_ dir: String) throws -> String {
        try #require(try g(dir, "whoami", "--json").object["replica"] as? String)
    }

    func magic(_ path: String) -> String {
        String(decoding: (FileManager.default.contents(atPath: tmp.sub(path).path) ?? Data()).prefix(8), as: UTF8.self)
    }

    @Test func exportEncryptsWhenTheRecipientIsKnownAndImportOpensOnlyForRecipients() throws {
        defer { tmp.remove() }
        for name in ["ana", "bo", "cy", "dee"] { #expect(try g(name, "init", "--analyst", name).status == 0) }
        let (ana, bo, cy, dee) = (try replicaID("ana"), try replicaID("bo"), try replicaID("cy"), try replicaID("dee"))
        let sample = tmp.sub("article.txt")
        try Data(sampleArticleBytes()).write(to: sample)
        let article = try #require(try g("ana", "ingest", "--json", sample.path).object["id"] as? String)
        // bo knows ana as a peer once it has imported one of her bundles; a plain first one.
        let first = try g("ana", "bundle", "export", "--all", "--out", "first.glossb", "--json")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.object["encrypted"] as? Bool == false && (first.object["recipients"] as? [Any])?.isEmpty == true)
        #expect(first.object["events"] as? Int == 1 && first.object["out"] as? String == "first.glossb")
        #expect(magic("first.glossb") == "GLOSSBDL")
        #expect(try g("bo", "bundle", "import", tmp.sub("first.glossb").path).status == 0)
        #expect(try g("ana", "bundle", "import", tmp.sub("first.glossb").path).status == 0)
        // ana learns bo from bo's bundle (its acknowledgement), then names it.
        _ = try g("bo", "bundle", "export", "--all", "--out", "bo.glossb", "--plain")
        #expect(try g("ana", "bundle", "import", tmp.sub("bo.glossb").path).status == 0)
        let named = try g("ana", "peers", "name", bo, "bo", "--json")
        #expect(named.status == 0 && named.object["replica"] as? String == bo && named.object["alias"] as? String == "bo", "\(named.stdout) \(named.stderr)")
        #expect(try g("ana", "note", "add", "--on", article, "--text", "for bo").status == 0)

        // --peer encrypts by default, to the peer and ana.
        let enc = try g("ana", "bundle", "export", "--peer", "bo", "--out", "to-bo.glossb", "--json")
        #expect(enc.status == 0, "\(enc.stderr)")
        let o = enc.object
        #expect(o["encrypted"] as? Bool == true)
        #expect((o["recipients"] as? [String]) == [ana, bo].sorted())
        for key in ["out", "events", "bytes", "base"] { #expect(o[key] != nil, "missing \(key)") }
        #expect(magic("to-bo.glossb") == "GLOSSENC")
        let opened = try g("bo", "bundle", "import", tmp.sub("to-bo.glossb").path, "--json")
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.object["encrypted"] as? Bool == true && opened.object["applied"] as? Int == 1)
        // Not a recipient: exit 65, a clear message, nothing applied.
        let before = try g("cy", "status", "--json").stdout
        let refused = try g("cy", "bundle", "import", tmp.sub("to-bo.glossb").path)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("encrypted to 2 recipients") && refused.stderr.contains("this replica (\(cy)) is not among them"), "\(refused.stderr)")
        #expect(try g("cy", "status", "--json").stdout == before)

        // --plain with a known peer writes a plain bundle; --plain with --recipient is a usage error.
        let plain = try g("ana", "bundle", "export", "--peer", "bo", "--plain", "--out", "plain.glossb", "--json")
        #expect(plain.status == 0 && plain.object["encrypted"] as? Bool == false)
        #expect(magic("plain.glossb") == "GLOSSBDL")
        #expect(try g("ana", "bundle", "export", "--all", "--plain", "--recipient", cy, "--out", "x.glossb").status == 64)

        // --recipient twice (a full id and a unique prefix of a known replica), with --all.
        _ = try g("cy", "bundle", "export", "--all", "--out", "cy.glossb")
        #expect(try g("ana", "bundle", "import", tmp.sub("cy.glossb").path).status == 0)
        let two = try g("ana", "bundle", "export", "--all", "--recipient", dee, "--recipient", String(cy.prefix(12)), "--out", "two.glossb", "--json")
        #expect(two.status == 0, "\(two.stderr)")
        #expect((two.object["recipients"] as? [String]) == [ana, cy, dee].sorted())
        for (name, ok) in [("cy", true), ("dee", true), ("bo", false)] {
            let r = try g(name, "bundle", "import", tmp.sub("two.glossb").path)
            #expect(r.status == (ok ? 0 : 65), "\(name): \(r.stderr)")
        }
        // --for a vector file naming its replica encrypts to it.
        #expect(try g("dee", "vector", "--out", tmp.sub("dee.vector").path).status == 0)
        let forDee = try g("ana", "bundle", "export", "--for", tmp.sub("dee.vector").path, "--out", "for-dee.glossb", "--json")
        #expect((forDee.object["recipients"] as? [String]) == [ana, dee].sorted())
        // A tampered chunk: refused (one chunk here), exit 65.
        var bytes = try Array(Data(contentsOf: tmp.sub("for-dee.glossb")))
        bytes[bytes.count - 3] ^= 0x40
        try Data(bytes).write(to: tmp.sub("tampered.glossb"))
        let tampered = try g("dee", "bundle", "import", tmp.sub("tampered.glossb").path)
        #expect(tampered.status == 65 && tampered.stderr.contains("does not authenticate"), "\(tampered.stderr)")
        // A tampered header: refused by its signature.
        bytes = try Array(Data(contentsOf: tmp.sub("for-dee.glossb")))
        bytes[80] ^= 0x01
        try Data(bytes).write(to: tmp.sub("tampered-header.glossb"))
        let header = try g("dee", "bundle", "import", tmp.sub("tampered-header.glossb").path)
        #expect(header.status == 65 && header.stderr.contains("header signature does not verify"), "\(header.stderr)")
        #expect(try g("dee", "bundle", "import", tmp.sub("for-dee.glossb").path).status == 0)
    }
}
