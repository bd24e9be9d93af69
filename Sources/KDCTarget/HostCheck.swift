import Foundation

/// The first output byte where the C runtime and the expected outputs disagree.
public struct HostMismatch: Codable, Equatable, Sendable {
    public var sample: Int
    public var byte: Int
    public var expected: Int8
    public var got: Int8
}

/// What running an artifact with the real C runtime on the host showed.
public struct HostCheckResult: Codable, Equatable, Sendable {
    /// Samples run.
    public var samples: Int
    /// Expected outputs were given and compared.
    public var compared: Bool
    /// Output bytes (over all samples) that differ from the expected outputs (0 when not compared).
    public var mismatches: Int
    public var firstMismatch: HostMismatch?
    /// Fraction of labelled samples whose C-runtime argmax equals the label; nil without labels.
    public var accuracy: Double?
    /// Median wall-clock time of one `kdc_invoke` on this host, nanoseconds.
    public var latencyNsMedian: Int
    /// Arena bytes the runtime reported (kdc_query: the header's activation arena).
    public var arenaBytes: Int
    /// The kernels' scratch and the MACs per inference as the compiled runtime computes them
    /// (`kdc_init`).
    public var scratchBytes: Int
    public var macs: Int
}

/// Compiles the C runtime with a small harness (`runtime/host/kdc_host_check.c`) using the
/// system C compiler, runs an artifact on int8 inputs in a separate process and compares every
/// output byte with the expected outputs. The outputs come back through a binary file (there
/// may be many), the rest as records.
public enum HostCheck {
    /// Compiles runtime/src/*.c + runtime/host/kdc_host_check.c into `outputDirectory/kdc_host_check`
    /// with `HostTarget` (`$CC` or `cc`, `-std=c99 -O2 -Wall -Wextra -Werror`).
    /// - Returns: the executable's path.
    /// - Throws: `TargetError.toolNotFound`/`.toolFailed` with the compiler's output, `.io` for a
    ///   missing harness or runtime source.
    public static func buildHarness(runtimeDirectory: String, outputDirectory: String) throws -> String {
        let harness = runtimeDirectory + "/host/kdc_host_check.c"
        guard FileManager.default.fileExists(atPath: harness) else {
            throw TargetError.io(path: harness, message: "the host check harness is missing")
        }
        let host = HostTarget(scratch: outputDirectory)
        try host.requireTools(countingInstructions: false)
        let exe = outputDirectory + "/kdc_host_check"
        try host.build(
            sources: try SourceTree.runtimeSources(runtimeDirectory) + [harness], includes: [runtimeDirectory + "/include"],
            objectDirectory: outputDirectory + "/obj", output: exe)
        return exe
    }

    /// Runs the artifact at `artifactPath` on `inputs` (each the input tensor's int8 values) with
    /// the C runtime, each `repeats` times (timed), and compares its outputs with `expected`
    /// (one per input; nil: not compared). `labels` (one per input, −1 = unlabelled) give the
    /// accuracy of the C runtime's argmax.
    /// - Throws: `TargetError.invalidInput` for inputs, expected outputs or labels of the wrong
    ///   count or size; `TargetError.programFailed` with the runtime's status when it rejects the
    ///   artifact; what building the harness throws.
    public static func run(
        artifactPath: String, inputs: [[Int8]], expected: [[Int8]]? = nil, labels: [Int32]? = nil, repeats: Int = 5,
        runtimeDirectory: String? = nil
    ) throws -> HostCheckResult {
        let what = "host check"
        guard let inBytes = inputs.first?.count, inBytes > 0, inputs.allSatisfy({ $0.count == inBytes }) else {
            throw TargetError.invalidInput(what: what, message: "need at least one input, all of the same non-zero size")
        }
        if let e = expected, e.count != inputs.count || !e.allSatisfy({ $0.count == e[0].count }) {
            throw TargetError.invalidInput(
                what: what,
                message: "expected outputs must be one per input (\(inputs.count)), all of the same size; got \(e.count)")
        }
        if let l = labels, l.count != inputs.count {
            throw TargetError.invalidInput(what: what, message: "labels must be one per input (\(inputs.count)); got \(l.count)")
        }
        let rt = try runtimeDirectory ?? SourceTree.runtimeDirectory()
        let tmp = try SourceTree.scratchDirectory("host-check")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let exe = try buildHarness(runtimeDirectory: rt, outputDirectory: tmp)
        let inPath = tmp + "/inputs.bin", outPath = tmp + "/outputs.bin"
        try SourceTree.write(Data(inputs.joined().map { UInt8(bitPattern: $0) }), to: inPath)
        let records = try naming(program: artifactPath) {
            try HostTarget(scratch: tmp).run(exe, arguments: [artifactPath, inPath, outPath, String(max(repeats, 1))])
        }
        let model = try records.require(records.model, "model"), run = try records.require(records.run, "run")
        let timing = try records.require(records.timing, "timing")
        let outBytes = model.outputBytes
        guard run.samples == inputs.count, model.inputBytes == inBytes, expected.map({ $0[0].count == outBytes }) ?? true else {
            throw TargetError.invalidInput(
                what: artifactPath,
                message:
                    "the runtime ran \(run.samples) samples of \(model.inputBytes) → \(outBytes) bytes; the caller gave \(inputs.count) of \(inBytes)"
                    + (expected.map { " → \($0[0].count)" } ?? "") + " bytes")
        }
        guard let outData = FileManager.default.contents(atPath: outPath), outData.count == run.samples * outBytes else {
            throw TargetError.format(
                file: outPath, message: "the harness's outputs are missing or not \(run.samples) × \(outBytes) bytes")
        }
        let got = [UInt8](outData).map { Int8(bitPattern: $0) }
        var mismatches = 0, first: HostMismatch? = nil, correct = 0, labelled = 0
        for s in 0..<run.samples {
            let row = got[(s * outBytes)..<((s + 1) * outBytes)]
            if let want = expected?[s] {
                for (b, (w, g)) in zip(want, row).enumerated() where w != g {
                    mismatches += 1
                    if first == nil { first = HostMismatch(sample: s, byte: b, expected: w, got: g) }
                }
            }
            if let labels, labels[s] >= 0 {
                labelled += 1
                if argmax(row) == Int(labels[s]) { correct += 1 }
            }
        }
        return HostCheckResult(
            samples: run.samples, compared: expected != nil, mismatches: mismatches, firstMismatch: first,
            accuracy: labelled > 0 ? Double(correct) / Double(labelled) : nil, latencyNsMedian: timing.latencyNsMedian,
            arenaBytes: model.arenaBytes, scratchBytes: model.scratchBytes ?? 0, macs: model.macs ?? 0)
    }

    /// First index of the largest value (as kdc_argmax).
    static func argmax(_ x: ArraySlice<Int8>) -> Int {
        var best = x.startIndex
        for i in x.indices where x[i] > x[best] { best = i }
        return best - x.startIndex
    }
}
