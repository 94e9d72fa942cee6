import Crypto
import Foundation
import GlossModel

/// Bundles encrypted to their recipients (Protocol/05-bundle.md §Encrypted bundles): an outer
/// container around the unchanged format-1 bundle bytes. A random 32-byte content key seals the
/// inner bundle in 64 KiB ChaCha20-Poly1305 chunks (STREAM: nonce = 11-byte big-endian counter ‖
/// last-chunk flag); the key is wrapped to each recipient's X25519 key (derived from its replica
/// id) with HPKE base mode; the sender signs the header.
public enum EncryptedBundle {
    public static let magic = Array("GLOSSENC".utf8)
    public static let format: UInt16 = 1
    public static let signingContext = Array("GLOSS-BUNDLE-ENC-V1".utf8)
    /// HPKE `info` for wrapping the content key.
    public static let hpkeInfo = Array("GLOSS-BUNDLE-ENC-V1 content key".utf8)
    public static let maxRecipients = 1_024
    /// Plaintext bytes per chunk (every chunk but the last is exactly this long).
    public static let chunkSize = 65_536
    public static let tagSize = 16
    public static let sealedChunkSize = chunkSize + tagSize
    public static let encapsulatedKeySize = 32
    /// The content key (32 bytes) sealed by HPKE: 32 + 16-byte tag.
    public static let wrappedKeySize = 48
    public static let recipientEntrySize = 32 + encapsulatedKeySize + wrappedKeySize
    /// Bytes before the recipient table: magic, format, team, sender, recipient count.
    public static let prefixSize = 8 + 2 + 32 + 32 + 2
    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305 (RFC 9180 ids 0x0020, 0x0001, 0x0003).
    public static var ciphersuite: HPKE.Ciphersuite { HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .chaChaPoly) }

    /// Whether `prefix` (the first bytes of a file) is an encrypted bundle's magic.
    public static func isEncrypted(prefix: [UInt8]) -> Bool { prefix.count >= 8 && Array(prefix[0..<8]) == magic }

    /// The nonce of chunk `counter`: 11 bytes big-endian counter ‖ 0x01 for the last chunk, else 0x00.
    public static func nonceBytes(counter: UInt64, last: Bool) -> [UInt8] {
        [0, 0, 0] + (0..<8).map { UInt8(truncatingIfNeeded: counter >> (8 * UInt64(7 - $0))) } + [last ? 1 : 0]
    }

    /// HPKE `aad` for one recipient's wrapped key: the header prefix ‖ that recipient's replica id.
    public static func wrapAAD(prefix: [UInt8], recipient: ReplicaID) -> [UInt8] { prefix + recipient.raw.bytes }

    /// Seals one chunk.
    public static func sealChunk(_ plaintext: [UInt8], key: SymmetricKey, counter: UInt64, last: Bool) throws -> [UInt8] {
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: try ChaChaPoly.Nonce(data: nonceBytes(counter: counter, last: last)))
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// Opens one chunk, or nil when it does not authenticate under this counter and flag.
    public static func openChunk(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, counter: UInt64, last: Bool) -> [UInt8]? {
        guard sealed.count >= tagSize,
              let nonce = try? ChaChaPoly.Nonce(data: nonceBytes(counter: counter, last: last)),
              let box = try? ChaChaPoly.SealedBox(nonce: nonce, ciphertext: sealed.dropLast(tagSize), tag: sealed.suffix(tagSize)),
              let plain = try? ChaChaPoly.open(box, using: key) else { return nil }
        return Array(plain)
    }
}

/// One entry of the recipient table.
public struct BundleRecipient: Sendable, Equatable {
    public var replica: ReplicaID
    public var encapsulatedKey: [UInt8]
    public var wrappedKey: [UInt8]
    public init(replica: ReplicaID, encapsulatedKey: [UInt8], wrappedKey: [UInt8]) {
        self.replica = replica; self.encapsulatedKey = encapsulatedKey; self.wrappedKey = wrappedKey
    }
}

/// The header of an encrypted bundle.
public struct EncryptedBundleHeader: Sendable {
    public var team: TeamID
    public var sender: ReplicaID
    /// Strictly ascending by replica id.
    public var recipients: [BundleRecipient]

    /// magic ‖ format ‖ team ‖ sender ‖ recipient count.
    public static func prefix(team: TeamID, sender: ReplicaID, count: Int) -> [UInt8] {
        var w = ByteWriter()
        w.raw(EncryptedBundle.magic); w.u16(EncryptedBundle.format); w.b32(team.raw); w.b32(sender.raw); w.u16(UInt16(count))
        return w.bytes
    }

