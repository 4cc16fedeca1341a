#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine
import TLNN
import TLTransfer

/// Elementwise functions, reductions and reshaping. Numbers stay numbers; tensors (and lists,
/// converted) give tensors that carry gradients.
enum MathBuiltins {
    static let x = BuiltinParameter.required("x", .any, "a tensor, a number or a list of numbers")

    /// A function applied to each element: on a number computed in double precision.
    static func elementwise(_ name: String, _ help: String, example: String,
                            number: @escaping @Sendable (Double) -> Double,
                            tensor: @escaping @Sendable (Tensor) throws -> Tensor) -> Builtin {
        Builtin(name, [x], group: "math", help: help, example: example) { args in
            switch args.value("x") {
            case .number(let v): return .number(number(v))
            default: return .tensor(try tensor(tensorArgument(args, "x")))
            }
        }
    }

    /// An activation: applied to x when given, else a layer for `sequential` (`relu()`).
    static func activation(_ kind: Activation.Kind, _ help: String, example: String,
                           number: @escaping @Sendable (Double) -> Double,
                           tensor: @escaping @Sendable (Tensor) throws -> Tensor) -> Builtin {
        let optionalX = BuiltinParameter.optional("x", .any, .none, "a tensor or number; leave out for the layer")
        return Builtin(kind.rawValue, [optionalX], group: "math", help: help, example: example) { args in
            switch args.value("x") {
            case .none: return .model(Model(Activation(kind)))
            case .number(let v): return .number(number(v))
            default: return .tensor(try tensor(tensorArgument(args, "x")))
            }
        }
    }

    static func tensorArgument(_ args: Arguments, _ name: String) throws -> Tensor {
        do { return try Conversion.tensor(from: args.value(name)) } catch let e as LangError {
            throw args.error("'\(name)' must be a tensor (or a number, or a list of numbers): \(e.message)", at: name)
        }
    }

    static let axis = BuiltinParameter.optional("axis", .integer, .none, keyword: true,
                                                "reduce along this axis only (negative counts from the end)")
    static let keepdims = BuiltinParameter.optional("keepdims", .bool, .bool(false), keyword: true,
                                                    "keep the reduced axis with size 1")

    /// A reduction: over a list of numbers it gives a number; over a tensor a tensor.
    static func reduction(_ name: String, _ help: String, example: String,
                          numbers: @escaping @Sendable ([Double]) -> Double,
                          tensor: @escaping @Sendable (Tensor, Int?, Bool) throws -> Tensor) -> Builtin {
        Builtin(name, [x, axis, keepdims], group: "math", help: help, example: example) { args in
            let value = args.value("x")
            if case .tensor = value {} else if args.isNone("axis"), let list = numberList(value) {
                guard !list.isEmpty || name == "sum" else { throw args.error("the \(name) of an empty list is undefined", at: "x") }
                return .number(numbers(list))
            }
            return .tensor(try tensor(try tensorArgument(args, "x"), try args.optionalInt("axis"), try args.bool("keepdims")))
        }
    }

    /// The numbers of a number or a flat list of numbers.
    static func numberList(_ v: Value) -> [Double]? {
        switch v {
        case .number(let x): return [x]
        case .list(let items):
            var out: [Double] = []
            for item in items {
                guard case .number(let x) = item else { return nil }
                out.append(x)
            }
            return out
        default: return nil
        }
    }

