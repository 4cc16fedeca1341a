// Engine micro-benchmarks: tl's matmul against raw cblas_sgemm in one process, alternating,
// so both see the same machine state. Run through scripts/bench (release build).
import CBLAS
import CPeak
import Dispatch
import Foundation
import Synchronization
import TLEngine

// OpenBLAS may have loaded its generic kernels on a CPU it does not know (see BLASKernels).
BLASKernels.restartWithBetterKernelsIfNeeded()

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The fastest of 20 calls of `body`, in seconds: on a shared machine, interference only ever
/// adds time.
func fastest(_ body: () -> Void) -> Double { (0..<20).map { _ in seconds(body) }.min() ?? 0 }

/// Repeats `body` until at least `minimum` seconds pass; returns seconds per call.
func timed(minimum: Double = 0.25, _ body: () -> Void) -> Double {
    var calls = 0
    var total = 0.0
    while total < minimum {
        total += seconds(body)
        calls += 1
    }
    return total / Double(calls)
}

let arguments = CommandLine.arguments
let threads = arguments.firstIndex(of: "--threads").flatMap { Int(arguments[$0 + 1]) } ?? 2
let rounds = arguments.firstIndex(of: "--rounds").flatMap { Int(arguments[$0 + 1]) } ?? 7
// tl splits products over its own threads and keeps OpenBLAS single-threaded; the raw reference
// runs with OpenBLAS's own threads. Each side sets OpenBLAS before it is timed.
Parallel.setThreads(threads)

/// The machine's fp32 FMA peak at `threads` threads (CPeak's kernel of independent fused
/// multiply-adds): every thread runs it at once for about 0.2 s; the FLOPs of all of them over the
/// wall time, in GFLOP/s.
func fmaPeak(threads: Int) -> Double {
    let iterations: Int64 = 80_000_000
    let flops = Mutex(0.0)
    let time = seconds {
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            var sink: Float = 0
            let done = cpeak_run(iterations, &sink)
            flops.withLock { $0 += done }
        }
    }
    return flops.withLock { $0 } / time / 1e9
}

let isa = String(cString: cpeak_isa())
_ = fmaPeak(threads: threads)
let peaks = (0..<rounds).map { _ in fmaPeak(threads: threads) }
if arguments.contains("--peak") {
    // One line for scripts/bench: the median of the rounds.
    print("fma-peak", isa, threads, median(peaks))
    exit(0)
}
if arguments.contains("--pixel-ops") {
    pixelOperations(rounds: rounds)
    exit(0)
}
if arguments.contains("--cnn-ops") {
    cnnOperations(rounds: rounds)
    exit(0)
}
if arguments.contains("--cnn-products") {
    productsAlone(cnnProducts(), name: "LeNet step", batch: 64, rounds: rounds, peak: median(peaks))
    exit(0)
}
if let i = arguments.firstIndex(of: "--mlp-products") {
    guard let batch = arguments.dropFirst(i + 1).first.flatMap({ Int($0) }), batch > 0 else {
        print("tl-bench-engine: --mlp-products needs a batch size, a positive integer (--mlp-products 128)")
        exit(2)
    }
    productsAlone(mlpProducts(batch: batch), name: "MLP step", batch: batch, rounds: rounds, peak: median(peaks))
    exit(0)
}
print("# FMA peak (\(isa), \(threads) thread(s)): \(String(format: "%.1f", median(peaks))) GFLOP/s, median of \(rounds) (\(String(format: "%.1f–%.1f", peaks.min() ?? 0, peaks.max() ?? 0)))")

