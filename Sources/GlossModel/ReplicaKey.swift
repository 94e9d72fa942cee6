@preconcurrency import Crypto

/// A replica's Ed25519 signing key. Its public key is the replica id.
public struct ReplicaKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey
    public let replicaID: ReplicaID

    /// A fresh random key.
    public init() { self.init(key: Curve25519.Signing.PrivateKey()) }

    /// The key with this 32-byte seed (RFC 8032 private key).
    public init(seed: [UInt8]) throws {
        guard seed.count == 32 else { throw DecodeError("a replica key seed is 32 bytes, got \(seed.count)") }
        self.init(key: try Curve25519.Signing.PrivateKey(rawRepresentation: seed))
    }

    private init(key: Curve25519.Signing.PrivateKey) {
        self.key = key
        replicaID = ReplicaID(Bytes32(exactly: Array(key.publicKey.rawRepresentation))!)
    }

    public var seed: [UInt8] { Array(key.rawRepresentation) }

    /// Ed25519 signature (deterministic, RFC 8032) of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        // swift-crypto only throws here on internal failure of the primitive, never on input.
        Array(try! key.signature(for: message))
    }

    /// The replica's X25519 key for encrypted bundles (Protocol/05-bundle.md §Encrypted bundles):
    /// the first 32 bytes of SHA-512(seed), clamped, exactly as libsodium's
    /// `crypto_sign_ed25519_sk_to_curve25519`. Its public key is `replicaID.agreementPublicKey()`.
    public var agreementKey: Curve25519.KeyAgreement.PrivateKey {
        var h = Array(SHA512.hash(data: key.rawRepresentation))
        h[0] &= 248; h[31] &= 127; h[31] |= 64
        // 32 bytes always make an X25519 private key.
        return try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: h[0..<32])
    }

    public static func isValid(signature: [UInt8], of message: [UInt8], by replica: ReplicaID) -> Bool {
        guard let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: replica.raw.bytes) else { return false }
        return pk.isValidSignature(signature, for: message)
    }
}

extension ReplicaID {
    /// The 8 canonical u-coordinates of small-order points on Curve25519 (0, 1, p − 1 and the
    /// two of order 8), little-endian: a key mapping to one of them agrees to a known secret.
    static let smallOrderU: Set<[UInt8]> = {
        let p1 = Field25519.zero - Field25519.one
        let order8 = ["e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"].map { Hex.decode($0)! }
        return Set([Field25519.zero.bytes, Field25519.one.bytes, p1.bytes] + order8)
    }()

    /// The replica's X25519 public key, for encrypting bundles to it (Protocol/05-bundle.md
    /// §Encrypted bundles): the Ed25519 point (x, y) maps to u = (1 + y) / (1 − y) mod 2^255 − 19,
    /// as libsodium's `crypto_sign_ed25519_pk_to_curve25519`. Throws for an id that is not the
    /// canonical encoding of a curve point, or whose point has small order.
    public func agreementPublicKey() throws -> Curve25519.KeyAgreement.PublicKey {
        var yBytes = raw.bytes
        yBytes[31] &= 0x7F  // the top bit is the sign of x
        guard let y = Field25519(canonical: yBytes) else {
            throw DecodeError("replica id \(short)… is not a valid public key (its y coordinate is not below 2^255 − 19); a bundle cannot be encrypted to it")
        }
        // On the curve −x² + y² = 1 + d·x²·y²  ⇔  x² = (y² − 1) / (d·y² + 1) is a square.
        let y2 = y * y
        let x2 = (y2 - .one) * (Field25519.d * y2 + .one).inverse
        guard x2.isSquare, !(x2.isZero && raw.bytes[31] & 0x80 != 0) else {
            throw DecodeError("replica id \(short)… is not a point of Ed25519, so it is not a replica's public key; a bundle cannot be encrypted to it")
        }
        let oneMinusY = Field25519.one - y
        let u = (Field25519.one + y) * oneMinusY.inverse
        guard !oneMinusY.isZero, !ReplicaID.smallOrderU.contains(u.bytes) else {
            throw DecodeError("replica id \(short)… is a small-order point, not a replica's public key; a bundle cannot be encrypted to it")
        }
        return try Curve25519.KeyAgreement.PublicKey(rawRepresentation: u.bytes)
    }
}
