#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// A generated zero-shot set: each class is a set of binary attributes, and every image is drawn
/// from parts that show them, so attributes are learnable from pixels and an unseen class differs
/// from the seen ones only by a new combination.
public enum Animals {
    public static let attributeNames = [
        "furry", "striped", "spotted", "hooves", "long_neck", "horns",
        "long_tail", "long_legs", "dark", "brown", "big", "aquatic",
    ]

    /// The classes and their attributes (names from `attributeNames`).
    public static let table: [(name: String, attributes: Set<String>)] = [
        ("cat", ["furry", "long_tail"]),
        ("dog", ["furry", "brown", "long_legs"]),
        ("horse", ["hooves", "long_legs", "brown", "big", "long_tail"]),
        ("zebra", ["hooves", "long_legs", "striped", "big", "long_tail"]),
        ("llama", ["furry", "long_neck", "long_legs", "hooves"]),
        ("alpaca", ["furry", "long_neck", "hooves", "brown"]),
        ("giraffe", ["long_neck", "long_legs", "spotted", "hooves", "big", "brown"]),
        ("cow", ["hooves", "horns", "spotted", "big", "long_tail"]),
        ("goat", ["hooves", "horns", "furry"]),
        ("sheep", ["furry", "hooves"]),
        ("tiger", ["striped", "furry", "long_tail", "big", "brown"]),
        ("leopard", ["spotted", "furry", "long_tail", "brown"]),
        ("panda", ["furry", "big", "dark", "spotted"]),
        ("bear", ["furry", "big", "dark"]),
        ("pig", ["big"]),
        ("elephant", ["big", "dark", "long_legs"]),
        ("deer", ["hooves", "horns", "long_legs", "brown"]),
        ("dolphin", ["aquatic", "dark", "long_tail"]),
        ("seal", ["aquatic", "spotted"]),
        ("whale", ["aquatic", "big", "dark"]),
    ]

    public static var classNames: [String] { table.map(\.name) }

    /// The classes × attributes 0/1 table.
    public static func attributeTable() -> Tensor {
        let rows = table.flatMap { entry in attributeNames.map { entry.attributes.contains($0) ? Float(1) : 0 } }
        return (try? Tensor(shape: [table.count, attributeNames.count], values: rows)) ?? Tensor(scalar: 0)
    }

    /// The classes' word vectors: each class name embedded by the pretrained sentence model
    /// all-MiniLM-L6-v2 (384 dimensions, unit length), fixed across seeds as pretrained vectors are.
    /// The table is AnimalWordVectors.swift, written by scripts/word-vectors.
    public static func wordVectors() -> Tensor {
        (try? Tensor(shape: [table.count, parsedWordVectors.count / table.count], values: parsedWordVectors)) ?? Tensor(scalar: 0)
    }

    private static let parsedWordVectors: [Float] = {
        let rows = miniLMVectors.split(separator: "\n").map { $0.split(separator: " ") }
        let names = rows.map { $0.first.map(String.init) ?? "" }
        let values = rows.flatMap { $0.dropFirst().map { Float($0) ?? .nan } }
        let width = rows.first.map { $0.count - 1 } ?? 0
        // The table is generated from `table`'s names, in order; a mismatch is a build defect.
        precondition(names == classNames && values.count == names.count * width && !values.contains { $0.isNaN },
                     "AnimalWordVectors.swift does not match Animals.table: run scripts/word-vectors")
        return values
    }()

