import Foundation

/// The set of files a command writes into its output folder, made visible together after every
/// check passed, or not at all (docs/CLI.md, "Outputs").
///
/// Everything is written into a staging folder inside the output folder,
/// `OUT/.kdc-staging/<pid>-<id>/`. `commit` moves the files into `OUT` one by one, the report
/// last, and removes files of the previous set (listed in the previous report's `outputs`) that
/// the new set does not have; a journal written first (`.commit` in the staging folder) lets the
/// next kdc run finish a commit that a SIGKILL cut short. `moveToFailed` puts the set in
/// `OUT/failed/` instead, replacing an earlier failed set, and leaves `OUT`'s own set alone.
/// `abort` (an error, or Ctrl-C through `InterruptGuard`) removes the staging folder.
public final class OutputTransaction {
    /// The output folder.
    public let outDir: String
    /// Where this transaction's files are written until they are committed.
    public let stagingDir: String
    /// Staging folders, inside the output folder.
    public static let stagingName = ".kdc-staging"
    /// Where a set whose checks failed goes, inside the output folder.
    public static let failedName = "failed"
    static let journalName = ".commit"

    enum State { case open, committed, failed, aborted }
    private(set) var state = State.open

    /// Creates the output folder if needed, finishes or removes what earlier interrupted runs
    /// left in its staging folder (`recover`), and opens an empty staging folder.
    /// - Throws: `KDCError.io` when the output folder cannot be created or written.
    public init(outDir: String) throws {
        let out = outDir.hasSuffix("/") && outDir.count > 1 ? String(outDir.dropLast()) : outDir
        self.outDir = out
        try ensureDirectory(out)
        try OutputTransaction.recover(outDir: out)
        let root = out + "/" + OutputTransaction.stagingName
        stagingDir = root + "/\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: stagingDir, withIntermediateDirectories: true)
        } catch {
            throw KDCError.io(path: out, message: "the output folder is not writable (\(error)); hint: pass another --out")
        }
        InterruptGuard.register(self)
    }

    deinit { InterruptGuard.unregister(self) }

    /// The staging path of output file `name` (a file name, no folders).
    public func stagedPath(_ name: String) -> String { stagingDir + "/" + name }

    /// The path a staged file will have once committed.
    public func finalPath(_ name: String) -> String { outDir + "/" + name }

    /// The path a staged file will have in the failed set.
    public func failedPath(_ name: String) -> String { outDir + "/" + OutputTransaction.failedName + "/" + name }

    /// Files staged so far (the journal excepted), sorted.
    public func stagedFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: stagingDir)) ?? [])
            .filter { $0 != OutputTransaction.journalName && !$0.hasPrefix(".") }.sorted()
    }

    /// Makes the staged set the output folder's: every staged file moved into place, `report`
    /// (a staged file name) last; files of the previous set (the previous `report`'s `outputs`)
    /// that the new set lacks are removed; the staging folder is removed.
    /// - Throws: `KDCError.io` when a file cannot be moved.
    public func commit(report: String) throws {
        try InterruptGuard.critical {
            guard state == .open else { return }
            let files = stagedFiles()
            guard files.contains(report) else {
                throw KDCError.io(path: stagedPath(report), message: "the report was not written; nothing was committed")
            }
            let previous = OutputTransaction.outputs(ofReport: finalPath(report))
            let stale = previous.filter { !files.contains($0) && $0 != report }
            let journal = Journal(files: files.filter { $0 != report } + [report], remove: stale)
            try writeFileAtomically(try JSONEncoder().encode(journal), to: stagedPath(OutputTransaction.journalName))
            try OutputTransaction.apply(journal, staging: stagingDir, outDir: outDir)
            state = .committed
        }
    }

    /// Moves the staged set to `OUT/failed/` (replacing an earlier one) and leaves the output
    /// folder's own set as it was. Returns the failed folder.
    @discardableResult
    public func moveToFailed() throws -> String {
        try InterruptGuard.critical {
            let failed = outDir + "/" + OutputTransaction.failedName
            guard state == .open else { return failed }
            try? FileManager.default.removeItem(atPath: stagedPath(OutputTransaction.journalName))
            let fm = FileManager.default
            if fm.fileExists(atPath: failed) {
                let trash = outDir + "/" + OutputTransaction.stagingName + "/trash-\(getpid())-\(UUID().uuidString.prefix(8))"
                guard rename(failed, trash) == 0 else {
                    throw KDCError.io(
                        path: failed, message: "cannot replace the earlier failed set: \(String(cString: strerror(errno)))")
                }
                try? fm.removeItem(atPath: trash)
            }
            guard rename(stagingDir, failed) == 0 else {
                throw KDCError.io(
                    path: failed, message: "cannot move the failed set into place: \(String(cString: strerror(errno)))")
            }
            OutputTransaction.removeIfEmpty(outDir + "/" + OutputTransaction.stagingName)
            state = .failed
            return failed
        }
    }

    /// Removes the staging folder (nothing of this transaction becomes visible). Safe to call
    /// more than once and after a commit.
    public func abort() {
        InterruptGuard.critical { abortUnlocked() }
    }

    /// `abort` without taking the guard's lock (the interrupt thread holds it).
    func abortUnlocked() {
        guard state == .open else { return }
        state = .aborted
        // Rename first: files a writer is still creating land in the renamed folder and go too.
        let trash = stagingDir + ".aborted"
        let target = rename(stagingDir, trash) == 0 ? trash : stagingDir
        try? FileManager.default.removeItem(atPath: target)
        OutputTransaction.removeIfEmpty(outDir + "/" + OutputTransaction.stagingName)
    }

    // MARK: Journal and recovery

    struct Journal: Codable {
        /// Staged file names in the order they are moved; the report is last.
        var files: [String]
        /// Files of the previous set to remove from the output folder.
        var remove: [String]
    }

    /// Moves the journal's files (those still staged) into `outDir`, removes the stale ones, and
    /// removes the staging folder. Idempotent: a run cut short is finished by running it again.
    static func apply(_ j: Journal, staging: String, outDir: String) throws {
        let fm = FileManager.default
        let report = j.files.last
        for (i, f) in j.files.enumerated() {
            if f == report {
                for s in j.remove { try? fm.removeItem(atPath: outDir + "/" + s) }
                FaultInjection.point("commit.report")
            }
            let src = staging + "/" + f
            guard fm.fileExists(atPath: src) else { continue }  // moved by an earlier, interrupted run
            guard rename(src, outDir + "/" + f) == 0 else {
                throw KDCError.io(
                    path: outDir + "/" + f, message: "cannot move the new file into place: \(String(cString: strerror(errno)))")
            }
            FaultInjection.point("commit.file.\(i + 1)")
        }
        try? fm.removeItem(atPath: staging)
        removeIfEmpty(outDir + "/" + stagingName)
    }

    /// Cleans `outDir`'s staging folder: a staging folder with a journal is a commit a SIGKILL
    /// cut short, and is finished; one without is the leftover of an interrupted run, and is
    /// removed, unless the kdc process that owns it is still running.
    public static func recover(outDir: String) throws {
        let fm = FileManager.default
        let root = outDir + "/" + stagingName
        guard let entries = try? fm.contentsOfDirectory(atPath: root) else { return }
        for e in entries.sorted() {
            let dir = root + "/" + e
            if let data = fm.contents(atPath: dir + "/" + journalName),
                let j = try? JSONDecoder().decode(Journal.self, from: data)
            {
                try apply(j, staging: dir, outDir: outDir)
                continue
            }
            if let pid = Int32(e.split(separator: "-").first ?? ""), pid != getpid(), kill(pid, 0) == 0 { continue }
            try? fm.removeItem(atPath: dir)
        }
        removeIfEmpty(root)
    }

    /// The `outputs` list of a kdc report (empty when there is none).
    static func outputs(ofReport path: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: path),
            let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = obj["outputs"] as? [String]
        else { return [] }
        return list.filter { !$0.contains("/") && !$0.isEmpty }
    }

    static func removeIfEmpty(_ dir: String) {
        if let c = try? FileManager.default.contentsOfDirectory(atPath: dir), c.isEmpty { rmdir(dir) }
    }
}

