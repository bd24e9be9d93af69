import Foundation
import KDCTarget

/// Figures for one float model (teacher, student or baseline). Accuracies are fractions.
public struct ModelReport: Codable, Sendable {
    /// nil for a teacher known only by its logits.
    public var params: Int?
    public var macs: Int?
    public var floatAccuracy: Double?
    public var validationAccuracy: Double?
    /// Mean cross-entropy on the validation split (breaks ties of validation accuracy).
    public var validationLoss: Double?
    /// Teacher only: agreement of its argmax with the labels of the transfer rows.
    public var transferAccuracy: Double?
    public var int8Accuracy: Double?
    public var epochs: Int
    public var secondsPerEpoch: Double?
    public var samplesPerSecond: Double?
    public var checkpoint: String?
    /// Every epoch of the training run (loss, accuracies, learning rate, time): the curves.
    public var history: [EpochStats]?
    public init(params: Int?, macs: Int?, epochs: Int) {
        self.params = params; self.macs = macs; self.epochs = epochs
    }
}

/// `report.json`: everything a build measured. Keys are snake_case (docs/CLI.md lists them).
/// Each stage fills its own typed section; nothing is assembled by hand.
public struct BuildReport: Codable, Sendable {
    public var kdcVersion = kdcVersionString
    public var config: String
    public var seed: UInt64
    public var dataset: DatasetReport?
    public var teacher: ModelReport?
    public var student: ModelReport?
    public var baseline: ModelReport?
    public var distill: DistillReport?
    /// Which student was exported, and why.
    public var shipped: ShipDecision?
    /// The teacher's outputs against the labels of the transfer rows.
    public var teacherCheck: TeacherCheck?
    public var quantization: QuantizationReport?
    public var comparison: SeedStudy?
    /// The exported files (export stage).
    public var artifact: ArtifactSection?
    /// The memory plan (export stage).
    public var memory: MemorySection?
    /// The C runtime against the Swift int8 reference on the host (check stage).
    public var runtime: RuntimeSection?
    /// The model on an emulated device (firmware stage, with `--firmware`).
    public var firmware: FirmwareSection?
    /// The device budget and what the model needs (export stage, when the config sets one).
    public var budget: BudgetSection?
    /// The audio front end, for a model built on recordings (`data.format: audio`).
    public var frontend: FrontEndSection?
    /// The sensor stage of a time-series model (`data.format: series`): windows, normalization
    /// as stored, the stream buffer, and with `--firmware` the recorded test samples streamed on
    /// the board (`SensorReport.swift`).
    public var sensor: SensorSection? = nil
    /// The student search that chose the student (`student.search`): every candidate.
    public var studentSearch: StudentSearchReport?
    /// The files of this output set (names in the output folder, this report last): the set a
    /// later run replaces as a whole.
    public var outputs: [String]?
    public init(config: String, seed: UInt64) { self.config = config; self.seed = seed }

    /// Rewrites the checkpoint paths that start with folder `from` to start with `to` (a set
    /// moved to `failed/`).
    mutating func relocate(from: String, to: String) {
        guard from != to else { return }
        func move(_ p: String?) -> String? {
            guard let p, p.hasPrefix(from + "/") else { return p }
            return to + p.dropFirst(from.count)
        }
        let (t, s, b) = (teacher?.checkpoint, student?.checkpoint, baseline?.checkpoint)
        teacher?.checkpoint = move(t)
        student?.checkpoint = move(s)
        baseline?.checkpoint = move(b)
    }

    /// JSON with sorted keys, snake_case, pretty-printed.
    public func json() throws -> Data {
        let enc = JSONEncoder()
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try enc.encode(self)
    }
}

/// `report.json` → `artifact`.
public struct ArtifactSection: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: Int
    public var rawBytes: Int
    public var sha256: String
    public var compressed: Bool
    @NullEncodable public var storedPath: String?
    public var cHeader: String
    public var cSource: String
    /// `<name>.tflite` and its size, with `export.tflite` (docs/TFLITE.md).
    @NullEncodable public var tflitePath: String? = nil
    @NullEncodable public var tfliteBytes: Int? = nil
}

/// `report.json` → `memory`.
public struct MemorySection: Codable, Sendable, Equatable {
    /// The activation arena (the artifact header's `arena_bytes`).
    public var arenaBytes: Int
    /// Kernel scratch after the activations (any runtime variant), and the whole arena.
    public var scratchBytes: Int
    public var arenaTotalBytes: Int
    public var arenaLowerBoundBytes: Int
    public var weightsBytes: Int
    public var unpackBytes: Int
    /// Where each tensor lives in the arena and for which ops (`MemoryPlanner`): the timeline
    /// of `report.html`. Absent in reports written before it was added.
    public var plan: ArenaPlanSection? = nil
    /// With an input stage (docs/AUDIO.md 7): the stream's front-end bytes (window buffer and
    /// scratch; 0 for sensor normalization) and its ring of feature frames, besides the arena
    /// (`kdc_stream_bytes` = their sum). Absent for a model without input stage.
    public var frontendBytes: Int? = nil
    public var ringBytes: Int? = nil
}

