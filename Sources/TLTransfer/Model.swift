import TLEngine
import TLNN

/// A model bound to a name in the language: a training method with its network, and the shape
/// of one input sample when known (for the model table's output shapes). A class: `m2 = m` names
/// the same model.
public final class Model {
    public let method: any TrainingMethod
    public var inputShape: [Int]?

    public init(method: any TrainingMethod, inputShape: [Int]? = nil) {
        self.method = method
        self.inputShape = inputShape
    }

    /// A model of `network` (a layer, a view, a whole network): its own method when the network
    /// is one (a domain-adversarial network, an embedder, …), else a plain classifier.
    public convenience init(_ network: any Layer, inputShape: [Int]? = nil) {
        self.init(method: network as? any TrainingMethod ?? Classifier(network), inputShape: inputShape)
    }

    /// The network `m(x)` applies and training changes.
    public var network: any Layer { method.network }

    /// The layers a user would count: a sequential network's, or the sum over a composite's parts.
    public var layerCount: Int {
        if network is Sequential { return layers.count }
        let parts = method.parts(inputShape: inputShape)
        guard !parts.isEmpty else { return layers.count }
        return parts.reduce(0) { total, part in
            switch part.value {
            case .model(let m): total + m.layerCount
            case .models(let ms): total + ms.reduce(0) { $0 + $1.layerCount }
            }
        }
    }

    /// A deep copy with its own weights.
    public func clone() -> Model { Model(method: method.clone(), inputShape: inputShape) }

    /// The network's layers when it is a `Sequential`, else the network itself.
    public var layers: [(name: String, layer: any Layer)] {
        if let s = network as? Sequential { return s.entries }
        return [("0", network)]
    }

    /// Output shape (one sample, no batch axis) after each layer, when the input shape is known.
    public func outputShapes() -> [[Int]?] {
        guard var shape = inputShape else { return layers.map { _ in nil } }
        var result: [[Int]?] = []
        var failed = false
        GradMode.withoutGrad {
            for (_, layer) in layers {
                guard !failed, let x = try? Tensor.zeros([1] + shape) else {
                    result.append(nil)
                    continue
                }
                layer.setTraining(false)
                if let y = try? layer.forward(x) {
                    shape = Array(y.shape.dropFirst())
                    result.append(shape)
                } else {
                    failed = true
                    result.append(nil)
                }
            }
        }
        return result
    }

    /// The input shape of each layer (one dummy forward pass for all of them).
    public func inputShapes() -> [[Int]?] {
        [inputShape] + outputShapes().dropLast()
    }

    /// The input shape of a slice `layers[range]`, given this model's.
    public func inputShape(ofLayersFrom index: Int) -> [Int]? {
        guard index > 0 else { return inputShape }
        return index - 1 < layers.count ? outputShapes()[index - 1] : nil
    }
}
