import GlossModel

/// An accepted roster event: who signed it, where it sits in its feed, and what it changes.
public struct RosterEvent: Sendable, Equatable {
    public var id: EventID
    /// The signing key (the event's replica).
    public var signer: ReplicaID
    public var seq: UInt64
    public var change: RosterChange
    /// The event's full deps (Protocol/01-event.md §Deps): with `signer`/`seq`, its causal past.
    public var deps: [ReplicaID: UInt64]

    public init(id: EventID, signer: ReplicaID, seq: UInt64, change: RosterChange, deps: [ReplicaID: UInt64]) {
        self.id = id; self.signer = signer; self.seq = seq; self.change = change; self.deps = deps
    }

    /// True when this event happened before `other` (DESIGN §1.2).
    public func happenedBefore(_ other: RosterEvent) -> Bool {
        other.isAfter(replica: signer, seq: seq)
    }

    /// The key this event enrols and the analyst it enrols it for, if it enrols one
    /// (`TeamCreated`: the signer's own key; `MemberAdded`, `DeviceEnrolled`: `key`).
    public var enrolment: (key: ReplicaID, analyst: String)? {
        switch change {
        case .created(let p): (signer, p.analyst)
        case .added(let p): ReplicaID(hex: p.key).map { ($0, p.analyst) }
        case .enrolled(let p): ReplicaID(hex: p.key).map { ($0, p.analyst) }
        default: nil
        }
    }

    /// True when event (`replica`, `seq`) lies in this event's causal past.
    public func isAfter(replica: ReplicaID, seq s: UInt64) -> Bool {
        replica == signer ? s < seq : (deps[replica] ?? 0) >= s
    }
}

/// The team roster as of a causally closed set of accepted roster events (Protocol/11-teams.md):
/// a function of the set, never of the order it was learned in, so every replica judging an event
/// against the roster in that event's causal past decides alike.
///
/// - An analyst's **role** is a multi-value register over the events that set it (`TeamCreated`,
///   `MemberAdded`, `RoleChanged`): of its maximal writes the least privileged one holds.
/// - An analyst is **present** when the maximal events among those that add (`TeamCreated`,
///   `MemberAdded`) or remove (`MemberRemoved`) them include no removal: removal wins.
/// - A **key** belongs to the analyst its enrolment names (`TeamCreated` for the signer's key,
///   `MemberAdded`, `DeviceEnrolled`; of concurrent enrolments the smallest event id); it is
///   **revoked** for good by `KeyRevoked`, or by a `MemberRemoved` of an analyst whose causal past
///   holds an enrolment of the key for that analyst. Revocation only grows with the set: a revoked
///   key never comes back.
/// - A key is a **member** when it is enrolled, not revoked, and its analyst is present.
public struct Roster: Sendable, Equatable {
    public struct Analyst: Sendable, Equatable {
        public var name: String
        public var role: TeamRole
        public var present: Bool
        /// The event whose removal (if any) holds.
        public var removedBy: EventID?
    }

    public struct Key: Sendable, Equatable {
        public var key: ReplicaID
        public var analyst: String
        public var enrolledBy: EventID
        /// The revocation (`KeyRevoked` or `MemberRemoved`) that ended it, if any.
        public var revokedBy: EventID?
        public var revokeReason: String?
    }

    /// The genesis event's id (the team id) and the team's name, once the genesis is in the set.
    public private(set) var team: TeamID?
    public private(set) var name: String?
    public private(set) var analysts: [String: Analyst] = [:]
    public private(set) var keys: [ReplicaID: Key] = [:]

    /// The empty roster (no team).
    public init() {}

    /// The roster of `events`, a causally closed set of accepted roster events (in any order).
    public init(_ events: [RosterEvent]) {
        // Everything below reads maximal events per analyst or key; sorting by id makes every tie
        // and every iteration order independent of the input's order.
        let sorted = events.sorted { $0.id < $1.id }
        func maximal(_ xs: [RosterEvent]) -> [RosterEvent] {
            xs.filter { a in !xs.contains { b in b.id != a.id && a.happenedBefore(b) } }
        }
        var roleWrites: [String: [(RosterEvent, TeamRole)]] = [:]
        var presence: [String: [RosterEvent]] = [:]
        var enrolments: [ReplicaID: [(RosterEvent, String)]] = [:]
        var revocations: [(RosterEvent, String)] = []
        var removals: [String: [RosterEvent]] = [:]
        for e in sorted {
            if let (key, analyst) = e.enrolment { enrolments[key, default: []].append((e, analyst)) }
            switch e.change {
            case .created(let p):
                if team == nil { team = TeamID(e.id.raw); name = p.name }
                roleWrites[p.analyst, default: []].append((e, .admin))
                presence[p.analyst, default: []].append(e)
            case .added(let p):
                roleWrites[p.analyst, default: []].append((e, p.role))
                presence[p.analyst, default: []].append(e)
            case .enrolled:
                break
            case .roleChanged(let p):
                roleWrites[p.analyst, default: []].append((e, p.role))
            case .revoked(let p):
                revocations.append((e, p.reason))
            case .removed(let p):
                presence[p.analyst, default: []].append(e)
                removals[p.analyst, default: []].append(e)
            }
        }
        for (name, writes) in roleWrites {
            let top = maximal(writes.map(\.0))
            let role = writes.filter { w in top.contains { $0.id == w.0.id } }.map(\.1).min() ?? .reader
            let heads = maximal(presence[name] ?? [])
            let removal = heads.first { if case .removed = $0.change { true } else { false } }
            analysts[name] = Analyst(name: name, role: role, present: removal == nil, removedBy: removal?.id)
        }
        for (key, list) in enrolments {
            let (by, analyst) = list.min { $0.0.id < $1.0.id }!
            var entry = Key(key: key, analyst: analyst, enrolledBy: by.id)
            for (r, reason) in revocations {
                if case .revoked(let p) = r.change, p.key == key.hex { entry.revokedBy = r.id; entry.revokeReason = reason; break }
            }
            if entry.revokedBy == nil {
                // Any enrolment of the key (not only the one that names its analyst) whose analyst's
                // removal saw it: so an enrolment arriving later can never undo the revocation.
                search: for (enrolment, name) in list.sorted(by: { $0.0.id < $1.0.id }) {
                    for r in (removals[name] ?? []).sorted(by: { $0.id < $1.id }) where r.isAfter(replica: enrolment.signer, seq: enrolment.seq) {
                        if case .removed(let p) = r.change {
                            entry.revokedBy = r.id; entry.revokeReason = "analyst \(name) removed: \(p.reason)"
                            break search
                        }
                    }
                }
            }
            keys[key] = entry
        }
    }

