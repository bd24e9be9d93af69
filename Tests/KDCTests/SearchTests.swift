import Foundation
import XCTest
@testable import KDC

/// The search's mechanics with stubbed runs: the plan, halving, ranking, the budget and the
/// ship policy. (PipelineTests runs it on real data.)
final class SearchTests: XCTestCase {
    let grid = DistillSetting.grid(temperatures: [1, 2, 4, 8], alphas: [0.1, 0.5, 0.9])

    func shape(_ p: HalvingPlan) -> [[Int]] { p.rounds.map { [$0.settings, $0.epochs] } }

    func testStandardPlans() throws {
        let p = try HalvingPlan.plan(settings: 12, fullEpochs: 300, maxEpochs: nil)
        XCTAssertEqual(shape(p), [[12, 34], [4, 100], [2, 300]])
        XCTAssertEqual(p.epochs, 1408)
        XCTAssertEqual(p.plannedEpochs, 1408)
        XCTAssertNil(p.cut)
        XCTAssertEqual(shape(try HalvingPlan.plan(settings: 12, fullEpochs: 20, maxEpochs: nil)), [[12, 3], [4, 7], [2, 20]])
        XCTAssertEqual(shape(try HalvingPlan.plan(settings: 4, fullEpochs: 60, maxEpochs: nil)), [[4, 20], [2, 60]])
        XCTAssertEqual(shape(try HalvingPlan.plan(settings: 3, fullEpochs: 60, maxEpochs: nil)), [[3, 60]])
        XCTAssertEqual(shape(try HalvingPlan.plan(settings: 12, fullEpochs: 1, maxEpochs: nil)), [[12, 1], [4, 1], [2, 1]])
        // A bound the plan fits is no cut.
        XCTAssertNil(try HalvingPlan.plan(settings: 12, fullEpochs: 300, maxEpochs: 1408).cut)
    }

