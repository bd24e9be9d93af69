import Foundation
import Yams

/// The student families a search enumerates (`student.search.family`).
public enum StudentFamily: String, Sendable, Equatable, CaseIterable, Codable {
    /// flatten → (dense, relu) × depth → dense(classes).
    case mlp
    /// (conv k×k same, relu, pool 2) × depth → flatten → dense(classes).
    case cnn
    /// conv k×k same, relu, pool → (depthwise k×k, relu, pointwise 1×1, relu, pool) × (depth − 1)
    /// → flatten → dense(classes).
    case dscnn
}

/// How a CNN block ends (`student.search.pooling`).
public enum PoolingChoice: String, Sendable, Equatable, CaseIterable, Codable {
    case max, avg, none
}

/// `student: {search: …}`: the space of students to enumerate, and what the search may spend.
public struct StudentSearchConfig: Sendable, Equatable {
    public var family: StudentFamily
    /// Hidden widths of an MLP; the hidden layers of a candidate never widen.
    public var widths: [Int] = [8, 16, 32, 64]
    /// Hidden layers (MLP) or convolution blocks (CNN, DS-CNN).
    public var depths: [Int]
    /// Channels of a block (CNN, DS-CNN); the blocks of a candidate never narrow.
    public var channels: [Int] = [4, 8, 16, 32]
    /// The convolutions' kernel (square), ≥ 1.
    public var kernel: Int = 3
    /// How CNN and DS-CNN blocks end; each choice is a candidate of its own.
    public var pooling: [PoolingChoice] = [.max]
    /// Wall-clock budget of the search in minutes (`--time` replaces it). The plan is made from
    /// a fixed cost model (`StudentSearch.costSeconds`), so the same config and seed always run the
    /// same plan; the measured time is reported next to it.
    public var timeMinutes: Double = 10
    /// Seeds the candidates' initialization and batch order; nil: the config's `seed`.
    public var seed: UInt64? = nil
    /// The training recipe (`student.train`); the search's short runs compress its schedule.
    public var train: TrainSettings = TrainSettings()

    public init(family: StudentFamily) {
        self.family = family
        depths = family == .dscnn ? [2, 3] : [1, 2]
    }
}

extension ConfigDecoder {
    /// `student: {search: {family, widths, depths, channels, kernel, pooling, time_minutes, seed}, train: …}`.
    func decodeStudentSearch(_ node: Node, _ path: String, train: TrainSettings) throws -> StudentSearchConfig {
        let keys = ["family", "widths", "depths", "channels", "kernel", "pooling", "time_minutes", "seed"]
        let m = try mapping(node, path, allowed: keys)
        let family = try enumValue(try required(m, "family", path), path + ".family", StudentFamily.self)
        var s = StudentSearchConfig(family: family)
        s.train = train
        let unused: [String] = family == .mlp ? ["channels", "kernel", "pooling"] : ["widths"]
        if let bad = unused.first(where: { m[$0] != nil }) {
            throw fail(
                path + "." + bad,
                "not used by family \(family.rawValue); \(family == .mlp ? "mlp takes widths and depths" : "\(family.rawValue) takes channels, depths, kernel and pooling")"
            )
        }
        func positiveList(_ key: String, max: Int) throws -> [Int]? {
            guard let n = m[key] else { return nil }
            let v = try intList(n, path + "." + key)
            guard !v.isEmpty else { throw fail(path + "." + key, "must list at least one value") }
            for (i, x) in v.enumerated() where x < 1 || x > max {
                throw fail("\(path).\(key)[\(i)]", "must be in 1...\(max), got \(x)")
            }
            guard Set(v).count == v.count else { throw fail(path + "." + key, "lists a value twice: \(v)") }
            return v.sorted()
        }
        if let v = try positiveList("widths", max: 4096) { s.widths = v }
        if let v = try positiveList("channels", max: 1024) { s.channels = v }
        if let v = try positiveList("depths", max: 6) { s.depths = v }
        if family == .dscnn, let d = s.depths.first, d < 2 {
            throw fail(
                path + ".depths",
                "a depthwise-separable CNN has a first convolution and at least one separable block: depths ≥ 2, got \(d)")
        }
        if let v = m["kernel"] {
            s.kernel = try int(v, path + ".kernel", min: 1)
            guard s.kernel <= 7 else { throw fail(path + ".kernel", "must be in 1...7, got \(s.kernel)") }
        }
        if let v = m["pooling"] {
            let items = try list(v, path + ".pooling", "pooling choices (max, avg, none)")
            guard !items.isEmpty else { throw fail(path + ".pooling", "must list at least one of max, avg, none") }
            s.pooling = try items.enumerated().map { try enumValue($1, "\(path).pooling[\($0)]", PoolingChoice.self) }
        }
        if let v = m["time_minutes"] {
            s.timeMinutes = try double(v, path + ".time_minutes")
            guard s.timeMinutes > 0 && s.timeMinutes <= 24 * 60 else {
                throw fail(path + ".time_minutes", "must be in (0, 1440] minutes, got \(s.timeMinutes)")
            }
        }
        if let v = m["seed"] { s.seed = try uint64(v, path + ".seed") }
        return s
    }
}
