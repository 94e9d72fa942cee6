import CSQLitePreupdate
import Foundation
import GRDB
import GRDBSQLite
import GlossModel

/// One column value as SQLite stored it.
public enum RowValue: Hashable, Sendable {
    case null, integer(Int64), real(Double), text(String), blob([UInt8])
}

/// One row change in the main schema: an insert (`old` nil), a delete (`new` nil) or an update
/// (both); full rows, in the table's column order.
public struct RowChange: Hashable, Sendable {
    public var table: String
    public var old: [RowValue]?
    public var new: [RowValue]?
    public init(table: String, old: [RowValue]?, new: [RowValue]?) { self.table = table; self.old = old; self.new = new }
}

/// Sees every row change of one connection before SQLite makes it (SQLite's preupdate hook): no
/// trigger, so no statement becomes a multi-row write that needs a statement journal. Installed on
/// every connection of a `ReplicaStore`; its consumers are the projection digest (the tables it
/// follows, hashed here from the values SQLite is about to write) and an optional recorder of every
/// change (a hub writing through to another database).
public final class RowChangeHook: @unchecked Sendable {
    /// The running digest sums of the open transaction, for the tables it follows.
    public var digest: RowDigest?
    /// Every row change of every main-schema table, in order (nil: nothing materialized).
    public var recorder: ((RowChange) -> Void)?
    /// While true, no consumer sees a change (rows copied in raw, digest rows included).
    public var suspended = false
    /// What a projector keeps per connection for its life (GlossProjections' apply window).
    public var projectorState: AnyObject?

    /// Table-name pointers SQLite passed before, with the digest slot of each (nil: not followed).
    private var names: [(pointer: UnsafePointer<CChar>, name: String, slot: Int?)] = []
    private var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(512) }

    /// Hooks by connection (the callback's context is the hook itself; this keeps it alive).
    nonisolated(unsafe) private static var hooks: [UnsafeMutableRawPointer: RowChangeHook] = [:]
    private static let lock = NSLock()

    /// The connection's hook (nil on a connection `install` never saw).
    public static func of(_ db: Database) -> RowChangeHook? {
        guard let c = db.sqliteConnection else { return nil }
        lock.lock(); defer { lock.unlock() }
        return hooks[UnsafeMutableRawPointer(c)]
    }

    /// Installs a new hook on the connection (replacing the hook of a closed connection that had
    /// the same address).
    @discardableResult
    public static func install(_ db: Database) -> RowChangeHook? {
        guard let c = db.sqliteConnection else { return nil }
        let key = UnsafeMutableRawPointer(c)
        lock.lock(); defer { lock.unlock() }
        let hook = RowChangeHook()
        hooks[key] = hook
        gloss_preupdate_install(key, { context, db, op, database, table in
            guard let context, let db, let database, let table else { return }
            Unmanaged<RowChangeHook>.fromOpaque(context).takeUnretainedValue().changed(db, op: op, database: database, table: table)
        }, Unmanaged.passUnretained(hook).toOpaque())
        return hook
    }

    private func entry(_ table: UnsafePointer<CChar>) -> (name: String, slot: Int?) {
        for e in names where e.pointer == table {
            if e.name.withCString({ strcmp($0, table) }) == 0 { return (e.name, e.slot) }
            names.removeAll(keepingCapacity: true)
            break
        }
        let name = String(cString: table)
        let slot = digest?.slot[name]
        // SQLite keeps a table's name at one address while its schema is loaded; a few entries.
        if names.count >= 64 { names.removeAll(keepingCapacity: true) }
        names.append((table, name, slot))
        return (name, slot)
    }

    private func changed(_ db: UnsafeMutableRawPointer, op: Int32, database: UnsafePointer<CChar>, table: UnsafePointer<CChar>) {
        guard !suspended, strcmp(database, "main") == 0 else { return }
        let (name, slot) = entry(table)
        let columns = Int(gloss_preupdate_count(db))
        if let slot, let digest {
            let from = digest.skip[slot]
            if op != SQLITE_INSERT { record(digest, slot, name, db, from..<columns, old: true) }
            if op != SQLITE_DELETE { record(digest, slot, name, db, from..<columns, old: false) }
        }
        if let recorder {
            recorder(RowChange(table: name,
                               old: op == SQLITE_INSERT ? nil : values(db, columns, old: true),
                               new: op == SQLITE_DELETE ? nil : values(db, columns, old: false)))
        }
    }

    private func value(_ db: UnsafeMutableRawPointer, _ i: Int, old: Bool) -> OpaquePointer? {
        (old ? gloss_preupdate_old(db, Int32(i)) : gloss_preupdate_new(db, Int32(i))).map(OpaquePointer.init)
    }

    /// Hands the digest the typed encoding of (table name, values…) (Protocol/04-projections.md
    /// §Digest): a row leaving (`old`) or appearing.
    private func record(_ digest: RowDigest, _ slot: Int, _ table: String, _ db: UnsafeMutableRawPointer, _ columns: Range<Int>, old: Bool) {
        buffer.removeAll(keepingCapacity: true)
        RowDigest.encodeText(table, &buffer)
        for i in columns { RowDigest.encode(value(db, i, old: old), &buffer) }
        digest.add(slot: slot, encoded: buffer, sign: old ? -1 : 1)
    }

    private func values(_ db: UnsafeMutableRawPointer, _ columns: Int, old: Bool) -> [RowValue] {
        (0..<columns).map { i in
            guard let v = value(db, i, old: old) else { return .null }
            switch sqlite3_value_type(v) {
            case SQLITE_INTEGER: return .integer(sqlite3_value_int64(v))
            case SQLITE_FLOAT: return .real(sqlite3_value_double(v))
            case SQLITE_TEXT:
                let n = Int(sqlite3_value_bytes(v))
                guard n > 0, let p = sqlite3_value_text(v) else { return .text("") }
                return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
            case SQLITE_BLOB:
                let n = Int(sqlite3_value_bytes(v))
                guard n > 0, let p = sqlite3_value_blob(v) else { return .blob([]) }
                return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
            default: return .null
            }
        }
    }
}

