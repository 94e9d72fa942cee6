import Foundation
import GlossMerge
import GlossModel
import GlossStore
import GlossSync

/// The team roster as `gloss team` shows it (Protocol/11-teams.md).
public struct TeamView: Sendable {
    public enum Mode: String, Sendable { case none, joining, member }
    public struct Member: Sendable {
        public var analyst: String
        public var role: TeamRole
        /// False once removed from the team.
        public var present: Bool
        public var keys: [Key]
    }
    public struct Key: Sendable {
        public var key: ReplicaID
        public var enrolledBy: EventID
        public var revokedBy: EventID?
        public var reason: String?
        /// True when this replica holds the key.
        public var thisReplica: Bool
    }
    public var mode: Mode
    public var team: TeamID?
    public var name: String?
    public var members: [Member]
}

extension Replica {
    /// How a new replica relates to a team (`gloss init`).
    public enum TeamSetup: Sendable {
        case none
        /// Creates a team with this name: the replica writes its genesis and is its first admin.
        case create(name: String)
        /// Waits for a team's genesis (from a bundle or a sync) and adopts that team.
        case join
    }

    /// This replica's team mode.
    public var teamMode: TeamMode {
        get throws { try read { db in try store.teamMode(db) } }
    }

    /// The team id this replica's bundles and hellos carry (all zero without a team).
    public var teamID: TeamID {
        get throws { try teamMode.team }
    }

    /// The roster as of everything this replica holds.
    public func team() throws -> TeamView {
        try read { db in
            let mode = try store.teamMode(db)
            let roster = try store.roster(db)
            var byAnalyst: [String: [TeamView.Key]] = [:]
            for k in roster.keys.values {
                byAnalyst[k.analyst, default: []].append(TeamView.Key(key: k.key, enrolledBy: k.enrolledBy, revokedBy: k.revokedBy,
                                                                       reason: k.revokeReason, thisReplica: k.key == replicaID))
            }
            let members = roster.analysts.values.sorted { $0.name < $1.name }.map { a in
                TeamView.Member(analyst: a.name, role: a.role, present: a.present,
                                keys: (byAnalyst[a.name] ?? []).sorted { $0.key < $1.key })
            }
            let m: TeamView.Mode = switch mode { case .none: .none; case .joining: .joining; case .member: .member }
            return TeamView(mode: m, team: roster.team, name: roster.name, members: members)
        }
    }

    /// Member keys now (the sync handshake admits these; `--to-team` encrypts to them).
    public func memberKeys() throws -> Set<ReplicaID> {
        try read { db in try store.roster(db).memberKeys }
    }

    /// Who may complete a sync handshake with this replica now.
    public func admission() throws -> Admission {
        try read { db in
            switch try store.teamMode(db) {
            case .none: return .noTeam
            case .joining: return Admission(.joining)
            case .member(let t): return Admission(.member(t, members: try store.roster(db).memberKeys))
            }
        }
    }

    /// True when `peer` may still sync with this replica (always, without a team).
    public func admits(_ peer: ReplicaID) throws -> Bool {
        try read { db in
            guard case .member = try store.teamMode(db) else { return true }
            return try store.roster(db).memberKeys.contains(peer)
        }
    }

    // MARK: Roster changes (admins)

    @discardableResult
    public func addMember(_ analyst: String, role: TeamRole, key: ReplicaID) throws -> SignedEvent {
        try Replica.checkAnalystName(analyst)
        return try append(MemberAdded(analyst: analyst, role: role, key: key))
    }

    @discardableResult
    public func enrolDevice(_ analyst: String, key: ReplicaID) throws -> SignedEvent {
        try write { db in
            try requireMember(analyst, db)
            return try append(DeviceEnrolled(analyst: analyst, key: key), db)
        }
    }

    @discardableResult
    public func changeRole(_ analyst: String, to role: TeamRole) throws -> SignedEvent {
        try write { db in
            try requireMember(analyst, db)
            if role != .admin { try keepAnAdmin(without: analyst, db) }
            return try append(RoleChanged(analyst: analyst, role: role), db)
        }
    }

    @discardableResult
    public func revokeKey(_ key: ReplicaID, reason: String) throws -> SignedEvent {
        try Replica.requireReason(reason, "the key is revoked")
        return try write { db in
            let roster = try store.roster(db)
            guard let k = roster.keys[key] else { throw GlossError(.notFound, "key \(key.short) is not on the team's roster (see `gloss team`)") }
            if k.revokedBy != nil { throw GlossError(.refused, "key \(key.short) is already revoked") }
            if key == replicaID { throw GlossError(.refused, "this replica's own key cannot revoke itself; ask another admin") }
            return try append(KeyRevoked(key: key, reason: reason), db)
        }
    }

