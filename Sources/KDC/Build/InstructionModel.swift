import Foundation
import KDCTarget

/// Instructions per inference of an int8 graph on a firmware target, predicted before training
/// from its shapes: a linear model over per-kernel-class features (MACs, output elements,
/// output pixels, im2col elements, pool inputs, ops) plus a constant, least-squares fitted (each
/// row weighted by 1/count, so the relative error is minimized) to QEMU counts (`DeviceRun`, the
/// insncount plugin) of the search families' untrained graphs. A model, not a count: the fit and
/// its check are `InstructionModelTests`, and docs/SEARCH.md gives the errors it saw.
public enum InstructionModel {
    /// The kernel classes: each has its own coefficients.
    public enum Kernel: Int, CaseIterable, Sendable {
        case dense, conv, pointwise, depthwise, maxPool, avgPool, other
    }

    /// The features, in `coefficients` order: dense MACs and outputs; conv MACs, outputs, output
    /// pixels and im2col elements (pixels × kh × kw × cin); pointwise MACs, outputs and pixels;
    /// depthwise MACs and outputs; pool input elements (max, avg); other ops' outputs; ops; 1.
    public static let featureNames = [
        "dense.macs", "dense.out", "conv.macs", "conv.out", "conv.pix", "conv.im2col", "pointwise.macs", "pointwise.out",
        "pointwise.pix", "depthwise.macs", "depthwise.out", "maxpool.in", "avgpool.in", "other.out", "ops", "const",
    ]
    public static var featureCount: Int { featureNames.count }

    /// The kernel class of node `n`.
    static func kernel(_ n: GraphNode) -> Kernel {
        switch n.op {
        case .dense: return .dense
        case let .conv2d(_, k, _, _): return k.h == 1 && k.w == 1 ? .pointwise : .conv
        case .depthwiseConv2d: return .depthwise
        case .maxPool2d: return .maxPool
        case .avgPool2d, .globalAvgPool: return .avgPool
        default: return .other
        }
    }

    /// The features of `g` (`featureNames`).
    public static func features(_ g: Graph) -> [Double] {
        var f = [Double](repeating: 0, count: featureCount)
        func add(_ name: String, _ v: Int) { f[featureNames.firstIndex(of: name)!] += Double(v) }
        for n in g.nodes {
            let macs = g.macs(of: n), out = g[n.output].count, input = g[n.inputs[0]]
            let y = g[n.output].shape
            let pixels = y.count == 3 ? y[0] * y[1] : 1
            switch kernel(n) {
            case .dense:
                add("dense.macs", macs)
                add("dense.out", out)
            case .conv:
                add("conv.macs", macs)
                add("conv.out", out)
                add("conv.pix", pixels)
                if case let .conv2d(_, k, _, _) = n.op { add("conv.im2col", pixels * k.h * k.w * (input.shape.last ?? 1)) }
            case .pointwise:
                add("pointwise.macs", macs)
                add("pointwise.out", out)
                add("pointwise.pix", pixels)
            case .depthwise:
                add("depthwise.macs", macs)
                add("depthwise.out", out)
            case .maxPool: add("maxpool.in", input.count)
            case .avgPool: add("avgpool.in", input.count)
            case .other: add("other.out", out)
            }
            add("ops", 1)
        }
        f[featureCount - 1] = 1
        return f
    }

    /// Fitted coefficients per board name (`Board.name`), in `featureNames` order: fitted on the
    /// even-numbered graphs of `InstructionModelTests` (QEMU counts, `make setup`'s toolchain).
    /// Only boards listed here have a model.
    public static let coefficients: [String: [Double]] = [
        Board.cortexM4.name: [
            1.50137, 41.163, 1.56582, -36.7313, 382.038, 6.24556, 0.572984, -32.2242, 341.83, 8.43251, 75.8927, 55.7444,
            72.3274, 73.7839, 149.925, -4218.01,
        ]
    ]

    /// The predicted instructions of one inference of `g` on `board`; nil when the board has no
    /// fitted model.
    public static func predict(_ g: Graph, board: Board) -> Int? {
        guard let c = coefficients[board.name] else { return nil }
        return Int(zip(features(g), c).reduce(0) { $0 + $1.0 * $1.1 }.rounded())
    }

    /// Least squares: the coefficients minimizing Σ (relative error)² over `samples`
    /// (features, measured instructions), each row weighted by 1/measured so small graphs
    /// count as much as large ones. Features that are 0 in every sample get coefficient 0.
    public static func fit(_ samples: [(features: [Double], instructions: Int)]) -> [Double] {
        let n = featureCount
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var b = [Double](repeating: 0, count: n)
        // Columns scaled to unit size for conditioning.
        var scale = [Double](repeating: 0, count: n)
        for s in samples { for j in 0..<n { scale[j] = max(scale[j], abs(s.features[j] / Double(s.instructions))) } }
        for s in samples {
            let w = 1 / Double(s.instructions)
            let x = (0..<n).map { scale[$0] > 0 ? s.features[$0] * w / scale[$0] : 0 }
            for i in 0..<n {
                b[i] += x[i] * 1  // target: measured × w = 1
                for j in 0..<n { a[i][j] += x[i] * x[j] }
            }
        }
        for i in 0..<n where scale[i] == 0 { a[i][i] = 1 }
        // A tiny ridge keeps collinear columns (e.g. a class always with one op) solvable.
        for i in 0..<n { a[i][i] += 1e-9 }
        let x = solve(a, b)
        return (0..<n).map { scale[$0] > 0 ? x[$0] / scale[$0] : 0 }
    }

    /// Gaussian elimination with partial pivoting of a small dense system.
    static func solve(_ a0: [[Double]], _ b0: [Double]) -> [Double] {
        var a = a0, b = b0
        let n = b.count
        for c in 0..<n {
            let p = (c..<n).max { abs(a[$0][c]) < abs(a[$1][c]) }!
            a.swapAt(c, p)
            b.swapAt(c, p)
            guard a[c][c] != 0 else { continue }
            for r in (c + 1)..<n {
                let f = a[r][c] / a[c][c]
                if f == 0 { continue }
                for k in c..<n { a[r][k] -= f * a[c][k] }
                b[r] -= f * b[c]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for k in (r + 1)..<n { s -= a[r][k] * x[k] }
            x[r] = a[r][r] != 0 ? s / a[r][r] : 0
        }
        return x
    }
}
