import Foundation
import GlossEngine
import GlossIngest
import GlossJSON
import GlossModel
import GlossSync

/// Generates a realistic, signed, causally consistent history of a given shape straight into a
/// bundle file (`gloss bench generate`), streaming: events are signed and written as they are made,
/// never held in memory (only the ids of articles and notes are kept, to edit and annotate them).
///
/// The shape: `replicas` analysts (deterministic keys from the seed) work in bursts of a few to a
/// few dozen events; before a burst an analyst usually syncs (learns every feed's head), so feeds
/// are concurrent and carry real deps. Each event is an article ingest (with this build's
/// extraction candidates, as `gloss ingest` records them), a note on an article the analyst can
/// see, an edit of a note the analyst can see (the overwrite ratio; concurrent edits of one note
/// merge or conflict), or an annotation. Hybrid times follow one simulated wall clock (a few
/// seconds between events), so every event is later than its causal past.
///
/// Annotations: three in four are `AnnotationAdded` spans of a recent article; the others are a
/// `TagAdded` on an article or a `LinkAdded` from a note to an article. See `makeAnnotation`.
public struct HistoryGenerator {
    public struct Shape: Sendable, Equatable {
        public var replicas = 20
        public var articles = 2_000
        public var notes = 47_000
        public var annotations = 20_000
        /// Of the note writes, the fraction that edits an existing note (0 ≤ r < 1).
        public var overwriteRatio = 0.3
        public var seed: UInt64 = 1
        /// A team history: analyst 1 writes the team's genesis and adds every other analyst first
        /// (`replicas` roster events before the shape's events), and every event carries the team id,
        /// so an importer judges each against the roster (Protocol/11-teams.md).
        public var team = false
        public init() {}

        /// Edits of existing notes implied by `notes` and `overwriteRatio`.
        public var edits: Int { overwriteRatio <= 0 ? 0 : Int((Double(notes) * overwriteRatio / (1 - overwriteRatio)).rounded()) }
        public var events: Int { articles + notes + edits + annotations }

        /// The default mix for `events` events: 2% articles, 20% annotations, the rest note writes
        /// split by the overwrite ratio.
        public static func mix(events: Int, replicas: Int, overwriteRatio: Double, seed: UInt64) -> Shape {
            var s = Shape()
            s.replicas = replicas; s.overwriteRatio = overwriteRatio; s.seed = seed
            s.articles = max(1, events / 50)
            s.annotations = events / 5
            let rest = max(0, events - s.articles - s.annotations)
            s.notes = Int((Double(rest) * (1 - overwriteRatio)).rounded())
            // Put rounding leftovers into annotations so the total is exact.
            s.annotations += events - s.events
            return s
        }

        public var json: JSON {
            .object([("replicas", .int(Int64(replicas))), ("articles", .int(Int64(articles))), ("notes", .int(Int64(notes))),
                     ("edits", .int(Int64(edits))), ("annotations", .int(Int64(annotations))),
                     ("overwriteRatio", .double(overwriteRatio)), ("seed", .int(Int64(bitPattern: seed))), ("events", .int(Int64(events))),
                     ("team", .bool(team))])
        }
    }

    /// What was written. Counts are what the history holds: when a kind cannot be written at some
    /// point (no visible note to edit yet) another kind takes the slot, so they can differ slightly
    /// from the shape; the total never does.
    public struct Result: Sendable {
        public var events = 0
        public var bytes = 0
        public var articles = 0, notes = 0, edits = 0, annotations = 0, tags = 0, links = 0
        public var eventsWithDeps = 0
        public var seconds = 0.0
        /// The wall-clock millisecond of the middle event (an as-of point splitting the log in half).
        public var midpointMilliseconds: UInt64 = 0
        public var midpoint: String { CivilTime.rfc3339(milliseconds: midpointMilliseconds) }
        public var json: JSON {
            .object([("events", .int(Int64(events))), ("bytes", .int(Int64(bytes))),
                     ("bytesPerEvent", .double(events == 0 ? 0 : (Double(bytes) / Double(events) * 10).rounded() / 10)),
                     ("articles", .int(Int64(articles))), ("notes", .int(Int64(notes))), ("edits", .int(Int64(edits))),
                     ("annotations", .int(Int64(annotations))), ("tags", .int(Int64(tags))), ("links", .int(Int64(links))), ("eventsWithDeps", .int(Int64(eventsWithDeps))),
                     ("midpoint", .string(CivilTime.rfc3339(milliseconds: midpointMilliseconds))),
                     ("seconds", .double((seconds * 100).rounded() / 100))])
        }
    }

