import Foundation

/// A machine kdc compiles C programs for and runs them on: the host (the system C compiler) or
/// a board under QEMU (`QEMUTarget`). Programs report through records (`RecordDecoder`), so
/// every target returns the same typed results.
public protocol Target: Sendable {
    /// "host", "cortex-m4".
    var name: String { get }
    /// "host (cc)", "cortex-m4 (qemu mps2-an386)".
    var description: String { get }
    /// Throws `TargetError.toolNotFound` (with the packages to install) for the first tool
    /// missing on `path` (default `$PATH`); counting instructions needs more tools.
    func requireTools(countingInstructions: Bool, path: String?) throws
    /// Compiles one C file into `object`.
    func compile(_ source: String, includes: [String], defines: [String], object: String) throws
    /// Links objects into the program at `output` (an executable or a firmware image).
    func link(_ objects: [String], output: String) throws
    /// Runs a program to its end and returns its records.
    /// - Throws: `TargetError.programFailed` for an `error` record, `TargetError.toolFailed` when
    ///   it did not exit with status 0, `TargetError.format` for malformed records or no `done`.
    func run(_ program: String, arguments: [String]) throws -> Records
    /// Runs a program once more, counting the instructions the whole run executes.
    func countInstructions(_ program: String, arguments: [String]) throws -> (count: Int, records: Records)
}

extension Target {
    /// Compiles `sources` (each into `objectDirectory/<file name>.o`) and links them with
    /// `objects` into `output`.
    public func build(
        sources: [String], includes: [String] = [], defines: [String] = [], objects: [String] = [],
        objectDirectory: String, output: String
    ) throws {
        try FileManager.default.createDirectory(atPath: objectDirectory, withIntermediateDirectories: true)
        var compiled: [String] = []
        for s in sources {
            let o = objectDirectory + "/" + URL(fileURLWithPath: s).deletingPathExtension().lastPathComponent + ".o"
            try compile(s, includes: includes, defines: defines, object: o)
            compiled.append(o)
        }
        try link(compiled + objects, output: output)
    }
}

/// This machine: programs built by the system C compiler and run as processes; instructions
/// counted by valgrind's callgrind.
public struct HostTarget: Target {
    /// `$CC`, else `cc`.
    public var compiler: String
    /// `-std=c99 -O2 -Wall -Wextra -Werror`, then `-mavx2 -mfma` where `hasAVX2` (the runtime's
    /// avx2 kernel variant, chosen by `__AVX2__`: runtime/src/kdc_kernels.h).
    public var flags: [String]
    /// The runtime's kernel variant these flags build: "avx2" or "portable".
    public var kernelVariant: String { flags.contains("-mavx2") ? "avx2" : "portable" }
    /// Seconds any one compile or run may take.
    public var timeout: Double
    /// Where callgrind's output files go.
    public var scratch: String

    public init(scratch: String, compiler: String? = nil, timeout: Double = 600) {
        let env = ProcessInfo.processInfo.environment["CC"].flatMap { $0.isEmpty ? nil : $0 }
        self.compiler = compiler ?? env ?? "cc"
        flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"] + (Self.hasAVX2 ? ["-mavx2", "-mfma"] : [])
        self.timeout = timeout
        self.scratch = scratch
    }

    /// True on an x86-64 Linux host whose CPU has AVX2 and FMA (the `flags` line of
    /// `/proc/cpuinfo`), unless `KDC_HOST_KERNELS=portable` is set; false elsewhere, so a host
    /// without them keeps the portable kernels.
    public static var hasAVX2: Bool {
        #if arch(x86_64)
            if ProcessInfo.processInfo.environment["KDC_HOST_KERNELS"] == "portable" { return false }
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
            return cpuinfoHasAVX2(info)
        #else
            return false
        #endif
    }

    /// Whether the first `flags` line of a `/proc/cpuinfo` text lists both `avx2` and `fma`.
    static func cpuinfoHasAVX2(_ text: String) -> Bool {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
            let colon = line.firstIndex(of: ":")
        else { return false }
        let words = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        return words.contains("avx2") && words.contains("fma")
    }

    public var name: String { "host" }
    public var description: String { "host (\(compiler))" }

    public func requireTools(countingInstructions: Bool, path: String? = nil) throws {
        try Tools.require([compiler] + (countingInstructions ? ["valgrind"] : []), path: path)
    }

    public func compile(_ source: String, includes: [String], defines: [String], object: String) throws {
        try ProcessRunner.check(
            Command(compiler, flags + includes.map { "-I" + $0 } + defines + ["-c", source, "-o", object], timeout: timeout),
            action: "compiling \(source)", hint: "install a C compiler (apt-get install gcc) or set CC")
    }

    public func link(_ objects: [String], output: String) throws {
        try ProcessRunner.check(
            Command(compiler, objects + ["-o", output], timeout: timeout), action: "linking \(output)")
    }

    public func run(_ program: String, arguments: [String]) throws -> Records {
        let r = try ProcessRunner.run(Command(program, arguments, timeout: timeout))
        return try RecordDecoder.decodeFinished(
            r.stdout, source: "\(program) (stdout)", program: program, termination: r.termination, otherOutput: r.stderr)
    }

    /// Instructions of the whole run as callgrind counts them (`totals:` of its output file).
    public func countInstructions(_ program: String, arguments: [String]) throws -> (count: Int, records: Records) {
        let out = scratch + "/callgrind-\(UUID().uuidString).out"
        defer { unlink(out) }
        let r = try ProcessRunner.run(
            Command("valgrind", ["--tool=callgrind", "--callgrind-out-file=" + out, program] + arguments, timeout: timeout))
        let records = try RecordDecoder.decodeFinished(
            r.stdout, source: "\(program) under callgrind (stdout)", program: program, termination: r.termination,
            otherOutput: r.stderr)
        guard let text = try? String(contentsOfFile: out, encoding: .utf8) else {
            throw TargetError.io(path: out, message: "callgrind wrote no output file")
        }
        return (try Self.callgrindTotal(text, file: out), records)
    }

    /// The event count on the `totals:` (or `summary:`) line of a callgrind output file (one
    /// event, Ir, as callgrind counts by default).
    static func callgrindTotal(_ text: String, file: String) throws -> Int {
        for key in ["totals:", "summary:"] {
            for line in text.split(separator: "\n") where line.hasPrefix(key) {
                let fields = line.dropFirst(key.count).split(separator: " ")
                if fields.count == 1, let n = Int(fields[0]) { return n }
                throw TargetError.format(
                    file: file, message: "expected '\(key) N' (one event count: Ir) in callgrind's output, got '\(line)'")
            }
        }
        throw TargetError.format(file: file, message: "callgrind's output has no 'totals:' or 'summary:' line")
    }
}
