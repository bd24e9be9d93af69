import Foundation

/// Figures for one float model (teacher, student or baseline). Accuracies are fractions.
public struct ModelReport: Codable, Sendable {
    public var params: Int
    public var macs: Int
    public var floatAccuracy: Double?
    public var validationAccuracy: Double?
    public var int8Accuracy: Double?
    public var epochs: Int
    public var secondsPerEpoch: Double?
    public var samplesPerSecond: Double?
    public var checkpoint: String?
    public init(params: Int, macs: Int, epochs: Int) {
        self.params = params; self.macs = macs; self.epochs = epochs
    }
}

/// `report.json`: everything a build measured. Keys are snake_case (see docs/REPORT.md).
public struct BuildReport: Codable, Sendable {
    public var kdcVersion = kdcVersionString
    public var config: String
    public var seed: UInt64
    public var dataset: DatasetReport?
    public var teacher: ModelReport?
    public var student: ModelReport?
    public var baseline: ModelReport?
    public var distill: DistillReport?
    public var quantization: QuantizationReport?
    public var comparison: SeedStudy?
    public var sections: [String: JSONValue] = [:]
    public init(config: String, seed: UInt64) { self.config = config; self.seed = seed }

    enum CodingKeys: String, CodingKey {
        case kdcVersion, config, seed, dataset, teacher, student, baseline, distill, quantization, comparison
    }

    /// JSON with sorted keys, snake_case, pretty-printed; later stages' sections merged at the top level.
    public func json() throws -> Data {
        let enc = JSONEncoder()
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var base = try JSONDecoder().decode([String: JSONValue].self, from: enc.encode(self))
        for (k, v) in sections { base[k] = v }
        return try enc.encode(base)
    }
}

public struct DatasetReport: Codable, Sendable {
    public var name: String
    public var train: Int
    public var validation: Int
    public var test: Int
    public var sampleShape: [Int]
    public var classes: Int
}

public struct DistillReport: Codable, Sendable {
    public var temperature: Float
    public var alpha: Float
    public var transfer: String
    public var transferSamples: Int
}

/// A JSON value, for report sections assembled by later stages.
public enum JSONValue: Codable, Sendable, Equatable {
    case number(Double), int(Int), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .number(d): try c.encode(d)
        case let .int(i): try c.encode(i)
        case let .string(s): try c.encode(s)
        case let .bool(b): try c.encode(b)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }
}

public let kdcVersionString = "0.1.0"
