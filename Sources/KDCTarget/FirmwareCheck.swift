import Foundation

/// Runs an exported model in the firmware sample on a board under QEMU: builds the image with
/// the model and test inputs, predicts its RAM from the linked image, runs it, compares every
/// output byte with the expected outputs and the measured RAM with the prediction, reads the
/// sizes from the ELF files, and (when asked) counts instructions and reads the true stack
/// low-water mark.
public enum FirmwareCheck {
    /// Runs `model` in `mode` on `board` with `inputs` (each the input tensor's int8 values; keep
    /// it small, e.g. 20: QEMU is slow) and compares the outputs with `expected` (one per input,
    /// e.g. the Swift int8 reference's). `opCodes`: the runtime op codes of the model's ops (the
    /// stack prediction keeps only their kernels). `macs`: multiply-accumulates per inference,
    /// for instructions per MAC. `countInstructions` runs two more images under the insncount
    /// plugin, the first input run once and `countedInferences` + 1 times (instructions per
    /// inference = the difference / `countedInferences`); `measureStackLowWater` (always on a board
    /// whose painted stack mark is not exact, `Board.paintedStackIsExact`: there it is the measured
    /// stack) runs the image
    /// once more with QEMU dumping the registers before every instruction (about 2 s per million
    /// instructions here).
    /// - Throws: `TargetError.toolNotFound` with the packages to install when the cross toolchain
    ///   or QEMU is missing; `TargetError.toolFailed` with the tool's output when building or
    ///   running fails; `TargetError.programFailed` when the firmware reports an error;
    ///   `TargetError.invalidInput` for `.compressed` with an uncompressed export, no inputs,
    ///   inputs or expected outputs of unequal sizes, or an unknown op code;
    ///   `TargetError.format` when the stack cannot be sized (see `StackAnalysis`) or the
    ///   firmware's records disagree with the inputs.
    public static func run(
        board: Board = .cortexM4, model: ExportedModel, mode: FirmwareMode, inputs: [[Int8]], expected: [[Int8]],
        opCodes: Set<Int>, macs: Int, countInstructions: Bool, countedInferences: Int = 10, measureStackLowWater: Bool = false,
        runtimeDirectory: String? = nil
    ) throws -> FirmwareResult {
        try runReturningOutputs(
            board: board, model: model, mode: mode, inputs: inputs, expected: expected, opCodes: opCodes, macs: macs,
            countInstructions: countInstructions, countedInferences: countedInferences,
            measureStackLowWater: measureStackLowWater, runtimeDirectory: runtimeDirectory
        ).result
    }

