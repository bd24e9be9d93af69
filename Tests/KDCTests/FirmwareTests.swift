import Foundation
import XCTest

@testable import KDC
@testable import KDCTarget

/// End to end on the device target: export a small quantized model, build `samples/firmware`
/// with arm-none-eabi-gcc, run it on QEMU mps2-an386 (Cortex-M4) and compare every output byte
/// with `Int8Interpreter`, through the target layer (`FirmwareCheck`). Needs gcc-arm-none-eabi, libnewlib-arm-none-eabi and
/// qemu-system-arm: without them these tests fail with the install hint, never skip.
final class FirmwareTests: XCTestCase {
    @discardableResult
    func checkFirmware(_ g: Graph, _ data: Dataset, name: String, samples: Int = 20) throws -> [FirmwareResult] {
        let dir = try ExportFixtures.tempDir("firmware")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: name, compress: true)
        let inputs = g.quantizedInputs(data, limit: samples)
        let interp = Int8Interpreter()
        let expected = inputs.map { interp.run(g, input: $0) }
        let macs = g.macs
        XCTAssertGreaterThan(macs, 0)
        var results: [FirmwareResult] = []
        for mode in FirmwareMode.allCases {
            let f: FirmwareResult
            do {
                f = try FirmwareCheck.run(
                    model: r.exportedModel, mode: mode, inputs: inputs, expected: expected, opCodes: g.opCodes, macs: macs,
                    countInstructions: true, measureStackLowWater: true)
            } catch {
                XCTFail("firmware check (\(mode)) failed: \(error)")
                return results
            }
            results.append(f)
            XCTAssertEqual(f.target, "cortex-m4 (qemu mps2-an386)")
            XCTAssertEqual(f.mode, mode)
            XCTAssertEqual(f.samples, samples)
            XCTAssertTrue(f.match, "\(name) \(mode): \(f.mismatches) output bytes differ from Int8Interpreter")
            XCTAssertEqual(f.mismatches, 0)
            // RAM: kdc's prediction, made from the linked image before it ran, equals what the
            // device measured, part by part: arena and unpack buffer (kdc's export), static data,
            // and the stack (gcc's call graphs vs the painted high-water mark).
            XCTAssertEqual(f.ramPredicted.arenaBytes, r.arenaTotalBytes)
            XCTAssertEqual(f.ramPredicted.unpackBytes, mode == .compressed ? r.rawBytes : 0)
            XCTAssertEqual(f.ram.arenaBytes, f.ramPredicted.arenaBytes, "\(name) \(mode): arena")
            XCTAssertEqual(f.ram.unpackBytes, f.ramPredicted.unpackBytes, "\(name) \(mode): unpack buffer")
            XCTAssertEqual(f.ram.staticBytes, f.ramPredicted.staticBytes, "\(name) \(mode): static data")
            XCTAssertEqual(
                f.ram.stackBytes, f.ramPredicted.stackBytes,
                "\(name) \(mode): stack; predicted path \(f.stackPath.map { "\($0.function) \($0.bytes)" })")
            XCTAssertEqual(f.ram, f.ramPredicted)
            // The painted high-water mark is the true one: the lowest SP QEMU showed before any
            // instruction of the same image's run.
            XCTAssertEqual(f.stackLowWaterBytes, f.ram.stackBytes, "\(name) \(mode): SP low-water vs painted")
            XCTAssertTrue(f.ramMatchesPrediction)
            XCTAssertEqual(f.ramBytes, f.ram.arenaBytes + f.ram.unpackBytes + f.ram.staticBytes + f.ram.stackBytes)
            XCTAssertEqual(f.stackPath.map(\.bytes).reduce(0, +), f.ramPredicted.stackBytes)
            XCTAssertEqual(f.stackPath.first?.function, "Reset_Handler")
            XCTAssertEqual(f.stackPath.dropFirst().first?.function, "main")
            // The deepest chain goes through the loader (kdc_init validating and sizing the ops)
            // or a kernel; compressed images also through inflate.
            XCTAssertTrue(
                f.stackPath.contains {
                    mode == .compressed ? $0.function == "kdc_zlib_uncompress" : ["kdc_invoke", "kdc_init"].contains($0.function)
                }, "\(f.stackPath)")
            XCTAssertGreaterThanOrEqual(f.stackBoundBytes, f.ramPredicted.stackBytes)
            XCTAssertGreaterThan(f.runtimeStackBoundBytes, 0)
            if mode == .compressed { XCTAssertGreaterThan(f.stackBoundBytes, f.runtimeStackBoundBytes) }  // main → kdc_unpack → …
            XCTAssertGreaterThan(f.ram.stackBytes, 0)
            XCTAssertEqual(f.imageBssBytes + f.imageDataBytes, f.ram.arenaBytes + f.ram.unpackBytes + f.ram.staticBytes)
            // Sizes: the runtime is in the image, which also holds the artifact.
            XCTAssertGreaterThan(f.runtimeTextBytes, 1000)
            XCTAssertGreaterThan(f.imageTextBytes, f.artifactFloor(r, mode))
            let ipi = try XCTUnwrap(f.instructionsPerInference), ipm = try XCTUnwrap(f.instructionsPerMAC)
            XCTAssertGreaterThan(ipi, macs)
            XCTAssertEqual(ipm, Double(ipi) / Double(macs), accuracy: 1e-9)
            let json = try JSONEncoder().encode(f)
            XCTAssertEqual(try JSONDecoder().decode(FirmwareResult.self, from: json), f)
            print(
                "firmware \(name) \(mode): samples \(f.samples) mismatches \(f.mismatches) runtime text/data/bss \(f.runtimeTextBytes)/\(f.runtimeDataBytes)/\(f.runtimeBssBytes) image text/data/bss \(f.imageTextBytes)/\(f.imageDataBytes)/\(f.imageBssBytes) ram \(f.ramBytes) (predicted \(f.ramPredictedBytes), arena \(f.ram.arenaBytes), unpack \(f.ram.unpackBytes), static \(f.ram.staticBytes), stack \(f.ram.stackBytes), SP low-water \(f.stackLowWaterBytes ?? -1); bound \(f.stackBoundBytes), runtime \(f.runtimeStackBoundBytes); path \(f.stackPath.map { "\($0.function) \($0.bytes)" }.joined(separator: " > "))) insns/inference \(ipi) (\(macs) MACs, \(String(format: "%.2f", ipm))/MAC)"
            )
        }
        return results
    }

    func testMLPRunsOnCortexM4BitExact() throws {
        let (g, d) = try ExportFixtures.mlp()
        try checkFirmware(g, d, name: "mlp")
    }

    func testCNNWithEveryOpRunsOnCortexM4BitExact() throws {
        let (g, d) = try ExportFixtures.everyOp()
        try checkFirmware(g, d, name: "cnn")
    }

    /// A model in TensorFlow Lite arithmetic, with every op such a model can hold (SOFTMAX too):
    /// its firmware's runtime is built with that arithmetic (KDC_TFLITE=1) and runs bit-exact,
    /// RAM predicted exactly.
    func testTFLiteArithmeticRunsOnCortexM4BitExact() throws {
        let (g, d) = try TFLiteFixtures.everyOp()
        XCTAssertEqual(g.arithmetic, .tflite)
        XCTAssertEqual(try checkFirmware(g, d, name: "tfl").count, FirmwareMode.allCases.count)
    }

    /// The firmware's runtime is built for the artifact's arithmetic (its header's flag bit 1):
    /// a kdc-mode model's without TensorFlow Lite's (KDC_TFLITE=0: none of its functions in the
    /// image, a smaller runtime), a TFLite-mode model's with it. SOFTMAX, an op of TFLite-mode
    /// artifacts only, goes with it: its kernel is in the TFLite image only.
    func testRuntimeIsBuiltForTheArtifactsArithmetic() throws {
        let dir = try ExportFixtures.tempDir("firmware-arith")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rt = try SourceTree.runtimeDirectory()
        let fw = try SourceTree.firmwareDirectory(runtimeDirectory: rt)
        let (k, kd) = try ExportFixtures.mlp()
        let (t, td) = try TFLiteFixtures.everyOp()
        var runtimeText: [Int] = []
        for (g, d, name, tflite) in [(k, kd, "mlp", false), (t, td, "tfl", true)] {
            let r = try export(g, normalization: .identity, to: dir, name: name, compress: false)
            let image = FirmwareImage(
                target: QEMUTarget(board: .cortexM4, firmwareDirectory: fw, scratch: dir), model: r.exportedModel,
                mode: .stored, runtimeDirectory: rt, buildDirectory: dir + "/build-" + name)
            XCTAssertEqual(try image.runtimeDefines(), ["-DKDC_TFLITE=\(tflite ? 1 : 0)", "-DKDC_STAGE=0"])
            let elf = try ELFFile(path: try image.build(inputs: g.quantizedInputs(d, limit: 2)))
            for f in ["kdc_tfl_mbqm", "kdc_tfl_scale", "kdc_tfl_scale_ok", "kdc_tfl_srdhm", "kdc_tfl_rdbpot", "kdc_softmax_s8"] {
                XCTAssertEqual(elf.symbol(f) != nil, tflite, "\(name): \(f)")
            }
            var text = 0
            for o in image.runtimeObjects { text += try ELFFile(path: o).berkeleySizes.text }
            runtimeText.append(text)
        }
        // ~1,600 bytes apart with arm-none-eabi-gcc 12 (runtime/README.md, "Numbers")
        XCTAssertLessThan(
            runtimeText[0] + 1200, runtimeText[1], "runtime .text without and with TFLite arithmetic: \(runtimeText)")
    }

    /// `export.firmware` takes the target layer's board names.
    func testConfigTakesTheBoardsOfTheTargetLayer() throws {
        func parse(_ f: String) throws -> KDCConfig {
            try KDCConfig.parse(
                """
                data: {format: csv, dir: ., file: d.csv, shape: [8, 8, 1], classes: 10}
                teacher: {layers: [flatten, {op: dense, units: 10}]}
                student: {layers: [flatten, {op: dense, units: 10}]}
                export: {name: tiny, firmware: \(f)}
                """, file: "t.yaml", baseDirectory: NSTemporaryDirectory())
        }
        for b in Board.all { XCTAssertEqual(try parse(b.name).export.firmware, b) }
        XCTAssertNil(try parse("none").export.firmware)
        XCTAssertThrowsError(try parse("cortex-m9")) { e in
            let names = ["none"] + Board.all.map(\.name)
            let list = names.dropLast().joined(separator: ", ") + " or " + names.last!
            XCTAssertTrue("\(e)".contains("export.firmware: expected \(list), got 'cortex-m9'"), "\(e)")
        }
    }

    func testMACsCountWeightedOps() throws {
        let (g, _) = try ExportFixtures.mlp()
        XCTAssertEqual(g.macs, 20 * 32 + 32 * 16 + 16 * 10)
    }

    /// `kdc build` with `firmware: cortex-m4` on the bundled digits (tiny models): report.json
    /// holds the predicted and measured RAM by part for both modes, and they agree.
    func testBuildReportsPredictedAndMeasuredRAM() throws {
        let dir = try ExportFixtures.tempDir("firmware-build")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = """
            seed: 3
            data: {format: csv, dir: \(PipelineTests.digitsDir), file: digits.csv.gz, shape: [8, 8, 1], classes: 10, normalize: scale}
            teacher:
              layers: [flatten, {op: dense, units: 32}, relu, {op: dense, units: 10}]
              train: {epochs: 2, batch_size: 64, learning_rate: 0.005}
            student:
              layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]
              train: {epochs: 2, batch_size: 64, learning_rate: 0.005}
            distill: {temperature: 4, alpha: 0.1, baseline: false}
            export: {name: tiny, compress: true, firmware: cortex-m4}
            """
        let cfg = try KDCConfig.parse(text, file: "test.yaml", baseDirectory: NSTemporaryDirectory())
        let b = try Pipeline(config: cfg, outDir: dir).build()
        XCTAssertEqual(b.checks.firmware.map(\.mode), [.stored, .compressed])
        XCTAssertTrue(b.summary.contains(", equal);"), b.summary)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/report.json"))) as? [String: Any])
        let fw = try XCTUnwrap(json["firmware"] as? [String: Any])
        XCTAssertEqual(fw["match"] as? Bool, true)
        XCTAssertEqual(fw["ram_matches_prediction"] as? Bool, true)
        let modes = try XCTUnwrap(fw["modes"] as? [[String: Any]])
        XCTAssertEqual(modes.count, 2)
        var totals: [Int] = []
        for (m, f) in zip(modes, b.checks.firmware) {
            let ram = try XCTUnwrap(m["ram"] as? [String: Int]), pred = try XCTUnwrap(m["ram_predicted"] as? [String: Int])
            XCTAssertEqual(
                Set(ram.keys), ["arena_bytes", "unpack_bytes", "stream_bytes", "static_bytes", "stack_bytes", "total_bytes"])
            XCTAssertEqual(ram, pred)
            XCTAssertEqual(ram["stream_bytes"], 0, "the int8-input image has no stream buffer")
            // The activations and the kernel scratch (the largest over the variants: on the
            // Cortex-M4 the dsp kernels' FC column, 2·64 + 3 bytes here).
            XCTAssertEqual(ram["arena_bytes"], b.export.arenaTotalBytes)
            XCTAssertEqual(ram["unpack_bytes"], f.mode == .compressed ? b.export.rawBytes : 0)
            XCTAssertEqual(ram["stack_bytes"], f.ram.stackBytes)
            XCTAssertEqual(
                ram["total_bytes"], ram["arena_bytes"]! + ram["unpack_bytes"]! + ram["static_bytes"]! + ram["stack_bytes"]!)
            let path = try XCTUnwrap(m["stack_path"] as? [[String: Any]])
            XCTAssertEqual(path.compactMap { $0["bytes"] as? Int }.reduce(0, +), ram["stack_bytes"])
            XCTAssertEqual(path.first?["function"] as? String, "Reset_Handler")
            totals.append(ram["total_bytes"]!)
        }
        XCTAssertEqual(fw["ram_bytes"] as? Int, totals.max())
        XCTAssertEqual(fw["ram_predicted_bytes"] as? Int, totals.max())
        XCTAssertEqual(fw["stack_bound_bytes"] as? Int, b.checks.firmware.map(\.stackBoundBytes).max())
        XCTAssertEqual(fw["runtime_stack_bound_bytes"] as? Int, b.checks.firmware[0].runtimeStackBoundBytes)
        XCTAssertNotNil(fw["runtime_text_bytes"] as? Int)
    }

    /// The Makefile (for people building by hand) and the target layer build the same image:
    /// both take the board's flags from `Board` (the Makefile through the generated
    /// `boards/<board>/board.mk` and `memory.ld`). Only make's exit status is used.
    func testMakeBuildsTheSameImageAsTheTargetLayer() throws {
        let (g, d) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("firmware-make")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "mlp", compress: true)
        let inputs = g.quantizedInputs(d, limit: 3)
        let rt = try SourceTree.runtimeDirectory()
        let fw = try SourceTree.firmwareDirectory(runtimeDirectory: rt)
        try SourceTree.write(Data(FirmwareImage.inputsSource(inputs).utf8), to: dir + "/inputs.c")
        for mode in FirmwareMode.allCases {
            let target = QEMUTarget(board: .cortexM4, firmwareDirectory: fw, scratch: dir)
            let image = FirmwareImage(
                target: target, model: r.exportedModel, mode: mode, runtimeDirectory: rt, buildDirectory: dir + "/swift-\(mode)")
            let swiftELF = try image.build(inputs: inputs)
            try ProcessRunner.check(
                Command(
                    "make",
                    [
                        "-s", "-C", fw, "all", "MODEL_DIR=" + dir, "NAME=mlp", "MODE=" + mode.rawValue,
                        "INPUTS=" + dir + "/inputs.c",
                        "BUILD=" + dir + "/make-\(mode)", "RUNTIME=" + rt,
                    ]), action: "make all")
            let makeELF = dir + "/make-\(mode)/firmware.elf"
            let (a, b) = (try ELFFile(path: swiftELF), try ELFFile(path: makeELF))
            XCTAssertEqual(a.sections.filter(\.isAllocated), b.sections.filter(\.isAllocated), "\(mode)")
            XCTAssertEqual(a.symbol("arena"), b.symbol("arena"))
            var bins: [Data] = []
            for elf in [swiftELF, makeELF] {
                try ProcessRunner.check(Command("arm-none-eabi-objcopy", ["-O", "binary", elf, elf + ".bin"]), action: "objcopy")
                bins.append(try XCTUnwrap(FileManager.default.contents(atPath: elf + ".bin")))
            }
            XCTAssertGreaterThan(bins[0].count, 10000)
            XCTAssertEqual(bins[0], bins[1], "\(mode): the images' bytes differ")
        }
    }

    /// The exporter's device ops are the runtime's op table, line for line: code, name, inputs,
    /// parameter words and constants (the C table is the one list; this catches a Swift side
    /// that fell behind).
    func testDeviceOpsAreTheRuntimesOpTable() throws {
        let table = try KernelTable.load(runtimeDirectory: CLITests.repoRoot + "/runtime")
        XCTAssertEqual(table.entries.map(\.code), DeviceOp.allCases.map { Int($0.rawValue) })
        for (e, op) in zip(table.entries, DeviceOp.allCases) {
            XCTAssertEqual(e.name, op.name)
            XCTAssertEqual(e.inputs, op.arity, op.name)
            XCTAssertEqual(e.params, op.paramMask, op.name)
            XCTAssertEqual(e.constants, op.hasConstants, op.name)
        }
        // kdc's every-op fixture and the TFLite-arithmetic one (SOFTMAX) hold every op between them
        let (g, _) = try ExportFixtures.everyOp()
        let (t, _) = try TFLiteFixtures.everyOp()
        let codes = g.opCodes.union(t.opCodes)
        XCTAssertEqual(codes, Set(DeviceOp.allCases.map { Int($0.rawValue) }))
        XCTAssertEqual(try table.functions(opCodes: codes), table.allFunctions)
    }

    func testCompressedModeNeedsACompressedExport() throws {
        let (g, _) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("firmware-stored")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "mlp", compress: false)
        XCTAssertThrowsError(
            try withKDCErrors {
                try FirmwareCheck.run(
                    model: r.exportedModel, mode: .compressed, inputs: [[Int8](repeating: 0, count: 20)],
                    expected: [[Int8](repeating: 0, count: 10)], opCodes: g.opCodes, macs: 0, countInstructions: false)
            }
        ) { e in
            XCTAssertEqual(
                e as? KDCError,
                .data(
                    file: "firmware check", message: "compressed mode needs a compressed export; hint: export with compress: true"
                ))
        }
    }
}

private extension FirmwareResult {
    /// The artifact bytes the image's flash must at least hold.
    func artifactFloor(_ r: ExportResult, _ mode: FirmwareMode) -> Int { mode == .compressed ? r.bytes : r.rawBytes }
}
