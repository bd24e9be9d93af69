import Foundation

/// Element types kdc reads from NPY files.
public enum NPYType: String, Sendable, CaseIterable {
    case float32 = "<f4", uint8 = "|u1", int32 = "<i4", int64 = "<i8"
    var size: Int {
        switch self {
        case .uint8: return 1;
        case .float32, .int32: return 4;
        case .int64: return 8
        }
    }
}

/// An NPY array read into memory. Values of every dtype are held as `Float`
/// (integers up to 2^24 are exact); integer dtypes are also kept exactly in `integers`.
public struct NPYArray: Equatable, Sendable {
    public var shape: [Int]
    public var type: NPYType
    public var values: [Float]
    /// The exact values for integer dtypes (`nil` for float32).
    public var integers: [Int64]?
    public var count: Int { shape.reduce(1, *) }
}

/// Reads an NPY file, format versions 1.0, 2.0 and 3.0 (raw or gzip), in C order, with dtype
/// `<f4`, `|u1`, `<i4` or `<i8` (`<u1`/`u1`/`|i1`-style spellings of the same type are accepted
/// where unambiguous). Throws `KDCError.data` naming `path` for a bad magic, an unsupported
/// version or dtype, Fortran order, a malformed header or a payload of the wrong length.
public func readNPY(_ path: String) throws -> NPYArray {
    let b = try readDataFile(path)
    func fail(_ m: String) -> KDCError { .data(file: path, message: m) }
    let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    guard b.count >= 10, Array(b[0..<6]) == magic else { throw fail("not an NPY file (bad magic); expected \\x93NUMPY") }
    let major = b[6]
    let headerLen: Int, headerStart: Int
    switch major {
    case 1:
        headerLen = Int(b[8]) | Int(b[9]) << 8; headerStart = 10
    case 2, 3:
        guard b.count >= 12 else { throw fail("truncated NPY header") }
        headerLen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; headerStart = 12
    default:
        throw fail("unsupported NPY format version \(major).\(b[7]); supported: 1.0, 2.0, 3.0")
    }
    guard b.count >= headerStart + headerLen else { throw fail("truncated NPY header: needs \(headerLen) bytes") }
    let header = String(decoding: b[headerStart..<(headerStart + headerLen)], as: UTF8.self)

    guard let descr = npyValue(header, key: "descr") else { throw fail("NPY header has no 'descr': \(header)") }
    let d = quoted(descr)
    let aliases: [String: NPYType] = [
        "<f4": .float32, "|u1": .uint8, "<u1": .uint8, "u1": .uint8,
        "<i4": .int32, "<i8": .int64,
    ]
    guard let type = aliases[d] else {
        throw fail(
            "unsupported NPY dtype '\(d)'; supported: <f4 (float32), |u1 (uint8), <i4 (int32), <i8 (int64). Convert with x.astype(np.float32)"
        )
    }
    guard let fo = npyValue(header, key: "fortran_order") else { throw fail("NPY header has no 'fortran_order'") }
    if fo.hasPrefix("True") {
        throw fail("Fortran-order arrays are not supported; save with np.save(path, np.ascontiguousarray(x))")
    }
    guard fo.hasPrefix("False") else { throw fail("NPY header has a malformed 'fortran_order': \(fo)") }
    guard let sh = npyValue(header, key: "shape"), sh.hasPrefix("(") else { throw fail("NPY header has no 'shape' tuple") }
    let inner = sh.dropFirst().prefix { $0 != ")" }
    var shape: [Int] = []
    for part in inner.split(separator: ",") {
        let t = part.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { continue }
        guard let v = Int(t.hasSuffix("L") ? String(t.dropLast()) : t), v >= 0 else {
            throw fail("NPY header has a malformed shape \(sh)")
        }
        shape.append(v)
    }
    let count = shape.reduce(1, *)
    let start = headerStart + headerLen
    let need = count * type.size
    guard b.count - start == need else {
        throw fail(
            "NPY shape \(shape) of \(d) needs \(need) data bytes but the file holds \(b.count - start)"
                + (b.count - start < need ? " (truncated?)" : ""))
    }
    var values = [Float](repeating: 0, count: count)
    var ints: [Int64]? = nil
    b.withUnsafeBufferPointer { p in
        let raw = UnsafeRawBufferPointer(start: p.baseAddress! + start, count: need)
        switch type {
        case .uint8:
            for i in 0..<count { values[i] = Float(raw[i]) }
            ints = values.map { Int64($0) }
        case .float32:
            for i in 0..<count {
                values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .int32:
            var a = [Int64](repeating: 0, count: count)
            for i in 0..<count {
                a[i] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)));
                values[i] = Float(a[i])
            }
            ints = a
        case .int64:
            var a = [Int64](repeating: 0, count: count)
            for i in 0..<count {
                a[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)); values[i] = Float(a[i])
            }
            ints = a
        }
    }
    return NPYArray(shape: shape, type: type, values: values, integers: ints)
}

