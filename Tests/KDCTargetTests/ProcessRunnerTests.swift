import Foundation
import XCTest

@testable import KDCTarget

final class ProcessRunnerTests: XCTestCase {
    func testExitStatusOutputEnvironmentAndDirectory() throws {
        let r = try ProcessRunner.run(
            Command(
                "sh", ["-c", "echo out; echo err >&2; echo \"$KDC_X\"; pwd; exit 3"], environment: ["KDC_X": "x1"],
                workingDirectory: "/"))
        XCTAssertEqual(r.termination, .exited(3))
        XCTAssertFalse(r.succeeded)
        XCTAssertEqual(r.stdout, "out\nx1\n/\n")
        XCTAssertEqual(r.stderr, "err\n")
    }

    /// Far more output than a pipe holds (64 KB) does not block the child.
    func testLargeOutputDoesNotBlock() throws {
        let r = try ProcessRunner.run(Command("sh", ["-c", "head -c 3000000 /dev/zero | tr '\\0' x"], timeout: 60))
        XCTAssertEqual(r.termination, .exited(0))
        XCTAssertEqual(r.stdout.utf8.count, 3_000_000)
    }

    func testSignalAndTimeout() throws {
        XCTAssertEqual(try ProcessRunner.run(Command("sh", ["-c", "kill -9 $$"])).termination, .signaled(9))
        let t0 = Date()
        let r = try ProcessRunner.run(Command("sleep", ["30"], timeout: 0.5))
        XCTAssertEqual(r.termination, .timedOut(0.5))
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
        XCTAssertThrowsError(try ProcessRunner.check(Command("sleep", ["30"], timeout: 0.3), action: "sleeping")) { e in
            XCTAssertEqual("\(e)", "sleep: sleeping failed (timed out after 0.3 s)")
        }
    }

    func testMissingToolNamesThePackages() {
        XCTAssertThrowsError(try ProcessRunner.run(Command("kdc-no-such-tool", []))) { e in
            XCTAssertEqual("\(e)", "kdc-no-such-tool: kdc-no-such-tool not found on PATH; hint: apt-get install kdc-no-such-tool")
        }
        XCTAssertThrowsError(try Tools.require(["sh", "valgrind"], path: "/nonexistent")) { e in
            XCTAssertEqual(e as? TargetError, .toolNotFound(tool: "sh", packages: ["sh"]))
        }
        let board = QEMUTarget(board: .cortexM4, firmwareDirectory: "/nonexistent", scratch: "/tmp")
        XCTAssertThrowsError(try board.requireTools(countingInstructions: false, path: "/nonexistent")) { e in
            XCTAssertEqual(
                "\(e)",
                "arm-none-eabi-gcc: arm-none-eabi-gcc not found on PATH; hint: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
            )
        }
        XCTAssertThrowsError(
            try HostTarget(scratch: "/tmp", compiler: "cc").requireTools(countingInstructions: true, path: "/nonexistent")
        ) {
            e in
            XCTAssertEqual(e as? TargetError, .toolNotFound(tool: "cc", packages: ["gcc"]))
        }
    }

    /// `stream` hands over the output as it comes, in chunks, and the scanner finds every value
    /// whatever the chunk boundaries.
    func testStreamAndScanAcrossChunks() throws {
        var total = 0
        var scanner = HexAfterKeyScanner(key: "R13=")
        let r = try ProcessRunner.stream(
            Command("awk", ["BEGIN { for (i = 0; i < 20000; i++) printf \"R12=00000000 R13=2000%04x R14=1\\n\", 40000 - i }"])
        ) { chunk in
            total += chunk.count
            scanner.scan(chunk)
        }
        XCTAssertEqual(r.termination, .exited(0))
        XCTAssertEqual(total, 20000 * 32)
        XCTAssertEqual(scanner.lowest, 0x2000_0000 + UInt64(40000 - 19999))

        // Every split of a short stream gives the same minimum.
        let text = Array("xx R13=20004190\nR13=2000418c\nR1=0 R13=20004188 end\n".utf8)
        for cut in 0...text.count {
            var s = HexAfterKeyScanner(key: "R13=")
            s.scan(Data(text[..<cut]))
            s.scan(Data(text[cut...]))
            XCTAssertEqual(s.lowest, 0x2000_4188, "cut at \(cut)")
        }
    }

    func testCallgrindTotals() throws {
        XCTAssertEqual(
            try HostTarget.callgrindTotal("events: Ir\nsummary: 120\nfn=x\n1 5\ntotals: 123456\n", file: "cg"), 123_456)
        XCTAssertThrowsError(try HostTarget.callgrindTotal("events: Ir Dr\ntotals: 1 2\n", file: "cg.out")) { e in
            XCTAssertTrue("\(e)".hasPrefix("cg.out: expected 'totals: N'"), "\(e)")
        }
        XCTAssertThrowsError(try HostTarget.callgrindTotal("events: Ir\n", file: "cg.out")) { e in
            XCTAssertTrue("\(e)".contains("no 'totals:' or 'summary:' line"), "\(e)")
        }
    }
}
