/// libFuzzer target for the TensorFlow Lite reader and importer (Sources/KDC/Import): any bytes
/// give a model or a `KDCError`, never a trap, an out-of-bounds access or a hang. Built by
/// fuzz/tflite/run.sh with `swiftc -sanitize=fuzzer,address -parse-as-library` from the
/// reader's, writer's and importer's source files and the IR they build.
///
/// Invariants checked on every input the reader accepts: the model writes (TFLiteWriter), the
/// written bytes read back, and writing that again gives the same bytes (the writer and reader
/// agree on every field; compared as bytes, so NaN scales compare equal). The importer then
/// gives a graph or an error; a graph is in canonical order with int8 tensors of positive
/// shapes, and its MAC count is computed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let model = try? TFLiteReader.read(bytes: bytes, file: "fuzz") else { return 0 }
    let written = TFLiteWriter.write(model)
    let again: TFLiteModel
    do {
        again = try TFLiteReader.read(bytes: written, file: "written")
    } catch {
        fatalError("a model the reader accepted does not read back after writing: \(error)")
    }
    guard TFLiteWriter.write(again) == written else {
        fatalError("writing the model read back gives other bytes")
    }
    // Element counts and buffer sizes the reader validated: computing them must not overflow.
    for sg in again.subgraphs { for t in sg.tensors { _ = t.count } }
    guard let g = try? TFLiteImporter.importModel(model, file: "fuzz") else { return 0 }
    guard g.input.index == 0, g.nodes.enumerated().allSatisfy({ $0.element.output.index == $0.offset + 1 }),
        g.tensors.allSatisfy({ $0.type == .int8 && $0.quant != nil && !$0.shape.isEmpty && $0.shape.allSatisfy { $0 > 0 } })
    else {
        fatalError("the importer gave a graph that is not canonical int8")
    }
    _ = g.macs
    return 0
}
