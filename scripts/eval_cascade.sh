#!/usr/bin/env bash
# Evaluation with and without the analysis cascade: the held-out and the long held-out
# sets (scripts/eval.sh), once as livecut runs by default (cascade: a cheap survey of the
# whole recording, the expensive models only in candidate windows) and once with --full
# (every frame at the analysis rate, every model, over the whole recording). Prints, per
# set, both summary tables one after the other, then one comparison table (livecut's
# scores and the share of the recordings analysed in detail) and the wall time of each mode.
#
#   scripts/eval_cascade.sh [--sets LIST] [livecut eval flags, e.g. --no-models]
#
# LIST defaults to held-out,long. Outputs: target/eval-cascade/{cascade,full}/<set>/.
# Without --full in `livecut eval --help` only the default run is made (and said so).
# LIVECUT_SKIP_BUILD=1 uses target/release/livecut as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
sets="held-out,long"
if [ "${1:-}" = --sets ]; then sets=${2:?--sets needs a list}; shift 2; fi
if [ "${LIVECUT_SKIP_BUILD:-}" != 1 ]; then
  scripts/install-deps.sh >/dev/null
  python3 scripts/fetch_models.py --quiet
  cargo build --release --locked --quiet
fi
root=target/eval-cascade
modes="cascade"
if ./target/release/livecut eval --help | grep -Eq '^ +--full\b'; then
  modes="cascade full"
else
  echo "eval_cascade.sh: this livecut has no --full (livecut eval --help): only the default run is made" >&2
fi
rm -rf "$root"
for mode in $modes; do
  extra=()
  if [ "$mode" = full ]; then extra=(--full); fi
  mkdir -p "$root/$mode"
  t0=$(date +%s)
  for set in ${sets//,/ }; do
    echo "eval_cascade.sh: $set, $mode" >&2
    LIVECUT_SKIP_BUILD=1 LIVECUT_EVAL_OUT="$root/$mode" scripts/eval.sh --sets "$set" "${extra[@]}" "$@" \
      >"$root/$mode/$set.txt"
  done
  echo $(($(date +%s) - t0)) >"$root/$mode/wall_s"
done

for set in ${sets//,/ }; do
  for mode in $modes; do
    if [ "$mode" = cascade ]; then
      title="$set: default (cascade: survey the whole recording, models only in candidate windows)"
    else
      title="$set: --full (no cascade: every frame at 2 fps, every model, the whole recording)"
    fi
    echo
    echo "=== $title ==="
    cat "$root/$mode/$set.txt"
  done
done
if [ "$modes" = cascade ]; then
  echo "=== no --full runs: this livecut has no --full (livecut eval --help) ==="
fi

echo
echo "=== livecut, default vs --full ==="
python3 - "$root" "$sets" $modes <<'PY'
import glob, json, os, sys
root, sets, modes = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
print("| set | mode | K | recall@K | precision@K | decoy hits | mean IoU | type accuracy | analysed in detail |")
print("|---|---|---|---|---|---|---|---|---|")
for s in sets:
    for m in modes:
        p = os.path.join(root, m, s, "eval.json")
        if not os.path.exists(p):
            print(f"| {s} | {m} | – | (no eval.json) | | | | | |")
            continue
        d = json.load(open(p))
        lc = d["livecut"]
        rec = lc["matched"] / lc["moments"] if lc["moments"] else 0.0
        prec = lc["matched"] / lc["picks"] if lc["picks"] else 0.0
        iou = lc["iou_sum"] / lc["matched"] if lc["matched"] else 0.0
        typ = lc["type_correct"] / lc["typed"] if lc["typed"] else 0.0
        covs = []
        for sig in glob.glob(os.path.join(root, m, s, "*", "signals.json")):
            doc = json.load(open(sig))
            c = doc.get("cascade")
            if isinstance(c, dict):
                covs.append(c.get("coverage", 1.0) if c.get("enabled", True) else 1.0)
            elif "stage_seconds" in doc:  # a cascade-aware livecut leaves it out when it analysed everything
                covs.append(1.0)
        cov = f"{100 * sum(covs) / len(covs):.0f} % (mean of {len(covs)})" if covs else "– (not reported)"
        print(f"| {s} | {m} | {d['k']} | {rec:.2f} ({lc['matched']}/{lc['moments']}) "
              f"| {prec:.2f} ({lc['matched']}/{lc['picks']}) | {lc['decoy_hits']} | {iou:.2f} | {typ:.2f} | {cov} |")
print()
for m in modes:
    w = os.path.join(root, m, "wall_s")
    if os.path.exists(w):
        print(f"{m}: {open(w).read().strip()} s for {', '.join(sets)} (session generation included when not cached)")
PY
