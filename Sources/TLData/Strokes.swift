#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in a digit's unit box: x to the right, y down.
struct Point {
    var x: Float, y: Float
}

/// A digit drawn as strokes: each stroke is a polyline through points of the unit box.
struct Glyph {
    var strokes: [[Point]]

    /// Straight segments through the given points.
    static func line(_ points: [(Float, Float)]) -> [Point] { points.map { Point(x: $0.0, y: $0.1) } }

    /// An elliptical arc from `from` to `to` degrees (0° is right, 90° is down), sampled finely.
    static func arc(_ cx: Float, _ cy: Float, _ rx: Float, _ ry: Float, from: Float, to: Float) -> [Point] {
        let steps = Swift.max(4, Int(Swift.abs(to - from) / 12))
        return (0...steps).map { i in
            let t = (from + (to - from) * Float(i) / Float(steps)) * .pi / 180
            return Point(x: cx + rx * cosf(t), y: cy + ry * sinf(t))
        }
    }
}

/// Stroke skeletons of the ten digits, several variants each, handwritten (`hand`) and printed
/// (`printed`, the font-like shapes of house numbers).
enum Skeletons {
    typealias G = Glyph

    static let hand: [[Glyph]] = [
        // 0
        [G(strokes: [G.arc(0.5, 0.5, 0.27, 0.4, from: -90, to: 270)]),
         G(strokes: [G.arc(0.5, 0.5, 0.22, 0.41, from: -100, to: 265)]),
         G(strokes: [G.arc(0.5, 0.52, 0.3, 0.37, from: -70, to: 300)])],
        // 1
        [G(strokes: [G.line([(0.5, 0.1), (0.5, 0.9)])]),
         G(strokes: [G.line([(0.32, 0.28), (0.52, 0.1), (0.5, 0.9)])]),
         G(strokes: [G.line([(0.36, 0.24), (0.54, 0.1), (0.54, 0.9)]), G.line([(0.36, 0.9), (0.72, 0.9)])])],
        // 2
        [G(strokes: [G.arc(0.5, 0.33, 0.24, 0.22, from: 190, to: 380) + G.line([(0.26, 0.9), (0.8, 0.9)])]),
         G(strokes: [G.arc(0.48, 0.32, 0.25, 0.22, from: 200, to: 370) + G.line([(0.22, 0.88), (0.5, 0.8), (0.82, 0.9)])]),
         G(strokes: [G.arc(0.5, 0.35, 0.23, 0.24, from: 180, to: 400) + G.line([(0.24, 0.9), (0.78, 0.88)])])],
        // 3
        [G(strokes: [G.arc(0.47, 0.3, 0.24, 0.2, from: 200, to: 450) + G.arc(0.47, 0.69, 0.27, 0.21, from: -90, to: 160)]),
         G(strokes: [G.line([(0.25, 0.12), (0.72, 0.12), (0.45, 0.45)]) + G.arc(0.47, 0.68, 0.27, 0.23, from: -100, to: 160)]),
         G(strokes: [G.arc(0.5, 0.3, 0.22, 0.19, from: 190, to: 450) + G.arc(0.48, 0.7, 0.26, 0.2, from: -90, to: 150)])],
        // 4
        [G(strokes: [G.line([(0.62, 0.9), (0.62, 0.1), (0.2, 0.64), (0.82, 0.64)])]),
         G(strokes: [G.line([(0.3, 0.1), (0.25, 0.58), (0.8, 0.58)]), G.line([(0.66, 0.3), (0.66, 0.9)])]),
         G(strokes: [G.line([(0.28, 0.12), (0.24, 0.55), (0.72, 0.52)]), G.line([(0.7, 0.1), (0.68, 0.9)])])],
        // 5
        [G(strokes: [G.line([(0.74, 0.1), (0.32, 0.1), (0.28, 0.45)]) + G.arc(0.48, 0.66, 0.27, 0.24, from: -130, to: 150)]),
         G(strokes: [G.line([(0.3, 0.12), (0.26, 0.45)]) + G.arc(0.48, 0.67, 0.26, 0.23, from: -135, to: 155),
                      G.line([(0.3, 0.12), (0.76, 0.1)])]),
         G(strokes: [G.line([(0.72, 0.14), (0.36, 0.12), (0.32, 0.44)]) + G.arc(0.5, 0.66, 0.24, 0.25, from: -120, to: 165)])],
        // 6
        [G(strokes: [G.arc(0.62, 0.55, 0.38, 0.45, from: -80, to: -180) + G.arc(0.5, 0.68, 0.24, 0.22, from: 180, to: 540)]),
         G(strokes: [G.line([(0.66, 0.1), (0.32, 0.55)]) + G.arc(0.5, 0.68, 0.23, 0.21, from: 200, to: 560)]),
         G(strokes: [G.arc(0.65, 0.52, 0.4, 0.42, from: -95, to: -175) + G.arc(0.49, 0.7, 0.22, 0.2, from: 180, to: 530)])],
        // 7
        [G(strokes: [G.line([(0.22, 0.12), (0.78, 0.12), (0.4, 0.9)])]),
         G(strokes: [G.line([(0.22, 0.14), (0.78, 0.12), (0.46, 0.9)]), G.line([(0.38, 0.5), (0.72, 0.5)])]),
         G(strokes: [G.line([(0.2, 0.2), (0.26, 0.12), (0.8, 0.12), (0.52, 0.5), (0.44, 0.9)])])],
        // 8
        [G(strokes: [G.arc(0.5, 0.3, 0.18, 0.18, from: 90, to: 450), G.arc(0.5, 0.69, 0.23, 0.21, from: -90, to: 270)]),
         G(strokes: [G.arc(0.5, 0.29, 0.2, 0.17, from: 0, to: 360), G.arc(0.5, 0.68, 0.25, 0.22, from: 0, to: 360)]),
         G(strokes: [G.arc(0.52, 0.3, 0.16, 0.18, from: 60, to: 420), G.arc(0.48, 0.7, 0.22, 0.2, from: -60, to: 300)])],
        // 9
        [G(strokes: [G.arc(0.5, 0.33, 0.22, 0.2, from: 0, to: 360), G.line([(0.72, 0.33), (0.64, 0.9)])]),
         G(strokes: [G.arc(0.48, 0.32, 0.22, 0.21, from: 10, to: 370) + G.arc(0.3, 0.35, 0.4, 0.55, from: 0, to: 70)]),
         G(strokes: [G.arc(0.5, 0.32, 0.2, 0.19, from: 0, to: 360), G.line([(0.7, 0.3), (0.7, 0.9)])])],
    ]

