/// A seeded random generator (SplitMix64): fast, tiny, reproducible across platforms.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed for a randomized test: `GLOSS_SEED` when set (to reproduce a failure), else random.
/// Tests print it so any failure can be replayed.
public func testSeed(_ name: String) -> UInt64 {
    if let s = ProcessInfoShim.env("GLOSS_SEED"), let v = UInt64(s) {
        print("[\(name)] seed \(v) (from GLOSS_SEED)")
        return v
    }
    let v = UInt64.random(in: 1...UInt64.max / 2)
    print("[\(name)] seed \(v) — rerun with GLOSS_SEED=\(v) to reproduce")
    return v
}

import Foundation
enum ProcessInfoShim {
    static func env(_ k: String) -> String? { ProcessInfo.processInfo.environment[k] }
}
