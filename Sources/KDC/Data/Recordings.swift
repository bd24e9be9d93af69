import Foundation

/// How a recording longer than `clip_samples` is cut down (a shorter one is always padded with
/// zeros at its end).
public enum CropMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// The `clip_samples` window centred on the recording's energy centroid (Σ i·x[i]² / Σ x[i]²),
    /// moved inside the recording when it would overhang (silence-padded speech keeps its word).
    case energy
    /// The first `clip_samples` samples.
    case start
}

/// A folder of labelled recordings (`data: {format: audio, ...}`, docs/DATA.md): every `.wav` file
/// directly in `DataConfig.dir`, in sorted name order.
public struct AudioSourceConfig: Sendable, Equatable {
    /// A regular expression on the file name with one capture group: the label.
    public var labelPattern: String?
    /// A CSV file of `file,label` rows (relative to `dir`; a first row `file,label` is a header).
    public var labelCSV: String?
    /// A regular expression on the file name with one capture group: the speaker (optional).
    public var speakerPattern: String?
    /// The class names in class-id order; nil: the labels found, sorted (numerically when they are
    /// all integers).
    public var classNames: [String]?
    /// Samples per clip: longer recordings are cropped (`crop`), shorter ones padded with zeros at the end.
    public var clipSamples: Int
    public var crop: CropMode

    public init(
        labelPattern: String? = nil, labelCSV: String? = nil, speakerPattern: String? = nil, classNames: [String]? = nil,
        clipSamples: Int, crop: CropMode = .energy
    ) {
        self.labelPattern = labelPattern; self.labelCSV = labelCSV; self.speakerPattern = speakerPattern
        self.classNames = classNames; self.clipSamples = clipSamples; self.crop = crop
    }
}

/// The held-out test set of a folder of recordings (`data.split`).
public enum AudioTestSplit: Sendable, Equatable {
    /// Files whose name matches this regular expression (FSDD's official split: `_[0-4]\.wav$`).
    case pattern(String)
    /// Every recording of these speakers (needs `speaker_pattern`).
    case speakers([String])
    /// `n` speakers drawn with `split.seed` (needs `speaker_pattern`).
    case speakerCount(Int)
    /// A stratified fraction `split.test` of the recordings, drawn with `split.seed`.
    case fraction
}

/// One recording of the folder, before framing.
public struct Recording: Sendable, Equatable {
    /// The file name (no folder).
    public var name: String
    public var label: String
    public var speaker: String?
}

/// Cuts or pads `pcm` to exactly `length` samples (see `CropMode`).
public func fitClip(_ pcm: [Int16], length: Int, crop: CropMode) -> [Int16] {
    if pcm.count <= length { return pcm + [Int16](repeating: 0, count: length - pcm.count) }
    var start = 0
    if crop == .energy {
        var total = 0.0, moment = 0.0
        for (i, s) in pcm.enumerated() {
            let e = Double(s) * Double(s)
            total += e; moment += e * Double(i)
        }
        let centre = total > 0 ? Int((moment / total).rounded()) : pcm.count / 2
        start = min(max(centre - length / 2, 0), pcm.count - length)
    }
    return Array(pcm[start..<(start + length)])
}

/// Compiles `pattern`, which must have exactly one capture group; `what` names the config key.
func captureRegex(_ pattern: String, file: String, key: String) throws -> NSRegularExpression {
    let re: NSRegularExpression
    do { re = try NSRegularExpression(pattern: pattern) } catch {
        throw KDCError.config(file: file, key: key, message: "not a valid regular expression: '\(pattern)'")
    }
    guard re.numberOfCaptureGroups == 1 else {
        throw KDCError.config(
            file: file, key: key,
            message: "needs exactly one capture group (…), '\(pattern)' has \(re.numberOfCaptureGroups); hint: ^(\\d)_")
    }
    return re
}

/// The first capture of `re` in `name`, nil when it does not match.
func capture(_ re: NSRegularExpression, _ name: String) -> String? {
    let ns = name as NSString
    guard let m = re.firstMatch(in: name, range: NSRange(location: 0, length: ns.length)),
        m.range(at: 1).location != NSNotFound
    else { return nil }
    return ns.substring(with: m.range(at: 1))
}

