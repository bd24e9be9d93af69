import Foundation

/// How the firmware holds the model: the stored artifact executed in place from flash, or the
/// compressed artifact unpacked by `kdc_unpack` into a static RAM buffer at start.
public enum FirmwareMode: String, Codable, Sendable, CaseIterable {
    case stored
    case compressed
}

/// A model as kdc's exporter wrote it: `<directory>/<name>.h` and `<name>.c` (the main artifact
/// as a C array), `<name>.stored.kdc` beside a compressed one, and the sizes the export planned.
public struct ExportedModel: Sendable, Equatable {
    public var directory: String
    public var name: String
    /// The main artifact is compressed (then `<name>.stored.kdc` exists too).
    public var compressed: Bool
    /// The arena kdc's memory plan gives (`<NAME>_ARENA_BYTES`).
    public var arenaBytes: Int
    /// The stored artifact's size: the unpack buffer a compressed one needs.
    public var rawBytes: Int
    /// The input stage's stream buffer the export predicts (`<NAME>_STREAM_BYTES`, exactly
    /// `kdc_stream_bytes`); 0 for a model without an input stage.
    public var streamBytes: Int

    public init(directory: String, name: String, compressed: Bool, arenaBytes: Int, rawBytes: Int, streamBytes: Int = 0) {
        self.directory = directory
        self.name = name
        self.compressed = compressed
        self.arenaBytes = arenaBytes
        self.rawBytes = rawBytes
        self.streamBytes = streamBytes
    }

    /// `<name>.kdc`, the main artifact as a file: its header says the arithmetic the firmware's
    /// runtime is built for (`FirmwareImage.runtimeDefines`).
    public var artifactPath: String { directory + "/" + name + ".kdc" }
    public var headerPath: String { directory + "/" + name + ".h" }
    public var sourcePath: String { directory + "/" + name + ".c" }
    public var storedArtifactPath: String { directory + "/" + name + ".stored.kdc" }
}

/// RAM of the firmware, by part, in bytes.
public struct FirmwareRAM: Codable, Equatable, Sendable {
    /// The activation arena (a static buffer of kdc's memory plan's size).
    public var arenaBytes: Int
    /// The static buffer a compressed artifact is unpacked into (0 when stored).
    public var unpackBytes: Int
    /// `.data` + `.bss` of the image without arena and unpack buffer: the runtime's and the
    /// program's static data.
    public var staticBytes: Int
    /// Peak stack, from the top of the stack region.
    public var stackBytes: Int
    /// The input stage's stream buffer (`kdc_stream_bytes`: window, front-end scratch, feature
    /// ring) of the PCM and sensor images (`FW_PCM`, `FW_SENSOR`); 0 in the int8-input image.
    public var streamBytes: Int
    /// The sum of the parts.
    public var totalBytes: Int

    public init(arenaBytes: Int, unpackBytes: Int, staticBytes: Int, stackBytes: Int, streamBytes: Int = 0) {
        self.arenaBytes = arenaBytes
        self.unpackBytes = unpackBytes
        self.staticBytes = staticBytes
        self.stackBytes = stackBytes
        self.streamBytes = streamBytes
        totalBytes = arenaBytes + unpackBytes + staticBytes + stackBytes + streamBytes
    }

    enum CodingKeys: String, CodingKey {
        case arenaBytes, unpackBytes, staticBytes, stackBytes, streamBytes, totalBytes
    }

    /// Reads reports written before the stream part existed (`stream_bytes` absent: 0).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            arenaBytes: try c.decode(Int.self, forKey: .arenaBytes), unpackBytes: try c.decode(Int.self, forKey: .unpackBytes),
            staticBytes: try c.decode(Int.self, forKey: .staticBytes), stackBytes: try c.decode(Int.self, forKey: .stackBytes),
            streamBytes: try c.decodeIfPresent(Int.self, forKey: .streamBytes) ?? 0)
    }
}

