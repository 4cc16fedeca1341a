import TLData
import TLEngine
import TLNN
import TLTransfer

/// Training and evaluation.
enum TrainingBuiltins {
    static let all: [Builtin] = [
        Builtin("train", [
            .required("model", .model, "the model to train (its weights change)"),
            .required("data", .any, "labelled training data; a list of datasets for a multitask model; any data for an autoencoder"),
            .optional("epochs", .integer, .number(1), keyword: true, "passes over the data"),
            .optional("batch", .integer, .number(64), keyword: true, "samples per step"),
            .optional("lr", .number, .number(0.01), keyword: true, "the learning rate"),
            .optional("optimizer", .string, .string("sgd"), keyword: true, "sgd or adam"),
            .optional("momentum", .number, .number(0.9), keyword: true, "SGD's momentum"),
            .optional("weight_decay", .number, .number(0), keyword: true, "L2 weight decay"),
            .optional("conservative", .number, .number(0), keyword: true, "c·‖θ−θ₀‖² toward the weights at the start (L2-SP)"),
            .optional("consistency", .number, .number(0), keyword: true, "c·KL keeping predictions close to the starting model's"),
            .optional("schedule", .string, .string("constant"), keyword: true, "constant, or dann: lr/(1+10p)^0.75"),
            .optional("target", .dataset, .none, keyword: true, "unlabelled target data, for attach()ed models and align="),
            .optional("align", .string, .none, keyword: true, "mmd, mkmmd, coral or cmd: a discrepancy between source and target features to minimise"),
            .optional("align_weight", .number, .number(1), keyword: true, "the weight of the alignment term"),
            .optional("at", .integer, .none, keyword: true, "with align=: the features compared are net[0:at]'s"),
            .optional("lambda", .any, .string("schedule"), keyword: true, "an attach()ed model's reversal factor: a number, or \"schedule\" for 2/(1+e^(−10p))−1"),
            .optional("attributes", .tensor, .none, keyword: true, "a zero-shot model's class table (classes × attributes or word vectors); the dataset's attributes by default"),
            .optional("validate", .dataset, .none, keyword: true, "labelled data measured after each epoch"),
            .optional("shuffle", .bool, .bool(true), keyword: true, "a new order every epoch"),
            .optional("quiet", .bool, .bool(false), keyword: true, "no progress bar"),
        ], group: "training",
            help: "Trains a classifier with mini-batch SGD or Adam on cross-entropy and returns its history. With target= it adapts to unlabelled target data: adversarially for an attach()ed model, or by align= on the features of net[0:at]. A progress bar shows on a terminal; Ctrl-C stops at the next batch and keeps what was learned.",
            example: "net = mlp([2352, 32, 10]); train(net, digits(256), epochs=2, quiet=true)") { args in
            let model = try args.model("model")
            var options = TrainingOptions()
            options.epochs = try args.int("epochs")
            options.batchSize = try args.int("batch")
            options.learningRate = try args.float("lr")
            options.optimizer = try args.choice("optimizer", of: TrainingOptions.OptimizerKind.self)
            options.momentum = try args.float("momentum")
            options.weightDecay = try args.float("weight_decay")
            options.conservative = try args.float("conservative")
            options.consistency = try args.float("consistency")
            options.schedule = try args.choice("schedule", of: TrainingOptions.Schedule.self)
            options.validation = args.isNone("validate") ? nil : try args.dataset("validate")
            options.shuffle = try args.bool("shuffle")
            let interpreter = args.interpreter
            let progress = try args.bool("quiet") ? nil : interpreter.progress
            defer { if progress != nil { interpreter.progressEnded?() } }
            let history: History
            let target = args.isNone("target") ? nil : try args.dataset("target")
            if let embedder = model.network as? Embedder {
                guard case .dataset(let data) = args.value("data") else { throw args.error("data must be a dataset") }
                history = try Trainer.fitEmbedder(embedder, data, classTable: try classTable(args, data), options: options,
                                                  using: &GlobalRandom.generator, progress: progress)
            } else if let attributes = model.network as? AttributeClassifier {
                guard case .dataset(let data) = args.value("data") else { throw args.error("data must be a dataset") }
                history = try Trainer.fitAttributeClassifier(attributes, data, classTable: try classTable(args, data), options: options,
                                                             using: &GlobalRandom.generator, progress: progress)
            } else if let adversarial = model.network as? AdversarialNet {
                guard let target else { throw args.error("an attach()ed model trains with target= (unlabelled target data)") }
                guard case .dataset(let data) = args.value("data") else { throw args.error("data must be a dataset") }
                let lambda: LambdaSetting
                switch args.value("lambda") {
                case .string("schedule"): lambda = .schedule
                case .number(let x): lambda = .constant(Float(x))
                case let v: throw args.error("lambda must be a number or \"schedule\", got \(v.shown)")
                }
                try checkFits(model, data.sampleShape, args: args)
                history = try Trainer.fitAdversarial(adversarial, source: data, target: target, lambda: lambda, options: options,
                                                     using: &GlobalRandom.generator, progress: progress)
            } else if !args.isNone("align") {
                let alignment = try args.choice("align", of: Alignment.self)
                guard let target else { throw args.error("align= needs target= (unlabelled target data)") }
                guard !args.isNone("at") else { throw args.error("align= needs at=: the layer whose input features are aligned") }
                guard case .dataset(let data) = args.value("data"), let s = model.network as? Sequential else {
                    throw args.error("align= trains a sequential model on a dataset")
                }
                try checkFits(model, data.sampleShape, args: args)
                history = try Trainer.fitAligned(s, at: try args.int("at"), source: data, target: target, alignment: alignment,
                                                 weight: try args.float("align_weight"), options: options,
                                                 using: &GlobalRandom.generator, progress: progress)
            } else if target != nil {
                throw args.error("target= is used by attach()ed models and by align=; give one of them")
            } else if let multitask = model.network as? MultitaskNet {
                let tasks = try datasets(args.value("data"), args: args)
                history = try multitask.fit(tasks, options: options, using: &GlobalRandom.generator, progress: progress)
            } else {
                guard case .dataset(let data) = args.value("data") else { throw args.error("data must be a dataset") }
                try checkFits(model, data.sampleShape, args: args)
                if case .autoencoder = model.kind {
                    history = try Trainer.fitReconstruction(model.network, data, options: options, using: &GlobalRandom.generator, progress: progress)
                } else {
                    history = try Trainer.fit(model.network, data, options: options, using: &GlobalRandom.generator, progress: progress)
                }
                if model.inputShape == nil { model.inputShape = data.sampleShape }
            }
            if let stop = history.interruptedAt {
                interpreter.output("stopped by Ctrl-C in epoch \(stop.epoch), batch \(stop.batch); the model keeps what it learned\n")
            }
            return .history(history)
        },
        Builtin("evaluate", [.required("model", .model, "a classifier"), .required("data", .any, "labelled data (a list of datasets for a multitask model)"),
                             .optional("attributes", .tensor, .none, keyword: true, "a zero-shot model's class table (attributes or word vectors); the dataset's attributes by default")],
                group: "training",
                help: "Accuracy, loss, per-class accuracy and the confusion matrix of a classifier on labelled data (show(report) prints the tables).",
                example: "net = mlp([2352, 10]); evaluate(net, digits(100))") { args in
            let model = try args.model("model")
            if let multitask = model.network as? MultitaskNet {
                return .list(try multitask.evaluate(try datasets(args.value("data"), args: args)).map { .report($0) })
            }
            if model.network is Embedder || model.network is ConSE || model.network is AttributeClassifier {
                guard case .dataset(let data) = args.value("data") else { throw args.error("data must be a dataset") }
                let table: Tensor
                if let cz = model.network as? ConSE { table = cz.wordVectors } else { table = try classTable(args, data) }
                return .report(try Trainer.evaluateZeroShot(model.network, data, classTable: table))
            }
            guard case .dataset(let data) = args.value("data") else { throw args.error("data must be a dataset") }
            try checkFits(model, data.sampleShape, args: args)
            let report = try Trainer.evaluate(model.network, data)
            if data.isTargetTest, !args.interpreter.remindedOfTargetTest {
                args.interpreter.remindedOfTargetTest = true
                args.interpreter.output("note: target test data — report this accuracy, but choosing a model, epoch or λ by it is cheating; score() chooses without labels\n")
            }
            return .report(report)
        },
        Builtin("predict", [.required("model", .model, "a classifier"), .required("x", .any, "a tensor of samples, or a dataset")],
                group: "training", help: "The predicted class id of every sample, as a tensor.",
                example: "predict(mlp([2352, 10]), digits(4))") { args in
            let model = try args.model("model")
            let x: Tensor
            if case .dataset(let d) = args.value("x") { x = d.x } else { x = try Conversion.tensor(from: args.value("x")) }
            return .tensor(Tensor(try Trainer.predict(model.network, x).map(Float.init)))
        },
        Builtin("features", [.required("model", .model, "a model"), .required("data", .any, "a dataset or a tensor of samples"),
                             .required("at", .integer, keyword: true, "the layer to stop before: net[0:at] is applied")],
                group: "training", help: "The activations of net[0:at] for every sample: what the first layers extract.",
                example: "features(cnn(), digits(4), at=7).shape") { args in
            let model = try args.model("model")
            let at = try args.int("at")
            guard let s = model.network as? Sequential, at >= 0, at <= s.count else {
                throw args.error("at must be a layer index 0…\(model.layers.count) of a sequential model")
            }
            let x: Tensor
            if case .dataset(let d) = args.value("data") { x = d.x } else { x = try Conversion.tensor(from: args.value("data")) }
            let front = try s.view(0..<at)
            var outputs: [Tensor] = []
            try Trainer.inBatches(front, x) { _, batch in outputs.append(try front.forward(batch)) }
            return .tensor(outputs.isEmpty ? try Tensor.zeros([0]) : try Tensor.concat(outputs, axis: 0))
        },
    ]

    /// The class table of a zero-shot call: attributes= when given, else the dataset's attributes.
    static func classTable(_ args: Arguments, _ data: Dataset) throws -> Tensor {
        if !args.isNone("attributes") { return try args.tensor("attributes") }
        guard let table = data.attributes else {
            throw args.error("this dataset has no attribute table; pass attributes= (a classes × attributes tensor, or word vectors)")
        }
        return table
    }

    static func datasets(_ v: Value, args: Arguments) throws -> [Dataset] {
        guard case .list(let items) = v else { throw args.error("a multitask model takes a list of datasets, one per head") }
        return try items.map { item in
            guard case .dataset(let d) = item else { throw args.error("a multitask model takes a list of datasets, one per head") }
            return d
        }
    }

    /// A clear error before training when the data cannot go through the model.
    static func checkFits(_ model: Model, _ sample: [Int], args: Arguments) throws {
        let probe = try Tensor.zeros([1] + sample)
        do {
            _ = try GradMode.withoutGrad { try model.network.forward(probe) }
        } catch {
            throw args.error("the data (\(Shape.describe(sample)) per sample) does not fit the model: \(error)")
        }
    }
}
