import Foundation
import XCTest

@testable import KDC
@testable import KDCTarget

/// `report.html` (`ReportPage`): every section from a hand-made report, escaping, `kdc report`,
/// and the page of a real build.
final class ReportPageTests: XCTestCase {
    /// The section headings, in page order (the browser test looks for the same).
    static let headings = [
        "Summary", "Training curves", "Confusion matrix (int8 student, test split)", "Per-layer SQNR", "Arena plan",
        "Flash, RAM and stack against the budget", "Distillation search",
    ]

    static let hostile = "<script>alert(1)</script>"

    /// A report with data for every section, and a hostile class name and layer name.
    static func handMade() -> BuildReport {
        var r = BuildReport(config: "samples/x & y/config.yaml", seed: 3)
        r.dataset = DatasetReport(
            name: "toy", train: 100, validation: 20, test: 30, sampleShape: [4], classes: 3,
            classNames: ["cat", hostile, "dog \"big\""])
        func history(_ n: Int, _ base: Double) -> [EpochStats] {
            (1...n).map {
                EpochStats(
                    epoch: $0, loss: base / Double($0), trainAccuracy: 1 - 0.5 / Double($0),
                    validationAccuracy: 1 - 0.6 / Double($0), seconds: 0.5, samplesPerSecond: 2000, learningRate: 0.001)
            }
        }
        for (i, base) in [2.0, 1.5, 3.0].enumerated() {
            var m = ModelReport(params: 1000 * (i + 1), macs: 900, epochs: 5 + i)
            m.floatAccuracy = 0.9 + Double(i) / 100
            m.validationAccuracy = 0.88
            m.history = history(5 + i, base)
            switch i {
            case 0: r.teacher = m
            case 1: r.baseline = m
            default: r.student = m
            }
        }
        r.student?.int8Accuracy = 0.9
        r.shipped = ShipDecision(
            model: "distilled", policy: .best, reason: "higher validation accuracy", distilledValidationAccuracy: 0.9,
            baselineValidationAccuracy: 0.88, distilledBeatsBaseline: true, warning: nil)
        r.distill = DistillReport(
            temperature: 4, alpha: 0.1, chosenBy: "search", transfer: "train", transferSamples: 100,
            search: SearchReport(
                temperatures: [1, 4], alphas: [0.1, 0.9], halvingFactor: 2,
                rounds: [HalvingPlan.Round(settings: 4, epochs: 2), HalvingPlan.Round(settings: 2, epochs: 4)],
                plannedEpochs: 16, maxEpochs: nil, usedEpochs: 16, cut: nil, seconds: 1.5,
                trials: [
                    SearchTrial(
                        temperature: 1, alpha: 0.1, round: 1, epochs: 2, validationAccuracy: 0.8, validationLoss: 0.5,
                        seconds: 0.1, kept: false),
                    SearchTrial(
                        temperature: 4, alpha: 0.1, round: 1, epochs: 2, validationAccuracy: 0.85, validationLoss: 0.4,
                        seconds: 0.1, kept: true),
                    SearchTrial(
                        temperature: 4, alpha: 0.1, round: 2, epochs: 4, validationAccuracy: 0.9, validationLoss: 0.3,
                        seconds: 0.2, kept: true),
                ]))
        r.quantization = QuantizationReport(
            samples: 30, floatAccuracy: 0.93, int8Accuracy: 0.9, top1Agreement: 0.97, layerSamples: 30,
            layers: [
                .init(name: "dense_1", kind: "fully_connected", sqnrDB: 31.5),
                .init(name: "x<b>", kind: "relu", sqnrDB: 150),
            ],
            confusion: [[9, 1, 0], [0, 10, 0], [1, 1, 8]])
        r.artifact = ArtifactSection(
            path: "out/toy.kdc", bytes: 2676, rawBytes: 3000, sha256: String(repeating: "a", count: 64), compressed: true,
            storedPath: "out/toy.stored.kdc", cHeader: "out/toy.h", cSource: "out/toy.c")
        r.memory = MemorySection(
            arenaBytes: 96, scratchBytes: 16, arenaTotalBytes: 112, arenaLowerBoundBytes: 80, weightsBytes: 2400,
            unpackBytes: 3000,
            plan: ArenaPlanSection(
                ops: [.init(name: "dense_1", kind: "fully_connected"), .init(name: "dense_2", kind: "fully_connected")],
                tensors: [
                    .init(name: "input", offset: 0, bytes: 64, firstOp: 0, lastOp: 0),
                    .init(name: "hidden", offset: 64, bytes: 32, firstOp: 0, lastOp: 1),
                    .init(name: "logits", offset: 0, bytes: 3, firstOp: 1, lastOp: 1),
                ]))
        r.budget = BudgetSection(flashBytes: 16384, ramBytes: 4096, flashNeededBytes: 2676, ramNeededBytes: 3112)
        let ram = FirmwareRAM(arenaBytes: 112, unpackBytes: 3000, staticBytes: 200, stackBytes: 400)
        let fw = FirmwareResult(
            target: "cortex-m4 (qemu mps2-an386)", mode: .compressed, samples: 20, match: true, mismatches: 0,
            runtimeTextBytes: 8000, runtimeDataBytes: 0, runtimeBssBytes: 0, imageTextBytes: 12000, imageDataBytes: 8,
            imageBssBytes: 4000, ram: ram, ramPredicted: ram, stackPath: [], stackBoundBytes: 900,
            runtimeStackBoundBytes: 600, stackLowWaterBytes: nil, instructionsPerInference: 5000, instructionsPerMAC: 5.5)
        r.firmware = FirmwareSection(
            target: fw.target, match: true, samples: 20, runtimeTextBytes: 8000, imageTextBytes: 12000, ramBytes: 3712,
            ramPredictedBytes: 3712, ramMatchesPrediction: true, stackBoundBytes: 900, runtimeStackBoundBytes: 600,
            instructionsPerInference: 5000, instructionsPerMac: 5.5, modes: [fw])
        r.outputs = ["report.html", "report.json"]
        r.studentSearch = handMadeSearch()
        return r
    }

