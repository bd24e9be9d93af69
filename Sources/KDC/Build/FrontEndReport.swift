import Foundation
import KDCTarget

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
    /// The stream buffer kdc predicts (`kdc_stream_bytes`: window, front-end scratch, ring).
    public var streamBytes: Int? = nil
    /// With `--firmware`: up to 20 test recordings run on the board (stored artifact), whole
    /// clip and streamed, every output byte against the Swift front end → Swift int8 reference,
    /// the device's `kdc_stream_bytes`, and the RAM by part, measured against the prediction; a
    /// mismatch, a stream buffer other than `streamBytes`, or a RAM part other than predicted
    /// fails the build.
    public var firmware: FirmwarePCMResult? = nil

    /// The firmware check ran and found a difference (outputs, the stream buffer's size, RAM).
    public var firmwareFailed: Bool {
        guard let f = firmware else { return false }
        return !f.match || f.streamBytes != streamBytes || !f.ramMatchesPrediction
    }
}

extension Pipeline {
    /// The `frontend` section for a build on recordings, nil for other data.
    /// With `export.firmware`, also runs up to `firmwareSamples` of the test recordings on the
    /// board (`FirmwareCheck.runPCM`, the stored artifact of `export`) against `graph` on the
    /// Swift front end's features.
    func frontEndSection(
        ramBytes: Int, streamBytes: Int, artifactPath: String, test: Dataset, graph: Graph, export: ExportResult
    ) throws -> FrontEndSection? {
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
        var device: FirmwarePCMResult? = nil
        if let board = config.export.firmware, !clips.isEmpty {
            let n = min(firmwareSamples, clips.count)
            stage(
                "firmware",
                detail: "\(board.name), stored artifact: \(n) test recordings as PCM through the front end, whole and streamed")
            let interp = Int8Interpreter()
            let some = Array(clips.prefix(n))
            let expected = some.map { interp.run(graph, input: fe.features($0)) }
            device = try withKDCErrors {
                try FirmwareCheck.runPCM(
                    board: board, model: export.exportedModel, mode: .stored, clips: some, expected: expected,
                    opCodes: graph.opCodes, countInstructions: true)
            }
        }
        return FrontEndSection(
            config: fc, frames: frames, features: fe.featuresPerFrame, clipSamples: src.clipSamples,
            outputScale: fe.outputScale, outputZeroPoint: fe.outputZeroPoint, ringBytes: frames * fe.featuresPerFrame,
            ramEstimateBytes: ramBytes, cMatches: bad == 0 && check.streamBytes == streamBytes,
            cCheck:
                "the C runtime's front end (cc, this machine) on the \(clips.count) test recordings, whole clip and streamed in random chunks, against AudioFrontEnd.features and the Swift int8 reference; kdc_stream_bytes \(check.streamBytes) (predicted \(streamBytes))",
            cMismatchedClips: bad, streamBytes: streamBytes, firmware: device)
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
            + (firmware.map { f in
                "front end on \(f.target): \(f.clips) recordings, \(f.wholeMismatches) whole-clip and \(f.streamedMismatches) "
                    + "streamed output bytes differ from the Swift reference; kdc_stream_bytes \(f.streamBytes) (predicted "
                    + "\(streamBytes.map(String.init) ?? "?"))"
                    + (f.instructionsPerHop.map { "; \($0) instructions per hop" } ?? "")
                    + "; RAM \(f.ram.map { "\($0.totalBytes)" } ?? "?") B measured, \(f.ramPredicted.map { "\($0.totalBytes)" } ?? "?") B predicted\n"
            } ?? "")
    }
}
