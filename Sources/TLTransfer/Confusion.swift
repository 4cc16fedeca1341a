import TLData
import TLEngine
import TLNN

/// Simultaneous deep transfer across domains and tasks (Tzeng et al. 2015): the features
/// `net[0:at]`, the label predictor `net[at:]` and a domain classifier, trained by two objectives
/// in turn rather than through a reversed gradient. The domain classifier learns to tell source
/// from target; the features learn to make its prediction uniform (cross-entropy against ½, ½:
/// *domain confusion*). With a few labelled target samples, the *soft-label* loss makes their
/// predictions (at temperature T) match the mean prediction the network gives source samples of
/// the same class, which carries how the classes relate ("a 7 looks a bit like a 1").
public final class DomainConfusionNet: Layer {
    public let features: Sequential
    public let classifier: Sequential
    public let discriminator: any Layer
    /// λ: the weight of the domain confusion loss on the features.
    public let confusionWeight: Float
    /// ν: the weight of the soft-label loss on the labelled target samples.
    public let softWeight: Float
    /// T: the temperature of the soft labels and of the predictions matched to them.
    public let temperature: Float

    public static let defaultConfusion: Float = 0.1, defaultSoft: Float = 0.1, defaultTemperature: Float = 2

    public convenience init(_ net: Sequential, discriminator: any Layer, at: Int, confusion: Float = defaultConfusion,
                            soft: Float = defaultSoft, temperature: Float = defaultTemperature) throws {
        guard at >= 1, at < net.count else {
            throw TrainingError(description: "at must split the model between 1 and \(net.count - 1), got \(at)")
        }
        guard confusion.isFinite, confusion >= 0, soft.isFinite, soft >= 0 else {
            throw TrainingError(description: "the confusion and soft-label weights must be numbers ≥ 0")
        }
        guard temperature.isFinite, temperature > 0 else { throw TrainingError(description: "the temperature must be a number > 0") }
        self.init(features: try net.view(0..<at), classifier: try net.view(at..<net.count), discriminator: discriminator,
                  confusion: confusion, soft: soft, temperature: temperature)
    }

    private init(features: Sequential, classifier: Sequential, discriminator: any Layer, confusion: Float, soft: Float, temperature: Float) {
        (self.features, self.classifier, self.discriminator) = (features, classifier, discriminator)
        (confusionWeight, softWeight, self.temperature) = (confusion, soft, temperature)
    }

    public func forward(_ x: Tensor) throws -> Tensor { try classifier.forward(features.forward(x)) }

    public var children: [(name: String, layer: any Layer)] {
        [("features", features), ("classifier", classifier), ("discriminator", discriminator)]
    }
    public func copy() -> any Layer { clonedNet() }

    func clonedNet() -> DomainConfusionNet {
        let (f, c) = AdversarialNet.copied(features, classifier)
        return DomainConfusionNet(features: f, classifier: c, discriminator: discriminator.copy(), confusion: confusionWeight,
                                  soft: softWeight, temperature: temperature)
    }
    public var summary: String { "DomainConfusion(features \(features.count) layers, classifier \(classifier.count), domain classifier)" }

    /// Each class's mean softmax at temperature T over (up to `limit` of) the source samples of
    /// that class, as the network predicts now: the soft labels, one row per class. A class with
    /// no sample keeps its one-hot row.
    public func softLabels(_ source: Dataset, classes k: Int, limit: Int = 2000) throws -> Tensor {
        let data = source.count > limit ? try source.slice(0..<limit) : source
        let labels = data.y ?? []
        var sums = [Float](repeating: 0, count: k * k), counts = [Int](repeating: 0, count: k)
        try Trainer.inBatches(self, data.x) { start, batch in
            let p = try (forward(batch) * (1 / temperature)).softmax(axis: 1).scalars
            for i in 0..<batch.shape[0] {
                let c = labels[start + i]
                guard c < k else { continue }
                counts[c] += 1
                for j in 0..<k { sums[c * k + j] += p[i * k + j] }
            }
        }
        var rows = [Float](repeating: 0, count: k * k)
        for c in 0..<k {
            for j in 0..<k {
                let mean: Float = counts[c] > 0 ? sums[c * k + j] / Float(counts[c]) : 0
                rows[c * k + j] = counts[c] > 0 ? mean : (j == c ? 1 : 0)
            }
        }
        return try Tensor(shape: [k, k], values: rows)
    }
}

extension DomainConfusionNet: TrainingMethod {
    public var network: any Layer { self }
    public var kind: String { "domain-confusion network (SDT)" }

    public func parts(inputShape: [Int]?) -> [MethodPart] {
        AdversarialNet.domainParts(features: features, classifier: classifier, discriminator: discriminator, inputShape: inputShape,
                                   discriminatorHelp: "the domain classifier (trained apart from the features)")
    }

    public func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History {
        try request.refuse([.align, .at, .lambda, .attributes], for: kind)
        guard let target = request.target else {
            throw TrainingError(description: "an sdt() model trains with target= (unlabelled target data), and target_labels= (a few labelled target samples) for the soft-label loss")
        }
        let source = try request.single()
        try Trainer.checkClassifier(self, for: source)
        try AdversarialNet.checkDiscriminator(features: features, discriminator: discriminator, inputShape: source.sampleShape)
        if let few = request.targetLabels {
            guard few.isLabelled, few.count > 0 else { throw TrainingError(description: "target_labels= must be labelled target samples (a few per class)") }
            guard few.sampleShape == source.sampleShape else {
                throw TrainingError(description: "target_labels= samples are \(Shape.describe(few.sampleShape)), the source's \(Shape.describe(source.sampleShape))")
            }
            try Trainer.checkClassifier(self, for: few)
        }
        return try Trainer.fitConfusion(self, source: source, target: target, labelled: request.targetLabels,
                                        options: request.options, using: &generator, reporter: request.reporter)
    }

