#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// Arithmetic and comparison on values: numbers follow IEEE (1/0 is inf), tensors broadcast,
/// numbers mix with tensors, strings and lists concatenate.
enum Operators {
    static func negate(_ v: Value, range: SourceRange) throws -> Value {
        switch v {
        case .number(let x): return .number(-x)
        case .tensor(let t): return .tensor(-t)
        default: throw LangError.runtime("cannot negate a \(v.typeName)", at: range)
        }
    }

    static func binary(_ op: String, _ l: Value, _ r: Value, range: SourceRange) throws -> Value {
        switch (l, r) {
        case (.number(let a), .number(let b)):
            if let v = numeric(op, a, b) { return v }
        case (.tensor, _), (_, .tensor):
            return try tensorOperation(op, l, r, range: range)
        case (.string(let a), .string(let b)):
            if op == "+" {
                try reserve(a.utf8.count + b.utf8.count, at: range)
                return .string(a + b)
            }
            if let c = compare(op, a, b) { return .bool(c) }
        case (.list(let a), .list(let b)) where op == "+":
            try reserve(listBytes(a.count + b.count), at: range)
            return .list(a + b)
        case (.bool, .number), (.number, .bool), (.bool, .bool):
            if op == "==" || op == "!=" { return .bool((op == "==") == equal(l, r)) }
            if let v = numeric(op, number(l), number(r)) { return v }
        default:
            break
        }
        if op == "==" { return .bool(equal(l, r)) }
        if op == "!=" { return .bool(!equal(l, r)) }
        var hint = ""
        if op == "+", l.isString || r.isString { hint = "; convert with str(x) first" }
        throw LangError.runtime("'\(op)' is not defined for \(l.typeName) and \(r.typeName)\(hint)", at: range)
    }

    /// The memory a list of `count` items takes for itself (its items' own storage is shared).
    static func listBytes(_ count: Int) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Value>.stride)
        return overflow ? Int.max : bytes
    }

    /// Checks that the memory budget can hold a value of `bytes` that `op` is about to build;
    /// the error, if not, points at `range`.
    static func reserve(_ bytes: Int, for op: String = "'+'", at range: SourceRange) throws {
        do { try Memory.reserve(bytes, for: op) } catch let e as MemoryError {
            throw LangError.runtime(e.description, at: range)
        }
    }

    private static func number(_ v: Value) -> Double {
        switch v {
        case .number(let x): return x
        case .bool(let b): return b ? 1 : 0
        default: return .nan
        }
    }

    /// Arithmetic and comparison of two numbers; nil for an operator numbers do not have (`@`).
    static func numeric(_ op: String, _ a: Double, _ b: Double) -> Value? {
        switch op {
        case "+": return .number(a + b)
        case "-": return .number(a - b)
        case "*": return .number(a * b)
        case "/": return .number(a / b)
        case "%": return .number(b == 0 ? .nan : a - (a / b).rounded(.down) * b)
        case "**": return .number(pow(a, b))
        default: return compare(op, a, b).map { .bool($0) }
        }
    }

    /// The six comparisons of two ordered values; nil for any other operator.
    static func compare<T: Comparable>(_ op: String, _ a: T, _ b: T) -> Bool? {
        switch op {
        case "==": a == b
        case "!=": a != b
        case "<": a < b
        case "<=": a <= b
        case ">": a > b
        case ">=": a >= b
        default: nil
        }
    }

    private static func tensorOperation(_ op: String, _ l: Value, _ r: Value, range: SourceRange) throws -> Value {
        let a: Tensor, b: Tensor
        do {
            a = try Conversion.tensor(from: l)
            b = try Conversion.tensor(from: r)
        } catch {
            throw LangError.runtime("'\(op)' is not defined for \(l.typeName) and \(r.typeName)", at: range)
        }
        do {
            switch op {
            case "+": return .tensor(try a + b)
            case "-": return .tensor(try a - b)
            case "*": return .tensor(try a * b)
            case "/": return .tensor(try a / b)
            case "**": return .tensor(try Tensor.pow(a, b))
            case "%": return .tensor(try a % b)
            case "@": return .tensor(try Tensor.matmul(a, b))
            case "==": return .tensor(try Tensor.compare(a, b, op: "==", ==))
            case "!=": return .tensor(try Tensor.compare(a, b, op: "!=", !=))
            case "<": return .tensor(try Tensor.compare(a, b, op: "<", <))
            case "<=": return .tensor(try Tensor.compare(a, b, op: "<=", <=))
            case ">": return .tensor(try Tensor.compare(a, b, op: ">", >))
            case ">=": return .tensor(try Tensor.compare(a, b, op: ">=", >=))
            default:
                throw LangError.runtime("'\(op)' is not defined for tensors", at: range)
            }
        } catch let e as TensorError {
            throw LangError.runtime(e.description, at: range)
        } catch let e as MemoryError {
            throw LangError.runtime(e.description, at: range)
        }
    }

    static func equal(_ l: Value, _ r: Value) -> Bool {
        switch (l, r) {
        case (.none, .none): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.list(let a), .list(let b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.record(let a), .record(let b)):
            return a.fields.count == b.fields.count && a.fields.allSatisfy { f in b[f.key].map { equal(f.value, $0) } ?? false }
        case (.builtin(let a), .builtin(let b)): return a.name == b.name
        case (.function(let a), .function(let b)): return a === b
        default: return false
        }
    }

    /// An integral number (or one-element tensor) as an Int.
    static func integer(_ v: Value, what: String, range: SourceRange) throws -> Int {
        let x: Double
        switch v {
        case .number(let n): x = n
        case .tensor(let t) where t.count == 1: x = Double(t.scalars[0])
        default: throw LangError.runtime("\(what) must be an integer, got a \(v.typeName)", at: range)
        }
        guard x == x.rounded(), Swift.abs(x) < 9e15 else {
            throw LangError.runtime("\(what) must be an integer, got \(Value.format(x))", at: range)
        }
        return Int(x)
    }
}

