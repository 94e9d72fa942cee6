import ArgumentParser
import Foundation
import GlossCommandLine
import GlossEngine

/// `gloss bench …` runs `gloss-bench …`, the benchmarks' own executable, built beside `gloss` (the
/// benchmarks' code is in no product of the engine). `Gloss.main` forwards before parsing, so that
/// `gloss bench --help` is the benchmarks' help; this entry lists the command in `gloss --help`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench",
        abstract: "Measure this machine: generate a history, time import, export, sync, rebuild, as-of and local edits against raw SQLite.",
        discussion: "Runs gloss-bench (built beside gloss by `swift build`); `gloss bench --help` lists its commands. Scripts/bench.sh runs the standard set; results: BENCHMARKS.md.")
    @Argument(parsing: .captureForPassthrough, help: "generate, run, codec, local or hub, and their arguments.") var arguments: [String] = []

    func run() throws { Bench.forward(arguments) }

    /// Replaces this process with `gloss-bench ARGUMENTS`; exit 66 when it was not built.
    static func forward(_ arguments: [String]) -> Never {
        let path = CommandLineMain.sibling("gloss-bench").path
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        let reason = String(cString: strerror(errno))
        CLIOutput.configure(arguments: arguments)
        CLIOutput.report("cannot run \(path) (\(reason)): `gloss bench` runs the benchmarks' own executable, built beside gloss; build it with `swift build --product gloss-bench` (add `-c release` for figures worth comparing)",
                         code: GlossError.Code.notFound.rawValue, exit: Exit.notFound)
        CommandLineMain.exitAfterFlushing(Exit.notFound)
    }
}
