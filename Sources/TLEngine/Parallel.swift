import CBLAS
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits large loops across cores. Small loops run inline: below a few tens of thousands of
/// elements the cost of waking a thread exceeds the work.
public enum Parallel {
    /// Worker count for the engine's own loops (OpenBLAS has its own setting).
    nonisolated(unsafe) public static var threads: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Sets the worker count of both the engine's loops and OpenBLAS.
    public static func setThreads(_ n: Int) {
        threads = max(1, n)
        openblas_set_num_threads(Int32(clamping: threads))
    }

    /// Applies `TL_THREADS` from the environment when it holds a positive count; returns a
    /// warning for a value that is not one (the setting is then left alone).
    public static func configureFromEnvironment() -> String? {
        guard let raw = getenv("TL_THREADS") else { return nil }
        let text = String(cString: raw)
        guard let n = Int(text), n > 0, n <= 1024 else {
            return "warning: TL_THREADS=\(text) is not a thread count from 1 to 1024; using \(threads)"
        }
        setThreads(n)
        return nil
    }

    /// Elements below which a loop runs on the calling thread.
    public static let grain = 32_768

    /// Calls `body` on disjoint subranges covering `0..<count`, in parallel when worthwhile.
    /// `cost` scales the element count for loops whose per-element work is heavier than an add.
    @inline(__always)
    public static func forRanges(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, count * cost / grain)
        if chunks <= 1 {
            body(0..<count)
            return
        }
        let size = (count + chunks - 1) / chunks
        // The chunks write disjoint ranges; the closure is shared across threads by design.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * size
                let hi = min(count, lo + size)
                if lo < hi { shared.value(lo..<hi) }
            }
        }
    }
}

/// A value handed to worker threads whose safety the caller guarantees (disjoint writes).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
