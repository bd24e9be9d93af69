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

extension KernelScratch.Variant {
    /// The kernel variant `board` compiles (`Board.kernelVariant`); nil for a name no case has.
    public init?(board: Board) { self.init(rawValue: board.kernelVariant) }
}

extension Graph {
    /// The device op codes of its nodes (`DeviceOp`), for the firmware's stack prediction.
    public var opCodes: Set<Int> { Set(nodes.compactMap { DeviceOp($0.op).map { Int($0.rawValue) } }) }

    /// The first `limit` samples of `data` (all when nil), already normalized, quantized with
    /// the graph's input parameters.
    public func quantizedInputs(_ data: Dataset, limit: Int? = nil) -> [[Int8]] {
        let n = min(data.count, limit ?? data.count), k = data.sampleSize
        return (0..<n).map { i in quantizeInput(Array(data.x[(i * k)..<((i + 1) * k)])) }
    }
}

extension ExportResult {
    /// The exported files and sizes as the firmware check takes them.
    public var exportedModel: ExportedModel {
        let header = URL(fileURLWithPath: headerPath)
        return ExportedModel(
            directory: header.deletingLastPathComponent().path, name: header.deletingPathExtension().lastPathComponent,
            compressed: compressed, arenaBytes: arenaTotalBytes, rawBytes: rawBytes, streamBytes: streamBytes)
    }
}
