import Foundation
/// Payload types this build understands (Protocol/02-payloads.md). Each is a CBOR map; ids inside
/// payloads are 64 lowercase hex digits. A payload that fails these checks is not an envelope fault:
/// the event is accepted and shown as not understood (DESIGN §1.7).
public protocol EventPayload: Sendable {
    static var type: String { get }
    static var schema: UInt16 { get }
    init(fields: CBORFields) throws
    var cbor: CBOR { get }
}

extension EventPayload {
    public var encoded: [UInt8] { cbor.encoded }
}

/// Id of an object (article, note, …) as written in payloads and shown to people: 64 hex digits.
public enum ObjectIDText {
    public static func check(_ s: String, _ field: String) throws {
        guard s.utf8.count == 64, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw DecodeError("field \(field) is not a 64-digit lowercase hex id")
        }
    }
}

/// An article's text as ingested: one immutable revision.
public struct ArticleIngested: EventPayload, Equatable {
    public static let type = "ArticleIngested"
    public static let schema: UInt16 = 1

    /// Article id: SHA-256 of "gloss/article\0" + the revision's SHA-256 (Protocol/02-payloads.md).
    public var article: String
    /// SHA-256 (hex) of `text` as UTF-8.
    public var sha256: String
    public var text: String
    /// `YYYY-MM-DD` from the first line, when present.
    public var date: String?
    /// The dateline as written (e.g. `ISLAMABAD/BAKU`), and its places split on `/`.
    public var dateline: String?
    public var places: [String]
    /// The file name it was read from (no folders), for display only.
    public var filename: String?
    /// The extraction candidates the ingesting replica computed, and the rules version that did
    /// (absent when none were computed). Same shape as `CandidatesExtracted`.
    public var rulesVersion: Int64?
    public var candidates: [CBOR] = []

    public init(text: String, date: String?, dateline: String?, places: [String], filename: String?) {
        let sha = Bytes32.sha256(Array(text.utf8))
        self.sha256 = sha.hex
        self.article = ArticleIngested.articleID(forRevision: sha).hex
        self.text = text; self.date = date; self.dateline = dateline; self.places = places; self.filename = filename
    }

    public static func articleID(forRevision sha: Bytes32) -> Bytes32 {
        Bytes32.sha256(Array("gloss/article\0".utf8) + sha.bytes)
    }

    public init(fields f: CBORFields) throws {
        article = try f.text("article"); sha256 = try f.text("sha256"); text = try f.text("text")
        date = try f.optionalText("date"); dateline = try f.optionalText("dateline")
        places = try f.textArray("places"); filename = try f.optionalText("filename")
        rulesVersion = try f.optionalInt("rulesVersion"); candidates = try f.array("candidates")
        for c in candidates { guard case .map = c else { throw DecodeError("a candidate is not a map") } }
        guard candidates.count <= 100_000 else { throw DecodeError("more than 100000 candidates") }
        try ObjectIDText.check(article, "article"); try ObjectIDText.check(sha256, "sha256")
        guard text.utf8.count <= ProtocolLimits.maxArticleBytes else { throw DecodeError("text is over \(ProtocolLimits.maxArticleBytes) bytes") }
        let sha = Bytes32.sha256(Array(text.utf8))
        guard sha.hex == sha256 else { throw DecodeError("sha256 does not match the text") }
        guard ArticleIngested.articleID(forRevision: sha).hex == article else { throw DecodeError("article id is not derived from sha256") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["article": .text(article), "sha256": .text(sha256), "text": .text(text),
                                 "places": .array(places.map { .text($0) })]
        if let date { m["date"] = .text(date) }
        if let dateline { m["dateline"] = .text(dateline) }
        if let filename { m["filename"] = .text(filename) }
        if let rulesVersion { m["rulesVersion"] = .int(rulesVersion); m["candidates"] = .array(candidates) }
        return .map(m)
    }
}

/// A new revision of an article already held (corrections, rewording): its full text. The
/// article's current revision is its revision with the highest `(time, replica)`; annotations and
/// evidence are re-anchored in it (Protocol/09-anchoring.md).
public struct ArticleRevised: EventPayload, Equatable {
    public static let type = "ArticleRevised"
    public static let schema: UInt16 = 1

