import Foundation

/// A trained (or loaded) float model with its figures.
public struct TrainedModel {
    public var model: Model
    public var report: ModelReport
    public var history: [EpochStats]
    public var testLogits: Tensor?
    /// A teacher's logits on the transfer rows (computed once for its check, reused for training).
    public var transferLogits: Tensor? = nil
}

/// Receives the pipeline's stage changes and training progress (the CLI prints them).
public protocol PipelineObserver: TrainingObserver {
    func stage(_ name: String, detail: String)
}

/// The stages of `kdc build`, each callable on its own: data → teacher → student (distilled,
/// and optionally a hard-label baseline) → … Later stages (quantize, export, check) extend it.
public final class Pipeline {
    public let config: KDCConfig
    public let outDir: String
    public weak var observer: PipelineObserver?
    /// The output set being written (`staged`, `build`): files go to its staging folder.
    public internal(set) var transaction: OutputTransaction?
    /// The student search that chose `config.student` (`kdc build` on a `student.search` config).
    public var studentSearch: StudentSearchReport?

    public init(config: KDCConfig, outDir: String, observer: PipelineObserver? = nil) {
        self.config = config
        self.outDir = outDir
        self.observer = observer
    }

    /// Creates the output folder and checks that it can be written, before any long work.
    public func prepareOutput() throws {
        try ensureDirectory(outDir)
        // A folder made and removed: no temporary file a kill could leave behind.
        let probe = outDir + "/.kdc-write-test-\(getpid())"
        guard mkdir(probe, 0o755) == 0 else {
            throw KDCError.io(path: outDir, message: "the output folder is not writable; hint: pass another --out")
        }
        rmdir(probe)
    }

    /// Where output files are written now: the open transaction's staging folder, else the
    /// output folder itself.
    public var writeDir: String { transaction?.stagingDir ?? outDir }

    /// Runs `body` with every output file staged (`OutputTransaction`): on success the set is
    /// committed with `report` (a file `body` wrote into `writeDir`) moved last; on an error
    /// nothing of it reaches the output folder.
    public func staged<T>(report: String, _ body: () throws -> T) throws -> T {
        let txn = try open()
        defer { close(txn) }
        let result = try body()
        try txn.commit(report: report)
        return result
    }

    /// Opens a transaction for this pipeline's outputs.
    func open() throws -> OutputTransaction {
        let txn = try OutputTransaction(outDir: outDir)
        transaction = txn
        return txn
    }

    /// Ends `txn`: aborted unless it was committed or moved to `failed/`.
    func close(_ txn: OutputTransaction) {
        txn.abort()
        transaction = nil
    }

    /// Announces a stage to the observer (and to the interruption test's fault hook).
    func stage(_ name: String, detail: String) {
        FaultInjection.point("stage.\(name)")
        observer?.stage(name, detail: detail)
    }

    /// Loads and splits the data, normalizing with statistics of the training split.
    public func loadData() throws -> DataSplits {
        stage("data", detail: "\(config.data.format) data from \(config.data.dir)")
        if case .audio = config.data.train {
            guard let fc = config.frontend else {
                throw KDCError.config(file: config.file, key: "frontend", message: "data.format audio needs a frontend: section")
            }
            return try loadRecordings(config.data, frontEnd: try AudioFrontEnd(fc), configFile: config.file)
        }
        return try KDC.loadData(config.data, baseDirectory: config.baseDirectory)
    }

    /// The transfer set distillation trains on: the training split, or the `distill.transfer`
    /// source normalized like the training split (`kdc data` writes the same samples).
    public func transferSet(_ data: DataSplits) throws -> Dataset {
        guard let src = config.distill.transfer else { return data.train }
        return try loadTransfer(
            src, like: config.data, normalization: data.normalization, baseDirectory: config.baseDirectory,
            classNames: data.classNames)
    }

    /// Background value after normalization, used to fill pixels uncovered by shifts.
    func augmentFill(_ data: DataSplits) -> [Float] {
        zip(data.normalization.mean, data.normalization.std).map { (0 - $0) / $1 }
    }

