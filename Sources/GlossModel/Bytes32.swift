import Crypto
import Foundation

/// Thirty-two bytes held inline (no heap allocation): the shape of every id and key in Gloss.
///
/// Ordering is bytewise lexicographic, which is the order the protocol uses wherever it sorts
/// replica ids (Protocol/01-event.md §Deps).
public struct Bytes32: Hashable, Comparable, Sendable {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static let zero = Bytes32(w0: 0, w1: 0, w2: 0, w3: 0)

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// Reads 32 bytes starting at `offset`. Traps if fewer remain (callers check lengths first).
    public init<C: RandomAccessCollection>(_ bytes: C, at offset: C.Index) where C.Element == UInt8 {
        func word(_ k: Int) -> UInt64 {
            var v: UInt64 = 0
            var i = bytes.index(offset, offsetBy: k * 8)
            for _ in 0..<8 { v = (v << 8) | UInt64(bytes[i]); i = bytes.index(after: i) }
            return v
        }
        self.init(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
    }

    /// Exactly 32 bytes, or nil.
    public init?<C: RandomAccessCollection>(exactly bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        self.init(bytes, at: bytes.startIndex)
    }

    public init(digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { Bytes32($0, at: 0) }
    }

    public var bytes: [UInt8] {
        var out = [UInt8](); out.reserveCapacity(32)
        append(to: &out)
        return out
    }

    public func append(to out: inout [UInt8]) {
        for w in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
    }

    public var isZero: Bool { w0 == 0 && w1 == 0 && w2 == 0 && w3 == 0 }

    /// 64 lowercase hex digits, written into the string's storage (no intermediate arrays: ids are
    /// formatted several times per applied event).
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { b in
            Hex.digits.withUnsafeBufferPointer { digits in
                func put(_ w: UInt64, at offset: Int) {
                    for j in 0..<16 { b[offset + j] = digits[Int(truncatingIfNeeded: (w >> UInt64(60 - 4 * j)) & 15)] }
                }
                put(w0, at: 0); put(w1, at: 16); put(w2, at: 32); put(w3, at: 48)
            }
            return 64
        }
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64, let b = Hex.decode(hex) else { return nil }
        self.init(b, at: 0)
    }

    public static func < (a: Bytes32, b: Bytes32) -> Bool {
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        if a.w2 != b.w2 { return a.w2 < b.w2 }
        return a.w3 < b.w3
    }

    /// SHA-256 of `data`.
    public static func sha256<D: DataProtocol>(_ data: D) -> Bytes32 {
        Bytes32(digest: SHA256.hash(data: data))
    }

    /// SHA-256 of contiguous bytes: one update from their buffer (the generic `DataProtocol` path
    /// walks regions through generic code, a measurable cost for the many short inputs of the
    /// digest's row hashes).
    public static func sha256(_ bytes: [UInt8]) -> Bytes32 {
        bytes.withUnsafeBytes { sha256($0) }
    }

    /// SHA-256 of the bytes of a buffer.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> Bytes32 {
        var h = SHA256()
        h.update(bufferPointer: bytes)
        return Bytes32(digest: h.finalize())
    }
}

/// Lowercase hexadecimal, the text form of every id (Protocol/01-event.md §Text forms).
public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    public static func encode<C: Sequence>(_ bytes: C) -> String where C.Element == UInt8 {
        var chars = [UInt8]()
        chars.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes { chars.append(digits[Int(b >> 4)]); chars.append(digits[Int(b & 15)]) }
        return String(decoding: chars, as: UTF8.self)
    }

    /// Decodes an even-length hex string (either case); nil on any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out = [UInt8](); out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo); i += 2
        }
        return out
    }

    public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// True when `text` is non-empty and only hex digits (any length): a candidate id prefix.
    public static func isHexPrefix(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { nibble($0) != nil }
    }
}

/// The id of an event: SHA-256 of its complete encoded envelope, signature included.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Bytes32
    public init(_ raw: Bytes32) { self.raw = raw }
    public static let zero = EventID(.zero)
    public var hex: String { raw.hex }
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }
    public static func < (a: EventID, b: EventID) -> Bool { a.raw < b.raw }
}

/// A replica's id: its Ed25519 public key (32 bytes), written as 64 lowercase hex digits.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Bytes32
    public init(_ raw: Bytes32) { self.raw = raw }
    public init?(hex: String) { guard let r = Bytes32(hex: hex) else { return nil }; raw = r }
    public var hex: String { raw.hex }
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }
    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { a.raw < b.raw }
}

/// A team's id: the id of the team's genesis event. All zero until a roster exists.
public struct TeamID: Hashable, Sendable {
    public var raw: Bytes32
    public init(_ raw: Bytes32) { self.raw = raw }
    public static let none = TeamID(.zero)
    public var hex: String { raw.hex }
}
