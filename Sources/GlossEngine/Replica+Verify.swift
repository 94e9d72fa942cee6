import GlossStore

/// The result of `gloss verify`.
public typealias VerifyReport = LogVerification

extension Replica {
    /// Re-checks every stored event: id = SHA-256 of the envelope, envelope structure, feed
    /// continuity and `prev` chain, payload hash (unless purged) and every signature.
    public func verify() throws -> VerifyReport {
        try read { db in try store.verifyLog(db) }
    }
}
