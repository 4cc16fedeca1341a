#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// Low-dimensional pictures of high-dimensional features: PCA and t-SNE. Both are deterministic:
/// PCA has no randomness, and t-SNE starts from the PCA projection.
public enum Projection {
    /// The largest t-SNE run allowed: exact t-SNE costs N² per iteration.
    public static let tsneLimit = 10_000

    /// The rows of `x` (N×d) projected on their first `k` principal components (N×k). Each
    /// component's sign is fixed so its largest projection is positive.
    public static func pca(_ x: Tensor, k: Int) throws -> Tensor {
        let (n, d) = try rows(x, op: "pca")
        guard k >= 1, k <= Swift.min(n, d) else {
            throw TrainingError(description: "pca: k must be between 1 and \(Swift.min(n, d)) (the smaller of rows and columns), got \(k)")
        }
        let flat = x.reshapedRows(d)
        let centred = try flat - flat.mean(axis: 0, keepDims: true)
        // Eigenvectors of the smaller of the covariance (d×d) and the Gram matrix (N×N).
        let useGram = n < d
        let m = useGram ? try Tensor.matmul2D(centred, centred, transposeB: true)
                        : try Tensor.matmul2D(centred, centred, transposeA: true)
        let (values, vectors) = try topEigenvectors(m, k: k)
        var out: [Float]
        if useGram {
            // The projections are the Gram eigenvectors scaled by the singular values.
            out = [Float](repeating: 0, count: n * k)
            for i in 0..<n { for j in 0..<k { out[i * k + j] = Float(vectors[j][i] * Swift.max(0, values[j]).squareRoot()) } }
        } else {
            let basis = try Tensor(shape: [k, d], values: vectors.flatMap { $0.map(Float.init) })
            out = try Tensor.matmul2D(centred, basis, transposeB: true).scalars
        }
        for j in 0..<k {
            let column = (0..<n).map { out[$0 * k + j] }
            let largest = column.max { Swift.abs($0) < Swift.abs($1) } ?? 0
            if largest < 0 { for i in 0..<n { out[i * k + j] = -out[i * k + j] } }
        }
        return try Tensor(shape: [n, k], values: out)
    }

    static func rows(_ x: Tensor, op: String) throws -> (Int, Int) {
        guard x.rank >= 2, x.shape[0] >= 2 else {
            throw TrainingError(description: "\(op): needs at least two samples (rows), got \(Shape.describe(x.shape))")
        }
        guard x.scalars.allSatisfy(\.isFinite) else { throw TrainingError(description: "\(op): the data holds nan or infinite values") }
        return (x.shape[0], x.count / x.shape[0])
    }

    /// The `k` largest eigenpairs of a symmetric positive semi-definite matrix, by subspace
    /// iteration with a Rayleigh–Ritz step (values descending, vectors as rows).
    static func topEigenvectors(_ matrix: Tensor, k: Int) throws -> ([Double], [[Double]]) {
        let m = matrix.shape[0]
        let p = Swift.min(m, k + 8)
        var generator = RandomGenerator(seed: 0x5EED)
        var basis = try Tensor(shape: [m, p], values: (0..<(m * p)).map { _ in generator.nextNormal() })
        for iteration in 0..<150 {
            try Cancellation.check("at step \(iteration) of 150 of the eigenvector iteration")
            basis = try orthonormalised(try Tensor.matmul2D(matrix, basis))
        }
        // Rayleigh–Ritz: diagonalise the small p×p projection and rotate the basis.
        let small = try Tensor.matmul2D(basis, try Tensor.matmul2D(matrix, basis), transposeA: true).scalars.map(Double.init)
        let (values, rotation) = jacobi(small, size: p)
        let order = (0..<p).sorted { values[$0] > values[$1] }.prefix(k)
        let b = basis.scalars
        let vectors = order.map { j in (0..<m).map { i in (0..<p).reduce(0.0) { $0 + Double(b[i * p + $1]) * rotation[$1 * p + j] } } }
        return (order.map { values[$0] }, vectors)
    }

    /// The columns of `a` (m×p) made orthonormal (modified Gram–Schmidt, in double precision).
    static func orthonormalised(_ a: Tensor) throws -> Tensor {
        let (m, p) = (a.shape[0], a.shape[1])
        // Column j at columns[j*m ..< (j+1)*m], so every loop below runs over contiguous memory.
        var columns = [Double](repeating: 0, count: m * p)
        let v = a.scalars
        for t in 0..<m { for j in 0..<p { columns[j * m + t] = Double(v[t * p + j]) } }
        columns.withUnsafeMutableBufferPointer { c in
            let base = c.baseAddress!
            for j in 0..<p {
                let cj = base + j * m
                for i in 0..<j {
                    let ci = base + i * m
                    let d = dot(ci, cj, m)
                    for t in 0..<m { cj[t] -= d * ci[t] }
                }
                let norm = dot(cj, cj, m).squareRoot()
                if norm > 1e-12 {
                    let inverse = 1 / norm
                    for t in 0..<m { cj[t] *= inverse }
                } else {
                    // A degenerate direction: replace it by a unit vector (orthogonalised next round).
                    for t in 0..<m { cj[t] = t == j % m ? 1 : 0 }
                }
            }
        }
        var out = [Float](repeating: 0, count: m * p)
        for t in 0..<m { for j in 0..<p { out[t * p + j] = Float(columns[j * m + t]) } }
        return try Tensor(shape: [m, p], values: out)
    }

