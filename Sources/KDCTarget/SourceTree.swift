import Foundation

/// Where the C sources the targets build live: the runtime (`runtime/`) and the firmware sample
/// (`samples/firmware/`) of a kdc checkout.
public enum SourceTree {
    /// The runtime folder (the one holding `include/kdc.h`): `$KDC_RUNTIME_DIR` (the runtime
    /// folder or its parent), else the first `runtime/` found walking up from the executable's
    /// folder, then from the current directory.
    /// - Throws: `TargetError.io` when none is found.
    public static func runtimeDirectory() throws -> String {
        let fm = FileManager.default
        func hasHeader(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/include/kdc.h") }
        if let env = ProcessInfo.processInfo.environment["KDC_RUNTIME_DIR"], !env.isEmpty {
            if hasHeader(env) { return env }
            if hasHeader(env + "/runtime") { return env + "/runtime" }
            throw TargetError.io(
                path: env,
                message:
                    "KDC_RUNTIME_DIR has no include/kdc.h (nor runtime/include/kdc.h); hint: point it at the kdc runtime/ folder")
        }
        var starts: [URL] = []
        if let exe = Bundle.main.executableURL { starts.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        starts.append(URL(fileURLWithPath: fm.currentDirectoryPath))
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                if hasHeader(dir.path + "/runtime") { return dir.path + "/runtime" }
                let up = dir.deletingLastPathComponent()
                if up.path == dir.path { break }
                dir = up
            }
        }
        throw TargetError.io(
            path: fm.currentDirectoryPath,
            message:
                "cannot find the kdc C runtime (runtime/include/kdc.h) above the executable or the current directory; hint: set KDC_RUNTIME_DIR to the runtime/ folder"
        )
    }

    /// The runtime's C sources (`src/*.c`), sorted.
    /// - Throws: `TargetError.io` when there are none.
    public static func runtimeSources(_ runtimeDirectory: String) throws -> [String] {
        let src = runtimeDirectory + "/src"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: src)) ?? []).filter { $0.hasSuffix(".c") }.sorted()
        guard !files.isEmpty else { throw TargetError.io(path: src, message: "no C sources (*.c) in the runtime folder") }
        return files.map { src + "/" + $0 }
    }

    /// The firmware folder (holding `main.c`, `startup.c`, `link.ld`): `$KDC_FIRMWARE_DIR`, else
    /// the `samples/firmware` next to the runtime folder.
    /// - Throws: `TargetError.io` when none is found.
    public static func firmwareDirectory(runtimeDirectory: String) throws -> String {
        let fm = FileManager.default
        func ok(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/main.c") && fm.fileExists(atPath: dir + "/link.ld") }
        if let env = ProcessInfo.processInfo.environment["KDC_FIRMWARE_DIR"], !env.isEmpty {
            guard ok(env) else {
                throw TargetError.io(
                    path: env,
                    message: "KDC_FIRMWARE_DIR has no main.c and link.ld; hint: point it at kdc's samples/firmware folder")
            }
            return env
        }
        let dir = URL(fileURLWithPath: runtimeDirectory).deletingLastPathComponent().appendingPathComponent("samples/firmware")
            .path
        guard ok(dir) else {
            throw TargetError.io(
                path: dir,
                message: "cannot find kdc's samples/firmware (main.c, link.ld) next to the runtime; hint: set KDC_FIRMWARE_DIR")
        }
        return dir
    }

    /// A new empty folder under the temporary directory, named `kdc-<purpose>-<pid>-<uuid>`.
    public static func scratchDirectory(_ purpose: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kdc-\(purpose)-\(getpid())-\(UUID().uuidString)")
            .path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw TargetError.io(path: dir, message: "cannot create a scratch folder: \(error)")
        }
        return dir
    }

    /// Writes `data` to `path` (replacing it).
    public static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TargetError.io(path: path, message: "cannot write the file: \(error)")
        }
    }
}
