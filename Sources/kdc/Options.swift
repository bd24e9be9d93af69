import ArgumentParser
import Foundation
import KDC
import KDCTarget

/// Options shared by every command that reads a config.
struct ConfigOptions: ParsableArguments {
    @Argument(help: "The config file (YAML).")
    var config: String

    @Option(help: "Data folder; replaces data.dir of the config.")
    var data: String?

    @Option(help: "Output folder (default: out/<config name>).")
    var out: String?

    @Option(help: "Training seed (initialization, shuffling, dropout, augmentation).")
    var seed: UInt64?

    @Option(help: "Epochs for every model trained (overrides the config).")
    var epochs: Int?

    @Option(
        help:
            "Use this teacher instead of the config's: a checkpoint (.safetensors written by kdc) or a float32 TensorFlow Lite model (.tflite)."
    )
    var teacher: String?

    @Flag(help: "Print only the final summary.")
    var quiet = false

    func validate() throws {
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1, got \(e)") }
    }

    func load() throws -> KDCConfig {
        var cfg = try KDCConfig.load(path: config, overrides: ConfigOverrides(data: data, out: out, seed: seed, epochs: epochs))
        if let t = teacher {
            let path = URL(fileURLWithPath: t).standardizedFileURL.path
            cfg.teacher =
                path.lowercased().hasSuffix(".tflite")
                ? TeacherConfig(tflite: path, minAgreement: cfg.teacher.minAgreement)
                : TeacherConfig(checkpoint: path, minAgreement: cfg.teacher.minAgreement)
        }
        return cfg
    }

    /// The output folder: --out, else out/<config file name without extension>.
    func outDir(_ cfg: KDCConfig) -> String {
        if let o = out { return o }
        let base = URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent
        let parent = URL(fileURLWithPath: config).deletingLastPathComponent().lastPathComponent
        return "out/" + (base == "config" ? parent : base)
    }
}

/// `--flash-budget` / `--ram-budget`: the config's `budget` replaced from the command line (the
/// same budget a search screens candidates with and a build checks the artifact against).
struct BudgetOptions: ParsableArguments {
    @Option(help: "Flash budget in bytes (replaces budget.flash_bytes).")
    var flashBudget: Int?

    @Option(help: "RAM budget in bytes (replaces budget.ram_bytes).")
    var ramBudget: Int?

    func validate() throws {
        if let f = flashBudget, f < 1 { throw ValidationError("--flash-budget must be a positive number of bytes, got \(f)") }
        if let r = ramBudget, r < 1 { throw ValidationError("--ram-budget must be a positive number of bytes, got \(r)") }
    }

    func apply(to cfg: inout KDCConfig) {
        guard flashBudget != nil || ramBudget != nil else { return }
        var b = cfg.budget ?? BudgetConfig()
        if let f = flashBudget { b.flashBytes = f }
        if let r = ramBudget { b.ramBytes = r }
        cfg.budget = b
    }
}

/// Runs `body`, turning kdc's errors into a message on stderr and an exit code: 2 when a check
/// of the built model failed (`KDCError.check`), 1 for every other error.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as KDCError {
        FileHandle.standardError.write(Data("error: \(e)\n".utf8))
        if case .check = e { throw ExitCode(2) }
        throw ExitCode(1)
    } catch let e as TargetError {
        FileHandle.standardError.write(Data("error: \(KDCError(e))\n".utf8))
        throw ExitCode(1)
    }
}
