import TLData
import TLEngine
import TLNN
import TLTransfer

/// Properties readable with `value.name`, declared once per type for lookup, errors and completion.
enum Properties {
    struct Entry: Sendable {
        let name: String
        let help: String
        let get: @Sendable (Value) throws -> Value
    }

    static let tensor: [Entry] = [
        Entry(name: "shape", help: "the size of each axis, a list") { v in
            guard case .tensor(let t) = v else { return .none }
            return .list(t.shape.map { .number(Double($0)) })
        },
        Entry(name: "T", help: "the transpose (all axes reversed)") { v in
            guard case .tensor(let t) = v else { return .none }
            return .tensor(t.T)
        },
        Entry(name: "grad", help: "the gradient from the last backward pass, or none") { v in
            guard case .tensor(let t) = v, let g = t.grad else { return .none }
            return .tensor(g)
        },
        Entry(name: "rank", help: "the number of axes") { v in
            guard case .tensor(let t) = v else { return .none }
            return .number(Double(t.rank))
        },
        Entry(name: "size", help: "the number of elements") { v in
            guard case .tensor(let t) = v else { return .none }
            return .number(Double(t.count))
        },
        Entry(name: "dtype", help: "the element type, always \"float32\"") { _ in .string("float32") },
    ]

    static let dataset: [Entry] = [
        Entry(name: "x", help: "the samples, a tensor with one row (or image) per sample") { v in
            guard case .dataset(let d) = v else { return .none }
            return .tensor(d.x)
        },
        Entry(name: "y", help: "the class ids as a tensor, or none when unlabelled") { v in
            guard case .dataset(let d) = v, let y = d.y else { return .none }
            return .tensor(Tensor(y.map(Float.init)))
        },
        Entry(name: "classes", help: "the class names") { v in
            guard case .dataset(let d) = v else { return .none }
            return .list(d.classes.map { .string($0) })
        },
        Entry(name: "domain", help: "the domain within the source: a digit style, …") { v in
            guard case .dataset(let d) = v else { return .none }
            return .string(d.domain)
        },
        Entry(name: "name", help: "where the data came from") { v in
            guard case .dataset(let d) = v else { return .none }
            return .string(d.name)
        },
        Entry(name: "attributes", help: "the classes × attributes 0/1 table (zero-shot data), or none") { v in
            guard case .dataset(let d) = v, let a = d.attributes else { return .none }
            return .tensor(a)
        },
        Entry(name: "attribute_names", help: "the attribute names, a list of strings") { v in
            guard case .dataset(let d) = v else { return .none }
            return .list(d.attributeNames.map { .string($0) })
        },
        Entry(name: "word_vectors", help: "one word vector per class (animals: each name embedded by the pretrained all-MiniLM-L6-v2, 384-d), or none") { v in
            guard case .dataset(let d) = v, let w = d.wordVectors else { return .none }
            return .tensor(w)
        },
        Entry(name: "counts", help: "samples per class, a list") { v in
            guard case .dataset(let d) = v else { return .none }
            return .list(d.classCounts.map { .number(Double($0)) })
        },
    ]

    static let model: [Entry] = [
        Entry(name: "layers", help: "the layers, each a model sharing its weights") { v in
            guard case .model(let m) = v else { return .none }
            return .list(zip(m.layers, m.inputShapes()).map { entry, shape in .model(Model(entry.layer, inputShape: shape)) })
        },
        Entry(name: "params", help: "the number of learnable values") { v in
            guard case .model(let m) = v else { return .none }
            return .number(Double(m.network.parameterCount))
        },
        Entry(name: "weights", help: "the weights by PyTorch state_dict name, a record of tensors") { v in
            guard case .model(let m) = v else { return .none }
            return .record(Record(m.network.namedParameters().map { ($0.name, .tensor($0.parameter.value.detached())) }))
        },
        Entry(name: "kind", help: "what the model is: classifier, autoencoder, domain-adversarial network, …") { v in
            guard case .model(let m) = v else { return .none }
            return .string(m.method.kind)
        },
        Entry(name: "input", help: "the shape of one input sample, or none when not known yet") { v in
            guard case .model(let m) = v, let s = m.inputShape else { return .none }
            return .list(s.map { .number(Double($0)) })
        },
    ]

