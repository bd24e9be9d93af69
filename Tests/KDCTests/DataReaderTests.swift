import Foundation
import XCTest
@testable import KDC

/// A fresh temporary folder per test.
func makeTempDir() throws -> String {
    let dir = NSTemporaryDirectory() + "kdc-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@discardableResult
func writeBytes(_ dir: String, _ name: String, _ bytes: [UInt8]) throws -> String {
    let path = dir + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

/// An IDX file of uint8 data with `dims`.
func idxBytes(_ dims: [Int], _ payload: [UInt8]) -> [UInt8] {
    [0, 0, 8, UInt8(dims.count)] + dims.flatMap(be32) + payload
}

/// An NPY 1.0 file with a hand-written header.
func npyBytes(descr: String, fortran: Bool = false, shape: String, payload: [UInt8]) -> [UInt8] {
    var h = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    h += String(repeating: " ", count: (64 - (10 + h.utf8.count + 1) % 64) % 64) + "\n"
    return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)] + Array(h.utf8)
        + payload
}

/// The repository root (this file is Tests/KDCTests/DataReaderTests.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .path

/// Asserts `body` throws `KDCError.data` naming `file` with a message containing every one of `fragments`.
func assertDataError(_ file: String, _ fragments: [String], _ label: String, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("\(label): expected an error", line: line)
    } catch let KDCError.data(f, message) {
        XCTAssertEqual(f, file, "\(label): wrong file in error '\(message)'", line: line)
        for frag in fragments {
            XCTAssertTrue(message.contains(frag), "\(label): '\(message)' lacks '\(frag)'", line: line)
        }
    } catch {
        XCTFail("\(label): unexpected error \(error)", line: line)
    }
}

