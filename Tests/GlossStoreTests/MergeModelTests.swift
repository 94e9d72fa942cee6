import Foundation
import GRDB
import GlossEngine
import GlossMerge
import GlossModel
import GlossTestSupport
import Testing

/// Model-based test of the merge core: on random multi-replica histories, every register the SQLite
/// projections hold (heads maintained incrementally, in arrival order, with SQL causality) must equal
/// what the pure rules of `Register` compute from the register's whole set of writes, with causality
/// taken from the events' own deps by `ConcurrencyOracle` (not the store's tables).
@Suite struct MergeModelTests {
    struct ModelWrite: RegisterWrite {
        var event: String, deleted: Bool, value: String?, time: Int64, replica: String
    }

    static var seeds: [UInt64] {
        let n = ProcessInfo.processInfo.environment["GLOSS_LARGE"] == nil ? 200 : 2000
        return (0..<UInt64(n)).map { 14_000 + $0 }
    }

    /// Registers as (object, field) → (writes, heads) from `reg_writes` (a note body's writes: its
    /// `note_revisions` rows) / `reg_heads` (a note body's single head: its `notes.body_event`).
    static func registers(_ r: Replica) throws -> [String: (writes: [ModelWrite], heads: Set<String>)] {
        try r.store.read { db in
            var out: [String: (writes: [ModelWrite], heads: Set<String>)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT object, field, event, deleted, value, time, replica FROM reg_writes
                UNION ALL SELECT note, 'body', event, body IS NULL, body, time, replica FROM note_revisions
                """) {
                let key = (row[0] as String) + "/" + (row[1] as String)
                out[key, default: ([], [])].writes.append(ModelWrite(event: row[2], deleted: row[3], value: row[4], time: row[5], replica: row[6]))
            }
            // A note body with one head stores no reg_heads row: the head is the notes row's body_event.
            for row in try Row.fetchAll(db, sql: """
                SELECT object, field, event FROM reg_heads
                UNION ALL SELECT note, 'body', body_event FROM notes n WHERE NOT EXISTS (SELECT 1 FROM reg_heads h WHERE h.object = n.note AND h.field = 'body')
                """) {
                out[(row[0] as String) + "/" + (row[1] as String), default: ([], [])].heads.insert(row[2])
            }
            return out
        }
    }

    /// What the projections show for a register: (value, state, deleted).
    static func shown(_ r: Replica, object: String, field: String) throws -> (String?, String?, Bool?) {
        try r.store.read { db in
            switch field {
            case "body":
                let row = try Row.fetchOne(db, sql: "SELECT body, body_state, deleted FROM notes WHERE note = ?", arguments: [object])
                return (row?[0], row?[1], row?[2])
            case "record":
                let row = try Row.fetchOne(db, sql: "SELECT NULL, record_state, retracted FROM facts WHERE fact = ?", arguments: [object])
                return (nil, row?[1], row?[2])
            case "credibility":
                let row = try Row.fetchOne(db, sql: "SELECT credibility, credibility_state FROM facts WHERE fact = ?", arguments: [object])
                return (row?[0], row?[1], nil)
            default:
                let row = try Row.fetchOne(db, sql: "SELECT reliability, reliability_state FROM sources WHERE source = ?", arguments: [object])
                return (row?[0], row?[1], nil)
            }
        }
    }

    @Test(arguments: seeds)
    func sqliteProjectionsEqualThePureCore(seed: UInt64) throws {
        let sim = try Simulation(replicas: 3, seed: seed, label: "model")
        var rng = SplitMix64(seed: seed ^ 0x5eed)
        for _ in 0..<14 {
            try sim.randomOperation(on: Int.random(in: 0..<3, using: &rng))
            if Int.random(in: 0..<3, using: &rng) == 0 {
                let a = Int.random(in: 0..<3, using: &rng), b = Int.random(in: 0..<3, using: &rng)
                if a != b { try sim.sync(a, b) }
            }
        }
        // Checked on a replica mid-history and after a full exchange.
        let oracle = try ConcurrencyOracle(events: try sim.allEvents())
        let positions = Dictionary(uniqueKeysWithValues: try sim.allEvents().map { ($0.id.hex, ($0.envelope.replica, $0.envelope.seq)) })
        func before(_ a: ModelWrite, _ b: ModelWrite) -> Bool {
            let (ra, sa) = positions[a.event]!, (rb, sb) = positions[b.event]!
            return oracle.before(.init(id: a.event, replica: ra, seq: sa, deleted: a.deleted), .init(id: b.event, replica: rb, seq: sb, deleted: b.deleted))
        }
        for round in 0..<2 {
            if round == 1 { for a in 0..<3 { for b in 0..<3 where a != b { try sim.sync(a, b) } } }
            for r in round == 0 ? [sim.replicas[Int(seed % 3)]] : sim.replicas {
                for (key, reg) in try Self.registers(r) {
                    let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                    let (object, field) = (parts[0], parts[1])
                    let heads = Register.maximal(reg.writes, happenedBefore: before)
                    #expect(Set(heads.map(\.event)) == reg.heads, "seed \(seed): heads of \(key.prefix(20)) differ from the model")
                    let model = Register.display(heads: heads, among: reg.writes, scalar: Register.scalarFields.contains(field), happenedBefore: before)
                    let (value, state, deleted) = try Self.shown(r, object: object, field: field)
                    guard let state else { continue }   // a grade on an object not (yet) held, e.g. a source
                    #expect(state == model.state.rawValue, "seed \(seed): \(field) of \(object.prefix(12)) is \(state), the model says \(model.state)")
                    if field != "record", model.state != .conflict || field == "body" {
                        if !(field == "body" && model.deleted) { #expect(value == model.value, "seed \(seed): \(field) of \(object.prefix(12))") }
                    }
                    if let deleted { #expect(deleted == model.deleted, "seed \(seed): deleted of \(object.prefix(12))") }
                    let open = try r.conflicts().filter { $0.object == object && $0.field == field }
                    if model.state == .conflict {
                        #expect(open.count == 1 && Set(open[0].candidates.map(\.event)) == Set(heads.map(\.event)),
                                "seed \(seed): conflict candidates of \(key.prefix(20))")
                        #expect(open.first?.id == Register.conflictID(object: object, field: field, candidates: heads.map(\.event)))
                    } else {
                        #expect(open.isEmpty, "seed \(seed): \(key.prefix(20)) has an open conflict the model does not")
                    }
                }
            }
        }
    }
}
