/// Turns tokens into statements, recovering at statement boundaries so that one run reports
/// every syntax error of a file.
public struct Parser {
    /// How deeply expressions and blocks may nest before the parser gives up.
    static let maxNesting = 100
    /// The deepest expression tree accepted (long chains such as 1 + 1 + … count too).
    static let maxHeight = 400

    private let source: Source
    private var tokens: [Token]
    private var p = 0
    private var depth = 0
    private var errors: [LangError] = []
    private var spans: [SourceRange] = []

    /// Statements of `source` and every error found; an error at the end of the input has kind
    /// `.incomplete` (at the prompt: read another line).
    public static func parse(_ source: Source) -> (statements: [Stmt], errors: [LangError]) {
        let (statements, _, errors) = parseWithSpans(source)
        return (statements, errors)
    }

    /// Like `parse`, with the full source span of each top-level statement (from its first token
    /// to its last, bodies included), for splitting a script into steps.
    public static func parseWithSpans(_ source: Source) -> (statements: [Stmt], spans: [SourceRange], errors: [LangError]) {
        let (tokens, lexErrors) = Lexer.tokenize(source)
        var parser = Parser(source: source, tokens: tokens)
        let statements = parser.program()
        // A lexical error is the cause of any parse error on its line: report it alone.
        let lexLines = Set(lexErrors.compactMap { $0.range?.start.line })
        let parseErrors = parser.errors.filter { e in e.range.map { !lexLines.contains($0.start.line) } ?? true }
        let all = (lexErrors + parseErrors).sorted { ($0.range?.start.offset ?? 0) < ($1.range?.start.offset ?? 0) }
        return (statements, parser.spans, all.map { $0.located(in: source) })
    }

    private init(source: Source, tokens: [Token]) {
        self.source = source
        self.tokens = tokens
    }

    // MARK: Tokens

    private var current: Token { tokens[p] }
    private var atEnd: Bool { current.kind == .end }

    /// The end of the last token consumed that is not a line break or `;`.
    private var lastTokenEnd: SourceLocation {
        var k = p - 1
        while k > 0, tokens[k].kind == .newline || tokens[k].kind == .symbol(";") { k -= 1 }
        return tokens[Swift.max(0, k)].range.end
    }

    private func isSymbol(_ s: String) -> Bool { current.kind == .symbol(s) }
    private func isKeyword(_ k: String) -> Bool { current.kind == .keyword(k) }

    @discardableResult
    private mutating func advance() -> Token {
        let t = tokens[p]
        if !atEnd { p += 1 }
        return t
    }

