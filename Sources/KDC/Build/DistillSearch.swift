import Foundation

/// `report.json` → `distill.search`: the grid, the plan, and every run with its validation score.
public struct SearchReport: Codable, Sendable {
    public var temperatures: [Float]
    public var alphas: [Float]
    public var halvingFactor: Int
    public var rounds: [HalvingPlan.Round]
    /// The plan's cost before any cut, and the bound (student epochs).
    public var plannedEpochs: Int
    @NullEncodable public var maxEpochs: Int?
    /// What the search spent, its final round included.
    public var usedEpochs: Int
    /// How the plan was cut down to fit `maxEpochs`; nil when it was not.
    @NullEncodable public var cut: String?
    public var seconds: Double
    public var trials: [SearchTrial]
}

/// `report.json` → `shipped`: which student was exported and why.
public struct ShipDecision: Codable, Sendable, Equatable {
    /// `distilled` or `baseline`.
    public var model: String
    public var policy: ShipPolicy
    public var reason: String
    @NullEncodable public var distilledValidationAccuracy: Double?
    @NullEncodable public var baselineValidationAccuracy: Double?
    /// nil without a baseline.
    @NullEncodable public var distilledBeatsBaseline: Bool?
    /// Set when the distilled student does not beat the baseline on validation (the summary
    /// prints it in bold).
    @NullEncodable public var warning: String?

    public var shipsBaseline: Bool { model == "baseline" }

    /// Applies `policy` to the two students' validation figures (accuracy, then loss).
    public static func decide(policy: ShipPolicy, distilled d: ModelReport, baseline b: ModelReport?) -> ShipDecision {
        guard let b else {
            return ShipDecision(
                model: "distilled", policy: .distilled,
                reason:
                    "no hard-label baseline was trained (distill.baseline: false): the distilled student is not checked against one",
                distilledValidationAccuracy: d.validationAccuracy, baselineValidationAccuracy: nil, distilledBeatsBaseline: nil,
                warning: nil)
        }
        let ds = ValidationScore(accuracy: d.validationAccuracy ?? 0, loss: d.validationLoss ?? .infinity)
        let bs = ValidationScore(accuracy: b.validationAccuracy ?? 0, loss: b.validationLoss ?? .infinity)
        let beats = ds.beats(bs)
        let figures =
            ds.accuracy == bs.accuracy
            ? "both \(fmtPct(ds.accuracy)); validation loss \(String(format: "%.4f", ds.loss)) vs \(String(format: "%.4f", bs.loss))"
            : "\(fmtPct(ds.accuracy)) vs \(fmtPct(bs.accuracy))"
        let model: String
        let reason: String
        switch policy {
        case .best:
            model = beats ? "distilled" : "baseline"
            reason =
                beats
                ? "distill.ship: best: the distilled student is better on validation (\(figures))"
                : "distill.ship: best: the hard-label baseline is at least as good on validation (distilled \(figures))"
        case .distilled:
            model = "distilled"
            reason = "distill.ship: distilled"
        case .baseline:
            model = "baseline"
            reason = "distill.ship: baseline"
        }
        let warning =
            beats
            ? nil
            : "the distilled student does not beat the hard-label baseline on validation (distilled \(figures)): "
                + (model == "baseline"
                    ? "shipped the baseline" : "shipped the distilled student anyway (distill.ship: distilled)")
        return ShipDecision(
            model: model, policy: policy, reason: reason, distilledValidationAccuracy: d.validationAccuracy,
            baselineValidationAccuracy: b.validationAccuracy, distilledBeatsBaseline: beats, warning: warning)
    }
}

/// A number without trailing zeros (4, 0.5).
public func fmtNumber(_ x: Float) -> String {
    x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : "\(x)"
}

/// `**text**` as bold for a terminal (`ansi`), markers kept so copied text still shows it.
public func emphasize(_ text: String, ansi: Bool) -> String {
    guard ansi else { return text }
    var out = "", rest = Substring(text)
    while let open = rest.range(of: "**") {
        guard let close = rest[open.upperBound...].range(of: "**") else { break }
        out += rest[..<open.lowerBound] + "\u{1B}[1m**" + rest[open.upperBound..<close.lowerBound] + "**\u{1B}[0m"
        rest = rest[close.upperBound...]
    }
    return out + rest
}

extension Pipeline {
    /// The grid `auto` settings are chosen from (a given number is a one-value axis).
    /// With a transfer set that has no labels, `auto` α is 0 (soft targets only).
    var searchGrid: [DistillSetting] {
        let d = config.distill
        var alphas = d.alpha.map { [$0] } ?? d.search.alphas
        if d.alpha == nil, let t = d.transfer, !t.hasLabels { alphas = [0] }
        return DistillSetting.grid(temperatures: d.temperature.map { [$0] } ?? d.search.temperatures, alphas: alphas)
    }

    /// The search plan for the student's schedule, or nil when both settings are given.
    /// Throws (before any training) when `distill.search.max_epochs` cannot pay for it.
    public func searchPlan() throws -> HalvingPlan? {
        guard config.distill.searches, let sc = config.student else { return nil }
        do {
            return try HalvingPlan.plan(
                settings: searchGrid.count, fullEpochs: sc.train.epochs, maxEpochs: config.distill.search.maxEpochs)
        } catch let KDCError.config(_, key, message) {
            throw KDCError.config(file: config.file, key: key, message: message)
        }
    }

