#!/usr/bin/env python3
"""kdc_format.py - the artifact format v1 (docs/FORMAT.md) as named constants, for Python.

The twin of runtime/src/kdc_format.h; the op table (codes, input counts, parameter masks) is read
from runtime/src/kdc_ops.h itself, by its strict line format, so it is written once. Both
generators (tests/gen_golden.py, fuzz/gen_corpus.py) use it. `python3 tests/kdc_format.py --json`
prints every constant as one JSON object, as tests/print_format.c does for the C side; `make
format-check` compares the two.

Also: pack_header, pack_body_header, pack_tensor, pack_op (records written field by field at
these offsets) and reseal (header and body CRCs).
"""

import json
import os
import struct
import sys
import zlib

FORMAT_VERSION = 1
MAGIC_LE32 = 0x4D43444B  # "KDCM" read as a little-endian u32
FLAG_COMPRESSED = 1
FLAG_TFLITE = 2  # TFLite arithmetic
FLAG_FLOAT_INPUT = 4
FLAG_FLOAT_OUTPUT = 8
FLAG_INPUT_STAGE = 16  # an input-stage block follows the constants (3.7)
FLAGS_KNOWN = 31  # every other flag bit must be 0
# header (artifact offsets)
HDR_MAGIC = 0  # u8[4]
HDR_VERSION = 4  # u16
HDR_FLAGS = 6  # u16
HDR_HEADER_SIZE = 8  # u16
HDR_RESERVED = 10  # u16
HDR_STORED_BYTES = 12  # u32
HDR_RAW_BYTES = 16  # u32
HDR_ARENA_BYTES = 20  # u32
HDR_BODY_CRC = 24  # u32
HDR_HEADER_CRC = 28  # u32, CRC-32 of bytes 0..27
HDR_BYTES = 32
# body header (body offsets)
BODY_N_TENSORS = 0  # u16
BODY_N_OPS = 2  # u16
BODY_INPUT_ID = 4  # u16
BODY_OUTPUT_ID = 6  # u16
BODY_TENSORS_OFFSET = 8  # u32
BODY_OPS_OFFSET = 12  # u32
BODY_CONST_OFFSET = 16  # u32
BODY_CONST_BYTES = 20  # u32
BODY_HEADER_BYTES = 24
# tensor record
TENSOR_RANK = 0  # u8
TENSOR_DTYPE = 1  # u8
TENSOR_RESERVED = 2  # u16
TENSOR_DIMS = 4  # u16[4]
TENSOR_SCALE = 12  # f32
TENSOR_ZERO_POINT = 16  # i32
TENSOR_ARENA_OFFSET = 20  # u32
TENSOR_BYTE_SIZE = 24  # u32
TENSOR_RESERVED2 = 28  # u32
TENSOR_RECORD_BYTES = 32
DTYPE_INT8 = 0
# op record
OP_CODE = 0  # u8
OP_ACT_MIN = 1  # i8
OP_ACT_MAX = 2  # i8
OP_RESERVED = 3  # u8
OP_INPUT0 = 4  # u16
OP_INPUT1 = 6  # u16
OP_OUTPUT = 8  # u16
OP_RESERVED2 = 10  # u16
OP_PARAMS = 12  # 9 parameter words of 4 bytes
OP_PARAM_WORDS = 9
OP_K_H = 12  # window params: u16 each
OP_K_W = 14
OP_STRIDE_H = 16
OP_STRIDE_W = 18
OP_PAD_TOP = 20
OP_PAD_LEFT = 22
OP_DEPTH_MULT = 24
OP_WINDOW_RESERVED = 26
OP_WEIGHTS_OFFSET = 28  # constant params: u32 const offsets
OP_BIAS_OFFSET = 32
OP_MULT_OFFSET = 36
OP_SHIFT_OFFSET = 40
OP_CONST_RESERVED = 44
OP_ADD_MA = 12  # ADD requant params: i32 each
OP_ADD_EA = 16
OP_ADD_MB = 20
OP_ADD_EB = 24
OP_ADD_MO = 28
OP_ADD_EO = 32
OP_LEAKY_M_ID = 12  # LEAKY_RELU requant params: i32 each
OP_LEAKY_E_ID = 16
OP_LEAKY_M_ALPHA = 20
OP_LEAKY_E_ALPHA = 24
OP_SOFTMAX_M = 12  # SOFTMAX params: i32 each
OP_SOFTMAX_LEFT = 16
OP_SOFTMAX_DIFF_MIN = 20
SOFTMAX_SCALE_BITS = 0x3B800000  # 1/256, the output scale SOFTMAX requires
SOFTMAX_MAX_DEPTH = 4095  # the sum of exps stays below 2^31
OP_RECORD_BYTES = 48
NO_TENSOR = 0xFFFF  # input1 of a one-input op
MAX_REDUCE = 65536  # FC K, conv k_h*k_w*C_in, window k_h*k_w
MAX_GAP_TAPS = 16777216  # GLOBAL_AVERAGE_POOL H*W
STAGE_KIND = 0  # input-stage block (3.7): u16
STAGE_RESERVED = 2  # u16
STAGE_BYTES = 4  # u32, the whole block
STAGE_FRAMES = 8  # u32
STAGE_FEATURES = 12  # u32, per frame (sensor: channels)
STAGE_HEADER_BYTES = 16
STAGE_AUDIO = 1
STAGE_SENSOR = 2
AUDIO_SAMPLE_RATE = 16  # audio parameters: u32
AUDIO_WINDOW = 20  # u16 each
AUDIO_HOP = 22
AUDIO_FFT_SIZE = 24
AUDIO_MEL_BINS = 26
AUDIO_COEFFICIENTS = 28
AUDIO_RESERVED = 30
AUDIO_LOW_HZ = 32  # f64
AUDIO_HIGH_HZ = 40  # f64
AUDIO_TABLES = 48  # window, twiddles, mel bands, weights, DCT
AUDIO_MAX_RATE = 192000
AUDIO_FFT_MIN = 16
AUDIO_FFT_MAX = 4096
AUDIO_MAX_MEL = 128
AUDIO_Q30 = 1073741824  # |twiddle| bound
LOGMEL_SCALE_BITS = 0x3E800000  # 0.25: log-mel features, log2 units
LOGMEL_ZERO_POINT = -80
MFCC_SCALE_BITS = 0x3F000000  # 0.5
MFCC_ZERO_POINT = 0


