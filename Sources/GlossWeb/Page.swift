/// The frame every page shares, and the stylesheet (served from `/style.css`: the
/// Content-Security-Policy allows no inline style or script).
public enum Page {
    /// What a page needs besides its body: where it is, the as-of point it shows, the CSRF token
    /// its forms carry.
    public struct Frame: Sendable {
        public var title: String
        /// The as-of point text the page was asked for (nil: now).
        public var asOf: String?
        /// Shown under the as-of control: what the point resolved to.
        public var asOfDescription: String?
        /// The path of the page, without query (the as-of form submits to it).
        public var path: String
        public var csrf: String

        public init(title: String, path: String, csrf: String, asOf: String? = nil, asOfDescription: String? = nil) {
            self.title = title; self.path = path; self.csrf = csrf; self.asOf = asOf; self.asOfDescription = asOfDescription
        }

        /// True when the page shows a past state: forms are hidden (one writes only to the present).
        public var isPast: Bool { asOf != nil }

        /// `?asof=…` to append to links, so navigation stays at the same point (escaped for an attribute).
        public var keep: String { asOf.map { "?asof=" + HTML.urlComponent($0) } ?? "" }
        /// The same for links that already carry a query.
        public var keepMore: String { asOf.map { "&asof=" + HTML.urlComponent($0) } ?? "" }
    }

    public static func render(_ frame: Frame, body: String) -> String {
        let past = frame.asOf.map { a in
            "<p class=\"asof-banner\">As the team saw it at <strong>\(h(a))</strong>\(frame.asOfDescription.map { " (\(h($0)))" } ?? ""). <a href=\"\(h(frame.path))\">Back to now</a></p>"
        } ?? ""
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(h(frame.title)) · Gloss</title><link rel="stylesheet" href="/style.css"></head>
        <body><header><nav><a href="/\(frame.keep)">Articles</a> <a href="/facts\(frame.keep)">Facts</a> <a href="/conflicts\(frame.keep)">Conflicts</a></nav>
        <form class="asof" method="get" action="\(h(frame.path))"><label>As of <input name="asof" value="\(h(frame.asOf ?? ""))" placeholder="2026-11-29T12:00:00Z or event id" size="34"></label> <button>Show</button></form>
        </header>
        \(past)<main>
        \(body)
        </main></body></html>
        """
    }

    /// A hidden CSRF field (every form carries one).
    static func csrfField(_ frame: Frame) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(h(frame.csrf))\">"
    }

    /// An error page: the message only (GlossError messages name ids and counts, never note or article text).
    public static func error(status: Int, message: String) -> String {
        render(Frame(title: "Error \(status)", path: "/", csrf: ""), body: "<h1>Error \(status)</h1><p class=\"error\">\(h(message))</p>")
    }

    public static let stylesheet = """
    body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
    header{display:flex;justify-content:space-between;align-items:center;padding:.5em 1em;background:#243447;color:#fff;flex-wrap:wrap}
    header a{color:#fff;margin-right:1em} header input{font:inherit}
    main{padding:1em 2em;max-width:80em}
    .asof-banner{background:#fff3cd;padding:.5em 2em;margin:0}
    table{border-collapse:collapse;margin:.5em 0} td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
    .mono,code,.id{font-family:ui-monospace,monospace;font-size:.9em}
    .article-text{white-space:pre-wrap;background:#fff;padding:1em;border:1px solid #ddd;line-height:1.7;unicode-bidi:plaintext}
    .user{white-space:pre-wrap;unicode-bidi:isolate;overflow-wrap:anywhere}
    mark.hl{background:none;border-radius:2px}
    mark.evidence{background:#fde68a} mark.annotation{border-bottom:3px solid #3b82f6}
    mark.evidence.annotation{background:#fde68a}
    mark.st-moved{outline:1px solid #10b981} mark.st-fuzzy{outline:1px dashed #f59e0b}
    mark.st-needs-review{outline:2px dashed #dc2626;background:#fee2e2} mark.st-confirmed,mark.st-retargeted{outline:1px solid #6366f1}
    .status{font-size:.85em;padding:0 .4em;border-radius:3px;background:#eee}
    .status.orphaned,.status.needs-review,.status.conflict{background:#fee2e2;color:#991b1b}
    .status.fuzzy{background:#fef3c7} .status.moved{background:#d1fae5}
    .candidates{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:1em}
    .candidate{background:#fff;border:1px solid #ccc;padding:.75em}
    .candidate pre,.diff{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate}
    del{background:#fee2e2;text-decoration:none;display:block} ins{background:#dcfce7;text-decoration:none;display:block}
    .diff .same{display:block;color:#555}
    .note-item{border-left:3px solid #ccc;padding-left:.75em;margin:.5em 0} .deleted{opacity:.6}
    .error{color:#991b1b} form.inline{display:inline}
    textarea{width:100%;font:inherit}
    """
}

extension Page {
    /// The one script (served as `/select.js`; the CSP allows scripts from this origin only, never
    /// inline): selecting a span of `#text` fills the annotate form with the quote and which
    /// occurrence of it the selection is (1-based, as `gloss annotate --occurrence` counts). A link
    /// `#span=START-END` (Unicode scalar offsets, as selectors count) selects that span the same way.
    public static let selectionScript = #"""
    "use strict";
    (function () {
      var text = document.getElementById("text");
      var form = document.getElementById("annotate");
      if (!text || !form) { return; }
      var quoteInput = form.querySelector("input[name=quote]");
      var occurrenceInput = form.querySelector("input[name=occurrence]");
      function fill(quote, before) {
        // before: the text ahead of the selection; the occurrence is 1 + how many matches start earlier.
        var all = text.textContent, n = 0, i = all.indexOf(quote);
        while (i !== -1 && i < before.length) { n += 1; i = all.indexOf(quote, i + 1); }
        quoteInput.value = quote; quoteInput.setAttribute("value", quote);
        occurrenceInput.value = String(n + 1); occurrenceInput.setAttribute("value", String(n + 1));
      }
      function fromSelection() {
        var sel = window.getSelection();
        if (!sel || sel.rangeCount === 0 || sel.isCollapsed) { return; }
        var range = sel.getRangeAt(0);
        if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) { return; }
        var ahead = document.createRange();
        ahead.setStart(text, 0);
        ahead.setEnd(range.startContainer, range.startOffset);
        var quote = range.toString();
        if (quote.trim() === "") { return; }
        fill(quote, ahead.toString());
      }
      text.addEventListener("mouseup", fromSelection);
      text.addEventListener("keyup", fromSelection);
      // #span=START-END in Unicode scalars (code points), as selectors count them.
      var m = /^#span=(\d+)-(\d+)$/.exec(window.location.hash);
      if (m) {
        var points = Array.from(text.textContent);
        var start = Number(m[1]), end = Number(m[2]);
        if (start < end && end <= points.length) {
          fill(points.slice(start, end).join(""), points.slice(0, start).join(""));
        }
      }
    })();
    """#
}
