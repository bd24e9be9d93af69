import Foundation
import XCTest
@testable import KDC

final class ConfigTests: XCTestCase {
    /// A small valid config; tests replace one line (or append) to break it.
    static let base = """
        seed: 3
        data:
          format: csv
          dir: data
          file: d.csv
          shape: [4]
          classes: 3
        teacher:
          layers:
            - {op: dense, units: 8}
            - relu
            - {op: dense, units: 3}
          train: {epochs: 2, learning_rate: 0.01}
        student:
          layers:
            - {op: dense, units: 3, name: out}
        distill:
          temperature: 2
          alpha: 0.5
        """

    func write(_ text: String, in dir: String? = nil) throws -> String {
        let d = try dir ?? makeTempDir()
        let path = d + "/config.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func assertConfigError(_ text: String, key: String, _ fragments: [String], line: UInt = #line) throws {
        let path = try write(text)
        do {
            _ = try KDCConfig.load(path: path)
            XCTFail("expected an error for key \(key)", line: line)
        } catch let KDCError.config(file, k, message) {
            XCTAssertEqual(file, path, line: line)
            XCTAssertEqual(k, key, "message: \(message)", line: line)
            for f in fragments { XCTAssertTrue(message.contains(f), "'\(message)' lacks '\(f)'", line: line) }
        } catch {
            XCTFail("unexpected error \(error)", line: line)
        }
    }

    func testBaseConfigDecodes() throws {
        let dir = try makeTempDir()
        let c = try KDCConfig.load(path: try write(Self.base, in: dir))
        XCTAssertEqual(c.seed, 3)
        XCTAssertEqual(c.data.dir, (dir as NSString).standardizingPath + "/data")
        XCTAssertEqual(c.data.train, .csv(file: "d.csv", labelColumn: -1, header: false))
        XCTAssertEqual(c.data.normalize, .standard)
        XCTAssertEqual(
            c.teacher.model?.graph, GraphSpec.sequential(inputShape: [4], [.dense(units: 8), .relu, .dense(units: 3)]))
        XCTAssertEqual(c.teacher.model?.train.epochs, 2)
        XCTAssertEqual(c.teacher.model?.train.learningRate, 0.01)
        XCTAssertEqual(c.teacher.model?.train.batchSize, 128)
        XCTAssertEqual(c.student?.graph.nodes.map(\.name), ["out"])
        XCTAssertEqual(c.distill.temperature, 2)
        XCTAssertEqual(c.distill.baseline, true)
        XCTAssertEqual(c.quantize, QuantizeConfig())
        XCTAssertNil(c.budget)
    }

