import Foundation

/// The text `kdc build` prints at the end.
enum BuildSummary {
    static func text(_ r: BuildResult) -> String {
        let e = r.export, c = r.checks
        var s = r.distillation.summary + (r.distillation.comparison?.table ?? "") + r.quantized.report.summary
        s += "artifact: \(e.artifactPath) \(e.bytes) bytes (\(e.rawBytes) uncompressed), sha256 \(e.sha256.prefix(16))…\n"
        if let t = r.tflite {
            s +=
                "tflite: \(t.path) \(t.bytes) bytes, sha256 \(t.sha256.prefix(16))… (TensorFlow Lite arithmetic, as the artifact)\n"
        }
        s +=
            "memory: arena \(e.arenaBytes) bytes (lower bound \(e.lowerBound))"
            + (e.scratchBytes > 0 ? " + kernel scratch \(e.scratchBytes) = \(e.arenaTotalBytes) bytes" : "")
            + ", weights \(e.weightsBytes) bytes"
            + (e.compressed ? ", unpack buffer \(e.rawBytes) bytes" : "") + "\n"
        if let f = r.report.frontend { s += f.summary }
        if let f = r.report.sensor { s += f.summary }
        s +=
            "host check (C runtime vs Swift int8): \(c.host.samples) samples, \(c.host.mismatches) mismatches"
            + (c.stored.map { "; stored artifact: \($0.mismatches) mismatches" } ?? "")
            + ", runtime accuracy \(fmtPct(c.host.accuracy)), median latency \(c.host.latencyNsMedian) ns\n"
        for f in c.firmware {
            s +=
                "firmware (\(f.target), \(f.mode.rawValue)): \(f.samples) inputs, \(f.mismatches) mismatches vs the Swift int8 reference"
                + " (so vs the host runtime); runtime .text \(f.runtimeTextBytes) B, image .text \(f.imageTextBytes) B;"
                + " RAM \(f.ramBytes) B = arena \(f.ram.arenaBytes) + unpack \(f.ram.unpackBytes) + static \(f.ram.staticBytes)"
                + " + stack \(f.ram.stackBytes) (predicted \(f.ramPredictedBytes) = \(f.ramPredicted.arenaBytes) + \(f.ramPredicted.unpackBytes)"
                + " + \(f.ramPredicted.staticBytes) + \(f.ramPredicted.stackBytes)\(f.ramMatchesPrediction ? ", equal" : ", DIFFERENT"));"
                + " stack bound \(f.stackBoundBytes) B (any model), runtime alone \(f.runtimeStackBoundBytes) B"
                + (f.instructionsPerInference.map { "; \($0) instructions/inference" } ?? "")
                + (f.instructionsPerMAC.map { String(format: " (%.1f per MAC)", $0) } ?? "") + "\n"
        }
        return s
    }
}
