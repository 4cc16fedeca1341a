import TLData
import TLEngine
import TLRender
import TLTransfer

/// A value a name can be bound to.
public enum Value {
    case none
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([Value])
    case record(Record)
    case tensor(Tensor)
    // Large payloads are boxed (`indirect`), so that a value takes 32 bytes, not 136: a list
    // of ten million numbers holds 305 MiB.
    indirect case dataset(Dataset)
    case model(Model)
    indirect case history(History)
    indirect case report(Report)
    indirect case builtin(Builtin)
    case function(Function)
    indirect case figure(Figure)

    /// The type's name as errors and `type()` show it.
    public var typeName: String {
        switch self {
        case .none: "none"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .list: "list"
        case .record: "record"
        case .tensor: "tensor"
        case .dataset: "dataset"
        case .model: "model"
        case .history: "history"
        case .report: "report"
        case .builtin, .function: "function"
        case .figure: "figure"
        }
    }
}

extension Value {
    /// How deep lists and records may nest. Swift frees a nested value recursively, so a chain
    /// 100 000 deep (`for i in range(100000) { xs = [xs] }`) would overflow the stack when freed.
    static let maxNesting = 1_000

    /// Throws when a list or record holding `items` would nest deeper than `maxNesting`. Each
    /// item is looked into up to that depth, stopping after 100 000 items (a value built by
    /// checked steps is never deeper than the limit, so a wide value needs no full walk).
    static func checkNesting(_ items: some Sequence<Value>, range: SourceRange) throws {
        var scanned = 0
        for item in items where item.nesting(limit: maxNesting, scanned: &scanned) >= maxNesting {
            throw LangError.runtime("lists and records nest at most \(maxNesting) deep", at: range)
        }
    }

    /// The depth of nested lists and records (0 for anything else), counted up to `limit`.
    private func nesting(limit: Int, scanned: inout Int) -> Int {
        func deepest<S: Sequence<Value>>(_ children: S) -> Int {
            var d = 0
            for child in children {
                scanned += 1
                guard scanned < 100_000, d < limit - 1 else { break }
                switch child {
                case .list, .record: d = Swift.max(d, child.nesting(limit: limit - 1, scanned: &scanned))
                default: continue
                }
            }
            return d + 1
        }
        switch self {
        case .list(let items): return deepest(items)
        case .record(let r): return deepest(r.fields.lazy.map(\.value))
        default: return 0
        }
    }
}

/// Fields in the order they were written: `{lr: 0.01, epochs: 3}`.
public struct Record {
    public var fields: [(key: String, value: Value)]

    public init(_ fields: [(key: String, value: Value)] = []) { self.fields = fields }

    public subscript(key: String) -> Value? {
        get { fields.first { $0.key == key }?.value }
        set {
            if let i = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[i].value = newValue } else { fields.remove(at: i) }
            } else if let newValue {
                fields.append((key, newValue))
            }
        }
    }
}

// MARK: Display

