/// A bounds-checked reader of FlatBuffers binary data (the format of TensorFlow Lite files).
///
/// Layout, as the FlatBuffers documentation ("internals") describes it: little-endian scalars;
/// the file starts with a `uoffset` (u32) to the root table, optionally followed by a 4-byte file
/// identifier. A table starts with an `soffset` (i32): its vtable lies at `table − soffset`. A
/// vtable is u16 words: its own size in bytes, the table's inline size, then one offset per field
/// id from the table start (0: the field is absent, the reader uses the schema default). Offset
/// fields (tables, vectors, strings) hold a u32 counted from the field's own position. A vector
/// is a u32 element count followed by the elements; a string is a vector of bytes.
///
/// Every read is checked against the file's length with checked arithmetic and is byte by byte,
/// so no alignment is assumed. Failures are `KDCError.format` naming the file and the field path
/// ("subgraphs[0].tensors[7].shape: ..."). A budget on the bytes decoded (a generous multiple of
/// the file size) stops files whose offsets make the same data be decoded over and over.
final class FlatBufferReader {
    let bytes: [UInt8]
    let file: String
    private var budget: Int

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        // Real files decode each byte about once; 8× plus 1 MiB leaves room for shared data.
        let (b, o) = bytes.count.multipliedReportingOverflow(by: 8)
        self.budget = o ? Int.max : b &+ (1 << 20)
    }

    /// The error naming the file: `what` says where and what is wrong.
    func fail(_ what: String) -> KDCError { .format(file: file, message: what) }

    /// Charges `n` decoded bytes against the budget.
    func charge(_ n: Int, _ path: String) throws {
        guard n <= budget else {
            throw fail(
                "\(path): the file's offsets make the reader decode more than 8 times its \(bytes.count) bytes "
                    + "(data shared by many tables); not a file a TFLite converter writes")
        }
        budget -= n
    }

    /// Whether `[pos, pos + n)` lies inside the file.
    func contains(_ pos: Int, _ n: Int) -> Bool {
        guard pos >= 0, n >= 0 else { return false }
        let (end, o) = pos.addingReportingOverflow(n)
        return !o && end <= bytes.count
    }

    /// Throws unless `[pos, pos + n)` lies inside the file.
    func need(_ pos: Int, _ n: Int, _ path: String, _ what: String) throws {
        guard contains(pos, n) else {
            throw fail("\(path): \(what) at offset \(pos) (\(n) bytes) points past the end (file is \(bytes.count) bytes)")
        }
    }

    // Little-endian reads; callers have checked the range.
    func u8(_ p: Int) -> UInt8 { bytes[p] }
    func u16(_ p: Int) -> UInt16 { UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8 }
    func u32(_ p: Int) -> UInt32 {
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }
    func u64(_ p: Int) -> UInt64 { UInt64(u32(p)) | UInt64(u32(p + 4)) << 32 }

    /// The root table, after checking the file identifier (bytes 4..<8).
    func root(identifier: String) throws -> FlatTable {
        guard bytes.count >= 8 else {
            throw fail("file is \(bytes.count) bytes, too short for a FlatBuffers header (8 bytes); truncated?")
        }
        guard Array(bytes[4..<8]) == Array(identifier.utf8) else {
            let id = String(bytes[4..<8].map { (0x20..<0x7f).contains($0) ? Character(UnicodeScalar($0)) : "." })
            let hex = bytes[4..<8].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
            throw fail("file identifier is '\(id)' (\(hex)), expected '\(identifier)': not a TensorFlow Lite model")
        }
        return try table(at: Int(u32(0)), path: "model")
    }

    /// The table at absolute position `pos`, with its vtable checked.
    func table(at pos: Int, path: String) throws -> FlatTable {
        try need(pos, 4, path, "table")
        let vt = pos - Int(Int32(bitPattern: u32(pos)))
        guard contains(vt, 4) else {
            throw fail("\(path): vtable at offset \(vt) points outside the file (file is \(bytes.count) bytes)")
        }
        let vtSize = Int(u16(vt)), size = Int(u16(vt + 2))
        guard vtSize >= 4, vtSize % 2 == 0, contains(vt, vtSize) else {
            throw fail(
                "\(path): vtable at offset \(vt) has size \(vtSize) (an even number ≥ 4 that fits the file of \(bytes.count) bytes expected)"
            )
        }
        guard size >= 4, contains(pos, size) else {
            throw fail("\(path): table at offset \(pos) of \(size) bytes points past the end (file is \(bytes.count) bytes)")
        }
        try charge(vtSize + size, path)
        return FlatTable(r: self, pos: pos, vt: vt, vtSize: vtSize, size: size, path: path)
    }

    /// A vector at `pos` (its u32 count) of `count` elements of `width` bytes.
    func vector(at pos: Int, width: Int, path: String) throws -> FlatVector {
        try need(pos, 4, path, "vector")
        let count = Int(u32(pos))
        let (n, o) = count.multipliedReportingOverflow(by: width)
        guard !o, contains(pos + 4, n) else {
            throw fail(
                "\(path): vector at offset \(pos) of \(count) elements (\(width) bytes each) points past the end (file is \(bytes.count) bytes)"
            )
        }
        try charge(n, path)
        return FlatVector(r: self, start: pos + 4, count: count, width: width, path: path)
    }
}

