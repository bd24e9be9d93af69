import Foundation

/// A float model as plain data: the graph spec plus every parameter array by name
/// (`"<node>.<role>"`, the conventions of the layer classes), with a straightforward
/// per-sample float inference evaluator. Independent of the layer classes, it is the input
/// of quantization and the float reference of the per-layer error reports.
///
/// Parameter conventions: dense `weight` [in, out] + `bias` [out]; conv2d `weight`
/// [kh, kw, cin, cout] + `bias` [cout]; depthwise_conv2d `weight` [kh, kw, cin·mult] + `bias`;
/// batch_norm `gamma`, `beta`, `running_mean`, `running_var`.
public struct FloatGraph: Sendable {
    public var spec: GraphSpec
    public var params: [String: Tensor]
    /// Per-sample output shape of every node, and of "input".
    public let shapes: [String: [Int]]

    /// Collects `model.parameters` by name. The model was validated when it was built.
    public init(model: Model) {
        var p: [String: Tensor] = [:]
        for param in model.parameters { p[param.name] = param.value }
        self.spec = model.spec
        self.params = p
        var s: [String: [Int]] = ["input": model.spec.inputShape]
        for (node, layer) in zip(model.spec.nodes, model.layers) { s[node.name] = layer.outputShape }
        self.shapes = s
    }

    /// A graph from a spec and parameters; checks names, shapes and parameter sizes.
    /// - Throws: `KDCError.graph` naming the node.
    public init(spec: GraphSpec, params: [String: Tensor]) throws {
        self.spec = spec
        self.params = params
        self.shapes = try FloatGraph.inferShapes(spec, params)
    }

    /// The last node's name (its output is the logits).
    public var outputName: String { spec.nodes.last?.name ?? "input" }

