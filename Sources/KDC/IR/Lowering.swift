extension Graph {
    /// The same function in the device's vocabulary (docs/QUANTIZATION.md, "Graph rewrites"):
    ///
    /// 1. Every batch norm is folded into the conv2d / depthwise_conv2d / dense that feeds it
    ///    (per output channel c, with k = γ/√(var+ε): w' = w·k, b' = (b − mean)·k + β), and
    ///    dropout is removed; readers of either read its input instead.
    /// 2. A ReLU/ReLU6 is fused into the dense/conv/depthwise/add before it (`GraphNode.activation`)
    ///    when that op has no fused clamp yet and nothing else reads its output; otherwise it
    ///    becomes a `clamp` node. `flatten` becomes `reshape`.
    ///
    /// The result is in canonical numbering; each tensor keeps the name of the float node whose
    /// output it holds (a folded or fused node keeps the conv/dense name).
    /// - Throws: `KDCError.graph` naming the batch norm that cannot be folded (one applied to the
    ///   graph input, after another op, or after an op with other readers).
    public func lowered() throws -> Graph {
        try foldingBatchNorm().fusingActivations()
    }

    /// Step 1 of `lowered()`.
    public func foldingBatchNorm() throws -> Graph {
        let producers = self.producers
        // Readers of each tensor once dropouts are skipped (a folded producer must have one reader).
        var alias: [TensorID: TensorID] = [:]
        for n in nodes where n.op.kind == "dropout" { alias[n.output] = alias[n.inputs[0]] ?? n.inputs[0] }
        var readers = [Int](repeating: 0, count: tensors.count)
        for n in nodes where n.op.kind != "dropout" { for i in n.inputs { readers[(alias[i] ?? i).index] += 1 } }
        var kept: [GraphNode] = []
        var position: [TensorID: Int] = [:]  // original output tensor → index in `kept`
        var rename: [TensorID: TensorID] = [:]
        for var node in nodes {
            node.inputs = node.inputs.map { rename[$0] ?? $0 }
            switch node.op {
            case .dropout:
                rename[node.output] = node.inputs[0]
            case let .batchNorm(eps, _):
                let src = node.inputs[0]
                let hint = "hint: put batch_norm directly after a conv2d, depthwise_conv2d or dense layer"
                guard let p = producers[src.index] else {
                    throw KDCError.graph(layer: node.name, message: "cannot fold batch_norm applied to the graph input; \(hint)")
                }
                let prod = nodes[p]
                let kind = prod.op.kind, others = readers[src.index] > 1
                guard prod.op.hasWeights, !others, let j = position[src] else {
                    throw KDCError.graph(
                        layer: node.name,
                        message:
                            "cannot fold batch_norm into '\(prod.name)' (\(kind)\(others ? ", which has other readers" : "")); \(hint)"
                    )
                }
                guard case let .batchNorm(gm, bt, mn, vr) = node.params, case let .affine(w0, b0) = kept[j].params else {
                    throw KDCError.graph(layer: node.name, message: "batch_norm or '\(prod.name)' has no parameters")
                }
                let (g, b, m, v) = (gm.data, bt.data, mn.data, vr.data)
                let c = g.count
                let k = (0..<c).map { Double(g[$0]) / (Double(v[$0]) + Double(eps)).squareRoot() }
                var w = w0, bias = b0
                for i in 0..<w.count { w.data[i] = Float(Double(w.data[i]) * k[i % c]) }
                for ch in 0..<c { bias.data[ch] = Float((Double(bias.data[ch]) - Double(m[ch])) * k[ch] + Double(b[ch])) }
                kept[j].params = .affine(weight: w, bias: bias)
                rename[node.output] = src
            default:
                position[node.output] = kept.count
                kept.append(node)
            }
        }
        try checkShape(!kept.isEmpty, nodes.last?.name ?? "input", "nothing is left after removing batch norm and dropout")
        return renumbered(kept, output: rename[output] ?? output)
    }

    /// Step 2 of `lowered()` (on a graph without batch norm and dropout).
    func fusingActivations() throws -> Graph {
        let readers = readerCounts
        var ops: [GraphNode] = []
        var position: [TensorID: Int] = [:]  // tensor → index in `ops` of the node writing it
        var rename: [TensorID: TensorID] = [:]  // output of a fused activation → its producer's
        for node in nodes {
            var op = node
            op.inputs = node.inputs.map { rename[$0] ?? $0 }
            switch node.op {
            case .flatten:
                op.op = .reshape
            case .relu, .relu6:
                let act: Activation = node.op == .relu ? .relu : .relu6
                let src = op.inputs[0]
                // Fuse when the producer can clamp, has no fused clamp yet and nobody else reads it.
                if let j = position[src], ops[j].op.fusesActivation, ops[j].activation == .none,
                    readers[node.inputs[0].index] == 1
                {
                    ops[j].activation = act
                    rename[node.output] = src
                    continue
                }
                op.op = .clamp
                op.activation = act
            case .batchNorm, .dropout:
                throw KDCError.graph(layer: node.name, message: "\(node.op.kind) left after folding (internal error)")
            default:
                break
            }
            position[node.output] = ops.count
            ops.append(op)
        }
        return renumbered(ops, output: rename[output] ?? output)
    }

    /// A graph of `nodes` (which read and write tensors of this graph) in canonical numbering:
    /// tensor 0 is this graph's input, node i writes tensor i + 1 (its tensor copied from here).
    func renumbered(_ nodes: [GraphNode], output: TensorID) -> Graph {
        var map: [TensorID: TensorID] = [input: TensorID(0)]
        var t = [self[input]]
        var out: [GraphNode] = []
        for var n in nodes {
            n.inputs = n.inputs.map { map[$0]! }
            map[n.output] = TensorID(t.count)
            t.append(self[n.output])
            n.output = map[n.output]!
            out.append(n)
        }
        return Graph(tensors: t, nodes: out, input: TensorID(0), output: map[output]!)
    }
}
