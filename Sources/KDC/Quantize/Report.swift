import Foundation

/// How the int8 graph compares with the float one on a test set.
public struct QuantizationReport: Codable, Sendable, Equatable {
    /// Quantization error of one op's output tensor.
    public struct LayerError: Codable, Sendable, Equatable {
        /// Tensor (float node) name and op kind.
        public var name: String
        public var kind: String
        /// 10·log10(Σ f² / Σ (f − s·(q − z))²) over `layerSamples` samples, f from the rewritten
        /// float graph (batch norm folded, activations fused, same math as the float model).
        /// Clamped to [−150, 150] dB (150 when the error is exactly zero).
        public var sqnrDB: Double
    }

    /// Test samples compared.
    public var samples: Int
    /// Top-1 accuracy of the float graph and of the int8 graph over the labelled samples
    /// (nil when none is labelled). The int8 input is quantized from the float input.
    public var floatAccuracy: Double?
    public var int8Accuracy: Double?
    /// Fraction of samples where float and int8 argmax agree (first index on ties).
    public var top1Agreement: Double
    /// Samples used for the per-layer SQNR.
    public var layerSamples: Int
    /// Per op output, in execution order.
    public var layers: [LayerError]
    /// The int8 graph's confusion matrix on the labelled samples: `confusion[label][predicted]`
    /// counts (classes × classes; nil when no sample is labelled).
    public var confusion: [[Int]]? = nil
}

/// Compares the int8 graph `quantized` with the float graph `float` it came from on `test`
/// (normalized float inputs): accuracies, top-1 agreement and per-layer SQNR (on the first
/// `layerSamples` samples). `maxSamples` limits the samples compared (nil: all).
public func quantizationReport(
    float: Graph, quantized: Graph, test: Dataset,
    maxSamples: Int? = nil, layerSamples: Int = 64
) -> QuantizationReport {
    quantizationReportAndOutputs(
        float: float, quantized: quantized, test: test, maxSamples: maxSamples,
        layerSamples: layerSamples
    ).report
}

/// `quantizationReport`, plus the int8 output tensor of every compared sample (the Swift
/// reference's answers), so later checks need not run the interpreter again. The per-layer
/// figures compare each int8 tensor with the same tensor id of the lowered float graph (the
/// int8 graph is the lowered graph, quantized).
public func quantizationReportAndOutputs(
    float: Graph, quantized: Graph, test: Dataset,
    maxSamples: Int? = nil, layerSamples: Int = 64
)
    -> (report: QuantizationReport, outputs: [[Int8]])
{
    let n = min(test.count, maxSamples ?? test.count)
    var outputs: [[Int8]] = []
    outputs.reserveCapacity(n)
    let lowered = (try? float.lowered()).flatMap { $0.tensors.count == quantized.tensors.count ? $0 : nil }
    let interp = Int8Interpreter()
    var floatRight = 0, intRight = 0, labelled = 0, agree = 0
    let classes = quantized[quantized.output].count
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    let opTensors = quantized.nodes.map { $0.output }
    var signal = [Double](repeating: 0, count: opTensors.count)
    var noise = [Double](repeating: 0, count: opTensors.count)
    let nLayer = lowered == nil ? 0 : min(n, layerSamples)
    func argmax(_ v: [Float]) -> Int { v.indices.reduce(0) { v[$1] > v[$0] ? $1 : $0 } }
    for i in 0..<n {
        let x = Array(test.x[(i * test.sampleSize)..<((i + 1) * test.sampleSize)])
        let fOut = float.predictFloat(x)
        let all = interp.runAll(quantized, input: quantized.quantizeInput(x))
        outputs.append(all[quantized.output.index])
        let qOut = quantized.dequantize(all[quantized.output.index])
        let (fa, qa) = (argmax(fOut), argmax(qOut))
        if fa == qa { agree += 1 }
        let label = Int(test.labels[i])
        if label >= 0 {
            labelled += 1
            if fa == label { floatRight += 1 }
            if qa == label { intRight += 1 }
            if label < classes, qa < classes { confusion[label][qa] += 1 }
        }
        if i < nLayer, let lowered {
            let fv = lowered.runFloat(x)
            for (k, t) in opTensors.enumerated() {
                let f = fv[t.index]
                let d = quantized.dequantize(all[t.index], tensor: t)
                for j in 0..<min(f.count, d.count) {
                    signal[k] += Double(f[j]) * Double(f[j])
                    noise[k] += (Double(f[j]) - Double(d[j])) * (Double(f[j]) - Double(d[j]))
                }
            }
        }
    }
    let layers =
        nLayer == 0
        ? []
        : quantized.nodes.enumerated().map { k, node in
            QuantizationReport.LayerError(
                name: quantized[node.output].name, kind: DeviceOp(node.op)?.name ?? node.op.kind,
                sqnrDB: noise[k] == 0 ? 150 : max(-150, min(150, 10 * log10(signal[k] / noise[k]))))
        }
    let report = QuantizationReport(
        samples: n,
        floatAccuracy: labelled > 0 ? Double(floatRight) / Double(labelled) : nil,
        int8Accuracy: labelled > 0 ? Double(intRight) / Double(labelled) : nil,
        top1Agreement: n > 0 ? Double(agree) / Double(n) : 0,
        layerSamples: nLayer, layers: layers, confusion: labelled > 0 ? confusion : nil)
    return (report, outputs)
}
