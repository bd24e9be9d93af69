/* test_kdc.c - kdc runtime tests: golden kernels (compiled variant and reference), whole
 * artifacts (outputs, kdc_query's op walk, MACs, scratch), inflate, malformed artifacts, a
 * mutation sweep, regression inputs and the helpers. Kernel variants against the reference on
 * random shapes: tests/test_variants.c. Golden data come from tests/gen_golden.py. Prints
 * "N passed, M failed" last; exit 1 on failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdc.h"
#include "kdc_format.h"
#include "kdc_kernels.h"
#include "kdc_stage.h"
#include "test_util.h"

int passed, failed;

void ok(int cond, const char *what, const char *detail)
{
    if (cond) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

int check_bytes(const char *name, const int8_t *got, const int8_t *want, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (got[i] != want[i]) {
            printf("FAIL %s: byte %lu got %d want %d\n", name, (unsigned long)i, got[i], want[i]);
            return 0;
        }
    return 1;
}

/* Scratch for a kernel call: n bytes (at most KDC__SCRATCH_BOUND) of garbage, so a kernel that
 * relies on its contents fails; NULL for 0 bytes, as kdc_invoke passes. An odd address: the
 * kernels may assume no alignment. */
void *test_scratch(size_t n)
{
    /* an exact-size heap block (ASan sees a read past the scratch) at an odd address */
    static uint8_t *blk;
    free(blk);
    blk = NULL;
    if (n == 0) return NULL;
    if (n > KDC__SCRATCH_BOUND) {
        ok(0, "scratch query within KDC__SCRATCH_BOUND", NULL);
        return NULL;
    }
    blk = (uint8_t *)malloc(n + 1);
    if (!blk) abort();
    memset(blk, 0xa5, n + 1);
    return blk + 1;
}

#include "golden_inflate.h"
#include "golden_kernels.h"
#include "golden_models.h"
#include "golden_tflite.h"
#include "kdc_exported.h"
#include "malformed.h"
#include "status_names.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* 4-byte aligned buffers for artifacts */
static uint32_t abuf[70000 / 4], ubuf[70000 / 4];
static uint8_t arena[16384];

/* The scratch the golden models need with the compiled kernels (gen_golden.py mirrors the
 * portable, avx2, dsp and mve variants' formulas; the reference needs none). */
static size_t golden_scratch(const struct golden_model *g)
{
    return strcmp(KDC_KERNELS_VARIANT, "portable") == 0 ? g->scratch_portable
           : strcmp(KDC_KERNELS_VARIANT, "avx2") == 0   ? g->scratch_avx2
           : strcmp(KDC_KERNELS_VARIANT, "dsp") == 0    ? g->scratch_dsp
           : strcmp(KDC_KERNELS_VARIANT, "mve") == 0    ? g->scratch_mve
                                                        : 0;
}

static void test_requant(void)
{
    size_t i;
    int bad = 0;
    for (i = 0; i < COUNT(requant_rows); i++) {
        const int64_t *r = requant_rows[i];
        int32_t q = kdc_requant((int32_t)r[0], (int32_t)r[1], (int32_t)r[2]);
        int32_t qr = kdc_ref_requant((int32_t)r[0], (int32_t)r[1], (int32_t)r[2]);
        if (q != r[3] || qr != r[3]) {
            printf("requant(%ld, %ld, %ld) = %ld, reference %ld, want %ld\n", (long)r[0],
                   (long)r[1], (long)r[2], (long)q, (long)qr, (long)r[3]);
            bad++;
        }
    }
    ok(bad == 0, "requant golden table (" KDC_KERNELS_VARIANT " and reference)", NULL);
}

/* TensorFlow Lite's arithmetic (kdc_tflite.c) on the golden tables of
 * Tests/golden/gen_tflite_golden.py: MultiplyByQuantizedMultiplier (ties, negative values, left
 * shifts that wrap), LiteRT's double scale of FULLY_CONNECTED (ties, products the binary64
 * rounding puts on a half-integer, saturation, +0 and subnormal scales) and the int8 softmax. */
static void test_tflite_arith(void)
{
    size_t i;
    int bad = 0;
#if KDC_TFLITE
    for (i = 0; i < COUNT(tfl_mbqm_rows); i++) {
        const int64_t *r = tfl_mbqm_rows[i];
        int32_t q = kdc_tfl_mbqm((int32_t)r[0], (int32_t)r[1], (int32_t)r[2]);
        if (q != r[3]) {
            printf("mbqm(%ld, %ld, %ld) = %ld, want %ld\n", (long)r[0], (long)r[1], (long)r[2],
                   (long)q, (long)r[3]);
            bad++;
        }
    }
    ok(bad == 0, "TFLite MultiplyByQuantizedMultiplier golden table", NULL);
    bad = 0;
    for (i = 0; i < COUNT(tfl_scale_rows); i++) {
        const int64_t *r = tfl_scale_rows[i];
        uint32_t lo = (uint32_t)(int32_t)r[1], hi = (uint32_t)(int32_t)r[2];
        int32_t q = kdc_tfl_scale((int32_t)r[0], lo, hi);
        if (q != r[3] || !kdc_tfl_scale_ok(lo, hi)) {
            printf("scale(%ld, 0x%08lx%08lx) = %ld, want %ld\n", (long)r[0], (unsigned long)hi,
                   (unsigned long)lo, (long)q, (long)r[3]);
            bad++;
        }
    }
    ok(bad == 0, "TFLite FULLY_CONNECTED double scale golden table", NULL);
    bad = 0;
    for (i = 0; i < COUNT(tfl_softmax_rows); i++) {
        const struct tfl_softmax_row *r = &tfl_softmax_rows[i];
        kdc_softmax_params p;
        int8_t y[10], yr[10];
        p.rows = 1, p.depth = 10, p.m = r->m, p.left = r->left, p.diff_min = r->diff_min;
        kdc_softmax_s8(y, r->x, &p, NULL);
        kdc_ref_softmax_s8(yr, r->x, &p, NULL);
        if (memcmp(y, r->y, 10) != 0 || memcmp(yr, r->y, 10) != 0) {
            printf("softmax row %lu differs\n", (unsigned long)i);
            bad++;
        }
    }
    ok(bad == 0, "TFLite SOFTMAX golden rows (" KDC_KERNELS_VARIANT " and reference)", NULL);
#else
    /* kdc_tfl_mbqm, kdc_tfl_scale and the SOFTMAX kernel (a TFLite-mode op): not built */
    (void)tfl_mbqm_rows, (void)tfl_scale_rows, (void)tfl_softmax_rows, (void)i, (void)bad;
    printf("KDC_TFLITE=0: the MultiplyByQuantizedMultiplier, double-scale and SOFTMAX tables "
           "skipped\n");
#endif
}

