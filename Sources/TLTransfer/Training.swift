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
    /// The decay of an exponential moving average of the weights over the steps, which the
    /// model keeps at the end (`WeightAverage`); 0 keeps the last step's weights. Nil: the
    /// method's default (`AdversarialNet.defaultEMA` for the adversarial methods — DANN, DSN,
    /// SDT, PixelDA —, 0 for the others).
    public var ema: Float?
    /// What `ema` must be, for the errors that refuse another value.
    public static let emaRange = "a decay in [0, 1): 0.95 averages about the last 20 steps, 0 keeps the last step's weights"

    /// These options with `ema` at `decay` unless the user set it: a method that averages its
    /// weights by default.
    func averaging(byDefault decay: Float) -> TrainingOptions {
        var options = self
        options.ema = ema ?? decay
        return options
    }

    public enum Schedule: String, CaseIterable, Sendable { case constant, dann }

    public init() {}
}

/// One figure a training step reports (a loss term, an accuracy, a weight), and how the steps
/// of an epoch combine into the epoch's value.
public struct StepFigure: Sendable {
    public enum Combine: Sendable {
        /// A per-sample mean, weighted by the step's samples.
        case mean(Double)
        /// A share: `count` right of `total`, summed over the epoch's steps.
        case share(Int, of: Int)
        /// A setting at this step (λ, a weight): the epoch keeps its last value.
        case current(Double)
    }

    public let name: String
    public let combine: Combine

    public static func mean(_ name: String, _ value: Double) -> StepFigure { StepFigure(name: name, combine: .mean(value)) }
    public static func share(_ name: String, _ count: Int, of total: Int) -> StepFigure { StepFigure(name: name, combine: .share(count, of: total)) }
    public static func current(_ name: String, _ value: Double) -> StepFigure { StepFigure(name: name, combine: .current(value)) }
}

/// One epoch's figures: every objective term a method records, by name, in the method's order
/// ("loss", "accuracy", "domain_loss", "lambda", …, then "val_loss", "val_accuracy").
public struct EpochRecord: Sendable {
    public var epoch: Int
    public var seconds: Double
    public var samplesPerSecond: Double
    public var figures: [(name: String, value: Double)]

    public init(epoch: Int, seconds: Double, samplesPerSecond: Double, figures: [(name: String, value: Double)]) {
        (self.epoch, self.seconds, self.samplesPerSecond, self.figures) = (epoch, seconds, samplesPerSecond, figures)
    }

    public subscript(name: String) -> Double? { figures.first { $0.name == name }?.value }
}

/// The epochs of one training run.
public struct History: Sendable {
    public var epochs: [EpochRecord] = []
    /// Set when Ctrl-C stopped the run: where it stopped.
    public var interruptedAt: (epoch: Int, batch: Int)?
    /// Set when the loss exploded and the run was stopped: where.
    public var divergedAt: (epoch: Int, batch: Int)?
    /// What the run noticed and a user should read: divergence, a loss rising epoch after
    /// epoch, a model left at chance (the language prints them, quiet or not).
    public var warnings: [String] = []

    public init() {}

    /// The names of the recorded figures, in the order they first appear.
    public var names: [String] {
        var seen: [String] = []
        for e in epochs { for f in e.figures where !seen.contains(f.name) { seen.append(f.name) } }
        return seen
    }

    /// A figure's value in every epoch (nil where an epoch did not record it).
    public func series(_ name: String) -> [Double?] { epochs.map { $0[name] } }

    /// The figures a summary line shows, with their short labels.
    static let headline: [(name: String, label: String)] = [
        ("loss", "loss"), ("reconstruction", "reconstruction"), ("accuracy", "acc"), ("source_accuracy", "source acc"),
        ("seen_accuracy", "seen acc"), ("val_accuracy", "val acc"), ("domain_accuracy", "domain acc"),
    ]

    /// `history 3 epochs · loss 0.31 · acc 0.91` (with validation and domain accuracy when measured).
    public var summary: String {
        var parts = ["history \(epochs.count) epoch\(epochs.count == 1 ? "" : "s")"]
        if let last = epochs.last {
            for (name, label) in History.headline {
                if let x = last[name], !x.isNaN { parts.append("\(label) \(Report.format(x))") }
            }
        }
        if let stop = interruptedAt { parts.append("stopped by Ctrl-C in epoch \(stop.epoch), batch \(stop.batch)") }
        if let stop = divergedAt { parts.append("diverged in epoch \(stop.epoch), batch \(stop.batch)") }
        return parts.joined(separator: " · ")
    }
}

