import Foundation

/// The three splits of a dataset, normalized, and the normalization that was applied
/// (computed on the training split only; the device must apply the same).
///
/// Each split carries its samples' rows in the files they came from (`Dataset.rows`, indices
/// into `Dataset.origin.file`): train and validation index the training file, test the test
/// file (or the training file when the test split was held out of it).
public struct DataSplits: Sendable {
    public var train: Dataset
    public var validation: Dataset
    public var test: Dataset
    public var normalization: Normalization
    /// Windowing, recordings per split and normalization of a time-series dataset, else nil.
    public var series: SeriesReport? = nil
    /// The test recordings of a time-series dataset, raw (before normalization), in the test
    /// split's order: what the firmware's sensor check streams. Nil otherwise.
    public var seriesTest: [SeriesRecording]? = nil
    public init(train: Dataset, validation: Dataset, test: Dataset, normalization: Normalization) {
        self.train = train; self.validation = validation; self.test = test; self.normalization = normalization
    }

    /// Class names by id when the training labels were strings, else nil.
    public var classNames: [String]? { train.classNames }

    /// What the device applies before the model: the per-channel sensor normalization for a
    /// time-series dataset (recorded on the exported graph), else nil.
    public var inputStage: InputStage? {
        series == nil ? nil : .sensor(SensorNormalization(mean: normalization.mean, std: normalization.std))
    }
}

/// Loads the data `config` describes (files under `config.dir`, resolved against `baseDirectory`
/// when relative) and splits it:
///
/// - test: the files' own test split, or, when there is none, a stratified fraction
///   `split.test` of the samples drawn with `split.seed`;
/// - validation: a stratified fraction `split.validation` of the remaining training samples,
///   also drawn with `split.seed` (never the training seed, so `--seed` does not move samples
///   between splits). Validation is empty when the fraction is 0.
///
/// Split members keep the files' order, and each keeps its row in its file (`Dataset.rows`).
/// Normalization is computed on the training split and applied to all three. A CSV test file
/// must use the training file's kind of label (integers, or names among the training names).
/// Throws `KDCError.data` naming the offending file.
///
/// Format `audio` (a folder of recordings) goes through `loadRecordings` with the front end of
/// `frontend`, which it then needs.
public func loadData(_ config: DataConfig, baseDirectory: String, frontend: AudioFrontEndConfig? = nil) throws -> DataSplits {
    if case .audio = config.train {
        guard let frontend else {
            throw KDCError.config(file: config.dir, key: "frontend", message: "data.format audio needs a frontend: section")
        }
        return try loadRecordings(config, frontEnd: try AudioFrontEnd(frontend), configFile: config.dir)
    }
    if case .series = config.train { return try loadSeriesData(config, baseDirectory: baseDirectory) }
    let dir = resolvePath(config.dir, against: baseDirectory)
    let all = try readSource(config.train, dir: dir, shape: config.shape, classes: config.classes, name: "train")
    if let file = sourceFiles(config.train, dir: dir).first, !all.isLabelled {
        throw KDCError.data(file: file, message: "the training data needs labels")
    }
    let split = config.split
    let seed = "seed \(split.seed)"
    var train = all, test: Dataset
    var trainSelection: [String] = []
    if let t = config.test {
        test = try readSource(
            t, dir: dir, shape: config.shape, classes: config.classes, name: "test",
            labels: all.classNames.map { .names($0) } ?? .integers)
    } else {
        var rng = SeededRNG(seed: split.seed, stream: "split.test")
        let (rest, held) = stratifiedSplit(all.labels, fraction: split.test, rng: &rng)
        train = all.subset(rest, name: "train")
        test = all.subset(held, name: "test")
        test.origin?.selection = "of the \(percent(split.test)) test split, \(seed)"
        trainSelection.append("\(percent(split.test)) test")
    }
    var validation = train.subset([], name: "validation")
    validation.origin?.selection = "(split.validation is 0)"
    if split.validation > 0 {
        var rng = SeededRNG(seed: split.seed, stream: "split.validation")
        let (rest, held) = stratifiedSplit(train.labels, fraction: split.validation, rng: &rng)
        validation = train.subset(held, name: "validation")
        train = train.subset(rest, name: "train")
        validation.origin?.selection =
            "of the \(percent(split.validation)) validation split"
            + (config.test == nil ? " (taken after the \(percent(split.test)) test split)" : "") + ", \(seed)"
        trainSelection.append("\(percent(split.validation)) validation")
    }
    if !trainSelection.isEmpty {
        train.origin?.selection = "after the " + trainSelection.joined(separator: " and ") + " split, \(seed)"
    }
    let norm = computeNormalization(config.normalize, train: train)
    let channels = config.shape.last!
    norm.apply(to: &train.x, channels: channels)
    norm.apply(to: &validation.x, channels: channels)
    norm.apply(to: &test.x, channels: channels)
    return DataSplits(train: train, validation: validation, test: test, normalization: norm)
}

