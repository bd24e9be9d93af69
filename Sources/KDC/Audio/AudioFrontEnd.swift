import Foundation

/// The tables of the integer audio front end (docs/AUDIO.md §2), computed once from the config
/// with Double and stored in the artifact, so the device needs no trigonometry and no libm.
public struct AudioFrontEndTables: Equatable, Sendable {
    /// Periodic Hann window, Q15: `round(32767·(0.5 − 0.5·cos(2πn/W)))`, n < windowSamples.
    public var window: [Int16]
    /// FFT twiddles, Q30: `round(2^30·cos(2πk/N))` and `round(2^30·sin(2πk/N))`, k < fftSize/2.
    public var twiddleCos: [Int32]
    public var twiddleSin: [Int32]
    /// Per mel filter: the first power-spectrum bin and the number of bins it weights.
    public var melFirstBin: [UInt16]
    public var melBinCount: [UInt16]
    /// The filters' weights, Q15 (0...32768), filter after filter (Σ melBinCount entries).
    public var melWeights: [UInt16]
    /// DCT-II rows, Q15, coefficients × melBins (empty for log-mel features).
    public var dct: [Int16]

    public init(
        window: [Int16], twiddleCos: [Int32], twiddleSin: [Int32], melFirstBin: [UInt16], melBinCount: [UInt16],
        melWeights: [UInt16], dct: [Int16]
    ) {
        self.window = window; self.twiddleCos = twiddleCos; self.twiddleSin = twiddleSin
        self.melFirstBin = melFirstBin; self.melBinCount = melBinCount; self.melWeights = melWeights; self.dct = dct
    }
}

/// The integer audio front end: int16 PCM → int8 log-mel energies or MFCCs (docs/AUDIO.md).
///
/// The reference the C runtime (`runtime/src/kdc_frontend.c`) matches bit for bit: the per-frame
/// computation is integer arithmetic only (window Q15, radix-2 FFT with block scaling, power,
/// Q15 mel filterbank, integer log2 with a 33-entry table, optional Q15 DCT-II). The output
/// quantization is fixed by the front end (`outputScale`, `outputZeroPoint`): the model's input
/// tensor uses exactly these, so the int8 features go straight into it.
public struct AudioFrontEnd: Sendable {
    public let config: AudioFrontEndConfig
    public let tables: AudioFrontEndTables

    /// Limits of the parameters (docs/AUDIO.md §1), the runtime's too.
    public static let maxSampleRate = 192_000
    public static let fftSizes = 16...4096
    public static let maxMelBins = 128
    /// int8 quantization of log-mel features (real value: log2 of the mel energy) and of MFCCs.
    public static let logMelScale: Float = 0.25, logMelZeroPoint = -80
    public static let mfccScale: Float = 0.5, mfccZeroPoint = 0
    /// round(log2(1 + i/32)·2^16), i = 0...32 (docs/AUDIO.md §5).
    public static let log2Table: [Int32] = (0...32).map { Int32((log2(1 + Double($0) / 32) * 65536).rounded()) }

    /// Validates `config` and builds the tables.
    /// - Throws: `KDCError.config(file: "frontend", key: "frontend.<field>", ...)` naming the
    ///   first invalid parameter and what was expected.
    public init(_ config: AudioFrontEndConfig) throws {
        try AudioFrontEnd.validate(config)
        self.config = config
        self.tables = AudioFrontEnd.makeTables(config)
    }

    /// A front end with given tables (read back from an artifact); the config must be valid and the
    /// table sizes match it (`ArtifactReader` checks both).
    init(config: AudioFrontEndConfig, tables: AudioFrontEndTables) {
        self.config = config
        self.tables = tables
    }

    public var featuresPerFrame: Int { config.featuresPerFrame }
    public var outputScale: Float { config.coefficients > 0 ? Self.mfccScale : Self.logMelScale }
    public var outputZeroPoint: Int { config.coefficients > 0 ? Self.mfccZeroPoint : Self.logMelZeroPoint }