/* Each golden kernel case on the compiled variant and on the reference. */
static void test_kernels(void)
{
    size_t i;
    for (i = 0; i < COUNT(kernel_cases); i++) {
        ok(kernel_cases[i](0), "kernel golden case (" KDC_KERNELS_VARIANT ")", NULL);
        ok(kernel_cases[i](1), "kernel golden case (reference)", NULL);
    }
}

/* Query, unpack if needed (then query the unpacked buffer) and init with arena_len bytes. */
/* An artifact this build refuses, KDC_ERR_UNSUPPORTED: TFLite arithmetic with KDC_TFLITE 0, an
 * input stage with KDC_STAGE 0 (the -O0 "kdc" builds set both to 0). */
static int built_out(unsigned flags)
{
    return (!KDC_TFLITE && (flags & KDC_FLAG_TFLITE)) ||
           (!KDC_STAGE && (flags & KDC_FLAG_INPUT_STAGE));
}

static kdc_status load(const struct golden_model *g, kdc_model *m, size_t arena_len, kdc_info *info)
{
    kdc_status st;
    const uint8_t *a = (const uint8_t *)abuf;
    size_t len = g->len;
    memcpy(abuf, g->bytes, g->len);
    st = kdc_query(a, g->len, info);
    if (st != KDC_OK) return st;
    if (info->arena_bytes != g->arena || info->total_bytes != g->len) return KDC_ERR_HEADER;
    if (g->compressed) {
        size_t written = 0;
        if (info->ops_known) return KDC_ERR_HEADER; /* the walk needs the stored body */
        if (info->unpack_bytes > sizeof ubuf) return KDC_ERR_DST_TOO_SMALL;
        st = kdc_unpack(a, g->len, (uint8_t *)ubuf, info->unpack_bytes, &written);
        if (st != KDC_OK) return st;
        if (written != info->unpack_bytes) return KDC_ERR_RAW_SIZE;
        a = (const uint8_t *)ubuf;
        len = written;
        st = kdc_query(a, len, info);
        if (st != KDC_OK) return st;
    }
    return kdc_init(m, a, len, arena, arena_len, 0);
}

static size_t cb_calls;
static void count_cb(void *user, size_t op, unsigned opcode, const int8_t *out, size_t n)
{
    (void)user;
    (void)op;
    (void)opcode;
    (void)out;
    (void)n;
    cb_calls++;
}

static void test_models(void)
{
    size_t i, k;
    for (i = 0; i < COUNT(golden_models); i++) {
        const struct golden_model *g = &golden_models[i];
        size_t scratch = golden_scratch(g), needed = KDC_ARENA_TOTAL(g->arena, scratch);
        kdc_model m;
        kdc_info info, head;
        kdc_status st = load(g, &m, needed, &info);
        int good = st == KDC_OK;
        if (built_out(g->bytes[KDC__HDR_FLAGS])) {
            /* built without TFLite arithmetic or the input stage: refused, not run; kdc_query
             * still reads it */
            ok(st == KDC_ERR_UNSUPPORTED && built_out(info.flags) && info.ops_known &&
                   info.n_ops == g->n_ops && m.arena == NULL && kdc_invoke(&m) == KDC_ERR_NULL,
               g->name, "KDC_TFLITE=0 / KDC_STAGE=0: a built-out artifact is KDC_ERR_UNSUPPORTED");
            continue;
        }
        ok(good, g->name, kdc_status_str(st));
        if (!good) continue;
        /* kdc_query: the header alone gives no op figures; the stored body gives them */
        ok(kdc_query(g->bytes, KDC_HEADER_BYTES, &head) == KDC_OK && head.ops_known == 0 &&
               head.n_ops == 0 && head.macs == 0 && head.arena_needed == 0,
           g->name, "query of the header alone: ops unknown");
        ok(info.ops_known == 1 && info.n_ops == g->n_ops && info.macs == g->macs &&
               info.scratch_bytes == scratch && info.arena_needed == needed,
           g->name, "query: n_ops, MACs, scratch, arena_needed");
        ok(m.macs == g->macs && m.scratch_bytes == scratch && m.arena_needed == needed &&
               m.n_ops == g->n_ops,
           g->name, "model: MACs, scratch, arena_needed");
        ok(scratch ? m.scratch == arena + ((g->arena + 3) / 4 * 4) : m.scratch == NULL, g->name,
           "scratch at the end of the arena, 4-byte aligned offset");
        ok(kdc_input(&m).size == g->in_size && kdc_output(&m).size == g->out_size, g->name,
           "tensor sizes");
        kdc_set_callback(&m, count_cb, NULL);
        cb_calls = 0;
        memset(arena + needed, 0x77, 64); /* nothing past arena_needed is touched */
        for (k = 0; k < g->n; k++) {
            kdc_tensor in = kdc_input(&m), out;
            memcpy(in.data, g->in + k * g->in_size, g->in_size);
            ok(kdc_invoke(&m) == KDC_OK, g->name, "invoke");
            out = kdc_output(&m);
            ok(check_bytes(g->name, out.data, g->out + k * g->out_size, g->out_size), g->name,
               "output bytes");
        }
        for (k = 0; k < 64 && arena[needed + k] == 0x77; k++) continue;
        ok(k == 64, g->name, "no write past arena_needed");
        ok(cb_calls == g->n * m.n_ops, g->name, "callback once per op");
        /* one byte short of the arena: status says how much is needed */
        st = load(g, &m, needed - 1, &info);
        ok(st == KDC_ERR_ARENA_TOO_SMALL && m.arena_needed == needed && m.arena == NULL, g->name,
           "arena too small");
    }
}

/* Round trip of artifacts exported by kdc itself (runtime/tests/kdc_exported.h, generated and
 * kept current by Tests/KDCTests/ExportCFixtureTests.swift): the compressed artifact is
 * unpacked, both it and the stored one are loaded and run, and every output byte must equal
 * kdc's Swift int8 reference. */
