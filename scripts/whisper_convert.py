#!/usr/bin/env python3
"""Convert a faster-whisper (CTranslate2) Whisper model into livecut's two ONNX graphs.

    python3 scripts/whisper_convert.py MODEL_DIR OUT_DIR [--name whisper_base]

MODEL_DIR is a faster-whisper folder (model.bin, config.json, tokenizer.json; e.g. a
Systran/faster-whisper-* snapshot: tiny ... large-v3, turbo). Writes into OUT_DIR:
  <name>_encoder.onnx    mel [B,M,F] -> for every decoder layer l = 0 .. L-1:
                           cross_k_l [B,H,dh,N] (keys, transposed per head),
                           cross_v_l [B,H,N,dh] (values per head)
  <name>_decoder.onnx    tokens [B,T] int64, self_k_l [B,H,dh,P], self_v_l [B,H,P,dh]
                         (l = 0 .. L-1), cross_k_l, cross_v_l (as the encoder wrote them)
                         -> logits [B,T,V], new_self_k_l [B,H,dh,P+T],
                            new_self_v_l [B,H,P+T,dh]
  <name>_int8_encoder.onnx, <name>_int8_decoder.onnx   the same graphs with 8-bit weights
                         (ONNX Runtime's MatMulNBits, blocks of 32, one float32 scale each;
                         the encoder's self-attention as MultiHeadAttention): what livecut
                         runs on the CPU (~1/3.5 of the weights' memory, decoder steps ~3x
                         faster; `--speech-weights float32` runs the exact graphs)
  <name>_tokenizer.json, <name>_config.json   copied as they are
  <name>.toml            the spec livecut reads (sha256 of every file filled in)
(M mel bins, F = 2N frames, N encoder positions, L decoder layers, D model width, H decoder
heads, dh = D / H, V vocabulary, all read from model.bin; P cached positions, T new tokens.)
Inputs named in that order: tokens, self_k_0, self_v_0, ..., cross_k_0, cross_v_0, ...;
outputs: logits, new_self_k_0, new_self_v_0, ....

Why these layouts: a decoder step reads every layer's cross keys/values as they are (no
Gather of one layer out of a stacked [L,...] tensor, which ONNX Runtime copies, and no
per-head Transpose: q k^T and p v are plain batched MatMuls over the stored tensors), and the
self-attention cache of each layer is its own tensor, so a step's only cache copy is the
Concat that appends the new position (the caller feeds new_self_*_l back as self_*_l). The
arithmetic is the same as with stacked [L,B,N,D] tensors: logits, caches and the encoder's
keys/values are bit-identical to that layout's (only the data movement changed), and a step
costs about 40 % less on CPU (whisper base in livecut: ~21 -> ~13 ms per token on one
thread, ~13 -> ~8 ms on two).

Graphs whose weights exceed ~1.8 GB (medium, large) keep them in `<file>.data` beside the
.onnx (ONNX external data), listed in the spec too.

Needs numpy and onnx only (scripts/fetch_models.py runs it inside its pinned environment,
and so does this CLI). The output is deterministic: same model.bin, same bytes.

model.bin (CTranslate2 binary format, version 6; little endian):
  u32 binary_version, str spec_name, u32 spec_revision, u32 n_variables,
  n_variables x (str name, u8 rank, u32 dims[rank], u8 dtype, u32 n_bytes, bytes),
  u32 n_aliases, n_aliases x (str alias, str target)
  with str = u16 length (including a trailing NUL), bytes, NUL; dtype 0 f32, 1 i8, 2 i16,
  3 i32, 4 f16, 5 bf16. Rank-0 variables are scalar attributes (num_heads, pre_norm, ...).

The graphs (pre-norm Transformer, as CTranslate2's WhisperEncoder / TransformerDecoder):
  encoder: Conv1d(k3,p1)+GELU, Conv1d(k3,s2,p1)+GELU, transpose, + sinusoidal positions,
    layers [x += SelfAttn(LN(x)); x += FFN(LN(x))], final LN, then for every decoder layer l
    K = x Wk_l^T + bk_l, V = x Wv_l^T + bv_l (the decoder's cross-attention `linear_1`, fused
    k;v) split into heads: cross_k_l = K as [B,H,dh,N], cross_v_l = V as [B,H,N,dh].
  decoder: x = E[tokens] + Pos[P .. P+T-1]; layers [x += SelfAttn(LN(x)) with the cache
    (new keys/values appended per head) and a causal mask; x += CrossAttn(LN(x), cross_k_l,
    cross_v_l); x += FFN(LN(x))]; final LN;
    logits = x E^T (tied output projection, as Gemm transB).
  Attention softmax(q k^T / sqrt(d_head)) v per head, the 1/sqrt(d_head) folded into the
  query weights and bias (exact for d_head = 64: a power of two). LayerNormalization eps 1e-5.
  GELU as 0.5 x (1 + erf(x / sqrt 2)) in plain ops (ONNX Runtime fuses it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import mmap
import os
import shutil
import struct
import sys
from pathlib import Path

OPSET = 17
IR_VERSION = 8  # what opset 17 needs; readable by ONNX Runtime >= 1.13
EXTERNAL_LIMIT = 1_800_000_000  # bytes of weights above which a graph keeps them outside
CONVERTER_ID = "scripts/whisper_convert.py (livecut)"
DTYPES = {0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2", 5: "bf16"}
DTYPE_NAMES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
LN_EPS = 1e-5
HEADS = [0, 2, 1, 3]    # [B,S,H,dh] -> [B,H,S,dh]
KEYS_T = [0, 2, 3, 1]   # [B,S,H,dh] -> [B,H,dh,S] (keys transposed for q k^T)
MS_DOMAIN = "com.microsoft"  # ONNX Runtime's contrib operators
INT8_BLOCK = 32          # weights per quantisation block (one scale each) of the int8 graphs
INT8_ACCURACY = 4        # MatMulNBits accuracy_level 4: int8 products (AVX2/AVX-512 VNNI)


class ConvertError(Exception):
    pass


# --------------------------------------------------------------------------------------
# model.bin


class Ct2Model:
    """The variables of a CTranslate2 model.bin (memory-mapped; arrays made on demand)."""

    def __init__(self, path: Path):
        self.path = path
        f = open(path, "rb")
        self._f = f
        try:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError as e:  # empty file
            raise ConvertError(f"{path}: cannot map ({e})")
        mm = self._mm
        pos = 0

        def take(fmt: str):
            nonlocal pos
            size = struct.calcsize("<" + fmt)
            if pos + size > len(mm):
                raise ConvertError(f"{path}: truncated at byte {pos}")
            v = struct.unpack_from("<" + fmt, mm, pos)
            pos += size
            return v[0] if len(v) == 1 else v

        def string() -> str:
            nonlocal pos
            n = take("H")
            if n == 0 or pos + n > len(mm) or mm[pos + n - 1] != 0:
                raise ConvertError(f"{path}: bad string at byte {pos}")
            s = bytes(mm[pos:pos + n - 1]).decode("utf-8")
            pos += n
            return s

        self.binary_version = take("I")
        if self.binary_version != 6:
            raise ConvertError(f"{path}: CTranslate2 binary version {self.binary_version}; "
                               "this converter reads version 6 (CTranslate2 >= 3.0 models)")
        self.spec = string()
        self.revision = take("I")
        if self.spec != "WhisperSpec":
            raise ConvertError(f"{path}: spec {self.spec!r} is not a Whisper model")
        self.vars: dict[str, tuple[int, tuple[int, ...], int, int]] = {}
        for _ in range(take("I")):
            name = string()
            rank = take("B")
            dims = tuple(take("I") for _ in range(rank))
            dtype = take("B")
            nbytes = take("I")
            if dtype not in DTYPES:
                raise ConvertError(f"{path}: variable {name} has unknown dtype id {dtype}")
            if pos + nbytes > len(mm):
                raise ConvertError(f"{path}: variable {name} runs past the end of the file")
            self.vars[name] = (dtype, dims, pos, nbytes)
            pos += nbytes
        self.aliases: dict[str, str] = {}
        for _ in range(take("I")):
            alias = string()
            self.aliases[alias] = string()
        if pos != len(mm):
            raise ConvertError(f"{path}: {len(mm) - pos} unexpected bytes after the aliases")

    def close(self) -> None:
        self._mm.close()
        self._f.close()

    def resolve(self, name: str) -> str:
        seen = set()
        while name in self.aliases and name not in seen:
            seen.add(name)
            name = self.aliases[name]
        return name

    def has(self, name: str) -> bool:
        return self.resolve(name) in self.vars

    def shape(self, name: str) -> tuple[int, ...]:
        return self.vars[self.resolve(name)][1]

    def raw(self, name: str):
        import numpy as np

        real = self.resolve(name)
        if real not in self.vars:
            raise ConvertError(f"{self.path}: no variable {name}")
        dtype, dims, off, nbytes = self.vars[real]
        if dtype == 5:
            u = np.frombuffer(self._mm, dtype="<u2", count=nbytes // 2, offset=off)
            a = (u.astype(np.uint32) << 16).view(np.float32)
        else:
            dt = np.dtype(DTYPES[dtype])
            a = np.frombuffer(self._mm, dtype=dt, count=nbytes // dt.itemsize, offset=off)
        if a.size != math.prod(dims):
            raise ConvertError(f"{self.path}: variable {name}: {a.size} values for shape {dims}")
        return a.reshape(dims)

    def f32(self, name: str):
        """A float variable as a new float32 array (float16/bfloat16 widened exactly)."""
        import numpy as np

        real = self.resolve(name)
        dtype = self.vars[real][0] if real in self.vars else None
        if dtype in (1, 2, 3):
            scale = real + "_scale"
            raise ConvertError(
                f"{self.path}: {name} is {DTYPE_NAMES[dtype]}"
                + (" (quantized)" if scale in self.vars else "")
                + "; use a float16/float32 conversion of the model (faster-whisper's default)")
        return np.array(self.raw(name), dtype=np.float32, copy=True)  # never a view of the map

    def scalar(self, name: str, default=None):
        if not self.has(name):
            if default is None:
                raise ConvertError(f"{self.path}: no attribute {name}")
            return default
        a = self.raw(name)
        if a.ndim != 0:
            raise ConvertError(f"{self.path}: {name} is not a scalar")
        return a.item()


def count_layers(m: Ct2Model, scope: str) -> int:
    n = 0
    while m.has(f"{scope}/layer_{n}/ffn/linear_0/weight"):
        n += 1
    return n


def model_dims(m: Ct2Model) -> dict:
    """Every size the graphs need, read from model.bin; refuses layouts it does not know."""
    emb = m.shape("decoder/embeddings/weight")
    if len(emb) != 2:
        raise ConvertError("decoder/embeddings/weight is not 2-D")
    vocab, d = emb
    conv1 = m.shape("encoder/conv1/weight")
    if len(conv1) != 3 or conv1[0] != d or conv1[2] != 3:
        raise ConvertError(f"encoder/conv1/weight has shape {conv1}, expected [{d}, mels, 3]")
    n_mels = conv1[1]
    if m.has("encoder/position_encodings/encodings"):
        n_ctx, pd = m.shape("encoder/position_encodings/encodings")
        if pd != d:
            raise ConvertError("encoder position encodings do not match d_model")
    else:
        n_ctx = 1500
    text_ctx, pd = m.shape("decoder/position_encodings/encodings")
    if pd != d:
        raise ConvertError("decoder position encodings do not match d_model")
    dims = {
        "n_mels": int(n_mels), "n_frames": int(2 * n_ctx), "n_audio_ctx": int(n_ctx),
        "n_text_ctx": int(text_ctx), "d_model": int(d), "n_vocab": int(vocab),
        "encoder_layers": count_layers(m, "encoder"), "decoder_layers": count_layers(m, "decoder"),
        "encoder_heads": int(m.scalar("encoder/num_heads", 8)),
        "decoder_heads": int(m.scalar("decoder/num_heads", 8)),
    }
    for k in ("encoder_heads", "decoder_heads"):
        if d % dims[k]:
            raise ConvertError(f"d_model {d} is not a multiple of {k} {dims[k]}")
    if not dims["encoder_layers"] or not dims["decoder_layers"]:
        raise ConvertError("no encoder or decoder layers found")
    checks = {"decoder/pre_norm": (1, True), "decoder/scale_embeddings": (0, False),
              "decoder/activation": (3, 3), "decoder/alibi": (0, False),
              "decoder/start_from_zero_embedding": (0, False)}
    for name, (default, want) in checks.items():
        if m.scalar(name, default) != want:
            raise ConvertError(f"{name} = {m.scalar(name, default)}: not a Whisper layout this "
                               "converter knows")
    for name in ("decoder/layernorm_embedding/gamma", "encoder/layernorm_embedding/gamma"):
        if m.has(name):
            raise ConvertError(f"{name}: unexpected for Whisper")
    return dims


def sinusoids(length: int, channels: int):
    """Whisper's encoder positions: [sin(t * f_i), cos(t * f_i)] with
    f_i = exp(-i * ln(10000) / (channels/2 - 1)), i < channels/2."""
    import numpy as np

    inc = np.log(10000) / (channels // 2 - 1)
    inv = np.exp(-inc * np.arange(channels // 2))
    t = np.arange(length)[:, None] * inv[None, :]
    return np.concatenate([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


# --------------------------------------------------------------------------------------
# Graph builder


class Builder:
    def __init__(self, name: str):
        self.name = name
        self.nodes = []
        self.inits: list[tuple[str, object]] = []  # (name, numpy array)
        self._names: set[str] = set()
        self._consts: dict[tuple, str] = {}
        self._n = 0

    def init(self, name: str, array) -> str:
        if name in self._names:
            raise ConvertError(f"duplicate initializer {name}")
        self._names.add(name)
        self.inits.append((name, array))
        return name

    def const(self, value, dtype: str) -> str:
        """A small constant (shared by value)."""
        import numpy as np

        a = np.array(value, dtype=dtype)
        key = (a.dtype.str, a.shape, a.tobytes())
        if key not in self._consts:
            self._consts[key] = self.init(f"const_{len(self._consts)}", a)
        return self._consts[key]

    def op(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1, **attrs):
        from onnx import helper

        self._n += 1
        tag = f"{op_type}_{self._n}"
        outs = outputs if isinstance(outputs, list) else [
            f"{tag}_out{i}" if outputs > 1 else tag for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=tag, **attrs))
        return outs[0] if len(outs) == 1 else outs

    # Layers ---------------------------------------------------------------------------

    def linear(self, x: str, w: str, b: str | None) -> str:
        y = self.op("MatMul", [x, w])
        return self.op("Add", [y, b]) if b else y

    def layer_norm(self, x: str, gamma: str, beta: str) -> str:
        return self.op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=LN_EPS)

    def gelu(self, x: str) -> str:
        d = self.op("Div", [x, self.const(math.sqrt(2.0), "float32")])
        e = self.op("Erf", [d])
        a = self.op("Add", [e, self.const(1.0, "float32")])
        m = self.op("Mul", [x, a])
        return self.op("Mul", [m, self.const(0.5, "float32")])

    def heads(self, x: str, h: int, dh: int, perm: list[int], out: str | None = None) -> str:
        """[B,S,D] -> [B,S,H,dh] -> permuted (into `out` when given)."""
        r = self.op("Reshape", [x, self.const([0, 0, h, dh], "int64")])
        return self.op("Transpose", [r], outputs=[out] if out else 1, perm=perm)

    def attend(self, qh: str, kt: str, vh: str, d: int, mask: str | None) -> str:
        """Per-head attention: qh [B,H,T,dh] (pre-scaled), kt [B,H,dh,S] (keys transposed),
        vh [B,H,S,dh] -> [B,T,D] (D = H*dh)."""
        s = self.op("MatMul", [qh, kt])             # [B,H,T,S]
        if mask:
            s = self.op("Add", [s, mask])
        p = self.op("Softmax", [s], axis=-1)
        o = self.op("MatMul", [p, vh])              # [B,H,T,dh]
        o = self.op("Transpose", [o], perm=[0, 2, 1, 3])
        return self.op("Reshape", [o, self.const([0, 0, d], "int64")])

    def attention(self, q: str, k: str, v: str, h: int, dh: int, mask: str | None) -> str:
        """q [B,T,D] (pre-scaled), k, v [B,S,D] -> [B,T,D]."""
        return self.attend(self.heads(q, h, dh, HEADS), self.heads(k, h, dh, KEYS_T),
                           self.heads(v, h, dh, HEADS), h * dh, mask)

    def model(self, inputs, outputs, meta: dict[str, str]):
        from onnx import helper, numpy_helper

        graph = helper.make_graph(self.nodes, self.name, inputs, outputs)
        # One initializer at a time (the float32 arrays are released as they are copied).
        inits, self.inits = self.inits, []
        while inits:
            n, a = inits.pop(0)
            graph.initializer.add().CopyFrom(numpy_helper.from_array(a, n))
            del a
        domains = {n.domain for n in self.nodes} - {""}
        opsets = [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(d, 1)
                                                      for d in sorted(domains)]
        model = helper.make_model(graph, opset_imports=opsets,
                                  producer_name="livecut whisper_convert",
                                  producer_version="1", ir_version=IR_VERSION)
        for k in sorted(meta):
            p = model.metadata_props.add()
            p.key, p.value = k, meta[k]
        return model


class Weights:
    """Float32 weights of one layer scope, with CTranslate2's [out, in] matrices transposed
    to [in, out] for MatMul."""

    def __init__(self, m: Ct2Model, b: Builder, d: int, q_scale: float):
        self.m, self.b, self.d, self.q_scale = m, b, d, q_scale

    def ln(self, scope: str, tag: str) -> tuple[str, str]:
        return (self.b.init(f"{tag}.ln.gamma", self.m.f32(f"{scope}/gamma")),
                self.b.init(f"{tag}.ln.beta", self.m.f32(f"{scope}/beta")))

    def lin(self, scope: str, tag: str, rows: slice | None = None, scale_rows: int = 0):
        """linear weight [out,in] -> [in,out] (+ bias); `rows` picks part of a fused matrix;
        the first `scale_rows` output rows are multiplied by the query scale."""
        import numpy as np

        w = self.m.f32(f"{scope}/weight")
        bias = self.m.f32(f"{scope}/bias") if self.m.has(f"{scope}/bias") else None
        if rows is not None:
            w = w[rows]
            bias = bias[rows] if bias is not None else None
        if scale_rows:
            w = w.copy()
            w[:scale_rows] *= np.float32(self.q_scale)
            if bias is not None:
                bias = bias.copy()
                bias[:scale_rows] *= np.float32(self.q_scale)
        wn = self.b.init(f"{tag}.weight", np.ascontiguousarray(w.T))
        bn = self.b.init(f"{tag}.bias", np.ascontiguousarray(bias)) if bias is not None else None
        return wn, bn


def self_attention_block(b: Builder, w: Weights, scope: str, tag: str, x: str, h: int,
                         dh: int, fused: bool = False) -> str:
    """Encoder self-attention: x += out(attn(LN(x))) with the fused qkv `linear_0`. `fused`:
    ONNX Runtime's com.microsoft.MultiHeadAttention (its CPU kernel works block by block,
    flash-attention style, instead of holding every head's 1500 x 1500 scores and their
    softmax: -100 MB at the encoder's peak; the same tokens on every reference input)."""
    d = w.d
    g, be = w.ln(f"{scope}/layer_norm", f"{tag}.self_attn")
    hn = b.layer_norm(x, g, be)
    wq, bq = w.lin(f"{scope}/linear_0", f"{tag}.self_attn.qkv", scale_rows=d)
    qkv = b.linear(hn, wq, bq)
    q, k, v = b.op("Split", [qkv, b.const([d, d, d], "int64")], outputs=3, axis=-1)
    if fused:  # the query is pre-scaled: scale 1
        o = b.op("MultiHeadAttention", [q, k, v], domain=MS_DOMAIN, num_heads=h, scale=1.0)
    else:
        o = b.attention(q, k, v, h, dh, None)
    wo, bo = w.lin(f"{scope}/linear_1", f"{tag}.self_attn.out")
    return b.op("Add", [x, b.linear(o, wo, bo)])


