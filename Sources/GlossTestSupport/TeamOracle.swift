import GlossModel

/// An independent reading of Protocol/11-teams.md, written from the specification alone (it does not
/// call or copy `GlossMerge.Roster`), for tests that compare the product's roster and judgement
/// against it. Deliberately naive: quadratic scans, no caching.
public struct OracleRosterEvent: Sendable, Equatable {
    public var id: EventID
    public var signer: ReplicaID
    public var seq: UInt64
    /// Full deps of the event (every feed it has seen, other than its own): its causal past.
    public var deps: [ReplicaID: UInt64]
    public var change: RosterChange

    public init(id: EventID, signer: ReplicaID, seq: UInt64, deps: [ReplicaID: UInt64], change: RosterChange) {
        self.id = id; self.signer = signer; self.seq = seq; self.deps = deps; self.change = change
    }

    /// True when event (`replica`, `seq`) is in this event's causal past.
    public func saw(_ replica: ReplicaID, _ s: UInt64) -> Bool {
        replica == signer ? s < seq : (deps[replica] ?? 0) >= s
    }
}

public struct TeamOracle: Sendable {
    public enum Verdict: Sendable, Equatable, CustomStringConvertible {
        case accepted, refused(String), denied(String)
        public var description: String {
            switch self { case .accepted: "accepted"; case .refused(let w): "refused (\(w))"; case .denied(let w): "denied (\(w))" }
        }
        public var isAccepted: Bool { self == .accepted }
        public var isRefused: Bool { if case .refused = self { true } else { false } }
        public var isDenied: Bool { if case .denied = self { true } else { false } }
    }

    public let events: [OracleRosterEvent]

    /// `events`: a causally closed set of accepted roster events.
    public init(_ events: [OracleRosterEvent]) { self.events = events }

    static func before(_ a: OracleRosterEvent, _ b: OracleRosterEvent) -> Bool { b.saw(a.signer, a.seq) && a.id != b.id }

    /// The events of `xs` no other event of `xs` happened after.
    public static func maxima(_ xs: [OracleRosterEvent]) -> [OracleRosterEvent] {
        xs.filter { x in xs.allSatisfy { y in !before(x, y) } }
    }

    public var team: TeamID? {
        events.first { if case .created = $0.change { true } else { false } }.map { TeamID($0.id.raw) }
    }

    /// Every analyst any role-setting event names.
    public var analysts: Set<String> {
        var out = Set<String>()
        for e in events {
            switch e.change {
            case .created(let p): out.insert(p.analyst)
            case .added(let p): out.insert(p.analyst)
            case .roleChanged(let p): out.insert(p.analyst)
            default: break
            }
        }
        return out
    }

    /// Least privileged of the maximal role writes (nil: never given a role).
    public func role(_ analyst: String) -> TeamRole? {
        var writes: [(OracleRosterEvent, TeamRole)] = []
        for e in events {
            switch e.change {
            case .created(let p) where p.analyst == analyst: writes.append((e, .admin))
            case .added(let p) where p.analyst == analyst: writes.append((e, p.role))
            case .roleChanged(let p) where p.analyst == analyst: writes.append((e, p.role))
            default: break
            }
        }
        let top = Self.maxima(writes.map(\.0)).map(\.id)
        let rank: [TeamRole: Int] = [.reader: 0, .analyst: 1, .admin: 2]
        return writes.filter { top.contains($0.0.id) }.map(\.1).min { rank[$0]! < rank[$1]! }
    }

    /// Present: among maximal additions/removals of the analyst, none is a removal (and there is one).
    public func present(_ analyst: String) -> Bool {
        var xs: [OracleRosterEvent] = []
        for e in events {
            switch e.change {
            case .created(let p) where p.analyst == analyst: xs.append(e)
            case .added(let p) where p.analyst == analyst: xs.append(e)
            case .removed(let p) where p.analyst == analyst: xs.append(e)
            default: break
            }
        }
        let top = Self.maxima(xs)
        if top.isEmpty { return false }
        return !top.contains { if case .removed = $0.change { true } else { false } }
    }

