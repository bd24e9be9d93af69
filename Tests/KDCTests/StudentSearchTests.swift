import Foundation
import XCTest

@testable import KDC

/// `student: {search: …}` (`kdc search`, docs/SEARCH.md): config errors, enumeration, the
/// predictions against the trained student's export, determinism, resume, and a tiny search and
/// build on the digits data.
final class StudentSearchTests: XCTestCase {
    static var digits: String { CLITests.repoRoot + "/samples/digits" }

    /// A small digits config with a student search: an MLP teacher of a few epochs and MLP or
    /// CNN students, so a whole search takes seconds.
    static func config(search: String, budget: String = "budget: {flash_bytes: 4096, ram_bytes: 4096}", epochs: Int = 6)
        -> String
    {
        """
        seed: 0
        data:
          format: csv
          dir: \(digits)
          file: digits.csv.gz
          label_column: -1
          shape: [8, 8, 1]
          classes: 10
          split: {test: 0.2, validation: 0.1, seed: 0}
          normalize: scale
        teacher:
          layers:
            - flatten
            - {op: dense, units: 64}
            - relu
            - {op: dense, units: 10}
          train: {epochs: 8, batch_size: 64, optimizer: adam, learning_rate: 0.003}
        student:
          search: \(search)
          train: {epochs: \(epochs), batch_size: 64, optimizer: adam, learning_rate: 0.003}
        distill: {temperature: 4, alpha: 0.5, baseline: false}
        export: {compress: false, name: tiny}
        \(budget)
        """
    }

    func load(_ text: String) throws -> KDCConfig {
        let dir = try makeTempDir()
        let path = dir + "/search.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try KDCConfig.load(path: path)
    }

    func assertError(_ search: String, budget: String? = nil, key: String, _ fragments: [String], line: UInt = #line) {
        let text =
            budget.map { StudentSearchTests.config(search: search, budget: $0) } ?? StudentSearchTests.config(search: search)
        do {
            _ = try load(text)
            XCTFail("expected an error for \(key)", line: line)
        } catch let KDCError.config(_, k, message) {
            XCTAssertEqual(k, key, message, line: line)
            for f in fragments { XCTAssertTrue(message.contains(f), "'\(message)' lacks '\(f)'", line: line) }
        } catch {
            XCTFail("unexpected error \(error)", line: line)
        }
    }

