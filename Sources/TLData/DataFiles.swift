#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine
import TLNN

/// What a file holds once loaded.
public enum Loaded {
    case dataset(Dataset)
    case tensor(Tensor)
    /// Named tensors (an NPZ without `x`, a safetensors file).
    case tensors([(name: String, tensor: Tensor)])
}

/// The formats `load` reads, found from the extension or, failing that, the first bytes.
public enum DataFormat: String, CaseIterable, Sendable {
    case csv, idx, npy, npz, safetensors
    /// One PNG or JPEG file (a tensor), or a folder of class folders of them (a dataset).
    case image, images

    public static func detect(_ path: String) throws -> DataFormat {
        // The extension decides first: a directory named x.npy is then refused as not a file.
        let lower = path.lowercased()
        for (suffix, format) in [(".csv", DataFormat.csv), (".npy", .npy), (".npz", .npz), (".safetensors", .safetensors),
                                 ("-ubyte", .idx), ("-ubyte.gz", .idx), (".idx", .idx),
                                 (".png", .image), (".jpg", .image), (".jpeg", .image)] where lower.hasSuffix(suffix) {
            return format
        }
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return ImageFiles.isImageFolder(path) ? .images : .idx }
        if ImageFiles.isImage(path) { return .image }
        let head = Array(try FileIO.read(path).prefix(8))
        if head.starts(with: NPY.magic) { return .npy }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .npz }
        if head.count >= 4, head[0] == 0, head[1] == 0, (8...14).contains(head[2]) { return .idx }
        // safetensors opens with its header length, little-endian, followed by '{'.
        if head.count == 8 {
            let headerLength = head.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if headerLength > 1 && headerLength < UInt64(Safetensors.maxHeaderBytes) { return .safetensors }
        }
        return .csv
    }
}

public enum DataFiles {
    /// `images`: how PNG and JPEG files are read (size, channels, normalisation); `skipped`
    /// receives the files of an image folder left out as unreadable, when the options allow it.
    public static func load(_ path: String, format: DataFormat? = nil, label: String? = "label",
                            labelRequired: Bool = false, images: ImageFiles.Options = .init(),
                            skipped: ((ImageFiles.Skipped) -> Void)? = nil) throws -> Loaded {
        switch try format ?? DataFormat.detect(path) {
        case .image:
            return .tensor(try ImageFiles.loadFile(path, options: images))
        case .images:
            let (dataset, left) = try ImageFiles.loadFolder(path, options: images)
            left.forEach { skipped?($0) }
            return .dataset(dataset)
        case .csv:
            return .dataset(try CSV.load(path, label: label, required: labelRequired))
        case .idx:
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return .dataset(try IDX.loadDirectory(path)) }
            return .tensor(try IDX.read(path))
        case .npy:
            return .tensor(try NPY.read(path))
        case .npz:
            let arrays = try NPZ.read(path)
            guard let x = arrays.first(where: { $0.name == "x" })?.tensor else { return .tensors(arrays) }
            let yTensor = arrays.first(where: { $0.name == "y" })?.tensor
            let y = try yTensor.map { t -> [Int] in
                guard t.rank == 1, t.count == x.shape.first ?? -1, let ids = Dataset.classIDs(t.scalars) else {
                    throw FileError(path, "'y' must hold one class id per sample of 'x' (whole numbers 0…\(Dataset.maxClasses - 1))")
                }
                return ids
            }
            let classes = (0...(y?.max() ?? 0)).map(String.init)
            return .dataset(try Dataset(name: path.fileName, x: x, y: y, classes: y == nil ? [] : classes))
        case .safetensors:
            return .tensors(try Safetensors.read(path).tensors)
        }
    }

    /// Writes a dataset as NPZ: `x`, and `y` (class ids) when labelled.
    public static func save(_ d: Dataset, to path: String) throws {
        var arrays: [(name: String, tensor: Tensor)] = [("x", d.x)]
        if let y = d.y { arrays.append(("y", Tensor(y.map(Float.init)))) }
        try NPZ.write(arrays, to: path)
    }
}
