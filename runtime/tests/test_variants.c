/* test_variants.c - the compiled kernel variant against the reference kernels on random shapes
 * and values, byte for byte: strides, pads, depth multipliers, window sizes on both sides of
 * the portable conv's scratch plan (16-byte blocks, two windows, weight tail, row by row) and of
 * the dsp variant's (two im2col columns up to K = 1020, one up to 2044, then row by row; FC
 * with and without its column) and of the mve variant's (four int8 columns up to K = 1024, one
 * up to 4096, then row by row; 1x1 windows from the input), channel counts around the block sizes,
 * zero points and clamps at the extremes. Every buffer is an exact-size heap block (ASan sees a
 * read one past the end); outputs start as garbage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdc_kernels.h"
#include "test_util.h"

static uint32_t state = 20261130u;
static uint32_t rnd(void)
{
    state = state * 1664525u + 1013904223u;
    return state >> 8;
}
static size_t pick(const size_t *v, size_t n) { return v[rnd() % n]; }
static int32_t range(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

/* a zero point: often an extreme */
static int32_t zp(void)
{
    uint32_t r = rnd() % 4;
    return r == 0 ? -128 : r == 1 ? 127 : range(-128, 127);
}

/* act_min <= act_max: mostly the full range, else a random sub-range */
static void clamps(int32_t *lo, int32_t *hi)
{
    if (rnd() % 2) {
        *lo = -128, *hi = 127;
    } else {
        int32_t a = range(-128, 127), b = range(-128, 127);
        *lo = a < b ? a : b, *hi = a < b ? b : a;
    }
}

static int8_t *bytes(size_t n)
{
    int8_t *p = (int8_t *)malloc(n ? n : 1);
    size_t i;
    if (!p) abort();
    for (i = 0; i < n; i++) p[i] = (int8_t)rnd();
    return p;
}

/* per-channel requant arrays: M 0 sometimes, shifts mostly giving int8-sized outputs */
static int32_t *qarray(size_t n, int kind)
{
    int32_t *p = (int32_t *)malloc(n * sizeof *p);
    size_t i;
    if (!p) abort();
    for (i = 0; i < n; i++) {
        uint32_t r = rnd() % 16;
        if (kind == 0) /* bias: small, sometimes huge (the sum wraps modulo 2^32 in both) */
            p[i] = r == 0 ? (int32_t)(rnd() << 8) : range(-20000, 20000);
        else if (kind == 1) /* M */
            p[i] = r == 0 ? 0 : r == 1 ? INT32_MAX : (int32_t)(0x40000000u + rnd() % 0x3fffffffu);
        else /* e: mostly a right shift; left shifts too (TFLite's left shift wraps) */
            p[i] = r == 0 ? -31 : r == 1 ? 30 : r == 2 ? range(1, 8) : range(-14, -4);
    }
    return p;
}

static int same(const char *what, const int8_t *got, const int8_t *want, size_t n, int *shown)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (got[i] != want[i]) {
            if ((*shown)++ < 5)
                printf("FAIL variant %s: byte %lu of %lu: %d, reference %d\n", what,
                       (unsigned long)i, (unsigned long)n, got[i], want[i]);
            return 0;
        }
    return 1;
}

/* A random window geometry satisfying kdc_conv_params' contract. */
static void geometry(kdc_conv_params *p, size_t max_hw, size_t max_k)
{
    p->in_h = 1 + rnd() % max_hw, p->in_w = 1 + rnd() % max_hw;
    p->k_h = 1 + rnd() % max_k, p->k_w = 1 + rnd() % max_k;
    p->stride_h = 1 + rnd() % 3, p->stride_w = 1 + rnd() % 3;
    p->pad_top = rnd() % p->k_h, p->pad_left = rnd() % p->k_w;
    /* out_h: any count whose last window starts inside the input */
    p->out_h = 1 + rnd() % ((p->in_h + p->pad_top - 1) / p->stride_h + 1);
    p->out_w = 1 + rnd() % ((p->in_w + p->pad_left - 1) / p->stride_w + 1);
    p->zx = zp(), p->zy = zp();
    clamps(&p->act_min, &p->act_max);
}

