import Foundation

/// The firmware sample (`samples/firmware`: `main.c`, the board's startup file and linker
/// script) built with one exported model and its test inputs, for one board: the objects (with
/// gcc's call graphs) in a build folder, and images linked from them.
struct FirmwareImage {
    let target: QEMUTarget
    let model: ExportedModel
    let mode: FirmwareMode
    let runtimeDirectory: String
    /// Holds `rt/*.o` (+ `.ci`), the app objects, `inputs.c` (or `pcm.c`), the images.
    let buildDirectory: String
    /// `FW_PCM=1`: the inputs are int16 PCM clips (`pcm.h`) for a model with an audio input
    /// stage, run through the front end whole and through the stream (`main.c`); the stream
    /// buffer is the export's `<NAME>_STREAM_BYTES`.
    var pcm = false
    /// `FW_SENSOR=1`: the inputs are float32 sensor recordings (`sensor.h`) for a model with a
    /// sensor input stage, run one window at a time and through the stream (`main.c`).
    var sensor = false

    var firmwareDirectory: String { target.firmwareDirectory }

    /// The model name in upper case (the exported header's macro prefix, as `tr a-z A-Z`).
    var upperName: String {
        String(model.name.unicodeScalars.map { ("a"..."z").contains($0) ? Character(String($0).uppercased()) : Character($0) })
    }

    /// Compiles the runtime, writes and compiles the inputs and the artifact, links
    /// `firmware.elf` (every input, each run once) and returns its path.
    func build(inputs: [[Int8]]) throws -> String {
        try build(inputsFile: "inputs.c", source: Self.inputsSource(inputs))
    }

    /// `build` for a `pcm` image: the clips (each the same number of samples) go into the image
    /// as `pcm.c`.
    func build(pcm clips: [[Int16]]) throws -> String {
        try build(inputsFile: "pcm.c", source: Self.pcmSource(clips))
    }

    /// `build` for a `sensor` image: the recordings (each `steps × channels` float32 values, the
    /// channels interleaved) and the window stride go into the image as `sensor.c`.
    func build(sensor recordings: [[Float]], channels: Int, stride: Int) throws -> String {
        try build(inputsFile: "sensor.c", source: Self.sensorSource(recordings, channels: channels, stride: stride))
    }

