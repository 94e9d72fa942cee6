import Foundation
import GlossIngest
import GlossModel
import GlossStore
import GlossSync

/// The error every engine call throws: a matchable code (which the CLI maps to its exit code), a
/// message for people that says what failed and what to do, and the cause.
public struct GlossError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Bad input data: not UTF-8, empty, too large, malformed file.
        case badInput
        /// No such object, event or file.
        case notFound
        /// An id prefix matches several things.
        case ambiguous
        /// No replica here (no `.gloss/` in this folder or its parents).
        case notAReplica
        /// A replica already exists where one would be created.
        case alreadyExists
        /// Stored events failed verification.
        case verificationFailed
        /// The request conflicts with the current state (e.g. editing a deleted note).
        case refused
        /// Something inside the replica is broken.
        case internalError
        /// The disk is full (SQLITE_FULL, ENOSPC); what failed was rolled back.
        case diskFull
        /// The disk returned an I/O error (SQLITE_IOERR, EIO).
        case ioError
        /// The peer could not be reached, or the connection broke (sync).
        case connectionFailed
    }
    public var code: Code
    public var message: String
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code; self.message = message; self.cause = cause.map { "\($0)" }
    }

    public var description: String { cause.map { "\(message) (cause: \($0))" } ?? message }

    /// Wraps an error from writing the output file `path` (not the replica): a disk-full or I/O
    /// error names that file's folder and says the replica is unchanged.
    public static func wrap(_ error: any Error, output path: String) -> GlossError {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        let folder = file.deletingLastPathComponent().path
        guard !(error is GlossError), let s = StoreError.storage(error, location: folder) else { return wrap(error) }
        var g = s.code == .diskFull
            ? GlossError(.diskFull, "the disk holding \(folder) is full; free space and retry. \(file.path) was not written; the replica is unchanged")
            : GlossError(.ioError, "the disk holding \(folder) returned an I/O error while \(file.path) was written; check the disk and retry. The replica is unchanged")
        g.cause = s.underlying
        return g
    }

    /// Wraps errors from lower modules; a disk-full or I/O error names `location` (the replica
    /// folder or output file on that disk) when given.
    public static func wrap(_ error: any Error, location: String? = nil) -> GlossError {
        if !(error is GlossError), let s = StoreError.storage(error, location: location) {
            var g = GlossError(s.code == .diskFull ? .diskFull : .ioError, s.message)
            g.cause = s.underlying
            return g
        }
        switch error {
        case let e as GlossError: return e
        case let e as IngestError: return GlossError(.badInput, e.message)
        case let e as SelectorError: return GlossError(e.code == .ambiguous ? .ambiguous : .badInput, e.message)
        case let e as StoreError:
            switch e.code {
            case .notAReplica: return GlossError(.notAReplica, e.message)
            case .alreadyAReplica: return GlossError(.alreadyExists, e.message)
            case .notFound: return GlossError(.notFound, e.message)
            case .ambiguous: return GlossError(.ambiguous, e.message)
            case .invalidInput: return GlossError(.badInput, e.message)
            case .verificationFailed: return GlossError(.verificationFailed, e.message)
            case .feedFrozen, .pendingFull, .refused: return GlossError(.refused, e.message)
            case .corrupt: return GlossError(.internalError, e.description)
            case .diskFull: return GlossError(.diskFull, e.message)
            case .ioError: return GlossError(.ioError, e.message)
            }
        case let e as DecodeError: return GlossError(.badInput, e.message)
        case let e as SyncError:
            switch e.code {
            case .refused: return GlossError(.refused, e.message)
            case .io, .timeout: return GlossError(.connectionFailed, e.message)
            case .protocolViolation: return GlossError(.internalError, e.message)
            case .unusable, .truncated: return GlossError(.badInput, e.message)
            }
        default: return GlossError(.internalError, "unexpected error; please report it with the command you ran", cause: error)
        }
    }
}
