import Foundation

/// Everything `kdc build` produced.
public struct BuildResult {
    public var distillation: DistillationResult
    public var quantized: QuantizedStudent
    public var report: BuildReport
    public var summary: String
}

extension Pipeline {
    /// The whole pipeline: teacher → distilled student (→ baseline) → int8.
    /// Writes checkpoints and `report.json` into the output folder.
    public func build() throws -> BuildResult {
        let d = try runDistillation(baseline: config.distill.baseline)
        let q = try quantize(d.student.model, data: d.data)
        var report = d.report
        report.student?.int8Accuracy = q.report.int8Accuracy
        report.quantization = q.report
        try writeFileAtomically(try report.json(), to: outDir + "/report.json")
        let summary = d.summary + q.report.summary
        return BuildResult(distillation: d, quantized: q, report: report, summary: summary)
    }
}
