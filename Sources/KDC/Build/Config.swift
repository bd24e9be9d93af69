import Foundation
import KDCTarget

/// The data file formats kdc reads.
public enum DataFormat: String, Sendable, Equatable, CaseIterable {
    case csv, idx, npy
    /// Multichannel time series (NPY `[N, T, C]` or CSV rows), cut into windows (docs/DATA.md).
    case series
    /// A folder of WAV recordings through the audio front end (`frontend:`).
    case audio
}

/// One set of samples in one of the supported formats. Paths are as written in the config,
/// relative to `DataConfig.dir` (or absolute).
public enum DataSourceConfig: Sendable, Equatable {
    /// CSV features with a label column (`labelColumn` negative counts from the end; `nil`: no labels).
    case csv(file: String, labelColumn: Int?, header: Bool)
    /// IDX images `[N, H, W]` and optional labels `[N]`.
    case idx(images: String, labels: String?)
    /// NPY features `[N, ...]` and optional integer labels `[N]`.
    case npy(x: String, y: String?)
    /// Time-series recordings cut into windows `[length, 1, channels]` (`Series.swift`).
    case series(SeriesSource)
    /// A folder of labelled recordings (`DataConfig.dir`), read through the audio front end.
    case audio(AudioSourceConfig)

    public var format: DataFormat {
        switch self {
        case .csv: return .csv;
        case .idx: return .idx;
        case .npy: return .npy
        case .series: return .series
        case .audio: return .audio
        }
    }
}

/// How inputs are normalized before training (and on the device).
public enum NormalizeConfig: Sendable, Equatable {
    /// Per-channel mean and standard deviation of the training split.
    case standard
    /// Mean 0, std = the largest absolute value in the training split (e.g. 255 or 16).
    case scale
    /// No normalization.
    case none
    /// Given values (one per channel, or one for all).
    case explicit(Normalization)
}

/// How samples are divided into train, validation and test.
public struct SplitConfig: Sendable, Equatable {
    /// Fraction held out for testing when the data has no test split of its own, in (0, 1).
    public var test: Double = 0.2
    /// Fraction of the training split held out for validation, in [0, 1) (0: no validation).
    public var validation: Double = 0.1
    /// Seeds the splits; independent of the training seed.
    public var seed: UInt64 = 0
    /// Format `audio`: how the test recordings are chosen (`.fraction` uses `test`).
    public var audioTest: AudioTestSplit = .fraction
    public init() {}
}

/// The `data:` section.
public struct DataConfig: Sendable, Equatable {
    public var format: DataFormat
    /// The absolute base folder for the files (config `dir`, resolved against the config's folder).
    public var dir: String
    /// The training data (without `test`, all the data: the test split is held out by `split.test`).
    public var train: DataSourceConfig
    /// The test data when the files provide it (`test_images`/`test_labels`, `test_x`/`test_y`,
    /// or a CSV `test_file` with the training file's columns).
    public var test: DataSourceConfig?
    /// Per-sample shape: `[H, W, C]` for images, `[F]` for feature vectors, `[length, 1, C]`
    /// for time-series windows.
    public var shape: [Int]
    public var classes: Int
    public var split: SplitConfig
    public var normalize: NormalizeConfig

    public init(
        format: DataFormat, dir: String, train: DataSourceConfig, test: DataSourceConfig?, shape: [Int],
        classes: Int, split: SplitConfig = .init(), normalize: NormalizeConfig = .standard
    ) {
        self.format = format; self.dir = dir; self.train = train; self.test = test; self.shape = shape
        self.classes = classes; self.split = split; self.normalize = normalize
    }
}

/// A model to train: its graph and its recipe.
public struct ModelConfig: Sendable, Equatable {
    public var graph: GraphSpec
    public var train: TrainSettings
    public init(graph: GraphSpec, train: TrainSettings) { self.graph = graph; self.train = train }
}

