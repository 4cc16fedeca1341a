import TLData
import TLEngine
import TLTransfer

/// What a builtin parameter accepts, and how an argument is converted for it.
public enum ParameterType: Sendable, Equatable {
    case any
    case number
    /// A number with an integral value (`2.5` is rejected).
    case integer
    case bool
    case string
    /// A tensor; numbers and (nested) lists of numbers are converted.
    case tensor
    case list
    case record
    case function
    /// A tensor, or a list of tensors and numbers.
    case tensors
    case dataset
    case model

    /// How argument errors say what was expected: "a number", "an integer", ….
    public var phrase: String {
        switch self {
        case .any: "a value"
        case .number: "a number"
        case .integer: "an integer"
        case .bool: "true or false"
        case .string: "a string"
        case .tensor: "a tensor (or a number, or a list of numbers)"
        case .list: "a list"
        case .record: "a record"
        case .function: "a function"
        case .tensors: "a tensor or a list of tensors"
        case .dataset: "a dataset"
        case .model: "a model"
        }
    }

    /// How `:help` names the type.
    public var name: String {
        switch self {
        case .any: "value"
        case .number: "number"
        case .integer: "integer"
        case .bool: "bool"
        case .string: "string"
        case .tensor: "tensor"
        case .list: "list"
        case .record: "record"
        case .function: "function"
        case .tensors: "list of tensors"
        case .dataset: "dataset"
        case .model: "model"
        }
    }
}

/// One declared parameter: everything argument checking, `:help` and completion need.
public struct BuiltinParameter: Sendable {
    public let name: String
    public let type: ParameterType
    /// nil: required.
    public let defaultText: String?
    let defaultValue: @Sendable () -> Value
    public let keywordOnly: Bool
    /// Collects the remaining positional arguments as a list (`zeros(2, 3)`).
    public let variadic: Bool
    /// `none` is accepted besides the type.
    public let optional: Bool
    public let help: String

    /// A required parameter; `keyword` ones must be given by name.
    public static func required(_ name: String, _ type: ParameterType, keyword: Bool = false, _ help: String) -> BuiltinParameter {
        BuiltinParameter(name: name, type: type, defaultText: nil, defaultValue: { .none }, keywordOnly: keyword,
                         variadic: false, optional: false, help: help)
    }

    /// A parameter with a default; `keyword` ones may only be given by name.
    public static func optional(_ name: String, _ type: ParameterType, _ defaultValue: Value, keyword: Bool = false,
                                _ help: String) -> BuiltinParameter {
        nonisolated(unsafe) let v = defaultValue
        let isNone: Bool
        if case .none = defaultValue { isNone = true } else { isNone = false }
        return BuiltinParameter(name: name, type: type, defaultText: defaultValue.shown, defaultValue: { v },
                                keywordOnly: keyword, variadic: false, optional: isNone, help: help)
    }

    /// The rest of the positional arguments.
    public static func rest(_ name: String, _ type: ParameterType, _ help: String) -> BuiltinParameter {
        BuiltinParameter(name: name, type: type, defaultText: nil, defaultValue: { .list([]) }, keywordOnly: false,
                         variadic: true, optional: false, help: help)
    }

    var display: String {
        if variadic { return name + "..." }
        if let defaultText { return "\(name)=\(defaultText)" }
        return name
    }
}

/// A function of the language implemented in Swift, declared once with everything about it.
public struct Builtin: Sendable {
    public let name: String
    public let parameters: [BuiltinParameter]
    /// What it does, for `:help`; the first sentence is its summary.
    public let help: String
    /// A runnable snippet for `:help` (every example is run by a test).
    public let example: String
    /// A group for `:help` listings ("tensors", "math", …).
    public let group: String
    let body: @Sendable (inout Arguments) throws -> Value

    public init(_ name: String, _ parameters: [BuiltinParameter], group: String, help: String, example: String,
                _ body: @escaping @Sendable (inout Arguments) throws -> Value) {
        (self.name, self.parameters, self.group, self.help, self.example, self.body) = (name, parameters, group, help, example, body)
    }

    /// `train(model, data, *, epochs=1, …)`.
    public var signature: String {
        var parts: [String] = []
        var starred = false
        for p in parameters {
            if p.keywordOnly && !starred && !parameters.contains(where: \.variadic) {
                parts.append("*")
                starred = true
            }
            parts.append(p.display)
        }
        return "\(name)(\(parts.joined(separator: ", ")))"
    }

    /// The help's first sentence: up to the first full stop followed by a space (so "0..k−1",
    /// ".npy" and "nn.Linear" do not end it) or the end.
    public var summary: String {
        guard let end = help.firstRange(of: ". ") else { return help }
        return String(help[..<end.lowerBound]) + "."
    }
}

/// The one shape of an error about an argument: the builtin, the argument, what was expected and
/// what was given, with the caret under the argument itself.
/// `train(): 'lr' must be a positive number, got -1`.
public enum ArgumentError {
    public static func error(_ builtin: String, _ parameter: String, expected: String, got value: Value,
                             at range: SourceRange?) -> LangError {
        LangError.runtime("\(builtin)(): '\(parameter)' must be \(expected), got \(describe(value))", at: range)
    }

