@testable import GlossHub
import GlossStore
import Testing

/// The hub changelog's typed values (Protocol/12 §The changelog encoding) are read from the shared
/// database, which another process wrote: a truncated, bit-flipped or lying entry is refused with an
/// error, never a trap, and a whole entry reads back exactly.
@Suite struct HubChangelogCodecTests {
    static let values: [RowValue] = [
        .null, .integer(Int64.min), .integer(-1), .integer(Int64.max), .real(-1.5),
        .text(""), .text("a\u{0}é\u{E000}"), .blob([]), .blob([0, 255, 7]),
    ]

    static func readAll(_ bytes: [UInt8]) throws -> [RowValue] {
        var r = TypedValue.Reader(bytes)
        var out: [RowValue] = []
        while !r.atEnd { out.append(try r.value()) }
        return out
    }

    /// `GLOSS_HUB_COPY_ROWS` (a bootstrap's batch size) taken from the environment: a lie gives the
    /// default, never a batch of 0 rows, a negative one or a trap.
    @Test func aBootstrapBatchSizeFromTheEnvironmentIsBounded() {
        #expect(HubStore.copyRows(nil) == 2_000)
        #expect(HubStore.copyRows("3") == 3 && HubStore.copyRows("100000") == 100_000)
        for lie in ["0", "-1", "100001", "18446744073709551615", "9223372036854775808", "", " 5", "5x", "nan", "1e3", "\u{0}"] {
            #expect(HubStore.copyRows(lie) == 2_000, "\(lie.debugDescription)")
        }
    }

    @Test func valuesRoundTripAndEveryTruncationIsRefused() throws {
        var bytes: [UInt8] = []
        for v in Self.values { TypedValue.encode(v, &bytes) }
        #expect(try Self.readAll(bytes) == Self.values)
        for n in 0..<bytes.count {
            var r = TypedValue.Reader(Array(bytes[..<n]))
            #expect(throws: (any Error).self, "a copy cut at byte \(n) of \(bytes.count) was read") {
                for _ in Self.values { _ = try r.value() }
            }
        }
    }

    @Test func flippedBytesAndLyingLengthsNeverTrap() throws {
        var bytes: [UInt8] = []
        for v in Self.values { TypedValue.encode(v, &bytes) }
        for i in bytes.indices {
            for bit in 0..<8 {
                var copy = bytes
                copy[i] ^= 1 << bit
                _ = try? Self.readAll(copy)   // decodes to something or throws; never traps
            }
        }
        // A text and a blob claiming 2^32 - 1 bytes, and an unknown type byte.
        for lie: [UInt8] in [[3, 0xFF, 0xFF, 0xFF, 0xFF, 0x61], [4, 0xFF, 0xFF, 0xFF, 0xFF], [9]] {
            #expect(throws: (any Error).self) { _ = try Self.readAll(lie) }
        }
    }
}
