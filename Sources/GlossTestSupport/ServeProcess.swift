import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GlossEngine

/// `gloss serve` as a real process on a loopback port the system picks, its stderr drained
/// continuously (a chatty log never blocks it), for end-to-end tests.
public final class ServeProcess: @unchecked Sendable {
    // @unchecked: `process` is only driven from the test's thread; the log buffer is `Locked`.
    public let process = Process()
    public let port: Int
    private let errPipe = Pipe()
    private let err = Locked(Data())

    /// Starts `gloss serve --dir DIR --listen 127.0.0.1:0 EXTRA…` and waits for its
    /// "listening on HOST:PORT" line.
    public convenience init(dir: URL, extra: [String] = []) throws {
        try self.init(arguments: ["--dir", dir.path] + extra)
    }

    /// Starts `gloss serve ARGUMENTS… --listen 127.0.0.1:0` (a hub: `--store URL --cache DIR`).
    public init(arguments: [String], env: [String: String] = [:]) throws {
        process.executableURL = GlossProcess.binary
        process.arguments = ["serve"] + arguments + ["--listen", "127.0.0.1:0"]
        if !env.isEmpty {
            var e = ProcessInfo.processInfo.environment
            for (k, v) in env { e[k] = v }
            process.environment = e
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errPipe
        try process.run()
        let buffer = err
        errPipe.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            if !d.isEmpty { buffer.withValue { $0.append(d) } }
        }
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let p = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            process.terminate()
            throw GlossError(.internalError, "gloss serve printed no port: \(text)")
        }
        port = p
    }

    /// Everything the server wrote to stderr so far (all of it once stopped).
    public var log: String { String(decoding: err.value, as: UTF8.self) }
    public var alive: Bool { process.isRunning }

    /// SIGKILL (no chance to finish anything), then waits.
    public func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        errPipe.fileHandleForReading.readabilityHandler = nil
    }

    /// SIGTERM, then waits; returns the exit status. The log is complete afterwards.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        errPipe.fileHandleForReading.readabilityHandler = nil
        let rest = errPipe.fileHandleForReading.readDataToEndOfFile()
        err.withValue { $0.append(rest) }
        return process.terminationStatus
    }

    /// Peak resident memory of the server (VmHWM), in bytes, while it runs.
    public var peakRSS: Int? {
        guard let s = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb * 1024
    }
}
