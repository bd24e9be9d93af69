import Foundation

/// The runtime's op table (`runtime/src/kdc_ops.h`, the X-macro list `KDC_OP_TABLE`) as the
/// target layer reads it: for each op code, its name and the C function `kdc_invoke` calls for it.
/// The stack prediction keeps of `kdc_invoke`'s calls only the kernels of the ops a model has.
/// Read from the header's text (its line format is documented there and strict), so nothing here
/// repeats the runtime's table.
public struct KernelTable: Sendable, Equatable {
    /// One line of the table.
    public struct Entry: Sendable, Equatable {
        public var code: Int
        public var name: String
        public var inputs: Int
        /// Parameter words the op uses (bit i: record bytes 12 + 4i).
        public var params: Int
        public var constants: Bool
        /// The function `kdc_invoke` calls.
        public var kernel: String
    }

    /// The table's lines in op-code order.
    public var entries: [Entry]

    /// Reads `<runtimeDirectory>/src/kdc_ops.h`.
    /// - Throws: `TargetError.io` when it cannot be read, `.format` naming the line when a line of
    ///   the table is not `X(code, NAME, inputs, params, consts, same_q, kind, macs, kernel) \`.
    public static func load(runtimeDirectory: String) throws -> KernelTable {
        let path = runtimeDirectory + "/src/kdc_ops.h"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TargetError.io(path: path, message: "cannot read the runtime's op table")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses the op table out of the header text.
    public static func parse(_ text: String, file: String) throws -> KernelTable {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("#define KDC_OP_TABLE(X)") }) else {
            throw TargetError.format(file: file, message: "no '#define KDC_OP_TABLE(X)' line")
        }
        var entries: [Entry] = []
        var i = start + 1
        while i < lines.count, !lines[i].trimmingCharacters(in: .whitespaces).isEmpty {
            let line = lines[i].trimmingCharacters(in: .whitespaces)
            let body = line.hasSuffix(" \\") ? String(line.dropLast(2)) : line
            let fields =
                body.hasPrefix("X(") && body.hasSuffix(")")
                ? body.dropFirst(2).dropLast().components(separatedBy: ", ") : []
            guard fields.count == 9, let code = Int(fields[0]), let inputs = Int(fields[2]),
                fields[3].hasPrefix("0x"), let params = Int(fields[3].dropFirst(2), radix: 16),
                let consts = Int(fields[4]), !fields[8].isEmpty
            else {
                throw TargetError.format(
                    file: file,
                    message: "line \(i + 1): '\(line)' is not X(code, NAME, inputs, params, consts, same_q, kind, macs, kernel)")
            }
            entries.append(
                Entry(code: code, name: fields[1], inputs: inputs, params: params, constants: consts == 1, kernel: fields[8]))
            let last = !line.hasSuffix(" \\")
            i += 1
            if last { break }
        }
        guard !entries.isEmpty else { throw TargetError.format(file: file, message: "KDC_OP_TABLE has no lines") }
        return KernelTable(entries: entries)
    }

    /// Every op code the table knows, ascending.
    public var opCodes: [Int] { entries.map(\.code).sorted() }

    /// The functions `kdc_invoke` calls for `opCode`, nil for an op code it does not know.
    public func functions(opCode: Int) -> [String]? {
        entries.first { $0.code == opCode }.map { [$0.kernel] }
    }

    /// The functions `kdc_invoke` calls for any op code (every kernel).
    public var allFunctions: Set<String> { Set(entries.map(\.kernel)) }

    /// The functions `kdc_invoke` calls for a model with the ops `opCodes`.
    /// - Throws: `TargetError.invalidInput` for an op code the table does not know.
    public func functions(opCodes: Set<Int>) throws -> Set<String> {
        var out: Set<String> = []
        for code in opCodes.sorted() {
            guard let f = functions(opCode: code) else {
                throw TargetError.invalidInput(
                    what: "op codes",
                    message:
                        "op code \(code) is not one kdc_invoke runs (known: \(self.opCodes.map(String.init).joined(separator: ", ")))"
                )
            }
            out.formUnion(f)
        }
        return out
    }
}
