#!/usr/bin/env python3
"""Timeline parser benchmark: comments/s and peak RSS of `livecut timelines` on generated
2-million-row exports, one per format (danmaku XML, JSON Lines, comments CSV, orders CSV).

Usage: scripts/bench_timelines.py [ROWS]   (default 2000000; files cached in
${LIVECUT_BENCH_CACHE:-~/.cache/livecut-bench}). Build first: cargo build --release.
"""
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "livecut")
CACHE = os.environ.get("LIVECUT_BENCH_CACHE", os.path.expanduser("~/.cache/livecut-bench"))
DURATION = 8 * 3600
START_EPOCH = 1725361970  # 2024-09-03T11:12:50Z
TEXTS = ["上链接", "多少钱", "哈哈哈哈", "买了买了", "扣1", "主播好美", "有没有大码", "太贵了吧",
         "已拍", "冲冲冲", "这个颜色绝了 & <真的>", "关注了", "什么时候发货？", "233333"]


def rows(n):
    rng = random.Random(42)
    for k in range(n):
        # Roughly time-ordered, as exports are: evenly spread, jittered by up to 2 s.
        t = min(DURATION - 0.001, k * DURATION / n + rng.random() * 2.0)
        yield k, t, f"u{rng.randrange(200_000):06x}", f"{rng.choice(TEXTS)} {k % 97}"


def write(path, header, line, footer, n):
    if os.path.exists(path):
        return
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(header)
        for r in rows(n):
            f.write(line(*r))
        f.write(footer)
    os.replace(tmp, path)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make(n):
    os.makedirs(CACHE, exist_ok=True)
    files = {
        "danmaku XML": (os.path.join(CACHE, f"comments-v2-{n}.xml"), "comments"),
        "JSON Lines": (os.path.join(CACHE, f"comments-v2-{n}.jsonl"), "comments"),
        "comments CSV": (os.path.join(CACHE, f"comments-v2-{n}.csv"), "comments"),
        "orders CSV": (os.path.join(CACHE, f"orders-v2-{n}.csv"), "orders"),
    }
    write(files["danmaku XML"][0],
          '<?xml version="1.0" encoding="UTF-8"?>\n<i><chatserver>chat.bilibili.com</chatserver><chatid>1</chatid>\n',
          lambda k, t, u, x: f'<d p="{t:.3f},1,25,16777215,{START_EPOCH + int(t)},0,{u},{k}">{esc(x)}</d>\n',
          "</i>\n", n)
    write(files["JSON Lines"][0], "",
          lambda k, t, u, x: f'{{"t": {t:.3f}, "user": "{u}", "text": "{x}", "kind": "comment"}}\n', "", n)
    write(files["comments CSV"][0], "t,user,text\n",
          lambda k, t, u, x: f'{t:.3f},{u},"{x}"\n', "", n)
    write(files["orders CSV"][0], "order_id,paid_at,sku,quantity,amount_cny,buyer_id\n",
          lambda k, t, u, x: f"{k},{START_EPOCH + t:.3f},SKU-{k % 40},1,{(k % 50) + 9.9:.2f},{u}\n", "", n)
    return files


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    files = make(n)
    out = []
    for label, (path, kind) in files.items():
        args = [BIN, "-q", "timelines", f"--{kind}", path, "--duration", str(DURATION),
                "--start", "2024-09-03T11:12:50Z"]
        t0 = time.monotonic()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"failed: {' '.join(args)}\n{proc.stderr.read().decode()}")
        size = os.path.getsize(path) / 2**20
        out.append((label, size, wall, n / wall, usage.ru_maxrss / 1024))
    print(f"\n{n} rows per file, 8-hour recording, {os.cpu_count()} cores")
    head = f"| {'format':<13} | {'file MiB':>8} | {'wall s':>7} | {'rows/s':>10} | {'peak RSS MiB':>12} |"
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for label, size, wall, rate, rss in out:
        print(f"| {label:<13} | {size:>8.0f} | {wall:>7.2f} | {rate:>10.0f} | {rss:>12.0f} |")


if __name__ == "__main__":
    main()
