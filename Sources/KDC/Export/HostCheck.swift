import Foundation

/// The first output byte where the C runtime and `Int8Interpreter` disagree.
public struct HostMismatch: Equatable, Sendable {
    public var sample: Int
    public var byte: Int
    public var expected: Int8
    public var got: Int8
}

/// What running an artifact with the real C runtime on the host showed.
public struct HostCheckResult: Equatable, Sendable {
    /// Samples run.
    public var samples: Int
    /// Output bytes (over all samples) that differ from `Int8Interpreter`.
    public var mismatches: Int
    public var firstMismatch: HostMismatch?
    /// Fraction of labelled samples whose C-runtime argmax equals the label; nil without labels.
    public var accuracy: Double?
    /// Median wall-clock time of one `kdc_invoke` on this host, nanoseconds.
    public var latencyNsMedian: Int
    /// Arena bytes the runtime reported (kdc_query).
    public var arenaBytes: Int
}

/// Compiles the C runtime with a small harness (`runtime/host/kdc_host_check.c`) using the
/// system C compiler, runs an artifact on quantized inputs in a separate process and compares
/// every output byte with the Swift `Int8Interpreter`.
public enum HostCheck {
    /// The runtime folder (the one holding `include/kdc.h`): `$KDC_RUNTIME_DIR` (the runtime
    /// folder or its parent), else the first `runtime/` found walking up from the executable's
    /// folder, then from the current directory.
    /// - Throws: `KDCError.io` when none is found.
    public static func findRuntimeDir() throws -> String {
        let fm = FileManager.default
        func hasHeader(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/include/kdc.h") }
        if let env = ProcessInfo.processInfo.environment["KDC_RUNTIME_DIR"], !env.isEmpty {
            if hasHeader(env) { return env }
            if hasHeader(env + "/runtime") { return env + "/runtime" }
            throw KDCError.io(
                path: env,
                message:
                    "KDC_RUNTIME_DIR has no include/kdc.h (nor runtime/include/kdc.h); hint: point it at the kdc runtime/ folder")
        }
        var starts: [URL] = []
        if let exe = Bundle.main.executableURL { starts.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        starts.append(URL(fileURLWithPath: fm.currentDirectoryPath))
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                if hasHeader(dir.path + "/runtime") { return dir.path + "/runtime" }
                let up = dir.deletingLastPathComponent()
                if up.path == dir.path { break }
                dir = up
            }
        }
        throw KDCError.io(
            path: fm.currentDirectoryPath,
            message:
                "cannot find the kdc C runtime (runtime/include/kdc.h) above the executable or the current directory; hint: set KDC_RUNTIME_DIR to the runtime/ folder"
        )
    }

    /// Compiles runtime/src/*.c + runtime/host/kdc_host_check.c into `outDir/kdc_host_check`
    /// with `$CC` (default `cc`): `-std=c99 -O2 -Wall -Wextra -Werror`.
    /// - Returns: the executable's path.
    /// - Throws: `KDCError.io` with the compiler's output when compiling fails or no compiler runs.
    public static func buildHarness(runtimeDir: String, outDir: String) throws -> String {
        let fm = FileManager.default
        let srcDir = runtimeDir + "/src"
        let sources = try ((try? fm.contentsOfDirectory(atPath: srcDir)) ?? []).filter { $0.hasSuffix(".c") }.sorted()
            .map { srcDir + "/" + $0 }
            .nonEmpty(orThrow: KDCError.io(path: srcDir, message: "no C sources in the runtime folder"))
        let harness = runtimeDir + "/host/kdc_host_check.c"
        guard fm.fileExists(atPath: harness) else {
            throw KDCError.io(path: harness, message: "host check harness missing")
        }
        try fm.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let exe = outDir + "/kdc_host_check"
        let cc = ProcessInfo.processInfo.environment["CC"].flatMap { $0.isEmpty ? nil : $0 } ?? "cc"
        let args =
            ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-I" + runtimeDir + "/include"] + sources + [harness, "-o", exe]
        let r: ProcessOutput
        do {
            r = try runProcess("/usr/bin/env", [cc] + args, scratch: outDir)
        } catch {
            throw KDCError.io(path: cc, message: "cannot run the C compiler: \(error); hint: install a C compiler (cc) or set CC")
        }
        guard r.status == 0, !r.signaled else {
            let hint =
                r.status == 127 ? "; hint: no C compiler '\(cc)' on PATH: install one (e.g. apt-get install gcc) or set CC" : ""
            throw KDCError.io(
                path: harness, message: "compiling the runtime failed (\(cc) exit \(r.status))\(hint):\n\(r.stdout)\(r.stderr)")
        }
        return exe
    }

