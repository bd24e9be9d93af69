import Crypto
import Foundation

/// What `export` wrote.
public struct ExportResult: Equatable, Sendable {
    /// `<outDir>/<name>.kdc`: the main artifact (compressed when asked).
    public var artifactPath: String
    /// `<outDir>/<name>.stored.kdc`, written only when compressed: the same model stored, to
    /// execute in place from flash.
    public var storedArtifactPath: String?
    /// `<outDir>/<name>.h` and `<outDir>/<name>.c`: the main artifact as a C array.
    public var headerPath: String
    public var sourcePath: String
    public var compressed: Bool
    /// Size of the main artifact.
    public var bytes: Int
    /// Header + uncompressed body (the stored artifact's size).
    public var rawBytes: Int
    /// SHA-256 of the main artifact, lowercase hex.
    public var sha256: String
    /// Arena the runtime needs, and the lower bound no plan for this op order can beat.
    public var arenaBytes: Int
    public var lowerBound: Int
    /// Constant section bytes: weights, biases, multipliers, shifts (and alignment padding).
    public var weightsBytes: Int
    /// The memory plan written into the artifact.
    public var plan: MemoryPlan
}

/// Plans memory, writes `<name>.kdc` (zlib-deflated body when `compress`, plus the stored
/// `<name>.stored.kdc`), and `<name>.h` / `<name>.c` (the main artifact as a 4-byte aligned C
/// array, with arena/unpack/input/output sizes, input/output quantization and the input
/// `normalization` mean/std, which the artifact itself does not carry). Every file is
/// written via a temporary file and a rename. The written artifact is re-read and validated.
/// - Parameters:
///   - name: base file name and C identifier prefix (letters, digits, `_`).
/// - Throws: `KDCError.graph` / `.budget` for a graph the format cannot express,
///   `KDCError.config` for a bad name, `KDCError.io` when a file cannot be written.
public func export(_ graph: QuantizedGraph, normalization: Normalization, to outDir: String, name: String,
                   compress: Bool) throws -> ExportResult {
    guard CArrayEmitter.isCIdentifier(name) else {
        throw KDCError.config(file: "<export>", key: "name", message: "'\(name)' is not a C identifier; hint: use letters, digits and _ (not starting with a digit)")
    }
    let plan = try MemoryPlanner.plan(graph)
    let raw = try ArtifactWriter.body(graph, plan: plan)
    let stored = try ArtifactWriter.artifact(rawBody: raw, arenaBytes: plan.arenaBytes, compress: false)
    let main = compress ? try ArtifactWriter.artifact(rawBody: raw, arenaBytes: plan.arenaBytes, compress: true) : stored
    // Self-check: the reader applies kdc_init's rules.
    let desc = try ArtifactReader.parse(main, file: "\(name).kdc (as written)")

    let base = outDir.hasSuffix("/") ? String(outDir.dropLast()) : outDir
    let artifactPath = "\(base)/\(name).kdc"
    try writeFileAtomically(Data(main), to: artifactPath)
    var storedPath: String? = nil
    if compress {
        storedPath = "\(base)/\(name).stored.kdc"
        try writeFileAtomically(Data(stored), to: storedPath!)
    }
    let info = CArrayInfo(arenaBytes: plan.arenaBytes, unpackBytes: compress ? stored.count : 0,
                          inputBytes: graph.tensors[graph.input].count, outputBytes: graph.tensors[graph.output].count,
                          inputScale: graph.inputScale, inputZeroPoint: graph.inputZeroPoint,
                          outputScale: graph.outputScale, outputZeroPoint: graph.outputZeroPoint,
                          normalization: normalization)
    let (h, c) = try CArrayEmitter.emit(artifact: main, name: name, info: info)
    let headerPath = "\(base)/\(name).h", sourcePath = "\(base)/\(name).c"
    try writeFileAtomically(Data(h.utf8), to: headerPath)
    try writeFileAtomically(Data(c.utf8), to: sourcePath)
    let digest = SHA256.hash(data: Data(main)).map { String(format: "%02x", $0) }.joined()
    return ExportResult(artifactPath: artifactPath, storedArtifactPath: storedPath, headerPath: headerPath,
                        sourcePath: sourcePath, compressed: compress, bytes: main.count, rawBytes: stored.count,
                        sha256: digest, arenaBytes: plan.arenaBytes, lowerBound: plan.lowerBound,
                        weightsBytes: desc.constBytes, plan: plan)
}