    /// The hand-made report of an audio model: the front end (parameters, host and device
    /// checks, cost per hop, RAM split and the PCM image's RAM predicted and measured).
    static func audio() -> BuildReport {
        var r = handMade()
        r.memory?.frontendBytes = 2528
        r.memory?.ringBytes = 980
        let c = AudioFrontEndConfig(
            sampleRate: 8000, windowSamples: 200, hopSamples: 80, fftSize: 256, melBins: 20, coefficients: 0, lowHz: 20,
            highHz: 4000)
        let ram = FirmwareRAM(arenaBytes: 2951, unpackBytes: 0, staticBytes: 653, stackBytes: 1016, streamBytes: 3508)
        // Static data differs by 2 B: the page says so.
        let measured = FirmwareRAM(arenaBytes: 2951, unpackBytes: 0, staticBytes: 655, stackBytes: 1016, streamBytes: 3508)
        let fw = FirmwarePCMResult(
            target: "cortex-m4 (qemu mps2-an386)", mode: .stored, clips: 20, clipSamples: 4040, frames: 49,
            wholeMismatches: 0, streamedMismatches: 0, match: true, streamBytes: 3508, scratchBytes: 2128,
            ramBytes: measured.totalBytes, ram: measured, ramPredicted: ram,
            stackPath: [StackFrame(function: "main", bytes: 296), StackFrame(function: "kdc_stream_push_pcm", bytes: 104)],
            instructionsPerClip: 3_959_114, instructionsPerHop: 80_798)
        r.frontend = FrontEndSection(
            config: c, frames: 49, features: 20, clipSamples: 4040, outputScale: 0.25, outputZeroPoint: -80, ringBytes: 980,
            ramEstimateBytes: 6459, cMatches: true, cCheck: "the C runtime's front end on the 300 \(hostile) recordings",
            cMismatchedClips: 0, streamBytes: 3508, firmware: fw)
        return r
    }

    /// The hand-made report of a time-series model with its sensor stage streamed on the board.
    static func series() -> BuildReport {
        var r = handMade()
        r.dataset?.series = SeriesReport(
            windowLength: 24, windowStride: 8, channels: 3, windowLabel: "per-recording labels: the recording's label",
            trainRecordings: 54, validationRecordings: 12, testRecordings: 24, trainStepsDropped: 0,
            normalization: SeriesNormalizationReport(
                mean: [0.25, 10, 20], std: [0.5, 2, 3], stdFloor: 1e-6,
                computedOn: "every time step of the 54 training recordings",
                formula: "x_norm = (x - mean[c]) * (1 / std[c]) per channel c, in float32"))
        let ram = FirmwareRAM(arenaBytes: 120, unpackBytes: 0, staticBytes: 396, stackBytes: 1288, streamBytes: 72)
        let fw = FirmwareSensorResult(
            target: "cortex-m4 (qemu mps2-an386)", mode: .stored, recordings: 4, steps: [64, 64, 64, 64], channels: 3,
            windowLength: 24, stride: 8, windows: 20, chunkSamples: [1, 4, 2, 7, 3, 9, 5], wholeMismatches: 0,
            streamedMismatches: 0, match: true, streamBytes: 72, ram: ram, ramPredicted: ram, stackPath: [],
            instructionsPerWindow: 14955, instructionsPerStep: 623)
        r.sensor = SensorSection(
            channels: 3, windowLength: 24, stride: 8, mean: [0.25, 10, 20], std: [0.5, 2, 3], k: [64, 16, 10.666667],
            inputScale: 0.03125, inputZeroPoint: -2, streamBytes: 72, firmware: fw)
        return r
    }

