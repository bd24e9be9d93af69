/*
 * kdc_host_run.c - runs a kdc artifact on many inputs with the device runtime, on the host
 * (`kdc run`).
 *
 *     kdc_host_run [--float-input] [--float-output] [--offset BYTES] [--count N]
 *                  [--save-inputs FILE] ARTIFACT INPUTS OUTPUTS
 *
 * ARTIFACT: a stored or compressed artifact (compressed ones are kdc_unpack'ed into a buffer
 * sized by kdc_query). INPUTS: samples back to back from byte BYTES (default 0), each the input
 * tensor's values: int8, or with --float-input little-endian float32, quantized into the input
 * tensor by kdc_input_from_float (mean 0, std 1, one channel: kdc_quantize with the input's scale
 * and zero point). --count N runs exactly N samples (the file must hold them); without it, every
 * sample the file holds (its size past BYTES must be a whole number of samples). OUTPUTS is
 * opened for appending (kdc writes an NPY header into it first) and gets one output per sample:
 * the output tensor's int8 values, or with --float-output little-endian float32 from
 * kdc_output_to_float. --save-inputs FILE writes the int8 input each sample ran on (after
 * quantization), back to back. Samples are read, run and written one at a time: memory does not
 * grow with their number.
 *
 * Prints on stdout JSON Lines records (schema: samples/firmware/README.md, "Records"):
 *     {"record":"model","artifact_bytes":B,"compressed":false,"arena_bytes":A,"unpack_bytes":U,
 *      "input_bytes":I,"output_bytes":O,"scratch_bytes":S,"arena_needed":N,"ops":K,"macs":M}
 *     {"record":"run","samples":N,"repeats":1}
 *     {"record":"done"}
 * On any error: {"record":"error","what":"<step>","status":"<kdc_status_str or reason>"} with,
 * for a runtime status, "name":"KDC_ERR_..." (its enum name), and exit status 1 (2 for usage,
 * with a usage line on stderr).
 */
#include "kdc.h"

