import Foundation
import GlossEngine
import GlossJSON
import GlossModel

/// Builds `Protocol/vectors/payloads.json` deterministically: valid payloads of every type this build
/// understands (`DecodedPayload.known`) and invalid ones that must not be understood, each with a
/// reason category (Protocol/02-payloads.md §Golden vectors). Every entry is checked against
/// `DecodedPayload` while it is built, so the file can never disagree with the Swift code.
public enum PayloadVectors {
    /// A fixed 64-hex id from a label.
    static func id(_ label: String) -> String { Bytes32.sha256(Array("gloss-vector/\(label)".utf8)).hex }

    struct Entry {
        var name: String
        var type: String
        var schema: UInt16 = 1
        var bytes: [UInt8]
        /// nil: valid (understood); otherwise the reason category.
        var reason: String?
        /// Valid entries: the bytes are RFC 8949 §4.2.1 deterministic, and re-encoding the decoded
        /// payload gives them back (no ignored keys, no nulls).
        var deterministic = true
        var roundTrip = true
    }

    public static func json() -> JSON {
        var entries: [Entry] = []
        func valid(_ name: String, _ p: some EventPayload) {
            entries.append(Entry(name: name, type: type(of: p).type, bytes: p.encoded))
        }
        func lenient(_ name: String, _ type: String, _ bytes: [UInt8], deterministic: Bool, roundTrip: Bool = false) {
            entries.append(Entry(name: name, type: type, bytes: bytes, deterministic: deterministic, roundTrip: roundTrip))
        }
        func invalid(_ name: String, _ type: String, _ bytes: [UInt8], _ reason: String, schema: UInt16 = 1) {
            entries.append(Entry(name: name, type: type, schema: schema, bytes: bytes, reason: reason))
        }
        func invalid(_ name: String, _ type: String, _ value: CBOR, _ reason: String) { invalid(name, type, value.encoded, reason) }
        /// A payload's map with some keys replaced (a nil value removes the key).
        func with(_ p: some EventPayload, _ changes: [String: CBOR?]) -> CBOR {
            guard case .map(var m) = p.cbor else { fatalError() }
            for (k, v) in changes { m[k] = v }
            return .map(m)
        }
        func text(_ s: String) -> CBOR { .text(s) }

        // Articles. Non-ASCII text; the article id derives from the revision's SHA-256.
        let text1 = "date 2021-06-26 ISLAMABAD/BAKU – Übungen „Drei Brüder“ im September 🇦🇿.\nSecond line.\n"
        let article = ArticleIngested(text: text1, date: "2021-06-26", dateline: "ISLAMABAD/BAKU",
                                      places: ["ISLAMABAD", "BAKU"], filename: "übung.txt")
        valid("ArticleIngested with date, dateline, places and filename", article)
        let dateSelector = SpanSelector(exact: "2021-06-26", prefix: "date ", suffix: " ISLAMABAD/BAKU – Übungen „Drei ", start: 5, end: 15)
        let dateCandidate = CBOR.map(["kind": text("date"), "value": text("2021-06-26"), "precision": text("day"),
                                      "rule": text("dateline-date"), "selector": dateSelector.cbor])
        var withCandidates = article
        withCandidates.rulesVersion = 3
        withCandidates.candidates = [dateCandidate]
        valid("ArticleIngested with rulesVersion and candidates", withCandidates)
        valid("ArticleIngested with text only (places empty)", ArticleIngested(text: "Kurz: ✓", date: nil, dateline: nil, places: [], filename: nil))
        let text2 = "date 2021-06-27 ISLAMABAD/BAKU – Übungen „Drei Brüder“ im Oktober 🇦🇿 (korrigiert).\nSecond line.\n"
        let revised = ArticleRevised(article: article.article, previous: article.sha256,
                                     revision: ArticleIngested(text: text2, date: "2021-06-27", dateline: "ISLAMABAD/BAKU",
                                                               places: ["ISLAMABAD", "BAKU"], filename: "übung-2.txt"))
        valid("ArticleRevised", revised)

        // Notes.
        valid("NoteAdded with Markdown and non-ASCII", NoteAdded(on: article.article, body: "Check the **September** date — Ünïcödé ✓\n\n- 日本語"))
        valid("NoteAdded with an empty body", NoteAdded(on: id("revision"), body: ""))
        valid("NoteEdited", NoteEdited(note: id("note-1"), body: "September 2021 — geprüft."))
        valid("NoteDeleted", NoteDeleted(note: id("note-1")))

        // Facts and sources.
        let source = SourceAdded(name: "Agência Lusa", kind: "outlet")
        let fullRecord = FactRecord(subject: "Azerbaijan, Pakistan and Türkiye", predicate: "hold exercise", object: "„Drei Brüder – 2021“",
                                    when: "2021-09", where: "Baku", source: source.source)
        let evidence = SpanSelector(exact: "Übungen „Drei Brüder“ im September 🇦🇿", prefix: "ate 2021-06-26 ISLAMABAD/BAKU – ", suffix: ".\nSecond line.\n",
                                    start: 33, end: 70)
        let factAdded = FactAdded(article: article.article, revision: article.sha256, record: fullRecord, evidence: evidence, fromCandidate: id("candidate-1"))
        valid("FactAdded with every record field and fromCandidate", factAdded)
        let minimalRecord = FactRecord(subject: "Türkiye", predicate: "takes part", object: "exercise")
        let shortEvidence = SpanSelector(exact: "🇦🇿", prefix: "ngen „Drei Brüder“ im September ", suffix: ".\nSecond line.\n", start: 68, end: 70)
        let factMinimal = FactAdded(article: article.article, revision: article.sha256, record: minimalRecord, evidence: shortEvidence, fromCandidate: nil)
        valid("FactAdded with the required record fields only (flag: 2 scalars, 1 grapheme)", factMinimal)
        valid("FactAdded whose subject starts with a combining mark (U+0301)",
              FactAdded(article: article.article, revision: article.sha256, record: FactRecord(subject: "\u{0301}x", predicate: "p", object: "o"),
                        evidence: shortEvidence, fromCandidate: nil))
        var amendedRecord = fullRecord
        amendedRecord.when = "2021-09-12"
        valid("FactAmended", FactAmended(fact: id("fact-1"), field: "when", record: amendedRecord))
        valid("FactRetracted", FactRetracted(fact: id("fact-1"), reason: "Misread: the exercise is in Pakistan — see revision 2."))
        valid("FactGraded", FactGraded(fact: id("fact-1"), credibility: "2", reason: "Bestätigt durch zwei Quellen"))
        valid("FactGraded without reason", FactGraded(fact: id("fact-1"), credibility: "6", reason: nil))
        valid("SourceAdded with a lower-case name", SourceAdded(name: "reuters", kind: "outlet"))
        valid("SourceAdded with a mixed-case non-ASCII name (id from the lower-cased NFC name)", source)
        valid("SourceAdded without kind", SourceAdded(name: "Ministry of Defence of Azerbaijan", kind: nil))
        var upperDerived = SourceAdded(name: "Reuters", kind: nil)
        upperDerived.source = SourceAdded.sourceID(name: "REUTERS")
        valid("SourceAdded whose id is derived from a different-case spelling of the name", upperDerived)
        let decomposed = SourceAdded(name: "Age\u{0302}ncia Lusa", kind: nil)
        precondition(decomposed.source == source.source && decomposed.source == SourceAdded.sourceID(name: "agência lusa"))
        valid("SourceAdded with a decomposed (NFD) name: the id uses its NFC form", decomposed)
        valid("SourceAdded with a Greek name ending in capital sigma (lower-cased scalar by scalar: σ, not ς)", SourceAdded(name: "ΟΔΥΣΣΕΥΣ", kind: "person"))
        valid("SourceAdded with dotted capital I (full lower-case mapping: i + U+0307)", SourceAdded(name: "İstanbul", kind: nil))
        valid("SourceGraded", SourceGraded(source: source.source, reliability: "B", reason: "Agentur mit gutem Ruf"))
        valid("SourceGraded without reason", SourceGraded(source: source.source, reliability: "F", reason: nil))
        let annotation = AnnotationAdded(article: article.article, revision: article.sha256, target: evidence, comment: "Welche Übung? ✓")
        valid("AnnotationAdded with comment", annotation)
        valid("AnnotationAdded without comment", AnnotationAdded(article: article.article, revision: article.sha256, target: dateSelector, comment: nil))
        valid("AnchorDecided confirm", AnchorDecided(object: id("annotation-1"), revision: revised.sha256, decision: "confirm",
                                                     selector: SpanSelector(exact: "Übungen", prefix: "ate 2021-06-27 ISLAMABAD/BAKU – ", suffix: " „Drei Brüder“ im Oktober 🇦🇿 (ko", start: 33, end: 40)))
        valid("AnchorDecided retarget", AnchorDecided(object: id("fact-1"), revision: revised.sha256, decision: "retarget",
                                                      selector: SpanSelector(exact: "im Oktober", prefix: "AD/BAKU – Übungen „Drei Brüder“ ", suffix: " 🇦🇿 (korrigiert).\nSecond line.\n", start: 55, end: 65)))

        // Team roster events (02 §Team).
        let memberKey = ReplicaID(hex: id("key-bo"))!
        valid("TeamCreated", TeamCreated(name: "Östliche Lage", analyst: "ana"))
        valid("MemberAdded analyst", MemberAdded(analyst: "bo", role: .analyst, key: memberKey))
        valid("MemberAdded reader", MemberAdded(analyst: "cy", role: .reader, key: ReplicaID(hex: id("key-cy"))!))
        valid("DeviceEnrolled", DeviceEnrolled(analyst: "bo", key: ReplicaID(hex: id("key-bo-2"))!))
        valid("RoleChanged to admin", RoleChanged(analyst: "bo", role: .admin))
        valid("KeyRevoked", KeyRevoked(key: memberKey, reason: "laptop lost"))
        valid("MemberRemoved", MemberRemoved(analyst: "cy", reason: "left the desk"))
        valid("PayloadRedacted", PayloadRedacted(event: EventID(Bytes32(hex: id("note-1"))!), reason: "privacy order"))

        // Conflict resolutions, one per field kind, and a tombstone.
        let two = [id("write-a"), id("write-b")]
        valid("ConflictResolved body", ConflictResolved(conflict: id("conflict-body"), object: id("note-1"), field: "body", candidates: two,
                                                        value: "Merged: September — Oktober?", deleted: false, picked: nil, reason: "both partly right"))
        valid("ConflictResolved body deleted", ConflictResolved(conflict: id("conflict-body-2"), object: id("note-1"), field: "body", candidates: two,
                                                                value: nil, deleted: true, picked: nil, reason: nil))
        valid("ConflictResolved record", ConflictResolved(conflict: id("conflict-record"), object: id("fact-1"), field: "record", candidates: two,
                                                          value: amendedRecord.text, deleted: false, picked: two[1], reason: "the later date"))
        valid("ConflictResolved credibility", ConflictResolved(conflict: id("conflict-credibility"), object: id("fact-1"), field: "credibility",
                                                               candidates: two, value: "3", deleted: false, picked: two[0], reason: nil))
        valid("ConflictResolved reliability", ConflictResolved(conflict: id("conflict-reliability"), object: source.source, field: "reliability",
                                                               candidates: two, value: "C", deleted: false, picked: nil, reason: nil))

        // Extraction, tags and links.
        valid("CandidatesExtracted", CandidatesExtracted(article: article.article, revision: article.sha256, rulesVersion: 4, candidates: [
            dateCandidate,
            .map(["kind": text("statement"), "value": text("Übungen im September"), "rule": text("said-that"), "speaker": text("Hasanov"),
                  "role": text("Defense Minister"), "affiliation": text("Azerbaijan"), "saidOn": text("2021-06-26"),
                  "selector": SpanSelector(exact: "Übungen", prefix: "ate 2021-06-26 ISLAMABAD/BAKU – ", suffix: " „Drei Brüder“ im September 🇦🇿.\n", start: 33, end: 40).cbor,
                  "attribution": SpanSelector(exact: "BAKU", prefix: "date 2021-06-26 ISLAMABAD/", suffix: " – Übungen „Drei Brüder“ im Sept", start: 26, end: 30).cbor]),
        ]))
        valid("CandidatesExtracted with no candidates", CandidatesExtracted(article: article.article, revision: revised.sha256, rulesVersion: 1, candidates: []))
        valid("TagAdded with a non-ASCII tag", TagAdded(object: id("annotation-1"), tag: "geprüft ✓"))
        valid("TagAdded with a 64-byte tag of 32 two-byte scalars", TagAdded(object: id("annotation-1"), tag: String(repeating: "é", count: 32)))
        valid("TagAdded ending in a space and a combining mark (the last scalar, U+0301, is not white space)",
              TagAdded(object: id("annotation-1"), tag: "x \u{0301}"))
        valid("TagRemoved", TagRemoved(object: id("annotation-1"), tag: "geprüft ✓", additions: [id("tag-add-2"), id("tag-add-1")]))
        valid("LinkAdded", LinkAdded(from: id("fact-2"), relation: "corroborates", to: id("fact-1")))
        valid("LinkRemoved", LinkRemoved(additions: [id("link-add-1")]))

        // Valid but not in canonical form: decoders accept any well-formed encoding and ignore
        // keys a type does not define.
        let note = NoteDeleted(note: id("note-1"))
        let noteBytes = note.encoded
        // {"note": <id>} with the map head A1 written as B9 0001 (non-shortest).
        lenient("NoteDeleted with a non-shortest map head", NoteDeleted.type, [0xB9, 0x00, 0x01] + noteBytes.dropFirst(), deterministic: false, roundTrip: false)
        // {"on", "body"} keys in reverse order ("body" before "on").
        let added = NoteAdded(on: id("revision"), body: "unsorted")
        lenient("NoteAdded with map keys not in deterministic order", NoteAdded.type,
                [0xA2] + CBOR.text("body").encoded + CBOR.text(added.body).encoded + CBOR.text("on").encoded + CBOR.text(added.on).encoded,
                deterministic: false)
        lenient("NoteDeleted with an unknown key (ignored)", NoteDeleted.type,
                CBOR.map(["note": text(id("note-1")), "x-later": .array([.int(-3), .bytes([0, 1, 2]), .null, .bool(true)])]).encoded, deterministic: true)
        lenient("SourceAdded with kind null (an optional null is absent)", SourceAdded.type,
                with(SourceAdded(name: "reuters", kind: nil), ["kind": .null]).encoded, deterministic: true)
        // Depth: the top-level map is depth 1; 30 nested arrays under a key put the integer at depth 32.
        func nested(_ n: Int) -> CBOR { (0..<n).reduce(CBOR.int(0)) { c, _ in .array([c]) } }
        lenient("NoteDeleted with an ignored value nested to depth 32", NoteDeleted.type,
                CBOR.map(["note": text(id("note-1")), "x": nested(30)]).encoded, deterministic: true)

        // Invalid: CBOR and framing.
        let noteAdded = NoteAdded(on: id("revision"), body: "text")
        let na = noteAdded.encoded
        invalid("indefinite-length map", NoteAdded.type,
                [0xBF] + CBOR.text("on").encoded + CBOR.text(noteAdded.on).encoded + CBOR.text("body").encoded + CBOR.text("text").encoded + [0xFF], "cbor")
        invalid("indefinite-length text string", NoteAdded.type,
                [0xA2] + CBOR.text("on").encoded + CBOR.text(noteAdded.on).encoded + CBOR.text("body").encoded + [0x7F, 0x62, 0x74, 0x65, 0x62, 0x78, 0x74, 0xFF], "cbor")
        invalid("a byte after the value", NoteAdded.type, na + [0x00], "cbor")
        invalid("truncated", NoteAdded.type, Array(na.dropLast()), "cbor")
        invalid("duplicate map key", NoteAdded.type,
                [0xA3] + CBOR.text("on").encoded + CBOR.text(noteAdded.on).encoded + CBOR.text("body").encoded + CBOR.text("a").encoded
                    + CBOR.text("body").encoded + CBOR.text("b").encoded, "cbor")
        let equivalentKeys: [UInt8] = CBOR.text("x\u{E9}").encoded + CBOR.int(1).encoded + CBOR.text("xe\u{301}").encoded + CBOR.int(2).encoded
        invalid("map keys that differ in bytes but are canonically equivalent (é, e + U+0301)", NoteAdded.type,
                [0xA4] + Array(na.dropFirst()) + equivalentKeys, "cbor")
        invalid("text string that is not UTF-8", NoteAdded.type,
                [0xA2] + CBOR.text("on").encoded + CBOR.text(noteAdded.on).encoded + CBOR.text("body").encoded + [0x62, 0xC3, 0x28], "cbor")
        invalid("text with an encoded surrogate (ED A0 80)", NoteAdded.type,
                [0xA2] + CBOR.text("on").encoded + CBOR.text(noteAdded.on).encoded + CBOR.text("body").encoded + [0x63, 0xED, 0xA0, 0x80], "cbor")
        invalid("text with an overlong encoding (C0 AF)", NoteAdded.type,
                [0xA2] + CBOR.text("on").encoded + CBOR.text(noteAdded.on).encoded + CBOR.text("body").encoded + [0x62, 0xC0, 0xAF], "cbor")
        invalid("a float under an unknown key", NoteAdded.type,
                [0xA3] + CBOR.text("x").encoded + [0xF9, 0x3C, 0x00] + Array(na.dropFirst()), "cbor")
        invalid("a tag under an unknown key", NoteAdded.type, [0xA3] + CBOR.text("x").encoded + [0xC1, 0x00] + Array(na.dropFirst()), "cbor")
        invalid("undefined (simple value 23) under an unknown key", NoteAdded.type, [0xA3] + CBOR.text("x").encoded + [0xF7] + Array(na.dropFirst()), "cbor")
        invalid("an integer above 2^63 − 1 under an unknown key", NoteAdded.type,
                [0xA3] + CBOR.text("x").encoded + [0x1B, 0x80, 0, 0, 0, 0, 0, 0, 0] + Array(na.dropFirst()), "cbor")
        invalid("a map key that is not text", NoteAdded.type, [0xA3, 0x01, 0x02] + Array(na.dropFirst()), "cbor")
        invalid("a value nested to depth 33", NoteDeleted.type, CBOR.map(["note": text(id("note-1")), "x": nested(31)]).encoded, "cbor")
        invalid("empty payload", NoteDeleted.type, [], "cbor")
        invalid("payload is an array, not a map", NoteDeleted.type, CBOR.array([text(id("note-1"))]).encoded, "not-a-map")
        invalid("payload is a text string, not a map", NoteDeleted.type, text(id("note-1")).encoded, "not-a-map")
        invalid("unknown type", "FutureThing", CBOR.map(["x": .int(1)]).encoded, "unknown-type")
        invalid("schema 0", NoteDeleted.type, noteBytes, "schema", schema: 0)
        invalid("schema newer than 1", NoteDeleted.type, noteBytes, "schema", schema: 2)

        // Invalid: keys and ids.
        invalid("NoteAdded without body", NoteAdded.type, with(noteAdded, ["body": nil]), "field")
        invalid("NoteAdded with body null (a required key)", NoteAdded.type, with(noteAdded, ["body": .null]), "field")
        invalid("NoteAdded with body as bytes", NoteAdded.type, with(noteAdded, ["body": .bytes(Array("text".utf8))]), "field")
        invalid("NoteAdded with an upper-case hex id", NoteAdded.type, with(noteAdded, ["on": text(noteAdded.on.uppercased())]), "id")
        invalid("NoteDeleted with a 63-digit id", NoteDeleted.type, with(note, ["note": text(String(note.note.dropLast()))]), "id")
        invalid("TagRemoved with an addition that is not an id", TagRemoved.type,
                with(TagRemoved(object: id("a"), tag: "t", additions: [id("b")]), ["additions": .array([text("b")])]), "id")
        invalid("ArticleIngested with places holding a number", ArticleIngested.type, with(article, ["places": .array([.int(1)])]), "field")

        // Invalid: articles.
        invalid("ArticleIngested whose sha256 is not the text's", ArticleIngested.type, with(article, ["text": text(text1 + " ")]), "sha256")
        invalid("ArticleIngested whose article id is not derived from sha256", ArticleIngested.type, with(article, ["article": text(article.sha256)]), "derived-id")
        invalid("ArticleRevised whose sha256 is not the text's", ArticleRevised.type, with(revised, ["sha256": text(id("not-the-text"))]), "sha256")
        invalid("ArticleRevised whose previous is its own sha256", ArticleRevised.type, with(revised, ["previous": text(revised.sha256)]), "previous")
        invalid("ArticleIngested with a candidate that is not a map", ArticleIngested.type,
                with(withCandidates, ["candidates": .array([text("date")])]), "candidates")
        invalid("CandidatesExtracted with rulesVersion 0", CandidatesExtracted.type,
                CandidatesExtracted(article: article.article, revision: article.sha256, rulesVersion: 0, candidates: []).cbor, "rules-version")

        // Invalid: labels.
        let tag = TagAdded(object: id("annotation-1"), tag: "t")
        invalid("TagAdded with surrounding spaces", TagAdded.type, with(tag, ["tag": text(" urgent ")]), "label")
        invalid("TagAdded with a trailing no-break space (U+00A0)", TagAdded.type, with(tag, ["tag": text("urgent\u{00A0}")]), "label")
        invalid("TagAdded with a leading ideographic space (U+3000)", TagAdded.type, with(tag, ["tag": text("\u{3000}urgent")]), "label")
        invalid("TagAdded ending in a zero-width space (U+200B counts as white space)", TagAdded.type, with(tag, ["tag": text("urgent\u{200B}")]), "label")
        invalid("TagAdded starting with a space and a combining mark (the first scalar is white space)", TagAdded.type,
                with(tag, ["tag": text(" \u{0301}x")]), "label")
        invalid("TagAdded ending in a line separator (U+2028)", TagAdded.type, with(tag, ["tag": text("urgent\u{2028}")]), "label")
        invalid("TagAdded with a control character", TagAdded.type, with(tag, ["tag": text("a\u{0007}b")]), "label")
        invalid("TagAdded with an empty tag", TagAdded.type, with(tag, ["tag": text("")]), "label")
        invalid("TagAdded with a 66-byte tag of 33 scalars", TagAdded.type, with(tag, ["tag": text(String(repeating: "é", count: 33))]), "label")
        invalid("LinkAdded with a relation ending in a newline", LinkAdded.type,
                with(LinkAdded(from: id("fact-2"), relation: "x", to: id("fact-1")), ["relation": text("corroborates\n")]), "label")
        invalid("SourceAdded with a kind with surrounding spaces", SourceAdded.type, with(SourceAdded(name: "reuters", kind: "x"), ["kind": text(" outlet")]), "label")
        invalid("TagRemoved with no additions", TagRemoved.type, with(TagRemoved(object: id("a"), tag: "t", additions: [id("b")]), ["additions": .array([])]), "list")
        invalid("LinkRemoved without additions", LinkRemoved.type, CBOR.map([:]), "list")

        // Invalid: fact records.
        func recordVector(_ name: String, _ change: [String: CBOR?]) {
            guard case .map(var r) = fullRecord.cbor else { fatalError() }
            for (k, v) in change { r[k] = v }
            invalid(name, FactAdded.type, with(factAdded, ["record": .map(r)]), "record")
        }
        recordVector("FactAdded with a two-line subject", ["subject": text("Azerbaijan\nPakistan")])
        recordVector("FactAdded without the record's object", ["object": nil])
        recordVector("FactAdded with an empty predicate", ["predicate": text("")])
        recordVector("FactAdded with a value with surrounding spaces", ["where": text(" Baku")])
        recordVector("FactAdded with a value starting with a zero-width space (U+200B)", ["where": text("\u{200B}Baku")])
        recordVector("FactAdded with a value starting with a space and a combining mark", ["where": text(" \u{0301}Baku")])
        recordVector("FactAdded with a line separator (U+2028) in a value", ["when": text("2021\u{2028}09")])
        recordVector("FactAdded with a value over 4,096 bytes", ["object": text(String(repeating: "x", count: 4097))])
        recordVector("FactAdded whose source is not an id", ["source": text("Reuters")])
        invalid("FactAdded whose record is not a map", FactAdded.type, with(factAdded, ["record": text(fullRecord.text)]), "record")
        invalid("FactAdded without evidence", FactAdded.type, with(factAdded, ["evidence": nil]), "field")
        invalid("FactAmended naming an unknown field", FactAmended.type, FactAmended(fact: id("fact-1"), field: "how", record: fullRecord).cbor, "field-name")
        invalid("FactAmended with a record missing subject", FactAmended.type, with(FactAmended(fact: id("fact-1"), field: "when", record: fullRecord), [
            "record": .map(["predicate": text("p"), "object": text("o")]),
        ]), "record")
        invalid("FactRetracted with an empty reason", FactRetracted.type, FactRetracted(fact: id("fact-1"), reason: "").cbor, "reason")

        // Invalid: selectors.
        func selectorVector(_ name: String, _ type: String, _ s: CBOR) {
            switch type {
            case FactAdded.type: invalid(name, type, with(factAdded, ["evidence": s]), "selector")
            case AnnotationAdded.type: invalid(name, type, with(annotation, ["target": s]), "selector")
            default: invalid(name, type, AnchorDecided(object: id("fact-1"), revision: revised.sha256, decision: "confirm", selector: dateSelector).cbor
                .replacing("selector", s), "selector")
            }
        }
        func sel(_ exact: String, _ start: Int64, _ end: Int64, prefix: String = "", suffix: String = "") -> CBOR {
            .map(["exact": text(exact), "prefix": text(prefix), "suffix": text(suffix), "start": .int(start), "end": .int(end)])
        }
        selectorVector("FactAdded whose evidence exact is not end − start scalars (UTF-8 bytes)", FactAdded.type, sel("Übungen", 33, 41))
        selectorVector("AnnotationAdded whose exact is not end − start scalars (one grapheme, two scalars)", AnnotationAdded.type, sel("🇦🇿", 68, 69))
        selectorVector("AnnotationAdded with a prefix of 33 scalars", AnnotationAdded.type, sel("x", 40, 41, prefix: String(repeating: "ü", count: 33)))
        selectorVector("FactAdded with a suffix of 33 scalars", FactAdded.type, sel("x", 40, 41, suffix: String(repeating: "a", count: 33)))
        selectorVector("AnchorDecided with start = end", AnchorDecided.type, sel("", 5, 5))
        selectorVector("AnchorDecided with a negative start", AnchorDecided.type, sel("ab", -1, 1))
        selectorVector("AnnotationAdded with end beyond 4,194,304", AnnotationAdded.type, sel("ab", 4_194_303, 4_194_305))
        selectorVector("FactAdded whose selector lacks prefix", FactAdded.type, .map(["exact": text("x"), "suffix": text(""), "start": .int(1), "end": .int(2)]))

        // Invalid: derived ids, grades, decisions, resolutions.
        var notDerived = SourceAdded(name: "Reuters", kind: nil)
        notDerived.source = Bytes32.sha256(Array("gloss/source\0Reuters".utf8)).hex
        invalid("SourceAdded whose id uses the name without lower-casing", SourceAdded.type, notDerived.cbor, "derived-id")
        notDerived.source = id("source-x")
        invalid("SourceAdded whose id is not derived from the name", SourceAdded.type, notDerived.cbor, "derived-id")
        invalid("SourceGraded reliability G", SourceGraded.type, SourceGraded(source: source.source, reliability: "G", reason: nil).cbor, "grade")
        invalid("SourceGraded reliability lower-case b", SourceGraded.type, SourceGraded(source: source.source, reliability: "b", reason: nil).cbor, "grade")
        invalid("FactGraded credibility 0", FactGraded.type, FactGraded(fact: id("fact-1"), credibility: "0", reason: nil).cbor, "grade")
        invalid("FactGraded credibility as an integer", FactGraded.type, CBOR.map(["fact": text(id("fact-1")), "credibility": .int(2)]), "field")
        invalid("MemberAdded role owner", MemberAdded.type, with(MemberAdded(analyst: "bo", role: .analyst, key: memberKey), ["role": text("owner")]), "role")
        invalid("RoleChanged role Admin", RoleChanged.type, with(RoleChanged(analyst: "bo", role: .admin), ["role": text("Admin")]), "role")
        invalid("MemberAdded key of 63 digits", MemberAdded.type, with(MemberAdded(analyst: "bo", role: .analyst, key: memberKey), ["key": text(String(memberKey.hex.dropLast()))]), "id")
        invalid("DeviceEnrolled analyst with surrounding spaces", DeviceEnrolled.type, with(DeviceEnrolled(analyst: "bo", key: memberKey), ["analyst": text(" bo")]), "label")
        invalid("TeamCreated without a name", TeamCreated.type, with(TeamCreated(name: "x", analyst: "ana"), ["name": nil]), "field")
        invalid("PayloadRedacted event of 63 digits", PayloadRedacted.type, CBOR.map(["event": text(String(id("note-1").dropLast())), "reason": text("r")]), "id")
        invalid("KeyRevoked without a reason", KeyRevoked.type, with(KeyRevoked(key: memberKey, reason: "r"), ["reason": nil]), "field")
        invalid("AnchorDecided decision move", AnchorDecided.type,
                AnchorDecided(object: id("fact-1"), revision: revised.sha256, decision: "move", selector: dateSelector).cbor, "decision")
        let resolution = ConflictResolved(conflict: id("conflict-body"), object: id("note-1"), field: "body", candidates: two,
                                          value: "v", deleted: false, picked: nil, reason: nil)
        invalid("ConflictResolved with both value and deleted", ConflictResolved.type, with(resolution, ["deleted": .bool(true)]), "resolution")
        invalid("ConflictResolved with neither value nor deleted", ConflictResolved.type, with(resolution, ["value": nil]), "resolution")
        invalid("ConflictResolved with no candidates", ConflictResolved.type, with(resolution, ["candidates": .array([])]), "resolution")
        invalid("ConflictResolved with an empty field name", ConflictResolved.type, with(resolution, ["field": text("")]), "resolution")

        // Every entry must agree with this build's decoder.
        for e in entries {
            let decoded = DecodedPayload(type: e.type, schema: e.schema, payload: e.bytes)
            let understood: Bool
            if case .notUnderstood = decoded { understood = false } else { understood = true }
            precondition(understood == (e.reason == nil), "payload vector \(e.name): DecodedPayload says understood = \(understood)")
            if e.reason == nil, e.roundTrip { precondition(reencoded(decoded) == e.bytes, "payload vector \(e.name) does not round-trip") }
        }
        precondition(Set(entries.filter { $0.reason == nil }.map(\.type)) == Set(DecodedPayload.known.keys), "a known type has no valid vector")

        func entryJSON(_ e: Entry) -> JSON {
            var kv: [(String, JSON)] = [("name", .string(e.name)), ("type", .string(e.type)), ("schema", .int(Int64(e.schema))),
                                        ("understood", .bool(e.reason == nil))]
            if let reason = e.reason {
                kv.append(("reason", .string(reason)))
                kv.append(("cbor", .string(Hex.encode(e.bytes))))
                return .object(kv)
            }
            kv.append(("deterministic", .bool(e.deterministic)))
            kv.append(("roundTrip", .bool(e.roundTrip)))
            kv.append(("cbor", .string(Hex.encode(e.bytes))))
            kv.append(("fields", JSON(try! CBOR(decoding: e.bytes))))
            switch DecodedPayload(type: e.type, schema: e.schema, payload: e.bytes) {
            case .factAdded(let p): kv.append(("recordText", .string(p.record.text)))
            case .factAmended(let p): kv.append(("recordText", .string(p.record.text)))
            default: break
            }
            return .object(kv)
        }
        return .object([
            ("description", .string("Golden payload vectors for Protocol/02-payloads.md (schema 1). Generated by GlossTestSupport/PayloadVectors.swift; GLOSS_WRITE_VECTORS=1 swift test --filter PayloadVector rewrites this file.")),
            ("valid", .array(entries.filter { $0.reason == nil }.map(entryJSON))),
            ("invalid", .array(entries.filter { $0.reason != nil }.map(entryJSON))),
        ])
    }

