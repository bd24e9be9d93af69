import Foundation
import XCTest

@testable import KDCTarget

final class KernelTableTests: XCTestCase {
    static let runtime = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runtime").path

    /// The runtime's own op table (runtime/src/kdc_ops.h), read as text.
    func testReadsTheRuntimesOpTable() throws {
        let t = try KernelTable.load(runtimeDirectory: Self.runtime)
        // Codes 1...n in order, n at least the nine ops the format started with (an op added
        // later needs no edit here), one kernel each.
        let n = t.entries.count
        XCTAssertGreaterThanOrEqual(n, 9)
        XCTAssertEqual(t.opCodes, Array(1...n))
        XCTAssertEqual(t.allFunctions.count, n)
        XCTAssertEqual(try t.functions(opCodes: [1, 8]), ["kdc_fc_s8", "memcpy"])
        XCTAssertEqual(try t.functions(opCodes: []), [])
        XCTAssertEqual(t.entries.first { $0.code == 7 }?.name, "ADD")
        XCTAssertEqual(t.entries.first { $0.code == 7 }?.inputs, 2)
        XCTAssertThrowsError(try t.functions(opCodes: [1, 42])) { e in
            let known = (1...n).map(String.init).joined(separator: ", ")
            XCTAssertEqual("\(e)", "op codes: op code 42 is not one kdc_invoke runs (known: \(known))")
        }
    }

    func testRejectsALineOutOfFormat() {
        let good =
            "#define KDC_OP_TABLE(X) \\\n    X(1, FC, 1, 0x0f0, 1, 0, FC, FC, kdc_fc_s8) \\\n    X(2, B, 1, 0x000, 0, 1, COPY, NONE, memcpy)\n\n"
        XCTAssertEqual(try KernelTable.parse(good, file: "t.h").entries.map(\.kernel), ["kdc_fc_s8", "memcpy"])
        for bad in [
            "#define KDC_OP_TABLE(X) \\\n    X(1, FC, 1, 0x0f0, 1, 0, FC, kdc_fc_s8)\n",  // 8 fields
            "#define KDC_OP_TABLE(X) \\\n    X(one, FC, 1, 0x0f0, 1, 0, FC, FC, kdc_fc_s8)\n",
            "#define KDC_OP_TABLE(X) \\\n    X(1, FC, 1, 240, 1, 0, FC, FC, kdc_fc_s8)\n",  // params not hex
            "nothing here\n",
        ] {
            XCTAssertThrowsError(try KernelTable.parse(bad, file: "t.h")) { e in
                XCTAssertTrue("\(e)".hasPrefix("t.h: "), "\(e)")
            }
        }
    }
}
