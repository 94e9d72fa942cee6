import ArgumentParser
import Foundation
import GlossEngine
import GlossJSON
import GlossSync

/// Exit codes (documented in `gloss --help` and the README).
public enum Exit {
    public static let internalError: Int32 = 1
    public static let partial: Int32 = 2
    public static let notAReplica: Int32 = 3
    public static let verificationFailed: Int32 = 4
    public static let refused: Int32 = 5
    public static let ambiguous: Int32 = 6
    /// `gloss verify`: the log verifies, but fork evidence is held.
    public static let forkEvidence: Int32 = 9
    /// The disk is full or returned an I/O error.
    public static let storage: Int32 = 7
    /// `bundle import`, `sync`: done, but some events wait in pending.
    public static let pending: Int32 = 8
    public static let usage: Int32 = 64
    public static let badInput: Int32 = 65
    public static let notFound: Int32 = 66

    public static func code(for e: GlossError) -> Int32 {
        switch e.code {
        case .badInput: badInput
        case .notFound: notFound
        case .ambiguous: ambiguous
        case .notAReplica: notAReplica
        case .alreadyExists, .refused: refused
        case .verificationFailed: verificationFailed
        case .internalError, .connectionFailed: internalError
        case .diskFull, .ioError: storage
        }
    }
}

/// How a command reports: `--json` (one JSON object with `error` on failure) and `--progress`.
/// Read from the arguments before the command runs, so failures before and inside `run` alike
/// are reported the same way.
public enum CLIOutput {
    private static let state = Locked<(json: Bool, progress: Bool, openArray: Bool)>((false, false, false))

    public static func configure(arguments: [String]) {
        let flags = arguments.prefix(while: { $0 != "--" })
        state.withValue { $0 = (flags.contains("--json"), flags.contains("--progress"), false) }
    }

    public static var json: Bool { state.withValue { $0.json } }
    public static var progress: Bool { state.withValue { $0.progress } }
    public static func arrayOpened(_ open: Bool) { state.withValue { $0.openArray = open } }

    /// Reports a failure: the message on stderr and, with `--json`, a JSON object on stdout (closing
    /// a streamed array first, so the rows before it stay readable).
    public static func report(_ message: String, code: String, exit: Int32) {
        writeStandardError("gloss: \(terminalSafe(message))\n")
        guard json else { return }
        let closeArray = state.withValue { s -> Bool in defer { s.openArray = false }; return s.openArray }
        if closeArray { print("\n]") }
        print(JSON.object([("error", .string(message)), ("code", .string(code)), ("exit", .int(Int64(exit)))]).compact)
    }

    /// Reports an engine error and returns the exit code to throw.
    public static func fail(_ error: any Error) -> ExitCode {
        let g = GlossError.wrap(error, location: OpenedReplicas.location)
        let exit = Exit.code(for: g)
        // An unexpected error says what it was, so the report can be acted on.
        report(g.code == .internalError ? g.description : g.message, code: g.code.rawValue, exit: exit)
        return ExitCode(exit)
    }
}

/// Runs a command body, turning engine errors into a message on stderr (and a JSON object on stdout
/// with `--json`) and the documented exit code.
public func guarded(_ body: () throws -> Void) throws {
    PeakMemory.reportAtExitIfRequested()
    defer { OpenedReplicas.closeAll() }
    do { try body() } catch let e as ExitCode { throw e } catch {
        throw CLIOutput.fail(error)
    }
}

/// Range checks for numeric flags (exit 64 with a message naming the flag and the range): NaN,
/// infinities, negative and absurdly large values are refused before anything runs.
public enum FlagCheck {
    public static func seconds(_ flag: String, _ value: Double, max: Double, min: Double = 0.001) throws {
        guard value.isFinite, value >= min, value <= max else {
            throw ValidationError("\(flag) must be a number of seconds from \(format(min)) to \(format(max)) (got \(value))")
        }
    }

    public static func count<T: BinaryInteger>(_ flag: String, _ value: T, _ range: ClosedRange<T>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
    }

    public static func format(_ d: Double) -> String { d == d.rounded() ? String(Int64(d)) : String(d) }
}
public func out(_ s: String) { print(terminalSafe(s)) }

/// `s` with control characters other than tab, line feed and a CR before a line feed (C0, DEL, C1:
/// ESC sequences that set a terminal's title or colours, a lone carriage return that overwrites a
/// line) written as `\u{1B}`: text output shows what other analysts wrote, and a sync brings it
/// from anyone. (JSON output escapes them already.)
public func terminalSafe(_ s: String) -> String {
    // Fast path: no byte of a control character (C1 is C2 80–9F in UTF-8).
    var previous: UInt8 = 0, clean = true
    for b in s.utf8 {
        if (b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D) || b == 0x7F || (previous == 0xC2 && b >= 0x80 && b <= 0x9F) || previous == 0x0D && b != 0x0A {
            clean = false; break
        }
        previous = b
    }
    if clean && previous != 0x0D { return s }
    return PeerText.escapingControls(s) { u, next in u == "\t" || u == "\n" || (u == "\r" && next == "\n") }
}

/// Writes to standard error, ignoring failures (a full disk or a closed pipe must not crash the
/// command: FileHandle.write traps on them).
public func writeStandardError(_ s: String) { writeFileDescriptor(2, s) }

/// Writes all of `s` to `fd` (unbuffered), giving up quietly on an error.
public func writeFileDescriptor(_ fd: Int32, _ s: String) {
    var bytes = Array(s.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        bytes = bytes.dropFirst(n)
    }
}

public func err(_ s: String) { writeStandardError(s + "\n") }