print("# matmul: tl Tensor.matmul vs raw cblas_sgemm, fp32, \(threads) thread(s), \(rounds) alternating rounds")
print("n      tl GFLOP/s   sgemm GFLOP/s   ratio (median, min–max)")
for n in [256, 1024] {
    var g = RandomGenerator(seed: 1)
    guard let a = try? Tensor.randn([n, n], using: &g), let b = try? Tensor.randn([n, n], using: &g) else { continue }
    let flops = 2 * Double(n) * Double(n) * Double(n)
    var out = [Float](repeating: 0, count: n * n)
    var tl: [Double] = [], raw: [Double] = [], ratios: [Double] = []
    for _ in 0..<rounds {
        openblas_set_num_threads(1)
        let t = timed { _ = try? Tensor.matmul(a, b) }
        openblas_set_num_threads(Int32(threads))
        let r = timed {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                                    pa.baseAddress, Int32(n), pb.baseAddress, Int32(n), 0, pc.baseAddress, Int32(n))
                    }
                }
            }
        }
        tl.append(flops / t / 1e9)
        raw.append(flops / r / 1e9)
        ratios.append(r / t)
    }
    let line = "\(n)".padding(toLength: 7, withPad: " ", startingAt: 0)
        + String(format: "%-13.1f%-16.1f%.3f (%.3f–%.3f)", median(tl), median(raw), median(ratios),
                 ratios.min() ?? 0, ratios.max() ?? 0)
    print(line)
}

/// The engine operations of the benchmark's LeNet training step (Benchmarks/workloads/cnn.tl,
/// batch 64), each timed forward and forward + backward, alternating over `rounds`: where the
/// step's time goes outside the language, in milliseconds per batch (medians, min–max).
func cnnOperations(rounds: Int) {
    var g = RandomGenerator(seed: 1)
    func randn(_ shape: [Int], _ std: Float) -> Tensor { (try? Tensor.randn(shape, std: std, using: &g)) ?? Tensor(scalar: 0) }
    let x = randn([64, 1, 28, 28], 1), w1 = randn([16, 1, 5, 5], 0.2), b1 = randn([16], 0.1)
    let w2 = randn([32, 16, 5, 5], 0.05), b2 = randn([32], 0.1)
    let y1 = randn([64, 16, 24, 24], 1), x2 = randn([64, 16, 12, 12], 1), y2 = randn([64, 32, 8, 8], 1)
    let seed1 = randn([64, 16, 24, 24], 1), seedP1 = randn([64, 16, 12, 12], 1)
    let seed2 = randn([64, 32, 8, 8], 1), seedP2 = randn([64, 32, 4, 4], 1)
    let operations: [(String, () -> Void, () -> Void)] = [
        ("conv1 (1→16, 5×5, 28×28)", { _ = try? Tensor.conv2d(x, w1, bias: b1) },
         { try? Tensor.conv2d(x, w1.requiringGrad(), bias: b1.requiringGrad()).backward(seed: seed1) }),
        ("relu + maxpool 2 (16×24×24)", { _ = try? Tensor.maxPool2d(y1, kernel: 2, relu: true) },
         { try? Tensor.maxPool2d(y1.requiringGrad(), kernel: 2, relu: true).backward(seed: seedP1) }),
        ("conv2 (16→32, 5×5, 12×12)", { _ = try? Tensor.conv2d(x2, w2, bias: b2) },
         { try? Tensor.conv2d(x2.requiringGrad(), w2.requiringGrad(), bias: b2.requiringGrad()).backward(seed: seed2) }),
        ("relu + maxpool 2 (32×8×8)", { _ = try? Tensor.maxPool2d(y2, kernel: 2, relu: true) },
         { try? Tensor.maxPool2d(y2.requiringGrad(), kernel: 2, relu: true).backward(seed: seedP2) }),
    ]
    timeOperations(operations, rounds: rounds, heading: "LeNet step's operations")
}

/// Times each operation forward and forward + backward, alternating over `rounds`, and prints
/// milliseconds per call: the fastest of 20 calls, median of the rounds (min–max).
func timeOperations(_ operations: [(String, () -> Void, () -> Void)], rounds: Int, heading: String) {
    var forward = [[Double]](repeating: [], count: operations.count), both = forward
    for _ in 0..<rounds {
        for (i, op) in operations.enumerated() {
            forward[i].append(fastest(op.1) * 1e3)
            both[i].append(fastest(op.2) * 1e3)
        }
    }
    print("# \(heading), batch 64, \(Parallel.threads) thread(s), ms per batch: the fastest of 20 calls, median of \(rounds) rounds (min–max)")
    for (i, op) in operations.enumerated() {
        let backward = zip(both[i], forward[i]).map { $0 - $1 }
        print(op.0.padding(toLength: 30, withPad: " ", startingAt: 0)
              + String(format: "forward %6.3f (%.3f–%.3f)   forward + backward %6.3f (%.3f–%.3f)   backward %6.3f",
                       median(forward[i]), forward[i].min() ?? 0, forward[i].max() ?? 0,
                       median(both[i]), both[i].min() ?? 0, both[i].max() ?? 0, median(backward)))
    }
}

