import Foundation
import GRDB
import GlossModel

/// An event row of the log, as stored.
public struct StoredEvent: Sendable {
    public var pos: Int64
    public var feed: Int64
    public var envelope: EventEnvelope
    public var payload: [UInt8]?
    /// The id column as stored (equal to `envelope.id` unless the database was tampered with).
    public var storedID: EventID
    public var id: EventID { envelope.id }
}

extension ReplicaStore {
    static let eventColumns = "pos, feed, id, envelope, payload"

    /// The latest hybrid time of the events whose wall-clock part is at or before `milliseconds`
    /// (nil: none), through the time index: it names the set of events a time point selects.
    public func lastEventTime(atOrBefore milliseconds: UInt64) throws -> HybridTime? {
        try read { db in
            // Wall part ≤ ms ⟺ raw < (ms + 1) << 16; past the largest time every event is in.
            let bounded = milliseconds < (ProtocolLimits.maxTime >> 16)
            let raw = bounded ? try Int64.fetchOne(db, sql: "SELECT max(time) FROM events WHERE time < ?", arguments: [Int64((milliseconds + 1) << 16)])
                              : try Int64.fetchOne(db, sql: "SELECT max(time) FROM events")
            return raw.map { HybridTime(raw: UInt64($0)) }
        }
    }

    static func storedEvent(_ row: Row) throws -> StoredEvent {
        let idBlob: Data = row["id"]
        guard let sid = Bytes32(exactly: Array(idBlob)) else { throw StoreError(.corrupt, "event at pos \(row["pos"] as Int64) has an id that is not 32 bytes") }
        let env: EventEnvelope
        do { env = try EventEnvelope(decoding: Array(row["envelope"] as Data)) } catch {
            throw StoreError(.corrupt, "event \(sid.hex.prefix(12)) at pos \(row["pos"] as Int64) has an undecodable envelope; run `gloss verify`", underlying: error)
        }
        return StoredEvent(pos: row["pos"], feed: row["feed"], envelope: env,
                           payload: (row["payload"] as Data?).map { Array($0) }, storedID: EventID(sid))
    }

    /// Streams events in local order starting after `afterPos`, calling `body` for each; stops when
    /// `body` returns false.
    public func forEachEvent(afterPos: Int64 = 0, _ db: Database, _ body: (StoredEvent) throws -> Bool) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT \(ReplicaStore.eventColumns) FROM events WHERE pos > ? ORDER BY pos", arguments: [afterPos])
        while let row = try rows.next() {
            if try !body(try ReplicaStore.storedEvent(row)) { return }
        }
    }

    public func event(_ id: EventID, _ db: Database) throws -> StoredEvent? {
        try Row.fetchOne(try db.cachedStatement(sql: "SELECT \(ReplicaStore.eventColumns) FROM events WHERE \(ShortID.equals("id", "?1"))"), arguments: [Data(id.raw.bytes)])
            .map(ReplicaStore.storedEvent)
    }

    public func eventCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
    }

    /// The blob range [low, high] that every 32-byte id starting with the hex `prefix` falls in.
    public static func blobRange(hexPrefix prefix: String) -> (Data, Data)? {
        guard Hex.isHexPrefix(prefix), prefix.utf8.count <= 64 else { return nil }
        let p = prefix.lowercased()
        let low = p + String(repeating: "0", count: 64 - p.count)
        let high = p + String(repeating: "f", count: 64 - p.count)
        return (Data(Hex.decode(low)!), Data(Hex.decode(high)!))
    }

    /// Event ids starting with `prefix` (at most `limit`).
    public func eventIDs(prefix: String, limit: Int = 10, _ db: Database) throws -> [EventID] {
        guard let (lo, hi) = ReplicaStore.blobRange(hexPrefix: prefix) else { return [] }
        return try Data.fetchAll(db, sql: "SELECT id FROM events WHERE \(ShortID.key("id")) BETWEEN \(ShortID.key("?1")) AND \(ShortID.key("?2")) AND id BETWEEN ?1 AND ?2 LIMIT ?3", arguments: [lo, hi, limit])
            .compactMap { Bytes32(exactly: Array($0)).map(EventID.init) }
    }

    /// Ids of fork evidence (`forks`) starting with a hex prefix (`gloss redact` of the frozen part).
    public func evidenceIDs(prefix: String, limit: Int = 10, _ db: Database) throws -> [EventID] {
        guard let (lo, hi) = ReplicaStore.blobRange(hexPrefix: prefix) else { return [] }
        return try Data.fetchAll(db, sql: "SELECT id FROM forks WHERE id BETWEEN ? AND ? LIMIT ?", arguments: [lo, hi, limit])
            .compactMap { Bytes32(exactly: Array($0)).map(EventID.init) }
    }

    /// The replica id of a feed number.
    public func replica(ofFeed feed: Int64, _ db: Database) throws -> ReplicaID {
        guard let blob = try Data.fetchOne(try db.cachedStatement(sql: "SELECT replica FROM feeds WHERE feed = ?"), arguments: [feed]),
              let r = Bytes32(exactly: Array(blob)) else { throw StoreError(.corrupt, "feed \(feed) is missing") }
        return ReplicaID(r)
    }
}

