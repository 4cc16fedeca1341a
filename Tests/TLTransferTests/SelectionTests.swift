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