    /// Every header byte before the signature.
    public var unsignedBytes: [UInt8] {
        var w = ByteWriter()
        w.raw(EncryptedBundleHeader.prefix(team: team, sender: sender, count: recipients.count))
        for r in recipients { w.b32(r.replica.raw); w.raw(r.encapsulatedKey); w.raw(r.wrappedKey) }
        return w.bytes
    }
}

/// Wraps the content key to one recipient: returns HPKE's encapsulated key and the sealed key.
public typealias ContentKeyWrap = @Sendable (_ recipient: Curve25519.KeyAgreement.PublicKey, _ contentKey: [UInt8], _ aad: [UInt8]) throws -> (enc: [UInt8], wrapped: [UInt8])

/// Writes an encrypted bundle: the header at once, then the inner bytes in sealed chunks as they
/// come (at most one chunk is buffered). Feed it to `BundleWriter(output:)`.
public final class EncryptingBundleSink {
    private let handle: FileHandle
    private let key: SymmetricKey
    private var buffer: [UInt8] = []
    private var counter: UInt64 = 0
    private var finished = false
    public let header: EncryptedBundleHeader
    public private(set) var bytesWritten = 0

    /// The recipients sorted and deduplicated: 1 … 1,024 replica ids. Throws `DecodeError` for a
    /// replica id that is not a usable public key (see `ReplicaID.agreementPublicKey()`).
    public static func normalized(_ recipients: [ReplicaID]) throws -> [ReplicaID] {
        let sorted = Array(Set(recipients)).sorted()
        guard !sorted.isEmpty else { throw DecodeError("an encrypted bundle needs at least one recipient") }
        guard sorted.count <= EncryptedBundle.maxRecipients else {
            throw DecodeError("an encrypted bundle has at most \(EncryptedBundle.maxRecipients) recipients, \(sorted.count) were given")
        }
        return sorted
    }

    /// HPKE base mode with swift-crypto (a fresh ephemeral key per recipient).
    public static let hpkeWrap: ContentKeyWrap = { publicKey, contentKey, aad in
        var sender = try HPKE.Sender(recipientKey: publicKey, ciphersuite: EncryptedBundle.ciphersuite, info: Data(EncryptedBundle.hpkeInfo))
        let sealed = try sender.seal(contentKey, authenticating: aad)
        return (Array(sender.encapsulatedKey), Array(sealed))
    }

    /// Writes the signed header. `contentKey` and `wrap` are fixed only by golden-vector generators.
    public init(handle: FileHandle, team: TeamID = .none, senderKey: ReplicaKey, recipients: [ReplicaID],
                contentKey: [UInt8]? = nil, wrap: ContentKeyWrap = EncryptingBundleSink.hpkeWrap) throws {
        self.handle = handle
        let ids = try EncryptingBundleSink.normalized(recipients)
        let raw = contentKey ?? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        guard raw.count == 32 else { throw DecodeError("a content key is 32 bytes") }
        key = SymmetricKey(data: raw)
        let prefix = EncryptedBundleHeader.prefix(team: team, sender: senderKey.replicaID, count: ids.count)
        var entries: [BundleRecipient] = []
        for id in ids {
            let pk = try id.agreementPublicKey()
            let (enc, wrapped) = try wrap(pk, raw, EncryptedBundle.wrapAAD(prefix: prefix, recipient: id))
            guard enc.count == EncryptedBundle.encapsulatedKeySize, wrapped.count == EncryptedBundle.wrappedKeySize else {
                throw DecodeError("HPKE produced \(enc.count)/\(wrapped.count) bytes, expected 32/48")
            }
            entries.append(BundleRecipient(replica: id, encapsulatedKey: enc, wrappedKey: wrapped))
        }
        header = EncryptedBundleHeader(team: team, sender: senderKey.replicaID, recipients: entries)
        let unsigned = header.unsignedBytes
        try emit(unsigned + senderKey.sign(EncryptedBundle.signingContext + unsigned))
    }

    private func emit(_ bytes: [UInt8]) throws {
        try handle.write(contentsOf: bytes)
        bytesWritten += bytes.count
    }

