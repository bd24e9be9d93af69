import Foundation
import XCTest

@testable import KDC
@testable import KDCTarget

/// The Cortex-M4 firmware sample (samples/firmware, `PCM=1`) runs recorded PCM built into the
/// image through the front end (whole clip) and the streaming API; every output byte must equal
/// kdc's Swift reference: `AudioFrontEnd.features(clip)` → `Int8Interpreter`. Needs the Arm
/// toolchain and QEMU (as FirmwareTests) and the FSDD recordings in ../shared/data/fsdd.
final class AudioFirmwareTests: XCTestCase {
    static let config = AudioFrontEndConfig(
        sampleRate: 8000, windowSamples: 200, hopSamples: 80, fftSize: 256, melBins: 20, coefficients: 0, lowHz: 20,
        highHz: 4000)
    static let frames = 49

    /// int16 samples of a 16-bit PCM mono WAV (test helper: the data chunk, nothing checked
    /// beyond its presence; the WAV reader proper is the data pipeline's).
    static func wavSamples(_ path: String) throws -> [Int16] {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var p = 12
        while p + 8 <= b.count {
            let size = Int(b[p + 4]) | Int(b[p + 5]) << 8 | Int(b[p + 6]) << 16 | Int(b[p + 7]) << 24
            if b[p..<(p + 4)] == [0x64, 0x61, 0x74, 0x61] {  // "data"
                let end = min(b.count, p + 8 + size)
                return stride(from: p + 8, to: end - 1, by: 2).map { Int16(bitPattern: UInt16(b[$0]) | UInt16(b[$0 + 1]) << 8) }
            }
            p += 8 + size + (size & 1)
        }
        throw KDCError.data(file: path, message: "no data chunk")
    }

