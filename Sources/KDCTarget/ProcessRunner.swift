import Foundation

/// How a process ended.
public enum Termination: Equatable, Sendable, CustomStringConvertible {
    /// It exited with this status.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)
    /// It ran longer than its timeout (seconds) and was killed.
    case timedOut(Double)

    public var description: String {
        switch self {
        case let .exited(s): return "exit status \(s)"
        case let .signaled(s): return "killed by signal \(s)"
        case let .timedOut(t): return "timed out after \(String(format: "%g", t)) s"
        }
    }
}

/// A program to run: `tool` is a name looked up on `PATH` or a path (anything with a `/`).
public struct Command: Sendable {
    public var tool: String
    public var arguments: [String]
    /// Added to (or replacing entries of) the inherited environment.
    public var environment: [String: String]
    public var workingDirectory: String?
    /// Seconds before the process is terminated (SIGTERM, then SIGKILL after 5 s); nil: no limit.
    public var timeout: Double?
    /// Debian packages to name when `tool` is not found (default: `Tools.packages(for:)`).
    public var packages: [String]?

    public init(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], workingDirectory: String? = nil,
        timeout: Double? = nil, packages: [String]? = nil
    ) {
        self.tool = tool
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.packages = packages
    }

    /// "tool arg1 arg2" for messages.
    public var line: String { ([tool] + arguments).joined(separator: " ") }
}

/// What a finished process printed and how it ended.
public struct ProcessOutput: Sendable {
    public var termination: Termination
    public var stdout: String
    public var stderr: String
    /// Exited with status 0.
    public var succeeded: Bool { termination == .exited(0) }
}

/// The Debian packages of the tools the targets use, for "not found" hints.
public enum Tools {
    public static func packages(for tool: String) -> [String] {
        switch tool {
        case "cc", "gcc": return ["gcc"]
        case "clang": return ["clang"]
        case "make": return ["make"]
        case "valgrind": return ["valgrind"]
        default: return [tool]
        }
    }

    /// The absolute path of `tool` (a name on `path`, default `$PATH`, or a path), nil when none
    /// is an executable file.
    public static func locate(_ tool: String, path: String? = nil) -> String? {
        let fm = FileManager.default
        if tool.contains("/") { return fm.isExecutableFile(atPath: tool) ? tool : nil }
        let search = path ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in search.split(separator: ":") where fm.isExecutableFile(atPath: "\(dir)/\(tool)") {
            return "\(dir)/\(tool)"
        }
        return nil
    }

    /// Throws `TargetError.toolNotFound` naming `packages` (default: the tool's own) for the first
    /// of `tools` not on `path`.
    public static func require(_ tools: [String], packages: [String]? = nil, path: String? = nil) throws {
        for t in tools where locate(t, path: path) == nil {
            throw TargetError.toolNotFound(tool: t, packages: packages ?? Tools.packages(for: t))
        }
    }
}

/// Runs programs to completion. Captured output goes through temporary files, never pipes, so a
/// child that prints a lot cannot block on a full pipe; `stream` reads a pipe as it fills.
public enum ProcessRunner {
    /// Runs `command`; stdout and stderr are captured whole.
    /// - Throws: `TargetError.toolNotFound` when the tool is not on `PATH`, `TargetError.io` when
    ///   it cannot be started or its output not read. A non-zero exit is not an error here: see
    ///   `ProcessOutput.termination` (or use `check`).
    public static func run(_ command: Command) throws -> ProcessOutput {
        let (outPath, out) = try scratchFile("stdout")
        defer { try? out.close(); unlink(outPath) }
        let (errPath, err) = try scratchFile("stderr")
        defer { try? err.close(); unlink(errPath) }
        let termination = try execute(command, stdout: out, stderr: err)
        return ProcessOutput(termination: termination, stdout: try read(outPath), stderr: try read(errPath))
    }

