import CBLAS

// Matrix products. Every product goes to cblas_sgemm (through `sgemm`); a transposed operand is passed as a
// BLAS transpose flag, never copied.

/// C[b] = op(A[b]) · op(B[b]) (+ C[b] when `accumulate`) for `batch` matrices, where a stride of 0
/// repeats one matrix for every batch entry. Sizes are logical (after transposition).
@usableFromInline
package func gemm(
    batch: Int = 1, m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, transposeA: Bool, strideA: Int = 0,
    b: UnsafePointer<Float>, transposeB: Bool, strideB: Int = 0,
    c: UnsafeMutablePointer<Float>, strideC: Int = 0, accumulate: Bool = false
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if !accumulate { c.update(repeating: 0, count: strideC == 0 ? m * n : batch * strideC) }
        return
    }
    let lda = transposeA ? m : k, ldb = transposeB ? k : n
    for i in 0..<batch {
        // With a shared output (strideC 0) every entry after the first adds into it.
        let beta: Float = accumulate || (strideC == 0 && i > 0) ? 1 : 0
        splitProduct(m: m, n: n, k: k, a: a + i * strideA, transposeA: transposeA, lda: lda,
                     b: b + i * strideB, transposeB: transposeB, ldb: ldb, beta: beta, c: c + i * strideC)
    }
}

/// One product C = op(A)·op(B) + β·C (C is m×n, row-major), split across `Parallel`'s threads
/// by rows or by columns of C when it is large enough to pay for the hand-off. Each part is a
/// single-threaded cblas_sgemm; the parts write disjoint blocks of C.
@inline(__always)
func splitProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, transposeA: Bool, lda: Int,
                  b: UnsafePointer<Float>, transposeB: Bool, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>) {
    let (ta, tb) = (transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans)
    let threads = Parallel.threads
    // Rows when there are many (each part then packs all of B), else columns; blocks of 16.
    let byRows = m >= 128 || n < 64
    let extent = byRows ? m : n
    let parts = min(threads, extent / 16)
    guard parts > 1, m * n * k >= 1 << 18 else {
        sgemm(ta, tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: n)
        return
    }
    let block = (extent + parts - 1) / parts
    let size = (block + 15) / 16 * 16
    Parallel.forChunks(parts) { p in
        let lo = p * size, hi = Swift.min(extent, lo + size)
        guard lo < hi else { return }
        if byRows {
            sgemm(ta, tb, m: hi - lo, n: n, k: k, a: transposeA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c + lo * n, ldc: n)
        } else {
            sgemm(ta, tb, m: m, n: hi - lo, k: k, a: a, lda: lda, b: transposeB ? b + lo * ldb : b + lo, ldb: ldb,
                  beta: beta, c: c + lo, ldc: n)
        }
    }
}

/// C = op(A)·op(B) + β·C through cblas_sgemm (row-major, C m×n with rows `ldc` apart). For
/// β = 0 C is cleared here and the product added onto it: OpenBLAS zeroes C for β = 0 in a
/// separate pass of its own that costs more than the product's writes (a weight gradient
/// 256 × 784 from a batch of 32 on one EPYC core: 240–290 µs with β = 0, 170 µs with β = 1 plus
/// 14 µs to clear). The bits are the same either way: the kernels add their sums onto C.
@inline(__always)
package func sgemm(_ ta: CBLAS_TRANSPOSE, _ tb: CBLAS_TRANSPOSE, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    if beta == 0 {
        if ldc == n {
            c.update(repeating: 0, count: m * n)
        } else {
            for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) }
        }
    }
    cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta == 0 ? 1 : beta, c,
                Int32(ldc))
}

/// Column sums of a rows×columns matrix into `out` (overwritten): the gradient of a bias.
@inline(__always)
func columnSums(_ g: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
    out.update(repeating: 0, count: columns)
    for r in 0..<rows {
        let row = g + r * columns
        for j in 0..<columns { out[j] += row[j] }
    }
}

