import CZlib
import Foundation

/// Reads a whole data file, inflating it when it starts with the gzip magic `1f 8b`.
/// Throws `KDCError.data` naming `path` when the file is missing, unreadable, empty,
/// or a gzip stream that is corrupt or truncated.
func readDataFile(_ path: String) throws -> [UInt8] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw KDCError.data(file: path, message: "file not found; check the path and data.dir (or --data)")
    }
    guard !isDir.boolValue else { throw KDCError.data(file: path, message: "is a directory, expected a file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw KDCError.data(file: path, message: "cannot be read (permissions?)")
    }
    let raw = [UInt8](data)
    guard !raw.isEmpty else { throw KDCError.data(file: path, message: "file is empty") }
    if raw.count >= 2 && raw[0] == 0x1f && raw[1] == 0x8b { return try gunzip(raw, file: path) }
    return raw
}

/// Inflates a gzip (or zlib) stream with zlib's automatic header detection (windowBits 15 + 32).
/// Concatenated gzip members are inflated one after the other.
func gunzip(_ input: [UInt8], file: String) throws -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(input.count * 4)
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw KDCError.data(file: file, message: "zlib inflateInit2 failed")
    }
    defer { inflateEnd(&stream) }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    try input.withUnsafeBufferPointer { src in
        stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress!)
        stream.avail_in = uInt(src.count)
        while true {
            let status: Int32 = chunk.withUnsafeMutableBufferPointer { dst in
                stream.next_out = dst.baseAddress!
                stream.avail_out = uInt(dst.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            out.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
            switch status {
            case Z_STREAM_END:
                // Another gzip member may follow (as `cat a.gz b.gz` produces).
                if stream.avail_in >= 2 && stream.next_in[0] == 0x1f && stream.next_in[1] == 0x8b {
                    guard inflateReset(&stream) == Z_OK else {
                        throw KDCError.data(file: file, message: "zlib inflateReset failed")
                    }
                    continue
                }
                return
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the input ended before the stream did.
                throw KDCError.data(
                    file: file,
                    message:
                        "truncated gzip stream (ended after \(out.count) inflated bytes); the file may be incompletely downloaded"
                )
            default:
                let msg = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                throw KDCError.data(file: file, message: "corrupt gzip stream: \(msg)")
            }
        }
    }
    return out
}

/// Resolves `path` against `base` unless it is absolute; `~` is expanded.
func resolvePath(_ path: String, against base: String) -> String {
    let p = (path as NSString).expandingTildeInPath
    if p.hasPrefix("/") { return (p as NSString).standardizingPath }
    return ((base as NSString).appendingPathComponent(p) as NSString).standardizingPath
}

/// Compresses `input` as a single gzip member (zlib `deflateInit2` with windowBits 15 + 16).
func gzipBytes(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
    var stream = z_stream()
    precondition(
        deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    defer { deflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
    var input = input
    let produced: Int = input.withUnsafeMutableBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = uInt(dst.count)
            let status = deflate(&stream, Z_FINISH)
            precondition(status == Z_STREAM_END, "deflate failed: \(status)")
            return dst.count - Int(stream.avail_out)
        }
    }
    return Array(out[0..<produced])
}
