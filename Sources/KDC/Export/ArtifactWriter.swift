import CZlib
import Foundation

/// Layout constants of the device artifact, format version 1 (docs/FORMAT.md).
public enum ArtifactFormat {
    public static let magic: [UInt8] = Array("KDCM".utf8)
    public static let version: UInt16 = 1
    public static let headerBytes = 32
    public static let bodyHeaderBytes = 24
    public static let tensorRecordBytes = 32
    public static let opRecordBytes = 48
    /// Header flags bit 0: the body is a zlib stream.
    public static let flagCompressed: UInt16 = 1
    /// input1 of every op that is not ADD.
    public static let noTensor: UInt16 = 0xFFFF
    /// Largest reduction (K of FC, k_h·k_w·C_in of conv, k_h·k_w of windows) the runtime accepts.
    public static let maxReduce = 65536

    /// The op code the runtime uses for each op kind.
    public static func opcode(_ kind: QuantizedGraph.OpKind) -> UInt8 {
        switch kind {
        case .fullyConnected: return 1
        case .conv2d: return 2
        case .depthwiseConv2d: return 3
        case .maxPool2d: return 4
        case .averagePool2d: return 5
        case .globalAveragePool: return 6
        case .add: return 7
        case .reshape: return 8
        case .clamp: return 9
        }
    }

    /// The op kind of a runtime op code, nil if unknown.
    public static func kind(_ opcode: UInt8) -> QuantizedGraph.OpKind? {
        QuantizedGraph.OpKind.allCases.first { self.opcode($0) == opcode }
    }

    /// The artifact shape (rank ≤ 4, batch 1 first) of a per-sample QuantizedGraph shape:
    /// `[C]` → `[1, C]`, `[H, W, C]` → `[1, H, W, C]`; a GLOBAL_AVERAGE_POOL output is
    /// written `[1, 1, 1, C]` (docs/FORMAT.md 3.3).
    static func deviceShape(_ shape: [Int], gapOutput: Bool) -> [Int] {
        if gapOutput && shape.count == 1 { return [1, 1, 1, shape[0]] }
        return [1] + shape
    }
}

/// Little-endian byte building.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func i8(_ v: Int32) { bytes.append(UInt8(bitPattern: Int8(v))) }
    mutating func u16(_ v: Int) { u16(UInt16(v)) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xff)); bytes.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(s)) & 0xff)) } }
    mutating func u32(_ v: Int) { u32(UInt32(v)) }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func pad(to multiple: Int) { while bytes.count % multiple != 0 { bytes.append(0) } }
    mutating func zeros(_ n: Int) { bytes += [UInt8](repeating: 0, count: n) }
}

/// CRC-32 (IEEE, zlib's `crc32`) of `bytes`.
public func kdcCRC32(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { p in
        UInt32(crc32(0, p.baseAddress, uInt(p.count)))
    }
}

