import Foundation

/// An IDX array (the MNIST file format): unsigned-byte data with its dimensions.
public struct IDXArray: Equatable, Sendable {
    /// Dimensions as stored, outermost first (e.g. `[N, 28, 28]` or `[N]`).
    public var dims: [Int]
    public var bytes: [UInt8]
}

/// Reads an IDX file, raw or gzip (detected by the `1f 8b` magic).
///
/// Header: magic `00 00 08 D` (big-endian; type byte `0x08` = uint8, `D` = number of
/// dimensions, 1...4), then `D` big-endian u32 sizes, then the payload whose length must
/// equal their product. Every problem throws `KDCError.data` naming `path`.
public func readIDX(_ path: String) throws -> IDXArray {
    let b = try readDataFile(path)
    func fail(_ m: String) -> KDCError { .data(file: path, message: m) }
    guard b.count >= 4 else { throw fail("truncated IDX header: \(b.count) bytes, need at least 4") }
    guard b[0] == 0, b[1] == 0 else {
        throw fail(String(format: "not an IDX file: magic %02x %02x %02x %02x, expected 00 00 08 0N", b[0], b[1], b[2], b[3]))
    }
    guard b[2] == 0x08 else {
        throw fail(String(format: "unsupported IDX element type 0x%02x; only 0x08 (unsigned byte) is supported", b[2]))
    }
    let nd = Int(b[3])
    guard (1...4).contains(nd) else { throw fail("IDX file has \(nd) dimensions; expected 1 to 4") }
    let headerSize = 4 + 4 * nd
    guard b.count >= headerSize else {
        throw fail("truncated IDX header: \(b.count) bytes, need \(headerSize) for \(nd) dimensions")
    }
    var dims: [Int] = []
    var product = 1
    for d in 0..<nd {
        let o = 4 + 4 * d
        let v = Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
        dims.append(v)
        let (p, overflow) = product.multipliedReportingOverflow(by: v)
        guard !overflow else { throw fail("IDX dimensions \(dims) overflow") }
        product = p
    }
    let payload = b.count - headerSize
    guard payload == product else {
        throw fail(
            "IDX dimensions \(dims) need \(product) data bytes but the file holds \(payload)"
                + (payload < product ? " (truncated?)" : ""))
    }
    return IDXArray(dims: dims, bytes: Array(b[headerSize...]))
}

/// Reads an IDX image file and, optionally, its label file into a `Dataset`.
///
/// Images `[N, H, W]` become `[H, W, 1]` samples (`[N, F]` becomes `[F]`) with float values
/// 0...255, not normalized; `sampleShape`, when given, reshapes them (same element count).
/// Without a label file every label is −1. Labels must be < `classes`.
public func readIDXDataset(
    images: String, labels: String?, classes: Int, sampleShape: [Int]? = nil,
    name: String = "idx"
) throws -> Dataset {
    let img = try readIDX(images)
    guard img.dims.count >= 2 else {
        throw KDCError.data(file: images, message: "IDX image file has dimensions \(img.dims); expected [N, H, W] or [N, F]")
    }
    let n = img.dims[0]
    var shape = Array(img.dims.dropFirst())
    if shape.count == 2 { shape.append(1) }
    if let want = sampleShape {
        try checkChannelLast(Array(img.dims.dropFirst()), shape: want, file: images)
        guard want.reduce(1, *) == shape.reduce(1, *) else {
            throw KDCError.data(
                file: images,
                message:
                    "samples have shape \(Array(img.dims.dropFirst())) (\(shape.reduce(1, *)) values) but data.shape is \(want) (\(want.reduce(1, *)) values)"
            )
        }
        shape = want
    }
    var y = [Int32](repeating: -1, count: n)
    if let labels {
        let lab = try readIDX(labels)
        guard lab.dims.count == 1 else {
            throw KDCError.data(file: labels, message: "IDX label file has dimensions \(lab.dims); expected [N]")
        }
        guard lab.dims[0] == n else {
            throw KDCError.data(file: labels, message: "\(lab.dims[0]) labels but \(n) images in \(images)")
        }
        for (i, v) in lab.bytes.enumerated() {
            guard Int(v) < classes else {
                throw KDCError.data(
                    file: labels, message: "label \(v) at index \(i) is out of range 0..<\(classes) (data.classes)")
            }
            y[i] = Int32(v)
        }
    }
    return Dataset(
        name: name, sampleShape: shape, x: img.bytes.map(Float.init), labels: y, numClasses: classes,
        origin: RowOrigin(file: images, fileRows: n))
}
