import Testing
@testable import TLEngine

/// Every primitive's reverse-mode gradient against finite differences.
@Suite struct GradientTests {
    @Test(arguments: [([2, 3], [2, 3]), ([2, 3], [3]), ([4, 1, 3], [2, 1]), ([1], [3, 2]), ([], [2, 2])])
    func arithmeticBroadcasts(a: [Int], b: [Int]) throws {
        try checkGradients([a, b]) { try $0[0] + $0[1] }
        try checkGradients([a, b]) { try $0[0] - $0[1] }
        try checkGradients([a, b]) { try $0[0] * $0[1] }
        try checkGradients([a, b], [.normal, .positive]) { try $0[0] / $0[1] }
        try checkGradients([a, b], [.positive, .normal]) { try Tensor.pow($0[0], $0[1]) }
        // Away from the jumps of ⌊a/b⌋: a in [0.5, 1.5], b in [2, 3].
        try checkGradients([a, b], [.positive, .positive]) { try $0[0] % ($0[1] + 1.5) }
    }

    @Test func negationAndScalarPower() throws {
        try checkGradients([[3, 2]]) { -$0[0] }
        try checkGradients([[3, 2]]) { try Tensor.pow($0[0], 3) }
    }

    @Test func unaryFunctions() throws {
        try checkGradients([[2, 5]]) { $0[0].exp() }
        try checkGradients([[2, 5]], [.positive]) { $0[0].log() }
        try checkGradients([[2, 5]], [.positive]) { $0[0].sqrt() }
        try checkGradients([[2, 5]], [.awayFromZero]) { $0[0].abs() }
        try checkGradients([[2, 5]], [.awayFromZero]) { $0[0].relu() }
        try checkGradients([[2, 5]]) { $0[0].sigmoid() }
        try checkGradients([[2, 5]]) { $0[0].tanh() }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matrixProductTransposes(transposeA: Bool, transposeB: Bool) throws {
        let a = transposeA ? [4, 3] : [3, 4], b = transposeB ? [2, 4] : [4, 2]
        try checkGradients([a, b]) { try Tensor.matmul2D($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
    }

    @Test(arguments: [([2, 3, 4], [4, 5]), ([2, 3, 4], [2, 4, 5]), ([3, 4], [2, 4, 5]), ([1, 3, 4], [2, 4, 5]),
                      ([4], [4, 3]), ([3, 4], [4]), ([4], [4]), ([2, 3, 4], [4])])
    func matmulShapes(a: [Int], b: [Int]) throws {
        try checkGradients([a, b]) { try Tensor.matmul($0[0], $0[1]) }
    }

    @Test func reductions() throws {
        try checkGradients([[3, 4]]) { try $0[0].sum() }
        try checkGradients([[3, 4, 2]]) { try $0[0].sum(axis: 1) }
        try checkGradients([[3, 4, 2]]) { try $0[0].sum(axis: -1, keepDims: true) }
        try checkGradients([[3, 4]]) { try $0[0].mean() }
        try checkGradients([[3, 4]]) { try $0[0].mean(axis: 0) }
        try checkGradients([[3, 4]], [.distinct]) { try $0[0].max() }
        try checkGradients([[3, 4, 2]], [.distinct]) { try $0[0].max(axis: 1) }
        try checkGradients([[3, 4]], [.distinct]) { try $0[0].min(axis: 0, keepDims: true) }
        try checkGradients([[3, 4]], [.awayFromZero]) { $0[0].norm() }
    }

    @Test func softmaxes() throws {
        try checkGradients([[3, 5]]) { try $0[0].softmax() }
        try checkGradients([[4, 3, 2]]) { try $0[0].softmax(axis: 1) }
        try checkGradients([[3, 5]]) { try $0[0].logSoftmax() }
        try checkGradients([[4, 3, 2]]) { try $0[0].logSoftmax(axis: 0) }
    }

    @Test func movements() throws {
        try checkGradients([[2, 6]]) { try $0[0].reshaped([3, -1]) }
        try checkGradients([[2, 3, 4]]) { try $0[0].permuted([2, 0, 1]) }
        try checkGradients([[2, 3]]) { $0[0].T }
        try checkGradients([[2, 3, 4]]) { try $0[0].transposed(0, 2) }
        try checkGradients([[2, 3], [2, 1], [2, 2]]) { try Tensor.concat($0, axis: 1) }
        try checkGradients([[2, 3], [1, 3]]) { try Tensor.concat($0, axis: 0) }
        try checkGradients([[3, 7]]) { try $0[0].sliced(axis: 1, start: 1, end: 6, step: 2) }
        try checkGradients([[5, 2]]) { try $0[0].sliced(axis: 0, start: -1, end: nil, step: -2) }
        try checkGradients([[4, 3]]) { try $0[0].indexSelect([3, 0, 3, -1]) }
        try checkGradients([[4, 3]]) { try $0[0].gatherColumns([2, 0, 1, 2]) }
        try checkGradients([[3, 1]]) { try $0[0].broadcast(to: [2, 3, 4]) }
    }

    @Test(arguments: [(1, 0), (2, 1), (1, 2)])
    func convolution(stride: Int, padding: Int) throws {
        try checkGradients([[2, 3, 6, 5], [4, 3, 3, 2]]) { try Tensor.conv2d($0[0], $0[1], stride: stride, padding: padding) }
        // Output rows of 11: one vector of 8 and 3 left over in im2col and col2im; ten channels:
        // eight bias sums side by side and two alone.
        try checkGradients([[2, 2, 4, 13], [10, 2, 2, 3], [10]]) {
            try Tensor.conv2d($0[0], $0[1], bias: $0[2], stride: stride, padding: padding)
        }
        // 400 values per window: the weight gradient from the windows unfolded as rows (stride 1;
        // five outputs, as four or fewer go through the direct kernels).
        try checkGradients([[2, 16, 6, 5], [5, 16, 5, 5]]) { try Tensor.conv2d($0[0], $0[1], stride: stride, padding: padding) }
    }

    /// The bias gradient sums each plane in one chain from 0, in order, and adds the images' sums
    /// in order — bit for bit, whatever the number of channels (four at a time in the kernel, the
    /// rest alone), the plane's size (four values at a time, the rest alone) or threads.
    @Test(arguments: [(7, 10, 1), (8, 64, 2), (3, 9, 2)])
    func convolutionBiasGradientSumsInOrder(channels: Int, plane: Int, threads: Int) throws {
        let (n, side) = (3, 1)
        var rng = RandomGenerator(seed: UInt64(channels * 100 + plane))
        let width = plane / side
        let x = try Tensor.randn([n, 1, side, width], using: &rng)
        let w = try Tensor.randn([channels, 1, 1, 1], using: &rng)
        let b = try Tensor.zeros([channels]).requiringGrad()
        let seedValues = (0..<(n * channels * plane)).map { _ in rng.nextFloat() * 2 - 1.3 }
        try Parallel.withThreads(threads) {
            try Tensor.conv2d(x, w, bias: b).backward(seed: tensor([n, channels, side, width], seedValues))
        }
        var expected = [Float](repeating: 0, count: channels)
        for img in 0..<n {
            for ch in 0..<channels {
                var sum: Float = 0
                for i in 0..<plane { sum += seedValues[(img * channels + ch) * plane + i] }
                expected[ch] += sum
            }
        }
        #expect(b.grad?.scalars.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    /// Stride-1 convolutions without padding unfold (im2col, and im2row for the weight gradient of
    /// windows of 400 values or more) and fold back (col2im) run by run in C kernels specialised by
    /// output or window width: outputs, input and weight gradients against the definition, for
    /// widths taken by the specialised cases (1, 6, 8, 24) and by the general loop (40), with 3
    /// channels and with 16 and 32 (400 and 800 values a window). Within rounding, as the
    /// products are OpenBLAS's. Five outputs: four or fewer go through the direct kernels
    /// (DirectConvolutionTests).
    @Test(arguments: [(5, 5, 1, 3), (12, 5, 8, 3), (28, 5, 24, 3), (44, 5, 40, 3), (6, 1, 6, 3), (12, 5, 8, 16), (14, 5, 10, 32)])
    func unpaddedConvolutionIsTheScalarDefinition(width: Int, kernel: Int, outputWidth: Int, channels c: Int) throws {
        let (n, o, h) = (2, 5, kernel + 2)
        var rng = RandomGenerator(seed: UInt64(width * 10 + kernel))
        let x = try Tensor.randn([n, c, h, width], using: &rng).requiringGrad()
        let w = try Tensor.randn([o, c, kernel, kernel], using: &rng).requiringGrad()
        let y = try Tensor.conv2d(x, w)
        let oh = h - kernel + 1
        #expect(y.shape == [n, o, oh, outputWidth])
        let (xs, ws) = (x.scalars, w.scalars)
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * Swift.max(1, abs($1)) }
        }
        var forward = [Float]()
        for img in 0..<n { for out in 0..<o { for oy in 0..<oh { for ox in 0..<outputWidth {
            var total: Float = 0
            for ch in 0..<c { for i in 0..<kernel { for j in 0..<kernel {
                total += ws[((out * c + ch) * kernel + i) * kernel + j] * xs[((img * c + ch) * h + oy + i) * width + ox + j]
            } } }
            forward.append(total)
        } } } }
        #expect(close(y.scalars, forward))
        let g = (0..<y.count).map { _ in rng.nextFloat() - 0.5 }
        try y.backward(seed: tensor(y.shape, g))
        // dx by the definition: each input takes every output whose window covers it.
        var dx = [Float](repeating: 0, count: x.count)
        for img in 0..<n {
            for ch in 0..<c {
                for yy in 0..<h {
                    for xx in 0..<width {
                        var total: Float = 0
                        for i in 0..<kernel where yy - i >= 0 && yy - i < oh {
                            for j in 0..<kernel where xx - j >= 0 && xx - j < outputWidth {
                                // dcols for (ch, i, j) at (yy − i, xx − j): Σ over outputs, as the product sums them.
                                var dcol: Float = 0
                                for out in 0..<o {
                                    dcol += ws[((out * c + ch) * kernel + i) * kernel + j]
                                        * g[((img * o + out) * oh + yy - i) * outputWidth + xx - j]
                                }
                                total += dcol
                            }
                        }
                        dx[((img * c + ch) * h + yy) * width + xx] = total
                    }
                }
            }
        }
        #expect(close(x.grad?.scalars ?? [], dx))
        // dW by the definition: each weight takes every output times the input under it.
        var dw = [Float]()
        for out in 0..<o { for ch in 0..<c { for i in 0..<kernel { for j in 0..<kernel {
            var total: Float = 0
            for img in 0..<n { for oy in 0..<oh { for ox in 0..<outputWidth {
                total += g[((img * o + out) * oh + oy) * outputWidth + ox] * xs[((img * c + ch) * h + oy + i) * width + ox + j]
            } } }
            dw.append(total)
        } } } }
        #expect(close(w.grad?.scalars ?? [], dw))
    }

    /// Images are split over the threads and the weight gradient summed per thread: batches that
    /// do not divide evenly, and more threads than images, give the same gradients.
    @Test(arguments: [1, 3, 4])
    func convolutionOverThreads(threads: Int) throws {
        try Parallel.withThreads(threads) {
            try checkGradients([[5, 2, 5, 5], [3, 2, 3, 3], [3]]) { try Tensor.conv2d($0[0], $0[1], bias: $0[2], padding: 1) }
        }
    }

    @Test func maxPooling() throws {
        try checkGradients([[2, 3, 6, 6]], [.distinct]) { try Tensor.maxPool2d($0[0], kernel: 2) }
        try checkGradients([[1, 2, 7, 7]], [.distinct]) { try Tensor.maxPool2d($0[0], kernel: 3, stride: 2) }
        try checkGradients([[2, 2, 7, 8]], [.distinct]) { try Tensor.maxPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
    }

    /// Other windows (3×3, stride 2, padding 1: a ResNet's) are taken separably, rows then
    /// columns: the maxima and where the gradient goes follow the scan of each window in row-major
    /// order — the first of equal values wins, a NaN wins (the last NaN if several).
    @Test(arguments: [(7, 8), (9, 9), (4, 5)])
    func separablePoolingPicksAsTheScan(height: Int, width: Int) throws {
        var rng = RandomGenerator(seed: UInt64(height * 31 + width))
        var xs = (0..<(2 * height * width)).map { _ in Float(Int(rng.nextFloat() * 3)) }
        for i in stride(from: 3, to: xs.count, by: 17) { xs[i] = .nan }
        let x = tensor([1, 2, height, width], xs).requiringGrad()
        let y = try Tensor.maxPool2d(x, kernel: 3, stride: 2, padding: 1)
        let (oh, ow) = ((height + 2 - 3) / 2 + 1, (width + 2 - 3) / 2 + 1)
        #expect(y.shape == [1, 2, oh, ow])
        let r = (0..<(2 * oh * ow)).map { Float($0 + 1) }
        try (y * tensor(y.shape, r)).sum().backward()
        var values = [Float](), grad = [Float](repeating: 0, count: xs.count)
        for p in 0..<2 { for oy in 0..<oh { for ox in 0..<ow {
            var best: Float?, at = 0
            for yy in (oy * 2 - 1)..<(oy * 2 + 2) where yy >= 0 && yy < height {
                for xx in (ox * 2 - 1)..<(ox * 2 + 2) where xx >= 0 && xx < width {
                    let i = p * height * width + yy * width + xx
                    if best == nil || xs[i] > best! || xs[i].isNaN { best = xs[i]; at = i }
                }
            }
            values.append(best!)
            grad[at] += r[values.count - 1]
        } } }
        #expect(zip(y.scalars, values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(x.grad?.scalars == grad)
    }

    @Test func averagePooling() throws {
        try checkGradients([[2, 2, 7, 8]]) { try Tensor.avgPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
        try checkGradients([[1, 3, 6, 6]]) { try Tensor.avgPool2d($0[0], kernel: 2) }
        try checkGradients([[2, 2, 7, 5]]) { try Tensor.adaptiveAvgPool2d($0[0], height: 3, width: 2) }
        try checkGradients([[2, 3, 4, 4]]) { try Tensor.adaptiveAvgPool2d($0[0], height: 1, width: 1) }
        // More outputs than inputs: windows overlap and repeat inputs.
        try checkGradients([[1, 1, 3, 3]]) { try Tensor.adaptiveAvgPool2d($0[0], height: 5, width: 4) }
    }

    /// 2×2 pooling takes output rows four windows at a time (widths 24 → 12 = 3 × 4, 8 → 4,
    /// 18 → 9 = 2 × 4 + 1, 6 → 3 one by one): the maxima and where the gradient goes follow the
    /// one-by-one rule — the first of equal values wins, and a NaN wins (the first NaN if several).
    /// An odd last row and column (5 × 19) belong to no window: their gradient is zero (backward
    /// writes every input rather than clearing them first).
    @Test(arguments: [(4, 24), (4, 8), (4, 18), (4, 6), (5, 19)])
    func twoByTwoPoolingPicksTheFirstLargest(height h: Int, width: Int) throws {
        let planes = 3
        var rng = RandomGenerator(seed: UInt64(h * 100 + width))
        // Values from a small set, so ties are common, and NaNs in some windows.
        var xs = (0..<(planes * h * width)).map { _ in Float(Int(rng.nextFloat() * 3)) }
        for i in stride(from: 5, to: xs.count, by: 23) { xs[i] = .nan }
        (xs[1], xs[width]) = (.nan, .nan)  // two NaNs in the first window: the top one wins
        let x = tensor([1, planes, h, width], xs).requiringGrad()
        let y = try Tensor.maxPool2d(x, kernel: 2)
        let (oh, ow) = (h / 2, width / 2)
        let r = (0..<(planes * oh * ow)).map { Float($0 + 1) }
        try (y * tensor(y.shape, r)).sum().backward()
        var values = [Float](), grad = [Float](repeating: 0, count: xs.count)
        for p in 0..<planes { for oy in 0..<oh { for ox in 0..<ow {
            let corner = p * h * width + 2 * oy * width + 2 * ox
            let window = [corner, corner + 1, corner + width, corner + width + 1]
            let at = window.first { xs[$0].isNaN } ?? window.reduce(corner) { xs[$1] > xs[$0] ? $1 : $0 }
            values.append(xs[at])
            grad[at] += r[(p * oh + oy) * ow + ox]
        } } }
        #expect(y.scalars.map { $0.bitPattern } == values.map { $0.bitPattern })
        #expect(x.grad?.scalars == grad)
    }

    /// Max pooling with `relu` is the pooling of `x.relu()`: values and gradients bit for bit,
    /// with the ties among the zeros ReLU makes and the NaNs it turns into zeros — on the 2×2 path
    /// whose windows tile the image and not (odd sizes), and
    /// on the separable path.
    @Test(arguments: [(2, 2, 0, 4, 24), (2, 2, 0, 6, 18), (2, 2, 0, 5, 7), (3, 2, 1, 7, 8), (3, 3, 0, 6, 9)])
    func poolingWithReLUIsThePoolingOfTheReLU(kernel: Int, stride: Int, padding: Int, height: Int, width: Int) throws {
        var rng = RandomGenerator(seed: UInt64(kernel * 100 + height * 10 + width))
        var xs = (0..<(3 * height * width)).map { _ in Float(Int(rng.nextFloat() * 4)) - 1.5 }
        for i in Swift.stride(from: 4, to: xs.count, by: 19) { xs[i] = .nan }
        for i in Swift.stride(from: 2, to: xs.count, by: 7) { xs[i] = 0 }
        let fused = tensor([1, 3, height, width], xs).requiringGrad()
        let composed = tensor([1, 3, height, width], xs).requiringGrad()
        let y = try Tensor.maxPool2d(fused, kernel: kernel, stride: stride, padding: padding, relu: true)
        let z = try Tensor.maxPool2d(composed.relu(), kernel: kernel, stride: stride, padding: padding)
        #expect(y.shape == z.shape)
        #expect(y.scalars.map(\.bitPattern) == z.scalars.map(\.bitPattern))
        #expect(y.scalars.contains(0) && y.scalars.contains { $0 > 0 }, "windows of both kinds")
        let r = tensor(y.shape, (0..<y.count).map { Float($0 % 5) - 1 })
        try (y * r).sum().backward()
        try (z * r).sum().backward()
        #expect(fused.grad?.scalars.map(\.bitPattern) == composed.grad?.scalars.map(\.bitPattern))
    }

    /// A convolution, ReLU and 2×2 max pooling in one pass are the three operations one after
    /// the other, bit for bit: values and the gradients of input, weights and bias — unpadded,
    /// padded and strided windows, an odd output (its last row and column in no window), with
    /// and without a bias, on one thread and two (each image's work on its own thread). Five or
    /// more outputs where stride 1: four or fewer take the direct kernels, apart.
    @Test(arguments: [(3, 1, 12, 12, 5, 5, 1, 0, true), (4, 3, 9, 9, 5, 3, 1, 1, true), (2, 2, 11, 10, 3, 3, 2, 1, false),
                      (5, 2, 9, 9, 6, 3, 1, 0, true)])
    func convolutionReLUAndPoolingInOnePass(n: Int, c: Int, h: Int, w: Int, o: Int, k: Int, stride: Int, padding: Int,
                                            bias: Bool) throws {
        for threads in [1, 2] {
            try Parallel.withThreads(threads) {
                var rng = RandomGenerator(seed: UInt64(n * 1000 + h * 10 + k))
                func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(Int(rng.nextFloat() * 9)) / 4 - 1 } }
                let xs = values(n * c * h * w), ws = values(o * c * k * k), bs = values(o)
                func inputs() -> (Tensor, Tensor, Tensor?) {
                    (tensor([n, c, h, w], xs).requiringGrad(), tensor([o, c, k, k], ws).requiringGrad(),
                     bias ? tensor([o], bs).requiringGrad() : nil)
                }
                let (x1, w1, b1) = inputs(), (x2, w2, b2) = inputs()
                let fused = try #require(try Tensor.conv2dReluMaxPool2x2(x1, w1, bias: b1, stride: stride, padding: padding))
                let apart = try Tensor.maxPool2d(
                    try Tensor.conv2d(x2, w2, bias: b2, stride: stride, padding: padding).relu(), kernel: 2)
                #expect(fused.shape == apart.shape)
                #expect(fused.scalars.map(\.bitPattern) == apart.scalars.map(\.bitPattern))
                #expect(fused.scalars.contains(0) && fused.scalars.contains { $0 > 0 }, "windows of both kinds")
                let r = tensor(fused.shape, (0..<fused.count).map { Float($0 % 7) - 3 })
                try (fused * r).sum().backward()
                try (apart * r).sum().backward()
                #expect(x1.grad?.scalars.map(\.bitPattern) == x2.grad?.scalars.map(\.bitPattern))
                #expect(w1.grad?.scalars.map(\.bitPattern) == w2.grad?.scalars.map(\.bitPattern))
                #expect(b1?.grad?.scalars.map(\.bitPattern) == b2?.grad?.scalars.map(\.bitPattern))
            }
        }
    }

    /// Where one pass does not apply, the caller is told to run the three operations.
    @Test func convolutionReLUAndPoolingFallsBackWhereItDoesNotApply() throws {
        // A 1×1 output has no 2×2 window; small outputs of large weights share products.
        #expect(try Tensor.conv2dReluMaxPool2x2(try Tensor.zeros([2, 1, 5, 5]), try Tensor.zeros([2, 1, 5, 5])) == nil)
        #expect(try Tensor.conv2dReluMaxPool2x2(try Tensor.zeros([2, 256, 6, 6]), try Tensor.zeros([256, 256, 3, 3])) == nil)
        #expect(throws: TensorError.self) {
            try Tensor.conv2dReluMaxPool2x2(try Tensor.zeros([2, 3, 6, 6]), try Tensor.zeros([2, 1, 3, 3]))
        }
    }

    @Test func batchNormInTraining() throws {
        for shape in [[6, 3], [4, 2, 3, 3]] {
            try checkGradients([shape, [shape[1]], [shape[1]]], tolerance: 2e-2) { xs in
                var mean = try Tensor.zeros([shape[1]]), variance = try Tensor.ones([shape[1]])
                return try xs[0].batchNorm(weight: xs[1], bias: xs[2], runningMean: &mean, runningVar: &variance, training: true)
            }
        }
    }

    @Test func dropoutIsAMaskedProduct() throws {
        try checkGradients([[4, 5]]) { xs in
            var rng = RandomGenerator(seed: 3)  // the same mask on every evaluation
            return try xs[0].dropout(0.3, training: true, using: &rng)
        }
    }

    @Test func gradientReversalFlipsAndScales() throws {
        let x = tensor([3], [1, -2, 3]).requiringGrad()
        let y = x.reversingGradient(lambda: 0.5)
        #expect(y.scalars == x.scalars)
        try (y * tensor([3], [1, 2, 3])).sum().backward()
        #expect(x.grad?.scalars == [-0.5, -1, -1.5])
    }
}
