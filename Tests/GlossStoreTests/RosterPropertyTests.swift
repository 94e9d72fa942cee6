import Foundation
import GlossMerge
import GlossModel
import GlossTestSupport
import Testing

/// Property tests of the pure roster (Protocol/11-teams.md §The roster of a set of roster events):
/// random causally consistent histories of several admin feeds, each admin writing only what the
/// roster of its own (often stale) view allows, so concurrent role changes, removals against
/// additions, enrolments of one key by two admins and admins revoking each other all happen.
/// Compared with `TeamOracle`, an independent reading of the specification.
@Suite struct RosterPropertyTests {
    static var seeds: [UInt64] {
        let base = ProcessInfo.processInfo.environment["GLOSS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max >> 1)
        let n = ProcessInfo.processInfo.environment["GLOSS_LARGE"] == "1" ? 400 : 40
        return (0..<UInt64(n)).map { base &+ $0 }
    }

    /// A random history: the accepted roster events, and snapshots of causally closed views (vectors).
    struct History {
        var events: [OracleRosterEvent] = []
        var views: [[ReplicaID: UInt64]] = []
        var keys: [ReplicaID] = []
        var analysts: [String] = []

        func closed(under v: [ReplicaID: UInt64]) -> [OracleRosterEvent] { events.filter { (v[$0.signer] ?? 0) >= $0.seq } }
    }

    static func key(_ label: String) -> ReplicaID { ReplicaID(Bytes32.sha256(Array("roster-prop/\(label)".utf8))) }

    static func history(seed: UInt64, steps: Int = 70) -> History {
        var rng = SplitMix64(seed: seed)
        var h = History()
        let genesisKey = key("g")
        let pool = (0..<8).map { key("k\($0)") }
        h.keys = [genesisKey] + pool
        h.analysts = ["ana", "bo", "cy", "dee", "eli"]
        var known: [ReplicaID: [ReplicaID: UInt64]] = [:]
        func write(_ signer: ReplicaID, _ change: RosterChange) -> Bool {
            let view = known[signer] ?? [:]
            let oracle = TeamOracle(h.closed(under: view))
            let seq = (view[signer] ?? 0) + 1
            let isGenesis: Bool = if case .created = change { true } else { false }
            if !isGenesis {
                guard let team = oracle.team else { return false }
                let m = oracle.member(signer)
                guard oracle.judge(team: team, eventTeam: team, signer: signer, author: m?.analyst ?? "?", type: Self.type(change), change: change) == .accepted
                else { return false }
            }
            var deps = view; deps[signer] = nil
            let id = EventID(Bytes32.sha256(Array("\(seed)/\(h.events.count)/\(signer.hex)/\(seq)".utf8)))
            h.events.append(OracleRosterEvent(id: id, signer: signer, seq: seq, deps: deps, change: change))
            known[signer, default: [:]][signer] = seq
            return true
        }
        _ = write(genesisKey, .created(TeamCreated(name: "T", analyst: "ana")))
        _ = write(genesisKey, .added(MemberAdded(analyst: "bo", role: .admin, key: pool[0])))
        _ = write(genesisKey, .added(MemberAdded(analyst: "cy", role: .admin, key: pool[1])))
        h.views.append(known[genesisKey]!)
        known[pool[0]] = known[genesisKey]; known[pool[1]] = known[genesisKey]
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        for _ in 0..<steps {
            // Mostly keys that are admins somewhere (so roster changes are written), sometimes any key.
            let admins = h.keys.filter { k in TeamOracle(h.events).member(k)?.role == .admin || TeamOracle(h.closed(under: known[k] ?? [:])).member(k)?.role == .admin }
            let signer = admins.isEmpty || rng.next() % 5 == 0 ? pick(h.keys) : pick(admins)
            switch rng.next() % 10 {
            case 0, 1, 2:
                // Sync: the signer learns everything another key knows (a union of closed sets is closed).
                let other = pick(h.keys)
                known[signer, default: [:]].merge(known[other] ?? [:]) { max($0, $1) }
            case 3: _ = write(signer, .added(MemberAdded(analyst: pick(h.analysts), role: pick(TeamRole.allCases), key: pick(pool))))
            case 4: _ = write(signer, .enrolled(DeviceEnrolled(analyst: pick(h.analysts), key: pick(pool))))
            case 5, 6: _ = write(signer, .roleChanged(RoleChanged(analyst: pick(h.analysts), role: pick(TeamRole.allCases))))
            case 7: _ = write(signer, .revoked(KeyRevoked(key: pick(h.keys), reason: "r")))
            default: _ = write(signer, .removed(MemberRemoved(analyst: pick(h.analysts), reason: "r")))
            }
            if let v = known[signer] { h.views.append(v) }
        }
        var all: [ReplicaID: UInt64] = [:]
        for e in h.events { all[e.signer] = max(all[e.signer] ?? 0, e.seq) }
        h.views.append(all)
        return h
    }

    static func type(_ c: RosterChange) -> String {
        switch c {
        case .created: TeamCreated.type
        case .added: MemberAdded.type
        case .enrolled: DeviceEnrolled.type
        case .roleChanged: RoleChanged.type
        case .revoked: KeyRevoked.type
        case .removed: MemberRemoved.type
        }
    }

    static func product(_ es: [OracleRosterEvent]) -> [RosterEvent] {
        es.map { RosterEvent(id: $0.id, signer: $0.signer, seq: $0.seq, change: $0.change, deps: $0.deps) }
    }

    /// The product's roster agrees with the oracle on every analyst's role and presence and every key's membership.
    static func compare(_ r: Roster, _ o: TeamOracle, keys: [ReplicaID], analysts: [String], _ context: String) {
        for a in analysts {
            #expect(r.analysts[a]?.role == o.role(a), "role of \(a): \(context)")
            #expect((r.analysts[a]?.present ?? false) == o.present(a), "presence of \(a): \(context)")
        }
        for k in keys {
            let product: (String, TeamRole)? = if case .success(let m) = r.member(k) { (m.analyst, m.role) } else { nil }
            let oracle = o.member(k)
            #expect(product?.0 == oracle?.analyst && product?.1 == oracle?.role, "member \(k.short): product \(String(describing: product)), spec \(String(describing: oracle)): \(context)")
            #expect((r.keys[k]?.revokedBy != nil) == o.revoked(k), "revocation of \(k.short): \(context)")
            #expect(r.keys[k]?.analyst == o.enrolment(k)?.analyst, "owner of \(k.short): \(context)")
        }
        #expect(r.memberKeys == o.memberKeys, "\(context)")
        #expect(r.team == o.team, "\(context)")
    }

    @Test func everyShuffleOfARandomHistoryGivesTheSameRosterAsTheSpecification() {
        var concurrentRoles = 0, mutualRevocations = 0, events = 0
        for seed in Self.seeds {
            var rng = SplitMix64(seed: seed ^ 0x5EED)
            let h = Self.history(seed: seed)
            events += h.events.count
            let all = Self.product(h.events)
            let reference = Roster(all)
            for _ in 0..<12 { #expect(Roster(all.shuffled(using: &rng)) == reference, "GLOSS_SEED=\(seed)") }
            Self.compare(reference, TeamOracle(h.events), keys: h.keys, analysts: h.analysts, "GLOSS_SEED=\(seed), all \(h.events.count) events")
            // Statistics: the generator really makes the concurrent cases the rules are about.
            for a in h.analysts {
                let setters = h.events.filter { if case .roleChanged(let p) = $0.change { p.analyst == a } else { false } }
                if TeamOracle.maxima(setters).count > 1 { concurrentRoles += 1 }
            }
            let revs = h.events.filter { if case .revoked = $0.change { true } else { false } }
            if revs.contains(where: { r in revs.contains { s in r.id != s.id && !r.saw(s.signer, s.seq) && !s.saw(r.signer, r.seq) } }) { mutualRevocations += 1 }
        }
        print("RosterPropertyTests: \(Self.seeds.count) histories from GLOSS_SEED=\(Self.seeds[0]), \(events) events, \(concurrentRoles) with concurrent role changes, \(mutualRevocations) with concurrent revocations")
        #expect(concurrentRoles > 0 && mutualRevocations > 0, "the generator made no concurrency")
    }

    /// The roster of a causally closed subset (a replica's view at some moment) is the roster of
    /// those events alone — the same whatever else exists, whatever order — and matches the
    /// specification; a revocation in it is never undone by what comes later.
    @Test func theRosterOfACausallyClosedSubsetDependsOnlyOnIt() {
        for seed in Self.seeds {
            var rng = SplitMix64(seed: seed ^ 0xC105ED)
            let h = Self.history(seed: seed)
            for view in h.views where Int(rng.next() % 3) == 0 || view == h.views.last {
                let subset = h.closed(under: view)
                // Closed: every roster event a member of the subset saw is in it.
                for e in subset { for f in h.events where e.saw(f.signer, f.seq) { #expect(subset.contains(f), "the generator's view is not closed") } }
                let r = Roster(Self.product(subset))
                #expect(Roster(Self.product(subset.shuffled(using: &rng))) == r, "GLOSS_SEED=\(seed)")
                // Events outside the view, shuffled in and filtered out again the way a replica does
                // (by the view's vector), change nothing.
                let mixed = Self.product(h.events.shuffled(using: &rng)).filter { (view[$0.signer] ?? 0) >= $0.seq }
                #expect(Roster(mixed) == r, "GLOSS_SEED=\(seed)")
                Self.compare(r, TeamOracle(subset), keys: h.keys, analysts: h.analysts, "GLOSS_SEED=\(seed), view \(view.values.reduce(0, +))")
                // Judgement of a hypothetical event with this view as its causal past, by every key.
                let o = TeamOracle(subset)
                guard let team = o.team else { continue }
                for k in h.keys {
                    let author = o.member(k)?.analyst ?? "ana"
                    let changes: [RosterChange] = [
                        .roleChanged(RoleChanged(analyst: h.analysts[Int(rng.next() % 5)], role: .reader)),
                        .added(MemberAdded(analyst: h.analysts[Int(rng.next() % 5)], role: .analyst, key: h.keys[Int(rng.next() % 9)])),
                        .enrolled(DeviceEnrolled(analyst: h.analysts[Int(rng.next() % 5)], key: h.keys[Int(rng.next() % 9)])),
                        .revoked(KeyRevoked(key: h.keys[Int(rng.next() % 9)], reason: "x")),
                        .removed(MemberRemoved(analyst: h.analysts[Int(rng.next() % 5)], reason: "x")),
                    ]
                    for c in changes {
                        let p = r.judge(signer: k, author: author, type: Self.type(c), change: c, factAuthor: nil)
                        let s = o.judge(team: team, eventTeam: team, signer: k, author: author, type: Self.type(c), change: c)
                        #expect(Self.same(p, s), "\(Self.type(c)) by \(k.short): product \(p), spec \(s): GLOSS_SEED=\(seed)")
                    }
                    for (type, fa) in [(NoteAdded.type, nil), (FactAmended.type, "bo"), (FactRetracted.type, author)] as [(String, String?)] {
                        let p = r.judge(signer: k, author: author, type: type, change: nil, factAuthor: fa)
                        let s = o.judge(team: team, eventTeam: team, signer: k, author: author, type: type, change: nil, factAuthor: fa)
                        #expect(Self.same(p, s), "\(type) by \(k.short): product \(p), spec \(s): GLOSS_SEED=\(seed)")
                    }
                    let wrongAuthor = r.judge(signer: k, author: "nobody", type: NoteAdded.type, change: nil, factAuthor: nil)
                    #expect(Self.same(wrongAuthor, o.judge(team: team, eventTeam: team, signer: k, author: "nobody", type: NoteAdded.type, change: nil)))
                }
            }
        }
    }

    /// "A key is revoked for good … A revoked key never comes back" (§The roster of a set): a key
    /// revoked in the roster of some view stays revoked, and off the member list, in every larger view.
    @Test func aKeyRevokedInAViewIsRevokedInEveryLaterView() {
        var failures: [UInt64] = []
        for seed in Self.seeds {
            let h = Self.history(seed: seed)
            let final = Roster(Self.product(h.events))
            for view in h.views {
                let r = Roster(Self.product(h.closed(under: view)))
                for (k, entry) in r.keys where entry.revokedBy != nil && (final.keys[k]?.revokedBy == nil || final.memberKeys.contains(k)) {
                    failures.append(seed)
                    Issue.record("key \(k.short) revoked in a view (by \(entry.revokedBy!.short), enrolled for \(entry.analyst)) is \(final.memberKeys.contains(k) ? "a member" : "not revoked") again with more events (now enrolled for \(final.keys[k]?.analyst ?? "?")): GLOSS_SEED=\(seed)")
                }
            }
        }
        if !failures.isEmpty { print("aKeyRevokedInAViewIsRevokedInEveryLaterView: failing seeds \(Array(Set(failures)).sorted().prefix(5))") }
    }

    /// The smallest reproduction of the case above: two admins concurrently enrol one key for two
    /// analysts; one admin removes the analyst of the enrolment it saw, which revokes the key in its
    /// view. Once the other enrolment (smaller event id) arrives, the key belongs to the other analyst,
    /// is no longer revoked, and is a member again.
    @Test func aKeyRevokedByARemovalDoesNotComeBackThroughAConcurrentEnrolment() {
        let g = Self.key("g"), kb = Self.key("kb"), k = Self.key("stolen")
        func id(_ first: UInt8, _ label: String) -> EventID {
            var b = Bytes32.sha256(Array(label.utf8)).bytes; b[0] = first; return EventID(Bytes32(exactly: b)!)
        }
        let genesis = RosterEvent(id: id(0x80, "g1"), signer: g, seq: 1, change: .created(TeamCreated(name: "T", analyst: "ana")), deps: [:])
        let addBo = RosterEvent(id: id(0x81, "g2"), signer: g, seq: 2, change: .added(MemberAdded(analyst: "bo", role: .admin, key: kb)), deps: [:])
        // ana enrols k for cy, then removes cy (her removal saw that enrolment: k is revoked in her view).
        let addCy = RosterEvent(id: id(0x90, "g3"), signer: g, seq: 3, change: .added(MemberAdded(analyst: "cy", role: .analyst, key: k)), deps: [:])
        let removeCy = RosterEvent(id: id(0x91, "g4"), signer: g, seq: 4, change: .removed(MemberRemoved(analyst: "cy", reason: "device stolen")), deps: [:])
        // Concurrently bo enrols the same key for dee; its id happens to be smaller.
        let addDee = RosterEvent(id: id(0x10, "kb1"), signer: kb, seq: 1, change: .added(MemberAdded(analyst: "dee", role: .analyst, key: k)), deps: [g: 2])
        let anasView = Roster([genesis, addBo, addCy, removeCy])
        #expect(anasView.keys[k]?.revokedBy == removeCy.id, "revoked in ana's view")
        let everything = Roster([genesis, addBo, addCy, removeCy, addDee])
        #expect(everything.keys[k]?.revokedBy != nil, "a revoked key never comes back (Protocol/11-teams.md §The roster of a set)")
        #expect(!everything.memberKeys.contains(k), "the key revoked by ana's removal is a member again once bo's concurrent enrolment arrives")
    }

    static func same(_ p: Roster.Verdict, _ s: TeamOracle.Verdict) -> Bool {
        switch (p, s) {
        case (.allowed, .accepted), (.notMember, .refused), (.denied, .denied): true
        default: false
        }
    }
}
