import Foundation

/// One function on a call chain and the bytes of its stack frame.
public struct StackFrame: Codable, Equatable, Sendable {
    public var function: String
    public var bytes: Int

    public init(function: String, bytes: Int) {
        self.function = function
        self.bytes = bytes
    }
}

/// The deepest call chain below a root: `bytes` is the sum of the frames on `path` (root first).
public struct StackPath: Codable, Equatable, Sendable, CustomStringConvertible {
    public var bytes: Int
    public var path: [StackFrame]

    public init(bytes: Int, path: [StackFrame]) {
        self.bytes = bytes
        self.path = path
    }

    /// "Reset_Handler 8 → main 224 → kdc_invoke 288 = 520 B"
    public var description: String {
        path.map { "\($0.function) \($0.bytes)" }.joined(separator: " → ") + " = \(bytes) B"
    }
}

/// Worst-case stack depth of a bare-metal program, from what gcc and the linker produced:
///
/// - **Compiled code**: gcc's per-object call graphs (`-fcallgraph-info=su`, one `.ci` file per
///   object, VCG text): every function's frame size as gcc allocated it (`N bytes (static)`)
///   and the calls its final code makes (after inlining; builtins expanded inline are not
///   calls). The frame counts everything the function pushes and reserves.
/// - **Library code** compiled without them (newlib's `memcpy`, `memset`, `memcmp`): the linked
///   image's disassembly (`objdump -d`): the frame is the sum of every `push`/`stmdb sp!`/
///   `vpush`, `sub sp, #imm` and pre-indexed `[sp, #-n]!` store in the function (exact for a
///   single prologue, an upper bound otherwise), and its calls are its `bl`/`b` to other symbols.
///
/// The depth of a function is its frame plus the deepest of its callees'. Tail calls count as
/// calls (an upper bound by the caller's frame). Nothing is guessed; these are errors naming the
/// file and function: a frame gcc reports as dynamic (VLA, `alloca`) or gives no size for; a call
/// through a function pointer, unless the caller is listed in `indirectCalls` with the reason
/// (e.g. "the op callback is never set"); a callee defined in no `.ci` file and absent from the
/// image, called by a function that is not in the image either (called by one in the image,
/// the call is one gcc deleted after writing its call graph: the link would hold the callee); a
/// library function that calls through a register or moves `sp` in any other way; recursion. A library function's branch into another one's middle counts as a call of it.
public struct StackAnalysis {
    /// A function of the program: defined in a `.ci` file (`frame` from gcc) or in the image only.
    public struct Function: Equatable {
        /// gcc's node title: the assembler name, prefixed with the source path for static functions.
        public var title: String
        /// The function's name (assembler name, e.g. `kdc__dot2.constprop.0`).
        public var name: String
        public var frame: Int
        /// Titles of the functions it calls, in first-call order.
        public var callees: [String]
        /// It calls through a function pointer.
        public var indirect: Bool
        /// Where it came from: the `.ci` file, or the image.
        public var source: String
    }

    /// A call to leave out of a depth: `caller` never calls `callee` in the run analysed (e.g.
    /// `kdc_invoke` → a kernel of an op the model does not have). By function name.
    public struct Call: Hashable, Sendable {
        public var caller: String, callee: String
        public init(caller: String, callee: String) { self.caller = caller; self.callee = callee }
    }

    /// Functions defined in the `.ci` files, by title.
    public private(set) var functions: [String: Function] = [:]
    /// Their names (assembler names).
    private var compiledNames: Set<String> = []
    /// Function symbols of the image and their instructions (empty without an image).
    let image: [String: [Instruction]]
    let imagePath: String
    /// Function symbols of the image that objdump does not print because another one has the same
    /// address (libgcc's `__aeabi_uidiv` is `__udivsi3`), mapped to the printed one.
    let aliases: [String: String]
    let instructionSet: InstructionSet
    static let indirectTitle = "__indirect_call"

