import ArgumentParser
import CStandardOutput
import Foundation
import GlossEngine
import GlossJSON

/// The start and end of a command-line process, shared by `gloss` and `gloss-bench`: as
/// ArgumentParser's `main`, but a usage error (exit 64) is also reported as a JSON object on
/// standard output with `--json`, an argument that is not UTF-8 is refused before anything runs,
/// and an output that could not be written exits 7.
public enum CommandLineMain {
    public static func run<Root: ParsableCommand>(_ root: Root.Type) async -> Never {
        CLIOutput.configure(arguments: Array(CommandLine.arguments.dropFirst()))
        // Swift would repair a non-UTF-8 argument with U+FFFD: a note body, a tag or a path that
        // is not what was typed. Refused before anything runs.
        if let bad = firstNonUTF8Argument() {
            CLIOutput.report("argument \(bad) is not valid UTF-8; gloss takes texts, ids and paths as UTF-8 (convert it, e.g. with iconv, or rename the file)",
                             code: GlossError.Code.badInput.rawValue, exit: Exit.badInput)
            exitAfterFlushing(Exit.badInput)
        }
        do {
            var command = try Root.parseAsRoot()
            if var c = command as? AsyncParsableCommand { try await c.run() } else { try command.run() }
        } catch {
            let code = Root.exitCode(for: error)
            if !(error is ExitCode), code != .success, CLIOutput.json {
                print(JSON.object([("error", .string(Root.message(for: error))), ("code", .string(code.rawValue == Exit.usage ? "usage" : "error")),
                                   ("exit", .int(Int64(code.rawValue)))]).compact)
            }
            // As ArgumentParser's exit(withError:): help on standard output, errors on standard error.
            let text = Root.fullMessage(for: error)
            if !text.isEmpty {
                if code == .success { print(text) } else { writeStandardError(text + "\n") }
            }
            exitAfterFlushing(code.rawValue)
        }
        exitAfterFlushing(0)
    }

    /// The position (1 = the first after the program's name) of the first argument that is not valid UTF-8.
    static func firstNonUTF8Argument() -> Int? {
        // `stride`, not `1..<argc`: a process can be started with no argv at all (argc 0).
        stride(from: 1, to: Int(CommandLine.argc), by: 1).first { i in CommandLine.unsafeArgv[i].map { String(validatingCString: $0) == nil } ?? false }
    }

    /// Exits with `status`, unless what was printed could not all be written (`gloss vector >
    /// /dev/full`, a full disk behind a redirection): then 7, with the reason on standard error,
    /// so that a script never takes a cut output for a whole one.
    public static func exitAfterFlushing(_ status: Int32) -> Never {
        // The stream's error flag, not only this flush: a write that failed earlier may have left
        // nothing in the buffer (a failed part that was an exact multiple of it).
        let error = gloss_stdout_flush_error()
        if error != 0 {
            let reason = String(cString: strerror(error))
            writeStandardError("gloss: cannot write the output to standard output (\(reason)); it is incomplete: free space or check where the output goes, then run the command again\n")
            Foundation.exit(Exit.storage)
        }
        Foundation.exit(status)
    }

    /// An executable built beside this one (`gloss-bench` beside `gloss`, `gloss` beside
    /// `gloss-bench`).
    public static func sibling(_ name: String) -> URL {
        executable.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// This process's own executable (what `gloss bench run` starts again for each operation).
    public static var executable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }
}
