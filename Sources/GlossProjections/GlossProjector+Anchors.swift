import Foundation
import GRDB
import GlossIngest
import GlossModel
import GlossStore

/// Anchors: where each annotation and each fact's evidence sits in its article's current revision
/// (Protocol/09-anchoring.md, Protocol/04-projections.md §Anchors).
///
/// The row is a function of the object's own selector, the decisions recorded on it, and the text
/// of the article's current revision — all functions of the set of events — computed by the
/// versioned `Anchoring.reanchor`. It is recomputed when the object or a decision arrives and when
/// the article's current revision changes.
extension GlossProjector {
    static let anchorSchema = """
        CREATE TABLE IF NOT EXISTS anchors(
            object_pos INTEGER PRIMARY KEY,
            object TEXT NOT NULL,
            object_kind TEXT NOT NULL,
            article TEXT NOT NULL,
            revision TEXT NOT NULL,
            base_revision TEXT NOT NULL,
            base_start INTEGER NOT NULL,
            base_end INTEGER NOT NULL,
            base_exact TEXT NOT NULL,
            status TEXT NOT NULL,
            score INTEGER NOT NULL,
            sel_start INTEGER,
            sel_end INTEGER,
            exact TEXT,
            prefix TEXT,
            suffix TEXT,
            candidate_start INTEGER,
            candidate_end INTEGER,
            candidate_exact TEXT,
            decision TEXT,
            anchoring_version INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS anchors_article ON anchors(\(ShortID.key("article")), status);
        CREATE TABLE IF NOT EXISTS anchor_decisions(
            event TEXT PRIMARY KEY NOT NULL,
            object TEXT NOT NULL,
            revision TEXT NOT NULL,
            decision TEXT NOT NULL,
            exact TEXT NOT NULL,
            prefix TEXT NOT NULL,
            suffix TEXT NOT NULL,
            sel_start INTEGER NOT NULL,
            sel_end INTEGER NOT NULL,
            author TEXT NOT NULL,
            time INTEGER NOT NULL,
            replica TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS anchor_decisions_object ON anchor_decisions(object, time);
        """

