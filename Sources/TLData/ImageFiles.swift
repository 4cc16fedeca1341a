import CImage
import Foundation
import TLEngine
import TLNN

/// PNG and JPEG images: one file as a tensor, or a folder with one sub-folder per class as a
/// dataset (torchvision's ImageFolder layout), decoded by libpng and libjpeg-turbo.
public enum ImageFiles {
    /// Per-channel standardisation applied after scaling to [0, 1].
    public enum Normalisation: String, CaseIterable, Sendable {
        /// Values stay in [0, 1].
        case none
        /// (x − mean) / std with ImageNet's RGB statistics, as torchvision's pretrained models expect.
        case imagenet

        public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
        public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    }

    public struct Options: Sendable {
        /// Output height and width; nil keeps the images' own size (which must then be shared).
        public var size: (height: Int, width: Int)?
        /// 1 (grey) or 3 (RGB): images are converted to it.
        public var channels: Int
        public var normalisation: Normalisation
        /// Skip files that are not readable images (counted) rather than stop at the first.
        public var skipUnreadable: Bool

        public init(size: (height: Int, width: Int)? = nil, channels: Int = 3, normalisation: Normalisation = .none,
                    skipUnreadable: Bool = false) {
            (self.size, self.channels, self.normalisation, self.skipUnreadable) = (size, channels, normalisation, skipUnreadable)
        }
    }

    /// Files the folder loader skipped, with the reason, when asked to.
    public struct Skipped: Sendable {
        public let path: String, reason: String
    }

    /// Whether `path` starts like a PNG or a JPEG file.
    public static func isImage(_ path: String) -> Bool { tl_image_format(path) != 0 }

    /// The width and height stored in an image file's header.
    static func size(of path: String) throws -> (width: Int, height: Int) {
        var (w, h): (Int32, Int32) = (0, 0)
        var message = [CChar](repeating: 0, count: 256)
        guard tl_image_size(path, &w, &h, &message, message.count) == 0 else { throw FileError(path, reason(message)) }
        return (Int(w), Int(h))
    }

    private static func reason(_ message: [CChar]) -> String {
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "not a readable image" : text
    }

    /// Decodes `path` and writes it as `channels`×height×width floats in [0, 1] into `out`,
    /// resized by bilinear interpolation when its size differs.
    static func decode(_ path: String, channels: Int, height: Int, width: Int, normalisation: Normalisation,
                       into out: UnsafeMutablePointer<Float>) throws {
        var pixels: UnsafeMutablePointer<UInt8>?
        var (w, h): (Int32, Int32) = (0, 0)
        var message = [CChar](repeating: 0, count: 256)
        guard tl_image_decode(path, Int32(channels), &pixels, &w, &h, &message, message.count) == 0, let pixels else {
            throw FileError(path, reason(message))
        }
        defer { free(pixels) }
        resize(pixels, channels: channels, height: Int(h), width: Int(w), toHeight: height, width: width, into: out)
        if normalisation == .imagenet {
            for c in 0..<channels {
                let (mean, std) = (Normalisation.imagenetMean[c], Normalisation.imagenetStd[c])
                let plane = out + c * height * width
                for i in 0..<(height * width) { plane[i] = (plane[i] - mean) / std }
            }
        }
    }

    /// Bilinear interpolation with half-pixel centres from height×width×channels bytes to a
    /// channels×toHeight×toWidth plane in [0, 1]: PyTorch's `interpolate(mode="bilinear",
    /// align_corners=False, antialias=False)`, applied to the image divided by 255. The same size
    /// copies the pixels exactly.
    static func resize(_ pixels: UnsafePointer<UInt8>, channels: Int, height: Int, width: Int,
                       toHeight: Int, width toWidth: Int, into out: UnsafeMutablePointer<Float>) {
        let rows = taps(height, toHeight), columns = taps(width, toWidth)
        let plane = toHeight * toWidth
        for (y, (y0, y1, ly)) in rows.enumerated() {
            for (x, (x0, x1, lx)) in columns.enumerated() {
                for c in 0..<channels {
                    let p00 = Float(pixels[(y0 * width + x0) * channels + c]), p01 = Float(pixels[(y0 * width + x1) * channels + c])
                    let p10 = Float(pixels[(y1 * width + x0) * channels + c]), p11 = Float(pixels[(y1 * width + x1) * channels + c])
                    let top = p00 + (p01 - p00) * lx, bottom = p10 + (p11 - p10) * lx
                    out[c * plane + y * toWidth + x] = (top + (bottom - top) * ly) / 255
                }
            }
        }
    }

