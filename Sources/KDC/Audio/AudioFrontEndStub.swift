import Foundation

// TEMPORARY placeholder (branch audio-data): the real integer front end, bit-exact with the C
// runtime, lands from branch audio-fe as `Sources/KDC/Audio/AudioFrontEnd.swift` with this same
// API. This file is deleted at that merge. It computes a plain floating-point log-mel (or MFCC)
// of the same parameters so that the data loading, the pipeline wiring and the FSDD sample can
// be built and tuned meanwhile; its figures are not the device's.

/// Log-mel energies or MFCCs of int16 PCM, as int8 (placeholder: Float math, fixed int8 scale).
public struct AudioFrontEnd: Sendable {
    public let config: AudioFrontEndConfig
    /// Values per frame: `config.featuresPerFrame`.
    public var featuresPerFrame: Int { config.featuresPerFrame }
    /// The int8 features' scale: value = (q − outputZeroPoint) · outputScale.
    public var outputScale: Float { config.coefficients > 0 ? 0.5 : 0.125 }
    public var outputZeroPoint: Int { config.coefficients > 0 ? 0 : -128 }

    private let window: [Float]
    /// Per mel bin: the first FFT bin and the triangle's weights from there.
    private let filters: [(start: Int, weights: [Float])]

    /// Checks the parameters (ranges of `AudioFrontEndConfig`) and precomputes the tables.
    public init(_ config: AudioFrontEndConfig) throws {
        let c = config
        func bad(_ key: String, _ message: String) -> KDCError {
            KDCError.config(file: "frontend", key: "frontend." + key, message: message)
        }
        guard c.sampleRate > 0 else { throw bad("sample_rate", "must be > 0, got \(c.sampleRate)") }
        guard c.fftSize >= 2, c.fftSize & (c.fftSize - 1) == 0 else {
            throw bad("fft", "must be a power of two ≥ 2, got \(c.fftSize)")
        }
        guard c.windowSamples >= 2, c.windowSamples <= c.fftSize else {
            throw bad("window", "must be in 2...fft (\(c.fftSize)), got \(c.windowSamples)")
        }
        guard c.hopSamples >= 1, c.hopSamples <= c.windowSamples else {
            throw bad("hop", "must be in 1...window (\(c.windowSamples)), got \(c.hopSamples)")
        }
        guard c.melBins >= 1 else { throw bad("mel_bins", "must be ≥ 1, got \(c.melBins)") }
        guard c.coefficients >= 0, c.coefficients <= c.melBins else {
            throw bad("coefficients", "must be in 0...mel_bins (\(c.melBins)), got \(c.coefficients)")
        }
        guard c.lowHz >= 0, c.lowHz < c.highHz, c.highHz <= Double(c.sampleRate) / 2 else {
            throw bad(
                "high_hz",
                "need 0 ≤ low_hz < high_hz ≤ sample_rate / 2 (\(Double(c.sampleRate) / 2)), got \(c.lowHz) and \(c.highHz)")
        }
        self.config = c
        let n = c.windowSamples
        window = (0..<n).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n))) }
        func mel(_ f: Double) -> Double { 1127 * log(1 + f / 700) }
        func hz(_ m: Double) -> Double { 700 * (exp(m / 1127) - 1) }
        let (lo, hi) = (mel(c.lowHz), mel(c.highHz))
        let edges = (0..<(c.melBins + 2)).map { hz(lo + (hi - lo) * Double($0) / Double(c.melBins + 1)) }
        let binHz = Double(c.sampleRate) / Double(c.fftSize)
        filters = (0..<c.melBins).map { b in
            let (l, m, r) = (edges[b], edges[b + 1], edges[b + 2])
            let first = Int((l / binHz).rounded(.up)), last = min(Int((r / binHz).rounded(.down)), c.fftSize / 2)
            guard first <= last else { return (start: 0, weights: []) }
            let w = (first...last).map { k -> Float in
                let f = Double(k) * binHz
                return Float(max(0, f <= m ? (f - l) / max(m - l, 1e-9) : (r - f) / max(r - m, 1e-9)))
            }
            return (start: first, weights: w)
        }
    }

    /// One frame's features from `window` (`config.windowSamples` samples).
    public func frame(_ window: ArraySlice<Int16>) -> [Int8] {
        let c = config
        var re = [Float](repeating: 0, count: c.fftSize), im = re
        for (i, s) in window.prefix(c.windowSamples).enumerated() { re[i] = Float(s) * self.window[i] }
        fft(&re, &im)
        let power = (0...(c.fftSize / 2)).map { re[$0] * re[$0] + im[$0] * im[$0] }
        let logMel = filters.map { f -> Float in
            var e: Float = 0
            for (j, w) in f.weights.enumerated() { e += w * power[f.start + j] }
            return log(e + 1)
        }
        var values = logMel
        if c.coefficients > 0 {
            let m = Float(c.melBins)
            values = (0..<c.coefficients).map { k in
                var s: Float = 0
                for (i, v) in logMel.enumerated() { s += v * cos(Float.pi * Float(k) * (Float(i) + 0.5) / m) }
                return s * (k == 0 ? (1 / m).squareRoot() : (2 / m).squareRoot())
            }
        }
        let (scale, zp) = (outputScale, Float(outputZeroPoint))
        return values.map { Int8(max(-128, min(127, ($0 / scale).rounded() + zp))) }
    }

    /// Every whole window's features: `config.frameCount(samples: pcm.count)` frames of
    /// `featuresPerFrame` values, frame after frame.
    public func features(_ pcm: [Int16]) -> [Int8] {
        let frames = config.frameCount(samples: pcm.count)
        var out: [Int8] = []
        out.reserveCapacity(frames * featuresPerFrame)
        for f in 0..<frames {
            let s = f * config.hopSamples
            out += frame(pcm[s..<(s + config.windowSamples)])
        }
        return out
    }

    /// In-place radix-2 complex FFT (length a power of two).
    private func fft(_ re: inout [Float], _ im: inout [Float]) {
        let n = re.count
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var len = 2
        while len <= n {
            let ang = -2 * Float.pi / Float(len)
            for start in stride(from: 0, to: n, by: len) {
                for k in 0..<(len / 2) {
                    let (wr, wi) = (cos(ang * Float(k)), sin(ang * Float(k)))
                    let (a, b) = (start + k, start + k + len / 2)
                    let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                }
            }
            len <<= 1
        }
    }
}
