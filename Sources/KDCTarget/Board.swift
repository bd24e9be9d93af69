import Foundation

/// A board kdc runs firmware on under QEMU, as data: the CPU flags, the cross toolchain, the
/// QEMU machine, the memory map the linker script places code and data in, and the startup file.
/// Adding a target is adding one of these (plus, for a new architecture, its startup file and
/// the library-function reader of `StackAnalysis`).
///
/// These values are the one source of the boards' compiler, linker and QEMU flags:
/// `samples/firmware/boards/<name>/` holds them for `make` (`makeFragment()`, `memoryScript()`),
/// generated from here and checked equal by a test.
public struct Board: Sendable, Equatable {
    /// A region of the memory map (`MEMORY` in the linker script).
    public struct MemoryRegion: Sendable, Equatable {
        /// `FLASH` (code and constants) or `RAM` (data, bss, stack): the names `link.ld` uses.
        public var name: String
        /// Linker attributes: "rx", "rwx".
        public var attributes: String
        public var origin: UInt64
        public var length: UInt64
    }

    /// A GNU cross toolchain: `<prefix>gcc`, `<prefix>objdump`, …
    public struct Toolchain: Sendable, Equatable {
        public var prefix: String
        /// Linker flags choosing the C library (newlib-nano, picolibc, …).
        public var libraryFlags: [String]
        /// Debian packages of the toolchain and its C library.
        public var packages: [String]
        public var cc: String { prefix + "gcc" }
        public var objdump: String { prefix + "objdump" }
    }

    /// "cortex-m4": the `--firmware` value.
    public var name: String
    /// `-mcpu=cortex-m4 -mthumb`: compiling and linking.
    public var cpuFlags: [String]
    public var toolchain: Toolchain
    /// The QEMU system emulator, its machine and its other arguments (no semihosting, no kernel).
    public var qemu: String
    public var machine: String
    public var qemuArguments: [String]
    /// Debian package of `qemu`.
    public var qemuPackage: String
    /// The text before the stack pointer's hex value in QEMU's `-d cpu` register dump.
    public var stackPointerKey: String
    public var memory: [MemoryRegion]
    /// Files of the firmware folder: startup code (vector table, reset handler, semihosting) and
    /// the linker script (which INCLUDEs `memory.ld`).
    public var startupFile: String
    public var linkerScript: String
    /// The function the stack analysis starts from (the reset vector).
    public var resetFunction: String
    /// Stack region bytes (`STACK_SIZE`).
    public var stackSize: Int
    /// How `objdump -d` of library functions is read by the stack analysis.
    public var instructionSet: StackAnalysis.InstructionSet
    /// The runtime's kernel variant this board's compiler selects (`runtime/src/kdc_kernels.h`,
    /// from the architecture macros): "mve" where `__ARM_FEATURE_MVE` is defined, "dsp" where only
    /// `__ARM_FEATURE_DSP` is, else
    /// "portable". A firmware build reserves that variant's kernel scratch
    /// (`KernelScratch.Variant(board:)`): the one place a board's variant is written.
    public var kernelVariant: String

    /// Whether the firmware's painted stack high-water mark is the lowest stack pointer. On the
    /// Cortex-M boards it is (the deepest frame is a leaf that pushes registers). RISC-V frames are
    /// 16-byte aligned and the deepest one's bottom words can be reserved and never written, so
    /// the painted mark can be up to 12 bytes short: there `FirmwareCheck` measures the stack from
    /// the CPU (the lowest SP in QEMU's register dumps) instead.
    public var paintedStackIsExact: Bool { instructionSet == .thumb }

    /// "cortex-m4 (qemu mps2-an386)".
    public var description: String { "\(name) (qemu \(machine))" }

    /// Every Debian package the board needs.
    public var packages: [String] { toolchain.packages + [qemuPackage] }

