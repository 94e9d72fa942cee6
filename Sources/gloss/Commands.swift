import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON
import GlossModel

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ingest",
        abstract: "Ingest article text files (UTF-8) as ArticleIngested events.",
        discussion: "Prints each article id. Text already held names the existing article and writes nothing. Of several files, one refused (not UTF-8, too large, missing…) is reported and the others are ingested; the command then exits 2 naming the refused ones (with --json, a line {file, error, code} for each).")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print one JSON object per file (keys: id, event, file; existing: true when already held).") var json = false
    @Option(help: ArgumentHelp("Add FILE as a new revision of this article (id or unique prefix) instead; prints the revision id. Annotations and evidence are re-anchored in it (`gloss anchors`).", valueName: "ARTICLE"))
    var revises: String?
    @Argument(help: "Article files.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE to ingest") }
        if revises != nil && files.count != 1 { throw ValidationError("--revises takes exactly one FILE (the new text)") }
    }

    func run() throws {
        try guarded {
            let r = try replica.open()
            if let revises {
                let c = try r.revise(article: revises, file: files[0])
                if json { out(c.json.compact) } else {
                    out(c.id)
                    if c.existing { err("\(files[0]): already a revision of this article; nothing written") }
                }
                return
            }
            // Of several files, one that is refused (bad input, missing) does not stop the others:
            // each is reported as it comes, and the command ends with exit 2 naming them.
            var refused: [String] = []
            for f in files {
                let c: Created
                do { c = try r.ingest(file: f) } catch {
                    let g = GlossError.wrap(error, location: OpenedReplicas.location)
                    guard files.count > 1, g.code == .badInput || g.code == .notFound else { throw error }
                    refused.append(f)
                    err("gloss: \(terminalSafe(g.message)) (not ingested; the other files go on)")
                    if json { out(JSON.object([("file", .string(f)), ("error", .string(g.message)), ("code", .string(g.code.rawValue))]).compact) }
                    continue
                }
                if json {
                    guard case .object(var kv) = c.json else { continue }
                    kv.append(("file", .string(f)))
                    out(JSON.object(kv).compact)
                } else {
                    out(c.id)
                    if c.existing { err("\(f): already ingested as article \(c.id.prefix(12)); nothing written") }
                }
            }
            if !refused.isEmpty {
                err("gloss: \(refused.count) of \(files.count) files not ingested: \(refused.joined(separator: ", ")); the other \(files.count - refused.count) were")
                throw ExitCode(Exit.partial)
            }
        }
    }
}

/// `--text T` or `--file F`, exactly one.
struct TextInput: ParsableArguments {
    @Option(help: "The text.") var text: String?
    @Option(help: "Read the text from a UTF-8 file.") var file: String?

    init() {}
    init(text: String?, file: String?) { self.text = text; self.file = file }

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("give exactly one of --text or --file") }
    }

    func read() throws -> String {
        if let text { return text }
        let path = file!
        let data = try Replica.readInputFile(path, limit: ProtocolLimits.maxTextBytes, what: "a text (UTF-8)")
        guard let s = String(validating: Array(data), as: UTF8.self) else {
            throw GlossError(.badInput, "\(path) is not valid UTF-8; convert it (e.g. `iconv -t UTF-8`) and try again")
        }
        return s
    }
}

func printCreated(_ c: Created, json: Bool) {
    out(json ? c.json.compact : c.id)
}