static int run_conv(int depthwise, int *shown)
{
    static unsigned calls;
    static const size_t cins[] = {1,  2,  3,  7,  8,  15, 16, 17, 20,
                                  21, 31, 32, 33, 40, 57, 64, 65, 100};
    static const size_t couts[] = {1, 2, 3, 5, 8, 16, 17, 20};
    /* depthwise channels: small ones with every multiplier, and around the avx2 variant's
     * 8- and 16-channel vectors (multiplier 1) */
    static const size_t dwcs[] = {8, 15, 16, 17, 23, 24, 31, 32, 33, 64};
    kdc_conv_params p;
    kdc_consts c;
    size_t nx, ny, nw, nc;
    int8_t *x, *w, *y, *yr;
    int32_t *b, *m, *e;
    int good;
    memset(&p, 0, sizeof p);
    geometry(&p, 9, 5);
    if (rnd() % 6 == 0) { /* pointwise: 1x1, stride 1, no padding, the input's width (the avx2 */
        p.k_h = p.k_w = 1, p.stride_h = p.stride_w = 1; /* conv reads its windows straight) */
        p.pad_top = p.pad_left = 0, p.out_w = p.in_w, p.out_h = 1 + rnd() % p.in_h;
    }
    p.tflite = (int32_t)(rnd() % 2) * KDC_TFLITE; /* kdc's or TFLite's arithmetic (if built) */
    if (depthwise && rnd() % 2) {
        p.in_c = pick(dwcs, sizeof dwcs / sizeof dwcs[0]);
        p.depth_mult = rnd() % 4 ? 1 : 2;
    } else {
        p.in_c = depthwise ? 1 + rnd() % 9 : pick(cins, sizeof cins / sizeof cins[0]);
        p.depth_mult = depthwise ? 1 + rnd() % 4 : 0;
    }
    if (!depthwise && ++calls % 20 == 0) { /* every 20th: a 5x5 window of K = 25*C_in taps, */
        p.k_h = p.k_w = 5, p.pad_top %= 5, p.pad_left %= 5; /* the dsp plan of one column */
        /* (K 1425) or none (K 2500, row by row); the mve plan of one column (both) or none
         * (K 4250) */
        p.in_c = calls % 60 == 0 ? 170 : calls % 40 ? 57 : 100;
        p.out_h = 1 + (p.in_h + p.pad_top - 1) / p.stride_h % 3;
        p.out_w = 1 + (p.in_w + p.pad_left - 1) / p.stride_w % 3;
    } else if (!depthwise && calls % 20 == 7) { /* a first layer: one to three input channels, */
        p.in_c = 1 + calls / 20 % 3, p.k_h = 1 + rnd() % 5; /* rows of k_w*in_c < 4 values (the */
        p.k_w = 1 + rnd() % (3 / p.in_c), p.stride_h = p.stride_w = 1; /* dsp short-row im2col, */
        p.in_h = p.in_w = 6 + rnd() % 4, p.pad_top = p.k_h / 2, p.pad_left = p.k_w / 2; /* on */
        p.out_h = p.in_h, p.out_w = p.in_w; /* every interior pixel), K % 4 != 0 mostly (the */
    }                                       /* columns' zero tail) */
    p.out_c = depthwise ? p.in_c * p.depth_mult : pick(couts, sizeof couts / sizeof couts[0]);
    nx = p.in_h * p.in_w * p.in_c, ny = p.out_h * p.out_w * p.out_c, nc = p.out_c;
    nw = depthwise ? p.k_h * p.k_w * p.out_c : p.out_c * p.k_h * p.k_w * p.in_c;
    x = bytes(nx), w = bytes(nw), y = bytes(ny), yr = bytes(ny);
    b = qarray(nc, 0), m = qarray(nc, 1), e = qarray(nc, 2);
    c.weights = w, c.bias = b, c.mult = m, c.shift = e;
    if (depthwise) {
        kdc_ref_dwconv2d_s8(yr, x, &c, &p, NULL);
        kdc_dwconv2d_s8(y, x, &c, &p, test_scratch(kdc_dwconv2d_s8_scratch_bytes(&p)));
    } else {
        kdc_ref_conv2d_s8(yr, x, &c, &p, NULL);
        kdc_conv2d_s8(y, x, &c, &p, test_scratch(kdc_conv2d_s8_scratch_bytes(&p)));
    }
    good = same(depthwise ? "dwconv2d" : "conv2d", y, yr, ny, shown);
    free(x), free(w), free(y), free(yr), free(b), free(m), free(e);
    return good;
}