static void test_kdc_exported(void)
{
    static uint32_t unpacked[(sizeof kdc_exported_stored + 3) / 4];
    static uint8_t exported_arena[KDC_ARENA_TOTAL(KDC_EXPORTED_ARENA_BYTES, KDC__SCRATCH_BOUND)];
    const uint8_t *arts[2];
    const char *names[2] = {"kdc-exported stored", "kdc-exported compressed"};
    kdc_info info;
    size_t written = 0, a, k;
    kdc_status st = kdc_query(kdc_exported_compressed, sizeof kdc_exported_compressed, &info);
    ok(st == KDC_OK && (info.flags & KDC_FLAG_COMPRESSED) &&
           info.unpack_bytes == sizeof kdc_exported_stored,
       "kdc-exported compressed", "query: compressed, unpack size = stored size");
    st = kdc_unpack(kdc_exported_compressed, sizeof kdc_exported_compressed, (uint8_t *)unpacked,
                    sizeof unpacked, &written);
    ok(st == KDC_OK && written == sizeof kdc_exported_stored &&
           memcmp(unpacked, kdc_exported_stored, written) == 0,
       "kdc-exported compressed", "unpacks to the stored artifact, byte for byte");
    arts[0] = kdc_exported_stored;
    arts[1] = (const uint8_t *)unpacked;
    st = kdc_query(kdc_exported_stored, sizeof kdc_exported_stored, &info);
    ok(st == KDC_OK && info.ops_known && info.arena_needed <= sizeof exported_arena &&
           info.arena_needed == KDC_ARENA_TOTAL(info.arena_bytes, info.scratch_bytes),
       "kdc-exported stored", "query: arena_needed");
    for (a = 0; a < 2; a++) {
        kdc_model m;
        st =
            kdc_init(&m, arts[a], sizeof kdc_exported_stored, exported_arena, info.arena_needed, 0);
        ok(st == KDC_OK, names[a], kdc_status_str(st));
        if (st != KDC_OK) continue;
        for (k = 0; k < KDC_EXPORTED_SAMPLES; k++) {
            memcpy(kdc_input(&m).data, kdc_exported_inputs + k * KDC_EXPORTED_INPUT_BYTES,
                   KDC_EXPORTED_INPUT_BYTES);
            ok(kdc_invoke(&m) == KDC_OK, names[a], "invoke");
            ok(check_bytes(names[a], kdc_output(&m).data,
                           kdc_exported_outputs + k * KDC_EXPORTED_OUTPUT_BYTES,
                           KDC_EXPORTED_OUTPUT_BYTES),
               names[a], "output bytes equal kdc's int8 reference");
        }
    }
}

static void original(uint8_t *out, int kind, size_t n, uint32_t seed)
{
    size_t i;
    uint32_t x = seed;
    for (i = 0; i < n; i++) {
        x = (x * 1103515245u + 12345u) & 0x7fffffffu;
        out[i] = kind == 1 ? (uint8_t) "abcdefgh"[(x >> 16) & 7] : 0;
    }
}

static uint8_t zsrc[120000], zwant[120000], zgot[120000];

static void test_inflate(void)
{
    size_t i;
    for (i = 0; i < COUNT(zstreams); i++) {
        const struct zstream *z = &zstreams[i];
        size_t n = z->n;
        kdc_status st;
        original(zwant, z->kind, z->n, z->seed);
        st = kdc_zlib_uncompress(zgot, &n, z->z, z->zlen);
        ok(st == KDC_OK && n == z->n && memcmp(zgot, zwant, n) == 0, z->name, kdc_status_str(st));
        if (z->n > 0) { /* one byte too little room */
            n = z->n - 1;
            ok(kdc_zlib_uncompress(zgot, &n, z->z, z->zlen) == KDC_ERR_DST_TOO_SMALL, z->name,
               "dst too small");
        }
        n = sizeof zgot; /* truncated stream */
        ok(kdc_zlib_uncompress(zgot, &n, z->z, z->zlen - 1) != KDC_OK, z->name, "truncated");
        memcpy(zsrc, z->z, z->zlen); /* corrupted Adler-32 */
        zsrc[z->zlen - 1] ^= 1;
        n = sizeof zgot;
        ok(kdc_zlib_uncompress(zgot, &n, zsrc, z->zlen) == KDC_ERR_ADLER32, z->name, "adler");
    }
    {
        /* hand-made streams: one line each */
        static const struct {
            const char *what;
            uint8_t s[12];
            size_t len;
            kdc_status want;
        } bad[] = {
            /* clang-format off */
            {"CM != 8", {0x79, 0x9c, 3, 0, 0, 0, 0, 1}, 8, KDC_ERR_INFLATE},
            {"FCHECK wrong", {0x78, 0x9d, 3, 0, 0, 0, 0, 1}, 8, KDC_ERR_INFLATE},
            {"preset dictionary", {0x78, 0xbb, 3, 0, 0, 0, 0, 1}, 8, KDC_ERR_INFLATE},
            {"block type 3", {0x78, 0x9c, 7, 0, 0, 0, 0, 1}, 8, KDC_ERR_INFLATE},
            {"stored LEN != ~NLEN", {0x78, 0x9c, 1, 1, 0, 0, 0, 'a', 0, 0x62, 0, 0x62}, 12,
             KDC_ERR_INFLATE},
            {"stored block past the end", {0x78, 0x9c, 1, 9, 0, 0xf6, 0xff, 'a', 0, 0, 0, 0}, 12,
             KDC_ERR_INFLATE},
            {"shorter than header + trailer", {0x78, 0x9c, 3, 0, 0}, 5, KDC_ERR_INFLATE},
            {"empty fixed block ok", {0x78, 0x9c, 3, 0, 0, 0, 0, 1}, 8, KDC_OK},
            {"distance before start (fixed: len 3 dist 1 at pos 0)", {0x78, 0x9c, 0x03, 0x02, 0, 0, 0, 0,
             0, 0, 0, 0}, 12, KDC_ERR_INFLATE},
            /* clang-format on */
        };
        for (i = 0; i < COUNT(bad); i++) {
            size_t n = sizeof zgot;
            kdc_status st = kdc_zlib_uncompress(zgot, &n, bad[i].s, bad[i].len);
            ok(st == bad[i].want, bad[i].what, kdc_status_str(st));
        }
    }
}

/* ---- malformed artifacts ------------------------------------------- */

static kdc_status run_row(const bad_row *r, kdc_model *m)
{
    uint8_t *a = (uint8_t *)abuf;
    size_t len = row_bytes(r, a);
    kdc_info info;
    if (r->misalign) {
        memmove(a + 1, a, len);
        a++;
    }
    switch (r->call) {
    case CALL_QUERY: return kdc_query(a, len, &info);
    case CALL_INIT_NULL: return kdc_init(NULL, a, len, arena, sizeof arena, 0);
    case CALL_UNPACK: {
        size_t dst = sizeof ubuf;
        if (kdc_query(a, len, &info) == KDC_OK && info.unpack_bytes && info.unpack_bytes <= dst)
            dst = info.unpack_bytes;
        return kdc_unpack(a, len, (uint8_t *)ubuf, dst + r->dst_delta, NULL);
    }
    default: {
        size_t alen = sizeof arena; /* or one byte short of what kdc_query says is needed */
        if (r->arena_delta && kdc_query(a, len, &info) == KDC_OK && info.ops_known)
            alen = info.arena_needed + r->arena_delta;
        return kdc_init(m, a, len, arena, alen, r->call == CALL_INIT_SKIP ? KDC_INIT_SKIP_CRC : 0);
    }
    }
}

