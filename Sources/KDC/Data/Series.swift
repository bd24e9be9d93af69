import Foundation

/// The windows cut from each recording (`data.window`, docs/DATA.md "Time series").
public struct SeriesWindow: Sendable, Equatable {
    /// Time steps per window (≥ 1): the model's input is `[length, 1, channels]`.
    public var length: Int
    /// Time steps between the starts of consecutive windows (≥ 1; may exceed `length`).
    public var stride: Int
    public init(length: Int, stride: Int) { self.length = length; self.stride = stride }

    /// Start steps of the windows of a recording of `steps` steps: 0, stride, 2·stride, … while
    /// the window fits entirely (a partial window at the end is dropped).
    public func starts(steps: Int) -> [Int] {
        steps < length ? [] : Array(Swift.stride(from: 0, through: steps - length, by: stride))
    }
}

/// The files of a multichannel time-series source.
public enum SeriesFiles: Sendable, Equatable {
    /// `x` float32 or float64 `[N, T, C]` (N recordings of T steps); `y` integer labels `[N]`
    /// (one per recording) or `[N, T]` (one per time step).
    case npy(x: String, y: String)
    /// One row per time step: `channels` numeric columns, an integer label column and a
    /// recording id column (any text); a recording's rows are consecutive, in time order.
    case csv(file: String, labelColumn: Int, recordingColumn: Int, header: Bool)
}

/// A time-series source: its files, the windowing and the channel count (`data.format: series`).
public struct SeriesSource: Sendable, Equatable {
    public var files: SeriesFiles
    public var window: SeriesWindow
    public var channels: Int
    public init(files: SeriesFiles, window: SeriesWindow, channels: Int) {
        self.files = files; self.window = window; self.channels = channels
    }

    /// The per-sample shape the models see: `[window.length, 1, channels]` (NHWC, so the 2-D
    /// kernels run over time with a `(k, 1)` window).
    public var sampleShape: [Int] { [window.length, 1, channels] }
}

/// One recording read from a series file: `steps` time steps of `channels` values.
public struct SeriesRecording: Sendable, Equatable {
    /// The recording's name in messages: its index along the NPY's first axis, or its CSV id.
    public var id: String
    /// `[steps, channels]`, row-major.
    public var values: [Float]
    /// One label for the whole recording, or one per time step.
    public var labels: [Int32]
    /// The file row of each step: the NPY index (the same for every step) or the CSV data row.
    public var rows: [Int]
    public var steps: Int

    public init(id: String, values: [Float], labels: [Int32], rows: [Int], steps: Int) {
        self.id = id; self.values = values; self.labels = labels; self.rows = rows; self.steps = steps
    }

    /// The label of a window ending at step `last`: the recording's label, or the label of that step.
    public func label(endingAt last: Int) -> Int32 { labels.count == 1 ? labels[0] : labels[last] }

    /// The label the recording is stratified by in the splits: its label, or its most frequent
    /// per-step label (the smallest class id on a tie).
    public var majorityLabel: Int32 {
        if labels.count == 1 { return labels[0] }
        var counts: [Int32: Int] = [:]
        for l in labels { counts[l, default: 0] += 1 }
        return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!.key
    }
}

/// What `report.json` (`dataset.series`) and `kdc data` say about a series dataset.
public struct SeriesReport: Codable, Sendable, Equatable {
    public var windowLength: Int
    public var windowStride: Int
    public var channels: Int
    /// How a window is labelled.
    public var windowLabel: String
    public var trainRecordings: Int
    public var validationRecordings: Int
    public var testRecordings: Int
    /// Time steps of the training recordings that are in no window (partial windows at the ends).
    public var trainStepsDropped: Int
    /// The per-channel normalization, computed on the training recordings only.
    public var normalization: SeriesNormalizationReport
}

/// `dataset.series.normalization` in `report.json`.
public struct SeriesNormalizationReport: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    /// A channel whose standard deviation is at most this keeps std 1.
    public var stdFloor: Double
    /// What the statistics were computed on.
    public var computedOn: String
    public var formula: String
}

/// A standard deviation at or below this is a constant channel: it keeps std 1 (docs/DATA.md).
public let seriesStdFloor: Double = 1e-6

