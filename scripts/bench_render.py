#!/usr/bin/env python3
"""livecut render benchmark (called by scripts/bench_render.sh).

Per-clip render time of `livecut cut` next to the ffmpeg CLI doing the same work on the
same span of the same recording, in the same run:

  * douyin 1080x1920 (9:16 crop, bicubic scale, libx264 veryfast, AAC 192k): one livecut
    clip vs one ffmpeg command with the douyin preset's figures (read from
    src/render/presets.toml, the file livecut builds in);
  * source (stream copy): livecut vs `ffmpeg -ss -t -c copy`;
  * douyin + youtube-shorts + bilibili: one livecut run (one decode shared by the three
    encodes) vs three separate ffmpeg runs (wall and CPU summed);
  * douyin with burned subtitles (a transcript.json with a sentence every 4 s): livecut
    vs ffmpeg's subtitles filter on the .srt livecut wrote;
  * with BENCH_GPU=1 and an NVIDIA GPU: the encoded cases again with `--device cuda` vs
    ffmpeg with h264_cuvid (NVDEC) and h264_nvenc.

The recording is bench.py's cached 1080p30 H.264 + AAC file (2 minutes, or longer when a
span needs it). `livecut analyze --no-models` runs once; its highlights.json is then
rewritten to hold exactly one highlight, SPAN seconds from START_S. Without models there is
no face track, so livecut's 9:16 crop stays centred and ffmpeg gets the same fixed crop.

Usage: bench_render.py [SPAN_SECONDS ...]   (default 30 60)
Environment: BENCH_GPU=1, BENCH_REPEAT=N (keep the fastest of N runs of every command),
BENCH_KEEP=1 (keep the output folder), LIVECUT_BENCH_CACHE (see bench.py).
Peak RSS and CPU time come from os.wait4 on each child (exact per process).
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the recording generator and its cache)

ROOT = bench.ROOT
BIN = bench.BIN
PRESETS_TOML = os.path.join(ROOT, "src", "render", "presets.toml")
START_S = 20.0
DEFAULT_SPANS = [30.0, 60.0]
MULTI = ["douyin", "youtube-shorts", "bilibili"]
# livecut's audio chain constants (src/render/mod.rs, render_highlight).
FADE_S = 0.25
LIMITER_MARGIN_DB = 1.5
DURATION_TOLERANCE_S = 0.1
# Subtitle font size for the ffmpeg side, fraction of the height (about livecut's).
SUBTITLE_SIZE = 0.035
# Sentences of the benchmark's transcript (mixed CJK, Latin and digits, one or two lines).
SENTENCES = ["到手价99元 iPhone 15 同款", "家人们看一下这个细节，做工非常扎实",
             "今天直播间福利多多 抓紧时间下单", "三号链接 199元两件 包邮到家"]


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------- processes

def timed(args, cwd=None):
    """Run args; return (wall s, peak RSS MiB, CPU s). Raises BenchError on failure."""
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-20:]
            raise BenchError(f"exit {proc.returncode}: {' '.join(args)}\n" + "\n".join(tail))
    return wall, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


def output_of(args):
    try:
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        raise BenchError(f"{' '.join(args)}: {detail.strip()}") from e


def probe(path):
    """Video width, height, r_frame_rate (string) and container duration of a file."""
    out = json.loads(output_of([
        "ffprobe", "-v", "error", "-select_streams", "v:0",
        "-show_entries", "stream=width,height,r_frame_rate:format=duration",
        "-of", "json", path]))
    if not out.get("streams"):
        raise BenchError(f"{path}: no video stream")
    s = out["streams"][0]
    return {"width": s["width"], "height": s["height"], "fps": s["r_frame_rate"],
            "duration": float(out["format"]["duration"])}


def fps_value(rate):
    num, _, den = rate.partition("/")
    return float(num) / float(den or 1)


# --------------------------------------------------------------------------- presets

def load_presets():
    with open(PRESETS_TOML, "rb") as f:
        return {p["name"]: p for p in tomllib.load(f)["preset"]}


def rational(x):
    """livecut's frame-rate rational (src/render/encode.rs, rational)."""
    for num, den in [(24000, 1001), (30000, 1001), (60000, 1001)]:
        if abs(x - num / den) < 1e-3:
            return f"{num}/{den}"
    if abs(x - round(x)) < 1e-6:
        return f"{round(x)}/1"
    return f"{round(x * 1000)}/1000"


