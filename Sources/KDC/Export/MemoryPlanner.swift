/// The activation arena plan of a quantized graph: one offset per tensor inside a single
/// arena, computed from the op order.
///
/// Lifetimes are in op steps: a tensor lives from the op that writes it (the graph input from
/// step 0) to the last op that reads it, inclusive; the graph output lives to the end. Two
/// tensors whose lifetimes share a step never overlap in the arena, so in particular an op's
/// output never overlaps its inputs (the runtime checks that, `KDC_ERR_ALIAS`). A RESHAPE
/// output shares its input's bytes exactly (the runtime allows `out.off == in.off` for
/// RESHAPE only) and keeps that buffer alive as long as either is read.
public struct MemoryPlan: Equatable, Sendable {
    /// Byte offset of every tensor in the arena, indexed by tensor id.
    public var offsets: [Int]
    /// Byte size of every tensor (element count; int8).
    public var sizes: [Int]
    /// First and last op step each tensor is live (inclusive).
    public var firstUse: [Int]
    public var lastUse: [Int]
    /// The arena size the plan needs: max over tensors of offset + size.
    public var arenaBytes: Int
    /// Max over op steps of the bytes live at that step (aliases counted once): no plan for
    /// this op order can use less.
    public var lowerBound: Int
    /// Kernel scratch after the activations: the scratch of the kernel variant the plan is for
    /// (`KernelScratch.reserved`), the largest of every device variant's when none is given.
    public var scratchBytes: Int = 0
    /// What `kdc_init` needs: the activations, then the scratch (`KernelScratch.arenaTotal`).
    public var arenaTotalBytes: Int { KernelScratch.arenaTotal(activations: arenaBytes, scratch: scratchBytes) }

    /// True when tensors `a` and `b` are live at a common step.
    public func liveTogether(_ a: Int, _ b: Int) -> Bool {
        firstUse[a] <= lastUse[b] && firstUse[b] <= lastUse[a]
    }
}

/// Packs tensor lifetimes into one arena: greedy by size (largest first), best fit among the
/// gaps left by already placed tensors that are live at the same time, offsets aligned to 4.
/// Deterministic: ties break by first use, then tensor id.
public enum MemoryPlanner {
    /// Offsets are multiples of this.
    public static let alignment = 4

    /// Plans `graph`; `kernels`: the kernel variant whose scratch the arena holds (nil: the
    /// largest of every device variant's, `KernelScratch.maximum`).
    /// - Throws: `KDCError.graph` when a tensor is neither the input nor written by an op, is
    ///   read before it is written, or is written twice.
    public static func plan(_ graph: Graph, kernels: KernelScratch.Variant? = nil) throws -> MemoryPlan {
        let n = graph.tensors.count
        let steps = graph.nodes.count
        let sizes = graph.tensors.map(\.count)
        var first = [Int](repeating: -1, count: n)
        var last = [Int](repeating: -1, count: n)
        // root[t]: the tensor whose buffer t uses (itself, or a RESHAPE chain's source).
        var root = Array(0..<n)
        guard graph.input.index < n, graph.output.index < n else {
            throw KDCError.graph(layer: "graph", message: "input or output tensor id out of range")
        }
        first[graph.input.index] = 0
        last[graph.input.index] = 0
        for (i, op) in graph.nodes.enumerated() {
            for t in op.inputs.map(\.index) {
                guard t >= 0, t < n, first[t] >= 0, t != op.output.index else {
                    throw KDCError.graph(
                        layer: op.name, message: "reads tensor \(t) before it is written; hint: ops must be in execution order")
                }
                last[t] = max(last[t], i)
            }
            guard op.output.index < n, first[op.output.index] < 0 else {
                throw KDCError.graph(layer: op.name, message: "writes tensor \(op.output), which is the input or already written")
            }
            first[op.output.index] = i
            last[op.output.index] = i
            if op.op == .reshape { root[op.output.index] = root[op.inputs[0].index] }
        }
        if let t = first.firstIndex(of: -1) {
            throw KDCError.graph(
                layer: graph.tensors[t].name, message: "tensor \(t) is neither the graph input nor written by any op")
        }
        last[graph.output.index] = max(steps - 1, 0)
        // An alias keeps its root's buffer alive; the group shares one lifetime.
        for t in 0..<n where root[t] != t {
            last[root[t]] = max(last[root[t]], last[t])
        }
        for t in 0..<n where root[t] != t {
            first[t] = first[root[t]]; last[t] = last[root[t]]
        }

        let roots = (0..<n).filter { root[$0] == $0 }
        let order = roots.sorted {
            (sizes[$0], -first[$0], -$0) > (sizes[$1], -first[$1], -$1)
        }
        var offsets = [Int](repeating: 0, count: n)
        var placed: [Int] = []
        for t in order {
            // Buffers live at the same time as t, by offset.
            let busy = placed.filter { first[$0] <= last[t] && first[t] <= last[$0] }
                .map { (offsets[$0], offsets[$0] + sizes[$0]) }
                .sorted { $0 < $1 }
            var best: (offset: Int, slack: Int)? = nil
            var cursor = 0
            for (lo, hi) in busy {
                let gap = lo - cursor
                if gap >= sizes[t], best == nil || gap - sizes[t] < best!.slack {
                    best = (cursor, gap - sizes[t])
                }
                cursor = max(cursor, align(hi))
            }
            offsets[t] = best?.offset ?? cursor
            placed.append(t)
        }
        for t in 0..<n where root[t] != t { offsets[t] = offsets[root[t]] }

        let arena = (0..<n).map { offsets[$0] + sizes[$0] }.max() ?? 0
        var bound = 0
        for s in 0..<max(steps, 1) {
            let live = roots.filter { first[$0] <= s && s <= last[$0] }.reduce(0) { $0 + sizes[$1] }
            bound = max(bound, live)
        }
        return MemoryPlan(
            offsets: offsets, sizes: sizes, firstUse: first, lastUse: last,
            arenaBytes: arena, lowerBound: bound, scratchBytes: KernelScratch.reserved(graph, for: kernels))
    }

    static func align(_ x: Int) -> Int { (x + alignment - 1) / alignment * alignment }
}
