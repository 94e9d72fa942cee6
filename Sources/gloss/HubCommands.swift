import ArgumentParser
import Foundation
import GlossEngine
import GlossHub
import GlossCommandLine
import GlossJSON

struct HubCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Hub databases on PostgreSQL (several `gloss serve --store` processes sharing one database; Protocol/12-hub.md).",
        subcommands: [HubInit.self, HubPrune.self])
}

struct HubInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the hub schema in a PostgreSQL database through named migrations (running it again changes nothing).",
        discussion: "The database must exist (createdb). Exit 0 when the schema is in place; 5 when the database was built for another projection version; 1 when the server cannot be reached; 64 for a malformed URL.")
    @OptionGroup var hub: HubStoreOption
    @Flag(help: "The hub joins a team (as `gloss init --join`): it adopts the first team genesis it receives; an admin adds each hub process's key (`gloss whoami --dir CACHE`) to the roster.") var join = false
    @Flag(help: "Print JSON (keys: store, projectionVersion, applied, migrations, existing).") var json = false

    func validate() throws {
        if hub.store == nil { throw ValidationError("--store URL is required") }
        _ = try hub.url()
    }

    func run() throws {
        try guarded {
            let r = try Hub.initialize(try hub.url()!, join: join)
            if json {
                out(JSON.object([("store", .string(r.store)), ("projectionVersion", .int(Int64(r.projectionVersion))),
                                 ("applied", .array(r.applied.map { .string($0) })), ("migrations", .array(r.migrations.map { .string($0) })),
                                 ("existing", .bool(r.existing))]).compact)
            } else if r.existing {
                out("\(r.store) is already a hub database (projection version \(r.projectionVersion)); nothing to do")
            } else {
                out("initialized hub database \(r.store) (projection version \(r.projectionVersion); migrations \(r.applied.joined(separator: ", ")))")
            }
        }
    }
}

struct HubPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete the hub changelog's entries older than some time (hub caches behind them copy the database again).",
        discussion: """
            Every write of a hub process adds an entry to the changelog (hub_changes) from which the \
            other processes' caches catch up; nothing else deletes them. A cache whose mark is below \
            the last entry deleted copies the whole database at its next write or refresh (a \
            bootstrap) instead of catching up. Example: `gloss hub prune --store URL --older-than \
            604800` keeps a week. Exit 0 when done; 3 when the database is not a hub; 5 when it was \
            built for another projection version; 1 when the server cannot be reached; 64 for a bad \
            URL or --older-than.
            """)
    @OptionGroup var hub: HubStoreOption
    @Option(parsing: .unconditional, help: ArgumentHelp("Delete the entries written more than this many seconds ago (0: all of them; at most 3,153,600,000, 100 years).", valueName: "SECONDS"))
    var olderThan: Int
    @Flag(help: "Print JSON (keys: store, pruned, through).") var json = false

    func validate() throws {
        if hub.store == nil { throw ValidationError("--store URL is required") }
        _ = try hub.url()
        try FlagCheck.count("--older-than", olderThan, 0...3_153_600_000)
    }

    func run() throws {
        try guarded {
            let url = try hub.url()!
            let r = try Hub.prune(url, olderThan: olderThan)
            if json {
                out(JSON.object([("store", .string(url.description)), ("pruned", .int(Int64(r.rows))), ("through", .int(r.through))]).compact)
            } else {
                out("pruned \(r.rows) changelog entries of \(url) (every entry up to serial \(r.through) is gone; caches behind it copy the database again)")
            }
        }
    }
}
