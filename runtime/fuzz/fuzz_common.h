/* fuzz_common.h - helpers shared by the fuzz targets (host only: uses malloc
 * and abort, never linked into the runtime). Every buffer handed to the
 * runtime is a fresh heap block of exactly the length passed, so ASan sees a
 * read or write one byte past any length the runtime was given. */
#ifndef KDC_FUZZ_COMMON_H
#define KDC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdc.h"
#include "kdc_format.h"
#include "kdc_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_ARENA_CAP /* the replay build raises it to 32 MiB for the regression inputs */
#define FUZZ_ARENA_CAP ((size_t)1 << 22) /* largest arena the harness allocates (4 MiB) */
#endif
#define FUZZ_UNPACK_CAP ((size_t)1 << 22) /* largest kdc_unpack destination */
#define FUZZ_WORK_CAP 20000000.0          /* largest invoke (MAC-ish steps) run per input */

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint32_t fz_rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t fz_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Exact-size heap copy (at least 1 byte allocated so the pointer is valid). */
static uint8_t *fz_dup(const uint8_t *data, size_t size)
{
    uint8_t *p = (uint8_t *)calloc(size ? size : 1, 1);
    if (!p) abort();
    if (size) memcpy(p, data, size);
    return p;
}

/* Recompute the header CRC so mutations reach the checks behind it. */
static void fz_reseal(uint8_t *a, size_t size)
{
    uint32_t c;
    if (size < KDC_HEADER_BYTES) return;
    c = kdc_crc32(0, a, KDC__HDR_HEADER_CRC);
    a += KDC__HDR_HEADER_CRC;
    a[0] = (uint8_t)c, a[1] = (uint8_t)(c >> 8), a[2] = (uint8_t)(c >> 16),
    a[3] = (uint8_t)(c >> 24);
}

/* Upper bound on the inner-loop steps of kdc_invoke for a model kdc_init
 * accepted (sum over ops of output bytes x reduction length; m->macs covers
 * FC and conv, but pools loop over windows too). Invoke always terminates
 * (every loop is bounded by validated shapes), but a tiny artifact may
 * legitimately describe hours of work (a 4 MiB output with a 256x256 window);
 * the harness skips those instead of reporting them as timeouts. */
static double fz_work(const kdc_model *m)
{
    double work = 0;
    uint32_t i;
    for (i = 0; i < m->n_ops; i++) {
        const uint8_t *r = m->body + m->ops_off + (size_t)i * KDC__OP_RECORD_BYTES;
        const uint8_t *a = m->body + m->tensors_off +
                           (size_t)fz_rd16(r + KDC__OP_INPUT0) * KDC__TENSOR_RECORD_BYTES;
        const uint8_t *o = m->body + m->tensors_off +
                           (size_t)fz_rd16(r + KDC__OP_OUTPUT) * KDC__TENSOR_RECORD_BYTES;
        double in_size = fz_rd32(a + KDC__TENSOR_BYTE_SIZE),
               out = fz_rd32(o + KDC__TENSOR_BYTE_SIZE),
               taps = (double)fz_rd16(r + KDC__OP_K_H) * fz_rd16(r + KDC__OP_K_W);
        switch (r[KDC__OP_CODE]) {
        case KDC_OP_FULLY_CONNECTED: work += out * in_size; break;
        case KDC_OP_CONV_2D: work += out * taps * fz_rd16(a + KDC__TENSOR_DIMS + 6); break;
        case KDC_OP_DEPTHWISE_CONV_2D:
        case KDC_OP_MAX_POOL_2D:
        case KDC_OP_AVERAGE_POOL_2D: work += out * taps; break;
        case KDC_OP_GLOBAL_AVERAGE_POOL: work += in_size; break;
        default: work += out; break;
        }
        work += 1;
    }
    return work;
}

