import CBLAS
import CKernels

// 2-D convolution through im2col and a GEMM per image, dropout and batch normalisation.

/// Geometry of a convolution or pooling window over N×C×H×W input.
struct Window {
    let n: Int, c: Int, h: Int, w: Int
    let kh: Int, kw: Int, stride: Int, pad: Int
    /// Output height and width (stored: the kernels read them in their inner loops).
    let oh: Int, ow: Int

    init(input: [Int], kh: Int, kw: Int, stride: Int, pad: Int, op: String) throws {
        guard input.count == 4 else {
            throw TensorError.badShape(op: op, input, "expected N×C×H×W input")
        }
        guard kh > 0, kw > 0, stride > 0, pad >= 0 else {
            throw TensorError.invalidArgument(op: op, "kernel and stride must be positive and padding non-negative")
        }
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (self.kh, self.kw, self.stride, self.pad) = (kh, kw, stride, pad)
        guard h + 2 * pad >= kh, w + 2 * pad >= kw else {
            throw TensorError.badShape(
                op: op, input, "a \(kh)×\(kw) window does not fit in \(h)×\(w) input with padding \(pad)")
        }
        (oh, ow) = ((h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1)
    }

    /// The same windows over the input padded with zeros beforehand (no padding left to clip).
    var padded: Window {
        Window(n: n, c: c, h: h + 2 * pad, w: w + 2 * pad, kh: kh, kw: kw, stride: stride, pad: 0, oh: oh, ow: ow)
    }

    private init(n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, pad: Int, oh: Int, ow: Int) {
        (self.n, self.c, self.h, self.w, self.kh, self.kw) = (n, c, h, w, kh, kw)
        (self.stride, self.pad, self.oh, self.ow) = (stride, pad, oh, ow)
    }

    /// For kernel column `j`: the output columns lo..<hi whose input column lies inside the image.
    func insideColumns(_ j: Int) -> (lo: Int, hi: Int) {
        let r = inside(offset: j, size: w, outputs: ow)
        return (r.lowerBound, r.upperBound)
    }

    /// For kernel row `i`: the output rows whose input row lies inside the image.
    func insideRows(_ i: Int) -> Range<Int> { inside(offset: i, size: h, outputs: oh) }

    /// The outputs (of `outputs` along an axis of `size` inputs) whose input at kernel offset
    /// `offset` lies inside the image rather than in the padding.
    private func inside(offset: Int, size: Int, outputs: Int) -> Range<Int> {
        let lo = Swift.min(outputs, Swift.max(0, (pad - offset + stride - 1) / stride))
        return lo..<Swift.max(lo, Swift.min(outputs, (size + pad - offset + stride - 1) / stride))
    }
}

extension Tensor {
    /// Cross-correlation of N×C×H×W input with O×C×kh×kw weights plus an optional bias of O values
    /// (PyTorch's `conv2d`).
    public static func conv2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                              padding: Int = 0) throws -> Tensor {
        let g = try convolutionWindow(x, weight, bias: bias, stride: stride, padding: padding)
        let o = weight.shape[0]
        let rows = g.c * g.kh * g.kw, spatial = g.oh * g.ow, image = g.c * g.h * g.w

        // Image by image, over the threads: the image's columns, (C·kh·kw) × (oh·ow), are unfolded
        // into a buffer that stays in cache, and the product O × (oh·ow) is written straight into
        // the image's place in the N×O×oh×ow result, onto its bias. Nothing batch-sized is kept.
        var out = Tensor(uninitializedShape: [g.n, o, g.oh, g.ow])
        let pw = weight.storage.pointer, px = x.storage.pointer, po = out.storage.pointer
        let pb = bias?.storage.pointer
        let group = imagesPerProduct(g, rows: rows, outputs: o)
        let direct = convolvesDirectly(g, outputs: o)
        if direct {
            Parallel.forRanges(g.n, cost: o * spatial * rows) { images in
                let offsets = UnsafeMutablePointer<Int64>.allocate(capacity: rows)
                defer { offsets.deallocate() }
                for img in images {
                    withBorder(px + img * image, planes: g.c, h: g.h, w: g.w, border: g.pad) { padded, h, w in
                        tl_conv_direct(padded, Int64(g.c), Int64(h), Int64(w), Int64(g.kh), Int64(g.kw), pw, Int64(o), pb,
                                       po + img * o * spatial, offsets)
                    }
                }
            }
        } else if group > 1 {
            // Small outputs (a ResNet's later stages: 8×8 down to 1×1): one product per group of
            // images, their columns side by side, so the weights are read once per group rather
            // than once per image (image by image, a 1×1 output made each product a
            // matrix-vector product bound by memory).
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * group * spatial)
            let products = UnsafeMutablePointer<Float>.allocate(capacity: o * group * spatial)
            defer { cols.deallocate(); products.deallocate() }
            for first in Swift.stride(from: 0, to: g.n, by: group) {
                let count = Swift.min(group, g.n - first), width = count * spatial
                unfold(px + first * image, count: count, g, into: cols, rowLength: width)
                splitProduct(m: o, n: width, k: rows, a: pw, transposeA: false, lda: rows,
                             b: cols, transposeB: false, ldb: width, beta: 0, c: products)
                Parallel.forRanges(count * o, cost: spatial) { planes in
                    for plane in planes {
                        let (img, ch) = plane.quotientAndRemainder(dividingBy: o)
                        let to = po + ((first + img) * o + ch) * spatial, from = products + ch * width + img * spatial
                        to.update(from: from, count: spatial)
                        if let pb { for i in 0..<spatial { to[i] += pb[ch] } }
                    }
                }
            }
        } else {
        Parallel.forRanges(g.n, cost: o * spatial * rows / 8) { images in
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * spatial)
            defer { cols.deallocate() }
            for img in images {
                convolveImage(px + img * image, g, weights: pw, outputs: o, bias: pb, columns: cols, into: po + img * o * spatial)
            }
        }
        }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        guard recording(inputs) else { return out }
        let w = weight.detached(), input = x.detached()
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        out.record(inputs) { grad in
            var dw: Tensor?, dx: Tensor?, db: Tensor?
            let pg = grad.storage.pointer
            if needB {
                let d = Tensor(uninitializedShape: [o])
                planeSums(pg, images: g.n, channels: o, spatial: spatial, into: d.storage.pointer)
                db = d
            }
            guard needW || needX else { return [dx, dw, db] }
            if direct {
                (dx, dw) = directBackward(grad, input, w, g, needX: needX, needW: needW)
                return [dx, dw, db]
            }
            if group > 1 {
                (dx, dw) = convolutionBackwardGrouped(grad, input, w, g, group: group, needX: needX, needW: needW)
                return [dx, dw, db]
            }
            // Image by image again, each image's gradient read where it lies.
            (dx, dw) = convolutionBackwardByImage(input, w, g, needX: needX, needW: needW) { img, _ in UnsafePointer(pg + img * o * spatial) }
            return [dx, dw, db]
        }
        return out
    }

    /// The weight gradient from the threads' sums (`chunks` of them, one after the other in
    /// `partial`), added in chunk order.
    static func chunkSum(_ partial: UnsafePointer<Float>, chunks: Int, shape: [Int]) -> Tensor {
        let sum = Tensor(uninitializedShape: shape)
        let ps = sum.storage.pointer, count = shape.reduce(1, *)
        ps.update(from: partial, count: count)
        for chunk in 1..<chunks {
            let part = partial + chunk * count
            for i in 0..<count { ps[i] += part[i] }
        }
        return sum
    }

    /// The windows of a convolution of `x` by `weight` (and `bias`), after checking that they fit
    /// together and that the columns and the output can be held.
    static func convolutionWindow(_ x: Tensor, _ weight: Tensor, bias: Tensor?, stride: Int, padding: Int) throws -> Window {
        guard weight.rank == 4 else { throw TensorError.badShape(op: "conv2d", weight.shape, "expected O×C×kh×kw weights") }
        let g = try Window(input: x.shape, kh: weight.shape[2], kw: weight.shape[3], stride: stride, pad: padding, op: "conv2d")
        guard weight.shape[1] == g.c else {
            throw TensorError.shapeMismatch(
                op: "conv2d", "input has \(g.c) channels, weights expect \(weight.shape[1])", x.shape, weight.shape)
        }
        let o = weight.shape[0]
        if let bias, bias.shape != [o] {
            throw TensorError.shapeMismatch(op: "conv2d", "the bias needs one value per output channel", bias.shape, weight.shape)
        }
        _ = try Shape.count([g.c * g.kh * g.kw, g.oh * g.ow], op: "conv2d")
        _ = try Shape.count([g.n, o, g.oh, g.ow], op: "conv2d")
        return g
    }

    /// One image's convolution: its columns unfolded into `columns` ((C·kh·kw) × (oh·ow), a
    /// buffer that stays in cache) and the product O × (oh·ow) written to `out`, onto the bias.
    @inline(__always)
    static func convolveImage(_ image: UnsafePointer<Float>, _ g: Window, weights: UnsafePointer<Float>, outputs o: Int,
                              bias: UnsafePointer<Float>?, columns: UnsafeMutablePointer<Float>,
                              into out: UnsafeMutablePointer<Float>) {
        let rows = g.c * g.kh * g.kw, spatial = g.oh * g.ow
        im2col(image, g, into: columns)
        if let bias {
            for ch in 0..<o { (out + ch * spatial).update(repeating: bias[ch], count: spatial) }
        }
        sgemm(CblasNoTrans, CblasNoTrans, m: o, n: spatial, k: rows, a: weights, lda: rows, b: columns,
              ldb: spatial, beta: bias == nil ? 0 : 1, c: out, ldc: spatial)
    }

    /// The input and weight gradients of a convolution, image by image over the threads:
    /// `gradient(img, scratch)` gives image img's output gradient G (O × oh·ow), where it lies or
    /// made in `scratch` (O·oh·ow floats of the calling thread's own); then dW += G · colsᵀ with
    /// the columns unfolded anew (cheaper than keeping them), and dcols = Wᵀ · G folded back
    /// onto the image's own part of dx. Each thread sums dW for its images; the sums are added
    /// in chunk order. `gradient` is called for every image, even when neither is needed.
    static func convolutionBackwardByImage(_ input: Tensor, _ w: Tensor, _ g: Window, needX: Bool, needW: Bool,
                                           gradient: (_ img: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>)
        -> (dx: Tensor?, dw: Tensor?) {
        let o = w.shape[0], rows = g.c * g.kh * g.kw, spatial = g.oh * g.ow, image = g.c * g.h * g.w
        let chunks = Swift.max(1, Swift.min(Parallel.threads, g.n)), per = (g.n + chunks - 1) / chunks
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: needW ? chunks * o * rows : 1)
        defer { partial.deallocate() }
        if needW { partial.update(repeating: 0, count: chunks * o * rows) }
        let d = needX ? Tensor.zeros(like: input.shape) : nil
        let pin = input.storage.pointer, pdx = d?.storage.pointer, pw = w.storage.pointer
        // The weight gradient G · colsᵀ as G · rows, the columns unfolded transposed (one row per
        // output position), for windows of 400 values or more: OpenBLAS's transposed-B kernels
        // ran G · colsᵀ at half the speed there (LeNet's second convolution, 32 × 400 from 64
        // positions: 52 against 114 GFLOP/s on one core; the DANN paper's, 48 × 800: 70 against
        // 88), and both kernels give the same bits, so every figure printed before stays as it
        // was (with the SkylakeX kernels: checked on 420 shapes in a C harness, and on whole
        // training runs of the lecture's networks). Narrower
        // windows keep the columns: there the gain is small or negative (16 × 25 from 576: 85
        // against 35; 32 × 75 from 576: 43 against 49) and the bits often differ.
        let byRows = g.stride == 1 && rows >= 400
        Parallel.forChunks(chunks) { chunk in
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * spatial)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: o * spatial)
            defer { cols.deallocate(); scratch.deallocate() }
            for img in Swift.min(g.n, chunk * per)..<Swift.min(g.n, (chunk + 1) * per) {
                let gi = gradient(img, scratch)
                if needW && byRows {
                    im2row(pin + img * image, g, into: cols)
                    sgemm(CblasNoTrans, CblasNoTrans, m: o, n: rows, k: spatial, a: gi, lda: spatial, b: cols,
                          ldb: rows, beta: 1, c: partial + chunk * o * rows, ldc: rows)
                } else if needW {
                    im2col(pin + img * image, g, into: cols)
                    sgemm(CblasNoTrans, CblasTrans, m: o, n: rows, k: spatial, a: gi, lda: spatial, b: cols,
                          ldb: spatial, beta: 1, c: partial + chunk * o * rows, ldc: rows)
                }
                if let pdx {
                    sgemm(CblasTrans, CblasNoTrans, m: rows, n: spatial, k: o, a: pw, lda: rows, b: gi,
                          ldb: spatial, beta: 0, c: cols, ldc: spatial)
                    col2im(cols, g, addingInto: pdx + img * image)
                }
            }
        }
        guard needW else { return (d, nil) }
        return (d, chunkSum(partial, chunks: chunks, shape: w.shape))
    }

    /// The gradient of a convolution's bias: per output channel, the sum of its planes over the
    /// images of N×C×(oh·ow) `g` (see `tl_plane_sums`), the channels split over the threads.
    static func planeSums(_ g: UnsafePointer<Float>, images: Int, channels: Int, spatial: Int,
                          into out: UnsafeMutablePointer<Float>) {
        // Whole blocks of four channels per thread (the kernel's vectors).
        let blocks = (channels + 3) / 4
        Parallel.forRanges(blocks, cost: 4 * images * spatial) { range in
            let first = range.lowerBound * 4, last = Swift.min(channels, range.upperBound * 4)
            tl_plane_sums(g, Int64(images), Int64(channels), Int64(spatial), Int64(first), Int64(last - first), out + first)
        }
    }

    /// How many images share one product in a convolution: 1 (image by image, split over the
    /// threads) unless the output is small and the weights large (a ResNet's later stages: 8×8
    /// outputs and below, 147k weights and more), then enough for about 1 024 columns, within
    /// 16 MB of columns. A LeNet's second convolution (8×8 outputs, 13k weights) ran 15 % slower
    /// grouped: its weights stay in cache image after image.
    static func imagesPerProduct(_ g: Window, rows: Int, outputs: Int) -> Int {
        let spatial = g.oh * g.ow
        guard spatial < 256, rows * outputs >= 1 << 16, g.n > 1 else { return 1 }
        return Swift.max(1, Swift.min(g.n, 1024 / spatial, (1 << 22) / Swift.max(1, rows * spatial)))
    }

    /// im2col of `count` consecutive images, side by side: image i's columns start at i·oh·ow
    /// in rows `rowLength` long.
    static func unfold(_ images: UnsafePointer<Float>, count: Int, _ g: Window, into cols: UnsafeMutablePointer<Float>, rowLength: Int) {
        let spatial = g.oh * g.ow, image = g.c * g.h * g.w
        Parallel.forRanges(count, cost: g.c * g.kh * g.kw * spatial) { range in
            for i in range { im2col(images + i * image, g, into: cols + i * spatial, rowLength: rowLength) }
        }
    }

    /// The input and weight gradients of a convolution whose images share products (see
    /// `imagesPerProduct`): per group, the output gradient gathered as O × (images·oh·ow);
    /// dW += G · colsᵀ and dcols = Wᵀ · G, folded back image by image.
    static func convolutionBackwardGrouped(_ grad: Tensor, _ input: Tensor, _ w: Tensor, _ g: Window, group: Int,
                                           needX: Bool, needW: Bool) -> (Tensor?, Tensor?) {
        let o = w.shape[0], rows = g.c * g.kh * g.kw, spatial = g.oh * g.ow, image = g.c * g.h * g.w
        let pg = grad.storage.pointer, pin = input.storage.pointer, pw = w.storage.pointer
        let dw = needW ? Tensor.zeros(like: w.shape) : nil
        let dx = needX ? Tensor.zeros(like: input.shape) : nil
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * group * spatial)
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: o * group * spatial)
        defer { cols.deallocate(); gathered.deallocate() }
        for first in Swift.stride(from: 0, to: g.n, by: group) {
            let count = Swift.min(group, g.n - first), width = count * spatial
            Parallel.forRanges(count * o, cost: spatial) { planes in
                for plane in planes {
                    let (img, ch) = plane.quotientAndRemainder(dividingBy: o)
                    (gathered + ch * width + img * spatial).update(from: pg + ((first + img) * o + ch) * spatial, count: spatial)
                }
            }
            if let dw {
                unfold(pin + first * image, count: count, g, into: cols, rowLength: width)
                splitProduct(m: o, n: rows, k: width, a: gathered, transposeA: false, lda: width,
                             b: cols, transposeB: true, ldb: width, beta: 1, c: dw.storage.pointer)
            }
            if let dx {
                splitProduct(m: rows, n: width, k: o, a: pw, transposeA: true, lda: rows,
                             b: gathered, transposeB: false, ldb: width, beta: 0, c: cols)
                let pdx = dx.storage.pointer
                Parallel.forRanges(count, cost: rows * spatial) { range in
                    for i in range { col2im(cols + i * spatial, g, addingInto: pdx + (first + i) * image, rowLength: width) }
                }
            }
        }
        return (dx, dw)
    }

    /// Copies `n` floats where `n` is small (an output row of a convolution: 8–32): in vector
    /// registers, as a call to memmove per row cost more than the copy itself.
    @inline(__always)
    static func copyShortRun(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        var k = 0
        while k + 8 <= n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self), toByteOffset: 4 * k, as: SIMD8<Float>.self)
            k += 8
        }
        if k + 4 <= n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * k, as: SIMD4<Float>.self), toByteOffset: 4 * k, as: SIMD4<Float>.self)
            k += 4
        }
        while k < n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * k, as: Float.self), toByteOffset: 4 * k, as: Float.self)
            k += 1
        }
    }

    /// Adds `n` floats of `src` onto `dst` where `n` is small, in vector registers.
    @inline(__always)
    static func addShortRun(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        var k = 0
        while k + 8 <= n {
            let sum = d.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self)
                + s.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self)
            d.storeBytes(of: sum, toByteOffset: 4 * k, as: SIMD8<Float>.self)
            k += 8
        }
        while k < n {
            dst[k] += src[k]
            k += 1
        }
    }

    /// Unfolds every kh×kw window of one C×H×W image into a row of `dst` (stride-1 windows): row
    /// (oy, ox), column (c, i, j) — `im2col`'s columns transposed.
    static func im2row(_ src: UnsafePointer<Float>, _ g: Window, into dst: UnsafeMutablePointer<Float>) {
        precondition(g.stride == 1, "im2row takes stride-1 windows")
        if g.pad == 0 {
            tl_im2row_unpadded(src, Int64(g.c), Int64(g.h), Int64(g.w), Int64(g.kh), Int64(g.kw), dst)
            return
        }
        withPaddedImage(g) { image, p in
            forEachInsideRow(g, p) { padded, row in copyShortRun(image + padded, src + row, g.w) }
            tl_im2row_unpadded(image, Int64(p.c), Int64(p.h), Int64(p.w), Int64(p.kh), Int64(p.kw), dst)
        }
    }

    /// Unfolds every kh×kw window of one C×H×W image into a column of `dst`: row (c, i, j),
    /// column (oy, ox); rows `rowLength` apart (oh·ow unless several images share the rows).
    static func im2col(_ src: UnsafePointer<Float>, _ g: Window, into dst: UnsafeMutablePointer<Float>, rowLength: Int? = nil) {
        let spatial = rowLength ?? g.oh * g.ow
        if g.stride == 1, g.pad == 0 {
            tl_im2col_unpadded(src, Int64(g.c), Int64(g.h), Int64(g.w), Int64(g.kh), Int64(g.kw), dst, Int64(spatial))
            return
        }
        if g.stride == 1 {
            // Padded once, the image's runs need no clipping (a ResNet's 3×3 convolutions).
            withPaddedImage(g) { image, p in
                forEachInsideRow(g, p) { padded, row in copyShortRun(image + padded, src + row, g.w) }
                tl_im2col_unpadded(image, Int64(p.c), Int64(p.h), Int64(p.w), Int64(p.kh), Int64(p.kw), dst, Int64(spatial))
            }
            return
        }
        // Strided windows.
        forEachClippedRow(g, rowLength: spatial) { plane, column, i, j, rows, columns in
            let source = src + plane, out = dst + column
            // Padding around the inside rows and columns is zero.
            out.update(repeating: 0, count: rows.lowerBound * g.ow)
            for oy in rows {
                let line = out + oy * g.ow, from = source + (oy * g.stride - g.pad + i) * g.w - g.pad + j
                for ox in 0..<columns.lowerBound { line[ox] = 0 }
                for ox in columns { line[ox] = from[ox &* g.stride] }
                for ox in columns.upperBound..<g.ow { line[ox] = 0 }
            }
            (out + rows.upperBound * g.ow).update(repeating: 0, count: (g.oh - rows.upperBound) * g.ow)
        }
    }

    /// Runs `body` on a zeroed C×(H+2p)×(W+2p) buffer for one image and the windows over it.
    @inline(__always)
    static func withPaddedImage(_ g: Window, _ body: (UnsafeMutablePointer<Float>, Window) -> Void) {
        let p = g.padded
        withUnsafeTemporaryAllocation(of: Float.self, capacity: g.c * p.h * p.w) { buffer in
            let image = buffer.baseAddress!
            image.update(repeating: 0, count: g.c * p.h * p.w)
            body(image, p)
        }
    }

    /// For each row of each channel of the image: its offset in the padded image `p` and in the
    /// image itself (rows `g.w` long).
    @inline(__always)
    static func forEachInsideRow(_ g: Window, _ p: Window, _ body: (_ padded: Int, _ image: Int) -> Void) {
        for ch in 0..<g.c {
            for y in 0..<g.h { body((ch * p.h + y + g.pad) * p.w + g.pad, (ch * g.h + y) * g.w) }
        }
    }

    /// The strided case of im2col and col2im: for each column row (c, i, j),
    /// calls `body` with the offsets of channel c's plane and of the row, and the output rows and
    /// columns whose input lies inside the image. Loops rather than divisions per row (five
    /// divisions per row had cost as much as the copies, for the small images of a ResNet).
    @inline(__always)
    static func forEachClippedRow(_ g: Window, rowLength: Int,
                                  _ body: (_ plane: Int, _ column: Int, _ i: Int, _ j: Int, _ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: g.kh + g.kw) { ranges in
            for i in 0..<g.kh { ranges.initializeElement(at: i, to: g.insideRows(i)) }
            for j in 0..<g.kw {
                let (lo, hi) = g.insideColumns(j)
                ranges.initializeElement(at: g.kh + j, to: lo..<hi)
            }
            var column = 0
            for ch in 0..<g.c {
                let plane = ch * g.h * g.w
                for i in 0..<g.kh {
                    for j in 0..<g.kw {
                        body(plane, column, i, j, ranges[i], ranges[g.kh + j])
                        column &+= rowLength
                    }
                }
            }
        }
    }

    /// Adds every column of one image's `cols` back onto the window it came from, in `dst`, the
    /// image's C×H×W gradient (the adjoint of `im2col`).
    static func col2im(_ cols: UnsafePointer<Float>, _ g: Window, addingInto dst: UnsafeMutablePointer<Float>, rowLength: Int? = nil) {
        let spatial = rowLength ?? g.oh * g.ow
        if g.stride == 1, g.pad == 0 {
            tl_col2im_unpadded(cols, Int64(spatial), Int64(g.c), Int64(g.h), Int64(g.w), Int64(g.kh), Int64(g.kw), dst)
            return
        }
        if g.stride == 1 {
            // Summed into a padded image, whose inside is then added onto the gradient.
            withPaddedImage(g) { image, p in
                tl_col2im_unpadded(cols, Int64(spatial), Int64(p.c), Int64(p.h), Int64(p.w), Int64(p.kh), Int64(p.kw), image)
                forEachInsideRow(g, p) { padded, row in addShortRun(dst + row, image + padded, g.w) }
            }
            return
        }
        // Strided windows.
        forEachClippedRow(g, rowLength: spatial) { plane, column, i, j, rows, columns in
            let target = dst + plane, col = cols + column
            for oy in rows {
                let line = target + (oy * g.stride - g.pad + i) * g.w - g.pad + j, source = col + oy * g.ow
                for ox in columns { line[ox &* g.stride] += source[ox] }
            }
        }
    }

    /// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest
    /// by 1/(1−p); otherwise the identity.
    public func dropout(_ p: Float, training: Bool, using generator: inout RandomGenerator) throws -> Tensor {
        guard p >= 0, p < 1 else { throw TensorError.invalidArgument(op: "dropout", "p must be in [0, 1), got \(p)") }
        guard training, p > 0 else { return self }
        var mask = Tensor(uninitializedShape: shape)
        let scale = 1 / (1 - p)
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<m.count { m[i] = generator.nextFloat() < p ? 0 : scale }
        }
        return try self * mask
    }

    /// Batch normalisation over every axis but 1 (N×C, N×C×L or N×C×H×W input).
    ///
    /// In training it normalises with the batch's statistics and moves the running ones by
    /// `momentum` (the running variance unbiased, as PyTorch does); otherwise it uses the running ones.
    public func batchNorm(
        weight: Tensor, bias: Tensor, runningMean: inout Tensor, runningVar: inout Tensor,
        training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5
    ) throws -> Tensor {
        guard rank >= 2 else { throw TensorError.badShape(op: "batchnorm", shape, "expected N×C… input") }
        let c = shape[1]
        guard weight.shape == [c], bias.shape == [c], runningMean.shape == [c], runningVar.shape == [c] else {
            throw TensorError.shapeMismatch(
                op: "batchnorm", "input has \(c) channels, the layer has \(weight.shape.first ?? 0)", shape, weight.shape)
        }
        let (n, l) = (shape[0], count / Swift.max(1, shape[0] * c))
        let m = n * l
        // One pass for the statistics and one for the output, channel by channel over the
        // threads (as composed tensor operations, ten passes and as many buffers per layer were a
        // fifth of a ResNet's training step). Sums in doubles.
        let statistics = ChannelStatistics(channels: c)
        let (mean, invStd, variance) = (statistics.mean, statistics.invStd, statistics.variance)
        let px = storage.pointer
        if training {
            guard m > 1 else {
                throw TensorError.badShape(op: "batchnorm", shape, "training needs more than one value per channel")
            }
            Parallel.forRanges(c, cost: 2 * m) { channels in
                for ch in channels {
                    var sum = 0.0
                    for img in 0..<n {
                        let row = px + (img * c + ch) * l
                        var part: Float = 0
                        for i in 0..<l { part += row[i] }
                        sum += Double(part)
                    }
                    let mu = sum / Double(m)
                    var squares = 0.0
                    for img in 0..<n {
                        let row = px + (img * c + ch) * l
                        let centre = Float(mu)
                        var part: Float = 0
                        for i in 0..<l { let d = row[i] - centre; part += d * d }
                        squares += Double(part)
                    }
                    mean[ch] = Float(mu)
                    invStd[ch] = Float(1 / (squares / Double(m) + Double(epsilon)).squareRoot())
                    variance[ch] = Float(squares / Double(m))
                }
            }
            let unbias = Float(m) / Float(m - 1)
            runningMean.withUnsafeMutableBufferPointer { r in
                for i in 0..<c { r[i] = (1 - momentum) * r[i] + momentum * mean[i] }
            }
            runningVar.withUnsafeMutableBufferPointer { r in
                for i in 0..<c { r[i] = (1 - momentum) * r[i] + momentum * variance[i] * unbias }
            }
        } else {
            let (rm, rv) = (runningMean.storage.pointer, runningVar.storage.pointer)
            for ch in 0..<c {
                mean[ch] = rm[ch]
                invStd[ch] = 1 / (rv[ch] + epsilon).squareRoot()
            }
        }
        var out = Tensor(uninitializedShape: shape)
        let py = out.storage.pointer, pw = weight.storage.pointer, pb = bias.storage.pointer
        Parallel.forRanges(c, cost: m) { channels in
            for ch in channels {
                let scale = pw[ch] * invStd[ch], shift = pb[ch] - mean[ch] * scale
                for img in 0..<n {
                    let from = px + (img * c + ch) * l, to = py + (img * c + ch) * l
                    for i in 0..<l { to[i] = from[i] * scale + shift }
                }
            }
        }
        let inputs = [self, weight, bias]
        guard Tensor.recording(inputs) else { return out }
        let (x, w) = (detached(), weight.detached())
        let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias.requiresGrad)
        out.record(inputs) { grad in
            let pg = grad.storage.pointer, px = x.storage.pointer, pw = w.storage.pointer
            let dw = Tensor(uninitializedShape: [c]), db = Tensor(uninitializedShape: [c])
            let pdw = dw.storage.pointer, pdb = db.storage.pointer
            let dx = needX ? Tensor(uninitializedShape: x.shape) : nil
            let pdx = dx?.storage.pointer
            Parallel.forRanges(c, cost: 2 * m) { channels in
                for ch in channels {
                    // Σ g and Σ g·x̂ for the affine parameters (and the input's gradient in training).
                    let mu = mean[ch], inv = invStd[ch]
                    var sumG = 0.0, sumGX = 0.0
                    for img in 0..<n {
                        let g = pg + (img * c + ch) * l, v = px + (img * c + ch) * l
                        var a: Float = 0, b: Float = 0
                        for i in 0..<l { a += g[i]; b += g[i] * (v[i] - mu) }
                        sumG += Double(a)
                        sumGX += Double(b)
                    }
                    pdb[ch] = Float(sumG)
                    pdw[ch] = Float(sumGX) * inv
                    guard let pdx else { continue }
                    let scale = pw[ch] * inv
                    if training {
                        // dx = γ·σ⁻¹ · (g − mean(g) − x̂ · mean(g·x̂))
                        let meanG = Float(sumG / Double(m)), meanGX = Float(sumGX / Double(m)) * inv * inv
                        for img in 0..<n {
                            let g = pg + (img * c + ch) * l, v = px + (img * c + ch) * l, d = pdx + (img * c + ch) * l
                            for i in 0..<l { d[i] = scale * (g[i] - meanG - (v[i] - mu) * meanGX) }
                        }
                    } else {
                        for img in 0..<n {
                            let g = pg + (img * c + ch) * l, d = pdx + (img * c + ch) * l
                            for i in 0..<l { d[i] = scale * g[i] }
                        }
                    }
                }
            }
            _ = statistics
            return [dx, needW ? dw : nil, needB ? db : nil]
        }
        return out
    }
}

/// A batch-norm call's per-channel mean, inverse standard deviation and variance, kept for as long as its
/// backward closure lives.
final class ChannelStatistics: @unchecked Sendable {
    let mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    init(channels: Int) {
        (mean, invStd, variance) = (.allocate(capacity: channels), .allocate(capacity: channels), .allocate(capacity: channels))
    }
    deinit { mean.deallocate(); invStd.deallocate(); variance.deallocate() }
}
