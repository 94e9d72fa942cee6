import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON

/// `--occurrence N`, `--prefix T`, `--suffix T`: which occurrence of a quote that occurs more than once.
struct QuoteOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Pick the Nth occurrence (1-based, in text order) when the quote occurs more than once.") var occurrence: Int?
    @Option(help: "Pick the occurrence immediately preceded by this text.") var prefix: String?
    @Option(help: "Pick the occurrence immediately followed by this text.") var suffix: String?
    var choice: QuoteChoice { QuoteChoice(occurrence: occurrence, prefix: prefix, suffix: suffix) }
    func validate() throws {
        if let occurrence { try FlagCheck.count("--occurrence (counted from 1)", occurrence, 1...1_000_000) }
    }
}

/// One line per fact: id, state, grade, the statement, when/where, source.
private func factLine(_ f: FactSummary) -> String {
    var line = "\(f.id.prefix(10))  \((f.grade ?? "--").padding(toLength: 3, withPad: " ", startingAt: 0)) \(f.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) "
    line += "\(f.subject) | \(f.predicate) | \(f.object)"
    if let w = f.when { line += "  when: \(w)" }
    if let w = f.where { line += "  where: \(w)" }
    if let s = f.sourceName { line += "  source: \(s)" }
    if !f.corroboratedBy.isEmpty { line += "  corroborated ×\(f.corroboratedBy.count)" }
    if !f.contradictedBy.isEmpty { line += "  contradicted ×\(f.contradictedBy.count)" }
    return line
}

