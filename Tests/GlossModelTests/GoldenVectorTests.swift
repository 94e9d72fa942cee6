import GlossSync
import Foundation
import GlossEngine
import GlossModel
import GlossTestSupport
import Testing

@Suite struct GoldenVectorTests {
    let file = repositoryRoot().appendingPathComponent("Protocol/vectors/events.json")

    func loaded() throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: file.path), "missing \(file.path)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func vectorFileIsExactlyWhatTheEncoderProduces() throws {
        let generated = GoldenVectors.events().pretty + "\n"
        if ProcessInfo.processInfo.environment["GLOSS_WRITE_VECTORS"] == "1" {
            try generated.write(to: file, atomically: true, encoding: .utf8)
        }
        let onDisk = try String(contentsOf: file, encoding: .utf8)
        #expect(onDisk == generated, "Protocol/vectors/events.json differs from the encoder's output: the byte format changed")
    }

    @Test func validVectorsDecodeVerifyAndHashAsStated() throws {
        let events = try #require(try loaded()["events"] as? [[String: Any]])
        #expect(events.count >= 5)
        for v in events {
            let env = try EventEnvelope(decoding: Hex.decode(v["envelope"] as! String)!)
            let payload = Hex.decode(v["payload"] as! String)!
            #expect(env.id.hex == v["id"] as! String)
            #expect(env.replica.hex == v["replica"] as! String)
            #expect(try ReplicaKey(seed: Hex.decode(v["seed"] as! String)!).replicaID == env.replica)
            #expect(env.seq == UInt64(v["seq"] as! Int))
            #expect(env.prev.hex == v["prev"] as! String)
            #expect(env.time.raw == UInt64(v["time"] as! Int))
            #expect(env.author == v["author"] as! String)
            #expect(env.type == v["type"] as! String)
            #expect(env.payloadHash.hex == v["payloadHash"] as! String)
            #expect(env.matches(payload: payload))
            #expect(env.hasValidSignature(), "signature of \(v["name"]!)")
        }
    }

    @Test func tamperedVectorsFailForTheStatedReason() throws {
        let invalid = try #require(try loaded()["invalid"] as? [[String: Any]])
        #expect(invalid.count >= 10)
        for v in invalid {
            let name = v["name"] as! String
            let bytes = Hex.decode(v["envelope"] as! String)!
            let payload = Hex.decode(v["payload"] as! String)!
            switch v["reason"] as! String {
            case "structure":
                #expect(throws: DecodeError.self, "\(name)") { try EventEnvelope(decoding: bytes) }
            case "signature":
                let env = try EventEnvelope(decoding: bytes)
                #expect(!env.hasValidSignature(), "\(name)")
            case "payload-hash":
                let env = try EventEnvelope(decoding: bytes)
                #expect(env.hasValidSignature(), "\(name)")
                #expect(!env.matches(payload: payload), "\(name)")
            default:
                Issue.record("unknown reason in \(name)")
            }
        }
    }
}

@Suite struct TamperDetectionTests {
    @Test func flippingAnyEnvelopeByteIsDetected() throws {
        let key = fixedKey("tamper")
        let other = fixedKey("tamper-other")
        let payload = NoteAdded(on: String(repeating: "a", count: 64), body: "body ✓").encoded
        let env = EventEnvelope(key: key, seq: 3, prev: EventID(Bytes32.sha256([1])), time: HybridTime(milliseconds: 42),
                                depsDelta: [(replica: other.replicaID, seq: 7)], author: "ana", type: NoteAdded.type,
                                schema: 1, payload: payload)
        #expect(env.hasValidSignature())
        for i in env.bytes.indices {
            for bit in [UInt8(0x01), 0x80] {
                var b = env.bytes
                b[i] ^= bit
                #expect(EventID(Bytes32.sha256(b)) != env.id)
                if let decoded = try? EventEnvelope(decoding: b) {
                    #expect(!decoded.hasValidSignature(), "flip of bit \(bit) at byte \(i) went unnoticed")
                }
            }
        }
    }

    @Test func flippingAnyPayloadByteIsDetected() throws {
        let key = fixedKey("tamper")
        let payload = NoteAdded(on: String(repeating: "b", count: 64), body: "a note").encoded
        let env = EventEnvelope(key: key, seq: 1, prev: .zero, time: HybridTime(milliseconds: 1), depsDelta: [],
                                author: "ana", type: NoteAdded.type, schema: 1, payload: payload)
        #expect(env.matches(payload: payload))
        for i in payload.indices {
            var p = payload
            p[i] ^= 0x04
            #expect(!env.matches(payload: p), "payload flip at \(i)")
        }
        #expect(!env.matches(payload: payload + [0]))
    }

