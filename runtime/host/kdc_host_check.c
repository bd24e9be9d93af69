/*
 * kdc_host_check.c - runs a kdc artifact on the host with the device runtime.
 *
 *     kdc_host_check ARTIFACT INPUTS.bin OUTPUTS.bin [REPEATS]
 *
 * ARTIFACT: a stored or compressed artifact (compressed ones are kdc_unpack'ed into a buffer
 * sized by kdc_query). INPUTS.bin: N samples of input_bytes int8 values each, back to back.
 * OUTPUTS.bin: written with N samples of output_bytes int8 values. Each sample is invoked
 * REPEATS times (default 5); the latency of one invoke is the median over all timed runs.
 *
 * Prints its results on stdout as JSON Lines records (schema: samples/firmware/README.md,
 * "Records"; decoded by the Swift target layer's RecordDecoder):
 *     {"record":"model","artifact_bytes":B,"compressed":false,"arena_bytes":A,"unpack_bytes":U,
 *      "input_bytes":I,"output_bytes":O,"scratch_bytes":S,"arena_needed":N,"ops":K,"macs":M}
 * (arena_bytes is the header's activation arena; scratch, the total arena, op count and MACs
 * are kdc_init's for this build of the kernels)
 *     {"record":"run","samples":N,"repeats":R}
 *     {"record":"timing","latency_ns_median":X,"latency_ns_min":Y}
 *     {"record":"done"}
 * On any error: {"record":"error","what":"<step>","status":"<status string>"} and exit status 1
 * (2 for usage, with a usage line on stderr).
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#include "kdc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A JSON string: quotes, backslashes and control characters escaped. */
static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static int fail(const char *what, const char *detail)
{
    printf("{\"record\":\"error\",\"what\":");
    print_json_string(what);
    printf(",\"status\":");
    print_json_string(detail);
    printf("}\n");
    return 1;
}

/* Reads a whole file into a 4-byte aligned malloc'ed buffer (calloc of uint32_t). */
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

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t art_len, in_len, n, i, in_bytes, out_bytes, runs = 0;
    uint8_t *art, *model_buf, *inputs, *arena;
    int8_t *outputs;
    long long *times;
    int repeats = 5, r;
    kdc_info info, stored;
    kdc_model m;
    kdc_status st;
    FILE *f;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s ARTIFACT INPUTS.bin OUTPUTS.bin [REPEATS]\n", argv[0]);
        return 2;
    }
    if (argc == 5) repeats = atoi(argv[4]);
    if (repeats < 1) return fail("usage", "REPEATS must be >= 1");
    art = read_file(argv[1], &art_len);
    if (!art) return fail("artifact", "cannot read the file");
    st = kdc_query(art, art_len, &info);
    if (st != KDC_OK) return fail("kdc_query", kdc_status_str(st));
    model_buf = art;
    if (info.flags & KDC_FLAG_COMPRESSED) {
        size_t written = 0;
        model_buf = (uint8_t *)calloc(info.unpack_bytes / 4 + 1, 4); /* 4-byte aligned */
        if (!model_buf) return fail("unpack", "out of memory");
        st = kdc_unpack(art, art_len, model_buf, info.unpack_bytes, &written);
        if (st != KDC_OK) return fail("kdc_unpack", kdc_status_str(st));
        if (written != info.unpack_bytes) return fail("kdc_unpack", "unexpected unpacked size");
        art_len = written;
    }
    st = kdc_query(model_buf, art_len, &stored); /* the stored body: arena with kernel scratch */
    if (st != KDC_OK) return fail("kdc_query", kdc_status_str(st));
    arena = (uint8_t *)malloc(stored.arena_needed);
    if (!arena) return fail("arena", "out of memory");
    st = kdc_init(&m, model_buf, art_len, arena, stored.arena_needed, 0);
    if (st != KDC_OK) return fail("kdc_init", kdc_status_str(st));
    in_bytes = kdc_input(&m).size;
    out_bytes = kdc_output(&m).size;

    inputs = read_file(argv[2], &in_len);
    if (!inputs) return fail("inputs", "cannot read the file");
    if (in_len % in_bytes != 0)
        return fail("inputs", "file size is not a multiple of the input size");
    n = in_len / in_bytes;
    outputs = (int8_t *)malloc(n * out_bytes + 1);
    times = (long long *)malloc((n * (size_t)repeats + 1) * sizeof *times);
    if (!outputs || !times) return fail("outputs", "out of memory");

    for (i = 0; i < n; i++) {
        for (r = 0; r < repeats; r++) {
            long long t0;
            /* the input may be overwritten by the plan's later tensors: copy it every run */
            memcpy(kdc_input(&m).data, inputs + i * in_bytes, in_bytes);
            t0 = now_ns();
            st = kdc_invoke(&m);
            times[runs++] = now_ns() - t0;
            if (st != KDC_OK) return fail("kdc_invoke", kdc_status_str(st));
        }
        memcpy(outputs + i * out_bytes, kdc_output(&m).data, out_bytes);
    }
    qsort(times, runs, sizeof *times, cmp_ll);

    f = fopen(argv[3], "wb");
    if (!f) return fail("outputs", "cannot create the file");
    if (n > 0 && fwrite(outputs, 1, n * out_bytes, f) != n * out_bytes) {
        fclose(f);
        return fail("outputs", "write failed");
    }
    if (fclose(f) != 0) return fail("outputs", "write failed");

    printf("{\"record\":\"model\",\"artifact_bytes\":%lu,\"compressed\":%s,\"arena_bytes\":%lu,"
           "\"unpack_bytes\":%lu,\"input_bytes\":%lu,\"output_bytes\":%lu,\"scratch_bytes\":%lu,"
           "\"arena_needed\":%lu,\"ops\":%lu,\"macs\":%llu}\n",
           (unsigned long)info.total_bytes, (info.flags & KDC_FLAG_COMPRESSED) ? "true" : "false",
           (unsigned long)info.arena_bytes, (unsigned long)info.unpack_bytes,
           (unsigned long)in_bytes, (unsigned long)out_bytes, (unsigned long)m.scratch_bytes,
           (unsigned long)m.arena_needed, (unsigned long)m.n_ops, (unsigned long long)m.macs);
    printf("{\"record\":\"run\",\"samples\":%lu,\"repeats\":%d}\n", (unsigned long)n, repeats);
    printf("{\"record\":\"timing\",\"latency_ns_median\":%lld,\"latency_ns_min\":%lld}\n",
           runs ? times[runs / 2] : 0LL, runs ? times[0] : 0LL);
    printf("{\"record\":\"done\"}\n");
    free(times);
    free(outputs);
    free(inputs);
    free(arena);
    if (model_buf != art) free(model_buf);
    free(art);
    return 0;
}
