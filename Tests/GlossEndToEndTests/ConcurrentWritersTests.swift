import Foundation
import GlossTestSupport
import Testing

@Suite struct ConcurrentWritersTests {
    /// Two processes appending to one replica at once never reuse a seq (BEGIN IMMEDIATE).
    @Test func twoProcessesNeverReuseASeq() throws {
        let tmp = TempDir("gloss-2proc")
        defer { tmp.remove() }
        #expect(try GlossProcess.run(["init", "--analyst", "ana"], cwd: tmp.url).status == 0)
        let f = tmp.sub("a.txt")
        try Data(sampleArticleBytes()).write(to: f)
        let art = try GlossProcess.run(["ingest", f.path], cwd: tmp.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let perWriter = 15
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 2) { w in
            for i in 0..<perWriter {
                let r = try? GlossProcess.run(["note", "add", "--on", art, "--text", "writer \(w) note \(i)"], cwd: tmp.url)
                if r?.status != 0 { failures.add() }
            }
        }
        #expect(failures.value == 0)
        let log = try GlossProcess.run(["log", "--json"], cwd: tmp.url)
        let seqs = log.lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int }
        #expect(seqs == Array(1...(1 + 2 * perWriter)))
        #expect(try GlossProcess.run(["verify"], cwd: tmp.url).status == 0)
    }
}

final class LockedCounter: @unchecked Sendable {
    // @unchecked: `n` is only touched under `lock`.
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