/// What kdc predicts the firmware needs in RAM, from the linked image before it runs
/// (`FirmwareCheck.predict`).
public struct FirmwarePrediction: Equatable, Sendable {
    /// Arena and unpack buffer from kdc's export; static data from the image's sections; the
    /// stack of `stack`.
    public var ram: FirmwareRAM
    /// The deepest call chain of this model's run: from the reset handler through `main`,
    /// `kdc_unpack` and inflate (compressed), `kdc_init`, `kdc_invoke` and the kernels of the
    /// model's ops only.
    public var stack: StackPath
    /// The deepest call chain of the same program with any model: every kernel, every path.
    public var stackBound: StackPath
    /// The deepest call chain below any entry point of the runtime (every kernel, inflate,
    /// validation; not the float helpers `kdc_quantize*`/`kdc_dequantize`): the stack the runtime
    /// needs under its caller's frame, plus an op callback's if one is set.
    public var runtimeStackBound: StackPath
}

/// What running an exported model in the firmware (`samples/firmware`) on a board under QEMU
/// showed. Sizes are bytes, read from the ELF files: the runtime's are its objects at -Os (every
/// function, before `--gc-sections`; text/data/bss as `size` adds them), the image's the linked
/// ELF's read-only sections (`.text` + `.ARM.exidx`), `.data`, `.bss`.
public struct FirmwareResult: Codable, Equatable, Sendable {
    /// "cortex-m4 (qemu mps2-an386)".
    public var target: String
    public var mode: FirmwareMode
    /// Inputs run on the device.
    public var samples: Int
    /// Every output byte equals the expected one.
    public var match: Bool
    /// Output bytes (over all samples) that differ from the expected outputs.
    public var mismatches: Int
    public var runtimeTextBytes: Int, runtimeDataBytes: Int, runtimeBssBytes: Int
    public var imageTextBytes: Int, imageDataBytes: Int, imageBssBytes: Int
    /// RAM the running firmware used, as it reported: arena and unpack buffer (their `sizeof`),
    /// static data (from the linker's section symbols), stack (high-water mark of the painted
    /// stack region, after the last inference).
    public var ram: FirmwareRAM
    /// What kdc predicted from the linked image before running it (`FirmwarePrediction.ram`).
    public var ramPredicted: FirmwareRAM
    /// The predicted deepest call chain (its frames sum to `ramPredicted.stackBytes`).
    public var stackPath: [StackFrame]
    /// `FirmwarePrediction.stackBound` and `.runtimeStackBound`, in bytes.
    public var stackBoundBytes: Int
    public var runtimeStackBoundBytes: Int
    /// The true stack low-water mark, `__stack_end__` − the lowest SP QEMU showed before any
    /// instruction of the same image's run; nil unless asked for (slow).
    public var stackLowWaterBytes: Int?
    /// (instructions with 11 inferences − with 1) / 10, from the QEMU insncount plugin; nil
    /// unless counted.
    public var instructionsPerInference: Int?
    /// `instructionsPerInference` / the model's multiply-accumulates; nil unless counted.
    public var instructionsPerMAC: Double?

    /// Measured RAM (`ram.totalBytes`) and the prediction (`ramPredicted.totalBytes`).
    public var ramBytes: Int { ram.totalBytes }
    public var ramPredictedBytes: Int { ramPredicted.totalBytes }
    /// Every part of the measured RAM equals the prediction.
    public var ramMatchesPrediction: Bool { ram == ramPredicted }
}

