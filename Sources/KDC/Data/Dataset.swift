/// Per-channel input normalization, applied as x' = (x − mean[c]) / std[c] where c is the
/// index along the last axis (one value applies to every channel). It is recorded with the
/// model, because the device must scale its inputs the same way.
public struct Normalization: Equatable, Codable, Sendable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) { self.mean = mean; self.std = std }
    public static let identity = Normalization(mean: [0], std: [1])

    /// Normalizes `values` (row-major samples whose last axis has `channels` entries) in place.
    public func apply(to values: inout [Float], channels: Int) {
        let m = mean, s = std.map { 1 / $0 }
        values.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let c = m.count == 1 ? 0 : i % channels
                p[i] = (p[i] - m[c]) * s[c]
            }
        }
    }
}

/// The file a dataset's row indices count in, and how its rows were chosen from it.
public struct RowOrigin: Sendable, Equatable {
    /// The file (absolute path as resolved from the config): the CSV file, the IDX image file or
    /// the NPY features file.
    public var file: String
    /// The data rows that file holds: CSV lines that are neither the header nor blank, IDX and
    /// NPY entries along the first axis.
    public var fileRows: Int
    /// How `loadData` chose the rows, for messages (e.g. "after the 20% test and 10% validation
    /// split, seed 0"); empty when the dataset is every row of the file, in order.
    public var selection: String

    public init(file: String, fileRows: Int, selection: String = "") {
        self.file = file; self.fileRows = fileRows; self.selection = selection
    }
}

/// Samples in memory: `count` items of `sampleShape` (NHWC images `[H, W, C]` or feature
/// vectors `[F]`), row-major in `x`, with an integer label each (−1 where unlabelled).
///
/// `rows[i]` is sample i's 0-based row in `origin.file` (for CSV, data rows only: the header and
/// blank lines are not counted), so samples can be lined up with the files they came from.
public struct Dataset: Sendable {
    public var name: String
    public var sampleShape: [Int]
    public var x: [Float]
    public var labels: [Int32]
    public var numClasses: Int
    /// Each sample's row in `origin.file`; `0..<count` unless given.
    public var rows: [Int]
    /// The file `rows` index into; nil for samples made in memory.
    public var origin: RowOrigin?
    /// Class names by class id when the labels were strings (sorted unique names), else nil.
    public var classNames: [String]?

    public init(
        name: String, sampleShape: [Int], x: [Float], labels: [Int32], numClasses: Int, rows: [Int]? = nil,
        origin: RowOrigin? = nil, classNames: [String]? = nil
    ) {
        precondition(x.count == labels.count * sampleShape.reduce(1, *))
        precondition(rows == nil || rows!.count == labels.count)
        self.name = name; self.sampleShape = sampleShape; self.x = x
        self.labels = labels; self.numClasses = numClasses
        self.rows = rows ?? Array(0..<labels.count)
        self.origin = origin; self.classNames = classNames
    }

    public var count: Int { labels.count }
    public var sampleSize: Int { sampleShape.reduce(1, *) }
    /// True when every sample has a label in 0..<numClasses.
    public var isLabelled: Bool { labels.allSatisfy { $0 >= 0 } }

    /// The samples at `indices` as a batch `[n] + sampleShape`.
    public func batch(_ indices: ArraySlice<Int>) -> Tensor {
        let s = sampleSize
        var t = Tensor(shape: [indices.count] + sampleShape)
        t.data.withUnsafeMutableBufferPointer { dst in
            x.withUnsafeBufferPointer { src in
                for (r, i) in indices.enumerated() {
                    (dst.baseAddress! + r * s).update(from: src.baseAddress! + i * s, count: s)
                }
            }
        }
        return t
    }

    /// The subset at `indices`, in that order (rows, origin and class names carried along).
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        let t = batch(indices[...])
        return Dataset(
            name: name ?? self.name, sampleShape: sampleShape, x: t.data,
            labels: indices.map { labels[$0] }, numClasses: numClasses, rows: indices.map { rows[$0] },
            origin: origin, classNames: classNames)
    }
}
