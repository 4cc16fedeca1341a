import Foundation
import Dispatch
import Testing
@testable import TLEngine

@Suite struct MemoryBudgetTests {
    @Test func requestsBeyondTheBudgetFailBeforeAllocating() throws {
        try Memory.withBudget(bytes: 64 << 20) { try check() }
    }

    func check() throws {
        #expect(throws: TensorError.self) { try Tensor.zeros([5_000, 5_000]) }
        // A broadcast result is checked too: 5 000 × 5 000 from two small operands.
        let column = try Tensor.ones([5_000, 1]), row = try Tensor.ones([1, 5_000])
        do {
            _ = try column + row
            Issue.record("the broadcast sum should exceed the budget")
        } catch let e as TensorError {
            #expect(e.description.contains("add needs 95 MiB, more than the memory budget of 64 MiB"))
        }
        #expect(try Tensor.zeros([1_000, 1_000]).count == 1_000_000)
    }

    /// The budget bounds what is held in total: tensors kept alive add up, and a new one that
    /// would pass what is left is refused before it is allocated; as tensors die, room returns.
    @Test func theBudgetCountsEveryLiveTensor() throws {
        var g = RandomGenerator(seed: 1)
        try Memory.withBudget(bytes: 64 << 20) {
            var kept = [try Tensor.zeros([5 << 20]), try Tensor.zeros([5 << 20])]  // 2 × 20 MiB
            #expect(Memory.tensorBytes == 40 << 20)
            do {
                _ = try Tensor.randn([7 << 20], using: &g)  // 28 MiB: alone under the budget, not with the others
                Issue.record("a third tensor should pass the budget")
            } catch let e as MemoryError {
                #expect(e.op == "randn" && e.asked == 28 << 20 && e.held == 40 << 20 && e.budget == 64 << 20)
                #expect(e.description.contains("randn needs 28 MiB, more than is left of the memory budget of 64 MiB (40 MiB held already)"))
            }
            kept.removeLast()
            #expect(Memory.tensorBytes == 20 << 20)
            kept.append(try Tensor.randn([7 << 20], using: &g))
            #expect(Memory.tensorBytes == 48 << 20)
        }
    }

    /// Operations whose size is not checked in advance (an elementwise result the size of its
    /// operand) are counted as they allocate; passing the budget is noted and reported by the
    /// next check, once.
    @Test func allocationsPastTheBudgetAreReportedAtTheNextCheck() throws {
        try Memory.withBudget(bytes: 64 << 20) {
            let a = try Tensor.ones([10 << 20])  // 40 MiB
            try Memory.checkOverflow("nothing")
            let b = -a  // another 40 MiB: past the budget
            #expect(b.count == a.count)
            do {
                try Memory.checkOverflow("negate")
                Issue.record("the overflow should be reported")
            } catch let e as MemoryError {
                #expect(e.op == "negate" && e.asked == 40 << 20 && e.held == 40 << 20)
            }
            try Memory.checkOverflow("again")  // reported once
        }
    }

    /// Found by libFuzzer (an IDX file of 40 axes of 16 and one of 0): the sizes of an empty
    /// shape are checked in any order, so their products (strides) never overflow.
    @Test func emptyShapesAreCheckedInAnyOrder() throws {
        let wide = [Int](repeating: 16, count: 40)
        #expect(throws: TensorError.self) { try Tensor(shape: wide + [0], values: []) }
        #expect(throws: TensorError.self) { try Tensor(shape: [0] + wide, values: []) }
        #expect(throws: TensorError.self) { try Tensor.zeros([0, 1 << 40]) }
        #expect(try Tensor.zeros([1 << 20, 0, 1 << 10]).count == 0)
        #expect(try Shape.count([0, 3, 4]) == 0)
    }

    @Test func budgetsAreReadFromTheEnvironmentForm() {
        #expect(Memory.parse("512M") == 512 << 20 && Memory.parse(" 4g ") == 4 << 30 && Memory.parse("1048576") == 1 << 20)
        #expect(Memory.parse("lots") == nil && Memory.parse("-1G") == nil && Memory.parse("99999999999G") == nil)
    }
}

