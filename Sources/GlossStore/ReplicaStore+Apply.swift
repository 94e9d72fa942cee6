import Foundation
import GRDB
import GlossMerge
import GlossModel

/// What happened to one received event.
public enum ApplyOutcome: Sendable, Equatable {
    case applied
    /// Already held: nothing changed.
    case duplicate
    /// Already held without its payload; this copy's payload (matching the envelope's hash) was stored.
    case restored
    /// Authenticated, and waits in the pending table for its feed predecessor, a dependency, or
    /// (for a time too far ahead) the receiver's clock.
    case pending
    /// Not stored: it failed authentication or its payload does not match (a damaged copy), or,
    /// authenticated, it breaks a rule of its feed (kept in quarantine with the reason).
    case rejected(String)
    /// Authenticated but not stored (the pending table's bounds): the sender will offer it again.
    case refused(String)
    /// A second, validly signed event for a (replica, seq) already held, or an event of a frozen
    /// feed from its fork on: kept as evidence.
    case fork
}

/// Counts of an import or sync (`--json` keys `received`, `applied`, `duplicate`, `pending`,
/// `rejected`, `forks`, `restored`).
public struct ApplySummary: Sendable, Equatable {
    public struct Rejection: Sendable, Equatable {
        public var event: EventID
        public var replica: ReplicaID
        public var seq: UInt64
        public var reason: String
    }
    public var received = 0
    public var applied = 0
    public var duplicate = 0
    /// Events of this call still waiting in the pending table at its end.
    public var pending = 0
    /// Events not stored (failed authentication, damaged payload, pending bounds) or quarantined.
    public var rejected = 0
    /// Of `applied`, events that had waited in pending since an earlier call.
    public var appliedFromPending = 0
    /// Fork evidence kept (events of a frozen feed from its fork on).
    public var forks = 0
    /// Held events whose missing payload this call restored.
    public var restored = 0
    /// The first rejections, with reasons (at most 100 listed).
    public var rejections: [Rejection] = []

    public init() {}

    public mutating func add(_ o: ApplySummary) {
        received += o.received; applied += o.applied; duplicate += o.duplicate; pending += o.pending
        rejected += o.rejected; appliedFromPending += o.appliedFromPending; forks += o.forks; restored += o.restored
        for r in o.rejections where rejections.count < 100 { rejections.append(r) }
    }
}

/// Bounds of the pending table (Protocol/03-store.md §Pending): nobody can fill it for everyone.
public struct PendingLimits: Sendable {
    /// Events waiting in total.
    public var total: Int
    /// Events of one feed waiting.
    public var perFeed: Int
    /// Milliseconds an event may wait before it expires (by its `received_at`).
    public var lifetime: UInt64
    /// Feeds the replica holds at most (`ProtocolLimits.maxFeeds`; smaller in tests).
    public var feeds: Int
    public init(total: Int = 100_000, perFeed: Int = 10_000, lifetime: UInt64 = 14 * 24 * 3600 * 1000, feeds: Int = ProtocolLimits.maxFeeds) {
        self.total = total; self.perFeed = perFeed; self.lifetime = lifetime; self.feeds = feeds
    }
    public static let standard = PendingLimits()
}

extension ReplicaStore {
    /// Events of `window` whose authorship is proven: by their own Ed25519 signature, or by the
    /// signature of a later event of their feed in the window whose `prev` hash chain reaches them
    /// (the id covers the signature, so one valid signature vouches for the chain behind it, DESIGN §2).
    ///
    /// Per feed, the unproven event with the highest seq is checked; a valid one proves its chain,
    /// an invalid one is set aside; repeat. An honest window costs one check per feed; each
    /// damaged or forged event costs one more.
    ///
    /// `outside`: events outside the window, by id, that a proven chain may go on through and so
    /// prove too (a stream's events held back from earlier windows, `StreamAuthenticator`); their
    /// ids are in the result when it does.
    public static func authenticated(_ window: [SignedEvent], reaching outside: (EventID) -> EventEnvelope? = { _ in nil }) -> Set<EventID> {
        var byFeed: [ReplicaID: [Int]] = [:]
        for (i, e) in window.enumerated() { byFeed[e.envelope.replica, default: []].append(i) }
        var proven = Set<EventID>()
        for (_, indices) in byFeed {
            var byID: [EventID: Int] = [:]
            for i in indices { byID[window[i].id] = i }
            // Highest seq first; ties by id, so the choice never depends on arrival order.
            let order = indices.sorted {
                let (a, b) = (window[$0].envelope, window[$1].envelope)
                return a.seq != b.seq ? a.seq > b.seq : a.id.raw < b.id.raw
            }
            var settled = Set<EventID>()
            for i in order where !settled.contains(window[i].id) {
                settled.insert(window[i].id)
                guard window[i].envelope.hasValidSignature() else { continue }
                var env = window[i].envelope
                proven.insert(env.id)
                while let prev = byID[env.prev].map({ window[$0].envelope }) ?? outside(env.prev).flatMap({ $0.replica == env.replica ? $0 : nil }),
                      prev.seq == env.seq - 1, proven.insert(prev.id).inserted {
                    settled.insert(prev.id)
                    env = prev
                }
            }
        }
        return proven
    }

    /// Applies a window of received events in one transaction, in the order given, then drains any
    /// pending events that became ready. Validity depends only on each event and its causal past;
    /// nothing is stored, parked or believed before it is authenticated.
    ///
    /// Idempotent: applying the same window again changes nothing and counts every event as duplicate.
    ///
    /// A window that removes what the projections were built from (a fork of held events, a
    /// redaction, a restored payload) rebuilds them before it commits — unless `deferRebuild`: then
    /// it marks them stale (`meta.projections_stale`) and the caller, a session applying many
    /// windows, rebuilds once at its end (`rebuildIfStale`); windows applied while they are stale
    /// store their events without projecting them (the rebuild replays them). Otherwise a hostile
    /// peer could force a full rebuild per window: one forked fresh key each (Protocol/03-store.md
    /// §Deferred rebuilds).
    public func applyRemote(_ window: [SignedEvent], now: UInt64, limits: PendingLimits = .standard, deferRebuild: Bool = false) throws -> ApplySummary {
        try applyRemote(window, now: now, limits: limits, checked: nil, deferRebuild: deferRebuild)
    }

    /// As `applyRemote(_:now:limits:deferRebuild:)`, with the window's authorship already judged
    /// (`proven`, by a `StreamAuthenticator`).
    public func applyRemote(_ window: [SignedEvent], proven: Set<EventID>, now: UInt64, limits: PendingLimits = .standard,
                            deferRebuild: Bool = false) throws -> ApplySummary {
        try applyRemote(window, now: now, limits: limits, checked: CheckedWindow(window, proven: proven, recordsRead: window.count), deferRebuild: deferRebuild)
    }

