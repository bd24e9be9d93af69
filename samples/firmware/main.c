/* main.c - runs a kdc model on the built-in test inputs and reports outputs and memory.
 *
 * Build-time macros (set by the Makefile, or by kdc's target layer the same way):
 *   FW_MODEL_H        the exported header, e.g. "digits.h" (sizes: <UP>_ARENA_BYTES, ...)
 *   FW_NAME_UP        the model name in upper case (DIGITS), for those macros
 *   FW_ARTIFACT       the artifact array's symbol; FW_ARTIFACT_LEN its length in bytes
 *   FW_ARTIFACT_H     optional header declaring FW_ARTIFACT_LEN (generated stored array)
 *   FW_COMPRESSED     1: the artifact is compressed, kdc_unpack it into a static RAM buffer of
 *                     <UP>_UNPACK_BYTES; 0: execute the stored artifact in place from flash
 *   FW_REPEATS        kdc_invoke calls per input (instruction counting uses 1 and 11)
 *   FW_LIMIT          run only the first FW_LIMIT inputs (0: all)
 *   FW_PCM            1: the inputs are PCM clips (pcm.h) for a model with an audio input stage:
 *                     each clip goes through the front end whole (kdc_frontend_features into the
 *                     input tensor, then kdc_invoke: output record `sample` i) and through the
 *                     stream (kdc_stream_push_pcm in chunks of FW_CHUNK samples, the model running
 *                     every hop once the ring is full: the last run's output is record `sample`
 *                     n + i); FW_REPEATS then repeats the whole-clip front end (instruction
 *                     counting: per hop = difference / (repeats - 1) / frames)
 *   FW_SENSOR         1: the inputs are float32 sensor recordings (sensor.h) for a model with a
 *                     sensor input stage: every window (its length the model's, a start every
 *                     fw_sensor_stride steps) through kdc_sensor_quantize into the input tensor,
 *                     then kdc_invoke (output records 0 .. w-1, w the windows of all recordings);
 *                     then each recording through the stream (kdc_stream_push_sensor in chunks of
 *                     the sizes of fw_chunks in turn, the model running every fw_sensor_stride
 *                     samples once the ring is full: each run's output is the next record, w ..
 *                     2w-1, printed by the stream callback); FW_REPEATS repeats the first window's
 *                     kdc_sensor_quantize (instruction counting)
 *   FW_STREAM_BYTES   the stream buffer (window, front-end scratch, ring; sensor: the ring);
 *                     kdc_stream_bytes must fit (default: the export's <UP>_STREAM_BYTES, exactly
 *                     kdc_stream_bytes)
 *
 * Output over semihosting: JSON Lines records (README.md, "Records"): "model", one "output" per
 * input, "run", "memory" (RAM by part: arena, unpack buffer, stream buffer, static data = .data +
 * .bss without them, peak stack), then "done"; on failure an "error" record and a non-zero exit
 * status.
 * Formatted by hand (no printf): a 256-byte line buffer, numbers in decimal, outputs in hex. */
#include <stdint.h>
#include <string.h>

#include "inputs.h"
#include "kdc.h"
#if FW_PCM && FW_SENSOR
#error "FW_PCM and FW_SENSOR are exclusive"
#endif
#if FW_PCM
#include "pcm.h"
#endif
#if FW_SENSOR
#include "sensor.h"
#endif
#include "semihost.h"
#include FW_MODEL_H
#ifdef FW_ARTIFACT_H
#include FW_ARTIFACT_H
#endif

#define FW_CAT_(a, b) a##b
#define FW_CAT(a, b) FW_CAT_(a, b)
#define ARENA_BYTES FW_CAT(FW_NAME_UP, _ARENA_BYTES)
#define UNPACK_BYTES FW_CAT(FW_NAME_UP, _UNPACK_BYTES)

#ifndef FW_REPEATS
#define FW_REPEATS 1
#endif
#ifndef FW_LIMIT
#define FW_LIMIT 0
#endif

extern const uint8_t FW_ARTIFACT[];
uint32_t fw_stack_peak(void);
uint32_t fw_stack_size(void);
extern uint32_t __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];

/* The arena, exactly the size kdc's export gives (<UP>_ARENA_BYTES): the activations of its
 * memory plan, then the kernels' scratch (<UP>_SCRATCH_BYTES of it, when there is any). */
static uint8_t arena[ARENA_BYTES];

