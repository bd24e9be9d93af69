/* kdc_format.h - the artifact format v1 (docs/FORMAT.md) as named constants: field offsets and
 * record sizes of the header, body header, tensor record and op record, and the format's limits.
 * Internal to the runtime and its tests (not installed with kdc.h).
 *
 * Named once per language: the Python twin is runtime/tests/kdc_format.py, used by both Python
 * generators. tests/print_format.c prints this list (and the op table) as one JSON object,
 * `python3 tests/kdc_format.py --json` prints the Python one, and `make format-check` compares
 * them. Each line is X(NAME, value); offsets are from the start of their record (header: the
 * artifact; body header, tables: the body; tensor and op fields: the record). */
#ifndef KDC_FORMAT_H
#define KDC_FORMAT_H

#include "kdc.h"

/* clang-format off */
#define KDC_FORMAT_CONSTANTS(X) \
    X(FORMAT_VERSION, 1) \
    X(MAGIC_LE32, 0x4D43444B)       /* "KDCM" read as a little-endian u32 */ \
    X(FLAG_COMPRESSED, 1) \
    X(FLAG_TFLITE, 2)               /* TFLite arithmetic */ \
    X(FLAG_FLOAT_INPUT, 4) \
    X(FLAG_FLOAT_OUTPUT, 8) \
    X(FLAG_INPUT_STAGE, 16)         /* an input-stage block follows the constants (3.7) */ \
    X(FLAGS_KNOWN, 31)              /* every other flag bit must be 0 */ \
    X(HDR_MAGIC, 0)                 /* header: u8[4] */ \
    X(HDR_VERSION, 4)               /* u16 */ \
    X(HDR_FLAGS, 6)                 /* u16 */ \
    X(HDR_HEADER_SIZE, 8)           /* u16 */ \
    X(HDR_RESERVED, 10)             /* u16 */ \
    X(HDR_STORED_BYTES, 12)         /* u32 */ \
    X(HDR_RAW_BYTES, 16)            /* u32 */ \
    X(HDR_ARENA_BYTES, 20)          /* u32 */ \
    X(HDR_BODY_CRC, 24)             /* u32 */ \
    X(HDR_HEADER_CRC, 28)           /* u32, CRC-32 of bytes 0..27 */ \
    X(HDR_BYTES, 32) \
    X(BODY_N_TENSORS, 0)            /* body header: u16 */ \
    X(BODY_N_OPS, 2)                /* u16 */ \
    X(BODY_INPUT_ID, 4)             /* u16 */ \
    X(BODY_OUTPUT_ID, 6)            /* u16 */ \
    X(BODY_TENSORS_OFFSET, 8)       /* u32 */ \
    X(BODY_OPS_OFFSET, 12)          /* u32 */ \
    X(BODY_CONST_OFFSET, 16)        /* u32 */ \
    X(BODY_CONST_BYTES, 20)         /* u32 */ \
    X(BODY_HEADER_BYTES, 24) \
    X(TENSOR_RANK, 0)               /* tensor record: u8 */ \
    X(TENSOR_DTYPE, 1)              /* u8 */ \
    X(TENSOR_RESERVED, 2)           /* u16 */ \
    X(TENSOR_DIMS, 4)               /* u16[4] */ \
    X(TENSOR_SCALE, 12)             /* f32 */ \
    X(TENSOR_ZERO_POINT, 16)        /* i32 */ \
    X(TENSOR_ARENA_OFFSET, 20)      /* u32 */ \
    X(TENSOR_BYTE_SIZE, 24)         /* u32 */ \
    X(TENSOR_RESERVED2, 28)         /* u32 */ \
    X(TENSOR_RECORD_BYTES, 32) \
    X(DTYPE_INT8, 0) \
    X(OP_CODE, 0)                   /* op record: u8 */ \
    X(OP_ACT_MIN, 1)                /* i8 */ \
    X(OP_ACT_MAX, 2)                /* i8 */ \
    X(OP_RESERVED, 3)               /* u8 */ \
    X(OP_INPUT0, 4)                 /* u16 */ \
    X(OP_INPUT1, 6)                 /* u16 */ \
    X(OP_OUTPUT, 8)                 /* u16 */ \
    X(OP_RESERVED2, 10)             /* u16 */ \
    X(OP_PARAMS, 12)                /* 9 parameter words of 4 bytes */ \
    X(OP_PARAM_WORDS, 9) \
    X(OP_K_H, 12)                   /* window params: u16 each */ \
    X(OP_K_W, 14) \
    X(OP_STRIDE_H, 16) \
    X(OP_STRIDE_W, 18) \
    X(OP_PAD_TOP, 20) \
    X(OP_PAD_LEFT, 22) \
    X(OP_DEPTH_MULT, 24) \
    X(OP_WINDOW_RESERVED, 26) \
    X(OP_WEIGHTS_OFFSET, 28)        /* constant params: u32 const offsets */ \
    X(OP_BIAS_OFFSET, 32) \
    X(OP_MULT_OFFSET, 36) \
    X(OP_SHIFT_OFFSET, 40) \
    X(OP_CONST_RESERVED, 44) \
    X(OP_ADD_MA, 12)                /* ADD requant params: i32 each */ \
    X(OP_ADD_EA, 16) \
    X(OP_ADD_MB, 20) \
    X(OP_ADD_EB, 24) \
    X(OP_ADD_MO, 28) \
    X(OP_ADD_EO, 32) \
    X(OP_LEAKY_M_ID, 12)            /* LEAKY_RELU requant params: i32 each */ \
    X(OP_LEAKY_E_ID, 16) \
    X(OP_LEAKY_M_ALPHA, 20) \
    X(OP_LEAKY_E_ALPHA, 24) \
    X(OP_SOFTMAX_M, 12)             /* SOFTMAX params: i32 each */ \
    X(OP_SOFTMAX_LEFT, 16) \
    X(OP_SOFTMAX_DIFF_MIN, 20) \
    X(SOFTMAX_SCALE_BITS, 0x3B800000) /* 1/256, the output scale SOFTMAX requires */ \
    X(SOFTMAX_MAX_DEPTH, 4095)      /* the sum of exps stays below 2^31 */ \
    X(OP_RECORD_BYTES, 48) \
    X(NO_TENSOR, 0xFFFF)            /* input1 of a one-input op */ \
    X(MAX_REDUCE, 65536)            /* FC K, conv k_h*k_w*C_in, window k_h*k_w */ \
    X(MAX_GAP_TAPS, 16777216)       /* GLOBAL_AVERAGE_POOL H*W */ \
    X(STAGE_KIND, 0)                /* input-stage block (3.7): u16 */ \
    X(STAGE_RESERVED, 2)            /* u16 */ \
    X(STAGE_BYTES, 4)               /* u32, the whole block */ \
    X(STAGE_FRAMES, 8)              /* u32 */ \
    X(STAGE_FEATURES, 12)           /* u32, per frame (sensor: channels) */ \
    X(STAGE_HEADER_BYTES, 16) \
    X(STAGE_AUDIO, 1) \
    X(STAGE_SENSOR, 2) \
    X(AUDIO_SAMPLE_RATE, 16)        /* audio parameters: u32 */ \
    X(AUDIO_WINDOW, 20)             /* u16 each */ \
    X(AUDIO_HOP, 22) \
    X(AUDIO_FFT_SIZE, 24) \
    X(AUDIO_MEL_BINS, 26) \
    X(AUDIO_COEFFICIENTS, 28) \
    X(AUDIO_RESERVED, 30) \
    X(AUDIO_LOW_HZ, 32)             /* f64 */ \
    X(AUDIO_HIGH_HZ, 40)            /* f64 */ \
    X(AUDIO_TABLES, 48)             /* window, twiddles, mel bands, weights, DCT */ \
    X(AUDIO_MAX_RATE, 192000) \
    X(AUDIO_FFT_MIN, 16) \
    X(AUDIO_FFT_MAX, 4096) \
    X(AUDIO_MAX_MEL, 128) \
    X(AUDIO_Q30, 1073741824)        /* |twiddle| bound */ \
    X(LOGMEL_SCALE_BITS, 0x3E800000) /* 0.25: log-mel features, log2 units */ \
    X(LOGMEL_ZERO_POINT, -80) \
    X(MFCC_SCALE_BITS, 0x3F000000)  /* 0.5 */ \
    X(MFCC_ZERO_POINT, 0)
