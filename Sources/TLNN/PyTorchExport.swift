import TLEngine

/// A layer that writes itself as PyTorch code: the composite kinds (a domain-adversarial
/// network, a multitask network, …) conform in the target that defines them.
public protocol PyTorchModule {
    /// The Python expression that builds this layer as an `nn.Module` whose `state_dict` names
    /// are this layer's; children through `writer.module(_:path:)`, classes through `writer.use`.
    func pytorch(_ writer: inout PyTorchWriter, path: String) throws -> String
}

/// Writes a tl network as PyTorch source: one expression building the module, and the helper
/// classes it uses (each once, in the order first needed).
public struct PyTorchWriter {
    /// Helper classes by name, in the order they are first used.
    public private(set) var classes: [(name: String, source: String)] = []
    /// Values the PyTorch module keeps that are not tl parameters (ConSE's word vectors), by
    /// state_dict name: they are written to the weights file too.
    public private(set) var extraState: [(name: String, tensor: Tensor, type: StoredType)] = []

    public init() {}

    /// Adds a helper class (once).
    public mutating func use(_ name: String, _ source: String) {
        guard !classes.contains(where: { $0.name == name }) else { return }
        classes.append((name, source))
    }

    public mutating func addState(_ name: String, _ tensor: Tensor, type: StoredType = .float32) {
        extraState.append((name, tensor, type))
    }

    /// The expression building `layer`, at dotted `path` in the whole network ("" at the root).
    public mutating func module(_ layer: any Layer, path: String) throws -> String {
        switch layer {
        case let l as Linear:
            return "nn.Linear(\(l.inputFeatures), \(l.outputFeatures)\(l.bias == nil ? ", bias=False" : ""))"
        case let c as Conv2d:
            return "nn.Conv2d(\(c.inputChannels), \(c.outputChannels), \(c.kernel)" + (c.stride != 1 ? ", stride=\(c.stride)" : "")
                + (c.padding != 0 ? ", padding=\(c.padding)" : "") + (c.bias == nil ? ", bias=False)" : ")")
        case let p as MaxPool2d: return "nn.MaxPool2d(\(PyTorchWriter.window(p.kernel, p.stride, p.padding)))"
        case let p as AvgPool2d: return "nn.AvgPool2d(\(PyTorchWriter.window(p.kernel, p.stride, p.padding)))"
        case let p as AdaptiveAvgPool2d: return "nn.AdaptiveAvgPool2d(\(p.size))"
        case is Flatten: return "nn.Flatten()"
        case let u as Unflatten: return "nn.Unflatten(1, (\(u.shape.map(String.init).joined(separator: ", "))\(u.shape.count == 1 ? "," : "")))"
        case let u as Upsample: return "nn.Upsample(scale_factor=\(u.factor), mode=\"nearest\")"
        case let a as Activation:
            switch a.kind {
            case .relu: return "nn.ReLU()"
            case .tanh: return "nn.Tanh()"
            case .sigmoid: return "nn.Sigmoid()"
            }
        case let d as Dropout: return "nn.Dropout(\(PyTorchWriter.literal(d.p)))"
        case let b as BatchNorm:
            use("BatchNorm", PyTorchClasses.batchNorm)
            return "BatchNorm(\(b.features)" + (b.epsilon != 1e-5 ? ", eps=\(PyTorchWriter.literal(b.epsilon))" : "")
                + (b.momentum != 0.1 ? ", momentum=\(PyTorchWriter.literal(b.momentum))" : "") + ")"
        case let r as GradientReversal:
            use("GradientReversal", PyTorchClasses.gradientReversal)
            return "GradientReversal(\(PyTorchWriter.literal(r.lambda)))"
        case let s as Sequential:
            return try sequential(s.entries, path: path)
        case let r as Residual:
            use("Residual", PyTorchClasses.residual)
            var args = [try orderedDict(r.body.entries, path: path)]
            if let shortcut = r.shortcut {
                args.append("shortcut_name=\(PyTorchWriter.string(r.shortcutName))")
                args.append("shortcut=" + (try module(shortcut, path: PyTorchWriter.join(path, r.shortcutName))))
            }
            args.append("activation=" + (r.activation.map { PyTorchWriter.string($0.rawValue) } ?? "None"))
            return call("Residual", args)
        case let l as LoRA:
            use("LoRA", PyTorchClasses.lora)
            return call("LoRA", [try module(l.base, path: PyTorchWriter.join(path, "base_layer")), "rank=\(l.rank)",
                                 "alpha=\(PyTorchWriter.literal(l.alpha))"])
        case let a as Adapter:
            use("Adapter", PyTorchClasses.adapter)
            return call("Adapter", try a.children.map { try module($0.layer, path: PyTorchWriter.join(path, $0.name)) })
        case let custom as any PyTorchModule:
            return try custom.pytorch(&self, path: path)
        default:
            throw TensorError.invalidArgument(
                op: "export", "\(path.isEmpty ? "the model" : "layer '\(path)'") is \(layer.summary), which export cannot write as PyTorch code")
        }
    }

