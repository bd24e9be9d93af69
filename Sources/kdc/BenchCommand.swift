import ArgumentParser
import Foundation
import KDC
import KDCTarget

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (figures, not tests): training throughput, and the C runtime's host latency and instruction count.",
        subcommands: [TrainingBenchCommand.self, RuntimeBenchCommand.self, DeviceBenchCommand.self],
        defaultSubcommand: TrainingBenchCommand.self)
}

/// `--firmware cortex-m4,cortex-m7`: one or more boards (`Board.all`, by name), or `all`.
struct BoardList: ExpressibleByArgument, Equatable {
    var boards: [Board]

    init?(argument: String) {
        if argument == "all" {
            boards = Board.all
            return
        }
        var b: [Board] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let board = Board.all.first(where: { $0.name == part }) else { return nil }
            b.append(board)
        }
        guard !b.isEmpty else { return nil }
        boards = b
    }

    static var allValueStrings: [String] { Board.all.map(\.name) + ["all"] }
}

struct DeviceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract:
            "Per board and model, on the emulated device: instructions per inference and per MAC, runtime .text, arena, stack and RAM (predicted = measured), outputs compared with the host C runtime.",
        discussion: """
            MODEL is an artifact (.kdc) written by kdc, or an int8 TensorFlow Lite model (.tflite), imported \
            as kdc import would (stored, TFLite arithmetic). Each model runs in the firmware sample under QEMU \
            on every board given: the first input repeated for the instruction count (per inference = \
            (11 inferences - 1) / 10, qemu's insn plugin), every output byte compared with the host C \
            runtime. QEMU's TCG executes instructions without a timing model, so no cycle figure is given: \
            the instructions are the device figure (docs/BENCHMARKS.md).
            """)

    @Argument(help: "Artifacts (.kdc) or int8 TensorFlow Lite models (.tflite).")
    var models: [String]

    @Option(
        help: ArgumentHelp(
            "Boards, comma-separated, or all: \(Board.all.map(\.name).joined(separator: ", ")).", valueName: "boards"))
    var firmware = BoardList(argument: "cortex-m4")!

    @Option(help: "Seeded random inputs compared with the host C runtime per model and board.")
    var inputs = 2

    @Option(help: "Also write the rows as JSON to this file.")
    var json: String?

    struct Row: Codable {
        var model: String, board: String, macs: Int
        var instructions: Int?, instructionsPerMAC: Double?
        var runtimeTextBytes: Int, imageTextBytes: Int, arenaBytes: Int, stackBytes: Int
        var ramBytes: Int, ramPredictedBytes: Int
        var outputsMatch: Bool, inputs: Int
        /// Everything the firmware check found: RAM part by part, the predicted stack path, sizes.
        var firmware: FirmwareResult
    }

    func run() throws {
        try runReportingErrors {
            guard inputs >= 1 else { throw ValidationError("--inputs must be at least 1, got \(inputs)") }
            var loaded: [(name: String, artifact: [UInt8], graph: Graph, activations: Int)] = []
            for m in models {
                let name = URL(fileURLWithPath: m).deletingPathExtension().lastPathComponent
                let bytes: [UInt8]
                if m.hasSuffix(".tflite") {
                    let g = try TFLiteImporter.importFile(m)
                    bytes = try prepareExport(g, normalization: .identity, name: "model", compress: false).main
                } else {
                    do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: m))) } catch {
                        throw KDCError.io(path: m, message: "cannot read the artifact (\(error.localizedDescription))")
                    }
                }
                let a = try ArtifactReader.parse(bytes, file: m)
                loaded.append((name, bytes, a.graph, a.arenaBytes))
            }
            print(
                "model                 board          MACs   instructions  instr/MAC  runtime .text  image .text  arena B  stack B  RAM B (pred = meas)  outputs"
            )
            var rows: [Row] = []
            for m in loaded {
                var rng = SeededRNG(seed: 1, stream: "device-bench")
                let inBytes = m.graph[m.graph.input].count
                let ins = (0..<inputs).map { _ in
                    (0..<inBytes).map { _ in Int8(bitPattern: UInt8(truncatingIfNeeded: rng.next())) }
                }
                for board in firmware.boards {
                    let lead =
                        m.name.padding(toLength: 20, withPad: " ", startingAt: 0) + "  "
                        + board.name.padding(toLength: 11, withPad: " ", startingAt: 0) + rpad("\(m.graph.macs)", 10)
                    // A model a board cannot hold is a row saying so, not the end of the table.
                    // The arena of this board's kernels (what DeviceRun's header reserves).
                    let arena = KernelScratch.arenaTotal(
                        activations: m.activations,
                        scratch: KernelScratch.reserved(m.graph, for: KernelScratch.Variant(board: board)))
                    do {
                        try board.checkFits(
                            model: m.name, arenaBytes: arena, unpackBytes: 0, artifactBytes: m.artifact.count,
                            inputBytes: inputs * inBytes)
                    } catch let e as TargetError {
                        print(lead + "  does not fit: \(e.message)")
                        continue
                    }
                    let r = try DeviceRun.run(
                        artifact: m.artifact, inputs: ins, board: board, modes: [.stored], countInstructions: true,
                        countedInferences: 10, name: "model")
                    let f = r.firmware[0]
                    let row = Row(
                        model: m.name, board: board.name, macs: m.graph.macs, instructions: f.instructionsPerInference,
                        instructionsPerMAC: f.instructionsPerMAC, runtimeTextBytes: f.runtimeTextBytes,
                        imageTextBytes: f.imageTextBytes, arenaBytes: f.ram.arenaBytes, stackBytes: f.ram.stackBytes,
                        ramBytes: f.ramBytes, ramPredictedBytes: f.ramPredictedBytes, outputsMatch: f.match, inputs: f.samples,
                        firmware: f)
                    rows.append(row)
                    print(
                        lead + rpad(row.instructions.map { "\($0)" } ?? "—", 15)
                            + rpad(row.instructionsPerMAC.map { String(format: "%.2f", $0) } ?? "—", 11)
                            + rpad("\(row.runtimeTextBytes)", 15) + rpad("\(row.imageTextBytes)", 13)
                            + rpad("\(row.arenaBytes)", 9) + rpad("\(row.stackBytes)", 9)
                            + rpad(
                                "\(row.ramPredictedBytes) \(row.ramBytes == row.ramPredictedBytes ? "=" : "≠") \(row.ramBytes)",
                                21)
                            + "  " + (row.outputsMatch ? "\(row.inputs) equal" : "MISMATCH"))
                    if !row.outputsMatch {
                        throw KDCError.check(
                            message:
                                "\(m.name) on \(board.name): the device's outputs differ from the host C runtime's (\(f.mismatches) of \(f.samples))"
                        )
                    }
                }
            }
            print("(no cycle figures: QEMU executes instructions without a timing model; instructions are the device figure)")
            if let path = json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                try writeFileAtomically(try enc.encode(rows), to: path)
            }
        }
    }
}

