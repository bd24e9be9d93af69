import Foundation
import KDCTarget
import XCTest

@testable import KDC

/// `DeviceRun`: an artifact's bytes and arbitrary int8 inputs on the emulated Cortex-M4 (QEMU
/// mps2-an386), every output byte back, compared with the host C runtime. Needs
/// gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm: without them these fail with
/// the install hint, never skip.
final class DeviceRunTests: XCTestCase {
    /// `count` seeded random int8 vectors of `size` values (the whole range, not test data).
    static func randomInputs(_ count: Int, _ size: Int, seed: UInt64) -> [[Int8]] {
        var rng = SeededRNG(seed: seed, stream: "device-run")
        return (0..<count).map { _ in (0..<size).map { _ in Int8(truncatingIfNeeded: rng.int(below: 256)) } }
    }

    func assertFigures(_ f: FirmwareResult, samples: Int, _ label: String) {
        XCTAssertEqual(f.target, "cortex-m4 (qemu mps2-an386)")
        XCTAssertEqual(f.samples, samples, label)
        XCTAssertTrue(f.match, "\(label): \(f.mismatches) output bytes differ from the host C runtime")
        XCTAssertEqual(f.ram, f.ramPredicted, "\(label): RAM measured vs predicted")
        XCTAssertGreaterThan(f.ram.stackBytes, 0)
        XCTAssertEqual(f.stackPath.map(\.bytes).reduce(0, +), f.ramPredicted.stackBytes)
    }