    /// Builds the model of `mc`, checking its input and output against the data.
    func makeModel(_ mc: ModelConfig, role: ModelRole, data: DataSplits, seed: UInt64) throws -> Model {
        let key = role.configKey + ".layers"
        let model: Model
        do { model = try Model(spec: mc.graph, seed: seed) } catch let KDCError.graph(layer, message) {
            throw KDCError.config(file: config.file, key: key, message: "layer '\(layer)': \(message)")
        }
        let outputs = model.outputShape.reduce(1, *)
        guard outputs == data.train.numClasses else {
            throw KDCError.config(
                file: config.file, key: key,
                message:
                    "the last layer gives \(outputs) outputs \(model.outputShape) but the data has \(data.train.numClasses) classes; hint: end with {op: dense, units: \(data.train.numClasses)}"
            )
        }
        return model
    }

    /// Trains a model from its config on the training split; evaluates on validation and test.
    public func train(_ mc: ModelConfig, role: ModelRole, data: DataSplits, seed: UInt64) throws -> TrainedModel {
        let model = try makeModel(mc, role: role, data: data, seed: seed)
        stage(
            role.rawValue, detail: "training: \(model.parameterCount) parameters, \(model.macs) MACs, \(mc.train.epochs) epochs")
        let trainer = Trainer(model: model, settings: mc.train, seed: seed)
        trainer.observer = observer
        let history = try trainer.fit(
            train: data.train, validation: data.validation.count > 0 ? data.validation : nil,
            augmentFill: augmentFill(data))
        return finish(model, role: role, history: history, data: data)
    }

    /// Trains `mc` by distillation from `teacher` on the transfer set (the training split by
    /// default) with `setting`, for `epochs` (default: the recipe's); `quiet`: no progress.
    public func distill(
        _ mc: ModelConfig, setting: DistillSetting, teacher: TeacherSource, transfer: Dataset, data: DataSplits, seed: UInt64,
        epochs: Int? = nil, quiet: Bool = false
    ) throws -> TrainedModel {
        let model = try makeModel(mc, role: .student, data: data, seed: seed)
        var recipe = mc.train
        if let e = epochs { recipe.epochs = e }
        if !quiet {
            stage(
                "student",
                detail: "distilling: \(model.parameterCount) parameters, \(model.macs) MACs, "
                    + "T = \(fmtNumber(setting.temperature)), alpha = \(fmtNumber(setting.alpha)), transfer set \(transfer.name) (\(transfer.count) samples)"
            )
        }
        let history = try KDC.distill(
            student: model, teacher: teacher, transfer: transfer,
            validation: data.validation.count > 0 ? data.validation : nil, train: recipe,
            distill: DistillSettings(temperature: setting.temperature, alpha: setting.alpha, mixup: config.distill.mixup),
            seed: seed, augmentFill: augmentFill(data), observer: quiet ? nil : observer)
        return finish(model, role: .student, history: history, data: data)
    }

    private func finish(_ model: Model, role: ModelRole, history: [EpochStats], data: DataSplits) -> TrainedModel {
        var r = ModelReport(params: model.parameterCount, macs: model.macs, epochs: history.count)
        let test = data.test.count > 0 ? evaluate(model, on: data.test) : nil
        r.floatAccuracy = test?.accuracy
        if data.validation.count > 0 {
            let v = evaluate(model, on: data.validation)
            r.validationAccuracy = v.accuracy
            r.validationLoss = Double(softmaxCrossEntropy(v.logits, labels: data.validation.labels[...]).loss)
        }
        if !history.isEmpty {
            r.secondsPerEpoch = history.map(\.seconds).reduce(0, +) / Double(history.count)
            r.samplesPerSecond = history.map(\.samplesPerSecond).reduce(0, +) / Double(history.count)
            r.history = history
        }
        return TrainedModel(model: model, report: r, history: history, testLogits: test?.logits)
    }

