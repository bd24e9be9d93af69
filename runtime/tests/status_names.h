/* status_names.h - the enum name of every kdc_status ("KDC_OK", "KDC_ERR_..."), as the
 * verdict corpus (tests/verdict.c) and tests/regress/EXPECTED spell them. */
#ifndef STATUS_NAMES_H
#define STATUS_NAMES_H

#include "kdc.h"

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
                                                           "KDC_ERR_ARENA_TOO_SMALL",
                                                           "KDC_ERR_UNSUPPORTED",
                                                           "KDC_ERR_STAGE"};

#endif
