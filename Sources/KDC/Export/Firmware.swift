import Foundation

/// How the firmware holds the model: the stored artifact executed in place from flash, or the
/// compressed artifact unpacked by `kdc_unpack` into a static RAM buffer at start.
public enum FirmwareMode: String, Codable, Sendable, CaseIterable {
    case stored
    case compressed
}

/// RAM of the firmware, by part, in bytes.
public struct FirmwareRAM: Codable, Equatable, Sendable {
    /// The activation arena (a static buffer of kdc's memory plan's size).
    public var arenaBytes: Int
    /// The static buffer a compressed artifact is unpacked into (0 when stored).
    public var unpackBytes: Int
    /// `.data` + `.bss` of the image without arena and unpack buffer: the runtime's and the
    /// program's static data.
    public var staticBytes: Int
    /// Peak stack, from the top of the stack region.
    public var stackBytes: Int
    /// The sum of the four.
    public var totalBytes: Int

    public init(arenaBytes: Int, unpackBytes: Int, staticBytes: Int, stackBytes: Int) {
        self.arenaBytes = arenaBytes
        self.unpackBytes = unpackBytes
        self.staticBytes = staticBytes
        self.stackBytes = stackBytes
        totalBytes = arenaBytes + unpackBytes + staticBytes + stackBytes
    }
}

/// What kdc predicts the firmware needs in RAM, from the linked image before it runs
/// (`FirmwareCheck.predict`).
public struct FirmwarePrediction: Equatable, Sendable {
    /// Arena and unpack buffer from kdc's export; static data from the image's sections; the
    /// stack of `stack`.
    public var ram: FirmwareRAM
    /// The deepest call chain of this model's run: from the reset handler through `main`,
    /// `kdc_unpack` and inflate (compressed), `kdc_init`, `kdc_invoke` and the kernels of the
    /// model's ops only.
    public var stack: StackPath
    /// The deepest call chain of the same program with any model: every kernel, every path.
    public var stackBound: StackPath
    /// The deepest call chain below any entry point of the runtime (every kernel, inflate,
    /// validation; not the float helpers `kdc_quantize*`/`kdc_dequantize`): the stack the runtime
    /// needs under its caller's frame, plus an op callback's if one is set.
    public var runtimeStackBound: StackPath
}

/// What running an exported model in the Cortex-M4 firmware (`samples/firmware`) under QEMU
/// showed. Sizes are bytes; the runtime's are its objects at -Os (every function, before
/// `--gc-sections`), the image's the linked ELF's `.text` (+ `.ARM.exidx`), `.data`, `.bss`.
public struct FirmwareResult: Codable, Equatable, Sendable {
    /// "cortex-m4 (qemu mps2-an386)".
    public var target: String
    public var mode: FirmwareMode
    /// Inputs run on the device.
    public var samples: Int
    /// Every output byte equals `Int8Interpreter`'s.
    public var match: Bool
    /// Output bytes (over all samples) that differ from `Int8Interpreter`.
    public var mismatches: Int
    public var runtimeTextBytes: Int, runtimeDataBytes: Int, runtimeBssBytes: Int
    public var imageTextBytes: Int, imageDataBytes: Int, imageBssBytes: Int
    /// RAM the running firmware used, as it reported: arena and unpack buffer (their `sizeof`),
    /// static data (from the linker's section symbols), stack (high-water mark of the painted
    /// stack region, after the last inference).
    public var ram: FirmwareRAM
    /// What kdc predicted from the linked image before running it (`FirmwarePrediction.ram`).
    public var ramPredicted: FirmwareRAM
    /// The predicted deepest call chain (its frames sum to `ramPredicted.stackBytes`).
    public var stackPath: [StackFrame]
    /// `FirmwarePrediction.stackBound` and `.runtimeStackBound`, in bytes.
    public var stackBoundBytes: Int
    public var runtimeStackBoundBytes: Int
    /// The true stack low-water mark, `__stack_end__` − the lowest SP QEMU showed before any
    /// instruction of the same image's run (`make splow`); nil unless asked for (slow).
    public var stackLowWaterBytes: Int?
    /// (instructions with 11 inferences − with 1) / 10, from the QEMU insncount plugin; nil
    /// unless counted.
    public var instructionsPerInference: Int?
    /// `instructionsPerInference` / the model's multiply-accumulates; nil unless counted.
    public var instructionsPerMAC: Double?

