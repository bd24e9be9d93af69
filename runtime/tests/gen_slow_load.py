#!/usr/bin/env python3
"""gen_slow_load.py - writes the in-spec artifacts a fuzzing review found slow to load or to
run with kdc's format v1 before validation was made linear, for `make load-bench`:

    chain_clamp.kdc     65,534 CLAMP ops in a chain (canonical: op i writes tensor i + 1), zlib;
                        the old graph check compared every op with all earlier ones
    shared_fc.kdc       65,534 FULLY_CONNECTED ops (1 -> 65,535) all over one 850 KB constant
                        block, zlib; the old loader re-checked the block's 65,535 (M, e) pairs
                        per op. Sharing constants is outside the canonical layout now.
    big_conv.kdc        188 bytes describing a 2.4e9-MAC 1x1 convolution (valid; kdc_query
                        reports the MACs so firmware can refuse it before kdc_init)

    python3 tests/gen_slow_load.py DIR      (Python 3 standard library; deterministic)
"""

import os
import struct
import sys
import zlib

import kdc_format as F

N_OPS = 65534


def artifact(tensors, ops, consts, arena, compress):
    """tensors: (dims, arena_offset); ops: pack_op records; scale 1.0, zero point 0."""
    nt, no = len(tensors), len(ops)
    t_off = F.BODY_HEADER_BYTES
    o_off = t_off + F.TENSOR_RECORD_BYTES * nt
    c_off = o_off + F.OP_RECORD_BYTES * no
    body = bytearray(F.pack_body_header(nt, no, 0, nt - 1, t_off, o_off, c_off, len(consts)))
    for dims, off in tensors:
        body += F.pack_tensor(dims, 1.0, 0, off)
    for r in ops:
        body += r
    body += consts
    raw = bytes(body)
    stored = zlib.compress(raw, 9) if compress else raw
    flags = F.FLAG_COMPRESSED if compress else 0
    return F.pack_header(flags, len(stored), len(raw), arena, F.crc(raw)) + stored


def chain_clamp():
    tensors = [((1, 1), i % 2) for i in range(N_OPS + 1)]
    ops = [F.pack_op(F.OPCODE["CLAMP"], -100, 100, i, F.NO_TENSOR, i + 1) for i in range(N_OPS)]
    return artifact(tensors, ops, b"", 2, True)


def shared_fc():
    n = 65535
    consts = bytes(n)  # weights [n][1]
    offs = [0, n]  # bias at n (n is odd: pad to 4)
    consts += bytes((-n) % 4)
    offs[1] = len(consts)
    consts += bytes(4 * n)  # bias 0
    offs.append(len(consts))
    consts += struct.pack("<i", 1 << 30) * n  # M
    offs.append(len(consts))
    consts += struct.pack("<i", -10) * n  # e
    tensors = [((1, 1), 0)] + [((1, n), 1)] * N_OPS
    fc = F.OPCODE["FULLY_CONNECTED"]
    ops = [
        F.pack_op(fc, -128, 127, 0, F.NO_TENSOR, i + 1, F.const_params(offs)) for i in range(N_OPS)
    ]
    return artifact(tensors, ops, consts, 1 + n, True)


def big_conv():
    h, w, c = 16384, 18311, 8  # 1x1 conv, 8 -> 1 channels: h*w*8 = 2.4e9 MACs
    consts = bytes(8) + bytes(4) + struct.pack("<i", 1 << 30) + struct.pack("<i", -10)
    params = F.window_params(1, 1, 1, 1, 0, 0, 0, (0, 8, 12, 16))
    ops = [F.pack_op(F.OPCODE["CONV_2D"], -128, 127, 0, F.NO_TENSOR, 1, params)]
    tensors = [((1, h, w, c), 0), ((1, h, w, 1), h * w * c)]
    return artifact(tensors, ops, consts, h * w * c + h * w, False)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in (
        ("chain_clamp", chain_clamp()),
        ("shared_fc", shared_fc()),
        ("big_conv", big_conv()),
    ):
        with open(os.path.join(sys.argv[1], name + ".kdc"), "wb") as f:
            f.write(data)
        print("%s.kdc %d bytes" % (name, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