    public let shape: Shape
    public init(shape: Shape) { self.shape = shape }

    /// Deterministic key of simulated analyst `i`.
    public static func key(seed: UInt64, index: Int) -> ReplicaKey {
        var b = Array("gloss-bench-key".utf8)
        withUnsafeBytes(of: seed.bigEndian) { b.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(index).bigEndian) { b.append(contentsOf: $0) }
        return try! ReplicaKey(seed: Bytes32.sha256(b).bytes)
    }

    /// Bursts: which analyst writes how many consecutive events. Drawn from its own generator so
    /// the per-feed counts (needed in the bundle header) are known before any event is made.
    struct Schedule: Sequence, IteratorProtocol {
        var rng: BenchRNG
        let replicas: Int
        var remaining: Int
        var started = 0
        mutating func next() -> (replica: Int, count: Int)? {
            guard remaining > 0 else { return nil }
            // Every analyst's first burst comes first (in order), so every feed has events when
            // there are at least as many events as analysts; then analysts at random.
            var r = started
            if started < replicas { started += 1 } else { r = Int.random(in: 0..<replicas, using: &rng) }
            let n = Swift.min(remaining, Int.random(in: 1...40, using: &rng))
            remaining -= n
            return (r, n)
        }
    }

    /// Writes the bundle to `url` (temporary name, fsync, rename). `progress(done, total)`.
    @discardableResult
    public func write(to url: URL, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let s = shape
        guard s.replicas >= 1, s.replicas <= 1000 else { throw GlossError(.badInput, "--replicas must be 1–1000") }
        guard s.overwriteRatio >= 0, s.overwriteRatio < 1 else { throw GlossError(.badInput, "--overwrite-ratio must be at least 0 and below 1") }
        guard s.articles >= 1 else { throw GlossError(.badInput, "--articles must be at least 1 (notes and annotations need an article)") }
        guard s.notes >= 0, s.annotations >= 0, s.events <= 100_000_000 else { throw GlossError(.badInput, "counts must be 0 or more, at most 100,000,000 events in all") }
        let start = DispatchTime.now().uptimeNanoseconds
        let keys = (0..<s.replicas).map { HistoryGenerator.key(seed: s.seed, index: $0) }
        let authors = (0..<s.replicas).map { "analyst-\($0 + 1)" }
        var state = State(shape: s, keys: keys, authors: authors)
        let roster = s.team ? state.rosterPrefix() : []
        let total = s.events + roster.count

        // Pass 1: per-feed counts, for the signed header.
        var counts = [UInt64](repeating: 0, count: s.replicas)
        counts[0] = UInt64(roster.count)
        for b in Schedule(rng: BenchRNG(seed: s.seed ^ 0x5EED), replicas: s.replicas, remaining: s.events) { counts[b.replica] += UInt64(b.count) }
        var senderVector = VersionVector()
        for (i, c) in counts.enumerated() where c > 0 { senderVector[keys[i].replicaID] = c }
        let header = BundleHeader(team: state.team, sender: keys[0].replicaID, senderVector: senderVector, baseVector: VersionVector(), eventCount: UInt64(total))

        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let handle = FileHandle(forWritingAtPath: tmp.path) else {
            throw GlossError(.badInput, "cannot write \(url.path); check the folder exists and is writable")
        }
        var ok = false
        defer { try? handle.close(); if !ok { try? FileManager.default.removeItem(at: tmp) } }
        var writer = try BundleWriter(handle: handle, header: header, key: keys[0])

        // Pass 2: the events.
        var result = Result()
        for e in roster {
            try writer.append(envelope: e.envelope.bytes, payload: e.payload)
            result.events += 1
        }
        for b in Schedule(rng: BenchRNG(seed: s.seed ^ 0x5EED), replicas: s.replicas, remaining: s.events) {
            state.beginBurst(b.replica)
            for _ in 0..<b.count {
                let e = state.nextEvent(b.replica, &result)
                try writer.append(envelope: e.envelope.bytes, payload: e.payload)
                result.events += 1
                if !e.envelope.depsDelta.isEmpty { result.eventsWithDeps += 1 }
                if result.events == (total + 1) / 2 { result.midpointMilliseconds = e.envelope.time.milliseconds }
                if result.events % 5000 == 0 { progress?(result.events, total) }
            }
        }
        try writer.finish()
        progress?(result.events, total)
        try handle.synchronize()
        try handle.close()
        try Replica.moveIntoPlace(tmp, url)
        ok = true
        result.bytes = writer.bytesWritten
        result.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return result
    }