    /// The article revised (its id stays that of its first revision).
    public var article: String
    /// SHA-256 (hex) of `text` as UTF-8: the revision id.
    public var sha256: String
    /// The revision its author saw as current.
    public var previous: String
    public var text: String
    public var date: String?
    public var dateline: String?
    public var places: [String]
    public var filename: String?
    public var rulesVersion: Int64?
    public var candidates: [CBOR] = []

    public init(article: String, previous: String, revision p: ArticleIngested) {
        self.article = article; self.previous = previous
        sha256 = p.sha256; text = p.text; date = p.date; dateline = p.dateline; places = p.places; filename = p.filename
        rulesVersion = p.rulesVersion; candidates = p.candidates
    }

    public init(fields f: CBORFields) throws {
        article = try f.text("article"); sha256 = try f.text("sha256"); previous = try f.text("previous"); text = try f.text("text")
        date = try f.optionalText("date"); dateline = try f.optionalText("dateline")
        places = try f.textArray("places"); filename = try f.optionalText("filename")
        rulesVersion = try f.optionalInt("rulesVersion"); candidates = try f.array("candidates")
        for c in candidates { guard case .map = c else { throw DecodeError("a candidate is not a map") } }
        guard candidates.count <= 100_000 else { throw DecodeError("more than 100000 candidates") }
        try ObjectIDText.check(article, "article"); try ObjectIDText.check(sha256, "sha256"); try ObjectIDText.check(previous, "previous")
        guard text.utf8.count <= ProtocolLimits.maxArticleBytes else { throw DecodeError("text is over \(ProtocolLimits.maxArticleBytes) bytes") }
        guard Bytes32.sha256(Array(text.utf8)).hex == sha256 else { throw DecodeError("sha256 does not match the text") }
        guard previous != sha256 else { throw DecodeError("a revision cannot revise itself") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["article": .text(article), "sha256": .text(sha256), "previous": .text(previous), "text": .text(text),
                                 "places": .array(places.map { .text($0) })]
        if let date { m["date"] = .text(date) }
        if let dateline { m["dateline"] = .text(dateline) }
        if let filename { m["filename"] = .text(filename) }
        if let rulesVersion { m["rulesVersion"] = .int(rulesVersion); m["candidates"] = .array(candidates) }
        return .map(m)
    }
}

/// A Markdown note on any object. The note's id is the id of this event.
public struct NoteAdded: EventPayload, Equatable {
    public static let type = "NoteAdded"
    public static let schema: UInt16 = 1
    public var on: String
    public var body: String
    public init(on: String, body: String) { self.on = on; self.body = body }
    public init(fields f: CBORFields) throws {
        on = try f.text("on"); body = try f.text("body")
        try ObjectIDText.check(on, "on")
        try checkText(body, "body")
    }
    public var cbor: CBOR { .map(["on": .text(on), "body": .text(body)]) }
}

/// A new body for a note.
public struct NoteEdited: EventPayload, Equatable {
    public static let type = "NoteEdited"
    public static let schema: UInt16 = 1
    public var note: String
    public var body: String
    public init(note: String, body: String) { self.note = note; self.body = body }
    public init(fields f: CBORFields) throws {
        note = try f.text("note"); body = try f.text("body")
        try ObjectIDText.check(note, "note")
        try checkText(body, "body")
    }
    public var cbor: CBOR { .map(["note": .text(note), "body": .text(body)]) }
}

/// A note deleted (its history stays).
public struct NoteDeleted: EventPayload, Equatable {
    public static let type = "NoteDeleted"
    public static let schema: UInt16 = 1
    public var note: String
    public init(note: String) { self.note = note }
    public init(fields f: CBORFields) throws {
        note = try f.text("note")
        try ObjectIDText.check(note, "note")
    }
    public var cbor: CBOR { .map(["note": .text(note)]) }
}

/// A person's decision closing a conflict on a field: a write of the chosen value that causally
/// follows every candidate it names (DESIGN §4).
public struct ConflictResolved: EventPayload, Equatable {
    public static let type = "ConflictResolved"
    public static let schema: UInt16 = 1
    /// The conflict id as the resolver saw it.
    public var conflict: String
    public var object: String
    public var field: String
    /// The candidate events the resolver saw.
    public var candidates: [String]
    /// The chosen value; nil with `deleted` for a tombstone.
    public var value: String?
    public var deleted: Bool
    /// The candidate picked, when the value is one of them.
    public var picked: String?
    public var reason: String?

