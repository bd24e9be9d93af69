import Foundation

/// The parts of an ELF file the targets need: section headers (names, types, flags, sizes) and
/// the symbol table (names, values, sizes). ELF32 and ELF64, little-endian only (every kdc target
/// is); every offset and size is checked against the file's length before it is read.
public struct ELFFile: Sendable {
    public struct Section: Equatable, Sendable {
        public var name: String
        /// `sh_type`: 1 PROGBITS, 2 SYMTAB, 3 STRTAB, 8 NOBITS, …
        public var type: UInt32
        /// `sh_flags`: 1 WRITE, 2 ALLOC, 4 EXECINSTR.
        public var flags: UInt64
        public var address: UInt64
        public var offset: UInt64
        public var size: UInt64
        public var link: UInt32

        public var isAllocated: Bool { flags & 2 != 0 }
        public var isWritable: Bool { flags & 1 != 0 }
        public var isExecutable: Bool { flags & 4 != 0 }
        public var hasContents: Bool { type != 8 }
    }

    public struct Symbol: Equatable, Sendable {
        public var name: String
        public var value: UInt64
        public var size: UInt64
        /// `STT_*`: 0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION, 4 FILE.
        public var type: UInt8
        /// `STB_*`: 0 LOCAL, 1 GLOBAL, 2 WEAK.
        public var binding: UInt8
        /// The index of its section (0: undefined, 0xfff1: absolute).
        public var sectionIndex: UInt16
    }

    /// Text, data and bss as binutils' `size` (Berkeley format) adds them up: allocated sections
    /// that are executable or read-only count as text, other allocated ones with contents as
    /// data, the rest (NOBITS) as bss.
    public struct BerkeleySizes: Equatable, Sendable {
        public var text: Int, data: Int, bss: Int
        public init(text: Int, data: Int, bss: Int) {
            self.text = text
            self.data = data
            self.bss = bss
        }
        public static func + (a: Self, b: Self) -> Self {
            .init(text: a.text + b.text, data: a.data + b.data, bss: a.bss + b.bss)
        }
    }

    public let path: String
    public let is64: Bool
    /// `e_machine`: 40 ARM, 62 x86-64, 243 RISC-V, …
    public let machine: UInt16
    public let sections: [Section]
    /// Every entry of `.symtab` but the null one (empty without a symbol table).
    public let symbols: [Symbol]

