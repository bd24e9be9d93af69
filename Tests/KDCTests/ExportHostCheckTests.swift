import Foundation
import KDCTarget
import XCTest

@testable import KDC

/// The host check of `g` on `data` (at most `limit` samples) through the target layer, compared
/// with `expected`, else with `Int8Interpreter`'s outputs.
func hostCheck(
    _ path: String, _ g: Graph, _ data: Dataset, limit: Int? = nil, expected: [[Int8]]? = nil, repeats: Int = 5
) throws -> HostCheckResult {
    let inputs = g.quantizedInputs(data, limit: limit)
    let interp = Int8Interpreter()
    let want = expected ?? inputs.map { interp.run(g, input: $0) }
    return try withKDCErrors {
        try HostCheck.run(
            artifactPath: path, inputs: inputs, expected: want, labels: Array(data.labels.prefix(inputs.count)), repeats: repeats)
    }
}

/// End to end: export, compile the real C runtime with the system compiler, run it in a
/// separate process and compare every output byte with `Int8Interpreter`. These tests need a
/// C compiler (`cc`, or `$CC`); without one they fail with the compiler hint, never skip.
final class ExportHostCheckTests: XCTestCase {
    func checkModel(_ g: Graph, _ data: Dataset, name: String) throws {
        let dir = try ExportFixtures.tempDir("hostcheck")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: name, compress: true)
        for path in [r.artifactPath, try XCTUnwrap(r.storedArtifactPath)] {
            let c = try hostCheck(path, g, data, repeats: 3)
            XCTAssertEqual(c.samples, data.count)
            XCTAssertGreaterThanOrEqual(c.samples, 100)
            XCTAssertEqual(c.mismatches, 0, "\(path): first mismatch \(String(describing: c.firstMismatch))")
            XCTAssertNil(c.firstMismatch)
            XCTAssertEqual(c.arenaBytes, r.arenaBytes)
            // The exporter's copies of the runtime's scratch queries and MAC rules agree with it.
            let variant = try XCTUnwrap(KernelScratch.Variant(rawValue: HostTarget(scratch: dir).kernelVariant))
            XCTAssertEqual(c.scratchBytes, KernelScratch.bytes(g, variant: variant))
            XCTAssertEqual(c.macs, g.macs)
            XCTAssertGreaterThan(c.latencyNsMedian, 0)
            let acc = try XCTUnwrap(c.accuracy)
            XCTAssertTrue((0...1).contains(acc))
            print(
                "host check \(name) \((path as NSString).lastPathComponent): samples \(c.samples) mismatches \(c.mismatches) latency_ns_median \(c.latencyNsMedian) arena \(c.arenaBytes) (lower bound \(r.lowerBound)) bytes \(r.bytes) raw \(r.rawBytes)"
            )
        }
    }

    func testMLPMatchesInterpreterBitForBit() throws {
        let (g, d) = try ExportFixtures.mlp()
        try checkModel(g, d, name: "mlp")
    }

    func testCNNWithEveryOpMatchesInterpreterBitForBit() throws {
        let (g, d) = try ExportFixtures.everyOp()
        // SOFTMAX exists in TFLite arithmetic only (QuantTFLiteTests checks it through the runtime).
        XCTAssertEqual(Set(g.nodes.compactMap { DeviceOp($0.op) }), Set(DeviceOp.allCases).subtracting([.softmax]))
        try checkModel(g, d, name: "cnn")
    }

    /// Reference outputs given by the caller (as `kdc build` passes the quantization report's)
    /// are what the runtime is compared with: the right ones give no mismatch, one changed byte
    /// gives exactly one, named.
    func testGivenReferenceOutputsAreCompared() throws {
        let (g, d) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("hostcheck-expected")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "m", compress: true)
        // The fixture's float model (same spec and seed as ExportFixtures.mlp).
        let spec = GraphSpec.sequential(
            inputShape: [20], [.dense(units: 32), .relu, .dense(units: 16), .relu6, .dense(units: 10)])
        let float = try Model(spec: spec, seed: 1).floatGraph
        let (_, outputs) = quantizationReportAndOutputs(float: float, quantized: g, test: d, layerSamples: 0)
        let k = d.sampleSize
        let interp = Int8Interpreter()
        for i in 0..<d.count {
            XCTAssertEqual(outputs[i], interp.run(g, input: g.quantizeInput(Array(d.x[(i * k)..<((i + 1) * k)]))), "sample \(i)")
        }
        XCTAssertEqual(
            try hostCheck(r.artifactPath, g, d, expected: outputs, repeats: 1).mismatches, 0)
        var wrong = outputs
        wrong[7][3] = wrong[7][3] == 0 ? 1 : 0
        let c = try hostCheck(r.artifactPath, g, d, expected: wrong, repeats: 1)
        XCTAssertEqual(c.mismatches, 1)
        XCTAssertEqual(c.firstMismatch?.sample, 7)
        XCTAssertEqual(c.firstMismatch?.byte, 3)
    }

    func testRuntimeErrorsAreThrownWithTheStatus() throws {
        let (g, d) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("hostcheck-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "m", compress: false)
        var bytes = [UInt8](FileManager.default.contents(atPath: r.artifactPath)!)
        bytes[bytes.count - 1] ^= 0x40
        try writeFileAtomically(Data(bytes), to: r.artifactPath)
        XCTAssertThrowsError(try hostCheck(r.artifactPath, g, d, limit: 3)) { e in
            XCTAssertEqual(e as? KDCError, .io(path: r.artifactPath, message: "kdc_init: body CRC mismatch"))
        }
    }

    func testGeneratedCFilesCompileAndLoad() throws {
        let (g, _) = try ExportFixtures.cnn()
        let dir = try ExportFixtures.tempDir("cfiles")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rt = try SourceTree.runtimeDirectory()
        for compress in [false, true] {
            let r = try export(
                g, normalization: Normalization(mean: [0.5, 0.25], std: [2, 4]), to: dir, name: "net", compress: compress)
            // A firmware-like main following the generated header's recipe: aligned buffers
            // (KDC_ALIGNED4), unpack if needed, kdc_init with the header's sizes, raw features in
            // through kdc_input_from_float, scores out through kdc_output_to_float and kdc_softmax.
            let main = """
                #include "kdc.h"
                #include "net.h"
                #include <stdio.h>
                static KDC_ALIGNED4(unpacked, NET_UNPACK_BYTES + 1);
                static KDC_ALIGNED4(arena, NET_ARENA_BYTES);
                int main(void) {
                    const uint8_t *a = net_artifact;
                    size_t len = NET_ARTIFACT_BYTES, i;
                    float x[NET_INPUT_BYTES], scores[NET_OUTPUT_BYTES], p[NET_OUTPUT_BYTES], sum = 0;
                    kdc_model m;
                    kdc_status st;
                    if (NET_UNPACK_BYTES) {
                        st = kdc_unpack(a, len, unpacked.bytes, sizeof unpacked.bytes, &len);
                        if (st != KDC_OK) { puts(kdc_status_str(st)); return 1; }
                        a = unpacked.bytes;
                    }
                    st = kdc_init(&m, a, len, arena.bytes, sizeof arena.bytes, 0);
                    if (st != KDC_OK) { puts(kdc_status_str(st)); return 1; }
                    if (kdc_input(&m).size != NET_INPUT_BYTES || kdc_output(&m).size != NET_OUTPUT_BYTES) return 2;
                    if (kdc_input(&m).zero_point != NET_INPUT_ZERO_POINT || kdc_input(&m).scale != NET_INPUT_SCALE) return 3;
                    if (NET_NORM_CHANNELS != 2 || net_norm_mean[1] != 0.25f || net_norm_std[0] != 2.0f) return 4;
                    for (i = 0; i < NET_INPUT_BYTES; i++) x[i] = (float)(i % 7) * 0.3f - 0.5f;
                    st = kdc_input_from_float(&m, x, NET_INPUT_BYTES, net_norm_mean, net_norm_std, NET_NORM_CHANNELS);
                    if (st != KDC_OK) return 5;
                    printf("in");
                    for (i = 0; i < NET_INPUT_BYTES; i++) printf(" %d", kdc_input(&m).data[i]);
                    printf("\\n");
                    kdc_invoke(&m);
                    if (kdc_output_to_float(&m, scores, NET_OUTPUT_BYTES) != KDC_OK) return 6;
                    kdc_softmax(p, scores, NET_OUTPUT_BYTES);
                    for (i = 0; i < NET_OUTPUT_BYTES; i++) sum += p[i];
                    if (sum < 0.999f || sum > 1.001f) return 7;
                    printf("ok %u\\n", (unsigned)kdc_argmax(kdc_output(&m).data, kdc_output(&m).size));
                    return 0;
                }
                """
            try writeFileAtomically(Data(main.utf8), to: dir + "/main.c")
            let srcs = try FileManager.default.contentsOfDirectory(atPath: rt + "/src").filter { $0.hasSuffix(".c") }.sorted().map
            { rt + "/src/" + $0 }
            let exe = dir + "/fw"
            let cc = try ProcessRunner.run(
                Command(
                    "cc",
                    ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-I", rt + "/include", "-I", dir]
                        + srcs + [r.sourcePath, dir + "/main.c", "-o", exe]))
            XCTAssertTrue(cc.succeeded, "cc failed (is a C compiler installed?):\n\(cc.stdout)\(cc.stderr)")
            guard cc.succeeded else { return }
            let run = try ProcessRunner.run(Command(exe, []))
            XCTAssertTrue(run.succeeded, run.stdout)
            let lines = run.stdout.split(separator: "\n")
            XCTAssertEqual(lines.count, 2, run.stdout)
            XCTAssertTrue(lines.last?.hasPrefix("ok ") == true, run.stdout)
            // The C helper's quantized input is what kdc feeds the Swift int8 reference.
            var x = (0..<g[g.input].count).map { Float($0 % 7) * 0.3 - 0.5 }
            Normalization(mean: [0.5, 0.25], std: [2, 4]).apply(to: &x, channels: 2)
            let want = g.quantizeInput(x).map { String($0) }.joined(separator: " ")
            XCTAssertEqual(lines.first.map(String.init), "in " + want)
        }
    }

    func testMissingRuntimeIsAClearError() {
        setenv("KDC_RUNTIME_DIR", "/nonexistent-kdc-runtime", 1)
        defer { unsetenv("KDC_RUNTIME_DIR") }
        XCTAssertThrowsError(try SourceTree.runtimeDirectory()) { e in
            XCTAssertTrue("\(e)".contains("KDC_RUNTIME_DIR"), "\(e)")
        }
    }
}