extension ReplicaStore {
    /// Streams, in local (causal) order, the events this replica holds above `vector`: exactly the
    /// events a peer holding `vector` lacks. Cost grows with the difference, not with the log.
    public func forEachEvent(above vector: VersionVector, _ db: Database, _ body: (StoredEvent) throws -> Bool) throws {
        let (held, wanted) = try fillWanted(above: vector, db)
        defer { try? db.execute(sql: "DELETE FROM temp.want") }
        if wanted >= held / 4 {
            // A large part of the log: read it in `pos` order, keeping what is wanted.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT e.pos, e.feed, e.id, e.envelope, e.payload FROM events e CROSS JOIN temp.want w ON w.feed = e.feed AND e.seq > w.above ORDER BY e.pos
                """)
            while let row = try rows.next() {
                if try !body(try ReplicaStore.storedEvent(row)) { return }
            }
            return
        }
        try forEachEvent(atPositions: try wantedPositions(db), db, body)
    }

    /// The local positions, ascending (causal order), of the events this replica holds above
    /// `vector`. The sync stream reads the events at them a batch at a time, each batch in a short
    /// read transaction of its own, so a peer that reads slowly holds no snapshot open.
    public func positions(above vector: VersionVector, _ db: Database) throws -> [Int64] {
        _ = try fillWanted(above: vector, db)
        defer { try? db.execute(sql: "DELETE FROM temp.want") }
        return try wantedPositions(db)
    }

    /// The event at a local position; nil when none is there (a forked feed's events past its
    /// fork seq leave the log).
    public func event(atPosition pos: Int64, _ db: Database) throws -> StoredEvent? {
        let byPosition = try db.cachedStatement(sql: "SELECT pos, feed, id, envelope, payload FROM events WHERE pos = ?")
        return try Row.fetchOne(byPosition, arguments: [pos]).map(ReplicaStore.storedEvent)
    }

    /// The id of the event held in the log at each `(replica, seq)` of `points` (points with none —
    /// a feed not held, a seq above its head or past its fork — are left out). The sync session's
    /// heads read it (Protocol/07-wire.md §Heads).
    public func heldEvents(at points: [(replica: ReplicaID, seq: UInt64)], _ db: Database) throws -> [(replica: ReplicaID, seq: UInt64, id: EventID)] {
        let statement = try db.cachedStatement(sql: "SELECT e.id FROM feeds f JOIN events e ON e.feed = f.feed AND e.seq = ? WHERE f.replica = ?")
        var held: [(replica: ReplicaID, seq: UInt64, id: EventID)] = []
        for p in points where p.seq >= 1 && p.seq <= ProtocolLimits.maxSeq {
            guard let raw = try Data.fetchOne(statement, arguments: [Int64(p.seq), Data(p.replica.raw.bytes)]),
                  let id = Bytes32(exactly: Array(raw)) else { continue }
            held.append((p.replica, p.seq, EventID(id)))
        }
        return held
    }

    /// The ids of the events held of `replica`'s feed at `seqs`, by seq.
    public func eventIDs(of replica: ReplicaID, seqs: ClosedRange<UInt64>, _ db: Database) throws -> [EventID] {
        guard seqs.upperBound <= ProtocolLimits.maxSeq else { return [] }
        return try Data.fetchAll(db.cachedStatement(sql: """
            SELECT e.id FROM feeds f JOIN events e ON e.feed = f.feed AND e.seq BETWEEN ? AND ? WHERE f.replica = ? ORDER BY e.seq
            """), arguments: [Int64(seqs.lowerBound), Int64(seqs.upperBound), Data(replica.raw.bytes)]).compactMap { Bytes32(exactly: Array($0)).map(EventID.init) }
    }

    /// The event with this id, from the log or, when its feed was frozen since, from the fork
    /// evidence; nil when neither holds it (or it no longer decodes).
    public func heldOrEvidence(id: EventID, _ db: Database) throws -> SignedEvent? {
        let byID = try db.cachedStatement(sql: "SELECT envelope, payload FROM events WHERE \(ShortID.equals("id", "?1")) UNION ALL SELECT envelope, payload FROM forks WHERE id = ?1 LIMIT 1")
        guard let row = try Row.fetchOne(byID, arguments: [Data(id.raw.bytes)]),
              let env = try? EventEnvelope(decoding: Array(row[0] as Data)) else { return nil }
        return SignedEvent(envelope: env, payload: (row[1] as Data?).map { Array($0) })
    }

    /// The events at `positions`, in their order; a position no event holds is skipped.
    func forEachEvent(atPositions positions: [Int64], _ db: Database, _ body: (StoredEvent) throws -> Bool) throws {
        for pos in positions {
            guard let e = try event(atPosition: pos, db) else { continue }
            if try !body(e) { return }
        }
    }

    /// Fills `temp.want` with each feed held above `vector` and the seq the peer holds;
    /// returns the events held and those wanted.
    private func fillWanted(above vector: VersionVector, _ db: Database) throws -> (held: UInt64, wanted: UInt64) {
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS want(feed INTEGER PRIMARY KEY, above INTEGER NOT NULL); DELETE FROM temp.want")
        let feeds = try Row.fetchCursor(db, sql: "SELECT feed, replica, head_seq FROM feeds WHERE head_seq > 0")
        let insert = try db.cachedStatement(sql: "INSERT INTO temp.want(feed, above) VALUES (?, ?)")
        var held: UInt64 = 0, wanted: UInt64 = 0
        while let f = try feeds.next() {
            let r = ReplicaID(Bytes32(exactly: Array(f["replica"] as Data))!)
            let above = vector[r], head = UInt64(f["head_seq"] as Int64)
            held = held.addingSaturating(head)
            if head > above {
                wanted = wanted.addingSaturating(head - above)
                try insert.execute(arguments: [f["feed"] as Int64, Int64(above)])
            }
        }
        return (held, wanted)
    }

    /// The positions of the events `temp.want` names, through the (feed, seq) index, sorted
    /// (integers only). (Left to itself the planner read the whole log in `pos` order in every
    /// session and export, however little was missing.)
    private func wantedPositions(_ db: Database) throws -> [Int64] {
        try Int64.fetchAll(db, sql: """
            SELECT e.pos FROM temp.want w CROSS JOIN events e ON e.feed = w.feed AND e.seq > w.above ORDER BY e.pos
            """)
    }
}

extension ReplicaStore {
    /// Fork evidence to forward in a sync session or a bundle (Protocol/07-wire.md §Session,
    /// 05-bundle.md §Fork evidence): for every feed frozen here, each held event at its fork seq and
    /// at the seq after it — two events at the fork seq, or the one held there and an event after it
    /// whose `prev` names another. A peer that receives them meets the same evidence and freezes the
    /// feed at the same seq — whichever branch it held, or none yet — so events of other feeds that
    /// depend on the forked part are not left waiting there.
    /// These are the ids of that evidence, in the order it is sent (by replica, seq, then id); the
    /// sync stream reads each with `forkEvidence(id:)` in its batch's short read.
    public func forkEvidenceIDs(_ db: Database) throws -> [Data] {
        try Data.fetchAll(db, sql: """
            SELECT k.id FROM feeds f CROSS JOIN forks k ON k.replica = f.replica AND k.seq IN (f.fork_seq, f.fork_seq + 1)
            WHERE f.fork_seq IS NOT NULL ORDER BY f.replica, k.seq, k.id
            """)
    }

    /// The piece of fork evidence with this id; nil when it is gone or no longer decodes.
    public func forkEvidence(id: Data, _ db: Database) throws -> SignedEvent? {
        let byID = try db.cachedStatement(sql: "SELECT envelope, payload FROM forks WHERE id = ?")
        guard let row = try Row.fetchOne(byID, arguments: [id]),
              let env = try? EventEnvelope(decoding: Array(row[0] as Data)) else { return nil }
        return SignedEvent(envelope: env, payload: (row[1] as Data?).map { Array($0) })
    }
}
