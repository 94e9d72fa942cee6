import Foundation
import GRDB
import GlossIngest
import GlossMerge
import GlossModel
import GlossStore

/// What a write transaction keeps in memory on one connection between events, so that a run of
/// events is projected as net row changes (Protocol/04-projections.md §Apply windows):
///
/// - the note-body registers written by a run of events, reduced by the pure `RegisterRun`:
///   their heads stay here, and the `reg_heads`, `notes` and open `conflicts` rows are written once,
///   when the run ends (before a conflict resolution or a redaction, and before commit) — a note
///   edited many times in a window is updated once;
/// - likewise the fact-record and grade registers (`credibility`, `reliability`) a run writes: their
///   `reg_heads`, open conflicts and the `facts` and `sources` columns that show them are written
///   once, when the run ends (K concurrent gradings of one source read and rewrote the register's K
///   heads and conflict candidates at each: K² rows);
/// - article revisions' texts prepared for anchoring (a revision's text never changes: kept across
///   transactions, a bounded number of the latest);
/// - the full deps of the latest event applied of each feed, when the transaction applied its whole
///   feed so far (from seq 1) or its predecessor's were known: a new write's causal checks against the
///   heads it meets are then lookups, not a query per head (K fresh keys editing one note cost K²/2
///   queries);
/// - causal-order answers (`depSeq` of a stored event on a feed), which never change once the event
///   is stored, and the log position of the event that created an object (a note, fact or
///   annotation row exists and was created by that event: nothing but a rebuild, which resets the
///   window, removes such a row).
///
/// Note, fact, source and grade events defer, and only resolutions and redactions read what they
/// defer: those flush the run first, so whatever reads register-shown rows or registers sees them
/// current. The rows at commit are those of the event-by-event projection (the window-size tests
/// check it).
final class ApplyWindow {
    /// Note-body registers by note (its id, and the log position of its `NoteAdded`: its `notes` row).
    var notes = RegisterRun<NoteKey, Registers.Write>()
    struct NoteKey: Hashable { var id: String; var pos: Int64 }
    /// Fact-record and grade registers by object and field.
    var registers = RegisterRun<RegisterKey, Registers.Write>()
    struct RegisterKey: Hashable { var object: String; var field: String }
    /// A run is written out once it holds this many registers, or written text of this many UTF-8 bytes
    /// (memory stays bounded however long a run is, e.g. a rebuild of a log of notes alone; a
    /// 5,000-event import window fits in one run unless its notes are long).
    static let maxRunRegisters = 10_000
    static let maxRunBytes = 8 << 20
    /// UTF-8 bytes of the texts (note bodies, fact records, grades) the run's writes hold.
    var runBytes = 0
    /// True when the run is to be written out now.
    var runIsFull: Bool { notes.count + registers.count >= ApplyWindow.maxRunRegisters || runBytes >= ApplyWindow.maxRunBytes }
    /// Memoized causal answers kept at most (then forgotten and re-read as needed).
    static let maxDepSeqs = 100_000
    /// The store the run's events are applied to (weak: the store owns the connection that owns this).
    weak var store: ReplicaStore?
    private var depSeqs: [DepKey: UInt64] = [:]
    /// Full deps (by feed: the seq it follows) of the latest event applied of each feed, where known.
    private var vectors: [Int64: (seq: UInt64, deps: [Int64: UInt64])] = [:]
    /// Entries in `vectors`' deps, kept at most `maxDepSeqs` (then all are forgotten).
    private var vectorEntries = 0
    /// Objects' creating events by (table, id), found or written in this transaction.
    private var origins: [OriginKey: Origin] = [:]
    /// Entries kept at most in `origins` (then forgotten and read from the log as needed): under
    /// three quarters of 2^15, so the table stays at 32,768 buckets, 2 MB.
    static let maxOrigins = 24_000
    /// Revisions' texts prepared for anchoring, by SHA-256, the latest within `textScalars` scalars
    /// in all (4 bytes each: 2 MiB).
    var texts = RecentCache<String, Anchoring.PreparedText>(budget: ApplyWindow.textScalars)
    static let textScalars = 512 << 10

    struct DepKey: Hashable { var feed: Int64; var seq: UInt64; var on: Int64 }
    struct OriginKey: Hashable { var table: String; var id: Bytes32 }
    /// The feed, seq and local log position of the event that created an object.
    struct Origin { var feed: Int64; var seq: UInt64; var pos: Int64 }

    func origin(_ table: String, _ id: Bytes32) -> Origin? { origins[OriginKey(table: table, id: id)] }

    func remember(_ table: String, _ id: Bytes32, _ origin: Origin) {
        if origins.count >= ApplyWindow.maxOrigins { origins.removeAll(keepingCapacity: true) }
        origins[OriginKey(table: table, id: id)] = origin
    }

    /// Forgets the run (after it is written, after any event outside a run, on rollback).
    func clearRun() {
        notes.removeAll(); registers.removeAll(); store = nil; runBytes = 0
    }

    /// Articles whose current revision changed in this transaction: their annotations and evidence
    /// are re-anchored once, before commit (an anchor row is a function of the final state), not
    /// once per revision.
    var staleArticles = Set<String>()

    /// Forgets everything (end of transaction, rollback, rebuild).
    func reset() {
        clearRun()
        depSeqs.removeAll(keepingCapacity: true); origins.removeAll(keepingCapacity: true)
        vectors.removeAll(keepingCapacity: true); vectorEntries = 0
        staleArticles.removeAll()
    }