#if FW_COMPRESSED
#if UNPACK_BYTES == 0
#error "MODE=compressed needs a compressed export (<NAME>_UNPACK_BYTES is 0)"
#endif
/* kdc_init reads int32 arrays in place: the unpacked artifact must be 4-byte aligned. */
static uint8_t unpack_buf[UNPACK_BYTES] __attribute__((aligned(4)));
#define UNPACK_RAM ((uint32_t)sizeof unpack_buf)
#else
#define UNPACK_RAM 0u
#endif

static kdc_model model;
static char line[256];

#if FW_PCM || FW_SENSOR
#ifndef FW_STREAM_BYTES /* the export's figure: kdc_stream_bytes of the model */
#define FW_STREAM_BYTES FW_CAT(FW_NAME_UP, _STREAM_BYTES)
#endif
/* The stream's buffer (also the front end's scratch for the whole-clip path), exactly
 * FW_STREAM_BYTES: the memory record reports it as its own part. */
static uint8_t stream_buf[FW_STREAM_BYTES] __attribute__((aligned(4)));
#define STREAM_RAM ((uint32_t)sizeof stream_buf)
static kdc_stream stream;
#else
#define STREAM_RAM 0u
#endif

#if FW_PCM
#ifndef FW_CHUNK
#define FW_CHUNK 37
#endif
static int8_t stream_out[256];
static uint32_t stream_out_len;
/* The stream callback (kdc_stream_run calls it through a pointer; the stack analysis is told). */
static void on_stream_run(void *user, kdc_model *m)
{
    kdc_tensor o = kdc_output(m);
    (void)user;
    stream_out_len = o.size < sizeof stream_out ? (uint32_t)o.size : (uint32_t)sizeof stream_out;
    memcpy(stream_out, o.data, stream_out_len);
}
#endif

static char *put_str(char *p, const char *s)
{
    while (*s) *p++ = *s++;
    return p;
}

