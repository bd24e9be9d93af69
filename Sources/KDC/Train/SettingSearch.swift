import Foundation

/// One point of the distillation grid.
public struct DistillSetting: Codable, Sendable, Equatable, Hashable {
    public var temperature: Float
    public var alpha: Float
    public init(temperature: Float, alpha: Float) { self.temperature = temperature; self.alpha = alpha }

    /// Every (T, α) pair, temperatures outermost, in the order given (ties go to the earlier one).
    public static func grid(temperatures: [Float], alphas: [Float]) -> [DistillSetting] {
        temperatures.flatMap { t in alphas.map { DistillSetting(temperature: t, alpha: $0) } }
    }
}

/// How a trained student did on the validation split: accuracy first, mean cross-entropy
/// to break ties (with a few hundred validation samples, equal accuracies are common).
public struct ValidationScore: Codable, Sendable, Equatable {
    public var accuracy: Double
    public var loss: Double
    public init(accuracy: Double, loss: Double) { self.accuracy = accuracy; self.loss = loss }

    /// Higher accuracy, or the same accuracy and a lower loss.
    public func beats(_ other: ValidationScore) -> Bool {
        accuracy != other.accuracy ? accuracy > other.accuracy : loss < other.loss
    }
}

/// The rounds of a successive-halving search (Jamieson & Talwalkar 2016): every setting of the
/// grid is trained for a few epochs, the best third goes on to a run three times as long, and so
/// on; the last round trains its survivors on the full schedule and the best of them is the
/// distilled student. Each run starts from scratch with the same seed (same initialization and
/// batch order for every setting) and a learning-rate schedule compressed to its own epochs.
public struct HalvingPlan: Codable, Sendable, Equatable {
    public struct Round: Codable, Sendable, Equatable {
        /// Settings trained in this round.
        public var settings: Int
        /// Epochs of each of its runs.
        public var epochs: Int
        public init(settings: Int, epochs: Int) { self.settings = settings; self.epochs = epochs }
    }

    /// Settings kept and epochs multiplied from one round to the next.
    public static let factor = 3

    public var rounds: [Round]
    /// The plan's cost before any cut (student epochs).
    public var plannedEpochs: Int
    /// How the plan was cut down to fit the bound; nil when it fits as planned.
    public var cut: String?

    /// Student epochs of every run, the final round included.
    public var epochs: Int { rounds.reduce(0) { $0 + $1.settings * $1.epochs } }

    /// The standard plan for `settings` grid points and a full schedule of `fullEpochs`:
    /// counts n, ⌈n/3⌉, ⌈n/9⌉, … down to the first count ≤ 3, which is the final round; round
    /// r of R runs ⌈E / 3^(R−1−r)⌉ epochs, so the final round runs the full schedule E.
    /// 12 settings, E = 300: 12 × 34, 4 × 100, 2 × 300 = 1408 epochs.
    ///
    /// With `maxEpochs` below that cost the plan is cut down, first of these that fits:
    /// 1. the same rounds, the short ones (all but the final) shortened by one factor (≥ 1 epoch);
    /// 2. the final round trains only the best setting of the short rounds, which are shortened;
    /// 3. one short round of every setting, then the best on the full schedule.
    /// Throws when even 3 with one-epoch runs (n + E epochs) is over the bound.
    public static func plan(settings n: Int, fullEpochs e: Int, maxEpochs: Int?) throws -> HalvingPlan {
        precondition(n >= 1 && e >= 1)
        var counts = [n]
        while counts.last! > factor { counts.append((counts.last! + factor - 1) / factor) }
        let r = counts.count
        func epochs(_ i: Int, of rounds: Int) -> Int {
            var d = 1
            for _ in 0..<(rounds - 1 - i) { d *= factor }
            return max(1, (e + d - 1) / d)
        }
        let standard = (0..<r).map { Round(settings: counts[$0], epochs: epochs($0, of: r)) }
        var plan = HalvingPlan(rounds: standard, plannedEpochs: 0, cut: nil)
        plan.plannedEpochs = plan.epochs
        guard let bound = maxEpochs, plan.epochs > bound else { return plan }

        // The shapes to try, each: short rounds (shortened to fit) and the final round.
        let longest = r >= 2 ? Array(standard.dropLast()) : [Round(settings: n, epochs: epochs(0, of: 2))]
        let shapes: [(short: [Round], final: Round, how: String)] = [
            (Array(standard.dropLast()), standard.last!, "the short rounds were shortened"),
            (longest, Round(settings: 1, epochs: e), "the final round trains only the best setting of the short rounds"),
            (
                [Round(settings: n, epochs: longest[0].epochs)], Round(settings: 1, epochs: e),
                "one short round of every setting, then only the best on the full schedule"
            ),
        ]
        for shape in shapes {
            let room = bound - shape.final.settings * shape.final.epochs
            let least = shape.short.reduce(0) { $0 + $1.settings }
            guard room >= least else { continue }
            let full = shape.short.reduce(0) { $0 + $1.settings * $1.epochs }
            var short = shape.short
            if full > room {
                let f = Double(room) / Double(full)
                for i in short.indices { short[i].epochs = max(1, Int(Double(short[i].epochs) * f)) }
                // The one-epoch floor can overshoot: trim the longest short run (the earliest of
                // equals, so later rounds stay at least as long) until the plan fits.
                while short.reduce(0, { $0 + $1.settings * $1.epochs }) > room {
                    let top = short.map(\.epochs).max()!
                    let i = short.firstIndex { $0.epochs == top }!
                    short[i].epochs -= 1
                }
            }
            plan.rounds = short + [shape.final]
            let was = standard.map { "\($0.settings)×\($0.epochs)" }.joined(separator: " + ")
            let now = plan.rounds.map { "\($0.settings)×\($0.epochs)" }.joined(separator: " + ")
            plan.cut =
                "the plan (\(was) = \(plan.plannedEpochs) epochs) is over distill.search.max_epochs \(bound): "
                + "\(shape.how), now \(now) = \(plan.epochs) epochs"
            return plan
        }
        throw KDCError.config(
            file: "", key: "distill.search.max_epochs",
            message:
                "\(bound) epochs cannot pay for this search: the least it needs is \(n + e) (each of the \(n) settings for one epoch, "
                + "then the best for the full \(e) epochs); hint: raise distill.search.max_epochs to at least \(n + e), "
                + "shorten distill.search.temperatures or alphas, or give distill.temperature and distill.alpha as numbers")
    }
}

