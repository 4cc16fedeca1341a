#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLData
import TLEngine
import TLNN

/// How to train: the loop's settings with the defaults of LANGUAGE.md's `train`.
public struct TrainingOptions {
    public enum OptimizerKind: String, CaseIterable, Sendable { case sgd, adam }
    public var epochs = 1
    public var batchSize = 64
    public var learningRate: Float = 0.01
    public var optimizer = OptimizerKind.sgd
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0
    public var shuffle = true

    public init() {}
}

/// One epoch's figures.
public struct EpochRecord: Sendable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double
    public var seconds: Double
    public var samplesPerSecond: Double
}

/// What the loop reports as it goes, for a progress bar drawn elsewhere.
public struct TrainingProgress: Sendable {
    public var epoch: Int, epochs: Int
    public var batch: Int, batches: Int
    public var loss: Double, accuracy: Double
    public var samplesPerSecond: Double
    public var elapsed: Double
}

/// An error during training that names where it happened.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
}

/// The supervised training loop and evaluation. The loop never prints: it reports through
/// `progress`, and stops between batches when `Cancellation` is requested, keeping what was learned.
public enum Trainer {
    /// Trains `model` on labelled `data` with cross-entropy; returns a record per finished epoch.
    public static func fit(_ model: any Layer, _ data: Dataset, options: TrainingOptions,
                           using generator: inout RandomGenerator,
                           progress: ((TrainingProgress) -> Void)? = nil) throws -> (epochs: [EpochRecord], interrupted: Bool) {
        guard data.isLabelled else { throw TrainingError(description: "training needs labelled data; this dataset is unlabelled") }
        guard options.epochs >= 0, options.batchSize > 0, options.learningRate.isFinite, options.learningRate > 0 else {
            throw TrainingError(description: "epochs must be ≥ 0, batch > 0 and lr a positive number")
        }
        let optimizer: any Optimizer = switch options.optimizer {
        case .sgd: SGD(learningRate: options.learningRate, momentum: options.momentum, weightDecay: options.weightDecay)
        case .adam: Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        }
        let parameters = model.parameters
        model.setTraining(true)
        defer { model.setTraining(false) }
        var records: [EpochRecord] = []
        let start = now()
        for epoch in 1...Swift.max(1, options.epochs) where options.epochs > 0 {
            let batches = try Batches(data, size: options.batchSize, shuffle: options.shuffle, using: &generator)
            let epochStart = now()
            var lossSum = 0.0, correct = 0, seen = 0
            for (b, batch) in batches.enumerated() {
                if Cancellation.isRequested { return (records, true) }
                let labels = batch.y ?? []
                optimizer.zeroGrad(parameters)
                let logits = try model.forward(batch.x)
                let loss = try Loss.crossEntropy(logits, labels)
                let value = try loss.item()
                guard value.isFinite else {
                    throw TrainingError(description: "the loss became \(value) in epoch \(epoch), batch \(b + 1); try a lower learning rate (lr=\(options.learningRate))")
                }
                try loss.backward()
                optimizer.step(parameters)
                let predictions = try logits.detached().argmaxRows()
                correct += zip(predictions, labels).filter { $0 == $1 }.count
                lossSum += Double(value) * Double(labels.count)
                seen += labels.count
                if let progress {
                    let elapsed = now() - epochStart
                    progress(TrainingProgress(epoch: epoch, epochs: options.epochs, batch: b + 1, batches: batches.count,
                                              loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                                              samplesPerSecond: Double(seen) / Swift.max(elapsed, 1e-9), elapsed: now() - start))
                }
            }
            let seconds = now() - epochStart
            records.append(EpochRecord(epoch: epoch, loss: lossSum / Double(Swift.max(seen, 1)),
                                       accuracy: Double(correct) / Double(Swift.max(seen, 1)), seconds: seconds,
                                       samplesPerSecond: Double(seen) / Swift.max(seconds, 1e-9)))
        }
        return (records, false)
    }

    /// Predicted class ids of every sample (evaluation mode, no graph).
    public static func predict(_ model: any Layer, _ x: Tensor, batchSize: Int = 256) throws -> [Int] {
        model.setTraining(false)
        var out: [Int] = []
        let n = x.shape.first ?? 0
        try GradMode.withoutGrad {
            for start in stride(from: 0, to: n, by: batchSize) {
                let batch = try x.sliced(axis: 0, start: start, end: Swift.min(n, start + batchSize))
                let logits = try model.forward(batch)
                guard logits.rank == 2 else {
                    throw TrainingError(description: "the model gives outputs of shape \(Shape.describe(logits.shape)); a classifier gives N×classes")
                }
                out += try logits.argmaxRows()
            }
        }
        return out
    }

    /// The share of labelled samples classified correctly.
    public static func accuracy(_ model: any Layer, _ data: Dataset) throws -> Double {
        guard let y = data.y else { throw TrainingError(description: "accuracy needs labels; this dataset is unlabelled") }
        guard !y.isEmpty else { return 0 }
        let predictions = try predict(model, data.x)
        return Double(zip(predictions, y).filter { $0 == $1 }.count) / Double(y.count)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
