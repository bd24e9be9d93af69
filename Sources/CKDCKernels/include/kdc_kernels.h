/* kdc_kernels.h - elementwise training kernels of the kdc compiler (host side, not the device
 * runtime), in C so that they vectorize: Swift's SIMD types take square roots lane by lane. */
#ifndef KDC_KERNELS_H
#define KDC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* One Adam/AdamW update of n elements, element by element in this order (float, IEEE, no fused
 * multiply-add, so every instruction set gives the same bits):
 *   g' = g + l2*w;  m = b1*m + (1-b1)*g';  v = b2*v + ((1-b2)*g')*g';
 *   w  = w - (decoupled*w + (step_size*m) / (sqrt(v*inv_c2) + eps))
 * w, m, v are updated in place; g is read. The arrays must not overlap. */
void kdc_adam_update(float *w, const float *g, float *m, float *v, size_t n, float l2, float b1,
                     float b2, float decoupled, float step_size, float inv_c2, float eps);

/* ReLU / ReLU6 backward from the layer's output y: dx[i] = g[i] where y[i] > 0 (and, when capped,
 * y[i] < hi), else 0. The arrays must not overlap. */
void kdc_relu_backward(float *dx, const float *g, const float *y, size_t n, int capped, float hi);

/* Inverted dropout forward: element i takes the 16-bit field (bits[i/4] >> (16*(i%4))) & 0xffff,
 * mask[i] = field >= threshold ? keep : 0, y[i] = x[i] * mask[i]. bits holds (n+3)/4 words. The
 * arrays must not overlap. The host must be little-endian. */
void kdc_dropout_forward(float *y, float *mask, const float *x, const uint64_t *bits, size_t n,
                         uint32_t threshold, float keep);

/* Direct 2-D convolution (training, host side). The input is zero-padded beforehand
 * (kdc_pad_nhwc), so the kernels have no borders: xp is [n, hp, wp, cin] with
 * hp >= (oh-1)*sh + kh and wp >= (ow-1)*sw + kw; the weight is [kh, kw, cin, cout] (HWIO);
 * images are NHWC. */
typedef struct {
    size_t hp, wp, cin, oh, ow, cout, kh, kw, sh, sw;
    /* Nonzero: kdc_conv2d_forward stores max(y, 0) as kdc_relu_forward computes it. */
    int relu;
} kdc_conv_shape;

/* xp[s, y, x, ch] = x[s, y - top, x - left, ch] where that is inside x ([n, h, w, c]), else 0,
 * for y < hp, x < wp. The arrays must not overlap. */
void kdc_pad_nhwc(float *xp, const float *x, size_t n, size_t h, size_t w, size_t c, size_t hp,
                  size_t wp, size_t top, size_t left);

/* The weight w [kh, kw, cin, cout] rearranged for kdc_conv2d_forward into wpack (as many floats):
 * channel blocks as wide as the machine's vector registers allow, each block's weights
 * contiguous. */
void kdc_conv2d_pack_weights(float *wpack, const float *w, const kdc_conv_shape *s);

/* y[s, oy, ox, f] for samples n0 <= s < n1: starting from bias[f] (0 when bias is NULL), then
 * acc = fmaf(xp[s, oy*sh + ky, ox*sw + kx, c], w[ky, kx, c, f], acc) for ky, kx, c in order,
 * with the weight as kdc_conv2d_pack_weights arranged it (wpack). */
void kdc_conv2d_forward(float *y, const float *xp, const float *wpack, const float *bias,
                        const kdc_conv_shape *s, size_t n0, size_t n1);

/* Weight gradient, accumulated: for each (ky, kx, c, f), acc[ky, kx, c, f] =
 * fmaf(xp[s, oy*sh + ky, ox*sw + kx, c], g[s, oy, ox, f], acc[...]) over samples n0..n1, then oy,
 * then ox, in order; and, when bias_acc is not NULL, bias_acc[f] += g[s, oy, ox, f] in the same
 * order. g is [n, oh, ow, cout]. */
void kdc_conv2d_weight_grad(float *acc, float *bias_acc, const float *xp, const float *g,
                            const kdc_conv_shape *s, size_t n0, size_t n1);

/* Max pooling of NHWC images x [n, h, w, c] into y [n, oh, ow, c] over the in-bounds taps of each
 * window (output (oy, ox) covers rows oy*sh - pad_top .. + kh, likewise columns; pad < window, so
 * a window always holds a tap), taps row by row; argmax (NULL: not kept) gets the flat index
 * within the sample of the first maximal tap (a tap replaces the best so far when greater).
 * Without argmax a tap replaces it when greater or equal (Swift's max). Samples n0..n1. */
typedef struct {
    size_t h, w, c, oh, ow, kh, kw, sh, sw, pad_top, pad_left;
} kdc_pool_shape;
void kdc_maxpool_forward(float *y, int32_t *argmax, const float *x, const kdc_pool_shape *s,
                         size_t n0, size_t n1);

/* Max-pool backward for samples n0..n1: dx ([n, h, w, c]) zeroed, then
 * dx[argmax[j]] += g[j] for the oh*ow*c values of each sample in order; when y (the pooled output)
 * is not NULL, g[j] counts only where y[j] > 0 (the backward pass of a ReLU before the pool: the
 * maximum of a window is the ReLU output at its argmax). */
void kdc_maxpool_backward(float *dx, const float *g, const int32_t *argmax, const float *y,
                          const kdc_pool_shape *s, size_t n0, size_t n1);

/* ReLU / ReLU6 forward: y[i] = min(max(x[i], 0), hi) (hi only when capped), as Swift's min and
 * max compute them (-0 becomes 0, NaN passes through). */
void kdc_relu_forward(float *y, const float *x, size_t n, int capped, float hi);

/* OpenBLAS 0.3.21 (Debian 12) takes x86-64 CPUs newer than it knows (Emerald Rapids, model 207)
 * for a Prescott and runs SSE3 kernels, several times slower than the AVX-512 ones. When the
 * library is a DYNAMIC_ARCH build that chose Prescott, OPENBLAS_CORETYPE is not set and the CPU
 * has AVX-512 (or AVX2 and FMA), this re-runs OpenBLAS's core selection for SkylakeX (Haswell)
 * and returns the new core's name; otherwise it changes nothing and returns NULL. Call it before
 * any other OpenBLAS call, from one thread. */
const char *kdc_openblas_select_core(void);

#endif
