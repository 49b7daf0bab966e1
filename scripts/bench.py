#!/usr/bin/env python3
"""livecut benchmark driver (called by scripts/bench.sh).

Usage: scripts/bench.py [MINUTES ...]   (default 30 120 240)
       BENCH_FULL=1   also time `--full` (the no-cascade mode) at every length (default:
                      only at lengths <= 30 min; it costs about 1.2x FFmpeg's decode;
                      BENCH_FULL=0: at no length)
       BENCH_GPU=1    also time `--device cuda` (needs the cuda build and a GPU)
       BENCH_TOP=N    also time `--highlights N` at every length (the fixed-count mode earlier
                      benchmarks measured: compare like with like)
       BENCH_NO_SPEECH=1  also time `--transcribe off` (no Whisper: memory without the speech
                      stage's Whisper: 83 MiB of int8 weights on the CPU)
       BENCH_KEEP=1   keep the analysis output folders (printed at the end)
       LIVECUT_BIN=F  time this binary instead of target/release/livecut

For each length it makes, once (cached in ${LIVECUT_BENCH_CACHE:-~/.cache/livecut-bench}):
  * a 1080p30 H.264 + AAC recording with creation_time 2024-09-03T11:12:50Z (a 2-minute
    segment encoded once, then stream-copied end to end, so 4 hours cost seconds to make);
    its sound is a host talking all the time (espeak-ng Mandarin over a tone and noise), so
    the speech stage has as much to hear as in a real session;
  * a comment export and an order export for it (scripts/bench_timelines_gen.py: CSV,
    absolute Beijing times, ~3 comments/s with a 30 s burst every ~10 minutes, 0.1-0.3
    orders/s rising after flash sales);
then times, in the same run and on the same file:
  * ffmpeg -v error -i REC -f null -              (FFmpeg's full decode: the reference)
  * livecut -q analyze REC --comments C --orders O  (fresh output folder: nothing cached)
  * livecut -q analyze ... --full                   (when supported; see BENCH_FULL)
  * livecut -q analyze ... --device cuda            (BENCH_GPU=1)
and prints ONE table: per-stage seconds (signals.json `stage_seconds`), wall time, CPU
time (user + sys, from wait4), real-time factor, ratio to FFmpeg's wall time, peak RSS and
the cascade's coverage (signals.json `cascade`); `–` where the binary does not report it.
A second table gives the cost per track/model (signals.json `cost_seconds`) of the
default run, in ms per minute of video.
"""
import csv
import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_timelines_gen  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("LIVECUT_BIN") or os.path.join(ROOT, "target", "release", "livecut")
CACHE = os.environ.get("LIVECUT_BENCH_CACHE", os.path.expanduser("~/.cache/livecut-bench"))
SEGMENT_S = 120
DEFAULT_MINUTES = [30.0, 120.0, 240.0]
STAGES = ["probe", "timelines", "decode", "survey", "candidates", "detail", "fuse", "speech", "products",
          "classify", "report"]  # decode: --full
FULL_UP_TO_MIN = 30.0
TARGET_RTF, TARGET_VS_FFMPEG, TARGET_RSS_MIB = 100.0, 0.2, 1024.0
# Short recordings and memory at every length (all models): <= 0.5x FFmpeg's decode up to
# 10 minutes, <= 400 MiB peak RSS from 10 minutes to 8 hours.
TARGET_SHORT_MIN, TARGET_SHORT_VS_FFMPEG, TARGET_RSS_ANY_MIB = 10.0, 0.5, 400.0
TARGET_PRODUCTS_SHARE = 0.05  # the product timeline's share of the analysis
# The bench catalogue: a name, a price and an alias per SKU of bench_timelines_gen.
PRODUCT_NAMES = ["保温杯", "蓝牙耳机", "面膜", "手机壳", "电动牙刷", "帆布包", "空气炸锅", "洗面奶", "羽绒服",
                 "运动鞋", "口红", "坚果礼盒"]
