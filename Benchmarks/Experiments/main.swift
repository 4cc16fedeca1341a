// Longer measurements behind the README's tables (not tests): run with
//   swift run -c release tl-experiments domain-gap [--train N] [--test N] [--epochs E] [--seed S]
//   swift run -c release tl-experiments adaptation [--source S] [--target T] [--methods source,dann,mmd,…]
//       [--seeds K] [--first-seed S] [--train N] [--target-train N] [--test N] [--epochs E]
//       [--net cnn|dann] [--sgd [--lr X] [--dann-schedule]] [--lambda X|schedule|schedule*MAX]
//       [--disc W] [--disc-layers 1|2] [--at K] [--warm E] [--center]
import Dispatch
import TLData
import TLEngine
import TLNN
import TLTransfer

// OpenBLAS may have loaded its generic kernels on a CPU it does not know (see BLASKernels).
BLASKernels.restartWithBetterKernelsIfNeeded()

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? Int(args[$0 + 1]) : nil } ?? fallback
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

/// Trains the LeNet-style CNN on each style and tests it on every style.
func domainGap() throws {
    let train = option("--train", 10_000), test = option("--test", 2_000), epochs = option("--epochs", 4)
    let seed = UInt64(option("--seed", 1))
    let styles = DigitStyle.allCases
    var generation = 0.0
    var tests: [DigitStyle: Dataset] = [:]
    for s in styles { generation += try seconds { tests[s] = try Digits.generate(count: test, style: s, seed: seed + 1000) } }
    print("# domain gap: CNN trained on \(train) digits of one style, \(epochs) epochs (SGD lr 0.01 momentum 0.9, batch 64), tested on \(test) of each")
    print(pad("source \\ target", 16) + styles.map { pad($0.rawValue, 8) }.joined())
    let only = CommandLine.arguments.firstIndex(of: "--source").flatMap { DigitStyle(rawValue: CommandLine.arguments[$0 + 1]) }
    for source in styles where only == nil || only == source {
        var generator = RandomGenerator(seed: seed)
        var data: Dataset!
        generation += try seconds { data = try Digits.generate(count: train, style: source, seed: seed) }
        let net = try Models.cnn(classes: 10, input: [3, 28, 28], using: &generator)
        var options = TrainingOptions()
        options.epochs = epochs
        if CommandLine.arguments.contains("--adam") { options.optimizer = .adam; options.learningRate = 0.001 }
        if let lr = CommandLine.arguments.firstIndex(of: "--lr").flatMap({ Float(CommandLine.arguments[$0 + 1]) }) { options.learningRate = lr }
        _ = try Trainer.fit(net, data, options: options, using: &generator)
        let row = try styles.map { pad(String(format3: try Trainer.accuracy(net, tests[$0]!)), 8) }
        print(pad(source.rawValue, 16) + row.joined())
    }
    var big: Dataset!
    let t = try seconds { big = try Digits.generate(count: 60_000, style: .mnistm, seed: 7) }
    print("# generating 60000 mnistm digits: \(String(format3: t)) s on \(Parallel.threads) threads (\(big.count) made)")
}

extension String {
    init(format3 x: Double) {
        let r = (x * 1000).rounded() / 1000
        self = String(r)
    }
}

func text(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } ?? fallback
}

func real(_ name: String, _ fallback: Float) -> Float { Float(text(name, "")) ?? fallback }