    /// As `applyRemote(_:now:limits:deferRebuild:)`, with the window's signatures and payload hashes
    /// already checked (`checked`, of exactly these events) or not (nil).
    func applyRemote(_ window: [SignedEvent], now: UInt64, limits: PendingLimits, checked: CheckedWindow?, deferRebuild: Bool) throws -> ApplySummary {
        let proven = checked?.proven ?? ReplicaStore.authenticated(window)
        return try applyTransaction(now: now, limits: limits, deferRebuild: deferRebuild) { state, db in
            try apply(window, proven: proven, checked: checked, &state, db)
        }
    }

    /// Applies `window` in the open transaction (`checked`: its signatures and payload hashes
    /// already checked, of exactly these events, or nil).
    func apply(_ window: [SignedEvent], proven: Set<EventID>, checked: CheckedWindow?, _ state: inout ApplyState, _ db: Database) throws {
        for (i, e) in window.enumerated() {
            state.summary.received += 1
            state.record(try applyOne(e, authenticated: proven.contains(e.id), payloadChecked: checked?.intact[i] ?? false,
                                      decoded: checked?.decoded[i], fromPending: false, &state, db), e)
        }
    }

    /// One apply transaction: expired pending entries dropped, `body` applies its events, then what
    /// waited in pending and became ready, the feed heads, and the rebuild (or its mark) they need.
    func applyTransaction(now: UInt64, limits: PendingLimits, deferRebuild: Bool,
                          _ body: (inout ApplyState, Database) throws -> Void) throws -> ApplySummary {
        try write { db in
            var state = ApplyState(limits: limits, now: now)
            let wasStale = try ReplicaStore.projectionsStale(db)
            state.needsRebuild = wasStale
            try expirePending(&state, db)
            try body(&state, db)
            try drainPending(&state, db)
            try writeHeads(&state, db)
            if state.needsRebuild {
                if !deferRebuild { try rebuildProjections(db, progress: nil) } else if !wasStale { try markProjectionsStale(db) }
            }
            return state.summary
        }
    }

    /// Applies whatever waits in pending that became ready (e.g. an event from the future whose
    /// time has come) and drops expired entries.
    public func drainPending(now: UInt64, limits: PendingLimits = .standard) throws -> ApplySummary {
        try applyRemote([], now: now, limits: limits, deferRebuild: false)
    }

    struct FeedHead {
        /// Local feed number; nil while no event of the feed is stored.
        var feed: Int64?
        var seq: UInt64
        var id: EventID
        var time: UInt64
        var state: String
        var forkSeq: UInt64?
        var forked: Bool { forkSeq != nil }
    }

    /// What a waiting event waits for (`pending.wait_replica`, `wait_seq`, `wait_until`, `wait_id`).
    enum Wait: Equatable {
        /// Until the feed holds this seq: its own predecessor, or a deps entry (or the feed froze
        /// at or below it).
        case feed(ReplicaID, UInt64)
        /// Until this replica's clock reaches this millisecond (a time over an hour ahead).
        case clock(until: UInt64)
        /// Until this event is stored, in the log or as fork evidence (the target of a redaction, or
        /// the fact a non-admin amends or retracts).
        case event(Bytes32)

        func bind(_ b: inout SQLBinder) {
            switch self {
            case .feed(let r, let seq): b.add(r.raw.bytes); b.add(Int64(clamping: seq)); b.null(); b.null()
            case .clock(let until): b.null(); b.null(); b.add(Int64(clamping: until)); b.null()
            case .event(let id): b.null(); b.null(); b.null(); b.add(id.bytes)
            }
        }
    }

    struct ApplyState {
        var summary = ApplySummary()
        var heads: [ReplicaID: FeedHead] = [:]
        /// Pending events per feed (loaded on first need, then kept current).
        var pendingByFeed: PendingCounts?
        /// The projections need a rebuild (set, the events applied after it are not projected: the
        /// rebuild replays them).
        var needsRebuild = false
        /// Events of this call parked in pending (to count those drained in the same call).
        var parked = Set<EventID>()
        /// Feeds whose head moved since `feeds` was last written (written once per window).
        var movedHeads = Set<ReplicaID>()
        /// The team and its roster events (loaded on first need, kept current).
        var team: TeamContext?
        /// This replica's own id (`meta.replica`), read on first need; nil inside while unread.
        var localReplica: ReplicaID??
        /// Feeds whose head moved or that froze in this call: the events waiting for them may apply.
        var changedFeeds = Set<ReplicaID>()
        /// Feeds holding events (read when the call first starts a new feed, then kept current).
        var heldFeeds: Int?
        /// Some event waits for an event by id (`pending.wait_id`, `forks.wait_id`; read on first
        /// need, set when one starts waiting): only then is each event stored in this call looked up.
        var eventWaits: Bool?
        /// Events stored in this call (log or fork evidence) that a waiting event may wait for.
        var storedWaited: [Bytes32] = []
        /// Full deps of fork evidence walked in this call (`evidenceDeps`).
        var evidenceDeps: [EventID: [ReplicaID: UInt64]] = [:]
        let limits: PendingLimits
        let now: UInt64
        init(limits: PendingLimits, now: UInt64) { self.limits = limits; self.now = now }

        mutating func record(_ o: ApplyOutcome, _ e: SignedEvent) {
            switch o {
            case .applied: summary.applied += 1
            case .duplicate: summary.duplicate += 1
            case .restored: summary.duplicate += 1; summary.restored += 1
            case .pending: summary.pending += 1
            case .fork: summary.forks += 1
            case .rejected(let r), .refused(let r):
                summary.rejected += 1
                if summary.rejections.count < 100 {
                    summary.rejections.append(.init(event: e.id, replica: e.envelope.replica, seq: e.envelope.seq, reason: r))
                }
            }
        }
    }

    /// This replica's own id (nil for a store without one), read once per call.
    private func localReplica(_ s: inout ApplyState, _ db: Database) throws -> ReplicaID? {
        if let known = s.localReplica { return known }
        let id = try ReplicaStore.replicaID(db)
        s.localReplica = .some(id)
        return id
    }

    /// The head of `replica`'s feed, without creating a feed row for a replica never stored.
    func head(_ replica: ReplicaID, _ s: inout ApplyState, _ db: Database) throws -> FeedHead {
        if let h = s.heads[replica] { return h }
        let row = try Row.fetchOne(try db.cachedStatement(sql: """
            SELECT f.feed, f.head_seq, f.head_id, f.state, f.fork_seq, e.time FROM feeds f LEFT JOIN events e ON \(ShortID.equals("e.id", "f.head_id")) WHERE f.replica = ?
            """), arguments: [Data(replica.raw.bytes)])
        let h = row.map { row in
            FeedHead(feed: row[0], seq: UInt64(row[1] as Int64),
                     id: (row[2] as Data?).flatMap { Bytes32(exactly: Array($0)) }.map(EventID.init) ?? .zero,
                     time: UInt64(bitPattern: (row[5] as Int64?) ?? 0), state: row[3], forkSeq: (row[4] as Int64?).map(UInt64.init))
        } ?? FeedHead(feed: nil, seq: 0, id: .zero, time: 0, state: "ok", forkSeq: nil)
        s.heads[replica] = h
        return h
    }

