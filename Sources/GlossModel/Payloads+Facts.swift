import Foundation

/// A span of a named article revision as carried in payloads: the quote (`exact`), up to 32 scalars
/// of context either side, and its position in Unicode scalars of the revision's NFC text
/// (Protocol/06-extraction.md §Selectors). GlossIngest's `TextSelector` converts to and from it.
public struct SpanSelector: Equatable, Sendable {
    public var exact: String
    public var prefix: String
    public var suffix: String
    public var start: Int
    public var end: Int

    public init(exact: String, prefix: String, suffix: String, start: Int, end: Int) {
        self.exact = exact; self.prefix = prefix; self.suffix = suffix; self.start = start; self.end = end
    }

    public init(cbor: CBOR) throws {
        let f = try CBORFields(cbor)
        let start = try f.int("start"), end = try f.int("end")
        guard start >= 0, end > start, end <= Int64(ProtocolLimits.maxArticleBytes) else { throw DecodeError("selector positions out of range") }
        exact = try f.text("exact"); prefix = try f.text("prefix"); suffix = try f.text("suffix")
        self.start = Int(start); self.end = Int(end)
        guard exact.unicodeScalars.count == self.end - self.start else { throw DecodeError("selector exact text does not span start..<end") }
        guard prefix.unicodeScalars.count <= 32, suffix.unicodeScalars.count <= 32 else { throw DecodeError("selector context is over 32 scalars") }
    }

    public var cbor: CBOR {
        .map(["exact": .text(exact), "prefix": .text(prefix), "suffix": .text(suffix), "start": .int(Int64(start)), "end": .int(Int64(end))])
    }
}

/// What a fact states: who (`subject`) did what (`predicate`) to or about what (`object`), when,
/// where, and the source that reported it (a source id). Values are single lines.
///
/// Its register value (Protocol/08-conflicts.md) is the canonical text `record`: one `name: value`
/// line per field in `FactRecord.fields` order, so concurrent amendments of different fields merge
/// line by line and amendments of the same field conflict.
public struct FactRecord: Equatable, Sendable {
    public var subject: String
    public var predicate: String
    public var object: String
    public var when: String?
    public var `where`: String?
    public var source: String?

    public static let fields = ["subject", "predicate", "object", "when", "where", "source"]
    public static let required: Set<String> = ["subject", "predicate", "object"]
    /// Longest field value in UTF-8 bytes.
    public static let maxValueBytes = 4096

    public init(subject: String, predicate: String, object: String, when: String? = nil, where: String? = nil, source: String? = nil) {
        self.subject = subject; self.predicate = predicate; self.object = object; self.when = when; self.where = `where`; self.source = source
    }

    public subscript(field: String) -> String? {
        get {
            switch field {
            case "subject": subject
            case "predicate": predicate
            case "object": object
            case "when": when
            case "where": `where`
            case "source": source
            default: nil
            }
        }
        set {
            switch field {
            case "subject": subject = newValue ?? ""
            case "predicate": predicate = newValue ?? ""
            case "object": object = newValue ?? ""
            case "when": when = newValue
            case "where": `where` = newValue
            case "source": source = newValue
            default: break
            }
        }
    }

    /// Checks one field value: required fields non-empty, every value one line of at most 4096 bytes
    /// without control characters, `source` a 64-digit id.
    public static func check(field: String, _ value: String?) throws {
        guard fields.contains(field) else { throw DecodeError("unknown fact field \(field); fields are \(fields.joined(separator: ", "))") }
        guard let value else {
            if required.contains(field) { throw DecodeError("fact field \(field) is required") }
            return
        }
        guard !value.isEmpty, value.trimmingCharacters(in: .whitespaces) == value else {
            throw DecodeError("fact field \(field) is empty or has surrounding spaces")
        }
        guard value.utf8.count <= maxValueBytes else { throw DecodeError("fact field \(field) is over \(maxValueBytes) bytes") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) else {
            throw DecodeError("fact field \(field) must be one line without control characters")
        }
        if field == "source" { try ObjectIDText.check(value, "source") }
    }

    public func check() throws {
        for f in FactRecord.fields { try FactRecord.check(field: f, self[f]) }
    }

    public init(fields f: CBORFields) throws {
        self.init(subject: try f.text("subject"), predicate: try f.text("predicate"), object: try f.text("object"),
                  when: try f.optionalText("when"), where: try f.optionalText("where"), source: try f.optionalText("source"))
        try check()
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = [:]
        for f in FactRecord.fields { if let v = self[f] { m[f] = .text(v) } }
        return .map(m)
    }

    /// The canonical register text: `subject: …` … `source: …`, one line each, `name:` alone when absent.
    public var text: String {
        FactRecord.fields.map { f in self[f].map { "\(f): \($0)" } ?? "\(f):" }.joined(separator: "\n")
    }

