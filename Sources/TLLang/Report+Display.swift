import TLRender
import TLTransfer

extension Report {
    /// The per-class accuracies and the confusion matrix as tables (classes that occur only).
    public var details: String { detailBlocks.text }

    /// The same, as text and tables.
    public var detailBlocks: [Block] {
        // Classes that occur, as the true class or as a prediction.
        let present = confusion.indices.filter { i in confusion[i].reduce(0, +) > 0 || confusion.contains { $0[i] > 0 } }
        let per = Table(headers: ["class", "samples", "accuracy"], rows: present.map { i in
            [classes[i], String(confusion[i].reduce(0, +)), perClass[i].map(Report.format) ?? "—"]
        }, alignments: [.left, .right, .right])
        let matrix = Table(headers: ["true \\ predicted"] + present.map { classes[$0] },
                           rows: present.map { i in [classes[i]] + present.map { String(confusion[i][$0]) } },
                           alignments: [.left] + present.map { _ in .right })
        // Zero-shot reports have no loss (their decisions are by compatibility, not probability).
        return [.text(summary + (loss.isNaN ? "" : " · loss \(Report.format(loss))") + "\n"), .table(per),
                .text("\nconfusion (rows: true class, columns: predicted)"), .table(matrix)]
    }
}
