import Testing
@testable import TLData
@testable import TLEngine
@testable import TLNN
@testable import TLTransfer

/// The generated domains really differ: a small CNN trained on "mnist" recognises held-out
/// "mnist" digits and does clearly worse on "mnistm" and "svhn" (the full table, on more data,
/// is in the README).
@Suite struct DomainGapTests {
    @Test func aCNNTrainedOnMNISTDropsOnTheOtherDomains() throws {
        var generator = RandomGenerator(seed: 1)
        let train = try Digits.generate(count: 6000, style: .mnist, seed: 1)
        let net = try Models.cnn(classes: 10, input: [3, 28, 28], using: &generator)
        var options = TrainingOptions()
        options.epochs = 4
        options.optimizer = .adam
        options.learningRate = 0.001
        _ = try Trainer.fit(net, train, options: options, using: &generator)
        let accuracy = try [DigitStyle.mnist, .mnistm, .svhn].map {
            try Trainer.accuracy(net, try Digits.generate(count: 500, style: $0, seed: 99))
        }
        // 500 held-out digits: engine changes that only move rounding have given 0.968–0.976, so
        // the bound leaves room; what the test is about is the 30-point gap below.
        #expect(accuracy[0] >= 0.95, "held-out mnist: \(accuracy[0])")
        #expect(accuracy[1] < accuracy[0] - 0.3, "mnistm: \(accuracy[1])")
        #expect(accuracy[2] < accuracy[0] - 0.3, "svhn: \(accuracy[2])")
    }
}
