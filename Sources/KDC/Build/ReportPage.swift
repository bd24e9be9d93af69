import Foundation

/// `report.html`: `report.json` as one self-contained page (inline CSS and SVG, no script, no
/// network) — a summary, training curves, the int8 confusion matrix, per-layer SQNR, the arena
/// plan as a timeline, flash/RAM/stack against the budget, the audio front end or the time series
/// with its sensor stage (`ReportPageStages.swift`), and the distillation search. Each
/// section appears only when the report has its data. Every string from the data is escaped.
public enum ReportPage {
    /// The page's file name, next to `report.json`.
    public static let fileName = "report.html"

    /// The page of a `kdc build` report.
    public static func html(_ r: BuildReport) -> String {
        var body = buildSummary(r)
        body += curves(r)
        if let q = r.quantization, let c = q.confusion { body += confusion(c, names: r.dataset?.classNames) }
        if let q = r.quantization, !q.layers.isEmpty { body += sqnr(q) }
        if let m = r.memory, let p = m.plan { body += arena(p, memory: m) }
        body += resources(memory: r.memory, budget: r.budget, firmware: r.firmware, artifact: r.artifact)
        if let f = r.frontend { body += frontEnd(f, memory: r.memory) }
        if let d = r.dataset?.series { body += series(d, sensor: r.sensor) }
        if let d = r.distill, let s = d.search {
            body += search(s, chosen: DistillSetting(temperature: d.temperature, alpha: d.alpha))
        }
        if let s = r.studentSearch { body += studentSearch(s) }
        let name = r.artifact.map { URL(fileURLWithPath: $0.path).deletingPathExtension().lastPathComponent }
        return page(title: "kdc report: " + (name ?? URL(fileURLWithPath: r.config).lastPathComponent), body: body)
    }

    /// The page of a `kdc import` report.
    public static func html(_ r: ImportReport) -> String {
        let s = r.source
        var cards: [(String, String, String)] = [
            ("Source model", URL(fileURLWithPath: s.path).lastPathComponent, HTML.bytes(s.bytes)),
            ("Ops", HTML.grouped(s.ops.count), HTML.grouped(s.macs) + " MACs"),
        ]
        if let a = r.artifact { cards.append(("Artifact", HTML.bytes(a.bytes), a.compressed ? "zlib" : "stored")) }
        if let m = r.memory { cards.append(("Arena", HTML.bytes(m.arenaTotalBytes), "activations + scratch")) }
        var body = "<section id=\"summary\"><h2>Summary</h2>"
        body +=
            "<p class=\"meta\">Imported \(HTML.esc(s.path)) (\(HTML.esc(s.format)), \(HTML.esc(s.arithmetic)) arithmetic), input \(s.inputShape), output \(s.outputShape); kdc \(HTML.esc(r.kdcVersion))</p>"
        body += cardGrid(cards)
        if let rt = r.runtime {
            body +=
                "<p>Host check: \(HTML.grouped(rt.samples)) generated inputs, \(HTML.grouped(rt.mismatches)) output bytes differ from the Swift int8 reference.</p>"
        }
        body += "</section>"
        if let m = r.memory, let p = m.plan { body += arena(p, memory: m) }
        body += resources(memory: r.memory, budget: nil, firmware: r.firmware, artifact: r.artifact)
        return page(title: "kdc report: " + URL(fileURLWithPath: s.path).lastPathComponent, body: body)
    }