/// The teacher: exactly one of a model to train, a checkpoint, precomputed logits, or a float
/// TensorFlow Lite model (absolute paths).
public struct TeacherConfig: Sendable, Equatable {
    public var model: ModelConfig?
    public var checkpoint: String?
    public var logits: String?
    /// A float32 `.tflite` run as the teacher (`teacher: {tflite: PATH}`, docs/TFLITE.md).
    public var tflite: String?
    /// The least fraction of labelled transfer rows on which a checkpoint's, a logits file's or a
    /// `.tflite` teacher's argmax must equal the label; nil (`auto`): `TeacherCheck.autoThreshold`. 0 turns the
    /// check off.
    public var minAgreement: Double?
    public init(
        model: ModelConfig? = nil, checkpoint: String? = nil, logits: String? = nil, tflite: String? = nil,
        minAgreement: Double? = nil
    ) {
        self.model = model; self.checkpoint = checkpoint; self.logits = logits; self.tflite = tflite
        self.minAgreement = minAgreement
    }
}

/// Which student `kdc build` exports (and writes as `student.safetensors`).
public enum ShipPolicy: String, Sendable, Equatable, CaseIterable, Codable {
    /// The distilled student, even when the hard-label baseline is better on validation.
    case distilled
    /// The hard-label baseline.
    case baseline
    /// The better of the two on the validation split (accuracy, then cross-entropy).
    case best
}

/// `distill.search`: the grid `auto` settings are chosen from, and the bound on its cost.
public struct SearchConfig: Sendable, Equatable {
    /// Temperatures tried when `distill.temperature` is `auto`.
    public var temperatures: [Float] = [1, 2, 4, 8]
    /// Hard-label weights tried when `distill.alpha` is `auto`.
    public var alphas: [Float] = [0.1, 0.5, 0.9]
    /// The most student epochs the search may spend, its final full-schedule round included;
    /// nil: no bound. A larger plan is cut down to fit (docs/DISTILLATION.md).
    public var maxEpochs: Int? = nil
    public init() {}
}

/// The `distill:` section.
public struct DistillConfig: Sendable, Equatable {
    /// Softmax temperature for soft targets, ≥ 1; nil (`auto`, the default): chosen on the
    /// validation split from `search.temperatures`.
    public var temperature: Float? = nil
    /// Weight of the hard-label loss in [0, 1]; 0 = soft targets only; nil (`auto`, the
    /// default): chosen on the validation split from `search.alphas`.
    public var alpha: Float? = nil
    /// Fraction of each batch blended with another sample and labelled by the teacher alone.
    public var mixup: Float = 0
    /// Also train the student on hard labels alone, same recipe and seed, for comparison.
    public var baseline: Bool = true
    /// Which student to ship; nil: `best` when there is a baseline, else `distilled`.
    public var ship: ShipPolicy? = nil
    /// The grid and budget for `auto` settings.
    public var search: SearchConfig = .init()
    /// With `baseline`: compare distilled and baseline students over these seeds (one teacher,
    /// the chosen setting; the exported student is the one of `seed`). Empty: only `seed`.
    public var compareSeeds: [UInt64] = []
    /// A separate (possibly unlabelled) transfer set; `nil`: the training split.
    public var transfer: DataSourceConfig?
    public init() {}

    /// True when the temperature or alpha is `auto`.
    public var searches: Bool { temperature == nil || alpha == nil }

    /// The policy in force: `ship`, else `best` with a baseline and `distilled` without.
    public func shipPolicy(baseline: Bool) -> ShipPolicy { ship ?? (baseline ? .best : .distilled) }
}

/// The `quantize:` section.
public struct QuantizeConfig: Sendable, Equatable {
    public var calibrationSamples: Int = 1000
    public var method: CalibrationMethod = .minmax
    /// Used by `.percentile`, in (0, 100].
    public var percentile: Double = 99.99
    public init() {}
}

/// The `export:` section.
public struct ExportConfig: Sendable, Equatable {
    public var compress: Bool = true
    /// Base name of the artifact and the C files (a C identifier).
    public var name: String = "model"
    /// The emulated device the model also runs on (`--firmware`, a board of the target layer),
    /// nil for none.
    public var firmware: Board? = nil
    /// Also write the int8 student as `<name>.tflite` (docs/TFLITE.md): the student is then
    /// quantized in TensorFlow Lite's arithmetic, so the `.kdc` and the `.tflite` compute the
    /// same bytes.
    public var tflite: Bool = false
    public init() {}
}

