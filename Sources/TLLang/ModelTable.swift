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

    /// The model's table; a composite (a domain-adversarial network, a multitask network, an
    /// embedder, …) as a table per part, with its settings.
    static func render(_ m: Model) -> String { blocks(m).text }

    /// The model's table, or a composite's tables per part, as text and tables.
    static func blocks(_ m: Model) -> [Block] {
        let parts = m.method.parts(inputShape: m.inputShape)
        guard !(m.network is Sequential), !parts.isEmpty else { return layerBlocks(m) }
        var out: [Block] = [.text(m.method.kind + (m.inputShape.map { " · input \(Shape.describe($0))" } ?? ""))]
        for part in parts {
            switch part.value {
            case .model(let p): out += [.text("\n.\(part.name): \(part.help)")] + layerBlocks(p)
            case .models(let ps):
                for (i, p) in ps.enumerated() { out += [.text("\n.\(part.name)[\(i)]: \(part.help)")] + layerBlocks(p) }
            }
        }
        let settings = m.method.settings.map { "\($0.name): \($0.value)" }
        out.append(.text(([""] + settings + ["\(parameters(m.network)) in all"]).joined(separator: "\n")))
        return out
    }

    /// Index, layer, output shape, parameters and frozen state of each layer.
    static func layerTable(_ m: Model) -> String { layerBlocks(m).text }

    static func layerBlocks(_ m: Model) -> [Block] {
        let shapes = m.outputShapes()
        var rows: [[String]] = []
        for ((name, layer), shape) in zip(m.layers, shapes) {
            rows.append([name, layer.summary, shape.map { Shape.describe($0) } ?? "?", count(layer.parameterCount), frozenState(layer)])
        }
        let table = Table(headers: ["", "layer", "output", "parameters", "frozen"], rows: rows,
                          alignments: [.right, .left, .left, .right, .left])
        let input = m.inputShape.map { "input \(Shape.describe($0)) · " } ?? ""
        return [.table(table), .text(input + parameters(m.network))]
    }

    /// `model · 10 layers · 44,426 parameters` for lists and print.
    static func summaryLine(_ m: Model) -> String {
        let kind = m.method.kind == "classifier" ? "model" : m.method.kind
        return "\(kind) · \(m.layerCount) layer\(m.layerCount == 1 ? "" : "s") · \(parameters(m.network))"
    }

    /// "44,426 parameters", with the trainable ones when some are frozen: "86,430 parameters,
    /// 5,204 trainable (6.0 %)".
    static func parameters(_ network: any Layer) -> String {
        let (total, trainable) = (network.parameterCount, network.trainableCount)
        let all = "\(count(total)) parameters"
        guard trainable < total else { return all }
        let share = Double(trainable) / Double(max(total, 1)) * 100
        return all + ", \(count(trainable)) trainable (\(share < 0.1 && trainable > 0 ? "<0.1" : String(format: "%.1f", share)) %)"
    }

    /// 44426 → 44,426.
    static func count(_ n: Int) -> String { Table.grouped(n) }
}
