/// Finds names used but never bound, without running anything (`tl --check`).
///
/// Top-level names bound anywhere in the file count as defined (order is not checked, since a
/// `def` may use a global assigned after it). Inside a function, its parameters, the names it
/// assigns and the globals are defined.
public enum NameResolver {
    public static func undefinedNames(in statements: [Stmt], source: Source, predefined: Set<String> = []) -> [LangError] {
        var globals = predefined.union(BuiltinTable.names).union(["_"])
        collectBindings(statements, into: &globals)
        var errors: [LangError] = []
        check(statements, defined: globals, globals: globals, errors: &errors)
        return errors.map { $0.located(in: source) }
    }

    private static func collectBindings(_ statements: [Stmt], into names: inout Set<String>) {
        for s in statements {
            switch s.kind {
            case .assign(let targets, _): names.formUnion(targets.map(\.name))
            case .forIn(let n, _, let body): names.insert(n); collectBindings(body, into: &names)
            case .whileLoop(_, let body): collectBindings(body, into: &names)
            case .ifElse(let branches, let otherwise):
                for b in branches { collectBindings(b.body, into: &names) }
                if let otherwise { collectBindings(otherwise, into: &names) }
            case .def(let f): names.insert(f.name)
            case .command(let name, let argument):
                if let inner = timedStatements(name, argument) { collectBindings(inner, into: &names) }
            default: break
            }
        }
    }

    /// The statement `:time` runs, parsed (nil for other commands, or when it does not parse:
    /// running reports that).
    private static func timedStatements(_ command: String, _ argument: String) -> [Stmt]? {
        guard command == "time" else { return nil }
        let (statements, errors) = Parser.parse(Source(name: ":time", text: argument))
        return errors.isEmpty ? statements : nil
    }

    private static func check(_ statements: [Stmt], defined: Set<String>, globals: Set<String>, errors: inout [LangError]) {
        for s in statements {
            switch s.kind {
            case .expression(let e, _): check(e, defined, &errors)
            case .assign(_, let e): check(e, defined, &errors)
            case .setProperty(let o, _, let v): check(o, defined, &errors); check(v, defined, &errors)
            case .forIn(_, let e, let body): check(e, defined, &errors); check(body, defined: defined, globals: globals, errors: &errors)
            case .whileLoop(let c, let body): check(c, defined, &errors); check(body, defined: defined, globals: globals, errors: &errors)
            case .ifElse(let branches, let otherwise):
                for b in branches {
                    check(b.condition, defined, &errors)
                    check(b.body, defined: defined, globals: globals, errors: &errors)
                }
                if let otherwise { check(otherwise, defined: defined, globals: globals, errors: &errors) }
            case .def(let f):
                var locals = globals.union(f.parameters.map(\.name))
                collectBindings(f.body, into: &locals)
                for p in f.parameters { if let d = p.defaultValue { check(d, globals, &errors) } }
                check(f.body, defined: locals, globals: globals, errors: &errors)
            case .returnValue(let e): if let e { check(e, defined, &errors) }
            case .command(let name, let argument):
                // Names inside `:time STATEMENT` are checked too; an error points at the command.
                guard let inner = timedStatements(name, argument) else { break }
                var found: [LangError] = []
                check(inner, defined: defined, globals: globals, errors: &found)
                errors += found.map { LangError(.runtime, $0.message, at: s.range) }
            case .breakLoop, .continueLoop, .global: break
            }
        }
    }

    private static func check(_ e: Expr, _ defined: Set<String>, _ errors: inout [LangError]) {
        switch e.kind {
        case .name(let n) where !defined.contains(n):
            errors.append(LangError(.runtime, undefinedName(n, among: Array(defined)), at: e.range))
        case .list(let items): items.forEach { check($0, defined, &errors) }
        case .comprehension(let element, let name, let sequence, let condition):
            check(sequence, defined, &errors)
            let inside = defined.union([name])
            check(element, inside, &errors)
            if let condition { check(condition, inside, &errors) }
        case .record(let fields): fields.forEach { check($0.value, defined, &errors) }
        case .unary(_, let x), .property(let x, _): check(x, defined, &errors)
        case .binary(_, let a, let b): check(a, defined, &errors); check(b, defined, &errors)
        case .call(let f, let args): check(f, defined, &errors); args.forEach { check($0.value, defined, &errors) }
        case .index(let x, let items):
            check(x, defined, &errors)
            for item in items {
                switch item {
                case .single(let i): check(i, defined, &errors)
                case .slice(let a, let b, let c, _): [a, b, c].compactMap { $0 }.forEach { check($0, defined, &errors) }
                }
            }
        default: break
        }
    }
}
