import GlossModel

/// STIX 2.1 export (Protocol/10-export.md §2): a bundle with a report per article, identities for
/// analysts and sources, locations for countries, notes for notes and facts, opinions for
/// corroborations and contradictions, relationships for links.
///
/// Pure and deterministic: ids are UUIDv5 of the Gloss ids, times come from the objects' events, the
/// objects are sorted and the JSON is written with sorted keys — exporting the same input twice gives
/// the same bytes, and an object's `(id, modified)` changes only when its history does.
///
/// ```swift
/// var input = STIXExport.Input()
/// input.analysts = [.init(id: "ana", name: "Ana", created: t0)]
/// input.articles = [.init(id: articleID, revision: sha, title: "…", published: t0, created: t0, modified: t0, createdBy: "ana")]
/// let bundle = STIXExport.bundle(input)
/// try bundle.json.pretty.write(to: url, atomically: true, encoding: .utf8)
/// ```
public enum STIXExport {
    /// Times are milliseconds since the Unix epoch (the wall part of the events' hybrid times).
    public typealias Milliseconds = UInt64

    public struct Analyst: Sendable {
        public var id: String
        public var name: String
        /// When the analyst first appears (their first event).
        public var created: Milliseconds
        public init(id: String, name: String, created: Milliseconds) {
            self.id = id; self.name = name; self.created = created
        }
    }

    /// A news source (publisher), graded for reliability (Admiralty A–F).
    public struct Source: Sendable {
        public var id: String
        public var name: String
        /// `A`…`F`, the latest grade, if any.
        public var reliability: String?
        public var created: Milliseconds
        public var modified: Milliseconds
        public var createdBy: String?
        public init(id: String, name: String, reliability: String? = nil, created: Milliseconds, modified: Milliseconds, createdBy: String? = nil) {
            self.id = id; self.name = name; self.reliability = reliability
            self.created = created; self.modified = modified; self.createdBy = createdBy
        }
    }

    public struct Country: Sendable {
        /// ISO 3166-1 alpha-2, upper case (`AZ`).
        public var code: String
        public var name: String
        /// When Gloss first recorded it (e.g. the first accepted fact naming it).
        public var created: Milliseconds
        public init(code: String, name: String, created: Milliseconds) {
            self.code = code; self.name = name; self.created = created
        }
    }

    public struct Article: Sendable {
        /// The Gloss article id (hex).
        public var id: String
        /// SHA-256 (hex) of the newest revision's text.
        public var revision: String
        public var title: String
        /// The article's own date (dateline), or its ingest time.
        public var published: Milliseconds
        public var created: Milliseconds
        /// The latest revision's time (or later: pass the time of a retraction that removed something
        /// from the report). The report's `modified` is this or the latest `modified` of what it references.
        public var modified: Milliseconds
        public var createdBy: String
        /// A `Source.id`.
        public var source: String?
        /// Country codes the article is about.
        public var countries: [String]
        public init(id: String, revision: String, title: String, published: Milliseconds, created: Milliseconds,
                    modified: Milliseconds, createdBy: String, source: String? = nil, countries: [String] = []) {
            self.id = id; self.revision = revision; self.title = title; self.published = published
            self.created = created; self.modified = modified; self.createdBy = createdBy
            self.source = source; self.countries = countries
        }
    }

    public struct Note: Sendable {
        public var id: String
        /// Gloss ids of what the note is on (articles, facts, notes, …).
        public var on: [String]
        /// Markdown.
        public var body: String
        public var author: String
        public var created: Milliseconds
        public var modified: Milliseconds
        public init(id: String, on: [String], body: String, author: String, created: Milliseconds, modified: Milliseconds) {
            self.id = id; self.on = on; self.body = body; self.author = author; self.created = created; self.modified = modified
        }
    }

    /// A who/what/when/where claim about an article.
    public struct Fact: Sendable {
        public var id: String
        public var article: String
        /// One line: what the fact says.
        public var summary: String
        /// Field name → value (`who`, `what`, `when`, `where`, …), written into the note's content.
        public var fields: [String: String]
        public var countries: [String]
        /// Admiralty information credibility 1…6, the latest grade, if any.
        public var credibility: Int?
        /// Admiralty source reliability A…F as graded for this fact's source, if any.
        public var reliability: String?
        public var author: String
        public var created: Milliseconds
        public var modified: Milliseconds
        public init(id: String, article: String, summary: String, fields: [String: String] = [:], countries: [String] = [],
                    credibility: Int? = nil, reliability: String? = nil, author: String, created: Milliseconds, modified: Milliseconds) {
            self.id = id; self.article = article; self.summary = summary; self.fields = fields; self.countries = countries
            self.credibility = credibility; self.reliability = reliability; self.author = author
            self.created = created; self.modified = modified
        }
    }

