import Foundation
import GRDB
import GlossEngine
import GlossModel
import GlossStore

/// Richer random histories for the projection-equivalence suites (window size, delivery order,
/// digest honesty): every kind of event the domain has, including the ones `randomOperation`
/// never writes — tags and links added and removed, anchor decisions (confirm, retarget),
/// resolutions with a new value or a tombstone, and concurrent resolutions of one conflict.
/// Additive: `randomOperation` and its seeds are unchanged.
extension Simulation {
    /// Every kind of operation `randomRichOperation` can write, for coverage reports.
    public enum RichKind: String, CaseIterable, Sendable {
        case tag, untag, link, unlink, confirmAnchor, retargetAnchor, resolvePick, resolveValue, resolveDelete, concurrentResolution, deleteNote, editNote,
             editUnseenNote, resolveUnseenConflict, unknownType, extract, gradeSource, conflictBurst, base
    }

    /// Objects a replica can address, from its projections.
    func addressable(_ r: Replica) throws -> (articles: [String], notes: [String], facts: [String], annotations: [String], sources: [String]) {
        try r.store.read { db in
            (try String.fetchAll(db, sql: "SELECT article FROM articles ORDER BY article"),
             try String.fetchAll(db, sql: "SELECT note FROM notes WHERE deleted = 0 ORDER BY note"),
             try String.fetchAll(db, sql: "SELECT fact FROM facts ORDER BY fact"),
             try String.fetchAll(db, sql: "SELECT annotation FROM annotations ORDER BY annotation"),
             try String.fetchAll(db, sql: "SELECT source FROM sources ORDER BY source"))
        }
    }

    /// A value a resolution of a conflict on `field` may set (a note body, a fact record, a grade).
    public func resolutionValue(field: String) -> String {
        switch field {
        case "record":
            return "subject: \(randomText(1))\npredicate: said\nobject: \(randomText(2))\nwhen: 2021-06\nwhere:\nsource:"
        case "credibility": return String(Int.random(in: 1...6, using: &rng))
        case "reliability": return ["A", "B", "C", "D", "E", "F"].randomElement(using: &rng)!
        default: return randomText(Int.random(in: 1...6, using: &rng))
        }
    }

