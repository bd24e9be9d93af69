/* test_kdc.c - kdc runtime tests: golden kernels, whole artifacts, inflate,
 * malformed artifacts, and a mutation sweep. Golden data come from
 * tests/gen_golden.py. Prints "N passed, M failed" last; exit 1 on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdc.h"

static int passed, failed;

static void ok(int cond, const char *what, const char *detail)
{
    if (cond) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

static int check_bytes(const char *name, const int8_t *got, const int8_t *want, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (got[i] != want[i]) {
            printf("FAIL %s: byte %lu got %d want %d\n", name, (unsigned long)i, got[i], want[i]);
            return 0;
        }
    return 1;
}

#include "golden_inflate.h"
#include "golden_kernels.h"
#include "golden_models.h"
#include "kdc_exported.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* 4-byte aligned scratch for artifacts */
static uint32_t abuf[70000 / 4], ubuf[70000 / 4];
static uint8_t arena[16384];

static void test_requant(void)
{
    size_t i;
    int bad = 0;
    for (i = 0; i < COUNT(requant_rows); i++) {
        const int64_t *r = requant_rows[i];
        int32_t q = kdc_requant((int32_t)r[0], (int32_t)r[1], (int32_t)r[2]);
        if (q != r[3]) {
            printf("requant(%ld, %ld, %ld) = %ld want %ld\n", (long)r[0], (long)r[1], (long)r[2],
                   (long)q, (long)r[3]);
            bad++;
        }
    }
    ok(bad == 0, "requant golden table", NULL);
}

static void test_kernels(void)
{
    size_t i;
    for (i = 0; i < COUNT(kernel_cases); i++) ok(kernel_cases[i](), "kernel golden case", NULL);
}

/* Unpack if needed and init; returns the model's artifact pointer or NULL. */
static kdc_status load(const struct golden_model *g, kdc_model *m, size_t arena_len)
{
    kdc_info info;
    kdc_status st;
    memcpy(abuf, g->bytes, g->len);
    st = kdc_query((const uint8_t *)abuf, g->len, &info);
    if (st != KDC_OK) return st;
    if (info.arena_bytes != g->arena || info.total_bytes != g->len) return KDC_ERR_HEADER;
    if (g->compressed) {
        size_t written = 0;
        if (info.unpack_bytes > sizeof ubuf) return KDC_ERR_DST_TOO_SMALL;
        st =
            kdc_unpack((const uint8_t *)abuf, g->len, (uint8_t *)ubuf, info.unpack_bytes, &written);
        if (st != KDC_OK) return st;
        if (written != info.unpack_bytes) return KDC_ERR_RAW_SIZE;
        return kdc_init(m, (const uint8_t *)ubuf, written, arena, arena_len, 0);
    }
    return kdc_init(m, (const uint8_t *)abuf, g->len, arena, arena_len, 0);
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
        kdc_model m;
        kdc_status st = load(g, &m, g->arena);
        int good = st == KDC_OK;
        ok(good, g->name, kdc_status_str(st));
        if (!good) continue;
        ok(kdc_input(&m).size == g->in_size && kdc_output(&m).size == g->out_size, g->name,
           "tensor sizes");
        kdc_set_callback(&m, count_cb, NULL);
        cb_calls = 0;
        for (k = 0; k < g->n; k++) {
            kdc_tensor in = kdc_input(&m), out;
            memcpy(in.data, g->in + k * g->in_size, g->in_size);
            ok(kdc_invoke(&m) == KDC_OK, g->name, "invoke");
            out = kdc_output(&m);
            ok(check_bytes(g->name, out.data, g->out + k * g->out_size, g->out_size), g->name,
               "output bytes");
        }
        ok(cb_calls == g->n * m.n_ops, g->name, "callback once per op");
        /* one byte short of the arena: status says how much is needed */
        st = load(g, &m, g->arena - 1);
        ok(st == KDC_ERR_ARENA_TOO_SMALL && m.arena_needed == g->arena, g->name, "arena too small");
    }
}