    /// `nn.Sequential(a, b)` for layers named 0, 1, …; `nn.Sequential(OrderedDict(…))` otherwise
    /// (a view net[7:], a ResNet's named parts).
    public mutating func sequential(_ entries: [(name: String, layer: any Layer)], path: String) throws -> String {
        if entries.enumerated().allSatisfy({ $0.element.name == String($0.offset) }) {
            return call("nn.Sequential", try entries.map { try module($0.layer, path: PyTorchWriter.join(path, $0.name)) })
        }
        return "nn.Sequential(" + (try orderedDict(entries, path: path)) + ")"
    }

    /// `OrderedDict([("name", module), …])`.
    public mutating func orderedDict(_ entries: [(name: String, layer: any Layer)], path: String) throws -> String {
        let items = try entries.map { "(\(PyTorchWriter.string($0.name)), " + (try module($0.layer, path: PyTorchWriter.join(path, $0.name))) + ")" }
        return "OrderedDict([" + PyTorchWriter.block(items) + "])"
    }

    /// A call with its arguments one per line when they do not fit on one.
    public func call(_ function: String, _ arguments: [String]) -> String {
        function + "(" + PyTorchWriter.block(arguments) + ")"
    }

    /// Items separated by commas: on one line when short, else one per line, indented.
    public static func block(_ items: [String]) -> String {
        let flat = items.joined(separator: ", ")
        if flat.count <= 72, !flat.contains("\n") { return flat }
        return "\n" + items.map { "    " + $0.replacingNewlines(with: "\n    ") + ",\n" }.joined()
    }

    /// A pooling window's arguments, PyTorch's defaults (stride = kernel, no padding) left out.
    static func window(_ kernel: Int, _ stride: Int, _ padding: Int) -> String {
        "\(kernel)" + (stride != kernel ? ", stride=\(stride)" : "") + (padding != 0 ? ", padding=\(padding)" : "")
    }

    public static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// A Python float literal that reads back as the same fp32 value.
    public static func literal(_ x: Float) -> String {
        x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) + ".0" : "\(x)"
    }

    /// A Python string literal.
    public static func string(_ s: String) -> String { Safetensors.jsonString(s) }

    /// A Python list of strings, one per line when long.
    public static func list(_ items: [String]) -> String { "[" + block(items.map(string)) + "]" }
}

extension String {
    func replacingNewlines(with replacement: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Writing a network as a PyTorch module: `model.py`, its weights, inputs and tl's outputs,
/// and `check.py`, which compares the two.
public enum PyTorchExport {
    /// What `write` produced.
    public struct Written {
        public let files: [String]
        public let parameters: Int
    }

    /// The Python source of `model.py` for `network`, and the extra state the module keeps.
    public static func source(_ network: any Layer, description: String) throws -> (python: String, extraState: [(name: String, tensor: Tensor, type: StoredType)]) {
        var writer = PyTorchWriter()
        let expression = try writer.module(network, path: "")
        let named = network.namedParameters().filter { !$0.parameter.isBuffer }
        let frozen = named.filter(\.parameter.isFrozen).map(\.name)
        let trainable = named.filter { !$0.parameter.isFrozen }.map(\.name)
        var out = PyTorchClasses.header(description)
        for (_, source) in writer.classes { out += "\n\n" + source + "\n" }
        out += "\n\n"
        if frozen.isEmpty {
            out += "# Every parameter trained in tl.\nTRAINABLE = None\n"
        } else {
            out += "# The parameters tl trained (the others were frozen): requires_grad is False for the rest.\n"
            out += "TRAINABLE = " + PyTorchWriter.list(trainable) + "\n"
        }
        out += """


            def build():
                \"\"\"The module, with tl's state_dict names; load its weights with load_weights().\"\"\"
                model = \(expression.replacingNewlines(with: "\n    "))
                if TRAINABLE is not None:
                    for name, parameter in model.named_parameters():
                        parameter.requires_grad_(name in TRAINABLE)
                return model

            """
        out += "\n\n" + PyTorchClasses.loadWeights + "\n"
        return (out, writer.extraState)
    }

    /// Writes model.py, weights.safetensors, inputs.npy, outputs.npy and check.py into
    /// `directory` (created if missing). `outputs` are tl's outputs for `inputs`.
    public static func write(_ network: any Layer, description: String, inputs: Tensor, outputs: Tensor,
                             to directory: String) throws -> Written {
        let (python, extra) = try source(network, description: description)
        try FileIO.makeDirectories(directory)
        let weights = network.namedParameters().map { ($0.name, $0.parameter.value, $0.parameter.storedType) } + extra
        try FileIO.writeAtomically(Array(python.utf8), to: directory + "/model.py")
        try Safetensors.write(weights, metadata: ["format": "pt"], to: directory + "/weights.safetensors")
        try NPY.write(inputs, to: directory + "/inputs.npy")
        try NPY.write(outputs, to: directory + "/outputs.npy")
        try FileIO.writeAtomically(Array(PyTorchClasses.check.utf8), to: directory + "/check.py")
        return Written(files: ["model.py", "weights.safetensors", "inputs.npy", "outputs.npy", "check.py"],
                       parameters: network.parameterCount)
    }
}
