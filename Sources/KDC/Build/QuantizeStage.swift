import Foundation

/// The int8 student and how it compares with the float one.
public struct QuantizedStudent {
    public var graph: Graph
    public var report: QuantizationReport
    /// The Swift int8 reference's output for every test sample, in order.
    public var testOutputs: [[Int8]]
}

extension Pipeline {
    /// The calibration subset: `quantize.calibration_samples` training samples drawn with the
    /// split seed (so it does not move with the training seed).
    public func calibrationSet(_ data: DataSplits) -> Dataset {
        let n = min(config.quantize.calibrationSamples, data.train.count)
        var rng = SeededRNG(seed: config.data.split.seed, stream: "calibration")
        return data.train.subset(Array(rng.permutation(data.train.count).prefix(n)).sorted(), name: "calibration")
    }

    /// Folds batch norm, fuses activations, calibrates and converts the student to int8 (in
    /// TensorFlow Lite's arithmetic with `export.tflite`), then compares int8 with float on the
    /// test split (accuracy, top-1 agreement, per-layer SQNR).
    public func quantize(_ model: Model, data: DataSplits) throws -> QuantizedStudent {
        stage(
            "quantize",
            detail: "\(config.quantize.method.rawValue) calibration on \(calibrationSet(data).count) training samples")
        let (float, graph) = try quantizedGraphs(model, data: data)
        let (report, outputs) = quantizationReportAndOutputs(float: float, quantized: graph, test: data.test)
        return QuantizedStudent(graph: graph, report: report, testOutputs: outputs)
    }

    /// The float graph (with its input stage) and the int8 graph `quantize` ships: calibrated on
    /// `calibrationSet`, the input quantized as the audio front end's output when there is one,
    /// in TFLite's arithmetic with `export.tflite`, with the device's input stage.
    public func quantizedGraphs(_ model: Model, data: DataSplits) throws -> (float: Graph, int8: Graph) {
        var float = model.floatGraph
        float.inputStage = config.frontend.map { .audio($0) } ?? data.inputStage
        let calib = calibrationSet(data)
        // An audio front end fixes the input's quantization: the model reads its int8 features as they are.
        let fe = try config.frontend.map { try AudioFrontEnd($0) }
        var graph = try KDC.quantize(
            float, calibration: calib, method: config.quantize.method,
            percentile: config.quantize.percentile,
            inputQuant: fe.map { (scale: $0.outputScale, zeroPoint: Int32($0.outputZeroPoint)) })
        // export.tflite: TFLite's arithmetic, so the .kdc and the .tflite compute the same bytes.
        if config.export.tflite { graph = try graph.tfliteArithmetic() }
        // What the device applies before the model goes with it: the audio front end, or a time
        // series' per-channel normalization (InputStage.sensor).
        graph.inputStage = fe.map { .audio($0.config) } ?? data.inputStage
        return (float, graph)
    }
}

extension QuantizationReport {
    /// A readable table: accuracies, agreement and per-layer SQNR.
    public var summary: String {
        var s =
            "int8 vs float on \(samples) test samples: float \(fmtPct(floatAccuracy)), int8 \(fmtPct(int8Accuracy)), "
            + "top-1 agreement \(fmtPct(top1Agreement))\n"
        s += "per-layer SQNR (dB, \(layerSamples) samples):"
        for l in layers { s += "  \(l.name) \(String(format: "%.1f", l.sqnrDB))" }
        return s + "\n"
    }
}
