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
    /// The row being hashed, encoded (grown as needed; the hook runs on one connection at a time).
    private var row = RowEncoder()

    init() {}
    deinit { row.deallocate() }

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
            if op != SQLITE_INSERT { digest.add(slot: slot, hash: hash(name, db, from..<columns, old: true), sign: -1) }
            if op != SQLITE_DELETE { digest.add(slot: slot, hash: hash(name, db, from..<columns, old: false), sign: 1) }
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

    /// SHA-256 of the typed encoding of (table name, values…) (Protocol/04-projections.md §Digest).
    private func hash(_ table: String, _ db: UnsafeMutableRawPointer, _ columns: Range<Int>, old: Bool) -> Bytes32 {
        // (A local copy: the class's property is accessed twice per row, not once per column.)
        var encoder = row
        encoder.start(table)
        for i in columns { encoder.append(value(db, i, old: old)) }
        row = encoder
        return encoder.sha256()
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
public final class RowDigest: @unchecked Sendable {
    /// The followed tables, in digest order.
    public let tables: [String]
    let slot: [String: Int]
    /// Per table: leading columns not hashed (local log positions, Protocol/04 §Digest).
    let skip: [Int]
    /// Per table: rows added minus rows removed, and the sum as four big-endian 64-bit limbs.
    public private(set) var rows: [Int64]
    private var limbs: [UInt64]
    public private(set) var isEmpty = true

    public init(tables: [String], skipping skip: [Int]) {
        precondition(skip.count == tables.count)
        self.tables = tables
        self.skip = skip
        slot = Dictionary(uniqueKeysWithValues: tables.enumerated().map { ($1, $0) })
        rows = Array(repeating: 0, count: tables.count)
        limbs = Array(repeating: 0, count: tables.count * 4)
    }

    func add(slot s: Int, hash: Bytes32, sign: Int64) {
        isEmpty = false
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

    /// The sum of table `s` as 32 big-endian bytes (a delta modulo 2^256: add it to the stored sum).
    public func sum(_ s: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for i in 0..<4 { let w = limbs[s * 4 + i]; for b in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(b))) } }
        return out
    }

    /// True when table `s` changed in this transaction.
    public func touched(_ s: Int) -> Bool { rows[s] != 0 || limbs[s * 4 ..< s * 4 + 4].contains { $0 != 0 } }

    public func reset() {
        guard !isEmpty else { return }
        for i in rows.indices { rows[i] = 0 }
        for i in limbs.indices { limbs[i] = 0 }
        isEmpty = true
    }
}

/// The typed encoding of a row (Protocol/04-projections.md §Digest), written into a buffer it owns
/// (no array growth or exclusivity checks per byte, for the preupdate hook's many short rows) and
/// hashed where it is. The one encoder of the digest: the hook's running sums and the recomputation
/// from the tables both use it. A value type over one allocation: its one owner calls `deallocate()`.
public struct RowEncoder {
    private var base = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 8)
    private var capacity = 4096
    private var count = 0

    public init() {}

    /// Starts a row of `table` (the name is encoded as a text value first).
    public mutating func start(_ table: String) {
        count = 0
        var name = table
        name.withUTF8 { bytes(3, UnsafeRawBufferPointer($0)) }
    }

    /// Appends one SQLite value: a type byte, then the value (big-endian integers, UTF-8 text and
    /// blobs with a u32 length).
    public mutating func append(_ v: OpaquePointer?) {
        guard let v else { byte(0); return }
        switch sqlite3_value_type(v) {
        case SQLITE_NULL: byte(0)
        case SQLITE_INTEGER: word(1, UInt64(bitPattern: sqlite3_value_int64(v)))
        case SQLITE_FLOAT: word(2, sqlite3_value_double(v).bitPattern)
        case SQLITE_TEXT:
            let n = Int(sqlite3_value_bytes(v))
            let p = n > 0 ? sqlite3_value_text(v) : nil
            bytes(3, UnsafeRawBufferPointer(start: p.map(UnsafeRawPointer.init), count: p == nil ? 0 : n))
        default:
            let n = Int(sqlite3_value_bytes(v))
            let p = n > 0 ? sqlite3_value_blob(v) : nil
            bytes(4, UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n))
        }
    }

    public func sha256() -> Bytes32 { Bytes32.sha256(UnsafeRawBufferPointer(start: base, count: count)) }

    /// Frees the buffer (by the one owner, last).
    public func deallocate() { base.deallocate() }

    private mutating func reserve(_ n: Int) {
        guard count + n > capacity else { return }
        var grown = capacity * 2
        while count + n > grown { grown *= 2 }
        let new = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 8)
        new.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = new; capacity = grown
    }

    private mutating func byte(_ b: UInt8) {
        reserve(1)
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    private mutating func word(_ type: UInt8, _ v: UInt64) {
        reserve(9)
        base.storeBytes(of: type, toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: v.bigEndian, toByteOffset: count + 1, as: UInt64.self)
        count += 9
    }

    private mutating func bytes(_ type: UInt8, _ p: UnsafeRawBufferPointer) {
        reserve(5 + p.count)
        base.storeBytes(of: type, toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: UInt32(p.count).bigEndian, toByteOffset: count + 1, as: UInt32.self)
        if let from = p.baseAddress, p.count > 0 { (base + count + 5).copyMemory(from: from, byteCount: p.count) }
        count += 5 + p.count
    }
}
