import TLEngine

/// y = x·Wᵀ + b over the last axis, W stored out×in as in PyTorch.
public final class Linear: Layer {
    public let inputFeatures: Int, outputFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// How the weights are drawn (and redrawn by `reset`).
    public let initialisation: WeightInitialisation

    /// `initialisation`: `.he` for a layer a ReLU follows (the default), `.output` for the layer
    /// that gives a network's outputs (logits, a reconstruction), as the builders' last layers.
    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, initialisation: WeightInitialisation = .he,
                using generator: inout RandomGenerator) throws {
        guard inputFeatures > 0, outputFeatures > 0 else {
            throw TensorError.invalidArgument(op: "linear", "sizes must be positive, got \(inputFeatures) and \(outputFeatures)")
        }
        _ = try Shape.count([outputFeatures, inputFeatures], op: "linear")
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.initialisation = initialisation
        weight = Parameter(initialisation.draw([outputFeatures, inputFeatures], fanIn: inputFeatures, using: &generator))
        self.bias = bias ? Parameter(pytorchUniform([outputFeatures], fanIn: inputFeatures, using: &generator)) : nil
    }

    /// A copy with its own parameters.
    public init(copying other: Linear) {
        (inputFeatures, outputFeatures, initialisation) = (other.inputFeatures, other.outputFeatures, other.initialisation)
        weight = other.weight.copy()
        bias = other.bias?.copy()
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inputFeatures else {
            throw TensorError.shapeMismatch(
                op: "linear", "input has \(x.shape.last ?? 0) features, layer expects \(inputFeatures)",
                x.shape, weight.value.shape)
        }
        let y = try Tensor.linear(x.reshapedRows(inputFeatures), weight.value, bias?.value)
        return x.rank == 2 ? y : try y.reshaped(Array(x.shape.dropLast()) + [outputFeatures])
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
    public func copy() -> any Layer { Linear(copying: self) }
    public func reset(using generator: inout RandomGenerator) {
        weight.assign(initialisation.draw(weight.value.shape, fanIn: inputFeatures, using: &generator))
        bias?.assign(pytorchUniform([outputFeatures], fanIn: inputFeatures, using: &generator))
    }
    public var summary: String { "Linear(\(inputFeatures) → \(outputFeatures))" }
}

extension Tensor {
    /// The tensor as a matrix with `columns` columns (rows = all leading axes).
    public func reshapedRows(_ columns: Int) -> Tensor {
        // The caller checked the last axis; the reshape cannot fail.
        (try? reshaped([count / Swift.max(columns, 1), columns])) ?? self
    }
}

/// 2-D convolution of N×C×H×W input, weights out×in×k×k as in PyTorch.
public final class Conv2d: Layer {
    public let inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inputChannels: Int, _ outputChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, using generator: inout RandomGenerator) throws {
        guard inputChannels > 0, outputChannels > 0, kernel > 0, stride > 0, padding >= 0 else {
            throw TensorError.invalidArgument(
                op: "conv", "channels, kernel and stride must be positive and padding non-negative")
        }
        _ = try Shape.count([outputChannels, inputChannels, kernel, kernel], op: "conv")
        (self.inputChannels, self.outputChannels, self.kernel) = (inputChannels, outputChannels, kernel)
        (self.stride, self.padding) = (stride, padding)
        let fanIn = inputChannels * kernel * kernel
        weight = Parameter(heUniform([outputChannels, inputChannels, kernel, kernel], fanIn: fanIn, using: &generator))
        self.bias = bias ? Parameter(pytorchUniform([outputChannels], fanIn: fanIn, using: &generator)) : nil
    }

    private init(copying o: Conv2d) {
        (inputChannels, outputChannels, kernel, stride, padding) = (o.inputChannels, o.outputChannels, o.kernel, o.stride, o.padding)
        weight = o.weight.copy()
        bias = o.bias?.copy()
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        try checkInput(x)
        return try Tensor.conv2d(x, weight.value, bias: bias?.value, stride: stride, padding: padding)
    }

    /// This convolution followed by ReLU and 2×2 max pooling, in one pass over the images
    /// (`Tensor.conv2dReluMaxPool2x2`: the same values and gradients); nil where the three are
    /// to run one after the other.
    public func forwardReluMaxPool2x2(_ x: Tensor) throws -> Tensor? {
        try checkInput(x)
        return try Tensor.conv2dReluMaxPool2x2(x, weight.value, bias: bias?.value, stride: stride, padding: padding)
    }

    private func checkInput(_ x: Tensor) throws {
        guard x.rank == 4 else {
            throw TensorError.badShape(op: "conv", x.shape, "expected N×C×H×W images")
        }
        guard x.shape[1] == inputChannels else {
            throw TensorError.shapeMismatch(
                op: "conv", "input has \(x.shape[1]) channels, layer expects \(inputChannels)", x.shape, weight.value.shape)
        }
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
    public func copy() -> any Layer { Conv2d(copying: self) }
    public func reset(using generator: inout RandomGenerator) {
        let fanIn = inputChannels * kernel * kernel
        weight.assign(heUniform(weight.value.shape, fanIn: fanIn, using: &generator))
        bias?.assign(pytorchUniform([outputChannels], fanIn: fanIn, using: &generator))
    }
    public var summary: String {
        "Conv2d(\(inputChannels) → \(outputChannels), \(kernel)×\(kernel)"
            + (stride != 1 ? ", stride \(stride)" : "") + (padding != 0 ? ", pad \(padding)" : "") + ")"
    }
}

