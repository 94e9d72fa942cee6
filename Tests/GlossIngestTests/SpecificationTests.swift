import Foundation
import Testing
@testable import GlossIngest

/// Protocol/06-extraction.md is normative: its lexicons, country tables, rule names and golden vectors
/// must be exactly what the code uses and produces.
@Suite struct SpecificationTests {
    struct Block { var info: String; var lines: [String] }

    let document: String
    let blocks: [Block]

    init() throws {
        document = try String(contentsOf: repositoryRoot.appendingPathComponent("Protocol/06-extraction.md"), encoding: .utf8)
        var blocks: [Block] = []
        var current: Block?
        for line in document.components(separatedBy: "\n") {
            if line.hasPrefix("```") {
                if let b = current { blocks.append(b); current = nil } else { current = Block(info: String(line.dropFirst(3)), lines: []) }
            } else {
                current?.lines.append(line)
            }
        }
        self.blocks = blocks
    }

    func block(_ info: String) -> Block? { blocks.first { $0.info == info } }
    static func words(_ s: String) -> [String] { s.split(whereSeparator: \.isWhitespace).map(String.init) }

    @Test func versionIsStated() {
        #expect(document.contains("**Rules version \(Extraction.rulesVersion).**"))
    }

    @Test func lexiconsAreThoseOfTheCode() throws {
        for (name, text) in Lexicon.published {
            let b = try #require(block("lexicon \(name)"), "no `lexicon \(name)` block")
            #expect(Self.words(b.lines.joined(separator: " ")) == Self.words(text), "lexicon \(name)")
        }
        let documented = Set(blocks.filter { $0.info.hasPrefix("lexicon ") }.map { String($0.info.dropFirst(8)) })
        #expect(documented == Set(Lexicon.published.map(\.name)))
    }

    @Test func countryTablesAreThoseOfTheCode() throws {
        let trimmed = { (s: String) in s.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(try #require(block("countries")).lines == trimmed(Country.table))
        #expect(try #require(block("country-blocks")).lines == trimmed(Country.blockTable))
    }

    @Test func countryListCoversTheWorldWithUnambiguousForms() {
        let all = Country.all
        #expect(all.count == 198)   // 193 UN members + Taiwan, Kosovo, Palestine, Vatican City, Western Sahara
        #expect(Set(all.map(\.name)).count == all.count)
        var owner: [String: String] = [:]
        for c in all {
            for form in [c.name] + c.aliases + c.demonyms {
                #expect(owner[form] == nil, "\(form) belongs to \(owner[form] ?? "") and \(c.name)")
                owner[form] = c.name
                #expect(form == form.precomposedStringWithCanonicalMapping)
                #expect(form.first?.isUppercase == true, "\(form) must be capitalized: matching is case-sensitive")
            }
        }
        for name in ["Taiwan", "Kosovo", "Palestine", "Vatican City", "Turkey", "United States", "United Kingdom", "Azerbaijan", "Pakistan"] {
            #expect(owner[name] == name)
        }
        #expect(owner["Türkiye"] == "Turkey" && owner["Azeri"] == "Azerbaijan" && owner["U.S."] == "United States" && owner["British"] == "United Kingdom")
    }

    @Test func ruleNamesAreDocumented() throws {
        #expect(Self.words(try #require(block("rules")).lines.joined(separator: " ")) == Extraction.rules)
        for rule in Extraction.rules { #expect(document.contains("`\(rule)`"), "rule \(rule) is not described") }
    }

    @Test func goldenVectorsHold() throws {
        var checked = 0
        for (i, b) in blocks.enumerated() where b.info.hasPrefix("golden") {
            var attributes: [String: String] = [:]
            for part in b.info.split(separator: " ").dropFirst() {
                let kv = part.split(separator: "=", maxSplits: 1)
                attributes[String(kv[0])] = String(kv[1])
            }
            let text: String
            if let file = attributes["file"] {
                let bytes = try [UInt8](Data(contentsOf: repositoryRoot.appendingPathComponent(file)))
                text = try ArticleText.prepare(bytes: bytes, filename: nil).text
            } else {
                text = b.lines.joined(separator: "\n").precomposedStringWithCanonicalMapping
            }
            let expect = try #require(i + 1 < blocks.count && blocks[i + 1].info == "expect" ? blocks[i + 1] : nil, "golden block without expect")
            let actual = Extraction.extract(text: text, articleDate: attributes["reference"])
            let expected = try expect.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! NSDictionary }
            let produced = try actual.map { try JSONSerialization.jsonObject(with: Data(Self.goldenLine($0).utf8)) as! NSDictionary }
            #expect(produced == expected, "golden block \(attributes); the code now produces:\n\(actual.map(Self.goldenLine).joined(separator: "\n"))")
            #expect(actual.allSatisfy { Extraction.rules.contains($0.rule) })
            checked += 1
        }
        #expect(checked >= 6)
    }

    /// One candidate as a line of the `expect` blocks.
    static func goldenLine(_ c: Candidate) -> String {
        func q(_ s: String) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes]), as: UTF8.self)
        }
        var parts = ["\"start\": \(c.selector.start)", "\"end\": \(c.selector.end)", "\"kind\": \(q(c.kind))", "\"rule\": \(q(c.rule))", "\"exact\": \(q(c.selector.exact))"]
        if c.value != c.selector.exact { parts.append("\"value\": \(q(c.value))") }
        if let p = c.precision { parts.append("\"precision\": \(q(p))") }
        if let s = c.speaker { parts.append("\"speaker\": \(q(s))") }
        if let s = c.role { parts.append("\"role\": \(q(s))") }
        if let s = c.affiliation { parts.append("\"affiliation\": \(q(s))") }
        if let s = c.saidOn { parts.append("\"saidOn\": \(q(s))") }
        if let a = c.attribution { parts.append("\"attribution\": [\(a.start), \(a.end)]") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
