import Crypto
import Foundation
import GlossJSON
import GlossModel
import GlossSync

/// The golden encrypted bundle (Protocol/05-bundle.md §Encrypted bundles): the golden plain bundle
/// `bundle-basic.glossb` sealed by replica A to B and C (and A itself), from fixed inputs — the
/// content key and each recipient's HPKE ephemeral key are derived from labels, so the file is
/// reproducible. swift-crypto's HPKE draws its ephemeral keys itself, so the generator seals with
/// `sealBase` below (RFC 9180 base mode written out); tests check swift-crypto opens what it made.
public enum EncryptedBundleVectors {
    static func label(_ s: String) -> [UInt8] { Bytes32.sha256(Array("gloss-test-key/\(s)".utf8)).bytes }

    static let suiteKEM = Array("KEM".utf8) + [0x00, 0x20]
    static let suiteHPKE = Array("HPKE".utf8) + [0x00, 0x20, 0x00, 0x01, 0x00, 0x03]

    static func labeledExtract(salt: [UInt8], label: String, ikm: [UInt8], suite: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: salt.isEmpty ? [UInt8](repeating: 0, count: 32) : salt)
        return Array(HMAC<SHA256>.authenticationCode(for: Array("HPKE-v1".utf8) + suite + Array(label.utf8) + ikm, using: key))
    }

    static func labeledExpand(prk: [UInt8], label: String, info: [UInt8], length: Int, suite: [UInt8]) -> [UInt8] {
        let labeled = [UInt8(length >> 8), UInt8(length & 0xFF)] + Array("HPKE-v1".utf8) + suite + Array(label.utf8) + info
        return HKDF<SHA256>.expand(pseudoRandomKey: SymmetricKey(data: prk), info: labeled, outputByteCount: length).withUnsafeBytes { Array($0) }
    }

    /// RFC 9180 SealBase with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305 and a
    /// given ephemeral key: returns (enc, ciphertext ‖ tag) for the first message (sequence 0).
    public static func sealBase(recipient pkR: Curve25519.KeyAgreement.PublicKey, ephemeral skE: Curve25519.KeyAgreement.PrivateKey,
                                info: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws -> (enc: [UInt8], sealed: [UInt8]) {
        let enc = Array(skE.publicKey.rawRepresentation)
        let dh = try skE.sharedSecretFromKeyAgreement(with: pkR).withUnsafeBytes { Array($0) }
        let eaePRK = labeledExtract(salt: [], label: "eae_prk", ikm: dh, suite: suiteKEM)
        let shared = labeledExpand(prk: eaePRK, label: "shared_secret", info: enc + Array(pkR.rawRepresentation), length: 32, suite: suiteKEM)
        let pskIDHash = labeledExtract(salt: [], label: "psk_id_hash", ikm: [], suite: suiteHPKE)
        let infoHash = labeledExtract(salt: [], label: "info_hash", ikm: info, suite: suiteHPKE)
        let context = [0x00] + pskIDHash + infoHash
        let secret = labeledExtract(salt: shared, label: "secret", ikm: [], suite: suiteHPKE)
        let key = labeledExpand(prk: secret, label: "key", info: context, length: 32, suite: suiteHPKE)
        let nonce = labeledExpand(prk: secret, label: "base_nonce", info: context, length: 12, suite: suiteHPKE)
        let box = try ChaChaPoly.seal(plaintext, using: SymmetricKey(data: key), nonce: try ChaChaPoly.Nonce(data: nonce), authenticating: aad)
        return (enc, Array(box.ciphertext) + Array(box.tag))
    }

    /// The ephemeral X25519 key used for `recipient` in the vector.
    static func ephemeral(for recipient: ReplicaID) -> Curve25519.KeyAgreement.PrivateKey {
        try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: label("vector-ephemeral/\(recipient.hex)"))
    }

    public static let contentKey = Bytes32.sha256(Array("gloss-test-key/vector-content-key".utf8)).bytes

    /// Writes `bundle-encrypted.glossb` (from `inner`, the bytes of `bundle-basic.glossb`) and
    /// returns its description for `bundles-encrypted.json`.
    public static func write(inner: [UInt8], to url: URL) throws -> JSON {
        let a = fixedKey("vector-A"), b = fixedKey("vector-B"), c = fixedKey("vector-C"), outsider = fixedKey("vector-outsider")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let h = try FileHandle(forWritingTo: url)
        let sink = try EncryptingBundleSink(handle: h, senderKey: a, recipients: [b.replicaID, c.replicaID, a.replicaID], contentKey: contentKey) { pk, key, aad in
            let id = [a, b, c].first { (try? $0.replicaID.agreementPublicKey().rawRepresentation) == pk.rawRepresentation }!.replicaID
            let (enc, sealed) = try sealBase(recipient: pk, ephemeral: ephemeral(for: id), info: EncryptedBundle.hpkeInfo, aad: aad, plaintext: key)
            return (enc, sealed)
        }
        try sink.write(inner)
        try sink.finish()
        try h.close()
        func keyJSON(_ k: ReplicaKey, _ name: String) throws -> JSON {
            .object([("name", .string(name)), ("seed", .string(Hex.encode(k.seed))), ("replica", .string(k.replicaID.hex)),
                     ("x25519Private", .string(Hex.encode(k.agreementKey.rawRepresentation))),
                     ("x25519Public", .string(Hex.encode(try k.replicaID.agreementPublicKey().rawRepresentation)))])
        }
        let recipients: [JSON] = sink.header.recipients.map { r in
            .object([("replica", .string(r.replica.hex)), ("ephemeralPrivate", .string(Hex.encode(ephemeral(for: r.replica).rawRepresentation))),
                     ("enc", .string(Hex.encode(r.encapsulatedKey))), ("wrappedKey", .string(Hex.encode(r.wrappedKey)))])
        }
        return .object([
            ("description", .string("Golden encrypted bundle for Protocol/05-bundle.md §Encrypted bundles, generated by GlossTestSupport/EncryptedBundleVectors.swift (GLOSS_WRITE_VECTORS=1 swift test --filter GoldenEncryptedBundleTests). The inner bundle is bundle-basic.glossb, byte for byte.")),
            ("file", .string("bundle-encrypted.glossb")),
            ("inner", .string("bundle-basic.glossb")),
            ("innerSHA256", .string(Bytes32.sha256(inner).hex)),
            ("sender", .string(a.replicaID.hex)),
            ("keys", .array([try keyJSON(a, "A (sender)"), try keyJSON(b, "B"), try keyJSON(c, "C"), try keyJSON(outsider, "outsider (not a recipient)")])),
            ("hpkeInfo", .string(String(decoding: EncryptedBundle.hpkeInfo, as: UTF8.self))),
            ("signingContext", .string(String(decoding: EncryptedBundle.signingContext, as: UTF8.self))),
            ("contentKey", .string(Hex.encode(contentKey))),
            ("recipients", .array(recipients)),
            ("headerBytes", .int(Int64(EncryptedBundle.prefixSize + recipients.count * EncryptedBundle.recipientEntrySize + 64))),
            ("chunks", .int(Int64(max(1, (inner.count + EncryptedBundle.chunkSize - 1) / EncryptedBundle.chunkSize)))),
        ])
    }
}
