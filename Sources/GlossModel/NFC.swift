import Foundation

/// Unicode Normalization Form C for text typed or read locally (article files, notes, fact fields,
/// tags), byte for byte what Foundation's `precomposedStringWithCanonicalMapping` returns, in time
/// linear in the text.
///
/// Foundation's normalisation is quadratic in two ways on a long string: in the composing pairs of
/// the whole string (1,000,000 "e" + U+0301 took 26 s; a 4 MB file of them 40 s), and in the length
/// of one run of combining marks that must be reordered (200,000 alternating U+0301 U+0316: 24 s).
/// So the text is normalised in chunks of about 4,096 scalars, cut before a scalar normalisation
/// never reaches back across (below), and a run of more than `maxCombiningRun` combining marks in a
/// row (canonical combining class ≠ 0) is refused: no language writes one, and its reordering cost
/// grows with the square of its length (Protocol/02-payloads.md).
///
/// A cut before scalar `c` is exact when `c` has canonical combining class 0, is no non-first
/// element of any canonical decomposition (so it never composes with what precedes it), and its
/// own decomposition starts with such a scalar: every ASCII scalar, and every other class-0 scalar
/// but the 77 of `unsafeStarters` (`NFCTests` derives that list again from the platform's data).
public enum NFC {
    /// Longest run of combining marks accepted (a run is refused past it).
    public static let maxCombiningRun = 255
    /// Scalars per chunk before a cut is looked for.
    public static let chunkScalars = 4096

    public struct RunTooLong: Error, CustomStringConvertible {
        /// Marks in the run, and the scalar offset where it starts.
        public var length: Int, offset: Int
        public var description: String {
            "the text holds a run of \(length)+ combining marks in a row (at scalar \(offset)); at most \(NFC.maxCombiningRun) are accepted — remove the run (no language writes one) and try again"
        }
    }

    /// Class-0 scalars before which a cut is not exact: non-first elements of canonical
    /// decompositions (Indic and Sinhala vowel parts, Hangul medial vowels and final consonants, …)
    /// and those whose decomposition starts with a combining mark (Tibetan vowel signs).
    static let unsafeStarters: Set<UInt32> = [
        0x09BE, 0x09D7, 0x0B3E, 0x0B56, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6, 0x0D3E, 0x0D57, 0x0DCF,
        0x0DDF, 0x0F73, 0x0F75, 0x0F81, 0x0FB5, 0x0FB7, 0x102E, 0x1161, 0x1162, 0x1163, 0x1164, 0x1165, 0x1166,
        0x1167, 0x1168, 0x1169, 0x116A, 0x116B, 0x116C, 0x116D, 0x116E, 0x116F, 0x1170, 0x1171, 0x1172, 0x1173,
        0x1174, 0x1175, 0x11A8, 0x11A9, 0x11AA, 0x11AB, 0x11AC, 0x11AD, 0x11AE, 0x11AF, 0x11B0, 0x11B1, 0x11B2,
        0x11B3, 0x11B4, 0x11B5, 0x11B6, 0x11B7, 0x11B8, 0x11B9, 0x11BA, 0x11BB, 0x11BC, 0x11BD, 0x11BE, 0x11BF,
        0x11C0, 0x11C1, 0x11C2, 0x1B35, 0x11127, 0x1133E, 0x11357, 0x114B0, 0x114BA, 0x114BD, 0x115AF, 0x11930,
    ]

    /// The first run of more than `maxCombiningRun` combining marks in `text`, or nil; one pass,
    /// ASCII text at a glance. `normalize` refuses what it finds; received payloads are checked with
    /// it before any of their text is compared or hashed: Swift compares and hashes strings by
    /// canonical equivalence, which reorders a run of marks in time quadratic in its length (one
    /// 1 MB map key held a server for 93 s, an 8 MB one for an hour).
    public static func longRun(in text: String) -> RunTooLong? {
        if isASCII(text) { return nil }
        var run = 0, offset = 0
        for s in text.unicodeScalars {
            if !s.isASCII && s.properties.canonicalCombiningClass != .notReordered {
                run += 1
                if run > maxCombiningRun { return RunTooLong(length: run, offset: offset - run + 1) }
            } else {
                run = 0
            }
            offset += 1
        }
        return nil
    }

    /// True when every byte of `text` is ASCII: eight bytes at a time over the contiguous UTF-8
    /// of a native string (a byte at a time was 1.5% of an import's samples), else a byte at a time.
    static func isASCII(_ text: String) -> Bool {
        let answer = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            let raw = UnsafeRawBufferPointer(bytes)
            var i = 0, high: UInt64 = 0
            while i + 8 <= raw.count { high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self); i += 8 }
            while i < raw.count { high |= UInt64(raw[i]); i += 1 }
            return high & 0x8080_8080_8080_8080 == 0
        }
        return answer ?? text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// True when normalisation of the text from `s` on never depends on what precedes `s`.
    static func isCut(_ s: Unicode.Scalar) -> Bool {
        s.isASCII || (s.properties.canonicalCombiningClass == .notReordered && !unsafeStarters.contains(s.value))
    }

    /// `text` in NFC; throws `RunTooLong` for a run of more than `maxCombiningRun` combining marks.
    public static func normalize(_ text: String, chunkScalars: Int = NFC.chunkScalars) throws -> String {
        if let run = longRun(in: text) { throw run }
        let scalars = text.unicodeScalars
        var out = ""
        var start = scalars.startIndex, i = start
        var inChunk = 0
        while i != scalars.endIndex {
            let s = scalars[i]
            if inChunk >= chunkScalars && isCut(s) {
                if out.isEmpty { out.reserveCapacity(text.utf8.count) }
                out += String(scalars[start..<i]).precomposedStringWithCanonicalMapping
                start = i
                inChunk = 0
            }
            inChunk += 1
            i = scalars.index(after: i)
        }
        if start == scalars.startIndex { return text.precomposedStringWithCanonicalMapping }
        out += String(scalars[start..<i]).precomposedStringWithCanonicalMapping
        return out
    }
}

extension String {
    /// This text in Unicode NFC (`NFC.normalize`); throws `NFC.RunTooLong` for a run of more than
    /// 255 combining marks.
    public func nfc() throws -> String { try NFC.normalize(self) }

    /// The scalar offset of the first U+0000, or nil. Gloss's writers refuse such text: SQLite ends
    /// a text value there, so the tables would keep only what comes before it (Protocol/02).
    public var firstNULOffset: Int? {
        var i = 0
        for u in unicodeScalars { if u.value == 0 { return i }; i += 1 }
        return nil
    }
}
