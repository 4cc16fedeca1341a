#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// Distances between a batch of source features and a batch of target features (rows are
/// samples), minimised by discrepancy-based domain adaptation.
public enum Discrepancy {
    private static func checkPair(_ s: Tensor, _ t: Tensor, _ op: String) throws {
        guard s.rank == 2, t.rank == 2, s.shape[1] == t.shape[1] else {
            throw TensorError.shapeMismatch(op: op, "expected two n×d feature batches of one width", s.shape, t.shape)
        }
        guard s.shape[0] > 0, t.shape[0] > 0 else {
            throw TensorError.shapeMismatch(op: op, "both batches need samples", s.shape, t.shape)
        }
    }

    /// MMD² with the linear kernel (DDC): ‖mean(s) − mean(t)‖².
    public static func linearMMD(_ s: Tensor, _ t: Tensor) throws -> Tensor {
        try checkPair(s, t, "mmd")
        let d = try s.mean(axis: 0) - t.mean(axis: 0)
        return try (d * d).sum()
    }

    /// Squared Euclidean distances between the rows of `a` and `b`.
    static func squaredDistances(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let aa = try (a * a).sum(axis: 1, keepDims: true)
        let bb = try (b * b).sum(axis: 1, keepDims: true)
        let ab = try Tensor.matmul2D(a, b, transposeB: true)
        // Rounding can make tiny distances negative.
        return try (aa + bb.T - ab * 2).relu()
    }

    /// MMD² with a bank of Gaussian kernels (DAN): bandwidths σ²·multiplier^i around the median
    /// squared distance σ² of the pooled batch, i centred on 0; biased estimate
    /// mean k(s,s′) + mean k(t,t′) − 2 mean k(s,t).
    public static func multiKernelMMD(_ s: Tensor, _ t: Tensor, kernels: Int = 5, multiplier: Float = 2) throws -> Tensor {
        try checkPair(s, t, "mkmmd")
        guard kernels >= 1, multiplier > 0 else {
            throw TensorError.invalidArgument(op: "mkmmd", "needs at least one kernel and a positive multiplier")
        }
        let pooled = try Tensor.concat([s, t], axis: 0)
        let d = try squaredDistances(pooled, pooled)
        let base = medianOffDiagonal(d.detached())
        let ns = s.shape[0], n = pooled.shape[0]
        var k: Tensor?
        for i in 0..<kernels {
            let bandwidth = Swift.max(base, 1e-12) * powf(multiplier, Float(i - kernels / 2))
            let term = try (d * (-1 / bandwidth)).exp()
            k = try k.map { try $0 + term } ?? term
        }
        guard let k else { return Tensor(scalar: 0) }
        let kss = try k.sliced(axis: 0, end: ns).sliced(axis: 1, end: ns).mean()
        let ktt = try k.sliced(axis: 0, start: ns).sliced(axis: 1, start: ns).mean()
        let kst = try k.sliced(axis: 0, end: ns).sliced(axis: 1, start: ns, end: n).mean()
        return try kss + ktt - kst * 2
    }

    /// Median of the off-diagonal entries of a square distance matrix.
    static func medianOffDiagonal(_ d: Tensor) -> Float {
        let n = d.shape[0]
        guard n > 1 else { return 1 }
        var values: [Float] = []
        values.reserveCapacity(n * (n - 1))
        d.withUnsafeBufferPointer { p in
            for i in 0..<n { for j in 0..<n where i != j { values.append(p[i * n + j]) } }
        }
        values.sort()
        let m = values.count
        return m % 2 == 1 ? values[m / 2] : (values[m / 2 - 1] + values[m / 2]) / 2
    }

    /// Deep CORAL: ‖Cs − Ct‖²_F / (4d²), C the unbiased covariance of each batch.
    public static func coral(_ s: Tensor, _ t: Tensor) throws -> Tensor {
        try checkPair(s, t, "coral")
        guard s.shape[0] > 1, t.shape[0] > 1 else {
            throw TensorError.shapeMismatch(op: "coral", "covariance needs at least two samples per batch", s.shape, t.shape)
        }
        func covariance(_ x: Tensor) throws -> Tensor {
            let centered = try x - x.mean(axis: 0, keepDims: true)
            return try Tensor.matmul2D(centered, centered, transposeA: true) * (1 / Float(x.shape[0] - 1))
        }
        let diff = try covariance(s) - covariance(t)
        let d = Float(s.shape[1])
        return try (diff * diff).sum() * (1 / (4 * d * d))
    }

    /// Central moment discrepancy with moments up to `moments` (Zellinger et al.) for features
    /// bounded in [low, high]: ‖E s − E t‖/|b−a| + Σₖ ‖cₖ(s) − cₖ(t)‖/|b−a|ᵏ.
    public static func cmd(_ s: Tensor, _ t: Tensor, moments: Int = 5, low: Float = 0, high: Float = 1) throws -> Tensor {
        try checkPair(s, t, "cmd")
        guard moments >= 1, high > low else {
            throw TensorError.invalidArgument(op: "cmd", "needs moments ≥ 1 and high > low")
        }
        let span = high - low
        let ms = try s.mean(axis: 0), mt = try t.mean(axis: 0)
        var total = try (ms - mt).norm() * (1 / span)
        if moments >= 2 {
            let cs = try s - ms, ct = try t - mt
            var ps = cs, pt = ct
            for k in 2...moments {
                ps = try ps * cs
                pt = try pt * ct
                let term = try (ps.mean(axis: 0) - pt.mean(axis: 0)).norm()
                total = try total + term * (1 / powf(span, Float(k)))
            }
        }
        return total
    }
}