    private func build(inputsFile: String, source: String) throws -> String {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: buildDirectory + "/rt", withIntermediateDirectories: true)
        } catch {
            throw TargetError.io(path: buildDirectory, message: "cannot create the firmware build folder: \(error)")
        }
        let exported = artifactSource == model.sourcePath ? [model.headerPath, model.sourcePath] : [model.headerPath]
        for f in exported where !fm.fileExists(atPath: f) {
            throw TargetError.io(path: f, message: "the exported model file is missing (kdc export writes <name>.h and <name>.c)")
        }
        let runtimeDefines = try runtimeDefines()
        for s in try SourceTree.runtimeSources(runtimeDirectory) {
            let o = buildDirectory + "/rt/" + URL(fileURLWithPath: s).deletingPathExtension().lastPathComponent + ".o"
            try target.compile(s, includes: [runtimeDirectory + "/include"], defines: runtimeDefines, object: o)
        }
        try SourceTree.write(Data(source.utf8), to: buildDirectory + "/" + inputsFile)
        if mode == .stored && model.compressed {
            guard let bytes = fm.contents(atPath: model.storedArtifactPath) else {
                throw TargetError.io(
                    path: model.storedArtifactPath, message: "the stored artifact of a compressed export is missing")
            }
            let (h, c) = Self.storedArraySources(name: model.name, upper: upperName, bytes: [UInt8](bytes))
            try SourceTree.write(Data(h.utf8), to: buildDirectory + "/\(model.name)_stored.h")
            try SourceTree.write(Data(c.utf8), to: artifactSource)
        }
        try compile(firmwareDirectory + "/" + target.board.startupFile, "startup.o", defines: [])
        try compile(buildDirectory + "/" + inputsFile, "inputs.o", defines: defines(repeats: 1, limit: 0))
        try compile(artifactSource, "artifact.o", defines: [])
        return try link(repeats: 1, limit: 0)
    }

    /// An image running the first `limit` inputs (0: all) `repeats` times each, from the objects
    /// `build` left (only `main.c` is compiled again).
    func link(repeats: Int, limit: Int) throws -> String {
        let suffix = repeats == 1 && limit == 0 ? "" : "-r\(repeats)-l\(limit)"
        try compile(firmwareDirectory + "/main.c", "main\(suffix).o", defines: defines(repeats: repeats, limit: limit))
        let image = buildDirectory + "/firmware\(suffix).elf"
        try target.link(
            ["main\(suffix).o", "startup.o", "inputs.o", "artifact.o"].map { buildDirectory + "/" + $0 } + runtimeObjects,
            output: image)
        return image
    }

    /// The runtime's objects, sorted (as the Makefile links them).
    var runtimeObjects: [String] {
        let rt = buildDirectory + "/rt"
        return ((try? FileManager.default.contentsOfDirectory(atPath: rt)) ?? []).filter { $0.hasSuffix(".o") }.sorted()
            .map { rt + "/" + $0 }
    }

    /// gcc's call graphs of the image `build` linked: (path, text) of every `.ci`, and which are
    /// the runtime's.
    func callGraphs() throws -> (graphs: [(path: String, text: String)], runtime: Set<String>) {
        var graphs: [(path: String, text: String)] = [], runtime: Set<String> = []
        let fm = FileManager.default
        for dir in [buildDirectory, buildDirectory + "/rt"] {
            let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".ci") }.sorted()
            // Only the objects of firmware.elf: not the main.c variants linked for counting.
            for f in files where dir.hasSuffix("/rt") || ["main.ci", "startup.ci", "inputs.ci", "artifact.ci"].contains(f) {
                let path = dir + "/" + f
                guard let data = fm.contents(atPath: path) else {
                    throw TargetError.io(path: path, message: "cannot read the call graph")
                }
                graphs.append((path, String(decoding: data, as: UTF8.self)))
                if dir.hasSuffix("/rt") { runtime.insert(path) }
            }
        }
        guard !runtime.isEmpty else {
            throw TargetError.io(
                path: buildDirectory,
                message: "no call graphs (rt/*.ci); hint: the board's compile flags must have -fcallgraph-info=su")
        }
        return (graphs, runtime)
    }

    // MARK: - sources and flags

    /// The C file of the artifact the image holds: the exported `<name>.c` (compressed mode, or
    /// an uncompressed export), else `<name>_stored.c` made here from `<name>.stored.kdc`.
    var artifactSource: String {
        mode == .stored && model.compressed ? buildDirectory + "/\(model.name)_stored.c" : model.sourcePath
    }

    /// The runtime's build option for the model's arithmetic (`runtime/README.md`, "Build
    /// options"): `-DKDC_TFLITE=1` when the artifact's header flags (bytes 6..7, little-endian)
    /// set bit 1, TensorFlow Lite arithmetic (`docs/FORMAT.md`), else `-DKDC_TFLITE=0`: kdc's
    /// arithmetic only, a smaller image; and `-DKDC_STAGE=1` when they set bit 4, an input stage
    /// (`runtime/src/kdc_stage.h`), else 0: no front end, stream or sensor code in the image.
    /// Read from `<name>.kdc`, as `samples/firmware/Makefile` reads it.
    /// - Throws: `TargetError.io` when `<name>.kdc` cannot be read, `.format` when it does not
    ///   start with a kdc header.
    func runtimeDefines() throws -> [String] {
        let path = model.artifactPath
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TargetError.io(
                path: path,
                message:
                    "cannot read the exported artifact; the firmware's runtime is built for its arithmetic (header flag bit 1); hint: kdc export writes <name>.kdc beside <name>.h and <name>.c"
            )
        }
        let h = [UInt8](data.prefix(8))
        guard h.count == 8, h[0..<4] == [0x4B, 0x44, 0x43, 0x4D] else {
            throw TargetError.format(
                file: path, message: "not a kdc artifact: expected the magic \"KDCM\" and 8 header bytes or more")
        }
        let flags = UInt16(h[6]) | UInt16(h[7]) << 8
        return ["-DKDC_TFLITE=\(flags & 2 != 0 ? 1 : 0)", "-DKDC_STAGE=\(flags & 16 != 0 ? 1 : 0)"]
    }

    /// `main.c`'s macros (see its header comment), as `samples/firmware/Makefile` sets them.
    func defines(repeats: Int, limit: Int) -> [String] {
        let up = upperName
        var d = ["-DFW_MODEL_H=\"\(model.name).h\"", "-DFW_NAME_UP=\(up)", "-DFW_REPEATS=\(repeats)", "-DFW_LIMIT=\(limit)"]
        if pcm { d.append("-DFW_PCM=1") }
        if sensor { d.append("-DFW_SENSOR=1") }
        switch (mode, model.compressed) {
        case (.compressed, _):
            d += ["-DFW_COMPRESSED=1", "-DFW_ARTIFACT=\(model.name)_artifact", "-DFW_ARTIFACT_LEN=\(up)_ARTIFACT_BYTES"]
        case (.stored, false):
            d += ["-DFW_COMPRESSED=0", "-DFW_ARTIFACT=\(model.name)_artifact", "-DFW_ARTIFACT_LEN=\(up)_ARTIFACT_BYTES"]
        case (.stored, true):
            d += [
                "-DFW_COMPRESSED=0", "-DFW_ARTIFACT=\(model.name)_stored_artifact",
                "-DFW_ARTIFACT_LEN=\(up)_STORED_ARTIFACT_BYTES",
                "-DFW_ARTIFACT_H=\"\(model.name)_stored.h\"",
            ]
        }
        return d
    }

    private func compile(_ source: String, _ object: String, defines: [String]) throws {
        try target.compile(
            source, includes: [firmwareDirectory, runtimeDirectory + "/include", model.directory, buildDirectory],
            defines: defines, object: buildDirectory + "/" + object)
    }

    /// The C source of the firmware's test inputs (`inputs.h`): `inputs` back to back.
    static func inputsSource(_ inputs: [[Int8]]) -> String {
        let inputBytes = inputs.first?.count ?? 0
        var s = """
            /* inputs.c - generated by kdc (FirmwareCheck); do not edit. \(inputs.count) inputs of \(inputBytes) bytes. */
            #include "inputs.h"

            const uint32_t fw_input_count = \(inputs.count)u;
            const uint32_t fw_input_bytes = \(inputBytes)u;
            const int8_t fw_inputs[\(max(inputs.count * inputBytes, 1))] = {

            """
        for x in inputs {
            for start in stride(from: 0, to: x.count, by: 16) {
                s += "    " + x[start..<min(start + 16, x.count)].map { "\($0)," }.joined(separator: " ") + "\n"
            }
        }
        return s + "};\n"
    }

    /// The C source of the firmware's PCM clips (`pcm.h`): `clips` (all of one length) back to
    /// back.
    static func pcmSource(_ clips: [[Int16]]) -> String {
        let samples = clips.first?.count ?? 0
        var s = """
            /* pcm.c - generated by kdc (FirmwareCheck); do not edit. \(clips.count) clips of \(samples) int16 samples. */
            #include "pcm.h"

            const uint32_t fw_pcm_count = \(clips.count)u;
            const uint32_t fw_pcm_samples = \(samples)u;
            const int16_t fw_pcm[\(max(clips.count * samples, 1))] = {

            """
        for x in clips {
            for start in stride(from: 0, to: x.count, by: 16) {
                s += "    " + x[start..<min(start + 16, x.count)].map { "\($0)," }.joined(separator: " ") + "\n"
            }
        }
        return s + "};\n"
    }

    /// The C source of the firmware's sensor recordings (`sensor.h`): each recording's time
    /// steps, then every value back to back as a float32 literal that reads back as the same
    /// float (Swift's shortest round-trip text, which C99 converts exactly); each recording's
    /// steps are its values / `channels`.
    static func sensorSource(_ recordings: [[Float]], channels: Int, stride: Int) -> String {
        var s = """
            /* sensor.c - generated by kdc (FirmwareCheck); do not edit. \(recordings.count) recordings. */
            #include "sensor.h"

            const uint32_t fw_sensor_count = \(recordings.count)u;
            const uint32_t fw_sensor_stride = \(stride)u;

            """
        s += "const uint32_t fw_sensor_steps[\(max(recordings.count, 1))] = {"
        s += recordings.map { "\($0.count / max(channels, 1))u" }.joined(separator: ", ") + "};\n"
        s += "const float fw_sensor[\(max(recordings.reduce(0) { $0 + $1.count }, 1))] = {\n"
        for x in recordings {
            for start in Swift.stride(from: 0, to: x.count, by: 8) {
                s += "    " + x[start..<min(start + 8, x.count)].map { "\(cLiteral($0))," }.joined(separator: " ") + "\n"
            }
        }
        return s + "};\n"
    }

    /// A finite float as a C99 float literal of the same value.
    static func cLiteral(_ v: Float) -> String {
        var t = "\(v)"
        if !t.contains(".") && !t.contains("e") { t += ".0" }
        return t + "f"
    }

    /// `<name>_stored.h` and `<name>_stored.c`: the stored artifact as a 4-byte aligned C array
    /// (to execute in place), the same text `samples/firmware/Makefile` writes.
    static func storedArraySources(name: String, upper: String, bytes: [UInt8]) -> (header: String, source: String) {
        let h = """
            /* \(name)_stored.h - \(name).stored.kdc as a C array; generated by samples/firmware/Makefile. */
            #include <stdint.h>
            #define \(upper)_STORED_ARTIFACT_BYTES \(bytes.count)u
            extern const uint8_t \(name)_stored_artifact[\(upper)_STORED_ARTIFACT_BYTES];

            """
        var c = """
            /* \(name)_stored.c - \(name).stored.kdc (\(bytes.count) bytes), 4-byte aligned to execute in place. */
            #include "\(name)_stored.h"
            const uint8_t \(name)_stored_artifact[\(upper)_STORED_ARTIFACT_BYTES] __attribute__((aligned(4))) = {

            """
        for start in stride(from: 0, to: bytes.count, by: 16) {
            c += "    " + bytes[start..<min(start + 16, bytes.count)].map { String(format: "0x%02x,", $0) }.joined() + "\n"
        }
        return (h, c + "};\n")
    }
}
