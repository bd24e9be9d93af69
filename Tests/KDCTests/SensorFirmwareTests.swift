import Foundation
import XCTest

@testable import KDC
@testable import KDCTarget

/// The Cortex-M4 firmware sample (samples/firmware, `FW_SENSOR=1`) runs recorded sensor samples
/// built into the image through a time-series model's sensor stage: every window one at a time
/// (`kdc_sensor_quantize`) and each recording through the streaming API (`kdc_stream_push_sensor`
/// in chunks of 1 to 9 samples); every output byte must equal kdc's Swift reference
/// (`SensorQuantizer` → `Int8Interpreter`), and the RAM measured on the board the prediction, part
/// by part. Needs the Arm toolchain and QEMU (as FirmwareTests); not in `make check`.
final class SensorFirmwareTests: XCTestCase {
    /// A small int8 conv1d model over windows `[length, 1, channels]` with a sensor stage.
    static func model(length: Int, channels: Int, normalization: SensorNormalization) throws -> Graph {
        let spec = GraphSpec.sequential(
            inputShape: [length, 1, channels],
            [
                .conv2d(filters: 4, kernel: Size2(3, 1), stride: Size2(2, 1), padding: .valid), .relu, .flatten,
                .dense(units: 3),
            ])
        let float = try Model(spec: spec, seed: 5).floatGraph
        let d = ExportFixtures.data(shape: [length, 1, channels], count: 40, classes: 3, seed: 4)
        var g = try quantize(float, calibration: d)
        g.inputStage = .sensor(normalization)
        return g
    }

    /// The target layer's sensor image (`FirmwareCheck.runSensor`): recordings of different
    /// lengths, including values far outside the training range (the stage clamps them) and one
    /// shorter than a window, give the Swift reference's bytes one window at a time and streamed;
    /// the RAM predicted from the image equals the measured, part by part; an expected byte off
    /// by one is counted once on each path; `make SENSOR=1` builds the same image bytes.
    func testTargetLayerSensorImage() throws {
        let (len, c, stride) = (12, 3, 5)
        let norm = SensorNormalization(mean: [0.5, -9.81, 0], std: [2, 0.25, 40])
        let g = try Self.model(length: len, channels: c, normalization: norm)
        var rng = SeededRNG(seed: 21)
        // 40, 12 (one window), 9 (none) and 31 steps.
        var recordings: [[Float]] = [40, 12, 9, 31].map { steps in
            (0..<(steps * c)).map { i in
                norm.mean[i % c] + norm.std[i % c] * (2 * sin(Float(i / c) * 0.4 + Float(i % c)) + 0.3 * rng.normal())
            }
        }
        recordings[0][5] = 1e6  // clamps to 127
        recordings[3][0] = -3e4  // clamps to -128
        let k = SensorQuantizer.factors(norm, inputScale: g.inputQuant.scale)
        let interp = Int8Interpreter()
        var expected: [[Int8]] = []
        for r in recordings {
            for s in SeriesWindow(length: len, stride: stride).starts(steps: r.count / c) {
                let x = SensorQuantizer.quantize(
                    Array(r[(s * c)..<((s + len) * c)]), mean: norm.mean, k: k, zeroPoint: Int(g.inputQuant.zeroPoint))
                expected.append(interp.run(g, input: x))
            }
        }
        XCTAssertEqual(expected.count, 6 + 1 + 0 + 4)
        let dir = try ExportFixtures.tempDir("sensor-fw-target")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = try export(g, normalization: .identity, to: dir, name: "motion", compress: false)
        XCTAssertEqual(e.streamBytes, len * c, "a sensor stream buffer is the ring of one window")
        let r = try FirmwareCheck.runSensor(
            model: e.exportedModel, mode: .stored, recordings: recordings, channels: c, windowLength: len, stride: stride,
            expected: expected, opCodes: g.opCodes, countInstructions: true, countedRuns: 2)
        XCTAssertEqual(r.recordings, 4)
        XCTAssertEqual(r.steps, [40, 12, 9, 31])
        XCTAssertEqual(r.windows, 11)
        XCTAssertEqual(r.wholeMismatches, 0)
        XCTAssertEqual(r.streamedMismatches, 0)
        XCTAssertTrue(r.match)
        XCTAssertEqual(r.streamBytes, len * c)
        XCTAssertEqual(r.chunkSamples, [1, 4, 2, 7, 3, 9, 5])
        XCTAssertEqual(r.ram, r.ramPredicted, "measured \(r.ram), predicted \(r.ramPredicted)")
        XCTAssertEqual(r.ram.streamBytes, len * c)
        XCTAssertEqual(r.ram.arenaBytes, e.arenaTotalBytes)
        XCTAssertEqual(r.stackPath.reduce(0) { $0 + $1.bytes }, r.ramPredicted.stackBytes)
        let perWindow = try XCTUnwrap(r.instructionsPerWindow)
        XCTAssertGreaterThan(perWindow, len * c)  // at least one instruction per value
        XCTAssertEqual(r.instructionsPerStep, perWindow / len)
        print(
            "sensor image: \(r.windows) windows, \(r.wholeMismatches)/\(r.streamedMismatches) mismatches; RAM measured \(r.ram), "
                + "predicted \(r.ramPredicted); stack \(r.stackPath.map { "\($0.function) \($0.bytes)" }); "
                + "kdc_sensor_quantize \(perWindow) instructions per window of \(len) steps × \(c) channels")

        // A wrong expected byte is found on both paths.
        var wrong = expected
        wrong[7][1] = wrong[7][1] == 0 ? 1 : 0
        let bad = try FirmwareCheck.runSensor(
            model: e.exportedModel, mode: .stored, recordings: recordings, channels: c, windowLength: len, stride: stride,
            expected: wrong, opCodes: g.opCodes, countInstructions: false)
        XCTAssertEqual(bad.wholeMismatches, 1)
        XCTAssertEqual(bad.streamedMismatches, 1)
        XCTAssertFalse(bad.match)
        // What the build fails on: outputs, the device's stream buffer, or the RAM.
        var section = SensorSection(
            channels: c, windowLength: len, stride: stride, mean: norm.mean, std: norm.std, k: k,
            inputScale: g.inputQuant.scale, inputZeroPoint: Int(g.inputQuant.zeroPoint), streamBytes: len * c, firmware: r)
        XCTAssertFalse(section.firmwareFailed)
        section.firmware = bad
        XCTAssertTrue(section.firmwareFailed)
        section.firmware = r
        section.firmware?.ram.stackBytes += 4
        XCTAssertTrue(section.firmwareFailed)
        section.firmware = r
        section.streamBytes += 1
        XCTAssertTrue(section.firmwareFailed)

        // make SENSOR=1 builds the image the target layer builds.
        let rt = try SourceTree.runtimeDirectory()
        let fw = try SourceTree.firmwareDirectory(runtimeDirectory: rt)
        try SourceTree.write(
            Data(FirmwareImage.sensorSource(recordings, channels: c, stride: stride).utf8), to: dir + "/sensor.c")
        var image = FirmwareImage(
            target: QEMUTarget(board: .cortexM4, firmwareDirectory: fw, scratch: dir), model: e.exportedModel, mode: .stored,
            runtimeDirectory: rt, buildDirectory: dir + "/swift")
        image.sensor = true
        let swiftELF = try image.build(sensor: recordings, channels: c, stride: stride)
        try ProcessRunner.check(
            Command(
                "make",
                [
                    "-s", "-C", fw, "all", "MODEL_DIR=" + dir, "NAME=motion", "MODE=stored", "INPUTS=" + dir + "/sensor.c",
                    "SENSOR=1", "BUILD=" + dir + "/make", "RUNTIME=" + rt,
                ]), action: "make all")
        var bins: [Data] = []
        for elf in [swiftELF, dir + "/make/firmware.elf"] {
            try ProcessRunner.check(Command("arm-none-eabi-objcopy", ["-O", "binary", elf, elf + ".bin"]), action: "objcopy")
            bins.append(try XCTUnwrap(FileManager.default.contents(atPath: elf + ".bin")))
        }
        XCTAssertGreaterThan(bins[0].count, 10000)
        XCTAssertEqual(bins[0], bins[1], "the sensor images' bytes differ")
    }