    /// `payloadChecked`: this copy's payload was already found to match its hash (`CheckedWindow`).
    /// `decoded`: its payload, decoded off the writer's thread (nil: the projector decodes it).
    private func applyOne(_ e: SignedEvent, authenticated: Bool, payloadChecked: Bool = false, decoded: DecodedPayload? = nil,
                          fromPending: Bool, _ s: inout ApplyState, _ db: Database) throws -> ApplyOutcome {
        let env = e.envelope
        var h = try head(env.replica, &s, db)

        // A copy of a held event (same id, so the same signed bytes) needs no signature check.
        if env.seq <= h.seq, let feed = h.feed,
           let held = try Row.fetchOne(try db.cachedStatement(sql: "SELECT id, payload IS NULL FROM events WHERE feed = ? AND seq = ?"), arguments: [feed, Int64(env.seq)]),
           (held[0] as Data) == Data(env.id.raw.bytes) {
            return try restorePayloadIfMissing(e, held: held[1], s: &s, db)
        }
        guard authenticated else {
            return .rejected("signature does not verify, and no validly signed later event of its feed vouches for it; not stored")
        }
        if let p = e.payload, !payloadChecked, !env.matches(payload: p) {
            return .rejected("payload does not match the envelope's payload hash (a damaged copy); not stored — the genuine copy will apply")
        }
        if let refusal = try refuseStranger(env, &s, db) { return refusal }
        if let forkSeq = h.forkSeq, env.seq >= forkSeq {
            // At the fork seq, a `prev` that is not the held head's id (the event at fork_seq − 1)
            // shows a fork one seq lower, as it does on a replica whose feed is not frozen yet:
            // otherwise the fork seq depended on which evidence a replica met first (an audit,
            // 2026-12-06: three copies of one key left two replicas frozen at 2 and 3 for good).
            if env.seq == forkSeq, forkSeq > 1, h.seq == forkSeq - 1, env.prev != h.id {
                return try freeze(env.replica, at: forkSeq - 1, evidence: e, &s, db)
            }
            return try keepEvidence(e, &s, db)
        }
        if env.seq <= h.seq {
            // Another event is held at this seq. Two validly signed events at one (replica, seq) are
            // a fork only when this one would have applied in the held one's place: one that the
            // roster refuses or denies, or that breaks its feed's rules, is refused or quarantined
            // as it is when it comes first (it counted as fork evidence only when it came second, so
            // replicas that received the same events diverged by their order; an audit, 2026-12-06).
            // One whose `prev` is not the held predecessor's id is a fork whatever it says — at
            // seq − 1, where its signer signed the held event and the one it names (as at head + 1
            // below: the fork seq must not depend on how much of the feed the receiver held).
            var forkSeq = env.seq
            if let own = h.feed {
                let predecessor: (id: Data, time: UInt64)? = env.seq == 1 ? nil : try db.first(
                    "SELECT id, time FROM events WHERE feed = ? AND seq = ?", { $0.add(own); $0.add(Int64(env.seq - 1)) }
                ) { (Data($0.blob(0)), UInt64(bitPattern: $0.int(1))) }
                if env.seq == 1 || predecessor?.id == Data(env.prev.raw.bytes) {
                    if case .outcome(let o) = try admit(e, ownFeed: own, predecessorTime: predecessor?.time ?? 0, fromPending: fromPending, stall: false, &s, db) {
                        return o
                    }
                } else if predecessor != nil {
                    forkSeq = env.seq - 1
                }
            }
            return try freeze(env.replica, at: forkSeq, evidence: e, &s, db)
        }
        if env.seq > h.seq + 1 {
            return try park(e, "waiting for seq \(h.seq + 1) of \(env.replica.short)", until: .feed(env.replica, env.seq - 1), fromPending: fromPending, &s, db)
        }
        guard env.prev == h.id else {
            // Its signer also signed the held event at seq − 1, and now names another one there:
            // two histories under one key, a fork at seq − 1 at the latest.
            return try freeze(env.replica, at: env.seq - 1, evidence: e, &s, db)
        }
        let depFeeds: [(Int64, UInt64)], rosterChange: RosterChange?
        switch try admit(e, ownFeed: h.feed, predecessorTime: h.time, fromPending: fromPending, stall: true, &s, db) {
        case .outcome(let o): return o
        case .admitted(let d, let r): (depFeeds, rosterChange) = (d, r)
        }
        if h.seq == 0 {
            // A new feed: the replica's whole vector must still fit one sync frame.
            let held = try s.heldFeeds ?? Int.fetchOne(db, sql: "SELECT count(*) FROM feeds WHERE head_seq > 0") ?? 0
            guard held < s.limits.feeds else {
                return .refused("this replica holds \(s.limits.feeds) feeds, the most a sync hello can name (Protocol/03-store.md §Feeds); events of new keys are refused")
            }
            s.heldFeeds = held + 1
        }
        let feed = try h.feed ?? feedNumber(for: env.replica, db)
        try insert(env, payload: e.payload, decoded: decoded, feed: feed, depFeeds: depFeeds, updateHead: false, project: !s.needsRebuild, db)
        try noteStored(env.id.raw, &s, db)
        if let rosterChange { try recordRoster(env, payload: e.payload, change: rosterChange, feed: feed, context: &s.team, db) }
        if try env.replica == localReplica(&s, db) {
            // This replica's own key, signed by another copy of it (a copied folder, a restored
            // backup): its next local event's deps grow from this one (Protocol/01-event.md §Deps).
            for (f, seq) in depFeeds {
                try db.run("UPDATE feeds SET own_deps = max(own_deps, ?) WHERE feed = ?") { b in b.add(Int64(seq)); b.add(f) }
            }
        }
        if try applyRedaction(env, payload: e.payload, db) { s.needsRebuild = true }
        s.movedHeads.insert(env.replica)
        s.changedFeeds.insert(env.replica)
        if h.state == "stalled" {
            try db.run("UPDATE feeds SET state = 'ok', state_reason = NULL WHERE feed = ?") { b in b.add(feed) }
            h.state = "ok"
        }
        h.feed = feed; h.seq = env.seq; h.id = env.id; h.time = env.time.raw
        s.heads[env.replica] = h
        return .applied
    }

    /// What an authenticated event at `seq`, its chain joined (`prev` is the held predecessor's id),
    /// must pass to apply: deps grown and held (01-event.md §Verification 7), time (8), the clock, the
    /// roster of its causal past (11-teams.md §Judgement). `ownFeed`: its feed's number when held;
    /// `predecessorTime`: the time of the held event at seq − 1. `stall`: a quarantined event stalls
    /// its feed (not when another event already applied at its seq).
    private enum Admission { case admitted(depFeeds: [(Int64, UInt64)], roster: RosterChange?), outcome(ApplyOutcome) }