    func testBadConfigs() throws {
        let b = Self.base
        // (yaml, expected key, message fragments)
        let cases: [(String, String, [String])] = [
            (
                b.replacingOccurrences(of: "learning_rate:", with: "learnig_rate:"), "teacher.train.learnig_rate",
                ["unknown key", "did you mean 'learning_rate'?", "allowed keys"]
            ),
            (b + "\nfoo: 1\n", "foo", ["unknown key 'foo'", "allowed keys: seed, data"]),
            (b.replacingOccurrences(of: "distill:", with: "distil:"), "distil", ["did you mean 'distill'?"]),
            (
                b.replacingOccurrences(of: "epochs: 2", with: "epochs: two"), "teacher.train.epochs",
                ["expected an integer", "'two'"]
            ),
            (b.replacingOccurrences(of: "epochs: 2", with: "epochs: 0"), "teacher.train.epochs", ["≥ 1"]),
            (b.replacingOccurrences(of: "shape: [4]", with: "shape: 4"), "data.shape", ["expected a list"]),
            (b.replacingOccurrences(of: "  classes: 3\n", with: ""), "data.classes", ["missing required key 'classes'"]),
            (b.replacingOccurrences(of: "  format: csv\n", with: ""), "data.format", ["missing required key"]),
            (b.replacingOccurrences(of: "format: csv", with: "format: cvs"), "data.format", ["did you mean 'csv'?"]),
            (
                b.replacingOccurrences(of: "file: d.csv", with: "train_images: a"), "data.train_images",
                ["not used with format csv"]
            ),
            (b.replacingOccurrences(of: "alpha: 0.5", with: "alpha: 1.5"), "distill.alpha", ["must be in [0.0, 1.0]"]),
            (
                b.replacingOccurrences(of: "temperature: 2", with: "temperature: 0.5"), "distill.temperature",
                ["must be in [1, 100]"]
            ),
            (b.replacingOccurrences(of: "temperature: 2", with: "temperature: \"2\""), "distill.temperature", ["quoted string"]),
            (
                b.replacingOccurrences(of: "temperature: 2", with: "temperature: hot"), "distill.temperature",
                ["or auto", "'hot'"]
            ),
            (b + "\n  ship: bets\n", "distill.ship", ["did you mean 'best'?"]),
            (b + "\n  baseline: false\n  ship: best\n", "distill.ship", ["needs the hard-label baseline"]),
            (b + "\n  search: {max_epochs: 0}\n", "distill.search.max_epochs", ["≥ 1"]),
            (b + "\n  search: {temperatures: [0.5, 2]}\n", "distill.search.temperatures", ["[1.0, 100.0]"]),
            (b + "\n  search: {alphas: []}\n", "distill.search.alphas", ["distinct numbers"]),
            (
                b.replacingOccurrences(of: "classes: 3", with: "classes: 3\n  split: {validation: 0}")
                    .replacingOccurrences(of: "temperature: 2", with: "temperature: auto"),
                "distill.temperature", ["data.split.validation is 0", "hint"]
            ),
            (
                b.replacingOccurrences(of: "classes: 3", with: "classes: 3\n  split: {validation: 0}"), "distill.ship",
                ["best (the default)", "validation split", "distill.ship: distilled"]
            ),
            (
                b.replacingOccurrences(of: "  train: {epochs: 2", with: "  min_agreement: 2\n  train: {epochs: 2"),
                "teacher.min_agreement", ["[0, 1]"]
            ),
            (b + "\nquantize: {calibration: max}\n", "quantize.calibration", ["expected one of minmax, percentile, mse"]),
            (b.replacingOccurrences(of: "classes: 3", with: "classes: 3\n  split: {test: 1.2}"), "data.split.test", ["(0, 1)"]),
            (
                b.replacingOccurrences(
                    of: "{op: dense, units: 3, name: out}", with: "{op: dense, units: 3, name: out}\n    - {op: relu, name: out}"),
                "student.layers[1].name", ["duplicate layer name 'out'"]
            ),
            (
                b.replacingOccurrences(of: "{op: dense, units: 8}", with: "{op: dens, units: 8}"), "teacher.layers[0].op",
                ["unknown op 'dens'", "did you mean 'dense'?"]
            ),
            (
                b.replacingOccurrences(of: "{op: dense, units: 8}", with: "{op: dense, unit: 8}"), "teacher.layers[0].unit",
                ["did you mean 'units'?"]
            ),
            (
                b.replacingOccurrences(of: "{op: dense, units: 8}", with: "dense"), "teacher.layers[0]",
                ["needs parameters", "units"]
            ),
            (
                b.replacingOccurrences(of: "    - relu\n", with: "    - {op: add, inputs: [dense0]}\n"),
                "teacher.layers[1].inputs", ["exactly two"]
            ),
            (
                b.replacingOccurrences(of: "    - relu\n", with: "    - {op: relu, inputs: [nope]}\n"),
                "teacher.layers[1].inputs", ["unknown input 'nope'"]
            ),
            (
                b.replacingOccurrences(
                    of: "  layers:\n    - {op: dense, units: 8}",
                    with: "  checkpoint: t.safetensors\n  layers:\n    - {op: dense, units: 8}"),
                "teacher", ["exactly one of layers, checkpoint, logits or tflite"]
            ),
            (b + "\nexport: {name: 9lives}\n", "export.name", ["not a C identifier"]),
            (b + "\nbudget: {flash_bytes: -1}\n", "budget.flash_bytes", ["≥ 1"]),
            (b + "\nseed: 4\n", "seed", ["duplicate key"]),
            ("data: [", "", ["YAML syntax error"]),
            ("", "", ["empty"]),
        ]
        for (text, key, fragments) in cases { try assertConfigError(text, key: key, fragments) }
    }