    /// Besides these, a history has one property per recorded figure (`h.loss`, `h.domain_accuracy`,
    /// …: `h.names` lists them).
    static let history: [Entry] = [
        Entry(name: "names", help: "the figures recorded per epoch (each is also a property, h.loss, and an index, h[\"loss\"])") { v in
            guard case .history(let h) = v else { return .none }
            return .list(h.names.map { .string($0) })
        },
        Entry(name: "samples_per_second", help: "training speed per epoch") { v in
            guard case .history(let h) = v else { return .none }
            return .list(h.epochs.map { .number($0.samplesPerSecond) })
        },
        Entry(name: "seconds", help: "time per epoch") { v in
            guard case .history(let h) = v else { return .none }
            return .list(h.epochs.map { .number($0.seconds) })
        },
        Entry(name: "epochs", help: "the number of finished epochs") { v in
            guard case .history(let h) = v else { return .none }
            return .number(Double(h.epochs.count))
        },
    ]

    /// A recorded figure of a history per epoch (none where an epoch did not record it), at fp32's
    /// precision like every other figure tl computes (the epoch means are summed in doubles, whose
    /// last digits are noise: 2.3101097, not 2.31010968526204).
    static func series(_ h: History, _ name: String) -> Value {
        .list(h.series(name).map { $0.map { .number(Double(Float($0))) } ?? .none })
    }

    static let report: [Entry] = [
        Entry(name: "accuracy", help: "the share classified correctly") { v in
            guard case .report(let r) = v else { return .none }
            return .number(r.accuracy)
        },
        Entry(name: "loss", help: "the mean cross-entropy") { v in
            guard case .report(let r) = v else { return .none }
            return .number(r.loss)
        },
        Entry(name: "per_class", help: "accuracy of each class (none for absent classes)") { v in
            guard case .report(let r) = v else { return .none }
            return .list(r.perClass.map { $0.map { .number($0) } ?? .none })
        },
        Entry(name: "confusion", help: "counts: row true class, column predicted class") { v in
            guard case .report(let r) = v else { return .none }
            let k = r.classes.count
            return .tensor((try? Tensor(shape: [k, k], values: r.confusion.flatMap { $0.map(Float.init) })) ?? Tensor(scalar: 0))
        },
        Entry(name: "count", help: "the number of samples evaluated") { v in
            guard case .report(let r) = v else { return .none }
            return .number(Double(r.count))
        },
    ]

    static let function: [Entry] = [
        Entry(name: "name", help: "the function's name") { v in
            switch v {
            case .builtin(let b): return .string(b.name)
            case .function(let f): return .string(f.name)
            default: return .none
            }
        },
    ]

    /// The declared properties of a value (record fields are listed by `names`).
    static func entries(of v: Value) -> [Entry] {
        switch v {
        case .tensor: tensor
        case .dataset: dataset
        case .model: model
        case .history: history
        case .report: report
        case .builtin, .function: function
        default: []
        }
    }

    /// Names that may follow `value.`, for completion.
    static func names(of v: Value) -> [String] {
        switch v {
        case .record(let r): return r.fields.map(\.key)
        case .model(let m):
            return entries(of: v).map(\.name) + m.method.parts(inputShape: m.inputShape).map(\.name)
                + ((m.network as? Sequential)?.namedEntries.map(\.name) ?? [])
        case .history(let h): return h.names + entries(of: v).map(\.name)
        default: return entries(of: v).map(\.name)
        }
    }

