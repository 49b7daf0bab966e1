#!/usr/bin/env python3
"""Batch benchmark (called by scripts/bench_batch.sh).

Generates COUNT recordings of MINUTES minutes (720p30 H.264 + AAC, a 2-minute segment
encoded once and stream-copied end to end, cached in ${LIVECUT_BENCH_CACHE:-~/.cache/livecut-bench}),
then times on the same files in the same run:
  * one `livecut batch` over all of them (--jobs from cores and memory, or BENCH_JOBS)
  * `livecut run` on each recording, one after another
and prints wall time and peak RSS of both (models on; clips: stream copy).
"""
import os
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "livecut")
CACHE = os.environ.get("LIVECUT_BENCH_CACHE", os.path.expanduser("~/.cache/livecut-bench"))
SEGMENT_S = 120


def sh(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def segment():
    os.makedirs(CACHE, exist_ok=True)
    seg = os.path.join(CACHE, "segment-720p30.mp4")
    if not os.path.exists(seg):
        tmp = seg + ".part.mp4"
        sh(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000",
            "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000",
            "-filter_complex",
            "[1:a][2:a]amix=inputs=2,volume='if(between(mod(t,40),20,26),4,1)':eval=frame[a]",
            "-map", "0:v", "-map", "[a]", "-t", str(SEGMENT_S), "-c:v", "libx264",
            "-preset", "veryfast", "-b:v", "3M", "-g", "60", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", tmp])
        os.replace(tmp, seg)
    return seg


def recordings(count, minutes):
    seg = segment()
    d = os.path.join(CACHE, f"batch-{count}x{minutes}min")
    os.makedirs(d, exist_ok=True)
    lst = os.path.join(d, "concat.txt")
    with open(lst, "w") as f:
        for _ in range(max(1, round(minutes * 60 / SEGMENT_S))):
            f.write(f"file '{seg}'\n")
    out = []
    for i in range(count):
        p = os.path.join(d, f"rec{i:02}.mp4")
        if not os.path.exists(p):
            sh(["ffmpeg", "-y", "-f", "concat", "-safe", "0", "-i", lst, "-c", "copy",
                "-metadata", f"title=rec{i}", "-metadata",
                "creation_time=2024-09-03T11:12:50Z", p + ".part.mp4"])
            os.replace(p + ".part.mp4", p)
        out.append(p)
    return d, out


def timed(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *args], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{r.stderr[-2000:]}")
    rss_kib = int(r.stderr.strip().splitlines()[-1])
    del before
    return wall, rss_kib / 1024


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    d, recs = recordings(count, minutes)
    out = os.path.join(CACHE, "batch-out")
    shutil.rmtree(out, ignore_errors=True)
    jobs = os.environ.get("BENCH_JOBS")
    batch_args = [BIN, "batch", d, "--out", os.path.join(out, "batch"), "-q"]
    if jobs:
        batch_args += ["--jobs", jobs]
    b_wall, b_rss = timed(batch_args)
    s_wall, s_rss = 0.0, 0.0
    for r in recs:
        w, m = timed([BIN, "run", r, "--out", os.path.join(out, "seq"), "-q"])
        s_wall += w
        s_rss = max(s_rss, m)
    real = count * minutes * 60
    print(f"\n{count} recordings × {minutes:g} min (720p30 H.264 + AAC), models on, "
          f"stream-copied clips; {os.cpu_count()} cores\n")
    print("| command | wall s | × real time | peak RSS MiB |")
    print("|---|---|---|---|")
    print(f"| livecut batch (jobs {jobs or 'default'}) | {b_wall:.1f} | {real / b_wall:.1f} | {b_rss:.0f} |")
    print(f"| livecut run, one after another | {s_wall:.1f} | {real / s_wall:.1f} | {s_rss:.0f} |")
    print(f"\nbatch / sequential wall: {b_wall / s_wall:.2f}")


if __name__ == "__main__":
    main()
