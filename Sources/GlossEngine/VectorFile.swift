import Foundation
import GlossJSON
import GlossModel

/// The version-vector file (Protocol/05-bundle.md §Vector file), used by `gloss vector`, as-of
/// points and `bundle export --for`:
///
/// ```json
/// {"gloss": "version-vector", "format": 1, "replica": "<writer's id>", "vector": {"<replica id>": 12}}
/// ```
///
/// Read strictly, by a scanner for this one format (JSONSerialization would accept `true`, `3.0`
/// and `1e1` as numbers and silently keep one of two duplicate keys): the four keys above and no
/// other, each at most once; strings without escapes; replica ids exactly 64 lowercase hex digits; seqs plain JSON integers
/// 0 … 2^63 − 1 (no sign, fraction or exponent); at most 1,000,000 entries; at most 128 MiB.
public enum VectorFile {
    public static let maxBytes = 128 * 1024 * 1024

    public static func encode(_ v: VersionVector, writer: ReplicaID?) -> String {
        var kv: [(String, JSON)] = [("gloss", .string("version-vector")), ("format", .int(1))]
        if let writer { kv.append(("replica", .string(writer.hex))) }
        kv.append(("vector", JSON(v)))
        return JSON.object(kv).pretty + "\n"
    }

    public static func read(path: String) throws -> VersionVector { try readFile(path: path).vector }

    /// The vector and the `replica` that wrote the file (when the file names it).
    public static func readFile(path: String) throws -> (vector: VersionVector, writer: ReplicaID?) {
        let data = try Replica.readInputFile(path, limit: maxBytes, what: "a version-vector file (`gloss vector --out FILE` writes one)")
        return try decodeFile(data, name: path)
    }

    public static func decode(_ data: Data, name: String) throws -> VersionVector { try decodeFile(data, name: name).vector }

    public static func decodeFile(_ data: Data, name: String) throws -> (vector: VersionVector, writer: ReplicaID?) {
        guard data.count <= maxBytes else { throw GlossError(.badInput, "\(name) is over the \(maxBytes)-byte (128 MiB) limit for vector files") }
        do {
            return try data.withUnsafeBytes { raw in
                var s = Scanner(bytes: raw.bindMemory(to: UInt8.self))
                let v = try s.file()
                return (v, s.writer)
            }
        } catch let why as Scanner.Failure {
            throw GlossError(.badInput, "\(name) is not a Gloss version-vector file: \(why.message). Write one with `gloss vector --out FILE`.")
        }
    }

    /// A strict scanner for exactly the vector-file format (RFC 8259 syntax, this format's keys).
    struct Scanner {
        struct Failure: Error { var message: String }

        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        /// The file's `replica`, when present.
        var writer: ReplicaID?

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func fail(_ m: String) -> Failure { Failure(message: m) }

        mutating func file() throws -> VersionVector {
            skipSpace()
            guard peek == UInt8(ascii: "{") else { throw fail("not a JSON object") }
            i += 1
            var seen: Set<String> = []
            var gloss: String?, format: String?, vector: VersionVector?
            var first = true
            while true {
                skipSpace()
                if peek == UInt8(ascii: "}") && first { i += 1; break }
                let key = try string()
                guard ["gloss", "format", "replica", "vector"].contains(key) else {
                    throw fail("unknown key \"\(key.prefix(70))\" (a format-1 file holds only \"gloss\", \"format\", \"replica\" and \"vector\")")
                }
                guard seen.insert(key).inserted else { throw fail("the key \"\(key)\" appears twice") }
                try colon()
                switch key {
                case "gloss":
                    guard peek == UInt8(ascii: "\"") else { throw fail("\"gloss\" is not a string") }
                    gloss = try string()
                case "format":
                    format = try integer(what: "\"format\"")
                case "replica":
                    guard peek == UInt8(ascii: "\"") else { throw fail("\"replica\" is not a string") }
                    let r = try string()
                    guard VectorFile.isReplicaID(r) else { throw fail("\"replica\" \"\(r.prefix(70))\" is not a replica id (exactly 64 lowercase hex digits)") }
                    writer = ReplicaID(hex: r)
                default:
                    vector = try entries()
                }
                skipSpace()
                first = false
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "}") { i += 1; break }
                throw syntax("expected , or } after the value of \"\(key)\"")
            }
            skipSpace()
            guard i == bytes.count else { throw syntax("text after the JSON object") }
            guard gloss == "version-vector" else { throw fail(gloss == nil ? "\"gloss\" is missing" : "\"gloss\" is not \"version-vector\"") }
            guard format == "1" else { throw fail("unsupported \"format\" (this build reads format 1)") }
            guard let vector else { throw fail("\"vector\" is missing") }
            return vector
        }