/// Ctrl-C, SIGTERM and SIGHUP while kdc writes an output set: the open transactions are
/// aborted (a commit in progress is finished first), then the process exits with 128 + the
/// signal. Installed by the command line (`install()`); library users who want the same call it.
public enum InterruptGuard {
    private static let lock = NSRecursiveLock()
    nonisolated(unsafe) private static var open: [ObjectIdentifier: OutputTransaction] = [:]
    /// Temporary files removed on an interrupt (`removingOnInterrupt`).
    nonisolated(unsafe) private static var temporaryFiles: Set<String> = []
    nonisolated(unsafe) private static var pipeFDs: [Int32] = [-1, -1]
    nonisolated(unsafe) private static var installed = false

    /// The signal that arrived, 0 until one does (set by the handler).
    nonisolated(unsafe) private static var pending: Int32 = 0

    /// Runs `body` with interrupts held off: a signal that arrives meanwhile is acted on when
    /// `body` returns (the open transactions aborted, the process exits 128 + signal).
    static func critical<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer {
            if pending != 0 { exitInterrupted(pending) }
            lock.unlock()
        }
        return try body()
    }

    /// Aborts the open transactions and exits; called with the lock held.
    private static func exitInterrupted(_ sig: Int32) -> Never {
        for t in open.values { t.abortUnlocked() }
        for f in temporaryFiles { unlink(f) }
        let msg = "\nkdc: interrupted (signal \(sig)); the output folder keeps its previous set\n"
        _ = msg.withCString { write(2, $0, strlen($0)) }
        _exit(128 + sig)
    }

    static func register(_ t: OutputTransaction) { critical { open[ObjectIdentifier(t)] = t } }

    /// Runs `body` with the file at `path` removed if an interrupt ends the process meanwhile (a
    /// temporary file that `body` renames into place or removes).
    public static func removingOnInterrupt<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        critical { _ = temporaryFiles.insert(path) }
        defer { critical { _ = temporaryFiles.remove(path) } }
        return try body()
    }
    static func unregister(_ t: OutputTransaction) { critical { open[ObjectIdentifier(t)] = nil } }

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP (once). The handler only writes the
    /// signal number to a pipe; a thread reads it, aborts the open transactions and exits.
    /// Handlers (unlike ignored signals) are reset in child processes, so compilers and QEMU
    /// still stop on Ctrl-C.
    public static func install() {
        critical {
            guard !installed else { return }
            installed = true
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { return }
            pipeFDs = fds
            let t = Thread {
                var sig: Int32 = 0
                while read(pipeFDs[0], &sig, MemoryLayout<Int32>.size) != MemoryLayout<Int32>.size {}
                lock.lock()
                exitInterrupted(sig)
            }
            t.start()
            for s in [SIGINT, SIGTERM, SIGHUP] {
                signal(s) { sig in
                    InterruptGuard.pending = sig
                    var v = sig
                    _ = write(InterruptGuard.pipeFDs[1], &v, MemoryLayout<Int32>.size)
                }
            }
        }
    }
}

/// Test hook: with `KDC_TEST_FAULT=<point>:<signal>` (e.g. `commit.file.2:KILL`) kdc sends
/// itself the signal when it reaches that point, so the interruption test can stop a build
/// exactly between two renames of a commit. Points: `stage.<name>` (a pipeline stage starts),
/// `commit.file.<n>` (after the n-th file of a commit moved), `commit.report` (before the
/// report moves). Unset in normal use.
enum FaultInjection {
    static let spec: (point: String, signal: Int32)? = {
        guard let v = ProcessInfo.processInfo.environment["KDC_TEST_FAULT"], let colon = v.lastIndex(of: ":") else {
            return nil
        }
        let names: [String: Int32] = ["KILL": SIGKILL, "INT": SIGINT, "TERM": SIGTERM]
        guard let s = names[String(v[v.index(after: colon)...])] else { return nil }
        return (String(v[..<colon]), s)
    }()

    static func point(_ name: String) {
        guard let f = spec, f.point == name else { return }
        if f.signal == SIGINT {
            kill(0, SIGINT)  // the process group, as a terminal's Ctrl-C
            Thread.sleep(forTimeInterval: 0.5)
        } else {
            raise(f.signal)
        }
    }
}
