import Foundation
import GRDB
import GlossIngest
import GlossModel

extension Replica {
    /// Ingests an article text. Ingesting text this replica already holds writes nothing and names
    /// the existing article (`existing == true`).
    public func ingest(bytes: [UInt8], filename: String?) throws -> Created {
        let prepared: ArticleIngested
        do { prepared = try ArticleText.prepare(bytes: bytes, filename: filename) } catch { throw GlossError.wrap(error) }
        return try write { db in
            if let article = try String.fetchOne(db, sql: "SELECT article FROM article_revisions WHERE sha256 = ?", arguments: [prepared.sha256]) {
                return Created(id: article, event: nil, existing: true)
            }
            let e = try append(prepared, db)
            return Created(id: prepared.article, event: e.id, existing: false)
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