/// The running sums of one transaction's row changes, per followed table: row count and the sum
/// modulo 2^256 of each row's hash (added when a row appears, subtracted when it leaves).
///
/// The writer only copies each row's encoding; the hashing runs on a queue of its own (the second
/// core), in batches. Sums commute, so the order rows are hashed in does not matter; `totals()`
/// waits for the batches in flight.
public final class RowDigest: @unchecked Sendable {
    /// The followed tables, in digest order.
    public let tables: [String]
    let slot: [String: Int]
    /// Per table: leading columns not hashed (local log positions, Protocol/04 §Digest).
    let skip: [Int]
    /// True when no row changed since the last `reset` (nothing to write).
    public private(set) var isEmpty = true

    /// Per table: rows added minus rows removed, and the sum as four big-endian 64-bit limbs.
    public struct Totals: Sendable {
        public private(set) var rows: [Int64]
        var limbs: [UInt64]

        init(tables: Int) {
            rows = Array(repeating: 0, count: tables)
            limbs = Array(repeating: 0, count: tables * 4)
        }

        mutating func add(slot s: Int, hash: Bytes32, sign: Int64) {
            rows[s] += sign
            // The hash's words are its big-endian 64-bit limbs, most significant first.
            var carry: UInt64 = 0
            for i in stride(from: 3, through: 0, by: -1) {
                let word = i == 0 ? hash.w0 : i == 1 ? hash.w1 : i == 2 ? hash.w2 : hash.w3
                if sign > 0 {
                    let (a, o1) = limbs[s * 4 + i].addingReportingOverflow(word)
                    let (b, o2) = a.addingReportingOverflow(carry)
                    limbs[s * 4 + i] = b; carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
                } else {
                    let (a, o1) = limbs[s * 4 + i].subtractingReportingOverflow(word)
                    let (b, o2) = a.subtractingReportingOverflow(carry)
                    limbs[s * 4 + i] = b; carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
                }
            }
        }

        /// Adds the hash of every record of a batch (`RowDigest.add`'s layout).
        mutating func add(batch: [UInt8]) {
            batch.withUnsafeBytes { raw in
                var at = 0
                while at < raw.count {
                    let s = Int(raw[at]) << 8 | Int(raw[at + 1])
                    let sign: Int64 = raw[at + 2] == 0 ? 1 : -1
                    let n = Int(raw[at + 3]) << 24 | Int(raw[at + 4]) << 16 | Int(raw[at + 5]) << 8 | Int(raw[at + 6])
                    at += 7
                    add(slot: s, hash: Bytes32.sha256(UnsafeRawBufferPointer(rebasing: raw[at ..< at + n])), sign: sign)
                    at += n
                }
            }
        }

