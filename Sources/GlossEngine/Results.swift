import GlossModel
import GlossProjections
import GlossStore

// The typed values the engine returns that the store and the projections define (they own the
// tables they are read from); named here so callers of the engine need no other import.

public typealias PendingFeed = GlossStore.PendingFeed
public typealias QuarantinedEvent = GlossStore.QuarantinedEvent
public typealias FeedProblem = GlossStore.FeedProblem
/// A SQLite value as read: null, integer, real, text or blob (`gloss query`, whole rows in `gloss show`).
public typealias QueryValue = GlossStore.ReadOnlyQuery.Value
public typealias TableRow = GlossStore.TableRow
public typealias FeedState = GlossModel.FeedState
public typealias ConflictState = GlossModel.ConflictState
public typealias ObjectKind = GlossModel.ObjectKind
public typealias FactField = GlossModel.FactField
public typealias Reliability = GlossModel.Reliability
public typealias Credibility = GlossModel.Credibility

extension FactField {
    /// A field named as `gloss fact amend --field` takes it.
    public init(parsing text: String) throws {
        guard let f = FactField(rawValue: text) else {
            throw GlossError(.badInput, "unknown field \(text); amend one of \(FactRecord.fields.joined(separator: ", "))")
        }
        self = f
    }
}

extension Reliability {
    /// A letter A–F, either case.
    public init(parsing text: String) throws {
        guard let r = Reliability(rawValue: text.uppercased()) else {
            throw GlossError(.badInput, "reliability is a letter A–F: " + Admiralty.reliability.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        self = r
    }
}

extension Credibility {
    /// A digit 1–6.
    public init(parsing text: String) throws {
        guard let c = Credibility(rawValue: text) else {
            throw GlossError(.badInput, "credibility is a digit 1–6: " + Admiralty.credibility.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        self = c
    }
}
