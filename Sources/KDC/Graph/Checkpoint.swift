import Foundation

/// Float model checkpoints in the safetensors format (8-byte little-endian header length, a
/// JSON header, then raw little-endian tensors), readable by the `safetensors` Python package.
///
/// Every parameter (and batch-norm statistic) is stored under its name as `F32`. The
/// `__metadata__` map holds `kdc.format` ("1"), `kdc.graph` (the `GraphSpec` as JSON) and
/// `kdc.normalization` (the input normalization as JSON), so a checkpoint alone rebuilds the
/// model and tells how its inputs are scaled. Keys are written sorted, so the same model gives
/// the same bytes.
public enum Checkpoint {
    /// Serializes `model` and `normalization` to safetensors bytes.
    public static func encode(_ model: Model, normalization: Normalization, metadata extra: [String: String] = [:]) throws -> Data
    {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var meta = extra
        meta["kdc.format"] = "1"
        meta["kdc.graph"] = String(decoding: try enc.encode(model.spec), as: UTF8.self)
        meta["kdc.normalization"] = String(decoding: try enc.encode(normalization), as: UTF8.self)
        let params = model.parameters.sorted { $0.name < $1.name }
        var header: [String: Any] = ["__metadata__": meta]
        var offset = 0
        for p in params {
            let bytes = p.value.count * 4
            header[p.name] = ["dtype": "F32", "shape": p.value.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for p in params {
            p.value.data.withUnsafeBufferPointer { buf in
                for v in buf { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }

    /// Writes a checkpoint to `path` atomically (a temporary file renamed into place).
    public static func save(_ model: Model, normalization: Normalization, to path: String, metadata: [String: String] = [:])
        throws
    {
        try writeFileAtomically(try encode(model, normalization: normalization, metadata: metadata), to: path)
    }

    /// Reads a checkpoint and rebuilds its model with the stored weights.
    public static func load(_ path: String) throws -> (model: Model, normalization: Normalization) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KDCError.io(path: path, message: "cannot read the checkpoint (missing or unreadable)")
        }
        return try decode(data, file: path)
    }

    public static func decode(_ data: Data, file: String) throws -> (model: Model, normalization: Normalization) {
        func bad(_ m: String) -> KDCError {
            .format(file: file, message: m + "; hint: pass a .safetensors file written by `kdc train`")
        }
        guard data.count >= 8 else { throw bad("too short for a safetensors header (\(data.count) bytes)") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8), n < 100_000_000 else { throw bad("header length \(n) runs past the end of the file") }
        let headerEnd = 8 + Int(n)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        guard let meta = header["__metadata__"] as? [String: String], let graphJSON = meta["kdc.graph"],
            let normJSON = meta["kdc.normalization"]
        else {
            throw bad("no kdc metadata (kdc.graph, kdc.normalization)")
        }
        let dec = JSONDecoder()
        let spec: GraphSpec, norm: Normalization
        do {
            spec = try dec.decode(GraphSpec.self, from: Data(graphJSON.utf8))
            norm = try dec.decode(Normalization.self, from: Data(normJSON.utf8))
        } catch {
            throw bad("the kdc metadata does not decode: \(error)")
        }
        let model = try Model(spec: spec, seed: 0)
        let body = data.count - headerEnd
        for p in model.parameters {
            guard let entry = header[p.name] as? [String: Any] else { throw bad("tensor '\(p.name)' is missing") }
            guard entry["dtype"] as? String == "F32" else { throw bad("tensor '\(p.name)' is not F32") }
            guard let shape = entry["shape"] as? [Int], shape == p.value.shape else {
                throw bad("tensor '\(p.name)' has shape \(entry["shape"] ?? "?"), the graph needs \(p.value.shape)")
            }
            guard let offs = entry["data_offsets"] as? [Int], offs.count == 2, offs[0] >= 0, offs[1] <= body,
                offs[1] - offs[0] == p.value.count * 4
            else {
                throw bad("tensor '\(p.name)' has data offsets outside the file or of the wrong size")
            }
            data.withUnsafeBytes { raw in
                let base = headerEnd + offs[0]
                p.value.data.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<dst.count {
                        let bits = raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)
                        dst[i] = Float(bitPattern: UInt32(littleEndian: bits))
                    }
                }
            }
        }
        return (model, norm)
    }
}

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so a reader
/// never sees a half-written file and an earlier good file survives a failed write.
public func writeFileAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    try ensureDirectory(dir)
    let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())"
    // Plain open/write/close: FileManager.createFile would stage through a temporary file of its
    // own (".dat.nosync…") that a kill could leave behind.
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else {
        throw KDCError.io(path: path, message: "cannot write: \(String(cString: strerror(errno))) (folder not writable?)")
    }
    var ok = true
    data.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false; break }
            done += n
        }
    }
    if close(fd) != 0 { ok = false }
    guard ok else {
        let err = String(cString: strerror(errno))
        unlink(tmp)
        throw KDCError.io(path: path, message: "cannot write: \(err) (disk full?)")
    }
    if rename(tmp, path) != 0 {
        let err = String(cString: strerror(errno))
        unlink(tmp)
        throw KDCError.io(path: path, message: "cannot move the new file into place: \(err)")
    }
}

/// Creates `dir` (and its parents) unless it exists; a clear error when a file is in the way or
/// the folder cannot be made.
public func ensureDirectory(_ dir: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
        if !isDir.boolValue { throw KDCError.io(path: dir, message: "is not a folder (a file has that name)") }
        return
    }
    // Name the first ancestor that is in the way, if any.
    var parent = URL(fileURLWithPath: dir).deletingLastPathComponent()
    while parent.path != "/" {
        if FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDir) {
            if !isDir.boolValue {
                throw KDCError.io(path: dir, message: "cannot create the folder: \(parent.path) is a file, not a folder")
            }
            break
        }
        parent.deleteLastPathComponent()
    }
    if mkdirAll(dir) != 0 {
        throw KDCError.io(path: dir, message: "cannot create the folder: \(String(cString: strerror(errno)))")
    }
}

private func mkdirAll(_ dir: String) -> Int32 {
    let parent = URL(fileURLWithPath: dir).deletingLastPathComponent().path
    if parent != dir && !FileManager.default.fileExists(atPath: parent) {
        let r = mkdirAll(parent)
        if r != 0 { return r }
    }
    if mkdir(dir, 0o755) != 0 && errno != EEXIST { return -1 }
    return 0
}
