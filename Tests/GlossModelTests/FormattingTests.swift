import Foundation
import GlossModel
import GlossTestSupport
import Testing

/// The hot formatters (an event's time as RFC 3339, an id as hex) against independent references:
/// Foundation's ISO 8601 formatter, and the byte-by-byte `Hex.encode`.
struct FormattingTests {
    @Test func rfc3339MatchesFoundationAndStaysDefinedBeyondYear9999() {
        var rng = SplitMix64(seed: testSeed("formatting-rfc3339"))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // Foundation's range: years 1970…9999.
        for _ in 0..<2_000 {
            let ms = UInt64.random(in: 0...253_402_300_799_999, using: &rng)
            let date = Date(timeIntervalSince1970: TimeInterval(ms / 1000)).addingTimeInterval(TimeInterval(ms % 1000) / 1000)
            #expect(CivilTime.rfc3339(milliseconds: ms) == formatter.string(from: date), "\(ms)")
        }
        #expect(CivilTime.rfc3339(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(CivilTime.rfc3339(milliseconds: 253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
        // Every u64 formats (a hostile time is shown, never trapped on): the year grows to 9 digits.
        let top = CivilTime.rfc3339(milliseconds: .max)
        #expect(top.hasSuffix(".615Z") && top.split(separator: "-")[0].count == 9, "\(top)")
    }

    @Test func bytes32HexMatchesTheByteEncoder() {
        var rng = SplitMix64(seed: testSeed("formatting-hex"))
        for _ in 0..<2_000 {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let b = Bytes32(exactly: bytes)!
            #expect(b.hex == Hex.encode(bytes))
            #expect(Bytes32(hex: b.hex) == b)
        }
        #expect(Bytes32.zero.hex == String(repeating: "0", count: 64))
        #expect(Bytes32(w0: .max, w1: .max, w2: .max, w3: .max).hex == String(repeating: "f", count: 64))
    }
}
