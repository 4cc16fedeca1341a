import TLData
import TLEngine
import TLNN

/// A kind of trainable model — a plain classifier, an autoencoder, a domain-adversarial network,
/// a zero-shot embedder, … — and everything the language needs to know about it: how it trains,
/// evaluates and decides, which parts it exposes, and how it is copied. `train`, `evaluate`,
/// `predict`, `clone` and a model's properties ask the method; none of them knows the kinds.
///
/// Adding a method: a class conforming to this protocol in one file of TLTransfer (its network,
/// its fit built on `Trainer.loop`, its figures), a builtin that makes one, a help topic, tests.
public protocol TrainingMethod: AnyObject {
    /// The network `m(x)` applies and training changes (the method itself when it is a layer).
    var network: any Layer { get }
    /// What the model is, in a few words ("domain-adversarial network"), for tables and errors.
    var kind: String { get }
    /// Named parts, each sharing this model's weights: `.features`, `.discriminator`, …
    /// (`inputShape`: the model's input, so that parts can know theirs).
    func parts(inputShape: [Int]?) -> [MethodPart]
    /// Trains on the request's data; the history records each objective term per epoch.
    func fit(_ request: FitRequest, using generator: inout RandomGenerator) throws -> History
    /// Measures the model on labelled data: one report, or one per task.
    func evaluate(_ request: EvaluationRequest) throws -> Evaluation
    /// The class each sample is given, as `evaluate` decides it.
    func predict(_ request: PredictionRequest) throws -> [Int]
    /// A deep copy (`clone(m)`): the same structure with its own weights, trained independently.
    func clone() -> any TrainingMethod
    /// Settings shown with the model's table (λ, a margin, …); none by default.
    var settings: [(name: String, value: String)] { get }
}

extension TrainingMethod {
    public var settings: [(name: String, value: String)] { [] }
}

/// A method that rebuilds its input — an autoencoder, a domain separation network — for
/// `reconstruct(m, x, code=, domain=)`. `codes` and `domains` are what may be chosen, the first
/// of each the default (empty: nothing to choose).
public protocol Reconstructing {
    var reconstructionCodes: [String] { get }
    var reconstructionDomains: [String] { get }
    /// Reconstructions of the samples `x`, shaped as `x` when they have as many values.
    func reconstruct(_ x: Tensor, code: String?, domain: String?) throws -> Tensor
}

/// A method that maps source images into the target's style (PixelDA), for `generate(m, x)`.
public protocol Generating {
    func generate(_ x: Tensor) throws -> Tensor
}

/// A part of a model, reachable as `model.name`: a model sharing the weights, or a list of them.
public struct MethodPart {
    public enum Value {
        case model(Model)
        case models([Model])
    }

    public let name: String
    public let help: String
    public let value: Value

    public init(_ name: String, _ help: String, _ value: Value) { (self.name, self.help, self.value) = (name, help, value) }
}

/// Everything `train` may ask of a method. The language fills it from `train`'s arguments; a
/// method uses what applies to it and refuses, by name, what does not (`refuse`).
public struct FitRequest {
    /// The labelled training data: one dataset, or one per head for a multitask model.
    public var data: [Dataset]
    /// Unlabelled target data (domain adaptation).
    public var target: Dataset?
    /// A few labelled target samples (SDT's soft-label loss).
    public var targetLabels: Dataset?
    /// Discrepancy-based adaptation: the discrepancy between source and target features of
    /// `net[0:at]` to minimise, at `alignWeight` (nil: the alignment's `defaultWeight`).
    public var alignment: Alignment?
    public var alignWeight: Float?
    public var at: Int?
    /// The gradient reversal's factor (domain-adversarial models).
    public var lambda: LambdaSetting?
    /// A zero-shot model's class table (attributes or word vectors), when given.
    public var classTable: Tensor?
    public var options: TrainingOptions
    public var reporter: TrainingReporter?
    /// A multitask model's validation data, one dataset per head (others use `options.validation`).
    public var validationTasks: [Dataset]?

    public init(data: [Dataset], options: TrainingOptions) { (self.data, self.options) = (data, options) }

    /// The one dataset of a method that trains on one.
    public func single() throws -> Dataset {
        guard data.count == 1 else {
            throw TrainingError(description: "data must be one dataset, not a list of \(data.count) (a list is for multitask models)")
        }
        return data[0]
    }

