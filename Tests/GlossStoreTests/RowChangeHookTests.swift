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