def crop_size(src_w, src_h, aw, ah):
    """livecut's 9:16 window (src/render/reframe.rs, crop_size)."""
    def even_floor(v):
        return v & ~1 if v >= 2 else v

    def even_round(v, hi):
        return min(max(int(math.floor(v / 2.0 + 0.5)) * 2, 2), hi)

    ew, eh = even_floor(src_w), even_floor(src_h)
    if src_w * ah > src_h * aw:
        return even_round(eh * aw / ah, ew), eh
    return ew, even_round(ew * ah / aw, eh)


def video_filters(p, src, fps):
    """The framing filters livecut builds for preset p, without face tracks."""
    w, h = p["width"], p["height"]
    if p["framing"] == "follow":
        aw, ah = (int(v) for v in p["aspect"].split(":"))
        cw, ch = crop_size(src["width"], src["height"], aw, ah)
        x, y = (src["width"] - cw) // 2, 0 if ch == src["height"] else (src["height"] - ch) // 2
        framing = f"crop={cw}:{ch}:{x}:{y},scale={w}:{h}:flags=bicubic"
    elif p["framing"] == "pad":
        framing = (f"split[fg0][bg0];[bg0]scale={w}:{h}:force_original_aspect_ratio=increase,"
                   f"crop={w}:{h},boxblur=luma_radius=20:luma_power=2[bg];"
                   f"[fg0]scale={w}:{h}:force_original_aspect_ratio=decrease[fg];"
                   f"[bg][fg]overlay=(W-w)/2:(H-h)/2")
    else:  # fit
        framing = (f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
                   f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2")
    return f"{framing},fps={rational(fps)},setsar=1,format=yuv420p"


def ffmpeg_encode(rec, src, p, span, dest, gpu, srt=None):
    """The ffmpeg command doing what livecut does for preset p (one pass, fixed 0 dB gain);
    with srt, the subtitles burned by libass as well (Noto Sans CJK, outlined)."""
    fps = min(fps_value(src["fps"]), p["max_fps"])
    gop = max(1, math.floor(p["gop_s"] * fps + 1e-6))
    # Rates exactly as render_highlight computes them (size cap budget included).
    audio_bps = p["audio_bitrate_kbps"] * 1000
    budget_bps = int(p["max_bytes"] * 8.0 / max(span, 1.0) / 1.03)
    maxrate = max(min(p["video_maxrate_kbps"] * 1000, max(budget_bps - audio_bps, 0)), 200_000)
    bitrate = min(p["video_bitrate_kbps"] * 1000, maxrate)
    limit = min(max(10 ** ((p["true_peak_dbtp"] - LIMITER_MARGIN_DB) / 20.0), 0.0625), 1.0)
    fade = min(FADE_S, span / 4.0)
    sr = p["audio_sample_rate"]
    afilters = (f"aresample={sr},aformat=sample_fmts=fltp:sample_rates={sr}:channel_layouts=stereo,"
                f"volume=0.000dB,alimiter=limit={limit:.5f}:level=0:latency=1:attack=5:release=50,"
                f"afade=t=in:d={fade:.3f},afade=t=out:st={max(span - fade, 0.0):.3f}:d={fade:.3f}")
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
    if gpu:
        cmd += ["-c:v", "h264_cuvid"]
    vf = video_filters(p, src, fps)
    if srt:
        size = round(p["height"] * SUBTITLE_SIZE)
        style = (f"FontName=Noto Sans CJK SC,FontSize={size},Outline=3,Shadow=1,"
                 f"MarginV={round(p['height'] * p.get('subtitle_bottom', 0.08))}")
        vf += f",subtitles=filename={srt}:original_size={p['width']}x{p['height']}:force_style='{style}'"
    cmd += ["-ss", f"{START_S:g}", "-t", f"{span:g}", "-i", rec, "-map", "0:v:0", "-map", "0:a:0",
            "-vf", vf]
    if gpu:
        cmd += ["-c:v", "h264_nvenc", "-preset", "p4", "-rc", "vbr", "-strict_gop", "1"]
    else:
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-level", p["video_level"],
                "-x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"]
    cmd += ["-profile:v", p["video_profile"], "-b:v", str(bitrate), "-maxrate", str(maxrate),
            "-bufsize", str(p["video_bufsize_kbps"] * 1000), "-g", str(gop),
            "-af", afilters, "-c:a", "aac", "-b:a", str(audio_bps), "-ar", str(sr), "-ac", "2",
            "-movflags", "+faststart", dest]
    return cmd


