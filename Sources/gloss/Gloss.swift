import ArgumentParser
import Foundation
import GlossEngine
import GlossJSON

@main
struct Gloss: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gloss",
        abstract: "Event-sourced sync engine for analyst notes.",
        discussion: """
            A replica is a folder holding .gloss/ (found in the current folder or a parent, or named by \
            --dir / GLOSS_DIR). Ids are hexadecimal; anywhere an id is taken a unique prefix is enough.

            Exit codes: 0 success; 1 internal error (for sync: the session failed); 2 done, but some \
            input was rejected; 3 not a replica; 4 verification failed; 5 refused (already exists, \
            deleted, frozen, over a query limit); 6 ambiguous id prefix or quote; 7 the disk is full or \
            returned an I/O error (what failed was rolled back; free space and retry); 8 (bundle import, \
            sync) done, but some events wait in pending for what they depend on (`gloss pending`); \
            9 (verify) the log verifies but fork evidence is held; \
            64 usage error (a bad flag or value); 65 bad input data; 66 not found.

            With --json, a command that fails prints one JSON object on standard output, \
            {"error": MESSAGE, "code": CODE, "exit": N} (after any rows already printed), beside the \
            message on standard error. Progress lines go to standard error only when it is a terminal \
            and --json is not given, or with --progress.
            """,
        subcommands: [Init.self, WhoAmI.self, TeamCommand.self, Redact.self, Ingest.self, Note.self, Status.self, Log.self, Show.self, Verify.self,
                      Rebuild.self, Digest.self, AsOf.self, Diff.self, Query.self, Search.self, Vector.self, BundleCommand.self, Peers.self, Quarantine.self, PendingCommand.self, Serve.self, HubCommand.self, Sync.self, Conflicts.self, ConflictCommand.self, Resolve.self, Candidates.self, Extract.self, Tag.self, Untag.self, Link.self, Unlink.self, FactCommand.self, Facts.self, Annotate.self, Annotations.self, SourceCommand.self, Grade.self, Anchors.self, AnchorCommand.self, Export.self, Bench.self]
    )

    /// As ArgumentParser's, but a usage error (exit 64) is also reported as a JSON object on
    /// standard output with `--json`.
    static func main() async {
        CLIOutput.configure(arguments: Array(CommandLine.arguments.dropFirst()))
        // Swift would repair a non-UTF-8 argument with U+FFFD: a note body, a tag or a path that
        // is not what was typed. Refused before anything runs.
        if let bad = Self.firstNonUTF8Argument() {
            CLIOutput.report("argument \(bad) is not valid UTF-8; gloss takes texts, ids and paths as UTF-8 (convert it, e.g. with iconv, or rename the file)",
                             code: GlossError.Code.badInput.rawValue, exit: Exit.badInput)
            Self.exitAfterFlushing(Exit.badInput)
        }
        do {
            var command = try parseAsRoot()
            if var c = command as? AsyncParsableCommand { try await c.run() } else { try command.run() }
        } catch {
            let code = exitCode(for: error)
            if !(error is ExitCode), code != .success, CLIOutput.json {
                print(JSON.object([("error", .string(message(for: error))), ("code", .string(code.rawValue == Exit.usage ? "usage" : "error")),
                                   ("exit", .int(Int64(code.rawValue)))]).compact)
            }
            // As ArgumentParser's exit(withError:): help on standard output, errors on standard error.
            let text = fullMessage(for: error)
            if !text.isEmpty {
                if code == .success { print(text) } else { writeStandardError(text + "\n") }
            }
            Self.exitAfterFlushing(code.rawValue)
        }
        Self.exitAfterFlushing(0)
    }

    /// The position (1 = the first after `gloss`) of the first argument that is not valid UTF-8.
    static func firstNonUTF8Argument() -> Int? {
        // `stride`, not `1..<argc`: a process can be started with no argv at all (argc 0).
        stride(from: 1, to: Int(CommandLine.argc), by: 1).first { i in CommandLine.unsafeArgv[i].map { String(validatingCString: $0) == nil } ?? false }
    }

    /// Exits with `status`, unless what was printed could not all be written (`gloss vector >
    /// /dev/full`, a full disk behind a redirection): then 7, with the reason on standard error,
    /// so that a script never takes a cut output for a whole one.
    static func exitAfterFlushing(_ status: Int32) -> Never {
        // `fflush(NULL)`: Swift 6 refuses a reference to C's `stdout` (shared mutable state). A
        // write that failed earlier left data unwritten in the buffer, which fails again here.
        errno = 0
        if fflush(nil) != 0 {
            let reason = String(cString: strerror(errno == 0 ? EIO : errno))
            writeStandardError("gloss: cannot write the output to standard output (\(reason)); it is incomplete: free space or check where the output goes, then run the command again\n")
            Foundation.exit(Exit.storage)
        }
        Foundation.exit(status)
    }
}

