import Foundation

/// A validated artifact read back (docs/FORMAT.md v1): its header and the int8 graph it holds.
public struct Artifact: Equatable, Sendable {
    /// Where each tensor lives and how the artifact shapes it.
    public struct TensorPlacement: Equatable, Sendable {
        /// Device shape, batch first: `[1, N]` or `[1, H, W, C]` (rank 1...4).
        public var dims: [Int]
        public var arenaOffset: Int
        public var byteSize: Int
    }

    public var version: Int
    public var compressed: Bool
    /// The header flags besides compression (TFLite arithmetic, float input, float output); the
    /// graph carries them too (`arithmetic`, `floatInput`, `floatOutput`).
    public var flags: Int
    /// Header + stored body.
    public var totalBytes: Int
    public var storedBodyBytes: Int
    public var rawBodyBytes: Int
    public var arenaBytes: Int
    public var bodyCRC32: UInt32
    /// The model: int8 tensors named `t<id>`, nodes named `op<index>`; windowed ops carry
    /// `Padding.explicit` and the shapes of the tensor table; no float parameters and no
    /// weight scales (the artifact does not store them).
    public var graph: Graph
    /// Per tensor id.
    public var placements: [TensorPlacement]
    /// Bytes of the constant section (weights, biases, multipliers, shifts, padding).
    public var constBytes: Int
    /// The raw body (inflated if the artifact was compressed).
    public var rawBody: [UInt8]
    /// The input-stage block as stored (header flag bit 4; `graph.inputStage` holds its config).
    public var inputStage: InputStageBlock.Decoded? = nil
}

/// Parses and validates an artifact the way `kdc_init` does (after `kdc_unpack` for a
/// compressed one): header, CRCs, body layout, every tensor, every op, constant ranges,
/// quantization parameters, graph order and aliasing. Each failure is a
/// `KDCError.format(file:message:)` whose message starts with the field that is wrong
/// (`header.magic`, `tensor 3.zero_point`, `op 1 (CONV_2D).pad_top`, ...).
public enum ArtifactReader {
    typealias H = ArtifactFormat.Header
    typealias B = ArtifactFormat.Body
    typealias T = ArtifactFormat.TensorRecord
    typealias R = ArtifactFormat.OpRecord

