import Foundation
import XCTest
@testable import KDC

/// The WAV reader, folders of labelled recordings (labels, speakers, splits, framing) and the
/// `frontend:` section; FSDD from ../shared/data/fsdd when present.
final class AudioDataTests: XCTestCase {
    static let fe = AudioFrontEndConfig(
        sampleRate: 8000, windowSamples: 64, hopSamples: 32, fftSize: 64, melBins: 8, coefficients: 0, lowHz: 0,
        highHz: 4000)

    // MARK: WAV

    /// Every malformed file gives a `KDCError.data` naming the file and what was expected.
    func testWAVBadInputs() throws {
        func patched(_ at: Int, _ v: Int) -> [UInt8] {
            var b = wavBytes([1, 2, 3, 4], rate: 8000)
            b[at] = UInt8(v & 0xFF); b[at + 1] = UInt8(v >> 8)
            return b
        }
        var notWave = wavBytes([1], rate: 8000)
        notWave[8...11] = ArraySlice("AVI ".utf8)
        var noFmt = wavBytes([1], rate: 8000)
        noFmt[12...15] = ArraySlice("junk".utf8)
        var extFloat = wavBytes([1, 2], rate: 8000, extensible: true)
        extFloat[20 + 24] = 3  // sub-format GUID: IEEE float
        let cases: [(String, [UInt8], [String])] = [
            ("empty", [], ["empty"]),
            ("not RIFF", Array("RIFX\0\0\0\0WAVEfmt ".utf8), ["not a RIFF file"]),
            ("short", Array("RIF".utf8), ["not a RIFF file"]),
            ("not WAVE", notWave, ["not WAVE", "AVI "]),
            ("no fmt", noFmt, ["no 'fmt ' chunk"]),
            ("not PCM", patched(20, 3), ["not PCM", "IEEE float"]),
            ("extensible float", extFloat, ["not PCM", "EXTENSIBLE with IEEE float"]),
            ("stereo", wavBytes([1, 2, 3, 4], rate: 8000, channels: 2), ["stereo", "mono"]),
            ("3 channels", patched(22, 3), ["3 channels"]),
            ("8-bit", patched(34, 8), ["8-bit", "16-bit"]),
            ("24-bit", patched(34, 24), ["24-bit"]),
            ("32-bit", patched(34, 32), ["32-bit"]),
            ("0 Hz", patched(24, 0), ["0 Hz"]),
            (
                "truncated data", Array(wavBytes([Int16](repeating: 9, count: 50), rate: 8000).dropLast(7)),
                ["truncated data chunk"]
            ),
            ("no data", Array(wavBytes([], rate: 8000).dropLast(8)), ["no 'data' chunk"]),
        ]
        for (label, bytes, fragments) in cases {
            assertDataError("f.wav", fragments, label) { _ = try parseWAV(bytes, file: "f.wav") }
        }
        assertDataError("f.wav", ["16000 Hz", "frontend.sample_rate is 8000"], "rate mismatch") {
            _ = try parseWAV(wavBytes([1], rate: 16000), file: "f.wav", expectedRate: 8000)
        }
        let dir = try makeTempDir()
        assertDataError(dir + "/none.wav", ["not found"], "missing file") { _ = try readWAV(dir + "/none.wav") }
    }

