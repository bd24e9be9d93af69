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


def c_arrays(path):
    """name -> bytes for every `static const unsigned char name[] = {...};`"""
    text = open(path).read()
    out = {}
    for m in re.finditer(r"static const unsigned char (\w+)\[\] = \{([^}]*)\};", text):
        out[m.group(1)] = bytes(
            int(v) & 255 for v in m.group(2).replace("\n", "").split(",") if v.strip()
        )
    return out


def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def reseal(a, body=False):
    """Fix the body CRC (stored artifacts, if asked) and the header CRC."""
    a = bytearray(a)
    if len(a) < 32:
        return bytes(a)
    if body:
        raw = struct.unpack_from("<I", a, 16)[0]
        if struct.unpack_from("<H", a, 6)[0] & 1 == 0 and len(a) >= 32 + raw:
            struct.pack_into("<I", a, 24, crc(bytes(a[32 : 32 + raw])))
    struct.pack_into("<I", a, 28, crc(bytes(a[:28])))
    return bytes(a)


def put(a, off, fmt, v):
    a = bytearray(a)
    if off + struct.calcsize(fmt) <= len(a):
        struct.pack_into(fmt, a, off, v)
    return bytes(a)


class Stored:
    """Field offsets (artifact offsets) of a stored artifact."""

    def __init__(self, a):
        self.a = a
        b = a[32:]
        self.nt, self.no, self.inp, self.outp, self.to, self.oo, self.co, self.cb = (
            struct.unpack_from("<HHHHIIII", b, 0)
        )

    def tensor(self, i):
        return 32 + self.to + 32 * i

    def op(self, i):
        return 32 + self.oo + 48 * i


