import TLEngine

/// What the image generators share: balanced labels in a seeded order, then one 3×28×28 image
/// per sample drawn in parallel, each from its own generator seeded by (seed, index, salt), so the
/// result does not depend on the number of threads.
enum Generated {
    static func images(count: Int, classes: [Int], orderSeed: UInt64, seed: UInt64, salt: UInt64,
                       draw: (_ label: Int, _ rng: inout RandomGenerator) -> [Float]) throws -> (x: Tensor, labels: [Int]) {
        var order = RandomGenerator(seed: orderSeed)
        let labels = order.permutation(count).map { classes[$0 % classes.count] }
        var x = try Tensor.zeros([count, 3, 28, 28])
        x.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedPointer(buffer.baseAddress)
            Parallel.forRanges(count, cost: 20_000) { range in
                for i in range {
                    var rng = RandomGenerator(seed: seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15 ^ salt)
                    let image = draw(labels[i], &rng)
                    (base.pointer! + i * 3 * 784).update(from: image, count: 3 * 784)
                }
            }
        }
        return (x, labels)
    }
}
