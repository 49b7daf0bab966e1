#!/usr/bin/env python3
"""Reference implementation of the winning keyword scorer (for the Rust port).

    KW_SET=kw python kw_score_ref.py      # prints per-window scores for kw/kw01..kw12

Needs: the encoder outputs of the window (cross_k/cross_v [6,1,1500,512]), the encoder outputs
of digital silence (mel all -1.5: what log_mel gives for all-zero audio; a constant of the model,
compute once), and a decoder graph whose cross_k/cross_v dim 2 is dynamic (dec_dynN.onnx:
the shipped graph with only that declared dim changed).  With the shipped graph (N fixed 1500)
tile each 300-frame block 5x along N instead: identical numbers, about 3x slower."""
import json, math, sys
import numpy as np
import onnxruntime as ort

SOT, ZH, TRANSCRIBE, NO_TS = 50258, 50260, 50359, 50363
L, C, HOP, TOPK = 250, 25, 25, 8            # encoder frames (20 ms each): 5 s slice, 0.5 s context, 0.5 s hop
W = L + 2 * C                               # 300 frames per block
# Traditional-form BPE ids of each keyword, and the number of characters (divisor)
KEYWORDS = {"上链接": ([5708, 46241, 230, 14468], 3),     # 上鏈接
            "秒杀": ([20956, 45528], 2),                   # 秒殺
            "最后三单": ([20578, 10960, 24227], 4)}         # 最後三單

def log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(-1, keepdims=True)))

def slice_starts(nf):
    """nf = ceil(duration_s * 50) encoder frames of real audio."""
    if nf <= L:
        return [0]
    st = list(range(0, nf - L + 1, HOP))
    if st[-1] + L < nf:
        st.append(nf - L)                  # last slice flush with the end of the audio
    return st

def blocks(win, sil, st):
    """win, sil: [6,1,1500,512] -> [6,S,W,512]: silence encoding at the block's own absolute
    positions, the window's frames [s, s+L) written over it at the same positions."""
    out = np.empty((6, len(st), W, 512), np.float32)
    for b, s in enumerate(st):
        b0 = min(max(0, s - C), 1500 - W)
        out[:, b] = sil[:, 0, b0:b0 + W]
        out[:, b, s - b0:s - b0 + L] = win[:, 0, s:s + L]
    return out

def score_window(dec, win_k, win_v, sil_k, sil_v, nf, keywords=KEYWORDS):
    st = slice_starts(nf); S = len(st)
    ck, cv = blocks(win_k, sil_k, st), blocks(win_v, sil_v, st)
    z = np.zeros((6, S, 0, 512), np.float32)
    # stage 1: the 4-token prompt on every slice (B = S, T = 4)
    logits, nk, nv = dec.run(None, {"tokens": np.array([[SOT, ZH, TRANSCRIBE, NO_TS]] * S, np.int64),
                                    "self_k": z, "self_v": z, "cross_k": ck, "cross_v": cv})
    lp0 = log_softmax(logits[:, 3].astype(np.float32))            # [S, V] first-token log-probs
    scores = {}
    for name, (ids, nchar) in keywords.items():
        rows = np.arange(S) if S <= TOPK else np.sort(np.argsort(-lp0[:, ids[0]], kind="stable")[:TOPK])
        total = lp0[rows, ids[0]].astype(np.float64)
        if len(ids) > 1:                                            # stage 2: remaining tokens, KV P = 4
            lg, _, _ = dec.run(None, {"tokens": np.array([ids[:-1]] * len(rows), np.int64),
                                      "self_k": nk[:, rows], "self_v": nv[:, rows],
                                      "cross_k": ck[:, rows], "cross_v": cv[:, rows]})
            lp = log_softmax(lg.astype(np.float32))                # [R, n-1, V]
            for j in range(len(ids) - 1):
                total += lp[:, j, ids[j + 1]]
        scores[name] = float((total / nchar).max())
    return scores

if __name__ == "__main__":
    import os
    from pathlib import Path
    so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
    dec = ort.InferenceSession("/work/kwlab/dec_dynN.onnx", so, providers=["CPUExecutionProvider"])
    s = os.environ.get("KW_SET", "kw"); cache = Path("/work/kwlab") / ("cache" if s == "kw" else f"cache_{s}")
    sil_k, sil_v = np.load(cache / "silence.k.npy"), np.load(cache / "silence.v.npy")
    for w in json.load(open(f"/work/kwlab/{s}/keywords.truth.json"))["windows"]:
        n = w["file"][:-4]
        sc = score_window(dec, np.load(cache / f"{n}.k.npy"), np.load(cache / f"{n}.v.npy"), sil_k, sil_v,
                          math.ceil(w["duration_s"] * 50))
        print(n, [k["keyword"] for k in w["keywords"]], {k: round(v, 3) for k, v in sc.items()})
