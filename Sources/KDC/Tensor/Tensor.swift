/// A dense float32 tensor in row-major order. Image tensors are NHWC.
///
/// `Tensor` is a value type backed by a Swift array (copy on write). Hot loops
/// reach the storage through `withUnsafe…` so they run without bounds checks.
public struct Tensor: Equatable, Sendable {
    /// Dimensions, outermost first. A batch of images is `[N, H, W, C]`.
    public var shape: [Int]
    /// `shape.reduce(1, *)` values, row-major.
    public var data: [Float]

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], value: Float = 0) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` holding `data`; `data.count` must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: \(data.count) values do not fill shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    /// Size of the leading (batch) dimension.
    @inlinable public var batch: Int { shape.first ?? 1 }
    /// Elements per batch item.
    @inlinable public var itemCount: Int { shape.count > 1 ? data.count / shape[0] : data.count }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Rows `start ..< start+n` of the leading dimension.
    public func slice(batch start: Int, count n: Int) -> Tensor {
        let item = itemCount
        var s = shape
        s[0] = n
        return Tensor(shape: s, data: Array(data[(start * item)..<((start + n) * item)]))
    }

    /// Elementwise `self += other` (same shapes).
    public mutating func add(_ other: Tensor) {
        precondition(other.count == count)
        data.withUnsafeMutableBufferPointer { d in
            other.data.withUnsafeBufferPointer { o in
                for i in 0..<d.count { d[i] += o[i] }
            }
        }
    }

    /// Index of the largest value in each row of a `[N, K]` tensor (first one on ties).
    public func argmaxRows() -> [Int] {
        let k = shape.last ?? 1
        let n = count / max(k, 1)
        var out = [Int](repeating: 0, count: n)
        data.withUnsafeBufferPointer { d in
            for r in 0..<n {
                var best = 0
                var bv = d[r * k]
                for j in 1..<k where d[r * k + j] > bv {
                    bv = d[r * k + j]
                    best = j
                }
                out[r] = best
            }
        }
        return out
    }
}
