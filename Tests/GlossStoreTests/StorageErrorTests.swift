import Foundation
import GRDB
import GlossEngine
import GlossStore
import GlossTestSupport
import Testing

/// Disk-full and I/O errors get their own code and a message that says what to do (simulated with
/// `PRAGMA max_page_count`, which makes SQLite fail a growing write with SQLITE_FULL; the end-to-end
/// suite fills a real tmpfs).
@Suite struct StorageErrorTests {
    @Test func aFullDatabaseIsReportedAsDiskFullAndRolledBack() throws {
        let tmp = TempDir("gloss-full")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "ana", clock: MockClock().function)
        let a = try r.ingest(bytes: sampleArticleBytes(), filename: "a.txt")
        let before = try r.status()
        // No page may be added: the next write that grows the file fails.
        try r.store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count")!
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let big = String(repeating: "a long note that needs new pages. ", count: 20_000)
        let error = #expect(throws: GlossError.self) { try r.addNote(on: a.id, body: big) }
        #expect(error?.code == .diskFull, "\(String(describing: error))")
        #expect(error?.message.contains("the disk holding \(r.location) is full; free space and retry") == true, "\(String(describing: error))")
        // Nothing of it was written; the replica verifies.
        let after = try r.status()
        #expect(after.events == before.events && after.digest == before.digest)
        #expect(try r.verify().faults.isEmpty)
    }

    @Test func sqliteAndPOSIXErrorsAreClassified() {
        let full = DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full")
        #expect(StoreError.storage(full, location: "/x")?.code == .diskFull)
        #expect(GlossError.wrap(full, location: "/x").code == .diskFull)
        let io = DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error")
        // (An I/O error on a disk with space left stays an I/O error.)
        #expect(StoreError.storage(io, location: FileManager.default.temporaryDirectory.path)?.code == .ioError)
        #expect(StoreError.storage(NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC)), location: nil)?.code == .diskFull)
        #expect(StoreError.storage(NSError(domain: NSPOSIXErrorDomain, code: Int(EIO)), location: "/nonexistent-gloss-dir")?.code == .ioError)
        #expect(StoreError.storage(DatabaseError(resultCode: .SQLITE_CONSTRAINT), location: nil) == nil)
        #expect(StoreError.storage(CocoaError(.fileWriteOutOfSpace), location: nil)?.code == .diskFull)
    }
}