    /// The analyst a member key acts for, or why the key is not a member.
    public func member(_ key: ReplicaID) -> Result<(analyst: String, role: TeamRole), Refusal> {
        guard let k = keys[key] else { return .failure(Refusal("key \(key.short) is not on the team's roster")) }
        if let by = k.revokedBy {
            return .failure(Refusal("key \(key.short) of \(k.analyst) was revoked by event \(by.short)\(k.revokeReason.map { " (\($0))" } ?? "")"))
        }
        // Never added in this roster (e.g. an event whose deps name the device's enrolment but not the
        // analyst's addition: an audit, 2026-12-06) is not "no longer": say which it is.
        guard let a = analysts[k.analyst] else {
            return .failure(Refusal("analyst \(k.analyst) (key \(key.short)) is not on the team in the roster of its causal past (its addition is not in it)"))
        }
        guard a.present else {
            return .failure(Refusal("analyst \(k.analyst) (key \(key.short)) is no longer on the team"))
        }
        return .success((a.name, a.role))
    }

    /// Member keys now (for the sync handshake and `--to-team`).
    public var memberKeys: Set<ReplicaID> {
        Set(keys.keys.filter { if case .success = member($0) { true } else { false } })
    }

    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// What the roster says of an event (Protocol/11-teams.md §Judgement).
    public enum Verdict: Sendable, Equatable {
        case allowed
        /// The signing key is not a member: the event is refused and never stored.
        case notMember(String)
        /// A member acting beyond its role: the event is quarantined and its feed stalls there.
        case denied(String)
    }

    /// Judges an event signed by `signer`, naming `author`, of `type`, against this roster (which
    /// must be the roster of the event's causal past). `change` is the decoded roster change when
    /// `type` is a roster type; `factAuthor` the author of the fact a `FactAmended`/`FactRetracted`
    /// names (nil when the fact is not held).
    public func judge(signer: ReplicaID, author: String, type: String, change: RosterChange?, factAuthor: String?) -> Verdict {
        let who: (analyst: String, role: TeamRole)
        switch member(signer) {
        case .failure(let r): return .notMember(r.description)
        case .success(let m): who = m
        }
        guard author == who.analyst else {
            return .denied("signed by a key of \(who.analyst) but names \(author) as its author")
        }
        if RosterChange.types.contains(type) {
            guard who.role == .admin else { return .denied("\(who.analyst) is \(who.role.rawValue), and only an admin changes the roster") }
            guard let change else { return .denied("a \(type) this build cannot read changes nothing") }
            return judgeRosterChange(change)
        }
        guard who.role != .reader else { return .denied("\(who.analyst) is a reader, and readers cannot write") }
        if type == PayloadRedacted.type, who.role != .admin { return .denied("\(who.analyst) is \(who.role.rawValue), and only an admin redacts") }
        if (type == FactAmended.type || type == FactRetracted.type), who.role != .admin, let factAuthor, factAuthor != who.analyst {
            return .denied("only the fact's author (\(factAuthor)) or an admin may \(type == FactAmended.type ? "amend" : "retract") it")
        }
        return .allowed
    }

    private func judgeRosterChange(_ change: RosterChange) -> Verdict {
        func present(_ a: String) -> Bool { analysts[a]?.present == true }
        switch change {
        case .created:
            return .denied("a team has one genesis")
        case .added(let p):
            guard let k = ReplicaID(hex: p.key) else { return .denied("key is not a replica id") }
            if let e = keys[k] { return .denied("key \(k.short) is already enrolled (for \(e.analyst)); a key joins once") }
            if present(p.analyst) { return .denied("\(p.analyst) is already on the team; enrol a device or change the role") }
        case .enrolled(let p):
            guard let k = ReplicaID(hex: p.key) else { return .denied("key is not a replica id") }
            if let e = keys[k] { return .denied("key \(k.short) is already enrolled (for \(e.analyst)); a key joins once") }
            if !present(p.analyst) { return .denied("\(p.analyst) is not on the team; add them first") }
        case .roleChanged(let p):
            if !present(p.analyst) { return .denied("\(p.analyst) is not on the team") }
        case .revoked(let p):
            guard let k = ReplicaID(hex: p.key), keys[k] != nil else { return .denied("key \(p.key.prefix(12)) is not on the roster") }
        case .removed(let p):
            if !present(p.analyst) { return .denied("\(p.analyst) is not on the team") }
        }
        return .allowed
    }
}
