import Foundation

/// The input-stage block of the artifact (header flag bit 4, docs/FORMAT.md 3.7): written after
/// the constant section, read back and validated exactly as `kdc_init` does.
public enum InputStageBlock {
    public static let kindAudio = 1, kindSensor = 2
    /// Common header: u16 kind, u16 reserved, u32 block bytes, u32 frames, u32 features.
    public static let kind = 0, reserved = 2, bytes = 4, frames = 8, features = 12, headerBytes = 16
    /// Audio parameters (u32 rate, u16 window, hop, fft, mel, coefficients, reserved, f64 low/high).
    public static let sampleRate = 16, window = 20, hop = 22, fftSize = 24, melBins = 26, coefficients = 28
    public static let audioReserved = 30, lowHz = 32, highHz = 40, audioTables = 48
    static let q30: Int32 = 1 << 30

    /// What a block decodes to.
    public struct Decoded: Equatable, Sendable {
        public var stage: InputStage
        /// The audio tables as stored (nil for a sensor stage).
        public var audioTables: AudioFrontEndTables?
        /// The sensor factors k = 1/(std·input_scale) as stored (nil for audio).
        public var sensorFactors: [Float]?
    }

    /// The device RAM of a graph's stream besides the arena (`kdc_stream_bytes`): the front
    /// end's window buffer `round_up(2W, 4)` and scratch `8N + 4M` (0 for sensor normalization),
    /// and the ring of `frames × features` bytes. nil without input stage.
    public static func memory(_ g: Graph) -> (frontendBytes: Int, ringBytes: Int)? {
        guard let stage = g.inputStage else { return nil }
        let ring = g.tensors[g.input.index].count
        switch stage {
        case .audio(let c):
            return ((2 * c.windowSamples + 3) / 4 * 4 + 8 * c.fftSize + 4 * c.melBins, ring)
        case .sensor:
            return (0, ring)
        }
    }

    /// The input's frames for a stage: input elements / features per frame.
    static func featuresPerFrame(_ stage: InputStage) -> Int {
        switch stage {
        case .audio(let c): return c.featuresPerFrame
        case .sensor(let n): return n.channels
        }
    }

    /// The block for `g.inputStage` (nil if none), checked against the graph's input tensor.
    /// - Throws: `KDCError.graph` when the input tensor does not fit the stage (size, channels,
    ///   quantization), `KDCError.config` for an invalid front-end config.
    public static func encode(_ g: Graph) throws -> [UInt8]? {
        guard let stage = g.inputStage else { return nil }
        let input = g.tensors[g.input.index]
        guard let q = input.quant else {
            throw KDCError.graph(layer: input.name, message: "input tensor is not int8 (quantize the graph first)")
        }
        let fpf = featuresPerFrame(stage)
        guard fpf >= 1, fpf <= 0xFFFF, input.count % fpf == 0, input.count / fpf >= 1, input.count / fpf <= 0xFFFF else {
            throw KDCError.graph(
                layer: input.name,
                message: "input has \(input.count) values, not frames × \(fpf) features per frame (input stage)")
        }
        var w = ByteWriter()
        switch stage {
        case .audio(let c):
            let fe = try AudioFrontEnd(c)
            guard q.scale == fe.outputScale, Int(q.zeroPoint) == fe.outputZeroPoint else {
                throw KDCError.graph(
                    layer: input.name,
                    message:
                        "input quantization (scale \(q.scale), zero point \(q.zeroPoint)) must be the front end's (\(fe.outputScale), \(fe.outputZeroPoint))"
                )
            }
            let t = fe.tables
            w.u16(kindAudio); w.u16(0); w.u32(0); w.u32(input.count / fpf); w.u32(fpf)
            w.u32(c.sampleRate); w.u16(c.windowSamples); w.u16(c.hopSamples); w.u16(c.fftSize); w.u16(c.melBins)
            w.u16(c.coefficients); w.u16(0)
            for v in [c.lowHz + 0, c.highHz + 0] {  // -0 written as +0 (the sign bit must be clear)
                let bits = v.bitPattern
                w.u32(UInt32(bits & 0xffff_ffff)); w.u32(UInt32(bits >> 32))
            }
            t.window.forEach { w.u16(UInt16(bitPattern: $0)) }; w.pad(to: 4)
            t.twiddleCos.forEach { w.i32($0) }; t.twiddleSin.forEach { w.i32($0) }
            for j in 0..<c.melBins { w.u16(t.melFirstBin[j]); w.u16(t.melBinCount[j]) }
            t.melWeights.forEach { w.u16($0) }; w.pad(to: 4)
            t.dct.forEach { w.u16(UInt16(bitPattern: $0)) }; w.pad(to: 4)
        case .sensor(let n):
            guard n.mean.count == n.std.count, n.channels >= 1 else {
                throw KDCError.graph(layer: input.name, message: "sensor normalization: mean and std differ in length")
            }
            guard input.shape.last == n.channels else {
                throw KDCError.graph(
                    layer: input.name, message: "input shape \(input.shape): the last axis must be the \(n.channels) channels")
            }
            let k = SensorQuantizer.factors(n, inputScale: q.scale)
            for (c, (m, s)) in zip(n.mean, n.std).enumerated() {
                guard m.isFinite, s.isFinite, s > 0, k[c].isFinite, k[c] > 0 else {
                    throw KDCError.graph(
                        layer: input.name, message: "sensor normalization channel \(c): mean \(m), std \(s) (finite, std > 0)")
                }
            }
            w.u16(kindSensor); w.u16(0); w.u32(0); w.u32(input.count / fpf); w.u32(fpf)
            n.mean.forEach { w.u32($0.bitPattern) }; n.std.forEach { w.u32($0.bitPattern) }
            k.forEach { w.u32($0.bitPattern) }
        }
        let size = UInt32(w.bytes.count)
        for i in 0..<4 { w.bytes[bytes + i] = UInt8((size >> UInt32(8 * i)) & 0xff) }
        return w.bytes
    }