    public init(conflict: String, object: String, field: String, candidates: [String], value: String?, deleted: Bool, picked: String?, reason: String?) {
        self.conflict = conflict; self.object = object; self.field = field; self.candidates = candidates.sorted()
        self.value = value; self.deleted = deleted; self.picked = picked; self.reason = reason
    }

    public init(fields f: CBORFields) throws {
        conflict = try f.text("conflict"); object = try f.text("object"); field = try f.text("field")
        candidates = try f.textArray("candidates"); value = try f.optionalText("value")
        if case .bool(let d)? = f.map["deleted"] { deleted = d } else { deleted = false }
        picked = try f.optionalText("picked"); reason = try f.optionalText("reason")
        try ObjectIDText.check(conflict, "conflict"); try ObjectIDText.check(object, "object")
        for c in candidates { try ObjectIDText.check(c, "candidates") }
        if let picked { try ObjectIDText.check(picked, "picked") }
        guard !field.isEmpty, field.utf8.count <= 64 else { throw DecodeError("field name is empty or too long") }
        guard !candidates.isEmpty, candidates.count <= 10_000 else { throw DecodeError("candidates must list 1–10000 events") }
        guard deleted == (value == nil) else { throw DecodeError("exactly one of value and deleted must be given") }
        if let value { try checkText(value, "value") }
        if let reason { try checkText(reason, "reason") }
    }

    public var cbor: CBOR {
        var m: [String: CBOR] = ["conflict": .text(conflict), "object": .text(object), "field": .text(field),
                                 "candidates": .array(candidates.map { .text($0) }), "deleted": .bool(deleted)]
        if let value { m["value"] = .text(value) }
        if let picked { m["picked"] = .text(picked) }
        if let reason { m["reason"] = .text(reason) }
        return .map(m)
    }
}

/// Extraction candidates computed by the ingesting replica's versioned rules (Protocol/06-extraction.md),
/// so every replica shows the same suggestions. Re-running newer rules writes another one.
public struct CandidatesExtracted: EventPayload, Equatable {
    public static let type = "CandidatesExtracted"
    public static let schema: UInt16 = 1
    public var article: String
    public var revision: String
    public var rulesVersion: Int64
    /// One map per candidate (keys of Protocol/06-extraction.md §Candidates).
    public var candidates: [CBOR]

    public init(article: String, revision: String, rulesVersion: Int64, candidates: [CBOR]) {
        self.article = article; self.revision = revision; self.rulesVersion = rulesVersion; self.candidates = candidates
    }

    public init(fields f: CBORFields) throws {
        article = try f.text("article"); revision = try f.text("revision"); rulesVersion = try f.int("rulesVersion")
        candidates = try f.array("candidates")
        try ObjectIDText.check(article, "article"); try ObjectIDText.check(revision, "revision")
        guard rulesVersion >= 1 else { throw DecodeError("rulesVersion must be 1 or more") }
        guard candidates.count <= 100_000 else { throw DecodeError("more than 100000 candidates") }
        for c in candidates { guard case .map = c else { throw DecodeError("a candidate is not a map") } }
    }

