import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore

/// Several replicas in temporary folders making random edits and syncing in memory, for property
/// tests (convergence, replay equivalence, as-of). Seeded: the same seed gives the same history.
public final class Simulation {
    public let tmp: TempDir
    public private(set) var replicas: [Replica] = []
    public var rng: SplitMix64
    public let clock: MockClock

    /// Keys derived from the seed and the replica's name (so ids, and every byte, repeat with the
    /// seed), instead of fresh random keys.
    public let deterministicKeys: Bool
    let seed: UInt64

    /// `tmpBase`: where the replicas' folders go (default: the temporary directory).
    public init(replicas n: Int, seed: UInt64, label: String = "sim", deterministicKeys: Bool = false, tmpBase: URL? = nil) throws {
        self.deterministicKeys = deterministicKeys
        self.seed = seed
        tmp = TempDir("gloss-\(label)", in: tmpBase)
        rng = SplitMix64(seed: seed)
        clock = MockClock(start: 1_624_700_000_000, step: 3)
        for i in 0..<n { replicas.append(try addReplica("r\(i)")) }
    }

    /// A new replica (e.g. an observer that only receives).
    public func addReplica(_ name: String) throws -> Replica {
        try Replica.create(in: tmp.sub(name), analyst: name, key: deterministicKeys ? fixedKey("\(seed)/\(name)") : ReplicaKey(), clock: clock.function)
    }

    deinit { tmp.remove() }

    /// A copy of replica `i`'s folder, opened: a second device writing with the same key (how a
    /// fork happens).
    public func twin(of i: Int) throws -> Replica {
        let dir = tmp.sub("\(replicas[i].folder.lastPathComponent)-twin-\(UUID().uuidString.prefix(6))")
        try FileManager.default.copyItem(at: replicas[i].folder, to: dir)
        return try Replica.open(at: dir, clock: clock.function)
    }

    /// Replica 0 and a copy of its folder (the same key) each write a branch of notes — `lengths.0`
    /// and `lengths.1` — after `before` random operations of replica 0 (the first an ingest);
    /// replica 1 takes replica 0's events, replica 2 the copy's: two replicas holding branches of
    /// one feed that neither has seen the other of. Returns the copy and the seq below the branches.
    public func disjointBranches(before: Int, lengths: (Int, Int)) throws -> (twin: Replica, base: UInt64) {
        precondition(replicas.count >= 3 && before >= 1)
        for _ in 0..<before { try randomOperation(on: 0) }
        let a = replicas[0], twin = try twin(of: 0)
        guard let article = try anArticle(a) else { throw GlossError(.notFound, "no article after \(before) operations") }
        let base = try a.status().versionVector[a.replicaID]
        for i in 0..<lengths.0 { _ = try a.addNote(on: article, body: "branch A \(i)") }
        for i in 0..<lengths.1 { _ = try twin.addNote(on: article, body: "branch B \(i)") }
        _ = try sync(0, 1)
        _ = try replicas[2].store.applyRemote(try missing(from: twin, to: replicas[2]), now: clock.read())
        return (twin, base)
    }

    /// One random edit on replica `i`, unless its own feed is frozen at a fork (then it cannot
    /// write, as expected: nothing happens).
    public func randomOperationUnlessFrozen(on i: Int) throws {
        do { try randomOperation(on: i) } catch let e as GlossError where e.message.contains("cannot write") || e.message.contains("forked") || e.message.contains("frozen") {
        } catch let e as StoreError where e.code == .feedFrozen {}
    }

    /// The lowest seq of `feed` at which `replicas` together hold two different ids (in their logs
    /// or fork evidence), or nil: where copies of one key parted, read from the rows, not the fork
    /// code — the oracle of the fork tests.
    public func lowestForkedSeq(of feed: ReplicaID, in replicas: [Replica]) throws -> UInt64? {
        let own = Data(feed.raw.bytes)
        var ids: [Int64: Set<Data>] = [:]
        for r in replicas {
            try r.store.read { db in
                for row in try Row.fetchAll(db, sql: "SELECT e.seq, e.id FROM events e JOIN feeds f ON f.feed = e.feed WHERE f.replica = ? UNION SELECT seq, id FROM forks WHERE replica = ?", arguments: [own, own]) {
                    ids[row[0], default: []].insert(row[1])
                }
            }
        }
        return ids.filter { $0.value.count > 1 }.keys.min().map { UInt64($0) }
    }

