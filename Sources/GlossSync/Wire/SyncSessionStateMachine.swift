import Foundation
@preconcurrency import Crypto
import GlossModel

/// The sync session as a pure state machine (Protocol/07-wire.md §Session): it takes frames and
/// returns actions; it does no I/O and reads no clock. Keys and randomness are injected.
///
/// Each side: sends a key exchange; on the peer's, derives the session keys; the initiator then
/// sends its hello, signed over the transcript (binding the key proof to this channel), and the
/// responder sends its own once it has verified and admitted the initiator's. On the peer's hello,
/// each verifies it and reports `authenticated` — the driver then streams the events the peer lacks, then `done`.
/// Incoming batches are reported as `apply`; after the peer's `done` the driver sends `ack`.
public struct SyncSessionStateMachine: Sendable {
    public enum Action: Sendable {
        /// Write this frame body as is (the plaintext key exchange).
        case sendPlain([UInt8])
        /// The session keys are known: from now on every frame is sealed with `keys.sealer()`.
        case established(SessionKeys)
        /// Seal and write this message.
        case send(WireMessage)
        /// The peer proved it holds the key of `hello.replica` on this channel.
        case authenticated(WireHello)
        case apply([SignedEvent])
        case peerDone(sent: UInt64, vector: VersionVector)
        case peerAcked(VersionVector)
        /// The peer is applying our stream and holds this vector so far.
        case peerProgress(VersionVector)
        /// The ids of the events the peer holds at the smaller seq of each feed both hellos' vectors
        /// name (§Heads); `last` on its last such message.
        case peerHeads([WireHead], last: Bool)
        /// The session failed; send `error` if possible, then close.
        case fail(SyncError)
        /// The peer ended the session with an error.
        case peerFailed(code: UInt16, reason: String)
    }

    enum State: Sendable { case idle, awaitingKeyExchange, awaitingHello, open, closed }

    public let role: SessionRole
    let key: ReplicaKey
    let team: TeamID
    let ephemeral: Curve25519.KeyAgreement.PrivateKey
    let challenge: Bytes32
    let wantsEvents: Bool
    /// Whether this side offers `heads` (an initiator says so in its hello; a responder only
    /// answers an initiator that did).
    let offersHeads: Bool
    var vector: VersionVector
    var state = State.idle
    var myKX: [UInt8] = []
    var opener: FrameOpener?
    public private(set) var peerHello: WireHello?
    public private(set) var peerDoneSeen = false
    public private(set) var peerAckSeen = false
    /// Both hellos offer heads: each side sends its own, and the peer's must all come before its
    /// first batch and its `done` (§Heads).
    public private(set) var headsAgreed = false
    public private(set) var peerHeadsDone = false
    var lastPeerHead: ReplicaID?
    /// Frames received after the handshake (for the "no further round trip" measurement).
    public private(set) var framesAfterHandshake = 0

    let admission: Admission