    public var cbor: CBOR {
        .map(["article": .text(article), "revision": .text(revision), "rulesVersion": .int(rulesVersion), "candidates": .array(candidates)])
    }
}

/// A tag added to any object: an element of an add-wins set. Its id is this event's id.
public struct TagAdded: EventPayload, Equatable {
    public static let type = "TagAdded"
    public static let schema: UInt16 = 1
    public var object: String
    public var tag: String
    public init(object: String, tag: String) { self.object = object; self.tag = tag }
    public init(fields f: CBORFields) throws {
        object = try f.text("object"); tag = try f.text("tag")
        try ObjectIDText.check(object, "object"); try checkLabel(tag, "tag")
    }
    public var cbor: CBOR { .map(["object": .text(object), "tag": .text(tag)]) }
}

/// A tag removed: removes only the additions its author saw (add-wins, DESIGN §4).
public struct TagRemoved: EventPayload, Equatable {
    public static let type = "TagRemoved"
    public static let schema: UInt16 = 1
    public var object: String
    public var tag: String
    public var additions: [String]
    public init(object: String, tag: String, additions: [String]) { self.object = object; self.tag = tag; self.additions = additions.sorted() }
    public init(fields f: CBORFields) throws {
        object = try f.text("object"); tag = try f.text("tag"); additions = try f.textArray("additions")
        try ObjectIDText.check(object, "object"); try checkLabel(tag, "tag")
        guard !additions.isEmpty, additions.count <= 100_000 else { throw DecodeError("additions must list 1–100000 events") }
        for a in additions { try ObjectIDText.check(a, "additions") }
    }
    public var cbor: CBOR { .map(["object": .text(object), "tag": .text(tag), "additions": .array(additions.map { .text($0) })]) }
}

/// A typed link between two objects: an element of an add-wins set. Its id is this event's id.
public struct LinkAdded: EventPayload, Equatable {
    public static let type = "LinkAdded"
    public static let schema: UInt16 = 1
    public var from: String
    public var relation: String
    public var to: String
    public init(from: String, relation: String, to: String) { self.from = from; self.relation = relation; self.to = to }
    public init(fields f: CBORFields) throws {
        from = try f.text("from"); relation = try f.text("relation"); to = try f.text("to")
        try ObjectIDText.check(from, "from"); try ObjectIDText.check(to, "to"); try checkLabel(relation, "relation")
    }
    public var cbor: CBOR { .map(["from": .text(from), "relation": .text(relation), "to": .text(to)]) }
}

/// A link removed: removes only the additions its author saw.
public struct LinkRemoved: EventPayload, Equatable {
    public static let type = "LinkRemoved"
    public static let schema: UInt16 = 1
    public var additions: [String]
    public init(additions: [String]) { self.additions = additions.sorted() }
    public init(fields f: CBORFields) throws {
        additions = try f.textArray("additions")
        guard !additions.isEmpty, additions.count <= 100_000 else { throw DecodeError("additions must list 1–100000 events") }
        for a in additions { try ObjectIDText.check(a, "additions") }
    }
    public var cbor: CBOR { .map(["additions": .array(additions.map { .text($0) })]) }
}

/// Tags and relation names: 1–64 bytes of UTF-8, no control characters, no surrounding spaces.
public func checkLabel(_ s: String, _ field: String) throws {
    guard !s.isEmpty, s.utf8.count <= 64, s.trimmingCharacters(in: .whitespacesAndNewlines) == s,
          !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
        throw DecodeError("\(field) must be 1–64 bytes without control characters or surrounding spaces")
    }
}

func checkText(_ s: String, _ field: String) throws {
    guard s.utf8.count <= ProtocolLimits.maxTextBytes else { throw DecodeError("field \(field) is over \(ProtocolLimits.maxTextBytes) bytes") }
}

/// A decoded payload, or why this build cannot use it.
public enum DecodedPayload: Sendable {
    case articleIngested(ArticleIngested)
    case articleRevised(ArticleRevised)
    case noteAdded(NoteAdded)
    case noteEdited(NoteEdited)
    case noteDeleted(NoteDeleted)
    case conflictResolved(ConflictResolved)
    case candidatesExtracted(CandidatesExtracted)
    case tagAdded(TagAdded)
    case tagRemoved(TagRemoved)
    case linkAdded(LinkAdded)
    case linkRemoved(LinkRemoved)
    case factAdded(FactAdded)
    case factAmended(FactAmended)
    case factRetracted(FactRetracted)
    case sourceAdded(SourceAdded)
    case sourceGraded(SourceGraded)
    case factGraded(FactGraded)
    case annotationAdded(AnnotationAdded)
    case anchorDecided(AnchorDecided)
    case teamCreated(TeamCreated)
    case memberAdded(MemberAdded)
    case deviceEnrolled(DeviceEnrolled)
    case roleChanged(RoleChanged)
    case keyRevoked(KeyRevoked)
    case memberRemoved(MemberRemoved)
    case payloadRedacted(PayloadRedacted)
    /// Unknown type, newer schema, invalid fields, or a purged payload.
    case notUnderstood(reason: String)

