import Foundation
import GRDB
import GlossIngest
import GlossJSON
import GlossMerge
import GlossModel
import GlossStore

/// The read model: documented tables any SQLite tool can open (Protocol/04-projections.md).
///
/// Every rule here is a function of the set of events: where two events could set the same row,
/// the one with the highest `(time, replica)` wins, whatever order they arrive in.
public struct GlossProjector: Projector {
    public init() {}

    /// Bump whenever a table or a rule changes: opening a replica rebuilds its projections.
    public let version = 23

    /// The documented projection tables, in digest order, with their key (unique; the order
    /// `gloss digest --recompute` reads them in). Local log positions (`localColumns`) are not in the
    /// digest.
    public static let tables: [(name: String, key: String)] = [
        ("articles", "article"),
        ("article_revisions", "sha256"),
        ("notes", "note"),
        ("note_revisions", "event"),
        ("candidates", "candidate"),
        ("tags", "addition"),
        ("links", "addition"),
        ("facts", "fact"),
        ("fact_revisions", "event"),
        ("sources", "source"),
        ("grades", "event"),
        ("annotations", "annotation"),
        ("anchors", "object"),
        ("anchor_decisions", "event"),
        ("conflicts", "conflict"),
        ("conflict_candidates", "conflict, event"),
        ("frozen_feeds", "replica"),
        ("events_not_understood", "event"),
        ("redactions", "event"),
    ]

    /// Tables whose first columns hold local log positions (their storage key), by the number of
    /// such columns: not in the digest. Each is named `pos` or ends in `_pos` (`ProjectionDigest.isLocal`).
    static let localColumns: [String: Int] = ObjectTables.storedByPosition.mapValues { _ in 1 }.merging(["note_revisions": 2, "candidates": 1, "anchors": 1]) { _, b in b }

    /// The documented columns of `notes` and `annotations`, without their storage keys (what reads show).
    public static let noteColumns = ["note", "on_id", "author", "created_at", "body", "body_event", "body_time", "body_replica",
                                     "updated_at", "deleted", "body_state"]
    public static let annotationColumns = ["annotation", "article", "revision", "author", "created_at", "time", "replica", "exact", "prefix",
                                           "suffix", "sel_start", "sel_end", "comment"]

    public func prepareConnection(_ db: Database) {
        ProjectionDigest.prepare(db, tables: GlossProjector.tables.map { ($0.name, GlossProjector.localColumns[$0.name] ?? 0) })
        // Readers never mark the index; a read-only connection may refuse the temp table.
        try? db.execute(sql: SearchIndex.schema)
    }

    public func willCommit(_ db: Database) throws {
        try flushRun(db)
        try reanchorStaleArticles(db)
        try SearchIndex.flush(db)
        try ProjectionDigest.flush(db)
        ApplyWindow.of(db)?.reset()
    }

    public func didRollback(_ db: Database) {
        ProjectionDigest.discard(db)
        ApplyWindow.of(db)?.reset()
    }

    public func settle(_ db: Database) throws { try SearchIndex.settle(db) }
    public func needsSettle(_ db: Database) throws -> Bool { try SearchIndex.needsSettle(db) }
    public func maintain(_ db: Database) throws { try SearchIndex.merge(db) }

    /// The digest of the projections (maintained; instant).
    public func digest(_ db: Database) throws -> String {
        try ProjectionDigest.maintained(db, version: version, tables: GlossProjector.tables)
    }

    /// The digest recomputed from every row (slow; checks the maintained one).
    public func recomputedDigest(_ db: Database) throws -> String {
        try ProjectionDigest.recomputed(db, version: version, tables: GlossProjector.tables)
    }

