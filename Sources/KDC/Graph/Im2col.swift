import Foundation

/// The adjoint of im2col (the batched column matrix `[rows, kh·kw·C]`, row
/// `(n − n0)·OH·OW + oy·OW + ox` holding the window of output pixel (oy, ox) of sample n, ordered
/// (ky, kx, c)): adds every in-bounds entry of `cols` rows for samples `n0..<n1` into `dx`
/// (`[N, H, W, C]`, which the caller zeroes). Padded taps are dropped.
func col2im(_ g: WindowGeometry, cols: UnsafePointer<Float>, n0: Int, n1: Int, dx: UnsafeMutablePointer<Float>) {
    let rowLen = g.patch, kwc = g.kw * g.c
    for n in n0..<n1 {
        let img = dx + n * g.inputCount
        var row = cols + (n - n0) * g.outputPixels * rowLen
        for oy in 0..<g.oh {
            let ty = WindowGeometry.taps(oy, stride: g.sh, pad: g.padTop, kernel: g.kh, size: g.h)
            for ox in 0..<g.ow {
                let tx = WindowGeometry.taps(ox, stride: g.sw, pad: g.padLeft, kernel: g.kw, size: g.w)
                if tx.k0 < tx.k1 {
                    let len = (tx.k1 - tx.k0) * g.c
                    for ky in ty.k0..<max(ty.k0, ty.k1) {
                        let src = row + ky * kwc + tx.k0 * g.c
                        let dst = img + ((ty.start + ky) * g.w + tx.start + tx.k0) * g.c
                        for i in 0..<len { dst[i] += src[i] }
                    }
                }
                row += rowLen
            }
        }
    }
}

/// Runs `body` over `0..<n` split into at most `maxChunks` contiguous ranges, in parallel when
/// `work` (a rough count of values touched) is large enough to pay for it. The split depends only
/// on `n` and `maxChunks`, never on the core count, so reductions over chunks are deterministic.
func forEachChunk(_ n: Int, maxChunks: Int = 4, work: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
    let chunks = max(1, min(n, maxChunks))
    let per = (n + chunks - 1) / max(chunks, 1)
    func range(_ i: Int) -> Range<Int> { min(i * per, n)..<min((i + 1) * per, n) }
    if chunks == 1 || work < 1 << 16 || ProcessInfo.processInfo.activeProcessorCount < 2 {
        for i in 0..<chunks { body(i, range(i)) }
    } else {
        DispatchQueue.concurrentPerform(iterations: chunks) { i in body(i, range(i)) }
    }
}

/// A growable float buffer that a layer reuses across batches (im2col columns), so the hot
/// path does not allocate per step. Contents are undefined after `reserve`.
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 0
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    deinit { pointer.deallocate() }

    /// A buffer of at least `count` floats.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            capacity = count
        }
        return pointer
    }

    /// Gives the memory back (after a large inference batch, for example).
    func release() {
        pointer.deallocate()
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        capacity = 0
    }
}
