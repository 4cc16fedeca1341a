import TLEngine

/// Training objectives, built from the engine's primitives (so they need no gradient code).
public enum Loss {
    /// Mean cross-entropy of N×C logits against class ids (PyTorch's `cross_entropy`).
    public static func crossEntropy(_ logits: Tensor, _ labels: [Int]) throws -> Tensor {
        guard logits.rank == 2 else {
            throw TensorError.badShape(op: "cross_entropy", logits.shape, "expected N×C logits")
        }
        guard labels.count == logits.shape[0] else {
            throw TensorError.invalidArgument(
                op: "cross_entropy", "\(labels.count) labels for a batch of \(logits.shape[0])")
        }
        return try -(logits.logSoftmax(axis: 1).gatherColumns(labels).mean())
    }

    /// KL(p₀ ‖ softmax(logits)) averaged over the batch: keeps a model's predictions close to a
    /// teacher's `teacherProbabilities` (rows sum to 1; the teacher gets no gradient).
    public static func distillation(_ logits: Tensor, teacherProbabilities p0: Tensor) throws -> Tensor {
        guard logits.shape == p0.shape, logits.rank == 2 else {
            throw TensorError.shapeMismatch(op: "distillation", "logits and teacher probabilities differ", logits.shape, p0.shape)
        }
        let target = p0.detached()
        let logTarget = try (target + 1e-12).log()
        return try (target * (logTarget - logits.logSoftmax(axis: 1))).sum(axis: 1).mean()
    }

    /// Mean cross-entropy of N×C logits against target distributions (rows of `targets` sum to 1;
    /// they get no gradient): −(1/N) Σᵢ Σ_c targets[i,c] · log softmax(logits)[i,c]. Against the
    /// uniform distribution it is SDT's domain confusion; against soft labels, its soft-label loss.
    public static func softCrossEntropy(_ logits: Tensor, targets: Tensor) throws -> Tensor {
        guard logits.rank == 2, logits.shape == targets.shape else {
            throw TensorError.shapeMismatch(op: "soft_cross_entropy", "logits and target distributions differ", logits.shape, targets.shape)
        }
        return try -((targets.detached() * logits.logSoftmax(axis: 1)).sum(axis: 1).mean())
    }

    /// Scale-invariant mean squared error (Eigen et al. 2014; the reconstruction loss of Domain
    /// Separation Networks), per sample over its k values and averaged over the batch:
    /// (1/k)‖x − x̂‖² − (1/k²)((x − x̂)·1)², the variance of the error. A reconstruction that is
    /// right up to a constant shift of the whole image costs nothing, so the model spends its
    /// capacity on shapes rather than on overall brightness. Shapes must have equal counts per sample.
    public static func scaleInvariantMSE(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        let n = prediction.shape.first ?? 0
        guard prediction.rank >= 1, target.shape.first == n, prediction.count == target.count, n > 0 else {
            throw TensorError.shapeMismatch(op: "scale_invariant_mse", "prediction and target differ", prediction.shape, target.shape)
        }
        let d = try prediction.reshapedRows(prediction.count / n) - target.reshapedRows(target.count / n)
        let meanSquare = try (d * d).mean(axis: 1), meanError = try d.mean(axis: 1)
        return try (meanSquare - meanError * meanError).mean()
    }

    /// The difference loss of Domain Separation Networks: the mean squared entry of H_aᵀH_b, with
    /// H_a, H_b a batch of two codes (one row per sample), each row scaled to unit length — zero
    /// when every dimension of one code is orthogonal, over the batch, to every dimension of the
    /// other. With unit rows, shrinking the codes cannot lower it.
    public static func difference(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let n = a.shape.first ?? 0
        guard n > 0, b.shape.first == n else {
            throw TensorError.shapeMismatch(op: "difference", "the two codes must have one row per sample each", a.shape, b.shape)
        }
        let ua = try a.reshapedRows(a.count / n).unitRows(), ub = try b.reshapedRows(b.count / n).unitRows()
        let product = try Tensor.matmul2D(ua, ub, transposeA: true)
        return try (product * product).mean()
    }

    /// PixelDA's content-similarity loss: the mean squared error between a generated and its
    /// source image over the source's foreground — the pixels brighter than half the image's
    /// brightest (a digit's strokes) — per image, averaged over the batch. The generator may
    /// repaint the background but must keep the shape the label depends on. (The paper's
    /// pairwise form ignores a uniform shift: with it, painting everything black costs nothing.)
    public static func foregroundMSE(_ generated: Tensor, _ source: Tensor) throws -> Tensor {
        let n = source.shape.first ?? 0
        guard n > 0, generated.shape == source.shape else {
            throw TensorError.shapeMismatch(op: "foreground_mse", "generated and source images differ", generated.shape, source.shape)
        }
        let k = source.count / n, values = source.scalars
        var mask = [Float](repeating: 0, count: source.count)
        for i in 0..<n {
            let threshold = (values[(i * k)..<((i + 1) * k)].max() ?? 0) / 2
            for j in (i * k)..<((i + 1) * k) where values[j] > threshold { mask[j] = 1 }
        }
        let m = try Tensor(shape: [n, k], values: mask)
        let d = try (generated.reshapedRows(k) - source.reshapedRows(k)) * m
        return try ((d * d).sum(axis: 1) / (m.sum(axis: 1) + 1e-6)).mean()
    }

    /// Mean squared error (shapes broadcast).
    public static func mse(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        let d = try prediction - target
        return try (d * d).mean()
    }

    /// Mean binary cross-entropy from logits, in the stable form
    /// max(x, 0) − x·t + log(1 + e^−|x|) (PyTorch's `binary_cross_entropy_with_logits`).
    public static func binaryCrossEntropy(logits: Tensor, targets: Tensor) throws -> Tensor {
        guard logits.shape == targets.shape else {
            throw TensorError.shapeMismatch(op: "binary_cross_entropy", "logits and targets differ", logits.shape, targets.shape)
        }
        let softplus = try (-logits.abs()).exp() + 1
        return try (logits.relu() - logits * targets + softplus.log()).mean()
    }

    /// Hinge loss for embeddings: for each sample with compatibility scores s (one per class),
    /// max(0, margin − s[y] + max over m ≠ y of s[m]), averaged over the batch.
    public static func marginRanking(scores: Tensor, labels: [Int], margin: Float) throws -> Tensor {
        guard scores.rank == 2, scores.shape[1] >= 2 else {
            throw TensorError.badShape(op: "margin_ranking", scores.shape, "expected N×C scores with at least two classes")
        }
        let (n, c) = (scores.shape[0], scores.shape[1])
        let positive = try scores.gatherColumns(labels)
        // Push the true class out of the running for the "best wrong class".
        var mask = try Tensor.zeros([n, c])
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<n { m[i * c + labels[i]] = -Float.greatestFiniteMagnitude }
        }
        let negative = try (scores + mask).max(axis: 1)
        return try (margin - positive + negative).relu().mean()
    }
}

extension Tensor {
    /// Each row of a matrix divided by its length (rows of zeros stay zero): cosines by product.
    public func unitRows() throws -> Tensor {
        try self / ((self * self).sum(axis: 1, keepDims: true) + 1e-12).sqrt()
    }
}