def ffmpeg_copy(rec, span, dest):
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-ss", f"{START_S:g}",
            "-t", f"{span:g}", "-i", rec, "-map", "0:v:0", "-map", "0:a:0", "-c", "copy",
            "-movflags", "+faststart", dest]


# --------------------------------------------------------------------------- livecut

def set_highlight(highlights, start, end):
    """Rewrite highlights.json to hold exactly one highlight, start..end seconds."""
    with open(highlights) as f:
        doc = json.load(f)
    doc["highlights"] = [{
        "rank": 1, "start_s": start, "end_s": end, "peak_s": (start + end) / 2.0,
        "score": 1.0, "reasons": [], "boundaries": ["none", "none"], "type": "moment",
        "tags": [], "type_evidence": [],
    }]
    with open(highlights, "w") as f:
        json.dump(doc, f, indent=2)


def write_transcript(stem_dir, start, end):
    """transcript.json with a 3.5-s sentence every 4 s over start..end (as the speech stage
    or an editor leaves it): livecut burns it on douyin by default."""
    segments, t, i = [], start, 0
    while t + 3.5 <= end:
        segments.append({"start_s": t, "end_s": t + 3.5, "text": SENTENCES[i % len(SENTENCES)],
                         "lang": "zh", "confidence": 0.9})
        t, i = t + 4.0, i + 1
    doc = {"model": "bench", "language": "zh", "transcribed": [[start, end]],
           "segments": segments}
    with open(os.path.join(stem_dir, "transcript.json"), "w") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
    return len(segments)


def livecut_cut(highlights, platforms, device):
    return [BIN, "-q", "cut", highlights, "--platforms", ",".join(platforms),
            "--device", device]


def livecut_clips(stem_dir):
    with open(os.path.join(stem_dir, "manifest.json")) as f:
        return {c["platform"]: c for c in json.load(f)["clips"]}


# --------------------------------------------------------------------------- machine

def machine_notes():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ff = output_of(["ffmpeg", "-hide_banner", "-version"]).splitlines()[0]
    return f"{os.cpu_count()} CPU cores ({model}); {ff.split(' Copyright')[0]}"


def gpu_problem():
    """None when the CUDA rows can run, else why not."""
    if not os.path.exists("/dev/nvidia0"):
        return "no NVIDIA GPU (/dev/nvidia0 is missing)"
    if " h264_nvenc " not in output_of(["ffmpeg", "-hide_banner", "-encoders"]):
        return "this ffmpeg has no h264_nvenc encoder"
    if " h264_cuvid " not in output_of(["ffmpeg", "-hide_banner", "-decoders"]):
        return "this ffmpeg has no h264_cuvid decoder"
    return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------- benchmark

