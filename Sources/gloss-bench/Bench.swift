import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON

/// `gloss bench`: its own executable (`gloss-bench`, built beside `gloss`, which runs it for `gloss
/// bench ARGS`), so that the benchmarks' code is in no product of the engine. It names itself `gloss
/// bench` in help and usage, the way it is run.
@main
struct Bench: AsyncParsableCommand {
    static func main() async { await CommandLineMain.run(Bench.self) }

    static let configuration = CommandConfiguration(commandName: "gloss bench",
        abstract: "Measure this machine: generate a history, time import, export, sync, rebuild, as-of and local edits against raw SQLite.",
        discussion: """
            gloss bench generate --out h.glossb --events 100000 --replicas 20   # a signed history of that shape
            gloss bench run --bundle h.glossb --repeat 3                       # time every operation on it
            Scripts/bench.sh builds in release mode and runs the standard set; results: BENCHMARKS.md.
            """,
        subcommands: [Generate.self, Run.self, Op.self, Codec.self, Local.self, HubBench.self])

    struct Codec: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "codec", abstract: "Decode+hash, payload decode, sign and verify costs per event (µs).")
        @Option(parsing: .unconditional, help: "Iterations (1–100000000).") var iterations = 200_000
        func validate() throws { try FlagCheck.count("--iterations", iterations, 1...100_000_000) }
        func run() throws { out(CodecBenchmark.run(iterations: iterations).json.pretty) }
    }

    struct HubBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hub",
            abstract: "A PostgreSQL hub beside SQLite: import (events/s, same history) and TCP sync through 1, 2, 3 hub processes serving clients at once.",
            discussion: """
                Makes a new database on the server of --store (its user needs CREATEDB) and drops it at the end. Import: the bundle into a new SQLite replica and into the hub database (a hub cache writing through), events/s each; the two digests must be equal. Sync: for each count in --hubs, that many `gloss serve --store` processes serve --clients replicas at once over TCP on 127.0.0.1 (client i uses hub i mod k): pull (each new client takes the whole history) and push (each client sends --push-events events of its own at once). Run it on a release build (swift build -c release; Scripts/pg-cluster.sh start gives a throwaway server); results: BENCHMARKS.md.
                """)
        @OptionGroup var hub: HubStoreOption
        @Option(help: ArgumentHelp("The history to import (from `gloss bench generate`); default: a new one of --events events over 20 feeds.", valueName: "FILE.glossb")) var bundle: String?
        @Option(parsing: .unconditional, help: "Events of the generated history (1–10000000).") var events = 10_000
        @Option(parsing: .unconditional, help: "Clients syncing at once (1–100).") var clients = 10
        @Option(help: "Comma-separated hub process counts.") var hubs = "1,2,3"
        @Option(parsing: .unconditional, help: "Events each client pushes (1–100000).") var pushEvents = 100
        @Flag(help: "Print JSON (keys: events, store, import {sqliteEventsPerSecond, hubEventsPerSecond, …}, sync [{hubs, clients, pullEventsPerSecond, pushEventsPerSecond, …}]).") var json = false

        var hubCounts: [Int] { hubs.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func validate() throws {
            if hub.store == nil { throw ValidationError("--store URL is required (a database on the server to bench; the bench makes and drops its own)") }
            try FlagCheck.count("--events", events, 1...10_000_000)
            try FlagCheck.count("--clients", clients, 1...100)
            try FlagCheck.count("--push-events", pushEvents, 1...100_000)
            if hubCounts.isEmpty || hubCounts.contains(where: { !(1...16).contains($0) }) { throw ValidationError("--hubs: comma-separated counts from 1 to 16") }
        }

        func run() async throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("gloss-bench-hub-\(getpid())")
            defer { try? FileManager.default.removeItem(at: work) }
            do {
                try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                let history: URL
                if let bundle { history = URL(fileURLWithPath: bundle) } else {
                    history = work.appendingPathComponent("history.glossb")
                    _ = try HistoryGenerator(shape: .mix(events: events, replicas: 20, overwriteRatio: 0.3, seed: 1)).write(to: history, progress: { _, _ in })
                }
                let json = self.json
                let r = try await HubBenchmark.run(store: try hub.url()!, bundle: history, clients: clients, hubCounts: hubCounts,
                                                   pushEvents: pushEvents, work: work, log: { line in if json { err(line) } else { out(line) } })
                if json { out(r.compact) }
            } catch {
                throw CLIOutput.fail(error)
            }
        }
    }

    struct Local: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "local", abstract: "Bulk local appends then a rebuild, on a fresh replica in a temporary folder.")
        @Option(parsing: .unconditional, help: "Events to write (1–100000000).") var events = 100_000
        func validate() throws { try FlagCheck.count("--events", events, 1...100_000_000) }
        @Option(help: "Keep the replica in this (new) folder instead of a temporary one.") var keep: String?
        func run() throws {
            try guarded {
                let dir = keep.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("gloss-bench-\(getpid())")
                defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
                out(try LocalBenchmark.run(events: events, folder: dir).json.pretty)
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "generate",
            abstract: "Write a realistic signed history of a given shape to a bundle file.",
            discussion: """
                Simulated analysts (deterministic keys from --seed) work in bursts and usually sync before
                one, so feeds are concurrent and carry real deps. Events: article ingests (with this build's
                extraction candidates), notes on articles, edits of existing notes (--overwrite-ratio;
                concurrent edits merge or conflict), and annotations. The same flags and seed give the same
                file. Streams: memory stays small whatever the size.

                Give either --events (the mix: 2% articles, 20% annotations, the rest note writes split by
                --overwrite-ratio) or the counts (--articles, --notes, --annotations; missing ones are 0,
                at least one article).

                Three annotations in four are AnnotationAdded spans of a recent article (a comment half the
                time); the others are a TagAdded on an article or a LinkAdded from a note to an article.
                """)
        @Option(name: .customLong("out"), help: ArgumentHelp("The bundle file to write.", valueName: "FILE.glossb")) var outFile: String
        @Option(parsing: .unconditional, help: "Analysts (feeds), 1–1000.") var replicas = 20
        @Option(parsing: .unconditional, help: "Total events, in the default mix (excludes the counts).") var events: Int?
        @Option(parsing: .unconditional, help: "Articles ingested.") var articles: Int?
        @Option(parsing: .unconditional, help: "Notes added.") var notes: Int?
        @Option(parsing: .unconditional, help: "Annotations (with some tags and links beside; see above).") var annotations: Int?
        @Option(parsing: .unconditional, help: "Of the note writes, the fraction that edits an existing note (0 ≤ R < 1).") var overwriteRatio = 0.3
        @Option(parsing: .unconditional, help: "Seed of the history.") var seed: UInt64 = 1
        @Flag(help: "A team history: a genesis and a roster first, every event judged against it on import (`run` then supports import, rebuild, asof, export).") var team = false
        @Flag(help: "Print JSON (keys: events, bytes, bytesPerEvent, articles, notes, edits, annotations, tags, links, eventsWithDeps, midpoint, seconds, shape).") var json = false
        @OptionGroup var progressOption: ProgressOption

        func validate() throws {
            let counts = [articles, notes, annotations].compactMap { $0 }
            if events != nil && !counts.isEmpty { throw ValidationError("give either --events or the counts (--articles, --notes, --annotations), not both") }
            if let events { try FlagCheck.count("--events", events, 1...100_000_000) }
            if counts.contains(where: { $0 < 0 || $0 > 100_000_000 }) { throw ValidationError("counts (--articles, --notes, --annotations) must be from 0 to 100000000") }
            if events == nil && !counts.isEmpty && (articles ?? 0) < 1 { throw ValidationError("--articles must be at least 1 (notes and annotations are made on articles)") }
            if !(1...1000).contains(replicas) { throw ValidationError("--replicas must be 1–1000") }
            if !(overwriteRatio >= 0 && overwriteRatio < 1) { throw ValidationError("--overwrite-ratio must be at least 0 and below 1 (got \(overwriteRatio))") }
        }

        var shape: HistoryGenerator.Shape {
            if articles == nil && notes == nil && annotations == nil {
                var s = HistoryGenerator.Shape.mix(events: events ?? 100_000, replicas: replicas, overwriteRatio: overwriteRatio, seed: seed)
                s.team = team
                return s
            }
            var s = HistoryGenerator.Shape()
            s.replicas = replicas; s.overwriteRatio = overwriteRatio; s.seed = seed; s.team = team
            s.articles = articles ?? 0; s.notes = notes ?? 0; s.annotations = annotations ?? 0
            return s
        }

        func run() throws {
            try guarded {
                let progress = ProgressReporter("generate")
                let shape = self.shape
                let r = try HistoryGenerator(shape: shape).write(to: URL(fileURLWithPath: outFile), progress: { progress.update($0, $1) })
                if json {
                    guard case .object(var kv) = r.json else { return }
                    kv.append(("shape", shape.json))
                    out(JSON.object(kv).compact)
                } else {
                    out("wrote \(r.events) events (\(r.bytes) bytes, \(r.bytes / max(r.events, 1)) bytes/event) to \(outFile) in \(String(format: "%.1f", r.seconds)) s: "
                        + "\(r.articles) articles, \(r.notes) notes, \(r.edits) edits, \(r.tags) tags, \(r.links) links over \(shape.replicas) feeds; "
                        + "\(r.eventsWithDeps) events carry deps; midpoint \(r.midpoint)")
                }
            }
        }
    }

    /// One measured operation in this process (what `bench run` spawns). Prints one JSON object with
    /// the operation's figures and `peakRSSkB`, this process's peak resident memory.
    struct Op: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "op",
            abstract: "Run one measured operation in this process (used by `gloss bench run`).",
            discussion: "OPERATION: import (needs --bundle; creates WORK/replica), baseline, export, rebuild, asof, sync, local (use WORK/replica).",
            shouldDisplay: false)
        @Argument(help: "import, baseline, export, rebuild, asof, sync or local.") var operation: String
        @Option(help: "Working folder (the replica is WORK/replica).") var work: String
        @Option(help: "The bundle (import).") var bundle: String?
        @Option(parsing: .unconditional, help: "Local edits to time, per setting.") var edits = 1000
        @Option(parsing: .unconditional, help: "Add the N costliest SQL statements of import or rebuild (key statements: [{sql, count, seconds}]); 0: none.") var statements = 0

        func validate() throws {
            guard Run.operations.contains(operation) || operation == "baseline" else {
                throw ValidationError("unknown operation \(operation); one of \((Run.operations + ["baseline"]).joined(separator: ", "))")
            }
            if operation == "import" && bundle == nil { throw ValidationError("import needs --bundle") }
            try FlagCheck.count("--edits", edits, 1...1_000_000)
            try FlagCheck.count("--statements", statements, 0...1000)
        }

        func run() async throws {
            let work = URL(fileURLWithPath: self.work)
            let folder = work.appendingPathComponent("replica")
            let profile = statements > 0 && Run.profiled.contains(operation) ? StatementProfile() : nil
            do {
                let result: JSON
                switch operation {
                case "import": result = try OperationBenchmark.importBundle(URL(fileURLWithPath: bundle!), folder: folder, profile: profile)
                case "baseline": result = try OperationBenchmark.baseline(database: folder.appendingPathComponent(".gloss/replica.db"), scratch: work)
                case "export": result = try OperationBenchmark.export(folder: folder, out: work.appendingPathComponent("export.glossb"))
                case "rebuild": result = try OperationBenchmark.rebuild(folder: folder, profile: profile)
                case "asof": result = try OperationBenchmark.asOf(folder: folder, out: work.appendingPathComponent("asof-\(getpid()).db"))
                case "sync": result = try await OperationBenchmark.sync(folder: folder, client: work.appendingPathComponent("sync-client-\(getpid())"))
                default: result = try OperationBenchmark.localEdits(folder: folder, count: edits, scratch: work)
                }
                guard case .object(var kv) = result else { return }
                kv.append(("peakRSSkB", .int(Int64(OperationBenchmark.peakRSSkB()))))
                if let profile { kv.append(("statements", profile.top(statements))) }
                out(JSON.object(kv).compact)
            } catch {
                throw CLIOutput.fail(error)
            }
        }
    }
}
