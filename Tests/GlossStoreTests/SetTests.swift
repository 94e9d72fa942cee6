import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossTestSupport
import Testing

@Suite(.timeLimit(.minutes(3))) struct SetTests {
    @Test func aRemovalRemovesOnlyTheAdditionsItSaw() throws {
        let sim = try Simulation(replicas: 2, seed: 41, label: "addwins")
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        _ = try a.tag(art, "military")
        try sim.sync(0, 1)
        _ = try b.untag(art, "military")      // removes the addition b saw
        _ = try a.tag(art, "exercise")
        _ = try a.untag(art, "military")
        _ = try a.tag(art, "military")         // a concurrent re-addition b has not seen
        try sim.sync(0, 1); try sim.sync(1, 0)
        for r in [a, b] {
            let tags = try r.store.read { try String.fetchAll($0, sql: "SELECT DISTINCT tag FROM tags WHERE object = ? ORDER BY tag", arguments: [art]) }
            #expect(tags == ["exercise", "military"], "add wins over a concurrent removal")
        }
        #expect(try a.digest() == (try b.digest()))
    }

    @Test func randomTagsAndLinksConvergeToTheAddWinsOracle() throws {
        let sim = try Simulation(replicas: 4, seed: testSeed("add-wins"), label: "sets")
        let art = try sim.replicas[0].ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        for i in 1..<4 { try sim.sync(0, i) }
        let tags = ["a", "b", "c"]
        for _ in 0..<200 {
            let i = Int.random(in: 0..<4, using: &sim.rng)
            let r = sim.replicas[i]
            let t = tags.randomElement(using: &sim.rng)!
            switch Int.random(in: 0..<6, using: &sim.rng) {
            case 0, 1: _ = try r.tag(art, t)
            case 2: _ = try? r.untag(art, t)
            case 3: _ = try r.link(art, "rel-\(t)", art)
            case 4: _ = try? r.unlink(art, "rel-\(t)", art)
            default: try sim.sync(i, (i + 1 + Int.random(in: 0..<3, using: &sim.rng)) % 4)
            }
        }
        for a in 0..<4 { for b in 0..<4 where a != b { try sim.sync(a, b) } }
        // Oracle from the events: an addition survives unless some removal lists it.
        var added: [String: String] = [:], removed = Set<String>()
        for e in try sim.allEvents() {
            switch DecodedPayload(type: e.envelope.type, schema: e.envelope.schema, payload: e.payload) {
            case .tagAdded(let p): added[e.id.hex] = "tag:" + p.tag
            case .linkAdded(let p): added[e.id.hex] = "link:" + p.relation
            case .tagRemoved(let p): removed.formUnion(p.additions)
            case .linkRemoved(let p): removed.formUnion(p.additions)
            default: break
            }
        }
        let expected = Set(added.filter { !removed.contains($0.key) }.keys)
        let digest = try sim.replicas[0].digest()
        for r in sim.replicas {
            let live = try r.store.read { db in
                Set(try String.fetchAll(db, sql: "SELECT addition FROM tags UNION ALL SELECT addition FROM links"))
            }
            #expect(live == expected)
            #expect(try r.digest() == digest)
            #expect(try r.digest(recompute: true) == digest)
        }
    }
}
