import Foundation
import XCTest
@testable import KDC

/// Rows a user can line up: the NPY writer, row indices through loading and splitting, teacher
/// logits in both row conventions, string labels and the CSV/NPY layout checks.
final class DataRowsTests: XCTestCase {
    static let digitsFile = repoRoot + "/samples/digits/digits.csv.gz"

    func digits(_ edit: (inout DataConfig) -> Void = { _ in }) -> DataConfig {
        var c = DataConfig(
            format: .csv, dir: repoRoot + "/samples/digits", train: .csv(file: "digits.csv.gz", labelColumn: -1, header: false),
            test: nil, shape: [8, 8, 1], classes: 10, normalize: .scale)
        edit(&c)
        return c
    }

    // MARK: NPY writer

    func testNPYWriterReadsBack() throws {
        let floats: [Float] = [0, -1.5, 3.25, .greatestFiniteMagnitude, 1e-30, -0.0]
        let ints: [Int64] = [-3, 5_000_000_000, 7, .max, .min, 0]
        let dir = try makeTempDir()
        for shape in [[6], [2, 3], [1, 2, 3], [3, 2, 1, 1]] {
            for (i, bytes) in [npyBytes(shape: shape, float32: floats), npyBytes(shape: shape, int64: ints)].enumerated() {
                XCTAssertEqual(Array(bytes[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0], "magic and version 1.0")
                let hl = Int(bytes[8]) | Int(bytes[9]) << 8
                XCTAssertEqual((10 + hl) % 64, 0, "the data starts on a 64-byte boundary")
                XCTAssertEqual(bytes[10 + hl - 1], 0x0A, "the header ends with a newline")
                XCTAssertEqual(bytes.count, 10 + hl + 6 * (i == 0 ? 4 : 8))
                let p = try writeBytes(dir, "a\(shape.count)-\(i).npy", bytes)
                let a = try readNPY(p)
                XCTAssertEqual(a.shape, shape)
                if i == 0 {
                    XCTAssertEqual(a.type, .float32)
                    XCTAssertEqual(a.values.map(\.bitPattern), floats.map(\.bitPattern), "bit-exact, -0.0 included")
                } else {
                    XCTAssertEqual(a.type, .int64)
                    XCTAssertEqual(a.integers, ints)
                }
            }
        }
        // Empty arrays and a scalar.
        let empty = try writeBytes(dir, "empty.npy", npyBytes(shape: [0, 8, 8, 1], float32: []))
        XCTAssertEqual(try readNPY(empty).shape, [0, 8, 8, 1])
        let scalar = try writeBytes(dir, "scalar.npy", npyBytes(shape: [], int64: [42]))
        XCTAssertEqual(try readNPY(scalar).integers, [42])
        // writeNPY writes the same bytes, atomically.
        try writeNPY(dir + "/w.npy", shape: [2, 3], int64: ints)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/w.npy"))), npyBytes(shape: [2, 3], int64: ints))
    }

    /// numpy reads what the writer wrote, and `np.save` writes the very same bytes.
    func testNPYWriterAgainstNumpy() throws {
        guard Self.python(["-c", "import numpy"]).status == 0 else {
            throw XCTSkip(
                "numpy is not installed (python3 -c 'import numpy' failed): the NPY writer was NOT checked against numpy")
        }
        let dir = try makeTempDir()
        let floats: [Float] = [0, -1.5, 3.25, 1e-30, 65504, -7]
        let ints: [Int64] = [-3, 5_000_000_000, 7, .max, .min, 0]
        try writeBytes(dir, "f.npy", npyBytes(shape: [2, 3, 1], float32: floats))
        try writeBytes(dir, "i.npy", npyBytes(shape: [6], int64: ints))
        try writeBytes(dir, "e.npy", npyBytes(shape: [0, 4], float32: []))
        let script = """
            import numpy as np, io, sys
            d = sys.argv[1]
            f = np.load(d + '/f.npy'); i = np.load(d + '/i.npy'); e = np.load(d + '/e.npy')
            assert f.dtype == np.dtype('<f4') and f.shape == (2, 3, 1) and f.flags['C_CONTIGUOUS'], (f.dtype, f.shape)
            assert f.ravel().tolist() == [0.0, -1.5, 3.25, float(np.float32(1e-30)), 65504.0, -7.0], f.ravel().tolist()
            assert i.dtype == np.dtype('<i8') and i.shape == (6,), (i.dtype, i.shape)
            assert i.tolist() == [-3, 5000000000, 7, 2**63 - 1, -2**63, 0], i.tolist()
            assert e.dtype == np.dtype('<f4') and e.shape == (0, 4)
            for name, a in [('f', f), ('i', i), ('e', e)]:
                b = io.BytesIO(); np.save(b, a)
                assert b.getvalue() == open(d + '/' + name + '.npy', 'rb').read(), name + ': np.save writes other bytes'
            print('ok')
            """
        let r = Self.python(["-c", script, dir])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.output.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }

    static func python(_ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    // MARK: Rows through loading and splitting

    func testSplitRowsPartitionTheFileAndMatchItsSamples() throws {
        let raw = try readCSVDataset(Self.digitsFile, classes: 10, sampleShape: [8, 8, 1])
        XCTAssertEqual(raw.rows, Array(0..<1797))
        XCTAssertEqual(raw.origin, RowOrigin(file: Self.digitsFile, fileRows: 1797))
        let s = try loadData(digits(), baseDirectory: "/")
        var seen: [Int] = []
        for d in [s.train, s.validation, s.test] {
            XCTAssertEqual(d.rows.count, d.count)
            XCTAssertEqual(d.rows, d.rows.sorted(), "\(d.name): split members keep the file's order")
            XCTAssertEqual(d.origin?.file, Self.digitsFile)
            XCTAssertEqual(d.origin?.fileRows, 1797)
            for (i, r) in d.rows.enumerated() {
                XCTAssertEqual(d.labels[i], raw.labels[r], "\(d.name) sample \(i) is row \(r)")
                XCTAssertEqual(Array(d.x[(i * 64)..<(i * 64 + 64)]), raw.x[(r * 64)..<(r * 64 + 64)].map { $0 / 16 })
            }
            seen += d.rows
        }
        XCTAssertEqual(seen.sorted(), Array(0..<1797), "train, validation and test partition the file")
        XCTAssertEqual(s.train.origin?.selection, "after the 20% test and 10% validation split, seed 0")
        XCTAssertEqual(describeRows(s.train), "the 1,293 training rows after the 20% test and 10% validation split, seed 0")
        XCTAssertEqual(s.test.origin?.selection, "of the 20% test split, seed 0")
        // Another split seed moves rows, and the rows say so.
        let other = try loadData(digits { $0.split.seed = 1 }, baseDirectory: "/")
        XCTAssertNotEqual(other.test.rows, s.test.rows)
        XCTAssertEqual(describeRows(other.test), "the 359 test rows of the 20% test split, seed 1")
    }

    func testRowsWithSeparateTestFilesAndTransfer() throws {
        let dir = try makeTempDir()
        try writeNPY(dir + "/x.npy", shape: [10, 2], values: (0..<20).map(Float.init))
        try writeBytes(dir, "y.npy", npyBytes(descr: "|u1", shape: "(10,)", payload: (0..<10).map { UInt8($0 % 2) }))
        try writeNPY(dir + "/tx.npy", shape: [3, 2], values: [Float](repeating: 1, count: 6))
        try writeBytes(dir, "ty.npy", npyBytes(descr: "|u1", shape: "(3,)", payload: [0, 1, 1]))
        var cfg = DataConfig(
            format: .npy, dir: dir, train: .npy(x: "x.npy", y: "y.npy"), test: .npy(x: "tx.npy", y: "ty.npy"),
            shape: [2], classes: 2, normalize: .none)
        cfg.split.validation = 0.2
        let s = try loadData(cfg, baseDirectory: "/")
        XCTAssertEqual(s.test.rows, [0, 1, 2])
        XCTAssertEqual(s.test.origin, RowOrigin(file: dir + "/tx.npy", fileRows: 3))
        XCTAssertEqual((s.train.rows + s.validation.rows).sorted(), Array(0..<10))
        XCTAssertEqual(s.validation.count, 2)
        XCTAssertEqual(s.train.origin?.selection, "after the 20% validation split, seed 0")
        for (i, r) in s.train.rows.enumerated() { XCTAssertEqual(s.train.x[2 * i], Float(2 * r)) }
        let t = try loadTransfer(.npy(x: "tx.npy", y: nil), like: cfg, normalization: s.normalization, baseDirectory: "/")
        XCTAssertEqual(t.rows, [0, 1, 2])
        XCTAssertEqual(t.origin, RowOrigin(file: dir + "/tx.npy", fileRows: 3))
    }

    // MARK: Teacher logits, both row conventions

    func testLogitsOnePerTransferRowOrOnePerFileRow() throws {
        let s = try loadData(digits(), baseDirectory: "/")
        let dir = try makeTempDir()
        // Logits for every row of the file: row r holds (r, -r, 0, …).
        var full = [Float](repeating: 0, count: 1797 * 10)
        for r in 0..<1797 { full[r * 10] = Float(r); full[r * 10 + 1] = -Float(r) }
        try writeNPY(dir + "/full.npy", shape: [1797, 10], values: full)
        let picked = try alignTeacherLogits(dir + "/full.npy", transfer: s.train, classes: 10)
        XCTAssertEqual(picked.shape, [1293, 10])
        for (i, r) in s.train.rows.enumerated() {
            XCTAssertEqual(picked.data[i * 10], Float(r))
            XCTAssertEqual(picked.data[i * 10 + 1], -Float(r))
        }
        // The same logits, one row per training sample (as `kdc data` writes the samples).
        try writeNPY(dir + "/train.npy", shape: [1293, 10], values: picked.data)
        XCTAssertEqual(try alignTeacherLogits(dir + "/train.npy", transfer: s.train, classes: 10).data, picked.data)

        try writeNPY(dir + "/short.npy", shape: [3, 10], values: [Float](repeating: 0, count: 30))
        assertDataError(
            dir + "/short.npy",
            [
                "logits have shape [3, 10]",
                "expected [1293, 10] (the 1,293 training rows after the 20% test and 10% validation split, seed 0: `kdc data` writes them",
                "or [1797, 10] (every row of digits.csv.gz, in file order; kdc picks the training rows)",
                "data.classes: 10",
            ], "short"
        ) { _ = try alignTeacherLogits(dir + "/short.npy", transfer: s.train, classes: 10) }
        try writeNPY(dir + "/cols.npy", shape: [1797, 9], values: [Float](repeating: 0, count: 1797 * 9))
        assertDataError(dir + "/cols.npy", ["[1797, 9]", "[1797, 10]"], "columns") {
            _ = try alignTeacherLogits(dir + "/cols.npy", transfer: s.train, classes: 10)
        }
        try writeBytes(dir, "f8.npy", npyBytes(descr: "<i8", shape: "(1,)", payload: [UInt8](repeating: 0, count: 8)))
        assertDataError(dir + "/f8.npy", ["float32"], "dtype") {
            _ = try alignTeacherLogits(dir + "/f8.npy", transfer: s.train, classes: 10)
        }
        var bad = full
        bad[5] = .nan
        try writeNPY(dir + "/nan.npy", shape: [1797, 10], values: bad)
        assertDataError(dir + "/nan.npy", ["NaN"], "nan") {
            _ = try alignTeacherLogits(dir + "/nan.npy", transfer: s.train, classes: 10)
        }

        // A transfer set that is a whole file: one accepted shape, said once.
        let t = Dataset(
            name: "transfer", sampleShape: [1], x: [1, 2], labels: [-1, -1], numClasses: 10,
            origin: RowOrigin(file: "/d/t.npy", fileRows: 2))
        assertDataError(
            dir + "/short.npy", ["expected [2, 10] (every row of t.npy, in file order: the transfer set is the whole file)"],
            "whole file"
        ) { _ = try alignTeacherLogits(dir + "/short.npy", transfer: t, classes: 10) }
    }

    /// The teacher stage takes logits with one row per row of the data file.
    func testPipelineTeacherPicksTheTransferRowsFromFileRowLogits() throws {
        let dir = try makeTempDir()
        var full = [Float](repeating: 0, count: 1797 * 10)
        for r in 0..<1797 { full[r * 10 + r % 10] = Float(r) }
        try writeNPY(dir + "/logits.npy", shape: [1797, 10], values: full)
        let cfg = try KDCConfig.parse(
            """
            data: {format: csv, dir: \(repoRoot)/samples/digits, file: digits.csv.gz, shape: [8, 8, 1], classes: 10, normalize: scale}
            teacher: {logits: \(dir)/logits.npy, min_agreement: 0}
            student: {layers: [flatten, {op: dense, units: 10}]}
            """, file: dir + "/c.yaml")
        let p = Pipeline(config: cfg, outDir: dir)
        let data = try p.loadData()
        let (source, trained, _) = try p.teacher(data: data, transfer: try p.transferSet(data))
        XCTAssertNil(trained)
        guard case let .logits(t) = source else { return XCTFail("expected logits") }
        XCTAssertEqual(t.shape, [data.train.count, 10])
        for (i, r) in data.train.rows.enumerated() { XCTAssertEqual(t.data[i * 10 + r % 10], Float(r)) }
    }

    // MARK: CSV labels and headers

    func testCSVStringLabelsAreSortedClassNames() throws {
        let dir = try makeTempDir()
        let p = try writeBytes(dir, "s.csv", Array("1,2,zebra\n3,4,ant\n5,6,moth\n7,8,ant\n".utf8))
        let d = try readCSVDataset(p, classes: 3)
        XCTAssertEqual(d.classNames, ["ant", "moth", "zebra"])
        XCTAssertEqual(d.labels, [2, 0, 1, 0])
        XCTAssertEqual(d.x, [1, 2, 3, 4, 5, 6, 7, 8])
        // A test (or transfer) file follows the training names, whatever names it holds itself.
        let t = try writeBytes(dir, "t.csv", Array("1,1,zebra\n2,2,zebra\n".utf8))
        XCTAssertEqual(try readCSVDataset(t, classes: 3, labels: .names(["ant", "moth", "zebra"])).labels, [2, 2])
        let cases: [(String, String, CSVLabels, Int, [String])] = [
            ("mixed", "1,2,cat\n3,4,1\n", .any, 2, ["line 2, column 3", "mix class names and integers", "line 1 has 'cat'"]),
            ("mixed-int-first", "1,2,0\n3,4,1\n5,6,dog\n", .any, 2, ["line 3, column 3", "line 1 has '0'", "line 3 has 'dog'"]),
            (
                "count", "1,2,a\n3,4,b\n5,6,c\n", .any, 2,
                ["3 distinct ('a', 'b', 'c')", "data.classes is 2"]
            ),
            ("fraction", "1,2,0.5\n", .any, 2, ["line 1, column 3", "'0.5' is not an integer"]),
            ("empty", "1,2,\n", .any, 2, ["line 1, column 3", "the label is empty"]),
            (
                "unknown-name", "1,2,wolf\n", .names(["ant", "moth"]), 2,
                ["'wolf' is not one of the training data's 2 class names"]
            ),
            ("int-in-names", "1,2,1\n", .names(["ant", "moth"]), 2, ["label 1 is an integer", "class names ('ant', 'moth')"]),
            ("name-in-ints", "1,2,ant\n", .integers, 2, ["'ant' is a class name", "integer labels"]),
        ]
        for (name, text, kind, classes, fragments) in cases {
            let path = try writeBytes(dir, name + ".csv", Array(text.utf8))
            assertDataError(path, fragments, name) { _ = try readCSVDataset(path, classes: classes, labels: kind) }
        }
    }

    func testCSVHeaderMistakes() throws {
        let dir = try makeTempDir()
        let cases: [(String, String, Bool, Int, [String])] = [
            (
                "named-header", "a,b,label\n1,2,0\n", false, -1,
                ["line 1", "looks like a header ('a', 'b': not numbers)", "set header: true"]
            ),
            (
                "numeric-header", "0,1,target\n1,2,0\n", false, -1,
                ["line 2, column 3", "line 1 has 'target'", "if line 1 is a header, set header: true"]
            ),
            (
                "no-header", "1,2,0\n3,4,1\n", true, -1,
                ["line 1", "header: true, but line 1 reads as a data row", "set header: false"]
            ),
            ("label-column", "1,2,0\n", false, 5, ["line 1", "label_column 5 does not exist in a row of 3 columns", "-3...-1"]),
        ]
        for (name, text, header, lc, fragments) in cases {
            let path = try writeBytes(dir, name + ".csv", Array(text.utf8))
            assertDataError(path, fragments, name) { _ = try readCSVDataset(path, labelColumn: lc, header: header, classes: 2) }
        }
        // A real header is skipped, also one of numbers (pandas' default column names) that is no valid row.
        let ok = try writeBytes(dir, "ok.csv", Array("0,1,2\n1,2,0\n".utf8))
        XCTAssertEqual(try readCSVDataset(ok, header: true, classes: 2).count, 1, "label 2 is out of range: a header")
        let named = try writeBytes(dir, "named.csv", Array("0,1,kind\n1,2,cat\n3,4,dog\n".utf8))
        XCTAssertEqual(try readCSVDataset(named, header: true, classes: 2).classNames, ["cat", "dog"])
        let dataLike = try writeBytes(dir, "dl.csv", Array("5,6,cat\n1,2,cat\n3,4,dog\n".utf8))
        assertDataError(dataLike, ["reads as a data row"], "string-label row as header") {
            _ = try readCSVDataset(dataLike, header: true, classes: 2)
        }
    }

    func testCSVTestFileWithStringLabels() throws {
        let dir = try makeTempDir()
        try writeBytes(dir, "train.csv", Array("x,y,kind\n0,0,b\n1,1,a\n2,2,b\n3,3,a\n4,4,a\n5,5,b\n".utf8))
        try writeBytes(dir, "test.csv", Array("x,y,kind\n9,9,b\n8,8,b\n".utf8))
        var cfg = DataConfig(
            format: .csv, dir: dir, train: .csv(file: "train.csv", labelColumn: -1, header: true),
            test: .csv(file: "test.csv", labelColumn: -1, header: true), shape: [2], classes: 2, normalize: .none)
        cfg.split.validation = 0
        let s = try loadData(cfg, baseDirectory: "/")
        XCTAssertEqual(describeRows(s.validation), "the 0 validation rows (split.validation is 0)")
        XCTAssertEqual(describeRows(s.train), "the 6 training rows (every row of train.csv)")
        XCTAssertEqual(s.classNames, ["a", "b"])
        XCTAssertEqual(s.train.count, 6, "a test file: nothing is held out of the training file")
        XCTAssertEqual(s.test.labels, [1, 1])
        XCTAssertEqual(s.test.rows, [0, 1], "rows count data rows, not the header")
        XCTAssertEqual(s.test.origin?.file, dir + "/test.csv")
        XCTAssertEqual(s.report.classNames, ["a", "b"])
        try writeBytes(dir, "bad.csv", Array("x,y,kind\n9,9,c\n".utf8))
        cfg.test = .csv(file: "bad.csv", labelColumn: -1, header: true)
        assertDataError(dir + "/bad.csv", ["'c' is not one of the training data's 2 class names ('a', 'b')"], "test name") {
            _ = try loadData(cfg, baseDirectory: "/")
        }
    }

    func testCSVTestFileKey() throws {
        let dir = try makeTempDir()
        let text = """
            data: {format: csv, file: train.csv, test_file: test.csv, label_column: 0, header: true, shape: [2], classes: 2}
            teacher: {logits: l.npy}
            """
        try text.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let c = try KDCConfig.load(path: dir + "/c.yaml")
        XCTAssertEqual(c.data.test, .csv(file: "test.csv", labelColumn: 0, header: true), "the training file's columns")
        try c.yaml().write(toFile: dir + "/again.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try KDCConfig.load(path: dir + "/again.yaml").data.test, c.data.test, c.yaml())
        try "data: {format: npy, train_x: a, train_y: b, test_file: t.csv, shape: [2], classes: 2}\nteacher: {logits: l.npy}\n"
            .write(toFile: dir + "/npy.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try KDCConfig.load(path: dir + "/npy.yaml")) { e in
            XCTAssertTrue("\(e)".contains("data.test_file: not used with format npy"), "\(e)")
        }
    }

    // MARK: NPY layout

    func testNPYChannelFirstIsRefused() throws {
        let dir = try makeTempDir()
        try writeBytes(dir, "y.npy", npyBytes(descr: "|u1", shape: "(2,)", payload: [0, 1]))
        func load(_ xShape: [Int], _ shape: [Int]) throws -> Dataset {
            try writeNPY(dir + "/x.npy", shape: xShape, values: [Float](repeating: 0, count: xShape.reduce(1, *)))
            var cfg = DataConfig(
                format: .npy, dir: dir, train: .npy(x: "x.npy", y: "y.npy"), test: .npy(x: "x.npy", y: "y.npy"),
                shape: shape, classes: 2, normalize: .none)
            cfg.split.validation = 0
            return try loadData(cfg, baseDirectory: "/").train
        }
        assertDataError(
            dir + "/x.npy",
            ["samples have shape [3, 4, 5] but data.shape is [4, 5, 3]", "looks channel-first", "x.transpose(0, 2, 3, 1)"],
            "NCHW"
        ) { _ = try load([2, 3, 4, 5], [4, 5, 3]) }
        XCTAssertEqual(try load([2, 4, 5, 3], [4, 5, 3]).sampleShape, [4, 5, 3], "channel-last")
        XCTAssertEqual(try load([2, 3, 3, 3], [3, 3, 3]).count, 2, "ambiguous: [C, H, W] equals [H, W, C]")
        XCTAssertEqual(try load([2, 4, 5], [4, 5, 1]).count, 2, "[N, H, W] for one channel")
        XCTAssertEqual(try load([2, 20], [4, 5, 1]).count, 2, "flat features")
        assertDataError(dir + "/x.npy", ["looks channel-first"], "one channel") { _ = try load([2, 1, 4, 5], [4, 5, 1]) }
    }

    // MARK: Class names in the C header

    func testCHeaderCarriesClassNamesOnlyWhenThereAreSome() throws {
        let (graph, _) = try ExportFixtures.mlp()
        let plain = try prepareExport(graph, normalization: .identity, name: "m", compress: false)
        XCTAssertFalse(plain.header.contains("class_names") || plain.source.contains("class_names"))
        let names = ["ant", "b\"q\\", "??=", "é", "e", "f", "g", "h", "i", "j"]
        let named = try prepareExport(graph, normalization: .identity, name: "m", compress: false, classNames: names)
        XCTAssertTrue(named.header.contains("#define M_CLASS_COUNT 10u"), named.header)
        XCTAssertTrue(named.header.contains("extern const char *const m_class_names[M_CLASS_COUNT];"), named.header)
        XCTAssertTrue(named.header.hasPrefix(plain.header.components(separatedBy: "#endif").first!), "names are only added")
        XCTAssertTrue(named.source.hasPrefix(plain.source), "names are only added")
        // The C compiler reads the names back byte for byte.
        let dir = try makeTempDir()
        try named.header.write(toFile: dir + "/m.h", atomically: true, encoding: .utf8)
        try named.source.write(toFile: dir + "/m.c", atomically: true, encoding: .utf8)
        try """
        #include <stdio.h>
        #include "m.h"
        int main(void) {
            for (unsigned i = 0; i < M_CLASS_COUNT; i++) printf("%s\\n", m_class_names[i]);
            return 0;
        }
        """.write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = [
            "cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", dir + "/names", dir + "/main.c", dir + "/m.c",
        ]
        try cc.run()
        cc.waitUntilExit()
        XCTAssertEqual(cc.terminationStatus, 0, "cc failed on the generated files")
        let run = Process()
        run.executableURL = URL(fileURLWithPath: dir + "/names")
        let pipe = Pipe()
        run.standardOutput = pipe
        try run.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        run.waitUntilExit()
        XCTAssertEqual(String(decoding: out, as: UTF8.self), names.joined(separator: "\n") + "\n")
    }
}