def cached_self_attention_block(b: Builder, w: Weights, scope: str, tag: str, x: str, h: int,
                                dh: int, layer: int, mask: str) -> str:
    """Decoder self-attention with the layer's cache: the new tokens' keys, transposed per
    head [B,H,dh,T], are appended to self_k_<layer> [B,H,dh,P] (-> new_self_k_<layer>), their
    values [B,H,T,dh] to self_v_<layer> [B,H,P,dh] (-> new_self_v_<layer>)."""
    d = w.d
    g, be = w.ln(f"{scope}/layer_norm", f"{tag}.self_attn")
    hn = b.layer_norm(x, g, be)
    wq, bq = w.lin(f"{scope}/linear_0", f"{tag}.self_attn.qkv", scale_rows=d)
    qkv = b.linear(hn, wq, bq)
    q, k, v = b.op("Split", [qkv, b.const([d, d, d], "int64")], outputs=3, axis=-1)
    kt = b.op("Concat", [f"self_k_{layer}", b.heads(k, h, dh, KEYS_T)],
              outputs=[f"new_self_k_{layer}"], axis=3)                  # [B,H,dh,P+T]
    vh = b.op("Concat", [f"self_v_{layer}", b.heads(v, h, dh, HEADS)],
              outputs=[f"new_self_v_{layer}"], axis=2)                  # [B,H,P+T,dh]
    o = b.attend(b.heads(q, h, dh, HEADS), kt, vh, d, mask)
    wo, bo = w.lin(f"{scope}/linear_1", f"{tag}.self_attn.out")
    return b.op("Add", [x, b.linear(o, wo, bo)])


