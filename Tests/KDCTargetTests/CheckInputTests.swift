import Foundation
import XCTest

@testable import KDCTarget

/// The checks reject inputs out of their contract before building anything (no toolchain needed).
final class CheckInputTests: XCTestCase {
    let model = ExportedModel(directory: "/nonexistent", name: "m", compressed: false, arenaBytes: 96, rawBytes: 3200)

    func testFirmwareCheckRejectsBadInputs() {
        let x: [[Int8]] = [[1, 2], [3, 4]], y: [[Int8]] = [[0, 0, 0], [0, 0, 0]]
        let cases: [(FirmwareMode, [[Int8]], [[Int8]], Set<Int>, String)] = [
            (.stored, [], [], [1], "need at least one input, all of the same non-zero size"),
            (.stored, [[1, 2], [3]], y, [1], "need at least one input, all of the same non-zero size"),
            (.stored, x, [[0, 0, 0]], [1], "need one expected output per input (2), all of the same size; got 1"),
            (.stored, x, [[0, 0, 0], [0]], [1], "need one expected output per input (2)"),
            (.compressed, x, y, [1], "compressed mode needs a compressed export; hint: export with compress: true"),
            (.stored, x, y, [1, 42], "op code 42 is not one kdc_invoke runs"),
        ]
        for (mode, inputs, expected, ops, want) in cases {
            XCTAssertThrowsError(
                try FirmwareCheck.run(
                    model: model, mode: mode, inputs: inputs, expected: expected, opCodes: ops, macs: 1, countInstructions: false)
            ) { e in
                XCTAssertTrue("\(e)".contains(want), "\(e) lacks '\(want)'")
            }
        }
    }

    func testFirmwarePCMCheckRejectsBadInputs() {
        let x: [[Int16]] = [[1, 2], [3, 4]], y: [[Int8]] = [[0, 0, 0], [0, 0, 0]]
        let cases: [(FirmwareMode, [[Int16]], [[Int8]], String)] = [
            (.stored, [], [], "need at least one PCM clip, all of the same non-zero length"),
            (.stored, [[1, 2], [3]], y, "need at least one PCM clip, all of the same non-zero length"),
            (.stored, x, [[0, 0, 0]], "need one expected output per clip (2), all of the same size; got 1"),
            (.stored, x, [[0, 0, 0], [0]], "need one expected output per clip (2)"),
            (.compressed, x, y, "compressed mode needs a compressed export; hint: export with compress: true"),
        ]
        var streaming = model
        streaming.streamBytes = 3508
        for (mode, clips, expected, want) in cases {
            XCTAssertThrowsError(
                try FirmwareCheck.runPCM(
                    model: streaming, mode: mode, clips: clips, expected: expected, opCodes: [1], countInstructions: false)
            ) { e in
                XCTAssertTrue("\(e)".contains(want), "\(e) lacks '\(want)'")
            }
        }
        // A model without an input stage has no stream buffer to run.
        XCTAssertThrowsError(
            try FirmwareCheck.runPCM(model: model, mode: .stored, clips: x, expected: y, opCodes: [1], countInstructions: false)
        ) { e in
            XCTAssertTrue("\(e)".contains("the export has no stream buffer"), "\(e)")
        }
    }

    func testFirmwareSensorCheckRejectsBadInputs() {
        var streaming = model
        streaming.streamBytes = 12
        let rec: [[Float]] = [[Float](repeating: 0.5, count: 3 * 10)]  // 10 steps of 3 channels
        let one: [[Int8]] = [[0, 0]]
        // (recordings, channels, window length, stride, expected, message)
        let cases: [([[Float]], Int, Int, Int, [[Int8]], String)] = [
            ([], 3, 4, 2, one, "need at least one recording of whole time steps of 3 finite values"),
            ([[1, 2]], 3, 4, 2, one, "need at least one recording of whole time steps of 3 finite values"),
            ([[1, .nan, 3]], 3, 1, 1, one, "finite values"),
            (rec, 3, 4, 0, one, "a stride of at least 1"),
            (rec, 3, 11, 1, one, "no recording holds a whole window of 11 steps"),
            // windows at 0, 2, 4, 6: four outputs expected
            (rec, 3, 4, 2, one, "need one expected output per window (4), all of the same size; got 1"),
        ]
        for (recs, c, len, stride, expected, want) in cases {
            XCTAssertThrowsError(
                try FirmwareCheck.runSensor(
                    model: streaming, mode: .stored, recordings: recs, channels: c, windowLength: len, stride: stride,
                    expected: expected, opCodes: [1], countInstructions: false)
            ) { e in
                XCTAssertTrue("\(e)".contains(want), "\(e) lacks '\(want)'")
            }
        }
    }

