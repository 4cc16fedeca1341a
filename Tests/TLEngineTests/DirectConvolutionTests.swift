import Testing
@testable import TLEngine

/// Convolutions with a handful of output channels (`convolvesDirectly`: four or fewer, stride 1)
/// go through the direct kernels: outputs, input and weight gradients bit for bit against the
/// chains the kernels state (ckernels.h) — fused multiply-adds where the CPU has them —, for
/// output rows within one vector, across vectors and across segments of 32 (41 = 32 + 8 + 1),
/// one to four channels (blocks of three and the rest), windows 3×3, 3×2, 5×5 (the weight
/// gradient's taps three at a time and the rest) and 2×2, padded and not.
@Suite struct DirectConvolutionTests {
    struct Case: Sendable, CustomStringConvertible {
        let n: Int, c: Int, o: Int, h: Int, w: Int, kh: Int, kw: Int, pad: Int, threads: Int
        var description: String { "\(n)×\(c)×\(h)×\(w) → \(o), \(kh)×\(kw) pad \(pad), \(threads) thread(s)" }
    }

    static let cases = [
        Case(n: 2, c: 32, o: 3, h: 28, w: 28, kh: 3, kw: 3, pad: 1, threads: 1),
        Case(n: 3, c: 2, o: 1, h: 5, w: 5, kh: 3, kw: 3, pad: 0, threads: 1),
        Case(n: 2, c: 3, o: 4, h: 6, w: 40, kh: 3, kw: 2, pad: 1, threads: 1),
        Case(n: 2, c: 2, o: 2, h: 9, w: 11, kh: 5, kw: 5, pad: 2, threads: 1),
        Case(n: 4, c: 1, o: 3, h: 4, w: 9, kh: 2, kw: 2, pad: 1, threads: 3),
    ]

