import TLEngine

/// ResNets as torchvision builds them (He et al., "Deep Residual Learning for Image Recognition", 2016).
public enum ResNet {
    /// Depths `make` builds, with their blocks per stage (He et al. 2016, table 1).
    public static let stages: [Int: [Int]] = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3]]

    /// A ResNet-18 or -34 as torchvision builds it, under torchvision's state_dict names: conv1
    /// (7×7, stride 2), bn1, relu, maxpool (3×3, stride 2), layer1 … layer4 (basic blocks, each
    /// stage after the first halving the size and doubling the channels, 64 → 512), avgpool
    /// (global), flatten and fc. A torchvision checkpoint saved as safetensors loads into it.
    /// Weights are tl's He-uniform draws, batch-norm scales 1 and shifts 0.
    public static func make(depth: Int, classes: Int, inputChannels: Int = 3,
                            using generator: inout RandomGenerator) throws -> Sequential {
        guard let stages = stages[depth] else {
            throw TensorError.invalidArgument(op: "resnet", "depth must be 18 or 34, got \(depth)")
        }
        guard classes >= 1 else { throw TensorError.invalidArgument(op: "resnet", "classes must be at least 1") }
        guard inputChannels >= 1 else { throw TensorError.invalidArgument(op: "resnet", "the input needs at least one channel") }
        var entries: [(name: String, layer: any Layer)] = [
            ("conv1", try Conv2d(inputChannels, 64, kernel: 7, stride: 2, padding: 3, bias: false, using: &generator)),
            ("bn1", try BatchNorm(64)), ("relu", Activation(.relu)),
            ("maxpool", try MaxPool2d(3, stride: 2, padding: 1)),
        ]
        var channels = 64
        for (stage, blocks) in stages.enumerated() {
            let width = 64 << stage
            var stageBlocks: [any Layer] = []
            for block in 0..<blocks {
                let stride = stage > 0 && block == 0 ? 2 : 1
                stageBlocks.append(try basicBlock(channels, width, stride: stride, using: &generator))
                channels = width
            }
            entries.append(("layer\(stage + 1)", Sequential(stageBlocks)))
        }
        entries += [("avgpool", try AdaptiveAvgPool2d(1)), ("flatten", Flatten()),
                    ("fc", try Linear(channels, classes, initialisation: .output, using: &generator))]
        return Sequential(entries: entries)
    }

    /// torchvision's BasicBlock: conv1 (3×3, the stride) → bn1 → relu → conv2 (3×3) → bn2, plus
    /// the input (through "downsample", a strided 1×1 convolution and batch-norm, where the shape
    /// changes), then ReLU.
    static func basicBlock(_ input: Int, _ output: Int, stride: Int, using generator: inout RandomGenerator) throws -> Residual {
        let body = Sequential(entries: [
            ("conv1", try Conv2d(input, output, kernel: 3, stride: stride, padding: 1, bias: false, using: &generator)),
            ("bn1", try BatchNorm(output)), ("relu", Activation(.relu)),
            ("conv2", try Conv2d(output, output, kernel: 3, padding: 1, bias: false, using: &generator)),
            ("bn2", try BatchNorm(output)),
        ])
        let downsample = stride != 1 || input != output
            ? Sequential([try Conv2d(input, output, kernel: 1, stride: stride, bias: false, using: &generator), try BatchNorm(output)])
            : nil
        return try Residual(body, shortcut: downsample, shortcutName: "downsample")
    }
}
