import Foundation
import KDCTarget

/// The input-stage sections of `report.html`: the audio front end (`frontend`) and the time
/// series with its sensor stage (`dataset.series`, `sensor`). Each appears only when report.json
/// has its part.
extension ReportPage {
    // MARK: Audio front end

    static func frontEnd(_ f: FrontEndSection, memory m: MemorySection?) -> String {
        let c = f.config
        var s = "<section id=\"frontend\"><h2>Audio front end</h2>"
        s +=
            "<p class=\"note\">int16 PCM → int8 \(c.coefficients > 0 ? "MFCCs" : "log-mel energies") in fixed-point arithmetic (docs/AUDIO.md); the parameters and tables are stored in the artifact, and the model's input is \(f.frames) frames × \(f.features) features.</p>"
        s += HTML.table(
            ["parameter", "value"],
            [
                ["sample rate", "\(HTML.grouped(c.sampleRate)) Hz"], ["window", "\(HTML.grouped(c.windowSamples)) samples"],
                ["hop", "\(HTML.grouped(c.hopSamples)) samples"], ["FFT", HTML.grouped(c.fftSize)],
                ["mel bins", HTML.grouped(c.melBins)],
                ["coefficients", c.coefficients > 0 ? "\(c.coefficients) (MFCC)" : "0 (log-mel)"],
                ["frequency range", "\(HTML.num(c.lowHz))–\(HTML.num(c.highHz)) Hz"],
                ["clip", "\(HTML.grouped(f.clipSamples)) samples → \(f.frames) frames"],
                ["int8 output", "scale \(HTML.num(Double(f.outputScale))), zero point \(f.outputZeroPoint)"],
            ], text: [0, 1])
        var checks: [[String]] = []
        checks.append([
            "host: C runtime = Swift reference",
            f.cMatches.map { $0 ? "matches" : "<b>DIFFERS</b>" } ?? "not run",
            f.cMismatchedClips == 0 ? "0 clips differ" : "\(f.cMismatchedClips) clips differ", HTML.esc(f.cCheck),
        ])
        if let fw = f.firmware {
            checks.append([
                "device: \(HTML.esc(fw.target))", fw.match ? "matches" : "<b>DIFFERS</b>",
                "\(fw.wholeMismatches) whole-clip, \(fw.streamedMismatches) streamed bytes differ",
                "\(fw.clips) test recordings as PCM, whole clip and streamed; kdc_stream_bytes \(HTML.grouped(fw.streamBytes)) (predicted \(f.streamBytes.map(HTML.grouped) ?? "—"))",
            ])
        }
        s += "<div class=\"scroll\">" + HTML.table(["check", "result", "bytes", "what"], checks, text: [0, 1, 2, 3]) + "</div>"
        if let fw = f.firmware, fw.instructionsPerHop != nil || fw.instructionsPerClip != nil {
            s +=
                "<p>Cost on \(HTML.esc(fw.target)): <b>\(fw.instructionsPerHop.map(HTML.grouped) ?? "—") instructions per hop</b> (\(fw.instructionsPerClip.map(HTML.grouped) ?? "—") per clip of \(fw.frames) frames), QEMU instruction count, no cycles.</p>"
        }
        var rows: [(String, [(String, Int, String)], String)] = []
        if let m, let fe = m.frontendBytes, let ring = m.ringBytes {
            var parts = [("arena", m.arenaTotalBytes, "#2ca02c")]
            if m.unpackBytes > 0 { parts.append(("unpack buffer", m.unpackBytes, "#bcbd22")) }
            parts += [("front end (window + scratch)", fe, "#ff7f0e"), ("feature ring", ring, "#1f77b4")]
            rows.append(("RAM: model + stream", parts, "predicted by kdc (the budget's figure)"))
        }
        if let fw = f.firmware, let m = fw.ram, let p = fw.ramPredicted {
            rows += deviceRAMRows(measured: m, predicted: p, target: fw.target)
        }
        if !rows.isEmpty { s += splitBars(rows, label: "RAM split of the audio model: arena, front end, ring") }
        if let fw = f.firmware, let m = fw.ram, let p = fw.ramPredicted {
            s += ramTable(measured: m, predicted: p, stack: fw.stackPath ?? [])
        }
        return s + "</section>"
    }

