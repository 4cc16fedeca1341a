import TLEngine
import TLNN

/// A progressive network (Rusu et al. 2016): earlier columns are frozen; a new column learns the
/// new task, and each of its layers after the first also receives the previous-layer activations
/// of every earlier column through a lateral adapter:
/// h_i = f(W_i h_{i−1} + Σ_j U_i^j h_{i−1}^j).
///
/// Columns are sequential stacks of Linear layers and activations with matching layer positions
/// (for example, `mlp`s of one depth).
public final class ProgressiveNet: Layer {
    public let columns: [Sequential]
    public let column: Sequential
    /// adapters[i][j]: from column j's activation before linear layer i of the new column.
    public let adapters: [Int: [Linear]]

    private init(columns: [Sequential], column: Sequential, adapters: [Int: [Linear]]) {
        (self.columns, self.column, self.adapters) = (columns, column, adapters)
    }

    public init(columns: [Sequential], new: Sequential, using generator: inout RandomGenerator) throws {
        guard !columns.isEmpty else { throw TrainingError(description: "progressive needs at least one earlier column") }
        for c in columns {
            guard c.count == new.count else {
                throw TrainingError(description: "every column must have as many layers as the new one (\(c.count) vs \(new.count))")
            }
            for (a, b) in zip(c.layers, new.layers) where (a is Linear) != (b is Linear) || (a is Conv2d) || (b is Conv2d) {
                throw TrainingError(description: "columns must have linear layers at the same positions (and no convolutions): \(a.summary) vs \(b.summary)")
            }
        }
        self.columns = columns
        column = new
        for c in columns { c.setFrozen(true) }
        var adapters: [Int: [Linear]] = [:]
        let linearPositions = new.layers.indices.filter { new.layers[$0] is Linear }
        for i in linearPositions.dropFirst() {
            guard let target = new.layers[i] as? Linear else { continue }
            adapters[i] = try columns.map { c in
                guard let source = c.layers[i] as? Linear else { throw TrainingError(description: "layer \(i) is not linear") }
                return try Linear(source.inputFeatures, target.outputFeatures, bias: false, using: &generator)
            }
        }
        self.adapters = adapters
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
                out = try out + adapter.forward(lateral.reshapedRows(adapter.inputFeatures))
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
                       adapters: adapters.mapValues { list in list.map { Linear(copying: $0) } })
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
