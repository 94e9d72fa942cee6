import Foundation
import GRDB
import GlossIngest
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