/* Round trip of artifacts exported by kdc itself (runtime/tests/kdc_exported.h, generated and
 * kept current by Tests/KDCTests/ExportCFixtureTests.swift): the compressed artifact is
 * unpacked, both it and the stored one are loaded and run, and every output byte must equal
 * kdc's Swift int8 reference. */
static void test_kdc_exported(void)
{
    static uint32_t unpacked[(sizeof kdc_exported_stored + 3) / 4];
    static uint8_t exported_arena[KDC_EXPORTED_ARENA_BYTES];
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
    for (a = 0; a < 2; a++) {
        kdc_model m;
        st = kdc_init(&m, arts[a], sizeof kdc_exported_stored, exported_arena,
                      sizeof exported_arena, 0);
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

enum { R_ABS, R_BODY, R_TENSOR, R_OP, R_MULT0, R_SHIFT0, R_CONST };
enum { SET, ADD, XOR };
enum { FIX_NONE, FIX_HDR, FIX_ALL };
enum { CALL_INIT, CALL_INIT_SKIP, CALL_UNPACK, CALL_QUERY, CALL_INIT_NULL };
enum { MLP = 0, MLPZ = 1, CNN = 2 };

typedef struct {
    int region, index, field, width, mode;
    uint32_t value;
} patch;

typedef struct {
    const char *what;
    int model, call, fix;
    long len_delta; /* change the length passed */
    int misalign, arena_delta, dst_delta;
    patch p[3];
    kdc_status want;
} bad_row;

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

static size_t locate(const uint8_t *a, const patch *p)
{
    const uint8_t *b = a + 32;
    uint32_t t_off = rd32le(b + 8), o_off = rd32le(b + 12), c_off = rd32le(b + 16);
    const uint8_t *op = b + o_off + 48 * p->index;
    switch (p->region) {
    case R_ABS: return (size_t)p->field;
    case R_BODY: return 32 + (size_t)p->field;
    case R_TENSOR: return 32 + t_off + 32 * (size_t)p->index + p->field;
    case R_OP: return 32 + o_off + 48 * (size_t)p->index + p->field;
    case R_MULT0: return 32 + c_off + rd32le(op + 36) + p->field;
    case R_SHIFT0: return 32 + c_off + rd32le(op + 40) + p->field;
    default: return 32 + c_off + p->field;
    }
}

static void apply(uint8_t *a, size_t len, const patch *p)
{
    size_t at = locate(a, p);
    uint32_t v = 0;
    int i;
    if (p->width == 0 || at + p->width > len) return;
    for (i = 0; i < p->width; i++) v |= (uint32_t)a[at + i] << (8 * i);
    v = p->mode == SET ? p->value : p->mode == ADD ? v + p->value : v ^ p->value;
    for (i = 0; i < p->width; i++) a[at + i] = (uint8_t)(v >> (8 * i));
}

/* field offsets used below (docs/FORMAT.md) */
/* clang-format off */
#define H_VER 4
#define H_FLAGS 6
#define H_HSIZE 8
#define H_RES 10
#define H_STORED 12
#define H_RAW 16
#define H_ARENA 20
#define H_BCRC 24
#define H_HCRC 28
#define P(r, i, f, w, m, v) {r, i, f, w, m, v}
#define NOP {0, 0, 0, 0, 0, 0}

static const bad_row bad_rows[] = {
    /* header */
    {"truncated header (31 bytes)", MLP, CALL_QUERY, FIX_NONE, -100000, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_TRUNCATED},
    {"truncated body (one byte short)", MLP, CALL_INIT, FIX_NONE, -1, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_TRUNCATED},
    {"bad magic", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, 0, 1, SET, 'X'), NOP, NOP}, KDC_ERR_MAGIC},
    {"bad version", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_VER, 2, SET, 2), NOP, NOP}, KDC_ERR_VERSION},
    {"bad header CRC", MLP, CALL_INIT, FIX_NONE, 0, 0, 0, 0, {P(R_ABS, 0, H_HCRC, 4, XOR, 1), NOP, NOP}, KDC_ERR_HEADER_CRC},
    {"header field changed, CRC not", MLP, CALL_QUERY, FIX_NONE, 0, 0, 0, 0, {P(R_ABS, 0, H_ARENA, 4, ADD, 1), NOP, NOP}, KDC_ERR_HEADER_CRC},
    {"header size not 32", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_HSIZE, 2, SET, 48), NOP, NOP}, KDC_ERR_HEADER},
    {"reserved header field set", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_RES, 2, SET, 1), NOP, NOP}, KDC_ERR_HEADER},
    {"unknown flag bit", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_FLAGS, 2, SET, 2), NOP, NOP}, KDC_ERR_HEADER},
    {"stored body: raw != stored", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_RAW, 4, ADD, 4), NOP, NOP}, KDC_ERR_HEADER},
    {"stored length past the end", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_STORED, 4, ADD, 4), P(R_ABS, 0, H_RAW, 4, ADD, 4), NOP}, KDC_ERR_TRUNCATED},
    {"stored length 4 GiB", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_STORED, 4, SET, 0xffffffffu), P(R_ABS, 0, H_RAW, 4, SET, 0xffffffffu), NOP}, KDC_ERR_HEADER},
    {"raw body smaller than body header", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_STORED, 4, SET, 20), P(R_ABS, 0, H_RAW, 4, SET, 20), NOP}, KDC_ERR_HEADER},
    {"arena bytes 0", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_ARENA, 4, SET, 0), NOP, NOP}, KDC_ERR_HEADER},
    {"body CRC mismatch", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_CONST, 0, 5, 1, XOR, 0x40), NOP, NOP}, KDC_ERR_BODY_CRC},
    {"body CRC mismatch, CRC skipped: loads", MLP, CALL_INIT_SKIP, FIX_HDR, 0, 0, 0, 0, {P(R_CONST, 0, 5, 1, XOR, 0x40), NOP, NOP}, KDC_OK},
    {"misaligned buffer", MLP, CALL_INIT, FIX_NONE, 0, 1, 0, 0, {NOP, NOP, NOP}, KDC_ERR_ALIGN},
    {"NULL model", MLP, CALL_INIT_NULL, FIX_NONE, 0, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_NULL},
    {"arena too small", MLP, CALL_INIT, FIX_NONE, 0, 0, -1, 0, {NOP, NOP, NOP}, KDC_ERR_ARENA_TOO_SMALL},
    {"init on a compressed artifact", MLPZ, CALL_INIT, FIX_NONE, 0, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_COMPRESSED},
    {"unpack on a stored artifact", MLP, CALL_UNPACK, FIX_NONE, 0, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_NOT_COMPRESSED},
    /* compressed */
    {"compressed: declared raw size too big", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_RAW, 4, ADD, 1), NOP, NOP}, KDC_ERR_RAW_SIZE},
    {"compressed: declared raw size too small", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_RAW, 4, ADD, 0xffffffffu), NOP, NOP}, KDC_ERR_RAW_SIZE},
    {"compressed: truncated stream", MLPZ, CALL_UNPACK, FIX_NONE, -1, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_TRUNCATED},
    {"compressed: stored length shorter than stream", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_STORED, 4, ADD, 0xffffffffu), NOP, NOP}, KDC_ERR_INFLATE},
    {"compressed: stored length < 6", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_STORED, 4, SET, 5), NOP, NOP}, KDC_ERR_HEADER},
    {"compressed: bad zlib header", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, 32, 1, SET, 0x79), NOP, NOP}, KDC_ERR_INFLATE},
    {"compressed: Adler-32 mismatch", MLPZ, CALL_UNPACK, FIX_NONE, -1000000, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_ADLER32},
    {"compressed: body CRC field wrong", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, H_BCRC, 4, XOR, 1), NOP, NOP}, KDC_ERR_BODY_CRC},
    {"compressed: dst one byte short", MLPZ, CALL_UNPACK, FIX_NONE, 0, 0, 0, -1, {NOP, NOP, NOP}, KDC_ERR_DST_TOO_SMALL},
    /* body layout */
    {"tensor table past the end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 8, 4, SET, 0xffffff00u), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"tensor table misaligned", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 8, 4, ADD, 2), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"tensor table inside body header", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 8, 4, SET, 4), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"op count past the end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 2, 2, SET, 0xffff), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"zero ops", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 2, 2, SET, 0), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"constant section past the end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 20, 4, ADD, 1), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"constant section offset wraps", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 16, 4, SET, 0xfffffffcu), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"graph input id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 4, 2, SET, 3), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"graph output id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 6, 2, SET, 0xffff), NOP, NOP}, KDC_ERR_TENSOR_ID},
    /* tensors */
    {"tensor rank 0", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 0, 1, SET, 0), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor rank 5", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 0, 1, SET, 5), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor dtype not int8", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 1, 1, SET, 1), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor dim 0", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 6, 2, SET, 0), NOP, NOP}, KDC_ERR_TENSOR},
    {"unused dim not 1", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 8, 2, SET, 2), NOP, NOP}, KDC_ERR_TENSOR},
    {"byte size != dims product", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 24, 4, ADD, 1), NOP, NOP}, KDC_ERR_TENSOR},
    {"shape product overflow", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 0, 1, SET, 4), P(R_TENSOR, 1, 4, 4, SET, 0xffffffffu), P(R_TENSOR, 1, 8, 4, SET, 0xffffffffu)}, KDC_ERR_SHAPE_OVERFLOW},
    {"scale NaN", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 12, 4, SET, 0x7fc00000u), NOP, NOP}, KDC_ERR_TENSOR},
    {"scale zero", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 12, 4, SET, 0), NOP, NOP}, KDC_ERR_TENSOR},
    {"scale negative", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 12, 4, SET, 0xbf800000u), NOP, NOP}, KDC_ERR_TENSOR},
    {"zero point 128", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 16, 4, SET, 128), NOP, NOP}, KDC_ERR_TENSOR},
    {"reserved tensor field set", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 28, 4, SET, 1), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor past the arena end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 20, 4, ADD, 1), NOP, NOP}, KDC_ERR_ARENA_RANGE},
    {"tensor offset wraps", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, 20, 4, SET, 0xfffffff0u), NOP, NOP}, KDC_ERR_ARENA_RANGE},
    /* ops */
    {"unknown op code 99", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 0, 1, SET, 99), NOP, NOP}, KDC_ERR_OPCODE},
    {"op code 0", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 0, 1, SET, 0), NOP, NOP}, KDC_ERR_OPCODE},
    {"op output id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 8, 2, SET, 3), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"op input id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 4, 2, SET, 999), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"second input on a one-input op", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 6, 2, SET, 0), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"act_min > act_max", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 1, 1, SET, 10), P(R_OP, 0, 2, 1, SET, 5), NOP}, KDC_ERR_OP_PARAM},
    {"reserved op byte set", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 3, 1, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"unused FC parameter set", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 12, 4, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"op writes the graph input", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 8, 2, SET, 0), NOP, NOP}, KDC_ERR_GRAPH},
    {"op reads a tensor not yet produced", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 4, 2, SET, 2), NOP, NOP}, KDC_ERR_GRAPH},
    {"tensor written twice", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 8, 2, SET, 1), NOP, NOP}, KDC_ERR_GRAPH},
    {"graph output never produced", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, 6, 2, SET, 0), NOP, NOP}, KDC_ERR_GRAPH},
    {"output overlaps input", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 2, 20, 4, SET, 780), NOP, NOP}, KDC_ERR_ALIAS},
    {"weights past the constant section", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 28, 4, ADD, 100000), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"weights offset wraps", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 28, 4, SET, 0xfffffff0u), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"bias misaligned", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 32, 4, ADD, 2), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"multiplier below 2^30", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 0, 0, 4, SET, 5), NOP, NOP}, KDC_ERR_QPARAM},
    {"multiplier negative", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 1, 4, 4, SET, 0x80000000u), NOP, NOP}, KDC_ERR_QPARAM},
    {"shift 31", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_SHIFT0, 0, 0, 4, SET, 31), NOP, NOP}, KDC_ERR_QPARAM},
    {"shift -32", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_SHIFT0, 1, 0, 4, SET, 0xffffffe0u), NOP, NOP}, KDC_ERR_QPARAM},
    {"multiplier 0 is allowed", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 0, 0, 4, SET, 0), NOP, NOP}, KDC_OK},
    /* spatial ops (CNN: 0 conv, 1 dw, 2 conv1x1, 3 add, 4 clamp, 5 maxpool, 6 avgpool, 7 gap, 8 reshape, 9 fc) */
    {"conv stride 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 16, 2, SET, 0), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv kernel 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 14, 2, SET, 0), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv pad >= kernel", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 20, 2, SET, 3), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv depth multiplier set", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 24, 2, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv last window outside input", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, 18, 2, SET, 2), NOP, NOP}, KDC_ERR_SHAPE},
    {"conv input not rank 4", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 0, 0, 1, SET, 3), P(R_TENSOR, 0, 10, 2, SET, 1), P(R_TENSOR, 0, 8, 2, SET, 24)}, KDC_ERR_SHAPE},
    {"conv batch 2", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 0, 4, 2, SET, 2), P(R_TENSOR, 0, 8, 2, SET, 6), NOP}, KDC_ERR_SHAPE},
    {"dw depth multiplier 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 24, 2, SET, 0), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"dw depth multiplier inconsistent", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 24, 2, SET, 3), NOP, NOP}, KDC_ERR_SHAPE},
    {"dw weights past the constant section", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, 28, 4, ADD, 2000), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"add output dims differ (same size)", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 4, 6, 2, SET, 36), P(R_TENSOR, 4, 8, 2, SET, 1), NOP}, KDC_ERR_SHAPE},
    {"add input shift > 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 3, 16, 4, SET, 1), NOP, NOP}, KDC_ERR_QPARAM},
    {"add output multiplier out of range", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 3, 28, 4, SET, 7), NOP, NOP}, KDC_ERR_QPARAM},
    {"add reserved parameter set", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 3, 40, 4, SET, 7), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"clamp changes zero point", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 5, 16, 4, ADD, 1), NOP, NOP}, KDC_ERR_SHAPE},
    {"maxpool changes scale", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 6, 12, 4, ADD, 1), NOP, NOP}, KDC_ERR_SHAPE},
    {"maxpool stride past input", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 5, 16, 2, SET, 3), NOP, NOP}, KDC_ERR_SHAPE},
    {"avgpool window 300x300 taps", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 6, 12, 2, SET, 300), P(R_OP, 6, 14, 2, SET, 300), NOP}, KDC_ERR_OP_PARAM},
    {"gap output size != channels", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 8, 10, 2, SET, 4), P(R_TENSOR, 8, 24, 4, SET, 4), NOP}, KDC_ERR_SHAPE},
    {"reshape with a clamp", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 8, 2, 1, SET, 100), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"reshape aliases its input partially", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 9, 20, 4, ADD, 1), NOP, NOP}, KDC_ERR_ALIAS},
};
/* clang-format on */

