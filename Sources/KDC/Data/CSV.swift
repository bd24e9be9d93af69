import Foundation

/// Reads a CSV file (raw or gzip) of numeric features and an integer label per line.
///
/// - `labelColumn`: the label's 0-based column; negative counts from the end (−1 = last);
///   `nil` when the file has no label column (labels are then −1).
/// - `header`: skip the first line.
/// - `sampleShape`: the per-sample shape; its element count must equal the number of features.
///
/// Empty lines are skipped; `\r\n` line ends are accepted. Errors name the file, the 1-based
/// line and column: ragged rows, non-numeric fields, NaN/Inf features, labels that are not
/// integers or fall outside `0..<classes`.
public func readCSVDataset(
    _ path: String, labelColumn: Int? = -1, header: Bool = false, classes: Int,
    sampleShape: [Int]? = nil, name: String = "csv"
) throws -> Dataset {
    let bytes = try readDataFile(path)
    func fail(_ line: Int, _ col: Int?, _ m: String) -> KDCError {
        .data(file: path, message: "line \(line)" + (col.map { ", column \($0)" } ?? "") + ": " + m)
    }
    var x: [Float] = []
    var y: [Int32] = []
    var width: Int? = nil
    var labelIndex = 0
    var lineNo = 0
    var start = 0
    while start < bytes.count {
        var end = start
        while end < bytes.count && bytes[end] != 0x0A { end += 1 }
        lineNo += 1
        var stop = end
        if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
        let line = bytes[start..<stop]
        start = end + 1
        if lineNo == 1 && header { continue }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false)
        if width == nil {
            width = fields.count
            if let lc = labelColumn {
                labelIndex = lc < 0 ? fields.count + lc : lc
                guard labelIndex >= 0 && labelIndex < fields.count else {
                    throw fail(lineNo, nil, "label column \(lc) does not exist in a row of \(fields.count) columns")
                }
                guard fields.count >= 2 else { throw fail(lineNo, nil, "a row needs at least one feature and a label") }
            }
            if let s = sampleShape {
                let nf = fields.count - (labelColumn == nil ? 0 : 1)
                guard s.reduce(1, *) == nf else {
                    throw fail(lineNo, nil, "\(nf) features per row but data.shape \(s) needs \(s.reduce(1, *))")
                }
            }
        }
        guard fields.count == width else {
            throw fail(lineNo, nil, "ragged row: \(fields.count) columns, the first row has \(width!)")
        }
        for (c, f) in fields.enumerated() {
            let text = String(decoding: f, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if labelColumn != nil && c == labelIndex {
                guard let v = Int(text) ?? Double(text).flatMap({ $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) : nil }) else {
                    throw fail(lineNo, c + 1, "label '\(text)' is not an integer")
                }
                guard v >= 0 && v < classes else {
                    throw fail(lineNo, c + 1, "label \(v) is out of range 0..<\(classes) (data.classes)")
                }
                y.append(Int32(v))
            } else {
                guard let v = Float(text) else { throw fail(lineNo, c + 1, "'\(text)' is not a number") }
                guard v.isFinite else { throw fail(lineNo, c + 1, "feature is \(text); NaN and infinity are not allowed") }
                x.append(v)
            }
        }
        if labelColumn == nil { y.append(-1) }
    }
    guard let w = width else { throw KDCError.data(file: path, message: "no data rows") }
    let nf = w - (labelColumn == nil ? 0 : 1)
    return Dataset(name: name, sampleShape: sampleShape ?? [nf], x: x, labels: y, numClasses: classes)
}
