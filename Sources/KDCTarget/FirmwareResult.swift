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

    public init(directory: String, name: String, compressed: Bool, arenaBytes: Int, rawBytes: Int) {
        self.directory = directory
        self.name = name
        self.compressed = compressed
        self.arenaBytes = arenaBytes
        self.rawBytes = rawBytes
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
    /// The sum of the four.
    public var totalBytes: Int

    public init(arenaBytes: Int, unpackBytes: Int, staticBytes: Int, stackBytes: Int) {
        self.arenaBytes = arenaBytes
        self.unpackBytes = unpackBytes
        self.staticBytes = staticBytes
        self.stackBytes = stackBytes
        totalBytes = arenaBytes + unpackBytes + staticBytes + stackBytes
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
    /// RAM the firmware reported (arena + unpack buffer + static data, the stream buffer in it,
    /// + peak stack).
    public var ramBytes: Int
    /// The front end over one whole clip, and per hop (/ `frames`): (instructions with the
    /// first clip's front end run `k` + 1 times − once) / `k`, QEMU insncount plugin; nil unless
    /// counted.
    public var instructionsPerClip: Int?
    public var instructionsPerHop: Int?
}