    /// `run`, also returning every output byte the device reported (one output per input, in
    /// input order).
    public static func runReturningOutputs(
        board: Board = .cortexM4, model: ExportedModel, mode: FirmwareMode, inputs: [[Int8]], expected: [[Int8]],
        opCodes: Set<Int>, macs: Int, countInstructions: Bool, countedInferences: Int = 10, measureStackLowWater: Bool = false,
        runtimeDirectory: String? = nil
    ) throws -> (result: FirmwareResult, outputs: [[Int8]]) {
        let what = "firmware check"
        guard let inBytes = inputs.first?.count, inBytes > 0, inputs.allSatisfy({ $0.count == inBytes }) else {
            throw TargetError.invalidInput(what: what, message: "need at least one input, all of the same non-zero size")
        }
        guard expected.count == inputs.count, let outBytes = expected.first?.count, expected.allSatisfy({ $0.count == outBytes })
        else {
            throw TargetError.invalidInput(
                what: what,
                message: "need one expected output per input (\(inputs.count)), all of the same size; got \(expected.count)")
        }
        guard countedInferences >= 1 else {
            throw TargetError.invalidInput(what: what, message: "countedInferences must be at least 1, got \(countedInferences)")
        }
        if mode == .compressed && !model.compressed {
            throw TargetError.invalidInput(
                what: what, message: "compressed mode needs a compressed export; hint: export with compress: true")
        }
        // A model too big for the board is an error before any build (the linker's would name
        // no model).
        let mainArtifact = (try? FileManager.default.attributesOfItem(atPath: model.artifactPath)[.size] as? Int) ?? nil
        try board.checkFits(
            model: model.name, arenaBytes: model.arenaBytes, unpackBytes: mode == .compressed ? model.rawBytes : 0,
            artifactBytes: mode == .compressed ? (mainArtifact ?? model.rawBytes) : model.rawBytes,
            inputBytes: inputs.count * inBytes)
        let rt = try runtimeDirectory ?? SourceTree.runtimeDirectory()
        let kernels = try KernelTable.load(runtimeDirectory: rt)
        _ = try kernels.functions(opCodes: opCodes)
        let fw = try SourceTree.firmwareDirectory(runtimeDirectory: rt)
        let tmp = try SourceTree.scratchDirectory("firmware")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let target = QEMUTarget(board: board, firmwareDirectory: fw, scratch: tmp)
        try target.requireTools(countingInstructions: countInstructions)
        let image = FirmwareImage(target: target, model: model, mode: mode, runtimeDirectory: rt, buildDirectory: tmp + "/build")

        // Predict the RAM from the linked image before running it.
        let elfPath = try image.build(inputs: inputs)
        let elf = try ELFFile(path: elfPath)
        let (graphs, runtimeGraphs) = try image.callGraphs()
        let prediction = try predict(
            image: elf, callGraphs: graphs, runtimeCallGraphs: runtimeGraphs, disassembly: try target.disassemble(elfPath),
            board: board, kernels: kernels, opCodes: opCodes, arenaBytes: model.arenaBytes,
            unpackBytes: mode == .compressed ? model.rawBytes : 0)

        let program = "\(image.artifactSource) (\(mode.rawValue)) on \(board.description)"
        let records = try naming(program: program) { try target.run(elfPath) }
        let (m, run, memory) = (
            try records.require(records.model, "model"), try records.require(records.run, "run"),
            try records.require(records.memory, "memory")
        )
        guard run.samples == inputs.count, m.inputBytes == inBytes, m.outputBytes == outBytes else {
            throw TargetError.format(
                file: records.source,
                message:
                    "the firmware ran \(run.samples) samples of \(m.inputBytes) → \(m.outputBytes) bytes; expected \(inputs.count) of \(inBytes) → \(outBytes)"
            )
        }
        var ram = FirmwareRAM(
            arenaBytes: memory.arenaBytes, unpackBytes: memory.unpackBytes, staticBytes: memory.staticBytes,
            stackBytes: memory.stackBytes)
        guard ram.totalBytes == memory.ramBytes else {
            throw TargetError.format(
                file: records.source,
                message: "the firmware's ram_bytes \(memory.ramBytes) is not the sum of its parts \(ram.totalBytes)")
        }
        let mismatches = try compare(records.outputs, expected, source: records.source)

        // Sizes from the ELF files: the runtime's objects, the linked image.
        var rtSize = ELFFile.BerkeleySizes(text: 0, data: 0, bss: 0)
        for o in image.runtimeObjects { rtSize = rtSize + (try ELFFile(path: o)).berkeleySizes }
        let imageText = elf.sections.filter { $0.isAllocated && ($0.isExecutable || !$0.isWritable) }.reduce(0) {
            $0 + Int(clamping: $1.size)
        }

        var lowWater: Int? = nil
        if measureStackLowWater || !board.paintedStackIsExact {
            guard let end = elf.symbol("__stack_end__") else {
                throw TargetError.format(
                    file: elfPath, message: "no '__stack_end__' symbol (the linker script's top of the stack)")
            }
            let start = elf.symbol("__stack_start__")?.value ?? 0
            let low = try target.lowestStackPointer(elfPath, within: start...end.value)
            lowWater = Int(end.value) - Int(low.stackPointer)
            // Where painting can miss reserved but unwritten words (RISC-V), the measured stack
            // is the CPU's.
            if !board.paintedStackIsExact, let w = lowWater {
                ram = FirmwareRAM(
                    arenaBytes: ram.arenaBytes, unpackBytes: ram.unpackBytes, staticBytes: ram.staticBytes, stackBytes: w)
            }
        }
        var perInference: Int? = nil, perMAC: Double? = nil
        if countInstructions {
            // The first input run 1 and k + 1 times: start-up, loading and printing cancel out.
            let k = countedInferences
            let once = try target.countInstructions(try image.link(repeats: 1, limit: 1)).count
            let more = try target.countInstructions(try image.link(repeats: k + 1, limit: 1)).count
            perInference = (more - once) / k
            if macs > 0 { perMAC = Double((more - once) / k) / Double(macs) }
        }
        let result = FirmwareResult(
            target: board.description, mode: mode, samples: inputs.count, match: mismatches == 0, mismatches: mismatches,
            runtimeTextBytes: rtSize.text, runtimeDataBytes: rtSize.data, runtimeBssBytes: rtSize.bss,
            imageTextBytes: imageText, imageDataBytes: Int(clamping: elf.section(".data")?.size ?? 0),
            imageBssBytes: Int(clamping: elf.section(".bss")?.size ?? 0),
            ram: ram, ramPredicted: prediction.ram, stackPath: prediction.stack.path,
            stackBoundBytes: prediction.stackBound.bytes, runtimeStackBoundBytes: prediction.runtimeStackBound.bytes,
            stackLowWaterBytes: lowWater, instructionsPerInference: perInference, instructionsPerMAC: perMAC)
        return (result, records.outputs.map(\.bytes))
    }

