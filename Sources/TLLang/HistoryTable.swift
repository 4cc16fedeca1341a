import TLRender
import TLTransfer

/// A training history as a table of epochs: one column per recorded figure.
enum HistoryTable {
    /// The table shows at most this many epochs: the first and the last, with a row of "…"
    /// between (save(h, "h.csv") keeps them all).
    static let maxRows = 60

    static func render(_ h: History) -> String { blocks(h).text }

    static func blocks(_ h: History) -> [Block] {
        let names = h.names
        let headers = ["epoch"] + names + ["samples/s", "seconds"]
        func row(_ e: EpochRecord) -> [String] {
            [String(e.epoch)] + names.map { e[$0].map(Report.format) ?? "" }
                + [String(Int(e.samplesPerSecond.rounded())), Report.format(e.seconds)]
        }
        var rows: [[String]]
        if h.epochs.count > maxRows {
            let gap = headers.map { _ in "…" }
            rows = h.epochs.prefix(maxRows / 2).map(row) + [gap] + h.epochs.suffix(maxRows / 2 - 10).map(row)
        } else {
            rows = h.epochs.map(row)
        }
        let table = Table(headers: headers, rows: rows, alignments: headers.map { _ in .right })
        let more: [Block] = h.epochs.count > maxRows ? [.text("(\(h.epochs.count) epochs; save(h, \"h.csv\") keeps every one)")] : []
        return [.text(h.summary), .table(table)] + more
    }

    /// The epochs as CSV with a header (the recorded figures by name), numbers at full precision
    /// (empty where not measured).
    static func csv(_ h: History) -> String {
        func number(_ x: Double?) -> String { x.map { $0.isNaN ? "" : Value.format($0) } ?? "" }
        let names = h.names
        var lines = [(["epoch"] + names + ["samples_per_second", "seconds"]).joined(separator: ",")]
        for e in h.epochs {
            lines.append(([String(e.epoch)] + names.map { number(e[$0]) } + [number(e.samplesPerSecond), number(e.seconds)])
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The figures `plot(h)` draws together (shares and losses of one scale); every other figure
    /// is one `plot(h.name)` away.
    static let plotted = ["loss", "reconstruction", "accuracy", "source_accuracy", "seen_accuracy", "val_loss", "val_accuracy",
                          "domain_accuracy"]
}