/// The convolutions of PixelDA's generator and discriminator (Benchmarks/workloads/pixelda.tl,
/// batch 64), each with its input's gradient: which of the step's shapes cost more than their
/// arithmetic.
func pixelOperations(rounds: Int) {
    var g = RandomGenerator(seed: 1)
    func randn(_ shape: [Int], _ std: Float) -> Tensor { (try? Tensor.randn(shape, std: std, using: &g)) ?? Tensor(scalar: 0) }
    let shapes: [(String, Int, Int, Int, Int, Int, Int)] = [  // name, cin, cout, size, kernel, stride, pad
        ("G1 4→32 3×3 28 pad 1", 4, 32, 28, 3, 1, 1), ("G2 32→32 3×3 28 pad 1", 32, 32, 28, 3, 1, 1),
        ("G4 32→3 3×3 28 pad 1", 32, 3, 28, 3, 1, 1), ("D1 3→32 3×3 s2 28", 3, 32, 28, 3, 2, 1),
        ("D2 32→64 3×3 s2 14", 32, 64, 14, 3, 2, 1)]
    let operations = shapes.map { s -> (String, () -> Void, () -> Void) in
        let x = randn([64, s.1, s.3, s.3], 1), w = randn([s.2, s.1, s.4, s.4], 0.1), b = randn([s.2], 0.1)
        let y = (try? Tensor.conv2d(x, w, bias: b, stride: s.5, padding: s.6)) ?? x
        let seed = randn(y.shape, 1)
        return (s.0, { _ = try? Tensor.conv2d(x, w, bias: b, stride: s.5, padding: s.6) },
                { try? Tensor.conv2d(x.requiringGrad(), w.requiringGrad(), bias: b.requiringGrad(), stride: s.5, padding: s.6).backward(seed: seed) })
    }
    timeOperations(operations, rounds: rounds, heading: "PixelDA workload's convolutions")
}

/// One product of a training step as the engine issues it: C (m × n) = op(A)·op(B), per image
/// through `sgemm` (β 1: added onto the thread's sum, as a weight gradient) or per batch through
/// `gemm` (split over the threads as the engine splits it).
struct Product {
    let label: String, ta: Bool, tb: Bool, m: Int, n: Int, k: Int, perImage: Bool, beta: Float
    init(_ label: String, _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, perImage: Bool = false, beta: Float = 0) {
        (self.label, self.ta, self.tb, self.m, self.n, self.k, self.perImage, self.beta) = (label, ta, tb, m, n, k, perImage, beta)
    }
}

/// The benchmark's LeNet training step (Benchmarks/workloads/cnn.tl, batch 64): per image for the
/// convolutions (forward, weight gradient, the second one's input gradient; the first layer's
/// input needs none), per batch for the linear layers.
func cnnProducts() -> [Product] { [
    Product("conv1 forward W·cols", false, false, 16, 576, 25, perImage: true),
    Product("conv1 weight grad G·colsᵀ", false, true, 16, 25, 576, perImage: true, beta: 1),
    Product("conv2 forward W·cols", false, false, 32, 64, 400, perImage: true),
    Product("conv2 weight grad G·rows", false, false, 32, 400, 64, perImage: true, beta: 1),
    Product("conv2 input grad Wᵀ·G", true, false, 400, 64, 32, perImage: true),
] + linearProducts([512, 128, 10], batch: 64, prefix: "fc", firstInputGradient: true) }

