#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLData
import TLEngine
import TLNN

/// Measuring domains and models without target labels.
public enum Selection {
    /// Label-free scores of a classifier on unlabelled data.
    public struct Scores: Sendable {
        /// Mean entropy of the predictions (lower: more confident).
        public var entropy: Double
        /// Information maximisation: entropy of the mean prediction minus mean entropy (higher: confident
        /// and spread over the classes, as SHOT maximises).
        public var informationMaximization: Double
        /// Soft neighbourhood density (Saito et al. 2021): mean entropy of each sample's softmax
        /// similarity to the others' predictions at temperature 0.05 (higher: denser neighbourhoods).
        public var softNeighbourhoodDensity: Double
    }

    /// Scores `model` on `x` (at most `limit` samples are used for the pairwise density).
    public static func scores(_ model: any Layer, _ x: Tensor, limit: Int = 1000) throws -> Scores {
        guard (x.shape.first ?? 0) > 1 else { throw TrainingError(description: "scoring needs at least two samples") }
        var probabilities: [Tensor] = []
        try Trainer.inBatches(model, x) { _, batch in
            let logits = try model.forward(batch)
            guard logits.rank == 2 else {
                throw TrainingError(description: "the model gives \(Shape.describe(logits.shape)) outputs; scores need N×classes")
            }
            probabilities.append(try logits.softmax(axis: 1))
        }
        let p = try Tensor.concat(probabilities, axis: 0)
        let (n, k) = (p.shape[0], p.shape[1])
        let v = p.scalars
        func entropy(_ row: ArraySlice<Float>) -> Double {
            row.reduce(0.0) { $0 - ($1 > 0 ? Double($1) * Glibc.log(Double($1)) : 0) }
        }
        var meanEntropy = 0.0
        var mean = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let row = v[(i * k)..<((i + 1) * k)]
            meanEntropy += entropy(row)
            for (j, q) in row.enumerated() { mean[j] += Double(q) / Double(n) }
        }
        meanEntropy /= Double(n)
        let entropyOfMean = mean.reduce(0.0) { $0 - ($1 > 0 ? $1 * Glibc.log($1) : 0) }

        // SND on the first `limit` samples: L2-normalised predictions, similarities to the others,
        // softmax at temperature 0.05, mean entropy.
        let m = Swift.min(n, limit)
        var unit = [Double](repeating: 0, count: m * k)
        for i in 0..<m {
            let norm = Swift.max(1e-12, (0..<k).reduce(0.0) { $0 + Double(v[i * k + $1]) * Double(v[i * k + $1]) }.squareRoot())
            for j in 0..<k { unit[i * k + j] = Double(v[i * k + j]) / norm }
        }
        var density = 0.0
        for i in 0..<m {
            var logits = [Double](repeating: 0, count: m)
            var top = -Double.infinity
            for j in 0..<m where j != i {
                var s = 0.0
                for c in 0..<k { s += unit[i * k + c] * unit[j * k + c] }
                logits[j] = s / 0.05
                top = Swift.max(top, logits[j])
            }
            var z = 0.0
            for j in 0..<m where j != i { z += Glibc.exp(logits[j] - top) }
            var h = 0.0
            for j in 0..<m where j != i {
                let q = Glibc.exp(logits[j] - top) / z
                if q > 0 { h -= q * Glibc.log(q) }
            }
            density += h / Double(m)
        }
        return Scores(entropy: meanEntropy, informationMaximization: entropyOfMean - meanEntropy, softNeighbourhoodDensity: density)
    }

    /// Proxy A-distance (Ben-David et al.): 2(1 − 2ε), ε the held-out error of a linear classifier
    /// (logistic regression) trained to tell samples of `a` from samples of `b`; 0 for
    /// indistinguishable domains, 2 for perfectly separable ones.
    public static func proxyADistance(_ a: Tensor, _ b: Tensor, using generator: inout RandomGenerator) throws -> Double {
        let fa = try a.reshaped([a.shape.first ?? 0, -1]), fb = try b.reshaped([b.shape.first ?? 0, -1])
        guard fa.shape[1] == fb.shape[1] else {
            throw TrainingError(description: "the two domains have \(fa.shape[1]) and \(fb.shape[1]) features per sample")
        }
        guard fa.shape[0] >= 2, fb.shape[0] >= 2 else { throw TrainingError(description: "each domain needs at least two samples") }
        let x = try Tensor.concat([fa, fb], axis: 0)
        // Standardise features so the classifier's step size suits any scale.
        let mean = try x.mean(axis: 0, keepDims: true)
        let spread = try ((x - mean) * (x - mean)).mean(axis: 0, keepDims: true).sqrt() + 1e-6
        let standardised = try ((x - mean) / spread).detached()
        let labels = Array(repeating: 0, count: fa.shape[0]) + Array(repeating: 1, count: fb.shape[0])
        let data = try Dataset(name: "domains", x: standardised, y: labels, classes: ["a", "b"])
        let (train, test) = try data.split(0.5, using: &generator)
        let classifier = Sequential([try Linear(fa.shape[1], 2, using: &generator)])
        var options = TrainingOptions()
        options.epochs = 30
        options.optimizer = .adam
        options.learningRate = 0.01
        options.batchSize = 128
        _ = try Trainer.fit(classifier, train, options: options, using: &generator)
        let error = Swift.min(0.5, 1 - (try Trainer.accuracy(classifier, test)))
        return 2 * (1 - 2 * error)
    }
}
