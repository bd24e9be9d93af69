import Foundation
import XCTest

@testable import KDC

/// The integer audio front end (docs/AUDIO.md): config validation, golden vectors, the artifact's
/// input-stage block, and the C runtime byte-equal with the Swift reference (host harness).
final class AudioFrontEndTests: XCTestCase {
    static let logMel8k = AudioFrontEndConfig(
        sampleRate: 8000, windowSamples: 200, hopSamples: 80, fftSize: 256, melBins: 20, coefficients: 0, lowHz: 20,
        highHz: 4000)
    static let mfcc16k = AudioFrontEndConfig(
        sampleRate: 16000, windowSamples: 400, hopSamples: 160, fftSize: 512, melBins: 32, coefficients: 13, lowHz: 60,
        highHz: 7600)

    func testInvalidConfigsNameTheField() {
        func key(_ edit: (inout AudioFrontEndConfig) -> Void) -> String? {
            var c = Self.logMel8k
            edit(&c)
            do { _ = try AudioFrontEnd(c) } catch let KDCError.config(_, key, _) { return key } catch { return "\(error)" }
            return nil
        }
        XCTAssertEqual(key { $0.sampleRate = 0 }, "frontend.sample_rate")
        XCTAssertEqual(key { $0.fftSize = 300 }, "frontend.fft")
        XCTAssertEqual(key { $0.fftSize = 128 }, "frontend.window")  // window 200 > fft 128
        XCTAssertEqual(key { $0.hopSamples = 201 }, "frontend.hop")
        XCTAssertEqual(key { $0.highHz = 4001 }, "frontend.high_hz")
        XCTAssertEqual(key { $0.coefficients = 21 }, "frontend.coefficients")
        XCTAssertEqual(key { $0.melBins = 0 }, "frontend.mel_bins")
        XCTAssertEqual(key { $0.lowHz = -1 }, "frontend.low_hz")
        XCTAssertNil(key { _ in })
    }

    static func clips(_ c: AudioFrontEndConfig, seed: UInt64) -> [[Int16]] {
        var rng = SeededRNG(seed: seed)
        let n = c.sampleRate / 2
        var out: [[Int16]] = []
        out.append([Int16](repeating: 0, count: n))  // silence
        out.append((0..<n).map { i in (i / 7) % 2 == 0 ? 32767 : -32767 })  // full-scale square
        out.append((0..<n).map { i in (i / 40) % 2 == 0 ? Int16.max : Int16.min })  // ±32768 square
        out.append((0..<n).map { i in Int16(max(-32768, min(32767, 90000 * sin(Double(i) * 0.3)))) })  // clipped sine
        out.append((0..<n).map { _ in Int16(truncatingIfNeeded: rng.int(below: 65536) - 32768) })  // white, full range
        out.append((0..<n).map { _ in Int16(rng.int(below: 7) - 3) })  // very quiet
        out.append((0..<n).map { i in Int16(3000 * sin(Double(i) * 0.05) + 200 * Double(rng.normal())) })
        out.append((0..<(c.windowSamples - 1)).map { Int16($0) })  // too short: no frame
        out.append((0..<(c.windowSamples + c.hopSamples)).map { _ in Int16(rng.int(below: 2000) - 1000) })  // two frames
        return out
    }

    func testSilenceAndShortClips() throws {
        let fe = try AudioFrontEnd(Self.logMel8k)
        XCTAssertEqual(fe.features([Int16](repeating: 0, count: 400)), [Int8](repeating: -128, count: 3 * 20))
        XCTAssertEqual(fe.features([Int16](repeating: 5, count: 199)), [])
        let m = try AudioFrontEnd(Self.mfcc16k)
        XCTAssertEqual(m.outputScale, 0.5)
        XCTAssertEqual(m.outputZeroPoint, 0)
        // c0 = the mean log2 energy, -12 for silence (q = -24); the other coefficients 0
        XCTAssertEqual(m.features([Int16](repeating: 0, count: 400)), [-24] + [Int8](repeating: 0, count: 12))
    }