    /// PCM and WAVE_FORMAT_EXTENSIBLE PCM read the same samples; unknown chunks (odd-sized, with
    /// their pad byte) are skipped before and after `fmt `.
    func testWAVChunksAndExtensible() throws {
        let samples: [Int16] = [0, 1, -1, 32767, -32768, 1234]
        let plain = try parseWAV(wavBytes(samples, rate: 11025), file: "a.wav")
        XCTAssertEqual(plain, WAVAudio(sampleRate: 11025, samples: samples))
        XCTAssertEqual(try parseWAV(wavBytes(samples, rate: 11025, extensible: true), file: "b.wav"), plain)
        // Insert an odd-sized LIST chunk (3 bytes + pad) after WAVE and a 'fact' chunk after fmt.
        var b = wavBytes(samples, rate: 11025)
        let list: [UInt8] = Array("LIST".utf8) + [3, 0, 0, 0] + [7, 7, 7] + [0]
        let fact: [UInt8] = Array("fact".utf8) + [4, 0, 0, 0] + [6, 0, 0, 0]
        b.insert(contentsOf: fact, at: 36)
        b.insert(contentsOf: list, at: 12)
        XCTAssertEqual(try parseWAV(b, file: "c.wav"), plain)
        // An odd data chunk: the last, incomplete sample is dropped, the pad byte honoured.
        var odd = wavBytes([5, 6], rate: 8000)
        odd[40] = 3
        XCTAssertEqual(try parseWAV(odd, file: "d.wav").samples, [5])
    }

    // MARK: Framing

    func testPadAndCrop() {
        XCTAssertEqual(fitClip([1, 2, 3], length: 5, crop: .energy), [1, 2, 3, 0, 0])
        XCTAssertEqual(fitClip([1, 2, 3, 4, 5, 6], length: 3, crop: .start), [1, 2, 3])
        // Energy at samples 6 and 7: centroid 6.5 rounds to 7, the 4-sample window starts at 7 − 2 = 5.
        let loud: [Int16] = [0, 0, 0, 0, 0, 0, 100, 100, 0, 0]
        XCTAssertEqual(fitClip(loud, length: 4, crop: .energy), [0, 100, 100, 0])
        // Energy at the very start: the window stays inside the clip.
        XCTAssertEqual(fitClip([100, 0, 0, 0, 0, 0], length: 3, crop: .energy), [100, 0, 0])
        XCTAssertEqual(fitClip([0, 0, 0, 0, 0, 9], length: 3, crop: .energy), [0, 0, 9])
        // Silence: the middle.
        XCTAssertEqual(fitClip([Int16](repeating: 0, count: 8), length: 4, crop: .energy).count, 4)
    }

    // MARK: Folders

