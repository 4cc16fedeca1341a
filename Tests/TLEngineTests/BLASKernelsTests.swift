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
}
