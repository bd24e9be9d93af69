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
    /// Activation arena (the artifact header's `arena_bytes`), and the lower bound no plan for
    /// this op order can beat.
    public var arenaBytes: Int
    public var lowerBound: Int
    /// Constant section bytes: weights, biases, multipliers, shifts (and alignment padding).
    public var weightsBytes: Int
    /// The memory plan written into the artifact.
    public var plan: MemoryPlan
    /// Kernel scratch after the activations, and the whole arena `kdc_init` needs.
    public var scratchBytes: Int { plan.scratchBytes }
    public var arenaTotalBytes: Int { plan.arenaTotalBytes }
    /// The input stage's stream buffer (`<NAME>_STREAM_BYTES`, `kdc_stream_bytes`), 0 without
    /// an input stage.
    public var streamBytes: Int = 0
}

extension ExportResult {
    /// The same export with the files under folder `from` named as `place` names them (a
    /// staged set moved into the output folder).
    public func moved(from: String, to place: (String) -> String) -> ExportResult {
        func move(_ p: String) -> String {
            p.hasPrefix(from + "/") ? place(String(p.dropFirst(from.count + 1))) : p
        }
        var r = self
        r.artifactPath = move(artifactPath)
        r.storedArtifactPath = storedArtifactPath.map(move)
        r.headerPath = move(headerPath)
        r.sourcePath = move(sourcePath)
        return r
    }
}

/// An export computed in memory, not yet written: its sizes can be checked (against a device
/// budget, say) before anything on disk changes.
public struct PreparedExport: Sendable {
    public var name: String
    public var plan: MemoryPlan
    /// The main artifact (compressed when asked) and the stored one.
    public var main: [UInt8]
    public var stored: [UInt8]
    public var compressed: Bool
    public var header: String
    public var source: String
    public var weightsBytes: Int
    public var sha256: String
    /// The input stage's stream buffer on the device (`kdc_stream_bytes`: the audio window,
    /// the front end's scratch, the feature ring), 0 without an input stage.
    public var streamBytes: Int = 0
}

/// Plans memory and builds the artifact bytes and C files for `graph` without writing anything.
/// - Parameters:
///   - name: base file name and C identifier prefix (letters, digits, `_`).
///   - classNames: class names by output index (string labels) for the C header; nil for none.
///   - kernels: the kernel variant of the board the export is for (`Variant(board:)`): the arena
///     holds its scratch; nil (no board) holds the largest of every device variant's.
/// - Throws: `KDCError.graph` / `.budget` for a graph the format cannot express,
///   `KDCError.config` for a bad name.
public func prepareExport(
    _ graph: Graph, normalization: Normalization, name: String,
    compress: Bool, classNames: [String]? = nil, kernels: KernelScratch.Variant? = nil
) throws -> PreparedExport {
    guard CArrayEmitter.isCIdentifier(name) else {
        throw KDCError.config(
            file: "<export>", key: "name",
            message: "'\(name)' is not a C identifier; hint: use letters, digits and _ (not starting with a digit)")
    }
    let plan = try MemoryPlanner.plan(graph, kernels: kernels)
    let raw = try ArtifactWriter.body(graph, plan: plan)
    let flags = ArtifactFormat.flags(of: graph)
    let stored = try ArtifactWriter.artifact(rawBody: raw, arenaBytes: plan.arenaBytes, compress: false, flags: flags)
    let main =
        compress
        ? try ArtifactWriter.artifact(rawBody: raw, arenaBytes: plan.arenaBytes, compress: true, flags: flags) : stored
    // Self-check: the reader applies kdc_init's rules.
    let desc = try ArtifactReader.parse(main, file: "\(name).kdc (as written)")
    var info = CArrayInfo(
        arenaBytes: plan.arenaTotalBytes, unpackBytes: compress ? stored.count : 0,
        inputBytes: graph[graph.input].count, outputBytes: graph[graph.output].count,
        inputScale: graph.inputQuant.scale, inputZeroPoint: graph.inputQuant.zeroPoint,
        outputScale: graph.outputQuant.scale, outputZeroPoint: graph.outputQuant.zeroPoint,
        normalization: normalization, scratchBytes: plan.scratchBytes, classNames: classNames)
    info.streamBytes = InputStageBlock.memory(graph).map { $0.frontendBytes + $0.ringBytes } ?? 0
    let (h, c) = try CArrayEmitter.emit(artifact: main, name: name, info: info)
    let digest = SHA256.hash(data: Data(main)).map { String(format: "%02x", $0) }.joined()
    return PreparedExport(
        name: name, plan: plan, main: main, stored: stored, compressed: compress, header: h,
        source: c, weightsBytes: desc.constBytes, sha256: digest, streamBytes: info.streamBytes)
}

extension PreparedExport {
    /// Size of the main artifact (flash), and RAM the device needs for it: the arena plus, for a
    /// compressed artifact, the unpack buffer, plus an input stage's stream buffer.
    public var bytes: Int { main.count }
    public var ramBytes: Int { plan.arenaTotalBytes + (compressed ? stored.count : 0) + streamBytes }

    /// Writes `<name>.kdc` (and `<name>.stored.kdc` when compressed), `<name>.h` and `<name>.c`
    /// into `outDir`, each via a temporary file and a rename.
    public func write(to outDir: String) throws -> ExportResult {
        let base = outDir.hasSuffix("/") ? String(outDir.dropLast()) : outDir
        let artifactPath = "\(base)/\(name).kdc"
        try writeFileAtomically(Data(main), to: artifactPath)
        var storedPath: String? = nil
        if compressed {
            storedPath = "\(base)/\(name).stored.kdc"
            try writeFileAtomically(Data(stored), to: storedPath!)
        }
        let headerPath = "\(base)/\(name).h", sourcePath = "\(base)/\(name).c"
        try writeFileAtomically(Data(header.utf8), to: headerPath)
        try writeFileAtomically(Data(source.utf8), to: sourcePath)
        return ExportResult(
            artifactPath: artifactPath, storedArtifactPath: storedPath, headerPath: headerPath,
            sourcePath: sourcePath, compressed: compressed, bytes: main.count, rawBytes: stored.count,
            sha256: sha256, arenaBytes: plan.arenaBytes, lowerBound: plan.lowerBound,
            weightsBytes: weightsBytes, plan: plan, streamBytes: streamBytes)
    }
}

/// Plans memory, writes `<name>.kdc` (zlib-deflated body when `compress`, plus the stored
/// `<name>.stored.kdc`), and `<name>.h` / `<name>.c` (the main artifact as a 4-byte aligned C
/// array, with arena/unpack/input/output sizes, input/output quantization and the input
/// `normalization` mean/std, which the artifact itself does not carry). Every file is
/// written via a temporary file and a rename. The artifact is re-read and validated first.
/// `kernels`: as `prepareExport`'s (the arena holds that variant's scratch; nil, the largest).
public func export(
    _ graph: Graph, normalization: Normalization, to outDir: String, name: String,
    compress: Bool, kernels: KernelScratch.Variant? = nil
) throws -> ExportResult {
    try prepareExport(graph, normalization: normalization, name: name, compress: compress, kernels: kernels)
        .write(to: outDir)
}