    /// The decoded payload encoded again (`.cbor.encoded`); nil when not understood.
    public static func reencoded(_ d: DecodedPayload) -> [UInt8]? {
        switch d {
        case .articleIngested(let p): p.encoded
        case .articleRevised(let p): p.encoded
        case .noteAdded(let p): p.encoded
        case .noteEdited(let p): p.encoded
        case .noteDeleted(let p): p.encoded
        case .conflictResolved(let p): p.encoded
        case .candidatesExtracted(let p): p.encoded
        case .tagAdded(let p): p.encoded
        case .tagRemoved(let p): p.encoded
        case .linkAdded(let p): p.encoded
        case .linkRemoved(let p): p.encoded
        case .factAdded(let p): p.encoded
        case .factAmended(let p): p.encoded
        case .factRetracted(let p): p.encoded
        case .sourceAdded(let p): p.encoded
        case .sourceGraded(let p): p.encoded
        case .factGraded(let p): p.encoded
        case .annotationAdded(let p): p.encoded
        case .anchorDecided(let p): p.encoded
        case .teamCreated(let p): p.encoded
        case .memberAdded(let p): p.encoded
        case .deviceEnrolled(let p): p.encoded
        case .roleChanged(let p): p.encoded
        case .keyRevoked(let p): p.encoded
        case .memberRemoved(let p): p.encoded
        case .payloadRedacted(let p): p.encoded
        case .notUnderstood: nil
        }
    }
}

extension CBOR {
    /// This map with `key` set to `value`.
    func replacing(_ key: String, _ value: CBOR) -> CBOR {
        guard case .map(var m) = self else { fatalError() }
        m[key] = value
        return .map(m)
    }
}