struct FactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fact",
        abstract: "Record, amend, retract, corroborate and contradict facts (who, what, when, where, with quoted evidence).",
        discussion: """
            A fact's fields are subject, predicate, object, when, where and source. Concurrent amendments of
            different fields merge; of the same field, or an amendment concurrent with a retraction, they
            conflict (`gloss conflicts`, `gloss resolve`). Grade with `gloss grade fact`.
            """,
        subcommands: [Add.self, Amend.self, Retract.self, Corroborate.self, Contradict.self, Show.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add",
            abstract: "Record a fact on an article's current revision; prints the fact id.",
            discussion: """
                --evidence is the exact quote supporting it; a quote occurring more than once is refused (exit 6,
                listing the occurrences) unless --occurrence, --prefix or --suffix picks one. --from-candidate
                fills the fields and the evidence from an extraction candidate (`gloss candidates`): a statement
                gives subject (speaker), predicate "said", object (the quote) and when (said-on); a person the
                subject; a date when; a place or country where. Flags given override it.
                """)
        @OptionGroup var replica: ReplicaOptions
        @Option(help: "The article (id or unique prefix).") var article: String?
        @Option(help: "Who or what the fact is about.") var subject: String?
        @Option(help: "What the subject did or is (e.g. said, met, deployed).") var predicate: String?
        @Option(help: "The object of the predicate.") var object: String?
        @Option(help: "When (e.g. 2021-06-26, 2021-09).") var when: String?
        @Option(help: "Where.") var `where`: String?
        @Option(help: "The source (name or id; see `gloss source list`).") var source: String?
        @Option(help: "The exact quote from the article that supports the fact.") var evidence: String?
        @OptionGroup var quote: QuoteOptions
        @Option(help: "An extraction candidate to start from (id or unique prefix).") var fromCandidate: String?
        @Flag(help: "Print JSON (keys: id, event).") var json = false

        func run() throws {
            try guarded {
                var input = FactInput()
                input.article = article; input.subject = subject; input.predicate = predicate; input.object = object
                input.when = when; input.where = `where`; input.source = source; input.evidence = evidence
                input.quote = quote.choice; input.fromCandidate = fromCandidate
                printCreated(try replica.open().addFact(input), json: json)
            }
        }
    }

    struct Amend: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "amend", abstract: "Change one field of a fact (an empty --value clears when, where or source).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The fact (id or unique prefix).") var fact: String
        @Option(help: "subject, predicate, object, when, where or source.") var field: FactField
        @Option(help: "The new value (for source: a source name or id).") var value: String
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().amendFact(fact, field: field, value: value), json: json) } }
    }

    struct Retract: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retract", abstract: "Withdraw a fact, saying why (its history stays).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The fact (id or unique prefix).") var fact: String
        @Option(help: "Why it is withdrawn.") var reason: String
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().retractFact(fact, reason: reason), json: json) } }
    }

    struct Corroborate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "corroborate", abstract: "Record that another fact corroborates this one (a `corroborates` link; prints the link id).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The fact corroborated.") var fact: String
        @Option(help: "The fact that corroborates it.") var by: String
        @Flag(help: "Print JSON (keys: id, event; existing: true when nothing was written).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().relateFact(fact, "corroborates", by: by), json: json) } }
    }

    struct Contradict: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "contradict", abstract: "Record that another fact contradicts this one (a `contradicts` link; prints the link id).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The fact contradicted.") var fact: String
        @Option(help: "The fact that contradicts it.") var by: String
        @Flag(help: "Print JSON (keys: id, event; existing: true when nothing was written).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().relateFact(fact, "contradicts", by: by), json: json) } }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A fact with its evidence, combined grade and the history of its record and of both grades.")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The fact (id or unique prefix).") var fact: String
        @Flag(help: "Print JSON (the keys of `gloss facts --json` plus history, credibilityHistory, reliabilityHistory).") var json = false
        func run() throws {
            try guarded {
                let f = try replica.openForReading().fact(fact)
                if json { out(f.json.pretty); return }
                out(factLine(f.fact))
                out("  evidence: «\(f.fact.evidence.exact)»")
                if let r = f.fact.retractReason { out("  retracted: \(r)") }
                for (rows, title) in [(f.history, "history"), (f.credibilityHistory, "credibility"), (f.reliabilityHistory, "source reliability")] {
                    guard !rows.isEmpty else { continue }
                    out("  \(title):")
                    for r in rows {
                        let what = r["grade"]?.text ?? [r["kind"]?.text, r["field"]?.text].compactMap { $0 }.joined(separator: " ")
                        out("    \(r["at"]?.text ?? "")  \(r["author"]?.text ?? "")  \(what)\(r["reason"]?.text.map { " — \($0)" } ?? "")")
                    }
                }
            }
        }
    }
}

struct Facts: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "facts",
        abstract: "List facts: id, combined grade (source reliability A–F with credibility 1–6, e.g. B2; ? when ungraded), state, statement.")
    @OptionGroup var replica: ReplicaOptions
    @Option(help: "Only this article's facts.") var article: String?
    @Flag(help: "Print a JSON array (keys: id, article, revision, subject, predicate, object, when, where, source, sourceName, reliability, credibility, grade, state (active, retracted, conflict), recordState, retractReason, evidence {exact, prefix, suffix, start, end}, fromCandidate, corroboratedBy, contradictedBy, author, createdAt, updatedAt).") var json = false
    func run() throws {
        try guarded {
            let fs = try replica.openForReading().facts(article: article)
            if json { out(JSON.array(fs.map(\.json)).pretty) } else { fs.forEach { out(factLine($0)) } }
        }
    }
}

struct Annotate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "annotate",
        abstract: "Annotate a quoted span of an article (current revision) with an optional comment and tags; prints the annotation id.",
        discussion: "A quote occurring more than once is refused (exit 6, listing the occurrences) unless --occurrence, --prefix or --suffix picks one.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The article (id or unique prefix).") var article: String
    @Option(help: "The exact text to annotate.") var quote: String
    @OptionGroup var choice: QuoteOptions
    @Option(help: "A comment.") var comment: String?
    @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
    @Flag(help: "Print JSON (keys: id, event).") var json = false
    func run() throws {
        try guarded {
            printCreated(try replica.open().annotate(article: article, quote: quote, choice: choice.choice, comment: comment, tags: tags), json: json)
        }
    }
}

