import Foundation

// The result records the programs the targets build print: JSON Lines, one object per line, each
// with a "record" field naming its kind (schema: samples/firmware/README.md, "Records"). Keys are
// snake_case in JSON (`artifact_bytes`), camelCase here (`artifactBytes`).

/// `{"record":"model",…}`: the artifact as the runtime loaded it.
public struct ModelRecord: Codable, Equatable, Sendable {
    /// Header + stored body (`kdc_info.total_bytes`).
    public var artifactBytes: Int
    public var compressed: Bool
    /// The arena the program gave `kdc_init`.
    public var arenaBytes: Int
    /// The buffer the program unpacked the artifact into (0: executed in place).
    public var unpackBytes: Int
    public var inputBytes: Int
    public var outputBytes: Int
    /// Printed by the host harness only: the kernels' scratch, the whole arena `kdc_init`
    /// needs, the op count and the MACs, as this build of the runtime computes them.
    public var scratchBytes: Int?
    public var arenaNeeded: Int?
    public var ops: Int?
    public var macs: Int?
}

/// `{"record":"output","sample":0,"argmax":3,"bytes":"e7f148…"}`: one sample's output tensor.
public struct OutputRecord: Codable, Equatable, Sendable {
    public var sample: Int
    /// First index of the largest value (`kdc_argmax`).
    public var argmax: Int
    /// The int8 output values; two lowercase hex digits each in JSON.
    public var bytes: [Int8]

    public init(sample: Int, argmax: Int, bytes: [Int8]) {
        self.sample = sample
        self.argmax = argmax
        self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey { case sample, argmax, bytes }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sample = try c.decode(Int.self, forKey: .sample)
        argmax = try c.decode(Int.self, forKey: .argmax)
        let hex = try c.decode(String.self, forKey: .bytes)
        guard let b = Self.parseHex(hex) else {
            throw DecodingError.dataCorruptedError(
                forKey: .bytes, in: c, debugDescription: "expected an even number of hex digits, got '\(hex.prefix(40))'")
        }
        bytes = b
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sample, forKey: .sample)
        try c.encode(argmax, forKey: .argmax)
        try c.encode(bytes.map { String(format: "%02x", UInt8(bitPattern: $0)) }.joined(), forKey: .bytes)
    }

    static func parseHex(_ s: String) -> [Int8]? {
        let digits = Array(s.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [Int8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else { return nil }
            out.append(Int8(bitPattern: hi << 4 | lo))
        }
        return out
    }
}

/// `{"record":"run","samples":20,"repeats":1}`: inputs run, `kdc_invoke` calls per input.
public struct RunRecord: Codable, Equatable, Sendable {
    public var samples: Int
    public var repeats: Int
}

/// `{"record":"timing","latency_ns_median":411,"latency_ns_min":380}`: one `kdc_invoke`, over
/// every timed call (host).
public struct TimingRecord: Codable, Equatable, Sendable {
    public var latencyNsMedian: Int
    public var latencyNsMin: Int
}

/// `{"record":"memory",…}`: RAM the firmware used, by part (bytes).
public struct MemoryRecord: Codable, Equatable, Sendable {
    /// `sizeof arena`, `sizeof unpack_buf` (0 when the artifact runs in place).
    public var arenaBytes: Int
    public var unpackBytes: Int
    /// `.data` and `.bss` from the linker's section symbols.
    public var dataBytes: Int
    public var bssBytes: Int
    /// data + bss − arena − unpack buffer − stream buffer.
    public var staticBytes: Int
    /// `sizeof stream_buf`, the input stage's stream buffer of the PCM and sensor images (0 in
    /// the int8-input image; absent from records of firmware before it was reported: nil).
    public var streamBytes: Int? = nil
    /// High-water mark of the painted stack region, and the region's size.
    public var stackBytes: Int
    public var stackSize: Int
    /// arena + unpack + stream + static + stack.
    public var ramBytes: Int
}

/// `{"record":"frontend","stream_bytes":3072,"scratch_bytes":1024,"frames":49}`: the input
/// stage as the firmware's runtime sized it (`FW_PCM` and `FW_SENSOR` images):
/// `kdc_stream_bytes`, the front end's scratch (0 for a sensor stage), feature frames (audio) or
/// time steps (sensor) per model input.
public struct FrontEndRecord: Codable, Equatable, Sendable {
    public var streamBytes: Int
    public var scratchBytes: Int
    public var frames: Int
}

/// `{"record":"instructions","count":123}`: guest instructions executed (QEMU insncount plugin).
public struct InstructionsRecord: Codable, Equatable, Sendable {
    public var count: Int
}

