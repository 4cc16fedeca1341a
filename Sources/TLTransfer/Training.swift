#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLData
import TLEngine
import TLNN

/// How to train: the loop's settings with the defaults of the language's `train` (docs/language.md).
public struct TrainingOptions {
    public enum OptimizerKind: String, CaseIterable, Sendable { case sgd, adam }
    public var epochs = 1
    public var batchSize = 64
    public var learningRate: Float = 0.01
    public var optimizer = OptimizerKind.sgd
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0
    public var shuffle = true
    /// Conservative training (L2-SP): adds c·‖θ − θ₀‖² toward the weights the model had when
    /// training started.
    public var conservative: Float = 0
    /// Output consistency (learning without forgetting): adds c·KL(p₀ ‖ p) between the starting
    /// model's predictions p₀ and the current ones on each training batch.
    public var consistency: Float = 0
    /// Data to measure loss and accuracy on after each epoch.
    public var validation: Dataset?
    /// The learning-rate schedule: constant, or μ₀/(1+10p)^0.75 with p the progress 0→1 (DANN).
    public var schedule = Schedule.constant

    public enum Schedule: String, CaseIterable, Sendable { case constant, dann }

    public init() {}
}

/// One epoch's figures.
public struct EpochRecord: Sendable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double
    public var seconds: Double
    public var samplesPerSecond: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// The domain classifier's accuracy (adversarial training): 0.5 when fooled.
    public var domainAccuracy: Double?
}

/// The epochs of one training run.
public struct History: Sendable {
    public var epochs: [EpochRecord] = []
    /// Set when Ctrl-C stopped the run: where it stopped.
    public var interruptedAt: (epoch: Int, batch: Int)?

    public init() {}

    /// `history 3 epochs · loss 0.31 · acc 0.91` (with validation accuracy when measured).
    public var summary: String {
        var parts = ["history \(epochs.count) epoch\(epochs.count == 1 ? "" : "s")"]
        if let last = epochs.last {
            parts.append("loss \(Report.format(last.loss))")
            if !last.accuracy.isNaN { parts.append("acc \(Report.format(last.accuracy))") }
            if let v = last.validationAccuracy { parts.append("val acc \(Report.format(v))") }
            if let d = last.domainAccuracy { parts.append("domain acc \(Report.format(d))") }
        }
        if let stop = interruptedAt { parts.append("stopped by Ctrl-C in epoch \(stop.epoch), batch \(stop.batch)") }
        return parts.joined(separator: " · ")
    }
}

/// What the loop reports as it goes, for a progress bar drawn elsewhere.
public struct TrainingProgress: Sendable {
    public var epoch: Int, epochs: Int
    public var batch: Int, batches: Int
    public var loss: Double, accuracy: Double
    public var samplesPerSecond: Double
    public var elapsed: Double

    public init(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, accuracy: Double,
                samplesPerSecond: Double, elapsed: Double) {
        (self.epoch, self.epochs, self.batch, self.batches) = (epoch, epochs, batch, batches)
        (self.loss, self.accuracy, self.samplesPerSecond, self.elapsed) = (loss, accuracy, samplesPerSecond, elapsed)
    }
}

/// An error during training that names where it happened.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
}

/// The supervised training loop and evaluation. The loop never prints: it reports through
/// `progress`, and stops between batches when `Cancellation` is requested, keeping what was learned.
public enum Trainer {
    /// What one step computed: the loss to minimise, and for the progress figures the
    /// classification part, correct predictions and samples (correct is nil without labels).
    public struct Step {
        public var loss: Tensor
        public var reported: Double
        public var correct: Int?
        public var samples: Int
        /// Domain-classifier predictions (adversarial training).
        public var domainCorrect: Int? = nil
        public var domainSamples = 0
    }