static kdc_status regress_run(const uint8_t *a, size_t n, unsigned flags, int *out0);

/* Rows whose fault is in the bytes alone: their file in the verdict corpus (`make verdicts`:
 * query, unpack, init with the CRC and a large enough arena) gets the row's status. */
static int fault_in_bytes(const bad_row *r)
{
    return !r->misalign && !r->arena_delta && !r->dst_delta && r->call != CALL_INIT_SKIP &&
           r->call != CALL_INIT_NULL && r->want != KDC_ERR_COMPRESSED &&
           r->want != KDC_ERR_NOT_COMPRESSED;
}

/* The status row r wants from this build, directly (pipeline 0: run_row) or through the verdict
 * pipeline (1: regress_run). The table gives it with both arithmetics built in; with KDC_TFLITE
 * 0, kdc_init refuses an artifact whose header is valid and sets the TFLite flag right after the
 * header checks (in the pipeline: after a successful unpack), whatever the row's fault. */
static kdc_status want_here(const bad_row *r, int pipeline)
{
    uint8_t *a = (uint8_t *)abuf;
    size_t len = row_bytes(r, a);
    kdc_info info;
    if ((KDC_TFLITE && KDC_STAGE) ||
        (!pipeline && ((r->call != CALL_INIT && r->call != CALL_INIT_SKIP) || r->misalign)))
        return r->want;
    if (kdc_query(a, len, &info) != KDC_OK || !built_out(info.flags)) return r->want;
    if (pipeline && (info.flags & KDC_FLAG_COMPRESSED) &&
        kdc_unpack(a, len, (uint8_t *)ubuf, sizeof ubuf, NULL) != KDC_OK)
        return r->want;
    return KDC_ERR_UNSUPPORTED;
}

static void test_malformed(void)
{
    size_t i, agree = 0, rows = 0, refused = 0;
    for (i = 0; i < BAD_ROWS; i++) {
        kdc_model m;
        char msg[160];
        kdc_status want = want_here(&bad_rows[i], 0), st = run_row(&bad_rows[i], &m);
        refused += want != bad_rows[i].want;
        sprintf(msg, "got %d (%s), want %d", (int)st, kdc_status_str(st), (int)want);
        ok(st == want, bad_rows[i].what, msg);
        if (want == KDC_ERR_ARENA_TOO_SMALL)
            ok(m.arena_needed == KDC_ARENA_TOTAL(golden_models[bad_rows[i].model].arena,
                                                 golden_scratch(&golden_models[bad_rows[i].model])),
               bad_rows[i].what, "arena_needed");
        /* a model whose kdc_init failed is safe to ask for its tensors and to invoke */
        if (st != KDC_OK && bad_rows[i].call != CALL_UNPACK && bad_rows[i].call != CALL_QUERY &&
            bad_rows[i].call != CALL_INIT_NULL)
            ok(kdc_input(&m).data == NULL && kdc_input(&m).size == 0 &&
                   kdc_output(&m).data == NULL && kdc_output(&m).size == 0 &&
                   kdc_invoke(&m) == KDC_ERR_NULL,
               bad_rows[i].what, "failed model: empty tensors, invoke refused");
        if (fault_in_bytes(&bad_rows[i])) {
            int out0;
            size_t len;
            want = want_here(&bad_rows[i], 1); /* writes abuf too: the row's bytes after it */
            len = row_bytes(&bad_rows[i], (uint8_t *)abuf);
            rows++;
            st = regress_run((const uint8_t *)abuf, len, 0, &out0);
            agree += st == want;
            if (st != want)
                printf("verdict pipeline on \"%s\": %s\n", bad_rows[i].what, kdc_status_str(st));
        }
    }
    printf("malformed: %lu rows, %lu of them faults in the bytes\n", (unsigned long)BAD_ROWS,
           (unsigned long)rows);
    if (!KDC_TFLITE || !KDC_STAGE) {
        printf("KDC_TFLITE=%d KDC_STAGE=%d: %lu rows on built-out artifacts want "
               "KDC_ERR_UNSUPPORTED\n",
               KDC_TFLITE, KDC_STAGE, (unsigned long)refused);
        ok(refused > 0, "the rows on built-out artifacts are refused", NULL);
    }
    ok(agree == rows, "verdict pipeline = the row's status on rows with the fault in the bytes",
       NULL);
}

/* Random byte mutations (header CRC re-fixed, body CRC skipped): whatever
 * kdc_init accepts must run without out-of-bounds access (ASan/UBSan). Every
 * truncation must be rejected. */
static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static void test_mutations(void)
{
    size_t gi, it, len, accepted = 0, rejected_trunc = 0, total_trunc = 0, query_disagrees = 0;
    for (gi = 0; gi < COUNT(golden_models); gi++) {
        const struct golden_model *g = &golden_models[gi];
        uint8_t *a = (uint8_t *)abuf;
        for (len = 0; len < g->len; len += (len < 200 ? 1 : 97)) {
            kdc_model m;
            memcpy(a, g->bytes, g->len);
            total_trunc++;
            if (g->compressed) {
                size_t w;
                rejected_trunc += kdc_unpack(a, len, (uint8_t *)ubuf, sizeof ubuf, &w) != KDC_OK;
            } else {
                rejected_trunc +=
                    kdc_init(&m, a, len, arena, sizeof arena, KDC_INIT_SKIP_CRC) != KDC_OK;
            }
        }
        for (it = 0; it < 3000; it++) {
            kdc_model m;
            size_t k, n = 1 + rnd() % 4, body = g->len - 32;
            const uint8_t *art = a;
            size_t alen = g->len;
            memcpy(a, g->bytes, g->len);
            for (k = 0; k < n; k++) {
                size_t at = 32 + (it % 2 ? rnd() % (body < 600 ? body : 600) : rnd() % body);
                a[at] = (uint8_t)(rnd() % 3 == 0 ? 0xff : a[at] ^ (1u << (rnd() % 8)));
            }
            if (it % 7 == 0) a[12 + rnd() % 12] ^= (uint8_t)(1u << (rnd() % 8));
            wr32le(a + 28, kdc_crc32(0, a, 28));
            if (g->compressed) {
                size_t w;
                if (kdc_unpack(a, g->len, (uint8_t *)ubuf, sizeof ubuf, &w) != KDC_OK) continue;
                art = (const uint8_t *)ubuf;
                alen = w;
            }
            if (kdc_init(&m, art, alen, arena, sizeof arena, KDC_INIT_SKIP_CRC) == KDC_OK) {
                kdc_tensor in = kdc_input(&m);
                kdc_info q;
                /* kdc_query's walk agrees with kdc_init on every model kdc_init accepts */
                if (kdc_query(art, alen, &q) != KDC_OK || !q.ops_known || q.n_ops != m.n_ops ||
                    q.macs != m.macs || q.scratch_bytes != m.scratch_bytes ||
                    q.arena_needed != m.arena_needed)
                    query_disagrees++;
                for (k = 0; k < in.size; k++) in.data[k] = (int8_t)rnd();
                kdc_invoke(&m);
                accepted++;
            }
        }
    }
    printf("mutations: %lu accepted and run, truncations rejected %lu/%lu\n",
           (unsigned long)accepted, (unsigned long)rejected_trunc, (unsigned long)total_trunc);
    ok(rejected_trunc == total_trunc, "every truncation rejected", NULL);
    ok(query_disagrees == 0, "kdc_query's op figures equal kdc_init's on accepted mutants", NULL);
    ok(1, "mutation sweep ran without a crash", NULL);
}