    /// The simulation's state: feed heads, what each analyst has seen, and the objects made so far.
    struct State {
        let shape: Shape
        let keys: [ReplicaKey]
        let authors: [String]
        var rng: BenchRNG
        /// Per feed: seq and id of its last event.
        var headSeq: [UInt64]
        var headID: [EventID]
        /// known[i][j]: the seq of feed j analyst i has seen (its version vector).
        var known: [[UInt64]]
        /// ownDeps[i][j]: the value of j in i's accumulated deps (what i's last event named).
        var ownDeps: [[UInt64]]
        var wall: UInt64 = 1_767_600_000_000 // 2026-01-05T08:00:00Z
        // Objects: id, creating feed, seq (visible to i when known[i][feed] ≥ seq).
        var articleIDs: [Bytes32] = [], articleFeed: [UInt32] = [], articleSeq: [UInt32] = []
        var noteIDs: [Bytes32] = [], noteFeed: [UInt32] = [], noteSeq: [UInt32] = []
        /// The texts of the latest articles, to annotate (a bounded window: generation streams).
        var recent: [(id: String, revision: String, text: String, feed: UInt32, seq: UInt32)] = []
        static let recentArticles = 256
        // What remains to write of each kind.
        var leftArticles: Int, leftNotes: Int, leftEdits: Int, leftAnnotations: Int

        /// The team id every event carries (`.none` unless `shape.team`).
        var team = TeamID.none

        /// The team's genesis and one `MemberAdded` per other analyst, all by analyst 1, who then
        /// hands them to everyone (every analyst's first event has them in its causal past).
        mutating func rosterPrefix() -> [SignedEvent] {
            var out: [SignedEvent] = []
            func emit(_ type: String, _ schema: UInt16, _ payload: [UInt8]) {
                wall += 1000
                let seq = headSeq[0] + 1
                let env = EventEnvelope(team: team, key: keys[0], seq: seq, prev: headID[0], time: HybridTime(milliseconds: wall),
                                        depsDelta: [], author: authors[0], type: type, schema: schema, payload: payload)
                headSeq[0] = seq; headID[0] = env.id
                out.append(SignedEvent(envelope: env, payload: payload))
            }
            emit(TeamCreated.type, TeamCreated.schema, TeamCreated(name: "bench", analyst: authors[0]).encoded)
            team = TeamID(out[0].envelope.id.raw)
            for j in 1..<keys.count {
                emit(MemberAdded.type, MemberAdded.schema, MemberAdded(analyst: authors[j], role: .analyst, key: keys[j].replicaID).encoded)
            }
            for j in 0..<keys.count { known[j][0] = headSeq[0] }
            return out
        }

        init(shape: Shape, keys: [ReplicaKey], authors: [String]) {
            self.shape = shape; self.keys = keys; self.authors = authors
            rng = BenchRNG(seed: shape.seed)
            let n = shape.replicas
            headSeq = Array(repeating: 0, count: n); headID = Array(repeating: .zero, count: n)
            known = Array(repeating: Array(repeating: 0, count: n), count: n)
            ownDeps = known
            leftArticles = shape.articles; leftNotes = shape.notes; leftEdits = shape.edits; leftAnnotations = shape.annotations
        }

        /// Before a burst an analyst usually syncs (learns every head); sometimes works offline.
        mutating func beginBurst(_ i: Int) {
            if Int.random(in: 0..<10, using: &rng) < 7 { known[i] = headSeq }
        }

        func visible(_ i: Int, feed: UInt32, seq: UInt32) -> Bool { Int(feed) == i || known[i][Int(feed)] >= UInt64(seq) }

        /// A visible object among `ids`, biased to recent ones (analysts work on current material).
        mutating func pick(_ i: Int, _ feeds: [UInt32], _ seqs: [UInt32]) -> Int? {
            guard !feeds.isEmpty else { return nil }
            for attempt in 0..<12 {
                let k: Int
                if attempt < 6 && Int.random(in: 0..<3, using: &rng) > 0 {
                    k = max(0, feeds.count - 1 - Int.random(in: 0..<min(feeds.count, 500), using: &rng))
                } else {
                    k = Int.random(in: 0..<feeds.count, using: &rng)
                }
                if visible(i, feed: feeds[k], seq: seqs[k]) { return k }
            }
            return nil
        }

