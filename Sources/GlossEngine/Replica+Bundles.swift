import Foundation
import GlossModel
import GlossProjections
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
    /// Whether the file was an encrypted bundle (Protocol/05-bundle.md §Encrypted bundles), and its recipients.
    public var encrypted = false
    public var recipients: [ReplicaID] = []


    /// Everything applied cleanly: no rejection, no cut, no error.
    public var clean: Bool {
        summary.rejected == 0 && summary.forks == 0 && !truncated && checksumOK != false && error == nil && headerProblemCount == 0
    }
}

extension Replica {
    /// Events per apply transaction when importing (DESIGN §2's signature window).
    public static let importWindow = 5_000
    static let importWindowBytes = 32 << 20
    /// Events per window read and checked ahead of the writer; a transaction applies five. Two
    /// windows are in memory at once (one applying, the next being read and checked; `applyStream`):
    /// windows of 1,000 events instead of whole transactions of 5,000 took an import's peak memory
    /// from 88 to 75 MB at 100,000 and at 1,000,000 events (2026-12-07), which the writer's page
    /// cache uses instead (`ReplicaStore.bulkCacheKiB`).
    static let importReadWindow = 1_000

    // MARK: Export

    /// Writes a plain bundle with the events above `base` (Protocol/05-bundle.md §Export). Returns
    /// the number of events and bytes written.
    @discardableResult
    public func exportBundle(to url: URL, base: VersionVector, progress: ((Int, Int) -> Void)? = nil) throws -> (events: Int, bytes: Int) {
        let e = try exportBundle(to: url, base: base, recipients: [], progress: progress)
        return (e.events, e.bytes)
    }

    /// What `exportBundle(to:base:recipients:)` wrote.
    public struct BundleExport: Sendable {
        public var events: Int
        /// Fork evidence records after the events (format 2; 0 writes format 1).
        public var evidence: Int
        public var bytes: Int
        /// The replicas the bundle is encrypted to, ascending (this replica included); empty for a plain bundle.
        public var recipients: [ReplicaID]
        public var encrypted: Bool { !recipients.isEmpty }
    }

    /// The recipients an encrypted bundle for `recipients` gets: those, plus this replica (so the
    /// writer can reopen its own bundle), sorted, once each. Throws `badInput` for more than 1,024
    /// or for an id that is not a usable public key.
    public func bundleRecipients(_ recipients: [ReplicaID]) throws -> [ReplicaID] {
        do {
            let all = try EncryptingBundleSink.normalized(recipients + [replicaID])
            for r in all { _ = try r.agreementPublicKey() }
            return all
        } catch let e as DecodeError { throw GlossError(.badInput, e.message) }
    }

    /// Writes a bundle with the events above `base`: encrypted to `recipients` and this replica
    /// when `recipients` is not empty (Protocol/05-bundle.md §Encrypted bundles), plain otherwise.
    /// The team-roster work passes every current member here for `--to-team`.
    @discardableResult
    public func exportBundle(to url: URL, base: VersionVector, recipients: [ReplicaID], progress: ((Int, Int) -> Void)? = nil) throws -> BundleExport {
        let sealedTo = recipients.isEmpty ? [] : try bundleRecipients(recipients)
        try Replica.refuseOutput(url)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let handle = FileHandle(forWritingAtPath: tmp.path) else {
            throw GlossError(.badInput, "cannot write \(url.path); check the folder exists and is writable")
        }
        var ok = false
        defer { try? handle.close(); if !ok { try? FileManager.default.removeItem(at: tmp) } }
        let result: (events: Int, evidence: Int, bytes: Int) = try read { db in
            let mine = try store.vector(db)
            let count = Int(mine.eventsMissing(from: base))
            // Whatever the base: a receiver holding one branch (or none) learns of the fork.
            let evidence = try store.forkEvidenceIDs(db)
            let header = BundleHeader(team: try store.teamMode(db).team, sender: replicaID, senderVector: mine, baseVector: base, eventCount: UInt64(count),
                                      evidenceCount: UInt64(evidence.count))
            var sink: EncryptingBundleSink?
            if !sealedTo.isEmpty {
                do { sink = try EncryptingBundleSink(handle: handle, team: header.team, senderKey: key, recipients: sealedTo) } catch let e as DecodeError {
                    throw GlossError(.badInput, e.message)
                }
            }
            var writer = try sink.map { s in try BundleWriter(output: s.write, header: header, key: key) }
                ?? BundleWriter(handle: handle, header: header, key: key)
            var n = 0
            try store.forEachEvent(above: base, db) { e in
                try writer.append(envelope: e.envelope.bytes, payload: e.payload)
                n += 1
                if n % 5000 == 0 { progress?(n, count) }
                return true
            }
            guard n == count else { throw GlossError(.internalError, "export found \(n) events above the vector, expected \(count)") }
            for id in evidence {
                guard let e = try store.forkEvidence(id: id, db) else {
                    throw GlossError(.internalError, "fork evidence \(Hex.encode(id)) is listed but cannot be read; run `gloss verify`")
                }
                try writer.append(envelope: e.envelope.bytes, payload: e.payload)
            }
            try writer.finish()
            try sink?.finish()
            progress?(n, count)
            return (n, evidence.count, sink?.bytesWritten ?? writer.bytesWritten)
        }
        try handle.synchronize()
        try handle.close()
        try Replica.moveIntoPlace(tmp, url)
        ok = true
        return BundleExport(events: result.events, evidence: result.evidence, bytes: result.bytes, recipients: sealedTo)
    }

