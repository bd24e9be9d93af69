#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decodes and validates a TensorFlow Lite flatbuffer (`.tflite`), following TensorFlow Lite's
/// public `schema.fbs` (tensorflow/lite/schema/schema.fbs; the field ids below are the order of
/// the fields in each table there, a union taking two ids: its type, then its value).
///
/// Besides the FlatBuffers structure (`FlatBufferReader`: every offset, vtable, length and string
/// inside the file), it checks what the model's own tables must agree on: the "TFL3" identifier,
/// schema version 3, operator code, tensor and buffer indices in range, no negative dimension,
/// element counts that fit, each constant buffer exactly the size of its tensor, per-channel
/// quantization with one scale (and zero point) per slice of the quantized dimension. Every
/// failure is a `KDCError.format` naming the file and the field; nothing traps.
public enum TFLiteReader {
    /// The schema version this reader supports (schema.fbs: "Version 3").
    public static let schemaVersion: UInt32 = 3

    /// Reads the model file at `path`.
    public static func read(path: String) throws -> TFLiteModel {
        guard let bytes = readWholeFile(path) else {
            throw KDCError.io(path: path, message: "cannot read the model file (missing or unreadable)")
        }
        return try read(bytes: bytes, file: path)
    }

    /// Decodes `bytes`; `file` names the input in errors.
    public static func read(bytes: [UInt8], file: String) throws -> TFLiteModel {
        let r = FlatBufferReader(bytes: bytes, file: file)
        let m = try r.root(identifier: "TFL3")
        let version = try m.u32(0, "version")
        guard version == schemaVersion else {
            throw r.fail("model.version: schema version \(version), this reader supports version \(schemaVersion)")
        }
        let codes = try m.tables(1, "operator_codes") { _, t in
            TFLiteOperatorCode(
                deprecatedBuiltinCode: try t.i8(0, "deprecated_builtin_code"), builtinCode: try t.i32(3, "builtin_code"),
                customCode: try t.string(1, "custom_code"), version: try t.i32(2, "version", default: 1))
        }
        let subgraphs = try m.tables(2, "subgraphs") { _, t in try subgraph(t) }
        let description = try m.string(3, "description")
        let buffers = try m.tables(4, "buffers") { _, t in try buffer(t, r) }
        let metadata = try m.tables(6, "metadata") { _, t in
            TFLiteMetadata(name: try t.string(0, "name") ?? "", buffer: try t.u32(1, "buffer"))
        }
        let signatures = try m.tables(7, "signature_defs") { _, t in
            let maps = { (id: Int, name: String) in
                try t.tables(id, name) { _, e in
                    TFLiteSignatureDef.TensorMap(name: try e.string(0, "name") ?? "", tensorIndex: try e.u32(1, "tensor_index"))
                } ?? []
            }
            return TFLiteSignatureDef(
                inputs: try maps(0, "inputs"), outputs: try maps(1, "outputs"), signatureKey: try t.string(2, "signature_key"),
                subgraphIndex: try t.u32(4, "subgraph_index"))
        }
        let model = TFLiteModel(
            version: version, operatorCodes: codes ?? [], subgraphs: subgraphs ?? [], description: description,
            buffers: buffers ?? [], metadata: metadata ?? [], signatureDefs: signatures ?? [])
        try validate(model, file: file)
        return model
    }

    static func subgraph(_ t: FlatTable) throws -> TFLiteSubGraph {
        let tensors = try t.tables(0, "tensors") { _, x in try tensor(x) }
        let ops = try t.tables(3, "operators") { _, o in
            TFLiteOperator(
                opcodeIndex: try o.u32(0, "opcode_index"), inputs: try o.i32s(1, "inputs") ?? [],
                outputs: try o.i32s(2, "outputs") ?? [], options: try options(o))
        }
        return TFLiteSubGraph(
            tensors: tensors ?? [], inputs: try t.i32s(1, "inputs") ?? [], outputs: try t.i32s(2, "outputs") ?? [],
            operators: ops ?? [], name: try t.string(4, "name"))
    }