/// A fraction as a percentage: 0.2 → "20%".
func percent(_ f: Double) -> String { String(format: "%g%%", f * 100) }

/// Loads a separate transfer set for distillation with `like`'s sample shape and classes
/// (files under `like.dir`), normalized with `normalization` (the training split's). Labels
/// are −1 where the source has none; CSV labels must be of the training data's kind
/// (`classNames`: its class names, nil for integer labels). Its rows are every row of its file.
public func loadTransfer(
    _ source: DataSourceConfig, like: DataConfig, normalization: Normalization,
    baseDirectory: String, classNames: [String]? = nil
) throws -> Dataset {
    let dir = resolvePath(like.dir, against: baseDirectory)
    var d = try readSource(
        source, dir: dir, shape: like.shape, classes: like.classes, name: "transfer",
        labels: classNames.map { .names($0) } ?? .integers)
    normalization.apply(to: &d.x, channels: like.shape.last!)
    return d
}

/// The normalization `mode` gives for `train` (per-channel over the last axis for `.standard`).
public func computeNormalization(_ mode: NormalizeConfig, train: Dataset) -> Normalization {
    switch mode {
    case .none: return .identity
    case let .explicit(n): return n
    case .scale:
        let m = train.x.reduce(Float(0)) { max($0, abs($1)) }
        return Normalization(mean: [0], std: [m > 0 ? m : 1])
    case .standard:
        let c = train.sampleShape.last ?? 1
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        for (i, v) in train.x.enumerated() { sum[i % c] += Double(v); sq[i % c] += Double(v) * Double(v) }
        let n = Double(max(train.x.count / c, 1))
        let mean = sum.map { $0 / n }
        // A constant channel (e.g. an always-blank pixel) keeps std 1 rather than dividing by 0.
        let std = zip(sq, mean).map { s, m -> Float in
            let v = (max(s / n - m * m, 0)).squareRoot()
            return v > 1e-6 ? Float(v) : 1
        }
        return Normalization(mean: mean.map(Float.init), std: std)
    }
}

/// Splits indices `0..<labels.count` so that each class contributes round(fraction·n_c)
/// samples to `held` (at least one when the class has two or more). Both lists are sorted.
func stratifiedSplit(_ labels: [Int32], fraction: Double, rng: inout SeededRNG) -> (rest: [Int], held: [Int]) {
    var byClass: [Int32: [Int]] = [:]
    for (i, y) in labels.enumerated() { byClass[y, default: []].append(i) }
    var held: [Int] = []
    for y in byClass.keys.sorted() {
        let idx = byClass[y]!
        var k = Int((Double(idx.count) * fraction).rounded())
        if k == 0 && idx.count >= 2 && fraction > 0 { k = 1 }
        k = min(k, idx.count >= 2 ? idx.count - 1 : 0)
        let perm = rng.permutation(idx.count)
        held += perm.prefix(k).map { idx[$0] }
    }
    held.sort()
    let heldSet = Set(held)
    return ((0..<labels.count).filter { !heldSet.contains($0) }, held)
}

/// The files a source reads, resolved against `dir`.
func sourceFiles(_ s: DataSourceConfig, dir: String) -> [String] {
    switch s {
    case let .csv(file, _, _): return [resolvePath(file, against: dir)]
    case let .idx(images, labels): return [images, labels].compactMap { $0.map { resolvePath($0, against: dir) } }
    case let .npy(x, y): return [x, y].compactMap { $0.map { resolvePath($0, against: dir) } }
    case let .series(s):
        switch s.files {
        case let .npy(x, y): return [x, y].map { resolvePath($0, against: dir) }
        case let .csv(file, _, _, _): return [resolvePath(file, against: dir)]
        }
    case .audio: return [dir]
    }
}

