// The fuzz harness: one function per decoder of untrusted bytes. Each takes any bytes, runs the
// decoder the way the engine runs it on input from a peer, a bundle or a file, and returns whether
// the input was accepted. A thrown error is a refusal and is fine; a trap, a hang or unbounded
// memory is a finding.
//
// This one file is compiled twice: into the libFuzzer targets of Fuzz/Package.swift (under
// -sanitize=fuzzer,address) and, through the symlink Tests/GlossModelTests/FuzzHarness.swift, into
// the normal test suite, where FuzzRegressionTests replays Fuzz/Corpus and Fuzz/Regressions.
// Keep it free of anything either side lacks (no Testing, no libFuzzer symbols).
import Foundation
import GlossEngine
import GlossIngest
import GlossModel
import GlossSync

public enum FuzzHarness {
    /// The fuzz targets, by the folder names of Fuzz/Corpus and Fuzz/Regressions.
    public static let targets: [(name: String, run: @Sendable ([UInt8]) -> Bool)] = [
        ("FuzzEnvelope", envelope), ("FuzzPayload", payload), ("FuzzBundle", bundle),
        ("FuzzWireFrame", wireFrame), ("FuzzVectorFile", vectorFile), ("FuzzArticle", article),
    ]

    // MARK: Envelope (Protocol/01-event.md)

    /// `EventEnvelope(decoding:)`, then what a receiver does with a decoded envelope before it
    /// stores it: the signature check and the payload match.
    @discardableResult
    public static func envelope(_ bytes: [UInt8]) -> Bool {
        guard let env = try? EventEnvelope(decoding: bytes) else { return false }
        _ = env.hasValidSignature()
        _ = env.matches(payload: [])
        _ = env.signedBytes.count
        precondition(env.bytes == bytes, "a decoded envelope keeps its exact bytes")
        return true
    }

    // MARK: Payload (Protocol/02-payloads.md)

    /// Event types in a fixed order: the payload input's first byte picks one (its low 5 bits,
    /// modulo the count; one more index is an unknown type) and the schema (its high 3 bits, xor 1,
    /// so 0 means schema 1). The rest of the input is the payload.
    public static let payloadTypes: [String] = DecodedPayload.known.keys.sorted() + ["NotAGlossType"]

    /// The payload input for `type` (schema 1) and CBOR bytes `cbor`: what Fuzz/Corpus holds.
    public static func payloadInput(type: String, schema: UInt16 = 1, cbor: [UInt8]) -> [UInt8]? {
        guard let i = payloadTypes.firstIndex(of: type), schema < 8 else { return nil }
        return [UInt8(i) | UInt8((schema ^ 1) << 5)] + cbor
    }

    /// Decodes the CBOR value (and re-encodes it: decoding the deterministic encoding gives the same
    /// value), then the typed payload as the projector does (`DecodedPayload`), then what the
    /// projector parses inside it: extraction candidates and a resolution's fact record. A payload
    /// the typed decoder accepted re-encodes to one it accepts again.
    @discardableResult
    public static func payload(_ input: [UInt8]) -> Bool {
        guard let first = input.first else { return false }
        let type = payloadTypes[Int(first & 31) % payloadTypes.count]
        let schema = UInt16((first >> 5) ^ 1)
        let bytes = Array(input.dropFirst())
        if let value = try? CBOR(decoding: bytes) {
            let again = try? CBOR(decoding: value.encoded)
            precondition(again == value, "a decoded CBOR value re-encodes to bytes that decode to it")
        }
        let decoded = DecodedPayload(type: type, schema: schema, payload: bytes)
        var candidates: [CBOR] = []
        let reencoded: [UInt8]
        switch decoded {
        case .notUnderstood: return false
        case .articleIngested(let p): candidates = p.candidates; reencoded = p.encoded
        case .articleRevised(let p): candidates = p.candidates; reencoded = p.encoded
        case .candidatesExtracted(let p): candidates = p.candidates; reencoded = p.encoded
        case .conflictResolved(let p):
            if let v = p.value { _ = try? FactRecord(text: v) }
            reencoded = p.encoded
        case .noteAdded(let p): reencoded = p.encoded
        case .noteEdited(let p): reencoded = p.encoded
        case .noteDeleted(let p): reencoded = p.encoded
        case .tagAdded(let p): reencoded = p.encoded
        case .tagRemoved(let p): reencoded = p.encoded
        case .linkAdded(let p): reencoded = p.encoded
        case .linkRemoved(let p): reencoded = p.encoded
        case .factAdded(let p): reencoded = p.encoded
        case .factAmended(let p): reencoded = p.encoded
        case .factRetracted(let p): reencoded = p.encoded
        case .sourceAdded(let p): reencoded = p.encoded
        case .sourceGraded(let p): reencoded = p.encoded
        case .factGraded(let p): reencoded = p.encoded
        case .annotationAdded(let p): reencoded = p.encoded
        case .anchorDecided(let p): reencoded = p.encoded
        case .teamCreated(let p): reencoded = p.encoded
        case .memberAdded(let p): reencoded = p.encoded
        case .deviceEnrolled(let p): reencoded = p.encoded
        case .roleChanged(let p): reencoded = p.encoded
        case .keyRevoked(let p): reencoded = p.encoded
        case .memberRemoved(let p): reencoded = p.encoded
        case .payloadRedacted(let p): reencoded = p.encoded
        }
        for c in candidates { _ = try? Candidate(cbor: c) }
        if case .notUnderstood(let why) = DecodedPayload(type: type, schema: schema, payload: reencoded) {
            preconditionFailure("an accepted \(type) payload re-encodes to one refused: \(why)")
        }
        return true
    }

