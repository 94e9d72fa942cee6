import Foundation
import GRDB
import GlossModel
import GlossStore

/// Facts, sources, grades and annotations (Protocol/04-projections.md §Facts).
///
/// A fact's statement is one multi-value register (field `record`, value the canonical
/// `FactRecord.text`): amendments of different fields merge line by line, amendments of the same
/// field and an amendment concurrent with a retraction (a delete) conflict. Grades are registers
/// too (`credibility` on a fact, `reliability` on a source), with every grading kept in `grades`.
extension GlossProjector {
    static let factViews = ["fact_view"]

    static let factSchema = """
        CREATE TABLE IF NOT EXISTS facts(
            fact TEXT PRIMARY KEY NOT NULL,
            article TEXT NOT NULL,
            revision TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL,
            subject TEXT NOT NULL,
            predicate TEXT NOT NULL,
            object TEXT NOT NULL,
            when_text TEXT,
            where_text TEXT,
            source TEXT,
            exact TEXT NOT NULL,
            prefix TEXT NOT NULL,
            suffix TEXT NOT NULL,
            sel_start INTEGER NOT NULL,
            sel_end INTEGER NOT NULL,
            from_candidate TEXT,
            record_event TEXT NOT NULL,
            record_time INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            retracted INTEGER NOT NULL DEFAULT 0,
            retract_reason TEXT,
            record_state TEXT NOT NULL DEFAULT 'single',
            credibility TEXT,
            credibility_state TEXT
        );
        CREATE INDEX IF NOT EXISTS facts_article ON facts(article);
        CREATE INDEX IF NOT EXISTS facts_source ON facts(source);
        CREATE TABLE IF NOT EXISTS fact_revisions(
            event TEXT PRIMARY KEY NOT NULL,
            fact TEXT NOT NULL,
            kind TEXT NOT NULL,
            field TEXT,
            record TEXT,
            reason TEXT,
            author TEXT NOT NULL,
            time INTEGER NOT NULL,
            replica TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS fact_revisions_fact ON fact_revisions(fact, time);
        CREATE TABLE IF NOT EXISTS sources(
            source TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            kind TEXT,
            event TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL,
            time INTEGER NOT NULL,
            replica TEXT NOT NULL,
            reliability TEXT,
            reliability_state TEXT
        );
        CREATE TABLE IF NOT EXISTS grades(
            event TEXT PRIMARY KEY NOT NULL,
            object TEXT NOT NULL,
            scale TEXT NOT NULL,
            grade TEXT NOT NULL,
            reason TEXT,
            kind TEXT NOT NULL,
            author TEXT NOT NULL,
            time INTEGER NOT NULL,
            replica TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS grades_object ON grades(object, scale, time);
        CREATE TABLE IF NOT EXISTS annotations(
            annotation_pos INTEGER PRIMARY KEY,
            annotation TEXT NOT NULL,
            article TEXT NOT NULL,
            revision TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL,
            time INTEGER NOT NULL,
            replica TEXT NOT NULL,
            exact TEXT NOT NULL,
            prefix TEXT NOT NULL,
            suffix TEXT NOT NULL,
            sel_start INTEGER NOT NULL,
            sel_end INTEGER NOT NULL,
            comment TEXT
        );
        CREATE INDEX IF NOT EXISTS annotations_id ON annotations(\(ShortID.key("annotation")));
        CREATE INDEX IF NOT EXISTS annotations_article ON annotations(\(ShortID.key("article")), sel_start);
        CREATE VIEW IF NOT EXISTS fact_view AS
            SELECT f.*, s.name AS source_name, s.reliability AS source_reliability,
                   CASE WHEN s.reliability IS NULL AND f.credibility IS NULL THEN NULL
                        ELSE coalesce(s.reliability, '?') || coalesce(f.credibility, '?') END AS grade,
                   (SELECT count(*) FROM links l WHERE l.to_id = f.fact AND l.relation = 'corroborates') AS corroborated_by,
                   (SELECT count(*) FROM links l WHERE l.to_id = f.fact AND l.relation = 'contradicts') AS contradicted_by
            FROM facts f LEFT JOIN sources s ON s.source = f.source;
        """

