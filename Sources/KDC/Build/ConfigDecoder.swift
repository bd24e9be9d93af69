import Foundation
import KDCTarget
import Yams

/// Walks the YAML node tree of a config strictly: unknown keys (with a "did you mean" hint),
/// wrong types, missing required keys and out-of-range values are all `KDCError.config`
/// errors naming the file and the dotted key path.
struct ConfigDecoder {
    let file: String
    let base: String

    init(file: String, baseDirectory: String? = nil) {
        self.file = file
        let dir = (file as NSString).deletingLastPathComponent
        self.base = baseDirectory ?? resolvePath(dir.isEmpty ? "." : dir, against: FileManager.default.currentDirectoryPath)
    }

    func decode(_ text: String) throws -> KDCConfig {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw fail("", "YAML syntax error: \(error)")
        }
        guard let root else { throw fail("", "the config is empty; it needs at least 'data' and 'teacher'") }
        let top = try mapping(
            root, "",
            allowed: ["seed", "data", "frontend", "teacher", "student", "distill", "quantize", "export", "budget"])
        let seed = try top["seed"].map { try uint64($0, "seed") } ?? 0
        let frontend = try top["frontend"].map { try decodeFrontend($0, "frontend") }
        let data = try decodeData(try required(top, "data", ""), "data", frontend: frontend)
        let teacher = try decodeTeacher(try required(top, "teacher", ""), "teacher", shape: data.shape)
        let (student, studentSearch) = try top["student"].map { try decodeStudent($0, shape: data.shape) } ?? (nil, nil)
        let distill = try top["distill"].map { try decodeDistill($0, "distill") } ?? DistillConfig()
        let quantize = try top["quantize"].map { try decodeQuantize($0, "quantize") } ?? QuantizeConfig()
        let export = try top["export"].map { try decodeExport($0, "export") } ?? ExportConfig()
        let budget = try top["budget"].map { try decodeBudget($0, "budget") }
        if student != nil || studentSearch != nil { try checkValidationSplit(distill, data) }
        if studentSearch != nil && data.split.validation == 0 {
            throw fail(
                "student.search",
                "the search ranks candidates on the validation split, but data.split.validation is 0; hint: set data.split.validation (e.g. 0.1)"
            )
        }
        if data.format == .series {
            for (key, m) in [("teacher", teacher.model), ("student", student)] where (m?.train.augmentShift ?? 0) > 0 {
                throw fail(
                    key + ".train.augment_shift",
                    "shifts images in both axes, which blanks a series window [length, 1, channels]; set it to 0 with format series"
                )
            }
        }
        if export.tflite, let s = student { try checkTFLiteExport(s.graph) }
        return KDCConfig(
            seed: seed, data: data, teacher: teacher, student: student, distill: distill,
            quantize: quantize, export: export, budget: budget, file: file, baseDirectory: base, frontend: frontend,
            studentSearch: studentSearch)
    }

    /// `student:` with `layers` (a student written by hand) or `search` (a student chosen by
    /// `kdc search` within the budget), and its `train` recipe.
    func decodeStudent(_ node: Node, shape: [Int]) throws -> (ModelConfig?, StudentSearchConfig?) {
        let m = try mapping(node, "student", allowed: ["layers", "search", "train"])
        guard let s = m["search"] else { return (try decodeModel(node, "student", shape: shape), nil) }
        if m["layers"] != nil {
            throw fail(
                "student.layers",
                "give either layers (a student written by hand) or search (a student chosen within the budget), not both")
        }
        let train = try m["train"].map { try decodeTrain($0, "student.train") } ?? TrainSettings()
        return (nil, try decodeStudentSearch(s, "student.search", train: train))
    }

    // MARK: Sections

    static let sourceKeys: [DataFormat: [String]] = [
        .csv: ["file", "test_file", "label_column", "header"],
        .idx: ["train_images", "train_labels", "test_images", "test_labels"],
        .npy: ["train_x", "train_y", "test_x", "test_y"],
        .series: [
            "channels", "window", "train_x", "train_y", "test_x", "test_y", "file", "test_file", "label_column",
            "recording_column", "header",
        ],
    ]

    func decodeData(_ node: Node, _ path: String, frontend: AudioFrontEndConfig? = nil) throws -> DataConfig {
        let common = ["format", "dir", "shape", "classes", "split", "normalize"]
        let all =
            common + [
                "file", "test_file", "label_column", "header", "train_images", "train_labels", "test_images",
                "test_labels", "train_x", "train_y", "test_x", "test_y", "channels", "window", "recording_column",
            ] + ConfigDecoder.audioKeys
        let m = try mapping(node, path, allowed: all)
        let format = try enumValue(try required(m, "format", path), path + ".format", DataFormat.self)
        if format == .audio { return try decodeAudioData(m, path, frontend: frontend) }
        if frontend != nil {
            throw fail("frontend", "only used with data.format: audio (a folder of recordings); this data is \(format.rawValue)")
        }
        let allowed = common + ConfigDecoder.sourceKeys[format]!
        if let bad = m.keys.first(where: { !allowed.contains($0) }) {
            throw fail(
                path + "." + bad,
                "not used with format \(format.rawValue); the keys for \(format.rawValue) are: \(ConfigDecoder.sourceKeys[format]!.joined(separator: ", "))"
            )
        }
        let dirText = try m["dir"].map { try string($0, path + ".dir") } ?? "."
        let dir = resolvePath(dirText, against: base)
        let train: DataSourceConfig, test: DataSourceConfig?
        var seriesShape: [Int]? = nil
        switch format {
        case .series:
            (train, test) = try decodeSeries(m, path)
            if case let .series(s) = train { seriesShape = s.sampleShape }
        case .csv:
            let lc = try labelColumn(m["label_column"], path + ".label_column") ?? -1
            guard lc != Int.min else { throw fail(path + ".label_column", "the training data needs a label column") }
            let header = try m["header"].map { try bool($0, path + ".header") } ?? false
            train = .csv(file: try string(try required(m, "file", path), path + ".file"), labelColumn: lc, header: header)
            // A test file has the training file's columns: the same label_column and header.
            test = try m["test_file"].map { .csv(file: try string($0, path + ".test_file"), labelColumn: lc, header: header) }
        case .idx:
            train = .idx(
                images: try string(try required(m, "train_images", path), path + ".train_images"),
                labels: try string(try required(m, "train_labels", path), path + ".train_labels"))
            let ti = try m["test_images"].map { try string($0, path + ".test_images") }
            let tl = try m["test_labels"].map { try string($0, path + ".test_labels") }
            guard (ti == nil) == (tl == nil) else {
                throw fail(
                    path + (ti == nil ? ".test_images" : ".test_labels"),
                    "test_images and test_labels go together; give both or neither")
            }
            test = ti.map { .idx(images: $0, labels: tl) }
        case .npy:
            train = .npy(
                x: try string(try required(m, "train_x", path), path + ".train_x"),
                y: try string(try required(m, "train_y", path), path + ".train_y"))
            let tx = try m["test_x"].map { try string($0, path + ".test_x") }
            let ty = try m["test_y"].map { try string($0, path + ".test_y") }
            guard (tx == nil) == (ty == nil) else {
                throw fail(path + (tx == nil ? ".test_x" : ".test_y"), "test_x and test_y go together; give both or neither")
            }
            test = tx.map { .npy(x: $0, y: ty) }
        case .audio: preconditionFailure("decoded by decodeAudioData")
        }
        let shape: [Int]
        if let s = seriesShape {
            // A series window is [length, 1, channels]; `shape` may repeat it but not differ.
            if let n = m["shape"], try intList(n, path + ".shape") != s {
                throw fail(
                    path + ".shape",
                    "with format series the shape is [window.length, 1, channels] = \(s); got \(try intList(n, path + ".shape")) "
                        + "(leave shape out)")
            }
            shape = s
        } else {
            let shapeNode = try required(m, "shape", path)
            shape = try intList(shapeNode, path + ".shape")
            guard shape.count == 1 || shape.count == 3, shape.allSatisfy({ $0 >= 1 }) else {
                throw fail(path + ".shape", "expected [H, W, C] for images or [F] for feature vectors, all ≥ 1; got \(shape)")
            }
        }
        let classes = try int(try required(m, "classes", path), path + ".classes")
        guard (2...65535).contains(classes) else { throw fail(path + ".classes", "must be in 2...65535, got \(classes)") }
        var split = SplitConfig()
        if let s = m["split"] {
            let sm = try mapping(s, path + ".split", allowed: ["test", "validation", "seed"])
            if let t = sm["test"] {
                split.test = try double(t, path + ".split.test")
                guard split.test > 0 && split.test < 1 else {
                    throw fail(path + ".split.test", "must be in (0, 1), got \(split.test)")
                }
            }
            if let v = sm["validation"] {
                split.validation = try double(v, path + ".split.validation")
                guard split.validation >= 0 && split.validation < 1 else {
                    throw fail(path + ".split.validation", "must be in [0, 1) (0: no validation split), got \(split.validation)")
                }
            }
            if let sd = sm["seed"] { split.seed = try uint64(sd, path + ".split.seed") }
        }
        let normalize =
            try m["normalize"].map { try decodeNormalize($0, path + ".normalize", channels: shape.last!) } ?? .standard
        return DataConfig(
            format: format, dir: dir, train: train, test: test, shape: shape, classes: classes,
            split: split, normalize: normalize)
    }

    func decodeNormalize(_ node: Node, _ path: String, channels: Int) throws -> NormalizeConfig {
        if case .mapping = node {
            let m = try mapping(node, path, allowed: ["mean", "std"])
            let mean = try floatList(try required(m, "mean", path), path + ".mean")
            let std = try floatList(try required(m, "std", path), path + ".std")
            guard mean.count == std.count, mean.count == 1 || mean.count == channels else {
                throw fail(
                    path,
                    "mean and std need the same length, 1 or the channel count \(channels); got \(mean.count) and \(std.count)")
            }
            guard std.allSatisfy({ $0 > 0 }) else { throw fail(path + ".std", "every std must be > 0") }
            return .explicit(Normalization(mean: mean, std: std))
        }
        let s = try string(node, path)
        switch s {
        case "standard": return .standard
        case "scale": return .scale
        case "none": return .none
        default:
            throw fail(
                path,
                "expected standard, scale, none or {mean: [...], std: [...]}, got '\(s)'"
                    + hint(s, ["standard", "scale", "none"]))
        }
    }

    /// A data source inside `distill.transfer`.
    func decodeSource(_ node: Node, _ path: String) throws -> DataSourceConfig {
        let keys: [DataFormat: [String]] = [
            .csv: ["file", "label_column", "header"], .idx: ["images", "labels"], .npy: ["x", "y"],
        ]
        let m = try mapping(node, path, allowed: ["format", "file", "label_column", "header", "images", "labels", "x", "y"])
        let format = try enumValue(try required(m, "format", path), path + ".format", DataFormat.self)
        let noSeries = fail(path + ".format", "a series transfer set is not supported; the transfer set is the training windows")
        guard format != .series else { throw noSeries }
        if format == .audio {
            throw fail(path + ".format", "recordings (audio) are only read as the data: section; use csv, idx or npy here")
        }
        if let bad = m.keys.first(where: { $0 != "format" && !keys[format]!.contains($0) }) {
            throw fail(
                path + "." + bad,
                "not used with format \(format.rawValue); the keys for \(format.rawValue) are: \(keys[format]!.joined(separator: ", "))"
            )
        }
        switch format {
        case .csv:
            let lc = try labelColumn(m["label_column"], path + ".label_column")
            return .csv(
                file: try string(try required(m, "file", path), path + ".file"),
                labelColumn: lc == Int.min ? nil : (lc ?? -1),
                header: try m["header"].map { try bool($0, path + ".header") } ?? false)
        case .idx:
            return .idx(
                images: try string(try required(m, "images", path), path + ".images"),
                labels: try m["labels"].map { try string($0, path + ".labels") })
        case .npy:
            return .npy(
                x: try string(try required(m, "x", path), path + ".x"),
                y: try m["y"].map { try string($0, path + ".y") })
        case .series: throw noSeries
        case .audio: preconditionFailure("rejected above")
        }
    }

    func decodeTeacher(_ node: Node, _ path: String, shape: [Int]) throws -> TeacherConfig {
        let m = try mapping(node, path, allowed: ["layers", "train", "checkpoint", "logits", "tflite", "min_agreement"])
        var minAgreement: Double?
        if let v = m["min_agreement"], !isAuto(v) {
            minAgreement = try double(v, path + ".min_agreement")
            guard minAgreement! >= 0 && minAgreement! <= 1 else {
                throw fail(path + ".min_agreement", "must be in [0, 1] or auto (0: no check), got \(minAgreement!)")
            }
        }
        let given = ["layers", "checkpoint", "logits", "tflite"].filter { m[$0] != nil }
        guard given.count == 1 else {
            throw fail(
                path,
                given.isEmpty
                    ? "needs one of layers (train a teacher here), checkpoint, logits or tflite (a float32 .tflite model)"
                    : "give exactly one of layers, checkpoint, logits or tflite; found \(given.joined(separator: " and "))")
        }
        if m["layers"] != nil {
            return TeacherConfig(model: try decodeModel(node, path, shape: shape), minAgreement: minAgreement)
        }
        if m["train"] != nil { throw fail(path + ".train", "only used with layers (a teacher trained here)") }
        if let c = m["checkpoint"] {
            return TeacherConfig(
                checkpoint: resolvePath(try string(c, path + ".checkpoint"), against: base), minAgreement: minAgreement)
        }
        if let t = m["tflite"] {
            return TeacherConfig(
                tflite: resolvePath(try string(t, path + ".tflite"), against: base), minAgreement: minAgreement)
        }
        return TeacherConfig(
            logits: resolvePath(try string(m["logits"]!, path + ".logits"), against: base), minAgreement: minAgreement)
    }

    func decodeModel(_ node: Node, _ path: String, shape: [Int]) throws -> ModelConfig {
        let m = try mapping(
            node, path,
            allowed: path == "teacher"
                ? ["layers", "train", "checkpoint", "logits", "tflite", "min_agreement"] : ["layers", "train"])
        let graph = try decodeLayers(try required(m, "layers", path), path + ".layers", shape: shape)
        let train = try m["train"].map { try decodeTrain($0, path + ".train") } ?? TrainSettings()
        return ModelConfig(graph: graph, train: train)
    }

    func decodeTrain(_ node: Node, _ path: String) throws -> TrainSettings {
        let m = try mapping(
            node, path,
            allowed: [
                "epochs", "batch_size", "optimizer", "learning_rate", "momentum", "weight_decay",
                "schedule", "min_lr_fraction", "step_every", "step_gamma", "warmup_epochs", "augment_shift",
            ])
        var t = TrainSettings()
        func k(_ key: String) -> String { path + "." + key }
        if let v = m["epochs"] { t.epochs = try int(v, k("epochs"), min: 1) }
        if let v = m["batch_size"] { t.batchSize = try int(v, k("batch_size"), min: 1) }
        if let v = m["optimizer"] { t.optimizer = try enumValue(v, k("optimizer"), OptimizerKind.self) }
        if let v = m["learning_rate"] {
            t.learningRate = try float(v, k("learning_rate"))
            guard t.learningRate > 0 else { throw fail(k("learning_rate"), "must be > 0, got \(t.learningRate)") }
        }
        if let v = m["momentum"] { t.momentum = try float(v, k("momentum"), in: 0...0.9999) }
        if let v = m["weight_decay"] { t.weightDecay = try float(v, k("weight_decay"), in: 0...1) }
        let floor = try m["min_lr_fraction"].map { try float($0, k("min_lr_fraction"), in: 0...1) } ?? 0
        let every = try m["step_every"].map { try int($0, k("step_every"), min: 1) } ?? 5
        var gamma: Float = 0.1
        if let v = m["step_gamma"] {
            gamma = try float(v, k("step_gamma"))
            guard gamma > 0 && gamma <= 1 else { throw fail(k("step_gamma"), "must be in (0, 1], got \(gamma)") }
        }
        let schedule = try m["schedule"].map { try string($0, k("schedule")) } ?? "cosine"
        switch schedule {
        case "cosine": t.schedule = .cosine(floor: floor)
        case "step": t.schedule = .step(every: every, gamma: gamma)
        case "constant": t.schedule = .constant
        default:
            throw fail(
                k("schedule"),
                "expected cosine, step or constant, got '\(schedule)'" + hint(schedule, ["cosine", "step", "constant"]))
        }
        if let v = m["warmup_epochs"] {
            t.warmupEpochs = try int(v, k("warmup_epochs"), min: 0)
            guard t.warmupEpochs < t.epochs else {
                throw fail(k("warmup_epochs"), "must be less than epochs (\(t.epochs)), got \(t.warmupEpochs)")
            }
        }
        if let v = m["augment_shift"] { t.augmentShift = try int(v, k("augment_shift"), min: 0) }
        return t
    }

    func decodeDistill(_ node: Node, _ path: String) throws -> DistillConfig {
        let m = try mapping(
            node, path,
            allowed: ["temperature", "alpha", "mixup", "baseline", "ship", "search", "compare_seeds", "transfer"])
        var d = DistillConfig()
        if let v = m["temperature"], !isAuto(v) {
            d.temperature = try float(v, path + ".temperature", "a number in [1, 100] or auto")
            guard d.temperature! >= 1 && d.temperature! <= 100 else {
                throw fail(path + ".temperature", "must be in [1, 100] or auto, got \(d.temperature!)")
            }
        }
        if let v = m["alpha"], !isAuto(v) {
            d.alpha = try float(v, path + ".alpha", "a number in [0, 1] or auto")
            guard d.alpha! >= 0 && d.alpha! <= 1 else {
                throw fail(path + ".alpha", "must be in [0.0, 1.0] or auto, got \(d.alpha!)")
            }
        }
        if let v = m["mixup"] { d.mixup = try float(v, path + ".mixup", in: 0...1) }
        if let v = m["baseline"] { d.baseline = try bool(v, path + ".baseline") }
        if let v = m["ship"] { d.ship = try enumValue(v, path + ".ship", ShipPolicy.self) }
        if let v = m["search"] { d.search = try decodeSearch(v, path + ".search") }
        if let v = m["compare_seeds"], !isNull(v) {
            let seeds = try intList(v, path + ".compare_seeds")
            guard !seeds.isEmpty, seeds.allSatisfy({ $0 >= 0 }), Set(seeds).count == seeds.count else {
                throw fail(
                    path + ".compare_seeds", "expected a list of distinct non-negative seeds such as [0, 1, 2], got \(seeds)")
            }
            d.compareSeeds = seeds.map { UInt64($0) }
        }
        if let v = m["transfer"], !isNull(v) { d.transfer = try decodeSource(v, path + ".transfer") }
        if !d.baseline, let ship = d.ship, ship != .distilled {
            throw fail(
                path + ".ship",
                "\(ship.rawValue) needs the hard-label baseline, but distill.baseline is false; hint: set distill.baseline: true or distill.ship: distilled"
            )
        }
        return d
    }

    func decodeSearch(_ node: Node, _ path: String) throws -> SearchConfig {
        let m = try mapping(node, path, allowed: ["temperatures", "alphas", "max_epochs"])
        var s = SearchConfig()
        func grid(_ key: String, _ range: ClosedRange<Float>) throws -> [Float]? {
            guard let v = m[key] else { return nil }
            let values = try floatList(v, path + "." + key)
            guard !values.isEmpty, values.allSatisfy({ range.contains($0) }), Set(values).count == values.count else {
                throw fail(
                    path + "." + key,
                    "expected a list of distinct numbers in [\(range.lowerBound), \(range.upperBound)], got \(values)")
            }
            return values
        }
        if let t = try grid("temperatures", 1...100) { s.temperatures = t }
        if let a = try grid("alphas", 0...1) { s.alphas = a }
        if let v = m["max_epochs"], !isNull(v), !isAuto(v) {
            if case let .scalar(x) = v, x.string == "none" {
            } else {
                s.maxEpochs = try int(v, path + ".max_epochs", min: 1)
            }
        }
        return s
    }

    /// The settings chosen on the validation split need one: checked here, where the split
    /// fraction is known, so the error comes before any training.
    func checkValidationSplit(_ d: DistillConfig, _ data: DataConfig) throws {
        guard data.split.validation == 0 else { return }
        if d.searches {
            let key = d.temperature == nil ? "distill.temperature" : "distill.alpha"
            throw fail(
                key,
                "auto (the default) chooses the setting on the validation split, but data.split.validation is 0; "
                    + "hint: set data.split.validation (e.g. 0.1), or give distill.temperature and distill.alpha as numbers")
        }
        let ship = d.shipPolicy(baseline: d.baseline)
        if ship == .best {
            throw fail(
                "distill.ship",
                "best\(d.ship == nil ? " (the default)" : "") compares the distilled and baseline students on the validation split, "
                    + "but data.split.validation is 0; hint: set data.split.validation (e.g. 0.1), or distill.ship: distilled (or baseline)"
            )
        }
    }

    func decodeQuantize(_ node: Node, _ path: String) throws -> QuantizeConfig {
        let m = try mapping(node, path, allowed: ["calibration_samples", "calibration", "percentile"])
        var q = QuantizeConfig()
        if let v = m["calibration_samples"] { q.calibrationSamples = try int(v, path + ".calibration_samples", min: 1) }
        if let v = m["calibration"] { q.method = try enumValue(v, path + ".calibration", CalibrationMethod.self) }
        if let v = m["percentile"] {
            q.percentile = try double(v, path + ".percentile")
            guard q.percentile > 0 && q.percentile <= 100 else {
                throw fail(path + ".percentile", "must be in (0, 100], got \(q.percentile)")
            }
        }
        return q
    }

    func decodeExport(_ node: Node, _ path: String) throws -> ExportConfig {
        let m = try mapping(node, path, allowed: ["compress", "name", "firmware", "tflite"])
        var e = ExportConfig()
        if let v = m["compress"] { e.compress = try bool(v, path + ".compress") }
        if let v = m["tflite"] { e.tflite = try bool(v, path + ".tflite") }
        if let v = m["name"] {
            e.name = try string(v, path + ".name")
            let ok =
                e.name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } ?? false
                && e.name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            guard ok else {
                throw fail(path + ".name", "'\(e.name)' is not a C identifier (letters, digits, _; not starting with a digit)")
            }
        }
        if let v = m["firmware"] {
            let f = isNull(v) ? "none" : try string(v, path + ".firmware")
            // The boards of the target layer (Board.all), by name.
            let names = ["none"] + Board.all.map(\.name)
            switch f {
            case "none": e.firmware = nil
            default:
                guard let board = Board.all.first(where: { $0.name == f }) else {
                    let list = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
                    throw fail(path + ".firmware", "expected \(list), got '\(f)'" + hint(f, names))
                }
                e.firmware = board
            }
        }
        return e
    }

    /// With `export.tflite`, the student may use only ops TensorFlow Lite computes with kdc's
    /// arithmetic (docs/TFLITE.md): an error names the first layer that has none.
    func checkTFLiteExport(_ spec: GraphSpec) throws {
        for (i, n) in spec.nodes.enumerated() {
            let key = "student.layers[\(i)]"
            switch n.op {
            case .globalAvgPool:
                throw fail(
                    key,
                    "global_avg_pool ('\(n.name)') has no TensorFlow Lite op with kdc's arithmetic (TFLite's MEAN rounds otherwise), "
                        + "and export.tflite is true; hint: use {op: avg_pool2d, pool: [H, W]} then flatten, which TFLite computes "
                        + "as kdc does, or set export.tflite: false")
            case .leakyRelu:
                throw fail(
                    key,
                    "leaky_relu ('\(n.name)') has no TensorFlow Lite form with kdc's arithmetic, and export.tflite is true; "
                        + "hint: use relu, or set export.tflite: false")
            default: break
            }
        }
    }

    func decodeBudget(_ node: Node, _ path: String) throws -> BudgetConfig {
        let m = try mapping(node, path, allowed: ["flash_bytes", "ram_bytes", "latency_instructions", "latency_ms", "clock_mhz"])
        var b = BudgetConfig(
            flashBytes: try m["flash_bytes"].map { try int($0, path + ".flash_bytes", min: 1) },
            ramBytes: try m["ram_bytes"].map { try int($0, path + ".ram_bytes", min: 1) })
        b.latencyInstructions = try m["latency_instructions"].map { try int($0, path + ".latency_instructions", min: 1) }
        b.latencyMs = try m["latency_ms"].map { try double($0, path + ".latency_ms") }
        b.clockMHz = try m["clock_mhz"].map { try double($0, path + ".clock_mhz") }
        if let v = b.latencyMs, !(v > 0) { throw fail(path + ".latency_ms", "must be > 0, got \(v)") }
        if let v = b.clockMHz, !(v > 0) { throw fail(path + ".clock_mhz", "must be > 0, got \(v)") }
        if b.latencyMs != nil, b.clockMHz == nil {
            throw fail(
                path + ".latency_ms",
                "needs clock_mhz: milliseconds become instructions at a clock rate (one instruction per cycle)")
        }
        if b.latencyMs != nil, b.latencyInstructions != nil {
            throw fail(path + ".latency_ms", "give latency_instructions or latency_ms, not both")
        }
        return b
    }

    // MARK: Layers

    static let bareOps: [String: Op] = [
        "relu": .relu, "relu6": .relu6, "flatten": .flatten, "global_avg_pool": .globalAvgPool,
        "leaky_relu": .leakyRelu(alpha: defaultLeakyAlpha),
    ]
    /// α of a `leaky_relu` without `alpha:` (tf.nn.leaky_relu's default).
    static let defaultLeakyAlpha: Float = 0.2
    static let opKeys: [String: [String]] = [
        "dense": ["units"], "conv2d": ["filters", "kernel", "stride", "padding"],
        "depthwise_conv2d": ["kernel", "stride", "padding", "multiplier"],
        "max_pool2d": ["pool", "stride", "padding"], "avg_pool2d": ["pool", "stride", "padding"],
        "global_avg_pool": [], "relu": [], "relu6": [], "batch_norm": ["epsilon", "momentum"],
        "dropout": ["rate"], "flatten": [], "add": [], "leaky_relu": ["alpha"],
        // 1-D layers over a series [T, 1, C], lowered to the 2-D ops (ConfigDecoder+Series.swift).
        "conv1d": ["filters", "kernel", "stride", "padding"], "depthwise_conv1d": ["kernel", "stride", "padding", "multiplier"],
        "max_pool1d": ["pool", "stride", "padding"], "avg_pool1d": ["pool", "stride", "padding"],
    ]
    /// The 1-D layers of a config.
    static let ops1D: Set<String> = ["conv1d", "depthwise_conv1d", "max_pool1d", "avg_pool1d"]

    func decodeLayers(_ node: Node, _ path: String, shape: [Int]) throws -> GraphSpec {
        guard case let .sequence(seq) = node else { throw fail(path, "expected a list of layers, got \(describe(node))") }
        guard !seq.isEmpty else { throw fail(path, "the layer list is empty") }
        var nodes: [NodeSpec] = []
        var names: Set<String> = ["input"]
        var oneD: [Int: String] = [:]
        for (i, item) in seq.enumerated() {
            let p = "\(path)[\(i)]"
            var opName: String
            var m: [String: Node] = [:]
            if case .mapping = item {
                m = try mapping(item, p, allowed: nil)
                opName = try string(try required(m, "op", p), p + ".op")
            } else {
                opName = try string(item, p)
            }
            guard let keys = ConfigDecoder.opKeys[opName] else {
                throw fail(
                    m.isEmpty ? p : p + ".op",
                    "unknown op '\(opName)'" + hint(opName, Array(ConfigDecoder.opKeys.keys))
                        + "; ops: " + ConfigDecoder.opKeys.keys.sorted().joined(separator: ", "))
            }
            let allowed = ["op", "name", "inputs"] + keys
            try checkKeys(m, p, allowed: allowed, what: "op \(opName)")
            let op: Op
            if ConfigDecoder.ops1D.contains(opName), !m.isEmpty {
                op = try decodeOp1D(opName, m, p)
                oneD[i] = opName
            } else {
                op = try decodeOp(opName, m, p, bare: m.isEmpty)
            }
            let name = try m["name"].map { try string($0, p + ".name") } ?? "\(opName)\(i)"
            guard !name.isEmpty else { throw fail(p + ".name", "must not be empty") }
            guard name != "input" else { throw fail(p + ".name", "'input' is reserved for the graph input") }
            guard !names.contains(name) else {
                throw fail(p + ".name", "duplicate layer name '\(name)'; layer names must be unique")
            }
            var inputs = [nodes.last?.name ?? "input"]
            if let inNode = m["inputs"] {
                if case .sequence = inNode {
                    inputs = try stringList(inNode, p + ".inputs")
                } else {
                    inputs = [try string(inNode, p + ".inputs")]
                }
                for name in inputs where !names.contains(name) {
                    throw fail(
                        p + ".inputs",
                        "unknown input '\(name)'; inputs must name an earlier layer or 'input'" + hint(name, Array(names)))
                }
            }
            if opName == "add" {
                guard m["inputs"] != nil, inputs.count == 2 else {
                    throw fail(p + ".inputs", "add needs exactly two inputs: inputs: [a, b]")
                }
            } else if inputs.count != 1 {
                throw fail(p + ".inputs", "\(opName) takes exactly one input, got \(inputs.count)")
            }
            names.insert(name)
            nodes.append(NodeSpec(name: name, op: op, inputs: inputs))
        }
        let spec = GraphSpec(inputShape: shape, nodes: nodes)
        try checkLayers1D(spec, oneD: oneD, path: path)
        return spec
    }

    func decodeOp(_ op: String, _ m: [String: Node], _ p: String, bare: Bool) throws -> Op {
        if bare {
            guard let o = ConfigDecoder.bareOps[op] else {
                let req = [
                    "dense": "units: N", "conv2d": "filters: N, kernel: K", "depthwise_conv2d": "kernel: K",
                    "conv1d": "filters: N, kernel: K", "depthwise_conv1d": "kernel: K",
                    "dropout": "rate: R", "add": "inputs: [a, b]",
                ][op]
                throw fail(p, "'\(op)' needs parameters; write {op: \(op)" + (req.map { ", " + $0 } ?? "") + "}")
            }
            return o
        }
        func k(_ key: String) -> String { p + "." + key }
        func size(_ key: String, default d: Size2?) throws -> Size2 {
            guard let n = m[key] else {
                if let d { return d }
                throw fail(k(key), "missing required key '\(key)' for op \(op)")
            }
            if case .sequence = n {
                let v = try intList(n, k(key))
                guard v.count == 2, v.allSatisfy({ $0 >= 1 }) else {
                    throw fail(k(key), "expected an integer ≥ 1 or [h, w], got \(v)")
                }
                return Size2(v[0], v[1])
            }
            return Size2(square: try int(n, k(key), min: 1))
        }
        func padding(_ d: Padding) throws -> Padding {
            guard let n = m["padding"] else { return d }
            let t = try string(n, k("padding"))
            guard let v = Padding.named[t] else {
                let all = Padding.named.keys.sorted()
                throw fail(k("padding"), "expected one of \(all.joined(separator: ", ")), got '\(t)'" + hint(t, all))
            }
            return v
        }
        switch op {
        case "dense": return .dense(units: try int(try required(m, "units", p), k("units"), min: 1))
        case "conv2d":
            return .conv2d(
                filters: try int(try required(m, "filters", p), k("filters"), min: 1), kernel: try size("kernel", default: nil),
                stride: try size("stride", default: Size2(square: 1)), padding: try padding(.same))
        case "depthwise_conv2d":
            return .depthwiseConv2d(
                kernel: try size("kernel", default: nil), stride: try size("stride", default: Size2(square: 1)),
                padding: try padding(.same), multiplier: try m["multiplier"].map { try int($0, k("multiplier"), min: 1) } ?? 1)
        case "max_pool2d", "avg_pool2d":
            let pool = try size("pool", default: Size2(square: 2))
            let stride = try size("stride", default: pool)
            let pad = try padding(.valid)
            return op == "max_pool2d"
                ? .maxPool2d(pool: pool, stride: stride, padding: pad) : .avgPool2d(pool: pool, stride: stride, padding: pad)
        case "batch_norm":
            var eps: Float = 0.001
            if let v = m["epsilon"] {
                eps = try float(v, k("epsilon"))
                guard eps > 0 else { throw fail(k("epsilon"), "must be > 0, got \(eps)") }
            }
            return .batchNorm(
                epsilon: eps, momentum: try m["momentum"].map { try float($0, k("momentum"), in: 0...0.9999) } ?? 0.99)
        case "dropout":
            let r = try float(try required(m, "rate", p), k("rate"))
            guard r >= 0 && r < 1 else { throw fail(k("rate"), "must be in [0, 1), got \(r)") }
            return .dropout(rate: r)
        case "add": return .add
        case "leaky_relu":
            let a = try m["alpha"].map { try float($0, k("alpha")) } ?? ConfigDecoder.defaultLeakyAlpha
            guard a >= 0 && a < 1 else { throw fail(k("alpha"), "must be in [0, 1), got \(a)") }
            return .leakyRelu(alpha: a)
        default: return ConfigDecoder.bareOps[op]!
        }
    }

    // MARK: Scalars and structure

    func fail(_ key: String, _ message: String) -> KDCError { .config(file: file, key: key, message: message) }

    func isNull(_ n: Node) -> Bool {
        guard case let .scalar(s) = n, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    func describe(_ n: Node) -> String {
        switch n {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(s): return isNull(n) ? "nothing (null)" : "'\(s.string)'"
        }
    }

    /// The mapping's entries by key; rejects non-mappings, non-string and duplicate keys, and
    /// (when `allowed` is given) unknown keys with the nearest allowed one as a hint.
    func mapping(_ node: Node, _ path: String, allowed: [String]?) throws -> [String: Node] {
        guard case let .mapping(map) = node else {
            throw fail(path.isEmpty ? "(top level)" : path, "expected a mapping (key: value), got \(describe(node))")
        }
        var out: [String: Node] = [:]
        for (k, v) in map {
            guard case let .scalar(ks) = k else { throw fail(path, "keys must be plain names") }
            let key = ks.string
            guard out[key] == nil else { throw fail(join(path, key), "duplicate key '\(key)'") }
            out[key] = v
        }
        if let allowed { try checkKeys(out, path, allowed: allowed, what: nil) }
        return out
    }

    func checkKeys(_ m: [String: Node], _ path: String, allowed: [String], what: String?) throws {
        for key in m.keys.sorted() where !allowed.contains(key) {
            throw fail(
                join(path, key),
                "unknown key '\(key)'" + (what.map { " for \($0)" } ?? "") + hint(key, allowed)
                    + "; allowed keys: " + allowed.joined(separator: ", "))
        }
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func required(_ m: [String: Node], _ key: String, _ path: String) throws -> Node {
        guard let n = m[key], !isNull(n) else { throw fail(join(path, key), "missing required key '\(key)'") }
        return n
    }

    func scalarText(_ node: Node, _ path: String, _ expected: String) throws -> String {
        guard case let .scalar(s) = node, !isNull(node) else { throw fail(path, "expected \(expected), got \(describe(node))") }
        guard s.style == .plain || s.style == .any else {
            throw fail(path, "expected \(expected), got the quoted string '\(s.string)'")
        }
        return s.string
    }

    func string(_ node: Node, _ path: String) throws -> String {
        guard case let .scalar(s) = node, !isNull(node) else { throw fail(path, "expected a string, got \(describe(node))") }
        return s.string
    }

    func int(_ node: Node, _ path: String, min: Int? = nil) throws -> Int {
        let t = try scalarText(node, path, "an integer")
        guard let v = Int(t) else { throw fail(path, "expected an integer, got '\(t)'") }
        if let min, v < min { throw fail(path, "must be ≥ \(min), got \(v)") }
        return v
    }

    func uint64(_ node: Node, _ path: String) throws -> UInt64 {
        let t = try scalarText(node, path, "a non-negative integer")
        guard let v = UInt64(t) else { throw fail(path, "expected a non-negative integer, got '\(t)'") }
        return v
    }

    func double(_ node: Node, _ path: String) throws -> Double {
        let t = try scalarText(node, path, "a number")
        guard let v = Double(t), v.isFinite else { throw fail(path, "expected a finite number, got '\(t)'") }
        return v
    }

    func float(_ node: Node, _ path: String, _ expected: String) throws -> Float {
        let t = try scalarText(node, path, expected)
        guard let v = Double(t), v.isFinite else { throw fail(path, "expected \(expected), got '\(t)'") }
        return Float(v)
    }

    /// `auto` (plain, unquoted).
    func isAuto(_ n: Node) -> Bool {
        guard case let .scalar(s) = n, s.style == .plain || s.style == .any else { return false }
        return s.string == "auto"
    }

    func float(_ node: Node, _ path: String, in range: ClosedRange<Float>? = nil) throws -> Float {
        let v = Float(try double(node, path))
        if let range, !range.contains(v) { throw fail(path, "must be in [\(range.lowerBound), \(range.upperBound)], got \(v)") }
        return v
    }

    func bool(_ node: Node, _ path: String) throws -> Bool {
        let t = try scalarText(node, path, "true or false")
        switch t {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw fail(path, "expected true or false, got '\(t)'")
        }
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, _ type: E.Type) throws -> E
    where E.RawValue == String {
        let t = try string(node, path)
        let all = E.allCases.map(\.rawValue)
        guard let v = E(rawValue: t) else {
            throw fail(path, "expected one of \(all.joined(separator: ", ")), got '\(t)'" + hint(t, all))
        }
        return v
    }

    /// An integer, or `none`/null for "no label column" (returned as `Int.min`); `nil` when absent.
    func labelColumn(_ node: Node?, _ path: String) throws -> Int? {
        guard let node else { return nil }
        if isNull(node) { return Int.min }
        if case let .scalar(s) = node, s.string == "none" { return Int.min }
        return try int(node, path)
    }

    func list(_ node: Node, _ path: String, _ expected: String) throws -> [Node] {
        guard case let .sequence(seq) = node else { throw fail(path, "expected a list of \(expected), got \(describe(node))") }
        return Array(seq)
    }

    func intList(_ node: Node, _ path: String) throws -> [Int] {
        try list(node, path, "integers").enumerated().map { try int($1, "\(path)[\($0)]") }
    }

    func floatList(_ node: Node, _ path: String) throws -> [Float] {
        try list(node, path, "numbers").enumerated().map { try float($1, "\(path)[\($0)]") }
    }

    func stringList(_ node: Node, _ path: String) throws -> [String] {
        try list(node, path, "names").enumerated().map { try string($1, "\(path)[\($0)]") }
    }
}

/// " (did you mean 'x'?)" for the candidate nearest to `word`, when it is close enough.
func hint(_ word: String, _ candidates: [String]) -> String {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }),
        best.1 <= max(2, best.0.count / 3)
    else { return "" }
    return " (did you mean '\(best.0)'?)"
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
        for j in 1...y.count {
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[x.count][y.count]
}
