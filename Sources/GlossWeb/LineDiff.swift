import GlossMerge

/// A line diff (longest common subsequence of lines, the table of the line merge) for showing two
/// texts side by side: conflict candidates and revisions.
public enum LineDiff {
    public enum Line: Sendable, Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The most lines either side may have: the table is `(a + 1) × (b + 1)` small integers.
    public static let maxLines = 3000

    /// The lines of `a` and `b` as kept, removed (only in `a`) and added (only in `b`); nil when a
    /// side is over `maxLines` lines.
    public static func diff(_ a: String, _ b: String) -> [Line]? {
        // Lines as the merge splits them: at each `\n` byte (a `\r\n` keeps its `\r`).
        let x = LineMerge.lines(a), y = LineMerge.lines(b)
        guard x.count <= maxLines, y.count <= maxLines else { return nil }
        // Trim the common head and tail first: most diffs are small.
        var head = 0
        while head < x.count && head < y.count && x[head].utf8.elementsEqual(y[head].utf8) { head += 1 }
        var tail = 0
        while tail < x.count - head && tail < y.count - head && x[x.count - 1 - tail].utf8.elementsEqual(y[y.count - 1 - tail].utf8) { tail += 1 }
        let xs = Array(x[head..<(x.count - tail)]), ys = Array(y[head..<(y.count - tail)])
        let n = xs.count, m = ys.count
        var ids = LineMerge.LineIDs()
        let ix = ids.of(xs.map { Array($0.utf8) }), iy = ids.of(ys.map { Array($0.utf8) })
        let table = LineMerge.lcsTable(ix, iy), w = m + 1
        var out: [Line] = x[..<head].map { .same($0) }
        var i = 0, j = 0
        while i < n || j < m {
            if i < n && j < m && ix[i] == iy[j] { out.append(.same(xs[i])); i += 1; j += 1 }
            else if j < m && (i == n || table[i * w + j + 1] >= table[(i + 1) * w + j]) { out.append(.added(ys[j])); j += 1 }
            else { out.append(.removed(xs[i])); i += 1 }
        }
        out += x[(x.count - tail)...].map { .same($0) }
        return out
    }

    /// The diff as an HTML table body: one row per line, marked `del`/`ins`, every line escaped.
    public static func render(_ a: String, _ b: String) -> String {
        guard let lines = diff(a, b) else {
            return "<p class=\"note\">Too long to diff (over \(maxLines) lines); both texts are shown in full.</p>"
        }
        var out = "<pre class=\"diff\">"
        for l in lines {
            switch l {
            case .same(let s): out += "<span class=\"same\">  \(h(s))</span>\n"
            case .removed(let s): out += "<del>- \(h(s))</del>\n"
            case .added(let s): out += "<ins>+ \(h(s))</ins>\n"
            }
        }
        return out + "</pre>"
    }
}