def ffn_block(b: Builder, w: Weights, scope: str, tag: str, x: str) -> str:
    g, be = w.ln(f"{scope}/layer_norm", f"{tag}.ffn")
    hn = b.layer_norm(x, g, be)
    w1, b1 = w.lin(f"{scope}/linear_0", f"{tag}.ffn.fc1")
    w2, b2 = w.lin(f"{scope}/linear_1", f"{tag}.ffn.fc2")
    return b.op("Add", [x, b.linear(b.gelu(b.linear(hn, w1, b1)), w2, b2)])


def tensor_info(name: str, elem, dims):
    from onnx import helper

    return helper.make_tensor_value_info(name, elem, dims)


def build_encoder(m: Ct2Model, dims: dict, meta: dict, fused: bool = False):
    import numpy as np
    from onnx import TensorProto

    d, hn = dims["d_model"], dims["encoder_heads"]
    dh = d // hn
    L = dims["decoder_layers"]
    b = Builder("whisper_encoder")
    w = Weights(m, b, d, 1.0 / math.sqrt(dh))
    x = b.op("Conv", ["mel", b.init("encoder.conv1.weight", m.f32("encoder/conv1/weight")),
                      b.init("encoder.conv1.bias", m.f32("encoder/conv1/bias"))],
             kernel_shape=[3], pads=[1, 1], strides=[1])
    x = b.gelu(x)
    c2 = m.shape("encoder/conv2/weight")
    if c2 != (d, d, 3):
        raise ConvertError(f"encoder/conv2/weight has shape {c2}")
    x = b.op("Conv", [x, b.init("encoder.conv2.weight", m.f32("encoder/conv2/weight")),
                      b.init("encoder.conv2.bias", m.f32("encoder/conv2/bias"))],
             kernel_shape=[3], pads=[1, 1], strides=[2])
    x = b.gelu(x)
    x = b.op("Transpose", [x], perm=[0, 2, 1])  # [B,N,D]
    if m.has("encoder/position_encodings/encodings"):
        pos = m.f32("encoder/position_encodings/encodings")
    else:
        pos = sinusoids(dims["n_audio_ctx"], d)
    x = b.op("Add", [x, b.init("encoder.positions", pos)])
    for i in range(dims["encoder_layers"]):
        s, t = f"encoder/layer_{i}", f"encoder.layer{i}"
        x = self_attention_block(b, w, f"{s}/self_attention", t, x, hn, dh, fused)
        x = ffn_block(b, w, f"{s}/ffn", t, x)
    g, be = w.ln("encoder/layer_norm", "encoder.final")
    x = b.layer_norm(x, g, be)
    # Cross-attention keys and values of every decoder layer (the decoder's fused k;v
    # `linear_1` applied here once per window), already in the decoder's per-head layouts.
    h = dims["decoder_heads"]
    dhd = d // h
    n = dims["n_audio_ctx"]
    outputs = []
    for l in range(L):
        scope = f"decoder/layer_{l}/attention/linear_1"
        shape = m.shape(f"{scope}/weight")
        if shape != (2 * d, d):
            raise ConvertError(f"{scope}/weight has shape {shape}, expected fused k;v")
        wkv = m.f32(f"{scope}/weight")
        bkv = m.f32(f"{scope}/bias") if m.has(f"{scope}/bias") else np.zeros(2 * d, np.float32)
        for part, rows, perm, shape in (("k", slice(0, d), KEYS_T, ["B", h, dhd, n]),
                                        ("v", slice(d, 2 * d), HEADS, ["B", h, n, dhd])):
            wn = b.init(f"cross{l}.{part}.weight", np.ascontiguousarray(wkv[rows].T))
            bn = b.init(f"cross{l}.{part}.bias", np.ascontiguousarray(bkv[rows]))
            name = f"cross_{part}_{l}"
            b.heads(b.linear(x, wn, bn), h, dhd, perm, out=name)
            outputs.append(tensor_info(name, TensorProto.FLOAT, shape))
        del wkv, bkv
    return b.model(
        [tensor_info("mel", TensorProto.FLOAT, ["B", dims["n_mels"], dims["n_frames"]])],
        outputs, {**meta, "livecut_graph": "encoder"})


