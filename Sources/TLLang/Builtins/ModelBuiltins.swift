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

    static let pooling: [BuiltinParameter] = [
        .required("k", .integer, "window size k×k"),
        .optional("stride", .integer, .none, keyword: true, "step between windows; k by default"),
        .optional("pad", .integer, .number(0), keyword: true, "positions added on every side, at most k/2"),
    ]

    static func poolWindow(_ args: Arguments) throws -> (kernel: Int, stride: Int?, pad: Int) {
        let k = try positive(args, "k")[0]
        let stride = args.isNone("stride") ? nil : try positive(args, "stride")[0]
        let pad = try args.int("pad")
        guard pad >= 0, pad <= k / 2 else {
            throw args.error(for: "pad", expected: "between 0 and k/2 = \(k / 2)", got: .number(Double(pad)))
        }
        return (k, stride, pad)
    }

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
        layer("maxpool", pooling, help: "Max over k×k windows; padding never wins (as −∞ in PyTorch).",
              example: "maxpool(3, stride=2, pad=1)") { args in
            let (k, stride, pad) = try poolWindow(args)
            return (try MaxPool2d(k, stride: stride, padding: pad), nil)
        },
        layer("avgpool", pooling, help: "The mean over k×k windows; padding counts as zeros in the mean (PyTorch's default).",
              example: "avgpool(2)") { args in
            let (k, stride, pad) = try poolWindow(args)
            return (try AvgPool2d(k, stride: stride, padding: pad), nil)
        },
        layer("adaptive_avgpool", [.optional("size", .integer, .number(1), "the output's height and width, whatever the input's")],
              help: "The mean over an adaptive size×size grid of windows (PyTorch's AdaptiveAvgPool2d); size 1 is global average pooling.",
              example: "adaptive_avgpool()") { args in (try AdaptiveAvgPool2d(try positive(args, "size")[0]), nil) },
        Builtin("residual", [.required("body", .model, "the layers whose output is added to the input"),
                             .optional("shortcut", .model, .none, keyword: true, "a model applied to the input before the sum (a strided 1×1 conv where the body changes the shape); the identity by default"),
                             .optional("act", .string, .string("relu"), keyword: true, "relu, tanh, sigmoid or none, after the sum")],
                group: "models",
                help: "A residual block act(body(x) + shortcut(x)). Its layers keep the body's names, then \"shortcut\", as state_dict names.",
                example: "residual(sequential(conv(16, 16, 3, pad=1), batchnorm(16), relu(), conv(16, 16, 3, pad=1), batchnorm(16)))") { args in
            let bodyModel = try args.model("body")
            let body = bodyModel.network as? Sequential ?? Sequential([bodyModel.network])
            let shortcut = args.isNone("shortcut") ? nil : try args.model("shortcut").network
            let act = try args.string("act")
            let kind = Activation.Kind(rawValue: act)
            guard kind != nil || act == "none" else {
                throw args.error(for: "act", expected: "relu, tanh, sigmoid or none", got: .string(act))
            }
            return .model(Model(try Residual(body, shortcut: shortcut, activation: kind), inputShape: bodyModel.inputShape))
        },
        Builtin("resnet", [.optional("depth", .integer, .number(18), "18 or 34"),
                           .optional("classes", .integer, .number(1000), keyword: true, "outputs of the last layer, fc"),
                           .optional("input", .list, .list([.number(3), .number(224), .number(224)]), keyword: true, "one image's [channels, height, width] (any size: the pooling at the end is global)")],
                group: "models",
                help: "A ResNet-18 or -34 as torchvision builds it, with torchvision's state_dict names, so a checkpoint converted to safetensors loads with load(file, into=net). Its parts are properties and views: net.conv1, net.layer1 … net.layer4, net.fc; net.fc = linear(512, 10) replaces the head.",
                example: "net = resnet(18, classes=10, input=[3, 32, 32]); net.fc") { args in
            let input = try args.integers("input")
            guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
                throw args.error(for: "input", expected: "[channels, height, width], all positive", got: args.value("input"))
            }
            let depth = try args.int("depth")
            guard ResNet.stages[depth] != nil else {
                throw args.error(for: "depth", expected: "18 or 34", got: .number(Double(depth)))
            }
            let net = try ResNet.make(depth: depth, classes: try args.int("classes"), inputChannels: input[0],
                                        using: &GlobalRandom.generator)
            return .model(Model(net, inputShape: input))
        },
        layer("flatten", [], help: "Keeps the batch axis and flattens the rest.", example: "flatten()") { _ in (Flatten(), nil) },
        layer("unflatten", [.rest("shape", .any, "one sample's sizes: channels, height, width (or a list of them)")],
              help: "Flatten's inverse: rows of C·H·W values become C×H×W feature maps, so a decoder can go from a code back to images (nn.Unflatten(1, shape)).",
              example: "sequential(linear(16, 392), relu(), unflatten(8, 7, 7))") { args in
            var items = try args.list("shape")
            if items.count == 1, case .list(let inner) = items[0] { items = inner }
            let sizes = try items.map { v -> Int in
                guard case .number(let d) = v, let i = Int(exactly: d), i > 0 else {
                    throw args.error(for: "shape", expected: "a positive integer", got: v, saying: "a size")
                }
                return i
            }
            guard !sizes.isEmpty else {
                throw args.error(for: "shape", expected: "one sample's sizes, unflatten(8, 7, 7)", got: args.value("shape"))
            }
            let layer = try Unflatten(sizes)
            return (layer, [layer.count])
        },
        layer("upsample", [.optional("factor", .integer, .number(2), "how many times larger the height and width become")],
              help: "Nearest-neighbour upsampling of feature maps: each value becomes a factor×factor block (nn.Upsample(mode=\"nearest\")); with conv, a decoder's way back up to the image size.",
              example: "sequential(unflatten(8, 7, 7), upsample(2), conv(8, 3, 3, pad=1))") { args in
            (try Upsample(try positive(args, "factor")[0]), nil)
        },
        layer("dropout", [.required("p", .number, "the probability of zeroing each value, 0 ≤ p < 1")],
              help: "Zeroes values with probability p in training (scaling the rest by 1/(1−p)); the identity otherwise.",
              example: "dropout(0.5)") { args in (try Dropout(try args.float("p")), nil) },
        layer("batchnorm", [.required("n", .integer, "channels (or features)")],
              help: "Batch normalisation of N×C or N×C×H×W input, with running statistics for evaluation (and in training for a frozen layer or a batch of one sample, which has no variance of its own).",
              example: "batchnorm(16)") { args in (try BatchNorm(try positive(args, "n")[0]), nil) },
        layer("grl", [.optional("lambda", .number, .number(1), keyword: true, "the factor λ of the reversed gradient")],
              help: "Gradient reversal: the identity forward, the gradient times −λ backward (domain-adversarial training).",
              example: "grl(lambda=0.5)") { args in (GradientReversal(lambda: try args.float("lambda")), nil) },
        Builtin("sequential", [.rest("layers", .model, "layers or models, applied in order")], group: "models",
                help: "Layers applied in order; models given are spliced in, sharing their weights. Layers are named by position (0, 1, …) but for named ones (a ResNet's conv1 … fc), which keep their names.",
                example: "sequential(flatten(), linear(784, 32), relu(), linear(32, 10))") { args in
            let parts = try args.list("layers").map { v -> Model in
                guard case .model(let m) = v else { throw args.error(for: "layers", expected: "a layer or a model", got: v, saying: "each argument") }
                return m
            }
            // Layers named by position are renumbered; named ones (a ResNet's conv1 … fc) keep
            // their names, so the state_dict names stay torchvision's.
            var entries: [(name: String, layer: any Layer)] = []
            for (name, layer) in parts.flatMap(\.layers) {
                let named = !Sequential.isPositional(name) && !entries.contains { $0.name == name }
                entries.append((named ? name : String(entries.count), layer))
            }
            return .model(Model(Sequential(entries: entries), inputShape: parts.first?.inputShape))
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
                help: "Stops training from changing the model's (or a view's) weights. Frozen batch-norm layers also keep their running statistics and use them in training (as Keras does; PyTorch would go on updating them).", example: "net = cnn(); freeze(net[0:7])") { args in
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
            let named = try args.model("to").network.namedParameters()
            let source = try args.model("from").network.namedParameters().map(\.parameter), target = named.map(\.parameter)
            guard source.count == target.count else {
                throw args.error("the models have \(source.count) and \(target.count) weight tensors; copy between matching views")
            }
            for (i, (s, t)) in zip(source, target).enumerated() where s.value.shape != t.value.shape {
                // A positional name ("9.weight") is the layer's index: the layers before it may match.
                let parts = named[i].name.split(separator: "."), layer = parts.first.flatMap { Int($0) }
                let what = layer.map { "layer \($0)'s \(parts.dropFirst().joined(separator: "."))" } ?? "'\(named[i].name)'"
                let advice = layer.map { i > 0 ? "; to copy the layers before it: copy_weights(from[0:\($0)], to[0:\($0)])" : "" } ?? ""
                throw args.error("\(what) has shape \(Shape.describe(s.value.shape)) in 'from' and \(Shape.describe(t.value.shape)) in 'to'\(advice)")
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
        Builtin("params", [model, .optional("trainable", .bool, .bool(false), keyword: true, "count only the values training changes (not frozen)")],
                group: "looking at things", help: "The number of learnable values of a model, or of those training changes (trainable=true).",
                example: "net = mlp([784, 10]); freeze(net); params(net, trainable=true)") { args in
            let network = try args.model("m").network
            return .number(Double(try args.bool("trainable") ? network.trainableCount : network.parameterCount))
        },
    ]
}