    /// The teacher: trained here, loaded from a checkpoint, or logits from a file; and its
    /// check against the labels of the transfer rows (`checkTeacherAgreement`), which stops a
    /// checkpoint or logits file that agrees too little (`teacher.min_agreement`; the automatic
    /// rule uses `baselineValidation`, the hard-label baseline's validation accuracy, when given).
    public func teacher(data: DataSplits, transfer: Dataset, baselineValidation: Double? = nil) throws -> (
        source: TeacherSource, trained: TrainedModel?, check: TeacherCheck
    ) {
        let tc = config.teacher
        if let path = tc.checkpoint {
            stage("teacher", detail: "loading \(path)")
            let (model, norm) = try Checkpoint.load(path)
            guard norm == data.normalization else {
                throw KDCError.format(
                    file: path,
                    message:
                        "the checkpoint's input normalization \(norm) differs from the data's \(data.normalization); hint: use the same data.normalize setting as when it was trained"
                )
            }
            guard model.spec.inputShape == data.train.sampleShape else {
                throw KDCError.format(
                    file: path,
                    message: "the checkpoint takes inputs \(model.spec.inputShape), the data has \(data.train.sampleShape)")
            }
            guard model.outputShape.reduce(1, *) == data.train.numClasses else {
                throw KDCError.format(
                    file: path,
                    message:
                        "the checkpoint gives \(model.outputShape.reduce(1, *)) outputs, the data has \(data.train.numClasses) classes"
                )
            }
            var t = finish(model, role: .teacher, history: [], data: data)
            t.transferLogits = predictLogits(model, on: transfer)
            let check = try checkTeacherAgreement(
                t.transferLogits!, labels: transfer.labels, source: "checkpoint", file: path,
                minAgreement: tc.minAgreement, baselineValidation: baselineValidation, enforce: true)
            t.report.transferAccuracy = check.agreement
            return (.model(model), t, check)
        }
        if let path = tc.tflite {
            stage("teacher", detail: "float TensorFlow Lite model \(path)")
            let g = try GraphTeacher.load(
                tflite: path, sampleShape: data.train.sampleShape, classes: data.train.numClasses)
            let logits = g.logits(on: transfer)
            let check = try checkTeacherAgreement(
                logits, labels: transfer.labels, source: "tflite", file: path, minAgreement: tc.minAgreement,
                baselineValidation: baselineValidation, enforce: true, probabilitiesConverted: g.givesProbabilities)
            return (.graph(g, transferLogits: logits), nil, check)
        }
        if let path = tc.logits {
            stage("teacher", detail: "logits from \(path)")
            var logits = try alignTeacherLogits(path, transfer: transfer, classes: data.train.numClasses)
            // Right after the rows are lined up with the transfer set: probabilities → log, then the check.
            let converted = logitsFromProbabilities(logits)
            if let c = converted { logits = c }
            let check = try checkTeacherAgreement(
                logits, labels: transfer.labels, source: "logits", file: path, minAgreement: tc.minAgreement,
                baselineValidation: baselineValidation, enforce: true, probabilitiesConverted: converted != nil)
            return (.logits(logits), nil, check)
        }
        guard let mc = tc.model else {
            throw KDCError.config(
                file: config.file, key: "teacher", message: "needs one of layers, checkpoint, logits or tflite")
        }
        var t = try train(mc, role: .teacher, data: data, seed: config.seed)
        t.transferLogits = predictLogits(t.model, on: transfer)
        let check = try checkTeacherAgreement(
            t.transferLogits!, labels: transfer.labels, source: "trained", file: config.file,
            minAgreement: tc.minAgreement, baselineValidation: baselineValidation, enforce: tc.minAgreement != nil)
        t.report.transferAccuracy = check.agreement
        return (.model(t.model), t, check)
    }

    /// The figures of a `.tflite` teacher: parameters, MACs, test accuracy (float, as kdc runs
    /// it) and its agreement on the transfer rows.
    func graphTeacherReport(_ g: GraphTeacher, data: DataSplits, check: TeacherCheck) -> ModelReport {
        var r = ModelReport(params: g.parameterCount, macs: g.graph.macs, epochs: 0)
        if data.test.count > 0 { r.floatAccuracy = accuracy(g.logits(on: data.test), labels: data.test.labels) }
        r.transferAccuracy = check.agreement
        return r
    }

