import XCTest
@testable import KDC

/// The arena planner: lifetimes, no overlap of live tensors, alignment, aliasing, bounds.
final class ExportPlannerTests: XCTestCase {
    /// Every pair of tensors live at a common step occupies disjoint bytes (RESHAPE aliases of
    /// the same buffer excepted), offsets are aligned and inside the arena.
    func assertValid(_ g: Graph, _ p: MemoryPlan, file: StaticString = #filePath, line: UInt = #line) {
        let aliases = Set(g.nodes.filter { $0.op == .reshape }.map { [$0.inputs[0].index, $0.output.index] })
        for a in 0..<p.offsets.count {
            XCTAssertEqual(p.offsets[a] % 4, 0, "tensor \(a) misaligned", file: file, line: line)
            XCTAssertLessThanOrEqual(p.offsets[a] + p.sizes[a], p.arenaBytes, file: file, line: line)
            for b in (a + 1)..<p.offsets.count
            where p.liveTogether(a, b) && !aliases.contains([a, b]) && !aliases.contains([b, a]) {
                let disjoint = p.offsets[a] + p.sizes[a] <= p.offsets[b] || p.offsets[b] + p.sizes[b] <= p.offsets[a]
                XCTAssertTrue(disjoint, "tensors \(a) and \(b) are live together and overlap", file: file, line: line)
            }
        }
        XCTAssertLessThanOrEqual(p.lowerBound, p.arenaBytes, file: file, line: line)
    }

    func testChainLifetimesAndTightArena() throws {
        // t0 (100) → fc → t1 (50) → fc → t2 (20) → fc → t3 (10)
        let g = ExportFixtures.skeleton(
            sizes: [100, 50, 20, 10],
            ops: [(.dense(units: 1), [0], 1), (.dense(units: 1), [1], 2), (.dense(units: 1), [2], 3)], output: 3)
        let p = try MemoryPlanner.plan(g)
        XCTAssertEqual(p.firstUse, [0, 0, 1, 2])
        XCTAssertEqual(p.lastUse, [0, 1, 2, 2])
        XCTAssertEqual(p.lowerBound, 150)  // step 0: t0 + t1
        XCTAssertEqual(p.arenaBytes, 150)
        // Greedy by size: t0 at 0, t1 after it, t2 reuses t0's bytes, t3 right after t2.
        XCTAssertEqual(p.offsets, [0, 100, 0, 20])
        assertValid(g, p)
    }

    func testResidualKeepsSkipTensorAlive() throws {
        // t0 (8) → a = t1 (16) → b = t2 (16); c = t3 = a + b (16); d = t4 (4)
        let g = ExportFixtures.skeleton(
            sizes: [8, 16, 16, 16, 4],
            ops: [(.dense(units: 1), [0], 1), (.dense(units: 1), [1], 2), (.add, [1, 2], 3), (.dense(units: 1), [3], 4)],
            output: 4)
        let p = try MemoryPlanner.plan(g)
        XCTAssertEqual(p.firstUse, [0, 0, 1, 2, 3])
        XCTAssertEqual(p.lastUse, [0, 2, 2, 3, 3])
        XCTAssertEqual(p.lowerBound, 48)  // step 2: a, b and their sum
        XCTAssertEqual(p.arenaBytes, 48)
        assertValid(g, p)
    }

    func testUnalignedSizesArePaddedAndOutputLivesToTheEnd() throws {
        // t0 (10) → t1 (7) → t2 (5) → t3 (3); t1 is the graph output, t3 a dead end.
        let g = ExportFixtures.skeleton(
            sizes: [10, 7, 5, 3],
            ops: [(.dense(units: 1), [0], 1), (.dense(units: 1), [1], 2), (.dense(units: 1), [2], 3)], output: 1)
        let p = try MemoryPlanner.plan(g)
        XCTAssertEqual(p.lastUse[1], 2)
        XCTAssertEqual(p.lastUse[3], 2)
        assertValid(g, p)
        XCTAssertEqual(p.lowerBound, 17)
        XCTAssertEqual(p.offsets[0], 0)
        XCTAssertEqual(p.offsets[1], 12)  // 10 rounded up to 4
    }

    func testReshapeAliasesItsInput() throws {
        // t0 (12) → fc → t1 (24) → reshape → t2 (24) → fc → t3 (6); t1 is also read by an add later.
        let g = ExportFixtures.skeleton(
            sizes: [12, 24, 24, 6, 24],
            ops: [
                (.dense(units: 1), [0], 1), (.reshape, [1], 2), (.dense(units: 1), [2], 4),
                (.add, [1, 4], 3),
            ], output: 3)
        let p = try MemoryPlanner.plan(g)
        XCTAssertEqual(p.offsets[1], p.offsets[2])
        XCTAssertEqual(p.lastUse[1], 3)
        XCTAssertEqual(p.lastUse[2], 3)  // the alias group shares one lifetime
        assertValid(g, p)
        // The buffer is counted once: step 3 holds t1/t2 (24), t4 (24) and t3 (6).
        XCTAssertEqual(p.lowerBound, 54)
    }

    func testRealModelsArePlannedValidlyAndDeterministically() throws {
        for (g, _) in [try ExportFixtures.mlp(), try ExportFixtures.cnn()] {
            let p = try MemoryPlanner.plan(g)
            assertValid(g, p)
            XCTAssertEqual(try MemoryPlanner.plan(g), p)
            // Every op's output is disjoint from its inputs (the runtime's KDC_ERR_ALIAS rule).
            for op in g.nodes where op.op != .reshape {
                let o = op.output.index
                for i in op.inputs.map(\.index) {
                    XCTAssertTrue(p.offsets[o] + p.sizes[o] <= p.offsets[i] || p.offsets[i] + p.sizes[i] <= p.offsets[o], op.name)
                }
            }
            // Greedy is close to the bound on these small graphs.
            XCTAssertLessThanOrEqual(Double(p.arenaBytes), Double(p.lowerBound) * 1.5)
        }
    }

    func testRejectsMalformedOrder() {
        let readBeforeWrite = ExportFixtures.skeleton(
            sizes: [4, 4, 4], ops: [(.dense(units: 1), [2], 1), (.dense(units: 1), [0], 2)], output: 2)
        XCTAssertThrowsError(try MemoryPlanner.plan(readBeforeWrite)) { e in
            guard case let KDCError.graph(layer, message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(layer, "op0"); XCTAssertTrue(message.contains("before it is written"), message)
        }
        let orphan = ExportFixtures.skeleton(sizes: [4, 4, 4], ops: [(.dense(units: 1), [0], 1)], output: 1)
        XCTAssertThrowsError(try MemoryPlanner.plan(orphan))
        let twice = ExportFixtures.skeleton(
            sizes: [4, 4], ops: [(.dense(units: 1), [0], 1), (.dense(units: 1), [0], 1)], output: 1)
        XCTAssertThrowsError(try MemoryPlanner.plan(twice))
    }
}