    /// One random operation on replica `i` drawn from every kind the domain has; writes at most
    /// one event (an operation the replica refuses, e.g. untagging where nothing is tagged, falls
    /// back to `randomOperation`). Returns the kind attempted.
    @discardableResult
    public func randomRichOperation(on i: Int) throws -> RichKind {
        let r = replicas[i]
        let o = try addressable(r)
        let objects = o.articles + o.notes + o.facts + o.annotations + o.sources
        func wrote(_ body: () throws -> Created) -> Bool { (try? body()).map { !$0.existing } ?? false }
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<9 where !objects.isEmpty:
            let (object, tag) = (objects.randomElement(using: &rng)!, ["urgent", "verify", "Baku", "café"].randomElement(using: &rng)!)
            // Tag even when tagged: a second addition by another replica is another row.
            if wrote({ try r.tag(object, tag) }) { return .tag }
        case 9..<15:
            let held = try r.store.read { try Row.fetchAll($0, sql: "SELECT object, tag FROM tags ORDER BY addition") }
            if let row = held.randomElement(using: &rng), wrote({ try r.untag(row[0], row[1]) }) { return .untag }
        case 15..<22 where objects.count > 1:
            let (a, b) = (objects.randomElement(using: &rng)!, objects.randomElement(using: &rng)!)
            if wrote({ try r.link(a, ["mentions", "supports", "see-also"].randomElement(using: &rng)!, b) }) { return .link }
        case 22..<27:
            let held = try r.store.read { try Row.fetchAll($0, sql: "SELECT from_id, relation, to_id FROM links ORDER BY addition") }
            if let row = held.randomElement(using: &rng), wrote({ try r.unlink(row[0], row[1], row[2]) }) { return .unlink }
        case 27..<31:
            let anchored = try r.store.read { try String.fetchAll($0, sql: "SELECT object FROM anchors ORDER BY object") }
            if let object = anchored.randomElement(using: &rng), wrote({ try r.confirmAnchor(object) }) { return .confirmAnchor }
        case 31..<35:
            let anchored = try r.store.read { try String.fetchAll($0, sql: "SELECT object FROM anchors ORDER BY object") }
            if let object = anchored.randomElement(using: &rng),
               wrote({ try r.retargetAnchor(object, quote: Bool.random(using: &rng) ? "BAKU" : "date", choice: QuoteChoice(occurrence: 1)) }) {
                return .retargetAnchor
            }
        case 35..<47:
            if let c = try r.conflicts().randomElement(using: &rng) {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0:
                    if wrote({ try r.resolve(c.id, pick: c.candidates.randomElement(using: &rng)!.event, reason: "picked") }) { return .resolvePick }
                case 1:
                    if wrote({ try r.resolve(c.id, value: resolutionValue(field: c.field), reason: "rewritten") }) { return .resolveValue }
                default:
                    if let t = c.candidates.first(where: { $0.value == nil }) ?? c.candidates.first,
                       wrote({ try r.resolve(c.id, pick: t.event, reason: "tombstone if any") }) {
                        return t.value == nil ? .resolveDelete : .resolvePick
                    }
                }
            }
        case 47..<51 where !o.notes.isEmpty:
            if wrote({ try r.deleteNote(o.notes.randomElement(using: &rng)!) }) { return .deleteNote }
        case 51..<60 where !o.notes.isEmpty:
            if wrote({ try r.editNote(o.notes.randomElement(using: &rng)!, body: randomText(Int.random(in: 1...6, using: &rng))) }) { return .editNote }
        case 60..<62:
            // An edit of a note another replica holds and this one has not seen: its NoteAdded is not
            // in the edit's causal past, so it is not understood on every replica — even where the
            // NoteAdded arrives first, or in the same window.
            let mine = Set(o.notes)
            let unseen = try replicas.indices.filter { $0 != i }.flatMap { try addressable(replicas[$0]).notes }.filter { !mine.contains($0) }.sorted()
            if let note = unseen.randomElement(using: &rng) {
                _ = try r.append(NoteEdited(note: note, body: "edit of an unseen note " + randomText(2)))
                return .editUnseenNote
            }
        case 62..<64:
            // A resolution of a conflict this replica has not seen: names candidates outside its causal
            // past, so it is not understood anywhere.
            let mine = Set(try r.conflicts().map(\.id))
            let others = try replicas.indices.filter { $0 != i }.flatMap { try replicas[$0].conflicts() }.filter { !mine.contains($0.id) }.sorted { $0.id < $1.id }
            if let c = others.randomElement(using: &rng), let pick = c.candidates.randomElement(using: &rng) {
                _ = try r.append(ConflictResolved(conflict: c.id, object: c.object, field: c.field, candidates: c.candidates.map(\.event),
                                                  value: pick.value, deleted: pick.value == nil, picked: pick.event, reason: "unseen"))
                return .resolveUnseenConflict
            }
        case 64:
            // A type this build does not know: accepted, stored, shown as not understood.
            _ = try r.store.write { db in
                try r.store.appendLocal(key: r.key, author: r.analyst, type: "FutureEvent", schema: 1, payload: [0xA1, 0x61, 0x78, 0x01],
                                        wallMilliseconds: r.clock(), db)
            }
            return .unknownType
        case 68..<72 where !o.sources.isEmpty:
            if wrote({ try r.gradeSource(o.sources.randomElement(using: &rng)!, reliability: [.completelyReliable, .usuallyReliable, .fairlyReliable, .notUsuallyReliable].randomElement(using: &rng)!, reason: nil) }) { return .gradeSource }
        case 72..<74:
            if wrote({ try r.addSource(name: ["Reuters", "AP", "Dawn", "TASS"].randomElement(using: &rng)!, kind: "outlet") }) { return .base }
        case 65..<68 where !o.articles.isEmpty:
            // Re-run the extraction rules (writes only when they have not run on the current revision).
            if wrote({ try r.extract(article: o.articles.randomElement(using: &rng)!) }) { return .extract }
        default: break
        }
        try randomOperation(on: i)
        return .base
    }

    /// Several replicas (at least two when they can) resolve the same open conflict without seeing
    /// each other's resolution — by a pick, a new value or the tombstone. Returns how many resolved.
    @discardableResult
    public func concurrentResolutions() throws -> Int {
        // A conflict open on more than one replica.
        var openOn: [String: [Int]] = [:]
        for (k, r) in replicas.enumerated() { for c in try r.conflicts() { openOn[c.id, default: []].append(k) } }
        if !openOn.values.contains(where: { $0.count > 1 }), openOn.count > 0 {
            // Let everyone see the conflicts first.
            try exchangeAll()
            openOn = [:]
            for (k, r) in replicas.enumerated() { for c in try r.conflicts() { openOn[c.id, default: []].append(k) } }
        }
        guard let chosen = openOn.filter({ $0.value.count > 1 }).sorted(by: { $0.key < $1.key }).randomElement(using: &rng) else { return 0 }
        let (id, holders) = (chosen.key, chosen.value.sorted())
        var done = 0
        for k in holders.shuffled(using: &rng).prefix(Int.random(in: 2...max(2, holders.count), using: &rng)) {
            let r = replicas[k]
            let c = try r.conflict(id)
            let ok: Bool
            if Bool.random(using: &rng) {
                ok = (try? r.resolve(id, pick: c.candidates.randomElement(using: &rng)!.event, reason: "concurrent pick")) != nil
            } else {
                ok = (try? r.resolve(id, value: resolutionValue(field: c.field), reason: "concurrent value")) != nil
            }
            if ok { done += 1 }
        }
        return done
    }

    /// Everyone sees everything, then several replicas write to one register at once (a note body,
    /// a fact's field, its credibility, a source's reliability, or a delete/retraction against an
    /// edit): a conflict, or a clean merge. Returns the number of writes.
    @discardableResult
    public func conflictBurst() throws -> Int {
        try exchangeAll()
        let o = try addressable(replicas[0])
        let liveFacts = try replicas[0].store.read { try String.fetchAll($0, sql: "SELECT fact FROM facts WHERE retracted = 0 ORDER BY fact") }
        let writers = Array(replicas.indices.shuffled(using: &rng).prefix(Int.random(in: 2...max(2, replicas.count), using: &rng)))
        var n = 0
        func wrote(_ body: () throws -> Created) -> Bool { (try? body()).map { !$0.existing } ?? false }
        switch Int.random(in: 0..<6, using: &rng) {
        case 4 where !o.articles.isEmpty:
            // Concurrent revisions of one article: the current revision is the highest (time, replica).
            let article = o.articles.randomElement(using: &rng)!
            for k in writers {
                let file = tmp.sub("burst-\(UInt32.random(in: 0...UInt32.max, using: &rng)).txt")
                try Data("date 2021-06-\(Int.random(in: 10...28, using: &rng)) BAKU – \(randomText(2)) report \(k)\n".utf8).write(to: file)
                if wrote({ try replicas[k].revise(article: article, file: file.path) }) { n += 1 }
            }
        case 5 where !o.articles.isEmpty:
            // Add-wins: one replica removes a tag while others add it again concurrently.
            let object = (o.articles + o.notes).randomElement(using: &rng)!
            if wrote({ try replicas[writers[0]].tag(object, "contested") }) { n += 1 }
            try exchangeAll()
            if wrote({ try replicas[writers[0]].untag(object, "contested") }) { n += 1 }
            // A second addition even where the tag shows (the `tag` command would answer "existing").
            for k in writers.dropFirst() { _ = try replicas[k].append(TagAdded(object: object, tag: "contested")); n += 1 }
        case 0 where !o.notes.isEmpty:
            let note = o.notes.randomElement(using: &rng)!
            for (j, k) in writers.enumerated() {
                let deleting = j > 0 && Int.random(in: 0..<4, using: &rng) == 0
                if wrote({ deleting ? try replicas[k].deleteNote(note) : try replicas[k].editNote(note, body: randomText(Int.random(in: 1...3, using: &rng))) }) { n += 1 }
            }
        case 1 where !liveFacts.isEmpty:
            let fact = liveFacts.randomElement(using: &rng)!
            let field: FactField = [.subject, .object].randomElement(using: &rng)!
            for (j, k) in writers.enumerated() {
                let retracting = j > 0 && Int.random(in: 0..<4, using: &rng) == 0
                if wrote({ retracting ? try replicas[k].retractFact(fact, reason: "burst") : try replicas[k].amendFact(fact, field: field, value: randomText(1)) }) { n += 1 }
            }
        case 2 where !liveFacts.isEmpty:
            let fact = liveFacts.randomElement(using: &rng)!
            for k in writers { if wrote({ try replicas[k].gradeFact(fact, credibility: Credibility(rawValue: String(Int.random(in: 1...3, using: &rng)))!, reason: nil) }) { n += 1 } }
        case 3 where !o.sources.isEmpty:
            let source = o.sources.randomElement(using: &rng)!
            for k in writers { if wrote({ try replicas[k].gradeSource(source, reliability: [.completelyReliable, .usuallyReliable, .fairlyReliable].randomElement(using: &rng)!, reason: nil) }) { n += 1 } }
        default: break
        }
        return n
    }

    /// A random multi-replica history built from `randomRichOperation`, with random pairwise syncs,
    /// occasional full exchanges followed by concurrent edits of shared objects, and concurrent
    /// resolutions. Returns the kinds written, counted.
    @discardableResult
    public func richHistory(steps: Int) throws -> [RichKind: Int] {
        var kinds: [RichKind: Int] = [:]
        let n = replicas.count
        for _ in 0..<steps {
            switch Int.random(in: 0..<20, using: &rng) {
            case 0..<4:
                let a = Int.random(in: 0..<n, using: &rng), b = Int.random(in: 0..<n, using: &rng)
                if a != b { try sync(a, b) }
            case 4:
                // Everyone sees everything, then every replica edits at once: concurrency on shared objects.
                for a in 0..<n { for b in 0..<n where a != b { try sync(a, b) } }
                for k in 0..<n { kinds[try randomRichOperation(on: k), default: 0] += 1 }
            case 5:
                let resolved = try concurrentResolutions()
                kinds[.concurrentResolution, default: 0] += resolved
            case 6:
                kinds[.conflictBurst, default: 0] += try conflictBurst()
            default:
                kinds[try randomRichOperation(on: Int.random(in: 0..<n, using: &rng)), default: 0] += 1
            }
        }
        return kinds
    }

    /// Brings every replica to the union of all events (pairwise syncs, twice round).
    public func exchangeAll() throws {
        let n = replicas.count
        for _ in 0..<2 { for a in 0..<n { for b in 0..<n where a != b { try sync(a, b) } } }
    }
}
