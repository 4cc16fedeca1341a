import TLEngine

/// A container whose children can be replaced by name, so that parameter-efficient wrappers can be
/// put around layers deep inside a model.
public protocol ReplacingChildren: Layer {
    func replaceChild(_ name: String, with layer: any Layer) throws
}

extension Sequential: ReplacingChildren {
    public func replaceChild(_ name: String, with layer: any Layer) throws { try replace(name, with: layer) }
}

extension Residual: ReplacingChildren {
    public func replaceChild(_ name: String, with layer: any Layer) throws {
        if name == shortcutName, shortcut != nil { shortcut = layer } else { try body.replace(name, with: layer) }
    }
}

/// A low-rank update around a frozen linear or convolution layer (LoRA, Hu et al. 2021):
/// y = base(x) + (α/r)·B(A(x)), A of rank r drawn at random, B zero, so the wrapped layer starts
/// as the base layer. For a convolution A is an r-channel convolution with the base's kernel,
/// stride and padding and B a 1×1 convolution (as Hugging Face's PEFT), so the update is a
/// convolution whose kernel is B·A.
///
/// State-dict names follow PEFT's layout without its adapter name: `lora_A`, `lora_B`, then
/// `base_layer.weight`, `base_layer.bias`.
public final class LoRA: Layer {
    public let base: any Layer
    public let rank: Int
    public let alpha: Float
    /// r×in (linear) or r×C×k×k (convolution).
    public let a: Parameter
    /// out×r (linear) or out×r×1×1 (convolution).
    public let b: Parameter

    /// The layer kinds LoRA wraps.
    public static func wraps(_ layer: any Layer) -> Bool { layer is Linear || layer is Conv2d }

    public init(_ base: any Layer, rank: Int, alpha: Float, using generator: inout RandomGenerator) throws {
        guard rank >= 1 else { throw TensorError.invalidArgument(op: "lora", "the rank must be at least 1, got \(rank)") }
        guard alpha.isFinite, alpha > 0 else { throw TensorError.invalidArgument(op: "lora", "alpha must be positive, got \(alpha)") }
        let aShape: [Int], bShape: [Int], fanIn: Int
        switch base {
        case let linear as Linear:
            (aShape, bShape, fanIn) = ([rank, linear.inputFeatures], [linear.outputFeatures, rank], linear.inputFeatures)
        case let conv as Conv2d:
            fanIn = conv.inputChannels * conv.kernel * conv.kernel
            (aShape, bShape) = ([rank, conv.inputChannels, conv.kernel, conv.kernel], [conv.outputChannels, rank, 1, 1])
        default:
            throw TensorError.invalidArgument(op: "lora", "LoRA wraps linear and convolution layers, not \(base.summary)")
        }
        _ = try Shape.count(aShape, op: "lora")
        (self.base, self.rank, self.alpha) = (base, rank, alpha)
        // PEFT's draw for A (Kaiming-uniform with a = √5, that is ±1/√fan_in); B starts at zero.
        a = Parameter(pytorchUniform(aShape, fanIn: fanIn, using: &generator))
        b = Parameter(try Tensor.zeros(bShape))
    }

    private init(copying o: LoRA) {
        (base, rank, alpha) = (o.base.copy(), o.rank, o.alpha)
        (a, b) = (o.a.copy(), o.b.copy())
    }

    /// α/r, the factor of the update.
    public var scale: Float { alpha / Float(rank) }

    public func forward(_ x: Tensor) throws -> Tensor {
        let y = try base.forward(x)
        let update: Tensor
        switch base {
        case let conv as Conv2d:
            let h = try Tensor.conv2d(x, a.value, stride: conv.stride, padding: conv.padding)
            update = try Tensor.conv2d(h, b.value)
        default:
            let rows = x.reshapedRows(a.value.shape[1])
            let h = try Tensor.linear(try Tensor.linear(rows, a.value, nil), b.value, nil)
            update = x.rank == 2 ? h : try h.reshaped(y.shape)
        }
        return try y + update * scale
    }

    /// The base layer with the update folded into its weights: the same outputs, no extra cost.
    public func merged() throws -> any Layer {
        let layer = base.copy()
        let delta = try GradMode.withoutGrad { () throws -> Tensor in
            let out = b.value.shape[0]
            let product = try Tensor.matmul(try b.value.reshaped([out, rank]), try a.value.reshaped([rank, a.value.count / rank]))
            return try product.reshaped(Array(layer.ownParameters[0].parameter.value.shape)) * scale
        }
        let weight = layer.ownParameters[0].parameter  // "weight" comes first in Linear and Conv2d
        weight.assign(try GradMode.withoutGrad { try weight.value.detached() + delta })
        // Trainable where the update was: a merged model trains as the adapted one did.
        for p in layer.parameters { p.isFrozen = a.isFrozen && p.isFrozen }
        return layer
    }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("lora_A", a), ("lora_B", b)] }
    public var children: [(name: String, layer: any Layer)] { [("base_layer", base)] }
    public func copy() -> any Layer { LoRA(copying: self) }
    public func reset(using generator: inout RandomGenerator) {
        base.reset(using: &generator)
        a.assign(pytorchUniform(a.value.shape, fanIn: a.value.count / rank, using: &generator))
        b.assign(Tensor.full(validated: b.value.shape, 0))
    }
    public var summary: String { "LoRA(\(base.summary), rank \(rank), α \(formatted(alpha)))" }
}

