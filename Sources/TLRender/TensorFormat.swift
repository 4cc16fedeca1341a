import TLEngine

/// Text forms of tensors in the style of NumPy: integers without a decimal point, a common
/// precision per tensor, long axes elided in the middle with `...`.
public enum TensorFormat {
    /// Axes longer than this show only `edgeItems` at each end when the tensor is large.
    public static let elisionThreshold = 1000
    public static let edgeItems = 3

    /// `2×3 float32` or `scalar float32`.
    public static func header(_ t: Tensor) -> String { "\(Shape.describe(t.shape)) float32" }

    /// Formats each element with a format chosen from all of them.
    struct ElementFormatter {
        let integral: Bool
        let scientific: Bool
        let decimals: Int

        init(_ values: [Float]) {
            let finite = values.filter(\.isFinite)
            integral = finite.allSatisfy { $0 == $0.rounded() && Swift.abs($0) < 1e16 }
            let magnitudes = finite.map { Swift.abs($0) }.filter { $0 > 0 }
            let largest = magnitudes.max() ?? 0, smallest = magnitudes.min() ?? 0
            scientific = !integral && (largest >= 1e8 || smallest < 1e-4)
            // As many decimals (up to 4) as the values need.
            var needed = 0
            if !integral && !scientific {
                for v in finite {
                    var d = 0
                    while d < 4, Swift.abs(v * powf(10, Float(d)) - (v * powf(10, Float(d))).rounded()) > 1e-3 * powf(10, Float(d)) * Swift.abs(v) + 1e-6 {
                        d += 1
                    }
                    needed = Swift.max(needed, d)
                }
            }
            decimals = Swift.max(needed, integral ? 0 : 1)
        }

        func format(_ v: Float) -> String {
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            if integral { return String(Int64(v)) }
            if scientific { return scientificString(v) }
            return fixedString(v, decimals: decimals)
        }
    }

    static func fixedString(_ v: Float, decimals: Int) -> String {
        let scale = powf(10, Float(decimals))
        let scaled = (Double(v) * Double(scale)).rounded()
        let negative = scaled < 0 || (scaled == 0 && v.sign == .minus && v != 0)
        let magnitude = Swift.abs(scaled)
        let whole = Int64(magnitude / Double(scale))
        let fraction = Int64(magnitude - Double(whole) * Double(scale))
        var text = String(whole)
        if decimals > 0 {
            let f = String(fraction)
            text += "." + String(repeating: "0", count: Swift.max(0, decimals - f.count)) + f
        }
        return (negative ? "-" : "") + text
    }

    static func scientificString(_ v: Float) -> String {
        guard v != 0 else { return "0.0000e+00" }
        var exponent = Int(floor(log10(Double(Swift.abs(v)))))
        var mantissa = Double(v) / pow(10, Double(exponent))
        if Swift.abs((mantissa * 10000).rounded()) >= 100_000 {
            exponent += 1
            mantissa /= 10
        }
        let e = String(Swift.abs(exponent))
        return fixedString(Float(mantissa), decimals: 4) + "e" + (exponent < 0 ? "-" : "+") + (e.count < 2 ? "0" + e : e)
    }

    /// The elements a printout shows: all of them, or for a large tensor only `edgeItems` at each
    /// end of every long axis (`cut` marks those axes), read without copying the rest, as NumPy
    /// summarises.
    struct Summary {
        var shape: [Int]
        var values: [Float]
        var cut: [Bool]

        init(_ t: Tensor) {
            // An empty tensor may still have a long axis (0 × 100000): its positions are elided too.
            let elide = t.count > elisionThreshold || t.shape.reduce(0, +) > elisionThreshold
            let kept = t.shape.map { n in elide && n > 2 * edgeItems ? Array(0..<edgeItems) + Array((n - edgeItems)..<n) : Array(0..<n) }
            cut = t.shape.map { elide && $0 > 2 * edgeItems }
            shape = kept.map(\.count)
            let strides = Shape.strides(t.shape)
            var out: [Float] = []
            out.reserveCapacity(shape.reduce(1, *))
            t.withUnsafeBufferPointer { p in
                func visit(_ axis: Int, _ offset: Int) {
                    if axis == kept.count {
                        out.append(p[offset])
                        return
                    }
                    for i in kept[axis] { visit(axis + 1, offset + i * strides[axis]) }
                }
                if t.count > 0 { visit(0, 0) }
            }
            values = out
        }

        /// The positions along `axis` to show, -1 for the `...` gap.
        func positions(_ axis: Int) -> [Int] {
            let n = shape[axis]
            return cut[axis] ? Array(0..<edgeItems) + [-1] + Array(edgeItems..<n) : Array(0..<n)
        }
    }

    /// The nested-bracket body `[[1, 2], [3, 4]]` on one line.
    public static func inline(_ t: Tensor) -> String {
        let summary = Summary(t)
        let values = summary.values
        let f = ElementFormatter(values)
        if t.rank == 0 { return f.format(values.first ?? 0) }
        func render(_ axis: Int, _ offset: Int) -> String {
            let stride = summary.shape[(axis + 1)...].reduce(1, *)
            let parts = summary.positions(axis).map { i -> String in
                if i < 0 { return "..." }
                return axis == t.rank - 1 ? f.format(values[offset + i]) : render(axis + 1, offset + i * stride)
            }
            return "[" + parts.joined(separator: ", ") + "]"
        }
        return render(0, 0)
    }

    /// Rows aligned in columns, one line per row of the last axis, as NumPy prints matrices.
    public static func block(_ t: Tensor, indent: String = "") -> String {
        let summary = Summary(t)
        let values = summary.values
        let f = ElementFormatter(values)
        if t.rank == 0 { return indent + f.format(values.first ?? 0) }
        // One width for every element, so columns line up.
        let width = values.map { f.format($0).count }.max() ?? 1
        func pad(_ s: String) -> String { String(repeating: " ", count: Swift.max(0, width - s.count)) + s }
        // Lines of the sub-array at `offset` spanning axes axis..<rank, without indentation.
        func render(_ axis: Int, _ offset: Int) -> [String] {
            let stride = summary.shape[(axis + 1)...].reduce(1, *)
            if axis == t.rank - 1 {
                return ["[" + summary.positions(axis).map { $0 < 0 ? pad("...") : pad(f.format(values[offset + $0])) }.joined(separator: ", ") + "]"]
            }
            var lines: [String] = []
            let items = summary.positions(axis)
            for (k, i) in items.enumerated() {
                let child = i < 0 ? ["..."] : render(axis + 1, offset + i * stride)
                for (j, line) in child.enumerated() {
                    lines.append((k == 0 && j == 0 ? "[" : " ") + line)
                }
                // Blocks of rank ≥ 3 are separated by a blank line, as NumPy does.
                if k < items.count - 1 && axis < t.rank - 2 { lines.append("") }
            }
            lines[lines.count - 1] += "]"
            return lines
        }
        return render(0, 0).map { $0.isEmpty ? $0 : indent + $0 }.joined(separator: "\n")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
