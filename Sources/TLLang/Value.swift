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
    case dataset(Dataset)
    case model(Model)
    case history(History)
    case report(Report)
    case builtin(Builtin)
    case function(Function)
    case figure(Figure)

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

    /// The one-line form shown at the prompt: strings quoted, tensors with shape and type.
    public var shown: String {
        switch self {
        case .string(let s): return quoted(s)
        case .tensor(let t): return "tensor \(TensorFormat.header(t)) \(TensorFormat.inline(t))"
        default: return plain
        }
    }

    /// The form `print` and `str` use: strings as they are, tensors as their values.
    public var plain: String {
        switch self {
        case .none: return "none"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x): return Value.format(x)
        case .string(let s): return s
        case .list(let items): return "[" + items.map(\.nested).joined(separator: ", ") + "]"
        case .record(let r): return "{" + r.fields.map { "\($0.key): \($0.value.nested)" }.joined(separator: ", ") + "}"
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

    /// Inside lists and records: strings quoted, tensors abbreviated when large.
    var nested: String {
        switch self {
        case .string(let s): return quoted(s)
        case .tensor(let t) where t.count > 8: return "tensor \(TensorFormat.header(t))"
        case .tensor(let t): return "tensor \(TensorFormat.inline(t))"
        default: return plain
        }
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