/// Reads one source into a `Dataset` of `shape` samples (raw values, not normalized).
/// `labels` applies to CSV files (IDX and NPY labels are always integers).
func readSource(
    _ s: DataSourceConfig, dir: String, shape: [Int], classes: Int, name: String, labels: CSVLabels = .any
) throws -> Dataset {
    switch s {
    case let .series(src):
        return try readSeriesDataset(src, dir: dir, classes: classes, name: name)
    case let .csv(file, labelColumn, header):
        return try readCSVDataset(
            resolvePath(file, against: dir), labelColumn: labelColumn, header: header,
            classes: classes, sampleShape: shape, name: name, labels: labels)
    case let .idx(images, labels):
        return try readIDXDataset(
            images: resolvePath(images, against: dir), labels: labels.map { resolvePath($0, against: dir) },
            classes: classes, sampleShape: shape, name: name)
    case let .npy(xPath, yPath):
        let xp = resolvePath(xPath, against: dir)
        let x = try readNPY(xp)
        guard x.shape.count >= 1 else {
            throw KDCError.data(file: xp, message: "features must have shape [N, ...], got a scalar")
        }
        let n = x.shape[0]
        let per = Array(x.shape.dropFirst())
        try checkChannelLast(per, shape: shape, file: xp)
        guard per.reduce(1, *) == shape.reduce(1, *) else {
            throw KDCError.data(file: xp, message: "samples have shape \(per) but data.shape is \(shape)")
        }
        guard x.values.allSatisfy({ $0.isFinite }) else {
            throw KDCError.data(file: xp, message: "features contain NaN or infinity")
        }
        var labels = [Int32](repeating: -1, count: n)
        if let yPath {
            let yp = resolvePath(yPath, against: dir)
            let y = try readNPY(yp)
            guard let ints = y.integers else {
                throw KDCError.data(
                    file: yp, message: "labels must be an integer dtype (|u1, <i4, <i8), found \(y.type.rawValue)")
            }
            guard y.shape == [n] || y.shape == [n, 1] else {
                throw KDCError.data(
                    file: yp, message: "labels have shape \(y.shape); expected [\(n)] to match \(n) samples in \(xp)")
            }
            for (i, v) in ints.enumerated() {
                guard v >= 0 && v < Int64(classes) else {
                    throw KDCError.data(
                        file: yp, message: "label \(v) at index \(i) is out of range 0..<\(classes) (data.classes)")
                }
                labels[i] = Int32(v)
            }
        }
        return Dataset(
            name: name, sampleShape: shape, x: x.values, labels: labels, numClasses: classes,
            origin: RowOrigin(file: xp, fileRows: n))
    case .audio:
        // Recordings go through `loadRecordings` (they need the front end); the decoder allows
        // them nowhere else (e.g. not as `distill.transfer`).
        throw KDCError.data(file: dir, message: "recordings are read only as the data: section's source (format audio)")
    }
}

/// Throws when samples stored with dimensions `stored` are `shape` ([H, W, C]) channel-first:
/// `stored` is `[C, H, W]` and not `[H, W, C]`. Other element-count-preserving shapes (flat
/// features, `[H, W]` for one channel) are read in row-major order as before.
func checkChannelLast(_ stored: [Int], shape: [Int], file: String) throws {
    guard shape.count == 3, stored.count == 3 else { return }
    let (h, w, c) = (shape[0], shape[1], shape[2])
    guard stored == [c, h, w], stored != shape else { return }
    throw KDCError.data(
        file: file,
        message:
            "samples have shape \(stored) but data.shape is \(shape) (channel-last [H, W, C]); the array looks channel-first "
            + "[N, C, H, W] (as PyTorch stores images); transpose it to [N, H, W, C]: np.save(path, np.ascontiguousarray(x.transpose(0, 2, 3, 1)))"
    )
}