    public func evaluate(_ request: EvaluationRequest) throws -> Evaluation { try Classifier(self).evaluate(request) }

    public func predict(_ request: PredictionRequest) throws -> [Int] { try Trainer.predict(self, request.x) }

    public func clone() -> any TrainingMethod { clonedNet() }

    public var settings: [(name: String, value: String)] {
        [("confusion weight λ", Report.format(Double(confusionWeight))), ("soft-label weight ν", Report.format(Double(softWeight))),
         ("temperature T", Report.format(Double(temperature))), AdversarialNet.weightsKept]
    }
}

/// Runs `body` with `layer`'s weights taken as constants: gradients reach its input, not its
/// weights (SDT's confusion loss trains the features through a domain classifier it must not move).
func withFixedWeights<T>(_ layer: any Layer, _ body: () throws -> T) rethrows -> T {
    let parameters = layer.parameters.filter { !$0.isFrozen }
    let values = parameters.map(\.value)
    for p in parameters { p.value = p.value.detached() }
    defer { for (p, v) in zip(parameters, values) { p.value = v } }
    return try body()
}

extension Trainer {
    /// SDT's training: each step, cross-entropy on the source batch (and on a batch of the
    /// labelled target samples); the domain classifier's cross-entropy on source and target
    /// features taken as constants (it alone learns from it); the confusion loss — cross-entropy
    /// of its prediction against ½, ½, its weights taken as constants — on the features; and the
    /// soft-label loss on the labelled target batch, against soft labels refreshed each epoch.
    public static func fitConfusion(_ net: DomainConfusionNet, source: Dataset, target: Dataset, labelled few: Dataset?,
                                    options: TrainingOptions, using generator: inout RandomGenerator,
                                    reporter: TrainingReporter? = nil) throws -> History {
        try checkDomains(source: source, target: target)
        let k = try checkFits(net, sampleShape: source.sampleShape).first ?? 1
        let separateDomains = net.features.couplesSamples
        var softLabels: [Float]? = nil
        var fewBatches: AnyIterator<(x: Tensor, y: [Int]?)>? = nil
        let options = options.averaging(byDefault: AdversarialNet.defaultEMA)
        return try loop(net, count: source.count, options: options, using: &generator, reporter: reporter,
                        epochBatches: { g in
            if let few {
                // The soft labels follow what the network now predicts on the source.
                softLabels = try net.softLabels(source, classes: k).scalars
                // The few labelled target samples cycle through an epoch of the source.
                fewBatches = cycled(try Batches(few, size: Swift.min(options.batchSize, few.count), shuffle: options.shuffle, using: &g))
            }
            return try pairedBatches(source, target, options: options, using: &g)
        }) { pair in
            let labels = pair.source.y ?? []
            let ns = pair.source.x.shape[0], nt = pair.target.shape[0]
            let (h, hs) = try domainFeatures(net.features, pair.source.x, pair.target, separately: separateDomains)
            let logits = try net.classifier.forward(hs)
            let classification = try Loss.crossEntropy(logits, labels)
            var figures = try Trainer.classification(loss: classification, logits: logits, labels: labels, accuracy: "source_accuracy")
            var loss = classification
            // The domain classifier learns on the features as they are.
            let domains = Array(repeating: 0, count: ns) + Array(repeating: 1, count: nt)
            let domainLogits = try net.discriminator.forward(h.detached())
            let domainLoss = try Loss.crossEntropy(domainLogits, domains)
            let domainCorrect = try correct(domainLogits, domains)
            // The features learn to leave it undecided.
            let confusedLogits = try withFixedWeights(net.discriminator) { try net.discriminator.forward(h) }
            let uniform = try Tensor.full([ns + nt, 2], 0.5)
            let confusion = try Loss.softCrossEntropy(confusedLogits, targets: uniform)
            loss = try loss + domainLoss + confusion * net.confusionWeight
            figures += [.mean("domain_loss", Double(try domainLoss.item())), .share("domain_accuracy", domainCorrect, of: domains.count),
                        .mean("confusion", Double(try confusion.item()))]
            if let soft = softLabels, let batch = fewBatches?.next() {
                let fewLabels = batch.y ?? []
                let fewLogits = try net.forward(batch.x)
                let hard = try Loss.crossEntropy(fewLogits, fewLabels)
                let rows = try Tensor(shape: [fewLabels.count, k], values: fewLabels.flatMap { soft[($0 * k)..<($0 * k + k)] })
                let softLoss = try Loss.softCrossEntropy(fewLogits * (1 / net.temperature), targets: rows)
                loss = try loss + hard + softLoss * net.softWeight
                figures += [.mean("target_loss", Double(try hard.item())), .mean("soft_label_loss", Double(try softLoss.item()))]
            }
            return Step(loss: loss, samples: labels.count, figures: figures)
        }
    }
}
