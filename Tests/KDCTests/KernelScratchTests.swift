import KDCTarget
import XCTest

@testable import KDC

/// `KernelScratch` for the dsp variant (runtime/src/kdc_kernels_dsp.c, docs/FORMAT.md §3.6): int16
/// im2col columns of K4 = round_up(K, 4) values plus 3 alignment bytes, within 4096 bytes. The C
/// side checks the same formula in runtime/tests/test_variants.c (under QEMU, `make -C runtime
/// qemu-test`), and the firmware check (RAM predicted = measured on Cortex-M4) the whole arena.
final class KernelScratchTests: XCTestCase {
    func graph(_ input: [Int], _ op: Op, _ output: [Int]) -> Graph {
        let q = QuantParams(scale: 0.1, zeroPoint: 0)
        let tensors = [
            GraphTensor(name: "x", shape: input, type: .int8, quant: q),
            GraphTensor(name: "y", shape: output, type: .int8, quant: q),
        ]
        let node = GraphNode(name: "n", op: op, inputs: [TensorID(0)], output: TensorID(1), int8: Int8Params())
        return Graph(tensors: tensors, nodes: [node], input: TensorID(0), output: TensorID(1))
    }

    func conv(cin: Int, k: Int) -> Graph {
        graph([8, 8, cin], .conv2d(filters: 4, kernel: Size2(k, k), stride: Size2(1, 1), padding: .same), [8, 8, 4])
    }