    /// Saves a float checkpoint into the output set (the staging folder while a transaction is
    /// open); returns the path it has in the output folder.
    public func saveCheckpoint(_ model: Model, name: String, normalization: Normalization) throws -> String {
        let file = name + ".safetensors"
        try Checkpoint.save(model, normalization: normalization, to: writeDir + "/" + file)
        return outDir + "/" + file
    }
}

/// What the distillation stages produced.
public struct DistillationResult {
    public var teacher: TrainedModel?
    /// The distilled student (trained with `setting`).
    public var student: TrainedModel
    public var baseline: TrainedModel?
    /// The setting the distilled student was trained with, and the search that chose it.
    public var setting: DistillSetting
    public var search: SearchReport?
    /// Which student ships, and why.
    public var decision: ShipDecision
    public var teacherCheck: TeacherCheck
    /// Distilled vs baseline over `distill.compare_seeds`, when set.
    public var comparison: SeedStudy?
    public var data: DataSplits
    public var report: BuildReport

    /// The student that is exported and written as `student.safetensors`.
    public var shipped: TrainedModel { decision.shipsBaseline ? baseline! : student }

    /// A readable table (teacher / baseline / distilled), the search, and which student ships.
    /// What the reader must not miss is between `**` markers (`emphasize` makes it bold).
    public var summary: String {
        var rows: [(String, ModelReport)] = []
        let t =
            teacher?.report ?? report.teacher
            ?? {
                var r = ModelReport(params: nil, macs: nil, epochs: 0)
                r.transferAccuracy = teacherCheck.agreement
                return r
            }()
        rows.append(("teacher", t))
        if let b = baseline { rows.append(("baseline", b.report)) }
        rows.append(("student", student.report))
        var s = modelSummaryTable(rows)
        let c = teacherCheck
        s +=
            "teacher (\(c.source)): agrees with the labels on \(fmtPct(c.agreement)) of \(c.labelledRows) labelled transfer rows "
            + "(chance \(fmtPct(c.chance)), required \(fmtPct(c.minAgreement))\(c.enforced ? "" : ", not enforced for a teacher trained here"))"
            + (c.probabilitiesConverted
                ? c.source == "tflite"
                    ? "; the model ends in SOFTMAX: its probabilities became log-probabilities"
                    : "; the file held probabilities, converted to log-probabilities" : "") + "\n"
        if let sr = search {
            s +=
                "search: T = \(fmtNumber(setting.temperature)), α = \(fmtNumber(setting.alpha)) chosen on validation from "
                + "\(sr.trials.filter { $0.round == 1 }.count) settings, \(sr.usedEpochs) student epochs"
                + (sr.cut.map { " (\($0))" } ?? "") + ":\n" + sr.table(chosen: setting)
        } else {
            s += "distillation: T = \(fmtNumber(setting.temperature)), α = \(fmtNumber(setting.alpha)) (from the config)\n"
        }
        if let b = baseline?.report.floatAccuracy, let d = student.report.floatAccuracy {
            s += String(format: "distillation vs baseline: %+.2f points of test accuracy (seed %d)\n", (d - b) * 100, report.seed)
        }
        if let w = decision.warning { s += "**\(w)**\n" }
        s += "shipped: the \(decision.model) student (\(decision.reason))\n"
        if let c = comparison {
            let (b, d) = (SeedStudy.stats(c.baseline), SeedStudy.stats(c.distilled))
            s +=
                "over seeds \(c.seeds.map(String.init).joined(separator: ",")): "
                + String(
                    format: "baseline %.2f%% ± %.2f, distilled %.2f%% ± %.2f (%+.2f points)",
                    b.mean * 100, b.sd * 100, d.mean * 100, d.sd * 100, (d.mean - b.mean) * 100)
            if let bq = c.baselineInt8, let dq = c.distilledInt8, !bq.isEmpty, !dq.isEmpty {
                let (b8, d8) = (SeedStudy.stats(bq), SeedStudy.stats(dq))
                s += String(
                    format: "; int8: baseline %.2f%% ± %.2f, distilled %.2f%% ± %.2f (%+.2f points)",
                    b8.mean * 100, b8.sd * 100, d8.mean * 100, d8.sd * 100, (d8.mean - b8.mean) * 100)
            }
            if !c.shipped.isEmpty {
                let sh = SeedStudy.stats(c.shipped)
                s += String(format: "; shipped %.2f%% ± %.2f", sh.mean * 100, sh.sd * 100)
                let int8 = c.shippedInt8.flatMap { $0.isEmpty ? nil : "int8 \(SeedStudy.cell($0)); " } ?? ""
                s += " (" + int8 + c.shippedModels.joined(separator: ", ") + ")"
            }
            s += "\n"
        }
        return s
    }
}

