/// A token of the tl language.
public struct Token: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case number(Double)
        case string(String)
        case name(String)
        case keyword(String)
        /// Operators and punctuation: `+ - * / % ** @ == != < <= > >= = ( ) [ ] { } , : ; .`
        case symbol(String)
        /// A shell command at the start of a statement: `:help train` → ("help", "train").
        case command(String, String)
        case newline
        case end
    }

    public var kind: Kind
    public var range: SourceRange
}

/// Splits source text into tokens.
///
/// Newlines inside `( )` and `[ ]`, and after an operator that needs a right operand, do not end
/// a statement, so calls and expressions may span lines. Inside `{ }` they do (blocks hold
/// statements); the parser skips them inside record literals.
public struct Lexer {
    public static let keywords: Set<String> = [
        "for", "in", "if", "else", "while", "def", "return", "break", "continue", "true", "false", "none",
        "and", "or", "not", "global",
    ]
    /// Symbols after which a line break continues the statement.
    static let continuing: Set<String> = [
        "+", "-", "*", "/", "%", "**", "@", "==", "!=", "<", "<=", ">", ">=", "=", ",", ".", "(", "[",
    ]

    let source: Source
    private var s: [Unicode.Scalar] { source.scalars }
    private var i = 0, line = 1, column = 1
    private var nesting: [Unicode.Scalar] = []
    private var tokens: [Token] = []
    private(set) var errors: [LangError] = []

    public init(_ source: Source) { self.source = source }

    /// Tokens of the whole source, ending with `.end`; lexical errors are collected in `errors`.
    public static func tokenize(_ source: Source) -> (tokens: [Token], errors: [LangError]) {
        var lexer = Lexer(source)
        lexer.run()
        return (lexer.tokens, lexer.errors)
    }

    private var location: SourceLocation { SourceLocation(line: line, column: column, offset: i) }
    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    private mutating func advance() {
        if s[i] == "\n" { line += 1; column = 1 } else { column += 1 }
        i += 1
    }

    private mutating func add(_ kind: Token.Kind, from start: SourceLocation) {
        tokens.append(Token(kind: kind, range: SourceRange(start, location)))
    }

    private var atStatementStart: Bool {
        guard let last = tokens.last else { return true }
        switch last.kind {
        case .newline: return true
        case .symbol(let s): return s == ";" || s == "{" || s == "}"
        default: return false
        }
    }

    private var newlineEndsStatement: Bool {
        if let open = nesting.last, open != "{" { return false }
        if case .symbol(let s)? = tokens.last?.kind, Lexer.continuing.contains(s) { return false }
        if case .keyword(let k)? = tokens.last?.kind, ["and", "or", "not", "in"].contains(k) { return false }
        return true
    }

    private mutating func run() {
        while let c = peek() {
            let start = location
            switch c {
            case " ", "\t", "\r":
                advance()
            case "#":
                while let d = peek(), d != "\n" { advance() }
            case "\n":
                advance()
                if newlineEndsStatement {
                    if case .newline? = tokens.last?.kind {} else if !tokens.isEmpty { add(.newline, from: start) }
                }
            case "0"..."9":
                number(start)
            case ".":
                if let d = peek(1), ("0"..."9").contains(d) { number(start) } else { advance(); add(.symbol("."), from: start) }
            case "\"", "'", "\u{201C}", "\u{2018}", "\u{201E}":
                string(start)
            case ":" where atStatementStart && isNameStart(peek(1)):
                command(start)
            default:
                if isNameStart(c) {
                    var name = ""
                    while let d = peek(), isNameChar(d) { name.unicodeScalars.append(d); advance() }
                    // Python's f"…" (and r"…", b"…"): a prefix glued to a string.
                    if ["f", "r", "b", "rb", "br", "fr", "rf"].contains(name.lowercased()), let q = peek(), q == "\"" || q == "'" {
                        errors.append(LangError(.syntax, name.lowercased().contains("f")
                            ? "tl has no f-strings: join text with + and str(), \"x is \" + str(x), or give print several values, print(\"x is\", x)"
                            : "tl has no \(name)\"…\" strings: write \"…\" (\\\\ for a backslash)", at: SourceRange(start, location)))
                        string(start)
                        continue
                    }
                    add(Lexer.keywords.contains(name) ? .keyword(name) : .name(name), from: start)
                } else {
                    symbol(start)
                }
            }
        }
        // The text ends a statement only where a line break would: not inside ( ) or [ ], nor
        // after an operator; there the parser meets the end and says "incomplete" (read more).
        if let last = tokens.last, last.kind != .newline, newlineEndsStatement { add(.newline, from: location) }
        add(.end, from: location)
    }

    private func isNameStart(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return c == "_" || c.properties.isAlphabetic
    }

    private func isNameChar(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }

    private mutating func number(_ start: SourceLocation) {
        var text = ""
        func digits() {
            while let d = peek(), ("0"..."9").contains(d) || d == "_" {
                if d != "_" { text.unicodeScalars.append(d) }
                advance()
            }
        }
        digits()
        if peek() == ".", let d = peek(1), ("0"..."9").contains(d) || !isNameStart(d) {
            text += "."
            advance()
            digits()
        }
        if let e = peek(), e == "e" || e == "E" {
            let sign = peek(1)
            let hasSign = sign == "+" || sign == "-"
            if let d = peek(hasSign ? 2 : 1), ("0"..."9").contains(d) {
                text += "e"
                advance()
                if hasSign { text.unicodeScalars.append(sign!); advance() }
                digits()
            }
        }
        if let d = peek(), isNameStart(d) {
            while let d = peek(), isNameChar(d) { advance() }
            errors.append(LangError(.syntax, "invalid number '\(source.text(SourceRange(start, location)))'", at: SourceRange(start, location)))
            add(.number(0), from: start)
            return
        }
        add(.number(Double(text) ?? 0), from: start)
    }

    /// The quotes a string may be written in by mistake: Python's single quotes and the
    /// typographic ones a document pasted from gives, each opening quote with those that close it.
    static let otherQuotes: [Unicode.Scalar: Set<Unicode.Scalar>] = [
        "'": ["'"], "\u{2018}": ["\u{2019}", "'"], "\u{201C}": ["\u{201D}", "\""], "\u{201E}": ["\u{201C}", "\u{201D}", "\""],
    ]

    /// A string literal. One written in other quotes is read to its closing quote and reported
    /// once, with the literal as it should be written (not as a run of unexpected characters).
    private mutating func string(_ start: SourceLocation) {
        let opening = s[i]
        let closing = Lexer.otherQuotes[opening] ?? ["\""]
        advance()
        var value = ""
        while let c = peek(), !closing.contains(c) {
            if c == "\n" { break }
            if c == "\\" {
                let escapeStart = location
                advance()
                guard let e = peek(), e != "\n" else { break }
                advance()
                switch e {
                case "n": value += "\n"
                case "t": value += "\t"
                case "\"": value += "\""
                case "\\": value += "\\"
                case "'" where opening != "\"": value += "'"
                default:
                    errors.append(LangError(.syntax, "unknown escape '\\\(e)' in string (use \\n, \\t, \\\" or \\\\)",
                                            at: SourceRange(escapeStart, location)))
                }
                continue
            }
            value.unicodeScalars.append(c)
            advance()
        }
        guard let close = peek(), closing.contains(close) else {
            errors.append(LangError(peek() == nil ? .incomplete : .syntax, "unterminated string", at: SourceRange(start, location)))
            add(.string(value), from: start)
            return
        }
        advance()
        if opening != "\"" {
            let typographic = opening != "'" || close != "'"
            errors.append(LangError(.syntax, (typographic ? "typographic quotes (pasted from a document?): strings take straight double quotes: "
                                                          : "strings take double quotes: ") + quoted(value),
                                    at: SourceRange(start, location)))
        }
        add(.string(value), from: start)
    }

    private mutating func command(_ start: SourceLocation) {
        advance()
        var name = ""
        while let d = peek(), isNameChar(d) { name.unicodeScalars.append(d); advance() }
        // The argument runs to the end of the line or to a comment outside quotes.
        var rest = ""
        var quoted = false
        while let d = peek(), d != "\n" {
            if d == "\"" { quoted.toggle() }
            if d == "#" && !quoted { break }
            rest.unicodeScalars.append(d)
            advance()
        }
        while let d = peek(), d != "\n" { _ = d; advance() }
        add(.command(name, rest.trimmingCharacters(in: " \t\r")), from: start)
    }

    private mutating func symbol(_ start: SourceLocation) {
        let c = s[i]
        let two = peek(1).map { String(c) + String($0) } ?? ""
        if ["**", "==", "!=", "<=", ">="].contains(two) {
            advance(); advance()
            add(.symbol(two), from: start)
            return
        }
        advance()
        switch c {
        case "(", "[", "{":
            nesting.append(c)
        case ")", "]", "}":
            let expected: Unicode.Scalar = c == ")" ? "(" : c == "]" ? "[" : "{"
            guard nesting.last == expected else {
                errors.append(LangError(.syntax, "unmatched '\(c)'", at: SourceRange(start, location)))
                return
            }
            nesting.removeLast()
        case "+", "-", "*", "/", "%", "@", "<", ">", "=", ",", ":", ";", ".":
            break
        default:
            let shown = c.properties.isWhitespace ? "U+\(String(c.value, radix: 16, uppercase: true))" : String(c)
            errors.append(LangError(.syntax, "unexpected character '\(shown)'", at: SourceRange(start, location)))
            return
        }
        add(.symbol(String(c)), from: start)
    }

    /// Whether brackets opened in the text are still open at its end.
    public var hasOpenBrackets: Bool { !nesting.isEmpty }
}