/// `{"record":"error","what":"kdc_init","status":"body CRC mismatch"}`: the program failed.
public struct ErrorRecord: Codable, Equatable, Sendable {
    /// The step that failed (`kdc_query`, `kdc_init`, `inputs`, `fault`, …).
    public var what: String
    /// Its status string (`kdc_status_str`) or a short reason.
    public var status: String
    /// The runtime status's enum name (`KDC_ERR_BODY_CRC`), when the program prints it
    /// (`runtime/host/kdc_host_run.c` does).
    public var name: String? = nil
}

/// The records of one program run, by kind.
public struct Records: Equatable, Sendable {
    public var model: ModelRecord?
    /// In the order printed.
    public var outputs: [OutputRecord] = []
    public var run: RunRecord?
    public var timing: TimingRecord?
    public var memory: MemoryRecord?
    public var frontend: FrontEndRecord?
    public var instructions: InstructionsRecord?
    public var error: ErrorRecord?
    /// The `{"record":"done"}` line was printed: the program ran to its end.
    public var done = false
    /// Where the records came from, for messages.
    public var source = ""

    public init() {}

    /// `value`, or a `TargetError.format` naming the source and the missing record kind.
    public func require<T>(_ value: T?, _ kind: String) throws -> T {
        guard let value else { throw TargetError.format(file: source, message: "no '\(kind)' record") }
        return value
    }
}

/// The one decoder of the records the targets' programs print.
public enum RecordDecoder {
    /// The records in `text` (JSON Lines). A line that does not start with `{` is not a record
    /// (QEMU or compiler noise) and is skipped, as is an object whose kind this decoder does not
    /// know. `source` names where the text came from.
    /// - Throws: `TargetError.format` naming `source` and the line for a line starting with `{`
    ///   that is not a JSON object with a string "record", a known record with a missing or
    ///   mistyped field, or a second record of a kind printed once.
    public static func decode(_ text: String, source: String) throws -> Records {
        var r = Records()
        r.source = source
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces.union(.controlCharacters))
            guard line.hasPrefix("{") else { continue }
            let n = i + 1
            func fail(_ why: String) -> TargetError {
                .format(file: source, message: "line \(n): \(why): \(line.prefix(200))")
            }
            let data = Data(line.utf8)
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw fail("not a JSON object")
            }
            guard let kind = object["record"] as? String else { throw fail("a JSON object without a string \"record\" field") }
            func one<T: Decodable>(_ type: T.Type, _ slot: T?) throws -> T {
                if slot != nil { throw fail("a second '\(kind)' record") }
                do {
                    return try decoder.decode(T.self, from: data)
                } catch {
                    throw fail("malformed '\(kind)' record (\(describe(error)))")
                }
            }
            switch kind {
            case "model": r.model = try one(ModelRecord.self, r.model)
            case "output": r.outputs.append(try one(OutputRecord.self, nil))
            case "run": r.run = try one(RunRecord.self, r.run)
            case "timing": r.timing = try one(TimingRecord.self, r.timing)
            case "memory": r.memory = try one(MemoryRecord.self, r.memory)
            case "frontend": r.frontend = try one(FrontEndRecord.self, r.frontend)
            case "instructions": r.instructions = try one(InstructionsRecord.self, r.instructions)
            case "error": r.error = try one(ErrorRecord.self, r.error)
            case "done":
                if r.done { throw fail("a second 'done' record") }
                r.done = true
            default: continue
            }
        }
        return r
    }

    /// The records of a program that must have run to its end: decodes `text`, then throws the
    /// program's own `error` record (`TargetError.programFailed`), else `TargetError.toolFailed`
    /// when it did not exit with status 0 (with `otherOutput`, e.g. its stderr), else
    /// `TargetError.format` when the `done` record is missing.
    public static func decodeFinished(
        _ text: String, source: String, program: String, termination: Termination, otherOutput: String = ""
    ) throws -> Records {
        let r = try decode(text, source: source)
        if let e = r.error {
            throw TargetError.programFailed(
                program: program, what: e.what, status: e.name.map { "\($0) (\(e.status))" } ?? e.status)
        }
        guard termination == .exited(0) else {
            throw TargetError.toolFailed(
                tool: program, action: "running it", termination: termination, output: text + otherOutput, hint: nil)
        }
        guard r.done else {
            throw TargetError.format(
                file: source, message: "no 'done' record: the program stopped before its end; its output:\n\(text.suffix(2000))")
        }
        return r
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): return "missing field '\(snake(key.stringValue))'"
        case let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx):
            return "field '\(ctx.codingPath.map { snake($0.stringValue) }.joined(separator: "."))' has the wrong type"
        case let DecodingError.dataCorrupted(ctx):
            return "field '\(ctx.codingPath.map { snake($0.stringValue) }.joined(separator: "."))': \(ctx.debugDescription)"
        default: return "\(error)"
        }
    }

    /// `artifactBytes` → `artifact_bytes`.
    static func snake(_ s: String) -> String {
        var out = ""
        for c in s {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}