/* Regression inputs (tests/regress/EXPECTED, one "file STATUS [out0]" per
 * line, '#' comments): each file goes through kdc_query, kdc_unpack if
 * compressed, and kdc_init with the CRC checked and with it skipped (an
 * exact-size heap arena); the status must be exactly STATUS (unless STATUS
 * is the body CRC, the skipped run must agree). On KDC_OK the model is
 * invoked with every input byte -128 and output byte 0 compared with out0.
 * The sanitized build of this file runs them under ASan and UBSan. */
#define REGRESS_DIR "tests/regress/"
#define REGRESS_ARENA_CAP ((size_t)1 << 26)

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long len;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = (uint8_t *)malloc(len ? (size_t)len : 1)) ||
        fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* Set by regress_run when the arena an input needs could not be allocated (a 16 MiB arena on a
 * QEMU board with 4 MiB of RAM, tests/qemu/run.sh): that input is reported as skipped. */
static size_t regress_no_memory;

/* The pipeline a firmware runs; returns the first failing status. */
static kdc_status regress_run(const uint8_t *a, size_t n, unsigned flags, int *out0)
{
    kdc_info info;
    kdc_model m;
    kdc_status st = kdc_query(a, n, &info);
    uint8_t *u = NULL, *ar;
    if (st == KDC_OK && (info.flags & KDC_FLAG_COMPRESSED)) {
        if (info.unpack_bytes > REGRESS_ARENA_CAP) return KDC_ERR_DST_TOO_SMALL;
        u = (uint8_t *)malloc(info.unpack_bytes);
        if (!u) return KDC_ERR_NULL;
        st = kdc_unpack(a, n, u, info.unpack_bytes, &n);
        if (st != KDC_OK) {
            free(u);
            return st;
        }
        a = u;
    }
    st = kdc_init(&m, a, n, NULL, 0, flags);
    if (st == KDC_ERR_ARENA_TOO_SMALL && m.arena_needed <= REGRESS_ARENA_CAP &&
        (ar = (uint8_t *)calloc(m.arena_needed, 1)) != NULL) {
        st = kdc_init(&m, a, n, ar, m.arena_needed, flags);
        if (st == KDC_OK) {
            kdc_tensor in = kdc_input(&m);
            memset(in.data, 0x80, in.size);
            kdc_invoke(&m);
            *out0 = kdc_output(&m).data[0];
        }
        free(ar);
    } else if (st == KDC_ERR_ARENA_TOO_SMALL && m.arena_needed <= REGRESS_ARENA_CAP) {
        regress_no_memory = m.arena_needed;
    }
    free(u);
    return st;
}

static void test_regress(void)
{
    FILE *f = fopen(REGRESS_DIR "EXPECTED", "r");
    char line[256];
    int rows = 0;
    if (!f) {
        ok(0, "tests/regress/EXPECTED readable (run from runtime/)", NULL);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char file[128], want[64], path[200], msg[200];
        int out_want = 0, got0 = 999, got1 = 999, have_out, k;
        size_t n = 0;
        uint8_t *buf;
        kdc_status st0, st1;
        int nf = sscanf(line, "%127s %63s %d", file, want, &out_want);
        if (nf < 2 || file[0] == '#') continue;
        have_out = nf == 3;
        rows++;
        sprintf(path, REGRESS_DIR "%s", file);
        buf = read_file(path, &n);
        if (!buf) {
            ok(0, path, "cannot read");
            continue;
        }
        for (k = 0; k < KDC_STATUS_COUNT && strcmp(status_names[k], want) != 0; k++) continue;
        regress_no_memory = 0;
        st0 = regress_run(buf, n, 0, &got0);
        st1 = regress_run(buf, n, KDC_INIT_SKIP_CRC, &got1);
        if (regress_no_memory) {
            printf("regress: %s SKIPPED: its arena of %lu bytes could not be allocated\n", path,
                   (unsigned long)regress_no_memory);
            free(buf);
            continue;
        }
        sprintf(msg, "got %s / %s (no CRC), want %s", status_names[st0], status_names[st1], want);
        ok(k < KDC_STATUS_COUNT && (int)st0 == k &&
               (st1 == st0 || (st0 == KDC_ERR_BODY_CRC && st1 != KDC_ERR_BODY_CRC)),
           path, msg);
        if (have_out) {
            sprintf(msg, "output[0] %d / %d, want %d", got0, got1, out_want);
            ok(got0 == out_want && (st1 != KDC_OK || got1 == out_want), path, msg);
        }
        free(buf);
    }
    fclose(f);
    printf("regress: %d inputs from " REGRESS_DIR "EXPECTED\n", rows);
    ok(rows > 0, "regression inputs listed", NULL);
}

static void test_helpers(void)
{
    static const int8_t v[] = {3, -7, 9, 9, 1};
    int i, distinct = 1;
    ok(kdc_argmax(v, 5) == 2, "argmax first on ties", NULL);
    ok(kdc_argmax(v, 0) == 0 && kdc_argmax(v, 1) == 0, "argmax n 0/1", NULL);
    ok(kdc_quantize(0.25f, 0.5f, 0) == 1 && kdc_quantize(-0.25f, 0.5f, 0) == -1,
       "quantize half away", NULL);
    ok(kdc_quantize(0.2499f, 0.5f, 3) == 3 && kdc_quantize(1e30f, 0.1f, 0) == 127 &&
           kdc_quantize(-1e30f, 0.1f, 0) == -128,
       "quantize saturates", NULL);
    ok(kdc_quantize(0.49999997f, 1.0f, 0) == 0, "quantize no double rounding", NULL);
    ok(kdc_dequantize(10, 0.5f, 4) == 3.0f, "dequantize", NULL);
    for (i = 0; i < KDC_STATUS_COUNT; i++) {
        int j;
        if (kdc_status_str((kdc_status)i)[0] == '\0') distinct = 0; /* none missing */
        for (j = 0; j < i; j++)
            if (strcmp(kdc_status_str((kdc_status)i), kdc_status_str((kdc_status)j)) == 0)
                distinct = 0;
    }
    ok(distinct && strcmp(kdc_status_str(KDC_STATUS_COUNT), "unknown status") == 0,
       "a distinct non-empty string for every status", NULL);
    ok(kdc_crc32(0, (const uint8_t *)"123456789", 9) == 0xcbf43926u, "crc32 check value", NULL);
}

