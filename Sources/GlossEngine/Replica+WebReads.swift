import Foundation
import GlossIngest
import GlossModel
import GlossProjections
import GlossStore

// Typed reads the web view (`gloss serve --http`, GlossWeb) composes its pages from. No SQL here:
// each one composes the projections' own typed reads (Reads/) inside one read transaction, so a
// page shows one consistent state of the replica.

/// One article in the list of articles (`/` of the web view).
public struct ArticleListItem: Sendable, Equatable {
    public var id: String
    /// The article's date parsed at ingest (`YYYY-MM-DD`), if any.
    public var date: String?
    /// The dateline places as written.
    public var dateline: String?
    /// The file name of the first ingest, if one was given.
    public var filename: String?
    public var ingestedBy: String
    public var ingestedAt: String
    public var revisions: Int
    /// The article's tags, each once, sorted.
    public var tags: [String]
    /// The names of the sources its facts cite, each once, sorted.
    public var sources: [String]
    /// The combined grades (`B2`, `?3`) of its facts, each once, sorted.
    public var grades: [String]
    public var facts: Int
    /// Live notes on the article itself.
    public var notes: Int
}

/// What narrows the list of articles. Every criterion given must hold (nil or empty: no condition).
public struct ArticleFilter: Sendable, Equatable {
    /// Full-text words (as `gloss search`): articles whose text, notes, facts or annotations match.
    public var text: String?
    /// A tag on the article.
    public var tag: String?
    /// A source (name, case-insensitive, or id prefix) cited by one of its facts.
    public var source: String?
    /// A grade prefix of one of its facts: `B` (reliability), `B2`, or `?2`.
    public var grade: String?
    /// The article's date on or after / on or before (`YYYY-MM-DD`, or a prefix such as `2021-06`).
    public var from: String?
    public var to: String?

    public init(text: String? = nil, tag: String? = nil, source: String? = nil, grade: String? = nil, from: String? = nil, to: String? = nil) {
        self.text = text; self.tag = tag; self.source = source; self.grade = grade; self.from = from; self.to = to
    }

    /// True when no criterion is given.
    public var isEmpty: Bool { [text, tag, source, grade, from, to].allSatisfy { ($0 ?? "").isEmpty } }

    /// True for `YYYY`, `YYYY-MM` and `YYYY-MM-DD` naming a real year, month and day (the forms
    /// `from` and `to` take): the day, or the prefix completed with its first month and day, is a
    /// calendar date as article dates are (`Dateline.isCalendarDate`).
    public static func isDatePrefix(_ s: String) -> Bool {
        switch s.utf8.count {
        case 4: return Dateline.isCalendarDate(s + "-01-01")
        case 7: return Dateline.isCalendarDate(s + "-01")
        case 10: return Dateline.isCalendarDate(s)
        default: return false
        }
    }
}

/// The list of articles after a filter, with the full-text matches that selected them.
public struct ArticleList: Sendable {
    /// The page of matching articles asked for (`offset`, at most `limit`).
    public var articles: [ArticleListItem]
    /// How many articles match the filter (every page).
    public var matching: Int
    public var offset: Int
    /// The full-text matches (notes, facts, annotations, revisions) when a text was given.
    public var hits: [SearchHit]
    /// How many articles the replica holds in all.
    public var total: Int
}

/// One revision of an article, oldest first in `ArticleDetail.revisions`.
public struct RevisionInfo: Sendable, Equatable {
    public var sha256: String
    public var event: String
    public var author: String
    public var at: String
    public var filename: String?
    public var bytes: Int
}

/// A note with its replies (notes on it), as shown under the object it is on.
public struct NoteNode: Sendable, Equatable {
    public var id: String
    public var author: String
    public var createdAt: String
    public var deleted: Bool
    public var body: String
    public var replies: [NoteNode]
}