    /// Replaces `url` with the finished temporary file `tmp` (same folder) in one `rename(2)`, so
    /// readers see the old file or the new one, never a half-written one. A folder at `url` is
    /// never replaced (nor anything in it removed). With `replacing: false` an existing `url` is
    /// refused instead (a hard link fails on an existing name where a rename would replace it; a
    /// file system without hard links falls back to the rename), and `tmp` is left to the caller.
    public static func moveIntoPlace(_ tmp: URL, _ url: URL, replacing: Bool = true) throws {
        try refuseOutput(url)
        if !replacing {
            if Glibc.link(tmp.path, url.path) == 0 { return }
            if errno == EEXIST { throw GlossError(.refused, "\(url.path) already exists; choose a new file or remove it first") }
        }
        guard rename(tmp.path, url.path) == 0 else {
            let code = errno
            throw GlossError(code == ENOSPC ? .diskFull : .badInput,
                             "cannot write \(url.path) (\(String(cString: strerror(code)))); check that its folder exists and is writable")
        }
    }

    /// Refuses an input path that exists but is not a regular file (a folder, a pipe that would
    /// block, a device that never ends); a missing file is left to the reader's own message.
    public static func refuseNonRegularInput(_ path: String, what: String) throws {
        // stat(2) follows links: a link to a file is that file; a link to nothing is not found
        // (it was called "a pipe, a device or a socket").
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT, (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil {
                throw GlossError(.notFound, "\(path) is a symbolic link to something that does not exist; give the path of \(what)")
            }
            return   // missing or unreadable: left to the reader's own message
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw GlossError(.badInput, "\(path) is a folder; give the path of \(what)")
        default: throw GlossError(.badInput, "\(path) is not a regular file (a pipe, a device or a socket); give the path of \(what)")
        }
    }