    /// A sensor image: `sensor.c` holds the steps of each recording, the stride and every value
    /// as a float literal that reads back exactly; `main.c` gets `FW_SENSOR=1`.
    func testSensorImageSourceAndDefines() {
        let src = FirmwareImage.sensorSource([[1, -2.5, 1e-5, 3], [0.1, 7]], channels: 2, stride: 3)
        XCTAssertTrue(src.contains("#include \"sensor.h\""), src)
        XCTAssertTrue(src.contains("const uint32_t fw_sensor_count = 2u;"), src)
        XCTAssertTrue(src.contains("const uint32_t fw_sensor_stride = 3u;"), src)
        XCTAssertTrue(src.contains("const uint32_t fw_sensor_steps[2] = {2u, 1u};"), src)
        XCTAssertTrue(src.contains("const float fw_sensor[6] = {\n    1.0f, -2.5f, 1e-05f, 3.0f,\n    0.1f, 7.0f,\n};"), src)
        for v: Float in [0.1, -1e-30, 3.4028235e38, 1.17549435e-38, 123456.79] {
            let lit = FirmwareImage.cLiteral(v)
            XCTAssertEqual(Float(String(lit.dropLast())), v, lit)
        }
        var image = FirmwareImage(
            target: QEMUTarget(board: .cortexM4, firmwareDirectory: "/x", scratch: "/x"), model: model, mode: .stored,
            runtimeDirectory: "/x", buildDirectory: "/x")
        XCTAssertFalse(image.defines(repeats: 1, limit: 0).contains("-DFW_SENSOR=1"))
        image.sensor = true
        XCTAssertTrue(image.defines(repeats: 1, limit: 0).contains("-DFW_SENSOR=1"))
    }

    /// A PCM image: `pcm.c` holds the clips back to back (`pcm.h`), `main.c` gets `FW_PCM=1`.
    func testPCMImageSourceAndDefines() {
        let src = FirmwareImage.pcmSource([[1, -2, 32767], [-32768, 0, 5]])
        XCTAssertTrue(src.contains("#include \"pcm.h\""), src)
        XCTAssertTrue(src.contains("const uint32_t fw_pcm_count = 2u;"), src)
        XCTAssertTrue(src.contains("const uint32_t fw_pcm_samples = 3u;"), src)
        XCTAssertTrue(src.contains("const int16_t fw_pcm[6] = {\n    1, -2, 32767,\n    -32768, 0, 5,\n};"), src)
        var image = FirmwareImage(
            target: QEMUTarget(board: .cortexM4, firmwareDirectory: "/x", scratch: "/x"), model: model, mode: .stored,
            runtimeDirectory: "/x", buildDirectory: "/x")
        XCTAssertFalse(image.defines(repeats: 1, limit: 0).contains("-DFW_PCM=1"))
        image.pcm = true
        XCTAssertTrue(image.defines(repeats: 1, limit: 0).contains("-DFW_PCM=1"))
    }

    /// The firmware's runtime is built for the arithmetic in `<name>.kdc`'s header (flag bit 1);
    /// without a readable kdc header the build stops and says which file and what it expected.
    func testFirmwareRuntimeDefinesFollowTheArtifactHeader() throws {
        let dir = NSTemporaryDirectory() + "kdc-rtdefs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = ExportedModel(directory: dir, name: "m", compressed: false, arenaBytes: 96, rawBytes: 3200)
        let image = FirmwareImage(
            target: QEMUTarget(board: .cortexM4, firmwareDirectory: dir, scratch: dir), model: m, mode: .stored,
            runtimeDirectory: dir, buildDirectory: dir)
        XCTAssertThrowsError(try image.runtimeDefines()) { e in
            XCTAssertEqual((e as? TargetError)?.subject, dir + "/m.kdc")
            XCTAssertTrue("\(e)".contains("cannot read the exported artifact"), "\(e)")
        }
        // flags (bytes 6..7): 0 kdc, 1 compressed, 2 TFLite, 3 both, 14 TFLite with float edges,
        // 16 an input stage (KDC_STAGE), 18 both
        for (flags, want, stage) in [
            (0, 0, 0), (1, 0, 0), (2, 1, 0), (3, 1, 0), (14, 1, 0), (0x0100, 0, 0), (16, 0, 1), (18, 1, 1),
        ] {
            let header: [UInt8] =
                Array("KDCM".utf8) + [1, 0, UInt8(flags & 0xff), UInt8(flags >> 8)] + [UInt8](repeating: 0, count: 24)
            try Data(header).write(to: URL(fileURLWithPath: m.artifactPath))
            XCTAssertEqual(try image.runtimeDefines(), ["-DKDC_TFLITE=\(want)", "-DKDC_STAGE=\(stage)"], "flags \(flags)")
        }
        for bad in [Array("KDCX".utf8) + [1, 0, 2, 0], Array("KDCM".utf8) + [1, 0, 2]] {
            try Data(bad).write(to: URL(fileURLWithPath: m.artifactPath))
            XCTAssertThrowsError(try image.runtimeDefines()) { e in
                XCTAssertEqual(
                    e as? TargetError,
                    .format(
                        file: m.artifactPath,
                        message: "not a kdc artifact: expected the magic \"KDCM\" and 8 header bytes or more"))
            }
        }
    }

    func testHostCheckAndBenchRejectBadInputs() {
        let cases: [([[Int8]], [[Int8]]?, [Int32]?, String)] = [
            ([], nil, nil, "host check: need at least one input"),
            ([[1], [2, 3]], nil, nil, "host check: need at least one input, all of the same non-zero size"),
            ([[1], [2]], [[0]], nil, "host check: expected outputs must be one per input (2), all of the same size; got 1"),
            ([[1], [2]], nil, [0], "host check: labels must be one per input (2); got 1"),
        ]
        for (inputs, expected, labels, want) in cases {
            XCTAssertThrowsError(
                try HostCheck.run(artifactPath: "/nonexistent.kdc", inputs: inputs, expected: expected, labels: labels)
            ) {
                e in
                XCTAssertTrue("\(e)".hasPrefix(want), "\(e) lacks '\(want)'")
            }
        }
        XCTAssertThrowsError(try HostBench.measure(artifactPath: "/nonexistent.kdc", inputs: [])) { e in
            XCTAssertTrue("\(e)".hasPrefix("host benchmark: need at least one input"), "\(e)")
        }
    }
}