/// What running recorded PCM through an audio model's input stage in the firmware
/// (`samples/firmware`, `FW_PCM=1`) on a board under QEMU showed: each clip through the front end
/// whole (`kdc_frontend_features`, then `kdc_invoke`) and through the stream
/// (`kdc_stream_push_pcm` in chunks, the model run by `kdc_stream_run`), every output byte
/// compared with the expected outputs (`FirmwareCheck.runPCM`).
public struct FirmwarePCMResult: Codable, Equatable, Sendable {
    /// "cortex-m4 (qemu mps2-an386)".
    public var target: String
    public var mode: FirmwareMode
    /// Clips run, and int16 samples per clip.
    public var clips: Int
    public var clipSamples: Int
    /// Feature frames per model input, as the device's runtime reported them.
    public var frames: Int
    /// Output bytes (over all clips) that differ from the expected outputs: whole-clip path,
    /// streamed path.
    public var wholeMismatches: Int
    public var streamedMismatches: Int
    /// Both are 0.
    public var match: Bool
    /// `kdc_stream_bytes` on the device (window, front-end scratch, feature ring) and the front
    /// end's scratch, as the firmware reported them.
    public var streamBytes: Int
    public var scratchBytes: Int
    /// RAM the firmware reported (arena + unpack buffer + stream buffer + static data + peak
    /// stack): `ram.totalBytes`.
    public var ramBytes: Int
    /// The RAM by part as the firmware measured it, and as kdc predicted it from the linked image
    /// before the run (`FirmwareCheck.predict`: the stream buffer is the export's
    /// `<NAME>_STREAM_BYTES`, the stack the deepest call chain through the front end, the
    /// stream and the stream callback). Nil in reports written before they were (the page
    /// then shows no RAM table).
    public var ram: FirmwareRAM?
    public var ramPredicted: FirmwareRAM?
    /// The predicted deepest call chain.
    public var stackPath: [StackFrame]?
    /// The front end over one whole clip, and per hop (/ `frames`): (instructions with the
    /// first clip's front end run `k` + 1 times − once) / `k`, QEMU insncount plugin; nil unless
    /// counted.
    public var instructionsPerClip: Int?
    public var instructionsPerHop: Int?

    /// Both RAM figures are known and every part of the measured one equals the prediction.
    public var ramMatchesPrediction: Bool { ram != nil && ram == ramPredicted }
}

/// What running recorded sensor samples through a time-series model's sensor stage in the
/// firmware (`samples/firmware`, `FW_SENSOR=1`) on a board under QEMU showed: every window of
/// each recording through `kdc_sensor_quantize` and `kdc_invoke` ("whole"), and each recording
/// through the stream (`kdc_stream_push_sensor` in chunks of varying size, the model run every
/// `stride` samples once the ring is full), every output byte compared with the expected
/// outputs (`FirmwareCheck.runSensor`).
public struct FirmwareSensorResult: Codable, Equatable, Sendable {
    /// "cortex-m4 (qemu mps2-an386)".
    public var target: String
    public var mode: FirmwareMode
    /// Recordings run, their time steps (each), channels, and the windows they give
    /// (window length `windowLength`, a model run every `stride` steps).
    public var recordings: Int
    public var steps: [Int]
    public var channels: Int
    public var windowLength: Int
    public var stride: Int
    public var windows: Int
    /// The stream's chunk sizes, in samples (all channels), pushed in turn.
    public var chunkSamples: [Int]
    /// Output bytes (over all windows) that differ from the expected outputs: one window at a
    /// time, streamed.
    public var wholeMismatches: Int
    public var streamedMismatches: Int
    /// Both are 0, and the stream ran the model exactly once per window.
    public var match: Bool
    /// `kdc_stream_bytes` on the device (the ring: window length × channels).
    public var streamBytes: Int
    /// RAM by part, measured and predicted (as `FirmwarePCMResult`), and the predicted deepest
    /// call chain.
    public var ram: FirmwareRAM
    public var ramPredicted: FirmwareRAM
    public var stackPath: [StackFrame]
    /// `kdc_sensor_quantize` of one window (window length × channels values): (instructions with
    /// it run `k` + 1 times − once) / `k`, and per time step (/ window length); nil unless counted.
    public var instructionsPerWindow: Int?
    public var instructionsPerStep: Int?

    /// Every part of the measured RAM equals the prediction.
    public var ramMatchesPrediction: Bool { ram == ramPredicted }
}