struct Note: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Add, edit or delete Markdown notes.",
                                                    subcommands: [Add.self, Edit.self, Delete.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a note on any object (article, note, …); prints the note id.")
        @OptionGroup var replica: ReplicaOptions
        @Option(help: "The object the note is on (id or unique prefix).") var on: String
        @OptionGroup var input: TextInput
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws {
            try guarded { printCreated(try replica.open().addNote(on: on, body: try input.read()), json: json) }
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Replace a note's body.")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The note (id or unique prefix).") var note: String
        @OptionGroup var input: TextInput
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws {
            try guarded { printCreated(try replica.open().editNote(note, body: try input.read()), json: json) }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a note (its history stays).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The note (id or unique prefix).") var note: String
        @Flag(help: "Print JSON (keys: id, event).") var json = false
        func run() throws {
            try guarded { printCreated(try replica.open().deleteNote(note), json: json) }
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the replica: analyst, id, version vector and counts.",
        discussion: "With --store, the hub database's: read from one snapshot of it, copied into a temporary replica (analyst `hub`, a temporary replica id).")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var hub: HubStoreOption
    @Flag(help: "Print JSON (keys: analyst, replica, versionVector, events, articles, notes, …, team, teamMode, role).") var json = false
    func run() throws {
        try guarded {
            let s = try (hub.url().map { try hub.openSnapshot($0) } ?? replica.openForReading()).status()
            if json { out(s.json.pretty); return }
            out("analyst   \(s.analyst)")
            out("replica   \(s.replica.hex)")
            switch s.teamMode {
            case .none: break
            case .joining: out("team      joining (not on a roster yet)")
            case .member(let t): out("team      \(t.hex)  role \(s.role?.rawValue ?? "none (not a member)")")
            }
            out("events    \(s.events)")
            out("articles  \(s.articles)")
            out("notes     \(s.notes)")
            out("pending   \(s.pending)")
            out("quarantined \(s.quarantined)")
            out("open conflicts \(s.openConflicts)")
            out("digest    \(s.digest)")
            if s.notUnderstood > 0 { out("not understood by this build: \(s.notUnderstood) events") }
            for f in s.feedProblems { out("feed \(f.replica.hex.prefix(16)) is \(f.state.rawValue.uppercased()): \(f.reason)") }
            out("version vector:")
            for (r, seq) in s.versionVector.sorted { out("  \(r.hex)  \(seq)") }
        }
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "List events in local (apply) order, oldest first.")
    @OptionGroup var replica: ReplicaOptions
    @Option(parsing: .unconditional, help: "Show at most N events (the first N in local order; 0 or more).") var limit: Int?
    @Flag(help: "One JSON object per line (keys: id, replica, seq, prev, deps, time, hlc, author, type, schema, payloadHash, payload, understood, reason, summary).") var json = false
    func validate() throws { if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") } }
    func run() throws {
        try guarded {
            try replica.openForReading().log(limit: limit) { e in
                if json { out(e.json.compact); return }
                let env = e.envelope
                let (id, r, seq, t, a, s) = (env.id.hex, env.replica.hex, env.seq, env.time.rfc3339, env.author, e.summary)
                out("\(id.prefix(12))  \(r.prefix(8)):\(seq)  \(t)  \(a)  \(s)")
            }
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show any event or object (article, revision, note) by id or unique prefix, as JSON.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "Id or unique prefix.") var id: String
    @Flag(help: "Accepted for scripts that pass --json to every command: the output is JSON already (and so is a failure's).") var json = false
    func run() throws {
        try guarded { out(try replica.openForReading().show(id).json.pretty) }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify",
        abstract: "Re-check every stored event: hash, chain, payload hash and signature.",
        discussion: "Exit 0 when the log verifies; 4 when it has a fault (local corruption); 9 when the log verifies but fork evidence is held (another replica's key signed two different events at one seq: that feed is frozen at the fork). With --store, verifies a hub database (a copy of one snapshot of it, checked by the same code).")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var hub: HubStoreOption
    @Flag(help: "Print JSON (keys: checked, ok, faults, forks).") var json = false
    func run() throws {
        try guarded {
            let report = try (hub.url().map { try hub.openSnapshot($0) } ?? replica.openForReading()).verify()
            if json { out(report.json.pretty) } else {
                for f in report.faults { out("FAULT event \(f.event) (replica \(f.replica.prefix(12)) seq \(f.seq)): \(f.reason)") }
                for f in report.forks {
                    out("FORK replica \(f.replica.prefix(12)) frozen at seq \(f.seq): \(f.evidence) evidence events held (\(f.verified) verify)")
                }
                out(report.faults.isEmpty ? "ok: \(report.checked) events verified" : "\(report.faults.count) faults in \(report.checked) events")
            }
            if !report.faults.isEmpty { throw ExitCode(Exit.verificationFailed) }
            if !report.forks.isEmpty { throw ExitCode(Exit.forkEvidence) }
        }
    }
}