    /// Inner bundle bytes: every full chunk with more bytes after it is sealed and written.
    public func write(_ bytes: [UInt8]) throws {
        precondition(!finished)
        buffer.append(contentsOf: bytes)
        var start = 0
        while buffer.count - start > EncryptedBundle.chunkSize {
            try emit(EncryptedBundle.sealChunk(Array(buffer[start..<start + EncryptedBundle.chunkSize]), key: key, counter: counter, last: false))
            counter += 1
            start += EncryptedBundle.chunkSize
        }
        if start > 0 { buffer.removeFirst(start) }
    }

    /// Seals the last chunk (the remaining 0 … 65,536 bytes, flagged last).
    public func finish() throws {
        precondition(!finished)
        finished = true
        try emit(EncryptedBundle.sealChunk(buffer, key: key, counter: counter, last: true))
        buffer = []
    }
}

/// Reads an encrypted bundle for one recipient, streaming: checks the header and its signature,
/// unwraps the content key, then hands out the inner bundle bytes one authenticated chunk at a
/// time (`read`). A chunk that does not authenticate, or a file that ends before the last chunk,
/// ends the stream there (`damage` says why): every byte before it was authenticated.
public final class DecryptingBundleSource {
    private let handle: FileHandle
    private let key: SymmetricKey
    private var pending: [UInt8] = []
    private var eof = false
    private var stopped = false
    public let header: EncryptedBundleHeader
    /// Chunks opened so far.
    public private(set) var chunksOpened: UInt64 = 0
    /// Set once the chunk flagged last has opened: the inner bytes are complete.
    public private(set) var complete = false
    /// Why the stream ended before its last chunk: cut short, or a chunk that does not authenticate.
    public private(set) var damage: String?
    /// Encrypted bytes consumed (header and chunks).
    public private(set) var bytesRead = 0

    /// Reads and checks the header for `key`'s replica. Throws `SyncError(.unusable)` for a bad
    /// header or signature, `.refused` when that replica is not a recipient, `.unusable` when its
    /// wrapped key does not open.
    public init(handle: FileHandle, key replicaKey: ReplicaKey) throws {
        self.handle = handle
        func unusable(_ why: String) -> SyncError { SyncError(.unusable, "not a usable encrypted Gloss bundle: \(why)") }
        var raw: [UInt8] = []
        func need(_ n: Int) throws -> Bool {
            while raw.count < n {
                let d = try handle.read(upToCount: n - raw.count) ?? Data()
                if d.isEmpty { return false }
                raw.append(contentsOf: d)
            }
            return true
        }
        guard try need(EncryptedBundle.prefixSize) else { throw unusable("the file is shorter than an encrypted bundle header") }
        guard EncryptedBundle.isEncrypted(prefix: raw) else { throw unusable("it does not start with GLOSSENC") }
        var r = ByteReader(raw, offset: 8)
        let parsed: (TeamID, ReplicaID, Int)
        do {
            let format = try r.u16("format")
            guard format == EncryptedBundle.format else { throw unusable("encrypted bundle format \(format) is not supported (this build reads format 1)") }
            parsed = (TeamID(try r.b32("team")), ReplicaID(try r.b32("sender")), Int(try r.u16("recipient count")))
        } catch let e as DecodeError { throw unusable(e.message) }
        let (team, sender, count) = parsed
        guard count >= 1, count <= EncryptedBundle.maxRecipients else {
            throw unusable("it names \(count) recipients (1 … \(EncryptedBundle.maxRecipients) allowed)")
        }
        let headerSize = EncryptedBundle.prefixSize + count * EncryptedBundle.recipientEntrySize + 64
        guard try need(headerSize) else { throw unusable("the header is cut short") }
        var entries: [BundleRecipient] = []
        var offset = EncryptedBundle.prefixSize
        for i in 0..<count {
            let id = ReplicaID(Bytes32(exactly: Array(raw[offset..<offset + 32]))!)
            if let last = entries.last, !(last.replica < id) {
                throw unusable("recipient \(i + 1) is not in ascending replica order (or repeats one)")
            }
            entries.append(BundleRecipient(replica: id, encapsulatedKey: Array(raw[offset + 32..<offset + 64]),
                                           wrappedKey: Array(raw[offset + 64..<offset + EncryptedBundle.recipientEntrySize])))
            offset += EncryptedBundle.recipientEntrySize
        }
        header = EncryptedBundleHeader(team: team, sender: sender, recipients: entries)
        let unsigned = Array(raw[0..<offset])
        let signature = Array(raw[offset..<offset + 64])
        guard ReplicaKey.isValid(signature: signature, of: EncryptedBundle.signingContext + unsigned, by: sender) else {
            throw unusable("the header signature does not verify for sender \(sender.short) (the header or its recipient table was altered)")
        }
        bytesRead = headerSize
        let me = replicaKey.replicaID
        guard let mine = entries.first(where: { $0.replica == me }) else {
            throw SyncError(.refused, "this bundle is encrypted to \(count) recipient\(count == 1 ? "" : "s") and this replica (\(me.hex)) is not among them; ask the sender (\(sender.short)) to export again with --recipient \(me.hex)")
        }
        let aad = EncryptedBundle.wrapAAD(prefix: Array(raw[0..<EncryptedBundle.prefixSize]), recipient: me)
        do {
            var recipient = try HPKE.Recipient(privateKey: replicaKey.agreementKey, ciphersuite: EncryptedBundle.ciphersuite,
                                               info: Data(EncryptedBundle.hpkeInfo), encapsulatedKey: Data(mine.encapsulatedKey))
            let contentKey = try recipient.open(mine.wrappedKey, authenticating: aad)
            guard contentKey.count == 32 else { throw unusable("the content key is \(contentKey.count) bytes, not 32") }
            key = SymmetricKey(data: contentKey)
        } catch let e as SyncError { throw e } catch {
            throw unusable("the content key wrapped for this replica (\(me.short)) does not open: it was altered or made for another key")
        }
    }

