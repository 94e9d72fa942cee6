import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON

func printConflict(_ c: ConflictInfo) {
    out("conflict \(c.id)  [\(c.state.rawValue)]  \(c.field) of \(c.objectKind) \(c.object.prefix(12))")
    for x in c.candidates {
        let v = x.value.map { $0.replacingOccurrences(of: "\n", with: "\n      ") } ?? "(deleted)"
        out("  \(x.event.prefix(12))  \(x.author)  \(x.at)\n      \(v)")
    }
    if let r = c.resolution { out("  resolved by \(r.prefix(12))") }
}

struct Conflicts: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conflicts", abstract: "List open conflicts: concurrent edits of one field, with every candidate.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Include resolved conflicts.") var all = false
    @Flag(help: "Print a JSON array (keys: id, object, objectKind, field, state, candidates [event, author, time, value, deleted], resolution).") var json = false
    func run() throws {
        try guarded {
            let cs = try replica.openForReading().conflicts(all: all)
            if json { out(JSON.array(cs.map(\.json)).pretty); return }
            if cs.isEmpty { out(all ? "no conflicts" : "no open conflicts") }
            for c in cs { printConflict(c) }
        }
    }
}

struct ConflictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conflict", abstract: "Inspect one conflict.", subcommands: [Show.self])
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a conflict with every candidate's full value.")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "Conflict id or unique prefix.") var id: String
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            try guarded {
                let c = try replica.openForReading().conflict(id)
                if json { out(c.json.pretty) } else { printConflict(c) }
            }
        }
    }
}

struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve",
        abstract: "Resolve a conflict: pick a candidate or give the value. The resolution is an event and syncs.",
        discussion: "A resolution closes the conflict on every replica it reaches; one concurrent with a newer edit opens a new conflict.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "Conflict id or unique prefix.") var id: String
    @Option(help: "The candidate event to keep (id or prefix).") var pick: String?
    @Option(help: "The new text.") var text: String?
    @Option(help: "Read the new text from a UTF-8 file.") var file: String?
    @Option(help: "The new value (for non-text fields; same as --text for note bodies).") var value: String?
    @Option(help: "Why (kept in the event).") var reason: String?
    @Flag(help: "Print JSON (keys: id, event).") var json = false

    func validate() throws {
        if [pick != nil, text != nil, file != nil, value != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --pick EVENT, --text T, --file F or --value V")
        }
    }

    func run() throws {
        try guarded {
            let r = try replica.open()
            var newValue = text ?? value
            if let file { newValue = try TextInput(text: nil, file: file).read() }
            printCreated(try r.resolve(id, pick: pick, value: newValue, reason: reason), json: json)
        }
    }
}
