import TLEngine
import TLRender
import TLTransfer

/// Evaluates statements. Holds the global bindings of a session; a `def` call gets its own
/// frame of local names.
public final class Interpreter {
    /// Calls nested deeper than this stop with an error instead of overflowing the stack.
    public static let maxCallDepth = 150

    public private(set) var globals: [String: Value] = [:]
    /// Receives everything `print` writes.
    public var output: (String) -> Void = { Swift.print($0, terminator: "") }
    /// Receives training progress (the shell draws a bar); nil: training is quiet.
    public var progress: ((TrainingProgress) -> Void)?
    /// Called when a training run ends, so the bar can be cleared.
    public var progressEnded: (() -> Void)?

    /// Where `train` reports: the progress bar, and a line that stays for each finished epoch
    /// (written as output, so notebooks get it too).
    var trainingReporter: TrainingReporter {
        TrainingReporter(progress: progress) { [weak self] record, epochs in
            guard let self else { return }
            self.progressEnded?()
            self.output(ProgressBar.epochLine(epoch: record.epoch, epochs: epochs, figures: record.figures,
                                              samplesPerSecond: record.samplesPerSecond, seconds: record.seconds) + "\n")
        }
    }
    /// How `show` draws images: colour escapes on a terminal, characters elsewhere.
    public var imageMode: ImageText.Mode = .plain
    /// Takes figures and images to show in a richer form than text (a notebook's SVG and PNG);
    /// returns false to leave them to the terminal rendering. nil: text only.
    public var display: ((Display) -> Bool)?
    /// Whether this session has already said that target test data is not for choosing (said once).
    var remindedOfTargetTest = false
    /// Whether this session has already said that a run takes too few steps (said once).
    var remindedOfFewSteps = false
    /// Whether the session was told that target= data's labels go unused.
    var remindedOfTargetLabels = false
    /// Columns available for figures and images.
    public var width = 100
    /// Lines of the terminal, when there is one (nil: a file or a notebook, no limit).
    public var height: Int?
    /// Runs shell commands (`:help`); without a shell they are an error.
    public var commandHandler: ((_ name: String, _ argument: String, _ range: SourceRange) throws -> Void)?

    private var depth = 0

    public init() {}

    /// A function frame: its locals and the names it declared `global`.
    final class Frame {
        var locals: [String: Value] = [:]
        var globalNames: Set<String> = []
    }

    /// What a statement did to the flow of control.
    enum Flow {
        case normal, breakLoop, continueLoop
        case returned(Value)
    }

    // MARK: Entry points

    /// Parses and runs `source` at top level; `show` receives each value to display.
    /// Syntax errors are thrown before anything runs.
    public func run(_ source: Source, show: (Value) -> Void = { _ in }) throws {
        let (statements, errors) = Parser.parse(source)
        if let first = errors.first { throw first }
        try run(statements, in: source, show: show)
    }

    /// Runs parsed top-level statements. A top-level expression statement's value is shown unless
    /// it is `none` or the statement ends with `;`; the last value shown is bound to `_`.
    public func run(_ statements: [Stmt], in source: Source, show: (Value) -> Void) throws {
        do {
            for statement in statements {
                // An allocation past the budget in a statement that failed for another reason
                // was never reported; it is not this statement's.
                Memory.clearOverflow()
                if case .expression(let e, let silent) = statement.kind {
                    try checkInterrupt(statement.range)
                    let v = try evaluate(e, nil)
                    if !silent, !v.isNone {
                        globals["_"] = v
                        show(v)
                    }
                    continue
                }
                switch try execute(statement, nil) {
                case .normal: break
                case .breakLoop, .continueLoop:
                    throw LangError.runtime("'break' and 'continue' belong inside a loop", at: statement.range)
                case .returned:
                    throw LangError.runtime("'return' belongs inside a function", at: statement.range)
                }
            }
        } catch let e as LangError {
            throw e.located(in: source)
        }
    }

    /// Binds a global name (used by the shell for `_` and by tests).
    public func setGlobal(_ name: String, _ value: Value) { globals[name] = value }