/// Source-only, each adaptation method and train-on-target, over several seeds (the DANN paper's table).
func adaptation() throws {
    let train = option("--train", 5_000), test = option("--test", 2_000), epochs = option("--epochs", 5)
    let targetTrain = option("--target-train", train)
    let seeds = option("--seeds", 3), firstSeed = option("--first-seed", 1)
    // --net dann: the DANN paper's digit network (conv 32@5 → pool → conv 48@5 → pool → 100 → 100 → 10).
    let paperNet = text("--net", "cnn") == "dann"
    let sgd = CommandLine.arguments.contains("--sgd")
    guard let source = DigitStyle(rawValue: text("--source", "mnist")), let target = DigitStyle(rawValue: text("--target", "mnistm")) else {
        print("unknown style"); return
    }
    let methods = text("--methods", "source,dann,mmd,mkmmd,coral,cmd,target").split(separator: ",").map(String.init)
    let lr = real("--lr", 0.001), weight = real("--weight", 1), lambdaText = text("--lambda", "schedule")
    let at = option("--at", Models.cnnFeatureLayers)
    func network(_ g: inout RandomGenerator) throws -> Sequential {
        guard paperNet else { return try Models.cnn(classes: 10, input: [3, 28, 28], using: &g) }
        return Sequential([
            try Conv2d(3, 32, kernel: 5, using: &g), Activation(.relu), try MaxPool2d(2),
            try Conv2d(32, 48, kernel: 5, using: &g), Activation(.relu), try MaxPool2d(2), Flatten(),
            try Linear(768, 100, using: &g), Activation(.relu), try Linear(100, 100, using: &g), Activation(.relu),
            try Linear(100, 10, using: &g),
        ])
    }
    // Alignment fine-tunes a source-trained network (as DAN and Deep CORAL do): `warm` epochs on
    // the source, then the rest of the budget aligned. 0: aligned from scratch.
    let warm = option("--warm", 2)
    let optimizer = sgd ? "SGD lr \(real("--lr", 0.01)) momentum 0.9" : "Adam lr \(lr)"
    let schedule = CommandLine.arguments.contains("--dann-schedule") ? " on DANN's rate schedule" : ""
    print("# \(source.rawValue) → \(target.rawValue): \(paperNet ? "the DANN paper's network" : "CNN"), \(train) labelled source + \(targetTrain) unlabelled target, \(epochs) epochs \(optimizer)\(schedule), tested on \(test) target digits; λ \(lambdaText), align weight \(weight) (method:w overrides), alignment after \(warm) source epochs, at \(at)")
    var results: [String: [Double]] = [:]
    for seed in UInt64(firstSeed)...UInt64(firstSeed + seeds - 1) {
        var s = try Digits.generate(count: train, style: source, seed: seed)
        var t = try Digits.generate(count: targetTrain, style: target, seed: seed + 500)
        var tTest = try Digits.generate(count: test, style: target, seed: seed + 1000)
        if CommandLine.arguments.contains("--center") {  // pixels from [0, 1] to [−1, 1]
            s.x = try (s.x - 0.5) * 2
            t.x = try (t.x - 0.5) * 2
            tTest.x = try (tTest.x - 0.5) * 2
        }
        for method in methods {
            var g = RandomGenerator(seed: seed)
            let net = try network(&g)
            var options = TrainingOptions()
            options.epochs = epochs
            options.optimizer = sgd ? .sgd : .adam
            options.learningRate = sgd ? real("--lr", 0.01) : lr
            if CommandLine.arguments.contains("--dann-schedule") { options.schedule = .dann }
            options.ema = Float(text("--ema", ""))  // every method's weight average (DANN's default otherwise)
            if CommandLine.arguments.contains("--trace") { options.validation = tTest }  // target accuracy after each epoch
            var extra = ""
            let time = try seconds {
                switch method {
                case "source":
                    let h = try Trainer.fit(net, s, options: options, using: &g)
                    extra = " source acc " + h.series("accuracy").map { String(format3: $0 ?? .nan) }.joined(separator: " ")
                        + (options.validation == nil ? "" : " target acc " + h.series("val_accuracy").map { String(format3: $0 ?? .nan) }.joined(separator: " "))
                case "target": _ = try Trainer.fit(net, t, options: options, using: &g)
                case "dann":
                    let width = option("--disc", 100)
                    let featureSize = try GradMode.withoutGrad { try net.view(0..<at).forward(Tensor.zeros([1, 3, 28, 28])).count }
                    var disc = try Models.mlp(option("--disc-layers", 2) == 1 ? [featureSize, width, 2] : [featureSize, width, width, 2],
                                              dropout: real("--disc-dropout", 0), using: &g)  // dropout after each hidden layer
                    if CommandLine.arguments.contains("--disc-bn") {  // batch norm after each hidden layer (tllib's DomainDiscriminator)
                        var layers: [any Layer] = []
                        for layer in disc.layers {
                            if layer is Activation, let width = (layers.last as? Linear)?.weight.value.shape[0] { layers.append(try BatchNorm(width)) }
                            layers.append(layer)
                        }
                        disc = Sequential(layers)
                    }
                    let lambda: LambdaSetting = Float(lambdaText).map { .constant($0) } ?? (lambdaText.hasPrefix("schedule*") ? .schedule(max: Float(lambdaText.dropFirst(9)) ?? 1) : .standard)
                    let adv = try AdversarialNet(net, discriminator: disc, at: at, lambda: .constant(0))
                    var adversarial = options
                    if let pre = Int(text("--dann-warm", "")), pre > 0 {  // source-only epochs before the adversarial ones
                        var first = options
                        first.epochs = pre
                        first.ema = 0
                        _ = try Trainer.fit(net, s, options: first, using: &g)
                        adversarial.epochs = max(1, epochs - pre)
                    }
                    let h = try Trainer.fitAdversarial(adv, source: s, target: t.unlabelled(), lambda: lambda, options: adversarial, using: &g)
                    extra = " domain acc " + h.series("domain_accuracy").map { String(format3: $0 ?? .nan) }.joined(separator: " ")
                        + " source acc " + h.series("source_accuracy").map { String(format3: $0 ?? .nan) }.joined(separator: " ")
                        + (options.validation == nil ? "" : " target acc " + h.series("val_accuracy").map { String(format3: $0 ?? .nan) }.joined(separator: " "))
                default:
                    let parts = method.split(separator: ":")
                    guard let a = Alignment(rawValue: String(parts[0])) else { print("unknown method \(method)"); return }
                    let w = parts.count > 1 ? Float(parts[1]) ?? weight : weight
                    var aligned = options
                    if warm > 0 {
                        var pre = options
                        pre.epochs = warm
                        _ = try Trainer.fit(net, s, options: pre, using: &g)
                        aligned.epochs = max(1, epochs - warm)
                    }
                    _ = try Trainer.fitAligned(net, at: at, source: s, target: t.unlabelled(), alignment: a, weight: w, options: aligned, using: &g)
                }
            }
            let acc = try Trainer.accuracy(net, tTest)
            results[method, default: []].append(acc)
            print("seed \(seed) \(pad(method, 7)) \(String(format3: acc))  (\(String(format3: time)) s)\(extra)")
        }
    }
    for method in methods {
        let r = results[method] ?? []
        let mean = r.reduce(0, +) / Double(max(1, r.count))
        let sd = (r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, r.count - 1))).squareRoot()
        print("\(pad(method, 7)) mean \(String(format3: mean)) ± \(String(format3: sd))  [\(r.map { String(format3: $0) }.joined(separator: " "))]")
    }
}

switch CommandLine.arguments.dropFirst().first {
case "domain-gap": try domainGap()
case "adaptation": try adaptation()
default: print("usage: tl-experiments domain-gap [--train N] [--test N] [--epochs E] [--seed S] | adaptation [--source S] [--target T] [--methods a,b] [--seeds K] [--net cnn|dann] [--sgd] [--lambda X|schedule*MAX] (see the file's first lines)")
}
