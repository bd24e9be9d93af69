import Foundation
import XCTest

@testable import KDCTarget

final class KernelTableTests: XCTestCase {
    static let runtime = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runtime").path

    /// The runtime's own op table (runtime/src/kdc_ops.h), read as text.
    func testReadsTheRuntimesOpTable() throws {
        let t = try KernelTable.load(runtimeDirectory: Self.runtime)
        XCTAssertEqual(t.opCodes, Array(1...9))
        XCTAssertEqual(try t.functions(opCodes: [1, 8]), ["kdc_fc_s8", "memcpy"])
        XCTAssertEqual(try t.functions(opCodes: []), [])
        XCTAssertEqual(t.allFunctions.count, 9)
        XCTAssertEqual(t.entries.first { $0.code == 7 }?.name, "ADD")
        XCTAssertEqual(t.entries.first { $0.code == 7 }?.inputs, 2)
        XCTAssertThrowsError(try t.functions(opCodes: [1, 42])) { e in
            XCTAssertEqual("\(e)", "op codes: op code 42 is not one kdc_invoke runs (known: 1, 2, 3, 4, 5, 6, 7, 8, 9)")
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