        enum Kind { case article, note, edit, annotation }

        /// Draws a kind in proportion to what remains (so the totals come out as asked).
        mutating func drawKind() -> Kind {
            let total = leftArticles + leftNotes + leftEdits + leftAnnotations
            guard total > 0 else { return .note }
            var r = Int.random(in: 0..<total, using: &rng)
            if r < leftArticles { return .article }; r -= leftArticles
            if r < leftNotes { return .note }; r -= leftNotes
            if r < leftEdits { return .edit }
            return .annotation
        }

        mutating func nextEvent(_ i: Int, _ result: inout Result) -> SignedEvent {
            let seq = headSeq[i] + 1
            var type = "", schema: UInt16 = 1, payload: [UInt8] = []
            var kind = drawKind()
            // Fall back to a kind that can be written now (an article always can).
            while true {
                switch kind {
                case .article:
                    let p = makeArticle(index: articleIDs.count)
                    type = ArticleIngested.type; schema = ArticleIngested.schema; payload = p.encoded
                    articleIDs.append(Bytes32(hex: p.article)!); articleFeed.append(UInt32(i)); articleSeq.append(UInt32(seq))
                    recent.append((p.article, p.sha256, p.text, UInt32(i), UInt32(seq)))
                    if recent.count > Self.recentArticles { recent.removeFirst() }
                    leftArticles -= 1; result.articles += 1
                case .note:
                    guard let a = pick(i, articleFeed, articleSeq) else { kind = .article; continue }
                    let p = NoteAdded(on: articleIDs[a].hex, body: noteText())
                    type = NoteAdded.type; schema = NoteAdded.schema; payload = p.encoded
                    leftNotes -= 1; result.notes += 1
                case .edit:
                    guard let n = pick(i, noteFeed, noteSeq) else { kind = leftNotes > 0 || leftArticles == 0 ? .note : .article; continue }
                    let p = NoteEdited(note: noteIDs[n].hex, body: noteText())
                    type = NoteEdited.type; schema = NoteEdited.schema; payload = p.encoded
                    leftEdits -= 1; result.edits += 1
                case .annotation:
                    guard let made = makeAnnotation(i, &result) else { kind = .note; continue }
                    (type, schema, payload) = made
                    leftAnnotations -= 1
                }
                break
            }
            // Deps: the entries of i's vector that grew since its previous event.
            var delta: [(replica: ReplicaID, seq: UInt64)] = []
            for j in 0..<known[i].count where j != i && known[i][j] > ownDeps[i][j] {
                delta.append((keys[j].replicaID, known[i][j]))
                ownDeps[i][j] = known[i][j]
            }
            wall += UInt64.random(in: 1...5000, using: &rng)
            let env = EventEnvelope(team: team, key: keys[i], seq: seq, prev: headID[i], time: HybridTime(milliseconds: wall),
                                    depsDelta: delta, author: authors[i], type: type, schema: schema, payload: payload)
            headSeq[i] = seq; headID[i] = env.id; known[i][i] = seq
            if type == NoteAdded.type { noteIDs.append(env.id.raw); noteFeed.append(UInt32(i)); noteSeq.append(UInt32(seq)) }
            return SignedEvent(envelope: env, payload: payload)
        }

        /// An annotation on a span of a recent article (with a comment half the time), or, for a
        /// quarter of them, a tag or a link as analysts add alongside.
        mutating func makeAnnotation(_ i: Int, _ result: inout Result) -> (String, UInt16, [UInt8])? {
            let roll = Int.random(in: 0..<8, using: &rng)
            if roll == 0, let n = pick(i, noteFeed, noteSeq), let a = pick(i, articleFeed, articleSeq) {
                let relation = ["supports", "contradicts", "cites", "same-event"].randomElement(using: &rng)!
                result.links += 1
                return (LinkAdded.type, LinkAdded.schema, LinkAdded(from: noteIDs[n].hex, relation: relation, to: articleIDs[a].hex).encoded)
            }
            if roll == 1, let a = pick(i, articleFeed, articleSeq) {
                result.tags += 1
                return (TagAdded.type, TagAdded.schema, TagAdded(object: articleIDs[a].hex, tag: Corpus.tags.randomElement(using: &rng)!).encoded)
            }
            guard let k = pick(i, recent.map(\.feed), recent.map(\.seq)) else { return nil }
            let article = recent[k]
            let count = article.text.unicodeScalars.count
            let length = Int.random(in: 8...min(60, max(8, count - 1)), using: &rng)
            let start = Int.random(in: 0...max(0, count - length), using: &rng)
            let s = TextSelector.selector(in: article.text, start: start, end: min(count, start + length))
            let comment = Bool.random(using: &rng) ? Corpus.sentence(&rng) : nil
            result.annotations += 1
            let p = AnnotationAdded(article: article.id, revision: article.revision,
                                    target: SpanSelector(exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end), comment: comment)
            return (AnnotationAdded.type, AnnotationAdded.schema, p.encoded)
        }