/// Per-channel normalization of series recordings for `mode`, always one mean and one std per
/// channel (`channels` of each), computed over every time step of `train` once (before
/// windowing, so overlapping windows do not weigh steps twice):
///
/// - `standard`: mean and population standard deviation (divided by n) per channel, summed in
///   double precision then rounded to float32; a channel with std ≤ `seriesStdFloor` keeps std 1;
/// - `scale`: mean 0, std the largest absolute value over all channels (1 if every value is 0);
/// - `none`: mean 0, std 1; explicit values are repeated per channel when a single one is given.
///
/// This is the normalization recorded with the model as `InputStage.sensor`.
public func seriesNormalization(_ mode: NormalizeConfig, train: [SeriesRecording], channels c: Int) -> Normalization {
    func perChannel(_ n: Normalization) -> Normalization {
        n.mean.count == c
            ? n : Normalization(mean: [Float](repeating: n.mean[0], count: c), std: [Float](repeating: n.std[0], count: c))
    }
    switch mode {
    case .none: return perChannel(.identity)
    case let .explicit(n): return perChannel(n)
    case .scale:
        let m = train.reduce(Float(0)) { acc, r in r.values.reduce(acc) { max($0, abs($1)) } }
        return perChannel(Normalization(mean: [0], std: [m > 0 ? m : 1]))
    case .standard:
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        var n = 0
        for r in train {
            for (i, v) in r.values.enumerated() {
                sum[i % c] += Double(v); sq[i % c] += Double(v) * Double(v)
            }
            n += r.steps
        }
        let count = Double(max(n, 1))
        let mean = sum.map { $0 / count }
        let std = zip(sq, mean).map { s, m -> Float in
            let v = max(s / count - m * m, 0).squareRoot()
            return v > seriesStdFloor ? Float(v) : 1
        }
        return Normalization(mean: mean.map(Float.init), std: std)
    }
}

/// The windows of `recordings` as a dataset of `[length, 1, C]` samples (raw values), in
/// recording order then time order. A window's label is its recording's label, or with
/// per-step labels the label of its last step; its row is the file row of its last step.
/// - Throws: `KDCError.data` naming `file` and the recording when one is shorter than a window.
public func seriesWindows(
    _ recordings: [SeriesRecording], source: SeriesSource, classes: Int, name: String, origin: RowOrigin
) throws -> Dataset {
    let w = source.window, c = source.channels
    try checkRecordingLengths(recordings, window: w, file: origin.file)
    var x: [Float] = [], labels: [Int32] = [], rows: [Int] = []
    for r in recordings {
        for s in w.starts(steps: r.steps) {
            x += r.values[(s * c)..<((s + w.length) * c)]
            labels.append(r.label(endingAt: s + w.length - 1))
            rows.append(r.rows[s + w.length - 1])
        }
    }
    return Dataset(
        name: name, sampleShape: source.sampleShape, x: x, labels: labels, numClasses: classes, rows: rows, origin: origin)
}

/// Throws `KDCError.data` naming `file` and the first recording shorter than one window.
func checkRecordingLengths(_ recordings: [SeriesRecording], window w: SeriesWindow, file: String) throws {
    guard let r = recordings.first(where: { $0.steps < w.length }) else { return }
    throw KDCError.data(
        file: file,
        message:
            "recording \(r.id) has \(r.steps) time steps, fewer than data.window.length \(w.length); "
            + "hint: lower window.length or leave the recording out")
}

/// Reads the recordings of a series source (files under `dir`) and the row origin of its file.
/// - Throws: `KDCError.data` naming the file and the field for every bad input
///   (`readSeriesNPY`, `readSeriesCSV`).
public func readSeriesRecordings(_ s: SeriesSource, dir: String, classes: Int) throws -> (
    recordings: [SeriesRecording], origin: RowOrigin
) {
    switch s.files {
    case let .npy(x, y):
        let xp = resolvePath(x, against: dir)
        let recs = try readSeriesNPY(x: xp, y: resolvePath(y, against: dir), channels: s.channels, classes: classes)
        return (recs, RowOrigin(file: xp, fileRows: recs.count))
    case let .csv(file, lc, rc, header):
        let p = resolvePath(file, against: dir)
        let (recs, rows) = try readSeriesCSV(
            p, labelColumn: lc, recordingColumn: rc, header: header, channels: s.channels, classes: classes)
        return (recs, RowOrigin(file: p, fileRows: rows))
    }
}

/// The windows of every recording of a source, raw (a transfer set or a test file).
func readSeriesDataset(_ s: SeriesSource, dir: String, classes: Int, name: String) throws -> Dataset {
    let (recs, origin) = try readSeriesRecordings(s, dir: dir, classes: classes)
    return try seriesWindows(recs, source: s, classes: classes, name: name, origin: origin)
}

