import Foundation
import GlossEngine

/// The replicas a command opened, closed when it ends (`guarded`, and the network commands): the
/// last connection's close checkpoints the WAL into the database and removes it, so a finished
/// command leaves a plain database file behind rather than a WAL for the next open to recover.
public enum OpenedReplicas {
    private static let opened = Locked<[Replica]>([])

    public static func add(_ r: Replica) -> Replica {
        opened.withValue { $0.append(r) }
        return r
    }

    /// The replica folder of the first opened replica (`.gloss/`), for messages about its disk.
    public static var location: String? {
        opened.withValue { $0.first?.folder.appendingPathComponent(Replica.directoryName).path }
    }

    private static let temporary = Locked<[URL]>([])

    /// A replica in a temporary folder (a hub database's snapshot), removed by `closeAll`.
    public static func addTemporary(_ r: Replica) -> Replica {
        temporary.withValue { $0.append(r.folder) }
        return add(r)
    }

    public static func closeAll() {
        for r in opened.withValue({ list in defer { list = [] }; return list }) { try? r.close() }
        for f in temporary.withValue({ list in defer { list = [] }; return list }) { try? FileManager.default.removeItem(at: f) }
    }
}


/// With `GLOSS_PEAK_RSS_FILE` set, writes this process's peak resident memory (VmHWM, in kB) to that
/// file at exit: how the scale tests measure a command exactly (rusage of a spawned child also
/// counts the parent's memory from before exec).
public enum PeakMemory {
    private static let installed: Bool = {
        guard ProcessInfo.processInfo.environment["GLOSS_PEAK_RSS_FILE"] != nil else { return false }
        atexit {
            guard let path = ProcessInfo.processInfo.environment["GLOSS_PEAK_RSS_FILE"],
                  let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return }
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            try? "\(kb)\n".write(toFile: path, atomically: true, encoding: .utf8)
        }
        return true
    }()
    public static func reportAtExitIfRequested() { _ = installed }
}