/// Max over k×k windows (stride k unless given), padded on every side by positions that never win.
public final class MaxPool2d: StatelessLayer {
    public let kernel: Int, stride: Int, padding: Int
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) throws {
        (self.kernel, self.stride, self.padding) = try poolWindow("maxpool", kernel, stride, padding)
    }
    public func forward(_ x: Tensor) throws -> Tensor { try forward(x, relu: false) }
    /// With `relu`, the pooling of `x.relu()` in one pass (`Tensor.maxPool2d`'s relu).
    public func forward(_ x: Tensor, relu: Bool) throws -> Tensor {
        try Tensor.maxPool2d(x, kernel: kernel, stride: stride, padding: padding, relu: relu)
    }
    public var summary: String { "MaxPool2d(\(poolSummary(kernel, stride, padding)))" }
}

/// Mean over k×k windows (stride k unless given); padding zeros count in the mean, as in PyTorch.
public final class AvgPool2d: StatelessLayer {
    public let kernel: Int, stride: Int, padding: Int
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) throws {
        (self.kernel, self.stride, self.padding) = try poolWindow("avgpool", kernel, stride, padding)
    }
    public func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.avgPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
    public var summary: String { "AvgPool2d(\(poolSummary(kernel, stride, padding)))" }
}

/// Checks a pooling window's settings: kernel and stride positive, padding at most half the window.
private func poolWindow(_ op: String, _ kernel: Int, _ stride: Int?, _ padding: Int) throws -> (Int, Int, Int) {
    guard kernel > 0, (stride ?? kernel) > 0 else {
        throw TensorError.invalidArgument(op: op, "kernel and stride must be positive")
    }
    guard padding >= 0, padding <= kernel / 2 else {
        throw TensorError.invalidArgument(op: op, "padding must be between 0 and half the window (\(kernel / 2)), got \(padding)")
    }
    return (kernel, stride ?? kernel, padding)
}

private func poolSummary(_ kernel: Int, _ stride: Int, _ padding: Int) -> String {
    "\(kernel)" + (stride != kernel ? ", stride \(stride)" : "") + (padding != 0 ? ", pad \(padding)" : "")
}

/// The mean over an adaptive size×size grid of windows, whatever the input's size: 1×1 is the
/// global average pooling that ends a ResNet.
public final class AdaptiveAvgPool2d: StatelessLayer {
    public let size: Int
    public init(_ size: Int = 1) throws {
        guard size > 0 else { throw TensorError.invalidArgument(op: "adaptive_avgpool", "the size must be positive, got \(size)") }
        self.size = size
    }
    public func forward(_ x: Tensor) throws -> Tensor { try Tensor.adaptiveAvgPool2d(x, height: size, width: size) }
    public var summary: String { "AdaptiveAvgPool2d(\(size)×\(size))" }
}

/// Keeps the batch axis and flattens the rest.
public final class Flatten: StatelessLayer {
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1 else { throw TensorError.badShape(op: "flatten", x.shape, "expected a batch") }
        return try x.reshaped([x.shape[0], x.shape.dropFirst().reduce(1, *)])
    }
    public var summary: String { "Flatten()" }
}