    static func tensor(_ t: FlatTable) throws -> TFLiteTensor {
        let rawType = try t.i8(1, "type")
        guard let type = TFLiteTensorType(rawValue: rawType) else {
            throw t.r.fail("\(t.path).type: \(rawType) is not a TensorType this reader knows (0 ... 17)")
        }
        var quant: TFLiteQuantization?
        if let q = try t.table(4, "quantization") {
            quant = TFLiteQuantization(
                scale: try q.f32s(2, "scale") ?? [], zeroPoint: try q.i64s(3, "zero_point") ?? [],
                quantizedDimension: try q.i32(6, "quantized_dimension"))
        }
        return TFLiteTensor(
            shape: try t.i32s(0, "shape") ?? [], type: type, buffer: try t.u32(2, "buffer"), name: try t.string(3, "name") ?? "",
            quantization: quant, shapeSignature: try t.i32s(7, "shape_signature"), isVariable: try t.bool(5, "is_variable"))
    }

    static func buffer(_ t: FlatTable, _ r: FlatBufferReader) throws -> TFLiteBuffer {
        let offset = try t.u64(1, "offset"), size = try t.u64(2, "size")
        // schema.fbs: offset/size locate data stored after the flatbuffer; "only valid if > 1".
        if offset > 1 {
            guard let o = Int(exactly: offset), let n = Int(exactly: size), r.contains(o, n) else {
                throw r.fail(
                    "\(t.path): data at offset \(offset) (\(size) bytes) points past the end (file is \(r.bytes.count) bytes)")
            }
            try r.charge(n, t.path)
            return TFLiteBuffer(Array(r.bytes[o..<(o + n)]))
        }
        return TFLiteBuffer(try t.bytes(0, "data") ?? [])
    }

    static func options(_ o: FlatTable) throws -> TFLiteOptions {
        let type = try o.u8(3, "builtin_options_type")
        guard type != 0 else { return .none }
        // A missing table means every field takes its schema default.
        let t = try o.table(4, "builtin_options") ?? FlatTable.empty(o.r, path: "\(o.path).builtin_options")
        func padding() throws -> TFLitePadding {
            let v = try t.i8(0, "padding")
            guard let p = TFLitePadding(rawValue: v) else {
                throw t.r.fail("\(t.path).padding: \(v) is not SAME (0) or VALID (1)")
            }
            return p
        }
        func activation(_ id: Int) throws -> TFLiteActivation {
            let v = try t.i8(id, "fused_activation_function")
            guard let a = TFLiteActivation(rawValue: v) else {
                throw t.r.fail("\(t.path).fused_activation_function: \(v) is not an ActivationFunctionType (0 ... 5)")
            }
            return a
        }
        switch type {
        case 1:
            return .conv2d(
                TFLiteConv2DOptions(
                    padding: try padding(), strideW: try t.i32(1, "stride_w"), strideH: try t.i32(2, "stride_h"),
                    activation: try activation(3), dilationW: try t.i32(4, "dilation_w_factor", default: 1),
                    dilationH: try t.i32(5, "dilation_h_factor", default: 1)))
        case 2:
            return .depthwiseConv2d(
                TFLiteDepthwiseConv2DOptions(
                    padding: try padding(), strideW: try t.i32(1, "stride_w"), strideH: try t.i32(2, "stride_h"),
                    depthMultiplier: try t.i32(3, "depth_multiplier"), activation: try activation(4),
                    dilationW: try t.i32(5, "dilation_w_factor", default: 1),
                    dilationH: try t.i32(6, "dilation_h_factor", default: 1)))
        case 5:
            return .pool2d(
                TFLitePool2DOptions(
                    padding: try padding(), strideW: try t.i32(1, "stride_w"), strideH: try t.i32(2, "stride_h"),
                    filterWidth: try t.i32(3, "filter_width"), filterHeight: try t.i32(4, "filter_height"),
                    activation: try activation(5)))
        case 8:
            return .fullyConnected(
                TFLiteFullyConnectedOptions(
                    activation: try activation(0), weightsFormat: try t.i8(1, "weights_format"),
                    keepNumDims: try t.bool(2, "keep_num_dims")))
        case 9: return .softmax(beta: try t.f32(0, "beta"))
        case 11: return .add(activation: try activation(0))
        case 17: return .reshape(newShape: try t.i32s(0, "new_shape"))
        case 30: return .squeeze(squeezeDims: try t.i32s(0, "squeeze_dims") ?? [])
        default: return .other(type: type)
        }
    }

