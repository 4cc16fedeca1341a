import TLEngine

/// Layers applied in order; children are named "0", "1", … as in PyTorch's `nn.Sequential`.
///
/// A slice `net[a..<b]` is a view: a `Sequential` holding the same layer objects under their
/// original names, so training the view trains the model. `copy()` makes independent weights.
public final class Sequential: Layer {
    public private(set) var entries: [(name: String, layer: any Layer)]

    public init(_ layers: [any Layer]) {
        entries = layers.enumerated().map { (String($0.offset), $0.element) }
    }

    public init(entries: [(name: String, layer: any Layer)]) { self.entries = entries }

    public var layers: [any Layer] { entries.map(\.layer) }
    public var count: Int { entries.count }
    public var children: [(name: String, layer: any Layer)] { entries }

    public subscript(index: Int) -> any Layer { entries[index].layer }

    /// A view of `range` sharing this model's layers (and so its parameters).
    public func view(_ range: Range<Int>) throws -> Sequential {
        guard range.lowerBound >= 0, range.upperBound <= entries.count else {
            throw TensorError.invalidArgument(
                op: "slice", "layers \(range.lowerBound)..<\(range.upperBound) are outside a model of \(entries.count) layers")
        }
        return Sequential(entries: Array(entries[range]))
    }

    /// Whether a child's name is its position ("0", "1", …) rather than a name of its own.
    public static func isPositional(_ name: String) -> Bool { name.allSatisfy(\.isNumber) }

    /// The layers named like an attribute ("fc", "layer1"), not by position: a model's parts.
    public var namedEntries: [(name: String, layer: any Layer)] {
        entries.filter { !Sequential.isPositional($0.name) }
    }

    /// Puts `layer` in place of the layer called `name` (PyTorch's `net.fc = nn.Linear(…)`); views
    /// made before keep the old layer.
    public func replace(_ name: String, with layer: any Layer) throws {
        guard let i = entries.firstIndex(where: { $0.name == name }) else {
            throw TensorError.invalidArgument(op: "replace", "the model has no layer named '\(name)'")
        }
        entries[i].layer = layer
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        var h = x
        var i = 0
        while i < entries.count {
            let (name, layer) = entries[i]
            // A convolution, ReLU and 2×2 max pooling run image by image in one pass (the same
            // values and gradients, without the convolution's batch-sized output).
            if let conv = layer as? Conv2d, i + 2 < entries.count, let activation = entries[i + 1].layer as? Activation,
               activation.kind == .relu, let pool = entries[i + 2].layer as? MaxPool2d,
               pool.kernel == 2, pool.stride == 2, pool.padding == 0,
               let pooled = try Self.named(name, conv, { try conv.forwardReluMaxPool2x2(h) }) {
                h = pooled
                i += 3
                continue
            }
            // A ReLU followed by max pooling runs as one pass (the same values and gradients,
            // without ReLU's passes over the larger input): the LeNet pattern's conv → relu → pool.
            if let activation = layer as? Activation, activation.kind == .relu, i + 1 < entries.count,
               let pool = entries[i + 1].layer as? MaxPool2d {
                h = try Self.named(entries[i + 1].name, pool) { try pool.forward(h, relu: true) }
                i += 2
                continue
            }
            h = try Self.named(name, layer) { try layer.forward(h) }
            i += 1
        }
        return h
    }

    /// Runs `body`, naming `layer` in the errors it throws.
    private static func named<T>(_ name: String, _ layer: any Layer, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TensorError {
            throw LayerError(layer: name, summary: layer.summary, underlying: error)
        } catch let error as LayerError {
            throw LayerError(layer: name, summary: layer.summary, underlying: error)
        }
    }

    public func copy() -> any Layer { copied() }

    /// A deep copy, as a `Sequential`: the same names, every layer with its own parameters.
    public func copied() -> Sequential { Sequential(entries: entries.map { ($0.name, $0.layer.copy()) }) }
    public var summary: String { "Sequential(\(entries.count) layer\(entries.count == 1 ? "" : "s"))" }
}

/// An engine error raised inside a named layer of a container.
public struct LayerError: Error, CustomStringConvertible {
    /// Dotted path of the layer ("3", or "features.2" when nested).
    public let layer: String
    public let summary: String
    public let underlying: TensorError

    public var description: String { "\(underlying) (in layer \(layer), \(summary))" }
}

extension LayerError {
    init(layer: String, summary: String, underlying: LayerError) {
        self.init(layer: layer + "." + underlying.layer, summary: underlying.summary, underlying: underlying.underlying)
    }
}
