import Foundation
import XCTest

@testable import KDCTarget

/// Worst-case stack depth from gcc's call graphs and the image's machine code, on fixtures (no
/// toolchain needed).
final class StackAnalysisTests: XCTestCase {
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
        ] {
            let d = Self.disassembly.replacingOccurrences(of: "lsls\tr3, r0, #30", with: insn)
            fails(
                { try self.analysis(disassembly: d).deepest(from: "main", indirectCalls: why) },
                ["fw.elf: library function memset", why2, "its stack cannot be sized"])
        }
        // a branch into another function's middle is a call of that whole function
        let middle = Self.disassembly.replacingOccurrences(of: "lsls\tr3, r0, #30", with: "b.w\t20e0 <memcpy+0x8>")
        XCTAssertEqual(
            try analysis(disassembly: middle).deepest(from: "main", indirectCalls: why).path.map(\.function),
            ["main", "run", "kernel_b", "memset", "memcpy"])
        // a library function calling another one is followed (memset → memcpy), and sub sp counts
        let chained = Self.disassembly.replacingOccurrences(of: "lsls\tr3, r0, #30", with: "bl\t20d8 <memcpy>")
            .replacingOccurrences(of: "mov\tip, r0", with: "sub\tsp, #8")
        XCTAssertEqual(
            try analysis(disassembly: chained).deepest(from: "main", indirectCalls: why).path.map(\.function),
            ["main", "run", "kernel_b", "memset", "memcpy"])
        XCTAssertEqual(
            try analysis(disassembly: chained).deepest(from: "main", indirectCalls: why).bytes, 224 + 288 + 760 + 12 + 8)
    }

    /// An indirect call whose target is known (`kdc_stream_run` → the firmware's stream
    /// callback) counts the target's depth; an unknown target name is an error. libgcc's
    /// soft-float return `ldr.w pc, [sp], #8` (after `str.w lr, [sp, #-8]!`) is a pop.
    func testIndirectTargetsAndPostIndexedReturns() throws {
        let cb = Self.mainCI.replacingOccurrences(
            of: "node: { title: \"main\" label:",
            with:
                "node: { title: \"main.c:on_run\" label: \"on_run\\nmain.c:20:13\\n900 bytes (static)\" }\nnode: { title: \"main\" label:"
        )
        let a = try analysis([("main.ci", cb), ("lib.ci", Self.libCI)])
        let p = try a.deepest(from: "main", indirectTargets: ["run": ["on_run"]])
        XCTAssertEqual(p.path.map(\.function), ["main", "run", "on_run"])
        XCTAssertEqual(p.bytes, 224 + 288 + 900)
        XCTAssertThrowsError(try a.deepest(from: "main", indirectTargets: ["run": ["nobody"]])) { e in
            XCTAssertTrue("\(e)".contains("run calls 'nobody' through a function pointer, but 0 call-graph functions"), "\(e)")
        }
        let soft = Self.disassembly.replacingOccurrences(of: "lsls\tr3, r0, #30", with: "str.w\tlr, [sp, #-8]!")
            .replacingOccurrences(of: "pop\t{r4, r5, pc}", with: "ldr.w\tpc, [sp], #8")
        let q = try analysis(disassembly: soft).deepest(from: "main", indirectCalls: ["run": "none set"])
        XCTAssertEqual(q.path.map(\.function), ["main", "run", "kernel_b", "memset"])
        XCTAssertEqual(q.path.last?.bytes, 12 + 8)
    }

    /// Armv6-M: a compiled function's `bl` to a library helper its call graph omits
    /// (`__gnu_thumb1_case_uqi`; it pushes 4 B, here 16 to be deeper than memset) is a call.
    func testCallsTheCallGraphOmitsAreFollowed() throws {
        let d =
            Self.disassembly + """

                00001000 <kernel_b>:
                    1000:\tb5f0      \tpush\t{r4, r5, r6, r7, lr}
                    1002:\tf000 f801 \tbl\t2090 <__gnu_thumb1_case_uqi>
                    1006:\tbdf0      \tpop\t{r4, r5, r6, r7, pc}

                00002090 <__gnu_thumb1_case_uqi>:
                    2090:\tb41e      \tpush\t{r1, r2, r3, r4}
                    209e:\tbc1e      \tpop\t{r1, r2, r3, r4}
                    20a0:\t4770      \tbx\tlr
                """
        let why = ["run": "no callback"]
        let p = try analysis(disassembly: d).deepest(from: "main", indirectCalls: why)
        XCTAssertEqual(p.path.map(\.function), ["main", "run", "kernel_b", "__gnu_thumb1_case_uqi"])
        XCTAssertEqual(p.bytes, 224 + 288 + 760 + 16)
    }

    /// RISC-V library code (objdump's aliases): the frame from `addi sp,sp,-n`, calls from
    /// `jal`/`call`/`j`, comments after '#' ignored; `jalr` through a register is an error.
    func testRISCVLibraryFunctions() throws {
        let d = """
            fw.elf:     file format elf32-littleriscv

            Disassembly of section .text:

            80000100 <memset>:
            80000100:\t1141                \tadd\tsp,sp,-16
            80000102:\tc606                \tsw\tra,12(sp)
            80000104:\t2031                \tjal\t80000110 <memcpy>
            80000106:\t00001517          \tauipc\ta0,0x1 # 80001106 <table>
            8000010a:\t0141                \tadd\tsp,sp,16
            8000010c:\t8082                \tret

            80000110 <memcpy>:
            80000110:\t7179                \tadd\tsp,sp,-48
            80000112:\tc211                \tbeqz\ta2,80000116 <memcpy+0x6>
            80000114:\t6145                \tadd\tsp,sp,48
            80000116:\t8082                \tret
            """
        func analysis(_ d: String) throws -> StackAnalysis {
            try StackAnalysis(
                callGraphs: [("main.ci", Self.mainCI), ("lib.ci", Self.libCI)].map { (path: $0.0, text: $0.1) }, disassembly: d,
                imagePath: "fw.elf", instructionSet: .riscv)
        }
        let why = ["run": "no callback"]
        let p = try analysis(d).deepest(from: "main", indirectCalls: why)
        XCTAssertEqual(p.path.map(\.function), ["main", "run", "kernel_b", "memset", "memcpy"])
        XCTAssertEqual(p.bytes, 224 + 288 + 760 + 16 + 48)
        XCTAssertThrowsError(
            try analysis(d.replacingOccurrences(of: "jal\t80000110 <memcpy>", with: "jalr\ta5")).deepest(
                from: "main", indirectCalls: why)
        ) { e in
            XCTAssertTrue("\(e)".contains("library function memset at 80000104: 'jalr a5' jumps through a register"), "\(e)")
        }
    }
}
