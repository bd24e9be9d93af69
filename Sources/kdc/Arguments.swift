import ArgumentParser
import KDC

/// `--firmware`: a firmware target, or `none`.
enum FirmwareArgument: ExpressibleByArgument, Equatable {
    case none
    case target(FirmwareTarget)

    init?(argument: String) {
        if argument == "none" {
            self = .none
        } else if let t = FirmwareTarget(rawValue: argument) {
            self = .target(t)
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { ["none"] + FirmwareTarget.allCases.map(\.rawValue) }

    var target: FirmwareTarget? {
        if case let .target(t) = self { return t }
        return nil
    }
}

/// `kdc train --model`: the models a config defines.
enum TrainableModel: String, ExpressibleByArgument, CaseIterable {
    case teacher, student

    var role: ModelRole { self == .teacher ? .teacher : .student }
}

/// `--seeds 0,1,2`: comma-separated seeds, at least one.
struct SeedList: ExpressibleByArgument, Equatable {
    var seeds: [UInt64]

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let seeds = parts.compactMap { UInt64($0) }
        guard !parts.isEmpty, seeds.count == parts.count else { return nil }
        self.seeds = seeds
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