    static func validate(_ c: AudioFrontEndConfig) throws {
        func bad(_ key: String, _ msg: String) -> KDCError {
            .config(file: "frontend", key: "frontend.\(key)", message: msg)
        }
        guard c.sampleRate >= 1, c.sampleRate <= maxSampleRate else {
            throw bad("sample_rate", "\(c.sampleRate) Hz; expected 1...\(maxSampleRate) Hz")
        }
        guard fftSizes.contains(c.fftSize), c.fftSize & (c.fftSize - 1) == 0 else {
            throw bad("fft", "\(c.fftSize); expected a power of two in \(fftSizes.lowerBound)...\(fftSizes.upperBound)")
        }
        guard c.windowSamples >= 2, c.windowSamples <= c.fftSize else {
            throw bad("window", "\(c.windowSamples); expected 2...fft (\(c.fftSize))")
        }
        guard c.hopSamples >= 1, c.hopSamples <= c.windowSamples else {
            throw bad("hop", "\(c.hopSamples); expected 1...window (\(c.windowSamples))")
        }
        guard c.melBins >= 1, c.melBins <= maxMelBins else {
            throw bad("mel_bins", "\(c.melBins); expected 1...\(maxMelBins)")
        }
        guard c.coefficients >= 0, c.coefficients <= c.melBins else {
            throw bad("coefficients", "\(c.coefficients); expected 0 (log-mel) or 1...mel_bins (\(c.melBins))")
        }
        let nyquist = Double(c.sampleRate) / 2
        guard c.lowHz.isFinite, c.lowHz >= 0, c.lowHz < nyquist else {
            throw bad("low_hz", "\(c.lowHz); expected 0 <= low_hz < sample_rate / 2 (\(nyquist))")
        }
        guard c.highHz.isFinite, c.highHz > c.lowHz, c.highHz <= nyquist else {
            throw bad("high_hz", "\(c.highHz); expected low_hz (\(c.lowHz)) < high_hz <= sample_rate / 2 (\(nyquist))")
        }
    }

    /// The HTK mel scale: 2595·log10(1 + f/700), and its inverse.
    static func mel(_ hz: Double) -> Double { 2595 * log10(1 + hz / 700) }
    static func hz(_ mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }

    static func makeTables(_ c: AudioFrontEndConfig) -> AudioFrontEndTables {
        let w = c.windowSamples, n = c.fftSize, m = c.melBins
        let window = (0..<w).map { i in Int16((32767 * (0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(w)))).rounded()) }
        let q30 = Double(1 << 30)
        let twc = (0..<(n / 2)).map { k in Int32((q30 * cos(2 * Double.pi * Double(k) / Double(n))).rounded()) }
        let tws = (0..<(n / 2)).map { k in Int32((q30 * sin(2 * Double.pi * Double(k) / Double(n))).rounded()) }
        // M + 2 points equally spaced in mel from lowHz to highHz; filter j spans points j...j+2.
        let lo = mel(c.lowHz), hi = mel(c.highHz)
        let edges = (0...(m + 1)).map { hz(lo + Double($0) * (hi - lo) / Double(m + 1)) }
        var first: [UInt16] = [], count: [UInt16] = [], weights: [UInt16] = []
        for j in 0..<m {
            let f0 = edges[j], f1 = edges[j + 1], f2 = edges[j + 2]
            var ws: [(Int, UInt16)] = []
            for k in 0...(n / 2) {
                let f = Double(k) * Double(c.sampleRate) / Double(n)
                let up = (f - f0) / (f1 - f0), down = (f2 - f) / (f2 - f1)
                let v = max(0, min(up, down, 1))
                let q = Int((v * 32768).rounded())
                if q > 0 { ws.append((k, UInt16(q))) }
            }
            // A triangle's nonzero bins are contiguous.
            first.append(UInt16(ws.first?.0 ?? 0)); count.append(UInt16(ws.count)); weights += ws.map(\.1)
        }
        var dct: [Int16] = []
        for j in 0..<c.coefficients {
            for i in 0..<m {
                let d = j == 0 ? 1 / Double(m) : 2 / Double(m) * cos(Double.pi * Double(j) * (Double(i) + 0.5) / Double(m))
                dct.append(Int16(max(-32767, min(32767, (d * 32768).rounded()))))
            }
        }
        return AudioFrontEndTables(
            window: window, twiddleCos: twc, twiddleSin: tws, melFirstBin: first, melBinCount: count,
            melWeights: weights, dct: dct)
    }

    /// One feature frame from one window of `windowSamples` samples (precondition).
    public func frame(_ window: ArraySlice<Int16>) -> [Int8] {
        precondition(window.count == config.windowSamples, "frame needs \(config.windowSamples) samples")
        var out = [Int8](repeating: 0, count: featuresPerFrame)
        var re = [Int32](repeating: 0, count: config.fftSize), im = re
        var logMel = [Int32](repeating: 0, count: config.melBins)
        window.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                compute(x, o, &re, &im, &logMel)
            }
        }
        return out
    }

    /// Every frame of `pcm` (`config.frameCount(samples:)` frames: the windows that fit, one per
    /// hop), frame after frame: frameCount × featuresPerFrame values.
    public func features(_ pcm: [Int16]) -> [Int8] {
        let frames = config.frameCount(samples: pcm.count), fpf = featuresPerFrame
        var out = [Int8](repeating: 0, count: frames * fpf)
        var re = [Int32](repeating: 0, count: config.fftSize), im = re
        var logMel = [Int32](repeating: 0, count: config.melBins)
        pcm.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for f in 0..<frames {
                    let s = f * config.hopSamples
                    compute(
                        UnsafeBufferPointer(rebasing: x[s..<(s + config.windowSamples)]),
                        UnsafeMutableBufferPointer(rebasing: o[(f * fpf)..<((f + 1) * fpf)]), &re, &im, &logMel)
                }
            }
        }
        return out
    }

    /// Floor division by 2^s (arithmetic shift right).
    @inline(__always) static func asr(_ v: Int64, _ s: Int) -> Int64 { v >> Int64(s) }

    /// Integer log2 of v ≥ 1 in Q16 (docs/AUDIO.md §5).
    static func log2Q16(_ v: UInt64) -> Int32 {
        let p = 63 - v.leadingZeroBitCount
        let f = Int32(truncatingIfNeeded: p >= 15 ? (v >> UInt64(p - 15)) & 0x7FFF : (v << UInt64(15 - p)) & 0x7FFF)
        let i = Int(f >> 10), r = f & 1023
        let t = log2Table
        return Int32(p) << 16 + t[i] + (((t[i + 1] - t[i]) * r + 512) >> 10)
    }

    private func compute(
        _ x: UnsafeBufferPointer<Int16>, _ out: UnsafeMutableBufferPointer<Int8>, _ reA: inout [Int32],
        _ imA: inout [Int32], _ logMelA: inout [Int32]
    ) {
        let n = config.fftSize, w = config.windowSamples
        var bits = 0
        while 1 << bits < n { bits += 1 }
        let t = tables
        reA.withUnsafeMutableBufferPointer { re in
            imA.withUnsafeMutableBufferPointer { im in
                // 1. Window (Q15, rounded), zero padding, bit-reversed order, scaled by 2^12.
                for i in 0..<n { re[i] = 0; im[i] = 0 }
                var maxAbs: Int32 = 0
                for i in 0..<w {
                    let v = (Int32(x[i]) * Int32(t.window[i]) + 16384) >> 15
                    var r = 0, k = i
                    for _ in 0..<bits { r = (r << 1) | (k & 1); k >>= 1 }
                    re[r] = v << 12
                    maxAbs = max(maxAbs, abs(v << 12))
                }
                // 2. Radix-2 decimation-in-time FFT with block scaling: before each stage, shift
                // everything right until the largest |value| is below 2^28.
                var exponent = 0, half = 1
                while half < n {
                    var s: Int32 = 0
                    while maxAbs >> s >= 1 << 28 { s += 1 }
                    if s > 0 {
                        for i in 0..<n { re[i] >>= s; im[i] >>= s }
                        exponent += Int(s)
                    }
                    maxAbs = 0
                    let step = n / (2 * half)
                    var start = 0
                    while start < n {
                        for k in 0..<half {
                            let c = Int64(t.twiddleCos[k * step]), sn = Int64(t.twiddleSin[k * step])
                            let a = start + k, b = a + half
                            let br = Int64(re[b]), bi = Int64(im[b])
                            let tr = Int32((br * c + bi * sn + (1 << 29)) >> 30)
                            let ti = Int32((bi * c - br * sn + (1 << 29)) >> 30)
                            let ar = re[a], ai = im[a]
                            re[a] = ar + tr; im[a] = ai + ti; re[b] = ar - tr; im[b] = ai - ti
                            maxAbs = max(maxAbs, abs(re[a]), abs(im[a]), abs(re[b]), abs(im[b]))
                        }
                        start += 2 * half
                    }
                    half *= 2
                }
                // 3. Power (bins 0...N/2, values >> 6 first), 4. mel filterbank, 5. log2.
                logMelA.withUnsafeMutableBufferPointer { lm in
                    var wi = 0
                    for j in 0..<config.melBins {
                        let first = Int(t.melFirstBin[j])
                        var e: UInt64 = 0
                        for b in 0..<Int(t.melBinCount[j]) {
                            let r = Int64(re[first + b] >> 6), i = Int64(im[first + b] >> 6)
                            let p = UInt64(r * r + i * i)
                            e += (UInt64(t.melWeights[wi + b]) * p) >> 15
                        }
                        wi += Int(t.melBinCount[j])
                        lm[j] = AudioFrontEnd.log2Q16(max(e, 1)) + Int32(2 * exponent - 12) << 16
                    }
                    // 6. int8: log-mel directly, or the DCT-II (MFCC).
                    if config.coefficients == 0 {
                        for j in 0..<config.melBins {
                            out[j] = Int8(max(-128, min(127, ((lm[j] + 8192) >> 14) + Int32(Self.logMelZeroPoint))))
                        }
                    } else {
                        let m = config.melBins
                        for j in 0..<config.coefficients {
                            var acc: Int64 = 0
                            for i in 0..<m { acc += Int64(t.dct[j * m + i]) * Int64(lm[i]) }
                            let q = (acc + (1 << 29)) >> 30 + Int64(Self.mfccZeroPoint)
                            out[j] = Int8(max(-128, min(127, q)))
                        }
                    }
                }
            }
        }
    }
}

/// Sensor normalization as the device computes it (docs/FORMAT.md 3.7): per channel
/// `k = Float(1 / (Double(std)·Double(inputScale)))`, then in float32, two separate statements,
/// `t = x − mean[c]; t = t · k[c]`, q = clamp(round half away(t) + zeroPoint, −128, 127).
public enum SensorQuantizer {
    /// The per-channel factors k stored in the artifact.
    public static func factors(_ n: SensorNormalization, inputScale: Float) -> [Float] {
        n.std.map { Float(1 / (Double($0) * Double(inputScale))) }
    }

    /// Quantizes interleaved samples (`x.count` a multiple of the channels) with mean and k.
    public static func quantize(_ x: [Float], mean: [Float], k: [Float], zeroPoint: Int) -> [Int8] {
        let c = mean.count
        return x.enumerated().map { i, v in
            var t = v - mean[i % c]
            t = t * k[i % c]
            if t.isNaN { t = 0 }
            t = max(-1000, min(1000, t))  // far outside int8; as kdc_quantize
            let q = Int(t.rounded(.toNearestOrAwayFromZero)) + zeroPoint
            return Int8(max(-128, min(127, q)))
        }
    }
}
