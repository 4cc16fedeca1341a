import TLEngine
import TLNN

/// A progressive network (Rusu et al. 2016): earlier columns are frozen; a new column learns the
/// new task, and each of its weight layers after the first also receives the previous-layer
/// activations of every earlier column through a lateral adapter:
/// h_i = f(W_i h_{i−1} + Σ_j U_i^j h_{i−1}^j).
///
/// Columns share one layer layout (for example, `mlp`s of one depth, or `cnn()`s): a linear
/// layer's adapter is linear, a convolution's a convolution of the same kernel, stride and
/// padding (no bias), so that U_i^j h_{i−1}^j has the shape of W_i h_{i−1}.
public final class ProgressiveNet: Layer {
    public let columns: [Sequential]
    public let column: Sequential
    /// adapters[i][j]: from column j's activation before weight layer i of the new column (a
    /// `Linear` or a `Conv2d`, as layer i is).
    public let adapters: [Int: [any Layer]]

    private init(columns: [Sequential], column: Sequential, adapters: [Int: [any Layer]]) {
        (self.columns, self.column, self.adapters) = (columns, column, adapters)
    }

    public init(columns: [Sequential], new: Sequential, using generator: inout RandomGenerator) throws {
        guard !columns.isEmpty else { throw TrainingError(description: "progressive needs at least one earlier column") }
        for (k, c) in columns.enumerated() {
            guard c.count == new.count else {
                throw TrainingError(description: "every column must have as many layers as the new one (column \(k): \(c.count), the new one: \(new.count))")
            }
            for (i, (a, b)) in zip(c.layers, new.layers).enumerated() where !Self.sameLayout(a, b) {
                throw TrainingError(description: "the columns must share one layer layout (as mlps of one depth, or cnn()s do): layer \(i) is \(a.summary) in column \(k) and \(b.summary) in the new one")
            }
        }
        self.columns = columns
        column = new
        for c in columns { c.setFrozen(true) }
        var adapters: [Int: [any Layer]] = [:]
        let weightPositions = new.layers.indices.filter { new.layers[$0] is Linear || new.layers[$0] is Conv2d }
        for i in weightPositions.dropFirst() {
            adapters[i] = try columns.map { c -> any Layer in
                switch (c.layers[i], new.layers[i]) {
                case let (source as Linear, target as Linear):
                    return try Linear(source.inputFeatures, target.outputFeatures, bias: false, using: &generator)
                case let (source as Conv2d, target as Conv2d):
                    return try Conv2d(source.inputChannels, target.outputChannels, kernel: target.kernel, stride: target.stride,
                                      padding: target.padding, bias: false, using: &generator)
                default:
                    throw TrainingError(description: "layer \(i) is not a weight layer in every column")
                }
            }
        }
        self.adapters = adapters
    }

    /// Whether two layers sit at one position of a shared layout: linear layers (of any widths),
    /// convolutions of one kernel, stride and padding, or the same parameter-free layer.
    static func sameLayout(_ a: any Layer, _ b: any Layer) -> Bool {
        switch (a, b) {
        case (is Linear, is Linear): return true
        case let (a as Conv2d, b as Conv2d): return (a.kernel, a.stride, a.padding) == (b.kernel, b.stride, b.padding)
        case (is Linear, _), (_, is Linear), (is Conv2d, _), (_, is Conv2d): return false
        default: return a.summary == b.summary
        }
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        // Activations of the earlier columns, layer by layer (no gradient: they are frozen).
        var previous: [[Tensor]] = []
        for c in columns {
            var h = x
            var inputs: [Tensor] = []
            for layer in c.layers {
                inputs.append(h)
                h = try layer.forward(h)
            }
            previous.append(inputs)
        }
        var h = x
        for (i, layer) in column.layers.enumerated() {
            var out = try layer.forward(h)
            for (j, adapter) in (adapters[i] ?? []).enumerated() {
                let lateral = previous[j][i]
                out = try out + adapter.forward((adapter as? Linear).map { lateral.reshapedRows($0.inputFeatures) } ?? lateral)
            }
            h = out
        }
        return h
    }

    public var children: [(name: String, layer: any Layer)] {
        var result: [(name: String, layer: any Layer)] = columns.enumerated().map { ("columns.\($0.offset)", $0.element) }
        result.append(("column", column))
        for (i, list) in adapters.sorted(by: { $0.key < $1.key }) {
            for (j, a) in list.enumerated() { result.append(("adapters.\(i).\(j)", a)) }
        }
        return result
    }

    public func copy() -> any Layer { cloned() }

    /// A deep copy: frozen columns, the new column and the adapters, each with its own weights.
    func cloned() -> ProgressiveNet {
        ProgressiveNet(columns: columns.map { $0.copied() }, column: column.copied(),
                       adapters: adapters.mapValues { list in list.map { $0.copy() } })
    }

    public var summary: String { "Progressive(\(columns.count) frozen column\(columns.count == 1 ? "" : "s") + 1)" }
}

extension ProgressiveNet: TrainingMethod {
    public var network: any Layer { self }
    public var kind: String { "progressive network" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        [
            MethodPart("columns", "the earlier columns (frozen)", .models(columns.map { Model($0, inputShape: inputShape) })),
            MethodPart("column", "the new column (without its lateral adapters)", .model(Model(column, inputShape: inputShape))),
        ]
    }

    /// Trains the new column and its adapters by cross-entropy (the earlier columns stay frozen).
    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.target, .align, .at, .lambda, .attributes, .targetLabels], for: kind)
        let data = try request.single()
        try Trainer.checkClassifier(self, for: data)
        return try Trainer.fit(self, data, options: request.options, using: &generator, reporter: request.reporter)
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation { try Classifier(self).evaluate(request) }
    public func predict(_ request: PredictionRequest) throws -> [Int] { try Trainer.predict(self, request.x) }
    public func clone() -> any TrainingMethod { cloned() }
}