struct Annotations: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "annotations", abstract: "List annotations (of one article, or all) in text order.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The article (id or unique prefix); all articles when left out.") var article: String?
    @Flag(help: "Print a JSON array (keys: id, article, revision, selector {exact, prefix, suffix, start, end}, comment, tags, author, createdAt).") var json = false
    func run() throws {
        try guarded {
            let list = try replica.openForReading().annotations(article: article)
            if json { out(JSON.array(list.map(\.json)).pretty); return }
            for a in list {
                let exact = a.selector.exact
                var line = "\(a.id.prefix(10))  «\(exact.count > 60 ? String(exact.prefix(60)) + "…" : exact)»"
                if let c = a.comment { line += "  \(c)" }
                if !a.tags.isEmpty { line += "  #" + a.tags.joined(separator: " #") }
                out(line)
            }
        }
    }
}

struct SourceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "source", abstract: "Add, list and show sources of information.",
                                                    subcommands: [Add.self, List.self, Show.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a source; prints its id (derived from the name, so the same name elsewhere is the same source).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The source's name (1–64 bytes).") var name: String
        @Option(help: "outlet, official, person, agency, organization, document, … (a label).") var kind: String?
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().addSource(name: name, kind: kind), json: json) } }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List sources with their current reliability.")
        @OptionGroup var replica: ReplicaOptions
        @Flag(help: "Print a JSON array (keys: id, name, kind, reliability, reliabilityState, facts, author, createdAt).") var json = false
        func run() throws {
            try guarded {
                let list = try replica.openForReading().sources()
                if json { out(JSON.array(list.map(\.json)).pretty); return }
                for s in list {
                    out("\(s.id.prefix(10))  \(s.reliability ?? "-")  \(s.name)\(s.kind.map { " (\($0))" } ?? "")")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A source with its reliability history (JSON).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The source (name or id).") var source: String
        @Flag(help: "Accepted for scripts that pass --json to every command: the output is JSON already (and so is a failure's).") var json = false
        func run() throws { try guarded { out(try replica.openForReading().sourceDetail(source).json.pretty) } }
    }
}

struct Grade: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grade",
        abstract: "Grade a source's reliability (A–F) or a fact's credibility (1–6) on the Admiralty scale.",
        discussion: """
            Reliability: A completely reliable, B usually reliable, C fairly reliable, D not usually reliable,
            E unreliable, F cannot be judged. Credibility: 1 confirmed by other sources, 2 probably true,
            3 possibly true, 4 doubtful, 5 improbable, 6 cannot be judged. Every grading is kept; concurrent
            different gradings are a conflict (`gloss conflicts`).
            """,
        subcommands: [SourceGrade.self, FactGrade.self])

    struct SourceGrade: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "source", abstract: "Grade a source's reliability (A–F).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The source (name or id).") var source: String
        @Option(help: "A–F (Admiralty source reliability).") var reliability: Reliability
        @Option(help: "Why.") var reason: String?
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().gradeSource(source, reliability: reliability, reason: reason), json: json) } }
    }

    struct FactGrade: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fact", abstract: "Grade a fact's credibility (1–6).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The fact (id or unique prefix).") var fact: String
        @Option(help: "1–6 (Admiralty information credibility).") var credibility: Credibility
        @Option(help: "Why.") var reason: String?
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().gradeFact(fact, credibility: credibility, reason: reason), json: json) } }
    }
}