    public static func generate(count: Int, classes: [Int]? = nil, seed: UInt64) throws -> Dataset {
        guard count >= 0 else { throw DataError("the number of samples must not be negative") }
        let chosen = classes ?? Array(table.indices)
        guard !chosen.isEmpty, chosen.allSatisfy({ table.indices.contains($0) }), Set(chosen).count == chosen.count else {
            throw DataError("classes must be distinct class ids 0–\(table.count - 1) or names")
        }
        _ = try Shape.count([count, 3, 28, 28], op: "animals")
        let (x, labels) = try Generated.images(count: count, classes: chosen, orderSeed: seed ^ 0xA11_A1, seed: seed, salt: 0xA11_A1) {
            label, rng in draw(table[label].attributes, rng: &rng)
        }
        return try Dataset(name: "animals", domain: "", x: x, y: labels, classes: classNames,
                           attributes: attributeTable(), attributeNames: attributeNames, wordVectors: wordVectors())
    }

    /// An RGB painter on a 28×28 canvas.
    struct Painter {
        var image = [Float](repeating: 0, count: 3 * 784)
        var mirrored = false

        mutating func set(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
            let xx = mirrored ? 27 - x : x
            guard xx >= 0, xx < 28, y >= 0, y < 28 else { return }
            image[y * 28 + xx] = c.0
            image[784 + y * 28 + xx] = c.1
            image[1568 + y * 28 + xx] = c.2
        }

        /// Fills an ellipse; `shade` may recolour a pixel by its position inside (stripes, spots).
        mutating func ellipse(_ cx: Float, _ cy: Float, _ rx: Float, _ ry: Float, _ c: (Float, Float, Float),
                              rough: Float = 0, rng: inout RandomGenerator,
                              shade: ((Int, Int) -> (Float, Float, Float)?)? = nil) {
            for y in Int(cy - ry - 2)...Int(cy + ry + 2) {
                for x in Int(cx - rx - 2)...Int(cx + rx + 2) {
                    let dx = (Float(x) + 0.5 - cx) / rx, dy = (Float(y) + 0.5 - cy) / ry
                    let edge = 1 + (rough > 0 ? rough * (rng.nextFloat() - 0.5) : 0)
                    if dx * dx + dy * dy <= edge { set(x, y, shade?(x, y) ?? c) }
                }
            }
        }

        /// A line of thickness about `width` pixels.
        mutating func line(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, width: Float, _ c: (Float, Float, Float)) {
            let steps = Int(Swift.max(Swift.abs(x1 - x0), Swift.abs(y1 - y0)) * 2) + 1
            for s in 0...steps {
                let t = Float(s) / Float(steps)
                let x = x0 + (x1 - x0) * t, y = y0 + (y1 - y0) * t
                let r = Int(width / 2)
                for oy in -r...Swift.max(-r, Int(width) - 1 - r) {
                    for ox in -r...Swift.max(-r, Int(width) - 1 - r) { set(Int(x) + ox, Int(y) + oy, c) }
                }
            }
        }
    }