/// A bottleneck adapter (Houlsby et al. 2019) after a frozen layer: y = h + up(relu(down(h))) with
/// h = base(x), `down` projecting the base's outputs (features, or channels by 1×1 convolutions)
/// to `size`, `up` projecting back and starting at zero, so the adapted layer starts as the base.
///
/// State-dict names: `base_layer.…`, `adapter_down.…`, `adapter_up.…`.
public final class Adapter: Layer {
    public let base: any Layer
    public let down: any Layer
    public let up: any Layer
    public let size: Int

    /// The layer kinds an adapter follows.
    public static func follows(_ layer: any Layer) -> Bool { layer is Linear || layer is Conv2d }

    public init(after base: any Layer, size: Int, using generator: inout RandomGenerator) throws {
        guard size >= 1 else { throw TensorError.invalidArgument(op: "adapter", "the bottleneck size must be at least 1, got \(size)") }
        switch base {
        case let linear as Linear:
            down = try Linear(linear.outputFeatures, size, using: &generator)
            up = try Linear(size, linear.outputFeatures, using: &generator)
        case let conv as Conv2d:
            down = try Conv2d(conv.outputChannels, size, kernel: 1, using: &generator)
            up = try Conv2d(size, conv.outputChannels, kernel: 1, using: &generator)
        default:
            throw TensorError.invalidArgument(op: "adapter", "adapters follow linear and convolution layers, not \(base.summary)")
        }
        (self.base, self.size) = (base, size)
        for p in up.parameters { p.assign(Tensor.full(validated: p.value.shape, 0)) }
    }

    private init(copying o: Adapter) {
        (base, down, up, size) = (o.base.copy(), o.down.copy(), o.up.copy(), o.size)
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        let h = try base.forward(x)
        return try h + up.forward(down.forward(h).relu())
    }

    public var children: [(name: String, layer: any Layer)] {
        [("base_layer", base), ("adapter_down", down), ("adapter_up", up)]
    }
    public func copy() -> any Layer { Adapter(copying: self) }
    public func reset(using generator: inout RandomGenerator) {
        base.reset(using: &generator)
        down.reset(using: &generator)
        for p in up.parameters { p.assign(Tensor.full(validated: p.value.shape, 0)) }
    }
    public var summary: String { "Adapter(\(base.summary), size \(size))" }
}

private func formatted(_ x: Float) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

/// Parameter-efficient fine-tuning: wrapping a model's layers in place.
public enum PEFT {
    /// A layer of a model that a wrapper may replace: its dotted name, the container holding it,
    /// and its name there.
    public struct Site {
        public let path: String
        public let parent: any ReplacingChildren
        public let name: String
        public let layer: any Layer
    }

    /// Every layer reachable through containers that can replace their children, depth first, in
    /// state_dict order. LoRA and adapter wrappers are sites themselves; their insides are not.
    public static func sites(of root: any Layer, prefix: String = "") -> [Site] {
        var result: [Site] = []
        for (name, child) in root.children {
            let path = prefix + name
            if let parent = root as? any ReplacingChildren {
                result.append(Site(path: path, parent: parent, name: name, layer: child))
            }
            if !(child is LoRA || child is Adapter) { result += sites(of: child, prefix: path + ".") }
        }
        return result
    }

    /// Chooses the sites to wrap: those named in `names` (each must exist and be of a kind
    /// `accepts`), or every site `accepts`. The error names what was wrong and what could be chosen.
    public static func choose(_ sites: [Site], names: [String]?, accepts: (any Layer) -> Bool, what: String,
                              op: String) throws -> [Site] {
        let eligible = sites.filter { accepts($0.layer) }
        guard let names else {
            guard !eligible.isEmpty else {
                throw TensorError.invalidArgument(op: op, "the model has no \(what) that can be wrapped")
            }
            return eligible
        }
        let choices = eligible.map(\.path).joined(separator: ", ")
        return try names.map { name in
            guard let site = sites.first(where: { $0.path == name }) else {
                throw TensorError.invalidArgument(op: op, "the model has no layer '\(name)'; \(what): \(choices)")
            }
            guard accepts(site.layer) else {
                throw TensorError.invalidArgument(op: op, "layer '\(name)' is \(site.layer.summary), not one of the \(what) (\(choices))")
            }
            return site
        }
    }

    /// Freezes `root`, then wraps each site with `wrap`, leaving only the wrappers' new parameters
    /// trainable. Returns the paths wrapped.
    @discardableResult
    public static func wrap(_ root: any Layer, _ sites: [Site], with wrap: (any Layer) throws -> any Layer) throws -> [String] {
        var wrappers: [any Layer] = []
        for site in sites {
            let wrapper = try wrap(site.layer)
            wrappers.append(wrapper)
        }
        root.setFrozen(true)
        for (site, wrapper) in zip(sites, wrappers) {
            try site.parent.replaceChild(site.name, with: wrapper)
            for p in wrapper.parameters where !site.layer.parameters.contains(where: { $0 === p }) { p.isFrozen = false }
        }
        return sites.map(\.path)
    }

    /// Replaces every LoRA wrapper of `root` by its merged layer. Returns how many were merged.
    @discardableResult
    public static func merge(_ root: any Layer) throws -> Int {
        var merged = 0
        for site in sites(of: root) {
            if let lora = site.layer as? LoRA {
                try site.parent.replaceChild(site.name, with: try lora.merged())
                merged += 1
            }
        }
        return merged
    }
}
