import ArgumentParser
import Foundation
import GlossEngine
import GlossCommandLine
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

    static func main() async {
        // The benchmarks are their own executable, built beside this one.
        if CommandLine.arguments.dropFirst().first == "bench" { Bench.forward(Array(CommandLine.arguments.dropFirst(2))) }
        await CommandLineMain.run(Gloss.self)
    }
}

struct ReplicaOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The replica folder (default: GLOSS_DIR, else the current folder or a parent holding .gloss/).", valueName: "FOLDER"))
    var dir: String?

    var folder: URL {
        if let dir { return URL(fileURLWithPath: dir) }
        if let env = ProcessInfo.processInfo.environment["GLOSS_DIR"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// Opening tells on standard error of a store migration or projection rebuild it runs first.
    func open() throws -> Replica { OpenedReplicas.add(try Replica.open(at: folder, upkeep: UpkeepNotice.report)) }

    /// For commands that only read: they still work when the disk is full.
    func openForReading() throws -> Replica { OpenedReplicas.add(try Replica.open(at: folder, access: .read, upkeep: UpkeepNotice.report)) }
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
    @Flag(help: "Print JSON (keys: analyst, replica, team, teamMode, role, rosterAnalyst, keyFileWarning).") var json = false

    func run() throws {
        try guarded {
            let r = try replica.openForReading()
            let warning = r.keyFileWarning()
            if let warning { err("warning: \(warning)") }
            let view = try r.team()
            // `role`: what this replica may do — the role of the analyst its key acts for, when that
            // is this replica's analyst, present, and the key not revoked (a key enrolled under
            // another name showed that analyst's role while every write was refused).
            let holder = view.members.first { $0.keys.contains { $0.thisReplica } }
            let key = holder?.keys.first { $0.thisReplica }
            let role = holder.flatMap { $0.analyst == r.analyst && $0.present && key?.revokedBy == nil ? $0.role : nil }
            if let holder, holder.analyst != r.analyst {
                err("warning: this replica's key is on the team's roster as \(holder.analyst), not \(r.analyst): its writes are refused (an admin can enrol a key for \(r.analyst), or this replica can be made again as \(holder.analyst))")
            }
            if json {
                out(JSON.object([("analyst", .string(r.analyst)), ("replica", .string(r.replicaID.hex)),
                                 ("team", view.team.map { .string($0.hex) } ?? .null), ("teamMode", .string(view.mode.rawValue)),
                                 ("role", role.map { .string($0.rawValue) } ?? .null),
                                 ("rosterAnalyst", holder.map { .string($0.analyst) } ?? .null),
                                 ("keyFileWarning", warning.map { .string($0) } ?? .null)]).compact)
            } else {
                out("\(r.analyst) \(r.replicaID.hex)")
            }
        }
    }
}


