import Foundation
import GlossEngine
import GlossModel
import GlossStore
import GlossSync
import GlossTestSupport
import Testing

/// Bundles encrypted to their recipients (Protocol/05-bundle.md §Encrypted bundles): real files,
/// real keys and signatures, the one import path.
@Suite(.timeLimit(.minutes(5))) struct EncryptedBundleTests {
    func export(_ r: Replica, to recipients: [ReplicaID], _ sim: Simulation, base: VersionVector = VersionVector(), name: String) throws -> (URL, Replica.BundleExport) {
        let url = sim.tmp.sub(name)
        let e = try r.exportBundle(to: url, base: base, recipients: recipients)
        return (url, e)
    }

    func write(_ bytes: [UInt8], _ sim: Simulation, _ name: String) throws -> URL {
        let url = sim.tmp.sub(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// What an import that must not change anything may leave: nothing stored, nothing quarantined.
    func expectUnchanged(_ r: Replica, vector: VersionVector, digest: String, _ note: @autoclosure () -> String) throws {
        #expect(try r.vector == vector, "\(note())")
        #expect(try r.digest() == digest, "\(note())")
        #expect(try r.quarantined().isEmpty, "\(note())")
    }

    @Test func aBundleForOneRecipientRoundTripsAndTheSenderCanReopenIt() throws {
        let sim = try Simulation(replicas: 2, seed: 41, label: "enc-one", tmpBase: memoryTempBase)
        for _ in 0..<30 { try sim.randomOperation(on: 0) }
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let (f, written) = try export(a, to: [b.replicaID], sim, name: "one.glossb")
        #expect(written.encrypted && written.events == 30)
        #expect(written.recipients == [a.replicaID, b.replicaID].sorted())
        #expect(Array(try Data(contentsOf: f).prefix(8)) == EncryptedBundle.magic)
        let rep = try b.importBundle(at: f)
        #expect(rep.encrypted && rep.clean && rep.summary.applied == 30 && rep.checksumOK == true && rep.acknowledgementRecorded)
        #expect(rep.recipients == written.recipients)
        #expect(try b.digest() == a.digest())
        #expect(try b.vector == a.vector)
        // The sender is a recipient of its own bundle.
        let again = try a.importBundle(at: f)
        #expect(again.clean && again.summary.duplicate == 30)
    }

    @Test func aBundleForManyRecipientsOpensForEachOfThem() throws {
        let sim = try Simulation(replicas: 4, seed: 42, label: "enc-many", tmpBase: memoryTempBase)
        for _ in 0..<20 { try sim.randomOperation(on: 0) }
        let strangers = (0..<60).map { _ in ReplicaKey().replicaID }
        let others = sim.replicas[1...].map(\.replicaID)
        let (f, written) = try export(sim.replicas[0], to: strangers + others + others, sim, name: "many.glossb")
        #expect(written.recipients.count == 64)                    // deduplicated, the sender added
        #expect(written.recipients == written.recipients.sorted())
        for r in sim.replicas[1...] {
            let rep = try r.importBundle(at: f)
            #expect(rep.clean && rep.summary.applied == 20)
            #expect(try r.digest() == sim.replicas[0].digest())
        }
        // More than 1,024 recipients is refused before anything is written.
        let tooMany = (0..<1_024).map { _ in ReplicaKey().replicaID }
        #expect { _ = try sim.replicas[0].exportBundle(to: sim.tmp.sub("too.glossb"), base: VersionVector(), recipients: tooMany) } throws: { e in
            (e as? GlossError)?.code == .badInput && "\(e)".contains("at most 1024 recipients")
        }
        #expect(!FileManager.default.fileExists(atPath: sim.tmp.sub("too.glossb").path))
        // A recipient id that is not a public key is refused by name.
        let bogus = ReplicaID(hex: "0200000000000000000000000000000000000000000000000000000000000000")!
        #expect { _ = try sim.replicas[0].exportBundle(to: sim.tmp.sub("bogus.glossb"), base: VersionVector(), recipients: [bogus]) } throws: { e in
            (e as? GlossError)?.code == .badInput && "\(e)".contains("not a point of Ed25519")
        }
    }

    @Test func aReplicaThatIsNotARecipientIsToldSoAndNothingIsApplied() throws {
        let sim = try Simulation(replicas: 3, seed: 43, label: "enc-outsider", tmpBase: memoryTempBase)
        for _ in 0..<15 { try sim.randomOperation(on: 0) }
        for _ in 0..<5 { try sim.randomOperation(on: 2) }
        let outsider = sim.replicas[2]
        let (vector, digest) = (try outsider.vector, try outsider.digest())
        let (f, _) = try export(sim.replicas[0], to: [sim.replicas[1].replicaID], sim, name: "not-yours.glossb")
        #expect { _ = try outsider.importBundle(at: f) } throws: { e in
            let m = "\(e)"
            return (e as? GlossError)?.code == .badInput && m.contains("encrypted to 2 recipients")
                && m.contains("this replica (\(outsider.replicaID.hex)) is not among them") && m.contains("nothing was applied")
        }
        try expectUnchanged(outsider, vector: vector, digest: digest, "outsider")
        #expect(try outsider.acknowledged(by: sim.replicas[0].replicaID).isEmpty)
    }

    /// Every byte of a one-chunk bundle flipped in turn: each copy is refused whole, never a crash,
    /// never an event applied.
    @Test func everyFlippedByteOfASmallBundleIsRefused() throws {
        let sim = try Simulation(replicas: 2, seed: 44, label: "enc-flip", tmpBase: memoryTempBase)
        for _ in 0..<4 { try sim.randomOperation(on: 0) }
        let b = sim.replicas[1]
        let (f, _) = try export(sim.replicas[0], to: [b.replicaID], sim, name: "small.glossb")
        let bytes = Array(try Data(contentsOf: f))
        #expect(bytes.count < EncryptedBundle.chunkSize)
        let (vector, digest) = (try b.vector, try b.digest())
        var refused = 0
        for i in 0..<bytes.count {
            var damaged = bytes
            damaged[i] ^= UInt8(1 << (i % 8))
            let g = try write(damaged, sim, "flip.glossb")
            do {
                let rep = try b.importBundle(at: g)
                Issue.record("byte \(i) flipped was accepted: applied \(rep.summary.applied)")
            } catch let e as GlossError {
                #expect(e.code == .badInput, "byte \(i): \(e)")
                refused += 1
            }
        }
        #expect(refused == bytes.count)
        try expectUnchanged(b, vector: vector, digest: digest, "after \(bytes.count) flips")
        print("[enc-flip] \(bytes.count) bytes flipped one at a time, all refused")
    }

    /// A many-chunk bundle damaged at seeded random positions, chunks swapped, extended: refused
    /// or the authenticated prefix only, reported like a cut; never a wrong event.
    @Test func aDamagedChunkAppliesOnlyTheAuthenticatedPrefix() throws {
        let seed = testSeed("enc-damaged-chunks")
        var rng = SplitMix64(seed: seed)
        let sim = try Simulation(replicas: 2, seed: seed, label: "enc-damage", deterministicKeys: true, tmpBase: memoryTempBase)
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        try a.appendBulk(1_200)
        let (f, written) = try export(a, to: [b.replicaID], sim, name: "big.glossb")
        let bytes = Array(try Data(contentsOf: f))
        let headerSize = EncryptedBundle.prefixSize + written.recipients.count * EncryptedBundle.recipientEntrySize + 64
        let chunks = (bytes.count - headerSize + EncryptedBundle.sealedChunkSize - 1) / EncryptedBundle.sealedChunkSize
        #expect(chunks >= 4, "\(bytes.count) bytes")
        let full = try a.vector
        // Each case on a fresh copy of the recipient's key, so what it applied is exactly that copy's prefix.
        var fresh = 0
        func recipientClone() throws -> Replica {
            fresh += 1
            return try Replica.create(in: sim.tmp.sub("clone\(fresh)"), analyst: "clone", key: fixedKey("\(seed)/r1"), clock: sim.clock.function)
        }
        func importOnFresh(_ damaged: [UInt8], _ what: String) throws -> ImportReport? {
            let r = try recipientClone()
            defer { try? r.close() }
            let g = try write(damaged, sim, "damaged.glossb")
            do {
                let rep = try r.importBundle(at: g)
                #expect(!rep.clean && rep.truncated, "\(what): \(rep.error ?? "no error")")
                #expect(rep.summary.rejected == 0 && rep.summary.applied < written.events, "\(what)")
                #expect(try r.vector.isIncluded(in: full), "\(what)")
                #expect(try r.quarantined().isEmpty && r.verify().faults.isEmpty, "\(what)")
                #expect(!rep.acknowledgementRecorded)
                return rep
            } catch let e as GlossError {
                #expect(e.code == .badInput, "\(what): \(e)")
                #expect(try r.vector.isEmpty, "\(what)")
                print("[enc-damaged-chunks] \(what): refused: \(e)")
                return nil
            }
        }
        for n in 0..<12 {
            // A position in chunk 2 or later (chunk 1 damaged refuses the file; the flip test covers it).
            let i = Int.random(in: (headerSize + EncryptedBundle.sealedChunkSize)..<bytes.count, using: &rng)
            var damaged = bytes
            damaged[i] ^= UInt8.random(in: 1...255, using: &rng)
            let chunk = (i - headerSize) / EncryptedBundle.sealedChunkSize + 1
            let rep = try #require(try importOnFresh(damaged, "case \(n): byte \(i) (chunk \(chunk)) flipped"))
            #expect(rep.error?.contains("chunk \(chunk) (at byte") == true, "\(rep.error ?? "")")
            #expect(rep.summary.applied > 0)
        }
        // Chunks 2 and 3 swapped: the stream stops at chunk 2.
        var swapped = bytes
        let c2 = headerSize + EncryptedBundle.sealedChunkSize, c3 = c2 + EncryptedBundle.sealedChunkSize
        swapped.replaceSubrange(c2..<c3 + EncryptedBundle.sealedChunkSize,
                                with: bytes[c3..<c3 + EncryptedBundle.sealedChunkSize] + bytes[c2..<c3])
        let rep = try #require(try importOnFresh(swapped, "chunks 2 and 3 swapped"))
        #expect(rep.error?.contains("chunk 2 (at byte \(c2)) does not authenticate") == true)
        // The last chunk dropped: cut short at a chunk boundary.
        let lastStart = headerSize + (chunks - 1) * EncryptedBundle.sealedChunkSize
        let cut = try #require(try importOnFresh(Array(bytes[..<lastStart]), "last chunk dropped"))
        #expect(cut.error?.contains("cut short") == true)
        // Bytes after a short last chunk: that chunk no longer authenticates (05 §Encrypted bundles),
        // so the events before it apply and the import is reported like a cut.
        let lastPlain = bytes.count - lastStart - EncryptedBundle.tagSize
        #expect(lastPlain < EncryptedBundle.chunkSize)
        let ext = try #require(try importOnFresh(bytes + [0, 1, 2], "extended by 3 bytes"))
        #expect(ext.error?.contains("chunk \(chunks) (at byte \(lastStart)) does not authenticate") == true, "\(ext.error ?? "")")
        #expect(ext.summary.applied > 0)
    }

    @Test func aBundleCutAtRandomPointsAppliesAtMostItsPrefix() throws {
        let seed = testSeed("enc-truncation")
        var rng = SplitMix64(seed: seed)
        let sim = try Simulation(replicas: 2, seed: seed, label: "enc-cut", tmpBase: memoryTempBase)
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        try a.appendBulk(600)
        let (f, _) = try export(a, to: [b.replicaID], sim, name: "cut.glossb")
        let bytes = Array(try Data(contentsOf: f))
        let full = try a.vector
        var cuts = (0..<25).map { _ in Int.random(in: 0..<bytes.count, using: &rng) }
        cuts += [0, 8, 100, EncryptedBundle.prefixSize + 2 * EncryptedBundle.recipientEntrySize + 64, bytes.count - 1]
        for cut in cuts.sorted() {
            let g = try write(Array(bytes[..<cut]), sim, "cut-\(cut).glossb")
            do {
                let rep = try b.importBundle(at: g)
                #expect(rep.truncated && !rep.clean, "cut at \(cut)")
                #expect(rep.summary.rejected == 0, "cut at \(cut)")
            } catch let e as GlossError {
                #expect(e.code == .badInput, "cut at \(cut): \(e)")
            }
            #expect(try b.vector.isIncluded(in: full), "cut at \(cut)")
        }
        // The whole file brings the rest.
        #expect(try b.importBundle(at: f).clean)
        #expect(try b.digest() == a.digest())
        #expect(try b.quarantined().isEmpty)
    }

    /// A recipient cannot pass off another replica's bundle as the outer sender's.
    @Test func anInnerBundleFromAnotherSenderIsRefused() throws {
        let sim = try Simulation(replicas: 3, seed: 45, label: "enc-resign", tmpBase: memoryTempBase)
        for _ in 0..<5 { try sim.randomOperation(on: 0) }
        let plain = sim.tmp.sub("plain.glossb")
        try sim.replicas[0].exportBundle(to: plain, base: VersionVector())
        let evil = sim.tmp.sub("evil.glossb")
        FileManager.default.createFile(atPath: evil.path, contents: nil)
        let h = try FileHandle(forWritingTo: evil)
        let mallory = fixedKey("enc-mallory")
        let sink = try EncryptingBundleSink(handle: h, senderKey: mallory, recipients: [sim.replicas[2].replicaID])
        try sink.write(Array(try Data(contentsOf: plain)))
        try sink.finish()
        try h.close()
        #expect { _ = try sim.replicas[2].importBundle(at: evil) } throws: { e in "\(e)".contains("differs from the encrypted header") }
        #expect(try sim.replicas[2].vector.isEmpty)
    }

    /// Random histories, random recipient sets, random bases: each recipient ends where a plain
    /// import would leave it; each other replica is refused and unchanged.
    @Test func randomizedRoundTrips() throws {
        let seed = testSeed("enc-roundtrip")
        var rng = SplitMix64(seed: seed)
        let sim = try Simulation(replicas: 5, seed: seed, label: "enc-prop", tmpBase: memoryTempBase)
        for round in 0..<12 {
            for _ in 0..<Int.random(in: 1...8, using: &rng) { try sim.randomOperation(on: Int.random(in: 0..<5, using: &rng)) }
            let s = Int.random(in: 0..<5, using: &rng)
            let sender = sim.replicas[s]
            let chosen = (0..<5).filter { $0 != s && Bool.random(using: &rng) }
            let base = Bool.random(using: &rng) ? VersionVector() : try sim.replicas[chosen.first ?? s].vector
            let recipients = chosen.map { sim.replicas[$0].replicaID }
            let (f, written) = try export(sender, to: recipients, sim, base: base, name: "p\(round).glossb")
            #expect(written.encrypted == !recipients.isEmpty)
            let plain = sim.tmp.sub("p\(round)-plain.glossb")
            try sender.exportBundle(to: plain, base: base)
            for i in 0..<5 where i != s {
                let r = sim.replicas[i]
                if chosen.contains(i) || recipients.isEmpty {
                    let rep = try r.importBundle(at: f)
                    #expect(rep.encrypted == !recipients.isEmpty && rep.error == nil && !rep.truncated, "round \(round), replica \(i)")
                    let again = try r.importBundle(at: plain)
                    #expect(again.summary.applied == 0, "round \(round): the plain copy brought nothing new")
                } else {
                    let (v, d) = (try r.vector, try r.digest())
                    #expect(throws: GlossError.self) { _ = try r.importBundle(at: f) }
                    try expectUnchanged(r, vector: v, digest: d, "round \(round), outsider \(i)")
                }
            }
        }
    }
}