    /// Golden vectors (docs/AUDIO.md §8): the first frame of three short inputs, log-mel 8 kHz.
    func testGoldenVectors() throws {
        let fe = try AudioFrontEnd(Self.logMel8k)
        let ramp = (0..<200).map { Int16($0 * 100 - 10000) }
        let sine = (0..<200).map { Int16((10000 * sin(2 * Double.pi * 1000 * Double($0) / 8000)).rounded()) }
        let impulse = (0..<200).map { $0 == 100 ? Int16(16384) : 0 }
        let golden = AudioFrontEndTests.golden
        XCTAssertEqual(fe.frame(ramp[...]), golden[0])
        XCTAssertEqual(fe.frame(sine[...]), golden[1])
        XCTAssertEqual(fe.frame(impulse[...]), golden[2])
        let m = try AudioFrontEnd(Self.mfcc16k)
        let sine16 = (0..<400).map { Int16((10000 * sin(2 * Double.pi * 1000 * Double($0) / 16000)).rounded()) }
        XCTAssertEqual(m.frame(sine16[...]), golden[3])
    }
    /// Written from the reference once it matched the C runtime on every test clip
    /// (testCRuntimeMatchesTheSwiftReference); docs/AUDIO.md §8 quotes them.
    static let golden: [[Int8]] = [
        [58, 25, 6, -2, -12, -20, -26, -31, -36, -42, -46, -45, -48, -48, -51, -47, -52, -50, -54, -53],
        [-43, -43, -40, -35, -30, -22, -11, 11, 70, 72, 28, -12, -27, -38, -44, -48, -52, -48, -48, -50],
        [37, 37, 38, 38, 39, 39, 40, 40, 41, 41, 42, 42, 43, 43, 44, 44, 45, 45, 46, 46],
        [29, 12, -7, -15, -6, 4, 7, 3, -2, -5, -2, 1, 3],
    ]

    /// A small int8 model whose input is `frames` front-end frames, with the stage recorded.
    static func model(_ c: AudioFrontEndConfig, frames: Int) throws -> Graph {
        let fe = try AudioFrontEnd(c)
        let k = frames * fe.featuresPerFrame
        let spec = GraphSpec.sequential(inputShape: [k], [.dense(units: 8), .relu, .dense(units: 4)])
        let float = try Model(spec: spec, seed: 3).floatGraph
        let d = ExportFixtures.data(shape: [k], count: 40, classes: 4, seed: 9)
        var g = try quantize(float, calibration: d)
        g.tensors[0].quant = QuantParams(scale: fe.outputScale, zeroPoint: Int32(fe.outputZeroPoint))
        g.inputStage = .audio(c)
        return g
    }

    func testArtifactRoundTripsTheStage() throws {
        for c in [Self.logMel8k, Self.mfcc16k] {
            let g = try Self.model(c, frames: 10)
            let bytes = try ArtifactWriter.artifact(g, plan: try MemoryPlanner.plan(g), compress: false)
            let a = try ArtifactReader.parse(bytes)
            XCTAssertEqual(a.graph.inputStage, .audio(c))
            XCTAssertEqual(a.inputStage?.audioTables, try AudioFrontEnd(c).tables)
            XCTAssertEqual(a.flags & Int(ArtifactFormat.flagInputStage), Int(ArtifactFormat.flagInputStage))
            // Wrong input quantization is refused by the writer.
            var bad = g
            bad.tensors[0].quant = QuantParams(scale: 0.1, zeroPoint: 0)
            XCTAssertThrowsError(try ArtifactWriter.artifact(bad, plan: try MemoryPlanner.plan(bad), compress: false))
        }
        var s = try Self.model(Self.logMel8k, frames: 10)
        s.tensors[0].quant = QuantParams(scale: 0.05, zeroPoint: 3)
        s.inputStage = .sensor(SensorNormalization(mean: [0.5, -1, 2, 0], std: [1, 2, 0.5, 3]))
        s.tensors[0].shape = [50, 4]
        let sb = try ArtifactWriter.artifact(s, plan: try MemoryPlanner.plan(s), compress: true)
        let sa = try ArtifactReader.parse(sb)
        XCTAssertEqual(sa.graph.inputStage, s.inputStage)
        XCTAssertEqual(sa.inputStage?.sensorFactors, [20, 10, 40, Float(1 / (3.0 * Double(Float(0.05))))])
    }

    func testSensorQuantizer() {
        let q = SensorQuantizer.quantize(
            [0.5, 1, .nan, 1e30, -1e30, 0.125], mean: [0.25, 0], k: [2, 4], zeroPoint: 3)
        XCTAssertEqual(q, [4, 7, 3, 127, -128, 4])  // 0.5, 4 (+3); NaN → zp; clamps; 0.5 → 1 (half away)
    }