    @Test func randomBytesNeverCrashTheDecoders() {
        var rng = SplitMix64(seed: testSeed("random-bytes"))
        let valid = EventEnvelope(key: fixedKey("x"), seq: 1, prev: .zero, time: .zero, depsDelta: [], author: "a",
                                  type: "T", schema: 1, payload: [0xA0]).bytes
        for _ in 0..<20_000 {
            var b: [UInt8]
            if Bool.random(using: &rng) {
                b = (0..<Int.random(in: 0..<300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                b = valid
                for _ in 0..<Int.random(in: 1...4, using: &rng) { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                if Bool.random(using: &rng) { b = Array(b.prefix(Int.random(in: 0...b.count, using: &rng))) }
            }
            _ = try? EventEnvelope(decoding: b)
            _ = try? CBOR(decoding: b)
        }
    }
}

@Suite struct GoldenBundleTests {
    @Test func bundleVectorIsExactlyWhatTheWriterProduces() throws {
        let dir = repositoryRoot().appendingPathComponent("Protocol/vectors")
        let tmp = TempDir("gloss-bundle-vector")
        defer { tmp.remove() }
        let description = try GoldenVectors.bundles(in: tmp.url).pretty + "\n"
        let files = ["bundle-basic.glossb", "bundle-fork.glossb"]
        if ProcessInfo.processInfo.environment["GLOSS_WRITE_VECTORS"] == "1" {
            for f in files {
                try? FileManager.default.removeItem(at: dir.appendingPathComponent(f))
                try FileManager.default.copyItem(at: tmp.sub(f), to: dir.appendingPathComponent(f))
            }
            try description.write(to: dir.appendingPathComponent("bundles.json"), atomically: true, encoding: .utf8)
        }
        for f in files { #expect(try Data(contentsOf: dir.appendingPathComponent(f)) == Data(contentsOf: tmp.sub(f)), "\(f)") }
        #expect(try String(contentsOf: dir.appendingPathComponent("bundles.json"), encoding: .utf8) == description)
    }
}

extension GoldenBundleTests {
    @Test func theGoldenBundleImports() throws {
        let tmp = TempDir("gloss-golden-import")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "zed", clock: MockClock().function)
        let rep = try r.importBundle(at: repositoryRoot().appendingPathComponent("Protocol/vectors/bundle-basic.glossb"))
        #expect(rep.summary.applied == 5 && rep.clean && rep.checksumOK == true)
        let s = try r.status()
        #expect(s.articles == 1 && s.notes == 0)   // A2's note was edited by B1, then deleted by A3
        #expect(s.notUnderstood == 1)              // B2: unknown type, payload purged
        #expect(try r.verify().faults.isEmpty)
    }

    /// The format 2 golden bundle cut short at every 7th byte (and just before its trailer): a cut
    /// in the header applies nothing (65), any other is reported as cut, acknowledges nothing, and
    /// freezes B's feed only once both evidence records are whole; the log always verifies.
    @Test func theGoldenForkBundleCutAnywhereIsBelievedOnlyAsFarAsItGoes() throws {
        let tmp = TempDir("gloss-golden-fork-cuts")
        defer { tmp.remove() }
        let whole = try Array(Data(contentsOf: repositoryRoot().appendingPathComponent("Protocol/vectors/bundle-fork.glossb")))
        let recordsEnd = whole.count - 48
        for cut in Array(stride(from: 0, to: whole.count, by: 7)) + [recordsEnd - 1, recordsEnd, whole.count - 1] {
            let r = try Replica.create(in: tmp.sub("r\(cut)"), analyst: "zed", clock: MockClock().function)
            let file = tmp.sub("cut\(cut).glossb")
            try Data(whole.prefix(cut)).write(to: file)
            let report: ImportReport
            do { report = try r.importBundle(at: file) } catch let e as GlossError {
                #expect(e.message.contains("not a usable Gloss bundle"), "cut \(cut): \(e.message)")
                #expect(try r.status().versionVector.entries.isEmpty, "cut \(cut): nothing applied")
                continue
            }
            #expect(report.truncated && !report.acknowledgementRecorded, "cut \(cut): \(report)")
            let frozen = try r.status().feedProblems.contains { $0.state == .forked }
            #expect(!frozen || cut >= recordsEnd, "cut \(cut): frozen before both evidence records are whole")
            if cut >= recordsEnd { #expect(frozen, "cut \(cut): both evidence records are whole") }
            #expect(try r.verify().faults.isEmpty, "cut \(cut)")
        }
    }

    /// The format 2 golden bundle: the importer freezes B's feed at seq 2 and keeps both as evidence.
    @Test func theGoldenForkBundleFreezesTheForkedFeed() throws {
        let tmp = TempDir("gloss-golden-fork")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "zed", clock: MockClock().function)
        let rep = try r.importBundle(at: repositoryRoot().appendingPathComponent("Protocol/vectors/bundle-fork.glossb"))
        #expect(rep.checksumOK == true && rep.headerProblems.isEmpty && rep.error == nil && rep.acknowledgementRecorded)
        #expect(rep.summary.applied == 5 && rep.summary.forks == 1, "\(rep.summary)")  // A1, A2, B1, A3 and the first of B2, B2′
        let s = try r.status()
        #expect(s.feedProblems.first?.state == .forked && s.versionVector[fixedKey("vector-B").replicaID] == 1)
        let v = try r.verify()
        #expect(v.faults.isEmpty && v.forks.first?.seq == 2 && v.forks.first?.evidence == 2, "\(v)")
    }
}