/// An article as its page shows it: the current revision's text with every anchor in it, its
/// facts, annotations, notes and revisions.
public struct ArticleDetail: Sendable {
    public var id: String
    public var date: String?
    public var dateline: String?
    public var ingestedBy: String
    public var ingestedAt: String
    public var currentRevision: String
    /// The current revision's NFC text (selectors count Unicode scalars over it).
    public var text: String
    public var revisions: [RevisionInfo]
    /// Where each annotation and fact's evidence sits in the current revision (Protocol/09).
    public var anchors: [AnchorRecord]
    public var annotations: [AnnotationSummary]
    public var facts: [FactSummary]
    public var notes: [NoteNode]
    public var tags: [String]
}

/// A note with its whole history (`/notes/ID`).
public struct NoteDetail: Sendable {
    public struct Revision: Sendable, Equatable {
        public var event: String
        /// `add`, `edit`, `delete` or `resolve`.
        public var kind: String
        public var author: String
        public var at: String
        /// nil for a delete.
        public var body: String?
    }
    public var id: String
    /// The object the note is on.
    public var on: String
    public var author: String
    public var createdAt: String
    public var updatedAt: String
    public var deleted: Bool
    /// The displayed body (Protocol/08: the merge, or the newest head while a conflict is open).
    public var body: String
    /// `single`, `merged` or `conflict`.
    public var bodyState: String
    public var history: [Revision]
    public var replies: [NoteNode]
}

extension TableRow {
    func string(_ column: String) -> String? {
        switch self[column] {
        case .text(let s)?: s
        case .int(let i)?: String(i)
        case .double(let d)?: String(d)
        default: nil
        }
    }

    func int(_ column: String) -> Int {
        switch self[column] {
        case .int(let i)?: Int(i)
        case .text(let s)?: Int(s) ?? 0
        default: 0
        }
    }
}

extension Replica {
    /// The articles that pass `filter`, by date (newest first), then id: `limit` of them from
    /// `offset`. No article text is read: the articles' ids and dates are sorted and filtered (the
    /// tag, source and grade criteria are each one query for the articles they let through), and
    /// the rows shown alone are read with their tags, facts and notes (`ArticleReads.summary`).
    public func articleList(_ filter: ArticleFilter = ArticleFilter(), limit: Int = 100, offset: Int = 0) throws -> ArticleList {
        let text = filter.text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        // The best 200 hits are shown with snippets; the list is filtered by every matching article
        // (filtering by those hits alone left the rest out of the list and its count).
        let words = text.isEmpty ? [] : try Replica.searchWords(text)
        let sourceID: String? = filter.source.flatMap { s in
            let s = s.trimmingCharacters(in: .whitespaces)
            guard !s.isEmpty else { return nil }
            return (try? source(named: s)) ?? "-"  // an unknown source matches no article
        }
        let tag = try filter.tag.map { try Replica.nfc($0.trimmingCharacters(in: .whitespaces), "the tag filter") } ?? ""
        let grade = filter.grade?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
        // A grade that cannot be one matched nothing, silently (an audit, 2026-12-06).
        let scalars = Array(grade.unicodeScalars)
        guard grade.isEmpty || (scalars.count <= 2 && "ABCDEF?".unicodeScalars.contains(scalars[0])
                                && (scalars.count == 1 || "123456?".unicodeScalars.contains(scalars[1]))) else {
            throw GlossError(.badInput, "the grade filter \(filter.grade ?? "") is not a grade: a reliability A–F or ?, then optionally a credibility 1–6 or ? (B, B2, ?3)")
        }
        let from = filter.from?.trimmingCharacters(in: .whitespaces) ?? "", to = filter.to?.trimmingCharacters(in: .whitespaces) ?? ""
        // A bound that is no date matched nothing or everything, silently (an audit, 2026-12-07).
        for (name, bound) in [("from", from), ("to", to)] where !bound.isEmpty && !ArticleFilter.isDatePrefix(bound) {
            throw GlossError(.badInput, "the \(name) filter \(bound.prefix(40)) is not a date: give YYYY-MM-DD, or a prefix of one (2021-06, 2021)")
        }
        return try read { db in
            let all = try ArticleReads.dates(db).sorted { ($0.date ?? "", $1.id) > ($1.date ?? "", $0.id) }
            let hits = try words.isEmpty ? [] : SearchHit.matching(words: words, limit: 200, db)
            let matched = try words.isEmpty ? [] : SearchHit.articles(matching: words, db)
            // (A page of 20,000 articles read every article's tags or facts for these: 4.5 s.)
            let tagged = try tag.isEmpty ? nil : SetReads.objects(taggedWith: tag, db)
            let citing = try sourceID.map { try FactSummary.articles(citing: $0, db) }
            let graded = try grade.isEmpty ? nil : FactSummary.articles(gradedWith: grade, db)
            var items: [ArticleListItem] = []
            var matching = 0
            for a in all {
                if !text.isEmpty && !matched.contains(a.id) { continue }
                if !from.isEmpty && (a.date ?? "") < from { continue }
                // A prefix bound (`2021-06`) includes every day it names.
                if !to.isEmpty && !((a.date ?? "\u{10FFFF}") <= to || (a.date ?? "").hasPrefix(to)) { continue }
                if let tagged, !tagged.contains(a.id) { continue }
                if let citing, !citing.contains(a.id) { continue }
                if let graded, !graded.contains(a.id) { continue }
                matching += 1
                guard matching > offset, items.count < limit, let a = try ArticleReads.summary(of: a.id, db) else { continue }
                let shownFacts = try FactSummary.all(article: a.id, db)
                let grades = Set(shownFacts.compactMap(\.grade))
                items.append(ArticleListItem(
                    id: a.id, date: a.date, dateline: a.dateline, filename: a.filename,
                    ingestedBy: a.ingestedBy, ingestedAt: a.ingestedAt,
                    revisions: a.revisions, tags: try SetReads.tags(of: a.id, db), sources: Set(shownFacts.compactMap(\.sourceName)).sorted(),
                    grades: grades.sorted(), facts: shownFacts.count, notes: try NoteReads.liveCount(on: a.id, db)))
            }
            return ArticleList(articles: items, matching: matching, offset: offset, hits: hits, total: all.count)
        }
    }

