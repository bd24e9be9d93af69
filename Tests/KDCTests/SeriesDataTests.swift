import Foundation
import XCTest
@testable import KDC

/// Time-series data (`data.format: series`): windowing, splits by recording, per-channel
/// normalization from the training recordings, and the NPY and CSV readers' errors.
final class SeriesDataTests: XCTestCase {
    /// A float64 NPY (`<f8`) of `shape`.
    static func float64NPY(shape: [Int], _ values: [Double]) -> [UInt8] {
        var payload: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload += $0 } }
        return npyHeader(descr: "<f8", shape: shape) + payload
    }

    /// `n` recordings of `t` steps and `c` channels, recording i of class i % 3; value of
    /// (recording i, step s, channel ch) = 100·i + s + 0.25·ch, so every value says where it came from.
    static func writeSeries(_ dir: String, n: Int, t: Int, c: Int) throws {
        var x: [Float] = []
        for i in 0..<n { for s in 0..<t { for ch in 0..<c { x.append(Float(100 * i + s) + 0.25 * Float(ch)) } } }
        try writeBytes(dir, "x.npy", npyBytes(shape: [n, t, c], float32: x))
        try writeBytes(dir, "y.npy", npyBytes(shape: [n], int64: (0..<n).map { Int64($0 % 3) }))
    }

    static func dataConfig(_ dir: String, _ extra: String = "") throws -> DataConfig {
        let text = """
            data: {format: series, dir: \(dir), train_x: x.npy, train_y: y.npy, channels: 2, classes: 3,
                   window: {length: 4, stride: 3}\(extra)}
            teacher: {layers: [flatten, {op: dense, units: 3}]}
            """
        return try KDCConfig.parse(text, file: dir + "/c.yaml", baseDirectory: dir).data
    }

    func testWindowStartsDropThePartialLastWindow() {
        XCTAssertEqual(SeriesWindow(length: 4, stride: 3).starts(steps: 10), [0, 3, 6])
        XCTAssertEqual(SeriesWindow(length: 4, stride: 3).starts(steps: 9), [0, 3], "steps 6…9 would need step 9")
        XCTAssertEqual(SeriesWindow(length: 2, stride: 5).starts(steps: 11), [0, 5], "stride > length skips steps")
        XCTAssertEqual(SeriesWindow(length: 2, stride: 5).starts(steps: 12), [0, 5, 10])
        XCTAssertEqual(SeriesWindow(length: 4, stride: 1).starts(steps: 4), [0])
        XCTAssertEqual(SeriesWindow(length: 5, stride: 1).starts(steps: 4), [])
    }

    func testWindowsCarryTheirValuesLabelsAndRows() throws {
        let src = SeriesSource(files: .npy(x: "x", y: "y"), window: SeriesWindow(length: 3, stride: 5), channels: 2)
        // Recording "a": per-recording label 2, 11 steps → windows at 0 and 5 (10…12 would pass the end).
        // Recording "b": per-step labels (step s has label s % 3), 4 steps → one window, label of step 2.
        let a = SeriesRecording(
            id: "a", values: (0..<22).map(Float.init), labels: [2], rows: [Int](repeating: 7, count: 11), steps: 11)
        let b = SeriesRecording(
            id: "b", values: (0..<8).map { Float(1000 + $0) }, labels: [0, 1, 2, 0], rows: [20, 21, 22, 23], steps: 4)
        let d = try seriesWindows(
            [a, b], source: src, classes: 3, name: "w", origin: RowOrigin(file: "/f.npy", fileRows: 24))
        XCTAssertEqual(d.sampleShape, [3, 1, 2])
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.x, [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 1000, 1001, 1002, 1003, 1004, 1005])
        XCTAssertEqual(d.labels, [2, 2, 2])
        XCTAssertEqual(d.rows, [7, 7, 22], "the row of each window's last step")

        let short = SeriesRecording(id: "'walk-3'", values: [1, 2], labels: [0], rows: [0], steps: 1)
        assertDataError("/f.npy", ["recording 'walk-3'", "1 time steps", "window.length 3"], "short") {
            _ = try seriesWindows([a, short], source: src, classes: 3, name: "w", origin: RowOrigin(file: "/f.npy", fileRows: 2))
        }
    }

    /// Every recording lands in exactly one split, with all of its windows; the draw depends on
    /// split.seed only.
    func testSplitsNeverShareARecording() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeSeries(dir, n: 30, t: 11, c: 2)
        let cfg = try Self.dataConfig(dir, ", normalize: none, split: {test: 0.2, validation: 0.2, seed: 5}")
        let s = try loadData(cfg, baseDirectory: dir)
        // Windows of 4 steps every 3 over 11 steps: starts 0, 3, 6 (the partial 9…12 is dropped).
        let parts = [s.train, s.validation, s.test]
        var owner: [Int: Int] = [:]
        for (k, d) in parts.enumerated() {
            XCTAssertEqual(d.count % 3, 0)
            for w in 0..<d.count {
                let first = d.x[w * d.sampleSize]
                let rec = Int(first) / 100
                XCTAssertEqual(d.rows[w], rec, "NPY rows are the recording index")
                XCTAssertEqual(d.labels[w], Int32(rec % 3))
                XCTAssertEqual([0, 3, 6].contains(Int(first) % 100), true, "starts 0, 3, 6")
                XCTAssertNotEqual(owner[rec].map { $0 != k }, true, "recording \(rec) is in two splits")
                owner[rec] = k
            }
        }
        XCTAssertEqual(owner.count, 30, "every recording is in a split")
        XCTAssertTrue(parts.allSatisfy { $0.count > 0 })
        XCTAssertEqual(s.test.count, 6 * 3, "round(0.2 · 10) = 2 recordings per class, 3 windows each")
        XCTAssertEqual(s.series?.testRecordings, 6)
        XCTAssertEqual(s.series?.trainRecordings, 30 - 6 - (s.series?.validationRecordings ?? 0))
        XCTAssertEqual(s.series?.trainStepsDropped, (s.series?.trainRecordings ?? 0) * 1, "step 10 of each is in no window")
        let again = try loadData(cfg, baseDirectory: dir)
        XCTAssertEqual(again.test.rows, s.test.rows)
        let other = try loadData(
            try Self.dataConfig(dir, ", normalize: none, split: {test: 0.2, validation: 0.2, seed: 6}"), baseDirectory: dir)
        XCTAssertNotEqual(Set(other.test.rows), Set(s.test.rows), "another split.seed draws other recordings")
    }

    /// The mean and std are those of the training recordings' steps (each once), never of the
    /// validation or test recordings; they are recorded as the sensor input stage.
    func testNormalizationComesFromTheTrainingRecordingsOnly() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeSeries(dir, n: 12, t: 11, c: 2)
        let s = try loadData(try Self.dataConfig(dir, ", split: {test: 0.25, validation: 0.25}"), baseDirectory: dir)
        let trainRecs = Set(s.train.rows)
        XCTAssertEqual(trainRecs.count, s.series?.trainRecordings)
        func stats(_ recs: Set<Int>, channel: Int) -> (Double, Double) {
            var v: [Double] = []
            for i in recs { for step in 0..<11 { v.append(Double(100 * i + step) + 0.25 * Double(channel)) } }
            let m = v.reduce(0, +) / Double(v.count)
            return (m, (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot())
        }
        for ch in 0..<2 {
            let (m, sd) = stats(trainRecs, channel: ch)
            XCTAssertEqual(Double(s.normalization.mean[ch]), m, accuracy: 1e-3)
            XCTAssertEqual(Double(s.normalization.std[ch]), sd, accuracy: 1e-3)
            let (allM, _) = stats(Set(0..<12), channel: ch)
            XCTAssertGreaterThan(abs(allM - m), 1, "the held-out recordings move the mean: the check means something")
        }
        XCTAssertEqual(s.inputStage, .sensor(SensorNormalization(mean: s.normalization.mean, std: s.normalization.std)))
        XCTAssertEqual(s.series?.normalization.mean, s.normalization.mean)
        // The training windows are normalized: x·std + mean gives the file's value back.
        let raw = s.train.x[0] * s.normalization.std[0] + s.normalization.mean[0]
        XCTAssertEqual(raw, Float(100 * s.train.rows[0]), accuracy: 0.01)

        // A constant channel keeps std 1 (the floor), and `none` gives one entry per channel.
        let flat = SeriesRecording(id: "0", values: [5, 1, 5, 2, 5, 3], labels: [0], rows: [0, 0, 0], steps: 3)
        let n = seriesNormalization(.standard, train: [flat], channels: 2)
        XCTAssertEqual(n.mean, [5, 2])
        XCTAssertEqual(n.std[0], 1)
        XCTAssertEqual(n.std[1], Float((2.0 / 3).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(seriesNormalization(.none, train: [flat], channels: 2), Normalization(mean: [0, 0], std: [1, 1]))
    }

    func testFloat64AndPerStepLabels() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 2 recordings × 5 steps × 1 channel; per-step labels.
        try writeBytes(dir, "x.npy", Self.float64NPY(shape: [2, 5, 1], (0..<10).map { Double($0) + 0.5 }))
        try writeBytes(dir, "y.npy", npyBytes(shape: [2, 5], int64: [0, 0, 1, 1, 1, 2, 2, 2, 0, 0]))
        let recs = try readSeriesNPY(x: dir + "/x.npy", y: dir + "/y.npy", channels: 1, classes: 3)
        XCTAssertEqual(recs.map(\.values), [[0.5, 1.5, 2.5, 3.5, 4.5], [5.5, 6.5, 7.5, 8.5, 9.5]])
        XCTAssertEqual(recs[0].majorityLabel, 1)
        XCTAssertEqual(recs[1].majorityLabel, 2)
        let src = SeriesSource(files: .npy(x: "x.npy", y: "y.npy"), window: SeriesWindow(length: 2, stride: 2), channels: 1)
        let d = try seriesWindows(recs, source: src, classes: 3, name: "t", origin: RowOrigin(file: "x", fileRows: 2))
        XCTAssertEqual(d.labels, [0, 1, 2, 0], "the label of each window's last step (steps 1 and 3 of each)")
    }

    func testNPYBadInputsNameTheFileAndField() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = dir + "/x.npy", y = dir + "/y.npy"
        func read() throws { _ = try readSeriesNPY(x: x, y: y, channels: 3, classes: 3) }
        let good: [Float] = (0..<24).map(Float.init)
        let labels = npyBytes(shape: [2], int64: [0, 1])
        try writeBytes(dir, "y.npy", labels)

        try writeBytes(dir, "x.npy", npyBytes(shape: [2, 12], float32: good))
        assertDataError(x, ["[N, T, C]", "[2, 12]", "x[..., None]"], "rank 2") { try read() }
        try writeBytes(dir, "x.npy", npyBytes(shape: [2, 3, 4], float32: good))
        assertDataError(x, ["4 channels", "data.channels is 3"], "channels") { try read() }
        var nan = good
        nan[14] = .nan
        try writeBytes(dir, "x.npy", npyBytes(shape: [2, 4, 3], float32: nan))
        assertDataError(x, ["recording 1, step 0, channel 2", "nan", "NaN and infinity"], "NaN") { try read() }
        var inf = good
        inf[4] = -.infinity
        try writeBytes(dir, "x.npy", npyBytes(shape: [2, 4, 3], float32: inf))
        assertDataError(x, ["recording 0, step 1, channel 1", "-inf"], "Inf") { try read() }
        try writeBytes(dir, "x.npy", npyBytes(descr: "<f2", shape: "(2, 4, 3)", payload: [UInt8](repeating: 0, count: 48)))
        assertDataError(x, ["float32 (<f4) or float64 (<f8)", "'<f2'", "float16"], "dtype") { try read() }
        try writeBytes(dir, "x.npy", Array(npyBytes(shape: [2, 4, 3], float32: good).dropLast(8)))
        assertDataError(x, ["truncated"], "truncated") { try read() }

        try writeBytes(dir, "x.npy", npyBytes(shape: [2, 4, 3], float32: good))
        try writeBytes(dir, "y.npy", npyBytes(shape: [3], int64: [0, 1, 2]))
        assertDataError(y, ["shape [3]", "expected [2] (one per recording) or [2, 4] (one per time step)"], "count") {
            try read()
        }
        try writeBytes(dir, "y.npy", npyBytes(shape: [2], int64: [0, 3]))
        assertDataError(y, ["label 3 at recording 1", "0..<3"], "range") { try read() }
        try writeBytes(dir, "y.npy", npyBytes(shape: [2], float32: [0, 1]))
        assertDataError(y, ["integer dtype"], "float labels") { try read() }
        try writeBytes(dir, "y.npy", labels)
        XCTAssertEqual(try readSeriesNPY(x: x, y: y, channels: 3, classes: 3).count, 2, "the good files read")
    }

    func testCSVRecordingsAndBadInputs() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/s.csv"
        func read(_ body: String, header: Bool = true) throws -> [SeriesRecording] {
            try body.write(toFile: p, atomically: true, encoding: .utf8)
            return try readSeriesCSV(p, labelColumn: -1, recordingColumn: 0, header: header, channels: 2, classes: 3).recordings
        }
        let recs = try read("rec,ax,ay,label\nwalk-1,1,2,0\nwalk-1,3,4,0\r\n\nrun-2,5,6,1\nrun-2,7,8,2\nrun-2,9,10,2\n")
        XCTAssertEqual(recs.map(\.id), ["'walk-1'", "'run-2'"])
        XCTAssertEqual(recs.map(\.values), [[1, 2, 3, 4], [5, 6, 7, 8, 9, 10]])
        XCTAssertEqual(recs.map(\.labels), [[0, 0], [1, 2, 2]])
        XCTAssertEqual(recs.map(\.rows), [[0, 1], [2, 3, 4]], "data rows: the header and blank lines are not rows")

        let cases: [(String, String, [String])] = [
            ("ragged", "r,1,2,0\nr,1,2,3,0\n", ["line 2", "5 columns, the first row has 4", "channel count"]),
            ("channels", "r,1,2,3,0\n", ["line 1", "3 channel columns", "data.channels is 2"]),
            ("NaN", "r,1,2,0\nr,nan,2,0\n", ["line 2, column 2", "NaN and infinity"]),
            ("Inf", "r,1,inf,0\n", ["line 1, column 3", "NaN and infinity"]),
            ("not a number", "r,1,x,0\n", ["line 1, column 3", "'x' is not a number"]),
            ("label", "r,1,2,walk\n", ["line 1, column 4", "'walk' is not an integer"]),
            ("label range", "r,1,2,3\n", ["line 1, column 4", "label 3 is out of range 0..<3"]),
            ("interrupted", "a,1,2,0\nb,1,2,0\na,1,2,0\n", ["line 3, column 1", "recording 'a' (from line 1)", "consecutive"]),
            ("empty id", "a,1,2,0\n,1,2,0\n", ["line 2, column 1", "recording id is empty"]),
            ("header", "rec,ax,ay,label\na,1,2,0\n", ["line 1", "looks like a header", "header: true"]),
            ("empty", "\n\n", ["no data rows"]),
        ]
        for (what, body, expect) in cases {
            assertDataError(p, expect, what) { _ = try read(body, header: false) }
        }
    }

    /// Through the config and `loadData`: a recording shorter than the window names the
    /// recording; a test split without recordings says so.
    func testLoadErrorsNameTheRecording() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "rec,a,b,y\nr0,1,2,0\nr0,1,2,0\nr0,1,2,0\nr0,1,2,0\nr1,1,2,1\nr1,1,2,1\nr1,1,2,1\n".write(
            toFile: dir + "/s.csv", atomically: true, encoding: .utf8)
        let text = """
            data: {format: series, dir: \(dir), file: s.csv, recording_column: 0, header: true, channels: 2, classes: 2,
                   window: {length: 3}, split: {test: 0.5, validation: 0}}
            teacher: {layers: [flatten, {op: dense, units: 2}]}
            """
        let cfg = try KDCConfig.parse(text, file: dir + "/c.yaml", baseDirectory: dir)
        XCTAssertEqual(cfg.data.shape, [3, 1, 2])
        assertDataError(dir + "/s.csv", ["test split holds no recording", "2 recordings"], "no test") {
            _ = try loadData(cfg.data, baseDirectory: dir)
        }
        let test = dir + "/t.csv"
        try "r9,1,2,1\nr9,1,2,1\n".write(toFile: test, atomically: true, encoding: .utf8)
        let withTest = try KDCConfig.parse(
            text.replacingOccurrences(of: "header: true,", with: "header: true, test_file: t.csv,"), file: dir + "/c.yaml",
            baseDirectory: dir)
        // With the test file: header: true applies to it too, so t.csv loses line 1 and r9 has 1 step.
        assertDataError(test, ["recording 'r9'", "1 time steps", "window.length 3"], "short test recording") {
            _ = try loadData(withTest.data, baseDirectory: dir)
        }
    }
}
