import Foundation

extension KDCConfig {
    /// The effective configuration as YAML, with every default filled in and every path
    /// absolute; `KDCConfig.load` reads it back to an equal config (apart from `file`).
    public func yaml() -> String {
        var o = "# kdc effective configuration: every default filled in, paths absolute.\n"
        o += "seed: \(seed)\n"
        if let f = frontend {
            o +=
                "frontend: {sample_rate: \(f.sampleRate), window: \(f.windowSamples), hop: \(f.hopSamples), fft: \(f.fftSize), "
                + "mel_bins: \(f.melBins), coefficients: \(f.coefficients), low_hz: \(f.lowHz), high_hz: \(f.highHz)}\n"
        }
        o += "data:\n"
        o += "  format: \(data.format.rawValue)\n"
        o += "  dir: \(q(data.dir))\n"
        switch data.train {
        case let .csv(file, lc, header):
            o += "  file: \(q(file))\n  label_column: \(lc.map(String.init) ?? "none")\n  header: \(header)\n"
        case let .idx(images, labels):
            o += "  train_images: \(q(images))\n" + (labels.map { "  train_labels: \(q($0))\n" } ?? "")
        case let .npy(x, y):
            o += "  train_x: \(q(x))\n" + (y.map { "  train_y: \(q($0))\n" } ?? "")
        case let .series(s):
            o += "  channels: \(s.channels)\n  window: {length: \(s.window.length), stride: \(s.window.stride)}\n"
            switch s.files {
            case let .npy(x, y): o += "  train_x: \(q(x))\n  train_y: \(q(y))\n"
            case let .csv(file, lc, rc, header):
                o += "  file: \(q(file))\n  label_column: \(lc)\n  recording_column: \(rc)\n  header: \(header)\n"
            }
        case let .audio(a):
            if let p = a.labelPattern { o += "  label_pattern: \(q(p))\n" }
            if let c = a.labelCSV { o += "  label_csv: \(q(c))\n" }
            if let p = a.speakerPattern { o += "  speaker_pattern: \(q(p))\n" }
            if let n = a.classNames { o += "  class_names: [\(n.map(q).joined(separator: ", "))]\n" }
            o += "  clip_samples: \(a.clipSamples)\n  crop: \(a.crop.rawValue)\n"
        }
        switch data.test {
        case let .series(s)?:
            switch s.files {
            case let .npy(x, y): o += "  test_x: \(q(x))\n  test_y: \(q(y))\n"
            case let .csv(file, _, _, _): o += "  test_file: \(q(file))\n"
            }
        case let .csv(file, _, _)?:
            o += "  test_file: \(q(file))\n"
        case let .idx(images, labels)?:
            o += "  test_images: \(q(images))\n" + (labels.map { "  test_labels: \(q($0))\n" } ?? "")
        case let .npy(x, y)?:
            o += "  test_x: \(q(x))\n" + (y.map { "  test_y: \(q($0))\n" } ?? "")
        case .audio?, nil: break  // recordings have no test source: data.split chooses the test files
        }
        o += "  shape: \(list(data.shape))\n"
        o += "  classes: \(data.classes)\n"
        var test = "test: \(data.split.test)"
        switch data.split.audioTest {
        case .fraction: break
        case let .pattern(p): test = "test_pattern: \(q(p))"
        case let .speakers(names): test = "test_speakers: [\(names.map(q).joined(separator: ", "))]"
        case let .speakerCount(n): test = "test_speakers: \(n)"
        }
        o += "  split: {\(test), validation: \(data.split.validation), seed: \(data.split.seed)}\n"
        switch data.normalize {
        case .standard: o += "  normalize: standard\n"
        case .scale: o += "  normalize: scale\n"
        case .none: o += "  normalize: none\n"
        case let .explicit(n): o += "  normalize: {mean: \(list(n.mean)), std: \(list(n.std))}\n"
        }
        o += "teacher:\n"
        if let m = teacher.model { o += model(m) }
        if let c = teacher.checkpoint { o += "  checkpoint: \(q(c))\n" }
        if let l = teacher.logits { o += "  logits: \(q(l))\n" }
        if let t = teacher.tflite { o += "  tflite: \(q(t))\n" }
        o += "  min_agreement: \(teacher.minAgreement.map { "\($0)" } ?? "auto")\n"
        if let s = student { o += "student:\n" + model(s) }
        if let s = studentSearch {
            var f = ["family: \(s.family.rawValue)", "depths: \(list(s.depths))"]
            if s.family == .mlp {
                f.append("widths: \(list(s.widths))")
            } else {
                f += [
                    "channels: \(list(s.channels))", "kernel: \(s.kernel)",
                    "pooling: [\(s.pooling.map(\.rawValue).joined(separator: ", "))]",
                ]
            }
            f += ["time_minutes: \(s.timeMinutes)"] + (s.seed.map { ["seed: \($0)"] } ?? [])
            let train = model(ModelConfig(graph: GraphSpec(inputShape: [1], nodes: []), train: s.train))
            o += "student:\n  search: {\(f.joined(separator: ", "))}\n" + train.replacingOccurrences(of: "  layers:\n", with: "")
        }
        let d = distill
        o +=
            "distill:\n  temperature: \(d.temperature.map { "\($0)" } ?? "auto")\n  alpha: \(d.alpha.map { "\($0)" } ?? "auto")\n"
        o += "  mixup: \(d.mixup)\n  baseline: \(d.baseline)\n"
        // Unset, the policy follows `baseline`; writing it out would pin it.
        o +=
            d.ship.map { "  ship: \($0.rawValue)\n" }
            ?? "  # ship: \(d.shipPolicy(baseline: d.baseline).rawValue) (not set: best with a baseline, else distilled)\n"
        o +=
            "  search: {temperatures: \(list(d.search.temperatures)), alphas: \(list(d.search.alphas)), "
            + "max_epochs: \(d.search.maxEpochs.map(String.init) ?? "none")}\n"
        if !distill.compareSeeds.isEmpty {
            o += "  compare_seeds: [\(distill.compareSeeds.map(String.init).joined(separator: ", "))]\n"
        }
        if let t = distill.transfer { o += "  transfer: \(source(t))\n" }
        o += "quantize:\n  calibration_samples: \(quantize.calibrationSamples)\n"
        o += "  calibration: \(quantize.method.rawValue)\n  percentile: \(quantize.percentile)\n"
        o +=
            "export:\n  compress: \(export.compress)\n  name: \(q(export.name))\n  firmware: \(export.firmware?.name ?? "none")\n"
            + "  tflite: \(export.tflite)\n"
        if let b = budget {
            let items = [
                b.flashBytes.map { "flash_bytes: \($0)" }, b.ramBytes.map { "ram_bytes: \($0)" },
                b.latencyInstructions.map { "latency_instructions: \($0)" }, b.latencyMs.map { "latency_ms: \($0)" },
                b.clockMHz.map { "clock_mhz: \($0)" },
            ].compactMap { $0 }
            o += "budget: {\(items.joined(separator: ", "))}\n"
        }
        return o
    }

