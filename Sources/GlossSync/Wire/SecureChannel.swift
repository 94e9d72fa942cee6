import Foundation
@preconcurrency import Crypto
import GlossModel

/// The session keys and frame sealing (Protocol/07-wire.md §Channel): X25519 between the two
/// ephemeral keys, HKDF-SHA256 salted with the transcript hash into one key per direction, and
/// ChaCha20-Poly1305 with a per-direction counter as nonce.
public struct SessionKeys: Sendable {
    public static let transcriptContext = Array("GLOSS-WIRE-V1".utf8)
    public let transcript: Bytes32
    let sendKey: SymmetricKey
    let receiveKey: SymmetricKey

    /// Derives both directions' keys. `initiatorKX`/`responderKX` are the two key-exchange messages
    /// exactly as sent.
    public init(role: SessionRole, ephemeral: Curve25519.KeyAgreement.PrivateKey, peerEphemeral: Bytes32,
                initiatorKX: [UInt8], responderKX: [UInt8]) throws {
        let peerKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: peerEphemeral.bytes)
        let shared = try ephemeral.sharedSecretFromKeyAgreement(with: peerKey)
        // A low-order peer key (all zeros, say) gives an all-zero secret anyone can compute
        // (RFC 7748 §6.1): refused.
        guard shared.withUnsafeBytes({ $0.contains { $0 != 0 } }) else { throw SyncError(.protocolViolation, "the peer's ephemeral key is invalid") }
        transcript = Bytes32.sha256(SessionKeys.transcriptContext + initiatorKX + responderKX)
        let i2r = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: transcript.bytes, sharedInfo: Array("gloss initiator to responder".utf8), outputByteCount: 32)
        let r2i = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: transcript.bytes, sharedInfo: Array("gloss responder to initiator".utf8), outputByteCount: 32)
        (sendKey, receiveKey) = role == .initiator ? (i2r, r2i) : (r2i, i2r)
    }

    public func sealer() -> FrameSealer { FrameSealer(key: sendKey) }
    public func opener() -> FrameOpener { FrameOpener(key: receiveKey) }
}

func nonce(_ counter: UInt64) -> ChaChaPoly.Nonce {
    var b = [UInt8](repeating: 0, count: 4)
    for s in stride(from: 56, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: counter >> UInt64(s))) }
    return try! ChaChaPoly.Nonce(data: b)  // 12 bytes: always valid
}

/// Encrypts outgoing frames; the nth frame uses counter n.
public struct FrameSealer: Sendable {
    let key: SymmetricKey
    public private(set) var counter: UInt64 = 0
    public mutating func seal(_ plaintext: [UInt8]) -> [UInt8] {
        let box = try! ChaChaPoly.seal(plaintext, using: key, nonce: nonce(counter))  // cannot fail for valid key and nonce
        counter += 1
        return Array(box.ciphertext) + Array(box.tag)
    }
}

/// Decrypts incoming frames in order; a tampered, replayed, reordered or dropped frame fails.
public struct FrameOpener: Sendable {
    let key: SymmetricKey
    public private(set) var counter: UInt64 = 0
    public mutating func open(_ frame: [UInt8]) throws -> [UInt8] {
        guard frame.count >= WireLimits.tagBytes else { throw DecodeError("encrypted frame shorter than its tag") }
        let n = frame.count - WireLimits.tagBytes
        do {
            let box = try ChaChaPoly.SealedBox(nonce: nonce(counter), ciphertext: frame[0..<n], tag: frame[n...])
            let plain = try ChaChaPoly.open(box, using: key)
            counter += 1
            return Array(plain)
        } catch {
            throw DecodeError("frame \(counter) does not decrypt (tampered, reordered or not from this session)")
        }
    }
}