    /// A model's parts (`.features`, `.encoder`, `.heads`, …) and a history's figures.
    static func dynamic(_ v: Value, _ name: String) -> Value? {
        switch v {
        case .model(let m):
            if !Sequential.isPositional(name), let s = m.network as? Sequential, let i = s.entries.firstIndex(where: { $0.name == name }) {
                // A named layer (net.fc, net.layer1), as PyTorch's attribute: the layer itself.
                return .model(Model(s.entries[i].layer, inputShape: m.inputShape(ofLayersFrom: i)))
            }
            guard let part = m.method.parts(inputShape: m.inputShape).first(where: { $0.name == name }) else { return nil }
            switch part.value {
            case .model(let model): return .model(model)
            case .models(let models): return .list(models.map { .model($0) })
            }
        case .history(let h):
            return h.names.contains(name) ? series(h, name) : nil
        default:
            return nil
        }
    }

    static func get(_ v: Value, _ name: String, range: SourceRange) throws -> Value {
        if case .record(let r) = v {
            guard let field = r[name] else {
                throw LangError.runtime("record has no field '\(name)'\(didYouMean(name, among: r.fields.map(\.key)))", at: range)
            }
            return field
        }
        if let value = dynamic(v, name) { return value }
        guard let entry = entries(of: v).first(where: { $0.name == name }) else {
            // A layer's own parameter, as PyTorch's attribute: net[1].weight, net.fc.bias.
            var parameterHint: String?
            if case .model(let m) = v {
                let matches = m.network.namedParameters().filter { $0.name == name || $0.name.hasSuffix("." + name) }
                if matches.count == 1 { return .tensor(matches[0].parameter.value.detached()) }
                if let first = matches.first, let dot = first.name.firstIndex(of: ".") {
                    let layer = first.name[..<dot]
                    let access = Int(layer) != nil ? "net[\(layer)]" : "net.\(layer)"
                    parameterHint = "each layer has its own: \(access).\(name), or net.weights[\"\(first.name)\"]"
                }
            }
            let known = names(of: v)
            var suffix = known.isEmpty ? "" : didYouMean(name, among: known)
            if let parameterHint {
                suffix = "; " + parameterHint
            } else if let hint = pythonMethodHint(v, name) {
                suffix = "; " + hint
            } else if suffix.isEmpty, case .history(let h) = v {
                suffix = "; it records \(h.names.joined(separator: ", "))" + (name.hasPrefix("val_") ? " (validate= records val_loss and val_accuracy)" : "")
            } else if suffix.isEmpty, !known.isEmpty {
                suffix = "; it has \(known.joined(separator: ", "))"
            }
            throw LangError.runtime("a \(v.typeName) has no property '\(name)'\(suffix)", at: range)
        }
        return try entry.get(v)
    }

    /// Python's methods (`y.mean()`, `xs.append(4)`): tl's builtins are functions, its lists grow by +.
    static func pythonMethodHint(_ v: Value, _ name: String) -> String? {
        if case .list = v, ["append", "extend", "insert"].contains(name) {
            return "lists grow with +: xs = xs + [item]"
        }
        guard BuiltinTable.byName[name] != nil else { return nil }
        return "'\(name)' is a function in tl: \(name)(x)"
    }

    /// `net.fc = linear(512, 10)`: replaces a named layer of a sequential model in place; false
    /// when the model has no layer of that name.
    static func replaceLayer(of m: Model, _ name: String, with value: Value, range: SourceRange) throws -> Bool {
        guard let s = m.network as? Sequential, s.namedEntries.contains(where: { $0.name == name }) else { return false }
        guard case .model(let replacement) = value else {
            throw LangError.runtime("'\(name)' is a layer of the model: it is replaced by a layer or model, not a \(value.typeName)", at: range)
        }
        try s.replace(name, with: replacement.network)
        return true
    }

    static func settableHint(_ v: Value) -> String {
        names(of: v).isEmpty ? "" : "; its properties (\(names(of: v).joined(separator: ", "))) are read-only"
    }
}

extension Interpreter {
    /// Property names that may follow `value.` (for completion).
    public static func propertyNames(of v: Value) -> [String] { Properties.names(of: v) }
}
