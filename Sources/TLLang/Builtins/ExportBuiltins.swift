import Foundation
import TLData
import TLEngine
import TLNN
import TLTransfer

/// Taking a model on to PyTorch.
enum ExportBuiltins {
    /// Samples `export` runs through the model when not given.
    static let defaultSamples = 4

    /// The batch given to `input=`, or drawn for the model's input shape (uniform in [0, 1), from a
    /// generator of its own so that exporting leaves seed()'s draws alone).
    static func inputs(_ args: Arguments, _ m: Model) throws -> Tensor {
        switch args.value("input") {
        case .none:
            guard let shape = m.inputShape else {
                throw args.error("the model's input shape is not known yet; give input= a batch of inputs (a tensor) or a dataset", at: "input")
            }
            var generator = RandomGenerator(seed: 0)
            return try Tensor.rand([defaultSamples] + shape, using: &generator)
        case .dataset(let d):
            guard d.count > 0 else { throw args.error("the dataset is empty", at: "input") }
            return try d.subset(Array(0..<Swift.min(d.count, 8))).x
        case .tensor(let t):
            if let shape = m.inputShape, t.shape == shape { return try t.reshaped([1] + shape) }
            guard t.rank >= 2, t.shape[0] > 0 else {
                throw args.error(for: "input", expected: "a batch of inputs (N×…)", got: .tensor(t))
            }
            return t
        case let v:
            throw args.error(for: "input", expected: "a tensor or a dataset", got: v)
        }
    }

    static let all: [Builtin] = [
        Builtin("export", [ModelBuiltins.model, .required("dir", .string, "a folder, created if missing"),
                           .optional("input", .any, .none, keyword: true, "a batch (a tensor) or a dataset whose first 8 samples to run; 4 random inputs of the model's input shape by default")],
                group: "models",
                help: "Writes the model for PyTorch into a folder: model.py (an nn.Module with tl's state_dict names: build(), load_weights()), weights.safetensors, inputs.npy, tl's outputs.npy for them, and check.py, which loads the weights with strict=True and compares PyTorch's outputs with tl's (exit 0 when they agree to 1e-5). Every kind of model: sequential, views, ResNets, attach()ed, sdt, dsn, pixelda, multitask, progressive, embedders, conse, autoencoders, LoRA and adapters.",
                example: "export(mlp([4, 8, 3]), \"/tmp/tl-export-example\")") { args in
            let m = try args.model("m")
            let dir = try args.string("dir")
            guard !dir.isEmpty else { throw args.error(for: "dir", expected: "a folder name", got: .string(dir)) }
            // "net.py" or "model.pt" is a file name: the files would land in a folder called so.
            let name = dir.split(separator: "/").last.map(String.init) ?? dir
            if let dot = name.lastIndex(of: "."), [".py", ".pt", ".pth", ".safetensors", ".onnx", ".npz", ".npy", ".ckpt", ".bin"].contains(name[dot...].lowercased()) {
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) || !isDirectory.boolValue {
                    throw args.error("export writes a folder (model.py, weights.safetensors, inputs.npy, outputs.npy, check.py); '\(name)' names a file — give a folder such as \"\((dir as NSString).deletingPathExtension)\"", at: "dir")
                }
            }
            let x = try inputs(args, m)
            let network = m.network
            let y: Tensor
            do {
                network.setTraining(false)
                y = try GradMode.withoutGrad { try network.forward(x) }
            } catch {
                throw args.error("the inputs (\(Shape.describe(x.shape))) do not go through the model: \(error)", at: "input")
            }
            let description = "A tl " + ModelTable.summaryLine(m).replacingOccurrences(of: "model · ", with: "model: ")
            let written = try PyTorchExport.write(network, description: description, inputs: x, outputs: y, to: dir)
            args.interpreter.output("wrote \(dir)/: model.py, weights.safetensors (\(ModelTable.count(written.parameters)) parameters), inputs.npy and outputs.npy (\(x.shape[0]) samples), check.py — python3 \(dir)/check.py compares PyTorch's outputs with tl's\n")
            return .none
        },
    ]
}