    public func createSchema(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS articles(
                article TEXT PRIMARY KEY NOT NULL,
                first_event TEXT NOT NULL,
                ingested_by TEXT NOT NULL,
                ingested_at TEXT NOT NULL,
                first_time INTEGER NOT NULL,
                first_replica TEXT NOT NULL,
                date TEXT,
                dateline TEXT,
                places TEXT NOT NULL,
                current_revision TEXT NOT NULL,
                revisions INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS article_revisions(
                sha256 TEXT PRIMARY KEY NOT NULL,
                article TEXT NOT NULL,
                event TEXT NOT NULL,
                author TEXT NOT NULL,
                time INTEGER NOT NULL,
                replica TEXT NOT NULL,
                at TEXT NOT NULL,
                filename TEXT,
                date TEXT,
                dateline TEXT,
                places TEXT NOT NULL,
                text TEXT NOT NULL,
                kind TEXT NOT NULL,
                previous TEXT
            );
            CREATE INDEX IF NOT EXISTS article_revisions_article ON article_revisions(article, time);
            CREATE TABLE IF NOT EXISTS notes(
                note_pos INTEGER PRIMARY KEY,
                note TEXT NOT NULL,
                on_id TEXT NOT NULL,
                author TEXT NOT NULL,
                created_at TEXT NOT NULL,
                body TEXT NOT NULL,
                body_event TEXT NOT NULL,
                body_time INTEGER NOT NULL,
                body_replica TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0,
                body_state TEXT NOT NULL DEFAULT 'single'
            );
            CREATE INDEX IF NOT EXISTS notes_id ON notes(\(ShortID.key("note")));
            CREATE INDEX IF NOT EXISTS notes_on ON notes(\(ShortID.key("on_id")));
            CREATE TABLE IF NOT EXISTS note_revisions(
                pos INTEGER PRIMARY KEY,
                note_pos INTEGER NOT NULL,
                event TEXT NOT NULL,
                note TEXT NOT NULL,
                kind TEXT NOT NULL,
                author TEXT NOT NULL,
                time INTEGER NOT NULL,
                replica TEXT NOT NULL,
                at TEXT NOT NULL,
                body TEXT
            );
            CREATE INDEX IF NOT EXISTS note_revisions_note ON note_revisions(note_pos, time);
            CREATE TABLE IF NOT EXISTS redactions(
                event TEXT PRIMARY KEY NOT NULL,
                redaction TEXT NOT NULL,
                author TEXT NOT NULL,
                at TEXT NOT NULL,
                reason TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS events_not_understood(
                event TEXT PRIMARY KEY NOT NULL,
                type TEXT NOT NULL,
                schema INTEGER NOT NULL,
                author TEXT NOT NULL,
                time INTEGER NOT NULL,
                reason TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS candidates(
                extraction_pos INTEGER NOT NULL,
                candidate TEXT NOT NULL,
                article TEXT NOT NULL,
                revision TEXT NOT NULL,
                rules_version INTEGER NOT NULL,
                ordinal INTEGER NOT NULL,
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                precision TEXT,
                rule TEXT NOT NULL,
                exact TEXT NOT NULL,
                prefix TEXT NOT NULL,
                suffix TEXT NOT NULL,
                sel_start INTEGER NOT NULL,
                sel_end INTEGER NOT NULL,
                speaker TEXT,
                role TEXT,
                said_on TEXT,
                affiliation TEXT,
                event TEXT NOT NULL,
                PRIMARY KEY(extraction_pos, ordinal)
            );
            CREATE INDEX IF NOT EXISTS candidates_id ON candidates(\(ShortID.key("candidate")));
            CREATE INDEX IF NOT EXISTS candidates_revision ON candidates(\(ShortID.key("revision")), rules_version) WHERE ordinal = 0;
            CREATE TABLE IF NOT EXISTS tags(
                addition TEXT PRIMARY KEY NOT NULL,
                object TEXT NOT NULL,
                tag TEXT NOT NULL,
                author TEXT NOT NULL,
                time INTEGER NOT NULL,
                at TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS tags_object ON tags(object, tag);
            CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
            CREATE TABLE IF NOT EXISTS links(
                addition TEXT PRIMARY KEY NOT NULL,
                from_id TEXT NOT NULL,
                relation TEXT NOT NULL,
                to_id TEXT NOT NULL,
                author TEXT NOT NULL,
                time INTEGER NOT NULL,
                at TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS links_from ON links(from_id, relation, to_id);
            CREATE INDEX IF NOT EXISTS links_to ON links(to_id);
            CREATE VIEW IF NOT EXISTS object_tags AS
                SELECT object, tag, count(*) AS additions, min(at) AS first_at FROM tags GROUP BY object, tag;
            CREATE TABLE IF NOT EXISTS conflicts(
                conflict TEXT PRIMARY KEY NOT NULL,
                object TEXT NOT NULL,
                object_kind TEXT NOT NULL,
                field TEXT NOT NULL,
                state TEXT NOT NULL,
                opened_time INTEGER NOT NULL,
                resolution_event TEXT,
                candidates INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS conflicts_object ON conflicts(object, field, state);
            CREATE TABLE IF NOT EXISTS conflict_candidates(
                conflict TEXT NOT NULL,
                event TEXT NOT NULL,
                author TEXT NOT NULL,
                time INTEGER NOT NULL,
                at TEXT NOT NULL,
                value TEXT,
                PRIMARY KEY(conflict, event)
            );
            CREATE TABLE IF NOT EXISTS frozen_feeds(
                replica TEXT PRIMARY KEY NOT NULL,
                fork_seq INTEGER NOT NULL
            );
            \(GlossProjector.factSchema)
            \(GlossProjector.anchorSchema)
            \(Registers.schema)
            \(SearchIndex.tableSQL)
            CREATE VIEW IF NOT EXISTS objects(id, kind, event) AS
                \(ObjectTables.viewSQL);
            CREATE VIEW IF NOT EXISTS live_notes AS
                SELECT \(GlossProjector.noteColumns.map { "n.\($0)" }.joined(separator: ", ")), \(ObjectTables.kindSQL(of: "n.on_id")) AS on_kind
                FROM notes n WHERE n.deleted = 0;
            CREATE VIEW IF NOT EXISTS article_notes AS
                SELECT a.article, a.date, a.dateline, n.note, n.author, n.created_at, n.updated_at, n.body
                FROM articles a JOIN notes n ON \(ShortID.equals("n.on_id", "a.article")) WHERE n.deleted = 0;
            CREATE VIEW IF NOT EXISTS event_log AS
                SELECT e.pos, lower(hex(e.id)) AS id, lower(hex(f.replica)) AS replica, e.seq, e.time, e.type, e.author,
                       length(e.envelope) AS envelope_bytes, length(e.payload) AS payload_bytes
                FROM events e JOIN feeds f ON f.feed = e.feed;
            """)
        try db.execute(sql: ProjectionDigest.tableSQL)
        // Feeds frozen at a fork are part of what every replica that saw both branches agrees on.
        try db.execute(sql: """
            INSERT OR REPLACE INTO frozen_feeds(replica, fork_seq) SELECT lower(hex(replica)), fork_seq FROM feeds WHERE fork_seq IS NOT NULL
            """)
    }

    public func dropSchema(_ db: Database) throws {
        // (`objects` was a table before version 10: drop each name as what it is.)
        for name in ["objects", "live_notes", "article_notes", "event_log", "object_tags"] + GlossProjector.factViews + GlossProjector.tables.map(\.name) {
            guard let type = try String.fetchOne(db, sql: "SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", arguments: [name]) else { continue }
            try db.execute(sql: "DROP \(type == "view" ? "VIEW" : "TABLE") \(name)")
        }
        try db.execute(sql: "DROP TABLE IF EXISTS search; DROP TABLE IF EXISTS projection_digest; DROP TABLE IF EXISTS reg_writes; DROP TABLE IF EXISTS reg_heads")
        try db.execute(sql: "DELETE FROM temp.search_dirty")
        ProjectionDigest.discard(db)
        ApplyWindow.of(db)?.reset()
    }

    public func apply(_ e: AppliedEvent, store: ReplicaStore, _ db: Database) throws {
        let env = e.envelope
        let ctx = Context(id: env.id.hex, author: env.author, time: Int64(bitPattern: env.time.raw),
                          replica: env.replica.hex, at: env.time.rfc3339, pos: e.pos)
        let payload = e.decodedPayload
        ApplyWindow.of(db)?.applied(feed: e.feed, seq: env.seq, depFeeds: e.depFeeds)
        // What a run of note events keeps in memory (ApplyWindow: note-body registers, and so the
        // `notes` rows' display, `reg_heads` and open conflicts of notes) is read or written only by
        // note events and resolutions; a redaction rebuilds. Those two end the run first and are
        // applied row by row; every other event leaves the run open.
        let inRun = switch payload {
        case .conflictResolved, .payloadRedacted: false
        default: true
        }
        if !inRun { try flushRun(db) }
        defer { if !inRun { ApplyWindow.of(db)?.clearRun() } }
        switch payload {
        case .articleIngested(let p):
            // Candidates are checked before anything is written: an event with a malformed one is
            // not understood, and leaves no article behind.
            guard let candidates = p.rulesVersion == nil ? [] : GlossProjector.parseCandidates(p.candidates) else {
                return try notUnderstood(env, ctx, "an extraction candidate is malformed", db)
            }
            try applyArticle(p, ctx, db)
            if let v = p.rulesVersion {
                try insertCandidates(article: p.article, revision: p.sha256, rulesVersion: v, candidates, ctx, db)
            }
        case .articleRevised(let p):
            guard let candidates = p.rulesVersion == nil ? [] : GlossProjector.parseCandidates(p.candidates) else {
                return try notUnderstood(env, ctx, "an extraction candidate is malformed", db)
            }
            if let v = p.rulesVersion {
                try insertCandidates(article: p.article, revision: p.sha256, rulesVersion: v, candidates, ctx, db)
            }
            try applyRevision(article: p.article, sha: p.sha256, text: p.text, date: p.date, dateline: p.dateline, places: p.places,
                              filename: p.filename, kind: "revision", previous: p.previous, ctx, db)
        case .noteAdded(let p):
            // The target is not checked here: whether it is in the event's causal past could
            // differ by the ingest a replica saw first. The CLI checks it before writing.
            try db.run("""
                INSERT INTO notes(note_pos, note, on_id, author, created_at, body, body_event, body_time, body_replica, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) { b in
                b.add(ctx.pos); b.add(ctx.id); b.add(p.on); b.add(ctx.author); b.add(ctx.at); b.add(p.body)
                b.add(ctx.id); b.add(ctx.time); b.add(ctx.replica); b.add(ctx.at)
            }
            try SearchIndex.markNew("notes", rowid: ctx.pos, db)
            ApplyWindow.of(db)?.remember("notes", env.id.raw, ApplyWindow.Origin(feed: e.feed, seq: env.seq, pos: e.pos))
            try revision(note: ctx.id, at: e.pos, kind: "add", body: p.body, ctx, db)
            try noteWrite(ctx.id, at: e.pos, deleted: false, value: p.body, deferred: true, e, ctx, store: store, db)
        case .noteEdited(let p):
            guard let at = try noteInCausalPast(p.note, of: e, store: store, db) else {
                return try notUnderstood(env, ctx, "edits note \(p.note.prefix(12)), which is not in its causal past", db)
            }
            try revision(note: p.note, at: at, kind: "edit", body: p.body, ctx, db)
            try noteWrite(p.note, at: at, deleted: false, value: p.body, deferred: true, e, ctx, store: store, db)
        case .noteDeleted(let p):
            guard let at = try noteInCausalPast(p.note, of: e, store: store, db) else {
                return try notUnderstood(env, ctx, "deletes note \(p.note.prefix(12)), which is not in its causal past", db)
            }
            try revision(note: p.note, at: at, kind: "delete", body: nil, ctx, db)
            try noteWrite(p.note, at: at, deleted: true, value: nil, deferred: true, e, ctx, store: store, db)
        case .conflictResolved(let p):
            guard try allInCausalPast(p.candidates, of: e, store: store, db) else {
                return try notUnderstood(env, ctx, "resolution names a candidate that is not in its causal past", db)
            }
            // The field names the kind of object (fields are unique across kinds), so the verdict
            // never depends on which objects have arrived.
            if p.field == "body" {
                guard let at = try noteInCausalPast(p.object, of: e, store: store, db) else {
                    return try notUnderstood(env, ctx, "resolves the body of \(p.object.prefix(12)), which is not a note in its causal past", db)
                }
                try revision(note: p.object, at: at, kind: "resolve", body: p.value, ctx, db)
                try noteWrite(p.object, at: at, deleted: p.deleted, value: p.value, deferred: false, e, ctx, store: store, db)
                try Registers(store: store).recordResolved(p, objectKind: "note", resolution: ctx.id, time: ctx.time, db)
            } else if let reason = try applyFactResolution(p, e, ctx, store: store, db) {
                return try notUnderstood(env, ctx, reason, db)
            }
        case .candidatesExtracted(let p):
            guard let candidates = GlossProjector.parseCandidates(p.candidates) else {
                return try notUnderstood(env, ctx, "a candidate is malformed", db)
            }
            try insertCandidates(article: p.article, revision: p.revision, rulesVersion: p.rulesVersion, candidates, ctx, db)
        case .tagAdded(let p):
            try db.run("INSERT OR IGNORE INTO tags(addition, object, tag, author, time, at) VALUES (?, ?, ?, ?, ?, ?)") { b in b.add(ctx.id); b.add(p.object); b.add(p.tag); b.add(ctx.author); b.add(ctx.time); b.add(ctx.at) }
        case .tagRemoved(let p):
            // Add-wins: only the additions the remover saw go; a concurrent addition stays.
            guard try allInCausalPast(p.additions, of: e, store: store, db) else {
                return try notUnderstood(env, ctx, "removes tag additions that are not in its causal past", db)
            }
            for a in p.additions {
                try db.run("DELETE FROM tags WHERE addition = ? AND object = ? AND tag = ?") { b in b.add(a); b.add(p.object); b.add(p.tag) }
            }
        case .linkAdded(let p):
            try db.run("INSERT OR IGNORE INTO links(addition, from_id, relation, to_id, author, time, at) VALUES (?, ?, ?, ?, ?, ?, ?)") { b in b.add(ctx.id); b.add(p.from); b.add(p.relation); b.add(p.to); b.add(ctx.author); b.add(ctx.time); b.add(ctx.at) }
        case .linkRemoved(let p):
            guard try allInCausalPast(p.additions, of: e, store: store, db) else {
                return try notUnderstood(env, ctx, "removes link additions that are not in its causal past", db)
            }
            for a in p.additions { try db.run("DELETE FROM links WHERE addition = ?") { b in b.add(a) } }
        case .anchorDecided(let p):
            if let reason = try applyAnchorDecision(p, e, ctx, store: store, db) { try notUnderstood(env, ctx, reason, db) }
        case .factAdded, .factAmended, .factRetracted, .sourceAdded, .sourceGraded, .factGraded, .annotationAdded:
            if let reason = try applyFacts(payload, e, ctx, store: store, db) { try notUnderstood(env, ctx, reason, db) }
        case .payloadRedacted(let p):
            // The purge itself is the store's (`ReplicaStore.applyRedaction`), followed by a rebuild.
            // Concurrent redactions of one event: the earliest (`at`, then `redaction`) is shown,
            // whatever the arrival order (the first to arrive was, so replicas differed).
            try db.run("""
                INSERT INTO redactions(event, redaction, author, at, reason) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(event) DO UPDATE SET redaction = excluded.redaction, author = excluded.author, at = excluded.at, reason = excluded.reason
                WHERE excluded.at < redactions.at OR (excluded.at = redactions.at AND excluded.redaction < redactions.redaction)
                """) { b in b.add(p.event); b.add(ctx.id); b.add(ctx.author); b.add(ctx.at); b.add(p.reason) }
        case .teamCreated, .memberAdded, .deviceEnrolled, .roleChanged, .keyRevoked, .memberRemoved:
            // The roster is the store's (`roster_events`, judged in the apply path); no read-model rows.
            break
        case .notUnderstood(let reason):
            try notUnderstood(env, ctx, reason, db)
        }
    }

    /// The applying event: id, author, time, replica and RFC 3339 time as the rows show them, and its
    /// local log position (`events.pos`).
    struct Context { var id: String; var author: String; var time: Int64; var replica: String; var at: String; var pos: Int64 }

    /// An extraction's candidates, nil when one is malformed.
    static func parseCandidates(_ raw: [CBOR]) -> [Candidate]? {
        var parsed: [Candidate] = []
        parsed.reserveCapacity(raw.count)
        for c in raw {
            guard let cand = try? Candidate(cbor: c) else { return nil }
            parsed.append(cand)
        }
        return parsed
    }

    /// Candidate rows from an extraction (at ingest or re-run). The same text extracted by several
    /// replicas with the same rules gives the same rows. Of several extractions of one revision by
    /// one rules version that found something, the rows are the whole extraction of the smallest
    /// event id — and the article it names (one text can be ingested as two articles concurrently) —
    /// whatever the arrival order, even when the extractions differ (never a mix of two). An
    /// extraction that found nothing writes nothing (it leaves no row to compare with later).
    private func insertCandidates(article: String, revision: String, rulesVersion: Int64, _ parsed: [Candidate], _ ctx: Context, _ db: Database) throws {
        guard !parsed.isEmpty else { return }
        // One extraction's rows at a time, stored by its event's position: (revision, rules_version,
        // ordinal) is unique by this delete-then-insert. An extraction is found by its first row
        // (`candidates_revision` indexes the rows of ordinal 0 only, by the revision's first eight
        // digits), its rows by that row's `extraction_pos`.
        if let held = try db.first("""
            SELECT event, extraction_pos FROM candidates WHERE \(ShortID.equals("revision", "?1")) AND rules_version = ?2 AND ordinal = 0
            """, { $0.add(revision); $0.add(rulesVersion) }, { (event: $0.text(0), pos: $0.int(1)) }) {
            guard ctx.id < held.event else { return }
            try db.run("DELETE FROM candidates WHERE extraction_pos = ?") { b in b.add(held.pos) }
        }
        // A candidate's id: SHA-256 of "gloss/candidate\0REVISION\0RULES\0ORDINAL" (Protocol/04 §Tables).
        let idPrefix = Array("gloss/candidate\0\(revision)\0\(rulesVersion)\0".utf8)
        for (i, c) in parsed.enumerated() {
            let id = Bytes32.sha256(idPrefix + String(i).utf8).hex
            try db.run("""
                INSERT INTO candidates(extraction_pos, candidate, article, revision, rules_version, ordinal, kind, value, precision, rule,
                    exact, prefix, suffix, sel_start, sel_end, speaker, role, said_on, affiliation, event)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) { b in
                b.add(ctx.pos); b.add(id); b.add(article); b.add(revision); b.add(rulesVersion); b.add(i); b.add(c.kind); b.add(c.value)
                b.add(c.precision); b.add(c.rule); b.add(c.selector.exact); b.add(c.selector.prefix); b.add(c.selector.suffix)
                b.add(c.selector.start); b.add(c.selector.end); b.add(c.speaker); b.add(c.role); b.add(c.saidOn)
                b.add(c.affiliation); b.add(ctx.id)
            }
        }
    }

    private func applyArticle(_ p: ArticleIngested, _ c: Context, _ db: Database) throws {
        let places = GlossProjector.placesJSON(p.places)
        // A new articles row counts the revisions stored for it before it existed (a revision can
        // arrive before any ingest of its article); from then on each new revision adds one.
        let held = try db.first("SELECT 1 FROM articles WHERE article = ?", { $0.add(p.article) }) { _ in true } ?? false
        try db.run("""
            INSERT INTO articles(article, first_event, ingested_by, ingested_at, first_time, first_replica, date, dateline, places, current_revision, revisions)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \(held ? "0" : "(SELECT count(*) FROM article_revisions WHERE article = ?1)"))
            ON CONFLICT(article) DO UPDATE SET first_event = excluded.first_event, ingested_by = excluded.ingested_by,
                ingested_at = excluded.ingested_at, first_time = excluded.first_time, first_replica = excluded.first_replica,
                date = excluded.date, dateline = excluded.dateline, places = excluded.places
            WHERE excluded.first_time < articles.first_time OR (excluded.first_time = articles.first_time AND excluded.first_replica < articles.first_replica)
            """) { b in b.add(p.article); b.add(c.id); b.add(c.author); b.add(c.at); b.add(c.time); b.add(c.replica); b.add(p.date); b.add(p.dateline); b.add(places); b.add(p.sha256) }
        try applyRevision(article: p.article, sha: p.sha256, text: p.text, date: p.date, dateline: p.dateline, places: p.places,
                          filename: p.filename, kind: "ingest", previous: nil, c, db)
        // Annotations and facts that arrived before their article (concurrent with its ingest) are
        // anchored now that it has a current revision, as they are when they arrive after it.
        if !held { try reanchorSoon(p.article, db) }
    }

    /// The `places` column's bytes (Protocol/04 §Tables): a compact JSON array written by the
    /// project's one JSON writer, so that every platform stores, and digests, the same bytes.
    static func placesJSON(_ places: [String]) -> String {
        JSON.array(places.map(JSON.string)).compact(escaping: .minimal)
    }

    /// One revision's row (an ingest's text or a later revision): the same text from several events
    /// is one revision, named by its earliest `(time, replica)` event (which also decides its
    /// article). Then the articles it touches show their newest revision.
    func applyRevision(article: String, sha: String, text: String, date: String?, dateline: String?, places: [String], filename: String?,
                       kind: String, previous: String?, _ c: Context, _ db: Database) throws {
        let placesJSON = GlossProjector.placesJSON(places)
        let before = try String.fetchOne(db.cachedStatement(sql: "SELECT article FROM article_revisions WHERE sha256 = ?"), arguments: [sha])
        try db.run("""
            INSERT INTO article_revisions(sha256, article, event, author, time, replica, at, filename, date, dateline, places, text, kind, previous)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(sha256) DO UPDATE SET article = excluded.article, event = excluded.event, author = excluded.author, time = excluded.time,
                replica = excluded.replica, at = excluded.at, filename = excluded.filename, date = excluded.date, dateline = excluded.dateline,
                places = excluded.places, kind = excluded.kind, previous = excluded.previous
            WHERE excluded.time < article_revisions.time OR (excluded.time = article_revisions.time AND excluded.replica < article_revisions.replica)
            """) { b in b.add(sha); b.add(article); b.add(c.id); b.add(c.author); b.add(c.time); b.add(c.replica); b.add(c.at); b.add(filename); b.add(date); b.add(dateline); b.add(placesJSON); b.add(text); b.add(kind); b.add(previous) }
        // A new revision's row (the upsert inserted it) is marked by its rowid: nothing to read back.
        if before == nil { try SearchIndex.markNew("article_revisions", rowid: db.lastInsertedRowID, db) }
        // The revision's article (its earliest event's): one more revision there, one less where it was.
        let now = try String.fetchOne(db.cachedStatement(sql: "SELECT article FROM article_revisions WHERE sha256 = ?"), arguments: [sha])
        if now != before {
            if let before { try countRevisions(before, -1, db) }
            if let now { try countRevisions(now, 1, db) }
        }
        for a in Set([article] + (before.map { [$0] } ?? [])) { try refreshArticle(a, db) }
    }

    /// `articles.revisions` is the number of its `article_revisions` rows, kept by difference: a
    /// recount per revision cost O(R) index entries each (R revisions of one article: O(R²)).
    private func countRevisions(_ article: String, _ delta: Int, _ db: Database) throws {
        try db.run("UPDATE articles SET revisions = revisions + ? WHERE article = ?") { b in b.add(delta); b.add(article) }
    }

    /// Re-anchors the articles whose current revision changed in this transaction.
    func reanchorStaleArticles(_ db: Database) throws {
        guard let window = ApplyWindow.of(db), !window.staleArticles.isEmpty else { return }
        for article in window.staleArticles.sorted() { try reanchor(article: article, db) }
        window.staleArticles.removeAll()
    }

    /// Shows an article's newest revision (highest `(time, replica)`); re-anchors its annotations
    /// and evidence when the current revision changes (before commit, once per article: many
    /// revisions of one article in a window re-anchor its objects once).
    func refreshArticle(_ article: String, _ db: Database) throws {
        guard let current = try String.fetchOne(db.cachedStatement(sql: "SELECT current_revision FROM articles WHERE article = ?"), arguments: [article]) else { return }
        try db.run("""
            UPDATE articles SET current_revision = coalesce((SELECT sha256 FROM article_revisions WHERE article = ?1 ORDER BY time DESC, replica DESC LIMIT 1), current_revision)
            WHERE article = ?1
            """) { b in b.add(article) }
        let now = try String.fetchOne(db.cachedStatement(sql: "SELECT current_revision FROM articles WHERE article = ?"), arguments: [article])
        guard now != current else { return }
        try reanchorSoon(article, db)
    }

    /// Re-anchors an article's objects before commit (once per article per window), or at once
    /// outside an apply window.
    private func reanchorSoon(_ article: String, _ db: Database) throws {
        if let window = ApplyWindow.of(db) { window.staleArticles.insert(article) } else { try reanchor(article: article, db) }
    }

    /// A write to a note's body register; the notes row shows the register's displayed value.
    /// Deferred (a note event): the heads stay in the connection's apply window and the rows are
    /// written when the run ends (`flushRun`).
    /// `notePos`: the log position of the note's `NoteAdded` (its `notes` row).
    private func noteWrite(_ note: String, at notePos: Int64, deleted: Bool, value: String?, deferred: Bool, _ e: AppliedEvent, _ c: Context,
                           store: ReplicaStore, _ db: Database) throws {
        let w = Registers.Write(event: c.id, deleted: deleted, value: value, time: c.time, replica: c.replica, author: c.author, at: c.at,
                                feed: e.feed, seq: e.envelope.seq)
        let registers = Registers(store: store)
        guard deferred, let window = ApplyWindow.of(db) else {
            return try showNote(note, at: notePos, try registers.write(object: note, objectKind: "note", field: "body", w, db), db)
        }
        // (The write itself is the note_revisions row the caller inserted: nothing to record.)
        // A note's first write (its NoteAdded) has nothing before it: every other write has the note in its causal past.
        try window.notes.write(w, to: ApplyWindow.NoteKey(id: note, pos: notePos), stored: { w.event == $0.id ? [] : try registers.heads($0.id, "body", notePos: $0.pos, db) },
                               happenedBefore: registers.happenedBefore(db), pastFeeds: { window.pastFeeds(feed: w.feed, seq: w.seq) })
        window.store = store
        window.runBytes += value?.utf8.count ?? 0
        if window.runIsFull { try flushRun(db) }
    }

    /// Writes the heads, open conflicts and shown rows (notes, facts, sources) of the registers a
    /// run of events wrote (once per register, whatever the number of writes), and ends the run.
    func flushRun(_ db: Database) throws {
        guard let window = ApplyWindow.of(db) else { return }
        defer { window.clearRun() }
        guard !window.notes.isEmpty || !window.registers.isEmpty else { return }
        guard let store = window.store else { throw StoreError(.corrupt, "a run of events lost its store before it was written; nothing was committed") }
        let registers = Registers(store: store)
        for r in window.notes.changes {
            try showNote(r.key.id, at: r.key.pos, try registers.setHeads(object: r.key.id, objectKind: "note", field: "body", heads: r.heads, replacing: r.stored, db), db)
        }
        for r in window.registers.changes {
            let shown = try registers.setHeads(object: r.key.object, objectKind: GlossProjector.objectKind(field: r.key.field), field: r.key.field,
                                               heads: r.heads, replacing: r.stored, db)
            try show(r.key.object, field: r.key.field, shown, db)
        }
    }

    /// Shows what a note's body register displays on its `notes` row (at `notePos`, the log
    /// position of its `NoteAdded`: the row is read and written by its key, not found by id).
    private func showNote(_ note: String, at notePos: Int64, _ shown: Registers.Displayed, _ db: Database) throws {
        // A note just added shows its own body, as inserted: nothing to update (its index row was
        // marked as it was inserted, by position: a mark here looked the note up by id and read
        // its text back, for each of the 54,600 notes of the 100,000-event history).
        if shown.state == .single, shown.winner.event == note, !shown.deleted {
            return
        }
        // One shown write and no merge: the row holds that write's text. When it already shows it
        // in that state, nothing on it changes — no rewrite, no re-indexing (a 1 MB body staying
        // the winner cost each small concurrent edit both).
        if shown.state != .merged, !shown.deleted,
           let row = try db.first("SELECT body_event, body_state, deleted FROM notes WHERE note_pos = ?",
                                  { $0.add(notePos) }, { ($0.text(0), $0.text(1), $0.bool(2)) }),
           row == (shown.winner.event, shown.state.rawValue, false) {
            return
        }
        // A deleted note keeps showing its last text (the highest (time, replica) write with one),
        // so the row does not depend on arrival order.
        let body = try shown.value ?? db.first("""
            SELECT body FROM note_revisions WHERE note_pos = ? AND body IS NOT NULL
            ORDER BY time DESC, replica DESC LIMIT 1
            """, { $0.add(notePos) }, { $0.text(0) })
        try SearchIndex.markNote(at: notePos, db)
        try db.run("""
            UPDATE notes SET body = coalesce(?1, body), body_event = ?2, body_time = ?3, body_replica = ?4, updated_at = ?5, deleted = ?6, body_state = ?7
            WHERE note_pos = ?8
            """) { b in b.add(body); b.add(shown.winner.event); b.add(shown.winner.time); b.add(shown.winner.replica); b.add(shown.winner.at); b.add(shown.deleted); b.add(shown.state.rawValue); b.add(notePos) }
    }

    /// True when every listed event exists and happened before `e`.
    func allInCausalPast(_ ids: [String], of e: AppliedEvent, store: ReplicaStore, _ db: Database) throws -> Bool {
        for id in ids {
            guard let b = Hex.decode(id), let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT feed, seq FROM events WHERE \(ShortID.equals("id", "?1"))"), arguments: [Data(b)]),
                  try happenedBefore(feedA: row[0], seqA: UInt64(row[1] as Int64), e, store: store, db) else { return false }
        }
        return true
    }

    /// A note's revision row, at its event's log position. (A row already there belongs to an event
    /// a fork removed from the log earlier in this transaction — the log reuses its position — and the
    /// store rebuilds the projections before committing such a transaction: it is replaced.)
    /// `notePos`: the log position of the note's `NoteAdded`.
    ///
    /// An upsert, not `INSERT OR REPLACE`: a REPLACE on an integer primary key of a table with an
    /// index may delete a row, so SQLite gave every such statement a statement journal — written to a
    /// temporary file for the rest of the transaction once any statement's journal passed 64 KiB
    /// (a rebuild's first `DROP TABLE` does): ~10 KB of writes per note event, most of a rebuild's I/O.
    private func revision(note: String, at notePos: Int64, kind: String, body: String?, _ c: Context, _ db: Database) throws {
        try db.run("""
            INSERT INTO note_revisions(pos, note_pos, event, note, kind, author, time, replica, at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(pos) DO UPDATE SET note_pos = excluded.note_pos, event = excluded.event, note = excluded.note, kind = excluded.kind,
                author = excluded.author, time = excluded.time, replica = excluded.replica, at = excluded.at, body = excluded.body
            """) { b in
            b.add(c.pos); b.add(notePos); b.add(c.id); b.add(note); b.add(kind); b.add(c.author); b.add(c.time); b.add(c.replica); b.add(c.at); b.add(body)
        }
    }

    /// The log position of the note's `NoteAdded` when the note exists and that event happened
    /// before `e` (so every replica reaches the same verdict, whatever the arrival order); else nil.
    private func noteInCausalPast(_ note: String, of e: AppliedEvent, store: ReplicaStore, _ db: Database) throws -> Int64? {
        try origin(note, table: "notes", key: "note", inCausalPastOf: e, store: store, db)?.pos
    }

    /// True when `table` has a row keyed `id` (an object whose id is its creating event's id) and
    /// that event happened before `e`.
    func createdInCausalPast(_ id: String, table: String, key: String, of e: AppliedEvent, store: ReplicaStore, _ db: Database) throws -> Bool {
        try origin(id, table: table, key: key, inCausalPastOf: e, store: store, db) != nil
    }

    /// The creating event of the object `id` of `table` when the object exists and that event
    /// happened before `e`; else nil.
    func origin(_ id: String, table: String, key: String, inCausalPastOf e: AppliedEvent, store: ReplicaStore, _ db: Database) throws -> ApplyWindow.Origin? {
        guard let raw = Registers.canonicalID(id) else { return nil }
        let window = ApplyWindow.of(db)
        let origin: ApplyWindow.Origin
        if let known = window?.origin(table, raw) {
            origin = known
        } else {
            let byPosition = ObjectTables.storedByPosition[table] != nil
            guard let found = try db.first(GlossProjector.originSQL(table: table, key: key), { $0.add(raw.bytes); if !byPosition { $0.add(id) } },
                                           { ApplyWindow.Origin(feed: $0.int(0), seq: UInt64($0.int(1)), pos: $0.int(2)) }) else { return nil }
            window?.remember(table, raw, found)
            origin = found
        }
        return try happenedBefore(feedA: origin.feed, seqA: origin.seq, e, store: store, db) ? origin : nil
    }

    /// The creating event (feed, seq, pos) of the object of `table` whose id is ?1 (as bytes) and ?2
    /// (as text; not for the tables stored by their events' positions, whose ids are indexed by
    /// their first eight digits only).
    static func originSQL(table: String, key: String) -> String {
        let match = ObjectTables.storedByPosition[table].map { "t.\($0) = ev.pos" } ?? "t.\(key) = ?2"
        return "SELECT ev.feed, ev.seq, ev.pos FROM events ev JOIN \(table) t ON \(match) WHERE \(ShortID.equals("ev.id", "?1"))"
    }

    /// True when event (`feedA`, `seqA`) happened before `e` (memoized by the apply window).
    func happenedBefore(feedA: Int64, seqA: UInt64, _ e: AppliedEvent, store: ReplicaStore, _ db: Database) throws -> Bool {
        try ApplyWindow.happenedBefore(feedA: feedA, seqA: seqA, feedB: e.feed, seqB: e.envelope.seq, store: store, db)
    }

    func notUnderstood(_ env: EventEnvelope, _ c: Context, _ reason: String, _ db: Database) throws {
        try db.run("""
            INSERT INTO events_not_understood(event, type, schema, author, time, reason) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(event) DO NOTHING
            """) { b in b.add(c.id); b.add(env.type); b.add(Int(env.schema)); b.add(c.author); b.add(c.time); b.add(reason) }
    }
}