    /// Some article the replica holds, if any.
    public func anArticle(_ r: Replica) throws -> String? {
        try r.store.read { try String.fetchOne($0, sql: "SELECT article FROM articles LIMIT 1") }
    }

    static let words = ["Azerbaijan", "Pakistan", "Turkey", "exercise", "September", "minister", "Baku", "said", "forces",
                        "trilateral", "défense", "naïve", "café", "e\u{301}cole", "👍", "border", "trade", "Hasanov"]

    public func randomText(_ words: Int) -> String {
        (0..<words).map { _ in Simulation.words.randomElement(using: &rng)! }.joined(separator: " ")
    }

    /// One random edit on replica `i`, writing exactly one event: ingest (sometimes a text another
    /// replica also ingests), add, edit or delete a note; add, amend, retract, grade, corroborate or
    /// contradict a fact; add or grade a source; annotate; revise an article; resolve an open
    /// conflict by picking a candidate. An edit that is refused (e.g. a quote a revision removed)
    /// becomes a note instead.
    public func randomOperation(on i: Int) throws {
        let r = replicas[i]
        let roll = Int.random(in: 0..<100, using: &rng)
        let (articles, notes, facts, conflicts) = try r.store.read { db in
            (try String.fetchAll(db, sql: "SELECT article FROM articles ORDER BY article"),
             try String.fetchAll(db, sql: "SELECT note FROM notes WHERE deleted = 0 ORDER BY note"),
             try String.fetchAll(db, sql: "SELECT fact FROM facts WHERE retracted = 0 ORDER BY fact"),
             try String.fetchAll(db, sql: "SELECT conflict FROM conflicts WHERE state = 'open' ORDER BY conflict"))
        }
        func word() -> String { Simulation.words.randomElement(using: &rng)! }
        /// Runs an edit that may be refused or write nothing; true when it wrote one event.
        func wrote(_ body: () throws -> Created) -> Bool { (try? body()).map { !$0.existing } ?? false }
        if roll < 12 || articles.isEmpty {
            let day = Int.random(in: 10...28, using: &rng)
            // A small space of texts, so independent ingests of the same text happen.
            let text = "date 2021-06-\(day) BAKU – \(Simulation.words[day % Simulation.words.count]) report \(Int.random(in: 0..<6, using: &rng))\n"
            if wrote({ try r.ingest(bytes: Array(text.utf8), filename: "a\(day).txt") }) { return }
        } else if roll < 30 || (roll < 48 && notes.isEmpty) {
            _ = ()
        } else if roll < 45 {
            _ = try r.editNote(notes.randomElement(using: &rng)!, body: randomText(Int.random(in: 1...8, using: &rng)))
            return
        } else if roll < 48 {
            _ = try r.deleteNote(notes.randomElement(using: &rng)!)
            return
        } else if roll < 58 || (roll < 88 && facts.isEmpty) {
            var input = FactInput()
            input.article = articles.randomElement(using: &rng)!
            input.subject = word(); input.predicate = "said"; input.object = word(); input.evidence = Bool.random(using: &rng) ? "BAKU" : "report"
            if Bool.random(using: &rng) { input.when = "2021-06" }
            if wrote({ try r.addFact(input) }) { return }   // "report" may be gone from a revision
        } else if roll < 70 {
            let (fact, field, value) = (facts.randomElement(using: &rng)!, ["subject", "object", "when", "where"].randomElement(using: &rng)!, word())
            if wrote({ try r.amendFact(fact, field: FactField(parsing: field), value: value) }) { return }
        } else if roll < 73 {
            _ = try r.retractFact(facts.randomElement(using: &rng)!, reason: randomText(3))
            return
        } else if roll < 79 {
            _ = try r.gradeFact(facts.randomElement(using: &rng)!, credibility: Credibility(parsing: String(Int.random(in: 1...3, using: &rng))), reason: nil)
            return
        } else if roll < 84 {
            let name = ["Reuters", "AP", "Dawn"].randomElement(using: &rng)!
            let grade = ["A", "B", "C"].randomElement(using: &rng)!
            let fact = facts.randomElement(using: &rng)!
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: if wrote({ try r.addSource(name: name, kind: "outlet") }) { return }
            case 1: if wrote({ try r.gradeSource(name, reliability: Reliability(parsing: grade), reason: nil) }) { return }
            default: if wrote({ try r.amendFact(fact, field: .source, value: name) }) { return }
            }
        } else if roll < 86 {
            let (fact, by) = (facts.randomElement(using: &rng)!, facts.randomElement(using: &rng)!)
            if wrote({ try r.relateFact(fact, Bool.random(using: &rng) ? "corroborates" : "contradicts", by: by) }) { return }
        } else if roll < 89 {
            // A revision from a small space of texts (sometimes another article's text: refused here,
            // but a concurrent ingest of it elsewhere makes one text claimed by two articles).
            let article = articles.randomElement(using: &rng)!
            let text = try r.store.read { db in
                try String.fetchOne(db, sql: "SELECT r.text FROM articles a JOIN article_revisions r ON r.sha256 = a.current_revision WHERE a.article = ?", arguments: [article])!
            }
            let revised = Int.random(in: 0..<3, using: &rng) == 0
                ? "date 2021-06-\(Int.random(in: 10...28, using: &rng)) BAKU – \(word()) report \(Int.random(in: 0..<6, using: &rng))\n"
                : "\(word()) " + text.replacingOccurrences(of: "report", with: word())
            let file = tmp.sub("rev-\(UInt32.random(in: 0...UInt32.max, using: &rng)).txt")
            try Data(revised.utf8).write(to: file)
            if wrote({ try r.revise(article: article, file: file.path) }) { return }
        } else if roll < 93 {
            let (article, quote, comment) = (articles.randomElement(using: &rng)!, Bool.random(using: &rng) ? "BAKU" : "report",
                                             Bool.random(using: &rng) ? randomText(2) : nil)
            if wrote({ try r.annotate(article: article, quote: quote, comment: comment, tags: []) }) { return }
        } else if let c = conflicts.randomElement(using: &rng) {
            let info = try r.conflict(c)
            _ = try r.resolve(c, pick: info.candidates.randomElement(using: &rng)!.event, reason: "picked")
            return
        }
        // Nothing to write a note on: a replica whose ingest was refused (e.g. its own feed frozen at
        // a fork, found by CI: seed 6577326542651826260 of the fork-delivery property) and that holds
        // no article yet.
        guard let target = (articles + notes).randomElement(using: &rng) else { return }
        _ = try r.addNote(on: target, body: randomText(Int.random(in: 1...8, using: &rng)))
    }

    /// The events `from` holds that `to` lacks, in `from`'s local (causal) order.
    public func missing(from a: Replica, to b: Replica) throws -> [SignedEvent] {
        let v = try b.store.read { try b.store.vector($0) }
        var out: [SignedEvent] = []
        try a.store.read { db in
            try a.store.forEachEvent(above: v, db) { out.append(SignedEvent(envelope: $0.envelope, payload: $0.payload)); return true }
        }
        return out
    }

    /// In-memory transport: applies to `b` the events `a` has that `b` lacks.
    @discardableResult
    public func sync(_ a: Int, _ b: Int) throws -> ApplySummary {
        let events = try missing(from: replicas[a], to: replicas[b])
        return try replicas[b].store.applyRemote(events, now: clock.read())
    }

    /// Every event held by any replica, each once.
    public func allEvents() throws -> [SignedEvent] {
        var seen = Set<EventID>(), out: [SignedEvent] = []
        for r in replicas {
            try r.store.read { db in
                try r.store.forEachEvent(db) { e in
                    if seen.insert(e.id).inserted { out.append(SignedEvent(envelope: e.envelope, payload: e.payload)) }
                    return true
                }
            }
        }
        return out
    }

    /// A random order of `events` that respects causality (feed order and deps).
    public func randomCausalOrder(_ events: [SignedEvent]) -> [SignedEvent] {
        var held: [ReplicaID: UInt64] = [:]
        var remaining = events
        var out: [SignedEvent] = []
        func ready(_ e: SignedEvent) -> Bool {
            held[e.envelope.replica, default: 0] == e.envelope.seq - 1 && e.envelope.depsDelta.allSatisfy { held[$0.replica, default: 0] >= $0.seq }
        }
        while !remaining.isEmpty {
            let candidates = remaining.indices.filter { ready(remaining[$0]) }
            precondition(!candidates.isEmpty, "events are not causally complete")
            let i = candidates.randomElement(using: &rng)!
            let e = remaining.remove(at: i)
            held[e.envelope.replica] = e.envelope.seq
            out.append(e)
        }
        return out
    }

    public func digest(_ r: Replica) throws -> String { try r.digest() }
}