    /// The front-end and series sections, from report.json as `kdc report` reads it.
    func testFrontEndAndSeriesSections() throws {
        let audio = try ReportPage.html(reportJSON: try ReportPageTests.audio().json(), file: "report.json")
        XCTAssertEqual(audio, ReportPage.html(ReportPageTests.audio()))
        XCTAssertTrue(audio.contains("<section id=\"frontend\"><h2>Audio front end</h2>"))
        for want in [
            "<td class=\"l\">sample rate</td><td class=\"l\">8,000 Hz</td>",
            "<td class=\"l\">hop</td><td class=\"l\">80 samples</td>",
            "<td class=\"l\">frequency range</td><td class=\"l\">20–4,000 Hz</td>",
            "<td class=\"l\">host: C runtime = Swift reference</td><td class=\"l\">matches</td>",
            "0 whole-clip, 0 streamed bytes differ", "kdc_stream_bytes 3,508 (predicted 3,508)",
            "<b>80,798 instructions per hop</b> (3,959,114 per clip of 49 frames)",
            // RAM split: arena, front end, ring (predicted), then the device's parts
            "front end (window + scratch): 2,528 B", "feature ring: 980 B", "stream buffer: 3,508 B",
            "<td class=\"l\">static data</td><td>653</td><td>655</td><td class=\"l\"><b>differs</b></td>",
            "<td class=\"l\">stream buffer</td><td>3,508</td><td>3,508</td><td class=\"l\">equal</td>",
            "main 296 → kdc_stream_push_pcm 104",
            "<td class=\"l\">total</td><td>8,128</td><td>8,130</td><td class=\"l\"><b>differs</b></td>",
        ] {
            XCTAssertTrue(audio.contains(want), "the audio page lacks \(want)")
        }
        XCTAssertFalse(audio.contains("<script"), "a string reached the page unescaped")
        XCTAssertFalse(audio.contains("id=\"series\""))

        let series = try ReportPage.html(reportJSON: try ReportPageTests.series().json(), file: "report.json")
        XCTAssertEqual(series, ReportPage.html(ReportPageTests.series()))
        XCTAssertTrue(series.contains("<section id=\"series\"><h2>Time series</h2>"))
        for want in [
            "Windows of 24 time steps × 3 channels, one every 8 steps", "54 train / 12 validation / 24 test",
            "<tr><td class=\"l\">1</td><td>10</td><td>2</td><td>16</td></tr>",
            "<tr><td class=\"l\">2</td><td>20</td><td>3</td><td>10.67</td></tr>", "k) − 2, −128, 127), k = 1 / (std · 0.03125)",
            "0 one-window, 0 streamed bytes differ", "chunks of 1, 4, 2, 7, 3, 9, 5 samples", "14,955 instructions per window",
            "<td class=\"l\">total</td><td>1,876</td><td>1,876</td><td class=\"l\">equal</td>",
        ] {
            XCTAssertTrue(series.contains(want), "the series page lacks \(want)")
        }
        XCTAssertFalse(series.contains("id=\"frontend\""))
        // A report written before the PCM image's RAM was predicted (no frontend.firmware.ram,
        // .ram_predicted, .stack_path) still renders: the section without the device's RAM table.
        var json = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: try ReportPageTests.audio().json()) as? [String: Any])
        var front = try XCTUnwrap(json["frontend"] as? [String: Any])
        var fw = try XCTUnwrap(front["firmware"] as? [String: Any])
        for k in ["ram", "ram_predicted", "stack_path"] { fw.removeValue(forKey: k) }
        front["firmware"] = fw
        json["frontend"] = front
        let old = try ReportPage.html(reportJSON: try JSONSerialization.data(withJSONObject: json), file: "report.json")
        XCTAssertTrue(old.contains("<b>80,798 instructions per hop</b>"))
        XCTAssertTrue(old.contains("feature ring: 980 B"))
        XCTAssertFalse(old.contains("RAM part"))
        // Without the parts, no section.
        let plain = ReportPage.html(ReportPageTests.handMade())
        XCTAssertFalse(plain.contains("id=\"frontend\"") || plain.contains("id=\"series\""))
    }

    /// The heading of the student-search section (only in reports of a `student.search` build).
    static let searchHeading = "Student search"

    /// A student search of three candidates (one over budget, one hostile name), the last chosen.
    static func handMadeSearch() -> StudentSearchReport {
        func f(_ flash: Int) -> Footprint {
            Footprint(
                storedArtifactBytes: flash, flashBytes: flash, flashExact: true, arenaBytes: 64, scratchBytes: 0,
                arenaTotalBytes: 64, ramBytes: 64, instructions: nil)
        }
        func run(_ round: Int, _ acc: Double, kept: Bool) -> CandidateRun {
            CandidateRun(
                round: round, epochs: 2 * round, validationAccuracy: acc, validationLoss: 0.3, testAccuracy: acc,
                seconds: 0.5, kept: kept)
        }
        let spec = GraphSpec.sequential(inputShape: [4], [.dense(units: 3)])
        var small = SearchCandidate(name: "mlp 4", spec: spec, params: 20, macs: 16, predicted: f(900), excluded: nil)
        small.runs = [run(1, 0.8, kept: false)]
        var big = SearchCandidate(name: hostile, spec: spec, params: 90, macs: 80, predicted: f(1500), excluded: nil)
        big.runs = [run(1, 0.85, kept: true), run(2, 0.9, kept: true)]
        big.measured = f(1500)
        big.int8TestAccuracy = 0.9
        let over = SearchCandidate(
            name: "mlp 64", spec: spec, params: 900, macs: 800, predicted: f(5000), excluded: "flash 5000 > 4096")
        return StudentSearchReport(
            family: .mlp, fingerprint: "x", seed: 0, flashBudgetBytes: 4096, ramBudgetBytes: 4096, instructionBudget: nil,
            compress: false, temperature: 4, alpha: 0.5, timeMinutes: 1, plannedSeconds: 2, seconds: 1.5,
            rounds: [HalvingPlan.Round(settings: 2, epochs: 2), HalvingPlan.Round(settings: 1, epochs: 4)], cut: nil,
            candidates: [small, big, over], chosen: 1)
    }

    func testEverySectionOfAHandMadeReportAndEscaping() throws {
        let page = ReportPage.html(ReportPageTests.handMade())
        for h in ReportPageTests.headings {
            XCTAssertTrue(page.contains("<h2>\(HTML.esc(h))</h2>"), "missing section \(h)")
        }
        XCTAssertTrue(page.contains("<h2>\(ReportPageTests.searchHeading)</h2>"))
        // The Pareto front: both run candidates are on it, the chosen one is ringed, the one over
        // budget is not drawn.
        XCTAssertEqual(ReportPageTests.handMadeSearch().pareto, [0, 1])
        XCTAssertEqual(page.components(separatedBy: "class=\"cand chosen\"").count - 1, 1)
        XCTAssertEqual(page.components(separatedBy: "class=\"cand front\"").count - 1, 1)
        XCTAssertTrue(page.contains("over budget: flash 5000 &gt; 4096"))
        for id in ["summary", "curves", "confusion", "sqnr", "arena", "resources", "search", "student-search"] {
            XCTAssertTrue(page.contains("<section id=\"\(id)\">"), id)
        }
        // Data strings are escaped: no script element, no raw markup from names.
        XCTAssertFalse(page.lowercased().contains("<script"), "a class name reached the page unescaped")
        XCTAssertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertFalse(page.contains("x<b>"))
        XCTAssertTrue(page.contains("x&lt;b&gt;"))
        XCTAssertTrue(page.contains("dog &quot;big&quot;"))
        XCTAssertTrue(page.contains("samples/x &amp; y/config.yaml"))
        // Self-contained: nothing fetched.
        for s in ["src=", "href=", "@import", "url("] { XCTAssertFalse(page.contains(s), s) }
        // Numbers: the confusion counts in tooltips, the budget share, a tensor of the plan.
        XCTAssertTrue(page.contains("true cat → predicted &lt;script&gt;alert(1)&lt;/script&gt;: 1 sample (10.0% of class)"))
        XCTAssertTrue(page.contains("2,676 B of 16,384 B (16%)"))
        XCTAssertTrue(page.contains("hidden: 32 bytes at offset 64–96, live ops 0–1"))
        XCTAssertTrue(page.contains("T=4, α=0.1 (chosen)"))
        XCTAssertTrue(page.contains("31.5 dB"))
        XCTAssertGreaterThanOrEqual(page.components(separatedBy: "<svg class=\"chart\"").count - 1, 6)
    }

    /// A section without data is left out.
    func testSectionsWithoutDataAreLeftOut() {
        var r = ReportPageTests.handMade()
        r.distill?.search = nil
        r.firmware = nil
        r.budget = nil
        r.quantization?.confusion = nil
        r.teacher?.history = nil; r.student?.history = nil; r.baseline?.history = nil
        let page = ReportPage.html(r)
        XCTAssertFalse(page.contains("id=\"search\""))
        XCTAssertFalse(page.contains("id=\"confusion\""))
        XCTAssertFalse(page.contains("id=\"curves\""))
        XCTAssertTrue(page.contains("id=\"resources\""))  // the memory section is still there
        XCTAssertTrue(page.contains("The config sets no budget"))
    }

    /// report.json read back renders the same page; a file that is not a kdc report is an error
    /// naming it.
    func testReportJSONRoundTripsAndBadFilesAreErrors() throws {
        let r = ReportPageTests.handMade()
        XCTAssertEqual(try ReportPage.html(reportJSON: try r.json(), file: "report.json"), ReportPage.html(r))
        for (bytes, expect) in [
            ("[1, 2]", "not a JSON object"), ("{\"a\": 1}", "not a kdc report"),
            ("{\"kdc_version\": \"0.1.0\", \"seed\": 1}", "missing key 'config'"),
        ] {
            XCTAssertThrowsError(try ReportPage.html(reportJSON: Data(bytes.utf8), file: "/x/report.json")) { e in
                let m = "\(e)"
                XCTAssertTrue(m.contains("/x/report.json") && m.contains(expect), m)
            }
        }
    }

    /// `kdc report DIR`: writes report.html from report.json; a missing report names the file.
    func testReportCommand() throws {
        let dir = NSTemporaryDirectory() + "kdc-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        var r = try CLITests.runKDC(["report", dir])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains(dir + "/report.json"), r.err)
        try ReportPageTests.handMade().json().write(to: URL(fileURLWithPath: dir + "/report.json"))
        r = try CLITests.runKDC(["report", dir])
        XCTAssertEqual(r.status, 0, r.err)
        let page = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        XCTAssertEqual(page, ReportPage.html(ReportPageTests.handMade()))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["report.html", "report.json"])
    }

}

