import Foundation

/// The element type of the inputs or outputs `HostRun` streams.
public enum HostRunElement: String, Sendable {
    /// The tensor's own int8 values.
    case int8
    /// Little-endian float32: inputs quantized by the runtime's `kdc_input_from_float`, outputs
    /// dequantized by its `kdc_output_to_float`.
    case float32

    public var size: Int { self == .int8 ? 1 : 4 }
}

/// What `HostRun.run` did.
public struct HostRunResult: Equatable, Sendable {
    /// Inputs run (one `kdc_invoke` each).
    public var samples: Int
    /// The artifact as the runtime loaded it (input and output sizes are element counts).
    public var model: ModelRecord
}

/// Runs an artifact on many inputs with the C runtime on the host (`kdc run`), through the
/// harness `runtime/host/kdc_host_run.c`: one process, inputs read and outputs written one
/// sample at a time (10,000 inputs need no more memory than one). The harness is compiled once
/// per runtime source and compiler and kept (`HarnessCache`).
public enum HostRun {
    /// Runs the artifact at `artifactPath` on `count` inputs read from `inputPath` from byte
    /// `inputOffset` on (each the input tensor's values as `input` elements) and appends the
    /// outputs (`output` elements) to `outputPath` (which must exist: kdc writes an NPY header
    /// into it first). `saveInputsPath` gets the int8 input each sample ran on.
    /// - Throws: `TargetError.programFailed` naming the artifact with the runtime's status
    ///   (`kdc_init: KDC_ERR_BODY_CRC (body CRC mismatch)`) when it rejects the artifact or an
    ///   input; what building the harness throws.
    public static func run(
        artifactPath: String, inputPath: String, inputOffset: Int = 0, count: Int, input: HostRunElement,
        outputPath: String, output: HostRunElement, saveInputsPath: String? = nil, runtimeDirectory: String? = nil
    ) throws -> HostRunResult {
        let exe = try HarnessCache.executable(harness: "kdc_host_run", runtimeDirectory: runtimeDirectory)
        var args = ["--offset", String(inputOffset), "--count", String(count)]
        if input == .float32 { args.append("--float-input") }
        if output == .float32 { args.append("--float-output") }
        if let s = saveInputsPath { args += ["--save-inputs", s] }
        let records = try naming(program: artifactPath) {
            try HostTarget(scratch: NSTemporaryDirectory()).run(exe, arguments: args + [artifactPath, inputPath, outputPath])
        }
        let model = try records.require(records.model, "model"), run = try records.require(records.run, "run")
        guard run.samples == count else {
            throw TargetError.format(file: records.source, message: "the harness ran \(run.samples) inputs, \(count) were asked")
        }
        return HostRunResult(samples: run.samples, model: model)
    }

    /// The C runtime's int8 outputs for `inputs` (each the input tensor's int8 values) on the
    /// artifact at `artifactPath`.
    /// - Throws: `TargetError.invalidInput` for inputs of unequal or wrong size; what `run` throws.
    public static func outputs(artifactPath: String, inputs: [[Int8]], runtimeDirectory: String? = nil) throws -> [[Int8]] {
        guard let k = inputs.first?.count, k > 0, inputs.allSatisfy({ $0.count == k }) else {
            throw TargetError.invalidInput(what: "host run", message: "need at least one input, all of the same non-zero size")
        }
        let tmp = try SourceTree.scratchDirectory("host-run")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let inPath = tmp + "/inputs.bin", outPath = tmp + "/outputs.bin"
        try SourceTree.write(Data(inputs.joined().map { UInt8(bitPattern: $0) }), to: inPath)
        try SourceTree.write(Data(), to: outPath)
        let r = try run(
            artifactPath: artifactPath, inputPath: inPath, count: inputs.count, input: .int8, outputPath: outPath,
            output: .int8, runtimeDirectory: runtimeDirectory)
        guard r.model.inputBytes == k else {
            throw TargetError.invalidInput(
                what: artifactPath, message: "the model's input has \(r.model.inputBytes) values; the inputs have \(k)")
        }
        let m = r.model.outputBytes
        guard let data = FileManager.default.contents(atPath: outPath), data.count == inputs.count * m else {
            throw TargetError.format(
                file: outPath, message: "the harness's outputs are missing or not \(inputs.count) × \(m) bytes")
        }
        let bytes = [UInt8](data)
        return (0..<inputs.count).map { s in bytes[(s * m)..<((s + 1) * m)].map { Int8(bitPattern: $0) } }
    }
}