/// The models of a config, and the third one kdc trains: the student on hard labels alone.
public enum ModelRole: String, CaseIterable, Sendable, Codable {
    case teacher, student, baseline

    /// The config section that defines the model (a baseline is the student's architecture).
    public var configKey: String { self == .baseline ? "student" : rawValue }
}

/// Optional device limits.
public struct BudgetConfig: Sendable, Equatable {
    public var flashBytes: Int?
    public var ramBytes: Int?
    /// The most instructions one inference may take on the firmware target (`latency_instructions`,
    /// or `latency_ms` × `clock_mhz` × 1000 at one instruction per cycle); used by `kdc search`.
    public var latencyInstructions: Int? = nil
    public var latencyMs: Double? = nil
    public var clockMHz: Double? = nil
    /// The instruction bound in force: `latency_instructions`, else `latency_ms` at `clock_mhz`.
    public var instructionLimit: Int? {
        latencyInstructions ?? latencyMs.flatMap { ms in clockMHz.map { Int(ms * $0 * 1000) } }
    }
    public init(flashBytes: Int? = nil, ramBytes: Int? = nil) { self.flashBytes = flashBytes; self.ramBytes = ramBytes }
}

/// Command-line values that replace config entries.
public struct ConfigOverrides: Sendable, Equatable {
    /// Replaces `data.dir`; resolved against the current directory.
    public var data: String?
    /// The output folder. Not part of the config; carried for the CLI.
    public var out: String?
    /// Replaces `seed`.
    public var seed: UInt64?
    /// Replaces the teacher's and the student's `train.epochs`.
    public var epochs: Int?
    public init(data: String? = nil, out: String? = nil, seed: UInt64? = nil, epochs: Int? = nil) {
        self.data = data; self.out = out; self.seed = seed; self.epochs = epochs
    }
}

/// A whole kdc configuration, decoded strictly from YAML (see `ConfigDecoder.swift`).
public struct KDCConfig: Sendable, Equatable {
    /// The training seed (initialization, shuffling, dropout, augmentation).
    public var seed: UInt64
    public var data: DataConfig
    public var teacher: TeacherConfig
    public var student: ModelConfig?
    public var distill: DistillConfig
    public var quantize: QuantizeConfig
    public var export: ExportConfig
    public var budget: BudgetConfig?
    /// The config file's path.
    public var file: String
    /// The config file's folder (absolute); relative paths in the config are resolved against it.
    public var baseDirectory: String
    /// The audio front end (`frontend:`), required by and only allowed with `data.format: audio`.
    public var frontend: AudioFrontEndConfig? = nil
    /// `student: {search: …}`: the student is chosen by `kdc search` (then `student` is nil
    /// until the search sets it).
    public var studentSearch: StudentSearchConfig? = nil

    /// Reads and validates the config at `path`, then applies `overrides`.
    /// Throws `KDCError.config` naming the file and the dotted key for every problem.
    public static func load(path: String, overrides: ConfigOverrides = .init()) throws -> KDCConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KDCError.config(file: path, key: "", message: "cannot read the config file (missing or unreadable)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var cfg = try ConfigDecoder(file: path).decode(text)
        let cwd = FileManager.default.currentDirectoryPath
        if let d = overrides.data { cfg.data.dir = resolvePath(d, against: cwd) }
        if let s = overrides.seed { cfg.seed = s }
        if let e = overrides.epochs {
            guard e >= 1 else { throw KDCError.config(file: path, key: "--epochs", message: "must be ≥ 1, got \(e)") }
            cfg.teacher.model?.train.epochs = e
            cfg.student?.train.epochs = e
            cfg.studentSearch?.train.epochs = e
            for m in [cfg.teacher.model, cfg.student].compactMap({ $0 }) where m.train.warmupEpochs >= e {
                throw KDCError.config(
                    file: path, key: "--epochs", message: "\(e) epochs leave no room after warmup_epochs \(m.train.warmupEpochs)")
            }
        }
        return cfg
    }

    /// Parses config text; relative paths resolve against `baseDirectory` (default: the folder of `file`).
    public static func parse(_ text: String, file: String, baseDirectory: String? = nil) throws -> KDCConfig {
        try ConfigDecoder(file: file, baseDirectory: baseDirectory).decode(text)
    }
}