extension Tensor {
    /// x·Wᵀ + b for N×in input, out×in weights and an optional bias of `out` values (PyTorch's
    /// `linear`). The bias is written into the result first and the product added onto it, so
    /// no broadcast pass adds it and BLAS skips zeroing the output.
    public static func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) throws -> Tensor {
        guard x.rank == 2, weight.rank == 2, x.shape[1] == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: "linear", "expected N×in input and out×in weights", x.shape, weight.shape)
        }
        let (n, k, o) = (x.shape[0], x.shape[1], weight.shape[0])
        if let bias, bias.shape != [o] {
            throw TensorError.shapeMismatch(op: "linear", "the bias needs one value per output", bias.shape, weight.shape)
        }
        _ = try Shape.count([n, o], op: "linear")
        var out = Tensor(uninitializedShape: [n, o])
        let po = out.storage.pointer
        if let bias {
            let pb = bias.storage.pointer
            Parallel.forRanges(n, cost: o) { rows in
                for r in rows { (po + r * o).update(from: pb, count: o) }
            }
        }
        gemm(m: n, n: o, k: k, a: x.storage.pointer, transposeA: false, b: weight.storage.pointer, transposeB: true,
             c: po, accumulate: bias != nil)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        guard recording(inputs) else { return out }
        let (xd, wd) = (x.detached(), weight.detached())
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        out.record(inputs) { g in
            let pg = g.storage.pointer
            var dx: Tensor?, dw: Tensor?, db: Tensor?
            if needX {
                let d = Tensor(uninitializedShape: [n, k])
                gemm(m: n, n: k, k: o, a: pg, transposeA: false, b: wd.storage.pointer, transposeB: false, c: d.storage.pointer)
                dx = d
            }
            if needW {
                let d = Tensor(uninitializedShape: [o, k])
                gemm(m: o, n: k, k: n, a: pg, transposeA: true, b: xd.storage.pointer, transposeB: false, c: d.storage.pointer)
                dw = d
            }
            if needB {
                let d = Tensor(uninitializedShape: [o])
                columnSums(pg, rows: n, columns: o, into: d.storage.pointer)
                db = d
            }
            return [dx, dw, db]
        }
        return out
    }

    /// op(a) · op(b) for matrices, with op the transpose where asked. The primitive behind
    /// `matmul` and `Linear` (which multiplies by the weight transposed, without a copy).
    public static func matmul2D(_ a: Tensor, _ b: Tensor, transposeA: Bool = false,
                                transposeB: Bool = false) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else {
            throw TensorError.shapeMismatch(op: "matmul", "expected two matrices", a.shape, b.shape)
        }
        let (m, ka) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard ka == kb else {
            throw TensorError.shapeMismatch(
                op: "matmul", "inner dimensions differ (\(ka) vs \(kb))",
                transposeA ? a.shape.reversed() : a.shape, transposeB ? b.shape.reversed() : b.shape)
        }
        _ = try Shape.count([m, n], op: "matmul")
        return batchedProduct(a, b, batch: 1, m: m, n: n, k: ka, transposeA: transposeA,
                              transposeB: transposeB, broadcastA: false, broadcastB: false, outShape: [m, n])
    }

    /// Products of `batch` matrix pairs laid out contiguously; a broadcast operand is one matrix
    /// used for every pair. Records the gradient, which sums over the batch for a broadcast operand.
    static func batchedProduct(
        _ a: Tensor, _ b: Tensor, batch: Int, m: Int, n: Int, k: Int,
        transposeA: Bool, transposeB: Bool, broadcastA: Bool, broadcastB: Bool, outShape: [Int]
    ) -> Tensor {
        var out = Tensor(uninitializedShape: outShape)
        gemm(batch: batch, m: m, n: n, k: k,
             a: a.storage.pointer, transposeA: transposeA, strideA: broadcastA ? 0 : m * k,
             b: b.storage.pointer, transposeB: transposeB, strideB: broadcastB ? 0 : k * n,
             c: out.storage.pointer, strideC: m * n)
        guard recording(a, b) else { return out }
        let (ad, bd) = (a.detached(), b.detached())
        let (needA, needB) = (a.requiresGrad, b.requiresGrad)
        out.record([a, b]) { g in
            var da: Tensor?, db: Tensor?
            let pg = g.storage.pointer
            if needA {
                // dA' = G · B'ᵀ; stored transposed when A was.
                let d = Tensor(uninitializedShape: ad.shape)
                if transposeA {
                    gemm(batch: batch, m: k, n: m, k: n, a: bd.storage.pointer, transposeA: transposeB,
                         strideA: broadcastB ? 0 : k * n, b: pg, transposeB: true, strideB: m * n,
                         c: d.storage.pointer, strideC: broadcastA ? 0 : m * k)
                } else {
                    gemm(batch: batch, m: m, n: k, k: n, a: pg, transposeA: false, strideA: m * n,
                         b: bd.storage.pointer, transposeB: !transposeB, strideB: broadcastB ? 0 : k * n,
                         c: d.storage.pointer, strideC: broadcastA ? 0 : m * k)
                }
                da = d
            }
            if needB {
                // dB' = A'ᵀ · G; stored transposed when B was.
                let d = Tensor(uninitializedShape: bd.shape)
                if transposeB {
                    gemm(batch: batch, m: n, n: k, k: m, a: pg, transposeA: true, strideA: m * n,
                         b: ad.storage.pointer, transposeB: transposeA, strideB: broadcastA ? 0 : m * k,
                         c: d.storage.pointer, strideC: broadcastB ? 0 : k * n)
                } else {
                    gemm(batch: batch, m: k, n: n, k: m, a: ad.storage.pointer, transposeA: !transposeA,
                         strideA: broadcastA ? 0 : m * k, b: pg, transposeB: false, strideB: m * n,
                         c: d.storage.pointer, strideC: broadcastB ? 0 : k * n)
                }
                db = d
            }
            return [da, db]
        }
        return out
    }

    /// NumPy's `matmul` (`@`): vectors are promoted and the added axis dropped; a stack of
    /// matrices times a matrix folds the stack into one product; two stacks multiply pairwise.
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank >= 1, b.rank >= 1 else {
            throw TensorError.shapeMismatch(op: "matmul", "scalars cannot be multiplied with @", a.shape, b.shape)
        }
        if a.rank == 1 || b.rank == 1 {
            let a2 = a.rank == 1 ? a.reshapedUnchecked([1, a.count]) : a
            let b2 = b.rank == 1 ? b.reshapedUnchecked([b.count, 1]) : b
            do {
                let r = try matmul(a2, b2)
                var s = r.shape
                if b.rank == 1 { s.removeLast() }
                if a.rank == 1 { s.remove(at: s.count - (b.rank == 1 ? 1 : 2)) }
                return r.reshapedUnchecked(s)
            } catch TensorError.shapeMismatch(let op, let detail, _, _) {
                throw TensorError.shapeMismatch(op: op, detail, a.shape, b.shape)
            }
        }
        let (m, k) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (kb, n) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        guard k == kb else {
            throw TensorError.shapeMismatch(op: "matmul", "inner dimensions differ (\(k) vs \(kb))", a.shape, b.shape)
        }
        if b.rank == 2 {
            // A stack of matrices times one matrix is a single product of a taller matrix.
            let flat = a.reshapedUnchecked([Shape.product(a.shape.dropLast()), k])
            let r = try matmul2D(flat, b)
            return r.reshapedUnchecked(Array(a.shape.dropLast()) + [n])
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let broadcastA = batchA.allSatisfy { $0 == 1 }, broadcastB = batchB.allSatisfy { $0 == 1 }
        let batchShape: [Int]
        if batchA == batchB { batchShape = batchA } else if broadcastA { batchShape = batchB } else if broadcastB {
            batchShape = batchA
        } else {
            throw TensorError.shapeMismatch(op: "matmul", "batch dimensions differ", a.shape, b.shape)
        }
        let outShape = batchShape + [m, n]
        _ = try Shape.count(outShape, op: "matmul")
        return batchedProduct(
            a, b, batch: Shape.product(batchShape), m: m, n: n, k: k, transposeA: false, transposeB: false,
            broadcastA: broadcastA && batchA != batchB, broadcastB: broadcastB && batchA != batchB, outShape: outShape)
    }
}