    private func q(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private func list<T>(_ v: [T]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }

    private func size(_ s: Size2) -> String { "[\(s.h), \(s.w)]" }

    private func source(_ s: DataSourceConfig) -> String {
        switch s {
        case let .csv(file, lc, header):
            return "{format: csv, file: \(q(file)), label_column: \(lc.map(String.init) ?? "none"), header: \(header)}"
        case let .idx(images, labels):
            return "{format: idx, images: \(q(images))" + (labels.map { ", labels: \(q($0))" } ?? "") + "}"
        case let .npy(x, y):
            return "{format: npy, x: \(q(x))" + (y.map { ", y: \(q($0))" } ?? "") + "}"
        case .series:
            return "{format: series}  # not a transfer source"
        case .audio: return "{format: audio}"  // not allowed as a transfer source
        }
    }

    private func model(_ m: ModelConfig) -> String {
        var o = "  layers:\n"
        for n in m.graph.nodes {
            var f = ["op: \(n.op.kind)", "name: \(q(n.name))", "inputs: [\(n.inputs.map(q).joined(separator: ", "))]"]
            switch n.op {
            case let .dense(units): f.append("units: \(units)")
            case let .conv2d(filters, kernel, stride, padding):
                f += [
                    "filters: \(filters)", "kernel: \(size(kernel))", "stride: \(size(stride))",
                    "padding: \(padding.description)",
                ]
            case let .depthwiseConv2d(kernel, stride, padding, multiplier):
                f += [
                    "kernel: \(size(kernel))", "stride: \(size(stride))", "padding: \(padding.description)",
                    "multiplier: \(multiplier)",
                ]
            case let .maxPool2d(pool, stride, padding), let .avgPool2d(pool, stride, padding):
                f += ["pool: \(size(pool))", "stride: \(size(stride))", "padding: \(padding.description)"]
            case let .batchNorm(epsilon, momentum): f += ["epsilon: \(epsilon)", "momentum: \(momentum)"]
            case let .dropout(rate): f.append("rate: \(rate)")
            case let .leakyRelu(alpha): f.append("alpha: \(alpha)")
            case let .softmax(beta): f.append("beta: \(beta)")
            case .globalAvgPool, .relu, .relu6, .flatten, .add, .reshape, .clamp: break
            }
            o += "    - {\(f.joined(separator: ", "))}\n"
        }
        let t = m.train
        var f = [
            "epochs: \(t.epochs)", "batch_size: \(t.batchSize)", "optimizer: \(t.optimizer.rawValue)",
            "learning_rate: \(t.learningRate)", "momentum: \(t.momentum)", "weight_decay: \(t.weightDecay)",
        ]
        switch t.schedule {
        case .constant: f.append("schedule: constant")
        case let .cosine(floor): f += ["schedule: cosine", "min_lr_fraction: \(floor)"]
        case let .step(every, gamma): f += ["schedule: step", "step_every: \(every)", "step_gamma: \(gamma)"]
        }
        f += ["warmup_epochs: \(t.warmupEpochs)", "augment_shift: \(t.augmentShift)"]
        return o + "  train: {\(f.joined(separator: ", "))}\n"
    }
}
