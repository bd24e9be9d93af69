/* kdc_ops.h - the op table: every property of an op code in one line, used by validation
 * (kdc_init), kdc_query's op walk and kdc_invoke (whose switch is generated from it, so the
 * kernels are called directly: no function pointers, which the firmware's static stack analysis
 * refuses). Internal (not installed with kdc.h).
 *
 * Line format, strict so that tools can read this file as text (the Swift stack analysis takes
 * the kernel names from it): between the `#define KDC_OP_TABLE(X)` line and the blank line that
 * ends it, one line per op, in op-code order, each exactly
 *
 *     X(code, NAME, inputs, params, consts, same_q, kind, macs, kernel) \
 *
 * after leading spaces: nine fields separated by ", ", no nested parentheses, no comments, every
 * line ending in " \" except the last. Fields:
 *   code    op code in the artifact (docs/FORMAT.md 3.3), decimal; KDC_OP_<NAME> in kdc.h must
 *           have this value (checked at compile time below)
 *   NAME    the op's name, [A-Z0-9_]+
 *   inputs  number of input tensors: 1 (input1 must be 0xFFFF) or 2
 *   params  parameter words the op uses, hex (0x...): bit i stands for the 4 bytes at record
 *           offset 12 + 4*i; words whose bit is clear must be 0
 *   consts  1: words 4..7 are the const offsets of the weights, bias, multiplier and shift
 *           arrays; 0: no constants
 *   same_q  1: the output's scale and zero point must equal input 0's
 *   kind    the kernel's parameter struct and call shape, one of FC, CONV (window and
 *           constants), POOL (window), GAP, ADD, COPY, CLAMP, LEAKY, SOFTMAX (kdc_model.c:
 * KDC__KIND_<kind> here, its union member and decoder case, KDC__SCRATCH_<kind> and
 * KDC__RUN_<kind>) macs    MAC rule for kdc_info.macs: FC (K*N), CONV (output bytes*k_h*k_w*C_in),
 * DW (output bytes*k_h*k_w) or NONE (0) kernel  the one C function kdc_invoke calls for the op, a C
 * identifier (RESHAPE: memcpy, called only when output and input do not share their arena bytes)
 *
 * Every op has its line in every build. SOFTMAX exists in TFLite-mode artifacts only (kdc_init
 * refuses it in a kdc-mode one, KDC_ERR_OPCODE): with KDC_TFLITE 0 its kernel is not built and
 * kdc_model.c compiles its decoder case, scratch query and call out.
 */
#ifndef KDC_OPS_H
#define KDC_OPS_H

#include "kdc.h"
#include "kdc_format.h"

/* clang-format off */
#define KDC_OP_TABLE(X) \
    X(1, FULLY_CONNECTED, 1, 0x0f0, 1, 0, FC, FC, kdc_fc_s8) \
    X(2, CONV_2D, 1, 0x0f7, 1, 0, CONV, CONV, kdc_conv2d_s8) \
    X(3, DEPTHWISE_CONV_2D, 1, 0x0ff, 1, 0, CONV, DW, kdc_dwconv2d_s8) \
    X(4, MAX_POOL_2D, 1, 0x007, 0, 1, POOL, NONE, kdc_maxpool_s8) \
    X(5, AVERAGE_POOL_2D, 1, 0x007, 0, 1, POOL, NONE, kdc_avgpool_s8) \
    X(6, GLOBAL_AVERAGE_POOL, 1, 0x000, 0, 1, GAP, NONE, kdc_global_avgpool_s8) \
    X(7, ADD, 2, 0x03f, 0, 0, ADD, NONE, kdc_add_s8) \
    X(8, RESHAPE, 1, 0x000, 0, 1, COPY, NONE, memcpy) \
    X(9, CLAMP, 1, 0x000, 0, 1, CLAMP, NONE, kdc_clamp_s8) \
    X(10, LEAKY_RELU, 1, 0x00f, 0, 0, LEAKY, NONE, kdc_leaky_relu_s8) \
    X(11, SOFTMAX, 1, 0x007, 0, 0, SOFTMAX, NONE, kdc_softmax_s8)

/* clang-format on */

enum { KDC__MACS_NONE, KDC__MACS_FC, KDC__MACS_CONV, KDC__MACS_DW };
enum {
    KDC__KIND_FC,
    KDC__KIND_CONV,
    KDC__KIND_POOL,
    KDC__KIND_GAP,
    KDC__KIND_ADD,
    KDC__KIND_COPY,
    KDC__KIND_CLAMP,
    KDC__KIND_LEAKY,
    KDC__KIND_SOFTMAX
};

/* The table's properties of one op code (kdc_model.c's kdc__props). */
typedef struct {
    uint8_t inputs, consts, same_q, macs, kind;
    uint16_t params;
} kdc__op_props;

/* KDC_OP_<NAME> (kdc.h) == code for every line. */
#define KDC__OP_CHECK_CODE(code, name, inputs, params, consts, same_q, kind, macs, kernel)         \
    KDC__STATIC_ASSERT(opcode_##name, KDC_OP_##name == (code));
KDC_OP_TABLE(KDC__OP_CHECK_CODE)
#undef KDC__OP_CHECK_CODE

#endif /* KDC_OPS_H */
