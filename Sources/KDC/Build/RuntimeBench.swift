import Foundation

/// Host figures of the C runtime on one artifact: latency per inference (median of many timed
/// `kdc_invoke` calls, runtime built with `cc -O2`) and instructions per inference counted by
/// valgrind's callgrind (the same count on every run of the same binary and inputs).
public struct RuntimeBenchResult: Codable, Sendable {
    public var artifact: String
    public var macs: Int
    public var arenaBytes: Int
    public var latencyNsMedian: Int
    public var latencyNsMin: Int
    /// (instructions with 11 inferences − with 1) / 10, so loading and start-up cancel out.
    public var instructionsPerInference: Int?
    public var instructionsPerMAC: Double? { instructionsPerInference.map { Double($0) / Double(max(macs, 1)) } }
}

public enum RuntimeBench {
    /// Measures `artifactPath` with `samples` seeded random inputs, each run `repeats` times.
    public static func measure(
        artifactPath: String, samples: Int = 100, repeats: Int = 20,
        callgrind: Bool = true
    ) throws -> RuntimeBenchResult {
        let desc = try ArtifactReader.read(path: artifactPath)
        let inBytes = desc.graph[desc.graph.input].count
        let rt = try HostCheck.findRuntimeDir()
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("kdc-bench-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let exe = try HostCheck.buildHarness(runtimeDir: rt, outDir: tmp)
        var rng = SeededRNG(seed: 1, stream: "bench-inputs")
        let inputs = (0..<(samples * inBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        try writeFileAtomically(Data(inputs), to: tmp + "/in.bin")
        try writeFileAtomically(Data(inputs.prefix(inBytes)), to: tmp + "/one.bin")
        func harness(_ args: [String], valgrind: Bool = false) throws -> [String: Int] {
            let full = [artifactPath] + args
            let r =
                valgrind
                ? try HostCheck.runProcess(
                    "/usr/bin/env", ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + tmp + "/cg.out", exe] + full,
                    scratch: tmp)
                : try HostCheck.runProcess(exe, full, scratch: tmp)
            guard r.status == 0, !r.signaled else {
                throw KDCError.io(
                    path: artifactPath,
                    message: "the benchmark harness failed (exit \(r.status)): \(r.stderr)"
                        + (valgrind ? "; hint: apt-get install valgrind" : ""))
            }
            var kv: [String: Int] = [:]
            for line in (r.stdout + "\n" + r.stderr).split(separator: "\n") {
                let p = line.split(separator: " ")
                if p.count == 2, let v = Int(p[1]) { kv[String(p[0])] = v }
                // callgrind's summary line: "==PID== Collected : N"
                if line.contains("Collected :"),
                    let v = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
                {
                    kv["collected"] = v
                }
            }
            return kv
        }
        let timed = try harness([tmp + "/in.bin", tmp + "/out.bin", String(repeats)])
        var perInference: Int?
        if callgrind {
            let one = try harness([tmp + "/one.bin", tmp + "/o1.bin", "1"], valgrind: true)["collected"]
            let eleven = try harness([tmp + "/one.bin", tmp + "/o11.bin", "11"], valgrind: true)["collected"]
            if let a = one, let b = eleven { perInference = (b - a) / 10 }
        }
        return RuntimeBenchResult(
            artifact: artifactPath, macs: desc.graph.macs, arenaBytes: desc.arenaBytes,
            latencyNsMedian: timed["latency_ns_median"] ?? 0, latencyNsMin: timed["latency_ns_min"] ?? 0,
            instructionsPerInference: perInference)
    }
}
