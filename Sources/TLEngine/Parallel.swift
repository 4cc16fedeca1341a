import CBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits large loops and matrix products across cores, on one pool of threads.
///
/// OpenBLAS runs single-threaded and tl splits each large product itself: with two thread pools
/// (OpenBLAS's spinning workers and ours) on few cores, each pool's idle spinning stole the cores
/// the other one needed. Small loops run inline: below a few tens of thousands of elements the
/// cost of handing work to another thread exceeds the work.
public enum Parallel {
    nonisolated(unsafe) private static var configured = 1
    private static let setup: Void = {
        openblas_set_num_threads(1)
        configured = environmentCount ?? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }()

    /// `TL_THREADS` when it holds a count from 1 to 1024. Every process that uses the engine
    /// follows it, the test runner's included (scripts/test sets 2, the count the tests' figures
    /// were measured at, whatever the machine's cores).
    private static var environmentCount: Int? {
        guard let raw = getenv("TL_THREADS"), let n = Int(String(cString: raw)), n > 0, n <= 1024 else { return nil }
        return n
    }
    /// One pool per worker count (a changed setting gets a new pool; the old one sleeps).
    private static let pools = Mutex<[Int: WorkerPool]>([:])

    /// A count set for one thread's scope (`withThreads`).
    private static let scoped = ThreadScoped<Int>()

    /// The number of threads used by every parallel loop and product, the caller's included.
    public static var threads: Int {
        setup
        return scoped.current ?? configured
    }

    /// Runs `body` with loops and products started on this thread split `n` ways; other threads
    /// keep the global setting (tests comparing thread counts run side by side with others).
    public static func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        setup
        return try scoped.with(max(1, min(n, 1024)), body)
    }

    /// Sets the number of threads used by the engine's loops and products.
    public static func setThreads(_ n: Int) {
        setup
        configured = max(1, min(n, 1024))
    }

    /// Applies `TL_THREADS` from the environment when it holds a positive count; returns a
    /// warning for a value that is not one (the setting is then left alone).
    public static func configureFromEnvironment() -> String? {
        guard let raw = getenv("TL_THREADS") else { return nil }
        let text = String(cString: raw)
        guard let n = environmentCount else {
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
        forChunks(chunks) { c in
            let lo = c * size, hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Calls `body(0)`, …, `body(chunks − 1)`, spread over the pool; returns when all are done.
    /// A call made while the pool is busy (from inside a chunk, or from another thread) runs inline.
    public static func forChunks(_ chunks: Int, _ body: (Int) -> Void) {
        let workers = threads - 1
        guard chunks > 1, workers > 0 else {
            for c in 0..<chunks { body(c) }
            return
        }
        let pool = pools.withLock { pools in
            if let pool = pools[workers] { return pool }
            let pool = WorkerPool(workers: workers)
            pools[workers] = pool
            return pool
        }
        guard pool.tryAcquire() else {
            for c in 0..<chunks { body(c) }
            return
        }
        defer { pool.release() }
        withoutActuallyEscaping(body) { body in pool.run(chunks: chunks, body) }
    }
}

/// Threads that wait for chunked jobs: they spin briefly after each job (the next one usually
/// follows within microseconds during training), then sleep on a condition variable.
final class WorkerPool: @unchecked Sendable {
    let workers: Int
    /// Job generation in the high bits, next unclaimed chunk in the low 24 bits.
    private let state = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private var chunks = 0
    private var job: ((Int) -> Void)?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private static let chunkBits = 24
    private static let spins = 200_000

    init(workers: Int) {
        self.workers = workers
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for _ in 0..<workers {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            let status = pthread_create(&thread, nil, { raw in
                let pool = Unmanaged<WorkerPool>.fromOpaque(raw!).takeRetainedValue()
                pool.work()
                return nil
            }, context)
            if status == 0 {
                pthread_detach(thread)
            } else {
                Unmanaged<WorkerPool>.fromOpaque(context).release()
            }
        }
    }

    func tryAcquire() -> Bool { busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }
    func release() { busy.store(false, ordering: .releasing) }

    /// Runs a job on the calling thread and the workers. The caller holds `busy`.
    func run(chunks: Int, _ body: @escaping (Int) -> Void) {
        precondition(chunks < 1 << Self.chunkBits, "too many chunks")
        job = body
        self.chunks = chunks
        finished.store(0, ordering: .relaxed)
        let generation = (state.load(ordering: .relaxed) >> Self.chunkBits) + 1
        state.store(generation << Self.chunkBits, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }
        drain(generation)
        // Chunks claimed by workers may still be running.
        while finished.load(ordering: .acquiring) < chunks {}
        job = nil
    }

    /// Claims and runs chunks of job `generation` until none is left.
    private func drain(_ generation: Int) {
        var s = state.load(ordering: .acquiring)
        while s >> Self.chunkBits == generation {
            let chunk = s & ((1 << Self.chunkBits) - 1)
            // While a chunk of this job is unclaimed the job cannot finish, so `chunks` and `job`
            // read here belong to it.
            let total = chunks
            guard chunk < total else { return }
            let (exchanged, original) = state.compareExchange(
                expected: s, desired: s + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                job!(chunk)
                finished.add(1, ordering: .releasing)
                s = state.load(ordering: .acquiring)
            } else {
                s = original
            }
        }
    }

    private func work() {
        var seen = 0
        while true {
            var spins = 0
            var generation = state.load(ordering: .acquiring) >> Self.chunkBits
            while generation == seen {
                if spins < Self.spins {
                    spins += 1
                } else {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while state.load(ordering: .sequentiallyConsistent) >> Self.chunkBits == seen {
                        pthread_cond_wait(wake, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                }
                generation = state.load(ordering: .acquiring) >> Self.chunkBits
            }
            seen = generation
            drain(generation)
        }
    }
}
