import TLEngine
import TLNN
import TLTransfer

/// Layers, model builders, and what can be done to a model's weights.
enum ModelBuiltins {
    static func layer(_ name: String, _ parameters: [BuiltinParameter], help: String, example: String,
                      _ make: @escaping @Sendable (inout Arguments) throws -> (any Layer, [Int]?)) -> Builtin {
        Builtin(name, parameters, group: "models", help: help, example: example) { args in
            let (layer, input) = try make(&args)
            return .model(Model(layer, inputShape: input))
        }
    }

    static func positive(_ args: Arguments, _ names: String...) throws -> [Int] {
        try names.map { n in
            let v = try args.int(n)
            guard v > 0 else { throw args.error(for: n, expected: "positive", got: .number(Double(v))) }
            return v
        }
    }

    static let model = BuiltinParameter.required("m", .model, "a model")

    static let all: [Builtin] = [
        layer("linear", [.required("in", .integer, "input features"), .required("out", .integer, "output features")],
              help: "A fully connected layer y = x·Wᵀ + b (weights out×in, as PyTorch's nn.Linear).", example: "linear(784, 10)") { args in
            let s = try positive(args, "in", "out")
            return (try Linear(s[0], s[1], using: &GlobalRandom.generator), [s[0]])
        },
        layer("conv", [.required("in", .integer, "input channels"), .required("out", .integer, "output channels"),
                       .required("k", .integer, "kernel size k×k"),
                       .optional("stride", .integer, .number(1), keyword: true, "step between windows"),
                       .optional("pad", .integer, .number(0), keyword: true, "zeros added around the input")],
              help: "A 2-D convolution over C×H×W images (weights out×in×k×k, as nn.Conv2d).", example: "conv(3, 16, 5)") { args in
            let s = try positive(args, "in", "out", "k", "stride")
            let pad = try args.int("pad")
            return (try Conv2d(s[0], s[1], kernel: s[2], stride: s[3], padding: pad, using: &GlobalRandom.generator), nil)
        },
        layer("maxpool", [.required("k", .integer, "window size k×k (and stride)")], help: "Max over k×k windows.",
              example: "maxpool(2)") { args in (try MaxPool2d(try positive(args, "k")[0]), nil) },
        layer("flatten", [], help: "Keeps the batch axis and flattens the rest.", example: "flatten()") { _ in (Flatten(), nil) },
        layer("dropout", [.required("p", .number, "the probability of zeroing each value, 0 ≤ p < 1")],
              help: "Zeroes values with probability p in training (scaling the rest by 1/(1−p)); the identity otherwise.",
              example: "dropout(0.5)") { args in (try Dropout(try args.float("p")), nil) },
        layer("batchnorm", [.required("n", .integer, "channels (or features)")],
              help: "Batch normalisation of N×C or N×C×H×W input, with running statistics for evaluation.",
              example: "batchnorm(16)") { args in (try BatchNorm(try positive(args, "n")[0]), nil) },
        layer("grl", [.optional("lambda", .number, .number(1), keyword: true, "the factor λ of the reversed gradient")],
              help: "Gradient reversal: the identity forward, the gradient times −λ backward (domain-adversarial training).",
              example: "grl(lambda=0.5)") { args in (GradientReversal(lambda: try args.float("lambda")), nil) },
        Builtin("sequential", [.rest("layers", .model, "layers or models, applied in order")], group: "models",
                help: "Layers applied in order; models given are spliced in, sharing their weights.",
                example: "sequential(flatten(), linear(784, 32), relu(), linear(32, 10))") { args in
            let parts = try args.list("layers").map { v -> Model in
                guard case .model(let m) = v else { throw args.error(for: "layers", expected: "a layer or a model", got: v, saying: "each argument") }
                return m
            }
            let layers = parts.flatMap { m in m.layers.map(\.layer) }
            return .model(Model(Sequential(layers), inputShape: parts.first?.inputShape))
        },
        Builtin("mlp", [.required("sizes", .list, "layer widths, input first: [784, 256, 10]"),
                        .optional("act", .string, .string("relu"), keyword: true, "relu, tanh or sigmoid between layers"),
                        .optional("dropout", .number, .number(0), keyword: true, "dropout after each hidden layer")],
                group: "models", help: "A multilayer perceptron: flatten, then linear layers with an activation between them.",
                example: "mlp([784, 128, 10])") { args in
            let sizes = try args.integers("sizes")
            let kind = try args.choice("act", of: Activation.Kind.self)
            let net = try Models.mlp(sizes, activation: kind, dropout: try args.float("dropout"), using: &GlobalRandom.generator)
            return .model(Model(net, inputShape: sizes.first.map { [$0] }))
        },
        Builtin("cnn", [.optional("classes", .integer, .number(10), keyword: true, "outputs of the classifier"),
                        .optional("input", .list, .list([.number(3), .number(28), .number(28)]), keyword: true, "one image's [channels, height, width]")],
                group: "models",
                help: "A small LeNet-style CNN: features (conv 5×5, ReLU, pool, conv 5×5, ReLU, pool, flatten) = net[0:7], then the classifier linear → ReLU → linear.",
                example: "cnn(classes=10)") { args in
            let input = try args.integers("input")
            let net = try Models.cnn(classes: try args.int("classes"), input: input, using: &GlobalRandom.generator)
            return .model(Model(net, inputShape: input))
        },
        Builtin("clone", [model], group: "models",
                help: "A deep copy: the same layers with their own weights, of any model (a view, an attach()ed or progressive network, an embedder, …); training the copy leaves the original as it was.",
                example: "a = mlp([4, 2]); b = clone(a)") { args in
            .model(try args.model("m").clone())
        },
        Builtin("freeze", [model], group: "models",
                help: "Stops training from changing the model's (or a view's) weights.", example: "net = cnn(); freeze(net[0:7])") { args in
            try args.model("m").network.setFrozen(true)
            return .none
        },
        Builtin("unfreeze", [model], group: "models", help: "Lets training change the weights again.",
                example: "net = cnn(); freeze(net); unfreeze(net[7:])") { args in
            try args.model("m").network.setFrozen(false)
            return .none
        },
        Builtin("reinit", [model], group: "models", help: "Draws fresh initial weights, as a new model would have.",
                example: "net = mlp([4, 2]); reinit(net)") { args in
            try args.model("m").network.reset(using: &GlobalRandom.generator)
            return .none
        },
        Builtin("copy_weights", [.required("from", .model, "the model to copy from"), .required("to", .model, "a model with the same layers")],
                group: "models", help: "Copies weights layer by layer between models (or views) of the same shapes.",
                example: "a = cnn(); b = cnn(); copy_weights(a[0:4], b[0:4])") { args in
            let source = try args.model("from").network.namedParameters().map(\.parameter)
            let target = try args.model("to").network.namedParameters().map(\.parameter)
            guard source.count == target.count else {
                throw args.error("the models have \(source.count) and \(target.count) weight tensors; copy between matching views")
            }
            for (i, (s, t)) in zip(source, target).enumerated() where s.value.shape != t.value.shape {
                throw args.error("weight \(i + 1) has shape \(Shape.describe(s.value.shape)) in 'from' and \(Shape.describe(t.value.shape)) in 'to'")
            }
            for (s, t) in zip(source, target) {
                if t.isBuffer { t.value = s.value.detached() } else { t.assign(s.value) }
            }
            return .none
        },
        Builtin("summary", [model], group: "looking at things",
                help: "The model's table: layers, output shapes, parameters, frozen.", example: "summary(cnn())") { args in
            args.interpreter.output(ModelTable.render(try args.model("m")) + "\n")
            return .none
        },
        Builtin("params", [model], group: "looking at things", help: "The number of learnable values of a model.",
                example: "params(mlp([784, 10]))") { args in
            .number(Double(try args.model("m").network.parameterCount))
        },
    ]
}