    /// Parses the canonical text (as `text` writes it, e.g. a conflict resolution's value). Works on
    /// Unicode scalars, not grapheme clusters, so a value that starts with a combining mark (which
    /// joins the space before it into one `Character`) parses back.
    public init(text: String) throws {
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == FactRecord.fields.count else {
            throw DecodeError("a fact record has \(FactRecord.fields.count) lines (\(FactRecord.fields.map { "\($0):" }.joined(separator: " "))), this has \(lines.count)")
        }
        self.init(subject: "", predicate: "", object: "")
        for (f, line) in zip(FactRecord.fields, lines) {
            guard line.starts(with: (f + ":").unicodeScalars) else { throw DecodeError("line \"\(String(line).prefix(40))\" should start with \(f):") }
            let rest = line.dropFirst(f.unicodeScalars.count + 1)
            if rest.isEmpty { self[f] = nil; continue }
            guard rest.first == " " else { throw DecodeError("line \(f): needs a space after the colon") }
            self[f] = String(rest.dropFirst())
        }
        try check()
    }
}

/// A fact recorded on an article revision with its quoted evidence. Its id is this event's id.
public struct FactAdded: EventPayload, Equatable {
    public static let type = "FactAdded"
    public static let schema: UInt16 = 1
    public var article: String
    /// The revision (its SHA-256) the evidence selector is on.
    public var revision: String
    public var record: FactRecord
    public var evidence: SpanSelector
    /// The extraction candidate it was made from, if any.
    public var fromCandidate: String?

    public init(article: String, revision: String, record: FactRecord, evidence: SpanSelector, fromCandidate: String?) {
        self.article = article; self.revision = revision; self.record = record; self.evidence = evidence; self.fromCandidate = fromCandidate
    }

    public init(fields f: CBORFields) throws {
        article = try f.text("article"); revision = try f.text("revision")
        guard let r = f.map["record"], let e = f.map["evidence"] else { throw DecodeError("fields record and evidence are required") }
        record = try FactRecord(fields: CBORFields(r)); evidence = try SpanSelector(cbor: e)
        fromCandidate = try f.optionalText("fromCandidate")
        try ObjectIDText.check(article, "article"); try ObjectIDText.check(revision, "revision")
        if let fromCandidate { try ObjectIDText.check(fromCandidate, "fromCandidate") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["article": .text(article), "revision": .text(revision), "record": record.cbor, "evidence": evidence.cbor]
        if let fromCandidate { m["fromCandidate"] = .text(fromCandidate) }
        return .map(m)
    }
}

/// A fact amended: the whole record as its author now states it, naming the field changed.
public struct FactAmended: EventPayload, Equatable {
    public static let type = "FactAmended"
    public static let schema: UInt16 = 1
    public var fact: String
    public var field: String
    public var record: FactRecord

    public init(fact: String, field: String, record: FactRecord) { self.fact = fact; self.field = field; self.record = record }

    public init(fields f: CBORFields) throws {
        fact = try f.text("fact"); field = try f.text("field")
        guard let r = f.map["record"] else { throw DecodeError("field record is required") }
        record = try FactRecord(fields: CBORFields(r))
        try ObjectIDText.check(fact, "fact")
        guard FactRecord.fields.contains(field) else { throw DecodeError("unknown fact field \(field)") }
    }

    public var cbor: CBOR { .map(["fact": .text(fact), "field": .text(field), "record": record.cbor]) }
}

/// A fact withdrawn, with the reason (its history stays; an amendment made concurrently is a conflict).
public struct FactRetracted: EventPayload, Equatable {
    public static let type = "FactRetracted"
    public static let schema: UInt16 = 1
    public var fact: String
    public var reason: String

    public init(fact: String, reason: String) { self.fact = fact; self.reason = reason }

    public init(fields f: CBORFields) throws {
        fact = try f.text("fact"); reason = try f.text("reason")
        try ObjectIDText.check(fact, "fact")
        guard !reason.isEmpty else { throw DecodeError("a retraction needs a reason") }
        try checkText(reason, "reason")
    }

    public var cbor: CBOR { .map(["fact": .text(fact), "reason": .text(reason)]) }
}

/// A source of information (outlet, official, person, …). Its id is derived from its name, so the
/// same source added on two replicas is one source: SHA-256("gloss/source\0" ‖ NFC lower-case name).
public struct SourceAdded: EventPayload, Equatable {
    public static let type = "SourceAdded"
    public static let schema: UInt16 = 1
    public var source: String
    public var name: String
    public var kind: String?

    public init(name: String, kind: String?) {
        self.name = name; self.kind = kind; self.source = SourceAdded.sourceID(name: name)
    }

    public static func sourceID(name: String) -> String {
        Bytes32.sha256(Array(("gloss/source\0" + name.precomposedStringWithCanonicalMapping.lowercased()).utf8)).hex
    }

