import Foundation
import Yams

/// The `frontend:` section and `data: {format: audio}` (docs/DATA.md, "Recordings").
extension ConfigDecoder {
    static let audioKeys = [
        "label_pattern", "label_csv", "speaker_pattern", "class_names", "clip_samples", "crop",
    ]

    /// `frontend:` → `AudioFrontEndConfig`. Required: sample_rate, window, hop. Defaults: fft the
    /// smallest power of two ≥ window, mel_bins 40, coefficients 0 (log-mel), low_hz 0,
    /// high_hz sample_rate / 2.
    func decodeFrontend(_ node: Node, _ path: String) throws -> AudioFrontEndConfig {
        let m = try mapping(
            node, path, allowed: ["sample_rate", "window", "hop", "fft", "mel_bins", "coefficients", "low_hz", "high_hz"])
        func k(_ key: String) -> String { path + "." + key }
        let rate = try int(try required(m, "sample_rate", path), k("sample_rate"), min: 1)
        let window = try int(try required(m, "window", path), k("window"), min: 2)
        let hop = try int(try required(m, "hop", path), k("hop"), min: 1)
        guard hop <= window else { throw fail(k("hop"), "must be ≤ window (\(window)) so that no sample is skipped, got \(hop)") }
        var fftDefault = 2
        while fftDefault < window { fftDefault *= 2 }
        let fft = try m["fft"].map { try int($0, k("fft"), min: 2) } ?? fftDefault
        guard fft & (fft - 1) == 0, fft >= window else {
            throw fail(k("fft"), "must be a power of two ≥ window (\(window)), got \(fft); hint: \(fftDefault)")
        }
        guard fft <= 4096 else { throw fail(k("fft"), "must be ≤ 4096, got \(fft)") }
        let mel = try m["mel_bins"].map { try int($0, k("mel_bins"), min: 1) } ?? 40
        guard mel <= fft / 2 else { throw fail(k("mel_bins"), "must be ≤ fft / 2 (\(fft / 2)), got \(mel)") }
        let coefficients = try m["coefficients"].map { try int($0, k("coefficients"), min: 0) } ?? 0
        guard coefficients <= mel else {
            throw fail(k("coefficients"), "must be ≤ mel_bins (\(mel)) (0: log-mel energies), got \(coefficients)")
        }
        let nyquist = Double(rate) / 2
        let low = try m["low_hz"].map { try double($0, k("low_hz")) } ?? 0
        let high = try m["high_hz"].map { try double($0, k("high_hz")) } ?? nyquist
        guard low >= 0 else { throw fail(k("low_hz"), "must be ≥ 0, got \(low)") }
        guard high <= nyquist else { throw fail(k("high_hz"), "must be ≤ sample_rate / 2 (\(nyquist)), got \(high)") }
        guard low < high else { throw fail(k("low_hz"), "must be below high_hz (\(high)), got \(low)") }
        return AudioFrontEndConfig(
            sampleRate: rate, windowSamples: window, hopSamples: hop, fftSize: fft, melBins: mel,
            coefficients: coefficients, lowHz: low, highHz: high)
    }