def build_decoder(m: Ct2Model, dims: dict, meta: dict):
    import numpy as np
    from onnx import TensorProto

    d, hn = dims["d_model"], dims["decoder_heads"]
    dh = d // hn
    L, V = dims["decoder_layers"], dims["n_vocab"]
    b = Builder("whisper_decoder")
    w = Weights(m, b, d, 1.0 / math.sqrt(dh))
    i64 = "int64"
    # P (cached positions) and T (new tokens) as scalars.
    p1 = b.op("Shape", ["self_k_0"], start=3, end=4)
    t1 = b.op("Shape", ["tokens"], start=1, end=2)
    s1 = b.op("Add", [p1, t1])
    zero_axis = b.const([0], i64)
    p0 = b.op("Squeeze", [p1, zero_axis])
    s0 = b.op("Squeeze", [s1, zero_axis])
    one = b.const(1, i64)
    positions = b.op("Range", [p0, s0, one])                              # [T]: P..P+T-1
    emb = b.init("decoder.embeddings", m.f32("decoder/embeddings/weight"))
    pos_table = b.init("decoder.positions", m.f32("decoder/position_encodings/encodings"))
    x = b.op("Add", [b.op("Gather", [emb, "tokens"], axis=0),
                     b.op("Gather", [pos_table, positions], axis=0)])   # [B,T,D]
    # Causal mask [T, P+T]: key j is visible from new token i when j <= P + i.
    cols = b.op("Range", [b.const(0, i64), s0, one])
    later = b.op("Greater", [b.op("Unsqueeze", [cols, zero_axis]),
                             b.op("Unsqueeze", [positions, b.const([1], i64)])])
    mask = b.op("Where", [later, b.const(-np.inf, "float32"), b.const(0.0, "float32")])
    for l in range(L):
        s, t = f"decoder/layer_{l}", f"decoder.layer{l}"
        x = cached_self_attention_block(b, w, f"{s}/self_attention", t, x, hn, dh, l, mask)
        # Cross-attention: q from linear_0, keys (transposed) and values per head from the
        # encoder's outputs, used as they are (no copy per step).
        g, be = w.ln(f"{s}/attention/layer_norm", f"{t}.cross_attn")
        hq = b.layer_norm(x, g, be)
        wq, bq = w.lin(f"{s}/attention/linear_0", f"{t}.cross_attn.q", scale_rows=d)
        qh = b.heads(b.linear(hq, wq, bq), hn, dh, HEADS)
        o = b.attend(qh, f"cross_k_{l}", f"cross_v_{l}", d, None)
        wo, bo = w.lin(f"{s}/attention/linear_2", f"{t}.cross_attn.out")
        x = b.op("Add", [x, b.linear(o, wo, bo)])
        x = ffn_block(b, w, f"{s}/ffn", t, x)
    g, be = w.ln("decoder/layer_norm", "decoder.final")
    x = b.layer_norm(x, g, be)
    if m.has("decoder/projection/weight") and \
            m.resolve("decoder/projection/weight") != m.resolve("decoder/embeddings/weight"):
        raise ConvertError("decoder/projection/weight is not tied to the embeddings")
    flat = b.op("Reshape", [x, b.const([-1, d], i64)])
    proj_bias = []
    if m.has("decoder/projection/bias"):
        proj_bias = [b.init("decoder.projection.bias", m.f32("decoder/projection/bias"))]
    logits = b.op("Gemm", [flat, emb, *proj_bias], transB=1)             # [B*T, V]
    out_shape = b.op("Concat", [b.op("Shape", ["tokens"]), b.const([V], i64)], axis=0)
    b.op("Reshape", [logits, out_shape], outputs=["logits"])
    F = TensorProto.FLOAT
    inputs = [tensor_info("tokens", TensorProto.INT64, ["B", "T"])]
    outputs = [tensor_info("logits", F, ["B", "T", V])]
    for l in range(L):
        inputs += [tensor_info(f"self_k_{l}", F, ["B", hn, dh, "P"]),
                   tensor_info(f"self_v_{l}", F, ["B", hn, "P", dh])]
        outputs += [tensor_info(f"new_self_k_{l}", F, ["B", hn, dh, "P_plus_T"]),
                    tensor_info(f"new_self_v_{l}", F, ["B", hn, "P_plus_T", dh])]
    # N (encoder positions) is left open: a window's full encoding has n, keyword scoring
    # feeds shorter blocks of it.
    for l in range(L):
        inputs += [tensor_info(f"cross_k_{l}", F, ["B", hn, dh, "N"]),
                   tensor_info(f"cross_v_{l}", F, ["B", hn, "N", dh])]
    return b.model(inputs, outputs, {**meta, "livecut_graph": "decoder"})


