#!/usr/bin/env python3
"""Comment and order exports for the benchmark recordings (used by scripts/bench.py).

Deterministic (seeded), pure Python, a few seconds for 4 hours. Both files are CSV with a
header and absolute Beijing times (+08:00), aligned through the recording's creation_time
(default 2024-09-03T11:12:50Z = 19:12:50+08:00); every row falls inside the recording.

Comments (`time,user,text,kind,value`): about 2-4 per second (the audience grows over the
session and swells and ebbs on a 30-minute cycle) from a pool of regulars, ~3 % likes and
~1 % gifts. Every ~10 minutes (jittered by up to 2 minutes, the first ~5 minutes in) a 30 s
burst at 5-10x the rate: a flash sale (抢/买了/链接, many users), a lottery (扣1/1111, mostly
first-time accounts), laughter (哈哈哈, many users) or a bot flood (one or two accounts
posting the same text 5-10 times a second).

Orders (`order_id,paid_at,sku,quantity,amount_cny,buyer_id`): 0.1-0.3 per second (a slow
cycle), 12 SKUs with a skewed popularity; after each flash sale a front-loaded rise
(~1/s of the featured SKU for about 40 s, starting 4-8 s after the burst), after some
lotteries a smaller one.

Usage: scripts/bench_timelines_gen.py DURATION_S COMMENTS.csv ORDERS.csv [--seed N]
"""
import argparse
import csv
import datetime as dt
import math
import os
import random

BJ = dt.timezone(dt.timedelta(hours=8))
CREATION = dt.datetime(2024, 9, 3, 11, 12, 50, tzinfo=dt.timezone.utc)

CHATTER = ["主播好", "来了来了", "晚上好", "今天播到几点", "刚下班", "第一次来", "已关注", "路过看看",
           "支持一下", "声音有点小", "主播辛苦了", "这个质量怎么样", "有优惠券吗", "发货快吗",
           "上次买的很好用", "多少钱", "怎么买", "有什么颜色", "尺寸多大", "能再看看细节吗",
           "价格 < 100 吗？", "买一送一, 包邮？", "\"正品\"吗？", "好看😍", "主播加油 💪"]
BURST_TEXTS = {
    "flash_sale": ["抢", "买了", "链接", "冲", "抢抢抢", "冲冲冲", "买了买了", "链接呢", "已拍", "抢到了", "没抢到", "上链接"],
    "lottery": ["1", "1111", "扣1", "111", "11111", "扣1扣1", "抽我抽我", "1"],
    "laughter": ["哈哈哈", "哈哈哈哈哈", "笑死", "笑死我了", "hhh", "233333", "太好笑了", "绷不住了"],
}
BOT_TEXT = "关注主播领红包"
GIFTS = [("小心心", 1.0), ("棒棒糖", 10.0), ("玫瑰", 1.0), ("墨镜", 99.0)]
SKUS = [("SKU-A100", 129.00), ("SKU-B200", 99.00), ("SKU-C300", 59.90), ("SKU-D400", 39.90),
        ("SKU-E500", 199.00), ("SKU-F600", 19.90), ("SKU-G700", 299.00), ("SKU-H800", 9.90),
        ("SKU-J900", 69.00), ("SKU-K010", 149.00), ("SKU-L020", 29.90), ("SKU-M030", 89.00)]
SKU_WEIGHTS = [1.0 / (i + 1) ** 0.8 for i in range(len(SKUS))]
BURST_LEN_S = 30.0


def bursts(D, rng):
    """[(start, kind, multiplier)] every ~10 minutes."""
    out, t = [], 300.0 + rng.uniform(-60, 60)
    while t + BURST_LEN_S + 10 < D:
        kind = rng.choices(["flash_sale", "lottery", "laughter", "bot_flood"], [0.35, 0.25, 0.2, 0.2])[0]
        out.append((t, kind, rng.uniform(5.0, 10.0)))
        t += 600.0 + rng.uniform(-120, 120)
    return out


def comment_rate(t, D):
    return 2.0 + 1.2 * t / D + 0.6 * math.sin(2 * math.pi * t / 1800.0)  # ~1.4 .. 3.8 per s


def order_rate(t):
    return 0.2 + 0.1 * math.sin(2 * math.pi * t / 2700.0 + 1.0)  # 0.1 .. 0.3 per s


def poisson_times(rate, rmax, t0, t1, rng):
    """Event times of a Poisson process with rate(t) <= rmax on [t0, t1) (thinning)."""
    out, t = [], t0 + rng.expovariate(rmax)
    while t < t1:
        if rng.random() * rmax < rate(t):
            out.append(t)
        t += rng.expovariate(rmax)
    return out


def iso(t, base):
    return (base + dt.timedelta(seconds=t)).isoformat(timespec="milliseconds")


