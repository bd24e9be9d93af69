import Foundation

/// `rows.json`, written by `kdc data`: what each split's files hold and which file their row
/// indices refer to (docs/DATA.md).
public struct DataManifest: Codable, Sendable, Equatable {
    /// The config the data was read with.
    public var config: String
    /// Per-sample shape as the models see it (`[H, W, C]`, channel-last, or `[F]`).
    public var sampleShape: [Int]
    public var classes: Int
    /// Class names by id when the labels were strings; null for integer labels.
    @NullEncodable public var classNames: [String]?
    /// What a row index means.
    public var rowIndex: String
    /// `train`, `validation`, `test` and `transfer`.
    public var splits: [String: DataSplitFiles]
}

/// One split in `rows.json`.
public struct DataSplitFiles: Codable, Sendable, Equatable {
    /// Samples in the split.
    public var samples: Int
    /// `<split>_x.npy`: float32 `[samples] + sample_shape`, normalized as the models see them.
    public var x: String
    /// `<split>_y.npy`: int64 `[samples]` class ids (−1 where unlabelled); null for `transfer`.
    @NullEncodable public var y: String?
    /// `<split>_rows.npy`: int64 `[samples]`, each sample's row in `source`.
    public var rows: String
    /// The file the row indices count in (absolute path).
    public var source: String
    /// Data rows in `source`.
    public var sourceRows: Int
    /// How the samples were chosen, e.g. "the 1,293 training rows after the 20% test and 10%
    /// validation split, seed 0".
    public var description: String
}

/// `normalization.json`, written by `kdc data`: the normalization applied to every `*_x.npy`.
public struct NormalizationFile: Codable, Sendable, Equatable {
    /// `standard`, `scale`, `none` or `explicit` (data.normalize).
    public var mode: String
    public var mean: [Float]
    public var std: [Float]
    public var formula: String
}

/// The files `kdc data` writes, in memory: name → bytes.
public struct DataFiles: Sendable {
    public var files: [(name: String, bytes: [UInt8])]
    public var manifest: DataManifest
    public var normalization: NormalizationFile

    /// Builds every file for the splits and the transfer set of `config` (nothing is written).
    /// The split files are `x` (float32, normalized), `y` (int64 labels) and `rows` (int64 row
    /// indices into the split's source file); the transfer set has `x` and `rows`.
    public init(data: DataSplits, transfer: Dataset, config: KDCConfig) throws {
        let shape = data.train.sampleShape
        var files: [(String, [UInt8])] = []
        var splits: [String: DataSplitFiles] = [:]
        for (key, prefix, d) in [
            ("train", "train", data.train), ("validation", "val", data.validation), ("test", "test", data.test),
            ("transfer", "transfer", transfer),
        ] {
            guard let origin = d.origin else {
                throw KDCError.data(file: config.file, message: "the \(key) samples have no source file to index")
            }
            let withLabels = key != "transfer"
            files.append(("\(prefix)_x.npy", npyBytes(shape: [d.count] + shape, float32: d.x)))
            if withLabels { files.append(("\(prefix)_y.npy", npyBytes(shape: [d.count], int64: d.labels.map(Int64.init)))) }
            files.append(("\(prefix)_rows.npy", npyBytes(shape: [d.count], int64: d.rows.map(Int64.init))))
            splits[key] = DataSplitFiles(
                samples: d.count, x: "\(prefix)_x.npy", y: withLabels ? "\(prefix)_y.npy" : nil, rows: "\(prefix)_rows.npy",
                source: origin.file, sourceRows: origin.fileRows, description: describeRows(d))
        }
        manifest = DataManifest(
            config: config.file, sampleShape: shape, classes: data.train.numClasses, classNames: data.classNames,
            rowIndex:
                "0-based row of the sample in its source file: for CSV the data rows (the header line and blank lines are not counted), "
                + "for IDX and NPY the index along the first axis, for recordings (format audio) the index in the sorted "
                + "list of the folder's .wav files",
            splits: splits)
        let mode: String
        switch config.data.normalize {
        case .standard: mode = "standard"
        case .scale: mode = "scale"
        case .none: mode = "none"
        case .explicit: mode = "explicit"
        }
        normalization = NormalizationFile(
            mode: mode, mean: data.normalization.mean, std: data.normalization.std,
            formula:
                "x_norm = (x - mean[c]) / std[c], c = index along the last axis of a sample (the channel); "
                + "a single mean and std apply to every value")
        let enc = JSONEncoder()
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        files.append(("normalization.json", [UInt8](try enc.encode(normalization)) + [0x0A]))
        // Last: the manifest names the other files.
        files.append(("rows.json", [UInt8](try enc.encode(manifest)) + [0x0A]))
        self.files = files
    }

    /// Writes every file into `dir` (created if needed), each through a temporary file and a
    /// rename, `rows.json` last. Returns the paths written.
    @discardableResult
    public func write(to dir: String) throws -> [String] {
        try ensureDirectory(dir)
        let base = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        return try files.map { f in
            let path = base + "/" + f.name
            try writeFileAtomically(Data(f.bytes), to: path)
            return path
        }
    }

    /// A readable table of the splits and the files written.
    public var summary: String {
        var s = "split       samples  rows of\n"
        for key in ["train", "validation", "test", "transfer"] {
            guard let f = manifest.splits[key] else { continue }
            s += key.padding(toLength: 10, withPad: " ", startingAt: 0) + rpad("\(f.samples)", 9) + "  "
            s += "\((f.source as NSString).lastPathComponent) (\(groupedThousands(f.sourceRows)) rows): \(f.description)\n"
        }
        let n = normalization
        s += "normalization: \(n.mode), mean \(n.mean.count == 1 ? "\(n.mean[0])" : "\(n.mean.count) values")"
        s += ", std \(n.std.count == 1 ? "\(n.std[0])" : "\(n.std.count) values") (normalization.json)\n"
        return s
    }
}
