import ArgumentParser
import Foundation
import GlossEngine

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine: codec costs and local append / rebuild throughput.",
        subcommands: [Codec.self, Local.self])

    struct Codec: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode+hash, payload decode, sign and verify costs per event (µs).")
        @Option(help: "Iterations.") var iterations = 200_000
        func run() throws { out(CodecBenchmark.run(iterations: iterations).json.pretty) }
    }

    struct Local: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bulk local appends then a rebuild, on a fresh replica in a temporary folder.")
        @Option(help: "Events to write.") var events = 100_000
        @Option(help: "Keep the replica in this (new) folder instead of a temporary one.") var keep: String?
        func run() throws {
            try guarded {
                let dir = keep.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("gloss-bench-\(getpid())")
                defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
                out(try LocalBenchmark.run(events: events, folder: dir).json.pretty)
            }
        }
    }
}
