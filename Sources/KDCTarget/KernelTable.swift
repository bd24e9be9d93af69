/// The C functions `kdc_invoke` calls for each op code of the runtime (`KDC_OP_*` in
/// `runtime/include/kdc.h`): what the stack prediction keeps of `kdc_invoke`'s calls for the ops a
/// model has.
///
/// Interim copy: this table repeats the switch in `kdc_invoke` (`runtime/src/kdc_model.c`). The
/// runtime is getting one X-macro op table in an internal header listing these functions per op
/// code; when it lands, `functions(opCode:)` reads that table and this dictionary goes away.
/// Everything else asks through `functions(opCode:)` / `functions(opCodes:)`.
public enum KernelTable {
    static let table: [Int: [String]] = [
        1: ["kdc_fc_s8"],  // KDC_OP_FULLY_CONNECTED
        2: ["kdc_conv2d_s8"],  // KDC_OP_CONV_2D
        3: ["kdc_dwconv2d_s8"],  // KDC_OP_DEPTHWISE_CONV_2D
        4: ["kdc_maxpool_s8"],  // KDC_OP_MAX_POOL_2D
        5: ["kdc_avgpool_s8"],  // KDC_OP_AVERAGE_POOL_2D
        6: ["kdc_global_avgpool_s8"],  // KDC_OP_GLOBAL_AVERAGE_POOL
        7: ["kdc_add_s8"],  // KDC_OP_ADD
        // KDC_OP_RESHAPE: memcpy only when the output does not alias the input, which kdc's
        // memory plan never does; kept when a model has the op (an upper bound).
        8: ["memcpy"],
        9: ["kdc_clamp_s8"],  // KDC_OP_CLAMP
    ]

    /// Every op code the table knows, ascending.
    public static var opCodes: [Int] { table.keys.sorted() }

    /// The functions `kdc_invoke` calls for `opCode`, nil for an op code it does not know.
    public static func functions(opCode: Int) -> [String]? { table[opCode] }

    /// The functions `kdc_invoke` calls for any op code (every kernel).
    public static var allFunctions: Set<String> { Set(table.values.joined()) }

    /// The functions `kdc_invoke` calls for a model with the ops `opCodes`.
    /// - Throws: `TargetError.invalidInput` for an op code the table does not know.
    public static func functions(opCodes: Set<Int>) throws -> Set<String> {
        var out: Set<String> = []
        for code in opCodes.sorted() {
            guard let f = functions(opCode: code) else {
                throw TargetError.invalidInput(
                    what: "op codes",
                    message:
                        "op code \(code) is not one kdc_invoke runs (known: \(KernelTable.opCodes.map(String.init).joined(separator: ", ")))"
                )
            }
            out.formUnion(f)
        }
        return out
    }
}