        /// The `vector` object: replica id → seq.
        mutating func entries() throws -> VersionVector {
            guard peek == UInt8(ascii: "{") else { throw fail("\"vector\" is not an object") }
            i += 1
            var v: [ReplicaID: UInt64] = [:]
            skipSpace()
            if peek == UInt8(ascii: "}") { i += 1; return VersionVector(v) }
            while true {
                skipSpace()
                guard let r = try replicaKey() else {
                    let key = try string()
                    throw fail("the key \"\(key.prefix(70))\" in \"vector\" is not a replica id (exactly 64 lowercase hex digits)")
                }
                try colon()
                let digits = try integer(what: "the seq of \(r.short)")
                guard digits.count <= 19, let n = UInt64(digits), n <= ProtocolLimits.maxSeq else {
                    throw fail("the seq of \(r.short) (\(digits.prefix(40))) is out of range: seqs run 0 … 2^63 − 1 (9223372036854775807)")
                }
                guard v.updateValue(n, forKey: r) == nil else { throw fail("the replica id \(r.hex) appears twice in \"vector\"") }
                guard v.count <= ProtocolLimits.maxVectorEntries else { throw fail("more than \(ProtocolLimits.maxVectorEntries) entries") }
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "}") { i += 1; break }
                throw syntax("expected , or } in \"vector\"")
            }
            return VersionVector(v)
        }

        /// A key of exactly 64 lowercase hex digits, without escapes, as a replica id (the fast path
        /// for a million entries); nil, consuming nothing, for anything else.
        mutating func replicaKey() throws -> ReplicaID? {
            guard i + 66 <= bytes.count, bytes[i] == UInt8(ascii: "\""), bytes[i + 65] == UInt8(ascii: "\"") else { return nil }
            var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            for k in 0..<4 {
                var v: UInt64 = 0
                for d in 0..<16 {
                    guard let n = Scanner.lowerHex(bytes[i + 1 + 16 * k + d]) else { return nil }
                    v = v << 4 | UInt64(n)
                }
                switch k { case 0: w.0 = v; case 1: w.1 = v; case 2: w.2 = v; default: w.3 = v }
            }
            i += 66
            return ReplicaID(Bytes32(w0: w.0, w1: w.1, w2: w.2, w3: w.3))
        }

        static func lowerHex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        func syntax(_ what: String) -> Failure { fail("invalid JSON at byte \(i): \(what)") }

        mutating func colon() throws {
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw syntax("expected :") }
            i += 1
            skipSpace()
        }

        /// A JSON number that must be a plain non-negative integer: its digits.
        mutating func integer(what describe: @autoclosure () -> String) throws -> String {
            let start = i
            if peek == UInt8(ascii: "-") { i += 1 }
            let intStart = i
            while let c = peek, c >= 0x30, c <= 0x39 { i += 1 }
            let intDigits = i - intStart
            var fraction = false, exponent = false
            if peek == UInt8(ascii: ".") {
                fraction = true; i += 1
                let f = i
                while let c = peek, c >= 0x30, c <= 0x39 { i += 1 }
                if i == f { throw syntax("a number ends in a point") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                exponent = true; i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                let e = i
                while let c = peek, c >= 0x30, c <= 0x39 { i += 1 }
                if i == e { throw syntax("an exponent has no digits") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            if intDigits == 0 {
                // Not a number at all: say what it is.
                i = start
                if let c = peek, c == UInt8(ascii: "t") || c == UInt8(ascii: "f") { throw fail("\(describe()) is a boolean, not an integer") }
                if peek == UInt8(ascii: "n") { throw fail("\(describe()) is null, not an integer") }
                if peek == UInt8(ascii: "\"") { throw fail("\(describe()) is a string, not an integer") }
                throw fail("\(describe()) is not an integer")
            }
            if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") { throw syntax("a number has a leading zero") }
            if bytes[start] == UInt8(ascii: "-") { throw fail("\(describe()) (\(text.prefix(40))) is negative: seqs and the format are non-negative integers") }
            if fraction || exponent { throw fail("\(describe()) (\(text.prefix(40))) is not written as a plain integer (no fraction, no exponent)") }
            return text
        }

        /// A JSON string without escapes (Protocol/05-bundle.md §Vector file: one spelling per file).
        mutating func string() throws -> String {
            guard peek == UInt8(ascii: "\"") else { throw syntax("expected a string") }
            i += 1
            let start = i
            while true {
                guard let c = peek else { throw syntax("a string is not closed") }
                switch c {
                case UInt8(ascii: "\""):
                    i += 1
                    guard let s = String(validating: bytes[start..<(i - 1)], as: UTF8.self) else { throw syntax("a string is not valid UTF-8") }
                    return s
                case UInt8(ascii: "\\"): throw fail("a string holds an escape (\\); vector files are written without escapes — write the text itself")
                case 0..<0x20: throw syntax("a control character in a string")
                default: i += 1
                }
            }
        }
    }

    /// Exactly 64 lowercase hex digits.
    static func isReplicaID(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