    /// One article as its page shows it (id or unique prefix).
    public func articleDetail(_ text: String) throws -> ArticleDetail {
        let id = try resolve(text, kinds: ["article"]).hex
        return try read { db in
            guard let row = try ObjectRows.article(id, db), let current = try ArticleReads.currentRevision(of: id, db) else {
                throw GlossError(.notFound, "no article \(id.prefix(12))")
            }
            return ArticleDetail(
                id: id, date: row.string("date"), dateline: row.string("dateline"),
                ingestedBy: row.string("ingested_by") ?? "", ingestedAt: row.string("ingested_at") ?? "",
                currentRevision: current.sha256, text: current.text,
                revisions: try ObjectRows.revisions(of: id, db).map(Replica.revisionInfo),
                anchors: try AnchorRecord.all(article: id, db),
                annotations: try AnnotationSummary.all(article: id, db),
                facts: try FactSummary.all(article: id, db),
                notes: try noteTree(on: id, depth: 0, db),
                tags: try SetReads.tags(of: id, db))
        }
    }

    static func revisionInfo(_ r: TableRow) -> RevisionInfo {
        RevisionInfo(sha256: r.string("sha256") ?? "", event: r.string("event") ?? "", author: r.string("author") ?? "",
                     at: r.string("at") ?? "", filename: r.string("filename"), bytes: r.int("bytes"))
    }

    /// The text of one revision of an article (the revision by full id or unique prefix among the
    /// article's revisions).
    public func revisionText(article text: String, revision: String) throws -> (info: RevisionInfo, text: String) {
        let id = try resolve(text, kinds: ["article"]).hex
        let p = revision.lowercased()
        guard Hex.isHexPrefix(p), !p.isEmpty, p.count <= 64 else { throw GlossError(.badInput, "\"\(revision.prefix(80))\" is not a revision id (hex)") }
        return try read { db in
            let matches = try ObjectRows.revisions(of: id, db).map(Replica.revisionInfo).filter { $0.sha256.hasPrefix(p) }
            guard matches.count == 1, let text = try ArticleReads.text(ofRevision: matches[0].sha256, db) else {
                throw GlossError(matches.isEmpty ? .notFound : .ambiguous, "article \(id.prefix(12)) has \(matches.isEmpty ? "no" : "more than one") revision \(p)")
            }
            return (matches[0], text)
        }
    }

