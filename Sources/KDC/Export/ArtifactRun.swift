import Foundation
import KDCTarget

/// What `ArtifactRun.run` (`kdc run`) did.
public struct ArtifactRunResult: Equatable, Sendable {
    /// Inputs run.
    public var samples: Int
    /// The inputs' element type: `.int8` (the input tensor's own values) or `.float32`
    /// (quantized with the input's scale and zero point by the runtime).
    public var inputType: NPYType
    /// The shape written: `[N] + the output tensor's shape`.
    public var outputShape: [Int]
    /// The outputs are float32 (the artifact's graph has `floatOutput`), else int8.
    public var floatOutput: Bool
    /// With a board: the device's figures (sizes, RAM, stack, instructions per inference), its
    /// outputs compared with the host C runtime's (`match`).
    public var firmware: FirmwareResult?
}

/// Runs an artifact with the C runtime on the inputs of an NPY file and writes the outputs as an
/// NPY file (`kdc run`).
public enum ArtifactRun {
    /// The element types `kdc run` reads.
    public static let inputTypes: [NPYType] = [.int8, .float32]

    /// Runs the artifact at `artifactPath` on the N inputs of `inputPath` (shape
    /// `[N] + input shape` or `[N, input size]`; int8 or float32) with the C runtime on this
    /// machine and writes `outputPath` (`[N] + output shape`, int8, or float32 when the graph has
    /// `floatOutput`), through a temporary file and a rename: on any error the previous file at
    /// `outputPath` is untouched.
    ///
    /// With `board`, the outputs are the emulated device's (`DeviceRun`: the firmware sample
    /// under QEMU, the artifact in its own mode, every input in flash), each byte compared with
    /// the host C runtime's (which also quantizes float32 inputs for it); int8 outputs are
    /// written as the device gave them, float32 ones dequantized as `kdc_output_to_float` does
    /// (`Graph.dequantize`: the same single float multiply).
    /// - Throws: `KDCError.io` for a missing artifact, `.format` for an invalid one (the
    ///   runtime's status name and message, and kdc's reader's), `.data` naming the input file
    ///   for a wrong dtype, shape or length; `.check` when the device's outputs differ from the
    ///   host's (nothing written).
    public static func run(
        artifactPath: String, inputPath: String, outputPath: String, board: Board? = nil, runtimeDirectory: String? = nil
    ) throws -> ArtifactRunResult {
        try run(
            try read(artifactPath, runtimeDirectory: runtimeDirectory), artifactPath: artifactPath, inputPath: inputPath,
            outputPath: outputPath, board: board, runtimeDirectory: runtimeDirectory)
    }