/// The `.wav` files directly in `dir` (case-insensitive suffix), sorted by name; with their labels
/// and speakers. `configFile` names the config in pattern errors.
public func listRecordings(_ src: AudioSourceConfig, dir: String, configFile: String) throws -> [Recording] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        throw KDCError.data(
            file: dir, message: "the recordings folder does not exist (data.dir); hint: check data.dir or pass --data FOLDER")
    }
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
        .filter { $0.lowercased().hasSuffix(".wav") }.sorted()
    guard !names.isEmpty else { throw KDCError.data(file: dir, message: "no .wav files in the recordings folder (data.dir)") }
    var labels: [String: String] = [:]
    if let p = src.labelPattern {
        let re = try captureRegex(p, file: configFile, key: "data.label_pattern")
        for n in names {
            guard let l = capture(re, n) else {
                throw KDCError.data(
                    file: dir + "/" + n, message: "the file name does not match data.label_pattern '\(p)', so it has no label")
            }
            labels[n] = l
        }
    } else if let c = src.labelCSV {
        labels = try readLabelCSV(resolvePath(c, against: dir), names: names)
    }
    var speakerRE: NSRegularExpression?
    if let p = src.speakerPattern { speakerRE = try captureRegex(p, file: configFile, key: "data.speaker_pattern") }
    return try names.map { n in
        var speaker: String?
        if let re = speakerRE {
            guard let s = capture(re, n) else {
                throw KDCError.data(
                    file: dir + "/" + n,
                    message: "the file name does not match data.speaker_pattern '\(src.speakerPattern!)', so it has no speaker")
            }
            speaker = s
        }
        return Recording(name: n, label: labels[n]!, speaker: speaker)
    }
}

/// `file,label` rows for every name in `names` (a first row `file,label` is a header).
func readLabelCSV(_ path: String, names: [String]) throws -> [String: String] {
    let text = String(decoding: try readDataFile(path), as: UTF8.self)
    var labels: [String: String] = [:]
    for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty || (i == 0 && line.lowercased().replacingOccurrences(of: " ", with: "") == "file,label") { continue }
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard f.count == 2, !f[0].isEmpty, !f[1].isEmpty else {
            throw KDCError.data(file: path, message: "line \(i + 1): expected 'file,label', got '\(line)'")
        }
        guard labels[f[0]] == nil else {
            throw KDCError.data(file: path, message: "line \(i + 1): '\(f[0])' is labelled twice")
        }
        labels[f[0]] = f[1]
    }
    let have = Set(names)
    if let stray = labels.keys.sorted().first(where: { !have.contains($0) }) {
        throw KDCError.data(file: path, message: "labels '\(stray)', which is not a .wav file of the recordings folder")
    }
    if let missing = names.first(where: { labels[$0] == nil }) {
        throw KDCError.data(file: path, message: "has no label for the recording '\(missing)'")
    }
    return labels
}

/// The class names of `labels`: sorted, numerically when every label is an integer.
func sortedClassNames(_ labels: [String]) -> [String] {
    let unique = Array(Set(labels))
    if unique.allSatisfy({ Int($0) != nil }) { return unique.sorted { Int($0)! < Int($1)! } }
    return unique.sorted()
}