    /// Reads and validates the artifact at `path`.
    public static func read(path: String) throws -> Artifact {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KDCError.io(path: path, message: "cannot read the artifact (missing or unreadable)")
        }
        return try parse([UInt8](data), file: path)
    }

    /// Validates `bytes` (a whole artifact); `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String = "<artifact>") throws -> Artifact {
        func fail(_ field: String, _ msg: String) -> KDCError { .format(file: file, message: "\(field): \(msg)") }
        let r = LEReader(bytes)
        // Header (kdc_query).
        guard bytes.count >= H.bytes else {
            throw fail("header", "truncated: \(bytes.count) bytes, the header alone is \(H.bytes)")
        }
        guard Array(bytes[H.magic..<(H.magic + 4)]) == ArtifactFormat.magic else {
            throw fail("header.magic", "not \"KDCM\": not a kdc artifact")
        }
        let version = r.u16(H.version)
        guard version == Int(ArtifactFormat.version) else {
            throw fail("header.version", "\(version), this reader supports version \(ArtifactFormat.version)")
        }
        let hcrc = r.u32(H.headerCRC32)
        guard kdcCRC32(Array(bytes[0..<H.headerCRC32])) == hcrc else {
            throw fail("header.header_crc32", "mismatch: header corrupted")
        }
        let flags = r.u16(H.flags), stored = Int(r.u32(H.storedBodyBytes)), raw = Int(r.u32(H.rawBodyBytes))
        let arena = Int(r.u32(H.arenaBytes))
        guard r.u16(H.headerSize) == H.bytes else {
            throw fail("header.header_size", "\(r.u16(H.headerSize)), must be \(H.bytes)")
        }
        guard r.u16(H.reserved) == 0 else { throw fail("header.reserved", "must be 0") }
        guard flags & ~Int(ArtifactFormat.flagsKnown) == 0 else {
            throw fail("header.flags", "unknown bits set (0x\(String(flags, radix: 16)); bits 0...4 are defined)")
        }
        let compressed = flags & Int(ArtifactFormat.flagCompressed) != 0
        let tflite = flags & Int(ArtifactFormat.flagTFLite) != 0
        if !compressed && stored != raw {
            throw fail("header.stored_body_bytes", "\(stored) differs from raw_body_bytes \(raw) in a stored artifact")
        }
        if compressed && stored < 6 {
            throw fail("header.stored_body_bytes", "\(stored) is shorter than the smallest zlib stream")
        }
        guard raw >= B.bytes else {
            throw fail("header.raw_body_bytes", "\(raw) is smaller than the \(B.bytes)-byte body header")
        }
        guard arena > 0 else { throw fail("header.arena_bytes", "must be > 0") }
        let limit = 0x7fff_ffff - H.bytes
        guard stored <= limit, raw <= limit else { throw fail("header.stored_body_bytes", "artifact larger than 2 GiB") }
        guard bytes.count >= H.bytes + stored else {
            throw fail(
                "header.stored_body_bytes", "truncated: file has \(bytes.count - H.bytes) body bytes, header says \(stored)")
        }
        let storedBody = Array(bytes[H.bytes..<(H.bytes + stored)])
        let body = compressed ? try ArtifactWriter.inflate(storedBody, rawBytes: raw, file: file) : storedBody
        let bodyCRC = r.u32(H.bodyCRC32)
        guard kdcCRC32(body) == bodyCRC else { throw fail("header.body_crc32", "mismatch: body corrupted") }

        // Body header.
        let b = LEReader(body)
        let nt = b.u16(B.nTensors), no = b.u16(B.nOps), inputId = b.u16(B.inputID), outputId = b.u16(B.outputID)
        let tOff = Int(b.u32(B.tensorsOffset)), oOff = Int(b.u32(B.opsOffset))
        let cOff = Int(b.u32(B.constOffset)), cBytes = Int(b.u32(B.constBytes))
        guard tOff % 4 == 0, oOff % 4 == 0, cOff % 4 == 0 else {
            throw fail("body.offsets", "tensors/ops/const offsets must be multiples of 4")
        }
        guard tOff >= B.bytes, tOff + T.bytes * nt <= raw else {
            throw fail("body.tensors_offset", "tensor table [\(tOff), +\(T.bytes * nt)) outside the \(raw)-byte body")
        }
        guard oOff >= B.bytes, oOff + R.bytes * no <= raw else {
            throw fail("body.ops_offset", "op table [\(oOff), +\(R.bytes * no)) outside the \(raw)-byte body")
        }
        guard cOff + cBytes <= raw else {
            throw fail("body.const_offset", "constant section [\(cOff), +\(cBytes)) outside the \(raw)-byte body")
        }
        guard nt >= 1 else { throw fail("body.n_tensors", "must be >= 1") }
        guard no >= 1 else { throw fail("body.n_ops", "must be >= 1") }
        guard inputId < nt else { throw fail("body.input_id", "\(inputId) out of range (\(nt) tensors)") }
        guard outputId < nt else { throw fail("body.output_id", "\(outputId) out of range (\(nt) tensors)") }
        // Canonical graph order (docs/FORMAT.md §4): the input is tensor 0, op i writes tensor i + 1.
        guard inputId == 0, outputId != 0, nt == no + 1 else {
            throw fail(
                "body.graph",
                "input \(inputId), output \(outputId), \(nt) tensors for \(no) ops: not canonical (input 0, op i writes tensor i + 1)"
            )
        }

        // Tensors.
        struct Rec { var dims: [Int]; var scaleBits: UInt32; var zp: Int32; var off: Int; var size: Int }
        var recs: [Rec] = []
        for i in 0..<nt {
            let p = tOff + T.bytes * i
            let f = "tensor \(i)"
            let rank = Int(body[p + T.rank])
            guard rank >= 1, rank <= 4 else { throw fail("\(f).rank", "\(rank), must be 1...4") }
            guard body[p + T.dtype] == 0 else { throw fail("\(f).dtype", "\(body[p + T.dtype]), must be 0 (int8)") }
            guard b.u16(p + T.reserved0) == 0, b.u32(p + T.reserved1) == 0 else { throw fail("\(f).reserved", "must be 0") }
            let d = (0..<4).map { b.u16(p + T.dims + 2 * $0) }
            var prod: UInt64 = 1
            for k in 0..<4 {
                if k < rank ? d[k] == 0 : d[k] != 1 { throw fail("\(f).dims", "\(d) invalid for rank \(rank)") }
                prod *= UInt64(d[k])
                if prod > 0xffff_ffff { throw fail("\(f).dims", "product overflows 32 bits") }
            }
            let size = Int(b.u32(p + T.byteSize))
            guard UInt64(size) == prod else { throw fail("\(f).byte_size", "\(size), dims give \(prod)") }
            let bits = b.u32(p + T.scale)
            guard bits != 0, bits < 0x7f80_0000 else {
                throw fail("\(f).scale", "\(Float(bitPattern: bits)) is not finite and > 0")
            }
            let zp = b.i32(p + T.zeroPoint)
            guard zp >= -128, zp <= 127 else { throw fail("\(f).zero_point", "\(zp) outside -128...127") }
            let off = Int(b.u32(p + T.arenaOffset))
            guard off <= arena, size <= arena - off else {
                throw fail("\(f).arena_offset", "[\(off), +\(size)) outside the \(arena)-byte arena")
            }
            recs.append(Rec(dims: Array(d[0..<rank]), scaleBits: bits, zp: zp, off: off, size: size))
        }

        // Ops.
        let consts = Array(body[cOff..<(cOff + cBytes)])
        let c = LEReader(consts)
        var nodes: [GraphNode] = []
        var gapOutputs = Set<Int>()
        var constEnd = 0  // end of the last constant array (arrays come in op order)
        for i in 0..<no {
            let p = oOff + R.bytes * i
            let code = body[p + R.opcode]
            guard let kind = DeviceOp(rawValue: code) else { throw fail("op \(i).opcode", "unknown op code \(code)") }
            let f = "op \(i) (\(kind.name))"
            guard body[p + R.reserved0] == 0, b.u16(p + R.reserved1) == 0 else { throw fail("\(f).reserved", "must be 0") }
            for word in 0..<R.paramWords where kind.paramMask >> word & 1 == 0 && b.u32(p + R.params + 4 * word) != 0 {
                throw fail("\(f).params", "unused parameter word \(word) (byte \(R.params + 4 * word)) must be 0")
            }
            let lo = Int32(Int8(bitPattern: body[p + R.actMin])), hi = Int32(Int8(bitPattern: body[p + R.actMax]))
            guard lo <= hi else { throw fail("\(f).act_min", "\(lo) > act_max \(hi)") }
            let in0 = b.u16(p + R.input0), in1 = b.u16(p + R.input1), out = b.u16(p + R.output)
            guard in0 < nt else { throw fail("\(f).input0", "tensor id \(in0) out of range") }
            guard out < nt else { throw fail("\(f).output", "tensor id \(out) out of range") }
            if kind == .add ? in1 >= nt : in1 != Int(ArtifactFormat.noTensor) {
                throw fail("\(f).input1", "\(in1) invalid (a tensor id for ADD, 0xFFFF otherwise)")
            }
            let inputs = kind == .add ? [in0, in1] : [in0]
            guard out == i + 1 else { throw fail("\(f).output", "writes tensor \(out); op \(i) must write tensor \(i + 1)") }
            for t in inputs where t > i {
                throw fail("\(f).input", "tensor \(t) is read before any op writes it")
            }
            let a = recs[in0], o = recs[out]
            func overlap(_ x: Rec, _ y: Rec) -> Bool { x.off < y.off + y.size && y.off < x.off + x.size }
            if overlap(o, a) && !(kind == .reshape && o.off == a.off) {
                throw fail("\(f).output", "arena range overlaps input tensor \(in0)")
            }
            if kind == .add && overlap(o, recs[in1]) { throw fail("\(f).output", "arena range overlaps input tensor \(in1)") }
            let sameQ = a.scaleBits == o.scaleBits && a.zp == o.zp
            var params = Int8Params(actMin: lo, actMax: hi)
            func loadConsts(weightBytes: UInt64, n: Int, shape: [Int]) throws {
                let wo = Int(b.u32(p + R.weightsOffset)), bo = Int(b.u32(p + R.biasOffset))
                let mo = Int(b.u32(p + R.multiplierOffset)), so = Int(b.u32(p + R.shiftOffset))
                for (name, off, count, elem) in [
                    ("weights_offset", wo, weightBytes, 1), ("bias_offset", bo, UInt64(n), 4),
                    ("multiplier_offset", mo, UInt64(n), 4), ("shift_offset", so, UInt64(n), 4),
                ] {
                    guard off % elem == 0, off <= cBytes, count * UInt64(elem) <= UInt64(cBytes - off) else {
                        throw fail(
                            "\(f).\(name)",
                            "array [\(off), +\(count * UInt64(elem))) outside the \(cBytes)-byte constant section or misaligned")
                    }
                    guard off >= constEnd else {
                        throw fail("\(f).\(name)", "array at \(off) starts before the end \(constEnd) of the previous one")
                    }
                    constEnd = off + Int(count) * elem
                }
                let w = Int8Weights(
                    values: consts[wo..<(wo + Int(weightBytes))].map { Int8(bitPattern: $0) }, shape: shape, scales: [],
                    bias: (0..<n).map { c.i32(bo + 4 * $0) }, multipliers: (0..<n).map { c.i32(mo + 4 * $0) },
                    shifts: (0..<n).map { c.i32(so + 4 * $0) })
                if tflite && kind == .fullyConnected {  // the double scales S[c] (docs/QUANTIZATION.md §8.2)
                    for ch in 0..<n where !TFLiteArithmetic.scaleIsValid(low: w.multipliers[ch], high: w.shifts[ch]) {
                        throw fail(
                            "\(f).multiplier",
                            "channel \(ch): scale \(TFLiteArithmetic.scale(low: w.multipliers[ch], high: w.shifts[ch])) is not +0 or a positive finite double"
                        )
                    }
                } else {
                    for ch in 0..<n where !qok(w.multipliers[ch], w.shifts[ch]) {
                        throw fail(
                            "\(f).multiplier", "channel \(ch): (M, e) = (\(w.multipliers[ch]), \(w.shifts[ch])) out of range")
                    }
                }
                params.weights = w
            }
            let op: Op
            switch kind {
            case .fullyConnected:
                guard a.size <= ArtifactFormat.maxReduce else { throw fail("\(f).input0", "K = \(a.size) > 65536") }
                try loadConsts(weightBytes: UInt64(a.size) * UInt64(o.size), n: o.size, shape: [o.size, a.size])
                op = .dense(units: o.size)
            case .conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d:
                guard a.dims.count == 4, a.dims[0] == 1 else { throw fail("\(f).input0", "shape \(a.dims) is not [1, H, W, C]") }
                guard o.dims.count == 4, o.dims[0] == 1 else { throw fail("\(f).output", "shape \(o.dims) is not [1, H, W, C]") }
                let kh = b.u16(p + R.kernelH), kw = b.u16(p + R.kernelW), sh = b.u16(p + R.strideH), sw = b.u16(p + R.strideW)
                let pt = b.u16(p + R.padTop), pl = b.u16(p + R.padLeft), mult = b.u16(p + R.depthMultiplier)
                guard kh >= 1, kw >= 1 else { throw fail("\(f).kernel", "\(kh)x\(kw) must be >= 1") }
                guard sh >= 1, sw >= 1 else { throw fail("\(f).stride", "\(sh)x\(sw) must be >= 1") }
                guard pt < kh else { throw fail("\(f).pad_top", "\(pt) >= k_h \(kh)") }
                guard pl < kw else { throw fail("\(f).pad_left", "\(pl) >= k_w \(kw)") }
                guard kh * kw <= ArtifactFormat.maxReduce else { throw fail("\(f).kernel", "\(kh)x\(kw) window > 65536 taps") }
                guard (o.dims[1] - 1) * sh < a.dims[1] + pt, (o.dims[2] - 1) * sw < a.dims[2] + pl else {
                    throw fail("\(f).output", "shape \(o.dims): the last window starts outside the input \(a.dims)")
                }
                let (k, s, pad) = (Size2(kh, kw), Size2(sh, sw), Padding.explicit(top: pt, left: pl))
                let (cin, cout) = (a.dims[3], o.dims[3])
                switch kind {
                case .conv2d:
                    guard kh * kw * cin <= ArtifactFormat.maxReduce else { throw fail("\(f).kernel", "k_h·k_w·C_in > 65536") }
                    try loadConsts(weightBytes: UInt64(kh * kw * cin * cout), n: cout, shape: [cout, kh, kw, cin])
                    op = .conv2d(filters: cout, kernel: k, stride: s, padding: pad)
                case .depthwiseConv2d:
                    guard b.u16(p + R.windowReserved) == 0 else { throw fail("\(f).reserved", "byte 26 must be 0") }
                    guard mult >= 1 else { throw fail("\(f).depth_mult", "must be >= 1") }
                    guard cout == cin * mult else { throw fail("\(f).depth_mult", "C_out \(cout) != C_in \(cin) × \(mult)") }
                    try loadConsts(weightBytes: UInt64(kh * kw * cout), n: cout, shape: [kh, kw, cout])
                    op = .depthwiseConv2d(kernel: k, stride: s, padding: pad, multiplier: mult)
                default:
                    guard cout == cin else { throw fail("\(f).output", "pool changes channels \(cin) → \(cout)") }
                    guard sameQ else { throw fail("\(f).output", "pool output scale/zero point differ from the input's") }
                    op =
                        kind == .maxPool2d
                        ? .maxPool2d(pool: k, stride: s, padding: pad) : .avgPool2d(pool: k, stride: s, padding: pad)
                }
            case .globalAveragePool:
                guard a.dims.count == 4, a.dims[0] == 1 else { throw fail("\(f).input0", "shape \(a.dims) is not [1, H, W, C]") }
                guard o.size == a.dims[3] else { throw fail("\(f).output", "\(o.size) bytes, C = \(a.dims[3])") }
                guard a.dims[1] * a.dims[2] <= ArtifactFormat.maxGapTaps else { throw fail("\(f).input0", "H·W > 2^24") }
                guard sameQ else { throw fail("\(f).output", "scale/zero point differ from the input's") }
                gapOutputs.insert(out)
                op = .globalAvgPool
            case .add:
                let bb = recs[in1]
                guard a.dims == o.dims, bb.dims == o.dims else {
                    throw fail("\(f).output", "shapes \(a.dims) + \(bb.dims) → \(o.dims) differ")
                }
                let q = (0..<6).map { b.i32(p + R.addParams + 4 * $0) }
                guard qok(q[0], q[1]), qok(q[2], q[3]), qok(q[4], q[5]), q[1] <= 0, q[3] <= 0 else {
                    throw fail("\(f).add_params", "(M, e) pairs \(q) out of range (input shifts must be <= 0)")
                }
                params.add = AddParams(
                    leftShift: 20, input1Multiplier: q[0], input1Shift: q[1], input2Multiplier: q[2], input2Shift: q[3],
                    outputMultiplier: q[4], outputShift: q[5])
                op = .add
            case .leakyRelu:
                guard !tflite else {
                    throw fail("\(f).opcode", "LEAKY_RELU has no TFLite-arithmetic form (header flag bit 1 is set)")
                }
                guard a.dims == o.dims else { throw fail("\(f).output", "shape \(o.dims) != input \(a.dims)") }
                let q = (0..<4).map { b.i32(p + R.leakyParams + 4 * $0) }
                guard qok(q[0], q[1]), qok(q[2], q[3]) else {
                    throw fail("\(f).leaky_params", "(M, e) pairs \(q) out of range")
                }
                let l = LeakyReluParams(identityMultiplier: q[0], identityShift: q[1], alphaMultiplier: q[2], alphaShift: q[3])
                params.leaky = l
                // α as the two multipliers give it (the artifact stores their ratio's parts, not α).
                let id = FixedPoint.decode(q[0], q[1])
                op = .leakyRelu(alpha: id > 0 ? Float(FixedPoint.decode(q[2], q[3]) / id) : 0)
            case .softmax:
                guard tflite else {
                    throw fail(
                        "\(f).opcode", "SOFTMAX exists in TFLite-arithmetic artifacts only (header flag bit 1 is clear)")
                }
                if lo != -128 || hi != 127 { throw fail("\(f).act_min", "SOFTMAX must not clamp") }
                let depth = a.dims.last ?? 1
                guard a.dims == o.dims, depth <= ArtifactFormat.softmaxMaxDepth else {
                    throw fail("\(f).output", "shape \(o.dims) != input \(a.dims), or the last axis is over 4095")
                }
                guard o.scaleBits == ArtifactFormat.softmaxScaleBits, o.zp == ArtifactFormat.softmaxZeroPoint else {
                    throw fail(
                        "\(f).output",
                        "scale \(Float(bitPattern: o.scaleBits)) and zero point \(o.zp); SOFTMAX needs 1/256 and -128")
                }
                let q = (0..<3).map { b.i32(p + R.softmaxParams + 4 * $0) }
                guard q[0] >= 0x4000_0000, q[1] >= 0, q[1] <= 31, q[2] == -Int32(0x7c00_0000 >> UInt32(max(0, min(q[1], 31))))
                else {
                    throw fail(
                        "\(f).softmax_params",
                        "(M, left, diff_min) = \(q): M in [2^30, 2^31), left in 0...31, diff_min = -floor(31·2^26 / 2^left)")
                }
                params.softmax = SoftmaxParams(multiplier: q[0], leftShift: q[1], diffMin: q[2])
                // β as the multiplier gives it (the artifact does not store β).
                op = .softmax(
                    beta: Float(FixedPoint.decode(q[0], q[1]) / Double(1 << 26) / Double(Float(bitPattern: a.scaleBits))))
            case .reshape, .clamp:
                if kind == .reshape && (lo != -128 || hi != 127) { throw fail("\(f).act_min", "RESHAPE must not clamp") }
                guard a.size == o.size, sameQ else {
                    throw fail("\(f).output", "size or scale/zero point differ from the input's")
                }
                if kind == .clamp && a.dims != o.dims { throw fail("\(f).output", "shape \(o.dims) != input \(a.dims)") }
                op = kind == .reshape ? .reshape : .clamp
            }
            nodes.append(
                GraphNode(name: "op\(i)", op: op, inputs: inputs.map(TensorID.init), output: TensorID(out), int8: params))
        }
        let tensors = recs.enumerated().map { i, t in
            GraphTensor(
                name: "t\(i)", shape: ArtifactFormat.sampleShape(t.dims, gapOutput: gapOutputs.contains(i)), type: .int8,
                quant: QuantParams(scale: Float(bitPattern: t.scaleBits), zeroPoint: t.zp))
        }
        var graph = Graph(tensors: tensors, nodes: nodes, input: TensorID(inputId), output: TensorID(outputId))
        graph.arithmetic = tflite ? .tflite : .kdc
        graph.floatInput = flags & Int(ArtifactFormat.flagFloatInput) != 0
        graph.floatOutput = flags & Int(ArtifactFormat.flagFloatOutput) != 0
        var stage: InputStageBlock.Decoded? = nil
        if flags & Int(ArtifactFormat.flagInputStage) != 0 {  // after the tables and the constants
            let end = max(cOff + cBytes, tOff + T.bytes * nt, oOff + R.bytes * no)
            let i = recs[0]
            stage = try InputStageBlock.decode(
                body, start: (end + 3) & ~3,
                input: .init(dims: i.dims, scaleBits: i.scaleBits, zeroPoint: i.zp, size: i.size), file: file)
            graph.inputStage = stage?.stage
        }
        return Artifact(
            version: version, compressed: compressed, flags: flags & ~Int(ArtifactFormat.flagCompressed),
            totalBytes: H.bytes + stored, storedBodyBytes: stored,
            rawBodyBytes: raw, arenaBytes: arena, bodyCRC32: bodyCRC,
            graph: graph,
            placements: recs.map { Artifact.TensorPlacement(dims: $0.dims, arenaOffset: $0.off, byteSize: $0.size) },
            constBytes: cBytes, rawBody: body, inputStage: stage)
    }

    static func qok(_ m: Int32, _ e: Int32) -> Bool { (m == 0 || m >= 0x4000_0000) && e >= -31 && e <= 30 }
}

/// Little-endian reads at byte offsets (callers check bounds first).
struct LEReader {
    let b: [UInt8]
    init(_ b: [UInt8]) { self.b = b }
    func u16(_ p: Int) -> Int { Int(b[p]) | Int(b[p + 1]) << 8 }
    func u32(_ p: Int) -> UInt32 { UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24 }
    func i32(_ p: Int) -> Int32 { Int32(bitPattern: u32(p)) }
}
