/// How activation ranges are chosen from calibration data (see docs/QUANTIZATION.md).
/// - `minmax`: the observed minimum and maximum of each tensor.
/// - `percentile`: the `p`-th and `(100 − p)`-th percentiles of the observed values.
/// - `mse`: the clipping range (the min/max range shrunk by a factor from a grid) whose
///   quantization mean squared error over the observed values is smallest.
/// Every range is widened to include 0.
public enum CalibrationMethod: String, Codable, Sendable, CaseIterable {
    case minmax, percentile, mse
}
