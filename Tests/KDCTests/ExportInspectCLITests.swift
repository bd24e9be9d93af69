import Foundation
import KDCTarget
import XCTest
@testable import KDC

/// `kdc inspect`, run as the real binary (built next to the test bundle by `swift build --build-tests`).
final class ExportInspectCLITests: XCTestCase {
    func kdcBinary() throws -> String {
        // Linux: the bundle URL is the build folder; macOS: the .xctest bundle inside it.
        let url = Bundle(for: Self.self).bundleURL
        let exe =
            [url, url.deletingLastPathComponent()].map { $0.path + "/kdc" }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? url.path + "/kdc"
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw KDCError.io(path: exe, message: "kdc binary not built; hint: run swift build --build-tests")
        }
        return exe
    }

    func testInspectValidAndCorruptArtifacts() throws {
        let (g, _) = try ExportFixtures.cnn()
        let dir = try ExportFixtures.tempDir("inspect")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "cnn", compress: true)
        let exe = try kdcBinary()
        let ok = try ProcessRunner.run(Command(exe, ["inspect", r.artifactPath]))
        XCTAssertEqual(ok.termination, .exited(0), ok.stderr)
        for needle in [
            "zlib-compressed", "arena           \(r.arenaBytes) bytes", "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "RESHAPE",
            "GLOBAL_AVERAGE_POOL", "1x8x8x2", "ops (\(g.nodes.count)):", "tensors (\(g.tensors.count)):",
        ] {
            XCTAssertTrue(ok.stdout.contains(needle), "missing '\(needle)' in:\n\(ok.stdout)")
        }
        var bytes = [UInt8](FileManager.default.contents(atPath: r.storedArtifactPath!)!)
        bytes[100] ^= 1
        try writeFileAtomically(Data(bytes), to: dir + "/bad.kdc")
        let bad = try ProcessRunner.run(Command(exe, ["inspect", dir + "/bad.kdc"]))
        XCTAssertEqual(bad.termination, .exited(1))
        XCTAssertTrue(bad.stderr.contains("header.body_crc32"), bad.stderr)
        let missing = try ProcessRunner.run(Command(exe, ["inspect", dir + "/nope.kdc"]))
        XCTAssertEqual(missing.termination, .exited(1))
        XCTAssertTrue(missing.stderr.contains("nope.kdc"), missing.stderr)
    }
}
