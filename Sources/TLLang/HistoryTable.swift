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

    /// The epochs as CSV with a header, numbers at full precision (empty where not measured).
    static func csv(_ h: History) -> String {
        func number(_ x: Double?) -> String { x.map { $0.isNaN ? "" : Value.format($0) } ?? "" }
        var lines = ["epoch,loss,accuracy,val_loss,val_accuracy,domain_accuracy,samples_per_second,seconds"]
        for e in h.epochs {
            lines.append([String(e.epoch), number(e.loss), number(e.accuracy), number(e.validationLoss), number(e.validationAccuracy),
                          number(e.domainAccuracy), number(e.samplesPerSecond), number(e.seconds)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
