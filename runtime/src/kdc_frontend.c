/* kdc_frontend.c - the input stage (docs/FORMAT.md 3.7): validation of the block, the integer
 * audio front end (docs/AUDIO.md; bit-exact with Sources/KDC/Audio/AudioFrontEnd.swift), sensor
 * normalization, and the streaming API. Integer arithmetic only in the audio path; stdint, stddef
 * and string.h only; no malloc: scratch and stream buffers come from the caller. */
#include "kdc.h"
#include "kdc_format.h"
#include "kdc_stage.h"

#include <string.h>

#if KDC_STAGE /* src/kdc_stage.h: 0 builds none of this file */

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint32_t r4(uint32_t v) { return (v + 3u) & ~3u; }

/* Floor division by 2^s. C99 leaves >> of a negative value implementation-defined: where it is
 * the arithmetic shift (gcc, clang, every target kdc builds for: -1 >> 1 == -1, folded at compile
 * time) it is used directly, else ~(~v >> s), the same value from a non-negative shift. */
#define KDC__ASR_NATIVE ((-1 >> 1) == -1)
static int32_t asr32(int32_t v, unsigned s)
{
    return KDC__ASR_NATIVE || v >= 0 ? v >> s : ~(~v >> s);
}
static int64_t asr64(int64_t v, unsigned s)
{
    return KDC__ASR_NATIVE || v >= 0 ? v >> s : ~(~v >> s);
}
static int32_t abs32(int32_t v) { return v < 0 ? -v : v; }

/* ---- the block -------------------------------------------------------- */

/* The decoded block of a validated model (pointers into the artifact). */
typedef struct {
    uint32_t kind, frames, features;
    uint32_t rate, win, hop, fft, mel, coeffs;
    const int16_t *window;
    const int32_t *tw_cos, *tw_sin;
    const uint8_t *bands; /* mel: u16 first bin, u16 bin count per filter */
    const uint16_t *weights;
    const int16_t *dct;
    const float *mean, *k; /* sensor */
} kdc__stage_t;

/* Decodes the block at p (already validated, or being validated: sizes only up to the tables). */
static void kdc__decode_stage(const uint8_t *p, kdc__stage_t *s)
{
    uint32_t off;
    memset(s, 0, sizeof *s);
    s->kind = rd16(p + KDC__STAGE_KIND);
    s->frames = rd32(p + KDC__STAGE_FRAMES);
    s->features = rd32(p + KDC__STAGE_FEATURES);
    if (s->kind == KDC__STAGE_SENSOR) {
        s->mean = (const float *)(const void *)(p + KDC__STAGE_HEADER_BYTES);
        s->k = s->mean + 2 * s->features; /* mean, std, k */
        return;
    }
    s->rate = rd32(p + KDC__AUDIO_SAMPLE_RATE);
    s->win = rd16(p + KDC__AUDIO_WINDOW);
    s->hop = rd16(p + KDC__AUDIO_HOP);
    s->fft = rd16(p + KDC__AUDIO_FFT_SIZE);
    s->mel = rd16(p + KDC__AUDIO_MEL_BINS);
    s->coeffs = rd16(p + KDC__AUDIO_COEFFICIENTS);
    off = KDC__AUDIO_TABLES;
    s->window = (const int16_t *)(const void *)(p + off);
    off += r4(2 * s->win);
    s->tw_cos = (const int32_t *)(const void *)(p + off);
    off += 2 * s->fft;
    s->tw_sin = (const int32_t *)(const void *)(p + off);
    off += 2 * s->fft;
    s->bands = p + off;
    off += 4 * s->mel;
    s->weights = (const uint16_t *)(const void *)(p + off);
}

static int kdc__finite(uint32_t bits) { return (bits & 0x7F800000u) != 0x7F800000u; }
/* The f64 at p as its IEEE bits (little-endian). Non-negative finite doubles order as their bits,
 * so the frequency checks need no floating point (no libgcc double helpers on the device). */
static uint64_t kdc__bits64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* The IEEE bits of rate / 2 for 1 <= rate < 2^31 (exact: an integer or a half). */
static uint64_t kdc__half_bits(uint32_t rate)
{
    uint32_t e = 0;
    while ((rate >> e) > 1u) e++; /* rate = 1.f x 2^e */
    return (uint64_t)(e + 1022u) << 52 | (((uint64_t)rate << (52 - e)) & 0xFFFFFFFFFFFFFull);
}