    public init(role: SessionRole, key: ReplicaKey, admission: Admission = .noTeam, vector: VersionVector, wantsEvents: Bool = true,
                offersHeads: Bool = true, ephemeral: Curve25519.KeyAgreement.PrivateKey = .init(), challenge: Bytes32 = Bytes32.sha256(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })) {
        self.role = role; self.key = key; self.admission = admission; self.team = admission.team; self.vector = vector; self.wantsEvents = wantsEvents
        self.offersHeads = offersHeads; self.ephemeral = ephemeral; self.challenge = challenge
    }

    public var isAuthenticated: Bool { state == .open }
    public var isClosed: Bool { state == .closed }

    public mutating func start() -> [Action] {
        precondition(state == .idle)
        myKX = WireMessage.keyExchange(version: WireLimits.protocolVersion, ephemeral: Bytes32(exactly: Array(ephemeral.publicKey.rawRepresentation))!, challenge: challenge).encoded
        state = .awaitingKeyExchange
        return [.sendPlain(myKX)]
    }

    mutating func fail(_ code: SyncError.Code, _ message: String, toPeer: String? = nil) -> [Action] {
        state = .closed
        return [.fail(SyncError(code, message, toPeer: toPeer))]
    }

    /// One frame body from the peer.
    public mutating func receive(_ frame: [UInt8]) -> [Action] {
        guard frame.count <= WireLimits.maxFrameBytes else {
            return fail(.protocolViolation, "frame of \(frame.count) bytes is over the \(WireLimits.maxFrameBytes)-byte limit")
        }
        switch state {
        case .idle, .closed:
            return fail(.protocolViolation, "frame received outside a session")
        case .awaitingKeyExchange:
            // Only a key exchange or an error may come first: a frame of another
            // type is named as such, not decoded as what it is not (a plaintext hello read as a key
            // exchange reported "vector has 2134644918 entries").
            guard let type = frame.first, type == WireMessage.Tag.keyExchange.rawValue || type == WireMessage.Tag.error.rawValue else {
                return fail(.protocolViolation, "expected a key exchange first, got a frame of type \(frame.first.map(String.init) ?? "none")")
            }
            let message: WireMessage
            do { message = try WireMessage(decoding: frame) } catch {
                return fail(.protocolViolation, "malformed key exchange: \(error)")
            }
            if case .error(let code, let reason) = message { state = .closed; return [.peerFailed(code: code, reason: reason)] }
            guard case .keyExchange(let version, let peerEphemeral, _) = message else {
                return fail(.protocolViolation, "expected a key exchange first")
            }
            guard version == WireLimits.protocolVersion else {
                return fail(.refused, "peer speaks sync protocol version \(version); this build speaks \(WireLimits.protocolVersion). Upgrade the older side.")
            }
            let keys: SessionKeys
            do {
                keys = try SessionKeys(role: role, ephemeral: ephemeral, peerEphemeral: peerEphemeral,
                                       initiatorKX: role == .initiator ? myKX : frame, responderKX: role == .initiator ? frame : myKX)
            } catch { return fail(.protocolViolation, "the peer's ephemeral key is invalid") }
            opener = keys.opener()
            state = .awaitingHello
            transcript = keys.transcript
            // The responder says who it is and what it holds only to a peer it admits: its hello
            // follows the initiator's, once that one is verified (a stranger learns nothing).
            return role == .initiator ? [.established(keys), .send(.hello(ownHello()))] : [.established(keys)]
        case .awaitingHello, .open:
            let plain: [UInt8]
            do { plain = try opener!.open(frame) } catch { return fail(.protocolViolation, "\(error)") }
            let message: WireMessage
            do { message = try WireMessage(decoding: plain) } catch { return fail(.protocolViolation, "malformed message: \(error)") }
            if case .error(let code, let reason) = message { state = .closed; return [.peerFailed(code: code, reason: reason)] }
            if state == .awaitingHello {
                guard case .hello(let hello) = message else { return fail(.protocolViolation, "expected the peer's hello") }
                let signed = WireHello.signedBytes(transcript: transcript!, role: role.peer, fields: hello.signedFields)
                guard ReplicaKey.isValid(signature: hello.signature, of: signed, by: hello.replica) else {
                    return fail(.refused, "the peer claims to be replica \(hello.replica.short) but could not prove it holds that replica's key")
                }
                guard hello.version == WireLimits.protocolVersion else {
                    return fail(.refused, "peer hello has sync protocol version \(hello.version); this build speaks \(WireLimits.protocolVersion). Upgrade the older side.")
                }
                guard hello.replica != key.replicaID else { return fail(.refused, "the peer is this replica itself") }
                if let refusal = admission.refusal(of: hello) {
                    // A refused peer learns nothing of the responder (§Hello): not its team, nor
                    // whether it has one — one reason for every refusal; the detail stays here.
                    return fail(.refused, refusal, toPeer: role == .responder ? Admission.refusalToPeer(hello.replica) : nil)
                }
                peerHello = hello
                state = .open
                headsAgreed = offersHeads && hello.offersHeads
                peerHeadsDone = !headsAgreed
                return role == .responder ? [.send(.hello(ownHello())), .authenticated(hello)] : [.authenticated(hello)]
            }
            framesAfterHandshake += 1
            switch message {
            case .batch(let events):
                guard !peerDoneSeen else { return fail(.protocolViolation, "events after done") }
                guard peerHeadsDone else { return fail(.protocolViolation, "a batch before the last heads") }
                return [.apply(events)]
            case .heads(let last, let entries):
                guard headsAgreed else { return fail(.protocolViolation, "heads, but the hellos did not both offer them") }
                guard !peerHeadsDone else { return fail(.protocolViolation, "heads after the last heads") }
                if let first = entries.first, let previous = lastPeerHead, !(previous < first.replica) {
                    return fail(.protocolViolation, "heads entries are not strictly ascending by replica across messages")
                }
                lastPeerHead = entries.last?.replica ?? lastPeerHead
                peerHeadsDone = last
                return [.peerHeads(entries, last: last)]
            case .done(let sent, let v):
                guard !peerDoneSeen else { return fail(.protocolViolation, "a second done") }
                guard peerHeadsDone else { return fail(.protocolViolation, "done before the last heads") }
                peerDoneSeen = true
                return [.peerDone(sent: sent, vector: v)]
            case .ack(let v):
                guard !peerAckSeen else { return fail(.protocolViolation, "a second ack") }
                peerAckSeen = true
                return [.peerAcked(v)]
            case .progress(let v):
                guard !(peerAckSeen && peerDoneSeen) else { return fail(.protocolViolation, "progress after done and ack") }
                return [.peerProgress(v)]
            default:
                return fail(.protocolViolation, "unexpected message after the handshake")
            }
        }
    }

    var transcript: Bytes32?

    /// This side's hello, signed over the transcript.
    func ownHello() -> WireHello {
        let heads = offersHeads && (role == .initiator || peerHello?.offersHeads == true)
        var hello = WireHello(team: team, replica: key.replicaID, wantsEvents: wantsEvents, offersHeads: heads, vector: vector)
        hello.signature = key.sign(WireHello.signedBytes(transcript: transcript!, role: role, fields: hello.signedFields))
        return hello
    }
}

