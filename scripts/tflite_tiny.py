"""One-op int8 .tflite models, written with LiteRT's own flatbuffer schema module
(`ai_edge_litert.schema_py_generated`, object API), so that scripts/tflite_rounding.py can ask the
reference kernels about cases the MLPerf Tiny models never reach: exact rounding ties, per-channel
FULLY_CONNECTED, per-tensor CONV_2D, softmax scales and betas, ADD scale ratios.

Only what those single-op models need; not a general writer.
"""

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as s

INT8, INT32 = s.TensorType.INT8, s.TensorType.INT32


def _quant(scales, zps, dim=0):
    q = s.QuantizationParametersT()
    q.scale = [float(v) for v in scales]
    q.zeroPoint = [int(v) for v in zps]
    q.quantizedDimension = dim
    return q


class _Builder:
    def __init__(self):
        self.tensors, self.buffers = [], [s.BufferT()]

    def tensor(self, name, shape, ttype, scales, zps, data=None, dim=0):
        t = s.TensorT()
        t.name, t.shape, t.type = name, list(shape), ttype
        t.quantization = _quant(scales, zps, dim)
        t.buffer = 0
        if data is not None:
            b = s.BufferT()
            b.data = list(np.ascontiguousarray(data).tobytes())
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def model(self, code, options_type, options, inputs, output, graph_inputs):
        oc = s.OperatorCodeT()
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, 127)
        oc.version = 1
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = 0, list(inputs), [output]
        op.builtinOptionsType, op.builtinOptions = options_type, options
        sg = s.SubGraphT()
        sg.tensors, sg.operators = self.tensors, [op]
        sg.inputs, sg.outputs = list(graph_inputs), [output]
        m = s.ModelT()
        m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, [oc], [sg], self.buffers
        fb = flatbuffers.Builder(1024)
        fb.Finish(m.Pack(fb), file_identifier=b"TFL3")
        return bytes(fb.Output())


def fully_connected(k, w, bias, sx, zx, sw, so, zo, fused=0):
    """x int8 [1, k] -> y int8 [1, n]; w int8 [n, k]; sw one scale or n (per channel)."""
    n = w.shape[0]
    b = _Builder()
    x = b.tensor("x", [1, k], INT8, [sx], [zx])
    wt = b.tensor("w", [n, k], INT8, sw, [0] * len(sw), w.astype(np.int8))
    bs = [sx * v for v in sw]
    bt = b.tensor("b", [n], INT32, bs, [0] * len(bs), bias.astype(np.int32))
    y = b.tensor("y", [1, n], INT8, [so], [zo])
    o = s.FullyConnectedOptionsT()
    o.fusedActivationFunction = fused
    return b.model(s.BuiltinOperator.FULLY_CONNECTED, s.BuiltinOptions.FullyConnectedOptions,
                   o, [x, wt, bt], y, [x])  # fmt: skip


def conv2d(h, wd, w, bias, sx, zx, sw, so, zo, stride=1, same=True):
    """x int8 [1, h, wd, cin] -> y; w int8 [cout, kh, kw, cin]; sw one scale or cout."""
    cout, kh, kw, cin = w.shape
    b = _Builder()
    x = b.tensor("x", [1, h, wd, cin], INT8, [sx], [zx])
    wt = b.tensor("w", list(w.shape), INT8, sw, [0] * len(sw), w.astype(np.int8))
    bs = [sx * v for v in sw]
    bt = b.tensor("b", [cout], INT32, bs, [0] * len(bs), bias.astype(np.int32))
    oh = -(-h // stride) if same else (h - kh) // stride + 1
    ow = -(-wd // stride) if same else (wd - kw) // stride + 1
    y = b.tensor("y", [1, oh, ow, cout], INT8, [so], [zo])
    o = s.Conv2DOptionsT()
    o.padding = s.Padding.SAME if same else s.Padding.VALID
    o.strideH = o.strideW = stride
    o.dilationHFactor = o.dilationWFactor = 1
    return b.model(
        s.BuiltinOperator.CONV_2D, s.BuiltinOptions.Conv2DOptions, o, [x, wt, bt], y, [x]
    )


def add(n, sa, za, sb, zb, so, zo):
    """a, b int8 [1, n] -> y int8 [1, n]."""
    b = _Builder()
    a = b.tensor("a", [1, n], INT8, [sa], [za])
    c = b.tensor("b", [1, n], INT8, [sb], [zb])
    y = b.tensor("y", [1, n], INT8, [so], [zo])
    return b.model(
        s.BuiltinOperator.ADD, s.BuiltinOptions.AddOptions, s.AddOptionsT(), [a, c], y, [a, c]
    )


def softmax(n, sx, zx, beta):
    """x int8 [1, n] -> y int8 [1, n], output scale 1/256, zero point −128."""
    b = _Builder()
    x = b.tensor("x", [1, n], INT8, [sx], [zx])
    y = b.tensor("y", [1, n], INT8, [1.0 / 256], [-128])
    o = s.SoftmaxOptionsT()
    o.beta = beta
    return b.model(s.BuiltinOperator.SOFTMAX, s.BuiltinOptions.SoftmaxOptions, o, [x], y, [x])


def avg_pool(h, wd, c, k, stride, same, sx, zx):
    b = _Builder()
    x = b.tensor("x", [1, h, wd, c], INT8, [sx], [zx])
    oh = -(-h // stride) if same else (h - k) // stride + 1
    ow = -(-wd // stride) if same else (wd - k) // stride + 1
    y = b.tensor("y", [1, oh, ow, c], INT8, [sx], [zx])
    o = s.Pool2DOptionsT()
    o.padding = s.Padding.SAME if same else s.Padding.VALID
    o.strideH = o.strideW = stride
    o.filterHeight = o.filterWidth = k
    return b.model(
        s.BuiltinOperator.AVERAGE_POOL_2D, s.BuiltinOptions.Pool2DOptions, o, [x], y, [x]
    )
