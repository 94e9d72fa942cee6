// swift-tools-version: 6.0
import PackageDescription

// libFuzzer targets for Gloss's decoders of untrusted bytes (issue "Trust boundary").
// Build and run them with Scripts/fuzz.sh; the inputs they crashed on are kept in Regressions/
// and replayed by Tests/GlossModelTests/FuzzRegressionTests.swift in the normal test run.
//
// Each target runs one function of FuzzHarness (Sources/FuzzHarness/Harness.swift), the same file
// the regression test compiles (Tests/GlossModelTests/FuzzHarness.swift is a symlink to it).
let targets = ["FuzzEnvelope", "FuzzPayload", "FuzzBundle", "FuzzWireFrame", "FuzzVectorFile", "FuzzArticle"]

let package = Package(
    name: "GlossFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Gloss", path: ".."),
    ],
    targets: [
        .target(name: "FuzzHarness", dependencies: [.product(name: "GlossEngine", package: "Gloss")]),
    ] + targets.map { .executableTarget(name: $0, dependencies: ["FuzzHarness"]) }
)
