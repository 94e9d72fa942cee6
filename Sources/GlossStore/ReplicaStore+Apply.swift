import Foundation
import GRDB
import GlossModel

/// What happened to one received event.
public enum ApplyOutcome: Sendable, Equatable {
    case applied
    /// Already held: nothing changed.
    case duplicate
    /// Waits in the pending table for its feed predecessor or a dependency.
    case pending
    /// Envelope, hash, chain or signature failure: kept in quarantine with the reason.
    case rejected(String)
    /// Not stored (the pending table is full): the sender will offer it again.
    case refused(String)
    /// A second, validly signed event for a (replica, seq) already held: kept as evidence.
    case fork
}

/// Counts of an import or sync (`--json` keys `received`, `applied`, `duplicate`, `pending`, `rejected`).
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
    /// Quarantined, refused (pending full) or frozen-feed events.
    public var rejected = 0
    /// Of `applied`, events that had waited in pending since an earlier call.
    public var appliedFromPending = 0
    public var forks = 0
    /// The first rejections, with reasons (at most 100 listed).
    public var rejections: [Rejection] = []

    public init() {}

    public mutating func add(_ o: ApplySummary) {
        received += o.received; applied += o.applied; duplicate += o.duplicate; pending += o.pending
        rejected += o.rejected; appliedFromPending += o.appliedFromPending; forks += o.forks
        for r in o.rejections where rejections.count < 100 { rejections.append(r) }
    }
}

extension ReplicaStore {
    /// Largest number of events the pending table holds; beyond it, further out-of-order events are
    /// refused with a message (never dropped silently) and will be offered again by the sender.
    public static let defaultMaxPending = 100_000

    /// Events whose signatures are vouched for by one check per feed: within the window, the last
    /// event of each feed and the hash chain behind it (DESIGN §2). When that signature fails, a
    /// binary search finds the longest validly signed prefix of the chain.
    public static func vouchedEvents(_ window: [SignedEvent]) -> Set<EventID> {
        var byFeed: [ReplicaID: [Int]] = [:]
        for (i, e) in window.enumerated() { byFeed[e.envelope.replica, default: []].append(i) }
        var vouched = Set<EventID>()
        for (_, indices) in byFeed {
            var byID: [EventID: Int] = [:]
            for i in indices { byID[window[i].id] = i }
            guard let last = indices.max(by: { window[$0].envelope.seq < window[$1].envelope.seq }) else { continue }
            var chain = [last]
            while let p = byID[window[chain.last!].envelope.prev], !chain.contains(p) { chain.append(p) }
            chain.reverse()
            func valid(_ k: Int) -> Bool { window[chain[k]].envelope.hasValidSignature() }
            var good = -1
            if valid(chain.count - 1) { good = chain.count - 1 } else {
                var (lo, hi) = (-1, chain.count - 1)
                while hi - lo > 1 { let m = (lo + hi) / 2; if valid(m) { lo = m } else { hi = m } }
                good = lo
            }
            for k in 0...max(good, -1) where k >= 0 { vouched.insert(window[chain[k]].id) }
        }
        return vouched
    }

    /// Applies a window of received events in one transaction, in the order given, then drains any
    /// pending events that became ready. Validity depends only on each event and its causal past.
    ///
    /// Idempotent: applying the same window again changes nothing and counts every event as duplicate.
    public func applyRemote(_ window: [SignedEvent], now: UInt64, maxPending: Int = ReplicaStore.defaultMaxPending) throws -> ApplySummary {
        let vouched = ReplicaStore.vouchedEvents(window)
        return try write { db in
            var state = ApplyState(maxPending: maxPending, now: now)
            for e in window {
                state.summary.received += 1
                state.record(try applyOne(e, vouched: vouched, fromPending: false, &state, db), e)
            }
            try drainPending(&state, vouched: vouched, db)
            if state.forkDetected { try rebuildProjections(db, progress: nil) }
            return state.summary
        }
    }

    struct FeedHead {
        var feed: Int64
        var seq: UInt64
        var id: EventID
        var state: String
        var forkSeq: UInt64?
    }

    struct ApplyState {
        var summary = ApplySummary()
        var heads: [ReplicaID: FeedHead] = [:]
        var pendingCount: Int?
        var forkDetected = false
        /// Events of this call parked in pending (to count those drained in the same call).
        var parked = Set<EventID>()
        let maxPending: Int
        let now: UInt64
        init(maxPending: Int, now: UInt64) { self.maxPending = maxPending; self.now = now }

