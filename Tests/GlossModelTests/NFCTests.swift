import Foundation
@testable import GlossModel
import GlossTestSupport
import Testing

/// `NFC.normalize` against Foundation's normalisation (the definition it must match byte for
/// byte), the list of class-0 scalars it may not cut before (derived again from this platform's
/// Unicode data), and its cost (linear where Foundation's is quadratic).
@Suite struct NFCTests {
    /// Every class-0 scalar that is a non-first element of a canonical decomposition, or whose
    /// decomposition starts with a combining mark, is in `unsafeStarters`, and nothing else is.
    @Test func theScalarsNotToCutBeforeAreDerivedFromThePlatformsData() {
        var unsafe = Set<UInt32>()
        for v in 0...0x10FFFF {
            guard let u = Unicode.Scalar(v) else { continue }
            let d = Array(String(u).decomposedStringWithCanonicalMapping.unicodeScalars)
            for x in d.dropFirst() where x.properties.canonicalCombiningClass == .notReordered { unsafe.insert(x.value) }
            if u.properties.canonicalCombiningClass == .notReordered, let f = d.first, f.properties.canonicalCombiningClass != .notReordered {
                unsafe.insert(u.value)
            }
            // ASCII is cut before unconditionally: no decomposition holds it past its first scalar.
            if d.count > 1 { #expect(!d.dropFirst().contains { $0.isASCII }, "U+\(String(v, radix: 16))") }
        }
        #expect(unsafe == NFC.unsafeStarters, "missing \(unsafe.subtracting(NFC.unsafeStarters).sorted()), extra \(NFC.unsafeStarters.subtracting(unsafe).sorted())")
    }

    /// Random texts from an alphabet of what normalisation reorders, composes and decomposes, cut
    /// into chunks of 1–40 scalars: the same bytes as Foundation's normalisation of the whole.
    @Test func chunkedNormalisationIsFoundationsByteForByte() throws {
        let seed = testSeed("nfc")
        var rng = SplitMix64(seed: seed)
        print("nfc: seed \(seed) (GLOSS_SEED=\(seed) replays)")
        let alphabet: [Unicode.Scalar] = Array("ae oAEn<=>1.\n".unicodeScalars)
            + ([0x301, 0x316, 0x308, 0x327, 0x338, 0x344, 0x345, 0x303, 0x3099, 0x309A, 0x0F71, 0x0F72, 0x0F80, 0x05B0, 0x0591] as [UInt32]  // marks
            + [0x1100, 0x1112, 0x1161, 0x1175, 0x11A8, 0x11C2, 0xAC00, 0xD7A3, 0x304B, 0x30AB, 0x212B, 0x2126, 0x0958, 0x1E9B,
               0x0B47, 0x0B3E, 0x0B56, 0x0BC6, 0x0BBE, 0x0DD9, 0x0DCF, 0x0F73, 0x0F75, 0x0F81, 0x4E2D, 0x1F600, 0x00C5, 0x00E9, 0x0344])
                .map { Unicode.Scalar($0)! }
        for round in 0..<400 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...300, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
            let text = String(s)
            let chunk = Int.random(in: 1...40, using: &rng)
            let ours = try NFC.normalize(text, chunkScalars: chunk)
            let theirs = text.precomposedStringWithCanonicalMapping
            #expect(ours.utf8.elementsEqual(theirs.utf8), "seed \(seed) round \(round) chunk \(chunk): \(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    /// The word-at-a-time ASCII check agrees with a byte-at-a-time one on random texts: every
    /// length up to 40, one non-ASCII scalar at every offset (in the words and in the tail).
    @Test func theASCIICheckAgreesWithAByteAtATimeOne() {
        var rng = SplitMix64(seed: testSeed("nfc-ascii"))
        for length in 0...40 {
            let ascii = String((0..<length).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0...0x7F, using: &rng))) })
            #expect(NFC.isASCII(ascii))
            for offset in 0...length {
                for odd in ["é", "\u{80}", "👍", "\u{301}"] {
                    var scalars = Array(ascii.unicodeScalars)
                    scalars.insert(contentsOf: odd.unicodeScalars, at: offset)
                    let text = String(String.UnicodeScalarView(scalars))
                    #expect(NFC.isASCII(text) == text.utf8.allSatisfy { $0 < 0x80 })
                    #expect(!NFC.isASCII(text))
                }
            }
        }
        #expect(NFC.isASCII("" as NSString as String) && !NFC.isASCII("café" as NSString as String))
    }

    @Test func aRunOfMoreThan255CombiningMarksIsRefused() throws {
        let ok = "a" + String(repeating: "\u{301}", count: 255) + "b" + String(repeating: "\u{316}", count: 255)
        #expect(try ok.nfc() == ok.precomposedStringWithCanonicalMapping)
        #expect(throws: NFC.RunTooLong.self) { try ("ab" + String(repeating: "\u{301}\u{316}", count: 128)).nfc() }
        do { _ = try ("ab" + String(repeating: "\u{301}", count: 300)).nfc() } catch let e as NFC.RunTooLong {
            #expect(e.offset == 2 && e.length == 256, "\(e)")
        }
    }

    /// 400,000 "e" + U+0301 cost about 4× 100,000 (Foundation alone: about 16×; 1,000,000 took 26 s).
    @Test func composingPairsCostLinearTime() throws {
        func seconds(_ n: Int) throws -> Double {
            let text = String(repeating: "e\u{301}", count: n)
            let started = Date()
            let out = try text.nfc()
            let t = Date().timeIntervalSince(started)
            #expect(out.unicodeScalars.count == n && out.unicodeScalars.allSatisfy { $0 == "\u{E9}" })
            return t
        }
        _ = try seconds(10_000)
        // The best of three each, alternating: one run beside a load spike is not a cost.
        var (small, large) = (Double.infinity, Double.infinity)
        for _ in 0..<3 { small = min(small, try seconds(100_000)); large = min(large, try seconds(400_000)) }
        print("nfc: 100,000 pairs \(small) s, 400,000 pairs \(large) s (×\(large / small))")
        #expect(large < small * 9, "400,000 pairs took \(large) s, 100,000 \(small) s")
    }
}