static kdc_status run_row(const bad_row *r, kdc_model *m)
{
    const struct golden_model *g = &golden_models[r->model == CNN ? 2 : r->model];
    uint8_t *a = (uint8_t *)abuf;
    size_t len = g->len, i;
    kdc_info info;
    memcpy(a, g->bytes, g->len);
    for (i = 0; i < 3; i++) apply(a, len, &r->p[i]);
    if (r->len_delta == -1000000) a[len - 1] ^= 1; /* last byte (Adler-32) */
    if (r->fix == FIX_ALL) wr32le(a + 24, kdc_crc32(0, a + 32, rd32le(a + 16)));
    if (r->fix != FIX_NONE) wr32le(a + 28, kdc_crc32(0, a, 28));
    if (r->len_delta == -100000)
        len = 31;
    else if (r->len_delta < 0 && r->len_delta > -1000)
        len -= (size_t)-r->len_delta;
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
    default:
        return kdc_init(m, a, len, arena, g->arena + r->arena_delta,
                        r->call == CALL_INIT_SKIP ? KDC_INIT_SKIP_CRC : 0);
    }
}

static void test_malformed(void)
{
    size_t i;
    for (i = 0; i < COUNT(bad_rows); i++) {
        kdc_model m;
        char msg[160];
        kdc_status st = run_row(&bad_rows[i], &m);
        sprintf(msg, "got %d (%s), want %d", (int)st, kdc_status_str(st), (int)bad_rows[i].want);
        ok(st == bad_rows[i].want, bad_rows[i].what, msg);
        if (bad_rows[i].want == KDC_ERR_ARENA_TOO_SMALL)
            ok(m.arena_needed == golden_models[0].arena, bad_rows[i].what, "arena_needed");
    }
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
    size_t gi, it, len, accepted = 0, rejected_trunc = 0, total_trunc = 0;
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
                for (k = 0; k < in.size; k++) in.data[k] = (int8_t)rnd();
                kdc_invoke(&m);
                accepted++;
            }
        }
    }
    printf("mutations: %lu accepted and run, truncations rejected %lu/%lu\n",
           (unsigned long)accepted, (unsigned long)rejected_trunc, (unsigned long)total_trunc);
    ok(rejected_trunc == total_trunc, "every truncation rejected", NULL);
    ok(1, "mutation sweep ran without a crash", NULL);
}

