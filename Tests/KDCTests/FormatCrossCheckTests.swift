import Foundation
import XCTest
@testable import KDC

/// The artifact format has three implementations that must agree: the C runtime (the
/// reference reader), the Swift writer and reader, and the Python generators of golden data.
/// These tests compare their byte-offset tables and make the Swift reader and the C runtime
/// judge the same malformed artifacts.
final class FormatCrossCheckTests: XCTestCase {
    static let runtime = CLITests.repoRoot + "/runtime"

    func run(_ args: [String], cwd: String = runtime) throws -> String {
        let r = try HostCheckProcess.run(args, cwd: cwd)
        XCTAssertEqual(r.status, 0, "\(args.joined(separator: " ")): \(r.err)")
        return r.out
    }

    /// Every format constant as Swift names it, under the C/Python key.
    static var swiftConstants: [String: Int] {
        typealias H = ArtifactFormat.Header
        typealias B = ArtifactFormat.Body
        typealias T = ArtifactFormat.TensorRecord
        typealias R = ArtifactFormat.OpRecord
        var c: [String: Int] = [
            "FORMAT_VERSION": Int(ArtifactFormat.version),
            "MAGIC_LE32": ArtifactFormat.magic.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) },
            "FLAG_COMPRESSED": Int(ArtifactFormat.flagCompressed),
            "FLAG_TFLITE": Int(ArtifactFormat.flagTFLite), "FLAG_FLOAT_INPUT": Int(ArtifactFormat.flagFloatInput),
            "FLAG_FLOAT_OUTPUT": Int(ArtifactFormat.flagFloatOutput), "FLAGS_KNOWN": Int(ArtifactFormat.flagsKnown),
            "SOFTMAX_SCALE_BITS": Int(ArtifactFormat.softmaxScaleBits), "SOFTMAX_MAX_DEPTH": ArtifactFormat.softmaxMaxDepth,
            "HDR_MAGIC": H.magic, "HDR_VERSION": H.version, "HDR_FLAGS": H.flags, "HDR_HEADER_SIZE": H.headerSize,
            "HDR_RESERVED": H.reserved, "HDR_STORED_BYTES": H.storedBodyBytes, "HDR_RAW_BYTES": H.rawBodyBytes,
            "HDR_ARENA_BYTES": H.arenaBytes, "HDR_BODY_CRC": H.bodyCRC32, "HDR_HEADER_CRC": H.headerCRC32, "HDR_BYTES": H.bytes,
            "BODY_N_TENSORS": B.nTensors, "BODY_N_OPS": B.nOps, "BODY_INPUT_ID": B.inputID, "BODY_OUTPUT_ID": B.outputID,
            "BODY_TENSORS_OFFSET": B.tensorsOffset, "BODY_OPS_OFFSET": B.opsOffset, "BODY_CONST_OFFSET": B.constOffset,
            "BODY_CONST_BYTES": B.constBytes, "BODY_HEADER_BYTES": B.bytes,
            "TENSOR_RANK": T.rank, "TENSOR_DTYPE": T.dtype, "TENSOR_RESERVED": T.reserved0, "TENSOR_DIMS": T.dims,
            "TENSOR_SCALE": T.scale, "TENSOR_ZERO_POINT": T.zeroPoint, "TENSOR_ARENA_OFFSET": T.arenaOffset,
            "TENSOR_BYTE_SIZE": T.byteSize, "TENSOR_RESERVED2": T.reserved1, "TENSOR_RECORD_BYTES": T.bytes,
            "DTYPE_INT8": ArtifactFormat.dtypeInt8,
            "OP_CODE": R.opcode, "OP_ACT_MIN": R.actMin, "OP_ACT_MAX": R.actMax, "OP_RESERVED": R.reserved0,
            "OP_INPUT0": R.input0, "OP_INPUT1": R.input1, "OP_OUTPUT": R.output, "OP_RESERVED2": R.reserved1,
            "OP_PARAMS": R.params, "OP_PARAM_WORDS": R.paramWords, "OP_K_H": R.kernelH, "OP_K_W": R.kernelW,
            "OP_STRIDE_H": R.strideH, "OP_STRIDE_W": R.strideW, "OP_PAD_TOP": R.padTop, "OP_PAD_LEFT": R.padLeft,
            "OP_DEPTH_MULT": R.depthMultiplier, "OP_WINDOW_RESERVED": R.windowReserved,
            "OP_WEIGHTS_OFFSET": R.weightsOffset, "OP_BIAS_OFFSET": R.biasOffset, "OP_MULT_OFFSET": R.multiplierOffset,
            "OP_SHIFT_OFFSET": R.shiftOffset, "OP_CONST_RESERVED": R.constReserved, "OP_RECORD_BYTES": R.bytes,
            "NO_TENSOR": Int(ArtifactFormat.noTensor), "MAX_REDUCE": ArtifactFormat.maxReduce,
            "MAX_GAP_TAPS": ArtifactFormat.maxGapTaps,
        ]
        typealias S = InputStageBlock
        let stage: [String: Int] = [
            "FLAG_INPUT_STAGE": Int(ArtifactFormat.flagInputStage), "STAGE_KIND": S.kind, "STAGE_RESERVED": S.reserved,
            "STAGE_BYTES": S.bytes, "STAGE_FRAMES": S.frames, "STAGE_FEATURES": S.features,
            "STAGE_HEADER_BYTES": S.headerBytes, "STAGE_AUDIO": S.kindAudio, "STAGE_SENSOR": S.kindSensor,
            "AUDIO_SAMPLE_RATE": S.sampleRate, "AUDIO_WINDOW": S.window, "AUDIO_HOP": S.hop, "AUDIO_FFT_SIZE": S.fftSize,
            "AUDIO_MEL_BINS": S.melBins, "AUDIO_COEFFICIENTS": S.coefficients, "AUDIO_RESERVED": S.audioReserved,
            "AUDIO_LOW_HZ": S.lowHz, "AUDIO_HIGH_HZ": S.highHz, "AUDIO_TABLES": S.audioTables,
            "AUDIO_MAX_RATE": AudioFrontEnd.maxSampleRate, "AUDIO_FFT_MIN": AudioFrontEnd.fftSizes.lowerBound,
            "AUDIO_FFT_MAX": AudioFrontEnd.fftSizes.upperBound, "AUDIO_MAX_MEL": AudioFrontEnd.maxMelBins,
            "AUDIO_Q30": Int(S.q30), "LOGMEL_SCALE_BITS": Int(AudioFrontEnd.logMelScale.bitPattern),
            "LOGMEL_ZERO_POINT": AudioFrontEnd.logMelZeroPoint, "MFCC_SCALE_BITS": Int(AudioFrontEnd.mfccScale.bitPattern),
            "MFCC_ZERO_POINT": AudioFrontEnd.mfccZeroPoint,
        ]
        c.merge(stage) { a, _ in a }
        for (i, k) in ["OP_ADD_MA", "OP_ADD_EA", "OP_ADD_MB", "OP_ADD_EB", "OP_ADD_MO", "OP_ADD_EO"].enumerated() {
            c[k] = R.addParams + 4 * i
        }
        for (i, k) in ["OP_LEAKY_M_ID", "OP_LEAKY_E_ID", "OP_LEAKY_M_ALPHA", "OP_LEAKY_E_ALPHA"].enumerated() {
            c[k] = R.leakyParams + 4 * i
        }
        for (i, k) in ["OP_SOFTMAX_M", "OP_SOFTMAX_LEFT", "OP_SOFTMAX_DIFF_MIN"].enumerated() {
            c[k] = R.softmaxParams + 4 * i
        }
        for op in DeviceOp.allCases {
            c["OPCODE_\(op.name)"] = Int(op.rawValue)
            c["OPINPUTS_\(op.name)"] = op.arity
            c["OPPARAMS_\(op.name)"] = op.paramMask
        }
        return c
    }

    func decode(_ json: String, _ what: String) throws -> [String: Int] {
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return try XCTUnwrap(obj as? [String: Int], "\(what) did not print one JSON object of integers")
    }

    /// The record offsets, named once per language, are the same numbers in C, Python and Swift.
    func testFormatConstantsAgreeInCSwiftAndPython() throws {
        _ = try run(["make", "-s", "format-check"])
        let c = try decode(try run(["./tests/print_format"]), "print_format")
        let py = try decode(try run(["python3", "tests/kdc_format.py", "--json"]), "kdc_format.py")
        XCTAssertEqual(c, py, "C and Python disagree")
        let swift = Self.swiftConstants
        XCTAssertEqual(
            Set(swift.keys), Set(c.keys),
            "keys only in C: \(Set(c.keys).subtracting(swift.keys).sorted()); only in Swift: \(Set(swift.keys).subtracting(c.keys).sorted())"
        )
        for (k, v) in c.sorted(by: { $0.key < $1.key }) { XCTAssertEqual(swift[k], v, k) }
    }

    /// The Swift reader rejects exactly the artifacts the C runtime rejects: every row of the
    /// runtime's malformed-artifact table (as files, CRCs resealed so the structure is what is
    /// judged), its regression inputs, its fuzz seeds and the generated fuzz corpus.
    func testReaderAgreesWithTheRuntimeOnTheMalformedCorpus() throws {
        let dir = try ExportFixtures.tempDir("verdicts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try run(["make", "-s", "verdicts", "VERDICTS=" + dir])
        var verdicts = try parseIndex(try String(contentsOfFile: dir + "/index.tsv", encoding: .utf8), dir: dir)
        XCTAssertGreaterThan(verdicts.count, 100, "the corpus is too small")
        // The generated corpus (systematic corruptions of real artifacts), judged by the same program.
        let corpus = dir + "/corpus"
        _ = try run(["python3", "fuzz/gen_corpus.py", corpus])
        let files = try FileManager.default.subpathsOfDirectory(atPath: corpus).map { corpus + "/" + $0 }
            .filter { !$0.hasSuffix("/") && FileManager.default.fileExists(atPath: $0) }.sorted()
        _ = try run(["make", "-s", "tests/verdict"])
        for chunk in stride(from: 0, to: files.count, by: 500) {
            let part = Array(files[chunk..<min(chunk + 500, files.count)])
            verdicts += try parseIndex(try run([Self.runtime + "/tests/verdict"] + part), dir: nil)
        }
        var accepted = 0, disagree: [String] = []
        for (path, status) in verdicts {
            let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
            let swiftAccepts = (try? ArtifactReader.parse(bytes, file: path)) != nil
            if status == "KDC_OK" { accepted += 1 }
            if swiftAccepts != (status == "KDC_OK") {
                let why =
                    (try? ArtifactReader.parse(bytes, file: path)).map { _ in "accepted" }
                    ?? {
                        do { _ = try ArtifactReader.parse(bytes, file: path); return "" } catch { return "\(error)" }
                    }()
                disagree.append("\((path as NSString).lastPathComponent): C \(status), Swift \(why)")
            }
        }
        XCTAssertGreaterThan(accepted, 5, "some inputs must be valid")
        XCTAssertEqual(disagree, [], "\(disagree.count) of \(verdicts.count) disagree")
        print("verdicts: \(verdicts.count) files, \(accepted) accepted by both, \(disagree.count) disagreements")
    }

    /// `file<TAB>STATUS` lines; paths relative to `dir` when given.
    func parseIndex(_ text: String, dir: String?) throws -> [(String, String)] {
        try text.split(separator: "\n").map { line in
            let p = line.split(separator: "\t").map(String.init)
            guard p.count == 2, p[1].hasPrefix("KDC_") else {
                throw KDCError.format(file: "index", message: "bad line '\(line)'")
            }
            return (dir.map { $0 + "/" + p[0] } ?? p[0], p[1])
        }
    }
}

/// A process run to completion for the cross-check tests (stdout and stderr through files).
enum HostCheckProcess {
    static func run(_ args: [String], cwd: String) throws -> (status: Int32, out: String, err: String) {
        let dir = NSTemporaryDirectory() + "kdc-proc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/o", contents: nil)
        _ = FileManager.default.createFile(atPath: dir + "/e", contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/o"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/e"))
        try p.run()
        p.waitUntilExit()
        let read = { String(decoding: FileManager.default.contents(atPath: dir + "/" + $0) ?? Data(), as: UTF8.self) }
        return (p.terminationStatus, read("o"), read("e"))
    }
}
