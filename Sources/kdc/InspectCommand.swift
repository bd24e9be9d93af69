import ArgumentParser
import Foundation
import KDC

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate a .kdc artifact (the checks of kdc_init) and print its ops, tensors, quantization and sizes.",
        discussion: "Exits 1 with the offending field named when the artifact is invalid.")

    @Argument(help: "The artifact (.kdc, stored or compressed).")
    var artifact: String

    func run() throws {
        try runReportingErrors {
            print(InspectCommand.describe(try ArtifactReader.read(path: artifact), path: artifact), terminator: "")
        }
    }

    static func describe(_ d: ArtifactDescription, path: String) -> String {
        var s = "\(path): kdc artifact, format version \(d.version), \(d.compressed ? "zlib-compressed" : "stored") body\n"
        s += "  bytes           \(d.totalBytes)"
        s += d.compressed ? " (raw \(32 + d.rawBodyBytes); unpack buffer \(32 + d.rawBodyBytes))\n" : "\n"
        s += "  body crc32      0x\(String(format: "%08x", d.bodyCRC32))\n"
        s += "  arena           \(d.arenaBytes) bytes\n"
        s += "  constants       \(d.constBytes) bytes (weights, biases, multipliers, shifts)\n"
        s += "  input           tensor \(d.inputId) \(d.input.dims) scale \(d.input.scale) zero_point \(d.input.zeroPoint)\n"
        s += "  output          tensor \(d.outputId) \(d.output.dims) scale \(d.output.scale) zero_point \(d.output.zeroPoint)\n"
        s += "\ntensors (\(d.tensors.count)):\n"
        s += "  id  shape              bytes  arena offset  scale          zero_point\n"
        for (i, t) in d.tensors.enumerated() {
            s += "  " + pad(i, 3) + " " + pad(t.dims.map(String.init).joined(separator: "x"), 18, left: true)
            s +=
                " " + pad(t.byteSize, 6) + "  " + pad(t.arenaOffset, 12) + "  "
                + pad(String(format: "%.6g", t.scale), 13, left: true)
            s += "  " + pad(Int(t.zeroPoint), 10) + "\n"
        }
        s += "\nops (\(d.ops.count)):\n"
        for (i, o) in d.ops.enumerated() {
            var line = "  " + pad(i, 3) + " " + pad(o.kind.rawValue, 20, left: true)
            line += " " + o.inputs.map { "t\($0)" }.joined(separator: ", ") + " -> t\(o.output)"
            switch o.kind {
            case .conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d:
                line += "  kernel \(o.kernel) stride \(o.stride) pad (\(o.padTop), \(o.padLeft))"
                if o.kind == .depthwiseConv2d { line += " mult \(o.depthMultiplier)" }
            default: break
            }
            if !o.bias.isEmpty { line += "  weights \(o.weights.count) B, \(o.bias.count) channels" }
            if !o.addParams.isEmpty { line += "  requant \(o.addParams)" }
            if o.actMin != -128 || o.actMax != 127 { line += "  clamp [\(o.actMin), \(o.actMax)]" }
            s += line + "\n"
        }
        return s
    }

    static func pad(_ v: Int, _ n: Int) -> String { pad(String(v), n) }
    static func pad(_ v: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - v.count))
        return left ? v + fill : fill + v
    }
}
