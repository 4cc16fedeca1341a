import TLEngine

/// Something you can call on a tensor, that may own parameters and contain other layers.
///
/// Containers name their children ("0", "1", … in a `Sequential`), and parameters are found by
/// walking the tree, with dotted names as in PyTorch's `state_dict` ("features.2.bias").
public protocol Layer: AnyObject {
    /// Applies the layer to a batch.
    func forward(_ x: Tensor) throws -> Tensor
    /// Direct sub-layers with their names; empty for a leaf layer.
    var children: [(name: String, layer: any Layer)] { get }
    /// Parameters and buffers this layer owns directly, with local names ("weight").
    var ownParameters: [(name: String, parameter: Parameter)] { get }
    /// A deep copy: the same structure with copies of every parameter.
    func copy() -> any Layer
    /// Draws fresh initial values from `generator`, as a new layer would.
    func reset(using generator: inout RandomGenerator)
    /// Switches training behaviour (dropout, batch statistics) of this layer and its children.
    func setTraining(_ training: Bool)
    /// One line for model tables: "Linear(784 → 10)".
    var summary: String { get }
}

extension Layer {
    public var children: [(name: String, layer: any Layer)] { [] }
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }
    public func reset(using generator: inout RandomGenerator) {
        for (_, child) in children { child.reset(using: &generator) }
    }
    public func setTraining(_ training: Bool) {
        for (_, child) in children { child.setTraining(training) }
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try forward(x) }

    /// Every parameter and buffer with its dotted name, in PyTorch's `state_dict` order
    /// (own entries first, then each child's).
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var result = ownParameters.map { (prefix + $0.name, $0.parameter) }
        for (name, child) in children {
            result += child.namedParameters(prefix: prefix + name + ".")
        }
        return result
    }

    /// The trainable parameters (not buffers), frozen or not.
    public var parameters: [Parameter] { namedParameters().map(\.parameter).filter { !$0.isBuffer } }

    /// Number of learnable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Number of values training changes: the learnable ones not frozen.
    public var trainableCount: Int { parameters.filter { !$0.isFrozen }.reduce(0) { $0 + $1.value.count } }

    /// Whether, in training, one sample's output depends on the rest of its batch (batch
    /// statistics): such a layer must see different domains' batches separately.
    public var couplesSamples: Bool {
        if let bn = self as? BatchNorm { return !bn.weight.isFrozen }
        return children.contains { $0.layer.couplesSamples }
    }

    /// Freezes or unfreezes every parameter.
    public func setFrozen(_ frozen: Bool) {
        for p in parameters { p.isFrozen = frozen }
    }
}

/// A layer with neither parameters nor children, applying a fixed function.
public protocol StatelessLayer: Layer {}

extension StatelessLayer {
    public func copy() -> any Layer { self }
}

/// Fills a weight for a layer followed by ReLU: He (Kaiming) uniform, ±√(6/fan_in), so that
/// the activations keep their scale through the layers. PyTorch's default (±1/√fan_in, a gain
/// of 1/√3) shrinks them by about 2.4× per layer: a five-layer net trained with SGD then sits on
/// a plateau for most of its first epoch, and an adversarial or alignment term that starts
/// meanwhile wins before the labels are learned.
func heUniform(_ shape: [Int], fanIn: Int, using generator: inout RandomGenerator) -> Tensor {
    uniform(shape, bound: fanIn > 0 ? (6 / Float(fanIn)).squareRoot() : 0, using: &generator)
}

/// How a layer's weights are drawn.
public enum WeightInitialisation: Sendable {
    /// He-uniform, ±√(6/fan_in): for a layer a ReLU follows.
    case he
    /// ±1/√fan_in (PyTorch's default): for a network's output layer, which no ReLU follows. With
    /// He's gain there, an autoencoder's first reconstructions were 2.4× too large, and Adam
    /// (lr 0.001) settled on the mean image (error 0.058, against 0.034 with this).
    case output

    func draw(_ shape: [Int], fanIn: Int, using generator: inout RandomGenerator) -> Tensor {
        switch self {
        case .he: heUniform(shape, fanIn: fanIn, using: &generator)
        case .output: pytorchUniform(shape, fanIn: fanIn, using: &generator)
        }
    }
}

/// PyTorch's default draw, uniform in ±1/√fan_in: every bias, and the weights of output layers.
func pytorchUniform(_ shape: [Int], fanIn: Int, using generator: inout RandomGenerator) -> Tensor {
    uniform(shape, bound: fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0, using: &generator)
}

private func uniform(_ shape: [Int], bound: Float, using generator: inout RandomGenerator) -> Tensor {
    // Shapes of layers are validated when the layer is built.
    Tensor.rand(validated: shape, low: -bound, high: bound, using: &generator)
}
