import Foundation
import GlossIngest
import GlossModel
import GlossProjections
import GlossStore

public typealias FactSummary = GlossProjections.FactSummary
public typealias FactState = GlossModel.FactState
public typealias SourceSummary = GlossProjections.SourceSummary
public typealias AnnotationSummary = GlossProjections.AnnotationSummary

/// One fact with the history of its record and of both grades (`gloss fact show`). The histories
/// are whole rows: their keys follow the table columns.
public struct FactDetail: Sendable {
    public var fact: FactSummary
    /// `fact_revisions` rows: event, kind, field, record, reason, author, at; oldest first.
    public var history: [TableRow]
    /// `grades` rows of the fact's credibility: event, grade, reason, kind, author, at; oldest first.
    public var credibilityHistory: [TableRow]
    /// The same of its source's reliability (empty without a source).
    public var reliabilityHistory: [TableRow]
}

/// One source's whole row with its reliability history (`gloss source show`).
public struct SourceDetail: Sendable {
    public var source: TableRow
    public var reliabilityHistory: [TableRow]
}

/// What an analyst gives to record a fact (`gloss fact add`). Fields left nil come from the
/// candidate (`fromCandidate`) when one is named.
public struct FactInput: Sendable {
    public var article: String?
    public var subject: String?
    public var predicate: String?
    public var object: String?
    public var when: String?
    public var `where`: String?
    /// A source name or id (prefix).
    public var source: String?
    /// The exact quote from the article's current revision.
    public var evidence: String?
    public var quote = QuoteChoice()
    public var fromCandidate: String?

    public init() {}
}

/// How to pick one occurrence of a quote that occurs several times.
public struct QuoteChoice: Sendable {
    public var occurrence: Int?
    public var prefix: String?
    public var suffix: String?
    public init(occurrence: Int? = nil, prefix: String? = nil, suffix: String? = nil) {
        self.occurrence = occurrence; self.prefix = prefix; self.suffix = suffix
    }
}

extension Replica {
    // MARK: Facts