/// The page of a real build (a whole build: left out of `make check`, as `PipelineTests`).
final class ReportPageBuildTests: XCTestCase {
    /// A real build of the digits data at few epochs: report.html is in the output set and shows
    /// the build's sections; report.json has the confusion matrix and the arena plan.
    func testARealBuildWritesTheReportPage() throws {
        let dir = NSTemporaryDirectory() + "kdc-report-build-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ReportPageTests.digitsBuild(outDir: dir)
        XCTAssertEqual(r.report.outputs?.last, "report.json")
        XCTAssertTrue(r.report.outputs?.contains(ReportPage.fileName) ?? false, "\(r.report.outputs ?? [])")
        let page = try String(contentsOfFile: dir + "/" + ReportPage.fileName, encoding: .utf8)
        for h in ReportPageTests.headings {
            XCTAssertTrue(page.contains("<h2>\(HTML.esc(h))</h2>"), "missing section \(h)")
        }
        let c = try XCTUnwrap(r.report.quantization?.confusion)
        XCTAssertEqual(c.count, 10)
        XCTAssertEqual(c.flatMap { $0 }.reduce(0, +), r.report.quantization?.samples)
        let right = (0..<10).reduce(0) { $0 + c[$1][$1] }
        XCTAssertEqual(
            Double(right) / Double(r.report.quantization!.samples), r.report.quantization!.int8Accuracy!, accuracy: 1e-12)
        let plan = try XCTUnwrap(r.report.memory?.plan)
        XCTAssertEqual(plan.tensors.map { $0.offset + $0.bytes }.max(), r.report.memory?.arenaBytes)
        XCTAssertEqual(plan.ops.count, r.quantized.graph.nodes.count)
        // The page kdc report renders from the committed report.json is the one the build wrote.
        let json = try Data(contentsOf: URL(fileURLWithPath: dir + "/report.json"))
        XCTAssertEqual(try ReportPage.html(reportJSON: json, file: "report.json"), page)
    }

}

extension ReportPageTests {
    /// `samples/digits/config.yaml` with few epochs (teacher 4, student 12; its search,
    /// baseline and budget; no seed study).
    static func digitsBuild(outDir: String) throws -> BuildResult {
        var cfg = try KDCConfig.load(path: CLITests.repoRoot + "/samples/digits/config.yaml")
        cfg.teacher.model?.train.epochs = 4
        cfg.student?.train.epochs = 12
        cfg.distill.compareSeeds = []
        return try Pipeline(config: cfg, outDir: outDir).build()
    }
}