/* opcode is a line of the op table (kdc_ops.h). */
static int fz_known_op(unsigned opcode)
{
    switch (opcode) {
#define FZ_OP(code, name, inputs, params, consts, same_q, kind, macs, kernel) case code:
        KDC_OP_TABLE(FZ_OP)
#undef FZ_OP
        return 1;
    default: return 0;
    }
}

/* Per-op hook: every op's output lies inside the arena, ops come in order. */
typedef struct {
    const uint8_t *arena;
    size_t len, next_op, n_ops;
} fz_hook;

static void fz_callback(void *user, size_t op_index, unsigned opcode, const int8_t *out, size_t n)
{
    fz_hook *h = (fz_hook *)user;
    const uint8_t *o = (const uint8_t *)out;
    FUZZ_ASSERT(op_index == h->next_op && op_index < h->n_ops);
    FUZZ_ASSERT(fz_known_op(opcode));
    FUZZ_ASSERT(o >= h->arena && n <= h->len && (size_t)(o - h->arena) <= h->len - n);
    FUZZ_ASSERT(*kdc_status_str((kdc_status)opcode) != 0);
    h->next_op++;
}

static void fz_stream_cb(void *user, kdc_model *m)
{
    (void)user;
    FUZZ_ASSERT(kdc_output(m).data != NULL);
}

/* The input stage of a loaded model, if any: the front end over the fuzz bytes as PCM (whole and
 * streamed in chunks of 1..64 samples, the model running every hop), or the sensor path over
 * them as floats. */
static void fz_stage(kdc_model *m, const uint8_t *fill, size_t fill_len)
{
    kdc_stage_info si;
    kdc_stream s;
    size_t n = fill_len / 2, frames = 0, i, sb = kdc_stream_bytes(m);
    int16_t *pcm;
    int8_t *feats;
    uint32_t *scratch, *buf;
    FUZZ_ASSERT(kdc_stage(m, &si) == KDC_OK);
    if (si.kind == KDC_STAGE_NONE || sb > FUZZ_ARENA_CAP) return;
    pcm = (int16_t *)malloc(n * 2 + 8);
    feats =
        (int8_t *)malloc(n * si.features / (si.hop_samples ? si.hop_samples : 1) + si.features + 8);
    scratch = (uint32_t *)malloc(si.scratch_bytes + 4);
    buf = (uint32_t *)malloc(sb + 4);
    if (!pcm || !feats || !scratch || !buf) abort();
    for (i = 0; i < n; i++) pcm[i] = (int16_t)(uint16_t)(fill[2 * i] | fill[2 * i + 1] << 8);
    if (si.kind == KDC_STAGE_AUDIO) {
        size_t cap = n * si.features / si.hop_samples + si.features;
        FUZZ_ASSERT(kdc_frontend_features(m, pcm, n, feats, cap, &frames, scratch,
                                          si.scratch_bytes) == KDC_OK);
        FUZZ_ASSERT(frames ==
                    (n < si.window_samples ? 0 : (n - si.window_samples) / si.hop_samples + 1));
        FUZZ_ASSERT(kdc_stream_init(&s, m, buf, sb, 1, fz_stream_cb, NULL) == KDC_OK);
        for (i = 0; i < n;) {
            size_t take = 1 + (fill[i % fill_len] & 63);
            if (take > n - i) take = n - i;
            FUZZ_ASSERT(kdc_stream_push_pcm(&s, pcm + i, take) == KDC_OK);
            i += take;
        }
        FUZZ_ASSERT(s.runs == (frames >= si.frames ? frames - si.frames + 1 : 0));
    } else {
        size_t nf = fill_len / 4 / si.features * si.features;
        float *x = (float *)malloc(nf * 4 + 4);
        if (!x) abort();
        memcpy(x, fill, nf * 4);
        FUZZ_ASSERT(kdc_stream_init(&s, m, buf, sb, 3, fz_stream_cb, NULL) == KDC_OK);
        FUZZ_ASSERT(kdc_stream_push_sensor(&s, x, nf) == KDC_OK);
        free(x);
    }
    free(pcm);
    free(feats);
    free(scratch);
    free(buf);
}

