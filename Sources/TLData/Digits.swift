#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine

/// The four digit domains. Every style gives 3×28×28 images in [0, 1], so a model trained on one
/// runs on another.
public enum DigitStyle: String, CaseIterable, Sendable {
    /// Light handwritten strokes on a dark background.
    case mnist
    /// The same strokes used as a mask over colour textures, as MNIST-M blends MNIST with photos.
    case mnistm
    /// Handwriting drawn coarser (16×16, then scaled), thicker, slanted the other way, filling the frame.
    case usps
    /// Printed digits on coloured backgrounds with parts of neighbouring digits at the edges.
    case svhn

    var salt: UInt64 {
        switch self {
        case .mnist: 0x11
        case .mnistm: 0x22
        case .usps: 0x33
        case .svhn: 0x44
        }
    }
}

/// A greyscale canvas strokes are drawn on, with anti-aliased edges.
struct Canvas {
    let size: Int
    var ink: [Float]

    init(size: Int) {
        self.size = size
        ink = [Float](repeating: 0, count: size * size)
    }

    /// Draws a polyline `width` pixels wide (points in pixel coordinates).
    mutating func stroke(_ points: [Point], width: Float, intensity: Float = 1) {
        let half = width / 2
        for k in 1..<Swift.max(points.count, 1) {
            let a = points[k - 1], b = points[k]
            let x0 = Swift.max(0, Int(floorf(Swift.min(a.x, b.x) - half - 1))), x1 = Swift.min(size - 1, Int(ceilf(Swift.max(a.x, b.x) + half + 1)))
            let y0 = Swift.max(0, Int(floorf(Swift.min(a.y, b.y) - half - 1))), y1 = Swift.min(size - 1, Int(ceilf(Swift.max(a.y, b.y) + half + 1)))
            guard x0 <= x1, y0 <= y1 else { continue }
            let dx = b.x - a.x, dy = b.y - a.y
            let lengthSquared = Swift.max(dx * dx + dy * dy, 1e-6)
            for py in y0...y1 {
                for px in x0...x1 {
                    let cx = Float(px) + 0.5, cy = Float(py) + 0.5
                    let t = Swift.min(1, Swift.max(0, ((cx - a.x) * dx + (cy - a.y) * dy) / lengthSquared))
                    let ex = cx - (a.x + t * dx), ey = cy - (a.y + t * dy)
                    let coverage = Swift.min(1, Swift.max(0, half + 0.5 - (ex * ex + ey * ey).squareRoot())) * intensity
                    if coverage > ink[py * size + px] { ink[py * size + px] = coverage }
                }
            }
        }
    }

    /// Bilinear resampling to `target`×`target`.
    func resized(to target: Int) -> Canvas {
        var out = Canvas(size: target)
        let scale = Float(size) / Float(target)
        for y in 0..<target {
            for x in 0..<target {
                let sx = Swift.max(0, (Float(x) + 0.5) * scale - 0.5), sy = Swift.max(0, (Float(y) + 0.5) * scale - 0.5)
                let x0 = Swift.min(size - 1, Int(sx)), y0 = Swift.min(size - 1, Int(sy))
                let x1 = Swift.min(size - 1, x0 + 1), y1 = Swift.min(size - 1, y0 + 1)
                let fx = sx - Float(x0), fy = sy - Float(y0)
                let top = ink[y0 * size + x0] * (1 - fx) + ink[y0 * size + x1] * fx
                let bottom = ink[y1 * size + x0] * (1 - fx) + ink[y1 * size + x1] * fx
                out.ink[y * target + x] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }
}

/// How one glyph is placed: rotation, shear, scale, translation, wobble, stroke width.
struct Placement {
    var angle: Float = 0, shear: Float = 0, scaleX: Float = 1, scaleY: Float = 1
    var centerX: Float, centerY: Float, box: Float
    var wobble: Float = 0, frequency: Float = 5, phaseX: Float = 0, phaseY: Float = 0
    /// A second, finer wobble: handwriting bends at more than one scale.
    var fineWobble: Float = 0, fineFrequency: Float = 9
    var width: Float

    /// The glyph's strokes in pixel coordinates.
    func apply(_ glyph: Glyph) -> [[Point]] {
        let c = cosf(angle), s = sinf(angle)
        return glyph.strokes.map { stroke in
            stroke.map { p in
                var x = p.x - 0.5, y = p.y - 0.5
                x += wobble * sinf(frequency * y + phaseX) + fineWobble * sinf(fineFrequency * y + 2 * phaseY)
                y += wobble * sinf(frequency * x + phaseY) + fineWobble * sinf(fineFrequency * x + 2 * phaseX)
                x = (x + shear * y) * scaleX
                y *= scaleY
                return Point(x: centerX + box * (c * x - s * y), y: centerY + box * (s * x + c * y))
            }
        }
    }
}

extension RandomGenerator {
    mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextFloat() }
}

/// The digit generator: every image is drawn from its own generator seeded by (seed, style,
/// index), so the result does not depend on how many threads draw it.
public enum Digits {
    public static let classNames = (0..<10).map(String.init)