    static func draw(_ a: Set<String>, rng: inout RandomGenerator) -> [Float] {
        var p = Painter()
        p.mirrored = rng.nextFloat() < 0.5
        let jitter = { (rng: inout RandomGenerator, s: Float) in (rng.nextFloat() - 0.5) * 2 * s }
        // Background: water, or sky over ground.
        let horizon = Int(16 + jitter(&rng, 3))
        let sky = (0.55 + jitter(&rng, 0.15), 0.75 + jitter(&rng, 0.1), 0.9 + jitter(&rng, 0.08))
        let ground = (0.45 + jitter(&rng, 0.12), 0.62 + jitter(&rng, 0.12), 0.3 + jitter(&rng, 0.1))
        let water = (0.1 + jitter(&rng, 0.08), 0.3 + jitter(&rng, 0.1), 0.6 + jitter(&rng, 0.12))
        for y in 0..<28 {
            for x in 0..<28 {
                let base = a.contains("aquatic") ? water : (y < horizon ? sky : ground)
                let n = jitter(&rng, 0.04)
                p.set(x, y, (base.0 + n, base.1 + n, base.2 + n))
            }
        }
        // Body colour.
        var body: (Float, Float, Float)
        if a.contains("dark") {
            let g = 0.18 + jitter(&rng, 0.07)
            body = (g, g, g + 0.02)
        } else if a.contains("brown") {
            body = (0.62 + jitter(&rng, 0.1), 0.38 + jitter(&rng, 0.08), 0.15 + jitter(&rng, 0.06))
        } else {
            let g = 0.85 + jitter(&rng, 0.1)
            body = (g, g * 0.97, g * 0.93)
        }
        let marking: (Float, Float, Float) = a.contains("dark") ? (0.92, 0.92, 0.92) : (0.08, 0.07, 0.06)
        let big = a.contains("big")
        let rx: Float = (big ? 8.5 : 6) + jitter(&rng, 0.8), ry: Float = (big ? 4.8 : 3.6) + jitter(&rng, 0.5)
        let cx: Float = 14 + jitter(&rng, 2), cy: Float = (a.contains("aquatic") ? 14 : Float(horizon) - 1) + jitter(&rng, 1.5)
        let legLength: Float = a.contains("long_legs") ? 8 : 4
        // Legs (none in water), hooves as dark feet.
        if !a.contains("aquatic") {
            for lx in [cx - rx * 0.6, cx - rx * 0.3, cx + rx * 0.35, cx + rx * 0.65] {
                let top = cy + ry * 0.6
                p.line(lx, top, lx + jitter(&rng, 0.6), top + legLength, width: 1.5, body)
                if a.contains("hooves") { p.line(lx, top + legLength, lx + 1, top + legLength, width: 1.5, (0.05, 0.05, 0.05)) }
            }
        }
        // Tail: long and sweeping, or a stub.
        if a.contains("long_tail") {
            p.line(cx - rx, cy - 1, cx - rx - 5, cy + (a.contains("aquatic") ? -3 : 4), width: 1.5, body)
        } else {
            p.line(cx - rx, cy, cx - rx - 1.5, cy, width: 1, body)
        }
        // Body with stripes or spots; furry bodies have ragged outlines.
        var spots: [(Float, Float)] = []
        if a.contains("spotted") {
            for _ in 0..<Int(rx * ry / 6) {
                spots.append((cx + jitter(&rng, rx * 0.8), cy + jitter(&rng, ry * 0.75)))
            }
        }
        let stripePhase = rng.nextFloat() * 3
        p.ellipse(cx, cy, rx, ry, body, rough: a.contains("furry") ? 0.7 : 0, rng: &rng) { x, y in
            if a.contains("striped"), Int(Float(x) + stripePhase) % 3 == 0 { return marking }
            for s in spots where (Float(x) + 0.5 - s.0) * (Float(x) + 0.5 - s.0) + (Float(y) + 0.5 - s.1) * (Float(y) + 0.5 - s.1) < 1.6 {
                return marking
            }
            return nil
        }
        // Neck and head at the front (right before mirroring).
        let neckBase = (cx + rx * 0.7, cy - ry * 0.5)
        let head: (Float, Float)
        if a.contains("long_neck") {
            head = (neckBase.0 + 3, neckBase.1 - 9 + jitter(&rng, 1))
            p.line(neckBase.0, neckBase.1, head.0, head.1, width: 2.5, body)
        } else {
            head = (cx + rx + 1.5, cy - ry * 0.6)
        }
        p.ellipse(head.0, head.1, a.contains("aquatic") ? 3 : 2.6, 2, body, rng: &rng)
        p.set(Int(head.0 + 1), Int(head.1 - 1), (0.02, 0.02, 0.02))  // the eye
        if a.contains("horns") {
            p.line(head.0 - 1, head.1 - 2, head.0 - 2, head.1 - 5, width: 1, (0.95, 0.92, 0.8))
            p.line(head.0 + 1, head.1 - 2, head.0 + 2, head.1 - 5, width: 1, (0.95, 0.92, 0.8))
        }
        for i in 0..<p.image.count { p.image[i] = Swift.min(1, Swift.max(0, p.image[i] + rng.nextNormal() * 0.02)) }
        return p.image
    }
}
