import Foundation
import XCTest
@testable import KDC

/// End to end on the device target: export a small quantized model, build `samples/firmware`
/// with arm-none-eabi-gcc, run it on QEMU mps2-an386 (Cortex-M4) and compare every output byte
/// with `Int8Interpreter`. Needs gcc-arm-none-eabi, libnewlib-arm-none-eabi and
/// qemu-system-arm: without them these tests fail with the install hint, never skip.
final class FirmwareTests: XCTestCase {
    func checkFirmware(_ g: QuantizedGraph, _ data: Dataset, name: String, samples: Int = 20) throws {
        let dir = try ExportFixtures.tempDir("firmware")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: name, compress: true)
        let k = data.sampleSize
        let inputs = (0..<samples).map { i in g.quantizeInput(Array(data.x[(i * k)..<((i + 1) * k)])) }
        let macs = FirmwareCheck.macs(g)
        XCTAssertGreaterThan(macs, 0)
        for mode in FirmwareMode.allCases {
            let f: FirmwareResult
            do {
                f = try FirmwareCheck.run(export: r, graph: g, inputs: inputs, mode: mode, countInstructions: true, macs: macs)
            } catch {
                XCTFail("firmware check (\(mode)) failed: \(error)")
                return
            }
            XCTAssertEqual(f.target, "cortex-m4 (qemu mps2-an386)")
            XCTAssertEqual(f.mode, mode)
            XCTAssertEqual(f.samples, samples)
            XCTAssertTrue(f.match, "\(name) \(mode): \(f.mismatches) output bytes differ from Int8Interpreter")
            XCTAssertEqual(f.mismatches, 0)
            // RAM: the firmware's static arena and unpack buffer are exactly what kdc predicted,
            // and the measured total is their sum plus the program's statics and peak stack.
            XCTAssertEqual(f.arenaBytes, r.arenaBytes)
            XCTAssertEqual(f.unpackBytes, mode == .compressed ? r.rawBytes : 0)
            XCTAssertEqual(f.ramPredictedBytes, f.arenaBytes + f.unpackBytes)
            XCTAssertEqual(f.ramBytes, f.arenaBytes + f.unpackBytes + f.staticBytes + f.stackBytes)
            XCTAssertGreaterThan(f.stackBytes, 0)
            XCTAssertEqual(f.imageBssBytes + f.imageDataBytes, f.arenaBytes + f.unpackBytes + f.staticBytes)
            // Sizes: the runtime is in the image, which also holds the artifact.
            XCTAssertGreaterThan(f.runtimeTextBytes, 1000)
            XCTAssertGreaterThan(f.imageTextBytes, f.artifactFloor(r, mode))
            let ipi = try XCTUnwrap(f.instructionsPerInference), ipm = try XCTUnwrap(f.instructionsPerMAC)
            XCTAssertGreaterThan(ipi, macs)
            XCTAssertEqual(ipm, Double(ipi) / Double(macs), accuracy: 1e-9)
            let json = try JSONEncoder().encode(f)
            XCTAssertEqual(try JSONDecoder().decode(FirmwareResult.self, from: json), f)
            print("firmware \(name) \(mode): samples \(f.samples) mismatches \(f.mismatches) runtime text/data/bss \(f.runtimeTextBytes)/\(f.runtimeDataBytes)/\(f.runtimeBssBytes) image text/data/bss \(f.imageTextBytes)/\(f.imageDataBytes)/\(f.imageBssBytes) ram \(f.ramBytes) (predicted \(f.ramPredictedBytes), arena \(f.arenaBytes), unpack \(f.unpackBytes), static \(f.staticBytes), stack \(f.stackBytes)) insns/inference \(ipi) (\(macs) MACs, \(String(format: "%.2f", ipm))/MAC)")
        }
    }

    func testMLPRunsOnCortexM4BitExact() throws {
        let (g, d) = try ExportFixtures.mlp()
        try checkFirmware(g, d, name: "mlp")
    }

    func testCNNWithEveryOpRunsOnCortexM4BitExact() throws {
        let (g, d) = try ExportFixtures.cnn()
        try checkFirmware(g, d, name: "cnn")
    }

    func testMACsCountWeightedOps() throws {
        let (g, _) = try ExportFixtures.mlp()
        XCTAssertEqual(FirmwareCheck.macs(g), 20 * 32 + 32 * 16 + 16 * 10)
    }

    func testInputsSourceListsEveryValue() {
        let s = FirmwareCheck.inputsSource([[1, -2, 3], [-128, 127, 0]], inputBytes: 3)
        XCTAssertTrue(s.contains("fw_input_count = 2u;"))
        XCTAssertTrue(s.contains("fw_input_bytes = 3u;"))
        XCTAssertTrue(s.contains("1, -2, 3,"))
        XCTAssertTrue(s.contains("-128, 127, 0,"))
    }

    func testMissingToolchainThrowsTheInstallHint() {
        XCTAssertThrowsError(try FirmwareCheck.requireTools(["make", "arm-none-eabi-gcc", "qemu-system-arm"], path: "/nonexistent")) { e in
            XCTAssertTrue("\(e)".contains("make not found"), "\(e)")
        }
        XCTAssertThrowsError(try FirmwareCheck.requireTools(["qemu-system-arm"], path: "/nonexistent")) { e in
            XCTAssertTrue("\(e)".contains("apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"), "\(e)")
        }
    }

    func testCompressedModeNeedsACompressedExport() throws {
        let (g, _) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("firmware-stored")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "mlp", compress: false)
        XCTAssertThrowsError(try FirmwareCheck.run(export: r, graph: g, inputs: [[Int8](repeating: 0, count: 20)],
                                                   mode: .compressed, countInstructions: false, macs: 0)) { e in
            XCTAssertTrue("\(e)".contains("compressed export"), "\(e)")
        }
    }
}

private extension FirmwareResult {
    /// The artifact bytes the image's flash must at least hold.
    func artifactFloor(_ r: ExportResult, _ mode: FirmwareMode) -> Int { mode == .compressed ? r.bytes : r.rawBytes }
}