    public static let known: [String: UInt16] = [
        ArticleIngested.type: ArticleIngested.schema, ArticleRevised.type: ArticleRevised.schema, NoteAdded.type: NoteAdded.schema,
        NoteEdited.type: NoteEdited.schema, NoteDeleted.type: NoteDeleted.schema,
        ConflictResolved.type: ConflictResolved.schema, CandidatesExtracted.type: CandidatesExtracted.schema,
        TagAdded.type: TagAdded.schema, TagRemoved.type: TagRemoved.schema,
        LinkAdded.type: LinkAdded.schema, LinkRemoved.type: LinkRemoved.schema,
        FactAdded.type: FactAdded.schema, FactAmended.type: FactAmended.schema, FactRetracted.type: FactRetracted.schema,
        SourceAdded.type: SourceAdded.schema, SourceGraded.type: SourceGraded.schema, FactGraded.type: FactGraded.schema,
        AnnotationAdded.type: AnnotationAdded.schema, AnchorDecided.type: AnchorDecided.schema,
        TeamCreated.type: TeamCreated.schema, MemberAdded.type: MemberAdded.schema, DeviceEnrolled.type: DeviceEnrolled.schema,
        RoleChanged.type: RoleChanged.schema, KeyRevoked.type: KeyRevoked.schema, MemberRemoved.type: MemberRemoved.schema,
        PayloadRedacted.type: PayloadRedacted.schema,
    ]

    public init(type: String, schema: UInt16, payload: [UInt8]?) {
        guard let payload else { self = .notUnderstood(reason: "payload purged"); return }
        guard let supported = DecodedPayload.known[type] else { self = .notUnderstood(reason: "unknown event type \(type)"); return }
        guard schema >= 1 else { self = .notUnderstood(reason: "\(type) schema 0 is invalid"); return }
        guard schema <= supported else { self = .notUnderstood(reason: "\(type) schema \(schema) is newer than this build's \(supported)"); return }
        do {
            let fields = try CBORFields(try CBOR(decoding: payload))
            switch type {
            case ArticleIngested.type: self = .articleIngested(try ArticleIngested(fields: fields))
            case ArticleRevised.type: self = .articleRevised(try ArticleRevised(fields: fields))
            case NoteAdded.type: self = .noteAdded(try NoteAdded(fields: fields))
            case NoteEdited.type: self = .noteEdited(try NoteEdited(fields: fields))
            case NoteDeleted.type: self = .noteDeleted(try NoteDeleted(fields: fields))
            case ConflictResolved.type: self = .conflictResolved(try ConflictResolved(fields: fields))
            case CandidatesExtracted.type: self = .candidatesExtracted(try CandidatesExtracted(fields: fields))
            case TagAdded.type: self = .tagAdded(try TagAdded(fields: fields))
            case TagRemoved.type: self = .tagRemoved(try TagRemoved(fields: fields))
            case LinkAdded.type: self = .linkAdded(try LinkAdded(fields: fields))
            case LinkRemoved.type: self = .linkRemoved(try LinkRemoved(fields: fields))
            case FactAdded.type: self = .factAdded(try FactAdded(fields: fields))
            case FactAmended.type: self = .factAmended(try FactAmended(fields: fields))
            case FactRetracted.type: self = .factRetracted(try FactRetracted(fields: fields))
            case SourceAdded.type: self = .sourceAdded(try SourceAdded(fields: fields))
            case SourceGraded.type: self = .sourceGraded(try SourceGraded(fields: fields))
            case FactGraded.type: self = .factGraded(try FactGraded(fields: fields))
            case AnnotationAdded.type: self = .annotationAdded(try AnnotationAdded(fields: fields))
            case AnchorDecided.type: self = .anchorDecided(try AnchorDecided(fields: fields))
            case TeamCreated.type: self = .teamCreated(try TeamCreated(fields: fields))
            case MemberAdded.type: self = .memberAdded(try MemberAdded(fields: fields))
            case DeviceEnrolled.type: self = .deviceEnrolled(try DeviceEnrolled(fields: fields))
            case RoleChanged.type: self = .roleChanged(try RoleChanged(fields: fields))
            case KeyRevoked.type: self = .keyRevoked(try KeyRevoked(fields: fields))
            case MemberRemoved.type: self = .memberRemoved(try MemberRemoved(fields: fields))
            case PayloadRedacted.type: self = .payloadRedacted(try PayloadRedacted(fields: fields))
            default: self = .notUnderstood(reason: "unknown event type \(type)")
            }
        } catch {
            self = .notUnderstood(reason: "invalid \(type) payload: \(error)")
        }
    }
}
