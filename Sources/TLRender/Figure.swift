#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A figure: named series of (x, y) points drawn as lines or as points, with a title, axis labels
/// and a legend. It is data only; `FigureText` draws it in the terminal and `FigureSVG` as SVG.
public struct Figure: Sendable {
    public enum Mark: Sendable { case line, points }

    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var mark: Mark

        public init(name: String, x: [Double], y: [Double], mark: Mark) {
            (self.name, self.x, self.y, self.mark) = (name, x, y, mark)
        }

        /// The points with both coordinates finite (nan and infinities are not drawn).
        var finite: [(Double, Double)] { zip(x, y).filter { $0.0.isFinite && $0.1.isFinite } }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]

    public init(title: String = "", xLabel: String = "", yLabel: String = "", series: [Series]) {
        (self.title, self.xLabel, self.yLabel, self.series) = (title, xLabel, yLabel, series)
    }

    /// One line: `figure "loss" · 2 series · 10 points`.
    public var summary: String {
        let points = series.reduce(0) { $0 + $1.x.count }
        let name = title.isEmpty ? "" : " \"\(title)\""
        return "figure\(name) · \(series.count) series · \(points) point\(points == 1 ? "" : "s")"
    }

    /// The range every series fits in, widened where it is a single value.
    var bounds: (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let points = series.flatMap(\.finite)
        func range(_ values: [Double]) -> ClosedRange<Double> {
            guard var lo = values.min(), var hi = values.max() else { return 0...1 }
            if hi - lo < 1e-12 * Swift.max(1, Swift.abs(lo)) {
                let pad = Swift.max(0.5, Swift.abs(lo) * 0.1)
                lo -= pad
                hi += pad
            }
            return lo...hi
        }
        return (range(points.map(\.0)), range(points.map(\.1)))
    }

    /// Round tick values covering `range` (steps of 1, 2 or 5 times a power of ten).
    static func ticks(_ range: ClosedRange<Double>, count: Int) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / Double(Swift.max(1, count))
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        var ticks: [Double] = []
        var t = ceil(range.lowerBound / step - 1e-9) * step
        while t <= range.upperBound + step * 1e-9, ticks.count < 100 {
            ticks.append(Swift.abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return ticks
    }

    /// A label for a tick or an axis end: three significant digits, exponents for the very large
    /// and very small.
    static func label(_ x: Double) -> String {
        if x == 0 || !x.isFinite { return x == 0 ? "0" : "\(x)" }
        var s = String(format: "%.3g", x)
        if let e = s.firstIndex(of: "e") {
            var mantissa = String(s[..<e]), exponent = String(s[s.index(after: e)...])
            if mantissa.contains(".") { while mantissa.hasSuffix("0") { mantissa.removeLast() }; if mantissa.hasSuffix(".") { mantissa.removeLast() } }
            let negative = exponent.hasPrefix("-")
            exponent = String(exponent.drop { $0 == "+" || $0 == "-" || $0 == "0" })
            s = mantissa + "e" + (negative ? "-" : "") + exponent
        }
        return s == "-0" ? "0" : s
    }

    /// Ten distinguishable colours (matplotlib's tab10) as RGB, and the nearest 256-colour codes.
    static let palette: [(r: Int, g: Int, b: Int, ansi: Int)] = [
        (31, 119, 180, 32), (255, 127, 14, 208), (44, 160, 44, 34), (214, 39, 40, 160), (148, 103, 189, 98),
        (140, 86, 75, 95), (227, 119, 194, 170), (127, 127, 127, 244), (188, 189, 34, 142), (23, 190, 207, 38),
    ]
}

extension String {
    /// `x` through a C format (`"%.3g"`), without Foundation.
    public init(format: String, _ x: Double) {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, format, $0) }
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Figures as terminal text: braille dots (2×4 per character) coloured per series, or, without
/// colour, one marker character per series on a character grid.
public enum FigureText {
    static let markers = Array("•+xo*#%@&=")

