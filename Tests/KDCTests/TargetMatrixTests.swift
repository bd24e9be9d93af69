import Foundation
import XCTest

@testable import KDC
@testable import KDCTarget

/// Every board of `Board.all` other than the Cortex-M4 (which `FirmwareTests` covers in depth)
/// runs the test fixture CNN (every op kind, `ExportFixtures.everyOp`) in both modes under its
/// QEMU machine, with the checks of the Cortex-M4: every output byte equal to the host C
/// runtime's (`HostRun`, the same artifact and inputs), RAM predicted from the image = measured
/// part by part, the painted stack = the lowest SP QEMU showed, and instructions per inference
/// counted by the insncount plugin. A few inputs per board keep it short. Needs each board's
/// toolchain and QEMU (`make setup`): without them a test fails with the install hint, never
/// skips. Not in `make check` (CHECK_SKIP).
final class TargetMatrixTests: XCTestCase {
    static let samples = 3

    func checkBoard(_ name: String) throws {
        let board = try Board.named(name)
        let (g, d) = try ExportFixtures.everyOp()
        let dir = try ExportFixtures.tempDir("target-\(name)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The arena holds this board's kernel variant's scratch only (Board.kernelVariant).
        let variant = try XCTUnwrap(KernelScratch.Variant(board: board))
        let r = try export(g, normalization: .identity, to: dir, name: "cnn", compress: true, kernels: variant)
        XCTAssertEqual(
            r.arenaTotalBytes,
            KernelScratch.arenaTotal(activations: r.arenaBytes, scratch: KernelScratch.bytes(g, variant: variant)))
        let inputs = g.quantizedInputs(d, limit: Self.samples)
        // The expected outputs are the host C runtime's (which the export tests hold equal to
        // Int8Interpreter); checked against the Swift reference too.
        let host = try HostRun.outputs(artifactPath: dir + "/cnn.kdc", inputs: inputs)
        let interp = Int8Interpreter()
        XCTAssertEqual(host, inputs.map { interp.run(g, input: $0) }, "host C runtime vs Int8Interpreter")
        for mode in FirmwareMode.allCases {
            let f = try FirmwareCheck.run(
                board: board, model: r.exportedModel, mode: mode, inputs: inputs, expected: host, opCodes: g.opCodes,
                macs: g.macs, countInstructions: true, measureStackLowWater: true)
            XCTAssertEqual(f.target, board.description)
            XCTAssertEqual(f.samples, Self.samples)
            XCTAssertEqual(f.mismatches, 0, "\(name) \(mode): output bytes differ from the host's")
            XCTAssertTrue(f.match)
            XCTAssertEqual(f.ramPredicted.arenaBytes, r.arenaTotalBytes)
            XCTAssertEqual(f.ramPredicted.unpackBytes, mode == .compressed ? r.rawBytes : 0)
            XCTAssertEqual(f.ram.staticBytes, f.ramPredicted.staticBytes, "\(name) \(mode): static data")
            XCTAssertEqual(f.ram.arenaBytes, f.ramPredicted.arenaBytes, "\(name) \(mode): arena")
            XCTAssertEqual(f.ram.unpackBytes, f.ramPredicted.unpackBytes, "\(name) \(mode): unpack buffer")
            // The predicted stack is the true one: the lowest SP QEMU showed.
            XCTAssertEqual(
                f.stackLowWaterBytes, f.ramPredicted.stackBytes,
                "\(name) \(mode): SP low-water vs predicted; path \(f.stackPath.map { "\($0.function) \($0.bytes)" })")
            // On RISC-V the measured stack is the CPU's lowest SP (`Board.paintedStackIsExact`);
            // elsewhere the firmware's painted mark, checked equal to the lowest SP here.
            XCTAssertEqual(f.ram, f.ramPredicted, "\(name) \(mode)")
            XCTAssertEqual(f.stackLowWaterBytes, f.ram.stackBytes, "\(name) \(mode): SP low-water vs measured")
            XCTAssertGreaterThan(f.ram.stackBytes, 0)
            XCTAssertEqual(f.stackPath.first?.function, board.resetFunction)
            XCTAssertGreaterThan(f.runtimeTextBytes, 1000)
            let ipi = try XCTUnwrap(f.instructionsPerInference, "\(name) \(mode): instructions not counted")
            XCTAssertGreaterThan(ipi, g.macs)
            print(
                "target \(board.description) \(mode): samples \(f.samples) mismatches \(f.mismatches) runtime text \(f.runtimeTextBytes) image text/data/bss \(f.imageTextBytes)/\(f.imageDataBytes)/\(f.imageBssBytes) ram \(f.ramBytes) = predicted \(f.ramPredictedBytes) (arena \(f.ram.arenaBytes), unpack \(f.ram.unpackBytes), static \(f.ram.staticBytes), stack \(f.ram.stackBytes), SP low-water \(f.stackLowWaterBytes ?? -1)) path \(f.stackPath.map { "\($0.function) \($0.bytes)" }.joined(separator: " > ")) insns/inference \(ipi) (\(g.macs) MACs, \(String(format: "%.2f", f.instructionsPerMAC ?? 0))/MAC)"
            )
        }
    }

    func testCortexM3() throws { try checkBoard("cortex-m3") }
    func testCortexM7() throws { try checkBoard("cortex-m7") }
    func testCortexM33() throws { try checkBoard("cortex-m33") }
    func testCortexM55() throws { try checkBoard("cortex-m55") }
    func testCortexM0() throws { try checkBoard("cortex-m0") }
    func testRISCV32() throws { try checkBoard("riscv32") }

    /// riscv32's `_start` writes sp once, with its final value: `la sp, __stack_end__` (auipc +
    /// addi) left sp below the stack's top for one instruction, and the lowest-SP scan of QEMU's
    /// register dumps read it as stack use (the MLPerf Tiny anomaly detector: 1,096 B "measured",
    /// 768 B predicted and true). Compiles the startup and reads `_start`'s machine code.
    func testRISCV32StartSetsTheStackPointerOnce() throws {
        let b = Board.riscv32
        let dir = try ExportFixtures.tempDir("riscv-start")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = CLITests.repoRoot + "/samples/firmware/startup-riscv.c"
        _ = try ProcessRunner.check(
            Command(b.toolchain.cc, b.cpuFlags + ["-Os", "-c", src, "-o", dir + "/s.o"], timeout: 60, packages: b.packages),
            action: "compiling \(src)")
        let dis = try ProcessRunner.check(
            Command(b.toolchain.objdump, ["-d", dir + "/s.o"], timeout: 60, packages: b.packages), action: "objdump"
        ).stdout
        let start = try XCTUnwrap(dis.components(separatedBy: "<_start>:").dropFirst().first, dis)
        let body = start.components(separatedBy: "\n\n")[0].split(separator: "\n")
        let spWrites = body.filter { $0.split(separator: "\t").dropFirst(2).joined(separator: " ").contains(" sp,") }
        XCTAssertEqual(spWrites.count, 1, "instructions writing sp in _start: \(spWrites)")
        XCTAssertTrue(spWrites.first?.contains("mv") ?? false, "\(spWrites)")
    }
}
