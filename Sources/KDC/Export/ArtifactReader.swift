import Foundation

/// A validated artifact in readable form (docs/FORMAT.md v1).
public struct ArtifactDescription: Equatable, Sendable {
    public struct Tensor: Equatable, Sendable {
        /// Device shape, batch first: `[1, N]` or `[1, H, W, C]` (rank 1...4).
        public var dims: [Int]
        public var scale: Float
        public var zeroPoint: Int32
        public var arenaOffset: Int
        public var byteSize: Int
    }

    public struct Op: Equatable, Sendable {
        public var kind: QuantizedGraph.OpKind
        public var actMin: Int32, actMax: Int32
        /// One input, two for ADD.
        public var inputs: [Int]
        public var output: Int
        /// Window ops only (k_h, k_w, stride_h, stride_w, pad_top, pad_left); zeros otherwise.
        public var kernel: Size2, stride: Size2
        public var padTop: Int, padLeft: Int
        /// DEPTHWISE_CONV_2D only; 0 otherwise.
        public var depthMultiplier: Int
        /// FC / conv / depthwise: the constant arrays (copied out of the constant section).
        public var weights: [Int8]
        public var bias: [Int32], multipliers: [Int32], shifts: [Int32]
        /// ADD only: M_a, e_a, M_b, e_b, M_out, e_out.
        public var addParams: [Int32]
    }

    public var version: Int
    public var compressed: Bool
    /// Header + stored body.
    public var totalBytes: Int
    public var storedBodyBytes: Int
    public var rawBodyBytes: Int
    public var arenaBytes: Int
    public var bodyCRC32: UInt32
    public var inputId: Int, outputId: Int
    public var tensors: [Tensor]
    public var ops: [Op]
    /// Bytes of the constant section (weights, biases, multipliers, shifts, padding).
    public var constBytes: Int
    /// The raw body (inflated if the artifact was compressed).
    public var rawBody: [UInt8]

    public var input: Tensor { tensors[inputId] }
    public var output: Tensor { tensors[outputId] }
}

