import Yams

/// `data: {format: series, ...}` and the 1-D layers (`conv1d`, `depthwise_conv1d`,
/// `max_pool1d`, `avg_pool1d`), which lower to the 2-D ops with a `(k, 1)` window over
/// `[T, 1, C]` (docs/DATA.md "Time series").
extension ConfigDecoder {
    /// The training and test sources of a series data section (`m` already checked for keys).
    func decodeSeries(_ m: [String: Node], _ path: String) throws -> (DataSourceConfig, DataSourceConfig?) {
        let channels = try int(try required(m, "channels", path), path + ".channels", min: 1)
        let wm = try mapping(try required(m, "window", path), path + ".window", allowed: ["length", "stride"])
        let length = try int(try required(wm, "length", path + ".window"), path + ".window.length", min: 1)
        let stride = try wm["stride"].map { try int($0, path + ".window.stride", min: 1) } ?? length
        let window = SeriesWindow(length: length, stride: stride)
        let npy = m["train_x"] != nil || m["train_y"] != nil || m["test_x"] != nil || m["test_y"] != nil
        let csv = ["file", "test_file", "label_column", "recording_column", "header"].filter { m[$0] != nil }
        if npy, let k = csv.first {
            throw fail(
                path + "." + k,
                "series data is NPY (train_x, train_y, test_x, test_y) or CSV (file, test_file, label_column, recording_column, header), "
                    + "not both")
        }
        func source(_ f: SeriesFiles) -> DataSourceConfig { .series(SeriesSource(files: f, window: window, channels: channels)) }
        if !csv.isEmpty {
            let lc = try m["label_column"].map { try int($0, path + ".label_column") } ?? -1
            let rc = try int(try required(m, "recording_column", path), path + ".recording_column")
            let header = try m["header"].map { try bool($0, path + ".header") } ?? false
            let file = try string(try required(m, "file", path), path + ".file")
            let test = try m["test_file"].map { try string($0, path + ".test_file") }
            return (
                source(.csv(file: file, labelColumn: lc, recordingColumn: rc, header: header)),
                test.map { source(.csv(file: $0, labelColumn: lc, recordingColumn: rc, header: header)) }
            )
        }
        guard npy else {
            throw fail(path, "series data needs train_x and train_y (NPY) or file and recording_column (CSV)")
        }
        let x = try string(try required(m, "train_x", path), path + ".train_x")
        let y = try string(try required(m, "train_y", path), path + ".train_y")
        let tx = try m["test_x"].map { try string($0, path + ".test_x") }
        let ty = try m["test_y"].map { try string($0, path + ".test_y") }
        guard (tx == nil) == (ty == nil) else {
            throw fail(path + (tx == nil ? ".test_x" : ".test_y"), "test_x and test_y go together; give both or neither")
        }
        return (source(.npy(x: x, y: y)), tx.map { source(.npy(x: $0, y: ty!)) })
    }

    /// The 2-D op of a 1-D layer: a `(k, 1)` window and stride `(s, 1)` over `[T, 1, C]`.
    /// `kernel`, `pool` and `stride` are single integers.
    func decodeOp1D(_ op: String, _ m: [String: Node], _ p: String) throws -> Op {
        func k(_ key: String) -> String { p + "." + key }
        func length(_ key: String, default d: Int?) throws -> Int {
            guard let n = m[key] else {
                if let d { return d }
                throw fail(k(key), "missing required key '\(key)' for op \(op)")
            }
            if case .sequence = n {
                throw fail(
                    k(key), "\(op) takes one length along time (an integer ≥ 1), got a list; for a 2-D window use the 2-D op")
            }
            return try int(n, k(key), min: 1)
        }
        func padding(_ d: Padding) throws -> Padding {
            guard let n = m["padding"] else { return d }
            let t = try string(n, k("padding"))
            guard let v = Padding.named[t] else {
                let all = Padding.named.keys.sorted()
                throw fail(k("padding"), "expected one of \(all.joined(separator: ", ")), got '\(t)'" + hint(t, all))
            }
            return v
        }
        func along(_ n: Int) -> Size2 { Size2(n, 1) }
        switch op {
        case "conv1d":
            return .conv2d(
                filters: try int(try required(m, "filters", p), k("filters"), min: 1),
                kernel: along(try length("kernel", default: nil)), stride: along(try length("stride", default: 1)),
                padding: try padding(.same))
        case "depthwise_conv1d":
            return .depthwiseConv2d(
                kernel: along(try length("kernel", default: nil)), stride: along(try length("stride", default: 1)),
                padding: try padding(.same), multiplier: try m["multiplier"].map { try int($0, k("multiplier"), min: 1) } ?? 1)
        default:
            let pool = try length("pool", default: 2)
            let stride = along(try length("stride", default: pool))
            return op == "max_pool1d"
                ? .maxPool2d(pool: along(pool), stride: stride, padding: try padding(.valid))
                : .avgPool2d(pool: along(pool), stride: stride, padding: try padding(.valid))
        }
    }

    /// Checks the 1-D layers of `spec` (`oneD`: node index → config op name) where the shapes
    /// are known: the input must be a series `[T, 1, C]` and the window no longer than T.
    /// Shapes are inferred up to the first node that does not fit (`Graph(spec:)` reports that one).
    func checkLayers1D(_ spec: GraphSpec, oneD: [Int: String], path: String) throws {
        guard !oneD.isEmpty else { return }
        var shapes: [String: [Int]] = ["input": spec.inputShape]
        for (i, n) in spec.nodes.enumerated() {
            let inputs = n.inputs.compactMap { shapes[$0] }
            guard inputs.count == n.inputs.count else { return }
            if let name = oneD[i], let x = inputs.first, let window = n.op.window {
                let key = "\(path)[\(i)]"
                guard x.count == 3, x[1] == 1 else {
                    let from = n.inputs[0] == "input" ? "the input (data.shape)" : "'\(n.inputs[0])'"
                    throw fail(
                        key,
                        "\(name) needs a series [T, 1, C] as input (data.format series gives [window.length, 1, channels]); "
                            + "\(from) is \(x)")
                }
                let what = name.contains("pool") ? "pool" : "kernel"
                guard window.kernel.h <= x[0] else {
                    throw fail(
                        key + "." + what,
                        "\(what) \(window.kernel.h) is longer than the series at this layer (\(x[0]) time steps, input \(x))")
                }
            }
            guard let out = try? n.op.outputShape(inputs, layer: n.name) else { return }
            shapes[n.name] = out
        }
    }
}
