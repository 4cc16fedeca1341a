import TLRender
import TLTransfer

/// A training history as a table of epochs.
enum HistoryTable {
    static func render(_ h: History) -> String {
        let validated = h.epochs.contains { $0.validationAccuracy != nil }
        let adversarial = h.epochs.contains { $0.domainAccuracy != nil }
        var headers = ["epoch", "loss", "accuracy"]
        if validated { headers += ["val loss", "val accuracy"] }
        if adversarial { headers += ["domain accuracy"] }
        headers += ["samples/s", "seconds"]
        let rows = h.epochs.map { e -> [String] in
            var row = [String(e.epoch), Report.format(e.loss), Report.format(e.accuracy)]
            if validated { row += [e.validationLoss.map(Report.format) ?? "", e.validationAccuracy.map(Report.format) ?? ""] }
            if adversarial { row.append(e.domainAccuracy.map(Report.format) ?? "") }
            return row + [String(Int(e.samplesPerSecond.rounded())), Report.format(e.seconds)]
        }
        let table = Table(headers: headers, rows: rows, alignments: headers.map { _ in .right })
        return h.summary + "\n" + table.render()
    }
}
