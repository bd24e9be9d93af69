/* kdc_inflate.c - small zlib (RFC 1950) / deflate (RFC 1951) decoder.
 *
 * Canonical Huffman decoding one bit at a time from per-length counts, in the
 * manner of tinf: slow but tiny, and every read and write is bounds checked. */
#include "kdc.h"

#include <string.h>

typedef struct {
    uint16_t count[16];   /* number of codes of each length */
    uint16_t symbol[288]; /* symbols ordered by code */
} kdc__tree;

typedef struct {
    const uint8_t *src, *end;
    uint32_t tag;
    unsigned bits;
    int overrun; /* tried to read past the end of the source */
    uint8_t *dst;
    size_t pos, cap;
} kdc__inf;

static unsigned kdc__bit(kdc__inf *s)
{
    unsigned b;
    if (s->bits == 0) {
        if (s->src == s->end) {
            s->overrun = 1;
            s->tag = 0;
        } else {
            s->tag = *s->src++;
        }
        s->bits = 8;
    }
    b = s->tag & 1u;
    s->tag >>= 1;
    s->bits--;
    return b;
}

static unsigned kdc__bits(kdc__inf *s, unsigned n)
{
    unsigned v = 0, i;
    for (i = 0; i < n; i++) v |= kdc__bit(s) << i;
    return v;
}

/* Build a decoding tree from n code lengths (each 0..15). Returns 0 if the
 * lengths over-subscribe the code space. */
static int kdc__build(kdc__tree *t, const uint8_t *len, unsigned n)
{
    uint16_t offs[16];
    unsigned i, sum = 0;
    int left = 1;
    for (i = 0; i < 16; i++) t->count[i] = 0;
    for (i = 0; i < n; i++) t->count[len[i]]++;
    t->count[0] = 0;
    for (i = 1; i < 16; i++) {
        left = left * 2 - t->count[i];
        if (left < 0) return 0; /* over-subscribed */
        offs[i] = (uint16_t)sum;
        sum += t->count[i];
    }
    for (i = 0; i < n; i++)
        if (len[i]) t->symbol[offs[len[i]]++] = (uint16_t)i;
    return 1;
}

/* Decode one symbol; -1 if no code matches (incomplete code). */
static int kdc__decode(kdc__inf *s, const kdc__tree *t)
{
    int cur = 0, first = 0, index = 0;
    unsigned len;
    for (len = 1; len < 16; len++) {
        cur = (cur << 1) | (int)kdc__bit(s);
        if (cur - first < t->count[len]) return t->symbol[index + cur - first];
        index += t->count[len];
        first = (first + t->count[len]) << 1;
    }
    return -1;
}

/* Decode one Huffman-coded block. */
static kdc_status kdc__block(kdc__inf *s, const kdc__tree *lt, const kdc__tree *dt)
{
    for (;;) {
        int sym = kdc__decode(s, lt);
        if (s->overrun || sym < 0) return KDC_ERR_INFLATE;
        if (sym < 256) {
            if (s->pos >= s->cap) return KDC_ERR_DST_TOO_SMALL;
            s->dst[s->pos++] = (uint8_t)sym;
        } else if (sym == 256) {
            return KDC_OK;
        } else {
            size_t len, dist, i;
            int ds;
            unsigned e;
            sym -= 257;
            if (sym >= 29) return KDC_ERR_INFLATE; /* length codes 286, 287 */
            /* RFC 1951 3.2.5 base/extra tables, computed: codes 257..264 are
             * 3..10, then 4 codes per extra bit; 285 is 258 */
            e = sym < 8 ? 0u : (unsigned)(sym - 4) >> 2;
            len = sym == 28 ? 258
                  : sym < 8 ? 3u + (unsigned)sym
                            : ((4u + ((unsigned)sym & 3)) << e) + 3 + kdc__bits(s, e);
            ds = kdc__decode(s, dt);
            if (ds < 0 || ds >= 30) return KDC_ERR_INFLATE; /* distance codes 30, 31 */
            e = ds < 4 ? 0u : (unsigned)(ds - 2) >> 1;
            dist = (ds < 4 ? 1u + (unsigned)ds : ((2u + ((unsigned)ds & 1)) << e) + 1) +
                   kdc__bits(s, e);
            if (s->overrun || dist > s->pos) return KDC_ERR_INFLATE; /* before start */
            if (len > s->cap - s->pos) return KDC_ERR_DST_TOO_SMALL;
            for (i = 0; i < len; i++, s->pos++) s->dst[s->pos] = s->dst[s->pos - dist];
        }
    }
}

