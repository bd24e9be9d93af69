import Foundation

/// What kdc found when it compared the teacher's outputs with the labels of the transfer rows
/// (`report.json` → `teacher_check`).
public struct TeacherCheck: Codable, Sendable, Equatable {
    /// `trained`, `checkpoint`, `logits` or `tflite`.
    public var source: String
    /// Fraction of labelled transfer rows whose teacher argmax equals the label; nil without labels.
    @NullEncodable public var agreement: Double?
    public var labelledRows: Int
    /// The share of the most common label among them (what a constant guess gets).
    public var chance: Double
    /// The hard-label baseline's validation accuracy, when it was trained before the check.
    @NullEncodable public var baselineValidationAccuracy: Double?
    /// The least agreement accepted.
    public var minAgreement: Double
    /// Where `minAgreement` comes from: `teacher.min_agreement` or the automatic rule.
    public var rule: String
    /// False for a teacher trained in this build (its rows cannot be out of order): reported only.
    public var enforced: Bool
    /// The file held probabilities (rows ≥ 0 summing to 1), or the `.tflite` teacher ends in
    /// SOFTMAX: converted to log-probabilities.
    public var probabilitiesConverted: Bool

    /// The automatic threshold: clearly above chance — twice the majority share c, or a quarter
    /// of the way from c to 1 when that is lower (two classes: 0.625 rather than 1) — and at
    /// least half the hard-label baseline's validation accuracy when it is known:
    /// `max(c + min(c, (1 − c)/4), 0.5 × baseline)`.
    public static func autoThreshold(chance c: Double, baselineValidation: Double?) -> Double {
        max(c + min(c, (1 - c) / 4), 0.5 * (baselineValidation ?? 0))
    }

    static let autoRule = "auto: max(chance + min(chance, (1 − chance)/4), 0.5 × baseline validation accuracy)"
}

/// Teacher outputs that are probabilities — every value ≥ 0 and every row summing to 1 within
/// 1e-3 — as log-probabilities (log max(p, 1e-30)), which softmax turns back into the same
/// distribution; nil when `t` does not look like probabilities.
public func logitsFromProbabilities(_ t: Tensor) -> Tensor? {
    let k = t.shape.last ?? 1
    guard k > 1, t.count > 0, t.data.allSatisfy({ $0 >= 0 }) else { return nil }
    for r in 0..<(t.count / k) {
        var s = 0.0
        for j in 0..<k { s += Double(t.data[r * k + j]) }
        guard abs(s - 1) <= 1e-3 else { return nil }
    }
    return Tensor(shape: t.shape, data: t.data.map { Foundation.log(max($0, 1e-30)) })
}