# --------------------------------------------------------------------------------------
# int8 weights


def int8_blocks(w):
    """w [K, N] (MatMul's B) -> (q uint8 [N, K/INT8_BLOCK, INT8_BLOCK], scales float32
    [N, K/INT8_BLOCK]): symmetric round-to-nearest per block of INT8_BLOCK weights along K,
    scale = max|w| / 127, q = round(w / scale) + 128 (MatMulNBits' default zero point)."""
    import numpy as np

    k, n = w.shape
    if k % INT8_BLOCK:
        raise ConvertError(f"a weight of {k} rows is not a whole number of int8 blocks")
    blocks = np.ascontiguousarray(w.T, dtype=np.float32).reshape(n, k // INT8_BLOCK, INT8_BLOCK)
    scale = (np.abs(blocks).max(axis=2) / np.float32(127.0)).astype(np.float32)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(blocks / scale[..., None]), -127, 127).astype(np.int16) + 128
    return q.astype(np.uint8), scale


def quantize_int8(model):
    """The same graph with 8-bit weights: every MatMul (and the output projection's Gemm)
    by a weight initializer becomes com.microsoft.MatMulNBits (bits 8, blocks of
    INT8_BLOCK, accuracy_level INT8_ACCURACY); the tied token embedding is stored once, as
    the output projection's int8 blocks, and the token lookup dequantises its rows
    (Gather of the blocks and their scales, (q - 128) * scale). Weights: ~1.1 bytes instead
    of 4. Everything else (layer norms, biases, positions, convolutions) stays float32."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    g = model.graph
    inits = {t.name: t for t in g.initializer}
    done: dict[str, tuple[str, str, int, int]] = {}
    replaced: set[str] = set()
    added = []

    def blocks_of(name: str, transpose: bool):
        """(q name, scales name, K, N) of initializer `name` as MatMul's B ([K, N]; a
        [N, K] initializer with transpose)."""
        if name not in done:
            w = numpy_helper.to_array(inits[name])
            q, scale = int8_blocks(w.T if transpose else w)
            added.append(numpy_helper.from_array(q, f"{name}.int8"))
            added.append(numpy_helper.from_array(scale, f"{name}.int8_scales"))
            n, kb, _ = q.shape
            done[name] = (f"{name}.int8", f"{name}.int8_scales", kb * INT8_BLOCK, n)
            replaced.add(name)
        return done[name]

    def matmul_nbits(a: str, name: str, transpose: bool, outputs, node_name: str, bias=None):
        qn, sn, k, n = blocks_of(name, transpose)
        ins = [a, qn, sn] + (["", "", bias] if bias else [])
        return helper.make_node("MatMulNBits", ins, list(outputs), name=node_name,
                                domain=MS_DOMAIN, K=k, N=n, bits=8, block_size=INT8_BLOCK,
                                accuracy_level=INT8_ACCURACY)

    consts = {"int8_zero": np.array(128.0, np.float32), "int8_last_axis": np.array([-1], np.int64)}
    nodes = []
    for node in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "MatMul" and node.input[1] in inits \
                and len(inits[node.input[1]].dims) == 2:
            nodes.append(matmul_nbits(node.input[0], node.input[1], False, node.output,
                                      node.name))
        elif node.op_type == "Gemm" and node.input[1] in inits:
            if attrs.get("transB") != 1 or attrs.get("transA", 0) != 0 \
                    or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                raise ConvertError(f"Gemm {node.name}: only x W^T (+ bias) is quantised")
            bias = node.input[2] if len(node.input) > 2 else None
            nodes.append(matmul_nbits(node.input[0], node.input[1], True, node.output,
                                      node.name, bias))
        elif node.op_type == "Gather" and node.input[0] == "decoder.embeddings":
            qn, sn, k, _ = blocks_of(node.input[0], True)
            o, ids = node.output[0], node.input[1]
            d_model = f"int8_width_{k}"
            consts[d_model] = np.array([k], np.int64)
            nodes += [
                helper.make_node("Gather", [qn, ids], [f"{o}.q"], axis=0),       # [.., K/b, b]
                helper.make_node("Gather", [sn, ids], [f"{o}.s"], axis=0),       # [.., K/b]
                helper.make_node("Cast", [f"{o}.q"], [f"{o}.qf"], to=TensorProto.FLOAT),
                helper.make_node("Sub", [f"{o}.qf", "int8_zero"], [f"{o}.c"]),
                helper.make_node("Unsqueeze", [f"{o}.s", "int8_last_axis"], [f"{o}.s1"]),
                helper.make_node("Mul", [f"{o}.c", f"{o}.s1"], [f"{o}.d"]),
                helper.make_node("Shape", [ids], [f"{o}.ids_shape"]),
                helper.make_node("Concat", [f"{o}.ids_shape", d_model], [f"{o}.shape"], axis=0),
                helper.make_node("Reshape", [f"{o}.d", f"{o}.shape"], [o]),
            ]
        else:
            nodes.append(node)
    still_used = {x for n in nodes for x in n.input}
    keep = [t for t in g.initializer if t.name not in replaced or t.name in still_used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep + added)
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return model


# --------------------------------------------------------------------------------------
# Serialisation


def weight_bytes(model) -> int:
    return sum(len(t.raw_data) for t in model.graph.initializer)


def serialize(model, data_name: str | None = None) -> tuple[bytes, bytes | None]:
    """The model's bytes; with data_name, initializers over 1 KiB move into a separate
    buffer (ONNX external data, 4 KiB aligned, in graph order) returned second."""
    if data_name is None:
        return model.SerializeToString(), None
    from onnx import TensorProto

    chunks, offset = [], 0
    for t in model.graph.initializer:
        raw = t.raw_data
        if len(raw) <= 1024:
            continue
        pad = (-offset) % 4096
        if pad:
            chunks.append(b"\0" * pad)
            offset += pad
        chunks.append(raw)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", data_name), ("offset", str(offset)), ("length", str(len(raw)))):
            e = t.external_data.add()
            e.key, e.value = k, v
        offset += len(raw)
    return model.SerializeToString(), b"".join(chunks)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def convert(model_bin: Path, external: bool | None = None, name: str = "whisper",
            check: bool = True, int8: bool = True) -> dict:
    """model.bin -> {"dims", "encoder": (bytes, data|None), "decoder": (...), "source_sha256"},
    and with int8 "encoder_int8", "decoder_int8" (8-bit weights, see quantize_int8; the
    encoder's self-attention fused). external None: decided per graph by its weight size."""
    import onnx

    source_sha = sha256_file(model_bin)
    m = Ct2Model(model_bin)
    try:
        dims = model_dims(m)
        meta = {"livecut_converter": CONVERTER_ID,
                "livecut_source": f"CTranslate2 {m.spec} revision {m.revision}, "
                                  f"model.bin sha256 {source_sha}",
                "livecut_dims": json.dumps(dims, sort_keys=True),
                "onnx_version": onnx.__version__}
        out = {"dims": dims, "source_sha256": source_sha, "spec_revision": m.revision}
        builds = [("encoder", lambda: build_encoder(m, dims, meta)),
                  ("decoder", lambda: build_decoder(m, dims, meta))]
        if int8:
            builds += [("encoder_int8", lambda: quantize_int8(build_encoder(
                           m, dims, {**meta, "livecut_weights": "int8"}, fused=True))),
                       ("decoder_int8", lambda: quantize_int8(build_decoder(
                           m, dims, {**meta, "livecut_weights": "int8"})))]
        for part, build in builds:
            model = build()
            ext = weight_bytes(model) > EXTERNAL_LIMIT if external is None else external
            if check and not ext:
                onnx.checker.check_model(model)
            stem = f"{name}_int8_{part[:-5]}" if part.endswith("_int8") else f"{name}_{part}"
            out[part] = serialize(model, f"{stem}.onnx.data" if ext else None)
            del model
        return out
    finally:
        m.close()


# --------------------------------------------------------------------------------------
# Tokens and the spec


def read_vocabulary(model_dir: Path) -> list[str]:
    """Token strings by id: vocabulary.txt (CTranslate2's) or tokenizer.json."""
    vt = model_dir / "vocabulary.txt"
    if vt.is_file():
        lines = vt.read_text(encoding="utf-8").split("\n")
        return lines[:-1] if lines and lines[-1] == "" else lines
    tok = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    by_id = {i: s for s, i in tok["model"]["vocab"].items()}
    for a in tok.get("added_tokens", []):
        by_id[a["id"]] = a["content"]
    return [by_id.get(i, "") for i in range(max(by_id) + 1)]


def token_ids(model_dir: Path, n_vocab: int) -> dict:
    vocab = read_vocabulary(model_dir)
    ids = {s: i for i, s in enumerate(vocab)}
    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))

    def need(*names):
        for n in names:
            if n in ids:
                return ids[n]
        raise ConvertError(f"the vocabulary has none of {names}")

    t = {"eot": need("<|endoftext|>"), "sot": need("<|startoftranscript|>"),
         "translate": need("<|translate|>"), "transcribe": need("<|transcribe|>"),
         "no_speech": need("<|nospeech|>", "<|nocaptions|>"),
         "no_timestamps": need("<|notimestamps|>")}
    t["timestamp_begin"] = t["no_timestamps"] + 1
    t["timestamp_end"] = n_vocab - 1
    t["lang_en"] = ids.get("<|en|>", -1)
    t["lang_zh"] = ids.get("<|zh|>", -1)
    t["lang_ids"] = list(cfg.get("lang_ids", []))
    t["suppress_ids"] = list(cfg.get("suppress_ids", []))
    t["suppress_ids_begin"] = list(cfg.get("suppress_ids_begin", []))
    return t


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def toml_list(xs) -> str:
    return "[" + ", ".join(toml_str(x) if isinstance(x, str) else str(x) for x in xs) + "]"