    /// A corroboration or contradiction of a fact (by another fact, or by the analyst's judgement).
    public struct Stance: Sendable {
        public enum Kind: String, Sendable { case corroborate, contradict }
        public var id: String
        public var kind: Kind
        /// The fact corroborated or contradicted.
        public var fact: String
        /// The fact that corroborates or contradicts it, if any.
        public var by: String?
        /// `strongly-agree` / `strongly-disagree` instead of `agree` / `disagree`.
        public var strong: Bool
        public var comment: String?
        public var author: String
        public var created: Milliseconds
        public var modified: Milliseconds
        public init(id: String, kind: Kind, fact: String, by: String? = nil, strong: Bool = false, comment: String? = nil,
                    author: String, created: Milliseconds, modified: Milliseconds) {
            self.id = id; self.kind = kind; self.fact = fact; self.by = by; self.strong = strong; self.comment = comment
            self.author = author; self.created = created; self.modified = modified
        }
    }

    public struct Link: Sendable {
        public var id: String
        public var from: String
        public var to: String
        /// The link type as written (`supports`, `same event`); exported lower-case and hyphenated.
        public var type: String
        public var author: String
        public var created: Milliseconds
        public var modified: Milliseconds
        public init(id: String, from: String, to: String, type: String, author: String, created: Milliseconds, modified: Milliseconds) {
            self.id = id; self.from = from; self.to = to; self.type = type; self.author = author
            self.created = created; self.modified = modified
        }
    }

    public struct Input: Sendable {
        public var analysts: [Analyst] = []
        public var sources: [Source] = []
        public var countries: [Country] = []
        public var articles: [Article] = []
        public var notes: [Note] = []
        public var facts: [Fact] = []
        public var stances: [Stance] = []
        public var links: [Link] = []
        public init() {}
    }

    public struct Bundle: Sendable {
        /// The bundle object.
        public var json: ExportJSON
        /// STIX type → number of objects.
        public var counts: [String: Int]
        /// Gloss id → STIX id of every exported object.
        public var ids: [String: String]
        /// What was left out and why (a note or link whose objects are not exported).
        public var skipped: [String]
    }

    // MARK: - Ids and values

    /// `type--UUIDv5(Gloss namespace, "type:name")`.
    public static func id(_ type: String, _ name: String) -> String { "\(type)--\(UUIDv5.gloss("\(type):\(name)"))" }

    public static func analystID(_ analyst: String) -> String { id("identity", "analyst:\(analyst)") }
    public static func sourceID(_ source: String) -> String { id("identity", "source:\(source)") }
    public static func countryID(_ code: String) -> String { id("location", "country:\(code.uppercased())") }
    public static func reportID(_ article: String) -> String { id("report", "article:\(article)") }
    public static func noteID(_ note: String) -> String { id("note", "note:\(note)") }
    public static func factID(_ fact: String) -> String { id("note", "fact:\(fact)") }
    public static func opinionID(_ stance: String) -> String { id("opinion", "stance:\(stance)") }
    public static func relationshipID(_ link: String) -> String { id("relationship", "link:\(link)") }

    /// Admiralty information credibility → STIX confidence (STIX 2.1 Appendix A, "Admiralty
    /// Credibility"): 1 → 90, 2 → 70, 3 → 50, 4 → 30, 5 → 10; 6 ("truth cannot be judged") and
    /// anything else → no confidence.
    public static func confidence(credibility: Int?) -> Int? {
        switch credibility {
        case 1: 90
        case 2: 70
        case 3: 50
        case 4: 30
        case 5: 10
        default: nil
        }
    }

    /// `Same Event!` → `same-event`: lower case, every run of other than a–z 0–9 one hyphen, none at
    /// either end; `related-to` when nothing is left.
    public static func relationshipType(_ s: String) -> String {
        var out = "", pending = false
        for u in s.lowercased().unicodeScalars {
            if ("a"..."z").contains(u) || ("0"..."9").contains(u) {
                if pending && !out.isEmpty { out += "-" }
                pending = false
                out.unicodeScalars.append(u)
            } else {
                pending = true
            }
        }
        return out.isEmpty ? "related-to" : out
    }

    /// Order of types in the bundle; within a type, by id.
    static let typeOrder = ["identity", "location", "report", "note", "opinion", "relationship"]

    // MARK: - The bundle