/// What the loop reports as it goes, for a progress bar drawn elsewhere: the running values of
/// the epoch's figures so far.
public struct TrainingProgress: Sendable {
    public var epoch: Int, epochs: Int
    public var batch: Int, batches: Int
    public var figures: [(name: String, value: Double)]
    public var samplesPerSecond: Double
    public var elapsed: Double

    public init(epoch: Int, epochs: Int, batch: Int, batches: Int, figures: [(name: String, value: Double)],
                samplesPerSecond: Double, elapsed: Double) {
        (self.epoch, self.epochs, self.batch, self.batches) = (epoch, epochs, batch, batches)
        (self.figures, self.samplesPerSecond, self.elapsed) = (figures, samplesPerSecond, elapsed)
    }
}

/// Where a training run reports: its progress after each batch (a bar), and each finished epoch
/// (a line that stays). Either may be nil.
public struct TrainingReporter {
    public var progress: ((TrainingProgress) -> Void)?
    public var epochEnded: ((_ record: EpochRecord, _ epochs: Int) -> Void)?

    public init(progress: ((TrainingProgress) -> Void)? = nil,
                epochEnded: ((_ record: EpochRecord, _ epochs: Int) -> Void)? = nil) {
        (self.progress, self.epochEnded) = (progress, epochEnded)
    }
}

/// Watches the loss for the two ways training goes wrong with too large a learning rate: a batch
/// whose loss is orders of magnitude above the run's start (it exploded: the run stops), and an
/// epoch loss that rose three epochs running (a warning, once).
struct DivergenceWatch {
    let learningRate: Float
    /// The loss of the run's first batch: measured before any step, so before any harm.
    private var start: Double?
    private var epochLosses: [Double] = []
    private var warnedOfRise = false

    init(learningRate: Float) { self.learningRate = learningRate }

    /// A warning when the batch's loss exploded: 1000 times the start and above 100.
    mutating func batch(_ loss: Double, epoch: Int, batch: Int) -> String? {
        guard let start else {
            start = loss
            return nil
        }
        guard loss > Swift.max(1000 * start, 100) else { return nil }
        return "training stopped: the loss exploded from \(Report.format(start)) to \(Report.format(loss)) in epoch \(epoch), batch \(batch); "
            + "lr=\(Report.format(Double(learningRate))) is too large for this model (try lr=\(Report.format(Double(learningRate) / 10)) or less). "
            + "The weights are past use now: reinit the model, or load or clone it again"
    }

    /// A warning when the epoch loss rose in each of the last three epochs, to at least twice
    /// where it was (said once; small drifts of a converged loss are not a rise).
    mutating func epoch(_ loss: Double, epoch: Int) -> String? {
        epochLosses.append(loss)
        let last = Array(epochLosses.suffix(4))
        guard !warnedOfRise, last.count == 4, zip(last, last.dropFirst()).allSatisfy({ $0 < $1 }),
              last[3] >= 2 * last[0], last[3] - last[0] > 0.05 else { return nil }
        warnedOfRise = true
        return "the loss rose in each of the last 3 epochs (\(last.map { Report.format($0) }.joined(separator: " → ")) by epoch \(epoch)); "
            + "lr=\(Report.format(Double(learningRate))) may be too large: try a smaller one"
    }
}

/// The figures of the steps of one epoch, combined by name.
struct EpochFigures {
    private var order: [String] = []
    private var sums: [String: (value: Double, weight: Double)] = [:]
    private var currents: [String: Double] = [:]

    mutating func add(_ figures: [StepFigure], samples: Int) {
        for f in figures {
            if !order.contains(f.name) { order.append(f.name) }
            switch f.combine {
            case .mean(let x):
                let s = sums[f.name] ?? (0, 0)
                sums[f.name] = (s.value + x * Double(samples), s.weight + Double(samples))
            case .share(let count, let total):
                let s = sums[f.name] ?? (0, 0)
                sums[f.name] = (s.value + Double(count), s.weight + Double(total))
            case .current(let x):
                currents[f.name] = x
            }
        }
    }

    var values: [(name: String, value: Double)] {
        order.map { name in
            if let x = currents[name] { return (name, x) }
            let s = sums[name] ?? (0, 0)
            return (name, s.weight > 0 ? s.value / s.weight : .nan)
        }
    }
}

/// An error during training that names where it happened.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
}

