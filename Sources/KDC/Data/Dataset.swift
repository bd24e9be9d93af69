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

/// Samples in memory: `count` items of `sampleShape` (NHWC images `[H, W, C]` or feature
/// vectors `[F]`), row-major in `x`, with an integer label each (−1 where unlabelled).
public struct Dataset: Sendable {
    public var name: String
    public var sampleShape: [Int]
    public var x: [Float]
    public var labels: [Int32]
    public var numClasses: Int

    public init(name: String, sampleShape: [Int], x: [Float], labels: [Int32], numClasses: Int) {
        precondition(x.count == labels.count * sampleShape.reduce(1, *))
        self.name = name; self.sampleShape = sampleShape; self.x = x
        self.labels = labels; self.numClasses = numClasses
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

    /// The subset at `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        let t = batch(indices[...])
        return Dataset(
            name: name ?? self.name, sampleShape: sampleShape, x: t.data,
            labels: indices.map { labels[$0] }, numClasses: numClasses)
    }
}
