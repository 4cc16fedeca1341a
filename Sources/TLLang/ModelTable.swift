import TLEngine
import TLNN
import TLRender
import TLTransfer

/// A model shown as a table: index, layer, output shape, parameters, frozen.
enum ModelTable {
    static func frozenState(_ layer: any Layer) -> String {
        let ps = layer.parameters
        guard !ps.isEmpty else { return "" }
        let frozen = ps.filter(\.isFrozen).count
        return frozen == 0 ? "no" : frozen == ps.count ? "yes" : "part"
    }

    static func render(_ m: Model) -> String {
        let shapes = m.outputShapes()
        var rows: [[String]] = []
        for ((name, layer), shape) in zip(m.layers, shapes) {
            rows.append([name, layer.summary, shape.map { Shape.describe($0) } ?? "?", count(layer.parameterCount), frozenState(layer)])
        }
        let table = Table(headers: ["", "layer", "output", "parameters", "frozen"], rows: rows,
                          alignments: [.right, .left, .left, .right, .left])
        let input = m.inputShape.map { "input \(Shape.describe($0)) · " } ?? ""
        return table.render() + "\n" + input + "\(count(m.network.parameterCount)) parameters"
    }

    /// `model · 10 layers · 44,426 parameters` for lists and print.
    static func summaryLine(_ m: Model) -> String {
        "model · \(m.layers.count) layer\(m.layers.count == 1 ? "" : "s") · \(count(m.network.parameterCount)) parameters"
    }

    /// 44426 → 44,426.
    static func count(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }
}
