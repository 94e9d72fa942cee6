import Foundation
import GlossModel

/// The version-vector file (Protocol/05-bundle.md §Vector file), used by `gloss vector`, as-of
/// points and `bundle export --for`:
///
/// ```json
/// {"gloss": "version-vector", "format": 1, "replica": "<writer's id>", "vector": {"<replica id>": 12}}
/// ```
public enum VectorFile {
    public static let maxBytes = 128 * 1024 * 1024

    public static func encode(_ v: VersionVector, writer: ReplicaID?) -> String {
        var kv: [(String, JSON)] = [("gloss", .string("version-vector")), ("format", .int(1))]
        if let writer { kv.append(("replica", .string(writer.hex))) }
        kv.append(("vector", JSON(v)))
        return JSON.object(kv).pretty + "\n"
    }

    public static func read(path: String) throws -> VersionVector {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path), let size = attrs[.size] as? NSNumber else {
            throw GlossError(.notFound, "cannot read the vector file \(path)")
        }
        guard size.intValue <= maxBytes else { throw GlossError(.badInput, "\(path) is \(size) bytes, over the \(maxBytes)-byte limit for vector files") }
        guard let data = FileManager.default.contents(atPath: path) else { throw GlossError(.notFound, "cannot read the vector file \(path)") }
        return try decode(data, name: path)
    }

    public static func decode(_ data: Data, name: String) throws -> VersionVector {
        let bad = { (why: String) in GlossError(.badInput, "\(name) is not a Gloss version-vector file: \(why). Write one with `gloss vector --out FILE`.") }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw bad("not a JSON object") }
        guard obj["gloss"] as? String == "version-vector" else { throw bad("\"gloss\" is not \"version-vector\"") }
        guard (obj["format"] as? NSNumber)?.intValue == 1 else { throw bad("unsupported \"format\" (this build reads format 1)") }
        guard let entries = obj["vector"] as? [String: Any] else { throw bad("\"vector\" is missing or not an object") }
        guard entries.count <= ProtocolLimits.maxVectorEntries else { throw bad("more than \(ProtocolLimits.maxVectorEntries) entries") }
        var v = VersionVector()
        for (k, value) in entries {
            guard let r = ReplicaID(hex: k.lowercased()) else { throw bad("\"\(k.prefix(70))\" is not a 64-digit replica id") }
            guard let n = value as? NSNumber, n.doubleValue == Double(n.int64Value), n.int64Value >= 0 else { throw bad("the seq of \(r.short) is not a non-negative integer") }
            v[r] = UInt64(n.int64Value)
        }
        return v
    }
}