struct RuntimeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract:
            "Host latency per inference (runtime built with cc -O2) and instructions per inference (valgrind callgrind) of exported artifacts."
    )

    @Argument(help: "Artifacts (.kdc) written by kdc build.")
    var artifacts: [String]

    @Option(help: "Random inputs per artifact for the latency figure.")
    var samples = 100

    @Option(help: "Timed runs of each input.")
    var repeats = 20

    @Flag(help: "Skip the callgrind instruction count.")
    var noCallgrind = false

    func run() throws {
        try runReportingErrors {
            print("artifact                                  MACs   arena B   median ns   min ns   instructions   instr/MAC")
            for a in artifacts {
                let desc = try ArtifactReader.read(path: a)
                let r = try withKDCErrors {
                    try HostBench.measure(
                        artifactPath: a, inputs: Self.inputs(desc, samples: samples), repeats: repeats, callgrind: !noCallgrind)
                }
                let name = URL(fileURLWithPath: a).lastPathComponent
                let macs = desc.graph.macs
                print(
                    name.padding(toLength: 36, withPad: " ", startingAt: 0)
                        + String(format: "%10d %9d %11d %8d", macs, r.arenaBytes, r.latencyNsMedian, r.latencyNsMin)
                        + rpad(r.instructionsPerInference.map { "\($0)" } ?? "—", 15)
                        + rpad(
                            r.instructionsPerInference.map { String(format: "%.2f", Double($0) / Double(max(macs, 1))) } ?? "—",
                            12))
            }
        }
    }

    /// `samples` seeded random inputs for `desc`'s input tensor (the same on every run).
    static func inputs(_ desc: Artifact, samples: Int) -> [[Int8]] {
        let inBytes = desc.graph[desc.graph.input].count
        var rng = SeededRNG(seed: 1, stream: "bench-inputs")
        return (0..<max(samples, 1)).map { _ in (0..<inBytes).map { _ in Int8(bitPattern: UInt8(truncatingIfNeeded: rng.next())) }
        }
    }
}

