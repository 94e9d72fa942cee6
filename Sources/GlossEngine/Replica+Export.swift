import Foundation
import GRDB
import GlossExport
import GlossIngest
import GlossJSON
import GlossModel

/// What an export wrote (`gloss export stix|annotations`).
public struct ExportSummary: Sendable {
    public var out: String
    public var objects: Int
    /// STIX type (or `Annotation`) → count.
    public var counts: [String: Int]
    public var skipped: [String]

}

/// Exports to the formats other tools speak (Protocol/10-export.md): STIX 2.1 bundles and W3C Web
/// Annotation JSON-LD. Both read one snapshot of the projections; ids are deterministic and
/// `modified` follows each object's history, so exporting twice gives the same bytes.
extension Replica {
    /// Milliseconds of a stored hybrid time (its wall-clock part).
    static func ms(_ hlc: Int64) -> UInt64 { UInt64(bitPattern: hlc) >> 16 }

    /// The STIX 2.1 bundle of every article (or one), with its facts, notes, sources, analysts,
    /// countries, corroborations, contradictions and links.
    public func stixBundle(article text: String?) throws -> STIXExport.Bundle {
        let only = try text.map { try resolve($0, kinds: ["article"]).hex }
        return try read { db in try stixInput(only: only, db) }
    }

    func stixInput(only: String?, _ db: Database) throws -> STIXExport.Bundle {
        var input = STIXExport.Input()
        var authors: [String: UInt64] = [:]
        func saw(_ author: String, _ time: Int64) { authors[author] = min(authors[author] ?? .max, Replica.ms(time)) }
        let filter = only == nil ? "" : " WHERE article = ?"
        let args = StatementArguments(only.map { [$0] } ?? [])
        var countryFirst: [String: UInt64] = [:]
        func country(_ name: String?, at time: UInt64) -> String? {
            guard let name, let code = Country.all.first(where: { $0.name == name })?.isoCode else { return nil }
            countryFirst[code] = min(countryFirst[code] ?? .max, time)
            return code
        }

        for a in try Row.fetchAll(db, sql: """
            SELECT a.*, r.text, (SELECT max(time) FROM article_revisions WHERE article = a.article) AS last_time
            FROM articles a JOIN article_revisions r ON r.sha256 = a.current_revision\(only == nil ? "" : " WHERE a.article = ?") ORDER BY a.article
            """, arguments: args) {
            let created = Replica.ms(a["first_time"])
            saw(a["ingested_by"], a["first_time"])
            let article: String = a["article"]
            let countries = try String.fetchAll(db, sql: """
                SELECT DISTINCT value FROM candidates WHERE article = ? AND revision = ? AND kind = 'country' ORDER BY value
                """, arguments: [article, a["current_revision"] as String]).compactMap { country($0, at: created) }
            let published = (a["date"] as String?).flatMap(Replica.midnightMilliseconds) ?? created
            input.articles.append(.init(id: article, revision: a["current_revision"], title: Replica.title(of: a["text"]), published: published,
                                        created: created, modified: Replica.ms(a["last_time"]), createdBy: a["ingested_by"], countries: countries))
        }
        let articles = Set(input.articles.map(\.id))

        var sources = Set<String>()
        for f in try Row.fetchAll(db, sql: "SELECT * FROM fact_view\(filter) ORDER BY fact", arguments: args) where !(f["retracted"] as Bool) {
            let fact: String = f["fact"]
            let created = Replica.ms(f["record_time"] as Int64)
            let graded = try Int64.fetchOne(db, sql: "SELECT max(time) FROM grades WHERE object = ?", arguments: [fact])
            var fields: [String: String] = ["subject": f["subject"], "predicate": f["predicate"], "object": f["object"], "evidence": f["exact"]]
            if let w: String = f["when_text"] { fields["when"] = w }
            if let w: String = f["where_text"] { fields["where"] = w }
            if let s: String = f["source_name"] { fields["source"] = s }
            let first = try Int64.fetchOne(db, sql: "SELECT min(time) FROM fact_revisions WHERE fact = ?", arguments: [fact]) ?? f["record_time"]
            saw(f["author"], first)
            if let s: String = f["source"] { sources.insert(s) }
            input.facts.append(.init(id: fact, article: f["article"], summary: "\(f["subject"] as String) \(f["predicate"] as String) \(f["object"] as String)",
                                     fields: fields, countries: [country(f["where_text"], at: Replica.ms(first))].compactMap { $0 },
                                     credibility: (f["credibility"] as String?).flatMap { Int($0) }, reliability: f["source_reliability"],
                                     author: f["author"], created: Replica.ms(first), modified: max(created, graded.map(Replica.ms) ?? 0)))
        }
        let facts = Set(input.facts.map(\.id))

        for s in try Row.fetchAll(db, sql: "SELECT * FROM sources ORDER BY source") where only == nil || sources.contains(s["source"]) {
            let source: String = s["source"]
            let graded = try Int64.fetchOne(db, sql: "SELECT max(time) FROM grades WHERE object = ?", arguments: [source])
            saw(s["author"], s["time"])
            input.sources.append(.init(id: source, name: s["name"], reliability: s["reliability"], created: Replica.ms(s["time"]),
                                       modified: max(Replica.ms(s["time"]), graded.map(Replica.ms) ?? 0), createdBy: s["author"]))
        }

        // Notes on exported articles and facts (and on those notes).
        var exported = articles.union(facts)
        for n in try Row.fetchAll(db, sql: "SELECT n.*, ev.time AS created_time FROM live_notes n JOIN note_revisions ev ON ev.event = n.note ORDER BY n.created_at, n.note") {
            guard exported.contains(n["on_id"] as String) else { continue }
            saw(n["author"], n["created_time"])
            input.notes.append(.init(id: n["note"], on: [n["on_id"]], body: n["body"], author: n["author"],
                                     created: Replica.ms(n["created_time"]), modified: Replica.ms(n["body_time"])))
            exported.insert(n["note"])
        }

        for l in try Row.fetchAll(db, sql: "SELECT * FROM links ORDER BY addition") {
            let (from, to, relation): (String, String, String) = (l["from_id"], l["to_id"], l["relation"])
            guard exported.contains(from) || exported.contains(to) else { continue }
            saw(l["author"], l["time"])
            let t = Replica.ms(l["time"])
            if relation == "corroborates" || relation == "contradicts", facts.contains(from), facts.contains(to) {
                input.stances.append(.init(id: l["addition"], kind: relation == "corroborates" ? .corroborate : .contradict, fact: to, by: from,
                                           author: l["author"], created: t, modified: t))
            } else {
                input.links.append(.init(id: l["addition"], from: from, to: to, type: relation, author: l["author"], created: t, modified: t))
            }
        }
        input.countries = countryFirst.sorted { $0.key < $1.key }.map { code, t in
            .init(code: code, name: Country.all.first { $0.isoCode == code }?.name ?? code, created: t)
        }
        input.analysts = authors.sorted { $0.key < $1.key }.map { .init(id: $0.key, name: $0.key, created: $0.value) }
        return STIXExport.bundle(input)
    }

