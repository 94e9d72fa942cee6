import Foundation
import GRDB
import GlossEngine
import GlossIngest
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// Validly signed events that disagree with each other about one row, found by an audit
/// (2026-12-05): whatever they say, every replica holding them shows the same rows, in every
/// arrival order (DESIGN: projections independent of arrival order), and nothing they hold makes a
/// later command trap.
@Suite struct HostileAgreementTests {
    let tmp = TempDir("gloss-agree")
    let clock = MockClock(start: 1_624_800_000_000, step: 1)
    let t0 = HybridTime(milliseconds: 1_624_700_000_000).raw
    func replica(_ name: String) throws -> Replica { try Replica.create(in: tmp.sub(name), analyst: name, key: ReplicaKey(), clock: clock.function) }

    func signed(_ key: ReplicaKey, seq: UInt64 = 1, prev: EventID = .zero, at ms: UInt64, deps: [(ReplicaID, UInt64)] = [],
                _ payload: some EventPayload) throws -> SignedEvent {
        try TrustBoundaryTests.signed(key, seq: seq, prev: prev, time: t0 + ms * 65_536, deps: deps, payload)
    }

    /// `events` delivered one by one forwards and backwards, and in one window both ways, each into
    /// a new replica: one digest (maintained = recomputed), and the replicas to look at.
    func everyOrder(_ label: String, _ events: [SignedEvent]) throws -> [Replica] {
        let orders: [[[SignedEvent]]] = [events.map { [$0] }, events.reversed().map { [$0] }, [events], [events.reversed()]]
        var replicas: [Replica] = []
        for (i, windows) in orders.enumerated() {
            let r = try replica("\(label)-\(i)")
            for w in windows { _ = try r.store.applyRemote(w, now: clock.read()) }
            #expect(try r.digest(recompute: true) == r.digest(), "\(label), order \(i)")
            replicas.append(r)
        }
        let digests = try replicas.map { try $0.digest() }
        #expect(Set(digests).count == 1, "\(label): arrival orders give different projections \(digests.map { $0.prefix(8) })")
        return replicas
    }

    @Test func twoIngestsOfOneTextShowTheEarliestsDateDatelineAndPlaces() throws {
        defer { tmp.remove() }
        let text = "ISLAMABAD, June 26 — The talks resumed.\nMore text."
        let honest = ArticleIngested(text: text, date: "2021-06-26", dateline: "ISLAMABAD", places: ["ISLAMABAD"], filename: "a.txt")
        let liar = ArticleIngested(text: text, date: "1999-01-01", dateline: "EVIL", places: ["EVIL", "ELSEWHERE"], filename: "b.txt")
        let events = [try signed(ReplicaKey(), at: 1000, honest), try signed(ReplicaKey(), at: 2000, liar)]
        for r in try everyOrder("dates", events) {
            let a = try r.store.read { try Row.fetchOne($0, sql: "SELECT date, dateline, places FROM articles") }
            #expect(a?[0] as String? == "2021-06-26" && a?[1] as String? == "ISLAMABAD" && a?[2] as String? == "[\"ISLAMABAD\"]", "\(String(describing: a))")
            let v = try r.store.read { try Row.fetchOne($0, sql: "SELECT date, dateline, places FROM article_revisions") }
            #expect(v?[0] as String? == "2021-06-26" && v?[1] as String? == "ISLAMABAD" && v?[2] as String? == "[\"ISLAMABAD\"]", "\(String(describing: v))")
        }
    }

    /// `places` is stored as the bytes Protocol/04 names (the one JSON writer's compact form), not a
    /// platform library's: Foundation's `JSONSerialization` wrote a slash as `\/` on Linux. A peer's
    /// places are not checked on receipt, so they can hold anything a text can.
    @Test func placesAreStoredAsTheProtocolsJSONBytes() throws {
        defer { tmp.remove() }
        let places = ["A/B", "tab\tquote\"back\\", "über", "\u{7f}\u{2028}", "nul\u{1}"]
        let want = #"["A/B","tab\tquote\"back\\","über","\#u{7f}\#u{2028}","nul\u0001"]"#
        let ingest = ArticleIngested(text: "Some text.", date: nil, dateline: "A/B", places: places, filename: nil)
        let empty = ArticleIngested(text: "Other text.", date: nil, dateline: nil, places: [], filename: nil)
        let r = try replica("places")
        _ = try r.store.applyRemote([try signed(ReplicaKey(), at: 1000, ingest), try signed(ReplicaKey(), at: 1001, empty)], now: clock.read())
        let stored = try r.store.read { try String.fetchSet($0, sql: "SELECT places FROM articles UNION ALL SELECT places FROM article_revisions") }
        #expect(stored == [want, "[]"], "\(stored)")
    }