    /// Σ a[t]·b[t] over `n` values, in four interleaved sums (so the loop vectorises; the order
    /// is fixed, so the result is the same on every run).
    private static func dot(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var t = 0
        while t + 4 <= n {
            s0 += a[t] * b[t]; s1 += a[t + 1] * b[t + 1]; s2 += a[t + 2] * b[t + 2]; s3 += a[t + 3] * b[t + 3]
            t += 4
        }
        while t < n { s0 += a[t] * b[t]; t += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// Eigenvalues and eigenvectors (columns of the returned row-major matrix) of a small
    /// symmetric matrix by cyclic Jacobi rotations.
    static func jacobi(_ input: [Double], size n: Int) -> ([Double], [Double]) {
        var a = input
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { off += a[i * n + j] * a[i * n + j] } }
            if off < 1e-22 { break }
            for p in 0..<n {
                for q in (p + 1)..<Swift.max(p + 1, n) where Swift.abs(a[p * n + q]) > 1e-300 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }

    /// Exact t-SNE (van der Maaten & Hinton 2008) of the rows of `x` into `dims` dimensions:
    /// Gaussian affinities calibrated to `perplexity`, Student-t affinities in the map, gradient
    /// descent with momentum, gains and early exaggeration (12 for the first 250 iterations).
    /// Data wider than 50 columns is first reduced to 50 by PCA; the map starts from the PCA
    /// projection, so the result depends on nothing random. `progress` gets (iteration, total).
    public static func tsne(_ x: Tensor, dims: Int = 2, perplexity: Double = 30, iterations: Int = 1000,
                            progress: ((Int, Int) -> Void)? = nil) throws -> Tensor {
        let (n, d) = try rows(x, op: "tsne")
        guard n <= tsneLimit else {
            throw TrainingError(description: "tsne: \(n) samples is too many for exact t-SNE (at most \(tsneLimit)); take(ds, n) a subset first")
        }
        guard dims >= 1, dims <= 3 else { throw TrainingError(description: "tsne: dims must be 1, 2 or 3, got \(dims)") }
        guard perplexity >= 1, perplexity.isFinite else { throw TrainingError(description: "tsne: perplexity must be at least 1, got \(perplexity)") }
        guard Double(n - 1) >= 3 * perplexity else {
            throw TrainingError(description: "tsne: perplexity \(Report.format(perplexity)) needs at least \(Int((3 * perplexity).rounded(.up)) + 1) samples (3 × perplexity + 1), got \(n); lower perplexity=")
        }
        guard iterations >= 1, iterations <= 100_000 else { throw TrainingError(description: "tsne: iterations must be between 1 and 100000") }
        let reduced = d > 50 ? try pca(x.reshapedRows(d), k: Swift.min(50, n)) : x.reshapedRows(d)
        let p = affinities(reduced, perplexity: perplexity)
        // Start from the PCA projection, scaled small (as scikit-learn does).
        var y = try pca(reduced, k: Swift.min(dims, reduced.shape[1])).scalars.map(Double.init)
        if reduced.shape[1] < dims { y = (0..<(n * dims)).map { $0 % dims < reduced.shape[1] ? y[$0 / dims * reduced.shape[1] + $0 % dims] : 0 } }
        let first = (0..<n).map { y[$0 * dims] }
        let mean = first.reduce(0, +) / Double(n)
        let sd = Swift.max(1e-12, (first.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot())
        y = y.map { $0 / sd * 1e-4 }
        let exaggeration = 12.0, learningRate = Swift.max(Double(n) / exaggeration / 4, 50)
        var update = [Double](repeating: 0, count: n * dims), gains = [Double](repeating: 1, count: n * dims)
        var gradient = [Double](repeating: 0, count: n * dims)
        var rowZ = [Double](repeating: 0, count: n)
        for iteration in 0..<iterations {
            try Cancellation.check("at iteration \(iteration) of \(iterations)")
            let early = iteration < 250
            let scale = early ? exaggeration : 1, momentum = early ? 0.5 : 0.8
            if iteration == 250 {
                // The second phase starts afresh, as scikit-learn's does: no momentum or gains
                // carried over from the exaggerated one (they would fling the map apart).
                update = [Double](repeating: 0, count: n * dims)
                gains = [Double](repeating: 1, count: n * dims)
            }
            // Pass 1: the normaliser Z = Σ_{i≠j} 1/(1 + |yi − yj|²), by rows (in order, so deterministic).
            y.withUnsafeBufferPointer { yb in
                rowZ.withUnsafeMutableBufferPointer { zb in
                    let z = UncheckedBuffer(zb)
                    Parallel.forRanges(n, cost: n * 4) { range in
                        for i in range {
                            var s = 0.0
                            for j in 0..<n where j != i {
                                var dist = 0.0
                                for t in 0..<dims { let diff = yb[i * dims + t] - yb[j * dims + t]; dist += diff * diff }
                                s += 1 / (1 + dist)
                            }
                            z.base[i] = s
                        }
                    }
                }
            }
            let zInverse = 1 / Swift.max(rowZ.reduce(0, +), 1e-300)
            // Pass 2: dC/dyi = 4 Σ_j (scale·pij − qij) (1 + |yi − yj|²)⁻¹ (yi − yj).
            y.withUnsafeBufferPointer { yb in
                p.withUnsafeBufferPointer { pb in
                    gradient.withUnsafeMutableBufferPointer { gb in
                        let g = UncheckedBuffer(gb)
                        Parallel.forRanges(n, cost: n * 6) { range in
                            var local = [Double](repeating: 0, count: dims)
                            for i in range {
                                for t in 0..<dims { local[t] = 0 }
                                for j in 0..<n where j != i {
                                    var dist = 0.0
                                    for t in 0..<dims { let diff = yb[i * dims + t] - yb[j * dims + t]; dist += diff * diff }
                                    let num = 1 / (1 + dist)
                                    let w = (scale * pb[i * n + j] - num * zInverse) * num
                                    for t in 0..<dims { local[t] += w * (yb[i * dims + t] - yb[j * dims + t]) }
                                }
                                for t in 0..<dims { g.base[i * dims + t] = 4 * local[t] }
                            }
                        }
                    }
                }
            }
            for i in 0..<(n * dims) {
                let sameSign = (gradient[i] > 0) == (update[i] > 0)
                gains[i] = Swift.max(0.01, sameSign ? gains[i] * 0.8 : gains[i] + 0.2)
                update[i] = momentum * update[i] - learningRate * gains[i] * gradient[i]
                y[i] += update[i]
            }
            // Keep the map centred.
            for t in 0..<dims {
                let centre = (0..<n).reduce(0.0) { $0 + y[$1 * dims + t] } / Double(n)
                for i in 0..<n { y[i * dims + t] -= centre }
            }
            progress?(iteration + 1, iterations)
        }
        return try Tensor(shape: [n, dims], values: y.map(Float.init))
    }

    /// The symmetric input affinities P (N×N, summing to 1): for each row a Gaussian whose width
    /// gives the wanted perplexity (found by bisection on the precision), then (P + Pᵀ)/2N.
    static func affinities(_ x: Tensor, perplexity: Double) -> [Double] {
        let n = x.shape[0], d = x.count / n
        let v = x.scalars
        var squared = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in (i + 1)..<Swift.max(i + 1, n) {
                var s = 0.0
                for t in 0..<d { let diff = Double(v[i * d + t] - v[j * d + t]); s += diff * diff }
                squared[i * n + j] = s
                squared[j * n + i] = s
            }
        }
        var conditional = [Double](repeating: 0, count: n * n)
        let target = log(perplexity)
        conditional.withUnsafeMutableBufferPointer { cb in
            let c = UncheckedBuffer(cb)
            Parallel.forRanges(n, cost: n * 40) { range in
                var row = [Double](repeating: 0, count: n)
                for i in range {
                    var beta = 1.0, lo = 0.0, hi = Double.infinity
                    // Distances relative to the nearest neighbour keep exp() in range.
                    let nearest = (0..<n).filter { $0 != i }.map { squared[i * n + $0] }.min() ?? 0
                    for _ in 0..<100 {
                        var sum = 0.0, weighted = 0.0
                        for j in 0..<n where j != i {
                            let dist = squared[i * n + j] - nearest
                            let e = exp(-beta * dist)
                            row[j] = e
                            sum += e
                            weighted += e * dist
                        }
                        row[i] = 0
                        sum = Swift.max(sum, 1e-300)
                        let entropy = log(sum) + beta * weighted / sum
                        if Swift.abs(entropy - target) < 1e-5 { break }
                        if entropy > target {
                            lo = beta
                            beta = hi.isInfinite ? beta * 2 : (beta + hi) / 2
                        } else {
                            hi = beta
                            beta = (beta + lo) / 2
                        }
                    }
                    let sum = Swift.max(row.reduce(0, +), 1e-300)
                    for j in 0..<n { c.base[i * n + j] = row[j] / sum }
                }
            }
        }
        var p = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n { p[i * n + j] = Swift.max((conditional[i * n + j] + conditional[j * n + i]) / Double(2 * n), 1e-12) }
        }
        return p
    }
}

/// A buffer handed to worker threads that write disjoint parts of it.
struct UncheckedBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
    init(_ base: UnsafeMutableBufferPointer<T>) { self.base = base }
}