    /// Records a fact on an article's current revision with its quoted evidence.
    public func addFact(_ input: FactInput) throws -> Created {
        var record = FactRecord(subject: "", predicate: "", object: "")
        var selector: SpanSelector?
        var article: String?
        var revision: String?
        var candidateID: String?
        if let c = input.fromCandidate {
            let id = try resolve(c, kinds: ["candidate"]).hex
            let c = try read { db in try CandidateRecord.fetch(id, db) }!
            candidateID = id
            article = c.article; revision = c.revision
            selector = c.selector
            let value = c.value
            switch c.kind {
            case "statement":
                record.subject = c.speaker ?? ""
                record.predicate = "said"
                record.object = value
                record.when = c.saidOn
            case "person": record.subject = value
            case "date": record.when = value
            default: record.where = value
            }
        }
        if let a = input.article {
            let id = try resolve(a, kinds: ["article"]).hex
            if let article, article != id {
                throw GlossError(.badInput, "candidate \(candidateID!.prefix(12)) is on article \(article.prefix(12)), not \(id.prefix(12)); leave out --article or pick a candidate of that article")
            }
            article = id
        }
        guard let article else { throw GlossError(.badInput, "name the article with --article (or a candidate with --from-candidate)") }
        for f in FactRecord.fields where f != "source" {
            if let v = input[f] { record[f] = try Replica.nfc(v, "the \(f) field").trimmingCharacters(in: .whitespaces) }
        }
        if let s = input.source { record.source = try source(named: s) }
        let missing = FactRecord.required.sorted().filter { (record[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            throw GlossError(.badInput, "a fact needs " + missing.map { "--\($0)" }.joined(separator: ", ") + (input.fromCandidate == nil ? "" : " (the candidate does not give it)"))
        }
        for f in FactRecord.fields where record[f]?.isEmpty == true { record[f] = nil }
        do { try record.check() } catch { throw GlossError.wrap(error) }
        if let quote = input.evidence {
            let (rev, span) = try locate(quote: quote, article: article, input.quote)
            revision = rev; selector = span
        } else if let id = candidateID, let span = selector, let rev = revision {
            // A candidate is what some replica's event said: its span is taken from the text it
            // names (the same selector an honest extraction gives), never copied as it came, so the
            // fact is one every replica understands.
            guard let text = try read({ db in try ArticleReads.text(ofRevision: rev, db) }), span.start < span.end,
                  TextSelector(exact: span.exact, prefix: "", suffix: "", start: span.start, end: span.end).matches(text) else {
                throw GlossError(.refused, "candidate \(id.prefix(12))'s span is not in its revision's text (a damaged or hostile extraction); give the quote with --evidence")
            }
            let s = TextSelector.selector(in: text, start: span.start, end: span.end)
            selector = SpanSelector(exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end)
        }
        guard let revision, let selector else {
            throw GlossError(.badInput, "give the exact quote that supports the fact with --evidence (or a candidate with --from-candidate)")
        }
        return try write { db in
            let e = try append(FactAdded(article: article, revision: revision, record: record, evidence: selector, fromCandidate: candidateID), db)
            return Created(id: e.id.hex, event: e.id, existing: false)
        }
    }

    /// Amends one field of a fact (an empty value clears an optional field).
    public func amendFact(_ text: String, field: FactField, value: String) throws -> Created {
        let field = field.rawValue
        let fact = try resolve(text, kinds: ["fact"]).hex
        var newValue: String? = try Replica.nfc(value, "the value").trimmingCharacters(in: .whitespaces)
        if newValue!.isEmpty {
            guard !FactRecord.required.contains(field) else { throw GlossError(.badInput, "\(field) cannot be empty; give a --value") }
            newValue = nil
        }
        if field == "source", let v = newValue { newValue = try source(named: v) }
        do { try FactRecord.check(field: field, newValue) } catch { throw GlossError.wrap(error) }
        return try write { db in
            var record = try Replica.liveFactRecord(fact, db)
            try Replica.refuseSettlingAnOpenRecordConflict(fact, amending: field, db)
            guard record[field] != newValue else { throw GlossError(.refused, "\(field) of fact \(fact.prefix(12)) is already that; nothing written") }
            record[field] = newValue
            let e = try append(FactAmended(fact: fact, field: field, record: record), db)
            return Created(id: fact, event: e.id, existing: false)
        }
    }

    public func retractFact(_ text: String, reason: String) throws -> Created {
        let fact = try resolve(text, kinds: ["fact"]).hex
        let reason = try Replica.nfc(reason, "the reason").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw GlossError(.badInput, "say why the fact is retracted with --reason") }
        guard reason.utf8.count <= ProtocolLimits.maxTextBytes else { throw GlossError(.badInput, "the reason is over \(ProtocolLimits.maxTextBytes) bytes") }
        return try write { db in
            _ = try Replica.liveFactRecord(fact, db)
            let e = try append(FactRetracted(fact: fact, reason: reason), db)
            return Created(id: fact, event: e.id, existing: false)
        }
    }

    /// `corroborates` or `contradicts`: a link from the other fact (`by`) to this one, an element of
    /// an add-wins set like any link (`gloss unlink` removes it).
    public func relateFact(_ text: String, _ relation: String, by other: String) throws -> Created {
        precondition(relation == "corroborates" || relation == "contradicts")
        let fact = try resolve(text, kinds: ["fact"]).hex, by = try resolve(other, kinds: ["fact"]).hex
        guard fact != by else { throw GlossError(.badInput, "a fact cannot \(relation == "corroborates" ? "corroborate" : "contradict") itself; --by names another fact") }
        let opposite = relation == "corroborates" ? "contradicts" : "corroborates"
        let clash = try read { db in !(try SetReads.linkAdditions(from: by, relation: opposite, to: fact, db)).isEmpty }
        if clash { throw GlossError(.refused, "fact \(by.prefix(12)) already \(opposite) \(fact.prefix(12)); remove that with `gloss unlink \(by.prefix(12)) \(opposite) \(fact.prefix(12))` first") }
        return try link(by, relation, fact)
    }

    /// An amendment writes the whole record, the other fields as shown; while the record's
    /// register has an open conflict the shown record is only its newest candidate, so an
    /// amendment of one field would silently settle a disagreement on another (found by an audit,
    /// 2026-12-06: amending `when` dropped the analyst's own `where` from an open conflict, with no
    /// resolution recorded) or undo a concurrent retraction. Refused then; amending the very field
    /// the candidates disagree on decides it, as editing a note's text does.
    static func refuseSettlingAnOpenRecordConflict(_ fact: String, amending field: String, _ db: ReplicaStore.Transaction) throws {
        guard let conflict = try ConflictRecord.open(object: fact, field: "record", db) else { return }
        let records = conflict.candidates.map { $0.value.flatMap { try? FactRecord(text: $0) } }
        let others = FactRecord.fields.filter { f in f != field && Set(records.map { $0?[f] }).count > 1 }
        let how = "resolve it first with `gloss resolve \(conflict.id.prefix(12)) --pick EVENT` (the candidates: `gloss conflict show \(conflict.id.prefix(12))`), then amend"
        if records.contains(where: { $0 == nil }) {
            throw GlossError(.refused, "fact \(fact.prefix(12)) has an open conflict \(conflict.id.prefix(12)): an amendment against a retraction; amending it now would undo the retraction unseen — \(how)")
        }
        if !others.isEmpty {
            throw GlossError(.refused, "fact \(fact.prefix(12)) has an open conflict \(conflict.id.prefix(12)) on \(others.joined(separator: ", ")); amending \(field) now would settle it with the newest candidate unseen — \(how)")
        }
    }

    static func liveFactRecord(_ fact: String, _ db: ReplicaStore.Transaction) throws -> FactRecord {
        guard let (record, retracted) = try FactReads.record(fact, db) else {
            throw GlossError(.notFound, "no fact \(fact.prefix(12))")
        }
        if retracted { throw GlossError(.refused, "fact \(fact.prefix(12)) is retracted; its history stays in `gloss fact show \(fact.prefix(12))`") }
        return record
    }

    /// Facts (of one article, or all), oldest first, with source, combined grade and corroboration counts.
    public func facts(article: String?) throws -> [FactSummary] {
        let id = try article.map { try resolve($0, kinds: ["article"]).hex }
        return try read { db in try FactSummary.all(article: id, db) }
    }

    /// One fact with the history of its record and of both grades (its credibility and its source's reliability).
    public func fact(_ text: String) throws -> FactDetail {
        let fact = try resolve(text, kinds: ["fact"]).hex
        return try read { db in try factDetail(fact, db) }
    }

    func factDetail(_ fact: String, _ db: ReplicaStore.Transaction) throws -> FactDetail {
        guard let f = try FactSummary.one(fact, db) else { throw GlossError(.notFound, "no fact \(fact.prefix(12))") }
        return FactDetail(fact: f, history: try ObjectRows.factHistory(fact, db),
                          credibilityHistory: try ObjectRows.gradeHistory(fact, scale: "credibility", db),
                          reliabilityHistory: try f.source.map { try ObjectRows.gradeHistory($0, scale: "reliability", db) } ?? [])
    }

    // MARK: Sources and grades

    /// Adds a source (its id derives from the name, so the same name on two replicas is one source).
    public func addSource(name: String, kind: String?) throws -> Created {
        let name = try Replica.nfc(name, "the source name")
        let kind = try kind.map { try Replica.nfc($0, "--kind").lowercased() }
        do {
            try checkLabel(name, "the source name")
            if let kind { try checkLabel(kind, "--kind") }
        } catch { throw GlossError.wrap(error) }
        let p = SourceAdded(name: name, kind: kind)
        return try write { db in
            if let existing = try SourceSummary.name(of: p.source, db) {
                throw GlossError(.alreadyExists, "source \"\(existing)\" already exists (\(p.source.prefix(12))); grade it with `gloss grade source`")
            }
            let e = try append(p, db)
            return Created(id: p.source, event: e.id, existing: false)
        }
    }

    /// A source by name (case-insensitive) or id prefix.
    func source(named text: String) throws -> String {
        let byName = SourceAdded.sourceID(name: text)
        if try read({ db in try SourceSummary.name(of: byName, db) }) != nil { return byName }
        guard Hex.isHexPrefix(text.lowercased()) else {
            throw GlossError(.notFound, "no source named \"\(text.prefix(64))\"; add it with `gloss source add \"\(text.prefix(64))\"` or list them with `gloss source list`")
        }
        return try resolve(text, kinds: ["source"]).hex
    }

    public func sources() throws -> [SourceSummary] {
        try read { db in try SourceSummary.all(db) }
    }

    /// One source with its reliability history.
    public func sourceDetail(_ text: String) throws -> SourceDetail {
        let id = try source(named: text)
        return try read { db in try sourceDetail(id: id, db) }
    }

    func sourceDetail(id: String, _ db: ReplicaStore.Transaction) throws -> SourceDetail {
        guard let row = try ObjectRows.source(id, db) else { throw GlossError(.notFound, "no source \(id.prefix(12))") }
        return SourceDetail(source: row, reliabilityHistory: try ObjectRows.gradeHistory(id, scale: "reliability", db))
    }

    /// Grades a source's reliability (A–F).
    public func gradeSource(_ text: String, reliability: Reliability, reason: String?) throws -> Created {
        let grade = reliability.rawValue
        let reason = try Replica.checkReason(reason)
        let id = try source(named: text)
        return try write { db in
            let e = try append(SourceGraded(source: id, reliability: grade, reason: reason), db)
            return Created(id: id, event: e.id, existing: false)
        }
    }

    /// Grades a fact's credibility (1–6).
    public func gradeFact(_ text: String, credibility: Credibility, reason: String?) throws -> Created {
        let credibility = credibility.rawValue
        let reason = try Replica.checkReason(reason)
        let fact = try resolve(text, kinds: ["fact"]).hex
        return try write { db in
            _ = try Replica.liveFactRecord(fact, db)
            let e = try append(FactGraded(fact: fact, credibility: credibility, reason: reason), db)
            return Created(id: fact, event: e.id, existing: false)
        }
    }

    static func checkReason(_ reason: String?) throws -> String? {
        guard let r = try reason.map({ try Replica.nfc($0, "the reason") })?.trimmingCharacters(in: .whitespacesAndNewlines), !r.isEmpty else { return nil }
        guard r.utf8.count <= ProtocolLimits.maxTextBytes else { throw GlossError(.badInput, "the reason is over \(ProtocolLimits.maxTextBytes) bytes") }
        return r
    }

    // MARK: Annotations

    /// Annotates a quoted span of an article's current revision, with an optional comment and tags.
    public func annotate(article text: String, quote: String, choice: QuoteChoice = QuoteChoice(), comment: String?, tags: [String]) throws -> Created {
        let article = try resolve(text, kinds: ["article"]).hex
        let comment = try comment.map { try Replica.nfc($0, "the comment") }
        if let comment {
            guard !comment.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw GlossError(.badInput, "the --comment is empty; leave it out or write one") }
            guard comment.utf8.count <= ProtocolLimits.maxTextBytes else { throw GlossError(.badInput, "the comment is over \(ProtocolLimits.maxTextBytes) bytes") }
        }
        let tags = try tags.map { try Replica.nfc($0, "--tag") }
        do { for t in tags { try checkLabel(t, "--tag") } } catch { throw GlossError.wrap(error) }
        let (revision, span) = try locate(quote: quote, article: article, choice)
        return try write { db in
            let e = try append(AnnotationAdded(article: article, revision: revision, target: span, comment: comment), db)
            for t in Set(tags).sorted() { _ = try append(TagAdded(object: e.id.hex, tag: t), db) }
            return Created(id: e.id.hex, event: e.id, existing: false)
        }
    }