/// A table of a FlatBuffers file: its position, vtable and inline size, all checked.
struct FlatTable {
    let r: FlatBufferReader
    let pos: Int, vt: Int, vtSize: Int, size: Int
    /// Where the table sits in the model, for messages ("subgraphs[0].tensors[3]").
    let path: String

    /// A table with no fields (every read gives the default), for an absent optional table.
    static func empty(_ r: FlatBufferReader, path: String) -> FlatTable {
        FlatTable(r: r, pos: 0, vt: 0, vtSize: 4, size: 4, path: path)
    }

    /// The position of field `id`'s inline value (`width` bytes), nil when the field is absent.
    func field(_ id: Int, _ name: String, width: Int) throws -> Int? {
        let entry = 4 + 2 * id
        guard entry + 2 <= vtSize else { return nil }
        let off = Int(r.u16(vt + entry))
        if off == 0 { return nil }
        guard off >= 4, off + width <= size else {
            throw r.fail(
                "\(path).\(name): field offset \(off) (\(width) bytes) lies outside its table of \(size) bytes at offset \(pos)")
        }
        return pos + off
    }

    func u8(_ id: Int, _ name: String, default d: UInt8 = 0) throws -> UInt8 {
        try field(id, name, width: 1).map { r.u8($0) } ?? d
    }
    func i8(_ id: Int, _ name: String, default d: Int8 = 0) throws -> Int8 {
        try field(id, name, width: 1).map { Int8(bitPattern: r.u8($0)) } ?? d
    }
    func bool(_ id: Int, _ name: String, default d: Bool = false) throws -> Bool {
        try field(id, name, width: 1).map { r.u8($0) != 0 } ?? d
    }
    func u32(_ id: Int, _ name: String, default d: UInt32 = 0) throws -> UInt32 {
        try field(id, name, width: 4).map { r.u32($0) } ?? d
    }
    func i32(_ id: Int, _ name: String, default d: Int32 = 0) throws -> Int32 {
        try field(id, name, width: 4).map { Int32(bitPattern: r.u32($0)) } ?? d
    }
    func u64(_ id: Int, _ name: String, default d: UInt64 = 0) throws -> UInt64 {
        try field(id, name, width: 8).map { r.u64($0) } ?? d
    }
    func f32(_ id: Int, _ name: String, default d: Float = 0) throws -> Float {
        try field(id, name, width: 4).map { Float(bitPattern: r.u32($0)) } ?? d
    }

    /// The absolute position an offset field points to, nil when absent.
    func target(_ id: Int, _ name: String) throws -> Int? {
        guard let p = try field(id, name, width: 4) else { return nil }
        return p + Int(r.u32(p))
    }

    func table(_ id: Int, _ name: String) throws -> FlatTable? {
        guard let t = try target(id, name) else { return nil }
        return try r.table(at: t, path: "\(path).\(name)")
    }

    func vector(_ id: Int, _ name: String, width: Int) throws -> FlatVector? {
        guard let t = try target(id, name) else { return nil }
        return try r.vector(at: t, width: width, path: "\(path).\(name)")
    }

    func string(_ id: Int, _ name: String) throws -> String? {
        guard let v = try vector(id, name, width: 1) else { return nil }
        return String(decoding: r.bytes[v.start..<(v.start + v.count)], as: UTF8.self)
    }

    func i32s(_ id: Int, _ name: String) throws -> [Int32]? {
        guard let v = try vector(id, name, width: 4) else { return nil }
        return (0..<v.count).map { Int32(bitPattern: r.u32(v.start + 4 * $0)) }
    }
    func i64s(_ id: Int, _ name: String) throws -> [Int64]? {
        guard let v = try vector(id, name, width: 8) else { return nil }
        return (0..<v.count).map { Int64(bitPattern: r.u64(v.start + 8 * $0)) }
    }
    func f32s(_ id: Int, _ name: String) throws -> [Float]? {
        guard let v = try vector(id, name, width: 4) else { return nil }
        return (0..<v.count).map { Float(bitPattern: r.u32(v.start + 4 * $0)) }
    }
    func bytes(_ id: Int, _ name: String) throws -> [UInt8]? {
        guard let v = try vector(id, name, width: 1) else { return nil }
        return Array(r.bytes[v.start..<(v.start + v.count)])
    }

    /// A vector of tables, each decoded by `body` (index, table).
    func tables<T>(_ id: Int, _ name: String, _ body: (Int, FlatTable) throws -> T) throws -> [T]? {
        guard let v = try vector(id, name, width: 4) else { return nil }
        var out: [T] = []
        out.reserveCapacity(min(v.count, 1 << 16))
        for i in 0..<v.count {
            let p = v.start + 4 * i
            out.append(try body(i, try r.table(at: p + Int(r.u32(p)), path: "\(path).\(name)[\(i)]")))
        }
        return out
    }
}

/// A vector's elements: `count` values of `width` bytes from `start`, all inside the file.
struct FlatVector {
    let r: FlatBufferReader
    let start: Int, count: Int, width: Int
    let path: String
}