    /// How library functions' machine code (`objdump -d`) is read: the frame from the stack
    /// pointer moves, the callees from the branches. A new architecture adds a case and its reader
    /// (`libraryFunction`).
    public enum InstructionSet: String, Sendable, Equatable {
        /// Arm Thumb-2 (Cortex-M).
        case thumb
        /// RISC-V RV32 (with the C extension; objdump's aliases: `addi sp,sp,-16`, `call`, `ret`).
        case riscv
    }

    /// `callGraphs`: (path, text) of each `.ci` file; `disassembly`: `objdump -d` of the linked
    /// image at `imagePath` (for library functions), in `instructionSet`.
    /// - Throws: `TargetError.format` naming the `.ci` file for malformed text, a dynamic or
    ///   missing frame size, or a function defined twice.
    public init(
        callGraphs: [(path: String, text: String)], disassembly: String, imagePath: String,
        instructionSet: InstructionSet = .thumb
    ) throws {
        for (path, text) in callGraphs {
            for f in try Self.parseCallGraph(text, file: path) {
                if let old = functions[f.title] {
                    throw TargetError.format(
                        file: path,
                        message: "function '\(f.name)' is also defined in \(old.source); cannot tell which one is called")
                }
                functions[f.title] = f
            }
        }
        compiledNames = Set(functions.values.map(\.name))
        image = Self.parseDisassembly(disassembly)
        aliases = Self.aliases(of: image, imagePath: imagePath)
        self.imagePath = imagePath
        self.instructionSet = instructionSet
    }

    /// The names of the functions in the image.
    public var imageFunctions: Set<String> { Set(image.keys) }

    /// The deepest call chain from `root` (a title: the name of a global function), leaving out
    /// the calls in `dropping`. `indirectCalls`: functions whose call through a pointer is known
    /// not to happen (or to be accounted for elsewhere), with the reason; any other is an error.
    /// `indirectTargets`: functions whose call through a pointer is known to reach only the named
    /// functions (by name; e.g. `kdc_stream_run` → the program's stream callback): those count
    /// as its callees.
    /// - Throws: `TargetError.format` for an unknown root or callee, an unlisted indirect call, a
    ///   library function that cannot be sized, or recursion.
    public func deepest(
        from root: String, dropping: Set<Call> = [], indirectCalls: [String: String] = [:],
        indirectTargets: [String: [String]] = [:]
    ) throws -> StackPath {
        var memo: [String: StackPath] = [:]
        var library: [String: Function] = [:]
        var active: [String] = []

        func node(_ title: String, calledBy caller: Function?) throws -> Function {
            if let f = functions[title] ?? library[title] { return f }
            guard let insns = image[title] ?? aliases[title].flatMap({ image[$0] }) else {
                let who = caller.map { "\($0.name) calls '\(title)', which" } ?? "'\(title)'"
                throw TargetError.format(
                    file: caller?.source ?? imagePath,
                    message:
                        "\(who) is defined in no call-graph file and is not in the image \(imagePath); its stack cannot be sized")
            }
            let f: Function
            switch instructionSet {
            case .thumb: f = try Self.libraryFunction(title, insns, image: imagePath)
            case .riscv: f = try Self.riscvLibraryFunction(title, insns, image: imagePath)
            }
            library[title] = f
            return f
        }

        func depth(_ f: Function) throws -> StackPath {
            if let p = memo[f.title] { return p }
            if let i = active.firstIndex(of: f.title) {
                let cycle = (active[i...] + [f.title]).map { functions[$0]?.name ?? $0 }
                throw TargetError.format(
                    file: f.source, message: "recursion \(cycle.joined(separator: " → ")): the stack depth has no static bound")
            }
            var targets: [String] = []
            if f.indirect, let names = indirectTargets[f.name] {
                for n in names {
                    let titles = functions.values.filter { $0.name == n }.map(\.title)
                    guard titles.count == 1 else {
                        throw TargetError.format(
                            file: f.source,
                            message:
                                "\(f.name) calls '\(n)' through a function pointer, but \(titles.count) call-graph functions have that name; its stack cannot be sized"
                        )
                    }
                    targets += titles
                }
            }
            if f.indirect && indirectCalls[f.name] == nil && indirectTargets[f.name] == nil {
                throw TargetError.format(
                    file: f.source,
                    message:
                        "\(f.name) calls through a function pointer; the callee's stack cannot be sized from the call graph (hint: the analysis must be told why that call does not happen)"
                )
            }
            active.append(f.title)
            defer { active.removeLast() }
            var best = StackPath(bytes: 0, path: [])
            for t in f.callees + lateCalls(f) + targets {
                // gcc writes the call graph before its last RTL passes, which can delete a call
                // (on Armv6-M, a `%` whose libgcc helper `__aeabi_idivmod` is then never
                // called). A callee that no `.ci` file defines and the image does not hold,
                // called by a function the image does hold, is such a call: a static link
                // resolves every call the final code makes.
                if functions[t] == nil, image[t] == nil, aliases[t] == nil, image[f.name] != nil { continue }
                let c = try node(t, calledBy: f)
                if dropping.contains(Call(caller: f.name, callee: c.name)) { continue }
                let p = try depth(c)
                if p.bytes > best.bytes || best.path.isEmpty { best = p }
            }
            let p = StackPath(bytes: f.frame + best.bytes, path: [StackFrame(function: f.name, bytes: f.frame)] + best.path)
            memo[f.title] = p
            return p
        }

        return try depth(node(root, calledBy: nil))
    }

