import Foundation

/// Host figures of the C runtime on one artifact: latency per inference (median and minimum of
/// many timed `kdc_invoke` calls, runtime built with `cc -O2`) and instructions per inference
/// counted by valgrind's callgrind (the same count on every run of the same binary and inputs).
public struct HostBenchResult: Codable, Equatable, Sendable {
    public var artifact: String
    public var arenaBytes: Int
    public var samples: Int
    public var repeats: Int
    public var latencyNsMedian: Int
    public var latencyNsMin: Int
    /// (instructions with 11 inferences − with 1) / 10 of the first input, so loading and
    /// start-up cancel out; nil unless counted.
    public var instructionsPerInference: Int?
}

public enum HostBench {
    /// Times the artifact at `artifactPath` on `inputs` (each the input tensor's int8 values),
    /// each run `repeats` times, and with `callgrind` counts the instructions of the first input.
    /// - Throws: `TargetError.invalidInput` without inputs; `TargetError.toolNotFound` for
    ///   valgrind; what `HostCheck.buildHarness` and `HostTarget.run` throw.
    public static func measure(
        artifactPath: String, inputs: [[Int8]], repeats: Int = 20, callgrind: Bool = true, runtimeDirectory: String? = nil
    ) throws -> HostBenchResult {
        guard let first = inputs.first, !first.isEmpty, inputs.allSatisfy({ $0.count == first.count }) else {
            throw TargetError.invalidInput(
                what: "host benchmark", message: "need at least one input, all of the same non-zero size")
        }
        let rt = try runtimeDirectory ?? SourceTree.runtimeDirectory()
        let tmp = try SourceTree.scratchDirectory("bench")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let host = HostTarget(scratch: tmp)
        try host.requireTools(countingInstructions: callgrind)
        let exe = try HostCheck.buildHarness(runtimeDirectory: rt, outputDirectory: tmp)
        func bytes(_ x: [[Int8]]) -> Data { Data(x.joined().map { UInt8(bitPattern: $0) }) }
        try SourceTree.write(bytes(inputs), to: tmp + "/in.bin")
        try SourceTree.write(bytes([first]), to: tmp + "/one.bin")
        let timed = try naming(program: artifactPath) {
            try host.run(exe, arguments: [artifactPath, tmp + "/in.bin", tmp + "/out.bin", String(max(repeats, 1))])
        }
        let model = try timed.require(timed.model, "model"), timing = try timed.require(timed.timing, "timing")
        let run = try timed.require(timed.run, "run")
        var perInference: Int?
        if callgrind {
            let one = try host.countInstructions(exe, arguments: [artifactPath, tmp + "/one.bin", tmp + "/o1.bin", "1"]).count
            let eleven = try host.countInstructions(exe, arguments: [artifactPath, tmp + "/one.bin", tmp + "/o11.bin", "11"])
                .count
            perInference = (eleven - one) / 10
        }
        return HostBenchResult(
            artifact: artifactPath, arenaBytes: model.arenaBytes, samples: run.samples, repeats: run.repeats,
            latencyNsMedian: timing.latencyNsMedian, latencyNsMin: timing.latencyNsMin, instructionsPerInference: perInference)
    }
}