    /// Records a decision; returns why it is not understood, or nil.
    func applyAnchorDecision(_ p: AnchorDecided, _ e: AppliedEvent, _ c: Context, store: ReplicaStore, _ db: Database) throws -> String? {
        let known = try createdInCausalPast(p.object, table: "facts", key: "fact", of: e, store: store, db)
            || createdInCausalPast(p.object, table: "annotations", key: "annotation", of: e, store: store, db)
        guard known else {
            return "decides the anchor of \(p.object.prefix(12)), which is not an annotation or fact in its causal past"
        }
        let s = p.selector
        try db.run("""
            INSERT INTO anchor_decisions(event, object, revision, decision, exact, prefix, suffix, sel_start, sel_end, author, time, replica, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { b in b.add(c.id); b.add(p.object); b.add(p.revision); b.add(p.decision); b.add(s.exact); b.add(s.prefix); b.add(s.suffix); b.add(s.start); b.add(s.end); b.add(c.author); b.add(c.time); b.add(c.replica); b.add(c.at) }
        try anchor(p.object, db)
        return nil
    }

    /// Re-anchors the annotations and facts of an article whose current revision changed. An
    /// annotation whose anchor row is already computed in the current revision is left as it is: every
    /// other input of its row (its own selector, a decision) re-anchors it when it arrives. (A new
    /// article re-anchors its objects at commit, once per window; its annotations that arrived after
    /// it in the same window were each anchored twice, 3.7% of the peers' job.)
    func reanchor(article: String, _ db: Database) throws {
        // (Facts, rare beside annotations and stored by their 64-hex id, are re-anchored each time.)
        let objects = try String.fetchAll(db.cachedStatement(sql: """
            SELECT annotation FROM annotations a WHERE \(ShortID.equals("a.article", "?1"))
                AND NOT EXISTS (SELECT 1 FROM anchors n WHERE n.object_pos = a.annotation_pos
                                AND n.revision IS (SELECT current_revision FROM articles WHERE article = ?1) AND n.anchoring_version = ?2)
            UNION ALL SELECT fact FROM facts WHERE article = ?1
            """), arguments: [article, Anchoring.version])
        for o in objects { try anchor(o, db) }
    }

    /// An article's current revision and its text, prepared for anchoring. The revision is read each
    /// time (any event may change it); its text, named by its SHA-256, never changes, so the apply
    /// window keeps the prepared texts it read, across events and transactions (`ApplyWindow.texts`).
    private func currentRevision(of article: String, _ db: Database) throws -> (String, Anchoring.PreparedText)? {
        guard let sha = try db.first("SELECT current_revision FROM articles WHERE article = ?", { $0.add(article) }, { $0.text(0) }) else {
            return nil
        }
        let window = ApplyWindow.of(db)
        if let text = window?.texts[sha] { return (sha, text) }
        guard let text = try db.first("SELECT text FROM article_revisions WHERE sha256 = ?", { $0.add(sha) }, { Anchoring.PreparedText($0.text(0)) }) else {
            return nil
        }
        window?.texts.store(text, for: sha, cost: text.count)
        return (sha, text)
    }

    /// Computes one object's anchor row in its article's current revision.
    func anchor(_ object: String, _ db: Database) throws {
        // (revision, selector) of the object's own selector or of a decision; columns from `first`.
        func based(_ c: SQLColumns, _ first: Int32) -> (revision: String, selector: TextSelector) {
            (c.text(first), TextSelector(exact: c.text(first + 1), prefix: c.text(first + 2), suffix: c.text(first + 3),
                                         start: Int(c.int(first + 4)), end: Int(c.int(first + 5))))
        }
        guard let own = try db.first("""
            SELECT 'annotation', article, revision, exact, prefix, suffix, sel_start, sel_end, annotation_pos FROM annotations WHERE \(ObjectTables.atEvent("annotations", "?2"))
            UNION ALL SELECT 'fact', article, revision, exact, prefix, suffix, sel_start, sel_end, \(Registers.eventPos("?2")) FROM facts WHERE fact = ?1
            """, { $0.add(object); $0.add(Registers.idBytes(object)) }, { c in (kind: c.text(0), article: c.text(1), base: based(c, 2), pos: c.int(8)) }) else { return }
        let decision = try db.first("""
            SELECT event, decision, revision, exact, prefix, suffix, sel_start, sel_end FROM anchor_decisions
            WHERE object = ? ORDER BY time DESC, replica DESC LIMIT 1
            """, { $0.add(object) }, { c in (event: c.text(0), decision: c.text(1), base: based(c, 2)) })
        try anchor(object, at: own.pos, kind: own.kind, article: own.article, base: own.base, decision: decision, db)
    }

    /// Anchors an annotation or fact its event just created (`c`: its id and log position): its
    /// selector is the payload's, and no decision can name it yet (a decision's event has the
    /// object in its causal past).
    func anchorNew(_ c: Context, kind: String, article: String, revision: String, selector s: SpanSelector, _ db: Database) throws {
        let selector = TextSelector(exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end)
        try anchor(c.id, at: c.pos, kind: kind, article: article, base: (revision, selector), decision: nil, db)
    }

    /// Writes the anchor row of `object`, stored by `pos`, the log position of its creating event.
    private func anchor(_ object: String, at pos: Int64, kind: String, article: String, base own: (revision: String, selector: TextSelector),
                        decision: (event: String, decision: String, base: (revision: String, selector: TextSelector))?, _ db: Database) throws {
        guard let (revision, text) = try currentRevision(of: article, db) else {
            // The article has not arrived (its events are concurrent with this one): no anchor yet.
            try db.run("DELETE FROM anchors WHERE object_pos = ?") { b in b.add(pos) }
            return
        }
        let (baseRevision, baseSelector) = decision?.base ?? own
        var status: String, score: Int, selector: TextSelector?, candidate: TextSelector?
        // A decision on the current revision is shown as it was made, if its span is that text's;
        // a decision whose span is not (a hostile or damaged selector) is re-anchored like any other.
        if let decision, baseRevision == revision, text.matches(baseSelector) {
            status = decision.decision == "confirm" ? "confirmed" : "retargeted"
            score = 1000; selector = baseSelector
        } else {
            let r = Anchoring.reanchor(baseSelector, in: text)
            status = r.status.rawValue; score = r.score; selector = r.selector; candidate = r.candidate
        }
        try db.run("""
            INSERT OR REPLACE INTO anchors(object_pos, object, object_kind, article, revision, base_revision, base_start, base_end, base_exact, status, score,
                sel_start, sel_end, exact, prefix, suffix, candidate_start, candidate_end, candidate_exact, decision, anchoring_version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { b in b.add(pos); b.add(object); b.add(kind); b.add(article); b.add(revision); b.add(baseRevision); b.add(baseSelector.start); b.add(baseSelector.end); b.add(baseSelector.exact); b.add(status); b.add(score); b.add(selector?.start); b.add(selector?.end); b.add(selector?.exact); b.add(selector?.prefix); b.add(selector?.suffix); b.add(candidate?.start); b.add(candidate?.end); b.add(candidate?.exact); b.add(decision?.event); b.add(Anchoring.version) }
    }
}