    /// A folder of `digits × speakers × takes` generated tones, named `{digit}_{speaker}_{take}.wav`.
    func makeFolder(digits: Int = 3, speakers: [String] = ["ann", "bob", "cy", "dee"], takes: Int = 4) throws -> String {
        let dir = try makeTempDir() + "/rec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for d in 0..<digits {
            for (si, s) in speakers.enumerated() {
                for t in 0..<takes {
                    let n = 200 + 37 * t + 11 * si
                    let pcm = (0..<n).map { Int16(4000 * sin(Double($0) * (0.2 + 0.5 * Double(d)) + Double(si))) }
                    try Data(wavBytes(pcm, rate: 8000)).write(to: URL(fileURLWithPath: "\(dir)/\(d)_\(s)_\(t).wav"))
                }
            }
        }
        return dir
    }

    func dataConfig(_ dir: String, _ edit: (inout AudioSourceConfig, inout SplitConfig) -> Void = { _, _ in }) -> DataConfig {
        var src = AudioSourceConfig(labelPattern: "^(\\d)_", speakerPattern: "^\\d_([a-z]+)_", clipSamples: 256)
        var split = SplitConfig()
        split.audioTest = .pattern("_0\\.wav$")
        edit(&src, &split)
        let shape = [Self.fe.frameCount(samples: 256), 8, 1]
        return DataConfig(
            format: .audio, dir: dir, train: .audio(src), test: nil, shape: shape, classes: 3, split: split, normalize: .none)
    }

    func load(_ c: DataConfig) throws -> DataSplits {
        try loadRecordings(c, frontEnd: try AudioFrontEnd(Self.fe), configFile: "cfg.yaml")
    }

    /// Labels from the file name, the test set from a name pattern, features = the front end's
    /// int8 output dequantized, shape [frames, features, 1].
    func testLabelPatternAndTestPattern() throws {
        let dir = try makeFolder()
        var c = dataConfig(dir)
        c.split.validation = 0.25
        let s = try load(c)
        XCTAssertEqual(s.test.count, 12)  // take 0 of 3 digits × 4 speakers
        XCTAssertEqual(s.train.count + s.validation.count, 36)
        XCTAssertEqual(s.validation.count, 9)  // 25% of 12 per class
        XCTAssertEqual(s.classNames, ["0", "1", "2"])
        XCTAssertEqual(s.train.sampleShape, [7, 8, 1])
        // Test rows index the sorted file list; row 0 is 0_ann_0.wav.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertTrue(s.test.rows.allSatisfy { names[$0].hasSuffix("_0.wav") })
        XCTAssertEqual(s.test.labels, s.test.rows.map { Int32(String(names[$0].first!))! })
        // The features are exactly the front end's int8, dequantized.
        let fe = try AudioFrontEnd(Self.fe)
        let pcm = try readWAV(dir + "/" + names[s.test.rows[0]]).samples
        let q = fe.features(fitClip(pcm, length: 256, crop: .energy))
        let expected = q.map { Float(Int($0) - fe.outputZeroPoint) * fe.outputScale }
        XCTAssertEqual(Array(s.test.x[0..<s.test.sampleSize]), expected)
        // Deterministic for a seed; another seed moves validation.
        let again = try load(c)
        XCTAssertEqual(again.train.rows, s.train.rows)
        XCTAssertEqual(again.train.x, s.train.x)
        c.split.seed = 7
        XCTAssertNotEqual(try load(c).validation.rows, s.validation.rows)
    }

    /// Labels from a CSV; a missing or stray row is an error naming the CSV.
    func testLabelCSV() throws {
        let dir = try makeFolder(digits: 2, speakers: ["ann"], takes: 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let rows = names.map { "\($0),\($0.hasPrefix("0") ? "yes" : "no")" }
        try ("file,label\n" + rows.joined(separator: "\n") + "\n").write(
            toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
        var c = dataConfig(dir) { src, split in
            src.labelPattern = nil; src.labelCSV = "labels.csv"; src.speakerPattern = nil
            split.audioTest = .fraction; split.test = 0.34; split.validation = 0
        }
        c.classes = 2
        let s = try load(c)
        XCTAssertEqual(s.classNames, ["no", "yes"])
        XCTAssertEqual(s.test.count, 2)
        XCTAssertEqual(s.train.count, 4)
        for d in [s.train, s.test] {
            XCTAssertEqual(d.labels, d.rows.map { names[$0].hasPrefix("0") ? 1 : 0 })
        }
        try (rows.dropLast().joined(separator: "\n")).write(toFile: dir + "/short.csv", atomically: true, encoding: .utf8)
        c.train = .audio(AudioSourceConfig(labelCSV: "short.csv", clipSamples: 256))
        assertDataError(dir + "/short.csv", ["no label", names.last!], "csv missing row") { _ = try self.load(c) }
        try (rows + ["ghost.wav,no"]).joined(separator: "\n").write(toFile: dir + "/extra.csv", atomically: true, encoding: .utf8)
        c.train = .audio(AudioSourceConfig(labelCSV: "extra.csv", clipSamples: 256))
        assertDataError(dir + "/extra.csv", ["ghost.wav"], "csv stray row") { _ = try self.load(c) }
    }

    /// Held-out speakers: never on both sides, by name or a seeded count; deterministic.
    func testSpeakerSplit() throws {
        let dir = try makeFolder()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        func speaker(_ row: Int) -> String { String(names[row].split(separator: "_")[1]) }
        let byName = try load(dataConfig(dir) { _, split in split.audioTest = .speakers(["bob"]) })
        XCTAssertEqual(Set(byName.test.rows.map(speaker)), ["bob"])
        XCTAssertFalse((byName.train.rows + byName.validation.rows).map(speaker).contains("bob"))
        XCTAssertEqual(byName.test.count, 12)
        for seed in [UInt64(0), 1, 2, 3] {
            let c = dataConfig(dir) { _, split in
                split.audioTest = .speakerCount(2); split.seed = seed
            }
            let s = try load(c)
            let test = Set(s.test.rows.map(speaker)), rest = Set((s.train.rows + s.validation.rows).map(speaker))
            XCTAssertEqual(test.count, 2, "seed \(seed)")
            XCTAssertTrue(test.isDisjoint(with: rest), "seed \(seed): \(test) and \(rest)")
            XCTAssertEqual(try load(c).test.rows, s.test.rows, "seed \(seed) is not deterministic")
        }
        assertDataError(dir, ["zed", "no recording"], "unknown speaker") {
            _ = try self.load(self.dataConfig(dir) { _, split in split.audioTest = .speakers(["zed"]) })
        }
        assertDataError(dir, ["only 4 speakers"], "all speakers held out") {
            _ = try self.load(self.dataConfig(dir) { _, split in split.audioTest = .speakerCount(4) })
        }
    }

    func testFolderErrors() throws {
        let dir = try makeFolder(digits: 2, speakers: ["ann"], takes: 2)
        assertDataError(dir + "/nope", ["does not exist"], "missing folder") { _ = try self.load(self.dataConfig(dir + "/nope")) }
        let empty = try makeTempDir()
        assertDataError(empty, ["no .wav files"], "no files") { _ = try self.load(self.dataConfig(empty)) }
        var c = dataConfig(dir)
        c.classes = 3
        assertDataError(dir, ["2 classes", "data.classes is 3"], "class count") { _ = try self.load(c) }
        c = dataConfig(dir) { src, _ in src.classNames = ["0", "2", "3"] }
        assertDataError(dir + "/1_ann_0.wav", ["'1'", "class_names"], "unknown class") { _ = try self.load(c) }
        try Data(wavBytes([1, 2], rate: 8000)).write(to: URL(fileURLWithPath: dir + "/noise.wav"))
        assertDataError(dir + "/noise.wav", ["label_pattern"], "no label") { _ = try self.load(self.dataConfig(dir)) }
    }

    /// `kdc data` on a folder of recordings writes the front end's features and the rows of the
    /// sorted file list.
    func testDataCommandOnRecordings() throws {
        let dir = try makeFolder(digits: 2, speakers: ["ann", "bob"], takes: 3)
        let cfg = (dir as NSString).deletingLastPathComponent + "/config.yaml"
        try Self.audioYAML.replacingOccurrences(of: "classes: 3", with: "classes: 2").write(
            toFile: cfg, atomically: true, encoding: .utf8)
        let out = (dir as NSString).deletingLastPathComponent + "/out"
        let r = try CLITests.runKDC(["data", cfg, "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/rows.json")))
        let m = try XCTUnwrap(manifest as? [String: Any])
        XCTAssertEqual(m["sample_shape"] as? [Int], [7, 8, 1])
        XCTAssertEqual(m["class_names"] as? [String], ["0", "1"])
        let test = try readNPY(out + "/test_rows.npy")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(test.integers?.map { names[Int($0)] }, ["0_ann_0.wav", "0_bob_0.wav", "1_ann_0.wav", "1_bob_0.wav"])
        let x = try readNPY(out + "/test_x.npy")
        XCTAssertEqual(x.shape, [4, 7, 8, 1])
        var c = dataConfig(dir)
        c.classes = 2
        XCTAssertEqual(x.values, try load(c).test.x)
    }

    /// `kdc build` on recordings: the int8 input is the front end's quantization (not calibrated),
    /// the graph carries the front end, the C runtime agrees with the Swift int8 reference, and the
    /// report has a `frontend` section.
    func testBuildOnRecordings() throws {
        let dir = try makeFolder(digits: 3, speakers: ["ann", "bob"], takes: 5)
        let text = Self.audioYAML.replacingOccurrences(
            of: "teacher:\n  layers: [flatten, {op: dense, units: 3}]",
            with: """
                teacher:
                  layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 3}]
                  train: {epochs: 2}
                student:
                  layers: [{op: conv2d, filters: 2, kernel: 3}, relu, flatten, {op: dense, units: 3}]
                  train: {epochs: 2}
                distill: {temperature: 2, alpha: 0.5, baseline: false}
                export: {compress: false, name: kws}
                """)
        let cfg = try KDCConfig.parse(text, file: (dir as NSString).deletingLastPathComponent + "/c.yaml")
        let out = try makeTempDir()
        let r = try Pipeline(config: cfg, outDir: out).build()
        let fe = try AudioFrontEnd(Self.fe)
        let g = r.quantized.graph
        XCTAssertEqual(g.inputStage, .audio(Self.fe))
        XCTAssertEqual(g[g.input].quant?.scale, fe.outputScale)
        XCTAssertEqual(g[g.input].quant.map { Int($0.zeroPoint) }, fe.outputZeroPoint)
        XCTAssertEqual(g.inputShape, [7, 8, 1])
        // The test inputs the runtime ran are exactly the front end's int8 features.
        let test = r.distillation.data.test
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let first = try readWAV(dir + "/" + names[test.rows[0]]).samples
        XCTAssertEqual(g.quantizedInputs(test)[0], fe.features(fitClip(first, length: 256, crop: .energy)))
        XCTAssertEqual(r.checks.host.mismatches, 0)
        let section = try XCTUnwrap(r.report.frontend)
        XCTAssertEqual(section.frames, 7)
        XCTAssertEqual(section.features, 8)
        XCTAssertEqual(section.ringBytes, 56)
        // The C runtime's front end on the host gave the Swift features on every test recording,
        // whole and streamed.
        XCTAssertEqual(section.cMatches, true, section.cCheck)
        XCTAssertEqual(section.cMismatchedClips, 0)
        XCTAssertTrue(section.cCheck.contains("\(test.count) test recordings"), section.cCheck)
        XCTAssertGreaterThan(section.ramEstimateBytes, r.report.memory?.arenaTotalBytes ?? 0)
        let json = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any]
        )
        let f = try XCTUnwrap(json["frontend"] as? [String: Any])
        XCTAssertEqual(f["ring_bytes"] as? Int, 56)
        XCTAssertEqual(f["c_matches"] as? Bool, true)
        XCTAssertEqual((f["config"] as? [String: Any])?["sample_rate"] as? Int, 8000)
    }

    // MARK: Config

    static let audioYAML = """
        frontend: {sample_rate: 8000, window: 64, hop: 32, mel_bins: 8}
        data:
          format: audio
          dir: rec
          label_pattern: '^(\\d)_'
          speaker_pattern: '^\\d_([a-z]+)_'
          clip_samples: 256
          classes: 3
          split: {test_pattern: '_0\\.wav$', validation: 0.1}
        teacher:
          layers: [flatten, {op: dense, units: 3}]
        """

    func testConfigDecodesAudio() throws {
        let c = try KDCConfig.parse(Self.audioYAML, file: "/x/c.yaml")
        XCTAssertEqual(c.frontend, Self.fe)
        XCTAssertEqual(c.data.shape, [7, 8, 1])
        XCTAssertEqual(c.data.dir, "/x/rec")
        XCTAssertEqual(c.data.split.audioTest, .pattern("_0\\.wav$"))
        guard case let .audio(src) = c.data.train else { return XCTFail("not audio") }
        XCTAssertEqual(src.labelPattern, "^(\\d)_")
        XCTAssertEqual(src.crop, .energy)
        // The effective config reads back to the same config.
        let back = try KDCConfig.parse(c.yaml(), file: "/x/c.yaml")
        XCTAssertEqual(back.frontend, c.frontend)
        XCTAssertEqual(back.data, c.data)
        let speakers = try KDCConfig.parse(
            Self.audioYAML.replacingOccurrences(of: "test_pattern: '_0\\.wav$'", with: "test_speakers: [bob]"), file: "/x/c.yaml")
        XCTAssertEqual(speakers.data.split.audioTest, .speakers(["bob"]))
        XCTAssertEqual(try KDCConfig.parse(speakers.yaml(), file: "/x/c.yaml").data, speakers.data)
    }

    func testConfigErrors() {
        let y = Self.audioYAML
        let cases: [(String, String, [String])] = [
            (y.replacingOccurrences(of: "hop: 32", with: "hop: 65"), "frontend.hop", ["≤ window"]),
            (y.replacingOccurrences(of: "mel_bins: 8", with: "mel_bins: 8, fft: 48"), "frontend.fft", ["power of two"]),
            (
                y.replacingOccurrences(of: "mel_bins: 8", with: "mel_bins: 8, coefficients: 9"), "frontend.coefficients",
                ["≤ mel_bins"]
            ),
            (y.replacingOccurrences(of: "mel_bins: 8", with: "mel_bins: 8, high_hz: 5000"), "frontend.high_hz", ["4000"]),
            (y.replacingOccurrences(of: "sample_rate: 8000", with: "sample_rate: 0"), "frontend.sample_rate", ["≥ 1"]),
            (y.replacingOccurrences(of: "window: 64", with: "widow: 64"), "frontend.widow", ["did you mean 'window'"]),
            (
                y.replacingOccurrences(of: "frontend: {sample_rate: 8000, window: 64, hop: 32, mel_bins: 8}\n", with: ""),
                "frontend", ["needs a frontend"]
            ),
            (y.replacingOccurrences(of: "'^(\\d)_'", with: "'^\\d_'"), "data.label_pattern", ["one capture group"]),
            (y.replacingOccurrences(of: "  label_pattern: '^(\\d)_'\n", with: ""), "data.label_pattern", ["exactly one of"]),
            (y.replacingOccurrences(of: "clip_samples: 256", with: "clip_samples: 10"), "data.clip_samples", ["window"]),
            (y.replacingOccurrences(of: "classes: 3", with: "classes: 3\n  normalize: standard"), "data.normalize", ["none"]),
            (
                y.replacingOccurrences(of: "classes: 3", with: "classes: 3\n  train_x: a.npy"), "data.train_x",
                ["not used with format audio"]
            ),
            (y.replacingOccurrences(of: "classes: 3", with: "classes: 3\n  crop: middle"), "data.crop", ["energy, start"]),
            (
                y.replacingOccurrences(of: "test_pattern: '_0\\.wav$'", with: "test_pattern: '_0', test: 0.2"), "data.split",
                ["one of test"]
            ),
            (
                y.replacingOccurrences(of: "  speaker_pattern: '^\\d_([a-z]+)_'\n", with: "")
                    .replacingOccurrences(of: "test_pattern: '_0\\.wav$'", with: "test_speakers: 1"), "data.split.test_speakers",
                ["speaker_pattern"]
            ),
            (
                y.replacingOccurrences(of: "format: audio", with: "format: csv\n  file: a.csv\n  shape: [3]")
                    .replacingOccurrences(of: "  label_pattern: '^(\\d)_'\n", with: "")
                    .replacingOccurrences(of: "  speaker_pattern: '^\\d_([a-z]+)_'\n", with: "")
                    .replacingOccurrences(of: "  clip_samples: 256\n", with: "")
                    .replacingOccurrences(of: "test_pattern: '_0\\.wav$'", with: "test: 0.2"), "frontend",
                ["only used with data.format: audio"]
            ),
        ]
        for (text, key, fragments) in cases {
            do {
                _ = try KDCConfig.parse(text, file: "/x/c.yaml")
                XCTFail("\(key): expected an error")
            } catch let KDCError.config(file, k, message) {
                XCTAssertEqual(file, "/x/c.yaml", key)
                XCTAssertEqual(k, key, message)
                for f in fragments { XCTAssertTrue(message.contains(f), "\(key): '\(message)' lacks '\(f)'") }
            } catch { XCTFail("\(key): \(error)") }
        }
    }

    /// The FSDD sample configs decode, read FSDD beside the repository, and their effective
    /// config reads back to the same config.
    func testSampleConfigs() throws {
        for name in ["config.yaml", "speaker.yaml"] {
            let c = try KDCConfig.load(path: CLITests.repoRoot + "/samples/fsdd/" + name)
            XCTAssertEqual(c.data.dir, ((CLITests.repoRoot + "/../shared/data/fsdd/recordings") as NSString).standardizingPath)
            XCTAssertEqual(c.data.shape, [47, 32, 1], name)
            XCTAssertEqual(c.frontend?.sampleRate, 8000)
            var back = try KDCConfig.parse(c.yaml(), file: c.file)
            back.baseDirectory = c.baseDirectory
            XCTAssertEqual(back, c, name)
        }
        let official = try KDCConfig.load(path: CLITests.repoRoot + "/samples/fsdd/config.yaml")
        XCTAssertEqual(official.data.split.audioTest, .pattern("_[0-4]\\.wav$"))
        XCTAssertEqual(official.distill.compareSeeds, [0, 1, 2])
        XCTAssertTrue(official.distill.baseline)
        let speaker = try KDCConfig.load(path: CLITests.repoRoot + "/samples/fsdd/speaker.yaml")
        XCTAssertEqual(speaker.data.split.audioTest, .speakers(["jackson"]))
    }

    // MARK: FSDD

    /// The FSDD folder: $KDC_FSDD, else ../shared/data/fsdd/recordings beside the repository.
    static var fsddDir: String {
        ProcessInfo.processInfo.environment["KDC_FSDD"] ?? CLITests.repoRoot + "/../shared/data/fsdd/recordings"
    }

    /// The sample config on a subset of FSDD (digits 0–9 of one speaker, copied): the official
    /// split's pattern, 8 kHz, the documented shape. A missing folder fails the test.
    func testFSDDSubset() throws {
        let src = Self.fsddDir
        guard FileManager.default.fileExists(atPath: src + "/7_jackson_32.wav") else {
            return XCTFail("\(src) is missing: FSDD is expected in ../shared/data/fsdd/recordings (or $KDC_FSDD)")
        }
        let dir = try makeTempDir() + "/recordings"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for d in 0..<10 {
            for i in [0, 1, 5, 6, 7] {
                try FileManager.default.copyItem(atPath: "\(src)/\(d)_jackson_\(i).wav", toPath: "\(dir)/\(d)_jackson_\(i).wav")
            }
        }
        let w = try readWAV(src + "/7_jackson_32.wav", expectedRate: 8000)
        XCTAssertEqual(w.sampleRate, 8000)
        XCTAssertGreaterThanOrEqual(w.samples.count, 1148)
        let cfg = try KDCConfig.load(
            path: CLITests.repoRoot + "/samples/fsdd/config.yaml", overrides: ConfigOverrides(data: dir))
        let s = try Pipeline(config: cfg, outDir: try makeTempDir()).loadData()
        XCTAssertEqual(s.test.count, 20)  // indexes 0 and 1 of each digit
        XCTAssertEqual(s.train.count + s.validation.count, 30)
        XCTAssertEqual(s.classNames, (0..<10).map(String.init))
        XCTAssertEqual(s.train.sampleShape, cfg.data.shape)
        XCTAssertEqual(Set(s.test.labels), Set(0..<10))
    }
}