/// The benchmark's MLP training step (Benchmarks/workloads/mlp.tl, 784-256-128-10).
func mlpProducts(batch: Int) -> [Product] { linearProducts([784, 256, 128, 10], batch: batch, prefix: "layer ") }

/// Forward x·Wᵀ, input gradient G·W (the first layer's only if `firstInputGradient`: when other
/// layers come before it) and weight gradient Gᵀ·x of each linear layer between `widths`.
func linearProducts(_ widths: [Int], batch: Int, prefix: String, firstInputGradient: Bool = false) -> [Product] {
    (1..<widths.count).flatMap { l -> [Product] in
        let (i, o) = (widths[l - 1], widths[l])
        return [Product("\(prefix)\(l) forward x·Wᵀ", false, true, batch, o, i)]
            + (l > 1 || firstInputGradient ? [Product("\(prefix)\(l) input grad G·W", false, false, batch, i, o)] : [])
            + [Product("\(prefix)\(l) weight grad Gᵀ·x", true, false, o, i, batch)]
    }
}

/// A training step's products as the engine issues them, through its own `sgemm` and `gemm`
/// into OpenBLAS, each image's operands in memory of their own, and nothing else: no unfolding,
/// pooling, ReLU, bias, loss or update. As long as the products go through OpenBLAS their time
/// bounds the step from below: the samples/s printed are the most the step could reach, the share
/// of the FMA peak the most it could show.
func productsAlone(_ products: [Product], name: String, batch: Int, rounds: Int, peak: Double) {
    let threads = Parallel.threads
    var g = RandomGenerator(seed: 1)
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { p[i] = g.nextFloat() - 0.5 }
        return p
    }
    let operands = products.map { p in (0..<(p.perImage ? batch : 1)).map { _ in (buffer(p.m * p.k), buffer(p.k * p.n)) } }
    let outputs = products.map { p in (0..<threads).map { _ in buffer(p.m * p.n) } }
    defer {
        for (a, b) in operands.joined() { a.deallocate(); b.deallocate() }
        for c in outputs.joined() { c.deallocate() }
    }
    func run(_ i: Int) {
        let p = products[i]
        guard p.perImage else {
            gemm(m: p.m, n: p.n, k: p.k, a: operands[i][0].0, transposeA: p.ta, b: operands[i][0].1, transposeB: p.tb,
                 c: outputs[i][0])
            return
        }
        let per = (batch + threads - 1) / threads
        Parallel.forChunks(threads) { chunk in
            for img in Swift.min(batch, chunk * per)..<Swift.min(batch, (chunk + 1) * per) {
                sgemm(p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, m: p.m, n: p.n, k: p.k,
                      a: operands[i][img].0, lda: p.ta ? p.m : p.k, b: operands[i][img].1, ldb: p.tb ? p.k : p.n,
                      beta: p.beta, c: outputs[i][chunk], ldc: p.n)
            }
        }
    }
    var times = [[Double]](repeating: [], count: products.count)
    for _ in 0..<rounds {
        for i in products.indices { times[i].append(fastest { run(i) }) }
    }
    print("# \(name)'s products alone, as the engine issues them, batch \(batch), \(threads) thread(s): the fastest of 20 calls, median of \(rounds) rounds; FMA peak \(String(format: "%.1f", peak)) GFLOP/s")
    var total = 0.0, flops = 0.0
    for (i, p) in products.enumerated() {
        let t = median(times[i]), f = 2.0 * Double(p.m * p.n * p.k * (p.perImage ? batch : 1))
        total += t
        flops += f
        print(p.label.padding(toLength: 28, withPad: " ", startingAt: 0)
              + String(format: "%7.3f ms  %6.1f GFLOP/s  %3.0f %% of peak", t * 1e3, f / t / 1e9, 100 * f / t / 1e9 / peak))
    }
    print(String(format: "products alone: %.3f ms a step = %.0f samples/s at most, %.0f %% of the peak; %.0f FLOP a sample",
                 total * 1e3, Double(batch) / total, 100 * flops / total / 1e9 / peak, flops / Double(batch)))
}
