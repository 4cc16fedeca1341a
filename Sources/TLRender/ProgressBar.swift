/// One line of a training progress bar, in the manner of tqdm:
/// `epoch 2/5 ━━━━━━━━━━╸━━━━━━━━━  120/157 · 2,340/s · loss 0.312 · acc 0.912 · 0:07 left`.
public enum ProgressBar {
    public static func line(epoch: Int, epochs: Int, batch: Int, batches: Int, samplesPerSecond: Double,
                            loss: Double, accuracy: Double, elapsed: Double, width: Int) -> String {
        let done = Double((epoch - 1) * batches + batch) / Double(Swift.max(1, epochs * batches))
        let left = done > 0 ? elapsed * (1 - done) / done : 0
        let rate = samplesPerSecond.isFinite && samplesPerSecond < 1e12 ? String(Int(samplesPerSecond.rounded())) : "?"
        // Without labels (an autoencoder) there is no accuracy to show.
        let acc = accuracy.isNaN ? "" : " · acc \(fixed(accuracy))"
        let lossText = loss.isNaN ? "" : " · loss \(fixed(loss))"
        let rateText = samplesPerSecond.isNaN ? "" : " · \(rate)/s"
        let tail = " \(batch)/\(batches)\(rateText)\(lossText)\(acc) · \(clock(left)) left"
        let head = "epoch \(epoch)/\(epochs) "
        let barWidth = Swift.max(10, Swift.min(30, width - head.count - tail.count - 1))
        let filled = Double(batch) / Double(Swift.max(1, batches)) * Double(barWidth)
        let full = Int(filled)
        var bar = String(repeating: "━", count: full)
        if full < barWidth { bar += filled - Double(full) >= 0.5 ? "╸" : " " }
        bar += String(repeating: " ", count: Swift.max(0, barWidth - bar.count))
        return head + bar + tail
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
