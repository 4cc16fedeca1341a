#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TLData
@testable import TLEngine

@Suite struct DigitTests {
    @Test(arguments: DigitStyle.allCases)
    func shapesRangeAndBalance(_ style: DigitStyle) throws {
        let d = try Digits.generate(count: 200, style: style, seed: 3)
        #expect(d.x.shape == [200, 3, 28, 28])
        #expect(d.x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(d.classCounts == Array(repeating: 20, count: 10))
        #expect(d.summary == "dataset digits/\(style.rawValue) · 200 × 3×28×28 · 10 classes · labelled")
        // Strokes are drawn: images are neither blank nor saturated.
        let mean = try d.x.mean().item()
        #expect(mean > 0.05 && mean < 0.9)
    }

    @Test func sameSeedSameImagesWhateverTheThreads() throws {
        let a = try Parallel.withThreads(1) { try Digits.generate(count: 64, style: .svhn, seed: 9) }
        let b = try Parallel.withThreads(2) { try Digits.generate(count: 64, style: .svhn, seed: 9) }
        #expect(a.x == b.x && a.y == b.y)
        let c = try Digits.generate(count: 64, style: .svhn, seed: 10)
        #expect(a.x != c.x)
    }

    @Test func stylesDifferTheWayTheirDomainsDo() throws {
        func stats(_ style: DigitStyle) throws -> (channelSpread: Float, background: Float) {
            let d = try Digits.generate(count: 100, style: style, seed: 1)
            let v = d.x.scalars
            var spread: Float = 0, corner: Float = 0
            for i in 0..<100 {
                for p in 0..<784 {
                    let r = v[i * 2352 + p], g = v[i * 2352 + 784 + p], b = v[i * 2352 + 1568 + p]
                    spread += Swift.max(r, g, b) - Swift.min(r, g, b)
                }
                corner += v[i * 2352]  // the top-left pixel, background almost always
            }
            return (spread / 78_400, corner / 100)
        }
        let mnist = try stats(.mnist), mnistm = try stats(.mnistm), usps = try stats(.usps), svhn = try stats(.svhn)
        #expect(mnist.channelSpread == 0 && usps.channelSpread == 0, "grey styles")
        #expect(mnistm.channelSpread > 0.1 && svhn.channelSpread > 0.1, "colour styles")
        #expect(mnist.background < 0.01, "dark background")
        #expect(mnistm.background > 0.2 && svhn.background > 0.2, "textured or coloured backgrounds")
    }

    @Test func classSubsetsAndBadArguments() throws {
        let d = try Digits.generate(count: 30, style: .mnist, classes: [3, 7], seed: 1)
        #expect(Set(d.y ?? []) == [3, 7])
        #expect(d.classes.count == 10, "class ids stay digit values")
        #expect(throws: DataError.self) { try Digits.generate(count: 10, style: .mnist, classes: [12], seed: 1) }
        #expect(throws: DataError.self) { try Digits.generate(count: -1, style: .mnist, seed: 1) }
        #expect(throws: (any Error).self) { try Digits.generate(count: 1 << 40, style: .mnist, seed: 1) }
    }
}