/* The float helpers: normalization + quantization, dequantized outputs, softmax, alignment. */
static void test_float_helpers(void)
{
    static const float mean[3] = {0.5f, 1.0f, -2.0f}, std[3] = {0.5f, 2.0f, 4.0f};
    static const float x[6] = {1.0f, 3.0f, 2.0f, 0.5f, -1.0f, -6.0f};
    /* (x - mean) / std = {1, 1, 1, 0, -1, -1}; / 0.1 + (-3) = {7, 7, 7, -3, -13, -13} */
    static const int8_t want3[6] = {7, 7, 7, -3, -13, -13};
    /* one channel, mean 0.5, std 0.5: {1, 5, 3, 0, -3, -13} / 0.1 - 3 */
    static const int8_t want1[6] = {7, 47, 27, -3, -33, -128};
    const struct golden_model *g = &golden_models[0]; /* the stored MLP */
    int8_t y[6], q[784];
    float f[784], logits[10];
    kdc_model m;
    kdc_info info;
    size_t i;
    int good;
    kdc_normalize_quantize(y, x, 6, mean, std, 3, 0.1f, -3);
    ok(memcmp(y, want3, 6) == 0, "normalize_quantize: per channel on the last axis", NULL);
    kdc_normalize_quantize(y, x, 6, mean, std, 1, 0.1f, -3);
    ok(memcmp(y, want1, 6) == 0, "normalize_quantize: one channel for every value", NULL);

    /* on a model: kdc_input_from_float writes the input tensor with its scale and zero point */
    memset(&m, 0, sizeof m);
    ok(kdc_input_from_float(&m, f, 784, mean, std, 1) == KDC_ERR_NULL &&
           kdc_output_to_float(&m, logits, 10) == KDC_ERR_NULL,
       "float helpers on a model not loaded", "KDC_ERR_NULL");
    if (load(g, &m, KDC_ARENA_TOTAL(g->arena, golden_scratch(g)), &info) != KDC_OK) {
        ok(0, "float helpers: load the MLP", NULL);
        return;
    }
    for (i = 0; i < 784; i++) f[i] = (float)(i % 255) / 255.0f;
    ok(kdc_input_from_float(&m, f, 783, mean, std, 1) == KDC_ERR_SHAPE &&
           kdc_input_from_float(&m, f, 784, mean, std, 0) == KDC_ERR_SHAPE &&
           kdc_input_from_float(&m, f, 784, mean, std, 3) == KDC_ERR_SHAPE &&
           kdc_input_from_float(&m, NULL, 784, mean, std, 1) == KDC_ERR_NULL,
       "input_from_float: length, channels, NULL", NULL);
    ok(kdc_input_from_float(&m, f, 784, mean, std, 2) == KDC_OK, "input_from_float", NULL);
    kdc_normalize_quantize(q, f, 784, mean, std, 2, kdc_input(&m).scale, kdc_input(&m).zero_point);
    ok(memcmp(q, kdc_input(&m).data, 784) == 0,
       "input_from_float = normalize_quantize with the "
       "input's scale and zero point",
       NULL);
    kdc_invoke(&m);
    ok(kdc_output_to_float(&m, logits, 9) == KDC_ERR_SHAPE &&
           kdc_output_to_float(&m, logits, 10) == KDC_OK,
       "output_to_float: length", NULL);
    for (i = 0, good = 1; i < 10; i++)
        good &= logits[i] ==
                kdc_output(&m).scale * (float)(kdc_output(&m).data[i] - kdc_output(&m).zero_point);
    ok(good, "output_to_float = scale * (q - zero_point)", NULL);
}

/* kdc__expf and kdc_softmax against libm (host only; the runtime itself has no libm). */
static void test_softmax(void)
{
    static const float cases[][6] = {{0, 0, 0, 0, 0, 0},          {1, 2, 3, 4, 5, 6},
                                     {-50, 0, 50, 1, 2, 3},       {12.7f, -12.8f, 0.1f, 3, 3, 3},
                                     {-100, -90, -80, -70, 0, 1}, {1e-3f, 2e-3f, 0, 5, 5.5f, 6}};
    double max_exp = 0, max_sm = 0, max_smf = 0;
    float x, p[6], r[6];
    size_t i, k, n;
    for (i = 0; i <= 1000000; i++) { /* e^x on a grid over [-87.3, 0] */
        double want;
        x = -87.3f * (float)i / 1000000.0f;
        want = exp((double)x);
        if (fabs(kdc__expf(x) - want) / want > max_exp) max_exp = fabs(kdc__expf(x) - want) / want;
        if (fabs(expf(x) - want) / want > max_smf) max_smf = fabs(expf(x) - want) / want;
    }
    printf("kdc__expf: max relative error %.3g over [-87.3, 0] (glibc expf: %.3g)\n", max_exp,
           max_smf);
    ok(max_exp < 2e-7, "kdc__expf within 2e-7 of exp", NULL);
    ok(kdc__expf(-88.0f) == 0.0f && kdc__expf(0.0f) == 1.0f && kdc__expf(NAN) == 0.0f,
       "kdc__expf: underflow, 0, NaN", NULL);
    max_smf = 0;
    for (k = 0; k < COUNT(cases); k++)
        for (n = 1; n <= 6; n++) {
            float mx = cases[k][0], sumf = 0;
            double sum = 0;
            for (i = 1; i < n; i++) mx = cases[k][i] > mx ? cases[k][i] : mx;
            for (i = 0; i < n; i++) sum += exp((double)cases[k][i] - mx);
            for (i = 0; i < n; i++) sumf += r[i] = expf(cases[k][i] - mx);
            memcpy(p, cases[k], sizeof p);
            kdc_softmax(p, p, n); /* in place */
            for (i = 0; i < n; i++) {
                double want = exp((double)cases[k][i] - mx) / sum;
                if (want > 1e-30 && fabs(p[i] - want) / want > max_sm)
                    max_sm = fabs(p[i] - want) / want;
                if (r[i] > 1e-30f && fabs(p[i] - r[i] / sumf) / (r[i] / sumf) > max_smf)
                    max_smf = fabs(p[i] - r[i] / sumf) / (r[i] / sumf);
            }
        }
    printf("kdc_softmax: max relative error %.3g against double, %.3g against an expf softmax\n",
           max_sm, max_smf);
    ok(max_sm < 6e-7 && max_smf < 2e-7,
       "kdc_softmax within 6e-7 of a double softmax, 2e-7 of an expf one", NULL);
    kdc_softmax(p, cases[0], 1);
    ok(p[0] == 1.0f, "softmax of one value is 1", NULL);
    p[0] = 7.0f;
    kdc_softmax(p, NULL, 0);
    ok(p[0] == 7.0f, "softmax of nothing writes nothing", NULL);
    kdc_softmax(p, cases[0], 4);
    ok(p[0] == 0.25f && p[3] == 0.25f, "softmax of equal values", NULL);
}