    private mutating func match(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        advance()
        return true
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .number: "a number"
        case .string: "a string"
        case .name(let n): "'\(n)'"
        case .keyword(let k): "'\(k)'"
        case .symbol(let s): "'\(s)'"
        case .command(let c, _): "':\(c)'"
        case .newline: "the end of the line"
        case .end: "the end of the input"
        }
    }

    /// An error at the current token; at the end of the input it means "incomplete".
    private func error(_ message: String) -> LangError {
        LangError(atEnd ? .incomplete : .syntax, message, at: current.range)
    }

    private mutating func expect(_ symbol: String, _ context: String) throws -> Token {
        guard isSymbol(symbol) else { throw error("expected '\(symbol)' \(context), found \(describe(current))") }
        return advance()
    }

    private mutating func expectName(_ context: String) throws -> (String, SourceRange) {
        guard case .name(let n) = current.kind else {
            if case .keyword(let k) = current.kind { throw error("'\(k)' is a keyword and cannot be used as \(context)") }
            throw error("expected \(context), found \(describe(current))")
        }
        let r = advance().range
        return (n, r)
    }

    private mutating func skipNewlines() {
        while current.kind == .newline || isSymbol(";") { advance() }
    }

    /// After an error: skip to the end of the statement, staying inside the current block.
    private mutating func synchronize() {
        var braces = 0
        while !atEnd {
            switch current.kind {
            case .newline where braces == 0:
                advance()
                return
            case .symbol(";") where braces == 0:
                advance()
                return
            case .symbol("{"):
                braces += 1
            case .symbol("}"):
                if braces == 0 { return }
                braces -= 1
            default:
                break
            }
            advance()
        }
    }

    // MARK: Statements

    private mutating func program() -> [Stmt] {
        var statements: [Stmt] = []
        skipNewlines()
        while !atEnd {
            if isSymbol("}") {
                errors.append(error("unmatched '}'"))
                advance()
                skipNewlines()
                continue
            }
            let start = current.range.start
            do {
                statements.append(try statement())
                spans.append(SourceRange(start, lastTokenEnd))
            } catch let e as LangError {
                errors.append(e)
                synchronize()
            } catch {}
            skipNewlines()
        }
        return statements
    }

    private mutating func statement() throws -> Stmt {
        let start = current.range
        switch current.kind {
        case .command(let name, let rest):
            advance()
            try endOfStatement()
            return Stmt(kind: .command(name, rest), range: start)
        case .keyword("for"):
            let (name, sequence) = try loopHeader()
            let body = try block("the loop body")
            return Stmt(kind: .forIn(name, sequence, body), range: start.union(sequence.range))
        case .keyword("while"):
            advance()
            let condition = try expression()
            let body = try block("the loop body")
            return Stmt(kind: .whileLoop(condition, body), range: start.union(condition.range))
        case .keyword("if"):
            return try ifStatement()
        case .keyword("def"):
            return try definition()
        case .keyword("return"):
            advance()
            var value: Expr?
            if !endsStatement { value = try expression() }
            try endOfStatement()
            return Stmt(kind: .returnValue(value), range: value.map { start.union($0.range) } ?? start)
        case .keyword("break"), .keyword("continue"):
            let isBreak = isKeyword("break")
            advance()
            try endOfStatement()
            return Stmt(kind: isBreak ? .breakLoop : .continueLoop, range: start)
        case .keyword("global"):
            advance()
            var names = [try expectName("a name after 'global'").0]
            while match(",") { names.append(try expectName("a name after ','").0) }
            try endOfStatement()
            return Stmt(kind: .global(names), range: start)
        case .keyword("else"):
            throw error("'else' must follow the '}' of an 'if' block on the same line")
        default:
            return try simpleStatement()
        }
    }

    private var endsStatement: Bool {
        current.kind == .newline || isSymbol(";") || isSymbol("}") || atEnd
    }

    /// A statement ends at a newline, `;`, before `}` or at the end.
    private mutating func endOfStatement() throws {
        if current.kind == .newline || isSymbol(";") {
            advance()
        } else if !(isSymbol("}") || atEnd) {
            throw error("expected the end of the statement, found \(describe(current))")
        }
    }

    private mutating func simpleStatement() throws -> Stmt {
        let first = try expression()
        // Python's `import numpy` / `from x import y`: nothing to import in tl.
        if case .name(let n) = first.kind, n == "import" || n == "from", case .name = current.kind {
            throw LangError(.syntax, "tl has no '\(n)': every builtin is always there (:help lists them; load() reads files)", at: first.range)
        }
        var targets = [first]
        while match(",") { targets.append(try expression()) }
        if isSymbol("=") {
            let equals = advance()
            let value = try expression()
            try endOfStatement()
            let range = first.range.union(value.range)
            if targets.count == 1, case .property(let object, let name) = first.kind {
                return Stmt(kind: .setProperty(object, name, value), range: range)
            }
            let names = try targets.map { t -> (String, SourceRange) in
                guard case .name(let n) = t.kind else {
                    let what = targets.count > 1 ? "unpack into" : "assign to"
                    throw LangError(.syntax, "cannot \(what) \(source.text(t.range)); only names\(targets.count == 1 ? " and properties" : "") can be assigned",
                                    at: t.range)
                }
                return (n, t.range)
            }
            _ = equals
            return Stmt(kind: .assign(names.map { (name: $0.0, range: $0.1) }, value), range: range)
        }
        guard targets.count == 1 else {
            throw error("expected '=' after a list of names to unpack into, found \(describe(current))")
        }
        let silent = isSymbol(";")
        try endOfStatement()
        return Stmt(kind: .expression(first, silent: silent), range: first.range)
    }

    private mutating func ifStatement() throws -> Stmt {
        let start = advance().range
        var branches: [(condition: Expr, body: [Stmt])] = []
        var otherwise: [Stmt]?
        branches.append((try expression(), try block("the 'if' body")))
        while isKeyword("else") {
            advance()
            if isKeyword("if") {
                advance()
                branches.append((try expression(), try block("the 'else if' body")))
            } else {
                otherwise = try block("the 'else' body")
                break
            }
        }
        return Stmt(kind: .ifElse(branches, otherwise), range: start.union(branches[0].condition.range))
    }

    private mutating func definition() throws -> Stmt {
        let start = advance().range
        let (name, _) = try expectName("a function name after 'def'")
        _ = try expect("(", "after the function name")
        var parameters: [ParameterDecl] = []
        var sawDefault = false
        if !isSymbol(")") {
            repeat {
                let (pname, prange) = try expectName("a parameter name")
                if parameters.contains(where: { $0.name == pname }) {
                    throw LangError(.syntax, "parameter '\(pname)' appears twice", at: prange)
                }
                var value: Expr?
                if match("=") {
                    value = try expression()
                    sawDefault = true
                } else if sawDefault {
                    throw LangError(.syntax, "parameter '\(pname)' without a default follows one with a default", at: prange)
                }
                parameters.append(ParameterDecl(name: pname, defaultValue: value, range: prange))
            } while match(",")
        }
        let close = try expect(")", "after the parameters")
        let body = try block("the function body")
        let range = start.union(close.range)
        return Stmt(kind: .def(Function(name: name, parameters: parameters, body: body, range: range, source: source)), range: range)
    }

    private mutating func block(_ what: String) throws -> [Stmt] {
        guard isSymbol("{") else { throw error("expected '{' to start \(what), found \(describe(current))") }
        advance()
        depth += 1
        defer { depth -= 1 }
        guard depth <= Parser.maxNesting else { throw error("blocks are nested too deeply") }
        var body: [Stmt] = []
        skipNewlines()
        while !isSymbol("}") {
            if atEnd { throw error("expected '}' to close \(what)") }
            do {
                body.append(try statement())
            } catch let e as LangError where e.kind == .syntax {
                errors.append(e)
                synchronize()
            }
            skipNewlines()
        }
        advance()
        return body
    }

    // MARK: Expressions

    /// `e`, unless its tree is deeper than evaluation may safely recurse.
    private func checked(_ e: Expr) throws -> Expr {
        guard e.height <= Parser.maxHeight else {
            throw error("expression is too deep (more than \(Parser.maxHeight) operations inside one another); split it with names")
        }
        return e
    }

    mutating func expression() throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Parser.maxNesting else { throw error("expression nested too deeply") }
        return try orExpression()
    }

    private mutating func binaryLevel(_ ops: [String], keywords: Bool = false,
                                      _ next: (inout Parser) throws -> Expr) throws -> Expr {
        var left = try next(&self)
        while true {
            let op: String
            if keywords, case .keyword(let k) = current.kind, ops.contains(k) { op = k } else if !keywords,
                case .symbol(let s) = current.kind, ops.contains(s) { op = s } else { return left }
            advance()
            let right = try next(&self)
            left = try checked(Expr(kind: .binary(op, left, right), range: left.range.union(right.range)))
        }
    }

    private mutating func orExpression() throws -> Expr {
        try binaryLevel(["or"], keywords: true) { try $0.andExpression() }
    }

    private mutating func andExpression() throws -> Expr {
        try binaryLevel(["and"], keywords: true) { try $0.notExpression() }
    }

    private mutating func notExpression() throws -> Expr {
        // Prefix operators are gathered in a loop, not by recursion, so no chain of them can
        // exhaust the stack before the depth check sees it.
        var starts: [SourceRange] = []
        while isKeyword("not") {
            starts.append(advance().range)
            guard starts.count <= Parser.maxHeight else { throw error("too many 'not's in a row") }
        }
        var e = try comparison()
        for start in starts.reversed() { e = try checked(Expr(kind: .unary("not", e), range: start.union(e.range))) }
        return e
    }

    private static let comparisons: Set<String> = ["==", "!=", "<", "<=", ">", ">="]

    private mutating func comparison() throws -> Expr {
        let left = try additive()
        guard case .symbol(let op) = current.kind, Parser.comparisons.contains(op) else { return left }
        advance()
        let right = try additive()
        if case .symbol(let again) = current.kind, Parser.comparisons.contains(again) {
            throw error("comparisons cannot be chained; combine them with 'and'")
        }
        return Expr(kind: .binary(op, left, right), range: left.range.union(right.range))
    }

    private mutating func additive() throws -> Expr {
        try binaryLevel(["+", "-"]) { try $0.multiplicative() }
    }

    private mutating func multiplicative() throws -> Expr {
        try binaryLevel(["*", "/", "%", "@"]) { try $0.unary() }
    }

    private mutating func unary() throws -> Expr {
        var signs: [Token] = []
        while isSymbol("-") || isSymbol("+") {
            signs.append(advance())
            guard signs.count <= Parser.maxHeight else { throw error("too many signs in a row") }
        }
        var e = try power()
        for op in signs.reversed() where op.kind == .symbol("-") {
            e = try checked(Expr(kind: .unary("-", e), range: op.range.union(e.range)))
        }
        return e
    }

    /// `a ** b ** c` is `a ** (b ** c)`, and signs may precede an exponent (`2 ** -1`). Parsed in
    /// a loop and assembled from the right, so a long chain cannot exhaust the stack.
    private mutating func power() throws -> Expr {
        var bases = [try postfix()]
        var signs: [[Token]] = [[]]
        while isSymbol("**") {
            advance()
            var before: [Token] = []
            while isSymbol("-") || isSymbol("+") { before.append(advance()) }
            guard bases.count + before.count <= Parser.maxHeight else { throw error("too many powers in a row") }
            bases.append(try postfix())
            signs.append(before)
        }
        func signed(_ e: Expr, _ ops: [Token]) throws -> Expr {
            var e = e
            for op in ops.reversed() where op.kind == .symbol("-") {
                e = try checked(Expr(kind: .unary("-", e), range: op.range.union(e.range)))
            }
            return e
        }
        var e = try signed(bases[bases.count - 1], signs[bases.count - 1])
        for i in stride(from: bases.count - 2, through: 0, by: -1) {
            e = try checked(Expr(kind: .binary("**", bases[i], e), range: bases[i].range.union(e.range)))
            if i > 0 { e = try signed(e, signs[i]) }
        }
        return e
    }

    private mutating func postfix() throws -> Expr {
        var e = try primary()
        while true {
            if isSymbol("(") {
                advance()
                let open = tokens[p - 1].range.start
                let args = try arguments()
                let close = try expect(")", "to close the call opened at \(open)")
                e = try checked(Expr(kind: .call(e, args), range: e.range.union(close.range)))
            } else if isSymbol(".") {
                advance()
                let (name, r) = try expectName("a property name after '.'")
                e = try checked(Expr(kind: .property(e, name), range: e.range.union(r)))
            } else if isSymbol("[") {
                advance()
                var items: [IndexItem] = []
                repeat { items.append(try indexItem()) } while match(",")
                let close = try expect("]", "to close the index opened at \(e.range.end)")
                e = try checked(Expr(kind: .index(e, items), range: e.range.union(close.range)))
            } else {
                return e
            }
        }
    }

    private mutating func indexItem() throws -> IndexItem {
        let start = current.range
        var first: Expr?
        if !isSymbol(":") { first = try expression() }
        guard isSymbol(":") else {
            guard let first else { throw error("expected an index") }
            return .single(first)
        }
        advance()
        var end: Expr?, step: Expr?
        if !isSymbol(":") && !isSymbol("]") && !isSymbol(",") { end = try expression() }
        if match(":") {
            if !isSymbol("]") && !isSymbol(",") { step = try expression() }
        }
        return .slice(start: first, end: end, step: step, range: start.union(tokens[Swift.max(0, p - 1)].range))
    }

    private mutating func arguments() throws -> [Argument] {
        var args: [Argument] = []
        var sawKeyword = false
        while !isSymbol(")") {
            let start = current.range
            if case .name(let n) = current.kind, tokens[p + 1].kind == .symbol("=") {
                advance(); advance()
                if args.contains(where: { $0.name == n }) {
                    throw LangError(.syntax, "keyword argument '\(n)' is given twice", at: start)
                }
                let value = try expression()
                args.append(Argument(name: n, value: value, range: start.union(value.range)))
                sawKeyword = true
            } else {
                let value = try expression()
                if sawKeyword {
                    throw LangError(.syntax, "positional argument after keyword arguments", at: value.range)
                }
                args.append(Argument(name: nil, value: value, range: value.range))
            }
            if !match(",") { break }
        }
        return args
    }

    private mutating func primary() throws -> Expr {
        let t = current
        switch t.kind {
        case .number(let v):
            advance()
            return Expr(kind: .number(v), range: t.range)
        case .string(let s):
            advance()
            return Expr(kind: .string(s), range: t.range)
        case .name(let n):
            advance()
            return Expr(kind: .name(n), range: t.range)
        case .keyword("true"), .keyword("false"):
            advance()
            return Expr(kind: .bool(t.kind == .keyword("true")), range: t.range)
        case .keyword("none"):
            advance()
            return Expr(kind: .none, range: t.range)
        case .symbol("("):
            advance()
            var inner = try expression()
            let close = try expect(")", "to close the '(' at \(t.range.start)")
            inner.range = t.range.union(close.range)
            return inner
        case .symbol("["):
            advance()
            var items: [Expr] = []
            while !isSymbol("]") {
                items.append(try expression())
                if items.count == 1, isKeyword("for") { return try comprehension(of: items[0], open: t) }
                if !match(",") { break }
            }
            let close = try expect("]", "to close the '[' at \(t.range.start)")
            return Expr(kind: .list(items), range: t.range.union(close.range))
        case .symbol("{"):
            return try record()
        default:
            throw error("expected an expression, found \(describe(t))")
        }
    }

    /// `for name in sequence`, of a loop or a list comprehension.
    private mutating func loopHeader() throws -> (name: String, sequence: Expr) {
        advance()  // for
        let (name, _) = try expectName("a loop variable")
        guard isKeyword("in") else { throw error("expected 'in' after the loop variable, found \(describe(current))") }
        advance()
        return (name, try expression())
    }

    /// The rest of `[element for name in sequence]` or `[element for name in sequence if condition]`,
    /// from `for` on.
    private mutating func comprehension(of element: Expr, open: Token) throws -> Expr {
        let (name, sequence) = try loopHeader()
        var condition: Expr?
        if isKeyword("if") {
            advance()
            condition = try expression()
        }
        let close = try expect("]", "to close the list comprehension opened at \(open.range.start)")
        return Expr(kind: .comprehension(element: element, name: name, sequence: sequence, condition: condition),
                    range: open.range.union(close.range))
    }

    private mutating func record() throws -> Expr {
        let open = advance()
        var fields: [(key: String, value: Expr)] = []
        func skipLines(_ parser: inout Parser) { while parser.current.kind == .newline { parser.advance() } }
        skipLines(&self)
        while !isSymbol("}") {
            let key: String
            switch current.kind {
            case .name(let n): key = n
            case .string(let s): key = s
            case .keyword(let k): key = k
            default: throw error("expected a field name in the record, found \(describe(current))")
            }
            let keyRange = advance().range
            if fields.contains(where: { $0.key == key }) {
                throw LangError(.syntax, "field '\(key)' appears twice in the record", at: keyRange)
            }
            _ = try expect(":", "after the field name")
            fields.append((key, try expression()))
            skipLines(&self)
            if !match(",") { break }
            skipLines(&self)
        }
        skipLines(&self)
        let close = try expect("}", "to close the record opened at \(open.range.start)")
        return Expr(kind: .record(fields), range: open.range.union(close.range))
    }
}