/// Loads a series dataset: reads the recordings, holds out test (unless the config names test
/// files) and validation recordings — whole recordings, stratified by their (majority) label
/// and seeded by `split.seed`, before any windowing, so no recording has windows in two splits —
/// computes the per-channel normalization on the training recordings (`seriesNormalization`),
/// then cuts each split into windows and normalizes them.
public func loadSeriesData(_ config: DataConfig, baseDirectory: String) throws -> DataSplits {
    guard case let .series(src) = config.train else { preconditionFailure("loadSeriesData needs a series source") }
    let dir = resolvePath(config.dir, against: baseDirectory)
    let (all, origin) = try readSeriesRecordings(src, dir: dir, classes: config.classes)
    try checkRecordingLengths(all, window: src.window, file: origin.file)
    let split = config.split, seed = "seed \(split.seed)"
    var trainIdx = Array(all.indices), testRecs: [SeriesRecording]
    var testOrigin = origin
    var trainSelection: [String] = []
    if case let .series(t)? = config.test {
        let r = try readSeriesRecordings(t, dir: dir, classes: config.classes)
        testRecs = r.recordings
        testOrigin = r.origin
        try checkRecordingLengths(testRecs, window: t.window, file: testOrigin.file)
    } else {
        var rng = SeededRNG(seed: split.seed, stream: "split.test")
        let (rest, held) = stratifiedSplit(all.map(\.majorityLabel), fraction: split.test, rng: &rng)
        trainIdx = rest
        testRecs = held.map { all[$0] }
        testOrigin.selection = "(windows) of the \(held.count) recordings of the \(percent(split.test)) test split, \(seed)"
        trainSelection.append("\(percent(split.test)) test")
    }
    var valIdx: [Int] = []
    if split.validation > 0 {
        var rng = SeededRNG(seed: split.seed, stream: "split.validation")
        let (rest, held) = stratifiedSplit(trainIdx.map { all[$0].majorityLabel }, fraction: split.validation, rng: &rng)
        valIdx = held.map { trainIdx[$0] }
        trainIdx = rest.map { trainIdx[$0] }
        trainSelection.append("\(percent(split.validation)) validation")
    }
    let trainRecs = trainIdx.map { all[$0] }, valRecs = valIdx.map { all[$0] }
    guard !trainRecs.isEmpty else {
        throw KDCError.data(
            file: origin.file, message: "no recording is left for training after the split (\(all.count) recordings)")
    }
    guard !testRecs.isEmpty else {
        throw KDCError.data(
            file: origin.file,
            message:
                "the test split holds no recording: \(all.count) recordings, split.test \(split.test) per class "
                + "(a class needs two recordings to give one); hint: add recordings or give test files")
    }
    var trainOrigin = origin, valOrigin = origin
    trainOrigin.selection =
        "(windows) of the \(trainRecs.count) training recordings"
        + (trainSelection.isEmpty
            ? "" : " after the " + trainSelection.joined(separator: " and ") + " split by recording, \(seed)")
    valOrigin.selection =
        split.validation > 0
        ? "(windows) of the \(valRecs.count) recordings of the \(percent(split.validation)) validation split, \(seed)"
        : "(split.validation is 0)"
    let c = src.channels
    let norm = seriesNormalization(config.normalize, train: trainRecs, channels: c)
    var train = try seriesWindows(trainRecs, source: src, classes: config.classes, name: "train", origin: trainOrigin)
    var validation = try seriesWindows(
        valRecs, source: src, classes: config.classes, name: "validation", origin: valOrigin)
    var test = try seriesWindows(testRecs, source: src, classes: config.classes, name: "test", origin: testOrigin)
    norm.apply(to: &train.x, channels: c)
    norm.apply(to: &validation.x, channels: c)
    norm.apply(to: &test.x, channels: c)
    let covered = trainRecs.reduce(0) { acc, r in
        let starts = src.window.starts(steps: r.steps)
        return acc + (starts.last.map { $0 + src.window.length } ?? 0)
    }
    let perStep = all.first.map { $0.labels.count > 1 } ?? false
    let report = SeriesReport(
        windowLength: src.window.length, windowStride: src.window.stride, channels: c,
        windowLabel: perStep
            ? "per-step labels: the label of the window's last time step" : "per-recording labels: the recording's label",
        trainRecordings: trainRecs.count, validationRecordings: valRecs.count, testRecordings: testRecs.count,
        trainStepsDropped: trainRecs.reduce(0) { $0 + $1.steps } - covered,
        normalization: SeriesNormalizationReport(
            mean: norm.mean, std: norm.std, stdFloor: seriesStdFloor,
            computedOn: "every time step of the \(trainRecs.count) training recordings, once each (before windowing)",
            formula: "x_norm = (x - mean[c]) * (1 / std[c]) per channel c, in float32"))
    var splits = DataSplits(train: train, validation: validation, test: test, normalization: norm)
    splits.series = report
    splits.seriesTest = testRecs
    return splits
}

