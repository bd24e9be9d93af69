import CKDCKernels
import COpenBLAS
import Dispatch
import Foundation

/// Thin wrappers over OpenBLAS `cblas_sgemm` for row-major matrices.
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major.
    ///
    /// - Parameters:
    ///   - transA: use Aᵀ; A is stored `[k, m]` when true, `[m, k]` otherwise.
    ///   - transB: use Bᵀ; B is stored `[n, k]` when true, `[k, n]` otherwise.
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        // OpenBLAS is set up (core, one thread) before its first call.
        let cores = workers
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 {
                c.update(repeating: 0, count: m * n)
            } else if beta != 1 {
                for i in 0..<(m * n) { c[i] *= beta }
            }
            return
        }
        // Large products are split by rows of C over the cores, each half one single-threaded
        // OpenBLAS call: rows of C are independent, so the result is the same as one call, and no
        // OpenBLAS worker is left spinning while the rest of a training step runs.
        let work: Double = Double(m) * Double(n) * Double(k)
        let parts: Int = (work >= 16_777_216 && m >= 64) ? cores : 1
        let lda = Int32(transA ? m : k), ldb = Int32(transB ? k : n)
        func rows(_ r0: Int, _ r1: Int) {
            guard r1 > r0 else { return }
            let aRows = transA ? a + r0 : a + r0 * k  // Aᵀ stored [k, m]: column offset r0
            cblas_sgemm(
                CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(r1 - r0), Int32(n), Int32(k), alpha,
                aRows, lda, b, ldb, beta, c + r0 * n, Int32(n))
        }
        if parts <= 1 {
            rows(0, m)
        } else {
            let per = (m + parts - 1) / parts
            DispatchQueue.concurrentPerform(iterations: parts) { i in rows(i * per, min((i + 1) * per, m)) }
        }
    }

    /// Cores used for large products (OpenBLAS itself runs single-threaded). Its first use
    /// also sets OpenBLAS up (`setup`).
    public static var workers: Int { setup.workers }

    /// One thread for OpenBLAS, and its kernels chosen again when it took this CPU for a
    /// Prescott (`kdc_openblas_select_core`); done once, before any OpenBLAS call.
    private static let setup: (workers: Int, coreChosen: Bool) = {
        let chosen = kdc_openblas_select_core() != nil
        openblas_set_num_threads(1)
        return (max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)), chosen)
    }()

    /// OpenBLAS's kernel set (its core name), and whether kdc chose it.
    public static var coreNote: String {
        let chosen = setup.coreChosen
        let name = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return chosen ? "\(name) (chosen by kdc: OpenBLAS took this CPU for a Prescott)" : name
    }

    /// The number of threads used for one large product.
    public static var threads: Int { workers }
}