kdc_status kdc__stage_check(kdc_model *m, const uint8_t *body, uint32_t raw, uint32_t start)
{
    const uint8_t *t = body + m->tensors_off; /* tensor 0: the graph input */
    const uint8_t *p;
    uint32_t kind, bytes, frames, feats, rank, in_size, scale, need, i, nw = 0, n;
    int32_t zp;
    kdc__stage_t s;
    if (start > raw || raw - start < KDC__STAGE_HEADER_BYTES) return KDC_ERR_STAGE; /* header in */
    p = body + start;
    kind = rd16(p + KDC__STAGE_KIND);
    bytes = rd32(p + KDC__STAGE_BYTES);
    frames = rd32(p + KDC__STAGE_FRAMES);
    feats = rd32(p + KDC__STAGE_FEATURES);
    if (kind != KDC__STAGE_AUDIO && kind != KDC__STAGE_SENSOR) return KDC_ERR_STAGE; /* kind */
    if (rd16(p + KDC__STAGE_RESERVED) != 0) return KDC_ERR_STAGE;                    /* reserved */
    if (bytes % 4 || bytes < KDC__STAGE_HEADER_BYTES || bytes > raw - start) return KDC_ERR_STAGE;
    if (frames == 0 || feats == 0 || frames > 0xFFFFu || feats > 0xFFFFu) return KDC_ERR_STAGE;
    rank = t[KDC__TENSOR_RANK];
    in_size = rd32(t + KDC__TENSOR_BYTE_SIZE);
    scale = rd32(t + KDC__TENSOR_SCALE);
    zp = (int32_t)rd32(t + KDC__TENSOR_ZERO_POINT);
    if (frames * feats != in_size) return KDC_ERR_STAGE; /* the input is frames x features */
    if (kind == KDC__STAGE_SENSOR) {
        if (rd16(t + KDC__TENSOR_DIMS + 2 * (rank - 1)) != feats) return KDC_ERR_STAGE; /* C last */
        if (bytes != KDC__STAGE_HEADER_BYTES + 12 * feats) return KDC_ERR_STAGE;
        for (i = 0; i < feats; i++) {
            uint32_t mean = rd32(p + KDC__STAGE_HEADER_BYTES + 4 * i);
            uint32_t sd = rd32(p + KDC__STAGE_HEADER_BYTES + 4 * (feats + i));
            uint32_t k = rd32(p + KDC__STAGE_HEADER_BYTES + 4 * (2 * feats + i));
            if (!kdc__finite(mean)) return KDC_ERR_STAGE;                        /* mean finite */
            if (!kdc__finite(sd) || sd == 0 || (sd >> 31)) return KDC_ERR_STAGE; /* std > 0 */
            if (!kdc__finite(k) || k == 0 || (k >> 31)) return KDC_ERR_STAGE;    /* k > 0 */
        }
        m->stage = p;
        return KDC_OK;
    }
    if (bytes < KDC__AUDIO_TABLES) return KDC_ERR_STAGE;
    kdc__decode_stage(p, &s);
    if (s.rate == 0 || s.rate > KDC__AUDIO_MAX_RATE) return KDC_ERR_STAGE;
    if (s.fft < KDC__AUDIO_FFT_MIN || s.fft > KDC__AUDIO_FFT_MAX || (s.fft & (s.fft - 1)))
        return KDC_ERR_STAGE; /* a power of two */
    if (s.win < 2 || s.win > s.fft || s.hop < 1 || s.hop > s.win) return KDC_ERR_STAGE;
    if (s.mel < 1 || s.mel > KDC__AUDIO_MAX_MEL || s.coeffs > s.mel) return KDC_ERR_STAGE;
    if (rd16(p + KDC__AUDIO_RESERVED) != 0) return KDC_ERR_STAGE;
    if (feats != (s.coeffs ? s.coeffs : s.mel)) return KDC_ERR_STAGE;
    { /* 0 <= low < high <= rate / 2, both finite with the sign bit clear */
        uint64_t lo = kdc__bits64(p + KDC__AUDIO_LOW_HZ), hi = kdc__bits64(p + KDC__AUDIO_HIGH_HZ);
        if ((lo >> 63) || (hi >> 63) || !(lo < hi) || hi > kdc__half_bits(s.rate))
            return KDC_ERR_STAGE;
    }
    /* The input tensor's quantization is the front end's. */
    if (s.coeffs ? (scale != KDC__MFCC_SCALE_BITS || zp != KDC__MFCC_ZERO_POINT)
                 : (scale != KDC__LOGMEL_SCALE_BITS || zp != KDC__LOGMEL_ZERO_POINT))
        return KDC_ERR_STAGE;
    /* Tables up to the mel bands (sizes from the parameters), then the weights and the DCT. */
    need = KDC__AUDIO_TABLES + r4(2 * s.win) + 4 * s.fft + 4 * s.mel;
    if (bytes < need) return KDC_ERR_STAGE;
    for (i = 0; i < s.win; i++)
        if (s.window[i] < 0) return KDC_ERR_STAGE; /* window Q15 in 0..32767 */
    for (i = 0; i < s.fft / 2; i++) {
        if (s.tw_cos[i] > KDC__AUDIO_Q30 || s.tw_cos[i] < -KDC__AUDIO_Q30) return KDC_ERR_STAGE;
        if (s.tw_sin[i] > KDC__AUDIO_Q30 || s.tw_sin[i] < -KDC__AUDIO_Q30) return KDC_ERR_STAGE;
    }
    for (i = 0; i < s.mel; i++) {
        uint32_t first = rd16(s.bands + 4 * i), cnt = rd16(s.bands + 4 * i + 2);
        if (first + cnt > s.fft / 2 + 1) return KDC_ERR_STAGE; /* bins 0..N/2 */
        nw += cnt;
    }
    need += r4(2 * nw) + r4(2 * s.coeffs * s.mel);
    if (bytes != need) return KDC_ERR_STAGE; /* exactly the tables */
    n = nw;
    for (i = 0; i < n; i++)
        if (s.weights[i] > 32768u) return KDC_ERR_STAGE; /* Q15 weights in 0..1 */
    m->stage = p;
    return KDC_OK;
}

