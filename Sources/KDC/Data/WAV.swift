import Foundation

/// A mono 16-bit PCM recording read from a WAV file.
public struct WAVAudio: Sendable, Equatable {
    /// Samples per second (> 0).
    public var sampleRate: Int
    /// The samples, in order.
    public var samples: [Int16]

    public init(sampleRate: Int, samples: [Int16]) {
        self.sampleRate = sampleRate; self.samples = samples
    }
}

/// Reads a RIFF/WAVE file of 16-bit mono PCM at any rate (docs/DATA.md, "Recordings").
///
/// The chunks after the `WAVE` tag are walked in order: `fmt ` and `data` are read, any other
/// chunk (`LIST`, `fact`, `cue `...) is skipped, and an odd-sized chunk is followed by one pad
/// byte, as RIFF requires. The format must be PCM: tag 1, or WAVE_FORMAT_EXTENSIBLE (0xFFFE)
/// whose sub-format GUID is PCM's (`01 00 00 00 00 00 10 00 80 00 00 AA 00 38 9B 71`).
/// `expectedRate`, when given, must equal the file's rate (`frontend.sample_rate`).
/// - Throws: `KDCError.data` naming `path` and what was expected, for a missing or empty file,
///   a file that is not RIFF or not WAVE, no `fmt ` or `data` chunk, a chunk running past the
///   end of the file, a format other than PCM, more than one channel, a sample size other than
///   16 bits, a 0 Hz rate, or a rate other than `expectedRate`.
public func readWAV(_ path: String, expectedRate: Int? = nil) throws -> WAVAudio {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw KDCError.data(file: path, message: "file not found; check the path and data.dir (or --data)")
    }
    guard !isDir.boolValue else { throw KDCError.data(file: path, message: "is a directory, expected a WAV file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw KDCError.data(file: path, message: "cannot be read (permissions?)")
    }
    return try parseWAV([UInt8](data), file: path, expectedRate: expectedRate)
}

/// Parses the bytes of a WAV file (see `readWAV`); `file` names it in errors.
public func parseWAV(_ b: [UInt8], file: String, expectedRate: Int? = nil) throws -> WAVAudio {
    func fail(_ m: String) -> KDCError { KDCError.data(file: file, message: m) }
    func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
    func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    func tag(_ o: Int) -> String { String(decoding: b[o..<(o + 4)], as: UTF8.self) }
    guard !b.isEmpty else { throw fail("file is empty, expected a RIFF/WAVE file (16-bit mono PCM)") }
    guard b.count >= 12, tag(0) == "RIFF" else {
        throw fail("not a RIFF file: expected the bytes 'RIFF' at offset 0 (a WAV file, 16-bit mono PCM)")
    }
    guard tag(8) == "WAVE" else { throw fail("a RIFF file but not WAVE: expected 'WAVE' at offset 8, found '\(tag(8))'") }
    var fmt: (offset: Int, size: Int)?
    var dataChunk: (offset: Int, size: Int)?
    var o = 12
    while o + 8 <= b.count {
        let id = tag(o), size = u32(o + 4), body = o + 8
        guard size <= b.count - body else {
            throw fail(
                "truncated \(id == "data" ? "data" : "'\(id)'") chunk: it declares \(size) bytes at offset \(body) "
                    + "but the file ends after \(b.count - body); the file may be incompletely written or downloaded")
        }
        if id == "fmt " && fmt == nil { fmt = (body, size) }
        if id == "data" && dataChunk == nil { dataChunk = (body, size) }
        o = body + size + (size & 1)
    }
    guard let f = fmt else { throw fail("no 'fmt ' chunk: a WAV file needs one before its samples") }
    guard f.size >= 16 else { throw fail("the 'fmt ' chunk has \(f.size) bytes, expected at least 16") }
    var formatTag = u16(f.offset)
    let extensible = formatTag == 0xFFFE
    if extensible {
        guard f.size >= 40 else {
            throw fail("WAVE_FORMAT_EXTENSIBLE needs a 40-byte 'fmt ' chunk, this one has \(f.size) bytes")
        }
        // The sub-format GUID's first two bytes are the format tag; the rest is the fixed suffix.
        let suffix: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let guid = Array(b[(f.offset + 24)..<(f.offset + 40)])
        formatTag = Array(guid[2...]) == suffix ? u16(f.offset + 24) : -1
    }
    let channels = u16(f.offset + 2), rate = u32(f.offset + 4), bits = u16(f.offset + 14)
    guard formatTag == 1 else {
        var what = formatTag == 3 ? "IEEE float" : formatTag == -1 ? "an unknown sub-format GUID" : "format tag \(formatTag)"
        if extensible { what = "WAVE_FORMAT_EXTENSIBLE with " + what }
        throw fail("not PCM (\(what)): expected PCM, format tag 1 or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format")
    }
    guard channels == 1 else {
        throw fail(
            "\(channels == 2 ? "stereo" : "\(channels) channels"): expected mono (1 channel); hint: sox in.wav -c 1 out.wav")
    }
    guard bits == 16 else {
        throw fail("\(bits)-bit samples: expected 16-bit PCM; hint: sox in.wav -b 16 out.wav")
    }
    guard rate > 0 else { throw fail("sample rate 0 Hz in the 'fmt ' chunk: expected a rate > 0") }
    if let e = expectedRate, e != rate {
        throw fail(
            "sample rate \(rate) Hz, but frontend.sample_rate is \(e) Hz; hint: resample (sox in.wav -r \(e) out.wav) or change frontend.sample_rate"
        )
    }
    guard let d = dataChunk else { throw fail("no 'data' chunk: the file has no samples") }
    let n = d.size / 2
    var samples = [Int16](repeating: 0, count: n)
    for i in 0..<n { samples[i] = Int16(bitPattern: UInt16(u16(d.offset + 2 * i))) }
    return WAVAudio(sampleRate: rate, samples: samples)
}

/// The bytes of a 16-bit PCM WAV file (tests and tools): `channels` interleaved, format tag 1,
/// or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format when `extensible`.
public func wavBytes(_ samples: [Int16], rate: Int, channels: Int = 1, bits: Int = 16, extensible: Bool = false) -> [UInt8] {
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16((v >> 16) & 0xFFFF) }
    let block = channels * bits / 8
    var fmt = le16(extensible ? 0xFFFE : 1) + le16(channels) + le32(rate) + le32(rate * block) + le16(block) + le16(bits)
    if extensible {
        fmt += le16(22) + le16(bits) + le32(channels == 1 ? 4 : 3)
        fmt += [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
    }
    let pcm = samples.flatMap { le16(Int(UInt16(bitPattern: $0))) }
    let body = Array("WAVE".utf8) + Array("fmt ".utf8) + le32(fmt.count) + fmt + Array("data".utf8) + le32(pcm.count) + pcm
    return Array("RIFF".utf8) + le32(body.count) + body
}