@Suite struct AnimalTests {
    @Test func attributesDefineDistinctClasses() throws {
        let table = Animals.attributeTable()
        #expect(table.shape == [20, 12])
        let rows = (0..<20).map { Array(table.scalars[($0 * 12)..<($0 * 12 + 12)]) }
        #expect(Set(rows.map { $0.description }).count == 20, "every class is a different combination")
        #expect(Animals.classNames.contains("zebra") && Animals.classNames.contains("alpaca"))
        let w = Animals.wordVectors()
        #expect(w.shape == [20, 384])
        let row = { (i: Int) in Array(w.scalars[(i * 384)..<(i * 384 + 384)]) }
        let cosine = { (i: Int, j: Int) in zip(row(i), row(j)).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        for i in 0..<20 { #expect(Swift.abs(cosine(i, i) - 1) < 1e-4) }
        // Real word vectors carry meaning: a dolphin's nearest class is the whale, a goat's the sheep.
        let index = { (name: String) in Animals.classNames.firstIndex(of: name) ?? -1 }
        for (a, b) in [("dolphin", "whale"), ("goat", "sheep"), ("cat", "dog")] {
            let nearest = (0..<20).filter { $0 != index(a) }.max { cosine(index(a), $0) < cosine(index(a), $1) }
            #expect(nearest == index(b), "\(a)'s nearest class")
        }
    }

    @Test func imagesShowTheirAttributes() throws {
        let d = try Animals.generate(count: 200, seed: 4)
        #expect(d.x.shape == [200, 3, 28, 28] && d.attributes != nil && d.attributeNames.count == 12)
        #expect(try Animals.generate(count: 50, seed: 4).x == (try Animals.generate(count: 50, seed: 4).x))
        // Aquatic classes are drawn on water: their images are bluer than the others.
        let aquatic = Set(Animals.table.indices.filter { Animals.table[$0].attributes.contains("aquatic") })
        var blue: [Bool: [Float]] = [true: [], false: []]
        let v = d.x.scalars
        for (i, label) in (d.y ?? []).enumerated() {
            let b = (0..<784).reduce(Float(0)) { $0 + v[i * 2352 + 1568 + $1] - v[i * 2352 + 784 + $1] } / 784
            blue[aquatic.contains(label), default: []].append(b)
        }
        let mean = { (xs: [Float]) in xs.reduce(0, +) / Float(Swift.max(xs.count, 1)) }
        #expect(mean(blue[true]!) > mean(blue[false]!) + 0.1)
        let subset = try Animals.generate(count: 20, classes: [3, 6], seed: 1)
        #expect(Set(subset.y ?? []) == [3, 6])
    }
}

@Suite struct DatasetOperationTests {
    func small() throws -> Dataset {
        try Dataset(name: "t", x: Tensor(shape: [6, 2], values: (0..<12).map(Float.init)), y: [0, 1, 2, 0, 1, 2],
                    classes: ["a", "b", "c"])
    }

    @Test func splitTakeFilterMerge() throws {
        let d = try small()
        var g = RandomGenerator(seed: 1)
        let (a, b) = try d.split(0.5, using: &g)
        #expect(a.count == 3 && b.count == 3)
        #expect(Set(a.x.scalars + b.x.scalars) == Set(d.x.scalars), "a split loses and repeats nothing")
        #expect(try d.take(2).y == [0, 1])
        #expect(try d.take(1, perClass: true).y == [0, 1, 2])
        #expect(try d.filtered(classes: [2], keep: true).y == [2, 2])
        #expect(try d.filtered(classes: [2], keep: false).count == 4)
        let m = try Dataset.merge(d, d.unlabelled())
        #expect(m.count == 12 && m.y == nil)
        #expect(throws: DataError.self) { try d.split(1.5, using: &g) }
        #expect(throws: DataError.self) { try d.unlabelled().take(1, perClass: true) }
        let other = try Dataset(name: "o", x: Tensor.zeros([2, 3]), y: nil, classes: [])
        #expect(throws: DataError.self) { try Dataset.merge(d, other) }
        #expect(throws: DataError.self) { try Dataset(name: "bad", x: Tensor.zeros([2, 2]), y: [0, 5], classes: ["a"]) }
        #expect(try d.slice(4..<100).count == 2)
    }

    @Test func transformRotatesInvertsAndAddsNoise() throws {
        // A single bright pixel right of centre moves above centre after +90°.
        var values = [Float](repeating: 0, count: 25)
        values[2 * 5 + 4] = 1
        let d = try Dataset(name: "p", x: Tensor(shape: [1, 1, 5, 5], values: values), y: [0], classes: ["a"])
        var g = RandomGenerator(seed: 2)
        let r = try d.transformed(rotate: 90, using: &g).x.scalars
        #expect(Swift.abs(r[0 * 5 + 2] - 1) < 1e-5, "rotated counter-clockwise: \(r)")
        let inverted = try d.transformed(invert: true, using: &g).x.scalars
        #expect(inverted[0] == 1 && inverted[14] == 0)
        let noisy = try d.transformed(noise: 0.2, using: &g).x.scalars
        #expect(noisy != values && noisy.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(throws: DataError.self) { try DatasetOperationTests().small().transformed(rotate: 10, using: &g) }
    }

    @Test func batchesVisitEverySampleOncePerEpoch() throws {
        let d = try Digits.generate(count: 50, style: .mnist, seed: 1)
        var g = RandomGenerator(seed: 3)
        let batches = try Batches(d, size: 16, shuffle: true, using: &g)
        #expect(batches.count == 4)
        var labels: [Int] = []
        var sizes: [Int] = []
        for b in batches {
            sizes.append(b.x.shape[0])
            labels += b.y ?? []
        }
        #expect(sizes == [16, 16, 16, 2])
        #expect(labels.sorted() == (d.y ?? []).sorted())
        #expect(labels != d.y, "shuffled")
    }
}