    /// Every annotation (or one article's) as W3C Web Annotations: the anchored span in the current
    /// revision when there is one, else the span on the revision it was made on.
    public func webAnnotations(article text: String?) throws -> (json: ExportJSON, count: Int) {
        let only = try text.map { try resolve($0, kinds: ["article"]).hex }
        return try read { db in
            var out: [WebAnnotationExport.Annotation] = []
            for a in try Row.fetchAll(db, sql: """
                SELECT a.*, an.revision AS anchor_revision, an.sel_start AS anchor_start, an.sel_end AS anchor_end, an.exact AS anchor_exact,
                       an.prefix AS anchor_prefix, an.suffix AS anchor_suffix, an.decision AS decision
                FROM annotations a LEFT JOIN anchors an ON an.object = a.annotation\(only == nil ? "" : " WHERE a.article = ?") ORDER BY a.annotation
                """, arguments: StatementArguments(only.map { [$0] } ?? [])) {
                let id: String = a["annotation"]
                let anchored = (a["anchor_start"] as Int?) != nil
                let quote = anchored
                    ? WebAnnotationExport.Quote(exact: a["anchor_exact"], prefix: a["anchor_prefix"], suffix: a["anchor_suffix"], start: a["anchor_start"], end: a["anchor_end"])
                    : WebAnnotationExport.Quote(exact: a["exact"], prefix: a["prefix"], suffix: a["suffix"], start: a["sel_start"], end: a["sel_end"])
                let tags = try String.fetchAll(db, sql: "SELECT DISTINCT tag FROM tags WHERE object = ? ORDER BY tag", arguments: [id])
                let lastTag = try Int64.fetchOne(db, sql: "SELECT max(time) FROM tags WHERE object = ?", arguments: [id])
                let decided = try (a["decision"] as String?).flatMap { try Int64.fetchOne(db, sql: "SELECT time FROM anchor_decisions WHERE event = ?", arguments: [$0]) }
                let created = Replica.ms(a["time"])
                out.append(.init(id: id, revision: anchored ? a["anchor_revision"] : a["revision"], quote: quote, comment: a["comment"], tags: tags,
                                 author: a["author"], authorName: a["author"], created: created,
                                 modified: max(created, lastTag.map(Replica.ms) ?? 0, decided.map(Replica.ms) ?? 0)))
            }
            return (WebAnnotationExport.collection(out), out.count)
        }
    }

    /// Writes a STIX bundle or the annotations to `path` (a temporary file renamed into place).
    public func export(_ format: String, to path: String, article: String?) throws -> ExportSummary {
        let summary: ExportSummary
        let text: String
        switch format {
        case "stix":
            let b = try stixBundle(article: article)
            text = b.json.pretty
            summary = ExportSummary(out: path, objects: b.counts.values.reduce(0, +), counts: b.counts, skipped: b.skipped)
        case "annotations":
            let (json, count) = try webAnnotations(article: article)
            text = json.pretty
            summary = ExportSummary(out: path, objects: count, counts: ["Annotation": count], skipped: [])
        default:
            throw GlossError(.badInput, "unknown export format \(format); use stix or annotations")
        }
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: tmp)
            try Replica.moveIntoPlace(tmp, url)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            let g = GlossError.wrap(error, output: path)
            if g.code == .diskFull || g.code == .ioError { throw g }
            throw GlossError(.badInput, "cannot write \(path); check that its folder exists and is writable", cause: error)
        }
        return summary
    }

    /// An article's title for other tools: its first line without the `date …` dateline prefix, up to 200 characters.
    static func title(of text: String) -> String {
        var line = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        for dash in [" – ", " — ", " - "] {
            if line.hasPrefix("date "), let r = line.range(of: dash) { line = String(line[r.upperBound...]); break }
        }
        line = line.trimmingCharacters(in: .whitespaces)
        if line.isEmpty { line = "Untitled article" }
        return line.count > 200 ? String(line.prefix(199)) + "…" : line
    }

    /// `YYYY-MM-DD` → milliseconds at 00:00 UTC.
    static func midnightMilliseconds(_ date: String) -> UInt64? {
        let p = date.split(separator: "-").compactMap { Int($0) }
        guard p.count == 3 else { return nil }
        let days = CivilTime.days(year: Int64(p[0]), month: p[1], day: p[2])
        return days >= 0 ? UInt64(days) * 86_400_000 : nil
    }
}
