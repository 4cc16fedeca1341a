#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// Updates parameters from their gradients. Frozen parameters and parameters without a
/// gradient are skipped.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// One update of every parameter in `parameters` that has a gradient.
    func step(_ parameters: [Parameter])
}

extension Optimizer {
    /// Forgets the gradients of `parameters` before the next backward pass.
    public func zeroGrad(_ parameters: [Parameter]) {
        for p in parameters { p.value.clearGrad() }
    }
}

/// An optimizer's state for one parameter: its buffers and how many steps it has taken.
final class Slot {
    var tensors: [Tensor]
    var steps = 0
    init(_ tensors: [Tensor]) { self.tensors = tensors }
}

/// Per-parameter optimizer state, keyed by identity. Each entry keeps its parameter alive, so an
/// identifier is never reused for another parameter while state for it exists.
struct SlotTable {
    private var slots: [ObjectIdentifier: (owner: Parameter, slot: Slot)] = [:]

    /// The slot of `p`, created with `buffers` zero tensors of its shape on first use.
    mutating func slot(for p: Parameter, buffers: Int) -> Slot {
        if let s = slots[ObjectIdentifier(p)] { return s.slot }
        let shape = p.value.shape
        let slot = Slot((0..<buffers).map { _ in Tensor.full(validated: shape, 0) })
        slots[ObjectIdentifier(p)] = (p, slot)
        return slot
    }
}