/// Turns a `QuantizedGraph` and its `MemoryPlan` into artifact bytes (docs/FORMAT.md, v1).
/// The QuantizedGraph's weight layouts (FC `[N][K]`, conv OHWI, depthwise `[KH][KW][C]`) are
/// the runtime's, so weights are copied as they are. Same graph and plan → same bytes.
public enum ArtifactWriter {
    /// The raw (uncompressed) body: body header, tensor table, op table, constants.
    /// - Throws: `KDCError.budget` when a dimension, count or offset does not fit its field,
    ///   `KDCError.graph` for an op the format cannot express (naming the op).
    public static func body(_ g: QuantizedGraph, plan: MemoryPlan) throws -> [UInt8] {
        let nt = g.tensors.count, no = g.ops.count
        guard nt >= 1, nt < Int(ArtifactFormat.noTensor), no >= 1, no <= 0xFFFF else {
            throw KDCError.budget(
                message: "artifact: \(nt) tensors and \(no) ops; the format needs 1..65534 tensors and 1..65535 ops")
        }
        guard plan.offsets.count == nt else {
            throw KDCError.graph(layer: "graph", message: "memory plan has \(plan.offsets.count) tensors, graph has \(nt)")
        }
        let gapOutputs = Set(g.ops.filter { $0.kind == .globalAveragePool }.map(\.output))
        let tOff = ArtifactFormat.bodyHeaderBytes
        let oOff = tOff + ArtifactFormat.tensorRecordBytes * nt
        let cOff = oOff + ArtifactFormat.opRecordBytes * no

        // Constants first (the op records need their offsets).
        var consts = ByteWriter()
        var constOffsets: [[Int]] = []  // per op: weights, bias, multipliers, shifts
        for op in g.ops {
            guard [.fullyConnected, .conv2d, .depthwiseConv2d].contains(op.kind) else { constOffsets.append([]); continue }
            let n = op.bias.count
            guard op.outputMultipliers.count == n, op.outputShifts.count == n else {
                throw KDCError.graph(layer: op.name, message: "bias, multiplier and shift arrays differ in length")
            }
            var offs: [Int] = []
            consts.pad(to: 4); offs.append(consts.bytes.count)
            consts.bytes += op.weights.map { UInt8(bitPattern: $0) }
            consts.pad(to: 4); offs.append(consts.bytes.count); op.bias.forEach { consts.i32($0) }
            offs.append(consts.bytes.count); op.outputMultipliers.forEach { consts.i32($0) }
            offs.append(consts.bytes.count); op.outputShifts.forEach { consts.i32($0) }
            constOffsets.append(offs)
        }

        var w = ByteWriter()
        w.u16(nt); w.u16(no); w.u16(g.input); w.u16(g.output)
        w.u32(tOff); w.u32(oOff); w.u32(cOff); w.u32(consts.bytes.count)
        for (i, t) in g.tensors.enumerated() {
            let dims = ArtifactFormat.deviceShape(t.shape, gapOutput: gapOutputs.contains(i))
            guard dims.count <= 4, dims.allSatisfy({ $0 >= 1 && $0 <= 0xFFFF }) else {
                throw KDCError.budget(
                    message:
                        "tensor '\(t.name)': shape \(t.shape) does not fit the artifact (rank ≤ 3 per sample, each dim 1...65535)"
                )
            }
            w.u8(UInt8(dims.count)); w.u8(0); w.u16(0)
            for d in 0..<4 { w.u16(d < dims.count ? dims[d] : 1) }
            w.u32(t.scale.bitPattern)
            w.i32(t.zeroPoint)
            w.u32(plan.offsets[i]); w.u32(t.count); w.u32(0)
        }
        for (i, op) in g.ops.enumerated() {
            try opRecord(op, consts: constOffsets[i], into: &w)
        }
        precondition(w.bytes.count == cOff)
        w.bytes += consts.bytes
        return w.bytes
    }

    static func opRecord(_ op: QuantizedGraph.Op, consts: [Int], into w: inout ByteWriter) throws {
        let twoInputs = op.kind == .add
        guard op.inputs.count == (twoInputs ? 2 : 1) else {
            throw KDCError.graph(layer: op.name, message: "\(op.kind.rawValue) with \(op.inputs.count) inputs")
        }
        guard op.actMin >= -128, op.actMax <= 127, op.actMin <= op.actMax else {
            throw KDCError.graph(layer: op.name, message: "clamp [\(op.actMin), \(op.actMax)] is not an int8 range")
        }
        let start = w.bytes.count
        w.u8(ArtifactFormat.opcode(op.kind)); w.i8(op.actMin); w.i8(op.actMax); w.u8(0)
        w.u16(op.inputs[0]); w.u16(twoInputs ? op.inputs[1] : Int(ArtifactFormat.noTensor)); w.u16(op.output); w.u16(0)
        switch op.kind {
        case .conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d:
            let fields = [op.kernel.h, op.kernel.w, op.stride.h, op.stride.w, op.padTop, op.padLeft]
            guard fields.allSatisfy({ $0 >= 0 && $0 <= 0xFFFF }), op.depthMultiplier >= 0, op.depthMultiplier <= 0xFFFF else {
                throw KDCError.budget(message: "layer '\(op.name)': window parameters \(fields) do not fit 16 bits")
            }
            fields.forEach { w.u16($0) }
            w.u16(op.kind == .depthwiseConv2d ? op.depthMultiplier : 0); w.u16(0)
        case .add:
            guard let p = op.add else { throw KDCError.graph(layer: op.name, message: "ADD without requantization parameters") }
            guard p.leftShift == 20 else {
                throw KDCError.graph(layer: op.name, message: "ADD left shift \(p.leftShift); the runtime implements 20 only")
            }
            [p.input1Multiplier, p.input1Shift, p.input2Multiplier, p.input2Shift, p.outputMultiplier, p.outputShift]
                .forEach { w.i32($0) }
        default: break
        }
        if !consts.isEmpty {
            w.zeros(start + 28 - w.bytes.count)  // FC: window words are zero
            consts.forEach { w.u32($0) }
        }
        w.zeros(start + ArtifactFormat.opRecordBytes - w.bytes.count)
    }

