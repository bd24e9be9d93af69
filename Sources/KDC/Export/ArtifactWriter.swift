import CZlib
import Foundation

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

/// Turns an int8 `Graph` and its `MemoryPlan` into artifact bytes (docs/FORMAT.md, v1). The
/// graph's int8 weight layouts (dense `[N][K]`, conv OHWI, depthwise `[KH][KW][C]`) are the
/// runtime's, so weights are copied as they are. Same graph and plan → same bytes.
public enum ArtifactWriter {
    typealias H = ArtifactFormat.Header
    typealias B = ArtifactFormat.Body
    typealias T = ArtifactFormat.TensorRecord
    typealias R = ArtifactFormat.OpRecord

    /// The raw (uncompressed) body: body header, tensor table, op table, constants.
    /// - Throws: `KDCError.budget` when a dimension, count or offset does not fit its field,
    ///   `KDCError.graph` for a node the format cannot express (naming it), SOFTMAX in a graph
    ///   whose arithmetic is not `.tflite` among them.
    public static func body(_ g: Graph, plan: MemoryPlan) throws -> [UInt8] {
        let nt = g.tensors.count, no = g.nodes.count
        guard nt >= 1, nt < Int(ArtifactFormat.noTensor), no >= 1, no <= 0xFFFF else {
            throw KDCError.budget(
                message: "artifact: \(nt) tensors and \(no) ops; the format needs 1..65534 tensors and 1..65535 ops")
        }
        guard plan.offsets.count == nt else {
            throw KDCError.graph(layer: "graph", message: "memory plan has \(plan.offsets.count) tensors, graph has \(nt)")
        }
        // Canonical numbering (docs/FORMAT.md 3.1): the input is tensor 0, node i writes tensor i + 1.
        guard g.input.index == 0, nt == no + 1, g.nodes.enumerated().allSatisfy({ $0.element.output.index == $0.offset + 1 })
        else {
            throw KDCError.graph(
                layer: "graph", message: "tensors are not in canonical order (input 0, node i writes tensor i + 1)")
        }
        var gapOutputs = Set<Int>()
        for n in g.nodes where n.op == .globalAvgPool { gapOutputs.insert(n.output.index) }
        let tOff = B.bytes
        let oOff = tOff + T.bytes * nt
        let cOff = oOff + R.bytes * no

        // Constants first (the op records need their offsets).
        var consts = ByteWriter()
        var constOffsets: [[Int]] = []  // per node: weights, bias, multipliers, shifts
        for n in g.nodes {
            guard n.op.hasWeights else { constOffsets.append([]); continue }
            guard let w = n.int8?.weights else {
                throw KDCError.graph(layer: n.name, message: "\(n.op.kind) has no int8 weights (quantize the graph first)")
            }
            let c = w.bias.count
            guard w.multipliers.count == c, w.shifts.count == c else {
                throw KDCError.graph(layer: n.name, message: "bias, multiplier and shift arrays differ in length")
            }
            var offs: [Int] = []
            consts.pad(to: 4); offs.append(consts.bytes.count)
            consts.bytes += w.values.map { UInt8(bitPattern: $0) }
            consts.pad(to: 4); offs.append(consts.bytes.count); w.bias.forEach { consts.i32($0) }
            offs.append(consts.bytes.count); w.multipliers.forEach { consts.i32($0) }
            offs.append(consts.bytes.count); w.shifts.forEach { consts.i32($0) }
            constOffsets.append(offs)
        }

        var w = ByteWriter()
        w.u16(nt); w.u16(no); w.u16(g.input.index); w.u16(g.output.index)
        w.u32(tOff); w.u32(oOff); w.u32(cOff); w.u32(consts.bytes.count)
        for (i, t) in g.tensors.enumerated() {
            let dims = ArtifactFormat.deviceShape(t.shape, gapOutput: gapOutputs.contains(i))
            guard dims.count <= 4, dims.allSatisfy({ $0 >= 1 && $0 <= 0xFFFF }) else {
                throw KDCError.budget(
                    message:
                        "tensor '\(t.name)': shape \(t.shape) does not fit the artifact (rank ≤ 3 per sample, each dim 1...65535)"
                )
            }
            guard let q = t.quant, t.type == .int8 else {
                throw KDCError.graph(layer: t.name, message: "tensor is not int8 (quantize the graph first)")
            }
            w.u8(UInt8(dims.count)); w.u8(0); w.u16(0)
            for d in 0..<4 { w.u16(d < dims.count ? dims[d] : 1) }
            w.u32(q.scale.bitPattern)
            w.i32(q.zeroPoint)
            w.u32(plan.offsets[i]); w.u32(t.count); w.u32(0)
        }
        for (i, n) in g.nodes.enumerated() {
            try opRecord(g, n, consts: constOffsets[i], into: &w)
        }
        precondition(w.bytes.count == cOff)
        w.bytes += consts.bytes
        if let stage = try InputStageBlock.encode(g) {  // docs/FORMAT.md 3.7
            w.pad(to: 4)
            w.bytes += stage
        }
        return w.bytes
    }