/* Init (flags) on an exact-size copy, with an exact-size arena; on KDC_OK
 * check the invariants and invoke (if run_invoke and the work is bounded).
 * Returns the init status. */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static kdc_status
fz_init_invoke(const uint8_t *art, size_t len, unsigned flags, int run_invoke, const uint8_t *fill,
               size_t fill_len)
{
    kdc_model m;
    kdc_info info;
    kdc_status st, q = kdc_query(art, len, &info);
    uint8_t *arena;
    size_t alen;
    st = kdc_init(&m, art, len, NULL, 0, flags); /* no arena: at best ARENA_TOO_SMALL */
    FUZZ_ASSERT(st != KDC_OK);
    FUZZ_ASSERT((unsigned)st < KDC_STATUS_COUNT);
    /* a failed model is safe to use: empty tensors, invoke refused */
    FUZZ_ASSERT(kdc_input(&m).data == NULL && kdc_output(&m).size == 0);
    FUZZ_ASSERT(kdc_invoke(&m) == KDC_ERR_NULL);
    if (q != KDC_OK) {
        FUZZ_ASSERT(st == q); /* kdc_init checks the header first, same answer */
        return st;
    }
    if (st != KDC_ERR_ARENA_TOO_SMALL) {
        FUZZ_ASSERT(m.arena_needed == 0);
        return st;
    }
    /* validated: kdc_query's op walk (whole stored body) gives kdc_init's figures */
    FUZZ_ASSERT(info.ops_known && info.n_ops == m.n_ops && info.macs == m.macs &&
                info.scratch_bytes == m.scratch_bytes && info.arena_needed == m.arena_needed);
    FUZZ_ASSERT(m.arena_needed == KDC_ARENA_TOTAL(info.arena_bytes, m.scratch_bytes));
    alen = m.arena_needed;
    if (alen > FUZZ_ARENA_CAP) return st;
    arena = (uint8_t *)calloc(alen, 1);
    if (!arena) abort();
    /* one byte short must be refused, with the size needed */
    st = kdc_init(&m, art, len, arena, alen - 1, flags);
    FUZZ_ASSERT(st == KDC_ERR_ARENA_TOO_SMALL && m.arena_needed == alen);
    st = kdc_init(&m, art, len, arena, alen, flags);
    FUZZ_ASSERT(st == KDC_OK);
    {
        kdc_tensor in = kdc_input(&m), out = kdc_output(&m);
        FUZZ_ASSERT(in.data >= (int8_t *)arena && in.size <= alen &&
                    (size_t)(in.data - (int8_t *)arena) <= alen - in.size);
        FUZZ_ASSERT(out.data >= (int8_t *)arena && out.size <= alen &&
                    (size_t)(out.data - (int8_t *)arena) <= alen - out.size);
        if (run_invoke && fz_work(&m) <= FUZZ_WORK_CAP) {
            size_t i;
            fz_hook h;
            h.arena = arena, h.len = alen, h.next_op = 0, h.n_ops = m.n_ops;
            for (i = 0; i < in.size; i++)
                in.data[i] = (int8_t)(fill_len ? fill[i % fill_len] : 0x5a);
            kdc_set_callback(&m, fz_callback, &h);
            FUZZ_ASSERT(kdc_invoke(&m) == KDC_OK && h.next_op == m.n_ops);
            kdc_set_callback(&m, NULL, NULL);
            in = kdc_input(&m);
            memset(in.data, 0x80, in.size); /* extreme input: -128 everywhere */
            FUZZ_ASSERT(kdc_invoke(&m) == KDC_OK);
            (void)kdc_argmax(out.data, out.size);
            fz_stage(&m, fill, fill_len);
        }
    }
    free(arena);
    return KDC_OK;
}

#endif
