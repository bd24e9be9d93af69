import Foundation
import XCTest
@testable import KDC

final class CheckpointTests: XCTestCase {
    func testRoundTripIsExactAndDeterministic() throws {
        let spec = GraphSpec.sequential(inputShape: [5], [.dense(units: 7), .relu, .dense(units: 3)])
        let model = try Model(spec: spec, seed: 3)
        let norm = Normalization(mean: [0.5], std: [2])
        let bytes = try Checkpoint.encode(model, normalization: norm)
        XCTAssertEqual(bytes, try Checkpoint.encode(model, normalization: norm), "same model, same bytes")
        let (back, n2) = try Checkpoint.decode(bytes, file: "mem")
        XCTAssertEqual(n2, norm)
        XCTAssertEqual(back.spec, spec)
        for (a, b) in zip(model.parameters, back.parameters) { XCTAssertEqual(a.value, b.value, a.name) }
        // The header is plain safetensors: length, JSON with dtype/shape/offsets.
        let n = Int(bytes[0]) | Int(bytes[1]) << 8
        let json = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
        let w = json["dense0.weight"] as! [String: Any]
        XCTAssertEqual(w["dtype"] as? String, "F32")
        XCTAssertEqual(w["shape"] as? [Int], [5, 7])
    }

    func testCorruptCheckpointsGiveMessages() throws {
        let spec = GraphSpec.sequential(inputShape: [2], [.dense(units: 2)])
        let good = try Checkpoint.encode(try Model(spec: spec, seed: 1), normalization: .identity)
        let cases: [(String, Data)] = [
            ("too short", Data([1, 2, 3])),
            ("runs past", Data([0xff, 0xff, 0, 0, 0, 0, 0, 0]) + Data(count: 16)),
            ("not a JSON", Data([4, 0, 0, 0, 0, 0, 0, 0]) + Data("abcd".utf8)),
            ("outside the file", good.prefix(good.count - 4)),
        ]
        for (needle, data) in cases {
            XCTAssertThrowsError(try Checkpoint.decode(data, file: "x.safetensors")) { e in
                XCTAssertTrue("\(e)".contains(needle) && "\(e)".contains("x.safetensors"), "\(needle): \(e)")
            }
        }
    }

    func testAtomicWriteKeepsOldFileWhenFolderIsAFile() throws {
        let dir = NSTemporaryDirectory() + "kdc-ckpt-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a.bin"
        try writeFileAtomically(Data([1, 2, 3]), to: path)
        try writeFileAtomically(Data([4, 5]), to: path)
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data([4, 5]))
        XCTAssertThrowsError(try writeFileAtomically(Data([9]), to: path + "/inside")) { e in
            XCTAssertTrue("\(e)".contains("is not a folder"), "\(e)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["a.bin"], "no temporary left behind")
    }
}
