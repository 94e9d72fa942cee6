import Foundation
import GlossIngest
import GlossModel
import GlossProjections

public typealias CandidateRecord = GlossProjections.CandidateRecord
public typealias AnchorRecord = GlossProjections.AnchorRecord

extension Replica {
    /// Ingests an article text. Ingesting text this replica already holds writes nothing and names
    /// the existing article (`existing == true`).
    public func ingest(bytes: [UInt8], filename: String?) throws -> Created {
        var prepared: ArticleIngested
        do { prepared = try ArticleText.prepare(bytes: bytes, filename: filename) } catch { throw GlossError.wrap(error) }
        // The suggestions this replica computes at ingest travel in the same event, so every
        // replica shows the same ones (DESIGN §3).
        let extracted = try extraction(article: prepared.article, revision: prepared.sha256, text: prepared.text, date: prepared.date)
        prepared.rulesVersion = extracted.rulesVersion
        prepared.candidates = extracted.candidates
        return try write { db in
            if let article = try ArticleReads.article(ofRevision: prepared.sha256, db) {
                return Created(id: article, event: nil, existing: true)
            }
            let e = try append(prepared, db)
            return Created(id: prepared.article, event: e.id, existing: false)
        }
    }

    /// This build's extraction rules run on one revision's text.
    /// Refused (bad input) for a text past the extraction's bounds.
    func extraction(article: String, revision: String, text: String, date: String?) throws -> CandidatesExtracted {
        do {
            return CandidatesExtracted(article: article, revision: revision, rulesVersion: Int64(Extraction.rulesVersion),
                                       candidates: try Extraction.extractWithinBounds(text: text, articleDate: date).map(\.cbor))
        } catch {
            throw GlossError.wrap(error)
        }
    }

    /// Re-runs extraction with this build's rules on the article's current revision. Writes an event
    /// only when that revision has no candidates from these rules yet.
    public func extract(article text: String) throws -> Created {
        let article = try resolve(text, kinds: ["article"]).hex
        return try write { db in
            guard let current = try ArticleReads.currentRevision(of: article, db) else { throw GlossError(.notFound, "no article \(article.prefix(12))") }
            if try CandidateRecord.exist(revision: current.sha256, rulesVersion: Extraction.rulesVersion, db) {
                return Created(id: article, event: nil, existing: true)
            }
            let e = try append(try extraction(article: article, revision: current.sha256, text: current.text, date: current.date), db)
            return Created(id: article, event: e.id, existing: false)
        }
    }

    /// The extraction candidates of an article's current revision, from the newest rules that ran on it.
    public func candidates(article text: String) throws -> [CandidateRecord] {
        let article = try resolve(text, kinds: ["article"]).hex
        return try read { db in try CandidateRecord.current(article: article, db) }
    }

    /// Ingests the file at `path`.
    public func ingest(file path: String) throws -> Created {
        let data = try Replica.readInputFile(path, limit: ProtocolLimits.maxArticleBytes, what: "an article")
        return try ingest(bytes: Array(data), filename: URL(fileURLWithPath: path).lastPathComponent)
    }
}

extension Replica {
    /// Adds a revision of an article already held (`gloss ingest --revises`). The text must differ
    /// from every revision held; candidates are extracted for it as at ingest.
    public func revise(article text: String, file path: String) throws -> Created {
        let article = try resolve(text, kinds: ["article"]).hex
        let data = try Replica.readInputFile(path, limit: ProtocolLimits.maxArticleBytes, what: "an article")
        var prepared: ArticleIngested
        do { prepared = try ArticleText.prepare(bytes: Array(data), filename: URL(fileURLWithPath: path).lastPathComponent) } catch { throw GlossError.wrap(error) }
        let extracted = try extraction(article: article, revision: prepared.sha256, text: prepared.text, date: prepared.date)
        prepared.rulesVersion = extracted.rulesVersion
        prepared.candidates = extracted.candidates
        return try write { db in
            if let held = try ArticleReads.article(ofRevision: prepared.sha256, db) {
                if held == article { return Created(id: prepared.sha256, event: nil, existing: true) }
                throw GlossError(.refused, "this text is already held as article \(held.prefix(12)); a revision must be new text")
            }
            guard let current = try ArticleReads.currentRevisionID(of: article, db) else {
                throw GlossError(.notFound, "no article \(article.prefix(12))")
            }
            let e = try append(ArticleRevised(article: article, previous: current, revision: prepared), db)
            return Created(id: prepared.sha256, event: e.id, existing: false)
        }
    }

    /// Where each annotation and fact's evidence sits in the article's current revision.
    public func anchors(article text: String) throws -> [AnchorRecord] {
        let article = try resolve(text, kinds: ["article"]).hex
        return try read { db in try AnchorRecord.all(article: article, db) }
    }

    /// Accepts an anchor as re-found (a fuzzy, moved or needs-review span) in the current revision.
    public func confirmAnchor(_ text: String) throws -> Created {
        let object = try resolve(text, kinds: ["annotation", "fact"]).hex
        return try write { db in
            guard let r = try AnchorRecord.of(object, db) else {
                throw GlossError(.notFound, "\(object.prefix(12)) has no anchor yet (its article has not arrived)")
            }
            guard let span = r.anchored ?? r.candidate else {
                throw GlossError(.refused, "the anchor of \(object.prefix(12)) is orphaned: nothing to confirm; name the span with `gloss anchor retarget \(object.prefix(12)) --quote …`")
            }
            let revision = r.revision
            // Confirmed already, as it stands: nothing new to record (a second confirmation wrote
            // the same decision again; an audit, 2026-12-06).
            if r.status == "confirmed", r.anchored != nil, let decided = r.decision.flatMap({ Bytes32(hex: $0) }).map(EventID.init) {
                return Created(id: object, event: decided, existing: true)
            }
            guard let textOf = try ArticleReads.text(ofRevision: revision, db),
                  let start = Int(exactly: span.start), let end = Int(exactly: span.end),
                  start >= 0, start <= end, end <= textOf.unicodeScalars.count else {
                throw GlossError(.refused, "the anchor of \(object.prefix(12)) names a span outside its revision's text; name the span with `gloss anchor retarget \(object.prefix(12)) --quote …`")
            }
            let s = TextSelector.selector(in: textOf, start: start, end: end)
            let e = try append(AnchorDecided(object: object, revision: revision, decision: "confirm",
                                             selector: SpanSelector(exact: s.exact, prefix: s.prefix, suffix: s.suffix, start: s.start, end: s.end)), db)
            return Created(id: object, event: e.id, existing: false)
        }
    }

    /// The article an annotation or a fact is on (a full id; nil when it is neither).
    public func article(of object: String) throws -> String? {
        try read { db in try AnchorRecord.article(of: object, db) }
    }

    /// Points an annotation or a fact's evidence at another span of the article's current revision.
    public func retargetAnchor(_ text: String, quote: String, choice: QuoteChoice) throws -> Created {
        let object = try resolve(text, kinds: ["annotation", "fact"]).hex
        guard let article = try read({ db in try AnchorRecord.article(of: object, db) }) else { throw GlossError(.notFound, "no annotation or fact \(object.prefix(12))") }
        let (revision, span) = try locate(quote: quote, article: article, choice)
        return try write { db in
            let e = try append(AnchorDecided(object: object, revision: revision, decision: "retarget", selector: span), db)
            return Created(id: object, event: e.id, existing: false)
        }
    }
}