struct Anchors: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "anchors",
        abstract: "Where each annotation and fact's evidence sits in the article's current revision.",
        discussion: """
            Status: exact (same place), moved (same quote elsewhere), fuzzy (similar text, score ≥ 850‰,
            anchored), needs-review (best similar text scores 600–849‰: shown as a candidate, not
            anchored), orphaned (nothing similar), confirmed / retargeted (an analyst decided,
            `gloss anchor`). Rules: Protocol/09-anchoring.md.
            """)
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The article (id or unique prefix).") var article: String
    @Flag(help: "Print a JSON array (keys: id, kind, status, score (per mille), revision, old {revision, start, end, exact}, new {start, end, exact} or null, candidate {start, end, exact} or null, decision, anchoringVersion).") var json = false
    func run() throws {
        try guarded {
            let list = try replica.openForReading().anchors(article: article)
            if json { out(JSON.array(list.map(\.json)).pretty); return }
            for a in list {
                func pos(_ s: AnchorRecord.Span?) -> String {
                    guard let s else { return "—" }
                    return "\(s.start)–\(s.end)"
                }
                let status = a.status.padding(toLength: 12, withPad: " ", startingAt: 0)
                let score = "\(a.score)‰"
                let ex = a.base.exact
                let exact = ex.count > 50 ? String(ex.prefix(50)) + "…" : ex
                var line = "\(a.object.prefix(10))  \(a.objectKind.padding(toLength: 10, withPad: " ", startingAt: 0)) \(status) \(score.padding(toLength: 6, withPad: " ", startingAt: 0)) \(pos(a.base)) → \(pos(a.anchored))"
                if a.candidate != nil { line += " (candidate \(pos(a.candidate)))" }
                out(line + "  «\(exact)»")
            }
        }
    }
}

struct AnchorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "anchor", abstract: "Confirm or retarget where an annotation or a fact's evidence sits in the current revision (an event).",
                                                    subcommands: [Confirm.self, Retarget.self])

    struct Confirm: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "confirm", abstract: "Accept the re-found span (moved, fuzzy, or the needs-review candidate).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The annotation or fact (id or unique prefix).") var object: String
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().confirmAnchor(object), json: json) } }
    }

    struct Retarget: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retarget", abstract: "Point it at another quote of the current revision.")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The annotation or fact (id or unique prefix).") var object: String
        @Option(help: "The exact text in the current revision.") var quote: String
        @OptionGroup var choice: QuoteOptions
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws { try guarded { printCreated(try replica.open().retargetAnchor(object, quote: quote, choice: choice.choice), json: json) } }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export",
        abstract: "Export to other tools: a STIX 2.1 bundle, or W3C Web Annotation JSON-LD (Protocol/10-export.md).",
        subcommands: [STIX.self, WebAnnotations.self])

    /// `--out FILE [--article A] [--json]`, shared by both formats.
    struct Options: ParsableArguments {
        @OptionGroup var replica: ReplicaOptions
        @Option(help: "The file to write (replaced atomically).") var out: String
        @Option(help: "Only this article (id or unique prefix) and what is attached to it.") var article: String?
        @Flag(help: "Print JSON (keys: out, objects, counts {type: n}, skipped).") var json = false

        func run(_ format: String) throws {
            try guarded {
                let s = try replica.openForReading().export(format, to: out, article: article)
                if json { GlossCommandLine.out(s.json.pretty); return }
                GlossCommandLine.out("wrote \(s.objects) objects to \(s.out): " + s.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
                for k in s.skipped { err("skipped: \(k)") }
            }
        }
    }

    struct STIX: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stix",
            abstract: "A STIX 2.1 bundle: a report per article, identities for analysts and sources, locations for countries, notes for notes and facts, opinions for corroborations and contradictions, relationships for links; grades as confidence.",
            discussion: "Ids are deterministic (exporting twice gives the same ids); `modified` follows each object's history.")
        @OptionGroup var options: Options
        func run() throws { try options.run("stix") }
    }

    struct WebAnnotations: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "annotations",
            abstract: "Annotations as a W3C Web Annotation collection (JSON-LD) with TextQuote and TextPosition selectors on the revision.")
        @OptionGroup var options: Options
        func run() throws { try options.run("annotations") }
    }
}
