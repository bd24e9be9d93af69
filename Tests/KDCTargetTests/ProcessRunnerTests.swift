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
    }

    /// `stream` hands over the output as it comes, in chunks.
    func testStreamReadsEverything() throws {
        var total = 0
        let r = try ProcessRunner.stream(
            Command("awk", ["BEGIN { for (i = 0; i < 20000; i++) printf \"R12=00000000 R13=2000%04x R14=1\\n\", 40000 - i }"])
        ) { total += $0.count }
        XCTAssertEqual(r.termination, .exited(0))
        XCTAssertEqual(total, 20000 * 32)
    }
}