    /// The fixture with every op, compressed: both modes, arbitrary inputs, outputs equal to the
    /// host C runtime's and to `Int8Interpreter`'s; instructions per inference counted with one
    /// extra inference agree with the count with ten to 0.01 % (a repeated inference runs the same
    /// instructions; the two images' own code differs by a few instructions).
    func testEveryOpArtifactOnCortexM4EqualsTheHostRuntime() throws {
        let (g, d) = try ExportFixtures.everyOp()
        let e = try prepareExport(g, normalization: .identity, name: "cnn", compress: true)
        let k = g[g.input].count
        let inputs = Self.randomInputs(5, k, seed: 1) + Array(g.quantizedInputs(d, limit: 3))
        let r = try DeviceRun.run(artifact: e.main, inputs: inputs, name: "cnn")
        XCTAssertEqual(r.comparedWith, "the host C runtime")
        XCTAssertEqual(r.firmware.map(\.mode), [.stored, .compressed])
        let dir = try ExportFixtures.tempDir("device-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeFileAtomically(Data(e.main), to: dir + "/cnn.kdc")
        let host = try withKDCErrors { try HostRun.outputs(artifactPath: dir + "/cnn.kdc", inputs: inputs) }
        XCTAssertEqual(r.outputs, host)
        let interp = Int8Interpreter()
        XCTAssertEqual(r.outputs, inputs.map { interp.run(g, input: $0) })
        for f in r.firmware { assertFigures(f, samples: inputs.count, "cnn \(f.mode)") }
        XCTAssertEqual(r.firmware[1].ram.unpackBytes, e.stored.count)
        // The image reserves the Cortex-M4's own kernels' scratch (dsp), not the largest of any variant.
        XCTAssertEqual(
            r.firmware[0].ram.arenaBytes,
            KernelScratch.arenaTotal(activations: e.plan.arenaBytes, scratch: KernelScratch.bytes(g, variant: .dsp)))
        let one = try XCTUnwrap(r.firmware[0].instructionsPerInference)
        XCTAssertGreaterThan(one, g.macs)
        let ten = try DeviceRun.run(
            artifact: e.main, inputs: Array(inputs.prefix(1)), modes: [.stored], countedInferences: 10, name: "cnn")
        let perTen = try XCTUnwrap(ten.firmware[0].instructionsPerInference)
        XCTAssertEqual(Double(one), Double(perTen), accuracy: Double(perTen) * 1e-4, "k = 1 and k = 10 differ")
        print(
            "device run cnn: \(inputs.count) inputs, insns/inference \(one) (k = 1), \(perTen) (k = 10), RAM \(r.firmware.map(\.ramBytes))"
        )
    }

    /// Expected outputs given by the caller are what the device is compared with: one changed
    /// byte is one mismatch.
    func testGivenExpectedOutputsAreCompared() throws {
        let (g, _) = try ExportFixtures.mlp()
        let inputs = Self.randomInputs(3, 20, seed: 2)
        let interp = Int8Interpreter()
        var want = inputs.map { interp.run(g, input: $0) }
        want[2][4] = want[2][4] == 0 ? 1 : 0
        let r = try DeviceRun.run(graph: g, compress: false, inputs: inputs, expected: want, countInstructions: false)
        XCTAssertEqual(r.comparedWith, "the caller's expected outputs")
        XCTAssertEqual(r.firmware.map(\.mode), [.stored])
        XCTAssertEqual(r.firmware[0].mismatches, 1)
        XCTAssertFalse(r.firmware[0].match)
        XCTAssertEqual(r.outputs, inputs.map { interp.run(g, input: $0) })
        XCTAssertNil(r.firmware[0].instructionsPerInference)
    }

    /// More inputs than one image holds run in several images; the outputs come back in order.
    func testInputsSplitOverImages() throws {
        let (g, _) = try ExportFixtures.mlp()
        let inputs = Self.randomInputs(5, 20, seed: 3)
        let r = try DeviceRun.run(
            graph: g, compress: false, inputs: inputs, countInstructions: false, maxImageInputBytes: 40)
        let interp = Int8Interpreter()
        XCTAssertEqual(r.outputs, inputs.map { interp.run(g, input: $0) })
        XCTAssertEqual(r.firmware[0].samples, 5)
        XCTAssertTrue(r.firmware[0].match)
    }

    /// The files written for the firmware from an artifact's bytes are the exporter's, in kdc's
    /// arithmetic and in TensorFlow Lite's (whose header flag the stored artifact keeps).
    func testModelFilesFromBytesAreTheExportersFiles() throws {
        for g in [try ExportFixtures.everyOp().0, try TFLiteFixtures.everyOp().0] {
            try checkModelFiles(g)
        }
    }

    func checkModelFiles(_ g: Graph) throws {
        for compress in [false, true] {
            let e = try prepareExport(g, normalization: .identity, name: "m", compress: compress)
            let dir = try ExportFixtures.tempDir("device-files")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let m = try DeviceRun.writeModel(try ArtifactReader.parse(e.main), bytes: e.main, name: "m", into: dir)
            XCTAssertEqual(m.compressed, compress)
            XCTAssertEqual(m.arenaBytes, e.plan.arenaTotalBytes)
            XCTAssertEqual(m.rawBytes, e.stored.count)
            XCTAssertEqual(try String(contentsOfFile: m.headerPath, encoding: .utf8), e.header)
            XCTAssertEqual(try String(contentsOfFile: m.sourcePath, encoding: .utf8), e.source)
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/m.kdc"), Data(e.main))
            if compress { XCTAssertEqual(FileManager.default.contents(atPath: m.storedArtifactPath), Data(e.stored)) }
        }
    }

    /// A model of the MLPerf Tiny models' size: about 300 KB of weights and 110 KB of arena
    /// (conv 3×3 4 → 24 channels on 64×64, max pool 4, dense 6144 → 48 → 10), built and run in both
    /// modes on arbitrary inputs; outputs equal the host C runtime's.
    func testModelOfMLPerfTinySizeLinksAndRuns() throws {
        let spec = GraphSpec(
            inputShape: [64, 64, 4],
            nodes: [
                NodeSpec(
                    name: "conv", op: .conv2d(filters: 24, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same),
                    inputs: ["input"]),
                NodeSpec(name: "relu", op: .relu, inputs: ["conv"]),
                NodeSpec(name: "mp", op: .maxPool2d(pool: Size2(4, 4), stride: Size2(4, 4), padding: .valid), inputs: ["relu"]),
                NodeSpec(name: "flat", op: .flatten, inputs: ["mp"]),
                NodeSpec(name: "fc1", op: .dense(units: 48), inputs: ["flat"]),
                NodeSpec(name: "relu2", op: .relu, inputs: ["fc1"]),
                NodeSpec(name: "fc2", op: .dense(units: 10), inputs: ["relu2"]),
            ])
        var rng = SeededRNG(seed: 5)
        let float = ExportFixtures.randomParams(try Graph(spec: spec), &rng)
        let calib = ExportFixtures.data(shape: [64, 64, 4], count: 4, classes: 10, seed: 6)
        let g = try quantize(float, calibration: calib)
        let e = try prepareExport(g, normalization: .identity, name: "big", compress: true)
        XCTAssertGreaterThan(e.stored.count, 290_000)
        XCTAssertGreaterThan(e.plan.arenaTotalBytes, 100_000)
        let inputs = Self.randomInputs(3, 64 * 64 * 4, seed: 7)
        let t0 = Date()
        let r = try DeviceRun.run(artifact: e.main, inputs: inputs, name: "big")
        let seconds = Date().timeIntervalSince(t0)
        XCTAssertEqual(r.firmware.map(\.mode), [.stored, .compressed])
        for f in r.firmware { assertFigures(f, samples: 3, "big \(f.mode)") }
        XCTAssertGreaterThan(r.firmware[0].imageTextBytes, e.stored.count)
        XCTAssertEqual(r.firmware[1].ram.unpackBytes, e.stored.count)
        let interp = Int8Interpreter()
        XCTAssertEqual(r.outputs[0], interp.run(g, input: inputs[0]))
        for f in r.firmware {
            print(
                "device run big \(f.mode): artifact \(f.mode == .stored ? e.stored.count : e.main.count) B, arena \(f.ram.arenaBytes), RAM \(f.ramBytes) (unpack \(f.ram.unpackBytes), static \(f.ram.staticBytes), stack \(f.ram.stackBytes)), image text \(f.imageTextBytes), insns/inference \(f.instructionsPerInference ?? -1) (\(g.macs) MACs)"
            )
        }
        print("device run big: \(String(format: "%.1f", seconds)) s for both modes")
    }

    /// `--firmware cortex-m4`: the same outputs from the emulated device (float32 inputs
    /// quantized by the host runtime for it), int8 and float32 outputs identical to the host
    /// run's files; through the binary too.
    func testFirmwareRunWritesTheHostsOutputs() throws {
        let (g, d) = try ExportFixtures.everyOp()
        let dir = try ExportFixtures.tempDir("run-firmware")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "fw", compress: true)
        let n = 6
        try writeNPY(dir + "/in.npy", shape: [n] + g.inputShape, values: Array(d.x.prefix(n * d.sampleSize)))
        for artifact in [r.artifactPath, try XCTUnwrap(r.storedArtifactPath)] {
            var a = try ArtifactReader.read(path: artifact)
            for floatOut in [false, true] {
                a.graph.floatOutput = floatOut
                let host = dir + "/host.npy", device = dir + "/device.npy"
                _ = try ArtifactRun.run(
                    a, artifactPath: artifact, inputPath: dir + "/in.npy", outputPath: host, runtimeDirectory: nil)
                let res = try ArtifactRun.run(
                    a, artifactPath: artifact, inputPath: dir + "/in.npy", outputPath: device, board: .cortexM4,
                    runtimeDirectory: nil)
                let f = try XCTUnwrap(res.firmware)
                XCTAssertEqual(f.mode, a.compressed ? .compressed : .stored)
                XCTAssertEqual(f.samples, n)
                XCTAssertTrue(f.match)
                XCTAssertEqual(f.ram, f.ramPredicted)
                XCTAssertNotNil(f.instructionsPerInference)
                XCTAssertEqual(
                    FileManager.default.contents(atPath: device), FileManager.default.contents(atPath: host),
                    "\(artifact) floatOutput \(floatOut): device and host files differ")
            }
        }
        let cli = try CLITests.runKDC([
            "run", r.artifactPath, "--input", dir + "/in.npy", "--output", dir + "/cli.npy", "--firmware", "cortex-m4",
        ])
        XCTAssertEqual(cli.status, 0, cli.err)
        XCTAssertTrue(cli.out.contains("ran \(n) float32 inputs on cortex-m4 (qemu mps2-an386), compressed artifact"), cli.out)
        XCTAssertTrue(cli.out.contains("instructions per inference"), cli.out)
        let interp = Int8Interpreter()
        XCTAssertEqual(
            try XCTUnwrap(try readNPY(dir + "/cli.npy").integers).map { Int8($0) },
            Array(g.quantizedInputs(d, limit: n).map { interp.run(g, input: $0) }.joined()))
    }
}