    /// An article's annotations in text order, with their tags.
    public func annotations(article text: String?) throws -> [AnnotationSummary] {
        let id = try text.map { try resolve($0, kinds: ["article"]).hex }
        return try read { db in try AnnotationSummary.all(article: id, db) }
    }

    /// The selector of `quote` in the article's current revision (refusing ambiguous quotes, listing occurrences).
    func locate(quote: String, article: String, _ choice: QuoteChoice) throws -> (revision: String, selector: SpanSelector) {
        guard let current = try read({ db in try ArticleReads.currentRevision(of: article, db) }) else { throw GlossError(.notFound, "no article \(article.prefix(12))") }
        guard quote.utf8.count <= ProtocolLimits.maxTextBytes else { throw GlossError(.badInput, "the quote is over \(ProtocolLimits.maxTextBytes) bytes") }
        do {
            let s = try TextSelector.locate(quote: quote, in: current.text, occurrence: choice.occurrence, prefix: choice.prefix, suffix: choice.suffix)
            return (current.sha256, SpanSelector(exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end))
        } catch let e as SelectorError where e.code == .ambiguous {
            // The library's first line names its parameters; say it with this tool's flags.
            let listed = e.message.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
            throw GlossError(.ambiguous, "the quote occurs \(e.occurrences.count) times in this revision; pick one with --occurrence N (or --prefix / --suffix):\n" + listed)
        } catch { throw GlossError.wrap(error) }
    }
}

extension FactInput {
    subscript(field: String) -> String? {
        switch field {
        case "subject": subject
        case "predicate": predicate
        case "object": object
        case "when": when
        case "where": `where`
        default: nil
        }
    }
}