/// The supervised training loop and evaluation. The loop never prints: it reports through
/// `progress`, and stops between batches when `Cancellation` is requested, keeping what was learned.
public enum Trainer {
    /// What one step computed: the loss to minimise, the samples it saw, and the figures to
    /// record (the history keeps each by name, per epoch).
    public struct Step {
        public var loss: Tensor
        public var samples: Int
        public var figures: [StepFigure]

        public init(loss: Tensor, samples: Int, figures: [StepFigure]) {
            (self.loss, self.samples, self.figures) = (loss, samples, figures)
        }
    }

    /// The figures of a classification step: its cross-entropy and accuracy (named for what it
    /// measures: "source_accuracy" when adapting, so it is not read as the target's).
    static func classification(loss: Tensor, logits: Tensor, labels: [Int], accuracy: String = "accuracy") throws -> [StepFigure] {
        [.mean("loss", Double(try loss.item())), .share(accuracy, try correct(logits, labels), of: labels.count)]
    }

    /// How many rows of `logits` have their largest score at their label.
    static func correct(_ logits: Tensor, _ labels: [Int]) throws -> Int {
        zip(try logits.detached().argmaxRows(), labels).filter { $0 == $1 }.count
    }

    /// The checks every method adapting labelled source data to target data makes first.
    static func checkDomains(source: Dataset, target: Dataset) throws {
        guard source.isLabelled else { throw TrainingError(description: "the source data must be labelled") }
        guard source.sampleShape == target.sampleShape else {
            throw TrainingError(description: "source and target samples differ in shape (\(Shape.describe(source.sampleShape)) and \(Shape.describe(target.sampleShape)))")
        }
    }

    /// Trains `model` on labelled `data` with cross-entropy (plus the options' penalties).
    /// Returns the history; Ctrl-C stops it between batches, keeping what was learned.
    public static func fit(_ model: any Layer, _ data: Dataset, options: TrainingOptions,
                           using generator: inout RandomGenerator, reporter: TrainingReporter? = nil,
                           validation: (() throws -> [(String, Double)])? = nil) throws -> History {
        guard data.isLabelled else { throw TrainingError(description: "training needs labelled data; this dataset is unlabelled") }
        let teacher = options.consistency > 0 ? model.copy() : nil
        teacher?.setTraining(false)
        var history = try loop(model, count: data.count, options: options, using: &generator, reporter: reporter,
                        epochBatches: { g in AnySequence(try Batches(data, size: options.batchSize, shuffle: options.shuffle, using: &g)) },
                        validation: validation) { batch in
            let labels = batch.y ?? []
            let logits = try model.forward(batch.x)
            let classification = try Loss.crossEntropy(logits, labels)
            var loss = classification
            var figures = try Trainer.classification(loss: classification, logits: logits, labels: labels)
            if let teacher {
                let p0 = try GradMode.withoutGrad { try teacher.forward(batch.x).softmax(axis: 1) }
                let distillation = try Loss.distillation(logits, teacherProbabilities: p0)
                loss = try loss + distillation * options.consistency
                figures.append(.mean("consistency", Double(try distillation.item())))
            }
            return Step(loss: loss, samples: labels.count, figures: figures)
        }
        if let warning = chanceWarning(history, classes: data.classes.count, steps: history.epochs.count * ((data.count + options.batchSize - 1) / options.batchSize),
                                       options: options) {
            history.warnings.append(warning)
        }
        return history
    }

    /// Whether a run's last epoch says what it learnt: 50 steps or more (after fewer, the
    /// language's note on too few steps speaks), not stopped by Ctrl-C or a diverging loss.
    static func ranLongEnough(_ history: History, steps: Int) -> Bool {
        steps >= 50 && history.interruptedAt == nil && history.divergedAt == nil
    }

    /// The warnings' rule for a classifier at chance among `k` classes: accuracy at most 1.5/k.
    static func atChance(_ accuracy: Double, classes k: Int) -> Bool { k >= 2 && accuracy <= 1.5 / Double(k) }

