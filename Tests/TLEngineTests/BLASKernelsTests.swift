import CBLAS
import Testing
@testable import TLEngine

@Suite struct BLASKernelsTests {
    static let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    /// Only OpenBLAS's generic fallback is replaced, by the best kernels the CPU's flags allow.
    @Test func theFallbackIsReplacedByWhatTheCPUCanRun() {
        #expect(BLASKernels.better(than: "Prescott", flags: Self.avx512) == "SkylakeX")
        #expect(BLASKernels.better(than: "Prescott", flags: ["sse3", "avx", "avx2", "fma"]) == "Haswell")
        #expect(BLASKernels.better(than: "Prescott", flags: ["sse3", "avx"]) == nil, "nothing better to ask for")
        #expect(BLASKernels.better(than: "Prescott", flags: []) == nil)
        #expect(BLASKernels.better(than: "SkylakeX", flags: Self.avx512) == nil, "a recognised CPU is left alone")
        #expect(BLASKernels.better(than: "Zen", flags: Self.avx512) == nil)
    }

    @Test func theLibraryDescribesItself() {
        #expect(BLASKernels.configuration.hasPrefix("OpenBLAS"))
        #expect(!BLASKernels.current.isEmpty)
        #if os(Linux) && arch(x86_64)
        #expect(BLASKernels.cpuFlags().contains("sse2"), "x86-64 flags are read from /proc/cpuinfo")
        #endif
    }
    /// `sgemm` with β = 0 clears C itself and adds the product onto it (OpenBLAS's own β = 0
    /// pass is slow): C's old contents, NaN here, must not survive, and the bits must be those
    /// of OpenBLAS's β = 0, for every transpose, a C with rows wider than the product, and the
    /// shapes of an MLP's weight gradient at batch 32 and a convolution's input gradient.
    @Test func aProductWithBetaZeroOverwritesCAsOpenBLASWould() {
        // OpenBLAS single-threaded, as the engine runs it (the first use of `Parallel` sets it; a
        // product on OpenBLAS's own threads may round differently).
        #expect(Parallel.threads >= 1)
        var g = RandomGenerator(seed: 7)
        for (m, n, k, ldc) in [(256, 784, 32, 784), (400, 64, 32, 64), (5, 3, 7, 3), (17, 9, 130, 12)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = (0..<m * k).map { _ in g.nextFloat() - 0.5 }, b = (0..<k * n).map { _ in g.nextFloat() - 0.5 }
                var ours = [Float](repeating: .nan, count: m * ldc), theirs = ours
                let lda = ta ? m : k, ldb = tb ? k : n
                let (cta, ctb) = (ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans)
                ours.withUnsafeMutableBufferPointer { c in
                    sgemm(cta, ctb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c.baseAddress!, ldc: ldc)
                }
                cblas_sgemm(CblasRowMajor, cta, ctb, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, &theirs,
                            Int32(ldc))
                let inside = (0..<m).flatMap { r in (0..<n).map { r * ldc + $0 } }
                let outside = (0..<m).flatMap { r in (n..<ldc).map { r * ldc + $0 } }
                let differing = inside.count { ours[$0].bitPattern != theirs[$0].bitPattern }
                #expect(differing == 0, "\(m)×\(n)×\(k), transposed \(ta) \(tb): \(differing) of \(inside.count) values differ")
                #expect(outside.allSatisfy { ours[$0].isNaN }, "beyond n columns C is left alone")
            }
        }
    }
}
