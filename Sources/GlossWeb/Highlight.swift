/// One span to highlight in a revision's text: Unicode-scalar offsets over the NFC text
/// (Protocol/09-anchoring.md; selectors count scalars, not bytes or grapheme clusters).
public struct HighlightSpan: Sendable, Equatable {
    public enum Kind: String, Sendable { case evidence, annotation }
    public var start: Int
    public var end: Int
    /// The fact or annotation id.
    public var object: String
    public var kind: Kind
    /// The anchor status (`exact`, `moved`, `fuzzy`, `needs-review`, `confirmed`, `retargeted`).
    public var status: String

    public init(start: Int, end: Int, object: String, kind: Kind, status: String) {
        self.start = start; self.end = end; self.object = object; self.kind = kind; self.status = status
    }
}

/// Cuts a text at its spans' offsets into nested `<mark>` elements.
///
/// Overlapping spans nest where they can and are split where they cross: at every boundary the
/// marks that end there are closed (closing the ones opened inside them too, which are reopened
/// right after), then the marks that start there are opened, longest first. Every piece of text is
/// escaped after cutting, so offsets always count the original scalars. Spans out of the text's
/// range are clamped; empty ones are left out (the page lists them apart).
///
/// Spans that cross many others can need a number of marks quadratic in the spans (2,000
/// annotations each crossing the next: millions of marks, a page of gigabytes). Past
/// `maxMarks(spans)` marks the text is cut flat instead: one mark per piece between two boundaries,
/// for the innermost span covering it (the latest to start) — linear, and every span's text is
/// still marked.
public enum Highlighter {
    /// Marks (opened and reopened) at most, for `spans` valid spans.
    static func maxMarks(_ spans: Int) -> Int { 4 * spans + 256 }

    public static func render(_ text: String, spans: [HighlightSpan]) -> String {
        let scalars = Array(text.unicodeScalars)
        let n = scalars.count
        var valid: [(index: Int, span: HighlightSpan)] = []
        for (i, s) in spans.enumerated() {
            var c = s
            c.start = min(max(0, s.start), n); c.end = min(max(0, s.end), n)
            if c.start < c.end { valid.append((i, c)) }
        }
        // Opening order: earlier start first, then longer first, then input order.
        valid.sort { a, b in
            if a.span.start != b.span.start { return a.span.start < b.span.start }
            if a.span.end != b.span.end { return a.span.end > b.span.end }
            return a.index < b.index
        }
        var boundaries = Set<Int>([0, n])
        for v in valid { boundaries.insert(v.span.start); boundaries.insert(v.span.end) }
        let cuts = boundaries.sorted()
        let spans = valid.map(\.span)
        return nested(scalars, spans, cuts) ?? flat(scalars, spans, cuts)
    }

    static func piece(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> String {
        var piece = String.UnicodeScalarView()
        piece.append(contentsOf: scalars[range])
        return HTML.escape(String(piece))
    }

    /// Nested marks, split where spans cross; nil past `maxMarks`.
    static func nested(_ scalars: [Unicode.Scalar], _ valid: [HighlightSpan], _ cuts: [Int]) -> String? {
        var out = ""
        out.reserveCapacity(scalars.count + valid.count * 96)
        var stack: [Int] = []  // indexes into `valid`, outermost first
        var next = 0  // the next span of `valid` to open
        var marks = 0, budget = maxMarks(valid.count)
        for (k, pos) in cuts.enumerated() {
            // Close the marks that end here, and everything opened inside them.
            if let lowest = stack.firstIndex(where: { valid[$0].end <= pos }) {
                let reopen = stack[lowest...].filter { valid[$0].end > pos }
                marks += reopen.count
                guard marks <= budget else { return nil }
                for _ in stack[lowest...] { out += "</mark>" }
                stack.removeSubrange(lowest...)
                for v in reopen { out += open(valid[v], continued: true); stack.append(v) }
            }
            while next < valid.count && valid[next].start == pos {
                out += open(valid[next], continued: false)
                stack.append(next)
                next += 1
                marks += 1
            }
            if k + 1 < cuts.count { out += piece(scalars, pos..<cuts[k + 1]) }
        }
        for _ in stack { out += "</mark>" }
        return out
    }

    /// One mark per piece between two boundaries, for the covering span that started last.
    static func flat(_ scalars: [Unicode.Scalar], _ valid: [HighlightSpan], _ cuts: [Int]) -> String {
        var out = ""
        var active: [Int] = []  // spans opened, in opening order; ended ones dropped when on top
        var next = 0
        for (k, pos) in cuts.enumerated() where k + 1 < cuts.count {
            while next < valid.count && valid[next].start == pos { active.append(next); next += 1 }
            while let top = active.last, valid[top].end <= pos { active.removeLast() }
            let text = piece(scalars, pos..<cuts[k + 1])
            if let top = active.last {
                out += open(valid[top], continued: true) + text + "</mark>"
            } else {
                out += text
            }
        }
        return out
    }

    static func open(_ s: HighlightSpan, continued: Bool) -> String {
        let label = "\(s.kind == .evidence ? "evidence of fact" : "annotation") \(s.object.prefix(12)): \(s.status)"
        return "<mark class=\"hl \(s.kind.rawValue) st-\(h(s.status))\(continued ? " cont" : "")\" data-object=\"\(h(s.object))\" data-status=\"\(h(s.status))\" title=\"\(h(label))\">"
    }
}