    /// Printed digits: upright, even, closed shapes (a 4 with a closed top, a 1 with a base, straight stems).
    static let printed: [[Glyph]] = [
        [G(strokes: [G.arc(0.5, 0.5, 0.25, 0.4, from: 0, to: 360)])],
        [G(strokes: [G.line([(0.36, 0.22), (0.54, 0.1), (0.54, 0.9)]), G.line([(0.34, 0.9), (0.74, 0.9)])])],
        [G(strokes: [G.arc(0.5, 0.3, 0.24, 0.2, from: 180, to: 360) + G.line([(0.74, 0.32), (0.26, 0.9), (0.78, 0.9)])])],
        [G(strokes: [G.line([(0.26, 0.1), (0.74, 0.1), (0.48, 0.42)]) + G.arc(0.5, 0.66, 0.25, 0.24, from: -90, to: 150)])],
        [G(strokes: [G.line([(0.64, 0.9), (0.64, 0.1), (0.22, 0.66), (0.8, 0.66)])])],
        [G(strokes: [G.line([(0.74, 0.1), (0.3, 0.1), (0.28, 0.46)]) + G.arc(0.5, 0.66, 0.25, 0.24, from: -120, to: 150)])],
        [G(strokes: [G.line([(0.68, 0.12), (0.3, 0.6)]) + G.arc(0.5, 0.68, 0.22, 0.22, from: 180, to: 540)])],
        [G(strokes: [G.line([(0.24, 0.1), (0.76, 0.1), (0.42, 0.9)])])],
        [G(strokes: [G.arc(0.5, 0.29, 0.19, 0.19, from: 0, to: 360), G.arc(0.5, 0.7, 0.23, 0.21, from: 0, to: 360)])],
        [G(strokes: [G.arc(0.5, 0.32, 0.22, 0.22, from: 0, to: 360), G.line([(0.72, 0.34), (0.7, 0.62), (0.3, 0.9)])])],
    ]
}
