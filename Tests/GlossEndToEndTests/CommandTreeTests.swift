import Foundation
import GlossTestSupport
import Testing

/// The command tree is an interface people script against: every command's full name, as
/// ArgumentParser's `--experimental-dump-help` reports it. Names are spelled out in each
/// `CommandConfiguration` (an unnamed command's name is derived by reflection at every start of
/// every `gloss` process, which was half the CPU of a short command), so a rename shows here.
@Suite struct CommandTreeTests {
    static let names = [
        "gloss",
        "gloss init",
        "gloss whoami",
        "gloss team",
        "gloss team list",
        "gloss team add",
        "gloss team enrol",
        "gloss team role",
        "gloss team revoke",
        "gloss team remove",
        "gloss redact",
        "gloss ingest",
        "gloss note",
        "gloss note add",
        "gloss note edit",
        "gloss note delete",
        "gloss status",
        "gloss log",
        "gloss show",
        "gloss verify",
        "gloss rebuild",
        "gloss digest",
        "gloss as-of",
        "gloss diff",
        "gloss query",
        "gloss search",
        "gloss vector",
        "gloss bundle",
        "gloss bundle export",
        "gloss bundle import",
        "gloss peers",
        "gloss peers list",
        "gloss peers name",
        "gloss quarantine",
        "gloss pending",
        "gloss pending list",
        "gloss pending drop",
        "gloss serve",
        "gloss hub",
        "gloss hub init",
        "gloss hub prune",
        "gloss sync",
        "gloss conflicts",
        "gloss conflict",
        "gloss conflict show",
        "gloss resolve",
        "gloss candidates",
        "gloss extract",
        "gloss tag",
        "gloss untag",
        "gloss link",
        "gloss unlink",
        "gloss fact",
        "gloss fact add",
        "gloss fact amend",
        "gloss fact retract",
        "gloss fact corroborate",
        "gloss fact contradict",
        "gloss fact show",
        "gloss facts",
        "gloss annotate",
        "gloss annotations",
        "gloss source",
        "gloss source add",
        "gloss source list",
        "gloss source show",
        "gloss grade",
        "gloss grade source",
        "gloss grade fact",
        "gloss anchors",
        "gloss anchor",
        "gloss anchor confirm",
        "gloss anchor retarget",
        "gloss export",
        "gloss export stix",
        "gloss export annotations",
        "gloss bench",
        "gloss bench generate",
        "gloss bench run",
        "gloss bench op",
        "gloss bench codec",
        "gloss bench local",
        "gloss bench hub",
        "gloss help"

    ]

    /// `gloss bench` is its own executable (`gloss-bench`, named `gloss bench` in its help): its
    /// commands are read from it.
    @Test func everyCommandKeepsItsName() throws {
        func dump(_ executable: URL) throws -> [String: Any] {
            let r = try GlossProcess.run(["--experimental-dump-help"], cwd: FileManager.default.temporaryDirectory, executable: executable)
            #expect(r.status == 0, "\(r.stderr)")
            let root = try #require(try r.json() as? [String: Any])
            return try #require(root["command"] as? [String: Any])
        }
        let bench = try dump(GlossProcess.benchBinary)
        var found: [String] = []
        func walk(_ c: [String: Any], _ prefix: [String]) {
            let path = prefix + [c["commandName"] as? String ?? "?"]
            if path == ["gloss", "bench"] {
                #expect(c["subcommands"] == nil, "gloss's own `bench` entry only forwards")
                walk(bench, [])
                found.removeAll { $0 == "gloss bench help" }  // ArgumentParser's own, as `gloss help`
                return
            }
            found.append(path.joined(separator: " "))
            for s in c["subcommands"] as? [[String: Any]] ?? [] { walk(s, path) }
        }
        walk(try dump(GlossProcess.binary), [])
        #expect(found == Self.names, "added: \(Set(found).subtracting(Self.names).sorted()); gone: \(Set(Self.names).subtracting(found).sorted())")
    }
}
