import GlossModel

/// A write to a multi-value register (Protocol/08-conflicts.md §Registers): a value or a tombstone,
/// with the `(time, replica)` that breaks display ties. Where it sits in causal order is the
/// caller's business: every rule takes a `happenedBefore` relation.
public protocol RegisterWrite {
    /// The event id (hex), the order in which concurrent texts fold.
    var event: String { get }
    var deleted: Bool { get }
    var value: String? { get }
    var time: Int64 { get }
    var replica: String { get }
}

/// How a register's heads display.
public enum RegisterState: String, Sendable {
    /// One head.
    case single
    /// Several heads whose values merged (equal, or a clean three-way line merge).
    case merged
    /// Several heads that did not merge: an open conflict listing every head.
    case conflict
}

/// What a register shows.
public struct RegisterDisplay<W: RegisterWrite> {
    public var value: String?
    public var deleted: Bool
    /// The write shown (its event, author and time): the head with the highest `(time, replica)`,
    /// or, while an edit and a delete conflict, the newest head with text.
    public var winner: W
    public var state: RegisterState
}

/// The merge rules of a multi-value register, version 3 (Protocol/08-conflicts.md), as pure
/// functions: writes and a causal order in, heads and what they display out. No storage, no I/O;
/// the SQLite projections (`GlossProjections/Registers.swift`) and the tests' model both call these.
public enum Register {
    /// Registers whose value is one grade, not text: concurrent writes merge only when equal.
    public static let scalarFields: Set<String> = ["credibility", "reliability"]

    /// The head shown while writes are concurrent: highest `(time, replica)`.
    public static func winner<W: RegisterWrite>(_ ws: [W]) -> W {
        ws.max { ($0.time, $0.replica) < ($1.time, $1.replica) }!
    }

    /// The heads after `w` arrives: the heads `w` follows are replaced by `w`. With causal delivery a
    /// write never arrives after one it precedes, so the heads are a function of the set of writes.
    /// In place: a run of K concurrent writes to one register costs K² causal answers, not K² copies.
    public static func add<W: RegisterWrite>(_ w: W, to heads: inout [W], happenedBefore: (W, W) throws -> Bool) rethrows {
        try heads.removeAll { h in try h.event == w.event || happenedBefore(h, w) }
        heads.append(w)
    }

    /// The writes no other write follows: the heads of a register, from the set of its writes alone.
    public static func maximal<W: RegisterWrite>(_ all: [W], happenedBefore: (W, W) throws -> Bool) rethrows -> [W] {
        var out: [W] = []
        for w in all {
            var dominated = false
            for o in all where o.event != w.event {
                if try happenedBefore(w, o) { dominated = true; break }
            }
            if !dominated { out.append(w) }
        }
        return out
    }

    /// What `heads` (drawn from `all`, every write of the register) display.
    public static func display<W: RegisterWrite>(heads: [W], among all: [W], scalar: Bool,
                                                 happenedBefore: (W, W) throws -> Bool) rethrows -> RegisterDisplay<W> {
        try display(heads: heads, among: { all }, scalar: scalar, happenedBefore: happenedBefore)
    }

    /// As `display(heads:among:scalar:happenedBefore:)`, the register's writes read only when the
    /// display needs them (a text merge of different concurrent values needs their meet; a single
    /// head, a delete, equal values or a grade do not). This is the definition, by the causal
    /// relation alone: a meet filters every write and a recursion visits every level of merges
    /// below it (quadratic and more in a register's writes). The projections use the same rules in
    /// the feed form (`display(heads:history:scalar:past:)`); tests hold the two equal.
    public static func display<W: RegisterWrite>(heads: [W], among all: () throws -> [W], scalar: Bool,
                                                 happenedBefore: (W, W) throws -> Bool) rethrows -> RegisterDisplay<W> {
        var cells = mergeCells
        return try display(heads: heads, among: all, scalar: scalar, happenedBefore: happenedBefore, cells: &cells)
    }

    static func display<W: RegisterWrite>(heads: [W], among all: () throws -> [W], scalar: Bool,
                                          happenedBefore: (W, W) throws -> Bool, cells: inout Int) rethrows -> RegisterDisplay<W> {
        if let shown = displayWithoutBase(heads: heads, scalar: scalar) { return shown }
        let base = try valueAtMeet(of: heads, among: all(), happenedBefore: happenedBefore, cells: &cells)
        return merge(heads, base: base, cells: &cells)
    }

    /// The line-merge table cells one display may fill, over every merge it makes (the heads' and
    /// those of the levels below them, bottom first): 2^26, two merges of 4,000-line texts. A merge
    /// past it is not made and its heads conflict, as for an overlap — the same on every replica,
    /// since the merges and their order are a function of the writes. Without it a history could
    /// make each display fill a 4,000 × 4,000 table per level, at any number of levels.
    public static let mergeCells = 1 << 26

    /// What `heads` display, with the register's history in the feed form: the value at a meet is
    /// found from each feed's latest common write (a binary search per feed and level) and the levels
    /// of merges below it are walked in a loop, not a recursion — O(levels × feeds) causal answers,
    /// whatever the number of writes, and no stack depth a history can choose. `history` is read
    /// only when the display needs a meet. Equal to the definition (`display(heads:among:…)`) when
    /// `past` and the writes' feeds and seqs give its causal relation (`FeedWrite`).
    public static func display<W: FeedWrite>(heads: [W], history: () throws -> RegisterHistory<W>, scalar: Bool,
                                             past: (W, W.Feed) throws -> UInt64) rethrows -> RegisterDisplay<W> {
        var cells = mergeCells
        return try display(heads: heads, history: history, scalar: scalar, past: past, cells: &cells)
    }

