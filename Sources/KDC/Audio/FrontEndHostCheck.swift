import Foundation
import KDCTarget

/// Per clip: does the C front end give the Swift reference's bytes?
public struct FrontEndClipCheck: Codable, Equatable, Sendable {
    /// Feature frames of the clip (`config.frameCount(samples:)`).
    public var frames: Int
    /// `kdc_frontend_features` over the whole clip == `AudioFrontEnd.features(clip)`.
    public var wholeClipEqual: Bool
    /// For a clip of at least the model input's frames (else nil): the stream's ring after pushing
    /// the clip in random chunks == the last frames of the reference features, and the model
    /// output of `kdc_stream_run` == `kdc_invoke` on those reference frames.
    public var streamEqual: Bool?
    public var streamOutputEqual: Bool?
    /// First differing feature byte of the whole clip (nil when equal).
    public var firstMismatch: Int?

    public var equal: Bool { wholeClipEqual && streamEqual != false && streamOutputEqual != false }
}

/// The result of `FrontEndHostCheck.run`.
public struct FrontEndCheckResult: Codable, Equatable, Sendable {
    public var clips: [FrontEndClipCheck]
    /// Clips where any comparison failed.
    public var mismatchedClips: Int { clips.filter { !$0.equal }.count }
    /// What the runtime reported: front-end scratch and stream buffer bytes (window + scratch +
    /// ring), the model's arena.
    public var scratchBytes: Int
    public var streamBytes: Int
    public var arenaBytes: Int
}

/// Runs the C runtime's audio front end and stream over PCM clips on the host
/// (`runtime/host/kdc_host_frontend.c`) and compares every byte with the Swift reference.
public enum FrontEndHostCheck {
    /// - Parameters:
    ///   - artifactPath: a stored artifact with an audio input stage.
    ///   - clips: int16 PCM recordings at the front end's sample rate.
    ///   - seed: chunk sizes of the streamed push.
    /// - Throws: `KDCError.format` for an artifact without an audio stage (or invalid),
    ///   `TargetError` when the harness cannot be built or fails (its record names the step).
    public static func run(
        artifactPath: String, clips: [[Int16]], seed: UInt32 = 1, runtimeDirectory: String? = nil
    ) throws -> FrontEndCheckResult {
        let art = try ArtifactReader.read(path: artifactPath)
        guard case .audio(let config) = art.graph.inputStage, let tables = art.inputStage?.audioTables else {
            throw KDCError.format(file: artifactPath, message: "stage: the artifact has no audio input stage")
        }
        let fe = AudioFrontEnd(config: config, tables: tables)
        let modelFrames = art.graph.tensors[0].count / fe.featuresPerFrame
        let rt = try runtimeDirectory ?? SourceTree.runtimeDirectory()
        let tmp = try SourceTree.scratchDirectory("frontend-check")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let host = HostTarget(scratch: tmp)
        try host.requireTools(countingInstructions: false)
        let exe = tmp + "/kdc_host_frontend"
        try host.build(
            sources: try SourceTree.runtimeSources(rt) + [rt + "/host/kdc_host_frontend.c"], includes: [rt + "/include"],
            objectDirectory: tmp + "/obj", output: exe)
        var input: [UInt8] = []
        for c in clips {
            let n = UInt32(c.count)
            for s in 0..<4 { input.append(UInt8((n >> UInt32(8 * s)) & 0xff)) }
            for v in c { let u = UInt16(bitPattern: v); input.append(UInt8(u & 0xff)); input.append(UInt8(u >> 8)) }
        }
        let clipsPath = tmp + "/clips.bin", featPath = tmp + "/features.bin", streamPath = tmp + "/stream.bin"
        try SourceTree.write(Data(input), to: clipsPath)
        let out = try ProcessRunner.run(Command(exe, [artifactPath, clipsPath, featPath, streamPath, String(seed)]))
        guard out.succeeded, let info = out.stdout.split(separator: "\n").first(where: { $0.contains("\"frontend\"") }),
            let json = try? JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any]
        else {
            throw KDCError.check(message: "kdc_host_frontend failed (\(out.termination)): \(out.stdout)\(out.stderr)")
        }
        let outBytes = json["output_bytes"] as? Int ?? 0
        let feats = [UInt8](FileManager.default.contents(atPath: featPath) ?? Data()).map { Int8(bitPattern: $0) }
        let stream = [UInt8](FileManager.default.contents(atPath: streamPath) ?? Data()).map { Int8(bitPattern: $0) }
        var fo = 0, so = 0, result: [FrontEndClipCheck] = []
        let fpf = fe.featuresPerFrame, ringBytes = modelFrames * fpf
        for c in clips {
            let want = fe.features(c)
            guard fo + want.count <= feats.count else {
                throw KDCError.check(message: "kdc_host_frontend wrote \(feats.count) feature bytes, fewer than the clips need")
            }
            let got = feats[fo..<(fo + want.count)]
            fo += want.count
            let mismatch = zip(want, got).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            var check = FrontEndClipCheck(
                frames: want.count / fpf, wholeClipEqual: mismatch == nil, streamEqual: nil, streamOutputEqual: nil,
                firstMismatch: mismatch)
            if want.count / fpf >= modelFrames {
                guard so + ringBytes + 2 * outBytes <= stream.count else {
                    throw KDCError.check(message: "kdc_host_frontend wrote \(stream.count) stream bytes, fewer than expected")
                }
                check.streamEqual = Array(stream[so..<(so + ringBytes)]) == Array(want.suffix(ringBytes))
                so += ringBytes
                check.streamOutputEqual = stream[so..<(so + outBytes)] == stream[(so + outBytes)..<(so + 2 * outBytes)]
                so += 2 * outBytes
            }
            result.append(check)
        }
        return FrontEndCheckResult(
            clips: result, scratchBytes: json["scratch_bytes"] as? Int ?? 0, streamBytes: json["stream_bytes"] as? Int ?? 0,
            arenaBytes: json["arena_needed"] as? Int ?? 0)
    }
}
