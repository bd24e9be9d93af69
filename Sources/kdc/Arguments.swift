import ArgumentParser
import KDC
import KDCTarget

/// `--firmware`: a board of the target layer (`Board.all`, by name), or `none`.
enum FirmwareArgument: ExpressibleByArgument, Equatable {
    case none
    case board(Board)

    init?(argument: String) {
        if argument == "none" {
            self = .none
        } else if let b = Board.all.first(where: { $0.name == argument }) {
            self = .board(b)
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { Board.all.map(\.name) + ["none"] }

    var board: Board? {
        if case let .board(b) = self { return b }
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