    /// Runs the artifact at `artifactPath` on `inputs` (each the input tensor's int8 values)
    /// with the C runtime and compares with `Int8Interpreter` on `graph`. `labels` (same
    /// count, −1 = unlabelled) give the accuracy. `repeats`: timed invokes per sample.
    public static func run(
        artifactPath: String, graph: Graph, inputs: [[Int8]], labels: [Int32]? = nil,
        expected: [[Int8]]? = nil, runtimeDir: String? = nil, repeats: Int = 5
    ) throws -> HostCheckResult {
        let inBytes = graph[graph.input].count, outBytes = graph[graph.output].count
        guard inputs.allSatisfy({ $0.count == inBytes }) else {
            throw KDCError.data(file: "<host check>", message: "every input must have \(inBytes) values")
        }
        if let e = expected, e.count != inputs.count || !e.allSatisfy({ $0.count == outBytes }) {
            throw KDCError.data(file: "<host check>", message: "expected outputs must be one of \(outBytes) values per input")
        }
        let rt = try runtimeDir ?? findRuntimeDir()
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("kdc-host-check-\(getpid())-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let exe = try buildHarness(runtimeDir: rt, outDir: tmp)
        let inPath = tmp + "/inputs.bin", outPath = tmp + "/outputs.bin"
        try writeFileAtomically(Data(inputs.flatMap { $0 }.map { UInt8(bitPattern: $0) }), to: inPath)
        let r = try runProcess(exe, [artifactPath, inPath, outPath, String(max(repeats, 1))], scratch: tmp)
        if r.signaled {
            throw KDCError.io(
                path: artifactPath, message: "the host check harness crashed (signal \(r.status)):\n\(r.stdout)\(r.stderr)")
        }
        guard r.status == 0 else {
            throw KDCError.io(
                path: artifactPath,
                message:
                    "the C runtime rejected the artifact or failed (exit \(r.status)): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        var kv: [String: Int] = [:]
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = Int(parts[1]) { kv[String(parts[0])] = v }
        }
        guard let samples = kv["samples"], samples == inputs.count, kv["output_bytes"] == outBytes, kv["input_bytes"] == inBytes
        else {
            throw KDCError.io(path: exe, message: "unexpected harness output (samples/sizes differ from the graph):\n\(r.stdout)")
        }
        guard let outData = FileManager.default.contents(atPath: outPath), outData.count == samples * outBytes else {
            throw KDCError.io(path: outPath, message: "harness outputs missing or of the wrong size")
        }
        let got = [UInt8](outData).map { Int8(bitPattern: $0) }
        let interp = Int8Interpreter()
        var mismatches = 0, first: HostMismatch? = nil, correct = 0, labelled = 0
        for (s, x) in inputs.enumerated() {
            // The Swift reference's outputs: given by the caller when it already has them.
            let want = expected.map { $0[s] } ?? interp.run(graph, input: x)
            let row = Array(got[(s * outBytes)..<((s + 1) * outBytes)])
            for b in 0..<outBytes where want[b] != row[b] {
                mismatches += 1
                if first == nil { first = HostMismatch(sample: s, byte: b, expected: want[b], got: row[b]) }
            }
            if let labels, s < labels.count, labels[s] >= 0 {
                labelled += 1
                if argmax(row) == Int(labels[s]) { correct += 1 }
            }
        }
        return HostCheckResult(
            samples: samples, mismatches: mismatches, firstMismatch: first,
            accuracy: labelled > 0 ? Double(correct) / Double(labelled) : nil,
            latencyNsMedian: kv["latency_ns_median"] ?? 0, arenaBytes: kv["arena_bytes"] ?? 0)
    }

    /// Quantizes `data` (already normalized floats) with the graph's input parameters and runs
    /// at most `limit` samples (all when nil) with labels.
    public static func run(
        artifactPath: String, graph: Graph, data: Dataset, limit: Int? = nil,
        expected: [[Int8]]? = nil, runtimeDir: String? = nil, repeats: Int = 5
    ) throws -> HostCheckResult {
        let n = min(data.count, limit ?? data.count), k = data.sampleSize
        let inputs = (0..<n).map { i in graph.quantizeInput(Array(data.x[(i * k)..<((i + 1) * k)])) }
        return try run(
            artifactPath: artifactPath, graph: graph, inputs: inputs, labels: Array(data.labels[0..<n]),
            expected: expected.map { Array($0.prefix(n)) }, runtimeDir: runtimeDir, repeats: repeats)
    }

    /// First index of the largest value (as kdc_argmax).
    static func argmax(_ x: [Int8]) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }

    struct ProcessOutput { var status: Int32; var signaled: Bool; var stdout: String; var stderr: String }

    /// Runs a program to completion; stdout and stderr go through files in `scratch` (no pipe
    /// buffer can fill up and block the child).
    static func runProcess(_ path: String, _ args: [String], scratch: String) throws -> ProcessOutput {
        let id = UUID().uuidString
        let outPath = scratch + "/stdout-\(id)", errPath = scratch + "/stderr-\(id)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { unlink(outPath); unlink(errPath) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try? out.close(); try? err.close()
        let read = { (f: String) in String(decoding: FileManager.default.contents(atPath: f) ?? Data(), as: UTF8.self) }
        return ProcessOutput(
            status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
            stdout: read(outPath), stderr: read(errPath))
    }
}

extension Array {
    func nonEmpty(orThrow error: Error) throws -> [Element] {
        if isEmpty { throw error }
        return self
    }
}
