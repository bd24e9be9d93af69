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

#endif
