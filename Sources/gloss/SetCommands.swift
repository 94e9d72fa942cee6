import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine

/// `ID TAG [--json]`, shared by tag and untag.
struct TagArguments: ParsableArguments {
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The object (id or unique prefix).") var object: String
    @Argument(help: "The tag.") var tag: String
    @Flag(help: "Print JSON (keys: id, event; existing: true when nothing was written).") var json = false
}

/// `FROM RELATION TO [--json]`, shared by link and unlink.
struct LinkArguments: ParsableArguments {
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "From object.") var from: String
    @Argument(help: "Relation (1–64 bytes, e.g. supports, cites, same-as).") var relation: String
    @Argument(help: "To object.") var to: String
    @Flag(help: "Print JSON (keys: id, event; existing: true when nothing was written).") var json = false
}

struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Tag any object (add-wins: an untag removes only the additions it saw, so a concurrent untag elsewhere does not remove a new addition). The id printed is the addition's; an object already so tagged here writes nothing (existing: true, the addition held, which an untag that saw it removes).")
    @OptionGroup var args: TagArguments
    func run() throws { try guarded { printCreated(try args.replica.open().tag(args.object, args.tag), json: args.json) } }
}

struct Untag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "untag", abstract: "Remove a tag (only the additions this replica has seen).")
    @OptionGroup var args: TagArguments
    func run() throws { try guarded { printCreated(try args.replica.open().untag(args.object, args.tag), json: args.json) } }
}

struct Link: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "link", abstract: "Link two objects with a typed relation (add-wins, as tags). The id printed is the link's; a link already held writes nothing (existing: true).")
    @OptionGroup var args: LinkArguments
    func run() throws { try guarded { printCreated(try args.replica.open().link(args.from, args.relation, args.to), json: args.json) } }
}

struct Unlink: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unlink", abstract: "Remove a link (only the additions this replica has seen).")
    @OptionGroup var args: LinkArguments
    func run() throws { try guarded { printCreated(try args.replica.open().unlink(args.from, args.relation, args.to), json: args.json) } }
}