/// The text after `'key':` in an NPY header dict, up to the end of the header.
private func npyValue(_ header: String, key: String) -> String? {
    for q in ["'", "\""] {
        if let r = header.range(of: "\(q)\(key)\(q)") {
            var rest = header[r.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            return String(rest)
        }
    }
    return nil
}

/// The contents of the quoted string at the start of `text` (`'<f4', ...` → `<f4`).
private func quoted(_ text: String) -> String {
    guard let q = text.first, q == "'" || q == "\"" else { return String(text.prefix { $0 != "," && $0 != "}" }) }
    return String(text.dropFirst().prefix { $0 != q })
}

/// An NPY format 1.0 file, as `np.save` writes it: the magic `\x93NUMPY`, version 1.0, a
/// little-endian u16 header length, the header dict (`descr`, C order, `shape`) padded with spaces
/// and ended by a newline so the data starts on a 64-byte boundary, then `payload`.
func npyFile(descr: String, shape: [Int], payload: [UInt8]) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let hl = header.utf8.count
    precondition(hl <= 0xFFFF, "an NPY 1.0 header holds at most 65535 bytes")
    var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(hl & 0xFF), UInt8(hl >> 8)]
    out.reserveCapacity(out.count + hl + payload.count)
    out += Array(header.utf8)
    out += payload
    return out
}

/// The bytes of a float32 (`<f4`) NPY 1.0 file of `shape`, C order.
public func npyBytes(shape: [Int], float32 values: [Float]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
    var payload = [UInt8](repeating: 0, count: 4 * values.count)
    payload.withUnsafeMutableBytes { p in
        for (i, v) in values.enumerated() { p.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
    }
    return npyFile(descr: "<f4", shape: shape, payload: payload)
}

/// The bytes of an int64 (`<i8`) NPY 1.0 file of `shape`, C order.
public func npyBytes(shape: [Int], int64 values: [Int64]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
    var payload = [UInt8](repeating: 0, count: 8 * values.count)
    payload.withUnsafeMutableBytes { p in
        for (i, v) in values.enumerated() { p.storeBytes(of: v.littleEndian, toByteOffset: 8 * i, as: Int64.self) }
    }
    return npyFile(descr: "<i8", shape: shape, payload: payload)
}

/// Writes `values` as a little-endian float32 NPY 1.0 file of `shape` (C order), as `np.save`
/// would, through a temporary file and a rename.
public func writeNPY(_ path: String, shape: [Int], values: [Float]) throws {
    try writeFileAtomically(Data(npyBytes(shape: shape, float32: values)), to: path)
}

/// Writes `values` as a little-endian int64 NPY 1.0 file of `shape` (C order), through a
/// temporary file and a rename.
public func writeNPY(_ path: String, shape: [Int], int64 values: [Int64]) throws {
    try writeFileAtomically(Data(npyBytes(shape: shape, int64: values)), to: path)
}