static int run_pool(int avg, int *shown)
{
    static const size_t cs[] = {1, 2, 3, 8, 15, 16, 17, 24, 32, 33, 40, 64};
    static unsigned calls;
    kdc_conv_params p;
    size_t nx, ny;
    int8_t *x, *y, *yr;
    int good;
    memset(&p, 0, sizeof p);
    geometry(&p, 10, 4);
    if (++calls % 4 == 0) { /* every 4th: 2x2 windows, stride 2, mostly inside the input (the */
        p.k_h = p.k_w = 2, p.stride_h = p.stride_w = 2; /* dsp build's four channels a word */
        p.pad_top = p.pad_left = calls % 8 == 0;        /* where in_c % 4 == 0) */
        p.out_h = (p.in_h + p.pad_top + 1) / 2, p.out_w = (p.in_w + p.pad_left + 1) / 2;
    }
    p.in_c = p.out_c = pick(cs, sizeof cs / sizeof cs[0]);
    nx = p.in_h * p.in_w * p.in_c, ny = p.out_h * p.out_w * p.out_c;
    x = bytes(nx), y = bytes(ny), yr = bytes(ny);
    if (avg) {
        kdc_ref_avgpool_s8(yr, x, &p, NULL);
        kdc_avgpool_s8(y, x, &p, test_scratch(kdc_avgpool_s8_scratch_bytes(&p)));
    } else {
        kdc_ref_maxpool_s8(yr, x, &p, NULL);
        kdc_maxpool_s8(y, x, &p, test_scratch(kdc_maxpool_s8_scratch_bytes(&p)));
    }
    good = same(avg ? "avgpool" : "maxpool", y, yr, ny, shown);
    free(x), free(y), free(yr);
    return good;
}

static int run_fc(int *shown)
{
    static const size_t ks[] = {1,   2,   15,  16,  17,  31,   32,   33,
                                100, 511, 512, 513, 784, 2044, 2045, 2100};
    kdc_fc_params p;
    kdc_consts c;
    int8_t *x, *w, *y, *yr;
    int32_t *b, *m, *e;
    int good;
    p.k = pick(ks, sizeof ks / sizeof ks[0]), p.n = 1 + rnd() % 20;
    p.zx = zp(), p.zy = zp();
    p.tflite = (int32_t)(rnd() % 2) * KDC_TFLITE;
    clamps(&p.act_min, &p.act_max);
    x = bytes(p.k), w = bytes(p.k * p.n), y = bytes(p.n), yr = bytes(p.n);
    b = qarray(p.n, 0), m = qarray(p.n, 1), e = qarray(p.n, 2);
    if (p.tflite) { /* double scales 2^-16 .. 2^-7 in (m, e) = (low, high) words */
        size_t i;
        for (i = 0; i < p.n; i++) e[i] = (int32_t)(0x3ef00000u + rnd() % 0x00a00000u);
    }
    c.weights = w, c.bias = b, c.mult = m, c.shift = e;
    kdc_ref_fc_s8(yr, x, &c, &p, NULL);
    kdc_fc_s8(y, x, &c, &p, test_scratch(kdc_fc_s8_scratch_bytes(&p)));
    good = same("fc", y, yr, p.n, shown);
    free(x), free(w), free(y), free(yr), free(b), free(m), free(e);
    return good;
}