extension Value {
    /// How a number shows: integers without a decimal point; a value that came from fp32 with
    /// the shortest digits that identify it as fp32 (0.874, not 0.8740000128746033).
    public static func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded(), Swift.abs(x) < 9_007_199_254_740_992 { return String(Int64(x)) }
        if let f = Float(exactly: x), f.isFinite { return compact(f.description) }
        // 15 significant digits hide binary rounding noise: 0.8 + 0.05 shows 0.85. When 15 digits
        // say the number exactly, its shortest form is at most that long.
        let fifteen = String(format: "%.15g", x)
        if Double(fifteen) == x { return compact(x.description) }
        return compact(Double(fifteen).map(\.description) ?? fifteen)
    }


    /// `1e-05` → `1e-5`.
    private static func compact(_ s: String) -> String {
        guard let e = s.firstIndex(of: "e") else { return s }
        var exponent = String(s[s.index(after: e)...])
        let sign = exponent.first == "-" ? "-" : ""
        exponent = String(exponent.drop { $0 == "-" || $0 == "+" || $0 == "0" })
        return String(s[..<e]) + "e" + sign + (exponent.isEmpty ? "0" : exponent)
    }

    /// The one-line form shown at the prompt: strings quoted (a long one elided), tensors with
    /// shape and type.
    public var shown: String {
        switch self {
        case .string(let s): return DisplayLimits.quotedElided(s)
        case .tensor(let t): return "tensor \(TensorFormat.header(t)) \(TensorFormat.inline(t))"
        default: return plain
        }
    }

    /// The form `print` and `str` use: strings as they are, tensors as their values. Lists and
    /// records, like tensors, show their ends around an elided middle when long
    /// (`DisplayLimits`), so no value prints more than a few screenfuls; `save` writes everything.
    public var plain: String {
        var budget = DisplayLimits.characters
        return plain(depth: 0, budget: &budget)
    }

    func plain(depth: Int, budget: inout Int) -> String {
        switch self {
        case .none: return "none"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x): return Value.format(x)
        case .string(let s): return s
        case .list(let items):
            return DisplayLimits.elided(items.count, open: "[", close: "]", what: "items", depth: depth, budget: &budget) { i, budget in
                items[i].nested(depth: depth + 1, budget: &budget)
            }
        case .record(let r):
            return DisplayLimits.elided(r.fields.count, open: "{", close: "}", what: "fields", depth: depth, budget: &budget) { i, budget in
                "\(r.fields[i].key): " + r.fields[i].value.nested(depth: depth + 1, budget: &budget)
            }
        case .tensor(let t): return TensorFormat.inline(t)
        case .dataset(let d): return d.summary
        case .model(let m): return ModelTable.summaryLine(m)
        case .history(let h): return h.summary
        case .report(let r): return r.summary
        case .builtin(let b): return "<builtin \(b.signature)>"
        case .function(let f): return "<function \(f.name)(\(f.parameters.map(\.name).joined(separator: ", ")))>"
        case .figure(let f): return f.summary
        }
    }

    /// Inside lists and records: strings quoted (a long one elided), tensors abbreviated when large.
    func nested(depth: Int, budget: inout Int) -> String {
        switch self {
        case .string(let s): return DisplayLimits.quotedElided(s)
        case .tensor(let t) where t.count > 8: return "tensor \(TensorFormat.header(t))"
        case .tensor(let t): return "tensor \(TensorFormat.inline(t))"
        default: return plain(depth: depth, budget: &budget)
        }
    }

    /// Text and tables for front ends that show tables (a notebook): a model's layer tables.
    public var blocks: [Block]? {
        if case .model(let m) = self { return ModelTable.blocks(m) }
        return nil
    }

    /// The shown form, on several lines where one line would be hard to read (matrices).
    public func display(width: Int = 100, colour: Bool = false) -> String {
        if case .model(let m) = self { return ModelTable.render(m) }
        if case .figure(let f) = self { return FigureText.render(f, width: width, colour: colour) }
        if case .tensor(let t) = self, t.rank >= 2 {
            let line = shown
            if line.count <= width { return line }
            return "tensor \(TensorFormat.header(t))\n" + TensorFormat.block(t)
        }
        return shown
    }
}

/// How much of a large value a display shows: as for tensors, the ends around an elided middle.
enum DisplayLimits {
    /// Lists and records longer than this show their first `head` and last `tail` items.
    static let items = 100
    static let head = 6, tail = 3
    /// Strings shown in quotes longer than this show their first and last characters.
    static let stringLength = 1_000
    /// No display of a list or record grows beyond about this many characters…
    static let characters = 20_000
    /// …or nests deeper than this.
    static let depth = 12

    /// `[a, b, c, …, y, z] (1000 items)`: `item(i, &budget)` draws item i.
    static func elided(_ count: Int, open: String, close: String, what: String, depth: Int, budget: inout Int,
                       item: (Int, inout Int) -> String) -> String {
        guard count > 0 else { return open + close }
        guard depth < Self.depth else { return open + "…" + close }
        let shownIndices = count > items ? Array(0..<head) + [-1] + Array((count - tail)..<count) : Array(0..<count)
        var parts: [String] = []
        for i in shownIndices {
            guard budget > 0 else { parts.append("…"); break }
            let text = i < 0 ? "…" : item(i, &budget)
            budget -= text.count + 2
            parts.append(text)
        }
        let elided = count > items || parts.count < shownIndices.count
        return open + parts.joined(separator: ", ") + close + (elided ? " (\(count) \(what))" : "")
    }

    /// A string in quotes, its middle elided when longer than `stringLength`.
    static func quotedElided(_ s: String) -> String {
        guard s.count > stringLength else { return quoted(s) }
        return quoted(String(s.prefix(stringLength * 3 / 4))) + " … " + quoted(String(s.suffix(stringLength / 8)))
            + " (\(s.count) characters)"
    }
}

func quoted(_ s: String) -> String {
    var out = "\""
    for c in s {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.append(c)
        }
    }
    return out + "\""
}