    func testYAMLRoundTrip() throws {
        let dir = try makeTempDir()
        let extras = """

            quantize: {calibration: percentile, percentile: 99.9, calibration_samples: 50}
            export: {compress: false, name: tiny, firmware: cortex-m4}
            budget: {ram_bytes: 2048}
            """
        var text =
            Self.base.replacingOccurrences(
                of: "alpha: 0.5", with: "alpha: 0.5\n  ship: distilled\n  transfer: {format: npy, x: t.npy}") + extras
        text = text.replacingOccurrences(
            of: "classes: 3",
            with: "classes: 3\n  normalize: {mean: [1], std: [2.5]}\n  split: {test: 0.25, validation: 0, seed: 9}")
        text = text.replacingOccurrences(
            of: "{epochs: 2, learning_rate: 0.01}",
            with:
                "{epochs: 4, learning_rate: 0.01, schedule: step, step_every: 2, step_gamma: 0.5, warmup_epochs: 1, optimizer: sgd}"
        )
        let c1 = try KDCConfig.load(path: try write(text, in: dir))
        let c2 = try KDCConfig.load(path: try write(c1.yaml(), in: dir))
        XCTAssertEqual(c1, c2, c1.yaml())
        XCTAssertEqual(c2.teacher.model?.train.schedule, .step(every: 2, gamma: 0.5))
        XCTAssertEqual(c2.export.firmware?.name, "cortex-m4")

        let sample = try KDCConfig.load(path: repoRoot + "/samples/digits/config.yaml")
        let again = try KDCConfig.load(path: try write(sample.yaml(), in: dir))
        var normalized = again
        normalized.file = sample.file; normalized.baseDirectory = sample.baseDirectory
        XCTAssertEqual(sample, normalized, sample.yaml())
    }

    /// `leaky_relu` with and without `alpha:` (default 0.2), its range, and the YAML round trip.
    func testLeakyReLUConfig() throws {
        let dir = try makeTempDir()
        let text = Self.base.replacingOccurrences(
            of: "    - relu\n", with: "    - {op: leaky_relu, alpha: 0.1}\n    - leaky_relu\n")
        let c1 = try KDCConfig.load(path: try write(text, in: dir))
        XCTAssertEqual(
            c1.teacher.model?.graph.nodes.map(\.op),
            [.dense(units: 8), .leakyRelu(alpha: 0.1), .leakyRelu(alpha: 0.2), .dense(units: 3)])
        let c2 = try KDCConfig.load(path: try write(c1.yaml(), in: dir))
        XCTAssertEqual(c1, c2, c1.yaml())
        XCTAssertTrue(c1.yaml().contains("{op: leaky_relu, name: \"leaky_relu1\", inputs: [\"dense0\"], alpha: 0.1}"), c1.yaml())
        for bad in ["1", "-0.1", "1.5"] {
            try assertConfigError(
                Self.base.replacingOccurrences(of: "    - relu\n", with: "    - {op: leaky_relu, alpha: \(bad)}\n"),
                key: "teacher.layers[1].alpha", ["must be in [0, 1)"])
        }
    }