    /// Forgets every binding.
    public func reset() { globals = [:] }

    // MARK: Statements

    private func checkInterrupt(_ range: SourceRange) throws {
        if Cancellation.isRequested {
            Cancellation.reset()
            throw LangError(.interrupted, "stopped by Ctrl-C; every binding made so far is kept", at: range)
        }
    }

    private func executeBlock(_ body: [Stmt], _ frame: Frame?) throws -> Flow {
        for s in body {
            let flow = try execute(s, frame)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    private func execute(_ s: Stmt, _ frame: Frame?) throws -> Flow {
        try checkInterrupt(s.range)
        switch s.kind {
        case .expression(let e, _):
            _ = try evaluate(e, frame)
        case .assign(let targets, let valueExpr):
            if targets.count == 1, try appendInPlace(targets[0].name, valueExpr, frame) { break }
            let value = try evaluate(valueExpr, frame)
            if targets.count == 1 {
                bind(targets[0].name, value, frame)
            } else {
                guard case .list(let items) = value else {
                    throw LangError.runtime("cannot unpack a \(value.typeName) into \(targets.count) names; a list of \(targets.count) is needed", at: valueExpr.range)
                }
                guard items.count == targets.count else {
                    throw LangError.runtime("cannot unpack a list of \(items.count) into \(targets.count) names", at: valueExpr.range)
                }
                for (t, v) in zip(targets, items) { bind(t.name, v, frame) }
            }
        case .setProperty(let object, let name, let valueExpr):
            let value = try evaluate(valueExpr, frame)
            try Value.checkNesting([value], range: valueExpr.range)
            try assignProperty(object, name, value, frame, range: s.range)
        case .forIn(let name, let sequenceExpr, let body):
            let sequence = try evaluate(sequenceExpr, frame)
            let items = try loopItems(sequence, range: sequenceExpr.range)
            for i in 0..<items.count {
                bind(name, try items.item(i), frame)
                switch try executeBlock(body, frame) {
                case .breakLoop: return .normal
                case .returned(let v): return .returned(v)
                case .normal, .continueLoop: try checkInterrupt(s.range)
                }
            }
        case .whileLoop(let condition, let body):
            while try truth(evaluate(condition, frame), range: condition.range) {
                switch try executeBlock(body, frame) {
                case .breakLoop: return .normal
                case .returned(let v): return .returned(v)
                case .normal, .continueLoop: try checkInterrupt(s.range)
                }
            }
        case .ifElse(let branches, let otherwise):
            for (condition, body) in branches where try truth(evaluate(condition, frame), range: condition.range) {
                return try executeBlock(body, frame)
            }
            if let otherwise { return try executeBlock(otherwise, frame) }
        case .def(let function):
            bind(function.name, .function(function), frame)
        case .returnValue(let e):
            guard frame != nil else { throw LangError.runtime("'return' belongs inside a function", at: s.range) }
            return .returned(try e.map { try evaluate($0, frame) } ?? .none)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .global(let names):
            guard let frame else { return .normal }  // at top level every name is global already
            frame.globalNames.formUnion(names)
            for n in names { frame.locals[n] = nil }
        case .command(let name, let argument):
            guard let commandHandler else {
                throw LangError.runtime("shell commands such as ':\(name)' work only in the tl shell", at: s.range)
            }
            try commandHandler(name, argument, s.range)
        }
        return .normal
    }

    /// `xs = xs + [item]` and `s = s + "text"` extend the list or string in place when nothing
    /// else holds it, so that a loop collecting results takes linear time, not quadratic. The
    /// operands are evaluated as for any `+`; false: not this form, evaluate as usual.
    private func appendInPlace(_ name: String, _ e: Expr, _ frame: Frame?) throws -> Bool {
        guard case .binary("+", let l, let r) = e.kind, case .name(name) = l.kind else { return false }
        // Only where the name is read from is where it is written (not a global shadowed by a new local).
        let local = frame.map { !$0.globalNames.contains(name) } ?? false
        guard local ? frame?.locals[name] != nil : globals[name] != nil else { return false }
        var left = try evaluate(l, frame)
        let right = try evaluate(r, frame)
        if case .list(let more) = right, case .list(let count) = left.listCount {
            try Operators.reserve(Operators.listBytes(count + more.count), at: e.range)
            bind(name, .none, frame)  // the binding's reference is dropped, so the list is held once
            var items = left.takeList()
            items.append(contentsOf: more)
            bind(name, .list(items), frame)
        } else if case .string(let more) = right, case .string(let count) = left.stringLength {
            try Operators.reserve(count + more.utf8.count, at: e.range)
            bind(name, .none, frame)
            var text = left.takeString()
            text += more
            bind(name, .string(text), frame)
        } else {
            bind(name, try Operators.binary("+", left, right, range: e.range), frame)
        }
        return true
    }

    private func bind(_ name: String, _ value: Value, _ frame: Frame?) {
        if let frame, !frame.globalNames.contains(name) {
            frame.locals[name] = value
        } else {
            globals[name] = value
        }
    }

    /// `a.b.c = v` on records: rebuilds the chain of records and rebinds the root name.
    private func assignProperty(_ object: Expr, _ name: String, _ value: Value, _ frame: Frame?, range: SourceRange) throws {
        let current = try evaluate(object, frame)
        if case .model(let m) = current, try Properties.replaceLayer(of: m, name, with: value, range: range) { return }
        guard case .record(var record) = current else {
            throw LangError.runtime("cannot set '\(name)' of a \(current.typeName)\(Properties.settableHint(current))", at: range)
        }
        record[name] = value
        switch object.kind {
        case .name(let root):
            bind(root, .record(record), frame)
        case .property(let parent, let field):
            try assignProperty(parent, field, .record(record), frame, range: range)
        default:
            throw LangError.runtime("only a record bound to a name can have its fields set", at: range)
        }
    }

    /// The items a `for` loop takes from `v`, made one at a time: looping over the rows of a
    /// large tensor does not first copy them all into a list.
    private func loopItems(_ v: Value, range: SourceRange) throws -> (count: Int, item: (Int) throws -> Value) {
        switch v {
        case .tensor(let t):
            guard t.rank >= 1 else { throw LangError.runtime("cannot iterate over a scalar tensor", at: range) }
            return (t.shape[0], { .tensor(try TensorIndexing.select(t, index: $0, axis: 0)) })
        case .string(let s):
            try Operators.reserve(s.utf8.count * MemoryLayout<Character>.stride, for: "for", at: range)
            let characters = Array(s)
            return (characters.count, { .string(String(characters[$0])) })
        default:
            let items = try iterate(v, range: range)
            return (items.count, { items[$0] })
        }
    }

    func iterate(_ v: Value, range: SourceRange) throws -> [Value] {
        switch v {
        case .list(let items): return items
        case .string(let s): return s.map { .string(String($0)) }
        case .record(let r): return r.fields.map { .string($0.key) }
        case .tensor(let t):
            guard t.rank >= 1 else { throw LangError.runtime("cannot iterate over a scalar tensor", at: range) }
            return try (0..<t.shape[0]).map { .tensor(try TensorIndexing.select(t, index: $0, axis: 0)) }
        default:
            throw LangError.runtime("cannot iterate over a \(v.typeName)\(v.isNumber ? "; use range(n)" : "")", at: range)
        }
    }

    func truth(_ v: Value, range: SourceRange) throws -> Bool {
        switch v {
        case .bool(let b): return b
        case .none: return false
        case .number(let x): return x != 0
        case .string(let s): return !s.isEmpty
        case .list(let items): return !items.isEmpty
        case .tensor(let t):
            guard t.count == 1 else {
                throw LangError.runtime("the truth of a tensor of \(t.count) elements is ambiguous; compare a number such as max(x) or sum(x)", at: range)
            }
            return t.scalars[0] != 0
        default:
            throw LangError.runtime("a \(v.typeName) is neither true nor false", at: range)
        }
    }

    // MARK: Expressions

    func evaluate(_ e: Expr, _ frame: Frame?) throws -> Value {
        let v = try evaluateUnchecked(e, frame)
        // A tensor allocated while this expression was computed found the memory budget passed:
        // its value is dropped here, before any name is bound to it.
        do { try Memory.checkOverflow(Interpreter.operation(e)) } catch let error as MemoryError {
            throw LangError.runtime(error.description, at: e.range)
        }
        return v
    }

    /// What an expression does, as a memory error names it: `train`, `'+'`, `indexing`.
    static func operation(_ e: Expr) -> String {
        switch e.kind {
        case .call(let callee, _):
            if case .name(let n) = callee.kind { return n }
            if case .property(_, let n) = callee.kind { return n }
            return "a call"
        case .binary(let op, _, _), .unary(let op, _): return "'\(op)'"
        case .index: return "indexing"
        case .property(_, let n): return "'.\(n)'"
        case .list, .comprehension: return "a list"
        case .record: return "a record"
        default: return "an expression"
        }
    }

    private func evaluateUnchecked(_ e: Expr, _ frame: Frame?) throws -> Value {
        switch e.kind {
        case .number(let x): return .number(x)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .name(let n): return try lookup(n, frame, range: e.range)
        case .list(let items):
            let values = try items.map { try evaluate($0, frame) }
            try Value.checkNesting(values, range: e.range)
            return .list(values)
        case .comprehension(let element, let name, let sequenceExpr, let condition):
            return try comprehension(element, name, sequenceExpr, condition, frame, range: e.range)
        case .record(let fields):
            let values = try fields.map { ($0.key, try evaluate($0.value, frame)) }
            try Value.checkNesting(values.map(\.1), range: e.range)
            return .record(Record(values))
        case .unary(let op, let operand):
            let v = try evaluate(operand, frame)
            if op == "not" { return .bool(!(try truth(v, range: operand.range))) }
            return try Operators.negate(v, range: e.range)
        case .binary("and", let l, let r):
            let left = try evaluate(l, frame)
            guard try truth(left, range: l.range) else { return left }
            return try evaluate(r, frame)
        case .binary("or", let l, let r):
            let left = try evaluate(l, frame)
            if try truth(left, range: l.range) { return left }
            return try evaluate(r, frame)
        case .binary(let op, let l, let r):
            let left = try evaluate(l, frame), right = try evaluate(r, frame)
            return try Operators.binary(op, left, right, range: e.range)
        case .call(let callee, let args):
            let f = try evaluate(callee, frame)
            var positional: [Value] = [], positionalRanges: [SourceRange] = []
            var keywords: [(String, Value, SourceRange)] = []
            for a in args {
                let v = try evaluate(a.value, frame)
                if let name = a.name {
                    keywords.append((name, v, a.range))
                } else {
                    positional.append(v)
                    positionalRanges.append(a.range)
                }
            }
            return try call(f, positional, keywords, range: e.range, calleeRange: callee.range, positionalRanges: positionalRanges)
        case .property(let object, let name):
            return try Properties.get(try evaluate(object, frame), name, range: e.range)
        case .index(let object, let items):
            let base = try evaluate(object, frame)
            var evaluated: [EvaluatedIndex] = []
            for item in items {
                switch item {
                case .single(let x):
                    evaluated.append(.single(try evaluate(x, frame), x.range))
                case .slice(let a, let b, let c, let r):
                    func optionalInt(_ x: Expr?) throws -> Int? {
                        guard let x else { return nil }
                        let v = try evaluate(x, frame)
                        if v.isNone { return nil }
                        return try Operators.integer(v, what: "a slice bound", range: x.range)
                    }
                    evaluated.append(.slice(try optionalInt(a), try optionalInt(b), try optionalInt(c), r))
                }
            }
            return try Indexing.index(base, evaluated, range: e.range)
        }
    }

    /// `[element for name in sequence if condition]`: the loop of a `for` statement, collecting.
    /// `name` is bound only while the brackets run: whatever it named before, or its absence, is
    /// back afterwards, even when an element fails (meanwhile a function called at top level sees
    /// it as a global, unlike Python 3's own scope).
    private func comprehension(_ element: Expr, _ name: String, _ sequenceExpr: Expr, _ condition: Expr?, _ frame: Frame?,
                               range: SourceRange) throws -> Value {
        let items = try loopItems(try evaluate(sequenceExpr, frame), range: sequenceExpr.range)
        let local = frame.map { !$0.globalNames.contains(name) } ?? false
        let previous = local ? frame?.locals[name] : globals[name]
        defer { if local { frame?.locals[name] = previous } else { globals[name] = previous } }
        var values: [Value] = []
        for i in 0..<items.count {
            try checkInterrupt(range)  // also while the condition skips every item
            bind(name, try items.item(i), frame)
            if let condition, !(try truth(evaluate(condition, frame), range: condition.range)) { continue }
            try Operators.reserve(Operators.listBytes(values.count + 1), for: "a list comprehension", at: range)
            values.append(try evaluate(element, frame))
        }
        try Value.checkNesting(values, range: range)
        return .list(values)
    }

    private func lookup(_ name: String, _ frame: Frame?, range: SourceRange) throws -> Value {
        if let frame, !frame.globalNames.contains(name), let v = frame.locals[name] { return v }
        if let v = globals[name] { return v }
        if let b = BuiltinTable.byName[name] { return .builtin(b) }
        var candidates = Array(globals.keys) + BuiltinTable.names
        if let frame { candidates += frame.locals.keys }
        throw LangError.runtime(undefinedName(name, among: candidates), at: range)
    }

    /// Every name visible at top level: globals and builtins (for completion).
    public var visibleNames: [String] { Array(globals.keys) + BuiltinTable.names }

    // MARK: Calls

    /// Calls a function value with positional and keyword arguments.
    /// `positionalRanges` place each positional argument, so errors about it point at it.
    public func call(_ f: Value, _ positional: [Value], _ keywords: [(String, Value, SourceRange)] = [],
                     range: SourceRange, calleeRange: SourceRange? = nil, positionalRanges: [SourceRange] = []) throws -> Value {
        switch f {
        case .builtin(let b):
            var args = try bind(b, positional, keywords, range: range, positionalRanges: positionalRanges)
            do {
                let result = try b.body(&args)
                try Memory.checkOverflow(b.name)
                return result
            } catch let e as LangError {
                throw e
            } catch let e as Interrupted {
                Cancellation.reset()
                throw LangError(.interrupted, "\(b.name)(): \(e); every binding made so far is kept", at: range)
            } catch {
                throw LangError.runtime(String(describing: error), at: range)
            }
        case .function(let function):
            return try callFunction(function, positional, keywords, range: range)
        case .model(let m):
            guard positional.count == 1, keywords.isEmpty else {
                throw LangError.runtime("a model is applied to one tensor: m(x)", at: range)
            }
            let x: Tensor
            do { x = try Conversion.tensor(from: positional[0]) } catch let e as LangError {
                throw LangError.runtime("a model is applied to a tensor: \(e.message)", at: range)
            }
            return try m.notingOneSample(x, range: range) {
                m.network.setTraining(false)
                return .tensor(try m.network.forward(x))
            }
        default:
            throw LangError.runtime("a \(f.typeName) cannot be called", at: calleeRange ?? range)
        }
    }

    /// Matches arguments to a builtin's declared parameters and converts them to their types.
    func bind(_ b: Builtin, _ positional: [Value], _ keywords: [(String, Value, SourceRange)],
              range: SourceRange, positionalRanges: [SourceRange] = []) throws -> Arguments {
        var values: [String: Value] = [:]
        var ranges: [String: SourceRange] = [:]
        let positionalParameters = b.parameters.filter { !$0.keywordOnly }
        var rest: [Value] = []
        for (i, v) in positional.enumerated() {
            if i < positionalParameters.count && !positionalParameters[i].variadic {
                values[positionalParameters[i].name] = v
                if i < positionalRanges.count { ranges[positionalParameters[i].name] = positionalRanges[i] }
            } else if let variadic = positionalParameters.last, variadic.variadic, i >= positionalParameters.count - 1 {
                rest.append(v)
            } else {
                let n = positionalParameters.count
                let keywords = b.parameters.filter(\.keywordOnly).map { "\($0.name)=" }
                let hint = keywords.isEmpty ? "" : "; \(n == 0 ? "its parameters are" : "the others are") keywords: \(keywords.joined(separator: ", "))"
                throw LangError.runtime("\(b.name)() takes \(n) positional argument\(n == 1 ? "" : "s"), got \(positional.count)\(hint)", at: range)
            }
        }
        if let variadic = b.parameters.first(where: \.variadic) { values[variadic.name] = .list(rest) }
        var given = Set(values.keys)
        for (name, v, r) in keywords {
            guard let p = b.parameters.first(where: { $0.name == name && !$0.variadic }) else {
                throw LangError.runtime("\(b.name)() has no parameter '\(name)'\(didYouMeanParameter(name, among: b.parameters.map(\.name)))", at: r)
            }
            if values[name] != nil { throw LangError.runtime("\(b.name)() got '\(p.name)' twice", at: r) }
            values[name] = v
            ranges[name] = r
            given.insert(name)
        }
        for p in b.parameters {
            guard let v = values[p.name] else {
                if p.defaultText == nil && !p.variadic {
                    throw LangError.runtime("\(b.name)() is missing its argument '\(p.name)' (\(p.help))", at: range)
                }
                values[p.name] = p.defaultValue()
                continue
            }
            if p.variadic {
                guard case .list(let items) = v else { continue }
                let itemRanges = positionalRanges.dropFirst(positionalParameters.count - 1)
                values[p.name] = .list(try items.enumerated().map { i, item in
                    let r = i < itemRanges.count ? itemRanges[itemRanges.startIndex + i] : range
                    return try convert(item, to: p, of: b, range: r)
                })
            } else {
                values[p.name] = try convert(v, to: p, of: b, range: ranges[p.name] ?? range)
            }
        }
        return Arguments(builtin: b, values: values, range: range, ranges: ranges, given: given, interpreter: self)
    }

    private func convert(_ v: Value, to p: BuiltinParameter, of b: Builtin, range: SourceRange) throws -> Value {
        if p.optional, v.isNone { return v }
        func bad(_ detail: String? = nil) -> LangError {
            if let detail { return LangError.runtime("\(b.name)(): '\(p.name)' \(detail)", at: range) }
            return ArgumentError.error(b.name, p.name, expected: p.type.phrase + (p.optional ? " or none" : ""), got: v, at: range)
        }
        switch (p.type, v) {
        case (.any, _): return v
        case (.number, .number), (.bool, .bool), (.string, .string), (.list, .list), (.record, .record),
             (.function, .builtin), (.function, .function), (.tensor, .tensor), (.dataset, .dataset), (.model, .model):
            return v
        case (.number, .tensor(let t)) where t.count == 1, (.integer, .tensor(let t)) where t.count == 1:
            return try convert(.number(Double(t.scalars[0])), to: p, of: b, range: range)
        case (.integer, .number(let x)):
            guard x == x.rounded(), Swift.abs(x) < 9e15 else { throw bad() }
            return v
        case (.tensor, .number), (.tensor, .list), (.tensor, .bool):
            do { return .tensor(try Conversion.tensor(from: v)) } catch let e as LangError {
                throw bad("must be \(p.type.phrase): \(e.message)")
            }
        case (.tensors, .tensor): return .list([v])
        case (.tensors, .list(let items)):
            return .list(try items.map { item in
                do { return .tensor(try Conversion.tensor(from: item)) } catch let e as LangError {
                    throw bad("must be \(p.type.phrase): \(e.message)")
                }
            })
        default:
            throw bad()
        }
    }

    private func callFunction(_ f: Function, _ positional: [Value], _ keywords: [(String, Value, SourceRange)],
                              range: SourceRange) throws -> Value {
        guard depth < Interpreter.maxCallDepth else {
            throw LangError.runtime("calls are nested more than \(Interpreter.maxCallDepth) deep (endless recursion?)", at: range)
        }
        let frame = Frame()
        guard positional.count <= f.parameters.count else {
            throw LangError.runtime("\(f.name)() takes \(f.parameters.count) argument\(f.parameters.count == 1 ? "" : "s"), got \(positional.count)", at: range)
        }
        for (p, v) in zip(f.parameters, positional) { frame.locals[p.name] = v }
        for (name, v, r) in keywords {
            guard f.parameters.contains(where: { $0.name == name }) else {
                throw LangError.runtime("\(f.name)() has no parameter '\(name)'\(didYouMean(name, among: f.parameters.map(\.name)))", at: r)
            }
            guard frame.locals[name] == nil else { throw LangError.runtime("\(f.name)() got '\(name)' twice", at: r) }
            frame.locals[name] = v
        }
        depth += 1
        defer { depth -= 1 }
        do {
            for p in f.parameters where frame.locals[p.name] == nil {
                guard let d = p.defaultValue else {
                    throw LangError.runtime("\(f.name)() is missing its argument '\(p.name)'", at: range)
                }
                frame.locals[p.name] = try evaluate(d, nil)
            }
            if case .returned(let v) = try executeBlock(f.body, frame) { return v }
            return .none
        } catch var e as LangError where e.range != nil && e.range != range {
            // Show the failing line in the function's own source, and where it was called from.
            if e.sourceName == nil { e = e.located(in: f.source) }
            e.notes.append("  in \(f.name)(), called at \(range.start)")
            throw e
        }
    }
}

extension Value {
    /// The list's length or the string's UTF-8 length, without holding a reference to them.
    fileprivate enum Size { case list(Int), string(Int), other }
    fileprivate var listCount: Size {
        if case .list(let items) = self { return .list(items.count) }
        return .other
    }
    fileprivate var stringLength: Size {
        if case .string(let s) = self { return .string(s.utf8.count) }
        return .other
    }

    /// The list this value holds, leaving `none` behind, so the caller holds the only reference.
    fileprivate mutating func takeList() -> [Value] {
        guard case .list(let items) = self else { return [] }
        self = .none
        return items
    }

    fileprivate mutating func takeString() -> String {
        guard case .string(let s) = self else { return "" }
        self = .none
        return s
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
    var isNumber: Bool {
        if case .number = self { return true }
        return false
    }
}

/// What can be shown in a richer form than text.
public enum Display {
    case figure(Figure)
    /// N×C×H×W images with a caption per image.
    case images(Tensor, labels: [String])
    /// Text with tables (a report's, a history's): plain text in a terminal, HTML tables in a notebook.
    case blocks([Block])
}

extension Model {
    /// Advice when `x` holds as many values as one sample the model takes but is not a batch of
    /// one (`x[0]` of a batch, where the model wants `x[0:1]`).
    func oneSampleNote(_ x: Tensor) -> String? {
        guard let input = inputShape, x.shape.first != 1, x.shape.reduce(1, *) == input.reduce(1, *) else { return nil }
        let batchOfOne = "[" + ([1] + x.shape).map(String.init).joined(separator: ", ") + "]"
        return "this is one sample (\(Shape.describe(x.shape))); a model takes a batch, N×\(Shape.describe(x.shape)): "
            + "slice a range (x[0:1], not x[0]) or reshape(x, \(batchOfOne))"
    }

    /// Runs `body` (the model applied to `x`); an error it throws carries `oneSampleNote`.
    func notingOneSample<T>(_ x: Tensor, range: SourceRange, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var e as LangError {
            if let note = oneSampleNote(x) { e.notes.append(note) }
            throw e
        } catch let e as Interrupted {
            throw e
        } catch {
            var e = LangError.runtime(String(describing: error), at: range)
            if let note = oneSampleNote(x) { e.notes.append(note) }
            throw e
        }
    }
}