    /// Reads an input file of at most `limit` bytes (`what` it should be, for messages): a folder,
    /// a pipe or a device is refused, a file whose size is over the limit is refused unread, and no
    /// more than `limit` + 1 bytes are ever read, even from a file that grows meanwhile (a 2 GiB
    /// file was read whole, into memory, before its size was checked).
    public static func readInputFile(_ path: String, limit: Int, what: String) throws -> Data {
        try refuseNonRegularInput(path, what: what)
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber, size.intValue > limit {
            throw GlossError(.badInput, "\(path) is \(size) bytes, over the \(limit)-byte limit for \(what); split it or trim it")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GlossError(.notFound, "cannot read \(path); check the path and permissions")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: limit + 1) ?? Data() } catch {
            throw GlossError(.ioError, "cannot read \(path): \(error.localizedDescription); check the disk and retry")
        }
        guard data.count <= limit else {
            throw GlossError(.badInput, "\(path) is over the \(limit)-byte limit for \(what); split it or trim it")
        }
        return data
    }

    /// Refuses an output path that names a folder, anything but a regular file (a device, a pipe, a
    /// socket: `--out /dev/null` run as root would have replaced the system's), or a place inside a
    /// replica's `.gloss` folder (its database or key would be replaced). Checked before any work,
    /// and again at the rename.
    public static func refuseOutput(_ url: URL) throws {
        // `--out new/` (a folder that does not exist yet) wrote a file named `new`.
        if url.hasDirectoryPath {
            throw GlossError(.refused, "\(url.path) is a folder (a path ending in / names one, even before it exists); give the path of a file to write (an existing file is replaced)")
        }
        if let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType {
            if type == .typeDirectory {
                throw GlossError(.refused, "\(url.path) is a folder; give the path of a file to write (an existing file is replaced)")
            }
            if type != .typeRegular && type != .typeSymbolicLink {
                throw GlossError(.refused, "\(url.path) is not a regular file (a device, a pipe or a socket); give the path of a file to write")
            }
        }
        let folder = url.deletingLastPathComponent().resolvingSymlinksInPath()
        if folder.pathComponents.contains(Replica.directoryName) || url.lastPathComponent == Replica.directoryName {
            throw GlossError(.refused, "\(url.path) is inside a replica's \(Replica.directoryName) folder: writing there would replace the replica's database or key; choose a path outside it")
        }
    }

    // MARK: Import

    /// Imports one bundle file through the one apply path, streaming in windows.
    public func importBundle(at url: URL, progress: ((Int, Int) -> Void)? = nil) throws -> ImportReport {
        var report = ImportReport(file: url.path)
        try Replica.refuseNonRegularInput(url.path, what: "a bundle file (.glossb)")
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw GlossError(.notFound, "cannot read \(url.path); check the path and permissions")
        }
        defer { try? handle.close() }
        // An encrypted bundle: its header checked and the content key unwrapped for this replica,
        // then the inner bundle decrypted chunk by chunk in front of the same reader.
        let magic = try handle.read(upToCount: 8) ?? Data()
        try handle.seek(toOffset: 0)
        var source: DecryptingBundleSource?
        let reader: BundleReader
        if EncryptedBundle.isEncrypted(prefix: Array(magic)) {
            let s: DecryptingBundleSource
            do { s = try DecryptingBundleSource(handle: handle, key: key) } catch let e as SyncError {
                throw GlossError(.badInput, "\(url.path): \(e.message); nothing was applied")
            }
            source = s
            report.encrypted = true
            report.recipients = s.header.recipients.map(\.replica)
            reader = BundleReader(source: { try s.read(upToCount: $0) })
        } else {
            reader = BundleReader(handle: handle)
        }
        let header: BundleHeader
        do { header = try reader.readHeader() } catch let e as SyncError {
            throw GlossError(.badInput, "\(url.path): \(source?.damage.map { "not a usable encrypted Gloss bundle: \($0)" } ?? e.message); nothing was applied")
        }
        if let s = source, header.sender != s.header.sender || header.team != s.header.team {
            throw GlossError(.badInput, "\(url.path): not a usable encrypted Gloss bundle: the inner bundle's sender \(header.sender.short) or team differs from the encrypted header's (sender \(s.header.sender.short)); nothing was applied")
        }
        report.sender = header.sender
        try admitTeam(header.team, of: "bundle \(url.path)", sender: header.sender)
        let conflictsBefore = try openConflictCount()
        do {
            // Reading, hashing and signature checks run on a second thread, a window ahead of the writer.
            try store.applyStream(maxEvents: Replica.importWindow, maxBytes: Replica.importWindowBytes, readEvents: Replica.importReadWindow, now: clock, next: {
                do { return try reader.next() } catch let e as SyncError { throw e } catch { throw BundleReadError(underlying: error) }
            }) { s, w in
                report.summary.add(s)
                progress?(w.recordsRead, Int(clamping: header.recordCount))
            }
        } catch let e as SyncError {
            report.error = e.message
        } catch let e as BundleReadError {
            report.error = "reading stopped: \(e.underlying)"
        }
        if let s = source {
            // Read to the end so a cut, damaged or extended tail is seen even after the inner trailer.
            do { _ = try s.drain() } catch { report.error = report.error ?? "reading stopped: \(error)" }
            if let damage = s.damage {
                report.error = [report.error, "encrypted stream: \(damage); the events authenticated before it were applied"].compactMap { $0 }.joined(separator: "; ")
            }
        }
        report.truncated = reader.truncated || (source.map { !$0.complete } ?? false)
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

    /// Refuses a bundle or a peer of another team (or of a team, when this replica has none)
    /// before anything is read from it (Protocol/11-teams.md §Bundles and sync).
    func admitTeam(_ theirs: TeamID, of what: String, sender: ReplicaID) throws {
        switch try teamMode {
        case .none:
            if theirs != .none {
                throw GlossError(.refused, "\(what) is of team \(theirs.hex.prefix(12)) (from \(sender.short)); this replica belongs to no team. Nothing was imported")
            }
        case .joining:
            if theirs == .none {
                throw GlossError(.refused, "\(what) is of no team (from \(sender.short)); this replica is joining a team and takes only a team's bundle. Nothing was imported")
            }
        case .member(let mine):
            if theirs != mine {
                throw GlossError(.refused, theirs == .none
                    ? "\(what) is of no team (from \(sender.short)); this replica belongs to team \(mine.hex.prefix(12)). Nothing was imported"
                    : "\(what) is of team \(theirs.hex.prefix(12)) (from \(sender.short)); this replica belongs to team \(mine.hex.prefix(12)). Nothing was imported")
            }
        }
    }

    /// A failure to read the bundle file itself (not a malformed record, not the store).
    struct BundleReadError: Error { var underlying: any Error }

    func openConflictCount() throws -> Int {
        try read { db in try ConflictRecord.openCount(db) }
    }

    // MARK: Peers

    /// Merges `vector` into what `peer` has acknowledged holding — never above what this replica
    /// holds itself (a claim beyond that cannot be checked, and believing it would make
    /// `bundle export --peer` skip events the peer may never have had); feeds this replica does not
    /// hold are not recorded, so a peer's hello cannot fill the table.
    public func recordAcknowledged(_ peer: ReplicaID, vector: VersionVector) throws {
        try write { db in try store.recordAcknowledged(peer, vector: try store.vector(db).meet(vector), now: clock(), db) }
    }

    /// What `peer` has acknowledged holding (learned from its bundles and hellos).
    public func acknowledged(by peer: ReplicaID) throws -> VersionVector {
        try read { db in try store.acknowledged(by: peer, db) }
    }

    public struct Peer: Sendable {
        public var replica: ReplicaID
        public var alias: String?
        public var acknowledged: VersionVector
        public var lastSeen: UInt64?
        /// Events this replica holds that the peer has not acknowledged.
        public var behind: UInt64
    }

    public func peers() throws -> [Peer] {
        try read { db in
            let mine = try store.vector(db)
            return try store.peers(db).map { p in
                let acked = try store.acknowledged(by: p.replica, db)
                return Peer(replica: p.replica, alias: p.alias, acknowledged: acked, lastSeen: p.lastSeen, behind: mine.eventsMissing(from: acked))
            }
        }
    }

    /// Gives a peer a name usable wherever a replica id is taken.
    public func namePeer(_ text: String, alias: String) throws -> ReplicaID {
        guard !alias.isEmpty, alias.count <= 64, !Hex.isHexPrefix(alias), alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw GlossError(.badInput, "an alias is 1–64 letters, digits, '-', '_' or '.', and not only hex digits (so it cannot be mistaken for an id)")
        }
        let r = try resolveReplica(text)
        try write { db in
            if let other = try store.peer(alias: alias, db), other != r {
                throw GlossError(.refused, "the alias \(alias) already names \(other.hex.prefix(12)); pick another")
            }
            try store.setAlias(alias, for: r, db)
        }
        return r
    }

    /// A replica id from an alias, a full id, or a unique prefix of a known replica (a peer, a feed, or a feed with waiting events).
    public func resolveReplica(_ text: String) throws -> ReplicaID {
        try read { db in
            if let known = try store.peer(alias: text, db) { return known }
            if let full = ReplicaID(hex: text.lowercased()) { return full }
            guard let found = try store.knownReplicas(prefix: text, limit: 11, db) else {
                throw GlossError(.badInput, "\"\(text.prefix(80))\" is neither a peer alias nor a replica id")
            }
            if found.count == 1 { return found.first! }
            if found.isEmpty { throw GlossError(.notFound, "no known replica or peer alias matches \(text); see `gloss peers`") }
            throw GlossError(.ambiguous, "replica prefix \(text) is ambiguous; it matches:\n" + found.map { "  " + $0.hex }.sorted().joined(separator: "\n"))
        }
    }

    // MARK: Quarantine and pending

    public func quarantined() throws -> [QuarantinedEvent] {
        try read { db in try store.quarantined(db) }
    }

    public var vector: VersionVector {
        get throws { try read { db in try store.vector(db) } }
    }
}