    /// Library functions a compiled function's machine code calls (`bl`) that its call graph
    /// does not list: helpers gcc emits after writing it (on Armv6-M, `__gnu_thumb1_case_uqi`
    /// for switch tables, which pushes a register). Calls of functions some `.ci` file defines
    /// are gcc's to list; none is added for those.
    func lateCalls(_ f: Function) -> [String] {
        guard functions[f.title] != nil, let insns = image[f.name] else { return [] }
        var out: [String] = []
        for i in insns where i.mnemonic == "bl" || i.mnemonic == "bl.w" {
            guard let lt = i.operands.firstIndex(of: "<"), let gt = i.operands.lastIndex(of: ">"), lt < gt else { continue }
            let target = String(i.operands[i.operands.index(after: lt)..<gt])
            if target.contains("+0x") || target == f.name || compiledNames.contains(target) { continue }
            if !f.callees.contains(target), !out.contains(target) { out.append(target) }
        }
        return out
    }

    // MARK: - gcc call graphs

    /// The functions a `.ci` file defines (VCG: `node:` and `edge:` lines, as gcc 10+ writes
    /// them for `-fcallgraph-info=su`).
    static func parseCallGraph(_ text: String, file: String) throws -> [Function] {
        var defined: [String: Function] = [:], order: [String] = []
        var edges: [(Int, String, String)] = []
        func fail(_ line: Int, _ message: String) -> TargetError {
            .format(file: file, message: "line \(line): \(message)")
        }
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces), n = i + 1
            if line.isEmpty || line == "}" || line.hasPrefix("graph:") { continue }
            let attrs = try attributes(line, fail: { fail(n, $0) })
            if line.hasPrefix("node:") {
                guard let title = attrs["title"], let label = attrs["label"] else {
                    throw fail(n, "node without title or label: \(line)")
                }
                // Declared here, not defined.
                if line.range(of: #"shape\s*:\s*ellipse"#, options: .regularExpression) != nil { continue }
                let parts = label.components(separatedBy: "\\n")
                guard let last = parts.last, parts.count >= 3,
                    let m = last.wholeMatch(of: #/([0-9]+) bytes \(([a-z,]+)\)/#), let bytes = Int(m.1)
                else {
                    throw fail(
                        n,
                        "function '\(title)' has no frame size (expected \"N bytes (static)\"; hint: compile with -fcallgraph-info=su)"
                    )
                }
                guard m.2 == "static" else {
                    throw fail(
                        n,
                        "function '\(parts[0])' has a \(m.2) stack frame (\(bytes) bytes plus what it allocates at run time: a variable-length array or alloca); its stack cannot be bounded statically"
                    )
                }
                if defined[title] != nil { throw fail(n, "function '\(title)' defined twice") }
                defined[title] = Function(title: title, name: parts[0], frame: bytes, callees: [], indirect: false, source: file)
                order.append(title)
            } else if line.hasPrefix("edge:") {
                guard let s = attrs["sourcename"], let t = attrs["targetname"] else {
                    throw fail(n, "edge without sourcename or targetname: \(line)")
                }
                edges.append((n, s, t))
            } else {
                throw fail(n, "not a VCG node or edge: \(line)")
            }
        }
        for (n, s, t) in edges {
            guard var f = defined[s] else { throw fail(n, "call from '\(s)', which this file does not define") }
            if t == indirectTitle { f.indirect = true } else if !f.callees.contains(t) { f.callees.append(t) }
            defined[s] = f
        }
        return order.compactMap { defined[$0] }
    }

