import Foundation
import XCTest

@testable import KDC

/// `report.html` in a real browser: headless Chromium (Debian `chromium`, installed by
/// `make setup`) loads the page of a digits build and of the hand-made report with every
/// section; the DOM must have each section's heading, the console no message (the page has no
/// script, so any is a fault), and the screenshots are kept in `.build/test-artifacts/`.
/// Not in `make check` (CHECK_SKIP): it needs chromium and a whole build.
final class ReportBrowserTests: XCTestCase {
    static var artifactDir: String { CLITests.repoRoot + "/.build/test-artifacts" }

    static func chromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin"] {
            for name in ["chromium", "chromium-browser"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return nil
    }

    /// Runs chromium headless on `page` with `args`; returns (status, stdout, stderr). Killed
    /// after 120 s.
    func runChromium(_ exe: String, _ args: [String], page: String, profile: String) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments =
            [
                "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--user-data-dir=\(profile)",
                "--window-size=1200,2400",
            ] + args + [URL(fileURLWithPath: page).absoluteString]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning {
            p.terminate()
            XCTFail("chromium did not finish within 120 s: \(args)")
        }
        p.waitUntilExit()
        return (
            p.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    /// Loads `page` twice (DOM with console logging; screenshot to `png`) and checks both.
    func check(page: String, png: String, headings: [String], exe: String, texts: [String] = []) throws {
        let profile = NSTemporaryDirectory() + "kdc-chromium-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: profile) }
        let (status, dom, log) = try runChromium(
            exe, ["--dump-dom", "--enable-logging=stderr", "--v=0"], page: page, profile: profile)
        XCTAssertEqual(status, 0, log)
        for h in headings {
            XCTAssertTrue(dom.contains("<h2>\(HTML.esc(h))</h2>"), "the DOM has no section '\(h)'")
        }
        XCTAssertTrue(dom.contains("<svg class=\"chart\""), "no chart in the DOM")
        for t in texts { XCTAssertTrue(dom.contains(HTML.esc(t)), "the DOM lacks '\(t)'") }
        // A student search's Pareto chart: the chosen candidate is drawn.
        if headings.contains(ReportPageTests.searchHeading) {
            XCTAssertTrue(dom.contains("<section id=\"student-search\">"), "no student-search section in the DOM")
            XCTAssertTrue(dom.contains("class=\"cand chosen\""), "the Pareto chart marks no chosen candidate")
        }
        // Chromium logs every console message as `...:CONSOLE(line)] "message", source: ...`.
        let console = log.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
        XCTAssertTrue(console.isEmpty, "console messages: \(console.joined(separator: "\n"))")
        try? FileManager.default.removeItem(atPath: png)
        let shot = try runChromium(exe, ["--screenshot=\(png)", "--hide-scrollbars"], page: page, profile: profile)
        XCTAssertEqual(shot.0, 0, shot.2)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: png), "no screenshot at \(png)")
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        XCTAssertGreaterThan(bytes.count, 20_000, "the screenshot is suspiciously small")
    }

    func testTheReportPageRendersInHeadlessChromium() throws {
        guard let exe = ReportBrowserTests.chromium() else {
            XCTFail("chromium not found on PATH: run `make setup` (it installs Debian's chromium), then this test again")
            return
        }
        let art = ReportBrowserTests.artifactDir
        try FileManager.default.createDirectory(atPath: art, withIntermediateDirectories: true)

        // Every section, with hostile names.
        let handMade = art + "/report-every-section.html"
        try Data(ReportPage.html(ReportPageTests.handMade()).utf8).write(to: URL(fileURLWithPath: handMade))
        try check(
            page: handMade, png: art + "/report-every-section.png",
            headings: ReportPageTests.headings + [ReportPageTests.searchHeading], exe: exe)

        // An audio report (a fixture report.json, as kdc report reads it): the front-end section.
        let audio = art + "/report-audio.html"
        try Data(try ReportPage.html(reportJSON: ReportPageTests.audio().json(), file: "report.json").utf8).write(
            to: URL(fileURLWithPath: audio))
        try check(
            page: audio, png: art + "/report-audio.png", headings: ReportPageTests.headings + ["Audio front end"], exe: exe,
            texts: ["80,798 instructions per hop", "feature ring: 980 B", "kdc_stream_bytes 3,508 (predicted 3,508)"])
        // A time-series report with its sensor stage on the board.
        let series = art + "/report-series.html"
        try Data(try ReportPage.html(reportJSON: ReportPageTests.series().json(), file: "report.json").utf8).write(
            to: URL(fileURLWithPath: series))
        try check(
            page: series, png: art + "/report-series.png", headings: ReportPageTests.headings + ["Time series"], exe: exe,
            texts: ["0 one-window, 0 streamed bytes differ", "14,955 instructions per window"])

        // A real digits build at few epochs (no firmware: its sections are the build's).
        let out = NSTemporaryDirectory() + "kdc-browser-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: out) }
        _ = try ReportPageTests.digitsBuild(outDir: out)
        let page = art + "/report.html"
        try? FileManager.default.removeItem(atPath: page)
        try FileManager.default.copyItem(atPath: out + "/" + ReportPage.fileName, toPath: page)
        try check(page: page, png: art + "/report.png", headings: ReportPageTests.headings, exe: exe)
    }
}