    /// Refuses the options a method does not use, naming them: `train(net, src, lambda=0.5)`
    /// on a plain classifier is a mistake, not something to ignore.
    public func refuse(_ options: [FitOption], for kind: String) throws {
        for option in options where isGiven(option) {
            throw RefusedOption(option: option, description: "\(option.rawValue)= \(option.usedBy); this model is a \(kind)")
        }
    }

    func isGiven(_ option: FitOption) -> Bool {
        switch option {
        case .target: target != nil
        case .targetLabels: targetLabels != nil
        case .align: alignment != nil
        case .at: at != nil
        case .lambda: lambda != nil
        case .attributes: classTable != nil
        }
    }
}

/// An option given to a method that does not use it (the language points at the argument).
public struct RefusedOption: Error, CustomStringConvertible {
    public let option: FitOption
    public let description: String
}

/// The options of `train` that only some methods use.
public enum FitOption: String, CaseIterable, Sendable {
    case target, align, at, lambda, attributes
    case targetLabels = "target_labels"

    var usedBy: String {
        switch self {
        case .target: "is for attach()ed and sdt() models and for align= (aligning a classifier's features)"
        case .targetLabels: "is the few labelled target samples of sdt() models"
        case .align, .at: "aligns a classifier's features with target= data"
        case .lambda: "is the gradient reversal's factor of attach()ed models"
        case .attributes: "is the class table of zero-shot models (attribute_classifier, embedder)"
        }
    }
}

/// What `evaluate` gives a method: labelled data (one dataset, or one per task) and, for
/// zero-shot models, the class table when given.
public struct EvaluationRequest {
    public var data: [Dataset]
    public var classTable: Tensor?

    public init(data: [Dataset], classTable: Tensor? = nil) { (self.data, self.classTable) = (data, classTable) }

    public func single() throws -> Dataset {
        guard data.count == 1 else {
            throw TrainingError(description: "data must be one dataset, not a list of \(data.count) (a list is for multitask models)")
        }
        return data[0]
    }
}

public enum Evaluation {
    case report(Report)
    /// One report per task (multitask models).
    case reports([Report])
}

/// What `predict` gives a method: the samples, the dataset they came from when they came from
/// one (a zero-shot model then chooses among the classes present, as `evaluate` does, and takes
/// the dataset's attributes), and the class table when given.
public struct PredictionRequest {
    public var x: Tensor
    public var data: Dataset?
    public var classTable: Tensor?

    public init(x: Tensor, data: Dataset? = nil, classTable: Tensor? = nil) {
        (self.x, self.data, self.classTable) = (x, data, classTable)
    }
}

extension Trainer {
    /// A clear error before training when one sample of `shape` cannot go through `network`;
    /// the output shape of one sample otherwise.
    @discardableResult
    public static func checkFits(_ network: any Layer, sampleShape shape: [Int]) throws -> [Int] {
        let probe = try Tensor.zeros([1] + shape)
        network.setTraining(false)  // a probe must not move batch-norm's running statistics
        do {
            return Array(try GradMode.withoutGrad { try network.forward(probe) }.shape.dropFirst())
        } catch {
            throw TrainingError(description: "the data (\(Shape.describe(shape)) per sample) does not fit the model: \(error)")
        }
    }

    /// `checkFits`, and then that a classifier gives one score per class of labelled `data`, in
    /// the user's terms: "the model gives 5 outputs … the data has 10 classes".
    public static func checkClassifier(_ network: any Layer, for data: Dataset) throws {
        let output = try checkFits(network, sampleShape: data.sampleShape)
        guard let labels = data.y, let largest = labels.max() else { return }
        let needed = Swift.max(largest + 1, data.classes.count)
        guard output.count == 1, output[0] >= largest + 1 else {
            let gives = output.count == 1 ? "\(output[0]) output\(output[0] == 1 ? "" : "s")" : "outputs of shape \(Shape.describe(output))"
            throw TrainingError(description: "the model gives \(gives) per sample, but the data has \(data.classes.count) classes (labels up to \(largest)): a classifier needs one output per class — end it with a layer of \(needed) outputs (for example linear(…, \(needed)))")
        }
    }
}