    static func inferShapes(_ spec: GraphSpec, _ params: [String: Tensor]) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = ["input": spec.inputShape]
        func param(_ node: String, _ role: String, _ count: Int) throws {
            guard let t = params["\(node).\(role)"] else {
                throw KDCError.graph(layer: node, message: "missing parameter '\(node).\(role)'")
            }
            try checkShape(t.count == count, node, "parameter '\(node).\(role)' has \(t.count) values, expected \(count)")
        }
        for node in spec.nodes {
            try checkShape(shapes[node.name] == nil, node.name, "duplicate layer name '\(node.name)'")
            let ins = try node.inputs.map { i -> [Int] in
                guard let s = shapes[i] else {
                    throw KDCError.graph(layer: node.name, message: "input '\(i)' is not an earlier layer (or 'input')")
                }
                return s
            }
            try checkShape(ins.count == (node.op == .add ? 2 : 1), node.name, "wrong number of inputs")
            let s = ins[0]
            let needsImage: Bool
            switch node.op {
            case .conv2d, .depthwiseConv2d, .maxPool2d, .avgPool2d, .globalAvgPool: needsImage = true
            default: needsImage = false
            }
            if needsImage { try checkShape(s.count == 3, node.name, "\(node.op.kind) needs an [H, W, C] input, got \(s)") }
            let out: [Int]
            switch node.op {
            case let .dense(units):
                let k = s.reduce(1, *)
                try param(node.name, "weight", k * units); try param(node.name, "bias", units)
                out = [units]
            case let .conv2d(f, k, st, pad):
                try param(node.name, "weight", k.h * k.w * s[2] * f); try param(node.name, "bias", f)
                out = FloatKernels.windowShape(s, kernel: k, stride: st, padding: pad, channels: f)
            case let .depthwiseConv2d(k, st, pad, m):
                try param(node.name, "weight", k.h * k.w * s[2] * m); try param(node.name, "bias", s[2] * m)
                out = FloatKernels.windowShape(s, kernel: k, stride: st, padding: pad, channels: s[2] * m)
            case let .maxPool2d(k, st, pad), let .avgPool2d(k, st, pad):
                out = FloatKernels.windowShape(s, kernel: k, stride: st, padding: pad, channels: s[2])
            case .globalAvgPool: out = [s[2]]
            case .batchNorm:
                for r in ["gamma", "beta", "running_mean", "running_var"] { try param(node.name, r, s.last!) }
                out = s
            case .add:
                try checkShape(ins[0] == ins[1], node.name, "add inputs differ in shape: \(ins[0]) vs \(ins[1])")
                out = s
            case .flatten: out = [s.reduce(1, *)]
            case .relu, .relu6, .dropout: out = s
            }
            try checkShape(out.allSatisfy { $0 > 0 }, node.name, "output shape \(out) is empty")
            shapes[node.name] = out
        }
        return shapes
    }

    /// Float inference on one sample (`inputShape` values, already normalized). Returns every
    /// node's output by name, plus "input". Batch norm uses running statistics; dropout is identity.
    public func run(_ x: [Float]) -> [String: [Float]] {
        precondition(x.count == spec.inputShape.reduce(1, *), "FloatGraph.run: wrong input size \(x.count)")
        var v: [String: [Float]] = ["input": x]
        for node in spec.nodes {
            let a = v[node.inputs[0]]!
            let s = shapes[node.inputs[0]]!
            let p = { (role: String) in self.params["\(node.name).\(role)"]!.data }
            let y: [Float]
            switch node.op {
            case let .dense(units): y = FloatKernels.dense(a, p("weight"), p("bias"), outCount: units)
            case let .conv2d(f, k, st, pad):
                y = FloatKernels.conv2d(a, s, p("weight"), p("bias"), cout: f, kernel: k, stride: st, padding: pad)
            case let .depthwiseConv2d(k, st, pad, m):
                y = FloatKernels.depthwise(a, s, p("weight"), p("bias"), multiplier: m, kernel: k, stride: st, padding: pad)
            case let .maxPool2d(k, st, pad): y = FloatKernels.pool(a, s, isMax: true, pool: k, stride: st, padding: pad)
            case let .avgPool2d(k, st, pad): y = FloatKernels.pool(a, s, isMax: false, pool: k, stride: st, padding: pad)
            case .globalAvgPool: y = FloatKernels.globalAvgPool(a, s)
            case .relu: y = FloatKernels.clamp(a, 0, .infinity)
            case .relu6: y = FloatKernels.clamp(a, 0, 6)
            case let .batchNorm(eps, _):
                let (g, b, m, vr) = (p("gamma"), p("beta"), p("running_mean"), p("running_var"))
                let c = g.count
                y = a.indices.map { i in
                    let ch = i % c
                    return Float(
                        Double(g[ch]) * (Double(a[i]) - Double(m[ch])) / (Double(vr[ch]) + Double(eps)).squareRoot()
                            + Double(b[ch]))
                }
            case .dropout, .flatten: y = a
            case .add:
                let b = v[node.inputs[1]]!
                y = zip(a, b).map { $0 + $1 }
            }
            v[node.name] = y
        }
        return v
    }

    /// Logits of one sample.
    public func predict(_ x: [Float]) -> [Float] { run(x)[outputName]! }

    /// The same function without batch-norm and dropout nodes: every batch norm is folded into
    /// the conv2d / depthwise_conv2d / dense that feeds it (per output channel c, with
    /// k = γ/√(var+ε): w' = w·k, b' = (b − mean)·k + β) and readers of the batch norm (or
    /// dropout) read its input instead. A batch norm that does not directly follow one of those
    /// ops, or whose producer has other readers, is an error (no standalone batch norm).
    /// - Throws: `KDCError.graph` naming the batch norm.
    public func foldingBatchNorm() throws -> FloatGraph {
        var params = self.params
        var nodes: [NodeSpec] = []
        var rename: [String: String] = [:]
        let byName = Dictionary(uniqueKeysWithValues: spec.nodes.map { ($0.name, $0) })
        // Readers of each output once dropouts are skipped (a folded producer must have one reader).
        var alias: [String: String] = [:]
        for n in spec.nodes where n.op.kind == "dropout" { alias[n.name] = alias[n.inputs[0]] ?? n.inputs[0] }
        var readers: [String: Int] = [:]
        for n in spec.nodes where n.op.kind != "dropout" { for i in n.inputs { readers[alias[i] ?? i, default: 0] += 1 } }
        for var node in spec.nodes {
            node.inputs = node.inputs.map { rename[$0] ?? $0 }
            switch node.op {
            case .dropout:
                rename[node.name] = node.inputs[0]
            case let .batchNorm(eps, _):
                let src = node.inputs[0]
                let hint = "hint: put batch_norm directly after a conv2d, depthwise_conv2d or dense layer"
                guard let prod = byName[src] else {
                    throw KDCError.graph(layer: node.name, message: "cannot fold batch_norm applied to the graph input; \(hint)")
                }
                let kind = prod.op.kind
                guard ["conv2d", "depthwise_conv2d", "dense"].contains(kind), (readers[src] ?? 0) == 1 else {
                    throw KDCError.graph(
                        layer: node.name,
                        message:
                            "cannot fold batch_norm into '\(src)' (\(kind)\((readers[src] ?? 0) > 1 ? ", which has other readers" : "")); \(hint)"
                    )
                }
                let p = { (role: String) in self.params["\(node.name).\(role)"]!.data }
                let (g, b, m, vr) = (p("gamma"), p("beta"), p("running_mean"), p("running_var"))
                let c = g.count
                let k = (0..<c).map { Double(g[$0]) / (Double(vr[$0]) + Double(eps)).squareRoot() }
                var w = params["\(src).weight"]!
                for i in 0..<w.count { w.data[i] = Float(Double(w.data[i]) * k[i % c]) }
                var bias = params["\(src).bias"]!
                for ch in 0..<c { bias.data[ch] = Float((Double(bias.data[ch]) - Double(m[ch])) * k[ch] + Double(b[ch])) }
                params["\(src).weight"] = w
                params["\(src).bias"] = bias
                for r in ["gamma", "beta", "running_mean", "running_var"] { params["\(node.name).\(r)"] = nil }
                rename[node.name] = src
            default:
                nodes.append(node)
            }
        }
        try checkShape(!nodes.isEmpty, outputName, "nothing is left after removing batch norm and dropout")
        return try FloatGraph(spec: GraphSpec(inputShape: spec.inputShape, nodes: nodes), params: params)
    }
}