def generate(duration_s, comments_path, orders_path, seed=20240903, creation=CREATION):
    D = float(duration_s)
    rng = random.Random(seed)
    base = creation.astimezone(BJ)
    counter = [0]

    def new_user():
        counter[0] += 1
        return f"u{rng.getrandbits(40):010x}{counter[0]}"

    regulars = [new_user() for _ in range(3000)]
    plan = bursts(D, rng)

    # comments: (t, user, text, kind, value)
    rows = []
    for t in poisson_times(lambda x: comment_rate(x, D), 4.0, 0.0, D, rng):
        x = rng.random()
        user = rng.choice(regulars) if rng.random() < 0.93 else new_user()
        if x < 0.03:
            rows.append((t, user, "", "like", str(rng.randint(1, 30))))
        elif x < 0.04:
            name, price = rng.choice(GIFTS)
            n = rng.choice([1, 1, 1, 5, 10])
            rows.append((t, user, name, "gift", f"{price * n:.2f}"))
        else:
            rows.append((t, user, rng.choice(CHATTER), "comment", ""))
    for start, kind, mult in plan:
        end = min(D, start + BURST_LEN_S)
        if kind == "bot_flood":  # one or two accounts, `mult` posts per second, one text
            bots = [new_user() for _ in range(rng.choice((1, 2)))]
            times = poisson_times(lambda x, m=mult: m, mult, start, end, rng)
            rows += [(t, bots[i % len(bots)], BOT_TEXT, "comment", "") for i, t in enumerate(times)]
            continue
        rate = lambda x, m=mult: (m - 1.0) * comment_rate(x, D)  # on top of the chatter
        times = poisson_times(rate, (mult - 1.0) * 4.0, start, end, rng)
        p_new = {"flash_sale": 0.5, "lottery": 0.85, "laughter": 0.4}[kind]
        for t in times:
            user = new_user() if rng.random() < p_new else rng.choice(regulars)
            rows.append((t, user, rng.choice(BURST_TEXTS[kind]), "comment", ""))
    rows = [r for r in rows if 0.0 < r[0] < D - 0.01]
    rows.sort(key=lambda r: r[0])

    # orders: (t, sku, price, quantity)
    orders = []
    for t in poisson_times(order_rate, 0.3, 0.0, D, rng):
        sku, price = rng.choices(SKUS, SKU_WEIGHTS)[0]
        orders.append((t, sku, price, rng.choice([1, 1, 1, 1, 2, 2, 3])))
    for start, kind, _ in plan:
        if kind == "flash_sale" or (kind == "lottery" and rng.random() < 0.5):
            sku, price = rng.choice(SKUS)
            peak = rng.uniform(0.8, 1.5) if kind == "flash_sale" else rng.uniform(0.2, 0.4)
            t0 = start + rng.uniform(4.0, 8.0)
            rise = lambda x, a=t0, p=peak: p * math.exp(-(x - a) / 15.0)  # front loaded
            for t in poisson_times(rise, peak, t0, min(D, t0 + 45.0), rng):
                orders.append((t, sku, price if kind == "lottery" else round(price * 0.7, 2), rng.choice([1, 1, 2])))
    orders = [o for o in orders if 0.0 < o[0] < D - 1.0]
    orders.sort(key=lambda o: o[0])
    buyers = [f"b-{rng.getrandbits(32):08x}" for _ in range(20000)]

    for path in (comments_path, orders_path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = comments_path + ".part"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["time", "user", "text", "kind", "value"])
        for t, user, text, kind, value in rows:
            w.writerow([iso(t, base), user, text, kind, value])
    os.replace(tmp, comments_path)
    tmp = orders_path + ".part"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["order_id", "paid_at", "sku", "quantity", "amount_cny", "buyer_id"])
        for i, (t, sku, price, qty) in enumerate(orders, 1):
            paid = (base + dt.timedelta(seconds=math.floor(t))).isoformat()
            w.writerow([f"LC{base:%Y%m%d}{i:07d}", paid, sku, qty, f"{qty * price:.2f}", rng.choice(buyers)])
    os.replace(tmp, orders_path)
    return {"comments": len(rows), "orders": len(orders),
            "bursts": [(round(s, 1), k) for s, k, _ in plan]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("duration_s", type=float)
    ap.add_argument("comments")
    ap.add_argument("orders")
    ap.add_argument("--seed", type=int, default=20240903)
    args = ap.parse_args()
    info = generate(args.duration_s, args.comments, args.orders, args.seed)
    print(f"{info['comments']} comment rows, {info['orders']} orders, {len(info['bursts'])} bursts: "
          + ", ".join(f"{k}@{s:g}" for s, k in info["bursts"]))


if __name__ == "__main__":
    main()
