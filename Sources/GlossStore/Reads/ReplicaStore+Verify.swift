import Foundation
import GRDB
import GlossModel

/// The result of `gloss verify`: every stored event re-checked.
public struct LogVerification: Sendable {
    public struct Fault: Sendable {
        public var event: String
        public var replica: String
        public var seq: UInt64
        public var reason: String
    }
    /// Fork evidence held (DESIGN §1.9): proof that another replica's key signed two different
    /// events at one seq. The log itself is sound; the feed is frozen at `seq`.
    public struct Fork: Sendable {
        public var replica: String
        /// The seq the feed is frozen at (the lowest seq with two signed events).
        public var seq: UInt64
        /// Evidence events held for the feed (from the fork on, every branch).
        public var evidence: Int
        /// Of those, how many verify (signature, and payload hash when the payload is held).
        public var verified: Int
    }
    public var checked: Int
    /// Faults of the stored log itself (local corruption): exit 4.
    public var faults: [Fault]
    /// Held fork evidence, reported apart from faults: exit 9 when the log has no fault.
    public var forks: [Fork] = []
}

extension ReplicaStore {
    /// Re-checks every stored event: id = SHA-256 of the envelope, envelope structure, feed
    /// continuity and `prev` chain, payload hash (unless purged) and every signature — an event whose
    /// own signature fails is proven by a validly signed later event of its feed that its unbroken
    /// chain reaches, as on apply; and the fork evidence held.
    public func verifyLog(_ db: Database) throws -> LogVerification {
        var faults: [LogVerification.Fault] = []
        var checked = 0
        var lastFeed: Int64 = -1, expectSeq: UInt64 = 1, prevID = EventID.zero, feedReplica = ReplicaID(.zero)
        // Events of the current feed whose own signature does not verify and that no validly signed
        // later event of the feed vouches for yet (01-event.md §Verification: the id covers the
        // signature bytes, so a valid signature proves the unbroken `prev` chain behind it).
        var unvouched: [LogVerification.Fault] = []
        func settleUnvouched() { faults += unvouched; unvouched = [] }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT e.pos, e.feed, e.seq, e.id, e.envelope, e.payload, f.replica FROM events e JOIN feeds f ON f.feed = e.feed ORDER BY e.feed, e.seq
            """)
        while let row = try rows.next() {
            checked += 1
            let feed: Int64 = row["feed"], seq = UInt64(row["seq"] as Int64)
            let idHex = Hex.encode(row["id"] as Data)
            if feed != lastFeed {
                settleUnvouched()
                lastFeed = feed; expectSeq = 1; prevID = .zero
                feedReplica = ReplicaID(Bytes32(exactly: Array(row["replica"] as Data)) ?? .zero)
            }
            func fault(_ reason: String) { faults.append(.init(event: idHex, replica: feedReplica.hex, seq: seq, reason: reason)) }
            defer { expectSeq = seq + 1 }
            let bytes = Array(row["envelope"] as Data)
            let computed = EventID(Bytes32.sha256(bytes))
            if computed.hex != idHex { fault("stored id does not match the SHA-256 of the envelope (envelope altered)") }
            guard let env = try? EventEnvelope(decoding: bytes) else { fault("envelope does not decode"); prevID = computed; continue }
            if env.replica != feedReplica { fault("envelope names replica \(env.replica.short), stored in feed of \(feedReplica.short)") }
            if env.seq != seq { fault("envelope seq \(env.seq) differs from stored seq \(seq)") }
            if seq != expectSeq { fault("feed gap: expected seq \(expectSeq)") }
            if env.prev != prevID {
                fault("prev does not name the feed's previous event")
                settleUnvouched()   // nothing after the break vouches for what came before it
            }
            if let p = row["payload"] as Data?, !env.matches(payload: Array(p)) { fault("payload does not match the payload hash (payload altered)") }
            if env.hasValidSignature() {
                unvouched = []
            } else {
                unvouched.append(.init(event: idHex, replica: feedReplica.hex, seq: seq,
                                       reason: "signature does not verify, and no validly signed later event of its feed vouches for it"))
            }
            prevID = computed
        }
        settleUnvouched()
        // Forks: two validly signed events at one (replica, seq) — the feed is frozen (DESIGN §1.9).
        var forks: [LogVerification.Fork] = []
        for feed in try Row.fetchAll(db, sql: "SELECT replica, fork_seq FROM feeds WHERE fork_seq IS NOT NULL ORDER BY replica") {
            let replica = Hex.encode(feed[0] as Data)
            var fork = LogVerification.Fork(replica: replica, seq: UInt64(feed[1] as Int64), evidence: 0, verified: 0)
            let rows = try Row.fetchCursor(db, sql: "SELECT envelope, payload FROM forks WHERE replica = ? ORDER BY seq, id", arguments: [feed[0] as Data])
            while let row = try rows.next() {
                fork.evidence += 1
                guard let env = try? EventEnvelope(decoding: Array(row[0] as Data)), env.hasValidSignature() else { continue }
                if let p = row[1] as Data?, !env.matches(payload: Array(p)) { continue }
                fork.verified += 1
            }
            if fork.verified < fork.evidence {
                faults.append(.init(event: "", replica: replica, seq: fork.seq, reason: "\(fork.evidence - fork.verified) fork evidence events do not verify (evidence altered)"))
            }
            forks.append(fork)
        }
        return LogVerification(checked: checked, faults: faults, forks: forks)
    }
}
