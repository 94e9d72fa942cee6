import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore
import GlossTestSupport
import Testing

@Suite(.timeLimit(.minutes(5))) struct ConflictTests {
    /// Notes' displayed state and the open conflicts, comparable across replicas.
    static func view(_ r: Replica) throws -> [String] {
        try r.store.read { db in
            try Row.fetchAll(db, sql: "SELECT note, body, deleted, body_state FROM notes ORDER BY note").map { "\($0[0] as String)|\($0[1] as String)|\($0[2] as Int)|\($0[3] as String)" }
        } + (try r.conflicts(all: true)).map { "\($0.id)|\($0.state)|\($0.candidates.map(\.event).joined(separator: ","))" }
    }

    @Test func fiveReplicasWithRandomConcurrentEditsConvergeAndSurfaceEveryConcurrentWrite() throws {
        let sim = try Simulation(replicas: 5, seed: testSeed("conflicts-5"), label: "conflicts")
        // Everyone starts from a few shared notes, then edits concurrently.
        for _ in 0..<4 { try sim.randomOperation(on: 0) }
        for i in 1..<5 { try sim.sync(0, i) }
        for _ in 0..<220 {
            let i = Int.random(in: 0..<5, using: &sim.rng)
            switch Int.random(in: 0..<10, using: &sim.rng) {
            case 0...5: try sim.randomOperation(on: i)
            case 6, 7: try sim.sync(i, (i + 1 + Int.random(in: 0..<4, using: &sim.rng)) % 5)
            default:
                // Resolve an open conflict: pick a candidate, or write a new text.
                guard let c = try sim.replicas[i].conflicts().randomElement(using: &sim.rng) else { continue }
                if Bool.random(using: &sim.rng) {
                    _ = try sim.replicas[i].resolve(c.id, pick: c.candidates.randomElement(using: &sim.rng)!.event, reason: "random pick")
                } else {
                    let value = switch c.field {
                    case "record": "subject: \(sim.randomText(1))\npredicate: said\nobject: \(sim.randomText(2))\nwhen:\nwhere:\nsource:"
                    case "credibility": "4"
                    case "reliability": "D"
                    default: sim.randomText(4)
                    }
                    _ = try sim.replicas[i].resolve(c.id, value: value)
                }
            }
        }
        // Full exchange in a random order, twice round.
        for _ in 0..<2 { for a in (0..<5).shuffled(using: &sim.rng) { for b in (0..<5).shuffled(using: &sim.rng) where a != b { try sim.sync(a, b) } } }
        let reference = try Self.view(sim.replicas[0])
        let digest = try sim.replicas[0].digest()
        for r in sim.replicas {
            #expect(try Self.view(r) == reference, "\(r.analyst) shows other notes or conflicts")
            #expect(try r.digest() == digest)
            #expect(try r.digest(recompute: true) == digest)
        }
        // Oracle: concurrency computed from the events' own deps, not by the production code.
        let oracle = try ConcurrencyOracle(events: try sim.allEvents())
        let r0 = sim.replicas[0]
        // Every register: note bodies, fact records, fact credibility, source reliability.
        let registers = try r0.store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT note, 'body', body_state FROM notes
                UNION ALL SELECT fact, 'record', record_state FROM facts
                UNION ALL SELECT fact, 'credibility', credibility_state FROM facts WHERE credibility_state IS NOT NULL
                UNION ALL SELECT source, 'reliability', reliability_state FROM sources WHERE reliability_state IS NOT NULL
                """)
        }
        let notes = registers.filter { $0[1] == "body" }
        var surfacedPairs = 0
        for row in registers {
            let object: String = row[0], field: String = row[1], state: String = row[2]
            let maximal = oracle.maximalWrites(object: object, field: field)
            let open = try r0.conflicts().filter { $0.object == object && $0.field == field }
            switch state {
            case "conflict":
                #expect(open.count == 1)
                #expect(Set(open.first?.candidates.map(\.event) ?? []) == Set(maximal.map(\.id)), "conflict candidates differ from the oracle's concurrent writes")
                surfacedPairs += maximal.count * (maximal.count - 1) / 2
                for a in maximal { for b in maximal where a.id < b.id { #expect(oracle.concurrent(a, b)) } }
            case "merged":
                #expect(open.isEmpty)
                #expect(maximal.count > 1 && maximal.allSatisfy { !$0.deleted })
            default:
                #expect(open.isEmpty)
                #expect(maximal.count == 1 || maximal.allSatisfy(\.deleted), "oracle sees concurrent writes on \(field) the projection does not surface")
            }
        }
        // Storage (projection version 13): a note body's writes are its `note_revisions` rows alone;
        // two heads or more are stored (`reg_heads`, with their events' feed and seq in the log), a
        // single head is the notes row's `body_event`; either way they are the oracle's maximal writes.
        try r0.store.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM reg_writes WHERE field = 'body'") == 0)
            let heads = try Row.fetchAll(db, sql: """
                SELECT h.object, h.event, h.feed = e.feed AND h.seq = e.seq, r.event IS NOT NULL FROM reg_heads h
                LEFT JOIN events e ON lower(hex(e.id)) = h.event LEFT JOIN note_revisions r ON r.event = h.event WHERE h.field = 'body'
                """)
            #expect(heads.allSatisfy { ($0[2] as Bool?) == true && $0[3] as Bool }, "a note's head names no revision, or another feed or seq than the log's")
            var byNote = Dictionary(grouping: heads, by: { $0[0] as String }).mapValues { Set($0.map { $0[1] as String }) }
            #expect(byNote.values.allSatisfy { $0.count >= 2 }, "a single head was stored")
            for row in try Row.fetchAll(db, sql: "SELECT note, body_event FROM notes") where byNote[row[0]] == nil { byNote[row[0]] = [row[1]] }
            var multiple = 0
            for row in notes {
                let note: String = row[0]
                let maximal = Set(oracle.maximalWrites(object: note, field: "body").map(\.id))
                if maximal.count > 1 { multiple += 1 }
                #expect(byNote[note] == maximal, "note \(note.prefix(12)): stored heads differ from the oracle's maximal writes")
            }
            print("[conflicts-5] \(multiple) notes with several heads (stored), \(notes.count - multiple) with one (implicit)")
        }
        print("[conflicts-5] \(notes.count) notes, \(registers.count - notes.count) fact/grade registers, \(try r0.conflicts(all: true).count) conflicts, \(surfacedPairs) concurrent pairs open")
    }

    func pair() throws -> (Simulation, Replica, Replica, String) {
        let sim = try Simulation(replicas: 2, seed: 31, label: "pair")
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let note = try a.addNote(on: art, body: "one\ntwo\nthree\nfour").id
        try sim.sync(0, 1)
        return (sim, a, b, note)
    }

    func body(_ r: Replica, _ note: String) throws -> (String, String, Bool) {
        try r.store.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT body, body_state, deleted FROM notes WHERE note = ?", arguments: [note])!
            return (row[0], row[1], row[2])
        }
    }

    @Test func nonOverlappingEditsMergeIdenticallyEverywhere() throws {
        let (sim, a, b, note) = try pair()
        _ = try a.editNote(note, body: "ONE\ntwo\nthree\nfour")
        _ = try b.editNote(note, body: "one\ntwo\nthree\nFOUR\nfive")
        try sim.sync(0, 1); try sim.sync(1, 0)
        for r in [a, b] {
            let (text, state, _) = try body(r, note)
            #expect(text == "ONE\ntwo\nthree\nFOUR\nfive")
            #expect(state == "merged")
            #expect(try r.conflicts().isEmpty)
        }
        #expect(try a.digest() == (try b.digest()))
        // Both edits stay in history.
        #expect(try a.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM note_revisions WHERE note = ? AND kind = 'edit'", arguments: [note]) } == 2)
    }

    @Test func overlappingEditsConflictAndAResolutionClosesItEverywhere() throws {
        let (sim, a, b, note) = try pair()
        _ = try a.editNote(note, body: "one\nTWO (ana)\nthree\nfour")
        _ = try b.editNote(note, body: "one\nTWO (bo)\nthree\nfour")
        try sim.sync(0, 1); try sim.sync(1, 0)
        let ca = try a.conflicts(), cb = try b.conflicts()
        #expect(ca.count == 1 && cb.count == 1)
        #expect(ca.first?.id == cb.first?.id)
        #expect(Set(ca.first!.candidates.compactMap(\.value)) == ["one\nTWO (ana)\nthree\nfour", "one\nTWO (bo)\nthree\nfour"])
        #expect(try body(a, note).1 == "conflict")
        // The highest (time, replica) is shown meanwhile, identically.
        #expect(try body(a, note).0 == (try body(b, note).0))
        _ = try b.resolve(cb[0].id, value: "one\nTWO (ana and bo)\nthree\nfour", reason: "agreed by phone")
        #expect(try b.conflicts().isEmpty)
        try sim.sync(1, 0)
        #expect(try a.conflicts().isEmpty, "the resolution closed the conflict on the other replica")
        #expect(try body(a, note).0 == "one\nTWO (ana and bo)\nthree\nfour")
        let resolved = try a.conflicts(all: true)
        #expect(resolved.count == 1 && resolved[0].state == .resolved && resolved[0].candidates.count == 2)
        #expect(try a.digest() == (try b.digest()))
    }

    @Test func aResolutionConcurrentWithANewerEditOpensANewConflict() throws {
        let (sim, a, b, note) = try pair()
        _ = try a.editNote(note, body: "one\nA\nthree\nfour")
        _ = try b.editNote(note, body: "one\nB\nthree\nfour")
        try sim.sync(0, 1); try sim.sync(1, 0)
        let c = try #require(try a.conflicts().first)
        _ = try a.resolve(c.id, pick: c.candidates[0].event)
        _ = try b.editNote(note, body: "one\nB again\nthree\nfour")   // concurrent with the resolution
        try sim.sync(0, 1); try sim.sync(1, 0)
        let open = try a.conflicts()
        #expect(open.count == 1)
        #expect(open.first?.id != c.id)
        #expect(Set(try b.conflicts().map(\.id)) == Set(open.map(\.id)))
    }

    @Test func editVersusDeleteIsAlwaysAConflict() throws {
        let (sim, a, b, note) = try pair()
        _ = try a.editNote(note, body: "one\ntwo\nthree\nfour\nfive")
        _ = try b.deleteNote(note)
        try sim.sync(0, 1); try sim.sync(1, 0)
        for r in [a, b] {
            let cs = try r.conflicts()
            #expect(cs.count == 1)
            #expect(cs.first?.candidates.contains { $0.value == nil } == true, "the delete is a candidate")
            #expect(try body(r, note).1 == "conflict")
        }
        // Keep the edit: the note lives again everywhere.
        let c = try a.conflicts()[0]
        _ = try a.resolve(c.id, pick: c.candidates.first { $0.value != nil }!.event)
        try sim.sync(0, 1)
        for r in [a, b] {
            #expect(try body(r, note) == ("one\ntwo\nthree\nfour\nfive", "single", false))
        }
    }

    @Test func threeWayMergeRules() {
        #expect(LineMergeProbe.merge("a\nb\nc", "A\nb\nc", "a\nb\nC") == "A\nb\nC")
        #expect(LineMergeProbe.merge("a\nb\nc", "A\nb\nc", "X\nb\nc") == nil)                 // same line changed
        #expect(LineMergeProbe.merge("a\nb\nc", "a\nx\nb\nc", "a\ny\nb\nc") == nil)           // both insert at one point
        #expect(LineMergeProbe.merge("a\nb\nc", "a\nx\nb\nc", "a\nx\nb\nc") == "a\nx\nb\nc")  // the same change once
        #expect(LineMergeProbe.merge("a\nb\nc", "b\nc", "a\nb\nc\nd") == "b\nc\nd")
        #expect(LineMergeProbe.merge("", "x", "") == "x")
    }
}

import GlossMerge
enum LineMergeProbe {
    static func merge(_ base: String, _ o: String, _ t: String) -> String? { LineMerge.merge(base: base, ours: o, theirs: t) }
}

/// Computes happened-before from the events' envelopes with its own code: full deps accumulated
/// along each feed, independent of the store's tables and queries.
struct ConcurrencyOracle {
    struct Write { var id: String; var replica: ReplicaID; var seq: UInt64; var deleted: Bool }
    var fullDeps: [EventID: [ReplicaID: UInt64]] = [:]
    var writes: [String: [Write]] = [:]

    init(events: [SignedEvent]) throws {
        var byFeed: [ReplicaID: [SignedEvent]] = [:]
        for e in events { byFeed[e.envelope.replica, default: []].append(e) }
        for (_, feed) in byFeed {
            var acc: [ReplicaID: UInt64] = [:]
            for e in feed.sorted(by: { $0.envelope.seq < $1.envelope.seq }) {
                for d in e.envelope.depsDelta { acc[d.replica] = max(acc[d.replica] ?? 0, d.seq) }
                fullDeps[e.id] = acc
            }
        }
        for e in events {
            let env = e.envelope
            func add(_ object: String, _ field: String, deleted: Bool) {
                writes[object + "/" + field, default: []].append(Write(id: env.id.hex, replica: env.replica, seq: env.seq, deleted: deleted))
            }
            switch DecodedPayload(type: env.type, schema: env.schema, payload: e.payload) {
            case .noteAdded: add(env.id.hex, "body", deleted: false)
            case .noteEdited(let p): add(p.note, "body", deleted: false)
            case .noteDeleted(let p): add(p.note, "body", deleted: true)
            case .factAdded: add(env.id.hex, "record", deleted: false)
            case .factAmended(let p): add(p.fact, "record", deleted: false)
            case .factRetracted(let p): add(p.fact, "record", deleted: true)
            case .factGraded(let p): add(p.fact, "credibility", deleted: false)
            case .sourceGraded(let p): add(p.source, "reliability", deleted: false)
            case .conflictResolved(let p): add(p.object, p.field, deleted: p.deleted)
            default: break
            }
        }
        self.ids = Dictionary(uniqueKeysWithValues: events.map { ($0.id.hex, $0.id) })
    }
    var ids: [String: EventID] = [:]

    func before(_ a: Write, _ b: Write) -> Bool {
        if a.replica == b.replica { return a.seq < b.seq }
        return (fullDeps[ids[b.id]!]?[a.replica] ?? 0) >= a.seq
    }
    func concurrent(_ a: Write, _ b: Write) -> Bool { !before(a, b) && !before(b, a) }
    func maximalWrites(object: String, field: String) -> [Write] {
        let ws = writes[object + "/" + field] ?? []
        return ws.filter { w in !ws.contains { $0.id != w.id && before(w, $0) } }
    }
}
