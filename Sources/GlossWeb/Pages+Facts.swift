import GlossEngine

/// Pure renderers of the fact pages.
public enum FactPages {
    public static func table(_ facts: [FactSummary], anchors: [String: AnchorRecord] = [:], frame: Page.Frame) -> String {
        var out = "<table class=\"facts\"><thead><tr><th>Fact</th><th>Subject</th><th>Predicate</th><th>Object</th><th>When</th><th>Where</th><th>Source</th><th>Grade</th><th>State</th><th>Evidence</th><th>Corroborated by</th><th>Contradicted by</th></tr></thead><tbody>"
        for f in facts {
            let anchor = anchors[f.id].map { " <span class=\"status \(h($0.status))\">\(h($0.status))</span>" } ?? ""
            out += "<tr id=\"fact-\(h(f.id))\"><td><a href=\"/facts/\(h(f.id))\(frame.keep)\" class=\"id\">\(short(f.id))</a></td>"
                + "<td class=\"user\">\(h(f.subject))</td><td class=\"user\">\(h(f.predicate))</td><td class=\"user\">\(h(f.object))</td>"
                + "<td class=\"user\">\(h(f.when ?? ""))</td><td class=\"user\">\(h(f.where ?? ""))</td><td class=\"user\">\(h(f.sourceName ?? ""))</td>"
                + "<td>\(h(f.grade ?? "—"))</td><td><span class=\"status \(h(f.state.rawValue))\">\(h(f.state.rawValue))</span></td>"
                + "<td class=\"user\">«\(h(f.evidence.exact))»\(anchor)</td>"
                + "<td>\(f.corroboratedBy.map { "<a href=\"/facts/\(h($0))\(frame.keep)\" class=\"id\">\(short($0))</a>" }.joined(separator: " "))</td>"
                + "<td>\(f.contradictedBy.map { "<a href=\"/facts/\(h($0))\(frame.keep)\" class=\"id\">\(short($0))</a>" }.joined(separator: " "))</td></tr>"
        }
        return out + "</tbody></table>"
    }

    public static func list(_ facts: [FactSummary], frame: Page.Frame) -> String {
        Page.render(frame, body: "<h1>Facts</h1><p>\(facts.count) facts.</p>" + table(facts, frame: frame))
    }

    public static func detail(_ d: FactDetail, notes: [NoteNode], frame: Page.Frame) -> String {
        let f = d.fact
        var out = "<h1>Fact <code>\(short(f.id))</code></h1>"
        out += "<p>On article <a href=\"/articles/\(h(f.article))\(frame.keep)#fact-\(h(f.id))\" class=\"id\">\(short(f.article))</a>, revision <code>\(short(f.revision))</code>; by <span class=\"user\">\(h(f.author))</span> at \(h(f.createdAt)); updated \(h(f.updatedAt)).</p>"
        out += "<table class=\"record\"><tbody>"
            + row("Subject", f.subject) + row("Predicate", f.predicate) + row("Object", f.object) + row("When", f.when ?? "")
            + row("Where", f.where ?? "") + row("Source", f.sourceName ?? "") + row("Reliability", f.reliability ?? "—")
            + row("Credibility", f.credibility ?? "—") + row("Grade", f.grade ?? "—") + row("State", f.state.rawValue)
            + (f.retractReason.map { row("Retracted because", $0) } ?? "") + row("Evidence", f.evidence.exact) + "</tbody></table>"
        if !f.corroboratedBy.isEmpty || !f.contradictedBy.isEmpty {
            out += "<p>Corroborated by " + (f.corroboratedBy.isEmpty ? "—" : f.corroboratedBy.map { "<a href=\"/facts/\(h($0))\(frame.keep)\" class=\"id\">\(short($0))</a>" }.joined(separator: ", "))
                + "; contradicted by " + (f.contradictedBy.isEmpty ? "—" : f.contradictedBy.map { "<a href=\"/facts/\(h($0))\(frame.keep)\" class=\"id\">\(short($0))</a>" }.joined(separator: ", ")) + ".</p>"
        }
        out += "<h2>History of the record</h2>" + rows(d.history)
        out += "<h2>Credibility history</h2>" + rows(d.credibilityHistory)
        out += "<h2>Source reliability history</h2>" + rows(d.reliabilityHistory)
        out += "<h2>Notes</h2>" + NotePages.tree(notes, frame: frame)
        if !frame.isPast { out += NotePages.form(on: f.id, frame: frame) }
        return Page.render(frame, body: out)
    }

    static func row(_ label: String, _ value: String) -> String {
        "<tr><th>\(h(label))</th><td class=\"user\">\(h(value))</td></tr>"
    }

    /// Whole rows (histories) as a table whose columns follow the rows' own.
    public static func rows(_ rows: [TableRow]) -> String {
        guard let first = rows.first else { return "<p>None.</p>" }
        var out = "<table class=\"history\"><thead><tr>" + first.columns.map { "<th>\(h($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in rows {
            out += "<tr>" + r.values.map { "<td class=\"user\">\(h(text($0)))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>"
    }

    static func text(_ v: QueryValue) -> String {
        switch v {
        case .null: ""
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .text(let s): s
        case .blob(let b): "(\(b.count) bytes)"
        }
    }
}

/// Pure renderers of notes.
public enum NotePages {
    public static func tree(_ notes: [NoteNode], frame: Page.Frame) -> String {
        guard !notes.isEmpty else { return "<p>No notes.</p>" }
        return notes.map { n in
            "<div class=\"note-item\(n.deleted ? " deleted" : "")\" id=\"note-\(h(n.id))\"><p><a href=\"/notes/\(h(n.id))\(frame.keep)\" class=\"id\">\(short(n.id))</a> "
                + "<span class=\"user\">\(h(n.author))</span>, \(h(n.createdAt))\(n.deleted ? " (deleted)" : "")</p>"
                + "<div class=\"user body\">\(h(n.body))</div>"
                + (n.replies.isEmpty ? "" : tree(n.replies, frame: frame)) + "</div>"
        }.joined()
    }

    /// The add-note form (a note on `on`: an article, fact, note — a reply —, annotation…).
    public static func form(on: String, frame: Page.Frame, label: String = "Add a note") -> String {
        "<form method=\"post\" action=\"/notes\" class=\"note-form\">\(Page.csrfField(frame))<input type=\"hidden\" name=\"on\" value=\"\(h(on))\">"
            + "<label>\(h(label)) (Markdown)<textarea name=\"body\" rows=\"4\" required></textarea></label><button>Save note</button></form>"
    }

    public static func detail(_ n: NoteDetail, frame: Page.Frame) -> String {
        var out = "<h1>Note <code>\(short(n.id))</code></h1>"
        out += "<p>On <a href=\"/objects/\(h(n.on))\(frame.keep)\" class=\"id\">\(short(n.on))</a>; by <span class=\"user\">\(h(n.author))</span> at \(h(n.createdAt)); updated \(h(n.updatedAt)); "
            + "state <span class=\"status \(h(n.bodyState))\">\(h(n.bodyState))</span>\(n.deleted ? " (deleted)" : "").</p>"
        out += "<div class=\"user body\">\(h(n.body))</div>"
        out += "<h2>History</h2><table class=\"history\"><thead><tr><th>Event</th><th>Kind</th><th>Author</th><th>At</th><th>Text</th></tr></thead><tbody>"
        for r in n.history {
            out += "<tr><td class=\"id\">\(short(r.event))</td><td>\(h(r.kind))</td><td class=\"user\">\(h(r.author))</td><td>\(h(r.at))</td><td class=\"user\">\(h(r.body ?? "(deleted)"))</td></tr>"
        }
        out += "</tbody></table><h2>Replies</h2>" + tree(n.replies, frame: frame)
        if !frame.isPast { out += form(on: n.id, frame: frame, label: "Reply") }
        return Page.render(frame, body: out)
    }
}
