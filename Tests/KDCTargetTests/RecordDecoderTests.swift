import Foundation
import XCTest

@testable import KDCTarget

/// The one decoder of the records the host harness, the firmware and the insncount plugin print.
final class RecordDecoderTests: XCTestCase {
    /// A firmware run as QEMU shows it, with a line of QEMU noise and an unknown record kind.
    static let firmware = """
        qemu-system-arm: warning: nic lan9118.0 has no peer
        {"record":"model","artifact_bytes":3200,"compressed":false,"arena_bytes":96,"unpack_bytes":0,"input_bytes":64,"output_bytes":10}
        {"record":"output","sample":0,"argmax":2,"bytes":"e7f148f0f080a32533e0"}
        {"record":"output","sample":1,"argmax":0,"bytes":"7F00"}
        {"record":"future_kind","x":1}
        {"record":"run","samples":2,"repeats":1}
        {"record":"memory","arena_bytes":96,"unpack_bytes":0,"data_bytes":0,"bss_bytes":400,"static_bytes":304,"stack_bytes":604,"stack_size":16384,"ram_bytes":1004}
        {"record":"done"}

        """

    func testDecodesEveryKindAndSkipsNoise() throws {
        let r = try RecordDecoder.decode(Self.firmware, source: "fw")
        XCTAssertEqual(
            r.model,
            ModelRecord(artifactBytes: 3200, compressed: false, arenaBytes: 96, unpackBytes: 0, inputBytes: 64, outputBytes: 10))
        XCTAssertEqual(r.outputs.count, 2)
        XCTAssertEqual(r.outputs[0].bytes, [-25, -15, 72, -16, -16, -128, -93, 37, 51, -32])
        XCTAssertEqual(r.outputs[0].argmax, 2)
        XCTAssertEqual(r.outputs[1].bytes, [127, 0])
        XCTAssertEqual(r.run, RunRecord(samples: 2, repeats: 1))
        XCTAssertEqual(r.memory?.ramBytes, 1004)
        XCTAssertEqual(r.memory?.stackBytes, 604)
        XCTAssertNil(r.timing)
        XCTAssertNil(r.error)
        XCTAssertTrue(r.done)
        XCTAssertEqual(try RecordDecoder.decodeFinished(Self.firmware, source: "fw", program: "fw", termination: .exited(0)), r)

        let host = """
            {"record":"model","artifact_bytes":2826,"compressed":true,"arena_bytes":96,"unpack_bytes":3200,"input_bytes":64,"output_bytes":10}
            {"record":"run","samples":359,"repeats":5}
            {"record":"timing","latency_ns_median":411,"latency_ns_min":380}
            {"record":"done"}
            """
        let h = try RecordDecoder.decode(host, source: "host")
        XCTAssertEqual(h.timing, TimingRecord(latencyNsMedian: 411, latencyNsMin: 380))
        XCTAssertEqual(h.model?.compressed, true)
        XCTAssertEqual(
            try RecordDecoder.decode(#"{"record":"instructions","count":3676499}"#, source: "log").instructions?.count, 3_676_499)
    }

    /// The `frontend` record of a PCM image (samples/firmware/main.c, FW_PCM); one per run.
    func testDecodesTheFrontEndRecord() throws {
        let line = #"{"record":"frontend","stream_bytes":3072,"scratch_bytes":1024,"frames":49}"#
        XCTAssertEqual(
            try RecordDecoder.decode(line, source: "fw").frontend,
            FrontEndRecord(streamBytes: 3072, scratchBytes: 1024, frames: 49))
        XCTAssertThrowsError(try RecordDecoder.decode(line + "\n" + line, source: "fw")) { e in
            XCTAssertTrue("\(e)".contains("a second 'frontend' record"), "\(e)")
        }
        XCTAssertThrowsError(try RecordDecoder.decode(#"{"record":"frontend","stream_bytes":1}"#, source: "fw")) { e in
            XCTAssertTrue("\(e)".contains("missing field 'scratch_bytes'"), "\(e)")
        }
    }

    /// The memory record's stream buffer part: present in the stream images' records, absent
    /// (nil) in records of firmware before it existed.
    func testMemoryRecordStreamPart() throws {
        let with =
            #"{"record":"memory","arena_bytes":2951,"unpack_bytes":0,"stream_bytes":3508,"data_bytes":0,"bss_bytes":7112,"static_bytes":653,"stack_bytes":1016,"stack_size":16384,"ram_bytes":8128}"#
        XCTAssertEqual(try RecordDecoder.decode(with, source: "fw").memory?.streamBytes, 3508)
        let without =
            #"{"record":"memory","arena_bytes":96,"unpack_bytes":0,"data_bytes":0,"bss_bytes":400,"static_bytes":304,"stack_bytes":604,"stack_size":16384,"ram_bytes":1004}"#
        XCTAssertNil(try RecordDecoder.decode(without, source: "fw").memory?.streamBytes)
        // FirmwareRAM in a report written before the stream part: 0.
        let old = #"{"arena_bytes":96,"unpack_bytes":0,"static_bytes":304,"stack_bytes":604,"total_bytes":1004}"#
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .convertFromSnakeCase
        let ram = try dec.decode(FirmwareRAM.self, from: Data(old.utf8))
        XCTAssertEqual(ram, FirmwareRAM(arenaBytes: 96, unpackBytes: 0, staticBytes: 304, stackBytes: 604))
        XCTAssertEqual(ram.streamBytes, 0)
    }

    /// Output records encode back to the same hex (lowercase).
    func testOutputRecordRoundTrips() throws {
        let o = OutputRecord(sample: 3, argmax: 1, bytes: [-128, 127, 0, -1])
        let json = String(decoding: try JSONEncoder().encode(o), as: UTF8.self)
        XCTAssertTrue(json.contains(#""bytes":"807f00ff""#), json)
        XCTAssertEqual(try JSONDecoder().decode(OutputRecord.self, from: Data(json.utf8)), o)
    }

    func testMalformedRecordsAreErrorsNamingTheLine() {
        let cases: [(String, String)] = [
            (#"{"record":"model","artifact_bytes":1}"#, "line 1: malformed 'model' record (missing field 'compressed')"),
            (#"{"record":"run","samples":"2","repeats":1}"#, "field 'samples' has the wrong type"),
            (#"{"record":"output","sample":0,"argmax":0,"bytes":"abc"}"#, "field 'bytes': expected an even number of hex digits"),
            (#"{"record":"output","sample":0,"argmax":0,"bytes":"zz"}"#, "malformed 'output' record"),
            (#"{"record":"done""#, "not a JSON object"),
            ("{\"kind\":\"done\"}", "without a string \"record\" field"),
            (#"{"record":7}"#, "without a string \"record\" field"),
            ("{\"record\":\"done\"}\n{\"record\":\"done\"}", "line 2: a second 'done' record"),
            (
                "x\n{\"record\":\"run\",\"samples\":1,\"repeats\":1}\n{\"record\":\"run\",\"samples\":1,\"repeats\":1}",
                "line 3: a second 'run' record"
            ),
        ]
        for (text, want) in cases {
            XCTAssertThrowsError(try RecordDecoder.decode(text, source: "fw.jsonl"), text) { e in
                XCTAssertTrue("\(e)".hasPrefix("fw.jsonl: "), "\(e)")
                XCTAssertTrue("\(e)".contains(want), "\(e) lacks '\(want)'")
            }
        }
    }

    func testAFinishedRunNeedsDoneExitZeroAndNoError() {
        let noDone = Self.firmware.replacingOccurrences(of: #"{"record":"done"}"#, with: "")
        XCTAssertThrowsError(try RecordDecoder.decodeFinished(noDone, source: "fw", program: "fw.elf", termination: .exited(0))) {
            e in
            XCTAssertTrue("\(e)".contains("fw: no 'done' record: the program stopped before its end"), "\(e)")
        }
        let failed = #"{"record":"error","what":"kdc_init","status":"body CRC mismatch"}"#
        XCTAssertThrowsError(try RecordDecoder.decodeFinished(failed, source: "fw", program: "fw.elf", termination: .exited(1))) {
            e in
            XCTAssertEqual(e as? TargetError, .programFailed(program: "fw.elf", what: "kdc_init", status: "body CRC mismatch"))
            XCTAssertEqual("\(e)", "fw.elf: kdc_init: body CRC mismatch")
        }
        XCTAssertThrowsError(
            try RecordDecoder.decodeFinished(
                Self.firmware, source: "fw", program: "qemu", termination: .signaled(9), otherOutput: "boom")
        ) { e in
            XCTAssertTrue("\(e)".contains("qemu: running it failed (killed by signal 9)"), "\(e)")
            XCTAssertTrue("\(e)".contains("boom"), "\(e)")
        }
        XCTAssertThrowsError(try RecordDecoder.decode("", source: "fw").require(nil as ModelRecord?, "model")) { e in
            XCTAssertEqual("\(e)", "fw: no 'model' record")
        }
    }
}
