import Foundation
import KDCTarget

/// `report.json` → `sensor`: the sensor stage a time-series model is built on
/// (`data.format: series`), as the artifact stores it, and what the board did with it.
public struct SensorSection: Codable, Sendable, Equatable {
    /// Channels, time steps per window (the model input `[windowLength, 1, channels]`), and
    /// steps between window starts (the stream runs the model every `stride` samples).
    public var channels: Int
    public var windowLength: Int
    public var stride: Int
    /// Per channel: mean and std of the training split, and the factor k the artifact stores
    /// (`SensorQuantizer.factors`: 1 / (std · input scale)).
    public var mean: [Float]
    public var std: [Float]
    public var k: [Float]
    /// The model input's int8 quantization, applied after the normalization.
    public var inputScale: Float
    public var inputZeroPoint: Int
    /// The stream buffer kdc predicts (`kdc_stream_bytes`: the ring of windowLength × channels
    /// int8 values).
    public var streamBytes: Int
    /// With `--firmware`: test recordings run on the board (stored artifact), every window one at
    /// a time and streamed in chunks of varying size, every output byte against the Swift sensor
    /// quantization → Swift int8 reference; a mismatch, a stream buffer other than `streamBytes`,
    /// or a measured RAM other than the prediction fails the build.
    public var firmware: FirmwareSensorResult? = nil

    /// The firmware check ran and found a difference (outputs, stream buffer, RAM).
    public var firmwareFailed: Bool {
        guard let f = firmware else { return false }
        return !f.match || f.streamBytes != streamBytes || !f.ramMatchesPrediction
    }

    /// One line for the build summary.
    public var summary: String {
        "sensor stage: \(channels) channels, window \(windowLength), stride \(stride); stream buffer \(streamBytes) B\n"
            + (firmware.map { f in
                "sensor stream on \(f.target): \(f.recordings) recordings, \(f.windows) windows, \(f.wholeMismatches) "
                    + "one-window and \(f.streamedMismatches) streamed output bytes differ from the Swift reference; "
                    + "kdc_stream_bytes \(f.streamBytes) (predicted \(streamBytes)); RAM \(f.ram.totalBytes) B measured, "
                    + "\(f.ramPredicted.totalBytes) B predicted\n"
            } ?? "")
    }
}

extension Pipeline {
    /// The `sensor` section of a time-series build, nil for other data. With `export.firmware`,
    /// also streams test recordings on the board (`FirmwareCheck.runSensor`, the stored artifact
    /// of `export`): recordings in test order, each cropped so that all of them give at most
    /// `firmwareSamples` windows, against `graph` on `SensorQuantizer`'s int8 input.
    func sensorSection(data: DataSplits, graph: Graph, export: ExportResult) throws -> SensorSection? {
        guard case let .series(src) = config.data.train, case let .sensor(n)? = graph.inputStage else { return nil }
        let c = src.channels, len = src.window.length, stride = src.window.stride
        let k = SensorQuantizer.factors(n, inputScale: graph.inputQuant.scale)
        let zp = Int(graph.inputQuant.zeroPoint)
        var section = SensorSection(
            channels: c, windowLength: len, stride: stride, mean: n.mean, std: n.std, k: k, inputScale: graph.inputQuant.scale,
            inputZeroPoint: zp, streamBytes: export.streamBytes)
        guard let board = config.export.firmware, let recs = data.seriesTest else { return section }
        var recordings: [[Float]] = [], expected: [[Int8]] = []
        let interp = Int8Interpreter()
        for r in recs where expected.count < firmwareSamples {
            let room = firmwareSamples - expected.count
            let starts = src.window.starts(steps: r.steps).prefix(room)
            guard let last = starts.last else { continue }
            recordings.append(Array(r.values[0..<((last + len) * c)]))
            for s in starts {
                let x = SensorQuantizer.quantize(Array(r.values[(s * c)..<((s + len) * c)]), mean: n.mean, k: k, zeroPoint: zp)
                expected.append(interp.run(graph, input: x))
            }
        }
        guard !expected.isEmpty else { return section }
        stage(
            "firmware",
            detail:
                "\(board.name), stored artifact: \(recordings.count) test recordings (\(expected.count) windows) through the sensor stage, one window at a time and streamed"
        )
        section.firmware = try withKDCErrors {
            try FirmwareCheck.runSensor(
                board: board, model: export.exportedModel, mode: .stored, recordings: recordings, channels: c,
                windowLength: len, stride: stride, expected: expected, opCodes: graph.opCodes, countInstructions: true)
        }
        return section
    }
}