        mutating func record(_ o: ApplyOutcome, _ e: SignedEvent) {
            switch o {
            case .applied: summary.applied += 1
            case .duplicate: summary.duplicate += 1
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

    func head(_ replica: ReplicaID, _ s: inout ApplyState, _ db: Database) throws -> FeedHead {
        if let h = s.heads[replica] { return h }
        let feed = try feedNumber(for: replica, db)
        let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT head_seq, head_id, state, fork_seq FROM feeds WHERE feed = ?"), arguments: [feed])!
        let h = FeedHead(feed: feed, seq: UInt64(row[0] as Int64),
                         id: (row[1] as Data?).flatMap { Bytes32(exactly: Array($0)) }.map(EventID.init) ?? .zero,
                         state: row[2], forkSeq: (row[3] as Int64?).map(UInt64.init))
        s.heads[replica] = h
        return h
    }

    private func applyOne(_ e: SignedEvent, vouched: Set<EventID>, fromPending: Bool, _ s: inout ApplyState, _ db: Database) throws -> ApplyOutcome {
        let env = e.envelope
        var h = try head(env.replica, &s, db)
        func signatureOK() -> Bool { vouched.contains(e.id) || env.hasValidSignature() }

        if env.seq <= h.seq {
            let heldID = try Data.fetchOne(try db.cachedStatement(sql: "SELECT id FROM events WHERE feed = ? AND seq = ?"), arguments: [h.feed, Int64(env.seq)])
            if let heldID, heldID == Data(env.id.raw.bytes) { return .duplicate }
            guard let heldID, signatureOK() else {
                return try quarantine(e, "signature does not verify", stall: false, s, db)
            }
            // Two validly signed events at one (replica, seq): a fork. Keep both as evidence, freeze the feed.
            let exists = try Bool.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM forks WHERE id = ?"), arguments: [Data(env.id.raw.bytes)]) ?? false
            if exists { return .duplicate }
            try db.cachedStatement(sql: "INSERT INTO forks(id, replica, seq, other_id, envelope, payload, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)").execute(arguments: [Data(env.id.raw.bytes), Data(env.replica.raw.bytes), Int64(env.seq), heldID,
                                       Data(env.bytes), e.payload.map { Data($0) }, Int64(s.now)])
            let forkSeq = min(h.forkSeq ?? env.seq, env.seq)
            try db.cachedStatement(sql: "UPDATE feeds SET state = 'forked', fork_seq = ?, state_reason = ? WHERE feed = ?").execute(arguments: [Int64(forkSeq), "two different signed events at seq \(forkSeq); feed frozen there", h.feed])
            h.state = "forked"; h.forkSeq = forkSeq; s.heads[env.replica] = h
            s.forkDetected = true
            return .fork
        }
        if h.state == "forked" {
            return try quarantine(e, "feed \(env.replica.short) is frozen at its fork at seq \(h.forkSeq ?? 0); later events are not applied", stall: false, s, db)
        }
        if let p = e.payload, !env.matches(payload: p) {
            return try quarantine(e, "payload does not match the payload hash", stall: true, s, db)
        }
        if env.seq > h.seq + 1 {
            return try park(e, "waiting for seq \(h.seq + 1) of \(env.replica.short)", fromPending: fromPending, &s, db)
        }
        guard env.prev == h.id else {
            return try quarantine(e, "prev does not name the held event seq \(h.seq) of its feed (chain break; the feed may be forked)", stall: true, s, db)
        }
        // Deps: every entry must have grown along the feed and be held here.
        var depFeeds: [(Int64, UInt64)] = []
        for d in env.depsDelta {
            let dh = try head(d.replica, &s, db)
            let before = try depSeq(feed: h.feed, seq: env.seq - 1, on: dh.feed, db)
            if d.seq <= before {
                return try quarantine(e, "deps entry for \(d.replica.short) did not grow (\(d.seq) ≤ \(before))", stall: true, s, db)
            }
            if dh.seq < d.seq {
                return try park(e, "waiting for seq \(d.seq) of \(d.replica.short)", fromPending: fromPending, &s, db)
            }
            depFeeds.append((dh.feed, d.seq))
        }
        guard signatureOK() else { return try quarantine(e, "signature does not verify", stall: true, s, db) }
        try insert(env, payload: e.payload, feed: h.feed, depFeeds: depFeeds, db)
        if h.state == "stalled" {
            try db.cachedStatement(sql: "UPDATE feeds SET state = 'ok', state_reason = NULL WHERE feed = ?").execute(arguments: [h.feed])
            h.state = "ok"
        }
        h.seq = env.seq; h.id = env.id
        s.heads[env.replica] = h
        return .applied
    }

    private func quarantine(_ e: SignedEvent, _ reason: String, stall: Bool, _ s: ApplyState, _ db: Database) throws -> ApplyOutcome {
        try db.cachedStatement(sql: """
            INSERT INTO quarantine(id, replica, seq, envelope, payload, reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO NOTHING
            """).execute(arguments: [Data(e.id.raw.bytes), Data(e.envelope.replica.raw.bytes), Int64(e.envelope.seq), Data(e.envelope.bytes),
                             e.payload.map { Data($0) }, reason, Int64(s.now)])
        if stall {
            try db.cachedStatement(sql: "UPDATE feeds SET state = 'stalled', state_reason = ? WHERE replica = ? AND state = 'ok'").execute(arguments: ["seq \(e.envelope.seq) (\(e.id.short)) rejected: \(reason)", Data(e.envelope.replica.raw.bytes)])
        }
        return .rejected(reason)
    }

    private func park(_ e: SignedEvent, _ reason: String, fromPending: Bool, _ s: inout ApplyState, _ db: Database) throws -> ApplyOutcome {
        if fromPending { return .pending }
        let idBlob = Data(e.id.raw.bytes)
        if try Bool.fetchOne(try db.cachedStatement(sql: "SELECT 1 FROM pending WHERE id = ?"), arguments: [idBlob]) == true { return .pending }
        if s.pendingCount == nil { s.pendingCount = try Int.fetchOne(try db.cachedStatement(sql: "SELECT count(*) FROM pending")) ?? 0 }
        guard s.pendingCount! < s.maxPending else {
            return .refused("pending table is full (\(s.maxPending) events waiting for missing dependencies); import the missing earlier events first — this one will be offered again")
        }
        try db.cachedStatement(sql: "INSERT INTO pending(id, replica, seq, envelope, payload, reason, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)").execute(arguments: [idBlob, Data(e.envelope.replica.raw.bytes), Int64(e.envelope.seq), Data(e.envelope.bytes),
                                   e.payload.map { Data($0) }, reason, Int64(s.now)])
        s.pendingCount! += 1
        s.parked.insert(e.id)
        return .pending
    }

    /// Applies pending events that became ready (their feed predecessor is held), until none does.
    /// Pending copies of events that arrived again and applied directly are dropped as duplicates
    /// (or kept as fork evidence when they differ from the held event).
    private func drainPending(_ s: inout ApplyState, vouched: Set<EventID>, _ db: Database) throws {
        while true {
            let rows = try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT p.id, p.envelope, p.payload FROM pending p LEFT JOIN feeds f ON f.replica = p.replica
                WHERE p.seq <= coalesce(f.head_seq, 0) + 1 ORDER BY p.received_at, p.seq
                """))
            var progressed = false
            for row in rows {
                let env = try EventEnvelope(decoding: Array(row["envelope"] as Data))
                let e = SignedEvent(envelope: env, payload: (row["payload"] as Data?).map { Array($0) })
                let outcome = try applyOne(e, vouched: vouched, fromPending: true, &s, db)
                if outcome == .pending { continue }
                try db.cachedStatement(sql: "DELETE FROM pending WHERE id = ?").execute(arguments: [row["id"] as Data])
                if s.pendingCount != nil { s.pendingCount! -= 1 }
                if outcome == .applied {
                    progressed = true
                    s.summary.applied += 1
                    // Parked earlier in this call: it no longer waits. Otherwise it waited since an earlier call.
                    if s.parked.contains(e.id) { s.summary.pending -= 1 } else { s.summary.appliedFromPending += 1 }
                } else {
                    if s.parked.contains(e.id) { s.summary.pending -= 1 }
                    if outcome != .duplicate { s.record(outcome, e) }
                }
            }
            if !progressed { return }
        }
    }
}