    /// The input tensor as the reader decoded it.
    struct Input { var dims: [Int]; var scaleBits: UInt32; var zeroPoint: Int32; var size: Int }

    /// Validates the block at body offset `start` as `kdc_init` does (`[KDC_ERR_STAGE]`).
    static func decode(_ body: [UInt8], start: Int, input: Input, file: String) throws -> Decoded {
        func fail(_ field: String, _ msg: String) -> KDCError { .format(file: file, message: "stage.\(field): \(msg)") }
        let r = LEReader(body), raw = body.count
        guard start <= raw, raw - start >= headerBytes else {
            throw fail("offset", "the block header at body offset \(start) does not fit the \(raw)-byte body")
        }
        let kind = r.u16(start + Self.kind), size = Int(r.u32(start + bytes))
        let nFrames = Int(r.u32(start + frames)), nFeat = Int(r.u32(start + features))
        guard kind == kindAudio || kind == kindSensor else { throw fail("kind", "\(kind); expected 1 (audio) or 2 (sensor)") }
        guard r.u16(start + reserved) == 0 else { throw fail("reserved", "must be 0") }
        guard size % 4 == 0, size >= headerBytes, size <= raw - start else {
            throw fail("bytes", "\(size); a multiple of 4, >= \(headerBytes), inside the body (\(raw - start) bytes left)")
        }
        guard nFrames >= 1, nFeat >= 1, nFrames <= 0xFFFF, nFeat <= 0xFFFF else {
            throw fail("frames", "\(nFrames) frames × \(nFeat) features; each must be 1...65535")
        }
        guard nFrames * nFeat == input.size else {
            throw fail("frames", "\(nFrames) × \(nFeat) differs from the input tensor's \(input.size) values")
        }
        let p = start
        if kind == kindSensor {
            guard input.dims.last == nFeat else {
                throw fail("features", "\(nFeat) channels; the input's last dimension is \(input.dims.last ?? 0)")
            }
            guard size == headerBytes + 12 * nFeat else {
                throw fail("bytes", "\(size); a sensor block of \(nFeat) channels has \(headerBytes + 12 * nFeat)")
            }
            let f = { (i: Int) in r.u32(p + headerBytes + 4 * i) }
            var mean: [Float] = [], std: [Float] = [], k: [Float] = []
            for c in 0..<nFeat {
                let mb = f(c), sb = f(nFeat + c), kb = f(2 * nFeat + c)
                guard mb & 0x7f80_0000 != 0x7f80_0000 else { throw fail("mean[\(c)]", "not finite") }
                guard sb & 0x7f80_0000 != 0x7f80_0000, sb != 0, sb >> 31 == 0 else {
                    throw fail("std[\(c)]", "must be finite and > 0")
                }
                guard kb & 0x7f80_0000 != 0x7f80_0000, kb != 0, kb >> 31 == 0 else {
                    throw fail("k[\(c)]", "must be finite and > 0")
                }
                mean.append(Float(bitPattern: mb)); std.append(Float(bitPattern: sb)); k.append(Float(bitPattern: kb))
            }
            return Decoded(stage: .sensor(SensorNormalization(mean: mean, std: std)), audioTables: nil, sensorFactors: k)
        }
        guard size >= audioTables else { throw fail("bytes", "\(size); an audio block has at least \(audioTables)") }
        let rate = Int(r.u32(p + sampleRate)), win = r.u16(p + window), hopS = r.u16(p + hop)
        let fft = r.u16(p + fftSize), mel = r.u16(p + melBins), coeffs = r.u16(p + coefficients)
        guard rate >= 1, rate <= AudioFrontEnd.maxSampleRate else { throw fail("sample_rate", "\(rate); expected 1...192000") }
        guard AudioFrontEnd.fftSizes.contains(fft), fft & (fft - 1) == 0 else {
            throw fail("fft_size", "\(fft); expected a power of two in 16...4096")
        }
        guard win >= 2, win <= fft, hopS >= 1, hopS <= win else {
            throw fail("window_samples", "window \(win), hop \(hopS); expected 2 <= window <= fft_size, 1 <= hop <= window")
        }
        guard mel >= 1, mel <= AudioFrontEnd.maxMelBins, coeffs <= mel else {
            throw fail("mel_bins", "\(mel) mel bins, \(coeffs) coefficients; expected 1...128, coefficients <= mel_bins")
        }
        guard r.u16(p + audioReserved) == 0 else { throw fail("reserved", "must be 0") }
        guard nFeat == (coeffs > 0 ? coeffs : mel) else {
            throw fail("features", "\(nFeat); the front end gives \(coeffs > 0 ? coeffs : mel) per frame")
        }
        func f64(_ o: Int) -> Double { Double(bitPattern: UInt64(r.u32(o)) | UInt64(r.u32(o + 4)) << 32) }
        let lo = f64(p + lowHz), hi = f64(p + highHz)
        guard lo.sign == .plus, hi.sign == .plus, lo.isFinite, hi.isFinite, lo < hi, hi <= Double(rate) / 2 else {
            throw fail("low_hz", "\(lo)...\(hi) Hz; expected 0 <= low_hz < high_hz <= sample_rate / 2")
        }
        let (scaleBits, zp): (UInt32, Int32) =
            coeffs > 0
            ? (AudioFrontEnd.mfccScale.bitPattern, Int32(AudioFrontEnd.mfccZeroPoint))
            : (AudioFrontEnd.logMelScale.bitPattern, Int32(AudioFrontEnd.logMelZeroPoint))
        guard input.scaleBits == scaleBits, input.zeroPoint == zp else {
            throw fail(
                "input",
                "input tensor scale \(Float(bitPattern: input.scaleBits)), zero point \(input.zeroPoint); the front end's are \(Float(bitPattern: scaleBits)), \(zp)"
            )
        }
        var o = p + audioTables
        let r4 = { (v: Int) in (v + 3) & ~3 }
        let bandsOff = o + r4(2 * win) + 4 * fft
        guard size >= bandsOff + 4 * mel - p else { throw fail("bytes", "\(size): the tables do not fit") }
        let windowT = (0..<win).map { Int16(truncatingIfNeeded: r.u16(o + 2 * $0)) }
        guard windowT.allSatisfy({ $0 >= 0 }) else { throw fail("window", "a Q15 value is negative (expected 0...32767)") }
        o += r4(2 * win)
        let tc = (0..<(fft / 2)).map { Int32(bitPattern: r.u32(o + 4 * $0)) }
        o += 2 * fft
        let ts = (0..<(fft / 2)).map { Int32(bitPattern: r.u32(o + 4 * $0)) }
        o += 2 * fft
        guard (tc + ts).allSatisfy({ $0 >= -q30 && $0 <= q30 }) else { throw fail("twiddles", "a Q30 value is outside ±2^30") }
        var first: [UInt16] = [], count: [UInt16] = [], nw = 0
        for j in 0..<mel {
            let a = r.u16(o + 4 * j), n = r.u16(o + 4 * j + 2)
            guard a + n <= fft / 2 + 1 else { throw fail("mel[\(j)]", "bins \(a)..<\(a + n) beyond N/2 + 1 = \(fft / 2 + 1)") }
            first.append(UInt16(a)); count.append(UInt16(n)); nw += n
        }
        o += 4 * mel
        let need = bandsOff + 4 * mel + r4(2 * nw) + r4(2 * coeffs * mel) - p
        guard size == need else { throw fail("bytes", "\(size); the parameters and mel bands give \(need)") }
        let weights = (0..<nw).map { UInt16(r.u16(o + 2 * $0)) }
        guard weights.allSatisfy({ $0 <= 32768 }) else { throw fail("mel_weights", "a Q15 weight is above 32768") }
        o += r4(2 * nw)
        let dct = (0..<(coeffs * mel)).map { Int16(truncatingIfNeeded: r.u16(o + 2 * $0)) }
        let config = AudioFrontEndConfig(
            sampleRate: rate, windowSamples: win, hopSamples: hopS, fftSize: fft, melBins: mel, coefficients: coeffs,
            lowHz: lo, highHz: hi)
        let tables = AudioFrontEndTables(
            window: windowT, twiddleCos: tc, twiddleSin: ts, melFirstBin: first, melBinCount: count, melWeights: weights,
            dct: dct)
        return Decoded(stage: .audio(config), audioTables: tables, sensorFactors: nil)
    }
}