static int run_elementwise(int kind, int *shown)
{
    size_t n = 1 + rnd() % 200;
    int8_t *a = bytes(n), *bb = bytes(n), *y = bytes(n), *yr = bytes(n);
    int good;
    if (kind == 0) {
        kdc_gap_params p;
        size_t c = 1 + rnd() % 20;
        int8_t *x = bytes(n * c), *g = bytes(c), *gr = bytes(c);
        p.hw = n, p.c = c;
        clamps(&p.act_min, &p.act_max);
        kdc_ref_global_avgpool_s8(gr, x, &p, NULL);
        kdc_global_avgpool_s8(g, x, &p, test_scratch(kdc_global_avgpool_s8_scratch_bytes(&p)));
        good = same("global_avgpool", g, gr, c, shown);
        free(x), free(g), free(gr);
    } else if (kind == 1) {
        kdc_add_params p;
        p.n = n, p.za = zp(), p.zb = zp(), p.zy = zp();
        p.tflite = (int32_t)(rnd() % 2) * KDC_TFLITE;
        p.ma = (int32_t)(0x40000000u + rnd() % 0x3fffffffu), p.ea = range(-8, 0);
        p.mb = (int32_t)(0x40000000u + rnd() % 0x3fffffffu), p.eb = range(-8, 0);
        p.mo = (int32_t)(0x40000000u + rnd() % 0x3fffffffu), p.eo = range(-24, -16);
        clamps(&p.act_min, &p.act_max);
        kdc_ref_add_s8(yr, a, bb, &p, NULL);
        kdc_add_s8(y, a, bb, &p, test_scratch(kdc_add_s8_scratch_bytes(&p)));
        good = same("add", y, yr, n, shown);
    } else {
        kdc_clamp_params p;
        p.n = n;
        clamps(&p.act_min, &p.act_max);
        kdc_ref_clamp_s8(yr, a, &p, NULL);
        kdc_clamp_s8(y, a, &p, test_scratch(kdc_clamp_s8_scratch_bytes(&p)));
        good = same("clamp", y, yr, n, shown);
    }
    free(a), free(bb), free(y), free(yr);
    return good;
}

/* FC's scratch for k inputs (docs/FORMAT.md 3.6): the dsp variant's int16 column of K4 + 3
 * bytes within 4096; none in the others. */
static size_t fc_want(size_t k)
{
    size_t k4 = (k + 3) / 4 * 4;
    if (strcmp(KDC_KERNELS_VARIANT, "dsp") != 0) return 0;
    return 2 * k4 + 3 <= 4096 ? 2 * k4 + 3 : 0;
}

/* The compiled variant's conv and FC scratch queries against docs/FORMAT.md 3.6's formulas, on
 * their edges. */