/// A fixed-width table of model figures, one row per (name, report).
public func modelSummaryTable(_ rows: [(String, ModelReport)]) -> String {
    var s = "model       params      MACs   test acc   val acc  transfer  s/epoch  samples/s\n"
    for (name, r) in rows {
        s += name.padding(toLength: 9, withPad: " ", startingAt: 0)
        s +=
            rpad(r.params.map(String.init) ?? "—", 9) + rpad(r.macs.map(String.init) ?? "—", 10)
            + rpad(fmtPct(r.floatAccuracy), 11)
            + rpad(fmtPct(r.validationAccuracy), 10) + rpad(fmtPct(r.transferAccuracy), 10)
        s += rpad(r.secondsPerEpoch.map { String(format: "%.2f", $0) } ?? "—", 9)
        s += rpad(r.samplesPerSecond.map { String(format: "%.0f", $0) } ?? "—", 11) + "\n"
    }
    return s
}

/// A fraction as a percentage with two decimals ("—" for none).
public func fmtPct(_ x: Double?) -> String { x.map { String(format: "%.2f%%", $0 * 100) } ?? "—" }
/// `s` right-aligned in `width` columns (at least one space before it).
public func rpad(_ s: String, _ width: Int) -> String {
    s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
}

extension Pipeline {
    /// Hard-label baseline → teacher (checked against the labels, using the baseline's
    /// validation accuracy) → distilled student (the setting given or chosen on validation) →
    /// the student to ship (`distill.ship`), written as `OUT/student.safetensors` → the seed
    /// study over `distill.compare_seeds` with the chosen setting (float and int8 test accuracy per seed).
    public func runDistillation(baseline: Bool) throws -> DistillationResult {
        guard let sc = config.student else {
            throw KDCError.config(
                file: config.file, key: "student",
                message: config.studentSearch == nil
                    ? "the config defines no student"
                    : "the student is chosen by student.search; hint: run kdc search or kdc build on this config (docs/SEARCH.md)"
            )
        }
        let policy = config.distill.shipPolicy(baseline: baseline)
        if !baseline, policy != .distilled {
            throw KDCError.config(
                file: config.file, key: "distill.ship",
                message:
                    "\(policy.rawValue) needs the hard-label baseline, which is off; hint: drop --no-baseline or set distill.ship: distilled"
            )
        }
        let plan = try searchPlan()
        let data = try loadData()
        if policy == .best && data.validation.count == 0 {
            throw KDCError.config(
                file: config.file, key: "distill.ship",
                message:
                    "best compares the students on the validation split, which is empty for this data; hint: raise data.split.validation, or set distill.ship: distilled"
            )
        }
        let transfer = try transferSet(data)
        var report = BuildReport(config: config.file, seed: config.seed)
        report.dataset = data.report
        // The baseline first: the teacher check compares the teacher with it.
        let base = baseline ? try train(sc, role: .baseline, data: data, seed: config.seed) : nil
        let (loaded, trained, check) = try self.teacher(
            data: data, transfer: transfer, baselineValidation: base?.report.validationAccuracy)
        var teacher = trained
        if var t = teacher, config.teacher.checkpoint == nil {
            t.report.checkpoint = try saveCheckpoint(t.model, name: "teacher", normalization: data.normalization)
            teacher = t
        }
        report.teacher =
            teacher?.report
            ?? {
                var r = ModelReport(params: nil, macs: nil, epochs: 0)
                r.transferAccuracy = check.agreement
                return r
            }()
        if case let .graph(g, _) = loaded { report.teacher = graphTeacherReport(g, data: data, check: check) }
        report.teacherCheck = check
        // Without augmentation every run reads the same soft targets: compute them once.
        let augment = (sc.train.augmentShift > 0 && transfer.sampleShape.count == 3) || config.distill.mixup > 0
        var source = loaded
        if !augment, let logits = teacher?.transferLogits { source = .logits(logits) }

        let chosen = try distillChosen(
            sc, plan: plan, teacher: source, transfer: transfer, data: data, secondsPerEpoch: base?.report.secondsPerEpoch)
        var student = chosen.student
        let (setting, search) = (chosen.setting, chosen.search)
        let decision = ShipDecision.decide(policy: policy, distilled: student.report, baseline: base?.report)
        var baseModel = base
        let shippedPath = try saveCheckpoint(
            decision.shipsBaseline ? base!.model : student.model, name: "student", normalization: data.normalization)
        if decision.shipsBaseline { baseModel?.report.checkpoint = shippedPath } else { student.report.checkpoint = shippedPath }
        report.student = student.report
        report.baseline = baseModel?.report
        report.shipped = decision
        report.distill = DistillReport(
            temperature: setting.temperature, alpha: setting.alpha, chosenBy: search == nil ? "config" : "search",
            transfer: transfer.name, transferSamples: transfer.count, search: search)
        var study: SeedStudy?
        if let base, !config.distill.compareSeeds.isEmpty {
            var st = SeedStudy(
                seeds: config.distill.compareSeeds, teacherAccuracy: teacher?.report.floatAccuracy,
                temperature: setting.temperature, alpha: setting.alpha, baseline: [], distilled: [],
                baselineInt8: [], distilledInt8: [], shippedInt8: [])
            for s in config.distill.compareSeeds {
                var d = student, b = base
                if s != config.seed {
                    stage(
                        "seed \(s)",
                        detail:
                            "distilled (T = \(fmtNumber(setting.temperature)), α = \(fmtNumber(setting.alpha))) and baseline students for the comparison"
                    )
                    d = try distill(sc, setting: setting, teacher: source, transfer: transfer, data: data, seed: s)
                    b = try train(sc, role: .baseline, data: data, seed: s)
                }
                let pick = ShipDecision.decide(policy: policy, distilled: d.report, baseline: b.report)
                st.distilled.append(d.report.floatAccuracy ?? 0)
                st.baseline.append(b.report.floatAccuracy ?? 0)
                st.shipped.append((pick.shipsBaseline ? b : d).report.floatAccuracy ?? 0)
                st.shippedModels.append(pick.model)
                // int8 as kdc build ships it: the same quantization and the Swift int8 reference.
                stage("seed \(s)", detail: "int8 test accuracy of the distilled and baseline students")
                let (dq, bq) = (try int8Accuracy(d.model, data: data) ?? 0, try int8Accuracy(b.model, data: data) ?? 0)
                st.distilledInt8?.append(dq)
                st.baselineInt8?.append(bq)
                st.shippedInt8?.append(pick.shipsBaseline ? bq : dq)
            }
            study = st
            report.comparison = st
        }
        return DistillationResult(
            teacher: teacher, student: student, baseline: baseModel, setting: setting, search: search, decision: decision,
            teacherCheck: check, comparison: study, data: data, report: report)
    }
}

extension DataSplits {
    /// Sizes and shape for the report.
    public var report: DatasetReport {
        DatasetReport(
            name: train.name, train: train.count, validation: validation.count, test: test.count,
            sampleShape: train.sampleShape, classes: train.numClasses, classNames: classNames, series: series)
    }
}
