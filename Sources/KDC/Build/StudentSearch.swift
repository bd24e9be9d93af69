import CZlib
import Crypto
import Foundation

/// What a candidate needs on the device, from the exporter and the memory planner run on its
/// untrained int8 graph (`Pipeline.predictExport`), or measured on the trained one.
public struct Footprint: Codable, Sendable, Equatable {
    /// The stored (uncompressed) artifact: header + raw body. Depends only on the shapes: exact.
    public var storedArtifactBytes: Int
    /// The artifact kept in flash (the C array of `<name>.c` holds the same bytes). Stored:
    /// exact. Compressed (`export.compress`): predicted as the bound `32 + compressBound(raw)`
    /// (zlib's guarantee for `compress2`), since deflate's output depends on the weights' values.
    public var flashBytes: Int
    /// True when `flashBytes` is exact, false when it is a bound.
    public var flashExact: Bool
    /// Activations (the memory planner's arena) and kernel scratch.
    public var arenaBytes: Int
    public var scratchBytes: Int
    /// Arena + scratch as the runtime reserves it (`KernelScratch.arenaTotal`).
    public var arenaTotalBytes: Int
    /// RAM as the budget check counts it: arena total + the unpack buffer (a compressed artifact)
    /// + an input stage's stream buffer. Exact.
    public var ramBytes: Int
    /// Instructions per inference on the firmware target, from the per-kernel model; nil
    /// without a target.
    @NullEncodable public var instructions: Int?
}

/// One student of the searched family.
public struct SearchCandidate: Codable, Sendable {
    /// Short name: family and sizes ("cnn 4-8 max").
    public var name: String
    public var spec: GraphSpec
    public var params: Int
    public var macs: Int
    public var predicted: Footprint
    /// Nil when it fits the budget, else what it exceeds.
    @NullEncodable public var excluded: String?
    /// The runs it had, shortest first.
    public var runs: [CandidateRun] = []
    /// For the finalists (the last round): measured on the trained int8 student.
    @NullEncodable public var measured: Footprint? = nil
    @NullEncodable public var int8TestAccuracy: Double? = nil

    /// The longest run (the figures that rank it).
    public var last: CandidateRun? { runs.last }
    /// Seconds spent training it over every run.
    public var trainSeconds: Double { runs.reduce(0) { $0 + $1.seconds } }
}

/// One distillation run of a candidate in a round.
public struct CandidateRun: Codable, Sendable, Equatable {
    /// 1-based.
    public var round: Int
    public var epochs: Int
    public var validationAccuracy: Double
    public var validationLoss: Double
    /// Float test accuracy of the run's model.
    public var testAccuracy: Double
    public var seconds: Double
    /// Went on to the next round (in the last round: chosen).
    public var kept: Bool
}

/// `report.json` → `student_search`, and the search's state file (`OUT/search/state.json`).
public struct StudentSearchReport: Codable, Sendable {
    public var family: StudentFamily
    /// Hash of everything the search depends on; a state file with another one is not resumed.
    public var fingerprint: String
    public var seed: UInt64
    @NullEncodable public var flashBudgetBytes: Int?
    @NullEncodable public var ramBudgetBytes: Int?
    @NullEncodable public var instructionBudget: Int?
    public var compress: Bool
    /// The distillation setting of the search's runs.
    public var temperature: Float
    public var alpha: Float
    public var timeMinutes: Double
    /// The plan's cost under the fixed cost model, and the measured time (this run and
    /// earlier, resumed ones).
    public var plannedSeconds: Double
    public var seconds: Double
    public var rounds: [HalvingPlan.Round]
    /// How the standard plan was shortened to fit the time; nil when it was not.
    @NullEncodable public var cut: String?
    public var candidates: [SearchCandidate]
    /// Index into `candidates`; nil until the last round finished.
    @NullEncodable public var chosen: Int?
    /// Runs taken from the state file instead of trained again.
    public var resumedRuns: Int = 0
    /// The chosen student as `kdc build` exported it (after the full schedule).
    @NullEncodable public var built: Footprint? = nil

    /// The candidates that fit the budget, in enumeration order.
    public var fitting: [Int] { candidates.indices.filter { candidates[$0].excluded == nil } }