/// The inverse of `Flatten` for one sample's shape: N×(C·H·W) rows become N×C×H×W (PyTorch's
/// `nn.Unflatten(1, shape)`), so a decoder can go from a linear code back to feature maps.
public final class Unflatten: StatelessLayer {
    public let shape: [Int]
    /// The values of one sample: the product of `shape`.
    public let count: Int
    public init(_ shape: [Int]) throws {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw TensorError.invalidArgument(op: "unflatten", "the sizes of one sample must be positive, got \(shape)")
        }
        self.shape = shape
        count = try Shape.count(shape, op: "unflatten", allocating: false)
    }
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == count else {
            throw TensorError.badShape(op: "unflatten", x.shape, "expected N×\(count) rows for samples of \(Shape.describe(shape))")
        }
        return try x.reshaped([x.shape[0]] + shape)
    }
    public var summary: String { "Unflatten(\(Shape.describe(shape)))" }
}

/// Nearest-neighbour upsampling of N×C×H×W feature maps by an integer factor: each value becomes
/// a factor×factor block (PyTorch's `nn.Upsample(scale_factor=s, mode="nearest")`). Written as a
/// broadcast product, so its gradient (each block's sum) comes from the engine's own rules.
public final class Upsample: StatelessLayer {
    public let factor: Int
    public init(_ factor: Int) throws {
        guard factor >= 1 else { throw TensorError.invalidArgument(op: "upsample", "the factor must be a positive integer, got \(factor)") }
        self.factor = factor
    }
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4 else { throw TensorError.badShape(op: "upsample", x.shape, "expected N×C×H×W feature maps") }
        guard factor > 1 else { return x }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let blocks = try Tensor.ones([1, 1, 1, factor, 1, factor])
        return try (x.reshaped([n, c, h, 1, w, 1]) * blocks).reshaped([n, c, h * factor, w * factor])
    }
    public var summary: String { "Upsample(×\(factor))" }
}

/// An elementwise activation: ReLU, Tanh or Sigmoid.
public final class Activation: StatelessLayer {
    public enum Kind: String, Sendable, CaseIterable { case relu, tanh, sigmoid }
    public let kind: Kind
    public init(_ kind: Kind) { self.kind = kind }
    public func forward(_ x: Tensor) throws -> Tensor { apply(x) }
    func apply(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: x.relu()
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        }
    }
    public var summary: String {
        switch kind {
        case .relu: "ReLU()"
        case .tanh: "Tanh()"
        case .sigmoid: "Sigmoid()"
        }
    }
}

/// Inverted dropout with probability `p`, active only in training.
public final class Dropout: Layer {
    public let p: Float
    public private(set) var isTraining = true
    public init(_ p: Float) throws {
        guard p >= 0, p < 1 else { throw TensorError.invalidArgument(op: "dropout", "p must be in [0, 1), got \(p)") }
        self.p = p
    }
    public func forward(_ x: Tensor) throws -> Tensor {
        try x.dropout(p, training: isTraining, using: &GlobalRandom.generator)
    }
    public func setTraining(_ training: Bool) { isTraining = training }
    public func copy() -> any Layer {
        let d = (try? Dropout(p)) ?? self
        d.isTraining = isTraining
        return d
    }
    public var summary: String { "Dropout(\(p))" }
}

/// Batch normalisation of N×C (1-D) or N×C×H×W (2-D) input, with running statistics; a frozen
/// one uses its running statistics in training too, and so does a batch with one value per
/// channel (a last batch of one sample), which has no variance to normalise by — PyTorch stops
/// there with an error, which here would end a training at its last step.
public final class BatchNorm: Layer {
    public let features: Int
    public let momentum: Float, epsilon: Float
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVar: Parameter, batchesTracked: Parameter
    public private(set) var isTraining = true

    public init(_ features: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) throws {
        guard features > 0 else { throw TensorError.invalidArgument(op: "batchnorm", "features must be positive") }
        _ = try Shape.count([features], op: "batchnorm")
        (self.features, self.momentum, self.epsilon) = (features, momentum, epsilon)
        weight = Parameter(try .ones([features]))
        bias = Parameter(try .zeros([features]))
        runningMean = Parameter(try .zeros([features]), isBuffer: true)
        runningVar = Parameter(try .ones([features]), isBuffer: true)
        batchesTracked = Parameter(Tensor(scalar: 0), isBuffer: true, storedType: .int64)
    }

