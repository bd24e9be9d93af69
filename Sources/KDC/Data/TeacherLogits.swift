import Foundation

/// Teacher logits from an NPY file, lined up with the transfer set.
///
/// The file is float32 (`<f4`) `[R, classes]`, finite, in one of two row conventions:
/// - R = `transfer.count`: row i belongs to transfer sample i (the samples `kdc data` writes as
///   `transfer_x.npy`, in that order);
/// - R = `transfer.origin.fileRows`: one row per row of the file the transfer samples come from
///   (for the default transfer set, the training file before any split), in file order; kdc picks
///   row `transfer.rows[i]` for sample i.
///
/// When the transfer set is its whole file the two are the same. Returns `[transfer.count,
/// classes]`, row i for transfer sample i. Throws `KDCError.data` naming `path`: for a wrong
/// shape, the message gives both accepted shapes and why each has that many rows.
public func alignTeacherLogits(_ path: String, transfer: Dataset, classes: Int) throws -> Tensor {
    let a = try readNPY(path)
    guard a.type == .float32 else {
        throw KDCError.data(
            file: path, message: "logits must be float32 (<f4), found \(a.type.rawValue); save them with x.astype(np.float32)")
    }
    let n = transfer.count
    let fileRows = transfer.origin.map(\.fileRows) ?? n
    guard a.shape.count == 2, a.shape[1] == classes, a.shape[0] == n || a.shape[0] == fileRows else {
        throw KDCError.data(
            file: path,
            message:
                "logits have shape \(a.shape); expected \(acceptedLogitsShapes(transfer: transfer, classes: classes)); "
                + "one column per class (data.classes: \(classes))")
    }
    guard a.values.allSatisfy({ $0.isFinite }) else { throw KDCError.data(file: path, message: "logits contain NaN or infinity") }
    if a.shape[0] == n { return Tensor(shape: [n, classes], data: a.values) }
    var picked = [Float](repeating: 0, count: n * classes)
    for (i, r) in transfer.rows.enumerated() {
        for j in 0..<classes { picked[i * classes + j] = a.values[r * classes + j] }
    }
    return Tensor(shape: [n, classes], data: picked)
}

/// The logits shapes `alignTeacherLogits` accepts for `transfer`, each with why it has that many
/// rows: "[1293, 10] (the 1,293 training rows after …: `kdc data` writes them) or [1797, 10]
/// (every row of digits.csv.gz, in file order; kdc picks the training rows)".
public func acceptedLogitsShapes(transfer: Dataset, classes: Int) -> String {
    let n = transfer.count
    guard let o = transfer.origin else { return "[\(n), \(classes)] (one row per transfer sample)" }
    let file = (o.file as NSString).lastPathComponent
    if o.fileRows == n {
        return "[\(n), \(classes)] (every row of \(file), in file order: the \(rowsNoun(transfer)) set is the whole file)"
    }
    return "[\(n), \(classes)] (\(describeRows(transfer)): `kdc data` writes them, in this order) or "
        + "[\(o.fileRows), \(classes)] (every row of \(file), in file order; kdc picks the \(rowsNoun(transfer)) rows)"
}

/// "the 1,293 training rows after the 20% test and 10% validation split, seed 0".
public func describeRows(_ d: Dataset) -> String {
    var s = "the \(groupedThousands(d.count)) \(rowsNoun(d)) rows"
    if let o = d.origin {
        s += o.selection.isEmpty ? " (every row of \((o.file as NSString).lastPathComponent))" : " " + o.selection
    }
    return s
}

/// "training" for the split named "train", else the name ("validation", "test", "transfer").
func rowsNoun(_ d: Dataset) -> String { d.name == "train" ? "training" : d.name }

/// 1293 → "1,293".
func groupedThousands(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}

/// Reads teacher logits: a float32 NPY `[count, classes]` (one row per sample, in order).
public func readLogits(_ path: String, count: Int, classes: Int) throws -> [Float] {
    let d = Dataset(name: "transfer", sampleShape: [0], x: [], labels: [Int32](repeating: -1, count: count), numClasses: classes)
    return try alignTeacherLogits(path, transfer: d, classes: classes).data
}
