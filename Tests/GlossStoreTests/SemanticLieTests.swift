import Foundation
import GRDB
import GlossEngine
import GlossIngest
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// A generated corpus of validly signed, well-formed events whose contents lie: notes on objects that
/// do not exist or are of another kind, edits of facts as notes, resolutions of conflicts that never
/// opened or naming candidates that are not theirs, extractions that disagree, selectors past the
/// text or not matching it, grades off the scale, redactions of anything, forks — each payload a
/// type every replica decodes, each envelope a genuine key's, chained and with deps on other feeds.
/// Delivered in five orders (forwards and backwards one by one, one window, shuffled one by one and
/// in windows of random size), each into a new replica, they must give one projection (DESIGN:
/// projections independent of arrival order), a maintained digest equal to the recomputed one, a
/// rebuild that changes nothing, and reads and exports that work. The history and its pools of ids
/// come from a seeded generator, independent of the projector; the seed is printed (`GLOSS_SEED`
/// replays it, `GLOSS_KEEP=1` keeps the replicas to look at, `GLOSS_LARGE=1` runs 150 histories).
@Suite(.timeLimit(.minutes(20))) struct SemanticLieTests {
    let tmp = TempDir("gloss-lies", in: memoryTempBase)
    let clock = MockClock(start: 1_624_800_000_000, step: 1)

    @Test func liesInValidPayloadsGiveOneProjectionInEveryArrivalOrder() throws {
        try run(team: false)
    }

    /// The same lies inside a team, with roster events among them: roles given and taken, members
    /// removed, keys revoked, by admins and by members who may not (denied), authors that are not
    /// the key's analyst, redactions of anyone's events (roster events included) by anyone. Each
    /// replica is a joining device; after its order, every event is offered again in the order
    /// written (as a sender offers a refused event again), and then every replica must hold the
    /// same log, quarantine and projections. Members' keys fork now and then; the creator's never,
    /// and a forked key signs no roster event (a forked admin key's roster events are a limit of
    /// teams: the frozen part's roster events leave the roster). Forked keys' redactions — admins'
    /// among them, judged in the frozen part against their chain's causal past — are drawn.
    @Test func liesInsideATeamGiveOneProjectionInEveryArrivalOrder() throws {
        try run(team: true)
    }

    func run(team: Bool) throws {
        let keep = ProcessInfo.processInfo.environment["GLOSS_KEEP"] != nil
        defer { if keep { print("kept", tmp.url.path) } else { tmp.remove() } }
        let base = ProcessInfo.processInfo.environment["GLOSS_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max >> 1)
        let histories = glossLarge ? 150 : 12
        let label = team ? "semantic lies in a team" : "semantic lies"
        print("\(label): seed \(base), \(histories) histories (GLOSS_SEED=\(base) replays)")
        for h in 0..<UInt64(histories) {
            let seed = base &+ h
            var generator = try Generator(seed: seed, reference: try replica("ref-\(seed)", team: team), clock: clock, team: team)
            let events = try generator.history(count: 90)
            try check(seed: seed, events, team: team)
            // (150 histories of six replicas each would fill the memory-backed folder.)
            if !keep { for name in ["ref-\(seed)"] + Self.orderNames.map({ "\(seed)-\($0)" }) { try? FileManager.default.removeItem(at: tmp.sub(name)) } }
        }
    }

    func replica(_ name: String, team: Bool) throws -> Replica {
        try Replica.create(in: tmp.sub(name), analyst: "reader", key: ReplicaKey(), team: team ? .join : .none, clock: clock.function)
    }

    static let orderNames = ["forwards", "backwards", "one window", "shuffled", "shuffled windows"]

    /// Five arrival orders into five new replicas: one digest, maintained = recomputed, a rebuild
    /// keeps it, and the reads an analyst runs work on what the lies left.
    func check(seed: UInt64, _ events: [SignedEvent], team: Bool) throws {
        var rng = SplitMix64(seed: seed ^ 0x5EED)
        var shuffled = events
        shuffled.shuffle(using: &rng)
        var chunks: [[SignedEvent]] = []
        var rest = shuffled[...]
        while !rest.isEmpty {
            let n = Int.random(in: 1...12, using: &rng)
            chunks.append(Array(rest.prefix(n)))
            rest = rest.dropFirst(n)
        }
        let orders: [(String, [[SignedEvent]])] = Array(zip(Self.orderNames, [
            events.map { [$0] }, events.reversed().map { [$0] }, [events], shuffled.map { [$0] }, chunks,
        ]))
        var digests: [String] = []
        var held: [String] = []
        for (name, windows) in orders {
            let r = try replica("\(seed)-\(name)", team: team)
            for w in windows { _ = try r.store.applyRemote(w, now: clock.read()) }
            // In a team an event is refused, not kept, while the roster event that enrols its key
            // has not arrived: its sender offers it again, as here.
            if team { _ = try r.store.applyRemote(events, now: clock.read()) }
            // No event is left waiting for what the replica now holds (a wait that ended unwoken).
            let ended = try PendingWaitTests.endedWaits(r.store, now: clock.read())
            #expect(ended.isEmpty, "seed \(seed), \(name): \(ended)")
            // (Not what waits in pending for a cause that never comes: a bounded buffer, neither
            // projected nor forwarded, whose contents depend on what came when.)
            held.append(try r.store.read { db in
                try ["events", "quarantine"].map { table in
                    "\(table) " + (try String.fetchAll(db, sql: "SELECT lower(hex(substr(id, 1, 4))) FROM \(table) ORDER BY id")).joined(separator: " ")
                }.joined(separator: "; ")
            })
            let digest = try r.digest()
            #expect(try r.digest(recompute: true) == digest, "seed \(seed), \(name): the maintained digest is not the recomputed one")
            #expect(try r.rebuild().digest == digest, "seed \(seed), \(name): a rebuild changes the projections")
            digests.append(digest)
            // What an analyst reads next must work on whatever the lies left.
            _ = try r.status()
            for c in try r.conflicts(all: true) { _ = try r.conflict(c.id) }
            _ = try r.stixBundle(article: nil)
            _ = try r.webAnnotations(article: nil)
            _ = try r.search("the", limit: 20)
            try r.log(limit: nil) { _ in }
        }
        let r = try Replica.open(at: tmp.sub("\(seed)-forwards"), clock: clock.function)
        let counts = try r.store.read { db in
            try ["events", "pending", "quarantine", "forks", "events_not_understood", "notes", "conflicts", "facts", "candidates", "annotations", "anchors", "redactions", "tags", "links", "grades", "sources"]
                .map { "\($0) \(try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? 0)" }
        }
        print("seed \(seed): \(counts.joined(separator: ", "))")
        if Set(held).count > 1 {
            Issue.record("seed \(seed): arrival orders hold different events:\n\(zip(orders.map(\.0), held).map { "\($0): \($1)" }.joined(separator: "\n"))")
        }
        guard Set(digests).count > 1 else { return }
        // Name what differs: the rows of each table where an order's differ from the first's.
        let first = try ProjectionSnapshot.of(Replica.open(at: tmp.sub("\(seed)-\(orders[0].0)"), clock: clock.function))
        var differences: [String] = []
        for (i, (name, _)) in orders.enumerated() where digests[i] != digests[0] {
            let other = try ProjectionSnapshot.of(Replica.open(at: tmp.sub("\(seed)-\(name)"), clock: clock.function))
            for (table, rows) in other.tables where rows != first.tables[table] {
                let a = Set(first.tables[table] ?? []), b = Set(rows)
                differences.append("\(name), \(table): only \(orders[0].0) \(a.subtracting(b).sorted().prefix(3)), only \(name) \(b.subtracting(a).sorted().prefix(3))")
            }
        }
        Issue.record("seed \(seed): arrival orders give different projections: \(zip(orders.map(\.0), digests.map { $0.prefix(8) }).map { "\($0) \($1)" })\n\(differences.joined(separator: "\n"))")
    }

    /// The seeded history: four keys, each a chained feed with deps on the others, writing random
    /// payloads whose references are drawn from pools of real ids (of the right kind or another),
    /// made-up ids and malformed ones; a few events fork their feed.
    struct Generator {
        var rng: SplitMix64
        let keys: [ReplicaKey]
        let reference: Replica
        let clock: MockClock
        var feeds: [[EventID]]
        /// Per feed and seq: the seqs of every feed in that event's causal past (itself included).
        var pasts: [[[Int]]]
        var time: UInt64 = 1000
        var events: [SignedEvent] = []
        var pools: [String: [String]] = [:]
        var texts: [String: String] = [:]   // revision → text
        let t0 = HybridTime(milliseconds: 1_624_700_000_000).raw
        /// A team's history: feed 0 writes the genesis and is its first admin; `names` are the
        /// keys' analysts (the last key is added later, if ever).
        let inTeam: Bool
        var team = TeamID.none
        static let names = ["ana", "bo", "cy", "dee"]
        /// Per key: the seq of feed 0 whose `MemberAdded` enrolled it (its first event names it).
        var enrolledAt: [Int: Int] = [:]
        /// Keys that forked their feed (in a team they sign no roster event after).
        var forked: Set<Int> = []

        init(seed: UInt64, reference: Replica, clock: MockClock, team: Bool = false) throws {
            inTeam = team
            rng = SplitMix64(seed: seed)
            var keys: [ReplicaKey] = []
            for _ in 0..<4 { keys.append(try TrustBoundaryTests.seededKey(&rng)) }
            self.keys = keys
            self.reference = reference
            self.clock = clock
            feeds = Array(repeating: [], count: keys.count)
            pasts = Array(repeating: [], count: keys.count)
        }

        static let articleTexts = [
            "ISLAMABAD, June 26 — Officials from Pakistan and Azerbaijan met in Baku on Monday.\n\"We agreed,\" said Ali Khan, a minister.\nThe talks resume on 3 July 2021.",
            "BAKU, June 27 — The ministers of Turkey and Pakistan signed a pact.\nMore text follows here, with a date: 28 June 2021.",
            "No dateline at all. Café résumé naïve — ünïcödé text\twith tabs and \u{1F600} emoji.",
        ]
        static let bodies = ["one\ntwo\nthree", "one\nTWO\nthree", "caf\u{E9}", "cafe\u{301}", "x", "line\n\nblank", String(repeating: "long ", count: 50)]

        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        mutating func one<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }

        /// An id: mostly one of `kinds`' pools, else any event's, a made-up one or a malformed one.
        mutating func id(_ kinds: String...) -> String {
            let held = kinds.flatMap { pools[$0] ?? [] }
            switch Double.random(in: 0..<1, using: &rng) {
            case ..<0.35 where !held.isEmpty: return one(Array(held.suffix(3)))   // concurrent writes to a few objects
            case ..<0.65 where !held.isEmpty: return one(held)
            case ..<0.8 where !(pools["event"] ?? []).isEmpty: return one(pools["event"]!)
            case ..<0.9: return (0..<64).map { _ in String(UInt8.random(in: 0...15, using: &rng), radix: 16) }.joined()
            default: return one(["", "x", String(repeating: "a", count: 63), String(repeating: "A", count: 64), String(repeating: "a", count: 65)])
            }
        }

        mutating func add(_ pool: String, _ value: String) { pools[pool, default: []].append(value) }

        /// A selector into one of the revisions' texts: true to it or lying about it.
        mutating func selector() -> SpanSelector {
            let text = texts.isEmpty ? "nothing" : one(Array(texts.values).sorted())
            let scalars = Array(text.unicodeScalars)
            let start = Int.random(in: 0..<max(1, scalars.count - 1), using: &rng)
            let end = min(scalars.count, start + Int.random(in: 1...20, using: &rng))
            func s(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[max(0, r.lowerBound)..<min(scalars.count, max(r.lowerBound, r.upperBound))])) }
            var sel = SpanSelector(exact: s(start..<end), prefix: s(max(0, start - 32)..<start), suffix: s(end..<min(scalars.count, end + 32)),
                                   start: start, end: end)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: sel.start += 3; sel.end += 3                    // offsets that do not hold the text
            case 1: sel.exact = "not in the text"; sel.end = sel.start + sel.exact.unicodeScalars.count
            case 2: sel.end = sel.start                             // empty
            case 3: sel.start = 1_000_000; sel.end = 1_000_005; sel.exact = "abcde"
            default: break
            }
            return sel
        }

        mutating func record() -> FactRecord {
            FactRecord(subject: one(["Pakistan", "Ali Khan", "x"]), predicate: one(["met", "signed", "said"]), object: one(["Azerbaijan", "a pact", "Turkey"]),
                       when: chance(0.5) ? one(["2021-06-26", "June", "9999-12-31"]) : nil, where: chance(0.3) ? "Baku" : nil,
                       source: chance(0.3) ? id("source") : nil)
        }

        /// Signs `payload` as the next event of feed `f` (or, forking, a second event at its last seq).
        mutating func sign<P: EventPayload>(_ f: Int, _ payload: P, fork: Bool = false) throws -> SignedEvent {
            time += UInt64.random(in: 1...5000, using: &rng)
            let seq = UInt64(feeds[f].count + (fork ? 0 : 1))
            let prev = fork ? (feeds[f].count >= 2 ? feeds[f][feeds[f].count - 2] : .zero) : (feeds[f].last ?? .zero)
            // Deps name what grew since the event's own causal past (Protocol/01-event.md §Deps);
            // late in the history, a few name a seq that did not (refused alike everywhere, and all
            // that depends on them waits).
            var past = seq > 1 ? pasts[f][Int(seq) - 2] : Array(repeating: 0, count: keys.count)
            var deps: [(ReplicaID, UInt64)] = []
            for g in keys.indices where g != f && feeds[g].count > past[g] && chance(0.5) {
                let s = Int.random(in: past[g] + 1...feeds[g].count, using: &rng)
                deps.append((keys[g].replicaID, UInt64(events.count > 70 && chance(0.02) ? max(1, past[g]) : s)))
                for k in keys.indices { past[k] = max(past[k], pasts[g][s - 1][k]) }
            }
            past[f] = Int(seq)
            let e: SignedEvent
            if inTeam {
                // A key's first event has seen its enrolment (or it is refused, and its whole feed
                // with it). Deps are an honest writer's: every entry of its vector that grew — the
                // causal past is what the deps name, not what the events they name saw (Protocol/01
                // §Deps) — so a member's events see the roster events its feed saw through others.
                if f != 0, seq == 1, let at = enrolledAt[f] { for k in keys.indices { past[k] = max(past[k], pasts[0][at - 1][k]) } }
                let before = seq > 1 ? pasts[f][Int(seq) - 2] : Array(repeating: 0, count: keys.count)
                let vector = VersionVector(Dictionary(uniqueKeysWithValues: keys.indices.filter { $0 != f && past[$0] > before[$0] }
                    .map { (keys[$0].replicaID, UInt64(past[$0])) }))
                // Now and then a member's event names another analyst as its author (denied: its
                // feed stalls there). Feed 0, the team's creator, never lies about itself.
                let author = f != 0 && late && chance(0.03) ? one(Self.names) : Self.names[f]
                e = TeamTests.forge(keys[f], team: P.type == TeamCreated.type ? .none : team, seq: seq, prev: prev, deps: vector,
                                    author: author, payload: payload, time: t0 + time * 65_536)
            } else {
                e = try TrustBoundaryTests.signed(keys[f], seq: seq, prev: prev, time: t0 + time * 65_536, deps: deps, payload)
            }
            if !fork { feeds[f].append(e.id); pasts[f].append(past) }
            events.append(e)
            add("event", e.id.hex)
            // The reference replica applies as the history is written, for ids only the projector
            // derives (conflicts, candidates).
            _ = try reference.store.applyRemote([e], now: clock.read())
            return e
        }

        mutating func refresh() throws {
            let (conflicts, candidates) = try reference.store.read { db in
                (try String.fetchAll(db, sql: "SELECT conflict FROM conflicts"), try String.fetchAll(db, sql: "SELECT candidate FROM candidates"))
            }
            pools["conflict"] = conflicts
            pools["candidate"] = candidates
        }

        /// The genesis and the first members (two of three, roles drawn), by feed 0.
        mutating func startTeam() throws {
            let genesis = try sign(0, TeamCreated(name: "Desk", analyst: Self.names[0]))
            team = TeamID(genesis.id.raw)
            for k in 1...2 { try enrol(k) }
        }

        /// Late in a team's history members lie about the roster (denied: their feeds stall there,
        /// and what depends on them waits); before, only the creator changes it, within the rules,
        /// so that most of the history applies.
        var late: Bool { events.count > 60 }

        mutating func role() -> TeamRole { late && chance(0.3) ? .reader : chance(0.5) ? .admin : .analyst }

        mutating func enrol(_ k: Int) throws {
            _ = try sign(0, MemberAdded(analyst: Self.names[k], role: role(), key: keys[k].replicaID))
            enrolledAt[k] = feeds[0].count
        }

        /// A roster event by feed `f`, allowed or not: whoever signs it, whatever it names (feed 0
        /// never demotes, removes or revokes itself).
        mutating func rosterLie(_ f: Int) throws {
            let others = f == 0 ? Array(Self.names.dropFirst()) : Self.names
            let otherKeys = f == 0 ? Array(keys.dropFirst()) : keys
            guard late else {
                if enrolledAt[3] == nil && chance(0.5) { return try enrol(3) }
                _ = try sign(0, RoleChanged(analyst: one(Array(others.prefix(enrolledAt[3] == nil ? 2 : 3))), role: role()))
                return
            }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4:
                _ = try sign(f, RoleChanged(analyst: one(others + ["nobody"]), role: role()))
            case 4..<6 where enrolledAt[3] == nil && f == 0:
                try enrol(3)
            case 4..<7:
                _ = try sign(f, DeviceEnrolled(analyst: one(Self.names), key: one(otherKeys).replicaID))
            case 7:
                _ = try sign(f, MemberRemoved(analyst: one(others), reason: "left"))
            case 8:
                _ = try sign(f, KeyRevoked(key: one(otherKeys).replicaID, reason: "lost"))
            default:
                _ = try sign(f, MemberAdded(analyst: one(Self.names + ["eve"]), role: .admin, key: one(otherKeys).replicaID))
            }
        }

        mutating func history(count: Int) throws -> [SignedEvent] {
            if inTeam { try startTeam() }
            while events.count < count {
                // (In a team, a key writes once it is enrolled.)
                let writers = keys.indices.filter { !inTeam || $0 == 0 || enrolledAt[$0] != nil }
                let drawn = one(writers)
                var fork = !inTeam && !feeds[drawn].isEmpty && chance(0.012)
                if events.count % 10 == 0 { try refresh() }
                let kind = Int.random(in: 0..<(inTeam ? 26 : 22), using: &rng)
                // Early in a team's history amendments of facts and redactions are the admin's, and
                // so are they once the drawn key forked its feed.
                let f = inTeam && (!late || forked.contains(drawn)) && (kind == 18 || kind == 21) ? 0 : drawn
                if inTeam && f != 0 && kind < 21 && !feeds[f].isEmpty && chance(0.012) {
                    // In a team only a key whose frozen part can hold no roster event forks: a
                    // member's, at a seq that holds none, never signing one again.
                    let last = events.last { $0.id == feeds[f].last }!.envelope.type
                    fork = !RosterChange.types.contains(last)
                    if fork { forked.insert(f) }
                }
                if kind >= 22 {
                    let signer = late && (kind == 25 || !forked.contains(f)) ? f : 0
                    if kind < 25 {
                        try rosterLie(signer)
                    } else {
                        // Early the creator redacts what it may (its own events but the roster's); late,
                        // anyone redacts anything (a roster event, one outside its causal past).
                        // Half the late ones name an event of a forked feed, often in its frozen part.
                        let ofForked = events.filter { e in forked.contains { keys[$0].replicaID == e.envelope.replica } }
                        let victims = late ? (!ofForked.isEmpty && chance(0.5) ? ofForked : events)
                            : events.filter { $0.envelope.replica == keys[0].replicaID && !RosterChange.types.contains($0.envelope.type) }
                        if !victims.isEmpty { _ = try sign(signer, PayloadRedacted(event: one(victims).id, reason: "order")) }
                    }
                    continue
                }
                switch kind {
                case 0, 1:
                    let text = one(Self.articleTexts) + (chance(0.5) ? "" : "\nEdited \(Int.random(in: 0..<3, using: &rng)).")
                    var p = ArticleIngested(text: text, date: chance(0.7) ? one(["2021-06-26", "0001-01-01", "9999-12-31", "2021-02-30"]) : nil,
                                            dateline: chance(0.5) ? one(["BAKU", "ISLAMABAD", "EVIL"]) : nil, places: chance(0.5) ? ["BAKU"] : [], filename: nil)
                    if chance(0.6) {
                        p.rulesVersion = Int64(Extraction.rulesVersion)
                        p.candidates = Extraction.extract(text: text, articleDate: p.date).map(\.cbor)
                        if chance(0.15) && !p.candidates.isEmpty { p.candidates[0] = .map([:]) }
                    }
                    _ = try sign(f, p, fork: fork)
                    add("article", p.article); add("revision", p.sha256); texts[p.sha256] = text
                case 2:
                    let text = one(Self.articleTexts) + "\nRevised \(Int.random(in: 0..<3, using: &rng))."
                    let revision = ArticleIngested(text: text, date: nil, dateline: nil, places: [], filename: nil)
                    let p = ArticleRevised(article: id("article"), previous: id("revision"), revision: revision)
                    _ = try sign(f, p, fork: fork)
                    add("revision", p.sha256); texts[p.sha256] = text
                case 3:
                    var text = texts.isEmpty ? one(Self.articleTexts) : one(Array(texts.values).sorted())
                    if chance(0.3) { text += " different" }
                    var c = Extraction.extract(text: text, articleDate: nil)
                    if chance(0.3) && !c.isEmpty { c[0].value = "Evil Person"; c[0].kind = "person" }
                    let p = CandidatesExtracted(article: id("article"), revision: id("revision"),
                                                rulesVersion: one([Int64(Extraction.rulesVersion), Int64(Extraction.rulesVersion + 1), 0]), candidates: c.map(\.cbor))
                    _ = try sign(f, p, fork: fork)
                case 4, 5, 6:
                    let e = try sign(f, NoteAdded(on: id("article", "note", "fact", "annotation", "candidate", "revision", "source"), body: one(Self.bodies)), fork: fork)
                    add("note", e.id.hex)
                case 7, 8, 9:
                    _ = try sign(f, NoteEdited(note: id("note"), body: one(Self.bodies) + (chance(0.5) ? "\n\(f)" : "")), fork: fork)
                case 10:
                    _ = try sign(f, NoteDeleted(note: id("note")), fork: fork)
                case 11, 12:
                    // Resolutions: of conflicts that exist (with their real candidates, a subset or
                    // others), and of made-up ones; a value, a deletion or a pick.
                    let conflict = id("conflict")
                    let info = try reference.store.read { db in
                        try Row.fetchOne(db, sql: "SELECT object, field FROM conflicts WHERE conflict = ?", arguments: [conflict])
                    }
                    var candidates = try reference.store.read { db in
                        try String.fetchAll(db, sql: "SELECT event FROM conflict_candidates WHERE conflict = ?", arguments: [conflict])
                    }
                    if candidates.isEmpty || chance(0.3) { candidates = [id("event"), id("event")] }
                    if chance(0.2) { candidates.removeLast() }
                    let deleted = chance(0.2)
                    let field: String = (info?[1] as String?) ?? one(["body", "credibility", "reliability", "record", "bogus"])
                    let value: String? = deleted ? nil : one(["resolved", "3", "B", "subject: x\npredicate: y\nobject: z", "one\ntwo"])
                    let p = ConflictResolved(conflict: conflict, object: (info?[0] as String?) ?? id("note", "fact", "source"), field: field, candidates: candidates,
                                             value: value, deleted: deleted, picked: !candidates.isEmpty && chance(0.3) ? one(candidates) : nil, reason: chance(0.5) ? "because" : nil)
                    _ = try sign(f, p, fork: fork)
                case 13:
                    let e = try sign(f, TagAdded(object: id("article", "note", "fact"), tag: one(["x", "Ünï", "y y"])), fork: fork)
                    add("tagAddition", e.id.hex)
                case 14:
                    let additions = (pools["tagAddition"] ?? []).filter { _ in chance(0.3) } + (chance(0.2) ? [id("event")] : [])
                    _ = try sign(f, TagRemoved(object: id("article", "note", "fact"), tag: one(["x", "Ünï", "y y"]), additions: additions), fork: fork)
                case 15:
                    let e = try sign(f, LinkAdded(from: id("note", "fact"), relation: one(["supports", "refutes", "x"]), to: id("article", "fact")), fork: fork)
                    add("linkAddition", e.id.hex)
                case 16:
                    let additions = (pools["linkAddition"] ?? []).filter { _ in chance(0.3) } + (chance(0.2) ? [id("event")] : [])
                    _ = try sign(f, LinkRemoved(additions: additions), fork: fork)
                case 17:
                    let p = FactAdded(article: id("article"), revision: id("revision"), record: record(), evidence: selector(),
                                      fromCandidate: chance(0.3) ? id("candidate") : nil)
                    let e = try sign(f, p, fork: fork)
                    add("fact", e.id.hex)
                case 18:
                    let field = one(FactRecord.fields + ["bogus"])
                    if chance(0.7) {
                        _ = try sign(f, FactAmended(fact: id("fact"), field: field, record: record()), fork: fork)
                    } else {
                        _ = try sign(f, FactRetracted(fact: id("fact"), reason: "wrong"), fork: fork)
                    }
                case 19:
                    if chance(0.4) {
                        var p = SourceAdded(name: one(["Reuters", "reuters", "AP"]), kind: chance(0.5) ? "wire" : nil)
                        if chance(0.2) { p.source = id("source") }
                        _ = try sign(f, p, fork: fork)
                        add("source", p.source)
                    } else if chance(0.5) {
                        _ = try sign(f, SourceGraded(source: id("source"), reliability: one(["A", "B", "F", "Z", ""]), reason: nil), fork: fork)
                    } else {
                        _ = try sign(f, FactGraded(fact: id("fact"), credibility: one(["1", "2", "3", "6", "9"]), reason: chance(0.5) ? "r" : nil), fork: fork)
                    }
                case 20:
                    let e = try sign(f, AnnotationAdded(article: id("article"), revision: id("revision"), target: selector(), comment: chance(0.5) ? "c" : nil), fork: fork)
                    add("annotation", e.id.hex)
                default:
                    if chance(0.25), !feeds[f].isEmpty {
                        // Without a team a key may redact only its own events; late in the history,
                        // some try another's (refused alike everywhere).
                        let victim = events.count > 70 && chance(0.3) ? one(events).id : one(feeds[f])
                        _ = try sign(f, PayloadRedacted(event: victim, reason: "order"), fork: fork)
                    } else {
                        _ = try sign(f, AnchorDecided(object: id("annotation", "fact"), revision: id("revision"), decision: one(["confirm", "retarget", "orphan"]),
                                                      selector: selector()), fork: fork)
                    }
                }
            }
            return events
        }
    }
}