@Suite struct TensorTests {
    @Test func creation() throws {
        #expect(try Tensor.zeros([2, 3]).scalars == [0, 0, 0, 0, 0, 0])
        #expect(try Tensor.full([2], 2.5).scalars == [2.5, 2.5])
        #expect(try Tensor.arange(0, 5, step: 2).scalars == [0, 2, 4])
        #expect(try Tensor.arange(1, 0, step: -0.5).scalars == [1, 0.5])
        #expect(try Tensor.eye(2).scalars == [1, 0, 0, 1])
        #expect(Tensor(scalar: 3).shape == [])
        #expect(try Tensor(scalar: 3).item() == 3)
        #expect(try Tensor.zeros([0, 4]).count == 0)
        #expect(try Tensor(shape: [0, 3], values: []).shape == [0, 3])
    }

    @Test func invalidCreationThrows() {
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 2], values: [1, 2, 3]) }
        #expect(throws: TensorError.self) { try Tensor.zeros([-1]) }
        #expect(throws: TensorError.self) { try Tensor.zeros([1 << 40, 1 << 40]) }
        #expect(throws: TensorError.self) { try Tensor.arange(0, 1, step: 0) }
        #expect(throws: TensorError.self) { try Tensor.arange(0, 3e38, step: 1e-30) }
        #expect(throws: TensorError.self) { try Tensor.arange(0, .infinity) }
        #expect(throws: TensorError.self) { try tensor([2], [1, 2]).item() }
    }

    @Test func copyOnWrite() {
        let a = tensor([3], [1, 2, 3])
        var b = a
        #expect(a._sharesStorage(with: b))
        b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [9, 2, 3])
        #expect(!a._sharesStorage(with: b))
    }

    @Test func reshapeSharesStorageAndInfers() throws {
        let a = tensor([2, 3], [1, 2, 3, 4, 5, 6])
        let b = try a.reshaped([3, -1])
        #expect(b.shape == [3, 2])
        #expect(b._sharesStorage(with: a))
        #expect(throws: TensorError.self) { try a.reshaped([4, -1]) }
        #expect(throws: TensorError.self) { try a.reshaped([-1, -1]) }
    }

    @Test func sameSeedSameBits() throws {
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42), g3 = RandomGenerator(seed: 43)
        let a = try Tensor.randn([100], using: &g1), b = try Tensor.randn([100], using: &g2)
        let c = try Tensor.randn([100], using: &g3)
        #expect(a == b)
        #expect(a != c)
        let u = try Tensor.rand([1000], low: -2, high: 3, using: &g1)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        let m = try u.mean().item()
        #expect(Swift.abs(m - 0.5) < 0.15)
        #expect(g1.permutation(10).sorted() == Array(0..<10))
    }

    @Test func theSeededGeneratorBelongsToItsThread() throws {
        GlobalRandom.seed(11)
        let expected = try Tensor.randn([4], using: &GlobalRandom.generator)
        GlobalRandom.seed(11)
        // Another thread seeds and draws; this thread's sequence is untouched.
        let other = Thread { GlobalRandom.seed(99); _ = try? Tensor.randn([100], using: &GlobalRandom.generator) }
        other.start()
        while !other.isFinished { usleep(1000) }
        #expect(try Tensor.randn([4], using: &GlobalRandom.generator) == expected)
    }

    @Test func normalSamplesHaveUnitVariance() throws {
        var g = RandomGenerator(seed: 1)
        let x = try Tensor.randn([20_000], using: &g)
        let mean = try x.mean().item()
        let variance = try ((x - mean) * (x - mean)).mean().item()
        #expect(Swift.abs(mean) < 0.03)
        #expect(Swift.abs(variance - 1) < 0.05)
    }
}

@Suite struct OperationTests {
    @Test func broadcastingArithmetic() throws {
        let a = tensor([2, 3], [1, 2, 3, 4, 5, 6])
        #expect(try (a + tensor([3], [10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        #expect(try (a * tensor([2, 1], [1, -1])).scalars == [1, 2, 3, -4, -5, -6])
        #expect(try (tensor([2, 1], [1, 2]) - tensor([1, 3], [1, 2, 3])).scalars == [0, -1, -2, 1, 0, -1])
        #expect(try (a / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect(try Tensor.pow(a, 2).scalars == [1, 4, 9, 16, 25, 36])
        #expect(try (1 - a).scalars == [0, -1, -2, -3, -4, -5])
    }

