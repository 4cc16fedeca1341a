// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first: CBLAS/CZlib/CImage/CKernels → TLEngine → TLNN → … → TLShell → TLKernel → tl.
// Each target imports only targets below it (see docs/architecture.md).
let package = Package(
    name: "tl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tl", targets: ["tl"]),
        .library(name: "TLEngine", targets: ["TLEngine"]),
        .library(name: "TLNN", targets: ["TLNN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CReadline", path: "Sources/CReadline",
            providers: [.apt(["libreadline-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]),
        // The Jupyter kernel's transport (ZeroMQ) and message signatures (OpenSSL's HMAC).
        .systemLibrary(
            name: "CZMQ", path: "Sources/CZMQ",
            providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "CCrypto", path: "Sources/CCrypto",
            providers: [.apt(["libssl-dev"])]),
        // glibc's heap statistics: what the session holds, for the memory budget.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // PNG and JPEG decoding (libpng, libjpeg-turbo): a small C layer, as libjpeg reports
        // errors through longjmp.
        .target(name: "CImage", path: "Sources/CImage",
                linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        // Engine kernels in C where Swift's SIMD types compile poorly (2×2 max pooling).
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "TLEngine", dependencies: ["CBLAS", "CMalloc", "CKernels"]),
        .target(name: "TLNN", dependencies: ["TLEngine", "CZlib"]),
        .target(name: "TLData", dependencies: ["TLNN", "CImage"]),
        .target(name: "TLRender", dependencies: ["TLEngine", "CZlib"]),
        .target(name: "TLTransfer", dependencies: ["TLData"]),
        .target(name: "TLLang", dependencies: ["TLTransfer", "TLRender"]),
        .target(name: "TLShell", dependencies: ["TLLang", "CReadline"]),
        .target(name: "TLKernel", dependencies: ["TLShell", "CZMQ", "CCrypto"]),
        .executableTarget(
            name: "tl",
            dependencies: [
                "TLShell", "TLKernel", "TLEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The machine's FMA peak, for scripts/bench's limit column.
        .target(name: "CPeak", path: "Benchmarks/CPeak"),
        .executableTarget(
            name: "tl-bench-engine", dependencies: ["TLEngine", "CBLAS", "CPeak"], path: "Benchmarks/EngineBench"),
        // Fuzzing of the parser and the file decoders: scripts/fuzz builds it with libFuzzer.
        .executableTarget(name: "tl-fuzz", dependencies: ["TLLang", "TLShell", "TLKernel"], path: "Fuzz"),
        .executableTarget(name: "tl-experiments", dependencies: ["TLTransfer"], path: "Benchmarks/Experiments"),
        .testTarget(name: "TLEngineTests", dependencies: ["TLEngine"]),
        // Fixtures live in Tests/Fixtures (found through #filePath), shared by test targets.
        .testTarget(name: "TLNNTests", dependencies: ["TLNN"]),
        .testTarget(name: "TLDataTests", dependencies: ["TLTransfer", "TLRender"]),
        .testTarget(name: "TLRenderTests", dependencies: ["TLRender"]),
        .testTarget(name: "TLTransferTests", dependencies: ["TLTransfer"]),
        // Depends on the `tl` executable so the pseudo-terminal tests can run it.
        .testTarget(name: "TLShellTests", dependencies: ["TLShell", "tl"]),
        // Drives `tl --kernel` through jupyter_client, as Jupyter does; unit tests of the wire format.
        .testTarget(name: "TLKernelTests", dependencies: ["TLKernel", "tl"], exclude: ["kernel_client.py"]),
    ]
)
