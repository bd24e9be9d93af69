// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kdc",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "KDC", targets: ["KDC"]),
        .library(name: "KDCTarget", targets: ["KDCTarget"]),
        .executable(name: "kdc", targets: ["kdc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // zlib (Debian zlib1g-dev): deflate for artifacts, gzip for IDX files, crc32.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // OpenBLAS (Debian libopenblas-dev): cblas_sgemm for all matrix work.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        // Elementwise training kernels in C (they vectorize there; see kdc_kernels.h). Optimized and
        // without fused multiply-adds in every configuration, so debug and release agree bit for bit.
        .target(
            name: "CKDCKernels",
            path: "Sources/CKDCKernels",
            cSettings: [.unsafeFlags(["-O2", "-fno-math-errno", "-ffp-contract=off"])]
        ),
        // The target layer: builds and runs C programs on the host and on boards under QEMU, reads
        // their records, ELF files and call graphs. Knows nothing of models beyond their files.
        .target(name: "KDCTarget"),
        .target(
            name: "KDC",
            dependencies: [
                "KDCTarget", "CZlib", "COpenBLAS", "CKDCKernels", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "kdc",
            dependencies: ["KDC", "KDCTarget", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "KDCTests", dependencies: ["KDC", "KDCTarget"]),
        .testTarget(name: "KDCTargetTests", dependencies: ["KDCTarget"]),
    ],
    swiftLanguageModes: [.v5]
)
