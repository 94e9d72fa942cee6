import Foundation
import GRDB
import GlossIngest
import GlossMerge
import GlossModel
import GlossStore

/// What a write transaction keeps in memory on one connection between events, so that a run of
/// events is projected as net row changes (Protocol/04-projections.md §Apply windows):
///
/// - the note-body registers written by a run of note events, reduced by the pure `RegisterRun`:
///   their heads stay here, and the `reg_heads`, `notes` and open `conflicts` rows are written once,
///   when the run ends (before any other kind of event, and before commit) — a note edited many
///   times in a window is updated once;
/// - articles' current revisions and their texts prepared for anchoring, read once per run;
/// - causal-order answers (`depSeq` of a stored event on a feed), which never change once the event
///   is stored.
///
/// Only note events defer: every other event flushes the run first and is projected row by row, so
/// whatever reads note rows or registers sees them current. The rows at commit are those of the
/// event-by-event projection (the window-size tests check it).
final class ApplyWindow {
    /// Note-body registers by note id.
    var notes = RegisterRun<String, Registers.Write>()
    /// A run is written out once it holds this many registers (memory stays bounded however long a
    /// run of note events is, e.g. a rebuild of a log of notes alone).
    static let maxRunRegisters = 2_000
    /// Memoized causal answers kept at most (then forgotten and re-read as needed).
    static let maxDepSeqs = 100_000
    /// The store the run's events are applied to (weak: the store owns the connection that owns this).
    weak var store: ReplicaStore?
    private var depSeqs: [DepKey: UInt64] = [:]
    /// Articles' current revisions and texts read during the run (any other event may change them).
    var currentTexts: [String: (String, Anchoring.PreparedText)] = [:]

    struct DepKey: Hashable { var feed: Int64; var seq: UInt64; var on: Int64 }

    /// Forgets the run (after it is written, after any event outside a run, on rollback).
    func clearRun() {
        notes.removeAll(); store = nil
        currentTexts.removeAll(keepingCapacity: true)
    }

    /// Forgets everything (end of transaction, rollback, rebuild).
    func reset() { clearRun(); depSeqs.removeAll(keepingCapacity: true) }

    /// The seq of feed `on` in the full deps of stored event (`feed`, `seq`), memoized.
    private func depSeq(feed: Int64, seq: UInt64, on: Int64, store: ReplicaStore, _ db: Database) throws -> UInt64 {
        let key = DepKey(feed: feed, seq: seq, on: on)
        if let v = depSeqs[key] { return v }
        let v = try store.depSeq(feed: feed, seq: seq, on: on, db)
        if depSeqs.count >= ApplyWindow.maxDepSeqs { depSeqs.removeAll(keepingCapacity: true) }
        depSeqs[key] = v
        return v
    }

    /// `ReplicaStore.happenedBefore`, with the deps lookups memoized by `db`'s window when it has one.
    static func happenedBefore(feedA: Int64, seqA: UInt64, feedB: Int64, seqB: UInt64, store: ReplicaStore, _ db: Database) throws -> Bool {
        let window = of(db)
        return try ReplicaStore.happenedBefore(feedA: feedA, seqA: seqA, feedB: feedB, seqB: seqB) { feed, seq, on in
            try window?.depSeq(feed: feed, seq: seq, on: on, store: store, db) ?? store.depSeq(feed: feed, seq: seq, on: on, db)
        }
    }

    /// The window of `db`'s connection (kept with its row-change hook, for the connection's life);
    /// nil on a connection the projector did not prepare (then nothing defers).
    static func of(_ db: Database) -> ApplyWindow? {
        RowChangeHook.of(db)?.projectorState as? ApplyWindow
    }
}