    /// Applies a fact, source, grade or annotation payload; returns why it is not understood, or nil.
    func applyFacts(_ payload: DecodedPayload, _ e: AppliedEvent, _ c: Context, store: ReplicaStore, _ db: Database) throws -> String? {
        switch payload {
        case .factAdded(let p):
            let r = p.record, s = p.evidence
            try db.run("""
                INSERT INTO facts(fact, article, revision, author, created_at, subject, predicate, object, when_text, where_text, source,
                    exact, prefix, suffix, sel_start, sel_end, from_candidate, record_event, record_time, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) { b in b.add(c.id); b.add(p.article); b.add(p.revision); b.add(c.author); b.add(c.at); b.add(r.subject); b.add(r.predicate); b.add(r.object); b.add(r.when); b.add(r.where); b.add(r.source); b.add(s.exact); b.add(s.prefix); b.add(s.suffix); b.add(s.start); b.add(s.end); b.add(p.fromCandidate); b.add(c.id); b.add(c.time); b.add(c.at) }
            try factRevision(fact: c.id, kind: "add", field: nil, record: r.text, reason: nil, c, db)
            try anchorNew(c, kind: "fact", article: p.article, revision: p.revision, selector: s, db)
            try factWrite(c.id, deleted: false, record: r.text, deferred: true, e, c, store: store, db)
        case .factAmended(let p):
            guard try createdInCausalPast(p.fact, table: "facts", key: "fact", of: e, store: store, db) else {
                return "amends fact \(p.fact.prefix(12)), which is not in its causal past"
            }
            try factRevision(fact: p.fact, kind: "amend", field: p.field, record: p.record.text, reason: nil, c, db)
            try factWrite(p.fact, deleted: false, record: p.record.text, deferred: true, e, c, store: store, db)
        case .factRetracted(let p):
            guard try createdInCausalPast(p.fact, table: "facts", key: "fact", of: e, store: store, db) else {
                return "retracts fact \(p.fact.prefix(12)), which is not in its causal past"
            }
            try factRevision(fact: p.fact, kind: "retract", field: nil, record: nil, reason: p.reason, c, db)
            try factWrite(p.fact, deleted: true, record: nil, deferred: true, e, c, store: store, db)
        case .factGraded(let p):
            guard try createdInCausalPast(p.fact, table: "facts", key: "fact", of: e, store: store, db) else {
                return "grades fact \(p.fact.prefix(12)), which is not in its causal past"
            }
            try grade(p.fact, scale: "credibility", p.credibility, reason: p.reason, kind: "grade", e, c, store: store, db)
        case .sourceAdded(let p):
            // The same name added on several replicas is one source; the earliest (time, replica) names it.
            try db.run("""
                INSERT INTO sources(source, name, kind, event, author, created_at, time, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(source) DO UPDATE SET name = excluded.name, kind = excluded.kind, event = excluded.event, author = excluded.author,
                    created_at = excluded.created_at, time = excluded.time, replica = excluded.replica
                WHERE excluded.time < sources.time OR (excluded.time = sources.time AND excluded.replica < sources.replica)
                """) { b in b.add(p.source); b.add(p.name); b.add(p.kind); b.add(c.id); b.add(c.author); b.add(c.at); b.add(c.time); b.add(c.replica) }
            // Gradings are kept whether or not the source has arrived (its id is derived from its
            // name, so a grading cannot prove it saw the addition); the row shows them either way.
            // (Gradings the run holds are shown when it ends, on this row.)
            if ApplyWindow.of(db)?.registers.contains(.init(object: p.source, field: "reliability")) != true {
                try showGrade(p.source, scale: "reliability", store: store, db)
            }
        case .sourceGraded(let p):
            try grade(p.source, scale: "reliability", p.reliability, reason: p.reason, kind: "grade", e, c, store: store, db)
        case .annotationAdded(let p):
            let s = p.target
            try db.run("""
                INSERT INTO annotations(annotation_pos, annotation, article, revision, author, created_at, time, replica, exact, prefix, suffix, sel_start, sel_end, comment)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) { b in b.add(c.pos); b.add(c.id); b.add(p.article); b.add(p.revision); b.add(c.author); b.add(c.at); b.add(c.time); b.add(c.replica); b.add(s.exact); b.add(s.prefix); b.add(s.suffix); b.add(s.start); b.add(s.end); b.add(p.comment) }
            try anchorNew(c, kind: "annotation", article: p.article, revision: p.revision, selector: s, db)
            try SearchIndex.markNew("annotations", rowid: c.pos, db)
        default:
            preconditionFailure("applyFacts called with \(payload)")
        }
        return nil
    }

    /// A `ConflictResolved` on a fact's record or credibility or a source's reliability; returns why
    /// it is not understood, or nil.
    func applyFactResolution(_ p: ConflictResolved, _ e: AppliedEvent, _ c: Context, store: ReplicaStore, _ db: Database) throws -> String? {
        switch p.field {
        case "record":
            guard try createdInCausalPast(p.object, table: "facts", key: "fact", of: e, store: store, db) else {
                return "resolves the record of \(p.object.prefix(12)), which is not a fact in its causal past"
            }
            if let v = p.value, (try? FactRecord(text: v)) == nil { return "resolution value is not a fact record" }
            try factRevision(fact: p.object, kind: "resolve", field: nil, record: p.value, reason: p.reason, c, db)
            try factWrite(p.object, deleted: p.deleted, record: p.value, deferred: false, e, c, store: store, db)
            try Registers(store: store).recordResolved(p, objectKind: "fact", resolution: c.id, time: c.time, db)
        case "credibility", "reliability":
            let onFact = p.field == "credibility"
            if onFact, try !createdInCausalPast(p.object, table: "facts", key: "fact", of: e, store: store, db) {
                return "resolves the credibility of \(p.object.prefix(12)), which is not a fact in its causal past"
            }
            guard let v = p.value, (onFact ? Admiralty.credibility : Admiralty.reliability)[v] != nil else {
                return "resolution value is not a \(p.field) grade"
            }
            try grade(p.object, scale: p.field, v, reason: p.reason, kind: "resolve", e, c, store: store, db)
            try Registers(store: store).recordResolved(p, objectKind: onFact ? "fact" : "source", resolution: c.id, time: c.time, db)
        default:
            return "resolves unknown field \(p.field)"
        }
        return nil
    }

    private func registerWrite(_ e: AppliedEvent, _ c: Context, deleted: Bool, value: String?) -> Registers.Write {
        Registers.Write(event: c.id, deleted: deleted, value: value, time: c.time, replica: c.replica, author: c.author, at: c.at,
                        feed: e.feed, seq: e.envelope.seq)
    }

    private func factRevision(fact: String, kind: String, field: String?, record: String?, reason: String?, _ c: Context, _ db: Database) throws {
        try db.run("""
            INSERT INTO fact_revisions(event, fact, kind, field, record, reason, author, time, replica, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { b in b.add(c.id); b.add(fact); b.add(kind); b.add(field); b.add(record); b.add(reason); b.add(c.author); b.add(c.time); b.add(c.replica); b.add(c.at) }
    }

    /// A write to a fact's record register; the facts row shows the displayed record (a retracted
    /// fact keeps showing its last record, the highest (time, replica) write with one).
    private func factWrite(_ fact: String, deleted: Bool, record: String?, deferred: Bool, _ e: AppliedEvent, _ c: Context,
                           store: ReplicaStore, _ db: Database) throws {
        try write(object: fact, field: "record", registerWrite(e, c, deleted: deleted, value: record), deferred: deferred, store: store, db)
    }

    /// A grading (or a resolution of concurrent gradings): kept in `grades`, written to the
    /// object's register, and the register's displayed grade shown on the fact or source.
    private func grade(_ object: String, scale: String, _ value: String, reason: String?, kind: String, _ e: AppliedEvent, _ c: Context,
                       store: ReplicaStore, _ db: Database) throws {
        try db.run("""
            INSERT INTO grades(event, object, scale, grade, reason, kind, author, time, replica, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { b in b.add(c.id); b.add(object); b.add(scale); b.add(value); b.add(reason); b.add(kind); b.add(c.author); b.add(c.time); b.add(c.replica); b.add(c.at) }
        try write(object: object, field: scale, registerWrite(e, c, deleted: false, value: value), deferred: kind != "resolve", store: store, db)
    }

    /// The object kind of a fact-record or grade register's conflicts.
    static func objectKind(field: String) -> String { field == "reliability" ? "source" : "fact" }

    /// Records a write to a fact-record or grade register and shows what the register displays.
    /// Deferred (any event but a resolution, which ends the run first): the heads stay in the
    /// connection's apply window, and the heads, conflicts and shown row are written when the run
    /// ends (`flushRun`).
    private func write(object: String, field: String, _ w: Registers.Write, deferred: Bool, store: ReplicaStore, _ db: Database) throws {
        let registers = Registers(store: store)
        guard deferred, let window = ApplyWindow.of(db) else {
            return try show(object, field: field, registers.write(object: object, objectKind: GlossProjector.objectKind(field: field), field: field, w, db), db)
        }
        try registers.record(object: object, field: field, w, db)
        // A fact's first record write (its FactAdded) has nothing before it.
        try window.registers.write(w, to: .init(object: object, field: field),
                                   stored: { k in w.event == k.object ? [] : try registers.heads(k.object, k.field, db) },
                                   happenedBefore: registers.happenedBefore(db), pastFeeds: { window.pastFeeds(feed: w.feed, seq: w.seq) })
        window.store = store
        window.runBytes += w.value?.utf8.count ?? 0
        if window.runIsFull { try flushRun(db) }
    }

    /// Shows what a fact-record or grade register displays on its facts or sources row.
    func show(_ object: String, field: String, _ shown: Registers.Displayed, _ db: Database) throws {
        guard field == "record" else { return try showGrade(object, scale: field, shown, db) }
        let text = try shown.value ?? String.fetchOne(db.cachedStatement(sql: """
            SELECT value FROM reg_writes WHERE object = ? AND field = 'record' AND deleted = 0 ORDER BY time DESC, replica DESC LIMIT 1
            """), arguments: [object])
        // Every stored value was checked, and a line merge of records keeps one line per field.
        guard let text, let r = try? FactRecord(text: text) else { return }
        try SearchIndex.markFact(object, db)
        try db.run("""
            UPDATE facts SET subject = ?, predicate = ?, object = ?, when_text = ?, where_text = ?, source = ?,
                record_event = ?, record_time = ?, updated_at = ?, retracted = ?, record_state = ?,
                retract_reason = (SELECT reason FROM fact_revisions WHERE event = ? AND kind = 'retract')
            WHERE fact = ?
            """) { b in b.add(r.subject); b.add(r.predicate); b.add(r.object); b.add(r.when); b.add(r.where); b.add(r.source); b.add(shown.winner.event); b.add(shown.winner.time); b.add(shown.winner.at); b.add(shown.deleted); b.add(shown.state.rawValue); b.add(shown.winner.event); b.add(object) }
    }

    /// Copies a grade register's displayed value onto the fact or source row (when it exists).
    private func showGrade(_ object: String, scale: String, store: ReplicaStore, _ db: Database) throws {
        let registers = Registers(store: store)
        let heads = try registers.heads(object, scale, db)
        guard !heads.isEmpty else { return }
        try showGrade(object, scale: scale, try registers.display(object: object, field: scale, heads: heads, db), db)
    }

    private func showGrade(_ object: String, scale: String, _ shown: Registers.Displayed, _ db: Database) throws {
        let sql = scale == "credibility"
            ? "UPDATE facts SET credibility = ?, credibility_state = ? WHERE fact = ?"
            : "UPDATE sources SET reliability = ?, reliability_state = ? WHERE source = ?"
        try db.run(sql) { b in b.add(shown.value); b.add(shown.state.rawValue); b.add(object) }
    }
}
