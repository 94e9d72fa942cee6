import ArgumentParser
import Foundation
import GlossEngine
import GlossHub

/// `--store URL`: a hub database instead of a replica folder (Protocol/12-hub.md).
public struct HubStoreOption: ParsableArguments {
    @Option(help: ArgumentHelp("A hub database on PostgreSQL instead of a replica folder: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (the password may come from PGPASSWORD).", valueName: "URL"))
    public var store: String?

    public init() {}

    public func validate() throws { _ = try url() }

    /// The parsed URL; a malformed one is a usage error (exit 64).
    public func url() throws -> HubURL? {
        guard let store else { return nil }
        do { return try HubURL(store) } catch let e as GlossError { throw ValidationError("--store: \(e.message)") }
    }

    /// A temporary copy of the hub database, read by the engine's own code (`status`, `verify`,
    /// `digest`); removed when the command ends.
    public func openSnapshot(_ url: HubURL) throws -> Replica {
        let r = try Hub.snapshot(url)
        return OpenedReplicas.addTemporary(r)
    }
}

