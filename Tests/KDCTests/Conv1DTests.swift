import Foundation
import XCTest
@testable import KDC

/// The 1-D layers of a config (`conv1d`, `depthwise_conv1d`, `max_pool1d`, `avg_pool1d`): they
/// are the 2-D ops with a `(k, 1)` window over `[T, 1, C]`, compute a 1-D convolution or pool,
/// and refuse inputs and windows that do not fit with the key named.
final class Conv1DTests: XCTestCase {
    static let series =
        "{format: series, dir: /tmp, train_x: x.npy, train_y: y.npy, channels: 2, classes: 3, window: {length: 9}}"

    func spec(_ layers: String, data: String = Conv1DTests.series) throws -> GraphSpec {
        let text = "data: \(data)\nteacher: {layers: \(layers)}\n"
        let cfg = try KDCConfig.parse(text, file: "c.yaml", baseDirectory: "/tmp")
        return try XCTUnwrap(cfg.teacher.model?.graph)
    }

    func assertConfigError(_ layers: String, key: String, _ fragments: [String], line: UInt = #line) {
        do {
            _ = try spec(layers)
            XCTFail("expected an error for \(layers)", line: line)
        } catch let KDCError.config(_, k, message) {
            XCTAssertEqual(k, key, message, line: line)
            for f in fragments { XCTAssertTrue(message.contains(f), "'\(message)' lacks '\(f)'", line: line) }
        } catch {
            XCTFail("unexpected \(error)", line: line)
        }
    }

    func testOneDLayersAreTheTwoDOpsWithATimeWindow() throws {
        let oneD = try spec(
            "[{op: conv1d, filters: 4, kernel: 3, stride: 2}, {op: depthwise_conv1d, kernel: 2, multiplier: 2, padding: valid}, "
                + "{op: max_pool1d, pool: 2}, {op: avg_pool1d, pool: 2, stride: 1, padding: same}, flatten, {op: dense, units: 3}]"
        )
        let twoD = try spec(
            "[{op: conv2d, filters: 4, kernel: [3, 1], stride: [2, 1], name: conv1d0}, "
                + "{op: depthwise_conv2d, kernel: [2, 1], multiplier: 2, padding: valid, name: depthwise_conv1d1}, "
                + "{op: max_pool2d, pool: [2, 1], name: max_pool1d2}, "
                + "{op: avg_pool2d, pool: [2, 1], stride: [1, 1], padding: same, name: avg_pool1d3}, flatten, {op: dense, units: 3}]"
        )
        XCTAssertEqual(oneD, twoD)
        XCTAssertEqual(oneD.inputShape, [9, 1, 2])
        // Shapes: same conv 9 → 5 (stride 2), valid depthwise 5 → 4 with 8 channels, pool 4 → 2, same avg pool 2 → 2.
        XCTAssertEqual(
            try Graph(spec: oneD).tensors.map(\.shape), [[9, 1, 2], [5, 1, 4], [4, 1, 8], [2, 1, 8], [2, 1, 8], [16], [3]])
    }

    /// conv1d (TF "same" padding, stride 2) and max/avg pools against loops written for 1-D, on
    /// both the training forward pass and the float reference.
    func testOneDLayersComputeOneDConvolutionAndPooling() throws {
        let (t, c, f, k, s) = (9, 2, 3, 4, 2)
        let model = try Model(spec: try spec("[{op: conv1d, filters: \(f), kernel: \(k), stride: \(s)}]"), seed: 4)
        guard case let .affine(weight, bias)? = model.floatGraph.nodes[0].params else { return XCTFail("no weights") }
        XCTAssertEqual(weight.shape, [k, 1, c, f])
        var rng = SeededRNG(seed: 1)
        let x = (0..<(2 * t * c)).map { _ in rng.normal() }
        let data = Dataset(name: "x", sampleShape: [t, 1, c], x: x, labels: [0, 0], numClasses: 3)
        // SAME: out = ceil(9 / 2) = 5; total padding (5 − 1)·2 + 4 − 9 = 3, 1 before.
        let (out, before) = (5, 1)
        var expected: [Float] = []
        for n in 0..<2 {
            for o in 0..<out {
                for j in 0..<f {
                    var acc = Double(bias.data[j])
                    for i in 0..<k {
                        let step = o * s + i - before
                        guard step >= 0 && step < t else { continue }
                        for ch in 0..<c { acc += Double(x[(n * t + step) * c + ch]) * Double(weight.data[(i * c + ch) * f + j]) }
                    }
                    expected.append(Float(acc))
                }
            }
        }
        let got = predictLogits(model, on: data).data
        XCTAssertEqual(got.count, expected.count)
        for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let reference = model.floatGraph.runFloat(Array(x[(t * c)...])).last!
        for (a, b) in zip(reference, expected[(out * f)...]) { XCTAssertEqual(a, b, accuracy: 1e-5) }

        for (op, pick) in [("max_pool1d", { (v: [Float]) in v.max()! }), ("avg_pool1d", { $0.reduce(0, +) / Float($0.count) })] {
            let pool = try Model(spec: try spec("[{op: \(op), pool: 3, stride: 2}]"), seed: 0)
            var want: [Float] = []
            for n in 0..<2 {
                for o in 0..<4 { for ch in 0..<c { want.append(pick((0..<3).map { x[(n * t + o * 2 + $0) * c + ch] })) } }
            }
            let y = predictLogits(pool, on: data).data
            XCTAssertEqual(y.count, want.count, op)
            for (a, b) in zip(y, want) { XCTAssertEqual(a, b, accuracy: 1e-6, op) }
        }
    }