    func testAutoIsTheDefaultAndRoundTrips() throws {
        let dir = try makeTempDir()
        let text = Self.base.replacingOccurrences(of: "  temperature: 2\n  alpha: 0.5", with: "  alpha: auto")
        let c = try KDCConfig.load(path: try write(text, in: dir))
        XCTAssertNil(c.distill.temperature)
        XCTAssertNil(c.distill.alpha)
        XCTAssertTrue(c.distill.searches)
        XCTAssertEqual(c.distill.search, SearchConfig())
        XCTAssertEqual(c.distill.shipPolicy(baseline: true), .best)
        XCTAssertEqual(c.distill.shipPolicy(baseline: false), .distilled)
        XCTAssertNil(c.teacher.minAgreement)
        let custom = Self.base + "\n  ship: baseline\n  search: {temperatures: [2, 3], alphas: [0.2], max_epochs: 50}\n"
        let d = try KDCConfig.load(
            path: try write(
                custom.replacingOccurrences(of: "  train: {epochs: 2", with: "  min_agreement: 0.3\n  train: {epochs: 2"), in: dir
            ))
        XCTAssertEqual(d.distill.ship, .baseline)
        XCTAssertEqual(d.distill.search.temperatures, [2, 3])
        XCTAssertEqual(d.distill.search.maxEpochs, 50)
        XCTAssertEqual(d.teacher.minAgreement, 0.3)
        for cfg in [c, d] {
            let again = try KDCConfig.load(path: try write(cfg.yaml(), in: dir))
            var n = again
            n.file = cfg.file; n.baseDirectory = cfg.baseDirectory
            XCTAssertEqual(cfg, n, cfg.yaml())
        }
    }

    func testSamplesDecode() throws {
        for name in ["digits/config.yaml", "mnist/config.yaml", "mnist/cnn.yaml"] {
            let c = try KDCConfig.load(path: repoRoot + "/samples/" + name)
            XCTAssertNotNil(c.teacher.model, name)
            XCTAssertNotNil(c.student, name)
            XCTAssertEqual(c.data.classes, 10)
        }
        let m = try KDCConfig.load(path: repoRoot + "/samples/mnist/config.yaml")
        XCTAssertEqual(m.data.dir, ((repoRoot + "/../shared/data/mnist") as NSString).standardizingPath)
        XCTAssertEqual(
            m.teacher.model?.graph.nodes.compactMap { if case let .dense(u) = $0.op { return u } else { return nil } },
            [1200, 1200, 10])
    }

    func testOverrides() throws {
        let dir = try makeTempDir()
        let path = try write(Self.base, in: dir)
        let c = try KDCConfig.load(
            path: path, overrides: ConfigOverrides(data: "/tmp/elsewhere", out: "/tmp/out", seed: 42, epochs: 7))
        XCTAssertEqual(c.seed, 42)
        XCTAssertEqual(c.data.dir, "/tmp/elsewhere")
        XCTAssertEqual(c.teacher.model?.train.epochs, 7)
        XCTAssertEqual(c.student?.train.epochs, 7)
        let rel = try KDCConfig.load(path: path, overrides: ConfigOverrides(data: "some/rel"))
        XCTAssertEqual(rel.data.dir, (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("some/rel"))
        XCTAssertThrowsError(try KDCConfig.load(path: path, overrides: ConfigOverrides(epochs: 0)))
    }

    func testSplitIndependentOfTrainingSeed() throws {
        let path = repoRoot + "/samples/digits/config.yaml"
        let a = try KDCConfig.load(path: path), b = try KDCConfig.load(path: path, overrides: ConfigOverrides(seed: 99))
        let sa = try loadData(a.data, baseDirectory: a.baseDirectory), sb = try loadData(b.data, baseDirectory: b.baseDirectory)
        XCTAssertEqual(sa.test.x, sb.test.x)
        XCTAssertEqual(sa.train.labels, sb.train.labels)
    }

    func testEditDistanceHint() {
        XCTAssertEqual(hint("learnig_rate", ["learning_rate", "epochs"]), " (did you mean 'learning_rate'?)")
        XCTAssertEqual(hint("zzzzzz", ["learning_rate", "epochs"]), "")
        XCTAssertEqual(editDistance("ab", "ba"), 1)
    }
}
