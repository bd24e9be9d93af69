/// A learnable (or, for batch-norm statistics, tracked) array of a layer.
public final class Parameter {
    /// `layer.role`, e.g. `dense0.weight`; the checkpoint key.
    public let name: String
    public var value: Tensor
    /// Gradient accumulated by `backward` (same shape as `value`).
    public var grad: Tensor
    /// False for running statistics, which the optimizer leaves alone.
    public let trainable: Bool
    /// Whether weight decay applies (weights yes; biases and batch-norm parameters no).
    public let decays: Bool

    public init(name: String, value: Tensor, trainable: Bool = true, decays: Bool = false) {
        self.name = name
        self.value = value
        self.grad = Tensor(shape: value.shape)
        self.trainable = trainable
        self.decays = decays
    }

    /// Sets the gradient to zero.
    public func zeroGrad() {
        grad.data.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// What a layer needs to know about the current pass.
public struct PassContext {
    /// Training mode: dropout active, batch-norm uses batch statistics and updates running ones.
    public var training: Bool
    /// Source of randomness for dropout.
    public var rng: SeededRNG
    public init(training: Bool, rng: SeededRNG = SeededRNG(seed: 0)) {
        self.training = training
        self.rng = rng
    }
}

/// One node's computation with a hand-written backward pass.
///
/// Layers are built knowing their per-sample input shapes. `forward` takes batched
/// tensors `[N] + inputShape` and caches what `backward` needs; `backward` takes the
/// gradient of the loss with respect to the output, adds the parameter gradients into
/// `Parameter.grad` and returns the gradient with respect to each input.
public protocol Layer: AnyObject {
    var name: String { get }
    /// Per-sample output shape.
    var outputShape: [Int] { get }
    /// Learnable parameters and tracked statistics, in a fixed order.
    var parameters: [Parameter] { get }
    /// Multiply-accumulates per sample in inference.
    var macs: Int { get }
    func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor
    func backward(_ gradOutput: Tensor) -> [Tensor]
    /// `backward`, except that with `inputGradients` false the layer may skip the gradients
    /// with respect to its inputs (and return empty tensors for them); parameter gradients are
    /// accumulated either way. `Model` asks for this where nothing upstream learns (the first
    /// dense or conv layer of a network), which saves a matrix product per step.
    func backward(_ gradOutput: Tensor, inputGradients: Bool) -> [Tensor]
    /// The layer's parameters as the graph IR carries them (a copy); nil for parameterless layers.
    var floatParams: FloatParams? { get }
    /// Replaces the parameters with `p` (same kind and shapes).
    /// - Throws: `KDCError.graph` naming the layer when the kind or a shape differs.
    func load(_ p: FloatParams) throws
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var macs: Int { 0 }
    public func backward(_ gradOutput: Tensor, inputGradients: Bool) -> [Tensor] { backward(gradOutput) }
    public var floatParams: FloatParams? { nil }
    public func load(_ p: FloatParams) throws {
        throw KDCError.graph(layer: name, message: "the layer has no parameters to load")
    }
}

/// Copies `t` into `p.value` after checking the element count (the IR's tensors may be flat).
func assign(_ t: Tensor, to p: Parameter, layer: String) throws {
    try checkShape(
        t.count == p.value.count, layer, "parameter '\(p.name)' has \(t.count) values, expected \(p.value.count)")
    p.value = Tensor(shape: p.value.shape, data: t.data)
}

/// Layers with a weight and a bias (dense, conv2d, depthwise).
protocol AffineLayer: Layer {
    var weight: Parameter { get }
    var bias: Parameter { get }
}

extension AffineLayer {
    public var floatParams: FloatParams? { .affine(weight: weight.value, bias: bias.value) }
    public func load(_ p: FloatParams) throws {
        guard case let .affine(w, b) = p else {
            throw KDCError.graph(layer: name, message: "expected weight and bias parameters")
        }
        try assign(w, to: weight, layer: name)
        try assign(b, to: bias, layer: name)
    }
}

@inline(__always) func checkShape(_ ok: Bool, _ layer: String, _ message: @autoclosure () -> String) throws {
    if !ok { throw KDCError.graph(layer: layer, message: message()) }
}
