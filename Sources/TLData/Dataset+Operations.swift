#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

extension Dataset {
    /// A random `fraction` of the samples and the rest (shuffled with `generator`).
    public func split(_ fraction: Double, using generator: inout RandomGenerator) throws -> (Dataset, Dataset) {
        guard fraction >= 0, fraction <= 1 else { throw DataError("the fraction must be between 0 and 1, got \(fraction)") }
        let order = generator.permutation(count)
        let k = Int((Double(count) * fraction).rounded())
        return (try subset(Array(order[..<k])), try subset(Array(order[k...])))
    }

    /// The first `n` samples, or with `perClass` the first `n` of every class.
    public func take(_ n: Int, perClass: Bool = false) throws -> Dataset {
        guard n >= 0 else { throw DataError("n must not be negative") }
        guard perClass else { return try slice(0..<n) }
        guard let y else { throw DataError("per_class needs labels; this dataset is unlabelled") }
        var seen = [Int](repeating: 0, count: classes.count)
        var indices: [Int] = []
        for (i, label) in y.enumerated() where seen[label] < n {
            seen[label] += 1
            indices.append(i)
        }
        return try subset(indices)
    }

    /// The samples in a random order.
    public func shuffled(using generator: inout RandomGenerator) throws -> Dataset {
        try subset(generator.permutation(count))
    }

    /// The same samples without labels (target data for domain adaptation).
    public func unlabelled() -> Dataset {
        var d = self
        d.y = nil
        return d
    }

    /// Only the samples of the given classes (`keep`), or all but them.
    public func filtered(classes ids: Set<Int>, keep: Bool) throws -> Dataset {
        guard let y else { throw DataError("selecting classes needs labels; this dataset is unlabelled") }
        return try subset(y.indices.filter { ids.contains(y[$0]) == keep })
    }

    /// Both datasets' samples, `a`'s first. Sample shapes and class lists must agree.
    public static func merge(_ a: Dataset, _ b: Dataset) throws -> Dataset {
        guard a.sampleShape == b.sampleShape else {
            throw DataError("cannot merge samples of \(Shape.describe(a.sampleShape)) and \(Shape.describe(b.sampleShape))")
        }
        guard a.classes == b.classes else {
            throw DataError("cannot merge datasets with different classes (\(a.classes.count) and \(b.classes.count))")
        }
        var d = a
        d.x = try Tensor.concat([a.x, b.x], axis: 0)
        if let ya = a.y, let yb = b.y { d.y = ya + yb } else { d.y = nil }
        if a.domain != b.domain { d.domain = a.domain + "+" + b.domain }
        return d
    }

    /// Images resized to `size` (bilinear, half-pixel centres), rotated by `rotate` degrees
    /// (bilinear, zero outside), with Gaussian noise of standard deviation `noise` added, and
    /// inverted (1 − x) when asked. Values are clamped to [0, 1] where noise or inversion applies.
    public func transformed(size: (height: Int, width: Int)? = nil, rotate degrees: Float = 0, noise: Float = 0, invert: Bool = false,
                            using generator: inout RandomGenerator) throws -> Dataset {
        guard noise >= 0 else { throw DataError("noise must not be negative") }
        if let size {
            var d = self
            d.x = try ImageFiles.resized(x, height: size.height, width: size.width)
            return try d.transformed(rotate: degrees, noise: noise, invert: invert, using: &generator)
        }
        if degrees != 0 {
            guard x.rank == 4 else { throw DataError("rotation needs images (N×C×H×W), got samples of \(Shape.describe(sampleShape))") }
        }
        var d = self
        let (n, planeCount) = (count, x.rank == 4 ? x.shape[1] : 1)
        let (h, w) = x.rank == 4 ? (x.shape[2], x.shape[3]) : (1, Swift.max(1, x.count / Swift.max(n, 1)))
        var values = x.scalars
        if degrees != 0 {
            let a = degrees * .pi / 180, c = cosf(a), s = sinf(a)
            let cx = Float(w - 1) / 2, cy = Float(h - 1) / 2
            var rotated = [Float](repeating: 0, count: values.count)
            for p in 0..<(n * planeCount) {
                let base = p * h * w
                for y in 0..<h {
                    for xx in 0..<w {
                        // Inverse mapping (y points down): where in the source this output pixel comes from.
                        let dx = Float(xx) - cx, dy = Float(y) - cy
                        let sx = c * dx - s * dy + cx, sy = s * dx + c * dy + cy
                        let x0 = Int(floorf(sx)), y0 = Int(floorf(sy))
                        let fx = sx - Float(x0), fy = sy - Float(y0)
                        func at(_ yy: Int, _ xq: Int) -> Float {
                            yy >= 0 && yy < h && xq >= 0 && xq < w ? values[base + yy * w + xq] : 0
                        }
                        rotated[base + y * w + xx] = (at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx) * (1 - fy)
                            + (at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx) * fy
                    }
                }
            }
            values = rotated
        }
        if noise > 0 { for i in values.indices { values[i] += generator.nextNormal() * noise } }
        if invert { for i in values.indices { values[i] = 1 - values[i] } }
        if noise > 0 || invert { for i in values.indices { values[i] = Swift.min(1, Swift.max(0, values[i])) } }
        d.x = try Tensor(shape: x.shape, values: values)
        return d
    }

    /// How many samples each class has (zeros for absent classes).
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes.count)
        for label in y ?? [] { counts[label] += 1 }
        return counts
    }
}

/// Mini-batches over a dataset: one permutation per epoch, each batch gathered from the
/// samples it needs (the dataset itself is never copied whole).
public struct Batches: Sequence {
    public let dataset: Dataset
    public let size: Int
    let order: [Int]

    public init(_ dataset: Dataset, size: Int, shuffle: Bool, using generator: inout RandomGenerator) throws {
        guard size > 0 else { throw DataError("the batch size must be positive") }
        self.dataset = dataset
        self.size = size
        order = shuffle ? generator.permutation(dataset.count) : Array(0..<dataset.count)
    }

    /// Number of batches (the last may be smaller).
    public var count: Int { (dataset.count + size - 1) / size }

    public func makeIterator() -> AnyIterator<(x: Tensor, y: [Int]?)> {
        var start = 0
        return AnyIterator {
            guard start < order.count else { return nil }
            let indices = Array(order[start..<Swift.min(order.count, start + size)])
            start += size
            let x: Tensor
            do { x = try dataset.x.indexSelect(indices) } catch {
                // Only the memory budget can refuse a gather of valid indices. The epoch ends
                // here and the trainer reports it (`Memory.checkOverflow`) instead of going on.
                Memory.noteOverflow(error as? MemoryError
                    ?? MemoryError(op: "batch", asked: indices.count * dataset.x.count / Swift.max(1, dataset.count) * 4, held: nil, budget: Memory.budgetBytes))
                return nil
            }
            return (x, dataset.y.map { labels in indices.map { labels[$0] } })
        }
    }
}