    /// Buffers up to `n` raw bytes; false when the file ends first.
    private func fill(_ n: Int) throws {
        while pending.count < n && !eof {
            let d = try handle.read(upToCount: max(n - pending.count, 1 << 16)) ?? Data()
            if d.isEmpty { eof = true } else { pending.append(contentsOf: d) }
        }
    }

    private func stop(_ why: String) -> Data {
        stopped = true
        damage = why
        return Data()
    }

    /// The next authenticated inner bytes (one chunk), or empty at the end of the stream — after
    /// the last chunk, or where it stopped (`damage`).
    public func read(upToCount _: Int) throws -> Data? {
        if stopped || complete { return Data() }
        let sealed = EncryptedBundle.sealedChunkSize
        try fill(sealed + 1)
        let n = chunksOpened + 1
        let at = bytesRead
        if pending.isEmpty {
            return stop("the file ends after chunk \(chunksOpened) at byte \(at), before the last chunk: it was cut short")
        }
        if pending.count > sealed {
            // More follows, so this is not the last chunk — unless the last was extended.
            if let plain = EncryptedBundle.openChunk(pending[0..<sealed], key: key, counter: chunksOpened, last: false) {
                return accept(plain, consumed: sealed)
            }
            if let plain = EncryptedBundle.openChunk(pending[0..<sealed], key: key, counter: chunksOpened, last: true) {
                // The last chunk opened, but bytes follow it: they are never read.
                complete = true
                damage = "bytes follow the last chunk (chunk \(n), ending at byte \(at + sealed)): the file was extended; they were ignored"
                return accept(plain, consumed: sealed)
            }
            return stop("chunk \(n) (at byte \(at)) does not authenticate: the file was damaged there")
        }
        // What remains fits one chunk: the last one, or a full chunk cut after it.
        if let plain = EncryptedBundle.openChunk(pending[...], key: key, counter: chunksOpened, last: true) {
            complete = true
            return accept(plain, consumed: pending.count)
        }
        if pending.count == sealed, let plain = EncryptedBundle.openChunk(pending[...], key: key, counter: chunksOpened, last: false) {
            return accept(plain, consumed: sealed)  // the cut shows at the next read
        }
        return stop("chunk \(n) (at byte \(at)) does not authenticate: the file was cut short or damaged there")
    }

    private func accept(_ plain: [UInt8], consumed: Int) -> Data {
        pending.removeFirst(consumed)
        bytesRead += consumed
        chunksOpened += 1
        return Data(plain)
    }

    /// Reads (and discards) the rest of the stream, so `complete` and `damage` describe the whole
    /// file; returns how many inner bytes were left over after the inner bundle's end.
    public func drain() throws -> Int {
        var extra = 0
        while true {
            let d = try read(upToCount: EncryptedBundle.chunkSize) ?? Data()
            if d.isEmpty { break }
            extra += d.count
        }
        if complete && damage == nil {
            try fill(1)
            if !pending.isEmpty { damage = "bytes follow the last chunk (ending at byte \(bytesRead)): the file was extended; they were ignored" }
        }
        return extra
    }
}
