import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON
import GlossModel

extension TeamRole: ExpressibleByArgument {}

struct TeamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team",
        abstract: "Show or change the team roster (who may read and write).",
        discussion: """
            Every replica judges every event against the roster in that event's causal past \
            (Protocol/11-teams.md): events signed by keys not on it are refused, readers cannot write, \
            only admins change the roster, and only a fact's author or an admin amends or retracts it. \
            Roster changes are events signed by an admin; they sync like any other.
            """,
        subcommands: [List.self, Add.self, Enrol.self, Role.self, Revoke.self, Remove.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the roster as of now (the default).")
        @OptionGroup var replica: ReplicaOptions
        @Flag(help: "Print JSON (keys: mode, team, name, members: [{analyst, role, present, keys: [{key, enrolledBy, revokedBy, reason, thisReplica}]}]).") var json = false

        func run() throws {
            try guarded {
                let v = try replica.openForReading().team()
                if json { out(v.json.compact); return }
                switch v.mode {
                case .none: out("This replica belongs to no team (create one with `gloss init --analyst NAME --new-team TEAM`)."); return
                case .joining: out("This replica is joining a team and has not received its roster yet (import a member's bundle or sync with one)."); return
                case .member: break
                }
                out("Team \(v.name ?? "?") \(v.team?.hex ?? "")")
                for m in v.members {
                    out("\(m.analyst)  \(m.role.rawValue)\(m.present ? "" : "  (removed)")")
                    for k in m.keys {
                        let state = k.revokedBy.map { "revoked by \($0.short)\(k.reason.map { ": \($0)" } ?? "")" } ?? "active"
                        out("  \(k.key.hex)  \(state)\(k.thisReplica ? "  (this replica)" : "")")
                    }
                }
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an analyst with a role and a first device key (admins).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The analyst's name (as their replica's `gloss whoami` prints it).") var analyst: String
        @Option(help: "The analyst's replica key (64 hex digits: `gloss whoami` or `gloss init --join` prints it).") var key: String
        @Option(help: "admin, analyst or reader.") var role: TeamRole = .analyst
        @Flag(help: "Print JSON (keys: event).") var json = false
        func validate() throws { _ = try parsedKey(key) }
        func run() throws {
            try guarded { printEvent(try replica.open().addMember(analyst, role: role, key: try parsedKey(key)), json: json) }
        }
    }

    struct Enrol: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enrol", abstract: "Enrol another device (replica key) for an analyst on the team (admins).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The analyst.") var analyst: String
        @Option(help: "The new device's replica key (64 hex digits).") var key: String
        @Flag(help: "Print JSON (keys: event).") var json = false
        func validate() throws { _ = try parsedKey(key) }
        func run() throws {
            try guarded { printEvent(try replica.open().enrolDevice(analyst, key: try parsedKey(key)), json: json) }
        }
    }

    struct Role: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "role", abstract: "Change an analyst's role (admins).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The analyst.") var analyst: String
        @Argument(help: "admin, analyst or reader.") var role: TeamRole
        @Flag(help: "Print JSON (keys: event).") var json = false
        func run() throws { try guarded { printEvent(try replica.open().changeRole(analyst, to: role), json: json) } }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key for good: a lost or stolen device (admins).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The key (64 hex digits or a unique prefix of a key on the roster).") var key: String
        @Option(help: "Why (kept in the roster).") var reason: String
        @Flag(help: "Print JSON (keys: event).") var json = false
        /// A key that cannot be one is a usage error (64), as `team add`'s.
        func validate() throws {
            let t = key.lowercased()
            guard (4...64).contains(t.count), t.allSatisfy(\.isHexDigit) else {
                throw ValidationError("KEY must be a replica key: 64 hex digits (`gloss whoami` on that replica prints it) or a unique prefix of at least 4")
            }
        }
        func run() throws {
            try guarded {
                let r = try replica.open()
                printEvent(try r.revokeKey(try r.rosterKey(key), reason: reason), json: json)
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an analyst from the team; every key of theirs is revoked with it (admins).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The analyst.") var analyst: String
        @Option(help: "Why (kept in the roster).") var reason: String
        @Flag(help: "Print JSON (keys: event).") var json = false
        func run() throws { try guarded { printEvent(try replica.open().removeMember(analyst, reason: reason), json: json) } }
    }
}

/// A `--key` value: a replica id, 64 hex digits (a usage error otherwise, exit 64).
private func parsedKey(_ text: String) throws -> ReplicaID {
    guard let k = ReplicaID(hex: text.lowercased()) else {
        throw ValidationError("--key must be a replica key: 64 hex digits (`gloss whoami` on that replica prints it)")
    }
    return k
}

private func printEvent(_ e: SignedEvent, json: Bool) {
    if json { out(JSON.object([("event", .string(e.id.hex))]).compact) } else { out(e.id.hex) }
}

struct Redact: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redact",
        abstract: "Purge one event's payload on every replica (admins): a privacy order, an illegal document.",
        discussion: """
            The event's envelope, id and signature stay, so every chain still verifies; its payload is \
            removed from the log, from pending and quarantine copies and from fork evidence, its object \
            leaves the projections, and the `redactions` table says who redacted it, when and why. The \
            payload is never sent again nor restored from a later copy. Roster events cannot be redacted. \
            Prints the redaction event's id.
            """)
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The event (id or unique prefix, from `gloss log`; or one held only as fork evidence, the frozen part of a forked feed), or a note, fact, annotation, tag or link id.") var event: String
    @Option(help: "Why (kept in the redaction, shown to everyone).") var reason: String
    @Flag(help: "Print JSON (keys: event, redacted).") var json = false
    func run() throws {
        try guarded {
            let e = try replica.open().redact(event, reason: reason)
            let target: String
            if case .payloadRedacted(let p) = DecodedPayload(type: e.envelope.type, schema: e.envelope.schema, payload: e.payload) { target = p.event } else { target = "" }
            if json { out(JSON.object([("event", .string(e.id.hex)), ("redacted", .string(target))]).compact) } else { out(e.id.hex) }
        }
    }
}

// Domain enums parsed by ArgumentParser itself: a value outside them is a usage error (exit 64)
// naming the values allowed.
extension FactField: ExpressibleByArgument {}
extension Reliability: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}
extension Credibility: ExpressibleByArgument {}