/// `report.json` → `memory.plan`: the op order and each tensor's place and lifetime.
public struct ArenaPlanSection: Codable, Sendable, Equatable {
    public struct PlanOp: Codable, Sendable, Equatable {
        /// The op's node name and its kind: the device op ("CONV_2D", "FULLY_CONNECTED", ...), as in
        /// `quantization.layers`.
        public var name: String
        public var kind: String
    }
    public struct PlanTensor: Codable, Sendable, Equatable {
        public var name: String
        /// Byte offset in the arena and byte size (int8 elements).
        public var offset: Int
        public var bytes: Int
        /// First and last op index (into `ops`) the tensor is live, inclusive; the input from 0.
        public var firstOp: Int
        public var lastOp: Int
    }
    public var ops: [PlanOp]
    public var tensors: [PlanTensor]

    public init(ops: [PlanOp], tensors: [PlanTensor]) { self.ops = ops; self.tensors = tensors }

    /// The plan of `graph` as `MemoryPlanner.plan` made it.
    public init(_ plan: MemoryPlan, graph: Graph) {
        ops = graph.nodes.map { PlanOp(name: $0.name, kind: DeviceOp($0.op)?.name ?? $0.op.kind) }
        tensors = plan.offsets.indices.map { i in
            PlanTensor(
                name: graph.tensors[i].name, offset: plan.offsets[i], bytes: plan.sizes[i], firstOp: plan.firstUse[i],
                lastOp: plan.lastUse[i])
        }
    }
}

/// `report.json` → `runtime`: the host check.
public struct RuntimeSection: Codable, Sendable, Equatable {
    public var samples: Int
    /// Output bytes that differ from the Swift int8 reference, over every mode checked.
    public var mismatches: Int
    @NullEncodable public var accuracy: Double?
    public var latencyNsMedian: Int
    /// "compressed" and/or "stored".
    public var modesChecked: [String]
}

/// `report.json` → `firmware`: the worst of the modes run, and each mode in full.
public struct FirmwareSection: Codable, Sendable, Equatable {
    public var target: String
    public var match: Bool
    public var samples: Int
    public var runtimeTextBytes: Int
    public var imageTextBytes: Int
    public var ramBytes: Int
    public var ramPredictedBytes: Int
    public var ramMatchesPrediction: Bool
    public var stackBoundBytes: Int
    public var runtimeStackBoundBytes: Int
    @NullEncodable public var instructionsPerInference: Int?
    @NullEncodable public var instructionsPerMac: Double?
    public var modes: [FirmwareResult]
}

/// `report.json` → `budget`.
public struct BudgetSection: Codable, Sendable, Equatable {
    @NullEncodable public var flashBytes: Int?
    @NullEncodable public var ramBytes: Int?
    public var flashNeededBytes: Int
    public var ramNeededBytes: Int
}

/// An optional that a report writes as `null` when absent (so every key of a section is always
/// there), and reads back from `null` or a missing key.
@propertyWrapper
public struct NullEncodable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: Value?
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        wrappedValue = c.decodeNil() ? nil : try c.decode(Value.self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A missing key reads as nil.
    public func decode<V>(_ type: NullEncodable<V>.Type, forKey key: Key) throws -> NullEncodable<V> {
        try decodeIfPresent(type, forKey: key) ?? NullEncodable(wrappedValue: nil)
    }
}

public struct DatasetReport: Codable, Sendable {
    public var name: String
    public var train: Int
    public var validation: Int
    public var test: Int
    public var sampleShape: [Int]
    public var classes: Int
    /// Class names by id when the labels were strings (absent for integer labels).
    public var classNames: [String]?
    /// Windowing, recordings per split and the per-channel normalization (the model's sensor
    /// input stage) of a time-series dataset (absent otherwise).
    public var series: SeriesReport? = nil
}

public struct DistillReport: Codable, Sendable {
    /// The setting the distilled student was trained with (chosen or given).
    public var temperature: Float
    public var alpha: Float
    /// `config` (both given as numbers) or `search` (at least one `auto`).
    public var chosenBy: String
    public var transfer: String
    public var transferSamples: Int
    /// The search, when one ran.
    public var search: SearchReport?
}

public let kdcVersionString = "0.1.0"