static void test_scratch_formula(void)
{
    static const size_t taps[] = {1,    15,   16,   17,   99,   100,  101,  102,  103,  128,
                                  129,  170,  171,  256,  257,  512,  513,  1020, 1021, 1023,
                                  1024, 1025, 2044, 2045, 2046, 2048, 4096, 4097, 65536};
    size_t i, bad = 0;
    for (i = 0; i < sizeof taps / sizeof taps[0]; i++) {
        kdc_conv_params p;
        kdc_fc_params fc;
        size_t padded = (taps[i] + 15) / 16 * 16, nwin, want;
        memset(&p, 0, sizeof p);
        memset(&fc, 0, sizeof fc);
        fc.k = taps[i], fc.n = 1;
        p.k_h = 1, p.k_w = 1, p.in_c = taps[i];
        nwin = 2 * padded <= 512 ? 2 : 1;
        want = padded > 512 ? 0 : nwin * padded + ((nwin + 2) * padded <= 512 ? 2 * padded : 0);
        if (strcmp(KDC_KERNELS_VARIANT, "avx2") == 0) { /* 16 channels' weights + 4 windows, */
            size_t lanes = 32 * ((taps[i] + 1) / 2 * 2) + 8 * padded; /* else 2, 1, 0 windows */
            size_t k4 = (taps[i] + 3) / 4 * 4, vnni;
            want = lanes <= 4096        ? lanes
                   : 4 * padded <= 4096 ? 4 * padded
                   : 2 * padded <= 4096 ? 2 * padded
                                        : 0;
            /* the larger of that and the VNNI plan (out_c 20: C16 = 32): 4*C16 + K4*C16 + 8*K4
             * + 64 if <= 16384 */
            p.out_c = 20;
            vnni = 4 * 32 + k4 * 32 + 8 * k4 + 64;
            if (vnni <= 16384 && vnni > want) want = vnni;
        } else if (strcmp(KDC_KERNELS_VARIANT, "dsp") == 0) { /* int16 columns of K4, + 3 */
            size_t k4 = (taps[i] + 3) / 4 * 4;
            want = 4 * k4 + 3 <= 4096 ? 4 * k4 + 3 : 2 * k4 + 3 <= 4096 ? 2 * k4 + 3 : 0;
        } else if (strcmp(KDC_KERNELS_VARIANT, "mve") == 0) { /* a 1x1 window: none */
            want = 0;
        }
        if (strcmp(KDC_KERNELS_VARIANT, "reference") == 0) want = 0;
        if (kdc_conv2d_s8_scratch_bytes(&p) != want) {
            printf("conv scratch for %lu taps: %lu, want %lu\n", (unsigned long)taps[i],
                   (unsigned long)kdc_conv2d_s8_scratch_bytes(&p), (unsigned long)want);
            bad++;
        }
        if (strcmp(KDC_KERNELS_VARIANT, "mve") == 0) { /* the taps as a 1 x K window: four */
            p.k_w = taps[i], p.in_c = 1; /* int8 columns of K, else one, else none (1x1: none) */
            want = taps[i] == 1          ? 0
                   : 4 * taps[i] <= 4096 ? 4 * taps[i]
                   : taps[i] <= 4096     ? taps[i]
                                         : 0;
            if (kdc_conv2d_s8_scratch_bytes(&p) != want) {
                printf("conv scratch for a 1x%lu window: %lu, want %lu\n", (unsigned long)taps[i],
                       (unsigned long)kdc_conv2d_s8_scratch_bytes(&p), (unsigned long)want);
                bad++;
            }
            p.k_w = 1, p.k_h = taps[i], p.in_c = 1; /* and as K x 1 */
            if (kdc_conv2d_s8_scratch_bytes(&p) != want) bad++;
        }
        if (kdc_fc_s8_scratch_bytes(&fc) != fc_want(taps[i])) {
            printf("fc scratch for k = %lu: %lu, want %lu\n", (unsigned long)taps[i],
                   (unsigned long)kdc_fc_s8_scratch_bytes(&fc), (unsigned long)fc_want(taps[i]));
            bad++;
        }
    }
    ok(bad == 0, "conv and FC scratch queries = documented formulas (" KDC_KERNELS_VARIANT ")",
       NULL);
}

/* The output stage on every combination of extreme accumulators, multipliers and shifts, both
 * arithmetics: a 1x1 conv (two pixels) and a depthwise conv whose input equals the zero point,
 * so each channel's accumulator is its bias exactly; out_c is 11 * 5 * 9 = 495 channels (vector
 * blocks and a scalar tail). */
static void test_output_extremes(void)
{
    static const int32_t accs[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30), -8355840, -1,       0,
                                   1,         12345,         1 << 30,    8355840,  INT32_MAX};
    static const int32_t ms[] = {0, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX};
    static const int32_t es[] = {-31, -30, -16, -1, 0, 1, 15, 29, 30};
    enum { N = 11 * 5 * 9 };
    static int32_t b[N], m[N], e[N];
    static int8_t w[N], y[2 * N], yr[2 * N];
    int8_t x[2] = {0, 0};
    size_t i;
    int mode, zi, bad = 0, shown = 0;
    for (i = 0; i < N; i++) {
        b[i] = accs[i % 11], m[i] = ms[i / 11 % 5], e[i] = es[i / 55];
        w[i] = (int8_t)rnd();
    }
    for (mode = 0; mode <= KDC_TFLITE; mode++)
        for (zi = 0; zi < 3; zi++) {
            kdc_conv_params p;
            kdc_consts c;
            int32_t z = zi == 0 ? -128 : zi == 1 ? 127 : 3;
            memset(&p, 0, sizeof p);
            c.weights = w, c.bias = b, c.mult = m, c.shift = e;
            p.in_h = 1, p.in_w = 2, p.out_h = 1, p.out_w = 2, p.k_h = 1, p.k_w = 1;
            p.stride_h = 1, p.stride_w = 1, p.zx = z, p.zy = -z - (zi == 2);
            p.act_min = zi == 2 ? -100 : -128, p.act_max = zi == 2 ? 90 : 127, p.tflite = mode;
            x[0] = x[1] = (int8_t)z;
            p.in_c = 1, p.out_c = N; /* conv: weights [N][1] */
            kdc_ref_conv2d_s8(yr, x, &c, &p, NULL);
            kdc_conv2d_s8(y, x, &c, &p, test_scratch(kdc_conv2d_s8_scratch_bytes(&p)));
            bad += !same("conv2d output extremes", y, yr, 2 * N, &shown);
            {
                int8_t *xd = bytes(2 * N);
                memset(xd, (int)(int8_t)z, 2 * N);
                p.in_c = N, p.depth_mult = 1; /* depthwise: weights [1][1][N] */
                kdc_ref_dwconv2d_s8(yr, xd, &c, &p, NULL);
                kdc_dwconv2d_s8(y, xd, &c, &p, test_scratch(kdc_dwconv2d_s8_scratch_bytes(&p)));
                bad += !same("dwconv2d output extremes", y, yr, 2 * N, &shown);
                free(xd);
            }
        }
    ok(bad == 0,
       "conv and depthwise output stage on extreme (acc, M, e) = reference (" KDC_KERNELS_VARIANT
       ")",
       NULL);
}

