import Foundation
import GlossTestSupport
import Testing

/// The JSON forms of the read commands, key order and nesting included (README §Commands: the
/// order is part of the contract, and `JSONSerialization` forgets it). Whole rows (`gloss show`,
/// histories) keep the columns of their tables.
@Suite struct ReadFormsCLITests {
    /// The keys of every object in `text`, in the order the objects close (inner objects first),
    /// each distinct list once.
    static func keyLists(_ text: String) -> [[String]] {
        var out: [[String]] = [], stack: [[String]?] = []
        let s = Array(text.unicodeScalars)
        var i = 0
        while i < s.count {
            switch s[i] {
            case "{": stack.append([])
            case "[": stack.append(nil)
            case "}":
                if let keys = stack.popLast() ?? nil, !out.contains(keys) { out.append(keys) }
            case "]": _ = stack.popLast()
            case "\"":
                var str = "", j = i + 1
                while j < s.count, s[j] != "\"" {
                    if s[j] == "\\" { j += 1 }
                    str.unicodeScalars.append(s[j]); j += 1
                }
                i = j
                var k = j + 1
                while k < s.count, s[k] == " " || s[k] == "\n" { k += 1 }
                if k < s.count, s[k] == ":", let top = stack.last, top != nil { stack[stack.count - 1]!.append(str) }
            default: break
            }
            i += 1
        }
        return out
    }

    static let selector = ["exact", "prefix", "suffix", "start", "end"]
    static let fact = ["id", "article", "revision", "subject", "predicate", "object", "when", "where", "source", "sourceName", "reliability",
                       "credibility", "grade", "state", "recordState", "retractReason", "evidence", "fromCandidate", "corroboratedBy",
                       "contradictedBy", "author", "createdAt", "updatedAt"]
    static let factHistory = ["event", "kind", "field", "record", "reason", "author", "at"]
    static let gradeHistory = ["event", "grade", "reason", "kind", "author", "at"]
    static let tag = ["tag", "author", "at", "addition"]
    static let link = ["addition", "from_id", "relation", "to_id", "author", "at"]
    static let sourceRow = ["source", "name", "kind", "event", "author", "created_at", "time", "replica", "reliability", "reliability_state"]
    static let event = ["id", "replica", "seq", "prev", "deps", "depsDelta", "time", "hlc", "author", "type", "schema", "payloadHash", "payload",
                        "understood", "reason", "summary"]

