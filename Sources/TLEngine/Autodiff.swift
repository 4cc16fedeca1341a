#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A vertex of the autodiff graph: a leaf that collects `.grad`, or the result of an
/// operation with the closure that turns its gradient into its inputs' gradients.
///
/// Nodes are numbered in creation order, which is a topological order of the graph:
/// `backward()` visits them from the newest down, so a node's gradient is complete before
/// it is passed on.
public final class Node {
    private static let counter = Atomic<Int>(0)

    let id: Int
    let isLeaf: Bool
    /// Accumulated gradient of a leaf (like PyTorch, summed over `backward()` calls).
    var grad: Tensor?
    var inputs: [Node?]
    /// Maps this node's gradient to one gradient per input (nil where not needed).
    var backwardFunction: ((Tensor) -> [Tensor?])?
    /// Gradient being accumulated during one `backward()`.
    var pending: Tensor?
    /// Set once `backward()` has passed through and freed the closure.
    var released = false

    init(leaf: Void = ()) {
        id = Node.counter.wrappingAdd(1, ordering: .relaxed).newValue
        isLeaf = true
        inputs = []
    }

    init(inputs: [Node?], backward: @escaping (Tensor) -> [Tensor?]) {
        id = Node.counter.wrappingAdd(1, ordering: .relaxed).newValue
        isLeaf = false
        self.inputs = inputs
        backwardFunction = backward
    }
}

/// Whether operations record the graph. `withoutGrad` turns recording off for inference.
///
/// The mode belongs to the calling thread, as PyTorch's does: code on one thread that turns
/// recording off never changes what another thread records.
public enum GradMode {
    /// A thread-specific slot: nil (the default) means recording, any value means off.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "cannot create the thread-local grad-mode key")
        return key
    }()

    public static var isEnabled: Bool { pthread_getspecific(key) == nil }

    /// Runs `body` without recording (PyTorch's `no_grad`), restoring the previous mode after.
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
        let saved = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, saved) }
        return try body()
    }
}

extension Tensor {
    /// Whether gradients flow to or through this tensor.
    public var requiresGrad: Bool { node != nil }

    /// The accumulated gradient of a leaf tensor after `backward()`, if any.
    public var grad: Tensor? { node?.grad }

    /// Forgets the accumulated gradient (PyTorch's `zero_grad`, with `set_to_none`).
    public func clearGrad() { node?.grad = nil }

    /// The same values as a new leaf of the graph that collects gradients.
    public func requiringGrad() -> Tensor {
        var t = self
        t.node = Node()
        return t
    }

    /// The same values, cut off from the graph.
    public func detached() -> Tensor {
        var t = self
        t.node = nil
        return t
    }

    /// Whether an operation on these inputs should record a node.
    @inline(__always)
    static func recording(_ a: Tensor) -> Bool { GradMode.isEnabled && a.node != nil }

    @inline(__always)
    static func recording(_ a: Tensor, _ b: Tensor) -> Bool {
        GradMode.isEnabled && (a.node != nil || b.node != nil)
    }

    static func recording(_ inputs: [Tensor]) -> Bool {
        GradMode.isEnabled && inputs.contains { $0.node != nil }
    }

    /// Attaches a graph node to an operation's result.
    @inline(__always)
    mutating func record(_ inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        node = Node(inputs: inputs.map(\.node), backward: backward)
    }

    /// Reverse mode: fills `.grad` of every leaf this tensor depends on.
    ///
    /// Without `seed` the tensor must have one element (a loss); with `seed`, that tensor of the
    /// same shape is the incoming gradient. The graph is freed as it is walked, as PyTorch does
    /// without `retain_graph`, so a second call on the same result throws.
    public func backward(seed: Tensor? = nil) throws {
        guard let root = node else {
            throw TensorError.invalidArgument(
                op: "backward", "this tensor does not depend on any tensor that requires gradients")
        }
        let start: Tensor
        if let seed {
            guard seed.shape == shape else {
                throw TensorError.shapeMismatch(op: "backward", "seed and tensor differ", seed.shape, shape)
            }
            start = seed.detached()
        } else {
            guard count == 1 else {
                throw TensorError.badShape(
                    op: "backward", shape, "gradients start from a one-element tensor (a loss); pass seed: for others")
            }
            start = Tensor(shape: shape, storage: Storage(repeating: 1, count: 1))
        }

        // Collect the nodes this result depends on.
        var order: [Node] = []
        var seen: Set<ObjectIdentifier> = []
        var stack: [Node] = [root]
        while let n = stack.popLast() {
            guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
            if n.released {
                throw TensorError.invalidArgument(
                    op: "backward", "the graph was already used by an earlier backward(); recompute the result")
            }
            order.append(n)
            for case let input? in n.inputs { stack.append(input) }
        }
        order.sort { $0.id > $1.id }

        GradMode.withoutGrad {
            root.pending = start
            for n in order {
                guard let g = n.pending else { continue }
                n.pending = nil
                if n.isLeaf {
                    n.grad = n.grad.map { Tensor.sumSameShape($0, g) } ?? g
                    continue
                }
                guard let backward = n.backwardFunction else { continue }
                let grads = backward(g)
                for (input, gi) in zip(n.inputs, grads) {
                    guard let input, let gi else { continue }
                    input.pending = input.pending.map { Tensor.sumSameShape($0, gi) } ?? gi
                }
                n.backwardFunction = nil
                n.inputs = []
                n.released = true
            }
        }
    }
}