    /// Runs `model` (with an audio input stage) in `mode` on `board` with PCM `clips` built into
    /// the image (`FW_PCM=1`; each clip the same number of int16 samples at the front end's
    /// rate, cropped or padded as the model's features were; keep it small, e.g. 20): every clip
    /// through the front end whole and through the stream, each output compared byte for byte
    /// with `expected` (one per clip, e.g. the Swift int8 reference on the Swift front end's
    /// features). The stream buffer is the export's `<NAME>_STREAM_BYTES` (`model.streamBytes`);
    /// the image fails if `kdc_stream_bytes` exceeds it. The RAM is predicted from the linked
    /// image (`predict`, with `opCodes` the model's op codes) and measured part by part, as `run`
    /// does. `countInstructions` runs two more images under the insncount plugin, the first
    /// clip's whole-clip front end run once and `countedRuns` + 1 times.
    /// - Throws: as `run`: `TargetError.toolNotFound`, `.toolFailed`, `.programFailed` (e.g.
    ///   the model has no audio input stage, or a clip gives not exactly one model run),
    ///   `.invalidInput` for no clips, clips or expected outputs of unequal sizes, or
    ///   `.compressed` with an uncompressed export; `.format` when the records disagree with
    ///   the clips or the stack cannot be sized.
    public static func runPCM(
        board: Board = .cortexM4, model: ExportedModel, mode: FirmwareMode, clips: [[Int16]], expected: [[Int8]],
        opCodes: Set<Int>, countInstructions: Bool, countedRuns: Int = 10, runtimeDirectory: String? = nil
    ) throws -> FirmwarePCMResult {
        let what = "firmware PCM check"
        guard let samples = clips.first?.count, samples > 0, clips.allSatisfy({ $0.count == samples }) else {
            throw TargetError.invalidInput(what: what, message: "need at least one PCM clip, all of the same non-zero length")
        }
        try checkExpected(expected, count: clips.count, of: "clip", what: what)
        let n = clips.count
        let r = try runStreamImage(
            board: board, model: model, mode: mode, what: what, kind: "PCM clips", inputBytes: n * samples * 2,
            opCodes: opCodes, countInstructions: countInstructions, countedRuns: countedRuns, runtimeDirectory: runtimeDirectory,
            configure: { $0.pcm = true }, build: { try $0.build(pcm: clips) })
        guard r.records.run?.samples == n, r.model.outputBytes == expected[0].count, r.records.outputs.count == 2 * n else {
            throw TargetError.format(
                file: r.records.source,
                message:
                    "the firmware ran \(r.records.run?.samples ?? 0) clips with \(r.records.outputs.count) output records of \(r.model.outputBytes) bytes; expected \(n) clips, \(2 * n) records (whole, then streamed) of \(expected[0].count) bytes"
            )
        }
        let (whole, streamed) = try compareTwice(r.records.outputs, expected, source: r.records.source)
        return FirmwarePCMResult(
            target: board.description, mode: mode, clips: n, clipSamples: samples, frames: r.stage.frames,
            wholeMismatches: whole, streamedMismatches: streamed, match: whole == 0 && streamed == 0,
            streamBytes: r.stage.streamBytes, scratchBytes: r.stage.scratchBytes, ramBytes: r.ram.totalBytes, ram: r.ram,
            ramPredicted: r.prediction.ram, stackPath: r.prediction.stack.path, instructionsPerClip: r.perRun,
            instructionsPerHop: r.perRun.flatMap { r.stage.frames > 0 ? $0 / r.stage.frames : nil })
    }

