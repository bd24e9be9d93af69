import Foundation
import XCTest
@testable import KDC

/// End to end on the device target: export a small quantized model, build `samples/firmware`
/// with arm-none-eabi-gcc, run it on QEMU mps2-an386 (Cortex-M4) and compare every output byte
/// with `Int8Interpreter`. Needs gcc-arm-none-eabi, libnewlib-arm-none-eabi and
/// qemu-system-arm: without them these tests fail with the install hint, never skip.
final class FirmwareTests: XCTestCase {
    func checkFirmware(_ g: Graph, _ data: Dataset, name: String, samples: Int = 20) throws {
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
                f = try FirmwareCheck.run(
                    export: r, graph: g, inputs: inputs, mode: mode, countInstructions: true, macs: macs,
                    measureStackLowWater: true)
            } catch {
                XCTFail("firmware check (\(mode)) failed: \(error)")
                return
            }
            XCTAssertEqual(f.target, "cortex-m4 (qemu mps2-an386)")
            XCTAssertEqual(f.mode, mode)
            XCTAssertEqual(f.samples, samples)
            XCTAssertTrue(f.match, "\(name) \(mode): \(f.mismatches) output bytes differ from Int8Interpreter")
            XCTAssertEqual(f.mismatches, 0)
            // RAM: kdc's prediction, made from the linked image before it ran, equals what the
            // device measured, part by part: arena and unpack buffer (kdc's export), static data,
            // and the stack (gcc's call graphs vs the painted high-water mark).
            XCTAssertEqual(f.ramPredicted.arenaBytes, r.arenaBytes)
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
            XCTAssertTrue(
                f.stackPath.contains { $0.function == (mode == .compressed ? "kdc_zlib_uncompress" : "kdc_invoke") },
                "\(f.stackPath)")
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
        XCTAssertThrowsError(
            try FirmwareCheck.requireTools(["make", "arm-none-eabi-gcc", "qemu-system-arm"], path: "/nonexistent")
        ) { e in
            XCTAssertTrue("\(e)".contains("make not found"), "\(e)")
        }
        XCTAssertThrowsError(try FirmwareCheck.requireTools(["qemu-system-arm"], path: "/nonexistent")) { e in
            XCTAssertTrue("\(e)".contains("apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"), "\(e)")
        }
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
            XCTAssertEqual(Set(ram.keys), ["arena_bytes", "unpack_bytes", "static_bytes", "stack_bytes", "total_bytes"])
            XCTAssertEqual(ram, pred)
            XCTAssertEqual(ram["arena_bytes"], b.export.arenaBytes)
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

    // MARK: - stack analysis (gcc call graphs + the image's machine code), no toolchain needed

    /// A `.ci` file as arm-none-eabi-gcc 12 writes it for `-fcallgraph-info=su`.
    static let mainCI = """
        graph: { title: "main.c"
        node: { title: "main.c:helper" label: "helper\\nmain.c:3:13\\n40 bytes (static)" }
        node: { title: "main" label: "main\\nmain.c:9:5\\n224 bytes (static)" }
        edge: { sourcename: "main" targetname: "main.c:helper" label: "main.c:10:5" }
        node: { title: "run" label: "run\\nlib.h:2:5" shape : ellipse }
        edge: { sourcename: "main" targetname: "run" label: "main.c:11:5" }
        node: { title: "memcpy" label: "__builtin_memcpy\\n<built-in>" shape : ellipse }
        edge: { sourcename: "main" targetname: "memcpy" }
        }
        """
    static let libCI = """
        graph: { title: "lib.c"
        node: { title: "run" label: "run\\nlib.c:5:5\\n288 bytes (static)" }
        node: { title: "kernel_a" label: "kernel_a\\nlib.c:1:6\\n48 bytes (static)" }
        node: { title: "kernel_b" label: "kernel_b\\nlib.c:2:6\\n760 bytes (static)" }
        edge: { sourcename: "run" targetname: "kernel_a" label: "lib.c:6:1" }
        edge: { sourcename: "run" targetname: "kernel_b" label: "lib.c:7:1" }
        edge: { sourcename: "kernel_b" targetname: "memset" }
        node: { title: "__indirect_call" label: "Indirect Call Placeholder" shape : ellipse }
        edge: { sourcename: "run" targetname: "__indirect_call" label: "lib.c:8:1" }
        }
        """
    /// objdump -d of the library functions (newlib's memset pushes 3 registers, memcpy nothing).
    static let disassembly = """
        fw.elf:     file format elf32-littlearm

        Disassembly of section .text:

        0000220c <memset>:
            220c:\t0783      \tlsls\tr3, r0, #30
            220e:\tb530      \tpush\t{r4, r5, lr}
            2210:\td047      \tbeq.n\t22a2 <memset+0x96>
            2296:\tbd30      \tpop\t{r4, r5, pc}
            22b0:\t6f727265 \t.word\t0x6f727265

        000020d8 <memcpy>:
            20d8:\t4684      \tmov\tip, r0
            20e2:\td16d      \tbne.n\t21c0 <memcpy+0xe8>
            21dc:\t4770      \tbx\tlr
        """