    /// Distils the student with the config's setting, or chooses it on the validation split by
    /// successive halving over the grid (`plan`) and returns the final round's best student.
    func distillChosen(
        _ sc: ModelConfig, plan: HalvingPlan?, teacher: TeacherSource, transfer: Dataset, data: DataSplits,
        secondsPerEpoch: Double?
    ) throws -> (student: TrainedModel, setting: DistillSetting, search: SearchReport?) {
        guard let plan else {
            let s = DistillSetting(temperature: config.distill.temperature!, alpha: config.distill.alpha!)
            return (try distill(sc, setting: s, teacher: teacher, transfer: transfer, data: data, seed: config.seed), s, nil)
        }
        guard data.validation.count > 0 else {
            throw KDCError.config(
                file: config.file, key: config.distill.temperature == nil ? "distill.temperature" : "distill.alpha",
                message:
                    "auto chooses the setting on the validation split, which is empty for this data; hint: raise data.split.validation, or give distill.temperature and distill.alpha as numbers"
            )
        }
        let grid = searchGrid
        let d = config.distill
        let axes =
            "T ∈ {\(grid.map(\.temperature).uniqued().map(fmtNumber).joined(separator: ", "))} × "
            + "α ∈ {\(grid.map(\.alpha).uniqued().map(fmtNumber).joined(separator: ", "))}"
        let rounds = plan.rounds.map { "\($0.settings) × \($0.epochs)" }.joined(separator: ", then ")
        let estimate = secondsPerEpoch.map { " ≈ \(fmtSeconds(Double(plan.epochs) * $0)) at the baseline's pace" } ?? ""
        observer?.stage(
            "search",
            detail: "\(grid.count) settings (\(axes)) by successive halving on validation accuracy: \(rounds) epochs = "
                + "\(plan.epochs) student epochs\(estimate); bound \(d.search.maxEpochs.map(String.init) ?? "none")"
                + (plan.cut.map { "; \($0)" } ?? ""))
        let start = Date()
        var timed = false
        let (winner, model, trials) = try successiveHalving(
            grid: grid, plan: plan,
            progress: { run, k in
                let r = plan.rounds[run.round - 1]
                self.observer?.stage(
                    "search",
                    detail: "round \(run.round)/\(plan.rounds.count), \(k)/\(r.settings): T = \(fmtNumber(run.temperature)), "
                        + "α = \(fmtNumber(run.alpha)), \(run.epochs) epoch\(run.epochs == 1 ? "" : "s"): validation \(fmtPct(run.validationAccuracy)) "
                        + String(format: "(loss %.4f, ", run.validationLoss) + fmtSeconds(run.seconds) + ")")
                if !timed {
                    timed = true
                    let perEpoch = run.seconds / Double(run.epochs)
                    self.observer?.stage(
                        "search",
                        detail: "first run timed: the search should take about \(fmtSeconds(perEpoch * Double(plan.epochs)))")
                }
            },
            trial: { setting, epochs in
                let m = try self.distill(
                    sc, setting: setting, teacher: teacher, transfer: transfer, data: data, seed: config.seed, epochs: epochs,
                    quiet: true)
                return (
                    ValidationScore(accuracy: m.report.validationAccuracy ?? 0, loss: m.report.validationLoss ?? .infinity), m
                )
            })
        let report = SearchReport(
            temperatures: grid.map(\.temperature).uniqued(), alphas: grid.map(\.alpha).uniqued(),
            halvingFactor: HalvingPlan.factor, rounds: plan.rounds, plannedEpochs: plan.plannedEpochs,
            maxEpochs: d.search.maxEpochs, usedEpochs: plan.epochs, cut: plan.cut, seconds: Date().timeIntervalSince(start),
            trials: trials)
        observer?.stage(
            "search",
            detail: "chose T = \(fmtNumber(winner.temperature)), α = \(fmtNumber(winner.alpha)) "
                + "(validation \(fmtPct(model.report.validationAccuracy))) in \(fmtSeconds(report.seconds))")
        return (model, winner, report)
    }
}

extension DataSourceConfig {
    /// The source names labels (a label column, a labels file).
    var hasLabels: Bool {
        switch self {
        case let .csv(_, labelColumn, _): return labelColumn != nil
        case let .idx(_, labels): return labels != nil
        case let .npy(_, y): return y != nil
        case .series: return true
        case .audio: return true
        }
    }
}

/// Seconds as "12.3 s" or "4m05s".
func fmtSeconds(_ s: Double) -> String {
    s >= 60 ? String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) : String(format: "%.1f s", s)
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

extension SearchReport {
    /// The grid as a table: for each (T, α), the validation accuracy of its longest run and
    /// that run's epochs; `*` marks the chosen setting.
    public func table(chosen: DistillSetting) -> String {
        var last: [DistillSetting: SearchTrial] = [:]
        for t in trials { last[DistillSetting(temperature: t.temperature, alpha: t.alpha)] = t }
        let width = 17
        var s = "  T \\ α" + alphas.map { rpad(fmtNumber($0), width) }.joined() + "\n"
        for t in temperatures {
            s += rpad(fmtNumber(t), 7)
            for a in alphas {
                let k = DistillSetting(temperature: t, alpha: a)
                let cell = last[k].map {
                    fmtPct($0.validationAccuracy) + " (\($0.epochs) ep)" + (k == chosen ? "*" : " ")
                }
                s += rpad(cell ?? "— ", width)
            }
            s += "\n"
        }
        return s
    }
}