    /// Two extractions of one revision by one rules version: the rows are all one event's (the
    /// smallest id), never a mix, whichever arrives first.
    @Test func twoDifferentExtractionsOfOneRevisionShowOneWhole() throws {
        defer { tmp.remove() }
        let text = "BAKU, June 26 — Officials from Pakistan and Azerbaijan met in Baku on Monday.\n\"We agreed,\" said Ali Khan, a minister."
        var ingest = ArticleIngested(text: text, date: "2021-06-26", dateline: "BAKU", places: ["BAKU"], filename: "a.txt")
        let genuine = Extraction.extract(text: text, articleDate: ingest.date)
        try #require(genuine.count >= 3)
        ingest.rulesVersion = Int64(Extraction.rulesVersion)
        ingest.candidates = genuine.map(\.cbor)
        var fake = genuine[0]
        fake.kind = "person"; fake.value = "Evil Person"
        let lie = CandidatesExtracted(article: ingest.article, revision: ingest.sha256, rulesVersion: Int64(Extraction.rulesVersion), candidates: [fake.cbor])
        // Several liars, so that some have a smaller event id than the ingest and some a greater one.
        var events = [try signed(ReplicaKey(), at: 1000, ingest)]
        for i in 0..<6 { events.append(try signed(ReplicaKey(), at: 2000 + UInt64(i), lie)) }
        let smallest = events.map(\.id.hex).min()!
        // Extractions that found nothing (with any id) change nothing, in any order.
        let empty = CandidatesExtracted(article: ingest.article, revision: ingest.sha256, rulesVersion: Int64(Extraction.rulesVersion), candidates: [])
        for i in 0..<6 { events.append(try signed(ReplicaKey(), at: 3000 + UInt64(i), empty)) }
        let expected = smallest == events[0].id.hex ? genuine.count : 1
        for r in try everyOrder("candidates", events) {
            let rows = try r.store.read { try Row.fetchAll($0, sql: "SELECT event, value FROM candidates ORDER BY ordinal") }
            #expect(Set(rows.map { $0[0] as String }) == [smallest], "rows of more than one extraction")
            #expect(rows.count == expected)
        }
    }

    /// Concurrent edits whose texts are canonically equivalent but differ in bytes (NFC, NFD).
    @Test func canonicallyEquivalentConcurrentTextsShowTheSameBytesEverywhere() throws {
        defer { tmp.remove() }
        let creator = ReplicaKey()
        let added = try signed(creator, at: 1000, NoteAdded(on: String(repeating: "a", count: 64), body: "cafe"))
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        #expect(nfc == nfd && Array(nfc.utf8) != Array(nfd.utf8))
        let a = try signed(ReplicaKey(), at: 2000, deps: [(creator.replicaID, 1)], NoteEdited(note: added.id.hex, body: nfc))
        let b = try signed(ReplicaKey(), at: 2001, deps: [(creator.replicaID, 1)], NoteEdited(note: added.id.hex, body: nfd))
        var shown: [Data?] = []
        for (i, order) in [[added, a, b], [added, b, a]].enumerated() {
            shown += try everyOrder("nfc-\(i)", order).map { r in try r.store.read { try Data.fetchOne($0, sql: "SELECT CAST(body AS BLOB) FROM notes") } }
        }
        #expect(Set(shown).count == 1 && [Data(nfc.utf8), Data(nfd.utf8)].contains(shown[0]), "\(shown.map { $0.map { Array($0) } ?? [] })")
    }