    public static func render(_ figure: Figure, width: Int = 80, height: Int = 14, colour: Bool) -> String {
        let (xr, yr) = figure.bounds
        let rows = Swift.max(4, height)
        // Round ticks on both axes, as the SVG figures have: each y tick labels the row it falls on.
        var yLabels: [Int: String] = [:]
        for t in Figure.ticks(yr, count: Swift.max(3, rows / 2)) {
            let f = yr.upperBound > yr.lowerBound ? (t - yr.lowerBound) / (yr.upperBound - yr.lowerBound) : 0
            let r = rows - 1 - Int((f * Double(rows - 1)).rounded())
            if (0..<rows).contains(r), yLabels[r] == nil { yLabels[r] = Figure.label(t) }
        }
        let margin = (yLabels.values.map(\.count).max() ?? 1) + 1
        let columns = Swift.max(10, Swift.min(100, width - margin - 2))
        // Dot resolution: braille gives 2×4 dots a cell; plain text one per cell.
        let (dx, dy) = colour ? (2, 4) : (1, 1)
        let dotsX = columns * dx, dotsY = rows * dy
        var bits = [UInt8](repeating: 0, count: columns * rows)
        var owner = [Int](repeating: -1, count: columns * rows)
        func dot(_ px: Int, _ py: Int, _ s: Int) {
            guard px >= 0, px < dotsX, py >= 0, py < dotsY else { return }
            let cell = (py / dy) * columns + px / dx
            if colour {
                // Braille dot numbering: columns of 1-2-3-7 and 4-5-6-8.
                let bit: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
                bits[cell] |= bit[px % 2][py % 4]
            } else {
                bits[cell] = 1
            }
            owner[cell] = s
        }
        func position(_ p: (Double, Double)) -> (Int, Int) {
            let fx = (p.0 - xr.lowerBound) / (xr.upperBound - xr.lowerBound)
            let fy = (p.1 - yr.lowerBound) / (yr.upperBound - yr.lowerBound)
            return (Int((fx * Double(dotsX - 1)).rounded()), dotsY - 1 - Int((fy * Double(dotsY - 1)).rounded()))
        }
        for (s, series) in figure.series.enumerated() {
            let points = series.finite.map(position)
            switch series.mark {
            case .points:
                for (px, py) in points { dot(px, py, s) }
            case .line:
                if points.count == 1 { dot(points[0].0, points[0].1, s) }
                for (a, b) in zip(points, points.dropFirst()) {
                    let steps = Swift.max(Swift.abs(b.0 - a.0), Swift.abs(b.1 - a.1), 1)
                    for k in 0...steps {
                        let t = Double(k) / Double(steps)
                        dot(a.0 + Int((Double(b.0 - a.0) * t).rounded()), a.1 + Int((Double(b.1 - a.1) * t).rounded()), s)
                    }
                }
            }
        }
        func paint(_ text: String, _ s: Int) -> String {
            guard colour, s >= 0 else { return text }
            return "\u{1B}[38;5;\(Figure.palette[s % Figure.palette.count].ansi)m\(text)\u{1B}[0m"
        }
        var lines: [String] = []
        if !figure.title.isEmpty { lines.append(String(repeating: " ", count: margin + 1) + figure.title) }
        if !figure.yLabel.isEmpty { lines.append(String(repeating: " ", count: margin + 1) + figure.yLabel) }
        for r in 0..<rows {
            let label = yLabels[r] ?? ""
            var line = String(repeating: " ", count: margin - 1 - label.count) + label + " " + (label.isEmpty ? "│" : "┤")
            for c in 0..<columns {
                let cell = r * columns + c
                if owner[cell] < 0 {
                    line += " "
                } else if colour {
                    line += paint(String(Character(Unicode.Scalar(0x2800 + UInt32(bits[cell]))!)), owner[cell])
                } else {
                    line += String(markers[owner[cell] % markers.count])
                }
            }
            lines.append(line)
        }
        var axisLine = [Character](repeating: "─", count: columns)
        var tickLabels = [Character](repeating: " ", count: columns)
        var lastEnd = -2
        for t in Figure.ticks(xr, count: Swift.max(2, columns / 14)) {
            let f = xr.upperBound > xr.lowerBound ? (t - xr.lowerBound) / (xr.upperBound - xr.lowerBound) : 0
            let c = Int((f * Double(columns - 1)).rounded())
            guard (0..<columns).contains(c) else { continue }
            axisLine[c] = "┬"
            let text = Array(Figure.label(t))
            let start = Swift.min(Swift.max(0, c - text.count / 2), Swift.max(0, columns - text.count))
            guard start > lastEnd + 1, start + text.count <= columns else { continue }
            for (k, ch) in text.enumerated() { tickLabels[start + k] = ch }
            lastEnd = start + text.count - 1
        }
        lines.append(String(repeating: " ", count: margin) + "└" + String(axisLine))
        var axis = String(repeating: " ", count: margin + 1) + String(tickLabels)
        while axis.last == " " { axis.removeLast() }
        if !figure.xLabel.isEmpty {
            let middle = margin + 1 + Swift.max(0, (columns - figure.xLabel.count) / 2)
            axis += "\n" + String(repeating: " ", count: middle) + figure.xLabel
        }
        lines.append(axis)
        if figure.series.count > 1 || !(figure.series.first?.name.isEmpty ?? true) {
            let keys = figure.series.enumerated().map { s, series in
                paint(colour ? "●" : String(markers[s % markers.count]), s) + " " + series.name
            }
            lines.append(String(repeating: " ", count: margin + 1) + keys.joined(separator: "   "))
        }
        return lines.joined(separator: "\n")
    }
}

