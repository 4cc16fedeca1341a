import Foundation
import Testing
@testable import TLData
@testable import TLEngine
@testable import TLNN
import TLRender

/// PNG and JPEG files and image folders: decoding, resizing against PyTorch, errors that name
/// the file, skipping, and the memory budget checked before decoding. The PNGs are written here
/// by tl's own encoder; the JPEG (Tests/Fixtures/photo.jpg) and the references come from
/// make_fixtures.py's `images()`.
@Suite struct ImageFileTests {
    let reference: [String: Tensor]
    let folder: String

    init() throws {
        var result: [String: Tensor] = [:]
        for (key, t) in try Safetensors.read(fixtures + "/images.safetensors").tensors { result[key] = t }
        reference = result
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tl-images-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// A PNG of `pixels` (height × width × 3 bytes) written by tl's encoder.
    func writePNG(_ path: String, _ pixels: [UInt8], width: Int, height: Int) throws {
        let bytes = try #require(PNG.encode(rgb: pixels, width: width, height: height))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func pattern(width: Int, height: Int, seed: Int) -> [UInt8] {
        (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ seed &* 11) }
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: folder) }

    @Test func pngDecodesExactly() throws {
        defer { cleanUp() }
        let pixels = pattern(width: 5, height: 3, seed: 1)
        try writePNG(folder + "/a.png", pixels, width: 5, height: 3)
        let t = try ImageFiles.loadFile(folder + "/a.png", options: .init())
        #expect(t.shape == [3, 3, 5])
        // Channel-first, scaled to [0, 1].
        let expected = (0..<3).flatMap { c in (0..<15).map { Float(pixels[$0 * 3 + c]) / 255 } }
        #expect(t.scalars == expected)
        let grey = try ImageFiles.loadFile(folder + "/a.png", options: .init(channels: 1))
        #expect(grey.shape == [1, 3, 5])
    }

    @Test func jpegDecodesAsPillowDoes() throws {
        let t = try ImageFiles.loadFile(fixtures + "/photo.jpg", options: .init())
        let pil = try #require(reference["jpeg.decoded"])  // 12 × 16 × 3, 0…255
        #expect(t.shape == [3, 12, 16])
        let hwc = try t.permuted([1, 2, 0]).scalars.map { $0 * 255 }
        let worst = zip(hwc, pil.scalars).map { abs($0 - $1) }.max() ?? .infinity
        // Both use libjpeg's integer IDCT; allow for a differing upsampling of the colour planes.
        #expect(worst <= 3, "largest difference \(worst) of 255")
        let grey = try ImageFiles.loadFile(fixtures + "/photo.jpg", options: .init(channels: 1))
        let pilGrey = try #require(reference["jpeg.decoded_grey"])
        #expect(zip(grey.scalars.map { $0 * 255 }, pilGrey.scalars).allSatisfy { abs($0 - $1) <= 3 })
    }

    /// Bilinear resizing with half-pixel centres agrees with PyTorch's interpolate, shrinking,
    /// growing, and at the same size (an exact copy).
    @Test(arguments: [(4, 6), (10, 9), (7, 5), (3, 2)])
    func resizeMatchesPyTorch(height: Int, width: Int) throws {
        let pixels = try #require(reference["resize.pixels"]).scalars.map { UInt8($0) }  // 7 × 5 × 3
        let expected = try #require(reference["resize.\(height)x\(width)"])
        var out = [Float](repeating: 0, count: 3 * height * width)
        pixels.withUnsafeBufferPointer { p in
            ImageFiles.resize(p.baseAddress!, channels: 3, height: 7, width: 5, toHeight: height, width: width, into: &out)
        }
        let worst = zip(out, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-6, "largest difference \(worst)")
    }

    /// Resizing images already in memory (transform(d, size=)) gives the same values.
    @Test func tensorResizeMatchesPyTorch() throws {
        let pixels = try #require(reference["resize.pixels"])  // 7 × 5 × 3, 0…255
        let images = try (pixels.permuted([2, 0, 1]) / Tensor(scalar: 255)).reshaped([1, 3, 7, 5])
        for (h, w) in [(4, 6), (10, 9), (7, 5)] {
            let out = try ImageFiles.resized(images, height: h, width: w)
            let expected = try #require(reference["resize.\(h)x\(w)"])
            let worst = zip(out.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(out.shape == [1, 3, h, w] && worst <= 1e-6, "\(h)×\(w): largest difference \(worst)")
        }
        var g = RandomGenerator(seed: 0)
        let d = try Dataset(name: "d", x: images, y: [0], classes: ["a"]).transformed(size: (3, 2), using: &g)
        #expect(d.x.shape == [1, 3, 3, 2])
    }

    /// Classes are the sub-folders in sorted order; files are sorted; hidden files are ignored;
    /// size= resizes; ImageNet normalisation standardises each channel.
    @Test func folderOfClasses() throws {
        defer { cleanUp() }
        for (name, count) in [("dog", 2), ("cat", 3)] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(name)", withIntermediateDirectories: true)
            for i in 0..<count {
                try writePNG("\(folder)/\(name)/\(i).png", pattern(width: 8, height: 6, seed: i), width: 8, height: 6)
            }
        }
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: "\(folder)/cat/.DS_Store"))
        try FileManager.default.copyItem(atPath: fixtures + "/photo.jpg", toPath: "\(folder)/dog/photo.jpg")
        // Sizes differ (the JPEG is 16×12): size= is needed.
        expectError("give size= to resize them all") { _ = try ImageFiles.loadFolder(folder, options: .init()) }
        let (d, skipped) = try ImageFiles.loadFolder(folder + "/", options: .init(size: (4, 5)))
        #expect(skipped.isEmpty)
        #expect(d.classes == ["cat", "dog"] && d.y == [0, 0, 0, 1, 1, 1] && d.x.shape == [6, 3, 4, 5])
        #expect(d.name == URL(fileURLWithPath: folder).lastPathComponent)
        #expect(d.x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        let normalised = try ImageFiles.loadFolder(folder, options: .init(size: (4, 5), normalisation: .imagenet)).dataset
        let first = d.x.scalars[0], firstNormalised = normalised.x.scalars[0]
        #expect(abs(firstNormalised - (first - 0.485) / 0.229) < 1e-5)
        #expect(try DataFormat.detect(folder) == .images)
        guard case .dataset(let loaded) = try DataFiles.load(folder, images: .init(size: (4, 5))) else {
            Issue.record("an image folder loads as a dataset")
            return
        }
        #expect(loaded.x == d.x)
    }

    /// A file that is not an image, a truncated JPEG and a corrupt PNG: errors naming the file,
    /// or skipped and listed with skip_bad.
    @Test func unreadableFilesAreNamedOrSkipped() throws {
        defer { cleanUp() }
        try FileManager.default.createDirectory(atPath: "\(folder)/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(folder)/b", withIntermediateDirectories: true)
        try writePNG("\(folder)/a/good.png", pattern(width: 16, height: 12, seed: 3), width: 16, height: 12)
        try FileManager.default.copyItem(atPath: fixtures + "/photo.jpg", toPath: "\(folder)/b/good.jpg")
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(folder)/a/notes.txt"))
        expectError("a/notes.txt: not a PNG or JPEG image (skip_bad=true") { _ = try ImageFiles.loadFolder(folder, options: .init()) }
        try FileManager.default.removeItem(atPath: "\(folder)/a/notes.txt")
        // A JPEG cut in half: its header reads, its data does not.
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/photo.jpg"))
        try jpeg.prefix(jpeg.count / 2).write(to: URL(fileURLWithPath: "\(folder)/b/cut.jpg"))
        expectError("b/cut.jpg: ") { _ = try ImageFiles.loadFolder(folder, options: .init()) }
        // A PNG whose data is damaged after the header.
        var png = try #require(PNG.encode(rgb: pattern(width: 16, height: 12, seed: 4), width: 16, height: 12))
        for i in 45..<Swift.min(png.count - 12, 60) { png[i] ^= 0x5A }
        try Data(png).write(to: URL(fileURLWithPath: "\(folder)/a/damaged.png"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(folder)/a/readme.md"))
        let (d, skipped) = try ImageFiles.loadFolder(folder, options: .init(skipUnreadable: true))
        #expect(Set(skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent }) == ["readme.md", "cut.jpg", "damaged.png"])
        #expect(d.count == 2 && d.y == [0, 1])
        // The shell's note: counted, the first named.
        expectError("holds no class folders") { _ = try ImageFiles.loadFolder(folder + "/a", options: .init()) }
    }

    /// Ctrl-C (here a deadline already past) stops a folder's load between files.
    @Test func loadingStopsWhenAsked() throws {
        defer { cleanUp() }
        try FileManager.default.createDirectory(atPath: "\(folder)/only", withIntermediateDirectories: true)
        try writePNG("\(folder)/only/a.png", pattern(width: 4, height: 4, seed: 6), width: 4, height: 4)
        Cancellation.withDeadline(seconds: -1) {
            expectError("stopped by Ctrl-C reading the headers, at file 1 of 1") {
                _ = try ImageFiles.loadFolder(folder, options: .init())
            }
        }
    }

    /// The memory budget is checked from the headers, before any image is decoded.
    @Test func budgetRefusesBeforeDecoding() throws {
        defer { cleanUp() }
        try FileManager.default.createDirectory(atPath: "\(folder)/only", withIntermediateDirectories: true)
        try writePNG("\(folder)/only/a.png", pattern(width: 4, height: 4, seed: 5), width: 4, height: 4)
        try Memory.withBudget(bytes: 1 << 20) {
            expectError("more than the memory budget of 1 MiB") {
                _ = try ImageFiles.loadFolder(folder, options: .init(size: (1024, 1024)))
            }
            expectError("more than the memory budget") {
                _ = try ImageFiles.loadFile("\(folder)/only/a.png", options: .init(size: (2000, 2000)))
            }
            let small = try ImageFiles.loadFolder(folder, options: .init(size: (16, 16))).dataset
            #expect(small.x.shape == [1, 3, 16, 16])
        }
    }
}