    /// Two resolutions naming one made-up conflict id for different notes: the resolved row is
    /// every column of the greatest resolution event's.
    @Test func resolutionsSharingAMadeUpConflictIdAgree() throws {
        defer { tmp.remove() }
        let creator = ReplicaKey()
        let n1 = try signed(creator, at: 1000, NoteAdded(on: String(repeating: "a", count: 64), body: "one"))
        let n2 = try signed(creator, seq: 2, prev: n1.id, at: 1001, NoteAdded(on: String(repeating: "a", count: 64), body: "two"))
        let fake = String(repeating: "f", count: 64)
        let r1 = try signed(ReplicaKey(), at: 2000, deps: [(creator.replicaID, 2)],
                            ConflictResolved(conflict: fake, object: n1.id.hex, field: "body", candidates: [n1.id.hex], value: "r1", deleted: false, picked: nil, reason: nil))
        let r2 = try signed(ReplicaKey(), at: 2001, deps: [(creator.replicaID, 2)],
                            ConflictResolved(conflict: fake, object: n2.id.hex, field: "body", candidates: [n1.id.hex, n2.id.hex], value: "r2", deleted: false, picked: nil, reason: nil))
        let greatest = max(r1.id.hex, r2.id.hex)
        let object = greatest == r1.id.hex ? n1.id.hex : n2.id.hex
        for r in try everyOrder("resolutions", [n1, n2, r1, r2]) {
            let row = try r.store.read { try Row.fetchOne($0, sql: "SELECT object, resolution_event, candidates FROM conflicts WHERE conflict = ?", arguments: [fake]) }
            #expect(row?[0] as String? == object && row?[1] as String? == greatest, "\(String(describing: row))")
            #expect(row?[2] as Int? == (greatest == r1.id.hex ? 1 : 2))
        }
    }

    @Test func anIngestWithAMalformedCandidateWritesNoArticle() throws {
        defer { tmp.remove() }
        var ingest = ArticleIngested(text: "Some text.", date: nil, dateline: nil, places: [], filename: nil)
        ingest.rulesVersion = 1
        ingest.candidates = [.map(["kind": .text("date"), "value": .text("x"), "rule": .text("r")])]   // no selector
        let e = try signed(ReplicaKey(), at: 1000, ingest)
        let r = try replica("malformed")
        _ = try r.store.applyRemote([e], now: clock.read())
        #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM articles") } == 0)
        #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM article_revisions") } == 0)
        #expect(try r.store.read { try String.fetchOne($0, sql: "SELECT reason FROM events_not_understood WHERE event = ?", arguments: [e.id.hex]) }?.contains("candidate") == true)
    }