        mutating func noteText() -> String {
            let lines = Int.random(in: 1...4, using: &rng)
            return (0..<lines).map { _ in Corpus.sentence(&rng) }.joined(separator: "\n")
        }

        /// An article of 1–3 KB with a dateline, dates, statements and names, and this build's
        /// extraction candidates, as `gloss ingest` would record it.
        mutating func makeArticle(index: Int) -> ArticleIngested {
            let day = Int.random(in: 1...28, using: &rng), month = Int.random(in: 1...12, using: &rng)
            let date = String(format: "%04d-%02d-%02d", 2020 + Int.random(in: 0...5, using: &rng), month, day)
            let place = Corpus.places.randomElement(using: &rng)!
            var text = "date \(date) \(place) – \(Corpus.sentence(&rng)) (report \(shape.seed)-\(index))\n"
            for _ in 0..<Int.random(in: 6...18, using: &rng) { text += "\n" + Corpus.sentence(&rng) }
            text += "\n"
            var a = try! ArticleText.prepare(bytes: Array(text.utf8), filename: "report-\(index).txt")
            a.rulesVersion = Int64(Extraction.rulesVersion)
            a.candidates = Extraction.extract(text: a.text, articleDate: a.date).map(\.cbor)
            return a
        }
    }
}

/// Words and sentence templates for generated articles and notes (the fixture article's register).
enum Corpus {
    static let places = ["BAKU", "ISLAMABAD/BAKU", "ANKARA", "TBILISI", "YEREVAN", "TEHRAN", "ISLAMABAD", "ASTANA"]
    static let people = ["Zakir Hasanov", "Elmar Mammadyarov", "Mevlut Cavusoglu", "Muhammad Asif", "Hulusi Akar", "Jeyhun Bayramov"]
    static let roles = ["Defense Minister", "Foreign Minister", "spokesman", "deputy minister", "ambassador"]
    static let countries = ["Azerbaijan", "Pakistan", "Turkey", "Georgia", "Armenia", "Iran", "Kazakhstan"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    static let topics = ["joint military exercises", "a trade agreement", "border talks", "energy cooperation", "the pipeline project",
                         "visa-free travel", "a defense pact", "railway links", "customs rules", "the trilateral summit"]
    static let tags = ["verified", "needs-source", "follow-up", "defense", "trade", "energy", "diplomacy", "disputed", "key", "timeline",
                       "quote", "translation", "background", "priority", "archive"]

    static func sentence(_ rng: inout BenchRNG) -> String {
        let p = people.randomElement(using: &rng)!, r = roles.randomElement(using: &rng)!
        let c1 = countries.randomElement(using: &rng)!, c2 = countries.randomElement(using: &rng)!
        let t = topics.randomElement(using: &rng)!, m = months.randomElement(using: &rng)!
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return "\(c1) and \(c2) will hold \(t) in \(m) this year, the \(r) of \(c1), \(p), said Saturday."
        case 1: return "‘Preparations for \(t) are underway,’ \(p) said in an interview on \(Int.random(in: 1...28, using: &rng)) \(m) 2021."
        case 2: return "The cooperation on \(t) was launched back in \(m) \(2015 + Int.random(in: 0...6, using: &rng)) when \(p) met officials from \(c2)."
        case 3: return "Officials from \(c1) expressed their support for \(t) while reconfirming mutual respect with \(c2)."
        case 4: return "According to the \(r), talks on \(t) between \(c1) and \(c2) will resume in \(m)."
        default: return "Check: does \(p) mean \(m) 2021 or \(m) 2022 for \(t)? Source in \(c1) unclear."
        }
    }
}

/// SplitMix64, as in GlossTestSupport (which the engine cannot depend on): seeded, reproducible
/// across platforms, so a seed names the same history everywhere.
struct BenchRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
