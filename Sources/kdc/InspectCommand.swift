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

    static func describe(_ d: Artifact, path: String) -> String {
        let g = d.graph
        func place(_ t: TensorID) -> Artifact.TensorPlacement { d.placements[t.index] }
        func quant(_ t: TensorID) -> QuantParams { g[t].quant ?? QuantParams(scale: 1, zeroPoint: 0) }
        var s = "\(path): kdc artifact, format version \(d.version), \(d.compressed ? "zlib-compressed" : "stored") body\n"
        s += "  bytes           \(d.totalBytes)"
        s += d.compressed ? " (raw \(32 + d.rawBodyBytes); unpack buffer \(32 + d.rawBodyBytes))\n" : "\n"
        s += "  body crc32      0x\(String(format: "%08x", d.bodyCRC32))\n"
        let scratch = KernelScratch.maximum(g)
        s += "  arena           \(d.arenaBytes) bytes"
        s +=
            scratch > 0
            ? " + kernel scratch \(scratch) = \(KernelScratch.arenaTotal(activations: d.arenaBytes, scratch: scratch)) bytes\n"
            : "\n"
        s += "  work            \(g.nodes.count) ops, \(g.macs) multiply-accumulates per inference\n"
        s += "  constants       \(d.constBytes) bytes (weights, biases, multipliers, shifts)\n"
        for (label, t) in [("input ", g.input), ("output", g.output)] {
            s +=
                "  \(label)          tensor \(t.index) \(place(t).dims) scale \(quant(t).scale) zero_point \(quant(t).zeroPoint)\n"
        }
        s += "\ntensors (\(g.tensors.count)):\n"
        s += "  id  shape              bytes  arena offset  scale          zero_point\n"
        for (i, t) in d.placements.enumerated() {
            let q = quant(TensorID(i))
            var line = "  " + pad(i, 3) + " " + pad(t.dims.map(String.init).joined(separator: "x"), 18, left: true)
            line += " " + pad(t.byteSize, 6) + "  " + pad(t.arenaOffset, 12) + "  "
            line += pad(String(format: "%.6g", q.scale), 13, left: true)
            s += line + "  " + pad(Int(q.zeroPoint), 10) + "\n"
        }
        s += "\nops (\(g.nodes.count)):\n"
        for (i, n) in g.nodes.enumerated() {
            var line = "  " + pad(i, 3) + " " + pad(DeviceOp(n.op)?.name ?? n.op.kind, 20, left: true)
            line += " " + n.inputs.map(\.description).joined(separator: ", ") + " -> \(n.output)"
            if let w = g.window(of: n) {
                line += "  kernel \(Size2(w.kh, w.kw)) stride \(Size2(w.sh, w.sw)) pad (\(w.padTop), \(w.padLeft))"
                if case let .depthwiseConv2d(_, _, _, m) = n.op { line += " mult \(m)" }
            }
            let p = n.int8 ?? Int8Params()
            if let w = p.weights { line += "  weights \(w.values.count) B, \(w.bias.count) channels" }
            if let a = p.add {
                let q = [a.input1Multiplier, a.input1Shift, a.input2Multiplier, a.input2Shift, a.outputMultiplier, a.outputShift]
                line += "  requant \(q)"
            }
            if p.actMin != -128 || p.actMax != 127 { line += "  clamp [\(p.actMin), \(p.actMax)]" }
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
