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
            .optional("target", .dataset, .none, keyword: true, "unlabelled target data, for attach()ed and sdt() models and align="),
            .optional("target_labels", .dataset, .none, keyword: true, "a few labelled target samples, for sdt() models (soft labels)"),
            .optional("align", .string, .none, keyword: true, "mmd, mkmmd, coral or cmd: a discrepancy between source and target features to minimise"),
            .optional("align_weight", .number, .none, keyword: true, "the weight of the alignment term: 0.1 for mmd, 0.3 for cmd, 1 for mkmmd and coral unless given (see :help mmd)"),
            .optional("at", .integer, .none, keyword: true, "with align=: the features compared are net[0:at]'s; unless given, the input of the last linear layer (see :help mmd)"),
            .optional("lambda", .any, .string("schedule"), keyword: true, "an attach()ed model's reversal factor: a number, or \"schedule\" for lambda_max·(2/(1+e^(−10p))−1); without it, the one attach()'s lambda= gave"),
            .optional("lambda_max", .number, .none, keyword: true, "the ceiling of lambda=\"schedule\" (0.3; the paper's 1 can destroy the features at a constant SGD rate, see :help dann)"),
            .optional("attributes", .tensor, .none, keyword: true, "a zero-shot model's class table (classes × attributes or word vectors); the dataset's attributes by default"),
            .optional("ema", .number, .none, keyword: true, "keep an exponential moving average of the weights over the steps, with this decay (0.95: about the last 20 steps); 0.95 for the adversarial methods (attach(), dsn(), sdt(), pixelda() models), 0 (the last step's weights) for the rest"),
            .optional("validate", .any, .none, keyword: true, "labelled data measured after each epoch (with the averaged weights when ema= averages; a list, one per head, for a multitask model), or a fraction such as 0.2: that share of data, drawn at random, held out to measure on"),
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
            // Each number checked at its argument (the trainer's own check names them all at once).
            for (name, ok, expected) in [("epochs", options.epochs >= 0, "a number of epochs ≥ 0"),
                                         ("batch", options.batchSize > 0, "a batch size ≥ 1"),
                                         ("lr", options.learningRate.isFinite && options.learningRate > 0, "a positive learning rate"),
                                         ("momentum", options.momentum >= 0 && options.momentum < 1, "a momentum in [0, 1)"),
                                         ("weight_decay", options.weightDecay >= 0 && options.weightDecay.isFinite, "a weight decay ≥ 0"),
                                         ("conservative", options.conservative >= 0 && options.conservative.isFinite, "a weight ≥ 0"),
                                         ("consistency", options.consistency >= 0 && options.consistency.isFinite, "a weight ≥ 0")] where !ok {
                throw args.error(for: name, expected: expected, got: args.value(name))
            }
            var data = try datasets(args, "data")
            let validationTasks = try validation(args, data: &data, options: &options, multitask: model.method is MultitaskNet)
            options.shuffle = try args.bool("shuffle")
            if !args.isNone("ema") {
                let decay = try args.float("ema")
                guard decay >= 0, decay < 1 else {
                    throw args.error(for: "ema", expected: TrainingOptions.emaRange, got: args.value("ema"))
                }
                options.ema = decay
            }
            var request = FitRequest(data: data, options: options)
            request.validationTasks = validationTasks
            request.target = args.isNone("target") ? nil : try args.dataset("target")
            request.targetLabels = args.isNone("target_labels") ? nil : try args.dataset("target_labels")
            request.alignment = args.isNone("align") ? nil : try args.choice("align", of: Alignment.self)
            if !args.isNone("align_weight") {
                let weight = try args.float("align_weight")
                guard weight >= 0, weight.isFinite else {
                    throw args.error(for: "align_weight", expected: "a number ≥ 0", got: args.value("align_weight"))
                }
                guard request.alignment != nil else {
                    throw args.error("align_weight= weighs the align= term; give align= (mmd, mkmmd, coral or cmd) with it", at: "align_weight")
                }
                request.alignWeight = weight
            }
            request.at = try args.optionalInt("at")
            request.lambda = try lambda(args)
            request.classTable = args.isNone("attributes") ? nil : try args.tensor("attributes")
            let interpreter = args.interpreter
            if try !args.bool("quiet") { request.reporter = interpreter.trainingReporter }
            // The bar goes before anything is said (an error included), so that messages start
            // on a line of their own.
            let clearBar = { if request.reporter?.progress != nil { interpreter.progressEnded?() } }
            let history: History
            do {
                history = try methodCall(args) { try model.method.fit(request, using: &GlobalRandom.generator) }
            } catch {
                clearBar()
                throw error
            }
            clearBar()
            if model.inputShape == nil, let first = request.data.first { model.inputShape = first.sampleShape }
            if let stop = history.interruptedAt {
                interpreter.output("stopped by Ctrl-C in epoch \(stop.epoch), batch \(stop.batch); the model keeps what it learned\n")
            }
            for warning in history.warnings { interpreter.output("warning: \(warning)\n") }
            if let target = request.target, target.isLabelled, !interpreter.remindedOfTargetLabels {
                // Unsupervised adaptation: a labelled target= trains no differently from unlabel(target).
                interpreter.remindedOfTargetLabels = true
                interpreter.output("note: target= is used without its labels (adaptation here is unsupervised); a few labelled target samples go to an sdt() model's target_labels=\n")
            }
            if let few = fewSteps(request), !interpreter.remindedOfFewSteps {
                interpreter.remindedOfFewSteps = true
                interpreter.output("note: \(few)\n")
            }
            return .history(history)
        },
        Builtin("evaluate", [.required("model", .model, "a classifier"), .required("data", .any, "labelled data (a list of datasets for a multitask model)"),
                             .optional("attributes", .tensor, .none, keyword: true, "a zero-shot model's class table (attributes or word vectors); the dataset's attributes by default")],
                group: "training",
                help: "Accuracy, loss, per-class accuracy and the confusion matrix of a classifier on labelled data (show(report) prints the tables).",
                example: "net = mlp([2352, 10]); evaluate(net, digits(100))") { args in
            let model = try args.model("model")
            let request = EvaluationRequest(data: try datasets(args, "data"),
                                            classTable: args.isNone("attributes") ? nil : try args.tensor("attributes"))
            let evaluation = try methodCall(args) { try model.method.evaluate(request) }
            if request.data.contains(where: \.isTargetTest), !args.interpreter.remindedOfTargetTest {
                args.interpreter.remindedOfTargetTest = true
                args.interpreter.output("note: target test data — report this accuracy, but choosing a model, epoch or λ by it is cheating; score() chooses without labels\n")
            }
            // A zero-shot model chooses among the classes the data holds: with one, it cannot be wrong.
            if model.method is any ZeroShotModel, let data = request.data.first, let y = data.y, Set(y).count == 1 {
                args.interpreter.output("note: the data holds one class (\(data.classes[y[0]])), and a zero-shot model chooses among the classes present: accuracy 1 by construction; evaluate on two or more unseen classes\n")
            }
            switch evaluation {
            case .report(let report): return .report(report)
            case .reports(let reports): return .list(reports.map { .report($0) })
            }
        },
        Builtin("predict", [.required("model", .model, "a classifier"), .required("x", .any, "a tensor of samples, or a dataset"),
                            .optional("attributes", .tensor, .none, keyword: true, "a zero-shot model's class table; the dataset's attributes by default")],
                group: "training",
                help: "The class id each sample is given, as a tensor: the decision evaluate() counts (a zero-shot model chooses among the classes present in a labelled dataset, as evaluate does).",
                example: "predict(mlp([2352, 10]), digits(4))") { args in
            let model = try args.model("model")
            var request: PredictionRequest
            if case .dataset(let d) = args.value("x") {
                request = PredictionRequest(x: d.x, data: d)
            } else {
                request = PredictionRequest(x: try Conversion.tensor(from: args.value("x")))
            }
            request.classTable = args.isNone("attributes") ? nil : try args.tensor("attributes")
            let classes = try model.notingOneSample(request.x, range: args.range) { try methodCall(args) { try model.method.predict(request) } }
            return .tensor(Tensor(classes.map(Float.init)))
        },
        Builtin("features", [.required("model", .model, "a model"), .required("data", .any, "a dataset or a tensor of samples"),
                             .required("at", .integer, keyword: true, "the layer to stop before: net[0:at] is applied")],
                group: "training", help: "The activations of net[0:at] for every sample: what the first layers extract.",
                example: "features(cnn(), digits(4), at=7).shape") { args in
            let model = try args.model("model")
            let at = try args.int("at")
            guard let s = model.network as? Sequential, at >= 0, at <= s.count else {
                throw args.error(for: "at", expected: "a layer index 0…\(model.layers.count) of a sequential model", got: .number(Double(at)))
            }
            let x: Tensor
            if case .dataset(let d) = args.value("data") { x = d.x } else { x = try Conversion.tensor(from: args.value("data")) }
            let front = try s.view(0..<at)
            return .tensor(try model.notingOneSample(x, range: args.range) { try Trainer.outputs(front, x) })
        },
    ]

    /// The dataset given as `name` where a parameter takes class ids or a labelled dataset (nil
    /// for ids); an unlabelled dataset is refused at the argument.
    static func labelledDataset(_ args: Arguments, _ name: String) throws -> Dataset? {
        guard case .dataset(let d) = args.value(name) else { return nil }
        guard d.isLabelled else { throw args.error(for: name, expected: "class ids or a labelled dataset", got: args.value(name)) }
        return d
    }

    /// A method's own errors, in the words of the builtin that called it.
    /// `at`: the argument the error is about (the caret goes under it).
    static func methodCall<T>(_ args: Arguments, at parameter: String? = nil, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as TrainingError {
            throw parameter.map { args.error(e.description, at: $0) } ?? args.error(e.description)
        } catch let e as RefusedOption {
            throw args.error(e.description, at: e.option.rawValue)
        }
    }

    /// A note when a run takes so few optimisation steps that a model trained from scratch
    /// (or even fine-tuned) cannot learn much (100 labels at batch 64 are 2 steps an epoch), with a batch size to try.
    static func fewSteps(_ request: FitRequest) -> String? {
        let n = request.data.map(\.count).max() ?? 0
        let batch = request.options.batchSize, epochs = request.options.epochs
        guard n > 0, batch > 0, epochs > 0 else { return nil }
        let perEpoch = (n + batch - 1) / batch, steps = perEpoch * epochs
        guard perEpoch <= 4, steps < 50 else { return nil }
        // The largest power of two that makes at least 8 steps an epoch.
        var smaller = 1
        while smaller * 2 <= n / 8 { smaller *= 2 }
        let advice = smaller < batch && smaller >= 2 ? "try batch=\(smaller) or more epochs" : "try more epochs (or more labelled data)"
        return "each epoch is \(perEpoch) step\(perEpoch == 1 ? "" : "s") (\(n) samples in batches of \(batch)), \(steps) in all: "
            + "too few for a model to learn much; \(advice)"
    }

    /// `validate=`: a dataset (a list, one per head, for a multitask model, returned), or a
    /// fraction of `data` held out, as Keras's validation_split (drawn at random here).
    static func validation(_ args: Arguments, data: inout [Dataset], options: inout TrainingOptions,
                           multitask: Bool) throws -> [Dataset]? {
        let expected = multitask ? "a list of datasets, one per head, or a fraction between 0 and 1" : "a dataset or a fraction between 0 and 1"
        switch args.value("validate") {
        case .none: return nil
        case .dataset(let d) where !multitask:
            options.validation = d
            return nil
        case .list(let items) where multitask:
            return try items.map { item in
                guard case .dataset(let d) = item else { throw args.error(for: "validate", expected: "a dataset", got: item, saying: "an element") }
                return d
            }
        case .number(let fraction):
            guard fraction > 0, fraction < 1 else { throw args.error(for: "validate", expected: expected, got: .number(fraction)) }
            var held: [Dataset] = []
            for (i, d) in data.enumerated() {
                let (kept, out) = try d.split(1 - fraction, using: &GlobalRandom.generator)
                guard out.count > 0, kept.count > 0 else {
                    throw args.error("validate=\(Report.format(fraction)) leaves \(out.count == 0 ? "nothing to validate on" : "nothing to train on") in \(d.count) samples", at: "validate")
                }
                (data[i], held) = (kept, held + [out])
            }
            guard multitask else {
                options.validation = held.first
                return nil
            }
            return held
        case let v: throw args.error(for: "validate", expected: expected, got: v)
        }
    }

    /// `lambda=`: a number, or "schedule" for DANN's schedule up to `lambda_max=`; nil when the
    /// call gives neither, so that the model's own setting (attach()'s lambda=) holds.
    static func lambda(_ args: Arguments) throws -> LambdaSetting? {
        guard args.isGiven("lambda") || !args.isNone("lambda_max") else { return nil }
        switch args.value("lambda") {
        case .string("schedule"):
            guard !args.isNone("lambda_max") else { return .standard }
            let ceiling = try args.float("lambda_max")
            guard ceiling.isFinite, ceiling >= 0 else {
                throw args.error(for: "lambda_max", expected: "a number ≥ 0", got: args.value("lambda_max"))
            }
            return .schedule(max: ceiling)
        case .number(let x):
            guard args.isNone("lambda_max") else {
                throw args.error("lambda_max= is the ceiling of lambda=\"schedule\"; with a constant lambda=\(Report.format(x)) leave it out", at: "lambda_max")
            }
            guard x.isFinite else { throw args.error(for: "lambda", expected: "a finite number or \"schedule\"", got: .number(x)) }
            return .constant(Float(x))
        case let v: throw args.error(for: "lambda", expected: "a number or \"schedule\"", got: v)
        }
    }

    /// One dataset, or a list of datasets (one per head of a multitask model).
    static func datasets(_ args: Arguments, _ name: String) throws -> [Dataset] {
        switch args.value(name) {
        case .dataset(let d): return [d]
        case .list(let items) where !items.isEmpty:
            return try items.map { item in
                guard case .dataset(let d) = item else { throw args.error(for: name, expected: "a dataset or a list of datasets", got: item) }
                return d
            }
        case let v: throw args.error(for: name, expected: "a dataset (or a list of datasets, one per head of a multitask model)", got: v)
        }
    }
}