    /// Runs `model` (with a sensor input stage) in `mode` on `board` with float32 sensor
    /// `recordings` built into the image (`FW_SENSOR=1`; each `steps × channels` raw values, the
    /// channels interleaved; keep them short: QEMU is slow): every window (the model's length, a
    /// start every `stride` steps, as `SeriesWindow.starts`) through `kdc_sensor_quantize` and
    /// `kdc_invoke`, then each recording through the stream (`kdc_stream_push_sensor` in chunks
    /// of 1, 4, 2, 7, 3, 9, 5 samples in turn, the model run every `stride` samples once the
    /// ring is full), each output compared byte for byte with `expected` (one per window, in
    /// recording then time order, e.g. `SensorQuantizer` → the Swift int8 reference). RAM
    /// predicted and measured as `runPCM`. `countInstructions`: `kdc_sensor_quantize` of the
    /// first window, run once and `countedRuns` + 1 times.
    /// - Throws: as `runPCM`; `.invalidInput` also for values that are not whole steps of
    ///   `channels`, a stride below 1, or expected outputs other than one per window; the
    ///   firmware fails (`.programFailed`) when the model has no sensor stage or the stream runs
    ///   the model other than once per window.
    public static func runSensor(
        board: Board = .cortexM4, model: ExportedModel, mode: FirmwareMode, recordings: [[Float]], channels: Int,
        windowLength: Int, stride: Int, expected: [[Int8]], opCodes: Set<Int>, countInstructions: Bool, countedRuns: Int = 10,
        runtimeDirectory: String? = nil
    ) throws -> FirmwareSensorResult {
        let what = "firmware sensor check"
        guard channels >= 1, windowLength >= 1, stride >= 1, !recordings.isEmpty,
            recordings.allSatisfy({ !$0.isEmpty && $0.count % channels == 0 && $0.allSatisfy(\.isFinite) })
        else {
            throw TargetError.invalidInput(
                what: what,
                message:
                    "need at least one recording of whole time steps of \(channels) finite values, a window length and a stride of at least 1 (got \(recordings.count) recordings, window \(windowLength), stride \(stride))"
            )
        }
        let steps = recordings.map { $0.count / channels }
        let windows = steps.reduce(0) { $0 + ($1 < windowLength ? 0 : ($1 - windowLength) / stride + 1) }
        guard windows > 0 else {
            throw TargetError.invalidInput(what: what, message: "no recording holds a whole window of \(windowLength) steps")
        }
        try checkExpected(expected, count: windows, of: "window", what: what)
        let r = try runStreamImage(
            board: board, model: model, mode: mode, what: what, kind: "sensor recordings",
            inputBytes: recordings.reduce(0) { $0 + $1.count } * 4, opCodes: opCodes, countInstructions: countInstructions,
            countedRuns: countedRuns, runtimeDirectory: runtimeDirectory, configure: { $0.sensor = true },
            build: { try $0.build(sensor: recordings, channels: channels, stride: stride) })
        guard r.records.run?.samples == windows, r.model.outputBytes == expected[0].count,
            r.records.outputs.count == 2 * windows, r.stage.frames == windowLength
        else {
            throw TargetError.format(
                file: r.records.source,
                message:
                    "the firmware ran \(r.records.run?.samples ?? 0) windows of \(r.stage.frames) steps with \(r.records.outputs.count) output records of \(r.model.outputBytes) bytes; expected \(windows) windows of \(windowLength), \(2 * windows) records (one window at a time, then streamed) of \(expected[0].count) bytes"
            )
        }
        let (whole, streamed) = try compareTwice(r.records.outputs, expected, source: r.records.source)
        return FirmwareSensorResult(
            target: board.description, mode: mode, recordings: recordings.count, steps: steps, channels: channels,
            windowLength: windowLength, stride: stride, windows: windows, chunkSamples: sensorChunks,
            wholeMismatches: whole, streamedMismatches: streamed, match: whole == 0 && streamed == 0,
            streamBytes: r.stage.streamBytes, ram: r.ram, ramPredicted: r.prediction.ram, stackPath: r.prediction.stack.path,
            instructionsPerWindow: r.perRun, instructionsPerStep: r.perRun.map { $0 / windowLength })
    }