    /// The enrolment that holds for `key` (smallest event id of those naming it), and its analyst.
    public func enrolment(_ key: ReplicaID) -> (event: OracleRosterEvent, analyst: String)? {
        var xs: [(OracleRosterEvent, String)] = []
        for e in events {
            switch e.change {
            case .created(let p) where e.signer == key: xs.append((e, p.analyst))
            case .added(let p) where p.key == key.hex: xs.append((e, p.analyst))
            case .enrolled(let p) where p.key == key.hex: xs.append((e, p.analyst))
            default: break
            }
        }
        return xs.min { $0.0.id < $1.0.id }.map { (event: $0.0, analyst: $0.1) }
    }

    /// Revoked (Protocol/11 §The roster, as revised after the concurrent-enrolment bug): a
    /// `KeyRevoked` naming it, or a `MemberRemoved` of an analyst that saw an enrolment of the key
    /// for that analyst — any enrolment, not only the one that holds.
    public func revoked(_ key: ReplicaID) -> Bool {
        guard enrolment(key) != nil else { return false }
        var enrolments: [(OracleRosterEvent, String)] = []
        for e in events {
            switch e.change {
            case .created(let p) where e.signer == key: enrolments.append((e, p.analyst))
            case .added(let p) where p.key == key.hex: enrolments.append((e, p.analyst))
            case .enrolled(let p) where p.key == key.hex: enrolments.append((e, p.analyst))
            default: break
            }
        }
        for e in events {
            if case .revoked(let p) = e.change, p.key == key.hex { return true }
            if case .removed(let p) = e.change,
               enrolments.contains(where: { $0.1 == p.analyst && e.saw($0.0.signer, $0.0.seq) }) { return true }
        }
        return false
    }

    /// The analyst and role a member key acts with; nil when the key is not a member.
    public func member(_ key: ReplicaID) -> (analyst: String, role: TeamRole)? {
        guard let (_, analyst) = enrolment(key), !revoked(key), present(analyst), let role = role(analyst) else { return nil }
        return (analyst, role)
    }

    public var memberKeys: Set<ReplicaID> {
        var keys = Set<ReplicaID>()
        for e in events {
            switch e.change {
            case .created: keys.insert(e.signer)
            case .added(let p): if let k = ReplicaID(hex: p.key) { keys.insert(k) }
            case .enrolled(let p): if let k = ReplicaID(hex: p.key) { keys.insert(k) }
            default: break
            }
        }
        return keys.filter { member($0) != nil }
    }

    /// Whether any event enrols `key` (revoked or not).
    public func everEnrolled(_ key: ReplicaID) -> Bool { enrolment(key) != nil }

    /// Judges an event (this oracle being the roster of its causal past) on a member replica of
    /// `team`: 1 team, 2 membership, 3 author, 4 policy (Protocol/11-teams.md §Judgement).
    /// `factAuthor`: author of the `FactAdded` a `FactAmended`/`FactRetracted` names.
    public func judge(team: TeamID, eventTeam: TeamID, signer: ReplicaID, author: String, type: String,
                      change: RosterChange?, factAuthor: String? = nil) -> Verdict {
        if eventTeam != team { return .refused("team") }
        guard let m = member(signer) else { return .refused("not a member") }
        if author != m.analyst { return .denied("author") }
        let rosterTypes: Set<String> = ["TeamCreated", "MemberAdded", "DeviceEnrolled", "RoleChanged", "KeyRevoked", "MemberRemoved"]
        if rosterTypes.contains(type) {
            guard m.role == .admin else { return .denied("not admin") }
            switch change {
            case .none, .created?: return .denied("genesis")
            case .added(let p)?:
                guard let k = ReplicaID(hex: p.key) else { return .denied("key") }
                return !present(p.analyst) && !everEnrolled(k) ? .accepted : .denied("add")
            case .enrolled(let p)?:
                guard let k = ReplicaID(hex: p.key) else { return .denied("key") }
                return present(p.analyst) && !everEnrolled(k) ? .accepted : .denied("enrol")
            case .roleChanged(let p)?: return present(p.analyst) ? .accepted : .denied("role")
            case .removed(let p)?: return present(p.analyst) ? .accepted : .denied("remove")
            case .revoked(let p)?:
                guard let k = ReplicaID(hex: p.key) else { return .denied("key") }
                return everEnrolled(k) ? .accepted : .denied("revoke")
            }
        }
        if m.role == .reader { return .denied("reader") }
        if type == "FactAmended" || type == "FactRetracted", m.role != .admin, let factAuthor, factAuthor != m.analyst {
            return .denied("fact author")
        }
        return .accepted
    }
}
