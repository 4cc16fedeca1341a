import TLEngine
import TLNN

/// Model builders shared by the language and the experiments.
public enum Models {
    /// A small LeNet-style CNN for C×H×W images: `features` (conv 5×5 → pool → conv 5×5 → pool →
    /// flatten) then the classifier (linear → ReLU → linear).
    public static func cnn(classes: Int, input: [Int], using generator: inout RandomGenerator) throws -> Sequential {
        guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
            throw TensorError.invalidArgument(op: "cnn", "input must be [channels, height, width], got \(input)")
        }
        guard classes >= 1 else { throw TensorError.invalidArgument(op: "cnn", "classes must be at least 1") }
        let (c, h, w) = (input[0], input[1], input[2])
        let h1 = (h - 4) / 2, w1 = (w - 4) / 2, h2 = (h1 - 4) / 2, w2 = (w1 - 4) / 2
        guard h2 >= 1, w2 >= 1 else {
            throw TensorError.invalidArgument(op: "cnn", "images of \(h)×\(w) are too small for two 5×5 convolutions and pools (at least 16×16)")
        }
        return Sequential([
            try Conv2d(c, 16, kernel: 5, using: &generator), Activation(.relu), try MaxPool2d(2),
            try Conv2d(16, 32, kernel: 5, using: &generator), Activation(.relu), try MaxPool2d(2), Flatten(),
            try Linear(32 * h2 * w2, 128, using: &generator), Activation(.relu), try Linear(128, classes, initialisation: .output, using: &generator),
        ])
    }

    /// The index where `cnn`'s classifier starts (its `features` are `net[0:7]`).
    public static let cnnFeatureLayers = 7

    /// A multilayer perceptron through `sizes` with an activation between linear layers.
    /// `last`: how its last layer's weights are drawn (`.output` unless an activation follows it).
    public static func mlp(_ sizes: [Int], activation: Activation.Kind = .relu, dropout: Float = 0, last lastInitialisation: WeightInitialisation = .output,
                           using generator: inout RandomGenerator) throws -> Sequential {
        guard sizes.count >= 2 else { throw TensorError.invalidArgument(op: "mlp", "needs at least an input and an output size") }
        var layers: [any Layer] = []
        layers.append(Flatten())  // images or rows alike become rows
        for i in 0..<(sizes.count - 1) {
            let last = i == sizes.count - 2
            layers.append(try Linear(sizes[i], sizes[i + 1], initialisation: last ? lastInitialisation : .he, using: &generator))
            if !last {
                layers.append(Activation(activation))
                if dropout > 0 { layers.append(try Dropout(dropout)) }
            }
        }
        return Sequential(layers)
    }
}
