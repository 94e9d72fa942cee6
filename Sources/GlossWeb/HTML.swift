/// The one escaping function of the web view, used for every value that comes from the log or a
/// request, in text and in (double-quoted) attributes alike.
///
/// Besides the five HTML metacharacters it neutralises what could change how text *looks*
/// without changing what it says: bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E,
/// U+200F, U+061C; "Trojan Source") are shown as a visible `⟦U+202E⟧`, and C0/C1 controls other
/// than tab and newline as `⟦U+0000⟧`, so a note can neither reorder the page nor hide text.
public enum HTML {
    public static func escape(_ s: String) -> String {
        // Fast path: most values need nothing.
        if !s.unicodeScalars.contains(where: needsWork) { return s }
        // A String, appended to with `+=`: `String.UnicodeScalarView.append(contentsOf:)` copies the
        // whole view at each call, which made an article of quotes and apostrophes render in time
        // quadratic in its length (800 KB: 23 s; an audit, 2026-12-07).
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if isControl(u) {
                    out += "⟦U+\(hex4(u.value))⟧"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// Percent-encodes a value for a URL query or path segment (then escaped as an attribute by the caller).
    public static func urlComponent(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                out += "%" + hex2(b)
            }
        }
        return out
    }

    static func needsWork(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case "&", "<", ">", "\"", "'": true
        default: isControl(u)
        }
    }

    /// Bidirectional formatting characters and controls other than tab, newline and carriage return.
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09, 0x0A, 0x0D: false
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    private static func hex2(_ b: UInt8) -> String {
        let h = String(b, radix: 16, uppercase: true)
        return h.count == 1 ? "0" + h : h
    }
}

/// Short for `HTML.escape`.
@inline(__always) func h(_ s: String) -> String { HTML.escape(s) }
/// An id shortened for display (12 hex digits), escaped.
func short(_ id: String) -> String { h(String(id.prefix(12))) }
