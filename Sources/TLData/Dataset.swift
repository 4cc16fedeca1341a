import TLEngine

/// Samples with optional class labels: images (N×C×H×W) or feature rows (N×F).
///
/// A value: operations return new datasets. `classes` names every class a label may refer to,
/// whether or not it occurs, so a model trained on one subset of classes runs on another.
public struct Dataset {
    /// Where the data came from: "digits", "animals", a file name.
    public var name: String
    /// The domain within the source: a digit style, "target", ….
    public var domain: String
    /// The samples, first axis N.
    public var x: Tensor
    /// Class ids (indices into `classes`), or nil for unlabelled data.
    public var y: [Int]?
    public var classes: [String]
    /// Zero-shot side information: a classes × attributes 0/1 table and its column names.
    public var attributes: Tensor?
    public var attributeNames: [String]
    /// Per-class semantic embeddings (classes × d), standing in for word vectors.
    public var wordVectors: Tensor?
    /// Marked as the target domain's test data: its labels are for reporting, not for choosing.
    public var isTargetTest = false

    public init(name: String, domain: String = "", x: Tensor, y: [Int]?, classes: [String],
                attributes: Tensor? = nil, attributeNames: [String] = [], wordVectors: Tensor? = nil) throws {
        guard x.rank >= 1 else { throw DataError("samples need a first axis (got a scalar)") }
        if let y {
            guard y.count == x.shape[0] else { throw DataError("\(y.count) labels for \(x.shape[0]) samples") }
            if let bad = y.first(where: { $0 < 0 || $0 >= classes.count }) {
                throw DataError("label \(bad) is outside the \(classes.count) classes (ids are 0..\(classes.count - 1))")
            }
        }
        (self.name, self.domain, self.x, self.y, self.classes) = (name, domain, x.detached(), y, classes)
        (self.attributes, self.attributeNames, self.wordVectors) = (attributes, attributeNames, wordVectors)
    }

    /// The most classes a label vector may name (ids 0..<maxClasses).
    public static let maxClasses = 100_000

    /// Class ids from stored numbers (a label file, a `y` tensor): nil unless every value is a
    /// whole number in 0..<maxClasses — NaN, infinities and huge ids are refused before any
    /// conversion or allocation.
    public static func classIDs<S: Sequence>(_ values: S) -> [Int]? where S.Element == Float {
        var ids: [Int] = []
        for v in values {
            guard v >= 0, v < Float(maxClasses), v == v.rounded() else { return nil }
            ids.append(Int(v))
        }
        return ids
    }

    public var count: Int { x.shape[0] }
    /// The shape of one sample.
    public var sampleShape: [Int] { Array(x.shape.dropFirst()) }
    public var isLabelled: Bool { y != nil }

    /// `dataset digits/mnistm · 6000 × 3×28×28 · 10 classes · labelled`; a labelled dataset that
    /// holds only some of its classes (`only`, `without`, a small slice) says how many it holds:
    /// `5 of 20 classes`.
    public var summary: String {
        let source = domain.isEmpty ? name : "\(name)/\(domain)"
        let labelled = y == nil ? "unlabelled" : "labelled"
        var classText = "\(classes.count) classes"
        if let y, count > 0 {
            let present = Set(y).count
            if present < classes.count { classText = "\(present) of \(classes.count) classes" }
        }
        return "dataset \(source) · \(count) × \(Shape.describe(sampleShape)) · \(classText) · \(labelled)"
            + (isTargetTest ? " · target test" : "")
    }

    /// The samples at `indices`, in that order (repeats allowed).
    public func subset(_ indices: [Int]) throws -> Dataset {
        var d = self
        d.x = try x.indexSelect(indices)
        d.y = y.map { labels in indices.map { labels[$0 < 0 ? $0 + labels.count : $0] } }
        return d
    }

    /// Samples `range` (clamped like a slice).
    public func slice(_ range: Range<Int>) throws -> Dataset {
        let lo = Swift.max(0, Swift.min(range.lowerBound, count)), hi = Swift.max(lo, Swift.min(range.upperBound, count))
        return try subset(Array(lo..<hi))
    }
}

/// A problem with data: a wrong argument, inconsistent labels, a malformed file.
public struct DataError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
