import Crypto
import GlossJSON
import GlossModel

/// A JSON value written deterministically: object keys sorted by their UTF-8 bytes, no insignificant
/// whitespace except the optional two-space indentation, strings escaped minimally (`"` `\` and
/// controls below U+0020; everything else as UTF-8). The same value gives the same bytes on every
/// platform (Protocol/10-export.md §1).
public indirect enum ExportJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([ExportJSON])
    case object([String: ExportJSON])

    /// The document with two-space indentation and a final newline.
    public var pretty: String { value.pretty(escaping: .minimal) + "\n" }
    /// One line, no spaces.
    public var compact: String { value.compact(escaping: .minimal) }

    public subscript(key: String) -> ExportJSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Keys sorted by their UTF-8 bytes, written by the one JSON writer with minimal escaping.
    var value: JSON {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .string(let s): .string(s)
        case .array(let a): .array(a.map(\.value))
        case .object(let o):
            .object(o.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).map { ($0, o[$0]!.value) })
        }
    }
}

/// Name-based UUIDs (RFC 9562 version 5: SHA-1 of namespace and name), lowercase text form.
public enum UUIDv5 {
    /// The namespace of every Gloss export id: UUIDv5 of the RFC 9562 URL namespace and `urn:gloss`.
    public static let glossNamespace = make(namespace: urlNamespace, name: "urn:gloss")
    /// RFC 9562 `NameSpace_URL`, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
    public static let urlNamespace: [UInt8] = [0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                               0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8]

    /// The 16 bytes of the UUIDv5 of `name` (UTF-8) in `namespace`.
    public static func make(namespace: [UInt8], name: String) -> [UInt8] {
        var h = Insecure.SHA1()
        h.update(data: namespace)
        h.update(data: Array(name.utf8))
        var b = Array(h.finalize().prefix(16))
        b[6] = (b[6] & 0x0F) | 0x50
        b[8] = (b[8] & 0x3F) | 0x80
        return b
    }

    /// `xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx`.
    public static func string(_ b: [UInt8]) -> String {
        let hex = Hex.encode(b)
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    /// The UUIDv5 of `name` in the Gloss namespace, as text.
    public static func gloss(_ name: String) -> String { string(make(namespace: glossNamespace, name: name)) }
}

/// RFC 3339 UTC with milliseconds (`2021-06-26T10:04:05.123Z`) for milliseconds since the epoch.
public func exportTimestamp(_ milliseconds: UInt64) -> String { CivilTime.rfc3339(milliseconds: milliseconds) }