// MARK: Readers

/// Reads series recordings from NPY files: `x` `[N, T, C]` float32 (`<f4`) or float64 (`<f8`,
/// converted to float32), `y` integer (`|u1`, `|i1`, `<i4`, `<i8`) labels `[N]` (or `[N, 1]`),
/// one per recording, or `[N, T]`, one per time step. Recording i is `x[i]`.
/// - Throws: `KDCError.data` naming the file for a wrong rank, a channel count other than
///   `channels` (data.channels), NaN or infinity (with recording, step and channel), labels whose
///   count does not match the recordings or steps, and labels outside `0..<classes`.
public func readSeriesNPY(x xp: String, y yp: String, channels: Int, classes: Int) throws -> [SeriesRecording] {
    let (shape, values) = try readFloatNPY(xp)
    guard shape.count == 3 else {
        throw KDCError.data(
            file: xp,
            message:
                "series must have shape [N, T, C] (recordings, time steps, channels), got \(shape)"
                + (shape.count == 2 ? "; for one channel save x[..., None]" : ""))
    }
    let (n, t, c) = (shape[0], shape[1], shape[2])
    guard n >= 1, t >= 1 else { throw KDCError.data(file: xp, message: "series shape \(shape) holds no time step") }
    guard c == channels else {
        throw KDCError.data(file: xp, message: "series have \(c) channels (shape \(shape)) but data.channels is \(channels)")
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
        throw KDCError.data(
            file: xp,
            message:
                "recording \(bad / (t * c)), step \(bad / c % t), channel \(bad % c) is \(values[bad]); NaN and infinity are not allowed"
        )
    }
    let y = try readNPY(yp)
    guard let ints = y.integers else {
        throw KDCError.data(
            file: yp, message: "labels must be an integer dtype (|u1, |i1, <i4, <i8), found \(y.type.rawValue)")
    }
    let perStep: Bool
    if y.shape == [n] || y.shape == [n, 1] {
        perStep = false
    } else if y.shape == [n, t] {
        perStep = true
    } else {
        throw KDCError.data(
            file: yp,
            message:
                "labels have shape \(y.shape); expected [\(n)] (one per recording) or [\(n), \(t)] (one per time step) "
                + "to match the series \(shape) in \((xp as NSString).lastPathComponent)")
    }
    for (i, v) in ints.enumerated() where v < 0 || v >= Int64(classes) {
        throw KDCError.data(
            file: yp,
            message: "label \(v) at "
                + (perStep ? "recording \(i / t), step \(i % t)" : "recording \(i)")
                + " is out of range 0..<\(classes) (data.classes)")
    }
    return (0..<n).map { i in
        SeriesRecording(
            id: "\(i)", values: Array(values[(i * t * c)..<((i + 1) * t * c)]),
            labels: perStep ? ints[(i * t)..<((i + 1) * t)].map { Int32($0) } : [Int32(ints[i])],
            rows: [Int](repeating: i, count: t), steps: t)
    }
}

/// The shape and values of a float32 or float64 NPY file (float64 rounded to float32).
func readFloatNPY(_ path: String) throws -> (shape: [Int], values: [Float]) {
    let b = try readDataFile(path)
    let h = try NPYHeader.parse(b, path: path)
    if h.fortranOrder {
        throw KDCError.data(
            file: path, message: "Fortran-order arrays are not supported; save with np.save(path, np.ascontiguousarray(x))")
    }
    let size: Int
    switch h.descr {
    case "<f4": size = 4
    case "<f8": size = 8
    default:
        throw KDCError.data(
            file: path,
            message: "series must be float32 (<f4) or float64 (<f8), found '\(h.descr)'"
                + (h.typeName.map { " (\($0))" } ?? "") + "; convert with x.astype(np.float32)")
    }
    let count = h.count, start = h.dataOffset
    guard b.count - start == count * size else {
        throw KDCError.data(
            file: path,
            message: "NPY shape \(h.shape) of \(h.descr) needs \(count * size) data bytes but the file holds \(b.count - start)"
                + (b.count - start < count * size ? " (truncated?)" : ""))
    }
    var values = [Float](repeating: 0, count: count)
    b.withUnsafeBytes { raw in
        for i in 0..<count {
            let o = start + i * size
            values[i] =
                size == 4
                ? Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                : Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
        }
    }
    return (h.shape, values)
}

