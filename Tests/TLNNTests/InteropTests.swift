#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TLEngine
@testable import TLNN

/// The CNN of make_fixtures.py's `model()`, built in tl.
func fixtureCNN(seed: UInt64 = 0) throws -> Sequential {
    var g = RandomGenerator(seed: seed)
    return Sequential([
        try Conv2d(3, 4, kernel: 3, padding: 1, using: &g), try BatchNorm(4), Activation(.relu), try MaxPool2d(2),
        Flatten(), try Linear(4 * 4 * 4, 10, using: &g), Activation(.tanh), try Linear(10, 3, using: &g),
    ])
}

/// A scratch directory under /tmp, one per test.
func scratchDirectory(_ name: String) -> String {
    let dir = "/tmp/tl-tests-\(getpid())-\(name)"
    mkdir(dir, 0o755)
    return dir
}

@Suite struct InteropTests {
    let expected = try! Tensor(shape: [2, 3, 4], values: (0..<24).map { Float($0) / 8 - 1 })

    @Test func stateDictNamesFollowPyTorch() throws {
        let names = try fixtureCNN().namedParameters().map(\.name)
        #expect(names == [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "5.weight", "5.bias", "7.weight", "7.bias",
        ])
    }

    @Test func pytorchWeightsGiveTheSameOutputsAndGradients() throws {
        let io = try Fixtures.load("model_io.safetensors")
        let net = try fixtureCNN()
        try net.loadWeights(from: Fixtures.path("model.safetensors"))
        let y = try net(io.tensor("x"))
        expectClose(y, try io.tensor("y"), tolerance: 1e-4, "training-mode output")
        let loss = try Loss.crossEntropy(y, try io.labels("labels"))
        expectClose(try loss.reshaped([1]), try io.tensor("loss"), tolerance: 1e-5, "loss")
        try loss.backward()
        for (name, p) in net.namedParameters() where !p.isBuffer {
            expectClose(p.grad, try io.tensor("grad.\(name)"), tolerance: 1e-4, "grad of \(name)")
        }
        net.setTraining(false)
        expectClose(try net(io.tensor("x")), try io.tensor("y_eval"), tolerance: 1e-4, "eval output")
    }

    @Test func weightsRoundTripAndPyTorchCanReadThem() throws {
        let dir = scratchDirectory("weights")
        let io = try Fixtures.load("model_io.safetensors")
        let net = try fixtureCNN(seed: 11)
        _ = try net(io.tensor("x"))  // move the batch-norm statistics off their defaults
        net.setTraining(false)
        let y = try GradMode.withoutGrad { try net(io.tensor("x")) }
        try net.saveWeights(to: dir + "/tl.safetensors")
        try Safetensors.write([("x", try io.tensor("x"), .float32), ("y_eval", y, .float32)], to: dir + "/tl_io.safetensors")
        try NPY.write(expected, to: dir + "/tl.npy")
        try NPZ.write([("x", expected), ("v", Tensor([1, 2, 3]))], to: dir + "/tl.npz")

        let copy = try fixtureCNN(seed: 99)
        try copy.loadWeights(from: dir + "/tl.safetensors")
        copy.setTraining(false)
        #expect(try GradMode.withoutGrad { try copy(io.tensor("x")) } == y)
        for ((n1, p1), (n2, p2)) in zip(net.namedParameters(), copy.namedParameters()) {
            #expect(n1 == n2 && p1.value == p2.value)
        }
        // `python Tests/Fixtures/make_fixtures.py --check <dir>` loads these with PyTorch and NumPy.
        print("tl wrote interop files to \(dir)")
    }

    @Test func loadingChecksNamesAndShapesAndChangesNothingOnFailure() throws {
        let net = try fixtureCNN()
        let before = net.namedParameters().map(\.parameter.value)
        var tensors = try Safetensors.read(Fixtures.path("model.safetensors")).tensors
        tensors.removeAll { $0.name == "7.bias" }
        #expect(throws: FileError.self) { try net.loadWeights(tensors, source: "m") }
        tensors.append(("7.bias", try Tensor.zeros([4])))
        #expect(throws: FileError.self) { try net.loadWeights(tensors, source: "m") }
        #expect(net.namedParameters().map(\.parameter.value) == before)
        tensors[tensors.count - 1] = ("7.bias", try Tensor.zeros([3]))
        tensors.append(("extra", try Tensor.zeros([1])))
        #expect(throws: FileError.self) { try net.loadWeights(tensors, source: "m") }
        try net.loadWeights(tensors, source: "m", strict: false)
    }

    @Test func numpyArraysReadExactly() throws {
        for name in ["f4", "f8", "fortran", "bigendian"] {
            #expect(try NPY.read(Fixtures.path("\(name).npy")) == expected, "\(name).npy")
        }
        #expect(try NPY.read(Fixtures.path("i8.npy")) == Tensor(shape: [2, 3], values: [-3, -2, -1, 0, 1, 2]))
        #expect(try NPY.read(Fixtures.path("u1.npy")) == Tensor(shape: [1, 3], values: [0, 7, 255]))
        #expect(try NPY.read(Fixtures.path("b1.npy")) == Tensor([1, 0, 1]))
        let scalar = try NPY.read(Fixtures.path("scalar.npy"))
        #expect(scalar.shape == [] && scalar.scalars == [2.5])
        for name in ["stored.npz", "compressed.npz"] {
            let arrays = try NPZ.read(Fixtures.path(name))
            #expect(arrays.map(\.name) == ["x", "y"], "\(name)")
            #expect(arrays.first?.tensor == expected)
            #expect(arrays.last?.tensor == Tensor([1, 2, 3]))
        }
    }

    @Test func ourArraysRoundTrip() throws {
        let dir = scratchDirectory("arrays")
        for t in [expected, Tensor(scalar: -1.5), Tensor([3, 4]), try Tensor.zeros([0, 3])] {
            try NPY.write(t, to: dir + "/a.npy")
            #expect(try NPY.read(dir + "/a.npy") == t)
            #expect(NPY.encode(t).count % 64 == NPY.encode(t).count % 64)
        }
        // The header pads the data to a 64-byte boundary, as NumPy does.
        let bytes = NPY.encode(expected)
        #expect((bytes.count - expected.count * 4) % 64 == 0)
        try NPZ.write([("a", expected), ("b", Tensor([1]))], to: dir + "/z.npz")
        let z = try NPZ.read(dir + "/z.npz")
        #expect(z.map(\.name) == ["a", "b"] && z[0].tensor == expected)
    }

    @Test func viewsShareWeightsAndCopiesDoNot() throws {
        let net = try fixtureCNN()
        let front = try net.view(0..<3)
        #expect(front.namedParameters().map(\.name).first == "0.weight")
        #expect(front.namedParameters()[0].parameter === net.namedParameters()[0].parameter)
        front.setFrozen(true)
        #expect(net.namedParameters()[0].parameter.isFrozen)
        #expect(!net.namedParameters()[7].parameter.isFrozen)
        let clone = net.copy()
        #expect(clone.namedParameters()[0].parameter !== net.namedParameters()[0].parameter)
        #expect(clone.namedParameters()[0].parameter.value == net.namedParameters()[0].parameter.value)
        #expect(clone.namedParameters()[0].parameter.isFrozen)
        net.namedParameters()[0].parameter.assign(try Tensor.zeros([4, 3, 3, 3]))
        #expect(clone.namedParameters()[0].parameter.value != net.namedParameters()[0].parameter.value)
        #expect(throws: TensorError.self) { try net.view(5..<20) }
    }

    @Test func shapeErrorsNameTheLayer() throws {
        var g = RandomGenerator(seed: 1)
        let net = Sequential([try Linear(784, 10, using: &g)])
        do {
            _ = try net(try Tensor.zeros([2, 2352]))
            Issue.record("expected an error")
        } catch let e as LayerError {
            #expect(e.layer == "0")
            #expect(e.underlying.description.hasPrefix("shape mismatch in linear: input has 2352 features, layer expects 784"))
        }
    }
}