/* Regression inputs (tests/regress/EXPECTED, one "file STATUS [out0]" per
 * line, '#' comments): each file goes through kdc_query, kdc_unpack if
 * compressed, and kdc_init with the CRC checked and with it skipped (an
 * exact-size heap arena); the status must be exactly STATUS (unless STATUS
 * is the body CRC, the skipped run must agree). On KDC_OK the model is
 * invoked with every input byte -128 and output byte 0 compared with out0.
 * The sanitized build of this file runs them under ASan and UBSan. */
static const char *const status_names[KDC_STATUS_COUNT] = {"KDC_OK",
                                                           "KDC_ERR_NULL",
                                                           "KDC_ERR_ALIGN",
                                                           "KDC_ERR_BIG_ENDIAN",
                                                           "KDC_ERR_TRUNCATED",
                                                           "KDC_ERR_MAGIC",
                                                           "KDC_ERR_VERSION",
                                                           "KDC_ERR_HEADER_CRC",
                                                           "KDC_ERR_HEADER",
                                                           "KDC_ERR_COMPRESSED",
                                                           "KDC_ERR_NOT_COMPRESSED",
                                                           "KDC_ERR_DST_TOO_SMALL",
                                                           "KDC_ERR_INFLATE",
                                                           "KDC_ERR_ADLER32",
                                                           "KDC_ERR_RAW_SIZE",
                                                           "KDC_ERR_BODY_CRC",
                                                           "KDC_ERR_BODY_LAYOUT",
                                                           "KDC_ERR_TENSOR",
                                                           "KDC_ERR_SHAPE_OVERFLOW",
                                                           "KDC_ERR_TENSOR_ID",
                                                           "KDC_ERR_OPCODE",
                                                           "KDC_ERR_OP_PARAM",
                                                           "KDC_ERR_SHAPE",
                                                           "KDC_ERR_CONST_RANGE",
                                                           "KDC_ERR_QPARAM",
                                                           "KDC_ERR_ARENA_RANGE",
                                                           "KDC_ERR_ALIAS",
                                                           "KDC_ERR_GRAPH",
                                                           "KDC_ERR_ARENA_TOO_SMALL"};

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
        st0 = regress_run(buf, n, 0, &got0);
        st1 = regress_run(buf, n, KDC_INIT_SKIP_CRC, &got1);
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
        for (j = 0; j < i; j++)
            if (strcmp(kdc_status_str((kdc_status)i), kdc_status_str((kdc_status)j)) == 0)
                distinct = 0;
    }
    ok(distinct && strcmp(kdc_status_str(KDC_STATUS_COUNT), "unknown status") == 0,
       "a distinct string for every status", NULL);
    ok(kdc_crc32(0, (const uint8_t *)"123456789", 9) == 0xcbf43926u, "crc32 check value", NULL);
}

int main(void)
{
    test_requant();
    test_kernels();
    test_models();
    test_kdc_exported();
    test_inflate();
    test_malformed();
    test_mutations();
    test_helpers();
    test_regress();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