    /// `key: "value"` pairs of one VCG line (values with `\"` escapes).
    static func attributes(_ line: String, fail: (String) -> TargetError) throws -> [String: String] {
        var out: [String: String] = [:]
        let c = Array(line)
        var i = 0
        while i < c.count {
            guard c[i] == "\"" else { i += 1; continue }
            // the key is the word before `: "`
            var k = i - 1
            while k >= 0 && c[k] == " " { k -= 1 }
            guard k >= 0, c[k] == ":" else { throw fail("a quoted value without a key: \(line)") }
            var ks = k - 1
            while ks >= 0 && (c[ks].isLetter || c[ks] == "_") { ks -= 1 }
            let key = String(c[(ks + 1)..<k])
            var v = "", j = i + 1, closed = false
            while j < c.count {
                if c[j] == "\\" && j + 1 < c.count && c[j + 1] == "\"" { v.append("\""); j += 2; continue }
                if c[j] == "\"" { closed = true; break }
                v.append(c[j]); j += 1
            }
            guard closed else { throw fail("unterminated string: \(line)") }
            out[key] = v
            i = j + 1
        }
        return out
    }

    // MARK: - machine code (library functions)

    struct Instruction: Equatable {
        var address: String, mnemonic: String, operands: String
    }

    /// Function symbols of the ELF file at `imagePath` (none if it cannot be read) at the first
    /// address of a function in `image` under another name: name → that function's name.
    static func aliases(of image: [String: [Instruction]], imagePath: String) -> [String: String] {
        guard let elf = try? ELFFile(path: imagePath) else { return [:] }
        var byAddress: [UInt64: String] = [:]
        for (name, insns) in image {
            if let a = insns.first.flatMap({ UInt64($0.address, radix: 16) }) { byAddress[a] = name }
        }
        var out: [String: String] = [:]
        for sym in elf.symbols where sym.type == 2 && image[sym.name] == nil {  // STT_FUNC
            // Thumb function symbols have bit 0 set.
            if let name = byAddress[sym.value & ~1] { out[sym.name] = name }
        }
        return out
    }