    // MARK: Time series and sensor stage

    static func series(_ d: SeriesReport, sensor: SensorSection?) -> String {
        var s = "<section id=\"series\"><h2>Time series</h2>"
        s +=
            "<p class=\"note\">Windows of \(d.windowLength) time steps × \(d.channels) channels, one every \(d.windowStride) steps (\(HTML.esc(d.windowLabel))); recordings \(d.trainRecordings) train / \(d.validationRecordings) validation / \(d.testRecordings) test, split by recording\(d.trainStepsDropped > 0 ? "; \(HTML.grouped(d.trainStepsDropped)) training steps after the last whole window dropped" : "").</p>"
        let n = d.normalization
        s +=
            "<p>Normalization per channel, from \(HTML.esc(n.computedOn)): \(HTML.esc(n.formula)) (std floor \(HTML.num(n.stdFloor)))"
            + (sensor.map {
                "; on the device the artifact's sensor stage computes q = clamp(round((x − mean) · k) \($0.inputZeroPoint < 0 ? "−" : "+") \(abs($0.inputZeroPoint)), −128, 127), k = 1 / (std · \(HTML.num(Double($0.inputScale))))"
            } ?? "") + ".</p>"
        let rows = (0..<min(n.mean.count, n.std.count)).map { c in
            [
                String(c), HTML.num(Double(n.mean[c])), HTML.num(Double(n.std[c])),
                sensor.flatMap { c < $0.k.count ? HTML.num(Double($0.k[c])) : nil } ?? "—",
            ]
        }
        s += HTML.table(["channel", "mean", "std", "k (stored)"], rows)
        guard let sensor else { return s + "</section>" }
        s +=
            "<p>Sensor stream buffer: <b>\(HTML.bytes(sensor.streamBytes))</b> (the ring of one window, int8), besides the arena.</p>"
        if let fw = sensor.firmware {
            s += "<div class=\"scroll\">"
            s +=
                HTML.table(
                    ["check", "result", "bytes", "what"],
                    [
                        [
                            "device: \(HTML.esc(fw.target))", fw.match ? "matches" : "<b>DIFFERS</b>",
                            "\(fw.wholeMismatches) one-window, \(fw.streamedMismatches) streamed bytes differ",
                            "\(fw.recordings) test recordings (\(fw.windows) windows) as float32 samples, one window at a time and streamed in chunks of \(fw.chunkSamples.map(String.init).joined(separator: ", ")) samples; kdc_stream_bytes \(HTML.grouped(fw.streamBytes)) (predicted \(HTML.grouped(sensor.streamBytes)))",
                        ]
                    ], text: [0, 1, 2, 3]) + "</div>"
            if let w = fw.instructionsPerWindow {
                s +=
                    "<p>Sensor stage on \(HTML.esc(fw.target)): \(HTML.grouped(w)) instructions per window (\(fw.instructionsPerStep.map(HTML.grouped) ?? "—") per time step of \(fw.channels) channels; soft float), QEMU instruction count.</p>"
            }
            s += splitBars(
                deviceRAMRows(measured: fw.ram, predicted: fw.ramPredicted, target: fw.target),
                label: "RAM of the sensor firmware, predicted and measured")
            s += ramTable(measured: fw.ram, predicted: fw.ramPredicted, stack: fw.stackPath)
        }
        return s + "</section>"
    }

    // MARK: Shared