/// Runs the gloss binary (output discarded) and reports its exit status and its peak resident
/// memory, which gloss itself reads from /proc at exit (`GLOSS_PEAK_RSS_FILE`): the rusage of a
/// spawned child would also count this test process's memory from before the exec.
public func runMeasuringMemory(_ executable: URL, _ args: [String]) throws -> (status: Int32, maxRSSBytes: Int) {
    let report = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-rss-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: report) }
    let p = Process()
    p.executableURL = executable
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["GLOSS_PEAK_RSS_FILE"] = report.path
    p.environment = env
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    let kb = (try? String(contentsOf: report, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? Int.max / 2048
    return (p.terminationStatus, kb * 1024)
}

extension Replica {
    /// Appends `count` own events quickly (notes and edits on one article, `batch` per transaction),
    /// for size and memory tests. Returns the article id.
    @discardableResult
    public func appendBulk(_ count: Int, batch: Int = 5000) throws -> String {
        let article = try ingest(bytes: Array("date 2021-06-26 BAKU – bulk article for size tests.\n".utf8), filename: "bulk.txt").id
        var done = 1
        var lastNote: String?
        while done < count {
            let n = min(batch, count - done)
            try store.write { db in
                for i in 0..<n {
                    let k = done + i
                    if k % 3 == 0, let note = lastNote {
                        _ = try store.appendLocal(key: key, author: analyst, payload: NoteEdited(note: note, body: "edited body \(k) of a note about the exercise"), wallMilliseconds: clock(), db)
                    } else {
                        let e = try store.appendLocal(key: key, author: analyst, payload: NoteAdded(on: article, body: "note \(k): the special forces exercise in September"), wallMilliseconds: clock(), db)
                        lastNote = e.id.hex
                    }
                }
            }
            done += n
        }
        return article
    }
}

// MARK: Damaged delivery

/// How a copy of an event can arrive damaged on the way (the in-memory transport's faults).
public enum DeliveryDamage: String, CaseIterable, Sendable {
    /// One bit of the envelope flipped (a copy whose envelope no longer parses is dropped, as a
    /// record that cannot be framed would be).
    case envelopeBitFlip
    /// One bit of the payload flipped.
    case payloadBitFlip
    /// The window cut short after a random number of events.
    case truncatedWindow
    /// The payload left out (as a purged event travels).
    case payloadStripped
    /// The window delivered in a random order.
    case reorderedWindow
}

/// What a faulty delivery did, for the property's report.
public struct DeliveryLog: Sendable {
    public var windows = 0
    public var events = 0
    public var lost = 0
    public var duplicated = 0
    public var damaged: [DeliveryDamage: Int] = [:]
    public init() {}
    public var description: String {
        "\(windows) windows, \(events) copies, \(lost) lost, \(duplicated) duplicated, damaged: "
            + DeliveryDamage.allCases.map { "\($0.rawValue) \(damaged[$0] ?? 0)" }.joined(separator: ", ")
    }
}

extension Simulation {
    /// A damaged copy of `e`, or nil when the damage leaves nothing that parses.
    public func damagedCopy(_ e: SignedEvent, _ kind: DeliveryDamage) -> SignedEvent? {
        switch kind {
        case .envelopeBitFlip:
            var b = e.envelope.bytes
            let i = Int.random(in: 0..<b.count, using: &rng)
            b[i] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            guard let env = try? EventEnvelope(decoding: b) else { return nil }
            return SignedEvent(envelope: env, payload: e.payload)
        case .payloadBitFlip:
            guard var p = e.payload, !p.isEmpty else { return SignedEvent(envelope: e.envelope, payload: (e.payload ?? []) + [0]) }
            let i = Int.random(in: 0..<p.count, using: &rng)
            p[i] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            return SignedEvent(envelope: e.envelope, payload: p)
        case .payloadStripped:
            return SignedEvent(envelope: e.envelope, payload: nil)
        case .truncatedWindow, .reorderedWindow:
            return e
        }
    }

    /// Delivers to `b` what `a` holds that `b` lacks, through a faulty channel: each copy may be
    /// lost, duplicated or damaged (bit flips, stripped payload; the damaged copy replaces the
    /// genuine one or comes beside it, before or after), and the window may be cut short or
    /// reordered. Returns what `b`'s apply reported.
    @discardableResult
    public func deliverFaulty(_ a: Int, _ b: Int, lose: Double = 0.1, duplicate: Double = 0.1, damage: Double = 0.15,
                              kinds: [DeliveryDamage] = DeliveryDamage.allCases, log: inout DeliveryLog) throws -> ApplySummary {
        var window: [SignedEvent] = []
        for e in try missing(from: replicas[a], to: replicas[b]) {
            if Double.random(in: 0..<1, using: &rng) < lose { log.lost += 1; continue }
            let perEvent = kinds.filter { $0 != .truncatedWindow && $0 != .reorderedWindow }
            if !perEvent.isEmpty, Double.random(in: 0..<1, using: &rng) < damage {
                let kind = perEvent.randomElement(using: &rng)!
                log.damaged[kind, default: 0] += 1
                let copy = damagedCopy(e, kind)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: if let copy { window.append(copy) }                    // instead of the genuine copy
                case 1: if let copy { window.append(copy) }; window.append(e)  // damaged first
                default: window.append(e); if let copy { window.append(copy) } // damaged after
                }
            } else {
                window.append(e)
            }
            if Double.random(in: 0..<1, using: &rng) < duplicate { window.append(e); log.duplicated += 1 }
        }
        if kinds.contains(.truncatedWindow), !window.isEmpty, Double.random(in: 0..<1, using: &rng) < damage {
            window = Array(window.prefix(Int.random(in: 0..<window.count, using: &rng)))
            log.damaged[.truncatedWindow, default: 0] += 1
        }
        if kinds.contains(.reorderedWindow), window.count > 1, Double.random(in: 0..<1, using: &rng) < damage {
            window.shuffle(using: &rng)
            log.damaged[.reorderedWindow, default: 0] += 1
        }
        log.windows += 1
        log.events += window.count
        return try replicas[b].store.applyRemote(window, now: clock.read())
    }

    /// Heals: every replica receives every event any replica stores (its log, then its fork
    /// evidence), genuine and whole, in that replica's local (causal) order — including events it
    /// already holds, so a copy that arrived without its payload meets the genuine one. Repeated
    /// until nothing changes.
    public func healEverywhere() throws {
        for _ in 0..<3 {
            var changed = false
            for s in replicas.indices {
                var events: [SignedEvent] = []
                try replicas[s].store.read { db in
                    try replicas[s].store.forEachEvent(db) { events.append(SignedEvent(envelope: $0.envelope, payload: $0.payload)); return true }
                    // Fork evidence too: the other branch of a fork is genuine (validly signed).
                    for row in try Row.fetchAll(db, sql: "SELECT envelope, payload FROM forks ORDER BY seq") {
                        if let env = try? EventEnvelope(decoding: Array(row[0] as Data)) {
                            events.append(SignedEvent(envelope: env, payload: (row[1] as Data?).map { Array($0) }))
                        }
                    }
                }
                for t in replicas.indices where t != s {
                    let r = try replicas[t].store.applyRemote(events, now: clock.read())
                    if r.applied > 0 || r.appliedFromPending > 0 || r.forks > 0 { changed = true }
                }
            }
            if !changed { return }
        }
    }

    /// Adds a replica that holds a copy of replica `i`'s key and everything `i` holds now (a
    /// restored backup, a copied folder): its next own event forks `i`'s feed.
    @discardableResult
    public func addTwin(of i: Int, name: String) throws -> Int {
        let original = replicas[i]
        // A folder with the same key, whose database is a backup of the original's.
        let folder = tmp.sub(name)
        try Replica.create(in: folder, analyst: original.analyst, key: original.key, clock: clock.function).close()
        let db = folder.appendingPathComponent(".gloss/replica.db")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db.path + suffix) }
        let copy = try DatabaseQueue(path: db.path)
        try original.store.pool.backup(to: copy)
        try copy.close()
        let twin = try Replica.open(at: folder, clock: clock.function)
        replicas.append(twin)
        return replicas.count - 1
    }
}