    /// `objdump -d` text → instructions per function symbol (data words left out).
    static func parseDisassembly(_ text: String) -> [String: [Instruction]] {
        var out: [String: [Instruction]] = [:]
        var current: String?
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if let m = line.wholeMatch(of: #/[0-9a-f]+ <(.+)>:/#) {
                let name = String(m.1)
                current = name
                out[name] = []
                continue
            }
            guard let f = current else { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count >= 3, fields[0].hasSuffix(":"), !fields[2].isEmpty, !fields[2].hasPrefix(".") else { continue }
            var ops = fields.count > 3 ? fields[3...].joined(separator: " ") : ""
            if let at = ops.firstIndex(of: "@") { ops = String(ops[..<at]) }
            if let semi = ops.firstIndex(of: ";") { ops = String(ops[..<semi]) }
            // RISC-V comments ("# 8000272c <name>"); Arm immediates have no space after '#'.
            if let hash = ops.range(of: "# ") { ops = String(ops[..<hash.lowerBound]) }
            out[f, default: []].append(
                Instruction(
                    address: String(fields[0].dropLast()), mnemonic: fields[2],
                    operands: ops.trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    /// Frame and callees of a function from its machine code (Thumb-2 as objdump prints it).
    static func libraryFunction(_ name: String, _ insns: [Instruction], image: String) throws -> Function {
        func fail(_ i: Instruction, _ why: String) -> TargetError {
            .format(
                file: image,
                message:
                    "library function \(name) at \(i.address): '\(i.mnemonic) \(i.operands)' \(why); its stack cannot be sized (it is not in any call-graph file)"
            )
        }
        guard !insns.isEmpty else {
            throw TargetError.format(
                file: image, message: "library function \(name) has no instructions in the disassembly; its stack cannot be sized"
            )
        }
        var frame = 0, callees: [String] = []
        let cond = "(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?"
        for i in insns {
            let base = i.mnemonic.replacingOccurrences(of: #"\.(n|w)$"#, with: "", options: .regularExpression)
            let ops = i.operands
            let first = ops.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if base.range(of: "^(b|bl|blx)\(cond)$", options: .regularExpression) != nil {
                guard let lt = ops.firstIndex(of: "<"), let gt = ops.lastIndex(of: ">"), lt < gt else {
                    throw fail(i, "calls through a register")
                }
                let target = String(ops[ops.index(after: lt)..<gt])
                // A branch into another function's middle (libgcc's Armv6-M `__aeabi_uidivmod`
                // → the divide-by-zero tail of `__udivsi3`) counts as a call of that whole
                // function: every push of it is summed, an upper bound of any entry point's.
                let callee = target.range(of: "+0x").map { String(target[..<$0.lowerBound]) } ?? target
                if callee != name, !callees.contains(callee) { callees.append(callee) }
            } else if base.range(of: "^bx\(cond)$", options: .regularExpression) != nil {
                if ops != "lr" { throw fail(i, "jumps through a register") }
            } else if base == "cbz" || base == "cbnz" {
                continue
            } else if base == "push" || ((base == "stmdb" || base == "stmfd") && first == "sp!") {
                frame += 4 * (try registerCount(ops, fail: { fail(i, $0) }))
            } else if base == "vpush" {
                let n = try registerCount(ops, fail: { fail(i, $0) })
                frame += (ops.contains("{d") ? 8 : 4) * n
            } else if base == "pop" || base == "vpop" || ((base == "ldmia" || base == "ldm" || base == "ldmfd") && first == "sp!")
            {
                continue  // releases (the frame counts the deepest point)
            } else if ops.contains("[sp, #-") && ops.hasSuffix("]!") && base.hasPrefix("str") {
                guard let m = ops.firstMatch(of: #/\[sp, #-([0-9]+)\]!/#), let n = Int(m.1) else {
                    throw fail(i, "cannot read the offset")
                }
                frame += n
            } else if ops.contains("[sp") && ops.contains("!") {
                throw fail(i, "moves sp by a writeback")
            } else if first == "sp" || first == "sp!" {
                let imm = ops.firstMatch(of: #/^sp, (?:sp, )?#([0-9]+)$/#).flatMap { Int($0.1) }
                if (base == "sub" || base == "subw"), let n = imm {
                    frame += n
                } else if (base == "add" || base == "addw"), imm != nil {
                    continue
                } else {
                    throw fail(i, "sets sp")
                }
            } else if base.hasPrefix("msr") && (ops.contains("msp") || ops.contains("psp")) {
                throw fail(i, "sets the stack pointer")
            } else if base.hasPrefix("ldr") && ops.firstMatch(of: #/^pc, \[sp\], #[0-9]+$/#) != nil {
                continue  // a return: pops the saved lr into pc, post-indexed (libgcc's soft-float `__aeabi_fcmp*`)
            } else if first == "pc" || (base.hasPrefix("ldm") && ops.contains("pc")) || (base.hasPrefix("ldr") && first == "pc") {
                throw fail(i, "jumps through a register or memory")
            }
        }
        return Function(title: name, name: name, frame: frame, callees: callees, indirect: false, source: image)
    }

    /// Frame and callees of a function from its RISC-V machine code (objdump's aliases). The frame
    /// is the sum of every `addi sp,sp,-n` (`add sp,sp,-n`, `c.addi16sp`, `c.addi` print the same); calls are
    /// `jal`/`call`/`j`/`tail` to other symbols; `ret` (`jalr zero,0(ra)`) returns.
    static func riscvLibraryFunction(_ name: String, _ insns: [Instruction], image: String) throws -> Function {
        func fail(_ i: Instruction, _ why: String) -> TargetError {
            .format(
                file: image,
                message:
                    "library function \(name) at \(i.address): '\(i.mnemonic) \(i.operands)' \(why); its stack cannot be sized (it is not in any call-graph file)"
            )
        }
        guard !insns.isEmpty else {
            throw TargetError.format(
                file: image, message: "library function \(name) has no instructions in the disassembly; its stack cannot be sized"
            )
        }
        var frame = 0, callees: [String] = []
        for i in insns {
            let m = i.mnemonic.hasPrefix("c.") ? String(i.mnemonic.dropFirst(2)) : i.mnemonic
            let ops = i.operands.replacingOccurrences(of: " ", with: "")
            let dest = ops.split(separator: ",").first.map(String.init) ?? ""
            if ["jal", "call", "j", "tail"].contains(m) || (m.hasPrefix("b") && ops.contains("<")) {
                guard let lt = ops.firstIndex(of: "<"), let gt = ops.lastIndex(of: ">"), lt < gt else {
                    if m.hasPrefix("b") { continue }
                    throw fail(i, "calls an address without a symbol")
                }
                let target = String(ops[ops.index(after: lt)..<gt])
                let callee = target.range(of: "+0x").map { String(target[..<$0.lowerBound]) } ?? target
                if callee != name, !callees.contains(callee) { callees.append(callee) }
            } else if m == "ret" {
                continue
            } else if m == "jalr" || m == "jr" {
                throw fail(i, "jumps through a register")
            } else if dest == "sp" {
                // binutils 2.40 prints `addi sp,sp,-16` as `add sp,sp,-16`.
                if ["addi", "add", "addi16sp"].contains(m), let n = Int(ops.split(separator: ",").last ?? ""),
                    ops.hasPrefix("sp,sp,") || m == "addi16sp"
                {
                    if n < 0 { frame += -n }
                } else {
                    throw fail(i, "sets sp")
                }
            }
        }
        return Function(title: name, name: name, frame: frame, callees: callees, indirect: false, source: image)
    }

    /// Registers in `{r4, r5, lr}` or `{d8-d15}`.
    static func registerCount(_ ops: String, fail: (String) -> TargetError) throws -> Int {
        guard let open = ops.firstIndex(of: "{"), let close = ops.firstIndex(of: "}"), open < close else {
            throw fail("has no register list")
        }
        var n = 0
        for item in ops[ops.index(after: open)..<close].split(separator: ",") {
            let r = item.trimmingCharacters(in: .whitespaces)
            if let m = r.wholeMatch(of: #/[a-z]+([0-9]+)-[a-z]+([0-9]+)/#), let a = Int(m.1), let b = Int(m.2), b >= a {
                n += b - a + 1
            } else if r.wholeMatch(of: #/[a-z]+[0-9]*/#) != nil {
                n += 1
            } else {
                throw fail("has a register list objdump does not print: \(r)")
            }
        }
        return n
    }
}
