import Crypto
import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// The row-change hook sees every row change SQLite makes, with full old and new rows: rowid tables
/// (the integer primary key as its value, not NULL), WITHOUT ROWID tables, rows replaced by
/// `INSERT OR REPLACE`, updates, deletes; nothing from the temp schema, nothing while suspended.
@Suite struct RowChangeHookTests {
    @Test func everyKindOfRowChangeIsRecordedWithFullRows() throws {
        let q = try DatabaseQueue()
        var seen: [RowChange] = []
        try q.write { db in
            let hook = try #require(RowChangeHook.install(db))
            hook.recorder = { seen.append($0) }
            try db.execute(sql: """
                CREATE TABLE a(id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB);
                CREATE TABLE w(k TEXT PRIMARY KEY NOT NULL, v INTEGER) WITHOUT ROWID;
                CREATE TEMP TABLE t(x);
                INSERT INTO a(id, name, score, data) VALUES (7, 'x', 1.5, x'0102');
                INSERT INTO w VALUES ('k', 1);
                UPDATE w SET v = 2 WHERE k = 'k';
                INSERT OR REPLACE INTO a(id, name, score, data) VALUES (8, 'x', NULL, NULL);
                DELETE FROM w;
                INSERT INTO t VALUES (1);
                """)
            hook.suspended = true
            try db.execute(sql: "INSERT INTO w VALUES ('hidden', 3)")
        }
        let expected: [RowChange] = [
            RowChange(table: "a", old: nil, new: [.integer(7), .text("x"), .real(1.5), .blob([1, 2])]),
            RowChange(table: "w", old: nil, new: [.text("k"), .integer(1)]),
            RowChange(table: "w", old: [.text("k"), .integer(1)], new: [.text("k"), .integer(2)]),
            // The row the UNIQUE conflict replaces leaves first.
            RowChange(table: "a", old: [.integer(7), .text("x"), .real(1.5), .blob([1, 2])], new: nil),
            RowChange(table: "a", old: nil, new: [.integer(8), .text("x"), .null, .null]),
            RowChange(table: "w", old: [.text("k"), .integer(2)], new: nil),
        ]
        #expect(seen.map(\.table) == expected.map(\.table))
        for (s, e) in zip(seen, expected) {
            #expect(s.old == e.old, "\(s.table): old \(String(describing: s.old)) ≠ \(String(describing: e.old))")
            #expect(s.new == e.new, "\(s.table): new \(String(describing: s.new)) ≠ \(String(describing: e.new))")
        }
    }
}

/// Text holding U+0000 is stored as every writer of the replica stores it (GRDB binds text as a C
/// string): the maintained digest equals the digest recomputed from the rows GRDB reads back. Gloss's
/// own writers refuse such text (Protocol/02); a peer's event can still carry it.
@Suite struct NULTextTests {
    @Test func aNoteHoldingNULKeepsMaintainedAndRecomputedDigestsEqual() throws {
        let tmp = TempDir("gloss-nul")
        defer { tmp.remove() }
        let clock = MockClock()
        let r = try Replica.create(in: tmp.url, analyst: "ana", clock: clock.function)
        let article = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        #expect(throws: GlossError.self) { try r.addNote(on: article.id, body: "before\u{0}after") }
        let peer = try TrustBoundaryTests.signed(ReplicaKey(), seq: 1, prev: .zero, time: HybridTime(milliseconds: 1_624_700_000_000).raw,
                                                 NoteAdded(on: article.id, body: "before\u{0}after"))
        #expect(try r.store.applyRemote([peer], now: clock.read()).applied == 1)
        _ = try r.editNote(peer.id.hex, body: "edited, no NUL")
        #expect(try r.digest() == r.digest(recompute: true))
        _ = try r.rebuild()
        #expect(try r.digest() == r.digest(recompute: true))
    }
}