    // MARK: Bundle (Protocol/05-bundle.md)

    /// `BundleReader` over a file holding the input: the header (its signature must verify, so
    /// mutations of a valid bundle's records are what reach `next()`), then every record until the
    /// end, the trailer, a cut or a refusal.
    @discardableResult
    public static func bundle(_ bytes: [UInt8]) -> Bool {
        // A file of its own per call: the regression tests run the harness from several threads.
        let path = (scratchDirectory as NSString).appendingPathComponent("gloss-fuzz-\(UUID().uuidString).glossb")
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)),
              let handle = FileHandle(forReadingAtPath: path) else {
            preconditionFailure("cannot write the scratch file \(path)")
        }
        defer { try? handle.close(); try? FileManager.default.removeItem(atPath: path) }
        let reader = BundleReader(handle: handle)
        guard (try? reader.readHeader()) != nil else { return false }
        do {
            while let event = try reader.next() { _ = event.envelope.matches(payload: event.payload ?? []) }
        } catch { return false }
        return true
    }

    /// In memory when /dev/shm exists.
    static let scratchDirectory = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()

    // MARK: Wire (Protocol/07-wire.md)

    /// A frame body as the session state machine decodes it (the plaintext key exchange, or a
    /// message after decryption): `WireMessage(decoding:)`. An accepted message re-encodes to the
    /// same bytes, except an error message whose reason was not valid UTF-8 or over 1000 bytes.
    @discardableResult
    public static func wireFrame(_ bytes: [UInt8]) -> Bool {
        guard let message = try? WireMessage(decoding: bytes) else { return false }
        if case .error = message { return true }
        precondition(message.encoded == bytes, "an accepted wire message re-encodes to its own bytes")
        return true
    }

    // MARK: Vector file (Protocol/05-bundle.md §Vector file)

    @discardableResult
    public static func vectorFile(_ bytes: [UInt8]) -> Bool {
        (try? VectorFile.decode(Data(bytes), name: "fuzz.json")) != nil
    }

    // MARK: Article (Protocol/02-payloads.md §ArticleIngested, Protocol/06-extraction.md)

    /// What `gloss ingest` runs on a file's bytes: `ArticleText.prepare`, the extraction rules on the
    /// prepared text, and the payload it writes, which must decode as understood.
    @discardableResult
    public static func article(_ bytes: [UInt8]) -> Bool {
        guard var prepared = try? ArticleText.prepare(bytes: bytes, filename: "fuzz.txt") else { return false }
        let candidates = Extraction.extract(text: prepared.text, articleDate: prepared.date)
        prepared.rulesVersion = Int64(Extraction.rulesVersion)
        prepared.candidates = candidates.map(\.cbor)
        for c in prepared.candidates {
            guard (try? Candidate(cbor: c)) != nil else { preconditionFailure("an extracted candidate does not decode") }
        }
        if case .notUnderstood(let why) = DecodedPayload(type: ArticleIngested.type, schema: ArticleIngested.schema, payload: prepared.encoded) {
            preconditionFailure("an ingested article's payload is refused: \(why)")
        }
        return true
    }
}
