import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON
import GlossModel

struct Vector: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vector", abstract: "Write this replica's version vector (the vector-file format of Protocol/05-bundle.md).")
    @OptionGroup var replica: ReplicaOptions
    @Option(help: "Write to FILE instead of standard output.") var out: String?
    @Flag(help: "Accepted for scripts that pass --json to every command: the vector file is JSON already (and so is a failure's).") var json = false
    func run() throws {
        try guarded {
            let r = try replica.openForReading()
            let text = VectorFile.encode(try r.vector, writer: r.replicaID)
            if let out {
                try Replica.refuseOutput(URL(fileURLWithPath: out))
                do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
                    let g = GlossError.wrap(error, output: out)
                    if g.code == .diskFull || g.code == .ioError { throw g }
                    throw GlossError(.badInput, "cannot write \(out); check the folder exists and is writable", cause: error)
                }
            } else { print(text, terminator: "") }
        }
    }
}

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bundle", abstract: "Sync through files: export the events a peer lacks, import what a peer sent.",
                                                    subcommands: [Export.self, Import.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export",
            abstract: "Write a bundle with the events above a vector, in causal order.",
            discussion: """
                --peer uses what that peer has acknowledged holding (from its bundles and hellos), so a lost bundle is sent again.
                The bundle is encrypted to its recipients whenever one is known: the --peer replica, the `replica` of a --for \
                vector file, each --recipient, and with --to-team every key on the team's roster now; this replica is always a recipient too, so it can reopen its own bundle. \
                Only they can import it (Protocol/05-bundle.md §Encrypted bundles). --plain writes an unencrypted bundle instead.
                """)
        @OptionGroup var replica: ReplicaOptions
        @Option(help: "The bundle file to write.") var out: String
        @Option(name: .customLong("for"), help: "A version-vector file: export what it lacks (encrypted to the replica that wrote it, when it names one).") var forVector: String?
        @Option(help: "A peer (alias or replica id): export what it has not acknowledged (encrypted to it).") var peer: String?
        @Flag(help: "Export every event.") var all = false
        @Option(name: .customLong("recipient"), help: "Encrypt to this replica too (replica id, unique prefix or peer alias); repeatable.") var recipients: [String] = []
        @Flag(name: .customLong("to-team"), help: "Encrypt to every key on the team's roster now (readers included; revoked keys not).") var toTeam = false
        @Flag(help: "Write an unencrypted bundle even when a recipient is known.") var plain = false
        @Flag(help: "Print JSON (keys: out, events, evidence, bytes, base, encrypted, recipients; evidence: the fork evidence records after the events, 0 for a format 1 bundle).") var json = false
        @OptionGroup var progressOption: ProgressOption

        func validate() throws {
            if [forVector != nil, peer != nil, all].filter({ $0 }).count != 1 {
                throw ValidationError("give exactly one of --for VECTOR_FILE, --peer REPLICA or --all")
            }
            if plain && (!recipients.isEmpty || toTeam) {
                throw ValidationError("--plain writes an unencrypted bundle, so it cannot take --recipient or --to-team; drop one of them")
            }
        }

        func run() throws {
            try guarded {
                let r = try replica.openForReading()
                let base: VersionVector
                var known: [ReplicaID] = []
                if let forVector {
                    let file = try VectorFile.readFile(path: forVector)
                    base = file.vector
                    if let writer = file.writer { known.append(writer) }
                } else if let peer {
                    let id = try r.resolveReplica(peer)
                    base = try r.acknowledged(by: id)
                    known.append(id)
                } else { base = VersionVector() }
                for text in recipients { known.append(try r.resolveReplica(text)) }
                if toTeam {
                    guard case .member = try r.teamMode else {
                        throw GlossError(.refused, "--to-team: this replica belongs to no team (see `gloss team`)")
                    }
                    known += try r.memberKeys().sorted()
                }
                if plain { known = [] }
                let progress = ProgressReporter("export")
                let written: Replica.BundleExport
                do { written = try r.exportBundle(to: URL(fileURLWithPath: out), base: base, recipients: known, progress: progress.update) } catch {
                    // (Export only reads the replica: a full disk is the output's.)
                    throw GlossError.wrap(error, output: out)
                }
                let (n, bytes) = (written.events, written.bytes)
                if json {
                    GlossCommandLine.out(JSON.object([("out", .string(out)), ("events", .int(Int64(n))), ("evidence", .int(Int64(written.evidence))),
                                                      ("bytes", .int(Int64(bytes))), ("base", JSON(base)),
                                                      ("encrypted", .bool(written.encrypted)), ("recipients", .array(written.recipients.map { .string($0.hex) }))]).compact)
                } else {
                    let evidence = written.evidence == 0 ? "" : " and \(written.evidence) events of fork evidence"
                    if written.encrypted {
                        GlossCommandLine.out("wrote \(n) events\(evidence) (\(bytes) bytes) to \(out), encrypted to \(written.recipients.count) recipients: "
                                             + written.recipients.map { $0 == r.replicaID ? "\($0.short) (this replica)" : $0.short }.joined(separator: ", "))
                    } else {
                        GlossCommandLine.out("wrote \(n) events\(evidence) (\(bytes) bytes) to \(out) (not encrypted)")
                    }
                }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import",
            abstract: "Apply bundle files: verified, idempotent, causal (early events wait in pending).",
            discussion: "An encrypted bundle opens only for its recipients: for any other replica nothing is applied and the exit is 65. Exit 0 when everything applied or was already held; 8 when done, but some events received still wait in pending at the end for an earlier event or a dependency not yet received (see `gloss pending`; import the bundle holding those and they apply); 2 when some events were rejected (see `gloss quarantine`), a fork was found (the feed frozen, its events kept as evidence: see `gloss verify`), a file was cut short or damaged, or its header does not match its records (2 wins over 8); 7 when the disk is full; 65 when a file is not a usable bundle (a bad or tampered header, a wrapped key that does not open, not a recipient). A chunk of an encrypted bundle that does not authenticate ends the file there, like a cut: what came before it applies, exit 2.")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "Bundle files.") var files: [String]
        @Flag(help: "Print one JSON object per file (keys: file, sender, encrypted, received, applied, duplicate, pending, rejected, forks, restored, newConflicts, truncated, checksumOK, error, rejections, header).") var json = false
        @OptionGroup var progressOption: ProgressOption

        func validate() throws { if files.isEmpty { throw ValidationError("give at least one bundle FILE") } }

        func run() throws {
            var partial = false, waiting = false
            try guarded {
                let r = try replica.open()
                for f in files {
                    let progress = ProgressReporter("import \(URL(fileURLWithPath: f).lastPathComponent)")
                    let rep = try r.importBundle(at: URL(fileURLWithPath: f), progress: progress.update)
                    if !rep.clean { partial = true }
                    if rep.summary.pending > 0 { waiting = true }
                    if json { out(rep.json.compact); continue }
                    let s = rep.summary
                    out("\(f): received \(s.received), applied \(s.applied), duplicate \(s.duplicate), pending \(s.pending), rejected \(s.rejected)"
                        + (rep.newConflicts > 0 ? ", \(rep.newConflicts) new conflicts" : "") + (s.forks > 0 ? ", \(s.forks) FORKS detected" : ""))
                    if rep.truncated { err("\(f): the file was cut short after \(s.received) events; every complete event before the cut was applied. Ask the sender for a new bundle.") }
                    if rep.checksumOK == false { err("\(f): the trailer checksum does not match (the file was damaged); events that verified were applied.") }
                    if let e = rep.error { err("\(f): \(e)") }
                    if s.restored > 0 { err("\(f): restored the missing payloads of \(s.restored) held events") }
                    for p in rep.headerProblems { err("\(f): header: \(p)") }
                    if rep.headerProblemCount > rep.headerProblems.count { err("\(f): header: … \(rep.headerProblemCount - rep.headerProblems.count) more problems") }
                    if rep.headerProblemCount > 0 { err("\(f): the header does not match the records, so it was not taken as what the sender holds; each event was still verified on its own.") }
                    for x in s.rejections.prefix(10) { err("  rejected \(x.event.short) (\(x.replica.short):\(x.seq)): \(x.reason)") }
                    if s.rejected > 10 { err("  … \(s.rejected - 10) more; see `gloss quarantine`") }
                }
                // A later file may have brought what an earlier one's events waited for.
                if waiting { waiting = try r.status().pending > 0 }
                if waiting && !json { err("some events wait in pending for events not received yet; see `gloss pending` (exit \(Exit.pending))") }
            }
            if partial { throw ExitCode(Exit.partial) }
            if waiting { throw ExitCode(Exit.pending) }
        }
    }
}

