#!/usr/bin/env bash
# Evaluation: livecut vs a plain baseline on labelled synthetic sessions
# (fixtures/make_session.py), on development, held-out and long held-out seeds.
#
#   scripts/eval.sh [--dev-only|--held-out-only|--long-only|--all|--sets LIST] [livecut eval flags]
#
#   (default)        dev + held-out
#   --dev-only       development seeds 1-9: what fusion, selection and the types were tuned on
#   --held-out-only  held-out seeds 101-112: not looked at while tuning; report these
#                    Both sets: classic sessions (300 s; 1-5 and 101-108, as always), two of
#                    the widened style (other comment vocabularies and timing, the host moving
#                    during lotteries and laughs, orders trickling in during them), one calm
#                    session (no true moment) and one dense one (15 min, 8 true moments);
#                    a seed is written SEED[:STYLE[:SECONDS]] (make_session.py --style)
#   --long-only      long held-out seeds 201-203 (40 min each, 6 true moments and 4 decoys
#                    spread over the whole length; K = 6): long enough for the analysis
#                    cascade to run (with K = 6 its 14 candidate windows of 80 s cover at most
#                    47 %; at 20 min they would exceed its 60 % limit and everything would be
#                    analysed in full)
#   --all            dev + held-out + long
#   --sets LIST      any of dev,held-out,long (comma-separated)
#   Other flags go to `livecut eval` (e.g. --no-models, --full). Environment:
#   LIVECUT_EVAL_CACHE  where sessions are cached (default ~/.cache/livecut-eval; generated
#                       once per version of the generator, and for the long set once per
#                       event layout)
#   LIVECUT_EVAL_OUT    where analyses and eval.json go (default target/eval/<set>)
#   LIVECUT_EVAL_LONG_S length of the long sessions, seconds (default 2400)
#   LIVECUT_SKIP_BUILD=1  use target/release/livecut as it is (no deps, models or build step)
set -euo pipefail
cd "$(dirname "$0")/.."
DEV_SEEDS="1 2 3 4 5 6:varied 7:varied 8:calm 9:dense:900"
HELD_OUT_SEEDS="101 102 103 104 105 106 107 108 109:varied 110:varied 111:calm 112:dense:900"
LONG_SEEDS="201 202 203"
LONG_S=${LIVECUT_EVAL_LONG_S:-2400}
LONG_MOMENTS=6 # per long session, and so K for the long set
sets="dev held-out"
case "${1:-}" in
  --dev-only) sets="dev"; shift ;;
  --held-out-only) sets="held-out"; shift ;;
  --long-only) sets="long"; shift ;;
  --all) sets="dev held-out long"; shift ;;
  --sets) sets=$(echo "${2:?--sets needs a list, e.g. held-out,long}" | tr , ' '); shift 2 ;;
esac
for set in $sets; do
  case "$set" in dev|held-out|long) ;; *) echo "eval.sh: unknown set '$set' (dev, held-out, long)" >&2; exit 2 ;; esac
done
if [ "${LIVECUT_SKIP_BUILD:-}" != 1 ]; then
  scripts/install-deps.sh >/dev/null
  python3 scripts/fetch_models.py --quiet
  cargo build --release --locked --quiet
fi
gen_hash=$(cat fixtures/make_session.py fixtures/make_demo.py | sha256sum | cut -c1-12)
cache="${LIVECUT_EVAL_CACHE:-$HOME/.cache/livecut-eval}/$gen_hash"

# The long sessions' events ("KIND@START,..."), chosen from the seed: one of each moment
# kind plus one more, and each decoy kind plus one more, in a shuffled order, >= 90 s of
# calm between the end of one (at its longest) and the start of the next, the rest of the
# length spread at random over the gaps; none in the first or last 30 s.
long_events() {
  python3 - "$1" "$2" "$LONG_MOMENTS" <<'EOF'
import random, sys
sys.path.insert(0, "fixtures")
from make_session import KINDS, MOMENT_KINDS, DECOY_KINDS
seed, D, n_moments = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(f"long-layout:{seed}")
moments = MOMENT_KINDS + [rng.choice(MOMENT_KINDS) for _ in range(n_moments - len(MOMENT_KINDS))]
decoys = DECOY_KINDS + [rng.choice(DECOY_KINDS)]
items = moments + decoys
rng.shuffle(items)
GAP, EDGE = 90.0, 30.0
longest = [KINDS[k][2] for k in items]
slack = D - 2 * EDGE - sum(longest) - GAP * (len(items) - 1)
if slack < 0:
    sys.exit(f"eval.sh: {len(items)} events need {D - slack:g} s, the long sessions are {D:g} s")
w = [rng.random() + 0.1 for _ in range(len(items) + 1)]
extra = [int(slack * x / sum(w)) for x in w]
t, out = EDGE + extra[0], []
for kind, L, e in zip(items, longest, extra[1:]):
    out.append(f"{kind}@{t:g}")
    t += L + GAP + e
print(",".join(out))
EOF
}

for set in $sets; do
  flags=()
  case "$set" in
    dev) seeds=$DEV_SEEDS; dir="$cache/dev"; label="dev seeds: $seeds" ;;
    held-out) seeds=$HELD_OUT_SEEDS; dir="$cache/held-out"; label="held-out seeds: $seeds" ;;
    long)
      seeds=$LONG_SEEDS; dir="$cache/long-${LONG_S}s"
      label="long held-out seeds: $seeds ($((LONG_S / 60)) min each, $LONG_MOMENTS moments each)"
      # K = the number of true moments, unless the caller chose one
      case " $* " in *" --highlights"*) ;; *) flags=(--highlights "$LONG_MOMENTS") ;; esac ;;
  esac
  mkdir -p "$dir"
  for spec in $seeds; do
    IFS=: read -r seed style secs <<<"$spec"
    gen=(--out "$dir" --seed "$seed")
    if [ -n "$style" ]; then gen+=(--style "$style"); fi
    if [ -n "$secs" ]; then gen+=(--duration "$secs"); fi
    if [ "$set" = long ]; then
      events=$(long_events "$seed" "$LONG_S")
      gen+=(--duration "$LONG_S" --events "$events")
      # regenerate when the layout changed (the layout lives in this script)
      if [ "$(cat "$dir/session_$seed.events" 2>/dev/null)" != "$events" ]; then
        rm -f "$dir/session_$seed.truth.json"
      fi
    fi
    if [ ! -f "$dir/session_$seed.truth.json" ]; then
      t0=$(date +%s)
      python3 fixtures/make_session.py "${gen[@]}" >/dev/null
      if [ "$set" = long ]; then echo "$events" >"$dir/session_$seed.events"; fi
      echo "eval.sh: generated $set session_$seed in $(($(date +%s) - t0)) s" >&2
    fi
  done
  out="${LIVECUT_EVAL_OUT:-target/eval}/$set"
  rm -rf "$out"
  ./target/release/livecut eval "$dir" --out "$out" --label "$label" "${flags[@]}" "$@"
  echo
done
