import Foundation

/// Runs the built `gloss` binary as a real process (end-to-end tests).
public struct GlossProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// stdout parsed as one JSON value.
        public func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed]) }
        public var object: [String: Any] { (try? json()) as? [String: Any] ?? [:] }
        public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
        public init(status: Int32, stdout: String, stderr: String) { self.status = status; self.stdout = stdout; self.stderr = stderr }
    }

    /// The binary: `GLOSS_BIN`, else `gloss` beside the test bundle, else `.build/debug/gloss`.
    public static var binary: URL {
        if let p = ProcessInfo.processInfo.environment["GLOSS_BIN"] { return URL(fileURLWithPath: p) }
        let beside = Bundle.main.bundleURL.appendingPathComponent("gloss")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        for b in Bundle.allBundles {
            let c = b.bundleURL.deletingLastPathComponent().appendingPathComponent("gloss")
            if FileManager.default.isExecutableFile(atPath: c.path) { return c }
        }
        return repositoryRoot().appendingPathComponent(".build/debug/gloss")
    }

    /// The benchmarks' executable, built beside `gloss` (which runs it for `gloss bench`).
    public static var benchBinary: URL { binary.deletingLastPathComponent().appendingPathComponent("gloss-bench") }

    /// Runs `gloss args…` (or another `executable`) in `cwd` and waits for it.
    @discardableResult
    public static func run(_ args: [String], cwd: URL, env: [String: String] = [:], stdin: Data? = nil, executable: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = executable ?? binary
        p.arguments = args
        p.currentDirectoryURL = cwd
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "GLOSS_DIR")
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(stdin) }
        try? inp.fileHandleForWriting.close()
        // Read both pipes before waiting, so a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter(); DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}
