import Foundation

/// Small SVG drawing helpers for `report.html` (`ReportPage`): escaping, number formats, axes,
/// line charts. Every string that comes from data goes through `esc`.
enum HTML {
    /// `s` safe inside HTML text and attribute values (and SVG `<title>`).
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// 12345 → "12,345".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + String(out.reversed())
    }

    /// "2,676 B" (with "(16.0 KiB)" from 10 KiB).
    static func bytes(_ n: Int) -> String {
        grouped(n) + " B" + (n >= 10 * 1024 ? String(format: " (%.1f KiB)", Double(n) / 1024) : "")
    }

    /// A fraction as "97.50%" ("—" for none).
    static func pct(_ x: Double?) -> String { x.map { String(format: "%.2f%%", $0 * 100) } ?? "—" }

    /// A coordinate with one decimal.
    static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    /// A number for an axis or table: integers without decimals, else up to 4 significant digits.
    static func num(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e9 { return grouped(Int(x)) }
        return String(format: "%.4g", x)
    }

    /// Distinct, readable colours for series (cycled).
    static let palette = [
        "#1f77b4", "#e67e22", "#2ca02c", "#8e44ad", "#d62728", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2", "#8c564b",
    ]

    /// An HTML legend: a swatch and a name per entry (`dashed` draws a dashed swatch).
    static func legend(_ entries: [(name: String, color: String, dashed: Bool)]) -> String {
        "<div class=\"legend\">"
            + entries.map { e in
                "<span><svg width=\"22\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" y1=\"5\" x2=\"21\" y2=\"5\" stroke=\"\(e.color)\" stroke-width=\"3\""
                    + (e.dashed ? " stroke-dasharray=\"4 3\"" : "") + "/></svg>\(esc(e.name))</span>"
            }.joined() + "</div>"
    }

    /// A table: header cells, then rows (cells already escaped HTML); the columns in `text` are
    /// left-aligned text, the others right-aligned numbers.
    static func table(_ header: [String], _ rows: [[String]], text: Set<Int> = [0]) -> String {
        func cls(_ i: Int) -> String { text.contains(i) ? " class=\"l\"" : "" }
        var s =
            "<table><thead><tr>" + header.enumerated().map { "<th\(cls($0.offset))>\(esc($0.element))</th>" }.joined()
            + "</tr></thead><tbody>"
        for r in rows { s += "<tr>" + r.enumerated().map { "<td\(cls($0.offset))>\($0.element)</td>" }.joined() + "</tr>" }
        return s + "</tbody></table>"
    }
}

/// Axis ticks at 1, 2, 2.5 or 5 × a power of ten, covering [lo, hi].
func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
    guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
    let raw = (hi - lo) / Double(max(count, 1))
    let mag = pow(10, floor(log10(raw)))
    let step = [1, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
    var out: [Double] = []
    var t = (lo / step).rounded(.down) * step
    while t <= hi + step * 1e-9 {
        if t >= lo - step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t) }
        t += step
    }
    return out
}

/// A plotting area inside an SVG: data coordinates to pixels, and the axes.
struct Plot {
    var width: Double, height: Double
    var left = 70.0, right = 16.0, top = 14.0, bottom = 46.0
    var x0: Double, x1: Double, y0: Double, y1: Double

    init(width: Double, height: Double, x: (Double, Double), y: (Double, Double)) {
        self.width = width; self.height = height
        (x0, x1) = x.0 < x.1 ? x : (x.0 - 0.5, x.0 + 0.5)
        (y0, y1) = y.0 < y.1 ? y : (y.0 - 0.5, y.0 + 0.5)
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }
    func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
    func py(_ y: Double) -> Double { top + plotHeight - (y - y0) / (y1 - y0) * plotHeight }

    /// `<svg>` opening tag with a description for screen readers.
    func open(_ label: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(HTML.esc(label))\">"
    }