    @Test func everyReadCommandKeepsItsKeysAndTheirOrder() throws {
        let tmp = TempDir("gloss-read-forms")
        defer { tmp.remove() }
        func g(_ args: String...) throws -> GlossProcess.Result {
            let r = try GlossProcess.run(args, cwd: tmp.url)
            #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.stderr)")
            return r
        }
        func id(_ r: GlossProcess.Result) -> String { r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        func keys(_ args: String...) throws -> [[String]] { Self.keyLists(try GlossProcess.run(args, cwd: tmp.url).stdout) }
        _ = try g("init", "--analyst", "ana")
        let v1 = tmp.sub("v1.txt"), v2 = tmp.sub("v2.txt")
        try Data(sampleArticleBytes()).write(to: v1)
        let text = String(decoding: sampleArticleBytes(), as: UTF8.self)
        try Data(text.replacingOccurrences(of: "inspecting the landfills", with: "inspecting the training grounds").utf8).write(to: v2)
        let art = id(try g("ingest", v1.path))
        _ = try g("source", "add", "Dawn", "--kind", "outlet")
        _ = try g("grade", "source", "Dawn", "--reliability", "B", "--reason", "long record")
        let f1 = id(try g("fact", "add", "--article", art, "--subject", "Pakistan", "--predicate", "hosts", "--object", "exercise",
                          "--evidence", "Pakistan", "--occurrence", "2", "--source", "Dawn"))
        _ = try g("grade", "fact", f1, "--credibility", "2", "--reason", "seen")
        let statement = try #require((try g("candidates", art, "--json").json() as? [[String: Any]])?
            .first { $0["kind"] as? String == "statement" }?["id"] as? String)
        let f2 = id(try g("fact", "add", "--from-candidate", statement, "--source", "Dawn"))
        _ = try g("fact", "corroborate", f1, "--by", f2)
        let ann = id(try g("annotate", art, "--quote", "landfills", "--comment", "waste sites", "--tag", "site"))
        let note = id(try g("note", "add", "--on", art, "--text", "hello"))
        _ = try g("note", "edit", note, "--text", "hello again")
        _ = try g("note", "add", "--on", note, "--text", "reply")
        _ = try g("tag", art, "topic")
        _ = try g("link", f1, "about", art)
        _ = try g("ingest", "--revises", art, v2.path)
        _ = try g("fact", "retract", f2, "--reason", "wrong")
        let revision = try #require((try g("query", "SELECT sha256 FROM article_revisions ORDER BY time DESC LIMIT 1", "--json").json() as? [[String: Any]])?.first?["sha256"] as? String)
        let source = try #require((try g("source", "list", "--json").json() as? [[String: Any]])?.first?["id"] as? String)

        #expect(try keys("show", art) == [
            ["article", "first_event", "ingested_by", "ingested_at", "first_time", "first_replica", "date", "dateline", "places", "current_revision", "revisions"],
            ["sha256", "event", "author", "at", "filename", "bytes"], ["note", "author", "created_at", "updated_at", "deleted", "body"],
            Self.tag, Self.link, ["kind", "id", "article", "revisions", "notes", "tags", "links"]])
        #expect(try keys("show", revision) == [
            ["sha256", "article", "event", "author", "time", "replica", "at", "filename", "date", "dateline", "places", "text", "kind", "previous"],
            ["kind", "id", "revision", "tags", "links"]])
        #expect(try keys("show", note) == [
            ["note", "on_id", "author", "created_at", "body", "body_event", "body_time", "body_replica", "updated_at", "deleted", "body_state"],
            ["event", "kind", "author", "at", "body"], ["note", "author", "created_at", "deleted", "body"], ["kind", "id", "note", "history", "notes", "tags", "links"]])
        let factDetail = [Self.selector, Self.factHistory, Self.gradeHistory, Self.fact + ["history", "credibilityHistory", "reliabilityHistory"]]
        #expect(try keys("show", f1) == factDetail + [Self.link, ["kind", "id", "fact", "tags", "links"]])
        #expect(try keys("fact", "show", f1, "--json") == factDetail)
        #expect(try keys("show", source) == [Self.sourceRow, Self.gradeHistory, ["source", "reliabilityHistory"], ["kind", "id", "source", "tags", "links"]])
        #expect(try keys("source", "show", "Dawn") == [Self.sourceRow, Self.gradeHistory, ["source", "reliabilityHistory"]])
        #expect(try keys("source", "show", "Dawn", "--json") == [Self.sourceRow, Self.gradeHistory, ["source", "reliabilityHistory"]], "--json is accepted")
        #expect(try keys("show", ann) == [
            ["annotation", "article", "revision", "author", "created_at", "time", "replica", "exact", "prefix", "suffix", "sel_start", "sel_end", "comment"],
            Self.tag, ["kind", "id", "annotation", "tags", "links"]])
        let ingestEvent = try #require(try g("log", "--json", "--limit", "1").object["id"] as? String)
        #expect(try keys("show", ingestEvent).suffix(2) == [Self.event, ["kind", "event"]])
        #expect(try keys("source", "list", "--json") == [["id", "name", "kind", "reliability", "reliabilityState", "facts", "author", "createdAt"]])
        #expect(try keys("facts", "--json") == [Self.selector, Self.fact])
        #expect(try keys("annotations", "--json") == [Self.selector, ["id", "article", "revision", "selector", "comment", "tags", "author", "createdAt"]])
        #expect(try keys("anchors", art, "--json") == [["revision", "start", "end", "exact"], ["start", "end", "exact"],
                                                       ["id", "kind", "status", "score", "revision", "old", "new", "candidate", "decision", "anchoringVersion"]])
        let candidates = try keys("candidates", art, "--json")
        #expect(candidates.first == Self.selector)
        // Every documented key on every candidate, null where its kind has none (found by an audit,
        // 2026-12-06: keys were left out, and a script reading `speaker` failed on a date).
        #expect(Set(candidates.dropFirst()) == [["id", "kind", "value", "precision", "rule", "selector", "speaker", "role", "saidOn", "affiliation", "rulesVersion"]])
        for line in try g("log", "--json").lines { #expect(Self.keyLists(line).last == Self.event) }
        #expect(try keys("query", "SELECT 1 AS b, 2 AS a", "--json") == [["b", "a"]])
    }
}
