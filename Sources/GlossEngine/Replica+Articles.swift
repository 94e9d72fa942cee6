import Foundation
import GRDB
import GlossIngest
import GlossJSON
import GlossModel

extension Replica {
    /// Ingests an article text. Ingesting text this replica already holds writes nothing and names
    /// the existing article (`existing == true`).
    public func ingest(bytes: [UInt8], filename: String?) throws -> Created {
        var prepared: ArticleIngested
        do { prepared = try ArticleText.prepare(bytes: bytes, filename: filename) } catch { throw GlossError.wrap(error) }
        // The suggestions this replica computes at ingest travel in the same event, so every
        // replica shows the same ones (DESIGN §3).
        let extracted = extraction(article: prepared.article, revision: prepared.sha256, text: prepared.text, date: prepared.date)
        prepared.rulesVersion = extracted.rulesVersion
        prepared.candidates = extracted.candidates
        return try write { db in
            if let article = try String.fetchOne(db, sql: "SELECT article FROM article_revisions WHERE sha256 = ?", arguments: [prepared.sha256]) {
                return Created(id: article, event: nil, existing: true)
            }
            let e = try append(prepared, db)
            return Created(id: prepared.article, event: e.id, existing: false)
        }
    }

    /// This build's extraction rules run on one revision's text.
    func extraction(article: String, revision: String, text: String, date: String?) -> CandidatesExtracted {
        CandidatesExtracted(article: article, revision: revision, rulesVersion: Int64(Extraction.rulesVersion),
                            candidates: Extraction.extract(text: text, articleDate: date).map(\.cbor))
    }

    /// Re-runs extraction with this build's rules on the article's current revision. Writes an event
    /// only when that revision has no candidates from these rules yet.
    public func extract(article text: String) throws -> Created {
        let article = try resolve(text, kinds: ["article"]).hex
        return try write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT r.* FROM articles a JOIN article_revisions r ON r.sha256 = a.current_revision WHERE a.article = ?
                """, arguments: [article]) else { throw GlossError(.notFound, "no article \(article.prefix(12))") }
            let revision: String = row["sha256"]
            let done = try Bool.fetchOne(db, sql: "SELECT 1 FROM candidates WHERE revision = ? AND rules_version = ? LIMIT 1",
                                         arguments: [revision, Extraction.rulesVersion]) ?? false
            if done { return Created(id: article, event: nil, existing: true) }
            let e = try append(extraction(article: article, revision: revision, text: row["text"], date: row["date"]), db)
            return Created(id: article, event: e.id, existing: false)
        }
    }

    /// The extraction candidates of an article's current revision, from the newest rules that ran on it.
    public func candidates(article text: String) throws -> [JSON] {
        let article = try resolve(text, kinds: ["article"]).hex
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.* FROM candidates c JOIN articles a ON a.article = c.article AND c.revision = a.current_revision
                WHERE c.article = ? AND c.rules_version = (SELECT max(rules_version) FROM candidates WHERE revision = c.revision)
                ORDER BY c.ordinal
                """, arguments: [article]).map { r in
                var kv: [(String, JSON)] = [("id", .string(r["candidate"])), ("kind", .string(r["kind"])), ("value", .string(r["value"]))]
                if let p: String = r["precision"] { kv.append(("precision", .string(p))) }
                kv.append(("rule", .string(r["rule"])))
                kv.append(("selector", .object([("exact", .string(r["exact"])), ("prefix", .string(r["prefix"])), ("suffix", .string(r["suffix"])),
                                                ("start", .int(r["sel_start"])), ("end", .int(r["sel_end"]))])))
                for (col, key) in [("speaker", "speaker"), ("role", "role"), ("said_on", "saidOn"), ("affiliation", "affiliation")] {
                    if let v: String = r[col] { kv.append((key, .string(v))) }
                }
                kv.append(("rulesVersion", .int(r["rules_version"])))
                return .object(kv)
            }
        }
    }

    /// Ingests the file at `path`.
    public func ingest(file path: String) throws -> Created {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GlossError(.notFound, "cannot read \(path); check the path and permissions")
        }
        guard data.count <= ProtocolLimits.maxArticleBytes else {
            throw GlossError(.badInput, "\(path) is \(data.count) bytes; articles are limited to \(ProtocolLimits.maxArticleBytes) bytes")
        }
        return try ingest(bytes: Array(data), filename: URL(fileURLWithPath: path).lastPathComponent)
    }
}

