/* malformed.h - the malformed-artifact table: one commented row each, a golden model patched
 * (fields by their names in src/kdc_format.h), CRCs re-sealed as the row says, and the exact
 * status the row's call must return. Shared by tests/test_kdc.c (which runs each row) and
 * tests/write_malformed.c (which writes each row's bytes as a file for `make verdicts`).
 * Include after golden_models.h. */
#ifndef MALFORMED_H
#define MALFORMED_H

#include <string.h>

#include "kdc.h"
#include "kdc_format.h"

enum { R_ABS, R_BODY, R_TENSOR, R_OP, R_MULT0, R_SHIFT0, R_CONST, R_STAGE };
enum { SET, ADD, XOR };
enum { FIX_NONE, FIX_HDR, FIX_ALL };
enum { CALL_INIT, CALL_INIT_SKIP, CALL_UNPACK, CALL_QUERY, CALL_INIT_NULL };
enum {
    MLP = 0,
    MLPZ = 1,
    CNN = 2,
    LEAKY = 5,
    TFL = 7,
    AUDIO = 9,
    MFCC = 11,
    SENSOR = 13
}; /* golden_models[] index */

/* Patch `width` bytes (little-endian) at `field` of record `index` of `region` (R_ABS: artifact
 * offset; R_MULT0/R_SHIFT0: into op index's multiplier/shift array; R_CONST: const offset;
 * R_STAGE: offset in the input-stage block, which the golden models put right after the
 * constants). */
typedef struct {
    int region, index, field, width, mode;
    uint32_t value;
} patch;

typedef struct {
    const char *what;
    int model, call, fix;
    long len_delta; /* change the length passed: -1..-999 bytes; -100000: 31 bytes;
                       -1000000: flip the last byte (Adler-32) instead */
    int misalign, arena_delta, dst_delta;
    patch p[3];
    kdc_status want;
} bad_row;

#define P(r, i, f, w, m, v)                                                                        \
    {                                                                                              \
        r, i, f, w, m, v                                                                           \
    }
#define NOP                                                                                        \
    {                                                                                              \
        0, 0, 0, 0, 0, 0                                                                           \
    }
#define DIM(i) (KDC__TENSOR_DIMS + 2 * (i))

