import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine
import GlossJSON

extension Bench {
    /// Times every operation on a generated history, each in its own `gloss bench op` process (so
    /// its peak resident memory is its own), `--repeat` times on fresh replicas, and prints the
    /// median and the spread, with the raw-SQLite baseline of the same run and the ratio.
    struct Run: ParsableCommand {
        static let operations = ["import", "export", "rebuild", "asof", "sync", "local"]
        /// The operations `--statements` profiles (they run on a replica's writer connection here).
        static let profiled: Set<String> = ["import", "rebuild"]
        static let configuration = CommandConfiguration(commandName: "run",
            abstract: "Time import, export, rebuild, as-of, TCP sync and local edits on a bundle, against raw SQLite.",
            discussion: """
                Each repetition imports the bundle into a new replica (always: the other operations use it),
                replays the rows it wrote through the raw SQLite C API (the baseline: same rows, same tables,
                same PRAGMAs, same batch size, no Gloss logic), then runs the chosen operations on it, each
                in a child process whose peak resident memory (VmHWM) is reported. Figures are medians with
                [min–max] over the repetitions; ratios are Gloss / raw, per repetition, then the median.

                Operations: import (events/s, bytes/event in the bundle, SQLite changes and rows per event),
                export (to a bundle), rebuild (drop and replay the projections), asof (at the middle event's
                time), sync (a new replica pulls everything over TCP on 127.0.0.1, then one new event is
                synced: round trips after the handshake, ms, bytes), local (note edits, each signed, appended
                and projected in its own durable transaction: p50/p99 with synchronous=FULL, the replica's
                setting, and NORMAL for reference).

                --statements N adds, for import and rebuild, the N SQL statements that took the most time in
                the writer (count, seconds, µs each; a statement run inside another counts in both), printed
                after each repetition and, with --json, under "statements" (the last repetition's). Recording
                slows those operations: compare their figures only with other --statements runs.
                """)
        @Option(help: ArgumentHelp("The history to measure (from `gloss bench generate`).", valueName: "FILE.glossb")) var bundle: String
        @Option(help: "Working folder (default: a new temporary folder, removed at the end).") var work: String?
        @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Repetitions (fresh replica each).") var repetitions = 3
        @Option(help: "Comma-separated operations: import, export, rebuild, asof, sync, local.") var ops = "import,export,rebuild,asof,sync,local"
        @Option(parsing: .unconditional, help: "Local edits timed per setting.") var edits = 1000
        @Option(parsing: .unconditional, help: "Also show the N costliest SQL statements of import and rebuild (0–1000; 0: none).") var statements = 0
        @Flag(help: "Skip the raw SQLite baseline.") var noBaseline = false
        @Flag(help: "Keep the working folder.") var keep = false
        @Flag(help: "Print JSON (keys: bundle, events, feeds, repeat, metrics: {op.figure: {median, min, max, values}}); the table then goes to standard error.") var json = false