/// One run of the search.
public struct SearchTrial: Codable, Sendable, Equatable {
    public var temperature: Float
    public var alpha: Float
    /// 1-based.
    public var round: Int
    public var epochs: Int
    public var validationAccuracy: Double
    public var validationLoss: Double
    public var seconds: Double
    /// Went on to the next round (or, in the final round, won).
    public var kept: Bool
}

/// Runs `plan` over `grid`: each round trains its settings with `trial(setting, epochs)`, ranks
/// them by validation score (ties: the earlier grid point) and keeps as many as the next round
/// trains. Returns the winner, the model the final round trained for it, and every run.
/// `progress` receives one line per run.
public func successiveHalving<Model>(
    grid: [DistillSetting], plan: HalvingPlan, progress: ((_ run: SearchTrial, _ indexInRound: Int) -> Void)? = nil,
    trial: (DistillSetting, _ epochs: Int) throws -> (score: ValidationScore, model: Model)
) rethrows -> (winner: DistillSetting, model: Model, trials: [SearchTrial]) {
    precondition(plan.rounds.first?.settings == grid.count && plan.rounds.last!.settings >= 1)
    var alive = Array(grid.indices)
    var trials: [SearchTrial] = []
    var finalModels: [Int: Model] = [:]
    var ranked: [Int] = []
    for (r, round) in plan.rounds.enumerated() {
        precondition(alive.count == round.settings)
        var scores: [Int: ValidationScore] = [:]
        let first = trials.count
        for (k, i) in alive.enumerated() {
            let start = Date()
            let (score, model) = try trial(grid[i], round.epochs)
            scores[i] = score
            if r == plan.rounds.count - 1 { finalModels[i] = model }
            trials.append(
                SearchTrial(
                    temperature: grid[i].temperature, alpha: grid[i].alpha, round: r + 1, epochs: round.epochs,
                    validationAccuracy: score.accuracy, validationLoss: score.loss,
                    seconds: Date().timeIntervalSince(start), kept: false))
            progress?(trials.last!, k + 1)
        }
        ranked = alive.sorted { a, b in
            scores[a]!.beats(scores[b]!) || (!scores[b]!.beats(scores[a]!) && a < b)
        }
        let keep = r + 1 < plan.rounds.count ? plan.rounds[r + 1].settings : 1
        let kept = Set(ranked.prefix(keep))
        for (k, i) in alive.enumerated() { trials[first + k].kept = kept.contains(i) }
        alive = alive.filter { kept.contains($0) }
    }
    let w = ranked[0]
    return (grid[w], finalModels[w]!, trials)
}