PREPROCESSING = """
16 kHz mono float32 in [-1, 1] (s16 / 32768). One window = up to 30 s of samples; the
reference (scripts/whisper_refs.py) appends 480,000 zero samples (30 s), as faster-whisper
(<= 0.10) / OpenAI Whisper do, and keeps the first {frames} frames. Periodic Hann of 400
(0.5 - 0.5 cos(2 pi n / 400)), n_fft 400, hop 160, centred STFT (reflect padding of 200 at
both ends), power |X|^2 of the 201 bins, the last STFT frame dropped. {mels} Slaney mel filters
(librosa default: htk=False, norm="slaney", 0..8000 Hz). log10(max(m, 1e-10)), then
x = max(x, max(x) - 8) (max over the whole spectrogram), then (x + 4) / 4.
Input `mel` float32 [B,{mels},{frames}] (row = mel band, column = frame, 10 ms per frame).
"""

POSTPROCESSING = """
Decoder logits [B,T,V]. Greedy decoding reproduces CTranslate2 4.8 Whisper.generate(beam_size=1,
suppress_blank=True, suppress_tokens=[-1], max_length=448, return_scores=True,
return_no_speech_prob=True) token for token. Prompt [sot, language, transcribe] for
timestamps, + no_timestamps for plain text; feed it in one call (self_k_l/self_v_l with P = 0),
then one token per call (new_self_k_l/new_self_v_l become the next self_k_l/self_v_l).
no_speech_prob = softmax(raw logits at the prompt's sot position)[no_speech]. Step
s = 0, 1, ... reads the logits of the last position; LOW = lowest float32 (-3.4028235e38,
not -inf); seq = tokens generated so far:
 1. logits[suppress_ids] = LOW; at s = 0 also logits[suppress_ids_begin] = LOW.
 2. With timestamps only: logits[no_timestamps] = LOW; then
    s = 0: every id < timestamp_begin and every id > timestamp_begin + 50 = LOW;
    s > 0, last = seq[s-1] a timestamp: penultimate = seq[s-2] (= last when s = 1);
      penultimate a timestamp too -> all timestamps LOW;
      else -> ids < eot LOW and timestamps < last LOW, then CHECK;
    s > 0, last a text token: the timestamps <= the latest timestamp in seq (if any)
      LOW, then CHECK;
    CHECK: lp = log_softmax(logits as changed so far); if logsumexp(lp[timestamp_begin..])
      > max(lp[..timestamp_begin-1]) then every id < timestamp_begin = LOW.
 3. lp = log_softmax(logits); token = argmax (first of ties); score += lp[token]. eot ends
    the decoding (not appended); so does the min(224, 449 - prompt length)-th step.
Score = sum / number of generated tokens (eot excluded). Language: logits after [sot]
alone, softmax over lang_ids only. Text: byte-level BPE of the tokenizer file, ids >= eot
skipped; timestamp id t = (t - timestamp_begin) * 0.02 s.
Reference: models/refs/whisper_base.json (scripts/whisper_refs.py).
"""


