import TLLang
import TLRender

/// The MIME bundles a front end shows: text as the shell shows it, figures as SVG, images as PNG.
enum Rich {
    /// Text at the width of a notebook page.
    static let width = 100

    static func data(_ value: Value) -> JSONObject {
        var data: JSONObject = ["text/plain": value.display(width: width)]
        if let blocks = value.blocks { data["text/html"] = blocks.html }
        return data
    }

    static func data(_ item: Display) -> JSONObject {
        switch item {
        case .figure(let f):
            return ["image/svg+xml": FigureSVG.render(f), "text/plain": f.summary]
        case .images(let images, let labels):
            var data: JSONObject = ["text/plain": labels.isEmpty ? "\(images.shape.first ?? 0) images" : labels.joined(separator: " ")]
            if let png = ImageText.png(images) { data["image/png"] = Base64.encode(png) }
            return data
        case .blocks(let blocks):
            return ["text/plain": blocks.text, "text/html": blocks.html]
        }
    }
}
