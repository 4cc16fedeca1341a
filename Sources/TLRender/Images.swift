import TLEngine

/// Images as terminal text: each character cell shows two pixels stacked (the upper half block
/// `▀` with the top pixel as foreground and the bottom one as background).
public enum ImageText {
    public enum Mode: Sendable {
        /// 24-bit colour escapes (terminals that set COLORTERM=truecolor).
        case trueColour
        /// The 256-colour palette (TERM=…-256color, as tmux and most terminals): the 6×6×6 colour
        /// cube or the 24 greys, whichever is nearer, so colour images stay in colour.
        case palette
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
        let values = unitRange(images)
        let perRow = imagesPerRow(width: width, imageWidth: w)
        var out: [String] = []
        for rowStart in stride(from: 0, to: n, by: perRow) {
            let members = Array(rowStart..<Swift.min(n, rowStart + perRow))
            func pixel(_ i: Int, _ k: Int, _ y: Int, _ x: Int) -> (Float, Float, Float) {
                guard y < h else { return (0, 0, 0) }
                return colour(values, image: i, c: c, h: h, w: w, y: y, x: x)
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

    /// How many images of `imageWidth` pixels fit side by side (one column apart) in `width` columns.
    public static func imagesPerRow(width: Int, imageWidth: Int) -> Int { Swift.max(1, (width + 1) / (imageWidth + 1)) }

    /// The images' values mapped to [0, 1]: as they are when already there, else min–max per image.
    static func unitRange(_ images: Tensor) -> [Float] {
        var values = images.scalars
        let n = images.shape[0], size = n > 0 ? values.count / n : 0
        for i in 0..<n {
            let range = (i * size)..<((i + 1) * size)
            let lo = values[range].min() ?? 0, hi = values[range].max() ?? 1
            guard lo < 0 || hi > 1 else { continue }
            let span = Swift.max(hi - lo, 1e-6)
            for k in range { values[k] = Swift.min(1, Swift.max(0, (values[k] - lo) / span)) }
        }
        return values
    }

    /// One pixel of image `i` of unit-range values as RGB (grey images repeat their channel).
    static func colour(_ values: [Float], image i: Int, c: Int, h: Int, w: Int, y: Int, x: Int) -> (Float, Float, Float) {
        func channel(_ ch: Int) -> Float { values[((i * c + ch) * h + y) * w + x] }
        return c == 3 ? (channel(0), channel(1), channel(2)) : (channel(0), channel(0), channel(0))
    }

    /// N×C×H×W images side by side (at most `perRow` a row, 2 px apart, each pixel `scale`×`scale`)
    /// as PNG bytes, for notebooks.
    public static func png(_ images: Tensor, perRow: Int = 8, scale: Int = 2) -> [UInt8]? {
        guard images.rank == 4, images.shape[1] == 1 || images.shape[1] == 3, images.shape[0] > 0 else { return nil }
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let values = unitRange(images)
        let columns = Swift.min(n, Swift.max(1, perRow)), rows = (n + columns - 1) / columns
        let gap = 2, cellW = w * scale + gap, cellH = h * scale + gap
        let width = columns * cellW - gap, height = rows * cellH - gap
        guard width > 0, height > 0, width * height <= 50_000_000 else { return nil }
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        for i in 0..<n {
            let ox = (i % columns) * cellW, oy = (i / columns) * cellH
            for y in 0..<(h * scale) {
                for x in 0..<(w * scale) {
                    let p = colour(values, image: i, c: c, h: h, w: w, y: y / scale, x: x / scale)
                    let at = ((oy + y) * width + ox + x) * 3
                    rgb[at] = UInt8((p.0 * 255).rounded())
                    rgb[at + 1] = UInt8((p.1 * 255).rounded())
                    rgb[at + 2] = UInt8((p.2 * 255).rounded())
                }
            }
        }
        return PNG.encode(rgb: rgb, width: width, height: height)
    }

    /// The levels of each channel in the palette's 6×6×6 cube (xterm's).
    static let cubeLevels: [Float] = [0, 95, 135, 175, 215, 255]

    /// The nearest colour of the 256-colour palette to an RGB pixel in [0, 1]: a cube colour
    /// (16–231) or a grey (232–255), whichever is closer — but a visibly coloured pixel (its
    /// channels 30 or more apart) stays a colour: the cube's dark levels are coarse, and dark
    /// textures drawn in greys would hide the very domain shift the picture is for.
    static func paletteIndex(_ p: (Float, Float, Float)) -> Int {
        let rgb = [p.0, p.1, p.2].map { Swift.min(255, Swift.max(0, $0 * 255)) }
        func nearestLevel(_ v: Float) -> Int {
            var best = 0
            for (i, level) in cubeLevels.enumerated() where Swift.abs(level - v) < Swift.abs(cubeLevels[best] - v) { best = i }
            return best
        }
        let cube = rgb.map(nearestLevel)
        let cubeError = zip(cube, rgb).reduce(Float(0)) { $0 + (cubeLevels[$1.0] - $1.1) * (cubeLevels[$1.0] - $1.1) }
        let mean = rgb.reduce(0, +) / 3
        let greyStep = Swift.min(23, Swift.max(0, Int(((mean - 8) / 10).rounded())))
        let greyLevel = Float(8 + 10 * greyStep)
        let greyError = rgb.reduce(Float(0)) { $0 + (greyLevel - $1) * (greyLevel - $1) }
        let chroma = (rgb.max() ?? 0) - (rgb.min() ?? 0)
        let cubeIndex = 16 + 36 * cube[0] + 6 * cube[1] + cube[2]
        let cubeIsGrey = cube[0] == cube[1] && cube[1] == cube[2]
        if chroma >= 30, !cubeIsGrey { return cubeIndex }
        return greyError < cubeError ? 232 + greyStep : cubeIndex
    }

    static func cell(top: (Float, Float, Float), bottom: (Float, Float, Float), mode: Mode) -> String {
        func luminance(_ p: (Float, Float, Float)) -> Float { 0.299 * p.0 + 0.587 * p.1 + 0.114 * p.2 }
        switch mode {
        case .trueColour:
            func rgb(_ p: (Float, Float, Float)) -> String {
                "\(Int((p.0 * 255).rounded()));\(Int((p.1 * 255).rounded()));\(Int((p.2 * 255).rounded()))"
            }
            return "\u{1B}[38;2;\(rgb(top))m\u{1B}[48;2;\(rgb(bottom))m▀"
        case .palette:
            return "\u{1B}[38;5;\(paletteIndex(top))m\u{1B}[48;5;\(paletteIndex(bottom))m▀"
        case .grey:
            func grey(_ p: (Float, Float, Float)) -> Int { 232 + Int((luminance(p) * 23).rounded()) }
            return "\u{1B}[38;5;\(grey(top))m\u{1B}[48;5;\(grey(bottom))m▀"
        case .plain:
            let l = (luminance(top) + luminance(bottom)) / 2
            return String(ramp[Swift.min(ramp.count - 1, Int(l * Float(ramp.count)))])
        }
    }
}
