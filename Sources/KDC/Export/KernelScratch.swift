/// Working memory the runtime's kernels take from the end of the arena (docs/FORMAT.md §3.6):
/// the exporter's copy of the C runtime's per-kernel scratch queries
/// (`runtime/src/kdc_kernels.h`), so the generated header can size the arena before any C code
/// runs. `ExportHostCheckTests` compares it with the runtime's own figure (`kdc_query`).
public enum KernelScratch {
    /// The kernel variants of `runtime/src`: `portable` (the default build), `dsp` (built where
    /// `__ARM_FEATURE_DSP` is defined and MVE is not: Cortex-M4, M7, M33; `kdc_kernels_dsp.c`),
    /// `mve` (built where `__ARM_FEATURE_MVE` is defined: the Cortex-M55; `kdc_kernels_mve.c`),
    /// `avx2` (built where `__AVX2__` is defined: the x86-64 host with `-mavx2`, as `HostTarget`
    /// compiles it on a CPU with AVX2; `kdc_kernels_avx2.c`) and `reference`
    /// (`-DKDC_KERNELS_REFERENCE`, no scratch).
    public enum Variant: String, CaseIterable, Sendable {
        case portable, dsp, mve, avx2, reference

        /// The variants a device build can get (the avx2 one is the host's only).
        public static let device: [Variant] = [.portable, .dsp, .mve, .reference]
    }

    /// The largest scratch any query of a device variant returns (`KDC__SCRATCH_BOUND`).
    public static let bound = 4096

    /// The largest scratch the host-only avx2 variant's queries return (its
    /// `KDC__SCRATCH_BOUND`).
    public static let avx2Bound = 16384

    /// Scratch bytes of one node of an int8 graph in `variant`.
    public static func bytes(_ g: Graph, _ n: GraphNode, variant: Variant = .portable) -> Int {
        switch variant {
        case .reference: return 0
        case .portable:
            guard case .conv2d = n.op, let w = g.window(of: n) else { return 0 }
            // Up to two gathered input windows of P bytes and, when they leave room, a
            // zero-padded copy of the last weights (2·P); nothing when one window exceeds 512.
            let p = (w.kh * w.kw * w.c + 15) / 16 * 16
            guard p <= 512 else { return 0 }
            let windows = 2 * p <= 512 ? 2 : 1
            return windows * p + ((windows + 2) * p <= 512 ? 2 * p : 0)
        case .avx2:
            guard case .conv2d = n.op, let w = g.window(of: n) else { return 0 }
            // The larger of two plans, the same on every CPU. AVX2: the weights of 16 channels as
            // int16 (32·K2, K2 = round_up(K, 2)) and four int16 im2col windows of
            // K16 = round_up(K, 16) values (8·K16); else two windows (4·K16), else one (2·K16),
            // within 4096 bytes; else none. AVX-512 VNNI (C16 = round_up(C_out, 16)): "image",
            // the corrections, the weights in rows of R4 = round_up(k_w·C_in, 4) bytes and the
            // input region the windows cover (Hp·Wp pixels), 4·C16 + k_h·R4·C16 + Hp·Wp·C_in + 64;
            // else "windows", 4·C16 + K4·C16 + 8·K4 + 64 (K4 = round_up(K, 4)); within
            // `avx2Bound`, else none.
            let k = w.kh * w.kw * w.c, k16 = (k + 15) / 16 * 16, k4 = (k + 3) / 4 * 4
            let avx2 = [32 * ((k + 1) / 2 * 2) + 8 * k16, 4 * k16, 2 * k16].first { $0 <= bound } ?? 0
            let c16 = (g[n.output].shape[2] + 15) / 16 * 16, r4 = (w.kw * w.c + 3) / 4 * 4
            let hp = (w.oh - 1) * w.sh + w.kh, wp = (w.ow - 1) * w.sw + w.kw
            let image = 4 * c16 + w.kh * r4 * c16 + hp * wp * w.c + 64
            let windows = 4 * c16 + k4 * c16 + 8 * k4 + 64
            return max(avx2, [image, windows].first { $0 <= avx2Bound } ?? 0)
        case .dsp:
            // int16 im2col columns of K4 = round_up(K, 4) values, 3 bytes to align them: conv two
            // columns (else one, else none), FC one (else none), within `bound`.
            let k: Int, columns: [Int]
            switch n.op {
            case .conv2d:
                guard let w = g.window(of: n) else { return 0 }
                (k, columns) = (w.kh * w.kw * w.c, [2, 1])
            case .dense: (k, columns) = (g[n.inputs[0]].shape.reduce(1, *), [1])
            default: return 0
            }
            let k4 = (min(k, 65536) + 3) / 4 * 4
            return columns.map { 2 * $0 * k4 + 3 }.first { $0 <= bound } ?? 0
        case .mve:
            // Conv with a window larger than 1x1: int8 im2col columns of K values, four (else
            // one, else none) within `bound`; a 1x1 window reads its columns from the input.
            guard case .conv2d = n.op, let w = g.window(of: n), w.kh * w.kw > 1 else { return 0 }
            let k = w.kh * w.kw * w.c
            return [4 * k, k].first { $0 <= bound } ?? 0
        }
    }

    /// The model's scratch: the largest over its nodes.
    public static func bytes(_ g: Graph, variant: Variant = .portable) -> Int {
        g.nodes.map { bytes(g, $0, variant: variant) }.max() ?? 0
    }

    /// The largest scratch over every variant a device build can get (`Variant.device`): what a
    /// header generated without a board reserves so that any board runs the model (a firmware
    /// build reserves its board's variant's, `reserved(_:for:)`). The host harness sizes its
    /// arena from the runtime's own figure (`kdc_query`), so the host-only avx2 variant's larger
    /// scratch costs no device RAM.
    public static func maximum(_ g: Graph) -> Int { Variant.device.map { bytes(g, variant: $0) }.max() ?? 0 }

    /// What an export reserves: `variant`'s scratch when the build knows the board it is for
    /// (`Variant(board:)`: a firmware build), else `maximum` (a header for any board).
    public static func reserved(_ g: Graph, for variant: Variant?) -> Int {
        variant.map { bytes(g, variant: $0) } ?? maximum(g)
    }

    /// The arena `kdc_init` needs: the activations, then the scratch 4-byte aligned
    /// (`KDC_ARENA_TOTAL` in kdc.h).
    public static func arenaTotal(activations: Int, scratch: Int) -> Int {
        scratch > 0 ? (activations + 3) / 4 * 4 + scratch : activations
    }
}
