import Foundation

/// A board under QEMU: firmware compiled with the board's cross toolchain and linked with its
/// startup file and memory map, run with semihosting (the program's records go to a file through
/// a QEMU character device, apart from QEMU's own messages), instructions counted by the
/// `insncount` TCG plugin.
public struct QEMUTarget: Target {
    public var board: Board
    /// The firmware folder: the startup file, the linker script, `insncount/insncount.c`.
    public var firmwareDirectory: String
    /// Where the memory script, logs, record files and the plugin go.
    public var scratch: String
    /// The host compiler for the plugin (`$CC`, else `cc`).
    public var hostCompiler: String
    /// Seconds any one compile or QEMU run may take.
    public var timeout: Double

    public init(board: Board, firmwareDirectory: String, scratch: String, timeout: Double = 300) {
        self.board = board
        self.firmwareDirectory = firmwareDirectory
        self.scratch = scratch
        self.timeout = timeout
        hostCompiler = HostTarget(scratch: scratch).compiler
    }

    public var name: String { board.name }
    public var description: String { board.description }

    public func requireTools(countingInstructions: Bool, path: String? = nil) throws {
        try Tools.require([board.toolchain.cc, board.toolchain.objdump, board.qemu], packages: board.packages, path: path)
        if countingInstructions { try Tools.require([hostCompiler], path: path) }
    }

    /// Compiles with `Board.compileFlags`; gcc writes the call graph beside the object
    /// (`<object without .o>.ci`).
    public func compile(_ source: String, includes: [String], defines: [String], object: String) throws {
        try ProcessRunner.check(
            Command(
                board.toolchain.cc, board.compileFlags + includes.map { "-I" + $0 } + defines + ["-c", source, "-o", object],
                timeout: timeout, packages: board.packages),
            action: "compiling \(source) for \(board.name)")
    }

    /// Links with `Board.linkFlags`, the firmware folder's linker script, `memory.ld` (written
    /// beside `output` from `Board.memory`) and the stack size; the map goes to `<output>.map`.
    public func link(_ objects: [String], output: String) throws {
        let dir = URL(fileURLWithPath: output).deletingLastPathComponent().path
        try SourceTree.write(Data(board.memoryScript().utf8), to: dir + "/memory.ld")
        let args =
            board.linkFlags + [
                "-Wl,-L," + dir, "-T", firmwareDirectory + "/" + board.linkerScript,
                "-Wl,--defsym=STACK_SIZE=0x" + String(board.stackSize, radix: 16), "-Wl,-Map," + output + ".map",
                "-o", output,
            ] + objects
        try ProcessRunner.check(
            Command(board.toolchain.cc, args, timeout: timeout, packages: board.packages), action: "linking \(output)")
    }

    /// Runs the image (no arguments: firmware takes none) until it exits through semihosting.
    public func run(_ program: String, arguments: [String] = []) throws -> Records {
        try runQEMU(program, extra: [], purpose: "run").records
    }

    /// Runs the image with the insncount plugin (built from the firmware folder on first use).
    public func countInstructions(_ program: String, arguments: [String] = []) throws -> (count: Int, records: Records) {
        let plugin = try insncountPlugin()
        let log = scratch + "/insncount-\(UUID().uuidString).log"
        defer { unlink(log) }
        let (records, _) = try runQEMU(program, extra: ["-plugin", plugin, "-d", "plugin", "-D", log], purpose: "count")
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else {
            throw TargetError.io(path: log, message: "QEMU wrote no plugin log")
        }
        let counted = try RecordDecoder.decode(text, source: log)
        return (try counted.require(counted.instructions, "instructions").count, records)
    }

    /// The lowest stack pointer of a whole run: QEMU dumps the registers before every
    /// instruction (`-singlestep -d cpu,nochain`, read as it streams: hundreds of MB), and the
    /// smallest value after `Board.stackPointerKey` is kept. About 2 s per million instructions.
    /// Values outside `within` are left out (RISC-V's sp is 0 until `_start` sets it).
    public func lowestStackPointer(
        _ program: String, within: ClosedRange<UInt64>? = nil
    ) throws -> (stackPointer: UInt64, records: Records) {
        var scanner = HexAfterKeyScanner(key: board.stackPointerKey, range: within)
        let (records, _) = try runQEMU(
            program, extra: ["-singlestep", "-d", "cpu,nochain", "-D", "/dev/stdout"], purpose: "splow",
            stream: { scanner.scan($0) })
        guard let sp = scanner.lowest else {
            throw TargetError.format(
                file: program,
                message:
                    "QEMU's register dumps (-d cpu) showed no '\(board.stackPointerKey)<hex>'; the stack low-water mark cannot be read"
            )
        }
        return (sp, records)
    }