    /// Flags of every firmware object: -Os, one section per function and object (so
    /// `--gc-sections` drops what is not called), and gcc's call graphs with frame sizes
    /// (`-fcallgraph-info=su` writes `<object>.ci`; the code is byte for byte the same without it).
    public var compileFlags: [String] {
        cpuFlags + [
            "-Os", "-g", "-ffunction-sections", "-fdata-sections", "-std=c99", "-Wall", "-Wextra", "-Werror",
            "-fcallgraph-info=su",
        ]
    }

    /// Flags of the link, before the linker script, the stack size and the outputs.
    public var linkFlags: [String] { cpuFlags + toolchain.libraryFlags + ["-nostartfiles", "-Wl,--gc-sections"] }

    /// QEMU mps2-an386: a Cortex-M4 (soft float here) with 4 MB of SSRAM at 0 (code) and 4 MB at
    /// 0x20000000 (data) (ARM AN386, QEMU hw/arm/mps2.c).
    public static let cortexM4 = cortexM(
        "cortex-m4", machine: "mps2-an386", flash: (0x0000_0000, 4 << 20), ram: (0x2000_0000, 4 << 20),
        kernels: "dsp")

    /// An Arm Cortex-M board of QEMU's Arm emulator (`qemu-system-arm`), with arm-none-eabi-gcc
    /// and newlib-nano, the firmware folder's `startup.c` and `link.ld` (semihosting through
    /// `bkpt 0xab`).
    static func cortexM(
        _ name: String, machine: String, flash: (origin: UInt64, length: UInt64), ram: (origin: UInt64, length: UInt64),
        extraFlags: [String] = [], stackSize: Int = 0x4000, kernels: String = "portable"
    ) -> Board {
        Board(
            name: name, cpuFlags: ["-mcpu=" + name, "-mthumb"] + extraFlags,
            toolchain: Toolchain(
                prefix: "arm-none-eabi-", libraryFlags: ["--specs=nano.specs"],
                packages: ["gcc-arm-none-eabi", "libnewlib-arm-none-eabi"]),
            qemu: "qemu-system-arm", machine: machine,
            qemuArguments: ["-M", machine, "-nographic", "-monitor", "none", "-serial", "none"],
            qemuPackage: "qemu-system-arm", stackPointerKey: "R13=",
            memory: [
                MemoryRegion(name: "FLASH", attributes: "rx", origin: flash.origin, length: flash.length),
                MemoryRegion(name: "RAM", attributes: "rwx", origin: ram.origin, length: ram.length),
            ],
            startupFile: "startup.c", linkerScript: "link.ld", resetFunction: "Reset_Handler", stackSize: stackSize,
            instructionSet: .thumb, kernelVariant: kernels)
    }

    /// QEMU mps2-an385: a Cortex-M3 (Armv7-M: no DSP instructions, no FPU), the same memory map
    /// as the AN386: 4 MB of SSRAM at 0 (code), 4 MB at 0x20000000 (data) (QEMU hw/arm/mps2.c,
    /// checked with `info mtree`).
    public static let cortexM3 = cortexM(
        "cortex-m3", machine: "mps2-an385", flash: (0x0000_0000, 4 << 20), ram: (0x2000_0000, 4 << 20))

    /// QEMU mps2-an500: a Cortex-M7 (soft float here), SSRAM1 4 MB at 0 (code), SSRAM2/3 4 MB at
    /// 0x20000000 (data) (`info mtree`).
    public static let cortexM7 = cortexM(
        "cortex-m7", machine: "mps2-an500", flash: (0x0000_0000, 4 << 20), ram: (0x2000_0000, 4 << 20),
        kernels: "dsp")

    /// QEMU mps2-an505: a Cortex-M33 (Armv8-M Mainline with the Security Extension; soft float
    /// here). It boots in the Secure state with the secure vector table at 0x10000000, and the
    /// firmware stays there: code in SSRAM1 through its secure alias (4 MB at 0x10000000), data
    /// in SSRAM2/3 through theirs (4 MB at 0x38000000); the memory protection controllers in
    /// front of them reset to "secure" for every block, and with the SAU disabled all memory is
    /// Secure (`info mtree`, QEMU hw/arm/mps2-tz.c).
    public static let cortexM33 = cortexM(
        "cortex-m33", machine: "mps2-an505", flash: (0x1000_0000, 4 << 20), ram: (0x3800_0000, 4 << 20),
        kernels: "dsp")