struct Peers: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "peers", abstract: "Known peers with the vectors they acknowledged; name them.",
                                                    subcommands: [List.self, Name.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List known peers.")
        @OptionGroup var replica: ReplicaOptions
        @Flag(help: "Print a JSON array (keys: replica, alias, acknowledged, behind, lastSeen).") var json = false
        func run() throws {
            try guarded {
                let ps = try replica.openForReading().peers()
                if json { out(JSON.array(ps.map(\.json)).pretty); return }
                if ps.isEmpty { out("no peers yet: import a bundle or sync with one") }
                for p in ps {
                    out("\(p.replica.hex.prefix(16))  \(p.alias ?? "-")  acknowledged \(p.acknowledged.eventCount) events, \(p.behind) behind us")
                }
            }
        }
    }

    struct Name: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "name", abstract: "Give a peer an alias usable wherever a replica id is taken.")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The replica (id, unique prefix or current alias).") var peer: String
        @Argument(help: "The alias.") var alias: String
        @Flag(help: "Print JSON (keys: replica, alias).") var json = false
        func run() throws {
            try guarded {
                let id = try replica.open().namePeer(peer, alias: alias).hex
                out(json ? JSON.object([("replica", .string(id)), ("alias", .string(alias))]).compact : id)
            }
        }
    }
}