    /// Trains `model` on labelled `data` with cross-entropy (plus the options' penalties).
    /// Returns the history; Ctrl-C stops it between batches, keeping what was learned.
    public static func fit(_ model: any Layer, _ data: Dataset, options: TrainingOptions,
                           using generator: inout RandomGenerator,
                           progress: ((TrainingProgress) -> Void)? = nil) throws -> History {
        guard data.isLabelled else { throw TrainingError(description: "training needs labelled data; this dataset is unlabelled") }
        let teacher = options.consistency > 0 ? model.copy() : nil
        teacher?.setTraining(false)
        return try loop(model, count: data.count, options: options, using: &generator, progress: progress,
                        epochBatches: { g in AnySequence(try Batches(data, size: options.batchSize, shuffle: options.shuffle, using: &g)) }) { batch in
            let labels = batch.y ?? []
            let logits = try model.forward(batch.x)
            let classification = try Loss.crossEntropy(logits, labels)
            var loss = classification
            if let teacher {
                let p0 = try GradMode.withoutGrad { try teacher.forward(batch.x).softmax(axis: 1) }
                loss = try loss + Loss.distillation(logits, teacherProbabilities: p0) * options.consistency
            }
            let predictions = try logits.detached().argmaxRows()
            return Step(loss: loss, reported: Double(try classification.item()),
                        correct: zip(predictions, labels).filter { $0 == $1 }.count, samples: labels.count)
        }
    }

    /// Trains an autoencoder to reconstruct its input (flattened), by mean squared error; no labels needed.
    public static func fitReconstruction(_ model: any Layer, _ data: Dataset, options: TrainingOptions,
                                         using generator: inout RandomGenerator,
                                         progress: ((TrainingProgress) -> Void)? = nil) throws -> History {
        try loop(model, count: data.count, options: options, using: &generator, progress: progress,
                 epochBatches: { g in AnySequence(try Batches(data, size: options.batchSize, shuffle: options.shuffle, using: &g)) }) { batch in
            let target = try batch.x.reshaped([batch.x.shape[0], -1])
            let output = try model.forward(batch.x)
            guard output.shape == target.shape else {
                throw TrainingError(description: "the autoencoder gives \(Shape.describe(output.shape)) for inputs of \(Shape.describe(target.shape)) values; its last size must equal its first")
            }
            let loss = try Loss.mse(output, target)
            return Step(loss: loss, reported: Double(try loss.item()), correct: nil, samples: batch.x.shape[0])
        }
    }

    /// The training loop shared by every objective: epochs of batches, the optimizer, the
    /// options' L2-SP penalty and learning-rate schedule, validation, NaN checks and Ctrl-C.
    public static func loop<Batch>(
        _ model: any Layer, count: Int, options: TrainingOptions, using generator: inout RandomGenerator,
        progress: ((TrainingProgress) -> Void)?,
        epochBatches: (inout RandomGenerator) throws -> AnySequence<Batch>,
        objective: (Batch) throws -> Step
    ) throws -> History {
        guard count > 0 else { throw TrainingError(description: "the dataset has no samples") }
        guard options.epochs >= 0, options.batchSize > 0, options.learningRate.isFinite, options.learningRate > 0 else {
            throw TrainingError(description: "epochs must be ≥ 0, batch > 0 and lr a positive number")
        }
        guard options.conservative >= 0, options.consistency >= 0 else {
            throw TrainingError(description: "conservative and consistency weights must not be negative")
        }
        let optimizer: any Optimizer = switch options.optimizer {
        case .sgd: SGD(learningRate: options.learningRate, momentum: options.momentum, weightDecay: options.weightDecay)
        case .adam: Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        }
        let parameters = model.parameters
        guard parameters.contains(where: { !$0.isFrozen }) else {
            throw TrainingError(description: "every weight of the model is frozen, so there is nothing to train; unfreeze some layers first")
        }
        let anchor = options.conservative > 0 ? L2SP(anchoring: parameters) : nil
        defer { model.setTraining(false) }
        var history = History()
        let start = Clock.seconds()
        let batchesPerEpoch = (count + options.batchSize - 1) / options.batchSize
        let totalSteps = Double(Swift.max(1, options.epochs * batchesPerEpoch))
        var step = 0
        for epoch in 1...Swift.max(1, options.epochs) where options.epochs > 0 {
            let epochStart = Clock.seconds()
            var lossSum = 0.0, correct = 0, seen = 0, labelled = false
            var domainCorrect = 0, domainSeen = 0
            for (b, batch) in try epochBatches(&generator).enumerated() {
                if Cancellation.isRequested {
                    Cancellation.reset()
                    history.interruptedAt = (epoch, b + 1)
                    return history
                }
                if options.schedule == .dann {
                    optimizer.learningRate = options.learningRate / powf(1 + 10 * Float(Double(step) / totalSteps), 0.75)
                }
                step += 1
                optimizer.zeroGrad(parameters)
                model.setTraining(true)
                var result = try objective(batch)
                if let anchor { result.loss = try result.loss + anchor.penalty(alpha: 2 * options.conservative) }
                let value = try result.loss.item()
                guard value.isFinite else {
                    throw TrainingError(description: "the loss became \(value) in epoch \(epoch), batch \(b + 1); try a lower learning rate than lr=\(Report.format(Double(options.learningRate)))")
                }
                try result.loss.backward()
                optimizer.step(parameters)
                if let c = result.correct { correct += c; labelled = true }
                if let d = result.domainCorrect { domainCorrect += d; domainSeen += result.domainSamples }
                lossSum += result.reported * Double(result.samples)
                seen += result.samples
                if let progress {
                    let elapsed = Clock.seconds() - epochStart
                    progress(TrainingProgress(epoch: epoch, epochs: options.epochs, batch: b + 1, batches: batchesPerEpoch,
                                              loss: lossSum / Double(Swift.max(seen, 1)),
                                              accuracy: labelled ? Double(correct) / Double(Swift.max(seen, 1)) : .nan,
                                              samplesPerSecond: Double(seen) / Swift.max(elapsed, 1e-9), elapsed: Clock.seconds() - start))
                }
            }
            let seconds = Clock.seconds() - epochStart
            var record = EpochRecord(epoch: epoch, loss: lossSum / Double(Swift.max(seen, 1)),
                                     accuracy: labelled ? Double(correct) / Double(Swift.max(seen, 1)) : .nan, seconds: seconds,
                                     samplesPerSecond: Double(seen) / Swift.max(seconds, 1e-9))
            if domainSeen > 0 { record.domainAccuracy = Double(domainCorrect) / Double(domainSeen) }
            if let validation = options.validation {
                let report = try evaluate(model, validation)
                record.validationLoss = report.loss
                record.validationAccuracy = report.accuracy
            }
            history.epochs.append(record)
        }
        return history
    }