/// Exit codes (documented in `gloss --help` and the README).
enum Exit {
    static let internalError: Int32 = 1
    static let partial: Int32 = 2
    static let notAReplica: Int32 = 3
    static let verificationFailed: Int32 = 4
    static let refused: Int32 = 5
    static let ambiguous: Int32 = 6
    /// `gloss verify`: the log verifies, but fork evidence is held.
    static let forkEvidence: Int32 = 9
    /// The disk is full or returned an I/O error.
    static let storage: Int32 = 7
    /// `bundle import`, `sync`: done, but some events wait in pending.
    static let pending: Int32 = 8
    static let usage: Int32 = 64
    static let badInput: Int32 = 65
    static let notFound: Int32 = 66

    static func code(for e: GlossError) -> Int32 {
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
enum CLIOutput {
    private static let state = Locked<(json: Bool, progress: Bool, openArray: Bool)>((false, false, false))

    static func configure(arguments: [String]) {
        let flags = arguments.prefix(while: { $0 != "--" })
        state.withValue { $0 = (flags.contains("--json"), flags.contains("--progress"), false) }
    }

    static var json: Bool { state.withValue { $0.json } }
    static var progress: Bool { state.withValue { $0.progress } }
    static func arrayOpened(_ open: Bool) { state.withValue { $0.openArray = open } }

    /// Reports a failure: the message on stderr and, with `--json`, a JSON object on stdout (closing
    /// a streamed array first, so the rows before it stay readable).
    static func report(_ message: String, code: String, exit: Int32) {
        writeStandardError("gloss: \(terminalSafe(message))\n")
        guard json else { return }
        let closeArray = state.withValue { s -> Bool in defer { s.openArray = false }; return s.openArray }
        if closeArray { print("\n]") }
        print(JSON.object([("error", .string(message)), ("code", .string(code)), ("exit", .int(Int64(exit)))]).compact)
    }

    /// Reports an engine error and returns the exit code to throw.
    static func fail(_ error: any Error) -> ExitCode {
        let g = GlossError.wrap(error, location: OpenedReplicas.location)
        let exit = Exit.code(for: g)
        // An unexpected error says what it was, so the report can be acted on.
        report(g.code == .internalError ? g.description : g.message, code: g.code.rawValue, exit: exit)
        return ExitCode(exit)
    }
}

/// Runs a command body, turning engine errors into a message on stderr (and a JSON object on stdout
/// with `--json`) and the documented exit code.
func guarded(_ body: () throws -> Void) throws {
    PeakMemory.reportAtExitIfRequested()
    defer { OpenedReplicas.closeAll() }
    do { try body() } catch let e as ExitCode { throw e } catch {
        throw CLIOutput.fail(error)
    }
}

/// Range checks for numeric flags (exit 64 with a message naming the flag and the range): NaN,
/// infinities, negative and absurdly large values are refused before anything runs.
enum FlagCheck {
    static func seconds(_ flag: String, _ value: Double, max: Double, min: Double = 0.001) throws {
        guard value.isFinite, value >= min, value <= max else {
            throw ValidationError("\(flag) must be a number of seconds from \(format(min)) to \(format(max)) (got \(value))")
        }
    }

    static func count<T: BinaryInteger>(_ flag: String, _ value: T, _ range: ClosedRange<T>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
    }

    static func format(_ d: Double) -> String { d == d.rounded() ? String(Int64(d)) : String(d) }
}
func out(_ s: String) { print(terminalSafe(s)) }

/// `s` with control characters other than tab, line feed and a CR before a line feed (C0, DEL, C1:
/// ESC sequences that set a terminal's title or colours, a lone carriage return that overwrites a
/// line) written as `\u{1B}`: text output shows what other analysts wrote, and a sync brings it
/// from anyone. (JSON output escapes them already.)
func terminalSafe(_ s: String) -> String {
    // Fast path: no byte of a control character (C1 is C2 80–9F in UTF-8).
    var previous: UInt8 = 0, clean = true
    for b in s.utf8 {
        if (b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D) || b == 0x7F || (previous == 0xC2 && b >= 0x80 && b <= 0x9F) || previous == 0x0D && b != 0x0A {
            clean = false; break
        }
        previous = b
    }
    if clean && previous != 0x0D { return s }
    var out = String.UnicodeScalarView()
    let scalars = Array(s.unicodeScalars)
    for (i, u) in scalars.enumerated() {
        let crlf = u == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n"
        if ((u.value < 0x20 && u != "\t" && u != "\n") || (0x7F...0x9F).contains(u.value)) && !crlf {
            out.append(contentsOf: "\\u{\(String(u.value, radix: 16, uppercase: true))}".unicodeScalars)
        } else {
            out.append(u)
        }
    }
    return String(out)
}

/// Writes to standard error, ignoring failures (a full disk or a closed pipe must not crash the
/// command: FileHandle.write traps on them).
func writeStandardError(_ s: String) { writeFileDescriptor(2, s) }

/// Writes all of `s` to `fd` (unbuffered), giving up quietly on an error.
func writeFileDescriptor(_ fd: Int32, _ s: String) {
    var bytes = Array(s.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        bytes = bytes.dropFirst(n)
    }
}

func err(_ s: String) { writeStandardError(s + "\n") }

struct ReplicaOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The replica folder (default: GLOSS_DIR, else the current folder or a parent holding .gloss/).", valueName: "FOLDER"))
    var dir: String?

    var folder: URL {
        if let dir { return URL(fileURLWithPath: dir) }
        if let env = ProcessInfo.processInfo.environment["GLOSS_DIR"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    func open() throws -> Replica { OpenedReplicas.add(try Replica.open(at: folder)) }

    /// For commands that only read: they still work when the disk is full.
    func openForReading() throws -> Replica { OpenedReplicas.add(try Replica.open(at: folder, access: .read)) }
}

/// The replicas a command opened, closed when it ends (`guarded`, and the network commands): the
/// last connection's close checkpoints the WAL into the database and removes it, so a finished
/// command leaves a plain database file behind rather than a WAL for the next open to recover.
enum OpenedReplicas {
    private static let opened = Locked<[Replica]>([])

    static func add(_ r: Replica) -> Replica {
        opened.withValue { $0.append(r) }
        return r
    }

    /// The replica folder of the first opened replica (`.gloss/`), for messages about its disk.
    static var location: String? {
        opened.withValue { $0.first?.folder.appendingPathComponent(Replica.directoryName).path }
    }

    private static let temporary = Locked<[URL]>([])

    /// A replica in a temporary folder (a hub database's snapshot), removed by `closeAll`.
    static func addTemporary(_ r: Replica) -> Replica {
        temporary.withValue { $0.append(r.folder) }
        return add(r)
    }

    static func closeAll() {
        for r in opened.withValue({ list in defer { list = [] }; return list }) { try? r.close() }
        for f in temporary.withValue({ list in defer { list = [] }; return list }) { try? FileManager.default.removeItem(at: f) }
    }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init",
        abstract: "Create a replica (.gloss/ with a new key and database) in a folder.",
        discussion: """
            --new-team NAME also creates a team: this replica writes the team's genesis and its analyst \
            is the first admin. --join makes a replica that joins a team: it prints its key for an admin \
            to add (`gloss team add ANALYST --key KEY`), then takes the team from the first bundle \
            import or sync with a member. Without either, the replica belongs to no team.
            """)
    @OptionGroup var replica: ReplicaOptions
    @Option(help: "The analyst who owns this replica (1–64 bytes).") var analyst: String
    @Option(name: .customLong("new-team"), help: "Create a team with this name; this analyst is its first admin.") var newTeam: String?
    @Flag(help: "Join a team: print this replica's key for an admin to add, then import a bundle or sync.") var join = false
    @Flag(help: "Print JSON (keys: analyst, replica, folder, team, teamMode).") var json = false

    func validate() throws {
        if newTeam != nil && join { throw ValidationError("give --new-team or --join, not both") }
    }

    func run() throws {
        try guarded {
            let setup: Replica.TeamSetup = newTeam.map { .create(name: $0) } ?? (join ? .join : .none)
            let r = OpenedReplicas.add(try Replica.create(in: replica.folder, analyst: analyst, team: setup))
            let team = try r.teamID
            let mode = try r.team().mode
            if json {
                out(JSON.object([("analyst", .string(r.analyst)), ("replica", .string(r.replicaID.hex)), ("folder", .string(r.folder.path)),
                                 ("team", team == .none ? .null : .string(team.hex)), ("teamMode", .string(mode.rawValue))]).compact)
            } else {
                out("Initialized replica \(r.replicaID.hex) for \(r.analyst) in \(r.folder.appendingPathComponent(".gloss").path)")
                switch setup {
                case .create(let name): out("Created team \(name) (\(team.hex)); \(r.analyst) is its first admin.")
                case .join: out("Joining a team: give this key to an admin, who runs\n  gloss team add \(r.analyst) --key \(r.replicaID.hex) --role analyst\nthen import their bundle or sync with them.")
                case .none: break
                }
            }
        }
    }
}

struct WhoAmI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Print the analyst and the replica id (the replica's public key).",
                                                    discussion: "Warns on standard error when the key file is readable by others.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print JSON (keys: analyst, replica, team, teamMode, role, keyFileWarning).") var json = false

    func run() throws {
        try guarded {
            let r = try replica.openForReading()
            let warning = r.keyFileWarning()
            if let warning { err("warning: \(warning)") }
            let view = try r.team()
            let role = view.members.first { $0.keys.contains { $0.thisReplica } }?.role
            if json {
                out(JSON.object([("analyst", .string(r.analyst)), ("replica", .string(r.replicaID.hex)),
                                 ("team", view.team.map { .string($0.hex) } ?? .null), ("teamMode", .string(view.mode.rawValue)),
                                 ("role", role.map { .string($0.rawValue) } ?? .null),
                                 ("keyFileWarning", warning.map { .string($0) } ?? .null)]).compact)
            } else {
                out("\(r.analyst) \(r.replicaID.hex)")
            }
        }
    }
}


/// With `GLOSS_PEAK_RSS_FILE` set, writes this process's peak resident memory (VmHWM, in kB) to that
/// file at exit: how the scale tests measure a command exactly (rusage of a spawned child also
/// counts the parent's memory from before exec).
enum PeakMemory {
    private static let installed: Bool = {
        guard ProcessInfo.processInfo.environment["GLOSS_PEAK_RSS_FILE"] != nil else { return false }
        atexit {
            guard let path = ProcessInfo.processInfo.environment["GLOSS_PEAK_RSS_FILE"],
                  let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return }
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            try? "\(kb)\n".write(toFile: path, atomically: true, encoding: .utf8)
        }
        return true
    }()
    static func reportAtExitIfRequested() { _ = installed }
}
