#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS

/// Which of OpenBLAS's kernel sets runs the matrix products.
///
/// OpenBLAS picks its kernels for the CPU when the library loads, before `main`. Debian's 0.3.21
/// does not recognise some newer CPUs — Intel's Sapphire Rapids among them — and falls back to
/// the SSE3 kernels of the Pentium 4 ("Prescott"), which run products about 4× slower than the
/// AVX-512 ones the CPU has (measured on such a CPU: 16 against 61 GFLOP/s for a 1024² product).
/// `OPENBLAS_CORETYPE` chooses the kernels instead, but only when set before the library loads, so
/// a program that finds the fallback on a capable CPU runs itself again with it set.
public enum BLASKernels {
    /// The kernel set OpenBLAS chose: "SkylakeX", "Haswell", "Prescott", …
    public static var current: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name).trimmingSpaces
    }

    /// OpenBLAS's version, build options and kernels, as it describes itself.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: text).trimmingSpaces
    }

    /// The kernel set to ask for instead of `core`, given the CPU's feature flags: nil unless
    /// `core` is OpenBLAS's generic fallback and the CPU can run better kernels.
    public static func better(than core: String, flags: Set<String>) -> String? {
        guard core == "Prescott" else { return nil }
        if flags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The CPU's feature flags from /proc/cpuinfo (empty where there is none).
    static func cpuFlags() -> Set<String> {
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            if text.hasPrefix("flags") {
                let list = text.split(separator: ":", maxSplits: 1).last ?? ""
                return Set(list.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
            }
        }
        return []
    }

    /// When OpenBLAS fell back to its generic kernels on a CPU that has AVX2 or AVX-512 and
    /// nobody chose the kernels, runs this program again with `OPENBLAS_CORETYPE` set (so the
    /// library loads with the right ones). Returns only when there is nothing to do or the new
    /// run could not start. Call it first thing in `main`.
    public static func restartWithBetterKernelsIfNeeded() {
        #if os(Linux)
        guard getenv("OPENBLAS_CORETYPE") == nil, let better = better(than: current, flags: cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // exec failed: go on with the slower kernels
        #endif
    }
}