    /// The notes on an object with their replies, oldest first; replies deeper than 16 levels are cut.
    func noteTree(on object: String, depth: Int, _ db: ReplicaStore.Transaction) throws -> [NoteNode] {
        guard depth < 16 else { return [] }
        return try ObjectRows.notes(on: object, updatedAt: false, db).map { r in
            let id = r.string("note") ?? ""
            return NoteNode(id: id, author: r.string("author") ?? "", createdAt: r.string("created_at") ?? "",
                            deleted: r.int("deleted") != 0, body: r.string("body") ?? "",
                            replies: try noteTree(on: id, depth: depth + 1, db))
        }
    }

    /// The notes on any object (a fact, a note, an annotation), with their replies.
    public func notes(on text: String) throws -> [NoteNode] {
        let id = try resolve(text).hex
        return try read { db in try noteTree(on: id, depth: 0, db) }
    }

    /// One note with its history and replies (id or unique prefix).
    public func noteDetail(_ text: String) throws -> NoteDetail {
        let id = try resolve(text, kinds: ["note"]).hex
        return try read { db in
            guard let r = try ObjectRows.note(id, db) else { throw GlossError(.notFound, "no note \(id.prefix(12))") }
            let history = try ObjectRows.noteHistory(id, db).map {
                NoteDetail.Revision(event: $0.string("event") ?? "", kind: $0.string("kind") ?? "", author: $0.string("author") ?? "",
                                    at: $0.string("at") ?? "", body: $0.string("body"))
            }
            return NoteDetail(id: id, on: r.string("on_id") ?? "", author: r.string("author") ?? "", createdAt: r.string("created_at") ?? "",
                              updatedAt: r.string("updated_at") ?? "", deleted: r.int("deleted") != 0, body: r.string("body") ?? "",
                              bodyState: r.string("body_state") ?? "single", history: history,
                              replies: try noteTree(on: id, depth: 0, db))
        }
    }

    /// The kind of the object an id names (nil when this replica holds no such object).
    public func kind(of id: String) throws -> ObjectKind? {
        guard case .object(_, let kind)? = try? resolve(id) else { return nil }
        return ObjectKind(rawValue: kind)
    }
}

extension Replica {
    /// Parses a POINT given over the web: an RFC 3339 time or an event id (or unique prefix). Unlike
    /// `point(_:)` it never reads a file, so a request cannot name a path on the server.
    public func point(web text: String) throws -> Point {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let ms = Point.parseTime(t) { return .time(milliseconds: ms) }
        guard Hex.isHexPrefix(t.lowercased()), !t.isEmpty, t.count <= 64 else {
            throw GlossError(.badInput, "\"\(t.prefix(80))\" is not a point: give an RFC 3339 time (2026-11-29T12:00:00Z) or an event id")
        }
        return try eventPoint(t)
    }

    /// A key naming the set of events `point` selects on this replica now: equal keys, equal
    /// as-of contents (a time point's set grows when a sync brings older events, so the key
    /// includes this replica's vector). A time point is keyed by the latest event time it
    /// selects, not by its millisecond: every instant between two events names one snapshot (a
    /// reader stepping through milliseconds made a replay of the log each).
    public func snapshotKey(_ point: Point) throws -> String {
        let held = try vector.sorted.map { "\($0.replica.hex):\($0.seq)" }.joined(separator: ",")
        switch point {
        case .time(let ms): return "t\(try store.lastEventTime(atOrBefore: ms).map { String($0.raw) } ?? "none")|\(held)"
        case .vector(let v): return "v" + v.sorted.map { "\($0.replica.hex):\($0.seq)" }.joined(separator: ",")
        }
    }

    /// A read-only replica holding the projections as they were at `point` (`asOf` into `file`,
    /// which must not exist). The same typed reads work on it; it writes nothing. Close it when done.
    public func snapshot(at point: Point, file: URL) throws -> Replica {
        try asOf(point, out: file)
        do {
            let s = try ReplicaStore(path: file.path, projector: GlossProjector(), access: .read)
            return Replica(folder: folder, store: s, key: key, analyst: analyst, clock: clock)
        } catch { throw GlossError.wrap(error, location: file.path) }
    }
}