/// Host harnesses (`runtime/host/<name>.c` with the runtime's `src/*.c`) compiled once and kept
/// in a cache folder, keyed by a hash of every runtime source, the harness, the compiler, its
/// version and flags: a changed source or compiler builds a new one. The folder is
/// `$KDC_CACHE_DIR`, else `$XDG_CACHE_HOME/kdc`, else `~/.cache/kdc` (`host/<name>-<hash>`);
/// when it cannot be written, the harness is built into a scratch folder for this process.
public enum HarnessCache {
    /// The cache folder (not created).
    public static var directory: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["KDC_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/kdc" }
        return (env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()) + "/.cache/kdc"
    }

    /// The compiled harness `runtime/host/<harness>.c`, built if the cache lacks it.
    /// - Throws: `TargetError.io` for a missing harness or runtime source; the compiler's errors.
    public static func executable(harness: String, runtimeDirectory: String? = nil) throws -> String {
        let rt = try runtimeDirectory ?? SourceTree.runtimeDirectory()
        let source = rt + "/host/\(harness).c"
        guard FileManager.default.fileExists(atPath: source) else {
            throw TargetError.io(path: source, message: "the host harness is missing")
        }
        let host = HostTarget(scratch: NSTemporaryDirectory())
        try host.requireTools(countingInstructions: false)
        let key = try cacheKey(host: host, runtimeDirectory: rt, harness: source)
        let dir = directory + "/host"
        let exe = dir + "/\(harness)-\(key)"
        if FileManager.default.isExecutableFile(atPath: exe) { return exe }
        let sources = try SourceTree.runtimeSources(rt) + [source]
        let includes = [rt + "/include"]
        // Built beside its final place, then renamed into it (atomic: a concurrent kdc sees the
        // whole file or none).
        if (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil {
            let build = dir + "/.build-\(getpid())-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: build) }
            try host.build(sources: sources, includes: includes, objectDirectory: build + "/obj", output: build + "/exe")
            if rename(build + "/exe", exe) == 0 { return exe }
        }
        let scratch = try SourceTree.scratchDirectory("harness")
        try host.build(sources: sources, includes: includes, objectDirectory: scratch + "/obj", output: scratch + "/" + harness)
        return scratch + "/" + harness
    }

    /// FNV-1a (64-bit) over the compiler, its flags and `--version` output, and every file the
    /// harness is built from (runtime `src/`, `include/`, `tests/status_names.h`, the harness),
    /// as 16 hex digits.
    static func cacheKey(host: HostTarget, runtimeDirectory rt: String, harness: String) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
        }
        let version = (try? ProcessRunner.run(Command(host.compiler, ["--version"], timeout: 30)).stdout) ?? ""
        mix((([host.compiler] + host.flags + [version]).joined(separator: "\u{0}")).utf8)
        let fm = FileManager.default
        var files: [String] = []
        for sub in ["src", "include"] {
            let names = ((try? fm.contentsOfDirectory(atPath: rt + "/" + sub)) ?? []).filter {
                $0.hasSuffix(".c") || $0.hasSuffix(".h")
            }
            files += names.sorted().map { rt + "/" + sub + "/" + $0 }
        }
        files += [rt + "/tests/status_names.h", harness]
        for f in files {
            guard let data = fm.contents(atPath: f) else { throw TargetError.io(path: f, message: "cannot read the source") }
            mix(Array((URL(fileURLWithPath: f).lastPathComponent + "\u{0}\(data.count)\u{0}").utf8))
            mix(data)
        }
        return String(format: "%016llx", h)
    }
}