    @Test func broadcastErrorNamesBothShapes() {
        do {
            _ = try tensor([2, 3], [1, 2, 3, 4, 5, 6]) + tensor([2], [1, 2])
            Issue.record("expected an error")
        } catch let e as TensorError {
            #expect(e.description == "shape mismatch in add: shapes cannot be broadcast together (2×3 and 2)")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func divisionFollowsIEEE() throws {
        let y = try tensor([3], [1, -1, 0]) / tensor([3], [0, 0, 0])
        #expect(y.scalars[0] == .infinity && y.scalars[1] == -.infinity && y.scalars[2].isNaN)
    }

    @Test func matmulMatchesLoops() throws {
        var g = RandomGenerator(seed: 5)
        let a = try Tensor.randn([7, 5], using: &g), b = try Tensor.randn([5, 3], using: &g)
        let c = try Tensor.matmul(a, b)
        var expected = [Float](repeating: 0, count: 21)
        for i in 0..<7 { for j in 0..<3 { for k in 0..<5 { expected[i * 3 + j] += a.scalars[i * 5 + k] * b.scalars[k * 3 + j] } } }
        expectClose(c, tensor([7, 3], expected))
        expectClose(try Tensor.matmul2D(a.T, b, transposeA: true), c)
        expectClose(try Tensor.matmul2D(a, b.T, transposeB: true), c)
        #expect(throws: TensorError.self) { try Tensor.matmul(a, a) }
        #expect(throws: TensorError.self) { try Tensor.matmul(Tensor(scalar: 1), a) }
        #expect(try Tensor.matmul(tensor([2], [1, 2]), tensor([2], [3, 4])).shape == [])
    }

    @Test func batchedMatmulMatchesPerItemProducts() throws {
        var g = RandomGenerator(seed: 6)
        let a = try Tensor.randn([3, 2, 4], using: &g), b = try Tensor.randn([3, 4, 5], using: &g)
        let c = try Tensor.matmul(a, b)
        #expect(c.shape == [3, 2, 5])
        for i in 0..<3 {
            let ai = try a.sliced(axis: 0, start: i, end: i + 1).reshaped([2, 4])
            let bi = try b.sliced(axis: 0, start: i, end: i + 1).reshaped([4, 5])
            expectClose(try c.sliced(axis: 0, start: i, end: i + 1).reshaped([2, 5]), try Tensor.matmul(ai, bi))
        }
    }

    @Test func reductionsAndArgmax() throws {
        let a = tensor([2, 3], [1, 5, 3, 4, 2, 6])
        #expect(try a.sum().item() == 21)
        #expect(try a.sum(axis: 0).scalars == [5, 7, 9])
        #expect(try a.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(try a.max(axis: 1).scalars == [5, 6])
        #expect(try a.min().item() == 1)
        #expect(try a.argmax(axis: 1).scalars == [1, 2])
        #expect(try a.argmaxRows() == [1, 2])
        #expect(try a.mean(axis: 1).scalars == [3, 4])
        #expect(throws: TensorError.self) { try a.sum(axis: 2) }
        #expect(throws: TensorError.self) { try Tensor.zeros([0]).mean() }
        #expect(try tensor([3], [1, .nan, 2]).max().item().isNaN)
    }

    @Test func softmaxIsStableForLargeLogits() throws {
        let x = tensor([1, 3], [1000, 1001, 1002])
        let y = try x.softmax()
        #expect(y.scalars.allSatisfy { $0.isFinite })
        #expect(Swift.abs(y.scalars.reduce(0, +) - 1) < 1e-6)
        let l = try x.logSoftmax()
        expectClose(l, y.log(), tolerance: 1e-4)
    }

    @Test func slicingFollowsPython() throws {
        let a = try Tensor.arange(0, 10)
        #expect(try a.sliced(axis: 0, start: 2, end: 5).scalars == [2, 3, 4])
        #expect(try a.sliced(axis: 0, start: -3).scalars == [7, 8, 9])
        #expect(try a.sliced(axis: 0, step: 3).scalars == [0, 3, 6, 9])
        #expect(try a.sliced(axis: 0, step: -4).scalars == [9, 5, 1])
        #expect(try a.sliced(axis: 0, start: 8, end: 100).scalars == [8, 9])
        #expect(try a.sliced(axis: 0, start: 5, end: 2).count == 0)
        #expect(throws: TensorError.self) { try a.sliced(axis: 0, step: 0) }
    }

    @Test func concatPermuteGather() throws {
        let a = tensor([2, 2], [1, 2, 3, 4]), b = tensor([2, 1], [5, 6])
        #expect(try Tensor.concat([a, b], axis: 1).scalars == [1, 2, 5, 3, 4, 6])
        #expect(throws: TensorError.self) { try Tensor.concat([a, b], axis: 0) }
        #expect(throws: TensorError.self) { try Tensor.concat([], axis: 0) }
        #expect(a.T.scalars == [1, 3, 2, 4])
        #expect(throws: TensorError.self) { try a.permuted([0, 0]) }
        #expect(try a.indexSelect([1, 1, 0]).scalars == [3, 4, 3, 4, 1, 2])
        #expect(throws: TensorError.self) { try a.indexSelect([2]) }
        #expect(try a.gatherColumns([1, 0]).scalars == [2, 3])
        #expect(throws: TensorError.self) { try a.gatherColumns([2, 0]) }
    }

    /// Strided and padded windows, and the unclipped stride-1 path with output rows longer than
    /// one vector (11 = 8 + 3) and exactly one (8). Five outputs: four or fewer go through the
    /// direct kernels (DirectConvolutionTests).
    @Test(arguments: [(2, 1, 5, 6), (1, 0, 5, 13), (1, 0, 4, 10), (1, 1, 4, 9)])
    func convolutionMatchesDirectSum(stride: Int, padding: Int, h: Int, w width: Int) throws {
        var g = RandomGenerator(seed: 9)
        let (kh, kw) = (3, 2)
        let x = try Tensor.randn([2, 3, h, width], using: &g), w = try Tensor.randn([5, 3, kh, kw], using: &g)
        let y = try Tensor.conv2d(x, w, stride: stride, padding: padding)
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (width + 2 * padding - kw) / stride + 1
        #expect(y.shape == [2, 5, oh, ow])
        let xs = x.scalars, ws = w.scalars
        var expected = [Float](repeating: 0, count: y.count)
        for n in 0..<2 { for o in 0..<5 { for oy in 0..<oh { for ox in 0..<ow {
            var acc: Float = 0
            for c in 0..<3 { for i in 0..<kh { for j in 0..<kw {
                let yy = oy * stride - padding + i, xx = ox * stride - padding + j
                if yy >= 0 && yy < h && xx >= 0 && xx < width {
                    acc += xs[((n * 3 + c) * h + yy) * width + xx] * ws[((o * 3 + c) * kh + i) * kw + j]
                }
            } } }
            expected[((n * 5 + o) * oh + oy) * ow + ox] = acc
        } } } }
        expectClose(y, tensor(y.shape, expected), tolerance: 1e-5)
        #expect(throws: TensorError.self) { try Tensor.conv2d(x, try Tensor.zeros([4, 2, 3, 3])) }
        #expect(throws: TensorError.self) { try Tensor.conv2d(x, try Tensor.zeros([4, 3, 9, 9])) }
        #expect(throws: TensorError.self) { try Tensor.conv2d(try Tensor.zeros([3, 5, 6]), w) }
    }

    @Test func largeElementwiseRunsInParallelWithTheSameResult() throws {
        var g = RandomGenerator(seed: 2)
        let x = try Tensor.randn([300_000], using: &g)
        let serial = try Parallel.withThreads(1) { try (x * x + 1).sqrt() }
        let parallel = try Parallel.withThreads(2) { try (x * x + 1).sqrt() }
        #expect(serial == parallel)
    }

    /// Gathering rows, stacking along the first axis and writing a linear layer's bias are split
    /// over the threads when large (a training batch); every value must land where one thread
    /// puts it, at the split points too.
    @Test func largeGathersStacksAndBiasesOverThreadsPutEveryValueInPlace() throws {
        var g = RandomGenerator(seed: 4)
        let x = try Tensor.randn([600, 97], using: &g), y = try Tensor.randn([301, 97], using: &g)
        let rows = (0..<513).map { ($0 * 37 + 11) % 600 }
        // Zero weights: the products add nothing, so every row of the output is the bias exactly.
        let w = try Tensor.zeros([130, 97]), b = try Tensor.randn([130], using: &g)
        for threads in [2, 3] {
            let (gathered, stacked, linear) = try Parallel.withThreads(threads) {
                (try x.indexSelect(rows), try Tensor.concat([x, y], axis: 0), try Tensor.linear(x, w, b))
            }
            let (vx, vy) = (x.scalars, y.scalars)
            #expect(gathered.shape == [513, 97])
            #expect(gathered.scalars == rows.flatMap { vx[($0 * 97)..<(($0 + 1) * 97)] })
            #expect(stacked.shape == [901, 97] && stacked.scalars == vx + vy)
            #expect(linear.shape == [600, 130] && linear.scalars == Array((0..<600).map { _ in b.scalars }.joined()))
        }
    }

    @Test func productsSplitAcrossThreadsAgreeWithOneThread() throws {
        var g = RandomGenerator(seed: 3)
        // Shapes split by rows (m ≥ 128) and by columns, with every transpose flag.
        for (m, n, k) in [(300, 70, 90), (40, 500, 64), (130, 130, 17)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = try Tensor.randn(ta ? [k, m] : [m, k], using: &g)
                let b = try Tensor.randn(tb ? [n, k] : [k, n], using: &g)
                let serial = try Parallel.withThreads(1) { try Tensor.matmul2D(a, b, transposeA: ta, transposeB: tb) }
                let (split, again) = try Parallel.withThreads(3) {
                    (try Tensor.matmul2D(a, b, transposeA: ta, transposeB: tb), try Tensor.matmul2D(a, b, transposeA: ta, transposeB: tb))
                }
                #expect(serial.shape == [m, n] && split.shape == [m, n])
                // The parts may round differently at their edges, but a split is repeatable.
                let scale = serial.scalars.map(abs).max() ?? 1
                let worst = zip(serial.scalars, split.scalars).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * scale, "m \(m) n \(n) k \(k) transposes \(ta) \(tb)")
                #expect(split == again)
            }
        }
    }

    @Test func thePoolRunsEveryChunkOnceUnderConcurrentAndNestedCalls() throws {
        let callers = 4, chunks = 64
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: callers * chunks * chunks)
        counts.initialize(repeating: 0, count: callers * chunks * chunks)
        defer { counts.deallocate() }
        let shared = UncheckedPointer(counts)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            Parallel.withThreads(2) {
                for _ in 0..<50 {
                    Parallel.forChunks(chunks) { outer in
                        // A nested call runs inline on the thread that runs the outer chunk.
                        Parallel.forChunks(chunks) { inner in
                            shared.pointer[(caller * chunks + outer) * chunks + inner] += 1
                        }
                    }
                }
            }
        }
        #expect((0..<callers * chunks * chunks).allSatisfy { counts[$0] == 50 })
    }
}