final class DataReaderTests: XCTestCase {
    func testIDXBadInputs() throws {
        let dir = try makeTempDir()
        let good = idxBytes([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])
        let gz = gzipBytes(good)
        // (name, bytes or nil for a missing file, expected message fragments)
        let cases: [(String, [UInt8]?, [String])] = [
            ("missing.idx", nil, ["not found"]),
            ("empty.idx", [], ["empty"]),
            ("short.idx", [0, 0, 8], ["truncated IDX header"]),
            ("short-dims.idx", [0, 0, 8, 3, 0, 0, 0, 2], ["truncated IDX header", "3 dimensions"]),
            ("magic.idx", [0x50, 0x4B, 3, 4] + be32(1), ["not an IDX file"]),
            ("type.idx", [0, 0, 0x0D, 1] + be32(1) + [0, 0, 0, 0], ["unsupported IDX element type 0x0d"]),
            ("dims0.idx", [0, 0, 8, 0], ["0 dimensions"]),
            ("payload-short.idx", idxBytes([2, 2, 2], [0, 1, 2, 3, 4, 5, 6]), ["need 8 data bytes", "holds 7", "truncated"]),
            ("payload-long.idx", idxBytes([2, 2, 2], [UInt8](repeating: 1, count: 9)), ["need 8 data bytes", "holds 9"]),
            ("cut.idx.gz", Array(gz[0..<(gz.count / 2)]), ["truncated gzip"]),
            ("garbage.idx.gz", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF], ["gzip"]),
        ]
        for (name, bytes, fragments) in cases {
            let path = dir + "/" + name
            if let bytes { try writeBytes(dir, name, bytes) }
            assertDataError(path, fragments, name) { _ = try readIDX(path) }
        }
    }

    func testIDXImageAndLabelMismatches() throws {
        let dir = try makeTempDir()
        let images = try writeBytes(dir, "img.idx", idxBytes([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]))
        let labels3 = try writeBytes(dir, "lab3.idx", idxBytes([3], [0, 1, 2]))
        let labelsBig = try writeBytes(dir, "labbig.idx", idxBytes([2], [0, 12]))
        let labels2d = try writeBytes(dir, "lab2d.idx", idxBytes([2, 1], [0, 1]))
        assertDataError(labels3, ["3 labels but 2 images"], "count") {
            _ = try readIDXDataset(images: images, labels: labels3, classes: 10)
        }
        assertDataError(labelsBig, ["label 12 at index 1", "0..<10"], "range") {
            _ = try readIDXDataset(images: images, labels: labelsBig, classes: 10)
        }
        assertDataError(labels2d, ["expected [N]"], "dims") {
            _ = try readIDXDataset(images: images, labels: labels2d, classes: 10)
        }
        assertDataError(images, ["data.shape is [3]"], "shape") {
            _ = try readIDXDataset(images: images, labels: nil, classes: 10, sampleShape: [3])
        }
    }

    func testIDXRoundTripRawAndGzip() throws {
        let dir = try makeTempDir()
        let pixels: [UInt8] = (0..<18).map { UInt8($0 * 14) }
        let img = idxBytes([2, 3, 3], pixels), lab = idxBytes([2], [7, 3])
        for gz in [false, true] {
            let i = try writeBytes(dir, "i\(gz)", gz ? gzipBytes(img) : img)
            let l = try writeBytes(dir, "l\(gz)", gz ? gzipBytes(lab) : lab)
            let d = try readIDXDataset(images: i, labels: l, classes: 10)
            XCTAssertEqual(d.sampleShape, [3, 3, 1])
            XCTAssertEqual(d.labels, [7, 3])
            XCTAssertEqual(d.x, pixels.map(Float.init))
            XCTAssertEqual(try readIDX(i).dims, [2, 3, 3])
        }
        // Two concatenated gzip members inflate to their concatenation.
        let p = try writeBytes(dir, "two.gz", gzipBytes(Array(img[0..<10])) + gzipBytes(Array(img[10...])))
        XCTAssertEqual(try readIDX(p).bytes, pixels)
    }

    func testCSVBadInputs() throws {
        let dir = try makeTempDir()
        let cases: [(String, String, [String])] = [
            ("ragged", "1,2,3\n4,5\n", ["line 2", "ragged row", "2 columns", "3"]),
            ("nonnumeric", "1,2,3\n4,x5,1\n", ["line 2, column 2", "'x5' is not a number"]),
            ("nan", "1,2,3\nnan,5,1\n", ["line 2, column 1", "NaN"]),
            ("inf", "1,2,3\n4,inf,1\n", ["line 2, column 2", "NaN and infinity"]),
            ("label-range", "1,2,3\n4,5,10\n", ["line 2, column 3", "label 10 is out of range 0..<10"]),
            ("label-negative", "1,2,-1\n", ["line 1, column 3", "out of range"]),
            ("label-fraction", "1,2,0.5\n", ["line 1, column 3", "not an integer"]),
            ("empty-field", "1,,3\n", ["line 1, column 2", "not a number"]),
            ("only-blank", "\n\n", ["no data rows"]),
            ("features", "1,2,3,4\n", ["3 features per row", "data.shape [2]"]),
        ]
        for (name, text, fragments) in cases {
            let path = try writeBytes(dir, name + ".csv", Array(text.utf8))
            assertDataError(path, fragments, name) { _ = try readCSVDataset(path, classes: 10, sampleShape: [2]) }
        }
        let gzPath = try writeBytes(dir, "bad.csv.gz", gzipBytes(Array("1,2,3\n4,5\n".utf8)))
        assertDataError(gzPath, ["line 2", "ragged"], "gzip") { _ = try readCSVDataset(gzPath, classes: 10) }
    }

    func testCSVOptions() throws {
        let dir = try makeTempDir()
        let path = try writeBytes(dir, "h.csv", Array("label,a,b\r\n3,1.5,2\r\n\r\n1,-4,0.25\r\n".utf8))
        let d = try readCSVDataset(path, labelColumn: 0, header: true, classes: 4)
        XCTAssertEqual(d.labels, [3, 1])
        XCTAssertEqual(d.x, [1.5, 2, -4, 0.25])
        XCTAssertEqual(d.sampleShape, [2])
        let u = try readCSVDataset(path, labelColumn: nil, header: true, classes: 4)
        XCTAssertEqual(u.labels, [-1, -1])
        XCTAssertEqual(u.sampleShape, [3])
    }

    func testNPYBadInputs() throws {
        let dir = try makeTempDir()
        let f4 = [UInt8](repeating: 0, count: 24)
        let cases: [(String, [UInt8], [String])] = [
            ("magic", [0x93] + Array("NUMPZ".utf8) + [1, 0, 0, 0], ["bad magic"]),
            ("version", [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], ["unsupported NPY format version 9.0"]),
            ("dtype", npyBytes(descr: "<f8", shape: "(3,)", payload: f4), ["unsupported NPY dtype '<f8'"]),
            ("bigendian", npyBytes(descr: ">f4", shape: "(6,)", payload: f4), ["unsupported NPY dtype '>f4'"]),
            ("fortran", npyBytes(descr: "<f4", fortran: true, shape: "(2, 3)", payload: f4), ["Fortran-order"]),
            (
                "truncated", npyBytes(descr: "<f4", shape: "(2, 4)", payload: f4),
                ["needs 32 data bytes", "holds 24", "truncated"]
            ),
            ("header-cut", Array(npyBytes(descr: "<f4", shape: "(6,)", payload: f4)[0..<30]), ["truncated NPY header"]),
            ("shape", npyBytes(descr: "<f4", shape: "(2, x)", payload: f4), ["malformed shape"]),
        ]
        for (name, bytes, fragments) in cases {
            let path = try writeBytes(dir, name + ".npy", bytes)
            assertDataError(path, fragments, name) { _ = try readNPY(path) }
        }
    }

    func testNPYRoundTripAndDtypes() throws {
        let dir = try makeTempDir()
        let values: [Float] = [0, -1.5, 3.25, .greatestFiniteMagnitude, 1e-30, 42]
        for shape in [[6], [2, 3], [1, 2, 3]] {
            let p = dir + "/w\(shape.count).npy"
            try writeNPY(p, shape: shape, values: values)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: p))
            XCTAssertEqual((bytes.count - 6 * 4) % 64, 0, "data starts on a 64-byte boundary")
            let a = try readNPY(p)
            XCTAssertEqual(a.shape, shape)
            XCTAssertEqual(a.type, .float32)
            XCTAssertEqual(a.values, values)
        }
        let i8: [Int64] = [-3, 5_000_000_000, 7]
        let p8 = try writeBytes(
            dir, "i8.npy",
            npyBytes(descr: "<i8", shape: "(3,)", payload: i8.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }))
        XCTAssertEqual(try readNPY(p8).integers, i8)
        let pu = try writeBytes(dir, "u1.npy", npyBytes(descr: "|u1", shape: "(2, 2)", payload: [0, 9, 255, 1]))
        XCTAssertEqual(try readNPY(pu).values, [0, 9, 255, 1])
        let pi = try writeBytes(
            dir, "i4.npy", gzipBytes(npyBytes(descr: "<i4", shape: "(2,)", payload: [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])))
        XCTAssertEqual(try readNPY(pi).integers, [1, -1])
        // Logits: shape must be [N, K].
        let lp = dir + "/logits.npy"
        try writeNPY(lp, shape: [3, 2], values: values)
        XCTAssertEqual(try readLogits(lp, count: 3, classes: 2), values)
        assertDataError(lp, ["expected [3, 10]"], "logits") { _ = try readLogits(lp, count: 3, classes: 10) }
    }

    func testNPYLoaderLabelsAndTransfer() throws {
        let dir = try makeTempDir()
        try writeNPY(dir + "/x.npy", shape: [4, 2], values: [0, 1, 2, 3, 4, 5, 6, 7])
        try writeBytes(dir, "y.npy", npyBytes(descr: "|u1", shape: "(4,)", payload: [0, 1, 0, 1]))
        try writeBytes(dir, "ybad.npy", npyBytes(descr: "|u1", shape: "(4,)", payload: [0, 1, 5, 1]))
        try writeNPY(dir + "/t.npy", shape: [3, 2], values: [1, 1, 2, 2, 3, 3])
        try writeNPY(dir + "/t3.npy", shape: [3, 3], values: [Float](repeating: 1, count: 9))
        var cfg = DataConfig(
            format: .npy, dir: dir, train: .npy(x: "x.npy", y: "y.npy"), test: .npy(x: "x.npy", y: "y.npy"),
            shape: [2], classes: 2, normalize: .explicit(Normalization(mean: [1], std: [2])))
        cfg.split.validation = 0
        let s = try loadData(cfg, baseDirectory: "/")
        XCTAssertEqual(s.train.labels, [0, 1, 0, 1])
        XCTAssertEqual(s.train.x, [-0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3])
        XCTAssertEqual(s.validation.count, 0)
        let t = try loadTransfer(.npy(x: "t.npy", y: nil), like: cfg, normalization: s.normalization, baseDirectory: "/")
        XCTAssertEqual(t.labels, [-1, -1, -1])
        XCTAssertEqual(t.x, [0, 0, 0.5, 0.5, 1, 1])
        assertDataError(dir + "/t3.npy", ["[3] but data.shape is [2]"], "transfer shape") {
            _ = try loadTransfer(.npy(x: "t3.npy", y: nil), like: cfg, normalization: s.normalization, baseDirectory: "/")
        }
        cfg.train = .npy(x: "x.npy", y: "ybad.npy")
        assertDataError(dir + "/ybad.npy", ["label 5 at index 2"], "npy labels") { _ = try loadData(cfg, baseDirectory: "/") }
    }

    func digitsConfig() -> DataConfig {
        DataConfig(
            format: .csv, dir: repoRoot + "/samples/digits", train: .csv(file: "digits.csv.gz", labelColumn: -1, header: false),
            test: nil, shape: [8, 8, 1], classes: 10, normalize: .scale)
    }

    func testDigitsSampleLoads() throws {
        let raw = try readCSVDataset(repoRoot + "/samples/digits/digits.csv.gz", classes: 10, sampleShape: [8, 8, 1])
        XCTAssertEqual(raw.count, 1797)
        XCTAssertEqual(raw.sampleSize, 64)
        XCTAssertEqual(Array(raw.labels.prefix(10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(raw.x.max(), 16)
        var hist = [Int](repeating: 0, count: 10)
        for y in raw.labels { hist[Int(y)] += 1 }
        XCTAssertEqual(hist, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])

        let a = try loadData(digitsConfig(), baseDirectory: "/")
        XCTAssertEqual(a.train.count + a.validation.count + a.test.count, 1797)
        XCTAssertEqual(a.test.count, 359, "the sum over classes of round(0.2 · class count)")
        XCTAssertEqual(a.validation.count, 145, "the sum over classes of round(0.1 · class count in train)")
        XCTAssertEqual(a.normalization, Normalization(mean: [0], std: [16]))
        XCTAssertLessThanOrEqual(a.train.x.max()!, 1)
        // Stratified: every class appears in the test split in proportion.
        for c in 0..<10 { XCTAssertGreaterThanOrEqual(a.test.labels.filter { $0 == c }.count, 34) }
        let b = try loadData(digitsConfig(), baseDirectory: "/")
        XCTAssertEqual(a.train.labels, b.train.labels)
        XCTAssertEqual(a.test.x, b.test.x)
        XCTAssertEqual(a.validation.x, b.validation.x)
        var other = digitsConfig()
        other.split.seed = 1
        XCTAssertNotEqual(try loadData(other, baseDirectory: "/").test.x, a.test.x)
    }

    func testStandardNormalizationUsesTrainOnly() throws {
        var cfg = digitsConfig()
        cfg.normalize = .standard
        cfg.shape = [64]
        let s = try loadData(cfg, baseDirectory: "/")
        XCTAssertEqual(s.normalization.mean.count, 64)
        // Per feature, the training split has mean ≈ 0 and std ≈ 1 (or stays 0 for constant pixels).
        for f in [10, 20, 36] {
            let col = stride(from: f, to: s.train.x.count, by: 64).map { Double(s.train.x[$0]) }
            let mean = col.reduce(0, +) / Double(col.count)
            let sd = (col.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(col.count)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 1e-4)
            XCTAssertEqual(sd, 1, accuracy: 1e-3)
        }
        XCTAssertEqual(s.normalization.std[0], 1, "pixel 0 is always blank: std stays 1")
    }

    func testMNISTLabelsIfPresent() throws {
        let path = "/work/shared/data/mnist/t10k-labels-idx1-ubyte.gz"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("MNIST test labels not found at \(path)") }
        let a = try readIDX(path)
        XCTAssertEqual(a.dims, [10000])
        XCTAssertEqual(Array(a.bytes.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        let img = try readIDX("/work/shared/data/mnist/t10k-images-idx3-ubyte.gz")
        XCTAssertEqual(img.dims, [10000, 28, 28])
    }
}