    /// Measured RAM (`ram.totalBytes`) and the prediction (`ramPredicted.totalBytes`).
    public var ramBytes: Int { ram.totalBytes }
    public var ramPredictedBytes: Int { ramPredicted.totalBytes }
    /// Every part of the measured RAM equals the prediction.
    public var ramMatchesPrediction: Bool { ram == ramPredicted }
}

/// Builds `samples/firmware` (arm-none-eabi-gcc, newlib-nano) with an exported model and test
/// inputs, runs it on QEMU's mps2-an386 (Cortex-M4) with semihosting, and compares every
/// output byte with the Swift `Int8Interpreter`. Needs `make`, `arm-none-eabi-gcc`,
/// `qemu-system-arm` and (to count instructions) a host `cc`.
public enum FirmwareCheck {
    public static let target = "cortex-m4 (qemu mps2-an386)"
    static let installHint = "hint: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"

    /// The firmware folder (holding `Makefile` and `main.c`): `$KDC_FIRMWARE_DIR`, else the
    /// `samples/firmware` next to the runtime folder `HostCheck.findRuntimeDir()` finds.
    /// - Throws: `KDCError.io` when none is found.
    public static func findFirmwareDir(runtimeDir: String? = nil) throws -> String {
        let fm = FileManager.default
        func ok(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/Makefile") && fm.fileExists(atPath: dir + "/main.c") }
        if let env = ProcessInfo.processInfo.environment["KDC_FIRMWARE_DIR"], !env.isEmpty {
            guard ok(env) else {
                throw KDCError.io(
                    path: env,
                    message: "KDC_FIRMWARE_DIR has no Makefile and main.c; hint: point it at kdc's samples/firmware folder")
            }
            return env
        }
        let rt = try runtimeDir ?? HostCheck.findRuntimeDir()
        let dir = URL(fileURLWithPath: rt).deletingLastPathComponent().appendingPathComponent("samples/firmware").path
        guard ok(dir) else {
            throw KDCError.io(
                path: dir, message: "cannot find kdc's samples/firmware next to the runtime; hint: set KDC_FIRMWARE_DIR")
        }
        return dir
    }

    /// Multiply-accumulates of one inference: fully connected K·N, convolution
    /// out_h·out_w·out_c·k_h·k_w·in_c, depthwise out_h·out_w·out_c·k_h·k_w; other ops 0.
    public static func macs(_ graph: Graph) -> Int { graph.macs }

    /// The C source of the firmware's test inputs (`inputs.h`): `inputs` back to back.
    public static func inputsSource(_ inputs: [[Int8]], inputBytes: Int) -> String {
        var s = """
            /* inputs.c - generated by kdc (FirmwareCheck); do not edit. \(inputs.count) inputs of \(inputBytes) bytes. */
            #include "inputs.h"

            const uint32_t fw_input_count = \(inputs.count)u;
            const uint32_t fw_input_bytes = \(inputBytes)u;
            const int8_t fw_inputs[\(max(inputs.count * inputBytes, 1))] = {

            """
        for x in inputs {
            for start in stride(from: 0, to: x.count, by: 16) {
                s += "    " + x[start..<min(start + 16, x.count)].map { "\($0)," }.joined(separator: " ") + "\n"
            }
        }
        return s + "};\n"
    }

    /// Runs `export`'s model in the firmware on `inputs` (each the input tensor's int8 values;
    /// keep it small, e.g. 20: QEMU is slow) in `mode`, and compares with `Int8Interpreter` on
    /// `graph`. `countInstructions` also runs the insncount plugin (two more images); `macs`
    /// (see `macs(_:)`) turns that into instructions per MAC. `measureStackLowWater` runs the
    /// image once more with QEMU dumping the registers before every instruction (`make splow`:
    /// about 2 s per million instructions here) for `FirmwareResult.stackLowWaterBytes`.
    /// - Throws: `KDCError.io` with an install hint when the cross toolchain or QEMU is missing,
    ///   with the tool output when building or running fails; `KDCError.config` for `.compressed`
    ///   on an uncompressed export; `KDCError.data` for inputs of the wrong size.
    public static func run(
        export: ExportResult, graph: Graph, inputs: [[Int8]], mode: FirmwareMode,
        countInstructions: Bool, macs: Int, measureStackLowWater: Bool = false
    ) throws -> FirmwareResult {
        let inBytes = graph[graph.input].count, outBytes = graph[graph.output].count
        guard !inputs.isEmpty, inputs.allSatisfy({ $0.count == inBytes }) else {
            throw KDCError.data(file: "<firmware check>", message: "need at least one input, each of \(inBytes) values")
        }
        if mode == .compressed && !export.compressed {
            throw KDCError.config(
                file: "<firmware check>", key: "mode",
                message: "compressed mode needs a compressed export; hint: export with compress: true")
        }
        try requireTools(
            [
                "make", "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-objdump", "arm-none-eabi-nm",
                "qemu-system-arm",
            ] + (countInstructions ? ["cc"] : []))
        let rt = try HostCheck.findRuntimeDir()
        let fw = try findFirmwareDir(runtimeDir: rt)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("kdc-firmware-\(getpid())-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let inputsPath = tmp + "/inputs.c"
        try writeFileAtomically(Data(inputsSource(inputs, inputBytes: inBytes).utf8), to: inputsPath)
        let header = URL(fileURLWithPath: export.headerPath)
        let vars = [
            "MODEL_DIR=" + header.deletingLastPathComponent().path, "NAME=" + header.deletingPathExtension().lastPathComponent,
            "MODE=" + mode.rawValue, "INPUTS=" + inputsPath, "BUILD=" + tmp + "/build", "RUNTIME=" + rt,
        ]
        func make(_ goal: String) throws -> String {
            let r = try HostCheck.runProcess(
                "/usr/bin/env", ["make", "-s", "--no-print-directory", "-C", fw, goal] + vars, scratch: tmp)
            guard r.status == 0, !r.signaled else {
                let what = r.status == 124 ? "timed out (QEMU)" : "failed (exit \(r.status))"
                throw KDCError.io(path: fw, message: "make \(goal) \(what):\n\(r.stdout)\(r.stderr)")
            }
            // QEMU writes semihosting output to stderr when stdout is not a terminal.
            return r.stdout + r.stderr
        }

        // Predict the RAM from the linked image before running it.
        _ = try make("all")
        let prediction = try predict(
            buildDir: tmp + "/build", graph: graph, arenaBytes: export.arenaBytes,
            unpackBytes: mode == .compressed ? export.rawBytes : 0, scratch: tmp)
        let out = try make("run")
        var kv: [String: Int] = [:], rows: [Int: [Int8]] = [:]
        for line in out.split(separator: "\n") {
            let p = line.split(separator: " ").map(String.init)
            if p.first == "out", p.count == 3 + outBytes, let s = Int(p[1]) {
                rows[s] = p.dropFirst(3).compactMap { UInt8($0, radix: 16).map { Int8(bitPattern: $0) } }
            } else if p.count == 2, let v = Int(p[1]) {
                kv[p[0]] = v
            }
        }
        guard out.contains("\ndone"), kv["samples"] == inputs.count, kv["output_bytes"] == outBytes,
            let arena = kv["arena_bytes"], let unpack = kv["unpack_bytes"], let stat = kv["static_bytes"],
            let stack = kv["stack_bytes"], let total = kv["ram_bytes"]
        else {
            throw KDCError.io(
                path: fw, message: "unexpected firmware output (missing lines, or samples/sizes differ from the graph):\n\(out)")
        }
        let ram = FirmwareRAM(arenaBytes: arena, unpackBytes: unpack, staticBytes: stat, stackBytes: stack)
        guard ram.totalBytes == total else {
            throw KDCError.io(
                path: fw, message: "the firmware's ram_bytes \(total) is not the sum of its parts \(ram.totalBytes):\n\(out)")
        }
        let interp = Int8Interpreter()
        var mismatches = 0
        for (s, x) in inputs.enumerated() {
            let want = interp.run(graph, input: x)
            guard let got = rows[s], got.count == outBytes else {
                throw KDCError.io(path: fw, message: "firmware output has no valid line for sample \(s):\n\(out)")
            }
            mismatches += zip(want, got).filter { $0 != $1 }.count
        }

        let sizes = try make("size")
        func triple(_ tag: String) throws -> [Int] {
            guard let line = sizes.split(separator: "\n").first(where: { $0.hasPrefix(tag + " ") }) else {
                throw KDCError.io(path: fw, message: "make size printed no '\(tag)' line:\n\(sizes)")
            }
            let p = line.split(separator: " ").map(String.init)
            return stride(from: 2, to: min(p.count, 7), by: 2).compactMap { Int(p[$0]) }
        }
        let rtSize = try triple("runtime"), img = try triple("image")
        guard rtSize.count == 3, img.count == 3 else {
            throw KDCError.io(path: fw, message: "cannot read make size output:\n\(sizes)")
        }

        // The integer on the line "`key` N" of `make goal`'s output.
        func number(_ key: String, from goal: String) throws -> Int {
            let o = try make(goal)
            for line in o.split(separator: "\n") {
                let p = line.split(separator: " ")
                if p.count == 2, p[0] == key, let v = Int(p[1]) { return v }
            }
            throw KDCError.io(path: fw, message: "make \(goal) printed no '\(key) N' line:\n\(o)")
        }
        let lowWater = measureStackLowWater ? try number("sp_low_bytes", from: "splow") : nil
        var perInference: Int? = nil, perMAC: Double? = nil
        if countInstructions {
            let v = try number("insns_per_inference", from: "count")
            perInference = v
            if macs > 0 { perMAC = Double(v) / Double(macs) }
        }
        return FirmwareResult(
            target: target, mode: mode, samples: inputs.count, match: mismatches == 0, mismatches: mismatches,
            runtimeTextBytes: rtSize[0], runtimeDataBytes: rtSize[1], runtimeBssBytes: rtSize[2],
            imageTextBytes: img[0], imageDataBytes: img[1], imageBssBytes: img[2],
            ram: ram, ramPredicted: prediction.ram, stackPath: prediction.stack.path,
            stackBoundBytes: prediction.stackBound.bytes, runtimeStackBoundBytes: prediction.runtimeStackBound.bytes,
            stackLowWaterBytes: lowWater,
            instructionsPerInference: perInference, instructionsPerMAC: perMAC)
    }

    /// The C function `kdc_invoke` calls for each op kind (RESHAPE: `memcpy`, only when the
    /// output does not alias the input, which kdc's memory plan never does).
    public static let kernelFunctions: [DeviceOp: String] = [
        .fullyConnected: "kdc_fc_s8", .conv2d: "kdc_conv2d_s8", .depthwiseConv2d: "kdc_dwconv2d_s8",
        .maxPool2d: "kdc_maxpool_s8", .averagePool2d: "kdc_avgpool_s8", .globalAveragePool: "kdc_global_avgpool_s8",
        .add: "kdc_add_s8", .reshape: "memcpy", .clamp: "kdc_clamp_s8",
    ]

    /// Runtime functions left out of `FirmwarePrediction.runtimeStackBound`: float helpers for
    /// the application, which call libgcc's soft-float routines (not in the firmware image,
    /// so not sizable here) and are not used to load or run a model.
    public static let floatHelpers: Set<String> = ["kdc_quantize", "kdc_quantize_array", "kdc_dequantize"]

    /// Predicts the RAM of the firmware image `buildDir/firmware.elf` (built by `make all`, which
    /// also leaves gcc's call graphs `*.ci` and `rt/*.ci` there) for `graph`, before it runs:
    /// arena and unpack buffer as given (kdc's export), static data = `.data` + `.bss` of the
    /// image minus its `arena` and `unpack_buf` symbols, stack = the deepest call chain from
    /// `Reset_Handler` (see `StackAnalysis`), with `kdc_invoke` calling only the kernels of the
    /// graph's ops. The op callback `kdc_invoke` calls through a pointer is accounted as never
    /// called only when `kdc_set_callback` is not linked (`main.c` sets no callback).
    /// - Throws: `KDCError.format` when the stack cannot be sized (see `StackAnalysis`),
    ///   `KDCError.io` when a tool fails or the image lacks the arena.
    public static func predict(
        buildDir: String, graph: Graph, arenaBytes: Int, unpackBytes: Int,
        scratch: String
    ) throws -> FirmwarePrediction {
        let elf = buildDir + "/firmware.elf"
        func tool(_ name: String, _ args: [String]) throws -> String {
            let r = try HostCheck.runProcess("/usr/bin/env", [name] + args + [elf], scratch: scratch)
            guard r.status == 0, !r.signaled else {
                throw KDCError.io(
                    path: elf, message: "\(name) \(args.joined(separator: " ")) failed (exit \(r.status)):\n\(r.stderr)")
            }
            return r.stdout
        }
        // Static data: the sections, less the arena and the unpack buffer.
        var sections: [String: Int] = [:]
        for line in try tool("arm-none-eabi-size", ["-A"]).split(separator: "\n") {
            let p = line.split(separator: " ", omittingEmptySubsequences: true)
            if p.count >= 2, let v = Int(p[1]) { sections[String(p[0])] = v }
        }
        var symbols: [String: Int] = [:]
        for line in try tool("arm-none-eabi-nm", ["-S"]).split(separator: "\n") {
            let p = line.split(separator: " ")
            if p.count == 4, let v = Int(p[1], radix: 16) { symbols[String(p[3])] = v }
        }
        guard let bss = sections[".bss"] else {
            throw KDCError.io(path: elf, message: "arm-none-eabi-size -A lists no .bss section (got \(sections.keys.sorted()))")
        }
        guard let arena = symbols["arena"] else {
            throw KDCError.io(path: elf, message: "the image has no 'arena' symbol (samples/firmware/main.c's static arena)")
        }
        let unpack = symbols["unpack_buf"] ?? 0
        if unpackBytes > 0 && symbols["unpack_buf"] == nil {
            throw KDCError.io(path: elf, message: "the image has no 'unpack_buf' symbol, but the artifact is unpacked")
        }
        let staticBytes = (sections[".data"] ?? 0) + bss - arena - unpack

        // Stack: gcc's call graphs of every object, and the image for library functions.
        let fm = FileManager.default
        var graphs: [(path: String, text: String)] = [], runtimeFiles: Set<String> = []
        for dir in [buildDir, buildDir + "/rt"] {
            for f in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where f.hasSuffix(".ci") {
                let path = dir + "/" + f
                guard let data = fm.contents(atPath: path) else {
                    throw KDCError.io(path: path, message: "cannot read the call graph")
                }
                graphs.append((path, String(decoding: data, as: UTF8.self)))
                if dir.hasSuffix("/rt") { runtimeFiles.insert(path) }
            }
        }
        guard !runtimeFiles.isEmpty else {
            throw KDCError.io(
                path: buildDir,
                message: "no call graphs (rt/*.ci); hint: samples/firmware/Makefile must compile with -fcallgraph-info=su")
        }
        let analysis = try StackAnalysis(
            callGraphs: graphs, disassembly: try tool("arm-none-eabi-objdump", ["-d"]), imagePath: elf)
        var indirect: [String: String] = [:]
        if !analysis.imageFunctions.contains("kdc_set_callback") {
            indirect["kdc_invoke"] = "the op callback: kdc_set_callback is not linked, kdc_init zeroes the model, so none is set"
        }
        let used = Set(graph.nodes.compactMap { DeviceOp($0.op).flatMap { kernelFunctions[$0] } })
        let dropped = Set(
            Set(kernelFunctions.values).subtracting(used).map { StackAnalysis.Call(caller: "kdc_invoke", callee: $0) })
        let stack = try analysis.deepest(from: "Reset_Handler", dropping: dropped, indirectCalls: indirect)
        let bound = try analysis.deepest(from: "Reset_Handler", indirectCalls: indirect)
        // The runtime alone: every global function of runtime/src (linked or not), the callback
        // being the application's.
        let roots = analysis.functions.values.filter {
            runtimeFiles.contains($0.source) && $0.title == $0.name && !floatHelpers.contains($0.name)
        }
        .map(\.name).sorted()
        var runtime = StackPath(bytes: 0, path: [])
        for r in roots {
            let p = try analysis.deepest(
                from: r, indirectCalls: ["kdc_invoke": "the op callback runs on the application's stack budget"])
            if p.bytes > runtime.bytes { runtime = p }
        }
        return FirmwarePrediction(
            ram: FirmwareRAM(
                arenaBytes: arenaBytes, unpackBytes: unpackBytes, staticBytes: staticBytes,
                stackBytes: stack.bytes),
            stack: stack, stackBound: bound, runtimeStackBound: runtime)
    }

    /// Throws `KDCError.io` with the install hint for the first tool not on `path` (default `$PATH`).
    static func requireTools(_ tools: [String], path: String? = nil) throws {
        let path = path ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for tool in tools {
            let found = path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
            if !found {
                let hint =
                    tool == "make" ? "hint: apt-get install make" : tool == "cc" ? "hint: apt-get install gcc" : installHint
                throw KDCError.io(path: tool, message: "\(tool) not found on PATH; the firmware check needs it; \(hint)")
            }
        }
    }
}