/* The avx2 variant's own cases: its AVX-512 VNNI conv (packed weights, byte windows of 8
 * pixels, 16-channel blocks) and depthwise (32-channel blocks, taps paired) on shapes of the
 * keyword-spotting and MNIST models and around their edges: channel counts around 16 and 32,
 * K around multiples of 4 and 64, padding on every side, strides, up to 25 depthwise taps and
 * past them; the scratch plan's limit (K4*C16 near 16384). */
static int run_avx2_shapes(int depthwise, int *shown)
{
    static const size_t chans[] = {1, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96};
    static const size_t cins[] = {1, 2, 3, 4, 5, 8, 13, 16, 17, 63, 64, 65, 100, 127, 128, 129};
    kdc_conv_params p;
    kdc_consts c;
    size_t nx, ny, nw, nc;
    int8_t *x, *w, *y, *yr;
    int32_t *b, *m, *e;
    int good;
    memset(&p, 0, sizeof p);
    geometry(&p, 12, 6);
    if (rnd() % 4 == 0) {
        p.k_h = p.k_w = 1, p.stride_h = p.stride_w = 1;
        p.pad_top = p.pad_left = 0, p.out_w = p.in_w, p.out_h = 1 + rnd() % p.in_h;
    }
    p.tflite = (int32_t)(rnd() % 2) * KDC_TFLITE;
    if (depthwise && rnd() % 3 == 0) { /* 3x3 (the unrolled path inside the input) */
        p.k_h = p.k_w = 3, p.pad_top %= 3, p.pad_left %= 3;
        p.out_h = 1 + rnd() % ((p.in_h + p.pad_top - 1) / p.stride_h + 1);
        p.out_w = 1 + rnd() % ((p.in_w + p.pad_left - 1) / p.stride_w + 1);
    }
    if (depthwise) {
        p.in_c = pick(chans, sizeof chans / sizeof chans[0]) + (rnd() % 3 == 0) * 32;
        p.depth_mult = rnd() % 8 ? 1 : 2;
        p.out_c = p.in_c * p.depth_mult;
    } else {
        p.in_c = pick(cins, sizeof cins / sizeof cins[0]);
        p.out_c = pick(chans, sizeof chans / sizeof chans[0]);
    }
    nx = p.in_h * p.in_w * p.in_c, ny = p.out_h * p.out_w * p.out_c, nc = p.out_c;
    nw = depthwise ? p.k_h * p.k_w * p.out_c : p.out_c * p.k_h * p.k_w * p.in_c;
    x = bytes(nx), w = bytes(nw), y = bytes(ny), yr = bytes(ny);
    b = qarray(nc, 0), m = qarray(nc, 1), e = qarray(nc, 2);
    c.weights = w, c.bias = b, c.mult = m, c.shift = e;
    if (depthwise) {
        kdc_ref_dwconv2d_s8(yr, x, &c, &p, NULL);
        kdc_dwconv2d_s8(y, x, &c, &p, test_scratch(kdc_dwconv2d_s8_scratch_bytes(&p)));
    } else {
        kdc_ref_conv2d_s8(yr, x, &c, &p, NULL);
        kdc_conv2d_s8(y, x, &c, &p, test_scratch(kdc_conv2d_s8_scratch_bytes(&p)));
    }
    good = same(depthwise ? "dwconv2d (avx2 shapes)" : "conv2d (avx2 shapes)", y, yr, ny, shown);
    free(x), free(w), free(y), free(yr), free(b), free(m), free(e);
    return good;
}

