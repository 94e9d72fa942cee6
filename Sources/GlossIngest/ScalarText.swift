/// A text held as an array of Unicode scalars, so that positions (Protocol/06-extraction.md §Selectors)
/// are O(1) to reach. Built once per text; a 4 MiB text costs 16 MiB here for the duration of a call.
struct ScalarText {
    let scalars: [Unicode.Scalar]
    /// For a text searched many times (`indexed`) and large: a suffix index, built once it has
    /// been searched `LazySuffixIndex.afterSearches` times.
    let index: LazySuffixIndex?

    /// `indexed`: a text of at least `minimumScalars` gets a suffix index after `afterSearches` searches.
    init(_ text: String, indexed: Bool = false, minimumScalars: Int = LazySuffixIndex.minimumScalars,
         afterSearches: Int = LazySuffixIndex.afterSearches) {
        scalars = Array(text.unicodeScalars)
        index = indexed && scalars.count >= minimumScalars ? LazySuffixIndex(afterSearches: afterSearches) : nil
    }

    var count: Int { scalars.count }

    /// The scalars `[start, end)` as a string (clamped to the text).
    func string(_ start: Int, _ end: Int) -> String {
        let lo = max(0, min(start, count)), hi = max(lo, min(end, count))
        // UTF-8 written directly (appending scalars to a `UnicodeScalarView` one by one was the
        // costliest part of anchoring an annotation).
        return String(unsafeUninitializedCapacity: (hi - lo) * 4) { buffer in
            var i = 0
            for s in scalars[lo..<hi] {
                let v = s.value
                if v < 0x80 {
                    buffer[i] = UInt8(v); i += 1
                } else {
                    for unit in s.utf8 { buffer[i] = unit; i += 1 }
                }
            }
            return i
        }
    }

    /// The scalars `[start, end)` with every run of whitespace (newlines included) folded to one space
    /// and no whitespace at either end: the form candidate values take (§Values).
    func folded(_ start: Int, _ end: Int) -> String {
        var view = String.UnicodeScalarView()
        var pendingSpace = false
        for s in scalars[max(0, start)..<min(end, count)] {
            if s.properties.isWhitespace {
                pendingSpace = !view.isEmpty
            } else {
                if pendingSpace { view.append(" "); pendingSpace = false }
                view.append(s)
            }
        }
        return String(view)
    }

    /// Whether `needle` occurs at `position`.
    func hasMatch(_ needle: [Unicode.Scalar], at position: Int) -> Bool {
        guard position >= 0, position + needle.count <= count else { return false }
        var i = 0
        while i < needle.count {
            if scalars[position + i] != needle[i] { return false }
            i += 1
        }
        return true
    }

    /// Every start position of `needle`, overlapping occurrences included, in increasing order;
    /// nil when there are more than `limit`. Through the suffix index when the text has one built,
    /// else one pass (Knuth–Morris–Pratt: linear in the text whatever the quote).
    func occurrences(of needle: [Unicode.Scalar], limit: Int = .max) -> [Int]? {
        if let index = index?.index(for: scalars) { return index.occurrences(of: needle, in: scalars, limit: limit) }
        let all = occurrences(of: needle)
        return all.count <= limit ? all : nil
    }

    /// Every start position of `needle`, overlapping occurrences included, in increasing order
    /// (Knuth–Morris–Pratt: linear in the text whatever the quote).
    func occurrences(of needle: [Unicode.Scalar]) -> [Int] {
        var result: [Int] = []
        occurrences(of: needle) { result.append($0) }
        return result
    }

    /// The same, each start handed to `body` as the pass finds it.
    func occurrences(of needle: [Unicode.Scalar], _ body: (Int) -> Void) {
        guard !needle.isEmpty, needle.count <= count else { return }
        var failure = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in 1..<needle.count {
            while k > 0 && needle[i] != needle[k] { k = failure[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            failure[i] = k
        }
        k = 0
        for i in 0..<count {
            while k > 0 && scalars[i] != needle[k] { k = failure[k - 1] }
            if scalars[i] == needle[k] { k += 1 }
            if k == needle.count {
                body(i - needle.count + 1)
                k = failure[k - 1]
            }
        }
    }

    /// The selector of `[start, end)` with up to `TextSelector.contextLength` scalars of context.
    func selector(_ start: Int, _ end: Int) -> TextSelector {
        TextSelector(exact: string(start, end),
                     prefix: string(start - TextSelector.contextLength, start),
                     suffix: string(end, end + TextSelector.contextLength),
                     start: start, end: end)
    }
}
