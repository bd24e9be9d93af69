import Foundation
import XCTest

/// Runs the real `kdc` binary, as a user would, and checks messages and exit codes.
final class CLITests: XCTestCase {
    static var binary: URL {
        // The test bundle sits in the build products folder beside the kdc executable.
        var dir = Bundle(for: CLITests.self).bundleURL
        if dir.pathExtension == "xctest" { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("kdc")
    }

    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    func run(_ args: [String], cwd: String? = nil) throws -> (status: Int32, out: String, err: String) {
        try CLITests.runKDC(args, cwd: cwd)
    }

    /// Runs kdc with `args` in `cwd` (default: the repository) and returns its exit status and output.
    static func runKDC(_ args: [String], cwd: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let bin = CLITests.binary
        guard FileManager.default.isExecutableFile(atPath: bin.path) else {
            XCTFail("kdc binary not found at \(bin.path); build it with `swift build` first")
            return (-1, "", "")
        }
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? CLITests.repoRoot)
        let o = Pipe(), e = Pipe()
        p.standardOutput = o
        p.standardError = e
        try p.run()
        let od = o.fileHandleForReading.readDataToEndOfFile()
        let ed = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
    }

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kdc-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func testConfigPrintsEffectiveYAMLWithOverrides() throws {
        let r = try run(["config", "samples/digits/config.yaml", "--seed", "7", "--epochs", "3"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("seed: 7"), r.out)
        XCTAssertTrue(r.out.contains("epochs: 3"), r.out)
    }

    /// `--flash-budget` / `--ram-budget` replace the config's budget (what `kdc search` screens
    /// candidates with and `kdc build` checks), and reject a non-positive number of bytes.
    func testBudgetOptionsReplaceTheConfigBudget() throws {
        let r = try run(["config", "samples/digits/search.yaml", "--flash-budget", "2048"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("flash_bytes: 2048"), r.out)
        XCTAssertTrue(r.out.contains("ram_bytes: 4096"), r.out)  // the config's, unchanged
        let both = try run(["config", "samples/digits/config.yaml", "--flash-budget", "9000", "--ram-budget", "3000"])
        XCTAssertEqual(both.status, 0, both.err)
        XCTAssertTrue(both.out.contains("flash_bytes: 9000") && both.out.contains("ram_bytes: 3000"), both.out)
        for bad in [["--flash-budget", "0"], ["--ram-budget=-5"]] {
            let e = try run(["search", "samples/digits/search.yaml"] + bad)
            XCTAssertNotEqual(e.status, 0)
            XCTAssertTrue(
                e.err.contains(bad[0].hasPrefix("--ram") ? "--ram-budget" : "--flash-budget")
                    && e.err.contains("positive number of bytes"), e.err)
        }
    }

    /// Bad inputs: each gives a message naming the file or key, and a non-zero exit, never a trap.
    func testBadInputsGiveClearErrors() throws {
        let dir = try tempDir()
        let good = try String(contentsOfFile: CLITests.repoRoot + "/samples/digits/config.yaml", encoding: .utf8)
        func config(_ name: String, _ text: String) throws -> String {
            let p = dir + "/" + name
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        let digits = CLITests.repoRoot + "/samples/digits"
        let cases: [(args: [String], expect: [String])] = [
            (["config", dir + "/missing.yaml"], ["missing.yaml"]),
            (
                [
                    "config",
                    try config("typo.yaml", good.replacingOccurrences(of: "learning_rate: 0.001", with: "learnig_rate: 0.001")),
                ],
                ["learnig_rate", "learning_rate"]
            ),
            (
                ["config", try config("type.yaml", good.replacingOccurrences(of: "epochs: 30", with: "epochs: many"))],
                ["teacher.train.epochs"]
            ),
            (
                [
                    "train",
                    try config(
                        "kernel.yaml",
                        good.replacingOccurrences(
                            of: "{op: conv2d, filters: 32, kernel: 3}",
                            with: "{op: conv2d, filters: 32, kernel: 9, padding: valid}")),
                    "--data", digits, "--out", dir + "/o",
                ], ["conv2d0"]
            ),
            (["train", "samples/digits/config.yaml", "--data", dir, "--out", dir + "/o"], ["digits.csv.gz"]),
            (["train", "samples/digits/config.yaml", "--epochs", "0"], ["--epochs"]),
        ]
        for c in cases {
            let r = try run(c.args)
            XCTAssertNotEqual(r.status, 0, "\(c.args) should fail")
            XCTAssertLessThan(r.status, 128, "\(c.args) must not crash (status \(r.status))")
            for needle in c.expect {
                XCTAssertTrue(r.err.contains(needle), "\(c.args): stderr lacks '\(needle)':\n\(r.err)")
            }
        }
    }

    /// The bundled sample trains end to end through the CLI (2 epochs, so the test stays short),
    /// writes checkpoints and a report with the documented keys.
    func testBuildOnDigitsWritesReport() throws {
        let out = try tempDir()
        let r = try run(["build", "samples/digits/config.yaml", "--epochs", "2", "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("teacher") && r.out.contains("baseline"), r.out)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: out + "/report.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let student = try XCTUnwrap(json["student"] as? [String: Any])
        for key in ["params", "macs", "float_accuracy", "validation_accuracy"] { XCTAssertNotNil(student[key], key) }
        // The int8 figure belongs to the student that ships (at 2 epochs either may win).
        let shipped = try XCTUnwrap(json["shipped"] as? [String: Any])
        let model = try XCTUnwrap(shipped["model"] as? String)
        XCTAssertTrue(["distilled", "baseline"].contains(model), model)
        XCTAssertNotNil((json[model == "distilled" ? "student" : "baseline"] as? [String: Any])?["int8_accuracy"])
        XCTAssertTrue(r.out.contains("shipped: the \(model) student"), r.out)
        XCTAssertNotNil((json["distill"] as? [String: Any])?["search"])
        XCTAssertNotNil((json["teacher"] as? [String: Any])?["float_accuracy"])
        XCTAssertNotNil((json["baseline"] as? [String: Any])?["float_accuracy"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/student.safetensors"))
    }

    /// Without a terminal, a training prints its first and last epoch and at most one line every
    /// KDC_PROGRESS_SECONDS between them (here never); the report keeps every epoch.
    func testProgressWithoutTerminalIsShortAndReportKeepsEveryEpoch() throws {
        let out = try tempDir()
        setenv("KDC_PROGRESS_SECONDS", "100000", 1)
        defer { unsetenv("KDC_PROGRESS_SECONDS") }
        let r = try run(["train", "samples/digits/config.yaml", "--model", "student", "--epochs", "7", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        let epochLines = r.err.split(separator: "\n").filter { $0.hasPrefix("  epoch ") }
        XCTAssertEqual(epochLines.count, 2, r.err)
        XCTAssertTrue(epochLines.first?.hasPrefix("  epoch 1/7 ") ?? false, r.err)
        XCTAssertTrue(epochLines.last?.hasPrefix("  epoch 7/7 ") ?? false, r.err)
        let reports = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".json") }
        let report = try XCTUnwrap(reports.first, "no report in \(out)")
        let data = try XCTUnwrap(FileManager.default.contents(atPath: out + "/" + report))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let student = try XCTUnwrap(json["student"] as? [String: Any], "\(json.keys)")
        let history = try XCTUnwrap(student["history"] as? [[String: Any]])
        XCTAssertEqual(history.map { $0["epoch"] as? Int }, (1...7).map { $0 })
        XCTAssertNotNil(history.last?["train_accuracy"])
    }
}
