/// One line of a training progress bar, in the manner of tqdm:
/// `epoch 2/5 ━━━━━━━━━━╸━━━━━━━━━  120/157 · 2,340/s · loss 0.312 · acc 0.912 · 0:07 left`.
public enum ProgressBar {
    /// The running figures the bar shows, when a method records them, with their short labels.
    static let shown: [(name: String, label: String)] = [
        ("loss", "loss"), ("reconstruction", "reconstruction"), ("accuracy", "acc"), ("source_accuracy", "src acc"),
        ("seen_accuracy", "seen acc"), ("domain_accuracy", "dom acc"),
    ]

    /// The bar after `batch` of `batches` in `epoch`, with the running values of `figures`.
    public static func line(epoch: Int, epochs: Int, batch: Int, batches: Int, samplesPerSecond: Double,
                            figures: [(name: String, value: Double)], elapsed: Double, width: Int) -> String {
        let done = Double((epoch - 1) * batches + batch) / Double(Swift.max(1, epochs * batches))
        let left = done > 0 ? elapsed * (1 - done) / done : 0
        let rate = samplesPerSecond.isFinite && samplesPerSecond < 1e12 ? String(Int(samplesPerSecond.rounded())) : "?"
        var values = shown.compactMap { name, label in
            figures.first { $0.name == name }.flatMap { $0.value.isNaN ? nil : " · \(label) \(fixed($0.value))" }
        }
        let rateText = samplesPerSecond.isNaN ? "" : " · \(rate)/s"
        let head = "epoch \(epoch)/\(epochs) "
        var tail: String { " \(batch)/\(batches)\(rateText)\(values.joined()) · \(clock(left)) left" }
        // Redrawn in place, the line must fit the terminal: a wrapped line leaves its first half
        // behind at every redraw. Figures go from the last, then the line is cut.
        while head.count + 10 + tail.count > width, !values.isEmpty { values.removeLast() }
        let barWidth = Swift.max(10, Swift.min(30, width - head.count - tail.count - 1))
        let filled = Double(batch) / Double(Swift.max(1, batches)) * Double(barWidth)
        let full = Int(filled)
        var bar = String(repeating: "━", count: full)
        if full < barWidth { bar += filled - Double(full) >= 0.5 ? "╸" : " " }
        bar += String(repeating: " ", count: Swift.max(0, barWidth - bar.count))
        let line = head + bar + tail
        return line.count <= width ? line : String(line.prefix(Swift.max(0, width - 1))) + "…"
    }

    /// The line a finished epoch leaves in the scrollback, in the manner of Keras:
    /// `epoch 2/5 · loss 0.312 · accuracy 0.912 · domain_accuracy 0.55 · 2,340 samples/s · 1.2 s`.
    public static func epochLine(epoch: Int, epochs: Int, figures: [(name: String, value: Double)],
                                 samplesPerSecond: Double, seconds: Double) -> String {
        let values = figures.map { "\($0.name) \(fixed($0.value))" }
        let rate = samplesPerSecond.isFinite && samplesPerSecond < 1e12 ? Table.grouped(Int(samplesPerSecond.rounded())) : "?"
        let time = seconds < 10 ? "\((seconds * 10).rounded() / 10) s" : "\(Int(seconds.rounded())) s"
        return (["epoch \(epoch)/\(epochs)"] + values + ["\(rate) samples/s", time]).joined(separator: " · ")
    }

    static func fixed(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : "inf" }
        guard Swift.abs(x) < 1e9 else { return x.description }
        let r = Int((x * 1000).rounded())
        let whole = r / 1000, frac = Swift.abs(r % 1000)
        return "\(whole).\(String(repeating: "0", count: 3 - String(frac).count))\(frac)"
    }

    /// Seconds as m:ss.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 360_000 else { return "–" }
        let s = Int(Swift.max(0, seconds).rounded())
        let r = s % 60
        return "\(s / 60):\(r < 10 ? "0" : "")\(r)"
    }
}
