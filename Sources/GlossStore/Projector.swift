import GRDB
import GlossModel

/// An event being applied, as a projector sees it inside the apply transaction.
public struct AppliedEvent: Sendable {
    public var envelope: EventEnvelope
    public var payload: [UInt8]?
    /// Local apply position (`events.pos`).
    public var pos: Int64
    /// Local feed number of the event's replica (`feeds.feed`).
    public var feed: Int64
    /// The payload already decoded off the writer's thread (`CheckedWindow`, a rebuild's reader),
    /// or nil: the projector decodes it. Always `DecodedPayload(type:schema:payload:)` of this event.
    public var decoded: DecodedPayload? = nil
    /// Its deps delta by local feed number (`event_deps`' rows of this event), or nil when the
    /// caller did not map it.
    public var depFeeds: [(Int64, UInt64)]? = nil
    public var id: EventID { envelope.id }

    /// The decoded payload (decoded here when no one did it before).
    public var decodedPayload: DecodedPayload {
        decoded ?? DecodedPayload(type: envelope.type, schema: envelope.schema, payload: payload)
    }
}

/// Read models updated in the same transaction as each append (DESIGN §1.8).
///
/// A projector must be a function of the set of events: given the same events in any causal order
/// it must leave the same rows (DESIGN §1.6).
public protocol Projector: Sendable {
    /// Prepares each new SQLite connection (e.g. registers SQL functions the projections' triggers use).
    func prepareConnection(_ db: Database)
    /// Version of the projection schema and logic; a change triggers a rebuild.
    var version: Int { get }
    /// Creates or migrates the projection tables (idempotent).
    func createSchema(_ db: Database) throws
    /// Drops every projection table (before a rebuild).
    func dropSchema(_ db: Database) throws
    /// Updates the projections for one event. Runs inside the apply transaction.
    func apply(_ event: AppliedEvent, store: ReplicaStore, _ db: Database) throws
    /// Called at the end of every write transaction, before it commits (flush accumulated state).
    func willCommit(_ db: Database) throws
    /// Called when a write transaction rolls back (discard accumulated state).
    func didRollback(_ db: Database)
    /// Called once at open, in a write transaction, when the projections are current: settings that
    /// change no row (e.g. the search index's merge policy) are brought up to this version's.
    func settle(_ db: Database) throws
    /// True when `settle` would change something (read-only check, so opening writes nothing when
    /// nothing needs writing).
    func needsSettle(_ db: Database) throws -> Bool
    /// Upkeep off the edit path, run on a connection of its own when the writer has been quiet
    /// (e.g. merging the search index's segments); each call in its own transaction, bounded.
    func maintain(_ db: Database) throws
}

extension Projector {
    public func settle(_ db: Database) throws {}
    public func needsSettle(_ db: Database) throws -> Bool { false }
    public func maintain(_ db: Database) throws {}
}