/// `kdc bench device`: the CLI's per-board table of device figures.
final class DeviceBenchCLITests: XCTestCase {
    /// Two boards, one artifact: a row per board with instructions above the MACs, RAM predicted
    /// = measured, outputs equal to the host; the JSON holds the same rows; a board the model does
    /// not fit is a row saying so.
    func testBenchDevicePrintsAndWritesARowPerBoard() throws {
        let (g, _) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("bench-device")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = try prepareExport(g, normalization: .identity, name: "mlp", compress: true)
        try writeFileAtomically(Data(e.main), to: dir + "/mlp.kdc")
        let r = try CLITests.runKDC([
            "bench", "device", dir + "/mlp.kdc", "--firmware", "cortex-m4,cortex-m0", "--json", dir + "/rows.json",
        ])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        struct Row: Decodable {
            var model: String, board: String, macs: Int, instructions: Int?, ramBytes: Int, ramPredictedBytes: Int
            var outputsMatch: Bool, runtimeTextBytes: Int
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/rows.json")))
        XCTAssertEqual(rows.map(\.board), ["cortex-m4", "cortex-m0"])
        for row in rows {
            XCTAssertEqual(row.model, "mlp")
            XCTAssertEqual(row.macs, g.macs)
            XCTAssertGreaterThan(try XCTUnwrap(row.instructions), g.macs, row.board)
            XCTAssertEqual(row.ramBytes, row.ramPredictedBytes, row.board)
            XCTAssertTrue(row.outputsMatch, row.board)
            XCTAssertGreaterThan(row.runtimeTextBytes, 1000)
            XCTAssertTrue(r.out.contains("\(row.instructions!)"), "the table shows \(row.board)'s count")
        }
        XCTAssertTrue(r.out.contains("no cycle figures"))

        // An artifact larger than the micro:bit's 256 KB of flash: a row, not an abort.
        let ad = CLITests.repoRoot + "/../shared/models/mlperf-tiny/ad01_int8.tflite"
        if FileManager.default.fileExists(atPath: ad) {
            let big = try CLITests.runKDC(["bench", "device", ad, "--firmware", "cortex-m0", "--inputs", "1"])
            XCTAssertEqual(big.status, 0, big.err + big.out)
            XCTAssertTrue(big.out.contains("does not fit"), big.out)
        } else {
            XCTFail("../shared/models/mlperf-tiny/ad01_int8.tflite is missing: the small-board row is not tested")
        }
        let bad = try CLITests.runKDC(["bench", "device", dir + "/mlp.kdc", "--firmware", "cortex-m99"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("firmware"), bad.err)
    }
}
