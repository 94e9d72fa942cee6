import GlossEngine

/// Pure renderers of the article pages: a model in, an HTML string out.
public enum ArticlePages {
    /// Articles per page of the list (`?page=N`).
    public static let pageSize = 100

    public static func list(_ list: ArticleList, filter: ArticleFilter, frame: Page.Frame) -> String {
        func field(_ name: String, _ label: String, _ value: String?, _ placeholder: String) -> String {
            "<label>\(label) <input name=\"\(name)\" value=\"\(h(value ?? ""))\" placeholder=\"\(h(placeholder))\" size=\"12\"></label>"
        }
        var out = "<h1>Articles</h1>"
        out += "<form class=\"filters\" method=\"get\" action=\"/\">"
            + field("q", "Search", filter.text, "words") + " " + field("tag", "Tag", filter.tag, "tag") + " "
            + field("source", "Source", filter.source, "name or id") + " " + field("grade", "Grade", filter.grade, "B, B2, ?3") + " "
            + field("from", "From", filter.from, "2021-06-01") + " " + field("to", "To", filter.to, "2021-06-30")
            + (frame.asOf.map { "<input type=\"hidden\" name=\"asof\" value=\"\(h($0))\">" } ?? "")
            + " <button>Filter</button></form>"
        let first = list.offset + 1, last = list.offset + list.articles.count
        out += "<p>\(list.matching) of \(list.total) articles" + (list.matching > list.articles.count ? (list.articles.isEmpty ? ", none on this page (past the last)" : ", \(first)–\(last) shown") : "") + ".</p>"
        out += "<table class=\"articles\"><thead><tr><th>Date</th><th>Dateline</th><th>Article</th><th>Tags</th><th>Sources</th><th>Grades</th><th>Facts</th><th>Notes</th><th>Revisions</th></tr></thead><tbody>"
        for a in list.articles {
            out += "<tr><td>\(h(a.date ?? "—"))</td><td class=\"user\">\(h(a.dateline ?? ""))</td>"
                + "<td><a href=\"/articles/\(h(a.id))\(frame.keep)\" class=\"id\">\(short(a.id))</a> <span class=\"user\">\(h(a.filename ?? ""))</span></td>"
                + "<td>\(a.tags.map { "<a href=\"/?tag=\(h(HTML.urlComponent($0)))\(frame.keepMore)\" class=\"user\">\(h($0))</a>" }.joined(separator: " "))</td>"
                + "<td class=\"user\">\(a.sources.map(h).joined(separator: ", "))</td><td>\(a.grades.map(h).joined(separator: " "))</td>"
                + "<td>\(a.facts)</td><td>\(a.notes)</td><td>\(a.revisions)</td></tr>"
        }
        out += "</tbody></table>"
        // Pages: the filter and the as-of point stay in the links.
        if list.offset > 0 || last < list.matching {
            let kept = [("q", filter.text), ("tag", filter.tag), ("source", filter.source), ("grade", filter.grade),
                        ("from", filter.from), ("to", filter.to), ("asof", frame.asOf)]
                .compactMap { k, v in v.flatMap { $0.isEmpty ? nil : "\(k)=\(HTML.urlComponent($0))" } }
            func href(_ page: Int) -> String { h("/?" + (kept + ["page=\(page)"]).joined(separator: "&")) }
            let page = list.offset / pageSize + 1
            out += "<p class=\"pages\">"
                + (list.offset > 0 ? "<a href=\"\(href(page - 1))\" rel=\"prev\">previous \(pageSize)</a> " : "")
                + (last < list.matching ? "<a href=\"\(href(page + 1))\" rel=\"next\">next</a>" : "") + "</p>"
        }
        if !list.hits.isEmpty {
            out += "<h2>Matches</h2><table class=\"hits\"><thead><tr><th>Kind</th><th>Where</th><th>Snippet</th></tr></thead><tbody>"
            for hit in list.hits {
                out += "<tr><td>\(h(hit.kind))</td><td>\(link(kind: hit.kind, id: hit.id, article: hit.article, frame))</td><td class=\"user\">\(h(hit.snippet))</td></tr>"
            }
            out += "</tbody></table>"
        }
        return Page.render(frame, body: out)
    }

    /// A link to the page that shows an object of `kind`.
    static func link(kind: String, id: String, article: String?, _ frame: Page.Frame) -> String {
        switch kind {
        case "note": "<a href=\"/notes/\(h(id))\(frame.keep)\" class=\"id\">note \(short(id))</a>"
        case "fact": "<a href=\"/facts/\(h(id))\(frame.keep)\" class=\"id\">fact \(short(id))</a>"
        case "article": "<a href=\"/articles/\(h(id))\(frame.keep)\" class=\"id\">article \(short(id))</a>"
        default:
            if let article { "<a href=\"/articles/\(h(article))\(frame.keep)#\(h(kind))-\(h(id))\" class=\"id\">\(h(kind)) \(short(id))</a>" }
            else { "<span class=\"id\">\(h(kind)) \(short(id))</span>" }
        }
    }

    /// The spans to highlight in the current revision: each anchored span, and the candidate span
    /// of an anchor that needs review (marked so); orphaned anchors have none.
    public static func spans(_ anchors: [AnchorRecord]) -> [HighlightSpan] {
        anchors.compactMap { a in
            let kind: HighlightSpan.Kind = a.objectKind == "fact" ? .evidence : .annotation
            if let s = a.anchored { return HighlightSpan(start: Int(s.start), end: Int(s.end), object: a.object, kind: kind, status: a.status) }
            if let c = a.candidate { return HighlightSpan(start: Int(c.start), end: Int(c.end), object: a.object, kind: kind, status: "needs-review") }
            return nil
        }
    }

    public static func article(_ a: ArticleDetail, frame: Page.Frame) -> String {
        let anchorOf = Dictionary(a.anchors.map { ($0.object, $0) }, uniquingKeysWith: { x, _ in x })
        var out = "<h1><span class=\"user\">\(h(a.dateline ?? "Article"))</span> \(h(a.date ?? ""))</h1>"
        out += "<p>Article <code>\(h(a.id))</code>, ingested by <span class=\"user\">\(h(a.ingestedBy))</span> at \(h(a.ingestedAt)); current revision <code>\(short(a.currentRevision))</code>"
            + (a.tags.isEmpty ? "" : "; tags: " + a.tags.map { "<span class=\"user\">\(h($0))</span>" }.joined(separator: ", ")) + ".</p>"
        out += "<p class=\"legend\"><mark class=\"hl evidence\">evidence</mark> <mark class=\"hl annotation\">annotation</mark> "
            + "<mark class=\"hl st-moved\">moved</mark> <mark class=\"hl st-fuzzy\">fuzzy</mark> <mark class=\"hl st-needs-review\">needs review</mark></p>"
        out += "<div class=\"article-text\" id=\"text\">\(Highlighter.render(a.text, spans: spans(a.anchors)))</div>"

        // Anchors: where each object sits, with its status.
        out += "<h2>Anchors</h2><table class=\"anchors\"><thead><tr><th>Object</th><th>Status</th><th>Score</th><th>Quote (as made)</th><th>Now</th></tr></thead><tbody>"
        for an in a.anchors {
            let now = an.anchored.map { "\($0.start)–\($0.end)" } ?? an.candidate.map { "candidate \($0.start)–\($0.end)" } ?? "—"
            out += "<tr id=\"anchor-\(h(an.object))\"><td>\(link(kind: an.objectKind, id: an.object, article: a.id, frame))</td>"
                + "<td><span class=\"status \(h(an.status))\">\(h(an.status))</span></td><td>\(an.score)‰</td>"
                + "<td class=\"user\">\(h(an.base.exact))</td><td>\(h(now))</td></tr>"
        }
        out += "</tbody></table>"

        out += "<h2>Facts</h2>" + FactPages.table(a.facts, anchors: anchorOf, frame: frame)

        out += "<h2>Annotations</h2><table class=\"annotations\"><thead><tr><th>Annotation</th><th>Quote</th><th>Comment</th><th>Tags</th><th>Author</th><th>Anchor</th></tr></thead><tbody>"
        for an in a.annotations {
            let status = anchorOf[an.id]?.status ?? "—"
            out += "<tr id=\"annotation-\(h(an.id))\"><td class=\"id\">\(short(an.id))</td><td class=\"user\">\(h(an.selector.exact))</td>"
                + "<td class=\"user\">\(h(an.comment ?? ""))</td><td>\(an.tags.map(h).joined(separator: ", "))</td>"
                + "<td class=\"user\">\(h(an.author))</td><td><span class=\"status \(h(status))\">\(h(status))</span></td></tr>"
        }
        out += "</tbody></table>"
        if !frame.isPast {
            // Selecting text in the article fills the quote and its occurrence (`/select.js`, the only
            // script, served from this origin); typing them works without it.
            out += "<form method=\"post\" action=\"/articles/\(h(a.id))/annotate\" class=\"annotate\" id=\"annotate\">\(Page.csrfField(frame))"
                + "<label>Annotate the quote <input name=\"quote\" size=\"40\" required></label> <label>occurrence <input name=\"occurrence\" size=\"3\"></label> "
                + "<label>comment <input name=\"comment\" size=\"30\"></label> <button>Annotate</button>"
                + " <span class=\"hint\">select a span of the text above to fill the quote</span></form>"
                + "<script src=\"/select.js\" defer></script>"
        }

        out += "<h2>Notes</h2>" + NotePages.tree(a.notes, frame: frame)
        if !frame.isPast { out += NotePages.form(on: a.id, frame: frame) }

        out += "<h2>Revisions</h2><form method=\"get\" action=\"/articles/\(h(a.id))/diff\"><table class=\"revisions\"><thead><tr><th>From</th><th>To</th><th>Revision</th><th>Author</th><th>At</th><th>File</th><th>Bytes</th></tr></thead><tbody>"
        for (i, r) in a.revisions.enumerated() {
            let isFrom = a.revisions.count > 1 && i == a.revisions.count - 2, isTo = i == a.revisions.count - 1
            out += "<tr><td><input type=\"radio\" name=\"from\" value=\"\(h(r.sha256))\"\(isFrom ? " checked" : "")></td>"
                + "<td><input type=\"radio\" name=\"to\" value=\"\(h(r.sha256))\"\(isTo ? " checked" : "")></td>"
                + "<td class=\"id\">\(short(r.sha256))\(r.sha256 == a.currentRevision ? " (current)" : "")</td><td class=\"user\">\(h(r.author))</td>"
                + "<td>\(h(r.at))</td><td class=\"user\">\(h(r.filename ?? ""))</td><td>\(r.bytes)</td></tr>"
        }
        out += "</tbody></table>" + (frame.asOf.map { "<input type=\"hidden\" name=\"asof\" value=\"\(h($0))\">" } ?? "")
            + "<button>Diff</button></form>"
        return Page.render(frame, body: out)
    }

    public static func diff(article: String, from: (info: RevisionInfo, text: String), to: (info: RevisionInfo, text: String), frame: Page.Frame) -> String {
        let body = "<h1>Revisions of <a href=\"/articles/\(h(article))\(frame.keep)\" class=\"id\">\(short(article))</a></h1>"
            + "<p>From <code>\(short(from.info.sha256))</code> (<span class=\"user\">\(h(from.info.author))</span>, \(h(from.info.at))) "
            + "to <code>\(short(to.info.sha256))</code> (<span class=\"user\">\(h(to.info.author))</span>, \(h(to.info.at))).</p>"
            + LineDiff.render(from.text, to.text)
        return Page.render(frame, body: body)
    }
}