    func testConvTakesTwoColumnsThenOneThenNone() {
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 16, k: 3), variant: .dsp), 4 * 144 + 3)  // K 144
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 3, k: 3), variant: .dsp), 4 * 28 + 3)  // K 27 -> 28
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 1, k: 1), variant: .dsp), 4 * 4 + 3)  // K 1 -> 4
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 1023, k: 1), variant: .dsp), 2 * 1024 + 3)  // 4·1024 + 3 > 4096
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 1020, k: 1), variant: .dsp), 4 * 1020 + 3)  // the last two-column K
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 64, k: 4), variant: .dsp), 2 * 1024 + 3)  // K 1024: one column
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 2044, k: 1), variant: .dsp), 2 * 2044 + 3)  // the last one-column K
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 128, k: 4), variant: .dsp), 0)  // K 2048: row by row
    }

    func testDenseTakesOneColumnDepthwiseNone() {
        XCTAssertEqual(KernelScratch.bytes(graph([640], .dense(units: 128), [128]), variant: .dsp), 2 * 640 + 3)
        XCTAssertEqual(KernelScratch.bytes(graph([2044], .dense(units: 8), [8]), variant: .dsp), 2 * 2044 + 3)
        XCTAssertEqual(KernelScratch.bytes(graph([2045], .dense(units: 8), [8]), variant: .dsp), 0)
        let dw = graph(
            [8, 8, 16], .depthwiseConv2d(kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same, multiplier: 1), [8, 8, 16])
        XCTAssertEqual(KernelScratch.bytes(dw, variant: .dsp), 0)
        XCTAssertEqual(KernelScratch.bytes(graph([640], .dense(units: 128), [128]), variant: .portable), 0)
    }

    /// The mve variant (runtime/src/kdc_kernels_mve.c): four int8 im2col columns of K values, else
    /// one, within 4096 bytes, else none; nothing for a 1x1 window, FC or depthwise. The C side
    /// checks the same edges against its query under QEMU (test_variants.c, on the Cortex-M55).
    func testMVEConvTakesFourInt8ColumnsThenOneThenNone() {
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 3, k: 3), variant: .mve), 4 * 27)
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 16, k: 3), variant: .mve), 4 * 144)
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 64, k: 4), variant: .mve), 4 * 1024)  // the last four-column K
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 1025, k: 1), variant: .mve), 0)  // 1x1: the input pixels
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 1, k: 1), variant: .mve), 0)
        let k1025 = graph(
            [8, 8, 205], .conv2d(filters: 4, kernel: Size2(5, 1), stride: Size2(1, 1), padding: .same), [8, 8, 4])
        XCTAssertEqual(KernelScratch.bytes(k1025, variant: .mve), 1025)  // one column
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 455, k: 3), variant: .mve), 4095)  // K 4095: one column
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 456, k: 3), variant: .mve), 0)  // K 4104: row by row
        XCTAssertEqual(KernelScratch.bytes(graph([640], .dense(units: 128), [128]), variant: .mve), 0)
        let dw = graph(
            [8, 8, 16], .depthwiseConv2d(kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same, multiplier: 1), [8, 8, 16])
        XCTAssertEqual(KernelScratch.bytes(dw, variant: .mve), 0)
        XCTAssertTrue(KernelScratch.Variant.device.contains(.mve))
        // Where the mve plan is the largest device one, the arena reserves it: K 2500 is row by
        // row in the dsp variant (0), one int8 column here.
        let g = conv(cin: 100, k: 5)
        XCTAssertEqual(KernelScratch.bytes(g, variant: .dsp), 0)
        XCTAssertEqual(KernelScratch.maximum(g), 2500)
    }

    func testTheArenaReservesTheLargestVariant() {
        let g = conv(cin: 16, k: 3)  // portable 2·144 + 2·144 = 576 > 512: 1 window of 144, tail 288 -> 432
        XCTAssertEqual(KernelScratch.maximum(g), max(KernelScratch.bytes(g, variant: .portable), 4 * 144 + 3))
        XCTAssertEqual(KernelScratch.maximum(g), 579)
        XCTAssertLessThanOrEqual(KernelScratch.maximum(g), KernelScratch.bound)
        // The host's avx2 variant takes more but reserves no device RAM: its AVX2 plan (16
        // channels' weights and four windows, 32·144 + 8·144 = 5,760 > 4096, so two windows,
        // 4·144 = 576) or its AVX-512 VNNI "image" plan (C16 16, R4 = 3·16 = 48, the 10x10
        // padded input of 16 channels: 4·16 + 3·48·16 + 100·16 + 64 = 4,032), the larger.
        XCTAssertEqual(KernelScratch.bytes(g, variant: .avx2), 4032)
        XCTAssertFalse(KernelScratch.Variant.device.contains(.avx2))
        let big = conv(cin: 64, k: 3)  // K 576: dsp 2·2·576 + 3 = 2,307
        XCTAssertEqual(KernelScratch.bytes(big, variant: .avx2), 64 + 3 * 192 * 16 + 100 * 64 + 64)  // 15,744
        XCTAssertEqual(KernelScratch.maximum(big), 2307)
    }

    /// The avx2 variant's VNNI plans past their bound (16384): a large input takes the "windows"
    /// plan (8 gathered windows), a large K neither, leaving the AVX2 plan.
    func testAVX2VariantPlans() {
        let wide = graph(
            [64, 64, 8], .conv2d(filters: 64, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), [64, 64, 64])
        // image: 66·66·8 > 16384; windows: K4 72, 4·64 + 72·64 + 8·72 + 64 = 5,504 > AVX2's 2,944
        XCTAssertEqual(KernelScratch.bytes(wide, variant: .avx2), 5504)
        let narrow = graph(
            [64, 64, 8], .conv2d(filters: 16, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), [64, 64, 16])
        // windows 4·16 + 72·16 + 8·72 + 64 = 1,856 < AVX2's 32·72 + 8·80 = 2,944
        XCTAssertEqual(KernelScratch.bytes(narrow, variant: .avx2), 2944)
        // K 1152: neither VNNI plan fits; AVX2 one window of 2·1152
        XCTAssertEqual(KernelScratch.bytes(conv(cin: 128, k: 3), variant: .avx2), 2304)
        // the keyword-spotting model's first conv (49x10x1 -> 25x5x64, 10x4, stride 2): image
        // 4·64 + 10·4·64 + 58·12·1 + 64 = 3,576
        let kws = graph(
            [49, 10, 1], .conv2d(filters: 64, kernel: Size2(10, 4), stride: Size2(2, 2), padding: .same), [25, 5, 64])
        XCTAssertEqual(KernelScratch.bytes(kws, variant: .avx2), 256 + 2560 + 58 * 12 + 64)
    }

    /// A firmware build reserves its board's variant's scratch (`Board.kernelVariant`): the dsp
    /// boards the dsp columns, the others the portable windows (a 3×3×64 conv: 2,307 against 0
    /// bytes, its window over 512); without a board, the largest.
    func testABoardReservesItsOwnVariantsScratch() throws {
        let variants = Dictionary(uniqueKeysWithValues: Board.all.map { ($0.name, KernelScratch.Variant(board: $0)) })
        XCTAssertEqual(
            variants,
            [
                "cortex-m4": .dsp, "cortex-m7": .dsp, "cortex-m33": .dsp, "cortex-m55": .mve, "cortex-m3": .portable,
                "cortex-m0": .portable, "riscv32": .portable,
            ])
        let big = conv(cin: 64, k: 3)
        XCTAssertEqual(KernelScratch.reserved(big, for: .dsp), 2307)
        XCTAssertEqual(KernelScratch.reserved(big, for: .portable), 0)  // K 576: one window exceeds 512
        let g = conv(cin: 16, k: 3)
        XCTAssertEqual(KernelScratch.reserved(g, for: KernelScratch.Variant(board: .cortexM0)), 288)
        XCTAssertEqual(KernelScratch.reserved(g, for: KernelScratch.Variant(board: .cortexM4)), 579)
        XCTAssertEqual(KernelScratch.reserved(g, for: nil), KernelScratch.maximum(g))
        XCTAssertEqual(try MemoryPlanner.plan(g, kernels: .portable).scratchBytes, 288)
        XCTAssertEqual(try MemoryPlanner.plan(g).scratchBytes, 579)
    }
}