    /// `run` of the artifact at `artifactPath`, read as `artifact` (its graph's input shape and
    /// `floatOutput` are used).
    static func run(
        _ artifact: Artifact, artifactPath: String, inputPath: String, outputPath: String, board: Board? = nil,
        runtimeDirectory: String?
    ) throws -> ArtifactRunResult {
        let g = artifact.graph
        let input = try Inputs(path: inputPath, graph: g)
        let scratch = try withKDCErrors { try SourceTree.scratchDirectory("run") }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var inPath = inputPath, offset = input.header.dataOffset
        if let data = input.data {  // gzip: the inflated payload, as a raw file
            inPath = scratch + "/inputs.bin"
            try writeFileAtomically(Data(data[input.header.dataOffset...]), to: inPath)
            offset = 0
        }
        let outShape = [input.count] + g.outputShape
        let outType: HostRunElement = g.floatOutput ? .float32 : .int8
        func host(_ outPath: String, _ type: HostRunElement, saveInputs: String? = nil) throws {
            let r = try withKDCErrors {
                try HostRun.run(
                    artifactPath: artifactPath, inputPath: inPath, inputOffset: offset, count: input.count,
                    input: input.type == .float32 ? .float32 : .int8, outputPath: outPath, output: type,
                    saveInputsPath: saveInputs, runtimeDirectory: runtimeDirectory)
            }
            guard r.model.inputBytes == g[g.input].count, r.model.outputBytes == g[g.output].count else {
                throw KDCError.format(
                    file: artifactPath,
                    message:
                        "the C runtime loaded \(r.model.inputBytes) inputs → \(r.model.outputBytes) outputs; kdc's reader \(g[g.input].count) → \(g[g.output].count)"
                )
            }
        }
        var result = ArtifactRunResult(
            samples: input.count, inputType: input.type, outputShape: outShape, floatOutput: g.floatOutput)
        guard let board else {
            try writeOutput(outputPath, shape: outShape, type: outType) { tmp in try host(tmp, outType) }
            return result
        }
        // The device: the int8 inputs the host runtime ran (float32 ones quantized by it), its
        // int8 outputs as the expected ones.
        let savedIn = scratch + "/inputs.int8", hostOut = scratch + "/host.int8"
        try writeFileAtomically(Data(), to: hostOut)
        try host(hostOut, .int8, saveInputs: savedIn)
        let k = g[g.input].count, m = g[g.output].count
        func rows(_ path: String, _ size: Int) throws -> [[Int8]] {
            guard let d = FileManager.default.contents(atPath: path), d.count == input.count * size else {
                throw KDCError.io(path: path, message: "the host run wrote no \(input.count) × \(size) bytes")
            }
            let b = [UInt8](d)
            return (0..<input.count).map { i in b[(i * size)..<((i + 1) * size)].map { Int8(bitPattern: $0) } }
        }
        guard input.count > 0 else {
            throw KDCError.data(file: inputPath, message: "no inputs (N = 0); the device needs at least one")
        }
        let bytes = try readDataFileRaw(artifactPath)
        let d = try DeviceRun.run(
            artifact: bytes, inputs: try rows(savedIn, k), expected: try rows(hostOut, m), board: board,
            modes: [artifact.compressed ? .compressed : .stored], countInstructions: true, countedInferences: 1,
            runtimeDirectory: runtimeDirectory)
        let f = d.firmware[0]
        guard f.match else {
            throw KDCError.check(
                message:
                    "the \(f.mode.rawValue) artifact on \(f.target) differs from the host C runtime in \(f.mismatches) output bytes over \(f.samples) inputs; \(outputPath) was not written"
            )
        }
        result.firmware = f
        let flat = Array(d.outputs.joined())
        let payload: [UInt8]
        if g.floatOutput {
            let x = g.dequantize(flat)
            var p = [UInt8](repeating: 0, count: 4 * x.count)
            p.withUnsafeMutableBytes { raw in
                for (i, v) in x.enumerated() {
                    raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
            payload = p
        } else {
            payload = flat.map { UInt8(bitPattern: $0) }
        }
        try writeOutput(outputPath, shape: outShape, type: outType) { tmp in
            guard let fh = FileHandle(forWritingAtPath: tmp) else {
                throw KDCError.io(path: tmp, message: "cannot open the temporary output")
            }
            defer { try? fh.close() }
            do {
                try fh.seekToEnd()
                try fh.write(contentsOf: Data(payload))
            } catch {
                throw KDCError.io(path: tmp, message: "cannot write: \(error)")
            }
        }
        return result
    }

    /// The bytes of the file at `path` as they are (no gzip inflation).
    static func readDataFileRaw(_ path: String) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path) else {
            throw KDCError.io(path: path, message: "cannot read the artifact (missing or unreadable)")
        }
        return [UInt8](d)
    }

