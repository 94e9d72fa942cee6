import Foundation
import GRDB
import GlossEngine
import GlossMerge
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

/// Teams (Protocol/11-teams.md): every replica judges every event against the roster in that
/// event's causal past. Real replicas (SQLite files), real signatures, real bundle files; forged
/// events are signed by real keys with hand-picked deps.
@Suite struct TeamTests {
    let tmp = TempDir("gloss-team", in: memoryTempBase)
    let clock = MockClock(start: 1_624_800_000_000, step: 1)

    func create(_ name: String, _ setup: Replica.TeamSetup, key: ReplicaKey = ReplicaKey()) throws -> Replica {
        try Replica.create(in: tmp.sub(name + "-" + key.replicaID.short), analyst: name, key: key, team: setup, clock: clock.function)
    }

    /// Sends everything `from` holds that `to` lacks, through a real bundle file.
    @discardableResult
    func ship(_ from: Replica, _ to: Replica) throws -> ImportReport {
        let file = tmp.sub("b-\(UUID().uuidString.prefix(6)).glossb")
        try from.exportBundle(to: file, base: to.vector)
        return try to.importBundle(at: file)
    }

    /// A signed event of `key`'s feed with the given deps (the whole vector the author claims to
    /// have seen), bypassing every local check — what a modified client can send.
    static func forge(_ key: ReplicaKey, team: TeamID, seq: UInt64 = 1, prev: EventID = .zero, deps: VersionVector,
                      author: String, payload: some EventPayload, time: UInt64) -> SignedEvent {
        let p = payload.encoded
        let env = EventEnvelope(team: team, key: key, seq: seq, prev: prev, time: HybridTime(raw: time),
                                depsDelta: deps.sorted.filter { $0.replica != key.replicaID }, author: author,
                                type: type(of: payload).type, schema: type(of: payload).schema, payload: p)
        return SignedEvent(envelope: env, payload: p)
    }

    func count(_ r: Replica, _ sql: String) throws -> Int {
        try r.store.read { db in try Int.fetchOne(db, sql: sql)! }
    }

    func hasNote(_ r: Replica, _ id: String) throws -> Bool {
        try r.store.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM notes WHERE note = ?", arguments: [id]) ?? false }
    }

    func held(_ r: Replica, _ e: SignedEvent) throws -> Bool {
        try r.store.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM events WHERE id = ?", arguments: [Data(e.id.raw.bytes)]) ?? false }
    }

    /// An admin `ana`, an analyst `bo` and a reader `cy`, every replica holding the whole roster.
    func team() throws -> (ana: Replica, bo: Replica, cy: Replica, article: String) {
        let ana = try create("ana", .create(name: "Desk"))
        let bo = try create("bo", .join), cy = try create("cy", .join)
        try ana.addMember("bo", role: .analyst, key: bo.replicaID)
        try ana.addMember("cy", role: .reader, key: cy.replicaID)
        let article = try ana.ingest(bytes: Array("date 2021-06-26 KYIV – A first line.\nA second line.\n".utf8), filename: "a.txt").id
        try ship(ana, bo); try ship(ana, cy)
        return (ana, bo, cy, article)
    }

    // MARK: Genesis and joining

    @Test func aNewTeamHasItsGenesisAsIdAndItsCreatorAsAdmin() throws {
        defer { tmp.remove() }
        let ana = try create("ana", .create(name: "Desk"))
        let view = try ana.team()
        #expect(view.mode == .member && view.name == "Desk")
        var first: LogEntry?
        try ana.log(limit: nil) { if $0.envelope.seq == 1 { first = $0 } }
        #expect(view.team == TeamID(try #require(first).envelope.id.raw), "the team id is the genesis event's id")
        #expect(first?.envelope.team == TeamID.none, "the genesis itself carries no team")
        #expect(view.members.map(\.analyst) == ["ana"] && view.members[0].role == .admin && view.members[0].keys.first?.thisReplica == true)
        // Every later event carries the team id.
        let note = try ana.addNote(on: try ana.ingest(bytes: Array("date 2021-06-26 X – y.\n".utf8), filename: nil).id, body: "n")
        var teams: [TeamID] = []
        try ana.log(limit: nil) { if $0.envelope.seq > 1 { teams.append($0.envelope.team) } }
        #expect(teams.count == 2 && teams.allSatisfy { $0 == view.team }, "note \(note.id)")
    }

    @Test func aJoiningReplicaAdoptsTheTeamAndCannotWriteBeforeItIsOnTheRoster() throws {
        defer { tmp.remove() }
        let ana = try create("ana", .create(name: "Desk"))
        let bo = try create("bo", .join)
        #expect(try bo.team().mode == .joining)
        let a = try ana.ingest(bytes: Array("date 2021-06-26 X – y.\n".utf8), filename: nil).id
        try ship(ana, bo)
        #expect(try bo.teamID == ana.teamID, "the genesis made it a member replica of ana's team")
        #expect(throws: GlossError.self, "not on the roster yet: refused locally") { try bo.addNote(on: a, body: "too early") }
        try ana.addMember("bo", role: .analyst, key: bo.replicaID)
        try ship(ana, bo)
        let n = try bo.addNote(on: a, body: "now on the roster")
        let report = try ship(bo, ana)
        #expect(report.summary.applied == 1 && report.summary.rejected == 0)
        #expect(try hasNote(ana, n.id))
    }

    // MARK: Judgement against the causal past