    /// The sensor image on an Armv6-M board (libgcc's Thumb-1 soft float) and on riscv32 (whose
    /// painted stack mark is not exact: the measured stack is the CPU's lowest SP): the same
    /// bytes as the Swift reference, RAM predicted = measured.
    func testSensorImageOnCortexM0AndRISCV() throws {
        let (len, c, stride) = (8, 2, 3)
        let norm = SensorNormalization(mean: [1, -2], std: [0.5, 4])
        let g = try Self.model(length: len, channels: c, normalization: norm)
        let recordings: [[Float]] = [20, 11].map { steps in (0..<(steps * c)).map { i in Float(i % 7) - 2.5 + Float(i / c) * 0.1 }
        }
        let k = SensorQuantizer.factors(norm, inputScale: g.inputQuant.scale)
        let interp = Int8Interpreter()
        var expected: [[Int8]] = []
        for r in recordings {
            for s in SeriesWindow(length: len, stride: stride).starts(steps: r.count / c) {
                let x = SensorQuantizer.quantize(
                    Array(r[(s * c)..<((s + len) * c)]), mean: norm.mean, k: k, zeroPoint: Int(g.inputQuant.zeroPoint))
                expected.append(interp.run(g, input: x))
            }
        }
        let dir = try ExportFixtures.tempDir("sensor-fw-boards")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = try export(g, normalization: .identity, to: dir, name: "motion", compress: false)
        for board in [Board.cortexM0, .riscv32] {
            let r = try FirmwareCheck.runSensor(
                board: board, model: e.exportedModel, mode: .stored, recordings: recordings, channels: c, windowLength: len,
                stride: stride, expected: expected, opCodes: g.opCodes, countInstructions: false)
            XCTAssertEqual(r.windows, 5 + 2, board.name)
            XCTAssertTrue(
                r.match, "\(board.name): \(r.wholeMismatches) one-window, \(r.streamedMismatches) streamed bytes differ")
            XCTAssertEqual(r.ram, r.ramPredicted, "\(board.name): measured \(r.ram), predicted \(r.ramPredicted)")
            print("sensor image on \(board.name): \(r.windows) windows, RAM measured \(r.ram), predicted \(r.ramPredicted)")
        }
    }