    /// The artifact at `path`, validated by kdc's reader; when the reader rejects it, the C
    /// runtime is asked too and its verdict leads the message.
    static func read(_ path: String, runtimeDirectory: String?) throws -> Artifact {
        do {
            return try ArtifactReader.read(path: path)
        } catch let KDCError.format(file, message) {
            let scratch = try withKDCErrors { try SourceTree.scratchDirectory("run-verdict") }
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let empty = scratch + "/empty.bin"
            try writeFileAtomically(Data(), to: empty)
            do {
                _ = try HostRun.run(
                    artifactPath: path, inputPath: empty, count: 0, input: .int8, outputPath: empty, output: .int8,
                    runtimeDirectory: runtimeDirectory)
            } catch let TargetError.programFailed(_, what, status) {
                throw KDCError.format(
                    file: file, message: "the C runtime rejects the artifact: \(what): \(status); kdc's reader: \(message)")
            } catch let e as TargetError {
                throw KDCError(e)
            }
            throw KDCError.format(file: file, message: message)
        }
    }

    /// The inputs of an NPY file, checked against the graph's input.
    struct Inputs {
        var header: NPYHeader
        /// The whole inflated file when it was gzip-compressed, else nil (read by the harness).
        var data: [UInt8]?
        var type: NPYType
        /// N.
        var count: Int

        init(path: String, graph g: Graph) throws {
            (header, data) = try NPYHeader.read(path)
            func fail(_ m: String) -> KDCError { .data(file: path, message: m) }
            let q = g.inputQuant
            guard let t = header.type, ArtifactRun.inputTypes.contains(t) else {
                throw fail(
                    "dtype '\(header.descr)'\(header.typeName.map { " (\($0))" } ?? ""); expected int8 ('|i1': the input tensor's own values) or float32 ('<f4': quantized with the input's scale \(q.scale) and zero point \(q.zeroPoint)); convert with x.astype(np.float32)"
                )
            }
            type = t
            if header.fortranOrder {
                throw fail("Fortran-order arrays are not supported; save with np.save(path, np.ascontiguousarray(x))")
            }
            let per = g.inputShape, k = per.reduce(1, *), s = header.shape
            let stacked = s.count == per.count + 1 && Array(s.dropFirst()) == per
            let flat = s.count == 2 && s[1] == k
            guard let n = s.first, stacked || flat else {
                let forms = per.count == 1 ? "[N, \(k)]" : "[N, \(per.map(String.init).joined(separator: ", "))] or [N, \(k)]"
                throw fail(
                    "shape \(s); expected \(forms): N inputs of the artifact's input shape \(per)"
                        + (s == per ? "; hint: one input needs a leading axis of 1 (x[np.newaxis])" : ""))
            }
            count = n
            let need = n * k * t.size
            let have: Int
            if let data {
                have = data.count - header.dataOffset
            } else {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                have = size - header.dataOffset
            }
            guard have == need else {
                throw fail(
                    "NPY shape \(s) of \(header.descr) needs \(need) data bytes but the file holds \(have)"
                        + (have < need ? " (truncated?)" : ""))
            }
        }
    }

    /// Writes `outputPath` as an NPY file of `shape` and `type`: the header into a temporary
    /// file beside it, `fill` appends the data, then the size is checked and the file renamed
    /// into place. On an error or an interrupt the temporary file is removed and `outputPath` left
    /// as it was.
    static func writeOutput(_ outputPath: String, shape: [Int], type: HostRunElement, fill: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: outputPath)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw KDCError.io(path: outputPath, message: "the folder \(dir) does not exist")
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
        let header = npyHeader(descr: type == .float32 ? "<f4" : "|i1", shape: shape)
        try InterruptGuard.removingOnInterrupt(tmp) {
            var done = false
            defer { if !done { unlink(tmp) } }
            try writeFileAtomically(Data(header), to: tmp)
            try fill(tmp)
            let size = (try? FileManager.default.attributesOfItem(atPath: tmp)[.size] as? Int) ?? -1
            let want = header.count + shape.reduce(1, *) * type.size
            guard size == want else {
                throw KDCError.io(path: tmp, message: "the runtime wrote \(size) bytes, expected \(want)")
            }
            guard rename(tmp, outputPath) == 0 else {
                throw KDCError.io(path: outputPath, message: "cannot write: \(String(cString: strerror(errno)))")
            }
            done = true
        }
    }
}