    /// The checks between tables (indices, sizes, quantization) that `read` applies, for a model
    /// built in memory; `file` names it in errors.
    public static func validate(_ m: TFLiteModel, file: String) throws {
        let r = FlatBufferReader(bytes: [], file: file)
        for (i, c) in m.operatorCodes.enumerated() where c.code < 0 {
            throw r.fail("model.operator_codes[\(i)]: builtin code \(c.code) is negative")
        }
        for (si, sg) in m.subgraphs.enumerated() {
            let sp = "model.subgraphs[\(si)]"
            let nt = sg.tensors.count
            func tensorIndex(_ v: Int32, _ path: String, optional: Bool) throws {
                if optional && v == -1 { return }
                guard v >= 0, Int(v) < nt else {
                    throw r.fail(
                        "\(path): tensor index \(v) is out of range (the subgraph has \(nt) tensors\(optional ? "; -1 marks an absent optional one" : ""))"
                    )
                }
            }
            for (k, v) in sg.inputs.enumerated() { try tensorIndex(v, "\(sp).inputs[\(k)]", optional: false) }
            for (k, v) in sg.outputs.enumerated() { try tensorIndex(v, "\(sp).outputs[\(k)]", optional: false) }
            for (ti, t) in sg.tensors.enumerated() { try validate(t, "\(sp).tensors[\(ti)]", m, r) }
            for (oi, op) in sg.operators.enumerated() {
                let op_ = "\(sp).operators[\(oi)]"
                guard Int(op.opcodeIndex) < m.operatorCodes.count else {
                    throw r.fail(
                        "\(op_).opcode_index: \(op.opcodeIndex) is out of range (the model has \(m.operatorCodes.count) operator codes)"
                    )
                }
                let name = m.operatorCodes[Int(op.opcodeIndex)].name
                for (k, v) in op.inputs.enumerated() { try tensorIndex(v, "\(op_) (\(name)).inputs[\(k)]", optional: true) }
                for (k, v) in op.outputs.enumerated() { try tensorIndex(v, "\(op_) (\(name)).outputs[\(k)]", optional: true) }
            }
        }
        for (i, md) in m.metadata.enumerated() where Int(md.buffer) >= m.buffers.count {
            throw r.fail("model.metadata[\(i)].buffer: \(md.buffer) is out of range (the model has \(m.buffers.count) buffers)")
        }
        for (i, s) in m.signatureDefs.enumerated() where Int(s.subgraphIndex) >= m.subgraphs.count {
            throw r.fail(
                "model.signature_defs[\(i)].subgraph_index: \(s.subgraphIndex) is out of range (the model has \(m.subgraphs.count) subgraphs)"
            )
        }
    }

    static func validate(_ t: TFLiteTensor, _ path: String, _ m: TFLiteModel, _ r: FlatBufferReader) throws {
        let p = "\(path) '\(t.name)'"
        var count = 1
        for (k, d) in t.shape.enumerated() {
            guard d >= 0 else { throw r.fail("\(p).shape: dimension \(k) is \(d) in \(t.shape); dimensions must be ≥ 0") }
            let (c, o) = count.multipliedReportingOverflow(by: Int(d))
            guard !o, c <= Int(Int32.max) else { throw r.fail("\(p).shape: \(t.shape) has more than 2^31 − 1 elements") }
            count = c
        }
        guard Int(t.buffer) < m.buffers.count else {
            throw r.fail("\(p).buffer: \(t.buffer) is out of range (the model has \(m.buffers.count) buffers)")
        }
        let bytes = m.buffers[Int(t.buffer)].data.count
        if bytes > 0, let w = t.type.byteWidth, bytes != count * w {
            throw r.fail(
                "\(p): buffer \(t.buffer) holds \(bytes) bytes, \(t.type.name) \(t.shape) needs \(count * w)")
        }
        guard let q = t.quantization else { return }
        if !q.zeroPoint.isEmpty && q.zeroPoint.count != q.scale.count {
            throw r.fail("\(p).quantization: \(q.scale.count) scales but \(q.zeroPoint.count) zero points")
        }
        if q.scale.count > 1 {
            let d = q.quantizedDimension
            guard d >= 0, Int(d) < t.shape.count else {
                throw r.fail(
                    "\(p).quantization.quantized_dimension: \(d) is not a dimension of the shape \(t.shape) (\(q.scale.count) per-channel scales)"
                )
            }
            guard Int(t.shape[Int(d)]) == q.scale.count else {
                throw r.fail(
                    "\(p).quantization: \(q.scale.count) per-channel scales but dimension \(d) of \(t.shape) is \(t.shape[Int(d)])"
                )
            }
        }
    }
}

/// The bytes of the file at `path`, nil when it cannot be read (no Foundation, so the reader also
/// builds alone, as the fuzz target does).
func readWholeFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        out.append(contentsOf: chunk[0..<n])
        if n < chunk.count { return ferror(f) == 0 ? out : nil }
    }
}