    /// `kdc build` of a small time-series config with `export.firmware: cortex-m4`: the test
    /// recordings stream on the board through the sensor stage, every output byte equal to the
    /// Swift reference, the device's `kdc_stream_bytes` and RAM equal to the prediction, in
    /// `report.json` → `sensor.firmware`.
    func testBuildFirmwareStreamsTestRecordings() throws {
        let dir = try makeTempDir()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try SeriesPipelineTests.writeSinusoids(dir, n: 30, t: 40, seed: 3)
        let text = """
            seed: 1
            data:
              format: series
              dir: \(dir)
              train_x: x.npy
              train_y: y.npy
              channels: 3
              window: {length: 16, stride: 6}
              classes: 3
              split: {test: 0.2, validation: 0, seed: 2}
            teacher:
              layers: [{op: conv1d, filters: 6, kernel: 3}, relu, flatten, {op: dense, units: 3}]
              train: {epochs: 2, batch_size: 32}
            student:
              layers: [{op: conv1d, filters: 4, kernel: 3, stride: 2}, relu, flatten, {op: dense, units: 3}]
              train: {epochs: 2, batch_size: 32}
            distill: {temperature: 2, alpha: 0.5, baseline: false}
            export: {name: motion, compress: false, firmware: cortex-m4}
            """
        let cfg = try KDCConfig.parse(text, file: dir + "/config.yaml", baseDirectory: dir)
        let out = dir + "/out"
        let r = try Pipeline(config: cfg, outDir: out).build()
        let s = try XCTUnwrap(r.report.sensor)
        let norm = r.distillation.data.normalization
        XCTAssertEqual([s.channels, s.windowLength, s.stride], [3, 16, 6])
        XCTAssertEqual(s.mean, norm.mean)
        XCTAssertEqual(s.std, norm.std)
        XCTAssertEqual(s.streamBytes, 16 * 3)
        let f = try XCTUnwrap(s.firmware, "no sensor.firmware: the sensor firmware check did not run")
        // 6 test recordings (2 per class) of 40 steps: windows at 0, 6, 12, 18, 24 → 5 each; the
        // first 20 windows are the first four recordings.
        XCTAssertEqual(f.recordings, 4)
        XCTAssertEqual(f.windows, 20)
        XCTAssertEqual(f.wholeMismatches, 0)
        XCTAssertEqual(f.streamedMismatches, 0)
        XCTAssertTrue(f.match)
        XCTAssertEqual(f.streamBytes, 48)
        XCTAssertEqual(f.ram, f.ramPredicted)
        XCTAssertFalse(s.firmwareFailed)
        XCTAssertNotNil(f.instructionsPerWindow)
        // The int8-input firmware check ran as before.
        XCTAssertEqual(r.checks.firmware.first?.mismatches, 0)
        XCTAssertTrue(r.summary.contains("sensor stream on cortex-m4"), r.summary)
        let json = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any]
        )
        let sj = try XCTUnwrap(json["sensor"] as? [String: Any])
        XCTAssertEqual(sj["stream_bytes"] as? Int, 48)
        let fw = try XCTUnwrap(sj["firmware"] as? [String: Any])
        XCTAssertEqual(fw["windows"] as? Int, 20)
        XCTAssertEqual(fw["whole_mismatches"] as? Int, 0)
        XCTAssertEqual(fw["streamed_mismatches"] as? Int, 0)
        XCTAssertEqual((fw["ram"] as? [String: Any])?["stream_bytes"] as? Int, 48)
        XCTAssertEqual(
            (fw["ram"] as? [String: Any])?["total_bytes"] as? Int, (fw["ram_predicted"] as? [String: Any])?["total_bytes"] as? Int
        )
        // The page shows the sensor and series sections.
        let page = try String(contentsOfFile: out + "/" + ReportPage.fileName, encoding: .utf8)
        XCTAssertTrue(page.contains("<section id=\"series\">"))
        XCTAssertTrue(page.contains("0 one-window, 0 streamed bytes differ"))
        XCTAssertTrue(page.contains("<td class=\"l\">stream buffer</td><td>48</td><td>48</td>"))
        print(
            "build --firmware on series: \(f.recordings) recordings, \(f.windows) windows, "
                + "\(f.wholeMismatches)/\(f.streamedMismatches) mismatches, RAM \(f.ram) vs \(f.ramPredicted)")
    }
}
