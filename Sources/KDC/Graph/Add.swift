/// Elementwise sum of two inputs of the same shape (residual connections): y = a + b.
/// The backward pass hands the output gradient to both inputs. Shapes: `[S]`, `[S]` → `[S]`.
public final class AddLayer: Layer {
    public let name: String
    public let outputShape: [Int]

    /// Throws `KDCError.graph` naming the layer and both shapes when they differ.
    public init(name: String, inputShapes: [[Int]]) throws {
        try checkShape(inputShapes.count == 2, name, "add takes 2 inputs, got \(inputShapes.count)")
        try checkShape(
            inputShapes[0] == inputShapes[1], name,
            "add needs two inputs of the same shape, got \(inputShapes[0]) and \(inputShapes[1])")
        self.name = name
        outputShape = inputShapes[0]
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        var y = inputs[0]
        y.add(inputs[1])
        return y
    }

    public func backward(_ g: Tensor) -> [Tensor] { [g, g] }
}