    func testOneDLayersRefuseWhatDoesNotFit() throws {
        assertConfigError(
            "[{op: conv1d, filters: 2, kernel: 10}, flatten, {op: dense, units: 3}]", key: "teacher.layers[0].kernel",
            ["kernel 10 is longer than the series", "9 time steps"])
        assertConfigError(
            "[{op: conv1d, filters: 2, kernel: 3, stride: 3}, {op: max_pool1d, pool: 4}, flatten, {op: dense, units: 3}]",
            key: "teacher.layers[1].pool", ["pool 4 is longer than the series", "3 time steps"])
        assertConfigError(
            "[{op: conv1d, filters: 2, kernel: [3, 1]}]", key: "teacher.layers[0].kernel", ["one length along time"])
        assertConfigError(
            "[flatten, {op: conv1d, filters: 2, kernel: 3}]", key: "teacher.layers[1]",
            ["needs a series [T, 1, C]", "'flatten0' is [18]"])
        assertConfigError("[{op: conv1d, kernel: 3}]", key: "teacher.layers[0].filters", ["missing required key"])
        assertConfigError("[conv1d]", key: "teacher.layers[0]", ["needs parameters", "filters: N, kernel: K"])
        // An image input is no series.
        do {
            _ = try spec(
                "[{op: conv1d, filters: 2, kernel: 3}]",
                data: "{format: npy, dir: /tmp, train_x: x.npy, train_y: y.npy, shape: [8, 8, 1], classes: 3}")
            XCTFail("expected an error")
        } catch let KDCError.config(_, key, message) {
            XCTAssertEqual(key, "teacher.layers[0]")
            XCTAssertTrue(message.contains("the input (data.shape) is [8, 8, 1]"), message)
        }
    }

    func testSeriesConfigErrors() throws {
        func fails(_ data: String, extra: String = "", key: String, _ fragment: String, line: UInt = #line) {
            let text = "data: \(data)\nteacher: {layers: [flatten, {op: dense, units: 3}]\(extra)}\n"
            XCTAssertThrowsError(try KDCConfig.parse(text, file: "c.yaml", baseDirectory: "/tmp"), line: line) { e in
                guard case let KDCError.config(_, k, m) = e else { return XCTFail("\(e)", line: line) }
                XCTAssertEqual(k, key, m, line: line)
                XCTAssertTrue(m.contains(fragment), "'\(m)' lacks '\(fragment)'", line: line)
            }
        }
        let base = "format: series, dir: /tmp, train_x: x.npy, train_y: y.npy, classes: 3"
        fails("{\(base), window: {length: 8}}", key: "data.channels", "missing required key")
        fails("{\(base), channels: 3}", key: "data.window", "missing required key")
        fails("{\(base), channels: 3, window: {length: 0}}", key: "data.window.length", "must be ≥ 1")
        fails("{\(base), channels: 3, window: {length: 8, step: 2}}", key: "data.window.step", "unknown key")
        fails("{\(base), channels: 3, window: {length: 8}, shape: [8, 3]}", key: "data.shape", "[8, 1, 3]")
        fails("{\(base), channels: 3, window: {length: 8}, file: a.csv}", key: "data.file", "not both")
        fails(
            "{format: series, dir: /tmp, file: a.csv, classes: 3, channels: 3, window: {length: 8}}",
            key: "data.recording_column", "missing required key")
        fails(
            "{\(base), channels: 3, window: {length: 8}}", extra: ", train: {augment_shift: 1}",
            key: "teacher.train.augment_shift", "set it to 0 with format series")
        fails(
            "{\(base), channels: 3, window: {length: 8}, test_x: t.npy}", key: "data.test_y", "give both or neither")
        let ok = try KDCConfig.parse(
            "data: {\(base), channels: 3, window: {length: 8}, shape: [8, 1, 3]}\nteacher: {layers: [flatten, {op: dense, units: 3}]}\n",
            file: "c.yaml", baseDirectory: "/tmp")
        XCTAssertEqual(ok.data.shape, [8, 1, 3])
        guard case let .series(s) = ok.data.train else { return XCTFail("not a series source") }
        XCTAssertEqual(s.window, SeriesWindow(length: 8, stride: 8), "stride defaults to the length")
        // The effective configuration reads back to the same config.
        let back = try KDCConfig.parse(ok.yaml(), file: "c.yaml", baseDirectory: "/tmp")
        XCTAssertEqual(back.data, ok.data)
    }
}
