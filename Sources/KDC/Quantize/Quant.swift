extension Graph {
    /// The quantization of the input tensor (int8 graphs): firmware quantizes sensor data (already
    /// normalized) with q = clamp(round_half_away(x/scale) + zeroPoint, −128, 127).
    public var inputQuant: QuantParams { self[input].quant ?? QuantParams(scale: 1, zeroPoint: 0) }
    /// The quantization of the output (logits) tensor.
    public var outputQuant: QuantParams { self[output].quant ?? QuantParams(scale: 1, zeroPoint: 0) }

    /// Quantizes float input values (already normalized) with the input tensor's parameters.
    public func quantizeInput(_ x: [Float]) -> [Int8] {
        Quant.quantize(x, scale: inputQuant.scale, zeroPoint: inputQuant.zeroPoint)
    }

    /// Dequantizes values of tensor `id` (default: the output): scale·(q − zeroPoint).
    public func dequantize(_ q: [Int8], tensor id: TensorID? = nil) -> [Float] {
        let p = self[id ?? output].quant ?? QuantParams(scale: 1, zeroPoint: 0)
        return Quant.dequantize(q, scale: p.scale, zeroPoint: p.zeroPoint)
    }
}

/// Scalar quantization helpers.
public enum Quant {
    /// q = clamp(round_half_away(x/scale) + zeroPoint, −128, 127), the quotient computed in Float
    /// as the runtime's `kdc_quantize` and TensorFlow Lite's reference QUANTIZE do (a Double
    /// quotient rounds differently where the Float one lands on a half); NaN gives the zero point.
    public static func quantize(_ x: [Float], scale: Float, zeroPoint: Int32) -> [Int8] {
        x.map { value in
            var v = value / scale
            if v.isNaN { v = 0 }
            v = min(max(v, -1000), 1000)
            let q = Int32(v.rounded()) + zeroPoint
            return Int8(max(-128, min(127, q)))
        }
    }

    /// x = scale·(q − zeroPoint).
    public static func dequantize(_ q: [Int8], scale: Float, zeroPoint: Int32) -> [Float] {
        q.map { scale * Float(Int32($0) - zeroPoint) }
    }

    /// Asymmetric int8 parameters for a range (widened to include 0): scale = (max−min)/255,
    /// zeroPoint = clamp(round(−128 − min/scale), −128, 127). A zero-width range gets scale 1/255.
    public static func activationParams(min lo0: Float, max hi0: Float) -> (scale: Float, zeroPoint: Int32) {
        let lo = Swift.min(lo0, 0), hi = Swift.max(hi0, 0)
        var scale = (Double(hi) - Double(lo)) / 255
        if !(scale > 0) || !scale.isFinite { scale = 1.0 / 255 }
        let s = Float(scale)
        let z = (-128 - Double(lo) / Double(s)).rounded()
        return (s, Int32(Swift.max(-128, Swift.min(127, z))))
    }
}