/// The digest's running sums (`RowDigest`, fed by the row-change hook): a transaction's sums are
/// what an independent computation gives for the rows it wrote, over many random inserts, replaces
/// and deletes, and a rolled-back transaction leaves nothing behind once reset.
@Suite struct RowDigestSumTests {
    /// SHA-256 of the typed encoding (Protocol/04 §Digest), written here from the text: a text is
    /// type 3, a u32 big-endian length and its UTF-8; an integer type 1 and 8 big-endian bytes.
    static func rowHash(_ table: String, _ id: Int64, _ text: String) -> [UInt8] {
        var b: [UInt8] = []
        func text32(_ s: String) { b.append(3); let n = UInt32(s.utf8.count); b += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: n >> $0) }; b += Array(s.utf8) }
        text32(table)
        b.append(1); b += [56, 48, 40, 32, 24, 16, 8, 0].map { UInt8(truncatingIfNeeded: UInt64(bitPattern: id) >> UInt64($0)) }
        text32(text)
        return Array(SHA256.hash(data: b))
    }

    /// a + b (or a − b) modulo 2^256, big-endian bytes.
    static func add(_ a: [UInt8], _ b: [UInt8], subtract: Bool = false) -> [UInt8] {
        var out = a, carry = 0
        for i in stride(from: 31, through: 0, by: -1) {
            let s = subtract ? Int(a[i]) - Int(b[i]) + carry : Int(a[i]) + Int(b[i]) + carry
            out[i] = UInt8(truncatingIfNeeded: s)
            carry = subtract ? (s < 0 ? -1 : 0) : s >> 8
        }
        return out
    }

    @Test func sumsEqualAnIndependentSumAndRollbacksLeaveNothing() throws {
        let seed = testSeed("row-digest-sums")
        var rng = SplitMix64(seed: seed)
        let q = try DatabaseQueue()
        try q.write { db in
            try db.execute(sql: "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE TABLE b(id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        }
        let digest = RowDigest(tables: ["a", "b"], skipping: [0, 0])
        try q.inDatabase { db in
            let hook = try #require(RowChangeHook.install(db))
            hook.digest = digest
        }
        var live: [String: [Int64: String]] = ["a": [:], "b": [:]]
        for round in 0..<12 {
            // Thousands of row changes in most rounds, a few in others.
            let count = round % 3 == 2 ? 5 : Int.random(in: 500...3_000, using: &rng)
            let rollback = round % 4 == 1
            var expected: [String: (rows: Int64, sum: [UInt8])] = ["a": (0, [UInt8](repeating: 0, count: 32)), "b": (0, [UInt8](repeating: 0, count: 32))]
            var after = live
            let write = { (db: Database) throws in
                for _ in 0..<count {
                    let table = Bool.random(using: &rng) ? "a" : "b"
                    let id = Int64.random(in: 1...2_000, using: &rng)
                    let text = String(repeating: "x", count: Int.random(in: 0...200, using: &rng)) + "\(id)"
                    if let old = after[table]![id] {
                        expected[table]!.rows -= 1
                        expected[table]!.sum = Self.add(expected[table]!.sum, Self.rowHash(table, id, old), subtract: true)
                    }
                    if Int.random(in: 0..<5, using: &rng) == 0 {
                        try db.execute(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
                        after[table]![id] = nil
                    } else {
                        try db.execute(sql: "INSERT OR REPLACE INTO \(table)(id, v) VALUES (?, ?)", arguments: [id, text])
                        expected[table]!.rows += 1
                        expected[table]!.sum = Self.add(expected[table]!.sum, Self.rowHash(table, id, text))
                        after[table]![id] = text
                    }
                }
            }
            if rollback {
                try q.inTransaction { db in try write(db); return .rollback }
                digest.reset()
                #expect(digest.isEmpty, "seed \(seed) round \(round)")
                continue
            }
            try q.inTransaction { db in
                try write(db)
                for (s, table) in ["a", "b"].enumerated() {
                    #expect(digest.rows[s] == expected[table]!.rows, "seed \(seed) round \(round) \(table): rows")
                    #expect(digest.sum(s) == expected[table]!.sum, "seed \(seed) round \(round) \(table): sum")
                }
                return .commit
            }
            digest.reset()
            live = after
        }
    }
}

/// The hook hashes each row from SQLite's values straight into a buffer of its own (`RowEncoder`):
/// every value type, empty and long texts and blobs (past the buffer's first 4 KiB, so it grows),
/// integers at both ends and floats hash as the spec's encoding, written here from Protocol/04 §Digest.
@Suite struct RowEncodingTests {
    enum Value { case null, integer(Int64), real(Double), text(String), blob([UInt8]) }

    /// Protocol/04 §Digest: a type byte (0 NULL, 1 integer, 2 float, 3 text, 4 blob), then
    /// 8 big-endian bytes (the float's IEEE 754 bits), or a u32 big-endian length and the bytes.
    static func encode(_ v: Value) -> [UInt8] {
        func be(_ x: UInt64, _ n: Int) -> [UInt8] { (0..<n).reversed().map { UInt8(truncatingIfNeeded: x >> UInt64($0 * 8)) } }
        switch v {
        case .null: return [0]
        case .integer(let i): return [1] + be(UInt64(bitPattern: i), 8)
        case .real(let d): return [2] + be(d.bitPattern, 8)
        case .text(let s): return [3] + be(UInt64(s.utf8.count), 4) + Array(s.utf8)
        case .blob(let b): return [4] + be(UInt64(b.count), 4) + b
        }
    }

    @Test func everyValueTypeHashesAsTheSpecEncodesIt() throws {
        let seed = testSeed("row-encoding")
        var rng = SplitMix64(seed: seed)
        let q = try DatabaseQueue()
        try q.write { db in try db.execute(sql: "CREATE TABLE c(id INTEGER PRIMARY KEY, v1, v2, v3)") }
        let digest = RowDigest(tables: ["c"], skipping: [0])
        try q.inDatabase { db in try #require(RowChangeHook.install(db)).digest = digest }
        func random() -> Value {
            let long = Int.random(in: 0..<6, using: &rng) == 0
            let n = long ? Int.random(in: 4_000...20_000, using: &rng) : Int.random(in: 0...40, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: return .null
            case 1: return .integer([Int64.min, Int64.max, 0, -1, Int64.random(in: .min ... .max, using: &rng)][Int.random(in: 0..<5, using: &rng)])
            case 2: return .real([0.5, -1e300, Double.random(in: -1e9...1e9, using: &rng)][Int.random(in: 0..<3, using: &rng)])
            case 3: return .text(String((0..<n).map { _ in Array("aé€😀\n")[Int.random(in: 0..<5, using: &rng)] }))
            default: return .blob((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
        }
        func dbValue(_ v: Value) -> DatabaseValue {
            switch v {
            case .null: return .null
            case .integer(let i): return i.databaseValue
            case .real(let d): return d.databaseValue
            case .text(let s): return s.databaseValue
            case .blob(let b): return Data(b).databaseValue
            }
        }
        var sum = [UInt8](repeating: 0, count: 32)
        try q.inTransaction { db in
            for id in 1...300 {
                let values = [random(), random(), random()]
                try db.execute(sql: "INSERT INTO c(id, v1, v2, v3) VALUES (?, ?, ?, ?)",
                               arguments: StatementArguments([Int64(id).databaseValue] + values.map(dbValue)))
                // The table name, then every column but the skipped ones (none here: the id too).
                let row = Self.encode(.text("c")) + Self.encode(.integer(Int64(id))) + values.flatMap(Self.encode)
                sum = RowDigestSumTests.add(sum, Array(SHA256.hash(data: row)))
            }
            #expect(digest.rows[0] == 300, "seed \(seed)")
            #expect(digest.sum(0) == sum, "seed \(seed): the maintained sum differs from the spec's encoding")
            return .commit
        }
    }
}
