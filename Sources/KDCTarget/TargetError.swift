import Foundation

/// Every error the target layer throws. Each names what it is about (a file, a tool, a program)
/// and says what was expected; where one helps, the message ends with a hint. The KDC library
/// maps these to its own `KDCError` (`KDCError.init(_: TargetError)`).
public enum TargetError: Error, Equatable, CustomStringConvertible {
    /// `tool` is not on `PATH`; `packages` are the Debian packages that provide it (and the rest of
    /// the target's tools).
    case toolNotFound(tool: String, packages: [String])
    /// `tool` ran and did not succeed: `termination` says how it ended, `output` is what it printed.
    case toolFailed(tool: String, action: String, termination: Termination, output: String, hint: String?)
    /// A file (or a program's output) is not in the form expected.
    case format(file: String, message: String)
    /// Reading, writing or finding a file failed.
    case io(path: String, message: String)
    /// A value the caller passed is out of its contract.
    case invalidInput(what: String, message: String)
    /// A program on a target reported an `error` record (`{"record":"error","what":…,"status":…}`);
    /// `program` names it (or what it ran, e.g. the artifact).
    case programFailed(program: String, what: String, status: String)

    /// The file, tool or program the error is about.
    public var subject: String {
        switch self {
        case let .toolNotFound(tool, _): return tool
        case let .toolFailed(tool, _, _, _, _): return tool
        case let .format(file, _): return file
        case let .io(path, _): return path
        case let .invalidInput(what, _): return what
        case let .programFailed(program, _, _): return program
        }
    }

    /// What went wrong, without the subject.
    public var message: String {
        switch self {
        case let .toolNotFound(tool, packages):
            return "\(tool) not found on PATH; hint: apt-get install \(packages.joined(separator: " "))"
        case let .toolFailed(_, action, termination, output, hint):
            let out = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(action) failed (\(termination))" + (hint.map { "; hint: \($0)" } ?? "") + (out.isEmpty ? "" : ":\n\(out)")
        case let .format(_, message), let .io(_, message), let .invalidInput(_, message):
            return message
        case let .programFailed(_, what, status):
            return "\(what): \(status)"
        }
    }

    public var description: String { "\(subject): \(message)" }
}

extension TargetError {
    /// The same error with a `programFailed` naming `program` instead (e.g. the artifact a
    /// harness ran rather than the harness).
    func naming(program: String) -> TargetError {
        if case let .programFailed(_, what, status) = self { return .programFailed(program: program, what: what, status: status) }
        return self
    }
}

/// `body`, with a `programFailed` error naming `program`.
func naming<T>(program: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as TargetError {
        throw e.naming(program: program)
    }
}
