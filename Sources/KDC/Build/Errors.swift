/// Every error kdc's library throws. Each says where (file, key, layer) and,
/// where one helps, ends with a hint. Only the CLI prints and exits.
public enum KDCError: Error, CustomStringConvertible, Equatable {
    /// A config file problem: `key` is the dotted path (e.g. `teacher.layers[2].units`).
    case config(file: String, key: String, message: String)
    /// A data file problem.
    case data(file: String, message: String)
    /// A model graph problem (shapes, unknown inputs, ...), naming the layer.
    case graph(layer: String, message: String)
    /// Reading or writing a file failed.
    case io(path: String, message: String)
    /// Training stopped (for example a NaN loss).
    case training(message: String)
    /// A checkpoint, artifact or logits file is malformed or does not match.
    case format(file: String, message: String)
    /// The model does not fit the device budget or another limit.
    case budget(message: String)
    /// A check of the built model failed: the C runtime (host or device) differs from the Swift
    /// int8 reference, or the device used other RAM than predicted. The CLI exits with 2.
    case check(message: String)

    public var description: String {
        switch self {
        case let .config(file, key, message): return key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)"
        case let .data(file, message): return "\(file): \(message)"
        case let .graph(layer, message): return "layer '\(layer)': \(message)"
        case let .io(path, message): return "\(path): \(message)"
        case let .training(message): return message
        case let .format(file, message): return "\(file): \(message)"
        case let .budget(message): return message
        case let .check(message): return message
        }
    }
}
