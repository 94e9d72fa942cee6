import ArgumentParser
import Foundation
import GlossEngine

struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tag any object (add-wins: a concurrent untag elsewhere does not remove this tag).")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The object (id or unique prefix).") var object: String
    @Argument(help: "The tag.") var tag: String
    @Flag(help: "Print JSON (keys: id (the addition), event; existing: true when already tagged).") var json = false
    func run() throws { try guarded { printCreated(try replica.open().tag(object, tag), json: json) } }
}

struct Untag: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a tag (only the additions this replica has seen).")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The object (id or unique prefix).") var object: String
    @Argument(help: "The tag.") var tag: String
    @Flag(help: "Print JSON (keys: id, event).") var json = false
    func run() throws { try guarded { printCreated(try replica.open().untag(object, tag), json: json) } }
}

struct Link: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Link two objects with a typed relation (e.g. supports, cites, same-as).")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "From object.") var from: String
    @Argument(help: "Relation (1–64 bytes).") var relation: String
    @Argument(help: "To object.") var to: String
    @Flag(help: "Print JSON (keys: id (the link), event; existing: true when already linked).") var json = false
    func run() throws { try guarded { printCreated(try replica.open().link(from, relation, to), json: json) } }
}

struct Unlink: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a link (only the additions this replica has seen).")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "From object.") var from: String
    @Argument(help: "Relation.") var relation: String
    @Argument(help: "To object.") var to: String
    @Flag(help: "Print JSON (keys: id, event).") var json = false
    func run() throws { try guarded { printCreated(try replica.open().unlink(from, relation, to), json: json) } }
}
