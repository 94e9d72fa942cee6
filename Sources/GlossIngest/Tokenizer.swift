/// One token of an article (Protocol/06-extraction.md §Tokens). Positions are scalar offsets.
struct Token {
    enum Kind: Equatable {
        /// Letters, marks and digits starting with a letter; in-word apostrophes; dotted acronyms (`U.S.`).
        case word
        /// ASCII digits.
        case number
        /// `’s` / `'s` right after a word and before a non-letter.
        case possessive
        /// A line break.
        case newline
        /// Any other single scalar that is not whitespace.
        case punct
    }

    var kind: Kind
    var start: Int
    var end: Int
    var text: String
    /// `text` lowercased, for case-insensitive lexicon look-ups.
    var lower: String

    var isWord: Bool { kind == .word }
    /// First scalar is an uppercase or titlecase letter.
    var isCapitalized: Bool {
        guard kind == .word, let f = text.unicodeScalars.first else { return false }
        return f.properties.isUppercase || f.properties.generalCategory == .titlecaseLetter
    }
    /// Capitalized and containing a lowercase letter (`Hasanov`, `McDonald`, not `COAS` or `U.S.`).
    var isTitleCase: Bool {
        isCapitalized && text.unicodeScalars.contains { $0.properties.isLowercase }
    }
    var isLowercaseWord: Bool {
        guard kind == .word, let f = text.unicodeScalars.first else { return false }
        return f.properties.isLowercase
    }
}

enum Tokenizer {
    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || isMark(s)
    }

    static func isMark(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }

    /// Letters, marks and any decimal digit: what a word boundary is measured against.
    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        isLetter(s) || s.properties.numericType == .decimal
    }

    static func isApostrophe(_ s: Unicode.Scalar) -> Bool { s == "'" || s == "\u{2019}" }

    static func isNewline(_ s: Unicode.Scalar, next: Unicode.Scalar?) -> Bool {
        switch s {
        case "\n", "\u{2028}", "\u{2029}", "\u{0B}", "\u{0C}", "\u{85}": return true
        case "\r": return next != "\n"
        default: return false
        }
    }

    // Protocol/06-extraction.md §Tokens
    static func tokenize(_ t: ScalarText) -> [Token] {
        let s = t.scalars
        let n = s.count
        var tokens: [Token] = []
        tokens.reserveCapacity(n / 5)
        func emit(_ kind: Token.Kind, _ a: Int, _ b: Int) {
            let text = t.string(a, b)
            tokens.append(Token(kind: kind, start: a, end: b, text: text, lower: text.lowercased()))
        }
        var i = 0
        // A dotted-acronym scan that failed reached here: every later start inside the same run of
        // "X." pairs reaches the same end and fails the same way, so it is not scanned again (a
        // run of 20,000 pairs ending in a letter cost 200 million steps).
        var noAcronymBefore = 0
        while i < n {
            let c = s[i]
            if isNewline(c, next: i + 1 < n ? s[i + 1] : nil) {
                emit(.newline, i, i + 1); i += 1; continue
            }
            if c.properties.isWhitespace { i += 1; continue }
            if isDigit(c) {
                var j = i
                while j < n && isDigit(s[j]) { j += 1 }
                emit(.number, i, j); i = j; continue
            }
            if c.properties.isAlphabetic {
                // Dotted acronym: (letter ".")×2 or more, e.g. U.S., U.K., U.S.A., D.C.
                var j = i
                var pairs = 0
                while i >= noAcronymBefore, j + 1 < n, s[j].properties.isUppercase, s[j + 1] == ".",
                      j + 2 >= n || !isLetter(s[j + 2]) || s[j + 2].properties.isUppercase {
                    j += 2; pairs += 1
                    if j >= n || !s[j].properties.isUppercase { break }
                }
                if pairs >= 2 && (j >= n || !isLetter(s[j])) {
                    emit(.word, i, j); i = j; continue
                }
                noAcronymBefore = max(noAcronymBefore, j)
                j = i
                while j < n {
                    if isLetter(s[j]) || s[j].properties.numericType == .decimal { j += 1; continue }
                    if isApostrophe(s[j]), j + 1 < n, isLetter(s[j + 1]) {
                        // `’s` then a non-letter is a possessive; otherwise the apostrophe is in-word.
                        let possessive = (s[j + 1] == "s" || s[j + 1] == "S") && (j + 2 >= n || !isLetter(s[j + 2]))
                        if possessive { break }
                        j += 1; continue
                    }
                    break
                }
                emit(.word, i, j)
                if j + 1 < n, isApostrophe(s[j]), s[j + 1] == "s" || s[j + 1] == "S", j + 2 >= n || !isLetter(s[j + 2]) {
                    emit(.possessive, j, j + 2); j += 2
                }
                i = j; continue
            }
            emit(.punct, i, i + 1); i += 1
        }
        return tokens
    }
}
