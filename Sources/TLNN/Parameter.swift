import TLEngine

/// The storage type a state entry has in a weight file.
public enum StoredType: Sendable {
    case float32
    /// Integer counters such as batch-norm's `num_batches_tracked` (int64 in PyTorch).
    case int64
}

/// A tensor a layer owns: a learnable weight, or a buffer such as batch-norm's running mean.
///
/// Identity matters: views of a model hold the same `Parameter` objects, so training through
/// a view moves the weights of the whole model. A frozen parameter's value is detached from the
/// autodiff graph, so no gradient is computed for it and optimizers leave it alone.
public final class Parameter {
    /// The current value; a leaf of the autodiff graph while trainable.
    public var value: Tensor
    /// Buffers are saved and loaded but never trained.
    public let isBuffer: Bool
    public let storedType: StoredType

    public init(_ value: Tensor, isBuffer: Bool = false, storedType: StoredType = .float32) {
        self.isBuffer = isBuffer
        self.storedType = storedType
        self.value = isBuffer ? value.detached() : value.requiringGrad()
    }

    /// Whether training leaves this parameter unchanged. Buffers are always frozen.
    public var isFrozen: Bool {
        get { !value.requiresGrad }
        set {
            guard !isBuffer, newValue != isFrozen else { return }
            value = newValue ? value.detached() : value.requiringGrad()
        }
    }

    /// The gradient from the last `backward()`, if any.
    public var grad: Tensor? { value.grad }

    /// Replaces the values, keeping this parameter's identity and frozen state.
    public func assign(_ newValue: Tensor) {
        value = isFrozen ? newValue.detached() : newValue.detached().requiringGrad()
    }

    /// A new parameter with a copy of the values and the same frozen state.
    public func copy() -> Parameter {
        let p = Parameter(value.detached(), isBuffer: isBuffer, storedType: storedType)
        p.isFrozen = isFrozen
        return p
    }
}