    /// Swift = the C runtime (and gen_golden.py's numpy float32) on the sensor path: the golden
    /// sensor model of runtime/tests/golden_models.h, whose quantized inputs `make -C runtime
    /// test` checks `kdc_sensor_quantize` and the stream against (NaN and ±inf included).
    func testSensorQuantizerMatchesTheRuntimeGolden() throws {
        let text = try String(contentsOfFile: CLITests.repoRoot + "/runtime/tests/golden_models.h", encoding: .utf8)
        func array(_ decl: String) throws -> [Int64] {
            let start = try XCTUnwrap(text.range(of: decl + "[] = {"), "\(decl) not in golden_models.h")
            let end = try XCTUnwrap(text[start.upperBound...].firstIndex(of: "}"))
            return text[start.upperBound..<end].split(separator: ",").map {
                Int64($0.trimmingCharacters(in: .whitespacesAndNewlines))!
            }
        }
        let artifact = try array("static const unsigned char sensor_stored").map { UInt8($0) }
        let a = try ArtifactReader.parse(artifact, file: "sensor_stored")
        guard case .sensor(let n) = a.graph.inputStage, let k = a.inputStage?.sensorFactors else {
            return XCTFail("the golden sensor model has no sensor stage")
        }
        let raw = try array("static const uint32_t sensor_raw_bits").map { Float(bitPattern: UInt32($0)) }
        let want = try array("static const int8_t sensor_in").map { Int8($0) }
        XCTAssertEqual(raw.count, want.count)
        XCTAssertTrue(raw.contains { $0.isNaN } && raw.contains { $0.isInfinite })
        let zp = Int(a.graph.tensors[0].quant?.zeroPoint ?? 0)
        XCTAssertEqual(SensorQuantizer.quantize(raw, mean: n.mean, k: k, zeroPoint: zp), want)
        XCTAssertEqual(SensorQuantizer.factors(n, inputScale: try XCTUnwrap(a.graph.tensors[0].quant?.scale)), k)
    }

    /// C = Swift on every test clip, whole-clip and streamed, for log-mel 8 kHz and MFCC 16 kHz.
    func testCRuntimeMatchesTheSwiftReference() throws {
        for (i, c) in [Self.logMel8k, Self.mfcc16k].enumerated() {
            let frames = 10
            let g = try Self.model(c, frames: frames)
            let dir = try ExportFixtures.tempDir("frontend")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/m.kdc"
            let bytes = try ArtifactWriter.artifact(g, plan: try MemoryPlanner.plan(g), compress: false)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let clips = Self.clips(c, seed: UInt64(10 + i))
            let r = try FrontEndHostCheck.run(artifactPath: path, clips: clips, seed: UInt32(7 + i))
            XCTAssertEqual(r.clips.count, clips.count)
            XCTAssertEqual(r.mismatchedClips, 0, "\(c): \(r.clips)")
            XCTAssertEqual(r.clips.filter { $0.streamEqual == true }.count, clips.count - 2)  // all but the short two
            XCTAssertEqual(r.clips.filter { $0.streamOutputEqual == true }.count, clips.count - 2)
            XCTAssertEqual(r.scratchBytes, 8 * c.fftSize + 4 * c.melBins)
            XCTAssertEqual(r.streamBytes, (2 * c.windowSamples + 3) / 4 * 4 + r.scratchBytes + frames * c.featuresPerFrame)
            let predicted = try XCTUnwrap(InputStageBlock.memory(g))
            XCTAssertEqual(predicted.frontendBytes + predicted.ringBytes, r.streamBytes, "Swift's prediction = kdc_stream_bytes")
            XCTAssertEqual(predicted.ringBytes, frames * c.featuresPerFrame)
        }
    }

    func testReferenceSpeed() throws {
        let fe = try AudioFrontEnd(Self.logMel8k)
        let clip = Self.clips(Self.logMel8k, seed: 3)[6] + Self.clips(Self.logMel8k, seed: 3)[6]
        let t0 = Date()
        var sum = 0
        for _ in 0..<20 { sum &+= fe.features(clip).count }
        let s = Date().timeIntervalSince(t0)
        print("front end: 20 one-second 8 kHz clips in \(String(format: "%.3f", s)) s (\(sum) values)")
        XCTAssertEqual(sum, 20 * 98 * 20)
    }
}