struct align4 {
    char c;
    KDC_ALIGNED4(b, 5);
};
struct align8 {
    char c;
    KDC_ALIGNED8(b, 3);
};
struct u64 {
    char c;
    uint64_t v;
};

static void test_aligned(void)
{
    static KDC_ALIGNED4(s4, 7);
    static KDC_ALIGNED8(s8, 9);
    char pad = 1;
    KDC_ALIGNED4(l4, 3);
    (void)pad;
    l4.bytes[0] = 0;
    ok((uintptr_t)s4.bytes % 4 == 0 && (uintptr_t)l4.bytes % 4 == 0 &&
           offsetof(struct align4, b) % 4 == 0 && sizeof s4.bytes == 7,
       "KDC_ALIGNED4: 4-byte aligned bytes", NULL);
    ok((uintptr_t)s8.bytes % offsetof(struct u64, v) == 0 &&
           offsetof(struct align8, b) % offsetof(struct u64, v) == 0 && sizeof s8.bytes == 9,
       "KDC_ALIGNED8: aligned as uint64_t", NULL);
    ok(KDC_ARENA_TOTAL(10u, 0u) == 10 && KDC_ARENA_TOTAL(10u, 5u) == 17 &&
           KDC_ARENA_TOTAL(12u, 5u) == 17,
       "KDC_ARENA_TOTAL", NULL);
    ok(kdc_input(NULL).data == NULL && kdc_output(NULL).size == 0 &&
           kdc_invoke(NULL) == KDC_ERR_NULL,
       "NULL model: empty tensors, invoke refused", NULL);
}

/* ---- input stage (docs/FORMAT.md 3.7, docs/AUDIO.md) ---- */
#if KDC_STAGE

static int8_t stage_out[64];
static size_t stage_runs;
static void stage_cb(void *user, kdc_model *m)
{
    kdc_tensor o = kdc_output(m);
    (void)user;
    if (o.size <= sizeof stage_out) memcpy(stage_out, o.data, o.size);
    stage_runs++;
}

static const struct golden_model *golden_named(const char *name)
{
    size_t i;
    for (i = 0; i < COUNT(golden_models); i++)
        if (strcmp(golden_models[i].name, name) == 0) return &golden_models[i];
    return NULL;
}

/* The audio front end and stream against gen_golden.py's independent Python implementation. */
static void test_audio_stage(const char *name, const int16_t *pcm, size_t samples)
{
    static uint32_t scratch[(8 * 4096 + 4 * 128) / 4 + 1],
        sbuf[(8 * 4096 + 4 * 128 + 8192 + 65536) / 4];
    static int8_t feats[4096];
    const struct golden_model *g = golden_named(name);
    kdc_model m;
    kdc_info info;
    kdc_stage_info si;
    kdc_stream s;
    size_t c, frames, sb;
    char msg[160];
    if (!g || load(g, &m, KDC_ARENA_TOTAL(g->arena, golden_scratch(g)), &info) != KDC_OK) {
        ok(0, name, "input-stage model loads");
        return;
    }
    ok(kdc_stage(&m, &si) == KDC_OK && si.kind == KDC_STAGE_AUDIO &&
           si.frames * si.features == g->in_size &&
           si.scratch_bytes == 8 * si.fft_size + 4 * si.mel_bins &&
           kdc_frontend_scratch_bytes(&m) == si.scratch_bytes && (m.flags & KDC_FLAG_INPUT_STAGE),
       name, "kdc_stage reports the block");
    sb = kdc_stream_bytes(&m);
    ok(sb == ((2 * si.window_samples + 3) & ~(size_t)3) + si.scratch_bytes + g->in_size &&
           sb <= sizeof sbuf,
       name, "kdc_stream_bytes = window + scratch + ring");
    for (c = 0; c < g->n; c++) {
        const int16_t *x = pcm + c * samples;
        size_t pushed = 0, step = 1 + c * 37;
        kdc_status st = kdc_frontend_features(&m, x, samples, feats, sizeof feats, &frames, scratch,
                                              si.scratch_bytes);
        sprintf(msg, "%s clip %lu: C front end = Python reference", name, (unsigned long)c);
        ok(st == KDC_OK && frames == si.frames &&
               check_bytes(msg, feats, g->in + c * g->in_size, g->in_size),
           msg, NULL);
        /* streamed in chunks of 1 + 37c samples, running every frame once the ring is full */
        st = kdc_stream_init(&s, &m, sbuf, sb, 1, stage_cb, NULL);
        stage_runs = 0;
        ok(st == KDC_OK && kdc_stream_run(&s) == KDC_ERR_TRUNCATED, name, "ring not full: no run");
        while (pushed < samples) {
            size_t take = step < samples - pushed ? step : samples - pushed;
            ok(kdc_stream_push_pcm(&s, x + pushed, take) == KDC_OK, name, "push");
            pushed += take;
        }
        sprintf(msg, "%s clip %lu: stream output = golden", name, (unsigned long)c);
        ok(stage_runs == 1 && check_bytes(msg, stage_out, g->out + c * g->out_size, g->out_size),
           msg, NULL);
        /* one more hop runs once more (every = 1); kdc_stream_run gives the same output again */
        ok(kdc_stream_push_pcm(&s, x, si.hop_samples) == KDC_OK && stage_runs == 2 &&
               kdc_stream_run(&s) == KDC_OK && stage_runs == 3,
           name, "every = 1: a run per hop, and on demand");
    }
    /* whole clip, every = 0, run once */
    ok(kdc_stream_init(&s, &m, sbuf, sb, 0, stage_cb, NULL) == KDC_OK &&
           kdc_stream_push_pcm(&s, pcm, samples) == KDC_OK && (stage_runs = 0, 1) &&
           kdc_stream_run(&s) == KDC_OK && stage_runs == 1 &&
           memcmp(stage_out, g->out, g->out_size) == 0,
       name, "every = 0: whole clip, one run = golden");
    /* bad calls */
    ok(kdc_frontend_frame(&m, pcm, si.window_samples - 1, feats, si.features, scratch,
                          si.scratch_bytes) == KDC_ERR_SHAPE,
       name, "frame of the wrong length: KDC_ERR_SHAPE");
    ok(kdc_frontend_frame(&m, pcm, si.window_samples, feats, si.features, (uint8_t *)scratch + 2,
                          si.scratch_bytes) == KDC_ERR_ALIGN,
       name, "misaligned scratch: KDC_ERR_ALIGN");
    ok(kdc_frontend_frame(&m, pcm, si.window_samples, feats, si.features, scratch,
                          si.scratch_bytes - 1) == KDC_ERR_DST_TOO_SMALL,
       name, "small scratch: KDC_ERR_DST_TOO_SMALL");
    ok(kdc_frontend_features(&m, pcm, samples, feats, g->in_size - 1, &frames, scratch,
                             si.scratch_bytes) == KDC_ERR_DST_TOO_SMALL &&
           frames == si.frames,
       name, "features into a short buffer: KDC_ERR_DST_TOO_SMALL");
    ok(kdc_frontend_features(&m, pcm, si.window_samples - 1, feats, 0, &frames, scratch,
                             si.scratch_bytes) == KDC_OK &&
           frames == 0,
       name, "a clip shorter than a window: 0 frames");
    ok(kdc_stream_init(&s, &m, sbuf, sb - 1, 1, NULL, NULL) == KDC_ERR_DST_TOO_SMALL, name,
       "small stream buffer: KDC_ERR_DST_TOO_SMALL");
    ok(kdc_stream_init(&s, &m, (uint8_t *)sbuf + 1, sb, 1, NULL, NULL) == KDC_ERR_ALIGN, name,
       "misaligned stream buffer: KDC_ERR_ALIGN");
    ok(kdc_stream_init(&s, &m, sbuf, sb, 1, NULL, NULL) == KDC_OK &&
           kdc_stream_push_sensor(&s, (const float *)(const void *)pcm, 3) == KDC_ERR_SHAPE,
       name, "sensor samples into an audio stream: KDC_ERR_SHAPE");
}