struct TrainingBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract:
            "Training throughput (samples/s) of the MNIST sample models beside the sgemm roofline, and the cost of a distillation epoch.",
        discussion:
            "Reads the models from samples/mnist/config.yaml (MLP teacher, 784-32-10 student) and samples/mnist/cnn.yaml (CNN teacher and student). Figures go in docs/BENCHMARKS.md."
    )

    @Option(help: "MNIST folder (IDX .gz files). Default: the data.dir of samples/mnist/config.yaml.")
    var data: String?

    @Option(help: "Folder holding the MNIST sample configs.")
    var samples: String = "samples/mnist"

    @Option(help: "Batches per timed pass for the teachers.")
    var steps: Int = 40

    @Option(
        help: ArgumentHelp(
            "Only time plain training of these models (comma-separated: \(Self.modelNames.joined(separator: ", "))), no roofline or distillation.",
            valueName: "models"))
    var model: String?

    @Option(help: "Batches per timed pass for the students with --model (default: the whole training split).")
    var studentSteps: Int?

    @Option(help: "Timed passes per model with --model (each after the same warm-up pass).")
    var passes: Int = 1

    @Flag(help: "Train without the configs' shift augmentation (augment_shift 0).")
    var noAugment = false

    @Option(
        help:
            "With --model: also write the figures as JSON to this file ('-': standard output, the table then goes to standard error)."
    )
    var json: String?

    static let modelNames = ["mlp-teacher", "cnn-teacher", "mlp-student", "cnn-student"]

    struct ModelRates: Codable {
        var model: String, config: String, parameters: Int, batchSize: Int, samples: Int
        var optimizer: String, augmentShift: Int, samplesPerSecond: [Double]
    }

    struct RatesReport: Codable {
        var cores: Int, sgemmThreads: Int, openblasCore: String, threading: String, models: [ModelRates]
    }

    func run() throws {
        try runReportingErrors {
            if let model {
                try runModels(model.split(separator: ",").map(String.init))
                return
            }
            let mlpCfg = try KDCConfig.load(path: samples + "/config.yaml", overrides: ConfigOverrides(data: data))
            let cnnCfg = try KDCConfig.load(path: samples + "/cnn.yaml", overrides: ConfigOverrides(data: data))
            let splits: DataSplits
            do {
                splits = try loadData(mlpCfg.data, baseDirectory: mlpCfg.baseDirectory)
            } catch let e as KDCError {
                throw KDCError.data(
                    file: mlpCfg.data.dir,
                    message: "MNIST is needed for the benchmark and could not be read (\(e)); hint: pass --data DIR")
            }
            let train = splits.train
            print(
                "kdc bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, sgemm on \(BLAS.threads) cores (row halves, single-threaded OpenBLAS each; OpenBLAS core \(BLAS.coreNote)), MNIST train split \(train.count) samples"
            )
            print("")
            func teacherRow(_ name: String, _ mc: ModelConfig) throws {
                let model = try Model(spec: mc.graph, seed: 1)
                let bs = mc.train.batchSize
                let shapes = TrainingBench.gemmShapes(model, batch: bs)
                let flopsPerStep = shapes.reduce(0) { $0 + $1.flops }
                let roof = TrainingBench.sgemmRate(shapes)
                let rate = try TrainingBench.trainingRate(mc.graph, settings: mc.train, data: train, steps: steps)
                let achieved = flopsPerStep / Double(bs) * rate
                print("\(name): \(model.parameterCount) params, batch \(bs), \(mc.train.optimizer.rawValue)")
                print(
                    String(
                        format: "  training          %10.0f samples/s  = %6.1f GFLOP/s in its matrix products", rate,
                        achieved / 1e9))
                print(
                    String(
                        format: "  sgemm alone       %10.0f samples/s  = %6.1f GFLOP/s on the same shapes (roofline)",
                        roof / (flopsPerStep / Double(bs)), roof / 1e9))
                print(String(format: "  fraction of roofline: %.0f%%", 100 * achieved / roof))
            }
            try teacherRow("MLP teacher (samples/mnist/config.yaml)", mlpCfg.teacher.model!)
            try teacherRow("CNN teacher (samples/mnist/cnn.yaml)", cnnCfg.teacher.model!)
            for (name, mc) in [
                ("MLP student (samples/mnist/config.yaml)", mlpCfg.student!),
                ("CNN student (samples/mnist/cnn.yaml)", cnnCfg.student!),
            ] {
                let model = try Model(spec: mc.graph, seed: 1)
                let full = train.count / mc.train.batchSize
                let plain = try TrainingBench.trainingRate(mc.graph, settings: mc.train, data: train, steps: full)
                // Distillation from cached teacher logits (random logits stand in for the teacher's:
                // the cost of the loss does not depend on their values).
                var rng = SeededRNG(seed: 5)
                let logits = Tensor(shape: [train.count, 10], data: (0..<(train.count * 10)).map { _ in rng.normal() })
                let settings = DistillSettings(
                    temperature: mlpCfg.distill.temperature ?? 4, alpha: mlpCfg.distill.alpha ?? 0.1)
                let distilled = try TrainingBench.trainingRate(mc.graph, settings: mc.train, data: train, steps: full) {
                    out, _, idx in
                    var t = Tensor(shape: [idx.count, 10])
                    for (r, i) in idx.enumerated() { for j in 0..<10 { t.data[r * 10 + j] = logits.data[i * 10 + j] } }
                    return distillationLoss(
                        student: out, teacher: t, labels: idx.map { train.labels[$0] }[...], settings: settings)
                }
                print("\(name): \(model.parameterCount) params, batch \(mc.train.batchSize), \(mc.train.optimizer.rawValue)")
                print(String(format: "  plain training    %10.0f samples/s", plain))
                print(
                    String(
                        format: "  distillation      %10.0f samples/s  (epoch cost %.2fx plain; teacher logits cached)",
                        distilled, plain / distilled))
            }
            print("")
            print(
                "Against Keras on TensorFlow-CPU, side by side in one run: python3 scripts/train-bench.py (docs/BENCHMARKS.md).")
        }
    }

    /// `--model`: plain training rates of the named models, one warm-up pass and `passes` timed ones each.
    func runModels(_ names: [String]) throws {
        for n in names where !Self.modelNames.contains(n) {
            throw ValidationError("--model: unknown model '\(n)'; expected one of \(Self.modelNames.joined(separator: ", "))")
        }
        guard passes >= 1 else { throw ValidationError("--passes must be at least 1, got \(passes)") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let s = studentSteps, s < 1 { throw ValidationError("--student-steps must be at least 1, got \(s)") }
        let toStdout = json == "-"
        func say(_ line: String) {
            if toStdout { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
        }
        let mlpPath = samples + "/config.yaml", cnnPath = samples + "/cnn.yaml"
        let mlpCfg = try KDCConfig.load(path: mlpPath, overrides: ConfigOverrides(data: data))
        let cnnCfg = try KDCConfig.load(path: cnnPath, overrides: ConfigOverrides(data: data))
        let train: Dataset
        do {
            train = try loadData(mlpCfg.data, baseDirectory: mlpCfg.baseDirectory).train
        } catch let e as KDCError {
            throw KDCError.data(
                file: mlpCfg.data.dir,
                message: "MNIST is needed for the benchmark and could not be read (\(e)); hint: pass --data DIR")
        }
        let threading =
            "sgemm above 2^24 multiply-adds split by rows over \(BLAS.threads) cores (single-threaded OpenBLAS each, core \(BLAS.coreNote)); conv kernels and elementwise passes split over up to \(BLAS.threads) cores"
        say(
            "kdc bench training — \(ProcessInfo.processInfo.activeProcessorCount) cores; \(threading); MNIST train split \(train.count) samples"
        )
        var rows: [ModelRates] = []
        for name in names {
            let (path, mc): (String, ModelConfig) =
                switch name {
                case "mlp-teacher": (mlpPath, mlpCfg.teacher.model!)
                case "cnn-teacher": (cnnPath, cnnCfg.teacher.model!)
                case "mlp-student": (mlpPath, mlpCfg.student!)
                default: (cnnPath, cnnCfg.student!)
                }
            var settings = mc.train
            if noAugment { settings.augmentShift = 0 }
            let teacher = name.hasSuffix("teacher")
            let batches = teacher ? steps : (studentSteps ?? train.count / settings.batchSize)
            let rates = try TrainingBench.trainingRates(
                mc.graph, settings: settings, data: train, steps: batches, passes: passes)
            let model = try Model(spec: mc.graph, seed: 1)
            let row = ModelRates(
                model: name, config: path, parameters: model.parameterCount, batchSize: settings.batchSize,
                samples: min(train.count, batches * settings.batchSize), optimizer: settings.optimizer.rawValue,
                augmentShift: settings.augmentShift, samplesPerSecond: rates)
            rows.append(row)
            say(
                "\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(row.samples) samples, batch \(row.batchSize), shifts ±\(row.augmentShift): "
                    + rates.map { String(format: "%.0f", $0) }.joined(separator: ", ") + " samples/s")
        }
        if let path = json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            let out = try enc.encode(
                RatesReport(
                    cores: ProcessInfo.processInfo.activeProcessorCount, sgemmThreads: BLAS.threads, openblasCore: BLAS.coreNote,
                    threading: threading,
                    models: rows))
            if toStdout {
                FileHandle.standardOutput.write(out + Data("\n".utf8))
            } else {
                try writeFileAtomically(out, to: path)
            }
        }
    }
}