    /// QEMU mps3-an547: a Cortex-M55 (Armv8.1-M with Helium, the SSE-300 subsystem), booting in
    /// the Secure state. Code in the ITCM's secure alias (512 KB at 0x10000000, the same memory
    /// as 0x00000000), data in the DTCM's (512 KB at 0x30000000). `-mfloat-abi=softfp`: the soft
    /// float calling convention of the other boards, with the FPU and Helium (MVE) instructions
    /// available to the compiler; newlib-nano's multilib for it is `thumb/v8-m.main+dp/softfp`
    /// (the only MVE multilib, `v8.1-m.main+mve`, is hard float). The startup code enables the
    /// FPU (CPACR) before any other code runs.
    public static let cortexM55 = cortexM(
        "cortex-m55", machine: "mps3-an547", flash: (0x1000_0000, 512 << 10), ram: (0x3000_0000, 512 << 10),
        extraFlags: ["-mfloat-abi=softfp"], kernels: "mve")

    /// QEMU microbit: an nRF51822, a Cortex-M0 (Armv6-M: no divide instruction, no DSP, the
    /// instruction set of the M0+ too), 256 KB of flash at 0 and 16 KB of RAM at 0x20000000: the
    /// smallest class of device. The stack region is 4 KB (the deepest chain of the firmware is
    /// about 2 KB, inflating a compressed artifact).
    public static let cortexM0 = cortexM(
        "cortex-m0", machine: "microbit", flash: (0x0000_0000, 256 << 10), ram: (0x2000_0000, 16 << 10), stackSize: 0x1000)

    /// QEMU virt (`qemu-system-riscv32`, `-bios none`: no OpenSBI, the CPU starts at the DRAM's
    /// base 0x80000000) running rv32imc code (`-march=rv32imc -mabi=ilp32`; picolibc's
    /// `rv32im/ilp32` multilib). Its 128 MB of DRAM is split into 4 MB of "flash" at 0x80000000
    /// (code and constants, `_start` first) and 4 MB of RAM at 0x80400000. picolibc's specs are
    /// in the CPU flags: compiling needs its headers, linking its library. Own startup file
    /// (`_start` sets sp and gp) and linker script (small data in .data/.bss); semihosting through
    /// the RISC-V `ebreak` sequence.
    public static let riscv32 = Board(
        name: "riscv32", cpuFlags: ["-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs"],
        toolchain: Toolchain(
            prefix: "riscv64-unknown-elf-", libraryFlags: [],
            packages: ["gcc-riscv64-unknown-elf", "picolibc-riscv64-unknown-elf"]),
        qemu: "qemu-system-riscv32", machine: "virt",
        qemuArguments: ["-M", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "none"],
        qemuPackage: "qemu-system-misc", stackPointerKey: "x2/sp    ",
        memory: [
            MemoryRegion(name: "FLASH", attributes: "rx", origin: 0x8000_0000, length: 4 << 20),
            MemoryRegion(name: "RAM", attributes: "rwx", origin: 0x8040_0000, length: 4 << 20),
        ],
        startupFile: "startup-riscv.c", linkerScript: "link-riscv.ld", resetFunction: "Reset_Handler", stackSize: 0x4000,
        instructionSet: .riscv, kernelVariant: "portable")

    /// All boards of the Cortex-M family: the M4 first (the default).
    static let cortexMBoards: [Board] = [.cortexM4, .cortexM3, .cortexM7, .cortexM33, .cortexM55, .cortexM0]

    /// Every board, by `--firmware` name.
    public static let all: [Board] = cortexMBoards + [.riscv32]

