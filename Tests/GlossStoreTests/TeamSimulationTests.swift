import Foundation
import GRDB
import GlossEngine
import GlossMerge
import GlossModel
import GlossStore
import GlossSync
import GlossTestSupport
import Testing

/// The multi-replica simulation with a team (Protocol/11-teams.md): honest replicas (two admins, an
/// analyst with a second device, a reader, a device still joining) write notes, tags, facts and
/// roster changes at random — every write the local check refuses must throw and write nothing —
/// while modified clients forge events with real keys and hand-picked deps (readers writing,
/// non-admins changing the roster, revoked keys writing after seeing the revocation, strangers
/// with the team id, events of another team or of none, events naming another analyst, amendments of
/// someone else's fact, an admin's device writing roster changes from a stale view). Everything
/// travels in real bundle files, queued, reordered, duplicated, dropped and built against stale or
/// too-new bases, then healed. After healing every replica holds the same vector, digests, roster,
/// quarantine and conflicts, and what happened to each forged event is what `TeamOracle` — the
/// specification read independently — says of it.
@Suite(.serialized) struct TeamSimulationTests {
    static var seeds: [UInt64] {
        let base = ProcessInfo.processInfo.environment["GLOSS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max >> 1)
        let n = ProcessInfo.processInfo.environment["GLOSS_LARGE"] == "1" ? 200 : 20
        return (0..<UInt64(n)).map { base &+ $0 }
    }

    @Test func randomTeamHistoriesWithForgeriesMatchTheSpecificationAndConverge() throws {
        let seeds = Self.seeds
        print("TeamSimulationTests: \(seeds.count) seeds from GLOSS_SEED=\(seeds[0]) (GLOSS_LARGE=1 for 200)")
        var totals = TeamSim.Stats()
        let start = Date()
        for seed in seeds {
            let sim = try TeamSim(seed: seed)
            defer { sim.tmp.remove() }
            try sim.run(steps: 80)
            try sim.heal()
            try sim.check()
            totals.add(sim.stats)
        }
        print("TeamSimulationTests: \(totals) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        #expect(totals.forgedAccepted > 0 && totals.forgedRefused > 0 && totals.forgedDenied > 0, "every verdict happened")
        #expect(totals.honestRefused > 0 && totals.rosterChanges > 0)
        #expect(totals.concurrentRoles > 0, "concurrent role changes happened")
        #expect(totals.othersFacts > 0, "modified clients amended others' facts")
    }
}

final class TeamSim {
    struct Stats: CustomStringConvertible {
        var forgedAccepted = 0, forgedRefused = 0, forgedDenied = 0, honestWrites = 0, honestRefused = 0, rosterChanges = 0
        var bundles = 0, dropped = 0, duplicated = 0, concurrentRoles = 0, removalAgainstAddition = 0, othersFacts = 0
        mutating func add(_ o: Stats) {
            othersFacts += o.othersFacts
            concurrentRoles += o.concurrentRoles; removalAgainstAddition += o.removalAgainstAddition
            forgedAccepted += o.forgedAccepted; forgedRefused += o.forgedRefused; forgedDenied += o.forgedDenied
            honestWrites += o.honestWrites; honestRefused += o.honestRefused; rosterChanges += o.rosterChanges
            bundles += o.bundles; dropped += o.dropped; duplicated += o.duplicated
        }
        var description: String {
            "forged accepted \(forgedAccepted), refused \(forgedRefused), denied \(forgedDenied); honest writes \(honestWrites), refused locally \(honestRefused), roster changes \(rosterChanges); bundles \(bundles), dropped \(dropped), duplicated \(duplicated); concurrent role writes \(concurrentRoles), removal against addition \(removalAgainstAddition), forged amendments of others' facts \(othersFacts)"
        }
    }

    /// A modified client: a real key writing its own feed with whatever deps it likes.
    final class Forger {
        let name: String
        let key: ReplicaKey
        /// The analyst it is enrolled for (nil: a stranger).
        let analyst: String?
        var seq: UInt64 = 0
        var prev = EventID.zero
        var fullDeps: [ReplicaID: UInt64] = [:]
        var retired = false
        init(_ name: String, key: ReplicaKey, analyst: String?) { self.name = name; self.key = key; self.analyst = analyst }
    }

    struct Forged {
        var event: SignedEvent
        var verdict: TeamOracle.Verdict
        var bundle: URL
        var what: String
    }

    let seed: UInt64
    let tmp: TempDir
    let clock = MockClock(start: 1_624_800_000_000, step: 7)
    var rng: SplitMix64
    var replicas: [Replica] = []
    var forgers: [Forger] = []
    let team: TeamID
    var article = ""
    /// Every accepted roster event (honest or forged), with its full deps, as the test recorded them.
    var accepted: [OracleRosterEvent] = []
    /// The author of every fact (by id), as written.
    var factAuthors: [String: String] = [:]
    var forged: [Forged] = []
    var mailbox: [(file: URL, to: Int, fromJoining: Bool)] = []
    var stats = Stats()
    var analystNames = ["ana", "bo", "cy", "dee", "eve", "rex", "mal", "fin", "gus"]
    var failures = 0

    func fail(_ message: String) {
        failures += 1
        Issue.record("\(message) (GLOSS_SEED=\(seed))")
    }

    init(seed: UInt64) throws {
        self.seed = seed
        rng = SplitMix64(seed: seed)
        tmp = TempDir("gloss-teamsim", in: memoryTempBase)
        let k = { (n: String) in fixedKey("teamsim/\(seed)/\(n)") }
        let ana = try Replica.create(in: tmp.sub("ana"), analyst: "ana", key: k("ana"), team: .create(name: "Desk"), clock: clock.function)
        team = try ana.teamID
        replicas.append(ana)
        for (name, dir) in [("bo", "bo"), ("cy", "cy"), ("cy", "cy2"), ("dee", "dee"), ("eve", "eve"), ("gus", "gus")] {
            replicas.append(try Replica.create(in: tmp.sub(dir), analyst: name, key: k(dir), team: .join, clock: clock.function))
        }
        forgers = [Forger("ana-laptop", key: k("ana-laptop"), analyst: "ana"), Forger("rex", key: k("rex"), analyst: "rex"),
                   Forger("mal", key: k("mal"), analyst: "mal"), Forger("cy-phone", key: k("cy-phone"), analyst: "cy"),
                   Forger("fin", key: k("fin"), analyst: "fin"), Forger("mal-phone", key: k("mal-phone"), analyst: "mal"),
                   Forger("gus-phone", key: k("gus-phone"), analyst: "gus"), Forger("cy-tablet", key: k("cy-tablet"), analyst: "cy"),
                   Forger("stranger1", key: k("x1"), analyst: nil), Forger("stranger2", key: k("x2"), analyst: nil)]
        try recordGenesis(ana)
        article = try ana.ingest(bytes: Array("date 2021-06-26 KYIV – A first line.\nA second line.\n".utf8), filename: "a.txt").id
        // The starting roster (eve joins later, by a random admin step).
        try honestRoster(ana, "add bo admin") { try $0.addMember("bo", role: .admin, key: self.replicas[1].replicaID) }
        try honestRoster(ana, "add cy analyst") { try $0.addMember("cy", role: .analyst, key: self.replicas[2].replicaID) }
        try honestRoster(ana, "enrol cy2") { try $0.enrolDevice("cy", key: self.replicas[3].replicaID) }
        try honestRoster(ana, "add dee reader") { try $0.addMember("dee", role: .reader, key: self.replicas[4].replicaID) }
        try honestRoster(ana, "enrol ana-laptop") { try $0.enrolDevice("ana", key: self.forgers[0].key.replicaID) }
        try honestRoster(ana, "add rex reader") { try $0.addMember("rex", role: .reader, key: self.forgers[1].key.replicaID) }
        try honestRoster(ana, "add mal analyst") { try $0.addMember("mal", role: .analyst, key: self.forgers[2].key.replicaID) }
        try honestRoster(ana, "enrol cy-phone") { try $0.enrolDevice("cy", key: self.forgers[3].key.replicaID) }
        try honestRoster(ana, "add fin analyst") { try $0.addMember("fin", role: .analyst, key: self.forgers[4].key.replicaID) }
        try honestRoster(ana, "add gus analyst") { try $0.addMember("gus", role: .analyst, key: self.replicas[6].replicaID) }
        for (i, analyst) in [(5, "mal"), (6, "gus"), (7, "cy")] {
            try honestRoster(ana, "enrol \(forgers[i].name)") { try $0.enrolDevice(analyst, key: self.forgers[i].key.replicaID) }
        }
        for r in replicas.dropFirst() where r.analyst != "eve" { try direct(ana, r) }
    }

    // MARK: The oracle's bookkeeping

    func view(_ v: [ReplicaID: UInt64]) -> TeamOracle { TeamOracle(accepted.filter { (v[$0.signer] ?? 0) >= $0.seq }) }

    func recordGenesis(_ ana: Replica) throws {
        var genesis: LogEntry?
        try ana.log(limit: nil) { if $0.envelope.seq == 1 { genesis = $0 } }
        accepted.append(OracleRosterEvent(id: genesis!.envelope.id, signer: ana.replicaID, seq: 1, deps: [:],
                                          change: .created(TeamCreated(name: "Desk", analyst: "ana"))))
    }

    /// What the specification says of a write by `r` of `type` (its causal past: everything `r` holds).
    func expectation(_ r: Replica, type: String, change: RosterChange?, factAuthor: String? = nil) throws -> TeamOracle.Verdict {
        let v = try r.vector.entries
        let o = view(v)
        guard o.team != nil else { return .refused("no roster yet") }
        return o.judge(team: team, eventTeam: team, signer: r.replicaID, author: r.analyst, type: type, change: change, factAuthor: factAuthor)
    }

    /// Runs an honest roster change and checks it against the oracle: refused by the spec ⇒ it throws
    /// and writes nothing; allowed ⇒ it succeeds unless a local safety rule applies.
    func honestRoster(_ r: Replica, _ what: String, _ change: RosterChange? = nil, _ body: @escaping (Replica) throws -> SignedEvent) throws {
        let before = try r.vector
        let expected: TeamOracle.Verdict = if let change { try expectation(r, type: Self.type(change), change: change) } else { .accepted }
        do {
            let e = try body(r)
            guard let c = try RosterChange(type: e.envelope.type, schema: e.envelope.schema, payload: e.payload) else {
                fail("\(what): not a roster event"); return
            }
            if !expected.isAccepted { fail("\(r.analyst)@\(r.replicaID.short) wrote \(what), which the specification \(expected)") }
            var deps = before.entries; deps[r.replicaID] = nil
            accepted.append(OracleRosterEvent(id: e.id, signer: r.replicaID, seq: e.envelope.seq, deps: deps, change: c))
            stats.rosterChanges += 1; stats.honestWrites += 1
        } catch {
            if try r.vector != before { fail("\(what) threw (\(error)) but wrote") }
            stats.honestRefused += 1
            let local = ["last admin", "cannot revoke itself", "already revoked", "cannot remove themselves", "not on the team's roster (see"]
            if expected.isAccepted && !local.contains(where: { "\(error)".contains($0) }) {
                fail("\(r.analyst)@\(r.replicaID.short): \(what) is allowed by the specification but threw: \(error)")
            }
        }
    }

    /// Runs an honest non-roster write and checks it against the oracle.
    func honestWrite(_ r: Replica, _ what: String, type: String, factAuthor: String? = nil, _ body: (Replica) throws -> Created) throws {
        let before = try r.vector
        let expected = try expectation(r, type: type, change: nil, factAuthor: factAuthor)
        do {
            let c = try body(r)
            if !expected.isAccepted && !c.existing { fail("\(r.analyst)@\(r.replicaID.short) wrote \(what), which the specification \(expected)") }
            if type == FactAdded.type { factAuthors[c.id] = r.analyst }
            stats.honestWrites += 1
        } catch {
            if try r.vector != before { fail("\(what) threw (\(error)) but wrote") }
            stats.honestRefused += 1
            // An amendment that would settle an open conflict of the fact unseen is refused
            // whoever writes it (Replica.refuseSettlingAnOpenRecordConflict), before any team rule.
            if "\(error)".contains("has an open conflict") { return }
            if expected.isAccepted { fail("\(r.analyst)@\(r.replicaID.short): \(what) is allowed by the specification but threw: \(error)") }
            else if expected != .refused("no roster yet") && !"\(error)".contains("not permitted") && !"\(error)".contains("cannot write") && !"\(error)".contains("joining") {
                fail("\(what) refused without saying why it is not permitted: \(error)")
            }
        }
    }

    static func type(_ c: RosterChange) -> String {
        switch c {
        case .created: TeamCreated.type
        case .added: MemberAdded.type
        case .enrolled: DeviceEnrolled.type
        case .roleChanged: RoleChanged.type
        case .revoked: KeyRevoked.type
        case .removed: MemberRemoved.type
        }
    }

    // MARK: Steps

    func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
    func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    func run(steps: Int) throws {
        for _ in 0..<steps {
            let roll = rng.next() % 100
            if roll < 25 { try honestDataStep() }
            else if roll < 37 { try honestRosterStep() }
            else if roll < 45 { try concurrentRosterStep() }
            else if roll < 70 { try forgeStep() }
            else if roll < 87 { try bundleStep() }
            else { try deliverStep() }
        }
    }

    func honestDataStep() throws {
        let r = pick(replicas)
        switch rng.next() % 6 {
        case 0: try honestWrite(r, "a note", type: NoteAdded.type) { try $0.addNote(on: self.article, body: "note \(self.rng.next() % 1000)") }
        case 1: try honestWrite(r, "a tag", type: TagAdded.type) { try $0.tag(self.article, "t\(self.rng.next() % 4)") }
        case 2, 3:
            var input = FactInput()
            input.article = article; input.evidence = "A first line"; input.subject = "s\(rng.next() % 5)"; input.predicate = "said"; input.object = "o"
            try honestWrite(r, "a fact", type: FactAdded.type) { try $0.addFact(input) }
        default:
            let facts = try r.store.read { db in try String.fetchAll(db, sql: "SELECT fact FROM facts WHERE retracted = 0 ORDER BY fact") }
            guard !facts.isEmpty else { return }
            let fact = pick(facts)
            guard let author = factAuthors[fact] else { fail("fact \(fact) of unknown author"); return }
            if chance(80) {
                let value = "v\(rng.next())"   // never the current value: an amendment to it is refused as a no-op
                try honestWrite(r, "an amendment of \(author)'s fact", type: FactAmended.type, factAuthor: author) { try $0.amendFact(fact, field: .object, value: value) }
            } else {
                try honestWrite(r, "a retraction of \(author)'s fact", type: FactRetracted.type, factAuthor: author) { try $0.retractFact(fact, reason: "wrong") }
            }
        }
    }

    /// The keys an admin may name: every replica's and forger's, and a fresh one.
    func someKey() -> ReplicaID {
        let all = replicas.map(\.replicaID) + forgers.map(\.key.replicaID)
        return chance(25) ? fixedKey("teamsim/\(seed)/fresh\(rng.next() % 1_000_000)").replicaID : pick(all)
    }

    /// Replicas whose own key is an admin's in their own view.
    func adminReplicas() throws -> [Replica] {
        try replicas.filter { r in view(try r.vector.entries).member(r.replicaID)?.role == .admin }
    }

    /// Two admins change the roster about one analyst without seeing each other's change (concurrent
    /// role changes, removal against addition or role change, revocations of each other's keys).
    func concurrentRosterStep() throws {
        let admins = try adminReplicas()
        guard admins.count >= 2 else { return try honestRosterStep() }
        let a = pick(admins), b = pick(admins.filter { $0 !== a })
        let analyst = pick(["cy", "dee", "mal", "rex", "fin", "eve", a.analyst == b.analyst ? "cy" : b.analyst])
        for r in [a, b] { try honestRosterStep(on: r, analyst: analyst) }
    }

    func honestRosterStep() throws {
        let admins = try adminReplicas()
        try honestRosterStep(on: !admins.isEmpty && chance(70) ? pick(admins) : pick(replicas), analyst: pick(analystNames))
    }

    func honestRosterStep(on r: Replica, analyst: String) throws {
        let role = pick(TeamRole.allCases)
        switch rng.next() % 10 {
        case 0, 1, 2:
            // Rarely demote to reader or remove an admin, so the team keeps changing its roster.
            let change = RosterChange.roleChanged(RoleChanged(analyst: analyst, role: role))
            try honestRoster(r, "role \(analyst) → \(role)", change) { try $0.changeRole(analyst, to: role) }
        case 3, 4:
            let eve = replicas[5].replicaID
            let key = analyst == "eve" && chance(70) ? eve : someKey()
            let change = RosterChange.added(MemberAdded(analyst: analyst, role: role, key: key))
            try honestRoster(r, "add \(analyst) as \(role) with \(key.short)", change) { try $0.addMember(analyst, role: role, key: key) }
        case 5:
            let key = someKey()
            let change = RosterChange.enrolled(DeviceEnrolled(analyst: analyst, key: key))
            try honestRoster(r, "enrol \(key.short) for \(analyst)", change) { try $0.enrolDevice(analyst, key: key) }
        case 6, 7, 8:
            // Revoke a forger's or a replica's key (never both admins' main keys in one run, mostly).
            let key = chance(70) ? pick(forgers.dropLast(2)).key.replicaID : someKey()
            let change = RosterChange.revoked(KeyRevoked(key: key, reason: "lost"))
            try honestRoster(r, "revoke \(key.short)", change) { try $0.revokeKey(key, reason: "lost") }
        default:
            let who = chance(30) ? pick(["mal", "rex", "fin", "dee", "cy"]) : analyst
            let change = RosterChange.removed(MemberRemoved(analyst: who, reason: "left"))
            try honestRoster(r, "remove \(who)", change) { try $0.removeMember(who, reason: "left") }
        }
    }

    /// A forged event: a forger picks a view (some replica's vector now), and writes something.
    func forgeStep() throws {
        let live = forgers.filter { !$0.retired }
        guard !live.isEmpty else { return }
        let f = pick(live)
        let source = pick(replicas.filter { (try? $0.teamMode) != .joining })
        let snapshot = try source.vector.entries
        // The forger "saw" the source's events: its full deps grow to include them (monotonic).
        var full = f.fullDeps
        if chance(75) || f.seq == 0 { full.merge(snapshot) { max($0, $1) } }
        full[f.key.replicaID] = nil
        let analyst = f.analyst ?? "mallory"
        var author = analyst
        var eventTeam = team
        let payload: any EventPayload
        var change: RosterChange?
        var factAuthor: String?
        var what: String
        switch rng.next() % 10 {
        case 0, 1:
            payload = NoteAdded(on: article, body: "forged by \(f.name) \(rng.next() % 1000)"); what = "a note"
        case 2:
            author = pick(analystNames.filter { $0 != analyst }); payload = NoteAdded(on: article, body: "as \(author)"); what = "a note naming \(author)"
        case 3, 4:
            let facts = try source.store.read { db in try String.fetchAll(db, sql: "SELECT fact FROM facts ORDER BY fact") }
            let others = facts.filter { factAuthors[$0] != analyst }
            guard let fact = facts.isEmpty ? nil : pick(others.isEmpty ? facts : others), full == full.merging(snapshot, uniquingKeysWith: { max($0, $1) }) else {
                payload = NoteAdded(on: article, body: "n"); what = "a note"; break
            }
            factAuthor = factAuthors[fact]
            if factAuthor != analyst { stats.othersFacts += 1 }
            payload = FactAmended(fact: fact, field: "object", record: FactRecord(subject: "s", predicate: "said", object: "forged", when: nil, where: nil, source: nil))
            what = "an amendment of \(factAuthor ?? "?")'s fact"
        case 5:
            if chance(50) { eventTeam = .none; what = "a note of no team" } else {
                eventTeam = TeamID(Bytes32.sha256(Array("another team".utf8))); what = "a note of another team"
            }
            payload = NoteAdded(on: article, body: "elsewhere")
        default:
            let c: RosterChange
            switch rng.next() % 5 {
            case 0: c = .roleChanged(RoleChanged(analyst: pick(analystNames), role: pick(TeamRole.allCases)))
            case 1: c = .added(MemberAdded(analyst: pick(analystNames + ["zed"]), role: pick(TeamRole.allCases), key: someKey()))
            case 2: c = .enrolled(DeviceEnrolled(analyst: pick(analystNames), key: someKey()))
            case 3: c = .revoked(KeyRevoked(key: someKey(), reason: "forged"))
            default: c = .removed(MemberRemoved(analyst: pick(analystNames), reason: "forged"))
            }
            change = c
            switch c {
            case .roleChanged(let p): payload = p
            case .added(let p): payload = p
            case .enrolled(let p): payload = p
            case .revoked(let p): payload = p
            case .removed(let p): payload = p
            case .created(let p): payload = p
            }
            what = "a \(Self.type(c))"
        }
        // The verdict of the specification, from the event's causal past alone.
        var past = full; past[f.key.replicaID] = f.seq
        let o = view(past)
        let verdict = o.judge(team: team, eventTeam: eventTeam, signer: f.key.replicaID, author: author,
                              type: Swift.type(of: payload).type, change: change, factAuthor: factAuthor)
        let seq = f.seq + 1
        let bytes = payload.encoded
        let delta: [(replica: ReplicaID, seq: UInt64)] = full.filter { $0.value > (f.fullDeps[$0.key] ?? 0) }.sorted { $0.key < $1.key }.map { (replica: $0.key, seq: $0.value) }
        let env = EventEnvelope(team: eventTeam, key: f.key, seq: seq, prev: f.prev, time: HybridTime(milliseconds: clock.read()),
                                depsDelta: delta, author: author, type: Swift.type(of: payload).type, schema: Swift.type(of: payload).schema, payload: bytes)
        let e = SignedEvent(envelope: env, payload: bytes)
        let file = tmp.sub("forged-\(forged.count).glossb")
        var base = VersionVector(); if seq > 1 { base[f.key.replicaID] = seq - 1 }
        var sender = VersionVector(); sender[f.key.replicaID] = seq
        try FileManager.default.createFile(atPath: file.path, contents: nil) ? () : ()
        let handle = try FileHandle(forWritingTo: file)
        var w = try BundleWriter(handle: handle, header: BundleHeader(team: team, sender: f.key.replicaID, senderVector: sender, baseVector: base, eventCount: 1), key: f.key)
        try w.append(envelope: env.bytes, payload: bytes)
        try w.finish()
        try handle.close()
        forged.append(Forged(event: e, verdict: verdict, bundle: file, what: "\(f.name) (\(f.analyst ?? "stranger")) forged \(what), seq \(seq)"))
        mailbox.append((file, Int(rng.next() % UInt64(replicas.count)), false))
        if verdict.isAccepted {
            f.seq = seq; f.prev = e.id; f.fullDeps = full
            if let change { accepted.append(OracleRosterEvent(id: e.id, signer: f.key.replicaID, seq: seq, deps: full, change: change)) }
            stats.forgedAccepted += 1
        } else {
            // A refused or denied event ends that modified client's feed (anything after it would stall).
            f.retired = true
            if verdict.isRefused { stats.forgedRefused += 1 } else { stats.forgedDenied += 1 }
        }
    }

    /// Writes a bundle from one replica to another into the mailbox: usually against the receiver's
    /// vector, sometimes against an empty or older one (duplicates), sometimes against a vector with
    /// one feed too far ahead (the receiver parks what follows the gap).
    func bundleStep() throws {
        let a = Int(rng.next() % UInt64(replicas.count)), b = Int(rng.next() % UInt64(replicas.count))
        guard a != b else { return }
        var base = try replicas[b].vector
        switch rng.next() % 6 {
        case 0: base = VersionVector()
        case 1:
            let feeds = try replicas[a].vector.entries.filter { $0.value > 1 }
            if let (r, s) = feeds.isEmpty ? nil : pick(Array(feeds).sorted { $0.key < $1.key }) { base[r] = max(base[r], s - 1) }
        default: break
        }
        let file = tmp.sub("b-\(stats.bundles).glossb")
        stats.bundles += 1
        let joining = try replicas[a].teamMode == .joining
        _ = try replicas[a].exportBundle(to: file, base: base)
        mailbox.append((file, b, joining))
    }

    func deliverStep() throws {
        guard !mailbox.isEmpty else { return }
        let i = Int(rng.next() % UInt64(mailbox.count))
        let (file, to, fromJoining) = mailbox[i]
        switch rng.next() % 10 {
        case 0: stats.dropped += 1; mailbox.remove(at: i)                                     // lost
        case 1: stats.duplicated += 1; try importQuietly(file, to, fromJoining)             // delivered, and stays queued
        default: mailbox.remove(at: i); try importQuietly(file, to, fromJoining)
        }
    }

    /// Imports a bundle; only a bundle of a replica that was still joining (of no team) may be refused whole.
    func importQuietly(_ file: URL, _ to: Int, _ fromJoining: Bool) throws {
        // A forged event whose key no roster event the receiver holds enrols is refused on arrival:
        // it must not wait in pending or sit in quarantine ("strangers fill nothing").
        let r = replicas[to]
        let f = forged.first { $0.bundle == file }
        // (On a member replica: 11 §Judgement. A replica still joining parks a team's events until
        // its genesis arrives; the specification does not say otherwise.)
        let stranger = try r.teamMode != .joining && f.map { !view(try r.vector.entries).everEnrolled($0.event.envelope.replica) } ?? false
        defer {
            if let f, stranger {
                let id = Data(f.event.id.raw.bytes)
                let parked = (try? r.store.read { db in
                    let p = try Bool.fetchOne(db, sql: "SELECT 1 FROM pending WHERE id = ?", arguments: [id]) ?? false
                    let q = try Bool.fetchOne(db, sql: "SELECT 1 FROM quarantine WHERE id = ?", arguments: [id]) ?? false
                    return p || q
                }) ?? false
                if parked { fail("\(f.what): its key is enrolled by nothing \(r.analyst)@\(r.replicaID.short) holds, yet it was parked or quarantined") }
            }
        }
        do { _ = try replicas[to].importBundle(at: file) } catch {
            if !(fromJoining && "\(error)".contains("is of no team")) {
                fail("import into \(replicas[to].analyst)@\(replicas[to].replicaID.short) threw: \(error)")
            }
        }
    }

    func direct(_ a: Replica, _ b: Replica) throws {
        let file = tmp.sub("d-\(UUID().uuidString.prefix(8)).glossb")
        _ = try a.exportBundle(to: file, base: try b.vector)
        _ = try b.importBundle(at: file)
    }

    // MARK: Healing and checks

    func heal() throws {
        for round in 0..<8 {
            for f in forged { for r in replicas { _ = try? r.importBundle(at: f.bundle) } }
            for a in replicas where try a.teamMode != .joining { for b in replicas where a !== b { try direct(a, b) } }
            let vectors = try replicas.map { try $0.vector }
            let pending = try replicas.map { r in try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pending")! } }
            if round > 0 && Set(vectors.map { "\($0.entries.sorted { $0.key < $1.key })" }).count == 1 && pending.allSatisfy({ $0 == 0 }) { break }
        }
    }

    func check() throws {
        let first = replicas[0]
        func state(_ r: Replica) throws -> (vector: VersionVector, digest: String, recomputed: String, roster: Roster, quarantine: [Data], conflicts: [String], pending: Int) {
            let (roster, quarantine, conflicts, pending) = try r.store.read { db in
                (try r.store.roster(db), try Data.fetchAll(db, sql: "SELECT id FROM quarantine ORDER BY id"),
                 try String.fetchAll(db, sql: "SELECT conflict || ' ' || state || ' ' || candidates FROM conflicts ORDER BY conflict"),
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM pending")!)
            }
            return (try r.vector, try r.digest(), try r.digest(recompute: true), roster, quarantine, conflicts, pending)
        }
        let s0 = try state(first)
        #expect(s0.digest == s0.recomputed, "GLOSS_SEED=\(seed)")
        for r in replicas {
            let s = try state(r)
            let who = "\(r.analyst)@\(r.replicaID.short) vs \(first.analyst): GLOSS_SEED=\(seed)"
            #expect(s.pending == 0, "nothing waits after healing: \(who)")
            #expect(s.vector == s0.vector, "vector \(who)")
            #expect(s.digest == s0.digest && s.recomputed == s0.digest, "digest \(who)")
            #expect(s.roster == s0.roster, "roster \(who)")
            #expect(s.quarantine == s0.quarantine, "quarantine \(who)")
            #expect(s.conflicts == s0.conflicts, "conflicts \(who)")
        }
        // How often the concurrency rules were exercised.
        for a in analystNames {
            let setters = accepted.filter { e in
                switch e.change { case .roleChanged(let p): p.analyst == a; case .added(let p): p.analyst == a; default: false }
            }
            if TeamOracle.maxima(setters).count > 1 { stats.concurrentRoles += 1 }
            let presence = TeamOracle.maxima(accepted.filter { e in
                switch e.change { case .removed(let p): p.analyst == a; case .added(let p): p.analyst == a; default: false }
            })
            if presence.contains(where: { if case .removed = $0.change { true } else { false } }) && presence.contains(where: { if case .added = $0.change { true } else { false } }) {
                stats.removalAgainstAddition += 1
            }
        }
        // The roster everyone holds is the specification's roster of every accepted roster event.
        let o = TeamOracle(accepted)
        let keys = Set(replicas.map(\.replicaID) + forgers.map(\.key.replicaID) + s0.roster.keys.keys)
        for k in keys {
            let p: (String, TeamRole)? = if case .success(let m) = s0.roster.member(k) { (m.analyst, m.role) } else { nil }
            #expect(p?.0 == o.member(k)?.analyst && p?.1 == o.member(k)?.role, "member \(k.short): product \(String(describing: p)), spec \(String(describing: o.member(k))): GLOSS_SEED=\(seed)")
        }
        #expect(s0.roster.keys.count == Set(accepted.flatMap { e -> [ReplicaID] in
            switch e.change {
            case .created: [e.signer]
            case .added(let p): [ReplicaID(hex: p.key)!]
            case .enrolled(let p): [ReplicaID(hex: p.key)!]
            default: []
            }
        }).count, "the product holds exactly the roster events the specification accepts: GLOSS_SEED=\(seed)")
        // Every forged event: where the specification says it belongs, on every replica.
        for f in forged {
            let id = Data(f.event.id.raw.bytes)
            for r in replicas {
                let (held, quarantined, pending) = try r.store.read { db in
                    (try Bool.fetchOne(db, sql: "SELECT 1 FROM events WHERE id = ?", arguments: [id]) ?? false,
                     try Bool.fetchOne(db, sql: "SELECT 1 FROM quarantine WHERE id = ?", arguments: [id]) ?? false,
                     try Bool.fetchOne(db, sql: "SELECT 1 FROM pending WHERE id = ?", arguments: [id]) ?? false)
                }
                let at = "\(f.what) [\(f.verdict)] at \(r.analyst)@\(r.replicaID.short): GLOSS_SEED=\(seed)"
                switch f.verdict {
                case .accepted: #expect(held && !quarantined && !pending, "accepted by the specification, so held everywhere: \(at)")
                case .refused: #expect(!held && !quarantined && !pending, "refused: stored nowhere: \(at)")
                case .denied: #expect(!held && quarantined && !pending, "denied: quarantined everywhere: \(at)")
                }
            }
        }
    }
}