    /// The stream chunk sizes of the sensor image, in samples (`fw_chunks` in `main.c`).
    public static let sensorChunks = [1, 4, 2, 7, 3, 9, 5]

    /// Throws `.invalidInput` unless `expected` holds `count` outputs of one non-zero size.
    static func checkExpected(_ expected: [[Int8]], count: Int, of unit: String, what: String) throws {
        guard expected.count == count, let outBytes = expected.first?.count, outBytes > 0,
            expected.allSatisfy({ $0.count == outBytes })
        else {
            throw TargetError.invalidInput(
                what: what,
                message: "need one expected output per \(unit) (\(count)), all of the same size; got \(expected.count)")
        }
    }

    /// Mismatched bytes of the first and second half of `outputs` (records 0 … 2n − 1) against
    /// `expected` (n outputs, compared with both halves).
    static func compareTwice(_ outputs: [OutputRecord], _ expected: [[Int8]], source: String) throws -> (Int, Int) {
        let n = expected.count
        var first = 0, second = 0
        for (s, got) in outputs.enumerated() {
            let want = expected[s % n]
            guard got.sample == s, got.bytes.count == want.count else {
                throw TargetError.format(
                    file: source,
                    message:
                        "output record \(s) is sample \(got.sample) with \(got.bytes.count) bytes; expected sample \(s) with \(want.count)"
                )
            }
            let bad = zip(want, got.bytes).filter { $0 != $1 }.count
            if s < n { first += bad } else { second += bad }
        }
        return (first, second)
    }

    /// What `runStreamImage` saw.
    struct StreamImageRun {
        var records: Records
        var model: ModelRecord
        var stage: FrontEndRecord
        var ram: FirmwareRAM
        var prediction: FirmwarePrediction
        /// Instructions of one repeated step (`FW_REPEATS`), when counted.
        var perRun: Int?
    }

    /// The part `runPCM` and `runSensor` share: checks the model fits, builds the stream image
    /// (`configure` sets its mode, `build` writes its inputs), predicts its RAM (the stream
    /// buffer the export's `<NAME>_STREAM_BYTES`), runs it, reads the measured RAM (the CPU's
    /// lowest SP on a board whose painted mark is not exact), and counts the instructions of a
    /// repeated step.
    static func runStreamImage(
        board: Board, model: ExportedModel, mode: FirmwareMode, what: String, kind: String, inputBytes: Int,
        opCodes: Set<Int>, countInstructions: Bool, countedRuns: Int, runtimeDirectory: String?,
        configure: (inout FirmwareImage) -> Void, build: (FirmwareImage) throws -> String
    ) throws -> StreamImageRun {
        guard countedRuns >= 1 else {
            throw TargetError.invalidInput(what: what, message: "countedRuns must be at least 1, got \(countedRuns)")
        }
        if mode == .compressed && !model.compressed {
            throw TargetError.invalidInput(
                what: what, message: "compressed mode needs a compressed export; hint: export with compress: true")
        }
        guard model.streamBytes > 0 else {
            throw TargetError.invalidInput(
                what: what,
                message: "the export has no stream buffer (<NAME>_STREAM_BYTES): the model has no input stage")
        }
        let mainArtifact = (try? FileManager.default.attributesOfItem(atPath: model.artifactPath)[.size] as? Int) ?? nil
        try board.checkFits(
            model: model.name, arenaBytes: model.arenaBytes + model.streamBytes,
            unpackBytes: mode == .compressed ? model.rawBytes : 0,
            artifactBytes: mode == .compressed ? (mainArtifact ?? model.rawBytes) : model.rawBytes, inputBytes: inputBytes)
        let rt = try runtimeDirectory ?? SourceTree.runtimeDirectory()
        let kernels = try KernelTable.load(runtimeDirectory: rt)
        _ = try kernels.functions(opCodes: opCodes)
        let fw = try SourceTree.firmwareDirectory(runtimeDirectory: rt)
        let tmp = try SourceTree.scratchDirectory("firmware-stream")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let target = QEMUTarget(board: board, firmwareDirectory: fw, scratch: tmp)
        try target.requireTools(countingInstructions: countInstructions)
        var image = FirmwareImage(target: target, model: model, mode: mode, runtimeDirectory: rt, buildDirectory: tmp + "/build")
        configure(&image)
        let elfPath = try build(image)
        let elf = try ELFFile(path: elfPath)
        let (graphs, runtimeGraphs) = try image.callGraphs()
        let prediction = try predict(
            image: elf, callGraphs: graphs, runtimeCallGraphs: runtimeGraphs, disassembly: try target.disassemble(elfPath),
            board: board, kernels: kernels, opCodes: opCodes, arenaBytes: model.arenaBytes,
            unpackBytes: mode == .compressed ? model.rawBytes : 0, streamBytes: model.streamBytes)

        let program = "\(image.artifactSource) (\(mode.rawValue), \(kind)) on \(board.description)"
        let records = try naming(program: program) { try target.run(elfPath) }
        let (m, memory, stage) = (
            try records.require(records.model, "model"), try records.require(records.memory, "memory"),
            try records.require(records.frontend, "frontend")
        )
        _ = try records.require(records.run, "run")
        var ram = FirmwareRAM(
            arenaBytes: memory.arenaBytes, unpackBytes: memory.unpackBytes, staticBytes: memory.staticBytes,
            stackBytes: memory.stackBytes, streamBytes: memory.streamBytes ?? 0)
        guard ram.totalBytes == memory.ramBytes else {
            throw TargetError.format(
                file: records.source,
                message: "the firmware's ram_bytes \(memory.ramBytes) is not the sum of its parts \(ram.totalBytes)")
        }
        if !board.paintedStackIsExact {
            guard let end = elf.symbol("__stack_end__") else {
                throw TargetError.format(
                    file: elfPath, message: "no '__stack_end__' symbol (the linker script's top of the stack)")
            }
            let start = elf.symbol("__stack_start__")?.value ?? 0
            let low = try target.lowestStackPointer(elfPath, within: start...end.value)
            ram = FirmwareRAM(
                arenaBytes: ram.arenaBytes, unpackBytes: ram.unpackBytes, staticBytes: ram.staticBytes,
                stackBytes: Int(end.value) - Int(low.stackPointer), streamBytes: ram.streamBytes)
        }
        var perRun: Int? = nil
        if countInstructions {
            let k = countedRuns
            let once = try target.countInstructions(try image.link(repeats: 1, limit: 1)).count
            let more = try target.countInstructions(try image.link(repeats: k + 1, limit: 1)).count
            perRun = (more - once) / k
        }
        return StreamImageRun(records: records, model: m, stage: stage, ram: ram, prediction: prediction, perRun: perRun)
    }

