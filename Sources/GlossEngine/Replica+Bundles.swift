import Foundation
import GRDB
import GlossModel
import GlossStore
import GlossSync

/// The result of `gloss bundle import` for one file.
public struct ImportReport: Sendable {
    public var file: String
    public var sender: ReplicaID?
    public var summary = ApplySummary()
    public var truncated = false
    public var checksumOK: Bool?
    /// Set when the file could not be used at all, or stopped being readable part-way.
    public var error: String?
    public var newConflicts = 0
    /// Header invariants the file broke (Protocol/05-bundle.md §Reading), the first few listed.
    public var headerProblems: [String] = []
    public var headerProblemCount = 0
    /// Whether the sender's vector was recorded as what it acknowledges holding: only for a whole
    /// file whose header kept every invariant, and never above what this replica holds.
    public var acknowledgementRecorded = false

    public var json: JSON {
        .object([
            ("file", .string(file)), ("sender", sender.map { .string($0.hex) } ?? .null),
            ("received", .int(Int64(summary.received))), ("applied", .int(Int64(summary.applied))),
            ("duplicate", .int(Int64(summary.duplicate))), ("pending", .int(Int64(summary.pending))),
            ("rejected", .int(Int64(summary.rejected))), ("forks", .int(Int64(summary.forks))),
            ("appliedFromPending", .int(Int64(summary.appliedFromPending))),
            ("newConflicts", .int(Int64(newConflicts))),
            ("truncated", .bool(truncated)), ("checksumOK", checksumOK.map(JSON.bool) ?? .null),
            ("error", error.map(JSON.string) ?? .null),
            ("restored", .int(Int64(summary.restored))),
            ("header", .object([("ok", .bool(headerProblemCount == 0)), ("problems", .array(headerProblems.map(JSON.string))),
                                ("problemCount", .int(Int64(headerProblemCount))), ("acknowledgementRecorded", .bool(acknowledgementRecorded))])),
            ("rejections", .array(summary.rejections.map {
                .object([("event", .string($0.event.hex)), ("replica", .string($0.replica.hex)), ("seq", .int(Int64($0.seq))), ("reason", .string($0.reason))])
            })),
        ])
    }

    /// Everything applied cleanly: no rejection, no cut, no error.
    public var clean: Bool {
        summary.rejected == 0 && summary.forks == 0 && !truncated && checksumOK != false && error == nil && headerProblemCount == 0
    }
}

extension Replica {
    /// Events per apply transaction when importing (DESIGN §2's signature window).
    public static let importWindow = 10_000
    static let importWindowBytes = 64 << 20

    // MARK: Export

    /// Writes a bundle with the events above `base` (Protocol/05-bundle.md §Export). Returns the
    /// number of events and bytes written.
    @discardableResult
    public func exportBundle(to url: URL, base: VersionVector, progress: ((Int, Int) -> Void)? = nil) throws -> (events: Int, bytes: Int) {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let handle = FileHandle(forWritingAtPath: tmp.path) else {
            throw GlossError(.badInput, "cannot write \(url.path); check the folder exists and is writable")
        }
        var ok = false
        defer { try? handle.close(); if !ok { try? FileManager.default.removeItem(at: tmp) } }
        let result: (Int, Int) = try read { db in
            let mine = try store.vector(db)
            let count = Int(mine.eventsMissing(from: base))
            let header = BundleHeader(sender: replicaID, senderVector: mine, baseVector: base, eventCount: UInt64(count))
            var writer = try BundleWriter(handle: handle, header: header, key: key)
            var n = 0
            try store.forEachEvent(above: base, db) { e in
                try writer.append(envelope: e.envelope.bytes, payload: e.payload)
                n += 1
                if n % 5000 == 0 { progress?(n, count) }
                return true
            }
            guard n == count else { throw GlossError(.internalError, "export found \(n) events above the vector, expected \(count)") }
            try writer.finish()
            progress?(n, count)
            return (n, writer.bytesWritten)
        }
        try handle.synchronize()
        try handle.close()
        try Replica.moveIntoPlace(tmp, url)
        ok = true
        return result
    }

