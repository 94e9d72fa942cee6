import Foundation
import GlossExport
import GlossIngest
import GlossJSON
import GlossModel
import GlossProjections
import GlossStore

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

    func stixInput(only: String?, _ db: ReplicaStore.Transaction) throws -> STIXExport.Bundle {
        var input = STIXExport.Input()
        var authors: [String: UInt64] = [:]
        func saw(_ author: String, _ time: Int64) { authors[author] = min(authors[author] ?? .max, Replica.ms(time)) }
        var countryFirst: [String: UInt64] = [:]
        func country(_ name: String?, at time: UInt64) -> String? {
            guard let name, let code = Country.all.first(where: { $0.name == name })?.isoCode else { return nil }
            countryFirst[code] = min(countryFirst[code] ?? .max, time)
            return code
        }

        for a in try ExportRows.articles(only: only, db) {
            let created = Replica.ms(a.firstTime)
            saw(a.ingestedBy, a.firstTime)
            let countries = try ExportRows.countries(article: a.id, revision: a.currentRevision, db).compactMap { country($0, at: created) }
            let published = a.date.flatMap(Replica.midnightMilliseconds) ?? created
            input.articles.append(.init(id: a.id, revision: a.currentRevision, title: Replica.title(of: a.text), published: published,
                                        created: created, modified: Replica.ms(a.lastTime), createdBy: a.ingestedBy, countries: countries))
        }
        let articles = Set(input.articles.map(\.id))

        var sources = Set<String>()
        for f in try FactSummary.byID(article: only, db) where !f.retracted {
            let created = Replica.ms(f.recordTime)
            let graded = try ExportRows.lastGradeTime(f.id, db)
            var fields: [String: String] = ["subject": f.subject, "predicate": f.predicate, "object": f.object, "evidence": f.evidence.exact]
            if let w = f.when { fields["when"] = w }
            if let w = f.where { fields["where"] = w }
            if let s = f.sourceName { fields["source"] = s }
            let first = try FactReads.firstRecordTime(f.id, db) ?? f.recordTime
            saw(f.author, first)
            if let s = f.source { sources.insert(s) }
            input.facts.append(.init(id: f.id, article: f.article, summary: "\(f.subject) \(f.predicate) \(f.object)",
                                     fields: fields, countries: [country(f.where, at: Replica.ms(first))].compactMap { $0 },
                                     credibility: f.credibility.flatMap { Int($0) }, reliability: f.reliability,
                                     author: f.author, created: Replica.ms(first), modified: max(created, graded.map(Replica.ms) ?? 0)))
        }
        let facts = Set(input.facts.map(\.id))

        for s in try SourceSummary.byID(db) where only == nil || sources.contains(s.id) {
            let graded = try ExportRows.lastGradeTime(s.id, db)
            saw(s.author, s.time)
            input.sources.append(.init(id: s.id, name: s.name, reliability: s.reliability, created: Replica.ms(s.time),
                                       modified: max(Replica.ms(s.time), graded.map(Replica.ms) ?? 0), createdBy: s.author))
        }

        // Notes on exported articles and facts (and on those notes).
        var exported = articles.union(facts)
        for n in try ExportRows.liveNotes(db) {
            guard exported.contains(n.on) else { continue }
            saw(n.author, n.createdTime)
            input.notes.append(.init(id: n.id, on: [n.on], body: n.body, author: n.author,
                                     created: Replica.ms(n.createdTime), modified: Replica.ms(n.bodyTime)))
            exported.insert(n.id)
        }

        for l in try ExportRows.links(db) {
            let (from, to, relation) = (l.from, l.to, l.relation)
            guard exported.contains(from) || exported.contains(to) else { continue }
            saw(l.author, l.time)
            let t = Replica.ms(l.time)
            if relation == "corroborates" || relation == "contradicts", facts.contains(from), facts.contains(to) {
                input.stances.append(.init(id: l.addition, kind: relation == "corroborates" ? .corroborate : .contradict, fact: to, by: from,
                                           author: l.author, created: t, modified: t))
            } else {
                input.links.append(.init(id: l.addition, from: from, to: to, type: relation, author: l.author, created: t, modified: t))
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
            for a in try ExportRows.annotations(only: only, db) {
                let (revision, s) = a.anchor ?? (a.revision, a.selector)
                let quote = WebAnnotationExport.Quote(exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end)
                let created = Replica.ms(a.time)
                out.append(.init(id: a.id, revision: revision, quote: quote, comment: a.comment, tags: a.tags,
                                 author: a.author, authorName: a.author, created: created,
                                 modified: max(created, a.lastTagTime.map(Replica.ms) ?? 0, a.decisionTime.map(Replica.ms) ?? 0)))
            }
            return (WebAnnotationExport.collection(out), out.count)
        }
    }

    /// Writes a STIX bundle or the annotations to `path` (a temporary file renamed into place).
    public func export(_ format: String, to path: String, article: String?) throws -> ExportSummary {
        try Replica.refuseOutput(URL(fileURLWithPath: path))
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

    /// `YYYY-MM-DD` (four-digit year, a real day) → milliseconds at 00:00 UTC; nil for anything else.
    /// An article's `date` is the author's text, not checked on receipt: it can hold any digits.
    static func midnightMilliseconds(_ date: String) -> UInt64? {
        guard date.utf8.count == 10, Dateline.isCalendarDate(date) else { return nil }
        let p = date.split(separator: "-").compactMap { Int($0) }
        let days = CivilTime.days(year: Int64(p[0]), month: p[1], day: p[2])
        return days >= 0 ? UInt64(days) * 86_400_000 : nil
    }
}