    /// Output bytes that differ from `expected`, over all samples.
    /// - Throws: `TargetError.format` unless there is exactly one output record per sample,
    ///   numbered 0, 1, …, each of the expected size.
    static func compare(_ outputs: [OutputRecord], _ expected: [[Int8]], source: String) throws -> Int {
        guard outputs.count == expected.count else {
            throw TargetError.format(file: source, message: "\(outputs.count) output records for \(expected.count) inputs")
        }
        var mismatches = 0
        for (s, (got, want)) in zip(outputs, expected).enumerated() {
            guard got.sample == s, got.bytes.count == want.count else {
                throw TargetError.format(
                    file: source,
                    message:
                        "output record \(s) is sample \(got.sample) with \(got.bytes.count) bytes; expected sample \(s) with \(want.count)"
                )
            }
            mismatches += zip(want, got.bytes).filter { $0 != $1 }.count
        }
        return mismatches
    }

    /// Runtime functions left out of `FirmwarePrediction.runtimeStackBound`: float helpers for
    /// the application, which call libgcc's soft-float routines (not in the firmware image,
    /// so not sizable here) and are not used to load or run a model.
    public static let floatHelpers: Set<String> = [
        "kdc_quantize", "kdc_quantize_array", "kdc_dequantize", "kdc_normalize_quantize", "kdc_input_from_float",
        "kdc_output_to_float", "kdc_softmax", "kdc__expf",
    ]