    /// The complete artifact: 32-byte header + body, stored or zlib-deflated (level 9).
    public static func artifact(_ g: QuantizedGraph, plan: MemoryPlan, compress: Bool) throws -> [UInt8] {
        let raw = try body(g, plan: plan)
        return try artifact(rawBody: raw, arenaBytes: plan.arenaBytes, compress: compress)
    }

    /// Wraps a raw body into an artifact.
    public static func artifact(rawBody raw: [UInt8], arenaBytes: Int, compress: Bool) throws -> [UInt8] {
        let stored = compress ? try deflate(raw) : raw
        guard stored.count <= Int(Int32.max) - 32, raw.count <= Int(Int32.max) - 32 else {
            throw KDCError.budget(message: "artifact body of \(raw.count) bytes exceeds the 2 GiB format limit")
        }
        var h = ByteWriter()
        h.bytes = ArtifactFormat.magic
        h.u16(ArtifactFormat.version)
        h.u16(compress ? ArtifactFormat.flagCompressed : 0)
        h.u16(ArtifactFormat.headerBytes); h.u16(0)
        h.u32(stored.count); h.u32(raw.count); h.u32(max(arenaBytes, 1))
        h.u32(kdcCRC32(raw))
        h.u32(kdcCRC32(h.bytes))
        return h.bytes + stored
    }

    /// zlib stream (RFC 1950) of `bytes` with `compress2` at level 9: deterministic.
    public static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        var destLen = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(destLen))
        let rc = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in
                compress2(o.baseAddress, &destLen, i.baseAddress, uLong(i.count), 9)
            }
        }
        guard rc == Z_OK else { throw KDCError.io(path: "<deflate>", message: "zlib compress2 failed with code \(rc)") }
        return Array(out[0..<Int(destLen)])
    }

    /// Inflates a zlib stream that must decompress to exactly `rawBytes` bytes.
    /// - Throws: `KDCError.format` naming `file`.
    public static func inflate(_ bytes: [UInt8], rawBytes: Int, file: String) throws -> [UInt8] {
        // One spare byte detects a stream that inflates to more than declared.
        var destLen = uLong(rawBytes + 1)
        var srcLen = uLong(bytes.count)
        var out = [UInt8](repeating: 0, count: rawBytes + 1)
        let rc = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in
                uncompress2(o.baseAddress, &destLen, i.baseAddress, &srcLen)
            }
        }
        switch rc {
        case Z_OK: break
        case Z_BUF_ERROR where destLen == uLong(rawBytes + 1):
            throw KDCError.format(
                file: file, message: "raw_body_bytes: body inflates to more than the declared \(rawBytes) bytes")
        default:
            throw KDCError.format(file: file, message: "body: malformed or truncated zlib stream (zlib code \(rc))")
        }
        guard Int(srcLen) == bytes.count else {
            throw KDCError.format(
                file: file, message: "stored_body_bytes: the zlib stream ends after \(srcLen) of \(bytes.count) stored bytes")
        }
        guard Int(destLen) == rawBytes else {
            throw KDCError.format(
                file: file, message: "raw_body_bytes: body inflates to \(destLen) bytes, header says \(rawBytes)")
        }
        return Array(out[0..<rawBytes])
    }
}
