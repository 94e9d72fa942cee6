import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON

struct Rebuild: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rebuild", abstract: "Drop the projections and replay them from the log (streaming).")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print JSON (keys: events, digest).") var json = false
    @OptionGroup var progressOption: ProgressOption
    func run() throws {
        try guarded {
            let progress = ProgressReporter("rebuild")
            let r = try replica.open().rebuild(progress: progress.update)
            if json { out(JSON.object([("events", .int(Int64(r.events))), ("digest", .string(r.digest))]).compact) }
            else { out("rebuilt projections from \(r.events) events; digest \(r.digest)") }
        }
    }
}

struct Digest: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "digest",
        abstract: "Print the digest of the projections (equal sets of events give equal digests).",
        discussion: "The digest is maintained on every change; --recompute reads every row again and fails (exit 4) if the two differ. With --store, the digest of a hub database: the maintained one from its projection_digest rows, --recompute from its projection rows (both read in one snapshot).")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var hub: HubStoreOption
    @Flag(help: "Recompute from every row and check it against the maintained digest.") var recompute = false
    @Flag(help: "Print JSON (keys: digest, projectionVersion, events, versionVector).") var json = false
    func run() throws {
        try guarded {
            let r = try hub.url().map { try hub.openSnapshot($0) } ?? replica.openForReading()
            let s = try r.status()
            if recompute {
                let full = try r.digest(recompute: true)
                guard full == s.digest else {
                    throw GlossError(.verificationFailed, "the maintained digest \(s.digest) differs from the recomputed \(full); run `gloss rebuild`")
                }
            }
            if json {
                out(JSON.object([("digest", .string(s.digest)), ("projectionVersion", .int(Int64(r.projectionVersion))),
                                 ("events", .int(Int64(s.events))), ("versionVector", JSON(s.versionVector))]).compact)
            } else { out(s.digest) }
        }
    }
}

struct AsOf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "as-of",
        abstract: "Write a database holding the projections as they were at POINT.",
        discussion: "POINT is an RFC 3339 time (the events whose hybrid time is at or before it), an event id (its causal past and itself), or a version-vector file (refused unless causally closed), read in that order: a hex name that is also a file is refused as ambiguous (write ./NAME for the file). The database is written under a hidden name beside --out and renamed when whole.")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "RFC 3339 time, vector file or event id.") var point: String
    @Option(help: "The database file to write (must not exist).") var out: String
    @Flag(help: "Print JSON (keys: out, events, digest).") var json = false
    func run() throws {
        try guarded {
            let r = try replica.openForReading()
            let p = try r.point(point)
            let url = URL(fileURLWithPath: out)
            let (n, digest) = try r.asOfWithDigest(p, out: url)
            if json { GlossCommandLine.out(JSON.object([("out", .string(url.path)), ("events", .int(Int64(n))), ("digest", .string(digest))]).compact) }
            else { GlossCommandLine.out("wrote \(url.path): projections of \(n) events as of \(p.description); digest \(digest)") }
        }
    }
}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "List the events between two points (in --to, not in --from) with author, time and a summary.")
    @OptionGroup var replica: ReplicaOptions
    @Option(help: "The earlier point (RFC 3339 time, vector file or event id).") var from: String
    @Option(help: "The later point.") var to: String
    @Flag(help: "Print a JSON array of objects (keys: id, replica, seq, author, time, type, summary).") var json = false
    func run() throws {
        try guarded {
            let r = try replica.openForReading()
            let (f, t) = (try r.point(from), try r.point(to))
            var array = JSONArrayPrinter(enabled: json)
            try r.diff(from: f, to: t) { e in
                if json { array.add(e.json); return }
                out("\(e.id.hex.prefix(12))  \(e.time.rfc3339)  \(e.author)  \(e.summary)")
            }
            array.end()
        }
    }
}

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query",
        abstract: "Run read-only SQL against the projections (tables in Protocol/04-projections.md).",
        discussion: """
            Writes (INSERT, UPDATE, DELETE, ATTACH, CREATE, PRAGMA writes, …) are refused by a SQLite authorizer.

            Limits, for every statement: --timeout seconds (a query past it is stopped), strings and blobs of at \
            most 32 MiB (randomblob, zeroblob, printf, replace, ||), SQL text of at most 1 MiB, and 512 MiB of \
            SQLite memory (sorts and recursive CTEs included; nothing spills to disk). A query stopped by a limit \
            exits 5 with a message naming it; one stuck inside a single SQL function call that cannot be \
            interrupted is ended 1 s after --timeout, the same way.
            """)
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "One SQL statement.") var sql: String
    @Option(parsing: .unconditional, help: "Time limit in seconds (more than 0, at most 86400).") var timeout: Double = 10
    @Flag(help: "Print a JSON array of row objects.") var json = false
    func validate() throws { try FlagCheck.seconds("--timeout", timeout, max: 86_400) }
    func run() throws {
        try guarded {
            let r = try replica.openForReading()
            var cols: [String] = []
            var array = JSONArrayPrinter(enabled: json)
            try r.query(sql, timeLimit: timeout, overrun: { g in
                // Only this process's read-only connection is running: report and end it.
                _ = CLIOutput.fail(g)
                Foundation.exit(Exit.refused)
            }, columns: { c in
                cols = c
                if !json { out(c.joined(separator: "\t")) }
            }, row: { row in
                let values = row.map(\.json)
                if json {
                    array.add(.object(Array(zip(cols, values))))
                } else {
                    out(values.map { v in
                        switch v { case .null: "NULL"; case .string(let s): s.replacingOccurrences(of: "\n", with: "\\n"); default: v.compact }
                    }.joined(separator: "\t"))
                }
            })
            array.end()
        }
    }
}

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Full-text search over article text and notes (every word must match).")
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "Words to find.") var text: String
    @Option(parsing: .unconditional, help: "At most N results (1–10000).") var limit: Int = 50
    @Flag(help: "Print a JSON array (keys: kind, id, article, snippet).") var json = false
    func validate() throws { try FlagCheck.count("--limit", limit, 1...10_000) }
    func run() throws {
        try guarded {
            let hits = try replica.openForReading().search(text, limit: limit)
            if json { out(JSON.array(hits.map(\.json)).pretty); return }
            for h in hits { out("\(h.kind) \(h.id.prefix(12))  \(h.snippet.replacingOccurrences(of: "\n", with: " "))") }
        }
    }
}

/// Prints a JSON array one element per line as results stream in (never holding them all). The
/// array opens with its first element, so a command failing before any prints only its error
/// object (`CLIOutput`); one failing later closes the array first.
struct JSONArrayPrinter {
    let enabled: Bool
    private var count = 0
    init(enabled: Bool) { self.enabled = enabled }
    mutating func add(_ element: JSON) {
        if count == 0 { print("[", terminator: ""); CLIOutput.arrayOpened(true) }
        print((count == 0 ? "" : ",") + "\n  " + element.compact, terminator: "")
        count += 1
    }
    func end() {
        guard enabled else { return }
        print(count == 0 ? "[]" : "\n]")
        CLIOutput.arrayOpened(false)
    }
}