    /// Grid lines, tick labels and axis titles.
    func axes(
        xTicks: [Double], yTicks: [Double], xLabel: String, yLabel: String, xFormat: (Double) -> String = HTML.num,
        yFormat: (Double) -> String = HTML.num
    ) -> String {
        var s = "<g class=\"axes\">"
        for t in yTicks {
            let y = HTML.f(py(t))
            s += "<line class=\"grid\" x1=\"\(HTML.f(left))\" x2=\"\(HTML.f(left + plotWidth))\" y1=\"\(y)\" y2=\"\(y)\"/>"
            s +=
                "<text x=\"\(HTML.f(left - 6))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(HTML.esc(yFormat(t)))</text>"
        }
        for t in xTicks {
            let x = HTML.f(px(t))
            s +=
                "<line class=\"tick\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(HTML.f(top + plotHeight))\" y2=\"\(HTML.f(top + plotHeight + 4))\"/>"
            s += "<text x=\"\(x)\" y=\"\(HTML.f(top + plotHeight + 17))\" text-anchor=\"middle\">\(HTML.esc(xFormat(t)))</text>"
        }
        s +=
            "<rect class=\"frame\" x=\"\(HTML.f(left))\" y=\"\(HTML.f(top))\" width=\"\(HTML.f(plotWidth))\" height=\"\(HTML.f(plotHeight))\"/>"
        s +=
            "<text class=\"label\" x=\"\(HTML.f(left + plotWidth / 2))\" y=\"\(HTML.f(height - 6))\" text-anchor=\"middle\">\(HTML.esc(xLabel))</text>"
        let cy = top + plotHeight / 2
        s +=
            "<text class=\"label\" x=\"14\" y=\"\(HTML.f(cy))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(HTML.f(cy)))\">\(HTML.esc(yLabel))</text>"
        return s + "</g>"
    }
}

/// One line of a line chart.
struct Series {
    var name: String
    var color: String
    var dashed = false
    var width = 2.0
    var points: [(x: Double, y: Double)]
}

/// A line chart of `series` over a shared x axis. Hovering a column (one x value) shows every
/// series' value there (`<title>`); with few points each point has a marker.
func lineChart(
    _ series: [Series], label: String, xLabel: String, yLabel: String, width: Double = 520, height: Double = 300,
    yRange: (Double, Double)? = nil, yFormat: @escaping (Double) -> String = HTML.num,
    xFormat: @escaping (Double) -> String = HTML.num, integerX: Bool = true
) -> String {
    let xs = Set(series.flatMap { $0.points.map(\.x) }).sorted()
    let ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
    guard let xMin = xs.first, let xMax = xs.last, let yMin = ys.min(), let yMax = ys.max() else { return "" }
    var yt = niceTicks(yRange?.0 ?? yMin, yRange?.1 ?? yMax)
    if let r = yRange {
        yt = niceTicks(r.0, r.1)
    } else if let a = yt.first, let b = yt.last, yt.count > 1 {
        // Extend to whole ticks around the data.
        let step = yt[1] - yt[0]
        yt = niceTicks(min(a, (yMin / step).rounded(.down) * step), max(b, (yMax / step).rounded(.up) * step))
    }
    // Whole ticks below and above every point (a given range may cut between two ticks).
    if yt.count > 1 {
        let step = yt[1] - yt[0]
        if let first = yt.first, first > min(yMin, yRange?.0 ?? yMin) + step * 1e-9 { yt.insert(first - step, at: 0) }
        if let last = yt.last, last < yMax - step * 1e-9 { yt.append(last + step) }
    }
    let plot = Plot(
        width: width, height: height, x: (xMin, xMax), y: (yt.first ?? yMin, max(yt.last ?? yMax, yMax)))
    var xt = niceTicks(xMin, xMax, count: 6)
    if integerX { xt = xt.filter { $0 == $0.rounded() } }
    if xs.count == 1 { xt = xs }
    var s =
        plot.open(label) + plot.axes(xTicks: xt, yTicks: yt, xLabel: xLabel, yLabel: yLabel, xFormat: xFormat, yFormat: yFormat)
    for sr in series where !sr.points.isEmpty {
        let pts = sr.points.filter { $0.y.isFinite }.map { "\(HTML.f(plot.px($0.x))),\(HTML.f(plot.py($0.y)))" }
        s += "<polyline fill=\"none\" stroke=\"\(sr.color)\" stroke-width=\"\(sr.width)\""
        s += sr.dashed ? " stroke-dasharray=\"5 4\"" : ""
        s += " points=\"\(pts.joined(separator: " "))\"><title>\(HTML.esc(sr.name))</title></polyline>"
        if sr.points.count <= 40 {
            for p in sr.points where p.y.isFinite {
                s +=
                    "<circle cx=\"\(HTML.f(plot.px(p.x)))\" cy=\"\(HTML.f(plot.py(p.y)))\" r=\"3\" fill=\"\(sr.color)\"/>"
            }
        }
    }
    // Hover columns: every series' value at each x.
    for (i, x) in xs.enumerated() {
        let lo = i == 0 ? plot.left : (plot.px(xs[i - 1]) + plot.px(x)) / 2
        let hi = i == xs.count - 1 ? plot.left + plot.plotWidth : (plot.px(x) + plot.px(xs[i + 1])) / 2
        var tip = "\(xLabel) \(xFormat(x))"
        for sr in series {
            if let p = sr.points.first(where: { $0.x == x }) { tip += "\n\(sr.name): \(yFormat(p.y))" }
        }
        s +=
            "<rect class=\"hover\" x=\"\(HTML.f(lo))\" y=\"\(HTML.f(plot.top))\" width=\"\(HTML.f(max(hi - lo, 0.5)))\" height=\"\(HTML.f(plot.plotHeight))\"><title>\(HTML.esc(tip))</title></rect>"
    }
    return s + "</svg>"
}

