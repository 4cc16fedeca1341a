#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TLData
@testable import TLEngine
@testable import TLNN
@testable import TLTransfer

/// A "model" whose logits are its input: scores can be checked on chosen predictions.
final class Identity: Layer {
    func forward(_ x: Tensor) throws -> Tensor { x }
    func copy() -> any Layer { self }
    var summary: String { "Identity()" }
}

@Suite struct SelectionTests {
    @Test func entropyAndInformationMaximisationHaveTheirExtremes() throws {
        let uniform = try Selection.scores(Identity(), try Tensor.zeros([6, 3]))
        #expect(Swift.abs(uniform.entropy - Glibc.log(3)) < 1e-6)
        #expect(Swift.abs(uniform.informationMaximization) < 1e-6)
        // Confident and spread evenly over the three classes.
        var confident = [Float](repeating: 0, count: 18)
        for i in 0..<6 { confident[i * 3 + i % 3] = 40 }
        let sharp = try Selection.scores(Identity(), try Tensor(shape: [6, 3], values: confident))
        #expect(sharp.entropy < 1e-6)
        #expect(Swift.abs(sharp.informationMaximization - Glibc.log(3)) < 1e-5)
        // Confident but all one class: no information.
        var collapsed = [Float](repeating: 0, count: 18)
        for i in 0..<6 { collapsed[i * 3] = 40 }
        #expect(try Selection.scores(Identity(), try Tensor(shape: [6, 3], values: collapsed)).informationMaximization < 1e-5)
        // Clusters of similar predictions make denser neighbourhoods than a uniform spread.
        #expect(sharp.softNeighbourhoodDensity < uniform.softNeighbourhoodDensity)
        #expect(throws: TrainingError.self) { try Selection.scores(Identity(), try Tensor.zeros([1, 3])) }
    }

    @Test func proxyADistanceIsZeroForOneDomainAndTwoForSeparableOnes() throws {
        var g = RandomGenerator(seed: 1)
        let a = try Tensor.randn([200, 4], using: &g), b = try Tensor.randn([200, 4], using: &g)
        #expect(try Selection.proxyADistance(a, b, using: &g) < 0.4)
        let far = try b + 10
        #expect(try Selection.proxyADistance(a, far, using: &g) > 1.9)
        #expect(throws: TrainingError.self) { try Selection.proxyADistance(a, try Tensor.zeros([5, 3]), using: &g) }
    }
}

@Suite struct AdaptationTests {
    /// Source blobs around (±2, 0); the target is the same task shifted by (0, 3).
    func domains() throws -> (Dataset, Dataset) {
        let source = try blobs(128, seed: 1)
        var target = try blobs(128, seed: 2)
        target.x = try (target.x + Tensor(shape: [1, 2], values: [0, 3])).detached()
        return (source, target)
    }

    @Test func adversarialTrainingRecordsTheDomainClassifierAndLearnsTheLabels() throws {
        var g = RandomGenerator(seed: 3)
        let (source, target) = try domains()
        let net = try Models.mlp([2, 16, 16, 2], using: &g)
        let discriminator = Sequential([try Linear(16, 16, using: &g), Activation(.relu), try Linear(16, 2, using: &g)])
        let adv = try AdversarialNet(net, discriminator: discriminator, at: 4, lambda: 1)
        var options = TrainingOptions()
        options.epochs = 10
        let h = try Trainer.fitAdversarial(adv, source: source, target: target.unlabelled(), lambda: .schedule,
                                           options: options, using: &g)
        #expect(h.epochs.allSatisfy { $0.domainAccuracy != nil })
        #expect(h.summary.contains("domain acc"))
        #expect(try Trainer.accuracy(adv, source) > 0.9, "the label predictor learns the source")
        #expect(adv.reversal.lambda > 0.99, "the schedule ends near 1")
        #expect(throws: TrainingError.self) { try AdversarialNet(net, discriminator: discriminator, at: 0, lambda: 1) }
    }

    @Test func lambdaScheduleFollowsGaninEtAl() {
        #expect(LambdaSetting.schedule.value(progress: 0) == 0)
        #expect(Swift.abs(LambdaSetting.schedule.value(progress: 0.5) - Float(2 / (1 + Glibc.exp(-5.0)) - 1)) < 1e-6)
        #expect(LambdaSetting.constant(0.3).value(progress: 0.7) == 0.3)
    }

    @Test(arguments: Alignment.allCases)
    func alignmentShrinksTheDiscrepancyBetweenFeatures(_ alignment: Alignment) throws {
        func discrepancy(weight: Float) throws -> Float {
            var g = RandomGenerator(seed: 4)
            let (source, target) = try domains()
            let net = Sequential([try Linear(2, 8, using: &g), Activation(.sigmoid), try Linear(8, 2, using: &g)])
            var options = TrainingOptions()
            options.epochs = 15
            _ = try Trainer.fitAligned(net, at: 2, source: source, target: target.unlabelled(), alignment: alignment,
                                       weight: weight, options: options, using: &g)
            let features = try net.view(0..<2)
            return try GradMode.withoutGrad {
                try Alignment.mmd.loss(try features.forward(source.x), try features.forward(target.x)).item()
            }
        }
        #expect(try discrepancy(weight: 5) < discrepancy(weight: 0), "\(alignment)")
    }
}
