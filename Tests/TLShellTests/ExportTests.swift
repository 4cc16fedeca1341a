import Foundation
import Testing
@testable import TLLang
@testable import TLShell

/// A Python 3 to compile and inspect exported code with (scripts/setup --tests installs one).
let python3: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { access($0, X_OK) == 0 }

/// `export` writes, for every kind of model, Python that compiles and builds a module with exactly
/// the weights' state_dict names and shapes (checked without PyTorch by Tests/Fixtures/
/// export_names.py; scripts/interop-check runs every check.py with PyTorch).
@Suite(.serialized) struct ExportTests {
    static let kinds = ["cnn", "view", "mlp", "sequential", "resnet", "residual", "dann", "sdt", "dsn", "pixelda", "multitask",
                        "progressive", "progressive-cnn", "embedder", "attribute-classifier", "conse", "autoencoder", "autoencoder-conv", "lora", "adapter", "resnet-lora"]

    /// Runs the export script once for the suite, into a directory of its own.
    static let exported: Result<String, any Error> = {
        let dir = NSTemporaryDirectory() + "tl-export-\(getpid())"
        do {
            let script = try String(contentsOfFile: packageRoot + "/Tests/Interop/export-kinds.tl", encoding: .utf8)
            let capture = Capture()
            let session = Session(console: capture.console)
            guard session.run(Source(name: "export-kinds.tl", text: "out_dir = \"\(dir)\"\n" + script)) == .ok else {
                return .failure(TestFailure(description: "export-kinds.tl failed: \(capture.err)"))
            }
            return .success(dir)
        } catch {
            return .failure(error)
        }
    }()

    struct TestFailure: Error, CustomStringConvertible { let description: String }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let python = try #require(python3, "python3 is needed to check exported code (scripts/setup --tests installs it)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(arguments: kinds)
    func exportedCodeCompilesAndHasTheWeightsNames(_ kind: String) throws {
        let dir = try ExportTests.exported.get() + "/" + kind
        for file in ["model.py", "weights.safetensors", "inputs.npy", "outputs.npy", "check.py"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + file), "\(kind): \(file)")
        }
        let compiled = try run(["-m", "py_compile", dir + "/model.py", dir + "/check.py"])
        #expect(compiled.status == 0, "\(kind): \(compiled.output)")
        let names = try run([packageRoot + "/Tests/Fixtures/export_names.py", dir])
        #expect(names.status == 0, "\(kind): \(names.output)")
    }

    /// The name check is not a formality: a layer of the wrong size or a misnamed part fails it.
    @Test func theNameCheckCatchesMismatches() throws {
        let source = try ExportTests.exported.get() + "/cnn"
        for (from, to) in [("nn.Linear(128, 10)", "nn.Linear(128, 11)"), ("nn.Conv2d(3, 16, 5)", "nn.Conv2d(3, 16, 5, bias=False)")] {
            let dir = NSTemporaryDirectory() + "tl-export-broken-\(getpid())"
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.copyItem(atPath: source, toPath: dir)
            let model = try String(contentsOfFile: dir + "/model.py", encoding: .utf8)
            #expect(model.contains(from))
            try model.replacingOccurrences(of: from, with: to).write(toFile: dir + "/model.py", atomically: true, encoding: .utf8)
            #expect(try run([packageRoot + "/Tests/Fixtures/export_names.py", dir]).status == 1, "\(to) went unnoticed")
        }
    }

    /// What the module is given and what tl gave back: the inputs' batch and the outputs' shape.
    @Test func inputsAndOutputs() throws {
        let dir = try ExportTests.exported.get()
        #expect(try NPYShape.of(dir + "/cnn/inputs.npy") == [4, 3, 28, 28])
        #expect(try NPYShape.of(dir + "/cnn/outputs.npy") == [4, 10])
        #expect(try NPYShape.of(dir + "/embedder/inputs.npy") == [8, 3, 28, 28])
        #expect(try NPYShape.of(dir + "/view/outputs.npy") == [3, 10])
        let lora = try String(contentsOfFile: dir + "/lora/model.py", encoding: .utf8)
        #expect(lora.contains("TRAINABLE = [") && lora.contains("\"7.lora_A\"") && !lora.contains("\"7.base_layer.weight\""))
    }

    @Test func refusals() throws {
        let file = NSTemporaryDirectory() + "tl-export-file-\(getpid())"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        for (code, message) in [
            ("export(sequential(flatten(), linear(4, 2)), \"/tmp/x\")", "input shape is not known"),
            ("export(mlp([4, 2]), \"/tmp/x\", input=zeros(3, 5))", "do not go through the model"),
            ("export(mlp([4, 2]), \"\(file)\")", "not a directory"),
            ("export(mlp([4, 2]), \"/tmp/x\", input=\"a\")", "'input' must be a tensor or a dataset"),
        ] {
            let capture = Capture()
            let session = Session(console: capture.console)
            #expect(session.run(Source(name: "[1]", text: code)) != .ok, "\(code)")
            #expect(capture.err.contains(message), "\(code): \(capture.err)")
        }
    }
}

/// The shape in an NPY file's header.
enum NPYShape {
    static func of(_ path: String) throws -> [Int] {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)).prefix(128), as: UTF8.self)
        let inside = try #require(text.range(of: "'shape': (").map { text[$0.upperBound...] }?.prefix { $0 != ")" })
        return inside.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}
