import Foundation

/// Progress with exact counts: a redrawn bar on a terminal, a plain line per 10% otherwise.
final class ProgressReporter: @unchecked Sendable {
    // @unchecked: `update` is serialized by `lock`.
    private let lock = NSLock()
    let label: String
    let isTTY = isatty(2) != 0
    private var lastDecile = -1
    private var lastDraw = DispatchTime.now().uptimeNanoseconds

    init(_ label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        lock.lock(); defer { lock.unlock() }
        if isTTY {
            let now = DispatchTime.now().uptimeNanoseconds
            guard done == total || now - lastDraw > 100_000_000 else { return }
            lastDraw = now
            let width = 30
            let filled = total == 0 ? width : min(width, done * width / max(total, 1))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total)".utf8))
            if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let decile = total == 0 ? 10 : done * 10 / max(total, 1)
            if decile != lastDecile { lastDecile = decile; FileHandle.standardError.write(Data("\(label): \(done)/\(total)\n".utf8)) }
        }
    }
}