    /// A warning when a classifier ends its training at chance on its own training data: it did
    /// not learn, and the user should hear why it may be. Not after a handful of steps (fewer
    /// than 50): the language's note on too few steps says that once.
    static func chanceWarning(_ history: History, classes k: Int, steps: Int, options: TrainingOptions) -> String? {
        guard ranLongEnough(history, steps: steps), let last = history.epochs.last,
              let loss = last["loss"], let accuracy = last["accuracy"],
              atChance(accuracy, classes: k), loss >= Glibc.log(Double(k)) * 0.97 else { return nil }
        let lr = Double(options.learningRate)
        let advice = lr >= 0.5
            ? "lr=\(Report.format(lr)) is large: try lr=\(Report.format(lr / 100)) or less"
            : "try more epochs, a smaller batch (more steps per epoch) or a larger lr"
        return "after \(history.epochs.count) epoch\(history.epochs.count == 1 ? "" : "s") the model is still at chance on its training data "
            + "(accuracy \(Report.format(accuracy)) for \(k) classes, loss \(Report.format(loss))): it has not learned; \(advice)"
    }

    /// Trains an autoencoder to reconstruct its input (flattened), by mean squared error; no labels
    /// needed. The history records the error as "reconstruction".
    public static func fitReconstruction(_ model: any Layer, _ data: Dataset, options: TrainingOptions,
                                         using generator: inout RandomGenerator, reporter: TrainingReporter? = nil) throws -> History {
        try checkValidationShape(options.validation, data)
        return try loop(model, count: data.count, options: options, using: &generator, reporter: reporter,
                        epochBatches: { g in AnySequence(try Batches(data, size: options.batchSize, shuffle: options.shuffle, using: &g)) },
                        validation: options.validation.map { v in { [("val_reconstruction", try reconstructionError(model, v.x))] } }) { batch in
            let (output, target) = try reconstructionPair(model, batch.x)
            let loss = try Loss.mse(output, target)
            return Step(loss: loss, samples: batch.x.shape[0], figures: [.mean("reconstruction", Double(try loss.item()))])
        }
    }

    /// The model's reconstructions of `x` and `x` itself, both flattened to one row per sample:
    /// a decoder may end in a linear layer (a flat row) or in feature maps shaped as the images.
    static func reconstructionPair(_ model: any Layer, _ x: Tensor) throws -> (output: Tensor, target: Tensor) {
        let n = x.shape[0]
        let target = try x.reshaped([n, -1])
        let output = try model.forward(x)
        let sample = Array(x.shape.dropFirst()), given = Array(output.shape.dropFirst())
        guard output.shape[0] == n, given.reduce(1, *) == target.shape[1] else {
            let fix = given.count > 1 ? "feature maps of \(Shape.describe(sample))" : "linear(…, \(target.shape[1]))"
            throw TrainingError(description: "the autoencoder's decoder gives \(Shape.describe(given)) values per sample and a sample has \(Shape.describe(sample))\(sample.count > 1 ? " (\(target.shape[1]))" : ""): a reconstruction needs one value per input value (end the decoder with \(fix))")
        }
        return (try output.reshaped([n, -1]), target)
    }

    /// Validation samples must be shaped as the training samples.
    static func checkValidationShape(_ validation: Dataset?, _ data: Dataset) throws {
        guard let validation, validation.sampleShape != data.sampleShape else { return }
        throw TrainingError(description: "the validation samples (\(Shape.describe(validation.sampleShape))) differ in shape from the training samples (\(Shape.describe(data.sampleShape)))")
    }

    /// The mean squared error of `model`'s reconstructions of `x` (what an autoencoder's
    /// training reports as its reconstruction), over every value.
    static func reconstructionError(_ model: any Layer, _ x: Tensor) throws -> Double {
        var total = 0.0
        try inBatches(model, x) { _, batch in
            let (output, target) = try reconstructionPair(model, batch)
            let error = try Loss.mse(output, target)
            total += Double(try error.item()) * Double(batch.shape[0])
        }
        return total / Double(Swift.max(1, x.shape[0]))
    }

