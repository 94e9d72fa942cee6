import Foundation

/// A suffix array of a text's scalars: every occurrence of a pattern in O(m log N + k), not a pass
/// over the text (Protocol/09-anchoring.md §4). Re-anchoring every annotation of a revised article
/// searches one text for each quote and its context pieces; with a pass per search, 200 annotations
/// on a 4 MB article took 18.8 s to re-anchor (and again at every rebuild), and a peer could send
/// thousands of annotations and one large revision.
///
/// Built by prefix doubling with counting sorts (Manber–Myers): O(N log N) worst case (a text of one
/// repeated scalar), a few passes for natural text; 4 bytes a scalar, 12 while building.
struct SuffixIndex: Sendable {
    /// The text's start positions in lexicographic order of the suffixes they start (scalar values;
    /// a suffix that is a prefix of another sorts first).
    let order: [Int32]

    init(_ text: [Unicode.Scalar]) {
        let n = text.count
        guard n > 0 else { order = []; return }
        // Ranks of single scalars: their values, compressed to 0..<distinct.
        let distinct = Array(Set(text.lazy.map(\.value))).sorted()
        var code: [UInt32: Int32] = [:]
        code.reserveCapacity(distinct.count)
        for (i, v) in distinct.enumerated() { code[v] = Int32(i) }
        var rank = text.map { code[$0.value]! }
        // Four buffers of n Int32 while building (`scratch` holds the positions by second key, then
        // the new ranks); `order` alone is kept.
        var sa = [Int32](repeating: 0, count: n), scratch = [Int32](repeating: 0, count: n)
        var counts = [Int32](repeating: 0, count: max(n, distinct.count) + 1)
        var classes = distinct.count
        for i in 0..<n { scratch[i] = Int32(i) }
        Self.countingSort(keys: rank, classes: classes, input: scratch, output: &sa, counts: &counts)
        var k = 1
        while classes < n {
            // Order by (rank[i], rank[i + k]): positions by their second key (those without one
            // first, in position order), then stably by the first.
            var j = 0
            for i in max(0, n - k)..<n { scratch[j] = Int32(i); j += 1 }
            for p in sa where Int(p) >= k { scratch[j] = p - Int32(k); j += 1 }
            Self.countingSort(keys: rank, classes: classes, input: scratch, output: &sa, counts: &counts)
            // New ranks (into `scratch`): equal pairs share one.
            var c: Int32 = 0
            rank.withUnsafeBufferPointer { r in
                sa.withUnsafeBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { next in
                        next[Int(o[0])] = 0
                        for j in 1..<n {
                            let a = Int(o[j - 1]), b = Int(o[j])
                            if r[a] != r[b] || (a + k < n ? r[a + k] : -1) != (b + k < n ? r[b + k] : -1) { c += 1 }
                            next[b] = c
                        }
                    }
                }
            }
            swap(&rank, &scratch)
            classes = Int(c) + 1
            k *= 2
        }
        order = sa
    }

    /// Stable counting sort of `input` by `keys[input[i]]` (keys in 0..<classes) into `output`.
    private static func countingSort(keys: [Int32], classes: Int, input: [Int32], output: inout [Int32], counts: inout [Int32]) {
        keys.withUnsafeBufferPointer { keys in
            input.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { output in
                    counts.withUnsafeMutableBufferPointer { counts in
                        for i in 0...classes { counts[i] = 0 }
                        for p in input { counts[Int(keys[Int(p)]) + 1] += 1 }
                        for i in 0..<classes { counts[i + 1] += counts[i] }
                        for p in input {
                            let key = Int(keys[Int(p)])
                            output[Int(counts[key])] = p
                            counts[key] += 1
                        }
                    }
                }
            }
        }
    }

    /// -1, 0 or 1: the suffix at `start` against `pattern`, over the pattern's length (0 when the
    /// pattern is a prefix of the suffix).
    private static func compare(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ start: Int, _ pattern: [Unicode.Scalar]) -> Int {
        var i = 0
        while i < pattern.count {
            if start + i >= text.count { return -1 }
            let a = text[start + i].value, b = pattern[i].value
            if a != b { return a < b ? -1 : 1 }
            i += 1
        }
        return 0
    }

    /// Every start of `pattern` in `text` (the text this index was built from), increasing; nil
    /// when there are more than `limit`.
    func occurrences(of pattern: [Unicode.Scalar], in text: [Unicode.Scalar], limit: Int = .max) -> [Int]? {
        let range = self.range(of: pattern, in: text)
        guard range.count <= limit else { return nil }
        return order[range].map(Int.init).sorted()
    }

    /// Every start of `pattern` in `text`, in no particular order (no sort: a quote of one letter
    /// occurs millions of times in a large text).
    func forEachOccurrence(of pattern: [Unicode.Scalar], in text: [Unicode.Scalar], _ body: (Int) -> Void) {
        for i in range(of: pattern, in: text) { body(Int(order[i])) }
    }

    /// How many times `pattern` occurs in `text` (two binary searches).
    func count(of pattern: [Unicode.Scalar], in text: [Unicode.Scalar]) -> Int { range(of: pattern, in: text).count }

    /// The suffixes that begin with `pattern`: a range of `order`.
    private func range(of pattern: [Unicode.Scalar], in text: [Unicode.Scalar]) -> Range<Int> {
        guard !pattern.isEmpty, pattern.count <= text.count else { return 0..<0 }
        return text.withUnsafeBufferPointer { t in
            // First suffix not below the pattern, then first one above it.
            func bound(_ above: Bool) -> Int {
                var lo = 0, hi = order.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    let c = Self.compare(t, Int(order[mid]), pattern)
                    if c < 0 || (above && c == 0) { lo = mid + 1 } else { hi = mid }
                }
                return lo
            }
            return bound(false)..<bound(true)
        }
    }
}

/// A suffix index built once a large text has been searched by passes `afterSearches` times (a
/// few searches cost less than building it: about 20 passes; re-anchoring one annotation takes up
/// to four).
final class LazySuffixIndex: @unchecked Sendable {
    /// Texts shorter than this are always searched by passes.
    static let minimumScalars = 65_536
    static let afterSearches = 8
    private let lock = NSLock()
    private var searches = 0
    private var built: SuffixIndex?
    let threshold: Int

    init(afterSearches: Int = LazySuffixIndex.afterSearches) { threshold = afterSearches }

    func index(for text: [Unicode.Scalar]) -> SuffixIndex? {
        lock.lock(); defer { lock.unlock() }
        if let built { return built }
        searches += 1
        guard searches > threshold else { return nil }
        built = SuffixIndex(text)
        return built
    }
}