/// Stochastic gradient descent with PyTorch's semantics: weight decay added to the gradient,
/// momentum buffer b ← μb + g (started at g), Nesterov's variant optional.
public final class SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float, weightDecay: Float, nesterov: Bool
    private var state = SlotTable()

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        (self.learningRate, self.momentum, self.weightDecay, self.nesterov) = (learningRate, momentum, weightDecay, nesterov)
    }

    public func step(_ parameters: [Parameter]) {
        let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, self.nesterov)
        for p in parameters where !p.isFrozen {
            guard let grad = p.grad, grad.shape == p.value.shape else { continue }
            guard mu != 0 else {
                grad.withUnsafeBufferPointer { g in
                    p.value.withUnsafeMutableBufferPointer { w in
                        Parallel.forRanges(w.count) { r in
                            for i in r { w[i] -= lr * (g[i] + wd * w[i]) }
                        }
                    }
                }
                continue
            }
            let slot = state.slot(for: p, buffers: 1)
            // The first step starts the buffer at the gradient (b = 0·μ + d); the loops below
            // branch on nothing per element, so they vectorise.
            let keep: Float = slot.steps == 0 ? 0 : mu, look: Float = nesterov ? mu : 0
            slot.steps += 1
            grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    slot.tensors[0].withUnsafeMutableBufferPointer { b in
                        Parallel.forRanges(w.count) { r in
                            if nesterov {
                                for i in r {
                                    let d = g[i] + wd * w[i]
                                    b[i] = keep * b[i] + d
                                    w[i] -= lr * (d + look * b[i])
                                }
                            } else {
                                for i in r {
                                    let d = g[i] + wd * w[i]
                                    b[i] = keep * b[i] + d
                                    w[i] -= lr * b[i]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adam (Kingma & Ba) with bias correction, as PyTorch's `Adam` (L2 weight decay in the gradient).
public final class Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var state = SlotTable()

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        (self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay) =
            (learningRate, beta1, beta2, epsilon, weightDecay)
    }

    public func step(_ parameters: [Parameter]) {
        let (lr, b1, b2, eps, wd) = (learningRate, beta1, beta2, epsilon, weightDecay)
        for p in parameters where !p.isFrozen {
            guard let grad = p.grad, grad.shape == p.value.shape else { continue }
            let slot = state.slot(for: p, buffers: 2)
            slot.steps += 1
            let t = Float(slot.steps)
            let stepSize = lr / (1 - powf(b1, t)), c2root = (1 - powf(b2, t)).squareRoot()
            // Take the moments out of the slot so each is uniquely referenced while written.
            var (mean, square) = (slot.tensors[0], slot.tensors[1])
            slot.tensors = []
            defer { slot.tensors = [mean, square] }
            grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    mean.withUnsafeMutableBufferPointer { m in
                        square.withUnsafeMutableBufferPointer { v in
                            for i in 0..<w.count {
                                let d = g[i] + wd * w[i]
                                m[i] = b1 * m[i] + (1 - b1) * d
                                v[i] = b2 * v[i] + (1 - b2) * d * d
                                w[i] -= stepSize * m[i] / (v[i].squareRoot() / c2root + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// L2-SP (Li et al. 2018): keeps transferred weights near the values they started from.
///
/// `penalty` is (α/2)·Σ‖w − w⁰‖² over the anchored parameters plus (β/2)·Σ‖w‖² over `fresh`
/// ones (new layers with no starting point to keep).
public struct L2SP {
    private let anchors: [(parameter: Parameter, start: Tensor)]

    /// Remembers the current values of `parameters` as the anchor.
    public init(anchoring parameters: [Parameter]) {
        anchors = parameters.map { ($0, $0.value.detached()) }
    }

    public func penalty(alpha: Float, fresh: [Parameter] = [], beta: Float = 0) throws -> Tensor {
        var total = Tensor(scalar: 0)
        for (p, start) in anchors where !p.isFrozen && alpha != 0 {
            let d = try p.value - start
            total = try total + (d * d).sum() * (alpha / 2)
        }
        for p in fresh where !p.isFrozen && beta != 0 {
            total = try total + (p.value * p.value).sum() * (beta / 2)
        }
        return total
    }
}

/// An exponential moving average of weights over the training steps (Polyak averaging, as
/// PyTorch's `AveragedModel` with an EMA or timm's `ModelEma` keep it): after every step
/// a ← d·a + (1 − d)·w, started at the weights after the first step, so about the last
/// 1/(1 − d) steps count. Where the iterates oscillate — the two players of an adversarial game —
/// the average sits nearer the middle than the last iterate does (Yazıcı et al. 2019).
public final class WeightAverage {
    public let decay: Float
    private let parameters: [Parameter]
    private var averages: [Tensor] = []

    /// Averages the trainable ones of `parameters`; `decay` in [0, 1).
    public init(_ parameters: [Parameter], decay: Float) {
        self.parameters = parameters.filter { !$0.isFrozen }
        self.decay = decay
    }

    /// Steps averaged so far.
    public private(set) var steps = 0

    /// Takes the weights after an optimiser step into the average.
    public func update() {
        steps += 1
        guard steps > 1 else {
            // Shares the weights' storage until either is written (copy on write).
            averages = parameters.map { $0.value.detached() }
            return
        }
        let d = decay
        for (i, p) in parameters.enumerated() {
            p.value.withUnsafeBufferPointer { w in
                averages[i].withUnsafeMutableBufferPointer { a in
                    Parallel.forRanges(a.count) { r in
                        for j in r { a[j] = d * a[j] + (1 - d) * w[j] }
                    }
                }
            }
        }
    }

    /// Exchanges the averaged weights and the current ones (twice restores them).
    public func swap() {
        guard steps > 0 else { return }
        for (i, p) in parameters.enumerated() {
            let current = p.value.detached()
            p.assign(averages[i])
            averages[i] = current
        }
    }

    /// Runs `body` with the averaged weights in place, then puts the current ones back.
    public func withAverage<R>(_ body: () throws -> R) rethrows -> R {
        swap()
        defer { swap() }
        return try body()
    }

    /// Leaves the averaged weights in the model (unless a value is not finite: then the last
    /// iterate stays, as a diverged run leaves it).
    public func apply() {
        guard steps > 0, averages.allSatisfy({ t in t.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) } }) else { return }
        swap()
        averages = []
        steps = 0
    }
}
