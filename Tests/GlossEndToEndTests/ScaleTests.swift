import Foundation
import GlossEngine
import GlossTestSupport
import Testing

/// Size and memory bounds, measured on real processes. CI size by default; GLOSS_LARGE=1 for more.
@Suite struct ScaleTests {
    static var large: Bool { ProcessInfo.processInfo.environment["GLOSS_LARGE"] == "1" }

    @Test func rebuildOf200kEventsStaysUnder100MB() throws {
        let tmp = TempDir("gloss-rebuild-mem")
        defer { tmp.remove() }
        let count = Self.large ? 1_000_000 : 200_000
        let start = Date()
        let r = try Replica.create(in: tmp.url, analyst: "ana", clock: MockClock().function)
        try r.appendBulk(count)
        let digest = try r.digest()
        print("[rebuild-mem] generated \(count) events in \(Int(Date().timeIntervalSince(start))) s")
        let t0 = Date()
        let (status, rss) = try runMeasuringMemory(GlossProcess.binary, ["rebuild", "--dir", tmp.url.path])
        print("[rebuild-mem] gloss rebuild of \(count) events: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s, peak RSS \(rss / 1_048_576) MB")
        #expect(status == 0)
        #expect(rss < 100 * 1_048_576, "peak resident memory \(rss / 1_048_576) MB")
        #expect(try Replica.open(at: tmp.url).digest() == digest)
    }
}