    func testAPlanOverTheBoundIsCutToFit() throws {
        // 1. Short rounds shortened, the final round (2 × 300) kept.
        let a = try HalvingPlan.plan(settings: 12, fullEpochs: 300, maxEpochs: 1000)
        XCTAssertLessThanOrEqual(a.epochs, 1000)
        XCTAssertEqual(a.rounds.map(\.settings), [12, 4, 2])
        XCTAssertEqual(a.rounds.last?.epochs, 300)
        XCTAssertLessThan(a.rounds[0].epochs, 34)
        XCTAssertLessThanOrEqual(a.rounds[0].epochs, a.rounds[1].epochs)
        XCTAssertEqual(a.plannedEpochs, 1408)
        XCTAssertTrue(a.cut?.contains("max_epochs 1000") ?? false, a.cut ?? "no cut")
        // 2. Two full runs do not fit: only the best of the short rounds gets the full schedule.
        let b = try HalvingPlan.plan(settings: 12, fullEpochs: 300, maxEpochs: 500)
        XCTAssertLessThanOrEqual(b.epochs, 500)
        XCTAssertEqual(b.rounds.map(\.settings), [12, 4, 1])
        XCTAssertEqual(b.rounds.last?.epochs, 300)
        XCTAssertTrue(b.cut?.contains("only the best") ?? false, b.cut ?? "no cut")
        // 3. One short round of every setting, then the best: 12 × 1 + 300 is the least.
        let c = try HalvingPlan.plan(settings: 12, fullEpochs: 300, maxEpochs: 312)
        XCTAssertEqual(shape(c), [[12, 1], [1, 300]])
        XCTAssertEqual(c.epochs, 312)
        // Less than that cannot pay for the search: a config error that names the least.
        XCTAssertThrowsError(try HalvingPlan.plan(settings: 12, fullEpochs: 300, maxEpochs: 311)) { e in
            guard case let KDCError.config(_, key, message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(key, "distill.search.max_epochs")
            XCTAssertTrue(message.contains("312"), message)
        }
        // Every bound from the least upward gives a plan within it.
        for bound in stride(from: 312, through: 1500, by: 7) {
            let p = try HalvingPlan.plan(settings: 12, fullEpochs: 300, maxEpochs: bound)
            XCTAssertLessThanOrEqual(p.epochs, bound)
            XCTAssertEqual(p.rounds.last?.epochs, 300, "the winner always gets the full schedule")
        }
    }

    /// A stub whose ranking changes with the run length: the search must keep the right number,
    /// the best of each round, and pick by the final round's score.
    func testHalvingKeepsTheRightCountAndPicksTheBestOfTheFinalRound() throws {
        let plan = try HalvingPlan.plan(settings: 12, fullEpochs: 27, maxEpochs: nil)
        XCTAssertEqual(shape(plan), [[12, 3], [4, 9], [2, 27]])
        // Short runs favour high α and low T; at full length T = 2, α = 0.5 is far ahead.
        let special = DistillSetting(temperature: 2, alpha: 0.5)
        func score(_ s: DistillSetting, _ epochs: Int) -> Double {
            let long = Double(epochs) / 27
            let shortScore = Double(s.alpha) * 0.1 - Double(s.temperature) * 0.001
            let longScore = s == special ? 0.2 : -Double(s.temperature) * 0.01
            return 0.8 + (1 - long) * shortScore + long * longScore
        }
        var runs: [(DistillSetting, Int)] = []
        let (winner, model, trials) = successiveHalving(grid: grid, plan: plan) { s, e in
            runs.append((s, e))
            return (ValidationScore(accuracy: score(s, e), loss: 1), "model \(s.temperature) \(s.alpha) \(e)")
        }
        XCTAssertEqual(runs.map(\.1), [Int](repeating: 3, count: 12) + [Int](repeating: 9, count: 4) + [27, 27])
        XCTAssertEqual(trials.count, 18)
        // Each round keeps exactly the best of its runs, as many as the next round trains.
        for (r, keep) in [(1, 4), (2, 2), (3, 1)] {
            let round = trials.filter { $0.round == r }
            let best = round.sorted { $0.validationAccuracy > $1.validationAccuracy }.prefix(keep)
            XCTAssertEqual(round.filter(\.kept).count, keep, "round \(r)")
            XCTAssertEqual(
                Set(round.filter(\.kept).map { [$0.temperature, $0.alpha] }), Set(best.map { [$0.temperature, $0.alpha] }),
                "round \(r)")
        }
        // (2, 0.5) is only fourth after 3 epochs, first after 9 and 27: it wins.
        XCTAssertEqual(winner, special)
        XCTAssertEqual(model, "model 2.0 0.5 27", "the winner's model is its full-length run")
    }

    func testTheWinnerIsTheBestValidationSetting() throws {
        // A known best: (4, 0.1) scores highest at every length.
        let plan = try HalvingPlan.plan(settings: 12, fullEpochs: 9, maxEpochs: nil)
        let best = DistillSetting(temperature: 4, alpha: 0.1)
        let (winner, _, trials) = successiveHalving(grid: grid, plan: plan) { s, e in
            (ValidationScore(accuracy: s == best ? 0.9 : 0.5 + Double(s.alpha) * 0.1, loss: 1), ())
        }
        XCTAssertEqual(winner, best)
        XCTAssertTrue(trials.filter { $0.temperature == 4 && $0.alpha == 0.1 }.allSatisfy(\.kept))
    }

    func testTiesGoToTheLowerLossThenTheEarlierGridPoint() {
        let plan = HalvingPlan(rounds: [.init(settings: 3, epochs: 1), .init(settings: 1, epochs: 2)], plannedEpochs: 5)
        let g = Array(grid.prefix(3))
        let byLoss = successiveHalving(grid: g, plan: plan) { s, _ in
            (ValidationScore(accuracy: 0.9, loss: s.alpha == 0.5 ? 0.1 : 0.2), ())
        }
        XCTAssertEqual(byLoss.winner, g[1])
        let byOrder = successiveHalving(grid: g, plan: plan) { _, _ in (ValidationScore(accuracy: 0.9, loss: 0.2), ()) }
        XCTAssertEqual(byOrder.winner, g[0])
    }

    func report(_ acc: Double, _ loss: Double) -> ModelReport {
        var r = ModelReport(params: 1, macs: 1, epochs: 1)
        r.validationAccuracy = acc
        r.validationLoss = loss
        return r
    }

    func testShipBestPicksTheBaselineWhenItWinsOnValidation() {
        let lose = ShipDecision.decide(policy: .best, distilled: report(0.90, 0.3), baseline: report(0.92, 0.3))
        XCTAssertEqual(lose.model, "baseline")
        XCTAssertEqual(lose.distilledBeatsBaseline, false)
        XCTAssertTrue(lose.warning?.contains("does not beat") ?? false)
        let win = ShipDecision.decide(policy: .best, distilled: report(0.93, 0.3), baseline: report(0.92, 0.2))
        XCTAssertEqual(win.model, "distilled")
        XCTAssertNil(win.warning)
        // Equal accuracy: the lower validation loss decides; equal in both, the baseline ships.
        XCTAssertEqual(
            ShipDecision.decide(policy: .best, distilled: report(0.9, 0.2), baseline: report(0.9, 0.3)).model, "distilled")
        XCTAssertEqual(
            ShipDecision.decide(policy: .best, distilled: report(0.9, 0.3), baseline: report(0.9, 0.3)).model, "baseline")
        // The config can insist; the warning stays.
        let forced = ShipDecision.decide(policy: .distilled, distilled: report(0.90, 0.3), baseline: report(0.92, 0.3))
        XCTAssertEqual(forced.model, "distilled")
        XCTAssertTrue(forced.warning?.contains("anyway") ?? false)
        XCTAssertEqual(
            ShipDecision.decide(policy: .baseline, distilled: report(0.95, 0.1), baseline: report(0.9, 0.3)).model, "baseline")
    }

    func testEmphasizeMakesMarkedTextBoldOnATerminal() {
        XCTAssertEqual(emphasize("a **b** c", ansi: false), "a **b** c")
        XCTAssertEqual(emphasize("a **b** c", ansi: true), "a \u{1B}[1m**b**\u{1B}[0m c")
        XCTAssertEqual(emphasize("no marks", ansi: true), "no marks")
    }
}
