import TLData
import TLEngine
import TLNN
import TLTransfer

/// An index item after evaluation: a value (number, list) or slice bounds.
enum EvaluatedIndex {
    case single(Value, SourceRange)
    case slice(Int?, Int?, Int?, SourceRange)
}

/// `x[i]`, `x[a:b:s]` and `x[i, a:b]` on lists, strings and tensors.
enum Indexing {
    static func index(_ base: Value, _ items: [EvaluatedIndex], range: SourceRange) throws -> Value {
        switch base {
        case .list(let values):
            return try sequence(values, items, range: range, typeName: "list", itemBytes: MemoryLayout<Value>.stride,
                                one: { $0 }, make: { .list($0) })
        case .string(let s):
            try Operators.reserve(s.utf8.count * MemoryLayout<Character>.stride, for: "indexing", at: range)
            return try sequence(Array(s), items, range: range, typeName: "string", itemBytes: MemoryLayout<Character>.stride,
                                one: { .string(String($0)) }, make: { .string(String($0)) })
        case .record(let r):
            guard items.count == 1, case .single(.string(let key), let kr) = items[0] else {
                throw LangError.runtime("a record is indexed by a field name in quotes, or use record.field", at: range)
            }
            guard let v = r[key] else {
                throw LangError.runtime("record has no field '\(key)'\(didYouMean(key, among: r.fields.map(\.key)))", at: kr)
            }
            return v
        case .tensor(let t):
            return .tensor(try tensor(t, items, range: range))
        case .dataset(let d):
            return try dataset(d, items, range: range)
        case .model(let m):
            return try model(m, items, range: range)
        case .history(let h):
            // h["loss"], as Keras's history.history["loss"]: the record by name, as h.loss.
            guard items.count == 1, case .single(.string(let key), let kr) = items[0] else {
                throw LangError.runtime("a history is indexed by a record's name in quotes (h[\"loss\"]), or use h.loss", at: range)
            }
            return try Properties.get(base, key, range: kr)
        default:
            throw LangError.runtime("a \(base.typeName) cannot be indexed", at: range)
        }
    }

    private static func sequence<T>(_ values: [T], _ items: [EvaluatedIndex], range: SourceRange, typeName: String,
                                    itemBytes: Int, one: (T) -> Value, make: ([T]) -> Value) throws -> Value {
        guard items.count == 1 else { throw LangError.runtime("a \(typeName) takes one index", at: range) }
        switch items[0] {
        case .single(let v, let r):
            let i = try Operators.integer(v, what: "an index", range: r)
            let j = i < 0 ? i + values.count : i
            guard j >= 0, j < values.count else {
                throw LangError.runtime("index \(i) is out of range for a \(typeName) of length \(values.count)", at: r)
            }
            return one(values[j])
        case .slice(let a, let b, let s, let r):
            let step = s ?? 1
            guard step != 0 else { throw LangError.runtime("slice step cannot be zero", at: r) }
            let indices = sliceIndices(count: values.count, start: a, end: b, step: step)
            try Operators.reserve(indices.count * (itemBytes + MemoryLayout<Int>.stride), for: "indexing", at: range)
            return make(indices.map { values[$0] })
        }
    }

    /// Python's `range(*slice(a, b, s).indices(n))`.
    static func sliceIndices(count n: Int, start: Int?, end: Int?, step: Int) -> [Int] {
        func clamp(_ v: Int?, _ dflt: Int, _ low: Int, _ high: Int) -> Int {
            guard var v else { return dflt }
            if v < 0 { v += n }
            return Swift.min(Swift.max(v, low), high)
        }
        if step > 0 {
            return Array(stride(from: clamp(start, 0, 0, n), to: clamp(end, n, 0, n), by: step))
        }
        return Array(stride(from: clamp(start, n - 1, -1, n - 1), to: clamp(end, -1, -1, n - 1), by: step))
    }

