import GlossModel

/// A JSON value with ordered object keys, written deterministically: the project's one JSON writer
/// (`--json` output, vector files, test vectors and, through `ExportJSON`, the exports).
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.compact == b.compact }

    public subscript(key: String) -> JSON? {
        guard case .object(let kv) = self else { return nil }
        return kv.first { $0.0 == key }?.1
    }

    /// How strings are escaped. Both escape `"`, `\\` and controls below U+0020.
    public enum Escaping: Sendable {
        /// Also U+2028 and U+2029, so the text can be pasted into JavaScript, and DEL and the C1
        /// controls (U+007F–U+009F), so that output a terminal shows is never a control sequence
        /// and never needs rewriting after it is written (`--json` output).
        case lineSeparators
        /// Nothing else: every other character as UTF-8 (Protocol/10-export.md §1).
        case minimal
    }

    /// One line, no spaces.
    public var compact: String { compact(escaping: .lineSeparators) }
    /// Two-space indentation.
    public var pretty: String { pretty(escaping: .lineSeparators) }

    public func compact(escaping: Escaping) -> String { var s = ""; write(&s, indent: nil, level: 0, escaping); return s }
    public func pretty(escaping: Escaping) -> String { var s = ""; write(&s, indent: "  ", level: 0, escaping); return s }

    private func write(_ out: inout String, indent: String?, level: Int, _ escaping: Escaping) {
        func nl(_ l: Int) { if let indent { out += "\n" + String(repeating: indent, count: l) } }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? String(d) : "null"
        case .string(let s): JSON.quote(s, &out, escaping)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, v) in a.enumerated() { if i > 0 { out += "," }; nl(level + 1); v.write(&out, indent: indent, level: level + 1, escaping) }
            nl(level); out += "]"
        case .object(let kv):
            if kv.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (k, v)) in kv.enumerated() {
                if i > 0 { out += "," }
                nl(level + 1); JSON.quote(k, &out, escaping); out += indent == nil ? ":" : ": "
                v.write(&out, indent: indent, level: level + 1, escaping)
            }
            nl(level); out += "}"
        }
    }

    static func quote(_ s: String, _ out: inout String, _ escaping: Escaping) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || (escaping == .lineSeparators && (u.value == 0x2028 || u.value == 0x2029 || (0x7F...0x9F).contains(u.value))):
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }

    /// A payload value as JSON (byte strings as hex).
    public init(_ c: CBOR) {
        switch c {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .bytes(let b): self = .string(Hex.encode(b))
        case .text(let s): self = .string(s)
        case .array(let a): self = .array(a.map(JSON.init))
        case .map(let m): self = .object(m.keys.sorted().map { ($0, JSON(m[$0]!)) })
        }
    }

    public init(_ v: VersionVector) {
        self = .object(v.sorted.map { ($0.replica.hex, .int(Int64($0.seq))) })
    }
}
