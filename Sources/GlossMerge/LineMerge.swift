/// Three-way line merge, version 1 (Protocol/08-conflicts.md §Merge): a deterministic function of
/// (base, ours, theirs), so every replica computes the same text.
public enum LineMerge {
    public static let version = 1
    /// Longest text (in lines, per side) merged; longer texts are reported as conflicts.
    public static let maxLines = 4000

    /// A change: base lines [start, end) replaced by `lines`.
    struct Hunk: Equatable { var start: Int; var end: Int; var lines: [Line] }

    /// A line: its UTF-8 bytes, without the `\n`. Lines are split and compared as bytes: as Swift
    /// `Character`s, `\r\n` is one character that a split on `\n` never cuts (a CRLF text was one
    /// line, so any two edits of it conflicted), and Swift compares strings by canonical
    /// equivalence (an NFC and an NFD spelling of a line were one line).
    public typealias Line = [UInt8]

    /// The merged text, or nil when changed regions overlap.
    public static func merge(base: String, ours: String, theirs: String) -> String? {
        var cells = Int.max
        return merge(base: base, ours: ours, theirs: theirs, cells: &cells)
    }

    /// The table cells a merge of texts of `b`, `o` and `t` lines fills: one longest-common-subsequence
    /// table against each side.
    public static func cells(base b: Int, ours o: Int, theirs t: Int) -> Int { (b + 1) * (o + 1) + (b + 1) * (t + 1) }

    /// As `merge(base:ours:theirs:)`, spending at most `cells` table cells (`cells(base:ours:theirs:)`,
    /// taken from it): nil, as for an overlap, when the merge would take more than are left.
    public static func merge(base: String, ours: String, theirs: String, cells: inout Int) -> String? {
        let (bb, ob, tb) = (Array(base.utf8), Array(ours.utf8), Array(theirs.utf8))
        if ob == tb { return ours }
        if ob == bb { return theirs }
        if tb == bb { return ours }
        let b = lines(bb), o = lines(ob), t = lines(tb)
        guard b.count <= maxLines, o.count <= maxLines, t.count <= maxLines else { return nil }
        let cost = Self.cells(base: b.count, ours: o.count, theirs: t.count)
        guard cost <= cells else { return nil }
        cells -= cost
        var ids = LineIDs()
        let ib = ids.of(b), io = ids.of(o), it = ids.of(t)
        let ho = hunks(b, o, ib, io), ht = hunks(b, t, ib, it)
        var out: [Line] = []
        var pos = 0
        var i = 0, j = 0
        while i < ho.count || j < ht.count {
            let next: Hunk
            if i < ho.count && j < ht.count {
                let x = ho[i], y = ht[j]
                if x == y { next = x; i += 1; j += 1 }
                else if overlaps(x, y) { return nil }
                else if (x.start, x.end) < (y.start, y.end) { next = x; i += 1 } else { next = y; j += 1 }
            } else if i < ho.count { next = ho[i]; i += 1 } else { next = ht[j]; j += 1 }
            out.append(contentsOf: b[pos..<next.start])
            out.append(contentsOf: next.lines)
            pos = next.end
        }
        out.append(contentsOf: b[pos...])
        return String(decoding: Array(out.joined(separator: [0x0A])), as: UTF8.self)
    }

    /// `table[i * (b.count + 1) + j]` = the length of the longest common subsequence of `a[i...]`
    /// and `b[j...]`, in one flat array (the line merge and the web view's line diff walk it).
    /// (16-bit cells: both callers bound their sides to a few thousand lines.)
    public static func lcsTable<T: Equatable>(_ a: [T], _ b: [T]) -> [UInt16] {
        let n = a.count, m = b.count
        precondition(min(n, m) < Int(UInt16.max), "a longest-common-subsequence table of \(n) × \(m) lines")
        var lcs = [UInt16](repeating: 0, count: (n + 1) * (m + 1))
        let w = m + 1
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    lcs[i * w + j] = a[i] == b[j] ? lcs[(i + 1) * w + j + 1] + 1 : max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
                }
            }
        }
        return lcs
    }

    /// The lines of a text's UTF-8 bytes, split at each `\n` (an empty text is one empty line).
    public static func lines(_ bytes: [UInt8]) -> [Line] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    }

    /// The lines of a text, as text (for showing them).
    public static func lines(_ text: String) -> [String] {
        lines(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Two changes overlap when their base ranges intersect, when both insert at the same point, or
    /// when one inserts strictly inside the other's range. Touching ranges do not overlap.
    static func overlaps(_ x: Hunk, _ y: Hunk) -> Bool {
        if x.start == x.end && y.start == y.end { return x.start == y.start }
        if x.start == x.end { return y.start < x.start && x.start < y.end }
        if y.start == y.end { return x.start < y.start && y.start < x.end }
        return x.start < y.end && y.start < x.end
    }

    /// The changes turning `a` into `b`, from a longest common subsequence (ties broken the same way
    /// everywhere: prefer advancing in `a`).
    static func hunks(_ a: [Line], _ b: [Line], _ ia: [Int], _ ib: [Int]) -> [Hunk] {
        let n = a.count, m = b.count
        let lcs = lcsTable(ia, ib), w = m + 1
        var out: [Hunk] = []
        var i = 0, j = 0
        var cur: Hunk?
        func flush() { if let c = cur { out.append(c); cur = nil } }
        while i < n || j < m {
            if i < n && j < m && ia[i] == ib[j] { flush(); i += 1; j += 1; continue }
            if cur == nil { cur = Hunk(start: i, end: i, lines: []) }
            if j < m && (i == n || lcs[i * w + j + 1] > lcs[(i + 1) * w + j]) {
                cur!.lines.append(b[j]); j += 1
            } else {
                i += 1; cur!.end = i
            }
        }
        flush()
        return out
    }

    /// Lines numbered so that two lines get one number exactly when they are equal: the table
    /// compares integers, not strings (a line compare costs its length, and Unicode strings compare
    /// slowly: a 3,000-line table of long non-ASCII lines took seconds). One hash per line.
    public struct LineIDs {
        private var ids: [Line: Int] = [:]
        public init() {}
        public mutating func of(_ lines: [Line]) -> [Int] {
            lines.map { line in
                if let id = ids[line] { return id }
                let id = ids.count
                ids[line] = id
                return id
            }
        }
    }
}
