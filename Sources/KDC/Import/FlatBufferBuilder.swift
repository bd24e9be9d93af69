/// Builds FlatBuffers binary data front to back (the layout `FlatBufferReader` documents).
///
/// An object is written before the objects it refers to, so every `uoffset` points forward, as
/// the format requires (offsets are unsigned). A table is its vtable, then the table (so its
/// `soffset` is positive), its scalars sorted by size, largest first, each aligned to its size
/// from the start of the file; then the objects its offset fields name, depth first. Vectors
/// have their count at a multiple of 4 and their elements aligned to the element size (or to
/// `align` for data such as TFLite's buffers, `force_align: 16`); strings end with a NUL. The
/// output depends only on the objects given: the same model gives the same bytes.
struct FlatBufferBuilder {
    /// A field of a table: `id` is its index in the schema's table (union: type id, value id).
    enum Field {
        /// A scalar's little-endian bytes (1, 2, 4 or 8 of them).
        case scalar(id: Int, bytes: [UInt8])
        /// An offset to another object.
        case object(id: Int, Object)
    }

    /// Anything an offset can point to.
    indirect enum Object {
        case table([Field])
        case string(String)
        /// A vector of scalars: `count` elements of `width` bytes in `bytes`, aligned to `align`.
        case scalars(bytes: [UInt8], count: Int, width: Int, align: Int)
        case tables([Object])
    }

    private(set) var out: [UInt8] = []

    /// The file: the root offset, the identifier, then `root` and everything it refers to.
    static func finish(root: Object, identifier: String) -> [UInt8] {
        var b = FlatBufferBuilder()
        b.out = [0, 0, 0, 0] + Array(identifier.utf8.prefix(4))
        b.pad(to: 4)
        let pos = b.write(root)
        b.patch(0, UInt32(pos))
        return b.out
    }

    private mutating func pad(to a: Int) {
        while out.count % a != 0 { out.append(0) }
    }

    private mutating func patch(_ at: Int, _ v: UInt32) {
        for k in 0..<4 { out[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }

    /// Writes `o` and what it refers to; returns the position an offset to it holds.
    private mutating func write(_ o: Object) -> Int {
        switch o {
        case let .string(s):
            let u = Array(s.utf8)
            pad(to: 4)
            let pos = out.count
            out += le32(UInt32(u.count)) + u + [0]
            return pos
        case let .scalars(bytes, count, width, align):
            let a = max(4, width, align)
            // The elements start aligned to `a`; the count sits in the 4 bytes before them.
            pad(to: 4)
            while (out.count + 4) % a != 0 { out += [0, 0, 0, 0] }
            let pos = out.count
            out += le32(UInt32(count)) + bytes
            return pos
        case let .tables(items):
            pad(to: 4)
            let pos = out.count
            out += le32(UInt32(items.count))
            let slots = out.count
            out += [UInt8](repeating: 0, count: 4 * items.count)
            for (i, item) in items.enumerated() {
                let at = slots + 4 * i
                let p = write(item)
                patch(at, UInt32(p - at))
            }
            return pos
        case let .table(fields):
            return writeTable(fields)
        }
    }

    private mutating func writeTable(_ fields: [Field]) -> Int {
        // Inline layout: the soffset (4 bytes) at 0, then scalars largest first, then offsets.
        struct Slot { var id: Int, width: Int, bytes: [UInt8]?, object: Object? }
        var slots: [Slot] = fields.map {
            switch $0 {
            case let .scalar(id, b): return Slot(id: id, width: b.count, bytes: b, object: nil)
            case let .object(id, o): return Slot(id: id, width: 4, bytes: nil, object: o)
            }
        }
        slots.sort { ($0.width, -$0.id) > ($1.width, -$1.id) }
        let align = slots.map(\.width).max().map { max($0, 4) } ?? 4
        var offsets = [Int](repeating: 0, count: slots.count)
        var size = 4
        for (k, s) in slots.enumerated() {
            while size % s.width != 0 { size += 1 }
            offsets[k] = size
            size += s.width
        }
        while size % 4 != 0 { size += 1 }
        let fieldCount =
            (fields.map { field in
                switch field {
                case let .scalar(id, _), let .object(id, _): return id
                }
            }.max() ?? -1) + 1
        var vtable = [UInt16](repeating: 0, count: 2 + fieldCount)
        vtable[0] = UInt16(2 * vtable.count)
        vtable[1] = UInt16(size)
        for (k, s) in slots.enumerated() { vtable[2 + s.id] = UInt16(offsets[k]) }
        // The vtable, then padding so that the table start is aligned to its widest scalar.
        pad(to: 2)
        let vt = out.count
        for v in vtable { out += [UInt8(v & 0xff), UInt8(v >> 8)] }
        pad(to: align)
        let pos = out.count
        out += [UInt8](repeating: 0, count: size)
        patch(pos, UInt32(bitPattern: Int32(pos - vt)))
        for (k, s) in slots.enumerated() {
            if let b = s.bytes { out.replaceSubrange((pos + offsets[k])..<(pos + offsets[k] + b.count), with: b) }
        }
        for (k, s) in slots.enumerated() {
            guard let o = s.object else { continue }
            let at = pos + offsets[k]
            let p = write(o)
            patch(at, UInt32(p - at))
        }
        return pos
    }
}

func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
