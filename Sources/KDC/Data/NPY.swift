import Foundation

/// Element types kdc reads from NPY files.
public enum NPYType: String, Sendable, CaseIterable {
    case float32 = "<f4", uint8 = "|u1", int8 = "|i1", int32 = "<i4", int64 = "<i8"
    /// "float32", "int8", … (numpy's name).
    public var name: String { "\(self)" }
    public var size: Int {
        switch self {
        case .uint8, .int8: return 1;
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

/// The header of an NPY file: what `np.save` writes before the data.
public struct NPYHeader: Equatable, Sendable {
    /// The dtype as the file spells it (`<f4`, `|i1`, `>f8`, …).
    public var descr: String
    /// The element type, when kdc reads it (`descr` or an unambiguous spelling of it).
    public var type: NPYType?
    public var fortranOrder: Bool
    public var shape: [Int]
    /// Where the data starts: the magic, version, header length and header dict.
    public var dataOffset: Int

    public var count: Int { shape.reduce(1, *) }

    /// Parses the header at the start of `b` (which may hold only part of the data, or none);
    /// `path` names the file in errors.
    /// - Throws: `KDCError.data` naming `path` for a bad magic, an unsupported version, a
    ///   truncated or malformed header.
    public static func parse(_ b: [UInt8], path: String) throws -> NPYHeader {
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
            "<f4": .float32, "|u1": .uint8, "<u1": .uint8, "u1": .uint8, "|i1": .int8, "<i1": .int8, "i1": .int8,
            "<i4": .int32, "<i8": .int64,
        ]
        guard let fo = npyValue(header, key: "fortran_order") else { throw fail("NPY header has no 'fortran_order'") }
        guard fo.hasPrefix("True") || fo.hasPrefix("False") else {
            throw fail("NPY header has a malformed 'fortran_order': \(fo)")
        }
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
        var total = 1
        for v in shape {
            let (p, o) = total.multipliedReportingOverflow(by: v)
            guard !o, p <= Int.max / 8 else { throw fail("NPY header has a shape \(shape) too large to address") }
            total = p
        }
        return NPYHeader(
            descr: d, type: aliases[d], fortranOrder: fo.hasPrefix("True"), shape: shape, dataOffset: headerStart + headerLen)
    }

    /// The header of the NPY file at `path`, read without its data (a gzip-compressed file is
    /// inflated whole: its data is then `data`).
    /// - Throws: `KDCError.data` for a missing, unreadable or empty file and what `parse` throws.
    public static func read(_ path: String) throws -> (header: NPYHeader, data: [UInt8]?) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw KDCError.data(file: path, message: "file not found")
        }
        guard !isDir.boolValue else { throw KDCError.data(file: path, message: "is a directory, expected a file") }
        guard let fh = FileHandle(forReadingAtPath: path) else {
            throw KDCError.data(file: path, message: "cannot be read (permissions?)")
        }
        defer { try? fh.close() }
        var head = [UInt8]((try? fh.read(upToCount: 12)) ?? Data())
        guard !head.isEmpty else { throw KDCError.data(file: path, message: "file is empty") }
        if head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b {
            let all = try readDataFile(path)
            return (try parse(all, path: path), all)
        }
        if head.count == 12 && head[6] <= 3 {
            let len =
                head[6] == 1
                ? Int(head[8]) | Int(head[9]) << 8
                : Int(head[8]) | Int(head[9]) << 8 | Int(head[10]) << 16 | Int(head[11]) << 24
            head += [UInt8]((try? fh.read(upToCount: len)) ?? Data())
        }
        return (try parse(head, path: path), nil)
    }

    /// numpy's name of `descr` for the common dtypes ("float64", "int16", "float32, big-endian"),
    /// nil for others.
    public var typeName: String? {
        if let t = type { return t.name }
        let names = [
            "f2": "float16", "f4": "float32", "f8": "float64", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
            "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64", "b1": "bool",
        ]
        guard descr.count == 3, let n = names[String(descr.dropFirst())] else { return nil }
        return descr.first == ">" && descr.last != "1" ? n + ", big-endian" : n
    }

    /// The message for a dtype kdc does not read.
    var unsupportedTypeMessage: String {
        "unsupported NPY dtype '\(descr)'; supported: <f4 (float32), |u1 (uint8), |i1 (int8), <i4 (int32), <i8 (int64). Convert with x.astype(np.float32)"
    }
}

/// Reads an NPY file, format versions 1.0, 2.0 and 3.0 (raw or gzip), in C order, with dtype
/// `<f4`, `|u1`, `|i1`, `<i4` or `<i8` (`<u1`/`u1`/`<i1`-style spellings of the same type are
/// accepted where unambiguous). Throws `KDCError.data` naming `path` for a bad magic, an
/// unsupported version or dtype, Fortran order, a malformed header or a payload of the wrong length.
public func readNPY(_ path: String) throws -> NPYArray {
    let b = try readDataFile(path)
    func fail(_ m: String) -> KDCError { .data(file: path, message: m) }
    let h = try NPYHeader.parse(b, path: path)
    guard let type = h.type else { throw fail(h.unsupportedTypeMessage) }
    if h.fortranOrder {
        throw fail("Fortran-order arrays are not supported; save with np.save(path, np.ascontiguousarray(x))")
    }
    let shape = h.shape, d = h.descr
    let count = h.count
    let start = h.dataOffset
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
        case .int8:
            for i in 0..<count { values[i] = Float(Int8(bitPattern: raw[i])) }
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

/// An NPY format 1.0 file, as `np.save` writes it: `npyHeader`, then `payload`.
func npyFile(descr: String, shape: [Int], payload: [UInt8]) -> [UInt8] {
    var out = npyHeader(descr: descr, shape: shape)
    out.reserveCapacity(out.count + payload.count)
    out += payload
    return out
}

/// The header of an NPY format 1.0 file, as `np.save` writes it: the magic `\x93NUMPY`, version
/// 1.0, a little-endian u16 header length, the header dict (`descr`, C order, `shape`) padded with
/// spaces and ended by a newline so the data starts on a 64-byte boundary.
public func npyHeader(descr: String, shape: [Int]) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let hl = header.utf8.count
    precondition(hl <= 0xFFFF, "an NPY 1.0 header holds at most 65535 bytes")
    return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(hl & 0xFF), UInt8(hl >> 8)] + Array(header.utf8)
}

/// The bytes of an int8 (`|i1`) NPY 1.0 file of `shape`, C order.
public func npyBytes(shape: [Int], int8 values: [Int8]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
    return npyFile(descr: "|i1", shape: shape, payload: values.map { UInt8(bitPattern: $0) })
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

/// Writes `values` as an int8 (`|i1`) NPY 1.0 file of `shape` (C order), through a temporary
/// file and a rename.
public func writeNPY(_ path: String, shape: [Int], int8 values: [Int8]) throws {
    try writeFileAtomically(Data(npyBytes(shape: shape, int8: values)), to: path)
}