#include "../tests/status_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* An error record for a runtime status: its text and its enum name. */
static int fail_status(const char *what, kdc_status st)
{
    const char *name = (unsigned)st < KDC_STATUS_COUNT ? status_names[st] : NULL;
    printf("{\"record\":\"error\",\"what\":");
    print_json_string(what);
    printf(",\"status\":");
    print_json_string(kdc_status_str(st));
    printf(",\"name\":");
    print_json_string(name ? name : "unknown");
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

/* A non-negative decimal number (the whole string), or -1. */
static long parse_count(const char *s)
{
    char *end;
    long v;
    if (!*s) return -1;
    v = strtol(s, &end, 10);
    return (*end || v < 0) ? -1 : v;
}

static float load_f32le(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void store_f32le(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--float-input] [--float-output] [--offset BYTES] [--count N] "
            "[--save-inputs FILE] ARTIFACT INPUTS OUTPUTS\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    int float_in = 0, float_out = 0, a;
    long offset = 0, count = -1;
    const char *save_path = NULL, *paths[3];
    int n_paths = 0;
    size_t art_len, in_bytes, out_bytes, in_size, out_size, n, i;
    uint8_t *art, *model_buf, *arena, *in_buf, *out_buf;
    float *fbuf;
    const float zero = 0.0f, one = 1.0f;
    kdc_info info, stored;
    kdc_model m;
    kdc_status st;
    FILE *fin, *fout, *fsave = NULL;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--float-input") == 0) {
            float_in = 1;
        } else if (strcmp(argv[a], "--float-output") == 0) {
            float_out = 1;
        } else if (strcmp(argv[a], "--offset") == 0 && a + 1 < argc) {
            if ((offset = parse_count(argv[++a])) < 0) return usage(argv[0]);
        } else if (strcmp(argv[a], "--count") == 0 && a + 1 < argc) {
            if ((count = parse_count(argv[++a])) < 0) return usage(argv[0]);
        } else if (strcmp(argv[a], "--save-inputs") == 0 && a + 1 < argc) {
            save_path = argv[++a];
        } else if (argv[a][0] == '-' && argv[a][1] == '-') {
            return usage(argv[0]);
        } else {
            if (n_paths == 3) return usage(argv[0]);
            paths[n_paths++] = argv[a];
        }
    }
    if (n_paths != 3) return usage(argv[0]);

    art = read_file(paths[0], &art_len);
    if (!art) return fail("artifact", "cannot read the file");
    st = kdc_query(art, art_len, &info);
    if (st != KDC_OK) return fail_status("kdc_query", st);
    model_buf = art;
    if (info.flags & KDC_FLAG_COMPRESSED) {
        size_t written = 0;
        model_buf = (uint8_t *)calloc(info.unpack_bytes / 4 + 1, 4); /* 4-byte aligned */
        if (!model_buf) return fail("unpack", "out of memory");
        st = kdc_unpack(art, art_len, model_buf, info.unpack_bytes, &written);
        if (st != KDC_OK) return fail_status("kdc_unpack", st);
        if (written != info.unpack_bytes) return fail("kdc_unpack", "unexpected unpacked size");
        art_len = written;
    }
    st = kdc_query(model_buf, art_len, &stored); /* the stored body: arena with kernel scratch */
    if (st != KDC_OK) return fail_status("kdc_query", st);
    arena = (uint8_t *)malloc(stored.arena_needed + 1);
    if (!arena) return fail("arena", "out of memory");
    st = kdc_init(&m, model_buf, art_len, arena, stored.arena_needed, 0);
    if (st != KDC_OK) return fail_status("kdc_init", st);
    in_bytes = kdc_input(&m).size;
    out_bytes = kdc_output(&m).size;
    in_size = in_bytes * (float_in ? 4u : 1u);
    out_size = out_bytes * (float_out ? 4u : 1u);

    fin = fopen(paths[1], "rb");
    if (!fin) return fail("inputs", "cannot open the file");
    {
        long end;
        if (fseek(fin, 0, SEEK_END) != 0 || (end = ftell(fin)) < 0)
            return fail("inputs", "cannot size the file");
        if (end < offset) return fail("inputs", "the file is shorter than the data offset");
        if (count < 0) {
            if ((size_t)(end - offset) % in_size != 0)
                return fail("inputs", "the data is not a whole number of inputs");
            n = (size_t)(end - offset) / in_size;
        } else {
            n = (size_t)count;
            if ((size_t)(end - offset) / in_size < n)
                return fail("inputs", "the file holds fewer inputs than --count");
        }
        if (fseek(fin, offset, SEEK_SET) != 0) return fail("inputs", "cannot seek to the data");
    }
    fout = fopen(paths[2], "ab");
    if (!fout) return fail("outputs", "cannot open the file for appending");
    if (save_path && !(fsave = fopen(save_path, "wb")))
        return fail("save-inputs", "cannot create the file");
    in_buf = (uint8_t *)malloc(in_size + 1);
    out_buf = (uint8_t *)malloc(out_size + 1);
    fbuf = (float *)malloc((in_bytes > out_bytes ? in_bytes : out_bytes) * sizeof *fbuf + 1);
    if (!in_buf || !out_buf || !fbuf) return fail("buffers", "out of memory");

    for (i = 0; i < n; i++) {
        size_t k;
        if (fread(in_buf, 1, in_size, fin) != in_size) return fail("inputs", "read failed");
        if (float_in) {
            for (k = 0; k < in_bytes; k++) fbuf[k] = load_f32le(in_buf + 4 * k);
            st = kdc_input_from_float(&m, fbuf, in_bytes, &zero, &one, 1);
            if (st != KDC_OK) return fail_status("kdc_input_from_float", st);
        } else {
            /* later tensors may reuse the input's arena bytes: copy the input before each run */
            memcpy(kdc_input(&m).data, in_buf, in_bytes);
        }
        if (fsave && fwrite(kdc_input(&m).data, 1, in_bytes, fsave) != in_bytes)
            return fail("save-inputs", "write failed");
        st = kdc_invoke(&m);
        if (st != KDC_OK) return fail_status("kdc_invoke", st);
        if (float_out) {
            st = kdc_output_to_float(&m, fbuf, out_bytes);
            if (st != KDC_OK) return fail_status("kdc_output_to_float", st);
            for (k = 0; k < out_bytes; k++) store_f32le(out_buf + 4 * k, fbuf[k]);
        } else {
            memcpy(out_buf, kdc_output(&m).data, out_bytes);
        }
        if (fwrite(out_buf, 1, out_size, fout) != out_size) return fail("outputs", "write failed");
    }
    if (fclose(fout) != 0) return fail("outputs", "write failed");
    if (fsave && fclose(fsave) != 0) return fail("save-inputs", "write failed");
    fclose(fin);

    printf("{\"record\":\"model\",\"artifact_bytes\":%lu,\"compressed\":%s,\"arena_bytes\":%lu,"
           "\"unpack_bytes\":%lu,\"input_bytes\":%lu,\"output_bytes\":%lu,\"scratch_bytes\":%lu,"
           "\"arena_needed\":%lu,\"ops\":%lu,\"macs\":%llu}\n",
           (unsigned long)info.total_bytes, (info.flags & KDC_FLAG_COMPRESSED) ? "true" : "false",
           (unsigned long)info.arena_bytes, (unsigned long)info.unpack_bytes,
           (unsigned long)in_bytes, (unsigned long)out_bytes, (unsigned long)m.scratch_bytes,
           (unsigned long)m.arena_needed, (unsigned long)m.n_ops, (unsigned long long)m.macs);
    printf("{\"record\":\"run\",\"samples\":%lu,\"repeats\":1}\n", (unsigned long)n);
    printf("{\"record\":\"done\"}\n");
    free(fbuf);
    free(out_buf);
    free(in_buf);
    free(arena);
    if (model_buf != art) free(model_buf);
    free(art);
    return 0;
}