    static let all: [Builtin] = [
        elementwise("exp", "e raised to each element.", example: "exp(tensor([0, 1]))", number: { Glibc.exp($0) }) { $0.exp() },
        elementwise("log", "The natural logarithm of each element (nan below 0, -inf at 0).", example: "log(tensor([1, 10]))",
                    number: { Glibc.log($0) }) { $0.log() },
        elementwise("sqrt", "The square root of each element.", example: "sqrt(tensor([4, 9]))",
                    number: { $0.squareRoot() }) { $0.sqrt() },
        elementwise("abs", "The absolute value of each element.", example: "abs(tensor([-2, 3]))",
                    number: { Swift.abs($0) }) { $0.abs() },
        activation(.relu, "max(x, 0) for each element (the rectified linear unit); relu() is the layer.",
                   example: "relu(tensor([-1, 2]))", number: { Swift.max($0, 0) }) { $0.relu() },
        activation(.sigmoid, "1/(1+e^−x) for each element; sigmoid() is the layer.", example: "sigmoid(0)",
                   number: { 1 / (1 + Glibc.exp(-$0)) }) { $0.sigmoid() },
        activation(.tanh, "The hyperbolic tangent of each element; tanh() is the layer.", example: "tanh(tensor([0, 1]))",
                   number: { Glibc.tanh($0) }) { $0.tanh() },
        reduction("sum", "The sum of the elements, or along axis=.", example: "sum(tensor([[1, 2], [3, 4]]), axis=0)",
                  numbers: { $0.reduce(0, +) }) { try $0.sum(axis: $1, keepDims: $2) },
        reduction("mean", "The mean of the elements, or along axis=.", example: "mean([0.8, 0.9, 0.7])",
                  numbers: { $0.reduce(0, +) / Double($0.count) }) { try $0.mean(axis: $1, keepDims: $2) },
        reduction("std", "The sample standard deviation of the elements (divided by n − 1, as torch.std; nan for one element), or along axis=: the ± of a mean over seeds.",
                  example: "std([0.78, 0.74, 0.81])",
                  numbers: { values in
                      let m = values.reduce(0, +) / Double(values.count)
                      return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
                  }) { x, axis, keepDims in
            let deviations = try x - x.mean(axis: axis, keepDims: true)  // checks the axis
            let n = axis.map { x.shape[$0 < 0 ? $0 + x.rank : $0] } ?? x.count
            return try ((deviations * deviations).mean(axis: axis, keepDims: keepDims) * Float(Double(n) / Double(n - 1))).sqrt()
        },
        reduction("max", "The largest element, or the largest along axis=.", example: "max(tensor([[1, 5], [7, 2]]), axis=1)",
                  numbers: { $0.max() ?? .nan }) { try $0.max(axis: $1, keepDims: $2) },
        reduction("min", "The smallest element, or the smallest along axis=.", example: "min([3, 1, 2])",
                  numbers: { $0.min() ?? .nan }) { try $0.min(axis: $1, keepDims: $2) },
        Builtin("argmax", [x, axis, keepdims], group: "math",
                help: "The index of the largest element (of the flattened tensor), or indices along axis=.",
                example: "argmax(tensor([[1, 5], [7, 2]]), axis=1)") { args in
            let t = try tensorArgument(args, "x")
            let r = try t.argmax(axis: try args.optionalInt("axis"), keepDims: try args.bool("keepdims"))
            return r.rank == 0 ? .number(Double(r.scalars[0])) : .tensor(r)
        },
        Builtin("softmax", [.required("x", .tensor, "scores (logits)"),
                            .optional("axis", .integer, .number(-1), keyword: true, "the axis that sums to 1")],
                group: "math", help: "exp(x) normalised to sum to 1 along axis= (stable for large scores).",
                example: "softmax(tensor([1, 2, 3]))") { args in
            .tensor(try args.tensor("x").softmax(axis: try args.int("axis")))
        },
        Builtin("norm", [.required("x", .tensor, "a tensor")], group: "math",
                help: "The Euclidean (Frobenius) norm of all elements.", example: "norm(tensor([3, 4]))") { args in
            .tensor(try args.tensor("x").norm())
        },
        Builtin("reshape", [.required("x", .tensor, "a tensor"), .rest("shape", .any, "the new sizes; one may be -1")],
                group: "math", help: "The same elements in a new shape; one size may be -1 and is inferred.",
                example: "reshape(arange(6), 2, -1)") { args in
            var items = try args.list("shape")
            if items.count == 1, case .list(let inner) = items[0] { items = inner }
            let dims = try items.map { v -> Int in
                guard case .number(let d) = v, let i = Int(exactly: d) else { throw args.error(for: "shape", expected: "an integer", got: v, saying: "a size") }
                return i
            }
            return .tensor(try args.tensor("x").reshaped(dims))
        },
        Builtin("transpose", [.required("x", .tensor, "a tensor"), .rest("axes", .integer, "two axes to swap, or an order of all axes")],
                group: "math", help: "Reverses the axes (a matrix's transpose); with two axes swaps them; with all, reorders them.",
                example: "transpose(tensor([[1, 2, 3], [4, 5, 6]]))") { args in
            let t = try args.tensor("x")
            let axes = try args.list("axes").map { v -> Int in
                guard case .number(let a) = v else { return 0 }
                return Int(a)
            }
            switch axes.count {
            case 0: return .tensor(t.T)
            case 2: return .tensor(try t.transposed(axes[0], axes[1]))
            case t.rank: return .tensor(try t.permuted(axes))
            default: throw args.error("give two axes to swap, or an order of all \(t.rank) axes", at: "axes")
            }
        },
        Builtin("concat", [.required("tensors", .tensors, "a list of tensors"),
                           .optional("axis", .integer, .number(0), keyword: true, "the axis to join along")],
                group: "math", help: "Joins tensors along an axis; their other sizes must agree.",
                example: "concat([ones(2), zeros(3)])") { args in
            let parts = try args.list("tensors").map { v -> Tensor in
                guard case .tensor(let t) = v else { return Tensor(scalar: 0) }
                return t
            }
            return .tensor(try Tensor.concat(parts, axis: try args.int("axis")))
        },
        Builtin("grad", [.required("f", .function, "a function of one tensor that returns a one-element tensor"),
                         .required("x", .tensor, "the point at which to differentiate")], group: "math",
                help: "The gradient of f at x, computed by the engine's reverse mode.",
                example: "def f(x) { return sum(relu(x) ** 2) }; grad(f, tensor([-1, 2]))") { args in
            let x = try args.tensor("x").detached().requiringGrad()
            let y = try args.interpreter.call(args.value("f"), [.tensor(x)], range: args.range)
            guard case .tensor(let t) = y, t.count == 1 else {
                throw args.error("'f' must return a one-element tensor, got \(ArgumentError.describe(y))", at: "f")
            }
            guard t.requiresGrad else { return .tensor(try Tensor.zeros(x.shape)) }
            try t.backward()
            if let g = x.grad { return .tensor(g.detached()) }
            return .tensor(try Tensor.zeros(x.shape))
        },
    ]

    static func shapeOf(_ v: Value) -> [Int] {
        if case .tensor(let t) = v { return t.shape }
        return []
    }
}