/* ---- the audio front end ----------------------------------------------- */

static const int32_t kdc__log2_table[33] = {
    0,     2909,  5732,  8473,  11136, 13727, 16248, 18704, 21098, 23433, 25711,
    27936, 30109, 32234, 34312, 36346, 38336, 40286, 42196, 44068, 45904, 47705,
    49472, 51207, 52911, 54584, 56229, 57845, 59434, 60997, 62534, 64047, 65536}; /* AUDIO.md 5 */

/* log2(v) in Q16 for v >= 1 (docs/AUDIO.md 5). */
static int32_t kdc__log2q16(uint64_t v)
{
    int32_t p = 0, f, i, r;
    unsigned sh;
    for (sh = 32; sh > 0; sh >>= 1)
        if (v >> (p + (int32_t)sh)) p += (int32_t)sh; /* p = index of the top set bit */
    f = (int32_t)((p >= 15 ? v >> (p - 15) : v << (15 - p)) & 0x7FFFu);
    i = f >> 10;
    r = f & 1023;
    return p * 65536 + kdc__log2_table[i] +
           (((kdc__log2_table[i + 1] - kdc__log2_table[i]) * r + 512) >> 10);
}

static int8_t kdc__sat8(int64_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

/* One frame: x[win] -> out[features]; scratch: re[fft], im[fft], log-mel[mel] (int32). */
static void kdc__frame(const kdc__stage_t *s, const int16_t *x, int8_t *out, int32_t *scratch)
{
    int32_t *re = scratch, *im = scratch + s->fft, *lm = scratch + 2 * s->fft;
    uint32_t n = s->fft, i, half, j, wi = 0;
    int32_t exponent = 0;
    uint32_t top = 0; /* OR of |values| written so far: its top bit is their maximum's */
    memset(scratch, 0, 8u * n);
    /* 1. window (Q15, rounded), zero padding, bit-reversed order, times 2^12 */
    for (i = 0, j = 0; i < s->win; i++) { /* j = bitrev(i), advanced as a reversed counter */
        int32_t v = asr32((int32_t)x[i] * s->window[i] + 16384, 15) * 4096;
        uint32_t bit = n >> 1;
        re[j] = v;
        top |= (uint32_t)abs32(v);
        while (j & bit) {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
    }
    /* 2. radix-2 DIT FFT, block scaling: before each stage |values| < 2^28 */
    for (half = 1; half < n; half *= 2) {
        uint32_t step = n / (2 * half), start, k;
        unsigned sh = 0;
        while ((top >> sh) >= (1u << 28)) sh++; /* = (max |value| >> sh) >= 2^28 */
        if (sh > 0) {
            for (i = 0; i < n; i++) {
                re[i] = asr32(re[i], sh);
                im[i] = asr32(im[i], sh);
            }
            exponent += (int32_t)sh;
        }
        top = 0;
        for (start = 0; start < n; start += 2 * half) {
            for (k = 0; k < half; k++) {
                int64_t c = s->tw_cos[k * step], sn = s->tw_sin[k * step];
                uint32_t a = start + k, b = a + half;
                int64_t br = re[b], bi = im[b];
                int32_t tr = (int32_t)asr64(br * c + bi * sn + (1 << 29), 30);
                int32_t ti = (int32_t)asr64(bi * c - br * sn + (1 << 29), 30);
                int32_t ar = re[a], ai = im[a];
                re[a] = ar + tr;
                im[a] = ai + ti;
                re[b] = ar - tr;
                im[b] = ai - ti;
                /* the OR of the |values| has the top bit of their maximum, all the scaling reads */
                top |= (uint32_t)(abs32(re[a]) | abs32(im[a]) | abs32(re[b]) | abs32(im[b]));
            }
        }
    }
    /* 3. power (values >> 6 first), 4. mel filterbank, 5. log2 */
    for (j = 0; j < s->mel; j++) {
        uint32_t first = rd16(s->bands + 4 * j), cnt = rd16(s->bands + 4 * j + 2), b;
        uint64_t e = 0;
        for (b = 0; b < cnt; b++) {
            int64_t r = asr32(re[first + b], 6), q = asr32(im[first + b], 6);
            e += ((uint64_t)s->weights[wi + b] * (uint64_t)(r * r + q * q)) >> 15;
        }
        wi += cnt;
        lm[j] = kdc__log2q16(e > 0 ? e : 1) + (2 * exponent - 12) * 65536;
    }
    /* 6. int8: log-mel, or the DCT-II (MFCC) */
    if (s->coeffs == 0) {
        for (j = 0; j < s->mel; j++)
            out[j] = kdc__sat8((int64_t)asr32(lm[j] + 8192, 14) + KDC__LOGMEL_ZERO_POINT);
    } else {
        const int16_t *d = (const int16_t *)(const void *)((const uint8_t *)s->weights +
                                                           r4(2 * wi)); /* after the weights */
        for (j = 0; j < s->coeffs; j++) {
            int64_t acc = 0;
            for (i = 0; i < s->mel; i++) acc += (int64_t)d[j * s->mel + i] * lm[i];
            out[j] = kdc__sat8(asr64(acc + (1 << 29), 30) + KDC__MFCC_ZERO_POINT);
        }
    }
}

static int kdc__get(const kdc_model *m, kdc__stage_t *s)
{
    if (!m || !m->arena || !m->stage) return 0;
    kdc__decode_stage(m->stage, s);
    return 1;
}

kdc_status kdc_stage(const kdc_model *m, kdc_stage_info *out)
{
    kdc__stage_t s;
    if (!out) return KDC_ERR_NULL;
    memset(out, 0, sizeof *out);
    if (!m || !m->arena) return KDC_ERR_NULL;
    if (!kdc__get(m, &s)) return KDC_OK; /* no input stage: kind 0 */
    out->kind = s.kind;
    out->frames = s.frames;
    out->features = s.features;
    out->sample_rate = s.rate;
    out->window_samples = s.win;
    out->hop_samples = s.hop;
    out->fft_size = s.fft;
    out->mel_bins = s.mel;
    out->coefficients = s.coeffs;
    out->scratch_bytes = s.kind == KDC_STAGE_AUDIO ? 8u * s.fft + 4u * s.mel : 0;
    return KDC_OK;
}

size_t kdc_frontend_scratch_bytes(const kdc_model *m)
{
    kdc_stage_info i;
    return kdc_stage(m, &i) == KDC_OK ? i.scratch_bytes : 0;
}

/* Checks scratch for an audio model; fills s. */
static kdc_status kdc__audio(const kdc_model *m, kdc__stage_t *s, const void *scratch,
                             size_t scratch_len)
{
    if (!kdc__get(m, s) || !scratch) return KDC_ERR_NULL;
    if (s->kind != KDC_STAGE_AUDIO) return KDC_ERR_SHAPE;
    if ((uintptr_t)scratch % 4 != 0) return KDC_ERR_ALIGN;
    if (scratch_len < 8u * s->fft + 4u * s->mel) return KDC_ERR_DST_TOO_SMALL;
    return KDC_OK;
}

kdc_status kdc_frontend_frame(const kdc_model *m, const int16_t *pcm, size_t n, int8_t *out,
                              size_t out_len, void *scratch, size_t scratch_len)
{
    kdc__stage_t s;
    kdc_status st = kdc__audio(m, &s, scratch, scratch_len);
    if (st != KDC_OK) return st;
    if (!pcm || !out) return KDC_ERR_NULL;
    if (n != s.win || out_len != s.features) return KDC_ERR_SHAPE;
    kdc__frame(&s, pcm, out, (int32_t *)scratch);
    return KDC_OK;
}

kdc_status kdc_frontend_features(const kdc_model *m, const int16_t *pcm, size_t n, int8_t *out,
                                 size_t out_len, size_t *frames, void *scratch, size_t scratch_len)
{
    kdc__stage_t s;
    size_t f, nf;
    kdc_status st = kdc__audio(m, &s, scratch, scratch_len);
    if (st != KDC_OK) return st;
    if ((!pcm && n > 0) || !out || !frames) return KDC_ERR_NULL;
    nf = n < s.win ? 0 : (n - s.win) / s.hop + 1;
    *frames = nf;
    if (out_len / s.features < nf) return KDC_ERR_DST_TOO_SMALL;
    for (f = 0; f < nf; f++)
        kdc__frame(&s, pcm + f * s.hop, out + f * s.features, (int32_t *)scratch);
    return KDC_OK;
}

/* ---- sensor normalization ---------------------------------------------- */

static int32_t kdc__sensor_q(float x, float mean, float k)
{
    float t = x - mean; /* two statements: no contraction into an FMA */
    int32_t r;
    float f;
    t = t * k;
    if (t != t) t = 0.0f; /* NaN */
    if (t > 1000.0f) t = 1000.0f;
    if (t < -1000.0f) t = -1000.0f;
    r = (int32_t)t;
    f = t - (float)r;
    r += (f >= 0.5f) - (f <= -0.5f); /* round half away from zero */
    return r;                        /* in -1000..1000; the caller adds the zero point and clamps */
}

kdc_status kdc_sensor_quantize(const kdc_model *m, const float *x, size_t n, int8_t *out,
                               size_t out_len)
{
    kdc__stage_t s;
    kdc_tensor in;
    size_t i, c = 0;
    if (!kdc__get(m, &s) || !x || !out) return KDC_ERR_NULL;
    if (s.kind != KDC_STAGE_SENSOR || n % s.features != 0 || out_len < n) return KDC_ERR_SHAPE;
    in = kdc_input(m);
    for (i = 0; i < n; i++) {
        int32_t q = kdc__sensor_q(x[i], s.mean[c], s.k[c]) + in.zero_point;
        out[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        if (++c == s.features) c = 0;
    }
    return KDC_OK;
}

/* ---- streaming --------------------------------------------------------- */

size_t kdc_stream_bytes(const kdc_model *m)
{
    kdc__stage_t s;
    size_t ring;
    if (!kdc__get(m, &s)) return 0;
    ring = (size_t)s.frames * s.features;
    if (s.kind == KDC_STAGE_SENSOR) return ring;
    return r4(2 * s.win) + 8u * s.fft + 4u * s.mel + ring;
}

kdc_status kdc_stream_init(kdc_stream *st, kdc_model *m, void *buf, size_t len, size_t every,
                           kdc_stream_callback cb, void *user)
{
    kdc__stage_t s;
    uint8_t *b = (uint8_t *)buf;
    if (!st) return KDC_ERR_NULL;
    memset(st, 0, sizeof *st);
    if (!kdc__get(m, &s) || !buf) return KDC_ERR_NULL;
    if ((uintptr_t)buf % 4 != 0) return KDC_ERR_ALIGN;
    if (len < kdc_stream_bytes(m)) return KDC_ERR_DST_TOO_SMALL;
    st->model = m;
    st->kind = s.kind;
    st->frame_bytes = s.features;
    st->frames = s.frames;
    if (s.kind == KDC_STAGE_AUDIO) {
        st->pcm = (int16_t *)buf;
        st->scratch = b + r4(2 * s.win);
        st->ring = (int8_t *)(b + r4(2 * s.win) + 8u * s.fft + 4u * s.mel);
    } else {
        st->ring = (int8_t *)buf;
    }
    st->every = every;
    st->wait = 1;
    st->cb = cb;
    st->user = user;
    return KDC_OK;
}

kdc_status kdc_stream_run(kdc_stream *st)
{
    kdc_tensor in;
    size_t head;
    if (!st || !st->model) return KDC_ERR_NULL;
    if (st->count < st->frames) return KDC_ERR_TRUNCATED; /* the ring is not full yet */
    in = kdc_input(st->model);
    head = st->next * st->frame_bytes; /* the oldest frame */
    memcpy(in.data, st->ring + head, st->frames * st->frame_bytes - head);
    memcpy(in.data + (st->frames * st->frame_bytes - head), st->ring, head);
    kdc_invoke(st->model);
    st->runs++;
    if (st->cb) st->cb(st->user, st->model);
    return KDC_OK;
}

/* A new frame is in ring[next]: advance, run when due. */
static void kdc__stream_frame(kdc_stream *st)
{
    if (++st->next == st->frames) st->next = 0;
    if (st->count < st->frames) st->count++;
    if (st->count == st->frames && st->every > 0 && --st->wait == 0) {
        st->wait = st->every;
        (void)kdc_stream_run(st);
    }
}

kdc_status kdc_stream_push_pcm(kdc_stream *st, const int16_t *pcm, size_t n)
{
    kdc__stage_t s;
    if (!st || !st->model || (!pcm && n > 0)) return KDC_ERR_NULL;
    if (st->kind != KDC_STAGE_AUDIO) return KDC_ERR_SHAPE;
    kdc__decode_stage(st->model->stage, &s);
    while (n > 0) {
        size_t take = s.win - st->fill;
        if (take > n) take = n;
        memcpy(st->pcm + st->fill, pcm, take * sizeof *pcm);
        st->fill += take;
        pcm += take;
        n -= take;
        if (st->fill == s.win) {
            kdc__frame(&s, st->pcm, st->ring + st->next * st->frame_bytes, (int32_t *)st->scratch);
            memmove(st->pcm, st->pcm + s.hop, (s.win - s.hop) * sizeof *pcm);
            st->fill = s.win - s.hop;
            kdc__stream_frame(st);
        }
    }
    return KDC_OK;
}

kdc_status kdc_stream_push_sensor(kdc_stream *st, const float *x, size_t n)
{
    size_t i;
    if (!st || !st->model || (!x && n > 0)) return KDC_ERR_NULL;
    if (st->kind != KDC_STAGE_SENSOR) return KDC_ERR_SHAPE;
    if (n % st->frame_bytes != 0) return KDC_ERR_SHAPE; /* whole samples (all channels) */
    for (i = 0; i < n; i += st->frame_bytes) {
        kdc_sensor_quantize(st->model, x + i, st->frame_bytes,
                            st->ring + st->next * st->frame_bytes, st->frame_bytes);
        kdc__stream_frame(st);
    }
    return KDC_OK;
}

#else
typedef int kdc__no_input_stage; /* ISO C: a translation unit declares something */
#endif /* KDC_STAGE */
