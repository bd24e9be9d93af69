import Foundation

/// `report.json` → `frontend`: the audio front end the model is built on (`data.format: audio`).
public struct FrontEndSection: Codable, Sendable, Equatable {
    /// The `frontend:` parameters.
    public var config: AudioFrontEndConfig
    /// Frames per clip and values per frame: the model's input is `[frames, features, 1]`.
    public var frames: Int
    public var features: Int
    /// Samples per clip (`data.clip_samples`).
    public var clipSamples: Int
    /// The front end's int8 output quantization, which the model's input uses as it is.
    public var outputScale: Float
    public var outputZeroPoint: Int
    /// The feature ring on the device: frames × features bytes (int8).
    public var ringBytes: Int
    /// Arena (with kernel scratch) + unpack buffer + the stream buffer (window, front-end
    /// scratch and feature ring: `kdc_stream_bytes`, predicted; the C runtime's own figure must
    /// equal it for `cMatches`), bytes.
    public var ramEstimateBytes: Int
    /// Whether the C runtime's front end (whole clip and streamed) computed the same int8
    /// features as the Swift reference on every test recording, and the stream's model run the
    /// same outputs (`FrontEndHostCheck`); a mismatch fails the build.
    @NullEncodable public var cMatches: Bool?
    /// What `cMatches` rests on.
    public var cCheck: String
    /// Test recordings whose C features or streamed outputs differ (0 when `cMatches`).
    public var cMismatchedClips: Int = 0
}

extension Pipeline {
    /// The `frontend` section for a build on recordings, nil for other data.
    func frontEndSection(ramBytes: Int, streamBytes: Int, artifactPath: String, test: Dataset) throws -> FrontEndSection? {
        guard let fc = config.frontend, case let .audio(src) = config.data.train else { return nil }
        let fe = try AudioFrontEnd(fc)
        let frames = fc.frameCount(samples: src.clipSamples)
        // The test recordings' PCM as the features were computed from it (the sorted file list;
        // the test split's rows index it), through the C runtime's front end on the host.
        let dir = resolvePath(config.data.dir, against: config.baseDirectory)
        let recs = try listRecordings(src, dir: dir, configFile: config.file)
        let clips = try test.rows.map { r in
            fitClip(
                try readWAV(dir + "/" + recs[r].name, expectedRate: fc.sampleRate).samples, length: src.clipSamples,
                crop: src.crop)
        }
        let check = try withKDCErrors { try FrontEndHostCheck.run(artifactPath: artifactPath, clips: clips) }
        let bad = check.mismatchedClips
        return FrontEndSection(
            config: fc, frames: frames, features: fe.featuresPerFrame, clipSamples: src.clipSamples,
            outputScale: fe.outputScale, outputZeroPoint: fe.outputZeroPoint, ringBytes: frames * fe.featuresPerFrame,
            ramEstimateBytes: ramBytes, cMatches: bad == 0 && check.streamBytes == streamBytes,
            cCheck:
                "the C runtime's front end (cc, this machine) on the \(clips.count) test recordings, whole clip and streamed in random chunks, against AudioFrontEnd.features and the Swift int8 reference; kdc_stream_bytes \(check.streamBytes) (predicted \(streamBytes))",
            cMismatchedClips: bad)
    }
}

extension FrontEndSection {
    /// One line for the build summary.
    public var summary: String {
        let c = config
        return "front end: \(c.coefficients > 0 ? "MFCC \(c.coefficients) of \(c.melBins) mel" : "log-mel \(c.melBins)"), "
            + "\(c.sampleRate) Hz, window \(c.windowSamples), hop \(c.hopSamples), fft \(c.fftSize), "
            + "\(fmtNumber(Float(c.lowHz)))–\(fmtNumber(Float(c.highHz))) Hz; input \(frames) frames × \(features) features "
            + "(int8 scale \(outputScale), zero point \(outputZeroPoint)); ring \(ringBytes) B, RAM arena + unpack + ring "
            + "\(ramEstimateBytes) B; C front end: \(cMatches.map { $0 ? "matches" : "DIFFERS" } ?? cCheck)\n"
    }
}