    /// Runs `command` and returns its output when it exited with status 0.
    /// - Throws: `TargetError.toolFailed` (naming `action`, with everything it printed and `hint`)
    ///   otherwise; what `run` throws.
    @discardableResult
    public static func check(_ command: Command, action: String, hint: String? = nil) throws -> ProcessOutput {
        let r = try run(command)
        guard r.succeeded else {
            throw TargetError.toolFailed(
                tool: command.tool, action: action, termination: r.termination, output: r.stdout + r.stderr, hint: hint)
        }
        return r
    }

    /// Runs `command` with stdout read through a pipe as the process writes it: `consume` gets
    /// each chunk (for output too large to keep, e.g. QEMU's per-instruction register dumps).
    /// stderr is captured whole (`ProcessOutput.stdout` is empty).
    public static func stream(_ command: Command, consume: (Data) throws -> Void) throws -> ProcessOutput {
        let (errPath, err) = try scratchFile("stderr")
        defer { try? err.close(); unlink(errPath) }
        let pipe = Pipe()
        var failure: Error?
        let termination = try execute(command, stdout: pipe, stderr: err) {
            // Process.run closed this process's write end, so the read end sees EOF when the child exits.
            let reader = pipe.fileHandleForReading
            while true {
                let chunk: Data
                do {
                    guard let c = try reader.read(upToCount: 1 << 16), !c.isEmpty else { break }
                    chunk = c
                } catch {
                    failure = error
                    break
                }
                if failure == nil {
                    do { try consume(chunk) } catch { failure = error }
                }
            }
        }
        if let failure { throw failure }
        return ProcessOutput(termination: termination, stdout: "", stderr: try read(errPath))
    }

    // MARK: - implementation

    /// Starts the process, runs `whileRunning` (if any) on this thread, waits for the end
    /// (terminating it at the timeout).
    private static func execute(
        _ command: Command, stdout: Any, stderr: Any, whileRunning: () throws -> Void = {}
    ) throws -> Termination {
        guard let exe = Tools.locate(command.tool) else {
            throw TargetError.toolNotFound(tool: command.tool, packages: command.packages ?? Tools.packages(for: command.tool))
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = command.arguments
        if !command.environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(command.environment) { $1 }
        }
        if let dir = command.workingDirectory { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = stdout
        p.standardError = stderr
        let finished = DispatchSemaphore(value: 0)
        let state = RunState()
        p.terminationHandler = { _ in
            state.exited()
            finished.signal()
        }
        do {
            try p.run()
        } catch {
            throw TargetError.io(path: exe, message: "cannot start \(command.line): \(error)")
        }
        if let t = command.timeout {
            let pid = p.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + t) {
                guard state.timeOut() else { return }
                kill(pid, SIGTERM)
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { if state.isRunning { kill(pid, SIGKILL) } }
            }
        }
        try whileRunning()
        finished.wait()
        if state.timedOut, let t = command.timeout { return .timedOut(t) }
        return p.terminationReason == .uncaughtSignal ? .signaled(p.terminationStatus) : .exited(p.terminationStatus)
    }

    private static func scratchFile(_ kind: String) throws -> (String, FileHandle) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kdc-\(kind)-\(getpid())-\(UUID().uuidString)")
            .path
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw TargetError.io(path: path, message: "cannot create a file for a process's \(kind)")
        }
        return (path, h)
    }

    private static func read(_ path: String) throws -> String {
        guard let d = FileManager.default.contents(atPath: path) else {
            throw TargetError.io(path: path, message: "cannot read a process's captured output")
        }
        return String(decoding: d, as: UTF8.self)
    }
}

/// Whether the process still runs and whether the timeout ended it (set from other threads).
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true, timeout = false
    func exited() { lock.lock(); running = false; lock.unlock() }
    /// Marks the timeout when the process still runs; true then.
    func timeOut() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if running { timeout = true }
        return running
    }
    var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }
    var timedOut: Bool { lock.lock(); defer { lock.unlock() }; return timeout }
}
