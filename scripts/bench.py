#!/usr/bin/env python3
"""livecut benchmark driver (called by scripts/bench.sh).

For each length (minutes) it generates a 1080p30 H.264 + AAC recording with a real
creation_time (a 2-minute segment encoded once, then stream-copied end to end, so long
recordings cost seconds to make), then times in the same run:
  * ffmpeg -i REC -f null -          (FFmpeg's full decode, the reference)
  * livecut analyze (default: 2 fps sampled decode)
  * livecut analyze --keyframes-only
and prints wall time, real-time factor, ratio to FFmpeg and peak RSS of each.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "livecut")
CACHE = os.environ.get("LIVECUT_BENCH_CACHE", os.path.expanduser("~/.cache/livecut-bench"))
SEGMENT_S = 120


def sh(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_recording(minutes):
    os.makedirs(CACHE, exist_ok=True)
    seg = os.path.join(CACHE, "segment-1080p30.mp4")
    if not os.path.exists(seg):
        tmp = seg + ".part.mp4"
        sh(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000",
            "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000",
            "-filter_complex", "[1:a][2:a]amix=inputs=2[a]", "-map", "0:v", "-map", "[a]",
            "-t", str(SEGMENT_S), "-c:v", "libx264", "-preset", "veryfast", "-b:v", "6M",
            "-maxrate", "6M", "-bufsize", "12M",
            "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", tmp])
        os.replace(tmp, seg)
    rec = os.path.join(CACHE, f"bench-{minutes}min-1080p30.mp4")
    if not os.path.exists(rec):
        n = max(1, round(minutes * 60 / SEGMENT_S))
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            for _ in range(n):
                f.write(f"file '{seg}'\n")
            lst = f.name
        tmp = rec + ".part.mp4"
        sh(["ffmpeg", "-y", "-f", "concat", "-safe", "0", "-i", lst, "-c", "copy",
            "-metadata", "creation_time=2024-09-03T11:12:50Z", tmp])
        os.replace(tmp, rec)
        os.unlink(lst)
    return rec


def timed(args):
    """Run args; return (wall seconds, peak RSS MiB)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(args)}\n{err}")
    return wall, usage.ru_maxrss / 1024.0


def duration_of(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main():
    lengths = [float(a) for a in sys.argv[1:]] or [30.0]
    rows = []
    model_rows = []
    for minutes in lengths:
        rec = make_recording(minutes)
        dur = duration_of(rec)
        out = tempfile.mkdtemp(prefix="livecut-bench-")
        ff_wall, ff_rss = timed(["ffmpeg", "-v", "error", "-i", rec, "-f", "null", "-"])
        rows.append((f"{minutes:g} min", "ffmpeg -i REC -f null -", ff_wall, dur, ff_wall, ff_rss))
        for label, extra in [("livecut analyze --no-models", ["--no-models"]),
                             ("livecut analyze", []),
                             ("livecut analyze --keyframes-only", ["--keyframes-only"])]:
            # A fresh output folder each time: no cached tracks.
            o = tempfile.mkdtemp(prefix="livecut-bench-", dir=out)
            wall, rss = timed([BIN, "-q", "analyze", rec, "--out", o] + extra)
            rows.append((f"{minutes:g} min", label, wall, dur, ff_wall, rss))
            signals = os.path.join(o, os.path.splitext(os.path.basename(rec))[0], "signals.json")
            with open(signals) as f:
                secs = json.load(f).get("cost_seconds", {})
            for name, s in sorted(secs.items()):
                model_rows.append((f"{minutes:g} min", label, name, s, s * 1000.0 / (dur / 60.0)))
            if extra == []:
                # Same inputs and settings again: the cached tracks are reused.
                wall2, rss2 = timed([BIN, "-q", "analyze", rec, "--out", o])
                rows.append((f"{minutes:g} min", "livecut analyze (rerun, cached)", wall2, dur, ff_wall, rss2))
    print()
    print(f"recordings: 1080p30 H.264 + AAC 48 kHz, {os.cpu_count()} CPU cores, cache {CACHE}")
    head = f"| {'length':<7} | {'command':<34} | {'wall s':>8} | {'x real time':>11} | {'vs ffmpeg decode':>16} | {'peak RSS MiB':>12} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for length, label, wall, dur, ff, rss in rows:
        print(f"| {length:<7} | {label:<34} | {wall:>8.1f} | {dur / wall:>11.1f} | {wall / ff:>16.2f} | {rss:>12.0f} |")
    if model_rows:
        print()
        print("cost per track on CPU (1 thread per model session; time inside each model incl. pre/post-processing;")
        print("decode_wait = the analysis thread waiting for the decoder thread)")
        head = f"| {'length':<7} | {'run':<34} | {'track/model':<12} | {'seconds':>8} | {'ms per minute of video':>22} |"
        print(head)
        print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
        for length, label, name, s, per_min in model_rows:
            print(f"| {length:<7} | {label:<34} | {name:<12} | {s:>8.1f} | {per_min:>22.0f} |")


if __name__ == "__main__":
    main()
