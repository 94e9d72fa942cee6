import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON

struct Candidates: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "candidates",
        abstract: "List an article's extraction candidates (dates with precision, places, statements, countries, persons).",
        discussion: "Computed at ingest by versioned rules (Protocol/06-extraction.md) and recorded in an event, so every replica shows the same.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The article (id or unique prefix).") var article: String
    @Flag(help: "Print a JSON array (keys: id, kind, value, precision, rule, selector {exact, prefix, suffix, start, end}, speaker, role, saidOn, affiliation, rulesVersion).") var json = false
    func run() throws {
        try guarded {
            let cs = try replica.openForReading().candidates(article: article)
            if json { out(JSON.array(cs.map(\.json)).pretty); return }
            for c in cs {
                let (id, kind, value, rule) = (c.candidate, c.kind, c.value, c.rule)
                var extra = ""
                if let p = c.precision { extra += " (\(p))" }
                if let s = c.speaker { extra += " — \(s)" }
                if let r = c.role { extra += ", \(r)" }
                if let d = c.saidOn { extra += ", said \(d)" }
                let shown = value.count > 90 ? String(value.prefix(90)) + "…" : value
                out("\(id.prefix(10))  \(kind.padding(toLength: 9, withPad: " ", startingAt: 0)) \(shown)\(extra)  [\(rule)]")
            }
        }
    }
}

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extract", abstract: "Re-run extraction with this build's rules on an article (writes an event only if these rules have not run on its current revision).")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The article (id or unique prefix).") var article: String
    @Flag(help: "Print JSON (keys: id, event, existing).") var json = false
    func run() throws {
        try guarded {
            let c = try replica.open().extract(article: article)
            if json { out(c.json.compact) } else {
                out(c.existing ? "already extracted with these rules; nothing written" : "extracted: event \(c.event!.hex)")
            }
        }
    }
}
