import TLEngine

/// Images as terminal text: each character cell shows two pixels stacked (the upper half block
/// `▀` with the top pixel as foreground and the bottom one as background).
public enum ImageText {
    public enum Mode: Sendable {
        /// 24-bit colour escapes (terminals that set COLORTERM=truecolor).
        case trueColour
        /// The 24 greys of the 256-colour palette.
        case grey
        /// No escapes: a ramp of characters by brightness, for pipes and files.
        case plain
    }

    static let ramp = Array(" .:-=+*#%@")

    /// Renders N×C×H×W images (C = 1 or 3) side by side, wrapping at `width` columns, with a
    /// label centred under each. Values outside [0, 1] are rescaled per image.
    public static func render(_ images: Tensor, labels: [String] = [], mode: Mode, width: Int = 100) -> String {
        guard images.rank == 4, images.shape[1] == 1 || images.shape[1] == 3 else { return "" }
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let values = images.scalars
        let perRow = Swift.max(1, (width + 1) / (w + 1))
        var out: [String] = []
        for rowStart in stride(from: 0, to: n, by: perRow) {
            let members = Array(rowStart..<Swift.min(n, rowStart + perRow))
            // Per-image scale: identity for data in [0, 1], min–max otherwise.
            let scales = members.map { i -> (Float, Float) in
                let slice = values[(i * c * h * w)..<((i + 1) * c * h * w)]
                let lo = slice.min() ?? 0, hi = slice.max() ?? 1
                return lo >= 0 && hi <= 1 ? (0, 1) : (lo, Swift.max(hi - lo, 1e-6))
            }
            func pixel(_ i: Int, _ k: Int, _ y: Int, _ x: Int) -> (Float, Float, Float) {
                guard y < h else { return (0, 0, 0) }
                let (lo, span) = scales[k]
                func channel(_ ch: Int) -> Float {
                    Swift.min(1, Swift.max(0, (values[((i * c + ch) * h + y) * w + x] - lo) / span))
                }
                return c == 3 ? (channel(0), channel(1), channel(2)) : (channel(0), channel(0), channel(0))
            }
            for y in stride(from: 0, to: h, by: 2) {
                var line = ""
                for (k, i) in members.enumerated() {
                    if k > 0 { line += mode == .plain ? " " : "\u{1B}[0m " }
                    for x in 0..<w {
                        line += cell(top: pixel(i, k, y, x), bottom: pixel(i, k, y + 1, x), mode: mode)
                    }
                }
                out.append(line + (mode == .plain ? "" : "\u{1B}[0m"))
            }
            if !labels.isEmpty {
                let captions = members.map { i -> String in
                    let text = String((i < labels.count ? labels[i] : "").prefix(w))
                    let left = (w - text.count) / 2
                    return String(repeating: " ", count: left) + text + String(repeating: " ", count: w - left - text.count)
                }
                var caption = captions.joined(separator: " ")
                while caption.last == " " { caption.removeLast() }
                out.append(caption)
            }
        }
        return out.joined(separator: "\n")
    }

    static func cell(top: (Float, Float, Float), bottom: (Float, Float, Float), mode: Mode) -> String {
        func luminance(_ p: (Float, Float, Float)) -> Float { 0.299 * p.0 + 0.587 * p.1 + 0.114 * p.2 }
        switch mode {
        case .trueColour:
            func rgb(_ p: (Float, Float, Float)) -> String {
                "\(Int((p.0 * 255).rounded()));\(Int((p.1 * 255).rounded()));\(Int((p.2 * 255).rounded()))"
            }
            return "\u{1B}[38;2;\(rgb(top))m\u{1B}[48;2;\(rgb(bottom))m▀"
        case .grey:
            func grey(_ p: (Float, Float, Float)) -> Int { 232 + Int((luminance(p) * 23).rounded()) }
            return "\u{1B}[38;5;\(grey(top))m\u{1B}[48;5;\(grey(bottom))m▀"
        case .plain:
            let l = (luminance(top) + luminance(bottom)) / 2
            return String(ramp[Swift.min(ramp.count - 1, Int(l * Float(ramp.count)))])
        }
    }
}
