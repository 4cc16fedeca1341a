import TLEngine

/// Creating tensors.
enum TensorBuiltins {
    /// The sizes given as `f(2, 3)` or `f([2, 3])`.
    static func shape(_ args: Arguments, _ name: String = "shape") throws -> [Int] {
        var items = try args.list(name)
        if items.count == 1, case .list(let inner) = items[0] { items = inner }
        let dims = try items.map { v -> Int in
            guard case .number(let x) = v, let i = Int(exactly: x), i >= 0 else {
                throw args.error(for: name, expected: "a non-negative integer", got: v, saying: "a size")
            }
            return i
        }
        _ = try Shape.count(dims, op: args.builtin.name)
        return dims
    }

    static let all: [Builtin] = [
        Builtin("tensor", [.required("values", .tensor, "a number or a (nested) list of numbers")], group: "tensors",
                help: "A tensor from a number or a nested list of numbers; the nesting gives the shape.",
                example: "tensor([[1, 2, 3], [4, 5, 6]])") { args in
            .tensor(try args.tensor("values").detached())
        },
        Builtin("zeros", [.rest("shape", .any, "sizes, as zeros(2, 3) or zeros([2, 3])")], group: "tensors",
                help: "A tensor of zeros.", example: "zeros(2, 3)") { args in
            .tensor(try Tensor.zeros(shape(args)))
        },
        Builtin("ones", [.rest("shape", .any, "sizes, as ones(2, 3) or ones([2, 3])")], group: "tensors",
                help: "A tensor of ones.", example: "ones(3)") { args in
            .tensor(try Tensor.ones(shape(args)))
        },
        Builtin("randn", [.rest("shape", .any, "sizes")], group: "tensors",
                help: "Samples of the standard normal distribution, drawn from the generator that seed() sets.",
                example: "seed(1); randn(2, 2)") { args in
            .tensor(try Tensor.randn(shape(args), using: &GlobalRandom.generator))
        },
        Builtin("rand", [.rest("shape", .any, "sizes")], group: "tensors",
                help: "Uniform samples in [0, 1), drawn from the generator that seed() sets.",
                example: "seed(1); rand(3)") { args in
            .tensor(try Tensor.rand(shape(args), using: &GlobalRandom.generator))
        },
        Builtin("eye", [.required("n", .integer, "the number of rows and columns")], group: "tensors",
                help: "The n×n identity matrix.", example: "eye(3)") { args in
            let n = try args.int("n")
            guard n >= 0 else { throw args.error(for: "n", expected: "0 or more", got: .number(Double(n))) }
            return .tensor(try Tensor.eye(n))
        },
        Builtin("arange", [.required("start", .number, "the first value, or the end when it is the only argument"),
                           .optional("end", .number, .none, "values stop before this"),
                           .optional("step", .number, .number(1), "the distance between values")], group: "tensors",
                help: "Evenly spaced values from start up to (not including) end, as NumPy's arange.",
                example: "arange(0, 1, 0.25)") { args in
            let (a, b) = args.isNone("end") ? (0, try args.number("start")) : (try args.number("start"), try args.number("end"))
            return .tensor(try Tensor.arange(Float(a), Float(b), step: try args.float("step")))
        },
    ]
}
