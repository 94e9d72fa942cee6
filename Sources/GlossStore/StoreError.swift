import GlossModel

/// An error from the replica store, with a code callers can match and a message that names what
/// failed and what to do. Messages carry ids and counts, never note or article text.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notAReplica, alreadyAReplica, notFound, ambiguous, invalidInput, verificationFailed,
             feedFrozen, pendingFull, corrupt, refused
    }
    public var code: Code
    public var message: String
    public var underlying: String?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code; self.message = message
        self.underlying = underlying.map { "\($0)" }
    }

    public var description: String {
        underlying.map { "\(message) (\($0))" } ?? message
    }
}
