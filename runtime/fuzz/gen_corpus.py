#!/usr/bin/env python3
"""gen_corpus.py - writes the fuzz seed corpus: real and golden artifacts plus
systematically corrupted ones (Python 3 standard library only).

    python3 fuzz/gen_corpus.py [OUT]        # from runtime/; OUT defaults to fuzz/corpus

Bases: the golden artifacts and zlib streams compiled into tests/golden_*.h
(from tests/gen_golden.py) and the kdc-exported artifacts in fuzz/seeds/.
Corruptions (each also written with the header CRC and, where it matters,
the body CRC re-sealed so the corruption reaches the check behind them):
truncation at every field/record boundary, bit flips in the header and the
body header, every header and table field set to boundary values (0, 1,
max, length +- 1, odd), huge shapes, offsets past the end, overlapping
tensors, arena too small, unknown op codes, kernel/stride/pad/qparam edges,
a compressed body whose declared raw size lies, and hand-made zlib streams
(bad Huffman tables, bad stored lengths, distance too far, missing EOB).
The output is deterministic; it is bulk (a few MB) and not committed.
"""

import os
import re
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import kdc_format as F  # the named offsets, shared with tests/gen_golden.py

HDR = F.HDR_BYTES


def c_arrays(path):
    """name -> bytes for every `static const unsigned char name[] = {...};`"""
    text = open(path).read()
    out = {}
    for m in re.finditer(r"static const unsigned char (\w+)\[\] = \{([^}]*)\};", text):
        out[m.group(1)] = bytes(
            int(v) & 255 for v in m.group(2).replace("\n", "").split(",") if v.strip()
        )
    return out


crc = F.crc
reseal = F.reseal  # (a, body=False): the body CRC (stored artifacts, if asked), the header CRC


def put(a, off, fmt, v):
    a = bytearray(a)
    if off + struct.calcsize(fmt) <= len(a):
        struct.pack_into(fmt, a, off, v)
    return bytes(a)


class Stored:
    """Field offsets (artifact offsets) of a stored artifact."""

    def __init__(self, a):
        self.a = a

        def u(off, fmt):
            return struct.unpack_from(fmt, a, HDR + off)[0]

        self.nt, self.no = u(F.BODY_N_TENSORS, "<H"), u(F.BODY_N_OPS, "<H")
        self.inp, self.outp = u(F.BODY_INPUT_ID, "<H"), u(F.BODY_OUTPUT_ID, "<H")
        self.to, self.oo = u(F.BODY_TENSORS_OFFSET, "<I"), u(F.BODY_OPS_OFFSET, "<I")
        self.co, self.cb = u(F.BODY_CONST_OFFSET, "<I"), u(F.BODY_CONST_BYTES, "<I")

    def tensor(self, i):
        return HDR + self.to + F.TENSOR_RECORD_BYTES * i

    def op(self, i):
        return HDR + self.oo + F.OP_RECORD_BYTES * i


