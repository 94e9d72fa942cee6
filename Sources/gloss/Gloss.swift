import ArgumentParser
import Foundation
import GlossEngine

@main
struct Gloss: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gloss",
        abstract: "Event-sourced sync engine for analyst notes.",
        discussion: """
            A replica is a folder holding .gloss/ (found in the current folder or a parent, or named by
            --dir / GLOSS_DIR). Ids are hexadecimal; anywhere an id is taken a unique prefix is enough.

            Exit codes: 0 success; 1 internal error; 2 done, but some input was rejected; 3 not a
            replica; 4 verification failed; 5 refused (already exists, deleted, frozen); 6 ambiguous id
            prefix or quote; 9 (verify) fork evidence held; 64 usage error; 65 bad input data; 66 not found.
            """,
        subcommands: [Init.self, WhoAmI.self, Ingest.self, Note.self, Status.self, Log.self, Show.self, Verify.self,
                      Rebuild.self, Digest.self, AsOf.self, Diff.self, Query.self, Search.self, Vector.self, BundleCommand.self, Peers.self, Quarantine.self, PendingCommand.self, Serve.self, Sync.self, Conflicts.self, ConflictCommand.self, Resolve.self, Candidates.self, Extract.self, Tag.self, Untag.self, Link.self, Unlink.self, FactCommand.self, Facts.self, Annotate.self, Annotations.self, SourceCommand.self, Grade.self, Anchors.self, AnchorCommand.self, Export.self, Bench.self]
    )
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
        case .internalError: internalError
        }
    }
}

/// Runs a command body, turning engine errors into a message on stderr and the documented exit code.
func guarded(_ body: () throws -> Void) throws {
    PeakMemory.reportAtExitIfRequested()
    defer { OpenedReplicas.closeAll() }
    do { try body() } catch let e as ExitCode { throw e } catch {
        let g = GlossError.wrap(error)
        // An unexpected error says what it was, so the report can be acted on.
        FileHandle.standardError.write(Data("gloss: \(g.code == .internalError ? g.description : g.message)\n".utf8))
        throw ExitCode(Exit.code(for: g))
    }
}

func out(_ s: String) { print(s) }

func err(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

struct ReplicaOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The replica folder (default: GLOSS_DIR, else the current folder or a parent holding .gloss/).", valueName: "FOLDER"))
    var dir: String?

    var folder: URL {
        if let dir { return URL(fileURLWithPath: dir) }
        if let env = ProcessInfo.processInfo.environment["GLOSS_DIR"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    func open() throws -> Replica { OpenedReplicas.add(try Replica.open(at: folder)) }
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

    static func closeAll() {
        for r in opened.withValue({ list in defer { list = [] }; return list }) { try? r.close() }
    }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a replica (.gloss/ with a new key and database) in a folder.")
    @OptionGroup var replica: ReplicaOptions
    @Option(help: "The analyst who owns this replica (1–64 bytes).") var analyst: String
    @Flag(help: "Print JSON (keys: analyst, replica, folder).") var json = false

    func run() throws {
        try guarded {
            let r = OpenedReplicas.add(try Replica.create(in: replica.folder, analyst: analyst))
            if json {
                out(JSON.object([("analyst", .string(r.analyst)), ("replica", .string(r.replicaID.hex)), ("folder", .string(r.folder.path))]).compact)
            } else {
                out("Initialized replica \(r.replicaID.hex) for \(r.analyst) in \(r.folder.appendingPathComponent(".gloss").path)")
            }
        }
    }
}

struct WhoAmI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Print the analyst and the replica id.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print JSON (keys: analyst, replica).") var json = false

    func run() throws {
        try guarded {
            let r = try replica.open()
            if json { out(JSON.object([("analyst", .string(r.analyst)), ("replica", .string(r.replicaID.hex))]).compact) }
            else { out("\(r.analyst) \(r.replicaID.hex)") }
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