    func analysis(_ ci: [(String, String)] = [("main.ci", mainCI), ("lib.ci", libCI)], disassembly: String = disassembly) throws
        -> StackAnalysis
    {
        try StackAnalysis(callGraphs: ci.map { (path: $0.0, text: $0.1) }, disassembly: disassembly, imagePath: "fw.elf")
    }

    func testStackAnalysisSumsTheDeepestChain() throws {
        let a = try analysis()
        XCTAssertEqual(a.functions["main.c:helper"]?.frame, 40)
        XCTAssertEqual(a.functions["run"]?.callees, ["kernel_a", "kernel_b"])
        XCTAssertEqual(a.functions["run"]?.indirect, true)
        let why = ["run": "no callback is set"]
        // main 224 → run 288 → kernel_b 760 → memset 12 (push of 3 registers, from the image)
        let all = try a.deepest(from: "main", indirectCalls: why)
        XCTAssertEqual(all.bytes, 224 + 288 + 760 + 12)
        XCTAssertEqual(all.path.map(\.function), ["main", "run", "kernel_b", "memset"])
        XCTAssertEqual(all.description, "main 224 → run 288 → kernel_b 760 → memset 12 = 1284 B")
        // a model without kernel_b: run → kernel_a
        let model = try a.deepest(from: "main", dropping: [.init(caller: "run", callee: "kernel_b")], indirectCalls: why)
        XCTAssertEqual(model.bytes, 224 + 288 + 48)
        XCTAssertEqual(model.path.map(\.function), ["main", "run", "kernel_a"])
        XCTAssertEqual(try a.deepest(from: "memcpy").bytes, 0)
    }