    private init(copying o: BatchNorm) {
        (features, momentum, epsilon, isTraining) = (o.features, o.momentum, o.epsilon, o.isTraining)
        (weight, bias) = (o.weight.copy(), o.bias.copy())
        (runningMean, runningVar, batchesTracked) = (o.runningMean.copy(), o.runningVar.copy(), o.batchesTracked.copy())
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2 || x.rank == 4 || x.rank == 3 else {
            throw TensorError.badShape(op: "batchnorm", x.shape, "expected N×C or N×C×H×W input")
        }
        var (mean, variance) = (runningMean.value, runningVar.value)
        // Frozen, the layer normalises with its running statistics and leaves them alone, as
        // Keras does for a layer that is not trainable: a frozen backbone then computes the same
        // features whatever the batch (PyTorch keeps batch statistics and updates the running
        // ones unless the layer is put in eval mode; with batches of 10, a frozen ResNet-18's
        // features moved so much that a new head's loss rose for epochs).
        let valuesPerChannel = x.shape.count > 1 ? x.shape[0] * x.shape.dropFirst(2).reduce(1, *) : 0
        let training = isTraining && !weight.isFrozen && valuesPerChannel > 1
        let y = try x.batchNorm(weight: weight.value, bias: bias.value, runningMean: &mean, runningVar: &variance,
                                training: training, momentum: momentum, epsilon: epsilon)
        if training {
            runningMean.value = mean
            runningVar.value = variance
            batchesTracked.value = Tensor(scalar: (try batchesTracked.value.item()) + 1)
        }
        return y
    }

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
         ("num_batches_tracked", batchesTracked)]
    }
    public func setTraining(_ training: Bool) { isTraining = training }
    public func copy() -> any Layer { BatchNorm(copying: self) }
    public func reset(using generator: inout RandomGenerator) {
        weight.assign(.full(validated: [features], 1))
        bias.assign(.full(validated: [features], 0))
        runningMean.value = .full(validated: [features], 0)
        runningVar.value = .full(validated: [features], 1)
        batchesTracked.value = Tensor(scalar: 0)
    }
    public var summary: String { "BatchNorm(\(features))" }
}

/// Identity forward; multiplies the gradient by −λ on the way back (domain-adversarial training).
public final class GradientReversal: Layer {
    /// Settable during training, for λ schedules.
    public var lambda: Float
    public init(lambda: Float = 1) { self.lambda = lambda }
    public func forward(_ x: Tensor) throws -> Tensor { x.reversingGradient(lambda: lambda) }
    public func copy() -> any Layer { GradientReversal(lambda: lambda) }
    public var summary: String { "GradientReversal(λ=\(lambda))" }
}

/// A residual block: act(body(x) + shortcut(x)), the shortcut the identity unless given (a 1×1
/// convolution with a stride where the body changes the shape).
///
/// Its children are the body's layers under their own names, then the shortcut: torchvision's
/// BasicBlock is a `Residual` of conv1, bn1, relu, conv2, bn2 with the shortcut "downsample", so
/// its state_dict names are torchvision's.
public final class Residual: Layer {
    public let body: Sequential
    public internal(set) var shortcut: (any Layer)?
    public let shortcutName: String
    /// Applied after the sum (ReLU in a ResNet), or none.
    public let activation: Activation.Kind?

    public init(_ body: Sequential, shortcut: (any Layer)? = nil, shortcutName: String = "shortcut",
                activation: Activation.Kind? = .relu) throws {
        guard body.count > 0 else { throw TensorError.invalidArgument(op: "residual", "the body needs at least one layer") }
        if shortcut != nil, body.entries.contains(where: { $0.name == shortcutName }) {
            throw TensorError.invalidArgument(op: "residual", "the body already has a layer named '\(shortcutName)'")
        }
        (self.body, self.shortcut, self.shortcutName, self.activation) = (body, shortcut, shortcutName, activation)
    }

    public var children: [(name: String, layer: any Layer)] {
        body.entries + (shortcut.map { [(shortcutName, $0)] } ?? [])
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        let y = try body.forward(x)
        var s = x
        if let shortcut {
            do {
                s = try shortcut.forward(x)
            } catch let error as TensorError {
                throw LayerError(layer: shortcutName, summary: shortcut.summary, underlying: error)
            }
        }
        guard y.shape == s.shape else {
            throw TensorError.shapeMismatch(
                op: "residual", shortcut == nil
                    ? "the body's output and the input differ; give shortcut= a layer mapping the input to the body's output (a 1×1 conv with the body's stride)"
                    : "the body's output and the shortcut's differ",
                y.shape, s.shape)
        }
        let sum = try y + s
        return activation.map { kind in Activation(kind).apply(sum) } ?? sum
    }

    public func copy() -> any Layer {
        // The parts were valid when this block was built.
        (try? Residual(body.copied(), shortcut: shortcut?.copy(), shortcutName: shortcutName, activation: activation)) ?? self
    }
    public var summary: String {
        "Residual(\(body.count) layers" + (shortcut.map { " + \(shortcutName) \($0.summary)" } ?? "") + ")"
    }
}
