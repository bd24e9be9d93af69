import Foundation
import XCTest

@testable import KDCTarget

/// The host build's kernel variant: `-mavx2 -mfma` exactly where the CPU lists both.
final class HostKernelsTests: XCTestCase {
    func testCpuinfoFlagsParsing() {
        let avx2 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx fma avx2 bmi2\n\nprocessor\t: 1\n"
        XCTAssertTrue(HostTarget.cpuinfoHasAVX2(avx2))
        XCTAssertFalse(HostTarget.cpuinfoHasAVX2("flags\t\t: fpu sse2 avx fma\n"), "no avx2")
        XCTAssertFalse(HostTarget.cpuinfoHasAVX2("flags\t\t: fpu sse2 avx avx2\n"), "no fma")
        XCTAssertFalse(HostTarget.cpuinfoHasAVX2("flags\t\t: avx2x fmax\n"), "whole words only")
        XCTAssertFalse(HostTarget.cpuinfoHasAVX2("processor : 0\n"), "no flags line")
    }

    func testFlagsFollowTheCPU() {
        let t = HostTarget(scratch: NSTemporaryDirectory())
        XCTAssertEqual(t.flags.contains("-mavx2"), HostTarget.hasAVX2)
        XCTAssertEqual(t.flags.contains("-mfma"), HostTarget.hasAVX2)
        XCTAssertEqual(t.kernelVariant, HostTarget.hasAVX2 ? "avx2" : "portable")
        #if arch(x86_64) && os(Linux)
            let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
            if ProcessInfo.processInfo.environment["KDC_HOST_KERNELS"] != "portable" {
                XCTAssertEqual(HostTarget.hasAVX2, HostTarget.cpuinfoHasAVX2(info))
            }
        #endif
        print("host kernels: \(t.kernelVariant) (flags \(t.flags.joined(separator: " ")))")
    }
}