    /// Calls `body` with each batch of `x` and the index of its first sample, with `model` in
    /// evaluation mode and nothing recorded for gradients: the loop behind every inference.
    public static func inBatches(_ model: any Layer, _ x: Tensor, batchSize: Int = 256,
                                 _ body: (_ start: Int, _ batch: Tensor) throws -> Void) throws {
        model.setTraining(false)
        let n = x.shape.first ?? 0
        try GradMode.withoutGrad {
            for start in stride(from: 0, to: n, by: batchSize) {
                try Cancellation.check("at sample \(start) of \(n)")
                try body(start, try x.sliced(axis: 0, start: start, end: Swift.min(n, start + batchSize)))
            }
        }
    }

    /// Predicted class ids of every sample (evaluation mode, no graph).
    public static func predict(_ model: any Layer, _ x: Tensor, batchSize: Int = 256) throws -> [Int] {
        var out: [Int] = []
        try inBatches(model, x, batchSize: batchSize) { _, batch in
            let logits = try model.forward(batch)
            guard logits.rank == 2 else {
                throw TrainingError(description: "the model gives outputs of shape \(Shape.describe(logits.shape)); a classifier gives N×classes")
            }
            out += try logits.argmaxRows()
        }
        return out
    }

    /// The share of labelled samples classified correctly.
    public static func accuracy(_ model: any Layer, _ data: Dataset) throws -> Double {
        try evaluate(model, data).accuracy
    }

    /// Accuracy, mean cross-entropy, per-class accuracy and the confusion matrix on labelled data.
    public static func evaluate(_ model: any Layer, _ data: Dataset, batchSize: Int = 256) throws -> Report {
        guard let y = data.y else { throw TrainingError(description: "evaluation needs labels; this dataset is unlabelled") }
        let k = data.classes.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var lossSum = 0.0
        try inBatches(model, data.x, batchSize: batchSize) { start, batch in
            let logits = try model.forward(batch)
            guard logits.rank == 2, logits.shape[1] == k else {
                throw TrainingError(description: "the model gives \(Shape.describe(logits.shape)) outputs for \(k) classes; its last layer should have \(k) outputs")
            }
            let labels = Array(y[start..<(start + batch.shape[0])])
            lossSum += Double(try Loss.crossEntropy(logits, labels).item()) * Double(labels.count)
            for (p, t) in zip(try logits.argmaxRows(), labels) { confusion[t][p] += 1 }
        }
        return Report(classes: data.classes, confusion: confusion, loss: lossSum / Double(Swift.max(1, data.count)),
                      source: data.domain.isEmpty ? data.name : "\(data.name)/\(data.domain)")
    }
}
