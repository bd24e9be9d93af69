import Foundation

/// How a CSV file's label column is read.
public enum CSVLabels: Sendable, Equatable {
    /// Integer class ids, or class names (strings): the file decides (the training data).
    case any
    /// Integer class ids only (the training data has integer labels).
    case integers
    /// Class names only, each one of these; a name's id is its position (the training data's names).
    case names([String])
}

/// Reads a CSV file (raw or gzip) of numeric features and a label per line.
///
/// - `labelColumn`: the label's 0-based column; negative counts from the end (−1 = last);
///   `nil` when the file has no label column (labels are then −1).
/// - `header`: the first line holds column names and is skipped.
/// - `sampleShape`: the per-sample shape; its element count must equal the number of features.
/// - `labels`: with `.any`, labels are integer class ids in `0..<classes`, or all strings
///   (class names): the sorted unique names get ids 0, 1, … (as scikit-learn's `LabelEncoder`
///   does) and there must be exactly `classes` of them; the result's `classNames` holds them.
///   `.integers` and `.names` make a file (a test or transfer file) follow the training data.
///
/// Empty lines are skipped; `\r\n` line ends are accepted; fields are split at every comma (no
/// quoting). The result's `rows` count data rows from 0 (the header and blank lines are not
/// rows). Errors name the file, the 1-based line and column: ragged rows, non-numeric fields,
/// NaN/Inf features, labels that are neither integers nor names, labels outside `0..<classes`,
/// integers mixed with names, a header row read as data (`header: false`) and a data row taken
/// for a header (`header: true`).
public func readCSVDataset(
    _ path: String, labelColumn: Int? = -1, header: Bool = false, classes: Int,
    sampleShape: [Int]? = nil, name: String = "csv", labels kind: CSVLabels = .any
) throws -> Dataset {
    let bytes = try readDataFile(path)
    func fail(_ line: Int, _ col: Int?, _ m: String) -> KDCError {
        .data(file: path, message: "line \(line)" + (col.map { ", column \($0)" } ?? "") + ": " + m)
    }
    func text(_ f: ArraySlice<UInt8>) -> String {
        String(decoding: f, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
    let nameIDs: [String: Int32]
    if case let .names(names) = kind {
        nameIDs = Dictionary(names.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
    } else {
        nameIDs = [:]
    }
    var x: [Float] = []
    var y: [Int32] = []
    var rowNames: [String] = []  // the string labels in row order (`.any` with names)
    var firstLabel: (line: Int, text: String, isName: Bool)? = nil
    var headerFields: [String]? = nil
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
        if lineNo == 1 && header {
            headerFields = line.split(separator: 0x2C, omittingEmptySubsequences: false).map(text)
            continue
        }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false)
        if width == nil {
            width = fields.count
            if let lc = labelColumn {
                labelIndex = lc < 0 ? fields.count + lc : lc
                guard labelIndex >= 0 && labelIndex < fields.count else {
                    throw fail(
                        lineNo, nil,
                        "label_column \(lc) does not exist in a row of \(fields.count) columns; "
                            + "expected 0...\(fields.count - 1) (from the start) or -\(fields.count)...-1 (from the end)")
                }
                guard fields.count >= 2 else { throw fail(lineNo, nil, "a row needs at least one feature and a label") }
            }
            if !header {
                let features = fields.enumerated().filter { labelColumn == nil || $0.offset != labelIndex }.map {
                    text($0.element)
                }
                if !features.isEmpty && features.allSatisfy({ Float($0) == nil }) {
                    throw fail(
                        lineNo, nil,
                        "the first row looks like a header (" + quotedList(features, max: 4)
                            + ": not numbers); set header: true to skip it")
                }
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
            let text = text(f)
            if labelColumn != nil && c == labelIndex {
                let id = integerLabel(text)
                let isName = id == nil && !text.isEmpty && Double(text) == nil
                guard id != nil || isName else {
                    throw fail(lineNo, c + 1, text.isEmpty ? "the label is empty" : "label '\(text)' is not an integer")
                }
                switch kind {
                case .integers:
                    guard let v = id else {
                        throw fail(
                            lineNo, c + 1,
                            "label '\(text)' is a class name, but the training data has integer labels (class ids); "
                                + "use the same kind of label in every file")
                    }
                    guard v >= 0 && v < classes else {
                        throw fail(lineNo, c + 1, "label \(v) is out of range 0..<\(classes) (data.classes)")
                    }
                    y.append(Int32(v))
                case let .names(names):
                    guard isName else {
                        throw fail(
                            lineNo, c + 1,
                            "label \(text) is an integer, but the training data has class names (\(quotedList(names, max: 4))); "
                                + "use the same kind of label in every file")
                    }
                    guard let v = nameIDs[text] else {
                        throw fail(
                            lineNo, c + 1,
                            "label '\(text)' is not one of the training data's \(names.count) class names (\(quotedList(names, max: 10)))"
                        )
                    }
                    y.append(v)
                case .any:
                    if let first = firstLabel, first.isName != isName {
                        // Only the first row has a name: most likely a header row (of numeric column names).
                        let headerHint = !header && first.isName && y.count == 1
                        throw fail(
                            lineNo, c + 1,
                            "labels mix class names and integers: line \(first.line) has '\(first.text)', line \(lineNo) has '\(text)'; "
                                + "labels must be all integers (class ids) or all strings (class names)"
                                + (headerHint ? "; if line \(first.line) is a header, set header: true" : ""))
                    }
                    if let v = id {
                        guard v >= 0 && v < classes else {
                            throw fail(lineNo, c + 1, "label \(v) is out of range 0..<\(classes) (data.classes)")
                        }
                        y.append(Int32(v))
                    } else {
                        rowNames.append(text)
                        y.append(-1)
                    }
                }
                if firstLabel == nil { firstLabel = (lineNo, text, isName) }
            } else {
                guard let v = Float(text) else { throw fail(lineNo, c + 1, "'\(text)' is not a number") }
                guard v.isFinite else { throw fail(lineNo, c + 1, "feature is \(text); NaN and infinity are not allowed") }
                x.append(v)
            }
        }
        if labelColumn == nil { y.append(-1) }
    }
    guard let w = width else { throw KDCError.data(file: path, message: "no data rows") }
    var classNames: [String]? = nil
    if labelColumn != nil {
        if case let .names(names) = kind { classNames = names }
        if kind == .any, let first = firstLabel, first.isName {
            let names = Set(rowNames).sorted()
            guard names.count == classes else {
                throw KDCError.data(
                    file: path,
                    message:
                        "the labels are class names, \(names.count) distinct (\(quotedList(names, max: 10))), but data.classes is \(classes); "
                        + "names get the ids 0..<\(names.count) in sorted order, so the count must match")
            }
            let ids = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
            y = rowNames.map { ids[$0]! }
            classNames = names
        }
    }
    if let h = headerFields, h.count == w {
        // A header whose every field would be valid data is most likely the first sample.
        let featuresAreNumbers = h.enumerated().allSatisfy { i, t in
            (labelColumn != nil && i == labelIndex) || Float(t).map { $0.isFinite } == true
        }
        var labelFits = true
        if labelColumn != nil {
            let t = h[labelIndex]
            if let names = classNames {
                labelFits = names.contains(t)
            } else {
                labelFits = integerLabel(t).map { $0 >= 0 && $0 < classes } ?? false
            }
        }
        if featuresAreNumbers && labelFits {
            throw fail(
                1, nil,
                "header: true, but line 1 reads as a data row (" + quotedList(h, max: 4)
                    + "), not column names; set header: false (else this sample is dropped), or give the columns names")
        }
    }
    let nf = w - (labelColumn == nil ? 0 : 1)
    return Dataset(
        name: name, sampleShape: sampleShape ?? [nf], x: x, labels: y, numClasses: classes,
        origin: RowOrigin(file: path, fileRows: y.count), classNames: classNames)
}

/// The integer a label field holds (`3`, `3.0`), or nil.
private func integerLabel(_ text: String) -> Int? {
    Int(text) ?? Double(text).flatMap { $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) : nil }
}

/// `'a', 'b', 'c'` — at most `max` items, then `, … (N in all)`.
func quotedList(_ items: [String], max: Int) -> String {
    let shown = items.prefix(max).map { "'\($0)'" }.joined(separator: ", ")
    return items.count > max ? shown + ", … (\(items.count) in all)" : shown
}
