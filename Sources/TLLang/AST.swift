/// An expression with the range of source it came from.
public struct Expr: Sendable {
    public indirect enum Kind: Sendable {
        case number(Double)
        case string(String)
        case bool(Bool)
        case none
        case name(String)
        case list([Expr])
        /// `[element for name in sequence if condition]`: a list built by a loop; `name` is bound
        /// only inside the brackets.
        case comprehension(element: Expr, name: String, sequence: Expr, condition: Expr?)
        case record([(key: String, value: Expr)])
        case unary(String, Expr)
        case binary(String, Expr, Expr)
        case call(Expr, [Argument])
        case property(Expr, String)
        case index(Expr, [IndexItem])
    }

    public var kind: Kind
    public var range: SourceRange
    /// The depth of the tree under this node (1 for a leaf): the parser refuses trees deeper than
    /// `Parser.maxHeight`, so evaluating and releasing one never exhausts the stack.
    public let height: Int

    public init(kind: Kind, range: SourceRange) {
        self.kind = kind
        self.range = range
        func h(_ e: Expr?) -> Int { e?.height ?? 0 }
        let below: Int
        switch kind {
        case .number, .string, .bool, .none, .name: below = 0
        case .list(let items): below = items.map(\.height).max() ?? 0
        case .comprehension(let element, _, let sequence, let condition):
            below = Swift.max(element.height, sequence.height, h(condition))
        case .record(let fields): below = fields.map(\.value.height).max() ?? 0
        case .unary(_, let e), .property(let e, _): below = e.height
        case .binary(_, let a, let b): below = Swift.max(a.height, b.height)
        case .call(let f, let args): below = Swift.max(f.height, args.map(\.value.height).max() ?? 0)
        case .index(let e, let items):
            below = Swift.max(e.height, items.map { item in
                switch item {
                case .single(let x): return x.height
                case .slice(let a, let b, let c, _): return Swift.max(h(a), h(b), h(c))
                }
            }.max() ?? 0)
        }
        height = below + 1
    }
}

/// One argument of a call: positional, or `name=value`.
public struct Argument: Sendable {
    public var name: String?
    public var value: Expr
    public var range: SourceRange
}

/// One item between `[` and `]`: an index, or a slice `a:b:s` with optional parts.
public enum IndexItem: Sendable {
    case single(Expr)
    case slice(start: Expr?, end: Expr?, step: Expr?, range: SourceRange)
}

/// A parameter of a `def`: a name and an optional default.
public struct ParameterDecl: Sendable {
    public var name: String
    public var defaultValue: Expr?
    public var range: SourceRange
}

/// A statement with its source range.
public struct Stmt: Sendable {
    public indirect enum Kind: Sendable {
        /// An expression statement; `silent` when it ends with `;`.
        case expression(Expr, silent: Bool)
        /// `name = value`, or `a, b = value` (unpacking) when there are several names.
        case assign([(name: String, range: SourceRange)], Expr)
        /// `object.name = value`.
        case setProperty(Expr, String, Expr)
        case forIn(String, Expr, [Stmt])
        case whileLoop(Expr, [Stmt])
        /// `if c { } else if c { } else { }`.
        case ifElse([(condition: Expr, body: [Stmt])], [Stmt]?)
        case def(Function)
        case returnValue(Expr?)
        case breakLoop
        case continueLoop
        case global([String])
        /// A shell command (`:help train`), handled by the shell.
        case command(String, String)
    }

    public var kind: Kind
    public var range: SourceRange
}

/// A user function: its declaration and body (shared by `def` statements and function values).
public final class Function: Sendable {
    public let name: String
    public let parameters: [ParameterDecl]
    public let body: [Stmt]
    public let range: SourceRange
    /// The text it was defined in, for errors raised inside it.
    public let source: Source

    init(name: String, parameters: [ParameterDecl], body: [Stmt], range: SourceRange, source: Source) {
        (self.name, self.parameters, self.body, self.range, self.source) = (name, parameters, body, range, source)
    }
}