    /// Predicted and measured RAM of a stream image as two bars.
    static func deviceRAMRows(measured m: FirmwareRAM, predicted p: FirmwareRAM, target: String) -> [(
        String, [(String, Int, String)], String
    )] {
        func parts(_ r: FirmwareRAM) -> [(String, Int, String)] {
            [
                ("arena", r.arenaBytes, "#2ca02c"), ("unpack buffer", r.unpackBytes, "#bcbd22"),
                ("stream buffer", r.streamBytes, "#17becf"), ("static data", r.staticBytes, "#9467bd"),
                ("stack (peak)", r.stackBytes, "#d62728"),
            ]
        }
        return [
            ("Device: predicted", parts(p), "kdc, from the linked image before the run"),
            ("Device: measured", parts(m), "the firmware on \(target)"),
        ]
    }

    /// The parts of predicted and measured RAM side by side, and the predicted deepest call chain.
    static func ramTable(measured m: FirmwareRAM, predicted p: FirmwareRAM, stack: [StackFrame]) -> String {
        let rows: [(String, Int, Int)] = [
            ("arena", p.arenaBytes, m.arenaBytes), ("unpack buffer", p.unpackBytes, m.unpackBytes),
            ("stream buffer", p.streamBytes, m.streamBytes), ("static data", p.staticBytes, m.staticBytes),
            ("stack", p.stackBytes, m.stackBytes), ("total", p.totalBytes, m.totalBytes),
        ]
        var s = HTML.table(
            ["RAM part", "predicted (B)", "measured (B)", ""],
            rows.map { [HTML.esc($0.0), HTML.grouped($0.1), HTML.grouped($0.2), $0.1 == $0.2 ? "equal" : "<b>differs</b>"] },
            text: [0, 3])
        if !stack.isEmpty {
            s +=
                "<p class=\"note\">Deepest call chain (predicted): "
                + HTML.esc(stack.map { "\($0.function) \($0.bytes)" }.joined(separator: " → ")) + "</p>"
        }
        return s
    }

    /// Horizontal stacked bars, one per row (name, parts (label, bytes, colour), note), scaled to
    /// the largest row.
    static func splitBars(_ rows: [(String, [(String, Int, String)], String)], label: String) -> String {
        let rowH = 46.0, left = 190.0, width = 1000.0, barW = width - left - 130
        let height = 20 + rowH * Double(rows.count)
        let top = Double(max(rows.map { $0.1.reduce(0) { $0 + $1.1 } }.max() ?? 1, 1)) * 1.02
        var s =
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(HTML.esc(label))\">"
        for (i, (name, parts, note)) in rows.enumerated() {
            let y = 10 + Double(i) * rowH
            let used = parts.reduce(0) { $0 + $1.1 }
            s +=
                "<text x=\"\(HTML.f(left - 10))\" y=\"\(HTML.f(y + 12))\" text-anchor=\"end\" dominant-baseline=\"middle\" font-weight=\"600\"><title>\(HTML.esc(note))</title>\(HTML.esc(name))</text>"
            var x = left
            for (l, bytes, color) in parts where bytes > 0 {
                let w = Double(bytes) / top * barW
                s +=
                    "<rect class=\"bar\" x=\"\(HTML.f(x))\" y=\"\(HTML.f(y))\" width=\"\(HTML.f(max(w, 1)))\" height=\"24\" fill=\"\(color)\"><title>\(HTML.esc("\(l): \(HTML.grouped(bytes)) B"))</title></rect>"
                x += w
            }
            s +=
                "<text x=\"\(HTML.f(left + barW + 10))\" y=\"\(HTML.f(y + 12))\" dominant-baseline=\"middle\">\(HTML.grouped(used)) B</text>"
            s +=
                "<text class=\"label\" x=\"\(HTML.f(left))\" y=\"\(HTML.f(y + 37))\" dominant-baseline=\"middle\">\(HTML.esc(parts.filter { $0.1 > 0 }.map { "\($0.0) \(HTML.grouped($0.1))" }.joined(separator: " + ")))</text>"
        }
        s += "</svg>"
        var seen: [String] = []
        var legend: [(name: String, color: String, dashed: Bool)] = []
        for (l, bytes, color) in rows.flatMap(\.1) where bytes > 0 && !seen.contains(l) {
            seen.append(l)
            legend.append((l, color, false))
        }
        return s + HTML.legend(legend)
    }
}
