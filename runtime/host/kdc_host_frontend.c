/*
 * kdc_host_frontend.c - runs the input stage of a kdc artifact (audio front end and stream) on
 * the host, for the Swift side to compare with its reference (Sources/KDC/Audio).
 *
 *     kdc_host_frontend ARTIFACT CLIPS.bin FEATURES.bin STREAM.bin [SEED]
 *
 * ARTIFACT: a stored artifact with an audio input stage. CLIPS.bin: clips back to back, each a
 * u32 sample count n then n int16 samples (little-endian). For each clip it writes:
 *   FEATURES.bin: the whole clip through kdc_frontend_features (frames x features bytes, frames =
 *     n < window ? 0 : (n - window) / hop + 1);
 *   STREAM.bin: if the clip has at least `frames` (the model input's) frames: the clip pushed
 *     through kdc_stream_push_pcm in chunks of pseudo-random sizes 1..1000 (xorshift32 from
 *     SEED, default 1), then the ring (frames x features bytes, oldest first, as kdc_stream_run
 *     gives the model), then the output of kdc_stream_run, then the output of kdc_invoke on the
 *     last `frames` frames of FEATURES (the whole-clip path); nothing for a shorter clip.
 * Prints {"record":"frontend","clips":C,"frames":F,"features":K,"output_bytes":O,
 * "scratch_bytes":S,"stream_bytes":B,"arena_needed":A} and {"record":"done"}; on error
 * {"record":"error","what":"...","status":"..."} and exit status 1 (2 for usage).
 */
#include "kdc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *status)
{
    printf("{\"record\":\"error\",\"what\":\"%s\",\"status\":\"%s\"}\n", what, status);
    return 1;
}

/* A whole file in a 4-byte aligned malloc'ed buffer. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = (uint8_t *)calloc((size_t)n / 4 + 1, 4);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int8_t stream_out[65536];
static size_t stream_out_len;
static void on_run(void *user, kdc_model *m)
{
    kdc_tensor o = kdc_output(m);
    (void)user;
    stream_out_len = o.size < sizeof stream_out ? o.size : sizeof stream_out;
    memcpy(stream_out, o.data, stream_out_len);
}

int main(int argc, char **argv)
{
    size_t alen, clen, off = 0, clips = 0, feat_cap;
    uint8_t *art, *clipbuf, *arena, *sbuf;
    int16_t *pcm;
    int8_t *feats, *ring;
    void *scratch;
    kdc_info info;
    kdc_model m;
    kdc_stage_info si;
    kdc_status st;
    FILE *ff, *fs;
    uint32_t seed = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 1u;
    if (argc < 5) {
        fprintf(stderr,
                "usage: kdc_host_frontend ARTIFACT CLIPS.bin FEATURES.bin STREAM.bin [SEED]\n");
        return 2;
    }
    if (seed == 0) seed = 1;
    art = read_file(argv[1], &alen);
    clipbuf = read_file(argv[2], &clen);
    if (!art || !clipbuf) return fail("read", "cannot read the artifact or the clips");
    if ((st = kdc_query(art, alen, &info)) != KDC_OK) return fail("kdc_query", kdc_status_str(st));
    arena = (uint8_t *)calloc(info.arena_needed + 4, 1);
    if (!arena) return fail("malloc", "arena");
    if ((st = kdc_init(&m, art, alen, arena, info.arena_needed, 0)) != KDC_OK)
        return fail("kdc_init", kdc_status_str(st));
    if (kdc_stage(&m, &si) != KDC_OK || si.kind != KDC_STAGE_AUDIO)
        return fail("kdc_stage", "the artifact has no audio input stage");
    scratch = calloc(si.scratch_bytes / 4 + 1, 4);
    sbuf = (uint8_t *)calloc(kdc_stream_bytes(&m) / 4 + 1, 4);
    ring = (int8_t *)malloc(si.frames * si.features);
    if (!scratch || !sbuf || !ring) return fail("malloc", "scratch");
    ff = fopen(argv[3], "wb");
    fs = fopen(argv[4], "wb");
    if (!ff || !fs) return fail("open", "cannot write the outputs");
    while (off + 4 <= clen) {
        size_t n = (size_t)clipbuf[off] | (size_t)clipbuf[off + 1] << 8 |
                   (size_t)clipbuf[off + 2] << 16 | (size_t)clipbuf[off + 3] << 24;
        size_t i, frames, pushed = 0;
        kdc_stream s;
        off += 4;
        if (n > (clen - off) / 2) return fail("clips", "truncated clip");
        pcm = (int16_t *)malloc(n * 2 + 2);
        if (!pcm) return fail("malloc", "clip");
        for (i = 0; i < n; i++)
            pcm[i] = (int16_t)(uint16_t)(clipbuf[off + 2 * i] | clipbuf[off + 2 * i + 1] << 8);
        off += 2 * n;
        feat_cap = (n / si.hop_samples + 1) * si.features;
        feats = (int8_t *)malloc(feat_cap);
        if (!feats) return fail("malloc", "features");
        st = kdc_frontend_features(&m, pcm, n, feats, feat_cap, &frames, scratch, si.scratch_bytes);
        if (st != KDC_OK) return fail("kdc_frontend_features", kdc_status_str(st));
        fwrite(feats, 1, frames * si.features, ff);
        if (frames >= si.frames) {
            kdc_tensor in, out;
            st = kdc_stream_init(&s, &m, sbuf, kdc_stream_bytes(&m), 0, on_run, NULL);
            if (st != KDC_OK) return fail("kdc_stream_init", kdc_status_str(st));
            while (pushed < n) {
                size_t take;
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                take = 1 + seed % 1000;
                if (take > n - pushed) take = n - pushed;
                if ((st = kdc_stream_push_pcm(&s, pcm + pushed, take)) != KDC_OK)
                    return fail("kdc_stream_push_pcm", kdc_status_str(st));
                pushed += take;
            }
            for (i = 0; i < si.frames; i++) /* oldest first */
                memcpy(ring + i * si.features, s.ring + ((s.next + i) % si.frames) * si.features,
                       si.features);
            fwrite(ring, 1, si.frames * si.features, fs);
            if ((st = kdc_stream_run(&s)) != KDC_OK)
                return fail("kdc_stream_run", kdc_status_str(st));
            fwrite(stream_out, 1, stream_out_len, fs);
            in = kdc_input(&m);
            memcpy(in.data, feats + (frames - si.frames) * si.features, si.frames * si.features);
            kdc_invoke(&m);
            out = kdc_output(&m);
            fwrite(out.data, 1, out.size, fs);
        }
        free(feats);
        free(pcm);
        clips++;
    }
    fclose(ff);
    fclose(fs);
    printf(
        "{\"record\":\"frontend\",\"clips\":%lu,\"frames\":%lu,\"features\":%lu,"
        "\"output_bytes\":%lu,\"scratch_bytes\":%lu,\"stream_bytes\":%lu,\"arena_needed\":%lu}\n",
        (unsigned long)clips, (unsigned long)si.frames, (unsigned long)si.features,
        (unsigned long)kdc_output(&m).size, (unsigned long)si.scratch_bytes,
        (unsigned long)kdc_stream_bytes(&m), (unsigned long)info.arena_needed);
    printf("{\"record\":\"done\"}\n");
    return 0;
}