    /// Indices of the Pareto front (accuracy of the longest run against flash): no other candidate
    /// is at least as small and more accurate.
    public var pareto: [Int] {
        let run = fitting.filter { candidates[$0].last != nil }
        func acc(_ i: Int) -> Double { candidates[i].int8TestAccuracy ?? candidates[i].last!.testAccuracy }
        return run.filter { i in
            !run.contains { j in
                j != i && candidates[j].predicted.flashBytes <= candidates[i].predicted.flashBytes && acc(j) > acc(i)
            }
        }.sorted { candidates[$0].predicted.flashBytes < candidates[$1].predicted.flashBytes }
    }
}

/// The result of `Pipeline.searchStudent`.
public struct StudentSearchResult {
    public var report: StudentSearchReport
    /// The config with the chosen student as `student` (and the search's trained teacher as a
    /// checkpoint): what `kdc build` builds.
    public var config: KDCConfig
    public var chosen: SearchCandidate { report.candidates[report.chosen!] }
}

/// Enumerates the students of a family (docs/SEARCH.md).
public enum StudentEnumerator {
    /// The most candidates one search enumerates.
    public static let maxCandidates = 400

    /// Every student of `s` for samples of `shape` and `classes` outputs, in a fixed order
    /// (depth, then sizes ascending, then pooling as listed). Throws `KDCError.config` for a
    /// family the input shape cannot take or a space over `maxCandidates`.
    public static func candidates(_ s: StudentSearchConfig, shape: [Int], classes: Int, file: String) throws -> [(
        name: String, spec: GraphSpec
    )] {
        var out: [(String, GraphSpec)] = []
        switch s.family {
        case .mlp:
            for d in s.depths {
                for w in tuples(s.widths, length: d, rising: false) {
                    let ops: [Op] = [.flatten] + w.flatMap { [Op.dense(units: $0), .relu] } + [.dense(units: classes)]
                    out.append(("mlp " + w.map(String.init).joined(separator: "-"), .sequential(inputShape: shape, ops)))
                }
            }
        case .cnn, .dscnn:
            guard shape.count == 3 else {
                throw KDCError.config(
                    file: file, key: "student.search.family",
                    message:
                        "\(s.family.rawValue) needs image-like samples [H, W, C]; the data's samples are \(shape); hint: use family mlp"
                )
            }
            let k = Size2(s.kernel, s.kernel)
            for d in s.depths {
                for c in tuples(s.channels, length: d, rising: true) {
                    for p in s.pooling {
                        var ops: [Op] = []
                        var (h, w) = (shape[0], shape[1])
                        func pool() {
                            guard p != .none, h >= 2, w >= 2 else { return }
                            let two = Size2(2, 2)
                            ops.append(
                                p == .max
                                    ? .maxPool2d(pool: two, stride: two, padding: .valid)
                                    : .avgPool2d(pool: two, stride: two, padding: .valid))
                            (h, w) = (h / 2, w / 2)
                        }
                        for (i, ch) in c.enumerated() {
                            if s.family == .cnn || i == 0 {
                                ops += [.conv2d(filters: ch, kernel: k, stride: Size2(1, 1), padding: .same), .relu]
                            } else {
                                ops += [
                                    .depthwiseConv2d(kernel: k, stride: Size2(1, 1), padding: .same, multiplier: 1), .relu,
                                    .conv2d(filters: ch, kernel: Size2(1, 1), stride: Size2(1, 1), padding: .same), .relu,
                                ]
                            }
                            pool()
                        }
                        ops += [.flatten, .dense(units: classes)]
                        let name = "\(s.family.rawValue) " + c.map(String.init).joined(separator: "-") + " \(p.rawValue)"
                        out.append((name, .sequential(inputShape: shape, ops)))
                    }
                }
            }
        }
        guard out.count <= maxCandidates else {
            throw KDCError.config(
                file: file, key: "student.search",
                message:
                    "enumerates \(out.count) students, more than \(maxCandidates); hint: list fewer widths, channels, depths or pooling choices"
            )
        }
        return out
    }