    private static func tensor(_ t: Tensor, _ items: [EvaluatedIndex], range: SourceRange) throws -> Tensor {
        guard items.count <= t.rank else {
            throw LangError.runtime("too many indices (\(items.count)) for a tensor of rank \(t.rank)", at: range)
        }
        var result = t
        var axis = 0
        do {
            for item in items {
                switch item {
                case .single(.list(let values), let r):
                    guard axis == 0 else { throw LangError.runtime("a list of indices works on the first axis only", at: r) }
                    let indices = try values.map { try Operators.integer($0, what: "an index", range: r) }
                    result = try result.indexSelect(indices)
                    axis += 1
                case .single(let v, let r):
                    let i = try Operators.integer(v, what: "an index", range: r)
                    let n = result.shape[axis]
                    guard i >= -n, i < n else {
                        throw LangError.runtime("index \(i) is out of range for axis \(axis) of size \(n)", at: r)
                    }
                    result = try TensorIndexing.select(result, index: i < 0 ? i + n : i, axis: axis)
                case .slice(let a, let b, let s, let r):
                    guard (s ?? 1) != 0 else { throw LangError.runtime("slice step cannot be zero", at: r) }
                    result = try result.sliced(axis: axis, start: a, end: b, step: s ?? 1)
                    axis += 1
                }
            }
        } catch let e as TensorError {
            throw LangError.runtime(e.description, at: range)
        }
        return result
    }
}

extension Indexing {
    /// `ds[a:b]` and `ds[[i, j]]` give datasets; `ds[i]` gives a record `{x, y}`.
    static func dataset(_ d: Dataset, _ items: [EvaluatedIndex], range: SourceRange) throws -> Value {
        guard items.count == 1 else { throw LangError.runtime("a dataset takes one index or slice", at: range) }
        do {
            switch items[0] {
            case .slice(let a, let b, let s, let r):
                guard (s ?? 1) != 0 else { throw LangError.runtime("slice step cannot be zero", at: r) }
                return .dataset(try d.subset(sliceIndices(count: d.count, start: a, end: b, step: s ?? 1)))
            case .single(.list(let values), let r):
                let indices = try values.map { try Operators.integer($0, what: "an index", range: r) }
                guard let bad = indices.first(where: { $0 < -d.count || $0 >= d.count }) else {
                    return .dataset(try d.subset(indices))
                }
                throw LangError.runtime("index \(bad) is out of range for a dataset of \(d.count) samples", at: r)
            case .single(let v, let r):
                let i = try Operators.integer(v, what: "an index", range: r)
                guard i >= -d.count, i < d.count else {
                    throw LangError.runtime("index \(i) is out of range for a dataset of \(d.count) samples", at: r)
                }
                let j = i < 0 ? i + d.count : i
                let x = try TensorIndexing.select(d.x, index: j, axis: 0)
                return .record(Record([("x", .tensor(x)), ("y", d.y.map { .number(Double($0[j])) } ?? .none)]))
            }
        } catch let e as TensorError {
            throw LangError.runtime(e.description, at: range)
        }
    }
}

extension Indexing {
    /// `m[i]` is one layer and `m[a:b]` a view: models sharing the original's weights.
    static func model(_ m: Model, _ items: [EvaluatedIndex], range: SourceRange) throws -> Value {
        guard let s = m.network as? Sequential else {
            // A composite model (multitask, progressive, attach()ed, …): index its parts instead.
            let parts = m.method.parts(inputShape: m.inputShape).map { part -> String in
                switch part.value {
                case .model: return "." + part.name
                case .models: return "." + part.name + "[0]"
                }
            }
            let hint = parts.isEmpty ? "" : "; index its parts: " + parts.joined(separator: ", ")
            throw LangError.runtime("a \(m.method.kind) is not indexed (only a sequential model is)\(hint)", at: range)
        }
        guard items.count == 1 else {
            throw LangError.runtime("a model is indexed with one index or slice: net[2] or net[0:7]", at: range)
        }
        switch items[0] {
        case .single(let v, let r):
            let i = try Operators.integer(v, what: "a layer index", range: r)
            guard i >= -s.count, i < s.count else {
                throw LangError.runtime("layer \(i) is out of range for a model of \(s.count) layers", at: r)
            }
            let j = i < 0 ? i + s.count : i
            return .model(Model(Sequential(entries: [s.entries[j]]), inputShape: m.inputShape(ofLayersFrom: j)))
        case .slice(let a, let b, let step, let r):
            guard (step ?? 1) == 1 else { throw LangError.runtime("a model view takes consecutive layers (step 1)", at: r) }
            let indices = sliceIndices(count: s.count, start: a, end: b, step: 1)
            guard let first = indices.first, let last = indices.last else {
                return .model(Model(Sequential([]), inputShape: nil))
            }
            return .model(Model(try s.view(first..<(last + 1)), inputShape: m.inputShape(ofLayersFrom: first)))
        }
    }
}

enum TensorIndexing {
    /// Element `index` along `axis`, with that axis removed.
    static func select(_ t: Tensor, index: Int, axis: Int) throws -> Tensor {
        var shape = t.shape
        shape.remove(at: axis)
        return try t.sliced(axis: axis, start: index, end: index + 1).reshaped(shape)
    }
}