def boundaries(s):
    cuts = set(range(0, HDR + 1, 2)) | {HDR + k for k in (1, 8, 12, 16, 20, 23, 24)}
    for i in range(s.nt + 1):
        cuts |= {s.tensor(i) - 1, s.tensor(i), s.tensor(i) + 1}
    for i in range(s.no + 1):
        cuts |= {s.op(i) - 1, s.op(i), s.op(i) + 1}
    cuts |= {HDR + s.co, HDR + s.co + s.cb - 1, HDR + s.co + s.cb // 2, len(s.a) - 1}
    return sorted(c for c in cuts if 0 <= c < len(s.a))


EDGE16 = [0, 1, 2, 3, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
EDGE32 = [0, 1, 3, 4, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFC, 0xFFFFFFFF]


def stored_mutants(name, a):
    """(tag, bytes) corruptions of a stored artifact, CRCs re-sealed."""
    s = Stored(a)
    raw = len(a) - HDR
    out = []
    for c in boundaries(s):
        out.append(("trunc%d" % c, a[:c]))
        out.append(
            (
                "trunc%d_hdrfix" % c,
                reseal(
                    put(a[:c], F.HDR_STORED_BYTES, "<I", max(c - HDR, 0)) if c >= HDR else a[:c]
                ),
            )
        )
    for bit in range(HDR * 8):  # every header bit, header CRC not fixed and fixed
        m = bytearray(a)
        m[bit // 8] ^= 1 << (bit % 8)
        out.append(("hbit%d" % bit, bytes(m)))
        out.append(("hbit%d_fix" % bit, reseal(m, body=True)))
    hdr_fields = [
        (F.HDR_VERSION, "<H"),
        (F.HDR_FLAGS, "<H"),
        (F.HDR_HEADER_SIZE, "<H"),
        (F.HDR_RESERVED, "<H"),
        (F.HDR_STORED_BYTES, "<I"),
        (F.HDR_RAW_BYTES, "<I"),
        (F.HDR_ARENA_BYTES, "<I"),
    ]
    for off, fmt in hdr_fields:
        vals = EDGE16 if fmt == "<H" else EDGE32 + [raw - 1, raw + 1, raw + 4]
        for v in vals:
            out.append(
                (
                    "hdr%d_%x" % (off, v),
                    reseal(put(a, off, fmt, v & (0xFFFF if fmt == "<H" else 0xFFFFFFFF)), True),
                )
            )
    for f, fmt in [
        (F.BODY_N_TENSORS, "<H"),
        (F.BODY_N_OPS, "<H"),
        (F.BODY_INPUT_ID, "<H"),
        (F.BODY_OUTPUT_ID, "<H"),
        (F.BODY_TENSORS_OFFSET, "<I"),
        (F.BODY_OPS_OFFSET, "<I"),
        (F.BODY_CONST_OFFSET, "<I"),
        (F.BODY_CONST_BYTES, "<I"),
    ]:
        for v in EDGE16 if fmt == "<H" else EDGE32 + [raw, raw - 4, raw + 4, 20, 24, 26]:
            out.append(("body%d_%x" % (f, v), reseal(put(a, HDR + f, fmt, v), True)))
    for bit in range(F.BODY_HEADER_BYTES * 8):
        m = bytearray(a)
        m[HDR + bit // 8] ^= 1 << (bit % 8)
        out.append(("bbit%d" % bit, reseal(m, True)))
    # canonical graph: n_tensors == n_ops + 1, input 0, output written by an op
    for tag, f, v in (
        ("ntensors_plus1", F.BODY_N_TENSORS, s.nt + 1),
        ("nops_minus1", F.BODY_N_OPS, s.no - 1),
        ("input_last", F.BODY_INPUT_ID, s.nt - 1),
        ("output_0", F.BODY_OUTPUT_ID, 0),
    ):
        out.append(("graph_" + tag, reseal(put(a, HDR + f, "<H", v & 0xFFFF), True)))
    arena = struct.unpack_from("<I", a, F.HDR_ARENA_BYTES)[0]
    out.append(("arena_minus1", reseal(put(a, F.HDR_ARENA_BYTES, "<I", arena - 1), True)))
    out.append(("arena_half", reseal(put(a, F.HDR_ARENA_BYTES, "<I", max(arena // 2, 1)), True)))
    out.append(("arena_huge", reseal(put(a, F.HDR_ARENA_BYTES, "<I", 0x7FFFFFFF), True)))
    for i in range(min(s.nt, 6)):
        t = s.tensor(i)
        dim = [F.TENSOR_DIMS + 2 * k for k in range(4)]
        muts = [
            (F.TENSOR_RANK, "<B", 0),
            (F.TENSOR_RANK, "<B", 5),
            (F.TENSOR_DTYPE, "<B", 1),
            (F.TENSOR_RESERVED, "<H", 1),
            (dim[0], "<H", 0),
            (dim[0], "<H", 0xFFFF),
            (dim[1], "<H", 0xFFFF),
            (dim[2], "<H", 0xFFFF),
            (dim[3], "<H", 0xFFFF),
            (dim[3], "<H", 2),
            (F.TENSOR_SCALE, "<I", 0),
            (F.TENSOR_SCALE, "<I", 0x7F800000),
            (F.TENSOR_SCALE, "<I", 0x7FC00000),
            (F.TENSOR_SCALE, "<I", 0x80000001),
            (F.TENSOR_ZERO_POINT, "<i", 128),
            (F.TENSOR_ZERO_POINT, "<i", -129),
            (F.TENSOR_ARENA_OFFSET, "<I", arena),
            (F.TENSOR_ARENA_OFFSET, "<I", 0xFFFFFFFF),
            (F.TENSOR_ARENA_OFFSET, "<I", arena - 1),
            (F.TENSOR_BYTE_SIZE, "<I", 0),
            (F.TENSOR_BYTE_SIZE, "<I", 0xFFFFFFFF),
            (F.TENSOR_RESERVED2, "<I", 1),
        ]
        for off, fmt, v in muts:
            out.append(
                ("t%d_%d_%x" % (i, off, v & 0xFFFFFFFF), reseal(put(a, t + off, fmt, v), True))
            )
        # huge shape with a consistent byte size (overflow / arena checks)
        m = bytearray(a)
        struct.pack_into("<B", m, t + F.TENSOR_RANK, 4)
        struct.pack_into("<I", m, t + F.TENSOR_BYTE_SIZE, 0)
        struct.pack_into("<I", m, t + F.TENSOR_ARENA_OFFSET, 0)
        struct.pack_into("<4H", m, t + F.TENSOR_DIMS, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF)
        out.append(("t%d_hugeshape" % i, reseal(m, True)))
        struct.pack_into("<4H", m, t + F.TENSOR_DIMS, 1, 0xFFFF, 0xFFFF, 1)
        struct.pack_into("<I", m, t + F.TENSOR_BYTE_SIZE, 0xFFFF * 0xFFFF)
        out.append(("t%d_bigshape" % i, reseal(m, True)))
        # overlap with every other tensor
        at = t + F.TENSOR_ARENA_OFFSET
        for j in range(min(s.nt, 6)):
            if j != i:
                off_j = struct.unpack_from("<I", a, s.tensor(j) + F.TENSOR_ARENA_OFFSET)[0]
                out.append(("t%d_overlap%d" % (i, j), reseal(put(a, at, "<I", off_j), True)))
                out.append(("t%d_overlap%d_p1" % (i, j), reseal(put(a, at, "<I", off_j + 1), True)))
    const_fields = (F.OP_WEIGHTS_OFFSET, F.OP_BIAS_OFFSET, F.OP_MULT_OFFSET, F.OP_SHIFT_OFFSET)
    prev_const = None  # (record, field) of the previous constant array, in op order
    for i in range(min(s.no, 8)):
        r = s.op(i)
        for v in [0, 10, 11, 255] + list(range(1, 10)):
            out.append(("op%d_code%d" % (i, v), reseal(put(a, r + F.OP_CODE, "<B", v), True)))
        muts = [
            (F.OP_ACT_MIN, "<b", 127),
            (F.OP_ACT_MAX, "<b", -128),
            (F.OP_RESERVED, "<B", 1),
            (F.OP_INPUT0, "<H", 0xFFFF),
            (F.OP_INPUT0, "<H", s.nt),
            (F.OP_INPUT0, "<H", i + 1),  # reads its own output
            (F.OP_INPUT1, "<H", 0),
            (F.OP_INPUT1, "<H", s.nt - 1),
            (F.OP_OUTPUT, "<H", s.inp),
            (F.OP_OUTPUT, "<H", 0xFFFF),
            (F.OP_OUTPUT, "<H", i + 2),  # not tensor i + 1
            (F.OP_RESERVED2, "<H", 1),
        ]
        for w in range(F.OP_PARAM_WORDS):
            muts += [
                (F.OP_PARAMS + 4 * w, "<I", v)
                for v in (0, 1, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF)
            ]
        for off, fmt, v in muts:
            out.append(
                ("op%d_%d_%x" % (i, off, v & 0xFFFFFFFF), reseal(put(a, r + off, fmt, v), True))
            )
        window = (
            F.OP_K_H,
            F.OP_K_W,
            F.OP_STRIDE_H,
            F.OP_STRIDE_W,
            F.OP_PAD_TOP,
            F.OP_PAD_LEFT,
            F.OP_DEPTH_MULT,
        )
        for off in window:  # window params: edges
            for v in (0, 1, 2, 255, 256, 0xFFFF):
                out.append(("op%d_w%d_%x" % (i, off, v), reseal(put(a, r + off, "<H", v), True)))
        for off in const_fields:  # constant offsets past the end / misaligned
            for v in (s.cb, s.cb - 1, s.cb + 4, 2, 0xFFFFFFF0):
                out.append(
                    (
                        "op%d_c%d_%x" % (i, off, v & 0xFFFFFFFF),
                        reseal(put(a, r + off, "<I", v & 0xFFFFFFFF), True),
                    )
                )
        # out-of-range multiplier / shift in the first entries of the arrays
        if a[r + F.OP_CODE] in (1, 2, 3):
            mo = struct.unpack_from("<I", a, r + F.OP_MULT_OFFSET)[0]
            so = struct.unpack_from("<I", a, r + F.OP_SHIFT_OFFSET)[0]
            for v in (1, 0x3FFFFFFF, -1, -0x80000000):
                out.append(
                    (
                        "op%d_M%x" % (i, v & 0xFFFFFFFF),
                        reseal(put(a, HDR + s.co + mo, "<i", v), True),
                    )
                )
            for v in (-32, 31, 0x7FFFFFFF):
                out.append(
                    (
                        "op%d_e%x" % (i, v & 0xFFFFFFFF),
                        reseal(put(a, HDR + s.co + so, "<i", v), True),
                    )
                )
            # constant arrays out of order: each array moved onto the previous one (in op
            # order), or 4 bytes before its own start
            for off in const_fields:
                cur = struct.unpack_from("<I", a, r + off)[0]
                if prev_const is not None:
                    pv = struct.unpack_from("<I", a, prev_const)[0]
                    out.append(
                        ("op%d_c%d_onprev" % (i, off), reseal(put(a, r + off, "<I", pv), True))
                    )
                if cur >= 4:
                    out.append(
                        ("op%d_c%d_minus4" % (i, off), reseal(put(a, r + off, "<I", cur - 4), True))
                    )
                prev_const = r + off
    # ops swapped (graph order), output set to an intermediate
    if s.no >= 2:
        m = bytearray(a)
        r0, r1, n = s.op(0), s.op(1), F.OP_RECORD_BYTES
        m[r0 : r0 + n], m[r1 : r1 + n] = a[r1 : r1 + n], a[r0 : r0 + n]
        out.append(("ops_swapped", reseal(m, True)))
    # a body CRC that does not match (only the CRC check should fire)
    bad = struct.unpack_from("<I", a, F.HDR_BODY_CRC)[0] ^ 1
    out.append(("bodycrc_bad", reseal(put(a, F.HDR_BODY_CRC, "<I", bad))))
    return [("%s_%s" % (name, t), m) for t, m in out]


def stage_mutants(name, a):
    """Input-stage block fields (docs/FORMAT.md 3.7) at boundary values, CRCs re-sealed."""
    if not (struct.unpack_from("<H", a, F.HDR_FLAGS)[0] & F.FLAG_INPUT_STAGE):
        return []
    body = HDR
    c_off, c_bytes = struct.unpack_from("<II", a, body + F.BODY_CONST_OFFSET)
    start = body + ((c_off + c_bytes + 3) & ~3)
    out = []
    fields = [(F.STAGE_KIND, "<H"), (F.STAGE_RESERVED, "<H"), (F.STAGE_BYTES, "<I")]
    fields += [(F.STAGE_FRAMES, "<I"), (F.STAGE_FEATURES, "<I")]
    kind = struct.unpack_from("<H", a, start)[0] if start + 2 <= len(a) else 0
    if kind == F.STAGE_AUDIO:
        fields += [(F.AUDIO_SAMPLE_RATE, "<I"), (F.AUDIO_WINDOW, "<H"), (F.AUDIO_HOP, "<H")]
        fields += [(F.AUDIO_FFT_SIZE, "<H"), (F.AUDIO_MEL_BINS, "<H"), (F.AUDIO_COEFFICIENTS, "<H")]
        fields += [
            (F.AUDIO_RESERVED, "<H"),
            (F.AUDIO_LOW_HZ + 4, "<I"),
            (F.AUDIO_HIGH_HZ + 4, "<I"),
        ]
    for off, fmt in fields:
        if start + off + struct.calcsize(fmt) > len(a):
            continue
        v0 = struct.unpack_from(fmt, a, start + off)[0]
        top = 0xFFFF if fmt == "<H" else 0xFFFFFFFF
        for v in sorted(
            {0, 1, 2, v0 - 1, v0 + 1, v0 * 2, v0 // 2, top, 0x8000, 4096, 8192, 0x7FF80000}
        ):
            v &= top
            if v == v0:
                continue
            out.append(
                ("%s_stage%d_%x" % (name, off, v), reseal(put(a, start + off, fmt, v), body=True))
            )
    # table words: the first and last byte of each 64-byte slice flipped
    for off in range(start + F.AUDIO_TABLES, len(a), 64):
        b = bytearray(a)
        b[off] ^= 0x80
        out.append(("%s_stagetab%d" % (name, off), reseal(bytes(b), body=True)))
    return out


def compressed_mutants(name, a):
    out = []
    stored = len(a) - HDR
    raw = struct.unpack_from("<I", a, F.HDR_RAW_BYTES)[0]
    for c in sorted(
        {0, 8, 16, HDR - 1, HDR, HDR + 1, HDR + 2, HDR + 3, HDR + 4, HDR + 8, HDR + 16, HDR + 32}
        | {HDR + stored * k // 16 for k in range(16)}
        | {len(a) - k for k in range(1, 6)}
    ):
        if c < len(a):
            out.append(("trunc%d" % c, a[:c]))
    for v in (raw - 1, raw + 1, raw * 2, 24, 0x7FFFFFDF, raw - 4096):  # a raw size that lies
        if v >= 0:
            out.append(("rawlie_%x" % v, reseal(put(a, F.HDR_RAW_BYTES, "<I", v))))
    for v in (0, 5, 6, stored - 1, stored + 1, 0x7FFFFFDF):
        out.append(("storedlen_%x" % v, reseal(put(a, F.HDR_STORED_BYTES, "<I", v))))
    out.append(("flags_stored", reseal(put(a, F.HDR_FLAGS, "<H", 0))))
    bad = struct.unpack_from("<I", a, F.HDR_BODY_CRC)[0] ^ 1
    out.append(("bodycrc_bad", reseal(put(a, F.HDR_BODY_CRC, "<I", bad))))
    for k in range(0, min(stored, 64)):  # flip bits in the zlib header and first block header
        m = bytearray(a)
        m[HDR + k] ^= 1 << (k % 8)
        out.append(("zbit%d" % k, reseal(m)))
    for k in range(1, 9):  # the Adler-32 trailer
        m = bytearray(a)
        m[len(a) - 1 - (k % 4)] ^= 1 << k % 8
        out.append(("adler%d" % k, reseal(m)))
    # body recompressed after a structural corruption: reaches kdc_init behind unpack
    body = zlib.decompress(a[HDR:])
    art = a[:HDR] + body
    art = reseal(put(art, F.HDR_FLAGS, "<H", 0), True)
    for tag, m in stored_mutants("x", art)[::7]:
        if len(m) >= HDR and struct.unpack_from("<H", m, F.HDR_FLAGS)[0] == 0:
            raw2 = struct.unpack_from("<I", m, F.HDR_RAW_BYTES)[0]
            nb = m[HDR : HDR + raw2]
            if len(nb) != raw2:
                continue
            z = zlib.compress(nb, 9)
            h = bytearray(m[:HDR])  # the mutant's header, compressed
            struct.pack_into("<H", h, F.HDR_FLAGS, F.FLAG_COMPRESSED)
            struct.pack_into("<I", h, F.HDR_STORED_BYTES, len(z))
            struct.pack_into("<I", h, F.HDR_RAW_BYTES, raw2)
            struct.pack_into("<I", h, F.HDR_BODY_CRC, crc(nb))
            out.append(("re_" + tag, reseal(bytes(h) + z)))
    return [("%s_%s" % (name, t), m) for t, m in out]


class BitWriter:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def bits(self, v, n):
        for i in range(n):
            self.acc |= ((v >> i) & 1) << self.n
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                self.acc, self.n = 0, 0

    def huff(self, code, n):  # Huffman codes go MSB first
        for i in reversed(range(n)):
            self.bits((code >> i) & 1, 1)

    def done(self):
        if self.n:
            self.out.append(self.acc)
        return bytes(self.out)


def zwrap(deflate, payload=b""):
    return b"\x78\x9c" + deflate + struct.pack(">I", zlib.adler32(payload) & 0xFFFFFFFF)


def dynamic_header(hlit, hdist, hclen, cl_lens, lit_lens_codes):
    w = BitWriter()
    w.bits(1, 1)
    w.bits(2, 2)
    w.bits(hlit - 257, 5)
    w.bits(hdist - 1, 5)
    w.bits(hclen - 4, 4)
    for v in cl_lens[:hclen]:
        w.bits(v, 3)
    for code, n in lit_lens_codes:
        w.huff(code, n)
    return w


def zlib_streams():
    """Hand-made zlib streams, each breaking one rule."""
    out = []
    order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    # code-length code over-subscribed: three symbols of length 1
    cl = [0] * 19
    for sym in (0, 8, 18):
        cl[order.index(sym)] = 1
    out.append(("z_dyn_cl_oversub", zwrap(dynamic_header(257, 1, 19, cl, []).done())))
    # code-length code incomplete (one symbol of length 2) then data
    cl = [0] * 19
    cl[order.index(8)] = 2
    w = dynamic_header(257, 1, 19, cl, [(0, 2)] * 40)
    out.append(("z_dyn_cl_incomplete", zwrap(w.done())))
    # literal lengths all 8 via code 8 repeated: 258 codes of length 8 -> over-subscribed
    cl = [0] * 19
    cl[order.index(8)] = 1
    cl[order.index(1)] = 1
    w = dynamic_header(258, 1, 19, cl, [(0, 1)] * 259)
    out.append(("z_dyn_lit_oversub", zwrap(w.done())))
    # no end-of-block code (symbol 256 length 0)
    cl = [0] * 19
    cl[order.index(8)] = 1
    cl[order.index(0)] = 1
    w = dynamic_header(257, 1, 19, cl, [(0, 1)] * 256 + [(1, 1)] * 2)
    out.append(("z_dyn_no_eob", zwrap(w.done())))
    # repeat (16) as the first length
    cl = [0] * 19
    cl[order.index(16)] = 1
    cl[order.index(8)] = 1
    w = dynamic_header(257, 1, 19, cl, [(0, 1)])
    w.bits(3, 2)
    out.append(("z_dyn_repeat_first", zwrap(w.done())))
    # repeat past the end (18 with 138 zeros near the end)
    cl = [0] * 19
    cl[order.index(18)] = 1
    cl[order.index(8)] = 1
    w = dynamic_header(257, 1, 19, cl, [(1, 1)] * 250)
    for _ in range(3):
        w.huff(0, 1)
        w.bits(127, 7)
    out.append(("z_dyn_repeat_past", zwrap(w.done())))
    # hlit 287 / hdist 31 (out of range)
    for hl, hd in ((287, 1), (286, 31), (288, 32)):
        w = BitWriter()
        w.bits(1, 1)
        w.bits(2, 2)
        w.bits((hl - 257) & 31, 5)
        w.bits((hd - 1) & 31, 5)
        w.bits(15, 4)
        out.append(("z_dyn_hlit%d_hdist%d" % (hl, hd), zwrap(w.done() + b"\0" * 16)))
    # fixed block: distance too far back
    w = BitWriter()
    w.bits(1, 1)
    w.bits(1, 2)
    w.huff(0x30 + ord("a"), 8)  # literal 'a'
    w.huff(0b0000001, 7)  # length code 257 -> 3
    w.huff(4, 5)  # distance code 4 (5..6), 1 extra bit
    w.bits(1, 1)
    w.huff(0, 7)  # end of block
    out.append(("z_fixed_dist_too_far", zwrap(w.done(), b"a")))
    # fixed block: length code 286 and distance code 30
    for tag, lcode, dcode in (("len286", 286, 0), ("dist30", 257, 30), ("dist31", 257, 31)):
        w = BitWriter()
        w.bits(1, 1)
        w.bits(1, 2)
        w.huff(0x30 + ord("a"), 8)
        w.huff(0xC0 + (lcode - 280), 8) if lcode >= 280 else w.huff(lcode - 256, 7)
        w.huff(dcode, 5)
        w.huff(0, 7)
        out.append(("z_fixed_" + tag, zwrap(w.done(), b"a")))
    # reserved block type 3; stored with len != ~nlen; stored longer than input
    out.append(("z_btype3", zwrap(b"\x07\x00")))
    out.append(("z_stored_nlen", zwrap(b"\x01\x05\x00\xfb\xff" + b"hello"[:4] + b"!")))
    out.append(("z_stored_long", zwrap(b"\x01\xff\x00\x00\xff" + b"abc")))
    out.append(("z_stored_ok", zwrap(b"\x01\x05\x00\xfa\xff" + b"hello", b"hello")))
    # no final block: stream ends in the middle
    out.append(("z_no_final", zwrap(b"\x00\x00\x00\xff\xff")))
    # zlib header edges
    good = zlib.compress(b"kdc " * 50, 9)
    for tag, h in (
        ("cm7", b"\x77\x9c"),
        ("win8", b"\x88\x98"),
        ("fcheck", b"\x78\x9d"),
        ("fdict", b"\x78\xbb"),
    ):
        out.append(("z_hdr_" + tag, h + good[2:]))
    out.append(("z_trailing_garbage", good[:-4] + b"\0" + good[-4:]))
    out.append(("z_short", good[:5]))
    for lvl in (0, 1, 9):
        data = bytes((i * 7) & 255 for i in range(3000)) + b"\0" * 2000
        out.append(("z_level%d" % lvl, zlib.compress(data, lvl)))
    return out


def build(tensors, ops, consts, arena, flags=0):
    """A stored artifact as in docs/FORMAT.md section 7 (input tensor 0, output
    the last). tensors: (dims, scale, zp, arena_offset); ops: (opcode, act_min, act_max, in0, in1, out, params36)."""
    nt, no = len(tensors), len(ops)
    t_off = F.BODY_HEADER_BYTES
    o_off = t_off + F.TENSOR_RECORD_BYTES * nt
    c_off = o_off + F.OP_RECORD_BYTES * no
    body = F.pack_body_header(nt, no, 0, nt - 1, t_off, o_off, c_off, len(consts))
    for t in tensors:
        dims, scale, zp, off = t[:4]
        body += F.pack_tensor(dims, scale, zp, off)
    for opc, lo, hi, i0, i1, o, params in ops:
        body += F.pack_op(opc, lo, hi, i0, i1, o, params)
    body += consts
    return F.pack_header(flags, len(body), len(body), arena, crc(body)) + body


def compress(art):
    """The compressed form of a stored artifact."""
    body = art[HDR:]
    z = zlib.compress(body, 9)
    h = bytearray(art[:HDR])
    flags = struct.unpack_from("<H", h, F.HDR_FLAGS)[0]
    struct.pack_into("<H", h, F.HDR_FLAGS, flags | F.FLAG_COMPRESSED)
    struct.pack_into("<I", h, F.HDR_STORED_BYTES, len(z))
    return reseal(bytes(h) + z)


class Rng:
    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return self.s >> 8


def consts_for(rng, wbytes, n, e=-8):
    """weights, bias, M, e arrays (each padded to 4) and their offsets."""
    c = bytearray(bytes((rng.next() & 255) for _ in range(wbytes)))
    while len(c) % 4:
        c.append(0)
    offs = [0]
    for vals, fmt in (
        ([rng.next() % 2001 - 1000 for _ in range(n)], "<i"),
        ([0x40000000 + rng.next() % 0x3FFFFFFF for _ in range(n)], "<i"),
        ([e] * n, "<i"),
    ):
        offs.append(len(c))
        for v in vals:
            c += struct.pack(fmt, v)
    return bytes(c), offs


def out_len(n, k, s, pad, same):
    return -(-n // s) if same else (n - k) // s + 1


def softmax_model(flags):
    """SOFTMAX (beta 1, s 0.1: M 0.8*2^31, left 23, diff_min -248) over rows of 10, with the
    header flags given: valid with the TFLite flag, refused without it (a TFLite-mode op)."""
    qs = F.softmax_params((1717986918, 23, -248))
    return build(
        [((1, 3, 10), 0.1, 4, 0), ((1, 3, 10), 1.0 / 256, -128, 30)],
        [(F.OPCODE["SOFTMAX"], -128, 127, 0, 0xFFFF, 1, qs)],
        b"",
        60,
        flags=flags,
    )


def valid_models():
    """Small valid single-op models reaching each kernel path from an artifact
    (conv: two-pixel, single-window, row-by-row, no weight-tail room; depthwise
    multipliers; pools with padding; GAP; ADD; RESHAPE in place; CLAMP; LEAKY_RELU; FC)."""
    rng = Rng(7)
    out = []
    conv = [  # (h, w, cin, k, stride, cout, same)
        (5, 5, 1, 3, 1, 3, True),
        (6, 6, 20, 5, 1, 2, False),
        (8, 8, 40, 5, 1, 2, False),
        (4, 4, 16, 3, 1, 4, True),
        (7, 9, 3, 3, 2, 5, True),
        (3, 3, 2, 1, 1, 20, False),
        (9, 9, 1, 9, 1, 1, True),
        (2, 40, 30, 1, 3, 2, True),
    ]
    for h, w, cin, k, st, cout, same in conv:
        oh, ow = out_len(h, k, st, 0, same), out_len(w, k, st, 0, same)
        ph = max((oh - 1) * st + k - h, 0) // 2 if same else 0
        pw = max((ow - 1) * st + k - w, 0) // 2 if same else 0
        c, offs = consts_for(rng, cout * k * k * cin, cout)
        params = F.window_params(k, k, st, st, ph, pw, 0, offs)
        art = build(
            [((1, h, w, cin), 0.5, 3, 0), ((1, oh, ow, cout), 0.25, -2, h * w * cin)],
            [(2, -128, 127, 0, 0xFFFF, 1, params)],
            c,
            h * w * cin + oh * ow * cout,
        )
        out.append(("valid_conv_%dx%dx%d_k%d_s%d_o%d" % (h, w, cin, k, st, cout), art))
    for h, w, cin, k, st, dm in ((5, 5, 3, 3, 1, 2), (6, 7, 4, 3, 2, 1), (4, 4, 2, 5, 1, 3)):
        oh, ow, cout = -(-h // st), -(-w // st), cin * dm
        ph, pw = max((oh - 1) * st + k - h, 0) // 2, max((ow - 1) * st + k - w, 0) // 2
        c, offs = consts_for(rng, k * k * cout, cout)
        params = F.window_params(k, k, st, st, ph, pw, dm, offs)
        art = build(
            [((1, h, w, cin), 0.5, 0, 0), ((1, oh, ow, cout), 0.5, 0, h * w * cin)],
            [(3, -100, 100, 0, 0xFFFF, 1, params)],
            c,
            h * w * cin + oh * ow * cout,
        )
        out.append(("valid_dw_%dx%dx%d_k%d_s%d_m%d" % (h, w, cin, k, st, dm), art))
    for opc in (4, 5):
        for h, w, cin, k, st in ((5, 5, 3, 3, 2), (4, 6, 20, 2, 2), (7, 7, 1, 7, 1)):
            oh, ow = -(-h // st), -(-w // st)
            ph, pw = max((oh - 1) * st + k - h, 0) // 2, max((ow - 1) * st + k - w, 0) // 2
            params = F.window_params(k, k, st, st, ph, pw)
            art = build(
                [((1, h, w, cin), 0.5, 1, 0), ((1, oh, ow, cin), 0.5, 1, h * w * cin)],
                [(opc, -128, 127, 0, 0xFFFF, 1, params)],
                b"",
                h * w * cin + oh * ow * cin,
            )
            out.append(("valid_pool%d_%dx%dx%d_k%d_s%d" % (opc, h, w, cin, k, st), art))
    art = build(
        [((1, 6, 5, 7), 0.5, 1, 0), ((1, 1, 1, 7), 0.5, 1, 210)],
        [(6, -128, 127, 0, 0xFFFF, 1, b"")],
        b"",
        217,
    )
    out.append(("valid_gap", art))
    qa = F.add_params((0x50000000, -1, 0x60000000, 0, 0x7FFFFFFF, 1))
    art = build(
        [((1, 4, 4, 3), 0.5, 1, 0), ((1, 4, 4, 3), 0.5, -1, 48), ((1, 4, 4, 3), 0.7, 2, 96)],
        [(7, -128, 127, 0, 0, 1, b""), (7, -50, 50, 1, 0, 2, qa)],
        b"",
        144,
    )
    # op 0 is an ADD with zero params (M 0): valid, then a real ADD
    out.append(("valid_add", art))
    art = build(
        [((1, 3, 4, 2), 0.5, 1, 0), ((1, 24), 0.5, 1, 0), ((1, 24), 0.5, 1, 24)],
        [(8, -128, 127, 0, 0xFFFF, 1, b""), (9, -20, 20, 1, 0xFFFF, 2, b"")],
        b"",
        48,
    )
    out.append(("valid_reshape_inplace_clamp", art))
    # LEAKY_RELU with a rescale (alpha 0.25, s 0.5 -> 0.4), then one with alpha 0 and a clamp
    qa = F.leaky_params((0x50000000, 1, 0x50000000, -1))
    qb = F.leaky_params((0x40000000, 1, 0, 0))
    leaky = F.OPCODE["LEAKY_RELU"]
    art = build(
        [((1, 5, 3), 0.5, 4, 0), ((1, 5, 3), 0.4, -3, 15), ((1, 5, 3), 0.4, -3, 0)],
        [(leaky, -128, 127, 0, 0xFFFF, 1, qa), (leaky, -60, 90, 1, 0xFFFF, 2, qb)],
        b"",
        30,
    )
    out.append(("valid_leaky_relu", art))
    # SOFTMAX, a TFLite-mode op (softmax_model); then FC with double scales (0.5 and 2^-9) into
    # a SOFTMAX over 4
    sm = F.OPCODE["SOFTMAX"]
    out.append(("valid_softmax", softmax_model(F.FLAG_TFLITE)))
    w = bytes((i * 37) % 256 for i in range(32))
    bias = struct.pack("<4i", 10, -10, 300, 0)
    lows = struct.pack("<4I", 0, 0, 0, 0)  # the scales' low words
    highs = struct.pack("<4I", 0x3FE00000, 0x3F600000, 0x3FE00000, 0x3F600000)  # 0.5, 2^-9
    c = w + bias + lows + highs
    offs = (0, 32, 48, 64)  # weights, bias, multipliers (low words), shifts (high words)
    qs = F.softmax_params((1717986918, 23, -248))
    art = build(
        [((1, 8), 0.5, 0, 0), ((1, 4), 0.1, 3, 8), ((1, 4), 1.0 / 256, -128, 0)],
        [(1, -128, 127, 0, 0xFFFF, 1, F.const_params(offs)), (sm, -128, 127, 1, 0xFFFF, 2, qs)],
        c,
        12,
        flags=F.FLAG_TFLITE,
    )
    out.append(("valid_tflite_fc_softmax", art))
    for k, n in ((4096, 3), (1, 1), (17, 33)):
        c, offs = consts_for(rng, k * n, n, e=-12)
        art = build(
            [((1, k), 0.5, 0, 0), ((1, n), 0.5, 0, k)],
            [(1, -128, 127, 0, 0xFFFF, 1, F.const_params(offs))],
            c,
            k + n,
        )
        out.append(("valid_fc_%dx%d" % (k, n), art))
    return out + [(n + "_zlib", compress(a)) for n, a in out]


def regress_inputs():
    """Regression inputs for bugs found by review that the capped fuzz harness
    cannot reach (they need a large arena); listed in tests/regress/EXPECTED."""
    hw = 1 << 24
    # GLOBAL_AVERAGE_POOL over 4096x4096 taps: all -128 sums to INT32_MIN and the
    # rounding division negated it (signed overflow, UB) before the fix.
    gap = build(
        [((1, 4096, 4096, 1), 1.0, 0, 0), ((1, 1, 1, 1), 1.0, 0, hw)],
        [(6, -128, 127, 0, 0xFFFF, 1, b"")],
        b"",
        hw + 1,
    )
    # CONV_2D with a 5x5x40 window (1000 taps > the 512-byte stack window):
    # kdc_conv2d_s8 formed win + 2 * 1008, far past the end of win[512]
    # (UB; clang -fsanitize=undefined: "index 1008 out of bounds").
    conv = dict(valid_models())["valid_conv_8x8x40_k5_s1_o2"]
    return [("gap_int32_min_sum", gap), ("conv_rowwise_window_ptr", conv)]


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--regress":
        os.makedirs(sys.argv[2], exist_ok=True)
        for name, data in regress_inputs():
            with open(os.path.join(sys.argv[2], name + ".bin"), "wb") as f:
                f.write(data)
        return
    dst = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    os.makedirs(dst, exist_ok=True)
    arrays = c_arrays(os.path.join(ROOT, "tests", "golden_models.h"))
    zs = c_arrays(os.path.join(ROOT, "tests", "golden_inflate.h"))
    bases = {k: v for k, v in arrays.items()}
    bases.update(valid_models())
    for f in sorted(os.listdir(os.path.join(HERE, "seeds"))):
        bases["seed_" + f.replace(".", "_")] = open(os.path.join(HERE, "seeds", f), "rb").read()
    # SOFTMAX with every field valid but the mode (kdc's: refused), first so that it keeps its name
    files = [("softmax_in_kdc_mode", softmax_model(0))]
    for name, a in sorted(bases.items()):
        files.append((name, a))
        if len(a) < HDR:
            continue
        muts = (
            compressed_mutants(name, a)
            if struct.unpack_from("<H", a, F.HDR_FLAGS)[0] & F.FLAG_COMPRESSED
            else stored_mutants(name, a)
        )
        muts += stage_mutants(name, a)
        if name.startswith("valid_"):  # 46 small models: a sample of their corruptions
            muts = muts[::20]
        elif len(a) > 4096:  # big bases: a subset keeps the corpus ~30 MB
            muts = muts[:: 10 if len(a) > 16384 else 5]
        files += muts
    for name, z in sorted(zs.items()):
        files.append((name, z))
        for c in (0, 2, 3, len(z) // 2, len(z) - 4, len(z) - 1):
            files.append(("%s_trunc%d" % (name, c), z[:c]))
    files += zlib_streams()
    seen = set()
    n = 0
    for name, data in files:
        if data in seen:
            continue
        seen.add(data)
        with open(os.path.join(dst, name + ".bin"), "wb") as f:
            f.write(data)
        n += 1
    print("gen_corpus: %d files in %s" % (n, dst))


if __name__ == "__main__":
    main()