class Bench:
    def __init__(self, rec, src, stem_dir, work, repeat, presets):
        self.rec, self.src, self.stem_dir, self.work = rec, src, stem_dir, work
        self.repeat, self.presets = repeat, presets
        self.highlights = os.path.join(stem_dir, "highlights.json")
        self.rows, self.warnings, self.copy_notes = [], [], []

    def best(self, args):
        """Fastest of `repeat` runs: (wall, peak RSS over all runs, CPU of the fastest)."""
        runs = [timed(args) for _ in range(self.repeat)]
        wall, _, cpu = min(runs)
        return wall, max(r[1] for r in runs), cpu

    def case(self, label, span, platforms, device, subtitles=False):
        """One livecut run for `platforms` vs one ffmpeg run per platform, same span (with
        subtitles: burned on both sides, ffmpeg from the .srt livecut wrote)."""
        clips_dir = os.path.join(self.stem_dir, "clips")
        ff_dir = os.path.join(self.work, "ffmpeg")
        shutil.rmtree(clips_dir, ignore_errors=True)
        shutil.rmtree(ff_dir, ignore_errors=True)
        os.makedirs(ff_dir)
        lc = self.best(livecut_cut(self.highlights, platforms, device))
        ff_wall = ff_cpu = ff_rss = 0.0
        pairs = []
        for name in platforms:
            p = self.presets[name]
            dest = os.path.join(ff_dir, f"{name}.mp4")
            if p["mode"] == "copy":
                cmd = ffmpeg_copy(self.rec, span, dest)
            else:
                srt = os.path.join(clips_dir, f"1_{name}.srt") if subtitles else None
                if srt and not os.path.exists(srt):
                    raise BenchError(f"{label}: livecut wrote no {srt}")
                cmd = ffmpeg_encode(self.rec, self.src, p, span, dest, device == "cuda", srt)
            wall, rss, cpu = self.best(cmd)
            ff_wall, ff_cpu, ff_rss = ff_wall + wall, ff_cpu + cpu, max(ff_rss, rss)
            pairs.append((p, dest))
        self.check(label, span, pairs, device)
        self.rows.append((label, span, lc, (ff_wall, ff_rss, ff_cpu)))

    def check(self, label, span, pairs, device):
        """Both sides wrote comparable files: size, frame rate, duration, span, encoder."""
        clips = livecut_clips(self.stem_dir)
        want_encoder = {"cpu": "libx264", "cuda": "h264_nvenc"}[device]
        for p, ff_path in pairs:
            name = p["name"]
            where = f"{label}, {span:g} s, {name}"
            clip = clips.get(name)
            if clip is None:
                self.warnings.append(f"{where}: livecut wrote no {name} clip")
                continue
            got = clip["span"]
            copy = p["mode"] == "copy"
            if not copy and (abs(got["start_s"] - START_S) > 1e-6
                             or abs(got["end_s"] - START_S - span) > 1e-6):
                self.warnings.append(f"{where}: livecut rendered {got['start_s']:.3f}-"
                                     f"{got['end_s']:.3f} s, not {START_S:g}-{START_S + span:g} s")
            if p["mode"] == "encode" and clip["encoder"] != want_encoder:
                self.warnings.append(f"{where}: livecut used {clip['encoder']}, not {want_encoder}")
            lc = probe(os.path.join(self.stem_dir, clip["path"]))
            ff = probe(ff_path)
            if copy:
                want = (self.src["width"], self.src["height"])
            else:
                want = (p["width"], p["height"])
            for side, info in (("livecut", lc), ("ffmpeg", ff)):
                if (info["width"], info["height"]) != want:
                    self.warnings.append(f"{where}: {side} wrote {info['width']}x{info['height']}, "
                                         f"not {want[0]}x{want[1]}")
            if lc["fps"] != ff["fps"]:
                self.warnings.append(f"{where}: frame rates differ: livecut {lc['fps']}, "
                                     f"ffmpeg {ff['fps']}")
            if copy:
                # Stream copies cannot cut inside a GOP: livecut widens to the enclosing key
                # frames, ffmpeg starts at the key frame before -ss and stops after -t.
                self.copy_notes.append(
                    f"{span:g} s: livecut {got['start_s']:.2f}-{got['end_s']:.2f} s "
                    f"({lc['duration']:.2f} s), ffmpeg {ff['duration']:.2f} s")
            elif abs(lc["duration"] - ff["duration"]) > DURATION_TOLERANCE_S:
                self.warnings.append(f"{where}: durations differ by more than "
                                     f"{DURATION_TOLERANCE_S} s: livecut {lc['duration']:.3f} s, "
                                     f"ffmpeg {ff['duration']:.3f} s")
            if p["framing"] == "follow":
                self.check_crop(where, p, name)

    def check_crop(self, where, p, name):
        """livecut's crop track is the fixed window ffmpeg was given."""
        track = os.path.join(self.stem_dir, "clips", f"1_{name}.crop.json")
        try:
            with open(track) as f:
                path = json.load(f)["path"]
        except (OSError, ValueError, KeyError) as e:
            self.warnings.append(f"{where}: cannot read {track}: {e}")
            return
        fps = min(fps_value(self.src["fps"]), p["max_fps"])
        ours = video_filters(p, self.src, fps).split(",")[0]
        xs = {(q["x"], q["y"]) for q in path["points"]}
        if len(xs) == 1:
            (x, y), = xs
            theirs = f"crop={path['crop_w']}:{path['crop_h']}:{round(x)}:{round(y)}"
        else:
            theirs = f"a moving crop ({len(xs)} positions)"
        if theirs != ours:
            self.warnings.append(f"{where}: livecut cropped {theirs}, ffmpeg got {ours}")