static char *put_u32(char *p, uint32_t v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

/* A JSON string (short ASCII text: quotes and backslashes escaped). */
static char *put_json_str(char *p, const char *s)
{
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

/* {"record":"<kind>" into the line buffer. */
static char *begin_record(const char *kind)
{
    return put_str(put_str(put_str(line, "{\"record\":\""), kind), "\"");
}

/* ,"<key>":<v> */
static char *put_field(char *p, const char *key, uint32_t v)
{
    return put_u32(put_str(put_str(put_str(p, ",\""), key), "\":"), v);
}

static void end_record(char *p)
{
    *p++ = '}';
    *p++ = '\n';
    *p = 0;
    sh_write0(line);
}

static int fail(const char *what, const char *status)
{
    char *p = put_json_str(put_str(begin_record("error"), ",\"what\":"), what);
    end_record(put_json_str(put_str(p, ",\"status\":"), status));
    return 1;
}

/* {"record":"output","sample":S,"argmax":A,"bytes":"<hex>"} (long outputs are written in pieces).
 */
static void print_output(uint32_t sample, const int8_t *y, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *p = put_field(put_field(begin_record("output"), "sample", sample), "argmax",
                        (uint32_t)kdc_argmax(y, n));
    size_t i;
    p = put_str(p, ",\"bytes\":\"");
    for (i = 0; i < n; i++) {
        uint8_t b = (uint8_t)y[i];
        if (p > line + sizeof line - 8) {
            *p = 0;
            sh_write0(line);
            p = line;
        }
        *p++ = hex[b >> 4];
        *p++ = hex[b & 15u];
    }
    end_record(put_str(p, "\""));
}

#if FW_SENSOR
/* Stream chunk sizes in samples (all channels), pushed in turn: 1 to 9, uneven. */
static const uint8_t fw_chunks[] = {1, 4, 2, 7, 3, 9, 5};
static uint32_t sensor_record; /* the next streamed output record */
/* The stream callback: each model run's output is the next record (kdc_stream_run calls it
 * through a pointer; the stack analysis is told). */
static void on_stream_run(void *user, kdc_model *m)
{
    kdc_tensor o = kdc_output(m);
    (void)user;
    print_output(sensor_record++, o.data, o.size);
}
#endif

int main(void)
{
    const uint8_t *art = FW_ARTIFACT;
    size_t art_len = FW_ARTIFACT_LEN, in_bytes, out_bytes;
    uint32_t i, n, r, data_bytes, bss_bytes, static_bytes, stack_bytes;
    kdc_info info;
    kdc_status st;
    char *p;

    st = kdc_query(art, art_len, &info);
    if (st != KDC_OK) return fail("kdc_query", kdc_status_str(st));
#if FW_COMPRESSED
    if (!(info.flags & KDC_FLAG_COMPRESSED)) return fail("mode", "the artifact is not compressed");
    st = kdc_unpack(art, art_len, unpack_buf, sizeof unpack_buf, &art_len);
    if (st != KDC_OK) return fail("kdc_unpack", kdc_status_str(st));
    art = unpack_buf;
#else
    if (info.flags & KDC_FLAG_COMPRESSED) return fail("mode", "the artifact is compressed");
#endif
    st = kdc_init(&model, art, art_len, arena, sizeof arena, 0);
    if (st != KDC_OK) return fail("kdc_init", kdc_status_str(st));
    in_bytes = kdc_input(&model).size;
    out_bytes = kdc_output(&model).size;
    p = put_field(begin_record("model"), "artifact_bytes", (uint32_t)info.total_bytes);
    p = put_str(p, (info.flags & KDC_FLAG_COMPRESSED) ? ",\"compressed\":true"
                                                      : ",\"compressed\":false");
    p = put_field(put_field(p, "arena_bytes", (uint32_t)sizeof arena), "unpack_bytes", UNPACK_RAM);
    end_record(put_field(put_field(p, "input_bytes", (uint32_t)in_bytes), "output_bytes",
                         (uint32_t)out_bytes));
#if FW_PCM
    {
        kdc_stage_info si;
        size_t frames, k, sb = kdc_stream_bytes(&model);
        if (kdc_stage(&model, &si) != KDC_OK || si.kind != KDC_STAGE_AUDIO)
            return fail("kdc_stage", "FW_PCM needs a model with an audio input stage");
        if (sb > sizeof stream_buf) return fail("stream", "kdc_stream_bytes > FW_STREAM_BYTES");
        end_record(
            put_field(put_field(put_field(begin_record("frontend"), "stream_bytes", (uint32_t)sb),
                                "scratch_bytes", (uint32_t)si.scratch_bytes),
                      "frames", (uint32_t)si.frames));
        n = fw_pcm_count;
        if (FW_LIMIT > 0 && n > FW_LIMIT) n = FW_LIMIT;
        for (i = 0; i < n; i++) { /* whole clip: features straight into the input tensor */
            const int16_t *x = fw_pcm + (size_t)i * fw_pcm_samples;
            for (r = 0; r < FW_REPEATS; r++) {
                st = kdc_frontend_features(&model, x, fw_pcm_samples, kdc_input(&model).data,
                                           in_bytes, &frames, stream_buf, sizeof stream_buf);
                if (st != KDC_OK) return fail("kdc_frontend_features", kdc_status_str(st));
            }
            if (frames != si.frames) return fail("pcm", "a clip's frames differ from the model's");
            st = kdc_invoke(&model);
            if (st != KDC_OK) return fail("kdc_invoke", kdc_status_str(st));
            print_output(i, kdc_output(&model).data, out_bytes);
        }
        for (i = 0; i < n; i++) { /* streamed in chunks, a run every hop once the ring is full */
            const int16_t *x = fw_pcm + (size_t)i * fw_pcm_samples;
            st = kdc_stream_init(&stream, &model, stream_buf, sizeof stream_buf, 1, on_stream_run,
                                 0);
            if (st != KDC_OK) return fail("kdc_stream_init", kdc_status_str(st));
            stream_out_len = 0;
            for (k = 0; k < fw_pcm_samples; k += FW_CHUNK) {
                size_t take = fw_pcm_samples - k < FW_CHUNK ? fw_pcm_samples - k : FW_CHUNK;
                st = kdc_stream_push_pcm(&stream, x + k, take);
                if (st != KDC_OK) return fail("kdc_stream_push_pcm", kdc_status_str(st));
            }
            if (stream.runs != 1 || stream_out_len != out_bytes)
                return fail("stream", "the clip did not give exactly one model run");
            print_output(n + i, stream_out, out_bytes);
        }
    }
#elif FW_SENSOR
    {
        kdc_stage_info si;
        size_t sb = kdc_stream_bytes(&model), c, len, off = 0, k, w = 0, total = 0, runs, chunk = 0;
        if (kdc_stage(&model, &si) != KDC_OK || si.kind != KDC_STAGE_SENSOR)
            return fail("kdc_stage", "FW_SENSOR needs a model with a sensor input stage");
        if (sb > sizeof stream_buf) return fail("stream", "kdc_stream_bytes > FW_STREAM_BYTES");
        c = si.features;
        len = si.frames;
        if (len * c != in_bytes) return fail("sensor", "the stage's window differs from the input");
        end_record(
            put_field(put_field(put_field(begin_record("frontend"), "stream_bytes", (uint32_t)sb),
                                "scratch_bytes", (uint32_t)si.scratch_bytes),
                      "frames", (uint32_t)si.frames));
        n = fw_sensor_count;
        if (FW_LIMIT > 0 && n > FW_LIMIT) n = FW_LIMIT;
        for (i = 0; i < n; i++) { /* one window at a time, straight into the input tensor */
            const float *x = fw_sensor + off * c;
            for (k = 0; k + len <= fw_sensor_steps[i]; k += fw_sensor_stride) {
                for (r = 0; r < (w == 0 ? FW_REPEATS : 1); r++) { /* the first window only */
                    st = kdc_sensor_quantize(&model, x + k * c, len * c, kdc_input(&model).data,
                                             in_bytes);
                    if (st != KDC_OK) return fail("kdc_sensor_quantize", kdc_status_str(st));
                }
                st = kdc_invoke(&model);
                if (st != KDC_OK) return fail("kdc_invoke", kdc_status_str(st));
                print_output((uint32_t)w++, kdc_output(&model).data, out_bytes);
            }
            off += fw_sensor_steps[i];
        }
        sensor_record = (uint32_t)w;
        off = 0;
        for (i = 0; i < n; i++) { /* streamed in chunks, a run every stride samples */
            const float *x = fw_sensor + off * c;
            size_t steps = fw_sensor_steps[i];
            st = kdc_stream_init(&stream, &model, stream_buf, sizeof stream_buf, fw_sensor_stride,
                                 on_stream_run, 0);
            if (st != KDC_OK) return fail("kdc_stream_init", kdc_status_str(st));
            for (k = 0; k < steps;) {
                size_t take = fw_chunks[chunk++ % sizeof fw_chunks];
                if (take > steps - k) take = steps - k;
                st = kdc_stream_push_sensor(&stream, x + k * c, take * c);
                if (st != KDC_OK) return fail("kdc_stream_push_sensor", kdc_status_str(st));
                k += take;
            }
            runs = steps < len ? 0 : (steps - len) / fw_sensor_stride + 1;
            if (stream.runs != runs)
                return fail("stream", "a recording did not give one model run per window");
            total += runs;
            off += steps;
        }
        if (total != w) return fail("stream", "the streamed runs differ from the windows");
        n = (uint32_t)w;
    }
#else
    if (fw_input_bytes != in_bytes)
        return fail("inputs", "fw_input_bytes differs from the model's input size");

    n = fw_input_count;
    if (FW_LIMIT > 0 && n > FW_LIMIT) n = FW_LIMIT;
    for (i = 0; i < n; i++) {
        for (r = 0; r < FW_REPEATS; r++) {
            /* later tensors may reuse the input's arena bytes: copy the input before each run */
            memcpy(kdc_input(&model).data, fw_inputs + (size_t)i * in_bytes, in_bytes);
            st = kdc_invoke(&model);
            if (st != KDC_OK) return fail("kdc_invoke", kdc_status_str(st));
        }
        print_output(i, kdc_output(&model).data, out_bytes);
    }
#endif

    data_bytes = (uint32_t)((uintptr_t)__data_end__ - (uintptr_t)__data_start__);
    bss_bytes = (uint32_t)((uintptr_t)__bss_end__ - (uintptr_t)__bss_start__);
    static_bytes = data_bytes + bss_bytes - (uint32_t)sizeof arena - UNPACK_RAM - STREAM_RAM;
    stack_bytes = fw_stack_peak();
    end_record(put_field(put_field(begin_record("run"), "samples", n), "repeats", FW_REPEATS));
    p = put_field(put_field(begin_record("memory"), "arena_bytes", (uint32_t)sizeof arena),
                  "unpack_bytes", UNPACK_RAM);
    p = put_field(p, "stream_bytes", STREAM_RAM);
    p = put_field(put_field(put_field(p, "data_bytes", data_bytes), "bss_bytes", bss_bytes),
                  "static_bytes", static_bytes);
    p = put_field(put_field(p, "stack_bytes", stack_bytes), "stack_size", fw_stack_size());
    end_record(
        put_field(p, "ram_bytes",
                  (uint32_t)sizeof arena + UNPACK_RAM + STREAM_RAM + static_bytes + stack_bytes));
    if (stack_bytes >= fw_stack_size())
        return fail("stack", "the stack region overflowed; hint: raise STACK_SIZE");
    end_record(begin_record("done"));
    return 0;
}