    /// Predicts the RAM of a firmware image for a model with the ops `opCodes`, before it runs:
    /// arena and unpack buffer as given (kdc's export), static data = `.data` + `.bss` of the
    /// image minus its `arena` and `unpack_buf` symbols, stack = the deepest call chain from the
    /// board's reset function (see `StackAnalysis`) over `callGraphs` (gcc's `.ci` files; those in
    /// `runtimeCallGraphs` are the runtime's) and `disassembly` (`objdump -d` of the image), with
    /// `kdc_invoke` calling only the kernels of `opCodes` (`KernelTable`). The op callback
    /// `kdc_invoke` calls through a pointer is accounted as never called only when
    /// `kdc_set_callback` is not linked (`main.c` sets no callback).
    /// - Throws: `TargetError.format` when the stack cannot be sized or the image lacks the arena;
    ///   `TargetError.invalidInput` for an unknown op code.
    public static func predict(
        image: ELFFile, callGraphs: [(path: String, text: String)], runtimeCallGraphs: Set<String>, disassembly: String,
        board: Board, kernels: KernelTable, opCodes: Set<Int>, arenaBytes: Int, unpackBytes: Int, streamBytes: Int = 0
    ) throws -> FirmwarePrediction {
        guard let bss = image.section(".bss") else {
            throw TargetError.format(file: image.path, message: "no .bss section (sections: \(image.sections.map(\.name)))")
        }
        guard let arena = image.symbol("arena") else {
            throw TargetError.format(file: image.path, message: "no 'arena' symbol (samples/firmware/main.c's static arena)")
        }
        let unpack = image.symbol("unpack_buf")
        if unpackBytes > 0 && unpack == nil {
            throw TargetError.format(file: image.path, message: "no 'unpack_buf' symbol, but the artifact is unpacked")
        }
        let stream = image.symbol("stream_buf")
        if streamBytes > 0 && stream == nil {
            throw TargetError.format(file: image.path, message: "no 'stream_buf' symbol, but the image runs a stream")
        }
        let staticBytes =
            Int(clamping: (image.section(".data")?.size ?? 0) + bss.size) - Int(clamping: arena.size)
            - Int(clamping: unpack?.size ?? 0) - Int(clamping: stream?.size ?? 0)

        let analysis = try StackAnalysis(
            callGraphs: callGraphs, disassembly: disassembly, imagePath: image.path, instructionSet: board.instructionSet)
        var indirect: [String: String] = [:]
        if !analysis.imageFunctions.contains("kdc_set_callback") {
            indirect["kdc_invoke"] = "the op callback: kdc_set_callback is not linked, kdc_init zeroes the model, so none is set"
        }
        let used = try kernels.functions(opCodes: opCodes)
        let dropped = Set(kernels.allFunctions.subtracting(used).map { StackAnalysis.Call(caller: "kdc_invoke", callee: $0) })
        // The stream images' callback: kdc_stream_run calls main.c's on_stream_run, the only
        // one set (FW_PCM, FW_SENSOR).
        let targets =
            analysis.functions.values.contains { $0.name == "on_stream_run" } ? ["kdc_stream_run": ["on_stream_run"]] : [:]
        let stack = try analysis.deepest(
            from: board.resetFunction, dropping: dropped, indirectCalls: indirect, indirectTargets: targets)
        let bound = try analysis.deepest(from: board.resetFunction, indirectCalls: indirect, indirectTargets: targets)
        // The runtime alone: every global function of runtime/src (linked or not), the callback
        // being the application's.
        let roots = analysis.functions.values.filter {
            runtimeCallGraphs.contains($0.source) && $0.title == $0.name && !floatHelpers.contains($0.name)
        }
        .map(\.name).sorted()
        var runtime = StackPath(bytes: 0, path: [])
        for r in roots {
            let p: StackPath
            do {
                p = try analysis.deepest(
                    from: r,
                    indirectCalls: [
                        "kdc_invoke": "the op callback runs on the application's stack budget",
                        "kdc_stream_run": "the stream callback runs on the application's stack budget",
                    ])
            } catch let TargetError.format(_, message)
                where !analysis.imageFunctions.contains(r) && message.contains("is not in the image")
            {
                // A runtime function this image does not link, calling a library function the
                // image does not hold either (on Armv6-M, libgcc's division helpers): its
                // stack cannot be sized from this image, and it cannot run here.
                continue
            }
            if p.bytes > runtime.bytes { runtime = p }
        }
        return FirmwarePrediction(
            ram: FirmwareRAM(
                arenaBytes: arenaBytes, unpackBytes: unpackBytes, staticBytes: staticBytes, stackBytes: stack.bytes,
                streamBytes: stream == nil ? 0 : streamBytes),
            stack: stack, stackBound: bound, runtimeStackBound: runtime)
    }
}