    /// Every tuple of `length` values from `values` (sorted ascending) that never falls
    /// (`rising`) or never rises; in lexicographic order.
    static func tuples(_ values: [Int], length: Int, rising: Bool) -> [[Int]] {
        guard length > 0 else { return [[]] }
        var out: [[Int]] = []
        func go(_ prefix: [Int]) {
            if prefix.count == length {
                out.append(prefix)
                return
            }
            for v in values {
                if let l = prefix.last, rising ? v < l : v > l { continue }
                go(prefix + [v])
            }
        }
        go([])
        return out
    }
}

/// zlib's `compressBound`: the most bytes `compress2` writes for `n` input bytes.
func zlibBound(_ n: Int) -> Int { Int(compressBound(uLong(n))) }

extension Pipeline {
    /// The export of the untrained student `spec`, quantized with a calibration of random
    /// inputs: the stored artifact, its arena plan and its scratch depend only on the shapes, so
    /// they are what the trained student's export gives. `compressed` is set as the config says
    /// (for the RAM figure: the unpack buffer is the stored artifact); `main` is the stored one.
    public func predictExport(_ spec: GraphSpec) throws -> PreparedExport {
        var e = try prepareExport(predictGraph(spec), normalization: .identity, name: config.export.name, compress: false)
        e.compressed = config.export.compress  // RAM: the unpack buffer is the stored artifact's size
        return e
    }

    /// The untrained student `spec` as an int8 graph (random calibration inputs), as the build
    /// would quantize it: its arithmetic and input stage as the config says.
    public func predictGraph(_ spec: GraphSpec) throws -> Graph {
        let model = try Model(spec: spec, seed: config.seed)
        var rng = SeededRNG(seed: 0, stream: "preflight")
        let n = 8, k = spec.inputShape.reduce(1, *)
        let calib = Dataset(
            name: "preflight", sampleShape: spec.inputShape, x: (0..<(n * k)).map { _ in rng.normal() },
            labels: [Int32](repeating: 0, count: n), numClasses: model.outputShape.reduce(1, *))
        // An audio front end fixes the input's quantization, as in the build (QuantizeStage).
        let fe = try config.frontend.map { try AudioFrontEnd($0) }
        var graph = try KDC.quantize(
            model.floatGraph, calibration: calib,
            inputQuant: fe.map { (scale: $0.outputScale, zeroPoint: Int32($0.outputZeroPoint)) })
        if config.export.tflite { graph = try graph.tfliteArithmetic() }
        // The stream buffer of an audio front end counts against the RAM too. (A series'
        // sensor stage adds only its ring, which is the input's size: set as well.)
        if let fc = config.frontend {
            graph.inputStage = .audio(fc)
        } else if case let .series(s) = config.data.train {
            let c = s.channels
            graph.inputStage = .sensor(
                SensorNormalization(mean: .init(repeating: 0, count: c), std: .init(repeating: 1, count: c)))
        }
        return graph
    }

    /// A candidate's footprint from its (predicted or trained) export.
    func footprint(_ e: PreparedExport, exactFlash: Int? = nil) -> Footprint {
        let stored = e.stored.count
        let flash = exactFlash ?? (config.export.compress ? 32 + zlibBound(stored - 32) : stored)
        return Footprint(
            storedArtifactBytes: stored, flashBytes: flash, flashExact: exactFlash != nil || !config.export.compress,
            arenaBytes: e.plan.arenaBytes, scratchBytes: e.plan.scratchBytes, arenaTotalBytes: e.plan.arenaTotalBytes,
            ramBytes: e.ramBytes, instructions: nil)
    }

    /// What of the budget `f` exceeds (flash, RAM, instructions); nil when it fits.
    func exceeds(_ f: Footprint) -> String? {
        guard let b = config.budget else { return nil }
        var out: [String] = []
        if let x = b.flashBytes, f.flashBytes > x {
            out.append("flash \(f.flashBytes)\(f.flashExact ? "" : " (bound)") > \(x)")
        }
        if let x = b.ramBytes, f.ramBytes > x { out.append("RAM \(f.ramBytes) > \(x)") }
        if let x = b.instructionLimit, let i = f.instructions, i > x { out.append("instructions \(i) > \(x)") }
        return out.isEmpty ? nil : out.joined(separator: ", ")
    }

