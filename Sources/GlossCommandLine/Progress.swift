import ArgumentParser
import Foundation
import GlossEngine

/// `--progress`: progress lines on standard error even when it is not a terminal, or with `--json`.
public struct ProgressOption: ParsableArguments {
    @Flag(help: "Show progress on standard error even when it is not a terminal or --json is given.") public var progress = false
    public init() {}
}

/// Progress with exact counts on standard error: a redrawn bar on a terminal, a plain line per 10%
/// otherwise. Shown only when standard error is a terminal and `--json` is not given, or when
/// `--progress` is given (`CLIOutput`): scripts and pipes get no progress lines unless they ask.
public final class ProgressReporter: @unchecked Sendable {
    // @unchecked: `update` is serialized by `lock`.
    private let lock = NSLock()
    public let label: String
    public let isTTY = isatty(2) != 0
    public let enabled: Bool
    private var lastDecile = -1
    private var lastDraw = DispatchTime.now().uptimeNanoseconds

    public init(_ label: String) {
        self.label = label
        enabled = CLIOutput.progress || (isTTY && !CLIOutput.json)
    }

    public func update(_ done: Int, _ total: Int) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        if isTTY {
            let now = DispatchTime.now().uptimeNanoseconds
            guard done == total || now - lastDraw > 100_000_000 else { return }
            lastDraw = now
            let width = 30
            let filled = total == 0 ? width : min(width, done * width / max(total, 1))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            writeStandardError("\r\(label) [\(bar)] \(done)/\(total)")
            if done >= total { writeStandardError("\n") }
        } else {
            let decile = total == 0 ? 10 : done * 10 / max(total, 1)
            if decile != lastDecile { lastDecile = decile; writeStandardError("\(label): \(done)/\(total)\n") }
        }
    }
}

/// Tells the person at the command what opening the replica does first (`Replica.Upkeep`): a store
/// migration or a projection rebuild runs once after an upgrade and can take a minute on a large
/// log. The notice is one line on standard error, always (a script's standard output is
/// untouched); the rebuild's progress follows the `ProgressReporter` rules.
public enum UpkeepNotice {
    private static let rebuild = Locked<ProgressReporter?>(nil)

    @Sendable public static func report(_ upkeep: Replica.Upkeep) {
        switch upkeep {
        case .migrating(let names):
            writeStandardError("gloss: upgrading this replica's store (migration\(names.count == 1 ? "" : "s") \(names.joined(separator: ", "))); this runs once, before the command, and takes about a minute per million events\n")
        case .rebuildingProjections(let builtBy, let version, let events):
            let why = builtBy.map { "they were built by projection version \($0), this gloss builds version \(version)" }
                ?? "an interrupted session left them stale"
            writeStandardError("gloss: rebuilding the projections from the log (\(events) events) before the command: \(why)\n")
            rebuild.withValue { $0 = ProgressReporter("rebuild") }
        case .rebuilding(let done, let total):
            rebuild.value?.update(done, total)
        }
    }
}