/// Checks a teacher's logits `[N, K]` for the transfer rows against their labels (−1:
/// unlabelled, skipped): the argmax must agree with the label on at least `minAgreement` of
/// the labelled rows (nil: `TeacherCheck.autoThreshold`). Rows in another order, shifted by a
/// few rows, or class columns in another order all fall to about chance. When `enforce`,
/// too little agreement throws `KDCError.format` naming `file`, the agreement, chance, the
/// baseline and the threshold, with how to line the rows up; otherwise it is only reported.
public func checkTeacherAgreement(
    _ logits: Tensor, labels: [Int32], source: String, file: String, minAgreement: Double?,
    baselineValidation: Double?, enforce: Bool, probabilitiesConverted: Bool = false
) throws -> TeacherCheck {
    let k = logits.shape.last ?? 1
    let pred = logits.argmaxRows()
    var counts = [Int](repeating: 0, count: k)
    var labelled = 0, agree = 0
    for (p, y) in zip(pred, labels) where y >= 0 {
        labelled += 1
        counts[Int(y)] += 1
        if p == Int(y) { agree += 1 }
    }
    let chance = labelled > 0 ? Double(counts.max()!) / Double(labelled) : 0
    let threshold = minAgreement ?? TeacherCheck.autoThreshold(chance: chance, baselineValidation: baselineValidation)
    let agreement = labelled > 0 ? Double(agree) / Double(labelled) : nil
    let check = TeacherCheck(
        source: source, agreement: agreement, labelledRows: labelled, chance: chance,
        baselineValidationAccuracy: baselineValidation, minAgreement: threshold,
        rule: minAgreement == nil ? TeacherCheck.autoRule : "teacher.min_agreement", enforced: enforce,
        probabilitiesConverted: probabilitiesConverted)
    guard enforce, let a = agreement, a < threshold else { return check }
    let pct = { (x: Double) in String(format: "%.1f%%", x * 100) }
    let baseline = baselineValidation.map { ", the hard-label baseline reaches \(pct($0)) on validation" } ?? ""
    let how =
        minAgreement == nil
        ? "max(chance + min(chance, (1 − chance)/4), half the baseline)" : "teacher.min_agreement"
    var message =
        "the teacher's \(source == "logits" ? "logits agree" : "outputs agree") with the labels on only \(pct(a)) of the \(labelled) "
        + "labelled transfer rows (chance \(pct(chance))\(baseline); at least \(pct(threshold)) is required: \(how))"
    if source == "logits" {
        message += "; the rows are probably not in the order of the transfer set"
        message += misalignmentHint(pred: pred, labels: labels, classes: k, agreement: a)
        message +=
            "; hint: write the rows kdc uses with `kdc data CONFIG --out DIR` (the split rows and their indices into "
            + "the original files, see docs/DATA.md) and compute the logits on them in that order, or give one row per "
            + "row of the original file; teacher.min_agreement: 0 turns this check off"
    } else {
        message +=
            "; the checkpoint was probably trained on other data or classes in another order; hint: train the teacher on "
            + "this data (teacher.layers) or pass the matching checkpoint; teacher.min_agreement: 0 turns this check off"
    }
    throw KDCError.format(file: file, message: message)
}

/// What the predictions say about how the rows or columns are off: a small row shift, or a
/// permutation of the class columns, when either would agree far better.
func misalignmentHint(pred: [Int], labels: [Int32], classes k: Int, agreement now: Double) -> String {
    let n = min(pred.count, labels.count)
    func shifted(_ s: Int) -> Double {
        var a = 0, m = 0
        for i in max(0, -s)..<min(n, n - s) where labels[i] >= 0 {
            m += 1
            if pred[i + s] == Int(labels[i]) { a += 1 }
        }
        return m > 0 ? Double(a) / Double(m) : 0
    }
    let shifts = [-3, -2, -1, 1, 2, 3].map { ($0, shifted($0)) }
    if let best = shifts.max(by: { $0.1 < $1.1 }), best.1 > max(0.5, 2 * now) {
        return String(
            format: " (row i%+d of the file agrees with the label of row i on %.1f%% of rows: the rows look shifted)",
            best.0, best.1 * 100)
    }
    // Confusion counts: for each label, the column predicted most often.
    var conf = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    var m = 0
    for (p, y) in zip(pred, labels) where y >= 0 {
        conf[Int(y)][p] += 1
        m += 1
    }
    let column = conf.map { row in row.indices.max { row[$0] < row[$1] }! }
    let mapped = zip(conf, column).reduce(0) { $0 + $1.0[$1.1] }
    let moved = column.indices.filter { column[$0] != $0 }
    guard m > 0, Set(column).count == k, !moved.isEmpty, Double(mapped) / Double(m) > max(0.5, 2 * now) else { return "" }
    let pairs = moved.prefix(6).map { "label \($0) → column \(column[$0])" }.joined(separator: ", ")
    let rate = String(format: "%.1f%%", Double(mapped) / Double(m) * 100)
    return " or its class columns are in another order (with \(pairs)\(moved.count > 6 ? ", …" : "") they would agree on \(rate))"
}
