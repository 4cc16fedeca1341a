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