def boundaries(s):
    cuts = set(range(0, 33, 2)) | {33, 40, 44, 48, 52, 55, 56}
    for i in range(s.nt + 1):
        cuts |= {s.tensor(i) - 1, s.tensor(i), s.tensor(i) + 1}
    for i in range(s.no + 1):
        cuts |= {s.op(i) - 1, s.op(i), s.op(i) + 1}
    cuts |= {32 + s.co, 32 + s.co + s.cb - 1, 32 + s.co + s.cb // 2, len(s.a) - 1}
    return sorted(c for c in cuts if 0 <= c < len(s.a))


EDGE16 = [0, 1, 2, 3, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
EDGE32 = [0, 1, 3, 4, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFC, 0xFFFFFFFF]


def stored_mutants(name, a):
    """(tag, bytes) corruptions of a stored artifact, CRCs re-sealed."""
    s = Stored(a)
    raw = len(a) - 32
    out = []
    for c in boundaries(s):
        out.append(("trunc%d" % c, a[:c]))
        out.append(
            (
                "trunc%d_hdrfix" % c,
                reseal(put(a[:c], 12, "<I", max(c - 32, 0)) if c >= 32 else a[:c]),
            )
        )
    for bit in range(32 * 8):  # every header bit, header CRC not fixed and fixed
        m = bytearray(a)
        m[bit // 8] ^= 1 << (bit % 8)
        out.append(("hbit%d" % bit, bytes(m)))
        out.append(("hbit%d_fix" % bit, reseal(m, body=True)))
    hdr_fields = [(4, "<H"), (6, "<H"), (8, "<H"), (10, "<H"), (12, "<I"), (16, "<I"), (20, "<I")]
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
        (0, "<H"),
        (2, "<H"),
        (4, "<H"),
        (6, "<H"),
        (8, "<I"),
        (12, "<I"),
        (16, "<I"),
        (20, "<I"),
    ]:
        for v in EDGE16 if fmt == "<H" else EDGE32 + [raw, raw - 4, raw + 4, 20, 24, 26]:
            out.append(("body%d_%x" % (f, v), reseal(put(a, 32 + f, fmt, v), True)))
    for bit in range(24 * 8):
        m = bytearray(a)
        m[32 + bit // 8] ^= 1 << (bit % 8)
        out.append(("bbit%d" % bit, reseal(m, True)))
    arena = struct.unpack_from("<I", a, 20)[0]
    out.append(("arena_minus1", reseal(put(a, 20, "<I", arena - 1), True)))
    out.append(("arena_half", reseal(put(a, 20, "<I", max(arena // 2, 1)), True)))
    out.append(("arena_huge", reseal(put(a, 20, "<I", 0x7FFFFFFF), True)))
    for i in range(min(s.nt, 6)):
        t = s.tensor(i)
        muts = [
            (0, "<B", 0),
            (0, "<B", 5),
            (1, "<B", 1),
            (2, "<H", 1),
            (4, "<H", 0),
            (4, "<H", 0xFFFF),
            (6, "<H", 0xFFFF),
            (8, "<H", 0xFFFF),
            (10, "<H", 0xFFFF),
            (10, "<H", 2),
            (12, "<I", 0),
            (12, "<I", 0x7F800000),
            (12, "<I", 0x7FC00000),
            (12, "<I", 0x80000001),
            (16, "<i", 128),
            (16, "<i", -129),
            (20, "<I", arena),
            (20, "<I", 0xFFFFFFFF),
            (20, "<I", arena - 1),
            (24, "<I", 0),
            (24, "<I", 0xFFFFFFFF),
            (28, "<I", 1),
        ]
        for off, fmt, v in muts:
            out.append(
                ("t%d_%d_%x" % (i, off, v & 0xFFFFFFFF), reseal(put(a, t + off, fmt, v), True))
            )
        # huge shape with a consistent byte size (overflow / arena checks)
        m = bytearray(put(put(put(a, t, "<B", 4), t + 24, "<I", 0), t + 20, "<I", 0))
        struct.pack_into("<4H", m, t + 4, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF)
        out.append(("t%d_hugeshape" % i, reseal(m, True)))
        struct.pack_into("<4H", m, t + 4, 1, 0xFFFF, 0xFFFF, 1)
        struct.pack_into("<I", m, t + 24, 0xFFFF * 0xFFFF)
        out.append(("t%d_bigshape" % i, reseal(m, True)))
        # overlap with every other tensor
        for j in range(min(s.nt, 6)):
            if j != i:
                off_j = struct.unpack_from("<I", a, s.tensor(j) + 20)[0]
                out.append(("t%d_overlap%d" % (i, j), reseal(put(a, t + 20, "<I", off_j), True)))
                out.append(
                    ("t%d_overlap%d_p1" % (i, j), reseal(put(a, t + 20, "<I", off_j + 1), True))
                )
    for i in range(min(s.no, 8)):
        r = s.op(i)
        for v in [0, 10, 11, 255] + list(range(1, 10)):
            out.append(("op%d_code%d" % (i, v), reseal(put(a, r, "<B", v), True)))
        muts = [
            (1, "<b", 127),
            (2, "<b", -128),
            (3, "<B", 1),
            (4, "<H", 0xFFFF),
            (4, "<H", s.nt),
            (6, "<H", 0),
            (6, "<H", s.nt - 1),
            (8, "<H", s.inp),
            (8, "<H", 0xFFFF),
            (10, "<H", 1),
        ]
        for w in range(9):
            muts += [(12 + 4 * w, "<I", v) for v in (0, 1, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF)]
        for off, fmt, v in muts:
            out.append(
                ("op%d_%d_%x" % (i, off, v & 0xFFFFFFFF), reseal(put(a, r + off, fmt, v), True))
            )
        for off in (12, 14, 16, 18, 20, 22, 24):  # window params: edges
            for v in (0, 1, 2, 255, 256, 0xFFFF):
                out.append(("op%d_w%d_%x" % (i, off, v), reseal(put(a, r + off, "<H", v), True)))
        for off in (28, 32, 36, 40):  # constant offsets past the end / misaligned
            for v in (s.cb, s.cb - 1, s.cb + 4, 2, 0xFFFFFFF0):
                out.append(
                    (
                        "op%d_c%d_%x" % (i, off, v & 0xFFFFFFFF),
                        reseal(put(a, r + off, "<I", v & 0xFFFFFFFF), True),
                    )
                )
        # out-of-range multiplier / shift in the first entries of the arrays
        if a[r] in (1, 2, 3):
            mo, so = struct.unpack_from("<II", a, r + 36)
            for v in (1, 0x3FFFFFFF, -1, -0x80000000):
                out.append(
                    (
                        "op%d_M%x" % (i, v & 0xFFFFFFFF),
                        reseal(put(a, 32 + s.co + mo, "<i", v), True),
                    )
                )
            for v in (-32, 31, 0x7FFFFFFF):
                out.append(
                    (
                        "op%d_e%x" % (i, v & 0xFFFFFFFF),
                        reseal(put(a, 32 + s.co + so, "<i", v), True),
                    )
                )
    # ops swapped (graph order), output set to an intermediate
    if s.no >= 2:
        m = bytearray(a)
        r0, r1 = s.op(0), s.op(1)
        m[r0 : r0 + 48], m[r1 : r1 + 48] = a[r1 : r1 + 48], a[r0 : r0 + 48]
        out.append(("ops_swapped", reseal(m, True)))
    # a body CRC that does not match (only the CRC check should fire)
    out.append(("bodycrc_bad", reseal(put(a, 24, "<I", struct.unpack_from("<I", a, 24)[0] ^ 1))))
    return [("%s_%s" % (name, t), m) for t, m in out]


def compressed_mutants(name, a):
    out = []
    stored = len(a) - 32
    raw = struct.unpack_from("<I", a, 16)[0]
    for c in sorted(
        {0, 8, 16, 31, 32, 33, 34, 35, 36, 40, 48, 64}
        | {32 + stored * k // 16 for k in range(16)}
        | {len(a) - k for k in range(1, 6)}
    ):
        if c < len(a):
            out.append(("trunc%d" % c, a[:c]))
    for v in (raw - 1, raw + 1, raw * 2, 24, 0x7FFFFFDF, raw - 4096):  # a raw size that lies
        if v >= 0:
            out.append(("rawlie_%x" % v, reseal(put(a, 16, "<I", v))))
    for v in (0, 5, 6, stored - 1, stored + 1, 0x7FFFFFDF):
        out.append(("storedlen_%x" % v, reseal(put(a, 12, "<I", v))))
    out.append(("flags_stored", reseal(put(a, 6, "<H", 0))))
    out.append(("bodycrc_bad", reseal(put(a, 24, "<I", struct.unpack_from("<I", a, 24)[0] ^ 1))))
    for k in range(0, min(stored, 64)):  # flip bits in the zlib header and first block header
        m = bytearray(a)
        m[32 + k] ^= 1 << (k % 8)
        out.append(("zbit%d" % k, reseal(m)))
    for k in range(1, 9):  # the Adler-32 trailer
        m = bytearray(a)
        m[len(a) - 1 - (k % 4)] ^= 1 << k % 8
        out.append(("adler%d" % k, reseal(m)))
    # body recompressed after a structural corruption: reaches kdc_init behind unpack
    body = zlib.decompress(a[32:])
    art = a[:32] + body
    art = reseal(put(art, 6, "<H", 0), True)
    for tag, m in stored_mutants("x", art)[::7]:
        if len(m) >= 32 and struct.unpack_from("<H", m, 6)[0] == 0:
            raw2 = struct.unpack_from("<I", m, 16)[0]
            nb = m[32 : 32 + raw2]
            if len(nb) != raw2:
                continue
            z = zlib.compress(nb, 9)
            h = bytearray(m[:32])
            struct.pack_into("<HII", h, 6, 1, 0, 0)
            struct.pack_into("<I", h, 12, len(z))
            struct.pack_into("<I", h, 16, raw2)
            struct.pack_into("<I", h, 24, crc(nb))
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


def build(tensors, ops, consts, arena):
    """A stored artifact as in docs/FORMAT.md section 6 (input tensor 0, output
    the last). tensors: (dims, scale, zp, arena_offset); ops: (opcode, act_min, act_max, in0, in1, out, params36)."""
    nt, no = len(tensors), len(ops)
    body = struct.pack(
        "<HHHHIIII", nt, no, 0, nt - 1, 24, 24 + 32 * nt, 24 + 32 * nt + 48 * no, len(consts)
    )
    for t in tensors:
        dims, scale, zp, off = t[:4]
        size = 1
        for d in dims:
            size *= d
        d4 = list(dims) + [1] * (4 - len(dims))
        body += struct.pack("<BBH4HfiIII", len(dims), 0, 0, *d4, scale, zp, off, size, 0)
    for opc, lo, hi, i0, i1, o, params in ops:
        body += struct.pack("<BbbBHHHH", opc, lo, hi, 0, i0, i1, o, 0) + params.ljust(36, b"\0")
    body += consts
    hdr = b"KDCM" + struct.pack("<HHHHIIII", 1, 0, 32, 0, len(body), len(body), arena, crc(body))
    return hdr + struct.pack("<I", crc(hdr)) + body


def compress(art):
    """The compressed form of a stored artifact."""
    body = art[32:]
    z = zlib.compress(body, 9)
    h = bytearray(art[:32])
    struct.pack_into("<H", h, 6, 1)
    struct.pack_into("<I", h, 12, len(z))
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
    return bytes(c), struct.pack("<IIII", *offs)


def out_len(n, k, s, pad, same):
    return -(-n // s) if same else (n - k) // s + 1


def valid_models():
    """Small valid single-op models reaching each kernel path from an artifact
    (conv: two-pixel, single-window, row-by-row, no weight-tail room; depthwise
    multipliers; pools with padding; GAP; ADD; RESHAPE in place; CLAMP; FC)."""
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
        params = struct.pack("<8H", k, k, st, st, ph, pw, 0, 0) + offs
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
        params = struct.pack("<8H", k, k, st, st, ph, pw, dm, 0) + offs
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
            params = struct.pack("<8H", k, k, st, st, ph, pw, 0, 0)
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
    qa = struct.pack("<6i", 0x50000000, -1, 0x60000000, 0, 0x7FFFFFFF, 1)
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
    for k, n in ((4096, 3), (1, 1), (17, 33)):
        c, offs = consts_for(rng, k * n, n, e=-12)
        art = build(
            [((1, k), 0.5, 0, 0), ((1, n), 0.5, 0, k)],
            [(1, -128, 127, 0, 0xFFFF, 1, b"\0" * 16 + offs)],
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
    files = []
    for name, a in sorted(bases.items()):
        files.append((name, a))
        if len(a) < 32:
            continue
        muts = (
            compressed_mutants(name, a)
            if struct.unpack_from("<H", a, 6)[0] & 1
            else stored_mutants(name, a)
        )
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
