import Crypto
import Foundation
import GlossEngine
@testable import GlossModel
import GlossSync
import GlossTestSupport
import Testing

/// X25519 keys derived from replica ids (Protocol/05-bundle.md §Encrypted bundles §Keys).
@Suite struct AgreementKeyTests {
    @Test func theConvertedIdIsThePublicKeyOfTheDerivedPrivateKey() throws {
        let seed = testSeed("agreement-keys")
        var rng = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let key = try ReplicaKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let converted = try key.replicaID.agreementPublicKey()
            #expect(converted.rawRepresentation == key.agreementKey.publicKey.rawRepresentation, "seed \(Hex.encode(key.seed))")
        }
        // Fresh random keys too (swift-crypto's own generator).
        for _ in 0..<100 {
            let key = ReplicaKey()
            #expect(try key.replicaID.agreementPublicKey().rawRepresentation == key.agreementKey.publicKey.rawRepresentation)
        }
    }

    @Test func fieldArithmeticHolds() throws {
        let seed = testSeed("field25519")
        var rng = SplitMix64(seed: seed)
        func random() -> Field25519 {
            var b = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            b[31] &= 0x7F
            return Field25519(canonical: b) ?? Field25519(7)
        }
        let p1 = Field25519.zero - Field25519.one
        #expect(p1 * p1 == .one)                               // (−1)² = 1
        #expect(p1 + .one == .zero)
        #expect(Field25519(121_666) * Field25519(121_666).inverse == .one)
        #expect(Field25519.d * Field25519(121_666) + Field25519(121_665) == .zero)
        for _ in 0..<300 {
            let a = random(), b = random(), c = random()
            #expect(a * b == b * a)
            #expect((a + b) * c == a * c + b * c)
            #expect(a - b + b == a)
            if !a.isZero { #expect(a * a.inverse == .one) }
            #expect((a * a).isSquare)
        }
        // A canonical value is below p; 2^255 − 19 itself and above are refused.
        #expect(Field25519(canonical: Field25519.p.bytes) == nil)
        #expect(Field25519(canonical: p1.bytes) == p1)
    }

    @Test func idsThatAreNotUsablePublicKeysAreRefusedClearly() throws {
        func id(_ hex: String) -> ReplicaID { ReplicaID(hex: hex)! }
        let refused: [(String, String)] = [
            ("0100000000000000000000000000000000000000000000000000000000000000", "small-order"),   // the identity (y = 1)
            ("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "small-order"),   // y = −1
            ("0000000000000000000000000000000000000000000000000000000000000000", "small-order"),   // y = 0 (order 4)
            ("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", "small-order"),   // order 8
            ("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "not below"),      // y = p
            ("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "not below"),      // y = 2^255 − 1
            ("0200000000000000000000000000000000000000000000000000000000000000", "not a point"),    // y = 2: x² is not a square
        ]
        for (hex, why) in refused {
            #expect {
                _ = try id(hex).agreementPublicKey()
            } throws: { e in
                let m = (e as? DecodeError)?.message ?? ""
                return m.contains(why) && m.contains("cannot be encrypted to it")
            }
        }
        // About half of all y values are points: the check is not vacuous.
        var points = 0
        for y in 3..<203 {
            var b = [UInt8](repeating: 0, count: 32); b[0] = UInt8(y)
            if (try? ReplicaID(Bytes32(exactly: b)!).agreementPublicKey()) != nil { points += 1 }
        }
        #expect(points > 60 && points < 140, "\(points) of 200 small y values are points")
    }
}

/// `Protocol/vectors/bundle-encrypted.glossb` and `bundles-encrypted.json`.
@Suite struct GoldenEncryptedBundleTests {
    let dir = repositoryRoot().appendingPathComponent("Protocol/vectors")

    @Test func theVectorIsExactlyWhatTheWriterProduces() throws {
        let tmp = TempDir("gloss-enc-vector")
        defer { tmp.remove() }
        let fresh = tmp.sub("bundle-encrypted.glossb")
        let inner = try Array(Data(contentsOf: dir.appendingPathComponent("bundle-basic.glossb")))
        let description = try EncryptedBundleVectors.write(inner: inner, to: fresh).pretty + "\n"
        if ProcessInfo.processInfo.environment["GLOSS_WRITE_VECTORS"] == "1" {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("bundle-encrypted.glossb"))
            try FileManager.default.copyItem(at: fresh, to: dir.appendingPathComponent("bundle-encrypted.glossb"))
            try description.write(to: dir.appendingPathComponent("bundles-encrypted.json"), atomically: true, encoding: .utf8)
        }
        #expect(try Data(contentsOf: dir.appendingPathComponent("bundle-encrypted.glossb")) == Data(contentsOf: fresh))
        #expect(try String(contentsOf: dir.appendingPathComponent("bundles-encrypted.json"), encoding: .utf8) == description)
    }

    /// swift-crypto's HPKE opens every wrapped key of the vector (the generator's RFC 9180 code
    /// and the library agree), and every recipient decrypts the inner bundle byte for byte.
    @Test func everyRecipientOpensTheVectorAndTheOutsiderCannot() throws {
        let inner = try Data(contentsOf: dir.appendingPathComponent("bundle-basic.glossb"))
        let file = dir.appendingPathComponent("bundle-encrypted.glossb")
        let a = fixedKey("vector-A"), b = fixedKey("vector-B"), c = fixedKey("vector-C"), outsider = fixedKey("vector-outsider")
        for k in [a, b, c] {
            let h = try FileHandle(forReadingFrom: file)
            defer { try? h.close() }
            let source = try DecryptingBundleSource(handle: h, key: k)
            #expect(source.header.sender == a.replicaID)
            #expect(source.header.recipients.map(\.replica) == [a, b, c].map(\.replicaID).sorted())
            var plain = Data()
            while true { let d = try source.read(upToCount: 1 << 20) ?? Data(); if d.isEmpty { break }; plain += d }
            #expect(plain == inner)
            #expect(source.complete && source.damage == nil)
            // The library's HPKE opens this recipient's wrapped key to the content key.
            let mine = try #require(source.header.recipients.first { $0.replica == k.replicaID })
            var recipient = try HPKE.Recipient(privateKey: k.agreementKey, ciphersuite: EncryptedBundle.ciphersuite,
                                               info: Data(EncryptedBundle.hpkeInfo), encapsulatedKey: Data(mine.encapsulatedKey))
            let prefix = EncryptedBundleHeader.prefix(team: .none, sender: a.replicaID, count: 3)
            #expect(Array(try recipient.open(mine.wrappedKey, authenticating: EncryptedBundle.wrapAAD(prefix: prefix, recipient: k.replicaID)))
                    == EncryptedBundleVectors.contentKey)
        }
        let h = try FileHandle(forReadingFrom: file)
        defer { try? h.close() }
        #expect { _ = try DecryptingBundleSource(handle: h, key: outsider) } throws: { e in
            (e as? SyncError)?.code == .refused && "\(e)".contains("encrypted to 3 recipients") && "\(e)".contains(outsider.replicaID.hex)
        }
    }

    @Test func theGoldenEncryptedBundleImportsForARecipient() throws {
        let tmp = TempDir("gloss-golden-enc-import")
        defer { tmp.remove() }
        let r = try Replica.create(in: tmp.url, analyst: "bo", key: fixedKey("vector-B"), clock: MockClock().function)
        let rep = try r.importBundle(at: dir.appendingPathComponent("bundle-encrypted.glossb"))
        #expect(rep.encrypted && rep.summary.applied == 5 && rep.clean && rep.checksumOK == true)
        #expect(try r.verify().faults.isEmpty)
    }
}