/// Reads series recordings from a CSV file (raw or gzip): one row per time step, fields split at
/// every comma, `\n` or `\r\n` line ends, blank lines skipped, line 1 skipped with `header`.
/// `labelColumn` and `recordingColumn` are 0-based (negative counts from the end); every other
/// column is a channel, in column order, and there must be `channels` of them. Labels are
/// integer class ids; the recording id is any text. A recording is the run of consecutive rows
/// with the same id, in file order; an id that comes back after another recording is an error.
/// Returns the recordings (labels per time step) and the number of data rows.
/// - Throws: `KDCError.data` naming the file, the 1-based line and column: ragged rows (a
///   channel count that changes), non-numbers, NaN or infinity, labels that are not integers or
///   are outside `0..<classes`, an empty recording id, a recording interrupted by another.
public func readSeriesCSV(
    _ path: String, labelColumn: Int, recordingColumn: Int, header: Bool, channels: Int, classes: Int
) throws -> (recordings: [SeriesRecording], rows: Int) {
    let bytes = try readDataFile(path)
    func fail(_ line: Int, _ col: Int?, _ m: String) -> KDCError {
        .data(file: path, message: "line \(line)" + (col.map { ", column \($0)" } ?? "") + ": " + m)
    }
    var recs: [SeriesRecording] = []
    var seen: [String: Int] = [:]  // id → line of its first row
    var width: Int? = nil
    var (lc, rc) = (0, 0)
    var lineNo = 0, start = 0, row = 0
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
        let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        if width == nil {
            let w = fields.count
            lc = labelColumn < 0 ? w + labelColumn : labelColumn
            rc = recordingColumn < 0 ? w + recordingColumn : recordingColumn
            for (key, v, given) in [("label_column", lc, labelColumn), ("recording_column", rc, recordingColumn)]
            where v < 0 || v >= w {
                throw fail(
                    lineNo, nil,
                    "\(key) \(given) does not exist in a row of \(w) columns; expected 0...\(w - 1) or -\(w)...-1")
            }
            guard lc != rc else {
                throw fail(lineNo, nil, "label_column and recording_column are the same column (\(lc))")
            }
            guard w - 2 == channels else {
                throw fail(
                    lineNo, nil,
                    "\(w - 2) channel columns (every column but label_column and recording_column) but data.channels is \(channels)"
                )
            }
            let chans = fields.indices.filter { $0 != lc && $0 != rc }.map { fields[$0] }
            if !header && chans.allSatisfy({ Float($0) == nil }) {
                throw fail(
                    lineNo, nil,
                    "the first row looks like a header (" + quotedList(chans, max: 4) + ": not numbers); set header: true")
            }
            width = w
        }
        guard fields.count == width else {
            throw fail(
                lineNo, nil,
                "\(fields.count) columns, the first row has \(width!): the channel count must be the same on every row")
        }
        let id = fields[rc]
        guard !id.isEmpty else { throw fail(lineNo, rc + 1, "the recording id is empty") }
        let labelText = fields[lc]
        guard let label = Int(labelText) ?? Double(labelText).flatMap({ $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) : nil })
        else {
            throw fail(
                lineNo, lc + 1,
                labelText.isEmpty ? "the label is empty" : "label '\(labelText)' is not an integer (series labels are class ids)")
        }
        guard label >= 0 && label < classes else {
            throw fail(lineNo, lc + 1, "label \(label) is out of range 0..<\(classes) (data.classes)")
        }
        if recs.last?.id != id {
            if let first = seen[id] {
                throw fail(
                    lineNo, rc + 1,
                    "recording '\(id)' (from line \(first)) continues after recording '\(recs.last!.id)'; "
                        + "a recording's rows must be consecutive, in time order")
            }
            seen[id] = lineNo
            recs.append(SeriesRecording(id: id, values: [], labels: [], rows: [], steps: 0))
        }
        var values: [Float] = []
        for (col, f) in fields.enumerated() where col != lc && col != rc {
            guard let v = Float(f) else { throw fail(lineNo, col + 1, "'\(f)' is not a number") }
            guard v.isFinite else { throw fail(lineNo, col + 1, "value is \(f); NaN and infinity are not allowed") }
            values.append(v)
        }
        recs[recs.count - 1].values += values
        recs[recs.count - 1].labels.append(Int32(label))
        recs[recs.count - 1].rows.append(row)
        recs[recs.count - 1].steps += 1
        row += 1
    }
    guard !recs.isEmpty else { throw KDCError.data(file: path, message: "no data rows") }
    for i in recs.indices { recs[i].id = "'\(recs[i].id)'" }
    return (recs, row)
}
