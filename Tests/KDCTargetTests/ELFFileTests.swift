import Foundation
import XCTest

@testable import KDCTarget

/// The ELF reader on real files built here (host ELF64, Arm ELF32), cross-checked against
/// binutils' `size` and `nm`, and on malformed files. Needs `cc` and `gcc-arm-none-eabi`: without
/// them these tests fail with the install hint.
final class ELFFileTests: XCTestCase {
    static let source = """
        static char big[100];
        int table[5] = {1, 2, 3, 4, 5};
        const char msg[] = "hello";
        int touch(int i) { big[i] = 1; return table[i] + msg[i] + big[99 - i]; }
        int main(void) { return touch(0) - 1 - 'h'; }

        """

    var dir = ""

    override func setUpWithError() throws {
        dir = try SourceTree.scratchDirectory("elf-test")
        try SourceTree.write(Data(Self.source.utf8), to: dir + "/t.c")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func tool(_ t: String, _ args: [String]) throws -> String {
        try ProcessRunner.check(Command(t, args, workingDirectory: dir), action: "\(t) \(args.joined(separator: " "))").stdout
    }

    /// Sections as `size -A` lists them, `size`'s Berkeley totals, and `nm -S`'s sized symbols
    /// all equal the reader's.
    func crossCheck(_ path: String, binutils prefix: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let elf = try ELFFile(path: path)
        var listed = 0
        for row in try tool(prefix + "size", ["-A", path]).split(separator: "\n") {
            let p = row.split(separator: " ", omittingEmptySubsequences: true)
            guard p.count == 3, p[0].hasPrefix("."), let size = UInt64(p[1]) else { continue }
            XCTAssertEqual(elf.section(String(p[0]))?.size, size, "\(path) \(p[0])", file: file, line: line)
            listed += 1
        }
        XCTAssertGreaterThan(listed, 3, file: file, line: line)
        let berkeley = try tool(prefix + "size", [path]).split(separator: "\n")[1].split(separator: "\t").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        XCTAssertEqual(
            elf.berkeleySizes, ELFFile.BerkeleySizes(text: Int(berkeley[0])!, data: Int(berkeley[1])!, bss: Int(berkeley[2])!),
            path, file: file, line: line)
        var sized = 0
        for row in try tool(prefix + "nm", ["-S", path]).split(separator: "\n") {
            let p = row.split(separator: " ")
            guard p.count == 4, let value = UInt64(p[0], radix: 16), let size = UInt64(p[1], radix: 16) else { continue }
            // Arm: nm shows Thumb functions without the Thumb bit (bit 0 of st_value).
            let s = elf.symbols.last { $0.name == p[3] && ($0.value == value || $0.value == value | 1) }
            XCTAssertEqual(s?.size, size, "\(path) \(p[3])", file: file, line: line)
            sized += 1
        }
        XCTAssertGreaterThanOrEqual(sized, 3, file: file, line: line)
    }

    func testHostELF64ObjectAndExecutable() throws {
        _ = try tool("cc", ["-O1", "-c", "t.c", "-o", "t.o"])
        _ = try tool("cc", ["t.o", "-o", "t"])
        for path in [dir + "/t.o", dir + "/t"] {
            let elf = try ELFFile(path: path)
            XCTAssertTrue(elf.is64)
            XCTAssertEqual(elf.symbol("big")?.size, 100)
            XCTAssertEqual(elf.symbol("big")?.type, 1)
            XCTAssertEqual(elf.symbol("big")?.binding, 0)
            XCTAssertEqual(elf.symbol("table")?.size, 20)
            XCTAssertEqual(elf.symbol("table")?.binding, 1)
            XCTAssertEqual(elf.symbol("msg")?.size, 6)
            XCTAssertTrue(elf.functionNames.isSuperset(of: ["touch", "main"]))
            XCTAssertEqual(elf.section(".data")?.isWritable, true)
            XCTAssertEqual(elf.section(".text")?.isExecutable, true)
            XCTAssertEqual(elf.section(".bss")?.hasContents, false)
            try crossCheck(path, binutils: "")
        }
    }

    func testArmELF32Object() throws {
        _ = try tool("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-Os", "-c", "t.c", "-o", "arm.o"])
        let elf = try ELFFile(path: dir + "/arm.o")
        XCTAssertFalse(elf.is64)
        XCTAssertEqual(elf.machine, 40)
        XCTAssertEqual(elf.symbol("big")?.size, 100)
        XCTAssertEqual(elf.symbol("table")?.size, 20)
        try crossCheck(dir + "/arm.o", binutils: "arm-none-eabi-")
    }

    func testMalformedFilesAreErrorsNamingTheFile() throws {
        _ = try tool("cc", ["-c", "t.c", "-o", "t.o"])
        let good = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: dir + "/t.o")))
        func le(_ b: [UInt8], _ o: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) } }
        let shoff = le(good, 40, 8)
        func patched(_ offset: Int, _ bytes: [UInt8]) -> [UInt8] {
            var b = good
            b.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            return b
        }
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "no ELF magic"),
            ("not ELF", Array("#!/bin/sh\necho hello world\n".utf8), "no ELF magic"),
            ("class 3", patched(4, [3]), "EI_CLASS is 3, expected 1 (ELF32) or 2 (ELF64)"),
            ("big-endian", patched(5, [2]), "EI_DATA is 2, expected 1 (little-endian)"),
            ("short header", Array(good.prefix(40)), "the file header needs 64 bytes, the file has 40"),
            ("truncated", Array(good.prefix(shoff + 100)), "runs past the end of the file"),
            ("section headers past the end", patched(40, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), "runs past the end of the file"),
            ("e_shentsize", patched(58, [10, 0]), "e_shentsize is 10, expected at least 64"),
            ("e_shstrndx", patched(62, [0xfe, 0xff]), "e_shstrndx 65534 is not a section"),
            ("section name", patched(shoff + 64, [0, 0, 0, 0xff]), "the name of section 1 is at index 4278190080"),
        ]
        for (name, bytes, want) in cases {
            XCTAssertThrowsError(try ELFFile(bytes: bytes, path: "bad.elf"), name) { e in
                XCTAssertTrue("\(e)".hasPrefix("bad.elf: not a valid ELF file: "), "\(name): \(e)")
                XCTAssertTrue("\(e)".contains(want), "\(name): \(e) lacks '\(want)'")
            }
        }
        XCTAssertThrowsError(try ELFFile(path: dir + "/missing.elf")) { e in
            XCTAssertEqual("\(e)", "\(dir)/missing.elf: cannot read the ELF file")
        }
    }
}