/// Loads a folder of recordings (`config.train` is `.audio`) through `frontEnd` and splits it
/// (docs/DATA.md): each file is read (16-bit mono PCM at `frontend.sample_rate`), fitted to
/// `clip_samples` (`fitClip`), turned into int8 features by the front end and dequantized,
/// (q − zero point) · scale, to a `[frames, featuresPerFrame, 1]` sample. The test set is
/// `split` (a name pattern, held-out speakers or a stratified fraction); validation is a
/// stratified fraction of the rest, drawn with `split.seed`. No normalization is applied: the
/// model's input is the front end's int8 output as it is.
public func loadRecordings(_ config: DataConfig, frontEnd: AudioFrontEnd, configFile: String) throws -> DataSplits {
    guard case let .audio(src) = config.train else { preconditionFailure("loadRecordings needs format audio") }
    let dir = config.dir
    let recs = try listRecordings(src, dir: dir, configFile: configFile)
    let names = src.classNames ?? sortedClassNames(recs.map(\.label))
    let ids = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
    guard names.count == config.classes else {
        throw KDCError.data(
            file: dir,
            message:
                "the recordings have \(names.count) classes (\(names.prefix(12).joined(separator: ", "))) but data.classes is \(config.classes)"
        )
    }
    let fc = frontEnd.config
    let frames = fc.frameCount(samples: src.clipSamples), per = frontEnd.featuresPerFrame
    let size = frames * per
    var x = [Float](repeating: 0, count: recs.count * size)
    var labels = [Int32](repeating: 0, count: recs.count)
    let (scale, zp) = (frontEnd.outputScale, frontEnd.outputZeroPoint)
    for (i, r) in recs.enumerated() {
        let path = dir + "/" + r.name
        guard let y = ids[r.label] else {
            throw KDCError.data(
                file: path, message: "label '\(r.label)' is not a class of data.class_names (\(names.joined(separator: ", ")))")
        }
        labels[i] = y
        let wav = try readWAV(path, expectedRate: fc.sampleRate)
        let q = frontEnd.features(fitClip(wav.samples, length: src.clipSamples, crop: src.crop))
        for (j, v) in q.enumerated() { x[i * size + j] = Float(Int(v) - zp) * scale }
    }
    let all = Dataset(
        name: "recordings", sampleShape: [frames, per, 1], x: x, labels: labels, numClasses: config.classes,
        origin: RowOrigin(file: dir, fileRows: recs.count), classNames: names)
    let split = config.split
    let seed = "seed \(split.seed)"
    var isTest = [Bool](repeating: false, count: recs.count)
    var testWhat: String
    switch split.audioTest {
    case let .pattern(p):
        let re: NSRegularExpression
        do { re = try NSRegularExpression(pattern: p) } catch {
            throw KDCError.config(
                file: configFile, key: "data.split.test_pattern", message: "not a valid regular expression: '\(p)'")
        }
        for (i, r) in recs.enumerated() {
            isTest[i] = re.firstMatch(in: r.name, range: NSRange(location: 0, length: (r.name as NSString).length)) != nil
        }
        testWhat = "the files matching '\(p)'"
    case let .speakers(list):
        let known = Set(recs.compactMap(\.speaker))
        if let bad = list.first(where: { !known.contains($0) }) {
            throw KDCError.data(
                file: dir,
                message:
                    "data.split.test_speakers names '\(bad)', who has no recording (speakers: \(known.sorted().joined(separator: ", ")))"
            )
        }
        for (i, r) in recs.enumerated() { isTest[i] = list.contains(r.speaker!) }
        testWhat = "the recordings of \(list.joined(separator: ", "))"
    case let .speakerCount(k):
        let speakers = Array(Set(recs.compactMap(\.speaker))).sorted()
        guard k < speakers.count else {
            throw KDCError.data(
                file: dir,
                message:
                    "data.split.test_speakers is \(k) but the recordings have only \(speakers.count) speakers; at least one must train"
            )
        }
        var rng = SeededRNG(seed: split.seed, stream: "split.test_speakers")
        let held = rng.permutation(speakers.count).prefix(k).map { speakers[$0] }.sorted()
        for (i, r) in recs.enumerated() { isTest[i] = held.contains(r.speaker!) }
        testWhat = "the recordings of \(held.joined(separator: ", ")) (\(k) speaker\(k == 1 ? "" : "s") drawn with \(seed))"
    case .fraction:
        var rng = SeededRNG(seed: split.seed, stream: "split.test")
        for i in stratifiedSplit(labels, fraction: split.test, rng: &rng).held { isTest[i] = true }
        testWhat = "a stratified \(percent(split.test)) of the recordings, \(seed)"
    }
    let testIdx = (0..<recs.count).filter { isTest[$0] }, trainIdx = (0..<recs.count).filter { !isTest[$0] }
    guard !testIdx.isEmpty, !trainIdx.isEmpty else {
        throw KDCError.data(
            file: dir, message: "the test split (\(testWhat)) leaves \(testIdx.isEmpty ? "no test" : "no training") recording")
    }
    var test = all.subset(testIdx, name: "test")
    test.origin?.selection = testWhat
    var train = all.subset(trainIdx, name: "train")
    var validation = train.subset([], name: "validation")
    validation.origin?.selection = "(split.validation is 0)"
    if split.validation > 0 {
        var rng = SeededRNG(seed: split.seed, stream: "split.validation")
        let (rest, held) = stratifiedSplit(train.labels, fraction: split.validation, rng: &rng)
        validation = train.subset(held, name: "validation")
        validation.origin?.selection = "of the \(percent(split.validation)) validation split of the non-test recordings, \(seed)"
        train = train.subset(rest, name: "train")
    }
    train.origin?.selection = "the recordings outside the test and validation splits, \(seed)"
    return DataSplits(train: train, validation: validation, test: test, normalization: .identity)
}
