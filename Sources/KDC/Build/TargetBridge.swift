import Foundation
import KDCTarget

// What the pipeline hands the target layer (Sources/KDCTarget), which knows nothing of kdc's
// graph: int8 inputs, the reference outputs, op codes, MACs, the exported files; and its errors
// as kdc's.

extension KDCError {
    /// The target layer's error as kdc's, with the same subject and message: a malformed file or
    /// output is `.format`, a value out of its contract `.data`, any other (tools, files,
    /// programs) `.io`.
    public init(_ e: TargetError) {
        switch e {
        case .format: self = .format(file: e.subject, message: e.message)
        case .invalidInput: self = .data(file: e.subject, message: e.message)
        default: self = .io(path: e.subject, message: e.message)
        }
    }
}

/// `body`, with a `TargetError` thrown as the `KDCError` it maps to.
public func withKDCErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as TargetError {
        throw KDCError(e)
    }
}

extension QuantizedGraph {
    /// Multiply-accumulates of one inference: fully connected K·N, convolution
    /// out_h·out_w·out_c·k_h·k_w·in_c, depthwise out_h·out_w·out_c·k_h·k_w; other ops 0.
    public var macs: Int {
        ops.reduce(0) { sum, op in
            let x = tensors[op.inputs[0]], y = tensors[op.output]
            switch op.kind {
            case .fullyConnected: return sum + x.count * y.count
            case .conv2d: return sum + y.count * op.kernel.h * op.kernel.w * (x.shape.last ?? 1)
            case .depthwiseConv2d: return sum + y.count * op.kernel.h * op.kernel.w
            default: return sum
            }
        }
    }

    /// The runtime op codes of its ops (`ArtifactFormat.opcode`).
    public var opCodes: Set<Int> { Set(ops.map { Int(ArtifactFormat.opcode($0.kind)) }) }

    /// The first `limit` samples of `data` (all when nil), already normalized, quantized with
    /// the graph's input parameters.
    public func quantizedInputs(_ data: Dataset, limit: Int? = nil) -> [[Int8]] {
        let n = min(data.count, limit ?? data.count), k = data.sampleSize
        return (0..<n).map { i in quantizeInput(Array(data.x[(i * k)..<((i + 1) * k)])) }
    }
}

extension ArtifactDescription {
    /// Multiply-accumulates per inference of the ops in the artifact (as `QuantizedGraph.macs`).
    public var macs: Int {
        ops.reduce(0) { sum, op in
            let x = tensors[op.inputs[0]].dims, y = tensors[op.output].dims
            let outCount = y.reduce(1, *)
            switch op.kind {
            case .fullyConnected: return sum + outCount * x.reduce(1, *)
            case .conv2d: return sum + outCount * op.kernel.h * op.kernel.w * (x.last ?? 1)
            case .depthwiseConv2d: return sum + outCount * op.kernel.h * op.kernel.w
            default: return sum
            }
        }
    }
}

extension ExportResult {
    /// The exported files and sizes as the firmware check takes them.
    public var exportedModel: ExportedModel {
        let header = URL(fileURLWithPath: headerPath)
        return ExportedModel(
            directory: header.deletingLastPathComponent().path, name: header.deletingPathExtension().lastPathComponent,
            compressed: compressed, arenaBytes: arenaBytes, rawBytes: rawBytes)
    }
}
