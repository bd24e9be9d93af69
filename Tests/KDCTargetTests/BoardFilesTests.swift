import Foundation
import XCTest

@testable import KDCTarget

/// The boards' data is the one source of their flags: the files `samples/firmware/Makefile` reads
/// are generated from it and must stay equal. To regenerate them after changing a board:
/// `KDC_UPDATE_BOARD_FILES=1 swift test --filter BoardFilesTests`.
final class BoardFilesTests: XCTestCase {
    static let firmware = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/firmware").path

    func testCommittedBoardFilesAreGenerated() throws {
        let update = ProcessInfo.processInfo.environment["KDC_UPDATE_BOARD_FILES"] == "1"
        for b in Board.all {
            let dir = Self.firmware + "/boards/" + b.name
            for (file, text) in [("board.mk", b.makeFragment()), ("memory.ld", b.memoryScript())] {
                let path = dir + "/" + file
                if update {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    try SourceTree.write(Data(text.utf8), to: path)
                }
                let committed = try XCTUnwrap(
                    FileManager.default.contents(atPath: path),
                    "\(path) is missing; run KDC_UPDATE_BOARD_FILES=1 swift test --filter BoardFilesTests")
                XCTAssertEqual(
                    String(decoding: committed, as: UTF8.self), text,
                    "\(path) differs from Board.\(b.name); run KDC_UPDATE_BOARD_FILES=1 swift test --filter BoardFilesTests")
            }
        }
        let dirs = try FileManager.default.contentsOfDirectory(atPath: Self.firmware + "/boards").sorted()
        XCTAssertEqual(dirs, Board.all.map(\.name).sorted(), "a board folder without a Board value (or the reverse)")
    }

    func testCortexM4() throws {
        let b = try Board.named("cortex-m4")
        XCTAssertEqual(b.description, "cortex-m4 (qemu mps2-an386)")
        XCTAssertEqual(b.toolchain.cc, "arm-none-eabi-gcc")
        XCTAssertTrue(b.compileFlags.starts(with: ["-mcpu=cortex-m4", "-mthumb", "-Os"]))
        XCTAssertTrue(b.compileFlags.contains("-fcallgraph-info=su"))
        XCTAssertTrue(b.memoryScript().contains("FLASH (rx)   : ORIGIN = 0x00000000, LENGTH = 4M"), b.memoryScript())
        XCTAssertTrue(b.memoryScript().contains("RAM   (rwx)  : ORIGIN = 0x20000000, LENGTH = 4M"), b.memoryScript())
        XCTAssertThrowsError(try Board.named("cortex-m9")) { e in
            let names = Board.all.map(\.name).joined(separator: ", ")
            XCTAssertEqual("\(e)", "firmware target: no board 'cortex-m9'; expected one of \(names)")
        }
    }

    /// A model that does not fit a board's memory is an error naming the board and the bytes.
    func testModelTooBigForTheBoardIsAClearError() throws {
        let m0 = try Board.named("cortex-m0")
        XCTAssertEqual(m0.regionBytes("RAM"), 16 << 10)
        XCTAssertEqual(m0.regionBytes("FLASH"), 256 << 10)
        XCTAssertNoThrow(try m0.checkFits(model: "ok", arenaBytes: 8000, unpackBytes: 0, artifactBytes: 100_000, inputBytes: 64))
        XCTAssertThrowsError(
            try m0.checkFits(model: "big", arenaBytes: 12000, unpackBytes: 2000, artifactBytes: 300_000, inputBytes: 64)
        ) { e in
            XCTAssertEqual(
                "\(e)",
                "firmware target cortex-m0: model 'big' does not fit cortex-m0 (qemu microbit): RAM: it needs at least 18096 bytes (arena 12000 + unpack buffer 2000 + stack region 4096), the board has 16384; flash: it needs at least 300064 bytes (artifact 300000 + inputs 64), the board has 262144"
            )
        }
        XCTAssertNoThrow(
            try Board.named("cortex-m4").checkFits(
                model: "big", arenaBytes: 12000, unpackBytes: 2000, artifactBytes: 300_000, inputBytes: 64))
    }
}