    /// The search's folder: its state file and its teacher.
    public var searchDir: String { outDir + "/search" }
    static let stateFile = "state.json"

    /// Seconds a candidate's epoch is expected to take on the training split, from a fixed model
    /// (so the plan does not depend on the machine's load): per sample, a cost per layer, per MAC
    /// and per parameter (forward and backward), plus a cost per layer and epoch (validation,
    /// small batches). Rough constants for this machine kind (2 cores, AVX-512) after the direct
    /// convolution kernels (docs/BENCHMARKS.md, "Training"), with room for a moderately loaded
    /// machine: about 1.5× the quiet-machine time of the MNIST CNN student (1.3 s per epoch of
    /// 54,000 samples) and of the digits runs of docs/SEARCH.md; the measured times are reported
    /// next to the plan.
    public static func costSeconds(macs: Int, params: Int, layers: Int, samples: Int) -> Double {
        Double(samples) * (2.5e-6 * Double(layers) + 4.5e-11 * Double(macs) + 5.0e-12 * Double(params))
            + 0.02 * Double(layers)
    }

    /// The halving plan for `costs` (seconds per epoch of each fitting candidate) within
    /// `seconds`: the standard plan (`HalvingPlan.plan`), its epochs scaled down (each run at
    /// least one epoch) until its cost — the later rounds charged at their costliest
    /// candidates — fits. Throws when one-epoch runs do not fit either.
    static func candidatePlan(costs: [Double], fullEpochs: Int, seconds: Double, file: String) throws -> (
        plan: HalvingPlan, cost: Double
    ) {
        var plan = try HalvingPlan.plan(settings: costs.count, fullEpochs: fullEpochs, maxEpochs: nil)
        let sorted = costs.sorted(by: >)
        func cost(_ p: HalvingPlan) -> Double {
            p.rounds.enumerated().reduce(0) { acc, r in
                acc + Double(r.element.epochs)
                    * (r.offset == 0 ? costs.reduce(0, +) : sorted.prefix(r.element.settings).reduce(0, +))
            }
        }
        let full = cost(plan)
        guard full > seconds else { return (plan, full) }
        let standard = plan
        var lo = 0.0, hi = 1.0
        for _ in 0..<40 {
            let f = (lo + hi) / 2
            var p = standard
            for i in p.rounds.indices { p.rounds[i].epochs = max(1, Int(Double(standard.rounds[i].epochs) * f)) }
            if cost(p) <= seconds { lo = f } else { hi = f }
        }
        for i in plan.rounds.indices { plan.rounds[i].epochs = max(1, Int(Double(standard.rounds[i].epochs) * lo)) }
        guard cost(plan) <= seconds else {
            throw KDCError.config(
                file: file, key: "student.search.time_minutes",
                message: String(
                    format:
                        "%.1f minutes cannot pay for one epoch of each of the %d fitting candidates (about %.1f minutes by the cost model); hint: raise time_minutes (--time) or narrow the search",
                    seconds / 60, costs.count, cost(plan) / 60))
        }
        let was = standard.rounds.map { "\($0.settings)×\($0.epochs)" }.joined(separator: " + ")
        let now = plan.rounds.map { "\($0.settings)×\($0.epochs)" }.joined(separator: " + ")
        plan.cut = String(
            format: "the standard plan (%@ epochs, about %.1f min) is over the %.1f minutes: its runs were shortened to %@",
            was, full / 60, seconds / 60, now)
        return (plan, cost(plan))
    }

