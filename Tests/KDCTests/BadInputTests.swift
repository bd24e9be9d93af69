import Foundation
import XCTest
@testable import KDC

/// The compiler's answer to bad input, through the real `kdc` binary: a message naming the file or
/// key, a non-zero exit, never a trap. The table of cases and the messages they give is
/// docs/BAD_INPUTS.md; this test regenerates it and fails when the committed copy differs.
/// Regenerate with: KDC_UPDATE_DOCS=1 swift test --filter BadInputTests
final class BadInputTests: XCTestCase {
    struct Case {
        var group: String
        var what: String
        /// Writes the files the case needs into `dir`; returns the kdc arguments.
        var setup: (_ dir: String) throws -> [String]
        /// Substrings the message must contain (file or key, and what was expected).
        var expect: [String]
        /// Files the failed command is known to leave in the case's folder (relative paths); every
        /// other file it writes fails the test.
        var leaves: [String] = []
    }

    static let digits = CLITests.repoRoot + "/samples/digits"

    static func write(_ path: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
    static func text(_ path: String, _ s: String) throws { try s.write(toFile: path, atomically: true, encoding: .utf8) }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    static let tinyModels = """
        teacher:
          layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]
          train: {epochs: 1}
        student:
          layers: [flatten, {op: dense, units: 8}, relu, {op: dense, units: 10}]
          train: {epochs: 1}
        """

    /// A config reading `data` (a YAML flow mapping body) with tiny models.
    static func config(_ dir: String, data: String, extra: String = "", models: String = tinyModels) throws -> String {
        let p = dir + "/config.yaml"
        try text(p, "data: {\(data)}\n\(models)\n\(extra)\n")
        return p
    }

    static func idx(_ dir: String, images: [UInt8], labels: [UInt8]) throws -> [String] {
        try write(dir + "/img.idx", images)
        try write(dir + "/lab.idx", labels)
        let cfg = try config(
            dir, data: "format: idx, dir: \(dir), train_images: img.idx, train_labels: lab.idx, shape: [2, 2, 1], classes: 10")
        return ["train", cfg, "--out", dir + "/out"]
    }

    static func goodImages(_ n: Int) -> [UInt8] {
        [0, 0, 8, 3] + be32(UInt32(n)) + be32(2) + be32(2) + [UInt8](repeating: 7, count: 4 * n)
    }
    static func goodLabels(_ n: Int) -> [UInt8] { [0, 0, 8, 1] + be32(UInt32(n)) + (0..<n).map { UInt8($0 % 10) } }

    static func csv(_ dir: String, _ body: String) throws -> [String] {
        try text(dir + "/d.csv", body)
        let cfg = try config(dir, data: "format: csv, dir: \(dir), file: d.csv, shape: [3], classes: 3")
        return ["train", cfg, "--out", dir + "/out"]
    }

    /// `kdc data` on `d.csv` holding `body`, with `keys` added to the data section.
    static func csvData(_ dir: String, _ body: String, keys: String = "") throws -> [String] {
        try text(dir + "/d.csv", body)
        let cfg = try config(dir, data: "format: csv, dir: \(dir), file: d.csv, shape: [3], classes: 3\(keys)")
        return ["data", cfg, "--out", dir + "/out"]
    }

    /// Series models: a window of 4 steps and 2 channels, 3 classes.
    static let seriesModels = """
        teacher:
          layers: [{op: conv1d, filters: 4, kernel: 3}, flatten, {op: dense, units: 3}]
        """

    /// `kdc data` on series NPY files `x.npy` (float32 of `shape`) and `y.npy` (int64 labels).
    static func seriesNPY(_ dir: String, shape: [Int], x: [Float], y: [Int64]) throws -> [String] {
        try write(dir + "/x.npy", npyBytes(shape: shape, float32: x))
        try write(dir + "/y.npy", npyBytes(shape: [y.count], int64: y))
        let cfg = try config(
            dir,
            data: "format: series, dir: \(dir), train_x: x.npy, train_y: y.npy, channels: 2, window: {length: 4}, classes: 3",
            models: seriesModels)
        return ["data", cfg, "--out", dir + "/out"]
    }

    /// `kdc data` on a series CSV `s.csv` (recording id in column 0, label last, 2 channels).
    static func seriesCSV(_ dir: String, _ body: String) throws -> [String] {
        try text(dir + "/s.csv", body)
        let cfg = try config(
            dir,
            data: "format: series, dir: \(dir), file: s.csv, recording_column: 0, channels: 2, window: {length: 4}, classes: 3",
            models: seriesModels)
        return ["data", cfg, "--out", dir + "/out"]
    }

    static func digitsConfig(_ dir: String, replacing old: String, with new: String) throws -> [String] {
        let good = try String(contentsOfFile: digits + "/config.yaml", encoding: .utf8)
        XCTAssertTrue(good.contains(old), "the digits config no longer contains '\(old)'")
        try text(dir + "/config.yaml", good.replacingOccurrences(of: old, with: new))
        return ["config", dir + "/config.yaml"]
    }

    static func digitsData(_ extra: String = "") -> String {
        "format: csv, dir: \(digits), file: digits.csv.gz, shape: [8, 8, 1], classes: 10\(extra)"
    }

    /// `kdc data` on a folder `rec/` of recordings: `0_a_0.wav` and `1_a_0.wav` are good 8 kHz
    /// clips, then `bytes` is written as `2_a_0.wav` (nil: no third file); `frontend` overrides
    /// the front-end section.
    static func recordings(
        _ dir: String, _ bytes: [UInt8]?, frontend: String = "{sample_rate: 8000, window: 64, hop: 32, mel_bins: 8}",
        keys: String = ""
    ) throws -> [String] {
        let rec = dir + "/rec"
        try FileManager.default.createDirectory(atPath: rec, withIntermediateDirectories: true)
        let tone = (0..<400).map { Int16(3000 * sin(Double($0) * 0.3)) }
        try write(rec + "/0_a_0.wav", wavBytes(tone, rate: 8000))
        try write(rec + "/1_a_0.wav", wavBytes(tone.reversed(), rate: 8000))
        if let bytes { try write(rec + "/2_a_0.wav", bytes) }
        let cfg = try config(
            dir,
            data:
                "format: audio, dir: \(rec), label_pattern: '^(\\d)_', clip_samples: 256, classes: \(bytes == nil ? 2 : 3)\(keys)",
            extra: "frontend: \(frontend)",
            models: """
                teacher:
                  layers: [flatten, {op: dense, units: 3}]
                student:
                  layers: [flatten, {op: dense, units: 3}]
                """)
        return ["data", cfg, "--out", dir + "/out"]
    }

    /// A good 8 kHz WAV with byte `at` (little-endian 16-bit field) set to `value`.
    static func wavPatched(_ at: Int, _ value: Int, rate: Int = 8000) -> [UInt8] {
        var b = wavBytes([1, 2, 3, 4], rate: rate)
        b[at] = UInt8(value & 0xFF); b[at + 1] = UInt8(value >> 8)
        return b
    }

    static let cases: [Case] = [
        // Data files
        Case(
            group: "data", what: "IDX image file missing",
            setup: { d in
                let cfg = try config(
                    d,
                    data: "format: idx, dir: \(d), train_images: none.idx, train_labels: lab.idx, shape: [2, 2, 1], classes: 10")
                return ["train", cfg, "--out", d + "/out"]
            }, expect: ["none.idx"]),
        Case(
            group: "data", what: "IDX image file empty", setup: { d in try idx(d, images: [], labels: goodLabels(4)) },
            expect: ["img.idx"]),
        Case(
            group: "data", what: "IDX header truncated",
            setup: { d in try idx(d, images: [0, 0, 8, 3, 0], labels: goodLabels(4)) }, expect: ["img.idx"]),
        Case(
            group: "data", what: "IDX wrong magic",
            setup: { d in
                var b = goodImages(4); b[0] = 0x1f; b[2] = 0x09
                return try idx(d, images: b, labels: goodLabels(4))
            }, expect: ["img.idx", "magic"]),
        Case(
            group: "data", what: "IDX payload shorter than its dimensions",
            setup: { d in
                try idx(d, images: Array(goodImages(4).dropLast(3)), labels: goodLabels(4))
            }, expect: ["img.idx"]),
        Case(
            group: "data", what: "IDX image and label counts differ",
            setup: { d in try idx(d, images: goodImages(4), labels: goodLabels(5)) },
            expect: ["4", "5"]),
        Case(
            group: "data", what: "IDX gzip stream truncated",
            setup: { d in
                let gz = gzipBytes(goodImages(40))
                return try idx(d, images: Array(gz.prefix(gz.count / 2)), labels: goodLabels(40))
            }, expect: ["img.idx"]),
        Case(
            group: "data", what: "CSV row with a missing field", setup: { d in try csv(d, "1,2,3,0\n4,5,1\n") },
            expect: ["d.csv", "2"]),
        Case(
            group: "data", what: "CSV non-numeric field", setup: { d in try csv(d, "1,2,3,0\n4,x,6,1\n") },
            expect: ["d.csv", "x"]),
        Case(group: "data", what: "CSV NaN feature", setup: { d in try csv(d, "1,2,3,0\n4,nan,6,1\n") }, expect: ["d.csv"]),
        Case(
            group: "data", what: "CSV label out of range", setup: { d in try csv(d, "1,2,3,0\n4,5,6,7\n") },
            expect: ["d.csv", "7"]),
        Case(
            group: "data", what: "CSV header row with header: false",
            setup: { d in try csvData(d, "a,b,c,label\n1,2,3,0\n") }, expect: ["d.csv", "line 1", "header: true"]),
        Case(
            group: "data", what: "CSV header: true on a file without one",
            setup: { d in try csvData(d, "1,2,3,0\n4,5,6,1\n", keys: ", header: true") },
            expect: ["d.csv", "line 1", "header: false"]),
        Case(
            group: "data", what: "CSV label column out of range",
            setup: { d in try csvData(d, "1,2,3,0\n4,5,6,1\n", keys: ", label_column: 9") },
            expect: ["d.csv", "label_column 9", "-4...-1"]),
        Case(
            group: "data", what: "CSV labels mix integers and class names",
            setup: { d in try csvData(d, "1,2,3,0\n4,5,6,cat\n") }, expect: ["d.csv", "line 2", "'cat'", "all integers"]),
        Case(
            group: "data", what: "CSV class names disagree with data.classes",
            setup: { d in try csvData(d, "1,2,3,a\n4,5,6,b\n7,8,9,c\n1,1,1,d\n") },
            expect: ["d.csv", "4 distinct", "data.classes is 3"]),
        Case(
            group: "data", what: "CSV test file with a class name the training file lacks",
            setup: { d in
                try text(d + "/t.csv", "1,2,3,a\n4,5,6,z\n")
                return try csvData(d, "1,2,3,a\n4,5,6,b\n7,8,9,c\n", keys: ", test_file: t.csv")
            }, expect: ["t.csv", "line 2", "'z'", "'a', 'b', 'c'"]),
        Case(
            group: "data", what: "NPY images channel-first against data.shape",
            setup: { d in
                try writeNPY(d + "/x.npy", shape: [4, 1, 2, 2], values: [Float](repeating: 0, count: 16))
                try writeNPY(d + "/y.npy", shape: [4], int64: [0, 1, 0, 1])
                let cfg = try config(
                    d, data: "format: npy, dir: \(d), train_x: x.npy, train_y: y.npy, shape: [2, 2, 1], classes: 10")
                return ["data", cfg, "--out", d + "/out"]
            }, expect: ["x.npy", "channel-first", "transpose"]),
        Case(
            group: "data", what: "series NPY without a channel axis",
            setup: { d in try seriesNPY(d, shape: [2, 8], x: [Float](repeating: 1, count: 16), y: [0, 1]) },
            expect: ["x.npy", "[N, T, C]"]),
        Case(
            group: "data", what: "series NPY with NaN",
            setup: { d in
                var x = [Float](repeating: 1, count: 32)
                x[19] = .nan
                return try seriesNPY(d, shape: [2, 8, 2], x: x, y: [0, 1])
            }, expect: ["x.npy", "recording 1, step 1, channel 1"]),
        Case(
            group: "data", what: "series labels for another number of recordings",
            setup: { d in try seriesNPY(d, shape: [2, 8, 2], x: [Float](repeating: 1, count: 32), y: [0, 1, 2]) },
            expect: ["y.npy", "one per recording"]),
        Case(
            group: "data", what: "series CSV channel count changes between rows",
            setup: { d in try seriesCSV(d, "a,1,2,0\na,1,2,3,0\n") }, expect: ["s.csv", "line 2", "channel count"]),
        Case(
            group: "data", what: "series CSV recording interrupted by another",
            setup: { d in try seriesCSV(d, "a,1,2,0\nb,1,2,1\na,1,2,0\n") }, expect: ["s.csv", "line 3", "recording 'a'"]),
        Case(
            group: "data", what: "series recording shorter than the window",
            setup: { d in try seriesCSV(d, "a,1,2,0\na,1,2,0\na,1,2,0\na,1,2,0\nb,1,2,1\n") },
            expect: ["s.csv", "recording 'b'", "window.length 4"]),
        Case(
            group: "audio", what: "WAV file empty", setup: { d in try recordings(d, []) },
            expect: ["2_a_0.wav", "empty"]),
        Case(
            group: "audio", what: "WAV not RIFF", setup: { d in try recordings(d, Array("ID3 not a wave file".utf8)) },
            expect: ["2_a_0.wav", "RIFF"]),
        Case(
            group: "audio", what: "WAV a RIFF file but not WAVE",
            setup: { d in
                var b = wavBytes([1, 2], rate: 8000); b[8...11] = ArraySlice("AVI ".utf8)
                return try recordings(d, b)
            }, expect: ["2_a_0.wav", "WAVE"]),
        Case(
            group: "audio", what: "WAV without a fmt chunk",
            setup: { d in
                var b = wavBytes([1, 2], rate: 8000); b[12...15] = ArraySlice("junk".utf8)
                return try recordings(d, b)
            }, expect: ["2_a_0.wav", "fmt"]),
        Case(
            group: "audio", what: "WAV not PCM (IEEE float)", setup: { d in try recordings(d, wavPatched(20, 3)) },
            expect: ["2_a_0.wav", "not PCM"]),
        Case(
            group: "audio", what: "WAV stereo",
            setup: { d in try recordings(d, wavBytes([1, 2, 3, 4], rate: 8000, channels: 2)) },
            expect: ["2_a_0.wav", "stereo", "mono"]),
        Case(
            group: "audio", what: "WAV 8-bit", setup: { d in try recordings(d, wavPatched(34, 8)) },
            expect: ["2_a_0.wav", "8-bit", "16-bit"]),
        Case(
            group: "audio", what: "WAV 24-bit", setup: { d in try recordings(d, wavPatched(34, 24)) },
            expect: ["2_a_0.wav", "24-bit", "16-bit"]),
        Case(
            group: "audio", what: "WAV data chunk truncated",
            setup: { d in try recordings(d, Array(wavBytes([Int16](repeating: 5, count: 100), rate: 8000).dropLast(50))) },
            expect: ["2_a_0.wav", "truncated data chunk"]),
        Case(
            group: "audio", what: "WAV 0 Hz sample rate", setup: { d in try recordings(d, wavPatched(24, 0)) },
            expect: ["2_a_0.wav", "0 Hz"]),
        Case(
            group: "audio", what: "WAV rate differs from frontend.sample_rate",
            setup: { d in try recordings(d, wavBytes([1, 2, 3], rate: 16000)) },
            expect: ["2_a_0.wav", "16000", "frontend.sample_rate"]),
        Case(
            group: "audio", what: "recordings folder missing",
            setup: { d in
                let args = try recordings(d, nil)
                try FileManager.default.removeItem(atPath: d + "/rec")
                return args
            }, expect: ["rec", "does not exist"]),
        Case(
            group: "audio", what: "file name the label pattern does not match",
            setup: { d in
                let args = try recordings(d, nil)
                try write(d + "/rec/x_a_0.wav", wavBytes([1, 2], rate: 8000))
                return args
            }, expect: ["x_a_0.wav", "label_pattern"]),
        Case(
            group: "audio", what: "label not among data.class_names",
            setup: { d in try recordings(d, nil, keys: ", class_names: [zero, one]") },
            expect: ["0_a_0.wav", "'0'", "class_names"]),
        Case(
            group: "audio", what: "frontend key out of range",
            setup: { d in try recordings(d, nil, frontend: "{sample_rate: 8000, window: 64, hop: 128}") },
            expect: ["config.yaml", "frontend.hop"]),
        Case(
            group: "data", what: "data folder without the file (--data)",
            setup: { d in
                ["train", digits + "/config.yaml", "--data", d, "--out", d + "/out"]
            }, expect: ["digits.csv.gz"]),
        // Configs
        Case(group: "config", what: "config file missing", setup: { d in ["config", d + "/nope.yaml"] }, expect: ["nope.yaml"]),
        Case(
            group: "config", what: "typo in a key",
            setup: { d in
                try digitsConfig(d, replacing: "learning_rate: 0.001", with: "learnig_rate: 0.001")
            }, expect: ["learnig_rate", "learning_rate"]),
        Case(
            group: "config", what: "unknown key",
            setup: { d in try digitsConfig(d, replacing: "\nseed: 0", with: "\ncolour: blue\nseed: 0") },
            expect: ["colour"]),
        Case(
            group: "config", what: "wrong type",
            setup: { d in try digitsConfig(d, replacing: "epochs: 30", with: "epochs: many") },
            expect: ["teacher.train.epochs"]),
        Case(
            group: "config", what: "value out of range",
            setup: { d in try digitsConfig(d, replacing: "alpha: auto", with: "alpha: 1.5") },
            expect: ["distill.alpha"]),
        Case(
            group: "config", what: "required key missing",
            setup: { d in try digitsConfig(d, replacing: "  classes: 10\n", with: "") },
            expect: ["classes"]),
        Case(
            group: "config", what: "kernel larger than its input",
            setup: { d in
                let cfg = try config(
                    d, data: digitsData(),
                    models: tinyModels.replacingOccurrences(
                        of: "[flatten, {op: dense, units: 16}",
                        with: "[{op: conv2d, filters: 4, kernel: 9, padding: valid}, flatten, {op: dense, units: 16}"))
                return ["train", cfg, "--out", d + "/out"]
            }, expect: ["teacher.layers", "conv2d0"]),
        Case(
            group: "config", what: "conv1d kernel longer than the series window",
            setup: { d in
                let cfg = try config(
                    d,
                    data:
                        "format: series, dir: \(d), train_x: x.npy, train_y: y.npy, channels: 2, window: {length: 4}, classes: 3",
                    models: seriesModels.replacingOccurrences(of: "kernel: 3", with: "kernel: 5"))
                return ["config", cfg]
            }, expect: ["teacher.layers[0].kernel", "longer than the series"]),
        Case(
            group: "config", what: "last layer does not match the classes",
            setup: { d in
                let cfg = try config(
                    d, data: digitsData(),
                    models: tinyModels.replacingOccurrences(
                        of: "units: 8}, relu, {op: dense, units: 10}", with: "units: 8}, relu, {op: dense, units: 7}"))
                return ["distill", cfg, "--out", d + "/out"]
            }, expect: ["student.layers", "10 classes"]),
        // Teachers
        Case(
            group: "teacher", what: "teacher logits for another data set",
            setup: { d in
                let values = [Float](repeating: 0, count: 30)
                try writeNPY(d + "/logits.npy", shape: [3, 10], values: values)
                let cfg = try config(
                    d, data: digitsData(),
                    models: tinyModels.replacingOccurrences(
                        of: "layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]\n  train: {epochs: 1}",
                        with: "logits: \(d)/logits.npy"))
                return ["distill", cfg, "--out", d + "/out"]
            }, expect: ["logits.npy", "[3, 10]", "[1293, 10] (the 1,293 training rows", "[1797, 10] (every row of digits.csv.gz"]),
        Case(
            group: "teacher", what: "teacher logits in another row order (shuffled)",
            setup: { d in
                let cfg = try config(
                    d, data: digitsData(),
                    models: tinyModels.replacingOccurrences(
                        of: "layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]\n  train: {epochs: 1}",
                        with: "logits: \(d)/logits.npy"))
                // A perfect teacher's logits (5 for the label, 0 elsewhere) for the training rows, shuffled.
                let c = try KDCConfig.load(path: cfg)
                let labels = try loadData(c.data, baseDirectory: c.baseDirectory).train.labels
                var rng = SeededRNG(seed: 1)
                let rows = rng.permutation(labels.count).map { labels[$0] }
                let values = rows.flatMap { y in (0..<10).map { $0 == Int(y) ? Float(5) : 0 } }
                try writeNPY(d + "/logits.npy", shape: [labels.count, 10], values: values)
                return ["distill", cfg, "--out", d + "/out"]
            }, expect: ["logits.npy", "labelled transfer rows", "chance", "kdc data"]),
        Case(
            group: "teacher", what: "teacher checkpoint that is not one",
            setup: { d in
                try text(d + "/t.safetensors", "hello")
                let cfg = try config(
                    d, data: digitsData(),
                    models: tinyModels.replacingOccurrences(
                        of: "layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]\n  train: {epochs: 1}",
                        with: "checkpoint: \(d)/t.safetensors"))
                return ["distill", cfg, "--out", d + "/out"]
            }, expect: ["t.safetensors"]),
        // Training and outputs
        Case(
            group: "training", what: "training diverges (NaN loss)",
            setup: { d in
                let cfg = try config(
                    d, data: digitsData(),
                    models: tinyModels.replacingOccurrences(
                        of: "train: {epochs: 1}\nstudent",
                        with: "train: {epochs: 2, optimizer: sgd, learning_rate: 1.0e30}\nstudent"))
                return ["train", cfg, "--out", d + "/out"]
            }, expect: ["epoch 1", "hint"]),
        Case(
            group: "output", what: "output folder cannot be created",
            setup: { d in
                try text(d + "/file", "x")
                return ["train", digits + "/config.yaml", "--epochs", "1", "--out", d + "/file/out"]
            }, expect: ["file"]),
        Case(
            group: "output", what: "model larger than the device budget",
            setup: { d in
                let cfg = try config(d, data: digitsData(), extra: "budget: {flash_bytes: 100, ram_bytes: 50}")
                return ["build", cfg, "--out", d + "/out"]
            }, expect: ["budget", "RAM", "before training"]),
        Case(
            group: "output", what: "inspect a corrupt artifact",
            setup: { d in
                try write(d + "/bad.kdc", Array("KDCM".utf8) + [UInt8](repeating: 0, count: 40))
                return ["inspect", d + "/bad.kdc"]
            }, expect: ["bad.kdc"]),
        // kdc run
        Case(
            group: "run", what: "inputs of another dtype (float64)",
            setup: { d in
                let a = try runArtifact(d)
                try write(d + "/x.npy", npyBytes(descr: "<f8", shape: "(2, 20)", payload: [UInt8](repeating: 0, count: 320)))
                return ["run", a, "--input", d + "/x.npy", "--output", d + "/out.npy"]
            }, expect: ["x.npy", "'<f8' (float64)", "int8", "float32"]),
        Case(
            group: "run", what: "inputs of another shape",
            setup: { d in
                let a = try runArtifact(d)
                try writeNPY(d + "/x.npy", shape: [2, 4, 4], values: [Float](repeating: 0, count: 32))
                return ["run", a, "--input", d + "/x.npy", "--output", d + "/out.npy"]
            }, expect: ["x.npy", "[2, 4, 4]", "[N, 20]"]),
        Case(
            group: "run", what: "inputs file missing",
            setup: { d in ["run", try runArtifact(d), "--input", d + "/none.npy", "--output", d + "/out.npy"] },
            expect: ["none.npy"]),
        Case(
            group: "run", what: "a corrupt artifact",
            setup: { d in
                var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try runArtifact(d))))
                b[b.count - 1] ^= 1
                try write(d + "/bad.kdc", b)
                try writeNPY(d + "/x.npy", shape: [2, 20], values: [Float](repeating: 0, count: 40))
                return ["run", d + "/bad.kdc", "--input", d + "/x.npy", "--output", d + "/out.npy"]
            }, expect: ["bad.kdc", "KDC_ERR_", "C runtime"]),
        // TensorFlow Lite models (kdc import): the reader's and the importer's checks.
        Case(
            group: "tflite", what: "truncated file",
            setup: { d in try tflite(d, Array(TFLiteWriter.write(TFLiteReaderTests.tinyModel()).prefix(700))) },
            expect: ["bad.tflite", "points past the end (file is 700 bytes)"]),
        Case(
            group: "tflite", what: "root offset past the end",
            setup: { d in
                var b = TFLiteWriter.write(TFLiteReaderTests.tinyModel())
                b.replaceSubrange(0..<4, with: le32(0x0010_0000))
                return try tflite(d, b)
            }, expect: ["bad.tflite", "model: table at offset 1048576", "points past the end"]),
        Case(
            group: "tflite", what: "vtable pointing outside the file",
            setup: { d in
                var b = TFLiteWriter.write(TFLiteReaderTests.tinyModel())
                let root = Int(b[0]) | Int(b[1]) << 8
                b.replaceSubrange(root..<(root + 4), with: le32(UInt32(root + 64)))
                return try tflite(d, b)
            }, expect: ["bad.tflite", "vtable at offset -64 points outside the file"]),
        Case(
            group: "tflite", what: "not a TensorFlow Lite file",
            setup: { d in try tflite(d, Array("KDCM".utf8) + [UInt8](repeating: 0, count: 40)) },
            expect: ["bad.tflite", "expected 'TFL3'"]),
        Case(
            group: "tflite", what: "buffer too short for its tensor",
            setup: { d in
                try tflite(d, TFLiteWriter.write(TFLiteReaderTests.tinyModel(weights: [UInt8](repeating: 1, count: 50))))
            }, expect: ["bad.tflite", "tensors[1] 'conv/w'", "buffer 1 holds 50 bytes, int8 [3, 3, 3, 2] needs 54"]),
        Case(
            group: "tflite", what: "negative dimension",
            setup: { d in try tflite(d, TFLiteWriter.write(TFLiteReaderTests.tinyModel(inputShape: [1, -4, 4, 2]))) },
            expect: ["bad.tflite", "tensors[0] 'input'.shape: dimension 1 is -4"]),
        Case(
            group: "tflite", what: "per-channel scale count does not match the channels",
            setup: { d in try tflite(d, TFLiteWriter.write(TFLiteReaderTests.tinyModel(weightScales: [0.1, 0.2]))) },
            expect: ["bad.tflite", "2 per-channel scales but dimension 0 of [3, 3, 3, 2] is 3"]),
        Case(
            group: "tflite", what: "unsupported op",
            setup: { d in
                var m = TFLiteReaderTests.tinyModel()
                m.operatorCodes[1] = TFLiteOperatorCode(builtin: 14)  // LOGISTIC
                return try tflite(d, TFLiteWriter.write(m))
            }, expect: ["bad.tflite", "operator 1 (LOGISTIC): not supported", "kdc imports CONV_2D"]),
    ]

    /// The test fixture MLP (20 inputs, 10 outputs) exported stored into `dir`; its path.
    static func runArtifact(_ dir: String) throws -> String {
        let (g, _) = try ExportFixtures.mlp()
        return try export(g, normalization: .identity, to: dir, name: "mlp", compress: false).artifactPath
    }

    /// `kdc import` on `bad.tflite` holding `bytes`.
    static func tflite(_ dir: String, _ bytes: [UInt8]) throws -> [String] {
        try write(dir + "/bad.tflite", bytes)
        return ["import", dir + "/bad.tflite", "--out", dir + "/out"]
    }

    /// Every file (not folder) under `dir`, as paths relative to it.
    static func files(in dir: String) -> Set<String> {
        var out: Set<String> = []
        let e = FileManager.default.enumerator(atPath: dir)
        while let f = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue { out.insert(f) }
        }
        return out
    }

    func testBadInputTable() throws {
        var rows: [String] = []
        for (i, c) in Self.cases.enumerated() {
            let dir = NSTemporaryDirectory() + "kdc-bad-\(i)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let args = try c.setup(dir)
            let before = Self.files(in: dir)
            let r = try CLITests.runKDC(args)
            let written = Self.files(in: dir).subtracting(before).sorted()
            XCTAssertEqual(written, c.leaves.sorted(), "\(c.what): a failed command must write no file")
            XCTAssertNotEqual(r.status, 0, "\(c.what): should fail")
            XCTAssertLessThan(r.status, 128, "\(c.what): must not crash (status \(r.status))")
            let message =
                r.err.split(separator: "\n").first(where: { $0.hasPrefix("error:") || $0.hasPrefix("Error:") })
                .map(String.init) ?? r.err
            for needle in c.expect {
                XCTAssertTrue(message.contains(needle), "\(c.what): message lacks '\(needle)': \(message)")
            }
            let shown = message.replacingOccurrences(of: dir, with: "<dir>")
                .replacingOccurrences(of: CLITests.repoRoot, with: "<repo>")
                .replacingOccurrences(of: "|", with: "\\|")
            let cmd = (["kdc"] + args).joined(separator: " ").replacingOccurrences(of: dir, with: "<dir>")
                .replacingOccurrences(of: CLITests.repoRoot, with: "<repo>")
            let files = written.isEmpty ? "nothing" : written.joined(separator: ", ")
            rows.append("| \(c.group) | \(c.what) | `\(cmd)` | \(r.status) | \(shown) | \(files) |")
        }
        let doc = """
            # Bad input and what kdc says

            Each row is a case of `Tests/KDCTests/BadInputTests.swift`, run through the real `kdc` binary:
            the input, the command, the exit status, the first line of the message on stderr (`<dir>` is
            the case's temporary folder, `<repo>` this repository) and the files the command left in the
            case's folder. The test fails when a message stops naming the file or key, when a case exits 0
            or by a signal, when a failed command wrote a file, or when this table is out of date.
            Regenerate it with `KDC_UPDATE_DOCS=1 swift test --filter BadInputTests`.

            The TensorFlow Lite reader behind `kdc import` is also fuzzed (fuzz/tflite/README.md): 5,000,000
            libFuzzer executions (AddressSanitizer, Swift's bounds and overflow checks on) of the reader, the
            writer and the importer on mutations of the MLPerf Tiny files and small generated models, on
            2026-12-01, with no crash, timeout or out-of-memory.

            | group | input | command | exit | message | written |
            | --- | --- | --- | --- | --- | --- |

            """ + rows.joined(separator: "\n") + "\n"
        let path = CLITests.repoRoot + "/docs/BAD_INPUTS.md"
        if ProcessInfo.processInfo.environment["KDC_UPDATE_DOCS"] == "1" {
            try doc.write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            let committed = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            XCTAssertEqual(
                committed, doc,
                "docs/BAD_INPUTS.md is out of date; regenerate with KDC_UPDATE_DOCS=1 swift test --filter BadInputTests")
        }
    }
}