/* clang-format off */
static const bad_row bad_rows[] = {
    /* header */
    {"truncated header (31 bytes)", MLP, CALL_QUERY, FIX_NONE, -100000, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_TRUNCATED},
    {"truncated body (one byte short)", MLP, CALL_INIT, FIX_NONE, -1, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_TRUNCATED},
    {"bad magic", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_MAGIC, 1, SET, 'X'), NOP, NOP}, KDC_ERR_MAGIC},
    {"bad version", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_VERSION, 2, SET, 2), NOP, NOP}, KDC_ERR_VERSION},
    {"bad header CRC", MLP, CALL_INIT, FIX_NONE, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_HEADER_CRC, 4, XOR, 1), NOP, NOP}, KDC_ERR_HEADER_CRC},
    {"header field changed, CRC not", MLP, CALL_QUERY, FIX_NONE, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_ARENA_BYTES, 4, ADD, 1), NOP, NOP}, KDC_ERR_HEADER_CRC},
    {"header size not 32", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_HEADER_SIZE, 2, SET, 48), NOP, NOP}, KDC_ERR_HEADER},
    {"reserved header field set", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_RESERVED, 2, SET, 1), NOP, NOP}, KDC_ERR_HEADER},
    {"unknown flag bit", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_FLAGS, 2, SET, 32), NOP, NOP}, KDC_ERR_HEADER},
    {"input-stage flag without a block", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_FLAGS, 2, SET, 16), NOP, NOP}, KDC_ERR_STAGE},
    {"stored body: raw != stored", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_RAW_BYTES, 4, ADD, 4), NOP, NOP}, KDC_ERR_HEADER},
    {"stored length past the end", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_STORED_BYTES, 4, ADD, 4), P(R_ABS, 0, KDC__HDR_RAW_BYTES, 4, ADD, 4), NOP}, KDC_ERR_TRUNCATED},
    {"stored length 4 GiB", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_STORED_BYTES, 4, SET, 0xffffffffu), P(R_ABS, 0, KDC__HDR_RAW_BYTES, 4, SET, 0xffffffffu), NOP}, KDC_ERR_HEADER},
    {"raw body smaller than body header", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_STORED_BYTES, 4, SET, 20), P(R_ABS, 0, KDC__HDR_RAW_BYTES, 4, SET, 20), NOP}, KDC_ERR_HEADER},
    {"arena bytes 0", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_ARENA_BYTES, 4, SET, 0), NOP, NOP}, KDC_ERR_HEADER},
    {"body CRC mismatch", MLP, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_CONST, 0, 5, 1, XOR, 0x40), NOP, NOP}, KDC_ERR_BODY_CRC},
    {"body CRC mismatch, CRC skipped: loads", MLP, CALL_INIT_SKIP, FIX_HDR, 0, 0, 0, 0, {P(R_CONST, 0, 5, 1, XOR, 0x40), NOP, NOP}, KDC_OK},
    {"misaligned buffer", MLP, CALL_INIT, FIX_NONE, 0, 1, 0, 0, {NOP, NOP, NOP}, KDC_ERR_ALIGN},
    {"NULL model", MLP, CALL_INIT_NULL, FIX_NONE, 0, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_NULL},
    {"arena too small", MLP, CALL_INIT, FIX_NONE, 0, 0, -1, 0, {NOP, NOP, NOP}, KDC_ERR_ARENA_TOO_SMALL},
    {"init on a compressed artifact", MLPZ, CALL_INIT, FIX_NONE, 0, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_COMPRESSED},
    {"unpack on a stored artifact", MLP, CALL_UNPACK, FIX_NONE, 0, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_NOT_COMPRESSED},
    /* compressed */
    {"compressed: declared raw size too big", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_RAW_BYTES, 4, ADD, 1), NOP, NOP}, KDC_ERR_RAW_SIZE},
    {"compressed: declared raw size too small", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_RAW_BYTES, 4, ADD, 0xffffffffu), NOP, NOP}, KDC_ERR_RAW_SIZE},
    {"compressed: truncated stream", MLPZ, CALL_UNPACK, FIX_NONE, -1, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_TRUNCATED},
    {"compressed: stored length shorter than stream", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_STORED_BYTES, 4, ADD, 0xffffffffu), NOP, NOP}, KDC_ERR_INFLATE},
    {"compressed: stored length < 6", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_STORED_BYTES, 4, SET, 5), NOP, NOP}, KDC_ERR_HEADER},
    {"compressed: bad zlib header", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_BYTES, 1, SET, 0x79), NOP, NOP}, KDC_ERR_INFLATE},
    {"compressed: Adler-32 mismatch", MLPZ, CALL_UNPACK, FIX_NONE, -1000000, 0, 0, 0, {NOP, NOP, NOP}, KDC_ERR_ADLER32},
    {"compressed: body CRC field wrong", MLPZ, CALL_UNPACK, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_BODY_CRC, 4, XOR, 1), NOP, NOP}, KDC_ERR_BODY_CRC},
    {"compressed: dst one byte short", MLPZ, CALL_UNPACK, FIX_NONE, 0, 0, 0, -1, {NOP, NOP, NOP}, KDC_ERR_DST_TOO_SMALL},
    /* body layout */
    {"tensor table past the end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_TENSORS_OFFSET, 4, SET, 0xffffff00u), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"tensor table misaligned", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_TENSORS_OFFSET, 4, ADD, 2), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"tensor table inside body header", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_TENSORS_OFFSET, 4, SET, 4), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"op count past the end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_N_OPS, 2, SET, 0xffff), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"zero ops", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_N_OPS, 2, SET, 0), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"constant section past the end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_CONST_BYTES, 4, ADD, 1), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"constant section offset wraps", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_CONST_OFFSET, 4, SET, 0xfffffffcu), NOP, NOP}, KDC_ERR_BODY_LAYOUT},
    {"graph input id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_INPUT_ID, 2, SET, 3), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"graph output id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_OUTPUT_ID, 2, SET, 0xffff), NOP, NOP}, KDC_ERR_TENSOR_ID},
    /* tensors */
    {"tensor rank 0", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_RANK, 1, SET, 0), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor rank 5", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_RANK, 1, SET, 5), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor dtype not int8", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_DTYPE, 1, SET, 1), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor dim 0", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, DIM(1), 2, SET, 0), NOP, NOP}, KDC_ERR_TENSOR},
    {"unused dim not 1", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, DIM(2), 2, SET, 2), NOP, NOP}, KDC_ERR_TENSOR},
    {"byte size != dims product", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_BYTE_SIZE, 4, ADD, 1), NOP, NOP}, KDC_ERR_TENSOR},
    {"shape product overflow", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_RANK, 1, SET, 4), P(R_TENSOR, 1, DIM(0), 4, SET, 0xffffffffu), P(R_TENSOR, 1, DIM(2), 4, SET, 0xffffffffu)}, KDC_ERR_SHAPE_OVERFLOW},
    {"scale NaN", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_SCALE, 4, SET, 0x7fc00000u), NOP, NOP}, KDC_ERR_TENSOR},
    {"scale zero", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_SCALE, 4, SET, 0), NOP, NOP}, KDC_ERR_TENSOR},
    {"scale negative", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_SCALE, 4, SET, 0xbf800000u), NOP, NOP}, KDC_ERR_TENSOR},
    {"zero point 128", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_ZERO_POINT, 4, SET, 128), NOP, NOP}, KDC_ERR_TENSOR},
    {"reserved tensor field set", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_RESERVED2, 4, SET, 1), NOP, NOP}, KDC_ERR_TENSOR},
    {"tensor past the arena end", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_ARENA_OFFSET, 4, ADD, 1), NOP, NOP}, KDC_ERR_ARENA_RANGE},
    {"tensor offset wraps", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 1, KDC__TENSOR_ARENA_OFFSET, 4, SET, 0xfffffff0u), NOP, NOP}, KDC_ERR_ARENA_RANGE},
    /* ops */
    {"unknown op code 99", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_CODE, 1, SET, 99), NOP, NOP}, KDC_ERR_OPCODE},
    {"op code 0", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_CODE, 1, SET, 0), NOP, NOP}, KDC_ERR_OPCODE},
    {"op output id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_OUTPUT, 2, SET, 3), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"op input id out of range", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_INPUT0, 2, SET, 999), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"second input on a one-input op", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_INPUT1, 2, SET, 0), NOP, NOP}, KDC_ERR_TENSOR_ID},
    {"act_min > act_max", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_ACT_MIN, 1, SET, 10), P(R_OP, 0, KDC__OP_ACT_MAX, 1, SET, 5), NOP}, KDC_ERR_OP_PARAM},
    {"reserved op byte set", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_RESERVED, 1, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"unused FC parameter set", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_PARAMS, 4, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"op writes the graph input", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_OUTPUT, 2, SET, 0), NOP, NOP}, KDC_ERR_GRAPH},
    {"op reads a tensor not yet produced", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_INPUT0, 2, SET, 2), NOP, NOP}, KDC_ERR_GRAPH},
    {"tensor written twice", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_OUTPUT, 2, SET, 1), NOP, NOP}, KDC_ERR_GRAPH},
    {"graph output never produced", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_OUTPUT_ID, 2, SET, 0), NOP, NOP}, KDC_ERR_GRAPH},
    {"output overlaps input", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 2, KDC__TENSOR_ARENA_OFFSET, 4, SET, 780), NOP, NOP}, KDC_ERR_ALIAS},
    {"weights past the constant section", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_WEIGHTS_OFFSET, 4, ADD, 100000), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"weights offset wraps", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_WEIGHTS_OFFSET, 4, SET, 0xfffffff0u), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"bias misaligned", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_BIAS_OFFSET, 4, ADD, 2), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"multiplier below 2^30", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 0, 0, 4, SET, 5), NOP, NOP}, KDC_ERR_QPARAM},
    {"multiplier negative", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 1, 4, 4, SET, 0x80000000u), NOP, NOP}, KDC_ERR_QPARAM},
    {"shift 31", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_SHIFT0, 0, 0, 4, SET, 31), NOP, NOP}, KDC_ERR_QPARAM},
    {"shift -32", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_SHIFT0, 1, 0, 4, SET, 0xffffffe0u), NOP, NOP}, KDC_ERR_QPARAM},
    {"multiplier 0 is allowed", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 0, 0, 4, SET, 0), NOP, NOP}, KDC_OK},
    /* spatial ops (CNN: 0 conv, 1 dw, 2 conv1x1, 3 add, 4 clamp, 5 maxpool, 6 avgpool, 7 gap, 8 reshape, 9 fc) */
    {"conv stride 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_STRIDE_H, 2, SET, 0), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv kernel 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_K_W, 2, SET, 0), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv pad >= kernel", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_PAD_TOP, 2, SET, 3), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv depth multiplier set", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_DEPTH_MULT, 2, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"conv last window outside input", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_STRIDE_W, 2, SET, 2), NOP, NOP}, KDC_ERR_SHAPE},
    {"conv input not rank 4", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 0, KDC__TENSOR_RANK, 1, SET, 3), P(R_TENSOR, 0, DIM(3), 2, SET, 1), P(R_TENSOR, 0, DIM(2), 2, SET, 24)}, KDC_ERR_SHAPE},
    {"conv batch 2", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 0, DIM(0), 2, SET, 2), P(R_TENSOR, 0, DIM(2), 2, SET, 6), NOP}, KDC_ERR_SHAPE},
    {"dw depth multiplier 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_DEPTH_MULT, 2, SET, 0), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"dw depth multiplier inconsistent", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_DEPTH_MULT, 2, SET, 3), NOP, NOP}, KDC_ERR_SHAPE},
    {"dw weights past the constant section", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_WEIGHTS_OFFSET, 4, ADD, 2000), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"add output dims differ (same size)", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 4, DIM(1), 2, SET, 36), P(R_TENSOR, 4, DIM(2), 2, SET, 1), NOP}, KDC_ERR_SHAPE},
    {"add input shift > 0", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 3, KDC__OP_ADD_EA, 4, SET, 1), NOP, NOP}, KDC_ERR_QPARAM},
    {"add output multiplier out of range", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 3, KDC__OP_ADD_MO, 4, SET, 7), NOP, NOP}, KDC_ERR_QPARAM},
    {"add reserved parameter set", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 3, KDC__OP_PARAMS + 4 * 7, 4, SET, 7), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"clamp changes zero point", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 5, KDC__TENSOR_ZERO_POINT, 4, ADD, 1), NOP, NOP}, KDC_ERR_SHAPE},
    {"maxpool changes scale", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 6, KDC__TENSOR_SCALE, 4, ADD, 1), NOP, NOP}, KDC_ERR_SHAPE},
    {"maxpool stride past input", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 5, KDC__OP_STRIDE_H, 2, SET, 3), NOP, NOP}, KDC_ERR_SHAPE},
    {"avgpool window 300x300 taps", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 6, KDC__OP_K_H, 2, SET, 300), P(R_OP, 6, KDC__OP_K_W, 2, SET, 300), NOP}, KDC_ERR_OP_PARAM},
    {"gap output size != channels", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 8, DIM(3), 2, SET, 4), P(R_TENSOR, 8, KDC__TENSOR_BYTE_SIZE, 4, SET, 4), NOP}, KDC_ERR_SHAPE},
    {"reshape with a clamp", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 8, KDC__OP_ACT_MAX, 1, SET, 100), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"reshape aliases its input partially", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 9, KDC__TENSOR_ARENA_OFFSET, 4, ADD, 1), NOP, NOP}, KDC_ERR_ALIAS},
    /* LEAKY_RELU (op 1 of the leaky model): two (M, e) pairs in words 0..3, the same dims */
    {"leaky identity multiplier below 2^30", LEAKY, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_LEAKY_M_ID, 4, SET, 0x3fffffffu), NOP, NOP}, KDC_ERR_QPARAM},
    {"leaky identity shift 31", LEAKY, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_LEAKY_E_ID, 4, SET, 31), NOP, NOP}, KDC_ERR_QPARAM},
    {"leaky alpha multiplier negative", LEAKY, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_LEAKY_M_ALPHA, 4, SET, 0x80000000u), NOP, NOP}, KDC_ERR_QPARAM},
    {"leaky alpha shift -32", LEAKY, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_LEAKY_E_ALPHA, 4, SET, 0xffffffe0u), NOP, NOP}, KDC_ERR_QPARAM},
    {"leaky alpha 0 is allowed", LEAKY, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_LEAKY_M_ALPHA, 4, SET, 0), P(R_OP, 1, KDC__OP_LEAKY_E_ALPHA, 4, SET, 0), NOP}, KDC_OK},
    {"leaky unused parameter word 4 set", LEAKY, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_PARAMS + 4 * 4, 4, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"leaky output dims differ (same size)", LEAKY, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 2, DIM(0), 2, SET, 2), P(R_TENSOR, 2, DIM(1), 2, SET, 12), NOP}, KDC_ERR_SHAPE},
    /* TFLite arithmetic (the tfl model: CONV, ADD, RESHAPE, FC, SOFTMAX; header flag bit 1) */
    {"tfl float input and output flags are allowed", TFL, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_FLAGS, 2, SET, 14), NOP, NOP}, KDC_OK},
    {"tfl model read in kdc arithmetic (FC scales as (M, e))", TFL, CALL_INIT, FIX_HDR, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_FLAGS, 2, SET, 0), NOP, NOP}, KDC_ERR_QPARAM},
    {"tfl FC scale negative", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_SHIFT0, 3, 0, 4, SET, 0xbf800000u), NOP, NOP}, KDC_ERR_QPARAM},
    {"tfl FC scale infinite", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 3, 0, 4, SET, 0), P(R_SHIFT0, 3, 0, 4, SET, 0x7ff00000u), NOP}, KDC_ERR_QPARAM},
    {"tfl FC scale +0 is allowed", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_MULT0, 3, 0, 4, SET, 0), P(R_SHIFT0, 3, 0, 4, SET, 0), NOP}, KDC_OK},
    {"softmax multiplier below 2^30", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 4, KDC__OP_SOFTMAX_M, 4, SET, 0x3fffffffu), NOP, NOP}, KDC_ERR_QPARAM},
    {"softmax left shift 32", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 4, KDC__OP_SOFTMAX_LEFT, 4, SET, 32), NOP, NOP}, KDC_ERR_QPARAM},
    {"softmax diff_min not the input radius", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 4, KDC__OP_SOFTMAX_DIFF_MIN, 4, ADD, 1), NOP, NOP}, KDC_ERR_QPARAM},
    {"softmax output scale not 1/256", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 5, KDC__TENSOR_SCALE, 4, ADD, 1), NOP, NOP}, KDC_ERR_QPARAM},
    {"softmax output zero point not -128", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 5, KDC__TENSOR_ZERO_POINT, 4, SET, 0xffffff81u), NOP, NOP}, KDC_ERR_QPARAM},
    {"softmax with a clamp", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 4, KDC__OP_ACT_MIN, 1, SET, 0x81), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"softmax unused parameter word 3 set", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 4, KDC__OP_PARAMS + 3 * 4, 4, SET, 1), NOP, NOP}, KDC_ERR_OP_PARAM},
    {"softmax output dims differ (same size)", TFL, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 5, DIM(0), 2, SET, 2), P(R_TENSOR, 5, DIM(1), 2, SET, 5), NOP}, KDC_ERR_SHAPE},
    /* SOFTMAX is a TFLite-mode op: in a kdc-mode artifact (header flag bit 1 clear) its first rule refuses it, whatever its fields */
    {"softmax in a kdc-arithmetic artifact (the cnn clamp as op 11)", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 4, KDC__OP_CODE, 1, SET, KDC_OP_SOFTMAX), P(R_OP, 4, KDC__OP_ACT_MIN, 1, SET, 0x80), P(R_OP, 4, KDC__OP_ACT_MAX, 1, SET, 0x7f)}, KDC_ERR_OPCODE},
    /* canonical graph order (docs/FORMAT.md 3.3): input 0, op i writes tensor i + 1 */
    {"graph input not tensor 0", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_INPUT_ID, 2, SET, 1), NOP, NOP}, KDC_ERR_GRAPH},
    {"n_tensors != n_ops + 1", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_BODY, 0, KDC__BODY_N_OPS, 2, SET, 1), NOP, NOP}, KDC_ERR_GRAPH},
    {"ops write their tensors out of order", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_OUTPUT, 2, SET, 2), P(R_OP, 1, KDC__OP_OUTPUT, 2, SET, 1), P(R_OP, 1, KDC__OP_INPUT0, 2, SET, 2)}, KDC_ERR_GRAPH},
    {"op reads its own output", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_INPUT0, 2, SET, 2), NOP, NOP}, KDC_ERR_GRAPH},
    {"add reads a tensor written later", CNN, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 3, KDC__OP_INPUT1, 2, SET, 5), NOP, NOP}, KDC_ERR_GRAPH},
    /* constant arrays in op order, without overlap */
    {"two ops share the weights", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_WEIGHTS_OFFSET, 4, SET, 0), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"bias starts inside the weights", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_BIAS_OFFSET, 4, ADD, 0xfffffffcu), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"multipliers overlap the bias", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 0, KDC__OP_MULT_OFFSET, 4, ADD, 0xfffffffcu), NOP, NOP}, KDC_ERR_CONST_RANGE},
    {"shifts before the multipliers", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_MULT_OFFSET, 4, ADD, 40), P(R_OP, 1, KDC__OP_SHIFT_OFFSET, 4, ADD, 0xffffffd8u), NOP}, KDC_ERR_CONST_RANGE},
    {"op 1's weights overlap op 0's shifts", MLP, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_OP, 1, KDC__OP_WEIGHTS_OFFSET, 4, ADD, 0xfffffffcu), NOP, NOP}, KDC_ERR_CONST_RANGE},
    /* input stage (docs/FORMAT.md 3.7; the audio model: 8 kHz, W 100, hop 50, N 128, M 10, log-mel,
     * 6 frames; tables at 48: window 200 bytes, twiddles 512, bands 40 (at 760), weights (at 800)) */
    {"stage: unknown kind", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_KIND, 2, SET, 3), NOP, NOP}, KDC_ERR_STAGE},
    {"stage: reserved set", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_RESERVED, 2, SET, 1), NOP, NOP}, KDC_ERR_STAGE},
    {"stage: block bytes not a multiple of 4", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_BYTES, 4, ADD, 2), NOP, NOP}, KDC_ERR_STAGE},
    {"stage: block past the body", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_BYTES, 4, ADD, 4), NOP, NOP}, KDC_ERR_STAGE},
    {"stage: block bytes 4 GiB", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_BYTES, 4, SET, 0xfffffffcu), NOP, NOP}, KDC_ERR_STAGE},
    {"stage: 0 frames", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_FRAMES, 4, SET, 0), NOP, NOP}, KDC_ERR_STAGE},
    {"stage: frames x features != input size", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_FRAMES, 4, ADD, 1), NOP, NOP}, KDC_ERR_STAGE},
    {"stage: features 2^16 (frames x features wraps to the input size)", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_FEATURES, 4, ADD, 0x10000), P(R_STAGE, 0, KDC__STAGE_FRAMES, 4, ADD, 0x10000), NOP}, KDC_ERR_STAGE},
    {"stage: features != mel bins", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_FEATURES, 4, SET, 20), P(R_STAGE, 0, KDC__STAGE_FRAMES, 4, SET, 3), NOP}, KDC_ERR_STAGE},
    {"audio: 0 Hz sample rate", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_SAMPLE_RATE, 4, SET, 0), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: sample rate above 192 kHz", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_SAMPLE_RATE, 4, SET, 192001), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: fft size not a power of two", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_FFT_SIZE, 2, SET, 129), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: fft size 8192", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_FFT_SIZE, 2, SET, 8192), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: fft size 8", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_FFT_SIZE, 2, SET, 8), P(R_STAGE, 0, KDC__AUDIO_WINDOW, 2, SET, 8), P(R_STAGE, 0, KDC__AUDIO_HOP, 2, SET, 8)}, KDC_ERR_STAGE},
    {"audio: window longer than the fft", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_WINDOW, 2, SET, 129), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: window of 1 sample", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_WINDOW, 2, SET, 1), P(R_STAGE, 0, KDC__AUDIO_HOP, 2, SET, 1), NOP}, KDC_ERR_STAGE},
    {"audio: hop 0", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_HOP, 2, SET, 0), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: hop longer than the window", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_HOP, 2, SET, 101), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: 0 mel bins", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_MEL_BINS, 2, SET, 0), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: 129 mel bins", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_MEL_BINS, 2, SET, 129), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: more coefficients than mel bins", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_COEFFICIENTS, 2, SET, 11), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: reserved set", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_RESERVED, 2, SET, 1), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: negative low_hz", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_LOW_HZ + 4, 4, XOR, 0x80000000u), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: low_hz == high_hz", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_LOW_HZ + 4, 4, SET, 0x40AF4000u), P(R_STAGE, 0, KDC__AUDIO_LOW_HZ, 4, SET, 0), NOP}, KDC_ERR_STAGE},
    {"audio: high_hz above the Nyquist frequency (8000 Hz at 8 kHz)", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_HIGH_HZ + 4, 4, SET, 0x40BF4000u), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: high_hz NaN", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_HIGH_HZ + 4, 4, SET, 0x7FF80000u), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: input zero point not the front end's (-80)", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 0, KDC__TENSOR_ZERO_POINT, 4, SET, (uint32_t)-79), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: input scale not the front end's (0.25)", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 0, KDC__TENSOR_SCALE, 4, SET, 0x3F000000u), NOP, NOP}, KDC_ERR_STAGE},
    {"mfcc: input scale not the front end's (0.5)", MFCC, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_TENSOR, 0, KDC__TENSOR_SCALE, 4, SET, 0x3E800000u), P(R_TENSOR, 0, KDC__TENSOR_ZERO_POINT, 4, SET, (uint32_t)-80), NOP}, KDC_ERR_STAGE},
    {"audio: negative window value", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_TABLES + 2, 2, SET, 0x8000), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: twiddle above 2^30", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_TABLES + 200, 4, ADD, 1), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: twiddle below -2^30", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_TABLES + 200 + 256, 4, SET, 0xBFFFFFFFu), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: mel band past bin N/2", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 760, 2, SET, 0xFFFF), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: mel band counts more weights than stored", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 762, 2, ADD, 2), P(R_STAGE, 0, 760, 2, SET, 0), NOP}, KDC_ERR_STAGE},
    {"audio: mel weight above 32768", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 800, 2, SET, 32769), NOP, NOP}, KDC_ERR_STAGE},
    {"audio: mel weight 32768 is allowed", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 800, 2, SET, 32768), NOP, NOP}, KDC_OK},
    {"audio: any window 0..32767 is allowed", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__AUDIO_TABLES + 2, 2, SET, 32767), NOP, NOP}, KDC_OK},
    {"audio: flag cleared, block ignored", AUDIO, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_FLAGS, 2, SET, 0), NOP, NOP}, KDC_OK},
    {"audio: truncated by 4 bytes (raw size too)", AUDIO, CALL_INIT, FIX_ALL, -4, 0, 0, 0, {P(R_ABS, 0, KDC__HDR_RAW_BYTES, 4, ADD, 0xfffffffcu), P(R_ABS, 0, KDC__HDR_STORED_BYTES, 4, ADD, 0xfffffffcu), NOP}, KDC_ERR_STAGE},
    /* sensor model: 8 samples x 3 channels; mean, std, k float32 from byte 16 */
    {"sensor: NaN mean", SENSOR, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 16, 4, SET, 0x7FC00000u), NOP, NOP}, KDC_ERR_STAGE},
    {"sensor: std 0", SENSOR, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 16 + 12 + 4, 4, SET, 0), NOP, NOP}, KDC_ERR_STAGE},
    {"sensor: negative k", SENSOR, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 16 + 24 + 8, 4, XOR, 0x80000000u), NOP, NOP}, KDC_ERR_STAGE},
    {"sensor: infinite k", SENSOR, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, 16 + 24, 4, SET, 0x7F800000u), NOP, NOP}, KDC_ERR_STAGE},
    {"sensor: block bytes for another channel count", SENSOR, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_BYTES, 4, ADD, 0xfffffff4u), NOP, NOP}, KDC_ERR_STAGE},
    {"sensor: channels != the input's last dimension", SENSOR, CALL_INIT, FIX_ALL, 0, 0, 0, 0, {P(R_STAGE, 0, KDC__STAGE_FEATURES, 4, SET, 1), P(R_STAGE, 0, KDC__STAGE_FRAMES, 4, SET, 24), NOP}, KDC_ERR_STAGE},
};
/* clang-format on */

