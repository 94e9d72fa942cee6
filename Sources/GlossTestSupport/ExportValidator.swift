import Foundation
import Testing

/// Runs Scripts/check_exports.py (the official stix2-validator and pyld, Protocol/10-export.md) on
/// export files. The Python comes from `GLOSS_STIX_PYTHON` or `.venv-stix/bin/python` (made by
/// Scripts/stix-venv.sh, which Scripts/test.sh runs); without it the check is skipped with a
/// message, unless `GLOSS_REQUIRE_STIX=1` (set by Scripts/test.sh), which makes it a failure.
public enum ExportValidator {
    public static var python: String? {
        let env = ProcessInfo.processInfo.environment
        if let p = env["GLOSS_STIX_PYTHON"], !p.isEmpty { return p }
        let venv = repositoryRoot().appendingPathComponent(".venv-stix/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    /// The checker's report (`stix` {valid, errors, warnings}, `annotations` {types}) and its exit
    /// status, or nil when no validator is installed (recorded as an issue when one is required).
    public static func check(stix: URL, annotations: URL) throws -> (status: Int32, report: [String: Any], output: String)? {
        guard let python else {
            if ProcessInfo.processInfo.environment["GLOSS_REQUIRE_STIX"] == "1" {
                Issue.record("GLOSS_REQUIRE_STIX=1 but no validator: run Scripts/stix-venv.sh or set GLOSS_STIX_PYTHON")
            } else {
                print("[export] stix2-validator not installed (Scripts/stix-venv.sh); external check skipped")
            }
            return nil
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [repositoryRoot().appendingPathComponent("Scripts/check_exports.py").path, "--stix", stix.path, "--annotations", annotations.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let report = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return (p.terminationStatus, report, String(decoding: data, as: UTF8.self))
    }
}
