import Foundation
import GRDB
import GlossMerge
import GlossModel

/// The team a replica belongs to (Protocol/11-teams.md), kept in `meta` under `team`.
public enum TeamMode: Sendable, Equatable {
    /// No team: events and peers of a team are refused; anyone's key may write (format-1 behaviour).
    case none
    /// Created with `gloss init --join`: waits for the first team genesis it receives and adopts it.
    case joining
    /// A member replica of this team.
    case member(TeamID)

    /// The team id events, bundles and hellos of this replica carry (all zero unless a member).
    public var team: TeamID {
        if case .member(let t) = self { return t }
        return .none
    }
}

extension ReplicaStore {
    static func registerTeamMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v4-team") { db in
            // Accepted roster events with their full deps (Protocol/03-store.md §Roster): what the
            // apply path judges every event against, without scanning the log.
            try db.execute(sql: """
                CREATE TABLE roster_events(
                    pos INTEGER PRIMARY KEY,
                    id BLOB NOT NULL UNIQUE,
                    replica BLOB NOT NULL,
                    seq INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    schema INTEGER NOT NULL,
                    payload BLOB NOT NULL,
                    deps BLOB NOT NULL
                );
                CREATE TABLE redacted_events(
                    id BLOB PRIMARY KEY NOT NULL,
                    redaction BLOB NOT NULL
                ) WITHOUT ROWID;
                """)
        }
    }

    /// This replica's team mode.
    public func teamMode(_ db: Database) throws -> TeamMode {
        guard let v = try String.fetchOne(try db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'team'")) else { return .none }
        if v == "joining" { return .joining }
        guard let raw = Bytes32(hex: v) else { throw StoreError(.corrupt, "meta.team holds \(v.prefix(70)), not a team id") }
        return .member(TeamID(raw))
    }

    func setTeamMode(_ mode: TeamMode, _ db: Database) throws {
        switch mode {
        case .none: try db.execute(sql: "DELETE FROM meta WHERE key = 'team'")
        case .joining: try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('team', 'joining')")
        case .member(let t): try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('team', ?)", arguments: [t.hex])
        }
    }

    /// Marks a new replica as joining a team (`gloss init --join`): it adopts the first genesis it receives.
    public func markJoining() throws {
        try write { db in
            guard try teamMode(db) == .none, try vector(db).isEmpty else {
                throw StoreError(.refused, "only a new, empty replica can join a team")
            }
            try setTeamMode(.joining, db)
        }
    }

    /// Every accepted roster event, in apply order.
    public func rosterEvents(_ db: Database) throws -> [RosterEvent] {
        var out: [RosterEvent] = []
        for row in try Row.fetchAll(try db.cachedStatement(sql: "SELECT id, replica, seq, type, schema, payload, deps FROM roster_events ORDER BY pos")) {
            guard let id = Bytes32(exactly: Array(row[0] as Data)), let signer = Bytes32(exactly: Array(row[1] as Data)),
                  let change = try? RosterChange(type: row[3], schema: UInt16(clamping: row[4] as Int64), payload: Array(row[5] as Data)) else {
                throw StoreError(.corrupt, "roster_events holds an unreadable row; rebuild the replica from a peer")
            }
            out.append(RosterEvent(id: EventID(id), signer: ReplicaID(signer), seq: UInt64(row[2] as Int64), change: change,
                                   deps: try ReplicaStore.decodeDeps(Array(row[6] as Data))))
        }
        return out
    }

    /// The roster as of everything this replica holds (`gloss team`).
    public func roster(_ db: Database) throws -> Roster {
        Roster(try rosterEvents(db))
    }

    static func encodeDeps(_ v: VersionVector) -> Data {
        var w = ByteWriter(capacity: v.entries.count * 40)
        for (r, s) in v.entries.sorted(by: { $0.key < $1.key }) { w.b32(r.raw); w.u64(s) }
        return Data(w.bytes)
    }

    static func decodeDeps(_ bytes: [UInt8]) throws -> [ReplicaID: UInt64] {
        guard bytes.count % 40 == 0 else { throw StoreError(.corrupt, "roster_events.deps is not a list of (replica, seq)") }
        var r = ByteReader(bytes)
        var out: [ReplicaID: UInt64] = [:]
        while r.remaining > 0 { out[ReplicaID(try r.b32("replica"))] = try r.u64("seq") }
        return out
    }

    // MARK: Judging events

    /// The roster state the apply path needs, loaded once per transaction.
    struct TeamContext {
        var mode: TeamMode
        var events: [RosterEvent]
        /// The feeds that hold roster events, and the highest roster seq of each.
        var signers: [(replica: ReplicaID, top: UInt64)] = []
        /// Roster of each causal past seen in this transaction, keyed by how far into each signer's
        /// feed it reaches (capped at the signer's last roster event): a causal past holds exactly
        /// the roster events at or below those seqs.
        var memo: [[UInt64]: Roster] = [:]
        /// Keys enrolled by any held roster event (for refusing strangers before they are parked).
        var enrolled: Set<ReplicaID> = []

        init(mode: TeamMode, events: [RosterEvent]) {
            self.mode = mode; self.events = events
            refresh()
        }

        mutating func add(_ e: RosterEvent) {
            events.append(e)
            refresh()
        }

        private mutating func refresh() {
            var top: [ReplicaID: UInt64] = [:]
            for e in events { top[e.signer] = max(top[e.signer] ?? 0, e.seq) }
            signers = top.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            memo.removeAll()
            enrolled = Set(events.compactMap { $0.enrolment?.key })
        }
    }

    func teamContext(_ s: inout ApplyState, _ db: Database) throws -> TeamContext {
        if let t = s.team { return t }
        let mode = try teamMode(db)
        let t = TeamContext(mode: mode, events: mode == .none ? [] : try rosterEvents(db))
        s.team = t
        return t
    }

    /// Refuses, before anything is stored or parked, an authenticated event this replica's team
    /// can never accept: of another team, of no team inside a team, or signed by a key that no held
    /// roster event enrols (a key enrolled later is offered again by its sender). Nil: go on.
    func refuseStranger(_ env: EventEnvelope, _ s: inout ApplyState, _ db: Database) throws -> ApplyOutcome? {
        let t = try teamContext(&s, db)
        let isGenesis = ReplicaStore.isGenesis(env)
        switch t.mode {
        case .none:
            if env.team != .none {
                return .refused("event of team \(env.team.hex.prefix(12)); this replica belongs to no team. Not stored")
            }
            if RosterChange.types.contains(env.type) {
                return .refused("a team roster event (\(env.type)); this replica belongs to no team. Not stored")
            }
            return nil
        case .joining:
            if isGenesis || env.team != .none { return nil }
            return .refused("this replica is joining a team and takes only that team's events; not stored")
        case .member(let team):
            if isGenesis && TeamID(env.id.raw) == team { return nil }
            if env.team != team {
                return .refused(env.team == .none
                    ? "event of no team; this replica belongs to team \(team.hex.prefix(12)). Not stored"
                    : "event of team \(env.team.hex.prefix(12)); this replica belongs to team \(team.hex.prefix(12)). Not stored")
            }
            if !t.enrolled.contains(env.replica) {
                return .refused("key \(env.replica.short) is not on the team's roster; not stored")
            }
            return nil
        }
    }

    /// Judges an event whose causal past is applied against the roster of that causal past
    /// (Protocol/11-teams.md §Judgement). `fullDep(r)` is the event's full deps entry for feed `r`.
    /// Returns the roster change to record when the event is an accepted roster event.
    func judge(_ e: SignedEvent, fullDep: (ReplicaID) throws -> UInt64, _ s: inout ApplyState, _ db: Database) throws -> Judgement {
        var t = try teamContext(&s, db)
        let env = e.envelope
        let change: RosterChange?
        do { change = try RosterChange(type: env.type, schema: env.schema, payload: e.payload) } catch { change = nil }
        let redaction = try redactionProblem(env, payload: e.payload, fullDep: fullDep, teamless: t.mode == .none, db)
        if case .denied(let why)? = redaction { return .denied(why) }
        /// What an event the roster allows becomes: a redaction whose target is held nowhere here
        /// waits for it (Protocol/11-teams.md §Redaction).
        func allowed(_ change: RosterChange?) -> Judgement {
            if case .unheld(let target)? = redaction {
                return .waits(target, "waiting for the event it redacts (\(target.hex.prefix(12))), held nowhere here: its feed may have a fork whose other branch this replica holds")
            }
            return .allowed(change)
        }
        switch t.mode {
        case .none:
            return allowed(nil)
        case .joining:
            guard ReplicaStore.isGenesis(env), case .created? = change else {
                return .refused("this replica is joining a team and has not received its genesis yet; not stored")
            }
            return .allowed(change)
        case .member(let team):
            if ReplicaStore.isGenesis(env) {
                guard TeamID(env.id.raw) == team, case .created? = change else {
                    return .refused("the genesis of another team; not stored")
                }
                return .allowed(change)
            }
        }
        // The roster of the event's causal past: the roster events it happened after.
        let reach = try t.signers.map { r in min(r.top, r.replica == env.replica ? env.seq - 1 : try fullDep(r.replica)) }
        let roster: Roster
        if let m = t.memo[reach] { roster = m } else {
            var seen: [ReplicaID: UInt64] = [:]
            for (r, s) in zip(t.signers, reach) { seen[r.replica] = s }
            roster = Roster(t.events.filter { (seen[$0.signer] ?? 0) >= $0.seq })
            if t.memo.count > 1_000 { t.memo.removeAll() }
            t.memo[reach] = roster
            s.team = t
        }
        var factAuthor: String?, unheldFact: Bytes32?
        // Only a fact in the event's causal past counts (whatever else this replica holds): an
        // amendment of a fact it never saw is judged as not naming one, alike everywhere. The fact
        // is looked for in the log and in fork evidence, as a redaction's target is.
        if let fact = ReplicaStore.factNamed(type: env.type, schema: env.schema, payload: e.payload).flatMap(Bytes32.init(hex:)) {
            if let held = try heldEvent(fact, db) {
                if held.type == FactAdded.type, held.replica == env.replica ? held.seq < env.seq : try fullDep(held.replica) >= held.seq {
                    factAuthor = held.author
                }
            } else {
                unheldFact = fact
            }
        }
        switch roster.judge(signer: env.replica, author: env.author, type: env.type, change: change, factAuthor: factAuthor) {
        case .allowed:
            // Held nowhere here, the fact may be on the other branch of a fork this replica holds
            // one branch of: when its author decides (the signer is no admin), wait for it.
            if let unheldFact, case .denied = roster.judge(signer: env.replica, author: env.author, type: env.type, change: change, factAuthor: "") {
                return .waits(unheldFact, "waiting for the fact it \(env.type == FactAmended.type ? "amends" : "retracts") (\(unheldFact.hex.prefix(12))), held nowhere here: only its author or an admin may, and its feed may have a fork whose other branch this replica holds")
            }
            return allowed(change)
        case .notMember(let why): return .refused("\(why); not stored")
        case .denied(let why): return .denied(why)
        }
    }

    enum Judgement {
        /// Apply it; record `change` when it is a roster event.
        case allowed(RosterChange?)
        /// Not stored (not a member in its causal past, or not of this team).
        case refused(String)
        /// A member acting beyond its role: quarantined.
        case denied(String)
        /// Allowed, but what it names — a redaction's target, or the fact a non-admin amends or
        /// retracts — is held nowhere here: it waits in pending for that event.
        case waits(Bytes32, String)
    }

    /// Records an accepted roster event (after its insert); a genesis received by a joining
    /// replica makes it a member of that team. Updates `context` when one is loaded.
    func recordRoster(_ env: EventEnvelope, payload: [UInt8]?, change: RosterChange, feed: Int64, context: inout TeamContext?, _ db: Database) throws {
        let deps = try fullDeps(feed: feed, seq: env.seq, db)
        try db.run("""
            INSERT INTO roster_events(id, replica, seq, type, schema, payload, deps) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING
            """) { b in b.add(env.id.raw.bytes); b.add(env.replica.raw.bytes); b.add(Int64(env.seq)); b.add(env.type); b.add(Int64(env.schema)); b.add(payload ?? []); b.add(ReplicaStore.encodeDeps(deps)) }
        if case .created = change, try teamMode(db) != .member(TeamID(env.id.raw)) {
            try setTeamMode(.member(TeamID(env.id.raw)), db)
            context?.mode = .member(TeamID(env.id.raw))
        }
        context?.add(RosterEvent(id: env.id, signer: env.replica, seq: env.seq, change: change, deps: deps.entries))
    }

    /// Creates a team on a new replica: its genesis, seq 1 of its feed (`gloss init --new-team`).
    public func createTeam(key: ReplicaKey, analyst: String, name: String, wallMilliseconds: UInt64) throws -> SignedEvent {
        try write { db in
            guard try teamMode(db) == .none, try vector(db).isEmpty else {
                throw StoreError(.refused, "a team is created on a new, empty replica (`gloss init --analyst NAME --new-team TEAM`)")
            }
            return try appendLocal(key: key, author: analyst, type: TeamCreated.type, schema: TeamCreated.schema,
                                   payload: TeamCreated(name: name, analyst: analyst).encoded, wallMilliseconds: wallMilliseconds, genesis: true, db)
        }
    }

    /// The check a local write passes before it is signed: the same judgement every receiver will
    /// make, against everything this replica holds (the new event's causal past).
    func checkLocalWrite(author: String, signer: ReplicaID, type: String, schema: UInt16, payload: [UInt8], genesis: Bool, _ db: Database) throws -> (team: TeamID, change: RosterChange?) {
        let mode = try teamMode(db)
        let change = try? RosterChange(type: type, schema: schema, payload: payload)
        if let target = ReplicaStore.redactionTarget(type: type, schema: schema, payload: payload) {
            // In the log, or fork evidence: the redaction's deps then name the evidence's seq of
            // its frozen feed (`evidenceDep`), which every receiver counts as held.
            guard let held = try heldEvent(target, db) else {
                throw StoreError(.notFound, "no event \(target.hex.prefix(12)) is held here; list events with `gloss log`")
            }
            if let why = ReplicaStore.redactionRefusal(targetType: held.type, targetSigner: held.replica, signer: signer, teamless: mode == .none) {
                throw StoreError(.refused, why)
            }
            if try isRedacted(EventID(target), db) { throw StoreError(.refused, "event \(target.hex.prefix(12)) is already redacted") }
        }
        switch mode {
        case .none:
            if genesis { return (.none, change) }
            if change != nil { throw StoreError(.refused, "this replica belongs to no team; a team is created with `gloss init --analyst NAME --new-team TEAM`") }
            return (.none, nil)
        case .joining:
            throw StoreError(.refused, "this replica is joining a team and is not on its roster yet: give an admin its key (`gloss whoami`), let them run `gloss team add`, then import their bundle or sync with them")
        case .member(let team):
            let roster = try self.roster(db)
            let factAuthor = try ReplicaStore.factNamed(type: type, schema: schema, payload: payload).flatMap(Bytes32.init(hex:))
                .flatMap { try heldEvent($0, db) }.flatMap { $0.type == FactAdded.type ? $0.author : nil }
            switch roster.judge(signer: signer, author: author, type: type, change: change, factAuthor: factAuthor) {
            case .allowed: return (team, change)
            case .notMember(let why): throw StoreError(.refused, "\(why): this replica cannot write for the team")
            case .denied(let why): throw StoreError(.refused, "not permitted: \(why)")
            }
        }
    }

    // MARK: Redaction

    /// Why a `PayloadRedacted` event cannot apply yet.
    enum RedactionProblem: Equatable {
        /// Its target is held neither in the log nor as fork evidence: where its deps are held, the
        /// receiver may hold the other branch of a fork of the target's feed (deps name a seq, not
        /// which branch), so it waits for the target rather than being judged without it.
        case unheld(Bytes32)
        /// Its target is not in its causal past, or is a roster event, or (without a team) another key's.
        case denied(String)
    }

    /// Why a `PayloadRedacted` event cannot apply, or nil (also for any other event, or one this
    /// build cannot read). `teamless`: this replica has no team, so no admin; a redaction applies
    /// only from the key that signed the event it redacts (an analyst withdrawing their own words),
    /// never from another key.
    func redactionProblem(_ env: EventEnvelope, payload: [UInt8]?, fullDep: (ReplicaID) throws -> UInt64, teamless: Bool, _ db: Database) throws -> RedactionProblem? {
        guard let target = ReplicaStore.redactionTarget(type: env.type, schema: env.schema, payload: payload) else { return nil }
        guard let held = try heldEvent(target, db) else { return .unheld(target) }
        let before = held.replica == env.replica ? held.seq < env.seq : try fullDep(held.replica) >= held.seq
        guard before else { return .denied("the event it redacts (\(target.hex.prefix(12))) is not in its causal past") }
        return ReplicaStore.redactionRefusal(targetType: held.type, targetSigner: held.replica, signer: env.replica, teamless: teamless).map(RedactionProblem.denied)
    }

    /// Event `id` held in the log or as fork evidence — the event a redaction names, or the fact an
    /// amendment or retraction names (Protocol/11-teams.md §Redaction): a fork can freeze the part
    /// of a feed that holds it after the writer saw it, and a replica that met the fork first must
    /// judge the event as one that applied it before (a redaction was quarantined there as naming
    /// an event outside its causal past, and stalled its author's feed: found extending the lie
    /// corpus to teams, 2026-12-07).
    func heldEvent(_ id: Bytes32, _ db: Database) throws -> HeldEvent? {
        if let logged = try loggedEvent(id, db) { return logged }
        guard let env = try evidenceEnvelope(id, db) else { return nil }
        return HeldEvent(replica: env.replica, seq: env.seq, type: env.type, author: env.author)
    }

    /// The envelope of event `id` when it is held as fork evidence.
    func evidenceEnvelope(_ id: Bytes32, _ db: Database) throws -> EventEnvelope? {
        try Data.fetchOne(try db.cachedStatement(sql: "SELECT envelope FROM forks WHERE id = ?"), arguments: [Data(id.bytes)])
            .flatMap { try? EventEnvelope(decoding: Array($0)) }
    }

    /// What the judgement reads of an event held here: its signer, seq, type and author.
    struct HeldEvent {
        var replica: ReplicaID
        var seq: UInt64
        var type: String
        var author: String
    }

    /// For a local redaction of an event held only as fork evidence (the frozen part of a forked
    /// feed): that feed and the evidence's seq and time. The redaction's deps name the feed at that
    /// seq — at or beyond the fork, which every replica that found the fork counts as held, so the
    /// target is in its causal past (Protocol/11-teams.md §Redaction); a replica holding one branch
    /// applies it once it holds that seq, or waits for the target when its branch is the other.
    func evidenceDep(type: String, schema: UInt16, payload: [UInt8], _ db: Database) throws -> (feed: Int64, replica: ReplicaID, seq: UInt64, time: UInt64)? {
        guard let target = ReplicaStore.redactionTarget(type: type, schema: schema, payload: payload), try loggedEvent(target, db) == nil,
              let env = try evidenceEnvelope(target, db), let feed = try existingFeed(env.replica, db) else { return nil }
        return (feed, env.replica, env.seq, env.time.raw)
    }

    /// Event `id` when the log holds it.
    func loggedEvent(_ id: Bytes32, _ db: Database) throws -> HeldEvent? {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT f.replica, e.seq, e.type, e.author FROM events e JOIN feeds f ON f.feed = e.feed WHERE \(ShortID.equals("e.id", "?1"))"),
                                         arguments: [Data(id.bytes)]),
              let replica = Bytes32(exactly: Array(row[0] as Data)).map(ReplicaID.init) else { return nil }
        return HeldEvent(replica: replica, seq: UInt64(row[1] as Int64), type: row[2], author: row[3])
    }

    /// Why `signer` may not redact an event of `targetType` signed by `targetSigner`, whoever its
    /// role: a roster event never (every replica needs it to judge events); without a team, no admin
    /// exists, so only the key that wrote the event. Nil when the roster's own rule decides.
    static func redactionRefusal(targetType: String, targetSigner: ReplicaID?, signer: ReplicaID, teamless: Bool) -> String? {
        if RosterChange.types.contains(targetType) { return "a roster event cannot be redacted: every replica needs it to judge events" }
        if teamless && targetSigner != signer {
            return "without a team only the key that wrote an event may redact it (no admin exists to order it; Protocol/11-teams.md §Redaction)"
        }
        return nil
    }

    /// Purges the payload a `PayloadRedacted` event names, everywhere this replica keeps it (the
    /// log, pending, quarantine, fork evidence), and remembers it so no later copy restores it.
    /// Returns true when a payload left the log (the caller rebuilds the projections).
    func applyRedaction(_ env: EventEnvelope, payload: [UInt8]?, _ db: Database) throws -> Bool {
        guard let target = ReplicaStore.redactionTarget(type: env.type, schema: env.schema, payload: payload) else { return false }
        let blob = Data(target.bytes)
        // The bytes must not linger in free pages of the file (Protocol/11-teams.md §Redaction).
        try db.execute(sql: "PRAGMA secure_delete = ON")
        try db.run("INSERT INTO redacted_events(id, redaction) VALUES (?, ?) ON CONFLICT(id) DO NOTHING") { b in b.add(blob); b.add(env.id.raw.bytes) }
        var purgedFromLog = false
        for table in ["events", "pending", "quarantine", "forks"] {
            try db.execute(sql: "UPDATE \(table) SET payload = NULL WHERE id = ? AND payload IS NOT NULL", arguments: [blob])
            if table == "events" { purgedFromLog = db.changesCount > 0 }
        }
        // Only a payload gone from the log changes what the projections show: a second redaction of
        // one event (anyone's, without a team) costs no rebuild.
        return purgedFromLog
    }

    /// True when the payload of event `id` was redacted here: it is never restored.
    func isRedacted(_ id: EventID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM redacted_events WHERE id = ?"), arguments: [Data(id.raw.bytes)]) ?? false
    }

    /// The local feed number of `replica`, if it has one.
    func existingFeed(_ replica: ReplicaID, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(try db.cachedStatement(sql: "SELECT feed FROM feeds WHERE replica = ?"), arguments: [Data(replica.raw.bytes)])
    }

    /// The event a `PayloadRedacted` names; nil for any other event or an unreadable payload.
    static func redactionTarget(type: String, schema: UInt16, payload: [UInt8]?) -> Bytes32? {
        guard type == PayloadRedacted.type, case .payloadRedacted(let p) = DecodedPayload(type: type, schema: schema, payload: payload) else { return nil }
        return Bytes32(hex: p.event)
    }

    /// The fact a `FactAmended` or `FactRetracted` names (only those two are the fact author's
    /// or an admin's to write); nil for any other event or an unreadable payload.
    static func factNamed(type: String, schema: UInt16, payload: [UInt8]?) -> String? {
        guard type == FactAmended.type || type == FactRetracted.type else { return nil }
        switch DecodedPayload(type: type, schema: schema, payload: payload) {
        case .factAmended(let p): return p.fact
        case .factRetracted(let p): return p.fact
        default: return nil
        }
    }

    /// A team's genesis: a `TeamCreated` at seq 1 carrying no team (its own id is the team id).
    static func isGenesis(_ env: EventEnvelope) -> Bool {
        env.type == TeamCreated.type && env.seq == 1 && env.team == .none
    }
}