/* The avx2 variant's max pool rows (AVX-512 VBMI: up to 128 input bytes per chunk of output
 * pixels): wide rows, so that a row takes several chunks, few channels. */
static int run_avx2_maxpool(int *shown)
{
    static const size_t cs[] = {1, 2, 3, 4, 8, 9, 16, 24, 32, 33};
    kdc_conv_params p;
    size_t nx, ny;
    int8_t *x, *y, *yr;
    int good;
    memset(&p, 0, sizeof p);
    geometry(&p, 40, 5);
    if (rnd() % 2) p.in_w = 20 + rnd() % 30, p.out_w = 1 + (p.in_w + p.pad_left - 1) / p.stride_w;
    p.in_c = p.out_c = pick(cs, sizeof cs / sizeof cs[0]);
    nx = p.in_h * p.in_w * p.in_c, ny = p.out_h * p.out_w * p.out_c;
    x = bytes(nx), y = bytes(ny), yr = bytes(ny);
    kdc_ref_maxpool_s8(yr, x, &p, NULL);
    kdc_maxpool_s8(y, x, &p, test_scratch(kdc_maxpool_s8_scratch_bytes(&p)));
    good = same("maxpool (avx2 shapes)", y, yr, ny, shown);
    free(x), free(y), free(yr);
    return good;
}

static void test_variant_path(const char *path)
{
    static const char *const names[] = {"conv2d", "dwconv2d",       "maxpool", "avgpool",
                                        "fc",     "global_avgpool", "add",     "clamp"};
    static const int runs[] = {600, 300, 300, 300, 300, 200, 200, 200};
    int k, i;
    test_scratch_formula();
    test_output_extremes();
    if (strcmp(KDC_KERNELS_VARIANT, "avx2") == 0)
        for (k = 0; k < 3; k++) {
            int good = 0, shown = 0;
            char what[128];
            for (i = 0; i < 400; i++)
                good += k == 2 ? run_avx2_maxpool(&shown) : run_avx2_shapes(k, &shown);
            sprintf(what, "%s (%s%s) = reference on 400 random model-like shapes",
                    k == 2 ? "maxpool"
                    : k    ? "dwconv2d"
                           : "conv2d",
                    KDC_KERNELS_VARIANT, path);
            ok(good == 400, what, NULL);
        }
    for (k = 0; k < 8; k++) {
        int good = 0, shown = 0;
        char what[128];
        for (i = 0; i < runs[k]; i++) {
            switch (k) {
            case 0: good += run_conv(0, &shown); break;
            case 1: good += run_conv(1, &shown); break;
            case 2: good += run_pool(0, &shown); break;
            case 3: good += run_pool(1, &shown); break;
            case 4: good += run_fc(&shown); break;
            default: good += run_elementwise(k - 5, &shown); break;
            }
        }
        sprintf(what, "%s (%s%s) = reference on %d random cases", names[k], KDC_KERNELS_VARIANT,
                path, runs[k]);
        ok(good == runs[k], what, NULL);
    }
}

void test_variants(void)
{
#if KDC__VARIANT_AVX2
    /* both paths of the avx2 variant: AVX2 alone, then AVX-512 VNNI where the CPU has it */
    kdc__avx2_no_avx512 = 1;
    test_variant_path(", AVX2 path");
    kdc__avx2_no_avx512 = 0;
#if defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2"))
        test_variant_path(", AVX-512 VNNI path");
    else
        printf("the CPU has no AVX-512 VNNI: the avx2 variant's VNNI path not run (skipped)\n");
#endif
#else
    test_variant_path("");
#endif
}