DASH = "–"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def sh(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The host talks all the time, as in a real session (the speech stage has work to do):
# espeak-ng Mandarin (pinyin voice) selling sentences with short pauses, over a tone and
# pink noise.
TALK = [
    "jia1 ren2 men5 hao3, huan1 ying2 lai2 dao4 zhi2 bo1 jian1.",
    "zhe4 kuan3 chan3 pin3 fei1 chang2 hao3 yong4, da4 jia1 kan4 yi2 xia4.",
    "jin1 tian1 de5 jia4 ge2 zhen1 de5 hen3 hua2 suan4.",
    "you3 wen4 ti2 ke3 yi3 zai4 ping2 lun4 qu1 wen4 wo3.",
    "zhe4 ge4 cai2 zhi4 mo1 qi3 lai2 hen3 shu1 fu5.",
    "da4 jia1 kan4 yi2 xia4 zhe4 ge4 xi4 jie2, zuo4 gong1 fei1 chang2 hao3.",
]


def make_talk(path):
    """About two minutes of a host's talk (16 kHz mono WAV)."""
    parts = []
    with tempfile.TemporaryDirectory() as d:
        i = 0
        total = 0.0
        while total < SEGMENT_S:
            wav = os.path.join(d, f"s{i:03d}.wav")
            sh(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(160 + 7 * (i % 4)), "-w", wav, TALK[i % len(TALK)]])
            pad = os.path.join(d, f"p{i:03d}.wav")
            sh(["ffmpeg", "-y", "-i", wav, "-af", f"aresample=16000,apad=pad_dur={0.4 + 0.3 * (i % 3)}", "-ac", "1", pad])
            parts.append(pad)
            total += float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                           "csv=p=0", pad], capture_output=True, text=True).stdout or 0)
            i += 1
        lst = os.path.join(d, "list.txt")
        with open(lst, "w") as f:
            f.writelines(f"file '{p}'\n" for p in parts)
        sh(["ffmpeg", "-y", "-f", "concat", "-safe", "0", "-i", lst, "-t", str(SEGMENT_S), path])


def make_recording(minutes):
    os.makedirs(CACHE, exist_ok=True)
    seg = os.path.join(CACHE, "segment-1080p30-talk.mp4")
    if not os.path.exists(seg):
        log("encoding the 2-minute 1080p30 segment (once)")
        tmp = seg + ".part.mp4"
        talk = seg + ".talk.wav"
        make_talk(talk)
        sh(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000",
            "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000",
            "-i", talk,
            "-filter_complex", "[1:a]volume=0.3[t];[3:a]aresample=48000,volume=1.5[v];"
                               "[t][2:a][v]amix=inputs=3:normalize=0[a]", "-map", "0:v", "-map", "[a]",
            "-t", str(SEGMENT_S), "-c:v", "libx264", "-preset", "veryfast", "-b:v", "6M",
            "-maxrate", "6M", "-bufsize", "12M",
            "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", tmp])
        os.replace(tmp, seg)
        os.unlink(talk)
    rec = os.path.join(CACHE, f"bench-{minutes}min-1080p30-talk.mp4")
    if not os.path.exists(rec):
        n = max(1, round(minutes * 60 / SEGMENT_S))
        need, free = os.path.getsize(seg) * n, shutil.disk_usage(CACHE).free
        if need + 2**30 > free:
            sys.exit(f"{rec} needs {need / 2**30:.1f} GiB, {CACHE} has {free / 2**30:.1f} GiB free "
                     "(LIVECUT_BENCH_CACHE=DIR puts the recordings elsewhere)")
        log(f"making {os.path.basename(rec)} ({need / 2**30:.1f} GiB, stream copy, once)")
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


def make_exports(rec, duration_s):
    """The comment and order exports next to the recording, once per generator version."""
    with open(bench_timelines_gen.__file__, "rb") as f:
        ver = hashlib.sha256(f.read()).hexdigest()[:8]
    stem = os.path.splitext(rec)[0]
    comments, orders = f"{stem}.{ver}.comments.csv", f"{stem}.{ver}.orders.csv"
    if not (os.path.exists(comments) and os.path.exists(orders)):
        t0 = time.monotonic()
        info = bench_timelines_gen.generate(duration_s, comments, orders)
        log(f"exports for {os.path.basename(rec)}: {info['comments']} comment rows, {info['orders']} orders, "
            f"{len(info['bursts'])} bursts ({time.monotonic() - t0:.1f} s, once)")
    return comments, orders


def make_catalogue(rec):
    """A product catalogue of the bench's SKUs (`--products`), beside the recording."""
    path = f"{os.path.splitext(rec)[0]}.products.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "price", "aliases"])
        for (sku, price), name in zip(bench_timelines_gen.SKUS, PRODUCT_NAMES):
            w.writerow([sku, name, f"{price:.2f}", f"{name}同款|{sku[-4:]}"])
    return path