    /// `objdump -d` of the image (for the library functions the stack analysis sizes from code).
    public func disassemble(_ program: String) throws -> String {
        try ProcessRunner.check(
            Command(board.toolchain.objdump, ["-d", program], timeout: timeout, packages: board.packages),
            action: "disassembling \(program)"
        ).stdout
    }

    // MARK: - implementation

    private func runQEMU(
        _ image: String, extra: [String], purpose: String, stream: ((Data) -> Void)? = nil
    ) throws -> (records: Records, output: String) {
        let recordsPath = scratch + "/\(purpose)-\(UUID().uuidString).jsonl"
        defer { unlink(recordsPath) }
        // A path in a QEMU option value doubles its commas.
        let chardev = "file,id=kdc-semihosting,path=" + recordsPath.replacingOccurrences(of: ",", with: ",,")
        let args =
            board.qemuArguments + [
                "-chardev", chardev, "-semihosting-config", "enable=on,target=native,chardev=kdc-semihosting", "-kernel", image,
            ] + extra
        let cmd = Command(board.qemu, args, timeout: timeout, packages: board.packages)
        let r = try stream.map { s in try ProcessRunner.stream(cmd) { s($0) } } ?? ProcessRunner.run(cmd)
        let text = (try? String(contentsOfFile: recordsPath, encoding: .utf8)) ?? ""
        let records = try RecordDecoder.decodeFinished(
            text, source: "\(image) (semihosting output)", program: image, termination: r.termination,
            otherOutput: r.stdout + r.stderr)
        return (records, r.stdout + r.stderr)
    }

    /// `libinsncount.so` in the scratch folder, compiled with the host compiler once.
    private func insncountPlugin() throws -> String {
        let so = scratch + "/libinsncount.so"
        if FileManager.default.fileExists(atPath: so) { return so }
        let src = firmwareDirectory + "/insncount/insncount.c"
        guard FileManager.default.fileExists(atPath: src) else {
            throw TargetError.io(path: src, message: "the insncount QEMU plugin's source is missing")
        }
        try ProcessRunner.check(
            Command(hostCompiler, ["-shared", "-fPIC", "-O2", "-o", so, src], timeout: timeout),
            action: "compiling the insncount QEMU plugin", hint: "install a C compiler (apt-get install gcc) or set CC")
        return so
    }
}

/// Finds every `<key><hex digits>` in a byte stream that arrives in chunks and keeps the
/// smallest value. A key cut by a chunk boundary is found in the next chunk (the last bytes are
/// carried over; a value seen twice changes no minimum).
struct HexAfterKeyScanner {
    let key: [UInt8]
    private(set) var lowest: UInt64?
    private var carry: [UInt8] = []
    /// Values outside it are not kept.
    let range: ClosedRange<UInt64>?

    init(key: String, range: ClosedRange<UInt64>? = nil) {
        self.key = Array(key.utf8)
        self.range = range
    }

    mutating func scan(_ chunk: Data) {
        var buf = carry
        buf.append(contentsOf: chunk)
        let needle = key
        let keep = needle.count + 16
        buf.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress, let first = needle.first, p.count >= needle.count else { return }
            var i = 0
            // memchr finds the key's first byte fast (the dumps are mostly other text).
            while i + needle.count <= p.count {
                guard let hit = memchr(base + i, Int32(first), p.count - i) else { break }
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                guard at + needle.count <= p.count else { break }
                var match = true
                for k in 1..<needle.count where p[at + k] != needle[k] {
                    match = false
                    break
                }
                i = at + 1
                guard match else { continue }
                var j = at + needle.count, v: UInt64 = 0, digits = 0
                while j < p.count, digits < 16, let d = Self.hexValue(p[j]) {
                    v = v << 4 | UInt64(d)
                    j += 1
                    digits += 1
                }
                // A value cut by the chunk's end is read whole from the carried-over bytes.
                guard digits > 0, j < p.count else { continue }
                if range.map({ $0.contains(v) }) ?? true, lowest.map({ v < $0 }) ?? true { lowest = v }
                i = j
            }
        }
        carry = Array(buf.suffix(keep))
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
}