    public static func bundle(_ input: Input) -> Bundle {
        var objects: [String: [String: ExportJSON]] = [:]   // STIX id → object
        var ids: [String: String] = [:]                     // Gloss id → STIX id
        var skipped: [String] = []
        let analysts = Dictionary(input.analysts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func t(_ ms: Milliseconds) -> ExportJSON { .string(exportTimestamp(ms)) }
        var modifiedAt: [String: Milliseconds] = [:]        // STIX id → modified
        func base(_ type: String, _ id: String, _ created: Milliseconds, _ modified: Milliseconds, by: String?) -> [String: ExportJSON] {
            modifiedAt[id] = max(created, modified)
            var o: [String: ExportJSON] = ["type": .string(type), "spec_version": .string("2.1"), "id": .string(id),
                                           "created": t(created), "modified": t(max(created, modified))]
            if let by, analysts[by] != nil { o["created_by_ref"] = .string(analystID(by)) }
            return o
        }
        func authors(_ a: String) -> ExportJSON { .array([.string(analysts[a]?.name ?? a)]) }
        func refs(_ r: [String]) -> ExportJSON { .array(Array(Set(r)).sorted().map { .string($0) }) }

        for a in input.analysts {
            var o = base("identity", analystID(a.id), a.created, a.created, by: nil)
            o["name"] = .string(a.name)
            o["identity_class"] = .string("individual")
            objects[analystID(a.id)] = o
        }
        for s in input.sources {
            var o = base("identity", sourceID(s.id), s.created, s.modified, by: s.createdBy)
            o["name"] = .string(s.name)
            o["identity_class"] = .string("organization")
            if let r = s.reliability { o["labels"] = .array([.string("admiralty-reliability-\(r.lowercased())")]) }
            objects[sourceID(s.id)] = o
            ids[s.id] = sourceID(s.id)
        }
        for c in input.countries {
            var o = base("location", countryID(c.code), c.created, c.created, by: nil)
            o["name"] = .string(c.name)
            o["country"] = .string(c.code.uppercased())
            objects[countryID(c.code)] = o
        }
        let countryCodes = Set(input.countries.map { $0.code.uppercased() })
        func locations(_ codes: [String]) -> [String] { codes.map { $0.uppercased() }.filter(countryCodes.contains).map(countryID) }
        for a in input.articles { ids[a.id] = reportID(a.id) }
        for f in input.facts where ids[f.article] != nil { ids[f.id] = factID(f.id) }
        for n in input.notes { ids[n.id] = noteID(n.id) }
        for s in input.stances { ids[s.id] = opinionID(s.id) }
        for l in input.links { ids[l.id] = relationshipID(l.id) }

        var reportRefs: [String: [String]] = [:]   // article id → refs
        for f in input.facts {
            guard let report = ids[f.article] else { skipped.append("fact \(f.id): article \(f.article) not exported"); continue }
            var o = base("note", factID(f.id), f.created, f.modified, by: f.author)
            o["abstract"] = .string(f.summary)
            var content = f.summary
            for k in f.fields.keys.sorted() { content += "\n\(k): \(f.fields[k]!)" }
            o["content"] = .string(content)
            o["authors"] = authors(f.author)
            o["object_refs"] = refs([report] + locations(f.countries))
            var labels = ["gloss-fact"]
            if let c = f.credibility { labels.append("admiralty-credibility-\(c)") }
            if let r = f.reliability { labels.append("admiralty-reliability-\(r.lowercased())") }
            o["labels"] = .array(labels.map { .string($0) })
            if let c = confidence(credibility: f.credibility) { o["confidence"] = .int(Int64(c)) }
            objects[factID(f.id)] = o
            reportRefs[f.article, default: []] += [factID(f.id)] + locations(f.countries)
        }
        let factArticle = Dictionary(input.facts.map { ($0.id, $0.article) }, uniquingKeysWith: { a, _ in a })
        let noteOn = Dictionary(input.notes.map { ($0.id, $0.on) }, uniquingKeysWith: { a, _ in a })
        let articleIDs = Set(input.articles.map(\.id))
        // (Memoized by id and depth: each note is followed once per depth, not once per note and
        // link that leads to it — with a scan of every article at each step, that was quadratic.)
        struct Step: Hashable { var id: String; var depth: Int }
        var found: [Step: String?] = [:]
        /// The article a Gloss object belongs to, following notes to what they are on (8 notes deep at most).
        func article(of id: String, depth: Int = 0) -> String? {
            if articleIDs.contains(id) { return id }
            if let a = factArticle[id] { return a }
            if let known = found[Step(id: id, depth: depth)] { return known }
            var result: String?
            if depth < 8, let on = noteOn[id] { result = on.lazy.compactMap { article(of: $0, depth: depth + 1) }.first }
            found[Step(id: id, depth: depth)] = result
            return result
        }
        for n in input.notes {
            let targets = n.on.compactMap { ids[$0] }
            guard !targets.isEmpty else { skipped.append("note \(n.id): nothing it is on is exported"); ids[n.id] = nil; continue }
            var o = base("note", noteID(n.id), n.created, n.modified, by: n.author)
            o["content"] = .string(n.body)
            o["authors"] = authors(n.author)
            o["object_refs"] = refs(targets)
            objects[noteID(n.id)] = o
            if let a = article(of: n.id) { reportRefs[a, default: []].append(noteID(n.id)) }
        }
        for s in input.stances {
            guard let target = ids[s.fact], factArticle[s.fact] != nil else {
                skipped.append("stance \(s.id): fact \(s.fact) not exported"); ids[s.id] = nil; continue
            }
            var o = base("opinion", opinionID(s.id), s.created, s.modified, by: s.author)
            let value = s.kind == .corroborate ? "agree" : "disagree"
            o["opinion"] = .string(s.strong ? "strongly-\(value)" : value)
            var r = [target]
            if let by = s.by, let b = ids[by] { r.append(b) }
            o["object_refs"] = refs(r)
            o["authors"] = authors(s.author)
            var explanation = s.kind == .corroborate ? "Corroborates" : "Contradicts"
            explanation += s.by.map { " (by fact \($0))" } ?? ""
            if let c = s.comment, !c.isEmpty { explanation += ": " + c }
            o["explanation"] = .string(explanation)
            objects[opinionID(s.id)] = o
            if let a = factArticle[s.fact] { reportRefs[a, default: []].append(opinionID(s.id)) }
        }
        for l in input.links {
            guard let from = ids[l.from], let to = ids[l.to] else {
                skipped.append("link \(l.id): \(ids[l.from] == nil ? l.from : l.to) not exported"); ids[l.id] = nil; continue
            }
            var o = base("relationship", relationshipID(l.id), l.created, l.modified, by: l.author)
            o["relationship_type"] = .string(relationshipType(l.type))
            o["source_ref"] = .string(from)
            o["target_ref"] = .string(to)
            objects[relationshipID(l.id)] = o
            for a in Set([article(of: l.from), article(of: l.to)].compactMap { $0 }) {
                reportRefs[a, default: []].append(relationshipID(l.id))
            }
        }
        for a in input.articles {
            var r = reportRefs[a.id] ?? []
            r += locations(a.countries)
            if let s = a.source, let sid = ids[s] { r.append(sid) }
            if r.isEmpty, analysts[a.createdBy] != nil { r.append(analystID(a.createdBy)) }
            guard !r.isEmpty else { skipped.append("article \(a.id): nothing to report (no analyst identity)"); continue }
            // A report changes when anything it references does: its `modified` is the latest of them.
            let modified = r.reduce(a.modified) { max($0, modifiedAt[$1] ?? 0) }
            var o = base("report", reportID(a.id), a.created, modified, by: a.createdBy)
            o["object_refs"] = refs(r)
            o["name"] = .string(a.title)
            o["published"] = t(a.published)
            o["external_references"] = .array([.object([
                "source_name": .string("gloss"),
                "external_id": .string("urn:gloss:revision:\(a.revision)"),
                "hashes": .object(["SHA-256": .string(a.revision)]),
            ])])
            objects[reportID(a.id)] = o
        }

        let ordered = objects.keys.sorted { x, y in
            let tx = typeOrder.firstIndex(of: String(x.prefix { $0 != "-" })) ?? typeOrder.count
            let ty = typeOrder.firstIndex(of: String(y.prefix { $0 != "-" })) ?? typeOrder.count
            return tx != ty ? tx < ty : x < y
        }
        var counts: [String: Int] = [:]
        for k in ordered { counts[String(k.prefix { $0 != "-" }), default: 0] += 1 }
        let name = ordered.map { k -> String in
            guard case .string(let m)? = objects[k]?["modified"] else { return k }
            return "\(k) \(m)"
        }.joined(separator: "\n")
        let bundle = ExportJSON.object([
            "type": .string("bundle"),
            "id": .string(id("bundle", name)),
            "objects": .array(ordered.map { .object(objects[$0]!) }),
        ])
        return Bundle(json: bundle, counts: counts, ids: ids.filter { objects[$0.value] != nil }, skipped: skipped)
    }
}
