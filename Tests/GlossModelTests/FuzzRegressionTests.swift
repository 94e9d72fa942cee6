import Foundation
import GlossTestSupport
import Testing

/// Replays the fuzz targets' inputs in-process (no sanitizer): every file of `Fuzz/Regressions/<Target>/`
/// (inputs that once crashed a decoder) and `Fuzz/Corpus/<Target>/` (the seeds) goes through the same
/// harness function as under libFuzzer (`FuzzHarness.swift`, a symlink to
/// `Fuzz/Sources/FuzzHarness/Harness.swift`). Each is refused or accepted; none may trap.
@Suite struct FuzzRegressionTests {
    static let fuzz = repositoryRoot().appendingPathComponent("Fuzz")

    static func files(_ folder: String, _ target: String) -> [URL] {
        let dir = fuzz.appendingPathComponent(folder).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzHarness.targets.map(\.name))
    func regressionsAndCorpusNeverCrash(target: String) throws {
        let run = try #require(FuzzHarness.targets.first { $0.name == target }?.run)
        let corpus = Self.files("Corpus", target)
        #expect(!corpus.isEmpty, "Fuzz/Corpus/\(target) is empty; run Fuzz/make_corpus.py")
        var accepted = 0
        for file in Self.files("Regressions", target) + corpus {
            if run(Array(try Data(contentsOf: file))) { accepted += 1 }
        }
        // The seeds include valid inputs: a harness that refuses everything fuzzes nothing.
        #expect(accepted > 0, "no input of \(target) was accepted")
    }

    /// Every decoder refuses the empty input, and the bundle and payload harnesses a single byte,
    /// without trapping.
    @Test func tinyInputsAreRefused() {
        for (name, run) in FuzzHarness.targets {
            #expect(!run([]), "\(name) accepted the empty input")
        }
        for b in UInt8.min...UInt8.max {
            #expect(!FuzzHarness.payload([b]))
            #expect(!FuzzHarness.bundle([b]))
        }
    }
}
