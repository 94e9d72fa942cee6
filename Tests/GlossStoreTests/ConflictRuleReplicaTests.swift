import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossProjections
import GlossTestSupport
import Testing

/// The merge rules of Protocol/08 (rules version 2, unchanged in 3) on 2–5 replicas, after full exchange, on every
/// replica, identically — extending MergeRuleTests (which covers two resolvers of a note conflict,
/// a repeated credibility on 2 and 4 replicas, and a newer delete on 3) to every register, every
/// replica resolving at once, both time orders, and every kind of resolution.
@Suite(.timeLimit(.minutes(10))) struct ConflictRuleReplicaTests {
    enum Register: String, CaseIterable, Sendable { case body, record, credibility, reliability }

    /// Where a register lives, on one replica.
    struct Target { var object: String; var field: String }

    static func exchange(_ sim: Simulation) throws { try sim.exchangeAll() }

    /// (time, replica) of events, from the log view.
    static func order(_ r: Replica, _ ids: [String]) throws -> [String: (Int64, String)] {
        try r.store.read { db in
            var out: [String: (Int64, String)] = [:]
            for id in ids {
                let row = try Row.fetchOne(db, sql: "SELECT time, replica FROM event_log WHERE id = ?", arguments: [id])!
                out[id] = (row[0], row[1])
            }
            return out
        }
    }

    /// The id of the write with the highest (time, replica).
    static func newest(_ r: Replica, _ ids: [String]) throws -> String {
        let o = try order(r, ids)
        return ids.max { a, b in o[a]! < o[b]! }!
    }

    /// Conflict id by the rule of Protocol/08 §Conflict rows, computed here.
    static func conflictID(_ object: String, _ field: String, _ heads: [String]) -> String {
        Bytes32.sha256(Array("gloss/conflict".utf8) + [0] + Array(object.utf8) + [0] + Array(field.utf8) + [0] + Array(heads.sorted().joined(separator: ",").utf8)).hex
    }

    /// What the projections show for the register: (value, state, event shown, hidden) where hidden
    /// is `deleted` / `retracted` (nil for grades).
    static func shown(_ r: Replica, _ t: Target) throws -> (value: String?, state: String?, event: String?, hidden: Bool?) {
        try r.store.read { db in
            switch t.field {
            case "body":
                let row = try Row.fetchOne(db, sql: "SELECT body, body_state, body_event, deleted FROM notes WHERE note = ?", arguments: [t.object])!
                return (row[0], row[1], row[2], row[3])
            case "record":
                let row = try Row.fetchOne(db, sql: "SELECT object, record_state, record_event, retracted FROM facts WHERE fact = ?", arguments: [t.object])!
                return (row[0], row[1], row[2], row[3])
            case "credibility":
                let row = try Row.fetchOne(db, sql: "SELECT credibility, credibility_state FROM facts WHERE fact = ?", arguments: [t.object])!
                return (row[0], row[1], nil, nil)
            default:
                let row = try Row.fetchOne(db, sql: "SELECT reliability, reliability_state FROM sources WHERE source = ?", arguments: [t.object])!
                return (row[0], row[1], nil, nil)
            }
        }
    }

    static func record(object: String) -> String {
        "subject: Special Forces\npredicate: will hold\nobject: \(object)\nwhen:\nwhere:\nsource:"
    }

    /// An object every replica holds, then replicas 0 and 1 write to its register concurrently
    /// (different values); full exchange. Returns the target and the open conflict.
    static func conflicted(_ register: Register, replicas n: Int, seed: UInt64) throws -> (Simulation, Target, ConflictInfo) {
        let sim = try Simulation(replicas: n, seed: seed, label: "rules-\(register.rawValue)", deterministicKeys: true, tmpBase: memoryTempBase)
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        var input = FactInput()
        input.article = art; input.subject = "Special Forces"; input.predicate = "will hold"; input.object = "exercises"
        input.evidence = "hold exercises in Azerbaijan in September"
        let target: Target
        switch register {
        case .body: target = Target(object: try a.addNote(on: art, body: "first line").id, field: "body")
        case .record, .credibility: target = Target(object: try a.addFact(input).id, field: register.rawValue)
        case .reliability: target = Target(object: try a.addSource(name: "Dawn", kind: "outlet").id, field: "reliability")
        }
        try exchange(sim)
        switch register {
        case .body: _ = try a.editNote(target.object, body: "version A"); _ = try b.editNote(target.object, body: "version B")
        case .record: _ = try a.amendFact(target.object, field: .object, value: "drills"); _ = try b.amendFact(target.object, field: .object, value: "manoeuvres")
        case .credibility: _ = try a.gradeFact(target.object, credibility: .probablyTrue, reason: nil); _ = try b.gradeFact(target.object, credibility: .possiblyTrue, reason: nil)
        case .reliability: _ = try a.gradeSource(target.object, reliability: .usuallyReliable, reason: nil); _ = try b.gradeSource(target.object, reliability: .fairlyReliable, reason: nil)
        }
        try exchange(sim)
        let open = try a.conflicts().filter { $0.object == target.object && $0.field == target.field }
        try #require(open.count == 1, "seed \(seed): \(register) conflict not opened")
        return (sim, target, open[0])
    }

    /// A new value, distinct per resolver k ≥ 2 and from both candidates.
    static func newValue(_ register: Register, _ k: Int) -> String {
        switch register {
        case .body: return "resolution \(k) text"
        case .record: return record(object: "choice \(k)")
        case .credibility: return String(k + 2)          // 4, 5, 6 (candidates are 2 and 3)
        case .reliability: return ["D", "E", "F"][k - 2]  // candidates are B and C
        }
    }

    /// (a) Every replica resolves the same conflict at once, each choosing a different value (the
    /// two candidates, then new values): after full exchange every replica shows one new open
    /// conflict listing every resolution, the old row resolved by the greatest resolution id, the
    /// newest resolution's value meanwhile, and identical projections. Resolving it closes it.
    @Test(arguments: Register.allCases, [2, 3, 4, 5])
    func concurrentResolutionsChoosingDifferentValuesOpenAConflictListingEveryResolution(register: Register, replicas n: Int) throws {
        let seed = 8_000 + UInt64(n) * 10 + UInt64(Register.allCases.firstIndex(of: register)!)
        let (sim, target, open) = try Self.conflicted(register, replicas: n, seed: seed)
        let label = "seed \(seed), \(register) on \(n) replicas"
        let candidates = open.candidates.sorted { $0.event < $1.event }
        var resolutions: [String: String?] = [:]   // event → chosen value
        for k in 0..<n {
            let r = sim.replicas[k]
            let created: Created
            if k < 2 {
                created = try r.resolve(open.id, pick: candidates[k].event, reason: "resolver \(k) picks")
                resolutions[created.event!.hex] = candidates[k].value
            } else {
                created = try r.resolve(open.id, value: Self.newValue(register, k), reason: "resolver \(k) writes")
                resolutions[created.event!.hex] = Self.newValue(register, k)
            }
        }
        try Self.exchange(sim)
        let ids = Array(resolutions.keys)
        let winner = try Self.newest(sim.replicas[0], ids)
        let reference = try ProjectionSnapshot.of(sim.replicas[0])
        for (k, r) in sim.replicas.enumerated() {
            let mine = try r.conflicts().filter { $0.object == target.object && $0.field == target.field }
            #expect(mine.count == 1, "\(label), r\(k): \(mine.count) open conflicts on the register, expected 1")
            guard let c = mine.first else { continue }
            #expect(Set(c.candidates.map(\.event)) == Set(ids), "\(label), r\(k): the new conflict does not list every resolution")
            #expect(c.id == Self.conflictID(target.object, target.field, ids), "\(label), r\(k): conflict id is not the spec's")
            for cand in c.candidates where register != .record {
                #expect(cand.value == resolutions[cand.event]!, "\(label), r\(k): candidate \(cand.event.prefix(8)) shows \(cand.value ?? "nil")")
            }
            #expect(Set(c.candidates.compactMap(\.value)).count == n, "\(label), r\(k): the candidates' values are not the \(n) different choices")
            let old = try r.conflict(open.id)
            #expect(old.state == .resolved && old.resolution == ids.max(), "\(label), r\(k): old conflict \(old.state), resolution \(old.resolution?.prefix(8) ?? "nil"), expected the greatest resolution id")
            let s = try Self.shown(r, target)
            #expect(s.state == "conflict", "\(label), r\(k): state \(s.state ?? "nil")")
            if let event = s.event { #expect(event == winner, "\(label), r\(k): shows \(event.prefix(8)), not the newest resolution \(winner.prefix(8))") }
            switch register {
            case .body, .credibility, .reliability: #expect(s.value == resolutions[winner]!, "\(label), r\(k): shows \(s.value ?? "nil")")
            case .record: #expect(s.hidden == false)
            }
            #expect(try ProjectionSnapshot.of(r).differences(from: reference, "\(label), r\(k) vs r0").isEmpty, "\(label), r\(k): projections differ from r0")
        }
        // The new conflict is an ordinary one: a resolution closes it everywhere.
        let again = try #require(try sim.replicas[n - 1].conflicts().first { $0.object == target.object && $0.field == target.field })
        let final = register == .body ? "final" : register == .record ? Self.record(object: "final") : register == .credibility ? "1" : "A"
        _ = try sim.replicas[n - 1].resolve(again.id, value: final, reason: nil)
        try Self.exchange(sim)
        for (k, r) in sim.replicas.enumerated() {
            #expect(try r.conflicts().filter { $0.object == target.object }.isEmpty, "\(label), r\(k): still open after the final resolution")
            let s = try Self.shown(r, target)
            #expect(s.state == "single" && s.value == (register == .record ? "final" : final), "\(label), r\(k): after the final resolution shows \(s)")
        }
    }

    /// (b) A grade every replica holds; one analyst sets the same grade again while another sets a
    /// different one (on ≥ 3 replicas, a third repeats it too): an open conflict, never a silent
    /// merge, whichever write is newer, identical everywhere.
    @Test(arguments: [Register.credibility, .reliability], [2, 3, 4, 5])
    func aRepeatedGradeConcurrentWithADifferentOneIsAnOpenConflict(register: Register, replicas n: Int) throws {
        for repeatIsNewer in [false, true] {
            let seed = 8_100 + UInt64(n) * 10 + (register == .credibility ? 0 : 5) + (repeatIsNewer ? 1 : 0)
            let label = "seed \(seed), \(register) on \(n) replicas, the repeat is \(repeatIsNewer ? "newer" : "older")"
            let sim = try Simulation(replicas: n, seed: seed, label: "repeat-grade", deterministicKeys: true, tmpBase: memoryTempBase)
            let a = sim.replicas[0]
            let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
            var input = FactInput()
            input.article = art; input.subject = "S"; input.predicate = "said"; input.object = "O"; input.evidence = "hold exercises in Azerbaijan in September"
            let object = register == .credibility ? try a.addFact(input).id : try a.addSource(name: "Reuters", kind: nil).id
            let (same, other) = register == .credibility ? ("2", "3") : ("B", "C")
            func grade(_ k: Int, _ v: String) throws -> String {
                let r = sim.replicas[k]
                return (register == .credibility ? try r.gradeFact(object, credibility: Credibility(rawValue: v)!, reason: "r\(k)") : try r.gradeSource(object, reliability: Reliability(rawValue: v)!, reason: "r\(k)")).event!.hex
            }
            _ = try grade(0, same)
            try Self.exchange(sim)
            for r in sim.replicas { #expect(try Self.shown(r, Target(object: object, field: register.rawValue)).value == same, "\(label): setup") }
            var heads: [String] = []
            if repeatIsNewer { heads.append(try grade(1, other)); heads.append(try grade(0, same)) }
            else { heads.append(try grade(0, same)); heads.append(try grade(1, other)) }
            if n >= 3 { heads.append(try grade(2, same)) }
            try Self.exchange(sim)
            let winner = try Self.newest(a, heads)
            let winnerValue = heads.firstIndex(of: winner) == (repeatIsNewer ? 0 : 1) ? other : same
            let reference = try ProjectionSnapshot.of(a)
            for (k, r) in sim.replicas.enumerated() {
                let s = try Self.shown(r, Target(object: object, field: register.rawValue))
                #expect(s.state == "conflict", "\(label), r\(k): state \(s.state ?? "nil") (\(s.value ?? "nil")) — a silent merge")
                #expect(s.value == winnerValue, "\(label), r\(k): shows \(s.value ?? "nil"), the newest write is \(winnerValue)")
                let c = try r.conflicts().filter { $0.object == object && $0.field == register.rawValue }
                #expect(c.count == 1 && Set(c.first?.candidates.map(\.event) ?? []) == Set(heads), "\(label), r\(k): open conflicts \(c.map { $0.candidates.map(\.value) })")
                #expect(Set(c.first?.candidates.compactMap(\.value) ?? []) == [same, other], "\(label), r\(k)")
                #expect(try ProjectionSnapshot.of(r).differences(from: reference, "\(label), r\(k) vs r0").isEmpty, "\(label), r\(k): projections differ from r0")
            }
        }
    }

    enum Resolution: String, CaseIterable, Sendable { case keepText, delete, newText }

    /// (c) Edit versus delete on a note (and amend versus retract on a fact): while the conflict is
    /// open the object stays visible (`deleted` / `retracted` 0, in `live_notes`) with its newest
    /// text, state `conflict`, whether the delete or the edit is newer — on 2–5 replicas, with a
    /// second concurrent edit on ≥ 3; after a resolution it shows what the resolution chose.
    @Test(arguments: [2, 3, 4, 5], Resolution.allCases)
    func anOpenEditVersusDeleteConflictKeepsTheNewestTextVisibleUntilResolved(replicas n: Int, resolution: Resolution) throws {
        try Self.editVersusDelete(replicas: n, resolution: resolution, checkDisplayedWrite: false)
    }

    /// Found by this suite (fixed in `Register.display`): while an edit-versus-delete conflict is
    /// open and the delete is the newer write, `notes.body_event` (and `facts.record_event`) named
    /// the delete although `body` showed the newest text head's — 04-projections.md defines them
    /// as "which write is displayed".
    @Test(arguments: [2, 3])
    func theDisplayedWriteOfAnOpenEditVersusDeleteConflictIsTheTextShown(replicas n: Int) throws {
        try Self.editVersusDelete(replicas: n, resolution: .keepText, checkDisplayedWrite: true)
    }

    static func editVersusDelete(replicas n: Int, resolution: Resolution, checkDisplayedWrite: Bool) throws {
        for onFact in [false, true] {
            for deleteIsNewer in [false, true] {
                let seed = 8_200 + UInt64(n) * 100 + UInt64(Resolution.allCases.firstIndex(of: resolution)!) * 10 + (onFact ? 2 : 0) + (deleteIsNewer ? 1 : 0)
                let label = "seed \(seed), \(onFact ? "fact" : "note") on \(n) replicas, \(deleteIsNewer ? "delete" : "edit") newer, resolved by \(resolution)"
                let sim = try Simulation(replicas: n, seed: seed, label: "edit-delete", deterministicKeys: true, tmpBase: memoryTempBase)
                let a = sim.replicas[0]
                let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
                var input = FactInput()
                input.article = art; input.subject = "S"; input.predicate = "said"; input.object = "first"; input.evidence = "hold exercises in Azerbaijan in September"
                let object = onFact ? try a.addFact(input).id : try a.addNote(on: art, body: "first").id
                let target = Target(object: object, field: onFact ? "record" : "body")
                try Self.exchange(sim)
                func edit(_ k: Int, _ text: String) throws -> String {
                    let r = sim.replicas[k]
                    return (onFact ? try r.amendFact(object, field: .object, value: text) : try r.editNote(object, body: text)).event!.hex
                }
                func delete(_ k: Int) throws -> String {
                    let r = sim.replicas[k]
                    return (onFact ? try r.retractFact(object, reason: "wrong") : try r.deleteNote(object)).event!.hex
                }
                var texts: [String: String] = [:]   // edit event → its shown text
                var tombstone = ""
                if deleteIsNewer {
                    texts[try edit(0, "edit one")] = "edit one"
                    texts[try edit(0, "edit two")] = "edit two"          // newest text of replica 0's feed
                    if n >= 3 { texts[try edit(2, "third edit")] = "third edit" }
                    tombstone = try delete(1)
                } else {
                    tombstone = try delete(1)
                    texts[try edit(0, "edit one")] = "edit one"
                    if n >= 3 { texts[try edit(2, "third edit")] = "third edit" }
                    texts[try edit(0, "edit two")] = "edit two"
                }
                try Self.exchange(sim)
                let textHeads = texts.keys.filter { e in !(texts[e] == "edit one") }   // "edit one" precedes "edit two" in one feed
                let newestText = try Self.newest(a, Array(textHeads))
                let reference = try ProjectionSnapshot.of(a)
                for (k, r) in sim.replicas.enumerated() {
                    let s = try Self.shown(r, target)
                    #expect(s.state == "conflict" && s.hidden == false, "\(label), r\(k): \(s) — must stay visible while the conflict is open")
                    #expect(s.value == texts[newestText], "\(label), r\(k): shows \(s.value ?? "nil"), the newest text is \(texts[newestText]!)")
                    if checkDisplayedWrite {
                        #expect(s.event == newestText, "\(label), r\(k): the displayed write (body_event/record_event) is \(s.event.map { $0 == tombstone ? "the delete" : String($0.prefix(8)) } ?? "nil"), but the text shown is that of \(newestText.prefix(8))")
                    }
                    if !onFact {
                        #expect(try r.store.read { try Bool.fetchOne($0, sql: "SELECT count(*) > 0 FROM live_notes WHERE note = ?", arguments: [object]) } == true, "\(label), r\(k): not in live_notes")
                    } else {
                        #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM fact_view WHERE fact = ? AND retracted = 0", arguments: [object]) } == 1, "\(label), r\(k): shown retracted in fact_view")
                    }
                    let c = try r.conflicts().filter { $0.object == object }
                    #expect(c.count == 1 && Set(c.first?.candidates.map(\.event) ?? []) == Set(textHeads + [tombstone]), "\(label), r\(k): conflict candidates")
                    #expect(try ProjectionSnapshot.of(r).differences(from: reference, "\(label), r\(k) vs r0").isEmpty, "\(label), r\(k): projections differ from r0")
                }
                // Resolve on the last replica, then exchange.
                let c = try #require(try sim.replicas[n - 1].conflicts().first { $0.object == object })
                let olderText = textHeads.first { $0 != newestText } ?? newestText
                switch resolution {
                case .keepText: _ = try sim.replicas[n - 1].resolve(c.id, pick: olderText)
                case .delete: _ = try sim.replicas[n - 1].resolve(c.id, pick: tombstone)
                case .newText: _ = try sim.replicas[n - 1].resolve(c.id, value: onFact ? Self.record(object: "chosen") : "chosen")
                }
                try Self.exchange(sim)
                let after = try ProjectionSnapshot.of(a)
                for (k, r) in sim.replicas.enumerated() {
                    let s = try Self.shown(r, target)
                    #expect(try r.conflicts().filter { $0.object == object }.isEmpty, "\(label), r\(k): still open after the resolution")
                    #expect(s.state == "single", "\(label), r\(k): state \(s.state ?? "nil") after the resolution")
                    switch resolution {
                    case .keepText: #expect(s.hidden == false && s.value == texts[olderText], "\(label), r\(k): after keeping \(texts[olderText]!) shows \(s)")
                    case .delete:
                        #expect(s.hidden == true, "\(label), r\(k): still shown after the delete was chosen: \(s)")
                        if !onFact {
                            // A deleted note keeps the text of its newest write with a text.
                            #expect(s.value == texts[newestText], "\(label), r\(k): a deleted note keeps \(s.value ?? "nil"), expected \(texts[newestText]!)")
                            #expect(try r.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM live_notes WHERE note = ?", arguments: [object]) } == 0)
                        }
                    case .newText: #expect(s.hidden == false && s.value == "chosen", "\(label), r\(k): after a new text shows \(s)")
                    }
                    #expect(try ProjectionSnapshot.of(r).differences(from: after, "\(label), r\(k) vs r0").isEmpty, "\(label), r\(k): projections differ from r0 after the resolution")
                }
            }
        }
    }
}
