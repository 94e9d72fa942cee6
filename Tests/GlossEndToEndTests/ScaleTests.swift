import Foundation
import GlossEngine
import GlossTestSupport
import Testing

/// Size and memory bounds, measured on real processes: 200,000 events by default (CI), 1,000,000
/// with GLOSS_LARGE=1.
@Suite(.timeLimit(.minutes(40))) struct ScaleTests {
    static var large: Bool { ProcessInfo.processInfo.environment["GLOSS_LARGE"] == "1" }

    @Test func rebuildExportAndImportStayUnder100MB() throws {
        let tmp = TempDir("gloss-scale")
        defer { tmp.remove() }
        let count = Self.large ? 1_000_000 : 200_000
        let limit = 100 * 1_048_576
        var start = Date()
        let source = tmp.sub("source")
        let r = try Replica.create(in: source, analyst: "ana", clock: MockClock().function)
        try r.appendBulk(count)
        let digest = try r.digest()
        print("[scale] generated \(count) events in \(Int(Date().timeIntervalSince(start))) s")

        func measured(_ label: String, _ args: [String]) throws {
            start = Date()
            let (status, rss) = try runMeasuringMemory(GlossProcess.binary, args)
            print("[scale] \(label) of \(count) events: \(String(format: "%.1f", Date().timeIntervalSince(start))) s, peak RSS \(rss / 1_048_576) MB")
            #expect(status == 0, "\(label) exited \(status)")
            #expect(rss < limit, "\(label): peak resident memory \(rss / 1_048_576) MB")
        }
        try measured("rebuild", ["rebuild", "--dir", source.path])
        #expect(try Replica.open(at: source).digest() == digest)

        let bundle = tmp.sub("all.glossb")
        try measured("bundle export", ["bundle", "export", "--all", "--out", bundle.path, "--dir", source.path])
        let target = tmp.sub("target")
        _ = try Replica.create(in: target, analyst: "bo")
        try measured("bundle import", ["bundle", "import", bundle.path, "--dir", target.path])
        let imported = try Replica.open(at: target).status()
        #expect(imported.events == count)
        #expect(imported.digest == digest)
    }
}