    /// Replaces `url` with the finished temporary file `tmp` (same folder), so readers never see a
    /// half-written file.
    static func moveIntoPlace(_ tmp: URL, _ url: URL) throws {
        do {
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: tmp, to: url)
        } catch { throw GlossError(.badInput, "cannot write \(url.path); check that its folder exists and is writable", cause: error) }
    }

    // MARK: Import

    /// Imports one bundle file through the one apply path, streaming in windows.
    public func importBundle(at url: URL, progress: ((Int, Int) -> Void)? = nil) throws -> ImportReport {
        var report = ImportReport(file: url.path)
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw GlossError(.notFound, "cannot read \(url.path); check the path and permissions")
        }
        defer { try? handle.close() }
        let reader = BundleReader(handle: handle)
        let header: BundleHeader
        do { header = try reader.readHeader() } catch let e as SyncError {
            throw GlossError(.badInput, "\(url.path): \(e.message)")
        }
        report.sender = header.sender
        let conflictsBefore = try openConflictCount()
        do {
            // Reading, hashing and signature checks run on a second thread, a window ahead of the writer.
            try store.applyStream(maxEvents: Replica.importWindow, maxBytes: Replica.importWindowBytes, now: clock, next: {
                do { return try reader.next() } catch let e as SyncError { throw e } catch { throw BundleReadError(underlying: error) }
            }) { s, w in
                report.summary.add(s)
                progress?(w.recordsRead, Int(clamping: header.eventCount))
            }
        } catch let e as SyncError {
            report.error = e.message
        } catch let e as BundleReadError {
            report.error = "reading stopped: \(e.underlying)"
        }
        report.truncated = reader.truncated
        report.checksumOK = reader.checksumOK
        report.headerProblems = reader.headerProblems
        report.headerProblemCount = reader.headerProblemCount
        // A whole file whose signed header kept every invariant: the sender holds what it says.
        if header.sender != replicaID && reader.headerHolds && report.error == nil {
            try recordAcknowledged(header.sender, vector: header.senderVector)
            report.acknowledgementRecorded = true
        }
        report.newConflicts = max(0, try openConflictCount() - conflictsBefore)
        return report
    }

    /// A failure to read the bundle file itself (not a malformed record, not the store).
    struct BundleReadError: Error { var underlying: any Error }

    func openConflictCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conflicts WHERE state = 'open'") ?? 0 }
    }

    // MARK: Peers

    /// Merges `vector` into what `peer` has acknowledged holding — never above what this replica
    /// holds itself (a claim beyond that cannot be checked, and believing it would make
    /// `bundle export --peer` skip events the peer may never have had); feeds this replica does not
    /// hold are not recorded, so a peer's hello cannot fill the table.
    public func recordAcknowledged(_ peer: ReplicaID, vector: VersionVector) throws {
        try write { db in
            let p = Data(peer.raw.bytes)
            try db.execute(sql: "INSERT INTO peers(replica, last_seen) VALUES (?, ?) ON CONFLICT(replica) DO UPDATE SET last_seen = excluded.last_seen",
                           arguments: [p, Int64(clamping: clock())])
            for (r, seq) in try store.vector(db).meet(vector).sorted {
                try db.cachedStatement(sql: """
                    INSERT INTO peer_acks(peer, replica, seq) VALUES (?, ?, ?)
                    ON CONFLICT(peer, replica) DO UPDATE SET seq = max(seq, excluded.seq)
                    """).execute(arguments: [p, Data(r.raw.bytes), Int64(seq)])
            }
        }
    }

    /// What `peer` has acknowledged holding (learned from its bundles and hellos).
    public func acknowledged(by peer: ReplicaID) throws -> VersionVector {
        try read { db in
            var v = VersionVector()
            for row in try Row.fetchAll(db, sql: "SELECT replica, seq FROM peer_acks WHERE peer = ?", arguments: [Data(peer.raw.bytes)]) {
                if let r = Bytes32(exactly: Array(row[0] as Data)) { v[ReplicaID(r)] = UInt64(row[1] as Int64) }
            }
            return v
        }
    }

    public struct Peer: Sendable {
        public var replica: ReplicaID
        public var alias: String?
        public var acknowledged: VersionVector
        public var lastSeen: UInt64?
        /// Events this replica holds that the peer has not acknowledged.
        public var behind: UInt64
        public var json: JSON {
            .object([("replica", .string(replica.hex)), ("alias", alias.map(JSON.string) ?? .null),
                     ("acknowledged", JSON(acknowledged)), ("behind", .int(Int64(behind))),
                     ("lastSeen", lastSeen.map { .string(CivilTime.rfc3339(milliseconds: $0)) } ?? .null)])
        }
    }

    public func peers() throws -> [Peer] {
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT replica, alias, last_seen FROM peers ORDER BY coalesce(alias, ''), replica") }
        let mine = try read { db in try store.vector(db) }
        return try rows.map { row in
            let r = ReplicaID(Bytes32(exactly: Array(row[0] as Data))!)
            let acked = try acknowledged(by: r)
            return Peer(replica: r, alias: row[1], acknowledged: acked, lastSeen: (row[2] as Int64?).map(UInt64.init),
                        behind: mine.eventsMissing(from: acked))
        }
    }

    /// Gives a peer a name usable wherever a replica id is taken.
    public func namePeer(_ text: String, alias: String) throws -> ReplicaID {
        guard !alias.isEmpty, alias.count <= 64, !Hex.isHexPrefix(alias), alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw GlossError(.badInput, "an alias is 1–64 letters, digits, '-', '_' or '.', and not only hex digits (so it cannot be mistaken for an id)")
        }
        let r = try resolveReplica(text)
        try write { db in
            if let other = try Data.fetchOne(db, sql: "SELECT replica FROM peers WHERE alias = ?", arguments: [alias]), other != Data(r.raw.bytes) {
                throw GlossError(.refused, "the alias \(alias) already names \(Hex.encode(other).prefix(12)); pick another")
            }
            try db.execute(sql: "INSERT INTO peers(replica, alias) VALUES (?, ?) ON CONFLICT(replica) DO UPDATE SET alias = excluded.alias",
                           arguments: [Data(r.raw.bytes), alias])
        }
        return r
    }

    /// A replica id from an alias, a full id, or a unique prefix of a known replica (a peer, a feed, or a feed with waiting events).
    public func resolveReplica(_ text: String) throws -> ReplicaID {
        try read { db in
            if let blob = try Data.fetchOne(db, sql: "SELECT replica FROM peers WHERE alias = ?", arguments: [text]) {
                return ReplicaID(Bytes32(exactly: Array(blob))!)
            }
            if let full = ReplicaID(hex: text.lowercased()) { return full }
            guard let (lo, hi) = ReplicaStore.blobRange(hexPrefix: text) else {
                throw GlossError(.badInput, "\"\(text.prefix(80))\" is neither a peer alias nor a replica id")
            }
            let found = Set(try Data.fetchAll(db, sql: """
                SELECT replica FROM peers WHERE replica BETWEEN ?1 AND ?2 UNION SELECT replica FROM feeds WHERE replica BETWEEN ?1 AND ?2
                UNION SELECT replica FROM pending WHERE replica BETWEEN ?1 AND ?2 LIMIT 11
                """, arguments: [lo, hi]))
            if found.count == 1 { return ReplicaID(Bytes32(exactly: Array(found.first!))!) }
            if found.isEmpty { throw GlossError(.notFound, "no known replica or peer alias matches \(text); see `gloss peers`") }
            throw GlossError(.ambiguous, "replica prefix \(text) is ambiguous; it matches:\n" + found.map { "  " + Hex.encode($0) }.sorted().joined(separator: "\n"))
        }
    }

    // MARK: Quarantine and pending

    public func quarantined() throws -> [JSON] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, replica, seq, reason, received_at FROM quarantine ORDER BY received_at, replica, seq").map { row in
                .object([("event", .string(Hex.encode(row[0] as Data))), ("replica", .string(Hex.encode((row[1] as Data?) ?? Data()))),
                         ("seq", .int(row[2] ?? 0)), ("reason", .string(row[3])),
                         ("receivedAt", .string(CivilTime.rfc3339(milliseconds: UInt64(row[4] as Int64))))])
            }
        }
    }

    public var vector: VersionVector {
        get throws { try read { db in try store.vector(db) } }
    }
}