    /// A decision on the current revision whose span lies outside the text (or is not the text's)
    /// is not shown as made; confirming the anchor afterwards refuses or works, never traps.
    @Test(arguments: ["retarget", "confirm"])
    func anAnchorDecisionWithASpanOutsideTheTextIsReanchored(_ decision: String) throws {
        defer { tmp.remove() }
        let r = try replica("anchor-\(decision)")
        let text = "ISLAMABAD, June 26 — The talks resumed in the capital on Saturday."
        let ingest = try signed(ReplicaKey(), at: 1000, ArticleIngested(text: text, date: nil, dateline: nil, places: [], filename: nil))
        _ = try r.store.applyRemote([ingest], now: clock.read())
        let article = try r.store.read { try String.fetchOne($0, sql: "SELECT article FROM articles")! }
        let revision = try r.store.read { try String.fetchOne($0, sql: "SELECT current_revision FROM articles")! }
        let annotation = try r.annotate(article: article, quote: "talks resumed", comment: nil, tags: []).id
        let mallory = ReplicaKey()
        let lies = [SpanSelector(exact: "x", prefix: "", suffix: "", start: 4_000_000, end: 4_000_001),
                    SpanSelector(exact: "zzzz", prefix: "", suffix: "", start: 4, end: 8)]
        var prev = EventID.zero, seen: UInt64 = 0   // deps are deltas: an entry only when it grows
        for (i, lie) in lies.enumerated() {
            // The decision saw the annotation (the replica's own seq 1).
            // After everything held (the replica's own confirmation included): the decision in force.
            let latest = try r.store.read { try Int64.fetchOne($0, sql: "SELECT max(time) FROM events")! }
            let own = try r.store.read { try UInt64(Int64.fetchOne($0, sql: "SELECT head_seq FROM feeds WHERE replica = ?", arguments: [Data(r.replicaID.raw.bytes)])!) }
            let d = try TrustBoundaryTests.signed(mallory, seq: UInt64(i + 1), prev: prev, time: UInt64(latest) + 65_536, deps: own > seen ? [(r.replicaID, own)] : [],
                                                  AnchorDecided(object: annotation, revision: revision, decision: decision, selector: lie))
            prev = d.id; seen = own
            let s = try r.store.applyRemote([d], now: clock.read())
            #expect(s.applied == 1, "lie \(i): \(s)")
            let row = try r.store.read { try Row.fetchOne($0, sql: "SELECT status, exact FROM anchors WHERE object = ?", arguments: [annotation]) }
            #expect(row?[0] as String? != "retargeted" && row?[0] as String? != "confirmed", "lie \(i): \(String(describing: row))")
            #expect(row?[1] as String? != lie.exact, "lie \(i): the anchors row shows a span that is not in the text")
            do { _ = try r.confirmAnchor(annotation) } catch let e as GlossError { #expect(e.code == .refused) }
        }
        #expect(try r.digest(recompute: true) == r.digest())
    }

    /// A fact from a received candidate whose span is not its revision's text (empty, another
    /// text, or context longer than the protocol's) is refused when it is written, instead of
    /// becoming an event every replica, its author's included, holds as not understood; a genuine
    /// candidate gives a fact that is shown.
    @Test func aFactFromAHostileCandidateIsRefusedAndAGenuineOneIsShown() throws {
        defer { tmp.remove() }
        let r = try replica("from-candidate")
        let text = "BAKU, June 26 — Officials met in Baku on Monday.\nMore text."
        let ingest = ArticleIngested(text: text, date: "2021-06-26", dateline: "BAKU", places: ["BAKU"], filename: nil)
        _ = try r.store.applyRemote([try signed(ReplicaKey(), at: 1000, ingest)], now: clock.read())
        let long = String(repeating: "p", count: 100)
        let lies = [TextSelector(exact: "", prefix: "", suffix: "", start: 5, end: 5),
                    TextSelector(exact: "Bonn", prefix: "", suffix: "", start: 30, end: 34),
                    TextSelector(exact: String(text.unicodeScalars.prefix(4).map(Character.init)), prefix: long, suffix: long, start: 0, end: 4)]
        var genuine = Extraction.extract(text: text, articleDate: ingest.date)
        try #require(!genuine.isEmpty)
        let candidates = lies.map { Candidate(kind: "place", value: "Somewhere", precision: nil, rule: "r", selector: $0).cbor } + [genuine.removeFirst().cbor]
        _ = try r.store.applyRemote([try signed(ReplicaKey(), at: 2000,
            CandidatesExtracted(article: ingest.article, revision: ingest.sha256, rulesVersion: 99, candidates: candidates))], now: clock.read())
        let ids = try r.store.read { try String.fetchAll($0, sql: "SELECT candidate FROM candidates WHERE rules_version = 99 ORDER BY ordinal") }
        try #require(ids.count == candidates.count)
        func input(_ id: String) -> FactInput {
            var input = FactInput(); input.fromCandidate = id; input.subject = "s"; input.predicate = "p"; input.object = "o"
            return input
        }
        // An empty span and a span whose text is not there: refused.
        for id in ids.prefix(2) { #expect(throws: GlossError.self) { try r.addFact(input(id)) } }
        // A span that is there, with a context longer than the protocol allows, and a genuine
        // candidate: facts with the text's own selector, shown.
        for id in ids.suffix(2) {
            let fact = try r.addFact(input(id))
            #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM facts WHERE fact = ?", arguments: [fact.id]) } == 1)
        }
        #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events_not_understood") } == 0)
    }

    /// An article whose `date` holds a year far beyond any calendar: the STIX export uses the
    /// ingest time instead of trapping in the date arithmetic.
    @Test func anExportOfAnArticleWithAnAbsurdDateWorks() throws {
        defer { tmp.remove() }
        let r = try replica("export")
        for (i, date) in ["999999999999-01-01", "2021-13-01", "2021-02-30", "0000-00-00", "-2021-01-01", "2021-6-26x"].enumerated() {
            let e = try signed(ReplicaKey(), at: 1000 + UInt64(i), ArticleIngested(text: "Text number \(i).", date: date, dateline: nil, places: [], filename: nil))
            _ = try r.store.applyRemote([e], now: clock.read())
        }
        let out = tmp.sub("out.json")
        _ = try r.export("stix", to: out.path, article: nil)
        let json = try String(contentsOf: out, encoding: .utf8)
        #expect(json.contains("\"published\""))
        #expect(!json.contains("\"published\": \"2021-03-"), "an impossible day was rolled over into the next month")
    }

    /// An annotation concurrent with its article's first ingest (found by `SemanticLieTests`,
    /// 2026-12-06): arriving first, it waited for no anchor when the ingest came, so only replicas
    /// that met the ingest first showed its `anchors` row. Every order shows it now.
    @Test func anAnnotationArrivingBeforeItsArticleIsAnchoredWhenTheArticleArrives() throws {
        defer { tmp.remove() }
        let text = "BAKU, June 26 — Officials met in Baku on Monday."
        let ingest = ArticleIngested(text: text, date: nil, dateline: "BAKU", places: [], filename: nil)
        let span = SpanSelector(exact: "Officials met", prefix: "BAKU, June 26 — ", suffix: " in Baku", start: 16, end: 29)
        let annotation = try signed(ReplicaKey(), at: 2000, AnnotationAdded(article: ingest.article, revision: ingest.sha256, target: span, comment: "who?"))
        let events = [try signed(ReplicaKey(), at: 1000, ingest), annotation]
        for r in try everyOrder("anchor", events) {
            let row = try r.store.read { try Row.fetchOne($0, sql: "SELECT revision, status, sel_start FROM anchors WHERE object = ?", arguments: [annotation.id.hex]) }
            #expect(row?[0] as String? == ingest.sha256 && row?[2] as Int? == 16, "\(String(describing: row))")
        }
    }

    /// A key's own redaction in the frozen part of its forked feed (found by `SemanticLieTests`,
    /// 2026-12-06): a replica that applied it before it met the other branch purged the payload for
    /// good; one that met the other branch first kept the redaction as evidence only and showed the
    /// note. Every order purges now.
    @Test func aRedactionInTheFrozenPartOfAForkPurgesInEveryOrder() throws {
        defer { tmp.remove() }
        let key = ReplicaKey()
        let note = try signed(key, at: 1000, NoteAdded(on: String(repeating: "a", count: 64), body: "withdrawn words"))
        let redaction = try signed(key, seq: 2, prev: note.id, at: 2000, PayloadRedacted(event: note.id, reason: "mine"))
        let otherBranch = try signed(key, seq: 2, prev: note.id, at: 2001, NoteAdded(on: String(repeating: "a", count: 64), body: "the other copy"))
        for (i, order) in [[note, redaction, otherBranch], [note, otherBranch, redaction], [otherBranch, redaction, note]].enumerated() {
            for r in try everyOrder("frozen-redaction-\(i)", order) {
                #expect(try r.store.read { try Bool.fetchOne($0, sql: "SELECT payload IS NULL FROM events WHERE id = ?", arguments: [Data(note.id.raw.bytes)]) } == true)
                #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM notes") } == 0, "the redacted note is shown")
                #expect(try r.store.read { try String.fetchOne($0, sql: "SELECT state FROM feeds WHERE head_seq = 1") } == "forked")
            }
        }
    }

    /// A key's own redaction of an event that is itself in the frozen part (the note at seq 2, its
    /// redaction at seq 3, another copy's event at seq 2): a replica that applied both before it met
    /// the fork purged the note's payload, which then went to the evidence without it; one that met
    /// the fork first kept the note's text in its evidence (found 2026-12-07). Every order purges it.
    @Test func aRedactionOfAnEventInTheFrozenPartPurgesItsEvidenceCopyInEveryOrder() throws {
        defer { tmp.remove() }
        let key = ReplicaKey()
        let first = try signed(key, at: 1000, NoteAdded(on: String(repeating: "a", count: 64), body: "kept"))
        let note = try signed(key, seq: 2, prev: first.id, at: 2000, NoteAdded(on: String(repeating: "a", count: 64), body: "withdrawn words"))
        let redaction = try signed(key, seq: 3, prev: note.id, at: 3000, PayloadRedacted(event: note.id, reason: "mine"))
        let otherCopy = try signed(key, seq: 2, prev: first.id, at: 2001, NoteAdded(on: String(repeating: "a", count: 64), body: "the other copy"))
        for (i, order) in [[first, note, redaction, otherCopy], [first, otherCopy, note, redaction], [first, note, otherCopy, redaction]].enumerated() {
            for r in try everyOrder("frozen-target-\(i)", order) {
                let copies = try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM forks WHERE id = ? AND payload IS NOT NULL", arguments: [Data(note.id.raw.bytes)]) }
                #expect(copies == 0, "order \(i): the frozen copy keeps the redacted text")
                #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM notes") } == 1)
            }
        }
    }

    /// The same redaction met as evidence *before* its target, both in the frozen part (the fork at
    /// seq 2, the note at 3, its redaction at 4): the redaction found no target and purged nothing,
    /// and the note's evidence copy, arriving next, kept the withdrawn words — while a replica that
    /// met the note first purged them. The redaction now records its target (`forks.wait_id`) and
    /// purges it when it arrives.
    @Test func aRedactionMetAsEvidenceBeforeItsTargetPurgesItWhenItArrives() throws {
        defer { tmp.remove() }
        let key = ReplicaKey(), on = String(repeating: "a", count: 64)
        let first = try signed(key, at: 1000, NoteAdded(on: on, body: "kept"))
        let mid = try signed(key, seq: 2, prev: first.id, at: 2000, NoteAdded(on: on, body: "one copy"))
        let otherCopy = try signed(key, seq: 2, prev: first.id, at: 2001, NoteAdded(on: on, body: "the other copy"))
        let note = try signed(key, seq: 3, prev: mid.id, at: 3000, NoteAdded(on: on, body: "withdrawn words"))
        let redaction = try signed(key, seq: 4, prev: note.id, at: 4000, PayloadRedacted(event: note.id, reason: "mine"))
        for (i, order) in [[first, mid, otherCopy, redaction, note], [first, otherCopy, mid, redaction, note], [first, mid, note, redaction, otherCopy]].enumerated() {
            for r in try everyOrder("evidence-before-target-\(i)", order) {
                let copies = try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM forks WHERE id = ? AND payload IS NOT NULL", arguments: [Data(note.id.raw.bytes)]) }
                #expect(copies == 0, "order \(i): the frozen copy keeps the redacted text")
                #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM redacted_events WHERE id = ?", arguments: [Data(note.id.raw.bytes)]) } == 1)
                #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM forks WHERE wait_id IS NOT NULL OR wait_replica IS NOT NULL") } == 0)
                #expect(try PendingWaitTests.endedWaits(r.store, now: clock.read()).isEmpty)
            }
        }
    }

    /// An event of the frozen part that a replica judged before it found the fork (here a lie: its
    /// deps entry did not grow, so it was quarantined) stayed in `quarantine` while replicas that met
    /// the fork first kept it as evidence (found by `SemanticLieTests`, seed 8752643629447120810,
    /// 2026-12-07). Quarantined events from the fork seq on become evidence as waiting ones do.
    @Test func anEventQuarantinedBeforeTheForkWasFoundBecomesEvidence() throws {
        defer { tmp.remove() }
        let other = try signed(ReplicaKey(), at: 500, NoteAdded(on: String(repeating: "a", count: 64), body: "another feed"))
        let key = ReplicaKey(), on = String(repeating: "a", count: 64)
        let first = try signed(key, at: 1000, NoteAdded(on: on, body: "first"))
        let second = try signed(key, seq: 2, prev: first.id, at: 2000, deps: [(other.envelope.replica, 1)], NoteAdded(on: on, body: "one copy"))
        let lie = try signed(key, seq: 3, prev: second.id, at: 3000, deps: [(other.envelope.replica, 1)], NoteAdded(on: on, body: "deps that did not grow"))
        let otherCopy = try signed(key, seq: 2, prev: first.id, at: 2001, NoteAdded(on: on, body: "the other copy"))
        var held: Set<String> = []
        for (i, order) in [[other, first, second, lie, otherCopy], [other, first, second, otherCopy, lie], [other, first, otherCopy, second, lie]].enumerated() {
            for r in try everyOrder("quarantined-before-fork-\(i)", order) {
                held.insert(try r.store.read { db in
                    try ["quarantine", "forks", "events"].map { t in
                        t + ": " + (try String.fetchAll(db, sql: "SELECT lower(hex(substr(id, 1, 4))) FROM \(t) ORDER BY id")).joined(separator: " ")
                    }.joined(separator: "; ")
                })
            }
        }
        #expect(held.count == 1, "orders hold different events: \(held.sorted())")
        #expect(held.first?.contains("quarantine: ;") == true, "\(held)")
    }

    /// The lie beside it: a forked key's redaction of another key's note, met as evidence, purges
    /// nothing in any order (without a team only the key that wrote an event may redact it).
    @Test func aFrozenRedactionOfAnotherKeysEventPurgesNothing() throws {
        defer { tmp.remove() }
        let note = try signed(ReplicaKey(), at: 1000, NoteAdded(on: String(repeating: "a", count: 64), body: "someone else's words"))
        let liar = ReplicaKey()
        let x = try signed(liar, at: 1100, NoteAdded(on: String(repeating: "a", count: 64), body: "x"))
        let y = try signed(liar, at: 1101, NoteAdded(on: String(repeating: "a", count: 64), body: "y"))
        let redaction = try signed(liar, seq: 2, prev: x.id, at: 2000, deps: [(note.envelope.replica, 1)], PayloadRedacted(event: note.id, reason: "lie"))
        for (i, order) in [[note, x, y, redaction], [note, redaction, x, y]].enumerated() {
            for r in try everyOrder("frozen-lie-\(i)", order) {
                #expect(try r.store.read { try Bool.fetchOne($0, sql: "SELECT payload IS NULL FROM events WHERE id = ?", arguments: [Data(note.id.raw.bytes)]) } == false)
                #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM redacted_events") } == 0)
            }
        }
    }

    /// One text ingested as an article on one replica and recorded as another article's revision
    /// on another, earlier (found by a black-box audit, 2026-12-06): the article of the later ingest
    /// has no revision of its own (the earliest event decides), and the STIX export trapped on its
    /// missing newest-revision time. It exports, alike in every order.
    @Test func anArticleWhoseTextIsAnotherArticlesRevisionExports() throws {
        defer { tmp.remove() }
        let first = ArticleIngested(text: "BAKU, June 26 — First text.", date: nil, dateline: "BAKU", places: [], filename: nil)
        let second = ArticleIngested(text: "BAKU, June 26 — Second text.", date: nil, dateline: "BAKU", places: [], filename: nil)
        let revised = ArticleRevised(article: first.article, previous: first.sha256, revision: second)
        let a = ReplicaKey()
        let e1 = try signed(a, at: 1000, first)
        let e2 = try signed(a, seq: 2, prev: e1.id, at: 2000, revised)
        let e3 = try signed(ReplicaKey(), at: 3000, second)
        var exports: Set<String> = []
        for r in try everyOrder("own-revisionless", [e1, e2, e3]) {
            #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT revisions FROM articles WHERE article = ?", arguments: [second.article]) } == 0)
            let out = tmp.sub("stix-\(exports.count)-\(UUID().uuidString.prefix(4)).json")
            _ = try r.export("stix", to: out.path, article: nil)
            exports.insert(try String(contentsOf: out, encoding: .utf8))
            _ = try r.stixBundle(article: second.article)
        }
        #expect(exports.count == 1, "the exports differ by arrival order")
    }
}