    @Test func aForgedEventOfANonMemberKeyIsRefusedDirectlyAndWhenRelayed() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let mallory = ReplicaKey()
        // Mallory saw the team's events (a leaked bundle) and signs a note with real deps and the team id.
        let forged = Self.forge(mallory, team: try ana.teamID, deps: try ana.vector, author: "bo",
                                payload: NoteAdded(on: article, body: "forged"), time: HybridTime(milliseconds: clock.read() + 10_000).raw)
        for r in [ana, bo] {
            let before = (try r.vector, try r.digest())
            let s = try r.store.applyRemote([forged], now: clock.read())
            #expect(s.rejected == 1 && s.applied == 0)
            #expect(s.rejections.first?.reason.contains("not on the team's roster") == true, "\(s.rejections)")
            #expect(try r.vector == before.0 && r.digest() == before.1 && !held(r, forged))
            #expect(try count(r, "SELECT count(*) FROM pending") == 0 && count(r, "SELECT count(*) FROM quarantine") == 0,
                    "an outsider cannot fill pending or quarantine")
        }
        // Relayed: a member's bundle (header signed by bo) that carries the forged record.
        let file = tmp.sub("relay.glossb")
        try TrustBoundaryTests.writeBundle(file, sender: bo.key, senderVector: try bo.vector.merged(with: VersionVector([mallory.replicaID: 1])),
                                           base: try ana.vector, eventCount: 1, records: [(forged.envelope.bytes, forged.payload)])
        _ = try? ana.importBundle(at: file)
        #expect(try !held(ana, forged))
    }

    @Test func aReaderCannotWriteAndANonAdminCannotChangeTheRoster() throws {
        defer { tmp.remove() }
        let (ana, bo, cy, article) = try team()
        // Refused locally, with the reason.
        #expect { try cy.addNote(on: article, body: "reader note") } throws: { "\($0)".contains("reader") }
        #expect { try bo.addMember("eve", role: .admin, key: ReplicaKey().replicaID) } throws: { "\($0)".contains("only an admin") }
        // Forged by modified clients: quarantined on every receiver, the feed stalls there.
        let t = try ana.teamID
        let readerNote = Self.forge(cy.key, team: t, deps: try cy.vector, author: "cy", payload: NoteAdded(on: article, body: "reader note"),
                                    time: HybridTime(milliseconds: clock.read() + 5_000).raw)
        let selfPromotion = Self.forge(bo.key, team: t, deps: try bo.vector, author: "bo", payload: RoleChanged(analyst: "bo", role: .admin),
                                       time: HybridTime(milliseconds: clock.read() + 5_000).raw)
        for r in [ana, bo, cy] {
            for (e, why) in [(readerNote, "readers cannot write"), (selfPromotion, "only an admin changes the roster")] where e.envelope.replica != r.replicaID {
                let s = try r.store.applyRemote([e], now: clock.read())
                #expect(s.rejected == 1 && s.rejections.first?.reason.contains(why) == true, "\(s.rejections)")
                #expect(try !held(r, e))
            }
        }
        #expect(try ana.team().members.first { $0.analyst == "bo" }?.role == .analyst)
        #expect(try count(ana, "SELECT count(*) FROM quarantine") == 2)
    }

    @Test func anEventNamingAnotherAnalystAsAuthorIsDenied() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let e = Self.forge(bo.key, team: try ana.teamID, deps: try bo.vector, author: "ana", payload: NoteAdded(on: article, body: "as ana"),
                           time: HybridTime(milliseconds: clock.read() + 5_000).raw)
        let s = try ana.store.applyRemote([e], now: clock.read())
        #expect(s.rejected == 1 && s.rejections.first?.reason.contains("names ana as its author") == true, "\(s.rejections)")
    }

    @Test func onlyTheAuthorOrAnAdminAmendsOrRetractsAFact() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let dave = try create("dave", .join)
        try ana.addMember("dave", role: .analyst, key: dave.replicaID)
        try ship(ana, bo); try ship(ana, dave)
        var input = FactInput()
        input.article = article; input.evidence = "A first line"; input.subject = "s"; input.predicate = "p"; input.object = "o"
        let fact = try bo.addFact(input)
        try ship(bo, dave); try ship(bo, ana)
        #expect { try dave.amendFact(fact.id, field: .object, value: "o2") } throws: { "\($0)".contains("only the fact's author (bo)") }
        #expect { try dave.retractFact(fact.id, reason: "no") } throws: { "\($0)".contains("only the fact's author (bo)") }
        try bo.amendFact(fact.id, field: .object, value: "by its author")
        try ana.amendFact(fact.id, field: .predicate, value: "by an admin")
        // A forged amendment by dave is quarantined everywhere.
        let record = FactRecord(subject: "s", predicate: "p", object: "dave's", when: nil, where: nil, source: nil)
        let forged = Self.forge(dave.key, team: try ana.teamID, deps: try dave.vector, author: "dave",
                                payload: FactAmended(fact: fact.id, field: "object", record: record), time: HybridTime(milliseconds: clock.read() + 5_000).raw)
        let s = try ana.store.applyRemote([forged], now: clock.read())
        #expect(s.rejected == 1 && s.rejections.first?.reason.contains("only the fact's author") == true, "\(s.rejections)")
    }

    @Test func aSecondDeviceWritesAsItsAnalyst() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let laptop = try create("bo", .join)
        try ana.enrolDevice("bo", key: laptop.replicaID)
        try ship(ana, laptop)
        let n = try laptop.addNote(on: article, body: "from bo's laptop")
        try ship(laptop, bo); try ship(laptop, ana)
        for r in [ana, bo] {
            var author: String?
            try r.log(limit: nil) { if $0.envelope.id == n.event { author = $0.envelope.author } }
            #expect(author == "bo")
        }
        let keys = try ana.team().members.first { $0.analyst == "bo" }?.keys.map(\.key)
        #expect(Set(keys ?? []) == [bo.replicaID, laptop.replicaID])
    }

    @Test func aRevokedKeysLaterEventsAreRefusedAndConcurrentOnesDecidedAlikeEverywhere() throws {
        defer { tmp.remove() }
        let (ana, bo, cy, article) = try team()
        let t = try ana.teamID
        // bo writes offline while ana revokes bo's key: concurrent with the revocation.
        let concurrent = try bo.addNote(on: article, body: "written before bo saw the revocation")
        let revocation = try ana.revokeKey(bo.replicaID, reason: "laptop stolen")
        // cy learns both in one order, ana in the other (she already holds the revocation).
        try ship(bo, cy); try ship(ana, cy)
        try ship(bo, ana)
        for r in [ana, cy] {
            #expect(try hasNote(r, concurrent.id), "judged by its causal past, which has no revocation: accepted")
        }
        #expect(try ana.digest() == cy.digest() && ana.vector == cy.vector)
        // Once bo holds the revocation, its replica refuses to write; a forged later event is refused everywhere.
        try ship(ana, bo)
        #expect { try bo.addNote(on: article, body: "after") } throws: { "\($0)".contains("revoked") }
        let boVector = try bo.vector
        let later = Self.forge(bo.key, team: t, seq: boVector[bo.replicaID] + 1, prev: try headID(bo), deps: boVector, author: "bo",
                               payload: NoteAdded(on: article, body: "after the revocation"), time: HybridTime(milliseconds: clock.read() + 60_000).raw)
        for r in [ana, cy] {
            let s = try r.store.applyRemote([later], now: clock.read())
            #expect(s.rejected == 1 && s.rejections.first?.reason.contains("revoked by event \(revocation.id.short)") == true, "\(s.rejections)")
            #expect(try !held(r, later))
        }
        #expect(try ana.team().members.first { $0.analyst == "bo" }?.keys.first?.revokedBy == revocation.id)
    }

    func headID(_ r: Replica) throws -> EventID {
        var id = EventID.zero
        var best: UInt64 = 0
        try r.log(limit: nil) { if $0.envelope.replica == r.replicaID && $0.envelope.seq > best { best = $0.envelope.seq; id = $0.envelope.id } }
        return id
    }

    @Test func twoAdminsRevokingEachOtherConcurrentlyAreBothRevokedOnEveryReplica() throws {
        defer { tmp.remove() }
        let (ana, bo, cy, _) = try team()
        try ana.changeRole("bo", to: .admin)
        try ship(ana, bo); try ship(ana, cy)
        try ana.revokeKey(bo.replicaID, reason: "ana's view")
        try bo.revokeKey(ana.replicaID, reason: "bo's view")
        try ship(ana, cy); try ship(bo, cy)
        try ship(bo, ana); try ship(ana, bo)
        for r in [ana, bo, cy] {
            let keys = try r.team().members.flatMap(\.keys)
            #expect(keys.first { $0.key == ana.replicaID }?.revokedBy != nil && keys.first { $0.key == bo.replicaID }?.revokedBy != nil)
        }
        #expect(try ana.digest() == bo.digest() && bo.digest() == cy.digest())
    }

    // MARK: Redaction

    /// Two admins redact one event concurrently: every arrival order shows the same `redactions`
    /// row (it showed whichever arrived first) and the same digest.
    @Test func concurrentRedactionsOfOneEventGiveOneRowInEveryOrder() throws {
        defer { tmp.remove() }
        let (ana, bo, cy, article) = try team()
        try ana.changeRole("cy", to: .admin)
        try ship(ana, cy); try ship(ana, bo)
        let note = try bo.addNote(on: article, body: "a secret")
        try ship(bo, ana); try ship(bo, cy)
        _ = try ana.redact(note.id, reason: "first")
        _ = try cy.redact(note.id, reason: "second")
        try ship(ana, bo); try ship(cy, bo)     // bo: ana's, then cy's
        try ship(cy, ana); try ship(ana, cy)    // ana: its own, then cy's; cy: its own, then ana's
        let shown = try [ana, bo, cy].map { r in
            try r.store.read { db in try Row.fetchAll(db, sql: "SELECT event, redaction, reason FROM redactions").map { "\($0[0] as String) \($0[1] as String) \($0[2] as String)" } }
        }
        #expect(shown[0].count == 1 && shown[0] == shown[1] && shown[1] == shown[2], "\(shown)")
        #expect(try ana.digest() == bo.digest() && bo.digest() == cy.digest())
        #expect(try bo.digest(recompute: true) == bo.digest())
    }

    @Test func aRedactionReachesEveryReplicaTheChainVerifiesAndTheTextIsGoneEverywhere() throws {
        defer { tmp.remove() }
        let (ana, bo, cy, article) = try team()
        let secret = "TOPSECRET-\(UUID().uuidString)"
        let note = try bo.addNote(on: article, body: "the source is \(secret)")
        let tag = try bo.tag(note.id, "sensitive")
        try ship(bo, ana); try ship(bo, cy)
        let stale = tmp.sub("stale.glossb")
        try bo.exportBundle(to: stale, base: VersionVector())       // a copy made before the redaction
        // Only an admin redacts; a roster event cannot be redacted.
        #expect { try bo.redact(note.id, reason: "mine") } throws: { "\($0)".contains("only an admin redacts") }
        var genesis: EventID?
        try ana.log(limit: nil) { if $0.envelope.type == TeamCreated.type { genesis = $0.envelope.id } }
        #expect { try ana.redact(genesis!.hex, reason: "no") } throws: { "\($0)".contains("roster event cannot be redacted") }
        let redaction = try ana.redact(note.id, reason: "privacy order")
        try ship(ana, bo); try ship(ana, cy)
        for r in [ana, bo, cy] {
            // A copy of the payload made before the redaction never restores it.
            let again = try r.importBundle(at: stale)
            #expect(again.summary.restored == 0)
            #expect(try r.verify().faults.isEmpty, "the chain still verifies")
            #expect(try !hasNote(r, note.id))
            let row = try r.store.read { db in try Row.fetchOne(db, sql: "SELECT redaction, author, reason FROM redactions WHERE event = ?", arguments: [note.id]) }
            #expect(row?[0] as String? == redaction.id.hex && row?[1] as String? == "ana" && row?[2] as String? == "privacy order")
            #expect(try count(r, "SELECT count(*) FROM events WHERE payload IS NULL") == 1)
            #expect(try r.digest() == r.digest(recompute: true))
        }
        #expect(try ana.digest() == bo.digest() && bo.digest() == cy.digest())
        // Later bundles carry the envelope without the payload; no byte of the text is left in any file.
        let later = tmp.sub("later.glossb")
        try ana.exportBundle(to: later, base: VersionVector())
        let fresh = try create("dee", .join)
        try ana.addMember("dee", role: .reader, key: fresh.replicaID)
        try ship(ana, fresh)
        #expect(try !hasNote(fresh, note.id) && fresh.digest() == ana.digest())
        let files = [later] + [ana, bo, cy, fresh].map { $0.folder.appendingPathComponent(".gloss/replica.db") }
        for r in [ana, bo, cy, fresh] { try r.close() }
        for f in files {
            let bytes = try Data(contentsOf: f)
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(f.lastPathComponent) still holds the redacted text")
        }
        _ = tag
    }

    /// `member` writes a note, and a second copy of its key signs another event at the same seq
    /// (not delivered yet): the fork.
    func forkedNote(_ member: Replica, of admin: Replica, on article: String, body: String) throws -> (note: Created, otherCopy: SignedEvent) {
        let before = try headID(member), seq = try member.vector[member.replicaID] + 1
        let note = try member.addNote(on: article, body: body)
        let otherCopy = Self.forge(member.key, team: try admin.teamID, seq: seq, prev: before, deps: try admin.vector, author: member.analyst,
                                   payload: NoteAdded(on: article, body: "the other copy's note"), time: HybridTime(milliseconds: clock.read() + 1).raw)
        return (note, otherCopy)
    }

    /// An admin redacts a member's event that sits in the part of the member's feed a fork later
    /// freezes (the member's key ran in two copies). A replica that applied the redaction before it
    /// met the other branch purged the payload and kept the admin's feed going; one that met the
    /// fork first looked for the target in the log only, called it "not in its causal past", and
    /// quarantined the redaction — stalling the admin's feed there (found while extending the lie
    /// corpus to teams, 2026-12-07). The target is in the redaction's causal past on both (its deps
    /// name the seq): both purge, and hold the same log and quarantine.
    @Test func aRedactionOfAnEventAForkFreezesAppliesInEitherOrder() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let (target, otherCopy) = try forkedNote(bo, of: ana, on: article, body: "a secret of one copy")
        try ship(bo, ana)
        let beforeRedaction = tmp.sub("before-redaction.glossb")
        try ana.exportBundle(to: beforeRedaction, base: VersionVector())
        let redaction = try ana.redact(target.id, reason: "privacy order")
        let after = try ana.addNote(on: article, body: "ana writes on")
        let all = tmp.sub("all.glossb")
        try ana.exportBundle(to: all, base: VersionVector())
        var replicas: [Replica] = []
        for (i, forkFirst) in [false, true].enumerated() {
            let r = try create("r\(i)", .join)
            try ana.addMember("r\(i)", role: .reader, key: r.replicaID)
            if forkFirst {
                _ = try r.importBundle(at: beforeRedaction)
                _ = try r.store.applyRemote([otherCopy], now: clock.read())
                _ = try r.importBundle(at: all)
            } else {
                _ = try r.importBundle(at: all)
                _ = try r.store.applyRemote([otherCopy], now: clock.read())
            }
            #expect(try held(r, redaction) && count(r, "SELECT count(*) FROM events WHERE id = x'\(after.event!.hex)'") == 1,
                    "fork first: \(forkFirst): the admin's feed stalled at the redaction")
            #expect(try count(r, "SELECT count(*) FROM quarantine") == 0)
            #expect(try count(r, "SELECT count(*) FROM forks WHERE payload IS NOT NULL AND id = x'\(target.id)'") == 0, "the frozen copy keeps the redacted text")
            #expect(try r.digest() == r.digest(recompute: true))
            replicas.append(r)
        }
        #expect(try replicas[0].digest() == replicas[1].digest() && replicas[0].vector == replicas[1].vector)
    }

    /// The case the fix above left open: a replica holding only the *other* branch at the target's
    /// seq (its vector names the member's seq, so a bundle made for it carries the redaction and not
    /// the target — deps and vectors name a seq, not which branch). It found the target nowhere and
    /// quarantined the redaction, stalling the admin's feed there for good, while replicas holding
    /// the target applied it. Now the redaction waits in pending for its target (`wait_id`); when
    /// the target arrives the fork is found, the redaction applies and purges the evidence copy, and
    /// the replica holds what one that received everything in another order holds.
    @Test func aRedactionWhoseTargetIsOnlyOnTheOtherBranchWaitsForIt() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let r = try create("r", .join), early = try create("early", .join)
        for (name, k) in [("r", r), ("early", early)] { try ana.addMember(name, role: .reader, key: k.replicaID) }
        try ship(bo, ana)
        let beforeFork = tmp.sub("before-fork.glossb")
        try ana.exportBundle(to: beforeFork, base: VersionVector())
        let (target, otherCopy) = try forkedNote(bo, of: ana, on: article, body: "a secret of one copy")
        try ship(bo, ana)
        let redaction = try ana.redact(target.id, reason: "privacy order")
        let after = try ana.addNote(on: article, body: "ana writes on")

        _ = try r.importBundle(at: beforeFork)
        #expect(try r.store.applyRemote([otherCopy], now: clock.read()).applied == 1)
        let s = try ship(ana, r).summary
        #expect(s.rejected == 0 && s.pending == 2, "\(s) \(s.rejections)")
        #expect(try count(r, "SELECT count(*) FROM quarantine") == 0)
        #expect(try count(r, "SELECT count(*) FROM pending WHERE wait_id = x'\(target.id)'") == 1)
        #expect(try count(r, "SELECT count(*) FROM feeds WHERE state = 'stalled'") == 0)
        #expect(try PendingWaitTests.endedWaits(r.store, now: clock.read()).isEmpty)

        // The target arrives (an `--all` bundle carries every held event): the fork is found.
        let all = tmp.sub("all.glossb")
        try ana.exportBundle(to: all, base: VersionVector())
        _ = try r.importBundle(at: all)
        // Another order: everything, then the other branch.
        _ = try early.importBundle(at: all)
        _ = try early.store.applyRemote([otherCopy], now: clock.read())
        for x in [r, early] {
            #expect(try held(x, redaction) && count(x, "SELECT count(*) FROM events WHERE id = x'\(after.event!.hex)'") == 1)
            #expect(try count(x, "SELECT count(*) FROM pending") == 0 && count(x, "SELECT count(*) FROM quarantine") == 0)
            #expect(try count(x, "SELECT count(*) FROM forks WHERE id = x'\(target.id)' AND payload IS NULL") == 1, "the frozen copy keeps the redacted text")
            #expect(try x.digest() == x.digest(recompute: true))
        }
        #expect(try r.digest() == early.digest() && r.vector == early.vector)
    }

    /// A redaction naming an event nobody sent (a modified client's) waits for it in every order and
    /// purges nothing; its author's later events wait behind it, and none is quarantined as evidence
    /// against the key: the event may yet come.
    @Test func aRedactionOfAnEventNeverSentWaitsAndPurgesNothing() throws {
        defer { tmp.remove() }
        let (ana, _, cy, article) = try team()
        let mal = ReplicaKey(), t = try ana.teamID
        try ana.addMember("mal", role: .admin, key: mal.replicaID)
        try ship(ana, cy)
        let ghost = EventID(Bytes32(hex: String(repeating: "ab", count: 32))!)
        let lie = Self.forge(mal, team: t, deps: try ana.vector, author: "mal", payload: PayloadRedacted(event: ghost, reason: "nothing"),
                             time: HybridTime(milliseconds: clock.read() + 60_000).raw)
        let next = Self.forge(mal, team: t, seq: 2, prev: lie.id, deps: try ana.vector, author: "mal", payload: NoteAdded(on: article, body: "mal's note"),
                              time: HybridTime(milliseconds: clock.read() + 60_001).raw)
        for (x, window) in [(ana, [lie, next]), (cy, [next, lie])] {
            let s = try x.store.applyRemote(window, now: clock.read())
            #expect(s.pending == 2 && s.rejected == 0, "\(s) \(s.rejections)")
            #expect(try count(x, "SELECT count(*) FROM pending WHERE wait_id IS NOT NULL") == 1 && count(x, "SELECT count(*) FROM quarantine") == 0)
            #expect(try count(x, "SELECT count(*) FROM redacted_events") == 0)
            #expect(try PendingWaitTests.endedWaits(x.store, now: clock.read()).isEmpty)
            #expect(try x.pending().first(where: { $0.replica == mal.replicaID })?.reason.contains("waiting for the event it redacts") == true)
        }
        #expect(try ana.digest() == cy.digest())
    }

    /// An admin redacts an event held only as fork evidence (the frozen part of a member's forked
    /// feed). `gloss redact` found no such event in the log, so the text stayed in the evidence on
    /// every replica — and travelled with it in bundles and sync sessions. The redaction's deps now
    /// name the evidence's seq of the frozen feed, and every replica purges it: one that found the
    /// fork, one holding the target's branch in its log, one holding only the other branch (it
    /// waits for the target, which the bundle's fork evidence brings).
    @Test func anAdminRedactsAnEventHeldOnlyAsForkEvidence() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        var replicas: [Replica] = []
        for name in ["knows-fork", "target-branch", "other-branch"] {
            let r = try create(name, .join)
            try ana.addMember(name, role: .reader, key: r.replicaID)
            replicas.append(r)
        }
        try ship(bo, ana)
        let base = tmp.sub("base.glossb")
        try ana.exportBundle(to: base, base: VersionVector())
        let secret = "a secret of one copy \(UUID().uuidString)"
        let (target, otherCopy) = try forkedNote(bo, of: ana, on: article, body: secret)
        let targetBranch = tmp.sub("target-branch.glossb")
        try bo.exportBundle(to: targetBranch, base: VersionVector())
        try ship(bo, ana)
        _ = try ana.store.applyRemote([otherCopy], now: clock.read())
        #expect(try count(ana, "SELECT count(*) FROM forks WHERE id = x'\(target.id)' AND payload IS NOT NULL") == 1)
        #expect(try count(ana, "SELECT count(*) FROM events WHERE id = x'\(target.id)'") == 0)
        let redaction = try ana.redact(String(target.id.prefix(12)), reason: "privacy order")
        #expect(try count(ana, "SELECT count(*) FROM forks WHERE id = x'\(target.id)' AND payload IS NULL") == 1)
        let after = try ana.addNote(on: article, body: "ana writes on")

        let (knowsFork, onTargetBranch, onOtherBranch) = (replicas[0], replicas[1], replicas[2])
        for r in replicas { _ = try r.importBundle(at: base) }
        _ = try onTargetBranch.importBundle(at: targetBranch)
        #expect(try count(onTargetBranch, "SELECT count(*) FROM events WHERE id = x'\(target.id)' AND payload IS NOT NULL") == 1)
        _ = try onOtherBranch.store.applyRemote([otherCopy], now: clock.read())
        let all = tmp.sub("all.glossb")
        try ana.exportBundle(to: all, base: VersionVector())
        _ = try knowsFork.importBundle(at: all)
        for r in [onTargetBranch, onOtherBranch] { try ship(ana, r) }
        for r in replicas {
            #expect(try held(r, redaction) && count(r, "SELECT count(*) FROM events WHERE id = x'\(after.event!.hex)'") == 1, "\(r.analyst)")
            #expect(try count(r, "SELECT count(*) FROM pending") == 0 && count(r, "SELECT count(*) FROM quarantine") == 0, "\(r.analyst)")
            #expect(try count(r, "SELECT count(*) FROM forks WHERE id = x'\(target.id)' AND payload IS NULL") == 1, "\(r.analyst): the evidence keeps the text")
            #expect(try r.digest() == ana.digest() && r.digest() == r.digest(recompute: true), "\(r.analyst)")
        }
        #expect { try ana.redact(String(target.id.prefix(12)), reason: "again") } throws: { "\($0)".contains("already redacted") }
        let files = ([ana] + replicas).map { $0.folder.appendingPathComponent(".gloss/replica.db") }
        for r in [ana, bo] + replicas { try r.close() }
        for f in files {
            #expect(try Data(contentsOf: f).range(of: Data(secret.utf8)) == nil, "\(f.path) still holds the redacted text")
        }
    }

    /// A forked admin key's redaction met in the frozen part of its feed is judged against the
    /// roster of its causal past — its deps are its chain of evidence's down to the log below the
    /// fork — and purges as it did on a replica that applied it before the fork was found. Until
    /// 2026-12-07 a frozen redaction was not judged in a team, so the words stayed on replicas that
    /// met the fork first. A forked analyst key's redaction purges nothing, in any order. Orders
    /// include the redaction before a link of its chain (it waits for the link, `forks.wait_id`).
    @Test func aForkedAdminKeysRedactionPurgesInEveryOrder() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let t = try ana.teamID
        let base = try clock.read() + 60_000
        var cases: [(signer: String, events: [SignedEvent], target: String, purges: Bool)] = []
        for (name, role) in [("mal", TeamRole.admin), ("dee", TeamRole.analyst)] {
            let key = ReplicaKey()
            try ana.addMember(name, role: role, key: key.replicaID)
            try ship(ana, bo)
            let note = try bo.addNote(on: article, body: "words \(name) withdraws")
            try ship(bo, ana)
            let at = { (n: UInt64) in HybridTime(milliseconds: base + n).raw }
            let m1 = Self.forge(key, team: t, deps: try ana.vector, author: name, payload: NoteAdded(on: article, body: "\(name)'s first"), time: at(1))
            let m2 = Self.forge(key, team: t, seq: 2, prev: m1.id, deps: VersionVector(), author: name, payload: NoteAdded(on: article, body: "one copy"), time: at(2))
            let redaction = Self.forge(key, team: t, seq: 3, prev: m2.id, deps: VersionVector(), author: name,
                                       payload: PayloadRedacted(event: note.event!, reason: "privacy order"), time: at(3))
            let otherCopy = Self.forge(key, team: t, seq: 2, prev: m1.id, deps: VersionVector(), author: name, payload: NoteAdded(on: article, body: "the other copy"), time: at(4))
            cases.append((name, [m1, m2, redaction, otherCopy], note.event!.hex, role == .admin))
        }
        let roster = tmp.sub("roster.glossb")
        try ana.exportBundle(to: roster, base: VersionVector())
        for c in cases {
            let (m1, m2, redaction, otherCopy) = (c.events[0], c.events[1], c.events[2], c.events[3])
            let orders: [[[SignedEvent]]] = [
                [[m1], [m2], [redaction], [otherCopy]], [[m1], [otherCopy], [m2], [redaction]], [[m1], [otherCopy], [redaction], [m2]],
                [[otherCopy], [redaction], [m2], [m1]], [[m1, otherCopy, redaction, m2]],
            ]
            var digests: Set<String> = []
            for (i, order) in orders.enumerated() {
                let r = try create("\(c.signer)-\(i)", .join)
                try ana.addMember("\(c.signer)-\(i)", role: .reader, key: r.replicaID)
                try ana.exportBundle(to: roster, base: VersionVector())
                _ = try r.importBundle(at: roster)
                for w in order { _ = try r.store.applyRemote(w, now: clock.read()) }
                let purged = try count(r, "SELECT count(*) FROM events WHERE id = x'\(c.target)' AND payload IS NULL")
                #expect(purged == (c.purges ? 1 : 0), "\(c.signer), order \(i): purged \(purged)")
                #expect(try count(r, "SELECT count(*) FROM redacted_events") == (c.purges ? 1 : 0), "\(c.signer), order \(i)")
                #expect(try count(r, "SELECT count(*) FROM forks WHERE wait_id IS NOT NULL OR wait_replica IS NOT NULL") == 0, "\(c.signer), order \(i)")
                #expect(try PendingWaitTests.endedWaits(r.store, now: clock.read()).isEmpty)
                #expect(try r.digest() == r.digest(recompute: true))
                // (The roster grows by each new reader: compare the projections without it.)
                digests.insert(try r.store.read { db in
                    try String.fetchAll(db, sql: "SELECT note || ':' || deleted FROM notes ORDER BY note").joined(separator: ",")
                })
            }
            #expect(digests.count == 1, "\(c.signer): the orders show different notes: \(digests)")
        }
    }

    /// The lie beside it: a forked admin key's redaction whose deps name a feed nobody holds at
    /// seq 2^63 − 1, the largest a deps entry may name (2^64 − 1 does not decode:
    /// `PendingWaitTests.aDepsEntryOfHugeSeqsIsRefusedOrWaitsForNothing`). Whether met in the log
    /// (it waits in pending) or as evidence, it purges nothing, traps on nothing, and waits for
    /// that seq as evidence alike in every order.
    @Test func aForkedAdminKeysRedactionNamingAnUnreachableSeqWaitsInEveryOrder() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let t = try ana.teamID, key = ReplicaKey(), ghost = ReplicaKey().replicaID
        try ana.addMember("mal", role: .admin, key: key.replicaID)
        try ship(ana, bo)
        let note = try bo.addNote(on: article, body: "words that stay")
        try ship(bo, ana)
        let at = { (n: UInt64) in HybridTime(milliseconds: try self.clock.read() + 60_000 + n).raw }
        let m1 = Self.forge(key, team: t, deps: try ana.vector, author: "mal", payload: NoteAdded(on: article, body: "mal's first"), time: try at(1))
        let m2 = Self.forge(key, team: t, seq: 2, prev: m1.id, deps: VersionVector(), author: "mal", payload: NoteAdded(on: article, body: "one copy"), time: try at(2))
        let lie = Self.forge(key, team: t, seq: 3, prev: m2.id, deps: VersionVector([ghost: ProtocolLimits.maxSeq]), author: "mal",
                             payload: PayloadRedacted(event: note.event!, reason: "never"), time: try at(3))
        let otherCopy = Self.forge(key, team: t, seq: 2, prev: m1.id, deps: VersionVector(), author: "mal", payload: NoteAdded(on: article, body: "the other copy"), time: try at(4))
        let roster = tmp.sub("roster.glossb")
        for (i, order) in [[m1, m2, lie, otherCopy], [m1, otherCopy, m2, lie], [lie, otherCopy, m2, m1]].enumerated() {
            let r = try create("r\(i)", .join)
            try ana.addMember("r\(i)", role: .reader, key: r.replicaID)
            try ana.exportBundle(to: roster, base: VersionVector())
            _ = try r.importBundle(at: roster)
            for e in order { _ = try r.store.applyRemote([e], now: clock.read()) }
            #expect(try count(r, "SELECT count(*) FROM redacted_events") == 0 && hasNote(r, note.id), "order \(i)")
            #expect(try count(r, "SELECT count(*) FROM forks WHERE id = x'\(lie.id.hex)' AND wait_seq = \(Int64.max)") == 1, "order \(i)")
            #expect(try PendingWaitTests.endedWaits(r.store, now: clock.read()).isEmpty)
        }
    }

    /// The same judgement for a fact: an analyst's forged amendment of another analyst's fact,
    /// whose creating event sits where that analyst's key forked. Looked for in the log only, the
    /// fact was missing on a replica that met the fork first (the fact held as evidence) and on one
    /// holding only the other branch: the amendment was judged as naming no fact and applied there,
    /// while replicas holding the fact quarantined it. Now the fact is looked for in the evidence
    /// too, and where it is held nowhere a non-admin's amendment waits for it.
    @Test func anAmendmentOfAFactWhereItsKeyForkedIsJudgedAlikeInEveryOrder() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let dave = ReplicaKey(), t = try ana.teamID
        try ana.addMember("dave", role: .analyst, key: dave.replicaID)
        var replicas: [Replica] = []
        for name in ["in-log", "other-branch", "fork-first"] {
            let r = try create(name, .join)
            try ana.addMember(name, role: .reader, key: r.replicaID)
            replicas.append(r)
        }
        try ship(ana, bo); try ship(bo, ana)
        let beforeFork = tmp.sub("before-fork.glossb")
        try ana.exportBundle(to: beforeFork, base: VersionVector())
        let prev = try headID(bo), seq = try bo.vector[bo.replicaID] + 1
        var input = FactInput()
        input.article = article; input.evidence = "A first line"; input.subject = "s"; input.predicate = "p"; input.object = "o"
        let fact = try bo.addFact(input)
        let otherCopy = Self.forge(bo.key, team: t, seq: seq, prev: prev, deps: try ana.vector, author: "bo",
                                   payload: NoteAdded(on: article, body: "the other copy's note"), time: HybridTime(milliseconds: clock.read() + 1).raw)
        try ship(bo, ana)
        let record = FactRecord(subject: "s", predicate: "p", object: "dave's", when: nil, where: nil, source: nil)
        let forged = Self.forge(dave, team: t, deps: try ana.vector, author: "dave",
                                payload: FactAmended(fact: fact.id, field: "object", record: record), time: HybridTime(milliseconds: clock.read() + 60_000).raw)
        let all = tmp.sub("all.glossb")
        try ana.exportBundle(to: all, base: VersionVector())

        let (inLog, otherBranch, forkFirst) = (replicas[0], replicas[1], replicas[2])
        _ = try inLog.importBundle(at: all)
        _ = try inLog.store.applyRemote([forged], now: clock.read())
        _ = try inLog.store.applyRemote([otherCopy], now: clock.read())

        _ = try otherBranch.importBundle(at: beforeFork)
        _ = try otherBranch.store.applyRemote([otherCopy], now: clock.read())
        let waiting = try otherBranch.store.applyRemote([forged], now: clock.read())
        #expect(waiting.pending == 1 && waiting.rejected == 0, "\(waiting) \(waiting.rejections)")
        #expect(try count(otherBranch, "SELECT count(*) FROM pending WHERE wait_id = x'\(fact.id)'") == 1)
        _ = try otherBranch.importBundle(at: all)

        _ = try forkFirst.importBundle(at: all)
        _ = try forkFirst.store.applyRemote([otherCopy], now: clock.read())
        let judged = try forkFirst.store.applyRemote([forged], now: clock.read())
        #expect(judged.rejections.first?.reason.contains("only the fact's author (bo)") == true, "\(judged.rejections)")

        for r in replicas {
            #expect(try !held(r, forged) && count(r, "SELECT count(*) FROM quarantine WHERE id = x'\(forged.id.hex)'") == 1, "\(r.analyst)")
            #expect(try count(r, "SELECT count(*) FROM pending") == 0 && count(r, "SELECT count(*) FROM forks WHERE id = x'\(fact.id)'") == 1)
            #expect(try r.digest() == inLog.digest() && r.vector == inLog.vector, "\(r.analyst)")
        }
    }

    /// The lie beside it: an admin's redaction naming a member's event held only as fork evidence,
    /// with deps that stop below that event's seq (outside its causal past). Found in the evidence,
    /// it is still judged by its causal past: quarantined, nothing purged, the evidence keeps it.
    @Test func aRedactionOfForkEvidenceOutsideItsCausalPastPurgesNothing() throws {
        defer { tmp.remove() }
        let (ana, bo, _, article) = try team()
        let t = try ana.teamID, seq = try bo.vector[bo.replicaID] + 1
        let (target, otherCopy) = try forkedNote(bo, of: ana, on: article, body: "a note of one copy")
        try ship(bo, ana)
        _ = try ana.store.applyRemote([otherCopy], now: clock.read())
        let mal = ReplicaKey()
        try ana.addMember("mal", role: .admin, key: mal.replicaID)
        var seen = Dictionary(uniqueKeysWithValues: try ana.vector.sorted.map { ($0.replica, $0.seq) })
        seen[bo.replicaID] = seq - 1
        let lie = Self.forge(mal, team: t, deps: VersionVector(seen), author: "mal",
                             payload: PayloadRedacted(event: EventID(Bytes32(hex: target.id)!), reason: "never saw it"),
                             time: HybridTime(milliseconds: clock.read() + 60_000).raw)
        let s = try ana.store.applyRemote([lie], now: clock.read())
        #expect(s.rejected == 1 && s.rejections.first?.reason.contains("not in its causal past") == true, "\(s.rejections)")
        #expect(try count(ana, "SELECT count(*) FROM forks WHERE payload IS NOT NULL AND id = x'\(target.id)'") == 1, "the evidence lost its payload")
        #expect(try count(ana, "SELECT count(*) FROM redacted_events") == 0)
    }

    /// Forged redactions from modified clients: by a non-admin, of an event outside the redaction's
    /// causal past, of a roster event. Each is quarantined and no payload is purged anywhere.
    @Test func aForgedRedactionPurgesNothing() throws {
        defer { tmp.remove() }
        let (ana, bo, cy, article) = try team()
        let t = try ana.teamID
        let note = try bo.addNote(on: article, body: "keep me")
        try ship(bo, ana); try ship(bo, cy)
        var genesis: EventID?
        try ana.log(limit: nil) { if $0.envelope.type == TeamCreated.type { genesis = $0.envelope.id } }
        let time = { HybridTime(milliseconds: clock.read() + 60_000).raw }
        let byAnalyst = Self.forge(bo.key, team: t, seq: try bo.vector[bo.replicaID] + 1, prev: try headID(bo), deps: VersionVector(), author: "bo",
                                   payload: PayloadRedacted(event: EventID(Bytes32(hex: note.id)!), reason: "mine"), time: time())
        // mal is an admin whose deps stop before ana's latest note.
        let ma = ReplicaKey(), mb = ReplicaKey()
        try ana.addMember("mal", role: .admin, key: ma.replicaID)
        try ana.addMember("max", role: .admin, key: mb.replicaID)
        let past = try ana.vector
        let unseen = try ana.addNote(on: article, body: "ana's, outside mal's causal past")
        let outsidePast = Self.forge(ma, team: t, deps: past, author: "mal",
                                     payload: PayloadRedacted(event: unseen.event!, reason: "never saw it"), time: time())
        let ofRoster = Self.forge(mb, team: t, deps: past, author: "max",
                                  payload: PayloadRedacted(event: genesis!, reason: "no roster"), time: time() + 1)
        let before = try count(ana, "SELECT count(*) FROM events WHERE payload IS NULL")
        for (e, why) in [(byAnalyst, "only an admin redacts"), (outsidePast, "not in its causal past"), (ofRoster, "roster event cannot be redacted")] {
            let s = try ana.store.applyRemote([e], now: clock.read())
            #expect(s.rejected == 1 && s.rejections.first?.reason.contains(why) == true, "\(why): \(s) \(s.rejections)")
            #expect(try !held(ana, e))
        }
        #expect(try count(ana, "SELECT count(*) FROM events WHERE payload IS NULL") == before, "nothing was purged")
        #expect(try count(ana, "SELECT count(*) FROM redacted_events") == 0 && count(ana, "SELECT count(*) FROM redactions") == 0)
        #expect(try hasNote(ana, note.id) && hasNote(ana, unseen.id))
    }

    @Test func aBundleToTheTeamOpensForEveryCurrentMemberAndNoOneElse() throws {
        defer { tmp.remove() }
        let (ana, bo, cy, article) = try team()
        let gone = try create("gone", .join)
        try ana.addMember("gone", role: .analyst, key: gone.replicaID)
        try ship(ana, gone)
        try ana.removeMember("gone", reason: "left")
        _ = try ana.addNote(on: article, body: "for the team only")
        let file = tmp.sub("team.glossb")
        let members = try ana.memberKeys()
        #expect(members == [ana.replicaID, bo.replicaID, cy.replicaID], "a removed analyst's key is not a member")
        let written = try ana.exportBundle(to: file, base: VersionVector(), recipients: Array(members))
        #expect(written.encrypted && written.recipients == members.sorted())
        for r in [bo, cy] { #expect(try r.importBundle(at: file).summary.rejected == 0) }
        #expect(try bo.digest() == ana.digest())
        let before = try gone.vector
        #expect { try gone.importBundle(at: file) } throws: { "\($0)".contains("not among them") }
        #expect(try gone.vector == before)
    }

    // MARK: Teams apart

    @Test func aBundleOfAnotherTeamOrOfNoTeamIsRefusedWholeOnImport() throws {
        defer { tmp.remove() }
        let ana = try create("ana", .create(name: "Desk"))
        let zed = try create("zed", .create(name: "Other desk"))
        let solo = try create("solo", .none)
        _ = try zed.ingest(bytes: Array("date 2021-06-26 X – other team.\n".utf8), filename: nil)
        _ = try solo.ingest(bytes: Array("date 2021-06-26 X – no team.\n".utf8), filename: nil)
        for (from, to, words) in [(zed, ana, "is of team"), (solo, ana, "is of no team"), (ana, solo, "belongs to no team")] {
            let before = try to.vector
            #expect { try ship(from, to) } throws: { "\($0)".contains(words) && "\($0)".contains("Nothing was imported") }
            #expect(try to.vector == before)
        }
    }

    // MARK: Order independence

    /// Random team histories (roster changes, revocations, notes by members and by revoked keys,
    /// forged events) delivered to several replicas in random orders by bundle: every replica ends
    /// with the same vector, digest, roster and quarantine, and no refused event is held anywhere.
    @Test(arguments: 0..<3) func randomTeamHistoriesConvergeWhateverTheDeliveryOrder(_ round: Int) throws {
        defer { tmp.remove() }
        let seed = UInt64(ProcessInfo.processInfo.environment["GLOSS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max >> 1)) &+ UInt64(round)
        print("TeamTests.randomTeamHistories seed \(seed) (GLOSS_SEED to repeat)")
        var rng = SplitMix64(seed: seed)
        let ana = try create("ana", .create(name: "Desk"))
        let article = try ana.ingest(bytes: Array("date 2021-06-26 KYIV – text.\n".utf8), filename: nil).id
        var members = [ana]
        var names = ["ana"]
        for i in 0..<3 {
            let r = try create("m\(i)", .join)
            try ana.addMember("m\(i)", role: [.analyst, .admin, .reader][Int(rng.next() % 3)], key: r.replicaID)
            try ship(ana, r)
            members.append(r); names.append("m\(i)")
        }
        for r in members.dropFirst() { try ship(ana, r) }
        for _ in 0..<40 {
            let r = members[Int(rng.next() % UInt64(members.count))]
            switch rng.next() % 6 {
            case 0, 1, 2: _ = try? r.addNote(on: article, body: "note \(rng.next() % 1000)")
            case 3: _ = try? r.changeRole(names[Int(rng.next() % UInt64(names.count))], to: [.analyst, .admin, .reader][Int(rng.next() % 3)])
            case 4: _ = try? r.revokeKey(members[Int(rng.next() % UInt64(members.count))].replicaID, reason: "random")
            default:
                let other = members[Int(rng.next() % UInt64(members.count))]
                if other !== r { try ship(r, other) }
            }
        }
        // Everyone gets everything, through relays in a random order, twice around.
        for _ in 0..<2 {
            for r in members.shuffled(using: &rng) { for o in members.shuffled(using: &rng) where o !== r { try ship(r, o) } }
        }
        // Every event held somewhere that a replica refused must not be held by any replica.
        let v0 = try members[0].vector, d0 = try members[0].digest(), q0 = try count(members[0], "SELECT count(*) FROM quarantine")
        let roster0 = try members[0].store.read { try members[0].store.roster($0) }
        for r in members.dropFirst() {
            #expect(try r.vector == v0, "seed \(seed)")
            #expect(try r.digest() == d0, "seed \(seed)")
            #expect(try count(r, "SELECT count(*) FROM quarantine") == q0, "seed \(seed)")
            #expect(try r.store.read { try r.store.roster($0) } == roster0, "seed \(seed)")
        }
        // Rebuilding gives the same projections (the roster is the log's, never rebuilt differently).
        #expect(try members[1].rebuild().digest == d0, "seed \(seed)")
    }
}

/// The pure roster: a function of the set of roster events.
@Suite struct RosterTests {
    static func event(_ label: String, signer: ReplicaKey, seq: UInt64, _ change: RosterChange, deps: [ReplicaID: UInt64] = [:]) -> RosterEvent {
        RosterEvent(id: EventID(Bytes32.sha256(Array(label.utf8))), signer: signer.replicaID, seq: seq, change: change, deps: deps)
    }

    @Test func theRosterDoesNotDependOnTheOrderOfItsEvents() {
        let a = fixedKey("roster-a"), b = fixedKey("roster-b"), c = fixedKey("roster-c")
        let g = Self.event("g", signer: a, seq: 1, .created(TeamCreated(name: "T", analyst: "ana")))
        let addB = Self.event("addB", signer: a, seq: 2, .added(MemberAdded(analyst: "bo", role: .admin, key: b.replicaID)))
        let addC = Self.event("addC", signer: a, seq: 3, .added(MemberAdded(analyst: "cy", role: .analyst, key: c.replicaID)))
        // Concurrent: ana demotes cy to reader, bo promotes cy to admin (bo saw ana's seq 3 only).
        let demote = Self.event("demote", signer: a, seq: 4, .roleChanged(RoleChanged(analyst: "cy", role: .reader)))
        let promote = Self.event("promote", signer: b, seq: 1, .roleChanged(RoleChanged(analyst: "cy", role: .admin)), deps: [a.replicaID: 3])
        // Concurrent: bo removes cy while ana enrols nothing; then ana re-adds nobody.
        let events = [g, addB, addC, demote, promote]
        let reference = Roster(events)
        var rng = SplitMix64(seed: 42)
        for _ in 0..<50 { #expect(Roster(events.shuffled(using: &rng)) == reference) }
        #expect(reference.analysts["cy"]?.role == .reader, "of concurrent role changes the least privileged holds")
        #expect(reference.team == TeamID(g.id.raw) && reference.name == "T")
    }

    @Test func removalWinsOverAConcurrentRoleChangeAndRevokesTheKeysItSaw() {
        let a = fixedKey("roster-a"), b = fixedKey("roster-b")
        let g = Self.event("g", signer: a, seq: 1, .created(TeamCreated(name: "T", analyst: "ana")))
        let addB = Self.event("addB", signer: a, seq: 2, .added(MemberAdded(analyst: "bo", role: .analyst, key: b.replicaID)))
        let remove = Self.event("remove", signer: a, seq: 3, .removed(MemberRemoved(analyst: "bo", reason: "left")))
        let r = Roster([g, addB, remove])
        #expect(r.analysts["bo"]?.present == false)
        guard case .failure(let why) = r.member(b.replicaID) else { Issue.record("a removed analyst's key is still a member"); return }
        #expect(why.description.contains("revoked") || why.description.contains("no longer on the team"))
        #expect(r.memberKeys == [a.replicaID])
    }

    @Test func judgementFollowsThePolicy() {
        let a = fixedKey("roster-a"), b = fixedKey("roster-b"), c = fixedKey("roster-c"), x = fixedKey("roster-x")
        let r = Roster([
            Self.event("g", signer: a, seq: 1, .created(TeamCreated(name: "T", analyst: "ana"))),
            Self.event("addB", signer: a, seq: 2, .added(MemberAdded(analyst: "bo", role: .analyst, key: b.replicaID))),
            Self.event("addC", signer: a, seq: 3, .added(MemberAdded(analyst: "cy", role: .reader, key: c.replicaID))),
        ])
        func judge(_ k: ReplicaKey, _ author: String, _ type: String, _ change: RosterChange? = nil, factAuthor: String? = nil) -> Roster.Verdict {
            r.judge(signer: k.replicaID, author: author, type: type, change: change, factAuthor: factAuthor)
        }
        #expect(judge(b, "bo", NoteAdded.type) == .allowed)
        #expect(judge(a, "ana", FactAmended.type, factAuthor: "bo") == .allowed, "an admin amends anyone's fact")
        #expect(judge(b, "bo", FactRetracted.type, factAuthor: "bo") == .allowed)
        guard case .notMember = judge(x, "x", NoteAdded.type) else { Issue.record("a stranger's key is a member"); return }
        guard case .denied = judge(c, "cy", TagAdded.type) else { Issue.record("a reader wrote"); return }
        guard case .denied = judge(b, "bo", FactAmended.type, factAuthor: "ana") else { Issue.record("a non-author amended"); return }
        guard case .denied = judge(b, "bo", KeyRevoked.type, .revoked(KeyRevoked(key: a.replicaID, reason: "r"))) else { Issue.record("a non-admin revoked"); return }
        guard case .denied = judge(a, "ana", MemberAdded.type, .added(MemberAdded(analyst: "eve", role: .analyst, key: b.replicaID))) else {
            Issue.record("a key joined twice"); return
        }
        guard case .denied = judge(b, "ana", NoteAdded.type) else { Issue.record("a key wrote as another analyst"); return }
    }
}
