/// A payload value: the deterministic subset of CBOR (RFC 8949 §4.2.1) that Gloss payloads use
/// (Protocol/02-payloads.md): integers, byte and text strings, arrays, maps with text keys,
/// false, true and null. Definite lengths only; no floats, no tags.
public indirect enum CBOR: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    case map([String: CBOR])

    // MARK: Encoding

    /// Deterministic encoding: shortest heads, map keys in bytewise order of their encodings.
    public var encoded: [UInt8] {
        var out = [UInt8]()
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(0xF6)
        case .bool(let b): out.append(b ? 0xF5 : 0xF4)
        case .int(let v):
            if v >= 0 { CBOR.head(0, UInt64(v), &out) } else { CBOR.head(1, UInt64(-1 - v), &out) }
        case .bytes(let b): CBOR.head(2, UInt64(b.count), &out); out.append(contentsOf: b)
        case .text(let s): CBOR.head(3, UInt64(s.utf8.count), &out); out.append(contentsOf: s.utf8)
        case .array(let a): CBOR.head(4, UInt64(a.count), &out); for v in a { v.encode(into: &out) }
        case .map(let m):
            CBOR.head(5, UInt64(m.count), &out)
            // Text keys: encoded order is (length, bytes) order.
            let keys = m.keys.sorted { a, b in
                let (ua, ub) = (a.utf8, b.utf8)
                return ua.count != ub.count ? ua.count < ub.count : ua.lexicographicallyPrecedes(ub)
            }
            for k in keys { CBOR.text(k).encode(into: &out); m[k]!.encode(into: &out) }
        }
    }

    private static func head(_ major: UInt8, _ v: UInt64, _ out: inout [UInt8]) {
        let m = major << 5
        switch v {
        case 0..<24: out.append(m | UInt8(v))
        case 24...0xFF: out.append(m | 24); out.append(UInt8(v))
        case 0x100...0xFFFF: out.append(m | 25); for s in [8, 0] { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
        case 0x1_0000...0xFFFF_FFFF: out.append(m | 26); for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
        default: out.append(m | 27); for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
        }
    }

    // MARK: Decoding

    /// Decodes untrusted bytes: the whole input must be exactly one value within the limits.
    public init(decoding bytes: [UInt8]) throws {
        guard bytes.count <= ProtocolLimits.maxPayloadBytes else {
            throw DecodeError("payload is \(bytes.count) bytes, over the limit of \(ProtocolLimits.maxPayloadBytes)")
        }
        var r = ByteReader(bytes)
        self = try CBOR.decodeValue(&r, depth: 0)
        guard r.remaining == 0 else { throw DecodeError("\(r.remaining) bytes follow the payload value") }
    }

    private static func decodeValue(_ r: inout ByteReader, depth: Int) throws -> CBOR {
        guard depth < ProtocolLimits.maxPayloadDepth else { throw DecodeError("payload nests deeper than \(ProtocolLimits.maxPayloadDepth)") }
        let ib = try r.u8("cbor head")
        let major = ib >> 5, info = ib & 31
        if major == 7 {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            default: throw DecodeError("unsupported CBOR simple value or float (\(info))")
            }
        }
        let arg: UInt64
        switch info {
        case 0..<24: arg = UInt64(info)
        case 24: arg = UInt64(try r.u8("cbor argument"))
        case 25: arg = UInt64(try r.u16("cbor argument"))
        case 26: arg = UInt64(try r.u32("cbor argument"))
        case 27: arg = try r.u64("cbor argument")
        default: throw DecodeError("indefinite or reserved CBOR length (\(info)) is not supported")
        }
        switch major {
        case 0:
            guard arg <= UInt64(Int64.max) else { throw DecodeError("integer out of range") }
            return .int(Int64(arg))
        case 1:
            guard arg <= UInt64(Int64.max) else { throw DecodeError("integer out of range") }
            return .int(-1 - Int64(arg))
        case 2, 3:
            guard arg <= UInt64(r.remaining) else { throw DecodeError("truncated: string of \(arg) bytes, \(r.remaining) remain") }
            let s = try r.take(Int(arg), "cbor string")
            if major == 2 { return .bytes(Array(s)) }
            guard let t = String(validating: s, as: UTF8.self) else { throw DecodeError("text string is not valid UTF-8") }
            // Before the text is hashed (a map key) or compared anywhere (Protocol/02 §Text).
            if let run = NFC.longRun(in: t) { throw DecodeError("text string: \(run)") }
            return .text(t)
        case 4:
            // Each element takes at least one byte, so a count above what remains is a lie.
            guard arg <= UInt64(r.remaining) else { throw DecodeError("truncated: array of \(arg) items, \(r.remaining) bytes remain") }
            var a: [CBOR] = []; a.reserveCapacity(Int(arg))
            for _ in 0..<arg { a.append(try decodeValue(&r, depth: depth + 1)) }
            return .array(a)
        case 5:
            guard arg <= UInt64(r.remaining / 2) else { throw DecodeError("truncated: map of \(arg) entries, \(r.remaining) bytes remain") }
            var m: [String: CBOR] = [:]; m.reserveCapacity(Int(arg))
            for _ in 0..<arg {
                guard case .text(let k) = try decodeValue(&r, depth: depth + 1) else { throw DecodeError("map key is not a text string") }
                // Keys are field names; a long one would only cost its hashing (by canonical
                // equivalence: ~0.2 s per MB of short runs of combining marks).
                guard k.utf8.count <= ProtocolLimits.maxPayloadKeyBytes else {
                    throw DecodeError("map key of \(k.utf8.count) bytes; at most \(ProtocolLimits.maxPayloadKeyBytes)")
                }
                let v = try decodeValue(&r, depth: depth + 1)
                guard m.updateValue(v, forKey: k) == nil else { throw DecodeError("map key \"\(k.prefix(32))\" appears twice") }
            }
            return .map(m)
        default:
            throw DecodeError("CBOR tags are not supported")
        }
    }
}

/// Typed access to a payload map, throwing `DecodeError` that names the field.
public struct CBORFields {
    public let map: [String: CBOR]
    public init(_ value: CBOR) throws {
        guard case .map(let m) = value else { throw DecodeError("payload is not a map") }
        map = m
    }
    public func text(_ k: String) throws -> String {
        guard case .text(let s)? = map[k] else { throw DecodeError("field \(k) is missing or not text") }
        return s
    }
    public func optionalText(_ k: String) throws -> String? {
        switch map[k] {
        case nil, .null?: return nil
        case .text(let s)?: return s
        default: throw DecodeError("field \(k) is not text")
        }
    }
    public func int(_ k: String) throws -> Int64 {
        guard case .int(let v)? = map[k] else { throw DecodeError("field \(k) is missing or not an integer") }
        return v
    }
    public func optionalInt(_ k: String) throws -> Int64? {
        switch map[k] {
        case nil, .null?: return nil
        case .int(let v)?: return v
        default: throw DecodeError("field \(k) is not an integer")
        }
    }
    public func textArray(_ k: String) throws -> [String] {
        switch map[k] {
        case nil, .null?: return []
        case .array(let a)?:
            return try a.map { guard case .text(let s) = $0 else { throw DecodeError("field \(k) holds a non-text item") }; return s }
        default: throw DecodeError("field \(k) is not an array")
        }
    }
    public func array(_ k: String) throws -> [CBOR] {
        switch map[k] {
        case nil, .null?: return []
        case .array(let a)?: return a
        default: throw DecodeError("field \(k) is not an array")
        }
    }
}