        var chosen: [String] { ops.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

        func validate() throws {
            for o in chosen where !Run.operations.contains(o) {
                throw ValidationError("unknown operation \(o); choose among \(Run.operations.joined(separator: ", "))")
            }
            guard repetitions >= 1, repetitions <= 100 else { throw ValidationError("--repeat must be 1–100") }
            guard edits >= 1, edits <= 1_000_000 else { throw ValidationError("--edits must be 1–1000000") }
            try FlagCheck.count("--statements", statements, 0...1000)
        }

        func run() throws {
            try guarded {
                let fm = FileManager.default
                guard fm.fileExists(atPath: bundle) else { throw GlossError(.notFound, "no bundle at \(bundle); make one with `gloss bench generate`") }
                try Replica.refuseNonRegularInput(bundle, what: "a bundle made by `gloss bench generate`")
                var isFolder: ObjCBool = false
                if let work, fm.fileExists(atPath: work, isDirectory: &isFolder), !isFolder.boolValue {
                    throw GlossError(.refused, "--work \(work) is a file; give a folder (it is created if missing)")
                }
                let root = work.map { URL(fileURLWithPath: $0) } ?? fm.temporaryDirectory.appendingPathComponent("gloss-bench-run-\(getpid())")
                try fm.createDirectory(at: root, withIntermediateDirectories: true)
                defer { if !keep && work == nil { try? fm.removeItem(at: root) } }
                let bundlePath = URL(fileURLWithPath: bundle).standardizedFileURL.path
                var metrics: [String: [Double]] = [:]
                var order: [String] = []
                func record(_ op: String, _ obj: [String: Any]) {
                    for (k, v) in obj {
                        guard let n = v as? NSNumber else { continue }
                        let key = "\(op).\(k)"
                        if metrics[key] == nil { order.append(key) }
                        metrics[key, default: []].append(n.doubleValue)
                    }
                }
                var events = 0, feeds = 0
                var profiles: [(String, JSON)] = []
                for rep in 1...repetitions {
                    let dir = root.appendingPathComponent("rep-\(rep)")
                    try? fm.removeItem(at: dir)
                    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
                    var sequence = ["import"]
                    if !noBaseline { sequence.append("baseline") }
                    sequence += Run.operations.filter { $0 != "import" && chosen.contains($0) }
                    var got: [String: [String: Any]] = [:]
                    for op in sequence {
                        var args = ["op", op, "--work", dir.path]
                        if op == "import" { args += ["--bundle", bundlePath] }
                        if op == "local" { args += ["--edits", String(edits)] }
                        if statements > 0 && Run.profiled.contains(op) { args += ["--statements", String(statements)] }
                        let obj = try child(args)
                        got[op] = obj
                        record(op, obj)
                        err("rep \(rep)/\(repetitions) \(op): " + summary(op, obj))
                        if let list = obj["statements"] as? [[String: Any]] {
                            let costs = list.map(StatementCost.init)
                            err((["  \(op): costliest SQL statements (count, seconds, µs each)"] + costs.map(\.line)).joined(separator: "\n"))
                            if rep == repetitions { profiles.append((op, .array(costs.map(\.json)))) }
                        }
                    }
                    events = (got["import"]?["events"] as? Int) ?? events
                    feeds = (got["import"]?["feeds"] as? Int) ?? feeds
                    // Ratios per repetition (Gloss / raw).
                    func ratio(_ name: String, _ a: Double?, _ b: Double?) {
                        guard let a, let b, b > 0 else { return }
                        let key = "ratio.\(name)"
                        if metrics[key] == nil { order.append(key) }
                        metrics[key, default: []].append(a / b)
                    }
                    func num(_ op: String, _ k: String) -> Double? { (got[op]?[k] as? NSNumber)?.doubleValue }
                    ratio("import", num("import", "eventsPerSecond"), num("baseline", "importEventsPerSecond"))
                    ratio("export", num("export", "eventsPerSecond"), num("baseline", "exportEventsPerSecond"))
                    ratio("rebuild", num("rebuild", "eventsPerSecond"), num("baseline", "rebuildEventsPerSecond"))
                    ratio("sync", num("sync", "eventsPerSecond"), num("baseline", "importEventsPerSecond"))
                    ratio("localFullP99", num("local", "fullP99Ms"), num("local", "rawFullP99Ms"))
                    if !keep { try? fm.removeItem(at: dir) }
                }
                if json {
                    var m: [(String, JSON)] = []
                    for k in order {
                        let xs = metrics[k]!
                        m.append((k, .object([("median", .double(median(xs))), ("min", .double(xs.min()!)), ("max", .double(xs.max()!)),
                                              ("values", .array(xs.map(JSON.double)))])))
                    }
                    out(JSON.object([("bundle", .string(bundlePath)), ("events", .int(Int64(events))), ("feeds", .int(Int64(feeds))),
                                     ("repeat", .int(Int64(repetitions))), ("metrics", .object(m))]
                                    + (profiles.isEmpty ? [] : [("statements", .object(profiles))])).pretty)
                    err(table(metrics, events: events, feeds: feeds))
                } else {
                    out(table(metrics, events: events, feeds: feeds))
                }
            }
        }

        /// Runs `gloss bench ARGS` (this binary) and parses the JSON object it prints.
        func child(_ args: [String]) throws -> [String: Any] {
            let p = Process()
            p.executableURL = CommandLineMain.executable
            p.arguments = args
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0,
                  let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                // The child's own reason is above; its exit code goes on (a bad bundle is 65 here too).
                let code: GlossError.Code = switch p.terminationStatus {
                case Exit.badInput: .badInput
                case Exit.notFound: .notFound
                case Exit.refused: .refused
                case Exit.storage: .diskFull
                default: .internalError
                }
                throw GlossError(code, "`gloss bench \(args.prefix(2).joined(separator: " "))` failed (exit \(p.terminationStatus)); see the message above")
            }
            return obj
        }

        /// One statement of a child's `statements` list, as its table line and as JSON.
        struct StatementCost {
            var sql: String, count: Int, seconds: Double

            init(_ o: [String: Any]) {
                sql = o["sql"] as? String ?? ""
                count = (o["count"] as? NSNumber)?.intValue ?? 0
                seconds = (o["seconds"] as? NSNumber)?.doubleValue ?? 0
            }

            var line: String {
                String(format: "  %9d %8.3f %8.1f  ", count, seconds, count > 0 ? seconds * 1e6 / Double(count) : 0) + sql.prefix(110)
            }

            var json: JSON { .object([("sql", .string(sql)), ("count", .int(Int64(count))), ("seconds", .double(seconds))]) }
        }