    /// The board named `name`.
    /// - Throws: `TargetError.invalidInput` listing the boards for an unknown name.
    public static func named(_ name: String) throws -> Board {
        guard let b = all.first(where: { $0.name == name }) else {
            throw TargetError.invalidInput(
                what: "firmware target", message: "no board '\(name)'; expected one of \(all.map(\.name).joined(separator: ", "))"
            )
        }
        return b
    }

    /// Bytes of the memory region named `name` (`FLASH`, `RAM`), 0 if the board has none.
    public func regionBytes(_ name: String) -> Int {
        memory.filter { $0.name == name }.reduce(0) { $0 + Int(clamping: $1.length) }
    }

    /// Checks, before anything is built, that a model fits the board: RAM for the arena, the
    /// unpack buffer and the fixed stack region (`stackSize`); flash for the artifact the image
    /// holds and the embedded inputs. These are lower bounds (the program's code and static data
    /// come on top), so a model that passes can still fail to link, but one that fails here
    /// never fits.
    /// - Throws: `TargetError.invalidInput` naming the model, the board and the byte counts.
    public func checkFits(model: String, arenaBytes: Int, unpackBytes: Int, artifactBytes: Int, inputBytes: Int) throws {
        let ram = regionBytes("RAM"), flash = regionBytes("FLASH")
        let needRAM = arenaBytes + unpackBytes + stackSize, needFlash = artifactBytes + inputBytes
        var problems: [String] = []
        if needRAM > ram {
            problems.append(
                "RAM: it needs at least \(needRAM) bytes (arena \(arenaBytes) + unpack buffer \(unpackBytes) + stack region \(stackSize)), the board has \(ram)"
            )
        }
        if needFlash > flash {
            problems.append(
                "flash: it needs at least \(needFlash) bytes (artifact \(artifactBytes) + inputs \(inputBytes)), the board has \(flash)"
            )
        }
        guard problems.isEmpty else {
            throw TargetError.invalidInput(
                what: "firmware target \(name)",
                message: "model '\(model)' does not fit \(description): " + problems.joined(separator: "; "))
        }
    }

    // MARK: - files for make

    /// `memory.ld`: the `MEMORY` block of the memory map (and the default stack size) that
    /// `linkerScript` INCLUDEs.
    public func memoryScript() -> String {
        var s =
            "/* memory.ld - \(description) memory map; generated by kdc from its board \"\(name)\" (Board.all, Sources/KDCTarget/Board.swift). */\n"
        s += "MEMORY\n{\n"
        for r in memory {
            s += "    \(r.name.padding(toLength: 5, withPad: " ", startingAt: 0)) (\(r.attributes))"
            s += String(repeating: " ", count: max(1, 5 - r.attributes.count))
            s += ": ORIGIN = 0x\(String(format: "%08llx", r.origin)), LENGTH = \(Self.size(r.length))\n"
        }
        s += "}\n\nSTACK_SIZE = DEFINED(STACK_SIZE) ? STACK_SIZE : 0x\(String(stackSize, radix: 16));\n"
        return s
    }

    /// `board.mk`: the make variables `samples/firmware/Makefile` builds and runs with.
    public func makeFragment() -> String {
        func q(_ a: [String]) -> String { a.joined(separator: " ") }
        return """
            # board.mk - \(description); generated by kdc from its board "\(name)" (Board.all, Sources/KDCTarget/Board.swift); do not edit.
            # Regenerate: KDC_UPDATE_BOARD_FILES=1 swift test --filter BoardFilesTests
            CROSS := \(toolchain.prefix)
            CFLAGS := \(q(compileFlags))
            LDFLAGS := \(q(linkFlags))
            STARTUP := \(startupFile)
            LINKER_SCRIPT := \(linkerScript)
            STACK_SIZE ?= 0x\(String(stackSize, radix: 16))
            QEMU := \(qemu)
            QEMU_ARGS := \(q(qemuArguments))
            SP_KEY := \(stackPointerKey)

            """
    }

    static func size(_ n: UInt64) -> String {
        if n % (1 << 20) == 0 { return "\(n >> 20)M" }
        if n % (1 << 10) == 0 { return "\(n >> 10)K" }
        return "\(n)"
    }
}