        /// The sum of table `s` as 32 big-endian bytes (a delta modulo 2^256: add it to the stored sum).
        public func sum(_ s: Int) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(32)
            for i in 0..<4 { let w = limbs[s * 4 + i]; for b in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(b))) } }
            return out
        }

        /// True when table `s` changed.
        public func touched(_ s: Int) -> Bool { rows[s] != 0 || limbs[s * 4 ..< s * 4 + 4].contains { $0 != 0 } }

        mutating func merge(_ o: Totals) {
            for s in rows.indices {
                rows[s] += o.rows[s]
                var carry: UInt64 = 0
                for i in stride(from: 3, through: 0, by: -1) {
                    let (a, o1) = limbs[s * 4 + i].addingReportingOverflow(o.limbs[s * 4 + i])
                    let (b, o2) = a.addingReportingOverflow(carry)
                    limbs[s * 4 + i] = b; carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
                }
            }
        }
    }

    /// Records not yet handed to the hasher: per row, a u16 slot, a sign byte (0 appears, 1
    /// leaves), a u32 length and the row's encoding.
    private var batch: [UInt8] = []
    /// Bytes per batch handed over, and batches in flight at most (the writer waits beyond them).
    static let batchBytes = 64 << 10
    private let inFlight = DispatchSemaphore(value: 16)
    private let hasher = DispatchQueue(label: "gloss.digest.hasher")
    /// The hasher's sums (read and written on `hasher` only).
    private let hashed: Box
    private var shipped = false

    private final class Box: @unchecked Sendable {
        var totals: Totals
        init(_ t: Totals) { totals = t }
    }

    public init(tables: [String], skipping skip: [Int]) {
        precondition(skip.count == tables.count)
        self.tables = tables
        self.skip = skip
        slot = Dictionary(uniqueKeysWithValues: tables.enumerated().map { ($1, $0) })
        hashed = Box(Totals(tables: tables.count))
        batch.reserveCapacity(RowDigest.batchBytes + 4096)
    }

    /// One row appearing (`sign` 1) or leaving (−1) table `slot`, by its typed encoding.
    func add(slot s: Int, encoded: [UInt8], sign: Int64) {
        isEmpty = false
        batch.append(UInt8(truncatingIfNeeded: s >> 8)); batch.append(UInt8(truncatingIfNeeded: s))
        batch.append(sign > 0 ? 0 : 1)
        RowDigest.appendU32(UInt32(encoded.count), &batch)
        batch.append(contentsOf: encoded)
        if batch.count >= RowDigest.batchBytes { ship() }
    }

    private func ship() {
        let b = batch
        batch.removeAll(keepingCapacity: true)
        shipped = true
        inFlight.wait()
        hasher.async { [hashed, inFlight] in
            hashed.totals.add(batch: b)
            inFlight.signal()
        }
    }

    /// The sums of every row change since the last `reset` (waits for the hasher).
    public func totals() -> Totals {
        var t = Totals(tables: tables.count)
        t.add(batch: batch)
        if shipped { hasher.sync { t.merge(hashed.totals) } }
        return t
    }

    /// Forgets every change (after they were written, or at a rollback).
    public func reset() {
        guard !isEmpty else { return }
        batch.removeAll(keepingCapacity: true)
        if shipped {
            hasher.sync { hashed.totals = Totals(tables: tables.count) }
            shipped = false
        }
        isEmpty = true
    }

    // MARK: The typed encoding of a row (Protocol/04-projections.md §Digest)

    public static func encodeText(_ s: String, _ out: inout [UInt8]) {
        out.append(3); appendU32(UInt32(s.utf8.count), &out); out.append(contentsOf: s.utf8)
    }

    static func appendU32(_ v: UInt32, _ out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: v >> 24)); out.append(UInt8(truncatingIfNeeded: v >> 16))
        out.append(UInt8(truncatingIfNeeded: v >> 8)); out.append(UInt8(truncatingIfNeeded: v))
    }

    static func appendU64(_ v: UInt64, _ out: inout [UInt8]) {
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }

    /// One SQLite value: a type byte, then the value (big-endian integers, UTF-8 text and blobs
    /// with a u32 length).
    public static func encode(_ v: OpaquePointer?, _ out: inout [UInt8]) {
        guard let v else { out.append(0); return }
        switch sqlite3_value_type(v) {
        case SQLITE_NULL: out.append(0)
        case SQLITE_INTEGER: out.append(1); appendU64(UInt64(bitPattern: sqlite3_value_int64(v)), &out)
        case SQLITE_FLOAT: out.append(2); appendU64(sqlite3_value_double(v).bitPattern, &out)
        case SQLITE_TEXT:
            let n = Int(sqlite3_value_bytes(v))
            out.append(3); appendU32(UInt32(n), &out)
            if n > 0, let p = sqlite3_value_text(v) { out.append(contentsOf: UnsafeBufferPointer(start: p, count: n)) }
        default:
            let n = Int(sqlite3_value_bytes(v))
            out.append(4); appendU32(UInt32(n), &out)
            if n > 0, let p = sqlite3_value_blob(v) { out.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n)) }
        }
    }
}