extension Replica {
    /// Adds a revision of an article already held (`gloss ingest --revises`). The text must differ
    /// from every revision held; candidates are extracted for it as at ingest.
    public func revise(article text: String, file path: String) throws -> Created {
        let article = try resolve(text, kinds: ["article"]).hex
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GlossError(.notFound, "cannot read \(path); check the path and permissions")
        }
        var prepared: ArticleIngested
        do { prepared = try ArticleText.prepare(bytes: Array(data), filename: URL(fileURLWithPath: path).lastPathComponent) } catch { throw GlossError.wrap(error) }
        let extracted = extraction(article: article, revision: prepared.sha256, text: prepared.text, date: prepared.date)
        prepared.rulesVersion = extracted.rulesVersion
        prepared.candidates = extracted.candidates
        return try write { db in
            if let held = try String.fetchOne(db, sql: "SELECT article FROM article_revisions WHERE sha256 = ?", arguments: [prepared.sha256]) {
                if held == article { return Created(id: prepared.sha256, event: nil, existing: true) }
                throw GlossError(.refused, "this text is already held as article \(held.prefix(12)); a revision must be new text")
            }
            guard let current = try String.fetchOne(db, sql: "SELECT current_revision FROM articles WHERE article = ?", arguments: [article]) else {
                throw GlossError(.notFound, "no article \(article.prefix(12))")
            }
            let e = try append(ArticleRevised(article: article, previous: current, revision: prepared), db)
            return Created(id: prepared.sha256, event: e.id, existing: false)
        }
    }

    /// Where each annotation and fact's evidence sits in the article's current revision.
    public func anchors(article text: String) throws -> [JSON] {
        let article = try resolve(text, kinds: ["article"]).hex
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM anchors WHERE article = ? ORDER BY base_start, object", arguments: [article]).map(Replica.anchorJSON)
        }
    }

    static func anchorJSON(_ r: Row) -> JSON {
        func span(_ start: String, _ end: String, _ exact: String) -> JSON {
            guard let s = r[start] as Int64?, let e = r[end] as Int64? else { return .null }
            return .object([("start", .int(s)), ("end", .int(e)), ("exact", .string(r[exact] as String? ?? ""))])
        }
        func text(_ c: String) -> JSON { .string(r[c] as String) }
        func int(_ c: String) -> JSON { .int(r[c] as Int64) }
        let old: JSON = .object([("revision", text("base_revision")), ("start", int("base_start")), ("end", int("base_end")), ("exact", text("base_exact"))])
        var kv: [(String, JSON)] = [("id", text("object")), ("kind", text("object_kind")), ("status", text("status")), ("score", int("score"))]
        kv += [("revision", text("revision")), ("old", old), ("new", span("sel_start", "sel_end", "exact")),
               ("candidate", span("candidate_start", "candidate_end", "candidate_exact"))]
        kv += [("decision", (r["decision"] as String?).map(JSON.string) ?? .null), ("anchoringVersion", int("anchoring_version"))]
        return .object(kv)
    }

    /// Accepts an anchor as re-found (a fuzzy, moved or needs-review span) in the current revision.
    public func confirmAnchor(_ text: String) throws -> Created {
        let object = try resolve(text, kinds: ["annotation", "fact"]).hex
        return try write { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM anchors WHERE object = ?", arguments: [object]) else {
                throw GlossError(.notFound, "\(object.prefix(12)) has no anchor yet (its article has not arrived)")
            }
            let start: Int?, end: Int?
            if let s = r["sel_start"] as Int?, let e = r["sel_end"] as Int? { (start, end) = (s, e) }
            else { (start, end) = (r["candidate_start"] as Int?, r["candidate_end"] as Int?) }
            guard let start, let end else {
                throw GlossError(.refused, "the anchor of \(object.prefix(12)) is orphaned: nothing to confirm; name the span with `gloss anchor retarget \(object.prefix(12)) --quote …`")
            }
            let revision: String = r["revision"]
            let textOf = try String.fetchOne(db, sql: "SELECT text FROM article_revisions WHERE sha256 = ?", arguments: [revision])!
            let s = TextSelector.selector(in: textOf, start: start, end: end)
            let e = try append(AnchorDecided(object: object, revision: revision, decision: "confirm",
                                             selector: SpanSelector(exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end)), db)
            return Created(id: object, event: e.id, existing: false)
        }
    }

    /// Points an annotation or a fact's evidence at another span of the article's current revision.
    public func retargetAnchor(_ text: String, quote: String, choice: QuoteChoice) throws -> Created {
        let object = try resolve(text, kinds: ["annotation", "fact"]).hex
        guard let article = try read({ db in
            try String.fetchOne(db, sql: "SELECT article FROM annotations WHERE annotation = ?1 UNION ALL SELECT article FROM facts WHERE fact = ?1", arguments: [object])
        }) else { throw GlossError(.notFound, "no annotation or fact \(object.prefix(12))") }
        let (revision, span) = try locate(quote: quote, article: article, choice)
        return try write { db in
            let e = try append(AnchorDecided(object: object, revision: revision, decision: "retarget", selector: span), db)
            return Created(id: object, event: e.id, existing: false)
        }
    }
}