    static func display<W: FeedWrite>(heads: [W], history: () throws -> RegisterHistory<W>, scalar: Bool,
                                      past: (W, W.Feed) throws -> UInt64, cells: inout Int) rethrows -> RegisterDisplay<W> {
        if let shown = displayWithoutBase(heads: heads, scalar: scalar) { return shown }
        let base = try history().valueAtMeet(of: heads, past: past, cells: &cells)
        return merge(heads, base: base, cells: &cells)
    }

    /// What `heads` display when that takes no meet: one head, deletes, an edit against a delete,
    /// equal values, grades. Nil when different texts are to be merged.
    static func displayWithoutBase<W: RegisterWrite>(heads: [W], scalar: Bool) -> RegisterDisplay<W>? {
        let win = winner(heads)
        if heads.count == 1 { return RegisterDisplay(value: win.value, deleted: win.deleted, winner: win, state: .single) }
        let sets = heads.filter { !$0.deleted }
        if sets.isEmpty { return RegisterDisplay(value: nil, deleted: true, winner: win, state: .single) }
        // An edit concurrent with a delete is always a conflict. While it is open the object stays
        // visible with its newest text, and that text's write is the one shown (its event, author,
        // time): nothing disappears before someone decides.
        if sets.count != heads.count {
            let shown = winner(sets)
            return RegisterDisplay(value: shown.value, deleted: false, winner: shown, state: .conflict)
        }
        // Equal by their bytes, not as Swift compares strings (canonical equivalence: an NFC and an
        // NFD spelling of one text are equal there, and which one showed would depend on the heads'
        // order). Texts are not normalised on receipt (02-payloads.md).
        if Set(sets.map { Array(($0.value ?? "").utf8) }).count == 1 {
            return RegisterDisplay(value: win.value, deleted: false, winner: win, state: .merged)
        }
        // A grade has no parts to merge; different concurrent grades conflict.
        if scalar { return RegisterDisplay(value: win.value, deleted: false, winner: win, state: .conflict) }
        // So many concurrent texts are not merged: they conflict (their meet alone would cost
        // heads × feeds causal answers per display).
        if sets.count > maxMergeHeads { return RegisterDisplay(value: win.value, deleted: false, winner: win, state: .conflict) }
        return nil
    }

    /// Concurrent different texts merged at most (Protocol/08 rule 6): more conflict.
    public static let maxMergeHeads = 16

    /// Different concurrent texts (every head a value) merged three ways from `base`, the value at
    /// their meet. When the meet is itself a conflict (e.g. two concurrent resolutions of one
    /// conflict) there is no base (nil), and different texts conflict; more than two candidates fold
    /// in event-id order.
    static func merge<W: RegisterWrite>(_ heads: [W], base: String?, cells: inout Int) -> RegisterDisplay<W> {
        let win = winner(heads)
        guard let base else { return RegisterDisplay(value: win.value, deleted: false, winner: win, state: .conflict) }
        // Heads with one text (by its bytes) are one side of the fold, at the place of the smallest
        // event id among them: a repeated edit never makes an overlap the single edit would not.
        var seen = Set<[UInt8]>()
        let ordered = heads.sorted { $0.event < $1.event }.filter { seen.insert(Array(($0.value ?? "").utf8)).inserted }
        var merged = ordered[0].value ?? ""
        for c in ordered.dropFirst() {
            guard let m = LineMerge.merge(base: base, ours: merged, theirs: c.value ?? "", cells: &cells) else {
                return RegisterDisplay(value: win.value, deleted: false, winner: win, state: .conflict)
            }
            merged = m
        }
        return RegisterDisplay(value: merged, deleted: false, winner: win, state: .merged)
    }

    /// A meet's display as a merge base: its text (a delete: the empty text), nil for a conflict.
    static func base<W: RegisterWrite>(_ shown: RegisterDisplay<W>) -> String? {
        if shown.state == .conflict { return nil }
        return shown.deleted ? "" : shown.value ?? ""
    }

    /// The value at the meet of the heads' causal pasts: the writes every head follows, their own
    /// maximal elements displayed by the same rules (a meet of merged heads is itself a merge). No
    /// common past: the empty text. Nil when the meet displays as a conflict: there is no base.
    static func valueAtMeet<W: RegisterWrite>(of heads: [W], among all: [W], happenedBefore: (W, W) throws -> Bool,
                                              cells: inout Int) rethrows -> String? {
        var common: [W] = []
        for w in all where !heads.contains(where: { $0.event == w.event }) {
            var inAll = true
            for h in heads where try !happenedBefore(w, h) { inAll = false; break }
            if inAll { common.append(w) }
        }
        guard !common.isEmpty else { return "" }
        return base(try display(heads: try maximal(common, happenedBefore: happenedBefore), among: { common }, scalar: false,
                                happenedBefore: happenedBefore, cells: &cells))
    }

    /// Deterministic conflict id: SHA-256("gloss/conflict" ‖ 0 ‖ object ‖ 0 ‖ field ‖ 0 ‖ sorted
    /// candidate ids joined by ","), hex.
    public static func conflictID(object: String, field: String, candidates: [String]) -> String {
        Bytes32.sha256(Array(("gloss/conflict\0" + object + "\0" + field + "\0" + candidates.sorted().joined(separator: ",")).utf8)).hex
    }
}