struct Quarantine: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quarantine", abstract: "List rejected events with the reasons.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Print a JSON array (keys: event, replica, seq, reason, receivedAt).") var json = false
    func run() throws {
        try guarded {
            let q = try replica.openForReading().quarantined()
            if json { out(JSON.array(q.map(\.json)).pretty); return }
            if q.isEmpty { out("quarantine is empty") }
            for e in q { out("\(e.event.prefix(12))  \(e.replica.prefix(12)):\(e.seq)  \(e.reason)") }
        }
    }
}

struct PendingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pending", abstract: "What waits in the pending table, per feed, and why; drop it.",
        discussion: """
            Events wait when their feed predecessor or a dependency has not arrived, or when their time is more
            than an hour ahead of this replica's clock. At most 10,000 events of one feed and 100,000 in all wait;
            an event waiting 14 days expires (Protocol/03-store.md §Pending). Dropped events are not lost: the
            sender offers them again, since they are above this replica's vector.
            """,
        subcommands: [List.self, Drop.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List waiting events per feed.")
        @OptionGroup var replica: ReplicaOptions
        @Flag(help: "Print a JSON array (keys: replica, events, lowestSeq, highestSeq, reason, oldestReceivedAt, expiresAt).") var json = false
        func run() throws {
            try guarded {
                let feeds = try replica.open().pending()
                if json { out(JSON.array(feeds.map(\.json)).pretty); return }
                if feeds.isEmpty { out("nothing is pending") }
                for f in feeds {
                    out("\(f.replica.hex.prefix(16))  \(f.events) events, seq \(f.lowestSeq)–\(f.highestSeq): \(f.reason) (expires \(CivilTime.rfc3339(milliseconds: f.expiresAt)))")
                }
            }
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "drop", abstract: "Drop the waiting events of one feed, or all of them.")
        @OptionGroup var replica: ReplicaOptions
        @Option(help: "The feed (replica id, unique prefix or peer alias) whose waiting events to drop.") var feed: String?
        @Flag(help: "Drop every waiting event.") var all = false
        @Flag(help: "Print JSON (keys: dropped).") var json = false
        func validate() throws {
            if (feed != nil) == all { throw ValidationError("give exactly one of --feed REPLICA or --all") }
        }
        func run() throws {
            try guarded {
                let r = try replica.open()
                let n = try r.dropPending(feed: try feed.map { try r.resolveReplica($0) })
                if json { out(JSON.object([("dropped", .int(Int64(n)))]).compact) } else { out("dropped \(n) pending events") }
            }
        }
    }
}