#define BAD_ROWS (sizeof bad_rows / sizeof bad_rows[0])

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
    const uint8_t *b = a + KDC__HDR_BYTES;
    uint32_t t_off = rd32le(b + KDC__BODY_TENSORS_OFFSET), o_off = rd32le(b + KDC__BODY_OPS_OFFSET),
             c_off = rd32le(b + KDC__BODY_CONST_OFFSET),
             c_bytes = rd32le(b + KDC__BODY_CONST_BYTES);
    const uint8_t *op = b + o_off + KDC__OP_RECORD_BYTES * p->index;
    size_t body = KDC__HDR_BYTES;
    switch (p->region) {
    case R_ABS: return (size_t)p->field;
    case R_BODY: return body + (size_t)p->field;
    case R_TENSOR: return body + t_off + KDC__TENSOR_RECORD_BYTES * (size_t)p->index + p->field;
    case R_OP: return body + o_off + KDC__OP_RECORD_BYTES * (size_t)p->index + p->field;
    case R_MULT0: return body + c_off + rd32le(op + KDC__OP_MULT_OFFSET) + p->field;
    case R_SHIFT0: return body + c_off + rd32le(op + KDC__OP_SHIFT_OFFSET) + p->field;
    case R_STAGE: return body + ((c_off + c_bytes + 3u) & ~3u) + p->field;
    default: return body + c_off + p->field;
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

/* The artifact bytes of row r in a (room for the golden model): patched, the body CRC (FIX_ALL)
 * and the header CRC (FIX_HDR, FIX_ALL) re-sealed, truncated or its last byte flipped as
 * len_delta says. Returns the length. */
static size_t row_bytes(const bad_row *r, uint8_t *a)
{
    const struct golden_model *g = &golden_models[r->model];
    size_t len = g->len, i;
    memcpy(a, g->bytes, g->len);
    for (i = 0; i < 3; i++) apply(a, len, &r->p[i]);
    if (r->len_delta == -1000000) a[len - 1] ^= 1; /* last byte (Adler-32) */
    if (r->fix == FIX_ALL)
        wr32le(a + KDC__HDR_BODY_CRC,
               kdc_crc32(0, a + KDC__HDR_BYTES, rd32le(a + KDC__HDR_RAW_BYTES)));
    if (r->fix != FIX_NONE) wr32le(a + KDC__HDR_HEADER_CRC, kdc_crc32(0, a, KDC__HDR_HEADER_CRC));
    if (r->len_delta == -100000)
        len = KDC__HDR_BYTES - 1;
    else if (r->len_delta < 0 && r->len_delta > -1000)
        len -= (size_t)-r->len_delta;
    return len;
}

#endif /* MALFORMED_H */