    /// A value as an error shows it: short values as they are, others by type and size.
    public static func describe(_ v: Value) -> String {
        switch v {
        case .none, .bool, .number: return v.shown
        case .string(let s): return s.count <= 40 ? v.shown : quoted(String(s.prefix(37)) + "...")
        case .list(let items): return items.isEmpty ? "[]" : "a list of \(items.count)"
        case .record: return "a record"
        case .tensor(let t): return t.rank == 0 ? "a one-element tensor" : "a tensor of shape \(Shape.describe(t.shape))"
        case .dataset(let d): return "a dataset (\(d.summary))"
        case .model: return "a model"
        case .history: return "a history"
        case .report: return "a report"
        case .builtin, .function: return "a function"
        case .figure: return "a figure"
        }
    }
}

/// The checked arguments of one builtin call, converted to their declared types.
public struct Arguments {
    let builtin: Builtin
    var values: [String: Value]
    /// Where the call is, for errors the implementation raises.
    public let range: SourceRange
    /// Where each argument given is, for errors about one argument.
    let ranges: [String: SourceRange]
    /// The parameters the call gave (the others hold their defaults).
    let given: Set<String>
    public let interpreter: Interpreter

    init(builtin: Builtin, values: [String: Value], range: SourceRange, ranges: [String: SourceRange] = [:],
         given: Set<String> = [], interpreter: Interpreter) {
        (self.builtin, self.values, self.range, self.ranges, self.given, self.interpreter) = (builtin, values, range, ranges, given, interpreter)
    }

    public func value(_ name: String) -> Value { values[name] ?? .none }

    /// Whether the call gave `name` (`train(m, d, lambda="schedule")`) rather than leaving its default.
    public func isGiven(_ name: String) -> Bool { given.contains(name) }

    public func isNone(_ name: String) -> Bool {
        if case .none = value(name) { return true }
        return false
    }

    public func number(_ name: String) throws -> Double {
        switch value(name) {
        case .number(let x): return x
        case .bool(let b): return b ? 1 : 0
        case let v: throw error(for: name, expected: "a number", got: v)
        }
    }

    public func float(_ name: String) throws -> Float { Float(try number(name)) }

    public func int(_ name: String) throws -> Int {
        let x = try number(name)
        guard let i = Int(exactly: x) else { throw error(for: name, expected: "an integer", got: .number(x)) }
        return i
    }

    public func optionalInt(_ name: String) throws -> Int? { isNone(name) ? nil : try int(name) }

    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let b) = value(name) else { throw error(for: name, expected: "true or false", got: value(name)) }
        return b
    }

    public func string(_ name: String) throws -> String {
        guard case .string(let s) = value(name) else { throw error(for: name, expected: "a string", got: value(name)) }
        return s
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard case .tensor(let t) = value(name) else { throw error(for: name, expected: "a tensor", got: value(name)) }
        return t
    }

    public func dataset(_ name: String) throws -> Dataset {
        guard case .dataset(let d) = value(name) else { throw error(for: name, expected: "a dataset", got: value(name)) }
        return d
    }

    public func model(_ name: String) throws -> Model {
        guard case .model(let m) = value(name) else { throw error(for: name, expected: "a model", got: value(name)) }
        return m
    }

    /// A list of integers of at least `minimum` each (`mlp([784, 10])`, `input=[3, 28, 28]`).
    public func integers(_ name: String, minimum: Int = 1) throws -> [Int] {
        try list(name).map { v in
            guard case .number(let x) = v, let i = Int(exactly: x), i >= minimum else {
                throw error(for: name, expected: "a list of integers of at least \(minimum)", got: v, saying: "an element")
            }
            return i
        }
    }

    /// One of a fixed set of named options (`optimizer="adam"`), with the choices in the error.
    public func choice<Option: RawRepresentable & CaseIterable>(_ name: String, of _: Option.Type) throws -> Option
    where Option.RawValue == String {
        let text = try string(name)
        guard let option = Option(rawValue: text) else {
            let names = Option.allCases.map(\.rawValue)
            throw LangError.runtime("\(builtin.name)(): '\(name)' must be one of \(names.joined(separator: ", ")), got '\(text)'\(didYouMean(text, among: names))",
                                    at: ranges[name] ?? range)
        }
        return option
    }

    public func list(_ name: String) throws -> [Value] {
        guard case .list(let items) = value(name) else { throw error(for: name, expected: "a list", got: value(name)) }
        return items
    }

    /// An error at the call, in the words of the builtin.
    public func error(_ message: String) -> LangError {
        LangError.runtime("\(builtin.name)(): \(message)", at: range)
    }

    /// An error at argument `name` (at the call when it was not given).
    public func error(_ message: String, at name: String) -> LangError {
        LangError.runtime("\(builtin.name)(): \(message)", at: ranges[name] ?? range)
    }

    /// An error about one argument, in the one shape every builtin uses, with the caret under the
    /// argument (under the call when the argument was left to its default).
    /// `saying:` names a part of it ("an element") rather than the whole.
    public func error(for name: String, expected: String, got: Value, saying part: String? = nil) -> LangError {
        guard let part else { return ArgumentError.error(builtin.name, name, expected: expected, got: got, at: ranges[name] ?? range) }
        return LangError.runtime("\(builtin.name)(): \(part) of '\(name)' must be \(expected), got \(ArgumentError.describe(got))",
                                 at: ranges[name] ?? range)
    }
}
