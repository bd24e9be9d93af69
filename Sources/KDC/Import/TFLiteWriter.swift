/// Encodes a `TFLiteModel` as a TensorFlow Lite flatbuffer: the "TFL3" identifier and the
/// field ids of TensorFlow Lite's `schema.fbs` (the same ids `TFLiteReader` reads), built by
/// `FlatBufferBuilder`. Scalars equal to their schema default are left out, as FlatBuffers
/// builders do; buffers are written inside the flatbuffer (16-byte aligned, `force_align: 16`).
/// `TFLiteReader.read(bytes: write(m))` gives `m` back, and the bytes depend only on `m`.
public enum TFLiteWriter {
    public static func write(_ m: TFLiteModel) -> [UInt8] {
        typealias F = FlatBufferBuilder.Field
        var fields: [F] = [.scalar(id: 0, bytes: le32(m.version))]
        fields.append(.object(id: 1, .tables(m.operatorCodes.map(operatorCode))))
        fields.append(.object(id: 2, .tables(m.subgraphs.map(subgraph))))
        if let d = m.description { fields.append(.object(id: 3, .string(d))) }
        fields.append(
            .object(
                id: 4,
                .tables(
                    m.buffers.map { b in
                        .table(b.data.isEmpty ? [] : [.object(id: 0, bytes(b.data, width: 1, align: 16))])
                    })))
        if !m.metadata.isEmpty {
            fields.append(
                .object(
                    id: 6,
                    .tables(
                        m.metadata.map { md in
                            .table([.object(id: 0, .string(md.name)), .scalar(id: 1, bytes: le32(md.buffer))])
                        })))
        }
        if !m.signatureDefs.isEmpty { fields.append(.object(id: 7, .tables(m.signatureDefs.map(signature)))) }
        return FlatBufferBuilder.finish(root: .table(fields), identifier: "TFL3")
    }

    typealias Object = FlatBufferBuilder.Object
    typealias Field = FlatBufferBuilder.Field

    static func bytes(_ b: [UInt8], width: Int, align: Int = 1) -> Object {
        .scalars(bytes: b, count: b.count / width, width: width, align: align)
    }
    static func i32s(_ v: [Int32]) -> Object { bytes(v.flatMap { le32(UInt32(bitPattern: $0)) }, width: 4) }
    static func i8(_ id: Int, _ v: Int8, default d: Int8 = 0) -> [Field] {
        v == d ? [] : [.scalar(id: id, bytes: [UInt8(bitPattern: v)])]
    }
    static func i32(_ id: Int, _ v: Int32, default d: Int32 = 0) -> [Field] {
        v == d ? [] : [.scalar(id: id, bytes: le32(UInt32(bitPattern: v)))]
    }
    static func bool(_ id: Int, _ v: Bool) -> [Field] { v ? [.scalar(id: id, bytes: [1])] : [] }

    static func operatorCode(_ c: TFLiteOperatorCode) -> Object {
        var f = i8(0, c.deprecatedBuiltinCode)
        if let s = c.customCode { f.append(.object(id: 1, .string(s))) }
        f += i32(2, c.version, default: 1) + i32(3, c.builtinCode)
        return .table(f)
    }

    static func subgraph(_ s: TFLiteSubGraph) -> Object {
        var f: [Field] = [
            .object(id: 0, .tables(s.tensors.map(tensor))), .object(id: 1, i32s(s.inputs)),
            .object(id: 2, i32s(s.outputs)), .object(id: 3, .tables(s.operators.map(op))),
        ]
        if let n = s.name { f.append(.object(id: 4, .string(n))) }
        return .table(f)
    }

    static func tensor(_ t: TFLiteTensor) -> Object {
        var f: [Field] = [.object(id: 0, i32s(t.shape))]
        f += i8(1, t.type.rawValue)
        if t.buffer != 0 { f.append(.scalar(id: 2, bytes: le32(t.buffer))) }
        f.append(.object(id: 3, .string(t.name)))
        if let q = t.quantization {
            let qf: [Field] =
                [
                    .object(id: 2, bytes(q.scale.flatMap { le32($0.bitPattern) }, width: 4)),
                    .object(id: 3, bytes(q.zeroPoint.flatMap { le64(UInt64(bitPattern: $0)) }, width: 8)),
                ] + i32(6, q.quantizedDimension)
            f.append(.object(id: 4, .table(qf)))
        }
        f += bool(5, t.isVariable)
        if let s = t.shapeSignature { f.append(.object(id: 7, i32s(s))) }
        return .table(f)
    }

    static func op(_ o: TFLiteOperator) -> Object {
        var f: [Field] = [.object(id: 1, i32s(o.inputs)), .object(id: 2, i32s(o.outputs))]
        if o.opcodeIndex != 0 { f.append(.scalar(id: 0, bytes: le32(o.opcodeIndex))) }
        if o.options != .none {
            f.append(.scalar(id: 3, bytes: [o.options.unionType]))
            f.append(.object(id: 4, .table(options(o.options))))
        }
        return .table(f)
    }

    /// The fields of a BuiltinOptions table (ids as in schema.fbs).
    static func options(_ o: TFLiteOptions) -> [Field] {
        switch o {
        case .none, .other: return []
        case let .conv2d(c):
            return i8(0, c.padding.rawValue) + i32(1, c.strideW) + i32(2, c.strideH) + i8(3, c.activation.rawValue)
                + i32(4, c.dilationW, default: 1) + i32(5, c.dilationH, default: 1)
        case let .depthwiseConv2d(c):
            return i8(0, c.padding.rawValue) + i32(1, c.strideW) + i32(2, c.strideH) + i32(3, c.depthMultiplier)
                + i8(4, c.activation.rawValue) + i32(5, c.dilationW, default: 1) + i32(6, c.dilationH, default: 1)
        case let .pool2d(p):
            return i8(0, p.padding.rawValue) + i32(1, p.strideW) + i32(2, p.strideH) + i32(3, p.filterWidth)
                + i32(4, p.filterHeight) + i8(5, p.activation.rawValue)
        case let .fullyConnected(c):
            return i8(0, c.activation.rawValue) + i8(1, c.weightsFormat) + bool(2, c.keepNumDims)
        case let .softmax(beta):
            return beta.bitPattern == 0 ? [] : [.scalar(id: 0, bytes: le32(beta.bitPattern))]
        case let .add(a):
            return i8(0, a.rawValue)
        case let .reshape(s):
            return s.map { [.object(id: 0, i32s($0))] } ?? []
        case let .squeeze(d):
            return [.object(id: 0, i32s(d))]
        }
    }

    static func signature(_ s: TFLiteSignatureDef) -> Object {
        func maps(_ m: [TFLiteSignatureDef.TensorMap]) -> Object {
            .tables(m.map { .table([.object(id: 0, .string($0.name)), .scalar(id: 1, bytes: le32($0.tensorIndex))]) })
        }
        var f: [Field] = [.object(id: 0, maps(s.inputs)), .object(id: 1, maps(s.outputs))]
        if let k = s.signatureKey { f.append(.object(id: 2, .string(k))) }
        if s.subgraphIndex != 0 { f.append(.scalar(id: 4, bytes: le32(s.subgraphIndex))) }
        return .table(f)
    }
}