static kdc_status kdc__stored(kdc__inf *s)
{
    unsigned len, nlen;
    s->bits = 0; /* skip to a byte boundary */
    if (s->end - s->src < 4) return KDC_ERR_INFLATE;
    len = s->src[0] | (unsigned)s->src[1] << 8;
    nlen = s->src[2] | (unsigned)s->src[3] << 8;
    s->src += 4;
    if (len != (~nlen & 0xffffu)) return KDC_ERR_INFLATE;
    if ((size_t)(s->end - s->src) < len) return KDC_ERR_INFLATE;
    if (len > s->cap - s->pos) return KDC_ERR_DST_TOO_SMALL;
    if (len) memcpy(s->dst + s->pos, s->src, len);
    s->src += len;
    s->pos += len;
    return KDC_OK;
}

static void kdc__fixed(kdc__tree *lt, kdc__tree *dt)
{
    uint8_t len[288];
    unsigned i;
    for (i = 0; i < 288; i++) len[i] = (uint8_t)(i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
    kdc__build(lt, len, 288);
    for (i = 0; i < 30; i++) len[i] = 5;
    kdc__build(dt, len, 30);
}

static kdc_status kdc__dynamic(kdc__inf *s, kdc__tree *lt, kdc__tree *dt)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                      11, 4,  12, 3, 13, 2, 14, 1, 15};
    uint8_t len[288 + 32];
    unsigned hlit = kdc__bits(s, 5) + 257, hdist = kdc__bits(s, 5) + 1;
    unsigned hclen = kdc__bits(s, 4) + 4, i, n = 0;
    if (hlit > 286 || hdist > 30) return KDC_ERR_INFLATE;
    for (i = 0; i < 19; i++) len[order[i]] = (uint8_t)(i < hclen ? kdc__bits(s, 3) : 0);
    if (!kdc__build(lt, len, 19)) return KDC_ERR_INFLATE; /* code length code */
    while (n < hlit + hdist) {
        int sym = kdc__decode(s, lt);
        unsigned rep;
        uint8_t v = 0;
        if (s->overrun || sym < 0) return KDC_ERR_INFLATE;
        if (sym < 16) {
            len[n++] = (uint8_t)sym;
            continue;
        }
        if (sym == 16) {
            if (n == 0) return KDC_ERR_INFLATE; /* repeat with no previous length */
            v = len[n - 1];
            rep = 3 + kdc__bits(s, 2);
        } else if (sym == 17) {
            rep = 3 + kdc__bits(s, 3);
        } else {
            rep = 11 + kdc__bits(s, 7);
        }
        if (rep > hlit + hdist - n) return KDC_ERR_INFLATE; /* repeat past the end */
        while (rep--) len[n++] = v;
    }
    if (len[256] == 0) return KDC_ERR_INFLATE; /* no end-of-block code */
    if (!kdc__build(lt, len, hlit) || !kdc__build(dt, len + hlit, hdist)) return KDC_ERR_INFLATE;
    return KDC_OK;
}

static uint32_t kdc__adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return b << 16 | a;
}

kdc_status kdc_zlib_uncompress(uint8_t *dst, size_t *dst_len, const uint8_t *src, size_t src_len)
{
    kdc__inf s;
    kdc__tree lt, dt;
    unsigned final;
    uint32_t want;
    if (!dst_len || !src || (!dst && *dst_len)) return KDC_ERR_NULL;
    if (src_len < 6) return KDC_ERR_INFLATE;                             /* header + trailer */
    if ((src[0] & 15) != 8 || (src[0] >> 4) > 7) return KDC_ERR_INFLATE; /* CM 8, window <= 32K */
    if (((unsigned)src[0] << 8 | src[1]) % 31) return KDC_ERR_INFLATE;   /* FCHECK */
    if (src[1] & 0x20) return KDC_ERR_INFLATE;                           /* preset dictionary */
    s.src = src + 2;
    s.end = src + src_len - 4; /* leave the Adler-32 trailer out of the bit reader */
    s.tag = 0;
    s.bits = 0;
    s.overrun = 0;
    s.dst = dst;
    s.pos = 0;
    s.cap = *dst_len;
    do {
        unsigned type;
        kdc_status st;
        final = kdc__bit(&s);
        type = kdc__bits(&s, 2);
        if (s.overrun) return KDC_ERR_INFLATE;
        if (type == 0) {
            st = kdc__stored(&s);
        } else if (type == 1) {
            kdc__fixed(&lt, &dt);
            st = kdc__block(&s, &lt, &dt);
        } else if (type == 2) {
            st = kdc__dynamic(&s, &lt, &dt);
            if (st == KDC_OK) st = kdc__block(&s, &lt, &dt);
        } else {
            return KDC_ERR_INFLATE; /* reserved block type 3 */
        }
        if (st != KDC_OK) return st;
    } while (!final);
    if (s.src != s.end) return KDC_ERR_INFLATE; /* trailer not where it should be */
    want = (uint32_t)s.end[0] << 24 | (uint32_t)s.end[1] << 16 | (uint32_t)s.end[2] << 8 | s.end[3];
    if (kdc__adler32(dst, s.pos) != want) return KDC_ERR_ADLER32;
    *dst_len = s.pos;
    return KDC_OK;
}