/// Parses and validates an artifact the way `kdc_init` does (after `kdc_unpack` for a
/// compressed one): header, CRCs, body layout, every tensor, every op, constant ranges,
/// quantization parameters, graph order and aliasing. Each failure is a
/// `KDCError.format(file:message:)` whose message starts with the field that is wrong
/// (`header.magic`, `tensor 3.zero_point`, `op 1 (CONV_2D).pad_top`, ...).
public enum ArtifactReader {
    /// Reads and validates the artifact at `path`.
    public static func read(path: String) throws -> ArtifactDescription {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KDCError.io(path: path, message: "cannot read the artifact (missing or unreadable)")
        }
        return try parse([UInt8](data), file: path)
    }

    /// Validates `bytes` (a whole artifact); `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String = "<artifact>") throws -> ArtifactDescription {
        func fail(_ field: String, _ msg: String) -> KDCError { .format(file: file, message: "\(field): \(msg)") }
        let r = LEReader(bytes)
        // Header (kdc_query).
        guard bytes.count >= ArtifactFormat.headerBytes else {
            throw fail("header", "truncated: \(bytes.count) bytes, the header alone is 32")
        }
        guard Array(bytes[0..<4]) == ArtifactFormat.magic else { throw fail("header.magic", "not \"KDCM\": not a kdc artifact") }
        let version = r.u16(4)
        guard version == Int(ArtifactFormat.version) else {
            throw fail("header.version", "\(version), this reader supports version \(ArtifactFormat.version)")
        }
        let hcrc = r.u32(28)
        guard kdcCRC32(Array(bytes[0..<28])) == hcrc else { throw fail("header.header_crc32", "mismatch: header corrupted") }
        let flags = r.u16(6), stored = Int(r.u32(12)), raw = Int(r.u32(16)), arena = Int(r.u32(20))
        guard r.u16(8) == ArtifactFormat.headerBytes else { throw fail("header.header_size", "\(r.u16(8)), must be 32") }
        guard r.u16(10) == 0 else { throw fail("header.reserved", "must be 0") }
        guard flags & ~Int(ArtifactFormat.flagCompressed) == 0 else {
            throw fail("header.flags", "unknown bits set (0x\(String(flags, radix: 16)))")
        }
        let compressed = flags & Int(ArtifactFormat.flagCompressed) != 0
        if !compressed && stored != raw {
            throw fail("header.stored_body_bytes", "\(stored) differs from raw_body_bytes \(raw) in a stored artifact")
        }
        if compressed && stored < 6 {
            throw fail("header.stored_body_bytes", "\(stored) is shorter than the smallest zlib stream")
        }
        guard raw >= ArtifactFormat.bodyHeaderBytes else {
            throw fail("header.raw_body_bytes", "\(raw) is smaller than the 24-byte body header")
        }
        guard arena > 0 else { throw fail("header.arena_bytes", "must be > 0") }
        let limit = 0x7fff_ffff - ArtifactFormat.headerBytes
        guard stored <= limit, raw <= limit else { throw fail("header.stored_body_bytes", "artifact larger than 2 GiB") }
        guard bytes.count >= ArtifactFormat.headerBytes + stored else {
            throw fail("header.stored_body_bytes", "truncated: file has \(bytes.count - 32) body bytes, header says \(stored)")
        }
        let storedBody = Array(bytes[32..<(32 + stored)])
        let body = compressed ? try ArtifactWriter.inflate(storedBody, rawBytes: raw, file: file) : storedBody
        let bodyCRC = r.u32(24)
        guard kdcCRC32(body) == bodyCRC else { throw fail("header.body_crc32", "mismatch: body corrupted") }

        // Body header.
        let b = LEReader(body)
        let nt = b.u16(0), no = b.u16(2), inputId = b.u16(4), outputId = b.u16(6)
        let tOff = Int(b.u32(8)), oOff = Int(b.u32(12)), cOff = Int(b.u32(16)), cBytes = Int(b.u32(20))
        guard tOff % 4 == 0, oOff % 4 == 0, cOff % 4 == 0 else {
            throw fail("body.offsets", "tensors/ops/const offsets must be multiples of 4")
        }
        guard tOff >= 24, tOff + 32 * nt <= raw else {
            throw fail("body.tensors_offset", "tensor table [\(tOff), +\(32 * nt)) outside the \(raw)-byte body")
        }
        guard oOff >= 24, oOff + 48 * no <= raw else {
            throw fail("body.ops_offset", "op table [\(oOff), +\(48 * no)) outside the \(raw)-byte body")
        }
        guard cOff + cBytes <= raw else {
            throw fail("body.const_offset", "constant section [\(cOff), +\(cBytes)) outside the \(raw)-byte body")
        }
        guard nt >= 1 else { throw fail("body.n_tensors", "must be >= 1") }
        guard no >= 1 else { throw fail("body.n_ops", "must be >= 1") }
        guard inputId < nt else { throw fail("body.input_id", "\(inputId) out of range (\(nt) tensors)") }
        guard outputId < nt else { throw fail("body.output_id", "\(outputId) out of range (\(nt) tensors)") }

        // Tensors.
        var tensors: [ArtifactDescription.Tensor] = []
        for i in 0..<nt {
            let p = tOff + 32 * i
            let f = "tensor \(i)"
            let rank = Int(body[p])
            guard rank >= 1, rank <= 4 else { throw fail("\(f).rank", "\(rank), must be 1...4") }
            guard body[p + 1] == 0 else { throw fail("\(f).dtype", "\(body[p + 1]), must be 0 (int8)") }
            guard b.u16(p + 2) == 0, b.u32(p + 28) == 0 else { throw fail("\(f).reserved", "must be 0") }
            let d = (0..<4).map { b.u16(p + 4 + 2 * $0) }
            var prod: UInt64 = 1
            for k in 0..<4 {
                if k < rank ? d[k] == 0 : d[k] != 1 { throw fail("\(f).dims", "\(d) invalid for rank \(rank)") }
                prod *= UInt64(d[k])
                if prod > 0xffff_ffff { throw fail("\(f).dims", "product overflows 32 bits") }
            }
            let size = Int(b.u32(p + 24))
            guard UInt64(size) == prod else { throw fail("\(f).byte_size", "\(size), dims give \(prod)") }
            let bits = b.u32(p + 12)
            guard bits != 0, bits < 0x7f80_0000 else {
                throw fail("\(f).scale", "\(Float(bitPattern: bits)) is not finite and > 0")
            }
            let zp = b.i32(p + 16)
            guard zp >= -128, zp <= 127 else { throw fail("\(f).zero_point", "\(zp) outside -128...127") }
            let off = Int(b.u32(p + 20))
            guard off <= arena, size <= arena - off else {
                throw fail("\(f).arena_offset", "[\(off), +\(size)) outside the \(arena)-byte arena")
            }
            tensors.append(
                .init(dims: Array(d[0..<rank]), scale: Float(bitPattern: bits), zeroPoint: zp, arenaOffset: off, byteSize: size))
        }

        // Ops.
        var ops: [ArtifactDescription.Op] = []
        var written = Set<Int>()
        let consts = Array(body[cOff..<(cOff + cBytes)])
        let c = LEReader(consts)
        for i in 0..<no {
            let p = oOff + 48 * i
            guard let kind = ArtifactFormat.kind(body[p]) else { throw fail("op \(i).opcode", "unknown op code \(body[p])") }
            let f = "op \(i) (\(kind.rawValue))"
            guard body[p + 3] == 0, b.u16(p + 10) == 0 else { throw fail("\(f).reserved", "must be 0") }
            let mask = paramMask(kind)
            for wd in 0..<9 where mask >> wd & 1 == 0 && b.u32(p + 12 + 4 * wd) != 0 {
                throw fail("\(f).params", "unused parameter word \(wd) (bytes \(12 + 4 * wd)...) must be 0")
            }
            let lo = Int32(Int8(bitPattern: body[p + 1])), hi = Int32(Int8(bitPattern: body[p + 2]))
            guard lo <= hi else { throw fail("\(f).act_min", "\(lo) > act_max \(hi)") }
            let in0 = b.u16(p + 4), in1 = b.u16(p + 6), out = b.u16(p + 8)
            guard in0 < nt else { throw fail("\(f).input0", "tensor id \(in0) out of range") }
            guard out < nt else { throw fail("\(f).output", "tensor id \(out) out of range") }
            if kind == .add ? in1 >= nt : in1 != Int(ArtifactFormat.noTensor) {
                throw fail("\(f).input1", "\(in1) invalid (a tensor id for ADD, 0xFFFF otherwise)")
            }
            guard out != inputId else { throw fail("\(f).output", "writes the graph input") }
            guard !written.contains(out) else { throw fail("\(f).output", "tensor \(out) is written twice") }
            let inputs = kind == .add ? [in0, in1] : [in0]
            for t in inputs where t != inputId && !written.contains(t) {
                throw fail("\(f).input", "tensor \(t) is read before any op writes it")
            }
            let a = tensors[in0], o = tensors[out]
            func overlap(_ x: ArtifactDescription.Tensor, _ y: ArtifactDescription.Tensor) -> Bool {
                x.arenaOffset < y.arenaOffset + y.byteSize && y.arenaOffset < x.arenaOffset + x.byteSize
            }
            if overlap(o, a) && !(kind == .reshape && o.arenaOffset == a.arenaOffset) {
                throw fail("\(f).output", "arena range overlaps input tensor \(in0)")
            }
            if kind == .add && overlap(o, tensors[in1]) { throw fail("\(f).output", "arena range overlaps input tensor \(in1)") }
            let sameQ = a.scale.bitPattern == o.scale.bitPattern && a.zeroPoint == o.zeroPoint
            var op = ArtifactDescription.Op(
                kind: kind, actMin: lo, actMax: hi, inputs: inputs, output: out,
                kernel: Size2(0, 0), stride: Size2(0, 0), padTop: 0, padLeft: 0, depthMultiplier: 0,
                weights: [], bias: [], multipliers: [], shifts: [], addParams: [])
            func loadConsts(weightBytes: UInt64, n: Int) throws {
                let wo = Int(b.u32(p + 28)), bo = Int(b.u32(p + 32)), mo = Int(b.u32(p + 36)), so = Int(b.u32(p + 40))
                for (name, off, count, elem) in [
                    ("weights_offset", wo, weightBytes, 1), ("bias_offset", bo, UInt64(n), 4),
                    ("multiplier_offset", mo, UInt64(n), 4), ("shift_offset", so, UInt64(n), 4),
                ] {
                    guard off % elem == 0, off <= cBytes, count * UInt64(elem) <= UInt64(cBytes - off) else {
                        throw fail(
                            "\(f).\(name)",
                            "array [\(off), +\(count * UInt64(elem))) outside the \(cBytes)-byte constant section or misaligned")
                    }
                }
                op.weights = consts[wo..<(wo + Int(weightBytes))].map { Int8(bitPattern: $0) }
                op.bias = (0..<n).map { c.i32(bo + 4 * $0) }
                op.multipliers = (0..<n).map { c.i32(mo + 4 * $0) }
                op.shifts = (0..<n).map { c.i32(so + 4 * $0) }
                for ch in 0..<n where !qok(op.multipliers[ch], op.shifts[ch]) {
                    throw fail(
                        "\(f).multiplier", "channel \(ch): (M, e) = (\(op.multipliers[ch]), \(op.shifts[ch])) out of range")
                }
            }
            switch kind {
            case .fullyConnected:
                guard a.byteSize <= ArtifactFormat.maxReduce else { throw fail("\(f).input0", "K = \(a.byteSize) > 65536") }
                try loadConsts(weightBytes: UInt64(a.byteSize) * UInt64(o.byteSize), n: o.byteSize)
            case .conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d:
                guard a.dims.count == 4, a.dims[0] == 1 else { throw fail("\(f).input0", "shape \(a.dims) is not [1, H, W, C]") }
                guard o.dims.count == 4, o.dims[0] == 1 else { throw fail("\(f).output", "shape \(o.dims) is not [1, H, W, C]") }
                let kh = b.u16(p + 12), kw = b.u16(p + 14), sh = b.u16(p + 16), sw = b.u16(p + 18)
                let pt = b.u16(p + 20), pl = b.u16(p + 22), mult = b.u16(p + 24)
                guard kh >= 1, kw >= 1 else { throw fail("\(f).kernel", "\(kh)x\(kw) must be >= 1") }
                guard sh >= 1, sw >= 1 else { throw fail("\(f).stride", "\(sh)x\(sw) must be >= 1") }
                guard pt < kh else { throw fail("\(f).pad_top", "\(pt) >= k_h \(kh)") }
                guard pl < kw else { throw fail("\(f).pad_left", "\(pl) >= k_w \(kw)") }
                guard kh * kw <= ArtifactFormat.maxReduce else { throw fail("\(f).kernel", "\(kh)x\(kw) window > 65536 taps") }
                guard (o.dims[1] - 1) * sh < a.dims[1] + pt, (o.dims[2] - 1) * sw < a.dims[2] + pl else {
                    throw fail("\(f).output", "shape \(o.dims): the last window starts outside the input \(a.dims)")
                }
                op.kernel = Size2(kh, kw); op.stride = Size2(sh, sw); op.padTop = pt; op.padLeft = pl
                let (cin, cout) = (a.dims[3], o.dims[3])
                switch kind {
                case .conv2d:
                    guard kh * kw * cin <= ArtifactFormat.maxReduce else { throw fail("\(f).kernel", "k_h·k_w·C_in > 65536") }
                    try loadConsts(weightBytes: UInt64(kh * kw * cin * cout), n: cout)
                case .depthwiseConv2d:
                    guard b.u16(p + 26) == 0 else { throw fail("\(f).reserved", "byte 26 must be 0") }
                    guard mult >= 1 else { throw fail("\(f).depth_mult", "must be >= 1") }
                    guard cout == cin * mult else { throw fail("\(f).depth_mult", "C_out \(cout) != C_in \(cin) × \(mult)") }
                    op.depthMultiplier = mult
                    try loadConsts(weightBytes: UInt64(kh * kw * cout), n: cout)
                default:
                    guard cout == cin else { throw fail("\(f).output", "pool changes channels \(cin) → \(cout)") }
                    guard sameQ else { throw fail("\(f).output", "pool output scale/zero point differ from the input's") }
                }
            case .globalAveragePool:
                guard a.dims.count == 4, a.dims[0] == 1 else { throw fail("\(f).input0", "shape \(a.dims) is not [1, H, W, C]") }
                guard o.byteSize == a.dims[3] else { throw fail("\(f).output", "\(o.byteSize) bytes, C = \(a.dims[3])") }
                guard a.dims[1] * a.dims[2] <= 1 << 24 else { throw fail("\(f).input0", "H·W > 2^24") }
                guard sameQ else { throw fail("\(f).output", "scale/zero point differ from the input's") }
            case .add:
                let bb = tensors[in1]
                guard a.dims == o.dims, bb.dims == o.dims else {
                    throw fail("\(f).output", "shapes \(a.dims) + \(bb.dims) → \(o.dims) differ")
                }
                op.addParams = (0..<6).map { b.i32(p + 12 + 4 * $0) }
                let q = op.addParams
                guard qok(q[0], q[1]), qok(q[2], q[3]), qok(q[4], q[5]), q[1] <= 0, q[3] <= 0 else {
                    throw fail("\(f).add_params", "(M, e) pairs \(q) out of range (input shifts must be <= 0)")
                }
            case .reshape, .clamp:
                if kind == .reshape && (lo != -128 || hi != 127) { throw fail("\(f).act_min", "RESHAPE must not clamp") }
                guard a.byteSize == o.byteSize, sameQ else {
                    throw fail("\(f).output", "size or scale/zero point differ from the input's")
                }
                if kind == .clamp && a.dims != o.dims { throw fail("\(f).output", "shape \(o.dims) != input \(a.dims)") }
            }
            written.insert(out)
            ops.append(op)
        }
        guard written.contains(outputId) else { throw fail("body.output_id", "no op writes the graph output \(outputId)") }
        return ArtifactDescription(
            version: version, compressed: compressed, totalBytes: 32 + stored, storedBodyBytes: stored,
            rawBodyBytes: raw, arenaBytes: arena, bodyCRC32: bodyCRC, inputId: inputId, outputId: outputId,
            tensors: tensors, ops: ops, constBytes: cBytes, rawBody: body)
    }

    /// Parameter words (bytes 12 + 4i) each op uses; the rest must be zero (kdc_model.c).
    static func paramMask(_ k: QuantizedGraph.OpKind) -> Int {
        switch k {
        case .fullyConnected: return 0x0f0
        case .conv2d: return 0x0f7
        case .depthwiseConv2d: return 0x0ff
        case .maxPool2d, .averagePool2d: return 0x007
        case .add: return 0x03f
        case .globalAveragePool, .reshape, .clamp: return 0
        }
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
