import Foundation
import GRDB
import GlossEngine
import GlossJSON
import GlossModel
import GlossTestSupport
import Testing

/// Revisions and re-anchoring across replicas: unchanged spans stay, moved spans are found at
/// their new place, reworded evidence needs review with a score, deleted spans are orphaned; the
/// same on every replica; decisions (confirm, retarget) sync and hold over later revisions.
@Suite(.timeLimit(.minutes(3))) struct AnchorTests {
    static let original = String(decoding: sampleArticleBytes(), as: UTF8.self).precomposedStringWithCanonicalMapping

    /// The sample article corrected: a note inserted near the top (everything after moves), a phrase
    /// reworded, a sentence deleted.
    static let revised = original
        .replacingOccurrences(of: "Reports in international media", with: "(Updated with the ministry's statement.)\n\nReports in international media")
        .replacingOccurrences(of: "inspecting the landfills", with: "inspecting the training grounds")
        .replacingOccurrences(of: "According to the military’s media wing, the Azeri officials and the COAS Gen. Bajwa discussed", with: "They discussed")

    static func anchors(_ r: Replica, _ article: String) throws -> [String: AnchorRecord] {
        Dictionary(uniqueKeysWithValues: try r.anchors(article: article).map { ($0.object, $0) })
    }

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    @Test func aRevisionReanchorsEveryAnnotationAndEvidenceIdenticallyEverywhere() throws {
        let sim = try Simulation(replicas: 2, seed: 11, label: "reanchor")
        let (a, b) = (sim.replicas[0], sim.replicas[1])
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let unchanged = try a.annotate(article: art, quote: "Zakir Hasanov", comment: "minister", tags: []).id
        let moved = try a.annotate(article: art, quote: "Elmar Mammadyarov", comment: nil, tags: []).id
        let reworded = try a.annotate(article: art, quote: "inspecting the landfills", comment: "why?", tags: []).id
        let deleted = try a.annotate(article: art, quote: "COAS Gen. Bajwa", comment: nil, tags: []).id
        var input = FactInput()
        input.article = art; input.subject = "Elmar Mammadyarov"; input.predicate = "met"; input.object = "Muhammad Asif"
        input.evidence = "held a meeting with Muhammad Asif"
        let fact = try a.addFact(input).id
        try sim.sync(0, 1)
        for r in [a, b] {
            #expect(try Self.anchors(r, art).values.allSatisfy { $0.status == "exact" }, "on their own revision every span is exact")
        }
        let file = sim.tmp.sub("revised.txt")
        try Data(Self.revised.utf8).write(to: file)
        let revision = try b.revise(article: art, file: file.path).id
        try sim.sync(1, 0)
        let newText = Self.scalars(Self.revised)
        for r in [a, b] {
            let anchors = try Self.anchors(r, art)
            #expect(anchors.count == 5)
            #expect(anchors[unchanged]?.status == "exact")
            #expect(anchors[moved]?.status == "moved")
            #expect(anchors[fact]?.status == "moved", "the fact's evidence follows the text too")
            // The moved span's new position holds the same text in the new revision.
            if let new = anchors[moved]?.anchored {
                let (s, e) = (new.start, new.end)
                #expect(String(String.UnicodeScalarView(newText[Int(s)..<Int(e)])) == "Elmar Mammadyarov")
                func offset(_ text: [Unicode.Scalar]) -> Int {
                    let q = Self.scalars("Elmar Mammadyarov")
                    return (0...(text.count - q.count)).first { Array(text[$0..<$0 + q.count]) == q }!
                }
                #expect(Int(s) == offset(newText) && offset(newText) > offset(Self.scalars(Self.original)), "it moved past the inserted note")
            } else { Issue.record("moved span has no new position") }
            let review = try #require(anchors[reworded])
            #expect(review.status == "needs-review")
            #expect(review.anchored == nil && review.candidate != nil, "needs-review is shown, not anchored")
            #expect(review.score >= 600 && review.score < 850)
            #expect(anchors[deleted]?.status == "orphaned")
            #expect(anchors.values.allSatisfy { $0.revision == revision })
        }
        #expect(try a.digest() == (try b.digest()))
        #expect(try a.digest(recompute: true) == (try a.digest()))

        // Decisions: a confirms the reworded span, b retargets the orphaned one; they sync.
        let confirmed = try a.confirmAnchor(reworded)
        let events = try a.status().events
        let again = try a.confirmAnchor(reworded)
        let eventsAfter = try a.status().events
        #expect(again.existing && !confirmed.existing && again.event == confirmed.event && eventsAfter == events,
                "a confirmed anchor is not confirmed again")
        _ = try b.retargetAnchor(deleted, quote: "They discussed", choice: QuoteChoice())
        do { _ = try a.confirmAnchor(deleted); Issue.record("an orphaned anchor was confirmed") } catch let e as GlossError { #expect(e.code == .refused) }
        try sim.sync(0, 1); try sim.sync(1, 0)
        for r in [a, b] {
            let anchors = try Self.anchors(r, art)
            #expect(anchors[reworded]?.status == "confirmed")
            #expect(anchors[deleted]?.status == "retargeted")
        }
        #expect(try a.digest() == (try b.digest()))

        // A further revision re-anchors from the decisions, not from the original spans.
        let third = sim.tmp.sub("third.txt")
        try Data(("Correction appended at the top.\n\n" + Self.revised).utf8).write(to: third)
        _ = try a.revise(article: art, file: third.path)
        try sim.sync(0, 1)
        for r in [a, b] {
            let anchors = try Self.anchors(r, art)
            #expect(anchors[reworded]?.status == "moved")
            #expect(anchors[deleted]?.status == "moved")
            #expect(anchors[unchanged]?.status == "moved")
        }
        #expect(try a.digest() == (try b.digest()))
        let rebuilt = try b.rebuild()
        #expect(rebuilt.digest == (try a.digest()), "replay gives the same anchors")
    }

    @Test func revisingRefusesTextHeldElsewhereAndRepeatsNothing() throws {
        let sim = try Simulation(replicas: 1, seed: 5, label: "revise-bad")
        let a = sim.replicas[0]
        let art = try a.ingest(bytes: sampleArticleBytes(), filename: "a.txt").id
        let other = try a.ingest(bytes: Array("2021-06-27 BAKU – another text\n".utf8), filename: "b.txt").id
        let same = sim.tmp.sub("same.txt"), otherFile = sim.tmp.sub("other.txt"), v2 = sim.tmp.sub("v2.txt")
        try Data(sampleArticleBytes()).write(to: same)
        try Data("2021-06-27 BAKU – another text\n".utf8).write(to: otherFile)
        try Data(Self.revised.utf8).write(to: v2)
        #expect(try a.revise(article: art, file: same.path).existing, "the current text again writes nothing")
        do { _ = try a.revise(article: art, file: otherFile.path); Issue.record("accepted another article's text") } catch let e as GlossError {
            #expect(e.code == .refused && e.message.contains(String(other.prefix(12))))
        }
        let first = try a.revise(article: art, file: v2.path)
        #expect(!first.existing)
        #expect(try a.revise(article: art, file: v2.path).existing)
        let row = try a.store.read { try Row.fetchOne($0, sql: "SELECT current_revision, revisions FROM articles WHERE article = ?", arguments: [art])! }
        #expect(row[0] as String == first.id && row[1] as Int == 2)
        // Annotating now selects in the current revision.
        let n = try a.annotate(article: art, quote: "training grounds", comment: nil, tags: [])
        let anchors = try a.anchors(article: art)
        #expect(anchors.first { $0.object == n.id }?.status == "exact")
    }
}