def timed(args):
    """Run args; return (exit code, wall s, CPU user+sys s, peak RSS MiB, stderr tail)."""
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        err.seek(0)
        tail = err.read()[-4000:].decode(errors="replace").strip()
    return (os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024.0, tail)


def duration_of(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def length_label(minutes):
    return f"{minutes / 60:g} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes:g} min"


def machine_facts():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("MemTotal"))
        mem = f", {kib / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass

    def cmd(args):
        r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        return r.returncode, r.stdout.strip()

    rc, commit = cmd(["git", "rev-parse", "--short", "HEAD"])
    commit = commit if rc == 0 else "?"
    # read-only: --no-optional-locks keeps git from refreshing the index
    rc, _ = cmd(["git", "--no-optional-locks", "diff", "--quiet", "HEAD", "--", "src", "Cargo.toml", "Cargo.lock"])
    dirty = " + uncommitted changes in src/ or Cargo.*" if rc == 1 else ""
    shown = os.path.relpath(BIN, ROOT) if os.path.abspath(BIN).startswith(ROOT + os.sep) else BIN
    built = dt.datetime.fromtimestamp(os.path.getmtime(BIN), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    _, ff = cmd(["ffmpeg", "-hide_banner", "-version"])
    ff = ff.splitlines()[0] if ff else "?"
    return [f"machine: {os.cpu_count()} cores, {model}{mem}",
            f"livecut: commit {commit}{dirty}; binary {shown} built {built}",
            f"ffmpeg:  {ff}"]


def read_signals(out_dir):
    paths = glob.glob(os.path.join(out_dir, "*", "signals.json"))
    if not paths:
        return {}
    with open(paths[0]) as f:
        return json.load(f)


def read_transcript(out_dir):
    paths = glob.glob(os.path.join(out_dir, "*", "transcript.json"))
    if not paths:
        return None
    with open(paths[0]) as f:
        return json.load(f)


def fmt_s(v):
    if v is None:
        return DASH
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"


def main():
    lengths = [float(a) for a in sys.argv[1:]] or DEFAULT_MINUTES
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found: cargo build --release first (scripts/bench.sh does)")
    bench_full = os.environ.get("BENCH_FULL") == "1"
    bench_gpu = os.environ.get("BENCH_GPU") == "1"
    keep = os.environ.get("BENCH_KEEP") == "1"
    top = os.environ.get("BENCH_TOP", "").strip()
    no_speech = os.environ.get("BENCH_NO_SPEECH") == "1"
    help_text = subprocess.run([BIN, "analyze", "--help"], capture_output=True, text=True).stdout
    has_full = re.search(r"^\s*--full\b", help_text, re.M) is not None
    has_device = re.search(r"^\s*--device\b", help_text, re.M) is not None

    notes, rows, cost_rows, failed = [], [], [], False
    if not has_full:
        notes.append("--full: this binary has no `livecut analyze --full` (no-cascade mode): those rows are skipped")
    elif os.environ.get("BENCH_FULL") == "0":
        notes.append("no --full rows (BENCH_FULL=0)")
    elif not bench_full and any(m > FULL_UP_TO_MIN for m in lengths):
        notes.append(f"--full rows only for lengths <= {FULL_UP_TO_MIN:g} min (BENCH_FULL=1 for every length)")
    if bench_gpu and not has_device:
        notes.append("BENCH_GPU=1: GPU analysis rows need the cuda build (`livecut analyze --help` has no --device)")

    work = tempfile.mkdtemp(prefix="livecut-bench-")
    facts = machine_facts()
    for minutes in lengths:
        label = length_label(minutes)
        rec = make_recording(minutes)
        dur = duration_of(rec)
        comments, orders = make_exports(rec, dur)
        catalogue = make_catalogue(rec)

        log(f"{label}: ffmpeg -i REC -f null -")
        rc, ff_wall, ff_cpu, ff_rss, tail = timed(["ffmpeg", "-v", "error", "-nostdin", "-i", rec, "-f", "null", "-"])
        if rc != 0:
            sys.exit(f"ffmpeg failed on {rec}:\n{tail}")
        rows.append(dict(length=label, run="ffmpeg -i REC -f null -", wall=ff_wall, cpu=ff_cpu, rss=ff_rss,
                         dur=dur, ff=ff_wall, stages={}, cascade=None, ok=True))

        runs = [("livecut analyze", [])]
        if top:
            runs.append((f"livecut analyze --highlights {top}", ["--highlights", top]))
        if no_speech:
            runs.append(("livecut analyze --transcribe off", ["--transcribe", "off"]))
        if has_full and os.environ.get("BENCH_FULL") != "0" and (bench_full or minutes <= FULL_UP_TO_MIN):
            runs.append(("livecut analyze --full", ["--full"]))
        if bench_gpu and has_device:
            runs.append(("livecut analyze --device cuda", ["--device", "cuda"]))
        for run_label, extra in runs:
            out = tempfile.mkdtemp(prefix="run-", dir=work)  # fresh: no cached tracks
            args = [BIN, "-q", "analyze", rec, "--out", out, "--comments", comments, "--orders", orders] + extra
            if "--products" in help_text:
                args += ["--products", catalogue]
            log(f"{label}: {run_label}")
            rc, wall, cpu, rss, tail = timed(args)
            row = dict(length=label, run=run_label, wall=wall,
                       cpu=cpu, rss=rss, dur=dur, ff=ff_wall, stages={}, cascade=None, ok=rc == 0)
            if rc != 0:
                last = tail.splitlines()[-1] if tail else ""
                notes.append(f"{label} {run_label}: exit {rc}: {last}")
                if extra[:2] == ["--device", "cuda"]:
                    notes.append("  GPU analysis needs the cuda build (cargo build --release --features cuda), "
                                 "onnxruntime-gpu (--ort-lib or ORT_DYLIB_PATH) and an NVIDIA GPU")
                else:
                    failed = True
                rows.append(row)
                continue
            sig = read_signals(out)
            tr = read_transcript(out)
            if tr is not None:
                heard = sum(b - a for a, b in tr.get("transcribed", []))
                row["speech"] = dict(heard_s=heard, segments=len(tr.get("segments", [])),
                                     recognize_s=(tr.get("cost_seconds") or {}).get("recognize", 0.0))
            row["stages"] = sig.get("stage_seconds") or {}
            row["cascade"] = sig.get("cascade")
            rows.append(row)
            if not extra:
                for name, s in sorted((sig.get("cost_seconds") or {}).items()):
                    cost_rows.append((label, name, s, s * 1000.0 / (dur / 60.0)))
            if keep:
                notes.append(f"{label} {run_label}: output kept in {out}")
            else:
                shutil.rmtree(out, ignore_errors=True)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)

    # --- the table
    stage_names = [s for s in STAGES if any(s in r["stages"] for r in rows)]
    stage_names += sorted({s for r in rows for s in r["stages"]} - set(STAGES))
    if not any(r["stages"] for r in rows):
        stage_names = list(STAGES)  # keep the columns: "–" says the binary does not report them
    cols = ([("length", 6, "<"), ("run", 40, "<")] + [(s, max(6, len(s)), ">") for s in stage_names]
            + [("other", 6, ">"), ("total s", 8, ">"), ("CPU s", 8, ">"), ("x real time", 11, ">"), ("vs ffmpeg", 9, ">"),
               ("peak RSS MiB", 12, ">"), ("windows", 7, ">"), ("coverage", 8, ">")])

    def line(cells):
        return "| " + " | ".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(cells, cols)) + " |"

    print()
    for f in facts:
        print(f)
    print(f"recordings: 1080p30 H.264 6 Mbit/s + AAC 48 kHz (2-min testsrc2 segment stream-copied), "
          f"every livecut run with its comment + order exports (CSV); cache {CACHE}")
    print("stage columns: seconds per stage (signals.json stage_seconds; decode = the one pass when the whole recording "
          "is analysed in full); other = total - stages (start-up, model loading, what no stage reports);")
    print("total = wall time; CPU = user + sys; windows, coverage = the cascade's detail windows and their share of the "
          "recording (100 % = analysed in full); – = not reported by this binary")
    print()
    print(line([c[0] for c in cols]))
    print("|" + "|".join(("-" * (w + 1) + ":") if a == ">" else ("-" * (w + 2)) for _, w, a in cols) + "|")
    for r in rows:
        stages = [fmt_s(r["stages"].get(s)) if r["stages"] else DASH for s in stage_names]
        other = fmt_s(max(0.0, r["wall"] - sum(r["stages"].values()))) if r["stages"] else DASH
        if r["run"].startswith("ffmpeg"):
            stages, other = [DASH] * len(stage_names), DASH
        cas = r["cascade"]
        windows = coverage = DASH
        if cas is None and r["stages"]:
            coverage = "100 %"  # a binary that reports stages leaves `cascade` out when it analysed everything
        if isinstance(cas, dict):
            if isinstance(cas.get("windows"), list):
                windows = str(len(cas["windows"]))
            if isinstance(cas.get("coverage"), (int, float)):
                coverage = f"{100 * cas['coverage']:.1f} %"
            elif cas.get("enabled") is False:
                coverage = "100 %"
        if not r["ok"]:
            print(line([r["length"], r["run"]] + [DASH] * len(stage_names)
                       + [DASH, "failed", DASH, DASH, DASH, DASH, DASH, DASH]))
            continue
        print(line([r["length"], r["run"]] + stages
                   + [other, fmt_s(r["wall"]), fmt_s(r["cpu"]), f"{r['dur'] / r['wall']:.1f}", f"{r['wall'] / r['ff']:.2f}",
                      f"{r['rss']:.0f}", windows, coverage]))

    # --- the targets, on the default runs
    default = [r for r in rows if r["ok"] and r["run"] == "livecut analyze"]
    if default:
        print()
        print(f"targets (4 h 1080p30 with comments and orders): >= {TARGET_RTF:g}x real time, <= {TARGET_VS_FFMPEG:g}x "
              f"FFmpeg's decode, peak RSS <= {TARGET_RSS_MIB:g} MiB and flat in length")
        for r in default:
            rtf, vs = r["dur"] / r["wall"], r["wall"] / r["ff"]
            ok = lambda c: "ok" if c else "MISSED"  # noqa: E731
            print(f"  {r['length']:>7}: {rtf:7.1f}x real time {ok(rtf >= TARGET_RTF):6}  {vs:5.2f}x ffmpeg "
                  f"{ok(vs <= TARGET_VS_FFMPEG):6}  {r['rss']:6.0f} MiB {ok(r['rss'] <= TARGET_RSS_MIB)}")
        print(f"targets at every length: <= {TARGET_SHORT_VS_FFMPEG:g}x FFmpeg's decode up to "
              f"{TARGET_SHORT_MIN:g} min, peak RSS <= {TARGET_RSS_ANY_MIB:g} MiB")
        for r in default:
            vs = r["wall"] / r["ff"]
            ok = lambda c: "ok" if c else "MISSED"  # noqa: E731
            short = (f"{vs:5.2f}x ffmpeg {ok(vs <= TARGET_SHORT_VS_FFMPEG):6}"
                     if r["dur"] <= TARGET_SHORT_MIN * 60 + 1 else " " * 20)
            print(f"  {r['length']:>7}: {short}  {r['rss']:6.0f} MiB {ok(r['rss'] <= TARGET_RSS_ANY_MIB)}")
        for r in default:
            sp = r.get("speech")
            if sp and sp["heard_s"] > 0:
                stage = r["stages"].get("speech", 0.0)
                print(f"  {r['length']:>7}: speech: {sp['heard_s'] / 60:.1f} min of audio listened to "
                      f"({100 * sp['heard_s'] / r['dur']:.1f} % of the recording), {sp['segments']} sentences; "
                      f"speech stage {stage:.1f} s = {60 * stage / sp['heard_s']:.1f} s per minute listened to "
                      f"(recogniser {60 * sp['recognize_s'] / sp['heard_s']:.1f} s/min)")
        for r in default:
            if "products" in r["stages"]:
                share = r["stages"]["products"] / r["wall"]
                print(f"  {r['length']:>7}: product timeline ({len(PRODUCT_NAMES)} products, --products): "
                      f"{r['stages']['products']:.2f} s = {100 * share:.2f} % of the analysis "
                      f"(target <= {100 * TARGET_PRODUCTS_SHARE:g} %) {'ok' if share <= TARGET_PRODUCTS_SHARE else 'MISSED'}")
        if len(default) > 1:
            lo, hi = min(r["rss"] for r in default), max(r["rss"] for r in default)
            print(f"  peak RSS over lengths: {lo:.0f}-{hi:.0f} MiB (max/min {hi / lo:.2f})")
    for n in notes:
        print(f"note: {n}")

    if cost_rows:
        print()
        print("cost per track/model, default run (CPU, 1 thread per model session; time inside each model incl. "
              "pre/post-processing; decode_wait = the analysis thread waiting for the decoder thread)")
        head = f"| {'length':<7} | {'track/model':<12} | {'seconds':>8} | {'ms per minute of video':>22} |"
        print(head)
        print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
        for length, name, s, per_min in cost_rows:
            print(f"| {length:<7} | {name:<12} | {s:>8.1f} | {per_min:>22.0f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