/// Figures as standalone SVG: axes with round ticks, labels, a legend, lines and points.
public enum FigureSVG {
    public static func render(_ figure: Figure, width: Int = 640, height: Int = 420) -> String {
        var (xr, yr) = figure.bounds
        // Points drawn at the data's extremes would overlap the frame: leave a margin around them.
        if figure.series.contains(where: { $0.mark == .points }) {
            func padded(_ r: ClosedRange<Double>) -> ClosedRange<Double> {
                let pad = (r.upperBound - r.lowerBound) * 0.04
                return (r.lowerBound - pad)...(r.upperBound + pad)
            }
            (xr, yr) = (padded(xr), padded(yr))
        }
        let left = 64.0, right = 24.0, top = figure.title.isEmpty ? 24.0 : 44.0
        let legendRows = figure.series.count > 1 || !(figure.series.first?.name.isEmpty ?? true) ? figure.series.count : 0
        let bottom = figure.xLabel.isEmpty ? 44.0 : 62.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        func px(_ x: Double) -> Double { left + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * plotH }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        ]
        if !figure.title.isEmpty {
            svg.append("<text x=\"\(f(left + plotW / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(HTML.escape(figure.title))</text>")
        }
        for t in Figure.ticks(xr, count: 6) {
            let x = px(t)
            svg.append("<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#e5e5e5\"/>")
            svg.append("<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#333\"/>")
            svg.append("<text x=\"\(f(x))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(HTML.escape(Figure.label(t)))</text>")
        }
        for t in Figure.ticks(yr, count: 5) {
            let y = py(t)
            svg.append("<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>")
            svg.append("<line x1=\"\(f(left - 5))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#333\"/>")
            svg.append("<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(HTML.escape(Figure.label(t)))</text>")
        }
        svg.append("<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>")
        if !figure.xLabel.isEmpty {
            svg.append("<text x=\"\(f(left + plotW / 2))\" y=\"\(f(Double(height) - 14))\" text-anchor=\"middle\">\(HTML.escape(figure.xLabel))</text>")
        }
        if !figure.yLabel.isEmpty {
            svg.append("<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(figure.yLabel))</text>")
        }
        for (s, series) in figure.series.enumerated() {
            let c = Figure.palette[s % Figure.palette.count]
            let colour = "rgb(\(c.r),\(c.g),\(c.b))"
            let points = series.finite
            switch series.mark {
            case .line:
                let path = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
                svg.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>")
            case .points:
                svg.append("<g fill=\"\(colour)\" fill-opacity=\"0.75\">")
                for p in points { svg.append("<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"2.5\"/>") }
                svg.append("</g>")
            }
        }
        if legendRows > 0 {
            let longest = figure.series.map(\.name.count).max() ?? 0
            let boxW = 30.0 + 7 * Double(longest), x0 = left + plotW - boxW - 8
            svg.append("<rect x=\"\(f(x0))\" y=\"\(f(top + 8))\" width=\"\(f(boxW))\" height=\"\(f(Double(legendRows) * 18 + 6))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>")
            for (s, series) in figure.series.enumerated() {
                let c = Figure.palette[s % Figure.palette.count]
                let y = top + 8 + 14 + Double(s) * 18
                svg.append("<circle cx=\"\(f(x0 + 12))\" cy=\"\(f(y - 4))\" r=\"4\" fill=\"rgb(\(c.r),\(c.g),\(c.b))\"/>")
                svg.append("<text x=\"\(f(x0 + 22))\" y=\"\(f(y))\">\(HTML.escape(series.name))</text>")
            }
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
