#!/usr/bin/env python3
"""Shot-cut test clips and PySceneDetect reference cuts for livecut's `shot_cut` track.

    scripts/scene_refs.py [--models DIR] [--quiet]

Needs ffmpeg (scripts/install-deps.sh). Runs inside the project's Python environment of
scripts/fetch_models.py (.local/venv, or .local/pylib where venv is unavailable) and adds
to it, with --no-deps from wheels checked against the sha256 below (kept in .local/wheels/):
PySceneDetect (scenedetect) 0.7.2, opencv-python-headless 4.14.0.94 and scenedetect's
pure-Python dependencies click, platformdirs, tqdm (numpy is already pinned there).

Writes DIR/inputs/cuts/ (default models/inputs/cuts/), 320x180, 25 fps, H.264 + AAC:
  shots.mp4   60 s: 8 shots of different synthetic content (testsrc2, mandelbrot, a moving
              box on navy, SMPTE bars, life, gradients, sierpinski, a noisy moving box on red)
              joined by 7 hard cuts, two of them off the 0.2 s grid
  studio.mp4  60 s that look like a live stream: a noisy static studio (wide camera) with a
              moving presenter, a hard cut to a close-up camera and back, a lower-third
              banner (NOT a cut) and a full-frame product card that comes and goes
  fades.mp4   30 s of gradual transitions only: two 2 s dissolves and a dip to black
              (2 s fade out, 1 s black, 2 s fade in); no hard cut
and DIR/refs/cuts.json: per clip the true cut times (from the generator: the first frame of
the new picture, frame / 25), the gradual transitions and the non-cut events, and the cut
times of PySceneDetect's ContentDetector with its defaults (threshold 27, min_scene_len 15
frames, OpenCV backend): the start of every detected scene but the first. tests/cuts.rs
compares livecut's `shot_cut` track with both.

Idempotent: the clips are made when missing or when this script changed; the references are
recomputed only when a clip, the pins or this script changed (cuts.json records their
sha256); otherwise nothing is installed, made or written.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_models as fm  # noqa: E402  (same folder: pinned env, wheels, checksums)
from fetch_models import FetchError, say, sha256_file, write_atomic  # noqa: E402

# Added to the project environment with --no-deps: scenedetect's whole dependency closure
# beyond numpy (opencv-python-headless stands in for the opencv-python it names: same cv2).
SCENE_WHEELS = (
    ("scenedetect", "0.7.2", "scenedetect-0.7.2-py3-none-any.whl",
     "953b89fe7e6b82a497c263e26245ad599b004aa7afa74814312980479a040641"),
    ("opencv-python-headless", "4.14.0.94",
     "opencv_python_headless-4.14.0.94-cp37-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
     "5e02669eac0ba67b2a22d7245af1e8ee1a2ef1185ee526a063d8f0555224bd52"),
    ("click", "8.5.1", "click-8.5.1-py3-none-any.whl",
     "8bb5376d2006950386f8c6427613334a2acadc5f559cb80e638d00b4df957e37"),
    ("platformdirs", "4.14.8", "platformdirs-4.14.8-py3-none-any.whl",
     "1e34af590de4d978631b751eb2202f2fee4497537a17c1720b12fcf57b331392"),
    ("tqdm", "4.70.1", "tqdm-4.70.1-py3-none-any.whl",
     "c293e525e6fef9c20e8728fd4612df02a0aa31bb5fe91ecd93e123b1b7bffa73"),
)
SCENE_PINS = tuple(f"{p}=={v}" for p, v, _, _ in SCENE_WHEELS)

FPS = 25
W, H = 320, 180
SIZE = f"{W}x{H}"
CLIP_DIR = Path("inputs") / "cuts"
ENCODE = ["-c:v", "libx264", "-preset", "medium", "-crf", "20", "-g", "50", "-pix_fmt",
          "yuv420p", "-c:a", "aac", "-b:a", "64k", "-ar", "48000", "-ac", "1",
          "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
          "-flags:a", "+bitexact", "-movflags", "+faststart"]


def sec(frame: int) -> float:
    return round(frame / FPS, 6)


def moving(bg: str, sprite: str, sprite_size: str, x: str, y: str, label: str) -> str:
    """A source `bg` with a solid `sprite` box moving along x(t), y(t) (drawbox cannot
    move in FFmpeg 5.1: its `t` is the thickness), as filtergraph text ending in [label]."""
    return (f"{bg}[{label}bg];color=c={sprite}:s={sprite_size}:r={FPS}[{label}o];"
            f"[{label}bg][{label}o]overlay=x='{x}':y='{y}':eval=frame:shortest=1[{label}]")


# --------------------------------------------------------------------------------------
# Clip (a): 8 shots, 7 hard cuts


SHOTS = (  # (frames, source filtergraph producing [label], what)
    (175, f"testsrc2=s={SIZE}:r={FPS}", "testsrc2"),
    (200, f"mandelbrot=s={SIZE}:r={FPS}", "mandelbrot zoom"),
    (163, None, "yellow box moving on navy"),
    (187, f"smptebars=s={SIZE}:r={FPS}", "SMPTE bars"),
    (175, f"life=s={SIZE}:r={FPS}:mold=10:ratio=0.15:seed=7:life_color=#30ff30:"
          f"death_color=#a00000", "life (green on red mould)"),
    # gradients' default colours are random whatever the seed: fixed here (repeatable)
    (213, f"gradients=s={SIZE}:r={FPS}:speed=0.03:seed=3:n=3:c0=0x2040c0:c1=0xe0a020:"
          f"c2=0x20a060:x0=0:y0=0:x1=320:y1=180", "gradients"),
    (187, f"sierpinski=s={SIZE}:r={FPS}:seed=5", "sierpinski"),
    (200, None, "noisy white box moving on dark red"),
)


def shots_graph() -> tuple[str, dict]:
    parts, labels = [], []
    start = 0
    cuts, shots = [], []
    for i, (n, src, what) in enumerate(SHOTS):
        label = f"s{i}"
        if i == 2:
            src_txt = moving(f"color=c=navy:s={SIZE}:r={FPS}", "yellow", "60x60",
                             "20+30*t", "60+20*sin(t)", f"m{i}")
            src_txt += f";[m{i}]null"
        elif i == 7:
            src_txt = moving(f"color=c=0x701010:s={SIZE}:r={FPS}", "white", "40x40",
                             "250-25*t", "70+30*cos(1.3*t)", f"m{i}")
            src_txt += f";[m{i}]noise=alls=6:allf=t+u"
        else:
            src_txt = src
        parts.append(f"{src_txt},trim=end_frame={n},setpts=PTS-STARTPTS,format=yuv420p,"
                     f"setsar=1[{label}]")
        labels.append(f"[{label}]")
        shots.append({"start_s": sec(start), "frames": n, "content": what})
        if i:
            cuts.append({"t": sec(start), "frame": start, "kind": "hard",
                         "what": f"{SHOTS[i - 1][2]} -> {what}"})
        start += n
    graph = ";".join(parts) + ";" + "".join(labels) + f"concat=n={len(SHOTS)}:v=1:a=0[v]"
    truth = {"cuts": cuts, "non_cuts": [], "transitions": [], "shots": shots}
    return graph, {"frames": start, "truth": truth}


# --------------------------------------------------------------------------------------
# Clip (b): a live stream look


STUDIO_FRAMES = 1500
CLOSEUP = (500, 800)  # frames [a, b): camera B
LOWER_THIRD = (250, 400)
CARD = (1000, 1150)


def between(a: int, b: int) -> str:
    return f"between(n,{a},{b - 1})"


def studio_graph() -> tuple[str, dict]:
    # Camera A, wide: slate wall, shelf, lamp, desk; presenter (shirt + head) sways behind
    # the desk; sensor noise on everything.
    wide = (
        f"color=c=0x404855:s={SIZE}:r={FPS},"
        f"drawbox=x=20:y=20:w=70:h=50:color=0x8a8f70:t=fill,"
        f"drawbox=x=30:y=30:w=12:h=30:color=0x2a3a8a:t=fill,"
        f"drawbox=x=250:y=30:w=30:h=60:color=0xd0c080:t=fill[wbg];"
        f"color=c=0x2050a0:s=60x70:r={FPS}[shirt];color=c=0xd8a080:s=30x34:r={FPS}[head];"
        f"[wbg][shirt]overlay=x='130+25*sin(2*PI*t/7)':y=72:eval=frame[w1];"
        f"[w1][head]overlay=x='145+25*sin(2*PI*t/7)+4*sin(2*PI*t/1.3)':y=38:eval=frame,"
        f"drawbox=x=0:y=130:w=320:h=50:color=0x6b4a2f:t=fill,"
        f"noise=alls=8:allf=t+u[wide]"
    )
    # Camera B, close-up: warm wall, a big presenter.
    close = (
        f"color=c=0x5a4a3f:s={SIZE}:r={FPS},"
        f"drawbox=x=230:y=0:w=90:h=180:color=0x6e6250:t=fill[cbg];"
        f"color=c=0x2050a0:s=170x90:r={FPS}[cshirt];color=c=0xd8a080:s=80x86:r={FPS}[chead];"
        f"[cbg][cshirt]overlay=x='75+10*sin(2*PI*t/5)':y=90:eval=frame[c1];"
        f"[c1][chead]overlay=x='120+10*sin(2*PI*t/5)+3*sin(2*PI*t/1.1)':y=8:eval=frame,"
        f"noise=alls=8:allf=t+u[close]"
    )
    lt = between(*LOWER_THIRD)
    card = between(*CARD)
    graph = (
        f"{wide};{close};"
        f"[wide][close]overlay=x=0:y=0:enable='{between(*CLOSEUP)}',"
        # lower third: a banner over the bottom fifth with two "text" bars
        f"drawbox=x=0:y=142:w=320:h=32:color=0xc02030:t=fill:enable='{lt}',"
        f"drawbox=x=10:y=148:w=170:h=8:color=white:t=fill:enable='{lt}',"
        f"drawbox=x=10:y=161:w=110:h=6:color=0xf0d0d0:t=fill:enable='{lt}',"
        # full-frame product card: dark card, product picture, price bars
        f"drawbox=x=0:y=0:w=320:h=180:color=0x181818:t=fill:enable='{card}',"
        f"drawbox=x=24:y=30:w=110:h=110:color=0xe03030:t=fill:enable='{card}',"
        f"drawbox=x=44:y=50:w=70:h=70:color=0xf0f0f0:t=fill:enable='{card}',"
        f"drawbox=x=160:y=40:w=130:h=22:color=white:t=fill:enable='{card}',"
        f"drawbox=x=160:y=80:w=90:h=30:color=0xffd000:t=fill:enable='{card}',"
        f"drawbox=x=160:y=125:w=120:h=12:color=0xa0a0a0:t=fill:enable='{card}',"
        f"trim=end_frame={STUDIO_FRAMES},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v]"
    )
    truth = {
        "cuts": [
            {"t": sec(CLOSEUP[0]), "frame": CLOSEUP[0], "kind": "hard",
             "what": "wide camera -> close-up camera"},
            {"t": sec(CLOSEUP[1]), "frame": CLOSEUP[1], "kind": "hard",
             "what": "close-up camera -> wide camera"},
            {"t": sec(CARD[0]), "frame": CARD[0], "kind": "overlay",
             "what": "full-frame product card appears"},
            {"t": sec(CARD[1]), "frame": CARD[1], "kind": "overlay",
             "what": "full-frame product card goes"},
        ],
        "non_cuts": [
            {"t": sec(LOWER_THIRD[0]), "frame": LOWER_THIRD[0], "kind": "lower_third",
             "what": "lower-third banner (bottom 20%) appears"},
            {"t": sec(LOWER_THIRD[1]), "frame": LOWER_THIRD[1], "kind": "lower_third",
             "what": "lower-third banner goes"},
        ],
        "transitions": [],
    }
    return graph, {"frames": STUDIO_FRAMES, "truth": truth}


# --------------------------------------------------------------------------------------
# Clip (c): gradual transitions only


def fades_graph() -> tuple[str, dict]:
    # part 1 (18 s): testsrc2 -> (dissolve 8-10 s) -> moving box on navy -> fade out 16-18
    # part 2 (1 s): black
    # part 3 (11 s, at 19 s): fade in 0-2 s; SMPTE bars -> (dissolve 7-9 s) -> mandelbrot
    box = moving(f"color=c=navy:s={SIZE}:r={FPS}", "yellow", "60x60", "130+110*sin(t/2)",
                 "60+20*sin(t)", "fb")
    graph = (
        f"testsrc2=s={SIZE}:r={FPS},trim=end_frame=250,format=yuv420p,setsar=1[fa];"
        f"{box};[fb]trim=end_frame=250,format=yuv420p,setsar=1[fb2];"
        f"[fa][fb2]xfade=transition=fade:duration=2:offset=8,"
        f"fade=t=out:st=16:d=2,trim=end_frame=450,setpts=PTS-STARTPTS[p1];"
        f"color=c=black:s={SIZE}:r={FPS},trim=end_frame=25,format=yuv420p,setsar=1[p2];"
        f"smptebars=s={SIZE}:r={FPS},trim=end_frame=225,format=yuv420p,setsar=1[fc];"
        f"mandelbrot=s={SIZE}:r={FPS},trim=end_frame=100,format=yuv420p,setsar=1[fd];"
        f"[fc][fd]xfade=transition=fade:duration=2:offset=7,fade=t=in:st=0:d=2,"
        f"trim=end_frame=275,setpts=PTS-STARTPTS[p3];"
        f"[p1][p2][p3]concat=n=3:v=1:a=0[v]"
    )
    truth = {
        "cuts": [],
        "non_cuts": [],
        "transitions": [
            {"start_s": 8.0, "end_s": 10.0, "kind": "dissolve",
             "what": "testsrc2 -> moving box on navy"},
            {"start_s": 16.0, "end_s": 18.0, "kind": "fade_out", "what": "to black"},
            {"start_s": 19.0, "end_s": 21.0, "kind": "fade_in", "what": "from black"},
            {"start_s": 26.0, "end_s": 28.0, "kind": "dissolve",
             "what": "SMPTE bars -> mandelbrot"},
        ],
    }
    return graph, {"frames": 750, "truth": truth}


CLIPS = {
    "shots": (shots_graph, "8 shots of different synthetic content, 7 hard cuts"),
    "studio": (studio_graph, "live-stream look: noisy static studio, moving presenter, "
                             "2 camera cuts, a full-frame card on and off, a lower third"),
    "fades": (fades_graph, "gradual transitions only: 2 dissolves, a dip to black"),
}


def make_clip(name: str, dst: Path) -> list[str]:
    graph, info = CLIPS[name][0]()
    secs = info["frames"] / FPS
    tmp = dst.with_name(f".{dst.stem}.{os.getpid()}.tmp.mp4")
    cmd = ["ffmpeg", "-v", "error", "-y", "-filter_complex", graph,
           "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={secs}",
           "-map", "[v]", "-map", "0:a", "-frames:v", str(info["frames"]), "-r", str(FPS),
           *ENCODE, str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise FetchError(f"ffmpeg ({name}) failed:\n{(r.stdout + r.stderr).strip()}")
    os.replace(tmp, dst)
    return cmd[:-1] + [str(CLIP_DIR / dst.name)]


def probe_frames(path: Path) -> int:
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                        "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
                        str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        raise FetchError(f"ffprobe {path} failed:\n{r.stderr}")
    return int(r.stdout.strip().split(",")[0])


# --------------------------------------------------------------------------------------
# The environment


def ensure_scene_packages() -> None:
    """Install SCENE_PINS (--no-deps, from sha256-checked wheels) into the environment this
    interpreter runs in (see fetch_models.ensure_wheels)."""
    fm.ensure_wheels(SCENE_WHEELS)


def ffmpeg_version() -> str:
    r = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True)
    first = (r.stdout.splitlines() or ["ffmpeg ?"])[0]
    return first.split(" Copyright")[0]


# --------------------------------------------------------------------------------------
# PySceneDetect


def detect(path: Path) -> dict:
    from scenedetect import ContentDetector, SceneManager, open_video

    video = open_video(str(path), backend="opencv")
    manager = SceneManager()
    manager.add_detector(ContentDetector())
    t = time.perf_counter()
    manager.detect_scenes(video=video)
    secs = time.perf_counter() - t
    scenes = manager.get_scene_list()
    starts = [s for s, _ in scenes[1:]]
    return {
        "cuts_s": [round(s.seconds, 6) for s in starts],
        "cut_frames": [int(s.frame_num) for s in starts],
        "scenes": len(scenes),
        "frame_rate": float(video.frame_rate),
        "frames_read": int(video.frame_number),
        "seconds": round(secs, 3),
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=Path, default=fm.SPEC_DIR,
                    help="the models folder (default: models/ of this repository)")
    ap.add_argument("--quiet", action="store_true", help="print errors only")
    args = ap.parse_args(argv)
    fm.QUIET = args.quiet
    models = args.models.resolve()
    clip_dir, out = models / CLIP_DIR, models / "refs" / "cuts.json"
    script_sha = sha256_file(Path(__file__).resolve())

    try:
        previous = json.loads(out.read_text())
    except (OSError, ValueError):
        previous = {}

    def state() -> dict:
        return {"script_sha256": script_sha, "pins": list(fm.PY_PINS) + list(SCENE_PINS),
                "clips": {n: sha256_file(clip_dir / f"{n}.mp4") for n in CLIPS}}

    if previous.get("state") == state():
        say(f"PySceneDetect references up to date in {out} (clips, pins and script "
            "unchanged); nothing written")
        return 0
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise FetchError("ffmpeg/ffprobe missing: run scripts/install-deps.sh")
    fm.ensure_pinned_env(Path(__file__), argv)
    ensure_scene_packages()

    clip_dir.mkdir(parents=True, exist_ok=True)
    remake = previous.get("state", {}).get("script_sha256") != script_sha
    commands = previous.get("commands", {}) if not remake else {}
    for name in CLIPS:
        dst = clip_dir / f"{name}.mp4"
        if remake or not dst.is_file() or name not in commands:
            t = time.perf_counter()
            commands[name] = make_clip(name, dst)
            say(f"    made {dst} ({time.perf_counter() - t:.1f} s)")

    import cv2
    import numpy as np
    import scenedetect

    say(f"==> PySceneDetect {scenedetect.__version__} ContentDetector (defaults) on "
        f"{len(CLIPS)} clips")
    clips = []
    for name, (graph_fn, what) in CLIPS.items():
        path = clip_dir / f"{name}.mp4"
        _, info = graph_fn()
        frames = probe_frames(path)
        if frames != info["frames"]:
            raise FetchError(f"{path}: {frames} video frames, the generator meant "
                             f"{info['frames']}")
        ref = detect(path)
        say(f"    {name}: truth {[c['t'] for c in info['truth']['cuts']]}, "
            f"PySceneDetect {ref['cuts_s']} ({ref['seconds']:.1f} s)")
        clips.append({
            "name": name, "file": str(CLIP_DIR / f"{name}.mp4"),
            "sha256": sha256_file(path), "description": what,
            "fps": FPS, "size_wh": [W, H], "frames": frames, "duration_s": sec(frames),
            "truth": info["truth"], "pyscenedetect": ref,
        })
    import inspect

    from scenedetect import ContentDetector

    defaults = {k: v.default for k, v in
                inspect.signature(ContentDetector.__init__).parameters.items()
                if v.default is not inspect.Parameter.empty}
    doc = {
        "generator": "scripts/scene_refs.py",
        "versions": {"scenedetect": scenedetect.__version__, "opencv": cv2.__version__,
                     "numpy": np.__version__, "python": platform.python_version(),
                     "ffmpeg": ffmpeg_version()},
        "detector": {"name": "ContentDetector", "threshold": defaults["threshold"],
                     "min_scene_len": defaults["min_scene_len"],
                     "weights_hsv_edges": [float(w) for w in defaults["weights"]],
                     "backend": "opencv",
                     "call": "SceneManager().add_detector(ContentDetector()); "
                             "detect_scenes(open_video(path)); cuts = starts of "
                             "get_scene_list()[1:]"},
        "truth_time": "a cut at t is the first frame of the new picture (frame / fps)",
        "clips": clips,
        "commands": commands,
        "state": state(),
    }
    write_atomic(out, (json.dumps(doc, indent=1) + "\n").encode())
    say(f"    wrote {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FetchError as e:
        print(f"scene_refs: error: {e}", file=sys.stderr)
        sys.exit(1)
