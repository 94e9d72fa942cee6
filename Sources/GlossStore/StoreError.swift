import Foundation
import GRDB
import GlossModel

/// An error from the replica store, with a code callers can match and a message that names what
/// failed and what to do. Messages carry ids and counts, never note or article text.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notAReplica, alreadyAReplica, notFound, ambiguous, invalidInput, verificationFailed,
             feedFrozen, pendingFull, corrupt, refused,
             /// The disk holding the replica is full (SQLITE_FULL, ENOSPC).
             diskFull,
             /// The disk returned an I/O error (SQLITE_IOERR, EIO).
             ioError
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

extension StoreError {
    /// The disk-full or I/O error `error` stands for, if it is one (SQLite's SQLITE_FULL and
    /// SQLITE_IOERR, and ENOSPC, EDQUOT and EIO from file writes), with a message naming
    /// `location` (the folder or file on that disk) and what to do; nil for any other error.
    ///
    /// An I/O error on a disk with no space left is reported as disk full: SQLite reports a failed
    /// extension of its shared-memory file (SQLITE_IOERR_SHMSIZE) or a failed `fsync` as I/O errors.
    public static func storage(_ error: any Error, location: String?) -> StoreError? {
        if let e = error as? StoreError, e.code == .diskFull || e.code == .ioError { return e }
        var full = false, io = false, detail = ""
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_FULL: full = true
            case .SQLITE_IOERR: io = true
            default: return nil
            }
            detail = "SQLite: \(e.message ?? "\(e.resultCode)") (\(e.extendedResultCode.rawValue))"
        } else {
            var n: (any Error)? = error
            var depth = 0
            while let current = n, depth < 4 {
                let ns = current as NSError
                if ns.domain == NSPOSIXErrorDomain {
                    if ns.code == Int(ENOSPC) || ns.code == Int(EDQUOT) { full = true } else if ns.code == Int(EIO) { io = true }
                } else if ns.domain == NSCocoaErrorDomain && ns.code == CocoaError.fileWriteOutOfSpace.rawValue {
                    full = true
                }
                if full || io { detail = ns.localizedDescription; break }
                n = ns.userInfo[NSUnderlyingErrorKey] as? any Error
                depth += 1
            }
            guard full || io else { return nil }
        }
        if io, let location, StoreError.freeBytes(at: location).map({ $0 < 64 * 1024 }) == true { full = true }
        let place = location ?? "the replica"
        if full {
            return StoreError(.diskFull, "the disk holding \(place) is full; free space and retry. Nothing was half-written: the change that failed was rolled back and the replica is consistent (check with `gloss verify`)", underlying: detail.isEmpty ? nil : StorageDetail(text: detail))
        }
        return StoreError(.ioError, "the disk holding \(place) returned an I/O error (\(detail)); check the disk (e.g. `dmesg`) and retry. The change that failed was rolled back; check the replica with `gloss verify`")
    }

    /// Bytes available to this user on the file system holding `path` (or its nearest existing parent).
    static func freeBytes(at path: String) -> UInt64? {
        var p = path
        while !p.isEmpty {
            var s = statvfs()
            if statvfs(p, &s) == 0 { return UInt64(s.f_bavail) * UInt64(s.f_frsize) }
            let parent = (p as NSString).deletingLastPathComponent
            if parent == p { break }
            p = parent
        }
        return nil
    }

    struct StorageDetail: Error, CustomStringConvertible { var text: String; var description: String { text } }
}
