import Foundation
import GlossEngine
import GlossModel
import GlossTestSupport
import Testing

@Suite struct PayloadVectorTests {
    let file = repositoryRoot().appendingPathComponent("Protocol/vectors/payloads.json")

    func loaded() throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: file.path), "missing \(file.path)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func vectorFileIsExactlyWhatTheGeneratorProduces() throws {
        let generated = PayloadVectors.json().pretty + "\n"
        if ProcessInfo.processInfo.environment["GLOSS_WRITE_VECTORS"] == "1" {
            try generated.write(to: file, atomically: true, encoding: .utf8)
        }
        let onDisk = try String(contentsOf: file, encoding: .utf8)
        #expect(onDisk == generated, "Protocol/vectors/payloads.json differs from the generator's output: payload rules or encodings changed")
    }

    @Test func validVectorsAreUnderstoodAndRoundTrip() throws {
        let valid = try #require(try loaded()["valid"] as? [[String: Any]])
        var types = Set<String>()
        for v in valid {
            let name = v["name"] as! String, type = v["type"] as! String
            let bytes = try #require(Hex.decode(v["cbor"] as! String), "\(name)")
            #expect(v["understood"] as? Bool == true, "\(name)")
            let decoded = DecodedPayload(type: type, schema: UInt16(v["schema"] as! Int), payload: bytes)
            if case .notUnderstood(let reason) = decoded { Issue.record("\(name): not understood: \(reason)"); continue }
            types.insert(type)
            if v["roundTrip"] as? Bool == true {
                #expect(PayloadVectors.reencoded(decoded) == bytes, "\(name): re-encoding the decoded payload changes the bytes")
            }
            if v["deterministic"] as? Bool == true {
                #expect(try CBOR(decoding: bytes).encoded == bytes, "\(name): not in deterministic encoding")
            }
            switch decoded {
            case .factAdded(let p): #expect(p.record.text == v["recordText"] as? String, "\(name)")
            case .factAmended(let p): #expect(p.record.text == v["recordText"] as? String, "\(name)")
            default: #expect(v["recordText"] == nil, "\(name)")
            }
        }
        #expect(types == Set(DecodedPayload.known.keys), "every known type has a valid vector")
    }

    /// A record text (the register value, and a `ConflictResolved` record value) parses back to its
    /// record, for every vector's record, even when a value starts with a combining mark.
    @Test func recordTextsParseBack() throws {
        let valid = try #require(try loaded()["valid"] as? [[String: Any]])
        var texts = valid.compactMap { $0["recordText"] as? String }
        texts.append(FactRecord(subject: "\u{0301}x", predicate: "p\u{0301}", object: "o", when: "\u{20DD}", where: nil, source: nil).text)
        #expect(texts.count >= 4)
        for t in texts {
            let r = try? FactRecord(text: t)
            #expect(r?.text == t, "record text does not parse back: \(t.debugDescription)")
        }
    }

    @Test func invalidVectorsAreNotUnderstood() throws {
        let invalid = try #require(try loaded()["invalid"] as? [[String: Any]])
        #expect(invalid.count >= 40)
        for v in invalid {
            let name = v["name"] as! String
            let bytes = try #require(Hex.decode(v["cbor"] as! String), "\(name)")
            #expect(v["understood"] as? Bool == false, "\(name)")
            #expect((v["reason"] as? String)?.isEmpty == false, "\(name)")
            let decoded = DecodedPayload(type: v["type"] as! String, schema: UInt16(v["schema"] as! Int), payload: bytes)
            guard case .notUnderstood = decoded else { Issue.record("\(name): understood, but the vector says it must not be"); continue }
        }
    }
}