    private func admit(_ e: SignedEvent, ownFeed: Int64?, predecessorTime: UInt64, fromPending: Bool, stall: Bool,
                       _ s: inout ApplyState, _ db: Database) throws -> Admission {
        // Deps: every entry must have grown along the feed and be held here (or lie beyond the fork
        // of a frozen feed, which can never be held). The event's time must exceed its causal past's.
        let env = e.envelope
        var depFeeds: [(Int64, UInt64)] = []
        for d in env.depsDelta {
            let dh = try head(d.replica, &s, db)
            let before = try ownFeed.map { own in try dh.feed.map { try depSeq(feed: own, seq: env.seq - 1, on: $0, db) } ?? 0 } ?? 0
            if d.seq <= before {
                return .outcome(try quarantine(e, "deps entry for \(d.replica.short) did not grow (\(d.seq) ≤ \(before))", s, db, stall: stall))
            }
            let beyondFork = dh.forkSeq.map { d.seq >= $0 } ?? false
            if dh.seq < d.seq && !beyondFork {
                return .outcome(try park(e, "waiting for seq \(d.seq) of \(d.replica.short)", until: .feed(d.replica, d.seq), fromPending: fromPending, &s, db))
            }
            if !beyondFork, let t = try eventTime(feed: dh.feed!, seq: d.seq, db), env.time.raw <= t {
                // Deps name (replica, seq), not an id: the event held here at that seq may be the
                // other branch of a fork of that feed this replica has not found yet, and the event
                // later than the branch its author saw. It waits until that feed freezes (then the
                // entry lies at or beyond the fork and counts as held: 03-store.md §Forks) or
                // pending's lifetime ends — never quarantined as evidence against an honest key
                // (found by a chaos driver, 2026-12-06: a replica holding the other branch
                // quarantined an honest event for good while its peers applied it).
                return .outcome(try park(e, "time \(env.time.raw) is not later than its dependency seq \(d.seq) of \(d.replica.short) as held here (time \(t)); it waits in case that feed has a fork this replica has not found",
                                until: .feed(d.replica, UInt64(Int64.max)), fromPending: fromPending, &s, db))
            }
            try depFeeds.append((dh.feed ?? feedNumber(for: d.replica, db), d.seq))
        }
        if env.seq > 1 && env.time.raw <= predecessorTime {
            return .outcome(try quarantine(e, "time \(env.time.raw) is not later than its feed predecessor's (\(predecessorTime))", s, db, stall: stall))
        }
        if env.time.milliseconds > s.now.addingSaturating(ProtocolLimits.maxClockAheadMilliseconds) {
            return .outcome(try park(e, "its time \(CivilTime.rfc3339(milliseconds: env.time.milliseconds)) is more than an hour ahead of this replica's clock; it applies when the clock is within an hour of it",
                            until: .clock(until: env.time.milliseconds - ProtocolLimits.maxClockAheadMilliseconds), fromPending: fromPending, &s, db))
        }
        // The team roster in the event's causal past (Protocol/11-teams.md §Judgement).
        let delta = Dictionary(env.depsDelta.map { ($0.replica, $0.seq) }, uniquingKeysWith: max)
        let judgement = try judge(e, fullDep: { r in
            var v = delta[r] ?? 0
            if let own = ownFeed, env.seq > 1, let rf = try existingFeed(r, db) { v = max(v, try depSeq(feed: own, seq: env.seq - 1, on: rf, db)) }
            return v
        }, &s, db)
        switch judgement {
        case .refused(let why): return .outcome(.refused(why))
        case .denied(let why): return .outcome(try quarantine(e, "not permitted by the team roster in its causal past: \(why)", s, db, stall: stall))
        case .waits(let target, let why): return .outcome(try park(e, why, until: .event(target), fromPending: fromPending, &s, db))
        case .allowed(let c): return .admitted(depFeeds: depFeeds, roster: c)
        }
    }

    /// Writes the heads that moved to `feeds` (once per window, not per event).
    private func writeHeads(_ s: inout ApplyState, _ db: Database) throws {
        for r in s.movedHeads {
            guard let h = s.heads[r], let feed = h.feed, !h.forked else { continue }
            try setHead(feed: feed, seq: h.seq, id: h.id, db)
        }
        s.movedHeads.removeAll()
    }

    private func eventTime(feed: Int64, seq: UInt64, _ db: Database) throws -> UInt64? {
        try db.first("SELECT time FROM events WHERE feed = ? AND seq = ?", { $0.add(feed); $0.add(Int64(seq)) }) { UInt64(bitPattern: $0.int(0)) }
    }

    /// A held event stored without its payload takes the payload of a copy whose bytes match the
    /// envelope's hash (Protocol/05-bundle.md §Reading); the projections are then rebuilt.
    private func restorePayloadIfMissing(_ e: SignedEvent, held payloadMissing: Bool, s: inout ApplyState, _ db: Database) throws -> ApplyOutcome {
        guard payloadMissing, let p = e.payload, e.envelope.matches(payload: p), try !isRedacted(e.id, db) else { return .duplicate }
        try db.run("UPDATE events SET payload = ?1 WHERE \(ShortID.equals("id", "?2"))") { b in b.add(p); b.add(e.id.raw.bytes) }
        s.needsRebuild = true
        return .restored
    }

    /// Keeps an authenticated, otherwise invalid event (its signer broke a rule of its own feed) with
    /// the reason, and marks the feed stalled at it until a valid event for that seq applies.
    private func quarantine(_ e: SignedEvent, _ reason: String, _ s: ApplyState, _ db: Database, stall: Bool = true) throws -> ApplyOutcome {
        try db.run("""
            INSERT INTO quarantine(id, replica, seq, envelope, payload, reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO NOTHING
            """) { b in b.add(e.id.raw.bytes); b.add(e.envelope.replica.raw.bytes); b.add(Int64(e.envelope.seq)); b.add(e.envelope.bytes); b.add(e.payload); b.add(reason); b.add(Int64(clamping: s.now)) }
        // Bounded like fork evidence: the smallest `evidencePerSeq` ids of one (replica, seq), in
        // any arrival order.
        try db.run("""
            DELETE FROM quarantine WHERE replica = ?1 AND seq = ?2
            AND id > (SELECT id FROM quarantine WHERE replica = ?1 AND seq = ?2 ORDER BY id LIMIT 1 OFFSET \(Self.evidencePerSeq - 1))
            """) { b in b.add(e.envelope.replica.raw.bytes); b.add(Int64(e.envelope.seq)) }
        if stall { try db.run("UPDATE feeds SET state = 'stalled', state_reason = ? WHERE replica = ? AND state = 'ok'") { b in b.add("seq \(e.envelope.seq) (\(e.id.short)) rejected: \(reason)"); b.add(e.envelope.replica.raw.bytes) } }
        return .rejected(reason)
    }

    // MARK: Forks