    public static func generate(count: Int, style: DigitStyle, classes: [Int]? = nil, seed: UInt64) throws -> Dataset {
        guard count >= 0 else { throw DataError("the number of samples must not be negative") }
        let chosen = classes ?? Array(0..<10)
        guard !chosen.isEmpty, chosen.allSatisfy({ (0..<10).contains($0) }), Set(chosen).count == chosen.count else {
            throw DataError("classes must be distinct digits 0–9, got \(chosen)")
        }
        _ = try Shape.count([count, 3, 28, 28], op: "digits")
        let (x, labels) = try Generated.images(
            count: count, classes: chosen, orderSeed: seed ^ style.salt &* 0x2545_F491_4F6C_DD1D, seed: seed, salt: style.salt
        ) { label, rng in draw(label, style: style, rng: &rng) }
        return try Dataset(name: "digits", domain: style.rawValue, x: x, y: labels, classes: classNames)
    }

    /// One 3×28×28 image, channel-major.
    static func draw(_ digit: Int, style: DigitStyle, rng: inout RandomGenerator) -> [Float] {
        switch style {
        case .mnist:
            let ink = handwritten(digit, rng: &rng).ink
            return ink + ink + ink
        case .mnistm:
            let ink = handwritten(digit, rng: &rng).ink
            let texture = Textures.random(&rng)
            // MNIST-M: |texture − digit| in every channel.
            return (0..<3 * 784).map { Swift.abs(texture[$0] - ink[$0 % 784]) }
        case .usps:
            let ink = coarse(digit, rng: &rng).ink
            return ink + ink + ink
        case .svhn:
            return houseNumber(digit, rng: &rng)
        }
    }

    static func handwritten(_ digit: Int, rng: inout RandomGenerator) -> Canvas {
        let variants = Skeletons.hand[digit]
        let glyph = variants[rng.nextInt(below: variants.count)]
        var placement = Placement(
            angle: Swift.max(-0.4, Swift.min(0.4, rng.nextNormal() * 0.18)), shear: rng.uniform(-0.38, 0.3),
            scaleX: rng.uniform(0.62, 1.1), scaleY: rng.uniform(0.78, 1.08),
            centerX: 14 + rng.uniform(-2, 2), centerY: 14 + rng.uniform(-2, 2), box: 20,
            wobble: rng.uniform(0.02, 0.09), frequency: rng.uniform(2, 6), phaseX: rng.uniform(0, 6.3), phaseY: rng.uniform(0, 6.3),
            fineWobble: rng.uniform(0, 0.035), fineFrequency: rng.uniform(6, 11),
            width: rng.uniform(1.5, 3.6))
        if digit == 1 { placement.scaleX = 1 }
        var canvas = Canvas(size: 28)
        for stroke in placement.apply(glyph) { canvas.stroke(stroke, width: placement.width) }
        return canvas
    }