static void test_sensor_stage(void)
{
    static uint32_t sbuf[64];
    const struct golden_model *g = golden_named("sensor_stored");
    float raw[COUNT(sensor_raw_bits)];
    int8_t q[COUNT(sensor_raw_bits)];
    kdc_model m, plain;
    kdc_info info;
    kdc_stage_info si;
    kdc_stream s;
    size_t c, i;
    memcpy(raw, sensor_raw_bits, sizeof raw);
    if (!g || load(g, &m, KDC_ARENA_TOTAL(g->arena, golden_scratch(g)), &info) != KDC_OK) {
        ok(0, "sensor_stored", "loads");
        return;
    }
    ok(kdc_stage(&m, &si) == KDC_OK && si.kind == KDC_STAGE_SENSOR && si.features == 3 &&
           si.frames == 8 && kdc_stream_bytes(&m) == g->in_size &&
           kdc_frontend_scratch_bytes(&m) == 0,
       "sensor stage", "kdc_stage reports it");
    ok(kdc_sensor_quantize(&m, raw, COUNT(raw), q, sizeof q) == KDC_OK &&
           check_bytes("sensor quantize = Python (numpy float32)", q, g->in, g->n * g->in_size),
       "sensor quantize = Python", NULL);
    ok(kdc_sensor_quantize(&m, raw, 4, q, sizeof q) == KDC_ERR_SHAPE, "sensor quantize",
       "n not a multiple of the channels: KDC_ERR_SHAPE");
    for (c = 0; c < g->n; c++) {
        ok(kdc_stream_init(&s, &m, sbuf, sizeof sbuf, 2, stage_cb, NULL) == KDC_OK, "sensor",
           "init");
        stage_runs = 0;
        for (i = 0; i < si.frames; i++)
            ok(kdc_stream_push_sensor(&s, raw + (c * si.frames + i) * 3, 3) == KDC_OK, "sensor",
               "push");
        ok(stage_runs == 1 && memcmp(stage_out, g->out + c * g->out_size, g->out_size) == 0,
           "sensor stream output = golden", NULL);
        ok(kdc_stream_push_sensor(&s, raw, 3) == KDC_OK && stage_runs == 1 &&
               kdc_stream_push_sensor(&s, raw, 3) == KDC_OK && stage_runs == 2,
           "sensor stream", "every = 2: a run every second sample");
        ok(kdc_stream_push_sensor(&s, raw, 2) == KDC_ERR_SHAPE &&
               kdc_stream_push_pcm(&s, (const int16_t *)(const void *)raw, 2) == KDC_ERR_SHAPE,
           "sensor stream", "partial sample or PCM: KDC_ERR_SHAPE");
    }
    /* a model without an input stage */
    if (load(&golden_models[0], &plain, KDC_ARENA_TOTAL(golden_models[0].arena, 0), &info) ==
        KDC_OK)
        ok(kdc_stage(&plain, &si) == KDC_OK && si.kind == KDC_STAGE_NONE &&
               kdc_stream_bytes(&plain) == 0 &&
               kdc_stream_init(&s, &plain, sbuf, sizeof sbuf, 1, NULL, NULL) == KDC_ERR_NULL &&
               kdc_frontend_scratch_bytes(&plain) == 0,
           "no input stage", "kdc_stage kind 0, no stream");
}

static void test_input_stage(void)
{
    test_audio_stage("audio_stored", audio_pcm, AUDIO_PCM_SAMPLES);
    test_audio_stage("audio_zlib", audio_pcm, AUDIO_PCM_SAMPLES);
    test_audio_stage("mfcc_stored", mfcc_pcm, MFCC_PCM_SAMPLES);
    test_sensor_stage();
}
#else
/* KDC_STAGE 0: no input stage is built; the golden models with one are refused (the golden loop
 * above checks each), and the PCM tables are not used. */
static void test_input_stage(void)
{
    (void)audio_pcm;
    (void)mfcc_pcm;
    printf("KDC_STAGE=0: the input-stage tests are left out (the models are refused above)\n");
}
#endif

int main(void)
{
    printf("kernels " KDC_KERNELS_VARIANT ", KDC_TFLITE=%d, KDC_STAGE=%d\n", KDC_TFLITE, KDC_STAGE);
    test_requant();
    test_tflite_arith();
    test_kernels();
    test_models();
    test_kdc_exported();
    test_inflate();
    test_malformed();
    test_mutations();
    test_helpers();
    test_float_helpers();
    test_softmax();
    test_input_stage();
    test_aligned();
    test_variants();
    test_regress();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