    /// Freezes `replica`'s feed at `seq`, where two validly signed events exist (DESIGN §1.9). What is
    /// stored never depends on which branch arrived first: every event of the feed from the fork on
    /// (held, pending, or this one) becomes evidence in `forks`, and the feed's head goes back to
    /// seq − 1. Events of other feeds that depend on the frozen part are not stranded: a deps entry
    /// at or beyond a fork counts as satisfied.
    private func freeze(_ replica: ReplicaID, at seq: UInt64, evidence e: SignedEvent, _ s: inout ApplyState, _ db: Database) throws -> ApplyOutcome {
        var h = try head(replica, &s, db)
        let forkSeq = min(h.forkSeq ?? seq, seq)
        let blob = Data(replica.raw.bytes)
        if let feed = h.feed {
            try db.run("""
                INSERT INTO forks(id, replica, seq, other_id, envelope, payload, detected_at)
                SELECT id, ?, seq, zeroblob(32), envelope, payload, ? FROM events WHERE feed = ? AND seq >= ?
                ON CONFLICT(id) DO NOTHING
                """) { b in b.add(blob); b.add(Int64(clamping: s.now)); b.add(feed); b.add(Int64(forkSeq)) }
            try db.run("DELETE FROM event_deps WHERE feed = ? AND seq >= ?") { b in b.add(feed); b.add(Int64(forkSeq)) }
            try db.run("DELETE FROM events WHERE feed = ? AND seq >= ?") { b in b.add(feed); b.add(Int64(forkSeq)) }
            try db.run("DELETE FROM roster_events WHERE replica = ? AND seq >= ?") { b in b.add(blob); b.add(Int64(forkSeq)) }
            if db.changesCount > 0 { s.team = nil }
            let prev = try Row.fetchOne(try db.cachedStatement(sql: "SELECT id, time FROM events WHERE feed = ? AND seq = ?"), arguments: [feed, Int64(forkSeq - 1)])
            h.seq = forkSeq - 1
            h.id = (prev?[0] as Data?).flatMap { Bytes32(exactly: Array($0)) }.map(EventID.init) ?? .zero
            h.time = UInt64(bitPattern: (prev?[1] as Int64?) ?? 0)
            try db.run("""
                UPDATE feeds SET head_seq = ?, head_id = ?, state = 'forked', fork_seq = ?, state_reason = ? WHERE feed = ?
                """) { b in b.add(Int64(h.seq)); b.add(h.seq == 0 ? nil : Data(h.id.raw.bytes)); b.add(Int64(forkSeq)); b.add("two different signed events at seq \(forkSeq); feed frozen there"); b.add(feed) }
            // What peers acknowledged stays within what this replica holds: the feed's part from
            // the fork on is evidence now, not held (an acknowledgement recorded before the fork was
            // found named it; found by the hostile corpus, seed 7953513815337116712).
            try db.run("UPDATE peer_acks SET seq = ?1 WHERE replica = ?2 AND seq > ?1") { b in b.add(Int64(h.seq)); b.add(blob) }
        }
        // Waiting and quarantined events of the feed from the fork on are evidence too: an event
        // there judged before the fork was found (quarantined) is kept as one arriving after it is
        // (found by `SemanticLieTests`, 2026-12-07: a lie quarantined on the replica that met it
        // before the fork, evidence on the others).
        var redactions: [SignedEvent] = []
        let waits = try eventWaits(&s, db)
        for table in ["pending", "quarantine"] {
            // Each moved row is stored as evidence (an event may wait for its id), and a redaction
            // among them purges as it would have, had it applied before the fork was found.
            for row in try Row.fetchAll(db, sql: "SELECT id, envelope, payload FROM \(table) WHERE replica = ? AND seq >= ?", arguments: [blob, Int64(forkSeq)]) {
                if waits, let id = Bytes32(exactly: Array(row[0] as Data)) { s.storedWaited.append(id) }
                if let env = try? EventEnvelope(decoding: Array(row[1] as Data)), env.type == PayloadRedacted.type {
                    redactions.append(SignedEvent(envelope: env, payload: (row[2] as Data?).map { Array($0) }))
                }
            }
            try db.run("""
                INSERT INTO forks(id, replica, seq, other_id, envelope, payload, detected_at)
                SELECT id, replica, seq, zeroblob(32), envelope, payload, ? FROM \(table) WHERE replica = ? AND seq >= ?
                ON CONFLICT(id) DO NOTHING
                """) { b in b.add(Int64(clamping: s.now)); b.add(blob); b.add(Int64(forkSeq)) }
            try db.execute(sql: "DELETE FROM \(table) WHERE replica = ? AND seq >= ?", arguments: [blob, Int64(forkSeq)])
            if table == "pending", db.changesCount > 0 { s.pendingByFeed = nil }
        }
        // (The head first: a redaction's chain of evidence is read from the fork seq up.)
        h.forkSeq = forkSeq; h.state = "forked"
        s.heads[replica] = h
        for r in redactions { try applyEvidenceRedaction(r, &s, db) }
        try settleEvidence(replica, seq: nil, db)
        s.changedFeeds.insert(replica)
        s.needsRebuild = true
        _ = try keepEvidence(e, &s, db)
        return .fork
    }