    /// For each of `target` output indices along an axis of `size` inputs: the two input indices
    /// and the weight of the second, with half-pixel centres (PyTorch's align_corners=False).
    static func taps(_ size: Int, _ target: Int) -> [(Int, Int, Float)] {
        let scale = Float(size) / Float(target)
        return (0..<target).map { i in
            let source = Swift.max(0, scale * (Float(i) + 0.5) - 0.5)
            let lo = Swift.min(Int(source), size - 1)
            return (lo, Swift.min(lo + 1, size - 1), source - Float(lo))
        }
    }

    /// N×C×H×W images resized to N×C×height×width by the same bilinear interpolation.
    public static func resized(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        guard x.rank == 4 else { throw DataError("resizing needs images (N×C×H×W), got \(Shape.describe(x.shape))") }
        guard height >= 1, width >= 1 else { throw DataError("the size must be positive, got \(height)×\(width)") }
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        var out = try Tensor.zeros([x.shape[0], x.shape[1], height, width])
        let rows = taps(h, height), columns = taps(w, width)
        let source = x.scalars
        out.withUnsafeMutableBufferPointer { buffer in
            let to = buffer.baseAddress!
            source.withUnsafeBufferPointer { from in
                Parallel.forRanges(planes, cost: height * width * 4) { range in
                    for p in range {
                        let plane = from.baseAddress! + p * h * w, target = to + p * height * width
                        for (y, (y0, y1, ly)) in rows.enumerated() {
                            for (xx, (x0, x1, lx)) in columns.enumerated() {
                                let top = plane[y0 * w + x0] + (plane[y0 * w + x1] - plane[y0 * w + x0]) * lx
                                let bottom = plane[y1 * w + x0] + (plane[y1 * w + x1] - plane[y1 * w + x0]) * lx
                                target[y * width + xx] = top + (bottom - top) * ly
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// One image file as a channels×height×width tensor in [0, 1] (normalised when asked).
    public static func loadFile(_ path: String, options: Options) throws -> Tensor {
        try check(options)
        let (w, h) = try size(of: path)
        let (height, width) = options.size ?? (h, w)
        let shape = [options.channels, height, width]
        try checkBudget(shape, images: 1, path: path)
        var t = try Tensor.zeros(shape)
        try t.withUnsafeMutableBufferPointer { buffer in
            try decode(path, channels: options.channels, height: height, width: width, normalisation: options.normalisation,
                       into: buffer.baseAddress!)
        }
        return t
    }

    static func check(_ options: Options) throws {
        guard options.channels == 1 || options.channels == 3 else {
            throw TensorError.invalidArgument(op: "load", "channels must be 1 (grey) or 3 (RGB), got \(options.channels)")
        }
        if options.normalisation == .imagenet, options.channels != 3 {
            throw TensorError.invalidArgument(op: "load", "ImageNet normalisation is for RGB images (channels=3)")
        }
        if let s = options.size, s.height < 1 || s.width < 1 {
            throw TensorError.invalidArgument(op: "load", "the size must be positive, got \(s.height)×\(s.width)")
        }
    }

    /// Refuses, before decoding anything, images whose tensor would pass the memory budget.
    static func checkBudget(_ shape: [Int], images: Int, path: String) throws {
        let perImage = shape.reduce(MemoryLayout<Float>.stride, *)
        let (bytes, overflow) = perImage.multipliedReportingOverflow(by: images)
        var reason = "more than the memory budget of \(Memory.describe(Memory.budgetBytes))"
        if !overflow {
            do { try Memory.reserve(bytes, for: "load"); return } catch let e as MemoryError { reason = e.reason }
        }
        throw FileError(path, "\(images) image\(images == 1 ? "" : "s") of \(Shape.describe(shape)) need "
                        + (overflow ? "more memory than can be counted" : Memory.describe(bytes))
                        + ", \(reason) (TL_MEMORY_BUDGET); give a smaller size= or fewer images")
    }

    /// Whether `path` is a folder with sub-folders (an image folder, as opposed to MNIST's files).
    public static func isImageFolder(_ path: String) -> Bool {
        isDirectory(path) && !((try? classFolders(path)) ?? []).isEmpty
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The sub-folders of `root` that are not hidden, sorted: the classes of an image folder.
    private static func classFolders(_ root: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root)
            .filter { !$0.hasPrefix(".") && isDirectory(root + "/" + $0) }.sorted()
    }

    /// A folder with one sub-folder per class (named after it, in sorted order as torchvision's
    /// ImageFolder) of PNG and JPEG files, as a labelled dataset of channels×H×W images in [0, 1].
    /// Hidden files are ignored; any other file that is not a readable image is an error naming
    /// it, unless `skipUnreadable` (then it is left out and listed in `skipped`).
    public static func loadFolder(_ path: String, options: Options) throws -> (dataset: Dataset, skipped: [Skipped]) {
        try check(options)
        let fm = FileManager.default
        let root = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        let classes: [String]
        do { classes = try classFolders(root) } catch { throw FileError(path, "cannot read the folder") }
        guard !classes.isEmpty else {
            throw FileError(path, "holds no class folders: put each class's images in a sub-folder named after the class")
        }
        guard classes.count <= Dataset.maxClasses else {
            throw FileError(path, "has \(classes.count) class folders; at most \(Dataset.maxClasses) classes are supported")
        }
        var files: [(path: String, label: Int)] = []
        for (label, name) in classes.enumerated() {
            let folder = root + "/" + name
            let names = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            for file in names where !isDirectory(folder + "/" + file) { files.append((folder + "/" + file, label)) }
        }
        // Headers first (cheap): sizes, unreadable files, the memory needed, before any decoding.
        var skipped: [Skipped] = []
        var kept: [(path: String, label: Int, width: Int, height: Int)] = []
        for (i, file) in files.enumerated() {
            try Cancellation.check("reading the headers, at file \(i + 1) of \(files.count)")
            do {
                let (w, h) = try size(of: file.path)
                kept.append((file.path, file.label, w, h))
            } catch let error as FileError {
                guard options.skipUnreadable else {
                    throw FileError(error.path, error.message + " (skip_bad=true leaves such files out)")
                }
                skipped.append(Skipped(path: error.path, reason: error.message))
            }
        }
        for (label, name) in classes.enumerated() where !kept.contains(where: { $0.label == label }) {
            throw FileError(root + "/" + name, "holds no readable PNG or JPEG image")
        }
        let (height, width): (Int, Int)
        if let size = options.size {
            (height, width) = size
        } else {
            let first = kept[0]
            if let other = kept.first(where: { $0.width != first.width || $0.height != first.height }) {
                throw FileError(other.path, "is \(other.width)×\(other.height) pixels but \(first.path) is \(first.width)×\(first.height): give size= to resize them all to one size")
            }
            (height, width) = (first.height, first.width)
        }
        let shape = [options.channels, height, width]
        try checkBudget(shape, images: kept.count, path: path)
        var x = try Tensor.zeros([kept.count] + shape)
        let perImage = options.channels * height * width
        // Decoded over the threads, each image into its own slot; failures kept by index.
        let failures = UnsafeMutablePointer<FileError?>.allocate(capacity: kept.count)
        failures.initialize(repeating: nil, count: kept.count)
        defer { failures.deinitialize(count: kept.count); failures.deallocate() }
        x.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            Parallel.forRanges(kept.count, cost: 1 << 16) { range in
                for i in range {
                    // Ctrl-C: the remaining images are left alone, and the load ends below.
                    if Cancellation.isRequested { return }
                    do {
                        try decode(kept[i].path, channels: options.channels, height: height, width: width,
                                   normalisation: options.normalisation, into: base + i * perImage)
                    } catch let error as FileError {
                        failures[i] = error
                    } catch {
                        failures[i] = FileError(kept[i].path, "\(error)")
                    }
                }
            }
        }
        try Cancellation.check("decoding \(kept.count) images; nothing was loaded")
        var labels = kept.map(\.label)
        if let first = (0..<kept.count).first(where: { failures[$0] != nil }), let failure = failures[first] {
            guard options.skipUnreadable else {
                throw FileError(failure.path, failure.message + " (skip_bad=true leaves such files out)")
            }
            // Corrupt data found while decoding: drop those images too.
            let good = (0..<kept.count).filter { failures[$0] == nil }
            skipped += (0..<kept.count).compactMap { failures[$0].map { Skipped(path: $0.path, reason: $0.message) } }
            guard !good.isEmpty else { throw FileError(path, "holds no readable PNG or JPEG image") }
            x = try x.indexSelect(good)
            labels = good.map { labels[$0] }
        }
        let name = root.split(separator: "/").last.map(String.init) ?? root
        return (try Dataset(name: name, x: x, y: labels, classes: classes), skipped)
    }
}