def _op_table():
    """The op table of runtime/src/kdc_ops.h: (code, name, inputs, parameter-word mask) per line
    of KDC_OP_TABLE, in the line format documented there."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "kdc_ops.h")
    lines = open(path).read().split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith("#define KDC_OP_TABLE(X)")) + 1
    ops = []
    while i < len(lines) and lines[i].strip():
        line = lines[i].strip()
        body = line[:-2] if line.endswith(" \\") else line
        assert body.startswith("X(") and body.endswith(")"), line
        f = body[2:-1].split(", ")
        assert len(f) == 9, line
        ops.append((int(f[0]), f[1], int(f[2]), int(f[3], 16)))
        i += 1
    return ops


# The op table: (code, name, inputs, parameter-word mask).
OPS = _op_table()
OPCODE = {name: code for code, name, _, _ in OPS}

_NAMES = [
    "FORMAT_VERSION",
    "MAGIC_LE32",
    "FLAG_COMPRESSED",
    "FLAG_TFLITE",
    "FLAG_FLOAT_INPUT",
    "FLAG_FLOAT_OUTPUT",
    "FLAG_INPUT_STAGE",
    "FLAGS_KNOWN",
    "HDR_MAGIC",
    "HDR_VERSION",
    "HDR_FLAGS",
    "HDR_HEADER_SIZE",
    "HDR_RESERVED",
    "HDR_STORED_BYTES",
    "HDR_RAW_BYTES",
    "HDR_ARENA_BYTES",
    "HDR_BODY_CRC",
    "HDR_HEADER_CRC",
    "HDR_BYTES",
    "BODY_N_TENSORS",
    "BODY_N_OPS",
    "BODY_INPUT_ID",
    "BODY_OUTPUT_ID",
    "BODY_TENSORS_OFFSET",
    "BODY_OPS_OFFSET",
    "BODY_CONST_OFFSET",
    "BODY_CONST_BYTES",
    "BODY_HEADER_BYTES",
    "TENSOR_RANK",
    "TENSOR_DTYPE",
    "TENSOR_RESERVED",
    "TENSOR_DIMS",
    "TENSOR_SCALE",
    "TENSOR_ZERO_POINT",
    "TENSOR_ARENA_OFFSET",
    "TENSOR_BYTE_SIZE",
    "TENSOR_RESERVED2",
    "TENSOR_RECORD_BYTES",
    "DTYPE_INT8",
    "OP_CODE",
    "OP_ACT_MIN",
    "OP_ACT_MAX",
    "OP_RESERVED",
    "OP_INPUT0",
    "OP_INPUT1",
    "OP_OUTPUT",
    "OP_RESERVED2",
    "OP_PARAMS",
    "OP_PARAM_WORDS",
    "OP_K_H",
    "OP_K_W",
    "OP_STRIDE_H",
    "OP_STRIDE_W",
    "OP_PAD_TOP",
    "OP_PAD_LEFT",
    "OP_DEPTH_MULT",
    "OP_WINDOW_RESERVED",
    "OP_WEIGHTS_OFFSET",
    "OP_BIAS_OFFSET",
    "OP_MULT_OFFSET",
    "OP_SHIFT_OFFSET",
    "OP_CONST_RESERVED",
    "OP_ADD_MA",
    "OP_ADD_EA",
    "OP_ADD_MB",
    "OP_ADD_EB",
    "OP_ADD_MO",
    "OP_ADD_EO",
    "OP_LEAKY_M_ID",
    "OP_LEAKY_E_ID",
    "OP_LEAKY_M_ALPHA",
    "OP_LEAKY_E_ALPHA",
    "OP_SOFTMAX_M",
    "OP_SOFTMAX_LEFT",
    "OP_SOFTMAX_DIFF_MIN",
    "SOFTMAX_SCALE_BITS",
    "SOFTMAX_MAX_DEPTH",
    "OP_RECORD_BYTES",
    "NO_TENSOR",
    "MAX_REDUCE",
    "MAX_GAP_TAPS",
    "STAGE_KIND",
    "STAGE_RESERVED",
    "STAGE_BYTES",
    "STAGE_FRAMES",
    "STAGE_FEATURES",
    "STAGE_HEADER_BYTES",
    "STAGE_AUDIO",
    "STAGE_SENSOR",
    "AUDIO_SAMPLE_RATE",
    "AUDIO_WINDOW",
    "AUDIO_HOP",
    "AUDIO_FFT_SIZE",
    "AUDIO_MEL_BINS",
    "AUDIO_COEFFICIENTS",
    "AUDIO_RESERVED",
    "AUDIO_LOW_HZ",
    "AUDIO_HIGH_HZ",
    "AUDIO_TABLES",
    "AUDIO_MAX_RATE",
    "AUDIO_FFT_MIN",
    "AUDIO_FFT_MAX",
    "AUDIO_MAX_MEL",
    "AUDIO_Q30",
    "LOGMEL_SCALE_BITS",
    "LOGMEL_ZERO_POINT",
    "MFCC_SCALE_BITS",
    "MFCC_ZERO_POINT",
]


def constants():
    """Every constant by name, then per op OPCODE_<NAME>, OPINPUTS_<NAME>, OPPARAMS_<NAME>."""
    d = {n: globals()[n] for n in _NAMES}
    for code, name, inputs, params in OPS:
        d["OPCODE_" + name] = code
        d["OPINPUTS_" + name] = inputs
        d["OPPARAMS_" + name] = params
    return d


# ---------------------------------------------------------------- writers


def crc(b):
    return zlib.crc32(bytes(b)) & 0xFFFFFFFF


def pack_header(flags, stored_bytes, raw_bytes, arena_bytes, body_crc):
    """The 32-byte header, header CRC included."""
    h = bytearray(HDR_BYTES)
    struct.pack_into("<I", h, HDR_MAGIC, MAGIC_LE32)
    struct.pack_into("<H", h, HDR_VERSION, FORMAT_VERSION)
    struct.pack_into("<H", h, HDR_FLAGS, flags)
    struct.pack_into("<H", h, HDR_HEADER_SIZE, HDR_BYTES)
    struct.pack_into("<H", h, HDR_RESERVED, 0)
    struct.pack_into("<I", h, HDR_STORED_BYTES, stored_bytes)
    struct.pack_into("<I", h, HDR_RAW_BYTES, raw_bytes)
    struct.pack_into("<I", h, HDR_ARENA_BYTES, arena_bytes)
    struct.pack_into("<I", h, HDR_BODY_CRC, body_crc)
    struct.pack_into("<I", h, HDR_HEADER_CRC, crc(h[:HDR_HEADER_CRC]))
    return bytes(h)


def pack_body_header(n_tensors, n_ops, input_id, output_id, t_off, o_off, c_off, c_bytes):
    b = bytearray(BODY_HEADER_BYTES)
    struct.pack_into("<H", b, BODY_N_TENSORS, n_tensors)
    struct.pack_into("<H", b, BODY_N_OPS, n_ops)
    struct.pack_into("<H", b, BODY_INPUT_ID, input_id)
    struct.pack_into("<H", b, BODY_OUTPUT_ID, output_id)
    struct.pack_into("<I", b, BODY_TENSORS_OFFSET, t_off)
    struct.pack_into("<I", b, BODY_OPS_OFFSET, o_off)
    struct.pack_into("<I", b, BODY_CONST_OFFSET, c_off)
    struct.pack_into("<I", b, BODY_CONST_BYTES, c_bytes)
    return bytes(b)


def pack_tensor(dims, scale, zero_point, arena_offset, byte_size=None):
    """A tensor record; dims (1..4 of them) are padded with 1; scale rounds to float32."""
    t = bytearray(TENSOR_RECORD_BYTES)
    d4 = list(dims) + [1] * (4 - len(dims))
    if byte_size is None:
        byte_size = d4[0] * d4[1] * d4[2] * d4[3]
    struct.pack_into("<B", t, TENSOR_RANK, len(dims))
    struct.pack_into("<B", t, TENSOR_DTYPE, DTYPE_INT8)
    struct.pack_into("<4H", t, TENSOR_DIMS, *d4)
    struct.pack_into("<f", t, TENSOR_SCALE, scale)
    struct.pack_into("<i", t, TENSOR_ZERO_POINT, zero_point)
    struct.pack_into("<I", t, TENSOR_ARENA_OFFSET, arena_offset)
    struct.pack_into("<I", t, TENSOR_BYTE_SIZE, byte_size)
    return bytes(t)


def pack_op(code, act_min, act_max, in0, in1, out, params=b""):
    """An op record; params: the bytes at OP_PARAMS (zero-filled to 36)."""
    r = bytearray(OP_RECORD_BYTES)
    struct.pack_into("<B", r, OP_CODE, code)
    struct.pack_into("<b", r, OP_ACT_MIN, act_min)
    struct.pack_into("<b", r, OP_ACT_MAX, act_max)
    struct.pack_into("<H", r, OP_INPUT0, in0)
    struct.pack_into("<H", r, OP_INPUT1, in1)
    struct.pack_into("<H", r, OP_OUTPUT, out)
    assert len(params) <= OP_RECORD_BYTES - OP_PARAMS
    r[OP_PARAMS : OP_PARAMS + len(params)] = params
    return bytes(r)


def window_params(k_h, k_w, stride_h, stride_w, pad_top, pad_left, depth_mult=0, consts=None):
    """Op params (from OP_PARAMS) of a window op; consts: (weights, bias, mult, shift) offsets."""
    p = bytearray(OP_RECORD_BYTES - OP_PARAMS)
    for off, v in (
        (OP_K_H, k_h),
        (OP_K_W, k_w),
        (OP_STRIDE_H, stride_h),
        (OP_STRIDE_W, stride_w),
        (OP_PAD_TOP, pad_top),
        (OP_PAD_LEFT, pad_left),
        (OP_DEPTH_MULT, depth_mult),
    ):
        struct.pack_into("<H", p, off - OP_PARAMS, v)
    if consts is not None:
        struct.pack_into("<4I", p, OP_WEIGHTS_OFFSET - OP_PARAMS, *consts)
    return bytes(p)


def const_params(consts):
    """Op params (from OP_PARAMS) of FULLY_CONNECTED: the four const offsets."""
    p = bytearray(OP_RECORD_BYTES - OP_PARAMS)
    struct.pack_into("<4I", p, OP_WEIGHTS_OFFSET - OP_PARAMS, *consts)
    return bytes(p)


def add_params(q):
    """Op params of ADD: (Ma, ea, Mb, eb, Mo, eo)."""
    p = bytearray(OP_RECORD_BYTES - OP_PARAMS)
    struct.pack_into("<6i", p, OP_ADD_MA - OP_PARAMS, *q)
    return bytes(p)


def leaky_params(q):
    """Op params of LEAKY_RELU: (M_id, e_id, M_alpha, e_alpha)."""
    p = bytearray(OP_RECORD_BYTES - OP_PARAMS)
    struct.pack_into("<4i", p, OP_LEAKY_M_ID - OP_PARAMS, *q)
    return bytes(p)


def softmax_params(q):
    """Op params of SOFTMAX: (M, left, diff_min)."""
    p = bytearray(OP_RECORD_BYTES - OP_PARAMS)
    struct.pack_into("<3i", p, OP_SOFTMAX_M - OP_PARAMS, *q)
    return bytes(p)


def reseal(a, body=False):
    """Fix the body CRC (stored artifacts whose body is all there, if asked) and the header
    CRC of artifact bytes a."""
    a = bytearray(a)
    if len(a) < HDR_BYTES:
        return bytes(a)
    if body:
        raw = struct.unpack_from("<I", a, HDR_RAW_BYTES)[0]
        flags = struct.unpack_from("<H", a, HDR_FLAGS)[0]
        if flags & FLAG_COMPRESSED == 0 and len(a) >= HDR_BYTES + raw:
            struct.pack_into("<I", a, HDR_BODY_CRC, crc(a[HDR_BYTES : HDR_BYTES + raw]))
    struct.pack_into("<I", a, HDR_HEADER_CRC, crc(a[:HDR_HEADER_CRC]))
    return bytes(a)


def main():
    if sys.argv[1:] == ["--json"]:
        print(json.dumps(constants(), indent=1))
        return 0
    print("usage: python3 kdc_format.py --json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