    func testFirmwareStreamsRecordedPCMBitExact() throws {
        // ../shared beside the repository, or $KDC_FSDD (a folder of FSDD's recordings).
        let fsdd = ProcessInfo.processInfo.environment["KDC_FSDD"] ?? CLITests.repoRoot + "/../shared/data/fsdd/recordings"
        let fm = FileManager.default
        guard fm.fileExists(atPath: fsdd) else {
            // The data is part of the project's setup (../shared/data): missing is a failure,
            // not a skip. The toolchain's absence fails in the firmware build with its hint.
            XCTFail("FSDD recordings not found at \(fsdd) (expected ../shared/data/fsdd beside the repository, or $KDC_FSDD)")
            return
        }
        // 20 recordings: digits 0-9 of two speakers, then silence and a full-scale square wave.
        let n = Self.config.windowSamples + (Self.frames - 1) * Self.config.hopSamples
        var clips: [[Int16]] = []
        for speaker in ["jackson", "nicolas"] {
            for d in 0..<10 {
                var x = try Self.wavSamples("\(fsdd)/\(d)_\(speaker)_0.wav")
                x = Array(x.prefix(n)) + [Int16](repeating: 0, count: max(0, n - x.count))  // crop or pad
                clips.append(x)
            }
        }
        clips.append([Int16](repeating: 0, count: n))
        clips.append((0..<n).map { ($0 / 9) % 2 == 0 ? 32767 : -32768 })

        let g = try AudioFrontEndTests.model(Self.config, frames: Self.frames)
        let fe = try AudioFrontEnd(Self.config)
        let interp = Int8Interpreter()
        let expected = clips.map { interp.run(g, input: fe.features($0)) }
        let dir = try ExportFixtures.tempDir("audio-fw")
        defer { if ProcessInfo.processInfo.environment["KDC_KEEP"] == nil { try? fm.removeItem(atPath: dir) } }
        _ = try export(g, normalization: .identity, to: dir, name: "kws", compress: false)
        let header = try String(contentsOfFile: dir + "/kws.h", encoding: .utf8)
        let stream = try XCTUnwrap(InputStageBlock.memory(g))
        XCTAssertTrue(header.contains("#define KWS_STREAM_BYTES \(stream.frontendBytes + stream.ringBytes)u"), header)
        var pcm = "#include \"pcm.h\"\nconst uint32_t fw_pcm_count = \(clips.count)u;\n"
        pcm += "const uint32_t fw_pcm_samples = \(n)u;\nconst int16_t fw_pcm[] = {\n"
        pcm += clips.map { $0.map(String.init).joined(separator: ",") }.joined(separator: ",\n") + "};\n"
        try pcm.write(toFile: dir + "/pcm.c", atomically: true, encoding: .utf8)
        let fw = CLITests.repoRoot + "/samples/firmware"
        let args = [
            "make", "-s", "-C", fw, "MODEL_DIR=" + dir, "NAME=kws", "MODE=stored", "INPUTS=" + dir + "/pcm.c", "PCM=1",
            "BUILD=" + dir + "/build", "RUNTIME=" + CLITests.repoRoot + "/runtime",
        ]
        let r = try HostCheckProcess.run(args + ["run"], cwd: fw)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        var outputs: [Int: [Int8]] = [:]
        for line in (r.out + r.err).split(separator: "\n") where line.contains("\"record\":\"output\"") {
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let hex = Array(try XCTUnwrap(obj["bytes"] as? String).utf8)
            let bytes = stride(from: 0, to: hex.count, by: 2).map {
                Int8(bitPattern: UInt8(String(decoding: hex[$0..<($0 + 2)], as: UTF8.self), radix: 16)!)
            }
            outputs[try XCTUnwrap(obj["sample"] as? Int)] = bytes
        }
        XCTAssertEqual(outputs.count, 2 * clips.count, r.out)
        // The device's stream buffer: what kdc_stream_bytes says, as Swift predicted (export macro).
        XCTAssertTrue(
            (r.out + r.err).contains("\"stream_bytes\":\(stream.frontendBytes + stream.ringBytes),"), r.out + r.err)
        var mismatches = 0
        for (i, want) in expected.enumerated() {
            if outputs[i] != want { mismatches += 1; XCTFail("clip \(i) whole: \(outputs[i] ?? []) vs \(want)") }
            if outputs[clips.count + i] != want {
                mismatches += 1; XCTFail("clip \(i) streamed: \(outputs[clips.count + i] ?? []) vs \(want)")
            }
        }
        print("audio firmware: \(clips.count) clips, whole and streamed, \(mismatches) mismatches")
        // Instructions per hop of the front end on the Cortex-M4: the whole-clip front end of the
        // first clip run 1 and 11 times (make count), the difference over 10 clips of 49 frames.
        let c = try HostCheckProcess.run(args + ["count"], cwd: fw)
        XCTAssertEqual(c.status, 0, c.out + c.err)
        let per = try XCTUnwrap(
            c.out.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        print("audio firmware: front end \(per) instructions per clip of \(Self.frames) frames, \(per / Self.frames) per hop")
        XCTAssertGreaterThan(per / Self.frames, 1000)
    }

    /// `kdc build` with `export.firmware: cortex-m4` on a folder of generated recordings: the
    /// test recordings (cropped/padded as the features were) run as PCM on the board, whole clip
    /// and streamed, with every output byte equal to the Swift front end → Swift int8 reference,
    /// and the device's `kdc_stream_bytes` equal to the prediction, in `report.json` →
    /// `frontend.firmware`.
    func testBuildFirmwareRunsTestRecordingsAsPCM() throws {
        let dir = try makeTempDir() + "/rec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // 3 digits × 4 speakers × 3 takes; the test set is take 0: 12 recordings of 200..340
        // samples (padded or cropped to 256).
        for d in 0..<3 {
            for (si, sp) in ["ann", "bob", "cy", "dee"].enumerated() {
                for t in 0..<3 {
                    let n = 200 + 41 * t + 13 * si
                    let pcm = (0..<n).map { Int16(9000 * sin(Double($0) * (0.2 + 0.5 * Double(d)) + Double(si))) }
                    try Data(wavBytes(pcm, rate: 8000)).write(to: URL(fileURLWithPath: "\(dir)/\(d)_\(sp)_\(t).wav"))
                }
            }
        }
        let text = AudioDataTests.audioYAML.replacingOccurrences(
            of: "teacher:\n  layers: [flatten, {op: dense, units: 3}]",
            with: """
                teacher:
                  layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 3}]
                  train: {epochs: 2}
                student:
                  layers: [{op: conv2d, filters: 2, kernel: 3}, relu, flatten, {op: dense, units: 3}]
                  train: {epochs: 2}
                distill: {temperature: 2, alpha: 0.5, baseline: false}
                export: {compress: false, name: kws, firmware: cortex-m4}
                budget: {flash_bytes: 65536, ram_bytes: 65536}
                """)
        let cfg = try KDCConfig.parse(text, file: (dir as NSString).deletingLastPathComponent + "/c.yaml")
        XCTAssertEqual(cfg.export.firmware, .cortexM4)
        let out = try makeTempDir()
        let r = try Pipeline(config: cfg, outDir: out).build()
        let test = r.distillation.data.test
        XCTAssertEqual(test.count, 12)
        let section = try XCTUnwrap(r.report.frontend)
        let stream = try XCTUnwrap(InputStageBlock.memory(r.quantized.graph))
        XCTAssertEqual(section.streamBytes, stream.frontendBytes + stream.ringBytes)
        let f = try XCTUnwrap(section.firmware, "no frontend.firmware: the PCM firmware check did not run")
        XCTAssertEqual(f.clips, 12)
        XCTAssertEqual(f.clipSamples, 256)
        XCTAssertEqual(f.frames, 7)
        XCTAssertEqual(f.wholeMismatches, 0)
        XCTAssertEqual(f.streamedMismatches, 0)
        XCTAssertTrue(f.match)
        XCTAssertEqual(f.streamBytes, stream.frontendBytes + stream.ringBytes)
        XCTAssertFalse(section.firmwareFailed)
        // The PCM image's RAM, predicted before the run = measured, part by part.
        XCTAssertEqual(f.ram, f.ramPredicted)
        XCTAssertEqual(f.ram?.streamBytes, stream.frontendBytes + stream.ringBytes)
        let perHop = try XCTUnwrap(f.instructionsPerHop)
        XCTAssertGreaterThan(perHop, 100)
        XCTAssertEqual(f.instructionsPerClip.map { $0 / 7 }, perHop)
        // The int8-input firmware check ran as before.
        XCTAssertEqual(r.checks.firmware.first?.mismatches, 0)
        print(
            "build --firmware on recordings: \(f.clips) clips, \(f.wholeMismatches)/\(f.streamedMismatches) mismatches, "
                + "stream_bytes \(f.streamBytes), \(perHop) instructions per hop; RAM measured \(String(describing: f.ram)), predicted \(String(describing: f.ramPredicted))"
        )
        let json = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any]
        )
        let fw = try XCTUnwrap((json["frontend"] as? [String: Any])?["firmware"] as? [String: Any])
        XCTAssertEqual(fw["clips"] as? Int, 12)
        XCTAssertEqual(fw["whole_mismatches"] as? Int, 0)
        XCTAssertEqual(fw["streamed_mismatches"] as? Int, 0)
        XCTAssertEqual(fw["stream_bytes"] as? Int, stream.frontendBytes + stream.ringBytes)
        XCTAssertEqual((json["frontend"] as? [String: Any])?["stream_bytes"] as? Int, stream.frontendBytes + stream.ringBytes)
        XCTAssertEqual(fw["instructions_per_hop"] as? Int, perHop)
    }

    /// The artifact `kdc build samples/fsdd/config.yaml` shipped (an output folder given as
    /// `$KDC_FSDD_OUT`; without it the test skips, saying so) on the Cortex-M4 with the first 20
    /// test recordings of FSDD's official split as PCM: every output byte, whole clip and
    /// streamed, against the Swift front end → the artifact's int8 graph, and the image's RAM
    /// predicted = measured part by part (the figures docs/AUDIO.md gives for the sample).
    func testSampleArtifactStreamsOnTheBoard() throws {
        guard let out = ProcessInfo.processInfo.environment["KDC_FSDD_OUT"] else {
            throw XCTSkip(
                "set KDC_FSDD_OUT to the output folder of kdc build samples/fsdd/config.yaml to run the shipped student on the board"
            )
        }
        let fsdd = ProcessInfo.processInfo.environment["KDC_FSDD"] ?? CLITests.repoRoot + "/../shared/data/fsdd/recordings"
        let name = "fsdd_kws"
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/\(name).kdc")))
        let a = try ArtifactReader.parse(bytes, file: out + "/\(name).kdc")
        guard case let .audio(c)? = a.graph.inputStage else { return XCTFail("\(out)/\(name).kdc has no audio front end") }
        let header = try String(contentsOfFile: out + "/\(name).h", encoding: .utf8)
        func macro(_ m: String) throws -> Int {
            let line = try XCTUnwrap(header.split(separator: "\n").first { $0.hasPrefix("#define \(m) ") }, "no \(m)")
            return try XCTUnwrap(Int(line.split(separator: " ")[2].dropLast()))
        }
        let model = ExportedModel(
            directory: out, name: name, compressed: a.compressed, arenaBytes: try macro("FSDD_KWS_ARENA_BYTES"),
            rawBytes: bytes.count, streamBytes: try macro("FSDD_KWS_STREAM_BYTES"))
        let fe = try AudioFrontEnd(c)
        let samples = c.windowSamples + (a.graph[a.graph.input].count / fe.featuresPerFrame - 1) * c.hopSamples
        let files = try FileManager.default.contentsOfDirectory(atPath: fsdd).filter {
            $0.range(of: #"_[0-4]\.wav$"#, options: .regularExpression) != nil
        }.sorted().prefix(20)
        let clips = try files.map {
            fitClip(try readWAV(fsdd + "/" + $0, expectedRate: c.sampleRate).samples, length: samples, crop: .energy)
        }
        let interp = Int8Interpreter()
        let expected = clips.map { interp.run(a.graph, input: fe.features($0)) }
        let r = try FirmwareCheck.runPCM(
            model: model, mode: .stored, clips: clips, expected: expected, opCodes: a.graph.opCodes, countInstructions: true)
        XCTAssertEqual(r.clips, 20)
        XCTAssertEqual(r.wholeMismatches, 0)
        XCTAssertEqual(r.streamedMismatches, 0)
        XCTAssertEqual(r.streamBytes, model.streamBytes)
        XCTAssertNotNil(r.ram)
        XCTAssertEqual(
            r.ram, r.ramPredicted, "measured \(String(describing: r.ram)), predicted \(String(describing: r.ramPredicted))")
        print(
            "FSDD sample on the board: \(r.clips) recordings, \(r.wholeMismatches)/\(r.streamedMismatches) mismatches; "
                + "RAM measured \(String(describing: r.ram)), predicted \(String(describing: r.ramPredicted)); stack \((r.stackPath ?? []).map { "\($0.function) \($0.bytes)" }); "
                + "\(r.instructionsPerHop ?? 0) instructions per hop")
    }

    /// The target layer's PCM image (`FirmwareCheck.runPCM`, no make): synthetic clips give the
    /// Swift reference's outputs whole and streamed and the predicted stream buffer; an expected
    /// output off by one byte is counted once on each path; and `make PCM=1` builds the same
    /// image bytes.
    func testTargetLayerPCMImage() throws {
        let n = Self.config.windowSamples + (Self.frames - 1) * Self.config.hopSamples
        let clips: [[Int16]] = [
            (0..<n).map { Int16(12000 * sin(Double($0) * 0.3)) }, [Int16](repeating: 0, count: n),
            (0..<n).map { ($0 / 9) % 2 == 0 ? 32767 : -32768 },
        ]
        let g = try AudioFrontEndTests.model(Self.config, frames: Self.frames)
        let fe = try AudioFrontEnd(Self.config)
        let interp = Int8Interpreter()
        let expected = clips.map { interp.run(g, input: fe.features($0)) }
        let dir = try ExportFixtures.tempDir("audio-fw-target")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = try export(g, normalization: .identity, to: dir, name: "kws", compress: false)
        let stream = try XCTUnwrap(InputStageBlock.memory(g))
        let r = try FirmwareCheck.runPCM(
            model: e.exportedModel, mode: .stored, clips: clips, expected: expected, opCodes: g.opCodes,
            countInstructions: false)
        XCTAssertEqual(r.clips, 3)
        XCTAssertEqual(r.clipSamples, n)
        XCTAssertEqual(r.frames, Self.frames)
        XCTAssertEqual(r.wholeMismatches, 0)
        XCTAssertEqual(r.streamedMismatches, 0)
        XCTAssertTrue(r.match)
        XCTAssertEqual(r.streamBytes, stream.frontendBytes + stream.ringBytes)
        XCTAssertNil(r.instructionsPerHop)
        // RAM by part: predicted from the linked image before the run = measured by the firmware;
        // the stream buffer is its own part, exactly the export's <NAME>_STREAM_BYTES.
        XCTAssertNotNil(r.ram)
        XCTAssertEqual(
            r.ram, r.ramPredicted, "measured \(String(describing: r.ram)), predicted \(String(describing: r.ramPredicted))")
        XCTAssertEqual(r.ram?.streamBytes, stream.frontendBytes + stream.ringBytes)
        XCTAssertEqual(r.ram?.arenaBytes, e.arenaTotalBytes)
        XCTAssertEqual(r.ramBytes, r.ram?.totalBytes)
        // The deepest chain runs the model from the stream (the front end's frames are shallower).
        XCTAssertEqual(
            (r.stackPath ?? []).map(\.function).prefix(5),
            ["Reset_Handler", "main", "kdc_stream_push_pcm", "kdc__stream_frame", "kdc_stream_run"])
        XCTAssertEqual((r.stackPath ?? []).reduce(0) { $0 + $1.bytes }, r.ramPredicted?.stackBytes)
        print(
            "PCM image RAM: measured \(String(describing: r.ram)), predicted \(String(describing: r.ramPredicted)); stack \((r.stackPath ?? []).map { "\($0.function) \($0.bytes)" })"
        )
        // A wrong expected byte is found on both paths.
        var wrong = expected
        wrong[1][2] = wrong[1][2] == 0 ? 1 : 0
        let bad = try FirmwareCheck.runPCM(
            model: e.exportedModel, mode: .stored, clips: clips, expected: wrong, opCodes: g.opCodes, countInstructions: false)
        XCTAssertEqual(bad.wholeMismatches, 1)
        XCTAssertEqual(bad.streamedMismatches, 1)
        XCTAssertFalse(bad.match)
        // What the build fails on: outputs, or a device stream buffer other than the prediction.
        var section = FrontEndSection(
            config: Self.config, frames: Self.frames, features: fe.featuresPerFrame, clipSamples: n,
            outputScale: fe.outputScale, outputZeroPoint: fe.outputZeroPoint, ringBytes: stream.ringBytes,
            ramEstimateBytes: 0, cMatches: true, cCheck: "", streamBytes: r.streamBytes, firmware: r)
        XCTAssertFalse(section.firmwareFailed)
        section.firmware = bad
        XCTAssertTrue(section.firmwareFailed)
        section.firmware = r
        section.streamBytes = r.streamBytes + 4
        XCTAssertTrue(section.firmwareFailed)

        // make PCM=1 builds the image the target layer builds.
        let rt = try SourceTree.runtimeDirectory()
        let fw = try SourceTree.firmwareDirectory(runtimeDirectory: rt)
        try SourceTree.write(Data(FirmwareImage.pcmSource(clips).utf8), to: dir + "/pcm.c")
        var image = FirmwareImage(
            target: QEMUTarget(board: .cortexM4, firmwareDirectory: fw, scratch: dir), model: e.exportedModel, mode: .stored,
            runtimeDirectory: rt, buildDirectory: dir + "/swift")
        image.pcm = true
        let swiftELF = try image.build(pcm: clips)
        try ProcessRunner.check(
            Command(
                "make",
                [
                    "-s", "-C", fw, "all", "MODEL_DIR=" + dir, "NAME=kws", "MODE=stored", "INPUTS=" + dir + "/pcm.c", "PCM=1",
                    "BUILD=" + dir + "/make", "RUNTIME=" + rt,
                ]), action: "make all")
        var bins: [Data] = []
        for elf in [swiftELF, dir + "/make/firmware.elf"] {
            try ProcessRunner.check(Command("arm-none-eabi-objcopy", ["-O", "binary", elf, elf + ".bin"]), action: "objcopy")
            bins.append(try XCTUnwrap(FileManager.default.contents(atPath: elf + ".bin")))
        }
        XCTAssertGreaterThan(bins[0].count, 10000)
        XCTAssertEqual(bins[0], bins[1], "the PCM images' bytes differ")
    }
}