    /// Renders a `report.json` of `kdc build` or `kdc import` (`file` names it in errors).
    /// - Throws: `KDCError.format` when the bytes are not JSON or not a kdc report.
    public static func html(reportJSON data: Data, file: String) throws -> String {
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .custom { path in ReportKey(snake: path.last?.stringValue ?? "") }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw KDCError.format(file: file, message: "not a JSON object; expected the report.json of kdc build or kdc import")
        }
        guard obj["kdc_version"] is String else {
            throw KDCError.format(
                file: file, message: "no kdc_version key: not a kdc report (expected the report.json of kdc build or kdc import)")
        }
        do {
            if obj["source"] != nil { return html(try dec.decode(ImportReport.self, from: data)) }
            return html(try dec.decode(BuildReport.self, from: data))
        } catch let e as DecodingError {
            throw KDCError.format(file: file, message: "not a kdc report this version reads: \(describe(e))")
        }
    }

    /// Reads `outDir/report.json` and writes `outDir/report.html` (a temporary file, then a
    /// rename). Returns the page's path.
    /// - Throws: `KDCError.io` when the report is missing or the page cannot be written,
    ///   `KDCError.format` when it is not a kdc report.
    @discardableResult
    public static func rerender(outDir: String) throws -> String {
        let json = outDir + "/report.json"
        guard let data = FileManager.default.contents(atPath: json) else {
            throw KDCError.io(
                path: json,
                message: "cannot read the report (missing or unreadable); hint: pass the output folder of kdc build or kdc import"
            )
        }
        let path = outDir + "/" + fileName
        try writeFileAtomically(Data(try html(reportJSON: data, file: json).utf8), to: path)
        return path
    }

    /// A snake_case key of report.json as the property it came from: `convertToSnakeCase` in
    /// reverse, with the two properties whose names hold an acronym (`sqnrDB`, `instructionsPerMAC`).
    struct ReportKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        init(snake: String) {
            let parts = snake.split(separator: "_", omittingEmptySubsequences: false)
            var camel = String(parts.first ?? "")
            for p in parts.dropFirst() { camel += p.prefix(1).uppercased() + p.dropFirst() }
            stringValue = ["sqnrDb": "sqnrDB", "instructionsPerMac": "instructionsPerMAC"][camel] ?? camel
        }
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound(let k, let c): return "missing key '\((c.codingPath + [k]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    // MARK: Page

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.esc(title))</title>
        <style>\(css)</style></head>
        <body><main>
        <h1>\(HTML.esc(title))</h1>
        \(body)
        <footer>Written by kdc \(HTML.esc(kdcVersionString)) from report.json; hover a chart for its numbers.</footer>
        </main></body></html>

        """
    }

    static let css = """
        :root{--ink:#1d2430;--muted:#5b6573;--line:#d9dee5;--bg:#f4f6f9;--card:#fff;--accent:#1f77b4}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
        main{max-width:1120px;margin:0 auto;padding:24px}
        h1{font-size:24px;margin:0 0 16px}
        h2{font-size:18px;margin:0 0 4px}
        section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 20px;margin:0 0 18px}
        p.meta,p.note{color:var(--muted);margin:2px 0 12px;font-size:13px}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:10px 0}
        .card{border:1px solid var(--line);border-radius:6px;padding:10px 12px}
        .card .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
        .card .v{font-size:22px;font-weight:600;margin-top:2px;overflow-wrap:anywhere}
        .card .s{font-size:12px;color:var(--muted)}
        .card.ship{border-color:var(--accent);box-shadow:inset 0 0 0 1px var(--accent)}
        .row{display:flex;flex-wrap:wrap;gap:18px}
        .row>div{flex:1 1 480px;min-width:0}
        h3{font-size:14px;margin:8px 0 2px}
        svg.chart{max-width:100%;height:auto;display:block;font-size:11px;fill:var(--ink)}
        svg.chart .grid{stroke:#e6e9ee} svg.chart .tick{stroke:#999}
        svg.chart .frame{fill:none;stroke:#b7bec8}
        svg.chart .label{font-size:12px;fill:var(--muted)}
        svg.chart .hover{fill:transparent} svg.chart .hover:hover{fill:rgba(31,119,180,.08)}
        svg.chart .bar:hover,svg.chart .cell:hover{stroke:#000;stroke-width:1.5}
        .legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px;margin:6px 0}
        .legend span{display:inline-flex;align-items:center;gap:6px}
        table{border-collapse:collapse;font-size:13px;margin:10px 0 0;width:100%}
        th,td{padding:3px 8px;border-bottom:1px solid #eceff3;text-align:right;white-space:nowrap}
        th.l,td.l{text-align:left}
        th{color:var(--muted);font-weight:600}
        details summary{cursor:pointer;color:var(--muted);font-size:13px;margin-top:8px}
        .scroll{overflow-x:auto}
        footer{color:var(--muted);font-size:12px;text-align:center;margin:8px 0 24px}
        """

    static func cardGrid(_ cards: [(String, String, String)], shipped: String? = nil) -> String {
        "<div class=\"cards\">"
            + cards.map { c in
                "<div class=\"card\(c.0 == shipped ? " ship" : "")\"><div class=\"k\">\(HTML.esc(c.0))</div><div class=\"v\">\(HTML.esc(c.1))</div><div class=\"s\">\(HTML.esc(c.2))</div></div>"
            }.joined() + "</div>"
    }

    // MARK: 1. Summary

    static let modelColors = ["teacher": "#8e44ad", "baseline": "#e67e22", "student": "#1f77b4"]

    static func buildSummary(_ r: BuildReport) -> String {
        var s = "<section id=\"summary\"><h2>Summary</h2><p class=\"meta\">"
        if let d = r.dataset {
            s +=
                "Data \(HTML.esc(d.name)): \(HTML.grouped(d.classes)) classes, samples \(d.sampleShape.map(String.init).joined(separator: "×")); "
                + "\(HTML.grouped(d.train)) train / \(HTML.grouped(d.validation)) validation / \(HTML.grouped(d.test)) test. "
        }
        s += "Config \(HTML.esc(r.config)), seed \(r.seed), kdc \(HTML.esc(r.kdcVersion)).</p>"
        let shippedName = r.shipped?.model == "baseline" ? "Baseline student" : "Distilled student"
        var cards: [(String, String, String)] = []
        if let t = r.teacher {
            cards.append(
                (
                    "Teacher", HTML.pct(t.floatAccuracy ?? t.transferAccuracy),
                    t.floatAccuracy != nil ? "float, test" : "agreement, transfer rows"
                ))
        }
        if let b = r.baseline { cards.append(("Baseline student", HTML.pct(b.floatAccuracy), "hard labels, float, test")) }
        if let st = r.student { cards.append(("Distilled student", HTML.pct(st.floatAccuracy), "float, test")) }
        if let q = r.quantization { cards.append(("int8 student", HTML.pct(q.int8Accuracy), "shipped, test")) }
        if let a = r.artifact { cards.append(("Artifact", HTML.bytes(a.bytes), a.compressed ? "flash, zlib" : "flash, stored")) }
        if let m = r.memory { cards.append(("Arena", HTML.bytes(m.arenaTotalBytes), "RAM: activations + scratch")) }
        s += cardGrid(cards, shipped: r.shipped == nil ? nil : shippedName)
        if let sh = r.shipped {
            s += "<p>Shipped: the <b>\(HTML.esc(sh.model))</b> student (\(HTML.esc(sh.reason))).</p>"
            if let w = sh.warning { s += "<p><b>\(HTML.esc(w))</b></p>" }
        }
        var rows: [[String]] = []
        for (name, m) in [("teacher", r.teacher), ("baseline", r.baseline), ("student", r.student)] {
            guard let m else { continue }
            rows.append([
                HTML.esc(name), m.params.map(HTML.grouped) ?? "—", m.macs.map(HTML.grouped) ?? "—", HTML.grouped(m.epochs),
                HTML.pct(m.floatAccuracy), HTML.pct(m.validationAccuracy), HTML.pct(m.int8Accuracy),
                m.samplesPerSecond.map { HTML.grouped(Int($0.rounded())) } ?? "—",
            ])
        }
        if !rows.isEmpty {
            s += HTML.table(
                ["model", "parameters", "MACs", "epochs", "test (float)", "validation", "test (int8)", "samples/s"], rows)
        }
        return s + "</section>"
    }

    // MARK: 2. Training curves

    static func curves(_ r: BuildReport) -> String {
        let models = [("teacher", r.teacher), ("baseline", r.baseline), ("student", r.student)].compactMap {
            name, m -> (String, [EpochStats])? in
            guard let h = m?.history, !h.isEmpty else { return nil }
            return (name, h)
        }
        guard !models.isEmpty else { return "" }
        let color = { (n: String) in modelColors[n] ?? "#555" }
        var loss: [Series] = [], acc: [Series] = []
        for (name, h) in models {
            loss.append(
                Series(name: "\(name) loss", color: color(name), points: h.map { (Double($0.epoch), $0.loss) }))
            let v = h.compactMap { e in e.validationAccuracy.map { (Double(e.epoch), $0) } }
            if !v.isEmpty { acc.append(Series(name: "\(name) validation", color: color(name), points: v)) }
            acc.append(
                Series(
                    name: "\(name) train", color: color(name), dashed: true, width: 1.5,
                    points: h.map { (Double($0.epoch), $0.trainAccuracy) }))
        }
        var s = "<section id=\"curves\"><h2>Training curves</h2>"
        s +=
            "<p class=\"note\">Per epoch. The distilled student's loss is the distillation loss (soft targets at temperature T mixed with the labels), so its scale differs from the others' cross-entropy.</p>"
        s += HTML.legend(
            models.map { ($0.0, color($0.0), false) } + [
                ("validation accuracy (solid)", "#555", false), ("training accuracy", "#555", true),
            ])
        s += "<div class=\"row\"><div><h3>Loss</h3>"
        s += lineChart(loss, label: "training loss per epoch", xLabel: "epoch", yLabel: "loss")
        s += "</div><div><h3>Accuracy</h3>"
        s += lineChart(
            acc, label: "training and validation accuracy per epoch", xLabel: "epoch", yLabel: "accuracy (%)",
            yRange: (max(0, (acc.flatMap { $0.points.map(\.y) }.min() ?? 0) - 0.02), 1),
            yFormat: { String(format: "%.4g", $0 * 100) })
        s += "</div></div>"
        var rows: [[String]] = []
        for (name, h) in models {
            let last = h[h.count - 1]
            let best = h.filter { $0.validationAccuracy != nil }.max { $0.validationAccuracy! < $1.validationAccuracy! }
            rows.append([
                HTML.esc(name), HTML.grouped(h.count), String(format: "%.4f", last.loss), HTML.pct(last.trainAccuracy),
                HTML.pct(last.validationAccuracy),
                best.map { "\(HTML.pct($0.validationAccuracy)) (epoch \($0.epoch))" } ?? "—",
                String(format: "%.3g", Double(last.learningRate)),
                String(format: "%.2f", h.map(\.seconds).reduce(0, +) / Double(h.count)),
                HTML.grouped(Int((h.map(\.samplesPerSecond).reduce(0, +) / Double(h.count)).rounded())),
            ])
        }
        s += HTML.table(
            [
                "model", "epochs", "last loss", "last train acc", "last val acc", "best val acc", "last LR", "s/epoch",
                "samples/s",
            ], rows)
        return s + "</section>"
    }

    // MARK: 3. Confusion matrix

    static func confusion(_ m: [[Int]], names: [String]?) -> String {
        let n = m.count
        guard n > 0, m.allSatisfy({ $0.count == n }) else { return "" }
        let name = { (i: Int) -> String in
            if let names, i < names.count { return names[i] }
            return String(i)
        }
        let short = { (i: Int) -> String in
            let s = name(i); return s.count > 10 ? String(s.prefix(9)) + "…" : s
        }
        let cell = max(12, min(40, 520 / Double(n)))
        let left = 96.0, top = 30.0
        let longest = Double((0..<n).map { short($0).count }.max() ?? 1)
        let w = left + cell * Double(n) + 20, h = top + cell * Double(n) + 16 + 6 * longest
        let total = m.flatMap { $0 }.reduce(0, +)
        let right = (0..<n).reduce(0) { $0 + m[$1][$1] }
        var s = "<section id=\"confusion\"><h2>Confusion matrix (int8 student, test split)</h2>"
        s +=
            "<p class=\"note\">Rows: true class; columns: the int8 student's prediction. Cell colour: share of the row (blue on the diagonal, red off it). \(HTML.grouped(right)) of \(HTML.grouped(total)) right (\(HTML.pct(total > 0 ? Double(right) / Double(total) : nil))).</p>"
        s +=
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"confusion matrix\">"
        for r in 0..<n {
            let rowTotal = m[r].reduce(0, +)
            for c in 0..<n {
                let v = m[r][c]
                let share = rowTotal > 0 ? Double(v) / Double(rowTotal) : 0
                let fill: String
                if v == 0 {
                    fill = "#f7f8fa"
                } else if r == c {
                    fill = String(format: "rgba(31,119,180,%.3f)", 0.15 + 0.85 * share)
                } else {
                    fill = String(format: "rgba(214,39,40,%.3f)", 0.15 + 0.85 * min(1, share * 4))
                }
                let x = left + Double(c) * cell, y = top + Double(r) * cell
                let tip =
                    "true \(name(r)) → predicted \(name(c)): \(v) sample\(v == 1 ? "" : "s")"
                    + (rowTotal > 0 ? String(format: " (%.1f%% of class)", share * 100) : "")
                s +=
                    "<rect class=\"cell\" x=\"\(HTML.f(x))\" y=\"\(HTML.f(y))\" width=\"\(HTML.f(cell - 1))\" height=\"\(HTML.f(cell - 1))\" fill=\"\(fill)\"><title>\(HTML.esc(tip))</title></rect>"
                if cell >= 20 && v > 0 {
                    s +=
                        "<text x=\"\(HTML.f(x + cell / 2))\" y=\"\(HTML.f(y + cell / 2))\" text-anchor=\"middle\" dominant-baseline=\"middle\" pointer-events=\"none\" fill=\"\(r == c && share > 0.5 ? "#fff" : "#1d2430")\">\(v)</text>"
                }
            }
            s +=
                "<text x=\"\(HTML.f(left - 6))\" y=\"\(HTML.f(top + (Double(r) + 0.5) * cell))\" text-anchor=\"end\" dominant-baseline=\"middle\">\(HTML.esc(short(r)))</text>"
        }
        for c in 0..<n {
            let x = left + (Double(c) + 0.5) * cell, y = top + Double(n) * cell + 8
            s +=
                "<text x=\"\(HTML.f(x))\" y=\"\(HTML.f(y))\" text-anchor=\"end\" dominant-baseline=\"middle\" transform=\"rotate(-60 \(HTML.f(x)) \(HTML.f(y)))\">\(HTML.esc(short(c)))</text>"
        }
        s +=
            "<text class=\"label\" x=\"\(HTML.f(left + cell * Double(n) / 2))\" y=\"16\" text-anchor=\"middle\">predicted class</text>"
        s +=
            "<text class=\"label\" x=\"14\" y=\"\(HTML.f(top + cell * Double(n) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(HTML.f(top + cell * Double(n) / 2)))\">true class</text>"
        s += "</svg>"
        var rows: [[String]] = []
        for k in 0..<n {
            let support = m[k].reduce(0, +)
            let predicted = (0..<n).reduce(0) { $0 + m[$1][k] }
            rows.append([
                HTML.esc(name(k)), HTML.grouped(support),
                HTML.pct(support > 0 ? Double(m[k][k]) / Double(support) : nil),
                HTML.pct(predicted > 0 ? Double(m[k][k]) / Double(predicted) : nil),
            ])
        }
        s += "<details><summary>Per class: samples, recall, precision</summary>"
        s += HTML.table(["class", "test samples", "recall", "precision"], rows) + "</details>"
        return s + "</section>"
    }

    // MARK: 4. Per-layer SQNR

    static func sqnr(_ q: QuantizationReport) -> String {
        let layers = q.layers
        let rowH = 22.0, left = 230.0
        let shown = layers.map { min(max($0.sqnrDB, 0), 100) }
        let hi = max(10, (shown.max() ?? 10))
        var ticks = niceTicks(0, hi)
        if let last = ticks.last, ticks.count > 1, last < hi { ticks.append(last + ticks[1] - ticks[0]) }
        var plot = Plot(
            width: 1000, height: 40 + rowH * Double(layers.count) + 20, x: (0, ticks.last ?? hi), y: (0, Double(layers.count)))
        plot.left = left; plot.top = 10; plot.bottom = 46; plot.right = 70
        var s = "<section id=\"sqnr\"><h2>Per-layer SQNR</h2>"
        s +=
            "<p class=\"note\">Signal-to-quantization-noise ratio of each op's int8 output against the float graph, on \(q.layerSamples) test samples (higher is better; every 6 dB is one bit). int8 test accuracy \(HTML.pct(q.int8Accuracy)), float \(HTML.pct(q.floatAccuracy)), top-1 agreement \(HTML.pct(q.top1Agreement)) over \(HTML.grouped(q.samples)) samples.</p>"
        s += plot.open("per-layer SQNR in dB")
        s += plot.axes(xTicks: ticks, yTicks: [], xLabel: "SQNR (dB)", yLabel: "")
        for (i, l) in layers.enumerated() {
            let y = plot.top + Double(i) * rowH + 3
            let v = shown[i]
            let label = l.sqnrDB >= 150 ? "exact" : String(format: "%.1f dB", l.sqnrDB)
            s +=
                "<rect class=\"bar\" x=\"\(HTML.f(plot.px(0)))\" y=\"\(HTML.f(y))\" width=\"\(HTML.f(max(1, plot.px(v) - plot.px(0))))\" height=\"\(HTML.f(rowH - 6))\" fill=\"#1f77b4\"><title>\(HTML.esc("\(l.name) (\(l.kind)): \(label)"))</title></rect>"
            s +=
                "<text x=\"\(HTML.f(left - 8))\" y=\"\(HTML.f(y + (rowH - 6) / 2))\" text-anchor=\"end\" dominant-baseline=\"middle\">\(HTML.esc(l.name)) · \(HTML.esc(l.kind))</text>"
            s +=
                "<text x=\"\(HTML.f(plot.px(v) + 5))\" y=\"\(HTML.f(y + (rowH - 6) / 2))\" dominant-baseline=\"middle\">\(HTML.esc(label))</text>"
        }
        s += "</svg>"
        let rows = layers.map { l in
            [HTML.esc(l.name), HTML.esc(l.kind), l.sqnrDB >= 150 ? "exact (no error)" : String(format: "%.2f", l.sqnrDB)]
        }
        s +=
            "<details><summary>Table</summary>" + HTML.table(["op output", "kind", "SQNR (dB)"], rows, text: [0, 1])
            + "</details>"
        return s + "</section>"
    }

    // MARK: 5. Arena plan

    static func arena(_ p: ArenaPlanSection, memory m: MemorySection) -> String {
        let steps = max(p.ops.count, 1)
        let top = Double(max(m.arenaTotalBytes, m.arenaBytes, 1))
        let yt = niceTicks(0, top)
        var plot = Plot(width: 1000, height: 380, x: (0, Double(steps)), y: (0, max(top, yt.last ?? top)))
        plot.left = 80
        plot.bottom = p.ops.count <= 40 ? 110 : 46
        var s = "<section id=\"arena\"><h2>Arena plan</h2>"
        s +=
            "<p class=\"note\">Each bar is a tensor: from the op that writes it to the last op that reads it (x), at its offset in the arena (y). Activations \(HTML.bytes(m.arenaBytes)) (no plan for this op order needs less than \(HTML.bytes(m.arenaLowerBoundBytes))), kernel scratch \(HTML.bytes(m.scratchBytes)) above them: \(HTML.bytes(m.arenaTotalBytes)) in all.</p>"
        s += plot.open("arena plan: tensors over op index and arena offset")
        let xt = p.ops.count <= 40 ? Array(0..<p.ops.count).map { Double($0) + 0.5 } : niceTicks(0, Double(steps), count: 10)
        s += plot.axes(
            xTicks: p.ops.count <= 40 ? [] : xt, yTicks: yt, xLabel: "op index", yLabel: "arena offset (bytes)")
        if p.ops.count <= 40 {
            for (i, op) in p.ops.enumerated() {
                let x = plot.px(Double(i) + 0.5), y = plot.top + plot.plotHeight + 8
                s +=
                    "<text x=\"\(HTML.f(x))\" y=\"\(HTML.f(y))\" text-anchor=\"end\" dominant-baseline=\"middle\" transform=\"rotate(-50 \(HTML.f(x)) \(HTML.f(y)))\"><title>\(HTML.esc("op \(i): \(op.name) (\(op.kind))"))</title>\(i) \(HTML.esc(op.kind))</text>"
            }
        }
        if m.scratchBytes > 0 {
            let y0 = plot.py(Double(m.arenaTotalBytes)), y1 = plot.py(Double(m.arenaBytes))
            s +=
                "<rect x=\"\(HTML.f(plot.px(0)))\" y=\"\(HTML.f(y0))\" width=\"\(HTML.f(plot.plotWidth))\" height=\"\(HTML.f(max(y1 - y0, 1)))\" fill=\"#e9ecf1\" stroke=\"#b7bec8\" stroke-dasharray=\"3 3\"><title>\(HTML.esc("kernel scratch: \(m.scratchBytes) bytes at offset \(m.arenaBytes)"))</title></rect>"
        }
        for (i, t) in p.tensors.enumerated() where t.bytes > 0 {
            let x0 = plot.px(Double(t.firstOp)), x1 = plot.px(Double(t.lastOp + 1))
            let y0 = plot.py(Double(t.offset + t.bytes)), y1 = plot.py(Double(t.offset))
            let color = HTML.palette[i % HTML.palette.count]
            let tip =
                "\(t.name): \(t.bytes) bytes at offset \(t.offset)–\(t.offset + t.bytes), live ops \(t.firstOp)–\(t.lastOp)"
            s +=
                "<rect class=\"bar\" x=\"\(HTML.f(x0 + 1))\" y=\"\(HTML.f(y0))\" width=\"\(HTML.f(max(x1 - x0 - 2, 1)))\" height=\"\(HTML.f(max(y1 - y0, 1)))\" fill=\"\(color)\" fill-opacity=\"0.75\" stroke=\"\(color)\"><title>\(HTML.esc(tip))</title></rect>"
            if x1 - x0 > 60 && y1 - y0 > 13 {
                s +=
                    "<text x=\"\(HTML.f(x0 + 5))\" y=\"\(HTML.f((y0 + y1) / 2))\" dominant-baseline=\"middle\" pointer-events=\"none\" fill=\"#fff\">\(HTML.esc(t.name.count > 18 ? String(t.name.prefix(17)) + "…" : t.name))</text>"
            }
        }
        let lb = plot.py(Double(m.arenaLowerBoundBytes))
        s +=
            "<line x1=\"\(HTML.f(plot.px(0)))\" x2=\"\(HTML.f(plot.px(Double(steps))))\" y1=\"\(HTML.f(lb))\" y2=\"\(HTML.f(lb))\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"><title>lower bound: \(m.arenaLowerBoundBytes) bytes</title></line>"
        s += "</svg>"
        s += HTML.legend([("lower bound (largest set of tensors live at once)", "#d62728", true)])
        let rows = p.tensors.map { t in
            [
                HTML.esc(t.name), HTML.grouped(t.bytes), HTML.grouped(t.offset), HTML.grouped(t.offset + t.bytes),
                "\(t.firstOp)–\(t.lastOp)",
            ]
        }
        s +=
            "<details><summary>Tensors (\(p.tensors.count)) and ops (\(p.ops.count))</summary>"
            + HTML.table(["tensor", "bytes", "offset", "end", "live ops"], rows)
            + HTML.table(
                ["op", "name", "kind"],
                p.ops.enumerated().map { [String($0.offset), HTML.esc($0.element.name), HTML.esc($0.element.kind)] },
                text: [1, 2])
            + "</details>"
        return s + "</section>"
    }

    // MARK: 6. Flash, RAM and stack

    static func resources(
        memory m: MemorySection?, budget b: BudgetSection?, firmware fw: FirmwareSection?, artifact a: ArtifactSection?
    )
        -> String
    {
        guard m != nil || b != nil || fw != nil else { return "" }
        // Rows: name, parts (label, bytes, colour), budget, note.
        var rows: [(String, [(String, Int, String)], Int?, String)] = []
        if let a {
            rows.append(
                (
                    "Flash: artifact",
                    [("artifact (\(a.compressed ? "zlib" : "stored"))", b?.flashNeededBytes ?? a.bytes, "#1f77b4")],
                    b?.flashBytes, "the model's bytes in flash (what the budget limits)"
                ))
        }
        if let fw {
            rows.append(
                (
                    "Flash: firmware code", [("runtime .text", fw.runtimeTextBytes, "#17becf")], nil,
                    "the C runtime's code at -Os on \(fw.target) (image .text \(HTML.grouped(fw.imageTextBytes)) B)"
                ))
        }
        if let m {
            var parts = [("activations", m.arenaBytes, "#2ca02c"), ("kernel scratch", m.scratchBytes, "#98df8a")]
            if m.unpackBytes > 0 { parts.append(("unpack buffer", m.unpackBytes, "#bcbd22")) }
            rows.append(("RAM: model", parts, b?.ramBytes, "arena and unpack buffer (what the budget limits)"))
        }
        if let fw, let mode = fw.modes.max(by: { $0.ramBytes < $1.ramBytes }) {
            let r = mode.ram
            rows.append(
                (
                    "RAM: on the device",
                    [
                        ("arena", r.arenaBytes, "#2ca02c"), ("unpack buffer", r.unpackBytes, "#bcbd22"),
                        ("static data", r.staticBytes, "#9467bd"), ("stack (peak)", r.stackBytes, "#d62728"),
                    ], b?.ramBytes,
                    "measured on \(fw.target), \(mode.mode.rawValue) artifact; kdc predicted \(HTML.grouped(fw.ramPredictedBytes)) B"
                ))
            rows.append(
                (
                    "Stack: runtime bound", [("deepest call chain", fw.runtimeStackBoundBytes, "#d62728")], nil,
                    "below any runtime entry point; the whole program's bound is \(HTML.grouped(fw.stackBoundBytes)) B"
                ))
        }
        guard !rows.isEmpty else { return "" }
        let rowH = 46.0, left = 170.0, width = 1000.0
        let height = 20 + rowH * Double(rows.count)
        var s = "<section id=\"resources\"><h2>Flash, RAM and stack against the budget</h2>"
        s +=
            b == nil
            ? "<p class=\"note\">The config sets no budget: the bars show what the model needs.</p>"
            : "<p class=\"note\">Each bar is scaled to the larger of its use and its budget; the black line is the budget.</p>"
        s +=
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"flash, RAM and stack against the budget\">"
        let barW = width - left - 240
        var table: [[String]] = []
        for (i, row) in rows.enumerated() {
            let (name, parts, budget, note) = row
            let used = parts.reduce(0) { $0 + $1.1 }
            let scale = Double(max(used, budget ?? 0, 1)) * 1.05
            let y = 10 + Double(i) * rowH
            s +=
                "<text x=\"\(HTML.f(left - 10))\" y=\"\(HTML.f(y + 12))\" text-anchor=\"end\" dominant-baseline=\"middle\" font-weight=\"600\">\(HTML.esc(name))</text>"
            s += "<rect x=\"\(HTML.f(left))\" y=\"\(HTML.f(y))\" width=\"\(HTML.f(barW))\" height=\"24\" fill=\"#f1f3f6\"/>"
            var x = left
            for (label, bytes, color) in parts where bytes > 0 {
                let w = Double(bytes) / scale * barW
                s +=
                    "<rect class=\"bar\" x=\"\(HTML.f(x))\" y=\"\(HTML.f(y))\" width=\"\(HTML.f(max(w, 1)))\" height=\"24\" fill=\"\(color)\"><title>\(HTML.esc("\(label): \(HTML.grouped(bytes)) B"))</title></rect>"
                x += w
            }
            if let budget {
                let bx = left + Double(budget) / scale * barW
                s +=
                    "<line x1=\"\(HTML.f(bx))\" x2=\"\(HTML.f(bx))\" y1=\"\(HTML.f(y - 4))\" y2=\"\(HTML.f(y + 28))\" stroke=\"#000\" stroke-width=\"2\"><title>budget: \(HTML.grouped(budget)) B</title></line>"
            }
            let share =
                budget.map { String(format: " of %@ B (%.0f%%)", HTML.grouped($0), Double(used) / Double(max($0, 1)) * 100) }
                ?? ""
            s +=
                "<text x=\"\(HTML.f(left + barW + 10))\" y=\"\(HTML.f(y + 12))\" dominant-baseline=\"middle\">\(HTML.grouped(used)) B\(share)</text>"
            s +=
                "<text class=\"label\" x=\"\(HTML.f(left))\" y=\"\(HTML.f(y + 37))\" dominant-baseline=\"middle\">\(HTML.esc(parts.filter { $0.1 > 0 }.map { "\($0.0) \(HTML.grouped($0.1))" }.joined(separator: " + ")))</text>"
            table.append([
                HTML.esc(name), HTML.grouped(used), budget.map(HTML.grouped) ?? "—",
                budget.map { String(format: "%.1f%%", Double(used) / Double(max($0, 1)) * 100) } ?? "—", HTML.esc(note),
            ])
        }
        s += "</svg>"
        s += HTML.legend([("budget", "#000", false)])
        s +=
            "<div class=\"scroll\">" + HTML.table(["", "used (B)", "budget (B)", "share", "what"], table, text: [0, 4]) + "</div>"
        return s + "</section>"
    }

    // MARK: 7. Distillation search

    static func search(_ sr: SearchReport, chosen: DistillSetting) -> String {
        var settings: [DistillSetting] = []
        for t in sr.trials {
            let k = DistillSetting(temperature: t.temperature, alpha: t.alpha)
            if !settings.contains(k) { settings.append(k) }
        }
        func label(_ k: DistillSetting) -> String { "T=\(fmtNumber(k.temperature)), α=\(fmtNumber(k.alpha))" }
        let series = settings.enumerated().map { i, k in
            Series(
                name: label(k) + (k == chosen ? " (chosen)" : ""),
                color: k == chosen ? "#000" : HTML.palette[i % HTML.palette.count],
                width: k == chosen ? 3.5 : 1.8,
                points: sr.trials.filter { $0.temperature == k.temperature && $0.alpha == k.alpha }.map {
                    (Double($0.round), $0.validationAccuracy)
                })
        }
        var s = "<section id=\"search\"><h2>Distillation search</h2>"
        s +=
            "<p class=\"note\">Successive halving over temperature T and hard-label weight α: every setting trains briefly in round 1, the best go on with more epochs. \(sr.trials.count) runs, \(HTML.grouped(sr.usedEpochs)) student epochs, \(String(format: "%.1f", sr.seconds)) s\(sr.cut.map { "; " + HTML.esc($0) } ?? ""). Chosen: <b>\(HTML.esc(label(chosen)))</b>.</p>"
        s += HTML.legend(series.map { ($0.name, $0.color, false) })
        s += lineChart(
            series, label: "validation accuracy of each setting by round", xLabel: "round", yLabel: "validation accuracy (%)",
            width: 1000, height: 320, yFormat: { String(format: "%.4g", $0 * 100) })
        let rows = sr.trials.map { t in
            [
                String(t.round), fmtNumber(t.temperature), fmtNumber(t.alpha), String(t.epochs), HTML.pct(t.validationAccuracy),
                String(format: "%.4f", t.validationLoss), String(format: "%.1f", t.seconds), t.kept ? "yes" : "",
            ]
        }
        s +=
            "<details><summary>Every run</summary>"
            + HTML.table(["round", "T", "α", "epochs", "val acc", "val loss", "s", "kept"], rows) + "</details>"
        return s + "</section>"
    }

    // MARK: 8. Student search

    /// The candidates of a `student.search`: accuracy against predicted flash, the Pareto front
    /// joined, the chosen student ringed; and the table of every candidate.
    static func studentSearch(_ sr: StudentSearchReport) -> String {
        let front = Set(sr.pareto)
        func acc(_ c: SearchCandidate) -> Double? { c.int8TestAccuracy ?? c.last?.testAccuracy }
        let points: [ScatterPoint] = sr.candidates.indices.compactMap { i in
            let c = sr.candidates[i]
            guard c.excluded == nil, let a = acc(c) else { return nil }
            let kind: ScatterPoint.Kind = i == sr.chosen ? .chosen : front.contains(i) ? .front : .other
            return ScatterPoint(
                x: Double(c.predicted.flashBytes), y: a * 100,
                label: "\(c.name): \(c.predicted.flashBytes) B flash, \(c.predicted.ramBytes) B RAM, "
                    + (c.int8TestAccuracy != nil ? "int8" : "float") + " test \(HTML.pct(a)) after \(c.last?.epochs ?? 0) epochs"
                    + (i == sr.chosen ? " (chosen)" : ""),
                kind: kind)
        }
        let fit = sr.fitting.count
        var s = "<section id=\"student-search\"><h2>Student search</h2>"
        let budget = [
            sr.flashBudgetBytes.map { "flash " + HTML.bytes($0) }, sr.ramBudgetBytes.map { "RAM " + HTML.bytes($0) },
            sr.instructionBudget.map { HTML.grouped($0) + " instructions" },
        ].compactMap { $0 }.joined(separator: ", ")
        let chosen = sr.chosen.map { sr.candidates[$0].name } ?? "none yet"
        s +=
            "<p class=\"note\">\(sr.candidates.count) \(HTML.esc(sr.family.rawValue)) students enumerated, \(fit) fit the budget (\(budget.isEmpty ? "none" : budget)) by their predicted flash and RAM, computed before training. Successive halving: "
            + sr.rounds.map { "\($0.settings) × \($0.epochs) epochs" }.joined(separator: ", then ")
            + String(format: "; %.1f s measured (planned %.1f s)", sr.seconds, sr.plannedSeconds)
            + (sr.resumedRuns > 0 ? ", \(sr.resumedRuns) runs resumed" : "")
            + ". Accuracy: int8 on the test split for the finalists, float for the others (their longest run). Chosen: <b>\(HTML.esc(chosen))</b>.</p>"
        s += HTML.legend([
            ("Pareto front", "#1f77b4", false), ("chosen", "#d62728", false), ("other candidates", "#7f7f7f", true),
        ])
        s += scatterChart(
            points, label: "test accuracy against predicted flash for every candidate that fits",
            xLabel: "flash (bytes, predicted)",
            yLabel: "test accuracy (%)", yFormat: { String(format: "%.4g", $0) })
        let rows: [[String]] = sr.candidates.indices.map { i in
            let c = sr.candidates[i]
            let mark = i == sr.chosen ? " <b>(chosen)</b>" : front.contains(i) ? " (front)" : ""
            return [
                HTML.esc(c.name) + mark, HTML.grouped(c.params),
                HTML.grouped(c.predicted.flashBytes) + (c.predicted.flashExact ? "" : " ≤"),
                c.measured.map { HTML.grouped($0.flashBytes) } ?? "", HTML.grouped(c.predicted.ramBytes),
                c.measured.map { HTML.grouped($0.ramBytes) } ?? "", HTML.pct(c.last?.validationAccuracy),
                HTML.pct(c.last?.testAccuracy), HTML.pct(c.int8TestAccuracy), c.last.map { String($0.epochs) } ?? "",
                c.runs.isEmpty ? "" : String(format: "%.1f", c.trainSeconds),
                HTML.esc(c.excluded.map { "over budget: " + $0 } ?? ""),
            ]
        }
        s +=
            "<details><summary>Every candidate</summary><div class=\"scroll\">"
            + HTML.table(
                [
                    "candidate", "params", "flash pred.", "flash meas.", "RAM pred.", "RAM meas.", "val acc", "test acc (float)",
                    "int8 test",
                    "epochs", "train s", "",
                ], rows, text: [0, 11]) + "</div></details>"
        return s + "</section>"
    }
}
