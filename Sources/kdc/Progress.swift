import Foundation
import KDC

/// Progress on stderr: a redrawn bar per epoch with loss, accuracy and ETA on a terminal; without
/// one (CI, a pipe, a log file) a line per stage and, per training, the first epoch, then at most
/// one epoch line every `lineInterval` seconds, and the last epoch; nothing with --quiet. The
/// full per-epoch history is in the report (`history` of each model).
final class ConsoleProgress: PipelineObserver {
    let quiet: Bool
    let tty: Bool
    /// Seconds between two epoch lines without a terminal (`KDC_PROGRESS_SECONDS`, default 10).
    let lineInterval: Double
    private var epochStart = Date()
    private var lastDraw = Date.distantPast
    private var lastLine = Date.distantPast
    private var epoch = 0, epochs = 0

    init(quiet: Bool) {
        self.quiet = quiet
        tty = isatty(2) != 0
        lineInterval = ProcessInfo.processInfo.environment["KDC_PROGRESS_SECONDS"].flatMap(Double.init) ?? 10
    }

    private func err(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    func stage(_ name: String, detail: String) {
        if !quiet { err("[\(name)] \(detail)\n") }
    }

    func beginEpoch(_ epoch: Int, of epochs: Int, steps: Int) {
        self.epoch = epoch + 1
        self.epochs = epochs
        epochStart = Date()
        if epoch == 0 { lastLine = .distantPast }
    }

    func step(_ step: Int, of steps: Int, loss: Double, accuracy: Double) {
        guard tty, !quiet, Date().timeIntervalSince(lastDraw) > 0.1 || step == steps else { return }
        lastDraw = Date()
        let frac = Double(step) / Double(steps)
        let width = 24
        let filled = Int(frac * Double(width))
        let elapsed = Date().timeIntervalSince(epochStart)
        let eta = frac > 0 ? elapsed * (1 - frac) / frac : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        err(
            "\r  epoch \(epoch)/\(epochs) \(bar) " + String(format: "%3.0f%% loss %.4f acc %.4f", frac * 100, loss, accuracy)
                + " eta \(formatDuration(eta)) ")
    }

    func endEpoch(_ s: EpochStats, of epochs: Int) {
        guard !quiet else { return }
        if tty {
            err("\r\u{1B}[K")
        } else {
            let now = Date()
            guard s.epoch == epochs || now.timeIntervalSince(lastLine) >= lineInterval else { return }
            lastLine = now
        }
        let val = s.validationAccuracy.map { String(format: " val_acc %.4f", $0) } ?? ""
        err(
            "  epoch \(s.epoch)/\(epochs) " + String(format: "loss %.4f acc %.4f", s.loss, s.trainAccuracy) + val
                + String(format: " lr %.2e %.1fs %.0f samples/s\n", Double(s.learningRate), s.seconds, s.samplesPerSecond))
    }
}

func formatDuration(_ s: Double) -> String {
    s >= 60 ? String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) : String(format: "%.1fs", s)
}