    /// Notes the event just applied: its full deps are its predecessor's (when known, or none at
    /// seq 1) with its deps delta over them (the latest entry per feed, as `event_deps` answers).
    func applied(feed: Int64, seq: UInt64, depFeeds: [(Int64, UInt64)]?) {
        if let depFeeds, seq > 1, let i = vectors.index(forKey: feed), vectors.values[i].seq == seq - 1 {
            // The predecessor's, grown in place.
            vectors.values[i].seq = seq
            for (f, s) in depFeeds where f != feed {
                if vectors.values[i].deps.updateValue(s, forKey: f) == nil { vectorEntries += 1 }
            }
        } else if let depFeeds, seq == 1 {
            var deps: [Int64: UInt64] = [:]
            for (f, s) in depFeeds where f != feed { deps[f] = s }
            if let old = vectors.updateValue((seq, deps), forKey: feed) { vectorEntries -= old.deps.count }
            vectorEntries += deps.count
        } else if let old = vectors.removeValue(forKey: feed) {
            vectorEntries -= old.deps.count
        }
        if vectorEntries > ApplyWindow.maxDepSeqs { vectors.removeAll(keepingCapacity: true); vectorEntries = 0 }
    }

    /// The feeds the full deps of event (`feed`, `seq`) name, when the window holds them (nil:
    /// unknown): `RegisterRun.write`'s `pastFeeds`.
    func pastFeeds(feed: Int64, seq: UInt64) -> [Int64]? {
        guard let v = vectors[feed], v.seq == seq else { return nil }
        return Array(v.deps.keys)
    }

    /// The seq of feed `on` in the full deps of stored event (`feed`, `seq`), memoized.
    private func depSeq(feed: Int64, seq: UInt64, on: Int64, store: ReplicaStore, _ db: Database) throws -> UInt64 {
        if feed != on, let v = vectors[feed], v.seq == seq { return v.deps[on] ?? 0 }
        let key = DepKey(feed: feed, seq: seq, on: on)
        if let v = depSeqs[key] { return v }
        let v = try store.depSeq(feed: feed, seq: seq, on: on, db)
        if depSeqs.count >= ApplyWindow.maxDepSeqs { depSeqs.removeAll(keepingCapacity: true) }
        depSeqs[key] = v
        return v
    }

    /// `ReplicaStore.happenedBefore`, with the deps lookups memoized by `db`'s window when it has one.
    static func happenedBefore(feedA: Int64, seqA: UInt64, feedB: Int64, seqB: UInt64, store: ReplicaStore, _ db: Database) throws -> Bool {
        try causalOrder(store: store, db)(feedA, seqA, feedB, seqB)
    }

    /// `happenedBefore` for many questions in a row: `db`'s window is looked up once.
    static func causalOrder(store: ReplicaStore, _ db: Database) -> (Int64, UInt64, Int64, UInt64) throws -> Bool {
        let past = pastSeq(store: store, db)
        return { feedA, seqA, feedB, seqB in try ReplicaStore.happenedBefore(feedA: feedA, seqA: seqA, feedB: feedB, seqB: seqB, depSeq: past) }
    }

    /// The highest seq of feed `on` that stored event (`feed`, `seq`) follows (of its own feed:
    /// `seq - 1`), memoized by `db`'s window when it has one (looked up once, for many questions in
    /// a row): `GlossMerge.FeedWrite`'s `past`.
    static func pastSeq(store: ReplicaStore, _ db: Database) -> (_ feed: Int64, _ seq: UInt64, _ on: Int64) throws -> UInt64 {
        guard let window = of(db) else { return { try store.depSeq(feed: $0, seq: $1, on: $2, db) } }
        return { try window.depSeq(feed: $0, seq: $1, on: $2, store: store, db) }
    }

    /// The window of `db`'s connection (kept with its row-change hook, for the connection's life);
    /// nil on a connection the projector did not prepare (then nothing defers).
    static func of(_ db: Database) -> ApplyWindow? {
        RowChangeHook.of(db)?.projectorState as? ApplyWindow
    }
}

/// A map that keeps its most recently stored entries within a budget of total cost: when a new
/// entry would exceed it, the older half of the entries (by storing order) is forgotten. The latest
/// entry too large for that (over an eighth of the budget) is kept alone beside them.
struct RecentCache<Key: Hashable, Value> {
    private var entries: [Key: (value: Value, cost: Int, stamp: Int)] = [:]
    /// (Annotating a long article stored each annotation's anchor by reading and preparing its
    /// whole text again: a 1 MB text is ~5 ms a time.)
    private var large: (key: Key, value: Value)?
    private var clock = 0
    private var cost = 0
    let budget: Int

    init(budget: Int) { self.budget = budget }

    subscript(key: Key) -> Value? {
        if let e = entries[key] { return e.value }
        return large?.key == key ? large?.value : nil
    }

    mutating func store(_ value: Value, for key: Key, cost: Int) {
        guard cost <= budget / 8 else { large = (key, value); return }
        if let old = entries.removeValue(forKey: key) { self.cost -= old.cost }
        if self.cost + cost > budget {
            let cut = clock - entries.count / 2
            entries = entries.filter { $0.value.stamp > cut }
            self.cost = entries.values.reduce(0) { $0 + $1.cost }
        }
        clock += 1
        entries[key] = (value, cost, clock)
        self.cost += cost
    }
}
