/// Appends big-endian integers and length-prefixed fields to a byte buffer.
public struct ByteWriter {
    public var bytes: [UInt8]
    public init(capacity: Int = 256) { bytes = []; bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }
    public mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    public mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    public mutating func b32(_ v: Bytes32) { v.append(to: &bytes) }
    public mutating func raw<C: Sequence>(_ v: C) where C.Element == UInt8 { bytes.append(contentsOf: v) }
}

/// Reads big-endian integers from untrusted bytes; every read is bounds-checked and throws
/// `DecodeError` instead of trapping.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    public init(_ bytes: [UInt8], offset: Int = 0) { self.bytes = bytes; self.offset = offset }

    public var remaining: Int { bytes.count - offset }

    @inline(__always) private mutating func need(_ n: Int, _ what: StaticString) throws {
        guard n >= 0, remaining >= n else {
            throw DecodeError("truncated: \(what) needs \(n) bytes at offset \(offset), \(remaining) remain")
        }
    }
    public mutating func u8(_ what: StaticString) throws -> UInt8 {
        try need(1, what); defer { offset += 1 }; return bytes[offset]
    }
    public mutating func u16(_ what: StaticString) throws -> UInt16 {
        try need(2, what); defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
    public mutating func u32(_ what: StaticString) throws -> UInt32 {
        try need(4, what); var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[offset + i]) }
        offset += 4; return v
    }
    public mutating func u64(_ what: StaticString) throws -> UInt64 {
        try need(8, what); var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8; return v
    }
    public mutating func b32(_ what: StaticString) throws -> Bytes32 {
        try need(32, what); defer { offset += 32 }; return Bytes32(bytes, at: offset)
    }
    public mutating func take(_ n: Int, _ what: StaticString) throws -> ArraySlice<UInt8> {
        try need(n, what); defer { offset += n }; return bytes[offset..<offset + n]
    }
}

/// A decoder's complaint about bytes it was given: what was wrong, never the content itself.
public struct DecodeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
