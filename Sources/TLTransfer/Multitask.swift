import TLData
import TLEngine
import TLNN

/// Multitask learning: one shared trunk and one head per task. `forward` runs the first head;
/// training draws a batch of every task's data each step and adds their losses.
public final class MultitaskNet: Layer {
    public let trunk: any Layer
    public let heads: [any Layer]

    public convenience init(trunk: any Layer, heads: [any Layer]) throws {
        guard !heads.isEmpty else { throw TrainingError(description: "multitask needs at least one head") }
        self.init(validated: trunk, heads: heads)
    }

    private init(validated trunk: any Layer, heads: [any Layer]) { (self.trunk, self.heads) = (trunk, heads) }

    public func forward(_ x: Tensor) throws -> Tensor { try forward(x, head: 0) }

    public func forward(_ x: Tensor, head: Int) throws -> Tensor {
        guard heads.indices.contains(head) else { throw TrainingError(description: "there is no head \(head)") }
        return try heads[head].forward(trunk.forward(x))
    }

    /// PyTorch-style names: `trunk.0.weight`, `heads.1.2.bias`.
    public var children: [(name: String, layer: any Layer)] {
        [("trunk", trunk)] + heads.enumerated().map { ("heads.\($0.offset)", $0.element) }
    }
    public func copy() -> any Layer { cloned() }
    func cloned() -> MultitaskNet { MultitaskNet(validated: trunk.copy(), heads: heads.map { $0.copy() }) }
    public var summary: String { "Multitask(\(heads.count) heads)" }

    /// One epoch draws as many batches as the largest task has; smaller tasks cycle.
    func fit(_ tasks: [Dataset], validation: [Dataset]? = nil, options: TrainingOptions, using generator: inout RandomGenerator,
             reporter: TrainingReporter?) throws -> History {
        guard tasks.count == heads.count else {
            throw TrainingError(description: "\(heads.count) heads need \(heads.count) datasets, got \(tasks.count)")
        }
        guard tasks.allSatisfy(\.isLabelled), tasks.allSatisfy({ $0.count > 0 }) else {
            throw TrainingError(description: "every task needs labelled samples")
        }
        try checkHeads(tasks, "")
        if let validation {
            guard validation.count == heads.count else {
                throw TrainingError(description: "validate=: \(heads.count) heads need \(heads.count) validation datasets, got \(validation.count)")
            }
            try checkHeads(validation, "validation ")
        }
        let largest = tasks.map(\.count).max() ?? 0
        return try Trainer.loop(self, count: largest, options: options, using: &generator, reporter: reporter,
                                epochBatches: { g in
            let perTask = try tasks.map { Array(try Batches($0, size: options.batchSize, shuffle: options.shuffle, using: &g)) }
            let steps = perTask.map(\.count).max() ?? 0
            return AnySequence((0..<steps).map { s in perTask.map { $0[s % $0.count] } })
        }, validation: validation.map { v in { try self.validationFigures(v) } }) { batches in
            var total: Tensor?
            var reported = 0.0, correct = 0, samples = 0
            var perHead: [StepFigure] = []
            for (head, batch) in batches.enumerated() {
                let labels = batch.y ?? []
                let logits = try self.forward(batch.x, head: head)
                let loss = try Loss.crossEntropy(logits, labels)
                total = try total.map { try $0 + loss } ?? loss
                reported += Double(try loss.item()) * Double(labels.count)
                let right = try Trainer.correct(logits, labels)
                correct += right
                samples += labels.count
                perHead.append(.share("accuracy_\(head)", right, of: labels.count))
            }
            // Overall loss and accuracy over every head's samples, then each head's accuracy.
            return Trainer.Step(loss: total ?? Tensor(scalar: 0), samples: samples,
                                figures: [.mean("loss", reported / Double(Swift.max(samples, 1))), .share("accuracy", correct, of: samples)] + perHead)
        }
    }

    /// Each head must fit its dataset: the samples go through the trunk, and the head has an output per class.
    private func checkHeads(_ tasks: [Dataset], _ what: String) throws {
        for (head, data) in tasks.enumerated() {
            do {
                try Trainer.checkClassifier(HeadView(net: self, head: head), for: data)
            } catch {
                throw TrainingError(description: "head \(head) and its \(what)dataset: \(error)")
            }
        }
    }

    /// After each epoch of training with validation data: the loss and accuracy over every
    /// head's samples, then each head's accuracy (as training reports them).
    private func validationFigures(_ tasks: [Dataset]) throws -> [(String, Double)] {
        let reports = try evaluateTasks(tasks)
        let count = reports.reduce(0) { $0 + $1.count }, correct = reports.reduce(0) { $0 + $1.correct }
        let loss = reports.reduce(0.0) { $0 + $1.loss * Double($1.count) } / Double(Swift.max(count, 1))
        return [("val_loss", loss), ("val_accuracy", Double(correct) / Double(Swift.max(count, 1)))]
            + reports.enumerated().map { ("val_accuracy_\($0.offset)", $0.element.accuracy) }
    }

    /// A report per task.
    func evaluateTasks(_ tasks: [Dataset]) throws -> [Report] {
        guard tasks.count == heads.count else {
            throw TrainingError(description: "\(heads.count) heads need \(heads.count) datasets, got \(tasks.count)")
        }
        return try tasks.enumerated().map { head, data in
            try Trainer.evaluate(HeadView(net: self, head: head), data)
        }
    }
}

extension MultitaskNet: TrainingMethod {
    public var network: any Layer { self }
    public var kind: String { "multitask network" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        let trunkShape = Model(trunk, inputShape: inputShape).outputShapes().last ?? nil
        return [
            MethodPart("trunk", "the shared trunk", .model(Model(trunk, inputShape: inputShape))),
            MethodPart("heads", "the heads, one per task", .models(heads.map { Model($0, inputShape: trunkShape) })),
        ]
    }

    /// Trains every head on its dataset (`data` is a list, one per head), adding their losses.
    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.target, .align, .at, .lambda, .attributes, .targetLabels], for: kind)
        guard request.options.validation == nil else {
            throw TrainingError(description: "validate= for a multitask model is a list, one dataset per head (\(heads.count)), or a fraction of each")
        }
        return try fit(request.data, validation: request.validationTasks, options: request.options, using: &generator, reporter: request.reporter)
    }

    /// A report per head (`data` is a list, one dataset per head).
    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation { .reports(try evaluateTasks(request.data)) }

    /// The first head's decisions (the model applied to x is its first head).
    public func predict(_ request: PredictionRequest) throws -> [Int] { try Trainer.predict(self, request.x) }

    public func clone() -> any TrainingMethod { cloned() }
}

/// One head of a multitask net, seen as a classifier.
final class HeadView: Layer {
    let net: MultitaskNet
    let head: Int
    init(net: MultitaskNet, head: Int) { (self.net, self.head) = (net, head) }
    func forward(_ x: Tensor) throws -> Tensor { try net.forward(x, head: head) }
    func copy() -> any Layer { self }
    func setTraining(_ training: Bool) { net.setTraining(training) }
    var summary: String { "head \(head)" }
}