    /// `data:` with `format: audio`; `m` is the section, already checked against every data key.
    func decodeAudioData(_ m: [String: Node], _ path: String, frontend: AudioFrontEndConfig?) throws -> DataConfig {
        func k(_ key: String) -> String { path + "." + key }
        let allowed = ["format", "dir", "shape", "classes", "split", "normalize"] + ConfigDecoder.audioKeys
        if let bad = m.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw fail(
                k(bad), "not used with format audio; the keys for audio are: \(ConfigDecoder.audioKeys.joined(separator: ", "))")
        }
        guard let fe = frontend else {
            throw fail("frontend", "missing: data.format audio needs a frontend: section (sample_rate, window, hop, ...)")
        }
        let dir = resolvePath(try m["dir"].map { try string($0, k("dir")) } ?? ".", against: base)
        var src = AudioSourceConfig(clipSamples: try int(try required(m, "clip_samples", path), k("clip_samples"), min: 1))
        guard fe.frameCount(samples: src.clipSamples) >= 1 else {
            throw fail(
                k("clip_samples"), "must be ≥ frontend.window (\(fe.windowSamples)) to give one frame, got \(src.clipSamples)")
        }
        if let c = m["crop"] { src.crop = try enumValue(c, k("crop"), CropMode.self) }
        src.labelPattern = try m["label_pattern"].map { try string($0, k("label_pattern")) }
        src.labelCSV = try m["label_csv"].map { try string($0, k("label_csv")) }
        guard (src.labelPattern == nil) != (src.labelCSV == nil) else {
            throw fail(
                k(src.labelPattern == nil ? "label_pattern" : "label_csv"),
                "give exactly one of label_pattern (a file-name regex with one capture group) or label_csv (file,label rows)")
        }
        if let p = src.labelPattern { _ = try captureRegex(p, file: file, key: k("label_pattern")) }
        src.speakerPattern = try m["speaker_pattern"].map { try string($0, k("speaker_pattern")) }
        if let p = src.speakerPattern { _ = try captureRegex(p, file: file, key: k("speaker_pattern")) }
        let classes = try int(try required(m, "classes", path), k("classes"))
        guard (2...65535).contains(classes) else { throw fail(k("classes"), "must be in 2...65535, got \(classes)") }
        if let n = m["class_names"] {
            let names = try stringList(n, k("class_names"))
            guard names.count == classes, Set(names).count == names.count else {
                throw fail(k("class_names"), "needs \(classes) distinct names (data.classes), got \(names.count): \(names)")
            }
            src.classNames = names
        }
        let shape = [fe.frameCount(samples: src.clipSamples), fe.featuresPerFrame, 1]
        if let s = m["shape"] {
            let given = try intList(s, k("shape"))
            guard given == shape else {
                throw fail(
                    k("shape"),
                    "the front end gives \(shape) ([frames, features, 1] for clip_samples \(src.clipSamples)), got \(given); hint: drop shape"
                )
            }
        }
        if let n = m["normalize"], try string(n, k("normalize")) != "none" {
            throw fail(
                k("normalize"),
                "must be none for audio: the model's input is the front end's int8 output, quantized as the front end gives it")
        }
        var split = SplitConfig()
        if let s = m["split"] { split = try decodeAudioSplit(s, k("split"), speakers: src.speakerPattern != nil) }
        return DataConfig(
            format: .audio, dir: dir, train: .audio(src), test: nil, shape: shape, classes: classes, split: split,
            normalize: .none)
    }

    /// `data.split` for recordings: at most one of test (a fraction), test_pattern, test_speakers
    /// (names, or a count drawn with seed); validation and seed as for other data.
    func decodeAudioSplit(_ node: Node, _ path: String, speakers: Bool) throws -> SplitConfig {
        let sm = try mapping(node, path, allowed: ["test", "test_pattern", "test_speakers", "validation", "seed"])
        func k(_ key: String) -> String { path + "." + key }
        var split = SplitConfig()
        let given = ["test", "test_pattern", "test_speakers"].filter { sm[$0] != nil }
        guard given.count <= 1 else {
            throw fail(path, "give one of test, test_pattern or test_speakers; found \(given.joined(separator: " and "))")
        }
        if let t = sm["test"] {
            split.test = try double(t, k("test"))
            guard split.test > 0 && split.test < 1 else { throw fail(k("test"), "must be in (0, 1), got \(split.test)") }
        }
        if let p = sm["test_pattern"] {
            let text = try string(p, k("test_pattern"))
            guard (try? NSRegularExpression(pattern: text)) != nil else {
                throw fail(k("test_pattern"), "not a valid regular expression: '\(text)'")
            }
            split.audioTest = .pattern(text)
        }
        if let sp = sm["test_speakers"] {
            guard speakers else {
                throw fail(k("test_speakers"), "needs data.speaker_pattern (a file-name regex whose capture is the speaker)")
            }
            if case .sequence = sp {
                let names = try stringList(sp, k("test_speakers"))
                guard !names.isEmpty else { throw fail(k("test_speakers"), "name at least one speaker") }
                split.audioTest = .speakers(names)
            } else {
                split.audioTest = .speakerCount(try int(sp, k("test_speakers"), min: 1))
            }
        }
        if let v = sm["validation"] {
            split.validation = try double(v, k("validation"))
            guard split.validation >= 0 && split.validation < 1 else {
                throw fail(k("validation"), "must be in [0, 1) (0: no validation split), got \(split.validation)")
            }
        }
        if let sd = sm["seed"] { split.seed = try uint64(sd, k("seed")) }
        return split
    }
}
