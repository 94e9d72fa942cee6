import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore

/// The hostile seed: `GLOSS_HOSTILE_SEED` when set (to reproduce), else random; printed.
public func hostileSeed(_ name: String) -> UInt64 {
    if let s = ProcessInfo.processInfo.environment["GLOSS_HOSTILE_SEED"], let v = UInt64(s) {
        print("[\(name)] hostile seed \(v) (from GLOSS_HOSTILE_SEED)")
        return v
    }
    let v = UInt64.random(in: 1...UInt64.max / 2)
    print("[\(name)] hostile seed \(v) — rerun with GLOSS_HOSTILE_SEED=\(v) to reproduce")
    return v
}

public var glossLarge: Bool { ProcessInfo.processInfo.environment["GLOSS_LARGE"] == "1" }

/// Writes a line to stderr at once (unbuffered): survives a trap that follows it.
public func trace(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Set by the child process of an exit test: where `breadcrumb` writes (nil: to stderr).
nonisolated(unsafe) public var breadcrumbKey: String?

/// The file of an exit test's breadcrumbs: named by the parent's process id and a key both know.
public func breadcrumbFile(parent: Int32, key: String) -> URL {
    URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gloss-breadcrumb-\(parent)-\(key)")
}

/// Records what a child process is doing now (the case it imports), replacing the previous record,
/// in a file its parent reads if it dies. Not one stderr line per case: an exit test's output pipe
/// holds 64 KiB, and a child that fills it waits until the parent drains it — which a parent whose
/// threads are all busy may not do (seen once as a hang of the adversarial phase).
public func breadcrumb(_ s: String) {
    guard let key = breadcrumbKey else { return trace(s) }
    try? Data((s + "\n").utf8).write(to: breadcrumbFile(parent: getppid(), key: key))
}

/// The last breadcrumb a child of this process left under `key` (then removed).
public func takeBreadcrumb(_ key: String) -> String? {
    let url = breadcrumbFile(parent: getpid(), key: key)
    defer { try? FileManager.default.removeItem(at: url) }
    return (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .newlines)
}

/// What the replica looks like from outside: the state a rejected input must not change.
public struct ReplicaSnapshot: Equatable, CustomStringConvertible {
    public var vector: VersionVector
    public var digest: String
    public var events: Int
    public var pending: Int
    public var quarantine: Int
    public var peerAcks: Int
    /// Events held without their payload.
    public var stripped: Int
    public var description: String {
        "events \(events) (\(stripped) without payload), pending \(pending), quarantine \(quarantine), peer_acks \(peerAcks), vector \(vector.count) feeds, digest \(digest.prefix(12))"
    }
}

/// Checks, after each hostile input, the properties that hold whatever the input: an independent
/// oracle (it re-verifies stored rows with its own reading of Protocol/01-event.md).
public final class HostileOracle {
    public let replica: Replica
    public private(set) var failures: [String] = []
    var lastEventPos: Int64 = 0
    var lastPendingRow: Int64 = 0
    var lastQuarantineRow: Int64 = 0
    public var maxFailures = 200
    public var context = ""
    var reportedAcks = Set<String>()
    var seen = Set<String>()
    /// Seconds spent inside `importBundle` (the code under test) and in this oracle's checks.
    public private(set) var importSeconds = 0.0
    public private(set) var checkSeconds = 0.0

    public init(_ replica: Replica) { self.replica = replica }

    public func fail(_ s: String) {
        let line = "FAIL: \(context): \(s)"
        guard seen.insert(line).inserted else { return }
        if failures.count < maxFailures { failures.append(line); trace(line) }
        else if failures.count == maxFailures { failures.append("FAIL: (more failures not listed)") }
    }
    public func check(_ ok: Bool, _ s: @autoclosure () -> String) { if !ok { fail(s()) } }

    public func snapshot() throws -> ReplicaSnapshot {
        let r = replica
        let digest = try r.digest()
        return try r.store.read { db in
            ReplicaSnapshot(vector: try r.store.vector(db),
                            digest: digest,
                            events: try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0,
                            pending: try Int.fetchOne(db, sql: "SELECT count(*) FROM pending") ?? 0,
                            quarantine: try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine") ?? 0,
                            peerAcks: try Int.fetchOne(db, sql: "SELECT count(*) FROM peer_acks") ?? 0,
                            stripped: try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE payload IS NULL") ?? 0)
        }
    }

    /// An envelope authenticates when it decodes and its own signature verifies under its replica
    /// field (the corpora never make a validly signed event vouch for a badly signed one).
    public static func authenticated(_ bytes: [UInt8]) -> Bool {
        guard let e = try? EventEnvelope(decoding: bytes) else { return false }
        return ReplicaKey.isValid(signature: e.signature, of: Array("GLOSS-EVENT-V1".utf8) + bytes[0..<(bytes.count - 64)], by: e.replica)
    }

    /// Every row stored since the last call, in events, pending and quarantine, is authenticated;
    /// stored payloads match their envelope's hash.
    public func checkNewRows(limits: PendingLimits = .standard) throws {
        let r = replica
        try r.store.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT pos, envelope, payload FROM events WHERE pos > ? ORDER BY pos", arguments: [lastEventPos]) {
                lastEventPos = row[0]
                let env: [UInt8] = Array(row[1] as Data)
                check(Self.authenticated(env), "events holds an event that fails authentication (pos \(lastEventPos))")
                if let p = row[2] as Data?, let e = try? EventEnvelope(decoding: env) {
                    check(e.matches(payload: Array(p)), "events holds a payload that does not match its envelope's hash (pos \(lastEventPos))")
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT rowid, envelope, payload, reason FROM pending WHERE rowid > ? ORDER BY rowid", arguments: [lastPendingRow]) {
                lastPendingRow = row[0]
                let env: [UInt8] = Array(row[1] as Data)
                check(Self.authenticated(env), "pending holds an event that fails authentication (reason: \(row[3] as String? ?? ""))")
                if let p = row[2] as Data?, let e = try? EventEnvelope(decoding: env) {
                    check(e.matches(payload: Array(p)), "pending holds a payload that does not match its envelope's hash")
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT rowid, envelope, reason FROM quarantine WHERE rowid > ? ORDER BY rowid", arguments: [lastQuarantineRow]) {
                lastQuarantineRow = row[0]
                check(Self.authenticated(Array(row[1] as Data)), "quarantine holds an event that fails authentication (reason: \(row[2] as String? ?? ""))")
            }
            let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM pending") ?? 0
            check(pending <= limits.total, "pending holds \(pending) events, over the bound \(limits.total)")
            let perFeed = try Int.fetchOne(db, sql: "SELECT max(n) FROM (SELECT count(*) AS n FROM pending GROUP BY replica)") ?? 0
            check(perFeed <= limits.perFeed, "pending holds \(perFeed) events of one feed, over the per-feed bound \(limits.perFeed)")
        }
    }

    /// What any peer acknowledged never exceeds what this replica holds, entry-wise.
    public func checkAcknowledged() throws {
        let r = replica
        let mine = try r.vector
        let peers = try r.store.read { db in try Data.fetchAll(db, sql: "SELECT DISTINCT peer FROM peer_acks") }
        for p in peers {
            guard let id = Bytes32(exactly: Array(p)) else { fail("peer_acks holds a peer id of \(p.count) bytes"); continue }
            let acked = try r.acknowledged(by: ReplicaID(id))
            for (feed, seq) in acked.sorted where seq > mine[feed] {
                // Reported once per (peer, feed): it stays exceeded until the feed catches up.
                guard reportedAcks.insert("\(id.hex)/\(feed.hex)").inserted else { break }
                fail("peer \(ReplicaID(id).short) is recorded as holding \(seq) of \(feed.short), but this replica holds \(mine[feed])")
                break
            }
        }
    }

    /// Imports one hostile file and checks everything that must hold. Returns the report, if any.
    @discardableResult
    public func importHostile(_ url: URL, checkRows: Bool = true, headerViolation: Bool = false) throws -> ImportReport? {
        let t0 = Date()
        let importBefore = importSeconds
        defer { checkSeconds += Date().timeIntervalSince(t0) - (importSeconds - importBefore) }
        let before = try snapshot()
        var report: ImportReport?
        let t1 = Date()
        do {
            defer { importSeconds += Date().timeIntervalSince(t1) }
            report = try replica.importBundle(at: url)
        } catch let e as GlossError {
            check(!e.message.isEmpty, "import threw a GlossError with an empty message")
            let after = try snapshot()
            check(after == before, "import threw (\(e.message.prefix(120))) but the replica changed: before \(before); after \(after)")
            return nil
        } catch {
            fail("import threw something other than a GlossError: \(String(describing: error).prefix(200))")
            return nil
        }
        let s = report!.summary
        let after = try snapshot()
        if headerViolation {
            // (A file that also ends in an unreadable record may report that instead.)
            check(report!.headerProblemCount > 0 && !report!.headerProblems.isEmpty || report!.error != nil || report!.truncated,
                  "the header breaks an invariant, but the report lists no header problem (report \(String(describing: report!).prefix(300)))")
            check(!report!.acknowledgementRecorded, "the header breaks an invariant, yet its sender vector was recorded as acknowledged")
        }
        check(after.stripped == before.stripped - s.restored || s.applied > 0 || s.appliedFromPending > 0,
              "\(s.restored) payloads reported restored, but events without payload went from \(before.stripped) to \(after.stripped)")
        if s.applied == 0 && s.appliedFromPending == 0 && s.pending == 0 && s.forks == 0 && s.restored == 0 {
            check(after.vector == before.vector && after.digest == before.digest && after.events == before.events && after.pending == before.pending,
                  "the import applied and parked nothing, yet the replica changed: before \(before); after \(after) (report \(String(describing: report!).prefix(300)))")
        }
        if let err = report!.error { check(!err.isEmpty, "the report's error is empty") }
        for r in s.rejections { check(!r.reason.isEmpty, "a rejection without a reason") }
        check(s.rejected == 0 || !s.rejections.isEmpty, "\(s.rejected) rejected but no rejection listed")
        // Stored rows and acknowledgements are checked every time `checkRows` is set (a violation
        // stays in the tables, so a sampled check still finds it, within the cases since the last).
        if checkRows { try checkNewRows(); try checkAcknowledged() }
        return report
    }
}