    @Test(arguments: cases)
    func directConvolutionIsItsChains(_ k: Case) throws {
        var rng = RandomGenerator(seed: UInt64(k.c * 100 + k.w))
        let x = try Tensor.randn([k.n, k.c, k.h, k.w], using: &rng).requiringGrad()
        let w = try Tensor.randn([k.o, k.c, k.kh, k.kw], using: &rng).requiringGrad()
        let b = try Tensor.randn([k.o], using: &rng).requiringGrad()
        let oh = k.h + 2 * k.pad - k.kh + 1, ow = k.w + 2 * k.pad - k.kw + 1
        let window = try Window(input: x.shape, kh: k.kh, kw: k.kw, stride: 1, pad: k.pad, op: "test")
        #expect(Tensor.convolvesDirectly(window, outputs: k.o))
        let g = (0..<(k.n * k.o * oh * ow)).map { _ in rng.nextFloat() - 0.5 }
        let y = try Parallel.withThreads(k.threads) { () throws -> Tensor in
            let y = try Tensor.conv2d(x, w, bias: b, padding: k.pad)
            try y.backward(seed: tensor(y.shape, g))
            return y
        }
        #expect(y.shape == [k.n, k.o, oh, ow])
        let fused = Tensor.directConvolutionFuses
        func step(_ sum: Float, _ a: Float, _ v: Float) -> Float { fused ? sum.addingProduct(a, v) : sum + a * v }
        let (xs, ws, bs) = (x.scalars, w.scalars, b.scalars)
        func input(_ img: Int, _ ch: Int, _ yy: Int, _ xx: Int) -> Float {
            yy >= 0 && yy < k.h && xx >= 0 && xx < k.w ? xs[((img * k.c + ch) * k.h + yy) * k.w + xx] : 0
        }
        func weight(_ out: Int, _ ch: Int, _ i: Int, _ j: Int) -> Float { ws[((out * k.c + ch) * k.kh + i) * k.kw + j] }
        func grad(_ img: Int, _ out: Int, _ oy: Int, _ ox: Int) -> Float {
            oy >= 0 && oy < oh && ox >= 0 && ox < ow ? g[((img * k.o + out) * oh + oy) * ow + ox] : 0
        }
        // Outputs: from the bias, the taps in order (c, i, j), the padding's zeros included.
        var forward = [Float]()
        for img in 0..<k.n { for out in 0..<k.o { for oy in 0..<oh { for ox in 0..<ow {
            var sum = bs[out]
            for ch in 0..<k.c { for i in 0..<k.kh { for j in 0..<k.kw {
                sum = step(sum, weight(out, ch, i, j), input(img, ch, oy - k.pad + i, ox - k.pad + j))
            } } }
            forward.append(sum)
        } } } }
        #expect(y.scalars.map(\.bitPattern) == forward.map(\.bitPattern))
        // Input gradient: the output gradient padded by k − 1 − pad, convolved with the flipped
        // weights, from 0, over (o, i, j).
        let (qh, qw) = (k.kh - 1 - k.pad, k.kw - 1 - k.pad)
        var dx = [Float]()
        for img in 0..<k.n { for ch in 0..<k.c { for yy in 0..<k.h { for xx in 0..<k.w {
            var sum: Float = 0
            for out in 0..<k.o { for i in 0..<k.kh { for j in 0..<k.kw {
                sum = step(sum, weight(out, ch, k.kh - 1 - i, k.kw - 1 - j), grad(img, out, yy + i - qh, xx + j - qw))
            } } }
            dx.append(sum)
        } } } }
        #expect(x.grad?.scalars.map(\.bitPattern) == dx.map(\.bitPattern))
        // Weight gradient: per image, eight lanes (outputs ox ≡ lane mod 8) summed over rows and
        // vectors in order, the lanes added halves first, then (0 + 2) + (1 + 3); the images'
        // sums added per thread's chunk in order, then the chunks in order.
        let chunks = Swift.max(1, Swift.min(k.threads, k.n)), per = (k.n + chunks - 1) / chunks
        var dw = [Float]()
        for out in 0..<k.o { for ch in 0..<k.c { for i in 0..<k.kh { for j in 0..<k.kw {
            var total: Float = 0
            for chunk in 0..<chunks {
                var partial: Float = 0
                for img in Swift.min(k.n, chunk * per)..<Swift.min(k.n, (chunk + 1) * per) {
                    var lanes = [Float](repeating: 0, count: 8)
                    for oy in 0..<oh { for ox in 0..<ow {
                        lanes[ox % 8] = step(lanes[ox % 8], grad(img, out, oy, ox), input(img, ch, oy - k.pad + i, ox - k.pad + j))
                    } }
                    let half = (0..<4).map { lanes[$0] + lanes[$0 + 4] }
                    partial += (half[0] + half[2]) + (half[1] + half[3])
                }
                total = chunk == 0 ? partial : total + partial
            }
            dw.append(total)
        } } } }
        #expect(w.grad?.scalars.map(\.bitPattern) == dw.map(\.bitPattern))
    }

    /// Five output channels, stride 2, or 1×1 windows keep im2col and the products; so does the
    /// fused convolution, ReLU and pooling, which stands aside for a direct convolution.
    @Test func otherConvolutionsKeepTheProducts() throws {
        func window(_ shape: [Int], _ k: Int, stride: Int = 1, pad: Int = 0) throws -> Window {
            try Window(input: shape, kh: k, kw: k, stride: stride, pad: pad, op: "test")
        }
        #expect(!Tensor.convolvesDirectly(try window([1, 3, 8, 8], 3), outputs: 5))
        #expect(!Tensor.convolvesDirectly(try window([1, 3, 8, 8], 3, stride: 2), outputs: 3))
        #expect(!Tensor.convolvesDirectly(try window([1, 3, 8, 8], 1), outputs: 3))
        #expect(!Tensor.convolvesDirectly(try window([1, 3, 8, 8], 2, pad: 2), outputs: 3))
        #expect(try Tensor.conv2dReluMaxPool2x2(try Tensor.zeros([2, 3, 6, 6]), try Tensor.zeros([3, 3, 3, 3])) == nil)
    }
}
