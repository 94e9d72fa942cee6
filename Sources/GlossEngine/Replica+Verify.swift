import Foundation
import GRDB
import GlossModel
import GlossStore

/// The result of `gloss verify`.
public struct VerifyReport: Sendable {
    public struct Fault: Sendable {
        public var event: String
        public var replica: String
        public var seq: UInt64
        public var reason: String
    }
    public var checked: Int
    public var faults: [Fault]
    public var json: JSON {
        .object([("checked", .int(Int64(checked))), ("ok", .bool(faults.isEmpty)),
                 ("faults", .array(faults.map { .object([("event", .string($0.event)), ("replica", .string($0.replica)),
                                                        ("seq", .int(Int64($0.seq))), ("reason", .string($0.reason))]) }))])
    }
}

extension Replica {
    /// Re-checks every stored event: id = SHA-256 of the envelope, envelope structure, feed
    /// continuity and `prev` chain, payload hash (unless purged) and every signature.
    public func verify() throws -> VerifyReport {
        try read { db in
            var faults: [VerifyReport.Fault] = []
            var checked = 0
            var lastFeed: Int64 = -1, expectSeq: UInt64 = 1, prevID = EventID.zero, feedReplica = ReplicaID(.zero)
            let rows = try Row.fetchCursor(db, sql: """
                SELECT e.pos, e.feed, e.seq, e.id, e.envelope, e.payload, f.replica FROM events e JOIN feeds f ON f.feed = e.feed ORDER BY e.feed, e.seq
                """)
            while let row = try rows.next() {
                checked += 1
                let feed: Int64 = row["feed"], seq = UInt64(row["seq"] as Int64)
                let idHex = Hex.encode(row["id"] as Data)
                if feed != lastFeed {
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
                if env.prev != prevID { fault("prev does not name the feed's previous event") }
                if let p = row["payload"] as Data?, !env.matches(payload: Array(p)) { fault("payload does not match the payload hash (payload altered)") }
                if !env.hasValidSignature() { fault("signature does not verify") }
                prevID = computed
            }
            // Forks: two validly signed events at one (replica, seq) — the feed is frozen (DESIGN §1.9).
            for row in try Row.fetchAll(db, sql: "SELECT id, replica, seq, other_id, envelope FROM forks ORDER BY replica, seq") {
                let env = try? EventEnvelope(decoding: Array(row["envelope"] as Data))
                let signed = env?.hasValidSignature() == true ? "validly signed" : "NOT validly signed"
                faults.append(.init(event: Hex.encode(row["id"] as Data), replica: Hex.encode(row["replica"] as Data), seq: UInt64(row["seq"] as Int64),
                                    reason: "fork: this \(signed) event and the held event \(Hex.encode(row["other_id"] as Data).prefix(12)) share replica and seq; the feed is frozen at its fork"))
            }
            return VerifyReport(checked: checked, faults: faults)
        }
    }
}
