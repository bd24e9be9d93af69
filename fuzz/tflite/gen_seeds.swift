/// Writes the small seed files of fuzz/tflite/seeds (run by `sh fuzz/tflite/run.sh seeds`): a
/// two-operator int8 model written by TFLiteWriter and a few variants of it (every option table
/// kdc reads, an operator code above 127, a buffer in the offset/size form after the flatbuffer,
/// shape signatures, metadata and a signature definition), so the fuzzer starts from small files
/// that reach every field.
#if canImport(Glibc)
    import Glibc
#endif

func save(_ name: String, _ bytes: [UInt8]) {
    let dir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "fuzz/tflite/seeds"
    guard let f = fopen(dir + "/" + name, "wb") else { fatalError("cannot write \(dir)/\(name)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

let q = { (s: Float, z: Int64) in TFLiteQuantization(scale: [s], zeroPoint: [z]) }
var tensors = [
    TFLiteTensor(shape: [1, 4, 4, 2], type: .int8, name: "input", quantization: q(0.5, -1), shapeSignature: [-1, 4, 4, 2]),
    TFLiteTensor(
        shape: [3, 3, 3, 2], type: .int8, buffer: 1, name: "conv/w",
        quantization: TFLiteQuantization(scale: [0.1, 0.2, 0.3], zeroPoint: [0, 0, 0])),
    TFLiteTensor(
        shape: [3], type: .int32, buffer: 2, name: "conv/b",
        quantization: TFLiteQuantization(scale: [0.05, 0.1, 0.15], zeroPoint: [0, 0, 0])),
    TFLiteTensor(shape: [1, 4, 4, 3], type: .int8, name: "conv", quantization: q(0.25, -128)),
    TFLiteTensor(shape: [1, 3, 3, 3], type: .int8, buffer: 3, name: "dw/w", quantization: q(0.02, 0)),
    TFLiteTensor(shape: [1, 2, 2, 3], type: .int8, name: "dw", quantization: q(0.25, -128)),
    TFLiteTensor(shape: [1, 1, 1, 3], type: .int8, name: "pool", quantization: q(0.25, -128)),
    TFLiteTensor(shape: [2], type: .int32, buffer: 4, name: "shape"),
    TFLiteTensor(shape: [1, 3], type: .int8, name: "flat", quantization: q(0.25, -128)),
    TFLiteTensor(shape: [2, 3], type: .int8, buffer: 5, name: "fc/w", quantization: q(0.01, 0)),
    TFLiteTensor(shape: [1, 2], type: .int8, name: "fc", quantization: q(0.125, 3)),
    TFLiteTensor(shape: [1, 2], type: .int8, name: "sum", quantization: q(0.25, 0)),
    TFLiteTensor(shape: [1, 2], type: .int8, name: "probs", quantization: q(1.0 / 256, -128)),
    TFLiteTensor(shape: [2], type: .int8, name: "squeezed", quantization: q(1.0 / 256, -128)),
]
let ops = [
    TFLiteOperator(
        opcodeIndex: 0, inputs: [0, 1, 2], outputs: [3],
        options: .conv2d(TFLiteConv2DOptions(padding: .same, strideW: 1, strideH: 1, activation: .relu))),
    TFLiteOperator(
        opcodeIndex: 1, inputs: [3, 4, -1], outputs: [5],
        options: .depthwiseConv2d(
            TFLiteDepthwiseConv2DOptions(padding: .valid, strideW: 2, strideH: 2, depthMultiplier: 1, activation: .relu6))),
    TFLiteOperator(
        opcodeIndex: 2, inputs: [5], outputs: [6],
        options: .pool2d(
            TFLitePool2DOptions(padding: .valid, strideW: 2, strideH: 2, filterWidth: 2, filterHeight: 2, activation: .none))),
    TFLiteOperator(opcodeIndex: 3, inputs: [6, 7], outputs: [8], options: .reshape(newShape: [1, 3])),
    TFLiteOperator(
        opcodeIndex: 4, inputs: [8, 9, -1], outputs: [10],
        options: .fullyConnected(TFLiteFullyConnectedOptions(activation: .none, keepNumDims: true))),
    TFLiteOperator(opcodeIndex: 5, inputs: [10, 10], outputs: [11], options: .add(activation: .relu)),
    TFLiteOperator(opcodeIndex: 6, inputs: [11], outputs: [12], options: .softmax(beta: 1)),
    TFLiteOperator(opcodeIndex: 7, inputs: [12], outputs: [13], options: .squeeze(squeezeDims: [0])),
]
let codes = [
    TFLiteOp.conv2d, TFLiteOp.depthwiseConv2d, TFLiteOp.averagePool2d, TFLiteOp.reshape, TFLiteOp.fullyConnected,
    TFLiteOp.add, TFLiteOp.softmax, TFLiteOp.squeeze,
].map { TFLiteOperatorCode(builtin: $0) }
let buffers = [
    TFLiteBuffer(), TFLiteBuffer((0..<54).map { UInt8($0) }), TFLiteBuffer([UInt8](repeating: 1, count: 12)),
    TFLiteBuffer([UInt8](repeating: 3, count: 27)), TFLiteBuffer([1, 0, 0, 0, 3, 0, 0, 0]),
    TFLiteBuffer([1, 2, 3, 4, 5, 6]), TFLiteBuffer(Array("1.14.0".utf8)),
]
let model = TFLiteModel(
    operatorCodes: codes,
    subgraphs: [TFLiteSubGraph(tensors: tensors, inputs: [0], outputs: [13], operators: ops, name: "main")],
    description: "kdc fuzz seed", buffers: buffers, metadata: [TFLiteMetadata(name: "min_runtime_version", buffer: 6)],
    signatureDefs: [
        TFLiteSignatureDef(
            inputs: [.init(name: "x", tensorIndex: 0)], outputs: [.init(name: "y", tensorIndex: 13)],
            signatureKey: "serving_default", subgraphIndex: 0)
    ])
let all = TFLiteWriter.write(model)
save("all_ops.tflite", all)

// Operator codes the schema 3a way: a code above 127 only in builtin_code (GELU, 150).
var wide = model
wide.operatorCodes.append(TFLiteOperatorCode(builtin: 150))
wide.subgraphs[0].operators.append(TFLiteOperator(opcodeIndex: 8, inputs: [13], outputs: [13], options: .other(type: 0)))
save("gelu_code.tflite", TFLiteWriter.write(wide))

// A per-channel depthwise weight along dimension 3 and float tensors.
var perChannel = model
perChannel.subgraphs[0].tensors[4].quantization = TFLiteQuantization(
    scale: [0.01, 0.02, 0.03], zeroPoint: [0, 0, 0], quantizedDimension: 3)
perChannel.subgraphs[0].tensors[0].type = .float32
perChannel.subgraphs[0].tensors[0].quantization = nil
save("per_channel.tflite", TFLiteWriter.write(perChannel))

// Schema 3c: buffer 1's data after the flatbuffer, located by offset/size. The writer writes
// buffers inline, so this file is patched by hand: buffer 1 is written empty, then a Buffer
// table of the offset form and the 54 bytes are appended and buffers[1] points at that table.
func offsetForm() -> [UInt8] {
    var m = model
    m.buffers[1] = TFLiteBuffer()
    var b = TFLiteWriter.write(m)
    let r = FlatBufferReader(bytes: b, file: "")
    guard let root = try? r.root(identifier: "TFL3"),
        let vec = try? root.vector(4, "buffers", width: 4)
    else { fatalError("seed") }
    // Append a Buffer table {offset, size} and point buffers[1] at it; then the data.
    while b.count % 8 != 0 { b.append(0) }
    let vt = b.count
    b += [10, 0, 20, 0, 0, 0, 4, 0, 12, 0]  // vtable: 10 bytes, table 20 bytes, data absent, offset at 4, size at 12
    while b.count % 8 != 4 { b.append(0) }
    let table = b.count
    b += le32(UInt32(table - vt)) + le64(0) + le64(54)
    let data = b.count
    b.replaceSubrange((table + 4)..<(table + 12), with: le64(UInt64(data)))
    b += (0..<54).map { UInt8($0) }
    let slot = vec.start + 4
    b.replaceSubrange(slot..<(slot + 4), with: le32(UInt32(table - slot)))
    return b
}
save("buffer_offset_form.tflite", offsetForm())

// Mutations of the small model: truncated, a vtable pointing away, a huge vector count.
save("truncated.tflite", Array(all.prefix(all.count / 2)))
var vt = all
let rootPos = Int(FlatBufferReader(bytes: all, file: "").u32(0))
vt.replaceSubrange(rootPos..<(rootPos + 4), with: le32(0x8000_0000))
save("vtable_outside.tflite", vt)
var huge = all
huge.replaceSubrange(0..<4, with: le32(UInt32(all.count - 2)))
save("root_past_end.tflite", huge)