    /// The fingerprint of what decides the search's outcome: the config as `kdc config` prints it
    /// (data, teacher, student search, distillation, budget, export) and the search seed and time.
    func searchFingerprint(_ s: StudentSearchConfig, seed: UInt64) -> String {
        var text = config.yaml()
        text += "\nsearch seed \(seed) minutes \(s.timeMinutes) kdc \(kdcVersionString)\n"
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `kdc search`: enumerates the family's students, predicts each one's flash, RAM (and
    /// instructions) from its untrained int8 export, drops those over the budget, and ranks the
    /// rest by successive halving of short distillation runs on the validation split within the
    /// time budget. Deterministic for the seed; resumable: every finished run is written to
    /// `OUT/search/state.json` and a rerun with the same config skips it.
    public func searchStudent() throws -> StudentSearchResult {
        guard let s = config.studentSearch else {
            throw KDCError.config(file: config.file, key: "student.search", message: "the config has no student search section")
        }
        let seed = s.seed ?? config.seed
        if config.budget?.instructionLimit != nil {
            guard let board = config.export.firmware else {
                throw KDCError.config(
                    file: config.file, key: "budget.latency_instructions",
                    message:
                        "a latency budget needs the firmware target it is counted on; hint: pass --firmware BOARD or set export.firmware"
                )
            }
            guard InstructionModel.coefficients[board.name] != nil else {
                throw KDCError.config(
                    file: config.file, key: "export.firmware",
                    message: "kdc has no instruction model for \(board.name) (fitted: "
                        + InstructionModel.coefficients.keys.sorted().joined(separator: ", ")
                        + "); hint: use one of those boards for a latency budget")
            }
        }
        let fingerprint = searchFingerprint(s, seed: seed)
        try ensureDirectory(searchDir)
        let statePath = searchDir + "/" + Pipeline.stateFile
        var previous: StudentSearchReport? = nil
        if let d = FileManager.default.contents(atPath: statePath) {
            if let st = try? StudentSearchReport.fromState(d), st.fingerprint == fingerprint {
                previous = st
            } else {
                stage("search", detail: "\(statePath) is from another config or seed: starting over")
            }
        }
        let data = try loadData()
        let shape = data.train.sampleShape, classes = data.train.numClasses
        let list = try StudentEnumerator.candidates(s, shape: shape, classes: classes, file: config.file)
        stage(
            "search", detail: "\(list.count) \(s.family.rawValue) students enumerated; predicting flash and RAM before training")
        var candidates: [SearchCandidate] = []
        for (name, spec) in list {
            let model = try Model(spec: spec, seed: seed)
            let graph = try predictGraph(spec)
            var e = try prepareExport(graph, normalization: .identity, name: config.export.name, compress: false)
            e.compressed = config.export.compress
            var f = footprint(e)
            if let board = config.export.firmware { f.instructions = InstructionModel.predict(graph, board: board) }
            candidates.append(
                SearchCandidate(
                    name: name, spec: spec, params: model.parameterCount, macs: model.macs, predicted: f, excluded: nil))
            candidates[candidates.count - 1].excluded = exceeds(f)
        }
        let fit = candidates.indices.filter { candidates[$0].excluded == nil }
        guard !fit.isEmpty else {
            let smallest = candidates.min { $0.predicted.flashBytes < $1.predicted.flashBytes }!
            throw KDCError.budget(
                message:
                    "none of the \(candidates.count) \(s.family.rawValue) students fits the budget (the smallest, \(smallest.name), needs "
                    + "flash \(smallest.predicted.flashBytes) B, RAM \(smallest.predicted.ramBytes) B); hint: list smaller widths or channels, or raise budget in \(config.file)"
            )
        }
        let costs = fit.map {
            Pipeline.costSeconds(
                macs: candidates[$0].macs, params: candidates[$0].params, layers: candidates[$0].spec.nodes.count,
                samples: data.train.count)
        }
        let (plan, planned) = try Pipeline.candidatePlan(
            costs: costs, fullEpochs: s.train.epochs, seconds: s.timeMinutes * 60, file: config.file)
        if let p = previous, p.rounds != plan.rounds || p.candidates.map(\.name) != candidates.map(\.name) {
            stage("search", detail: "\(statePath) has another plan or other candidates: starting over")
            previous = nil
        }
        let setting = DistillSetting(temperature: config.distill.temperature ?? 4, alpha: config.distill.alpha ?? 0.5)
        var report = StudentSearchReport(
            family: s.family, fingerprint: fingerprint, seed: seed, flashBudgetBytes: config.budget?.flashBytes,
            ramBudgetBytes: config.budget?.ramBytes, instructionBudget: config.budget?.instructionLimit,
            compress: config.export.compress, temperature: setting.temperature, alpha: setting.alpha,
            timeMinutes: s.timeMinutes, plannedSeconds: planned, seconds: previous?.seconds ?? 0, rounds: plan.rounds,
            cut: plan.cut, candidates: candidates, chosen: nil)
        let rounds = plan.rounds.map { "\($0.settings) × \($0.epochs)" }.joined(separator: ", then ")
        stage(
            "search",
            detail: "\(fit.count) of \(candidates.count) fit the budget; successive halving: \(rounds) epochs, "
                + "planned \(fmtSeconds(planned)) of \(fmtSeconds(s.timeMinutes * 60))"
                + (plan.cut.map { " (\($0))" } ?? "") + (previous == nil ? "" : "; resuming from \(statePath)"))

        // The teacher: trained once and kept in the search folder, so a rerun loads it.
        let transfer = try transferSet(data)
        let teacherPath = searchDir + "/teacher.safetensors"
        var searchConfig = config
        let source: TeacherSource
        if config.teacher.model != nil, previous != nil, FileManager.default.fileExists(atPath: teacherPath) {
            stage("teacher", detail: "loading the search's teacher \(teacherPath)")
            source = .model(try Checkpoint.load(teacherPath).model)
        } else {
            let (loaded, trained, _) = try teacher(data: data, transfer: transfer)
            if let t = trained, config.teacher.model != nil {
                try Checkpoint.save(t.model, normalization: data.normalization, to: teacherPath)
            }
            source = loaded
        }
        if config.teacher.model != nil {
            searchConfig.teacher = TeacherConfig(checkpoint: teacherPath, minAgreement: config.teacher.minAgreement)
        }
        let augment = (s.train.augmentShift > 0 && transfer.sampleShape.count == 3) || config.distill.mixup > 0
        var runSource = source
        if !augment, case let .model(m) = source { runSource = .logits(predictLogits(m, on: transfer)) }

        let start = Date()
        let before = report.seconds
        func save() throws {
            report.seconds = before + Date().timeIntervalSince(start)
            try writeFileAtomically(try report.stateJSON(), to: statePath)
        }
        var alive = fit
        for (r, round) in plan.rounds.enumerated() {
            let last = r == plan.rounds.count - 1
            for (k, i) in alive.enumerated() {
                if let old = previous?.candidates[i].runs.first(where: { $0.round == r + 1 }),
                    !last || previous?.candidates[i].measured != nil
                {
                    report.candidates[i].runs.append(old)
                    if last {
                        report.candidates[i].measured = previous!.candidates[i].measured
                        report.candidates[i].int8TestAccuracy = previous!.candidates[i].int8TestAccuracy
                    }
                    report.resumedRuns += 1
                    continue
                }
                let t0 = Date()
                var mc = ModelConfig(graph: candidates[i].spec, train: s.train)
                mc.train.epochs = round.epochs
                mc.train.warmupEpochs = min(mc.train.warmupEpochs, round.epochs - 1)
                let m = try distill(
                    mc, setting: setting, teacher: runSource, transfer: transfer, data: data, seed: seed, quiet: true)
                let run = CandidateRun(
                    round: r + 1, epochs: round.epochs, validationAccuracy: m.report.validationAccuracy ?? 0,
                    validationLoss: m.report.validationLoss ?? .infinity, testAccuracy: m.report.floatAccuracy ?? 0,
                    seconds: Date().timeIntervalSince(t0), kept: false)
                report.candidates[i].runs.append(run)
                if last {
                    // A finalist: quantized with the real calibration and exported in memory.
                    let q = try quantize(m.model, data: data)
                    let e = try prepareExport(
                        q.graph, normalization: data.normalization, name: config.export.name,
                        compress: config.export.compress)
                    var measured = footprint(e, exactFlash: e.bytes)
                    if let board = config.export.firmware {
                        let inputs = Array(q.graph.quantizedInputs(data.test).prefix(1))
                        let run = try withKDCErrors {
                            try DeviceRun.run(
                                artifact: e.stored, inputs: inputs, expected: Array(q.testOutputs.prefix(1)), board: board,
                                modes: [.stored], name: config.export.name)
                        }
                        measured.instructions = run.firmware.first?.instructionsPerInference
                    }
                    report.candidates[i].measured = measured
                    report.candidates[i].int8TestAccuracy = q.report.int8Accuracy
                }
                try save()
                stage(
                    "search",
                    detail: "round \(r + 1)/\(plan.rounds.count), \(k + 1)/\(round.settings): \(candidates[i].name) "
                        + "(flash \(candidates[i].predicted.flashBytes) B, RAM \(candidates[i].predicted.ramBytes) B), "
                        + "\(round.epochs) epoch\(round.epochs == 1 ? "" : "s"): validation \(fmtPct(run.validationAccuracy))"
                        + (last ? ", int8 test \(fmtPct(report.candidates[i].int8TestAccuracy))" : "")
                        + " (\(fmtSeconds(run.seconds)))")
            }
            let score = { (i: Int) -> ValidationScore in
                let run = report.candidates[i].runs.last!
                return ValidationScore(accuracy: run.validationAccuracy, loss: run.validationLoss)
            }
            let ranked = alive.sorted { a, b in score(a).beats(score(b)) || (!score(b).beats(score(a)) && a < b) }
            let keep = last ? 1 : plan.rounds[r + 1].settings
            let kept = Set(ranked.prefix(keep))
            for i in alive { report.candidates[i].runs[report.candidates[i].runs.count - 1].kept = kept.contains(i) }
            alive = alive.filter { kept.contains($0) }
            if last { report.chosen = ranked[0] }
        }
        try save()
        let chosen = report.candidates[report.chosen!]
        stage(
            "search",
            detail: "chose \(chosen.name): flash \(chosen.predicted.flashBytes) B, RAM \(chosen.predicted.ramBytes) B, "
                + "validation \(fmtPct(chosen.last?.validationAccuracy)), int8 test \(fmtPct(chosen.int8TestAccuracy)) "
                + "(search \(fmtSeconds(report.seconds)), \(report.resumedRuns) runs resumed)")
        searchConfig.student = ModelConfig(graph: chosen.spec, train: s.train)
        return StudentSearchResult(report: report, config: searchConfig)
    }
}

extension StudentSearchReport {
    /// The candidate table: predicted (and measured) flash and RAM, accuracy and time; `*`
    /// marks the chosen one, `-` the ones over budget.
    public var table: String {
        var s = "candidate              params   flash B   RAM B  val acc  test acc  int8 acc  epochs  train s\n"
        for (i, c) in candidates.enumerated() {
            let mark = i == chosen ? "*" : c.excluded != nil ? "-" : " "
            s += (mark + c.name).padding(toLength: 21, withPad: " ", startingAt: 0)
            s += rpad(String(c.params), 8) + rpad(String(c.predicted.flashBytes) + (c.predicted.flashExact ? "" : "≤"), 10)
            s += rpad(String(c.predicted.ramBytes), 8)
            s += rpad(fmtPct(c.last?.validationAccuracy), 9) + rpad(fmtPct(c.last?.testAccuracy), 10)
            s += rpad(fmtPct(c.int8TestAccuracy), 10) + rpad(c.last.map { String($0.epochs) } ?? "—", 8)
            s += rpad(c.runs.isEmpty ? "—" : String(format: "%.1f", c.trainSeconds), 9)
            s += c.excluded.map { "  over: \($0)" } ?? ""
            s += "\n"
        }
        return s
    }
}

extension StudentSearchReport {
    /// The state file's bytes: `report.json`'s encoding (snake-case keys, sorted).
    public func stateJSON() throws -> Data {
        let enc = JSONEncoder()
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try enc.encode(self)
    }

    /// Reads a state file written by `stateJSON`.
    public static func fromState(_ data: Data) throws -> StudentSearchReport {
        // The key mapping `kdc report` reads report.json with (op names such as max_pool2d are
        // already snake case and must not be converted).
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .custom { path in ReportPage.ReportKey(snake: path.last?.stringValue ?? "") }
        return try dec.decode(StudentSearchReport.self, from: data)
    }
}