/// One point of a scatter chart.
struct ScatterPoint {
    var x: Double, y: Double
    var label: String
    /// `chosen` (ringed, black), `front` (filled), `other` (hollow).
    var kind: Kind
    enum Kind { case chosen, front, other }
}

/// A scatter chart of `points` with the front (`kind != .other`, sorted by x) joined as a step
/// line; each point's `<title>` is its label.
func scatterChart(
    _ points: [ScatterPoint], label: String, xLabel: String, yLabel: String, width: Double = 1000, height: Double = 340,
    yFormat: @escaping (Double) -> String = HTML.num
) -> String {
    let xs = points.map(\.x), ys = points.map(\.y)
    guard let xMin = xs.min(), let xMax = xs.max(), let yMin = ys.min(), let yMax = ys.max() else { return "" }
    // Whole ticks around every point.
    func cover(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
        let t = niceTicks(lo, hi, count: count)
        guard t.count > 1 else { return t }
        let step = t[1] - t[0]
        return niceTicks((lo / step).rounded(.down) * step, (hi / step).rounded(.up) * step, count: count)
    }
    let yt = cover(yMin, yMax, count: 5)
    let xt = cover(min(0, xMin), xMax, count: 6)
    let plot = Plot(
        width: width, height: height, x: (xt.first ?? xMin, max(xt.last ?? xMax, xMax)),
        y: (min(yt.first ?? yMin, yMin), max(yt.last ?? yMax, yMax)))
    var s = plot.open(label) + plot.axes(xTicks: xt, yTicks: yt, xLabel: xLabel, yLabel: yLabel, yFormat: yFormat)
    let front = points.filter { $0.kind != .other }.sorted { $0.x < $1.x }
    if front.count > 1 {
        var pts: [String] = []
        for (i, p) in front.enumerated() {
            if i > 0 { pts.append("\(HTML.f(plot.px(p.x))),\(HTML.f(plot.py(front[i - 1].y)))") }
            pts.append("\(HTML.f(plot.px(p.x))),\(HTML.f(plot.py(p.y)))")
        }
        s +=
            "<polyline class=\"front\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(pts.joined(separator: " "))\"/>"
    }
    for p in points.sorted(by: { ($0.kind == .chosen ? 1 : 0) < ($1.kind == .chosen ? 1 : 0) }) {
        let (cx, cy) = (HTML.f(plot.px(p.x)), HTML.f(plot.py(p.y)))
        switch p.kind {
        case .other:
            s += "<circle class=\"cand\" cx=\"\(cx)\" cy=\"\(cy)\" r=\"4\" fill=\"#fff\" stroke=\"#7f7f7f\" stroke-width=\"1.5\">"
        case .front:
            s += "<circle class=\"cand front\" cx=\"\(cx)\" cy=\"\(cy)\" r=\"5\" fill=\"#1f77b4\">"
        case .chosen:
            s +=
                "<circle class=\"cand chosen\" cx=\"\(cx)\" cy=\"\(cy)\" r=\"8\" fill=\"#d62728\" stroke=\"#000\" stroke-width=\"2\">"
        }
        s += "<title>\(HTML.esc(p.label))</title></circle>"
    }
    return s + "</svg>"
}
