import Foundation
import XCTest
@testable import KDC

/// `kdc data` through the real binary, and string labels from the CSV to the C header.
final class DataCommandTests: XCTestCase {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kdc-datacmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    /// The files hold exactly the samples `loadData` feeds the models, with their rows; rows.json
    /// and normalization.json say where the rows come from and how the values were scaled.
    func testDataWritesTheSplitsAsKDCFeedsThem() throws {
        let out = try tempDir() + "/rows"
        let r = try CLITests.runKDC(["data", "samples/digits/config.yaml", "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("the 1,293 training rows after the 20% test and 10% validation split, seed 0"), r.out)
        let cfg = try KDCConfig.load(path: CLITests.repoRoot + "/samples/digits/config.yaml")
        let s = try loadData(cfg.data, baseDirectory: cfg.baseDirectory)
        for (prefix, d) in [("train", s.train), ("val", s.validation), ("test", s.test), ("transfer", s.train)] {
            let x = try readNPY(out + "/\(prefix)_x.npy")
            XCTAssertEqual(x.type, .float32)
            XCTAssertEqual(x.shape, [d.count, 8, 8, 1], prefix)
            XCTAssertEqual(x.values, d.x, prefix)
            let rows = try readNPY(out + "/\(prefix)_rows.npy")
            XCTAssertEqual(rows.type, .int64)
            XCTAssertEqual(rows.integers, d.rows.map(Int64.init), prefix)
            if prefix != "transfer" {
                let y = try readNPY(out + "/\(prefix)_y.npy")
                XCTAssertEqual(y.type, .int64)
                XCTAssertEqual(y.integers, d.labels.map(Int64.init), prefix)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/transfer_y.npy"))
        let manifest = try JSONDecoder.snake.decode(
            DataManifest.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/rows.json")))
        XCTAssertEqual(manifest.splits["train"]?.source, CLITests.repoRoot + "/samples/digits/digits.csv.gz")
        XCTAssertEqual(manifest.splits["train"]?.sourceRows, 1797)
        XCTAssertEqual(manifest.splits["test"]?.rows, "test_rows.npy")
        XCTAssertEqual(manifest.splits["validation"]?.x, "val_x.npy")
        XCTAssertNil(manifest.classNames)
        let norm = try JSONDecoder.snake.decode(
            NormalizationFile.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/normalization.json")))
        XCTAssertEqual(norm.mode, "scale")
        XCTAssertEqual(norm.mean, [0])
        XCTAssertEqual(norm.std, [16])
    }

    /// Teacher logits with one row per row of the CSV (as scikit-learn predicts on the whole file)
    /// are accepted, and a wrong row count names both conventions.
    func testDistillTakesLogitsForEveryFileRow() throws {
        let dir = try tempDir()
        let raw = try readCSVDataset(CLITests.repoRoot + "/samples/digits/digits.csv.gz", classes: 10)
        // A perfect teacher on every row of the file: a large logit for the true class.
        var full = [Float](repeating: 0, count: raw.count * 10)
        for (r, y) in raw.labels.enumerated() { full[r * 10 + Int(y)] = 8 }
        try writeNPY(dir + "/logits.npy", shape: [raw.count, 10], values: full)
        try writeNPY(dir + "/short.npy", shape: [100, 10], values: [Float](repeating: 0, count: 1000))
        func config(_ logits: String) throws -> String {
            let text = """
                data: {format: csv, dir: \(CLITests.repoRoot)/samples/digits, file: digits.csv.gz, shape: [8, 8, 1], classes: 10, normalize: scale}
                teacher: {logits: \(dir)/\(logits)}
                student:
                  layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]
                  train: {epochs: 8, learning_rate: 0.01}
                distill: {baseline: false, alpha: 0}
                """
            try text.write(toFile: dir + "/\(logits).yaml", atomically: true, encoding: .utf8)
            return dir + "/\(logits).yaml"
        }
        let ok = try CLITests.runKDC(["distill", try config("logits.npy"), "--out", dir + "/out", "--quiet"])
        XCTAssertEqual(ok.status, 0, ok.err)
        let report = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/distill-report.json")))
        let acc = try XCTUnwrap(((report as? [String: Any])?["student"] as? [String: Any])?["float_accuracy"] as? Double)
        XCTAssertGreaterThan(acc, 0.8, "soft targets picked by row teach the student (labels are not used: alpha 0)")
        let bad = try CLITests.runKDC(["distill", try config("short.npy"), "--out", dir + "/out2", "--quiet"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(
            bad.err.contains("expected [1293, 10]") && bad.err.contains("or [1797, 10] (every row of digits.csv.gz"), bad.err)
    }

    /// String labels: sorted unique names are the class ids; the names reach report.json and the
    /// generated C files.
    func testStringLabelsReachTheReportAndTheCHeader() throws {
        let dir = try tempDir()
        let raw = try readCSVDataset(CLITests.repoRoot + "/samples/digits/digits.csv.gz", classes: 10)
        let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        var csv = (0..<64).map { "p\($0)" }.joined(separator: ",") + ",digit\n"
        for i in 0..<raw.count {
            csv +=
                raw.x[(i * 64)..<(i * 64 + 64)].map { String(Int($0)) }.joined(separator: ",") + "," + words[Int(raw.labels[i])]
                + "\n"
        }
        try csv.write(toFile: dir + "/words.csv", atomically: true, encoding: .utf8)
        let cfg = dir + "/config.yaml"
        try """
        data: {format: csv, dir: \(dir), file: words.csv, header: true, shape: [8, 8, 1], classes: 10, normalize: scale}
        teacher:
          layers: [flatten, {op: dense, units: 32}, relu, {op: dense, units: 10}]
          train: {epochs: 3}
        student:
          layers: [flatten, {op: dense, units: 8}, relu, {op: dense, units: 10}]
          train: {epochs: 3}
        distill: {baseline: false}
        export: {name: words}
        """.write(toFile: cfg, atomically: true, encoding: .utf8)
        let r = try CLITests.runKDC(["build", cfg, "--out", dir + "/out", "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        let sorted = words.sorted()
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json")))
        XCTAssertEqual(((report as? [String: Any])?["dataset"] as? [String: Any])?["class_names"] as? [String], sorted)
        let h = try String(contentsOfFile: dir + "/out/words.h", encoding: .utf8)
        XCTAssertTrue(h.contains("#define WORDS_CLASS_COUNT 10u"), h)
        let c = try String(contentsOfFile: dir + "/out/words.c", encoding: .utf8)
        XCTAssertTrue(
            c.contains("words_class_names[WORDS_CLASS_COUNT] = {" + sorted.map { "\"\($0)\"" }.joined(separator: ", ") + "};"), c)
        let d = try CLITests.runKDC(["data", cfg, "--out", dir + "/rows", "--quiet"])
        XCTAssertEqual(d.status, 0, d.err)
        let manifest = try JSONDecoder.snake.decode(
            DataManifest.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/rows/rows.json")))
        XCTAssertEqual(manifest.classNames, sorted)
        // y holds the ids of the sorted names: "eight" is 0, "zero" is 9.
        let y = try XCTUnwrap(try readNPY(dir + "/rows/train_y.npy").integers)
        let rows = try XCTUnwrap(try readNPY(dir + "/rows/train_rows.npy").integers)
        XCTAssertEqual(y.map { sorted[Int($0)] }, rows.map { words[Int(raw.labels[Int($0)])] })
    }
}

extension JSONDecoder {
    static var snake: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
