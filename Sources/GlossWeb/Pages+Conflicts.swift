import GlossEngine

/// Pure renderers of the conflict pages (Protocol/08-conflicts.md).
public enum ConflictPages {
    static func objectLink(_ c: ConflictInfo, _ frame: Page.Frame) -> String {
        switch c.objectKind {
        case "note": "<a href=\"/notes/\(h(c.object))\(frame.keep)\" class=\"id\">note \(short(c.object))</a>"
        case "fact": "<a href=\"/facts/\(h(c.object))\(frame.keep)\" class=\"id\">fact \(short(c.object))</a>"
        default: "<a href=\"/objects/\(h(c.object))\(frame.keep)\" class=\"id\">\(h(c.objectKind)) \(short(c.object))</a>"
        }
    }

    public static func list(_ conflicts: [ConflictInfo], all: Bool, frame: Page.Frame) -> String {
        var out = "<h1>Conflicts</h1><p>\(conflicts.count) \(all ? "conflicts (open and resolved)" : "open conflicts"). "
            + (all ? "<a href=\"/conflicts\(frame.keep)\">Open only</a>" : "<a href=\"/conflicts?all=1\(frame.keepMore)\">Show resolved too</a>") + "</p>"
        out += "<table class=\"conflicts\"><thead><tr><th>Conflict</th><th>Object</th><th>Field</th><th>State</th><th>Candidates</th></tr></thead><tbody>"
        for c in conflicts {
            out += "<tr><td><a href=\"/conflicts/\(h(c.id))\(frame.keep)\" class=\"id\">\(short(c.id))</a></td><td>\(objectLink(c, frame))</td>"
                + "<td>\(h(c.field))</td><td><span class=\"status \(c.state == .open ? "conflict" : "")\">\(h(c.state.rawValue))</span></td>"
                + "<td>\(c.candidates.count): \(c.candidates.map { "<span class=\"user\">\(h($0.author))</span>" }.joined(separator: ", "))</td></tr>"
        }
        return Page.render(frame, body: out + "</tbody></table>")
    }

    public static func detail(_ c: ConflictInfo, frame: Page.Frame) -> String {
        var out = "<h1>Conflict <code>\(short(c.id))</code></h1>"
        out += "<p>On the <strong>\(h(c.field))</strong> of \(objectLink(c, frame)); <span class=\"status \(c.state == .open ? "conflict" : "")\">\(h(c.state.rawValue))</span>"
            + (c.resolution.map { ", resolved by event <code>\(short($0))</code>" } ?? "") + ". \(c.candidates.count) candidates.</p>"
        let canResolve = c.state == .open && !frame.isPast
        let reference = c.candidates.first?.value ?? ""
        out += "<div class=\"candidates\">"
        for (i, cand) in c.candidates.enumerated() {
            out += "<section class=\"candidate\" data-event=\"\(h(cand.event))\"><h2>Candidate \(i + 1)</h2>"
                + "<p><span class=\"user\">\(h(cand.author))</span>, \(h(cand.at))<br>event <code>\(short(cand.event))</code></p>"
            if let v = cand.value {
                out += "<pre class=\"value\">\(h(v))</pre>"
                if i > 0 && !(c.field == "credibility" || c.field == "reliability") {
                    out += "<details open><summary>Lines against candidate 1</summary>\(LineDiff.render(reference, v))</details>"
                }
            } else {
                out += "<p class=\"value deleted\">(deleted)</p>"
            }
            if canResolve {
                out += "<form method=\"post\" action=\"/conflicts/\(h(c.id))/resolve\">\(Page.csrfField(frame))"
                    + "<input type=\"hidden\" name=\"pick\" value=\"\(h(cand.event))\">"
                    + "<label>Reason <input name=\"reason\" size=\"20\"></label> <button>Keep candidate \(i + 1)</button></form>"
            }
            out += "</section>"
        }
        out += "</div>"
        if canResolve {
            let isGrade = c.field == "credibility" || c.field == "reliability"
            let start = c.candidates.last(where: { $0.value != nil })?.value ?? ""
            out += "<h2>Resolve with a new value</h2><form method=\"post\" action=\"/conflicts/\(h(c.id))/resolve\" class=\"merge\">\(Page.csrfField(frame))"
                + (isGrade ? "<label>Grade <input name=\"text\" size=\"3\" required></label>"
                           : "<label>Merged text<textarea name=\"text\" rows=\"\(min(30, max(6, start.split(separator: "\n", omittingEmptySubsequences: false).count + 2)))\" required>\n\(h(start))</textarea></label>")
                + "<label>Reason <input name=\"reason\" size=\"30\"></label> <button>Resolve</button></form>"
        }
        return Page.render(frame, body: out)
    }
}