    @discardableResult
    public func removeMember(_ analyst: String, reason: String) throws -> SignedEvent {
        try Replica.requireReason(reason, "\(analyst) is removed")
        return try write { db in
            if analyst == self.analyst { throw GlossError(.refused, "an admin cannot remove themselves; ask another admin") }
            try requireMember(analyst, db)
            try keepAnAdmin(without: analyst, db)
            return try append(MemberRemoved(analyst: analyst, reason: reason), db)
        }
    }

    /// A roster change says why, as a retraction or a redaction does (an empty `--reason` was
    /// accepted here alone; found by an audit, 2026-12-06).
    static func requireReason(_ reason: String, _ what: String) throws {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw GlossError(.badInput, "say why \(what) with --reason (it is kept in the roster)")
        }
        guard reason.utf8.count <= ProtocolLimits.maxTextBytes else { throw GlossError(.badInput, "the reason is over \(ProtocolLimits.maxTextBytes) bytes") }
    }

    /// An analyst named must be on the team's roster: never on it is not found (exit 66), removed
    /// is refused (5). A replica of no team has no roster: the append refuses as before.
    private func requireMember(_ analyst: String, _ db: ReplicaStore.Transaction) throws {
        let roster = try store.roster(db)
        guard !roster.analysts.isEmpty else { return }
        switch roster.analysts[analyst]?.present {
        case true?: return
        case false?: throw GlossError(.refused, "\(analyst) was removed from the team")
        case nil: throw GlossError(.notFound, "\(analyst) is not a member of the team (`gloss team` lists them; `gloss team add` adds one)")
        }
    }

    /// Refuses a change that would leave the team without an admin with a usable key (a local rule:
    /// two admins acting concurrently can still do it, Protocol/11-teams.md §Concurrent changes).
    private func keepAnAdmin(without analyst: String, _ db: ReplicaStore.Transaction) throws {
        let roster = try store.roster(db)
        let admins = roster.memberKeys.compactMap { k -> String? in
            guard case .success(let m) = roster.member(k), m.role == .admin, m.analyst != analyst else { return nil }
            return m.analyst
        }
        if admins.isEmpty { throw GlossError(.refused, "\(analyst) is the team's last admin; make another analyst admin first") }
    }

    /// Resolves a key argument: 64 hex digits, or a unique prefix of a key on the roster.
    public func rosterKey(_ text: String) throws -> ReplicaID {
        if let k = ReplicaID(hex: text.lowercased()) { return k }
        let t = text.lowercased()
        guard Hex.isHexPrefix(t), t.count >= 4 else {
            throw GlossError(.badInput, "\(text) is not a replica key: give its 64 hex digits (`gloss whoami` on that replica prints them) or a unique prefix of at least 4")
        }
        let matches = try read { db in try store.roster(db).keys.keys.filter { $0.hex.hasPrefix(t) } }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw GlossError(.notFound, "no key on the team's roster starts with \(text)")
        default: throw GlossError(.ambiguous, "\(matches.count) keys on the roster start with \(text); give more digits")
        }
    }
}

extension Replica {
    /// Purges the payload of one event everywhere (Protocol/11-teams.md §Redaction): `text` is an
    /// event id or prefix, or the id of an object whose id is its creating event's (a note, a fact,
    /// an annotation, a tag or link addition). Admins only, in a team.
    @discardableResult
    public func redact(_ text: String, reason: String) throws -> SignedEvent {
        guard !reason.isEmpty, reason.utf8.count <= ProtocolLimits.maxTextBytes else {
            throw GlossError(.badInput, "give the reason for the redaction (--reason, at most \(ProtocolLimits.maxTextBytes) bytes)")
        }
        let target: EventID
        do {
            switch try resolve(text, events: true, what: "event") {
            case .event(let e): target = e
            case .object(let id, let kind):
                guard let raw = Bytes32(hex: id), try read({ db in try store.eventIDs(prefix: id, limit: 1, db) }).first?.hex == id else {
                    throw GlossError(.badInput, "\(id.prefix(12)) is a \(kind), not an event: give the id of the event that wrote what must go (`gloss log` lists them)")
                }
                target = EventID(raw)
            }
        } catch let error as GlossError where error.code == .notFound {
            // Not in the log: an event of the frozen part of a forked feed, held as fork evidence
            // (`gloss verify --json` lists forks), is redacted the same way.
            let evidence = try read { db in try store.evidenceIDs(prefix: text.lowercased(), limit: 2, db) }
            guard evidence.count == 1 else {
                if evidence.isEmpty { throw error }
                throw GlossError(.ambiguous, "id prefix \(text.lowercased()) matches several events held as fork evidence; give more digits")
            }
            target = evidence[0]
        }
        return try append(PayloadRedacted(event: target, reason: reason))
    }
}
