/// Team roster events (Protocol/02-payloads.md §Team, Protocol/11-teams.md). A team begins with its
/// genesis, `TeamCreated`; every later roster change is signed by an admin's key. Keys inside
/// payloads are replica ids (Ed25519 public keys) as 64 lowercase hex digits.

/// What an analyst may do (Protocol/11-teams.md §Policy).
public enum TeamRole: String, Sendable, CaseIterable, Codable, Comparable {
    /// Reads everything; writes nothing.
    case reader
    /// Annotates, notes, tags, links, grades, resolves, adds facts; amends or retracts its own facts.
    case analyst
    /// All of the above, on anyone's facts, and changes the roster.
    case admin

    var rank: Int { switch self { case .reader: 0; case .analyst: 1; case .admin: 2 } }
    public static func < (a: TeamRole, b: TeamRole) -> Bool { a.rank < b.rank }

    init(field: String, _ name: String) throws {
        guard let r = TeamRole(rawValue: field) else { throw DecodeError("\(name) must be admin, analyst or reader, not \(field)") }
        self = r
    }
}

func checkKey(_ s: String, _ field: String) throws { try ObjectIDText.check(s, field) }

/// The genesis of a team: the first event of its creator's feed (seq 1, team field all zero). Its
/// event id is the team id every later event, bundle and hello carries. The signing key is the
/// creator's first device; the creator is the first admin.
public struct TeamCreated: EventPayload, Equatable {
    public static let type = "TeamCreated"
    public static let schema: UInt16 = 1
    public var name: String
    public var analyst: String
    public init(name: String, analyst: String) { self.name = name; self.analyst = analyst }
    public init(fields f: CBORFields) throws {
        name = try f.text("name"); analyst = try f.text("analyst")
        try checkLabel(name, "name"); try checkLabel(analyst, "analyst")
    }
    public var cbor: CBOR { .map(["name": .text(name), "analyst": .text(analyst)]) }
}

/// An analyst added with a role and a first device (replica key).
public struct MemberAdded: EventPayload, Equatable {
    public static let type = "MemberAdded"
    public static let schema: UInt16 = 1
    public var analyst: String
    public var role: TeamRole
    public var key: String
    public init(analyst: String, role: TeamRole, key: ReplicaID) { self.analyst = analyst; self.role = role; self.key = key.hex }
    public init(fields f: CBORFields) throws {
        analyst = try f.text("analyst"); role = try TeamRole(field: try f.text("role"), "role"); key = try f.text("key")
        try checkLabel(analyst, "analyst"); try checkKey(key, "key")
    }
    public var cbor: CBOR { .map(["analyst": .text(analyst), "role": .text(role.rawValue), "key": .text(key)]) }
}

/// Another device (replica key) enrolled for an analyst already on the roster.
public struct DeviceEnrolled: EventPayload, Equatable {
    public static let type = "DeviceEnrolled"
    public static let schema: UInt16 = 1
    public var analyst: String
    public var key: String
    public init(analyst: String, key: ReplicaID) { self.analyst = analyst; self.key = key.hex }
    public init(fields f: CBORFields) throws {
        analyst = try f.text("analyst"); key = try f.text("key")
        try checkLabel(analyst, "analyst"); try checkKey(key, "key")
    }
    public var cbor: CBOR { .map(["analyst": .text(analyst), "key": .text(key)]) }
}

/// An analyst's role changed.
public struct RoleChanged: EventPayload, Equatable {
    public static let type = "RoleChanged"
    public static let schema: UInt16 = 1
    public var analyst: String
    public var role: TeamRole
    public init(analyst: String, role: TeamRole) { self.analyst = analyst; self.role = role }
    public init(fields f: CBORFields) throws {
        analyst = try f.text("analyst"); role = try TeamRole(field: try f.text("role"), "role")
        try checkLabel(analyst, "analyst")
    }
    public var cbor: CBOR { .map(["analyst": .text(analyst), "role": .text(role.rawValue)]) }
}

/// A key revoked for good (a lost or stolen device); the analyst stays.
public struct KeyRevoked: EventPayload, Equatable {
    public static let type = "KeyRevoked"
    public static let schema: UInt16 = 1
    public var key: String
    public var reason: String
    public init(key: ReplicaID, reason: String) { self.key = key.hex; self.reason = reason }
    public init(fields f: CBORFields) throws {
        key = try f.text("key"); reason = try f.text("reason")
        try checkKey(key, "key"); try checkText(reason, "reason")
    }
    public var cbor: CBOR { .map(["key": .text(key), "reason": .text(reason)]) }
}

/// An analyst removed from the team: every key enrolled for them is revoked with it.
public struct MemberRemoved: EventPayload, Equatable {
    public static let type = "MemberRemoved"
    public static let schema: UInt16 = 1
    public var analyst: String
    public var reason: String
    public init(analyst: String, reason: String) { self.analyst = analyst; self.reason = reason }
    public init(fields f: CBORFields) throws {
        analyst = try f.text("analyst"); reason = try f.text("reason")
        try checkLabel(analyst, "analyst"); try checkText(reason, "reason")
    }
    public var cbor: CBOR { .map(["analyst": .text(analyst), "reason": .text(reason)]) }
}

/// A roster event decoded (the roster's input).
public enum RosterChange: Sendable, Equatable {
    case created(TeamCreated)
    case added(MemberAdded)
    case enrolled(DeviceEnrolled)
    case roleChanged(RoleChanged)
    case revoked(KeyRevoked)
    case removed(MemberRemoved)

    /// The roster event types.
    public static let types: Set<String> = [TeamCreated.type, MemberAdded.type, DeviceEnrolled.type, RoleChanged.type, KeyRevoked.type, MemberRemoved.type]

    /// Decodes a roster event's payload; nil when `type` is not a roster type. Throws when the
    /// payload is purged, of a newer schema, or invalid.
    public init?(type: String, schema: UInt16, payload: [UInt8]?) throws {
        guard RosterChange.types.contains(type) else { return nil }
        switch DecodedPayload(type: type, schema: schema, payload: payload) {
        case .teamCreated(let p): self = .created(p)
        case .memberAdded(let p): self = .added(p)
        case .deviceEnrolled(let p): self = .enrolled(p)
        case .roleChanged(let p): self = .roleChanged(p)
        case .keyRevoked(let p): self = .revoked(p)
        case .memberRemoved(let p): self = .removed(p)
        case .notUnderstood(let reason): throw DecodeError(reason)
        default: return nil
        }
    }
}

/// An event's payload purged everywhere (DESIGN §1.5, Protocol/11-teams.md §Redaction): the
/// envelope, its id, signature and chain stay. Written by an admin.
public struct PayloadRedacted: EventPayload, Equatable {
    public static let type = "PayloadRedacted"
    public static let schema: UInt16 = 1
    /// The id of the event whose payload is purged.
    public var event: String
    public var reason: String
    public init(event: EventID, reason: String) { self.event = event.hex; self.reason = reason }
    public init(fields f: CBORFields) throws {
        event = try f.text("event"); reason = try f.text("reason")
        try ObjectIDText.check(event, "event"); try checkText(reason, "reason")
    }
    public var cbor: CBOR { .map(["event": .text(event), "reason": .text(reason)]) }
}
