/// The result of evaluating a classifier on labelled data.
public struct Report: Sendable {
    public let classes: [String]
    /// confusion[true][predicted] counts.
    public let confusion: [[Int]]
    public let loss: Double
    /// What it was measured on, for the summary line.
    public let source: String

    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }
    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }

    /// Accuracy of each class (nil for classes with no samples).
    public var perClass: [Double?] {
        confusion.enumerated().map { i, row in
            let n = row.reduce(0, +)
            return n == 0 ? nil : Double(row[i]) / Double(n)
        }
    }

    /// `accuracy 0.874 on digits/mnistm (6000)`.
    public var summary: String { "accuracy \(Report.format(accuracy)) on \(source) (\(count))" }

    /// Three decimals, trailing zeros dropped: 0.874, 0.9, 1.
    public static func format(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        // Large or tiny magnitudes keep their exponent, with three significant digits.
        if Swift.abs(x) >= 1e6 || (x != 0 && Swift.abs(x) < 1e-3) {
            var exponent = 0
            var mantissa = Swift.abs(x)
            while mantissa >= 10 { mantissa /= 10; exponent += 1 }
            while mantissa < 1 { mantissa *= 10; exponent -= 1 }
            let digits = (mantissa * 100).rounded() / 100
            return (x < 0 ? "-" : "") + "\(digits)e\(exponent)"
        }
        let r = (x * 1000).rounded() / 1000
        if r == r.rounded() { return String(Int(r)) }
        return r.description
    }
}