def print_table(rows):
    head = ["case", "span s", "livecut wall s", "ffmpeg wall s", "livecut/ffmpeg",
            "× real time", "livecut peak RSS MiB", "ffmpeg peak RSS MiB",
            "livecut CPU s", "ffmpeg CPU s", "CPU livecut/ffmpeg"]
    body = []
    for label, span, (lw, lrss, lcpu), (fw, frss, fcpu) in rows:
        body.append([label, f"{span:g}", f"{lw:.1f}", f"{fw:.1f}", f"{lw / fw:.2f}",
                     f"{span / lw:.2f}", f"{lrss:.0f}", f"{frss:.0f}", f"{lcpu:.1f}",
                     f"{fcpu:.1f}", f"{lcpu / fcpu:.2f}"])
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    print(line(head))
    print("|" + "|".join(("-" * (w + 1)) + ":" if i else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|")
    for r in body:
        print(line(r))


def parse_spans(argv):
    try:
        spans = [float(a) for a in argv] or DEFAULT_SPANS
    except ValueError:
        raise BenchError(f"spans are seconds, got {' '.join(argv)}") from None
    for s in spans:
        # Inside every benchmarked preset's length range, so no preset moves the span.
        if not 3.0 <= s <= 180.0:
            raise BenchError(f"span {s:g} s: choose 3 to 180 s (the presets' length limits)")
    return spans


def run(argv):
    spans = parse_spans(argv)
    repeat = int(os.environ.get("BENCH_REPEAT", "1"))
    if repeat < 1:
        raise BenchError("BENCH_REPEAT must be 1 or more")
    if not os.access(BIN, os.X_OK):
        raise BenchError(f"{BIN} is missing: run scripts/bench_render.sh "
                         "(or cargo build --release --locked)")
    want_gpu = os.environ.get("BENCH_GPU") == "1"
    no_gpu = gpu_problem() if want_gpu else None
    presets = load_presets()
    for name in ["douyin", "source"] + MULTI:
        if name not in presets:
            raise BenchError(f"{PRESETS_TOML}: no preset {name!r}")

    # 2-minute segments; at least one, long enough for the longest span after START_S.
    minutes = 2 * math.ceil((START_S + max(spans) + 2.0) / bench.SEGMENT_S)
    rec = bench.make_recording(minutes)
    src = probe(rec)
    load_start = loadavg()
    work = tempfile.mkdtemp(prefix="livecut-bench-render-")
    try:
        out = os.path.join(work, "out")
        timed([BIN, "-q", "analyze", rec, "--out", out, "--no-models"])
        stem_dir = os.path.join(out, os.path.splitext(os.path.basename(rec))[0])
        b = Bench(rec, src, stem_dir, work, repeat, presets)
        devices = ["cpu"] + (["cuda"] if want_gpu and no_gpu is None else [])
        for span in spans:
            set_highlight(b.highlights, START_S, START_S + span)
            for device in devices:
                tag = "CPU" if device == "cpu" else "CUDA"
                b.case(f"douyin ({tag})", span, ["douyin"], device)
                b.case(f"douyin+youtube-shorts+bilibili ({tag})", span, MULTI, device)
            b.case("source (stream copy)", span, ["source"], "cpu")
            cues = write_transcript(stem_dir, START_S, START_S + span)
            b.case("douyin + burned subtitles (CPU)", span, ["douyin"], "cpu", subtitles=True)
            burned = livecut_clips(stem_dir)["douyin"].get("subtitles", {})
            if not burned.get("burned") or burned.get("cues") != cues:
                b.warnings.append(f"{span:g} s: livecut burned {burned}, expected {cues} cues")
            os.remove(os.path.join(stem_dir, "transcript.json"))
    finally:
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"outputs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    # Grouped by case (in the order they ran), spans ascending within a case.
    order = {}
    for label, *_ in b.rows:
        order.setdefault(label, len(order))
    print_table(sorted(b.rows, key=lambda r: (order[r[0]], r[1])))
    print()
    print("notes:")
    print(f"- machine: {machine_notes()}; load average {load_start} at the start, "
          f"{loadavg()} at the end (other work on the machine slows both sides alike; "
          "CPU s (user + system, all threads) is the less noisy figure)")
    print(f"- recording: {os.path.basename(rec)} ({src['width']}x{src['height']} "
          f"{src['fps']} fps H.264 + AAC, {src['duration']:.0f} s, cache {bench.CACHE}); "
          f"span starts at {START_S:g} s; each command timed "
          f"{'once' if repeat == 1 else f'{repeat} times, fastest kept'}")
    print("- livecut wall = one `livecut cut` process for one highlight: probe, loudness pass "
          "one plus 1-3 audio-only passes measuring the processed chain (extra decodes of the "
          "span's audio), the shared video decode and encodes, cover pick + JPEG, crop track, "
          "sha256, manifest.json and preview.html")
    print("- ffmpeg = the same seek, crop/scale (or pad) filters, fps, libx264 veryfast (or NVENC "
          "p4 vbr) with the preset's profile, level, bitrate, maxrate, bufsize and closed GOP, "
          "AAC at the preset's rate, +faststart; one pass with a fixed 0 dB gain before the "
          "same limiter and fades (no loudness measurement, no loudnorm)")
    print(f"- {'+'.join(MULTI)}: livecut renders the three from one decode in one process; "
          "ffmpeg runs three times (wall and CPU summed, RSS the largest); "
          "× real time = span / livecut wall for all three clips")
    print("- douyin + burned subtitles: a transcript.json with a 3.5-s sentence every 4 s "
          "(CJK with Latin and digits); livecut burns it through libass (ass filter, its own "
          "layout); ffmpeg burns the .srt livecut wrote with the subtitles filter (Noto Sans "
          "CJK SC, outline 3)")
    print("- douyin/youtube-shorts use livecut's centred 9:16 crop (608x1080 at x=656 for "
          "1920x1080; no face track with --no-models); bilibili is 1920x1080 pad framing")
    if not want_gpu:
        print("- GPU rows not run: set BENCH_GPU=1 on a machine with an NVIDIA GPU")
    elif no_gpu:
        print(f"- GPU rows skipped: {no_gpu}")
    else:
        print("- CUDA rows: livecut --device cuda (h264_cuvid decode, CPU filters, h264_nvenc) vs "
              "ffmpeg -c:v h264_cuvid ... -c:v h264_nvenc -preset p4 -rc vbr -strict_gop 1")
    if b.copy_notes:
        print("- stream copy spans (key frames every 2 s; livecut widens to the enclosing key "
              "frames, ffmpeg -ss -t -c copy starts at the key frame before): "
              + "; ".join(b.copy_notes))
    if b.warnings:
        for w in b.warnings:
            print(f"WARNING: outputs not comparable: {w}")
    else:
        print("- outputs checked with ffprobe: same size and frame rate on both sides, encoded "
              f"clips' durations within {DURATION_TOLERANCE_S} s, livecut spans as asked")


def main():
    try:
        run(sys.argv[1:])
    except BenchError as e:
        sys.exit(f"bench_render: {e}")
    except subprocess.CalledProcessError as e:  # from bench.make_recording
        sys.exit(f"bench_render: generating the recording failed: {' '.join(e.cmd)}")
    except KeyboardInterrupt:
        sys.exit("bench_render: interrupted")


if __name__ == "__main__":
    main()