@Suite struct AutodiffTests {
    @Test func gradientsAccumulateAcrossBackwardCalls() throws {
        let x = tensor([2], [1, 2]).requiringGrad()
        try (x * x).sum().backward()
        try (x * 3).sum().backward()
        #expect(x.grad?.scalars == [5, 7])
        x.clearGrad()
        #expect(x.grad == nil)
    }

    @Test func sharedSubexpressionsSumTheirGradients() throws {
        let x = tensor([1], [3]).requiringGrad()
        let y = try x * x
        try (y * y + y).sum().backward()  // d/dx (x⁴ + x²) = 4x³ + 2x
        #expect(x.grad?.scalars == [114])
    }

    @Test func withoutGradRecordsNothing() throws {
        let x = tensor([2], [1, 2]).requiringGrad()
        let y = try GradMode.withoutGrad { try x * 2 }
        #expect(!y.requiresGrad)
        #expect(throws: TensorError.self) { try y.sum().backward() }
        #expect(GradMode.isEnabled)
    }

    @Test func constantsCarryNoGraph() throws {
        let y = try tensor([2], [1, 2]) * 2
        #expect(!y.requiresGrad)
    }

    @Test func secondBackwardThroughAFreedGraphThrows() throws {
        let x = tensor([2], [1, 2]).requiringGrad()
        let loss = try (x * x).sum()
        try loss.backward()
        #expect(throws: TensorError.self) { try loss.backward() }
    }

    @Test func backwardNeedsAScalarOrASeed() throws {
        let x = tensor([2], [1, 2]).requiringGrad()
        let y = try x * 3
        #expect(throws: TensorError.self) { try y.backward() }
        try y.backward(seed: tensor([2], [1, 1]))
        #expect(x.grad?.scalars == [3, 3])
    }

    @Test func detachedStopsGradients() throws {
        let x = tensor([2], [1, 2]).requiringGrad()
        try (x * x.detached()).sum().backward()
        #expect(x.grad?.scalars == [1, 2])
    }
}

/// A pointer handed to test threads that write disjoint elements.
struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>
    init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
}