        func summary(_ op: String, _ o: [String: Any]) -> String {
            o.filter { $0.key != "op" && $0.key != "statements" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }

        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }

        func fmt(_ x: Double) -> String {
            if x >= 1000 {
                var digits = String(Int(x.rounded())), grouped = ""
                while digits.count > 3 { grouped = "," + digits.suffix(3) + grouped; digits.removeLast(3) }
                return digits + grouped
            }
            if x >= 100 || x == x.rounded() { return String(format: "%.0f", x) }
            if x >= 10 { return String(format: "%.1f", x) }
            return String(format: "%.2f", x)
        }

        /// "median [min–max]" of a metric, or "—".
        func stat(_ m: [String: [Double]], _ key: String, scale: Double = 1) -> String {
            guard let xs = m[key], !xs.isEmpty else { return "—" }
            let med = fmt(median(xs) * scale)
            return xs.count == 1 ? med : "\(med) [\(fmt(xs.min()! * scale))–\(fmt(xs.max()! * scale))]"
        }

        func table(_ m: [String: [Double]], events: Int, feeds: Int) -> String {
            var lines = ["gloss bench run: \(bundle), \(events) events, \(feeds) feeds, \(repetitions) repetition(s); median [min–max]; ratio = Gloss / raw SQLite",
                         ""]
            func row(_ cols: [String]) {
                let widths = [18, 30, 34, 16, 10]
                lines.append(zip(cols, widths).map { $0.padding(toLength: max($1, $0.count + 1), withPad: " ", startingAt: 0) }.joined())
            }
            func mb(_ op: String) -> String { stat(m, "\(op).peakRSSkB", scale: 1.0 / 1024) }
            row(["operation", "Gloss", "raw SQLite (same rows)", "Gloss/raw", "peak MB"])
            if m["import.eventsPerSecond"] != nil {
                row(["import", "\(stat(m, "import.eventsPerSecond")) ev/s", "\(stat(m, "baseline.importEventsPerSecond")) ev/s", stat(m, "ratio.import"), mb("import")])
                row(["", "\(stat(m, "import.rowsPerSecond")) rows/s", "\(stat(m, "baseline.importRowsPerSecond")) rows/s", "", ""])
                row(["", "\(stat(m, "import.bytesPerEvent")) bytes/event (file)", "", "", ""])
                row(["", "\(stat(m, "import.rowsPerEvent")) rows stored/event", "", "", ""])
                row(["", "\(stat(m, "import.changesPerEvent")) changes/event", "", "", ""])
            }
            if m["export.eventsPerSecond"] != nil {
                row(["export", "\(stat(m, "export.eventsPerSecond")) ev/s", "\(stat(m, "baseline.exportEventsPerSecond")) ev/s", stat(m, "ratio.export"), mb("export")])
            }
            if m["rebuild.eventsPerSecond"] != nil {
                row(["rebuild", "\(stat(m, "rebuild.eventsPerSecond")) ev/s", "\(stat(m, "baseline.rebuildEventsPerSecond")) ev/s", stat(m, "ratio.rebuild"), mb("rebuild")])
            }
            if m["asof.seconds"] != nil {
                row(["as-of (midpoint)", "\(stat(m, "asof.seconds")) s", "", "", mb("asof")])
            }
            if m["sync.eventsPerSecond"] != nil {
                row(["TCP sync (all)", "\(stat(m, "sync.eventsPerSecond")) ev/s", "\(stat(m, "baseline.importEventsPerSecond")) ev/s (import)", stat(m, "ratio.sync"), mb("sync")])
                row(["", "\(stat(m, "sync.bytesPerEvent")) bytes/event (wire)", "", "", ""])
                row(["sync 1 new event", "\(stat(m, "sync.incrementalMs")) ms, \(stat(m, "sync.incrementalBytes")) bytes", "", "", ""])
                row(["", "\(stat(m, "sync.incrementalRoundTripsAfterHandshake")) round trips after handshake", "", "", ""])
            }
            if m["local.fullP99Ms"] != nil {
                row(["local edit FULL", "p50 \(stat(m, "local.fullP50Ms")) ms", "p50 \(stat(m, "local.rawFullP50Ms")) ms (1 row)", "", mb("local")])
                row(["", "p99 \(stat(m, "local.fullP99Ms")) ms", "p99 \(stat(m, "local.rawFullP99Ms")) ms (1 row)", stat(m, "ratio.localFullP99"), ""])
                row(["local edit NORMAL", "p50 \(stat(m, "local.normalP50Ms")) ms", "p50 \(stat(m, "local.rawNormalP50Ms")) ms (1 row)", "", ""])
                row(["", "p99 \(stat(m, "local.normalP99Ms")) ms", "p99 \(stat(m, "local.rawNormalP99Ms")) ms (1 row)", "", ""])
            }
            return lines.joined(separator: "\n")
        }
    }
}
