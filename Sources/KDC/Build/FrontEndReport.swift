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
    /// Arena (with kernel scratch) + unpack buffer + feature ring, bytes; the front end's own
    /// scratch is not yet counted (it comes with the C front end).
    public var ramEstimateBytes: Int
    /// Whether the C front end computed the same int8 features as the Swift one on the test
    /// recordings; null until that check exists (see `Pipeline.frontEndSection`).
    @NullEncodable public var cMatches: Bool?
    /// What `cMatches` rests on.
    public var cCheck: String
}

extension Pipeline {
    /// The `frontend` section for a build on recordings, nil for other data.
    func frontEndSection(ramBytes: Int) throws -> FrontEndSection? {
        guard let fc = config.frontend, case let .audio(src) = config.data.train else { return nil }
        let fe = try AudioFrontEnd(fc)
        let frames = fc.frameCount(samples: src.clipSamples)
        // MERGE (audio-fe): call the host front-end check here (C runtime front end vs
        // `AudioFrontEnd.features` on every test recording) and fill `cMatches` and `cCheck`
        // from its result; a mismatch must fail the build like the int8 host check does.
        return FrontEndSection(
            config: fc, frames: frames, features: fe.featuresPerFrame, clipSamples: src.clipSamples,
            outputScale: fe.outputScale, outputZeroPoint: fe.outputZeroPoint, ringBytes: frames * fe.featuresPerFrame,
            ramEstimateBytes: ramBytes + frames * fe.featuresPerFrame, cMatches: nil,
            cCheck: "not run: the C front end is not in this build yet (placeholder Swift front end)")
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