    static func opRecord(_ g: Graph, _ n: GraphNode, consts: [Int], into w: inout ByteWriter) throws {
        guard let code = DeviceOp(n.op) else {
            throw KDCError.graph(layer: n.name, message: "\(n.op.kind) has no device op (lower the graph first)")
        }
        guard n.inputs.count == code.arity else {
            throw KDCError.graph(layer: n.name, message: "\(code.name) with \(n.inputs.count) inputs")
        }
        let p = n.int8 ?? Int8Params()
        guard p.actMin >= -128, p.actMax <= 127, p.actMin <= p.actMax else {
            throw KDCError.graph(layer: n.name, message: "clamp [\(p.actMin), \(p.actMax)] is not an int8 range")
        }
        let start = w.bytes.count
        w.u8(code.rawValue); w.i8(p.actMin); w.i8(p.actMax); w.u8(0)
        w.u16(n.inputs[0].index); w.u16(code.arity == 2 ? n.inputs[1].index : Int(ArtifactFormat.noTensor))
        w.u16(n.output.index); w.u16(0)
        if code.hasWindow {
            guard let geo = g.window(of: n) else {
                throw KDCError.graph(layer: n.name, message: "\(code.name) needs [H, W, C] input and output shapes")
            }
            var mult = 0
            if case let .depthwiseConv2d(_, _, _, m) = n.op { mult = m }
            let fields = [geo.kh, geo.kw, geo.sh, geo.sw, geo.padTop, geo.padLeft]
            guard fields.allSatisfy({ $0 >= 0 && $0 <= 0xFFFF }), mult >= 0, mult <= 0xFFFF else {
                throw KDCError.budget(message: "layer '\(n.name)': window parameters \(fields) do not fit 16 bits")
            }
            fields.forEach { w.u16($0) }
            w.u16(mult); w.u16(0)
        }
        if code == .add {
            guard let a = p.add else { throw KDCError.graph(layer: n.name, message: "ADD without requantization parameters") }
            guard a.leftShift == 20 else {
                throw KDCError.graph(layer: n.name, message: "ADD left shift \(a.leftShift); the runtime implements 20 only")
            }
            [a.input1Multiplier, a.input1Shift, a.input2Multiplier, a.input2Shift, a.outputMultiplier, a.outputShift]
                .forEach { w.i32($0) }
        }
        if code == .leakyRelu {
            guard let l = p.leaky else {
                throw KDCError.graph(layer: n.name, message: "LEAKY_RELU without requantization parameters")
            }
            [l.identityMultiplier, l.identityShift, l.alphaMultiplier, l.alphaShift].forEach { w.i32($0) }
        }
        if code == .softmax {
            // TFLite's op: an artifact holds it only with the TFLite flag (docs/FORMAT.md 3.3).
            guard g.arithmetic == .tflite else {
                throw KDCError.graph(
                    layer: n.name,
                    message:
                        "SOFTMAX exists in TFLite-arithmetic artifacts only and this graph's arithmetic is kdc; hint: SOFTMAX comes from `kdc import` of a .tflite model (arithmetic .tflite), a kdc model ends at its logits (kdc_softmax on the device gives probabilities)"
                )
            }
            guard let s = p.softmax else {
                throw KDCError.graph(layer: n.name, message: "SOFTMAX without its input multiplier (SoftmaxParams)")
            }
            [s.multiplier, s.leftShift, s.diffMin].forEach { w.i32($0) }
        }
        if !consts.isEmpty {
            w.zeros(start + R.weightsOffset - w.bytes.count)  // FC: window words are zero
            consts.forEach { w.u32($0) }
        }
        w.zeros(start + R.bytes - w.bytes.count)
    }

    /// The complete artifact: 32-byte header + body, stored or zlib-deflated (level 9).
    public static func artifact(_ g: Graph, plan: MemoryPlan, compress: Bool) throws -> [UInt8] {
        let raw = try body(g, plan: plan)
        return try artifact(
            rawBody: raw, arenaBytes: plan.arenaBytes, compress: compress, flags: ArtifactFormat.flags(of: g))
    }

    /// Wraps a raw body into an artifact; `flags`: the header flags besides compression
    /// (`ArtifactFormat.flags(of:)`).
    public static func artifact(rawBody raw: [UInt8], arenaBytes: Int, compress: Bool, flags: UInt16 = 0) throws -> [UInt8] {
        let stored = compress ? try deflate(raw) : raw
        guard stored.count <= Int(Int32.max) - 32, raw.count <= Int(Int32.max) - 32 else {
            throw KDCError.budget(message: "artifact body of \(raw.count) bytes exceeds the 2 GiB format limit")
        }
        var h = ByteWriter()
        h.bytes = ArtifactFormat.magic
        h.u16(ArtifactFormat.version)
        h.u16((compress ? ArtifactFormat.flagCompressed : 0) | flags)
        h.u16(H.bytes); h.u16(0)
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