    func testSearchConfigDecodesAndRejectsBadValues() throws {
        let c = try load(
            StudentSearchTests.config(search: "{family: cnn, channels: [8, 4], pooling: [avg, none], time_minutes: 2, seed: 7}"))
        let s = try XCTUnwrap(c.studentSearch)
        XCTAssertNil(c.student)
        XCTAssertEqual(s.family, .cnn)
        XCTAssertEqual(s.channels, [4, 8])
        XCTAssertEqual(s.depths, [1, 2])
        XCTAssertEqual(s.pooling, [.avg, .none])
        XCTAssertEqual(s.timeMinutes, 2)
        XCTAssertEqual(s.seed, 7)
        XCTAssertEqual(s.train.epochs, 6)
        // What kdc config prints decodes to the same search.
        let again = try load(c.yaml())
        XCTAssertEqual(again.studentSearch, s)

        assertError("{depths: [1]}", key: "student.search.family", ["missing required key"])
        assertError("{family: rnn}", key: "student.search.family", ["mlp, cnn, dscnn", "rnn"])
        assertError("{family: cnn, widths: [8]}", key: "student.search.widths", ["not used by family cnn"])
        assertError("{family: mlp, channels: [8]}", key: "student.search.channels", ["not used by family mlp"])
        assertError("{family: mlp, widht: [8]}", key: "student.search.widht", ["did you mean 'widths'"])
        assertError("{family: mlp, widths: [8, 0]}", key: "student.search.widths[1]", ["1...4096", "got 0"])
        assertError("{family: mlp, widths: []}", key: "student.search.widths", ["at least one"])
        assertError("{family: mlp, depths: [2, 2]}", key: "student.search.depths", ["twice"])
        assertError("{family: dscnn, depths: [1]}", key: "student.search.depths", ["depths ≥ 2"])
        assertError("{family: cnn, pooling: [max, mean]}", key: "student.search.pooling[1]", ["max, avg, none"])
        assertError("{family: cnn, kernel: 9}", key: "student.search.kernel", ["1...7"])
        assertError("{family: mlp, time_minutes: 0}", key: "student.search.time_minutes", ["(0, 1440]"])
        assertError("{family: mlp, seed: -1}", key: "student.search.seed", ["non-negative"])
        assertError(
            "{family: mlp}", budget: "budget: {flash_bytes: 4096, latency_ms: 2}", key: "budget.latency_ms", ["clock_mhz"])
        assertError(
            "{family: mlp}", budget: "budget: {latency_ms: 2, clock_mhz: 48, latency_instructions: 5}", key: "budget.latency_ms",
            ["not both"])
        let both = StudentSearchTests.config(search: "{family: mlp}").replacingOccurrences(
            of: "  search: {family: mlp}", with: "  layers: [flatten, {op: dense, units: 10}]\n  search: {family: mlp}")
        XCTAssertThrowsError(try load(both)) { e in
            guard case let KDCError.config(_, key, message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(key, "student.layers")
            XCTAssertTrue(message.contains("not both"), message)
        }
        let b = try load(StudentSearchTests.config(search: "{family: mlp}", budget: "budget: {latency_ms: 2, clock_mhz: 48}"))
        XCTAssertEqual(b.budget?.instructionLimit, 96_000)
    }

    func testEnumeration() throws {
        var m = StudentSearchConfig(family: .mlp)
        m.widths = [8, 16]
        m.depths = [1, 2]
        let mlp = try StudentEnumerator.candidates(m, shape: [8, 8, 1], classes: 10, file: "x")
        XCTAssertEqual(mlp.map(\.name), ["mlp 8", "mlp 16", "mlp 8-8", "mlp 16-8", "mlp 16-16"])
        XCTAssertEqual(
            mlp[3].spec.nodes.map(\.op), [.flatten, .dense(units: 16), .relu, .dense(units: 8), .relu, .dense(units: 10)])

        var c = StudentSearchConfig(family: .cnn)
        c.channels = [4, 8]
        c.pooling = [.max, .none]
        let cnn = try StudentEnumerator.candidates(c, shape: [8, 8, 1], classes: 10, file: "x")
        // depth 1: 2 channel choices, depth 2: (4,4), (4,8), (8,8); each with two poolings.
        XCTAssertEqual(cnn.count, 10)
        XCTAssertEqual(cnn[0].name, "cnn 4 max")
        XCTAssertTrue(cnn.contains { $0.name == "cnn 4-8 none" })
        XCTAssertFalse(cnn.contains { $0.name.hasPrefix("cnn 8-4") }, "channels never narrow")
        let k3 = Size2(3, 3), one = Size2(1, 1), two = Size2(2, 2)
        XCTAssertEqual(
            cnn.first { $0.name == "cnn 4-8 max" }?.spec.nodes.map(\.op),
            [
                .conv2d(filters: 4, kernel: k3, stride: one, padding: .same), .relu,
                .maxPool2d(pool: two, stride: two, padding: .valid),
                .conv2d(filters: 8, kernel: k3, stride: one, padding: .same), .relu,
                .maxPool2d(pool: two, stride: two, padding: .valid), .flatten, .dense(units: 10),
            ])
        var d = StudentSearchConfig(family: .dscnn)
        d.channels = [8]
        d.depths = [2]
        d.pooling = [.avg]
        let ds = try StudentEnumerator.candidates(d, shape: [8, 8, 1], classes: 10, file: "x")
        XCTAssertEqual(ds.map(\.name), ["dscnn 8-8 avg"])
        XCTAssertTrue(ds[0].spec.nodes.contains { if case .depthwiseConv2d = $0.op { return true } else { return false } })
        // Every candidate is a valid graph.
        for cand in mlp + cnn + ds { XCTAssertNoThrow(try Graph(spec: cand.spec), cand.name) }
        // A CNN needs image samples.
        XCTAssertThrowsError(try StudentEnumerator.candidates(c, shape: [64], classes: 10, file: "x")) { e in
            guard case let KDCError.config(_, key, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(key, "student.search.family")
        }
    }

    /// The flash and RAM predicted from the untrained graph are what the trained student's
    /// export gives (stored artifact: exact; compressed: the bound holds and RAM is exact).
    func testPredictionsEqualTheTrainedExport() throws {
        let cfg = try load(StudentSearchTests.config(search: "{family: cnn}"))
        let p = Pipeline(config: cfg, outDir: try makeTempDir())
        let data = try p.loadData()
        var mlpSpace = StudentSearchConfig(family: .mlp)
        mlpSpace.widths = [16]
        mlpSpace.depths = [1]
        var cnnSpace = StudentSearchConfig(family: .cnn)
        cnnSpace.channels = [4]
        cnnSpace.depths = [2]
        var dsSpace = StudentSearchConfig(family: .dscnn)
        dsSpace.channels = [4]
        dsSpace.depths = [2]
        let cands = try [mlpSpace, cnnSpace, dsSpace].flatMap {
            try StudentEnumerator.candidates($0, shape: [8, 8, 1], classes: 10, file: "x")
        }
        XCTAssertEqual(cands.count, 3)
        for cand in cands {
            let predicted = p.footprint(try p.predictExport(cand.spec))
            var train = TrainSettings()
            train.epochs = 2
            let trained = try p.train(ModelConfig(graph: cand.spec, train: train), role: .student, data: data, seed: 1)
            let q = try p.quantize(trained.model, data: data)
            let stored = try prepareExport(q.graph, normalization: data.normalization, name: "tiny", compress: false)
            let measured = p.footprint(stored, exactFlash: stored.bytes)
            XCTAssertTrue(predicted.flashExact)
            XCTAssertEqual(predicted, measured, cand.name)
            XCTAssertEqual(predicted.flashBytes, stored.main.count, cand.name)
            XCTAssertEqual(predicted.arenaTotalBytes, stored.plan.arenaTotalBytes, cand.name)
            // Compressed: the flash bound holds, the RAM (arena + unpack buffer) is exact.
            var zcfg = cfg
            zcfg.export.compress = true
            let z = Pipeline(config: zcfg, outDir: p.outDir)
            let zp = z.footprint(try z.predictExport(cand.spec))
            let zm = try prepareExport(q.graph, normalization: data.normalization, name: "tiny", compress: true)
            XCTAssertFalse(zp.flashExact)
            XCTAssertLessThanOrEqual(zm.bytes, zp.flashBytes, cand.name)
            XCTAssertEqual(zp.ramBytes, zm.ramBytes, cand.name)
        }
    }

    /// The state file reads back with every family's layers (op names such as max_pool2d are
    /// snake case already).
    func testTheStateFileRoundTripsEveryFamily() throws {
        var c = StudentSearchConfig(family: .cnn)
        c.pooling = [.max, .avg]
        c.channels = [4]
        var d = StudentSearchConfig(family: .dscnn)
        d.channels = [4]
        d.depths = [2]
        let specs =
            try
            (StudentEnumerator.candidates(c, shape: [8, 8, 1], classes: 10, file: "x")
            + StudentEnumerator.candidates(d, shape: [8, 8, 1], classes: 10, file: "x")
            + StudentEnumerator.candidates(StudentSearchConfig(family: .mlp), shape: [8, 8, 1], classes: 10, file: "x"))
        let f = Footprint(
            storedArtifactBytes: 1, flashBytes: 1, flashExact: true, arenaBytes: 1, scratchBytes: 0, arenaTotalBytes: 1,
            ramBytes: 1, instructions: 7)
        var r = ReportPageTests.handMadeSearch()
        r.candidates = specs.map {
            SearchCandidate(name: $0.name, spec: $0.spec, params: 1, macs: 1, predicted: f, excluded: nil)
        }
        let back = try StudentSearchReport.fromState(try r.stateJSON())
        XCTAssertEqual(back.candidates.map(\.spec), specs.map(\.spec))
        XCTAssertEqual(back.candidates.map(\.predicted), r.candidates.map(\.predicted))
        XCTAssertEqual(back.fingerprint, r.fingerprint)
    }

    func testCandidatePlanFitsTheTime() throws {
        // 9 candidates of 1 s per epoch, 30 epochs in full: standard 9×4, 3×10 … cut to fit 60 s.
        let (plan, cost) = try Pipeline.candidatePlan(
            costs: Array(repeating: 1, count: 9), fullEpochs: 30, seconds: 60, file: "x")
        XCTAssertLessThanOrEqual(cost, 60)
        XCTAssertEqual(plan.rounds.map(\.settings), [9, 3])
        XCTAssertNotNil(plan.cut)
        let (roomy, _) = try Pipeline.candidatePlan(
            costs: Array(repeating: 1, count: 9), fullEpochs: 30, seconds: 10_000, file: "x")
        XCTAssertNil(roomy.cut)
        XCTAssertEqual(roomy.rounds.last?.epochs, 30)
        XCTAssertThrowsError(try Pipeline.candidatePlan(costs: [10, 10], fullEpochs: 30, seconds: 5, file: "x")) { e in
            guard case let KDCError.config(_, key, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(key, "student.search.time_minutes")
        }
    }
}

/// A whole (tiny) search and build on the digits data: not in `make check` (CHECK_SKIP).
final class StudentSearchBuildTests: XCTestCase {
    func load(_ text: String) throws -> KDCConfig {
        let dir = try makeTempDir()
        let path = dir + "/search.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try KDCConfig.load(path: path)
    }

    /// A tiny search twice from scratch (same choice, same scores), then resumed (nothing
    /// retrained), then `kdc build`'s path: search resumed, the chosen student built; its
    /// export's size equals the prediction and report.html shows the search.
    func testTinySearchIsDeterministicResumableAndBuilds() throws {
        let start = Date()
        let text = StudentSearchTests.config(
            search: "{family: mlp, widths: [4, 8, 16, 64], depths: [1], time_minutes: 0.5}",
            budget: "budget: {flash_bytes: 2400, ram_bytes: 4096}")
        let cfg = try load(text)
        let (a, b) = (try makeTempDir(), try makeTempDir())
        let first = try Pipeline(config: cfg, outDir: a).searchStudent()
        let second = try Pipeline(config: cfg, outDir: b).searchStudent()
        let r = first.report
        // mlp 64 (64·64 weights) is over 2,400 B of flash and is dropped before training.
        XCTAssertEqual(r.candidates.map(\.name), ["mlp 4", "mlp 8", "mlp 16", "mlp 64"])
        XCTAssertNotNil(r.candidates[3].excluded)
        XCTAssertTrue(r.candidates[3].runs.isEmpty)
        XCTAssertEqual(r.fitting, [0, 1, 2])
        XCTAssertNotNil(r.chosen)
        XCTAssertEqual(second.report.chosen, r.chosen)
        XCTAssertEqual(
            second.report.candidates.map { $0.runs.map(\.validationAccuracy) },
            r.candidates.map { $0.runs.map(\.validationAccuracy) })
        XCTAssertEqual(second.report.candidates.map(\.int8TestAccuracy), r.candidates.map(\.int8TestAccuracy))
        // Finalists: measured = predicted.
        for c in r.candidates where c.measured != nil { XCTAssertEqual(c.measured, c.predicted, c.name) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: a + "/search/state.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: a + "/search/teacher.safetensors"))

        // Resumed: every run comes from the state file.
        let runs = r.candidates.reduce(0) { $0 + $1.runs.count }
        let resumed = try Pipeline(config: cfg, outDir: a).searchStudent()
        XCTAssertEqual(resumed.report.resumedRuns, runs)
        XCTAssertEqual(resumed.report.chosen, r.chosen)

        // A state file of another config is not resumed.
        var other = cfg
        other.studentSearch?.seed = 5
        let fresh = try Pipeline(config: other, outDir: b).searchStudent()
        XCTAssertEqual(fresh.report.resumedRuns, 0)

        // kdc build: the search (resumed), then the chosen student built as usual.
        let built = try Pipeline(config: cfg, outDir: a).build()
        let s = try XCTUnwrap(built.report.studentSearch)
        XCTAssertEqual(s.chosen, r.chosen)
        let chosen = s.candidates[s.chosen!]
        XCTAssertEqual(s.built?.flashBytes, chosen.predicted.flashBytes)
        XCTAssertEqual(s.built?.ramBytes, chosen.predicted.ramBytes)
        XCTAssertEqual(built.report.artifact?.bytes, chosen.predicted.flashBytes)
        XCTAssertEqual(built.checks.hostMismatches, 0)
        let page = try String(contentsOfFile: a + "/" + ReportPage.fileName, encoding: .utf8)
        XCTAssertTrue(page.contains("<h2>Student search</h2>"))
        XCTAssertTrue(page.contains("class=\"cand chosen\""))
        // report.json reads back with the search.
        let json = try Data(contentsOf: URL(fileURLWithPath: a + "/report.json"))
        XCTAssertEqual(try ReportPage.html(reportJSON: json, file: "report.json"), page)
        XCTAssertLessThan(Date().timeIntervalSince(start), 120, "the tiny search should stay short")
    }

    /// With a firmware target and a latency budget: every candidate gets predicted instructions,
    /// the one over the budget is dropped before training, and the finalists' instructions
    /// counted under QEMU are within the model's error of the prediction.
    func testALatencyBudgetOnTheCortexM4() throws {
        var cfg = try load(
            StudentSearchTests.config(
                search: "{family: mlp, widths: [4, 8, 16, 64], depths: [1], time_minutes: 0.5}",
                budget: "budget: {flash_bytes: 8000, ram_bytes: 4096, latency_instructions: 9000}"))
        cfg.export.firmware = .cortexM4
        let r = try Pipeline(config: cfg, outDir: try makeTempDir()).searchStudent().report
        XCTAssertEqual(r.instructionBudget, 9000)
        for c in r.candidates { XCTAssertNotNil(c.predicted.instructions, c.name) }
        let over = try XCTUnwrap(r.candidates.first { $0.name == "mlp 64" })
        XCTAssertTrue(over.excluded?.contains("instructions") ?? false, over.excluded ?? "not excluded")
        let finalists = r.candidates.filter { $0.measured != nil }
        XCTAssertFalse(finalists.isEmpty)
        for c in finalists {
            let p = Double(try XCTUnwrap(c.predicted.instructions)), m = Double(try XCTUnwrap(c.measured?.instructions))
            print("\(c.name): predicted \(Int(p)) instructions, QEMU \(Int(m))")
            XCTAssertLessThan(abs(p / m - 1), 0.09, c.name)
            XCTAssertEqual(c.measured?.flashBytes, c.predicted.flashBytes)
        }
        // Without a target, a latency budget is a config error.
        cfg.export.firmware = nil
        XCTAssertThrowsError(try Pipeline(config: cfg, outDir: try makeTempDir()).searchStudent()) { e in
            guard case let KDCError.config(_, key, message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(key, "budget.latency_instructions")
            XCTAssertTrue(message.contains("--firmware"), message)
        }
    }
}