    /// USPS-like: a 16×16 drawing filling its frame, thick, slanted right, scaled up to 28×28.
    static func coarse(_ digit: Int, rng: inout RandomGenerator) -> Canvas {
        let variants = Skeletons.hand[digit]
        let glyph = variants[rng.nextInt(below: variants.count)]
        let placement = Placement(
            angle: rng.nextNormal() * 0.1, shear: rng.uniform(-0.05, 0.45),
            scaleX: rng.uniform(0.78, 1.18), scaleY: rng.uniform(0.9, 1.1),
            centerX: 8 + rng.uniform(-0.6, 0.6), centerY: 8 + rng.uniform(-0.5, 0.5), box: 15.5,
            wobble: rng.uniform(0.02, 0.08), frequency: rng.uniform(2, 6), phaseX: rng.uniform(0, 6.3), phaseY: rng.uniform(0, 6.3),
            fineWobble: rng.uniform(0, 0.03), fineFrequency: rng.uniform(6, 11),
            width: rng.uniform(1.5, 2.8))
        var canvas = Canvas(size: 16)
        for stroke in placement.apply(glyph) { canvas.stroke(stroke, width: placement.width) }
        return canvas.resized(to: 28)
    }

    /// SVHN-like: a printed digit in one colour on another, neighbours cut off at the edges,
    /// lighting gradient, blur and sensor noise.
    static func houseNumber(_ digit: Int, rng: inout RandomGenerator) -> [Float] {
        let box = rng.uniform(17, 22), width = rng.uniform(2.4, 4.4)
        let slant = rng.uniform(-0.08, 0.08)
        var canvas = Canvas(size: 28)
        func place(_ d: Int, dx: Float) {
            let p = Placement(angle: rng.nextNormal() * 0.04, shear: slant, scaleX: rng.uniform(0.8, 1.0), scaleY: 1,
                              centerX: 14 + dx + rng.uniform(-1, 1), centerY: 14 + rng.uniform(-1.2, 1.2), box: box, width: width)
            for stroke in p.apply(Skeletons.printed[d][0]) { canvas.stroke(stroke, width: width) }
        }
        place(digit, dx: 0)
        let gap = box * rng.uniform(0.62, 0.8)
        if rng.nextFloat() < 0.75 { place(rng.nextInt(below: 10), dx: -gap) }
        if rng.nextFloat() < 0.75 { place(rng.nextInt(below: 10), dx: gap) }
        // Colours with enough contrast, either way round.
        var background = Textures.colour(&rng), foreground = Textures.colour(&rng)
        while Swift.abs(Textures.luminance(background) - Textures.luminance(foreground)) < 0.3 {
            foreground = Textures.colour(&rng)
            background = Textures.colour(&rng)
        }
        let gx = rng.uniform(-0.25, 0.25), gy = rng.uniform(-0.25, 0.25)
        var image = [Float](repeating: 0, count: 3 * 784)
        for y in 0..<28 {
            for x in 0..<28 {
                let light = 1 + gx * (Float(x) / 27 - 0.5) + gy * (Float(y) / 27 - 0.5)
                let a = canvas.ink[y * 28 + x]
                for c in 0..<3 {
                    image[c * 784 + y * 28 + x] = (background[c] * (1 - a) + foreground[c] * a) * light
                }
            }
        }
        Textures.blur(&image)
        for i in 0..<image.count { image[i] = Swift.min(1, Swift.max(0, image[i] + rng.nextNormal() * 0.03)) }
        return image
    }
}

/// A pointer handed to worker threads that write disjoint ranges.
struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>?
    init(_ pointer: UnsafeMutablePointer<Float>?) { self.pointer = pointer }
}

/// Procedural colour textures for MNIST-M and SVHN backgrounds.
enum Textures {
    static func colour(_ rng: inout RandomGenerator) -> [Float] { [rng.nextFloat(), rng.nextFloat(), rng.nextFloat()] }