/// Who may complete a handshake with this replica (Protocol/07-wire.md §Admission,
/// Protocol/11-teams.md): decided from the peer's proven key and the team its hello names.
public struct Admission: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// This replica has no team: peers of no team only.
        case noTeam
        /// This replica joins a team: a peer of a team (whose genesis it will adopt).
        case joining
        /// A member of `team`: peers whose key is on the roster now (`members`); their hello names
        /// the team, or no team while they are still joining.
        case member(TeamID, members: Set<ReplicaID>)
    }
    public var mode: Mode
    public init(_ mode: Mode) { self.mode = mode }
    public static let noTeam = Admission(.noTeam)

    /// The team id this replica's hello carries.
    public var team: TeamID {
        if case .member(let t, _) = mode { return t }
        return .none
    }

    /// What a refused initiator is told, whatever the reason.
    public static func refusalToPeer(_ replica: ReplicaID) -> String {
        "this replica does not admit key \(replica.short); its owner decides who may sync with it"
    }

    /// Why `hello` (already proven to come from `hello.replica`) is refused, or nil.
    public func refusal(of hello: WireHello) -> String? {
        switch mode {
        case .noTeam:
            return hello.team == .none ? nil : "the peer belongs to team \(hello.team.hex.prefix(12)); this replica belongs to no team"
        case .joining:
            return hello.team == .none ? "the peer belongs to no team; this replica is joining a team" : nil
        case .member(let team, let members):
            if hello.team != team && hello.team != .none {
                return "the peer belongs to another team (\(hello.team.hex.prefix(12))); this replica belongs to team \(team.hex.prefix(12))"
            }
            if !members.contains(hello.replica) {
                return "key \(hello.replica.short) is not on the team's roster (or was revoked); an admin adds it with `gloss team add`"
            }
            return nil
        }
    }
}
