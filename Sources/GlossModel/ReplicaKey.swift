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

    public static func isValid(signature: [UInt8], of message: [UInt8], by replica: ReplicaID) -> Bool {
        guard let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: replica.raw.bytes) else { return false }
        return pk.isValidSignature(signature, for: message)
    }
}
