import Foundation
import GlossModel
import GlossProjections
import GlossStore

/// One event of a diff between two points (`gloss diff`).
public struct DiffEntry: Sendable {
    public var id: EventID
    public var replica: ReplicaID
    public var seq: UInt64
    public var author: String
    public var time: HybridTime
    public var type: String
    /// One line for people (`Replica.summary`).
    public var summary: String
}

public typealias SearchHit = GlossProjections.SearchHit

extension Replica {
    var projector: GlossProjector { store.projector as! GlossProjector }

    /// Drops and replays the projections from the log (streaming). `progress(done, total)`.
    public func rebuild(progress: ((Int, Int) -> Void)? = nil) throws -> (events: Int, digest: String) {
        // The digest is flushed as the transaction commits: read it afterwards.
        let events = try write { db in
            try store.rebuildProjections(db, progress: progress)
            return try store.eventCount(db)
        }
        return (events, try digest())
    }

    /// The projection digest: maintained (instant), or recomputed from every row.
    public func digest(recompute: Bool = false) throws -> String {
        try read { db in recompute ? try projector.recomputedDigest(db) : try projector.digest(db) }
    }

    /// Writes a database holding the projections (and the log) as they were at `point`.
    /// Returns the number of events it holds. The database is written under a hidden name beside
    /// `out` and appears at `out` only whole: an interrupted run leaves nothing at `out` (it left an
    /// empty database there that looked like a point with no events, and a retry was refused).
    @discardableResult
    public func asOf(_ point: Point, out: URL) throws -> Int { try asOfWithDigest(point, out: out).events }

    /// As `asOf(_:out:)`, with the written database's projection digest, read before it takes its
    /// name (a database at a name of 252 bytes or more cannot be opened again in WAL mode: its
    /// `-wal` file's name would be past the file system's limit).
    public func asOfWithDigest(_ point: Point, out: URL) throws -> (events: Int, digest: String) {
        // lstat: a symbolic link, even to nothing, is an existing entry (it was followed).
        var st = stat()
        if lstat(out.path, &st) == 0 {
            throw GlossError(.refused, "\(out.path) already exists; choose a new file or remove it first")
        }
        try Replica.refuseOutput(out)
        var isFolder: ObjCBool = false
        let folder = out.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw GlossError(.badInput, "cannot write \(out.path): there is no folder \(folder); create it or choose another path")
        }
        guard access(folder, W_OK) == 0 else {
            throw GlossError(.badInput, "cannot write \(out.path); check the folder exists and is writable")
        }
        // The hidden name repeats at most 140 bytes of the output's: whole, a legal name of 196
        // bytes or more (255 at most) made one past the file system's limit once SQLite added "-wal".
        var shown = ""
        for c in out.lastPathComponent where shown.utf8.count + String(c).utf8.count <= 140 { shown.append(c) }
        let partial = out.deletingLastPathComponent().appendingPathComponent(".\(shown).gloss-partial-\(UUID().uuidString)")
        // A failure leaves no partial database behind.
        func removePartial() { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial.path + suffix) } }
        let target: ReplicaStore
        do { target = try ReplicaStore(path: partial.path, projector: store.projector) } catch {
            removePartial()
            throw GlossError.wrap(error, output: out.path)
        }
        let copied: Int, digest: String
        do {
            // One transaction: the point's events in local order, each projected as it is stored
            // (a replay of exactly those events, the definition of the point's projections), read
            // and decoded on another thread.
            copied = try target.replay(from: store, include: { env in point.contains(replica: env.replica, seq: env.seq, time: env.time) }) { tdb in
                try target.recordAsOf(point.description, tdb)
            }
            digest = try target.read { try projector.digest($0) }
            try target.close()
        } catch {
            try? target.close()
            removePartial()
            throw GlossError.wrap(error, output: out.path)
        }
        // The whole database takes its name only if nothing took it meanwhile.
        defer { removePartial() }
        try Replica.moveIntoPlace(partial, out, replacing: false)
        return (copied, digest)
    }

    /// The events in `to` but not in `from`, in local order.
    public func diff(from: Point, to: Point, _ body: (DiffEntry) throws -> Void) throws {
        try read { db in
            try store.forEachEvent(db) { e in
                let env = e.envelope
                if to.contains(replica: env.replica, seq: env.seq, time: env.time) && !from.contains(replica: env.replica, seq: env.seq, time: env.time) {
                    try body(DiffEntry(id: env.id, replica: env.replica, seq: env.seq, author: env.author, time: env.time,
                                       type: env.type, summary: Replica.summary(env, payload: e.payload)))
                }
                return true
            }
        }
    }

    /// Runs read-only SQL (`gloss query`): `columns` once, then `row` with each row's values in column order.
    /// `overrun` ends the process when a statement is stuck past the time limit in one step SQLite
    /// cannot interrupt (`ReadOnlyQuery.run`).
    public func query(_ sql: String, timeLimit: TimeInterval, overrun: (@Sendable (GlossError) -> Never)? = nil,
                      columns: ([String]) throws -> Void, row: ([QueryValue]) throws -> Void) throws {
        var onOverrun: (@Sendable (ReadOnlyQuery.Failure) -> Never)?
        if let overrun { onOverrun = { failure in overrun(GlossError(.refused, failure.message)) } }
        do {
            try ReadOnlyQuery.run(path: store.path, sql: sql, timeLimit: timeLimit, snapshot: store.isSnapshot,
                                  overrun: onOverrun, columns: columns, row: row)
        } catch let f as ReadOnlyQuery.Failure {
            switch f.kind {
            case .refused: throw GlossError(.refused, f.message)
            case .timeLimit, .sizeLimit: throw GlossError(.refused, f.message)
            case .sql: throw GlossError(.badInput, f.message)
            case .open: throw GlossError(.internalError, f.message)
            case .diskFull: throw GlossError(.diskFull, "the disk holding \(location) is full; free space and retry (\(f.message))")
            case .ioError: throw GlossError(.ioError, "the disk holding \(location) returned an I/O error (\(f.message)); check the disk and retry")
            }
        }
    }

    /// Full-text search over article text, notes, facts and annotations (`gloss search`): every word must match.
    public func search(_ text: String, limit: Int = 50) throws -> [SearchHit] {
        let words = try Replica.searchWords(text)
        return try read { db in try SearchHit.matching(words: words, limit: limit, db) }
    }

    /// Words a search may hold: the cost of a query grows with the square of its words (40,000
    /// words took 17 s, and one web request could hold that many).
    public static let maxSearchWords = 64

    /// A search's words (split at white space); refused when there are none, more than
    /// `maxSearchWords`, or one holds U+0000, which FTS5 cannot take in a query.
    static func searchWords(_ text: String) throws -> [String] {
        let words = text.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard !words.isEmpty else { throw GlossError(.badInput, "give some words to search for") }
        guard words.count <= maxSearchWords else {
            throw GlossError(.badInput, "a search holds at most \(maxSearchWords) words (this one holds \(words.count)); keep the words that matter")
        }
        guard !text.unicodeScalars.contains("\u{0}") else { throw GlossError(.badInput, "a search cannot hold the character U+0000") }
        return words
    }
}

extension Replica {
    public var projectionVersion: Int { projector.version }

    /// The digest of a projection database written by `asOf` (or any replica database).
    public static func digest(ofDatabase url: URL) throws -> String {
        do {
            let s = try ReplicaStore(path: url.path, projector: GlossProjector())
            return try s.read { db in try (s.projector as! GlossProjector).digest(db) }
        } catch { throw GlossError.wrap(error) }
    }
}