    public init(fields f: CBORFields) throws {
        source = try f.text("source"); name = try f.text("name"); kind = try f.optionalText("kind")
        try checkLabel(name, "name")
        if let kind { try checkLabel(kind, "kind") }
        guard source == SourceAdded.sourceID(name: name) else { throw DecodeError("source id is not derived from the name") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["source": .text(source), "name": .text(name)]
        if let kind { m["kind"] = .text(kind) }
        return .map(m)
    }
}

/// The Admiralty (NATO) grading scales, kept apart: a source's reliability A–F and an item of
/// information's credibility 1–6.
public enum Admiralty {
    public static let reliability: [String: String] = [
        "A": "completely reliable", "B": "usually reliable", "C": "fairly reliable",
        "D": "not usually reliable", "E": "unreliable", "F": "reliability cannot be judged",
    ]
    public static let credibility: [String: String] = [
        "1": "confirmed by other sources", "2": "probably true", "3": "possibly true",
        "4": "doubtful", "5": "improbable", "6": "truth cannot be judged",
    ]
}

/// A source's reliability graded (A–F), with an optional reason. Concurrent different grades conflict.
public struct SourceGraded: EventPayload, Equatable {
    public static let type = "SourceGraded"
    public static let schema: UInt16 = 1
    public var source: String
    public var reliability: String
    public var reason: String?

    public init(source: String, reliability: String, reason: String?) { self.source = source; self.reliability = reliability; self.reason = reason }

    public init(fields f: CBORFields) throws {
        source = try f.text("source"); reliability = try f.text("reliability"); reason = try f.optionalText("reason")
        try ObjectIDText.check(source, "source")
        guard Admiralty.reliability[reliability] != nil else { throw DecodeError("reliability must be one of A B C D E F") }
        if let reason { try checkText(reason, "reason") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["source": .text(source), "reliability": .text(reliability)]
        if let reason { m["reason"] = .text(reason) }
        return .map(m)
    }
}

/// A fact's credibility graded (1–6), with an optional reason. Concurrent different grades conflict.
public struct FactGraded: EventPayload, Equatable {
    public static let type = "FactGraded"
    public static let schema: UInt16 = 1
    public var fact: String
    public var credibility: String
    public var reason: String?

    public init(fact: String, credibility: String, reason: String?) { self.fact = fact; self.credibility = credibility; self.reason = reason }

    public init(fields f: CBORFields) throws {
        fact = try f.text("fact"); credibility = try f.text("credibility"); reason = try f.optionalText("reason")
        try ObjectIDText.check(fact, "fact")
        guard Admiralty.credibility[credibility] != nil else { throw DecodeError("credibility must be one of 1 2 3 4 5 6") }
        if let reason { try checkText(reason, "reason") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["fact": .text(fact), "credibility": .text(credibility)]
        if let reason { m["reason"] = .text(reason) }
        return .map(m)
    }
}

/// An annotation on a span of an article revision, with an optional comment. Its id is this event's
/// id; its tags are `TagAdded` events on that id.
public struct AnnotationAdded: EventPayload, Equatable {
    public static let type = "AnnotationAdded"
    public static let schema: UInt16 = 1
    public var article: String
    public var revision: String
    public var target: SpanSelector
    public var comment: String?

    public init(article: String, revision: String, target: SpanSelector, comment: String?) {
        self.article = article; self.revision = revision; self.target = target; self.comment = comment
    }

    public init(fields f: CBORFields) throws {
        article = try f.text("article"); revision = try f.text("revision"); comment = try f.optionalText("comment")
        guard let t = f.map["target"] else { throw DecodeError("field target is required") }
        target = try SpanSelector(cbor: t)
        try ObjectIDText.check(article, "article"); try ObjectIDText.check(revision, "revision")
        if let comment { try checkText(comment, "comment") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["article": .text(article), "revision": .text(revision), "target": target.cbor]
        if let comment { m["comment"] = .text(comment) }
        return .map(m)
    }
}

/// An analyst's decision on where an annotation or a fact's evidence sits in a revision: `confirm`
/// accepts the re-anchored (or needs-review) span, `retarget` names another span. The latest
/// decision by `(time, replica)` is in force; every decision stays in history.
public struct AnchorDecided: EventPayload, Equatable {
    public static let type = "AnchorDecided"
    public static let schema: UInt16 = 1
    public static let decisions: Set<String> = ["confirm", "retarget"]
    /// The annotation or fact.
    public var object: String
    public var revision: String
    public var decision: String
    public var selector: SpanSelector

    public init(object: String, revision: String, decision: String, selector: SpanSelector) {
        self.object = object; self.revision = revision; self.decision = decision; self.selector = selector
    }

    public init(fields f: CBORFields) throws {
        object = try f.text("object"); revision = try f.text("revision"); decision = try f.text("decision")
        guard let sel = f.map["selector"] else { throw DecodeError("field selector is required") }
        selector = try SpanSelector(cbor: sel)
        try ObjectIDText.check(object, "object"); try ObjectIDText.check(revision, "revision")
        guard AnchorDecided.decisions.contains(decision) else { throw DecodeError("decision must be confirm or retarget") }
    }

    public var cbor: CBOR {
        .map(["object": .text(object), "revision": .text(revision), "decision": .text(decision), "selector": selector.cbor])
    }
}
