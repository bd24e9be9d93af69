import ArgumentParser
import Foundation
import KDC
import KDCTarget

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (figures, not tests): training throughput, and the C runtime's host latency and instruction count.",
        subcommands: [TrainingBenchCommand.self, RuntimeBenchCommand.self],
        defaultSubcommand: TrainingBenchCommand.self)
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

    func run() throws {
        try runReportingErrors {
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
                "kdc bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, sgemm on \(BLAS.threads) cores (row halves, single-threaded OpenBLAS each), MNIST train split \(train.count) samples"
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
                "Reference (issue #2, this machine kind): Keras on TensorFlow-CPU trains a 784-32-10 MLP at 25,000-30,000 samples/s (Adam, batch 128, 2 threads)."
            )
        }
    }
}
