// Longer measurements behind the README's tables (not tests): run with
//   swift run -c release tl-experiments domain-gap [--train N] [--test N] [--epochs E] [--seed S]
import Dispatch
import TLData
import TLEngine
import TLNN
import TLTransfer

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

switch CommandLine.arguments.dropFirst().first {
case "domain-gap": try domainGap()
default: print("usage: tl-experiments domain-gap [--train N] [--test N] [--epochs E] [--seed S]")
}