    /// Reads the file at `path`.
    /// - Throws: `TargetError.io` when it cannot be read, `TargetError.format` (naming the file
    ///   and the field) when it is not a little-endian ELF32/ELF64 file or a header, section or
    ///   string points outside it.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TargetError.io(path: path, message: "cannot read the ELF file")
        }
        try self.init(bytes: [UInt8](data), path: path)
    }

    /// Parses `bytes`; `path` names them in errors.
    public init(bytes b: [UInt8], path: String) throws {
        self.path = path
        func fail(_ m: String) -> TargetError { .format(file: path, message: "not a valid ELF file: \(m)") }
        // e_ident: magic, class, data encoding.
        guard b.count >= 16, b[0] == 0x7f, b[1] == 0x45, b[2] == 0x4c, b[3] == 0x46 else {
            throw fail("no ELF magic (7f 45 4c 46) at offset 0")
        }
        guard b[4] == 1 || b[4] == 2 else { throw fail("EI_CLASS is \(b[4]), expected 1 (ELF32) or 2 (ELF64)") }
        guard b[5] == 1 else { throw fail("EI_DATA is \(b[5]), expected 1 (little-endian)") }
        let is64 = b[4] == 2
        self.is64 = is64
        let r = Reader(bytes: b, fail: fail)
        let headerSize = is64 ? 64 : 52
        guard b.count >= headerSize else { throw fail("the file header needs \(headerSize) bytes, the file has \(b.count)") }
        machine = try r.u16(18, "e_machine")
        let shoff = is64 ? try r.u64(40, "e_shoff") : UInt64(try r.u32(32, "e_shoff"))
        let shentsize = Int(try r.u16(is64 ? 58 : 46, "e_shentsize"))
        var shnum = Int(try r.u16(is64 ? 60 : 48, "e_shnum"))
        var shstrndx = Int(try r.u16(is64 ? 62 : 50, "e_shstrndx"))
        let entry = is64 ? 64 : 40
        if shoff == 0 {
            sections = []
            symbols = []
            return
        }
        guard shentsize >= entry else { throw fail("e_shentsize is \(shentsize), expected at least \(entry)") }
        func header(_ i: Int) throws -> Section {
            let o = try r.offset(shoff, plus: UInt64(i) * UInt64(shentsize), need: UInt64(entry), "section header \(i)")
            if is64 {
                return Section(
                    name: "", type: try r.u32(o + 4, "sh_type"), flags: try r.u64(o + 8, "sh_flags"),
                    address: try r.u64(o + 16, "sh_addr"), offset: try r.u64(o + 24, "sh_offset"),
                    size: try r.u64(o + 32, "sh_size"), link: try r.u32(o + 40, "sh_link"))
            }
            return Section(
                name: "", type: try r.u32(o + 4, "sh_type"), flags: UInt64(try r.u32(o + 8, "sh_flags")),
                address: UInt64(try r.u32(o + 12, "sh_addr")), offset: UInt64(try r.u32(o + 16, "sh_offset")),
                size: UInt64(try r.u32(o + 20, "sh_size")), link: try r.u32(o + 24, "sh_link"))
        }
        // Extended numbering: with 0 / SHN_XINDEX the real values are in section 0's header.
        let zero = try header(0)
        if shnum == 0 { shnum = Int(clamping: zero.size) }
        if shstrndx == 0xffff { shstrndx = Int(zero.link) }
        guard shnum <= b.count / entry else { throw fail("\(shnum) section headers cannot fit in \(b.count) bytes") }
        var secs = try (0..<shnum).map(header)
        let nameOffsets = try (0..<shnum).map { i in
            try r.u32(try r.offset(shoff, plus: UInt64(i) * UInt64(shentsize), need: 4, "sh_name"), "sh_name")
        }
        if shstrndx != 0 {
            guard shstrndx < shnum else { throw fail("e_shstrndx \(shstrndx) is not a section (\(shnum) sections)") }
            let strtab = secs[shstrndx]
            for i in secs.indices {
                secs[i].name = try r.string(in: strtab, at: nameOffsets[i], "the name of section \(i)")
            }
        }
        sections = secs

        // The symbol table and its string table.
        var syms: [Symbol] = []
        if let symtab = secs.first(where: { $0.type == 2 }) {
            let size = is64 ? 24 : 16
            guard Int(symtab.link) < secs.count else { throw fail(".symtab's sh_link \(symtab.link) is not a section") }
            let names = secs[Int(symtab.link)]
            let count = Int(clamping: symtab.size / UInt64(size))
            _ = try r.offset(symtab.offset, plus: 0, need: symtab.size, ".symtab")
            for i in 1..<max(count, 1) {
                let o = try r.offset(symtab.offset, plus: UInt64(i * size), need: UInt64(size), "symbol \(i)")
                let info = b[o + (is64 ? 4 : 12)]
                let shndx = try r.u16(o + (is64 ? 6 : 14), "st_shndx")
                let value = is64 ? try r.u64(o + 8, "st_value") : UInt64(try r.u32(o + 4, "st_value"))
                let sz = is64 ? try r.u64(o + 16, "st_size") : UInt64(try r.u32(o + 8, "st_size"))
                let name = try r.string(in: names, at: try r.u32(o, "st_name"), "the name of symbol \(i)")
                syms.append(Symbol(name: name, value: value, size: sz, type: info & 15, binding: info >> 4, sectionIndex: shndx))
            }
        }
        symbols = syms
    }

    /// The first section named `name`.
    public func section(_ name: String) -> Section? { sections.first { $0.name == name } }

    /// The symbol named `name` (the last one when several, as `nm` lists them, e.g. two statics).
    public func symbol(_ name: String) -> Symbol? { symbols.last { $0.name == name } }

    /// Function symbols (`STT_FUNC`) by name.
    public var functionNames: Set<String> { Set(symbols.filter { $0.type == 2 }.map(\.name)) }

    /// text/data/bss as `size` prints them for this file.
    public var berkeleySizes: BerkeleySizes {
        var s = BerkeleySizes(text: 0, data: 0, bss: 0)
        for sec in sections where sec.isAllocated {
            if sec.isExecutable || !sec.isWritable {
                s.text += Int(clamping: sec.size)
            } else if sec.hasContents {
                s.data += Int(clamping: sec.size)
            } else {
                s.bss += Int(clamping: sec.size)
            }
        }
        return s
    }
}

/// Little-endian reads with bounds checks.
private struct Reader {
    let bytes: [UInt8]
    let fail: (String) -> TargetError

    func offset(_ base: UInt64, plus: UInt64, need: UInt64, _ what: String) throws -> Int {
        let (start, o1) = base.addingReportingOverflow(plus)
        let (end, o2) = start.addingReportingOverflow(need)
        guard !o1, !o2, end <= UInt64(bytes.count) else {
            throw fail("\(what) at offset \(base)+\(plus) (\(need) bytes) runs past the end of the file (\(bytes.count) bytes)")
        }
        return Int(start)
    }

    func u16(_ o: Int, _ what: String) throws -> UInt16 {
        guard o >= 0, o + 2 <= bytes.count else { throw fail("\(what) at offset \(o) is past the end of the file") }
        return UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8
    }

    func u32(_ o: Int, _ what: String) throws -> UInt32 {
        guard o >= 0, o + 4 <= bytes.count else { throw fail("\(what) at offset \(o) is past the end of the file") }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }
    }

    func u64(_ o: Int, _ what: String) throws -> UInt64 {
        guard o >= 0, o + 8 <= bytes.count else { throw fail("\(what) at offset \(o) is past the end of the file") }
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[o + $1]) << (8 * UInt64($1)) }
    }

    /// The NUL-terminated string at `index` of string table `table`.
    func string(in table: ELFFile.Section, at index: UInt32, _ what: String) throws -> String {
        guard UInt64(index) < table.size else {
            throw fail("\(what) is at index \(index) of a string table of \(table.size) bytes")
        }
        let tableStart = try offset(table.offset, plus: 0, need: table.size, "a string table")
        let limit = tableStart + Int(table.size)
        let start = tableStart + Int(index)
        var o = start
        while o < limit && bytes[o] != 0 { o += 1 }
        guard o < limit else { throw fail("\(what) is not NUL-terminated inside its string table") }
        return String(decoding: bytes[start..<o], as: UTF8.self)
    }
}
