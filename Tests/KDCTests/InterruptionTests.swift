import Crypto
import Foundation
import XCTest
@testable import KDC

/// `kdc build` is all-or-nothing: interrupted anywhere (Ctrl-C to the process group, SIGTERM,
/// SIGKILL) the output folder holds the previous complete set or the new complete set, never a
/// mix, and no stray files; a failed check leaves the previous set and puts the failing one in
/// `OUT/failed/`. Runs the real binary on the bundled digits data with tiny models.
final class InterruptionTests: XCTestCase {
    var dir = ""
    var out: String { dir + "/out" }

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "kdc-txn-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func config(firmware: Bool = false) throws -> String {
        try BadInputTests.config(
            dir, data: BadInputTests.digitsData(),
            extra: "export: {name: m, compress: true}\ndistill: {temperature: 4, alpha: 0.1, baseline: false}")
    }

    /// Every visible file of the output folder (the staging folder and failed/ left out) by name.
    func visibleSet() -> [String: Data] {
        var s: [String: Data] = [:]
        for f in (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        where f != OutputTransaction.stagingName && f != OutputTransaction.failedName {
            s[f] = FileManager.default.contents(atPath: out + "/" + f) ?? Data()
        }
        return s
    }

    /// A complete set: exactly the files its report lists, the artifacts as the report describes.
    func assertComplete(_ set: [String: Data], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let data = set["report.json"], let report = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let outputs = report["outputs"] as? [String], let artifact = report["artifact"] as? [String: Any],
            let sha = artifact["sha256"] as? String
        else { return XCTFail("\(what): no readable report.json with outputs and artifact", file: file, line: line) }
        XCTAssertEqual(Set(set.keys), Set(outputs), "\(what): files differ from the report's outputs", file: file, line: line)
        guard let kdc = set["m.kdc"] else { return XCTFail("\(what): no m.kdc", file: file, line: line) }
        XCTAssertEqual(sha256Hex(kdc), sha, "\(what): m.kdc is not the artifact the report describes", file: file, line: line)
        XCTAssertNoThrow(try ArtifactReader.parse([UInt8](kdc)), "\(what)", file: file, line: line)
        XCTAssertNoThrow(try ArtifactReader.parse([UInt8](set["m.stored.kdc"] ?? Data())), "\(what)", file: file, line: line)
        let header = String(decoding: set["m.h"] ?? Data(), as: UTF8.self)
        XCTAssertTrue(
            header.contains("#define M_ARTIFACT_BYTES \(kdc.count)u"), "\(what): m.h is not m.kdc's", file: file, line: line)
    }

    func sha256Hex(_ d: Data) -> String { SHA256.hash(data: d).map { String(format: "%02x", $0) }.joined() }

    /// No staging folder, no temporary files.
    func assertNoStrays(_ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        XCTAssertFalse(all.contains(OutputTransaction.stagingName), "\(what): staging folder left", file: file, line: line)
        XCTAssertTrue(all.allSatisfy { !$0.hasPrefix(".") }, "\(what): hidden files left: \(all)", file: file, line: line)
    }

    /// Starts kdc in its own process group (as a shell does for a foreground job).
    func spawn(_ args: [String], env: [String: String] = [:]) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, dir + "/stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let path = CLITests.binary.path
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        XCTAssertEqual(rc, 0, "posix_spawn failed")
        return pid
    }

    func wait(_ pid: pid_t) -> (exited: Int32?, signal: Int32?) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { return ((status >> 8) & 0xff, nil) }
        return (nil, status & 0x7f)
    }

    func buildArgs(_ cfg: String, seed: Int) -> [String] { ["build", cfg, "--out", out, "--quiet", "--seed", "\(seed)"] }

    /// Signals at many moments of a build, to the whole process group: Ctrl-C and SIGTERM leave the
    /// previous set and nothing else; SIGKILL leaves the previous set and a staging folder that
    /// the next run removes.
    func testInterruptedAtManyMomentsKeepsTheCompleteSet() throws {
        let cfg = try config()
        let first = try CLITests.runKDC(buildArgs(cfg, seed: 0))
        XCTAssertEqual(first.status, 0, first.err)
        let previous = visibleSet()
        assertComplete(previous, "first build")
        // How long a build takes here, to spread the signals over it.
        let t0 = Date()
        let timed = try spawn(buildArgs(cfg, seed: 1))
        XCTAssertEqual(wait(timed).exited, 0)
        let duration = Date().timeIntervalSince(t0)
        var current = visibleSet()
        assertComplete(current, "timed build")
        XCTAssertNotEqual(current["m.kdc"], previous["m.kdc"], "seed 1 should give another artifact")
        var interrupted = 0
        // 13 moments from the first stage to past the end; the signals take turns.
        let fractions = [0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.1]
        for (i, fraction) in fractions.enumerated() {
            for sig in [[SIGINT, SIGKILL, SIGTERM][i % 3]] + (i % 4 == 0 ? [SIGKILL] : []) {
                let before = visibleSet()
                let pid = try spawn(buildArgs(cfg, seed: 10 + i))
                usleep(useconds_t(duration * fraction * 1_000_000))
                kill(-pid, sig)
                let end = wait(pid)
                let what = "signal \(sig) at \(Int(fraction * 100))% of a build"
                let now = visibleSet()
                if end.exited == 0 {
                    assertComplete(now, what + " (finished first)")
                } else {
                    interrupted += 1
                    XCTAssertEqual(now, before, "\(what): the output folder changed")
                }
                if sig == SIGKILL { try OutputTransaction.recover(outDir: out) }
                assertNoStrays(what)
                XCTAssertEqual(visibleSet(), now, "\(what): recovery changed the visible set")
                current = now
            }
        }
        XCTAssertGreaterThan(interrupted, 10, "most signals should land during a build")
        _ = current
    }

    /// Killed between the renames of a commit (the hook `KDC_TEST_FAULT`): the folder is a mix
    /// until the next kdc run finishes the commit from its journal; Ctrl-C there waits for the
    /// commit to finish.
    func testCommitCutShortIsFinishedByTheNextRun() throws {
        let cfg = try config()
        XCTAssertEqual(try CLITests.runKDC(buildArgs(cfg, seed: 0)).status, 0)
        for point in ["commit.file.1", "commit.file.3", "commit.report"] {
            let before = visibleSet()
            let pid = try spawn(buildArgs(cfg, seed: 5), env: ["KDC_TEST_FAULT": "\(point):KILL"])
            XCTAssertEqual(wait(pid).signal, SIGKILL, point)
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: out + "/" + OutputTransaction.stagingName), "\(point): no journal left")
            // The report is the old one until the commit is finished.
            XCTAssertEqual(visibleSet()["report.json"], before["report.json"], point)
            try OutputTransaction.recover(outDir: out)
            assertNoStrays(point)
            assertComplete(visibleSet(), "\(point) after recovery")
            XCTAssertNotEqual(visibleSet()["m.kdc"], before["m.kdc"], "\(point): the new set was not committed")
            XCTAssertEqual(try CLITests.runKDC(buildArgs(cfg, seed: 0)).status, 0)
        }
        for point in ["commit.file.2", "commit.report"] {
            let pid = try spawn(buildArgs(cfg, seed: 6), env: ["KDC_TEST_FAULT": "\(point):INT"])
            XCTAssertEqual(wait(pid).exited, 128 + SIGINT, point)
            assertNoStrays(point)
            assertComplete(visibleSet(), "Ctrl-C during \(point)")
        }
        for stage in ["stage.quantize", "stage.export", "stage.check"] {
            let before = visibleSet()
            let pid = try spawn(buildArgs(cfg, seed: 7), env: ["KDC_TEST_FAULT": "\(stage):INT"])
            XCTAssertEqual(wait(pid).exited, 128 + SIGINT, stage)
            XCTAssertEqual(visibleSet(), before, stage)
            assertNoStrays(stage)
        }
    }

    /// A host check that fails (a runtime whose requantization rounds differently) exits 2,
    /// leaves the previous set, and puts the failing set with its report in OUT/failed/.
    func testFailedCheckKeepsThePreviousSetAndFilesTheFailedOne() throws {
        let cfg = try config()
        XCTAssertEqual(try CLITests.runKDC(buildArgs(cfg, seed: 0)).status, 0)
        let before = visibleSet()
        // A copy of the runtime with one rounding changed.
        let rt = dir + "/runtime"
        try FileManager.default.copyItem(atPath: CLITests.repoRoot + "/runtime", toPath: rt)
        let file = rt + "/src/kdc_kernels_portable.c"
        let kernels = try String(contentsOfFile: file, encoding: .utf8)
        let broken = kernels.replacingOccurrences(of: "v = v < q->lo ? q->lo : v;", with: "v = v + 1 < q->lo ? q->lo : v + 1;")
        XCTAssertNotEqual(broken, kernels, "the kernel line to break was not found")
        try broken.write(toFile: file, atomically: true, encoding: .utf8)
        // The portable kernels (the host would build the avx2 ones on a CPU with AVX2).
        let pid = try spawn(buildArgs(cfg, seed: 8), env: ["KDC_RUNTIME_DIR": rt, "KDC_HOST_KERNELS": "portable"])
        XCTAssertEqual(wait(pid).exited, 2)
        let err = (try? String(contentsOfFile: dir + "/stderr.txt", encoding: .utf8)) ?? ""
        XCTAssertTrue(err.contains("host check failed"), err)
        XCTAssertTrue(err.contains("/failed/report.json"), err)
        XCTAssertEqual(visibleSet(), before)
        assertNoStrays("failed check")
        // The failed set is complete in failed/, its report naming paths there.
        let failedDir = out + "/" + OutputTransaction.failedName
        let report = try XCTUnwrap(
            JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: failedDir + "/report.json")))
                as? [String: Any])
        let listed = try XCTUnwrap(report["outputs"] as? [String])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: failedDir)), Set(listed))
        let path = try XCTUnwrap((report["artifact"] as? [String: Any])?["path"] as? String)
        XCTAssertTrue(path.hasSuffix("/out/failed/m.kdc"), path)
        XCTAssertGreaterThan((report["runtime"] as? [String: Any])?["mismatches"] as? Int ?? 0, 0)
        // The next good build replaces the set and leaves failed/ alone.
        XCTAssertEqual(try CLITests.runKDC(buildArgs(cfg, seed: 9)).status, 0)
        assertComplete(visibleSet(), "after a failed build")
        XCTAssertTrue(FileManager.default.fileExists(atPath: failedDir + "/m.kdc"))
    }
}
