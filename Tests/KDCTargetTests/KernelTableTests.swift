import XCTest

@testable import KDCTarget

final class KernelTableTests: XCTestCase {
    func testOpCodesMapToKernels() throws {
        XCTAssertEqual(KernelTable.opCodes, Array(1...9))
        XCTAssertEqual(try KernelTable.functions(opCodes: [1, 8]), ["kdc_fc_s8", "memcpy"])
        XCTAssertEqual(try KernelTable.functions(opCodes: []), [])
        XCTAssertEqual(KernelTable.allFunctions.count, 9)
        XCTAssertThrowsError(try KernelTable.functions(opCodes: [1, 42])) { e in
            XCTAssertEqual("\(e)", "op codes: op code 42 is not one kdc_invoke runs (known: 1, 2, 3, 4, 5, 6, 7, 8, 9)")
        }
    }
}