/* clang-format on */

/* KDC__HDR_VERSION, ... (int constants; the runtime assumes a 32-bit int). */
enum {
#define KDC__FORMAT_ENUM(name, value) KDC__##name = value,
    KDC_FORMAT_CONSTANTS(KDC__FORMAT_ENUM)
#undef KDC__FORMAT_ENUM
        KDC__FORMAT_END
};

/* C99 compile-time check: a negative array size if cond is false. */
#define KDC__STATIC_ASSERT(name, cond) typedef char kdc__assert_##name[(cond) ? 1 : -1]

KDC__STATIC_ASSERT(header_bytes, KDC_HEADER_BYTES == KDC__HDR_BYTES);
KDC__STATIC_ASSERT(format_version, KDC_FORMAT_VERSION == KDC__FORMAT_VERSION);
KDC__STATIC_ASSERT(flag_compressed, KDC_FLAG_COMPRESSED == KDC__FLAG_COMPRESSED);
KDC__STATIC_ASSERT(flag_tflite, KDC_FLAG_TFLITE == KDC__FLAG_TFLITE);
KDC__STATIC_ASSERT(flag_float_input, KDC_FLAG_FLOAT_INPUT == KDC__FLAG_FLOAT_INPUT);
KDC__STATIC_ASSERT(flag_float_output, KDC_FLAG_FLOAT_OUTPUT == KDC__FLAG_FLOAT_OUTPUT);
KDC__STATIC_ASSERT(flag_input_stage, KDC_FLAG_INPUT_STAGE == KDC__FLAG_INPUT_STAGE);
KDC__STATIC_ASSERT(stage_audio, (int)KDC_STAGE_AUDIO == (int)KDC__STAGE_AUDIO);
KDC__STATIC_ASSERT(stage_sensor, (int)KDC_STAGE_SENSOR == (int)KDC__STAGE_SENSOR);

#endif /* KDC_FORMAT_H */
