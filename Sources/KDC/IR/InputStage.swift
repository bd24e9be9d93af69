/// What turns the device's raw signal into the model's int8 input tensor, stored with the model.
///
/// A graph with an input stage takes raw samples instead of a ready int8 tensor: 16-bit PCM
/// through the integer audio front end (`AudioFrontEnd`, docs/AUDIO.md), or multichannel sensor
/// samples normalized per channel (docs/DATA.md). The artifact records it (docs/FORMAT.md), the
/// runtime's streaming API applies it on the device, and training sees exactly what the device
/// computes: the training features are the stage's int8 output, dequantized.
public enum InputStage: Equatable, Sendable, Codable {
    /// Log-mel energies or MFCCs from int16 PCM, in fixed-point arithmetic.
    case audio(AudioFrontEndConfig)
    /// Per-channel normalization of float32 sensor samples, then the input's int8 quantization.
    case sensor(SensorNormalization)
}

/// The integer audio front end's parameters (config section `frontend:`; docs/AUDIO.md).
public struct AudioFrontEndConfig: Equatable, Sendable, Codable {
    /// Sampling rate of the PCM, Hz (> 0).
    public var sampleRate: Int
    /// Samples per analysis window (≥ 2, ≤ fftSize).
    public var windowSamples: Int
    /// Samples between the starts of consecutive windows (≥ 1, ≤ windowSamples).
    public var hopSamples: Int
    /// FFT length, a power of two.
    public var fftSize: Int
    /// Mel filterbank channels (≥ 1).
    public var melBins: Int
    /// 0: the features are the log-mel energies (melBins per frame); n > 0: the first n
    /// DCT-II coefficients of them (MFCCs, n ≤ melBins).
    public var coefficients: Int
    /// Filterbank frequency range, Hz (0 ≤ lowHz < highHz ≤ sampleRate / 2).
    public var lowHz: Double
    public var highHz: Double

    public init(
        sampleRate: Int, windowSamples: Int, hopSamples: Int, fftSize: Int, melBins: Int,
        coefficients: Int, lowHz: Double, highHz: Double
    ) {
        self.sampleRate = sampleRate; self.windowSamples = windowSamples
        self.hopSamples = hopSamples; self.fftSize = fftSize; self.melBins = melBins
        self.coefficients = coefficients; self.lowHz = lowHz; self.highHz = highHz
    }

    /// Values per feature frame: the coefficients, or the mel bins for log-mel features.
    public var featuresPerFrame: Int { coefficients > 0 ? coefficients : melBins }

    /// Frames a clip of `samples` samples gives: windows that fit entirely (0 if none does).
    public func frameCount(samples: Int) -> Int {
        samples < windowSamples ? 0 : (samples - windowSamples) / hopSamples + 1
    }
}

/// Per-channel normalization of multichannel sensor samples (accelerometer, gyroscope...):
/// the model sees `(x[c] - mean[c]) / std[c]`. Computed on the training split and recorded
/// with the model; channels are the innermost axis of the input.
public struct SensorNormalization: Equatable, Sendable, Codable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean; self.std = std
    }

    public var channels: Int { mean.count }
}