/// MNIST-sized models through the host check: bit-exactness at realistic sizes, and the
/// latency line the report quotes (printed; `swift test --filter ExportHostLatencyTests`).
final class ExportHostLatencyTests: XCTestCase {
    func run(_ spec: GraphSpec, classes: Int, name: String) throws {
        let float = try Model(spec: spec, seed: 5).floatGraph
        let d = ExportFixtures.data(shape: spec.inputShape, count: 100, classes: classes, seed: 6)
        let g = try quantize(float, calibration: d.subset(Array(0..<50)))
        let dir = try ExportFixtures.tempDir("latency")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: name, compress: true)
        let c = try hostCheck(r.artifactPath, g, d, repeats: 5)
        XCTAssertEqual(c.mismatches, 0, "\(String(describing: c.firstMismatch))")
        print(
            "latency \(name): samples \(c.samples) mismatches \(c.mismatches) latency_ns_median \(c.latencyNsMedian) arena \(r.arenaBytes) lower_bound \(r.lowerBound) bytes \(r.bytes) raw \(r.rawBytes) weights \(r.weightsBytes)"
        )
    }

    func testMNISTSizedMLP() throws {
        try run(
            .sequential(inputShape: [784], [.dense(units: 128), .relu, .dense(units: 64), .relu, .dense(units: 10)]), classes: 10,
            name: "mlp784")
    }

    func testMNISTSizedCNN() throws {
        try run(
            .sequential(
                inputShape: [28, 28, 1],
                [
                    .conv2d(filters: 8, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), .relu,
                    .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid),
                    .conv2d(filters: 16, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), .relu,
                    .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid),
                    .flatten, .dense(units: 10),
                ]), classes: 10, name: "cnn28")
    }
}