def spec_text(name: str, dims: dict, tokens: dict, files: dict[str, tuple[str, str]],
              licence: str, source: list[str], header: str, task: str) -> str:
    """The spec TOML. files: role -> (file name, sha256); roles encoder, decoder, tokenizer,
    config and, for large models, encoder_data / decoder_data."""
    L, d, V, n = dims["decoder_layers"], dims["d_model"], dims["n_vocab"], dims["n_audio_ctx"]
    h = dims["decoder_heads"]
    dh = d // h
    mels, frames = dims["n_mels"], dims["n_frames"]
    lines = [header.rstrip("\n"),
             f"name = {toml_str(name)}",
             f"file = {toml_str(files['encoder'][0])}",
             f"sha256 = {toml_str(files['encoder'][1])}"]
    for role in ("decoder", "encoder_int8", "decoder_int8", "tokenizer", "config",
                 "encoder_data", "decoder_data", "encoder_int8_data", "decoder_int8_data"):
        if role in files:
            lines.append(f"{role} = {toml_str(files[role][0])}")
            lines.append(f"{role}_sha256 = {toml_str(files[role][1])}")
    lines += [f"licence = {toml_str(licence)}",
              f"task = {toml_str(task)}",
              'output_kind = "logits"',
              "batch_dynamic = true",
              f'preprocessing = """{PREPROCESSING.format(mels=mels, frames=frames)}"""',
              f'postprocessing = """{POSTPROCESSING}"""',
              "",
              "# Sizes read from model.bin.",
              "[dims]"]
    for k in ("n_mels", "n_frames", "n_audio_ctx", "n_text_ctx", "d_model", "n_vocab",
              "encoder_layers", "encoder_heads", "decoder_layers", "decoder_heads"):
        lines.append(f"{k} = {dims[k]}")
    lines += ["", "# Token ids (vocabulary of the tokenizer file; lists from the config file).",
              "[tokens]"]
    for k in ("eot", "sot", "translate", "transcribe", "no_speech", "no_timestamps",
              "timestamp_begin", "timestamp_end", "lang_en", "lang_zh"):
        lines.append(f"{k} = {tokens[k]}")
    for k in ("lang_ids", "suppress_ids", "suppress_ids_begin"):
        lines.append(f"{k} = {toml_list(tokens[k])}")
    lines += ["", "[source]", *source, "",
              "[io]",
              f"opset = {OPSET}",
              f"inputs = {toml_list([f'mel: float32 [B,{mels},{frames}] log-mel'])}",
              "outputs = " + toml_list([
                  f"cross_k_l (l = 0..{L - 1}): float32 [B,{h},{dh},{n}] cross-attention keys of "
                  "decoder layer l, transposed per head",
                  f"cross_v_l (l = 0..{L - 1}): float32 [B,{h},{n},{dh}] cross-attention values "
                  "of decoder layer l, per head"]),
              "decoder_inputs = " + toml_list([
                  "tokens: int64 [B,T] new tokens (T >= 1)",
                  f"self_k_l (l = 0..{L - 1}): float32 [B,{h},{dh},P] self-attention keys of "
                  "the P earlier tokens, transposed per head (P may be 0)",
                  f"self_v_l (l = 0..{L - 1}): float32 [B,{h},P,{dh}] their values, per head",
                  f"cross_k_l, cross_v_l (l = 0..{L - 1}): from the encoder, as they are, "
                  f"or any N <= {n} of its positions (float32 [B,{h},{dh},N], [B,{h},N,{dh}])"]),
              "decoder_outputs = " + toml_list([
                  f"logits: float32 [B,T,{V}] for every new position (causal among the T)",
                  f"new_self_k_l (l = 0..{L - 1}): float32 [B,{h},{dh},P+T] (the next "
                  "self_k_l)",
                  f"new_self_v_l (l = 0..{L - 1}): float32 [B,{h},P+T,{dh}] (the next "
                  "self_v_l)"]),
              'order = "decoder inputs: tokens, self_k_0, self_v_0, ..., cross_k_0, cross_v_0, '
              '...; outputs: logits, new_self_k_0, new_self_v_0, ...; encoder outputs: '
              'cross_k_0, cross_v_0, ..."',
              f'positions = "new tokens sit at P .. P+T-1 (P read from self_k_0); '
              f'P + T <= {dims["n_text_ctx"]}"',
              ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# CLI


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path, help="faster-whisper folder (model.bin, "
                    "config.json, tokenizer.json)")
    ap.add_argument("out_dir", type=Path, help="where to write the ONNX files and the spec")
    ap.add_argument("--name", default="whisper_base",
                    help="file name stem and spec name (default whisper_base)")
    ap.add_argument("--external-data", choices=("auto", "yes", "no"), default="auto",
                    help="keep weights in <file>.data (auto: when over ~1.8 GB)")
    ap.add_argument("--licence", default="see the model's own licence (OpenAI Whisper "
                    "weights: MIT)", help="licence line for the spec")
    args = ap.parse_args(argv)
    src, out, name = args.model_dir, args.out_dir, args.name
    for f in ("model.bin", "config.json", "tokenizer.json"):
        if not (src / f).is_file():
            raise ConvertError(f"{src / f} is missing (need a faster-whisper folder)")
    external = {"auto": None, "yes": True, "no": False}[args.external_data]
    print(f"==> converting {src / 'model.bin'}", flush=True)
    res = convert(src / "model.bin", external=external, name=name)
    dims = res["dims"]
    files: dict[str, tuple[str, str]] = {}
    for part in ("encoder", "decoder", "encoder_int8", "decoder_int8"):
        onnx_bytes, data = res[part]
        fname = (f"{name}_int8_{part[:-5]}.onnx" if part.endswith("_int8")
                 else f"{name}_{part}.onnx")
        if data is not None:
            write_atomic(out / f"{fname}.data", data)
            files[f"{part}_data"] = (f"{fname}.data", sha256_bytes(data))
        write_atomic(out / fname, onnx_bytes)
        files[part] = (fname, sha256_bytes(onnx_bytes))
        print(f"    wrote {out / fname} ({len(onnx_bytes) + len(data or b'')} bytes)")
    for role, f in (("tokenizer", "tokenizer.json"), ("config", "config.json")):
        data = (src / f).read_bytes()
        write_atomic(out / f"{name}_{f}", data)
        files[role] = (f"{name}_{f}", sha256_bytes(data))
    tokens = token_ids(src, dims["n_vocab"])
    import onnx

    source = [f"package = {toml_str(src.resolve().name)}",
              'version = "local"',
              'member = "model.bin"',
              f"model_dir = {toml_str(str(src.resolve()))}",
              f"model_bin_sha256 = {toml_str(res['source_sha256'])}",
              f"spec_revision = {res['spec_revision']}",
              f"converter = {toml_str(f'{CONVERTER_ID}, onnx=={onnx.__version__}')}"]
    header = (f"# {name} - speech recognition (Whisper, converted from a faster-whisper folder "
              "by scripts/whisper_convert.py).")
    text = spec_text(name, dims, tokens, files, args.licence, source, header,
                     task="speech recognition (Whisper encoder + KV-cache decoder)")
    write_atomic(out / f"{name}.toml", text.encode("utf-8"))
    print(f"    wrote {out / (name + '.toml')}")
    print(f"==> {name}: {dims['encoder_layers']}+{dims['decoder_layers']} layers, d_model "
          f"{dims['d_model']}, {dims['n_mels']} mel bins, vocabulary {dims['n_vocab']}")
    return 0


def main() -> None:
    # Run inside scripts/fetch_models.py's pinned environment (numpy + onnx).
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import fetch_models as fm

    try:
        fm.ensure_pinned_env(Path(__file__).resolve(), sys.argv[1:])
        sys.exit(cli(sys.argv[1:]))
    except (ConvertError, fm.FetchError) as e:
        print(f"whisper_convert: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