    /// Whether a waiting event waits for an event by id (read once per call, then kept current).
    private func eventWaits(_ s: inout ApplyState, _ db: Database) throws -> Bool {
        if let known = s.eventWaits { return known }
        let waits = try Bool.fetchOne(try db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM pending WHERE wait_id IS NOT NULL) OR EXISTS (SELECT 1 FROM forks WHERE wait_id IS NOT NULL)
            """)) ?? false
        s.eventWaits = waits
        return waits
    }

    /// Event `id` was stored (in the log or as fork evidence): the events waiting for it are woken
    /// (and the evidence redactions waiting for it judged) at the drain. Costs nothing while no
    /// event waits for one.
    private func noteStored(_ id: Bytes32, _ s: inout ApplyState, _ db: Database) throws {
        if try eventWaits(&s, db) { s.storedWaited.append(id) }
    }

    /// Evidence kept per (replica, seq): the events with the smallest ids (two prove the fork). Any
    /// key can sign any number of events at one seq; keeping them all made each arrival rewrite them all.
    public static let evidencePerSeq = 8

    /// Stores an authenticated event of a frozen feed at or beyond its fork as evidence.
    private func keepEvidence(_ e: SignedEvent, _ s: inout ApplyState, _ db: Database) throws -> ApplyOutcome {
        let env = e.envelope
        try db.run("""
            INSERT INTO forks(id, replica, seq, other_id, envelope, payload, detected_at) VALUES (?, ?, ?, zeroblob(32), ?, ?, ?)
            ON CONFLICT(id) DO NOTHING
            """) { b in b.add(env.id.raw.bytes); b.add(env.replica.raw.bytes); b.add(Int64(env.seq)); b.add(env.bytes); b.add(e.payload); b.add(Int64(clamping: s.now)) }
        guard db.changesCount > 0 else { return .duplicate }
        try noteStored(env.id.raw, &s, db)
        try settleEvidence(env.replica, seq: env.seq, db)
        let kept = try Bool.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM forks WHERE id = ?"), arguments: [Data(env.id.raw.bytes)]) ?? false
        try applyEvidenceRedaction(e, &s, db)
        return kept ? .fork : .duplicate
    }

    /// A `PayloadRedacted` of the frozen part of a forked feed purges its target as it does from the
    /// log (Protocol/11-teams.md §Redaction): a replica that met it before the fork applied it, and a
    /// purge is never undone, so one that meets it after the fork purges too — or the two would show
    /// different projections for one set of events (found by `SemanticLieTests`, 2026-12-06).
    /// It is judged as the log judges it, against its causal past: without a team, its target is an
    /// earlier event of its own key (held in the log below the fork seq, in the causal past of both
    /// branches, or as evidence); in a team, against the roster of its causal past, whose deps are
    /// those of its chain of evidence down to the log below the fork (`evidenceDeps`) — a forked
    /// admin key's redaction purged only where it applied before the fork was found, until 2026-12-07.
    /// Met before what its judgement needs — its target or a link of its chain (held nowhere yet),
    /// or, in a team, an event of its causal past (the roster it is judged by must be whole, as in
    /// the log) — it records what it waits for in `forks.wait_*` and is judged again when that
    /// arrives (Protocol/03-store.md §Forks).
    private func applyEvidenceRedaction(_ e: SignedEvent, _ s: inout ApplyState, _ db: Database) throws {
        let env = e.envelope
        guard env.type == PayloadRedacted.type else { return }
        var wait: Wait?, allowed = false
        if try teamContext(&s, db).mode == .none {
            // With no other feed in its causal past: without a team only an earlier event of its
            // own key passes.
            let problem = try redactionProblem(env, payload: e.payload, fullDep: { _ in 0 }, teamless: true, db)
            if case .unheld(let target)? = problem { wait = .event(target) }
            allowed = problem == nil
        } else {
            switch try evidenceDeps(env, &s, db) {
            case .missing(let link):
                wait = .event(link)
            case .deps(let deps):
                for (r, seq) in deps.sorted(by: { $0.key.raw < $1.key.raw }) where r != env.replica {
                    let dh = try head(r, &s, db)
                    if dh.seq < seq && !(dh.forkSeq.map { seq >= $0 } ?? false) { wait = .feed(r, seq); break }
                }
                guard wait == nil else { break }
                switch try judge(e, fullDep: { deps[$0] ?? 0 }, &s, db) {
                case .allowed: allowed = true
                case .waits(let target, _): wait = .event(target)
                case .denied, .refused: break
                }
            }
        }
        var replica: Data?, seq: Int64?, id: Data?
        switch wait {
        case .feed(let r, let n)?: replica = Data(r.raw.bytes); seq = Int64(clamping: n)
        case .event(let target)?: id = Data(target.bytes); s.eventWaits = true
        case .clock?, nil: break
        }
        try db.run("""
            UPDATE forks SET wait_replica = ?1, wait_seq = ?2, wait_id = ?3 WHERE id = ?4
            AND (wait_replica IS NOT ?1 OR wait_seq IS NOT ?2 OR wait_id IS NOT ?3)
            """) { b in b.add(replica); b.add(seq); b.add(id); b.add(env.id.raw.bytes) }
        if allowed, try applyRedaction(env, payload: e.payload, db) { s.needsRebuild = true }
    }

    private enum EvidenceDeps { case deps([ReplicaID: UInt64]), missing(Bytes32) }

    /// The full deps of an event of the frozen part of a forked feed: the deps deltas of its chain of
    /// evidence (`prev` by `prev`) down to the feed's log below the fork seq, whose full deps
    /// `event_deps` holds; `.missing` names the first link of the chain held nowhere yet. Each walked
    /// link's full deps are kept for the rest of the call, so a chain is walked once per call.
    private func evidenceDeps(_ env: EventEnvelope, _ s: inout ApplyState, _ db: Database) throws -> EvidenceDeps {
        let h = try head(env.replica, &s, db)
        let forkSeq = h.forkSeq ?? env.seq
        var chain: [EventEnvelope] = []
        var e = env
        var base: [ReplicaID: UInt64] = [:]
        while true {
            if let known = s.evidenceDeps[e.id] { base = known; break }
            chain.append(e)
            if e.seq == 1 { break }
            if e.seq - 1 < forkSeq {
                // Below the fork: the log's event, if it is the one this chain names.
                guard let feed = h.feed, let logged = try loggedEvent(e.prev.raw, db), logged.replica == env.replica, logged.seq == e.seq - 1 else {
                    return .missing(e.prev.raw)
                }
                for d in try fullDeps(feed: feed, seq: e.seq - 1, db).sorted { base[d.replica] = d.seq }
                break
            }
            guard let p = try evidenceEnvelope(e.prev.raw, db), p.replica == env.replica, p.seq == e.seq - 1 else {
                return .missing(e.prev.raw)
            }
            e = p
        }
        for link in chain.reversed() {
            for d in link.depsDelta { base[d.replica] = max(base[d.replica] ?? 0, d.seq) }
            s.evidenceDeps[link.id] = base
        }
        return .deps(base)
    }

    /// Keeps the `evidencePerSeq` smallest ids at each of the feed's seqs (at one seq, or at all),
    /// and names in each row's `other_id` the smallest other id at its seq (32 zero bytes when alone):
    /// a function of the set of events received, whatever their order.
    private func settleEvidence(_ replica: ReplicaID, seq: UInt64?, _ db: Database) throws {
        let blob = Data(replica.raw.bytes)
        let other = """
            UPDATE forks SET other_id = coalesce((SELECT o.id FROM forks o WHERE o.replica = forks.replica AND o.seq = forks.seq AND o.id != forks.id
                                                  ORDER BY o.id LIMIT 1), zeroblob(32))
            """
        if let seq {
            try db.run("""
                DELETE FROM forks WHERE replica = ?1 AND seq = ?2
                AND id > (SELECT id FROM forks WHERE replica = ?1 AND seq = ?2 ORDER BY id LIMIT 1 OFFSET \(Self.evidencePerSeq - 1))
                """) { b in b.add(blob); b.add(Int64(seq)) }
            try db.run(other + " WHERE replica = ? AND seq = ?") { b in b.add(blob); b.add(Int64(seq)) }
        } else {
            try db.run("""
                DELETE FROM forks WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY seq ORDER BY id) AS n
                                                               FROM forks WHERE replica = ?1) WHERE n > \(Self.evidencePerSeq))
                """) { b in b.add(blob) }
            try db.run(other + " WHERE replica = ?") { b in b.add(blob) }
        }
    }

    // MARK: Pending

    /// Parks an authenticated event that cannot apply yet, within the pending table's bounds
    /// (Protocol/03-store.md §Pending): a feed over its share is refused; when the table is full,
    /// the feed with the most waiting events gives up its furthest one, or this event is refused.
    /// `wait`: what it waits for, stored with it (or, retried from pending, stored anew).
    private func park(_ e: SignedEvent, _ reason: String, until wait: Wait, fromPending: Bool, _ s: inout ApplyState, _ db: Database) throws -> ApplyOutcome {
        let idBlob = Data(e.id.raw.bytes)
        if fromPending {
            // Retried and still waiting: for what it needs now.
            try db.run("UPDATE pending SET reason = ?, wait_replica = ?, wait_seq = ?, wait_until = ?, wait_id = ? WHERE id = ?") { b in
                b.add(reason); wait.bind(&b); b.add(idBlob)
            }
            if case .event = wait { s.eventWaits = true }
            return .pending
        }
        if try Bool.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM pending WHERE id = ?"), arguments: [idBlob]) == true { return .pending }
        if s.pendingByFeed == nil {
            var counts = PendingCounts()
            for row in try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT p.replica, count(*), EXISTS (SELECT 1 FROM feeds f WHERE f.replica = p.replica AND f.head_seq > 0)
                FROM pending p GROUP BY p.replica
                """)) {
                if let r = Bytes32(exactly: Array(row[0] as Data)) { counts.add(ReplicaID(r), row[1], held: row[2]) }
            }
            s.pendingByFeed = counts
        }
        let replica = e.envelope.replica
        // Different events at one (replica, seq) are a fork once one applies: no more of them wait
        // than fork evidence keeps. (10,000 copies at one seq were each re-checked whenever any
        // event of the feed woke them: a CPU amplifier.)
        let sameSeq = try Int.fetchOne(try db.cachedStatement(sql: "SELECT count(*) FROM pending WHERE replica = ? AND seq = ?"),
                                       arguments: [Data(replica.raw.bytes), Int64(e.envelope.seq)]) ?? 0
        guard sameSeq < Self.evidencePerSeq else {
            return .refused("\(sameSeq) different events of \(replica.short) at seq \(e.envelope.seq) already wait in pending (a fork); not stored")
        }
        let mine = s.pendingByFeed![replica]
        guard mine < s.limits.perFeed else {
            return .refused("\(s.limits.perFeed) events of \(replica.short) already wait in pending (its share); import its earlier events first — this one will be offered again")
        }
        let held = try feedIsHeld(replica, db)
        if s.pendingByFeed!.total >= s.limits.total {
            guard let victim = try pendingVictim(held: held, waiting: mine, &s, db) else {
                return .refused("pending table is full (\(s.limits.total) events waiting for missing dependencies); import the missing earlier events first — this one will be offered again")
            }
            try db.run("DELETE FROM pending WHERE id = (SELECT id FROM pending WHERE replica = ? ORDER BY seq DESC, id DESC LIMIT 1)") { b in b.add(victim.raw.bytes) }
            s.pendingByFeed!.add(victim, -1)
        }
        try db.run("""
            INSERT INTO pending(id, replica, seq, envelope, payload, reason, received_at, wait_replica, wait_seq, wait_until, wait_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { b in
            b.add(idBlob); b.add(replica.raw.bytes); b.add(Int64(e.envelope.seq)); b.add(e.envelope.bytes); b.add(e.payload); b.add(reason)
            b.add(Int64(clamping: s.now)); wait.bind(&b)
        }
        s.pendingByFeed!.add(replica, 1, held: held)
        s.parked.insert(e.id)
        if case .event = wait { s.eventWaits = true }
        return .pending
    }

    /// The feed that gives up its furthest waiting event so that a newcomer (of a feed the replica
    /// holds events of, or not; `waiting` of its events wait) can wait, or nil (it is refused). Keys cost nothing, so
    /// any number of strangers (keys this replica holds no event of) can each park events whose
    /// predecessor never comes; they must not crowd out the out-of-order events of authors whose
    /// events the replica holds. So a held feed's event takes the place of a stranger's (of a
    /// stranger with the most waiting), or else of the feed with the most waiting events if it has
    /// more than the newcomer's would then have; a stranger's event only ever takes the place of a
    /// stranger's, by that second rule.
    private func pendingVictim(held: Bool, waiting: Int, _ s: inout ApplyState, _ db: Database) throws -> ReplicaID? {
        if held {
            while let (stranger, _) = s.pendingByFeed!.strangers.largest {
                // Held since the counts were read (its predecessor came in this call): no stranger.
                guard try feedIsHeld(stranger, db) else { return stranger }
                s.pendingByFeed!.markHeld(stranger)
            }
            if let (largest, n) = s.pendingByFeed!.all.largest, n > waiting + 1 { return largest }
            return nil
        }
        while let (stranger, n) = s.pendingByFeed!.strangers.largest, n > waiting + 1 {
            guard try feedIsHeld(stranger, db) else { return stranger }
            s.pendingByFeed!.markHeld(stranger)
        }
        return nil
    }

    private func feedIsHeld(_ replica: ReplicaID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM feeds WHERE replica = ? AND head_seq > 0"),
                          arguments: [Data(replica.raw.bytes)]) ?? false
    }

    /// Drops pending events that have waited longer than the limits' lifetime.
    private func expirePending(_ s: inout ApplyState, _ db: Database) throws {
        guard s.now > s.limits.lifetime else { return }
        try db.run("DELETE FROM pending WHERE received_at < ?") { b in b.add(Int64(clamping: s.now - s.limits.lifetime)) }
    }

    /// Applies pending events that became ready, until none does. Pending copies of events that
    /// arrived again and applied directly are dropped as duplicates (or kept as fork evidence when
    /// they differ from the held event).
    ///
    /// Each waiting event records what it waits for (`pending.wait_*`): a seq of a feed (its own
    /// predecessor, or a deps entry), the clock, or an event by id (a redaction's target, a fact). A
    /// worklist of feeds: those with an event whose wait the feeds moved (or frozen) or the events
    /// stored in this call ended, or whose time has come, then those whose
    /// wait a feed moved by the drain itself ended — each found through an index, each read from its
    /// head on through `pending_feed`. Nothing else in `pending` is read: events of throwaway keys
    /// waiting for what never comes cost an apply nothing (they were retried by every window), and a
    /// gap filled under a long chain costs work linear in the chain.
    private func drainPending(_ s: inout ApplyState, _ db: Database) throws {
        try writeHeads(&s, db)
        var queue: [ReplicaID] = [], queued = Set<ReplicaID>()
        // (Sorted and deduplicated here: with ORDER BY or DISTINCT, SQLite scans `pending_feed`
        // in replica order instead of searching the wait's index.)
        func enqueue(_ blobs: [Data]) {
            for blob in Set(blobs).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                guard let r = Bytes32(exactly: Array(blob)).map(ReplicaID.init), queued.insert(r).inserted else { continue }
                queue.append(r)
            }
        }
        /// Queues `replica` itself (a waiting event of its own at or below its new head is a
        /// duplicate or a fork, whatever it waited for) and the feeds with an event waiting for it
        /// that may apply now: its head reached the seq waited for, or the seq lies at or beyond its
        /// fork (never to be held: judged now).
        func wake(_ replica: ReplicaID) throws {
            let h = try head(replica, &s, db)
            let blob = Data(replica.raw.bytes)
            enqueue([blob])
            enqueue(try Data.fetchAll(try db.cachedStatement(sql: """
                SELECT replica FROM pending WHERE wait_replica = ? AND wait_seq <= ?
                """), arguments: [blob, Int64(clamping: h.seq)]))
            // Evidence redactions whose causal past this feed now completes (or whose waited seq
            // lies at or beyond its fork).
            try judgeWaitingEvidence(try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT envelope, payload FROM forks WHERE wait_replica = ? AND wait_seq <= ?
                """), arguments: [blob, Int64(clamping: h.seq)]))
            if let fork = h.forkSeq {
                try judgeWaitingEvidence(try Row.fetchAll(try db.cachedStatement(sql: """
                    SELECT envelope, payload FROM forks WHERE wait_replica = ? AND wait_seq >= ?
                    """), arguments: [blob, Int64(clamping: fork)]))
                enqueue(try Data.fetchAll(try db.cachedStatement(sql: """
                    SELECT replica FROM pending WHERE wait_replica = ? AND wait_seq >= ?
                    """), arguments: [blob, Int64(clamping: fork)]))
            }
        }
        /// Judges again the evidence redactions of `rows` (`envelope`, `payload`), whose wait ended.
        func judgeWaitingEvidence(_ rows: [Row]) throws {
            for row in rows {
                guard let env = try? EventEnvelope(decoding: Array(row[0] as Data)) else { continue }
                try applyEvidenceRedaction(SignedEvent(envelope: env, payload: (row[1] as Data?).map { Array($0) }), &s, db)
            }
        }
        /// Queues the feeds with an event waiting for an event stored since the last call, and
        /// judges the evidence redactions waiting for one.
        func wakeStored() throws {
            let stored = s.storedWaited
            s.storedWaited.removeAll()
            for id in stored {
                enqueue(try Data.fetchAll(try db.cachedStatement(sql: "SELECT replica FROM pending WHERE wait_id = ?"), arguments: [Data(id.bytes)]))
                try judgeWaitingEvidence(try Row.fetchAll(try db.cachedStatement(sql: "SELECT envelope, payload FROM forks WHERE wait_id = ?"),
                                                          arguments: [Data(id.bytes)]))
            }
        }
        enqueue(try Data.fetchAll(try db.cachedStatement(sql: """
            SELECT replica FROM pending WHERE wait_until <= ?
            """), arguments: [Int64(clamping: s.now)]))
        for r in s.changedFeeds.sorted(by: { $0.raw < $1.raw }) { try wake(r) }
        s.changedFeeds.removeAll()
        try wakeStored()
        var next = 0
        while next < queue.count {
            let replica = queue[next]
            next += 1
            queued.remove(replica)
            let head = try head(replica, &s, db)
            let rows = try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT id, envelope, payload FROM pending WHERE replica = ? AND seq <= ? ORDER BY seq, id
                """), arguments: [Data(replica.raw.bytes), Int64(clamping: head.seq.addingSaturating(1))])
            for row in rows {
                guard let env = try? EventEnvelope(decoding: Array(row["envelope"] as Data)) else {
                    try db.run("DELETE FROM pending WHERE id = ?") { b in b.add(row["id"] as Data) }
                    continue
                }
                let e = SignedEvent(envelope: env, payload: (row["payload"] as Data?).map { Array($0) })
                // Pending holds only authenticated events (checked before they were parked).
                let outcome = try applyOne(e, authenticated: true, fromPending: true, &s, db)
                if outcome == .pending { continue }
                try db.run("DELETE FROM pending WHERE id = ?") { b in b.add(row["id"] as Data) }
                if db.changesCount > 0 { s.pendingByFeed?.add(env.replica, -1) }
                if outcome == .applied {
                    s.summary.applied += 1
                    // Parked earlier in this call: it no longer waits. Otherwise it waited since an earlier call.
                    if s.parked.contains(e.id) { s.summary.pending -= 1 } else { s.summary.appliedFromPending += 1 }
                } else {
                    if s.parked.contains(e.id) { s.summary.pending -= 1 }
                    if outcome != .duplicate { s.record(outcome, e) }
                }
            }
            // Wake what waited for the feeds that moved or froze (this one, and the feeds of
            // duplicates' forks), this feed included: its next event waited for the one applied.
            let changed = s.changedFeeds.sorted(by: { $0.raw < $1.raw })
            s.changedFeeds.removeAll()
            for r in changed { try wake(r) }
            try wakeStored()
        }
    }
}

/// Waiting events counted per feed (all feeds, and the feeds the replica held no event of when the
/// counts were read), each with a feed of the most events at hand: O(1) per change, so a flood from
/// many throwaway keys costs no scan per event.
struct PendingCounts {
    struct Index {
        private var byFeed: [ReplicaID: Int] = [:]
        /// Feeds by their count (only counts ≥ 1).
        private var byCount: [Int: Set<ReplicaID>] = [:]
        private(set) var total = 0
        private var maxCount = 0

        subscript(_ r: ReplicaID) -> Int { byFeed[r] ?? 0 }

        mutating func add(_ r: ReplicaID, _ delta: Int) {
            let old = self[r], new = max(0, old + delta)
            guard new != old else { return }
            if old > 0 { byCount[old]?.remove(r); if byCount[old]?.isEmpty == true { byCount[old] = nil } }
            if new > 0 { byCount[new, default: []].insert(r); byFeed[r] = new } else { byFeed[r] = nil }
            total += new - old
            if new > maxCount { maxCount = new }
            while maxCount > 0 && byCount[maxCount] == nil { maxCount -= 1 }
        }

        /// A feed with the most waiting events, and how many.
        var largest: (ReplicaID, Int)? {
            guard maxCount > 0, let r = byCount[maxCount]?.first else { return nil }
            return (r, maxCount)
        }
    }

    private(set) var all = Index()
    /// Feeds of strangers: the replica held no event of them when their first waiting one was counted.
    private(set) var strangers = Index()

    subscript(_ r: ReplicaID) -> Int { all[r] }
    var total: Int { all.total }

    /// `held`: whether the replica holds events of `r` (read only for a feed new to the counts).
    mutating func add(_ r: ReplicaID, _ delta: Int, held: Bool = true) {
        let stranger = strangers[r] > 0 || (all[r] == 0 && !held)
        all.add(r, delta)
        if stranger { strangers.add(r, all[r] - strangers[r]) }
    }

    /// `r`'s first event came since the counts were read: no longer a stranger.
    mutating func markHeld(_ r: ReplicaID) { strangers.add(r, -strangers[r]) }
}