    func testStackAnalysisRejectsWhatItCannotSize() throws {
        func fails(_ body: () throws -> StackPath, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try body(), file: file, line: line) { e in
                for s in expected { XCTAssertTrue("\(e)".contains(s), "\(e) lacks '\(s)'", file: file, line: line) }
            }
        }
        let why = ["run": "no callback is set"]
        // an indirect call nobody explained
        fails({ try self.analysis().deepest(from: "main") }, ["lib.ci", "run calls through a function pointer"])
        // a callee that is neither in a call graph nor in the image
        fails(
            { try self.analysis([("main.ci", Self.mainCI)]).deepest(from: "main") },
            ["main.ci", "main calls 'run'", "is not in the image fw.elf"])
        // a dynamic frame (VLA / alloca), named with its file
        let vla = Self.libCI.replacingOccurrences(of: "760 bytes (static)", with: "16 bytes (dynamic)")
        XCTAssertThrowsError(try analysis([("main.ci", Self.mainCI), ("lib.ci", vla)])) { e in
            XCTAssertTrue("\(e)".contains("lib.ci: line 4: function 'kernel_b' has a dynamic stack frame"), "\(e)")
        }
        let bounded = Self.libCI.replacingOccurrences(of: "760 bytes (static)", with: "16 bytes (dynamic,bounded)")
        XCTAssertThrowsError(try analysis([("main.ci", Self.mainCI), ("lib.ci", bounded)])) { e in
            XCTAssertTrue("\(e)".contains("dynamic,bounded stack frame"), "\(e)")
        }
        // no frame size at all (compiled without =su)
        let bare = Self.libCI.replacingOccurrences(of: "\\n760 bytes (static)", with: "")
        XCTAssertThrowsError(try analysis([("main.ci", Self.mainCI), ("lib.ci", bare)])) { e in
            XCTAssertTrue("\(e)".contains("lib.ci: line 4: function 'kernel_b' has no frame size"), "\(e)")
        }
        // recursion
        let rec = Self.libCI.replacingOccurrences(
            of: "edge: { sourcename: \"kernel_b\" targetname: \"memset\" }",
            with: "edge: { sourcename: \"kernel_b\" targetname: \"run\" }")
        fails(
            { try self.analysis([("main.ci", Self.mainCI), ("lib.ci", rec)]).deepest(from: "main", indirectCalls: why) },
            ["recursion run → kernel_b → run"])
        // a function defined twice
        XCTAssertThrowsError(try analysis([("main.ci", Self.mainCI), ("lib.ci", Self.libCI), ("lib2.ci", Self.libCI)])) { e in
            XCTAssertTrue("\(e)".contains("lib2.ci: function 'run' is also defined in lib.ci"), "\(e)")
        }
        // garbage
        XCTAssertThrowsError(try analysis([("main.ci", "graph: { title: \"x\"\nnode { oops\n}")])) { e in
            XCTAssertTrue("\(e)".contains("main.ci: line 2"), "\(e)")
        }
        // library functions whose machine code cannot be sized
        for (insn, why2) in [
            ("blx\tr3", "calls through a register"), ("mov\tsp, r2", "sets sp"),
            ("bx\tr2", "jumps through a register"), ("sub\tsp, r3", "sets sp"),
            ("b.w\t1000 <memcpy+0x10>", "branches into the middle of another function"),
        ] {
            let d = Self.disassembly.replacingOccurrences(of: "lsls\tr3, r0, #30", with: insn)
            fails(
                { try self.analysis(disassembly: d).deepest(from: "main", indirectCalls: why) },
                ["fw.elf: library function memset", why2, "its stack cannot be sized"])
        }
        // a library function calling another one is followed (memset → memcpy), and sub sp counts
        let chained = Self.disassembly.replacingOccurrences(of: "lsls\tr3, r0, #30", with: "bl\t20d8 <memcpy>")
            .replacingOccurrences(of: "mov\tip, r0", with: "sub\tsp, #8")
        XCTAssertEqual(
            try analysis(disassembly: chained).deepest(from: "main", indirectCalls: why).path.map(\.function),
            ["main", "run", "kernel_b", "memset", "memcpy"])
        XCTAssertEqual(
            try analysis(disassembly: chained).deepest(from: "main", indirectCalls: why).bytes, 224 + 288 + 760 + 12 + 8)
    }

    func testKernelFunctionsCoverEveryOpKind() {
        XCTAssertEqual(Set(FirmwareCheck.kernelFunctions.keys), Set(DeviceOp.allCases))
    }

    func testCompressedModeNeedsACompressedExport() throws {
        let (g, _) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("firmware-stored")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "mlp", compress: false)
        XCTAssertThrowsError(
            try FirmwareCheck.run(
                export: r, graph: g, inputs: [[Int8](repeating: 0, count: 20)],
                mode: .compressed, countInstructions: false, macs: 0)
        ) { e in
            XCTAssertTrue("\(e)".contains("compressed export"), "\(e)")
        }
    }
}

private extension FirmwareResult {
    /// The artifact bytes the image's flash must at least hold.
    func artifactFloor(_ r: ExportResult, _ mode: FirmwareMode) -> Int { mode == .compressed ? r.bytes : r.rawBytes }
}