extension Value {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }
}

/// Conversions between language values and tensors.
public enum Conversion {
    /// A tensor from a tensor, a number, a bool, or a (nested, rectangular) list of those.
    public static func tensor(from v: Value) throws -> Tensor {
        switch v {
        case .tensor(let t): return t
        case .number(let x): return Tensor(scalar: Float(x))
        case .bool(let b): return Tensor(scalar: b ? 1 : 0)
        case .list(let items):
            if items.isEmpty { return Tensor([]) }
            if items.allSatisfy({ if case .tensor = $0 { return false } else { return true } }) {
                var shape: [Int] = []
                var values: [Float] = []
                try flatten(v, depth: 0, shape: &shape, values: &values)
                return try Tensor(shape: shape, values: values)
            }
            // A list of tensors of one shape stacks along a new first axis.
            let parts = try items.map { try tensor(from: $0) }
            guard let first = parts.first, parts.allSatisfy({ $0.shape == first.shape }) else {
                throw LangError.runtime("the tensors in the list have different shapes")
            }
            do {
                return try Tensor.concat(parts.map { try $0.reshaped([1] + $0.shape) }, axis: 0)
            } catch let e as TensorError { throw LangError.runtime(e.description) }
        default:
            throw LangError.runtime("a \(v.typeName) cannot become a tensor")
        }
    }

    private static func flatten(_ v: Value, depth: Int, shape: inout [Int], values: inout [Float]) throws {
        switch v {
        case .number(let x):
            guard depth == shape.count else { throw LangError.runtime("ragged list: a number where a list was expected") }
            values.append(Float(x))
        case .bool(let b):
            guard depth == shape.count else { throw LangError.runtime("ragged list: a bool where a list was expected") }
            values.append(b ? 1 : 0)
        case .list(let items):
            if depth == shape.count {
                guard values.isEmpty, depth < 32 else { throw LangError.runtime("ragged list: a list where a number was expected") }
                shape.append(items.count)
            } else if shape[depth] != items.count {
                throw LangError.runtime("ragged list: lengths \(shape[depth]) and \(items.count) at depth \(depth + 1)")
            }
            for item in items { try flatten(item, depth: depth + 1, shape: &shape, values: &values) }
        default:
            throw LangError.runtime("a list holding a \(v.typeName) cannot become a tensor")
        }
    }
}