    static func luminance(_ c: [Float]) -> Float { 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] }

    /// A colour as photographs have them: mostly dark to mid tones, moderately saturated. (How dark
    /// sets how hard MNIST-M is for a model trained on MNIST: these tones put it near the real one.)
    static func photoColour(_ rng: inout RandomGenerator) -> [Float] {
        let u = rng.nextFloat()
        let tone = 0.08 + 0.55 * u * u, saturation = rng.uniform(0.1, 0.5)
        return (0..<3).map { _ in Swift.min(1, Swift.max(0, tone + saturation * (rng.nextFloat() - 0.5))) }
    }

    /// A 3×28×28 texture standing in for MNIST-M's crops of photographs: smooth colour noise, a
    /// gradient with grain, or patches, sometimes mixed with finer noise, softened.
    static func random(_ rng: inout RandomGenerator) -> [Float] {
        var t: [Float]
        switch rng.nextInt(below: 3) {
        case 0: t = noise(&rng, cells: 2 + rng.nextInt(below: 4))
        case 1: t = gradient(&rng)
        default: t = patches(&rng)
        }
        if rng.nextFloat() < 0.4 {
            let other = noise(&rng, cells: 5 + rng.nextInt(below: 5))
            let mix = rng.uniform(0.15, 0.35)
            for i in 0..<t.count { t[i] = t[i] * (1 - mix) + other[i] * mix }
        }
        blur(&t)
        return t
    }

    /// Value noise: photo colours on a coarse grid, smoothly interpolated.
    static func noise(_ rng: inout RandomGenerator, cells: Int) -> [Float] {
        let g = cells + 1
        let grid = (0..<(g * g)).map { _ in photoColour(&rng) }
        var out = [Float](repeating: 0, count: 3 * 784)
        for y in 0..<28 {
            for x in 0..<28 {
                let fx = Float(x) / 27 * Float(cells), fy = Float(y) / 27 * Float(cells)
                let x0 = Swift.min(cells - 1, Int(fx)), y0 = Swift.min(cells - 1, Int(fy))
                var tx = fx - Float(x0), ty = fy - Float(y0)
                tx = tx * tx * (3 - 2 * tx)
                ty = ty * ty * (3 - 2 * ty)
                for c in 0..<3 {
                    let top = grid[y0 * g + x0][c] * (1 - tx) + grid[y0 * g + x0 + 1][c] * tx
                    let bottom = grid[(y0 + 1) * g + x0][c] * (1 - tx) + grid[(y0 + 1) * g + x0 + 1][c] * tx
                    out[c * 784 + y * 28 + x] = top * (1 - ty) + bottom * ty
                }
            }
        }
        return out
    }

    static func gradient(_ rng: inout RandomGenerator) -> [Float] {
        let a = photoColour(&rng), b = photoColour(&rng)
        let angle = rng.uniform(0, 6.3), grain = rng.uniform(0.02, 0.08)
        var out = [Float](repeating: 0, count: 3 * 784)
        for y in 0..<28 {
            for x in 0..<28 {
                let t = Swift.min(1, Swift.max(0, 0.5 + (cosf(angle) * (Float(x) - 13.5) + sinf(angle) * (Float(y) - 13.5)) / 28))
                for c in 0..<3 {
                    out[c * 784 + y * 28 + x] = Swift.min(1, Swift.max(0, a[c] * (1 - t) + b[c] * t + rng.nextNormal() * grain))
                }
            }
        }
        return out
    }

    static func patches(_ rng: inout RandomGenerator) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * 784)
        let base = photoColour(&rng)
        for c in 0..<3 { for i in 0..<784 { out[c * 784 + i] = base[c] } }
        for _ in 0..<(2 + rng.nextInt(below: 4)) {
            let col = photoColour(&rng)
            let x0 = rng.nextInt(below: 28), y0 = rng.nextInt(below: 28)
            let w = 5 + rng.nextInt(below: 16), h = 5 + rng.nextInt(below: 16)
            for y in y0..<Swift.min(28, y0 + h) {
                for x in x0..<Swift.min(28, x0 + w) {
                    for c in 0..<3 { out[c * 784 + y * 28 + x] = col[c] }
                }
            }
        }
        return out
    }

    /// A 3×3 box blur of each channel.
    static func blur(_ image: inout [Float]) {
        let source = image
        for c in 0..<3 {
            for y in 0..<28 {
                for x in 0..<28 {
                    var total: Float = 0, n: Float = 0
                    for yy in Swift.max(0, y - 1)...Swift.min(27, y + 1) {
                        for xx in Swift.max(0, x - 1)...Swift.min(27, x + 1) {
                            total += source[c * 784 + yy * 28 + xx]
                            n += 1
                        }
                    }
                    image[c * 784 + y * 28 + x] = total / n
                }
            }
        }
    }
}