    /// The training loop shared by every objective: epochs of batches, the optimizer, the
    /// options' L2-SP penalty and learning-rate schedule, validation, NaN checks and Ctrl-C.
    /// Each step's figures are combined per epoch into the history.
    public static func loop<Batch>(
        _ model: any Layer, count: Int, options: TrainingOptions, using generator: inout RandomGenerator,
        reporter: TrainingReporter?,
        epochBatches: (inout RandomGenerator) throws -> AnySequence<Batch>,
        validation: (() throws -> [(String, Double)])? = nil,
        objective: (Batch) throws -> Step
    ) throws -> History {
        guard count > 0 else { throw TrainingError(description: "the dataset has no samples") }
        // After each epoch: the method's own measure of its validation data, or a classifier's.
        var measure = validation
        if measure == nil, let data = options.validation {
            // Checked before the first epoch, not after it: evaluation wants an output per class.
            let output = try checkFits(model, sampleShape: data.sampleShape)
            guard data.isLabelled, output == [data.classes.count] else {
                throw TrainingError(description: data.isLabelled
                    ? "the validation data has \(data.classes.count) classes and the model gives \(Shape.describe(output)) outputs per sample: validate= measures a classifier on data of its own classes"
                    : "validate= needs labelled data; this dataset is unlabelled")
            }
            measure = { let report = try evaluate(model, data); return [("val_loss", report.loss), ("val_accuracy", report.accuracy)] }
        }
        guard options.epochs >= 0, options.batchSize > 0, options.learningRate.isFinite, options.learningRate > 0 else {
            throw TrainingError(description: "epochs must be ≥ 0, batch > 0 and lr a positive number")
        }
        guard options.conservative >= 0, options.consistency >= 0 else {
            throw TrainingError(description: "conservative and consistency weights must not be negative")
        }
        if let d = options.ema, !(d >= 0 && d < 1) {
            throw TrainingError(description: "ema must be \(TrainingOptions.emaRange), got \(Report.format(Double(d)))")
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
        var watch = DivergenceWatch(learningRate: options.learningRate)
        let average = options.ema.flatMap { $0 > 0 ? WeightAverage(parameters, decay: $0) : nil }
        defer { average?.apply() }
        for epoch in 1...Swift.max(1, options.epochs) where options.epochs > 0 {
            let epochStart = Clock.seconds()
            var figures = EpochFigures()
            var seen = 0, epochLoss = 0.0
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
                if let anchor {
                    let penalty = try anchor.penalty(alpha: 2 * options.conservative)
                    result.loss = try result.loss + penalty
                    result.figures.append(.mean("conservative", Double(try penalty.item())))
                }
                let value = try result.loss.item()
                guard value.isFinite else {
                    throw TrainingError(description: "the loss became \(value) in epoch \(epoch), batch \(b + 1); try a lower learning rate than lr=\(Report.format(Double(options.learningRate)))")
                }
                if let warning = watch.batch(Double(value), epoch: epoch, batch: b + 1) {
                    // Exploded: the steps are too large. Stop before the weights become numbers
                    // that mean nothing, and say so; what was recorded so far stays.
                    history.divergedAt = (epoch, b + 1)
                    history.warnings.append(warning)
                    return history
                }
                epochLoss += Double(value) * Double(result.samples)
                try result.loss.backward()
                // Activations and gradients that passed the memory budget end the training
                // before the step: the model keeps what the batches before taught it.
                try Memory.checkOverflow("train")
                optimizer.step(parameters)
                average?.update()
                figures.add(result.figures, samples: result.samples)
                seen += result.samples
                if let progress = reporter?.progress {
                    let elapsed = Clock.seconds() - epochStart
                    progress(TrainingProgress(epoch: epoch, epochs: options.epochs, batch: b + 1, batches: batchesPerEpoch,
                                              figures: figures.values, samplesPerSecond: Double(seen) / Swift.max(elapsed, 1e-9),
                                              elapsed: Clock.seconds() - start))
                }
            }
            // A batch the memory budget could not hold ends the epoch early: an error, not a short epoch.
            try Memory.checkOverflow("train")
            let seconds = Clock.seconds() - epochStart
            var record = EpochRecord(epoch: epoch, seconds: seconds, samplesPerSecond: Double(seen) / Swift.max(seconds, 1e-9),
                                     figures: figures.values)
            if let measure {
                // The weights the model would keep if training stopped here.
                record.figures += try average.map { a in try a.withAverage(measure) } ?? measure()
            }
            history.epochs.append(record)
            reporter?.epochEnded?(record, options.epochs)
            if let warning = watch.epoch(epochLoss / Double(Swift.max(seen, 1)), epoch: epoch) { history.warnings.append(warning) }
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
                try Memory.checkOverflow("inference")
            }
        }
    }

    /// `model`'s outputs for every sample, computed in batches (evaluation mode, no graph) and
    /// stacked; an empty tensor for no samples.
    public static func outputs(_ model: any Layer, _ x: Tensor) throws -> Tensor {
        var parts: [Tensor] = []
        try inBatches(model, x) { _, batch in parts.append(try model.forward(batch)) }
        return parts.isEmpty ? try Tensor.zeros([0]) : try Tensor.concat(parts, axis: 0)
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
